/*  sim_venue_test - kite-sim's core without sockets: determinism of the tick stream
 *  (hashes, however advance is sliced), instruments, Kite's status sequences for
 *  place / modify / cancel / reject / IOC, synchronous validation errors, autoslice
 *  (with error children short of margin), margin rejection, position identities, MIS
 *  square-off, end of day, faults and a replayed session. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../sim/sim_venue.h"
#include "kt_money.h"

#define S_DATE 20251112                 //  a Wednesday; expiry Tuesday 2025-11-18 (weekly)

static int64_t
s_at (int hh, int mm, int ss)
{
    return kt_ist_ns (S_DATE / 10000, S_DATE / 100 % 100, S_DATE % 100, hh, mm, ss);
}

static sim_venue_t *
s_venue_cfg (const struct sim_venue_cfg *cfg)
{
    char err[256] = "";
    sim_venue_t *v = sim_venue_new (cfg, err, sizeof err);
    if (!v)
        fprintf (stderr, "sim_venue_new: %s\n", err);
    assert_non_null (v);
    return v;
}

static sim_venue_t *
s_venue_freeze (uint64_t seed, int strikes, int64_t balance, int64_t freeze)
{
    struct sim_venue_cfg cfg = {.seed = seed,
                                .date = S_DATE,
                                .opening_balance = balance,
                                .freeze_qty = freeze,
                                .strikes_each_side = strikes,
                                .lot = 75};
    return s_venue_cfg (&cfg);
}

static sim_venue_t *
s_venue (uint64_t seed, int strikes, int64_t balance)
{
    return s_venue_freeze (seed, strikes, balance, 1800);
}

// ---- tick hashing --------------------------------------------------------------------

struct s_hash {
    uint64_t h;
    int64_t ticks;
    int64_t last_ns;
    bool ordered;
};

static void
s_mix (struct s_hash *h, int64_t v)
{
    for (int i = 0; i < 8; i++) {
        h->h ^= (uint64_t) (v >> (8 * i)) & 0xFF;
        h->h *= 0x100000001B3ull;
    }
}

static void
s_on_tick (const struct sim_quote *q, void *arg)
{
    struct s_hash *h = arg;
    s_mix (h, q->token);
    s_mix (h, q->ltp);
    s_mix (h, q->last_qty);
    s_mix (h, q->volume);
    s_mix (h, q->oi);
    s_mix (h, q->exch_ns);
    for (int i = 0; i < SIM_DEPTH; i++) {
        s_mix (h, q->bid[i].px);
        s_mix (h, q->bid[i].qty);
        s_mix (h, q->ask[i].px);
        s_mix (h, q->ask[i].qty);
    }
    if (q->exch_ns < h->last_ns)
        h->ordered = false;
    h->last_ns = q->exch_ns;
    //  Every emitted price is on the 0.05 tick.
    if (q->ltp % 5 || q->bid[0].px % 5 || q->ask[0].px % 5)
        h->ordered = false;
    h->ticks++;
}

static struct s_hash
s_hash_new (void)
{
    return (struct s_hash) { .h = 0xCBF29CE484222325ull, .ordered = true };
}

static void
test_same_seed_same_ticks (void **state)
{
    (void) state;
    sim_venue_t *a = s_venue (7, 10, 0);
    sim_venue_t *b = s_venue (7, 10, 0);
    struct s_hash ha = s_hash_new (), hb = s_hash_new ();
    int64_t end = s_at (10, 30, 0);
    int64_t na = sim_venue_advance (a, end, s_on_tick, NULL, &ha);
    int64_t nb = sim_venue_advance (b, end, s_on_tick, NULL, &hb);
    assert_true (na > 10000);
    assert_int_equal (na, ha.ticks);
    assert_int_equal (na, nb);
    assert_true (ha.h == hb.h);
    assert_true (ha.ordered);
    sim_venue_destroy (&a);
    sim_venue_destroy (&b);
    assert_null (a);
}

static void
test_chunked_advance_equals_single (void **state)
{
    (void) state;
    sim_venue_t *a = s_venue (11, 10, 0);
    sim_venue_t *b = s_venue (11, 10, 0);
    struct s_hash ha = s_hash_new (), hb = s_hash_new ();
    int64_t end = s_at (10, 0, 0);
    sim_venue_advance (a, end, s_on_tick, NULL, &ha);
    //  Irregular slices, some of them empty or going nowhere.
    int64_t t = s_at (9, 0, 0);
    int64_t step = 1;
    int64_t nb = 0;
    while (t < end) {
        t += step;
        if (t > end)
            t = end;
        nb += sim_venue_advance (b, t, s_on_tick, NULL, &hb);
        nb += sim_venue_advance (b, t - 1000, s_on_tick, NULL, &hb);    //  backwards: no-op
        step = step * 7 % 9000000011LL + 13;
    }
    assert_int_equal (ha.ticks, nb);
    assert_true (ha.h == hb.h);
    sim_venue_destroy (&a);
    sim_venue_destroy (&b);
}

static void
test_different_seed_differs (void **state)
{
    (void) state;
    sim_venue_t *a = s_venue (1, 10, 0);
    sim_venue_t *b = s_venue (2, 10, 0);
    struct s_hash ha = s_hash_new (), hb = s_hash_new ();
    sim_venue_advance (a, s_at (9, 20, 0), s_on_tick, NULL, &ha);
    sim_venue_advance (b, s_at (9, 20, 0), s_on_tick, NULL, &hb);
    assert_true (ha.h != hb.h);
    sim_venue_destroy (&a);
    sim_venue_destroy (&b);
}

// ---- instruments ---------------------------------------------------------------------

static void
test_instruments (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (3, 10, 0);
    const kt_instr_table_t *tab = sim_venue_instruments (v);
    assert_int_equal (kt_instr_count (tab), 43);
    const struct kt_instr *ix = kt_instr_by_token (tab, SIM_NIFTY_TOKEN);
    assert_non_null (ix);
    assert_string_equal (ix->sym, "NIFTY 50");
    assert_string_equal (ix->segment, "INDICES");
    int options = 0;
    int64_t min_strike = INT64_MAX, max_strike = 0;
    for (size_t i = 0; i < kt_instr_count (tab); i++) {
        const struct kt_instr *in = kt_instr_at (tab, i);
        if (in->itype != KT_ITYPE_CE && in->itype != KT_ITYPE_PE)
            continue;
        options++;
        assert_int_equal (in->token & 0xFF, 2);
        assert_int_equal (in->token >> 8, in->exchange_token);
        assert_int_equal (in->lot, 75);
        assert_int_equal (in->tick, 5);
        assert_int_equal (in->expiry, 20251118);
        assert_string_equal (in->exchange, "NFO");
        assert_string_equal (in->segment, "NFO-OPT");
        assert_string_equal (in->name, "NIFTY");
        assert_int_equal (in->strike % 5000, 0);
        char want[32];
        snprintf (want, sizeof want, "NIFTY25N18%lld%s", (long long) (in->strike / 100),
                  in->itype == KT_ITYPE_CE? "CE": "PE");
        assert_string_equal (in->sym, want);
        assert_ptr_equal (kt_instr_by_sym (tab, "NFO", want), in);
        assert_true (in->last_price > 0 && in->last_price % 5 == 0);
        if (in->strike < min_strike)
            min_strike = in->strike;
        if (in->strike > max_strike)
            max_strike = in->strike;
        //  A quote exists for every listed token.
        assert_non_null (sim_venue_quote (v, in->token));
    }
    assert_int_equal (options, 42);
    assert_int_equal (max_strike - min_strike, 20 * 5000);
    assert_null (sim_venue_quote (v, 12345));
    assert_int_equal (kt_instr_nearest_expiry (tab, "NIFTY", S_DATE), 20251118);
    sim_venue_destroy (&v);
}

static void
test_bad_config (void **state)
{
    (void) state;
    char err[256] = "";
    struct sim_venue_cfg cfg = { .seed = 1, .date = 20251332, .lot = 75 };
    assert_null (sim_venue_new (&cfg, err, sizeof err));
    assert_non_null (strstr (err, "date"));
    cfg.date = 0;
    assert_null (sim_venue_new (&cfg, err, sizeof err));
    cfg.date = S_DATE;
    cfg.replay_path = "/nonexistent/replay.csv";
    assert_null (sim_venue_new (&cfg, err, sizeof err));
    assert_non_null (strstr (err, "/nonexistent/replay.csv"));
}

// ---- order helpers -------------------------------------------------------------------

//  The option (CE or PE) whose LTP is closest to target paise.
static const struct kt_instr *
s_pick (sim_venue_t *v, kt_itype_t itype, int64_t target)
{
    const kt_instr_table_t *tab = sim_venue_instruments (v);
    const struct kt_instr *best = NULL;
    int64_t best_d = INT64_MAX;
    for (size_t i = 0; i < kt_instr_count (tab); i++) {
        const struct kt_instr *in = kt_instr_at (tab, i);
        if (in->itype != itype)
            continue;
        int64_t d = llabs (sim_venue_quote (v, in->token)->ltp - target);
        if (d < best_d) {
            best_d = d;
            best = in;
        }
    }
    return best;
}

static struct sim_order_req
s_req (const struct kt_instr *in, kt_side_t side, kt_order_type_t type, int64_t qty,
       int64_t price, int64_t trigger)
{
    struct sim_order_req r = { .side = side, .order_type = type, .product = KT_PROD_NRML,
                               .qty = qty, .price = price, .trigger = trigger,
                               .market_protection = -1, .validity = "DAY" };
    snprintf (r.sym, sizeof r.sym, "%s", in->sym);
    snprintf (r.exchange, sizeof r.exchange, "NFO");
    return r;
}

struct s_updates {
    int count;
    char last_status[32];
};

static void
s_on_order (const struct sim_order *o, void *arg)
{
    struct s_updates *u = arg;
    u->count++;
    snprintf (u->last_status, sizeof u->last_status, "%s", o->status);
}

static int
s_place (sim_venue_t *v, int64_t now, const struct sim_order_req *r, char *id,
         const char **etype, char *msg)
{
    int nchildren;
    return sim_venue_place (v, now, r, id, KT_BROKER_LEN, NULL, 0, &nchildren, etype, msg, 256,
                            NULL, NULL);
}

//  The statuses of an order's history, joined by '|'.
static void
s_history (sim_venue_t *v, const char *id, char *out, size_t len)
{
    const struct sim_order *rows[64];
    int n = sim_venue_order_history (v, id, rows, 64);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat (out, rows[i]->status, len - strlen (out) - 1);
        if (i + 1 < n)
            strncat (out, "|", len - strlen (out) - 1);
    }
}

// ---- status sequences ----------------------------------------------------------------

static void
test_limit_open_then_cancel (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 10, 0);
    int64_t now = s_at (9, 30, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 15000);
    int64_t ltp = sim_venue_quote (v, ce->token)->ltp;
    struct sim_order_req r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 150, ltp / 2 / 5 * 5, 0);
    snprintf (r.tag, sizeof r.tag, "S1-0001");
    char id[KT_BROKER_LEN], msg[256], hist[512];
    const char *etype = NULL;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    assert_int_equal (strlen (id), 15);
    char hist_want[] = "PUT ORDER REQ RECEIVED|VALIDATION PENDING|OPEN PENDING|OPEN";
    s_history (v, id, hist, sizeof hist);
    assert_string_equal (hist, hist_want);
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_non_null (o);
    assert_string_equal (o->tag, "S1-0001");
    assert_int_equal (o->pending, 150);
    assert_int_equal (strlen (o->exchange_order_id), 16);
    //  Cancel.
    struct s_updates u = { 0 };
    assert_int_equal (sim_venue_cancel (v, now + 1000, id, &etype, msg, sizeof msg, s_on_order,
                                        &u), 0);
    s_history (v, id, hist, sizeof hist);
    assert_string_equal (hist, "PUT ORDER REQ RECEIVED|VALIDATION PENDING|OPEN PENDING|OPEN|"
                         "CANCEL PENDING|CANCELLED");
    assert_int_equal (u.count, 1);
    assert_string_equal (u.last_status, "CANCELLED");
    o = sim_venue_order_get (v, id);
    assert_int_equal (o->cancelled, 150);
    assert_int_equal (o->pending, 0);
    //  A second cancel, and a modify, of a cancelled order are refused.
    assert_int_equal (sim_venue_cancel (v, now + 2000, id, &etype, msg, sizeof msg, NULL, NULL),
                      -1);
    assert_string_equal (etype, "InputException");
    struct sim_modify_req m = { .has_price = true, .price = ltp };
    assert_int_equal (sim_venue_modify (v, now, id, &m, &etype, msg, sizeof msg, NULL, NULL), -1);
    assert_int_equal (sim_venue_cancel (v, now, "999", &etype, msg, sizeof msg, NULL, NULL), -1);
    sim_venue_destroy (&v);
}

static void
test_market_complete_with_trades (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 10, 0);
    int64_t now = s_at (9, 40, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *pe = s_pick (v, KT_ITYPE_PE, 15000);
    const struct sim_quote *q = sim_venue_quote (v, pe->token);
    int64_t ask = q->ask[0].px;
    struct sim_order_req r = s_req (pe, KT_SIDE_BUY, KT_OT_MARKET, 75, 0, 0);
    char id[KT_BROKER_LEN], msg[256], hist[512];
    const char *etype;
    struct s_updates u = { 0 };
    int n;
    assert_int_equal (sim_venue_place (v, now, &r, id, sizeof id, NULL, 0, &n, &etype, msg,
                                       sizeof msg, s_on_order, &u), 0);
    s_history (v, id, hist, sizeof hist);
    assert_string_equal (hist,
                         "PUT ORDER REQ RECEIVED|VALIDATION PENDING|OPEN PENDING|OPEN|COMPLETE");
    assert_string_equal (u.last_status, "COMPLETE");
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_int_equal (o->filled, 75);
    assert_int_equal (o->avg_price, ask);
    assert_int_equal (sim_venue_trade_count (v), 1);
    const struct sim_trade *t = sim_venue_trade_at (v, 0);
    assert_string_equal (t->order_id, id);
    assert_int_equal (t->qty, 75);
    assert_int_equal (t->price, ask);
    assert_int_equal (strlen (t->trade_id), 8);
    sim_venue_destroy (&v);
}

static void
test_stop_trigger_sequence (void **state)
{
    (void) state;
    //  A SELL SL one tick under the LTP on an active contract fires within the day.
    sim_venue_t *v = s_venue (9, 10, 0);
    int64_t now = s_at (9, 45, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 15000);
    int64_t ltp = sim_venue_quote (v, ce->token)->ltp;
    struct sim_order_req r = s_req (ce, KT_SIDE_SELL, KT_OT_SL, 75, ltp - 200, ltp - 5);
    char id[KT_BROKER_LEN], msg[256], hist[512];
    const char *etype;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    s_history (v, id, hist, sizeof hist);
    assert_string_equal (hist, "PUT ORDER REQ RECEIVED|VALIDATION PENDING|OPEN PENDING|"
                         "TRIGGER PENDING");
    struct s_updates u = { 0 };
    for (int m = 0; m < 300 && sim_venue_order_get (v, id)->pending; m++)
        sim_venue_advance (v, now + (int64_t) (m + 1) * KT_NS_PER_MIN, NULL, s_on_order, &u);
    s_history (v, id, hist, sizeof hist);
    assert_non_null (strstr (hist, "TRIGGER PENDING|OPEN"));
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_string_equal (o->status, "COMPLETE");
    //  Filled at or better than the limit.
    assert_true (o->avg_price >= ltp - 200);
    //  Triggered and filled on one tick: one update carrying the final state.
    assert_true (u.count >= 1);
    assert_string_equal (u.last_status, "COMPLETE");
    sim_venue_destroy (&v);
}

static void
test_modify_sequence (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 10, 0);
    int64_t now = s_at (10, 0, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 20000);
    int64_t ltp = sim_venue_quote (v, ce->token)->ltp;
    int64_t px = ltp / 2 / 5 * 5;
    struct sim_order_req r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, px, 0);
    char id[KT_BROKER_LEN], msg[256], hist[512];
    const char *etype;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    struct sim_modify_req m = { .has_price = true, .price = px + 5, .has_qty = true, .qty = 150 };
    struct s_updates u = { 0 };
    assert_int_equal (sim_venue_modify (v, now + 10, id, &m, &etype, msg, sizeof msg,
                                        s_on_order, &u), 0);
    s_history (v, id, hist, sizeof hist);
    assert_string_equal (hist, "PUT ORDER REQ RECEIVED|VALIDATION PENDING|OPEN PENDING|OPEN|"
                         "MODIFY VALIDATION PENDING|MODIFY PENDING|MODIFIED|OPEN");
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_true (o->modified);
    assert_int_equal (o->price, px + 5);
    assert_int_equal (o->qty, 150);
    assert_int_equal (o->modifications, 1);
    assert_int_equal (u.count, 1);
    //  Off-tick price, bad lot: refused, order unchanged.
    m = (struct sim_modify_req) { .has_price = true, .price = px + 3 };
    assert_int_equal (sim_venue_modify (v, now, id, &m, &etype, msg, sizeof msg, NULL, NULL), -1);
    assert_non_null (strstr (msg, "Tick size"));
    m = (struct sim_modify_req) { .has_qty = true, .qty = 100 };
    assert_int_equal (sim_venue_modify (v, now, id, &m, &etype, msg, sizeof msg, NULL, NULL), -1);
    assert_int_equal (sim_venue_order_get (v, id)->price, px + 5);
    //  A modification that crosses the market fills it.
    int64_t ask = sim_venue_quote (v, ce->token)->ask[0].px;
    m = (struct sim_modify_req) { .has_price = true, .price = ask + 100 };
    assert_int_equal (sim_venue_modify (v, now + 20, id, &m, &etype, msg, sizeof msg, NULL, NULL),
                      0);
    assert_true (sim_venue_order_get (v, id)->filled > 0);
    //  25 modifications at most.
    char id2[KT_BROKER_LEN];
    r.price = px;
    assert_int_equal (s_place (v, now, &r, id2, &etype, msg), 0);
    for (int i = 0; i < 25; i++) {
        m = (struct sim_modify_req) { .has_price = true, .price = px - 5 * (i % 2) };
        assert_int_equal (sim_venue_modify (v, now, id2, &m, &etype, msg, sizeof msg, NULL, NULL),
                          0);
    }
    assert_int_equal (sim_venue_modify (v, now, id2, &m, &etype, msg, sizeof msg, NULL, NULL), -1);
    assert_non_null (strstr (msg, "modifications"));
    sim_venue_destroy (&v);
}

//  A LIMIT turned into a MARKET order by a modify has no protection of its own: refused
//  unless the modify brings one, as a placement would be.
static void
test_modify_to_market_needs_protection (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 10, 0);
    int64_t now = s_at (10, 0, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 20000);
    int64_t px = sim_venue_quote (v, ce->token)->ltp / 2 / 5 * 5;
    struct sim_order_req r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, px, 0);
    char id[KT_BROKER_LEN], msg[256];
    const char *etype;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    struct sim_modify_req m = {.has_order_type = true, .order_type = KT_OT_MARKET};
    assert_int_equal (sim_venue_modify (v, now, id, &m, &etype, msg, sizeof msg, NULL, NULL), -1);
    assert_string_equal (etype, "InputException");
    assert_non_null (strstr (msg, "without market protection"));
    assert_int_equal (sim_venue_order_get (v, id)->order_type, KT_OT_LIMIT);
    m.has_market_protection = true;
    m.market_protection = 5;
    assert_int_equal (sim_venue_modify (v, now, id, &m, &etype, msg, sizeof msg, NULL, NULL), 0);
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_int_equal (o->order_type, KT_OT_MARKET);
    assert_int_equal (o->market_protection, 5);
    assert_true (o->filled > 0);
    sim_venue_destroy (&v);
}

// ---- the open: last price, book and matching agree -----------------------------------

struct s_book_check {
    int64_t ticks, outside;
    char first_bad[160];
};

//  Every option tick: the last price lies within the best bid / ask it is sent with.
static void
s_check_book (const struct sim_quote *q, void *arg)
{
    struct s_book_check *c = arg;
    if (q->token == SIM_NIFTY_TOKEN)
        return;
    c->ticks++;
    bool bad =
        q->ask[0].px == 0 || q->ltp > q->ask[0].px || (q->bid[0].qty > 0 && q->ltp < q->bid[0].px);
    if (bad && c->outside++ == 0)
        snprintf (c->first_bad, sizeof c->first_bad, "token %u ltp %lld bid %lld ask %lld",
                  q->token, (long long) q->ltp, (long long) q->bid[0].px, (long long) q->ask[0].px);
}

static sim_venue_t *
s_venue_on (int32_t date, uint64_t seed)
{
    struct sim_venue_cfg cfg = {.seed = seed, .date = date, .strikes_each_side = 20, .lot = 75};
    return s_venue_cfg (&cfg);
}

//  At the open (and through the first half hour) of one session: no option quotes a
//  last price outside its book, and a BUY LIMIT at half the last price rests unfilled.
static void
s_check_open (sim_venue_t *v, const char *sym)
{
    int32_t date = sim_venue_date (v);
    int64_t open = sim_venue_open_ns (v);
    assert_int_equal (open, kt_ist_ns (date / 10000, date / 100 % 100, date % 100, 9, 15, 0));
    struct s_book_check c = {0};
    sim_venue_advance (v, open, s_check_book, NULL, &c);
    const kt_instr_table_t *tab = sim_venue_instruments (v);
    assert_int_equal (c.ticks, (int64_t) kt_instr_count (tab) - 1); //  every option opens
    for (size_t i = 1; i < kt_instr_count (tab); i++) {
        const struct sim_quote *q = sim_venue_quote (v, kt_instr_at (tab, i)->token);
        assert_true (q->ltp >= q->bid[0].px && q->ltp <= q->ask[0].px);
        assert_int_equal (q->o, q->ltp); //  the opening trade
    }
    const struct kt_instr *in = kt_instr_by_sym (tab, NULL, sym);
    assert_non_null (in);
    int64_t ltp = sim_venue_quote (v, in->token)->ltp;
    struct sim_order_req r = s_req (in, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp / 2 / 5 * 5, 0);
    char id[KT_BROKER_LEN], msg[256];
    const char *etype;
    assert_int_equal (s_place (v, open, &r, id, &etype, msg), 0);
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_string_equal (o->status, "OPEN");
    assert_int_equal (o->filled, 0);
    sim_venue_advance (v, open + 30 * KT_NS_PER_MIN, s_check_book, NULL, &c);
    if (c.outside)
        fprintf (stderr, "%lld of %lld ticks outside the book, first %s\n", (long long) c.outside,
                 (long long) c.ticks, c.first_bad);
    assert_int_equal (c.outside, 0);
    assert_true (c.ticks > 10000);
}

//  Sunday 2026-12-06, seed 7: kite-sim's default date on that day. The session rolls to
//  Monday 2026-12-07 (docs/kite-sim.md), whose open continues from Friday's close.
static void
test_weekend_open_agrees (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue_on (20261206, 7);
    assert_int_equal (sim_venue_date (v), 20261207);
    assert_int_equal (sim_venue_expiry (v), 20261208);
    s_check_open (v, "NIFTY26D0823450PE");
    sim_venue_destroy (&v);
    //  Saturday rolls to the same Monday: the same market, tick for tick.
    sim_venue_t *sat = s_venue_on (20261205, 7), *mon = s_venue_on (20261207, 7);
    assert_int_equal (sim_venue_date (sat), 20261207);
    struct s_hash ha = s_hash_new (), hb = s_hash_new ();
    int64_t end = sim_venue_open_ns (mon) + 5 * KT_NS_PER_MIN;
    sim_venue_advance (sat, end, s_on_tick, NULL, &ha);
    sim_venue_advance (mon, end, s_on_tick, NULL, &hb);
    assert_true (ha.ticks > 1000 && ha.h == hb.h);
    sim_venue_destroy (&sat);
    sim_venue_destroy (&mon);
}

//  The same checks on weekdays, the expiry day (Tuesday) and the day after it, whose
//  options are the next week's.
static void
test_weekday_and_expiry_open_agree (void **state)
{
    (void) state;
    static const struct {
        int32_t date;
        const char *sym;
    } days[] = {
        {20261204, "NIFTY26D0824550CE"}, //  Friday
        {20261208, "NIFTY26D0823600PE"}, //  Tuesday, expiry day
        {20261209, "NIFTY26D1524400CE"}, //  Wednesday after the expiry
    };
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        sim_venue_t *v = s_venue_on (days[i].date, 7);
        assert_int_equal (sim_venue_date (v), days[i].date);
        s_check_open (v, days[i].sym);
        sim_venue_destroy (&v);
    }
}

static void
test_ioc_cancels_rest (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue_freeze (5, 10, 0, 18000);
    int64_t now = s_at (10, 15, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 15000);
    const struct sim_quote *q = sim_venue_quote (v, ce->token);
    //  Away from the market: nothing fills, all cancelled.
    struct sim_order_req r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, q->bid[0].px - 50, 0);
    snprintf (r.validity, sizeof r.validity, "IOC");
    char id[KT_BROKER_LEN], msg[256], hist[512];
    const char *etype;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    s_history (v, id, hist, sizeof hist);
    assert_string_equal (hist, "PUT ORDER REQ RECEIVED|VALIDATION PENDING|OPEN PENDING|OPEN|"
                         "CANCELLED");
    assert_int_equal (sim_venue_order_get (v, id)->cancelled, 75);
    //  More than the displayed depth at the touch: the touch fills, the rest is cancelled.
    int64_t shown = q->ask[0].qty;
    r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, shown + 750, q->ask[0].px, 0);
    snprintf (r.validity, sizeof r.validity, "IOC");
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_string_equal (o->status, "CANCELLED");
    assert_int_equal (o->filled, shown);
    assert_int_equal (o->cancelled, 750);
    s_history (v, id, hist, sizeof hist);
    assert_string_equal (hist, "PUT ORDER REQ RECEIVED|VALIDATION PENDING|OPEN PENDING|OPEN|"
                         "OPEN|CANCELLED");
    sim_venue_destroy (&v);
}

static void
test_partial_fill_rests_then_fills (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue_freeze (5, 10, 0, 18000);
    int64_t now = s_at (10, 20, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 15000);
    const struct sim_quote *q = sim_venue_quote (v, ce->token);
    int64_t shown = q->ask[0].qty;
    int64_t qty = (shown / 75 + 10) * 75;
    struct sim_order_req r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, qty, q->ask[0].px, 0);
    char id[KT_BROKER_LEN], msg[256];
    const char *etype;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_string_equal (o->status, "OPEN");
    assert_int_equal (o->filled, shown);
    assert_int_equal (o->pending, qty - shown);
    //  A second order at the same time cannot take the same displayed quantity.
    char id2[KT_BROKER_LEN];
    r.qty = 75;
    assert_int_equal (s_place (v, now, &r, id2, &etype, msg), 0);
    assert_int_equal (sim_venue_order_get (v, id2)->filled, 0);
    sim_venue_destroy (&v);
}

// ---- validation ----------------------------------------------------------------------

static void
test_sync_validation_errors (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 10, 0);
    int64_t now = s_at (10, 0, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 15000);
    int64_t ltp = sim_venue_quote (v, ce->token)->ltp;
    char id[KT_BROKER_LEN], msg[256];
    const char *etype;
    struct {
        struct sim_order_req r;
        int64_t at;
        const char *needle;
    } cases[] = {
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp, 0), s_at (9, 14, 59), "Markets are closed"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp, 0), s_at (15, 30, 0), "Markets are closed"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 50, ltp, 0), now, "multiple of the lot"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 0, ltp, 0), now, "quantity"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp + 1, 0), now, "Tick size"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, 0, 0), now, "price"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 1875, ltp, 0), now, "maximum quantity"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_SL, 75, ltp + 100, ltp + 200), now, "higher than price"},
        {s_req (ce, KT_SIDE_SELL, KT_OT_SL, 75, ltp - 100, ltp - 200), now, "lesser than price"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_SLM, 75, 0, ltp - 50), now, "last traded price"},
        {s_req (ce, KT_SIDE_SELL, KT_OT_SLM, 75, 0, ltp + 50), now, "last traded price"},
        {s_req (ce, KT_SIDE_SELL, KT_OT_SLM, 75, 0, 0), now, "trigger_price"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_MARKET, 75, 0, 0), now, "without market protection"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp, 0), now, "tag"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp, 0), now, "tradingsymbol"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp, 0), now, "not tradable"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp, 0), now, "validity"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp, 0), now, "product"},
        {s_req (ce, KT_SIDE_SELL, KT_OT_SLM, 75, 0, ltp - 50), now, "without market protection"},
        {s_req (ce, KT_SIDE_BUY, KT_OT_MARKET, 75, 0, 0), now, "market_protection"},
    };
    //  Per-case twists.
    cases[0].r.qty = 75;
    cases[12].r.market_protection = 0;
    snprintf (cases[13].r.tag, sizeof cases[13].r.tag, "%s", "ABCDEFGHIJKLMNOPQRSTU");
    snprintf (cases[14].r.sym, sizeof cases[14].r.sym, "NIFTY25N1899999CE");
    snprintf (cases[15].r.sym, sizeof cases[15].r.sym, "NIFTY 50");
    snprintf (cases[15].r.exchange, sizeof cases[15].r.exchange, "NSE");
    snprintf (cases[16].r.validity, sizeof cases[16].r.validity, "TTL");
    cases[17].r.product = KT_PROD_NONE;
    cases[18].r.market_protection = 0; //  an SL-M without protection: not defaulted
    cases[19].r.market_protection = 101;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        etype = NULL;
        msg[0] = '\0';
        int rc = s_place (v, cases[i].at, &cases[i].r, id, &etype, msg);
        if (rc != -1 || !strstr (msg, cases[i].needle))
            fprintf (stderr, "case %zu: rc %d msg \"%s\"\n", i, rc, msg);
        assert_int_equal (rc, -1);
        assert_string_equal (etype, "InputException");
        assert_non_null (strstr (msg, cases[i].needle));
    }
    //  None of them reached the order book.
    assert_int_equal (sim_venue_order_count (v), 0);
    //  A 20-character tag is fine.
    struct sim_order_req ok = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, ltp / 2 / 5 * 5, 0);
    snprintf (ok.tag, sizeof ok.tag, "%s", "ABCDEFGHIJKLMNOPQRST");
    assert_int_equal (s_place (v, now, &ok, id, &etype, msg), 0);
    sim_venue_destroy (&v);
}

static void
test_autoslice (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 10, 500000000LL);
    int64_t now = s_at (11, 0, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 5000);
    int64_t ltp = sim_venue_quote (v, ce->token)->ltp;
    struct sim_order_req r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 3 * 1800 + 75,
                                    ltp / 2 / 5 * 5, 0);
    r.autoslice = true;
    char parent[KT_BROKER_LEN], msg[256];
    struct sim_child children[10];
    const char *etype;
    int n = 0;
    assert_int_equal (sim_venue_place (v, now, &r, parent, sizeof parent, children, 10, &n,
                                       &etype, msg, sizeof msg, NULL, NULL), 0);
    assert_int_equal (n, 4);
    assert_null (sim_venue_order_get (v, parent));        //  the parent only groups them
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        assert_null (children[i].error_type);
        const struct sim_order *o = sim_venue_order_get (v, children[i].order_id);
        assert_non_null (o);
        assert_string_equal (o->autoslice_parent, parent);
        assert_true (o->qty <= 1800);
        total += o->qty;
    }
    assert_int_equal (total, 3 * 1800 + 75);
    assert_int_equal (sim_venue_order_get (v, children[3].order_id)->qty, 75);
    //  More than 10 slices: refused.
    r.qty = 11 * 1800;
    assert_int_equal (sim_venue_place (v, now, &r, parent, sizeof parent, children, 10, &n,
                                       &etype, msg, sizeof msg, NULL, NULL), -1);
    assert_non_null (strstr (msg, "slices"));
    //  At or under the freeze quantity there are no children.
    r.qty = 1800;
    assert_int_equal (sim_venue_place (v, now, &r, parent, sizeof parent, children, 10, &n,
                                       &etype, msg, sizeof msg, NULL, NULL), 0);
    assert_int_equal (n, 0);
    assert_non_null (sim_venue_order_get (v, parent));
    sim_venue_destroy (&v);
}

//  Margin of a short of qty units as the venue blocks it (9% SPAN + 3% exposure of the
//  index notional), as Kite prints it.
static void
s_short_margin_text (sim_venue_t *v, int64_t qty, int64_t *paise, char *buf, size_t len)
{
    int64_t notional = sim_venue_quote (v, SIM_NIFTY_TOKEN)->ltp * qty;
    *paise = notional / 100 * 9 + notional / 100 * 3;
    kt_money_format (*paise, buf, len);
}

static void
test_autoslice_margin_children (void **state)
{
    (void) state;
    //  Rs 1.25 crore: two resting short slices of 1800 (about Rs 52 lakh each) fit, the
    //  third does not, the last 150 (about Rs 4.3 lakh) does: ok, ok, error, ok, the
    //  shape of autoslice_response.json.
    const int64_t balance = 1250000000LL;
    sim_venue_t *v = s_venue (5, 10, balance);
    int64_t now = s_at (11, 0, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 5000);
    int64_t ltp = sim_venue_quote (v, ce->token)->ltp;
    struct sim_order_req r = s_req (ce, KT_SIDE_SELL, KT_OT_LIMIT, 3 * 1800 + 150,
                                    ltp * 3 / 5 * 5, 0);
    r.autoslice = true;
    int64_t slice = 0, rest = 0;
    char slice_s[32], rest_s[32];
    s_short_margin_text (v, 1800, &slice, slice_s, sizeof slice_s);
    s_short_margin_text (v, 150, &rest, rest_s, sizeof rest_s);
    assert_true (2 * slice + rest <= balance && 3 * slice > balance);
    char parent[KT_BROKER_LEN], msg[256];
    struct sim_child children[10];
    const char *etype = NULL;
    struct s_updates u = { 0 };
    int n = 0;
    assert_int_equal (sim_venue_place (v, now, &r, parent, sizeof parent, children, 10, &n,
                                       &etype, msg, sizeof msg, s_on_order, &u), 0);
    assert_int_equal (n, 4);
    assert_null (children[0].error_type);
    assert_null (children[1].error_type);
    assert_null (children[3].error_type);
    //  The error child: Kite's text against the margin left by the first two, no order.
    assert_non_null (children[2].error_type);
    assert_string_equal (children[2].error_type, "MarginException");
    assert_string_equal (children[2].order_id, "");
    char avail_s[32], want[256];
    kt_money_format (balance - 2 * slice, avail_s, sizeof avail_s);
    snprintf (want, sizeof want, "Insufficient funds. Required margin is %s but available "
              "margin is %s.", slice_s, avail_s);
    assert_string_equal (children[2].message, want);
    //  Only the three placed children are in the book, all working, none REJECTED.
    assert_int_equal (sim_venue_order_count (v), 3);
    assert_int_equal (u.count, 3);
    const int placed[] = { 0, 1, 3 };
    const int64_t qty[] = { 1800, 1800, 150 };
    for (int i = 0; i < 3; i++) {
        const struct sim_order *o = sim_venue_order_get (v, children[placed[i]].order_id);
        assert_non_null (o);
        assert_string_equal (o->status, "OPEN");
        assert_string_equal (o->autoslice_parent, parent);
        assert_int_equal (o->qty, qty[i]);
        assert_ptr_equal (sim_venue_order_at (v, (size_t) i), o);
    }
    struct sim_margins m;
    sim_venue_margins (v, &m);
    assert_int_equal (m.span + m.exposure, 2 * slice + rest);
    //  A plain order short of funds still enters the book and ends REJECTED (orders.json).
    r.autoslice = false;
    r.qty = 1800;
    char id[KT_BROKER_LEN];
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    assert_string_equal (sim_venue_order_get (v, id)->status, "REJECTED");
    //  The injected RMS fault rejects an accepted child in the book; its siblings go on.
    sim_venue_fault_rms_reject (v, "RMS:test reject");
    struct sim_order_req b = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 1800 + 75, ltp / 2 / 5 * 5,
                                    0);
    b.autoslice = true;
    assert_int_equal (sim_venue_place (v, now, &b, parent, sizeof parent, children, 10, &n,
                                       &etype, msg, sizeof msg, NULL, NULL), 0);
    assert_int_equal (n, 2);
    assert_null (children[0].error_type);
    assert_null (children[1].error_type);
    assert_string_equal (sim_venue_order_get (v, children[0].order_id)->status, "REJECTED");
    assert_string_equal (sim_venue_order_get (v, children[1].order_id)->status, "OPEN");
    sim_venue_destroy (&v);
}

// ---- margin, positions ---------------------------------------------------------------

static void
test_margin_rejection (void **state)
{
    (void) state;
    //  Rs 1,00,000: one short lot needs about 12% of 24000 x 75 = Rs 2,16,000.
    sim_venue_t *v = s_venue (5, 10, 10000000LL);
    int64_t now = s_at (10, 0, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 15000);
    struct sim_order_req r = s_req (ce, KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    char id[KT_BROKER_LEN], msg[256], hist[512];
    const char *etype;
    struct s_updates u = { 0 };
    int n;
    assert_int_equal (sim_venue_place (v, now, &r, id, sizeof id, NULL, 0, &n, &etype, msg,
                                       sizeof msg, s_on_order, &u), 0);
    s_history (v, id, hist, sizeof hist);
    assert_string_equal (hist, "PUT ORDER REQ RECEIVED|VALIDATION PENDING|REJECTED");
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_non_null (strstr (o->status_message, "Insufficient funds. Required margin is "));
    assert_non_null (strstr (o->status_message, "but available margin is 100000.00."));
    assert_non_null (strstr (o->status_message_raw, "RMS:Margin Exceeds"));
    assert_string_equal (o->exchange_order_id, "");
    assert_int_equal (o->filled, 0);
    assert_int_equal (o->pending, 0);
    assert_int_equal (u.count, 1);
    assert_string_equal (u.last_status, "REJECTED");
    assert_int_equal (sim_venue_trade_count (v), 0);
    //  A buy of the same option needs only its premium: accepted.
    r.side = KT_SIDE_BUY;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    assert_string_equal (sim_venue_order_get (v, id)->status, "COMPLETE");
    struct sim_margins m;
    sim_venue_margins (v, &m);
    assert_true (m.option_premium > 0);
    assert_int_equal (m.net, m.opening_balance - m.debits);
    assert_int_equal (m.live_balance, m.net);
    //  Selling it back only reduces: accepted however small the balance.
    r.side = KT_SIDE_SELL;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    assert_string_equal (sim_venue_order_get (v, id)->status, "COMPLETE");
    sim_venue_destroy (&v);
}

static void
s_assert_identities (const struct sim_position *p)
{
    int64_t value = p->sell_value - p->buy_value;
    assert_int_equal (p->pnl, value + p->qty * p->last_price);
    assert_int_equal (p->realised + p->unrealised, p->pnl);
    assert_int_equal (p->qty, p->buy_qty - p->sell_qty + p->overnight_qty);
    assert_int_equal (p->m2m, p->sell_m2m - p->buy_m2m + p->qty * p->last_price);
    assert_int_equal (p->day_buy_qty - p->day_sell_qty, p->qty - p->overnight_qty);
}

static void
test_positions_identities (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 10, 0);
    int64_t now = s_at (10, 30, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *pe = s_pick (v, KT_ITYPE_PE, 15000);
    char id[KT_BROKER_LEN], msg[256];
    const char *etype;
    //  Short 150, cover 75 later, then flip to long 75.
    struct sim_order_req r = s_req (pe, KT_SIDE_SELL, KT_OT_MARKET, 150, 0, 0);
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    int64_t sold_at = sim_venue_order_get (v, id)->avg_price;
    assert_int_equal (sim_venue_position_count (v), 1);
    const struct sim_position *p = sim_venue_position_at (v, 0);
    assert_int_equal (p->qty, -150);
    assert_int_equal (p->avg_price, sold_at);
    assert_int_equal (p->realised, 0);
    s_assert_identities (p);
    sim_venue_advance (v, now + 5 * KT_NS_PER_MIN, NULL, NULL, NULL);
    p = sim_venue_position_at (v, 0);
    assert_int_equal (p->last_price, sim_venue_quote (v, pe->token)->ltp);
    s_assert_identities (p);
    r = s_req (pe, KT_SIDE_BUY, KT_OT_MARKET, 75, 0, 0);
    assert_int_equal (s_place (v, now + 5 * KT_NS_PER_MIN, &r, id, &etype, msg), 0);
    int64_t bought_at = sim_venue_order_get (v, id)->avg_price;
    p = sim_venue_position_at (v, 0);
    assert_int_equal (p->qty, -75);
    //  Average prices are rounded to the paisa; the realised P&L is exact.
    assert_true (llabs (p->realised - (sold_at - bought_at) * 75) <= 150);
    s_assert_identities (p);
    r.qty = 150;
    assert_int_equal (s_place (v, now + 5 * KT_NS_PER_MIN, &r, id, &etype, msg), 0);
    p = sim_venue_position_at (v, 0);
    assert_int_equal (p->qty, 75);
    s_assert_identities (p);
    //  Flat again: everything is realised.
    r = s_req (pe, KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    sim_venue_advance (v, now + 9 * KT_NS_PER_MIN, NULL, NULL, NULL);
    assert_int_equal (s_place (v, now + 9 * KT_NS_PER_MIN, &r, id, &etype, msg), 0);
    p = sim_venue_position_at (v, 0);
    assert_int_equal (p->qty, 0);
    assert_int_equal (p->avg_price, 0);
    assert_int_equal (p->unrealised, 0);
    assert_int_equal (p->realised, p->pnl);
    s_assert_identities (p);
    assert_int_equal (p->buy_qty, 225);
    assert_int_equal (p->sell_qty, 225);
    sim_venue_destroy (&v);
}

// ---- session events ------------------------------------------------------------------

static void
test_mis_square_off_and_close (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 2, 0);         //  few strikes: a whole day runs quickly
    int64_t now = s_at (15, 0, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 10000);
    int64_t ltp = sim_venue_quote (v, ce->token)->ltp;
    char mis_pos[KT_BROKER_LEN], mis_open[KT_BROKER_LEN], nrml_open[KT_BROKER_LEN];
    char id[KT_BROKER_LEN], msg[256];
    const char *etype;
    struct sim_order_req r = s_req (ce, KT_SIDE_BUY, KT_OT_MARKET, 150, 0, 0);
    r.product = KT_PROD_MIS;
    assert_int_equal (s_place (v, now, &r, mis_pos, &etype, msg), 0);
    r = s_req (ce, KT_SIDE_BUY, KT_OT_MARKET, 75, 0, 0);
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);           //  NRML long
    r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, 5, 0);
    r.product = KT_PROD_MIS;
    assert_int_equal (s_place (v, now, &r, mis_open, &etype, msg), 0);
    r.product = KT_PROD_NRML;
    assert_int_equal (s_place (v, now, &r, nrml_open, &etype, msg), 0);
    (void) ltp;
    size_t orders_before = sim_venue_order_count (v);
    struct s_updates u = { 0 };
    sim_venue_advance (v, s_at (15, 25, 0), NULL, s_on_order, &u);
    assert_string_equal (sim_venue_order_get (v, mis_open)->status, "CANCELLED");
    assert_string_equal (sim_venue_order_get (v, nrml_open)->status, "OPEN");
    //  One square-off order, a SELL of 150 MIS at market, done.
    assert_int_equal (sim_venue_order_count (v), orders_before + 1);
    const struct sim_order *sq = sim_venue_order_at (v, orders_before);
    assert_int_equal (sq->side, KT_SIDE_SELL);
    assert_int_equal (sq->qty, 150);
    assert_int_equal (sq->product, KT_PROD_MIS);
    assert_string_equal (sq->status, "COMPLETE");
    assert_int_equal (sq->placed_ns, s_at (15, 20, 0));
    //  The broker's own order is marked as Kite marks it; the user's are not.
    assert_string_equal (sq->placed_by, SIM_PLACED_BY_SQUAREOFF);
    assert_string_equal (sq->placed_by, "ADMINSQF");
    assert_string_equal (sq->tag, "");
    assert_string_equal (sim_venue_order_get (v, mis_pos)->placed_by, "");
    for (size_t i = 0; i < sim_venue_position_count (v); i++) {
        const struct sim_position *p = sim_venue_position_at (v, i);
        assert_int_equal (p->qty, p->product == KT_PROD_MIS? 0: 75);
        s_assert_identities (p);
    }
    //  15:30: the NRML order expires; nothing can be placed any more.
    sim_venue_advance (v, s_at (16, 0, 0), NULL, s_on_order, &u);
    assert_string_equal (sim_venue_order_get (v, nrml_open)->status, "CANCELLED");
    r = s_req (ce, KT_SIDE_BUY, KT_OT_LIMIT, 75, 5, 0);
    assert_int_equal (s_place (v, s_at (15, 31, 0), &r, id, &etype, msg), -1);
    //  The stream is over: candles cover the whole session.
    struct sim_candle c[400];
    int n = sim_venue_candles (v, SIM_NIFTY_TOKEN, 0, INT64_MAX, c, 400);
    assert_int_equal (n, 375);
    assert_int_equal (c[0].start_ns, s_at (9, 15, 0));
    assert_int_equal (c[374].start_ns, s_at (15, 29, 0));
    assert_int_equal (sim_venue_candles (v, SIM_NIFTY_TOKEN, s_at (10, 0, 0), s_at (10, 4, 0),
                                         c, 400), 5);
    assert_int_equal (sim_venue_candles (v, 999, 0, INT64_MAX, c, 400), -1);
    sim_venue_destroy (&v);
}

static void
test_faults (void **state)
{
    (void) state;
    sim_venue_t *v = s_venue (5, 10, 0);
    int64_t now = s_at (12, 0, 0);
    sim_venue_advance (v, now, NULL, NULL, NULL);
    const struct kt_instr *ce = s_pick (v, KT_ITYPE_CE, 15000);
    //  Forced RMS reject of the next accepted order, once.
    sim_venue_fault_rms_reject (v, "RMS test rejection");
    struct sim_order_req r = s_req (ce, KT_SIDE_BUY, KT_OT_MARKET, 75, 0, 0);
    char id[KT_BROKER_LEN], msg[256];
    const char *etype;
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    const struct sim_order *o = sim_venue_order_get (v, id);
    assert_string_equal (o->status, "REJECTED");
    assert_string_equal (o->status_message, "RMS test rejection");
    assert_int_equal (s_place (v, now, &r, id, &etype, msg), 0);
    assert_string_equal (sim_venue_order_get (v, id)->status, "COMPLETE");
    //  A position changed behind the client's back: no order, no trade, identities hold.
    size_t orders = sim_venue_order_count (v), trades = sim_venue_trade_count (v);
    assert_int_equal (sim_venue_fault_position (v, ce->sym, -150), 0);
    assert_int_equal (sim_venue_order_count (v), orders);
    assert_int_equal (sim_venue_trade_count (v), trades);
    const struct sim_position *p = sim_venue_position_at (v, 0);
    assert_int_equal (p->qty, -75);
    s_assert_identities (p);
    assert_int_equal (sim_venue_fault_position (v, "NOPE", 75), -1);
    sim_venue_destroy (&v);
}

// ---- replay --------------------------------------------------------------------------

static void
test_replay_session (void **state)
{
    (void) state;
    //  First build the listing to learn a symbol, then replay the index and that option.
    char path[] = "/tmp/sim_venue_test_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *f = fdopen (fd, "w");
    fprintf (f, "ts,tradingsymbol,ltp,volume\n"
                "2025-11-12 09:15:00,NIFTY 50,24010.35,0\n"
                "2025-11-12 09:15:01,NIFTY25N1824000CE,150.05,750\n"
                "2025-11-12 09:15:02,NIFTY 50,24012.00,0\n"
                "2025-11-12 09:15:03,NIFTY25N1824000CE,151.00,1500\n");
    fclose (f);
    struct sim_venue_cfg cfg = { .seed = 1, .date = 0, .replay_path = path, .lot = 75,
                                 .strikes_each_side = 10 };
    char err[256] = "";
    sim_venue_t *v = sim_venue_new (&cfg, err, sizeof err);
    if (!v)
        fprintf (stderr, "%s\n", err);
    assert_non_null (v);
    const struct kt_instr *ce = kt_instr_by_sym (sim_venue_instruments (v), "NFO",
                                                 "NIFTY25N1824000CE");
    assert_non_null (ce);
    struct s_hash h = s_hash_new ();
    int64_t t = s_at (9, 15, 3);
    sim_venue_advance (v, t, s_on_tick, NULL, &h);
    assert_int_equal (sim_venue_quote (v, SIM_NIFTY_TOKEN)->ltp, 2401200);
    const struct sim_quote *q = sim_venue_quote (v, ce->token);
    assert_int_equal (q->ltp, 15100);
    assert_int_equal (q->volume, 1500);
    assert_int_equal (q->last_qty, 750);
    assert_true (q->bid[0].px <= q->ltp && q->ask[0].px >= q->ltp);
    assert_true (h.ticks >= 4);
    sim_venue_destroy (&v);

    //  A broken line is named.
    f = fopen (path, "w");
    fprintf (f, "ts,token,ltp,volume\n"
                "2025-11-12 09:15:00,256265,24010.35,0\n"
                "2025-11-12 09:15:01,256265,abc,0\n");
    fclose (f);
    cfg.date = S_DATE;
    assert_null (sim_venue_new (&cfg, err, sizeof err));
    assert_non_null (strstr (err, "line 3"));
    //  Wrong date for the session.
    f = fopen (path, "w");
    fprintf (f, "ts,token,ltp,volume\n2025-11-13 09:15:00,256265,24010.35,0\n");
    fclose (f);
    assert_null (sim_venue_new (&cfg, err, sizeof err));
    assert_non_null (strstr (err, "session date"));
    //  An instrument the session does not list.
    f = fopen (path, "w");
    fprintf (f, "ts,tradingsymbol,ltp,volume\n2025-11-12 09:15:00,NIFTY 50,24010.35,0\n"
                "2025-11-12 09:16:00,NIFTY25N1830000CE,1.00,75\n");
    fclose (f);
    assert_null (sim_venue_new (&cfg, err, sizeof err));
    assert_non_null (strstr (err, "line 3: unknown instrument"));
    unlink (path);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_same_seed_same_ticks),
        cmocka_unit_test (test_chunked_advance_equals_single),
        cmocka_unit_test (test_different_seed_differs),
        cmocka_unit_test (test_instruments),
        cmocka_unit_test (test_bad_config),
        cmocka_unit_test (test_limit_open_then_cancel),
        cmocka_unit_test (test_market_complete_with_trades),
        cmocka_unit_test (test_stop_trigger_sequence),
        cmocka_unit_test (test_modify_sequence),
        cmocka_unit_test (test_modify_to_market_needs_protection),
        cmocka_unit_test (test_weekend_open_agrees),
        cmocka_unit_test (test_weekday_and_expiry_open_agree),
        cmocka_unit_test (test_ioc_cancels_rest),
        cmocka_unit_test (test_partial_fill_rests_then_fills),
        cmocka_unit_test (test_sync_validation_errors),
        cmocka_unit_test (test_autoslice),
        cmocka_unit_test (test_autoslice_margin_children),
        cmocka_unit_test (test_margin_rejection),
        cmocka_unit_test (test_positions_identities),
        cmocka_unit_test (test_mis_square_off_and_close),
        cmocka_unit_test (test_faults),
        cmocka_unit_test (test_replay_session),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
