/*  bt_engine - the backtest's broker and clock: bar mode (backtest-bars.md "Semantics",
 *  minute by minute) and tick mode (the shared fill model, kt_fill, quote by quote).
 *
 *  Bar mode, for minute m: (1) fills of the orders live at the start of m against each
 *  instrument's bar m, (2-3) the bars to the strategy (VWAP, swings, broken candidates),
 *  (4-5) the minute's close to the strategy (day exits, then entries), (6) the decided
 *  intents, each through the risk hook, become the orders live from m + 1.
 *
 *  Tick mode: each quote first fills what it can (kt_fill_match: triggers, depth,
 *  trade-through; fills may come in parts), then adds its trade to the instrument's
 *  minute bar; the first quote of a later minute closes the minute: its bars go to the
 *  strategy (token order), then the minute's close, then the intents, as in bar mode.
 *
 *  Design overview: the engine keeps the broker's side of the book (entry orders,
 *  positions with their stops, per-token last price, bar and fill liquidity) in small
 *  fixed arrays and one open-addressing table; the strategy keeps its own view and
 *  learns every change through on_exec, exactly as it would from exec-gateway. Trades
 *  and refusals grow by doubling (a few per day); nothing else is allocated per input. */

#include "bt.h"

#include <stdlib.h>
#include <string.h>

#define S_ENTRIES_MAX 16
#define S_OPEN_MAX 128
#define S_NS_MIN (60LL * 1000000000LL)

struct s_entry {
    struct strat_intent o;     //  as placed / last modified (qty as approved)
    const struct kt_instr *in; //  borrowed
    bool triggered;            //  bar mode: resting as a LIMIT at o.price
    struct kt_fill_order f;    //  tick mode: the fill model's state
};

struct s_open {
    size_t trade;              //  index into trades
    int64_t stop_live_from;    //  bar mode: the minute after the entry filled; tick mode:
                               //  the quote time of the fill (the stop sees later quotes)
    struct kt_fill_order stop; //  tick mode: BUY SL sl_price / stop_price, qty = filled
};

//  Per token: last price, the minute bar being built (tick mode), fill liquidity.
struct s_tok {
    uint32_t token;   //  0 = empty slot
    int64_t close;    //  last close (bar mode) or last traded price (tick mode)
    int64_t close_ts; //  its time: the bar's close (bar mode), the last quote (tick mode)
    bool has_bar;
    struct strat_bar bar;
    struct kt_fill_liq liq;
};

struct bt_engine {
    strat_core_t *core;            //  borrowed
    const kt_instr_table_t *instr; //  borrowed
    bt_risk_fn *risk;              //  NULL = approve everything
    void *risk_arg;                //  borrowed
    bt_watch_fn *watch;            //  NULL = nobody watches
    uint32_t replaces;             //  the pending entry the PLACE being decided replaces
    void *watch_arg;               //  borrowed
    struct s_entry entries[S_ENTRIES_MAX];
    int nentries;
    struct strat_intent entry_view[S_ENTRIES_MAX];
    struct s_open open[S_OPEN_MAX];
    int nopen;
    struct s_tok *toks; //  owned: open addressing by token
    size_t ncap;
    uint32_t *touched; //  owned: tokens with a bar in the tick minute
    size_t ntouched;
    struct bt_trade *trades; //  owned
    size_t ntrades, trades_cap;
    struct bt_refusal *refusals; //  owned
    size_t nrefusals, refusals_cap;
    int32_t *days; //  owned
    size_t ndays, days_cap;
    int32_t day;
    int64_t day_last_minute; //  ts of the day's last minute so far
    int64_t minute;          //  ts of the minute being processed
    int64_t tick_minute;     //  tick mode: the minute whose bars are being built, 0 none
    int64_t now;             //  tick mode: time of the quote being processed
    int64_t minutes, bars, ticks;
    struct strat_out out;
};

static void *
s_grow (void *p, size_t *cap, size_t elem)
{
    size_t n = *cap ? *cap * 2 : 64;
    void *q = realloc (p, n * elem);
    if (!q)
        abort ();
    *cap = n;
    return q;
}

