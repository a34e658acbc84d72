/*  kite_sim_test - kite-sim as a process: every REST endpoint and error type, rate
 *  limits, each fault, the WebSocket ticker (auth at upgrade, subscribe/mode, ltp /
 *  quote / full / index packets, heartbeats, order updates) and determinism.
 *
 *  Real parts only: the built binary ($KT_BUILD/bin/kite-sim) on free 127.0.0.1 ports,
 *  libcurl for REST, an lws client and raw sockets for the ticker. The packet decoder
 *  below is written from kite-protocol.md section 6 alone and shares no code with
 *  sim_ws.c: it checks that the prices kite-sim streams are the prices it reports over
 *  REST at the same (paused) instant. */

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libwebsockets.h>
#include <openssl/evp.h>

#define KEY "sim_api_key"
#define SECRET "sim_api_secret"
#define TOKEN "itest_token"

// ---- process ----------------------------------------------------------------------------

typedef struct {
    pid_t pid;
    int http_port, ws_port;
    char base[64];
    CURL *curl; //  keep-alive handle
    bool fresh; //  next request on a new connection, no reuse
} sim_proc_t;

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind (fd, (struct sockaddr *) &a, sizeof a) != 0 ||
        getsockname (fd, (struct sockaddr *) &a, &len) != 0) {
        close (fd);
        return -1;
    }
    close (fd);
    return ntohs (a.sin_port);
}

static int
s_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

static int64_t
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_bin (char *out, size_t len)
{
    const char *b = getenv ("KT_BUILD");
    snprintf (out, len, "%s/bin/kite-sim", b && *b ? b : "build");
}

//  Start kite-sim with the common flags plus extra (NULL-terminated). Waits until both
//  ports accept. The process dies with the test (SIGTERM in s_stop).
static sim_proc_t *
s_start (const char *first, ...)
{
    sim_proc_t *p = calloc (1, sizeof *p);
    p->http_port = s_free_port ();
    do
        p->ws_port = s_free_port ();
    while (p->ws_port == p->http_port);
    char http[32], ws[32], bin[256];
    snprintf (http, sizeof http, "127.0.0.1:%d", p->http_port);
    snprintf (ws, sizeof ws, "127.0.0.1:%d", p->ws_port);
    s_bin (bin, sizeof bin);
    const char *argv[48] = {bin,   "--http",      http,  "--ws", ws, "--access-token",
                            TOKEN, "--log-level", "warn"};
    int n = 9;
    va_list ap;
    va_start (ap, first);
    for (const char *a = first; a && n < 46; a = va_arg (ap, const char *))
        argv[n++] = a;
    va_end (ap);
    argv[n] = NULL;
    p->pid = fork ();
    if (p->pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM); //  dies with the test, even on a failure
        execv (bin, (char *const *) argv);
        _exit (127);
    }
    snprintf (p->base, sizeof p->base, "http://127.0.0.1:%d", p->http_port);
    for (int i = 0; i < 500; i++) {
        int a = s_connect (p->http_port), b = a >= 0 ? s_connect (p->ws_port) : -1;
        if (a >= 0)
            close (a);
        if (b >= 0) {
            close (b);
            p->curl = curl_easy_init ();
            return p;
        }
        int st;
        if (waitpid (p->pid, &st, WNOHANG) == p->pid)
            break;
        usleep (10000);
    }
    fail_msg ("kite-sim did not start (%s)", bin);
    return NULL;
}

static void
s_stop (sim_proc_t **pp)
{
    sim_proc_t *p = *pp;
    if (!p)
        return;
    if (p->curl)
        curl_easy_cleanup (p->curl);
    kill (p->pid, SIGTERM);
    int st = 0;
    waitpid (p->pid, &st, 0);
    assert_true (WIFEXITED (st));
    assert_int_equal (WEXITSTATUS (st), 0);
    free (p);
    *pp = NULL;
}

// ---- REST --------------------------------------------------------------------------------

typedef struct {
    long status;
    CURLcode rc;
    char *body;
    size_t len;
    char ctype[64];
    cJSON *json; //  parsed body, or NULL
} resp_t;

