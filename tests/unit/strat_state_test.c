/*  strat_state_test - the strat:state snapshot: a baseline_v1 core with one candidate
 *  and its pending entry rendered for an operator (candidates, best CE, pending entry,
 *  positions, R, counters), and every field a declared hash field. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../strategy/strat.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"
#define IDX 256265u
#define CE 10000041u
#define NS_MIN (60LL * 1000000000LL)

static void
test_render (void **state)
{
    (void) state;
    char err[256];
    kt_instr_table_t *instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (instr);
    static struct strat_cfg cfg;
    memset (&cfg, 0, sizeof cfg);
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    strat_core_t *core = strat_core_new ("baseline_v1", &cfg.p, instr, err, sizeof err);
    assert_non_null (core);
    static struct strat_map m;
    memset (&m, 0, sizeof m);
    struct strat_counts c = {
        .bars = 12, .ticks = 3, .intents_sent = 1, .approved = 1, .warm = true, .last_bar_ns = 5};
    snprintf (c.last_decision, sizeof c.last_decision, "S1-261123-1 PLACE APPROVE ");
    struct kt_strat_state_rec rec;

    //  Before any bar: the counters and zero R.
    strat_state_render (core, instr, &m, &cfg, &c, 77, &rec);
    assert_string_equal (rec.strategy, "baseline_v1");
    assert_string_equal (rec.id, "S1");
    assert_int_equal (rec.day, 0);
    assert_string_equal (rec.cum_r, "0.0000");
    assert_int_equal (rec.updated_ns, 77);
    assert_int_equal (rec.bars, 12);
    assert_true (rec.warm);

    //  A swing low of Rs 150 on CE 24000 (the recipe of strat_base_test): PLACE.
    int64_t t0 = kt_ist_ns (2026, 11, 23, 9, 15, 0);
    const int64_t L = 15000, H = 16000, b = 13500;
    const int64_t o[6][5] = {{b, b, b, b, 1000},
                             {L + 400, L + 500, L + 300, L + 400, 0},
                             {L + 300, L + 400, L + 200, L + 300, 0},
                             {H, H, L, L, 0},
                             {L + 100, L + 150, L + 100, L + 100, 0},
                             {L + 100, L + 150, L + 100, L + 100, 0}};
    struct strat_out out = {0};
    for (int i = 0; i < 6; i++) {
        struct strat_bar ib = {IDX, t0 + i * NS_MIN, 2401000, 2401000, 2401000, 2401000, 0};
        struct strat_bar cb = {CE, t0 + i * NS_MIN, o[i][0], o[i][1], o[i][2], o[i][3], o[i][4]};
        strat_core_bar (core, &ib, &out);
        strat_core_bar (core, &cb, &out);
        strat_core_timer (core, t0 + (i + 1) * NS_MIN, &out);
    }
    assert_int_equal (out.n, 1);
    assert_int_equal (out.v[0].kind, STRAT_I_PLACE);
    assert_non_null (strat_map_add (&m, &out.v[0], "S1-261123-1", "NIFTY26NOV24000CE"));
    strat_state_render (core, instr, &m, &cfg, &c, 78, &rec);
    assert_int_equal (rec.day, 20261123);
    assert_int_equal (rec.atm, 2400000);
    assert_int_equal (rec.universe, 42);
    assert_int_equal (rec.candidates, 1);
    assert_string_equal (rec.cands, "NIFTY26NOV24000CE 150.00/160.00");
    assert_string_equal (rec.best_ce, "NIFTY26NOV24000CE 600@149.95");
    assert_string_equal (rec.best_pe, "");
    assert_string_equal (rec.pending, "S1-261123-1 NIFTY26NOV24000CE 600@149.95 sl=160.00");
    assert_string_equal (rec.positions, "");

    //  Filled at 149.95, last close 150.00: a position, R slightly negative.
    struct strat_exec ev = {STRAT_EV_ENTRY_FILL, out.v[0].order_id, CE, t0, 600, 14995};
    strat_core_exec (core, &ev, &out);
    strat_map_by_id (&m, out.v[0].order_id)->filled = 600;
    strat_map_by_id (&m, out.v[0].order_id)->working = false;
    strat_state_render (core, instr, &m, &cfg, &c, 79, &rec);
    assert_int_equal (rec.open_ce, 1);
    assert_string_equal (rec.pending, "");
    assert_string_equal (rec.positions, "S1-261123-1 NIFTY26NOV24000CE 600/0");
    //  (14995 - 15100) / (16000 - 15000) = -0.105 (the last close is L + 100)
    assert_string_equal (rec.cum_r, "-0.1050");
    assert_int_equal (rec.candidates, 0); //  consumed by the fill

    //  Every field is a declared one: what HSET writes is what redis.md documents.
    struct kt_schema_pairs p;
    int n = kt_schema_pairs (&kt_key_strat_state, &rec, &p);
    assert_true (n >= 25);
    for (int i = 0; i < n; i++)
        if (strcmp (p.argv[2 * i], "cum_r") == 0)
            assert_string_equal (p.argv[2 * i + 1], "-0.1050");
    strat_core_destroy (&core);
    kt_instr_destroy (&instr);
}

static void
test_lists_are_bounded (void **state)
{
    (void) state;
    static struct strat_cfg cfg;
    memset (&cfg, 0, sizeof cfg);
    strat_cfg_apply_defaults (strat_cfg_table, &cfg);
    static struct strat_map m;
    memset (&m, 0, sizeof m);
    for (uint32_t i = 1; i <= STRAT_MAP_ORDERS; i++) {
        struct strat_intent it = {
            .kind = STRAT_I_PLACE, .order_id = i, .qty = 75, .trigger = 100000, .sl_price = 110000};
        strat_map_add (&m, &it, "S1-261123-1000", "NIFTY26NOV24000CE");
    }
    struct strat_counts c = {0};
    struct kt_strat_state_rec rec;
    strat_state_render (NULL, NULL, &m, &cfg, &c, 1, &rec);
    size_t n = strlen (rec.pending);
    assert_true (n < sizeof rec.pending);
    assert_string_equal (rec.pending + n - 3, "...");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_render),
        cmocka_unit_test (test_lists_are_bounded),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
