/*  strat_warm - warm-up from today's candles and recovery of the strategy's orders
 *  (see strat_warm.h for what and why).
 *
 *  Design: a small state machine on the loop. A timer paces the historical requests
 *  (one in flight, at least S_GAP_MS of wall time apart: Kite allows 3/s); a failed request is
 *  retried, and after S_TRIES failures the whole warm-up starts again later with an
 *  alert (the strategy does not trade on a day it has not seen). When every candle is
 *  in, a 0 ms timer runs the replay and the recovery outside the HTTP callback (the
 *  shell destroys the warm-up, and with it the HTTP client, when it is over). */

#include "strat_warm.h"
#include "strat_base.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NS_MIN (60LL * 1000000000LL)
#define S_GAP_MS 350           //  between historical requests: < 3 per second
#define S_TRIES 5              //  attempts per request before starting again
#define S_RESTART_MS 10000     //  wait before starting again
#define S_TOK_MAX 256          //  index + the universe (2 x (2 x 100 + 1) at most)
#define S_LIVE_MAX 4096        //  live bars kept while warming up
#define S_REC_MAX 64           //  orders and positions of ours found in the book
#define S_ADOPT_ID 0x80000000u //  order ids of book records the replay did not make
#define S_RESP_MAX 1500        //  candles of one answer (a day has 375 minutes)
#define S_TODO_MAX (2 * STRAT_MAP_ORDERS + 1)

//  An entry of ours in the book: an open entry order, or a position whose entry is done.
struct s_rec {
    char coid[KT_ID_LEN];
    char sym[KT_SYM_LEN];
    uint32_t token;
    int64_t since; //  created / opened, ns: the order the replay's PLACEs match in
    bool open;     //  the entry order is still working
    int64_t qty, trigger, price, stop_trigger, filled, avg_px;
    bool matched;
};

struct strat_warm {
    strat_t *s;      //  borrowed
    kt_http_t *http; //  owned
    int32_t day;
    int64_t day_ns, until; //  replay minutes that closed at or before until
    uint32_t tok[S_TOK_MAX];
    int ntok, next, tries;
    bool in_flight;
    int timer;
    struct strat_bar *bars; //  owned: the fetched candles
    int nbars, cap;
    struct strat_bar live[S_LIVE_MAX];
    int nlive;
    int64_t live_dropped;
    struct s_rec rec[S_REC_MAX];
    int nrec;
    bool flatten;
    bool md_tried;   //  md-gateway's md:bars looked at (first choice)
    const char *src; //  where the candles came from: "md:bars", "historical", "none"
    struct strat_bar resp[S_RESP_MAX];    //  one answer's candles (one request in flight)
    struct strat_intent todo[S_TODO_MAX]; //  what recovery sends
};

// ---- pure parts ---------------------------------------------------------------------

int
strat_warm_universe (const kt_instr_table_t *instr, const struct strat_params *p, int32_t day,
                     int64_t index_open, uint32_t *tokens, int max)
{
    int64_t atm = (index_open + p->strike_step / 2) / p->strike_step * p->strike_step;
    int32_t expiry = kt_instr_nearest_expiry (instr, p->underlying, day);
    if (!expiry)
        return 0;
    int64_t lo = atm - p->strikes_each_side * p->strike_step;
    int64_t hi = atm + p->strikes_each_side * p->strike_step;
    int n = 0;
    size_t count = kt_instr_count (instr);
    for (size_t i = 0; i < count && n < max; i++) {
        const struct kt_instr *in = kt_instr_at (instr, i);
        if ((in->itype != KT_ITYPE_CE && in->itype != KT_ITYPE_PE) || in->expiry != expiry ||
            in->strike < lo || in->strike > hi || in->tick <= 0 || in->lot <= 0 ||
            kt_instr_option (instr, p->underlying, in->expiry, in->strike, in->itype) != in)
            continue;
        tokens[n++] = in->token;
    }
    return n;
}

static const char *
s_ws (const char *p, const char *end)
{
    while (p < end && isspace ((unsigned char) *p))
        p++;
    return p;
}

