/*  sim_http - kite-sim's REST API: Kite's routes, parameters, headers, envelopes and
 *  error types, on the http vhost of the one lws context.
 *
 *  Used by clients exactly as they use api.kite.trade (only the base URL differs), and
 *  by tests through the admin routes under /_admin/ (faults, clock; never faulted,
 *  rate-limited or authenticated). A request runs: route -> X-Kite-Version -> auth ->
 *  rate limit -> injected faults -> handler, and its answer is queued; lws writes only
 *  in LWS_CALLBACK_HTTP_WRITEABLE (headers first, then the body in 32 KB pieces), so a
 *  latency fault is just an lws_sul that requests the write later. Bodies are
 *  x-www-form-urlencoded (sim_form); prices are parsed as exact rupee text into paise.
 *  Keep-alive works: per-connection state is reset after each answer. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>
#include "sim.h"

#define S_BODY_MAX (1 << 20)
#define S_CHUNK (32 * 1024)
#define S_SEGS 8
#define S_HISTORY_MAX 256
#define S_CHILDREN_MAX 16 //  autoslice makes at most 10
#define S_CANDLES_MAX 100000

struct s_req {
    struct lws *wsi; //  borrowed
    bool active;     //  a request is in progress
    char method[8];
    char path[256];
    struct sim_form form; //  query + body pairs
    char *body;           //  owned raw body
    size_t body_len;
    bool body_too_big;
    //  answer
    int status;
    const char *ctype; //  static
    char *resp;        //  owned: LWS_PRE headroom, then resp_len bytes
    size_t resp_len, sent;
    bool headers_sent;
    bool ready;                 //  answer may be written
    lws_sorted_usec_list_t sul; //  latency fault timer
    bool sul_armed;
};

//  One request as handlers see it.
struct s_call {
    sim_t *ctx;
    struct s_req *r;
    const char *seg[S_SEGS]; //  path segments (point into segbuf)
    int nseg;
    char segbuf[256];
};

static sim_t *
s_ctx (struct lws *wsi)
{
    return lws_context_user (lws_get_context (wsi));
}

// ---- answers --------------------------------------------------------------------------

static void
s_answer_raw (struct s_req *r, int status, const char *ctype, const char *body, size_t len)
{
    free (r->resp);
    r->resp = malloc (LWS_PRE + len + 1);
    if (!r->resp)
        abort ();
    memcpy (r->resp + LWS_PRE, body, len);
    r->resp_len = len;
    r->status = status;
    r->ctype = ctype;
}

//  Take ownership of text (from cJSON) as a JSON answer.
static void
s_answer_json (struct s_req *r, int status, char *text)
{
    s_answer_raw (r, status, "application/json", text, strlen (text));
    free (text);
}

static void
s_ok (struct s_req *r, cJSON *data)
{
    s_answer_json (r, 200, sim_json_success (&data));
}

static void
s_err (struct s_req *r, int status, const char *error_type, const char *message)
{
    s_answer_json (r, status, sim_json_error (message, error_type));
}

static void
s_err_type (struct s_req *r, const char *error_type, const char *message)
{
    s_err (r, sim_json_error_status (error_type), error_type ? error_type : "GeneralException",
           message);
}

// ---- helpers for the lws side ----------------------------------------------------------

int
sim_http_write_now (struct lws *wsi, int status, const char *content_type, const char *body,
                    size_t len)
{
    size_t cap = LWS_PRE + 1024 + len;
    unsigned char *buf = malloc (cap);
    if (!buf)
        abort ();
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + cap - 1;
    int rc = -1;
    //  Our own status line: before the request line is fully processed (the upgrade
    //  check) lws would say HTTP/1.0, and it has no reason phrase for 429.
    char line[64], clen[24];
    int n = snprintf (line, sizeof line, "HTTP/1.1 %d %s", status,
                      status == 403   ? "Forbidden"
                      : status == 429 ? "Too Many Requests"
                      : status == 400 ? "Bad Request"
                                      : "Error");
    int cl = snprintf (clen, sizeof clen, "%zu", len);
    if (lws_add_http_header_by_name (wsi, NULL, (unsigned char *) line, n, &p, end) ||
        lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                      (const unsigned char *) content_type,
                                      (int) strlen (content_type), &p, end) ||
        lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (unsigned char *) clen,
                                      cl, &p, end) ||
        lws_finalize_http_header (wsi, &p, end))
        goto out;
    memcpy (p, body, len);
    p += len;
    n = (int) (p - start);
    rc = lws_write (wsi, start, (size_t) n, LWS_WRITE_HTTP) == n ? 0 : -1;
out:
    free (buf);
    return rc;
}

const char *
sim_http_query_arg (struct lws *wsi, const char *name, char *buf, int len)
{
    size_t nl = strlen (name);
    char frag[1024];
    for (int i = 0; lws_hdr_copy_fragment (wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
         i++) {
        if (strncmp (frag, name, nl) == 0 && frag[nl] == '=') {
            if ((int) strlen (frag + nl + 1) >= len)
                return NULL;
            snprintf (buf, (size_t) len, "%s", frag + nl + 1);
            return buf;
        }
    }
    return NULL;
}

static void
s_reset (struct s_req *r)
{
    if (r->sul_armed) {
        lws_sul_cancel (&r->sul);
        r->sul_armed = false;
    }
    sim_form_clear (&r->form);
    free (r->body);
    free (r->resp);
    struct lws *wsi = r->wsi;
    memset (r, 0, sizeof *r);
    r->wsi = wsi;
}

static void
s_sul_fire (lws_sorted_usec_list_t *sul)
{
    struct s_req *r = lws_container_of (sul, struct s_req, sul);
    r->sul_armed = false;
    r->ready = true;
    lws_callback_on_writable (r->wsi);
}

// ---- parsing request fields ------------------------------------------------------------

//  A whole number field. Absent -> 1 (and *out untouched); bad -> -1.
static int
s_int_field (const struct sim_form *f, const char *key, int64_t *out)
{
    const char *v = sim_form_get (f, key);
    if (!v)
        return 1;
    char *end = NULL;
    long long n = strtoll (v, &end, 10);
    if (!*v || *end)
        return -1;
    *out = n;
    return 0;
}

//  A rupee field as exact paise. Absent -> 1; bad -> -1.
static int
s_money_field (const struct sim_form *f, const char *key, int64_t *out)
{
    const char *v = sim_form_get (f, key);
    if (!v)
        return 1;
    return kt_money_parse_exact (v, strlen (v), out) == 0 ? 0 : -1;
}

//  market_protection: -1 (automatic) or a percent in (0, 100]. Absent (1, *out untouched)
//  and 0 (*out = 0) are not defaulted: the venue refuses a MARKET / SL-M order without
//  protection with Kite's text, and ignores the field for other types.
static int
s_protection_field (const struct sim_form *f, int64_t *out)
{
    const char *v = sim_form_get (f, "market_protection");
    int64_t hundredths = 0;
    if (!v || !*v)
        return 1;
    if (kt_money_parse (v, strlen (v), &hundredths) != 0)
        return -1;
    if (hundredths == -100 || hundredths == 0) {
        *out = hundredths == 0 ? 0 : -1;
        return 0;
    }
    if (hundredths < 0 || hundredths > 10000)
        return -1;
    *out = (hundredths + 50) / 100 > 0 ? (hundredths + 50) / 100 : 1;
    return 0;
}

static void
s_msg (char *buf, size_t len, const char *fmt, const char *arg)
{
    snprintf (buf, len, fmt, arg);
}

// ---- session and user --------------------------------------------------------------------

static void
s_session_token (struct s_call *c)
{
    struct s_req *r = c->r;
    sim_t *ctx = c->ctx;
    const char *key = sim_form_get (&r->form, "api_key");
    const char *rt = sim_form_get (&r->form, "request_token");
    const char *sum = sim_form_get (&r->form, "checksum");
    char msg[KT_TEXT_LEN];
    if (!key || !rt || !sum) {
        s_msg (msg, sizeof msg, "Missing `%s`.",
               !key  ? "api_key"
               : !rt ? "request_token"
                     : "checksum");
        s_err (r, 400, "InputException", msg);
        return;
    }
    char token[SIM_TOKEN_LEN], pub[SIM_TOKEN_LEN];
    const char *etype = NULL;
    int64_t now = sim_now_ns (ctx);
    if (sim_auth_exchange (ctx->auth, key, rt, sum, now, token, pub, &etype, msg, sizeof msg)) {
        kt_log_info ("http.login.refused", KT_S ("error_type", etype), KT_END);
        s_err_type (r, etype, msg);
        return;
    }
    kt_log_info ("http.login", KT_S ("user_id", ctx->user.user_id), KT_END);
    s_ok (r, sim_json_session (&ctx->user, token, pub, now));
}

static void
s_session_logout (struct s_call *c)
{
    char key[64], tok[SIM_SECRET_LEN];
    const char *k = sim_http_query_arg (c->r->wsi, "api_key", key, sizeof key);
    const char *t = sim_http_query_arg (c->r->wsi, "access_token", tok, sizeof tok);
    if (!k || !t) {
        s_err (c->r, 400, "InputException", "Missing `api_key` or `access_token`.");
        return;
    }
    if (sim_auth_logout (c->ctx->auth, k, t) != 0) {
        s_err (c->r, 403, "TokenException", "Incorrect `api_key` or `access_token`.");
        return;
    }
    s_ok (c->r, cJSON_CreateTrue ());
}

static void
s_profile (struct s_call *c)
{
    s_ok (c->r, sim_json_profile (&c->ctx->user));
}

static void
s_margins (struct s_call *c)
{
    struct sim_margins m;
    sim_venue_margins (c->ctx->venue, &m);
    if (c->nseg == 2) {
        s_ok (c->r, sim_json_margins (&m));
        return;
    }
    if (strcmp (c->seg[2], "equity") == 0)
        s_ok (c->r, sim_json_margin_segment (&m, true));
    else if (strcmp (c->seg[2], "commodity") == 0)
        s_ok (c->r, sim_json_margin_segment (NULL, false));
    else
        s_err (c->r, 400, "InputException", "Invalid segment: use `equity` or `commodity`.");
}

// ---- orders -------------------------------------------------------------------------------

static const char *
s_check_variety (const char *variety)
{
    static const char *const known[] = {"regular", "amo", "co", "iceberg", "auction", NULL};
    for (int i = 0; known[i]; i++)
        if (strcmp (variety, known[i]) == 0)
            return strcmp (variety, "regular") == 0
                       ? NULL
                       : "kite-sim supports the `regular` variety only.";
    return "Invalid `variety`.";
}

//  Fill a placement request from the form. Returns NULL or an InputException message.
static const char *
s_order_req (const struct sim_form *f, struct sim_order_req *req, char *msg, size_t msglen)
{
    memset (req, 0, sizeof *req);
    static const char *const required[] = {
        "tradingsymbol", "exchange", "transaction_type", "order_type", "quantity", "product", NULL};
    for (int i = 0; required[i]; i++) {
        const char *v = sim_form_get (f, required[i]);
        if (!v || !*v) {
            snprintf (msg, msglen, "Missing or empty `%s`.", required[i]);
            return msg;
        }
    }
    const char *sym = sim_form_get (f, "tradingsymbol"), *exch = sim_form_get (f, "exchange");
    if (strlen (sym) >= sizeof req->sym)
        return "Invalid `tradingsymbol`.";
    if (strlen (exch) >= sizeof req->exchange)
        return "Invalid `exchange`.";
    snprintf (req->sym, sizeof req->sym, "%s", sym);
    snprintf (req->exchange, sizeof req->exchange, "%s", exch);
    req->side = kt_side_parse (sim_form_get (f, "transaction_type"));
    if (!req->side)
        return "Invalid `transaction_type`: use BUY or SELL.";
    req->order_type = kt_order_type_parse (sim_form_get (f, "order_type"));
    if (!req->order_type)
        return "Invalid `order_type`: use MARKET, LIMIT, SL or SL-M.";
    req->product = kt_product_parse (sim_form_get (f, "product"));
    if (!req->product)
        return "Invalid `product`: kite-sim takes MIS or NRML.";
    if (s_int_field (f, "quantity", &req->qty) != 0 || req->qty <= 0)
        return "Invalid `quantity`.";
    int rc = s_money_field (f, "price", &req->price);
    if (rc < 0 || req->price < 0)
        return "Invalid `price`.";
    bool needs_price = req->order_type == KT_OT_LIMIT || req->order_type == KT_OT_SL;
    if (needs_price && req->price <= 0)
        return "Missing or invalid `price` for this order type.";
    if (!needs_price)
        req->price = 0;
    rc = s_money_field (f, "trigger_price", &req->trigger);
    if (rc < 0 || req->trigger < 0)
        return "Invalid `trigger_price`.";
    bool needs_trigger = req->order_type == KT_OT_SL || req->order_type == KT_OT_SLM;
    if (needs_trigger && req->trigger <= 0)
        return "Missing or invalid `trigger_price` for this order type.";
    if (!needs_trigger)
        req->trigger = 0;
    const char *validity = sim_form_get (f, "validity");
    if (!validity || !*validity)
        validity = "DAY";
    if (strcmp (validity, "DAY") != 0 && strcmp (validity, "IOC") != 0)
        return strcmp (validity, "TTL") == 0 ? "kite-sim supports DAY and IOC validity only."
                                             : "Invalid `validity`.";
    snprintf (req->validity, sizeof req->validity, "%s", validity);
    const char *tag = sim_form_get (f, "tag");
    if (tag && strlen (tag) > KT_ID_WIRE_MAX)
        return "`tag` must be at most 20 characters.";
    if (tag)
        snprintf (req->tag, sizeof req->tag, "%s", tag);
    req->market_protection = 0;
    if (s_protection_field (f, &req->market_protection) < 0)
        return "Invalid `market_protection`: use -1 or a percent in (0, 100].";
    const char *autoslice = sim_form_get (f, "autoslice");
    req->autoslice = autoslice && (strcmp (autoslice, "true") == 0 || strcmp (autoslice, "1") == 0);
    return NULL;
}

static void
s_place (struct s_call *c)
{
    struct s_req *r = c->r;
    sim_t *ctx = c->ctx;
    const char *bad = s_check_variety (c->seg[1]);
    char msg[KT_TEXT_LEN];
    if (bad) {
        s_err (r, 400, "InputException", bad);
        return;
    }
    struct sim_order_req req;
    bad = s_order_req (&r->form, &req, msg, sizeof msg);
    if (bad) {
        s_err (r, 400, "InputException", bad);
        return;
    }
    char id[KT_BROKER_LEN] = "";
    struct sim_child children[S_CHILDREN_MAX];
    int nchildren = 0;
    const char *etype = NULL;
    if (sim_venue_place (ctx->venue, ctx->market_ns, &req, id, sizeof id, children, S_CHILDREN_MAX,
                         &nchildren, &etype, msg, sizeof msg, sim_on_order, ctx) != 0) {
        kt_log_info ("http.order.refused", KT_S ("error_type", etype), KT_S ("msg", msg), KT_END);
        s_err_type (r, etype, msg);
        return;
    }
    kt_log_info ("http.order.placed", KT_S ("order_id", id), KT_S ("sym", req.sym),
                 KT_I ("qty", req.qty), KT_S ("tag", req.tag), KT_END);
    for (int i = 0; i < nchildren; i++)
        if (children[i].error_type)
            kt_log_info ("http.order.child_refused", KT_S ("parent", id), KT_I ("child", i),
                         KT_S ("error_type", children[i].error_type),
                         KT_S ("msg", children[i].message), KT_END);
    cJSON *data = sim_json_place (id, children, req.autoslice ? nchildren : 0);
    s_ok (r, data);
}

static void
s_modify (struct s_call *c)
{
    struct s_req *r = c->r;
    const struct sim_form *f = &r->form;
    const char *bad = s_check_variety (c->seg[1]);
    if (bad) {
        s_err (r, 400, "InputException", bad);
        return;
    }
    struct sim_modify_req m = {0};
    int rc = s_int_field (f, "quantity", &m.qty);
    if (rc < 0 || (rc == 0 && m.qty <= 0)) {
        s_err (r, 400, "InputException", "Invalid `quantity`.");
        return;
    }
    m.has_qty = rc == 0;
    rc = s_money_field (f, "price", &m.price);
    if (rc < 0 || (rc == 0 && m.price < 0)) {
        s_err (r, 400, "InputException", "Invalid `price`.");
        return;
    }
    m.has_price = rc == 0;
    rc = s_money_field (f, "trigger_price", &m.trigger);
    if (rc < 0 || (rc == 0 && m.trigger < 0)) {
        s_err (r, 400, "InputException", "Invalid `trigger_price`.");
        return;
    }
    m.has_trigger = rc == 0;
    const char *ot = sim_form_get (f, "order_type");
    if (ot && *ot) {
        m.order_type = kt_order_type_parse (ot);
        if (!m.order_type) {
            s_err (r, 400, "InputException", "Invalid `order_type`.");
            return;
        }
        m.has_order_type = true;
    }
    rc = s_protection_field (f, &m.market_protection);
    if (rc < 0) {
        s_err (r, 400, "InputException",
               "Invalid `market_protection`: use -1 or a percent in (0, 100].");
        return;
    }
    m.has_market_protection = rc == 0;
    const char *validity = sim_form_get (f, "validity");
    if (validity && *validity && strcmp (validity, "DAY") != 0 && strcmp (validity, "IOC") != 0) {
        s_err (r, 400, "InputException", "Invalid `validity`.");
        return;
    }
    char msg[KT_TEXT_LEN];
    const char *etype = NULL;
    if (sim_venue_modify (c->ctx->venue, c->ctx->market_ns, c->seg[2], &m, &etype, msg, sizeof msg,
                          sim_on_order, c->ctx) != 0) {
        s_err_type (r, etype, msg);
        return;
    }
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "order_id", c->seg[2]);
    s_ok (r, data);
}

static void
s_cancel (struct s_call *c)
{
    const char *bad = s_check_variety (c->seg[1]);
    if (bad) {
        s_err (c->r, 400, "InputException", bad);
        return;
    }
    char msg[KT_TEXT_LEN];
    const char *etype = NULL;
    if (sim_venue_cancel (c->ctx->venue, c->ctx->market_ns, c->seg[2], &etype, msg, sizeof msg,
                          sim_on_order, c->ctx) != 0) {
        s_err_type (c->r, etype, msg);
        return;
    }
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "order_id", c->seg[2]);
    s_ok (c->r, data);
}

static void
s_orders (struct s_call *c)
{
    sim_t *ctx = c->ctx;
    cJSON *arr = cJSON_CreateArray ();
    size_t n = sim_venue_order_count (ctx->venue);
    for (size_t i = 0; i < n; i++) {
        const struct sim_order *o = sim_venue_order_at (ctx->venue, i);
        if (o)
            cJSON_AddItemToArray (arr, sim_json_order (o, ctx->instr, &ctx->user));
    }
    s_ok (c->r, arr);
}

static void
s_order_history (struct s_call *c)
{
    sim_t *ctx = c->ctx;
    const struct sim_order *rows[S_HISTORY_MAX];
    int n = sim_venue_order_history (ctx->venue, c->seg[1], rows, S_HISTORY_MAX);
    if (n <= 0) {
        s_err (c->r, 400, "InputException", "Couldn't find that `order_id`.");
        return;
    }
    cJSON *arr = cJSON_CreateArray ();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray (arr, sim_json_order_row (rows[i], ctx->instr, &ctx->user));
    s_ok (c->r, arr);
}

static void
s_trades_of (struct s_call *c, const char *order_id)
{
    sim_t *ctx = c->ctx;
    if (order_id && !sim_venue_order_get (ctx->venue, order_id)) {
        s_err (c->r, 400, "InputException", "Couldn't find that `order_id`.");
        return;
    }
    cJSON *arr = cJSON_CreateArray ();
    size_t n = sim_venue_trade_count (ctx->venue);
    for (size_t i = 0; i < n; i++) {
        const struct sim_trade *t = sim_venue_trade_at (ctx->venue, i);
        if (t && (!order_id || strcmp (t->order_id, order_id) == 0))
            cJSON_AddItemToArray (arr, sim_json_trade (t, ctx->instr));
    }
    s_ok (c->r, arr);
}

static void
s_order_trades (struct s_call *c)
{
    s_trades_of (c, c->seg[1]);
}

static void
s_trades (struct s_call *c)
{
    s_trades_of (c, NULL);
}

static void
s_positions (struct s_call *c)
{
    sim_t *ctx = c->ctx;
    cJSON *data = cJSON_CreateObject ();
    cJSON *net = cJSON_AddArrayToObject (data, "net");
    cJSON *day = cJSON_AddArrayToObject (data, "day");
    size_t n = sim_venue_position_count (ctx->venue);
    for (size_t i = 0; i < n; i++) {
        const struct sim_position *p = sim_venue_position_at (ctx->venue, i);
        if (!p)
            continue;
        cJSON_AddItemToArray (net, sim_json_position (p, ctx->instr, false));
        if (p->day_buy_qty || p->day_sell_qty)
            cJSON_AddItemToArray (day, sim_json_position (p, ctx->instr, true));
    }
    s_ok (c->r, data);
}

static void
s_holdings (struct s_call *c)
{
    s_ok (c->r, cJSON_CreateArray ());
}

// ---- market data ----------------------------------------------------------------------------

static void
s_instruments (struct s_call *c)
{
    const kt_instr_table_t *t = c->ctx->instr;
    const char *filter = c->nseg == 2 ? c->seg[1] : NULL;
    size_t n = kt_instr_count (t), cap = 256 + n * 160, len = 0;
    char *csv = malloc (cap);
    if (!csv)
        abort ();
    len = (size_t) snprintf (csv, cap, "%s\n", KT_INSTR_CSV_HEADER);
    for (size_t i = 0; i < n; i++) {
        const struct kt_instr *in = kt_instr_at (t, i);
        if (filter && strcmp (in->exchange, filter) != 0 && strcmp (in->segment, filter) != 0)
            continue;
        if (cap - len < 512) {
            cap *= 2;
            char *grown = realloc (csv, cap);
            if (!grown)
                abort ();
            csv = grown;
        }
        int w = kt_instr_format_row (in, csv + len, cap - len - 1);
        if (w < 0)
            continue;
        len += (size_t) w;
        csv[len++] = '\n';
    }
    s_answer_raw (c->r, 200, "text/csv", csv, len);
    free (csv);
}

//  "yyyy-mm-dd hh:mm:ss" or "yyyy-mm-dd" (IST) -> ns. Returns 0 or -1.
static int
s_parse_ist (const char *s, int64_t *out)
{
    int y, mo, d, hh = 0, mi = 0, ss = 0;
    char tail;
    size_t len = s ? strlen (s) : 0;
    if (len == 10 && sscanf (s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3)
        ;
    else if (len == 19 &&
             (sscanf (s, "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &d, &hh, &mi, &ss, &tail) == 6 ||
              sscanf (s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &hh, &mi, &ss, &tail) == 6))
        ;
    else
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 59)
        return -1;
    *out = kt_ist_ns (y, mo, d, hh, mi, ss);
    return 0;
}

//  Interval in minutes (1440 = day), or 0 if unknown.
static int
s_interval_min (const char *s)
{
    static const struct {
        const char *name;
        int minutes;
    } map[] = {
        {"minute", 1},    {"3minute", 3},   {"5minute", 5},   {"10minute", 10},
        {"15minute", 15}, {"30minute", 30}, {"60minute", 60}, {"day", 1440},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp (s, map[i].name) == 0)
            return map[i].minutes;
    return 0;
}

//  Bucket start of a minute candle for an interval: N-minute buckets count from
//  09:15 IST (as Kite's), day buckets start at midnight.
static int64_t
s_bucket (int64_t start_ns, int minutes)
{
    int64_t day = kt_ist_day_start (start_ns);
    if (minutes == 1440)
        return day;
    int64_t open = day + (9 * 60 + 15) * KT_NS_PER_MIN;
    int64_t span = (int64_t) minutes * KT_NS_PER_MIN;
    int64_t off = start_ns - open;
    int64_t k = off >= 0 ? off / span : -((-off + span - 1) / span);
    return open + k * span;
}

static void
s_historical (struct s_call *c)
{
    struct s_req *r = c->r;
    sim_t *ctx = c->ctx;
    char *end = NULL;
    unsigned long long tok = strtoull (c->seg[2], &end, 10);
    int minutes = s_interval_min (c->seg[3]);
    int64_t from = 0, to = 0;
    if (!*c->seg[2] || *end || tok == 0 || tok > UINT32_MAX ||
        !kt_instr_by_token (ctx->instr, (uint32_t) tok)) {
        s_err (r, 400, "InputException", "Invalid `instrument_token`.");
        return;
    }
    if (!minutes) {
        s_err (r, 400, "InputException", "Invalid `interval`.");
        return;
    }
    if (s_parse_ist (sim_form_get (&r->form, "from"), &from) != 0 ||
        s_parse_ist (sim_form_get (&r->form, "to"), &to) != 0) {
        s_err (r, 400, "InputException", "Invalid `from` or `to`: use yyyy-mm-dd hh:mm:ss.");
        return;
    }
    if (to < from) {
        s_err (r, 400, "InputException", "`from` must not be after `to`.");
        return;
    }
    const char *oi = sim_form_get (&r->form, "oi");
    bool with_oi = oi && strcmp (oi, "1") == 0;
    //  A minute bucket overlapping `from` counts; fetch from the bucket start on.
    int64_t fetch_from = minutes == 1 ? from : s_bucket (from, minutes);
    int64_t max = (to - fetch_from) / KT_NS_PER_MIN + 1;
    if (max > S_CANDLES_MAX)
        max = S_CANDLES_MAX;
    struct sim_candle *mc = calloc ((size_t) max, sizeof *mc);
    if (!mc)
        abort ();
    int n = sim_venue_candles (ctx->venue, (uint32_t) tok, fetch_from, to, mc, (int) max);
    cJSON *data = cJSON_CreateObject ();
    cJSON *arr = cJSON_AddArrayToObject (data, "candles");
    struct sim_candle agg = {0};
    bool open = false;
    for (int i = 0; i < n; i++) {
        int64_t b = minutes == 1 ? mc[i].start_ns : s_bucket (mc[i].start_ns, minutes);
        if (open && b != agg.start_ns) {
            if (agg.start_ns >= fetch_from)
                cJSON_AddItemToArray (arr, sim_json_candle (&agg, with_oi));
            open = false;
        }
        if (!open) {
            agg = mc[i];
            agg.start_ns = b;
            open = true;
            continue;
        }
        agg.h = mc[i].h > agg.h ? mc[i].h : agg.h;
        agg.l = mc[i].l < agg.l ? mc[i].l : agg.l;
        agg.c = mc[i].c;
        agg.volume += mc[i].volume;
        agg.oi = mc[i].oi;
    }
    if (open)
        cJSON_AddItemToArray (arr, sim_json_candle (&agg, with_oi));
    free (mc);
    s_ok (r, data);
}

typedef cJSON *(s_quote_fn) (const struct sim_quote *q);

//  Resolve "EXCH:SYMBOL" or a bare token to a snapshot, or NULL.
static const struct sim_quote *
s_lookup (sim_t *ctx, const char *key)
{
    const char *colon = strchr (key, ':');
    if (!colon) {
        char *end = NULL;
        unsigned long long tok = strtoull (key, &end, 10);
        if (!*key || *end || tok == 0 || tok > UINT32_MAX)
            return NULL;
        return sim_venue_quote (ctx->venue, (uint32_t) tok);
    }
    char exch[16];
    size_t elen = (size_t) (colon - key);
    if (elen == 0 || elen >= sizeof exch)
        return NULL;
    memcpy (exch, key, elen);
    exch[elen] = '\0';
    const struct kt_instr *in = kt_instr_by_sym (ctx->instr, exch, colon + 1);
    return in ? sim_venue_quote (ctx->venue, in->token) : NULL;
}

static void
s_quotes (struct s_call *c, s_quote_fn *fn, size_t limit)
{
    struct s_req *r = c->r;
    size_t asked = 0;
    for (size_t i = 0; i < r->form.count; i++)
        asked += strcmp (r->form.pairs[i].key, "i") == 0;
    if (asked == 0) {
        s_err (r, 400, "InputException", "Missing `i`: give instruments as i=EXCHANGE:SYMBOL.");
        return;
    }
    if (asked > limit) {
        char msg[KT_TEXT_LEN];
        snprintf (msg, sizeof msg, "Too many instruments: at most %zu per request.", limit);
        s_err (r, 400, "InputException", msg);
        return;
    }
    cJSON *data = cJSON_CreateObject ();
    for (size_t i = 0; i < r->form.count; i++) {
        const struct sim_form_pair *p = &r->form.pairs[i];
        if (strcmp (p->key, "i") != 0 || cJSON_GetObjectItemCaseSensitive (data, p->val))
            continue;
        const struct sim_quote *q = s_lookup (c->ctx, p->val);
        if (q)
            cJSON_AddItemToObject (data, p->val, fn (q));
    }
    s_ok (r, data);
}

static void
s_quote (struct s_call *c)
{
    if (c->nseg == 1)
        s_quotes (c, sim_json_quote, 500);
    else if (strcmp (c->seg[1], "ohlc") == 0)
        s_quotes (c, sim_json_ohlc, 1000);
    else
        s_quotes (c, sim_json_ltp, 1000);
}

// ---- admin -----------------------------------------------------------------------------------

static cJSON *
s_clock_info (sim_t *ctx)
{
    int64_t now = sim_now_ns (ctx);
    char ts[32];
    kt_ist_format (now, ts, sizeof ts);
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddStringToObject (o, "now", ts);
    char num[24];
    snprintf (num, sizeof num, "%" PRId64, now);
    cJSON_AddItemToObject (o, "now_ns", cJSON_CreateRaw (num));
    cJSON_AddBoolToObject (o, "paused", ctx->clock.paused);
    snprintf (num, sizeof num, "%" PRId64, ctx->clock.speed_ppm);
    cJSON_AddItemToObject (o, "speed_ppm", cJSON_CreateRaw (num));
    snprintf (num, sizeof num, "%" PRId64, ctx->ticks);
    cJSON_AddItemToObject (o, "ticks", cJSON_CreateRaw (num));
    cJSON_AddNumberToObject (o, "ws_connections", sim_ws_connections (ctx->ws));
    return o;
}

//  "HH:MM[:SS]" on the session's day, or a whole number of ns since the epoch.
static int
s_parse_when (sim_t *ctx, const char *s, int64_t *out)
{
    int hh, mi, ss = 0;
    char tail;
    size_t len = strlen (s);
    if ((len == 5 && sscanf (s, "%2d:%2d%c", &hh, &mi, &tail) == 2) ||
        (len == 8 && sscanf (s, "%2d:%2d:%2d%c", &hh, &mi, &ss, &tail) == 3)) {
        if (hh > 23 || mi > 59 || ss > 59 || hh < 0 || mi < 0 || ss < 0)
            return -1;
        int64_t day = kt_ist_day_start (sim_venue_open_ns (ctx->venue));
        *out = day + ((int64_t) hh * 3600 + mi * 60 + ss) * KT_NS_PER_SEC;
        return 0;
    }
    char *end = NULL;
    long long ns = strtoll (s, &end, 10);
    if (!*s || *end || ns <= 0)
        return -1;
    *out = ns;
    return 0;
}

static void
s_admin_clock (struct s_call *c)
{
    struct s_req *r = c->r;
    sim_t *ctx = c->ctx;
    char msg[KT_TEXT_LEN] = "";
    if (strcmp (r->method, "POST") == 0) {
        const char *action = sim_form_get (&r->form, "action");
        const char *step = sim_form_get (&r->form, "step_to");
        const char *speed = sim_form_get (&r->form, "speed");
        int64_t arg = 0;
        int rc = 0;
        if (step) {
            if (s_parse_when (ctx, step, &arg) != 0) {
                s_err (r, 400, "InputException", "`step_to` must be HH:MM[:SS] or ns");
                return;
            }
            rc = sim_set_clock (ctx, "step", arg, msg, sizeof msg);
        } else if (speed) {
            char *end = NULL;
            double x = strtod (speed, &end);
            if (!*speed || *end || !(x > 0) || x > 1e6) {
                s_err (r, 400, "InputException", "`speed` must be a number in (0, 1000000]");
                return;
            }
            rc = sim_set_clock (ctx, "speed", (int64_t) (x * 1e6 + 0.5), msg, sizeof msg);
        } else if (action)
            rc = sim_set_clock (ctx, action, 0, msg, sizeof msg);
        else {
            s_err (r, 400, "InputException", "give `action` (pause|resume), `step_to` or `speed`");
            return;
        }
        if (rc != 0) {
            s_err (r, 400, "InputException", msg);
            return;
        }
    }
    s_ok (r, s_clock_info (ctx));
}

//  POST /_admin/rate: class=orders|quote|historical|other|all, per_sec=N (benchmarks
//  measure kite-sim itself, not Kite's limits).
static void
s_admin_rate (struct s_call *c)
{
    struct s_req *r = c->r;
    const char *cls = sim_form_get (&r->form, "class");
    const char *ps = sim_form_get (&r->form, "per_sec");
    char *end = NULL;
    long long n = ps ? strtoll (ps, &end, 10) : 0;
    if (!cls || !ps || !*ps || *end || n < 1 || n > 100000000) {
        s_err (r, 400, "InputException", "give `class` and `per_sec` (1..100000000)");
        return;
    }
    static const char *const names[SIM_RATE_CLASSES] = {"orders", "quote", "historical", "other"};
    bool all = strcmp (cls, "all") == 0, any = all;
    for (int i = 0; i < SIM_RATE_CLASSES; i++)
        if (all || strcmp (cls, names[i]) == 0) {
            sim_rate_set (&c->ctx->rate, (sim_rate_class_t) i, n);
            any = true;
        }
    if (!any) {
        s_err (r, 400, "InputException", "unknown `class`");
        return;
    }
    s_ok (r, cJSON_CreateTrue ());
}

static void
s_admin_fault (struct s_call *c)
{
    struct s_req *r = c->r;
    sim_t *ctx = c->ctx;
    struct sim_fault_action act;
    char msg[KT_TEXT_LEN];
    if (sim_fault_admin (&ctx->fault, &r->form, kt_clock_wall_mono_ns (), &act, msg, sizeof msg) !=
        0) {
        s_err (r, 400, "InputException", msg);
        return;
    }
    switch (act.kind) {
        case SIM_FAULT_ACT_EXPIRE:
            sim_auth_expire_all (ctx->auth);
            break;
        case SIM_FAULT_ACT_RMS:
            sim_venue_fault_rms_reject (ctx->venue, act.message);
            break;
        case SIM_FAULT_ACT_WS_DROP:
            sim_ws_drop_all (ctx->ws);
            break;
        case SIM_FAULT_ACT_POSITION:
            if (sim_venue_fault_position (ctx->venue, act.sym, act.qty) != 0) {
                s_err (r, 400, "InputException", "unknown `tradingsymbol`");
                return;
            }
            break;
        default:
            break;
    }
    kt_log_info ("fault.set", KT_S ("kind", sim_form_get (&r->form, "kind")), KT_END);
    s_ok (r, cJSON_CreateTrue ());
}

// ---- routing ---------------------------------------------------------------------------------

typedef void (s_handler_fn) (struct s_call *c);

struct s_route {
    const char *method;
    const char *pattern; //  segments; "*" matches any one segment
    s_handler_fn *fn;
    bool noauth;
    bool place; //  an order placement (drop fault applies)
};

static const struct s_route s_routes[] = {
    {"POST", "session/token", s_session_token, true, false},
    {"DELETE", "session/token", s_session_logout, true, false},
    {"GET", "user/profile", s_profile, false, false},
    {"GET", "user/margins", s_margins, false, false},
    {"GET", "user/margins/*", s_margins, false, false},
    {"POST", "orders/*", s_place, false, true},
    {"PUT", "orders/*/*", s_modify, false, false},
    {"DELETE", "orders/*/*", s_cancel, false, false},
    {"GET", "orders", s_orders, false, false},
    {"GET", "orders/*", s_order_history, false, false},
    {"GET", "orders/*/trades", s_order_trades, false, false},
    {"GET", "trades", s_trades, false, false},
    {"GET", "portfolio/positions", s_positions, false, false},
    {"GET", "portfolio/holdings", s_holdings, false, false},
    {"GET", "instruments", s_instruments, false, false},
    {"GET", "instruments/historical/*/*", s_historical, false, false},
    {"GET", "instruments/*", s_instruments, false, false},
    {"GET", "quote", s_quote, false, false},
    {"GET", "quote/ohlc", s_quote, false, false},
    {"GET", "quote/ltp", s_quote, false, false},
    {NULL, NULL, NULL, false, false}};

