/*  recon_act_test - the reconciler's actions on a real Redis book: the view it reads,
 *  the venue's square-off booked once, a settle done once, an adoption, the kill
 *  switch, and one `events` entry per finding with both views. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../reconciler/recon.h"
#include "kt_testctx.h"

#define SYM "NIFTY25N2524000CE"

struct fx {
    kt_testctx_t t;
    kt_store_t *st;
    struct recon_result *res;
};

static int
s_setup (void **state)
{
    struct fx *x = calloc (1, sizeof *x);
    if (kt_testctx_start (&x->t, "reconciler", "recon-act") != 0)
        return -1;
    x->st = kt_proc_store (x->t.proc);
    x->res = calloc (1, sizeof *x->res);
    *state = x;
    return 0;
}

static int
s_teardown (void **state)
{
    struct fx *x = *state;
    kt_testctx_stop (&x->t);
    free (x->res);
    free (x);
    return 0;
}

//  Let the queued writes (events) reach Redis.
static void
s_written (struct fx *x)
{
    for (int i = 0; i < 500 && kt_store_stats (x->st).queued > 0; i++)
        kt_testctx_spin (&x->t, 1, 10, NULL);
    assert_int_equal (kt_store_stats (x->st).queued, 0);
}

static void
s_order (struct fx *x, const char *coid, kt_side_t side, kt_ord_status_t st)
{
    struct kt_order_rec o = {0};
    snprintf (o.coid, sizeof o.coid, "%s", coid);
    snprintf (o.sym, sizeof o.sym, SYM);
    o.side = side;
    o.order_type = KT_OT_MARKET;
    o.product = KT_PROD_MIS;
    o.purpose = KT_PURPOSE_ENTRY;
    o.qty = 75;
    o.status = st;
    char why[256];
    assert_int_equal (kt_book_order_create (x->st, &o, 1000, NULL, why, sizeof why), 1);
}

static void
s_fill (struct fx *x, const char *coid, const char *tid, int64_t px)
{
    struct kt_book_fill f = {.qty = 75, .price = px, .ts_ns = 2000};
    snprintf (f.coid, sizeof f.coid, "%s", coid);
    snprintf (f.trade_id, sizeof f.trade_id, "%s", tid);
    struct kt_book_fill_result r;
    char why[256];
    assert_int_equal (kt_book_fill (x->st, &f, &r, why, sizeof why), 0);
}

static struct recon_finding *
s_finding (struct fx *x, recon_class_t cls, recon_action_t act)
{
    struct recon_finding *f = &x->res->f[x->res->n++];
    memset (f, 0, sizeof *f);
    f->cls = cls;
    f->action = act;
    f->proven = true;
    f->seen = 1;
    snprintf (f->sym, sizeof f->sym, SYM);
    x->res->counts[cls]++;
    return f;
}

static char *
s_hget (struct fx *x, const char *key, const char *field, char *buf, size_t len)
{
    return kt_testctx_hget (&x->t, key, field, buf, len);
}

//  recon.finding entries in `events` with field=value.
static int
s_events (struct fx *x, const char *field, const char *value)
{
    s_written (x);
    kt_store_result_t r = kt_store_callf (x->st, "XRANGE kt:events - +");
    int n = 0;
    for (size_t i = 0; i < r.elements; i++) {
        kt_store_result_t e = kt_store_result_at (&r, i);
        kt_store_result_t f = kt_store_result_at (&e, 1);
        bool finding = false, match = false;
        for (size_t k = 0; k + 1 < f.elements; k += 2) {
            kt_store_result_t a = kt_store_result_at (&f, k), b = kt_store_result_at (&f, k + 1);
            finding |= strcmp (a.str, "type") == 0 && strcmp (b.str, "recon.finding") == 0;
            match |= strcmp (a.str, field) == 0 && strcmp (b.str, value) == 0;
        }
        n += finding && match;
    }
    kt_store_result_free (&r);
    return n;
}

static void
test_view_of_the_book (void **state)
{
    struct fx *x = *state;
    s_order (x, "E1", KT_SIDE_SELL, KT_OS_OPEN);
    s_fill (x, "E1", "T1", 15000);
    s_order (x, "D1", KT_SIDE_BUY, KT_OS_OPEN);
    struct kt_order_rec d = {0};
    char why[256];
    assert_int_equal (kt_book_order_get (x->st, "D1", &d, why, sizeof why), 1);
    d.status = KT_OS_CANCELLED;
    assert_int_equal (kt_book_order_update (x->st, &d, 3000, why, sizeof why), 0);
    s_order (x, "O1", KT_SIDE_BUY, KT_OS_UNRESOLVED);

    struct recon_broker b;
    recon_broker_init (&b);
    //  The broker names D1 (finished in the book, so not among the open orders).
    b.nord = 1;
    snprintf (b.ord[0].order_id, sizeof b.ord[0].order_id, "9001");
    snprintf (b.ord[0].tag, sizeof b.ord[0].tag, "D1");
    struct recon_redis r;
    recon_redis_init (&r);
    assert_int_equal (recon_redis_read (x->st, &b, &r, why, sizeof why), 0);
    assert_int_equal (r.npos, 1);
    assert_string_equal (r.pos[0].sym, SYM);
    assert_int_equal (r.pos[0].qty, -75);
    assert_int_equal (r.nord, 2); //  O1 (open) and D1 (named by the broker); E1 is filled
    bool o1 = false, d1 = false;
    for (int i = 0; i < r.nord; i++) {
        o1 |= strcmp (r.ord[i].coid, "O1") == 0 && r.ord[i].status == KT_OS_UNRESOLVED;
        d1 |= strcmp (r.ord[i].coid, "D1") == 0 && r.ord[i].status == KT_OS_CANCELLED;
    }
    assert_true (o1 && d1);
    recon_broker_free (&b);
    recon_redis_free (&r);
}

static void
test_venue_close_booked_once (void **state)
{
    struct fx *x = *state;
    s_order (x, "E1", KT_SIDE_SELL, KT_OS_OPEN);
    s_fill (x, "E1", "T1", 15000);
    struct recon_finding *f = s_finding (x, RECON_C_VENUE_CLOSE, RECON_A_VENUE);
    snprintf (f->coid, sizeof f->coid, "v9002");
    snprintf (f->order_id, sizeof f->order_id, "9002");
    snprintf (f->trade_id, sizeof f->trade_id, "T2");
    snprintf (f->broker_status, sizeof f->broker_status, "COMPLETE");
    f->side = KT_SIDE_BUY;
    f->qty = f->order_qty = 75;
    f->price = 12000;
    f->reconciled_exit = true;
    struct recon_act_stats st;
    recon_act (x->t.proc, x->res, 5000, &st);
    assert_int_equal (st.applied, 1);
    assert_int_equal (st.failed, 0);
    char buf[64];
    assert_string_equal (s_hget (x, "kt:pos:" SYM, "qty", buf, sizeof buf), "0");
    assert_string_equal (s_hget (x, "kt:pos:" SYM, "exit_reason", buf, sizeof buf), "RECONCILED");
    //  (150.00 - 120.00) x 75 realised on the short.
    assert_string_equal (s_hget (x, "kt:pos:" SYM, "realised", buf, sizeof buf), "225000");
    assert_string_equal (s_hget (x, "kt:order:v9002", "intent_id", buf, sizeof buf), "VENUE");
    assert_string_equal (s_hget (x, "kt:order:v9002", "status", buf, sizeof buf), "FILLED");
    assert_string_equal (s_hget (x, "kt:order:v9002", "broker_id", buf, sizeof buf), "9002");
    //  Reported again (a lagging run): nothing more.
    recon_act (x->t.proc, x->res, 6000, &st);
    assert_int_equal (st.applied, 0);
    assert_string_equal (s_hget (x, "kt:pos:" SYM, "realised", buf, sizeof buf), "225000");
    assert_int_equal (s_events (x, "outcome", "duplicate"), 1);
    assert_int_equal (s_events (x, "class", "venue_close"), 2);
}

static void
test_settle_once (void **state)
{
    struct fx *x = *state;
    s_order (x, "U1", KT_SIDE_SELL, KT_OS_UNRESOLVED);
    struct recon_finding *f = s_finding (x, RECON_C_UNRESOLVED, RECON_A_SETTLE);
    snprintf (f->coid, sizeof f->coid, "U1");
    snprintf (f->order_id, sizeof f->order_id, "9003");
    snprintf (f->broker_status, sizeof f->broker_status, "TRIGGER PENDING");
    f->redis_status = KT_OS_UNRESOLVED;
    f->settle_status = KT_OS_OPEN;
    struct recon_act_stats st;
    recon_act (x->t.proc, x->res, 5000, &st);
    assert_int_equal (st.settled, 1);
    char buf[64];
    assert_string_equal (s_hget (x, "kt:order:U1", "status", buf, sizeof buf), "OPEN");
    assert_string_equal (s_hget (x, "kt:order:U1", "broker_id", buf, sizeof buf), "9003");
    assert_string_equal (s_hget (x, "kt:order:U1", "broker_status", buf, sizeof buf),
                         "TRIGGER PENDING");
    //  The same finding again (or exec-gateway settled it meanwhile): left alone.
    recon_act (x->t.proc, x->res, 6000, &st);
    assert_int_equal (st.settled, 0);
    assert_int_equal (s_events (x, "outcome", "already_settled"), 1);
    //  Not at the broker: REJECTED with the reason.
    s_order (x, "U2", KT_SIDE_SELL, KT_OS_UNRESOLVED);
    x->res->n = 0;
    f = s_finding (x, RECON_C_UNRESOLVED, RECON_A_SETTLE);
    snprintf (f->coid, sizeof f->coid, "U2");
    snprintf (f->text, sizeof f->text, "order U2 (UNRESOLVED) is not in the broker's order book");
    f->redis_status = KT_OS_UNRESOLVED;
    f->settle_status = KT_OS_REJECTED;
    recon_act (x->t.proc, x->res, 7000, &st);
    assert_string_equal (s_hget (x, "kt:order:U2", "status", buf, sizeof buf), "REJECTED");
    char reason[160];
    s_hget (x, "kt:order:U2", "reason", reason, sizeof reason);
    assert_true (strncmp (reason, "NOT_AT_BROKER: ", 15) == 0);
    kt_store_result_t r = kt_store_callf (x->st, "SISMEMBER kt:orders:open U2");
    assert_int_equal (r.integer, 0);
    kt_store_result_free (&r);
}

static void
test_adopt_and_halt (void **state)
{
    struct fx *x = *state;
    struct recon_finding *f = s_finding (x, RECON_C_UNKNOWN_POSITION, RECON_A_ADOPT);
    f->side = KT_SIDE_SELL;
    f->qty = 150;
    f->price = 14550;
    f->broker_qty = -150;
    f->token = 12345602;
    f->proven = false;
    f->seen = 3;
    struct recon_finding *g = s_finding (x, RECON_C_QTY_MISMATCH, RECON_A_HALT);
    snprintf (g->sym, sizeof g->sym, "NIFTY25N2524100PE");
    snprintf (g->text, sizeof g->text, "NIFTY25N2524100PE: broker 75, book 150");
    g->broker_qty = 75;
    g->redis_qty = 150;
    g->proven = false;
    struct recon_act_stats st;
    recon_act (x->t.proc, x->res, 5000000000, &st);
    assert_int_equal (st.adopted, 1);
    assert_int_equal (st.halted, 1);
    char buf[160], coid[32];
    assert_string_equal (s_hget (x, "kt:pos:" SYM, "qty", buf, sizeof buf), "-150");
    assert_string_equal (s_hget (x, "kt:pos:" SYM, "avg_px", buf, sizeof buf), "14550");
    assert_string_equal (s_hget (x, "kt:pos:" SYM, "token", buf, sizeof buf), "12345602");
    s_hget (x, "kt:pos:" SYM, "entry_coid", coid, sizeof coid);
    assert_true (coid[0] == 'x' && strlen (coid) <= 20);
    char key[64];
    snprintf (key, sizeof key, "kt:order:%s", coid);
    assert_string_equal (s_hget (x, key, "intent_id", buf, sizeof buf), "EXTERNAL");
    assert_string_equal (s_hget (x, "kt:risk:kill", "active", buf, sizeof buf), "1");
    assert_string_equal (s_hget (x, "kt:risk:kill", "by", buf, sizeof buf), "reconciler");
    assert_string_equal (s_hget (x, "kt:risk:kill", "reason", buf, sizeof buf),
                         "RECON: NIFTY25N2524100PE: broker 75, book 150");
    //  Both views in the finding's entry.
    assert_int_equal (s_events (x, "class", "qty_mismatch"), 1);
    assert_int_equal (s_events (x, "broker_qty", "75"), 1);
    assert_int_equal (s_events (x, "redis_qty", "150"), 1);
    assert_int_equal (s_events (x, "action", "adopt"), 1);
    //  The next run halts again: the standing switch keeps its first reason and time.
    char since[32];
    s_hget (x, "kt:risk:kill", "since_ns", since, sizeof since);
    snprintf (g->text, sizeof g->text, "NIFTY25N2524100PE: broker 0, book 150");
    x->res->n = 0;
    struct recon_finding again = *g;
    x->res->f[x->res->n++] = again;
    recon_act (x->t.proc, x->res, 9000000000, &st);
    assert_int_equal (st.halted, 1);
    assert_string_equal (s_hget (x, "kt:risk:kill", "since_ns", buf, sizeof buf), since);
    assert_string_equal (s_hget (x, "kt:risk:kill", "reason", buf, sizeof buf),
                         "RECON: NIFTY25N2524100PE: broker 75, book 150");
    assert_int_equal (s_events (x, "outcome", "already_halted"), 1);
}

static void
test_waiting_findings_change_nothing (void **state)
{
    struct fx *x = *state;
    struct recon_finding *f = s_finding (x, RECON_C_QTY_MISMATCH, RECON_A_NONE);
    f->proven = false;
    f->broker_qty = 75;
    f->redis_qty = 150;
    struct recon_act_stats st;
    recon_act (x->t.proc, x->res, 5000, &st);
    assert_int_equal (st.halted, 0);
    char buf[16];
    assert_string_equal (s_hget (x, "kt:risk:kill", "active", buf, sizeof buf), "");
    assert_int_equal (s_events (x, "outcome", "waiting"), 1);
}

int
main (void)
{
#define T(f) cmocka_unit_test_setup_teardown (f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T (test_view_of_the_book), T (test_venue_close_booked_once),         T (test_settle_once),
        T (test_adopt_and_halt),   T (test_waiting_findings_change_nothing),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