//  A JSON number token [p, *q).
static int
s_number (const char *p, const char *end, const char **q)
{
    const char *e = p;
    while (e < end && (isdigit ((unsigned char) *e) || *e == '-' || *e == '+' || *e == '.'))
        e++;
    *q = e;
    return e > p ? 0 : -1;
}

//  "YYYY-MM-DDTHH:MM:SS+0530" (or +05:30).
static int
s_kite_ts (const char *s, size_t len, int64_t *ns)
{
    int y, mo, d, hh, mi, ss, n = 0;
    char tail[16] = "";
    if (len >= 40)
        return -1;
    char buf[40];
    memcpy (buf, s, len);
    buf[len] = '\0';
    if (sscanf (buf, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &hh, &mi, &ss, &n) != 6)
        return -1;
    snprintf (tail, sizeof tail, "%s", buf + n);
    if (strcmp (tail, "+0530") != 0 && strcmp (tail, "+05:30") != 0)
        return -1;
    *ns = kt_ist_ns (y, mo, d, hh, mi, ss);
    return 0;
}

int
strat_warm_parse (const char *body, size_t len, uint32_t token, struct strat_bar *bars, int max,
                  char *err, size_t errlen)
{
    const char *end = body + len;
    const char *p = body;
    const char *key = NULL;
    for (const char *c = body; c + 9 <= end && !key; c++)
        if (memcmp (c, "\"candles\"", 9) == 0)
            key = c + 9;
    if (!key) {
        snprintf (err, errlen, "no data.candles in the answer");
        return -1;
    }
    p = s_ws (key, end);
    if (p >= end || *p != ':' || (p = s_ws (p + 1, end)) >= end || *p != '[') {
        snprintf (err, errlen, "candles: expected an array");
        return -1;
    }
    p++;
    int n = 0;
    for (int row = 0;; row++) {
        p = s_ws (p, end);
        if (p < end && *p == ']')
            return n;
        if (row > 0) {
            if (p >= end || *p != ',') {
                snprintf (err, errlen, "candle %d: expected ',' or ']'", row);
                return -1;
            }
            p = s_ws (p + 1, end);
        }
        if (p >= end || *p != '[' || (p = s_ws (p + 1, end)) >= end || *p != '"') {
            snprintf (err, errlen, "candle %d: expected [\"timestamp\", ...]", row);
            return -1;
        }
        const char *ts = ++p;
        while (p < end && *p != '"')
            p++;
        struct strat_bar b = {.token = token};
        if (p >= end || s_kite_ts (ts, (size_t) (p - ts), &b.ts) != 0) {
            snprintf (err, errlen, "candle %d: bad timestamp", row);
            return -1;
        }
        p++;
        int64_t v[7] = {0};
        int nv = 0;
        for (;;) {
            p = s_ws (p, end);
            if (p < end && *p == ']') {
                p++;
                break;
            }
            const char *q;
            if (p >= end || *p != ',' || nv >= 6 || s_number (s_ws (p + 1, end), end, &q) != 0) {
                snprintf (err, errlen, "candle %d: expected 5 or 6 numbers", row);
                return -1;
            }
            const char *num = s_ws (p + 1, end);
            int rc;
            if (nv < 4)
                rc = kt_money_parse_exact (num, (size_t) (q - num), &v[nv]);
            else {
                char *e2;
                char tmp[32];
                size_t l =
                    (size_t) (q - num) < sizeof tmp - 1 ? (size_t) (q - num) : sizeof tmp - 1;
                memcpy (tmp, num, l);
                tmp[l] = '\0';
                v[nv] = strtoll (tmp, &e2, 10);
                rc = (*e2 && strspn (e2, ".0") != strlen (e2)) || v[nv] < 0 ? -1 : 0;
            }
            if (rc != 0) {
                snprintf (err, errlen, "candle %d: value %d is not exact", row, nv + 1);
                return -1;
            }
            nv++;
            p = q;
        }
        if (nv < 5) {
            snprintf (err, errlen, "candle %d: expected 5 or 6 numbers", row);
            return -1;
        }
        b.open = v[0];
        b.high = v[1];
        b.low = v[2];
        b.close = v[3];
        b.volume = v[4];
        if (n < max)
            bars[n++] = b;
    }
}

