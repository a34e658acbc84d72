/*  strat_base - baseline_v1: sell NIFTY weekly options on a break of a swing low, with
 *  continuous filtering (../shared/docs/strategy-baseline-v1.md; the minute-level rules
 *  are those of backtest-bars.md, written down in docs/strategy.md).
 *
 *  Design overview: one slot per instrument of the day's universe (ATM +/- n strikes of
 *  the nearest expiry, chosen at the index's first bar of the day), each holding a ring
 *  of its last bars (low, high, cumulative VWAP sums), its latest close and its one
 *  candidate swing. Every bar updates its slot in O(k); every minute close (on_timer)
 *  computes cumulative R over the open positions and evaluates the candidates of both
 *  option types. Nothing is allocated after init; prices and ratios stay integers
 *  (cross-multiplied in 128 bits), R multiples are exact rationals (strat_rmul). */

#include "strat_base.h"

#include <stdio.h>
#include <string.h>

#define S_RING 32 //  >= 2 x swing_k + 1 (swing_k <= 10)
//  Positions tracked: more than strategy.max_open (<= 50) plus the two whose entry may
//  still be pending after their stop took everything back.
#define S_POS_MAX 64
#define S_NS_MIN (60LL * 1000000000LL)
#define S_NS_DAY (1440LL * S_NS_MIN)

struct s_rbar {
    int64_t ts, low, high;
    __int128 vw_sum; //  sum (h + l + c) x volume over the day so far
    int64_t vw_vol;  //  sum volume over the day so far
};

struct s_cand {
    bool valid;
    int64_t low, ts, high;
    __int128 vw_sum; //  VWAP sums at the swing bar (inclusive)
    int64_t vw_vol;
};

struct s_slot {
    const struct kt_instr *in; //  borrowed from the instruments table
    int t;                     //  0 CE, 1 PE
    int64_t nbars;             //  bars today
    struct s_rbar ring[S_RING];
    __int128 vw_sum;
    int64_t vw_vol;
    int64_t close; //  latest close, 0 before the first bar
    struct s_cand cand;
};

struct s_pending {
    uint32_t id; //  0 = none
    int slot;
    int64_t trigger, price, qty, sl_price, swing_low;
    int64_t filled; //  units filled so far (tick mode fills in parts)
};

//  A position of one entry order. Entries and exits may come in parts (tick mode):
//  values are sums of px x qty, so P&L stays exact without average prices.
struct s_pos {
    uint32_t id;
    int slot;
    int64_t r_unit;               //  sl_price - swing low of the order that filled
    int64_t entered, entry_value; //  units sold, sum of px x qty
    int64_t exited, exit_value;   //  units bought back, sum of px x qty
};

struct s_best {
    int slot;
    int64_t low, sl_price, sl_points, qty;
};

typedef struct {
    const struct strat_params *p;  //  borrowed
    const kt_instr_table_t *instr; //  borrowed
    int min_start, min_cutoff, min_flatten;
    int max_slots;
    //  the day
    int32_t day;
    int64_t day_ns; //  IST midnight of the day
    bool universe_set, flattened, r_overflow;
    int64_t atm;
    int32_t expiry;
    int nslots;
    struct s_pending pending[2];
    struct s_pos pos[S_POS_MAX];
    int npos;
    struct strat_rmul realised;
    uint32_t next_id; //  increases across days: ids stay unique in a run
    struct s_slot slots[];
} s_self_t;

static size_t
s_size (const struct strat_params *p)
{
    return sizeof (s_self_t) + (size_t) (2 * p->strikes_each_side + 1) * 2 * sizeof (struct s_slot);
}

