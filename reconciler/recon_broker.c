/*  recon_broker - Kite's positions, order book and trade book, from response text to
 *  plain rows.
 *
 *  cJSON holds numbers only as doubles, which cannot carry 99725.05 or a 19-digit id
 *  exactly. So before parsing, every number token outside a string is wrapped in
 *  quotes: cJSON then hands us each number's own text, and money is read from it with
 *  kt_money_parse (exact to the paisa), quantities digit by digit. */

#include "recon.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
recon_bstatus_str (recon_bstatus_t s)
{
    static const char *const names[] = {"ok", "transport", "token", "error", "bad"};
    return (unsigned) s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void
recon_broker_init (struct recon_broker *b)
{
    memset (b, 0, sizeof *b);
    b->pos = calloc (RECON_BPOS_MAX, sizeof *b->pos);
    b->ord = calloc (RECON_BORD_MAX, sizeof *b->ord);
    b->trade = calloc (RECON_BTRADE_MAX, sizeof *b->trade);
    if (!b->pos || !b->ord || !b->trade)
        abort ();
}

void
recon_broker_free (struct recon_broker *b)
{
    free (b->pos);
    free (b->ord);
    free (b->trade);
    memset (b, 0, sizeof *b);
}

//  ---- JSON with number text -------------------------------------------------------------

//  A copy of text with every number token outside strings quoted. Owned; NULL on OOM.
static char *
s_quote_numbers (const char *text, size_t len)
{
    //  Each number gains two quotes. Numbers are at least one byte and two of them are
    //  at least one byte apart, so there are at most (len + 1) / 2: the copy is at most
    //  2 * len + 1 bytes, plus the NUL.
    char *out = malloc (2 * len + 2);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if (c == '"') {
            out[o++] = text[i++];
            while (i < len && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < len)
                    out[o++] = text[i++];
                out[o++] = text[i++];
            }
            if (i < len)
                out[o++] = text[i++];
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            out[o++] = '"';
            while (i < len && text[i] && strchr ("0123456789+-.eE", text[i]))
                out[o++] = text[i++];
            out[o++] = '"';
        } else
            out[o++] = text[i++];
    }
    out[o] = '\0';
    return out;
}

//  Parse body into a tree whose numbers are strings. Returns the root (owned) or NULL.
static cJSON *
s_parse (const char *body, size_t len, char *why, size_t whylen)
{
    char *q = s_quote_numbers (body, len);
    if (!q) {
        snprintf (why, whylen, "out of memory");
        return NULL;
    }
    cJSON *root = cJSON_Parse (q);
    free (q);
    if (!root || !cJSON_IsObject (root)) {
        snprintf (why, whylen, "not a JSON object");
        cJSON_Delete (root);
        return NULL;
    }
    return root;
}

//  Copy the string (or number text) at key into buf. Returns 0, 1 when absent or null
//  (buf ""), -1 when it does not fit or is of another type.
static int
s_str (const cJSON *obj, const char *key, char *buf, size_t cap)
{
    buf[0] = '\0';
    const cJSON *v = cJSON_GetObjectItemCaseSensitive (obj, key);
    if (!v || cJSON_IsNull (v))
        return 1;
    if (!cJSON_IsString (v) || strlen (v->valuestring) >= cap)
        return -1;
    snprintf (buf, cap, "%s", v->valuestring);
    return 0;
}

