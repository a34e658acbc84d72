/*  exec_kite - Kite REST: order forms out, replies, order rows and trades in.
 *
 *  kite-protocol.md sections 1-5 are the reference. Forms carry rupees as the fewest
 *  decimals (kt_money_format_json), so 12345 paise goes out as "123.45" and never
 *  through a double. Replies are classified once here; the process acts on the class. */

#include "exec_kite.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

// ---- forms ------------------------------------------------------------------------------

struct s_form {
    char *buf;
    size_t cap;
    size_t len;
    bool full;
};

static void
s_put (struct s_form *f, const char *key, const char *val)
{
    static const char hex[] = "0123456789ABCDEF";
    char tmp[256];
    size_t n = 0;
    for (const char *p = val; *p && n + 3 < sizeof tmp; p++) {
        unsigned char c = (unsigned char) *p;
        if (isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~')
            tmp[n++] = (char) c;
        else {
            tmp[n++] = '%';
            tmp[n++] = hex[c >> 4];
            tmp[n++] = hex[c & 15];
        }
    }
    tmp[n] = '\0';
    int w = snprintf (f->buf + f->len, f->cap - f->len, "%s%s=%s", f->len ? "&" : "", key, tmp);
    if (w < 0 || (size_t) w >= f->cap - f->len)
        f->full = true;
    else
        f->len += (size_t) w;
}

static void
s_put_money (struct s_form *f, const char *key, int64_t paise)
{
    char b[32];
    s_put (f, key, kt_money_format_json (paise, b, sizeof b));
}

static void
s_put_int (struct s_form *f, const char *key, int64_t v)
{
    char b[24];
    snprintf (b, sizeof b, "%lld", (long long) v);
    s_put (f, key, b);
}

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

static bool
s_tag_ok (const char *tag)
{
    size_t n = strlen (tag);
    if (n == 0 || n > KT_ID_WIRE_MAX)
        return false;
    for (const char *p = tag; *p; p++)
        if (!isalnum ((unsigned char) *p) && !strchr ("_.:-", *p))
            return false;
    return true;
}

//  What place and modify both check and send.
static int
s_order_fields (const struct exec_kite_order *o, struct s_form *f, char *why, size_t whylen)
{
    if (o->qty <= 0)
        return s_fail (why, whylen, "quantity %lld is not positive", (long long) o->qty);
    if (o->type == KT_OT_NONE)
        return s_fail (why, whylen, "no order type");
    bool priced = o->type == KT_OT_LIMIT || o->type == KT_OT_SL;
    bool stop = o->type == KT_OT_SL || o->type == KT_OT_SLM;
    bool market = o->type == KT_OT_MARKET || o->type == KT_OT_SLM;
    if (priced && o->price <= 0)
        return s_fail (why, whylen, "%s order without a price", kt_order_type_str (o->type));
    if (stop && o->trigger <= 0)
        return s_fail (why, whylen, "%s order without a trigger price",
                       kt_order_type_str (o->type));
    if (market && o->market_protection != -1 &&
        (o->market_protection < 1 || o->market_protection > 100))
        return s_fail (why, whylen, "market_protection %lld: -1 or 1..100 on %s orders",
                       (long long) o->market_protection, kt_order_type_str (o->type));
    s_put_int (f, "quantity", o->qty);
    s_put (f, "order_type", kt_order_type_str (o->type));
    if (priced)
        s_put_money (f, "price", o->price);
    if (stop)
        s_put_money (f, "trigger_price", o->trigger);
    s_put (f, "validity", o->validity[0] ? o->validity : "DAY");
    if (market)
        s_put_int (f, "market_protection", o->market_protection);
    return 0;
}

int
exec_kite_place_form (const struct exec_kite_order *o, char *buf, size_t cap, char *why,
                      size_t whylen)
{
    struct s_form f = {buf, cap, 0, false};
    if (cap)
        buf[0] = '\0';
    if (!o->sym[0] || !o->exchange[0])
        return s_fail (why, whylen, "order without tradingsymbol or exchange");
    if (o->side == KT_SIDE_NONE)
        return s_fail (why, whylen, "order without a side");
    if (o->product == KT_PROD_NONE)
        return s_fail (why, whylen, "order without a product");
    if (!s_tag_ok (o->tag))
        return s_fail (why, whylen, "tag '%s' is not 1..20 of [A-Za-z0-9_.:-]", o->tag);
    s_put (&f, "tradingsymbol", o->sym);
    s_put (&f, "exchange", o->exchange);
    s_put (&f, "transaction_type", kt_side_str (o->side));
    s_put (&f, "product", kt_product_str (o->product));
    if (s_order_fields (o, &f, why, whylen) != 0)
        return -1;
    s_put (&f, "tag", o->tag);
    if (f.full)
        return s_fail (why, whylen, "form longer than %zu bytes", cap);
    return (int) f.len;
}

int
exec_kite_modify_form (const struct exec_kite_order *o, char *buf, size_t cap, char *why,
                       size_t whylen)
{
    struct s_form f = {buf, cap, 0, false};
    if (cap)
        buf[0] = '\0';
    if (s_order_fields (o, &f, why, whylen) != 0)
        return -1;
    if (f.full)
        return s_fail (why, whylen, "form longer than %zu bytes", cap);
    return (int) f.len;
}

static bool
s_alnum (const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum ((unsigned char) *s))
            return false;
    return true;
}

