/*  md_candle - historical candles from the raw answer (see md_candle.h). */

#include "md_candle.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kt_clock.h"
#include "kt_money.h"
#include "md_jraw.h"

#define S_ROW_MAX 8

static int
s_candle_fail (char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (why, whylen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

//  "2025-11-24T09:15:00+0530" -> ns.
static int
s_candle_time (const char *v, size_t n, int64_t *out)
{
    char buf[32], date[11];
    if (n < 2 || n - 2 >= sizeof buf || v[0] != '"' || v[n - 1] != '"')
        return -1;
    memcpy (buf, v + 1, n - 2);
    buf[n - 2] = '\0';
    if (strlen (buf) != 24 || buf[10] != 'T' || strcmp (buf + 19, "+0530") != 0)
        return -1;
    memcpy (date, buf, 10);
    date[10] = '\0';
    int y, mo, d, hh, mi, ss;
    if (kt_ist_parse_date (date, &y, &mo, &d) != 0 ||
        sscanf (buf + 11, "%2d:%2d:%2d", &hh, &mi, &ss) != 3 || hh > 23 || mi > 59 || ss > 59)
        return -1;
    *out = kt_ist_ns (y, mo, d, hh, mi, ss);
    return 0;
}

int
md_candle_parse (const char *body, size_t len, struct md_candle *out, size_t max, char *why,
                 size_t whylen)
{
    const char *data, *arr;
    size_t dlen, alen;
    if (md_jraw_member (body, len, "data", &data, &dlen) != 0 ||
        md_jraw_member (data, dlen, "candles", &arr, &alen) != 0)
        return s_candle_fail (why, whylen, "no data.candles in the answer");
    //  Row by row: a row is a flat array, so it ends at its first ']'.
    size_t count = 0;
    const char *p = arr + 1, *end = arr + alen;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ',' || *p == '\n' || *p == '\r' || *p == '\t'))
            p++;
        if (p >= end || *p == ']')
            break;
        if (*p != '[')
            return s_candle_fail (why, whylen, "candle %zu is not an array", count);
        const char *q = memchr (p, ']', (size_t) (end - p));
        if (!q)
            return s_candle_fail (why, whylen, "candle %zu is cut", count);
        const char *f[S_ROW_MAX];
        size_t fl[S_ROW_MAX], nf;
        if (md_jraw_elems (p, (size_t) (q + 1 - p), f, fl, S_ROW_MAX, &nf) != 0 || nf < 6)
            return s_candle_fail (why, whylen, "candle %zu: not [ts,o,h,l,c,volume]", count);
        if (count == max)
            return s_candle_fail (why, whylen, "more than %zu candles", max);
        struct md_candle *c = &out[count];
        int64_t vol;
        if (s_candle_time (f[0], fl[0], &c->start_ns) != 0 ||
            kt_money_parse (f[1], fl[1], &c->o) != 0 || kt_money_parse (f[2], fl[2], &c->h) != 0 ||
            kt_money_parse (f[3], fl[3], &c->l) != 0 || kt_money_parse (f[4], fl[4], &c->c) != 0 ||
            kt_money_parse (f[5], fl[5], &vol) != 0 || vol < 0 || vol % 100 != 0)
            return s_candle_fail (why, whylen, "candle %zu: bad field", count);
        c->volume = vol / 100;
        count++;
        p = q + 1;
    }
    return (int) count;
}
