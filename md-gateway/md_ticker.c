/*  md_ticker - Kite's WebSocket ticker on the process loop (see md_ticker.h).
 *
 *  Debian's libwebsockets 4.1 has no external-poll build, so lws cannot hand its fds to
 *  kt_loop. But lws_service with a negative timeout polls its own fds without waiting,
 *  services what is ready (TLS-buffered data included) and runs its due timers, and
 *  returns. So the loop watches the one connection socket and calls that when it is
 *  readable, right after a write was queued, and from a 20 ms wait cap for everything
 *  else (connect, handshake, lws timeouts). Writes happen only in WRITEABLE, as lws
 *  requires. lws 4.1 would resolve the host name with a blocking getaddrinfo inside
 *  lws_service, so each attempt resolves it first off the loop (md_resolve, polled
 *  every 5 ms) and hands lws the numeric address, the name kept for the Host header,
 *  SNI and the certificate check. */

#include "md_ticker.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libwebsockets.h>
#include <openssl/x509.h>
#include "kt_clock.h"
#include "md_resolve.h"

#define S_SERVICE_MS 20  //  lws timers and connect steps are looked at this often
#define S_SUBS_MAX 3000  //  Kite's instruments per connection
#define S_OUT_MAX 8      //  text messages queued for the next WRITEABLEs
#define S_RX_CHUNK 65536 //  lws receive buffer
#define S_RESOLVE_MS 5   //  a running lookup is looked at this often

typedef enum { S_IDLE = 0, S_RESOLVING, S_CONNECTING, S_CONNECTED } s_state_t;

struct md_ticker {
    kt_loop_t *loop; //  borrowed
    struct md_ticker_cfg cfg;
    struct md_ticker_handlers h;
    void *arg;
    char host[128];
    char addr[MD_RESOLVE_ADDR_LEN]; //  host's numeric address for the current attempt
    md_resolve_t *resolve;          //  owned
    char base[128];                 //  URL path before the query
    char path[512];                 //  holds the access token: never logged
    int port;
    bool tls;
    struct lws_context *ctx;
    struct lws *wsi; //  borrowed from lws while it lives
    int fd;          //  watched on the loop, -1 if none
    s_state_t state;
    bool started;
    bool stopped;         //  refused: no reconnect
    bool kick;            //  service lws at the next loop iteration
    bool data_seen;       //  this connection delivered a message
    bool killing;         //  the watchdog (or a drop) is closing it
    int64_t next_connect; //  wall mono ns
    int64_t last_service; //  wall mono ns
    int64_t last_rx;      //  wall mono ns
    int64_t last_rx_wall; //  CLOCK_REALTIME ns
    int failures;         //  attempts since a connection last delivered data
    int64_t attempts;
    int64_t connections;
    uint32_t subs[S_SUBS_MAX];
    size_t nsubs;
    char mode[8];
    char *out[S_OUT_MAX]; //  owned text messages waiting for WRITEABLE
    size_t out_len[S_OUT_MAX];
    int out_n;
    unsigned char *rx; //  owned reassembly buffer, max_message bytes + 1
    size_t rx_len;
    bool rx_over;
    size_t rx_total;
    uint64_t rng;
    int http;          //  status seen at the last failed upgrade
    char tls_err[160]; //  why this attempt's server certificate failed, "" if it did not
};

static int64_t
s_mono (void)
{
    return kt_clock_wall_mono_ns ();
}

static uint64_t
s_rand (md_ticker_t *self)
{
    //  xorshift64*: jitter only, no need for more.
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return self->rng * 2685821657736338717ULL;
}

static void
s_out_clear (md_ticker_t *self)
{
    for (int i = 0; i < self->out_n; i++)
        free (self->out[i]);
    self->out_n = 0;
}

