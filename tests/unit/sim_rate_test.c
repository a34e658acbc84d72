/*  sim_rate_test - Kite's limits in kite-sim: each class at its boundary (exactly the
 *  allowed count, one more refused, refilled after the interval), the orders-per-minute
 *  cap, and which routes fall in which class. Time is an argument: nothing sleeps. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "../../sim/sim.h"

#define T0 (1000 * KT_NS_PER_SEC)
#define MS (1000000LL)

static int
s_burst (struct sim_rate *r, sim_rate_class_t cls, int64_t at, int tries)
{
    int ok = 0;
    for (int i = 0; i < tries; i++)
        ok += sim_rate_take (r, cls, at);
    return ok;
}

static void
test_quote_one_per_second (void **state)
{
    (void) state;
    struct sim_rate r;
    sim_rate_init (&r);
    assert_true (sim_rate_take (&r, SIM_RATE_QUOTE, T0));
    assert_false (sim_rate_take (&r, SIM_RATE_QUOTE, T0 + 999 * MS));
    assert_true (sim_rate_take (&r, SIM_RATE_QUOTE, T0 + 1000 * MS));
    assert_false (sim_rate_take (&r, SIM_RATE_QUOTE, T0 + 1500 * MS));
}

static void
test_historical_three (void **state)
{
    (void) state;
    struct sim_rate r;
    sim_rate_init (&r);
    assert_int_equal (s_burst (&r, SIM_RATE_HIST, T0, 5), 3);
    //  One more each third of a second.
    assert_false (sim_rate_take (&r, SIM_RATE_HIST, T0 + 333 * MS));
    assert_true (sim_rate_take (&r, SIM_RATE_HIST, T0 + 334 * MS));
}

static void
test_orders_ten_and_minute_cap (void **state)
{
    (void) state;
    struct sim_rate r;
    sim_rate_init (&r);
    assert_int_equal (s_burst (&r, SIM_RATE_ORDER, T0, 11), 10);
    assert_true (sim_rate_take (&r, SIM_RATE_ORDER, T0 + 100 * MS));
    //  The other classes are independent.
    assert_int_equal (s_burst (&r, SIM_RATE_OTHER, T0, 12), 10);
    //  400 per minute: ten a second for a minute would be 600.
    struct sim_rate m;
    sim_rate_init (&m);
    int ok = 0;
    for (int i = 0; i < 600; i++)
        ok += sim_rate_take (&m, SIM_RATE_ORDER, T0 + i * 100 * MS);
    assert_int_equal (ok, 400);
    //  One more as soon as the first order of the window is a minute old.
    assert_false (sim_rate_take (&m, SIM_RATE_ORDER, T0 + 60 * KT_NS_PER_SEC - 1));
    assert_true (sim_rate_take (&m, SIM_RATE_ORDER, T0 + 60 * KT_NS_PER_SEC));
}

static void
test_set (void **state)
{
    (void) state;
    struct sim_rate r;
    sim_rate_init (&r);
    sim_rate_set (&r, SIM_RATE_QUOTE, 1000);
    assert_int_equal (s_burst (&r, SIM_RATE_QUOTE, T0, 1200), 1000);
    sim_rate_set (&r, SIM_RATE_ORDER, 100000);
    assert_int_equal (s_burst (&r, SIM_RATE_ORDER, T0, 5000), 5000);
}

static void
test_class_of (void **state)
{
    (void) state;
    assert_int_equal (sim_rate_class_of ("GET", "/quote"), SIM_RATE_QUOTE);
    assert_int_equal (sim_rate_class_of ("GET", "/quote/ltp"), SIM_RATE_QUOTE);
    assert_int_equal (sim_rate_class_of ("GET", "/quote/ohlc"), SIM_RATE_QUOTE);
    assert_int_equal (sim_rate_class_of ("GET", "/quotes"), SIM_RATE_OTHER);
    assert_int_equal (sim_rate_class_of ("GET", "/instruments/historical/256265/minute"),
                      SIM_RATE_HIST);
    assert_int_equal (sim_rate_class_of ("GET", "/instruments/NFO"), SIM_RATE_OTHER);
    assert_int_equal (sim_rate_class_of ("POST", "/orders/regular"), SIM_RATE_ORDER);
    assert_int_equal (sim_rate_class_of ("PUT", "/orders/regular/1"), SIM_RATE_ORDER);
    assert_int_equal (sim_rate_class_of ("DELETE", "/orders/regular/1"), SIM_RATE_ORDER);
    assert_int_equal (sim_rate_class_of ("GET", "/orders"), SIM_RATE_OTHER);
    assert_int_equal (sim_rate_class_of ("GET", "/user/profile"), SIM_RATE_OTHER);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_quote_one_per_second), cmocka_unit_test (test_historical_three),
        cmocka_unit_test (test_orders_ten_and_minute_cap), cmocka_unit_test (test_set),
        cmocka_unit_test (test_class_of),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