int
exec_kite_path (char *buf, size_t cap, const char *variety, const char *order_id)
{
    const char *v = variety && variety[0] ? variety : "regular";
    if (!s_alnum (v) || (order_id && order_id[0] && !s_alnum (order_id)))
        return -1;
    int n = order_id && order_id[0] ? snprintf (buf, cap, "/orders/%s/%s", v, order_id)
                                    : snprintf (buf, cap, "/orders/%s", v);
    return n < 0 || (size_t) n >= cap ? -1 : n;
}

// ---- replies ----------------------------------------------------------------------------

static const char *const s_final_types[] = {"InputException",      "OrderException",
                                            "MarginException",     "HoldingException",
                                            "PermissionException", "PermissionError",
                                            "UserException",       "TwoFAException",
                                            "TPINAuthException",   NULL};

static const char *const s_retry_types[] = {"NetworkException", "DataException", "GeneralException",
                                            NULL};

static bool
s_in (const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp (*list, s) == 0)
            return true;
    return false;
}

void
exec_kite_reply_parse (kt_http_err_t err, const char *errstr, long status, const char *body,
                       size_t len, struct exec_kite_reply *out)
{
    memset (out, 0, sizeof *out);
    out->status = status;
    if (err != KT_HTTP_OK && err != KT_HTTP_E_TOO_LARGE) {
        out->cls = kt_http_err_unsent (err) ? EXEC_KITE_UNSENT : EXEC_KITE_UNKNOWN;
        snprintf (out->message, sizeof out->message, "%s: %s", kt_http_err_str (err),
                  errstr ? errstr : "");
        return;
    }
    exec_json_t doc;
    char why[96];
    bool parsed = body && len && exec_json_parse (&doc, body, len, why, sizeof why) == 0 &&
                  cJSON_IsObject (doc.root);
    const cJSON *root = parsed ? doc.root : NULL;
    if (root) {
        exec_json_str (&doc, root, "error_type", out->error_type, sizeof out->error_type);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive (root, "message");
        if (cJSON_IsString (m))
            snprintf (out->message, sizeof out->message, "%s", m->valuestring);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive (root, "status");
        bool is_err =
            out->error_type[0] || (cJSON_IsString (st) && strcmp (st->valuestring, "error") == 0);
        if (is_err && !out->error_type[0])
            snprintf (out->error_type, sizeof out->error_type, "GeneralException");
        if (!is_err && status >= 200 && status < 300) {
            const cJSON *data = cJSON_GetObjectItemCaseSensitive (root, "data");
            if (cJSON_IsObject (data))
                exec_json_str (&doc, data, "order_id", out->order_id, sizeof out->order_id);
            out->cls = EXEC_KITE_OK;
            exec_json_free (&doc);
            return;
        }
    }
    if (parsed)
        exec_json_free (&doc);
    if (status == 429) {
        out->cls = EXEC_KITE_WAIT;
        if (!out->error_type[0])
            snprintf (out->error_type, sizeof out->error_type, "NetworkException");
        if (!out->message[0])
            snprintf (out->message, sizeof out->message, "Too many requests");
        return;
    }
    if (!out->error_type[0]) {
        //  A 2xx that is not JSON is the DataException case; anything else without a type
        //  is a NetworkException carrying the HTTP status (the official clients' rule).
        snprintf (out->error_type, sizeof out->error_type,
                  status >= 200 && status < 300 ? "DataException" : "NetworkException");
        if (!out->message[0])
            snprintf (out->message, sizeof out->message, "HTTP %ld%s", status,
                      err == KT_HTTP_E_TOO_LARGE ? ": response too large" : ": unreadable body");
    }
    if (strcmp (out->error_type, "TokenException") == 0)
        out->cls = EXEC_KITE_TOKEN;
    else if (s_in (s_final_types, out->error_type))
        out->cls = EXEC_KITE_FINAL;
    else {
        if (!s_in (s_retry_types, out->error_type))
            snprintf (out->error_type, sizeof out->error_type, "GeneralException");
        out->cls = EXEC_KITE_RETRY;
    }
}