static void
s_alloc_toks (bt_engine_t *self, const kt_instr_table_t *instr)
{
    size_t cap = 64;
    while (instr && cap < 2 * kt_instr_count (instr) + 2)
        cap *= 2;
    free (self->toks);
    free (self->touched);
    self->ncap = cap;
    self->toks = calloc (cap, sizeof *self->toks);
    self->touched = calloc (cap, sizeof *self->touched);
    if (!self->toks || !self->touched)
        abort ();
    self->ntouched = 0;
}

bt_engine_t *
bt_engine_new (strat_core_t *core, const kt_instr_table_t *instr, bt_risk_fn *risk, void *risk_arg)
{
    bt_engine_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->core = core;
    self->instr = instr;
    self->risk = risk;
    self->risk_arg = risk_arg;
    s_alloc_toks (self, instr);
    return self;
}

void
bt_engine_rebind (bt_engine_t *self, strat_core_t *core, const kt_instr_table_t *instr)
{
    bt_engine_end_day (self);
    self->core = core;
    self->instr = instr;
    s_alloc_toks (self, instr);
}

void
bt_engine_destroy (bt_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bt_engine_t *self = *self_p;
    free (self->toks);
    free (self->touched);
    free (self->trades);
    free (self->refusals);
    free (self->days);
    free (self);
    *self_p = NULL;
}

static struct s_tok *
s_tok (bt_engine_t *self, uint32_t token)
{
    size_t i = (token * 2654435761u) & (self->ncap - 1);
    while (self->toks[i].token && self->toks[i].token != token)
        i = (i + 1) & (self->ncap - 1);
    self->toks[i].token = token;
    return &self->toks[i];
}

//  The token's slot, or NULL if it has none yet.
static const struct s_tok *
s_tok_find (const bt_engine_t *self, uint32_t token)
{
    size_t i = (token * 2654435761u) & (self->ncap - 1);
    while (self->toks[i].token && self->toks[i].token != token)
        i = (i + 1) & (self->ncap - 1);
    return self->toks[i].token ? &self->toks[i] : NULL;
}

int64_t
bt_engine_last_close (const bt_engine_t *self, uint32_t token)
{
    const struct s_tok *t = s_tok_find (self, token);
    return t ? t->close : 0;
}

int64_t
bt_engine_last_ts (const bt_engine_t *self, uint32_t token)
{
    const struct s_tok *t = s_tok_find (self, token);
    return t ? t->close_ts : 0;
}

uint32_t
bt_engine_replaces (const bt_engine_t *self)
{
    return self->replaces;
}

bool
bt_engine_has_risk (const bt_engine_t *self)
{
    return self->risk != NULL;
}

const kt_instr_table_t *
bt_engine_instr (const bt_engine_t *self)
{
    return self->instr;
}

void
bt_engine_watch (bt_engine_t *self, bt_watch_fn *fn, void *arg)
{
    self->watch = fn;
    self->watch_arg = arg;
}

// ---- events to the strategy, trades ---------------------------------------------------

static void
s_tell (bt_engine_t *self, strat_ev_t kind, uint32_t id, uint32_t token, int64_t qty, int64_t px)
{
    struct strat_exec ev = {kind, id, token, self->minute, qty, px};
    if (self->watch)
        self->watch (self->watch_arg, self, &ev, self->minute, NULL);
    strat_core_exec (self->core, &ev, &self->out);
}

static int
s_entry_of (const bt_engine_t *self, uint32_t id)
{
    for (int i = 0; i < self->nentries; i++)
        if (self->entries[i].o.order_id == id)
            return i;
    return -1;
}

static int
s_open_of (const bt_engine_t *self, uint32_t id)
{
    for (int i = 0; i < self->nopen; i++)
        if (self->trades[self->open[i].trade].order_id == id)
            return i;
    return -1;
}

//  Average price of value / qty to the paisa, half up (display only: P&L uses values).
static int64_t
s_avg (int64_t value, int64_t qty)
{
    return qty > 0 ? (value + qty / 2) / qty : 0;
}

