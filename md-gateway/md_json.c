/*  md_json - tick objects as the official clients build them (docs/md-gateway.md).
 *
 *  The clients divide the wire integer by a float divisor; printing the exact decimal
 *  instead gives the same number once parsed (a correctly rounded division and a
 *  correctly rounded parse of its exact value land on the same double). Prices never
 *  touch floating point here. Only `change`, a display percentage the clients define
 *  by their double arithmetic, is computed in doubles: that is the only way to give
 *  the same value, not one 1e-14 away. */

#include "md_json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Bounded appender: once it overflows it stays failed.
struct s_out {
    char *buf;
    size_t cap;
    size_t len;
    bool fail;
};

static void
s_put (struct s_out *o, const char *s, size_t n)
{
    if (o->fail || o->len + n >= o->cap) {
        o->fail = true;
        return;
    }
    memcpy (o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void
s_str (struct s_out *o, const char *s)
{
    s_put (o, s, strlen (s));
}

static void
s_fmt (struct s_out *o, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (tmp, sizeof tmp, fmt, ap);
    va_end (ap);
    if (n < 0 || (size_t) n >= sizeof tmp) {
        o->fail = true;
        return;
    }
    s_put (o, tmp, (size_t) n);
}

static int
s_done (struct s_out *o)
{
    if (o->fail) {
        if (o->cap)
            o->buf[0] = '\0';
        return -1;
    }
    return (int) o->len;
}

//  Digits of v (v < 10^39) with a decimal point `scale` digits from the right and
//  trailing fractional zeros dropped.
static void
s_scaled (struct s_out *o, bool neg, unsigned __int128 v, int scale)
{
    char digits[48];
    int n = 0;
    do {
        digits[n++] = (char) ('0' + (int) (v % 10));
        v /= 10;
    } while (v);
    while (n <= scale)
        digits[n++] = '0';
    //  digits[] is little-endian; drop trailing zeros of the fraction.
    int lo = 0;
    while (lo < scale && digits[lo] == '0')
        lo++;
    char text[52];
    int t = 0;
    if (neg)
        text[t++] = '-';
    for (int i = n - 1; i >= scale; i--)
        text[t++] = digits[i];
    if (lo < scale) {
        text[t++] = '.';
        for (int i = scale - 1; i >= lo; i--)
            text[t++] = digits[i];
    }
    s_put (o, text, (size_t) t);
}

static void
s_decimal (struct s_out *o, int64_t wire, int64_t divisor)
{
    int scale = 0;
    for (int64_t d = divisor; d > 1; d /= 10)
        scale++;
    bool neg = wire < 0;
    uint64_t mag = neg ? (uint64_t) 0 - (uint64_t) wire : (uint64_t) wire;
    s_scaled (o, neg && mag != 0, mag, scale);
}

int
md_json_decimal (int64_t wire, int64_t divisor, char *buf, size_t buflen)
{
    struct s_out o = {buf, buflen, 0, false};
    s_decimal (&o, wire, divisor);
    return s_done (&o);
}

//  The clients' own double arithmetic, step by step, so the result is the very same
//  double: a percentage for display, never money (docs/md-gateway.md "change").
static void
s_change (struct s_out *o, int64_t ltp, int64_t close, int64_t divisor)
{
    double c = (double) close / (double) divisor;
    if (close == 0 || divisor <= 0) {
        s_str (o, "0");
        return;
    }
    double l = (double) ltp / (double) divisor;
    double v = (l - c) * 100 / c;
    if (v == 0 || v != v) {
        s_str (o, "0");
        return;
    }
    //  Shortest digits that read back as v (as Python's repr and JavaScript print it),
    //  then written positionally, since JSON readers differ on exponents.
    char e[40];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf (e, sizeof e, "%.*e", p - 1, v);
        if (strtod (e, NULL) == v)
            break;
    }
    bool neg = e[0] == '-';
    const char *m = e + (neg ? 1 : 0);
    char digits[24];
    int nd = 0;
    for (; *m && *m != 'e'; m++)
        if (*m >= '0' && *m <= '9')
            digits[nd++] = *m;
    int exp10 = *m == 'e' ? atoi (m + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    //  value = 0.d1d2...dn x 10^(exp10 + 1)
    char text[64];
    int t = 0;
    if (neg)
        text[t++] = '-';
    int point = exp10 + 1; //  digits before the decimal point
    if (point <= 0) {
        text[t++] = '0';
        text[t++] = '.';
        for (int i = 0; i < -point; i++)
            text[t++] = '0';
        for (int i = 0; i < nd; i++)
            text[t++] = digits[i];
    } else {
        for (int i = 0; i < point; i++)
            text[t++] = i < nd ? digits[i] : '0';
        if (nd > point) {
            text[t++] = '.';
            for (int i = point; i < nd; i++)
                text[t++] = digits[i];
        }
    }
    s_put (o, text, (size_t) t);
}

int
md_json_change (int64_t ltp, int64_t close, int64_t divisor, char *buf, size_t buflen)
{
    struct s_out o = {buf, buflen, 0, false};
    s_change (&o, ltp, close, divisor);
    return s_done (&o);
}

static void
s_time (struct s_out *o, uint32_t unix_s)
{
    if (unix_s == 0) {
        s_str (o, "null");
        return;
    }
    time_t t = (time_t) unix_s;
    struct tm tm;
    gmtime_r (&t, &tm);
    s_fmt (o, "\"%04d-%02d-%02dT%02d:%02d:%02dZ\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
md_json_time (uint32_t unix_s, char *buf, size_t buflen)
{
    struct s_out o = {buf, buflen, 0, false};
    s_time (&o, unix_s);
    return s_done (&o);
}

static void
s_price (struct s_out *o, const char *key, int64_t wire, int64_t divisor)
{
    s_fmt (o, "\"%s\":", key);
    s_decimal (o, wire, divisor);
}

static void
s_side (struct s_out *o, const struct md_level *lv, int64_t divisor)
{
    s_str (o, "[");
    for (int i = 0; i < MD_DEPTH; i++) {
        s_fmt (o, "%s{\"quantity\":%u,", i ? "," : "", lv[i].qty);
        s_price (o, "price", lv[i].price, divisor);
        s_fmt (o, ",\"orders\":%u}", (unsigned) lv[i].orders);
    }
    s_str (o, "]");
}

int
md_json_tick (const struct md_pkt *pkt, char *buf, size_t buflen)
{
    struct s_out o = {buf, buflen, 0, false};
    if (pkt->kind == MD_PKT_NONE) {
        s_done (&o);
        return -1;
    }
    int64_t d = pkt->divisor;
    s_fmt (&o, "{\"tradable\":%s,\"mode\":\"%s\",\"instrument_token\":%u,",
           pkt->tradable ? "true" : "false", md_pkt_mode (pkt->kind), pkt->token);
    s_price (&o, "last_price", pkt->ltp, d);
    bool index = pkt->kind == MD_PKT_INDEX_QUOTE || pkt->kind == MD_PKT_INDEX_FULL;
    bool tradable_kind = pkt->kind == MD_PKT_QUOTE || pkt->kind == MD_PKT_FULL;
    if (tradable_kind) {
        s_fmt (&o, ",\"last_traded_quantity\":%u,", pkt->last_qty);
        s_price (&o, "average_traded_price", pkt->avg, d);
        s_fmt (&o, ",\"volume_traded\":%u,\"total_buy_quantity\":%u,\"total_sell_quantity\":%u",
               pkt->volume, pkt->buy_qty, pkt->sell_qty);
    }
    if (index || tradable_kind) {
        s_str (&o, ",\"ohlc\":{");
        s_price (&o, "open", pkt->open, d);
        s_str (&o, ",");
        s_price (&o, "high", pkt->high, d);
        s_str (&o, ",");
        s_price (&o, "low", pkt->low, d);
        s_str (&o, ",");
        s_price (&o, "close", pkt->close, d);
        s_str (&o, "},\"change\":");
        s_change (&o, pkt->ltp, pkt->close, d);
    }
    if (pkt->kind == MD_PKT_FULL) {
        s_str (&o, ",\"last_trade_time\":");
        s_time (&o, pkt->ltt_s);
        s_fmt (&o, ",\"oi\":%u,\"oi_day_high\":%u,\"oi_day_low\":%u", pkt->oi, pkt->oi_high,
               pkt->oi_low);
    }
    if (pkt->kind == MD_PKT_FULL || pkt->kind == MD_PKT_INDEX_FULL) {
        s_str (&o, ",\"exchange_timestamp\":");
        s_time (&o, pkt->exch_s);
    }
    if (pkt->kind == MD_PKT_FULL) {
        s_str (&o, ",\"depth\":{\"buy\":");
        s_side (&o, pkt->buy, d);
        s_str (&o, ",\"sell\":");
        s_side (&o, pkt->sell, d);
        s_str (&o, "}");
    }
    s_str (&o, "}");
    return s_done (&o);
}
