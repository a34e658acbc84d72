/*  strat_core_test - the strategy interface: the registry (baseline_v1, probe, an
 *  unknown name), bad parameters refused at init, and the intent buffer's bound. */

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
test_registry (void **state)
{
    (void) state;
    char err[256];
    kt_instr_table_t *instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (instr);
    struct strat_params p;
    strat_params_defaults (&p);
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

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_registry),
        cmocka_unit_test (test_out_overflow),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