//  Queue a text message (copied with LWS_PRE headroom). Returns 0 or -1 (queue full).
static int
s_queue (md_ticker_t *self, const char *text, size_t len)
{
    if (self->out_n == S_OUT_MAX)
        return -1;
    char *m = malloc (LWS_PRE + len + 1);
    if (!m)
        abort ();
    memcpy (m + LWS_PRE, text, len);
    self->out[self->out_n] = m;
    self->out_len[self->out_n] = len;
    self->out_n++;
    if (self->wsi && self->state == S_CONNECTED)
        lws_callback_on_writable (self->wsi);
    self->kick = true;
    return 0;
}

//  {"a":"subscribe","v":[...]} then {"a":"mode","v":["full",[...]]}.
static void
s_queue_subs (md_ticker_t *self)
{
    if (self->nsubs == 0)
        return;
    size_t cap = 64 + self->nsubs * 11;
    char *buf = malloc (cap);
    if (!buf)
        abort ();
    for (int pass = 0; pass < 2; pass++) {
        size_t n = (size_t) snprintf (
            buf, cap, pass ? "{\"a\":\"mode\",\"v\":[\"%s\",[" : "{\"a\":\"subscribe\",\"v\":[",
            self->mode);
        for (size_t i = 0; i < self->nsubs; i++)
            n += (size_t) snprintf (buf + n, cap - n, "%s%u", i ? "," : "", self->subs[i]);
        n += (size_t) snprintf (buf + n, cap - n, pass ? "]]}" : "]}");
        s_queue (self, buf, n);
    }
    free (buf);
}

static void
s_fd_end (md_ticker_t *self)
{
    if (self->fd >= 0) {
        kt_loop_fd_end (self->loop, self->fd);
        self->fd = -1;
    }
}

static void
s_schedule (md_ticker_t *self)
{
    //  min x 2^failures capped, then "equal jitter": half fixed, half random, so a fleet
    //  of clients does not reconnect in step.
    int64_t delay = self->cfg.backoff_min_ms;
    for (int i = 0; i < self->failures && delay < self->cfg.backoff_max_ms; i++)
        delay *= 2;
    if (delay > self->cfg.backoff_max_ms)
        delay = self->cfg.backoff_max_ms;
    int64_t half = delay / 2;
    int64_t jitter = half > 0 ? (int64_t) (s_rand (self) % (uint64_t) (half + 1)) : 0;
    self->next_connect = s_mono () + (half + jitter) * 1000000;
    if (self->failures < 62)
        self->failures++;
}

//  http < 0: the server's certificate failed verification.
static void
s_gone (md_ticker_t *self, const char *why, int http)
{
    bool was = self->state != S_IDLE;
    s_fd_end (self);
    self->wsi = NULL;
    self->state = S_IDLE;
    self->killing = false;
    s_out_clear (self);
    if (!was)
        return;
    if (http == 403) {
        self->stopped = true;
        if (self->h.on_state)
            self->h.on_state (MD_TICKER_REFUSED, why, http, self->arg);
        return;
    }
    s_schedule (self);
    if (self->h.on_state)
        self->h.on_state (http < 0 ? MD_TICKER_UNTRUSTED : MD_TICKER_CLOSED, why,
                          http < 0 ? 0 : http, self->arg);
}

static void
s_rx_done (md_ticker_t *self)
{
    self->last_rx = s_mono ();
    self->last_rx_wall = kt_clock_wall_ns ();
    if (!self->data_seen) {
        self->data_seen = true;
        self->failures = 0;
    }
}

