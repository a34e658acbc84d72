/*  strat_rmul_test - exact R multiples: 4-decimal rounding half away from zero, exact
 *  sums at the +5 / -5 boundaries, comparisons, overflow reported. */

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
        cmocka_unit_test (test_rmul),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