static void s_add_bars (strat_warm_t *self, const struct strat_bar *b, int n);

int
strat_warm_parse_md_bar (const char *const *kv, const size_t *kvlen, size_t n, uint32_t token,
                         struct strat_bar *out)
{
    //  The six fields a bar cannot do without; vwap and ticks are not used here.
    static const char *const need[] = {"start_ns", "o", "h", "l", "c", "volume"};
    struct kt_bar bar;
    memset (&bar, 0, sizeof bar);
    unsigned seen = 0;
    char why[96];
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (kt_schema_set (&kt_key_md_bars, &bar, kv[i], kvlen[i], kv[i + 1], kvlen[i + 1], why,
                           sizeof why) < 0)
            return -1;
        for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
            if (kvlen[i] == strlen (need[k]) && memcmp (kv[i], need[k], kvlen[i]) == 0)
                seen |= 1u << k;
    }
    if (seen != (1u << (sizeof need / sizeof need[0])) - 1 || bar.start_ns <= 0 || bar.l <= 0 ||
        bar.h < bar.l || bar.volume < 0)
        return -1;
    *out = (struct strat_bar){.token = token,
                              .ts = bar.start_ns,
                              .open = bar.o,
                              .high = bar.h,
                              .low = bar.l,
                              .close = bar.c,
                              .volume = bar.volume};
    return 0;
}

//  md:bars:<token> into the candles. Returns the bars of today's session read, or -1
//  (Redis unavailable, a row that does not parse: why).
static int
s_md_bars (strat_warm_t *self, uint32_t token, int64_t *first, char *why, size_t whylen)
{
    kt_store_t *st = kt_proc_store (strat_proc (self->s));
    char tok[16];
    snprintf (tok, sizeof tok, "%u", token);
    struct kt_skey key = kt_schema_key (kt_store_prefix (st), &kt_key_md_bars, tok);
    const char *argv[] = {"XRANGE", key.s, "-", "+"};
    kt_store_result_t r = kt_store_call (st, 4, argv, NULL);
    int n = 0;
    *first = 0;
    if (r.kind != KT_STORE_ARR) {
        snprintf (why, whylen, "md:bars:%s: %.120s", tok,
                  r.kind == KT_STORE_NIL ? "missing" : r.str);
        n = r.kind == KT_STORE_NIL ? 0 : -1;
    }
    for (size_t i = 0; r.kind == KT_STORE_ARR && i < r.elements && n < S_RESP_MAX; i++) {
        //  An entry: [id, [field, value, ...]].
        kt_store_result_t e = kt_store_result_at (&r, i);
        kt_store_result_t f = kt_store_result_at (&e, 1);
        const char *kv[2 * KT_SCHEMA_FIELDS_MAX];
        size_t kvlen[2 * KT_SCHEMA_FIELDS_MAX];
        size_t nkv = 0;
        for (size_t j = 0;
             f.kind == KT_STORE_ARR && j < f.elements && nkv < 2 * KT_SCHEMA_FIELDS_MAX; j++) {
            kt_store_result_t x = kt_store_result_at (&f, j);
            kv[nkv] = x.kind == KT_STORE_STR ? x.str : "";
            kvlen[nkv++] = x.kind == KT_STORE_STR ? x.len : 0;
        }
        struct strat_bar b;
        if (f.kind != KT_STORE_ARR || strat_warm_parse_md_bar (kv, kvlen, nkv, token, &b) != 0) {
            snprintf (why, whylen, "md:bars:%s: row %zu does not parse", tok, i);
            n = -1;
            break;
        }
        if (b.ts < self->day_ns || b.ts + S_NS_MIN > self->until)
            continue;
        if (!*first)
            *first = b.ts;
        self->resp[n++] = b;
    }
    kt_store_result_free (&r);
    if (n > 0)
        s_add_bars (self, self->resp, n);
    return n;
}