static int
s_init (void *state, const struct strat_params *p, const kt_instr_table_t *instr, char *err,
        size_t errlen)
{
    s_self_t *self = state;
    self->p = p;
    self->instr = instr;
    self->max_slots = (int) (2 * p->strikes_each_side + 1) * 2;
    self->min_start = strat_hhmm_minutes (p->day_start);
    self->min_cutoff = strat_hhmm_minutes (p->entry_cutoff);
    self->min_flatten = strat_hhmm_minutes (p->flatten_at);
    if (self->min_start < 0 || self->min_cutoff < 0 || self->min_flatten < 0) {
        snprintf (err, errlen, "strategy: day_start, entry_cutoff and flatten_at must be HH:MM");
        return -1;
    }
    if (p->swing_k < 1 || 2 * p->swing_k + 1 > S_RING) {
        snprintf (err, errlen, "strategy.swing_k: must be 1..%d", (S_RING - 1) / 2);
        return -1;
    }
    if (p->strike_step <= 0 || p->swing_min > p->swing_max ||
        p->sl_pct_min_bps > p->sl_pct_max_bps) {
        snprintf (err, errlen,
                  "strategy: strike_step > 0, swing_min <= swing_max and "
                  "sl_pct_min <= sl_pct_max are required");
        return -1;
    }
    if (!kt_instr_by_token (instr, (uint32_t) p->index_token)) {
        snprintf (err, errlen, "strategy.index_token: %lld is not in the instruments",
                  (long long) p->index_token);
        return -1;
    }
    self->realised = strat_rmul_make (0, 1);
    return 0;
}

// ---- the day ---------------------------------------------------------------------

static void
s_new_day (s_self_t *self, int64_t ts)
{
    self->day = kt_ist_yyyymmdd (ts);
    self->day_ns = kt_ist_day_start (ts);
    self->universe_set = self->flattened = self->r_overflow = false;
    self->atm = 0;
    self->expiry = 0;
    self->nslots = 0;
    memset (self->pending, 0, sizeof self->pending);
    self->npos = 0;
    self->realised = strat_rmul_make (0, 1);
}

//  ATM from the index's first open (half up); the options of the nearest expiry on or
//  after the day with strike within ATM +/- n steps, in the instruments' order.
static void
s_set_universe (s_self_t *self, int64_t index_open)
{
    const struct strat_params *p = self->p;
    self->universe_set = true;
    self->atm = (index_open + p->strike_step / 2) / p->strike_step * p->strike_step;
    self->expiry = kt_instr_nearest_expiry (self->instr, p->underlying, self->day);
    if (!self->expiry)
        return;
    int64_t lo = self->atm - p->strikes_each_side * p->strike_step;
    int64_t hi = self->atm + p->strikes_each_side * p->strike_step;
    size_t n = kt_instr_count (self->instr);
    for (size_t i = 0; i < n && self->nslots < self->max_slots; i++) {
        const struct kt_instr *in = kt_instr_at (self->instr, i);
        if ((in->itype != KT_ITYPE_CE && in->itype != KT_ITYPE_PE) || in->expiry != self->expiry ||
            in->strike < lo || in->strike > hi || in->tick <= 0 || in->lot <= 0)
            continue;
        if (kt_instr_option (self->instr, p->underlying, in->expiry, in->strike, in->itype) != in)
            continue;
        struct s_slot *s = &self->slots[self->nslots++];
        memset (s, 0, sizeof *s);
        s->in = in;
        s->t = in->itype == KT_ITYPE_CE ? 0 : 1;
    }
}

static int
s_slot_of (const s_self_t *self, uint32_t token)
{
    for (int i = 0; i < self->nslots; i++)
        if (self->slots[i].in->token == token)
            return i;
    return -1;
}

// ---- bars: VWAP, swings, broken candidates ----------------------------------------

static void
s_on_bar (void *state, const struct strat_bar *bar, struct strat_out *out)
{
    (void) out;
    s_self_t *self = state;
    if (bar->ts < self->day_ns || bar->ts >= self->day_ns + S_NS_DAY)
        s_new_day (self, bar->ts);
    if ((bar->ts - self->day_ns) / S_NS_MIN < self->min_start)
        return; //  pre-open rows are not part of the trading day
    if (!self->universe_set) {
        if (bar->token == (uint32_t) self->p->index_token)
            s_set_universe (self, bar->open);
        return;
    }
    int si = s_slot_of (self, bar->token);
    if (si < 0)
        return;
    struct s_slot *s = &self->slots[si];
    s->vw_sum += (__int128) (bar->high + bar->low + bar->close) * bar->volume;
    s->vw_vol += bar->volume;
    s->close = bar->close;
    struct s_rbar *r = &s->ring[s->nbars % S_RING];
    *r = (struct s_rbar){bar->ts, bar->low, bar->high, s->vw_sum, s->vw_vol};
    s->nbars++;
    if (s->cand.valid && bar->high > s->cand.high)
        s->cand.high = bar->high;

    //  Bar nbars-1-k is a swing low when strictly below the k bars on each side.
    int64_t k = self->p->swing_k;
    if (s->nbars >= 2 * k + 1) {
        int64_t c = s->nbars - 1 - k;
        const struct s_rbar *cb = &s->ring[c % S_RING];
        bool swing = true;
        int64_t high = cb->high;
        for (int64_t j = c - k; j <= c + k && swing; j++) {
            const struct s_rbar *o = &s->ring[j % S_RING];
            if (j != c && o->low <= cb->low)
                swing = false;
            if (j > c && o->high > high)
                high = o->high;
        }
        if (swing && cb->low >= self->p->swing_min && cb->low <= self->p->swing_max)
            s->cand = (struct s_cand){true, cb->low, cb->ts, high, cb->vw_sum, cb->vw_vol};
    }
    if (s->cand.valid && bar->low < s->cand.low)
        s->cand.valid = false; //  broken: traded below without our entry filling
}

