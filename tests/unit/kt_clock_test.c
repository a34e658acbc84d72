/*  kt_clock_test - known instants through the clock and IST conversion, the
 *  civil-date arithmetic over a wide range, and the sim clock's scaling math.
 *
 *  Sim-clock checks bracket each reading between wall readings taken just before and
 *  after, so they assert exact arithmetic, never how long anything took. */

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
test_known_epochs (void **state)
{
    (void)state;
    //  2021-07-05 10:41:27 IST is 05:11:27 UTC.
    assert_int_equal (kt_ist_ns (2021, 7, 5, 10, 41, 27), 1625461887LL * NS);
    //  The Unix epoch is 05:30 IST on a Thursday.
    assert_int_equal (kt_ist_ns (1970, 1, 1, 5, 30, 0), 0);
    int y, mo, d, hh, mi, ss, wday;
    kt_ist_fields (0, &y, &mo, &d, &hh, &mi, &ss, &wday);
    assert_true (y == 1970 && mo == 1 && d == 1 && hh == 5 && mi == 30 && ss == 0);
    assert_int_equal (wday, 4);

    kt_ist_fields (1625461887LL * NS + 999999999, &y, &mo, &d, &hh, &mi, &ss, &wday);
    assert_true (y == 2021 && mo == 7 && d == 5 && hh == 10 && mi == 41 && ss == 27);
    assert_int_equal (wday, 1); //  a Monday

    //  One ns before the epoch (negative timestamps floor, not truncate).
    kt_ist_fields (-1, &y, &mo, &d, &hh, &mi, &ss, &wday);
    assert_true (y == 1970 && mo == 1 && d == 1 && hh == 5 && mi == 29 && ss == 59);
    //  Before the epoch in IST too: 1969-12-31 23:59:59 IST.
    int64_t t = kt_ist_ns (1969, 12, 31, 23, 59, 59);
    assert_int_equal (t, -19801LL * NS);
    kt_ist_fields (t, &y, &mo, &d, &hh, &mi, &ss, &wday);
    assert_true (y == 1969 && mo == 12 && d == 31 && hh == 23 && mi == 59 && ss == 59);
    assert_int_equal (wday, 3); //  a Wednesday

    //  Leap days: 2024 and 2000 are leap years, 1900 and 2100 are not.
    kt_ist_fields (kt_ist_ns (2024, 2, 28, 12, 0, 0) + 86400 * NS, &y, &mo, &d, NULL, NULL, NULL,
                   NULL);
    assert_true (y == 2024 && mo == 2 && d == 29);
    kt_ist_fields (kt_ist_ns (2100, 2, 28, 12, 0, 0) + 86400 * NS, &y, &mo, &d, NULL, NULL, NULL,
                   NULL);
    assert_true (y == 2100 && mo == 3 && d == 1);
    assert_int_equal (
        kt_clock_days_from_civil (2000, 3, 1) - kt_clock_days_from_civil (2000, 2, 28), 2);
    assert_int_equal (
        kt_clock_days_from_civil (1900, 3, 1) - kt_clock_days_from_civil (1900, 2, 28), 1);

    //  Any out pointer may be NULL.
    kt_ist_fields (0, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
}

static void
test_civil_round_trip (void **state)
{
    (void)state;
    //  Every day from 1600 to 2400 maps to a valid date and back, in order.
    int64_t first = kt_clock_days_from_civil (1600, 1, 1);
    int64_t last = kt_clock_days_from_civil (2400, 12, 31);
    int py = 1599, pmo = 12, pd = 31;
    for (int64_t day = first; day <= last; day++) {
        int y, mo, d;
        kt_clock_civil_from_days (day, &y, &mo, &d);
        assert_int_equal (kt_clock_days_from_civil (y, mo, d), day);
        //  Consecutive: next day of the month, or day 1 of the next month/year.
        bool next_day = y == py && mo == pmo && d == pd + 1;
        bool next_month = y == py && mo == pmo + 1 && d == 1;
        bool next_year = y == py + 1 && mo == 1 && d == 1 && pmo == 12 && pd == 31;
        assert_true (next_day || next_month || next_year);
        py = y;
        pmo = mo;
        pd = d;
    }
    assert_int_equal (kt_clock_days_from_civil (1970, 1, 1), 0);
    assert_int_equal (kt_clock_days_from_civil (2000, 1, 1), 10957);
}

static void
test_real_clock (void **state)
{
    (void)state;
    kt_clock_t *clock = kt_clock_new_real ();
    assert_non_null (clock);
    assert_false (kt_clock_is_sim (clock));
    assert_int_equal (kt_clock_speed_ppm (clock), 1000000);
    int64_t w, s, p;
    assert_int_equal (kt_clock_anchor (clock, &w, &s, &p), -1);
    int64_t before = kt_clock_wall_ns ();
    int64_t now = kt_clock_now_ns (clock);
    int64_t after = kt_clock_wall_ns ();
    assert_true (before <= now && now <= after);
    int64_t m1 = kt_clock_mono_ns (clock);
    int64_t m2 = kt_clock_mono_ns (clock);
    assert_true (m1 <= m2);
    //  Rounding up to whole ms, never a 0 ms wait for a pending deadline.
    assert_int_equal (kt_clock_wall_ms (clock, 0), 0);
    assert_int_equal (kt_clock_wall_ms (clock, -5), 0);
    assert_int_equal (kt_clock_wall_ms (clock, 1), 1);
    assert_int_equal (kt_clock_wall_ms (clock, 1000000), 1);
    assert_int_equal (kt_clock_wall_ms (clock, 1000001), 2);
    assert_int_equal (kt_clock_wall_ms (NULL, 2500000), 3); //  NULL is real time
    assert_int_equal (kt_clock_speed_ppm (NULL), 1000000);
    assert_false (kt_clock_is_sim (NULL));
    kt_clock_destroy (&clock);
    assert_null (clock);
    kt_clock_destroy (&clock);
}

static void
test_sim_clock_math (void **state)
{
    (void)state;
    assert_null (kt_clock_new_sim (0, 0, 0));
    assert_null (kt_clock_new_sim (0, 0, -1000000));

    //  60x, anchored 10 s of wall time ago at a sim instant of 09:15 IST.
    int64_t sim_anchor = kt_ist_ns (2025, 11, 24, 9, 15, 0);
    int64_t wall_anchor = kt_clock_wall_ns () - 10 * NS;
    kt_clock_t *clock = kt_clock_new_sim (wall_anchor, sim_anchor, 60000000);
    assert_non_null (clock);
    assert_true (kt_clock_is_sim (clock));
    assert_int_equal (kt_clock_speed_ppm (clock), 60000000);
    int64_t w, s, p;
    assert_int_equal (kt_clock_anchor (clock, &w, &s, &p), 0);
    assert_true (w == wall_anchor && s == sim_anchor && p == 60000000);
    assert_int_equal (kt_clock_anchor (clock, NULL, NULL, NULL), 0);

    int64_t before = kt_clock_wall_ns ();
    int64_t now = kt_clock_now_ns (clock);
    int64_t after = kt_clock_wall_ns ();
    assert_true (now >= sim_anchor + (before - wall_anchor) * 60);
    assert_true (now <= sim_anchor + (after - wall_anchor) * 60);
    assert_true (now >= sim_anchor + 600 * NS); //  10 s wall = 10 min sim

    //  Monotonic sim time advances 60x wall monotonic time between two readings.
    int64_t wb1 = kt_clock_wall_mono_ns ();
    int64_t m1 = kt_clock_mono_ns (clock);
    int64_t wa1 = kt_clock_wall_mono_ns ();
    struct timespec pause = {0, 2000000};
    nanosleep (&pause, NULL);
    int64_t wb2 = kt_clock_wall_mono_ns ();
    int64_t m2 = kt_clock_mono_ns (clock);
    int64_t wa2 = kt_clock_wall_mono_ns ();
    assert_true (m2 - m1 >= (wb2 - wa1) * 60 - 2);
    assert_true (m2 - m1 <= (wa2 - wb1) * 60 + 2);
    //  Sim monotonic time starts at the sim "now" of its creation (close to now_ns).
    assert_true (m1 >= sim_anchor + 600 * NS);

    //  Wall ms for a pipeline duration: 60 ms of sim time is 1 ms of wall time.
    assert_int_equal (kt_clock_wall_ms (clock, 60 * 1000000LL), 1);
    assert_int_equal (kt_clock_wall_ms (clock, 60 * 1000000LL + 1), 2);
    assert_int_equal (kt_clock_wall_ms (clock, 60 * NS), 1000);
    kt_clock_destroy (&clock);

    //  Slower than real time: 0.5x doubles the wall wait.
    clock = kt_clock_new_sim (kt_clock_wall_ns (), 0, 500000);
    assert_int_equal (kt_clock_wall_ms (clock, 1000000), 2);
    kt_clock_destroy (&clock);

    //  A fractional speed is exact: 1.5x over 1 s of wall time is 1.5 s.
    clock = kt_clock_new_sim (kt_clock_wall_ns () - NS, 0, 1500000);
    now = kt_clock_now_ns (clock);
    assert_true (now >= 1500 * 1000000LL);
    kt_clock_destroy (&clock);
}

static void
test_sim_clock_never_overflows (void **state)
{
    (void)state;
    //  Absurd anchors and speeds saturate instead of wrapping (UBSan would abort on a
    //  signed overflow here).
    kt_clock_t *clock = kt_clock_new_sim (0, INT64_MAX - 5, INT64_MAX);
    assert_int_equal (kt_clock_now_ns (clock), INT64_MAX);
    assert_true (kt_clock_mono_ns (clock) > 0);
    assert_true (kt_clock_wall_ms (clock, INT64_MAX) >= 1);
    kt_clock_destroy (&clock);

    clock = kt_clock_new_sim (INT64_MAX, INT64_MIN + 5, INT64_MAX);
    assert_int_equal (kt_clock_now_ns (clock), INT64_MIN);
    kt_clock_destroy (&clock);

    clock = kt_clock_new_sim (INT64_MIN, 0, 1000000);
    assert_int_equal (kt_clock_now_ns (clock), INT64_MAX);
    kt_clock_destroy (&clock);
}

static void
test_set_anchor (void **state)
{
    (void) state;
    int64_t day1 = kt_ist_ns (2025, 11, 24, 9, 15, 0);
    int64_t day2 = kt_ist_ns (2025, 11, 25, 9, 15, 0);
    kt_clock_t *c = kt_clock_new_sim (kt_clock_wall_ns (), day1, 60 * 1000000LL);
    assert_non_null (c);
    int64_t mono_before = kt_clock_mono_ns (c);
    assert_int_equal (kt_clock_set_anchor (c, kt_clock_wall_ns (), day2, 1000000), 0);
    //  "now" moved to the new session, monotonic time did not jump back.
    assert_true (kt_clock_now_ns (c) >= day2);
    assert_true (kt_clock_now_ns (c) < day2 + 60LL * KT_NS_PER_SEC);
    assert_true (kt_clock_mono_ns (c) >= mono_before);
    assert_int_equal (kt_clock_speed_ppm (c), 1000000);
    assert_int_equal (kt_clock_set_anchor (c, 0, day2, 0), -1);
    kt_clock_t *real = kt_clock_new_real ();
    assert_int_equal (kt_clock_set_anchor (real, 0, day2, 1000000), -1);
    kt_clock_destroy (&real);
    kt_clock_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_known_epochs),
        cmocka_unit_test (test_civil_round_trip),
        cmocka_unit_test (test_real_clock),
        cmocka_unit_test (test_sim_clock_math),
        cmocka_unit_test (test_sim_clock_never_overflows),
        cmocka_unit_test (test_set_anchor),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