//  An integer (quantity, token): digits with an optional '-', nothing else. Absent or
//  null reads as 0. Returns 0 or -1.
static int
s_int (const cJSON *obj, const char *key, int64_t *out)
{
    char t[24];
    *out = 0;
    int rc = s_str (obj, key, t, sizeof t);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    const char *p = t;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (!*p)
        return -1;
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

//  Rupees at key as paise. Absent or null reads as 0. Returns 0 or -1.
static int
s_money (const cJSON *obj, const char *key, int64_t *paise)
{
    char t[40];
    *paise = 0;
    int rc = s_str (obj, key, t, sizeof t);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    return kt_money_parse (t, strlen (t), paise);
}

//  "YYYY-MM-DD HH:MM:SS" IST as ns; 0 when absent or in another form.
static int64_t
s_ist (const cJSON *obj, const char *key)
{
    char t[32];
    int y, mo, d, hh, mi, ss;
    if (s_str (obj, key, t, sizeof t) != 0 ||
        sscanf (t, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &hh, &mi, &ss) != 6)
        return 0;
    return kt_ist_ns (y, mo, d, hh, mi, ss);
}

recon_bstatus_t
recon_broker_judge (long http_status, const char *body, size_t len, char *why, size_t whylen)
{
    char tmp[8];
    cJSON *root = body && len ? s_parse (body, len, tmp, sizeof tmp) : NULL;
    char etype[48] = "", msg[160] = "";
    if (root) {
        s_str (root, "error_type", etype, sizeof etype);
        if (s_str (root, "message", msg, sizeof msg) < 0)
            snprintf (msg, sizeof msg, "(message too long)");
    }
    recon_bstatus_t st = RECON_B_OK;
    if (strcmp (etype, "TokenException") == 0)
        st = RECON_B_TOKEN;
    else if (etype[0] || http_status < 200 || http_status > 299)
        st = RECON_B_ERROR;
    else if (!root || !cJSON_GetObjectItemCaseSensitive (root, "data"))
        st = RECON_B_BAD;
    if (st == RECON_B_BAD)
        snprintf (why, whylen, "HTTP %ld: not a Kite answer", http_status);
    else if (st != RECON_B_OK)
        snprintf (why, whylen, "HTTP %ld %s: %s", http_status, etype[0] ? etype : "error",
                  msg[0] ? msg : "(no message)");
    cJSON_Delete (root);
    return st;
}

//  The data member of a success envelope, or (positions) data.net. NULL with why.
static const cJSON *
s_rows (const cJSON *root, const char *member, char *why, size_t whylen)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive (root, "data");
    if (d && member)
        d = cJSON_GetObjectItemCaseSensitive (d, member);
    if (!cJSON_IsArray (d)) {
        snprintf (why, whylen, "data%s%s is not an array", member ? "." : "", member ? member : "");
        return NULL;
    }
    return d;
}

//  Read one row into the next slot. Returns NULL when the row is good, else the name of
//  the field that is missing or malformed.
typedef const char *(s_row_fn) (const cJSON *row, void *slot);

//  Walk the rows of body (data, or data.<member>) into slots of size bytes from base,
//  at most max. Returns the number read, or -1 (why; nothing is kept).
static int
s_each_row (const char *body, size_t len, const char *member, const char *what, void *base,
            size_t size, int max, s_row_fn *fn, char *why, size_t whylen)
{
    cJSON *root = s_parse (body, len, why, whylen);
    if (!root)
        return -1;
    const cJSON *rows = s_rows (root, member, why, whylen);
    int n = rows ? 0 : -1;
    const cJSON *row;
    cJSON_ArrayForEach (row, rows)
    {
        if (n == max) {
            snprintf (why, whylen, "more than %d %s rows", max, what);
            n = -1;
            break;
        }
        void *slot = (char *) base + (size_t) n * size;
        memset (slot, 0, size);
        const char *bad = fn (row, slot);
        if (bad) {
            snprintf (why, whylen, "%s row %d: %s missing or malformed", what, n, bad);
            n = -1;
            break;
        }
        n++;
    }
    cJSON_Delete (root);
    return n;
}

static const char *
s_position_row (const cJSON *row, void *slot)
{
    struct recon_bpos *p = slot;
    if (s_str (row, "tradingsymbol", p->sym, sizeof p->sym) != 0 || !p->sym[0])
        return "tradingsymbol";
    if (s_int (row, "quantity", &p->qty) < 0)
        return "quantity";
    if (s_money (row, "average_price", &p->avg_px) < 0 ||
        s_money (row, "last_price", &p->last_px) < 0)
        return "average_price/last_price";
    s_str (row, "exchange", p->exchange, sizeof p->exchange);
    s_str (row, "product", p->product, sizeof p->product);
    s_int (row, "instrument_token", &p->token);
    return NULL;
}