// ---- executions ------------------------------------------------------------------

static int
s_pending_of (const s_self_t *self, uint32_t id)
{
    for (int t = 0; t < 2; t++)
        if (id && self->pending[t].id == id)
            return t;
    return -1;
}

static struct s_pos *
s_pos_of (s_self_t *self, uint32_t id)
{
    for (int i = 0; i < self->npos; i++)
        if (self->pos[i].id == id)
            return &self->pos[i];
    return NULL;
}

//  Open positions of each option type (units still held).
static int
s_open_count (const s_self_t *self, int open[2])
{
    int n = 0;
    open[0] = open[1] = 0;
    for (int i = 0; i < self->npos; i++) {
        if (self->pos[i].entered > self->pos[i].exited) {
            open[self->slots[self->pos[i].slot].t]++;
            n++;
        }
    }
    return n;
}

static void
s_on_exec (void *state, const struct strat_exec *ev, struct strat_out *out)
{
    (void) out;
    s_self_t *self = state;
    int t = s_pending_of (self, ev->order_id);
    switch (ev->kind) {
        case STRAT_EV_ENTRY_FILL: {
            if (t < 0 || ev->qty <= 0)
                return;
            struct s_pending *pe = &self->pending[t];
            struct s_slot *s = &self->slots[pe->slot];
            struct s_pos *ps = s_pos_of (self, pe->id);
            if (!ps && self->npos < S_POS_MAX) {
                ps = &self->pos[self->npos++];
                *ps = (struct s_pos){pe->id, pe->slot, pe->sl_price - pe->swing_low, 0, 0, 0, 0};
            }
            if (ps) {
                ps->entered += ev->qty;
                ps->entry_value += ev->px * ev->qty;
            }
            if (s->cand.valid && s->cand.low == pe->swing_low)
                s->cand.valid = false; //  consumed by our fill
            pe->filled += ev->qty;
            if (pe->filled >= pe->qty)
                memset (pe, 0, sizeof *pe);
            return;
        }
        case STRAT_EV_STOP_FILL:
        case STRAT_EV_EXIT_FILL: {
            struct s_pos *ps = s_pos_of (self, ev->order_id);
            if (!ps || ev->qty <= 0)
                return;
            ps->exited += ev->qty;
            ps->exit_value += ev->px * ev->qty;
            if (ps->exited < ps->entered || s_pending_of (self, ps->id) >= 0)
                return;
            //  Closed: its R multiple is realised.
            bool ok = true;
            struct strat_rmul r =
                strat_rmul_make (ps->entry_value - ps->exit_value, ps->r_unit * ps->entered);
            self->realised = strat_rmul_add (self->realised, r, &ok);
            if (!ok)
                self->r_overflow = true;
            *ps = self->pos[--self->npos];
            return;
        }
        case STRAT_EV_CANCELLED:
        case STRAT_EV_REJECTED:
            if (t >= 0)
                memset (&self->pending[t], 0, sizeof self->pending[t]);
            return;
        case STRAT_EV_REDUCED:
            if (t >= 0 && ev->qty > 0)
                self->pending[t].qty = ev->qty;
            return;
        default:
            return;
    }
}

// ---- minute close: day exits, then entries ------------------------------------------

