/*  risk_prices_test - the last-price table: set, update, miss, a full table refuses new
 *  symbols (never grows), a symbol too long is refused. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"

static void
test_set_get (void **state)
{
    (void) state;
    risk_prices_t *p = risk_prices_new (100);
    int64_t px, ts;
    assert_false (risk_prices_get (p, "A", &px, &ts));
    assert_int_equal (risk_prices_set (p, "A", 100, 1), 0);
    assert_int_equal (risk_prices_set (p, "B", 200, 2), 0);
    assert_int_equal (risk_prices_set (p, "A", 105, 3), 0);
    assert_true (risk_prices_get (p, "A", &px, &ts));
    assert_int_equal (px, 105);
    assert_int_equal (ts, 3);
    assert_true (risk_prices_get (p, "B", &px, &ts));
    assert_int_equal (px, 200);
    risk_prices_destroy (&p);
    assert_null (p);
    risk_prices_destroy (&p);
}

static void
test_full_and_bad (void **state)
{
    (void) state;
    risk_prices_t *p = risk_prices_new (4); //  16 slots, at most 8 used
    char sym[16];
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        snprintf (sym, sizeof sym, "S%d", i);
        ok += risk_prices_set (p, sym, i, i) == 0;
    }
    assert_int_equal (ok, 8);
    int64_t px, ts;
    assert_true (risk_prices_get (p, "S7", &px, &ts));
    assert_false (risk_prices_get (p, "S8", &px, &ts));
    assert_int_equal (risk_prices_set (p, "S3", 33, 33), 0); //  known: still updates
    char longsym[KT_SYM_LEN + 8];
    memset (longsym, 'X', sizeof longsym - 1);
    longsym[sizeof longsym - 1] = '\0';
    assert_int_equal (risk_prices_set (p, longsym, 1, 1), -1);
    assert_int_equal (risk_prices_set (p, "", 1, 1), -1);
    risk_prices_destroy (&p);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_set_get),
        cmocka_unit_test (test_full_and_bad),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