static size_t
s_write (char *ptr, size_t size, size_t n, void *arg)
{
    resp_t *r = arg;
    r->body = realloc (r->body, r->len + size * n + 1);
    memcpy (r->body + r->len, ptr, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static void
s_resp_free (resp_t *r)
{
    free (r->body);
    cJSON_Delete (r->json);
    memset (r, 0, sizeof *r);
}

//  One request. auth: NULL = default token header, "" = no header, else the token.
static resp_t
s_req_full (sim_proc_t *p, const char *method, const char *path, const char *form, const char *auth,
            bool version)
{
    resp_t r = {0};
    CURL *c = p->curl;
    curl_easy_reset (c);
    char url[2048], hdr[256];
    snprintf (url, sizeof url, "%s%s", p->base, path);
    struct curl_slist *h = NULL;
    if (version)
        h = curl_slist_append (h, "X-Kite-Version: 3");
    if (!auth || *auth) {
        snprintf (hdr, sizeof hdr, "Authorization: token %s:%s", KEY, auth ? auth : TOKEN);
        h = curl_slist_append (h, hdr);
    }
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    if (form)
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 7000L);
    if (p->fresh) {
        //  libcurl silently resends a request whose reused connection died without an
        //  answer; a test of "accepted, then hung up" must not let it.
        curl_easy_setopt (c, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt (c, CURLOPT_FORBID_REUSE, 1L);
        p->fresh = false;
    }
    r.rc = curl_easy_perform (c);
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &r.status);
    char *ct = NULL;
    curl_easy_getinfo (c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf (r.ctype, sizeof r.ctype, "%s", ct ? ct : "");
    curl_slist_free_all (h);
    if (r.body && strstr (r.ctype, "json"))
        r.json = cJSON_Parse (r.body);
    return r;
}

//  A request that waits out Kite's rate limits (most tests are not about them).
static resp_t
s_req (sim_proc_t *p, const char *method, const char *path, const char *form)
{
    for (int i = 0;; i++) {
        resp_t r = s_req_full (p, method, path, form, NULL, true);
        if (r.status != 429 || i == 50)
            return r;
        s_resp_free (&r);
        usleep (120000);
    }
}

//  Exactly one request (rate-limit and storm tests).
static resp_t
s_req_once (sim_proc_t *p, const char *method, const char *path, const char *form)
{
    return s_req_full (p, method, path, form, NULL, true);
}

static resp_t
s_admin (sim_proc_t *p, const char *path, const char *form)
{
    return s_req_full (p, "POST", path, form, "", false);
}

static const cJSON *
s_data (const resp_t *r)
{
    return r->json ? cJSON_GetObjectItemCaseSensitive (r->json, "data") : NULL;
}

static const char *
s_str (const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
    return cJSON_IsString (v) ? v->valuestring : NULL;
}

static double
s_num (const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
    return cJSON_IsNumber (v) ? v->valuedouble : NAN;
}

//  An error answer: status, envelope and error_type.
static void
s_expect_error (resp_t *r, long status, const char *error_type)
{
    if (r->status != status || !r->json)
        fail_msg ("want %ld %s, got %ld: %s", status, error_type, r->status,
                  r->body ? r->body : "(none)");
    assert_string_equal (s_str (r->json, "status"), "error");
    assert_string_equal (s_str (r->json, "error_type"), error_type);
    assert_non_null (s_str (r->json, "message"));
    assert_true (cJSON_IsNull (cJSON_GetObjectItemCaseSensitive (r->json, "data")));
    s_resp_free (r);
}

static void
s_expect_ok (resp_t *r)
{
    if (r->status != 200 || !r->json)
        fail_msg ("want 200, got %ld (curl %d): %s", r->status, r->rc, r->body ? r->body : "");
    assert_string_equal (s_str (r->json, "status"), "success");
}

static void
s_clock (sim_proc_t *p, const char *form)
{
    resp_t r = s_admin (p, "/_admin/clock", form);
    s_expect_ok (&r);
    s_resp_free (&r);
}

static void
s_fault (sim_proc_t *p, const char *form)
{
    resp_t r = s_admin (p, "/_admin/fault", form);
    s_expect_ok (&r);
    s_resp_free (&r);
}

//  First option symbol (and token) from the instruments CSV.
static void
s_first_option (sim_proc_t *p, char *sym, size_t len, uint32_t *token)
{
    resp_t r = s_req (p, "GET", "/instruments/NFO", NULL);
    assert_int_equal (r.status, 200);
    char *line = strchr (r.body, '\n');
    assert_non_null (line);
    unsigned long tok = 0;
    char s[64];
    assert_int_equal (sscanf (line + 1, "%lu,%*[^,],%63[^,]", &tok, s), 2);
    snprintf (sym, len, "%s", s);
    *token = (uint32_t) tok;
    s_resp_free (&r);
}

static void
s_sha256_hex (const char *a, const char *b, const char *c, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_MD_CTX *x = EVP_MD_CTX_new ();
    EVP_DigestInit_ex (x, EVP_sha256 (), NULL);
    EVP_DigestUpdate (x, a, strlen (a));
    EVP_DigestUpdate (x, b, strlen (b));
    EVP_DigestUpdate (x, c, strlen (c));
    EVP_DigestFinal_ex (x, md, &n);
    EVP_MD_CTX_free (x);
    for (int i = 0; i < 32; i++)
        sprintf (out + 2 * i, "%02x", md[i]);
}

// ---- independent ticker decoder (kite-protocol.md 6.3 - 6.5) --------------------------------

typedef struct {
    uint32_t token;
    int len;                         //  packet length: 8, 28, 32, 44, 184
    int64_t ltp, o, h, l, c, change; //  paise
    int64_t volume;
    uint32_t exch_ts;
    int64_t bid0, ask0;
} pkt_t;

static uint32_t
s_u32 (const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint16_t
s_u16 (const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

//  Paise per wire unit: NSE-like segments quote in paise; currency ones finer.
static int64_t
s_paise (uint32_t token, uint32_t raw)
{
    int seg = token & 0xFF;
    int64_t v = (int32_t) raw;
    if (seg == 3)
        return v / 100000;
    if (seg == 6)
        return v / 100;
    return v;
}

//  Decode one binary frame. Returns the packet count, -1 for a heartbeat, -2 if the
//  frame is malformed (lengths do not add up).
static int
s_decode (const uint8_t *f, size_t len, pkt_t *out, int max)
{
    if (len == 1)
        return -1;
    if (len < 2)
        return -2;
    int n = s_u16 (f);
    size_t off = 2;
    int got = 0;
    for (int i = 0; i < n; i++) {
        if (off + 2 > len)
            return -2;
        size_t pl = s_u16 (f + off);
        off += 2;
        if (off + pl > len)
            return -2;
        const uint8_t *p = f + off;
        off += pl;
        if (got >= max || (pl != 8 && pl != 28 && pl != 32 && pl != 44 && pl != 184))
            continue;
        pkt_t *k = &out[got++];
        memset (k, 0, sizeof *k);
        k->len = (int) pl;
        k->token = s_u32 (p);
        k->ltp = s_paise (k->token, s_u32 (p + 4));
        if (pl == 28 || pl == 32) { //  index: H, L, O, C, change
            k->h = s_paise (k->token, s_u32 (p + 8));
            k->l = s_paise (k->token, s_u32 (p + 12));
            k->o = s_paise (k->token, s_u32 (p + 16));
            k->c = s_paise (k->token, s_u32 (p + 20));
            k->change = s_paise (k->token, s_u32 (p + 24));
            if (pl == 32)
                k->exch_ts = s_u32 (p + 28);
        } else if (pl >= 44) {
            k->volume = s_u32 (p + 16);
            k->o = s_paise (k->token, s_u32 (p + 28));
            k->h = s_paise (k->token, s_u32 (p + 32));
            k->l = s_paise (k->token, s_u32 (p + 36));
            k->c = s_paise (k->token, s_u32 (p + 40));
            if (pl == 184) {
                k->exch_ts = s_u32 (p + 60);
                k->bid0 = s_paise (k->token, s_u32 (p + 64 + 4));
                k->ask0 = s_paise (k->token, s_u32 (p + 124 + 4));
            }
        }
    }
    return off == len ? got : -2;
}

// ---- WebSocket client (lws) -----------------------------------------------------------------

#define MSG_MAX 20000

typedef struct {
    uint8_t *data;
    size_t len;
    bool binary;
} msg_t;

typedef struct {
    struct lws_context *ctx;
    struct lws *wsi;
    bool established, closed, error;
    msg_t msgs[MSG_MAX];
    int nmsgs;
    uint8_t *rx;
    size_t rx_len;
    char out[8][4096]; //  queued text messages to send
    int nout;
    lws_sorted_usec_list_t wake; //  bounds each lws_service wait
} wsc_t;

static int
s_wsc_cb (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    wsc_t *w = lws_context_user (lws_get_context (wsi));
    (void) user;
    switch (reason) {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            w->established = true;
            if (w->nout)
                lws_callback_on_writable (wsi);
            break;
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            w->error = true;
            w->wsi = NULL;
            break;
        case LWS_CALLBACK_CLIENT_CLOSED:
            w->closed = true;
            w->wsi = NULL;
            break;
        case LWS_CALLBACK_CLIENT_RECEIVE:
            w->rx = realloc (w->rx, w->rx_len + len);
            memcpy (w->rx + w->rx_len, in, len);
            w->rx_len += len;
            if (lws_is_final_fragment (wsi) && !lws_remaining_packet_payload (wsi)) {
                if (w->nmsgs < MSG_MAX) {
                    w->msgs[w->nmsgs].data = w->rx;
                    w->msgs[w->nmsgs].len = w->rx_len;
                    w->msgs[w->nmsgs].binary = lws_frame_is_binary (wsi);
                    w->nmsgs++;
                } else
                    free (w->rx);
                w->rx = NULL;
                w->rx_len = 0;
            }
            break;
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            if (w->nout) {
                unsigned char buf[LWS_PRE + 4096];
                size_t n = strlen (w->out[0]);
                memcpy (buf + LWS_PRE, w->out[0], n);
                lws_write (wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
                memmove (w->out[0], w->out[1], sizeof w->out[0] * (size_t) (w->nout - 1));
                w->nout--;
                if (w->nout)
                    lws_callback_on_writable (wsi);
            }
            break;
        default:
            break;
    }
    return 0;
}

static const struct lws_protocols s_wsc_protocols[] = {
    {"kite-client", s_wsc_cb, 0, 65536, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

static void
s_wake (lws_sorted_usec_list_t *sul)
{
    (void) sul;
}

//  One bounded service step: lws_service would otherwise sleep until the next event.
static void
s_wsc_step (wsc_t *w)
{
    lws_sul_schedule (w->ctx, 0, &w->wake, s_wake, 10 * LWS_US_PER_MS);
    lws_service (w->ctx, 0);
}

static void
s_wsc_service (wsc_t *w, int ms)
{
    int64_t end = s_ms () + ms;
    while (s_ms () < end)
        s_wsc_step (w);
}

//  Service until pred(w) or timeout. Returns pred's final value.
static bool
s_wsc_until (wsc_t *w, bool (*pred) (wsc_t *, void *), void *arg, int ms)
{
    int64_t end = s_ms () + ms;
    while (s_ms () < end) {
        if (pred (w, arg))
            return true;
        s_wsc_step (w);
    }
    return pred (w, arg);
}

static bool
s_is_up (wsc_t *w, void *arg)
{
    (void) arg;
    return w->established || w->error || w->closed;
}

static wsc_t *
s_wsc_open (sim_proc_t *p, const char *token)
{
    wsc_t *w = calloc (1, sizeof *w);
    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = s_wsc_protocols;
    info.user = w;
    w->ctx = lws_create_context (&info);
    assert_non_null (w->ctx);
    char path[256];
    snprintf (path, sizeof path, "/?api_key=%s&access_token=%s", KEY, token);
    struct lws_client_connect_info ci;
    memset (&ci, 0, sizeof ci);
    ci.context = w->ctx;
    ci.address = "127.0.0.1";
    ci.port = p->ws_port;
    ci.path = path;
    ci.host = "127.0.0.1";
    ci.origin = "127.0.0.1";
    ci.local_protocol_name = "kite-client";
    ci.pwsi = &w->wsi;
    lws_client_connect_via_info (&ci);
    s_wsc_until (w, s_is_up, NULL, 5000);
    return w;
}

static void
s_wsc_send (wsc_t *w, const char *text)
{
    assert_true (w->nout < 8);
    snprintf (w->out[w->nout++], sizeof w->out[0], "%s", text);
    if (w->wsi)
        lws_callback_on_writable (w->wsi);
}

static void
s_wsc_clear (wsc_t *w)
{
    for (int i = 0; i < w->nmsgs; i++)
        free (w->msgs[i].data);
    w->nmsgs = 0;
}

static void
s_wsc_close (wsc_t **wp)
{
    wsc_t *w = *wp;
    lws_sul_cancel (&w->wake);
    lws_context_destroy (w->ctx);
    s_wsc_clear (w);
    free (w->rx);
    free (w);
    *wp = NULL;
}

//  Status code of a raw WebSocket upgrade; the socket stays open in *fd_out on 101.
static int
s_upgrade (sim_proc_t *p, const char *token, int *fd_out)
{
    int fd = s_connect (p->ws_port);
    assert_true (fd >= 0);
    char req[512];
    int n = snprintf (req, sizeof req,
                      "GET /?api_key=%s&access_token=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\nX-Kite-Version: 3\r\n\r\n",
                      KEY, token);
    assert_int_equal (write (fd, req, (size_t) n), n);
    char buf[1024] = "";
    size_t got = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (!strstr (buf, "\r\n\r\n") && got < sizeof buf - 1 && poll (&pfd, 1, 3000) == 1) {
        ssize_t k = read (fd, buf + got, sizeof buf - 1 - got);
        if (k <= 0)
            break;
        got += (size_t) k;
        buf[got] = '\0';
    }
    int status = 0;
    sscanf (buf, "HTTP/1.%*d %d", &status);
    if (status == 101 && fd_out)
        *fd_out = fd;
    else
        close (fd);
    return status;
}

// ---- tests --------------------------------------------------------------------------------

static void
test_bad_args (void **state)
{
    (void) state;
    char bin[256], cmd[512];
    s_bin (bin, sizeof bin);
    snprintf (cmd, sizeof cmd, "%s --http nonsense --ws 127.0.0.1:1 2>/dev/null", bin);
    int st = system (cmd);
    assert_int_equal (WEXITSTATUS (st), 2);
    snprintf (cmd, sizeof cmd, "%s --speed -3 2>/dev/null", bin);
    assert_int_equal (WEXITSTATUS (system (cmd)), 2);
    snprintf (cmd, sizeof cmd, "%s --date 2025-13-40 2>/dev/null", bin);
    assert_int_equal (WEXITSTATUS (system (cmd)), 2);
    snprintf (cmd, sizeof cmd, "%s --wat 2>&1 | wc -l", bin);
    FILE *f = popen (cmd, "r");
    int lines = 0;
    assert_int_equal (fscanf (f, "%d", &lines), 1);
    pclose (f);
    assert_int_equal (lines, 1);
}

static void
test_session (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", NULL);
    char sum[65], form[512];
    s_sha256_hex (KEY, "rt-1", SECRET, sum);
    snprintf (form, sizeof form, "api_key=%s&request_token=rt-1&checksum=%s", KEY, sum);
    resp_t r = s_req_full (p, "POST", "/session/token", form, "", true);
    s_expect_ok (&r);
    const char *tok = s_str (s_data (&r), "access_token");
    assert_non_null (tok);
    assert_int_equal (strlen (tok), 32);
    char token[64] = "";
    strncat (token, tok, sizeof token - 1);
    assert_string_equal (s_str (s_data (&r), "api_key"), KEY);
    s_resp_free (&r);

    r = s_req_full (p, "GET", "/user/profile", NULL, token, true);
    s_expect_ok (&r);
    s_resp_free (&r);
    //  A request token is single-use.
    r = s_req_full (p, "POST", "/session/token", form, "", true);
    s_expect_error (&r, 403, "TokenException");
    //  Wrong checksum, missing field, wrong api_key.
    snprintf (form, sizeof form, "api_key=%s&request_token=rt-2&checksum=%064d", KEY, 0);
    r = s_req_full (p, "POST", "/session/token", form, "", true);
    s_expect_error (&r, 403, "TokenException");
    r = s_req_full (p, "POST", "/session/token", "api_key=" KEY "&request_token=x", "", true);
    s_expect_error (&r, 400, "InputException");
    //  Logout kills the token.
    char path[256];
    snprintf (path, sizeof path, "/session/token?api_key=%s&access_token=%s", KEY, token);
    r = s_req_full (p, "DELETE", path, NULL, token, true);
    s_expect_ok (&r);
    assert_true (cJSON_IsTrue (s_data (&r)));
    s_resp_free (&r);
    r = s_req_full (p, "GET", "/user/profile", NULL, token, true);
    s_expect_error (&r, 403, "TokenException");
    s_stop (&p);
}

static void
test_auth_and_routes (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", NULL);
    resp_t r = s_req_full (p, "GET", "/user/profile", NULL, "", true);
    s_expect_error (&r, 403, "TokenException");
    r = s_req_full (p, "GET", "/user/profile", NULL, "not-a-token", true);
    s_expect_error (&r, 403, "TokenException");
    r = s_req_full (p, "GET", "/user/profile", NULL, NULL, false);
    s_expect_error (&r, 400, "InputException");
    r = s_req (p, "GET", "/no/such/route", NULL);
    s_expect_error (&r, 404, "GeneralException");
    r = s_req (p, "PUT", "/user/profile", "x=1");
    s_expect_error (&r, 405, "GeneralException");
    r = s_req (p, "GET", "/user/margins/bogus", NULL);
    s_expect_error (&r, 400, "InputException");
    s_stop (&p);
}

static void
test_market_data (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", "--paused", NULL);
    s_clock (p, "step_to=09:30:00");
    char sym[64], path[512];
    uint32_t tok;
    s_first_option (p, sym, sizeof sym, &tok);

    resp_t r = s_req (p, "GET", "/instruments", NULL);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (r.ctype, "text/csv"));
    assert_int_equal (strncmp (r.body, "instrument_token,exchange_token,tradingsymbol,name,", 51),
                      0);
    assert_non_null (strstr (r.body, "256265,"));
    s_resp_free (&r);
    r = s_req (p, "GET", "/instruments/INDICES", NULL);
    assert_non_null (strstr (r.body, "NIFTY 50"));
    assert_null (strstr (r.body, "NFO-OPT"));
    s_resp_free (&r);

    snprintf (path, sizeof path, "/quote?i=NFO:%s&i=NSE:NIFTY+50&i=NSE:NOPE", sym);
    r = s_req (p, "GET", path, NULL);
    s_expect_ok (&r);
    char key[80];
    snprintf (key, sizeof key, "NFO:%s", sym);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive (s_data (&r), key);
    assert_non_null (q);
    assert_int_equal ((int64_t) s_num (q, "instrument_token"), tok);
    assert_true (s_num (q, "last_price") > 0);
    const cJSON *depth = cJSON_GetObjectItemCaseSensitive (q, "depth");
    assert_int_equal (cJSON_GetArraySize (cJSON_GetObjectItemCaseSensitive (depth, "buy")), 5);
    assert_non_null (cJSON_GetObjectItemCaseSensitive (s_data (&r), "NSE:NIFTY 50"));
    assert_null (cJSON_GetObjectItemCaseSensitive (s_data (&r), "NSE:NOPE"));
    s_resp_free (&r);
    //  Quote class is 1/s: the next /quote/ltp at once is throttled.
    r = s_req_once (p, "GET", "/quote/ltp?i=NSE:NIFTY+50", NULL);
    s_expect_error (&r, 429, "NetworkException");
    usleep (1100000);
    r = s_req (p, "GET", "/quote/ohlc?i=256265", NULL);
    s_expect_ok (&r);
    assert_non_null (cJSON_GetObjectItemCaseSensitive (
        cJSON_GetObjectItemCaseSensitive (s_data (&r), "256265"), "ohlc"));
    s_resp_free (&r);

    snprintf (path, sizeof path,
              "/instruments/historical/256265/minute?from=2025-11-24+09:15:00"
              "&to=2025-11-24+09:29:00&oi=1");
    r = s_req (p, "GET", path, NULL);
    s_expect_ok (&r);
    const cJSON *candles = cJSON_GetObjectItemCaseSensitive (s_data (&r), "candles");
    assert_int_equal (cJSON_GetArraySize (candles), 15);
    const cJSON *c0 = cJSON_GetArrayItem (candles, 0);
    assert_string_equal (cJSON_GetArrayItem (c0, 0)->valuestring, "2025-11-24T09:15:00+0530");
    assert_int_equal (cJSON_GetArraySize (c0), 7);
    s_resp_free (&r);
    r = s_req (p, "GET",
               "/instruments/historical/256265/5minute?from=2025-11-24+09:15:00"
               "&to=2025-11-24+09:29:00",
               NULL);
    s_expect_ok (&r);
    candles = cJSON_GetObjectItemCaseSensitive (s_data (&r), "candles");
    assert_int_equal (cJSON_GetArraySize (candles), 3);
    assert_string_equal (cJSON_GetArrayItem (cJSON_GetArrayItem (candles, 1), 0)->valuestring,
                         "2025-11-24T09:20:00+0530");
    s_resp_free (&r);
    usleep (1100000);
    r = s_req (p, "GET", "/instruments/historical/256265/2minute?from=2025-11-24&to=2025-11-24",
               NULL);
    s_expect_error (&r, 400, "InputException");
    r = s_req (p, "GET", "/instruments/historical/256265/minute?from=x&to=y", NULL);
    s_expect_error (&r, 400, "InputException");
    //  Historical class is 3/s.
    int throttled = 0;
    usleep (1100000);
    for (int i = 0; i < 4; i++) {
        r = s_req_once (
            p, "GET", "/instruments/historical/256265/minute?from=2025-11-24&to=2025-11-24", NULL);
        throttled += r.status == 429;
        s_resp_free (&r);
    }
    assert_true (throttled >= 1);
    s_stop (&p);
}

static bool
s_order_status_is (sim_proc_t *p, const char *id, const char *want, int ms)
{
    char path[128];
    snprintf (path, sizeof path, "/orders/%s", id);
    int64_t end = s_ms () + ms;
    do {
        resp_t r = s_req (p, "GET", path, NULL);
        const cJSON *rows = s_data (&r);
        const cJSON *last = cJSON_GetArrayItem (rows, cJSON_GetArraySize (rows) - 1);
        bool ok = last && s_str (last, "status") && strcmp (s_str (last, "status"), want) == 0;
        s_resp_free (&r);
        if (ok)
            return true;
        usleep (50000);
    } while (s_ms () < end);
    return false;
}

static char *
s_place (sim_proc_t *p, const char *form)
{
    resp_t r = s_req (p, "POST", "/orders/regular", form);
    s_expect_ok (&r);
    char *id = strdup (s_str (s_data (&r), "order_id"));
    s_resp_free (&r);
    return id;
}

static void
test_orders (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", "--speed", "30", NULL);
    char sym[64], form[512], path[256];
    uint32_t tok;
    s_first_option (p, sym, sizeof sym, &tok);

    //  A far LIMIT rests OPEN; modify it; cancel it.
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=LIMIT&quantity=75&product=NRML&price=0.05&tag=itest1",
              sym);
    char *id = s_place (p, form);
    assert_true (s_order_status_is (p, id, "OPEN", 3000));
    snprintf (path, sizeof path, "/orders/regular/%s", id);
    resp_t r = s_req (p, "PUT", path, "price=0.10&quantity=150");
    s_expect_ok (&r);
    assert_string_equal (s_str (s_data (&r), "order_id"), id);
    s_resp_free (&r);
    snprintf (path, sizeof path, "/orders/%s", id);
    r = s_req (p, "GET", path, NULL);
    s_expect_ok (&r);
    const cJSON *rows = s_data (&r);
    assert_true (cJSON_GetArraySize (rows) >= 4);
    assert_string_equal (s_str (cJSON_GetArrayItem (rows, 0), "status"), "PUT ORDER REQ RECEIVED");
    const cJSON *last = cJSON_GetArrayItem (rows, cJSON_GetArraySize (rows) - 1);
    assert_true (fabs (s_num (last, "price") - 0.1) < 1e-9);
    assert_int_equal ((int) s_num (last, "quantity"), 150);
    s_resp_free (&r);
    snprintf (path, sizeof path, "/orders/regular/%s", id);
    r = s_req (p, "DELETE", path, NULL);
    s_expect_ok (&r);
    s_resp_free (&r);
    assert_true (s_order_status_is (p, id, "CANCELLED", 3000));
    snprintf (path, sizeof path, "/orders/%s/trades", id);
    r = s_req (p, "GET", path, NULL);
    s_expect_ok (&r);
    assert_int_equal (cJSON_GetArraySize (s_data (&r)), 0);
    s_resp_free (&r);
    //  Cancelling again is an order error.
    snprintf (path, sizeof path, "/orders/regular/%s", id);
    r = s_req (p, "DELETE", path, NULL);
    assert_int_equal (r.status / 100, 4);
    s_resp_free (&r);
    free (id);

    //  A MARKET order fills: trade, position, order book.
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=MARKET&quantity=75&product=MIS&market_protection=-1&tag=itest2",
              sym);
    id = s_place (p, form);
    assert_true (s_order_status_is (p, id, "COMPLETE", 5000));
    snprintf (path, sizeof path, "/orders/%s/trades", id);
    r = s_req (p, "GET", path, NULL);
    s_expect_ok (&r);
    assert_int_equal (cJSON_GetArraySize (s_data (&r)), 1);
    assert_int_equal ((int) s_num (cJSON_GetArrayItem (s_data (&r), 0), "quantity"), 75);
    s_resp_free (&r);
    r = s_req (p, "GET", "/trades", NULL);
    s_expect_ok (&r);
    assert_int_equal (cJSON_GetArraySize (s_data (&r)), 1);
    s_resp_free (&r);
    r = s_req (p, "GET", "/portfolio/positions", NULL);
    s_expect_ok (&r);
    const cJSON *net = cJSON_GetObjectItemCaseSensitive (s_data (&r), "net");
    assert_int_equal (cJSON_GetArraySize (net), 1);
    assert_int_equal ((int) s_num (cJSON_GetArrayItem (net, 0), "quantity"), 75);
    assert_string_equal (s_str (cJSON_GetArrayItem (net, 0), "tradingsymbol"), sym);
    s_resp_free (&r);
    r = s_req (p, "GET", "/orders", NULL);
    s_expect_ok (&r);
    assert_int_equal (cJSON_GetArraySize (s_data (&r)), 2);
    s_resp_free (&r);
    r = s_req (p, "GET", "/user/margins/equity", NULL);
    s_expect_ok (&r);
    //  The bought premium is blocked: net below the opening balance (Rs 1 crore default).
    const cJSON *avail = cJSON_GetObjectItemCaseSensitive (s_data (&r), "available");
    assert_true (s_num (avail, "opening_balance") == 10000000.0);
    assert_true (s_num (s_data (&r), "net") < s_num (avail, "opening_balance"));
    s_resp_free (&r);
    free (id);

    //  Synchronous input errors.
    r = s_req (p, "POST", "/orders/regular", "exchange=NFO&transaction_type=BUY");
    s_expect_error (&r, 400, "InputException");
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=LIMIT&quantity=75&product=MIS&price=1&tag=abcdefghijklmnopqrstu",
              sym);
    r = s_req (p, "POST", "/orders/regular", form);
    s_expect_error (&r, 400, "InputException");
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=MARKET&quantity=75&product=MIS&market_protection=0",
              sym);
    r = s_req (p, "POST", "/orders/regular", form);
    s_expect_error (&r, 400, "InputException");
    r = s_req (p, "POST", "/orders/iceberg", form);
    s_expect_error (&r, 400, "InputException");
    r = s_req (p, "GET", "/orders/999999", NULL);
    s_expect_error (&r, 400, "InputException");
    s_stop (&p);
}

//  The depth side of a /quote object: best price.
static double
s_best (const cJSON *q, const char *side)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive (q, "depth");
    return s_num (cJSON_GetArrayItem (cJSON_GetObjectItemCaseSensitive (d, side), 0), "price");
}

//  kite-sim's default date on Sunday 2026-12-06 (seed 7): the session rolls to Monday; at
//  the open the last price is inside the book, so a BUY LIMIT at half of it rests. Then
//  the venue's checks Kite makes: no MARKET / SL-M without market protection, and the
//  15:20 square-off orders marked placed_by ADMINSQF.
static void
test_weekend_open (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2026-12-06", "--seed", "7", "--paused", NULL);
    resp_t r = s_req (p, "GET", "/_admin/clock", NULL);
    s_expect_ok (&r);
    assert_string_equal (s_str (s_data (&r), "now"), "2026-12-07 09:15:00");
    s_resp_free (&r);
    s_clock (p, "step_to=09:15:00");
    const char *sym = "NIFTY26D0823450PE";
    r = s_req (p, "GET", "/quote?i=NFO:NIFTY26D0823450PE", NULL);
    s_expect_ok (&r);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive (s_data (&r), "NFO:NIFTY26D0823450PE");
    assert_non_null (q);
    double ltp = s_num (q, "last_price"), bid = s_best (q, "buy"), ask = s_best (q, "sell");
    if (!(ltp >= bid && ltp <= ask))
        fail_msg ("last_price %.2f outside bid %.2f / ask %.2f", ltp, bid, ask);
    s_resp_free (&r);
    char form[512], price[32];
    snprintf (price, sizeof price, "%.2f", floor (ltp * 10.0) / 20.0); //  half, on tick
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=LIMIT&quantity=75&product=NRML&price=%s",
              sym, price);
    char *id = s_place (p, form);
    s_clock (p, "step_to=09:15:01");
    assert_true (s_order_status_is (p, id, "OPEN", 1000));
    free (id);

    //  MARKET and SL-M orders without market_protection, or with 0, are refused as Kite
    //  refuses them; nothing enters the book.
    static const char *const unprotected[] = {
        "order_type=MARKET",
        "order_type=MARKET&market_protection=0",
        "order_type=SL-M&trigger_price=500",
    };
    for (size_t i = 0; i < sizeof unprotected / sizeof unprotected[0]; i++) {
        snprintf (form, sizeof form,
                  "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
                  "&quantity=75&product=MIS&%s",
                  sym, unprotected[i]);
        r = s_req (p, "POST", "/orders/regular", form);
        assert_int_equal (r.status, 400);
        assert_non_null (strstr (s_str (r.json, "message"), "without market protection"));
        s_expect_error (&r, 400, "InputException");
    }
    r = s_req (p, "GET", "/orders", NULL);
    assert_int_equal (cJSON_GetArraySize (s_data (&r)), 1);
    s_resp_free (&r);

    //  A MIS long closed by the venue at 15:20: its order is the broker's, not ours.
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=MARKET&quantity=75&product=MIS&market_protection=-1&tag=mine",
              sym);
    id = s_place (p, form);
    free (id);
    s_clock (p, "step_to=15:21:00");
    r = s_req (p, "GET", "/orders", NULL);
    s_expect_ok (&r);
    int mine = 0, admin = 0;
    const cJSON *row;
    cJSON_ArrayForEach (row, s_data (&r))
    {
        const char *by = s_str (row, "placed_by");
        assert_non_null (by);
        if (strcmp (by, "ADMINSQF") == 0) {
            admin++;
            assert_string_equal (s_str (row, "transaction_type"), "SELL");
            assert_string_equal (s_str (row, "status"), "COMPLETE");
            assert_true (cJSON_IsNull (cJSON_GetObjectItemCaseSensitive (row, "tag")));
        } else {
            mine++;
            assert_string_equal (by, "SM0001");
        }
    }
    assert_int_equal (admin, 1);
    assert_int_equal (mine, 2);
    s_resp_free (&r);
    s_stop (&p);
}