struct strat_rmul
strat_base_cum_r (const void *state, bool *ok)
{
    const s_self_t *self = state;
    struct strat_rmul cum = self->realised;
    if (self->r_overflow)
        *ok = false;
    for (int i = 0; i < self->npos; i++) {
        const struct s_pos *ps = &self->pos[i];
        if (ps->entered <= 0)
            continue;
        int64_t close = self->slots[ps->slot].close;
        int64_t pnl = ps->entry_value - ps->exit_value - close * (ps->entered - ps->exited);
        cum = strat_rmul_add (cum, strat_rmul_make (pnl, ps->r_unit * ps->entered), ok);
    }
    return cum;
}

static void
s_intent (s_self_t *self, struct strat_out *out, strat_ikind_t kind, strat_why_t why, int t,
          const struct s_pending *pe, int64_t now)
{
    struct strat_intent *in = strat_out_push (out);
    if (!in)
        return;
    in->kind = kind;
    in->why = why;
    in->ts = now;
    if (!pe)
        return;
    const struct s_slot *s = &self->slots[pe->slot];
    in->order_id = pe->id;
    in->token = s->in->token;
    in->itype = t == 0 ? KT_ITYPE_CE : KT_ITYPE_PE;
    in->side = KT_SIDE_SELL;
    in->order_type = KT_OT_SL;
    in->qty = pe->qty;
    in->trigger = pe->trigger;
    in->price = pe->price;
    in->sl_price = pe->sl_price;
    in->stop_price = pe->sl_price + self->p->stop_buffer_ticks * s->in->tick;
    in->swing_low = pe->swing_low;
    in->r_value = (pe->sl_price - pe->swing_low) * pe->qty;
}

static void
s_cancel (s_self_t *self, struct strat_out *out, int t, strat_why_t why, int64_t now)
{
    if (!self->pending[t].id)
        return;
    s_intent (self, out, STRAT_I_CANCEL, why, t, &self->pending[t], now);
    memset (&self->pending[t], 0, sizeof self->pending[t]);
}

//  Dynamic filters and sizing of a slot's candidate. True when it qualifies.
static bool
s_qualify (const s_self_t *self, const struct s_slot *s, struct s_best *b)
{
    const struct strat_params *p = self->p;
    const struct s_cand *c = &s->cand;
    if (!c->valid || c->vw_vol <= 0 || c->vw_sum <= 0)
        return false; //  VWAP undefined while the day's volume is 0
    //  (low - vwap) / vwap >= bps / 10000 with vwap = sum / (3 x vol)
    __int128 lhs = (__int128) 10000 * ((__int128) 3 * c->vw_vol * c->low - c->vw_sum);
    if (lhs < (__int128) p->vwap_premium_bps * c->vw_sum)
        return false;
    int64_t sl_price = c->high + p->sl_buffer;
    int64_t pts = sl_price - c->low;
    if (pts <= 0)
        return false;
    if ((__int128) 10000 * pts < (__int128) p->sl_pct_min_bps * c->low ||
        (__int128) 10000 * pts > (__int128) p->sl_pct_max_bps * c->low)
        return false;
    int64_t lots = p->r_value / (pts * s->in->lot);
    if (lots > p->max_lots)
        lots = p->max_lots;
    if (lots < 1)
        return false;
    *b = (struct s_best){-1, c->low, sl_price, pts, lots * s->in->lot};
    return true;
}

//  Best of type t: smallest |sl_points - target|, then higher swing low, then lower token.
static bool
s_best (const s_self_t *self, int t, struct s_best *best)
{
    bool found = false;
    int64_t best_dist = 0;
    for (int i = 0; i < self->nslots; i++) {
        const struct s_slot *s = &self->slots[i];
        struct s_best b = {0};
        if (s->t != t || !s_qualify (self, s, &b))
            continue;
        int64_t dist = b.sl_points - self->p->target_sl_points;
        if (dist < 0)
            dist = -dist;
        bool better = !found || dist < best_dist ||
                      (dist == best_dist &&
                       (b.low > best->low ||
                        (b.low == best->low && s->in->token < self->slots[best->slot].in->token)));
        if (better) {
            *best = b;
            best->slot = i;
            best_dist = dist;
            found = true;
        }
    }
    return found;
}

