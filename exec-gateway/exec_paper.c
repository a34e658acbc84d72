/*  exec_paper - the paper broker: Kite's order entry, filled by the shared fill model.
 *
 *  The same code as live drives it: exec.c calls these instead of the REST requests
 *  and reads the same rows, trades and reply classes back, so the rest of the system
 *  cannot tell. Matching is common/kt_fill (the rules kite-sim uses): a quote made from
 *  an `md` tick has the best level only, so an order larger than the touch rests with
 *  the remainder, as it would against a thin book. */

#include "exec_kite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_QUOTES 256

struct s_porder {
    char order_id[KT_BROKER_LEN];
    char tag[KT_ID_LEN];
    char sym[KT_SYM_LEN];
    char status[24];
    char message[KT_TEXT_LEN];
    char ts[24];
    kt_product_t product;
    struct kt_fill_order f;
    int64_t value; //  paise x units of the fills
};

struct s_ptrade {
    char trade_id[KT_BROKER_LEN];
    int order; //  index into orders
    int64_t qty, px;
    char ts[24];
};

struct s_pquote {
    char sym[KT_SYM_LEN];
    struct kt_fill_quote q;
    struct kt_fill_liq liq;
    int64_t volume; //  day volume of the last tick
};

struct exec_paper {
    int64_t slip;
    struct s_porder orders[EXEC_PAPER_ORDERS];
    int norders;
    struct s_ptrade trades[EXEC_PAPER_TRADES];
    int ntrades;
    struct s_pquote quotes[S_QUOTES];
    int nquotes;
    int64_t seq;
};

exec_paper_t *
exec_paper_new (int64_t slippage_ticks)
{
    exec_paper_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->slip = slippage_ticks > 0 ? slippage_ticks : 0;
    return self;
}