//  Part (or all) of entry ei filled: qty at px. The position opens on the first part;
//  the entry goes when last is set and nothing is left to fill.
static void
s_entry_fill (bt_engine_t *self, int ei, int64_t px, int64_t qty, bool last)
{
    struct s_entry *e = &self->entries[ei];
    int oi = s_open_of (self, e->o.order_id);
    if (oi < 0 && self->nopen < S_OPEN_MAX) {
        if (self->ntrades == self->trades_cap)
            self->trades = s_grow (self->trades, &self->trades_cap, sizeof *self->trades);
        struct bt_trade *t = &self->trades[self->ntrades];
        memset (t, 0, sizeof *t);
        *t = (struct bt_trade){.order_id = e->o.order_id,
                               .in = e->in,
                               .entry_ts = self->minute,
                               .sl_price = e->o.sl_price,
                               .swing_low = e->o.swing_low};
        oi = self->nopen++;
        self->open[oi] = (struct s_open){self->ntrades++, self->minute + S_NS_MIN, {0}};
        self->open[oi].stop =
            (struct kt_fill_order){.side = KT_SIDE_BUY,
                                   .order_type = KT_OT_SL,
                                   .price = e->o.stop_price > 0 ? e->o.stop_price : e->o.sl_price,
                                   .trigger = e->o.sl_price,
                                   .market_protection = -1};
    }
    if (oi >= 0) {
        struct s_open *op = &self->open[oi];
        struct bt_trade *t = &self->trades[op->trade];
        t->qty += qty;
        t->entry_value += px * qty;
        t->entry_px = s_avg (t->entry_value, t->qty);
        t->r_at_risk = (t->sl_price - t->swing_low) * t->qty;
        op->stop.qty = t->qty; //  the attached stop follows the filled quantity
        if (self->now)
            op->stop_live_from = self->now;
    }
    struct strat_intent o = e->o;
    if (last && (!self->now || e->f.filled >= e->f.qty))
        self->entries[ei] = self->entries[--self->nentries];
    s_tell (self, STRAT_EV_ENTRY_FILL, o.order_id, o.token, qty, px);
}

//  A position closes when everything filled has been bought back and its entry order
//  is gone (no more parts can come).
static void
s_settle (bt_engine_t *self, int oi)
{
    struct bt_trade *t = &self->trades[self->open[oi].trade];
    if (t->exited >= t->qty && s_entry_of (self, t->order_id) < 0) {
        t->closed = true;
        self->open[oi] = self->open[--self->nopen];
    }
}

static void
s_exit (bt_engine_t *self, int oi, int64_t px, int64_t qty, bt_exit_t reason)
{
    struct bt_trade *t = &self->trades[self->open[oi].trade];
    if (qty <= 0)
        return;
    t->exited += qty;
    t->exit_value += px * qty;
    t->exit_px = s_avg (t->exit_value, t->exited);
    t->exit_ts = self->minute;
    t->reason = reason;
    self->open[oi].stop.filled = t->exited;
    uint32_t id = t->order_id, token = t->in->token;
    s_settle (self, oi);
    s_tell (self, reason == BT_EXIT_STOP ? STRAT_EV_STOP_FILL : STRAT_EV_EXIT_FILL, id, token, qty,
            px);
}

static void
s_remove_entry (bt_engine_t *self, int ei)
{
    uint32_t id = self->entries[ei].o.order_id;
    self->entries[ei] = self->entries[--self->nentries];
    int oi = s_open_of (self, id);
    if (oi >= 0)
        s_settle (self, oi);
}

// ---- bar mode, step 1: fills -------------------------------------------------------------

static const struct strat_bar *
s_bar_of (const struct strat_bar *bars, int n, uint32_t token)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (bars[mid].token == token)
            return &bars[mid];
        if (bars[mid].token < token)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static void