//  Split path into segments in c. Returns 0, or -1 if too long or too deep.
static int
s_split (struct s_call *c, const char *path)
{
    c->nseg = 0;
    if (strlen (path) >= sizeof c->segbuf)
        return -1;
    snprintf (c->segbuf, sizeof c->segbuf, "%s", path);
    char *save = NULL;
    for (char *t = strtok_r (c->segbuf, "/", &save); t; t = strtok_r (NULL, "/", &save)) {
        if (c->nseg == S_SEGS)
            return -1;
        c->seg[c->nseg++] = t;
    }
    return 0;
}

static bool
s_match (const struct s_call *c, const char *pattern)
{
    char buf[64];
    snprintf (buf, sizeof buf, "%s", pattern);
    char *save = NULL;
    int i = 0;
    for (char *t = strtok_r (buf, "/", &save); t; t = strtok_r (NULL, "/", &save), i++)
        if (i >= c->nseg || (strcmp (t, "*") != 0 && strcmp (t, c->seg[i]) != 0))
            return false;
    return i == c->nseg;
}

//  Find the route; *path_known says whether some route has this path (for 405).
static const struct s_route *
s_find (const struct s_call *c, const char *method, bool *path_known)
{
    *path_known = false;
    for (const struct s_route *rt = s_routes; rt->method; rt++) {
        if (!s_match (c, rt->pattern))
            continue;
        *path_known = true;
        if (strcmp (rt->method, method) == 0)
            return rt;
    }
    return NULL;
}