//  md-gateway keeps every final bar of the day in md:bars:<token>: when the index's list
//  starts at the session's first minute, the whole warm-up is read from Redis (the index,
//  the day's universe as the core picks it, and md-gateway's subscribed universe,
//  md:universe). Otherwise (md-gateway started mid-day, Redis unavailable) Kite's
//  historical endpoint is asked. Returns 0 when the candles are in, -1 to fetch.
static int
s_from_md (strat_warm_t *self)
{
    const struct strat_params *p = &strat_cfg_of (self->s)->p;
    char why[256] = "";
    int64_t first = 0;
    self->nbars = 0;
    int n = s_md_bars (self, (uint32_t) p->index_token, &first, why, sizeof why);
    int64_t start = self->day_ns + (int64_t) strat_hhmm_minutes (p->day_start) * S_NS_MIN;
    if (n <= 0 || first != start) {
        kt_log_info ("strat.warm.md_bars", KT_S ("use", "historical"),
                     KT_S ("why", n < 0    ? why
                                  : n == 0 ? "no index bars of today"
                                           : "md-gateway started after the first minute"),
                     KT_END);
        self->nbars = 0;
        return -1;
    }
    self->ntok = 1 + strat_warm_universe (strat_instr (self->s), p, self->day, self->bars[0].open,
                                          self->tok + 1, S_TOK_MAX - 1);
    //  md-gateway's subscriptions too (a superset the core ignores where it must)
    kt_store_t *st = kt_proc_store (strat_proc (self->s));
    struct kt_skey ukey = kt_schema_key (kt_store_prefix (st), &kt_key_md_universe, NULL);
    const char *argv[] = {"HKEYS", ukey.s};
    kt_store_result_t r = kt_store_call (st, 2, argv, NULL);
    for (size_t i = 0; r.kind == KT_STORE_ARR && i < r.elements && self->ntok < S_TOK_MAX; i++) {
        kt_store_result_t e = kt_store_result_at (&r, i);
        char buf[16];
        if (e.kind != KT_STORE_STR || e.len == 0 || e.len >= sizeof buf)
            continue;
        memcpy (buf, e.str, e.len);
        buf[e.len] = '\0';
        uint32_t t = (uint32_t) strtoul (buf, NULL, 10);
        bool have = false;
        for (int k = 0; k < self->ntok && !have; k++)
            have = self->tok[k] == t;
        if (!have && t)
            self->tok[self->ntok++] = t;
    }
    kt_store_result_free (&r);
    for (int k = 1; k < self->ntok; k++) {
        if (s_md_bars (self, self->tok[k], &first, why, sizeof why) < 0) {
            kt_log_warn ("strat.warm.md_bars", KT_S ("use", "historical"), KT_S ("why", why),
                         KT_END);
            self->nbars = 0;
            self->ntok = 1;
            return -1;
        }
    }
    self->next = self->ntok;
    self->src = "md:bars";
    return 0;
}

// ---- fetching -----------------------------------------------------------------------

static void s_schedule (strat_warm_t *self, int64_t ms);

static void
s_add_bars (strat_warm_t *self, const struct strat_bar *b, int n)
{
    if (self->nbars + n > self->cap) {
        self->cap = (self->nbars + n) * 2;
        self->bars = realloc (self->bars, (size_t) self->cap * sizeof *self->bars);
        if (!self->bars)
            abort ();
    }
    for (int i = 0; i < n; i++)
        if (b[i].ts >= self->day_ns && b[i].ts + S_NS_MIN <= self->until)
            self->bars[self->nbars++] = b[i];
}