const char *
exec_kite_class_str (exec_kite_class_t c)
{
    static const char *const names[] = {"ok",    "final",  "retry",  "wait",
                                        "token", "unsent", "unknown"};
    return c >= 0 && c <= EXEC_KITE_UNKNOWN ? names[c] : "?";
}

// ---- order rows ---------------------------------------------------------------------------

//  A string field that may be too long for our copy is cut, not refused: these are
//  informational (status_message) or compared exactly (tag, where a longer one is
//  never ours).
static void
s_str_cut (const exec_json_t *doc, const cJSON *obj, const char *key, char *buf, size_t cap)
{
    if (exec_json_str (doc, obj, key, buf, cap) < 0) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive (obj, key);
        if (cJSON_IsString (it))
            snprintf (buf, cap, "%s", it->valuestring);
    }
}

int
exec_kite_row_parse (const exec_json_t *doc, const cJSON *obj, struct exec_kite_row *row, char *why,
                     size_t whylen)
{
    memset (row, 0, sizeof *row);
    if (!cJSON_IsObject (obj))
        return s_fail (why, whylen, "order is not an object");
    if (exec_json_str (doc, obj, "order_id", row->order_id, sizeof row->order_id) != 0)
        return s_fail (why, whylen, "order without a usable order_id");
    if (exec_json_str (doc, obj, "status", row->status, sizeof row->status) != 0)
        return s_fail (why, whylen, "order %s without a usable status", row->order_id);
    exec_json_str (doc, obj, "parent_order_id", row->parent_order_id, sizeof row->parent_order_id);
    exec_json_str (doc, obj, "exchange_order_id", row->exchange_order_id,
                   sizeof row->exchange_order_id);
    s_str_cut (doc, obj, "status_message", row->status_message, sizeof row->status_message);
    if (exec_json_str (doc, obj, "tag", row->tag, sizeof row->tag) < 0)
        row->tag[0] = '\0';
    exec_json_str (doc, obj, "variety", row->variety, sizeof row->variety);
    exec_json_str (doc, obj, "exchange", row->exchange, sizeof row->exchange);
    exec_json_str (doc, obj, "tradingsymbol", row->sym, sizeof row->sym);
    s_str_cut (doc, obj, "placed_by", row->placed_by, sizeof row->placed_by);
    if (exec_json_str (doc, obj, "exchange_update_timestamp", row->ts, sizeof row->ts) != 0)
        exec_json_str (doc, obj, "order_timestamp", row->ts, sizeof row->ts);
    char b[24];
    exec_json_str (doc, obj, "transaction_type", b, sizeof b);
    row->side = kt_side_parse (b);
    exec_json_str (doc, obj, "order_type", b, sizeof b);
    row->type = kt_order_type_parse (b);
    exec_json_str (doc, obj, "product", b, sizeof b);
    row->product = kt_product_parse (b);
    if (exec_json_int (doc, obj, "quantity", &row->qty) < 0 ||
        exec_json_int (doc, obj, "filled_quantity", &row->filled) < 0 ||
        exec_json_int (doc, obj, "pending_quantity", &row->pending) < 0 ||
        exec_json_int (doc, obj, "cancelled_quantity", &row->cancelled) < 0)
        return s_fail (why, whylen, "order %s: a quantity is not an integer", row->order_id);
    if (exec_json_money (doc, obj, "price", &row->price) < 0 ||
        exec_json_money (doc, obj, "trigger_price", &row->trigger) < 0 ||
        exec_json_money (doc, obj, "average_price", &row->avg_px) < 0)
        return s_fail (why, whylen, "order %s: a price is not a number", row->order_id);
    if (row->qty < 0 || row->filled < 0 || row->filled > row->qty || row->price < 0 ||
        row->trigger < 0 || row->avg_px < 0)
        return s_fail (why, whylen, "order %s: quantities or prices out of range", row->order_id);
    //  The first user tag: `tag` when set, else the first of `tags` that is not a system
    //  tag Kite adds itself.
    if (!row->tag[0]) {
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive (obj, "tags");
        const cJSON *t;
        cJSON_ArrayForEach (t, tags)
        {
            if (cJSON_IsString (t) && strlen (t->valuestring) < sizeof row->tag &&
                strcmp (t->valuestring, "icebergord") != 0 &&
                strncmp (t->valuestring, "mktp", 4) != 0 &&
                strncmp (t->valuestring, "autoslice", 9) != 0) {
                snprintf (row->tag, sizeof row->tag, "%s", t->valuestring);
                break;
            }
        }
    }
    return 0;
}