static void
test_order_rate_limit (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", NULL);
    int throttled = 0, first_ten_throttled = 0;
    for (int i = 0; i < 20; i++) {
        resp_t r = s_req_once (p, "POST", "/orders/regular", "exchange=NFO");
        if (r.status == 429) {
            throttled++;
            first_ten_throttled += i < 10;
            assert_string_equal (s_str (r.json, "message"), "Too many requests");
        } else
            assert_int_equal (r.status, 400);
        s_resp_free (&r);
    }
    assert_int_equal (first_ten_throttled, 0);
    assert_true (throttled >= 1);
    s_stop (&p);
}

static void
test_faults_http (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", "--speed", "30", NULL);
    char sym[64], form[512];
    uint32_t tok;
    s_first_option (p, sym, sizeof sym, &tok);
    //  Latency on one path only.
    s_fault (p, "kind=latency&ms=300&path=/user/profile");
    int64_t t0 = s_ms ();
    resp_t r = s_req (p, "GET", "/user/profile", NULL);
    s_expect_ok (&r);
    s_resp_free (&r);
    assert_true (s_ms () - t0 >= 300);
    s_fault (p, "kind=latency&ms=0");
    //  Two 503s, then normal.
    s_fault (p, "kind=http_error&status=503&count=2&path=/user");
    r = s_req (p, "GET", "/user/margins", NULL);
    s_expect_error (&r, 503, "NetworkException");
    r = s_req (p, "GET", "/user/margins", NULL);
    s_expect_error (&r, 503, "NetworkException");
    r = s_req (p, "GET", "/user/margins", NULL);
    s_expect_ok (&r);
    s_resp_free (&r);
    s_fault (p, "kind=http_error&status=502&count=1");
    r = s_req (p, "GET", "/portfolio/positions", NULL);
    s_expect_error (&r, 502, "DataException");
    //  A 429 storm.
    s_fault (p, "kind=storm&count=3");
    for (int i = 0; i < 3; i++) {
        r = s_req_once (p, "GET", "/portfolio/holdings", NULL);
        s_expect_error (&r, 429, "NetworkException");
    }
    r = s_req (p, "GET", "/portfolio/holdings", NULL);
    s_expect_ok (&r);
    s_resp_free (&r);
    //  Accept then hang up: the order exists, the caller never hears.
    s_fault (p, "kind=drop_response&count=1");
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=LIMIT&quantity=75&product=NRML&price=0.05&tag=dropme",
              sym);
    p->fresh = true;
    r = s_req (p, "POST", "/orders/regular", form);
    assert_int_equal (r.rc, CURLE_GOT_NOTHING);
    s_resp_free (&r);
    r = s_req (p, "GET", "/orders", NULL);
    s_expect_ok (&r);
    int found_n = 0;
    const cJSON *o;
    cJSON_ArrayForEach (o, s_data (&r)) found_n +=
        s_str (o, "tag") && strcmp (s_str (o, "tag"), "dropme") == 0;
    assert_int_equal (found_n, 1);
    bool found;
    s_resp_free (&r);
    //  5xx after processing: the order exists although the answer is an error.
    s_fault (p, "kind=http_error&status=504&count=1&after=1&path=/orders");
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=LIMIT&quantity=75&product=NRML&price=0.05&tag=after504",
              sym);
    r = s_req (p, "POST", "/orders/regular", form);
    s_expect_error (&r, 504, "DataException");
    r = s_req (p, "GET", "/orders", NULL);
    found = false;
    cJSON_ArrayForEach (o, s_data (&r)) found |=
        s_str (o, "tag") && strcmp (s_str (o, "tag"), "after504") == 0;
    assert_true (found);
    s_resp_free (&r);
    //  RMS rejection after acceptance.
    s_fault (p, "kind=rms_reject&message=Insufficient+funds");
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=LIMIT&quantity=75&product=NRML&price=0.05&tag=rms",
              sym);
    char *id = s_place (p, form);
    assert_true (s_order_status_is (p, id, "REJECTED", 3000));
    free (id);
    //  Position changed behind the client's back.
    char f2[256];
    snprintf (f2, sizeof f2, "kind=position&tradingsymbol=%s&quantity=-75", sym);
    s_fault (p, f2);
    r = s_req (p, "GET", "/portfolio/positions", NULL);
    s_expect_ok (&r);
    const cJSON *net = cJSON_GetObjectItemCaseSensitive (s_data (&r), "net");
    found = false;
    cJSON_ArrayForEach (o, net) found |=
        strcmp (s_str (o, "tradingsymbol"), sym) == 0 && (int) s_num (o, "quantity") == -75;
    assert_true (found);
    s_resp_free (&r);
    //  Token expiry: 403 until a new login.
    s_fault (p, "kind=expire_tokens");
    r = s_req (p, "GET", "/user/profile", NULL);
    s_expect_error (&r, 403, "TokenException");
    r = s_admin (p, "/_admin/fault", "kind=nonsense");
    s_expect_error (&r, 400, "InputException");
    s_stop (&p);
}