static void
s_rx (md_ticker_t *self, struct lws *wsi, const void *in, size_t len)
{
    //  A binary message that came whole in one callback (Kite's usual frame, up to the
    //  receive buffer) is decoded from lws's own buffer: no copy per frame.
    if (lws_is_first_fragment (wsi) && lws_is_final_fragment (wsi) &&
        lws_remaining_packet_payload (wsi) == 0 && lws_frame_is_binary (wsi) &&
        len <= self->cfg.max_message) {
        self->rx_len = 0;
        s_rx_done (self);
        if (self->h.on_binary)
            self->h.on_binary (in, len, self->arg);
        return;
    }
    if (lws_is_first_fragment (wsi)) {
        self->rx_len = 0;
        self->rx_over = false;
        self->rx_total = 0;
    }
    self->rx_total += len;
    if (!self->rx_over) {
        if (self->rx_len + len > self->cfg.max_message)
            self->rx_over = true;
        else {
            memcpy (self->rx + self->rx_len, in, len);
            self->rx_len += len;
        }
    }
    if (!lws_is_final_fragment (wsi) || lws_remaining_packet_payload (wsi) > 0)
        return;
    s_rx_done (self);
    if (self->rx_over) {
        if (self->h.on_oversize)
            self->h.on_oversize (self->rx_total, self->arg);
        return;
    }
    if (lws_frame_is_binary (wsi)) {
        if (self->h.on_binary)
            self->h.on_binary (self->rx, self->rx_len, self->arg);
    } else {
        self->rx[self->rx_len] = '\0';
        if (self->h.on_text)
            self->h.on_text ((const char *) self->rx, self->rx_len, self->arg);
    }
}

static int s_on_fd (kt_loop_t *loop, int fd, short revents, void *arg);

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    md_ticker_t *self = lws_context_user (lws_get_context (wsi));
    if (!self)
        return 0;
    switch (reason) {
        case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
            unsigned char **p = (unsigned char **) in;
            unsigned char *end = *p + len;
            if (lws_add_http_header_by_name (wsi, (const unsigned char *) "X-Kite-Version:",
                                             (const unsigned char *) "3", 1, p, end))
                return -1;
            break;
        }
        case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
            //  OpenSSL's verdict on each certificate of the chain (user = the
            //  X509_STORE_CTX, len = preverify_ok). lws reports a failure only as an
            //  opaque SSL error, so the reason is kept here; returning 0 without touching
            //  the error leaves the verdict as it is.
            if (len == 0 && user && !self->tls_err[0]) {
                X509_STORE_CTX *x = user;
                int e = X509_STORE_CTX_get_error (x);
                snprintf (self->tls_err, sizeof self->tls_err,
                          "server certificate not trusted: %s (chain depth %d)",
                          X509_verify_cert_error_string (e), X509_STORE_CTX_get_error_depth (x));
            }
            break;
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            self->state = S_CONNECTED;
            self->data_seen = false;
            self->last_rx = s_mono ();
            self->connections++;
            self->http = 0;
            self->fd = lws_get_socket_fd (wsi);
            if (self->fd >= 0 && kt_loop_fd (self->loop, self->fd, POLLIN, s_on_fd, self) != 0)
                self->fd = -1;
            s_queue_subs (self);
            if (self->h.on_state)
                self->h.on_state (MD_TICKER_CONNECTED, "", 101, self->arg);
            break;
        case LWS_CALLBACK_CLIENT_RECEIVE:
            s_rx (self, wsi, in, len);
            break;
        case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
            self->last_rx = s_mono ();
            break;
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            if (self->killing)
                return -1;
            if (self->out_n > 0) {
                char *m = self->out[0];
                size_t n = self->out_len[0];
                int w = lws_write (wsi, (unsigned char *) m + LWS_PRE, n, LWS_WRITE_TEXT);
                free (m);
                memmove (self->out, self->out + 1,
                         sizeof self->out[0] * (size_t) (self->out_n - 1));
                memmove (self->out_len, self->out_len + 1,
                         sizeof self->out_len[0] * (size_t) (self->out_n - 1));
                self->out_n--;
                if (w < (int) n)
                    return -1;
                if (self->out_n > 0)
                    lws_callback_on_writable (wsi);
            }
            break;
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
            int http = (int) lws_http_client_http_response (wsi);
            const char *why = in ? (const char *) in : "connection error";
            if (http == 0 && strstr (why, "403"))
                http = 403;
            self->http = http;
            if (self->tls_err[0]) {
                s_gone (self, self->tls_err, -1);
                break;
            }
            s_gone (self, why, http);
            break;
        }
        case LWS_CALLBACK_CLIENT_CLOSED:
            s_gone (self, self->killing ? "closed by the watchdog" : "closed by the server", 0);
            break;
        case LWS_CALLBACK_WSI_DESTROY:
            if (wsi == self->wsi || self->state == S_CONNECTING || self->state == S_CONNECTED)
                s_gone (self, "connection ended", self->http);
            break;
        default:
            break;
    }
    return 0;
}

