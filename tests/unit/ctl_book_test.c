/*  ctl_book_test - the book as tradectl reads it, on a real redis-server: open
 *  positions and orders sorted for reading, today's orders found by scanning order
 *  hashes (sub-keys such as order:<coid>:trades skipped, other days left out), and
 *  Redis down reported as such. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "../../tradectl/ctl_cmd.h"
#include "kt_testcfg.h"
#include "kt_testredis.h"
#include "kt_teststore.h"

static struct {
    kt_testredis_t *srv;
    struct kt_cfg cfg;
    ctl_t ctl;
    kt_store_t *writer;
} F;

static int
s_setup (void **state)
{
    (void) state;
    F.srv = kt_testredis_start ();
    if (!F.srv)
        return -1;
    kt_testcfg_fill (&F.cfg, "tradectl", F.srv->port, "ctl_book");
    F.ctl.cfg = &F.cfg;
    F.ctl.out = stdout;
    F.ctl.err = stderr;
    F.ctl.by = "test";
    F.ctl.store = kt_store_new ("127.0.0.1", F.srv->port, "kt:", 1000);
    F.writer = kt_store_new ("127.0.0.1", F.srv->port, "kt:", 1000);
    kt_book_register (F.writer);
    return kt_store_connect (F.writer);
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_store_destroy (&F.ctl.store);
    kt_store_destroy (&F.writer);
    kt_testredis_stop (&F.srv);
    kt_testcfg_cleanup ("ctl_book");
    return 0;
}

static void
s_order (const char *coid, const char *sym, int64_t created, kt_ord_status_t status)
{
    struct kt_order_rec o;
    kt_teststore_order (&o, coid, sym, KT_SIDE_BUY, KT_PURPOSE_ENTRY, 75);
    o.price = 10000;
    o.status = status;
    o.created_ns = created;
    char why[160];
    assert_int_equal (kt_book_order_create (F.writer, &o, created, NULL, why, sizeof why), 1);
}

static void
test_orders_of_a_day (void **state)
{
    (void) state;
    int64_t day = kt_ist_ns (2025, 11, 24, 0, 0, 0);
    s_order ("B-late", "NIFTY25N2524000CE", day + 15LL * 3600 * 1000000000LL, KT_OS_OPEN);
    s_order ("A-early", "NIFTY25N2524000PE", day + 9LL * 3600 * 1000000000LL, KT_OS_OPEN);
    s_order ("Y-before", "NIFTY25N2524000PE", day - 1, KT_OS_OPEN);
    s_order ("Z-after", "NIFTY25N2524000PE", day + 86400000000000LL, KT_OS_FILLED);
    //  a fill creates order:<coid>:trades, which is not an order
    struct kt_book_fill f = {.qty = 75, .price = 10000, .ts_ns = day + 10LL * 3600 * 1000000000LL};
    snprintf (f.coid, sizeof f.coid, "A-early");
    snprintf (f.trade_id, sizeof f.trade_id, "T1");
    struct kt_book_fill_result res;
    char why[160];
    assert_int_equal (kt_book_fill (F.writer, &f, &res, why, sizeof why), 0);

    struct kt_order_rec *o;
    int n;
    assert_int_equal (
        ctl_book_orders_between (&F.ctl, day, day + 86400000000000LL, &o, &n, why, sizeof why), 0);
    assert_int_equal (n, 2);
    assert_string_equal (o[0].coid, "A-early"); //  by creation time, not by name
    assert_string_equal (o[1].coid, "B-late");
    assert_int_equal (o[0].status, KT_OS_FILLED);
    free (o);

    //  open orders: the two of the day and the one left from the day before
    n = ctl_book_open_orders (&F.ctl, &o, why, sizeof why);
    assert_int_equal (n, 2);
    assert_string_equal (o[0].coid, "Y-before");
    assert_string_equal (o[1].coid, "B-late");
    free (o);

    struct kt_pos_rec *p;
    n = ctl_book_positions (&F.ctl, &p, why, sizeof why);
    assert_int_equal (n, 1);
    assert_string_equal (p[0].sym, "NIFTY25N2524000PE");
    assert_int_equal (p[0].qty, 75);
    free (p);
}

static void
test_redis_down (void **state)
{
    (void) state;
    ctl_t down = F.ctl;
    down.store = kt_store_new ("127.0.0.1", 1, "kt:", 200);
    down.store_tried = false;
    down.err = fopen ("/dev/null", "w");
    char why[160];
    struct kt_order_rec *o = (void *) 1;
    int n = 7;
    assert_int_equal (ctl_book_orders_between (&down, 0, 1, &o, &n, why, sizeof why), -1);
    assert_null (o);
    assert_int_equal (n, 0);
    struct kt_pos_rec *p;
    assert_int_equal (ctl_book_positions (&down, &p, why, sizeof why), -1);
    assert_non_null (strstr (why, "Redis unavailable"));
    fclose (down.err);
    kt_store_destroy (&down.store);
}

//  What the live orders do for a position: stops on the other side cover it, exits on
//  the other side are on their way out, entries on its side are pending; ended orders,
//  other symbols and a sliced parent (its slices are the orders) count for nothing.
static void
test_cover (void **state)
{
    (void) state;
    struct kt_pos_rec p = {.qty = -150};
    snprintf (p.sym, sizeof p.sym, "NIFTY25NOV23800CE");
    struct kt_order_rec o[7];
    kt_teststore_order (&o[0], "st1", p.sym, KT_SIDE_BUY, KT_PURPOSE_STOP, 75);
    kt_teststore_order (&o[1], "st2", p.sym, KT_SIDE_BUY, KT_PURPOSE_STOP, 75);
    o[1].filled_qty = 25; //  50 left
    kt_teststore_order (&o[2], "st3", p.sym, KT_SIDE_BUY, KT_PURPOSE_STOP, 75);
    o[2].status = KT_OS_CANCELLED;
    kt_teststore_order (&o[3], "ex1", p.sym, KT_SIDE_BUY, KT_PURPOSE_EXIT, 75);
    kt_teststore_order (&o[4], "en1", p.sym, KT_SIDE_SELL, KT_PURPOSE_ENTRY, 150);
    kt_teststore_order (&o[5], "en2", p.sym, KT_SIDE_SELL, KT_PURPOSE_ENTRY, 3600);
    snprintf (o[5].broker_status, sizeof o[5].broker_status, "%s", KT_BOOK_SLICED);
    kt_teststore_order (&o[6], "st4", "NIFTY25NOV23900PE", KT_SIDE_BUY, KT_PURPOSE_STOP, 75);
    struct ctl_cover c;
    ctl_book_cover (&p, o, 7, &c);
    assert_int_equal (c.stop_qty, 125);
    assert_int_equal (c.exiting, 75);
    assert_int_equal (c.pending, 150);
    ctl_book_cover (&p, o, 0, &c);
    assert_int_equal (c.stop_qty, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_cover),
        cmocka_unit_test (test_orders_of_a_day),
        cmocka_unit_test (test_redis_down),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