static bool
s_has_n_msgs (wsc_t *w, void *arg)
{
    return w->nmsgs >= *(int *) arg || w->closed;
}

//  Decode every binary message received so far into pk; count heartbeats.
static int
s_collect (wsc_t *w, pkt_t *pk, int max, int *beats, int *bad, int *multi)
{
    int n = 0;
    for (int i = 0; i < w->nmsgs; i++) {
        if (!w->msgs[i].binary)
            continue;
        int k = s_decode (w->msgs[i].data, w->msgs[i].len, pk + n, max - n);
        if (k == -1)
            (*beats)++;
        else if (k == -2)
            (*bad)++;
        else {
            if (multi && k > 1)
                (*multi)++;
            n += k;
        }
    }
    return n;
}

static int64_t
s_rest_ltp (sim_proc_t *p, const char *key)
{
    char path[256], esc[128];
    size_t j = 0;
    for (const char *c = key; *c && j < sizeof esc - 4; c++)
        j += (size_t) (*c == ' ' ? snprintf (esc + j, 4, "%%20") : snprintf (esc + j, 2, "%c", *c));
    snprintf (path, sizeof path, "/quote/ltp?i=%s", esc);
    resp_t r;
    for (int i = 0; i < 30; i++) {
        r = s_req (p, "GET", path, NULL);
        if (r.status != 429)
            break;
        s_resp_free (&r);
        usleep (200000);
    }
    s_expect_ok (&r);
    double px = s_num (cJSON_GetObjectItemCaseSensitive (s_data (&r), key), "last_price");
    s_resp_free (&r);
    return llround (px * 100);
}

