/*  md_bench - md-gateway's throughput.
 *
 *  1. Decode: md_frame_decode over frames of 64 full packets (and ltp / quote), one
 *     core, packets per second. Target >= 20 M/s.
 *  2. End to end: a raw lws server (a child process, not kite-sim) writes pre-encoded
 *     Kite frames (64 full packets each) as fast as WRITEABLE comes; the real
 *     md-gateway binary decodes and publishes TICKs; this process is a SUB client that
 *     checks every tick arrives, in order (the packets carry a running sequence in
 *     their volume field). Beside it, in the same run, raw ZeroMQ PUB/SUB (a child
 *     publisher, the same transport and message size). Targets: >= 200,000 ticks/s and
 *     >= 50% of raw ZeroMQ; md-gateway's RSS <= 20 MB.
 *  Prints the numbers; exits 1 only if the run itself failed (loss, no data). */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <zmq.h>

#include "../../md-gateway/md_packet.h"
#include "kt.h"
#include "kt_testmd.h"
#include "kt_testnet.h"
#include "kt_testproc.h"
#include "kt_testredis.h"

#define BATCH 64
#define NTOK 43
#define E2E_N 1000000
#define RAW_N 1000000
#define FULL_LEN 184
#define S_RAW_SEQ0 0x10000

static int64_t
s_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
s_be32 (uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

static uint32_t
s_token (int i)
{
    return (uint32_t) (35000 + i) << 8 | 2;
}

//  A full packet of token with ltp and cumulative volume (the running sequence).
static void
s_full (uint8_t *p, uint32_t token, uint32_t ltp, uint32_t volume, uint32_t ts)
{
    memset (p, 0, FULL_LEN);
    s_be32 (p, token);
    s_be32 (p + 4, ltp);
    s_be32 (p + 8, 75);
    s_be32 (p + 12, ltp - 10);
    s_be32 (p + 16, volume);
    s_be32 (p + 20, 100000);
    s_be32 (p + 24, 120000);
    s_be32 (p + 28, ltp - 100);
    s_be32 (p + 32, ltp + 200);
    s_be32 (p + 36, ltp - 300);
    s_be32 (p + 40, ltp - 50);
    s_be32 (p + 44, ts);
    s_be32 (p + 48, 500000);
    s_be32 (p + 60, ts);
    for (int i = 0; i < 10; i++) {
        uint8_t *e = p + 64 + 12 * i;
        s_be32 (e, 750 * (uint32_t) (i + 1));
        s_be32 (e + 4, i < 5 ? ltp - 5 * (uint32_t) i : ltp + 5 * (uint32_t) (i - 4));
        e[8] = 0;
        e[9] = (uint8_t) (i + 1);
    }
}

// ---- 1. decode -----------------------------------------------------------------------------

struct s_sum {
    int64_t n;
    int64_t ltp;
};

static void
s_count (const struct md_pkt *pkt, void *arg)
{
    struct s_sum *s = arg;
    s->n++;
    s->ltp += pkt->ltp + pkt->sell[4].price;
}

static double
s_decode_rate (int plen, const char *name)
{
    static uint8_t frame[2 + BATCH * (2 + FULL_LEN)];
    frame[0] = 0;
    frame[1] = BATCH;
    size_t off = 2;
    for (int i = 0; i < BATCH; i++) {
        frame[off] = 0;
        frame[off + 1] = (uint8_t) plen;
        uint8_t full[FULL_LEN];
        s_full (full, s_token (i % NTOK), 10000 + (uint32_t) i, (uint32_t) i, 1700000000);
        memcpy (frame + off + 2, full, (size_t) plen);
        off += 2 + (size_t) plen;
    }
    struct s_sum sum = {0, 0};
    struct md_frame_res res;
    int64_t t0 = s_ns (), t1 = t0;
    int64_t rounds = 0;
    while (t1 - t0 < 1000000000LL) {
        for (int k = 0; k < 1000; k++)
            md_frame_decode (frame, off, s_count, &sum, &res);
        rounds += 1000;
        t1 = s_ns ();
    }
    double rate = (double) sum.n / ((double) (t1 - t0) / 1e9);
    printf ("decode %-5s (%3d B) x %d/frame  : %12.0f packets/s  (check %lld)\n", name, plen, BATCH,
            rate, (long long) (sum.ltp & 0xff));
    (void) rounds;
    return rate;
}

static long
s_rss_kb (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen (path, "r");
    long kb = -1;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kb = atol (line + 6);
    if (f)
        fclose (f);
    return kb;
}

// ---- the SUB client, one for both measurements ------------------------------------------

//  Receives n messages from sub the same way for the raw baseline and for md-gateway:
//  blocking receives (a time-out ends a stalled run), no poll per message, the body
//  decoded and its volume checked as a running sequence starting at expect. t0 is taken
//  at the first message, t1 at the last.
struct s_rx {
    int64_t got, loss, t0, t1;
    long rss_first, rss_max;
};

static void
s_sub_run (void *sub, int64_t n, int64_t expect, pid_t watch, struct s_rx *r)
{
    memset (r, 0, sizeof *r);
    int tmo = 5000;
    zmq_setsockopt (sub, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    zmq_msg_t topic, body;
    zmq_msg_init (&topic);
    zmq_msg_init (&body);
    while (r->got < n) {
        if (zmq_msg_recv (&topic, sub, 0) < 0 || !zmq_msg_more (&topic) ||
            zmq_msg_recv (&body, sub, 0) < 0)
            break;
        struct kt_msg km;
        if (kt_msg_decode (dec, zmq_msg_data (&body), zmq_msg_size (&body), &km, NULL, 0) != 0 ||
            km.env.type != KT_MSG_TICK)
            continue;
        if (km.u.tick.volume != expect)
            r->loss += km.u.tick.volume > expect ? km.u.tick.volume - expect : 1;
        expect = km.u.tick.volume + 1;
        r->t1 = s_ns ();
        if (r->got++ == 0) {
            r->t0 = r->t1;
            if (watch > 0)
                r->rss_first = r->rss_max = s_rss_kb (watch);
        }
        if ((r->got & 0xffff) == 0 && watch > 0) {
            long kb = s_rss_kb (watch);
            if (kb > r->rss_max)
                r->rss_max = kb;
        }
    }
    zmq_msg_close (&topic);
    zmq_msg_close (&body);
    kt_msg_decoder_destroy (&dec);
}

static double
s_rate (const struct s_rx *r)
{
    return r->got > 1 ? (double) (r->got - 1) / ((double) (r->t1 - r->t0) / 1e9) : 0;
}

// ---- 2a. raw ZeroMQ baseline ------------------------------------------------------------------

static size_t
s_tick_body (uint8_t *out, size_t cap)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.v = KT_MSG_VERSION;
    m.env.type = KT_MSG_TICK;
    m.env.seq = 1ULL << 32 | 1;
    m.env.ts_ns = 1700000000000000000LL;
    snprintf (m.env.src, sizeof m.env.src, "md-gateway");
    m.u.tick.token = s_token (0);
    snprintf (m.u.tick.sym, sizeof m.u.tick.sym, "NIFTY25N2524000CE");
    m.u.tick.ltp = 10000;
    m.u.tick.last_qty = 75;
    m.u.tick.avg_price = 9990;
    m.u.tick.volume = S_RAW_SEQ0; //  always a msgpack uint32: patched in place per message
    m.u.tick.buy_qty = 100000;
    m.u.tick.sell_qty = 120000;
    m.u.tick.o = 9900;
    m.u.tick.h = 10200;
    m.u.tick.l = 9700;
    m.u.tick.c = 9950;
    m.u.tick.oi = 500000;
    m.u.tick.bid = 10000;
    m.u.tick.ask = 10005;
    m.u.tick.bid_qty = 750;
    m.u.tick.ask_qty = 750;
    m.u.tick.exch_ts_ns = 1700000000000000000LL;
    m.u.tick.recv_ts_ns = 1700000000000000000LL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (kt_msg_encode (&m, &sb) != 0 || sb.size > cap) {
        msgpack_sbuffer_destroy (&sb);
        return 0;
    }
    memcpy (out, sb.data, sb.size);
    size_t n = sb.size;
    msgpack_sbuffer_destroy (&sb);
    return n;
}

//  The offset of the 4 bytes of the volume value in an encoded TICK body, or 0.
static size_t
s_volume_at (const uint8_t *body, size_t len)
{
    static const uint8_t key[] = {0xa6, 'v', 'o', 'l', 'u', 'm', 'e', 0xce};
    for (size_t i = 0; i + sizeof key + 4 <= len; i++)
        if (memcmp (body + i, key, sizeof key) == 0)
            return i + sizeof key;
    return 0;
}

static double
s_raw_zmq (const char *ep, size_t *body_size)
{
    static uint8_t body[1024];
    size_t blen = s_tick_body (body, sizeof body);
    size_t vat = s_volume_at (body, blen);
    *body_size = blen;
    if (vat == 0) {
        fprintf (stderr, "raw zmq: no volume field in the body\n");
        return 0;
    }
    const char *topic = "md.tick.NIFTY25N2524000CE";
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        void *ctx = zmq_ctx_new ();
        void *pub = zmq_socket (ctx, ZMQ_PUB);
        int hwm = 0;
        zmq_setsockopt (pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
        if (zmq_bind (pub, ep) != 0)
            _exit (1);
        usleep (500000); //  let the subscription arrive
        for (int i = 0; i < RAW_N; i++) {
            //  The same running sequence md-gateway's ticks carry, so the SUB client
            //  does the same work for both.
            s_be32 (body + vat, (uint32_t) (S_RAW_SEQ0 + i));
            zmq_send (pub, topic, strlen (topic), ZMQ_SNDMORE);
            zmq_send (pub, body, blen, 0);
        }
        int linger = -1; //  every message reaches the SUB before exit
        zmq_setsockopt (pub, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close (pub);
        zmq_ctx_term (ctx);
        _exit (0);
    }
    void *ctx = zmq_ctx_new ();
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    int hwm = 0;
    zmq_setsockopt (sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "md.tick.", 8);
    zmq_connect (sub, ep);
    struct s_rx r;
    s_sub_run (sub, RAW_N, S_RAW_SEQ0, 0, &r);
    int zero = 0;
    zmq_setsockopt (sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close (sub);
    zmq_ctx_term (ctx);
    waitpid (pid, NULL, 0);
    if (r.got < RAW_N || r.loss)
        fprintf (stderr, "raw zmq: %lld of %d received, %lld lost\n", (long long) r.got, RAW_N,
                 (long long) r.loss);
    return s_rate (&r);
}

// ---- 2b. the blaster: a raw lws server writing pre-encoded frames ----------------------------

static unsigned char s_frame[LWS_PRE + 2 + BATCH * (2 + FULL_LEN)];
static int64_t s_sent; //  packets written (child process)

static void
s_next_frame (void)
{
    //  Pre-encoded; only the running sequence (volume at +16) changes per packet.
    uint8_t *f = s_frame + LWS_PRE + 2;
    for (int i = 0; i < BATCH; i++) {
        uint8_t *p = f + i * (2 + FULL_LEN) + 2;
        s_be32 (p, s_token ((int) ((s_sent + i) % NTOK)));
        s_be32 (p + 16, (uint32_t) (s_sent + i + 1));
    }
    s_sent += BATCH;
}

static int
s_blast_cb (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void) user;
    (void) in;
    (void) len;
    switch (reason) {
        case LWS_CALLBACK_RECEIVE:
            //  The client's subscribe / mode: start.
            lws_callback_on_writable (wsi);
            break;
        case LWS_CALLBACK_SERVER_WRITEABLE:
            if (s_sent >= E2E_N)
                break;
            s_next_frame ();
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
    {"blast", s_blast_cb, 0, 65536, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

static pid_t
s_blaster (int port)
{
    pid_t pid = fork ();
    if (pid)
        return pid;
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    uint8_t *f = s_frame + LWS_PRE;
    f[0] = 0;
    f[1] = BATCH;
    uint32_t ts = (uint32_t) time (NULL);
    for (int i = 0; i < BATCH; i++) {
        uint8_t *p = f + 2 + i * (2 + FULL_LEN);
        p[0] = 0;
        p[1] = FULL_LEN;
        s_full (p + 2, s_token (i % NTOK), 10000 + (uint32_t) i * 5, 0, ts);
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

static int
s_write_files (const char *dir, int redis_port, int ws_port, char *cfg_path, size_t cfglen)
{
    char csv[256], list[2048];
    snprintf (csv, sizeof csv, "%s/instruments.csv", dir);
    uint32_t tokens[NTOK];
    for (int i = 0; i < NTOK; i++)
        tokens[i] = s_token (i);
    if (kt_testmd_instruments (csv, tokens, NTOK, list, sizeof list) != 0)
        return -1;
    cJSON *root = kt_testmd_cfg (dir, redis_port, csv, list);
    if (!root)
        return -1;
    kt_testmd_set (root, "bus", "sndhwm", cJSON_CreateNumber (10000000));
    char url[64];
    snprintf (url, sizeof url, "ws://127.0.0.1:%d", ws_port);
    kt_testmd_set (root, "kite", "ws_url", cJSON_CreateString (url));
    kt_testmd_set (root, "md", "warmup", cJSON_CreateBool (false)); //  no REST here
    snprintf (cfg_path, cfglen, "%s/md.json", dir);
    return kt_testmd_save (root, cfg_path);
}

int
main (void)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    //  1. decode
    double full = s_decode_rate (FULL_LEN, "full");
    s_decode_rate (44, "quote");
    s_decode_rate (8, "ltp");

    //  2. end to end and raw ZeroMQ in the same run
    char dir[] = "/tmp/kt-mdbench-XXXXXX";
    if (!mkdtemp (dir))
        return 1;
    char raw_ep[128];
    snprintf (raw_ep, sizeof raw_ep, "ipc://%s/raw", dir);
    size_t body = 0;
    double raw = s_raw_zmq (raw_ep, &body);
    printf ("raw ZeroMQ PUB/SUB (%zu B body)  : %12.0f msgs/s\n", body, raw);

    kt_testredis_t *redis = kt_testredis_start ();
    if (!redis)
        return 1;
    int port = kt_testnet_free_port ();
    pid_t blaster = s_blaster (port);
    char cfg[256];
    if (s_write_files (dir, redis->port, port, cfg, sizeof cfg) != 0)
        return 1;
    void *ctx = zmq_ctx_new ();
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    int hwm = 0, ivl = 5;
    zmq_setsockopt (sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sub, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "md.tick.", 8);
    char ep[128];
    snprintf (ep, sizeof ep, "ipc://%s/md", dir);
    zmq_connect (sub, ep);
    usleep (100000);
    const char *args[] = {"-c", cfg, NULL};
    const char *env[] = {"KITE_API_KEY=k", "KITE_API_SECRET=s", "KITE_ACCESS_TOKEN=t", NULL};
    kt_testproc_t *md = kt_testproc_start ("md-gateway", args, env);
    if (!md)
        return 1;
    struct s_rx r;
    s_sub_run (sub, E2E_N, 1, kt_testproc_pid (md), &r);
    long kb = s_rss_kb (kt_testproc_pid (md));
    if (kb > r.rss_max)
        r.rss_max = kb;
    int64_t got = r.got, loss = r.loss;
    long rss_first = r.rss_first, rss_max = r.rss_max;
    double e2e = s_rate (&r);
    printf ("end to end (lws -> md-gateway -> SUB): %8.0f ticks/s  (%lld of %d, lost %lld, "
            "out of order/lost checked by sequence)\n",
            e2e, (long long) got, E2E_N, (long long) loss);
    printf ("ratio end to end / raw ZeroMQ    : %12.3f\n", raw > 0 ? e2e / raw : 0);
    char load[64] = "?";
    FILE *lf = fopen ("/proc/loadavg", "r");
    if (lf) {
        if (!fgets (load, sizeof load, lf))
            snprintf (load, sizeof load, "?");
        fclose (lf);
    }
    load[strcspn (load, "\n")] = '\0';
    printf ("load average at the end           : %s\n", load);
    //  The maximum includes whatever the PUB queue holds while this SUB falls behind.
    printf ("md-gateway RSS at the first tick  : %12.1f MB\n", (double) rss_first / 1024.0);
    printf ("md-gateway RSS max during the run : %12.1f MB (PUB queue included)\n",
            (double) rss_max / 1024.0);
    printf ("targets: decode >= 20M/s [%s], e2e >= 200k/s [%s], >= 50%% raw [%s], RSS <= 20 MB "
            "[%s]\n",
            full >= 20e6 ? "ok" : "MISS", e2e >= 200000 ? "ok" : "MISS",
            raw > 0 && e2e / raw >= 0.5 ? "ok" : "MISS", rss_first <= 20 * 1024 ? "ok" : "MISS");
    kt_testproc_destroy (&md);
    kill (blaster, SIGKILL);
    waitpid (blaster, NULL, 0);
    int zero = 0;
    zmq_setsockopt (sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close (sub);
    zmq_ctx_term (ctx);
    kt_testredis_stop (&redis);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        return 1;
    return got == E2E_N && loss == 0 ? 0 : 1;
}