s_fills (bt_engine_t *self, const struct strat_bar *bars, int n)
{
    //  Entries: SELL SL trigger T, limit L (L <= T).
    for (int i = 0; i < self->nentries;) {
        struct s_entry *e = &self->entries[i];
        const struct strat_bar *b = s_bar_of (bars, n, e->o.token);
        int64_t T = e->o.trigger, L = e->o.price;
        int64_t px = 0;
        if (b && e->triggered) {
            if (b->high >= L)
                px = b->open > L ? b->open : L;
        } else if (b && b->open <= T) {
            if (b->open >= L)
                px = b->open;
            else if (b->high >= L)
                px = L;
            else
                e->triggered = true; //  gapped through the limit: rests at L
        } else if (b && b->low <= T)
            px = T;
        if (px) {
            s_entry_fill (self, i, px, e->o.qty, true);
            continue; //  slot i now holds another entry
        }
        i++;
    }
    //  Stops: BUY SL at sl_price, live from the minute after the entry's fill.
    for (int i = 0; i < self->nopen;) {
        int before = self->nopen;
        struct bt_trade *t = &self->trades[self->open[i].trade];
        const struct strat_bar *b = s_bar_of (bars, n, t->in->token);
        if (b && self->minute >= self->open[i].stop_live_from && b->high >= t->sl_price)
            s_exit (self, i, b->open > t->sl_price ? b->open : t->sl_price, t->qty - t->exited,
                    BT_EXIT_STOP);
        if (self->nopen == before)
            i++;
    }
}

// ---- step 6: intents -----------------------------------------------------------------

static void
s_refused (bt_engine_t *self, const struct strat_intent *in, const struct bt_verdict *v)
{
    if (self->nrefusals == self->refusals_cap)
        self->refusals = s_grow (self->refusals, &self->refusals_cap, sizeof *self->refusals);
    self->refusals[self->nrefusals++] = (struct bt_refusal){
        self->minute, in ? in->kind : STRAT_I_NONE,
        in && in->token ? kt_instr_by_token (self->instr, in->token) : NULL, in ? in->qty : 0, *v};
}

static void
s_cancel_entries (bt_engine_t *self)
{
    while (self->nentries > 0) {
        struct strat_intent o = self->entries[self->nentries - 1].o;
        s_remove_entry (self, self->nentries - 1);
        s_tell (self, STRAT_EV_CANCELLED, o.order_id, o.token, 0, 0);
    }
}

static void
s_flatten (bt_engine_t *self, bt_exit_t reason)
{
    s_cancel_entries (self);
    while (self->nopen > 0) {
        int oi = self->nopen - 1;
        struct bt_trade *t = &self->trades[self->open[oi].trade];
        if (t->exited >= t->qty) { //  nothing left to buy back
            t->closed = true;
            self->nopen--;
            continue;
        }
        s_exit (self, oi, bt_engine_last_close (self, t->in->token), t->qty - t->exited, reason);
    }
}

//  Trading halted: every pending entry is cancelled (stops stay), and with flatten
//  every position is bought back at its last close too (risk-gate's halt commands).
static void
s_halt (bt_engine_t *self, bool flatten)
{
    if (flatten)
        s_flatten (self, BT_EXIT_HALT);
    else
        s_cancel_entries (self);
}

static void s_apply_verdict (bt_engine_t *self, const struct strat_intent *in,
                             const struct bt_verdict *v);

static void
s_apply (bt_engine_t *self, const struct strat_intent *in)
{
    struct bt_verdict v = {KT_VERDICT_APPROVE, in->qty, "", "", false, false};
    if (self->risk)
        self->risk (self->risk_arg, self, in, &v);
    s_apply_verdict (self, in, &v);
    if (v.halted_now)
        s_halt (self, v.flatten);
}

