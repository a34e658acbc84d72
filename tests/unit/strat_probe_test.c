/*  strat_probe_test - the probe strategy: one entry on every probe_every-th tick, nothing
 *  on bars or timers. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../strategy/strat.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"

static void
test_probe_orders_on_chosen_ticks (void **state)
{
    (void) state;
    char err[256];
    kt_instr_table_t *instr = kt_instr_load (FIXTURE, err, sizeof err);
    struct strat_params p;
    strat_params_defaults (&p);
    p.probe_every = 3;
    strat_core_t *c = strat_core_new ("probe", &p, instr, err, sizeof err);
    assert_non_null (c);
    struct strat_out out = {0};
    for (int i = 1; i <= 7; i++) {
        struct strat_tick t = {10000041, (int64_t) i * 1000, 15000 + i * 5, 0};
        strat_core_tick (c, &t, &out);
    }
    assert_int_equal (out.n, 2); //  ticks 3 and 6
    assert_int_equal (out.v[0].kind, STRAT_I_PLACE);
    assert_int_equal (out.v[0].order_id, 1);
    assert_int_equal (out.v[0].price, 15015);
    assert_int_equal (out.v[0].qty, 75);
    assert_int_equal (out.v[0].ts, 3000);
    assert_int_equal (out.v[1].order_id, 2);
    assert_int_equal (out.v[1].price, 15030);
    //  bars and timers mean nothing to it
    struct strat_bar b = {10000041, 0, 100, 100, 100, 100, 1};
    strat_core_bar (c, &b, &out);
    strat_core_timer (c, 1, &out);
    assert_int_equal (out.n, 2);
    strat_core_destroy (&c);
    kt_instr_destroy (&instr);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_probe_orders_on_chosen_ticks),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
