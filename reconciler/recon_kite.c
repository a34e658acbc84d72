/*  recon_kite - Kite's positions, orders and trades answers as plain rows (pure).
 *
 *  Money must never pass through a double, and cJSON keeps numbers only as doubles. So
 *  the text is first rewritten with every number token outside a string put in quotes
 *  (the JSON number grammar is the same either way); cJSON then hands each number over
 *  as its own text, which kt_money_parse and a checked decimal parse read exactly. */

#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "recon.h"

//  The text with every number token outside strings quoted. Returns an owned string.
static char *
s_quote_numbers (const char *json, size_t len)
{
    char *out = malloc (len * 3 + 1);
    if (!out)
        abort ();
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = json[i];
        if (in_str) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len)
                out[o++] = json[++i];
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
            out[o++] = c;
            continue;
        }
        if (c == '-' || isdigit ((unsigned char) c)) {
            out[o++] = '"';
            while (i < len &&
                   (isdigit ((unsigned char) json[i]) || json[i] == '-' || json[i] == '+' ||
                    json[i] == '.' || json[i] == 'e' || json[i] == 'E'))
                out[o++] = json[i++];
            out[o++] = '"';
            i--;
            continue;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

//  The "data" of a success answer (path "data" or "data.net"). Returns the parsed root
//  (owned) and *data, or NULL with why.
static cJSON *
s_data (const char *json, size_t len, const char *sub, const cJSON **data, char *why, size_t whylen)
{
    char *q = s_quote_numbers (json, len);
    cJSON *root = cJSON_Parse (q);
    free (q);
    if (!root) {
        snprintf (why, whylen, "not JSON");
        return NULL;
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive (root, "status");
    if (!cJSON_IsString (st) || strcmp (st->valuestring, "success") != 0) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive (root, "message");
        snprintf (why, whylen, "not a success answer: %.120s",
                  cJSON_IsString (m) ? m->valuestring : "(no message)");
        cJSON_Delete (root);
        return NULL;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive (root, "data");
    if (sub)
        d = cJSON_GetObjectItemCaseSensitive (d, sub);
    if (!cJSON_IsArray (d)) {
        snprintf (why, whylen, "data%s%s is not an array", sub ? "." : "", sub ? sub : "");
        cJSON_Delete (root);
        return NULL;
    }
    *data = d;
    return root;
}

//  A string field into buf ("" for null or absent). Returns 0, or -1 when required and
//  absent, or too long.
static int
s_str (const cJSON *row, const char *key, char *buf, size_t buflen, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive (row, key);
    buf[0] = '\0';
    if (!v || cJSON_IsNull (v))
        return required ? -1 : 0;
    if (!cJSON_IsString (v) || strlen (v->valuestring) >= buflen)
        return -1;
    memcpy (buf, v->valuestring, strlen (v->valuestring) + 1);
    return 0;
}

//  A whole number (from its text). Returns 0, or -1.
static int
s_int (const cJSON *row, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive (row, key);
    if (!cJSON_IsString (v) || !*v->valuestring)
        return -1;
    char *end = NULL;
    long long x = strtoll (v->valuestring, &end, 10);
    if (*end)
        return -1;
    *out = x;
    return 0;
}

//  Rupees (from the number's text) into paise, nearest paisa.
static int
s_money (const cJSON *row, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive (row, key);
    if (!cJSON_IsString (v))
        return -1;
    return kt_money_parse (v->valuestring, strlen (v->valuestring), out);
}

static kt_side_t
s_side (const cJSON *row)
{
    char s[8];
    if (s_str (row, "transaction_type", s, sizeof s, true) != 0)
        return KT_SIDE_NONE;
    return kt_side_parse (s);
}

//  One row into dst; returns NULL, or the name of the field that is missing or bad.
typedef const char *(s_row_fn) (const cJSON *row, void *dst);

static const char *
s_position_row (const cJSON *row, void *dst)
{
    struct recon_bpos *p = dst;
    char product[8];
    if (s_str (row, "tradingsymbol", p->sym, sizeof p->sym, true))
        return "tradingsymbol";
    if (s_str (row, "exchange", p->exchange, sizeof p->exchange, true))
        return "exchange";
    if (s_str (row, "product", product, sizeof product, true))
        return "product";
    p->product = kt_product_parse (product);
    if (s_int (row, "instrument_token", &p->token))
        return "instrument_token";
    if (s_int (row, "quantity", &p->qty))
        return "quantity";
    if (s_money (row, "average_price", &p->avg_px))
        return "average_price";
    return NULL;
}

static const char *
s_order_row (const cJSON *row, void *dst)
{
    struct recon_border *o = dst;
    if (s_str (row, "order_id", o->order_id, sizeof o->order_id, true))
        return "order_id";
    //  A tag longer than ours can be is not ours: kept as "".
    if (s_str (row, "tag", o->tag, sizeof o->tag, false))
        o->tag[0] = '\0';
    s_str (row, "placed_by", o->placed_by, sizeof o->placed_by, false);
    if (s_str (row, "status", o->status, sizeof o->status, true))
        return "status";
    if (s_str (row, "tradingsymbol", o->sym, sizeof o->sym, true))
        return "tradingsymbol";
    if (!(o->side = s_side (row)))
        return "transaction_type";
    if (s_int (row, "quantity", &o->qty))
        return "quantity";
    if (s_int (row, "filled_quantity", &o->filled))
        return "filled_quantity";
    if (s_int (row, "pending_quantity", &o->pending))
        o->pending = 0;
    if (s_int (row, "cancelled_quantity", &o->cancelled))
        o->cancelled = 0;
    if (s_money (row, "average_price", &o->avg_px))
        return "average_price";
    if (s_str (row, "status_message", o->status_message, sizeof o->status_message, false))
        snprintf (o->status_message, sizeof o->status_message, "(too long)");
    return NULL;
}

//  "2021-05-31 09:16:39" (IST) -> ns, 0 when absent or not that form.
static int64_t
s_ist_time (const cJSON *row, const char *key)
{
    char t[32];
    int y, mo, d, hh, mi, ss;
    if (s_str (row, key, t, sizeof t, false) != 0 || !t[0] ||
        sscanf (t, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &hh, &mi, &ss) != 6)
        return 0;
    return kt_ist_ns (y, mo, d, hh, mi, ss);
}

static const char *
s_trade_row (const cJSON *row, void *dst)
{
    struct recon_btrade *t = dst;
    if (s_str (row, "trade_id", t->trade_id, sizeof t->trade_id, true))
        return "trade_id";
    if (s_str (row, "order_id", t->order_id, sizeof t->order_id, true))
        return "order_id";
    if (s_str (row, "tradingsymbol", t->sym, sizeof t->sym, true))
        return "tradingsymbol";
    if (!(t->side = s_side (row)))
        return "transaction_type";
    if (s_int (row, "quantity", &t->qty) || t->qty <= 0)
        return "quantity";
    if (s_money (row, "average_price", &t->price) || t->price <= 0)
        return "average_price";
    t->fill_ns = s_ist_time (row, "fill_timestamp");
    return NULL;
}

//  Every row of the answer through fn into out (size bytes each, at most max).
static int
s_rows (const char *json, size_t len, const char *sub, void *out, size_t size, int max,
        s_row_fn *fn, char *why, size_t whylen)
{
    const cJSON *data = NULL;
    cJSON *root = s_data (json, len, sub, &data, why, whylen);
    if (!root)
        return -1;
    union {
        struct recon_bpos p;
        struct recon_border o;
        struct recon_btrade t;
    } row_buf;
    int n = 0;
    const cJSON *row;
    cJSON_ArrayForEach (row, data)
    {
        memset (&row_buf, 0, sizeof row_buf);
        const char *bad = fn (row, &row_buf);
        if (bad) {
            snprintf (why, whylen, "row %d: %s missing or bad", n, bad);
            cJSON_Delete (root);
            return -1;
        }
        if (n < max)
            memcpy ((char *) out + (size_t) n * size, &row_buf, size);
        n++;
    }
    cJSON_Delete (root);
    return n;
}

int
recon_kite_positions (const char *json, size_t len, struct recon_bpos *out, int max, char *why,
                      size_t whylen)
{
    return s_rows (json, len, "net", out, sizeof *out, max, s_position_row, why, whylen);
}

int
recon_kite_orders (const char *json, size_t len, struct recon_border *out, int max, char *why,
                   size_t whylen)
{
    return s_rows (json, len, NULL, out, sizeof *out, max, s_order_row, why, whylen);
}

int
recon_kite_trades (const char *json, size_t len, struct recon_btrade *out, int max, char *why,
                   size_t whylen)
{
    return s_rows (json, len, NULL, out, sizeof *out, max, s_trade_row, why, whylen);
}

kt_ord_status_t
recon_kite_status (const char *s, int64_t filled)
{
    if (!strcmp (s, "COMPLETE"))
        return KT_OS_FILLED;
    if (!strcmp (s, "CANCELLED"))
        return KT_OS_CANCELLED;
    if (!strcmp (s, "REJECTED"))
        return KT_OS_REJECTED;
    if (!strcmp (s, "LAPSED") || !strcmp (s, "EXPIRED"))
        return KT_OS_EXPIRED;
    if (!strcmp (s, "OPEN") || !strcmp (s, "TRIGGER PENDING") || !strcmp (s, "AMO REQ RECEIVED"))
        return filled > 0 ? KT_OS_PARTIAL : KT_OS_OPEN;
    return KT_OS_NONE;
}
