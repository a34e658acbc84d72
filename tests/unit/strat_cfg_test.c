/*  strat_cfg_test - the "strategy" config table: every default of baseline_v1, as the
 *  core reads them (strat_params_defaults applies the table's own default texts). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../strategy/strat.h"

static void
test_defaults_from_the_table (void **state)
{
    (void) state;
    struct strat_params p;
    strat_params_defaults (&p);
    assert_int_equal (p.swing_k, 2);
    assert_int_equal (p.swing_min, 10000);
    assert_int_equal (p.swing_max, 30000);
    assert_int_equal (p.vwap_premium_bps, 400);
    assert_int_equal (p.sl_pct_min_bps, 200);
    assert_int_equal (p.sl_pct_max_bps, 1000);
    assert_int_equal (p.r_value, 650000);
    assert_int_equal (p.max_lots, 10);
    assert_int_equal (p.target_sl_points, 1000);
    assert_int_equal (p.entry_buffer_ticks, 2);
    assert_int_equal (p.max_open, 5);
    assert_int_equal (p.max_per_type, 3);
    assert_int_equal (p.day_target_r, 5);
    assert_int_equal (p.day_loss_r, 5);
    assert_string_equal (p.entry_cutoff, "15:00");
    assert_string_equal (p.flatten_at, "15:15");
    assert_int_equal (p.index_token, 256265);
    assert_int_equal (p.strike_step, 5000);
    assert_int_equal (p.strikes_each_side, 10);
}

//  The shipped configs carry every key with its default, so they load to the defaults.
static void
test_shipped_configs_hold_the_defaults (void **state)
{
    (void) state;
    const char *files[] = {"deploy/config/sim.json", "deploy/config/paper.json",
                           "deploy/config/live.json"};
    struct strat_cfg want;
    memset (&want, 0, sizeof want);
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &want), 0);
    for (int i = 0; i < 3; i++) {
        struct strat_cfg got;
        memset (&got, 0, sizeof got);
        char err[1024];
        //  the strategy's own section only: the shared sections of paper/live need secrets
        kt_cfg_t *cfg =
            kt_cfg_load_file (files[i], "strategy", strat_cfg_table, &got, err, sizeof err);
        if (!cfg) {
            assert_non_null (strstr (err, "kite.")); //  only a missing Kite secret may fail
            continue;
        }
        assert_memory_equal (&got, &want, sizeof got);
        kt_cfg_destroy (&cfg);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults_from_the_table),
        cmocka_unit_test (test_shipped_configs_hold_the_defaults),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
