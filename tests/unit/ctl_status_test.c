/*  ctl_status_test - `tradectl status` on an account written the way risk-gate keeps it:
 *  the first line's answer (can new positions open, and every reason why not: state,
 *  kill switch, feed, broker session and reconciliation from recon:last, instruments),
 *  state and why, the kill switch, the reconciler, money in rupees, positions with their
 *  unrealised P&L, the held orders (unanswered ones flagged), risk-gate's heartbeat or its
 *  absence, and a clear line when Redis is down. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../tradectl/ctl.h"
#include "kt_teststore.h"

static kt_teststore_t F;

static char *
s_status (int64_t now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&buf, &len);
    ctl_status_print (F.store, out, now, 1000000, 15);
    fclose (out);
    return buf;
}

static void
s_cmd (const char *cmd)
{
    assert_int_equal (kt_teststore_line (&F, cmd), 0);
}

static void
test_account (void **state)
{
    (void) state;
    int64_t now = kt_ist_ns (2025, 11, 24, 10, 0, 0);
    char buf[512];
    snprintf (buf, sizeof buf,
              "HSET kt:risk:state state HALTED reason %s scope day since_ns %lld "
              "day 20251124 realised_day -350000 unrealised 12345 day_pnl -337655",
              "DAILY_LOSS:x", (long long) now);
    s_cmd (buf);
    s_cmd ("HSET kt:risk:kill active 1 reason outage by ops since_ns 1");
    s_cmd ("HSET kt:capital initial 100000000 equity 99662345 reserved 750000 deployed 2160000 "
           "available 96752345");
    //  the book's position, valued at the last price risk-gate's poll wrote
    s_cmd ("SADD kt:positions NIFTY25NOV24000CE");
    s_cmd ("HSET kt:pos:NIFTY25NOV24000CE sym NIFTY25NOV24000CE qty -75 open_value 735000 "
           "avg_px 9800");
    s_cmd ("HSET kt:risk:px NIFTY25NOV24000CE 9700");
    s_cmd ("SADD kt:risk:open S1-0009");
    s_cmd ("HSET kt:intent:S1-0009 sym NIFTY25NOV24000PE side SELL kind entry oqty 75 resv 750000");
    char *out = s_status (now);
    if (getenv ("CTL_SHOW"))
        fputs (out, stderr);
    assert_non_null (strstr (out, "trading state:   HALTED since 2025-11-24 10:00:00 IST"));
    assert_non_null (strstr (out, "(ends at the daily reset)"));
    assert_non_null (strstr (out, "kill switch:     ON: outage (by ops"));
    //  the answer first, with every reason
    assert_true (strncmp (out, "can open new positions: NO - trading HALTED (DAILY_LOSS:x)", 58) ==
                 0);
    assert_non_null (strstr (out, "; kill switch ON: outage (by ops"));
    assert_non_null (strstr (out, "; risk-gate not running (no heartbeat)"));
    assert_non_null (strstr (out, "; feed status unknown"));
    assert_non_null (strstr (out, "; broker session not checked yet (no reconciliation)"));
    //  no default "ok": nothing called the broker
    assert_non_null (strstr (out, "reconciler:      no run yet"));
    assert_non_null (strstr (out, "broker session:  not checked yet (no broker call)"));
    assert_non_null (strstr (out, "realised Rs -3500.00"));
    assert_non_null (strstr (out, "reserved Rs 7500.00"));
    //  short 75 from 98 to 97: Rs 75 unrealised
    const char *posline = strstr (out, "  NIFTY25NOV24000CE ");
    assert_non_null (posline);
    assert_non_null (strstr (posline, "unrealised"));
    assert_non_null (strstr (posline, "Rs 75.00"));
    assert_non_null (strstr (out, "S1-0009"));
    assert_non_null (strstr (out, "UNANSWERED"));
    assert_non_null (strstr (out, "risk-gate:       NOT RUNNING"));
    free (out);
    //  with a heartbeat 2 s old
    snprintf (buf, sizeof buf, "HSET kt:health:risk-gate pid 42 beat %lld decisions 9",
              (long long) (now - 2000000000LL));
    s_cmd (buf);
    out = s_status (now);
    assert_non_null (strstr (out, "risk-gate:       last heartbeat 2 s ago, instruments 0"));
    assert_non_null (strstr (out, "; instruments not loaded"));
    assert_null (strstr (out, "risk-gate not running"));
    free (out);
}

//  The way to YES, one reason at a time, each from the record that carries it.
static void
test_can_open (void **state)
{
    (void) state;
    s_cmd ("FLUSHALL");
    int64_t now = kt_ist_ns (2025, 11, 24, 10, 0, 0);
    int64_t wall = kt_clock_wall_ns ();
    char buf[512];
    snprintf (buf, sizeof buf,
              "HSET kt:risk:state state REDUCING reason x since_ns %lld session_ok 1 day 20251124",
              (long long) (now - 60000000000LL));
    s_cmd (buf);
    snprintf (buf, sizeof buf, "HSET kt:health:risk-gate pid 1 beat %lld instruments 180",
              (long long) (now - 1000000000LL));
    s_cmd (buf);
    //  the feed connected but silent for 42 s (wall)
    snprintf (buf, sizeof buf, "HSET kt:md:status connected 1 since_ns %lld last_frame_ns %lld",
              (long long) (now - 100000000000LL), (long long) (wall - 42000000000LL));
    s_cmd (buf);
    //  the last run 2 min ago failed on the token: no agreement ever
    snprintf (buf, sizeof buf,
              "HSET kt:recon:last run 3 ts_ns %lld agree 0 agree_ns 0 session_ok 0 "
              "session_ok_ns 0 broker_error %s",
              (long long) (now - 120000000000LL), "TokenException");
    s_cmd (buf);
    char *out = s_status (now);
    if (getenv ("CTL_SHOW"))
        fputs (out, stderr);
    const char *want = "can open new positions: NO - trading REDUCING (waiting for the "
                       "reconciler's first agreement); feed silent 42 s; broker session invalid "
                       "(never confirmed by a broker call); last reconciliation failed 2 min ago: "
                       "TokenException\n";
    assert_true (strncmp (out, want, strlen (want)) == 0);
    assert_non_null (strstr (out, "broker session:  INVALID: TokenException"));
    assert_non_null (
        strstr (out, "reconciler:      last run 2 min ago (FAILED), last agreement never"));
    free (out);
    //  the feed beats, the reconciler agrees: REDUCING until risk-gate's next poll
    snprintf (buf, sizeof buf, "HSET kt:md:status last_frame_ns %lld", (long long) wall);
    s_cmd (buf);
    snprintf (buf, sizeof buf,
              "HSET kt:recon:last ts_ns %lld agree 1 agree_ns %lld session_ok 1 "
              "session_ok_ns %lld",
              (long long) (now - 3000000000LL), (long long) (now - 3000000000LL),
              (long long) (now - 3000000000LL));
    s_cmd (buf);
    s_cmd ("HDEL kt:recon:last broker_error");
    out = s_status (now);
    assert_true (
        strncmp (out,
                 "can open new positions: NO - trading REDUCING (the reconciler agreed 3 s ago",
                 75) == 0);
    assert_non_null (strstr (out, "broker session:  ok (broker call 3 s ago)"));
    free (out);
    s_cmd ("HSET kt:risk:state state ACTIVE");
    out = s_status (now);
    assert_true (strncmp (out, "can open new positions: YES\n", 28) == 0);
    free (out);
    //  exec-gateway's TokenException recorded by risk-gate also says NO
    s_cmd ("HSET kt:risk:state session_ok 0");
    out = s_status (now);
    assert_non_null (
        strstr (out, "NO - broker session invalid (exec-gateway saw a TokenException)"));
    free (out);
}

static void
test_empty_and_down (void **state)
{
    (void) state;
    s_cmd ("FLUSHALL");
    char *out = s_status (1);
    assert_non_null (strstr (out, "UNKNOWN (no account yet)"));
    assert_non_null (strstr (out, "(none)"));
    free (out);
    kt_testredis_kill (F.srv);
    out = s_status (1);
    assert_non_null (strstr (out, "Redis unavailable"));
    free (out);
}

static int
s_setup (void **state)
{
    (void) state;
    return kt_teststore_start (&F, "ctl_status_test", 300);
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_teststore_stop (&F);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_account),
        cmocka_unit_test (test_can_open),
        cmocka_unit_test (test_empty_and_down),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
