/*  bt_engine - bar mode: backtest-bars.md "Semantics", minute by minute.
 *
 *  For minute m: (1) fills of the orders live at the start of m against each
 *  instrument's bar m, (2-3) the bars to the strategy (VWAP, swings, broken candidates),
 *  (4-5) the minute's close to the strategy (day exits, then entries), (6) the decided
 *  intents, each through the risk hook, become the orders live from m + 1.
 *
 *  Design overview: the engine keeps the broker's side of the book (entry orders,
 *  positions with their stops, last closes) in small fixed arrays; the strategy keeps
 *  its own view and learns every change through on_exec, exactly as it would from
 *  exec-gateway. Trades and refusals grow by doubling (a few per day); nothing else is
 *  allocated after bt_engine_new. */

#include "bt.h"

#include <stdlib.h>
#include <string.h>

#define S_ENTRIES_MAX 16
#define S_OPEN_MAX 128
#define S_NS_MIN (60LL * 1000000000LL)

struct s_entry {
    struct strat_intent o;     //  as placed / last modified (qty as approved)
    const struct kt_instr *in; //  borrowed
    bool triggered;            //  resting as a LIMIT at o.price
};

struct s_open {
    size_t trade;           //  index into trades
    int64_t stop_live_from; //  the minute after the entry filled
};

struct s_close {
    uint32_t token; //  0 = empty slot
    int64_t close;
};

struct bt_engine {
    strat_core_t *core;            //  borrowed
    const kt_instr_table_t *instr; //  borrowed
    bt_risk_fn *risk;              //  NULL = approve everything
    void *risk_arg;                //  borrowed
    struct s_entry entries[S_ENTRIES_MAX];
    int nentries;
    struct strat_intent entry_view[S_ENTRIES_MAX];
    struct s_open open[S_OPEN_MAX];
    int nopen;
    struct s_close *closes; //  owned: open addressing by token
    size_t ncap;
    struct bt_trade *trades; //  owned
    size_t ntrades, trades_cap;
    struct bt_refusal *refusals; //  owned
    size_t nrefusals, refusals_cap;
    int32_t *days; //  owned
    size_t ndays, days_cap;
    int32_t day;
    int64_t day_last_minute; //  ts of the day's last minute so far
    int64_t minute;          //  ts of the minute being processed
    int64_t minutes, bars;
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
    self->ncap = 64;
    while (instr && self->ncap < 2 * kt_instr_count (instr) + 2)
        self->ncap *= 2;
    self->closes = calloc (self->ncap, sizeof *self->closes);
    if (!self->closes)
        abort ();
    return self;
}

void
bt_engine_rebind (bt_engine_t *self, strat_core_t *core, const kt_instr_table_t *instr)
{
    bt_engine_end_day (self);
    self->core = core;
    self->instr = instr;
    size_t cap = 64;
    while (cap < 2 * kt_instr_count (instr) + 2)
        cap *= 2;
    free (self->closes);
    self->ncap = cap;
    self->closes = calloc (self->ncap, sizeof *self->closes);
    if (!self->closes)
        abort ();
}

void
bt_engine_destroy (bt_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bt_engine_t *self = *self_p;
    free (self->closes);
    free (self->trades);
    free (self->refusals);
    free (self->days);
    free (self);
    *self_p = NULL;
}

static struct s_close *
s_close_slot (bt_engine_t *self, uint32_t token)
{
    size_t i = (token * 2654435761u) & (self->ncap - 1);
    while (self->closes[i].token && self->closes[i].token != token)
        i = (i + 1) & (self->ncap - 1);
    return &self->closes[i];
}

int64_t
bt_engine_last_close (const bt_engine_t *self, uint32_t token)
{
    struct s_close *c = s_close_slot ((bt_engine_t *) self, token);
    return c->token ? c->close : 0;
}

// ---- events to the strategy --------------------------------------------------------

static void
s_tell (bt_engine_t *self, strat_ev_t kind, uint32_t id, uint32_t token, int64_t qty, int64_t px)
{
    struct strat_exec ev = {kind, id, token, self->minute, qty, px};
    strat_core_exec (self->core, &ev, &self->out);
}

static void
s_entry_fill (bt_engine_t *self, int ei, int64_t px)
{
    struct s_entry *e = &self->entries[ei];
    if (self->ntrades == self->trades_cap)
        self->trades = s_grow (self->trades, &self->trades_cap, sizeof *self->trades);
    struct bt_trade *t = &self->trades[self->ntrades];
    *t = (struct bt_trade){e->o.order_id,
                           e->in,
                           e->o.qty,
                           self->minute,
                           px,
                           0,
                           0,
                           e->o.sl_price,
                           e->o.swing_low,
                           (e->o.sl_price - e->o.swing_low) * e->o.qty,
                           BT_EXIT_NONE};
    if (self->nopen < S_OPEN_MAX)
        self->open[self->nopen++] = (struct s_open){self->ntrades, self->minute + S_NS_MIN};
    self->ntrades++;
    struct strat_intent o = e->o;
    self->entries[ei] = self->entries[--self->nentries];
    s_tell (self, STRAT_EV_ENTRY_FILL, o.order_id, o.token, o.qty, px);
}

