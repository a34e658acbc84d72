/*  ctl_fmt_test - ages as a person reads them and exact rupees. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../tradectl/ctl_cmd.h"

#define S 1000000000LL

static void
test_ages (void **state)
{
    (void) state;
    char b[32];
    assert_string_equal (ctl_fmt_age (0, b, sizeof b), "0 s ago");
    assert_string_equal (ctl_fmt_age (3 * S + S / 2, b, sizeof b), "3 s ago");
    assert_string_equal (ctl_fmt_age (119 * S, b, sizeof b), "119 s ago");
    assert_string_equal (ctl_fmt_age (120 * S, b, sizeof b), "2 min ago");
    assert_string_equal (ctl_fmt_age (3599 * S, b, sizeof b), "59 min ago");
    assert_string_equal (ctl_fmt_age (3600 * S + 5 * 60 * S, b, sizeof b), "1 h 5 min ago");
    assert_string_equal (ctl_fmt_age (47 * 3600 * S, b, sizeof b), "47 h 0 min ago");
    assert_string_equal (ctl_fmt_age (5 * 86400 * S, b, sizeof b), "5 d ago");
    assert_string_equal (ctl_fmt_age (-1, b, sizeof b), "in the future");
    //  a small buffer truncates, never overflows
    char tiny[4];
    assert_string_equal (ctl_fmt_age (3 * S, tiny, sizeof tiny), "3 s");
}

static void
test_rupees (void **state)
{
    (void) state;
    char b[32];
    assert_string_equal (ctl_fmt_rs (123450, b, sizeof b), "Rs 1234.50");
    assert_string_equal (ctl_fmt_rs (-305, b, sizeof b), "Rs -3.05");
    assert_string_equal (ctl_fmt_rs (0, b, sizeof b), "Rs 0.00");
    assert_string_equal (ctl_fmt_rs (INT64_MAX, b, sizeof b), "Rs 92233720368547758.07");
}

static void
test_json_integers_exact (void **state)
{
    (void) state;
    cJSON *o = cJSON_CreateObject ();
    ctl_json_i64 (o, "ns", 1763956801000000001LL);
    ctl_json_i64 (o, "neg", -75);
    char *t = cJSON_PrintUnformatted (o);
    assert_string_equal (t, "{\"ns\":1763956801000000001,\"neg\":-75}");
    free (t);
    cJSON_Delete (o);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ages),
        cmocka_unit_test (test_rupees),
        cmocka_unit_test (test_json_integers_exact),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
