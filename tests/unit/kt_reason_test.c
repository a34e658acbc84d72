/*  kt_reason_test - the reason names: stable spelling of the codes other processes and
 *  docs depend on, unique names, and the str/parse round trip including bad input. */

#include "kt_reason.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void
test_round_trip (void **state)
{
    (void)state;
    for (int i = 0; i < KT_R_COUNT; i++) {
        const char *name = kt_reason_str ((kt_reason_t)i);
        assert_non_null (name);
        assert_true (strlen (name) > 0);
        assert_string_not_equal (name, "UNKNOWN");
        assert_int_equal (kt_reason_parse (name), i);
        //  Names travel in messages and logs: upper case, digits and '_' only.
        for (const char *c = name; *c; c++)
            assert_true ((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_');
        for (int j = 0; j < i; j++)
            assert_string_not_equal (name, kt_reason_str ((kt_reason_t)j));
    }
}

static void
test_stable_names (void **state)
{
    (void)state;
    //  These spellings are a contract with docs/risk-gate.md and stored decisions.
    assert_int_equal (KT_OK, 0);
    assert_string_equal (kt_reason_str (KT_OK), "OK");
    assert_string_equal (kt_reason_str (KT_R_MAX_POS), "MAX_POS");
    assert_string_equal (kt_reason_str (KT_R_STALE_MD), "STALE_MD");
    assert_string_equal (kt_reason_str (KT_R_DAILY_LOSS), "DAILY_LOSS");
    assert_string_equal (kt_reason_str (KT_R_BROKER), "BROKER");
    assert_int_equal (kt_reason_parse ("KILL"), KT_R_KILL);
    assert_int_equal (kt_reason_parse ("BAD_MSG"), KT_R_BAD_MSG);
}

static void
test_bad_input (void **state)
{
    (void)state;
    assert_string_equal (kt_reason_str ((kt_reason_t)-1), "UNKNOWN");
    assert_string_equal (kt_reason_str (KT_R_COUNT), "UNKNOWN");
    assert_string_equal (kt_reason_str ((kt_reason_t)100000), "UNKNOWN");
    assert_int_equal (kt_reason_parse (NULL), -1);
    assert_int_equal (kt_reason_parse (""), -1);
    assert_int_equal (kt_reason_parse ("UNKNOWN"), -1);
    assert_int_equal (kt_reason_parse ("max_pos"), -1); //  exact spelling only
    assert_int_equal (kt_reason_parse ("MAX_POS "), -1);
    assert_int_equal (kt_reason_parse ("MAX_PO"), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_stable_names),
        cmocka_unit_test (test_bad_input),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
