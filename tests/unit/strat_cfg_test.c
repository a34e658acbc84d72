/*  strat_cfg_test - the "strategy" config table: every default of baseline_v1, as the
 *  core reads them (strat_params_defaults applies the table's own default texts). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

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

//  Gradual rollout: the strategy sizes with strategy.r_value x risk.capital_stage_pct.
static void
test_staged_r_value (void **state)
{
    (void) state;
    char path[] = "/tmp/strat_stage_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    const char *json = "{\"mode\": \"sim\", \"risk\": {\"capital_stage_pct\": 10}}";
    assert_int_equal (write (fd, json, strlen (json)), (ssize_t) strlen (json));
    close (fd);
    int64_t r = 0, stage = 0;
    char why[1024];
    assert_int_equal (strat_cfg_staged_r (path, 650000, &r, &stage, why, sizeof why), 0);
    assert_int_equal (stage, 10);
    assert_int_equal (r, 65000);
    //  a config built in memory (no file): the whole R
    assert_int_equal (strat_cfg_staged_r ("", 650000, &r, &stage, why, sizeof why), 0);
    assert_int_equal (r, 650000);
    assert_int_equal (stage, 100);
    assert_int_equal (strat_cfg_staged_r ("(test)", 650000, &r, &stage, why, sizeof why), 0);
    assert_int_equal (r, 650000);
    //  a stage out of range does not load: the strategy does not trade
    fd = open (path, O_WRONLY | O_TRUNC);
    json = "{\"mode\": \"sim\", \"risk\": {\"capital_stage_pct\": 150}}";
    assert_int_equal (write (fd, json, strlen (json)), (ssize_t) strlen (json));
    close (fd);
    assert_int_equal (strat_cfg_staged_r (path, 650000, &r, &stage, why, sizeof why), -1);
    assert_non_null (strstr (why, "capital_stage_pct"));
    unlink (path);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults_from_the_table),
        cmocka_unit_test (test_shipped_configs_hold_the_defaults),
        cmocka_unit_test (test_staged_r_value),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
