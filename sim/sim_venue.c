/*  sim_venue - kite-sim's account at its exchange: the order book with Kite's
 *  validation and status sequence, matching through kt_fill against sim_market's
 *  quotes, trades, positions, margins, the 15:20 MIS square-off and the end of day.
 *
 *  Design overview: orders, their history rows, trades and positions live in growable
 *  arrays owned by the venue (append only, so an index never changes meaning); the
 *  live orders (OPEN / TRIGGER PENDING) are a small index list scanned on every tick
 *  of their instrument. Each instrument keeps one kt_fill_liq that is reset on its
 *  every tick, so orders placed between two ticks share the displayed depth instead of
 *  each taking all of it. Time only moves forward through sim_venue_advance; every
 *  state change is stamped with the time of the tick (or call) that caused it, so the
 *  same calls at the same times give the same book, bit for bit. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt_fill.h"
#include "kt_margin.h"
#include "sim_market.h"
#include "sim_venue.h"

#define S_DEFAULT_BALANCE 100000000LL //  Rs 10,00,000 in paise
#define S_DEFAULT_FREEZE 1800         //  NIFTY freeze quantity (units)
#define S_DEFAULT_LOT 75
#define S_DEFAULT_STRIKES 10
#define S_MAX_SLICES 10
#define S_MAX_MODIFICATIONS 25
#define S_TAG_MAX 20

struct s_order {
    struct sim_order o;         //  the order book view
    struct kt_fill_order f;     //  fill state
    int slot;                   //  market slot
    int64_t pv_sum;             //  sum of fill price x qty, for average_price
    size_t first_row, last_row; //  history (rows linked by next)
    bool live;                  //  OPEN or TRIGGER PENDING
};

struct s_row {
    struct sim_order o;
    size_t next; //  next row of the same order, SIZE_MAX = last
};

struct s_pos {
    struct sim_position p;
    int64_t open_cost; //  signed cost of the open quantity (long > 0)
    int slot;
};

struct sim_venue {
    struct sim_venue_cfg cfg; //  replay_path borrowed only during new
    sim_market_t *market;     //  owned
    int64_t now_ns;           //  time reached by advance
    int64_t squareoff_ns, close_ns;
    bool squared_off, closed;
    struct s_order *orders; //  owned
    size_t norders, cap_orders;
    struct s_row *rows; //  owned
    size_t nrows, cap_rows;
    struct sim_trade *trades; //  owned
    size_t ntrades, cap_trades;
    struct s_pos *pos; //  owned
    size_t npos, cap_pos;
    size_t *live; //  owned, indexes into orders
    size_t nlive, cap_live;
    struct kt_fill_liq *liq; //  owned, one per market slot
    uint64_t order_seq, exch_seq, trade_seq;
    bool rms_reject_next;
    char rms_message[200];
};

// ---- small helpers -------------------------------------------------------------------

static void *
s_grow (void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc (p, n * size);
    if (!q) {
        fprintf (stderr, "sim_venue: out of memory\n");
        abort ();
    }
    *cap = n;
    return q;
}

static void
s_error (const char **error_type, char *message, size_t msglen, const char *type, const char *text)
{
    if (error_type)
        *error_type = type;
    if (message && msglen)
        snprintf (message, msglen, "%s", text);
}

static int64_t
s_abs (int64_t v)
{
    return v < 0 ? -v : v;
}

static bool
s_is_stop (kt_order_type_t t)
{
    return t == KT_OT_SL || t == KT_OT_SLM;
}

static bool
s_is_market (kt_order_type_t t)
{
    return t == KT_OT_MARKET || t == KT_OT_SLM;
}

static int64_t
s_tick_of (const sim_venue_t *self, int slot)
{
    int64_t tick = sim_market_instr (self->market, slot)->tick;
    return tick > 0 ? tick : 5;
}

static void
s_new_id (sim_venue_t *self, char *buf, size_t len)
{
    //  YYMMDD + 9 digits: 15 digits, like Kite's, unique within the session.
    int32_t d = sim_market_date (self->market);
    snprintf (buf, len, "%06d%09llu", (int) (d % 1000000), (unsigned long long) ++self->order_seq);
}

// ---- construction --------------------------------------------------------------------

sim_venue_t *
sim_venue_new (const struct sim_venue_cfg *cfg, char *err, size_t errlen)
{
    sim_venue_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    self->cfg.replay_path = NULL;
    if (self->cfg.opening_balance <= 0)
        self->cfg.opening_balance = S_DEFAULT_BALANCE;
    if (self->cfg.freeze_qty <= 0)
        self->cfg.freeze_qty = S_DEFAULT_FREEZE;
    if (self->cfg.lot <= 0)
        self->cfg.lot = S_DEFAULT_LOT;
    if (self->cfg.strikes_each_side <= 0)
        self->cfg.strikes_each_side = S_DEFAULT_STRIKES;
    if (self->cfg.freeze_qty < self->cfg.lot) {
        snprintf (err, errlen, "freeze_qty %lld is below the lot size %lld",
                  (long long) self->cfg.freeze_qty, (long long) self->cfg.lot);
        goto out_fail;
    }
    struct sim_market_cfg mc = {.seed = cfg->seed,
                                .date = cfg->date,
                                .replay_path = cfg->replay_path,
                                .strikes_each_side = self->cfg.strikes_each_side,
                                .lot = self->cfg.lot};
    self->market = sim_market_new (&mc, err, errlen);
    if (!self->market)
        goto out_fail;
    self->cfg.date = sim_market_date (self->market);
    int32_t d = self->cfg.date;
    self->squareoff_ns = kt_ist_ns (d / 10000, d / 100 % 100, d % 100, 15, 20, 0);
    self->close_ns = sim_market_close_ns (self->market);
    self->liq = calloc (sim_market_count (self->market), sizeof *self->liq);
    if (!self->liq) {
        snprintf (err, errlen, "out of memory");
        goto out_fail;
    }
    return self;

out_fail:
    sim_venue_destroy (&self);
    return NULL;
}

void
sim_venue_destroy (sim_venue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_venue_t *self = *self_p;
    sim_market_destroy (&self->market);
    free (self->orders);
    free (self->rows);
    free (self->trades);
    free (self->pos);
    free (self->live);
    free (self->liq);
    free (self);
    *self_p = NULL;
}

const kt_instr_table_t *
sim_venue_instruments (const sim_venue_t *self)
{
    return sim_market_instruments (self->market);
}

int64_t
sim_venue_open_ns (const sim_venue_t *self)
{
    return sim_market_open_ns (self->market);
}

int32_t
sim_venue_date (const sim_venue_t *self)
{
    return sim_market_date (self->market);
}

int32_t
sim_venue_expiry (const sim_venue_t *self)
{
    return sim_market_expiry (self->market);
}

const struct sim_quote *
sim_venue_quote (const sim_venue_t *self, uint32_t token)
{
    int slot = sim_market_slot (self->market, token);
    return slot < 0 ? NULL : sim_market_quote (self->market, slot);
}

int
sim_venue_candles (const sim_venue_t *self, uint32_t token, int64_t from_ns, int64_t to_ns,
                   struct sim_candle *out, int max)
{
    int slot = sim_market_slot (self->market, token);
    if (slot < 0)
        return -1;
    return sim_market_candles (self->market, slot, from_ns, to_ns, out, max);
}

// ---- positions and margin ------------------------------------------------------------

static struct s_pos *
s_position (sim_venue_t *self, int slot, kt_product_t product)
{
    const struct sim_quote *q = sim_market_quote (self->market, slot);
    for (size_t i = 0; i < self->npos; i++) {
        if (self->pos[i].p.token == q->token && self->pos[i].p.product == product)
            return &self->pos[i];
    }
    self->pos = s_grow (self->pos, &self->cap_pos, self->npos + 1, sizeof *self->pos);
    struct s_pos *p = &self->pos[self->npos++];
    memset (p, 0, sizeof *p);
    p->slot = slot;
    p->p.token = q->token;
    p->p.product = product;
    snprintf (p->p.sym, sizeof p->p.sym, "%s", sim_market_instr (self->market, slot)->sym);
    return p;
}

//  Refresh the fields that depend on the last price (identities of kite-protocol 3.7).
static void
s_position_mark (struct s_pos *ps, const struct sim_quote *q)
{
    struct sim_position *p = &ps->p;
    p->last_price = q->ltp;
    p->close_price = q->c;
    int64_t value = p->sell_value - p->buy_value;
    p->pnl = value + p->qty * p->last_price;
    p->realised = value + ps->open_cost;
    p->unrealised = p->pnl - p->realised;
    //  Nothing is carried overnight in the sim (faults aside: see sim_venue_fault_position),
    //  so m2m values equal the plain values.
    p->buy_m2m = p->buy_value;
    p->sell_m2m = p->sell_value;
    p->m2m = p->sell_m2m - p->buy_m2m + p->qty * p->last_price;
    p->avg_price = p->qty ? (s_abs (ps->open_cost) + s_abs (p->qty) / 2) / s_abs (p->qty) : 0;
}

//  Apply a signed quantity at px to a position (average-cost accounting).
static void
s_position_apply (sim_venue_t *self, struct s_pos *ps, int64_t signed_qty, int64_t px)
{
    struct sim_position *p = &ps->p;
    int64_t qty = s_abs (signed_qty);
    if (signed_qty > 0) {
        p->buy_qty += qty;
        p->buy_value += qty * px;
        p->day_buy_qty += qty;
        p->day_buy_value += qty * px;
    } else {
        p->sell_qty += qty;
        p->sell_value += qty * px;
        p->day_sell_qty += qty;
        p->day_sell_value += qty * px;
    }
    int64_t open = p->qty;
    if (open == 0 || (open > 0) == (signed_qty > 0))
        ps->open_cost += signed_qty * px;
    else {
        int64_t closing = qty < s_abs (open) ? qty : s_abs (open);
        int64_t left = s_abs (open) - closing;
        ps->open_cost = (int64_t) ((__int128) ps->open_cost * left / s_abs (open));
        int64_t flip = qty - closing;
        if (flip > 0)
            ps->open_cost = (signed_qty > 0 ? flip : -flip) * px;
    }
    p->qty += signed_qty;
    s_position_mark (ps, sim_market_quote (self->market, ps->slot));
}

//  Net quantity of an instrument over both products.
static int64_t
s_net_qty (const sim_venue_t *self, int slot)
{
    uint32_t token = sim_market_quote (self->market, slot)->token;
    int64_t q = 0;
    for (size_t i = 0; i < self->npos; i++) {
        if (self->pos[i].p.token == token)
            q += self->pos[i].p.qty;
    }
    return q;
}

//  Short-option margin of qty units on the underlying's level: the pipeline's one
//  method (kt_margin), which risk-gate estimates with too.
static void
s_short_margin (const sim_venue_t *self, int64_t qty, int64_t *span, int64_t *exposure)
{
    struct kt_margin m = {0, 0};
    kt_margin_short (sim_market_spot (self->market), qty, &m);
    *span += m.span;
    *exposure += m.exposure;
}

//  The price a buy order may pay at most, for blocking its premium.
static int64_t
s_buy_price_bound (const sim_venue_t *self, const struct s_order *so)
{
    const struct kt_fill_order *f = &so->f;
    if (f->order_type == KT_OT_LIMIT || f->order_type == KT_OT_SL)
        return f->price;
    if (f->protect_px)
        return f->protect_px;
    int64_t ref =
        f->order_type == KT_OT_SLM ? f->trigger : sim_market_quote (self->market, so->slot)->ltp;
    int64_t px =
        kt_fill_protect_price (KT_SIDE_BUY, ref, f->market_protection, s_tick_of (self, so->slot));
    return px ? px : ref;
}

//  Margin an order blocks for the part of it that adds exposure given the position
//  now: buys pay premium, sells that open shorts block SPAN + exposure.
static void
s_order_margin (const sim_venue_t *self, const struct s_order *so, int64_t *span, int64_t *exposure,
                int64_t *premium)
{
    int64_t pos = s_net_qty (self, so->slot);
    int64_t left = so->f.qty - so->f.filled;
    if (so->f.side == KT_SIDE_BUY) {
        int64_t cover = pos < 0 ? -pos : 0;
        int64_t adds = left > cover ? left - cover : 0;
        *premium += adds * s_buy_price_bound (self, so);
    } else {
        int64_t sell_out = pos > 0 ? pos : 0;
        int64_t adds = left > sell_out ? left - sell_out : 0;
        s_short_margin (self, adds, span, exposure);
    }
}

void
sim_venue_margins (const sim_venue_t *self, struct sim_margins *out)
{
    memset (out, 0, sizeof *out);
    int64_t realised = 0, unrealised = 0;
    for (size_t i = 0; i < self->npos; i++) {
        const struct s_pos *ps = &self->pos[i];
        if (ps->p.qty > 0)
            out->option_premium += ps->open_cost;
        else if (ps->p.qty < 0)
            s_short_margin (self, -ps->p.qty, &out->span, &out->exposure);
        realised += ps->p.realised;
        unrealised += ps->p.unrealised;
    }
    for (size_t i = 0; i < self->nlive; i++)
        s_order_margin (self, &self->orders[self->live[i]], &out->span, &out->exposure,
                        &out->option_premium);
    //  Booked profit is usable, booked loss is a debit; open losses are debited, open
    //  profits are not usable until booked.
    out->m2m_realised = -realised;
    out->m2m_unrealised = unrealised < 0 ? -unrealised : 0;
    out->debits =
        out->span + out->exposure + out->option_premium + out->m2m_realised + out->m2m_unrealised;
    out->opening_balance = self->cfg.opening_balance;
    out->live_balance = out->opening_balance - out->debits;
    out->net = out->live_balance;
}

// ---- the order book ------------------------------------------------------------------

//  Append a history row of the order in its current state, stamped now.
static void
s_row (sim_venue_t *self, struct s_order *so, const char *status, int64_t now)
{
    snprintf (so->o.status, sizeof so->o.status, "%s", status);
    so->o.updated_ns = now;
    so->o.filled = so->f.filled;
    //  Kite's pending_quantity is unreliable once terminal (kite-protocol 4.2): we say 0.
    bool terminal = !strcmp (status, "COMPLETE") || !strcmp (status, "CANCELLED") ||
                    !strcmp (status, "REJECTED");
    so->o.pending = terminal ? 0 : so->o.qty - so->o.filled;
    so->o.avg_price = so->f.filled ? (so->pv_sum + so->f.filled / 2) / so->f.filled : 0;
    self->rows = s_grow (self->rows, &self->cap_rows, self->nrows + 1, sizeof *self->rows);
    size_t r = self->nrows++;
    self->rows[r].o = so->o;
    self->rows[r].next = SIZE_MAX;
    if (so->first_row == SIZE_MAX)
        so->first_row = r;
    else
        self->rows[so->last_row].next = r;
    so->last_row = r;
}

static void
s_live_add (sim_venue_t *self, size_t idx)
{
    self->live = s_grow (self->live, &self->cap_live, self->nlive + 1, sizeof *self->live);
    self->live[self->nlive++] = idx;
    self->orders[idx].live = true;
}

static void
s_live_remove (sim_venue_t *self, size_t idx)
{
    for (size_t i = 0; i < self->nlive; i++) {
        if (self->live[i] == idx) {
            //  Keep placement order: matching order must not depend on removals.
            memmove (&self->live[i], &self->live[i + 1],
                     (self->nlive - i - 1) * sizeof *self->live);
            self->nlive--;
            break;
        }
    }
    self->orders[idx].live = false;
}

//  The live state after placement, a trigger or a modification.
static const char *
s_working_status (const struct s_order *so)
{
    return s_is_stop (so->f.order_type) && !so->f.triggered ? "TRIGGER PENDING" : "OPEN";
}

static void
s_finish (sim_venue_t *self, size_t idx, const char *status, const char *message, int64_t now)
{
    struct s_order *so = &self->orders[idx];
    if (so->live)
        s_live_remove (self, idx);
    if (!strcmp (status, "CANCELLED"))
        so->o.cancelled = so->o.qty - so->f.filled;
    if (message)
        snprintf (so->o.status_message, sizeof so->o.status_message, "%s", message);
    s_row (self, so, status, now);
}

static void
s_record_trade (sim_venue_t *self, struct s_order *so, const struct kt_fill *fill, int64_t now)
{
    self->trades =
        s_grow (self->trades, &self->cap_trades, self->ntrades + 1, sizeof *self->trades);
    struct sim_trade *t = &self->trades[self->ntrades++];
    memset (t, 0, sizeof *t);
    snprintf (t->trade_id, sizeof t->trade_id, "%08llu",
              (unsigned long long) (50000000 + ++self->trade_seq));
    snprintf (t->order_id, sizeof t->order_id, "%s", so->o.order_id);
    snprintf (t->exchange_order_id, sizeof t->exchange_order_id, "%s", so->o.exchange_order_id);
    snprintf (t->sym, sizeof t->sym, "%s", so->o.sym);
    t->token = so->o.token;
    t->side = so->o.side;
    t->product = so->o.product;
    t->qty = fill->qty;
    t->price = fill->px;
    t->fill_ns = now;
    t->order_ns = so->o.placed_ns;
    so->pv_sum += fill->px * fill->qty;
    struct s_pos *ps = s_position (self, so->slot, so->o.product);
    s_position_apply (self, ps, so->o.side == KT_SIDE_BUY ? fill->qty : -fill->qty, fill->px);
}

//  An IOC order gives up whatever did not fill at its first chance to match.
static bool
s_ioc_due (const struct s_order *so)
{
    return so->live && !strcmp (so->o.validity, "IOC") &&
           !(s_is_stop (so->f.order_type) && !so->f.triggered);
}

//  Match one live order against the current quote of its instrument. trade_qty is the
//  quantity of the trade that made this quote (0 when matching outside a tick).
static void
s_match (sim_venue_t *self, size_t idx, int64_t trade_qty, int64_t now,
         sim_venue_order_fn *order_fn, void *arg)
{
    struct s_order *so = &self->orders[idx];
    const struct sim_quote *sq = sim_market_quote (self->market, so->slot);
    struct kt_fill_quote q = {
        .ltp = sq->ltp, .trade_qty = trade_qty, .tick = s_tick_of (self, so->slot)};
    for (int i = 0; i < KT_FILL_DEPTH && i < SIM_DEPTH; i++) {
        q.bid[i] = (struct kt_fill_level){sq->bid[i].px, sq->bid[i].qty};
        q.ask[i] = (struct kt_fill_level){sq->ask[i].px, sq->ask[i].qty};
    }
    //  Before its first tick an instrument has no book and its LTP is yesterday's close:
    //  nothing can trigger or fill on that.
    if (sq->exch_ns == 0)
        return;
    bool was_triggered = so->f.triggered;
    struct kt_fill fills[KT_FILL_MAX];
    int n = kt_fill_match (&so->f, &q, &self->liq[so->slot], fills, KT_FILL_MAX);
    bool changed = false;
    if (s_is_stop (so->f.order_type) && so->f.triggered && !was_triggered) {
        s_row (self, so, "OPEN", now);
        changed = true;
    }
    for (int i = 0; i < n; i++)
        s_record_trade (self, so, &fills[i], now);
    if (so->f.filled >= so->f.qty)
        s_finish (self, idx, "COMPLETE", NULL, now);
    else if (n > 0)
        s_row (self, so, "OPEN", now);
    if (s_ioc_due (so))
        s_finish (self, idx, "CANCELLED", NULL, now);
    if ((changed || n > 0 || !so->live) && order_fn)
        order_fn (&so->o, arg);
}

static void
s_match_slot (sim_venue_t *self, int slot, int64_t trade_qty, int64_t now,
              sim_venue_order_fn *order_fn, void *arg)
{
    //  Iterate over a snapshot: matching can finish (remove) orders.
    for (size_t i = 0; i < self->nlive;) {
        size_t idx = self->live[i];
        size_t before = self->nlive;
        if (self->orders[idx].slot == slot)
            s_match (self, idx, trade_qty, now, order_fn, arg);
        if (self->nlive == before)
            i++;
    }
}

// ---- validation ----------------------------------------------------------------------

struct s_check {
    int slot;
    int64_t tick, lot;
};

//  Price, trigger and protection rules of one order type against the current LTP.
static int
s_check_prices (const sim_venue_t *self, int slot, kt_side_t side, kt_order_type_t type,
                int64_t price, int64_t trigger, int64_t market_protection, char *msg, size_t msglen)
{
    int64_t tick = s_tick_of (self, slot);
    char tickbuf[24];
    kt_money_format_json (tick, tickbuf, sizeof tickbuf);
    if ((type == KT_OT_LIMIT || type == KT_OT_SL) && price <= 0) {
        snprintf (msg, msglen, "Invalid `price`. Price must be greater than zero for %s orders.",
                  type == KT_OT_LIMIT ? "LIMIT" : "SL");
        return -1;
    }
    if (s_is_stop (type) && trigger <= 0) {
        snprintf (msg, msglen,
                  "Invalid `trigger_price`. Trigger price must be greater than "
                  "zero for stoploss orders.");
        return -1;
    }
    if ((price > 0 && !s_is_market (type) && price % tick) ||
        (s_is_stop (type) && trigger % tick)) {
        snprintf (msg, msglen,
                  "Tick size for this script is %s. Kindly enter price in the "
                  "multiple of tick size for this script",
                  tickbuf);
        return -1;
    }
    if (type == KT_OT_SL && side == KT_SIDE_BUY && trigger > price) {
        snprintf (msg, msglen,
                  "Trigger price can't be higher than price for stoploss buy "
                  "orders.");
        return -1;
    }
    if (type == KT_OT_SL && side == KT_SIDE_SELL && trigger < price) {
        snprintf (msg, msglen,
                  "Trigger price can't be lesser than price for stoploss sell "
                  "orders.");
        return -1;
    }
    int64_t ltp = sim_market_quote (self->market, slot)->ltp;
    if (s_is_stop (type) && ltp > 0) {
        if (side == KT_SIDE_BUY && trigger < ltp) {
            snprintf (msg, msglen,
                      "Trigger price for stoploss buy orders should be higher "
                      "than the last traded price.");
            return -1;
        }
        if (side == KT_SIDE_SELL && trigger > ltp) {
            snprintf (msg, msglen,
                      "Trigger price for stoploss sell orders should be lower "
                      "than the last traded price.");
            return -1;
        }
    }
    if (s_is_market (type) && market_protection == 0) {
        snprintf (msg, msglen,
                  "Market orders without market protection are not allowed via "
                  "API. Please set market protection or use a Limit order.");
        return -1;
    }
    if (s_is_market (type) && market_protection != -1 &&
        (market_protection < 1 || market_protection > 100)) {
        snprintf (msg, msglen,
                  "Invalid `market_protection`. Use -1 for automatic or a "
                  "percentage from 1 to 100.");
        return -1;
    }
    return 0;
}

static int
s_check_qty (const sim_venue_t *self, int64_t qty, int64_t lot, bool autoslice, char *msg,
             size_t msglen)
{
    if (qty <= 0) {
        snprintf (msg, msglen, "Invalid `quantity`. Quantity must be greater than zero.");
        return -1;
    }
    if (qty % lot) {
        snprintf (msg, msglen, "Quantity should be a multiple of the lot size %lld.",
                  (long long) lot);
        return -1;
    }
    int64_t freeze = self->cfg.freeze_qty - self->cfg.freeze_qty % lot;
    if (qty > freeze && !autoslice) {
        snprintf (msg, msglen,
                  "The order quantity %lld (%lld lots) is higher than the maximum "
                  "quantity of %lld (%lld lots) allowed by the exchanges. Please reduce the "
                  "order quantity or use autoslice.",
                  (long long) qty, (long long) (qty / lot), (long long) freeze,
                  (long long) (freeze / lot));
        return -1;
    }
    if (qty > freeze * S_MAX_SLICES) {
        snprintf (msg, msglen,
                  "The order quantity %lld is more than %d slices of the freeze "
                  "quantity %lld allowed by autoslice.",
                  (long long) qty, S_MAX_SLICES, (long long) freeze);
        return -1;
    }
    return 0;
}

static int
s_validate (const sim_venue_t *self, int64_t now, const struct sim_order_req *req,
            struct s_check *chk, char *msg, size_t msglen)
{
    if (now < sim_market_open_ns (self->market) || now >= self->close_ns) {
        snprintf (msg, msglen,
                  "Markets are closed right now. Use GTT for placing long "
                  "standing orders instead.");
        return -1;
    }
    const kt_instr_table_t *tab = sim_market_instruments (self->market);
    const struct kt_instr *in = kt_instr_by_sym (tab, req->exchange, req->sym);
    if (!in) {
        snprintf (msg, msglen, "Invalid `tradingsymbol` or `exchange`: %s:%s is not listed.",
                  req->exchange, req->sym);
        return -1;
    }
    if (in->lot <= 0 || strcmp (in->exchange, "NFO") != 0) {
        snprintf (msg, msglen, "%s:%s is not tradable.", req->exchange, req->sym);
        return -1;
    }
    chk->slot = sim_market_slot (self->market, in->token);
    chk->lot = in->lot;
    chk->tick = s_tick_of (self, chk->slot);
    if (req->side != KT_SIDE_BUY && req->side != KT_SIDE_SELL) {
        snprintf (msg, msglen, "Invalid `transaction_type`.");
        return -1;
    }
    if (req->product != KT_PROD_MIS && req->product != KT_PROD_NRML) {
        snprintf (msg, msglen, "Invalid `product`. NFO options take MIS or NRML.");
        return -1;
    }
    if (req->order_type < KT_OT_MARKET || req->order_type > KT_OT_SLM) {
        snprintf (msg, msglen, "Invalid `order_type`.");
        return -1;
    }
    if (req->validity[0] && strcmp (req->validity, "DAY") && strcmp (req->validity, "IOC")) {
        snprintf (msg, msglen, "Invalid `validity` \"%s\": kite-sim takes DAY or IOC.",
                  req->validity);
        return -1;
    }
    if (strlen (req->tag) > S_TAG_MAX) {
        snprintf (msg, msglen, "Invalid `tag`. Tag length should be at most %d characters.",
                  S_TAG_MAX);
        return -1;
    }
    if (s_check_qty (self, req->qty, chk->lot, req->autoslice, msg, msglen) != 0)
        return -1;
    return s_check_prices (self, chk->slot, req->side, req->order_type, req->price, req->trigger,
                           req->market_protection, msg, msglen);
}

// ---- place / modify / cancel ---------------------------------------------------------

//  True when the margin so would block exceeds the available net; then the two amounts
//  are written as Kite prints them (rupees, two decimals) into req_s and avail_s (32
//  bytes each).
static bool
s_short_of_funds (const sim_venue_t *self, const struct s_order *so, char *req_s, char *avail_s)
{
    int64_t span = 0, exposure = 0, premium = 0;
    s_order_margin (self, so, &span, &exposure, &premium);
    int64_t required = span + exposure + premium;
    struct sim_margins m;
    sim_venue_margins (self, &m);
    if (required <= 0 || required <= m.net)
        return false;
    kt_money_format (required, req_s, 32);
    kt_money_format (m.net, avail_s, 32);
    return true;
}

//  One order through RMS to the exchange (or to REJECTED). Returns its index.
static size_t
s_place_one (sim_venue_t *self, int64_t now, const struct sim_order_req *req, int slot, int64_t qty,
             const char *parent, bool system, sim_venue_order_fn *order_fn, void *arg)
{
    self->orders =
        s_grow (self->orders, &self->cap_orders, self->norders + 1, sizeof *self->orders);
    size_t idx = self->norders++;
    struct s_order *so = &self->orders[idx];
    memset (so, 0, sizeof *so);
    so->slot = slot;
    so->first_row = so->last_row = SIZE_MAX;
    struct sim_order *o = &so->o;
    s_new_id (self, o->order_id, sizeof o->order_id);
    snprintf (o->parent_order_id, sizeof o->parent_order_id, "%s", "");
    snprintf (o->autoslice_parent, sizeof o->autoslice_parent, "%s", parent ? parent : "");
    //  Kite marks its own square-off orders so they are never taken for the user's.
    snprintf (o->placed_by, sizeof o->placed_by, "%s", system ? SIM_PLACED_BY_SQUAREOFF : "");
    snprintf (o->tag, sizeof o->tag, "%s", req->tag);
    snprintf (o->sym, sizeof o->sym, "%s", sim_market_instr (self->market, slot)->sym);
    o->token = sim_market_quote (self->market, slot)->token;
    o->side = req->side;
    o->order_type = req->order_type;
    o->product = req->product;
    snprintf (o->variety, sizeof o->variety, "regular");
    snprintf (o->validity, sizeof o->validity, "%s", req->validity[0] ? req->validity : "DAY");
    o->qty = qty;
    o->price = s_is_market (req->order_type) ? 0 : req->price;
    o->trigger = s_is_stop (req->order_type) ? req->trigger : 0;
    o->market_protection = s_is_market (req->order_type) ? req->market_protection : 0;
    o->placed_ns = now;
    so->f = (struct kt_fill_order){.side = req->side,
                                   .order_type = req->order_type,
                                   .qty = qty,
                                   .price = o->price,
                                   .trigger = o->trigger,
                                   .market_protection = o->market_protection};
    s_row (self, so, "PUT ORDER REQ RECEIVED", now);
    s_row (self, so, "VALIDATION PENDING", now);

    //  RMS: a forced reject (fault), then funds. Square-off orders only reduce risk.
    if (!system && self->rms_reject_next) {
        self->rms_reject_next = false;
        snprintf (o->status_message_raw, sizeof o->status_message_raw, "RMS:%s", self->rms_message);
        s_finish (self, idx, "REJECTED", self->rms_message, now);
        if (order_fn)
            order_fn (o, arg);
        return idx;
    }
    char req_s[32], avail_s[32];
    if (!system && s_short_of_funds (self, so, req_s, avail_s)) {
        char text[256];
        snprintf (text, sizeof text,
                  "Insufficient funds. Required margin is %s but "
                  "available margin is %s. Check the orderbook for open orders.",
                  req_s, avail_s);
        snprintf (o->status_message_raw, sizeof o->status_message_raw,
                  "RMS:Margin Exceeds,Required:%s, Available:%s for entity account-SIM "
                  "across exchange across segment across product ",
                  req_s, avail_s);
        s_finish (self, idx, "REJECTED", text, now);
        if (order_fn)
            order_fn (o, arg);
        return idx;
    }
    s_row (self, so, "OPEN PENDING", now);
    snprintf (o->exchange_order_id, sizeof o->exchange_order_id, "%llu",
              (unsigned long long) (1100000000000000ull + ++self->exch_seq));
    o->exchange_ns = now;
    s_live_add (self, idx);
    s_row (self, so, s_working_status (so), now);
    if (order_fn)
        order_fn (o, arg);
    //  An order that meets the market now fills now, against this quote's depth.
    s_match (self, idx, 0, now, order_fn, arg);
    so = &self->orders[idx];
    if (s_ioc_due (so)) {
        s_finish (self, idx, "CANCELLED", NULL, now);
        if (order_fn)
            order_fn (&so->o, arg);
    }
    return idx;
}

int
sim_venue_place (sim_venue_t *self, int64_t now_ns, const struct sim_order_req *req, char *order_id,
                 size_t idlen, struct sim_child *children, int max_children, int *nchildren,
                 const char **error_type, char *message, size_t msglen,
                 sim_venue_order_fn *order_fn, void *arg)
{
    if (nchildren)
        *nchildren = 0;
    struct s_check chk;
    char msg[512];
    if (s_validate (self, now_ns, req, &chk, msg, sizeof msg) != 0) {
        s_error (error_type, message, msglen, "InputException", msg);
        return -1;
    }
    int64_t freeze = self->cfg.freeze_qty - self->cfg.freeze_qty % chk.lot;
    if (req->qty <= freeze) {
        size_t idx =
            s_place_one (self, now_ns, req, chk.slot, req->qty, NULL, false, order_fn, arg);
        snprintf (order_id, idlen, "%s", self->orders[idx].o.order_id);
        return 0;
    }
    //  Autoslice: equal freeze-size children, the remainder last; the parent id only
    //  groups them (it is not an order of its own). Kite checks each child's margin as
    //  it slices: one short of funds comes back as an error child with no order id
    //  (autoslice_response.json), so it never reaches the book, and later (smaller)
    //  children may still pass.
    char parent[KT_BROKER_LEN];
    s_new_id (self, parent, sizeof parent);
    snprintf (order_id, idlen, "%s", parent);
    int64_t left = req->qty;
    int n = 0;
    while (left > 0) {
        int64_t q = left < freeze ? left : freeze;
        left -= q;
        struct s_order probe = {.slot = chk.slot};
        probe.f = (struct kt_fill_order){
            .side = req->side,
            .order_type = req->order_type,
            .qty = q,
            .price = s_is_market (req->order_type) ? 0 : req->price,
            .trigger = s_is_stop (req->order_type) ? req->trigger : 0,
            .market_protection = s_is_market (req->order_type) ? req->market_protection : 0};
        char req_s[32], avail_s[32];
        struct sim_child *c = children && n < max_children ? &children[n] : NULL;
        n++;
        if (c)
            memset (c, 0, sizeof *c);
        if (s_short_of_funds (self, &probe, req_s, avail_s)) {
            if (c) {
                c->error_type = "MarginException";
                snprintf (c->message, sizeof c->message,
                          "Insufficient funds. Required margin "
                          "is %s but available margin is %s.",
                          req_s, avail_s);
            }
            continue;
        }
        size_t idx = s_place_one (self, now_ns, req, chk.slot, q, parent, false, order_fn, arg);
        if (c)
            snprintf (c->order_id, sizeof c->order_id, "%s", self->orders[idx].o.order_id);
    }
    if (nchildren)
        *nchildren = n < max_children ? n : max_children;
    return 0;
}

static struct s_order *
s_find (sim_venue_t *self, const char *order_id, size_t *idx)
{
    for (size_t i = 0; i < self->norders; i++) {
        if (!strcmp (self->orders[i].o.order_id, order_id)) {
            *idx = i;
            return &self->orders[i];
        }
    }
    return NULL;
}

int
sim_venue_modify (sim_venue_t *self, int64_t now_ns, const char *order_id,
                  const struct sim_modify_req *req, const char **error_type, char *message,
                  size_t msglen, sim_venue_order_fn *order_fn, void *arg)
{
    size_t idx;
    struct s_order *so = s_find (self, order_id, &idx);
    char msg[512];
    if (!so) {
        s_error (error_type, message, msglen, "InputException", "Invalid `order_id`.");
        return -1;
    }
    if (!so->live) {
        snprintf (msg, sizeof msg, "Order cannot be modified as it is in %s state.", so->o.status);
        s_error (error_type, message, msglen, "InputException", msg);
        return -1;
    }
    if (now_ns >= self->close_ns) {
        s_error (error_type, message, msglen, "InputException",
                 "Markets are closed right now. Use GTT for placing long standing orders "
                 "instead.");
        return -1;
    }
    if (so->o.modifications >= S_MAX_MODIFICATIONS) {
        s_error (error_type, message, msglen, "InputException",
                 "Maximum allowed order modifications exceeded.");
        return -1;
    }
    kt_order_type_t type = req->has_order_type ? req->order_type : so->o.order_type;
    int64_t qty = req->has_qty ? req->qty : so->o.qty;
    int64_t price = req->has_price ? req->price : so->o.price;
    int64_t trigger = req->has_trigger ? req->trigger : so->o.trigger;
    if (type < KT_OT_MARKET || type > KT_OT_SLM) {
        s_error (error_type, message, msglen, "InputException", "Invalid `order_type`.");
        return -1;
    }
    int64_t lot = sim_market_instr (self->market, so->slot)->lot;
    if (s_check_qty (self, qty, lot, false, msg, sizeof msg) != 0) {
        s_error (error_type, message, msglen, "InputException", msg);
        return -1;
    }
    if (qty < so->f.filled) {
        s_error (error_type, message, msglen, "InputException",
                 "Quantity cannot be less than the filled quantity.");
        return -1;
    }
    //  A triggered stop is a working limit now: its trigger no longer matters.
    bool still_waiting = s_is_stop (type) && !(so->f.triggered && s_is_stop (so->o.order_type));
    int64_t check_trigger = still_waiting ? trigger : 0;
    kt_order_type_t check_type = still_waiting       ? type
                                 : type == KT_OT_SL  ? KT_OT_LIMIT
                                 : type == KT_OT_SLM ? KT_OT_MARKET
                                                     : type;
    int64_t mp = req->has_market_protection ? req->market_protection : so->o.market_protection;
    if (s_check_prices (self, so->slot, so->o.side, check_type, s_is_market (type) ? 0 : price,
                        check_trigger, mp, msg, sizeof msg) != 0) {
        s_error (error_type, message, msglen, "InputException", msg);
        return -1;
    }
    s_row (self, so, "MODIFY VALIDATION PENDING", now_ns);
    s_row (self, so, "MODIFY PENDING", now_ns);
    bool was_market = s_is_market (so->o.order_type);
    so->o.order_type = type;
    so->o.qty = qty;
    so->o.price = s_is_market (type) ? 0 : price;
    so->o.trigger = s_is_stop (type) ? trigger : 0;
    so->o.market_protection = s_is_market (type) ? mp : 0;
    so->o.modified = true;
    so->o.modifications++;
    so->f.order_type = type;
    so->f.qty = qty;
    so->f.price = so->o.price;
    so->f.trigger = so->o.trigger;
    so->f.market_protection = so->o.market_protection;
    if (!s_is_stop (type))
        so->f.triggered = false;
    if (!s_is_market (type) || !was_market)
        so->f.protect_px = 0; //  fixed again from the LTP when it next matches
    s_row (self, so, "MODIFIED", now_ns);
    if (so->f.filled >= qty) {
        s_finish (self, idx, "COMPLETE", NULL, now_ns);
        if (order_fn)
            order_fn (&so->o, arg);
        return 0;
    }
    s_row (self, so, s_working_status (so), now_ns);
    if (order_fn)
        order_fn (&so->o, arg);
    s_match (self, idx, 0, now_ns, order_fn, arg);
    return 0;
}

int
sim_venue_cancel (sim_venue_t *self, int64_t now_ns, const char *order_id, const char **error_type,
                  char *message, size_t msglen, sim_venue_order_fn *order_fn, void *arg)
{
    size_t idx;
    struct s_order *so = s_find (self, order_id, &idx);
    if (!so) {
        s_error (error_type, message, msglen, "InputException", "Invalid `order_id`.");
        return -1;
    }
    if (!so->live) {
        char msg[128];
        snprintf (msg, sizeof msg, "Order cannot be cancelled as it is in %s state.", so->o.status);
        s_error (error_type, message, msglen, "InputException", msg);
        return -1;
    }
    s_row (self, so, "CANCEL PENDING", now_ns);
    s_finish (self, idx, "CANCELLED", NULL, now_ns);
    if (order_fn)
        order_fn (&self->orders[idx].o, arg);
    return 0;
}

// ---- the session ---------------------------------------------------------------------

//  15:20: cancel pending MIS orders, then close every MIS position at market.
static void
s_square_off (sim_venue_t *self, int64_t now, sim_venue_order_fn *order_fn, void *arg)
{
    for (size_t i = 0; i < self->nlive;) {
        size_t idx = self->live[i];
        if (self->orders[idx].o.product == KT_PROD_MIS) {
            s_finish (self, idx, "CANCELLED", "Cancelled by the intraday (MIS) square-off.", now);
            if (order_fn)
                order_fn (&self->orders[idx].o, arg);
        } else
            i++;
    }
    size_t npos = self->npos; //  square-off orders do not add positions
    for (size_t i = 0; i < npos; i++) {
        struct s_pos *ps = &self->pos[i];
        if (ps->p.product != KT_PROD_MIS || ps->p.qty == 0)
            continue;
        int slot = ps->slot;
        int64_t left = s_abs (ps->p.qty);
        struct sim_order_req req = {.side = ps->p.qty > 0 ? KT_SIDE_SELL : KT_SIDE_BUY,
                                    .order_type = KT_OT_MARKET,
                                    .product = KT_PROD_MIS,
                                    .market_protection = -1,
                                    .validity = "DAY"};
        int64_t lot = sim_market_instr (self->market, slot)->lot;
        int64_t freeze = self->cfg.freeze_qty - self->cfg.freeze_qty % lot;
        while (left > 0) {
            int64_t q = left < freeze ? left : freeze;
            s_place_one (self, now, &req, slot, q, NULL, true, order_fn, arg);
            left -= q;
            ps = &self->pos[i];
        }
    }
}

//  15:30: every order still working expires.
static void
s_close (sim_venue_t *self, int64_t now, sim_venue_order_fn *order_fn, void *arg)
{
    while (self->nlive > 0) {
        size_t idx = self->live[0];
        s_finish (self, idx, "CANCELLED", "Order expired at the end of the trading day.", now);
        if (order_fn)
            order_fn (&self->orders[idx].o, arg);
    }
}

int64_t
sim_venue_advance (sim_venue_t *self, int64_t now_ns, sim_venue_tick_fn *tick_fn,
                   sim_venue_order_fn *order_fn, void *arg)
{
    int64_t ticks = 0;
    for (;;) {
        int64_t next = sim_market_next_ns (self->market);
        if (!self->squared_off && self->squareoff_ns <= now_ns && self->squareoff_ns <= next) {
            self->squared_off = true;
            s_square_off (self, self->squareoff_ns, order_fn, arg);
            continue;
        }
        if (!self->closed && self->close_ns <= now_ns && self->close_ns <= next) {
            self->closed = true;
            s_close (self, self->close_ns, order_fn, arg);
            continue;
        }
        if (next > now_ns)
            break;
        int64_t trade_qty = 0;
        int slot = sim_market_step (self->market, &trade_qty);
        if (slot < 0)
            break;
        ticks++;
        kt_fill_liq_reset (&self->liq[slot]);
        const struct sim_quote *q = sim_market_quote (self->market, slot);
        self->now_ns = q->exch_ns;
        for (size_t i = 0; i < self->npos; i++) {
            if (self->pos[i].slot == slot)
                s_position_mark (&self->pos[i], q);
        }
        if (tick_fn)
            tick_fn (q, arg);
        s_match_slot (self, slot, trade_qty, q->exch_ns, order_fn, arg);
    }
    if (now_ns > self->now_ns)
        self->now_ns = now_ns;
    return ticks;
}

// ---- reads ---------------------------------------------------------------------------

size_t
sim_venue_order_count (const sim_venue_t *self)
{
    return self->norders;
}

const struct sim_order *
sim_venue_order_at (const sim_venue_t *self, size_t i)
{
    return i < self->norders ? &self->orders[i].o : NULL;
}

const struct sim_order *
sim_venue_order_get (const sim_venue_t *self, const char *order_id)
{
    for (size_t i = 0; i < self->norders; i++) {
        if (!strcmp (self->orders[i].o.order_id, order_id))
            return &self->orders[i].o;
    }
    return NULL;
}

int
sim_venue_order_history (const sim_venue_t *self, const char *order_id,
                         const struct sim_order **rows, int max)
{
    for (size_t i = 0; i < self->norders; i++) {
        if (strcmp (self->orders[i].o.order_id, order_id) != 0)
            continue;
        int n = 0;
        for (size_t r = self->orders[i].first_row; r != SIZE_MAX && n < max; r = self->rows[r].next)
            rows[n++] = &self->rows[r].o;
        return n;
    }
    return -1;
}

size_t
sim_venue_trade_count (const sim_venue_t *self)
{
    return self->ntrades;
}

const struct sim_trade *
sim_venue_trade_at (const sim_venue_t *self, size_t i)
{
    return i < self->ntrades ? &self->trades[i] : NULL;
}

size_t
sim_venue_position_count (const sim_venue_t *self)
{
    return self->npos;
}

const struct sim_position *
sim_venue_position_at (const sim_venue_t *self, size_t i)
{
    return i < self->npos ? &self->pos[i].p : NULL;
}

// ---- faults --------------------------------------------------------------------------

int
sim_venue_fault_position (sim_venue_t *self, const char *sym, int64_t qty_delta)
{
    const struct kt_instr *in = kt_instr_by_sym (sim_market_instruments (self->market), NULL, sym);
    if (!in || in->lot <= 0 || qty_delta == 0)
        return -1;
    int slot = sim_market_slot (self->market, in->token);
    kt_product_t product = KT_PROD_NRML;
    for (size_t i = 0; i < self->npos; i++) {
        if (self->pos[i].p.token == in->token) {
            product = self->pos[i].p.product;
            break;
        }
    }
    //  As if someone traded in another terminal at the LTP: the position moves with
    //  its values (so the identities hold), but no order or trade of ours exists.
    const struct sim_quote *q = sim_market_quote (self->market, slot);
    int64_t px = q->ltp > 0 ? q->ltp : q->c;
    s_position_apply (self, s_position (self, slot, product), qty_delta, px);
    return 0;
}

void
sim_venue_fault_rms_reject (sim_venue_t *self, const char *message)
{
    self->rms_reject_next = true;
    snprintf (self->rms_message, sizeof self->rms_message, "%s",
              message && *message ? message : "RMS rejection (fault injected by kite-sim).");
}