bool
exec_kite_row_has_tag (const struct exec_kite_row *row, const char *tag)
{
    return tag && tag[0] && strcmp (row->tag, tag) == 0;
}

//  data of a success envelope holding an array. Returns it or NULL (why set).
static const cJSON *
s_data_array (const exec_json_t *doc, char *why, size_t whylen)
{
    const cJSON *root = doc->root;
    const cJSON *et = cJSON_GetObjectItemCaseSensitive (root, "error_type");
    if (et) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive (root, "message");
        s_fail (why, whylen, "%s: %s", cJSON_IsString (et) ? et->valuestring : "error",
                cJSON_IsString (m) ? m->valuestring : "");
        return NULL;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive (root, "data");
    if (!cJSON_IsArray (data)) {
        s_fail (why, whylen, "reply has no data array");
        return NULL;
    }
    return data;
}

//  Call item (doc, element, arg) for each element of a success envelope's data array;
//  item returns 0 go on, 1 skip (bad element, counted), other values stop the walk.
typedef int (s_item_fn) (const exec_json_t *doc, const cJSON *item, void *arg);

static int
s_each (const char *body, size_t len, s_item_fn *item, void *arg, int *bad, char *why,
        size_t whylen)
{
    if (bad)
        *bad = 0;
    exec_json_t doc;
    if (exec_json_parse (&doc, body, len, why, whylen) != 0)
        return -1;
    const cJSON *data = s_data_array (&doc, why, whylen);
    if (!data) {
        exec_json_free (&doc);
        return -1;
    }
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach (it, data)
    {
        rc = item (&doc, it, arg);
        if (rc == 1 && bad)
            (*bad)++;
        if (rc == 1)
            rc = 0;
        else if (rc != 0)
            break;
    }
    exec_json_free (&doc);
    return rc;
}