static void
test_ws_auth (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", NULL);
    assert_int_equal (s_upgrade (p, "wrong", NULL), 403);
    int fds[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_upgrade (p, TOKEN, &fds[i]), 101);
    assert_int_equal (s_upgrade (p, TOKEN, NULL), 429);
    close (fds[0]);
    usleep (200000);
    int fd;
    assert_int_equal (s_upgrade (p, TOKEN, &fd), 101);
    close (fd);
    close (fds[1]);
    close (fds[2]);
    //  An lws client with a bad token never gets established.
    wsc_t *w = s_wsc_open (p, "wrong");
    assert_false (w->established);
    s_wsc_close (&w);
    s_stop (&p);
}

static void
test_ws_ticks_match_rest (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", "--paused", NULL);
    s_clock (p, "step_to=09:20:00");
    char sym[64], msg[256];
    uint32_t tok;
    s_first_option (p, sym, sizeof sym, &tok);
    wsc_t *w = s_wsc_open (p, TOKEN);
    assert_true (w->established);
    snprintf (msg, sizeof msg, "{\"a\": \"subscribe\", \"v\": [256265, %u]}", tok);
    s_wsc_send (w, msg);
    snprintf (msg, sizeof msg, "{ \"a\" : \"mode\" , \"v\" : [ \"full\" , [ 256265, %u ] ] }", tok);
    s_wsc_send (w, msg);
    int want = 2;
    assert_true (s_wsc_until (w, s_has_n_msgs, &want, 3000));
    s_wsc_service (w, 300);
    pkt_t pk[64];
    int beats = 0, bad = 0;
    int n = s_collect (w, pk, 64, &beats, &bad, NULL);
    assert_int_equal (bad, 0);
    //  Snapshots: quote on subscribe (28 / 44), then full on mode (32 / 184).
    int lens[4] = {0};
    for (int i = 0; i < n; i++) {
        if (pk[i].token == 256265)
            lens[pk[i].len == 28 ? 0 : pk[i].len == 32 ? 1 : 3]++;
        else
            lens[pk[i].len == 44 ? 2 : pk[i].len == 184 ? 1 : 3] += pk[i].len == 184 ? 0 : 1;
    }
    assert_true (lens[0] >= 1 && lens[1] >= 1 && lens[2] >= 1 && lens[3] == 0);
    //  The decoded prices are what REST reports at this paused instant.
    int64_t idx_ltp = 0, opt_ltp = 0;
    for (int i = 0; i < n; i++) {
        if (pk[i].token == 256265 && pk[i].len == 32) {
            idx_ltp = pk[i].ltp;
            assert_int_equal (pk[i].change, pk[i].ltp - pk[i].c);
            assert_true (pk[i].h >= pk[i].l && pk[i].h >= pk[i].ltp && pk[i].l <= pk[i].ltp);
        }
        if (pk[i].token == tok && pk[i].len == 184) {
            opt_ltp = pk[i].ltp;
            assert_true (pk[i].bid0 > 0 && pk[i].ask0 > pk[i].bid0);
        }
    }
    assert_true (idx_ltp > 0 && opt_ltp > 0);
    assert_int_equal (idx_ltp, s_rest_ltp (p, "NSE:NIFTY 50"));
    char key[80];
    snprintf (key, sizeof key, "NFO:%s", sym);
    assert_int_equal (opt_ltp, s_rest_ltp (p, key));

    //  Nothing moves while paused: heartbeats only, about one per second.
    s_wsc_clear (w);
    s_wsc_service (w, 2300);
    beats = bad = 0;
    n = s_collect (w, pk, 64, &beats, &bad, NULL);
    assert_int_equal (n, 0);
    assert_true (beats >= 1 && beats <= 3);

    //  A step streams many ticks, several packets per frame, in the client's modes.
    snprintf (msg, sizeof msg, "{\"a\":\"mode\",\"v\":[\"ltp\",[%u]]}", tok);
    s_wsc_send (w, msg);
    s_wsc_service (w, 200);
    s_wsc_clear (w);
    s_clock (p, "step_to=09:25:00");
    s_wsc_service (w, 500);
    static pkt_t many[200000];
    int multi = 0;
    n = s_collect (w, many, 200000, &beats, &bad, &multi);
    assert_true (n > 10);
    assert_true (multi >= 1);
    assert_int_equal (bad, 0);
    for (int i = 0; i < n; i++)
        assert_int_equal (many[i].len, many[i].token == 256265 ? 32 : 8);
    //  Unsubscribe: nothing more after the next step.
    s_wsc_send (w, "{\"a\":\"unsubscribe\",\"v\":[256265]}");
    snprintf (msg, sizeof msg, "{\"a\":\"unsubscribe\",\"v\":[%u]}", tok);
    s_wsc_send (w, msg);
    s_wsc_service (w, 200);
    s_wsc_clear (w);
    s_clock (p, "step_to=09:26:00");
    s_wsc_service (w, 300);
    n = s_collect (w, many, 200000, &beats, &bad, NULL);
    assert_int_equal (n, 0);
    //  A bad message gets an error text message.
    s_wsc_send (w, "{\"a\":\"subscribe\",\"v\":\"nope\"}");
    want = 1;
    s_wsc_clear (w);
    bool got_error = false;
    int64_t end = s_ms () + 2000;
    while (!got_error && s_ms () < end) {
        s_wsc_service (w, 50);
        for (int i = 0; i < w->nmsgs; i++)
            if (!w->msgs[i].binary) {
                cJSON *m = cJSON_ParseWithLength ((const char *) w->msgs[i].data, w->msgs[i].len);
                got_error |= m && s_str (m, "type") && strcmp (s_str (m, "type"), "error") == 0 &&
                             cJSON_IsString (cJSON_GetObjectItemCaseSensitive (m, "data"));
                cJSON_Delete (m);
            }
    }
    assert_true (got_error);
    s_wsc_close (&w);
    s_stop (&p);
}