void
exec_paper_destroy (exec_paper_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_ts (int64_t now_ns, char *buf, size_t cap)
{
    int y, mo, d, hh, mi, ss;
    kt_ist_fields (now_ns, &y, &mo, &d, &hh, &mi, &ss, NULL);
    unsigned v[6] = {(unsigned) y % 10000u, (unsigned) mo % 100u, (unsigned) d % 100u,
                     (unsigned) hh % 100u,  (unsigned) mi % 100u, (unsigned) ss % 100u};
    snprintf (buf, cap, "%04u-%02u-%02u %02u:%02u:%02u", v[0], v[1], v[2], v[3], v[4], v[5]);
}

static void
s_refuse (struct exec_kite_reply *out, const char *type, const char *msg)
{
    memset (out, 0, sizeof *out);
    out->cls = EXEC_KITE_FINAL;
    out->status = 400;
    snprintf (out->error_type, sizeof out->error_type, "%s", type);
    snprintf (out->message, sizeof out->message, "%s", msg);
}

static struct s_pquote *
s_quote (exec_paper_t *self, const char *sym, bool make)
{
    for (int i = 0; i < self->nquotes; i++)
        if (strcmp (self->quotes[i].sym, sym) == 0)
            return &self->quotes[i];
    if (!make || self->nquotes == S_QUOTES)
        return NULL;
    struct s_pquote *q = &self->quotes[self->nquotes++];
    memset (q, 0, sizeof *q);
    snprintf (q->sym, sizeof q->sym, "%s", sym);
    return q;
}

static bool
s_live (const struct s_porder *o)
{
    return strcmp (o->status, "OPEN") == 0 || strcmp (o->status, "TRIGGER PENDING") == 0;
}

//  Match o against quote pq; record trades. Returns true when something changed.
static bool
s_match (exec_paper_t *self, int idx, struct s_pquote *pq, int64_t now_ns)
{
    struct s_porder *o = &self->orders[idx];
    if (!s_live (o) || pq->q.tick <= 0)
        return false;
    bool was_triggered = o->f.triggered;
    struct kt_fill fills[KT_FILL_MAX];
    int n = kt_fill_match (&o->f, &pq->q, &pq->liq, fills, KT_FILL_MAX);
    bool changed = n > 0 || o->f.triggered != was_triggered;
    if (o->f.triggered && strcmp (o->status, "TRIGGER PENDING") == 0)
        snprintf (o->status, sizeof o->status, "OPEN");
    for (int i = 0; i < n; i++) {
        int64_t px = fills[i].px;
        //  Slippage: against the order, never below one tick.
        if (self->slip) {
            px += (o->f.side == KT_SIDE_BUY ? 1 : -1) * self->slip * pq->q.tick;
            if (px < pq->q.tick)
                px = pq->q.tick;
        }
        o->value += px * fills[i].qty;
        if (self->ntrades < EXEC_PAPER_TRADES) {
            struct s_ptrade *t = &self->trades[self->ntrades++];
            snprintf (t->trade_id, sizeof t->trade_id, "%08lld", (long long) ++self->seq);
            t->order = idx;
            t->qty = fills[i].qty;
            t->px = px;
            s_ts (now_ns, t->ts, sizeof t->ts);
        }
    }
    if (o->f.filled >= o->f.qty)
        snprintf (o->status, sizeof o->status, "COMPLETE");
    if (changed)
        s_ts (now_ns, o->ts, sizeof o->ts);
    return changed;
}

//  Kite's synchronous checks that matter for our orders.
static const char *
s_check (const struct exec_kite_order *o, const struct s_pquote *pq)
{
    if (o->qty <= 0)
        return "Quantity should be greater than zero.";
    bool priced = o->type == KT_OT_LIMIT || o->type == KT_OT_SL;
    bool stop = o->type == KT_OT_SL || o->type == KT_OT_SLM;
    if (priced && o->price <= 0)
        return "Price should be greater than zero.";
    if (stop && o->trigger <= 0)
        return "Trigger price should be greater than zero.";
    if ((o->type == KT_OT_MARKET || o->type == KT_OT_SLM) &&
        (o->market_protection == 0 || o->market_protection < -1 || o->market_protection > 100))
        return "Market protection should be -1 or between 1 and 100.";
    if (stop && pq && pq->q.ltp > 0) {
        if (o->side == KT_SIDE_BUY && o->trigger < pq->q.ltp)
            return "Trigger price for stoploss buy orders should be higher than the last traded "
                   "price.";
        if (o->side == KT_SIDE_SELL && o->trigger > pq->q.ltp)
            return "Trigger price for stoploss sell orders should be lower than the last traded "
                   "price.";
    }
    return NULL;
}

static struct s_porder *
s_find (exec_paper_t *self, const char *order_id, int *idx)
{
    for (int i = 0; i < self->norders; i++)
        if (strcmp (self->orders[i].order_id, order_id) == 0) {
            if (idx)
                *idx = i;
            return &self->orders[i];
        }
    return NULL;
}

static void
s_ok (struct exec_kite_reply *out, const char *order_id)
{
    memset (out, 0, sizeof *out);
    out->cls = EXEC_KITE_OK;
    out->status = 200;
    snprintf (out->order_id, sizeof out->order_id, "%s", order_id);
}

void
exec_paper_place (exec_paper_t *self, const struct exec_kite_order *o, int64_t now_ns,
                  struct exec_kite_reply *out)
{
    struct s_pquote *pq = s_quote (self, o->sym, false);
    const char *bad = s_check (o, pq);
    if (bad)
        return s_refuse (out, "InputException", bad);
    if (self->norders == EXEC_PAPER_ORDERS)
        return s_refuse (out, "OrderException", "Paper order book is full for the day.");
    int idx = self->norders++;
    struct s_porder *p = &self->orders[idx];
    memset (p, 0, sizeof *p);
    int y, mo, d;
    kt_ist_fields (now_ns, &y, &mo, &d, NULL, NULL, NULL, NULL);
    snprintf (p->order_id, sizeof p->order_id, "%02u%02u%02u%09lld", (unsigned) y % 100u,
              (unsigned) mo % 100u, (unsigned) d % 100u, (long long) (++self->seq % 1000000000));
    snprintf (p->tag, sizeof p->tag, "%s", o->tag);
    snprintf (p->sym, sizeof p->sym, "%s", o->sym);
    p->product = o->product;
    p->f.side = o->side;
    p->f.order_type = o->type;
    p->f.qty = o->qty;
    p->f.price = o->price;
    p->f.trigger = o->trigger;
    p->f.market_protection = o->market_protection;
    bool stop = o->type == KT_OT_SL || o->type == KT_OT_SLM;
    snprintf (p->status, sizeof p->status, "%s", stop ? "TRIGGER PENDING" : "OPEN");
    s_ts (now_ns, p->ts, sizeof p->ts);
    if (pq) {
        //  Placed between quotes: the depth of the last one only (kt_fill "Trade-through").
        struct s_pquote depth_only = *pq;
        depth_only.q.trade_qty = 0;
        s_match (self, idx, &depth_only, now_ns);
        pq->liq = depth_only.liq;
    }
    s_ok (out, p->order_id);
}

void
exec_paper_modify (exec_paper_t *self, const char *order_id, const struct exec_kite_order *o,
                   int64_t now_ns, struct exec_kite_reply *out)
{
    int idx;
    struct s_porder *p = s_find (self, order_id, &idx);
    if (!p)
        return s_refuse (out, "InputException", "Invalid order_id.");
    if (!s_live (p)) {
        char msg[96];
        snprintf (msg, sizeof msg, "Order cannot be modified as it is in %s state.", p->status);
        return s_refuse (out, "InputException", msg);
    }
    const char *bad = s_check (o, NULL);
    if (bad)
        return s_refuse (out, "InputException", bad);
    if (o->qty < p->f.filled)
        return s_refuse (out, "InputException",
                         "Quantity cannot be less than the filled quantity.");
    p->f.qty = o->qty;
    p->f.order_type = o->type;
    p->f.price = o->price;
    p->f.trigger = o->trigger;
    s_ts (now_ns, p->ts, sizeof p->ts);
    struct s_pquote *pq = s_quote (self, p->sym, false);
    if (pq)
        s_match (self, idx, pq, now_ns);
    if (p->f.filled >= p->f.qty)
        snprintf (p->status, sizeof p->status, "COMPLETE");
    s_ok (out, order_id);
}

void
exec_paper_cancel (exec_paper_t *self, const char *order_id, int64_t now_ns,
                   struct exec_kite_reply *out)
{
    struct s_porder *p = s_find (self, order_id, NULL);
    if (!p)
        return s_refuse (out, "InputException", "Invalid order_id.");
    if (!s_live (p)) {
        char msg[96];
        snprintf (msg, sizeof msg, "Order cannot be cancelled as it is in %s state.", p->status);
        return s_refuse (out, "InputException", msg);
    }
    snprintf (p->status, sizeof p->status, "CANCELLED");
    s_ts (now_ns, p->ts, sizeof p->ts);
    s_ok (out, order_id);
}

int
exec_paper_quote (exec_paper_t *self, const char *sym, const struct kt_fill_quote *q,
                  int64_t now_ns)
{
    struct s_pquote *pq = s_quote (self, sym, true);
    if (!pq)
        return 0;
    pq->q = *q;
    kt_fill_liq_reset (&pq->liq);
    int changed = 0;
    for (int i = 0; i < self->norders; i++)
        if (strcmp (self->orders[i].sym, sym) == 0 && s_match (self, i, pq, now_ns))
            changed++;
    return changed;
}

int
exec_paper_tick (exec_paper_t *self, const struct kt_tick *t, int64_t tick, int64_t now_ns)
{
    struct s_pquote *pq = s_quote (self, t->sym, true);
    if (!pq)
        return 0;
    struct kt_fill_quote q;
    memset (&q, 0, sizeof q);
    q.ltp = t->ltp;
    q.tick = tick;
    q.trade_qty = pq->volume > 0 && t->volume > pq->volume ? t->volume - pq->volume : 0;
    pq->volume = t->volume;
    if (t->bid > 0 && t->bid_qty > 0)
        q.bid[0] = (struct kt_fill_level){t->bid, t->bid_qty};
    if (t->ask > 0 && t->ask_qty > 0)
        q.ask[0] = (struct kt_fill_level){t->ask, t->ask_qty};
    return exec_paper_quote (self, t->sym, &q, now_ns);
}

static void
s_row (const struct s_porder *p, struct exec_kite_row *r)
{
    memset (r, 0, sizeof *r);
    snprintf (r->order_id, sizeof r->order_id, "%s", p->order_id);
    snprintf (r->status, sizeof r->status, "%s", p->status);
    snprintf (r->tag, sizeof r->tag, "%s", p->tag);
    snprintf (r->variety, sizeof r->variety, "regular");
    snprintf (r->exchange, sizeof r->exchange, "NFO");
    snprintf (r->sym, sizeof r->sym, "%s", p->sym);
    snprintf (r->placed_by, sizeof r->placed_by, "PAPER");
    snprintf (r->ts, sizeof r->ts, "%s", p->ts);
    r->side = p->f.side;
    r->type = p->f.order_type;
    r->product = p->product;
    r->qty = p->f.qty;
    r->filled = p->f.filled;
    r->pending = s_live (p) ? p->f.qty - p->f.filled : 0;
    r->cancelled = strcmp (p->status, "CANCELLED") == 0 ? p->f.qty - p->f.filled : 0;
    r->price = p->f.price;
    r->trigger = p->f.trigger;
    r->avg_px = p->f.filled > 0 ? (p->value + p->f.filled / 2) / p->f.filled : 0;
}

int
exec_paper_orders_each (exec_paper_t *self, exec_kite_row_fn *fn, void *arg)
{
    for (int i = 0; i < self->norders; i++) {
        struct exec_kite_row r;
        s_row (&self->orders[i], &r);
        int rc = fn (&r, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int
exec_paper_trades_each (exec_paper_t *self, const char *order_id, exec_kite_trade_fn *fn, void *arg)
{
    for (int i = 0; i < self->ntrades; i++) {
        const struct s_ptrade *t = &self->trades[i];
        const struct s_porder *p = &self->orders[t->order];
        if (strcmp (p->order_id, order_id) != 0)
            continue;
        struct exec_kite_trade k;
        memset (&k, 0, sizeof k);
        snprintf (k.trade_id, sizeof k.trade_id, "%s", t->trade_id);
        snprintf (k.order_id, sizeof k.order_id, "%s", p->order_id);
        snprintf (k.exchange, sizeof k.exchange, "NFO");
        snprintf (k.sym, sizeof k.sym, "%s", p->sym);
        snprintf (k.ts, sizeof k.ts, "%s", t->ts);
        k.side = p->f.side;
        k.product = p->product;
        k.qty = t->qty;
        k.px = t->px;
        int rc = fn (&k, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}