struct s_cb {
    void *fn;
    void *arg;
};

static int
s_row_item (const exec_json_t *doc, const cJSON *item, void *arg)
{
    struct s_cb *cb = arg;
    struct exec_kite_row row;
    char w[96];
    if (exec_kite_row_parse (doc, item, &row, w, sizeof w) != 0)
        return 1;
    int rc = ((exec_kite_row_fn *) cb->fn) (&row, cb->arg);
    return rc == 1 ? 2 : rc; //  1 means "bad element" to s_each
}

int
exec_kite_orders_each (const char *body, size_t len, exec_kite_row_fn *fn, void *arg, int *bad,
                       char *why, size_t whylen)
{
    struct s_cb cb = {(void *) fn, arg};
    int rc = s_each (body, len, s_row_item, &cb, bad, why, whylen);
    return rc == 2 ? 1 : rc;
}

struct s_find {
    const char *tag;
    struct exec_kite_row *row;
    int n;
};

static int
s_find_one (const struct exec_kite_row *row, void *arg)
{
    struct s_find *f = arg;
    if (exec_kite_row_has_tag (row, f->tag)) {
        if (f->n++ == 0 && f->row)
            *f->row = *row;
    }
    return 0;
}

int
exec_kite_find_tag (const char *body, size_t len, const char *tag, struct exec_kite_row *row,
                    char *why, size_t whylen)
{
    struct s_find f = {tag, row, 0};
    if (exec_kite_orders_each (body, len, s_find_one, &f, NULL, why, whylen) < 0)
        return -1;
    return f.n;
}

// ---- trades -------------------------------------------------------------------------------

static int
s_trade_parse (const exec_json_t *doc, const cJSON *obj, struct exec_kite_trade *t)
{
    memset (t, 0, sizeof *t);
    if (exec_json_str (doc, obj, "trade_id", t->trade_id, sizeof t->trade_id) != 0 ||
        exec_json_str (doc, obj, "order_id", t->order_id, sizeof t->order_id) != 0)
        return -1;
    exec_json_str (doc, obj, "exchange", t->exchange, sizeof t->exchange);
    exec_json_str (doc, obj, "tradingsymbol", t->sym, sizeof t->sym);
    exec_json_str (doc, obj, "fill_timestamp", t->ts, sizeof t->ts);
    char b[16];
    exec_json_str (doc, obj, "transaction_type", b, sizeof b);
    t->side = kt_side_parse (b);
    exec_json_str (doc, obj, "product", b, sizeof b);
    t->product = kt_product_parse (b);
    if (exec_json_int (doc, obj, "quantity", &t->qty) != 0 || t->qty <= 0 ||
        exec_json_money (doc, obj, "average_price", &t->px) != 0 || t->px < 0)
        return -1;
    return 0;
}

static int
s_trade_item (const exec_json_t *doc, const cJSON *item, void *arg)
{
    struct s_cb *cb = arg;
    struct exec_kite_trade t;
    if (s_trade_parse (doc, item, &t) != 0)
        return 1;
    int rc = ((exec_kite_trade_fn *) cb->fn) (&t, cb->arg);
    return rc == 1 ? 2 : rc;
}

int
exec_kite_trades_each (const char *body, size_t len, exec_kite_trade_fn *fn, void *arg, int *bad,
                       char *why, size_t whylen)
{
    struct s_cb cb = {(void *) fn, arg};
    int rc = s_each (body, len, s_trade_item, &cb, bad, why, whylen);
    return rc == 2 ? 1 : rc;
}
