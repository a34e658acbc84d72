/*  kt_ist_test - the IST exchange-time helpers: market hours, weekdays, day and week
 *  starts, strict parsing, the Kite timestamp form. Pure functions, no I/O. */

#include "kt_ist.h"
#include "kt_clock.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define NS KT_NS_PER_SEC

static void
test_market_hours (void **state)
{
    (void) state;
    //  2025-11-24 is a Monday.
    assert_false (kt_ist_market_open (kt_ist_ns (2025, 11, 24, 9, 14, 59)));
    assert_false (kt_ist_market_open (kt_ist_ns (2025, 11, 24, 9, 15, 0) - 1));
    assert_true (kt_ist_market_open (kt_ist_ns (2025, 11, 24, 9, 15, 0)));
    assert_true (kt_ist_market_open (kt_ist_ns (2025, 11, 24, 12, 0, 0)));
    assert_true (kt_ist_market_open (kt_ist_ns (2025, 11, 24, 15, 29, 59)));
    assert_true (kt_ist_market_open (kt_ist_ns (2025, 11, 24, 15, 30, 0) - 1));
    assert_false (kt_ist_market_open (kt_ist_ns (2025, 11, 24, 15, 30, 0)));
    assert_false (kt_ist_market_open (kt_ist_ns (2025, 11, 24, 0, 0, 0)));
    //  Friday open, Saturday and Sunday closed at the same clock time.
    assert_true (kt_ist_market_open (kt_ist_ns (2025, 11, 28, 10, 0, 0)));
    assert_false (kt_ist_market_open (kt_ist_ns (2025, 11, 29, 10, 0, 0)));
    assert_false (kt_ist_market_open (kt_ist_ns (2025, 11, 30, 10, 0, 0)));
}

static void
test_weekdays (void **state)
{
    (void) state;
    //  2025-11-24 Monday .. 2025-11-30 Sunday.
    bool want[7] = {true, true, true, true, true, false, false};
    for (int i = 0; i < 7; i++) {
        int64_t t = kt_ist_ns (2025, 11, 24 + i, 0, 0, 0);
        assert_int_equal (kt_ist_is_weekday (t), want[i]);
        assert_int_equal (kt_ist_is_weekday (t + 86400 * NS - 1), want[i]);
        int wday;
        kt_ist_fields (t, NULL, NULL, NULL, NULL, NULL, NULL, &wday);
        assert_int_equal (wday, (i + 1) % 7);
    }
    //  Saturday 2025-11-29 00:00 IST is still Friday in UTC: IST decides.
    assert_false (kt_ist_is_weekday (kt_ist_ns (2025, 11, 29, 0, 30, 0)));
}

static void
test_day_and_week_start (void **state)
{
    (void) state;
    int64_t monday = kt_ist_ns (2025, 11, 24, 0, 0, 0);
    //  Monday 00:00 IST is Sunday 18:30 UTC.
    assert_int_equal (monday, 1763922600LL * NS);
    for (int i = 0; i < 7; i++) {
        int64_t day = kt_ist_ns (2025, 11, 24 + i, 0, 0, 0);
        assert_int_equal (kt_ist_week_start (day), monday);
        assert_int_equal (kt_ist_week_start (day + 86400 * NS - 1), monday);
        assert_int_equal (kt_ist_day_start (day + 13 * 3600 * NS + 7), day);
    }
    assert_int_equal (kt_ist_week_start (monday - 1), monday - 7 * 86400 * NS);
    //  A week across a month and a year boundary: Thu 2026-01-01 -> Mon 2025-12-29.
    assert_int_equal (kt_ist_week_start (kt_ist_ns (2026, 1, 1, 9, 0, 0)),
                      kt_ist_ns (2025, 12, 29, 0, 0, 0));
    //  Before the epoch.
    assert_int_equal (kt_ist_week_start (kt_ist_ns (1969, 12, 31, 12, 0, 0)),
                      kt_ist_ns (1969, 12, 29, 0, 0, 0));

    assert_int_equal (kt_ist_minute_of_day (kt_ist_ns (2025, 11, 24, 9, 15, 59)), 555);
    assert_int_equal (kt_ist_minute_of_day (kt_ist_ns (2025, 11, 24, 23, 59, 59)), 1439);
    assert_int_equal (kt_ist_minute_of_day (monday), 0);
    //  20:00 UTC on the 23rd is already the 24th in IST.
    int64_t utc_2000 = 1763928000LL * NS; //  2025-11-23T20:00:00Z
    assert_int_equal (kt_ist_yyyymmdd (utc_2000), 20251124);
    assert_int_equal (kt_ist_yyyymmdd (utc_2000 - 2 * 3600 * NS), 20251123);
}

