/*  alert_summary_test - when the daily summary is due (trading days, at or after the
 *  configured IST minute, once a day) and what it says. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "../../alerter/alert.h"

static void
test_due_once_a_trading_day (void **state)
{
    (void) state;
    int at = 15 * 60 + 30;
    int64_t mon_1529 = kt_ist_ns (2026, 12, 7, 15, 29, 59);
    int64_t mon_1530 = kt_ist_ns (2026, 12, 7, 15, 30, 0);
    int64_t mon_2200 = kt_ist_ns (2026, 12, 7, 22, 0, 0);
    int64_t sat_1600 = kt_ist_ns (2026, 12, 12, 16, 0, 0);
    assert_int_equal (alert_summary_due (mon_1529, at, 0), 0);
    assert_int_equal (alert_summary_due (mon_1530, at, 0), 20261207);
    assert_int_equal (alert_summary_due (mon_2200, at, 20261204), 20261207);
    //  sent already today (also after a restart: last_day comes from Redis)
    assert_int_equal (alert_summary_due (mon_2200, at, 20261207), 0);
    assert_int_equal (alert_summary_due (sat_1600, at, 20261211), 0);
    assert_int_equal (alert_summary_due (mon_2200, -1, 0), 0);
}

static void
test_text (void **state)
{
    (void) state;
    struct kt_risk_state_rec rs = {0};
    rs.day = 20261207;
    snprintf (rs.state, sizeof rs.state, "HALTED");
    snprintf (rs.reason, sizeof rs.reason, "DAILY_LOSS: day P&L below -1%%");
    rs.realised_day = -123450;
    rs.unrealised = 2005;
    rs.trades_day = 7;
    char buf[KT_ALERT_LEN];
    alert_summary_text (buf, sizeof buf, 20261207, &rs, 2);
    assert_non_null (strstr (buf, "Daily summary 20261207"));
    assert_non_null (strstr (buf, "trading HALTED - DAILY_LOSS"));
    assert_non_null (strstr (buf, "day P&L Rs -1214.45"));
    assert_non_null (strstr (buf, "realised Rs -1234.50"));
    assert_non_null (strstr (buf, "unrealised Rs 20.05"));
    assert_non_null (strstr (buf, "trades 7"));
    assert_non_null (strstr (buf, "open positions 2"));
    //  risk-gate has not rolled to today: no stale figures are passed off as today's
    rs.day = 20261204;
    alert_summary_text (buf, sizeof buf, 20261207, &rs, 0);
    assert_null (strstr (buf, "P&L"));
    assert_non_null (strstr (buf, "no account figures for today"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_due_once_a_trading_day),
        cmocka_unit_test (test_text),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