static void
s_on_resp (const kt_http_resp_t *r, void *arg)
{
    strat_warm_t *self = arg;
    self->in_flight = false;
    uint32_t token = self->tok[self->next];
    struct strat_bar *buf = self->resp;
    char err[128] = "";
    int n = -1;
    if (r->err != KT_HTTP_OK)
        snprintf (err, sizeof err, "%s: %s", kt_http_err_str (r->err), r->errstr);
    else if (r->status != 200)
        snprintf (err, sizeof err, "HTTP %ld", r->status);
    else
        n = strat_warm_parse (r->body, r->body_len, token, buf, S_RESP_MAX, err, sizeof err);
    int32_t open_at = -1; //  the index's first bar of the session
    const struct strat_params *p = &strat_cfg_of (self->s)->p;
    for (int i = 0; self->next == 0 && i < n && open_at < 0; i++)
        if ((buf[i].ts - self->day_ns) / S_NS_MIN >= strat_hhmm_minutes (p->day_start))
            open_at = i;
    if (self->next == 0 && n >= 0 && open_at < 0) {
        //  Without the day's first index bar the universe is unknown: fail closed.
        snprintf (err, sizeof err, "no index candle of today's session yet");
        n = -1;
    }
    if (n < 0) {
        kt_log_warn ("strat.warm.fetch", KT_I ("token", token), KT_I ("try", self->tries + 1),
                     KT_S ("why", err), KT_END);
        if (++self->tries >= S_TRIES) {
            kt_alert_send (kt_proc_alerts (strat_proc (self->s)), KT_SEV_CRITICAL, "strat.warm",
                           "strategy %s: warm-up: candles of %u: %s; not trading, retrying",
                           strat_cfg_of (self->s)->id, token, err);
            self->nbars = 0;
            self->ntok = 1;
            self->next = 0;
            self->tries = 0;
            s_schedule (self, S_RESTART_MS);
            return;
        }
        s_schedule (self, 1000);
        return;
    }
    self->tries = 0;
    s_add_bars (self, buf, n);
    if (self->next == 0) //  the index: its first bar of the session sets the universe
        self->ntok = 1 + strat_warm_universe (strat_instr (self->s), p, self->day,
                                              buf[open_at].open, self->tok + 1, S_TOK_MAX - 1);
    self->next++;
    s_schedule (self, self->next < self->ntok ? S_GAP_MS : 0);
}

static void
s_fetch (strat_warm_t *self)
{
    const kt_cfg_t *kc = kt_proc_cfg (strat_proc (self->s));
    const struct strat_params *p = &strat_cfg_of (self->s)->p;
    char from[24], to[24], url[512], auth[256];
    int start = strat_hhmm_minutes (p->day_start);
    kt_ist_format (self->day_ns + (int64_t) start * S_NS_MIN, from, sizeof from);
    kt_ist_format (self->until, to, sizeof to);
    from[10] = to[10] = '+'; //  the space of "YYYY-MM-DD HH:MM:SS", URL-encoded
    snprintf (url, sizeof url, "%s/instruments/historical/%u/minute?from=%s&to=%s",
              kc->kite_api_url, self->tok[self->next], from, to);
    snprintf (auth, sizeof auth, "Authorization: token %s:%s", kc->kite_api_key,
              kc->kite_access_token);
    const char *headers[] = {"X-Kite-Version: 3", auth, NULL};
    kt_http_req_t req = {.url = url, .headers = headers, .timeout_ms = 5000};
    if (kt_http_request (self->http, &req, s_on_resp, self) < 0) {
        kt_log_error ("strat.warm.request", KT_S ("url", url), KT_END);
        s_schedule (self, S_RESTART_MS);
        return;
    }
    self->in_flight = true;
}

// ---- replay and recovery ----------------------------------------------------------------

static int
s_cmp_bar (const void *a, const void *b)
{
    const struct strat_bar *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->token < y->token ? -1 : x->token > y->token;
}

static void
s_on_order (const struct kt_order_rec *o, void *arg)
{
    strat_warm_t *self = arg;
    const char *sid = strat_cfg_of (self->s)->id;
    if (o->purpose != KT_PURPOSE_ENTRY || !strat_ids_ours (o->coid, sid) || self->nrec >= S_REC_MAX)
        return;
    struct s_rec *r = &self->rec[self->nrec++];
    memset (r, 0, sizeof *r);
    snprintf (r->coid, sizeof r->coid, "%s", o->coid);
    snprintf (r->sym, sizeof r->sym, "%s", o->sym);
    r->token = (uint32_t) o->token;
    r->since = o->created_ns;
    r->open = true;
    r->qty = o->qty;
    r->trigger = o->trigger;
    r->price = o->price;
    r->stop_trigger = o->stop_trigger;
    r->filled = o->filled_qty;
    r->avg_px = o->avg_px;
}

