/*  bt_risk - --risk on: every intent through risk-gate's own checks (risk_check_intent,
 *  risk_reserve_build) against an account held in memory instead of Redis.
 *
 *  The account (struct risk_view) starts as a new account that the reconciler has
 *  agreed to (ACTIVE, session valid, capital = risk.capital) and follows the engine:
 *  each decision writes onto it what risk-gate's commit writes (reservation, pending
 *  slot, rate windows, the switch to HALTED); each fill, exit, cancel and rejection the
 *  engine tells the strategy applies to it what exec-gateway's book (common/kt_book)
 *  applies in Redis and risk-gate then settles (s_fill and s_done mirror them: the
 *  position, its open value, realised P&L and round trips, the held order's fill or
 *  end), and risk_view_derive derives the rest as it does live (deployed capital,
 *  reservations, units, the day's P&L and losing streak); each minute's close is a P&L
 *  mark (peak equity, the hour's marks); a new IST date is the daily roll. Time is the
 *  data's: a decision at a minute's close is judged at that close. */

#include "bt.h"
#include "../risk-gate/risk.h"

#include <stdlib.h>
#include <string.h>

struct bt_risk {
    struct risk_cfg cfg;
    struct risk_view view;
    const bt_engine_t *eng; //  borrowed: last seen (prices)
    uint32_t seq;           //  intent ids of MODIFY / CANCEL / FLATTEN
};

bt_risk_t *
bt_risk_new (const struct risk_cfg *cfg)
{
    bt_risk_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->cfg = *cfg;
    return self;
}

