/*  sim_ws - kite-sim's WebSocket ticker: Kite's binary market-data frames, 1-byte
 *  heartbeats, and order updates as text messages.
 *
 *  Used by sim.c (tick and order callbacks from the venue, flush after each market
 *  step) on the ws vhost of the one lws context. Auth is by query string at the
 *  upgrade (403 for a bad token, 429 for a 4th connection of a key). Design overview:
 *  each connection keeps its subscriptions in a fixed open-addressing table (token ->
 *  mode, 4096 slots for Kite's 3000 cap, backward-shift deletion), a frame being built
 *  (packets appended in place, sealed every ws_batch packets or at the end of a market
 *  step) and a FIFO of sealed frames written one per LWS_CALLBACK_SERVER_WRITEABLE, as
 *  lws requires. A tick costs a hash probe and a memcpy per subscriber; a frame costs
 *  one allocation. A client that does not read loses ticks beyond ws_queue_max bytes
 *  (counted and logged) rather than growing memory without bound. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>
#include "sim.h"

#define S_SUB_CAP 4096 //  power of two, > 3000 / 0.75
#define S_RX_MAX 65536 //  largest client message accepted

struct s_frame {
    struct s_frame *next;
    size_t len;
    bool text;
    unsigned char data[]; //  LWS_PRE headroom, then len payload bytes
};

struct s_sub {
    uint32_t token; //  0 = empty slot
    uint8_t mode;
};

struct s_conn {
    struct lws *wsi;     //  borrowed from lws
    struct s_conn *next; //  list of live connections
    bool live;           //  initialised and linked
    bool closing;        //  hang up at the next WRITEABLE
    char api_key[64];
    struct s_sub *subs; //  owned, S_SUB_CAP slots
    int nsubs;
    unsigned char *pend;         //  owned: frame being built (LWS_PRE + 2 + packets)
    size_t pend_len;             //  packet bytes in pend after the N field
    int pend_n;                  //  packets in pend
    struct s_frame *head, *tail; //  owned FIFO of sealed frames
    size_t queued;               //  bytes in the FIFO
    int64_t last_tx_ns;          //  wall mono of the last frame queued
    int64_t dropped;             //  ticks lost to a full queue
    char *rx;                    //  owned: text message being reassembled
    size_t rx_len;
};

struct sim_ws {
    sim_t *ctx;           //  borrowed
    struct s_conn *conns; //  borrowed from lws user space
    int nconns;
    uint32_t toks[SIM_WS_MAX_TOKENS]; //  scratch for one client message
};

// ---- packets --------------------------------------------------------------------------

static void
s_be32 (uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

static void
s_be16 (uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

//  Quantities never reach 2^31 on the wire (kite-protocol.md 6.5).
static uint32_t
s_qty (int64_t v)
{
    return v < 0 ? 0 : v > INT32_MAX ? (uint32_t) INT32_MAX : (uint32_t) v;
}

//  Wire units per paisa: currency segments quote finer than paise (6.4).
static int64_t
s_units (uint32_t token)
{
    int seg = kt_instr_segment_of (token);
    return seg == 3 ? 100000 : seg == 6 ? 100 : 1;
}

static uint32_t
s_px (int64_t paise, int64_t units)
{
    int64_t v = paise * units;
    if (v > INT32_MAX)
        v = INT32_MAX;
    if (v < INT32_MIN)
        v = INT32_MIN;
    return (uint32_t) (int32_t) v;
}

static uint32_t
s_secs (int64_t ns)
{
    return ns > 0 ? (uint32_t) (ns / KT_NS_PER_SEC) : 0;
}

int
sim_ws_pack (const struct sim_quote *q, sim_mode_t mode, uint8_t *out)
{
    int64_t u = s_units (q->token);
    s_be32 (out, q->token);
    s_be32 (out + 4, s_px (q->ltp, u));
    if (mode == SIM_MODE_LTP)
        return 8;
    if (kt_instr_segment_of (q->token) == 9) {
        s_be32 (out + 8, s_px (q->h, u));
        s_be32 (out + 12, s_px (q->l, u));
        s_be32 (out + 16, s_px (q->o, u));
        s_be32 (out + 20, s_px (q->c, u));
        s_be32 (out + 24, s_px (q->change, u));
        if (mode != SIM_MODE_FULL)
            return 28;
        s_be32 (out + 28, s_secs (q->exch_ns));
        return 32;
    }
    s_be32 (out + 8, s_qty (q->last_qty));
    s_be32 (out + 12, s_px (q->avg_price, u));
    s_be32 (out + 16, s_qty (q->volume));
    s_be32 (out + 20, s_qty (q->buy_qty));
    s_be32 (out + 24, s_qty (q->sell_qty));
    s_be32 (out + 28, s_px (q->o, u));
    s_be32 (out + 32, s_px (q->h, u));
    s_be32 (out + 36, s_px (q->l, u));
    s_be32 (out + 40, s_px (q->c, u));
    if (mode != SIM_MODE_FULL)
        return 44;
    s_be32 (out + 44, s_secs (q->last_trade_ns));
    s_be32 (out + 48, s_qty (q->oi));
    s_be32 (out + 52, s_qty (q->oi_day_high));
    s_be32 (out + 56, s_qty (q->oi_day_low));
    s_be32 (out + 60, s_secs (q->exch_ns));
    for (int i = 0; i < 2 * SIM_DEPTH; i++) {
        uint8_t *e = out + 64 + 12 * i;
        int64_t qty = i < SIM_DEPTH ? q->bid[i].qty : q->ask[i - SIM_DEPTH].qty;
        int64_t px = i < SIM_DEPTH ? q->bid[i].px : q->ask[i - SIM_DEPTH].px;
        int orders = i < SIM_DEPTH ? q->bid[i].orders : q->ask[i - SIM_DEPTH].orders;
        s_be32 (e, s_qty (qty));
        s_be32 (e + 4, s_px (px, u));
        s_be16 (e + 8, (uint16_t) (orders < 0 ? 0 : orders > 65535 ? 65535 : orders));
        s_be16 (e + 10, 0);
    }
    return 184;
}

size_t
sim_ws_frame_add (uint8_t *frame, size_t used, const uint8_t *pkt, int len)
{
    uint8_t *p = frame + 2 + used;
    s_be16 (p, (uint16_t) len);
    memcpy (p + 2, pkt, (size_t) len);
    return used + 2 + (size_t) len;
}

void
sim_ws_frame_seal (uint8_t *frame, int n, bool malformed)
{
    s_be16 (frame, (uint16_t) n);
    if (malformed)
        s_be16 (frame + 2, 0xFFFF); //  first packet claims more bytes than the frame has
}

size_t
sim_ws_heartbeat (uint8_t *out)
{
    out[0] = 0;
    return 1;
}

sim_mode_t
sim_ws_mode_parse (const char *s)
{
    if (!s)
        return 0;
    if (strcmp (s, "ltp") == 0)
        return SIM_MODE_LTP;
    if (strcmp (s, "quote") == 0)
        return SIM_MODE_QUOTE;
    if (strcmp (s, "full") == 0)
        return SIM_MODE_FULL;
    return 0;
}

// ---- subscriptions --------------------------------------------------------------------

static uint32_t
s_slot (uint32_t token)
{
    return (token * 2654435761u) >> 20; //  12 bits = S_SUB_CAP
}

static int
s_sub_find (const struct s_conn *c, uint32_t token)
{
    for (uint32_t i = s_slot (token), n = 0; n < S_SUB_CAP; i = (i + 1) & (S_SUB_CAP - 1), n++) {
        if (c->subs[i].token == token)
            return (int) i;
        if (c->subs[i].token == 0)
            return -1;
    }
    return -1;
}

//  Insert or update. Returns 1 if added, 0 if updated, -1 at the cap.
static int
s_sub_set (struct s_conn *c, uint32_t token, uint8_t mode)
{
    int at = s_sub_find (c, token);
    if (at >= 0) {
        c->subs[at].mode = mode;
        return 0;
    }
    if (c->nsubs >= SIM_WS_MAX_TOKENS)
        return -1;
    uint32_t i = s_slot (token);
    while (c->subs[i].token != 0)
        i = (i + 1) & (S_SUB_CAP - 1);
    c->subs[i].token = token;
    c->subs[i].mode = mode;
    c->nsubs++;
    return 1;
}

static void
s_sub_del (struct s_conn *c, uint32_t token)
{
    int at = s_sub_find (c, token);
    if (at < 0)
        return;
    uint32_t i = (uint32_t) at, mask = S_SUB_CAP - 1;
    c->subs[i].token = 0;
    c->nsubs--;
    //  Backward-shift: pull later members of the probe run into the hole.
    for (uint32_t j = (i + 1) & mask; c->subs[j].token != 0; j = (j + 1) & mask) {
        uint32_t k = s_slot (c->subs[j].token);
        bool movable = (j > i) ? (k <= i || k > j) : (k <= i && k > j);
        if (movable) {
            c->subs[i] = c->subs[j];
            c->subs[j].token = 0;
            i = j;
        }
    }
}

// ---- frames ---------------------------------------------------------------------------

static size_t
s_pend_cap (const sim_t *ctx)
{
    return LWS_PRE + 2 + (size_t) ctx->cfg.ws_batch * (2 + SIM_PKT_MAX);
}

static void
s_push (struct s_conn *c, const void *data, size_t len, bool text, int64_t now)
{
    struct s_frame *f = malloc (sizeof *f + LWS_PRE + len);
    if (!f)
        abort ();
    f->next = NULL;
    f->len = len;
    f->text = text;
    memcpy (f->data + LWS_PRE, data, len);
    if (c->tail)
        c->tail->next = f;
    else
        c->head = f;
    c->tail = f;
    c->queued += len;
    c->last_tx_ns = now;
}

static void
s_free_queue (struct s_conn *c)
{
    while (c->head) {
        struct s_frame *f = c->head;
        c->head = f->next;
        free (f);
    }
    c->tail = NULL;
    c->queued = 0;
}

//  Seal the frame being built: write N, optionally corrupt it (fault), queue it.
static void
s_seal (sim_ws_t *self, struct s_conn *c, int64_t now)
{
    if (c->pend_n == 0)
        return;
    uint8_t *p = c->pend + LWS_PRE;
    sim_ws_frame_seal (p, c->pend_n, sim_fault_take_malformed (&self->ctx->fault));
    s_push (c, p, 2 + c->pend_len, false, now);
    c->pend_n = 0;
    c->pend_len = 0;
}

static void
s_add_packet (sim_ws_t *self, struct s_conn *c, const uint8_t *pkt, int len, int64_t now)
{
    if (c->queued > (size_t) self->ctx->cfg.ws_queue_max) {
        if (c->dropped++ % 10000 == 0)
            kt_log_warn ("ws.drop", KT_S ("why", "client not reading"),
                         KT_I ("dropped", c->dropped), KT_I ("queued", (int64_t) c->queued),
                         KT_END);
        return;
    }
    c->pend_len = sim_ws_frame_add (c->pend + LWS_PRE, c->pend_len, pkt, len);
    c->pend_n++;
    if (c->pend_n >= self->ctx->cfg.ws_batch)
        s_seal (self, c, now);
}

static void
s_send_text (sim_ws_t *self, struct s_conn *c, const char *text, int64_t now)
{
    s_seal (self, c, now); //  keep frames in the order events happened
    s_push (c, text, strlen (text), true, now);
    lws_callback_on_writable (c->wsi);
}

static void
s_send_error (sim_ws_t *self, struct s_conn *c, const char *message, int64_t now)
{
    cJSON *m = cJSON_CreateObject ();
    cJSON_AddStringToObject (m, "type", "error");
    cJSON_AddStringToObject (m, "data", message);
    char *text = sim_json_print (&m);
    s_send_text (self, c, text, now);
    free (text);
}

// ---- venue events ----------------------------------------------------------------------

void
sim_ws_on_tick (sim_ws_t *self, const struct sim_quote *q)
{
    if (!self->conns)
        return;
    int64_t now = kt_clock_wall_mono_ns ();
    if (sim_fault_ws_silent (&self->ctx->fault, now))
        return;
    uint8_t pkt[4][SIM_PKT_MAX];
    int plen[4] = {0};
    for (struct s_conn *c = self->conns; c; c = c->next) {
        int at = s_sub_find (c, q->token);
        if (at < 0 || c->closing)
            continue;
        int m = c->subs[at].mode;
        if (!plen[m])
            plen[m] = sim_ws_pack (q, (sim_mode_t) m, pkt[m]);
        s_add_packet (self, c, pkt[m], plen[m], now);
    }
}

void
sim_ws_on_order (sim_ws_t *self, const struct sim_order *o)
{
    if (!self->conns)
        return;
    int64_t now = kt_clock_wall_mono_ns ();
    if (sim_fault_ws_silent (&self->ctx->fault, now))
        return;
    sim_t *ctx = self->ctx;
    cJSON *msg = cJSON_CreateObject ();
    cJSON_AddStringToObject (msg, "type", "order");
    cJSON_AddItemToObject (msg, "data",
                           sim_json_postback (o, ctx->instr, &ctx->user, ctx->cfg.api_secret));
    char *text = sim_json_print (&msg);
    for (struct s_conn *c = self->conns; c; c = c->next)
        if (!c->closing && strcmp (c->api_key, ctx->cfg.api_key) == 0)
            s_send_text (self, c, text, now);
    free (text);
}

void
sim_ws_flush (sim_ws_t *self, int64_t now)
{
    bool silent = sim_fault_ws_silent (&self->ctx->fault, now);
    int64_t beat_ns = self->ctx->cfg.heartbeat_ms * 1000000;
    for (struct s_conn *c = self->conns; c; c = c->next) {
        if (c->closing)
            continue;
        if (silent) {
            //  A silent feed: connected, nothing at all, not even heartbeats.
            c->pend_n = 0;
            c->pend_len = 0;
            s_free_queue (c);
            c->last_tx_ns = now;
            continue;
        }
        s_seal (self, c, now);
        if (!c->head && now - c->last_tx_ns >= beat_ns) {
            uint8_t beat[1];
            s_push (c, beat, sim_ws_heartbeat (beat), false, now);
        }
        if (c->head)
            lws_callback_on_writable (c->wsi);
    }
}

void
sim_ws_drop_all (sim_ws_t *self)
{
    for (struct s_conn *c = self->conns; c; c = c->next) {
        c->closing = true;
        lws_callback_on_writable (c->wsi);
    }
}

int
sim_ws_connections (const sim_ws_t *self)
{
    return self->nconns;
}

// ---- client messages --------------------------------------------------------------------

//  Queue the current snapshot of token in mode (so a new subscriber sees a price at
//  once, as Kite sends one on subscribe).
static void
s_snapshot (sim_ws_t *self, struct s_conn *c, uint32_t token, sim_mode_t mode, int64_t now)
{
    const struct sim_quote *q = sim_venue_quote (self->ctx->venue, token);
    if (!q || q->ltp <= 0)
        return;
    uint8_t pkt[SIM_PKT_MAX];
    int len = sim_ws_pack (q, mode, pkt);
    s_add_packet (self, c, pkt, len, now);
}

//  Tokens of a JSON array: each a whole number in 1..2^32-1. Returns the count or -1.
static int
s_tokens (const cJSON *arr, uint32_t *out, int max)
{
    if (!cJSON_IsArray (arr))
        return -1;
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach (it, arr)
    {
        if (!cJSON_IsNumber (it))
            return -1;
        double d = it->valuedouble;
        if (d < 1 || d > 4294967295.0 || d != (double) (uint32_t) d)
            return -1;
        if (n >= max)
            return -2;
        out[n++] = (uint32_t) d;
    }
    return n;
}

static void
s_message (sim_ws_t *self, struct s_conn *c, const char *text, size_t len)
{
    int64_t now = kt_clock_wall_mono_ns ();
    cJSON *m = cJSON_ParseWithLength (text, len);
    const cJSON *a = m ? cJSON_GetObjectItemCaseSensitive (m, "a") : NULL;
    const cJSON *v = m ? cJSON_GetObjectItemCaseSensitive (m, "v") : NULL;
    uint32_t *toks = self->toks;
    if (!cJSON_IsString (a) || !v) {
        s_send_error (self, c, "Invalid message: expected {\"a\": ..., \"v\": ...}", now);
        goto out;
    }
    sim_mode_t mode = SIM_MODE_QUOTE;
    const cJSON *list = v;
    bool set_mode = false;
    if (strcmp (a->valuestring, "mode") == 0) {
        const cJSON *ms = cJSON_GetArrayItem (v, 0);
        mode = cJSON_IsString (ms) ? sim_ws_mode_parse (ms->valuestring) : 0;
        list = cJSON_GetArrayItem (v, 1);
        set_mode = true;
        if (!cJSON_IsArray (v) || cJSON_GetArraySize (v) != 2 || !mode) {
            s_send_error (self, c, "Invalid mode message: expected [\"ltp|quote|full\", [...]]",
                          now);
            goto out;
        }
    } else if (strcmp (a->valuestring, "subscribe") != 0 &&
               strcmp (a->valuestring, "unsubscribe") != 0) {
        s_send_error (self, c, "Unknown action", now);
        goto out;
    }
    int n = s_tokens (list, toks, SIM_WS_MAX_TOKENS);
    if (n < 0) {
        s_send_error (self, c,
                      n == -2 ? "Too many instruments: at most 3000 per connection"
                              : "Invalid instrument tokens",
                      now);
        goto out;
    }
    bool unsub = strcmp (a->valuestring, "unsubscribe") == 0;
    for (int i = 0; i < n; i++) {
        if (unsub) {
            s_sub_del (c, toks[i]);
            continue;
        }
        if (!sim_venue_quote (self->ctx->venue, toks[i]))
            continue; //  unknown instruments are ignored, as Kite does
        int at = s_sub_find (c, toks[i]);
        sim_mode_t m = set_mode || at < 0 ? mode : (sim_mode_t) c->subs[at].mode;
        int rc = s_sub_set (c, toks[i], (uint8_t) m);
        if (rc < 0) {
            s_send_error (self, c, "Too many instruments: at most 3000 per connection", now);
            break;
        }
        if (rc > 0 || set_mode)
            s_snapshot (self, c, toks[i], m, now);
    }
    s_seal (self, c, now);
    if (c->head)
        lws_callback_on_writable (c->wsi);
out:
    cJSON_Delete (m);
}

// ---- lws protocol ----------------------------------------------------------------------

static sim_ws_t *
s_self (struct lws *wsi)
{
    sim_t *ctx = lws_context_user (lws_get_context (wsi));
    return ctx ? ctx->ws : NULL;
}

static int
s_count_key (const sim_ws_t *self, const char *key)
{
    int n = 0;
    for (const struct s_conn *c = self->conns; c; c = c->next)
        n += !c->closing && strcmp (c->api_key, key) == 0;
    return n;
}

static int
s_reject (struct lws *wsi, int status, const char *message, const char *error_type)
{
    char *body = sim_json_error (message, error_type);
    int rc = sim_http_write_now (wsi, status, "application/json", body, strlen (body));
    free (body);
    return rc == 0 ? 1 : -1;
}

static int
s_confirm (sim_ws_t *self, struct lws *wsi)
{
    char key[64], token[SIM_SECRET_LEN];
    const char *k = sim_http_query_arg (wsi, "api_key", key, sizeof key);
    const char *t = sim_http_query_arg (wsi, "access_token", token, sizeof token);
    sim_t *ctx = self->ctx;
    if (!k || !t || !sim_auth_valid (ctx->auth, k, t, sim_now_ns (ctx))) {
        kt_log_info ("ws.reject", KT_I ("status", 403), KT_END);
        return s_reject (wsi, 403, "Incorrect `api_key` or `access_token`.", "TokenException");
    }
    if (s_count_key (self, k) >= SIM_WS_MAX_CONN) {
        kt_log_info ("ws.reject", KT_I ("status", 429), KT_END);
        return s_reject (wsi, 429, "Too many connections for this api_key (at most 3)",
                         "NetworkException");
    }
    return 0;
}

static int
s_established (sim_ws_t *self, struct lws *wsi, struct s_conn *c)
{
    memset (c, 0, sizeof *c);
    c->wsi = wsi;
    if (!sim_http_query_arg (wsi, "api_key", c->api_key, sizeof c->api_key))
        return -1;
    c->subs = calloc (S_SUB_CAP, sizeof *c->subs);
    c->pend = malloc (s_pend_cap (self->ctx));
    if (!c->subs || !c->pend)
        abort ();
    c->last_tx_ns = kt_clock_wall_mono_ns ();
    c->next = self->conns;
    self->conns = c;
    self->nconns++;
    c->live = true;
    kt_log_info ("ws.open", KT_I ("connections", self->nconns), KT_END);
    return 0;
}

static void
s_closed (sim_ws_t *self, struct s_conn *c)
{
    if (!c->live)
        return;
    for (struct s_conn **pp = &self->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    self->nconns--;
    s_free_queue (c);
    free (c->subs);
    free (c->pend);
    free (c->rx);
    c->live = false;
    kt_log_info ("ws.close", KT_I ("connections", self->nconns), KT_I ("dropped", c->dropped),
                 KT_END);
}

static int
s_writeable (struct s_conn *c)
{
    if (c->closing)
        return -1; //  fault: hang up without a close handshake
    struct s_frame *f = c->head;
    if (!f)
        return 0;
    int n =
        lws_write (c->wsi, f->data + LWS_PRE, f->len, f->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
    if (n < (int) f->len)
        return -1;
    c->head = f->next;
    if (!c->head)
        c->tail = NULL;
    c->queued -= f->len;
    free (f);
    if (c->head)
        lws_callback_on_writable (c->wsi);
    return 0;
}

static int
s_receive (sim_ws_t *self, struct lws *wsi, struct s_conn *c, const void *in, size_t len)
{
    if (lws_frame_is_binary (wsi))
        return 0; //  clients only send text; ignore anything else
    if (c->rx_len + len > S_RX_MAX) {
        free (c->rx);
        c->rx = NULL;
        c->rx_len = 0;
        s_send_error (self, c, "Message too long", kt_clock_wall_mono_ns ());
        return 0;
    }
    char *rx = realloc (c->rx, c->rx_len + len + 1);
    if (!rx)
        abort ();
    c->rx = rx;
    memcpy (c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment (wsi) || lws_remaining_packet_payload (wsi))
        return 0;
    s_message (self, c, c->rx, c->rx_len);
    free (c->rx);
    c->rx = NULL;
    c->rx_len = 0;
    return 0;
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    sim_ws_t *self = s_self (wsi);
    struct s_conn *c = user;
    if (!self)
        return lws_callback_http_dummy (wsi, reason, user, in, len);
    switch (reason) {
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return s_confirm (self, wsi);
        case LWS_CALLBACK_HTTP: {
            char *body = sim_json_error ("This is the WebSocket ticker: connect with "
                                         "?api_key=...&access_token=...",
                                         "InputException");
            int rc = sim_http_write_now (wsi, 400, "application/json", body, strlen (body));
            free (body);
            return rc != 0 || lws_http_transaction_completed (wsi) ? -1 : 0;
        }
        case LWS_CALLBACK_ESTABLISHED:
            return c ? s_established (self, wsi, c) : -1;
        case LWS_CALLBACK_CLOSED:
            if (c)
                s_closed (self, c);
            return 0;
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return c && c->live ? s_writeable (c) : 0;
        case LWS_CALLBACK_RECEIVE:
            return c && c->live ? s_receive (self, wsi, c, in, len) : 0;
        default:
            return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

static const struct lws_protocols s_protocols[] = {
    {"kite-ticker", s_callback, sizeof (struct s_conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

const struct lws_protocols *
sim_ws_protocols (void)
{
    return s_protocols;
}

sim_ws_t *
sim_ws_new (sim_t *ctx)
{
    sim_ws_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->ctx = ctx;
    return self;
}

void
sim_ws_destroy (sim_ws_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    //  Connections live in lws user space; lws_context_destroy closes them first.
    free (*self_p);
    *self_p = NULL;
}