static void
s_on_pos (const struct kt_pos_rec *p, void *arg)
{
    strat_warm_t *self = arg;
    const char *sid = strat_cfg_of (self->s)->id;
    if (p->qty >= 0 || !strat_ids_ours (p->entry_coid, sid) || self->nrec >= S_REC_MAX)
        return;
    for (int i = 0; i < self->nrec; i++)
        if (strcmp (self->rec[i].coid, p->entry_coid) == 0)
            return; //  its entry is still working: the order's record covers it
    struct s_rec *r = &self->rec[self->nrec++];
    memset (r, 0, sizeof *r);
    snprintf (r->coid, sizeof r->coid, "%s", p->entry_coid);
    snprintf (r->sym, sizeof r->sym, "%s", p->sym);
    r->token = (uint32_t) p->token;
    r->since = p->opened_ns;
    r->qty = r->filled = -p->qty;
    r->avg_px = p->avg_px;
}

static int
s_cmp_rec (const void *a, const void *b)
{
    const struct s_rec *x = a, *y = b;
    return x->since < y->since ? -1 : x->since > y->since;
}

//  Read our entries and positions from the book. Returns 0, or -1 (why).
static int
s_read_book (strat_warm_t *self, char *why, size_t whylen)
{
    kt_store_t *st = kt_proc_store (strat_proc (self->s));
    self->nrec = 0;
    if (kt_book_each_open_order (st, s_on_order, self, NULL, why, whylen) < 0 ||
        kt_book_each_position (st, s_on_pos, self, NULL, why, whylen) < 0)
        return -1;
    qsort (self->rec, (size_t) self->nrec, sizeof self->rec[0], s_cmp_rec);
    return 0;
}

void
strat_warm_intent (strat_warm_t *self, const struct strat_intent *it)
{
    struct strat_map *m = strat_map_of (self->s);
    struct strat_map_order *o = strat_map_by_id (m, it->order_id);
    switch (it->kind) {
        case STRAT_I_PLACE: {
            const struct kt_instr *in = kt_instr_by_token (strat_instr (self->s), it->token);
            o = strat_map_add (m, it, "", in ? in->sym : "");
            if (!o)
                return;
            struct s_rec *r = NULL;
            for (int i = 0; i < self->nrec && !r; i++)
                if (!self->rec[i].matched && self->rec[i].token == it->token)
                    r = &self->rec[i];
            if (!r)
                return; //  never placed (the process was down then): decided at the end
            r->matched = true;
            snprintf (o->coid, sizeof o->coid, "%s", r->coid);
            o->working = r->open;
            if (r->filled > 0) {
                struct strat_exec ev = {STRAT_EV_ENTRY_FILL, it->order_id, it->token, it->ts,
                                        r->filled,           r->avg_px};
                o->filled = r->filled;
                strat_core_exec (strat_core_of (self->s), &ev, strat_out_of (self->s));
            }
            if (!r->open && r->filled < o->qty) {
                //  Its entry is over with less than ordered: the rest is gone.
                struct strat_exec ev = {STRAT_EV_CANCELLED, it->order_id, it->token, it->ts, 0, 0};
                strat_core_exec (strat_core_of (self->s), &ev, strat_out_of (self->s));
            }
            return;
        }
        case STRAT_I_MODIFY:
            if (!o)
                return;
            strat_map_set (o, it);
            return;
        case STRAT_I_CANCEL:
            if (o)
                o->working = false;
            return;
        case STRAT_I_FLATTEN:
            self->flatten = true;
            for (int i = 0; i < STRAT_MAP_ORDERS; i++)
                m->ord[i].working = false;
            return;
        default:
            return;
    }
}

static struct s_rec *
s_rec_of (strat_warm_t *self, const char *coid)
{
    for (int i = 0; coid[0] && i < self->nrec; i++)
        if (strcmp (self->rec[i].coid, coid) == 0)
            return &self->rec[i];
    return NULL;
}