static void
s_apply_verdict (bt_engine_t *self, const struct strat_intent *in, const struct bt_verdict *vp)
{
    struct bt_verdict v = *vp;
    bool refused = v.verdict == KT_VERDICT_BLOCK || v.verdict == KT_VERDICT_HALT;
    bool reduced = v.verdict == KT_VERDICT_REDUCE && v.qty > 0 && v.qty < in->qty;
    if (v.verdict != KT_VERDICT_APPROVE)
        s_refused (self, in, &v);
    int ei = s_entry_of (self, in->order_id);
    switch (in->kind) {
        case STRAT_I_PLACE:
        case STRAT_I_MODIFY: {
            const struct kt_instr *instr = kt_instr_by_token (self->instr, in->token);
            if (refused || !instr) {
                //  A refused MODIFY also removes the old order: the strategy no longer
                //  wants it, and keeping risk the checks just refused is not fail-closed.
                if (ei >= 0)
                    s_remove_entry (self, ei);
                s_tell (self, STRAT_EV_REJECTED, in->order_id, in->token, 0, 0);
                return;
            }
            if (ei < 0) {
                if (self->nentries == S_ENTRIES_MAX) {
                    s_tell (self, STRAT_EV_REJECTED, in->order_id, in->token, 0, 0);
                    return;
                }
                ei = self->nentries++;
                memset (&self->entries[ei], 0, sizeof self->entries[ei]);
            }
            struct s_entry *e = &self->entries[ei];
            int64_t filled = e->f.filled;
            e->o = *in;
            e->in = instr;
            e->triggered = false; //  a MODIFY, like a PLACE, is a fresh untriggered order
            if (reduced)
                e->o.qty = v.qty;
            e->f = (struct kt_fill_order){.side = in->side,
                                          .order_type = in->order_type,
                                          .qty = e->o.qty,
                                          .filled = filled,
                                          .price = in->price,
                                          .trigger = in->trigger,
                                          .market_protection = -1};
            if (reduced)
                s_tell (self, STRAT_EV_REDUCED, in->order_id, in->token, v.qty, 0);
            if (filled > 0 && filled >= e->o.qty) {
                //  Modified to no more than is already filled: nothing is left to work.
                s_remove_entry (self, ei);
                s_tell (self, STRAT_EV_CANCELLED, in->order_id, in->token, 0, 0);
            }
            return;
        }
        case STRAT_I_CANCEL:
            if (ei >= 0)
                s_remove_entry (self, ei);
            s_tell (self, STRAT_EV_CANCELLED, in->order_id, in->token, 0, 0);
            return;
        case STRAT_I_FLATTEN:
            s_flatten (self, in->why == STRAT_WHY_TARGET_DAY ? BT_EXIT_TARGET_DAY
                             : in->why == STRAT_WHY_LOSS_DAY ? BT_EXIT_LOSS_DAY
                                                             : BT_EXIT_TIME);
            return;
        default:
            return;
    }
}

//  The strategy's "another instrument is now best": CANCEL of its pending entry (no fill
//  yet) and, next in the same decision, a PLACE of the same option type. With --risk on
//  it goes to risk-gate as one decision, a replacement (docs/risk-gate.md): judged with
//  the old entry's pending slot freed, as live, where the old one's CANCELLED comes back
//  long after the new PLACE is decided.
static bool
s_is_replacement (const bt_engine_t *self, const struct strat_intent *c,
                  const struct strat_intent *p)
{
    return self->risk && c->kind == STRAT_I_CANCEL && c->why == STRAT_WHY_REPLACED &&
           p->kind == STRAT_I_PLACE && p->itype == c->itype &&
           s_entry_of (self, c->order_id) >= 0 && s_open_of (self, c->order_id) < 0;
}

//  Approved, the old order is cancelled before the new one is placed (exec-gateway's
//  order); refused, the old one still goes, as its own CANCEL.
static void
s_replace (bt_engine_t *self, const struct strat_intent *cancel, const struct strat_intent *place)
{
    struct bt_verdict v = {KT_VERDICT_APPROVE, place->qty, "", "", false, false};
    self->replaces = cancel->order_id;
    self->risk (self->risk_arg, self, place, &v);
    self->replaces = 0;
    if (v.verdict == KT_VERDICT_BLOCK || v.verdict == KT_VERDICT_HALT)
        s_apply (self, cancel);
    else {
        int ei = s_entry_of (self, cancel->order_id);
        if (ei >= 0)
            s_remove_entry (self, ei);
        s_tell (self, STRAT_EV_CANCELLED, cancel->order_id, cancel->token, 0, 0);
    }
    s_apply_verdict (self, place, &v);
    if (v.halted_now)
        s_halt (self, v.flatten);
}

//  Apply everything the strategy has emitted; answers may make it emit more.
static int
s_drain (bt_engine_t *self)
{
    struct strat_intent batch[STRAT_OUT_MAX];
    while (self->out.n > 0) {
        if (self->out.overflow)
            return -1;
        int n = self->out.n;
        memcpy (batch, self->out.v, (size_t) n * sizeof batch[0]);
        self->out.n = 0;
        for (int i = 0; i < n; i++) {
            if (i + 1 < n && s_is_replacement (self, &batch[i], &batch[i + 1])) {
                s_replace (self, &batch[i], &batch[i + 1]);
                i++;
            } else
                s_apply (self, &batch[i]);
        }
    }
    return self->out.overflow ? -1 : 0;
}