static void
test_after (void **state)
{
    (void) state;
    assert_false (kt_ist_after (kt_ist_ns (2025, 11, 24, 15, 14, 59), 15, 15));
    assert_true (kt_ist_after (kt_ist_ns (2025, 11, 24, 15, 15, 0), 15, 15));
    assert_true (kt_ist_after (kt_ist_ns (2025, 11, 24, 23, 59, 59), 15, 15));
    //  A new day starts before the cut-off again.
    assert_false (kt_ist_after (kt_ist_ns (2025, 11, 25, 0, 0, 0), 15, 15));
    assert_true (kt_ist_after (kt_ist_ns (2025, 11, 25, 0, 0, 0), 0, 0));
}

static void
test_parse (void **state)
{
    (void) state;
    int y = -1, mo = -1, d = -1;
    assert_int_equal (kt_ist_parse_date ("2024-02-29", &y, &mo, &d), 0);
    assert_true (y == 2024 && mo == 2 && d == 29);
    assert_int_equal (kt_ist_parse_date ("2025-12-31", &y, &mo, &d), 0);
    assert_true (y == 2025 && mo == 12 && d == 31);
    const char *bad_dates[] = {"2023-02-29",  "1900-02-29", "2025-13-01",  "2025-00-10",
                               "2025-04-31",  "2025-01-00", "2025-1-01",   "2025-01-1",
                               "2025-01-011", "2025/01/01", "20250101",    "",
                               "abcd-ef-gh",  "2025-01-0a", " 2025-01-01", "+025-01-01"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
        y = mo = d = -7;
        assert_int_equal (kt_ist_parse_date (bad_dates[i], &y, &mo, &d), -1);
        assert_true (y == -7 && mo == -7 && d == -7); //  outputs untouched
    }
    assert_int_equal (kt_ist_parse_date (NULL, &y, &mo, &d), -1);

    int hh = -1, mm = -1;
    assert_int_equal (kt_ist_parse_hhmm ("09:15", &hh, &mm), 0);
    assert_true (hh == 9 && mm == 15);
    assert_int_equal (kt_ist_parse_hhmm ("00:00", &hh, &mm), 0);
    assert_true (hh == 0 && mm == 0);
    assert_int_equal (kt_ist_parse_hhmm ("23:59", &hh, &mm), 0);
    assert_true (hh == 23 && mm == 59);
    const char *bad_times[] = {"24:00",    "09:60", "9:15", "09:5",  "0915",
                               "09:15:00", "09-15", "",     "ab:cd", "-1:10"};
    for (size_t i = 0; i < sizeof bad_times / sizeof bad_times[0]; i++)
        assert_int_equal (kt_ist_parse_hhmm (bad_times[i], &hh, &mm), -1);
    assert_int_equal (kt_ist_parse_hhmm (NULL, &hh, &mm), -1);
}

static void
test_format_round_trip (void **state)
{
    (void) state;
    char buf[32];
    assert_string_equal (kt_ist_format (1625461887LL * NS, buf, sizeof buf), "2021-07-05 10:41:27");
    assert_string_equal (kt_ist_format (0, buf, sizeof buf), "1970-01-01 05:30:00");
    //  Sub-second parts are dropped, not rounded.
    assert_string_equal (kt_ist_format (kt_ist_ns (2025, 11, 24, 9, 15, 0) + NS - 1, buf, 20),
                         "2025-11-24 09:15:00");
    //  Too small a buffer gives "", never an overflow.
    char small[19];
    memset (small, 'x', sizeof small);
    assert_ptr_equal (kt_ist_format (0, small, sizeof small), small);
    assert_string_equal (small, "");

    //  Parse -> timestamp -> format gives the input back, across a few years.
    const char *dates[] = {"2019-01-01", "2020-02-29", "2024-12-31", "2025-11-24", "2038-01-19"};
    const char *times[] = {"00:00", "09:15", "15:30", "23:59"};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 4; j++) {
            int y, mo, d, hh, mm;
            assert_int_equal (kt_ist_parse_date (dates[i], &y, &mo, &d), 0);
            assert_int_equal (kt_ist_parse_hhmm (times[j], &hh, &mm), 0);
            int64_t t = kt_ist_ns (y, mo, d, hh, mm, 7);
            char want[32];
            snprintf (want, sizeof want, "%s %s:07", dates[i], times[j]);
            assert_string_equal (kt_ist_format (t, buf, sizeof buf), want);
            assert_int_equal (kt_ist_yyyymmdd (t), y * 10000 + mo * 100 + d);
        }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_market_hours),
        cmocka_unit_test (test_weekdays),
        cmocka_unit_test (test_day_and_week_start),
        cmocka_unit_test (test_after),
        cmocka_unit_test (test_parse),
        cmocka_unit_test (test_format_round_trip),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