//  The version header must say 3 (kite-protocol.md 1.1).
static bool
s_version_ok (struct lws *wsi)
{
    char v[16];
    int n = lws_hdr_custom_copy (wsi, v, sizeof v, "x-kite-version:", 15);
    if (n <= 0)
        return false;
    const char *p = v;
    while (*p == ' ' || *p == '\t')
        p++;
    return strncmp (p, "3", 1) == 0 && (p[1] == '\0' || p[1] == ' ' || p[1] == '\r');
}

//  Handle one complete request; leaves an answer in r, or returns -1 to hang up.
static int
s_dispatch (sim_t *ctx, struct s_req *r)
{
    struct s_call c = {.ctx = ctx, .r = r};
    if (s_split (&c, r->path) != 0) {
        s_err (r, 404, "GeneralException", "Route not found");
        return 0;
    }
    if (r->body_too_big) {
        s_err (r, 413, "InputException", "Request body too large");
        return 0;
    }
    if (c.nseg >= 1 && strcmp (c.seg[0], "_admin") == 0) {
        if (c.nseg == 2 && strcmp (c.seg[1], "clock") == 0)
            s_admin_clock (&c);
        else if (c.nseg == 2 && strcmp (c.seg[1], "fault") == 0 && strcmp (r->method, "POST") == 0)
            s_admin_fault (&c);
        else if (c.nseg == 2 && strcmp (c.seg[1], "rate") == 0 && strcmp (r->method, "POST") == 0)
            s_admin_rate (&c);
        else
            s_err (r, 404, "GeneralException", "Route not found");
        r->ready = true;
        return 0;
    }
    bool path_known = false;
    const struct s_route *rt = s_find (&c, r->method, &path_known);
    if (!rt) {
        if (path_known)
            s_err (r, 405, "GeneralException", "Method not allowed");
        else
            s_err (r, 404, "GeneralException", "Route not found");
        r->ready = true;
        return 0;
    }
    //  Bring the market to this instant first, so that orders and reads see the same
    //  state as the ticks sent so far.
    sim_step (ctx);
    int64_t wall = kt_clock_wall_mono_ns ();
    struct sim_fault_verdict v = {0};
    char msg[KT_TEXT_LEN];
    if (!s_version_ok (r->wsi)) {
        s_err (r, 400, "InputException", "Missing or unsupported `X-Kite-Version` header: use 3.");
        goto answer;
    }
    if (!rt->noauth) {
        char auth[512];
        int n = lws_hdr_copy (r->wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION);
        if (sim_auth_header (ctx->auth, n > 0 ? auth : NULL, sim_now_ns (ctx), msg, sizeof msg)) {
            s_err (r, 403, "TokenException", msg);
            goto answer;
        }
    }
    if (!sim_rate_take (&ctx->rate, sim_rate_class_of (r->method, r->path), wall)) {
        s_err (r, 429, "NetworkException", "Too many requests");
        goto answer;
    }
    v = sim_fault_check (&ctx->fault, r->method, r->path, rt->place);
    if (v.status && !v.after) {
        s_err (r, v.status, v.error_type, v.message);
        goto answer;
    }
    rt->fn (&c);
    if (v.drop) {
        kt_log_info ("fault.drop", KT_S ("path", r->path), KT_END);
        return -1;
    }
    if (v.status)
        s_err (r, v.status, v.error_type, v.message);
answer:
    if (v.delay_ms > 0) {
        r->sul_armed = true;
        lws_sul_schedule (lws_get_context (r->wsi), 0, &r->sul, s_sul_fire,
                          v.delay_ms * LWS_US_PER_MS);
        return 0;
    }
    r->ready = true;
    return 0;
}

