/*  md_order - order updates from the ticker's text messages (see md_order.h), read
 *  with md_jraw so prices come from their digits. */

#include "md_order.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "kt_clock.h"
#include "kt_money.h"
#include "md_jraw.h"

static int
s_fail (char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (why, whylen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

//  Copy a JSON string value (quotes included in v) into out, unescaping; null -> "".
//  Non-ASCII \u escapes become '?': these texts are for people and logs.
static int
s_str (const char *v, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    if (n == 4 && memcmp (v, "null", 4) == 0)
        return 0;
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return -1;
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = v[i];
        if (c == '\\' && i + 2 < n) {
            char e = v[++i];
            c = e == 'n'   ? '\n'
                : e == 't' ? '\t'
                : e == 'r' ? '\r'
                : e == 'b' ? '\b'
                : e == 'f' ? '\f'
                           : e;
            if (e == 'u') {
                c = '?';
                i += 4 < n - 1 - i ? 4 : n - 2 - i;
            }
        }
        if (c == '\0')
            c = '?';
        if (o + 1 < cap)
            out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int
s_int (const char *v, size_t n, int64_t *out)
{
    *out = 0;
    if (n == 4 && memcmp (v, "null", 4) == 0)
        return 0;
    //  Quantities are whole numbers; "75.0" would still be exact through paise.
    int64_t paise;
    if (kt_money_parse (v, n, &paise) != 0 || paise % 100 != 0)
        return -1;
    *out = paise / 100;
    return 0;
}

static int
s_price (const char *v, size_t n, int64_t *out)
{
    *out = 0;
    if (n == 4 && memcmp (v, "null", 4) == 0)
        return 0;
    return kt_money_parse (v, n, out);
}

//  "YYYY-MM-DD HH:MM:SS" IST -> ns; null or "" -> 0.
static int
s_time (const char *v, size_t n, int64_t *out)
{
    char buf[32];
    *out = 0;
    if (s_str (v, n, buf, sizeof buf) != 0)
        return -1;
    if (!buf[0])
        return 0;
    int y, mo, d, hh, mi, ss;
    char date[11];
    if (strlen (buf) != 19 || buf[10] != ' ')
        return -1;
    memcpy (date, buf, 10);
    date[10] = '\0';
    if (kt_ist_parse_date (date, &y, &mo, &d) != 0 ||
        sscanf (buf + 11, "%2d:%2d:%2d", &hh, &mi, &ss) != 3 || hh > 23 || mi > 59 || ss > 60)
        return -1;
    *out = kt_ist_ns (y, mo, d, hh, mi, ss);
    return 0;
}

typedef enum { S_STR, S_INT, S_PRICE, S_TIME, S_TOKEN } s_kind_t;

struct s_map {
    const char *key;
    s_kind_t kind;
    size_t off;
    size_t size;
};

#define M(key, kind, f)                                                                            \
    {                                                                                              \
        key, kind, offsetof (struct kt_order_update, f),                                           \
            sizeof (((struct kt_order_update *) 0)->f)                                             \
    }

static const struct s_map s_fields[] = {
    M ("order_id", S_STR, order_id),
    M ("exchange_order_id", S_STR, exchange_order_id),
    M ("parent_order_id", S_STR, parent_order_id),
    M ("status", S_STR, status),
    M ("status_message", S_STR, status_message),
    M ("tag", S_STR, tag),
    M ("guid", S_STR, guid),
    M ("variety", S_STR, variety),
    M ("exchange", S_STR, exchange),
    M ("tradingsymbol", S_STR, sym),
    M ("instrument_token", S_TOKEN, token),
    M ("order_type", S_STR, order_type),
    M ("transaction_type", S_STR, transaction_type),
    M ("validity", S_STR, validity),
    M ("product", S_STR, product),
    M ("quantity", S_INT, qty),
    M ("price", S_PRICE, price),
    M ("trigger_price", S_PRICE, trigger),
    M ("average_price", S_PRICE, avg_price),
    M ("filled_quantity", S_INT, filled_qty),
    M ("pending_quantity", S_INT, pending_qty),
    M ("cancelled_quantity", S_INT, cancelled_qty),
    M ("unfilled_quantity", S_INT, unfilled_qty),
    M ("order_timestamp", S_TIME, order_ts_ns),
    M ("exchange_update_timestamp", S_TIME, exchange_update_ts_ns),
    M ("exchange_timestamp", S_TIME, exchange_ts_ns),
};

int
md_order_parse (const char *text, size_t len, struct kt_order_update *out, char *why, size_t whylen)
{
    memset (out, 0, sizeof *out);
    char *base = (char *) out;
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++) {
        const struct s_map *f = &s_fields[i];
        const char *v;
        size_t n;
        int rc = md_jraw_member (text, len, f->key, &v, &n);
        if (rc < 0)
            return s_fail (why, whylen, "order update is not a JSON object");
        if (rc == 1)
            continue;
        int64_t num = 0;
        int bad = 0;
        switch (f->kind) {
            case S_STR:
                bad = s_str (v, n, base + f->off, f->size);
                break;
            case S_INT:
                bad = s_int (v, n, &num);
                break;
            case S_PRICE:
                bad = s_price (v, n, &num);
                break;
            case S_TIME:
                bad = s_time (v, n, &num);
                break;
            case S_TOKEN:
                bad = s_int (v, n, &num) || num < 0 || num > UINT32_MAX;
                if (!bad)
                    out->token = (uint32_t) num;
                break;
        }
        if (bad || num < 0)
            return s_fail (why, whylen, "order update: %s: bad value %.*s", f->key,
                           (int) (n < 40 ? n : 40), v);
        if (f->kind == S_INT || f->kind == S_PRICE || f->kind == S_TIME)
            memcpy (base + f->off, &num, sizeof num);
    }
    if (!out->order_id[0] || !out->status[0])
        return s_fail (why, whylen, "order update without order_id or status");
    return 0;
}