static void
test_ws_order_updates (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", "--speed", "30", NULL);
    char sym[64], form[512];
    uint32_t tok;
    s_first_option (p, sym, sizeof sym, &tok);
    wsc_t *w = s_wsc_open (p, TOKEN);
    assert_true (w->established);
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=MARKET&quantity=75&product=MIS&market_protection=-1&tag=wsupd",
              sym);
    char *id = s_place (p, form);
    bool complete = false;
    int64_t end = s_ms () + 5000;
    while (!complete && s_ms () < end) {
        s_wsc_service (w, 50);
        for (int i = 0; i < w->nmsgs && !complete; i++) {
            if (w->msgs[i].binary)
                continue;
            cJSON *m = cJSON_ParseWithLength ((const char *) w->msgs[i].data, w->msgs[i].len);
            const cJSON *d = m ? cJSON_GetObjectItemCaseSensitive (m, "data") : NULL;
            if (m && strcmp (s_str (m, "type"), "order") == 0 &&
                strcmp (s_str (d, "order_id"), id) == 0 &&
                strcmp (s_str (d, "status"), "COMPLETE") == 0) {
                complete = true;
                assert_int_equal ((int) s_num (d, "filled_quantity"), 75);
                assert_string_equal (s_str (d, "tag"), "wsupd");
                assert_int_equal (strlen (s_str (d, "checksum")), 64);
            }
            cJSON_Delete (m);
        }
    }
    assert_true (complete);
    free (id);
    s_wsc_close (&w);
    s_stop (&p);
}

