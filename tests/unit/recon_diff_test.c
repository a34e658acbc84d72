/*  recon_diff_test - every class of finding: on the official fixtures (positions.json,
 *  orders.json, trades.json) against a book of ours made to meet them, and on small
 *  hand-made cases (closed by our stop, the broker's square-off, a missing fill that
 *  explains a difference, the retry budget for "not found"). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../reconciler/recon.h"
#include "kt_testfix.h"

#define SYM "NIFTY25N1824000CE"

static struct recon_ours_order
s_order (const char *coid, const char *broker_id, const char *sym, kt_side_t side, int64_t qty,
         kt_ord_status_t status, int not_found_runs)
{
    struct recon_ours_order o = {.not_found_runs = not_found_runs};
    snprintf (o.rec.coid, sizeof o.rec.coid, "%s", coid);
    snprintf (o.rec.broker_id, sizeof o.rec.broker_id, "%s", broker_id);
    snprintf (o.rec.sym, sizeof o.rec.sym, "%s", sym);
    o.rec.side = side;
    o.rec.qty = qty;
    o.rec.status = status;
    return o;
}

static struct recon_border
s_border (const char *id, const char *tag, const char *by, const char *status, kt_side_t side,
          int64_t qty, int64_t filled)
{
    struct recon_border b = {.side = side, .qty = qty, .filled = filled};
    snprintf (b.order_id, sizeof b.order_id, "%s", id);
    snprintf (b.tag, sizeof b.tag, "%s", tag);
    snprintf (b.placed_by, sizeof b.placed_by, "%s", by);
    snprintf (b.status, sizeof b.status, "%s", status);
    snprintf (b.sym, sizeof b.sym, SYM);
    return b;
}

static struct recon_btrade
s_trade (const char *id, const char *order_id, kt_side_t side, int64_t qty)
{
    struct recon_btrade t = {.side = side, .qty = qty, .price = 12345};
    snprintf (t.trade_id, sizeof t.trade_id, "%s", id);
    snprintf (t.order_id, sizeof t.order_id, "%s", order_id);
    snprintf (t.sym, sizeof t.sym, SYM);
    return t;
}

static const struct recon_finding *
s_find (const struct recon_finding *f, int n, recon_class_t cls, int nth)
{
    for (int i = 0; i < n; i++)
        if (f[i].cls == cls && nth-- == 0)
            return &f[i];
    return NULL;
}

static void
test_fixtures (void **state)
{
    (void) state;
    size_t len;
    char why[160], *j;
    struct recon_bpos bpos[8];
    struct recon_border bord[32];
    struct recon_btrade btr[8];
    j = kt_testfix_read ("positions.json", &len);
    assert_non_null (j);
    int npos = recon_kite_positions (j, len, bpos, 8, why, sizeof why);
    free (j);
    j = kt_testfix_read ("orders.json", &len);
    assert_non_null (j);
    int nord = recon_kite_orders (j, len, bord, 32, why, sizeof why);
    free (j);
    j = kt_testfix_read ("trades.json", &len);
    assert_non_null (j);
    int ntr = recon_kite_trades (j, len, btr, 8, why, sizeof why);
    free (j);
    assert_true (npos == 3 && nord >= 10 && ntr == 4);
    //  Our book, made to meet the fixtures:
    struct recon_ours_order ours[] = {
        //  its broker order is not in orders.json, but its trade 70000000 is in trades.json
        s_order ("T800", "800000000000000", "GOLDPETAL21JUNFUT", KT_SIDE_BUY, 1, KT_OS_OPEN, 0),
        //  found by its tag: COMPLETE at the broker, OPEN in our book
        s_order ("connect test order1", "", "GOLDPETAL21JUNFUT", KT_SIDE_BUY, 1, KT_OS_OPEN, 0),
        //  a submit whose outcome we did not know: the broker REJECTED it
        s_order ("icebergord", "", "SBIN", KT_SIDE_BUY, 200, KT_OS_UNRESOLVED, 0),
        //  never reached the broker: third look, budget 2
        s_order ("lost1", "", "SBIN", KT_SIDE_BUY, 1, KT_OS_UNRESOLVED, 2),
        //  done long ago: not in today's book, nothing to say
        s_order ("old1", "1", "SBIN", KT_SIDE_BUY, 1, KT_OS_FILLED, 0),
    };
    struct recon_diff_in in = {.bpos = bpos,
                               .nbpos = npos,
                               .borders = bord,
                               .nborders = nord,
                               .btrades = btr,
                               .nbtrades = ntr,
                               .orders = ours,
                               .norders = (int) (sizeof ours / sizeof ours[0]),
                               .not_found_budget = 2};
    struct recon_finding f[64];
    struct recon_counts c;
    int n = recon_diff_run (&in, f, 64, &c);
    for (int i = 0; i < n; i++)
        fprintf (stderr, "  %-16s %s\n", recon_class_str (f[i].cls), f[i].text);
    assert_int_equal (c.n[RECON_MISSING_FILL], 1);
    const struct recon_finding *x = s_find (f, n, RECON_MISSING_FILL, 0);
    assert_string_equal (x->trade_id, "70000000");
    assert_string_equal (x->coid, "T800");
    assert_int_equal (x->qty, 1);
    assert_int_equal (x->price, 485200);
    //  LEADMINI: the broker holds 1, we know nothing of it.
    assert_int_equal (c.n[RECON_UNKNOWN_POSITION], 1);
    x = s_find (f, n, RECON_UNKNOWN_POSITION, 0);
    assert_string_equal (x->sym, "LEADMINI17DECFUT");
    assert_int_equal (x->broker_qty, 1);
    //  GOLDPETAL: a fill of ours the broker's positions do not show: both views differ.
    assert_int_equal (c.n[RECON_QTY_MISMATCH], 1);
    x = s_find (f, n, RECON_QTY_MISMATCH, 0);
    assert_string_equal (x->sym, "GOLDPETAL21JUNFUT");
    assert_non_null (strstr (x->text, "broker 0, ours 0"));
    assert_int_equal (c.n[RECON_ORDER_STATE], 1);
    x = s_find (f, n, RECON_ORDER_STATE, 0);
    assert_string_equal (x->coid, "connect test order1");
    assert_string_equal (x->broker_id, "700000000000000");
    assert_int_equal (x->broker_as, KT_OS_FILLED);
    assert_int_equal (c.n[RECON_UNRESOLVED_FOUND], 1);
    x = s_find (f, n, RECON_UNRESOLVED_FOUND, 0);
    assert_int_equal (x->broker_as, KT_OS_REJECTED);
    assert_non_null (strstr (x->text, "Insufficient funds"));
    assert_int_equal (c.n[RECON_NOT_FOUND_RETRY], 1); //  T800, first look
    assert_int_equal (c.n[RECON_NOT_FOUND], 1);       //  lost1, third look
    assert_string_equal (s_find (f, n, RECON_NOT_FOUND, 0)->coid, "lost1");
    assert_int_equal (c.n[RECON_FOREIGN_ORDER], nord - 2);
    assert_int_equal (c.n[RECON_AGREE], 0); //  the flat ones say nothing
    int total = 0;
    for (int i = 0; i < RECON_CLASS_COUNT; i++)
        total += c.n[i];
    assert_int_equal (total, n);
}

static void
test_closed_by_our_stop (void **state)
{
    (void) state;
    struct kt_pos_rec pos = {.qty = -75};
    snprintf (pos.sym, sizeof pos.sym, SYM);
    snprintf (pos.stop_coid, sizeof pos.stop_coid, "S1");
    struct recon_ours_order ours[] = {
        s_order ("E1", "B1", SYM, KT_SIDE_SELL, 75, KT_OS_FILLED, 0),
        s_order ("S1", "B2", SYM, KT_SIDE_BUY, 75, KT_OS_OPEN, 0),
    };
    struct recon_border bord[] = {
        s_border ("B1", "E1", "SM0001", "COMPLETE", KT_SIDE_SELL, 75, 75),
        s_border ("B2", "S1", "SM0001", "COMPLETE", KT_SIDE_BUY, 75, 75),
    };
    struct recon_btrade btr[] = {s_trade ("T1", "B1", KT_SIDE_SELL, 75),
                                 s_trade ("T2", "B2", KT_SIDE_BUY, 75)};
    struct recon_applied applied[] = {{"E1", "T1"}};
    struct recon_bpos bpos = {.qty = 0, .product = KT_PROD_NRML};
    snprintf (bpos.sym, sizeof bpos.sym, SYM);
    struct recon_diff_in in = {.bpos = &bpos,
                               .nbpos = 1,
                               .borders = bord,
                               .nborders = 2,
                               .btrades = btr,
                               .nbtrades = 2,
                               .pos = &pos,
                               .npos = 1,
                               .orders = ours,
                               .norders = 2,
                               .applied = applied,
                               .napplied = 1,
                               .not_found_budget = 2};
    struct recon_finding f[16];
    struct recon_counts c;
    int n = recon_diff_run (&in, f, 16, &c);
    assert_int_equal (c.n[RECON_CLOSED_BY_STOP], 1);
    assert_int_equal (c.n[RECON_MISSING_FILL], 0);
    const struct recon_finding *x = s_find (f, n, RECON_CLOSED_BY_STOP, 0);
    assert_string_equal (x->trade_id, "T2");
    assert_string_equal (x->coid, "S1");
    assert_int_equal (x->qty, 75);
    assert_int_equal (c.n[RECON_AGREE], 1);
    assert_int_equal (c.n[RECON_QTY_MISMATCH], 0);
    assert_int_equal (c.n[RECON_ORDER_STATE], 1); //  S1: OPEN -> FILLED
    assert_int_equal (c.n[RECON_FOREIGN_ORDER], 0);
    //  Once the stop's fill is applied, only agreement is left.
    struct recon_applied both[] = {{"E1", "T1"}, {"S1", "T2"}};
    pos.qty = 0;
    ours[1].rec.status = KT_OS_FILLED;
    in.applied = both;
    in.napplied = 2;
    n = recon_diff_run (&in, f, 16, &c);
    assert_int_equal (n, 0); //  flat both sides
}

static void
test_broker_square_off_is_a_mismatch (void **state)
{
    (void) state;
    struct kt_pos_rec pos = {.qty = 75};
    snprintf (pos.sym, sizeof pos.sym, SYM);
    struct recon_border bord[] = {
        s_border ("Q1", "", "ADMINSQF", "COMPLETE", KT_SIDE_SELL, 75, 75),
    };
    struct recon_btrade btr[] = {s_trade ("T9", "Q1", KT_SIDE_SELL, 75)};
    struct recon_diff_in in = {.borders = bord,
                               .nborders = 1,
                               .btrades = btr,
                               .nbtrades = 1,
                               .pos = &pos,
                               .npos = 1,
                               .not_found_budget = 2};
    struct recon_finding f[8];
    struct recon_counts c;
    int n = recon_diff_run (&in, f, 8, &c);
    assert_int_equal (c.n[RECON_QTY_MISMATCH], 1);
    const struct recon_finding *x = s_find (f, n, RECON_QTY_MISMATCH, 0);
    assert_int_equal (x->ours_qty, 75);
    assert_int_equal (x->broker_qty, 0);
    assert_non_null (strstr (x->text, "placed by ADMINSQF"));
    assert_int_equal (c.n[RECON_FOREIGN_ORDER], 1);
    assert_non_null (
        strstr (s_find (f, n, RECON_FOREIGN_ORDER, 0)->text, "the broker's square-off"));
    assert_int_equal (c.n[RECON_MISSING_FILL], 0); //  not our order's fill
}

static void
test_missing_fill_explains_the_difference (void **state)
{
    (void) state;
    struct kt_pos_rec pos = {.qty = 75};
    snprintf (pos.sym, sizeof pos.sym, SYM);
    struct recon_ours_order ours[] = {
        s_order ("E2", "B3", SYM, KT_SIDE_BUY, 150, KT_OS_PARTIAL, 0),
    };
    struct recon_border bord[] = {
        s_border ("B3", "E2", "SM0001", "COMPLETE", KT_SIDE_BUY, 150, 150)};
    struct recon_btrade btr[] = {s_trade ("T3", "B3", KT_SIDE_BUY, 75),
                                 s_trade ("T4", "B3", KT_SIDE_BUY, 75)};
    struct recon_applied applied[] = {{"E2", "T3"}};
    struct recon_bpos bp[2] = {{.qty = 100, .product = KT_PROD_NRML},
                               {.qty = 50, .product = KT_PROD_MIS}}; //  products summed
    snprintf (bp[0].sym, sizeof bp[0].sym, SYM);
    snprintf (bp[1].sym, sizeof bp[1].sym, SYM);
    struct recon_diff_in in = {.bpos = bp,
                               .nbpos = 2,
                               .borders = bord,
                               .nborders = 1,
                               .btrades = btr,
                               .nbtrades = 2,
                               .pos = &pos,
                               .npos = 1,
                               .orders = ours,
                               .norders = 1,
                               .applied = applied,
                               .napplied = 1,
                               .not_found_budget = 2};
    struct recon_finding f[8];
    struct recon_counts c;
    int n = recon_diff_run (&in, f, 8, &c);
    assert_int_equal (c.n[RECON_MISSING_FILL], 1);
    assert_string_equal (s_find (f, n, RECON_MISSING_FILL, 0)->trade_id, "T4");
    assert_int_equal (c.n[RECON_AGREE], 1);
    assert_non_null (strstr (s_find (f, n, RECON_AGREE, 0)->text, "with the missing fills"));
    assert_int_equal (c.n[RECON_QTY_MISMATCH], 0);
    assert_int_equal (c.n[RECON_ORDER_STATE], 1); //  PARTIAL vs COMPLETE
    //  A transient broker status is not a difference yet.
    snprintf (bord[0].status, sizeof bord[0].status, "MODIFY PENDING");
    recon_diff_run (&in, f, 8, &c);
    assert_int_equal (c.n[RECON_ORDER_STATE], 0);
}

static void
test_not_found_budget_and_overflow (void **state)
{
    (void) state;
    struct recon_ours_order ours[] = {
        s_order ("A", "", SYM, KT_SIDE_BUY, 75, KT_OS_OPEN, 0),
        s_order ("B", "", SYM, KT_SIDE_BUY, 75, KT_OS_PENDING_SUBMIT, 1),
        s_order ("C", "", SYM, KT_SIDE_BUY, 75, KT_OS_UNRESOLVED, 3),
        s_order ("D", "", SYM, KT_SIDE_BUY, 75, KT_OS_CANCELLED, 9),
    };
    struct recon_diff_in in = {.orders = ours, .norders = 4, .not_found_budget = 2};
    struct recon_finding f[8];
    struct recon_counts c;
    int n = recon_diff_run (&in, f, 8, &c);
    assert_int_equal (n, 3);
    assert_int_equal (c.n[RECON_NOT_FOUND_RETRY], 2);
    assert_int_equal (c.n[RECON_NOT_FOUND], 1);
    assert_int_equal (s_find (f, n, RECON_NOT_FOUND, 0)->not_found_runs, 4);
    assert_string_equal (recon_class_str (RECON_NOT_FOUND), "not_found");
    //  Too small an array: the counts are still complete.
    n = recon_diff_run (&in, f, 1, &c);
    assert_int_equal (n, 3);
    assert_int_equal (c.n[RECON_NOT_FOUND_RETRY] + c.n[RECON_NOT_FOUND], 3);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixtures),
        cmocka_unit_test (test_closed_by_our_stop),
        cmocka_unit_test (test_broker_square_off_is_a_mismatch),
        cmocka_unit_test (test_missing_fill_explains_the_difference),
        cmocka_unit_test (test_not_found_budget_and_overflow),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
