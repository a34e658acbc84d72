/*  kt_ist - IST exchange-time helpers (see kt_ist.h). Pure: no clock, no libc time
 *  zone code; days come from kt_clock's civil calendar. */

#include "kt_ist.h"
#include "kt_clock.h"

#include <stdio.h>
#include <string.h>

#define S_NS_PER_DAY (86400LL * KT_NS_PER_SEC)

//  Floor division (C rounds toward zero; days before 1970 must round down).
static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t
kt_ist_ns (int y, int mo, int d, int hh, int mi, int ss)
{
    int64_t days = kt_clock_days_from_civil (y, mo, d);
    int64_t secs = days * 86400 + (int64_t) hh * 3600 + (int64_t) mi * 60 + ss;
    return secs * KT_NS_PER_SEC - KT_IST_OFFSET_NS;
}

//  Day number (IST) and ns since IST midnight of ts.
static int64_t
s_ist_day (int64_t ts_ns, int64_t *into_day_ns)
{
    //  Split first so adding the offset cannot overflow near INT64_MAX.
    int64_t day = s_floor_div (ts_ns, S_NS_PER_DAY);
    int64_t rem = ts_ns - day * S_NS_PER_DAY + KT_IST_OFFSET_NS;
    if (rem >= S_NS_PER_DAY) {
        rem -= S_NS_PER_DAY;
        day++;
    }
    if (into_day_ns)
        *into_day_ns = rem;
    return day;
}

void
kt_ist_fields (int64_t ts_ns, int *y, int *mo, int *d, int *hh, int *mi, int *ss, int *wday)
{
    int64_t rem;
    int64_t day = s_ist_day (ts_ns, &rem);
    int yy, mm, dd;
    kt_clock_civil_from_days (day, &yy, &mm, &dd);
    int64_t secs = rem / KT_NS_PER_SEC;
    if (y)
        *y = yy;
    if (mo)
        *mo = mm;
    if (d)
        *d = dd;
    if (hh)
        *hh = (int) (secs / 3600);
    if (mi)
        *mi = (int) (secs / 60 % 60);
    if (ss)
        *ss = (int) (secs % 60);
    if (wday)
        *wday = (int) (day + 4 - s_floor_div (day + 4, 7) * 7); //  1970-01-01: Thursday
}

int64_t
kt_ist_day_start (int64_t ts_ns)
{
    int64_t rem;
    s_ist_day (ts_ns, &rem);
    return ts_ns - rem;
}

int
kt_ist_minute_of_day (int64_t ts_ns)
{
    int64_t rem;
    s_ist_day (ts_ns, &rem);
    return (int) (rem / KT_NS_PER_MIN);
}

int
kt_ist_yyyymmdd (int64_t ts_ns)
{
    int y, mo, d;
    kt_ist_fields (ts_ns, &y, &mo, &d, NULL, NULL, NULL, NULL);
    return y * 10000 + mo * 100 + d;
}

int64_t
kt_ist_week_start (int64_t ts_ns)
{
    int wday;
    kt_ist_fields (ts_ns, NULL, NULL, NULL, NULL, NULL, NULL, &wday);
    int back = (wday + 6) % 7; //  days since Monday
    return kt_ist_day_start (ts_ns) - back * S_NS_PER_DAY;
}

bool
kt_ist_is_weekday (int64_t ts_ns)
{
    int wday;
    kt_ist_fields (ts_ns, NULL, NULL, NULL, NULL, NULL, NULL, &wday);
    return wday >= 1 && wday <= 5;
}

bool
kt_ist_market_open (int64_t ts_ns)
{
    int64_t rem;
    s_ist_day (ts_ns, &rem);
    int64_t open = (9 * 3600 + 15 * 60) * KT_NS_PER_SEC;
    int64_t close = (15 * 3600 + 30 * 60) * KT_NS_PER_SEC;
    return kt_ist_is_weekday (ts_ns) && rem >= open && rem < close;
}

bool
kt_ist_after (int64_t ts_ns, int hh, int mm)
{
    int64_t rem;
    s_ist_day (ts_ns, &rem);
    return rem >= ((int64_t) hh * 3600 + (int64_t) mm * 60) * KT_NS_PER_SEC;
}

//  n decimal digits at s into *out; false on any non-digit.
static bool
s_digits (const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int
s_days_in_month (int y, int mo)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mo == 2 && leap ? 29 : days[mo - 1];
}

int
kt_ist_parse_date (const char *s, int *y, int *mo, int *d)
{
    int yy, mm, dd;
    if (!s || strlen (s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (!s_digits (s, 4, &yy) || !s_digits (s + 5, 2, &mm) || !s_digits (s + 8, 2, &dd))
        return -1;
    if (mm < 1 || mm > 12 || dd < 1 || dd > s_days_in_month (yy, mm))
        return -1;
    if (y)
        *y = yy;
    if (mo)
        *mo = mm;
    if (d)
        *d = dd;
    return 0;
}

int
kt_ist_parse_hhmm (const char *s, int *hh, int *mm)
{
    int h, m;
    if (!s || strlen (s) != 5 || s[2] != ':')
        return -1;
    if (!s_digits (s, 2, &h) || !s_digits (s + 3, 2, &m) || h > 23 || m > 59)
        return -1;
    if (hh)
        *hh = h;
    if (mm)
        *mm = m;
    return 0;
}

char *
kt_ist_format (int64_t ts_ns, char *buf, int buflen)
{
    if (!buf || buflen <= 0)
        return buf;
    if (buflen < 20) {
        buf[0] = '\0';
        return buf;
    }
    int y, mo, d, hh, mi, ss;
    kt_ist_fields (ts_ns, &y, &mo, &d, &hh, &mi, &ss, NULL);
    snprintf (buf, (size_t) buflen, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, hh, mi, ss);
    return buf;
}
