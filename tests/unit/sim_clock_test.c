/*  sim_clock_test - kite-sim's session clock, driven by explicit wall instants (nothing
 *  sleeps): where a session starts (09:15 IST of the date, --start, wall-clock mode,
 *  --paused exactly at the start), speed scaling, pause / resume / step_to / set_speed
 *  and their refusals, and that simulated time never goes backwards whatever the order
 *  of calls. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "../../sim/sim.h"

#define SEC KT_NS_PER_SEC
#define MS (1000000LL)
#define MONO0 (5000 * SEC)              //  arbitrary monotonic origin
#define REAL0 (1763000000LL * SEC)      //  arbitrary realtime origin
//  2025-11-18 09:15:00 IST = 03:45:00 UTC.
#define OPEN_1118 (1763437500LL * SEC)

static void
s_cfg (struct sim_cfg *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->speed = 1.0;
}

static void
test_start (void **state)
{
    (void) state;
    struct sim_cfg cfg;
    struct sim_clock c;
    //  The constant is what kt_clock thinks 09:15 IST is.
    assert_int_equal (OPEN_1118, kt_ist_ns (2025, 11, 18, 9, 15, 0));
    //  Default: the session open, running at speed 1.
    s_cfg (&cfg);
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_false (c.paused);
    assert_int_equal (c.speed_ppm, 1000000);
    assert_int_equal (sim_clock_now (&c, MONO0), OPEN_1118);
    assert_int_equal (sim_clock_now (&c, MONO0 + 2 * SEC), OPEN_1118 + 2 * SEC);
    assert_int_equal (c.real_anchor_ns, REAL0);
    //  --start HH:MM and HH:MM:SS on the session's day.
    snprintf (cfg.start, sizeof cfg.start, "14:05");
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0), kt_ist_ns (2025, 11, 18, 14, 5, 0));
    snprintf (cfg.start, sizeof cfg.start, "09:14:59");
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0), OPEN_1118 - SEC);
    snprintf (cfg.start, sizeof cfg.start, "00:00");
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0), kt_ist_ns (2025, 11, 18, 0, 0, 0));
    snprintf (cfg.start, sizeof cfg.start, "23:59:59");
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0), kt_ist_ns (2025, 11, 18, 23, 59, 59));
    assert_int_equal (kt_ist_yyyymmdd (sim_clock_now (&c, MONO0)), 20251118);
    //  Speed from the config, rounded to ppm.
    cfg.start[0] = '\0';
    cfg.speed = 60;
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_int_equal (c.speed_ppm, 60000000);
    assert_int_equal (sim_clock_now (&c, MONO0 + SEC), OPEN_1118 + 60 * SEC);
    cfg.speed = 0.0000004;          //  below one ppm: the slowest clock, never stopped
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_int_equal (c.speed_ppm, 1);
    cfg.speed = 2.5;
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_int_equal (c.speed_ppm, 2500000);
}

static void
test_start_paused (void **state)
{
    (void) state;
    struct sim_cfg cfg;
    struct sim_clock c;
    s_cfg (&cfg);
    cfg.speed = 60;
    cfg.paused = true;
    snprintf (cfg.start, sizeof cfg.start, "10:00");
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_true (c.paused);
    //  Exactly the start instant, however much wall time passes.
    int64_t at = kt_ist_ns (2025, 11, 18, 10, 0, 0);
    assert_int_equal (sim_clock_now (&c, MONO0), at);
    assert_int_equal (sim_clock_now (&c, MONO0 + 3600 * SEC), at);
    //  Resuming later runs from the start instant, at the configured speed.
    sim_clock_resume (&c, MONO0 + 10 * SEC, REAL0 + 10 * SEC);
    assert_false (c.paused);
    assert_int_equal (sim_clock_now (&c, MONO0 + 10 * SEC), at);
    assert_int_equal (sim_clock_now (&c, MONO0 + 11 * SEC), at + 60 * SEC);
}

static void
test_wall_clock (void **state)
{
    (void) state;
    struct sim_cfg cfg;
    struct sim_clock c;
    s_cfg (&cfg);
    cfg.wall_clock = true;
    cfg.speed = 60;                 //  ignored: real time runs at speed 1
    snprintf (cfg.start, sizeof cfg.start, "10:00");    //  ignored too
    sim_clock_start (&c, &cfg, OPEN_1118, MONO0, REAL0);
    assert_int_equal (c.speed_ppm, 1000000);
    assert_int_equal (sim_clock_now (&c, MONO0), REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0 + 1234 * MS), REAL0 + 1234 * MS);
    assert_int_equal (c.real_anchor_ns, REAL0);
}

static void
test_speed_scaling (void **state)
{
    (void) state;
    struct sim_clock c;
    sim_clock_init (&c, OPEN_1118, 60000000, MONO0, REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0 + 1), OPEN_1118 + 60);
    assert_int_equal (sim_clock_now (&c, MONO0 + 6 * 3600 * SEC / 60),
                      OPEN_1118 + 6 * 3600 * SEC);
    //  A fractional speed truncates (never ahead of exact time).
    sim_clock_init (&c, OPEN_1118, 1500000, MONO0, REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0 + 3), OPEN_1118 + 4);
    assert_int_equal (sim_clock_now (&c, MONO0 + 2 * SEC), OPEN_1118 + 3 * SEC);
    //  The largest speed over a long session does not overflow the product.
    sim_clock_init (&c, 0, 1000000LL * 1000000, MONO0, REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0 + 3600 * SEC), 3600LL * 1000000 * SEC);
    //  A wall instant before the anchor (another thread's older reading) is the anchor.
    sim_clock_init (&c, OPEN_1118, 1000000, MONO0, REAL0);
    assert_int_equal (sim_clock_now (&c, MONO0 - SEC), OPEN_1118);
    //  init refuses a non-positive speed by running at 1.
    sim_clock_init (&c, OPEN_1118, 0, MONO0, REAL0);
    assert_int_equal (c.speed_ppm, 1000000);
    sim_clock_init (&c, OPEN_1118, -5, MONO0, REAL0);
    assert_int_equal (c.speed_ppm, 1000000);
}

static void
test_pause_resume (void **state)
{
    (void) state;
    struct sim_clock c;
    sim_clock_init (&c, OPEN_1118, 10000000, MONO0, REAL0);     //  x10
    sim_clock_pause (&c, MONO0 + SEC, REAL0 + SEC);
    assert_true (c.paused);
    int64_t frozen = OPEN_1118 + 10 * SEC;
    assert_int_equal (sim_clock_now (&c, MONO0 + SEC), frozen);
    assert_int_equal (sim_clock_now (&c, MONO0 + 100 * SEC), frozen);
    assert_int_equal (c.real_anchor_ns, REAL0 + SEC);
    //  Pausing again is a no-op: it does not move the anchor.
    sim_clock_pause (&c, MONO0 + 50 * SEC, REAL0 + 50 * SEC);
    assert_int_equal (sim_clock_now (&c, MONO0 + 50 * SEC), frozen);
    assert_int_equal (c.real_anchor_ns, REAL0 + SEC);
    //  Resume runs from the frozen instant: the paused wall time is not counted.
    sim_clock_resume (&c, MONO0 + 100 * SEC, REAL0 + 100 * SEC);
    assert_false (c.paused);
    assert_int_equal (c.real_anchor_ns, REAL0 + 100 * SEC);
    assert_int_equal (sim_clock_now (&c, MONO0 + 100 * SEC), frozen);
    assert_int_equal (sim_clock_now (&c, MONO0 + 101 * SEC), frozen + 10 * SEC);
    //  Resuming a running clock is a no-op (no jump backwards to a new anchor).
    sim_clock_resume (&c, MONO0 + 200 * SEC, REAL0 + 200 * SEC);
    assert_int_equal (sim_clock_now (&c, MONO0 + 200 * SEC), frozen + 1000 * SEC);
}

static void
test_step_to (void **state)
{
    (void) state;
    struct sim_clock c;
    sim_clock_init (&c, OPEN_1118, 1000000, MONO0, REAL0);
    //  Refused while running, and the clock is untouched.
    assert_int_equal (sim_clock_step_to (&c, OPEN_1118 + 60 * SEC, MONO0, REAL0), -1);
    assert_int_equal (sim_clock_now (&c, MONO0), OPEN_1118);
    sim_clock_pause (&c, MONO0 + 5 * SEC, REAL0 + 5 * SEC);
    int64_t now = OPEN_1118 + 5 * SEC;
    //  Backwards is refused, by one nanosecond too.
    assert_int_equal (sim_clock_step_to (&c, now - 1, MONO0 + 6 * SEC, REAL0), -1);
    assert_int_equal (sim_clock_now (&c, MONO0 + 6 * SEC), now);
    //  To now exactly is allowed (a no-op step), forward lands exactly on the target.
    assert_int_equal (sim_clock_step_to (&c, now, MONO0 + 6 * SEC, REAL0 + 6 * SEC), 0);
    int64_t t = kt_ist_ns (2025, 11, 18, 10, 30, 15) + 250 * MS;
    assert_int_equal (sim_clock_step_to (&c, t, MONO0 + 7 * SEC, REAL0 + 7 * SEC), 0);
    assert_true (c.paused);
    assert_int_equal (sim_clock_now (&c, MONO0 + 7 * SEC), t);
    assert_int_equal (sim_clock_now (&c, MONO0 + 70 * SEC), t);
    assert_int_equal (c.real_anchor_ns, REAL0 + 7 * SEC);
    //  Steps compose; the earlier instant is now in the past.
    assert_int_equal (sim_clock_step_to (&c, t + 1, MONO0 + 8 * SEC, REAL0), 0);
    assert_int_equal (sim_clock_step_to (&c, t, MONO0 + 8 * SEC, REAL0), -1);
    //  Resume runs on from the stepped instant.
    sim_clock_resume (&c, MONO0 + 9 * SEC, REAL0 + 9 * SEC);
    assert_int_equal (sim_clock_now (&c, MONO0 + 10 * SEC), t + 1 + SEC);
}

static void
test_set_speed (void **state)
{
    (void) state;
    struct sim_clock c;
    sim_clock_init (&c, OPEN_1118, 1000000, MONO0, REAL0);
    //  Refusals leave the speed alone.
    assert_int_equal (sim_clock_set_speed (&c, 0, MONO0, REAL0), -1);
    assert_int_equal (sim_clock_set_speed (&c, -1000000, MONO0, REAL0), -1);
    assert_int_equal (c.speed_ppm, 1000000);
    //  A change applies from now on: the time already run is kept.
    assert_int_equal (sim_clock_set_speed (&c, 60000000, MONO0 + 10 * SEC, REAL0 + 10 * SEC),
                      0);
    assert_int_equal (c.speed_ppm, 60000000);
    assert_int_equal (c.real_anchor_ns, REAL0 + 10 * SEC);
    assert_int_equal (sim_clock_now (&c, MONO0 + 10 * SEC), OPEN_1118 + 10 * SEC);
    assert_int_equal (sim_clock_now (&c, MONO0 + 11 * SEC), OPEN_1118 + 70 * SEC);
    //  While paused: stays frozen, and the new speed applies after resume.
    sim_clock_pause (&c, MONO0 + 11 * SEC, REAL0 + 11 * SEC);
    assert_int_equal (sim_clock_set_speed (&c, 2000000, MONO0 + 20 * SEC, REAL0 + 20 * SEC), 0);
    assert_int_equal (sim_clock_now (&c, MONO0 + 30 * SEC), OPEN_1118 + 70 * SEC);
    sim_clock_resume (&c, MONO0 + 40 * SEC, REAL0 + 40 * SEC);
    assert_int_equal (sim_clock_now (&c, MONO0 + 41 * SEC), OPEN_1118 + 72 * SEC);
    //  Slowing down never moves time back.
    int64_t before = sim_clock_now (&c, MONO0 + 50 * SEC);
    assert_int_equal (sim_clock_set_speed (&c, 1, MONO0 + 50 * SEC, REAL0), 0);
    assert_int_equal (sim_clock_now (&c, MONO0 + 50 * SEC), before);
    assert_int_equal (sim_clock_now (&c, MONO0 + 51 * SEC), before + 1000);
}

//  Any sequence of operations at increasing wall instants gives non-decreasing
//  simulated times (a small deterministic generator, no libc rand).
static void
test_monotonic (void **state)
{
    (void) state;
    struct sim_clock c;
    sim_clock_init (&c, OPEN_1118, 60000000, MONO0, REAL0);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int64_t wall = MONO0, last = sim_clock_now (&c, wall);
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        wall += (int64_t) (x % (3 * SEC));
        int64_t now = sim_clock_now (&c, wall);
        switch (x >> 60) {
        case 0: case 1: case 2:
            sim_clock_pause (&c, wall, REAL0);
            break;
        case 3: case 4: case 5:
            sim_clock_resume (&c, wall, REAL0);
            break;
        case 6: case 7: case 8:
            sim_clock_set_speed (&c, (int64_t) (x >> 20) % 100000000 + 1, wall, REAL0);
            break;
        case 9: case 10: {
            //  Sometimes into the past (refused), sometimes forward.
            int64_t target = now + (int64_t) ((x >> 8) % (120 * SEC)) - 30 * SEC;
            int rc = sim_clock_step_to (&c, target, wall, REAL0);
            assert_int_equal (rc, c.paused && target >= now? 0: -1);
            if (rc == 0)
                assert_int_equal (sim_clock_now (&c, wall), target);
            break;
        }
        default:
            break;
        }
        int64_t after = sim_clock_now (&c, wall);
        assert_true (after >= now);
        assert_true (now >= last);
        last = after;
        assert_true (c.speed_ppm > 0);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_start),         cmocka_unit_test (test_start_paused),
        cmocka_unit_test (test_wall_clock),    cmocka_unit_test (test_speed_scaling),
        cmocka_unit_test (test_pause_resume),  cmocka_unit_test (test_step_to),
        cmocka_unit_test (test_set_speed),     cmocka_unit_test (test_monotonic),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