// ---- lws protocol ----------------------------------------------------------------------------

static const char *
s_method (struct lws *wsi)
{
    if (lws_hdr_total_length (wsi, WSI_TOKEN_GET_URI))
        return "GET";
    if (lws_hdr_total_length (wsi, WSI_TOKEN_POST_URI))
        return "POST";
    if (lws_hdr_total_length (wsi, WSI_TOKEN_PUT_URI))
        return "PUT";
    if (lws_hdr_total_length (wsi, WSI_TOKEN_DELETE_URI))
        return "DELETE";
    if (lws_hdr_total_length (wsi, WSI_TOKEN_PATCH_URI))
        return "PATCH";
    if (lws_hdr_total_length (wsi, WSI_TOKEN_HEAD_URI))
        return "HEAD";
    return "OTHER";
}

//  Whether lws will deliver a body for this request (mirrors lws 4.1's rules: POST
//  always gets BODY_COMPLETION; others only with a non-zero Content-Length, or PUT/PATCH
//  without one).
static bool
s_wants_body (struct lws *wsi, const char *method)
{
    if (strcmp (method, "POST") == 0)
        return true;
    char cl[32];
    if (lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        lws_hdr_copy (wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
        return atoll (cl) > 0;
    return strcmp (method, "PUT") == 0 || strcmp (method, "PATCH") == 0;
}

static int
s_begin (sim_t *ctx, struct lws *wsi, struct s_req *r, const char *uri, size_t len)
{
    s_reset (r);
    r->wsi = wsi;
    r->active = true;
    snprintf (r->method, sizeof r->method, "%s", s_method (wsi));
    if (len >= sizeof r->path)
        len = sizeof r->path - 1;
    memcpy (r->path, uri, len);
    r->path[len] = '\0';
    char frag[4096];
    for (int i = 0; lws_hdr_copy_fragment (wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
         i++) {
        char *eq = strchr (frag, '=');
        size_t klen = eq ? (size_t) (eq - frag) : strlen (frag);
        const char *val = eq ? eq + 1 : "";
        sim_form_add (&r->form, frag, klen, val, strlen (val));
    }
    if (s_wants_body (wsi, r->method))
        return 0; //  dispatched at LWS_CALLBACK_HTTP_BODY_COMPLETION
    if (s_dispatch (ctx, r) != 0)
        return -1;
    if (r->ready)
        lws_callback_on_writable (wsi);
    return 0;
}

static int
s_body (struct s_req *r, const void *in, size_t len)
{
    if (r->body_too_big || r->body_len + len > S_BODY_MAX) {
        r->body_too_big = true;
        return 0;
    }
    char *b = realloc (r->body, r->body_len + len + 1);
    if (!b)
        abort ();
    r->body = b;
    memcpy (r->body + r->body_len, in, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

static int
s_body_done (sim_t *ctx, struct s_req *r)
{
    if (r->body_len && sim_form_parse (&r->form, r->body, r->body_len) != 0) {
        s_err (r, 400, "InputException", "Malformed form body");
        r->ready = true;
    } else if (s_dispatch (ctx, r) != 0)
        return -1;
    if (r->ready)
        lws_callback_on_writable (r->wsi);
    return 0;
}

static int
s_writeable (struct lws *wsi, struct s_req *r)
{
    if (!r->active || !r->ready || !r->resp)
        return 0;
    if (!r->headers_sent) {
        unsigned char buf[LWS_PRE + 1024];
        unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
        if (lws_add_http_common_headers (wsi, (unsigned int) r->status, r->ctype,
                                         (lws_filepos_t) r->resp_len, &p, end) ||
            lws_finalize_write_http_header (wsi, start, &p, end))
            return -1;
        r->headers_sent = true;
        lws_callback_on_writable (wsi);
        return 0;
    }
    size_t left = r->resp_len - r->sent, n = left > S_CHUNK ? S_CHUNK : left;
    bool final = n == left;
    //  Bytes before this chunk were already sent, so lws may use them as LWS_PRE.
    unsigned char *at = (unsigned char *) r->resp + LWS_PRE + r->sent;
    if (lws_write (wsi, at, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int) n)
        return -1;
    r->sent += n;
    if (!final) {
        lws_callback_on_writable (wsi);
        return 0;
    }
    s_reset (r);
    return lws_http_transaction_completed (wsi) ? -1 : 0;
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    sim_t *ctx = s_ctx (wsi);
    struct s_req *r = user;
    switch (reason) {
        case LWS_CALLBACK_HTTP:
            return ctx && r ? s_begin (ctx, wsi, r, in, len) : -1;
        case LWS_CALLBACK_HTTP_BODY:
            return r && r->active ? s_body (r, in, len) : 0;
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            return ctx && r && r->active ? s_body_done (ctx, r) : -1;
        case LWS_CALLBACK_HTTP_WRITEABLE:
            return r ? s_writeable (wsi, r) : 0;
        case LWS_CALLBACK_CLOSED_HTTP:
            if (r)
                s_reset (r);
            return 0;
        default:
            return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

static const struct lws_protocols s_protocols[] = {
    {"kite-rest", s_callback, sizeof (struct s_req), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

const struct lws_protocols *
sim_http_protocols (void)
{
    return s_protocols;
}
