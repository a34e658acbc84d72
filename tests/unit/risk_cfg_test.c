/*  risk_cfg_test - the "risk" config section: defaults from the table, the shipped
 *  deploy configs load through the table, a wrong value names its path, freeze lookup
 *  by underlying, HH:MM parsing. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"

static void
test_defaults (void **state)
{
    (void) state;
    struct risk_cfg c;
    assert_int_equal (risk_cfg_defaults (&c), 0);
    assert_int_equal (c.capital, 1000000LL * 100);
    assert_int_equal (c.max_positions, 5);
    assert_int_equal (c.max_per_type, 3);
    assert_int_equal (c.max_per_symbol, 1);
    assert_int_equal (c.max_deploy_bps, 8000);
    assert_int_equal (c.margin_buffer, 50000LL * 100);
    assert_int_equal (c.max_risk_per_trade, 10000LL * 100);
    assert_int_equal (c.max_order_notional, 100000LL * 100);
    assert_int_equal (c.price_band_bps, 2000);
    assert_int_equal (c.max_drawdown_bps, 1500);
    assert_int_equal (c.max_orders_per_s, 10);
    assert_int_equal (c.reject_window_s, 600);
    assert_true (c.require_stop);
    assert_true (c.freeze_slice);
    assert_false (c.flatten_on_halt);
    assert_string_equal (c.entry_cutoff, "15:00");
    assert_string_equal (c.segments, "NFO-OPT");
}

static void
test_freeze (void **state)
{
    (void) state;
    struct risk_cfg c;
    risk_cfg_defaults (&c);
    assert_int_equal (risk_cfg_freeze (&c, "NIFTY"), 1800);
    assert_int_equal (risk_cfg_freeze (&c, "BANKNIFTY"), 900);
    assert_int_equal (risk_cfg_freeze (&c, "RELIANCE"), 600);
    assert_int_equal (risk_cfg_freeze (&c, NULL), 600);
}

static void
test_sod (void **state)
{
    (void) state;
    assert_int_equal (risk_cfg_sod ("09:15"), 9 * 3600 + 15 * 60);
    assert_int_equal (risk_cfg_sod ("00:00"), 0);
    assert_int_equal (risk_cfg_sod ("9h15"), -1);
    assert_int_equal (risk_cfg_sod (""), -1);
    assert_int_equal (risk_cfg_sod (NULL), -1);
}

//  The shipped configs carry every key of the table and load through it.
static void
test_deploy_configs_load (void **state)
{
    (void) state;
    const char *files[] = {"deploy/config/sim.json", "deploy/config/paper.json",
                           "deploy/config/live.json"};
    setenv ("KITE_API_KEY", "test", 1); //  paper and live need the secrets set
    setenv ("KITE_API_SECRET", "test", 1);
    setenv ("KITE_ACCESS_TOKEN", "test", 1);
    for (int i = 0; i < 3; i++) {
        struct risk_cfg c;
        memset (&c, 0, sizeof c); //  strings compare beyond their NUL below
        char err[300] = "";
        kt_cfg_t *cfg =
            kt_cfg_load_file (files[i], "risk-gate", risk_cfg_table, &c, err, sizeof err);
        if (!cfg)
            fprintf (stderr, "%s\n", err);
        assert_non_null (cfg);
        struct risk_cfg d;
        risk_cfg_defaults (&d);
        //  What the deploy files set for baseline_v1's book (docs/configuration.md, "The
        //  limits deploy/config/*.json set"): the same in every mode.
        assert_int_equal (c.capital, 20000000LL * 100);
        assert_int_equal (c.max_order_margin, 3000000LL * 100);
        assert_int_equal (c.max_trades_hour, 8);
        assert_int_equal (c.max_consec_losses, 6);
        assert_int_equal (c.max_daily_loss_bps, 100);
        assert_int_equal (c.max_weekly_loss_bps, 250);
        assert_int_equal (c.max_hourly_loss_bps, 75);
        assert_int_equal (c.max_drawdown_bps, 1000);
        d.capital = c.capital;
        d.max_order_margin = c.max_order_margin;
        d.max_trades_hour = c.max_trades_hour;
        d.max_consec_losses = c.max_consec_losses;
        d.max_daily_loss_bps = c.max_daily_loss_bps;
        d.max_weekly_loss_bps = c.max_weekly_loss_bps;
        d.max_hourly_loss_bps = c.max_hourly_loss_bps;
        d.max_drawdown_bps = c.max_drawdown_bps;
        assert_memory_equal (&c, &d, sizeof c); //  every other key at its default
        kt_cfg_destroy (&cfg);
    }
}

static void
test_bad_value_names_path (void **state)
{
    (void) state;
    char path[] = "/tmp/risk_cfg_test_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *in = fopen ("deploy/config/sim.json", "r");
    assert_non_null (in);
    static char text[65536];
    size_t n = fread (text, 1, sizeof text - 1, in);
    fclose (in);
    text[n] = '\0';
    char *at = strstr (text, "\"max_lots\": 10");
    assert_non_null (at);
    memcpy (at, "\"max_lots\": 0 ", 14); //  below the minimum of 1
    assert_int_equal (write (fd, text, n), (ssize_t) n);
    close (fd);
    struct risk_cfg c;
    char err[300] = "";
    kt_cfg_t *cfg = kt_cfg_load_file (path, "risk-gate", risk_cfg_table, &c, err, sizeof err);
    unlink (path);
    assert_null (cfg);
    assert_non_null (strstr (err, "risk.max_lots"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_freeze),
        cmocka_unit_test (test_sod),
        cmocka_unit_test (test_deploy_configs_load),
        cmocka_unit_test (test_bad_value_names_path),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
