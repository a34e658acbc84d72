/*  kt_money_test - rupee text <-> paise: the JSON number grammar, rounding half away
 *  from zero at the paisa, int64 boundaries, exact parsing and both output formats;
 *  plus the inline overflow-checked arithmetic and tick rounding of kt_money.h. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kt_money.h"

static int
s_parse (const char *text, int64_t *paise)
{
    return kt_money_parse (text, strlen (text), paise);
}

static int
s_exact (const char *text, int64_t *paise)
{
    return kt_money_parse_exact (text, strlen (text), paise);
}

typedef struct {
    const char *text;
    int64_t paise;
} s_case_t;

static void
test_parse_values (void **state)
{
    (void) state;
    static const s_case_t cases[] = {
        { "0", 0 }, { "-0", 0 }, { "-0.0", 0 }, { "0.05", 5 }, { "300.1", 30010 },
        { "300.10", 30010 }, { "1573", 157300 }, { "-1234.5", -123450 },
        { "100000.05", 10000005 }, { "99725.05000000002", 9972505 },
        { "24000.0", 2400000 }, { "0.01", 1 }, { "12345678.99", 1234567899 },
        //  exponent forms
        { "1e2", 10000 }, { "1E2", 10000 }, { "1e+2", 10000 }, { "1.5e-1", 15 },
        { "2.5E1", 2500 }, { "-3e0", -300 }, { "5e-2", 5 }, { "0e999999999", 0 },
        { "1e-99999999999999999999", 0 }, { "12345e-4", 123 },
        //  rounding half away from zero at the paisa
        { "0.005", 1 }, { "-0.005", -1 }, { "0.0049999", 0 }, { "-0.0049999", 0 },
        { "0.015", 2 }, { "0.0149999999", 1 }, { "5e-3", 1 }, { "-5e-3", -1 },
        { "4.9e-3", 0 }, { "5e-4", 0 }, { "2.675", 268 }, { "1.005", 101 },
        { "0.00500000000000000000000001", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        int rc = s_parse (cases[i].text, &v);
        if (rc != 0 || v != cases[i].paise)
            print_error ("case %s: rc %d value %lld\n", cases[i].text, rc, (long long) v);
        assert_int_equal (rc, 0);
        assert_int_equal (v, cases[i].paise);
    }
}

static void
test_parse_syntax (void **state)
{
    (void) state;
    static const char *bad[] = {
        "", "-", "01", "-01", "1.", ".5", "-.5", "+1", "1e", "1e+", "1e-", " 1", "1 ",
        "1,000", "0x10", "NaN", "Infinity", "1.2.3", "--1", "1e2.5", "1..2", "rs 10", "1-2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 777;
        if (s_parse (bad[i], &v) == 0)
            print_error ("accepted \"%s\"\n", bad[i]);
        assert_int_equal (s_parse (bad[i], &v), -1);
        assert_int_equal (v, 777);
        assert_int_equal (s_exact (bad[i], &v), -1);
    }
    int64_t v;
    assert_int_equal (kt_money_parse (NULL, 0, &v), -1);
    //  len bounds the text: no NUL terminator needed, trailing bytes ignored.
    assert_int_equal (kt_money_parse ("300.15xyz", 6, &v), 0);
    assert_int_equal (v, 30015);
    assert_int_equal (kt_money_parse ("300.15", 3, &v), 0);
    assert_int_equal (v, 30000);
    assert_int_equal (kt_money_parse ("300.15", 4, &v), -1);     //  "300." is not JSON
}

static void
test_parse_bounds (void **state)
{
    (void) state;
    int64_t v;
    assert_int_equal (s_parse ("92233720368547758.07", &v), 0);
    assert_true (v == INT64_MAX);
    assert_int_equal (s_parse ("92233720368547758.08", &v), -1);
    assert_int_equal (s_parse ("-92233720368547758.08", &v), 0);
    assert_true (v == INT64_MIN);
    assert_int_equal (s_parse ("-92233720368547758.09", &v), -1);
    //  rounding up past the limit overflows; rounding down stays inside
    assert_int_equal (s_parse ("92233720368547758.074", &v), 0);
    assert_true (v == INT64_MAX);
    assert_int_equal (s_parse ("92233720368547758.075", &v), -1);
    assert_int_equal (s_parse ("-92233720368547758.084", &v), 0);
    assert_true (v == INT64_MIN);
    assert_int_equal (s_parse ("-92233720368547758.085", &v), -1);
    assert_int_equal (s_parse ("1e17", &v), -1);
    assert_int_equal (s_parse ("9.2233720368547758e16", &v), 0);
    assert_true (v == 922337203685477580LL * 10);
    assert_int_equal (s_parse ("1e999999999999999999999", &v), -1);
    assert_int_equal (s_parse ("100000000000000000000", &v), -1);
    //  long digit strings are fine while the value fits
    assert_int_equal (s_parse ("000", &v), -1);
    assert_int_equal (s_parse ("0.0000000000000000000000000000000000000001", &v), 0);
    assert_int_equal (v, 0);
}

static void
test_parse_exact (void **state)
{
    (void) state;
    int64_t v = 0;
    assert_int_equal (s_exact ("300.10", &v), 0);
    assert_int_equal (v, 30010);
    assert_int_equal (s_exact ("300.100000", &v), 0);
    assert_int_equal (v, 30010);
    assert_int_equal (s_exact ("100000.05", &v), 0);
    assert_int_equal (v, 10000005);
    assert_int_equal (s_exact ("1e-2", &v), 0);
    assert_int_equal (v, 1);
    assert_int_equal (s_exact ("1.50e1", &v), 0);
    assert_int_equal (v, 1500);
    assert_int_equal (s_exact ("-0.00", &v), 0);
    assert_int_equal (v, 0);
    v = 99;
    assert_int_equal (s_exact ("300.105", &v), -1);
    assert_int_equal (s_exact ("0.001", &v), -1);
    assert_int_equal (s_exact ("1e-3", &v), -1);
    assert_int_equal (s_exact ("99725.05000000002", &v), -1);
    assert_int_equal (s_exact ("0.0000000000000000000001", &v), -1);
    assert_int_equal (v, 99);
    assert_int_equal (s_exact ("92233720368547758.07", &v), 0);
    assert_true (v == INT64_MAX);
    assert_int_equal (s_exact ("92233720368547758.08", &v), -1);
}

static void
test_format (void **state)
{
    (void) state;
    char buf[32];
    assert_string_equal (kt_money_format (0, buf, sizeof buf), "0.00");
    assert_string_equal (kt_money_format (5, buf, sizeof buf), "0.05");
    assert_string_equal (kt_money_format (-5, buf, sizeof buf), "-0.05");
    assert_string_equal (kt_money_format (30010, buf, sizeof buf), "300.10");
    assert_string_equal (kt_money_format (-123450, buf, sizeof buf), "-1234.50");
    assert_string_equal (kt_money_format (INT64_MAX, buf, sizeof buf), "92233720368547758.07");
    assert_string_equal (kt_money_format (INT64_MIN, buf, sizeof buf),
                         "-92233720368547758.08");
    //  24 bytes always suffice; too small a buffer is refused, not truncated
    char small[24];
    assert_non_null (kt_money_format (INT64_MIN, small, sizeof small));
    assert_null (kt_money_format (5, buf, 4));
    assert_non_null (kt_money_format (5, buf, 5));
    assert_null (kt_money_format (5, buf, 0));

    assert_string_equal (kt_money_format_json (0, buf, sizeof buf), "0");
    assert_string_equal (kt_money_format_json (5, buf, sizeof buf), "0.05");
    assert_string_equal (kt_money_format_json (50, buf, sizeof buf), "0.5");
    assert_string_equal (kt_money_format_json (-5, buf, sizeof buf), "-0.05");
    assert_string_equal (kt_money_format_json (30010, buf, sizeof buf), "300.1");
    assert_string_equal (kt_money_format_json (157300, buf, sizeof buf), "1573");
    assert_string_equal (kt_money_format_json (-30000, buf, sizeof buf), "-300");
    assert_string_equal (kt_money_format_json (10000005, buf, sizeof buf), "100000.05");
    assert_string_equal (kt_money_format_json (INT64_MIN, buf, sizeof buf),
                         "-92233720368547758.08");
    assert_null (kt_money_format_json (157300, buf, 4));
    assert_non_null (kt_money_format_json (157300, buf, 5));
}

static void
test_round_trip (void **state)
{
    (void) state;
    //  Every value formats to text that parses back to itself, exactly.
    static const int64_t edges[] = { INT64_MIN, INT64_MIN + 1, -100, -99, -1, 0, 1, 9, 10,
                                     99, 100, 101, INT64_MAX - 1, INT64_MAX };
    char buf[32];
    int64_t v;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        assert_int_equal (s_exact (kt_money_format (edges[i], buf, sizeof buf), &v), 0);
        assert_true (v == edges[i]);
        assert_int_equal (s_exact (kt_money_format_json (edges[i], buf, sizeof buf), &v), 0);
        assert_true (v == edges[i]);
    }
    for (int64_t p = -100000; p <= 100000; p += 7) {
        assert_int_equal (s_exact (kt_money_format (p, buf, sizeof buf), &v), 0);
        assert_int_equal (v, p);
        assert_int_equal (s_exact (kt_money_format_json (p, buf, sizeof buf), &v), 0);
        assert_int_equal (v, p);
    }
}

static void
test_arith_and_ticks (void **state)
{
    (void) state;
    int64_t out = 42;
    assert_true (kt_money_add (1, 2, &out));
    assert_int_equal (out, 3);
    out = 42;
    assert_false (kt_money_add (INT64_MAX, 1, &out));
    assert_int_equal (out, 42);
    assert_false (kt_money_sub (INT64_MIN, 1, &out));
    assert_true (kt_money_sub (0, INT64_MAX, &out));
    assert_true (out == -INT64_MAX);
    assert_true (kt_money_mul (2400000, 75, &out));
    assert_int_equal (out, 180000000);
    assert_false (kt_money_mul (INT64_MAX / 2 + 1, 2, &out));

    assert_true (kt_money_on_tick (10005, 5));
    assert_false (kt_money_on_tick (10003, 5));
    assert_false (kt_money_on_tick (0, 5));
    assert_false (kt_money_on_tick (10, 0));
    assert_int_equal (kt_money_tick_down (10003, 5), 10000);
    assert_int_equal (kt_money_tick_up (10003, 5), 10005);
    assert_int_equal (kt_money_tick_up (10005, 5), 10005);
    assert_int_equal (kt_money_tick_nearest (10002, 5), 10000);
    assert_int_equal (kt_money_tick_nearest (10003, 5), 10005);
    assert_int_equal (kt_money_tick_nearest (10000, 5), 10000);
    assert_int_equal (kt_money_tick_nearest (12, 25), 0);
    assert_int_equal (kt_money_tick_nearest (13, 25), 25);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_values),
        cmocka_unit_test (test_parse_syntax),
        cmocka_unit_test (test_parse_bounds),
        cmocka_unit_test (test_parse_exact),
        cmocka_unit_test (test_format),
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_arith_and_ticks),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
