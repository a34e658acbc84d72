/*  kt_book_test - the order and position book on a real throwaway redis-server:
 *  create once, update by status, fills applied once per trade id, exact average
 *  prices and realised P&L over partial closes and flips, overfill and side-less
 *  orders refused whole, attached stop linked to its position, readers. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_book.h"
#include "kt_testredis.h"

typedef struct {
    kt_testredis_t *srv;
    kt_store_t *store;
    redisContext *peek;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->srv = kt_testredis_start ();
    assert_non_null (f->srv);
    f->store = kt_store_new ("127.0.0.1", f->srv->port, "kt:", 1000);
    assert_non_null (f->store);
    assert_int_equal (kt_book_register (f->store), 0);
    assert_int_equal (kt_store_connect (f->store), 0);
    f->peek = kt_testredis_connect (f->srv);
    assert_non_null (f->peek);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    redisFree (f->peek);
    kt_store_destroy (&f->store);
    kt_testredis_stop (&f->srv);
    free (f);
    return 0;
}

static struct kt_order_rec
s_order (const char *coid, const char *sym, kt_side_t side, int64_t qty, kt_purpose_t purpose)
{
    struct kt_order_rec o;
    memset (&o, 0, sizeof o);
    snprintf (o.coid, sizeof o.coid, "%s", coid);
    snprintf (o.intent_id, sizeof o.intent_id, "I%s", coid);
    snprintf (o.sym, sizeof o.sym, "%s", sym);
    o.token = 12345;
    o.side = side;
    o.order_type = KT_OT_LIMIT;
    o.product = KT_PROD_MIS;
    o.purpose = purpose;
    o.qty = qty;
    o.price = 15000;
    o.status = KT_OS_PENDING_SUBMIT;
    return o;
}

static void
s_create (fixture_t *f, const struct kt_order_rec *o)
{
    char why[200] = "";
    assert_int_equal (kt_book_order_create (f->store, o, 1000, NULL, why, sizeof why), 1);
}

static struct kt_book_fill_result
s_fill (fixture_t *f, const char *coid, const char *trade, int64_t qty, int64_t px)
{
    struct kt_book_fill fl;
    memset (&fl, 0, sizeof fl);
    snprintf (fl.coid, sizeof fl.coid, "%s", coid);
    snprintf (fl.trade_id, sizeof fl.trade_id, "%s", trade);
    fl.qty = qty;
    fl.price = px;
    fl.ts_ns = 2000;
    struct kt_book_fill_result res;
    char why[200] = "";
    int rc = kt_book_fill (f->store, &fl, &res, why, sizeof why);
    if (rc != 0)
        fail_msg ("fill failed: %s", why);
    return res;
}

static void
s_create_once (void **state)
{
    fixture_t *f = *state;
    struct kt_order_rec o = s_order ("C1", "NIFTY26D0824000CE", KT_SIDE_SELL, 75, KT_PURPOSE_ENTRY);
    o.stop_trigger = 16500;
    o.r_value = 112500;
    s_create (f, &o);
    struct kt_order_rec again = o, existing;
    again.qty = 150;
    char why[200];
    assert_int_equal (kt_book_order_create (f->store, &again, 1001, &existing, why, sizeof why), 0);
    assert_int_equal (existing.qty, 75);
    assert_int_equal (existing.status, KT_OS_PENDING_SUBMIT);
    assert_int_equal (existing.side, KT_SIDE_SELL);
    assert_int_equal (existing.stop_trigger, 16500);
    //  Readable by a person: enums as names, numbers as decimal text.
    redisReply *r = redisCommand (f->peek, "HGET kt:order:C1 order_type");
    assert_string_equal (r->str, "LIMIT");
    freeReplyObject (r);
    r = redisCommand (f->peek, "SISMEMBER kt:orders:open C1");
    assert_int_equal (r->integer, 1);
    freeReplyObject (r);
    r = redisCommand (f->peek, "XLEN kt:events");
    assert_int_equal (r->integer, 1);
    freeReplyObject (r);
}

static void
s_update_final_leaves_open_set (void **state)
{
    fixture_t *f = *state;
    struct kt_order_rec o = s_order ("C2", "NIFTY26D0824000PE", KT_SIDE_SELL, 75, KT_PURPOSE_ENTRY);
    s_create (f, &o);
    o.status = KT_OS_OPEN;
    snprintf (o.broker_id, sizeof o.broker_id, "250101000000001");
    snprintf (o.broker_status, sizeof o.broker_status, "TRIGGER PENDING");
    o.filled_qty = 999; //  never written by an update
    char why[200];
    assert_int_equal (kt_book_order_update (f->store, &o, 3000, why, sizeof why), 0);
    struct kt_order_rec got;
    assert_int_equal (kt_book_order_get (f->store, "C2", &got, why, sizeof why), 1);
    assert_int_equal (got.status, KT_OS_OPEN);
    assert_string_equal (got.broker_id, "250101000000001");
    assert_string_equal (got.broker_status, "TRIGGER PENDING");
    assert_int_equal (got.filled_qty, 0);
    assert_int_equal (got.updated_ns, 3000);
    o.status = KT_OS_CANCELLED;
    assert_int_equal (kt_book_order_update (f->store, &o, 4000, why, sizeof why), 0);
    redisReply *r = redisCommand (f->peek, "SISMEMBER kt:orders:open C2");
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);
    struct kt_order_rec unknown = s_order ("NOPE", "X", KT_SIDE_BUY, 1, KT_PURPOSE_EXIT);
    assert_int_equal (kt_book_order_update (f->store, &unknown, 1, why, sizeof why), -1);
    assert_non_null (strstr (why, "unknown order"));
}

static void
s_fill_once_per_trade (void **state)
{
    fixture_t *f = *state;
    struct kt_order_rec o = s_order ("C3", "SYM3", KT_SIDE_SELL, 150, KT_PURPOSE_ENTRY);
    o.r_value = 150000;
    o.stop_trigger = 16000;
    s_create (f, &o);
    struct kt_book_fill_result r1 = s_fill (f, "C3", "T1", 75, 15000);
    assert_false (r1.duplicate);
    assert_int_equal (r1.status, KT_OS_PARTIAL);
    assert_int_equal (r1.pos_qty, -75);
    struct kt_book_fill_result dup = s_fill (f, "C3", "T1", 75, 15000);
    assert_true (dup.duplicate);
    assert_int_equal (dup.filled_qty, 75);
    assert_int_equal (dup.pos_qty, -75);
    struct kt_book_fill_result r2 = s_fill (f, "C3", "T2", 75, 15005);
    assert_int_equal (r2.status, KT_OS_FILLED);
    assert_int_equal (r2.filled_qty, 150);
    //  (75 x 15000 + 75 x 15005) / 150 = 15002.5 -> 15003 half up.
    assert_int_equal (r2.avg_px, 15003);
    struct kt_pos_rec p;
    char why[200];
    assert_int_equal (kt_book_pos_get (f->store, "SYM3", &p, why, sizeof why), 1);
    assert_int_equal (p.qty, -150);
    assert_int_equal (p.open_value, 75 * 15000 + 75 * 15005);
    assert_int_equal (p.r_value, 150000);
    assert_int_equal (p.stop_px, 16000);
    assert_string_equal (p.entry_coid, "C3");
    redisReply *r = redisCommand (f->peek, "SISMEMBER kt:orders:open C3");
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);
    r = redisCommand (f->peek, "SISMEMBER kt:positions SYM3");
    assert_int_equal (r->integer, 1);
    freeReplyObject (r);
}

static void
s_realised_exact_over_partial_closes (void **state)
{
    fixture_t *f = *state;
    struct kt_order_rec e = s_order ("E4", "SYM4", KT_SIDE_SELL, 3, KT_PURPOSE_ENTRY);
    s_create (f, &e);
    s_fill (f, "E4", "T1", 1, 100);
    s_fill (f, "E4", "T2", 1, 100);
    s_fill (f, "E4", "T3", 1, 101); //  open_value 301 over 3 units
    struct kt_order_rec x = s_order ("X4", "SYM4", KT_SIDE_BUY, 3, KT_PURPOSE_EXIT);
    snprintf (x.exit_reason, sizeof x.exit_reason, "TIME");
    s_create (f, &x);
    struct kt_book_fill_result a = s_fill (f, "X4", "T4", 1, 90); //  share floor(301/3)=100
    assert_int_equal (a.realised_delta, 100 - 90);
    struct kt_book_fill_result b = s_fill (f, "X4", "T5", 1, 90); //  floor(201/2)=100
    assert_int_equal (b.realised_delta, 100 - 90);
    assert_false (a.trade_closed);
    assert_false (b.trade_closed);
    struct kt_book_fill_result c = s_fill (f, "X4", "T6", 1, 90); //  the rest: 101
    assert_int_equal (c.realised_delta, 101 - 90);
    assert_int_equal (c.pos_qty, 0);
    //  The round trip closes once, with its whole P&L.
    assert_true (c.trade_closed);
    assert_int_equal (c.trade_realised, 31);
    struct kt_book_fill_result again = s_fill (f, "X4", "T6", 1, 90);
    assert_true (again.duplicate);
    assert_false (again.trade_closed);
    //  The sum is exact: 301 - 270.
    struct kt_pos_rec p;
    char why[200];
    assert_int_equal (kt_book_pos_get (f->store, "SYM4", &p, why, sizeof why), 1);
    assert_int_equal (p.realised, 31);
    assert_int_equal (p.open_value, 0);
    assert_string_equal (p.exit_reason, "TIME");
    struct kt_book_rec bk;
    assert_int_equal (kt_book_get (f->store, &bk, why, sizeof why), 0);
    assert_int_equal (bk.realised, 31);
    assert_int_equal (bk.fills, 6);
    assert_int_equal (p.trade_realised, 31); //  kept after the close
    assert_int_equal (p.trades_closed, 1);
    assert_int_equal (bk.trades_closed, 1);
    assert_int_equal (bk.last_trade_realised, 31);
    assert_int_equal (bk.losing_streak, 0);
    redisReply *r = redisCommand (f->peek, "SISMEMBER kt:positions SYM4");
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);
}

static void
s_flip_through_zero (void **state)
{
    fixture_t *f = *state;
    struct kt_order_rec e = s_order ("E5", "SYM5", KT_SIDE_SELL, 2, KT_PURPOSE_ENTRY);
    s_create (f, &e);
    s_fill (f, "E5", "T1", 2, 200);
    struct kt_order_rec x = s_order ("X5", "SYM5", KT_SIDE_BUY, 5, KT_PURPOSE_EXIT);
    s_create (f, &x);
    struct kt_book_fill_result r = s_fill (f, "X5", "T2", 5, 150);
    assert_int_equal (r.realised_delta, 2 * (200 - 150));
    assert_int_equal (r.pos_qty, 3);
    assert_true (r.trade_closed); //  through zero: the short closes, a long opens
    assert_int_equal (r.trade_realised, 100);
    struct kt_pos_rec p;
    char why[200];
    assert_int_equal (kt_book_pos_get (f->store, "SYM5", &p, why, sizeof why), 1);
    assert_int_equal (p.open_value, 3 * 150);
    assert_int_equal (p.avg_px, 150);
    assert_string_equal (p.entry_coid, "X5");
    assert_int_equal (p.trade_realised, 0); //  the new round trip
    assert_int_equal (p.trades_closed, 1);
}

//  CONSEC_LOSS reads these: each round trip counted once, losing ones in a row.
static void
s_losing_streak (void **state)
{
    fixture_t *f = *state;
    const int64_t exit_px[] = {110, 105, 95}; //  two losses of a short at 100, then a win
    const int64_t streak[] = {1, 2, 0};
    char why[200];
    for (int i = 0; i < 3; i++) {
        char ec[16], xc[16];
        snprintf (ec, sizeof ec, "E7%d", i);
        snprintf (xc, sizeof xc, "X7%d", i);
        struct kt_order_rec e = s_order (ec, "SYM7", KT_SIDE_SELL, 2, KT_PURPOSE_ENTRY);
        s_create (f, &e);
        s_fill (f, ec, "T1", 2, 100);
        struct kt_order_rec x = s_order (xc, "SYM7", KT_SIDE_BUY, 2, KT_PURPOSE_EXIT);
        s_create (f, &x);
        struct kt_book_fill_result a = s_fill (f, xc, "T2", 1, exit_px[i]);
        assert_false (a.trade_closed);
        struct kt_book_fill_result b = s_fill (f, xc, "T3", 1, exit_px[i]);
        assert_true (b.trade_closed);
        assert_int_equal (b.trade_realised, 2 * (100 - exit_px[i]));
        struct kt_book_rec bk;
        assert_int_equal (kt_book_get (f->store, &bk, why, sizeof why), 0);
        assert_int_equal (bk.trades_closed, i + 1);
        assert_int_equal (bk.last_trade_realised, 2 * (100 - exit_px[i]));
        assert_int_equal (bk.losing_streak, streak[i]);
    }
    struct kt_pos_rec p;
    assert_int_equal (kt_book_pos_get (f->store, "SYM7", &p, why, sizeof why), 1);
    assert_int_equal (p.trades_closed, 3);
    assert_int_equal (p.trade_realised, 10);
    assert_int_equal (p.realised, -20 - 10 + 10);
}

static void
s_refused_whole (void **state)
{
    fixture_t *f = *state;
    struct kt_order_rec o = s_order ("C6", "SYM6", KT_SIDE_SELL, 75, KT_PURPOSE_ENTRY);
    s_create (f, &o);
    struct kt_book_fill fl = {"C6", "T1", 76, 100, 1};
    struct kt_book_fill_result res;
    char why[200] = "";
    assert_int_equal (kt_book_fill (f->store, &fl, &res, why, sizeof why), -1);
    assert_non_null (strstr (why, "overfills"));
    struct kt_book_fill unknown = {"NOPE", "T1", 1, 100, 1};
    assert_int_equal (kt_book_fill (f->store, &unknown, &res, why, sizeof why), -1);
    struct kt_book_fill zero = {"C6", "T2", 0, 100, 1};
    assert_int_equal (kt_book_fill (f->store, &zero, &res, why, sizeof why), -1);
    //  An order whose side is missing (hand-edited, or written by something else) is
    //  refused whole: no trade id recorded, no position touched.
    redisReply *r = redisCommand (f->peek, "HSET kt:order:C6 side %s", "");
    freeReplyObject (r);
    struct kt_book_fill ok = {"C6", "T3", 75, 100, 1};
    assert_int_equal (kt_book_fill (f->store, &ok, &res, why, sizeof why), -1);
    assert_non_null (strstr (why, "no side"));
    r = redisCommand (f->peek, "EXISTS kt:order:C6:trades kt:pos:SYM6");
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);
    struct kt_order_rec got;
    assert_int_equal (kt_book_order_get (f->store, "C6", &got, why, sizeof why), 1);
    assert_int_equal (got.filled_qty, 0);
}

static int s_seen;
static void
s_count_pos (const struct kt_pos_rec *p, void *arg)
{
    (void) arg;
    assert_true (p->qty != 0);
    s_seen++;
}

static void
s_count_order (const struct kt_order_rec *o, void *arg)
{
    (void) arg;
    assert_false (kt_ord_status_is_final (o->status));
    s_seen++;
}

static void
s_stop_linked_and_readers (void **state)
{
    fixture_t *f = *state;
    struct kt_order_rec e = s_order ("E7", "SYM7", KT_SIDE_SELL, 75, KT_PURPOSE_ENTRY);
    e.stop_trigger = 16000;
    e.stop_price = 16100;
    s_create (f, &e);
    s_fill (f, "E7", "T1", 75, 15000);
    struct kt_order_rec st = s_order ("S7", "SYM7", KT_SIDE_BUY, 75, KT_PURPOSE_STOP);
    st.order_type = KT_OT_SL;
    st.trigger = 16000;
    st.price = 16100;
    snprintf (st.parent, sizeof st.parent, "E7");
    s_create (f, &st);
    struct kt_pos_rec p;
    char why[200];
    assert_int_equal (kt_book_pos_get (f->store, "SYM7", &p, why, sizeof why), 1);
    assert_string_equal (p.stop_coid, "S7");
    assert_int_equal (p.stop_px, 16000);
    s_seen = 0;
    assert_int_equal (kt_book_each_position (f->store, s_count_pos, NULL, NULL, why, sizeof why),
                      1);
    assert_int_equal (s_seen, 1);
    s_seen = 0;
    assert_int_equal (
        kt_book_each_open_order (f->store, s_count_order, NULL, NULL, why, sizeof why), 1);
    struct kt_book_fill_result r = s_fill (f, "S7", "T2", 75, 16050);
    assert_int_equal (r.pos_qty, 0);
    assert_int_equal (r.realised_delta, 75 * (15000 - 16050));
    assert_int_equal (kt_book_pos_get (f->store, "SYM7", &p, why, sizeof why), 1);
    assert_string_equal (p.exit_reason, "STOP");
    assert_string_equal (p.stop_coid, "");
    assert_int_equal (kt_book_pos_get (f->store, "NONE", &p, why, sizeof why), 0);
    assert_string_equal (p.sym, "NONE");
}

static void
s_store_down_fails_closed (void **state)
{
    fixture_t *f = *state;
    kt_testredis_stop (&f->srv);
    struct kt_order_rec o = s_order ("C8", "SYM8", KT_SIDE_SELL, 75, KT_PURPOSE_ENTRY);
    char why[200] = "";
    assert_int_equal (kt_book_order_create (f->store, &o, 1, NULL, why, sizeof why), -1);
    assert_non_null (strstr (why, "unavailable"));
    struct kt_order_rec got;
    assert_int_equal (kt_book_order_get (f->store, "C8", &got, why, sizeof why), -1);
    f->srv = kt_testredis_start ();
}

//  The EXEC_EVENT kind of each book status: OPEN is the broker's ACCEPTED.
static void
test_status_exec_kind (void **state)
{
    (void) state;
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_PENDING_SUBMIT), KT_EXEC_SUBMITTED);
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_UNRESOLVED), KT_EXEC_UNRESOLVED);
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_OPEN), KT_EXEC_ACCEPTED);
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_PARTIAL), KT_EXEC_PARTIAL);
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_FILLED), KT_EXEC_FILLED);
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_CANCELLED), KT_EXEC_CANCELLED);
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_REJECTED), KT_EXEC_REJECTED);
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_EXPIRED), KT_EXEC_EXPIRED);
    assert_int_equal (kt_ord_status_exec_kind (KT_OS_NONE), KT_EXEC_NONE);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_status_exec_kind),
        cmocka_unit_test_setup_teardown (s_create_once, setup, teardown),
        cmocka_unit_test_setup_teardown (s_update_final_leaves_open_set, setup, teardown),
        cmocka_unit_test_setup_teardown (s_fill_once_per_trade, setup, teardown),
        cmocka_unit_test_setup_teardown (s_realised_exact_over_partial_closes, setup, teardown),
        cmocka_unit_test_setup_teardown (s_flip_through_zero, setup, teardown),
        cmocka_unit_test_setup_teardown (s_losing_streak, setup, teardown),
        cmocka_unit_test_setup_teardown (s_refused_whole, setup, teardown),
        cmocka_unit_test_setup_teardown (s_stop_linked_and_readers, setup, teardown),
        cmocka_unit_test_setup_teardown (s_store_down_fails_closed, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
