/*  exec_bench - exec-gateway's order path against kite-sim, beside plain libcurl.
 *
 *  In one run, against one paused kite-sim (own ports) and one redis-server:
 *  - command -> request: ORDER_COMMAND PLACE handled (the PENDING_SUBMIT record in Redis,
 *    the form, the rate bucket, the request handed to curl) until the request is on its
 *    way, p50/p99;
 *  - command -> ACCEPTED published: the same through the broker's answer and the book
 *    write, until exec-gateway hands the event to the bus (the event's envelope time),
 *    p50/p99: like the plain request, no bus hop at either end (the command is handled
 *    in-process too); and the same seen by a subscriber (the bus hop added);
 *  - orders/s over a burst;
 *  - plain libcurl: the same POST /orders/regular form, on a fresh connection (as
 *    exec-gateway places: a dead keep-alive connection must never resend an order) and
 *    on a kept-alive one, p50/p99.
 *  Target: command -> ACCEPTED p99 <= 2x the plain fresh-connection p99. Interleaved in
 *  blocks so both see the same machine; exec-gateway's loop blocks in poll as the
 *  process does (never spins: that would take a core from kite-sim and Redis, which the
 *  plain requests keep). Orders rest far from the market (LIMIT). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <zmq.h>

#include "../../exec-gateway/exec.h"
#include "kt_testcfg.h"
#include "kt_testproc.h"
#include "kt_testredis.h"

#define N 300
#define BLOCK 50
#define BURST 200
#define TOKEN "bench_token"

static int64_t
s_mono (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static double
s_pct (int64_t *v, int n, int pct)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp);
    int i = (int) ((int64_t) n * pct / 100);
    return (double) v[i < n ? i : n - 1] / 1e3;
}

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &a, sizeof a) == 0 &&
        getsockname (fd, (struct sockaddr *) &a, &len) == 0)
        port = ntohs (a.sin_port);
    close (fd);
    return port;
}

static size_t
s_sink (char *p, size_t s, size_t n, void *arg)
{
    (void) p;
    (void) arg;
    return s * n;
}

//  The event a wait is for, read from the SUB socket by the loop itself.
struct s_waiter {
    kt_msg_decoder_t *dec;
    const char *coid;
    int result;    //  1 waiting, 0 ACCEPTED, -1 REJECTED
    int64_t ts_ns; //  the event's envelope time: when exec-gateway published it
};

static int
s_on_event (kt_loop_t *loop, void *sock, void *arg)
{
    (void) loop;
    struct s_waiter *w = arg;
    char buf[4096], why[128];
    while (zmq_recv (sock, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {
        int n = zmq_recv (sock, buf, sizeof buf, 0);
        struct kt_msg m;
        if (w->coid && n > 0 && kt_msg_decode (w->dec, buf, (size_t) n, &m, why, sizeof why) == 0 &&
            strcmp (m.u.exec.coid, w->coid) == 0 &&
            (m.u.exec.event == KT_EXEC_ACCEPTED || m.u.exec.event == KT_EXEC_REJECTED)) {
            w->result = m.u.exec.event == KT_EXEC_ACCEPTED ? 0 : -1;
            w->ts_ns = m.env.ts_ns;
        }
    }
    return 0;
}

//  Wait for the ACCEPTED/REJECTED event of coid, blocking in the loop as the process
//  does (the SUB socket is one of the loop's readers): a spinning wait would take a core
//  from kite-sim and Redis, which the plain requests do not.
static int
s_wait_event (kt_proc_t *proc, struct s_waiter *w, const char *coid)
{
    w->coid = coid;
    w->result = 1;
    for (int64_t end = s_mono () + 5000000000LL; w->result == 1 && s_mono () < end;)
        kt_loop_run_once (kt_proc_loop (proc), 100);
    w->coid = NULL;
    return w->result == 0 ? 0 : -1;
}

static struct kt_order_cmd
s_cmd (const char *sym, int i, int64_t px)
{
    struct kt_order_cmd c;
    memset (&c, 0, sizeof c);
    snprintf (c.coid, sizeof c.coid, "B%d", i);
    snprintf (c.intent_id, sizeof c.intent_id, "B%d", i);
    snprintf (c.sym, sizeof c.sym, "%s", sym);
    c.action = KT_ACTION_PLACE;
    c.side = KT_SIDE_BUY;
    c.qty = 75;
    c.order_type = KT_OT_LIMIT;
    c.price = px;
    c.product = KT_PROD_MIS;
    c.purpose = KT_PURPOSE_ENTRY;
    return c;
}

int
main (void)
{
    kt_log_open ("exec_bench", KT_LOG_OFF);
    curl_global_init (CURL_GLOBAL_ALL);
    kt_testredis_t *redis = kt_testredis_start ();
    if (!redis)
        return 1;
    int hp = s_free_port (), wp = s_free_port ();
    char http[32], ws[32], api[64];
    snprintf (http, sizeof http, "127.0.0.1:%d", hp);
    snprintf (ws, sizeof ws, "127.0.0.1:%d", wp);
    snprintf (api, sizeof api, "http://%s", http);
    const char *args[] = {"--http",   http,          "--ws",       ws,        "--access-token",
                          TOKEN,      "--date",      "2025-11-24", "--start", "10:00",
                          "--paused", "--log-level", "warn",       NULL};
    kt_testproc_t *sim = kt_testproc_start ("kite-sim", args, NULL);
    if (!sim)
        return 1;
    static const char *const hdr[] = {"X-Kite-Version: 3",
                                      "Authorization: token sim_api_key:" TOKEN, NULL};
    for (int i = 0; i < 300; i++) {
        kt_http_resp_t *r = kt_http_get_sync (api, NULL, 200);
        bool up = r->err == KT_HTTP_OK;
        kt_http_resp_destroy (&r);
        if (up)
            break;
        usleep (20000);
    }
    //  Lift kite-sim's order limit: the bench measures us, not the venue's throttle.
    char url[256];
    snprintf (url, sizeof url, "%s/_admin/rate", api);
    kt_http_resp_t *r = kt_http_post_sync (url, NULL, "class=all&per_sec=100000", 2000);
    kt_http_resp_destroy (&r);
    //  The symbol and a price far above the market.
    snprintf (url, sizeof url, "%s/instruments/NFO", api);
    r = kt_http_get_sync (url, hdr, 5000);
    char sym[KT_SYM_LEN] = "";
    const char *line = r->body ? strchr (r->body, '\n') : NULL;
    if (line)
        sscanf (line + 1, "%*[^,],%*[^,],%31[^,]", sym);
    kt_http_resp_destroy (&r);
    int64_t px = 5; //  a BUY at Rs 0.05: never fills, blocks Rs 3.75

    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "exec-gateway", redis->port, "execbench");
    snprintf (cfg.kite_api_url, sizeof cfg.kite_api_url, "%s", api);
    snprintf (cfg.kite_api_key, sizeof cfg.kite_api_key, "sim_api_key");
    snprintf (cfg.kite_access_token, sizeof cfg.kite_access_token, TOKEN);
    struct exec_cfg ecfg = {"NFO", "regular", 1800, 10, -1, 100000, 7000, 7000,
                            60000, 3,         3,    30, 3,  5,      0,    ""};
    //  The instruments come from kite-sim, cached beside the run's other files.
    snprintf (cfg.instruments_cache_dir, sizeof cfg.instruments_cache_dir, "/tmp/kt-execbench-%d",
              (int) getpid ());
    char err[256];
    kt_proc_t *proc = kt_proc_new (&cfg, "exec-gateway", err, sizeof err);
    exec_t *exec = proc ? exec_new (proc, &ecfg) : NULL;
    kt_log_open ("exec_bench", getenv ("EXEC_BENCH_LOG") ? KT_LOG_INFO : KT_LOG_OFF);
    if (!exec) {
        fprintf (stderr, "exec_bench: %s\n", err);
        return 1;
    }
    void *zctx = zmq_ctx_new ();
    void *sub = zmq_socket (zctx, ZMQ_SUB);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "exec.", 5);
    zmq_connect (sub, cfg.ep_exec_pub);
    for (int i = 0; i < 30; i++)
        kt_loop_run_once (kt_proc_loop (proc), 10);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct s_waiter waiter = {dec, NULL, 1, 0};
    kt_loop_sock (kt_proc_loop (proc), sub, s_on_event, &waiter);

    CURL *fresh = curl_easy_init (), *keep = curl_easy_init ();
    struct curl_slist *h = NULL;
    h = curl_slist_append (h, hdr[0]);
    h = curl_slist_append (h, hdr[1]);
    snprintf (url, sizeof url, "%s/orders/regular", api);
    char form[512];
    CURL *both[2] = {fresh, keep};
    for (int k = 0; k < 2; k++) {
        curl_easy_setopt (both[k], CURLOPT_URL, url);
        curl_easy_setopt (both[k], CURLOPT_HTTPHEADER, h);
        curl_easy_setopt (both[k], CURLOPT_WRITEFUNCTION, s_sink);
        curl_easy_setopt (both[k], CURLOPT_POSTFIELDS, form);
    }
    curl_easy_setopt (fresh, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt (fresh, CURLOPT_FORBID_REUSE, 1L);

    static int64_t handle[N], published[N], seen[N], plain_fresh[N], plain_keep[N];
    int nh = 0, np = 0, fails = 0, seq = 0;
    for (int b = 0; b < N / BLOCK; b++) {
        for (int i = 0; i < BLOCK; i++, nh++) {
            struct kt_order_cmd c = s_cmd (sym, ++seq, px);
            struct kt_exec_event ev;
            int64_t p0 = kt_proc_now_ns (proc), t0 = s_mono ();
            exec_handle_command (exec, &c, &ev);
            handle[nh] = s_mono () - t0;
            fails += s_wait_event (proc, &waiter, c.coid) != 0;
            seen[nh] = s_mono () - t0;
            published[nh] = waiter.ts_ns - p0;
        }
        for (int i = 0; i < BLOCK; i++, np++) {
            snprintf (form, sizeof form,
                      "tradingsymbol=%s&exchange=NFO&transaction_type=BUY&product=MIS&"
                      "quantity=75&order_type=LIMIT&price=0.05&validity=DAY&tag=P%d",
                      sym, ++seq);
            for (int k = 0; k < 2; k++) {
                int64_t t0 = s_mono ();
                long code = 0;
                fails += curl_easy_perform (both[k]) != CURLE_OK;
                curl_easy_getinfo (both[k], CURLINFO_RESPONSE_CODE, &code);
                fails += code != 200;
                (k == 0 ? plain_fresh : plain_keep)[np] = s_mono () - t0;
            }
        }
    }
    //  Orders/s: a burst of commands, until every one is accepted.
    int64_t t0 = s_mono ();
    int first = seq + 1;
    for (int i = 0; i < BURST; i++) {
        struct kt_order_cmd c = s_cmd (sym, ++seq, px);
        struct kt_exec_event ev;
        exec_handle_command (exec, &c, &ev);
        kt_loop_run_once (kt_proc_loop (proc), 0);
    }
    char last[KT_ID_LEN];
    snprintf (last, sizeof last, "B%d", seq);
    int burst_fail = s_wait_event (proc, &waiter, last);
    double per_s = BURST / ((double) (s_mono () - t0) / 1e9);
    (void) first;

    double h50 = s_pct (handle, nh, 50), h99 = s_pct (handle, nh, 99);
    double a50 = s_pct (published, nh, 50), a99 = s_pct (published, nh, 99);
    double s50 = s_pct (seen, nh, 50), s99 = s_pct (seen, nh, 99);
    double f50 = s_pct (plain_fresh, np, 50), f99 = s_pct (plain_fresh, np, 99);
    double k50 = s_pct (plain_keep, np, 50), k99 = s_pct (plain_keep, np, 99);
    printf ("exec-gateway order path against kite-sim: %d orders (%d failed)\n", nh, fails);
    printf ("  command -> request handed to curl:   p50 %8.1f us  p99 %8.1f us\n", h50, h99);
    printf ("  command -> ACCEPTED published:       p50 %8.1f us  p99 %8.1f us\n", a50, a99);
    printf ("  command -> ACCEPTED at a subscriber: p50 %8.1f us  p99 %8.1f us\n", s50, s99);
    printf ("  plain libcurl POST, fresh connection: p50 %8.1f us  p99 %8.1f us\n", f50, f99);
    printf ("  plain libcurl POST, kept alive:       p50 %8.1f us  p99 %8.1f us\n", k50, k99);
    printf ("  ratio p99 command->ACCEPTED published / plain fresh: %.2fx (target <= 2x); at a "
            "subscriber: %.2fx\n",
            f99 > 0 ? a99 / f99 : 0, f99 > 0 ? s99 / f99 : 0);
    printf ("  burst of %d: %.0f orders/s through exec-gateway (rate cap lifted)%s\n", BURST, per_s,
            burst_fail ? " (last order not accepted)" : "");
    kt_loop_sock_end (kt_proc_loop (proc), sub);
    kt_msg_decoder_destroy (&dec);
    zmq_close (sub);
    exec_destroy (&exec);
    kt_proc_destroy (&proc);
    zmq_ctx_term (zctx);
    curl_slist_free_all (h);
    curl_easy_cleanup (fresh);
    curl_easy_cleanup (keep);
    kt_testproc_destroy (&sim);
    kt_testredis_stop (&redis);
    kt_testcfg_cleanup ("execbench");
    char rm[300];
    snprintf (rm, sizeof rm, "rm -rf '%s'", cfg.instruments_cache_dir);
    if (system (rm) != 0)
        fprintf (stderr, "exec_bench: could not remove %s\n", cfg.instruments_cache_dir);
    return 0;
}
