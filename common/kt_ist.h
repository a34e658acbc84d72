/*  kt_ist - exchange time: pure functions of a timestamp in Indian Standard Time.
 *
 *  IST is a fixed UTC+05:30 with no daylight saving, so no time zone database is
 *  needed: the date arithmetic is kt_clock's civil calendar shifted by the offset.
 *  Used for trading-day rules (market hours, daily and weekly resets), config dates and
 *  times, and the Kite REST timestamp form. */

#ifndef KT_IST_H
#define KT_IST_H

#include <stdbool.h>
#include <stdint.h>

//  Timestamp of y-m-d hh:mm:ss IST, in ns since the epoch. Fields are not validated
//  (use kt_ist_parse_* for input); out-of-range values roll over arithmetically.
int64_t kt_ist_ns (int y, int mo, int d, int hh, int mi, int ss);

//  Broken-down IST fields of ts. Any out pointer may be NULL. wday: 0 = Sunday.
void kt_ist_fields (int64_t ts_ns, int *y, int *mo, int *d, int *hh, int *mi, int *ss, int *wday);

//  Midnight IST of the day containing ts.
int64_t kt_ist_day_start (int64_t ts_ns);

//  Minutes since IST midnight (0..1439).
int kt_ist_minute_of_day (int64_t ts_ns);

//  Trading day as YYYYMMDD (IST date) of ts.
int kt_ist_yyyymmdd (int64_t ts_ns);

//  Monday 00:00 IST of the week containing ts (for weekly loss limits).
int64_t kt_ist_week_start (int64_t ts_ns);

//  True on Monday..Friday (exchange holidays come from config when needed).
bool kt_ist_is_weekday (int64_t ts_ns);

//  True when ts is inside market hours 09:15 <= t < 15:30 IST on a weekday.
bool kt_ist_market_open (int64_t ts_ns);

//  True when ts is at or after hh:mm IST of its own day.
bool kt_ist_after (int64_t ts_ns, int hh, int mm);

//  Parse "YYYY-MM-DD" into y, mo, d; "HH:MM" into hh, mm. Strict: exactly that shape,
//  a real calendar date (leap years checked), hh 00..23, mm 00..59. Return 0, or -1
//  (outputs untouched) on anything else, including NULL.
int kt_ist_parse_date (const char *s, int *y, int *mo, int *d);
int kt_ist_parse_hhmm (const char *s, int *hh, int *mm);

//  Format ts as "YYYY-MM-DD HH:MM:SS" IST (Kite REST form) into buf (>= 20 bytes).
//  Returns buf; if buflen < 20 buf holds "" (when buflen > 0).
char *kt_ist_format (int64_t ts_ns, char *buf, int buflen);

#endif