//  The intents that make the book what the core wants now.
static int
s_todo (strat_warm_t *self, struct strat_intent *todo, int max, int64_t now)
{
    struct strat_map *m = strat_map_of (self->s);
    int n = 0;
    for (int i = 0; i < STRAT_MAP_ORDERS && n < max; i++) {
        struct strat_map_order *o = &m->ord[i];
        if (!o->order_id)
            continue;
        struct strat_intent it = {.why = STRAT_WHY_BEST,
                                  .order_id = o->order_id,
                                  .token = o->token,
                                  .itype = o->itype,
                                  .side = KT_SIDE_SELL,
                                  .order_type = KT_OT_SL,
                                  .qty = o->qty,
                                  .trigger = o->trigger,
                                  .price = o->price,
                                  .sl_price = o->sl_price,
                                  .stop_price = o->stop_price,
                                  .swing_low = o->qty ? o->sl_price - o->r_value / o->qty : 0,
                                  .r_value = o->r_value,
                                  .ts = now};
        struct s_rec *r = s_rec_of (self, o->coid);
        if (o->working && !r) {
            //  Wanted, never placed: placed now (s_intent records it afresh).
            it.kind = STRAT_I_PLACE;
            memset (o, 0, sizeof *o);
            todo[n++] = it;
        } else if (o->working && r && r->open &&
                   (r->qty != o->qty || r->trigger != o->trigger || r->price != o->price ||
                    r->stop_trigger != o->sl_price)) {
            it.kind = STRAT_I_MODIFY;
            todo[n++] = it;
        } else if (!o->working && r && r->open) {
            //  The book still has an entry the core no longer wants.
            it.kind = STRAT_I_CANCEL;
            it.why = STRAT_WHY_NONE;
            o->working = true;
            todo[n++] = it;
        }
    }
    //  Book entries the replay never made: cancelled; positions: kept in the map, so
    //  their stops and exits are known and a flatten buys them back.
    for (int i = 0; i < self->nrec; i++) {
        struct s_rec *r = &self->rec[i];
        if (r->matched)
            continue;
        struct strat_intent it = {.kind = STRAT_I_CANCEL,
                                  .order_id = S_ADOPT_ID | (uint32_t) i,
                                  .token = r->token,
                                  .qty = r->qty,
                                  .trigger = r->trigger,
                                  .price = r->price,
                                  .ts = now};
        struct strat_map_order *o = strat_map_add (m, &it, r->coid, r->sym);
        if (!o)
            continue;
        o->filled = r->filled;
        o->working = r->open;
        kt_log_warn ("strat.recover.unmatched", KT_S ("coid", r->coid), KT_S ("sym", r->sym),
                     KT_B ("open", r->open), KT_I ("filled", r->filled), KT_END);
        if (r->open && n < max)
            todo[n++] = it;
    }
    if (self->flatten && n < max)
        todo[n++] = (struct strat_intent){.kind = STRAT_I_FLATTEN, .ts = now};
    return n;
}

static int
s_finish (strat_warm_t *self)
{
    strat_t *s = self->s;
    char why[256];
    if (s_read_book (self, why, sizeof why) != 0) {
        kt_alert_send (kt_proc_alerts (strat_proc (s)), KT_SEV_CRITICAL, "strat.warm",
                       "strategy %s: cannot read the book: %s; not trading, retrying",
                       strat_cfg_of (s)->id, why);
        return -1;
    }
    if (self->nbars > 0)
        qsort (self->bars, (size_t) self->nbars, sizeof self->bars[0], s_cmp_bar);
    //  The index first in each minute, as md-gateway's first bar of the day must be.
    uint32_t index = (uint32_t) strat_cfg_of (s)->p.index_token;
    for (int i = 0; i < self->nbars;) {
        int j = i;
        while (j < self->nbars && self->bars[j].ts == self->bars[i].ts)
            j++;
        for (int k = i; k < j; k++)
            if (self->bars[k].token == index)
                strat_feed_bar (s, &self->bars[k]);
        for (int k = i; k < j; k++)
            if (self->bars[k].token != index)
                strat_feed_bar (s, &self->bars[k]);
        i = j;
    }
    int64_t last = self->nbars ? self->bars[self->nbars - 1].ts : 0;
    for (int i = 0; i < self->nlive; i++)
        if (self->live[i].ts > last)
            strat_feed_bar (s, &self->live[i]);
    //  The minute in hand closes only when it is over (its bars may still be coming).
    int64_t now = kt_proc_now_ns (strat_proc (s));
    int64_t top = self->nlive ? self->live[self->nlive - 1].ts : last;
    if (top && top + S_NS_MIN <= self->until)
        strat_feed_close (s);
    struct strat_intent *todo = self->todo;
    int n = s_todo (self, todo, S_TODO_MAX, now);
    kt_log_info ("strat.warm.done", KT_S ("source", self->src), KT_I ("candles", self->nbars),
                 KT_I ("live", self->nlive), KT_I ("instruments", self->ntok),
                 KT_I ("book", self->nrec), KT_I ("intents", n), KT_END);
    strat_warm_done (s, todo, n); //  destroys self
    return 0;
}