void
bt_risk_destroy (bt_risk_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
bt_risk_attach (bt_risk_t *self, bt_engine_t *eng)
{
    self->eng = eng;
    bt_engine_watch (eng, bt_risk_watch, self);
}

const struct risk_view *
bt_risk_view (const bt_risk_t *self)
{
    return &self->view;
}

// ---- prices -------------------------------------------------------------------------------

static const struct kt_instr *
s_instr (const bt_risk_t *self, const char *sym)
{
    const kt_instr_table_t *t = self->eng ? bt_engine_instr (self->eng) : NULL;
    return t ? kt_instr_by_sym (t, self->cfg.exchange, sym) : NULL;
}

static bool
s_price (void *arg, const char *sym, int64_t *px, int64_t *ts_ns)
{
    bt_risk_t *self = arg;
    const struct kt_instr *in = s_instr (self, sym);
    int64_t p = in ? bt_engine_last_close (self->eng, in->token) : 0;
    if (p <= 0) {
        const struct risk_pos *pos = risk_view_pos (&self->view, sym);
        if (!pos || pos->last_px <= 0)
            return false;
        *px = pos->last_px;
        *ts_ns = pos->last_px_ns;
        return true;
    }
    *px = p;
    *ts_ns = bt_engine_last_ts (self->eng, in->token);
    return true;
}

//  The capital a short ties up per unit, as risk-gate's core computes it.
static int64_t
s_margin (void *arg, const char *sym, int64_t px)
{
    return risk_pnl_short_margin (s_instr (arg, sym), px);
}

static int64_t
s_unrealised (bt_risk_t *self)
{
    return risk_pnl_unrealised (&self->view, s_price, self);
}

// ---- the day ------------------------------------------------------------------------------

//  risk_state_roll's writes, in memory: a new account on the first day (ACTIVE at once:
//  no reconciler in a backtest), the day's counters and windows reset on each new day,
//  the week's on a new week, and a day-scoped halt ended (ACTIVE again).
static void
s_roll (bt_risk_t *self, int64_t now)
{
    struct risk_view *v = &self->view;
    int day = kt_ist_yyyymmdd (now);
    if (v->loaded && v->day == day)
        return;
    int64_t unr = v->loaded ? s_unrealised (self) : 0;
    int64_t wk = kt_ist_week_start (now);
    if (!v->loaded) {
        memset (v, 0, sizeof *v);
        v->margin = s_margin;
        v->margin_arg = self;
        v->loaded = true;
        v->initial = self->cfg.capital;
        v->state = KT_STATE_ACTIVE;
        v->session_ok = true;
        v->since_ns = now;
        v->peak_equity = v->initial;
        v->week_start_ns = -1;
    }
    int64_t eq = risk_pnl_equity (v, unr);
    v->day = day;
    v->day_start_equity = eq;
    v->day_start_unrealised = unr;
    v->day_start_realised = v->book_realised;
    v->day_start_trades_closed = v->book_trades_closed;
    v->day_start_losing_streak = v->book_losing_streak;
    v->trades_day = 0;
    if (v->week_start_ns != wk) {
        v->week_start_ns = wk;
        v->week_start_equity = eq;
        v->week_start_unrealised = unr;
        v->week_start_realised = v->book_realised;
    }
    memset (v->has_mark, 0, sizeof v->has_mark);
    v->norders_ts = v->nmodifies_ts = v->nentries_ts = v->nrejects_ts = 0;
    if (v->state == KT_STATE_HALTED && v->day_scoped) {
        v->state = KT_STATE_ACTIVE;
        v->reason[0] = '\0';
        v->since_ns = now;
        v->day_scoped = false;
    }
    v->version++;
    risk_view_derive (v);
}

//  risk_state_mark's writes: the first look in a minute keeps the day's P&L for the
//  hour window; peak equity; each position's last price.
static void
s_mark (bt_risk_t *self, int64_t now)
{
    struct risk_view *v = &self->view;
    int64_t unr = s_unrealised (self);
    int m = risk_pnl_minute (now);
    if (!v->has_mark[m]) {
        v->has_mark[m] = true;
        v->mark[m] = risk_pnl_day (v, unr);
    }
    int64_t eq = risk_pnl_equity (v, unr);
    if (eq > v->peak_equity)
        v->peak_equity = eq;
    for (int i = 0; i < v->nbpos; i++) {
        int64_t px, ts;
        if (s_price (self, v->bpos[i].sym, &px, &ts)) {
            v->bpos[i].last_px = px;
            v->bpos[i].last_px_ns = ts;
        }
    }
    risk_view_derive (v);
}

// ---- the book and risk-gate's settling, in memory --------------------------------------

static int
s_ord (const struct risk_view *v, const char *coid)
{
    for (int i = 0; i < v->nord; i++)
        if (strcmp (v->ord[i].coid, coid) == 0)
            return i;
    return -1;
}

//  A trade is an entry that filled: its first fill adds it to trades_day and pushes
//  risk:ts:entries (TRADES_DAY, TRADES_HOUR), trimmed to RISK_TS_MAX as the settle does.
static void
s_trade (struct risk_view *v, int64_t now)
{
    v->trades_day++;
    int keep = v->nentries_ts < RISK_TS_MAX ? v->nentries_ts + 1 : RISK_TS_MAX;
    memmove (v->entries_ts + 1, v->entries_ts, (size_t) (keep - 1) * sizeof v->entries_ts[0]);
    v->entries_ts[0] = now;
    v->nentries_ts = keep;
}

//  kt_book_fill at now: delta units on side at value (paise x units) into the position
//  (open value, realised P&L, round trips), and into order coid when it is one
//  risk-gate holds (else a stop or an exit the engine made); then risk-gate's settle.
static void
s_fill (bt_risk_t *self, const char *coid, const struct kt_instr *in, kt_side_t side, int64_t delta,
        int64_t value, int64_t now)
{
    struct risk_view *v = &self->view;
    int oi = coid ? s_ord (v, coid) : -1;
    struct risk_order *o = oi >= 0 ? &v->ord[oi] : NULL;
    struct risk_pos *p = NULL;
    for (int i = 0; i < v->nbpos && !p; i++)
        if (strcmp (v->bpos[i].sym, in->sym) == 0)
            p = &v->bpos[i];
    if (!p) {
        if (v->nbpos == RISK_POS_MAX) {
            v->overflow = true;
            return;
        }
        p = &v->bpos[v->nbpos++];
        memset (p, 0, sizeof *p);
        snprintf (p->sym, sizeof p->sym, "%s", in->sym);
        p->itype = in->itype;
    }
    int64_t q = p->qty, s = side == KT_SIDE_SELL ? -1 : 1;
    if (o && o->kind == RISK_KIND_ENTRY && o->filled == 0)
        s_trade (v, now);
    if (q == 0 || (q > 0) == (s > 0)) {
        if (q == 0)
            p->trade_pnl = 0;
        p->basis += value;
        q += s * delta;
    } else {
        int64_t aq = q < 0 ? -q : q;
        int64_t cq = delta < aq ? delta : aq;
        int64_t bc = risk_pnl_muldiv (p->basis, cq, aq);
        int64_t cv = cq != delta ? risk_pnl_muldiv (value, cq, delta) : value;
        int64_t realised = q > 0 ? cv - bc : bc - cv;
        p->basis -= bc;
        q += s * cq;
        p->trade_pnl += realised;
        p->realised += realised;
        v->book_realised += realised;
        if (q == 0) {
            v->book_trades_closed++;
            v->book_last_trade = p->trade_pnl;
            v->book_losing_streak = p->trade_pnl < 0 ? v->book_losing_streak + 1 : 0;
        }
        int64_t rest = delta - cq;
        if (rest > 0) {
            q = s * rest;
            p->basis = value - cv;
            p->trade_pnl = 0;
        }
    }
    p->qty = q;
    if (q == 0)
        *p = v->bpos[--v->nbpos]; //  the book's positions set holds open ones only
    if (o) {
        o->in_book = true;
        o->book_filled += delta;
    }
    v->book_ver++;
    risk_view_derive (v);
}

//  The order coid is done (filled, cancelled, rejected): it leaves the held orders, and
//  with it what it still reserves, its pending slot and its cover.
static void
s_done (bt_risk_t *self, const char *coid)
{
    struct risk_view *v = &self->view;
    int oi = s_ord (v, coid);
    if (oi < 0)
        return;
    v->ord[oi] = v->ord[--v->nord];
    v->version++;
    risk_view_derive (v);
}

static void
s_coid (const bt_risk_t *self, uint32_t order_id, char *out, size_t len)
{
    //  Unique within a day (every order ends with its day); 20 chars at most.
    snprintf (out, len, "o%d.%u", self->view.day % 1000000, order_id);
}

static void
s_verdict_reason (const struct risk_reason *r, struct bt_verdict *out)
{
    snprintf (out->code, sizeof out->code, "%s", kt_reason_str (r->code));
    snprintf (out->text, sizeof out->text, "%s", r->text);
}

//  risk-gate's breakers on its poll: a loss limit reached halts trading with no intent
//  in sight (pending entries cancelled, positions too with flatten_on_halt).
static void
s_breakers (bt_risk_t *self, int64_t now, struct bt_verdict *halt)
{
    struct risk_view *v = &self->view;
    if (v->state == KT_STATE_HALTED)
        return;
    struct risk_result r;
    memset (&r, 0, sizeof r);
    kt_reason_t code = risk_breaker_eval (v, &self->cfg, now, s_unrealised (self), &r);
    if (code == KT_OK)
        return;
    const char *text = kt_reason_str (code);
    for (int i = 0; i < r.nreasons; i++) {
        if (r.reasons[i].code == code) {
            s_verdict_reason (&r.reasons[i], halt);
            text = r.reasons[i].text;
            break;
        }
    }
    if (!halt->code[0])
        snprintf (halt->code, sizeof halt->code, "%s", kt_reason_str (code));
    risk_reserve_halt (v, code, text, now, "backtest", NULL, true);
    halt->verdict = KT_VERDICT_HALT;
    halt->halted_now = true;
    halt->flatten = self->cfg.flatten_on_halt;
}

void
bt_risk_watch (void *arg, const bt_engine_t *book, const struct strat_exec *ev, int64_t ts,
               struct bt_verdict *halt)
{
    bt_risk_t *self = arg;
    self->eng = book;
    s_roll (self, ts);
    if (!ev) {
        s_mark (self, ts);
        if (halt)
            s_breakers (self, ts, halt);
        return;
    }
    const kt_instr_table_t *t = bt_engine_instr (book);
    const struct kt_instr *in = t ? kt_instr_by_token (t, ev->token) : NULL;
    char coid[KT_ID_LEN];
    s_coid (self, ev->order_id, coid, sizeof coid);
    switch (ev->kind) {
        case STRAT_EV_ENTRY_FILL: {
            if (!in || ev->qty <= 0)
                return;
            s_fill (self, coid, in, KT_SIDE_SELL, ev->qty, ev->qty * ev->px, ts);
            int oi = s_ord (&self->view, coid);
            if (oi >= 0 && self->view.ord[oi].filled >= self->view.ord[oi].oqty)
                s_done (self, coid);
            return;
        }
        case STRAT_EV_STOP_FILL:
        case STRAT_EV_EXIT_FILL:
            if (in && ev->qty > 0)
                s_fill (self, NULL, in, KT_SIDE_BUY, ev->qty, ev->qty * ev->px, ts);
            return;
        case STRAT_EV_CANCELLED:
        case STRAT_EV_REJECTED:
            s_done (self, coid);
            return;
        default:
            return;
    }
}

// ---- the decision ---------------------------------------------------------------------

void
bt_risk_decide (void *arg, const bt_engine_t *book, const struct strat_intent *si,
                struct bt_verdict *out)
{
    bt_risk_t *self = arg;
    self->eng = book;
    int64_t now = si->ts;
    s_roll (self, now);
    s_mark (self, now);
    const kt_instr_table_t *t = bt_engine_instr (book);
    const struct kt_instr *instr = t && si->token ? kt_instr_by_token (t, si->token) : NULL;
    struct kt_intent in;
    memset (&in, 0, sizeof in);
    snprintf (in.strategy, sizeof in.strategy, "backtest");
    char coid[KT_ID_LEN];
    s_coid (self, si->order_id, coid, sizeof coid);
    switch (si->kind) {
        case STRAT_I_PLACE:
            in.purpose = KT_PURPOSE_ENTRY;
            snprintf (in.intent_id, sizeof in.intent_id, "%s", coid);
            break;
        case STRAT_I_MODIFY:
            in.purpose = KT_PURPOSE_MODIFY;
            break;
        case STRAT_I_CANCEL:
            in.purpose = KT_PURPOSE_CANCEL;
            break;
        default:
            in.purpose = KT_PURPOSE_FLATTEN;
            break;
    }
    //  A replacement names the pending entry it replaces (risk_check_replaced).
    uint32_t old = si->kind == STRAT_I_PLACE ? bt_engine_replaces (book) : 0;
    if (old)
        s_coid (self, old, in.ref, sizeof in.ref);
    if (si->kind != STRAT_I_PLACE) {
        snprintf (in.intent_id, sizeof in.intent_id, "i%u", ++self->seq);
        if (si->kind != STRAT_I_FLATTEN)
            snprintf (in.ref, sizeof in.ref, "%s", coid);
    }
    if (si->kind == STRAT_I_PLACE || si->kind == STRAT_I_MODIFY) {
        snprintf (in.sym, sizeof in.sym, "%s", instr ? instr->sym : "");
        in.side = si->side;
        in.qty = si->qty;
        in.order_type = si->order_type;
        in.price = si->price;
        in.trigger = si->trigger;
        in.product = KT_PROD_MIS;
        in.has_stop = si->sl_price > 0;
        in.stop_trigger = si->sl_price;
        in.stop_price = si->stop_price;
        in.r_value = si->r_value;
    }
    struct risk_market mkt = {instr, t != NULL, 0, 0};
    if (instr) {
        mkt.ltp = bt_engine_last_close (book, instr->token);
        mkt.ltp_ns = bt_engine_last_ts (book, instr->token);
    }
    int64_t unr = s_unrealised (self);
    struct risk_result res;
    risk_check_intent (&self->view, &self->cfg, &in, &mkt, now, unr, &res);
    struct risk_reserve_req req = {&in, in.intent_id, instr ? instr->itype : KT_ITYPE_OTHER, now,
                                   "backtest"};
    struct risk_decided dec;
    risk_reserve_build (&self->view, &self->cfg, &req, &res, NULL, true, &dec);
    out->verdict = res.verdict;
    out->qty = res.qty;
    out->code[0] = out->text[0] = '\0';
    //  The deciding reason: the HALT's own, else the first with the verdict's outcome (a
    //  BLOCK after a REDUCE is reported as the BLOCK).
    int pick = -1;
    for (int i = 0; i < res.nreasons && pick < 0; i++) {
        bool halt = res.verdict == KT_VERDICT_HALT;
        if (halt ? res.reasons[i].code == res.halt_code : res.reasons[i].outcome == res.verdict)
            pick = i;
    }
    if (pick < 0 && res.nreasons > 0)
        pick = 0;
    if (res.verdict != KT_VERDICT_APPROVE && pick >= 0)
        s_verdict_reason (&res.reasons[pick], out);
    out->halted_now = dec.halted_now;
    out->flatten = dec.halted_now && self->cfg.flatten_on_halt;
}
