/*  kite_sim_bench - how fast kite-sim is, beside raw baselines measured in the same run.
 *
 *  1. Ticks/s to one WebSocket client (every instrument in full mode, high --speed),
 *     beside a raw lws server that writes pre-built 184-byte full-packet frames as fast
 *     as WRITEABLE comes (what lws alone can push to the same client code).
 *  2. Order round trips/s (place a LIMIT far from the market + cancel it, keep-alive
 *     HTTP with libcurl, rate limits lifted through /_admin/rate), beside the raw
 *     loopback TCP echo round trip of a 200-byte message.
 *  Prints figures and ratios, and why any round trip was not answered; exits non-zero
 *  only when nothing at all was answered (a broken build, not a slow machine). Runs
 *  kite-sim from $KT_BUILD/bin/kite-sim.
 *
 *  The ticks run at --speed 3000 (a session is 7.5 s of wall time); the orders run on a
 *  second kite-sim at --speed 1 from 10:00, so a slow machine never carries them past
 *  the 15:30 close, where every placement is refused ("Markets are closed"): that was
 *  why a loaded machine once answered 920 of 1000. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libwebsockets.h>

#define SECONDS 3
#define BATCH 64

static int64_t
s_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind (fd, (struct sockaddr *) &a, sizeof a);
    getsockname (fd, (struct sockaddr *) &a, &len);
    close (fd);
    return ntohs (a.sin_port);
}

static int
s_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

static void
s_wait_port (int port)
{
    for (int i = 0; i < 500; i++) {
        int fd = s_connect (port);
        if (fd >= 0) {
            close (fd);
            return;
        }
        usleep (10000);
    }
    fprintf (stderr, "bench: port %d never opened\n", port);
    exit (1);
}

// ---- a WebSocket client that counts packets ---------------------------------------------

typedef struct {
    struct lws_context *ctx;
    struct lws *wsi;
    bool up, down;
    int64_t packets, frames;
    char sub[8192];             //  message to send once connected ("" = none)
    lws_sorted_usec_list_t wake;
} counter_t;

static int
s_count_cb (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    counter_t *c = lws_context_user (lws_get_context (wsi));
    (void) user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->up = true;
        if (c->sub[0])
            lws_callback_on_writable (wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        c->down = true;
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->sub[0]) {
            static unsigned char buf[LWS_PRE + 8192];
            size_t n = strlen (c->sub);
            memcpy (buf + LWS_PRE, c->sub, n);
            lws_write (wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
            c->sub[0] = '\0';
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        //  Frames fit one receive at these sizes; count packets from the N field.
        if (lws_frame_is_binary (wsi) && lws_is_first_fragment (wsi) && len >= 2) {
            const uint8_t *p = in;
            c->packets += p[0] << 8 | p[1];
            c->frames++;
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols s_count_protocols[] = {
    { "counter", s_count_cb, 0, 65536, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
s_wake (lws_sorted_usec_list_t *sul)
{
    (void) sul;
}

//  Connect to port/path, send sub once, then count for SECONDS after warm_ms.
static double
s_count (int port, const char *path, const char *sub, int warm_ms)
{
    counter_t *c = calloc (1, sizeof *c);
    snprintf (c->sub, sizeof c->sub, "%s", sub? sub: "");
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = s_count_protocols;
    info.user = c;
    c->ctx = lws_create_context (&info);
    struct lws_client_connect_info ci;
    memset (&ci, 0, sizeof ci);
    ci.context = c->ctx;
    ci.address = "127.0.0.1";
    ci.port = port;
    ci.path = path;
    ci.host = "127.0.0.1";
    ci.origin = "127.0.0.1";
    ci.local_protocol_name = "counter";
    ci.pwsi = &c->wsi;
    lws_client_connect_via_info (&ci);
    int64_t t0 = s_ns (), start = 0, end = 0;
    int64_t base = 0;
    while (!c->down) {
        lws_sul_schedule (c->ctx, 0, &c->wake, s_wake, 10 * LWS_US_PER_MS);
        lws_service (c->ctx, 0);
        int64_t now = s_ns ();
        if (!start && now - t0 >= (int64_t) warm_ms * 1000000) {
            start = now;
            base = c->packets;
        }
        if (start && now - start >= (int64_t) SECONDS * 1000000000) {
            end = now;
            break;
        }
    }
    double rate = end? (double) (c->packets - base) * 1e9 / (double) (end - start): 0;
    lws_sul_cancel (&c->wake);
    lws_context_destroy (c->ctx);
    free (c);
    return rate;
}

// ---- baseline: raw lws server writing full-packet frames ---------------------------------

static unsigned char s_frame[LWS_PRE + 2 + BATCH * (2 + 184)];

static int
s_blast_cb (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void) user;
    (void) in;
    (void) len;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        lws_callback_on_writable (wsi);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (lws_write (wsi, s_frame + LWS_PRE, sizeof s_frame - LWS_PRE, LWS_WRITE_BINARY) < 0)
            return -1;
        lws_callback_on_writable (wsi);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols s_blast_protocols[] = {
    { "blast", s_blast_cb, 0, 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static pid_t
s_blast_server (int port)
{
    pid_t pid = fork ();
    if (pid)
        return pid;
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    uint8_t *f = s_frame + LWS_PRE;
    f[0] = BATCH >> 8;
    f[1] = BATCH & 0xFF;
    for (int i = 0; i < BATCH; i++) {
        uint8_t *p = f + 2 + i * (2 + 184);
        p[0] = 0;
        p[1] = 184;
        memset (p + 2, i, 184);
    }
    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = s_blast_protocols;
    struct lws_context *ctx = lws_create_context (&info);
    while (ctx && lws_service (ctx, 0) >= 0)
        ;
    _exit (0);
}

// ---- baseline: TCP echo ---------------------------------------------------------------------

static pid_t
s_echo_server (int port)
{
    pid_t pid = fork ();
    if (pid)
        return pid;
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    int ls = socket (AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt (ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bind (ls, (struct sockaddr *) &a, sizeof a);
    listen (ls, 4);
    for (;;) {                  //  the first connection is the port probe
        int fd = accept (ls, NULL, NULL);
        char buf[4096];
        ssize_t n;
        while ((n = read (fd, buf, sizeof buf)) > 0)
            if (write (fd, buf, (size_t) n) != n)
                break;
        close (fd);
    }
}

static double
s_echo_rate (int port, int iterations)
{
    int fd = s_connect (port);
    if (fd < 0)
        return 0;
    char msg[200], back[200];
    memset (msg, 'x', sizeof msg);
    int64_t t0 = s_ns ();
    for (int i = 0; i < iterations; i++) {
        if (write (fd, msg, sizeof msg) != (ssize_t) sizeof msg)
            break;
        size_t got = 0;
        while (got < sizeof back) {
            ssize_t k = read (fd, back + got, sizeof back - got);
            if (k <= 0)
                break;
            got += (size_t) k;
        }
    }
    double rate = iterations * 1e9 / (double) (s_ns () - t0);
    close (fd);
    return rate;
}

// ---- kite-sim ---------------------------------------------------------------------------------

typedef struct {
    char *body;
    size_t len;
} buf_t;

static size_t
s_write (char *ptr, size_t size, size_t n, void *arg)
{
    buf_t *b = arg;
    b->body = realloc (b->body, b->len + size * n + 1);
    memcpy (b->body + b->len, ptr, size * n);
    b->len += size * n;
    b->body[b->len] = '\0';
    return size * n;
}

static long
s_http (CURL *c, const char *method, const char *url, const char *form, buf_t *out)
{
    struct curl_slist *h = curl_slist_append (NULL, "X-Kite-Version: 3");
    h = curl_slist_append (h, "Authorization: token sim_api_key:bench");
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, form);
    if (!form)
        curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, out);
    long status = 0;
    if (curl_easy_perform (c) == CURLE_OK)
        curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all (h);
    return status;
}

static pid_t
s_start_sim (const char *bin, const char *http, const char *ws, const char *speed,
             const char *start)
{
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        execl (bin, bin, "--http", http, "--ws", ws, "--access-token", "bench", "--speed", speed,
               "--start", start, "--date", "2025-11-24", "--log-level", "warn", (char *) NULL);
        _exit (127);
    }
    return pid;
}

static void
s_stop_sim (pid_t pid)
{
    kill (pid, SIGTERM);
    int st = 0;
    waitpid (pid, &st, 0);
}

//  The session instant kite-sim is at ("HH:MM:SS"), or "?" when it does not answer.
static void
s_sim_now (CURL *c, const char *base, char *out, size_t len)
{
    char url[128];
    snprintf (url, sizeof url, "%s/_admin/clock", base);
    buf_t r = {0};
    snprintf (out, len, "?");
    if (s_http (c, "GET", url, NULL, &r) == 200) {
        cJSON *j = cJSON_Parse (r.body);
        const cJSON *now = cJSON_GetObjectItem (cJSON_GetObjectItem (j, "data"), "now");
        if (cJSON_IsString (now) && strlen (now->valuestring) >= 19)
            snprintf (out, len, "%s", now->valuestring + 11);
        cJSON_Delete (j);
    }
    free (r.body);
}

//  Distinct reasons round trips were not answered, with counts (a few kept).
#define S_REASONS 4
typedef struct {
    char text[S_REASONS][160];
    int count[S_REASONS];
    int other;
} reasons_t;

static void
s_reason (reasons_t *rs, const char *what, long status, const buf_t *b)
{
    char text[160];
    const char *msg = NULL;
    cJSON *j = b->body ? cJSON_Parse (b->body) : NULL;
    const cJSON *m = cJSON_GetObjectItem (j, "message");
    if (cJSON_IsString (m))
        msg = m->valuestring;
    snprintf (text, sizeof text, "%s: HTTP %ld %s", what, status,
              msg      ? msg
              : status ? ""
                       : "(no answer)");
    cJSON_Delete (j);
    for (int i = 0; i < S_REASONS; i++) {
        if (!rs->count[i])
            snprintf (rs->text[i], sizeof rs->text[i], "%s", text);
        if (strcmp (rs->text[i], text) == 0) {
            rs->count[i]++;
            return;
        }
    }
    rs->other++;
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    lws_set_log_level (LLL_ERR, NULL);
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const char *b = getenv ("KT_BUILD");
    char bin[256], http[32], ws[32], base[64];
    snprintf (bin, sizeof bin, "%s/bin/kite-sim", b && *b? b: "build");
    int hp = s_free_port (), wp = s_free_port ();
    snprintf (http, sizeof http, "127.0.0.1:%d", hp);
    snprintf (ws, sizeof ws, "127.0.0.1:%d", wp);
    snprintf (base, sizeof base, "http://127.0.0.1:%d", hp);
    pid_t sim = s_start_sim (bin, http, ws, "3000", "09:15");
    s_wait_port (hp);
    s_wait_port (wp);

    //  Subscribe to everything in full mode.
    CURL *c = curl_easy_init ();
    buf_t csv = { 0 };
    char url[256];
    snprintf (url, sizeof url, "%s/instruments", base);
    s_http (c, "GET", url, NULL, &csv);
    char sub[8192] = "{\"a\":\"mode\",\"v\":[\"full\",[";
    char first_sym[64] = "";
    int n = 0;
    for (char *line = csv.body? strchr (csv.body, '\n'): NULL; line && line[1];
         line = strchr (line + 1, '\n')) {
        unsigned long tok;
        char sym[64];
        if (sscanf (line + 1, "%lu,%*[^,],%63[^,]", &tok, sym) == 2) {
            size_t l = strlen (sub);
            snprintf (sub + l, sizeof sub - l, "%s%lu", n++? ",": "", tok);
            char *eol = strchr (line + 1, '\n');
            char *opt = strstr (line + 1, ",NFO-OPT,");
            if (!first_sym[0] && opt && (!eol || opt < eol))
                snprintf (first_sym, sizeof first_sym, "%s", sym);
        }
    }
    strcat (sub, "]]}");
    free (csv.body);
    char path[128];
    snprintf (path, sizeof path, "/?api_key=sim_api_key&access_token=bench");
    double sim_ticks = s_count (wp, path, sub, 500);
    char ticks_end[16];
    s_sim_now (c, base, ticks_end, sizeof ticks_end);
    s_stop_sim (sim);

    int bp = s_free_port ();
    pid_t blast = s_blast_server (bp);
    s_wait_port (bp);
    double raw_ticks = s_count (bp, "/", NULL, 300);
    kill (blast, SIGKILL);
    waitpid (blast, NULL, 0);

    //  Orders: a fresh kite-sim in real time from 10:00; lift Kite's limits, then place +
    //  cancel on one keep-alive connection.
    hp = s_free_port ();
    wp = s_free_port ();
    snprintf (http, sizeof http, "127.0.0.1:%d", hp);
    snprintf (ws, sizeof ws, "127.0.0.1:%d", wp);
    snprintf (base, sizeof base, "http://127.0.0.1:%d", hp);
    sim = s_start_sim (bin, http, ws, "1", "10:00");
    s_wait_port (hp);
    buf_t r = { 0 };
    snprintf (url, sizeof url, "%s/_admin/rate", base);
    s_http (c, "POST", url, "class=all&per_sec=100000000", &r);
    free (r.body);
    int iterations = 1000, ok = 0;
    char form[256], place_url[256], cancel_url[256];
    snprintf (place_url, sizeof place_url, "%s/orders/regular", base);
    snprintf (form, sizeof form, "tradingsymbol=%s&exchange=NFO&transaction_type=BUY"
              "&order_type=LIMIT&quantity=75&product=NRML&price=0.05", first_sym);
    reasons_t why = {0};
    char orders_from[16], orders_to[16];
    s_sim_now (c, base, orders_from, sizeof orders_from);
    int64_t t0 = s_ns ();
    for (int i = 0; i < iterations; i++) {
        buf_t pr = { 0 }, cr = { 0 };
        long st = s_http (c, "POST", place_url, form, &pr);
        cJSON *j = st == 200 ? cJSON_Parse (pr.body) : NULL;
        const cJSON *id = cJSON_GetObjectItem (cJSON_GetObjectItem (j, "data"), "order_id");
        if (cJSON_IsString (id)) {
            snprintf (cancel_url, sizeof cancel_url, "%s/orders/regular/%s", base, id->valuestring);
            long cs = s_http (c, "DELETE", cancel_url, NULL, &cr);
            if (cs == 200)
                ok++;
            else
                s_reason (&why, "cancel", cs, &cr);
        } else
            s_reason (&why, "place", st, &pr);
        cJSON_Delete (j);
        free (pr.body);
        free (cr.body);
    }
    double orders = ok * 1e9 / (double) (s_ns () - t0);
    s_sim_now (c, base, orders_to, sizeof orders_to);
    curl_easy_cleanup (c);

    int ep = s_free_port ();
    pid_t echo = s_echo_server (ep);
    s_wait_port (ep);
    double echo_rate = s_echo_rate (ep, 20000);
    kill (echo, SIGKILL);
    waitpid (echo, NULL, 0);
    s_stop_sim (sim);

    printf ("kite-sim ticks to one ws client : %12.0f packets/s (%d instruments, full mode, "
            "session at %s when counting ended)\n",
            sim_ticks, n, ticks_end);
    printf ("raw lws full-packet frames      : %12.0f packets/s\n", raw_ticks);
    printf ("ratio kite-sim / raw lws        : %12.3f\n", raw_ticks > 0? sim_ticks / raw_ticks: 0);
    printf ("kite-sim order round trips      : %12.0f place+cancel/s (%d of %d answered, "
            "session %s-%s)\n",
            orders, ok, iterations, orders_from, orders_to);
    for (int i = 0; i < S_REASONS && why.count[i]; i++)
        printf ("  not answered %5d x %s\n", why.count[i], why.text[i]);
    if (why.other)
        printf ("  not answered %5d x other reasons\n", why.other);
    printf ("raw loopback TCP echo           : %12.0f round trips/s\n", echo_rate);
    printf ("ratio orders / echo             : %12.4f (each order round trip is 2 HTTP requests)\n",
            echo_rate > 0? orders / echo_rate: 0);
    curl_global_cleanup ();
    //  A slow machine gives lower figures, never a failure; nothing answered is one.
    return sim_ticks > 0 && ok > 0 ? 0 : 1;
}