static void
s_entries (s_self_t *self, int64_t now, struct strat_out *out)
{
    int open[2];
    int nopen = s_open_count (self, open);
    for (int t = 0; t < 2; t++) {
        int64_t other = self->pending[1 - t].id ? 1 : 0;
        if (nopen + other >= self->p->max_open || open[t] >= self->p->max_per_type) {
            s_cancel (self, out, t, STRAT_WHY_LIMIT, now);
            continue;
        }
        struct s_best b = {0};
        if (!s_best (self, t, &b)) {
            s_cancel (self, out, t, STRAT_WHY_NO_CANDIDATE, now);
            continue;
        }
        const struct kt_instr *in = self->slots[b.slot].in;
        struct s_pending want = {0,
                                 b.slot,
                                 b.low - in->tick,
                                 b.low - in->tick - self->p->entry_buffer_ticks * in->tick,
                                 b.qty,
                                 b.sl_price,
                                 b.low,
                                 0};
        struct s_pending *pe = &self->pending[t];
        if (pe->id && pe->slot == b.slot) {
            if (pe->trigger == want.trigger && pe->qty == want.qty)
                continue; //  keep: same instrument, trigger and size
            want.id = pe->id;
            want.filled = pe->filled;
            *pe = want;
            s_intent (self, out, STRAT_I_MODIFY, STRAT_WHY_BEST, t, pe, now);
            continue;
        }
        if (pe->id)
            s_cancel (self, out, t, STRAT_WHY_REPLACED, now);
        want.id = ++self->next_id;
        *pe = want;
        s_intent (self, out, STRAT_I_PLACE, STRAT_WHY_BEST, t, pe, now);
    }
}

static void
s_on_timer (void *state, int64_t now, struct strat_out *out)
{
    s_self_t *self = state;
    if (!self->universe_set || self->flattened || now <= self->day_ns)
        return;
    int64_t min = (now - self->day_ns) / S_NS_MIN;
    bool ok = true;
    struct strat_rmul cum = strat_base_cum_r (self, &ok);
    strat_why_t why = STRAT_WHY_NONE;
    if (ok && strat_rmul_cmp_int (cum, self->p->day_target_r) >= 0)
        why = STRAT_WHY_TARGET_DAY;
    else if (ok && strat_rmul_cmp_int (cum, -self->p->day_loss_r) <= 0)
        why = STRAT_WHY_LOSS_DAY;
    else if (min >= self->min_flatten)
        why = STRAT_WHY_TIME;
    if (why != STRAT_WHY_NONE) {
        s_intent (self, out, STRAT_I_FLATTEN, why, 0, NULL, now);
        memset (self->pending, 0, sizeof self->pending);
        self->flattened = true;
        return;
    }
    if (min >= self->min_cutoff || !ok) {
        //  No entries at or after the cut-off, nor once R cannot be tracked exactly.
        s_cancel (self, out, 0, STRAT_WHY_CUTOFF, now);
        s_cancel (self, out, 1, STRAT_WHY_CUTOFF, now);
        return;
    }
    s_entries (self, now, out);
}

// ---- view ------------------------------------------------------------------------

void
strat_base_view (const void *state, struct strat_base_view *out)
{
    const s_self_t *self = state;
    memset (out, 0, sizeof *out);
    out->day = self->day;
    out->atm = self->atm;
    out->expiry = self->expiry;
    out->universe = self->nslots;
    s_open_count (self, out->open);
    out->pending[0] = self->pending[0].id;
    out->pending[1] = self->pending[1].id;
    out->flattened = self->flattened;
    out->realised = self->realised;
}

void
strat_base_cand (const void *state, uint32_t token, struct strat_base_cand *out)
{
    const s_self_t *self = state;
    memset (out, 0, sizeof *out);
    int si = s_slot_of (self, token);
    if (si < 0 || !self->slots[si].cand.valid)
        return;
    const struct s_cand *c = &self->slots[si].cand;
    *out = (struct strat_base_cand){true, c->low, c->ts, c->high};
}

const struct strat_algo strat_base_algo = {
    .name = "baseline_v1",
    .size = s_size,
    .init = s_init,
    .on_bar = s_on_bar,
    .on_tick = NULL,
    .on_exec = s_on_exec,
    .on_timer = s_on_timer,
};
