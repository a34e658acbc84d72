/*  recon_diff_test - the comparison of the broker's books with ours: each class on
 *  hand-made cases, the retry budget, and the official fixtures read by recon_broker. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../reconciler/recon.h"

#define FIX "../shared/fixtures/kite/"
#define SYM "NIFTY25N2524000CE"

struct views {
    struct recon_broker b;
    struct recon_redis r;
    struct recon_pending pending;
    struct recon_result res;
    struct recon_diff_opts opts;
};

static int
s_setup (void **state)
{
    struct views *v = calloc (1, sizeof *v);
    recon_broker_init (&v->b);
    recon_redis_init (&v->r);
    v->opts.unknown = RECON_UNKNOWN_HALT;
    v->opts.retry_runs = 3;
    *state = v;
    return 0;
}

static int
s_teardown (void **state)
{
    struct views *v = *state;
    recon_broker_free (&v->b);
    recon_redis_free (&v->r);
    free (v);
    return 0;
}

static int
s_diff (struct views *v)
{
    return recon_diff (&v->b, &v->r, &v->opts, &v->pending, &v->res);
}

static void
s_bpos (struct views *v, const char *sym, int64_t qty, int64_t avg)
{
    struct recon_bpos *p = &v->b.pos[v->b.npos++];
    memset (p, 0, sizeof *p);
    snprintf (p->sym, sizeof p->sym, "%s", sym);
    p->qty = qty;
    p->avg_px = avg;
    p->last_px = avg + 100;
    p->token = 12345602;
}

static struct recon_bord *
s_bord (struct views *v, const char *id, const char *tag, const char *status, kt_side_t side,
        int64_t qty)
{
    struct recon_bord *o = &v->b.ord[v->b.nord++];
    memset (o, 0, sizeof *o);
    snprintf (o->order_id, sizeof o->order_id, "%s", id);
    snprintf (o->tag, sizeof o->tag, "%s", tag);
    snprintf (o->status, sizeof o->status, "%s", status);
    snprintf (o->sym, sizeof o->sym, SYM);
    snprintf (o->placed_by, sizeof o->placed_by, "SM0001");
    o->side = side;
    o->qty = qty;
    return o;
}

static void
s_btrade (struct views *v, const char *tid, const char *oid, kt_side_t side, int64_t qty,
          int64_t px)
{
    struct recon_btrade *t = &v->b.trade[v->b.ntrade++];
    memset (t, 0, sizeof *t);
    snprintf (t->trade_id, sizeof t->trade_id, "%s", tid);
    snprintf (t->order_id, sizeof t->order_id, "%s", oid);
    snprintf (t->sym, sizeof t->sym, SYM);
    t->side = side;
    t->qty = qty;
    t->price = px;
}

static void
s_rpos (struct views *v, int64_t qty)
{
    struct kt_pos_rec *p = &v->r.pos[v->r.npos++];
    memset (p, 0, sizeof *p);
    snprintf (p->sym, sizeof p->sym, SYM);
    p->qty = qty;
}

static struct kt_order_rec *
s_rord (struct views *v, const char *coid, kt_ord_status_t st, kt_purpose_t purpose, kt_side_t side)
{
    struct kt_order_rec *o = &v->r.ord[v->r.nord++];
    memset (o, 0, sizeof *o);
    snprintf (o->coid, sizeof o->coid, "%s", coid);
    snprintf (o->sym, sizeof o->sym, SYM);
    o->status = st;
    o->purpose = purpose;
    o->side = side;
    o->qty = 75;
    return o;
}

static void
s_known (struct views *v, const char *coid, const char *tid)
{
    struct recon_known *k = &v->r.known[v->r.nknown++];
    snprintf (k->coid, sizeof k->coid, "%s", coid);
    snprintf (k->trade_id, sizeof k->trade_id, "%s", tid);
}

//  ---- agreement ------------------------------------------------------------------------

static void
test_empty_books_agree (void **state)
{
    struct views *v = *state;
    assert_int_equal (s_diff (v), 0);
    assert_int_equal (v->res.n, 0);
    assert_int_equal (v->pending.n, 0);
}

static void
test_matching_books_agree (void **state)
{
    struct views *v = *state;
    s_bpos (v, SYM, 75, 10005);
    s_bord (v, "251124000000001", "C1", "COMPLETE", KT_SIDE_BUY, 75);
    s_btrade (v, "00000001", "251124000000001", KT_SIDE_BUY, 75, 10005);
    s_rpos (v, 75);
    s_rord (v, "C1", KT_OS_FILLED, KT_PURPOSE_ENTRY, KT_SIDE_BUY);
    s_known (v, "C1", "00000001");
    //  Someone else's order and a flat broker row change nothing.
    s_bord (v, "251124000000002", "", "OPEN", KT_SIDE_SELL, 75);
    s_bpos (v, "NIFTY25N2524100PE", 0, 0);
    assert_int_equal (s_diff (v), 0);
}

//  ---- missing fills ----------------------------------------------------------------------

static void
test_missing_fill_applied_at_once (void **state)
{
    struct views *v = *state;
    s_bpos (v, SYM, 75, 10005);
    s_bord (v, "251124000000001", "C1", "COMPLETE", KT_SIDE_BUY, 75);
    s_btrade (v, "00000001", "251124000000001", KT_SIDE_BUY, 75, 10005);
    s_rord (v, "C1", KT_OS_OPEN, KT_PURPOSE_ENTRY, KT_SIDE_BUY);
    assert_int_equal (s_diff (v), 1);
    const struct recon_finding *f = &v->res.f[0];
    assert_int_equal (f->cls, RECON_C_MISSING_FILL);
    assert_int_equal (f->action, RECON_A_FILL);
    assert_true (f->proven);
    assert_string_equal (f->coid, "C1");
    assert_string_equal (f->trade_id, "00000001");
    assert_int_equal (f->qty, 75);
    assert_int_equal (f->price, 10005);
    assert_false (f->reconciled_exit);
    //  The position is explained by the fill: no position finding.
    assert_int_equal (v->res.counts[RECON_C_UNKNOWN_POSITION], 0);
    //  Once applied, the next run agrees.
    s_known (v, "C1", "00000001");
    s_rpos (v, 75);
    v->r.ord[0].status = KT_OS_FILLED;
    assert_int_equal (s_diff (v), 0);
}

static void
test_trade_of_an_order_not_yet_listed_waits (void **state)
{
    struct views *v = *state;
    s_rord (v, "C1", KT_OS_OPEN, KT_PURPOSE_ENTRY, KT_SIDE_BUY);
    s_bord (v, "251124000000001", "C1", "OPEN", KT_SIDE_BUY, 75);
    //  The trade book was read after a fill of an order the order book did not show yet.
    s_btrade (v, "00000009", "251124000000099", KT_SIDE_BUY, 75, 10005);
    assert_int_equal (s_diff (v), 0);
}

static void
test_closed_by_stop (void **state)
{
    struct views *v = *state;
    s_rpos (v, -75);
    s_rord (v, "S1", KT_OS_OPEN, KT_PURPOSE_STOP, KT_SIDE_BUY);
    s_bord (v, "251124000000003", "S1", "COMPLETE", KT_SIDE_BUY, 75);
    s_btrade (v, "00000003", "251124000000003", KT_SIDE_BUY, 75, 13000);
    s_bpos (v, SYM, 0, 0);
    assert_int_equal (s_diff (v), 1);
    const struct recon_finding *f = &v->res.f[0];
    assert_int_equal (f->cls, RECON_C_CLOSED_BY_STOP);
    assert_int_equal (f->action, RECON_A_FILL);
    assert_true (f->reconciled_exit);
    assert_int_equal (v->res.counts[RECON_C_CLOSED_BY_STOP], 1);
    assert_int_equal (v->res.counts[RECON_C_MISSING_FILL], 0);
}

static void
test_venue_square_off (void **state)
{
    struct views *v = *state;
    s_rpos (v, -75);
    struct recon_bord *o = s_bord (v, "251124000000007", "", "COMPLETE", KT_SIDE_BUY, 75);
    snprintf (o->placed_by, sizeof o->placed_by, RECON_PLACED_BY_VENUE);
    s_btrade (v, "00000007", "251124000000007", KT_SIDE_BUY, 75, 12000);
    s_bpos (v, SYM, 0, 0);
    assert_int_equal (s_diff (v), 1);
    const struct recon_finding *f = &v->res.f[0];
    assert_int_equal (f->cls, RECON_C_VENUE_CLOSE);
    assert_int_equal (f->action, RECON_A_VENUE);
    assert_string_equal (f->coid, "v251124000000007");
    assert_int_equal (f->order_qty, 75);
    assert_true (f->reconciled_exit);
    //  Booked under its own coid, the trade is not found again.
    s_rord (v, "v251124000000007", KT_OS_FILLED, KT_PURPOSE_EXIT, KT_SIDE_BUY);
    s_known (v, "v251124000000007", "00000007");
    v->r.npos = 0;
    assert_int_equal (s_diff (v), 0);
    //  A venue order left open in the book (part filled, then cancelled at the broker)
    //  is found under its order id and settled from the broker, not "missing".
    v->r.ord[0].status = KT_OS_PARTIAL;
    snprintf (v->b.ord[0].status, sizeof v->b.ord[0].status, "CANCELLED");
    v->opts.retry_runs = 1;
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].cls, RECON_C_ORDER_STATE);
    assert_int_equal (v->res.f[0].action, RECON_A_SETTLE);
    assert_int_equal (v->res.f[0].settle_status, KT_OS_CANCELLED);
    assert_string_equal (v->res.f[0].coid, "v251124000000007");
}

static void
test_venue_close_of_a_position_we_never_had (void **state)
{
    struct views *v = *state;
    //  The venue squares off a position the book does not hold (someone else's, or one
    //  we halted on): booking it would open one. Nothing to book, positions agree.
    struct recon_bord *o = s_bord (v, "251124000000008", "", "COMPLETE", KT_SIDE_BUY, 75);
    snprintf (o->placed_by, sizeof o->placed_by, RECON_PLACED_BY_VENUE);
    s_btrade (v, "00000008", "251124000000008", KT_SIDE_BUY, 75, 12000);
    s_bpos (v, SYM, 0, 0);
    assert_int_equal (s_diff (v), 0);
    //  Nor one that would add to a long.
    s_rpos (v, 75);
    s_bpos (v, SYM, 75, 12000);
    v->b.pos[0].qty = 0;
    assert_int_equal (s_diff (v), 0);
}

//  ---- positions -------------------------------------------------------------------------

static void
test_qty_mismatch_halts_after_the_budget (void **state)
{
    struct views *v = *state;
    s_rpos (v, 75);
    s_bpos (v, SYM, 150, 10000);
    for (int run = 1; run <= 3; run++) {
        assert_int_equal (s_diff (v), 1);
        const struct recon_finding *f = &v->res.f[0];
        assert_int_equal (f->cls, RECON_C_QTY_MISMATCH);
        assert_false (f->proven);
        assert_int_equal (f->seen, run);
        assert_int_equal (f->broker_qty, 150);
        assert_int_equal (f->redis_qty, 75);
        assert_int_equal (f->action, run < 3 ? RECON_A_NONE : RECON_A_HALT);
        assert_int_equal (v->res.unconfirmed, run < 3 ? 1 : 0);
    }
    //  Different numbers are a different finding: the count starts again.
    v->b.pos[0].qty = 225;
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].seen, 1);
    assert_int_equal (v->res.f[0].action, RECON_A_NONE);
    //  A run that does not see it forgets it.
    v->b.pos[0].qty = 75;
    assert_int_equal (s_diff (v), 0);
    assert_int_equal (v->pending.n, 0);
}

static void
test_position_gone_at_broker_is_a_mismatch (void **state)
{
    struct views *v = *state;
    s_rpos (v, -75);
    v->opts.retry_runs = 1;
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].cls, RECON_C_QTY_MISMATCH);
    assert_int_equal (v->res.f[0].broker_qty, 0);
    assert_int_equal (v->res.f[0].action, RECON_A_HALT);
}

static void
test_unknown_position_halt_or_adopt (void **state)
{
    struct views *v = *state;
    s_bpos (v, SYM, -75, 14550);
    v->opts.retry_runs = 2;
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].cls, RECON_C_UNKNOWN_POSITION);
    assert_int_equal (v->res.f[0].action, RECON_A_NONE);
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].action, RECON_A_HALT);

    v->opts.unknown = RECON_UNKNOWN_ADOPT;
    assert_int_equal (s_diff (v), 1);
    const struct recon_finding *f = &v->res.f[0];
    assert_int_equal (f->action, RECON_A_ADOPT);
    assert_int_equal (f->side, KT_SIDE_SELL);
    assert_int_equal (f->qty, 75);
    assert_int_equal (f->price, 14550);
    assert_int_equal (f->broker_qty, -75);
    assert_int_equal (f->redis_qty, 0);
    assert_int_equal (f->token, 12345602);
    //  Without any price to book it at, adopting is impossible: halt.
    v->b.pos[0].avg_px = v->b.pos[0].last_px = 0;
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].action, RECON_A_HALT);
}

//  ---- orders ------------------------------------------------------------------------------

static void
test_unresolved_settled_by_tag (void **state)
{
    struct views *v = *state;
    s_rord (v, "U1", KT_OS_UNRESOLVED, KT_PURPOSE_ENTRY, KT_SIDE_SELL);
    s_rord (v, "U2", KT_OS_UNRESOLVED, KT_PURPOSE_ENTRY, KT_SIDE_SELL);
    s_rord (v, "U3", KT_OS_UNRESOLVED, KT_PURPOSE_ENTRY, KT_SIDE_SELL);
    s_bord (v, "251124000000011", "U1", "TRIGGER PENDING", KT_SIDE_SELL, 75);
    s_bord (v, "251124000000012", "U2", "REJECTED", KT_SIDE_SELL, 75);
    s_bord (v, "251124000000013", "U3", "COMPLETE", KT_SIDE_SELL, 75);
    assert_int_equal (s_diff (v), 3);
    kt_ord_status_t want[] = {KT_OS_OPEN, KT_OS_REJECTED, KT_OS_OPEN};
    for (int i = 0; i < 3; i++) {
        const struct recon_finding *f = &v->res.f[i];
        assert_int_equal (f->cls, RECON_C_UNRESOLVED);
        assert_int_equal (f->action, RECON_A_SETTLE);
        assert_true (f->proven);
        assert_int_equal (f->redis_status, KT_OS_UNRESOLVED);
        assert_int_equal (f->settle_status, want[i]);
    }
    assert_string_equal (v->res.f[1].order_id, "251124000000012");
    assert_int_equal (v->res.counts[RECON_C_UNRESOLVED], 3);
}

static void
test_unresolved_not_at_broker_after_the_budget (void **state)
{
    struct views *v = *state;
    s_rord (v, "U9", KT_OS_UNRESOLVED, KT_PURPOSE_ENTRY, KT_SIDE_SELL);
    for (int run = 1; run <= 3; run++) {
        assert_int_equal (s_diff (v), 1);
        const struct recon_finding *f = &v->res.f[0];
        assert_int_equal (f->cls, RECON_C_UNRESOLVED);
        assert_int_equal (f->seen, run);
        assert_int_equal (f->action, run < 3 ? RECON_A_NONE : RECON_A_SETTLE);
        assert_int_equal (f->settle_status, KT_OS_REJECTED);
        assert_string_equal (f->broker_status, "");
    }
    //  The broker shows it after all (its books lagged): found, settled from its state.
    s_bord (v, "251124000000021", "U9", "OPEN", KT_SIDE_SELL, 75);
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].action, RECON_A_SETTLE);
    assert_int_equal (v->res.f[0].settle_status, KT_OS_OPEN);
    assert_true (v->res.f[0].proven);
}

static void
test_pending_submit_not_at_broker_is_only_reported (void **state)
{
    struct views *v = *state;
    s_rord (v, "S9", KT_OS_PENDING_SUBMIT, KT_PURPOSE_STOP, KT_SIDE_BUY);
    v->opts.retry_runs = 2;
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].cls, RECON_C_ORDER_STATE);
    assert_int_equal (v->res.f[0].action, RECON_A_NONE);
    assert_int_equal (s_diff (v), 1);
    //  exec-gateway's to send: a person is told, nothing is settled.
    assert_int_equal (v->res.f[0].action, RECON_A_ALERT);
    assert_int_equal (v->res.f[0].settle_status, KT_OS_NONE);
    assert_non_null (strstr (v->res.f[0].text, "exec-gateway has not sent it"));
    //  Once at the broker it is settled from there.
    s_bord (v, "251124000000051", "S9", "TRIGGER PENDING", KT_SIDE_BUY, 75);
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].cls, RECON_C_UNRESOLVED);
    assert_int_equal (v->res.f[0].settle_status, KT_OS_OPEN);
}

static void
test_order_state_differences (void **state)
{
    struct views *v = *state;
    s_rord (v, "C1", KT_OS_OPEN, KT_PURPOSE_ENTRY, KT_SIDE_SELL);
    s_rord (v, "C2", KT_OS_CANCELLED, KT_PURPOSE_ENTRY, KT_SIDE_SELL);
    s_rord (v, "C3", KT_OS_PARTIAL, KT_PURPOSE_ENTRY, KT_SIDE_SELL);
    struct recon_bord *o = s_bord (v, "251124000000031", "C1", "CANCELLED", KT_SIDE_SELL, 75);
    snprintf (o->message, sizeof o->message, "Order cancelled by the exchange");
    s_bord (v, "251124000000032", "C2", "OPEN", KT_SIDE_SELL, 75);
    v->opts.retry_runs = 2;
    assert_int_equal (s_diff (v), 3);
    const struct recon_finding *f = &v->res.f[0];
    assert_int_equal (f->cls, RECON_C_ORDER_STATE);
    assert_int_equal (f->action, RECON_A_SETTLE);
    assert_int_equal (f->settle_status, KT_OS_CANCELLED);
    assert_non_null (strstr (f->text, "Order cancelled by the exchange"));
    //  Working at the broker but finished in the book: a person must look, after the budget.
    f = &v->res.f[1];
    assert_int_equal (f->cls, RECON_C_ORDER_STATE);
    assert_string_equal (f->coid, "C2");
    assert_int_equal (f->action, RECON_A_NONE);
    //  Open in the book, missing from the broker's day: expired, after the budget.
    f = &v->res.f[2];
    assert_string_equal (f->coid, "C3");
    assert_int_equal (f->settle_status, KT_OS_EXPIRED);
    assert_int_equal (f->action, RECON_A_NONE);
    assert_int_equal (s_diff (v), 3);
    assert_int_equal (v->res.f[1].action, RECON_A_ALERT);
    assert_int_equal (v->res.f[2].action, RECON_A_SETTLE);
}

static void
test_sliced_order_is_at_the_broker_through_its_slices (void **state)
{
    struct views *v = *state;
    //  exec-gateway sends 2 slices of P1, each its own order tagged with its own coid.
    s_rord (v, "P1", KT_OS_OPEN, KT_PURPOSE_ENTRY, KT_SIDE_SELL);
    snprintf (s_rord (v, "P1s0", KT_OS_OPEN, KT_PURPOSE_ENTRY, KT_SIDE_SELL)->parent, KT_ID_LEN,
              "P1");
    snprintf (s_rord (v, "P1s1", KT_OS_OPEN, KT_PURPOSE_ENTRY, KT_SIDE_SELL)->parent, KT_ID_LEN,
              "P1");
    s_bord (v, "251124000000041", "P1s0", "OPEN", KT_SIDE_SELL, 75);
    s_bord (v, "251124000000042", "P1s1", "OPEN", KT_SIDE_SELL, 75);
    v->opts.retry_runs = 1;
    assert_int_equal (s_diff (v), 0);
    //  A parent none of whose slices reached the broker is missing like any order.
    v->b.nord = 0;
    assert_int_equal (s_diff (v), 3);
}

static void
test_kite_status_words (void **state)
{
    (void) state;
    assert_int_equal (recon_kite_status ("COMPLETE"), KT_OS_FILLED);
    assert_int_equal (recon_kite_status ("CANCELLED"), KT_OS_CANCELLED);
    assert_int_equal (recon_kite_status ("CANCELLED AMO"), KT_OS_CANCELLED);
    assert_int_equal (recon_kite_status ("REJECTED"), KT_OS_REJECTED);
    assert_int_equal (recon_kite_status ("TRIGGER PENDING"), KT_OS_OPEN);
    assert_int_equal (recon_kite_status ("VALIDATION PENDING"), KT_OS_OPEN);
    assert_int_equal (recon_kite_status (""), KT_OS_NONE);
}

//  ---- the official fixtures -----------------------------------------------------------------

static char *
s_read (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    assert_int_equal (fread (buf, 1, (size_t) n, f), (size_t) n);
    buf[n] = '\0';
    fclose (f);
    *len = (size_t) n;
    return buf;
}

static void
s_load_fixtures (struct views *v)
{
    char why[256] = "";
    size_t len;
    char *t = s_read (FIX "positions.json", &len);
    assert_int_equal (recon_broker_judge (200, t, len, why, sizeof why), RECON_B_OK);
    assert_int_equal (recon_broker_parse_positions (&v->b, t, len, why, sizeof why), 0);
    free (t);
    t = s_read (FIX "orders.json", &len);
    assert_int_equal (recon_broker_parse_orders (&v->b, t, len, why, sizeof why), 0);
    free (t);
    t = s_read (FIX "trades.json", &len);
    assert_int_equal (recon_broker_parse_trades (&v->b, t, len, why, sizeof why), 0);
    free (t);
}

static void
test_fixtures_parse_exactly (void **state)
{
    struct views *v = *state;
    s_load_fixtures (v);
    assert_int_equal (v->b.npos, 3);
    assert_string_equal (v->b.pos[0].sym, "LEADMINI17DECFUT");
    assert_int_equal (v->b.pos[0].qty, 1);
    assert_int_equal (v->b.pos[0].avg_px, 16105);
    assert_string_equal (v->b.pos[1].sym, "GOLDGUINEA17DECFUT");
    assert_int_equal (v->b.pos[1].qty, 0);
    assert_int_equal (v->b.nord, 10);
    //  19-digit ids survive (a double would not keep them).
    assert_string_equal (v->b.ord[8].order_id, "1953341975595868160");
    assert_string_equal (v->b.ord[4].tag, "connect test order1");
    assert_string_equal (v->b.ord[0].tag, "");
    assert_string_equal (v->b.ord[0].status, "CANCELLED");
    assert_int_equal (v->b.ord[0].price, 7200);
    assert_int_equal (v->b.ord[9].filled_qty, 150);
    assert_int_equal (v->b.ord[9].side, KT_SIDE_BUY);
    assert_int_equal (v->b.ntrade, 4);
    assert_string_equal (v->b.trade[0].trade_id, "10000000");
    assert_int_equal (v->b.trade[0].price, 42065);
    //  72.755 rupees: 7275.5 paise, rounded half away from zero, never through a double.
    assert_int_equal (v->b.trade[1].price, 7276);
    assert_int_equal (v->b.trade[0].side, KT_SIDE_BUY);
    assert_int_equal (v->b.trade[0].ts_ns, kt_ist_ns (2021, 5, 31, 9, 16, 39));
}

static void
test_fixtures_against_an_empty_book (void **state)
{
    struct views *v = *state;
    s_load_fixtures (v);
    //  The LEADMINI long is the only open position; no order carries a tag of ours.
    v->opts.retry_runs = 1;
    assert_int_equal (s_diff (v), 1);
    const struct recon_finding *f = &v->res.f[0];
    assert_int_equal (f->cls, RECON_C_UNKNOWN_POSITION);
    assert_string_equal (f->sym, "LEADMINI17DECFUT");
    assert_int_equal (f->broker_qty, 1);
    assert_int_equal (f->action, RECON_A_HALT);
    v->opts.unknown = RECON_UNKNOWN_ADOPT;
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].action, RECON_A_ADOPT);
    assert_int_equal (v->res.f[0].price, 16105);
    assert_int_equal (v->res.f[0].side, KT_SIDE_BUY);
}

static void
test_fixture_order_of_ours (void **state)
{
    struct views *v = *state;
    s_load_fixtures (v);
    //  Say "connect test order1" were our coid, UNRESOLVED in the book: the broker's
    //  COMPLETE settles it (OPEN; its fills finish it).
    struct kt_order_rec *o = &v->r.ord[v->r.nord++];
    memset (o, 0, sizeof *o);
    snprintf (o->coid, sizeof o->coid, "connect test order1");
    snprintf (o->sym, sizeof o->sym, "GOLDPETAL21JUNFUT");
    o->status = KT_OS_UNRESOLVED;
    struct kt_pos_rec *p = &v->r.pos[v->r.npos++];
    memset (p, 0, sizeof *p);
    snprintf (p->sym, sizeof p->sym, "LEADMINI17DECFUT");
    p->qty = 1;
    assert_int_equal (s_diff (v), 1);
    assert_int_equal (v->res.f[0].cls, RECON_C_UNRESOLVED);
    assert_int_equal (v->res.f[0].settle_status, KT_OS_OPEN);
    assert_string_equal (v->res.f[0].order_id, "700000000000000");
}

//  ---- broker answers -------------------------------------------------------------------------

static void
test_broker_answers_judged (void **state)
{
    (void) state;
    char why[256];
    const char *tok = "{\"status\":\"error\",\"message\":\"Incorrect `api_key` or "
                      "`access_token`.\",\"error_type\":\"TokenException\",\"data\":null}";
    assert_int_equal (recon_broker_judge (403, tok, strlen (tok), why, sizeof why), RECON_B_TOKEN);
    assert_non_null (strstr (why, "TokenException"));
    assert_non_null (strstr (why, "403"));
    const char *net = "{\"status\":\"error\",\"message\":\"Too many requests\","
                      "\"error_type\":\"NetworkException\"}";
    assert_int_equal (recon_broker_judge (429, net, strlen (net), why, sizeof why), RECON_B_ERROR);
    const char *html = "<html>Bad gateway</html>";
    assert_int_equal (recon_broker_judge (502, html, strlen (html), why, sizeof why),
                      RECON_B_ERROR);
    assert_int_equal (recon_broker_judge (200, html, strlen (html), why, sizeof why), RECON_B_BAD);
    const char *ok = "{\"status\":\"success\",\"data\":[]}";
    assert_int_equal (recon_broker_judge (200, ok, strlen (ok), why, sizeof why), RECON_B_OK);
}

static void
test_malformed_rows_refused_whole (void **state)
{
    struct views *v = *state;
    char why[256];
    const char *t = "{\"status\":\"success\",\"data\":[{\"trade_id\":\"1\",\"order_id\":\"2\","
                    "\"tradingsymbol\":\"X\",\"transaction_type\":\"BUY\",\"quantity\":75,"
                    "\"average_price\":10.5},{\"order_id\":\"3\"}]}";
    assert_int_equal (recon_broker_parse_trades (&v->b, t, strlen (t), why, sizeof why), -1);
    assert_non_null (strstr (why, "trade row 1: trade_id"));
    assert_int_equal (v->b.ntrade, 0);
    const char *q = "{\"status\":\"success\",\"data\":[{\"order_id\":\"1\",\"status\":\"OPEN\","
                    "\"tradingsymbol\":\"X\",\"quantity\":7.5}]}";
    assert_int_equal (recon_broker_parse_orders (&v->b, q, strlen (q), why, sizeof why), -1);
    assert_non_null (strstr (why, "quantity"));
    const char *p = "{\"status\":\"success\",\"data\":{\"day\":[]}}";
    assert_int_equal (recon_broker_parse_positions (&v->b, p, strlen (p), why, sizeof why), -1);
    assert_non_null (strstr (why, "data.net"));
    //  Bare numbers, the shortest inputs (each grows by two quotes when read).
    static const char *const tiny[] = {"8", "-", "1,2", "12345678901234567890", ""};
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        assert_int_equal (
            recon_broker_parse_trades (&v->b, tiny[i], strlen (tiny[i]), why, sizeof why), -1);
        assert_int_equal (recon_broker_judge (200, tiny[i], strlen (tiny[i]), why, sizeof why),
                          RECON_B_BAD);
    }
    const char *junk = "{\"data\":[1,2";
    assert_int_equal (recon_broker_parse_orders (&v->b, junk, strlen (junk), why, sizeof why), -1);
}

int
main (void)
{
#define T(f) cmocka_unit_test_setup_teardown (f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T (test_empty_books_agree),
        T (test_matching_books_agree),
        T (test_missing_fill_applied_at_once),
        T (test_trade_of_an_order_not_yet_listed_waits),
        T (test_closed_by_stop),
        T (test_venue_square_off),
        T (test_venue_close_of_a_position_we_never_had),
        T (test_qty_mismatch_halts_after_the_budget),
        T (test_position_gone_at_broker_is_a_mismatch),
        T (test_unknown_position_halt_or_adopt),
        T (test_unresolved_settled_by_tag),
        T (test_unresolved_not_at_broker_after_the_budget),
        T (test_pending_submit_not_at_broker_is_only_reported),
        T (test_order_state_differences),
        T (test_sliced_order_is_at_the_broker_through_its_slices),
        T (test_kite_status_words),
        T (test_fixtures_parse_exactly),
        T (test_fixtures_against_an_empty_book),
        T (test_fixture_order_of_ours),
        T (test_broker_answers_judged),
        T (test_malformed_rows_refused_whole),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
