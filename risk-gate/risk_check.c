/*  risk_check - the rule table (docs/risk-gate.md "The rules"): check(view, limits, intent, market)
 *  -> verdict with reasons. Pure: no I/O, no globals, no allocation.
 *
 *  Every row is one check with its reason code, its config keys and its outcome. Rules
 *  run in table order and every failing rule adds a reason; the verdict is the worst
 *  outcome (APPROVE < REDUCE < BLOCK < HALT). A REDUCE lowers the quantity the later
 *  rules see. Local rules read only the intent, the instrument, the last price and the
 *  clock; account rules read the account (the view), and a decision is committed only
 *  on the account version they read (risk_capital_decide, risk_tx). Risk-reducing orders (EXIT,
 * STOP, CANCEL, FLATTEN and a MODIFY of anything but an open entry) get only the sanity rules
 * (BAD_INTENT, INSTRUMENT, LOT, TICK) and the exit cap: they are never blocked for exposure, loss,
 *  rate or state. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "risk.h"

#define E RISK_APPLIES_ENTRY
#define R RISK_APPLIES_REDUCE

const struct risk_rule risk_check_rules[] = {
    {KT_R_BAD_INTENT, "-", KT_VERDICT_BLOCK, E | R, false,
     "required fields present and consistent (id <= 20 chars, side, qty, type, price, ref)"},
    {KT_R_INSTRUMENT, "risk.exchange risk.segments", KT_VERDICT_BLOCK, E | R, false,
     "known instrument; entries: tradable on the configured exchange/segment, not expired"},
    {KT_R_LOT, "-", KT_VERDICT_BLOCK, E | R, false, "quantity a positive multiple of lot size"},
    {KT_R_TICK, "-", KT_VERDICT_BLOCK, E | R, false,
     "price, trigger and attached stop on the instrument's tick size"},
    {KT_R_HOURS, "risk.market_open risk.market_close risk.entry_cutoff", KT_VERDICT_BLOCK, E, false,
     "inside market hours on a weekday, and before the entry cut-off"},
    {KT_R_STALE_MD, "risk.stale_md_s", KT_VERDICT_BLOCK, E, false,
     "last tick of the instrument not older than N s (in market hours)"},
    {KT_R_PRICE_BAND, "risk.price_band_pct", KT_VERDICT_BLOCK, E, false,
     "limit price and trigger within X% of the last price (fat-finger guard); attached stop "
     "within X% of the entry price, beyond the entry's trigger (SL, SL-M) or the last price"},
    {KT_R_MAX_LOTS, "risk.max_lots", KT_VERDICT_REDUCE, E, false,
     "lots per order <= max; above -> REDUCE to max"},
    {KT_R_FREEZE, "risk.freeze_qty.* risk.freeze_slice risk.max_slices", KT_VERDICT_REDUCE, E,
     false, "quantity <= freeze qty (sliced by exec-gateway up to max_slices) else REDUCE"},
    {KT_R_NOTIONAL_ORDER, "risk.max_order_notional risk.max_order_margin", KT_VERDICT_REDUCE, E,
     false,
     "buy: premium x qty <= max; sell: margin estimate <= max; above -> REDUCE to the whole "
     "lots that fit, BLOCK when not one does"},
    {KT_R_RISK_PER_TRADE, "risk.max_risk_per_trade risk.max_risk_per_trade_pct risk.require_stop",
     KT_VERDICT_BLOCK, E, false, "R from the attached stop <= min (Rs max, pct of equity)"},
    {KT_R_KILL, "risk:kill (Redis)", KT_VERDICT_HALT, E, true, "operator kill switch -> HALT"},
    {KT_R_STATE, "risk:state (Redis)", KT_VERDICT_BLOCK, E, true, "entries only when ACTIVE"},
    {KT_R_SESSION, "risk:state session_ok", KT_VERDICT_BLOCK, E, true,
     "broker session valid (a TokenException halted trading)"},
    {KT_R_DAILY_LOSS, "risk.max_daily_loss_pct", KT_VERDICT_HALT, E, true,
     "day P&L > -max of day-start equity"},
    {KT_R_WEEKLY_LOSS, "risk.max_weekly_loss_pct", KT_VERDICT_HALT, E, true,
     "week P&L > -max of week-start equity"},
    {KT_R_HOURLY_LOSS, "risk.max_hourly_loss_pct", KT_VERDICT_HALT, E, true,
     "P&L of the last 60 min > -max of day-start equity"},
    {KT_R_DRAWDOWN, "risk.max_drawdown_pct", KT_VERDICT_HALT, E, true,
     "equity >= peak x (1 - max drawdown)"},
    {KT_R_CONSEC_LOSS, "risk.max_consec_losses", KT_VERDICT_HALT, E, true,
     "losing trades in a row < N"},
    {KT_R_REJECTS, "risk.max_rejects risk.reject_window_s", KT_VERDICT_HALT, E, true,
     "broker rejections in the window < N"},
    {KT_R_TRADES_DAY, "risk.max_trades_day", KT_VERDICT_BLOCK, E, true,
     "entries filled today + pending entries + this one <= max"},
    {KT_R_TRADES_HOUR, "risk.max_trades_hour", KT_VERDICT_BLOCK, E, true,
     "entries filled in the last 60 min + pending entries + this one <= max"},
    {KT_R_SPACING, "risk.min_spacing_s", KT_VERDICT_BLOCK, E, true,
     "seconds since the last entry >= min spacing"},
    {KT_R_ORDER_RATE, "risk.max_orders_per_s risk.max_modifies_per_s", KT_VERDICT_BLOCK, E, true,
     "orders (all kinds) in the last second <= max; entry modifications separately"},
    {KT_R_MAX_POS,
     "risk.max_positions risk.max_per_type risk.max_pending_per_type risk.max_per_symbol",
     KT_VERDICT_BLOCK, E, true,
     "open positions + this entry <= max, and per option type; pending entries per option type "
     "and per symbol <= max; an entry replacing a pending one (ref) is judged with its slot "
     "freed"},
    {KT_R_DEPLOY, "risk.max_deploy_pct", KT_VERDICT_BLOCK, E, true,
     "reserved + deployed + this order <= pct of equity"},
    {KT_R_MARGIN_BUFFER, "risk.margin_buffer", KT_VERDICT_BLOCK, E, true,
     "capital left free after the order >= buffer"},
    {KT_R_BAD_INTENT, "-", KT_VERDICT_REDUCE, R, true,
     "exit cap: EXIT/STOP opposite an open position, at most what open exits leave uncovered;"
     " a MODIFY grows an exit at most to that"},
    {KT_OK, NULL, KT_VERDICT_NONE, 0, false, NULL}};

#undef E
#undef R

//  Everything a rule reads, and the result it updates.
struct s_eval {
    const struct risk_view *view; //  NULL for the local rules
    const struct risk_cfg *cfg;
    const struct kt_intent *in;
    const struct risk_market *mkt;
    int64_t now_ns;
    int64_t equity;
    int64_t unrealised;
    struct risk_result *res;
    bool stop; //  a fatal rule failed: later local rules cannot run
};

typedef kt_verdict_t (s_rule_fn) (struct s_eval *e, char *text, size_t len);

void
risk_check_add (struct risk_result *res, kt_reason_t code, kt_verdict_t outcome, const char *fmt,
                ...)
{
    if (outcome > res->verdict)
        res->verdict = outcome;
    if (outcome == KT_VERDICT_HALT && res->halt_code == KT_OK)
        res->halt_code = code;
    if (res->nreasons == KT_REASONS_MAX)
        return;
    struct risk_reason *r = &res->reasons[res->nreasons++];
    r->code = code;
    r->outcome = outcome;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (r->text, sizeof r->text, fmt, ap);
    va_end (ap);
}

bool
risk_check_state_allows_entry (kt_trading_state_t state)
{
    return state == KT_STATE_ACTIVE;
}

static bool
s_is_entry (risk_kind_t k)
{
    return k == RISK_KIND_ENTRY || k == RISK_KIND_MODIFY_ENTRY;
}

static bool
s_uses_price (kt_order_type_t t)
{
    return t == KT_OT_LIMIT || t == KT_OT_SL;
}

static bool
s_uses_trigger (kt_order_type_t t)
{
    return t == KT_OT_SL || t == KT_OT_SLM;
}

static kt_side_t
s_opposite (kt_side_t side)
{
    return side == KT_SIDE_BUY ? KT_SIDE_SELL : side == KT_SIDE_SELL ? KT_SIDE_BUY : KT_SIDE_NONE;
}

//  A stop-limit the exchange accepts: a BUY's limit at or above its trigger, a SELL's at
//  or below (the limit is the worst price the stop may then trade at).
static bool
s_sl_ordered (kt_side_t side, int64_t limit, int64_t trigger)
{
    return side == KT_SIDE_BUY ? limit >= trigger : limit <= trigger;
}

//  Price the order is expected to trade at (for notional, R and reservation).
static int64_t
s_entry_px (const struct kt_intent *in, const struct risk_market *mkt)
{
    if (s_uses_price (in->order_type))
        return in->price;
    if (in->order_type == KT_OT_SLM)
        return in->trigger;
    return mkt->ltp;
}

//  Underlying of an instrument: its name, or the letters before the first digit of
//  the tradingsymbol (Kite leaves `name` empty for many derivatives).
static void
s_underlying (const struct kt_instr *ins, char *out, size_t len)
{
    if (ins->name[0]) {
        snprintf (out, len, "%s", ins->name);
        return;
    }
    size_t i = 0;
    while (ins->sym[i] && (ins->sym[i] < '0' || ins->sym[i] > '9') && i + 1 < len) {
        out[i] = ins->sym[i];
        i++;
    }
    out[i] = '\0';
}

// ---- local rules -----------------------------------------------------------------------

static kt_verdict_t
s_bad_intent (struct s_eval *e, char *text, size_t len)
{
    const struct kt_intent *in = e->in;
    risk_kind_t k = e->res->kind;
    const char *why = NULL;
    size_t idlen = strnlen (in->intent_id, sizeof in->intent_id);
    if (idlen == 0 || idlen > KT_ID_WIRE_MAX)
        why = "intent_id empty or longer than 20 chars";
    else if (in->purpose == KT_PURPOSE_NONE || k == RISK_KIND_NONE)
        why = "unknown purpose";
    else if ((k == RISK_KIND_MODIFY || k == RISK_KIND_MODIFY_ENTRY || k == RISK_KIND_CANCEL) &&
             !in->ref[0])
        why = "MODIFY/CANCEL without ref";
    else if (in->reason != KT_EXIT_NONE && in->purpose != KT_PURPOSE_EXIT &&
             in->purpose != KT_PURPOSE_FLATTEN)
        why = "reason on an intent that is not an EXIT or a FLATTEN";
    else if (k == RISK_KIND_ENTRY || k == RISK_KIND_EXIT || k == RISK_KIND_MODIFY ||
             k == RISK_KIND_MODIFY_ENTRY) {
        if (!in->sym[0])
            why = "no sym";
        else if (in->side != KT_SIDE_BUY && in->side != KT_SIDE_SELL)
            why = "no side";
        else if (in->qty <= 0)
            why = "qty must be positive";
        else if (in->order_type == KT_OT_NONE)
            why = "no order_type";
        else if (s_uses_price (in->order_type) && in->price <= 0)
            why = "LIMIT/SL without price";
        else if (s_uses_trigger (in->order_type) && in->trigger <= 0)
            why = "SL/SL-M without trigger";
        else if (in->order_type == KT_OT_SL && !s_sl_ordered (in->side, in->price, in->trigger))
            why = in->side == KT_SIDE_BUY ? "SL BUY with its limit below its trigger"
                                          : "SL SELL with its limit above its trigger";
        else if (s_is_entry (k) && in->has_stop && in->stop_trigger <= 0)
            why = "attached stop without trigger";
        else if (s_is_entry (k) && in->has_stop && in->stop_price > 0 &&
                 !s_sl_ordered (s_opposite (in->side), in->stop_price, in->stop_trigger))
            why = in->side == KT_SIDE_SELL ? "attached stop (SL BUY) with its limit below its "
                                             "trigger"
                                           : "attached stop (SL SELL) with its limit above its "
                                             "trigger";
    }
    if (!why)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "%s", why);
    e->stop = true;
    return KT_VERDICT_BLOCK;
}

static bool
s_segment_ok (const char *list, const char *seg)
{
    size_t n = strlen (seg);
    for (const char *p = list; *p;) {
        const char *c = strchr (p, ',');
        size_t l = c ? (size_t) (c - p) : strlen (p);
        if (l == n && strncmp (p, seg, n) == 0)
            return true;
        p += l + (c ? 1 : 0);
    }
    return false;
}

static kt_verdict_t
s_instrument (struct s_eval *e, char *text, size_t len)
{
    const struct risk_market *m = e->mkt;
    bool entry = s_is_entry (e->res->kind);
    if (!m->instr_table) {
        if (!entry)
            return KT_VERDICT_APPROVE; //  never trap an exit behind a missing table
        snprintf (text, len, "instruments table not loaded");
        e->stop = true;
        return KT_VERDICT_BLOCK;
    }
    const struct kt_instr *ins = m->instr;
    if (!ins) {
        snprintf (text, len, "unknown instrument %s", e->in->sym);
        e->stop = true;
        return KT_VERDICT_BLOCK;
    }
    if (!entry)
        return KT_VERDICT_APPROVE;
    if (strcmp (ins->exchange, e->cfg->exchange) != 0) {
        snprintf (text, len, "%s trades on %s, not %s", ins->sym, ins->exchange, e->cfg->exchange);
        e->stop = true;
        return KT_VERDICT_BLOCK;
    }
    if (!s_segment_ok (e->cfg->segments, ins->segment)) {
        snprintf (text, len, "segment %s not tradable", ins->segment);
        e->stop = true;
        return KT_VERDICT_BLOCK;
    }
    if (ins->expiry > 0 && ins->expiry < kt_ist_yyyymmdd (e->now_ns)) {
        snprintf (text, len, "%s expired on %d", ins->sym, ins->expiry);
        e->stop = true;
        return KT_VERDICT_BLOCK;
    }
    return KT_VERDICT_APPROVE;
}

static kt_verdict_t
s_lot (struct s_eval *e, char *text, size_t len)
{
    const struct kt_instr *ins = e->mkt->instr;
    if (!ins)
        return KT_VERDICT_APPROVE; //  only for exits without a table
    int64_t lot = ins->lot > 0 ? ins->lot : 1;
    if (e->in->qty > 0 && e->in->qty % lot == 0)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "qty %lld is not a multiple of lot %lld", (long long) e->in->qty,
              (long long) lot);
    e->stop = true;
    return KT_VERDICT_BLOCK;
}

static kt_verdict_t
s_tick (struct s_eval *e, char *text, size_t len)
{
    const struct kt_instr *ins = e->mkt->instr;
    const struct kt_intent *in = e->in;
    if (!ins)
        return KT_VERDICT_APPROVE;
    int64_t tick = ins->tick > 0 ? ins->tick : 1;
    const char *what = NULL;
    int64_t px = 0;
    if (s_uses_price (in->order_type) && !kt_money_on_tick (in->price, tick))
        what = "price", px = in->price;
    else if (s_uses_trigger (in->order_type) && !kt_money_on_tick (in->trigger, tick))
        what = "trigger", px = in->trigger;
    else if (s_is_entry (e->res->kind) && in->has_stop &&
             !kt_money_on_tick (in->stop_trigger, tick))
        what = "stop trigger", px = in->stop_trigger;
    else if (s_is_entry (e->res->kind) && in->has_stop && in->stop_price > 0 &&
             !kt_money_on_tick (in->stop_price, tick))
        what = "stop price", px = in->stop_price;
    if (!what)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "%s %lld paise not on tick %lld", what, (long long) px, (long long) tick);
    return KT_VERDICT_BLOCK;
}

//  ns since IST midnight, and whether the day is a weekday.
static int64_t
s_day_ns (int64_t now_ns)
{
    return now_ns - kt_ist_day_start (now_ns);
}

static kt_verdict_t
s_hours (struct s_eval *e, char *text, size_t len)
{
    int64_t t = s_day_ns (e->now_ns);
    int64_t open = (int64_t) risk_cfg_sod (e->cfg->market_open) * KT_NS_PER_SEC;
    int64_t close = (int64_t) risk_cfg_sod (e->cfg->market_close) * KT_NS_PER_SEC;
    int64_t cut = (int64_t) risk_cfg_sod (e->cfg->entry_cutoff) * KT_NS_PER_SEC;
    char when[24];
    if (!kt_ist_is_weekday (e->now_ns) || t < open || t >= close) {
        kt_ist_format (e->now_ns, when, sizeof when);
        snprintf (text, len, "market closed at %s IST (%s-%s)", when, e->cfg->market_open,
                  e->cfg->market_close);
        return KT_VERDICT_BLOCK;
    }
    if (t >= cut) {
        kt_ist_format (e->now_ns, when, sizeof when);
        snprintf (text, len, "entry cut-off %s passed (%s IST)", e->cfg->entry_cutoff, when);
        return KT_VERDICT_BLOCK;
    }
    return KT_VERDICT_APPROVE;
}

static bool
s_in_market_hours (const struct risk_cfg *cfg, int64_t now_ns)
{
    int64_t t = s_day_ns (now_ns);
    return kt_ist_is_weekday (now_ns) &&
           t >= (int64_t) risk_cfg_sod (cfg->market_open) * KT_NS_PER_SEC &&
           t < (int64_t) risk_cfg_sod (cfg->market_close) * KT_NS_PER_SEC;
}

static kt_verdict_t
s_stale_md (struct s_eval *e, char *text, size_t len)
{
    if (!s_in_market_hours (e->cfg, e->now_ns))
        return KT_VERDICT_APPROVE; //  HOURS already refuses
    const struct risk_market *m = e->mkt;
    if (m->ltp <= 0) {
        snprintf (text, len, "no tick seen for %s", e->in->sym);
        return KT_VERDICT_BLOCK;
    }
    if (m->ltp_ns <= 0) {
        snprintf (text, len, "last tick of %s carries no receive or exchange time", e->in->sym);
        return KT_VERDICT_BLOCK;
    }
    int64_t age = e->now_ns - m->ltp_ns;
    if (age > e->cfg->stale_md_s * KT_NS_PER_SEC) {
        snprintf (text, len, "last tick of %s is %lld ms old (max %lld s)", e->in->sym,
                  (long long) (age / 1000000), (long long) e->cfg->stale_md_s);
        return KT_VERDICT_BLOCK;
    }
    return KT_VERDICT_APPROVE;
}

//  True when |px - ltp| <= band x ltp.
static bool
s_in_band (int64_t px, int64_t ltp, int64_t band_bps)
{
    __int128 diff = px > ltp ? (__int128) px - ltp : (__int128) ltp - px;
    return diff * 10000 <= (__int128) ltp * band_bps;
}

//  The price the market is at when an entry's attached stop goes live: the stop is placed
//  once the entry fills, and a stop entry (SL, SL-M) fills only at or through its trigger,
//  so that is where the stop starts to protect; a LIMIT or MARKET entry may fill now.
static int64_t
s_stop_live_px (const struct kt_intent *in, int64_t ltp)
{
    return s_uses_trigger (in->order_type) ? in->trigger : ltp;
}

static kt_verdict_t
s_price_band (struct s_eval *e, char *text, size_t len)
{
    const struct kt_intent *in = e->in;
    int64_t ltp = e->mkt->ltp;
    if (ltp <= 0)
        return KT_VERDICT_APPROVE; //  STALE_MD refuses without a price
    int64_t bps = e->cfg->price_band_bps;
    //  The stop's band is around the entry's own price: a fat finger is a stop far from
    //  where the position opens, wherever the market is while the entry waits.
    int64_t entry = s_entry_px (in, e->mkt);
    const char *what = NULL, *of = "last price";
    int64_t px = 0, ref = ltp;
    if (s_uses_price (in->order_type) && !s_in_band (in->price, ltp, bps))
        what = "price", px = in->price;
    else if (s_uses_trigger (in->order_type) && !s_in_band (in->trigger, ltp, bps))
        what = "trigger", px = in->trigger;
    else if (in->has_stop && !s_in_band (in->stop_trigger, entry, bps))
        what = "stop trigger", px = in->stop_trigger, ref = entry, of = "entry price";
    else if (in->has_stop && in->stop_price > 0 && !s_in_band (in->stop_price, entry, bps))
        what = "stop price", px = in->stop_price, ref = entry, of = "entry price";
    int64_t live = s_stop_live_px (in, ltp);
    if (!what && in->has_stop &&
        (in->side == KT_SIDE_BUY ? in->stop_trigger >= live : in->stop_trigger <= live)) {
        //  A stop on the wrong side of the market triggers at once: the protection the
        //  entry was approved with would not exist.
        snprintf (text, len, "stop trigger %lld on the wrong side of %s %lld",
                  (long long) in->stop_trigger,
                  s_uses_trigger (in->order_type) ? "entry trigger" : "last price",
                  (long long) live);
        return KT_VERDICT_BLOCK;
    }
    if (!what)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "%s %lld outside %lld.%02lld%% of %s %lld", what, (long long) px,
              (long long) (bps / 100), (long long) (bps % 100), of, (long long) ref);
    return KT_VERDICT_BLOCK;
}

static kt_verdict_t
s_max_lots (struct s_eval *e, char *text, size_t len)
{
    const struct kt_instr *ins = e->mkt->instr;
    int64_t lot = ins && ins->lot > 0 ? ins->lot : 1;
    int64_t lots = e->res->qty / lot;
    if (lots <= e->cfg->max_lots)
        return KT_VERDICT_APPROVE;
    e->res->qty = e->cfg->max_lots * lot;
    snprintf (text, len, "%lld lots > max %lld: reduced to %lld", (long long) lots,
              (long long) e->cfg->max_lots, (long long) e->res->qty);
    return KT_VERDICT_REDUCE;
}

static kt_verdict_t
s_freeze (struct s_eval *e, char *text, size_t len)
{
    const struct kt_instr *ins = e->mkt->instr;
    if (!ins)
        return KT_VERDICT_APPROVE;
    char name[32];
    s_underlying (ins, name, sizeof name);
    int64_t freeze = risk_cfg_freeze (e->cfg, name);
    int64_t lot = ins->lot > 0 ? ins->lot : 1;
    int64_t qty = e->res->qty;
    if (freeze <= 0 || qty <= freeze)
        return KT_VERDICT_APPROVE;
    int64_t cap = e->cfg->freeze_slice ? freeze * e->cfg->max_slices : freeze;
    if (qty <= cap)
        return KT_VERDICT_APPROVE; //  exec-gateway slices it
    int64_t to = cap / lot * lot;
    if (to <= 0) {
        snprintf (text, len, "freeze qty %lld of %s is below one lot (%lld)", (long long) freeze,
                  name, (long long) lot);
        return KT_VERDICT_BLOCK;
    }
    e->res->qty = to;
    snprintf (text, len, "qty %lld > %s freeze %lld%s: reduced to %lld", (long long) qty, name,
              (long long) freeze, e->cfg->freeze_slice ? " x max slices" : "", (long long) to);
    return KT_VERDICT_REDUCE;
}

//  Capital one unit of the entry takes: premium (with headroom at market) for a buy,
//  the margin estimate for a sell.
static int64_t
s_unit_cost (const struct s_eval *e)
{
    const struct kt_intent *in = e->in;
    const struct kt_instr *ins = e->mkt->instr;
    int64_t px = s_entry_px (in, e->mkt);
    if (in->side == KT_SIDE_SELL)
        return risk_pnl_short_margin (ins, px > 0 ? px : e->mkt->ltp);
    if (in->order_type == KT_OT_MARKET || in->order_type == KT_OT_SLM) {
        int64_t tick = ins && ins->tick > 0 ? ins->tick : 1;
        int64_t up = -risk_pnl_muldiv (-px, e->cfg->market_reserve_bps, 10000);
        px = kt_money_tick_up (px + up, tick);
    }
    return px;
}

static kt_verdict_t
s_notional (struct s_eval *e, char *text, size_t len)
{
    int64_t unit = s_unit_cost (e);
    e->res->unit_cost = unit;
    __int128 total = (__int128) unit * e->res->qty;
    bool sell = e->in->side == KT_SIDE_SELL;
    int64_t max = sell ? e->cfg->max_order_margin : e->cfg->max_order_notional;
    if (total <= max)
        return KT_VERDICT_APPROVE;
    //  The size is what is too large, not the order: the most whole lots that fit.
    int64_t lot = e->mkt->instr && e->mkt->instr->lot > 0 ? e->mkt->instr->lot : 1;
    int64_t fit = unit > 0 && max > 0 ? max / unit / lot * lot : 0;
    if (fit <= 0) {
        snprintf (text, len, "%s %lld paise > max %lld (one lot does not fit)",
                  sell ? "margin estimate" : "notional", (long long) total, (long long) max);
        return KT_VERDICT_BLOCK;
    }
    snprintf (text, len, "%s %lld paise > max %lld: reduced to %lld",
              sell ? "margin estimate" : "notional", (long long) total, (long long) max,
              (long long) fit);
    e->res->qty = fit;
    return KT_VERDICT_REDUCE;
}

static kt_verdict_t
s_risk_per_trade (struct s_eval *e, char *text, size_t len)
{
    const struct kt_intent *in = e->in;
    const struct risk_cfg *cfg = e->cfg;
    if (!in->has_stop) {
        if (cfg->require_stop && e->res->kind == RISK_KIND_ENTRY) {
            snprintf (text, len, "entry without an attached stop");
            return KT_VERDICT_BLOCK;
        }
        return KT_VERDICT_APPROVE;
    }
    int64_t px = s_entry_px (in, e->mkt);
    int64_t per_unit = in->side == KT_SIDE_BUY ? px - in->stop_trigger : in->stop_trigger - px;
    if (per_unit <= 0) {
        snprintf (text, len, "stop %lld on the wrong side of entry %lld",
                  (long long) in->stop_trigger, (long long) px);
        return KT_VERDICT_BLOCK;
    }
    //  __int128: a hostile price near INT64_MAX times the qty must not overflow.
    __int128 r = (__int128) per_unit * e->res->qty;
    if (in->r_value > r)
        r = in->r_value;
    int64_t max = -1;
    if (cfg->max_risk_per_trade > 0)
        max = cfg->max_risk_per_trade;
    if (cfg->max_risk_per_trade_bps > 0) {
        int64_t pct = risk_pnl_muldiv (e->equity, cfg->max_risk_per_trade_bps, 10000);
        if (max < 0 || pct < max)
            max = pct;
    }
    if (max < 0 || r <= max)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "R %lld paise > max %lld", (long long) (r > INT64_MAX ? INT64_MAX : r),
              (long long) max);
    return KT_VERDICT_BLOCK;
}

// ---- account rules ---------------------------------------------------------------------

int64_t
risk_check_staged (const struct risk_cfg *cfg, int64_t equity)
{
    return risk_pnl_muldiv (equity, cfg->capital_stage_pct, 100);
}

static kt_verdict_t
s_kill (struct s_eval *e, char *text, size_t len)
{
    if (!e->view->kill)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "kill switch: %s", e->view->kill_reason);
    return KT_VERDICT_HALT;
}

static kt_verdict_t
s_state (struct s_eval *e, char *text, size_t len)
{
    if (risk_check_state_allows_entry (e->view->state))
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "state %s: entries refused",
              e->view->state == KT_STATE_NONE ? "UNKNOWN" : kt_state_str (e->view->state));
    return KT_VERDICT_BLOCK;
}

static kt_verdict_t
s_session (struct s_eval *e, char *text, size_t len)
{
    if (e->view->session_ok)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "broker session invalid");
    return KT_VERDICT_BLOCK;
}

//  The loss family runs once through the breaker and adds its own reasons.
static kt_verdict_t
s_breakers (struct s_eval *e, char *text, size_t len)
{
    (void) text;
    (void) len;
    risk_breaker_eval (e->view, e->cfg, e->now_ns, e->unrealised, e->res);
    return KT_VERDICT_APPROVE;
}

//  Entries that may still fill: the pending ones, but not one this entry replaces.
static int64_t
s_may_fill (const struct s_eval *e)
{
    struct risk_slots s;
    risk_check_slots (e->view, e->in, KT_ITYPE_OTHER, &s);
    return s.pending_total;
}

//  TRADES_DAY / TRADES_HOUR limit trades: entries that filled (counted at their first
//  fill), plus the pending entries that still may, plus this one. Placements that are
//  modified and cancelled use nothing up.
static kt_verdict_t
s_trades_day (struct s_eval *e, char *text, size_t len)
{
    if (e->res->kind != RISK_KIND_ENTRY)
        return KT_VERDICT_APPROVE;
    int64_t pend = s_may_fill (e);
    if (e->view->trades_day + pend + 1 <= e->cfg->max_trades_day)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "entries filled today %lld + pending %lld + 1 > max %lld",
              (long long) e->view->trades_day, (long long) pend,
              (long long) e->cfg->max_trades_day);
    return KT_VERDICT_BLOCK;
}

//  Windows are newest first and only the newest `limit` can decide a limit of `limit`
//  (the Lua reads no more either).
static int
s_newest (int n, int64_t limit)
{
    return limit < n ? (int) limit : n;
}

static kt_verdict_t
s_trades_hour (struct s_eval *e, char *text, size_t len)
{
    if (e->res->kind != RISK_KIND_ENTRY)
        return KT_VERDICT_APPROVE;
    int n = risk_view_count_after (e->view->entries_ts,
                                   s_newest (e->view->nentries_ts, e->cfg->max_trades_hour),
                                   e->now_ns - 3600 * KT_NS_PER_SEC);
    int64_t pend = s_may_fill (e);
    if (n + pend + 1 <= e->cfg->max_trades_hour)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "entries filled in the last hour %d + pending %lld + 1 > max %lld", n,
              (long long) pend, (long long) e->cfg->max_trades_hour);
    return KT_VERDICT_BLOCK;
}

static kt_verdict_t
s_spacing (struct s_eval *e, char *text, size_t len)
{
    int64_t gap = e->cfg->min_spacing_s * KT_NS_PER_SEC;
    if (e->res->kind != RISK_KIND_ENTRY || gap <= 0 || e->view->last_entry_ns <= 0 ||
        e->view->last_entry_ns <= e->now_ns - gap)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "%lld ms since the last entry < %lld s",
              (long long) ((e->now_ns - e->view->last_entry_ns) / 1000000),
              (long long) e->cfg->min_spacing_s);
    return KT_VERDICT_BLOCK;
}

static kt_verdict_t
s_order_rate (struct s_eval *e, char *text, size_t len)
{
    int64_t cut = e->now_ns - KT_NS_PER_SEC;
    int n = risk_view_count_after (e->view->orders_ts,
                                   s_newest (e->view->norders_ts, e->cfg->max_orders_per_s), cut);
    if (n + 1 > e->cfg->max_orders_per_s) {
        snprintf (text, len, "orders in the last second %d + 1 > max %lld", n,
                  (long long) e->cfg->max_orders_per_s);
        return KT_VERDICT_BLOCK;
    }
    if (e->res->kind == RISK_KIND_MODIFY_ENTRY) {
        int m = risk_view_count_after (e->view->modifies_ts,
                                       s_newest (e->view->nmodifies_ts, e->cfg->max_modifies_per_s),
                                       cut);
        if (m + 1 > e->cfg->max_modifies_per_s) {
            snprintf (text, len, "modifications in the last second %d + 1 > max %lld", m,
                      (long long) e->cfg->max_modifies_per_s);
            return KT_VERDICT_BLOCK;
        }
    }
    return KT_VERDICT_APPROVE;
}

const struct risk_order *
risk_check_replaced (const struct risk_view *view, const struct kt_intent *in)
{
    if (!view || !in->ref[0])
        return NULL;
    const struct risk_order *o = risk_view_order (view, in->ref);
    return o && o->kind == RISK_KIND_ENTRY && o->pending && o->filled == 0 ? o : NULL;
}

void
risk_check_slots (const struct risk_view *view, const struct kt_intent *in, kt_itype_t itype,
                  struct risk_slots *out)
{
    memset (out, 0, sizeof *out);
    for (int i = 0; i < view->npos; i++) {
        const struct risk_pos *p = &view->pos[i];
        bool same_type = itype != KT_ITYPE_OTHER && p->itype == itype;
        if (p->qty != 0) {
            out->open_total++;
            out->open_type += same_type;
        }
        int64_t pend = p->pending > 0 ? p->pending : 0;
        out->pending_total += pend;
        if (same_type)
            out->pending_type += pend;
        if (strcmp (p->sym, in->sym) == 0)
            out->pending_sym += pend;
    }
    const struct risk_order *o = risk_check_replaced (view, in);
    if (!o)
        return;
    out->replaces = o;
    out->pending_total--;
    if (itype != KT_ITYPE_OTHER && o->itype == itype)
        out->pending_type--;
    if (strcmp (o->sym, in->sym) == 0)
        out->pending_sym--;
}

static kt_verdict_t
s_max_pos (struct s_eval *e, char *text, size_t len)
{
    if (e->res->kind != RISK_KIND_ENTRY)
        return KT_VERDICT_APPROVE;
    const struct risk_cfg *cfg = e->cfg;
    kt_itype_t it = e->mkt->instr ? e->mkt->instr->itype : KT_ITYPE_OTHER;
    const char *tn = it == KT_ITYPE_CE ? "CE" : it == KT_ITYPE_PE ? "PE" : "other";
    struct risk_slots s;
    risk_check_slots (e->view, e->in, it, &s);
    const struct risk_pos *held = risk_view_pos (e->view, e->in->sym);
    bool against = held && ((held->qty > 0 && e->in->side == KT_SIDE_SELL) ||
                            (held->qty < 0 && e->in->side == KT_SIDE_BUY));
    if (against)
        //  An entry may add to a position it holds, never work against it: filled, it
        //  would leave the position's exits covering more than is left.
        snprintf (text, len, "entry %s against the open position of %lld in %s",
                  kt_side_str (e->in->side), (long long) held->qty, e->in->sym);
    else if (s.open_total + 1 > cfg->max_positions)
        snprintf (text, len, "open positions %lld + 1 > max %lld", (long long) s.open_total,
                  (long long) cfg->max_positions);
    else if ((it == KT_ITYPE_CE || it == KT_ITYPE_PE) && s.open_type + 1 > cfg->max_per_type)
        snprintf (text, len, "%s open positions %lld + 1 > max %lld", tn, (long long) s.open_type,
                  (long long) cfg->max_per_type);
    else if (s.pending_type + 1 > cfg->max_pending_per_type)
        snprintf (text, len, "%s pending entries %lld + 1 > max %lld%s", tn,
                  (long long) s.pending_type, (long long) cfg->max_pending_per_type,
                  s.replaces ? "" : " (a replacement names the entry it replaces in ref)");
    else if (s.pending_sym + 1 > cfg->max_per_symbol)
        snprintf (text, len, "%s pending entries %lld + 1 > max %lld", e->in->sym,
                  (long long) s.pending_sym, (long long) cfg->max_per_symbol);
    else
        return KT_VERDICT_APPROVE;
    return KT_VERDICT_BLOCK;
}

//  unit x qty, saturated at INT64_MAX (a hostile price must not overflow; so large a
//  cost fails DEPLOY anyway).
static int64_t
s_cost_of (int64_t unit, int64_t qty)
{
    int64_t c;
    return kt_money_mul (unit, qty, &c) ? c : INT64_MAX;
}

//  Capital the order adds: the whole reservation of an entry, or the growth of an open
//  entry's reservation for a modify (a modify never shrinks a reservation).
static int64_t
s_added_cost (const struct s_eval *e)
{
    const struct risk_result *res = e->res;
    if (res->kind == RISK_KIND_ENTRY)
        return s_cost_of (res->unit_cost, res->qty);
    const struct risk_order *o = risk_view_order (e->view, e->in->ref);
    if (!o)
        return 0;
    int64_t open = res->qty - o->filled;
    int64_t want = open > 0 ? s_cost_of (res->unit_cost, open) : 0;
    return want > o->resv ? want - o->resv : 0;
}

//  Capital reserved before this order takes its own: less what the pending entry it
//  replaces holds (freed in the same commit).
static int64_t
s_reserved_after (const struct s_eval *e)
{
    const struct risk_order *o =
        e->res->kind == RISK_KIND_ENTRY ? risk_check_replaced (e->view, e->in) : NULL;
    return e->view->reserved - (o ? o->resv : 0);
}

static kt_verdict_t
s_deploy (struct s_eval *e, char *text, size_t len)
{
    const struct risk_view *v = e->view;
    int64_t cost = e->res->cost;
    if (cost <= 0)
        return KT_VERDICT_APPROVE;
    int64_t limit = risk_pnl_muldiv (e->equity, e->cfg->max_deploy_bps, 10000);
    int64_t reserved = s_reserved_after (e);
    __int128 used = (__int128) reserved + v->deployed + cost;
    if (used <= limit)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "reserved %lld + deployed %lld + order %lld > %lld", (long long) reserved,
              (long long) v->deployed, (long long) cost, (long long) limit);
    return KT_VERDICT_BLOCK;
}

static kt_verdict_t
s_margin_buffer (struct s_eval *e, char *text, size_t len)
{
    const struct risk_view *v = e->view;
    int64_t cost = e->res->cost;
    if (cost <= 0)
        return KT_VERDICT_APPROVE;
    __int128 left = (__int128) e->equity - ((__int128) s_reserved_after (e) + v->deployed + cost);
    if (left >= e->cfg->margin_buffer)
        return KT_VERDICT_APPROVE;
    if (left < INT64_MIN)
        left = INT64_MIN;
    snprintf (text, len, "free capital after the order %lld < buffer %lld", (long long) left,
              (long long) e->cfg->margin_buffer);
    return KT_VERDICT_BLOCK;
}

//  A MODIFY of an exit risk-gate holds may shrink it freely, but grow it only to what the
//  position leaves after the other open exits (never below its current quantity, so a
//  stop's new trigger still goes through): else an exit could flip the position.
static kt_verdict_t
s_modify_exit_cap (struct s_eval *e, char *text, size_t len)
{
    const struct risk_order *o = risk_view_order (e->view, e->in->ref);
    if (!e->in->ref[0] || !o || o->kind != RISK_KIND_EXIT || e->res->qty <= o->oqty)
        return KT_VERDICT_APPROVE;
    const struct risk_pos *p = risk_view_pos (e->view, o->sym);
    int64_t q = p ? (p->qty < 0 ? -p->qty : p->qty) : 0;
    int64_t others = (p ? p->exiting : 0) - (o->oqty - o->filled);
    int64_t cap = o->filled + q - others;
    if (cap < o->oqty)
        cap = o->oqty;
    if (e->res->qty <= cap)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "modified exit qty %lld capped at %lld (position %lld, other exits %lld)",
              (long long) e->res->qty, (long long) cap, (long long) q, (long long) others);
    e->res->qty = cap;
    return KT_VERDICT_REDUCE;
}

static kt_verdict_t
s_exit_cap (struct s_eval *e, char *text, size_t len)
{
    if (e->res->kind == RISK_KIND_MODIFY)
        return s_modify_exit_cap (e, text, len);
    if (e->res->kind != RISK_KIND_EXIT)
        return KT_VERDICT_APPROVE;
    const struct risk_pos *p = risk_view_pos (e->view, e->in->sym);
    int64_t q = p ? p->qty : 0;
    if (q == 0) {
        snprintf (text, len, "no open position in %s to exit", e->in->sym);
        return KT_VERDICT_BLOCK;
    }
    if ((q > 0 && e->in->side == KT_SIDE_BUY) || (q < 0 && e->in->side == KT_SIDE_SELL)) {
        snprintf (text, len, "%s would add to the position of %lld", kt_side_str (e->in->side),
                  (long long) q);
        return KT_VERDICT_BLOCK;
    }
    //  Open exits risk-gate approved already cover part of the position: two exits that
    //  both fill would flip it into a new, unchecked position.
    int64_t free = (q > 0 ? q : -q) - p->exiting;
    if (free <= 0) {
        snprintf (text, len, "pending exits of %lld already cover the position of %lld",
                  (long long) p->exiting, (long long) q);
        return KT_VERDICT_BLOCK;
    }
    if (e->res->qty <= free)
        return KT_VERDICT_APPROVE;
    snprintf (text, len, "exit qty %lld capped at the uncovered position %lld",
              (long long) e->res->qty, (long long) free);
    e->res->qty = free;
    return KT_VERDICT_REDUCE;
}

//  Parallel to risk_check_rules (same order, same length).
static s_rule_fn *const s_fns[] = {s_bad_intent,
                                   s_instrument,
                                   s_lot,
                                   s_tick,
                                   s_hours,
                                   s_stale_md,
                                   s_price_band,
                                   s_max_lots,
                                   s_freeze,
                                   s_notional,
                                   s_risk_per_trade,
                                   s_kill,
                                   s_state,
                                   s_session,
                                   s_breakers,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL,
                                   s_trades_day,
                                   s_trades_hour,
                                   s_spacing,
                                   s_order_rate,
                                   s_max_pos,
                                   s_deploy,
                                   s_margin_buffer,
                                   s_exit_cap};

_Static_assert(sizeof s_fns / sizeof s_fns[0] == 28, "one function per rule row");

risk_kind_t
risk_check_kind (const struct risk_view *view, const struct kt_intent *in)
{
    switch (in->purpose) {
        case KT_PURPOSE_ENTRY:
            return RISK_KIND_ENTRY;
        case KT_PURPOSE_EXIT:
        case KT_PURPOSE_STOP:
            return RISK_KIND_EXIT;
        case KT_PURPOSE_CANCEL:
            return RISK_KIND_CANCEL;
        case KT_PURPOSE_FLATTEN:
            return RISK_KIND_FLATTEN;
        case KT_PURPOSE_MODIFY: {
            const struct risk_order *o = view ? risk_view_order (view, in->ref) : NULL;
            return o && o->kind == RISK_KIND_ENTRY ? RISK_KIND_MODIFY_ENTRY : RISK_KIND_MODIFY;
        }
        default:
            return RISK_KIND_NONE;
    }
}

static void
s_run (struct s_eval *e, bool account)
{
    unsigned want = s_is_entry (e->res->kind) ? RISK_APPLIES_ENTRY : RISK_APPLIES_REDUCE;
    if (e->res->kind == RISK_KIND_CANCEL || e->res->kind == RISK_KIND_FLATTEN ||
        e->res->kind == RISK_KIND_NONE)
        want = 0; //  only BAD_INTENT, below
    for (int i = 0; risk_check_rules[i].code != KT_OK; i++) {
        const struct risk_rule *rule = &risk_check_rules[i];
        bool applies = (rule->applies & want) || (i == 0 && !account);
        if (rule->account != account || !applies || !s_fns[i])
            continue;
        if (e->stop)
            break;
        if (account && rule->code == KT_R_DEPLOY && e->res->cost == 0)
            e->res->cost = s_added_cost (e);
        char text[KT_TEXT_LEN] = "";
        kt_verdict_t v = s_fns[i](e, text, sizeof text);
        if (v != KT_VERDICT_APPROVE)
            risk_check_add (e->res, rule->code, v, "%s", text);
    }
}

void
risk_check_local (const struct risk_cfg *cfg, const struct kt_intent *in, risk_kind_t kind,
                  const struct risk_market *mkt, int64_t now_ns, int64_t equity,
                  struct risk_result *out)
{
    memset (out, 0, sizeof *out);
    out->verdict = KT_VERDICT_APPROVE;
    out->kind = kind;
    out->qty = in->qty;
    struct s_eval e = {NULL, cfg, in, mkt, now_ns, risk_check_staged (cfg, equity), 0, out, false};
    s_run (&e, false);
    if (s_is_entry (kind) && out->unit_cost == 0 && out->verdict < KT_VERDICT_BLOCK)
        out->unit_cost = s_unit_cost (&e);
}

void
risk_check_account (const struct risk_view *view, const struct risk_cfg *cfg,
                    const struct kt_intent *in, kt_itype_t itype, int64_t now_ns,
                    int64_t unrealised, struct risk_result *res)
{
    //  The account rules read the instrument only for its option type (MAX_POS).
    struct kt_instr ins;
    memset (&ins, 0, sizeof ins);
    ins.itype = itype;
    struct risk_market mkt = {&ins, true, 0, 0};
    int64_t equity = risk_pnl_equity (view, unrealised);
    struct s_eval e = {view,       cfg, in,   &mkt, now_ns, risk_check_staged (cfg, equity),
                       unrealised, res, false};
    s_run (&e, true);
    if (res->verdict >= KT_VERDICT_BLOCK) {
        res->qty = 0;
        res->cost = 0;
    }
}

void
risk_check_effective (const struct risk_view *view, const struct kt_intent *in,
                      struct kt_intent *out)
{
    *out = *in;
    if (in->purpose != KT_PURPOSE_MODIFY || in->has_stop || !view)
        return;
    const struct risk_order *o = risk_view_order (view, in->ref);
    if (o && o->kind == RISK_KIND_ENTRY && o->stop_trigger > 0) {
        out->has_stop = true;
        out->stop_trigger = o->stop_trigger;
        out->stop_price = 0;
    }
}

void
risk_check_intent (const struct risk_view *view, const struct risk_cfg *cfg,
                   const struct kt_intent *in, const struct risk_market *mkt, int64_t now_ns,
                   int64_t unrealised, struct risk_result *out)
{
    risk_kind_t kind = risk_check_kind (view, in);
    struct kt_intent eff;
    risk_check_effective (view, in, &eff);
    risk_check_local (cfg, &eff, kind, mkt, now_ns, risk_pnl_equity (view, unrealised), out);
    kt_itype_t itype = mkt->instr ? mkt->instr->itype : KT_ITYPE_OTHER;
    risk_check_account (view, cfg, in, itype, now_ns, unrealised, out);
}
