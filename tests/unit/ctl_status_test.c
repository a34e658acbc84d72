/*  ctl_status_test - `tradectl status` on an account written the way risk-gate keeps it:
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
    ctl_status_print (F.store, out, now, 1000000);
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
    s_cmd ("SADD kt:risk:positions NIFTY25NOV24000CE");
    s_cmd ("HSET kt:risk:pos:NIFTY25NOV24000CE sym NIFTY25NOV24000CE itype CE qty -75 "
           "basis 735000 avg_px 9800 last_px 9700");
    s_cmd ("SADD kt:risk:open S1-0009");
    s_cmd ("HSET kt:intent:S1-0009 sym NIFTY25NOV24000PE side SELL kind entry oqty 75 resv 750000");
    char *out = s_status (now);
    if (getenv ("CTL_SHOW"))
        fputs (out, stderr);
    assert_non_null (strstr (out, "trading state:   HALTED since 2025-11-24 10:00:00 IST"));
    assert_non_null (strstr (out, "(ends at the daily reset)"));
    assert_non_null (strstr (out, "kill switch:     ON: outage (by ops"));
    assert_non_null (strstr (out, "last agreement never"));
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
    assert_non_null (strstr (out, "pid 42, last heartbeat 2000 ms ago, decisions 9"));
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
        cmocka_unit_test (test_empty_and_down),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