static const char *
s_order_row (const cJSON *row, void *slot)
{
    struct recon_bord *o = slot;
    char word[16];
    if (s_str (row, "order_id", o->order_id, sizeof o->order_id) != 0 || !o->order_id[0])
        return "order_id";
    if (s_str (row, "status", o->status, sizeof o->status) != 0 || !o->status[0])
        return "status";
    if (s_str (row, "tradingsymbol", o->sym, sizeof o->sym) != 0)
        return "tradingsymbol";
    if (s_int (row, "quantity", &o->qty) < 0 || s_int (row, "filled_quantity", &o->filled_qty) < 0)
        return "quantity/filled_quantity";
    if (s_money (row, "price", &o->price) < 0 || s_money (row, "trigger_price", &o->trigger) < 0 ||
        s_money (row, "average_price", &o->avg_px) < 0)
        return "price/trigger_price/average_price";
    //  A tag longer than any coid is not one of ours.
    if (s_str (row, "tag", o->tag, sizeof o->tag) < 0)
        o->tag[0] = '\0';
    if (s_str (row, "placed_by", o->placed_by, sizeof o->placed_by) < 0)
        o->placed_by[0] = '\0';
    if (s_str (row, "status_message", o->message, sizeof o->message) < 0)
        snprintf (o->message, sizeof o->message, "(status message too long)");
    s_int (row, "instrument_token", &o->token);
    if (s_str (row, "transaction_type", word, sizeof word) == 0)
        o->side = kt_side_parse (word);
    if (s_str (row, "order_type", word, sizeof word) == 0)
        o->order_type = kt_order_type_parse (word);
    if (s_str (row, "product", word, sizeof word) == 0)
        o->product = kt_product_parse (word);
    return NULL;
}

static const char *
s_trade_row (const cJSON *row, void *slot)
{
    struct recon_btrade *t = slot;
    char word[16];
    if (s_str (row, "trade_id", t->trade_id, sizeof t->trade_id) != 0 || !t->trade_id[0])
        return "trade_id";
    if (s_str (row, "order_id", t->order_id, sizeof t->order_id) != 0 || !t->order_id[0])
        return "order_id";
    if (s_str (row, "tradingsymbol", t->sym, sizeof t->sym) != 0 || !t->sym[0])
        return "tradingsymbol";
    if (s_str (row, "transaction_type", word, sizeof word) != 0 ||
        (t->side = kt_side_parse (word)) == KT_SIDE_NONE)
        return "transaction_type";
    if (s_int (row, "quantity", &t->qty) < 0 || t->qty <= 0)
        return "quantity";
    if (s_money (row, "average_price", &t->price) < 0 || t->price <= 0)
        return "average_price";
    t->ts_ns = s_ist (row, "fill_timestamp");
    if (!t->ts_ns)
        t->ts_ns = s_ist (row, "exchange_timestamp");
    return NULL;
}

int
recon_broker_parse_positions (struct recon_broker *b, const char *body, size_t len, char *why,
                              size_t whylen)
{
    int n = s_each_row (body, len, "net", "position", b->pos, sizeof *b->pos, RECON_BPOS_MAX,
                        s_position_row, why, whylen);
    b->npos = n < 0 ? 0 : n;
    return n < 0 ? -1 : 0;
}

int
recon_broker_parse_orders (struct recon_broker *b, const char *body, size_t len, char *why,
                           size_t whylen)
{
    int n = s_each_row (body, len, NULL, "order", b->ord, sizeof *b->ord, RECON_BORD_MAX,
                        s_order_row, why, whylen);
    b->nord = n < 0 ? 0 : n;
    return n < 0 ? -1 : 0;
}

int
recon_broker_parse_trades (struct recon_broker *b, const char *body, size_t len, char *why,
                           size_t whylen)
{
    int n = s_each_row (body, len, NULL, "trade", b->trade, sizeof *b->trade, RECON_BTRADE_MAX,
                        s_trade_row, why, whylen);
    b->ntrade = n < 0 ? 0 : n;
    return n < 0 ? -1 : 0;
}