static void
s_exit (bt_engine_t *self, int oi, int64_t px, bt_exit_t reason)
{
    struct bt_trade *t = &self->trades[self->open[oi].trade];
    t->exit_ts = self->minute;
    t->exit_px = px;
    t->reason = reason;
    self->open[oi] = self->open[--self->nopen];
    s_tell (self, reason == BT_EXIT_STOP ? STRAT_EV_STOP_FILL : STRAT_EV_EXIT_FILL, t->order_id,
            t->in->token, t->qty, px);
}

// ---- step 1: fills ----------------------------------------------------------------

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
            s_entry_fill (self, i, px);
            continue; //  slot i now holds another entry
        }
        i++;
    }
    //  Stops: BUY SL at sl_price, live from the minute after the entry's fill.
    for (int i = 0; i < self->nopen;) {
        struct bt_trade *t = &self->trades[self->open[i].trade];
        const struct strat_bar *b = s_bar_of (bars, n, t->in->token);
        if (b && self->minute >= self->open[i].stop_live_from && b->high >= t->sl_price) {
            s_exit (self, i, b->open > t->sl_price ? b->open : t->sl_price, BT_EXIT_STOP);
            continue;
        }
        i++;
    }
}

// ---- step 6: intents -----------------------------------------------------------------

static int
s_entry_of (const bt_engine_t *self, uint32_t id)
{
    for (int i = 0; i < self->nentries; i++)
        if (self->entries[i].o.order_id == id)
            return i;
    return -1;
}

static void
s_refused (bt_engine_t *self, const struct strat_intent *in, const struct bt_verdict *v)
{
    if (self->nrefusals == self->refusals_cap)
        self->refusals = s_grow (self->refusals, &self->refusals_cap, sizeof *self->refusals);
    self->refusals[self->nrefusals++] = (struct bt_refusal){
        self->minute, in->kind, in->token ? kt_instr_by_token (self->instr, in->token) : NULL,
        in->qty, *v};
}

static void
s_flatten (bt_engine_t *self, bt_exit_t reason)
{
    while (self->nentries > 0) {
        uint32_t id = self->entries[self->nentries - 1].o.order_id;
        uint32_t token = self->entries[self->nentries - 1].o.token;
        self->nentries--;
        s_tell (self, STRAT_EV_CANCELLED, id, token, 0, 0);
    }
    while (self->nopen > 0) {
        struct bt_trade *t = &self->trades[self->open[self->nopen - 1].trade];
        s_exit (self, self->nopen - 1, bt_engine_last_close (self, t->in->token), reason);
    }
}

static void
s_apply (bt_engine_t *self, const struct strat_intent *in)
{
    struct bt_verdict v = {KT_VERDICT_APPROVE, in->qty, ""};
    if (self->risk)
        self->risk (self->risk_arg, self, in, &v);
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
                    self->entries[ei] = self->entries[--self->nentries];
                s_tell (self, STRAT_EV_REJECTED, in->order_id, in->token, 0, 0);
                return;
            }
            if (ei < 0) {
                if (self->nentries == S_ENTRIES_MAX) {
                    s_tell (self, STRAT_EV_REJECTED, in->order_id, in->token, 0, 0);
                    return;
                }
                ei = self->nentries++;
            }
            struct s_entry *e = &self->entries[ei];
            e->o = *in;
            e->in = instr;
            e->triggered = false; //  a MODIFY, like a PLACE, is a fresh untriggered order
            if (reduced) {
                e->o.qty = v.qty;
                s_tell (self, STRAT_EV_REDUCED, in->order_id, in->token, v.qty, 0);
            }
            return;
        }
        case STRAT_I_CANCEL:
            if (ei >= 0)
                self->entries[ei] = self->entries[--self->nentries];
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
        for (int i = 0; i < n; i++)
            s_apply (self, &batch[i]);
    }
    return self->out.overflow ? -1 : 0;
}

// ---- the day and the minute ---------------------------------------------------------

void
bt_engine_end_day (bt_engine_t *self)
{
    if (!self->day)
        return;
    int64_t saved = self->minute;
    self->minute = self->day_last_minute;
    s_flatten (self, BT_EXIT_TIME);
    s_drain (self);
    self->minute = saved;
}

int
bt_engine_minute (bt_engine_t *self, const struct strat_bar *bars, int n)
{
    if (n <= 0)
        return 0;
    int64_t m = bars[0].ts;
    int32_t day = kt_ist_yyyymmdd (m);
    if (day != self->day) {
        bt_engine_end_day (self);
        self->day = day;
        if (self->ndays == self->days_cap)
            self->days = s_grow (self->days, &self->days_cap, sizeof *self->days);
        self->days[self->ndays++] = day;
    }
    self->minute = m;
    self->day_last_minute = m;
    self->minutes++;
    self->bars += n;
    self->out.n = 0;
    s_fills (self, bars, n);
    for (int i = 0; i < n; i++) {
        struct s_close *c = s_close_slot (self, bars[i].token);
        c->token = bars[i].token;
        c->close = bars[i].close;
        strat_core_bar (self->core, &bars[i], &self->out);
    }
    if (s_drain (self) != 0)
        return -1;
    strat_core_timer (self->core, m + S_NS_MIN, &self->out);
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

const char *
bt_exit_str (bt_exit_t reason)
{
    static const char *const names[] = {"", "STOP", "TARGET_DAY", "LOSS_DAY", "TIME"};
    return (unsigned) reason < sizeof names / sizeof names[0] ? names[reason] : "?";
}
