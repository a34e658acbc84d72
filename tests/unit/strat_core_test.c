/*  strat_core_test - the strategy interface: the registry (baseline_v1, probe, an
 *  unknown name), the config table's defaults, bad parameters refused at init, the
 *  probe strategy ordering on chosen ticks, and exact R multiples (sums, comparisons,
 *  4-decimal rounding). */

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
test_registry_and_defaults (void **state)
{
    (void) state;
    char err[256];
    kt_instr_table_t *instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (instr);
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

    strat_core_t *c = strat_core_new ("baseline_v1", &p, instr, err, sizeof err);
    assert_non_null (c);
    assert_string_equal (strat_core_name (c), "baseline_v1");
    strat_core_destroy (&c);
    assert_null (c);
    strat_core_destroy (&c);
    assert_null (strat_core_new ("nope", &p, instr, err, sizeof err));
    assert_non_null (strstr (err, "unknown strategy \"nope\""));
    //  bad parameters are refused with the key's name
    struct strat_params bad = p;
    snprintf (bad.entry_cutoff, sizeof bad.entry_cutoff, "25:00");
    assert_null (strat_core_new ("baseline_v1", &bad, instr, err, sizeof err));
    assert_non_null (strstr (err, "entry_cutoff"));
    bad = p;
    bad.index_token = 12345;
    assert_null (strat_core_new ("baseline_v1", &bad, instr, err, sizeof err));
    assert_non_null (strstr (err, "index_token"));
    kt_instr_destroy (&instr);
}

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

static void
test_out_overflow (void **state)
{
    (void) state;
    struct strat_out out = {0};
    for (int i = 0; i < STRAT_OUT_MAX; i++)
        assert_non_null (strat_out_push (&out));
    assert_false (out.overflow);
    assert_null (strat_out_push (&out));
    assert_true (out.overflow);
}

static void
test_rmul (void **state)
{
    (void) state;
    char buf[32];
    struct {
        int64_t num, den;
        const char *text;
    } rows[] = {
        {-6030, 6000, "-1.0050"},
        {1, 8, "0.1250"},
        {1, 3, "0.3333"},
        {2, 3, "0.6667"},
        {-2, 3, "-0.6667"},
        {1, 20000, "0.0001"},
        {-1, 20000, "-0.0001"},
        {1, 20001, "0.0000"},
        {0, 7, "0.0000"},
        {5, 1, "5.0000"},
        {123456789, 1000, "123456.7890"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_string_equal (
            strat_rmul_format (strat_rmul_make (rows[i].num, rows[i].den), buf, sizeof buf),
            rows[i].text);
    //  1/3 + 1/3 + 1/3 is exactly 1: no rounding drift at the +5 / -5 boundaries
    bool ok = true;
    struct strat_rmul s = strat_rmul_make (0, 1);
    for (int i = 0; i < 15; i++)
        s = strat_rmul_add (s, strat_rmul_make (1, 3), &ok);
    assert_true (ok);
    assert_int_equal (strat_rmul_cmp_int (s, 5), 0);
    s = strat_rmul_add (s, strat_rmul_make (-1, 1000000), &ok);
    assert_int_equal (strat_rmul_cmp_int (s, 5), -1);
    assert_int_equal (strat_rmul_cmp_int (strat_rmul_make (-5, 1), -5), 0);
    assert_int_equal (strat_rmul_cmp_int (strat_rmul_make (-9, 2), -5), 1);
    assert_int_equal (strat_rmul_cmp_int (strat_rmul_make (-11, 2), -5), -1);
    assert_int_equal (strat_rmul_cmp (strat_rmul_make (1, 3), strat_rmul_make (2, 6), &ok), 0);
    //  overflow is reported, not wrapped
    struct strat_rmul big = {(__int128) 1 << 100, ((__int128) 1 << 100) + 1};
    struct strat_rmul big2 = {1, ((__int128) 1 << 100) - 1};
    strat_rmul_add (big, big2, &ok);
    assert_false (ok);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_registry_and_defaults),
        cmocka_unit_test (test_probe_orders_on_chosen_ticks),
        cmocka_unit_test (test_out_overflow),
        cmocka_unit_test (test_rmul),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