// ---- the day and the minute ---------------------------------------------------------

//  The minute's close to the watcher; a halt it reports (its breakers) is listed and
//  applied before the strategy sees the close.
static int
s_close_watch (bt_engine_t *self, int64_t ts)
{
    if (!self->watch)
        return 0;
    struct bt_verdict h = {KT_VERDICT_APPROVE, 0, "", "", false, false};
    self->watch (self->watch_arg, self, NULL, ts, &h);
    if (!h.halted_now)
        return 0;
    s_refused (self, NULL, &h);
    s_halt (self, h.flatten);
    return s_drain (self);
}

static int
s_cmp_u32 (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return x < y ? -1 : x > y;
}

//  Tick mode: the minute being built closes: its bars (token order), then its close.
static int
s_tick_close_minute (bt_engine_t *self)
{
    if (!self->tick_minute)
        return 0;
    int64_t m = self->tick_minute;
    self->tick_minute = 0;
    self->minute = m;
    self->minutes++;
    qsort (self->touched, self->ntouched, sizeof *self->touched, s_cmp_u32);
    for (size_t i = 0; i < self->ntouched; i++) {
        struct s_tok *t = s_tok (self, self->touched[i]);
        t->has_bar = false;
        self->bars++;
        strat_core_bar (self->core, &t->bar, &self->out);
    }
    self->ntouched = 0;
    if (s_drain (self) != 0)
        return -1;
    if (s_close_watch (self, m + S_NS_MIN) != 0)
        return -1;
    strat_core_timer (self->core, m + S_NS_MIN, &self->out);
    return s_drain (self);
}

void
bt_engine_end_day (bt_engine_t *self)
{
    s_tick_close_minute (self);
    if (!self->day)
        return;
    int64_t saved = self->minute;
    self->minute = self->day_last_minute;
    s_flatten (self, BT_EXIT_TIME);
    s_drain (self);
    self->minute = saved;
}

static void
s_new_day (bt_engine_t *self, int32_t day)
{
    bt_engine_end_day (self);
    self->day = day;
    if (self->ndays == self->days_cap)
        self->days = s_grow (self->days, &self->days_cap, sizeof *self->days);
    self->days[self->ndays++] = day;
}

int
bt_engine_minute (bt_engine_t *self, const struct strat_bar *bars, int n)
{
    if (n <= 0)
        return 0;
    int64_t m = bars[0].ts;
    int32_t day = kt_ist_yyyymmdd (m);
    if (day != self->day)
        s_new_day (self, day);
    self->now = 0;
    self->minute = m;
    self->day_last_minute = m;
    self->minutes++;
    self->bars += n;
    self->out.n = 0;
    s_fills (self, bars, n);
    for (int i = 0; i < n; i++) {
        struct s_tok *c = s_tok (self, bars[i].token);
        c->close = bars[i].close;
        c->close_ts = m + S_NS_MIN;
        strat_core_bar (self->core, &bars[i], &self->out);
    }
    if (s_drain (self) != 0 || s_close_watch (self, m + S_NS_MIN) != 0)
        return -1;
    strat_core_timer (self->core, m + S_NS_MIN, &self->out);
    return s_drain (self);
}