static const struct lws_protocols s_protocols[] = {
    {"kite-ticker", s_callback, 0, S_RX_CHUNK, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

static void
s_service (md_ticker_t *self)
{
    self->kick = false;
    lws_service (self->ctx, -1);
    //  Data lws already holds (TLS records, a partly parsed buffer) shows on no fd.
    for (int i = 0; i < 16 && lws_service_adjust_timeout (self->ctx, 1, 0) == 0; i++)
        lws_service (self->ctx, -1);
    self->last_service = s_mono ();
}

static int
s_on_fd (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    (void) fd;
    (void) revents;
    s_service ((md_ticker_t *) arg);
    return 0;
}

//  lws is given the numeric address; the host name stays in ci.host, which lws uses for
//  the Host header, SNI and the certificate's host name check.
static void
s_connect (md_ticker_t *self)
{
    struct lws_client_connect_info ci;
    memset (&ci, 0, sizeof ci);
    ci.context = self->ctx;
    ci.address = self->addr;
    ci.port = self->port;
    ci.path = self->path;
    ci.host = self->host;
    ci.origin = self->host;
    ci.ssl_connection = self->tls ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = s_protocols[0].name;
    ci.pwsi = &self->wsi;
    self->state = S_CONNECTING;
    if (!lws_client_connect_via_info (&ci) && self->state == S_CONNECTING)
        s_gone (self, "connect could not start", 0); //  no callback told us
    self->kick = true;
}

//  An attempt begins with the host name's lookup, off the loop (md_resolve).
static void
s_attempt (md_ticker_t *self)
{
    char err[160];
    self->attempts++;
    self->killing = false;
    self->http = 0;
    self->tls_err[0] = '\0';
    self->addr[0] = '\0';
    self->state = S_RESOLVING;
    if (md_resolve_start (self->resolve, self->host, err, sizeof err) != 0)
        s_gone (self, err, 0);
}

static void
s_resolving (md_ticker_t *self)
{
    char err[160];
    int rc = md_resolve_poll (self->resolve, self->addr, sizeof self->addr, err, sizeof err);
    if (rc > 0)
        s_connect (self);
    else if (rc < 0)
        s_gone (self, err, 0);
}

static void
s_before_sleep (kt_loop_t *loop, void *arg)
{
    (void) loop;
    md_ticker_t *self = arg;
    int64_t now = s_mono ();
    if (self->state == S_IDLE && self->started && !self->stopped && now >= self->next_connect)
        s_attempt (self);
    if (self->state == S_RESOLVING)
        s_resolving (self);
    if (self->state == S_CONNECTED && !self->killing &&
        now - self->last_rx > self->cfg.silence_ms * 1000000) {
        self->killing = true;
        if (self->h.on_state)
            self->h.on_state (MD_TICKER_SILENT, "no frame or heartbeat", 0, self->arg);
        if (self->wsi) {
            lws_set_timeout (self->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            lws_callback_on_writable (self->wsi);
        }
        self->kick = true;
    }
    if (self->kick || now - self->last_service >= S_SERVICE_MS * 1000000)
        s_service (self);
}

static int
s_wait_cap (void *arg)
{
    md_ticker_t *self = arg;
    if (self->kick)
        return 0;
    int64_t cap = self->state == S_RESOLVING ? S_RESOLVE_MS : S_SERVICE_MS;
    if (self->state == S_IDLE && self->started && !self->stopped) {
        int64_t left = (self->next_connect - s_mono ()) / 1000000;
        if (left < cap)
            cap = left < 0 ? 0 : left;
    }
    return (int) cap;
}

static void
s_lws_log (int level, const char *line)
{
    //  lws's own diagnostics stay out of our logs (they could carry the request line).
    (void) level;
    (void) line;
}

//  The request line: base path, api_key and access_token.
static int
s_make_path (md_ticker_t *self, const char *token)
{
    char path[sizeof self->path];
    int n = snprintf (path, sizeof path, "%s?api_key=%s&access_token=%s", self->base,
                      self->cfg.api_key, token);
    if (n < 0 || (size_t) n >= sizeof path) {
        memset (path, 0, sizeof path);
        return -1;
    }
    memcpy (self->path, path, sizeof path);
    memset (path, 0, sizeof path);
    return 0;
}

//  ws://host[:port][/path] or wss://...
static int
s_parse_url (md_ticker_t *self, const char *url, char *err, size_t errlen)
{
    const char *rest;
    if (strncmp (url, "ws://", 5) == 0) {
        rest = url + 5;
        self->tls = false;
        self->port = 80;
    } else if (strncmp (url, "wss://", 6) == 0) {
        rest = url + 6;
        self->tls = true;
        self->port = 443;
    } else {
        snprintf (err, errlen, "ticker url must start with ws:// or wss://");
        return -1;
    }
    size_t hl = strcspn (rest, ":/?");
    if (hl == 0 || hl >= sizeof self->host) {
        snprintf (err, errlen, "ticker url has no usable host");
        return -1;
    }
    memcpy (self->host, rest, hl);
    self->host[hl] = '\0';
    rest += hl;
    if (*rest == ':') {
        char *end;
        long port = strtol (rest + 1, &end, 10);
        if (port <= 0 || port > 65535 || (*end && *end != '/' && *end != '?')) {
            snprintf (err, errlen, "ticker url has a bad port");
            return -1;
        }
        self->port = (int) port;
        rest = end;
    }
    size_t pl = strcspn (rest, "?");
    if (pl >= sizeof self->base) {
        snprintf (err, errlen, "ticker url path too long");
        return -1;
    }
    memcpy (self->base, rest, pl);
    self->base[pl] = '\0';
    if (pl == 0)
        snprintf (self->base, sizeof self->base, "/");
    if (s_make_path (self, self->cfg.access_token) != 0) {
        snprintf (err, errlen, "ticker url with credentials too long");
        return -1;
    }
    return 0;
}

md_ticker_t *
md_ticker_new (kt_loop_t *loop, const struct md_ticker_cfg *cfg, const struct md_ticker_handlers *h,
               void *arg, char *err, size_t errlen)
{
    if (!loop || !cfg || !cfg->url || !cfg->api_key || !cfg->access_token ||
        cfg->backoff_min_ms <= 0 || cfg->backoff_max_ms < cfg->backoff_min_ms ||
        cfg->silence_ms <= 0 || cfg->max_message < 16) {
        snprintf (err, errlen, "ticker: bad settings");
        return NULL;
    }
    md_ticker_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->loop = loop;
    self->cfg = *cfg;
    if (h)
        self->h = *h;
    self->arg = arg;
    self->fd = -1;
    snprintf (self->mode, sizeof self->mode, "full");
    self->rng = (uint64_t) kt_clock_wall_ns () ^ ((uint64_t) getpid () << 32) ^ (uintptr_t) self;
    if (self->rng == 0)
        self->rng = 1;
    if (s_parse_url (self, cfg->url, err, errlen) != 0) {
        free (self);
        return NULL;
    }
    self->rx = malloc (cfg->max_message + 1);
    if (!self->rx)
        abort ();
    self->resolve = md_resolve_new ();
    lws_set_log_level (LLL_ERR, s_lws_log);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = s_protocols;
    info.user = self;
    info.timeout_secs = 10;
    //  lws reads the socket into this buffer (4096 by default): a Kite frame of a few
    //  hundred packets would take one poll + recv + service round per 4 KB.
    info.pt_serv_buf_size = S_RX_CHUNK;
    info.options = self->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    if (self->tls && cfg->ca_file && cfg->ca_file[0]) {
        //  The configured CAs replace the system store: trusting both would let any
        //  public CA vouch for a server the operator meant to pin.
        if (access (cfg->ca_file, R_OK) != 0) {
            snprintf (err, errlen, "ticker: CA file %s: %s", cfg->ca_file, strerror (errno));
            md_resolve_destroy (&self->resolve);
            free (self->rx);
            free (self);
            return NULL;
        }
        info.client_ssl_ca_filepath = cfg->ca_file;
        info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    }
    self->ctx = lws_create_context (&info);
    if (!self->ctx) {
        snprintf (err, errlen, "ticker: lws_create_context failed");
        md_resolve_destroy (&self->resolve);
        free (self->rx);
        free (self);
        return NULL;
    }
    kt_loop_before_sleep (loop, s_before_sleep, self);
    kt_loop_wait_cap (loop, s_wait_cap, self);
    return self;
}

void
md_ticker_destroy (md_ticker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    md_ticker_t *self = *self_p;
    kt_loop_before_sleep_end (self->loop, s_before_sleep, self);
    kt_loop_wait_cap_end (self->loop, s_wait_cap, self);
    s_fd_end (self);
    //  Handlers must not run into a half-freed ticker while lws tears down.
    self->h = (struct md_ticker_handlers){0};
    lws_context_destroy (self->ctx);
    md_resolve_destroy (&self->resolve);
    s_out_clear (self);
    memset (self->path, 0, sizeof self->path);
    free (self->rx);
    free (self);
    *self_p = NULL;
}

int
md_ticker_subscribe (md_ticker_t *self, const uint32_t *tokens, size_t n, const char *mode)
{
    if (n > S_SUBS_MAX || !mode ||
        (strcmp (mode, "ltp") != 0 && strcmp (mode, "quote") != 0 && strcmp (mode, "full") != 0))
        return -1;
    memcpy (self->subs, tokens, n * sizeof tokens[0]);
    self->nsubs = n;
    snprintf (self->mode, sizeof self->mode, "%s", mode);
    if (self->state == S_CONNECTED)
        s_queue_subs (self);
    return 0;
}

int
md_ticker_set_token (md_ticker_t *self, const char *access_token)
{
    return s_make_path (self, access_token);
}

int
md_ticker_start (md_ticker_t *self)
{
    self->started = true;
    self->stopped = false;
    self->failures = 0;
    self->next_connect = s_mono ();
    self->kick = true;
    return 0;
}

const char *
md_ticker_host (const md_ticker_t *self)
{
    return self->host;
}

const char *
md_ticker_addr (const md_ticker_t *self)
{
    return self->addr;
}

bool
md_ticker_connected (const md_ticker_t *self)
{
    return self->state == S_CONNECTED;
}

bool
md_ticker_stopped (const md_ticker_t *self)
{
    return self->stopped;
}

int64_t
md_ticker_reconnects (const md_ticker_t *self)
{
    return self->connections > 0 ? self->connections - 1 : 0;
}

int64_t
md_ticker_attempts (const md_ticker_t *self)
{
    return self->attempts;
}

int64_t
md_ticker_last_rx_ns (const md_ticker_t *self)
{
    return self->last_rx_wall;
}

void
md_ticker_drop (md_ticker_t *self)
{
    if (self->state != S_CONNECTED || !self->wsi || self->killing)
        return;
    self->killing = true;
    lws_set_timeout (self->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    lws_callback_on_writable (self->wsi);
    self->kick = true;
}
