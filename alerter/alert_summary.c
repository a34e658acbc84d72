/*  alert_summary - the daily summary at the close (pure).
 *
 *  Once a trading day, when pipeline time reaches alerter.summary_at (IST), the alerter
 *  tells a person how the day went: trading state, day P&L (realised and unrealised),
 *  trades, open positions. The day it last did so is kept in Redis (alerts:summary), so
 *  a restart after the close does not say it twice. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "alert.h"

int64_t
alert_summary_due (int64_t now_ns, int at_min, int64_t last_day)
{
    if (at_min < 0 || !kt_ist_is_weekday (now_ns) || kt_ist_minute_of_day (now_ns) < at_min)
        return 0;
    int64_t day = kt_ist_yyyymmdd (now_ns);
    return day == last_day ? 0 : day;
}

//  Rupees with paise from paise, sign first: "-1234.50".
static void
s_rupees (char *buf, size_t len, int64_t paise)
{
    uint64_t a = paise < 0 ? (uint64_t) 0 - (uint64_t) paise : (uint64_t) paise;
    snprintf (buf, len, "%s%" PRIu64 ".%02" PRIu64, paise < 0 ? "-" : "", a / 100, a % 100);
}

int
alert_summary_text (char *buf, size_t len, int64_t day, const struct kt_risk_state_rec *rs,
                    int64_t open_positions)
{
    char real[32], unreal[32], pnl[32];
    s_rupees (real, sizeof real, rs->realised_day);
    s_rupees (unreal, sizeof unreal, rs->unrealised);
    s_rupees (pnl, sizeof pnl, rs->realised_day + rs->unrealised);
    if (rs->day != 0 && rs->day != day)
        return snprintf (buf, len,
                         "Daily summary %" PRId64 ": no account figures for today (risk-gate's "
                         "last day is %" PRId64 "); open positions %" PRId64,
                         day, rs->day, open_positions);
    return snprintf (buf, len,
                     "Daily summary %" PRId64 ": trading %s%s%s; day P&L Rs %s (realised Rs %s, "
                     "unrealised Rs %s); trades %" PRId64 "; open positions %" PRId64,
                     day, rs->state[0] ? rs->state : "unknown", rs->reason[0] ? " - " : "",
                     rs->reason, pnl, real, unreal, rs->trades_day, open_positions);
}