static void
test_ws_faults (void **state)
{
    (void) state;
    sim_proc_t *p = s_start ("--date", "2025-11-24", "--speed", "60", NULL);
    wsc_t *w = s_wsc_open (p, TOKEN);
    assert_true (w->established);
    s_wsc_send (w, "{\"a\":\"subscribe\",\"v\":[256265]}");
    s_wsc_service (w, 500);
    //  Malformed frames: the next one claims more bytes than it carries.
    s_fault (p, "kind=malformed&count=1");
    s_wsc_clear (w);
    s_wsc_service (w, 800);
    pkt_t pk[4096];
    int beats = 0, bad = 0;
    s_collect (w, pk, 4096, &beats, &bad, NULL);
    assert_int_equal (bad, 1);
    //  Silent: connected, not even heartbeats.
    s_fault (p, "kind=ws_silent&seconds=2");
    s_wsc_service (w, 100);
    s_wsc_clear (w);
    s_wsc_service (w, 1500);
    assert_int_equal (w->nmsgs, 0);
    assert_false (w->closed);
    s_fault (p, "kind=ws_silent&seconds=0");
    s_wsc_service (w, 500);
    assert_true (w->nmsgs > 0);
    //  Drop: the server hangs up.
    s_fault (p, "kind=ws_drop");
    int want = 1 << 30;
    s_wsc_until (w, s_has_n_msgs, &want, 3000);
    assert_true (w->closed);
    s_wsc_close (&w);
    s_stop (&p);
}

//  Record the full-mode stream of every instrument from 09:15 to 09:20 under a paused,
//  stepped clock. Returns the bytes of all binary frames but heartbeats (owned).
static uint8_t *
s_record (const char *seed, size_t *len)
{
    sim_proc_t *p = s_start ("--date", "2025-11-24", "--paused", "--seed", seed, NULL);
    resp_t r = s_req (p, "GET", "/instruments", NULL);
    char msg[4096] = "{\"a\":\"mode\",\"v\":[\"full\",[";
    char *line = strchr (r.body, '\n');
    int count = 0;
    while (line && line[1] && count < 300) {
        unsigned long tok;
        if (sscanf (line + 1, "%lu,", &tok) == 1) {
            size_t l = strlen (msg);
            snprintf (msg + l, sizeof msg - l, "%s%lu", count++ ? "," : "", tok);
        }
        line = strchr (line + 1, '\n');
    }
    strcat (msg, "]]}");
    s_resp_free (&r);
    wsc_t *w = s_wsc_open (p, TOKEN);
    assert_true (w->established);
    s_wsc_send (w, msg);
    s_wsc_service (w, 300);
    s_clock (p, "step_to=09:20:00");
    s_wsc_service (w, 1500);
    size_t total = 0;
    for (int i = 0; i < w->nmsgs; i++)
        total += w->msgs[i].binary && w->msgs[i].len > 1 ? w->msgs[i].len : 0;
    uint8_t *out = malloc (total + 1);
    size_t off = 0;
    for (int i = 0; i < w->nmsgs; i++)
        if (w->msgs[i].binary && w->msgs[i].len > 1) {
            memcpy (out + off, w->msgs[i].data, w->msgs[i].len);
            off += w->msgs[i].len;
        }
    s_wsc_close (&w);
    s_stop (&p);
    *len = total;
    return out;
}

static void
test_determinism (void **state)
{
    (void) state;
    size_t a_len, b_len, c_len;
    uint8_t *a = s_record ("42", &a_len);
    uint8_t *b = s_record ("42", &b_len);
    uint8_t *c = s_record ("43", &c_len);
    assert_true (a_len > 10000);
    assert_int_equal (a_len, b_len);
    assert_memory_equal (a, b, a_len);
    assert_true (c_len != a_len || memcmp (a, c, a_len) != 0);
    free (a);
    free (b);
    free (c);
}

//  An autoslice answer's child: its order id, or NULL for an error child.
static const char *
s_child_id (const cJSON *children, int i)
{
    return s_str (cJSON_GetArrayItem (children, i), "order_id");
}

//  The /orders row of an order id, or NULL.
static const cJSON *
s_order_row (const cJSON *orders, const char *id)
{
    const cJSON *o;
    cJSON_ArrayForEach (o, orders) if (id && s_str (o, "order_id") &&
                                       strcmp (s_str (o, "order_id"), id) == 0) return o;
    return NULL;
}

static void
test_autoslice (void **state)
{
    (void) state;
    //  Default balance Rs 1 crore: a short slice of 1800 blocks about Rs 52 lakh.
    sim_proc_t *p = s_start ("--date", "2025-11-24", "--speed", "30", NULL);
    char sym[64], form[512];
    uint32_t tok;
    s_first_option (p, sym, sizeof sym, &tok);
    //  A cheap buy: every child passes RMS.
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=LIMIT&quantity=3750&product=NRML&price=0.05&autoslice=true",
              sym);
    resp_t r = s_req (p, "POST", "/orders/regular", form);
    s_expect_ok (&r);
    const cJSON *children = cJSON_GetObjectItemCaseSensitive (s_data (&r), "children");
    assert_int_equal (cJSON_GetArraySize (children), 3);
    for (int i = 0; i < 3; i++)
        assert_non_null (s_child_id (children, i));
    s_resp_free (&r);
    //  A resting short of 1800 + 1800 + 150: the first slice fits, the second is short
    //  of funds and comes back as an error child (autoslice_response.json), the last
    //  (about Rs 4.3 lakh) fits again.
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=SELL"
              "&order_type=LIMIT&quantity=3750&product=NRML&price=9000&autoslice=true",
              sym);
    r = s_req (p, "POST", "/orders/regular", form);
    s_expect_ok (&r);
    char parent[64], kept[2][64];
    const char *pid = s_str (s_data (&r), "order_id");
    if (!pid)
        fail_msg ("no parent order_id");
    snprintf (parent, sizeof parent, "%s", pid);
    children = cJSON_GetObjectItemCaseSensitive (s_data (&r), "children");
    assert_int_equal (cJSON_GetArraySize (children), 3);
    for (int i = 0; i < 2; i++) {
        const char *id = s_child_id (children, 2 * i);
        if (!id)
            fail_msg ("child %d has no order_id", 2 * i);
        snprintf (kept[i], sizeof kept[i], "%s", id);
    }
    const cJSON *bad = cJSON_GetArrayItem (children, 1);
    assert_int_equal (cJSON_GetArraySize (bad), 1);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive (bad, "error");
    assert_int_equal (cJSON_GetArraySize (err), 4);
    assert_int_equal ((int) s_num (err, "code"), 400);
    assert_string_equal (s_str (err, "error_type"), "MarginException");
    const char *m = s_str (err, "message");
    assert_non_null (m);
    assert_non_null (strstr (m, "Insufficient funds. Required margin is "));
    assert_non_null (strstr (m, " but available margin is "));
    assert_true (cJSON_IsNull (cJSON_GetObjectItemCaseSensitive (err, "data")));
    s_resp_free (&r);
    //  The book has the two placed children, working and tagged with the parent; the
    //  error child is not there, and nothing was REJECTED.
    r = s_req (p, "GET", "/orders", NULL);
    s_expect_ok (&r);
    const cJSON *orders = s_data (&r);
    assert_int_equal (cJSON_GetArraySize (orders), 5);
    const int64_t qty[2] = {1800, 150};
    char tag[80];
    snprintf (tag, sizeof tag, "autoslice:%s", parent);
    for (int i = 0; i < 2; i++) {
        const cJSON *o = s_order_row (orders, kept[i]);
        assert_non_null (o);
        assert_string_equal (s_str (o, "status"), "OPEN");
        assert_int_equal ((int64_t) s_num (o, "quantity"), qty[i]);
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive (o, "tags");
        assert_string_equal (cJSON_GetArrayItem (tags, 0)->valuestring, "autoslice");
        assert_string_equal (cJSON_GetArrayItem (tags, 1)->valuestring, tag);
    }
    const cJSON *o;
    cJSON_ArrayForEach (o, orders) assert_string_not_equal (s_str (o, "status"), "REJECTED");
    s_resp_free (&r);
    s_stop (&p);
}