int
bt_engine_tick (bt_engine_t *self, const struct bt_tick *tk)
{
    int64_t m = tk->ts - tk->ts % S_NS_MIN;
    int32_t day = kt_ist_yyyymmdd (tk->ts);
    if (day != self->day)
        s_new_day (self, day);
    else if (m != self->tick_minute && s_tick_close_minute (self) != 0)
        return -1;
    self->tick_minute = m;
    self->minute = self->day_last_minute = m;
    self->now = tk->ts;
    self->ticks++;
    struct s_tok *t = s_tok (self, tk->token);
    kt_fill_liq_reset (&t->liq);
    if (tk->ltp > 0)
        t->close_ts = tk->ts; //  a quote refreshes the last price's time, as a live tick does
    struct kt_fill fills[KT_FILL_MAX];
    //  Fills first: this quote is what the orders live before it meet.
    if (tk->q && tk->q->tick > 0) {
        for (int i = 0; i < self->nentries;) {
            struct s_entry *e = &self->entries[i];
            int before = self->nentries;
            if (e->o.token == tk->token) {
                int nf = kt_fill_match (&e->f, tk->q, &t->liq, fills, KT_FILL_MAX);
                for (int k = 0; k < nf; k++)
                    s_entry_fill (self, i, fills[k].px, fills[k].qty, k == nf - 1);
            }
            if (self->nentries == before)
                i++;
        }
        for (int i = 0; i < self->nopen;) {
            struct s_open *op = &self->open[i];
            int before = self->nopen;
            struct bt_trade *tr = &self->trades[op->trade];
            if (tr->in->token == tk->token && tk->ts > op->stop_live_from) {
                int nf = kt_fill_match (&op->stop, tk->q, &t->liq, fills, KT_FILL_MAX);
                for (int k = 0; k < nf && self->nopen == before; k++)
                    s_exit (self, i, fills[k].px, fills[k].qty, BT_EXIT_STOP);
            }
            if (self->nopen == before)
                i++;
        }
    }
    //  Then the trade joins the minute's bar.
    if (tk->trade && tk->ltp > 0) {
        t->close = tk->ltp;
        if (!t->has_bar) {
            t->has_bar = true;
            t->bar = (struct strat_bar){tk->token, m, tk->ltp, tk->ltp, tk->ltp, tk->ltp, 0};
            self->touched[self->ntouched++] = tk->token;
        }
        if (tk->ltp > t->bar.high)
            t->bar.high = tk->ltp;
        if (tk->ltp < t->bar.low)
            t->bar.low = tk->ltp;
        t->bar.close = tk->ltp;
        t->bar.volume += tk->qty;
    }
    return s_drain (self);
}

// ---- accessors ----------------------------------------------------------------------

const struct bt_trade *
bt_engine_trades (const bt_engine_t *self, size_t *n)
{
    *n = self->ntrades;
    return self->trades;
}

const struct bt_refusal *
bt_engine_refusals (const bt_engine_t *self, size_t *n)
{
    *n = self->nrefusals;
    return self->refusals;
}

const int32_t *
bt_engine_days (const bt_engine_t *self, size_t *n)
{
    *n = self->ndays;
    return self->days;
}

int64_t
bt_engine_minutes (const bt_engine_t *self)
{
    return self->minutes;
}

int64_t
bt_engine_bars (const bt_engine_t *self)
{
    return self->bars;
}

int64_t
bt_engine_ticks (const bt_engine_t *self)
{
    return self->ticks;
}

int
bt_engine_open_count (const bt_engine_t *self)
{
    return self->nopen;
}

int
bt_engine_entries (const bt_engine_t *self, const struct strat_intent **out)
{
    bt_engine_t *w = (bt_engine_t *) self;
    for (int i = 0; i < self->nentries; i++)
        w->entry_view[i] = self->entries[i].o;
    *out = w->entry_view;
    return self->nentries;
}

//  One spelling with the live journal's exit_reason: kt_msg's exit reasons, in the same
//  order, so that the two trades.csv compare.
_Static_assert((int) BT_EXIT_STOP == (int) KT_EXIT_STOP &&
                   (int) BT_EXIT_TARGET_DAY == (int) KT_EXIT_TARGET_DAY &&
                   (int) BT_EXIT_LOSS_DAY == (int) KT_EXIT_LOSS_DAY &&
                   (int) BT_EXIT_TIME == (int) KT_EXIT_TIME &&
                   (int) BT_EXIT_HALT == (int) KT_EXIT_HALT,
               "bt_exit_t follows kt_exit_reason_t");

const char *
bt_exit_str (bt_exit_t reason)
{
    if (reason == BT_EXIT_NONE)
        return "";
    return (unsigned) reason <= BT_EXIT_HALT ? kt_exit_reason_str ((kt_exit_reason_t) reason) : "?";
}