static int
s_on_timer (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    strat_warm_t *self = arg;
    self->timer = 0;
    if (self->in_flight)
        return 0;
    if (!self->md_tried && self->ntok > 0) {
        self->md_tried = true;
        if (s_from_md (self) == 0) {
            s_schedule (self, 0);
            return 0;
        }
        self->src = "historical";
    }
    if (self->next < self->ntok) {
        s_fetch (self);
        return 0;
    }
    if (s_finish (self) != 0) {
        self->nrec = 0;
        s_schedule (self, S_RESTART_MS);
    }
    return 0;
}

//  Run the next step after wall_ms of wall time: Kite's rate limit is in real seconds,
//  while loop timers run on the pipeline clock (60x in sim).
static void
s_schedule (strat_warm_t *self, int64_t wall_ms)
{
    kt_proc_t *proc = strat_proc (self->s);
    kt_loop_t *loop = kt_proc_loop (proc);
    if (self->timer > 0)
        kt_loop_timer_end (loop, self->timer);
    self->timer = kt_loop_timer_wall (loop, wall_ms > 0 ? wall_ms : 0, false, s_on_timer, self);
}

// ---- life -----------------------------------------------------------------------------

strat_warm_t *
strat_warm_new (strat_t *s)
{
    const struct strat_cfg *cfg = strat_cfg_of (s);
    if (strcmp (strat_core_name (strat_core_of (s)), strat_base_algo.name) != 0)
        return NULL; //  the probe strategy keeps no bars
    strat_warm_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->s = s;
    int64_t now = kt_proc_now_ns (strat_proc (s));
    self->day = kt_ist_yyyymmdd (now);
    self->day_ns = kt_ist_day_start (now);
    self->until = now / S_NS_MIN * S_NS_MIN;
    self->src = "none";
    //  Today's candles exist once the session's first minute is over.
    int start = strat_hhmm_minutes (cfg->p.day_start);
    bool fetch = kt_ist_is_weekday (now) && kt_ist_minute_of_day (now) > start;
    if (fetch) {
        self->http = kt_http_new (kt_proc_loop (strat_proc (s)));
        if (!self->http) {
            kt_log_error ("strat.warm.http", KT_END);
            free (self);
            return NULL;
        }
        self->tok[0] = (uint32_t) cfg->p.index_token;
        self->ntok = 1;
    }
    kt_log_info ("strat.warm.start", KT_B ("fetch", fetch), KT_I ("day", self->day), KT_END);
    s_schedule (self, 0);
    return self;
}

void
strat_warm_destroy (strat_warm_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    strat_warm_t *self = *self_p;
    if (self->timer > 0)
        kt_loop_timer_end (kt_proc_loop (strat_proc (self->s)), self->timer);
    kt_http_destroy (&self->http);
    free (self->bars);
    free (self);
    *self_p = NULL;
}

void
strat_warm_live_bar (strat_warm_t *self, const struct strat_bar *bar)
{
    if (self->nlive < S_LIVE_MAX)
        self->live[self->nlive++] = *bar;
    else if (self->live_dropped++ == 0)
        kt_log_error ("strat.warm.live_full", KT_I ("max", S_LIVE_MAX), KT_END);
}

void
strat_warm_exec (strat_warm_t *self, const struct kt_exec_event *ev)
{
    (void) self;
    (void) ev; //  the book is read when the replay starts, after this event was applied
}