//  --replay without --date: the session is the file's day (a past Wednesday here, not
//  today), its prices are the file's at the paused instant, the listing expires on the
//  Tuesday after it and the candles are dated that day.
static void
test_replay_date_from_file (void **state)
{
    (void) state;
    char path[] = "/tmp/kite_sim_test_replay_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *f = fdopen (fd, "w");
    assert_non_null (f);
    //  ATM 25100 (the first index row rounded to 50); expiry Tuesday 2025-10-14 (weekly
    //  form: October is O).
    fprintf (f, "ts,tradingsymbol,ltp,volume\r\n"
                "2025-10-08 09:15:00,NIFTY 50,25105.40,0\r\n"
                "2025-10-08 09:15:30,NIFTY25O1425100CE,120.05,750\r\n"
                "2025-10-08 09:16:10,NIFTY 50,25111.25,0\r\n"
                "2025-10-08 09:16:20,NIFTY25O1425100CE,123.40,1500\r\n"
                "2025-10-08 09:17:05,NIFTY25O1425100CE,122.00,2250\r\n"
                "2025-10-08 09:17:06,NIFTY 50,25090.00,0\r\n");
    fclose (f);
    sim_proc_t *p = s_start ("--replay", path, "--paused", NULL);
    resp_t r = s_admin (p, "/_admin/clock", "step_to=09:16:30");
    s_expect_ok (&r);
    s_resp_free (&r);
    r = s_req_full (p, "GET", "/_admin/clock", NULL, "", false);
    s_expect_ok (&r);
    assert_string_equal (s_str (s_data (&r), "now"), "2025-10-08 09:16:30");
    assert_true (cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (s_data (&r), "paused")));
    s_resp_free (&r);

    //  The file's prices at 09:16:30, not the model's (the 09:17 rows are still ahead).
    assert_int_equal (s_rest_ltp (p, "NSE:NIFTY 50"), 2511125);
    assert_int_equal (s_rest_ltp (p, "NFO:NIFTY25O1425100CE"), 12340);

    //  Every option of the listing expires on the file's Tuesday.
    r = s_req (p, "GET", "/instruments/NFO", NULL);
    assert_int_equal (r.status, 200);
    int rows = 0;
    bool atm = false;
    for (char *line = strchr (r.body, '\n'); line && line[1]; line = strchr (line + 1, '\n')) {
        char sym[64], expiry[16];
        assert_int_equal (
            sscanf (line + 1, "%*[^,],%*[^,],%63[^,],%*[^,],%*[^,],%15[^,]", sym, expiry), 2);
        assert_string_equal (expiry, "2025-10-14");
        atm |= strcmp (sym, "NIFTY25O1425100CE") == 0;
        rows++;
    }
    assert_true (atm);
    assert_int_equal (rows, 82);
    s_resp_free (&r);

    //  Candles are the file's, dated 2025-10-08: index and option, minutes 09:15, 09:16.
    r = s_req (p, "GET",
               "/instruments/historical/256265/minute?from=2025-10-08+09:15:00"
               "&to=2025-10-08+15:30:00",
               NULL);
    s_expect_ok (&r);
    const cJSON *candles = cJSON_GetObjectItemCaseSensitive (s_data (&r), "candles");
    assert_int_equal (cJSON_GetArraySize (candles), 2);
    const cJSON *c = cJSON_GetArrayItem (candles, 1);
    assert_string_equal (cJSON_GetArrayItem (c, 0)->valuestring, "2025-10-08T09:16:00+0530");
    assert_int_equal (llround (cJSON_GetArrayItem (c, 1)->valuedouble * 100), 2511125);
    s_resp_free (&r);
    resp_t q = s_req (p, "GET", "/quote/ltp?i=NFO:NIFTY25O1425100CE", NULL);
    s_expect_ok (&q);
    uint32_t ce =
        (uint32_t) s_num (cJSON_GetObjectItemCaseSensitive (s_data (&q), "NFO:NIFTY25O1425100CE"),
                          "instrument_token");
    s_resp_free (&q);
    char url[256];
    snprintf (url, sizeof url,
              "/instruments/historical/%u/minute?from=2025-10-08+09:15:00"
              "&to=2025-10-08+15:30:00",
              ce);
    r = s_req (p, "GET", url, NULL);
    s_expect_ok (&r);
    candles = cJSON_GetObjectItemCaseSensitive (s_data (&r), "candles");
    assert_int_equal (cJSON_GetArraySize (candles), 2);
    static const char *const when[2] = {"2025-10-08T09:15:00+0530", "2025-10-08T09:16:00+0530"};
    static const int64_t px[2] = {12005, 12340};
    for (int i = 0; i < 2; i++) {
        c = cJSON_GetArrayItem (candles, i);
        assert_string_equal (cJSON_GetArrayItem (c, 0)->valuestring, when[i]);
        for (int k = 1; k <= 4; k++)
            assert_int_equal (llround (cJSON_GetArrayItem (c, k)->valuedouble * 100), px[i]);
        assert_int_equal ((int64_t) cJSON_GetArrayItem (c, 5)->valuedouble, 750);
    }
    s_resp_free (&r);

    //  Orders are accepted in the file's session and stamped with its date.
    r = s_req (p, "POST", "/orders/regular",
               "tradingsymbol=NIFTY25O1425100CE&exchange=NFO"
               "&transaction_type=BUY&order_type=LIMIT&quantity=75&product=NRML&price=100");
    s_expect_ok (&r);
    char path_o[96];
    const char *oid = s_str (s_data (&r), "order_id");
    if (!oid)
        fail_msg ("no order_id");
    snprintf (path_o, sizeof path_o, "/orders/%s", oid);
    s_resp_free (&r);
    r = s_req (p, "GET", path_o, NULL);
    s_expect_ok (&r);
    const cJSON *last = cJSON_GetArrayItem (s_data (&r), cJSON_GetArraySize (s_data (&r)) - 1);
    assert_string_equal (s_str (last, "status"), "OPEN");
    assert_string_equal (s_str (last, "order_timestamp"), "2025-10-08 09:16:30");
    s_resp_free (&r);
    s_stop (&p);
    unlink (path);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_bad_args),
        cmocka_unit_test (test_session),
        cmocka_unit_test (test_auth_and_routes),
        cmocka_unit_test (test_market_data),
        cmocka_unit_test (test_orders),
        cmocka_unit_test (test_order_rate_limit),
        cmocka_unit_test (test_faults_http),
        cmocka_unit_test (test_ws_auth),
        cmocka_unit_test (test_ws_ticks_match_rest),
        cmocka_unit_test (test_ws_order_updates),
        cmocka_unit_test (test_ws_faults),
        cmocka_unit_test (test_determinism),
        cmocka_unit_test (test_autoslice),
        cmocka_unit_test (test_replay_date_from_file),
        cmocka_unit_test (test_weekend_open),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
