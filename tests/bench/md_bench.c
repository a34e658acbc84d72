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
#include "kt_testnet.h"
#include "kt_testproc.h"
#include "kt_testredis.h"

#define BATCH 64
#define NTOK 43
#define E2E_N 1000000
#define RAW_N 1000000
#define FULL_LEN 184

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
    m.u.tick.volume = 123456;
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

static double
s_raw_zmq (const char *ep, size_t *body_size)
{
    static uint8_t body[1024];
    size_t blen = s_tick_body (body, sizeof body);
    *body_size = blen;
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
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "md.", 3);
    zmq_connect (sub, ep);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    char tbuf[64];
    int got = 0;
    int64_t t0 = 0, t1 = 0;
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    while (got < RAW_N && zmq_poll (&it, 1, 5000) > 0) {
        zmq_recv (sub, tbuf, sizeof tbuf, 0);
        zmq_msg_t m;
        zmq_msg_init (&m);
        zmq_msg_recv (&m, sub, 0);
        struct kt_msg km;
        kt_msg_decode (dec, zmq_msg_data (&m), zmq_msg_size (&m), &km, NULL, 0);
        zmq_msg_close (&m);
        if (got++ == 0)
            t0 = s_ns ();
        t1 = s_ns ();
    }
    kt_msg_decoder_destroy (&dec);
    int zero = 0;
    zmq_setsockopt (sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close (sub);
    zmq_ctx_term (ctx);
    waitpid (pid, NULL, 0);
    if (got < RAW_N)
        fprintf (stderr, "raw zmq: %d of %d received\n", got, RAW_N);
    return got > 1 ? (double) (got - 1) / ((double) (t1 - t0) / 1e9) : 0;
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
    char csv[256];
    snprintf (csv, sizeof csv, "%s/instruments.csv", dir);
    FILE *f = fopen (csv, "w");
    if (!f)
        return -1;
    fprintf (f, "%s\n", KT_INSTR_CSV_HEADER);
    char list[2048] = "";
    size_t ll = 0;
    for (int i = 0; i < NTOK; i++) {
        int strike = 23000 + 50 * (i / 2);
        const char *ty = i % 2 ? "PE" : "CE";
        fprintf (f, "%u,%d,NIFTY25N25%d%s,NIFTY,0.0,2025-11-25,%d.0,0.05,75,%s,NFO-OPT,NFO\n",
                 s_token (i), 35000 + i, strike, ty, strike, ty);
        ll += (size_t) snprintf (list + ll, sizeof list - ll, "%s%u", i ? "," : "", s_token (i));
    }
    fclose (f);
    f = fopen ("deploy/config/sim.json", "rb");
    if (!f)
        return -1;
    static char text[16384];
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse (text);
    if (!root)
        return -1;
    static const char *const names[] = {"md", "risk", "risk_pub", "exec", "exec_pub", "alerts"};
    cJSON *bus = cJSON_GetObjectItem (root, "bus");
    for (int i = 0; i < 6; i++) {
        char ep[128];
        snprintf (ep, sizeof ep, "ipc://%s/%s", dir, names[i]);
        cJSON_ReplaceItemInObject (bus, names[i], cJSON_CreateString (ep));
    }
    cJSON_ReplaceItemInObject (bus, "sndhwm", cJSON_CreateNumber (10000000));
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "redis"), "port",
                               cJSON_CreateNumber (redis_port));
    cJSON *clock = cJSON_GetObjectItem (root, "clock");
    cJSON_ReplaceItemInObject (clock, "mode", cJSON_CreateString ("real"));
    cJSON_ReplaceItemInObject (clock, "speed", cJSON_CreateNumber (1));
    char url[64];
    snprintf (url, sizeof url, "ws://127.0.0.1:%d", ws_port);
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "kite"), "ws_url",
                               cJSON_CreateString (url));
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "instruments"), "file",
                               cJSON_CreateString (csv));
    cJSON *md = cJSON_GetObjectItem (root, "md");
    cJSON_ReplaceItemInObject (md, "subscribe", cJSON_CreateString (list));
    cJSON_ReplaceItemInObject (md, "warmup", cJSON_CreateBool (false)); //  no REST here
    char *out = cJSON_Print (root);
    cJSON_Delete (root);
    snprintf (cfg_path, cfglen, "%s/md.json", dir);
    f = fopen (cfg_path, "w");
    if (!f)
        return -1;
    fputs (out, f);
    fclose (f);
    free (out);
    return 0;
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
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    char tbuf[64];
    int64_t got = 0, loss = 0, expect = 1, t0 = 0, t1 = 0;
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    long rss_max = 0, rss_first = 0;
    while (got < E2E_N && zmq_poll (&it, 1, 5000) > 0) {
        zmq_recv (sub, tbuf, sizeof tbuf, 0);
        zmq_msg_t m;
        zmq_msg_init (&m);
        zmq_msg_recv (&m, sub, 0);
        struct kt_msg km;
        int rc = kt_msg_decode (dec, zmq_msg_data (&m), zmq_msg_size (&m), &km, NULL, 0);
        zmq_msg_close (&m);
        if (rc != 0 || km.env.type != KT_MSG_TICK)
            continue;
        if (km.u.tick.volume != expect)
            loss += km.u.tick.volume > expect ? km.u.tick.volume - expect : 1;
        expect = km.u.tick.volume + 1;
        if (got++ == 0) {
            t0 = s_ns ();
            rss_first = s_rss_kb (kt_testproc_pid (md));
        }
        t1 = s_ns ();
        if ((got & 0xffff) == 0) {
            long kb = s_rss_kb (kt_testproc_pid (md));
            if (kb > rss_max)
                rss_max = kb;
        }
    }
    long kb = s_rss_kb (kt_testproc_pid (md));
    if (kb > rss_max)
        rss_max = kb;
    double e2e = got > 1 ? (double) (got - 1) / ((double) (t1 - t0) / 1e9) : 0;
    printf ("end to end (lws -> md-gateway -> SUB): %8.0f ticks/s  (%lld of %d, lost %lld, "
            "out of order/lost checked by sequence)\n",
            e2e, (long long) got, E2E_N, (long long) loss);
    printf ("ratio end to end / raw ZeroMQ    : %12.3f\n", raw > 0 ? e2e / raw : 0);
    //  The maximum includes whatever the PUB queue holds while this SUB falls behind.
    printf ("md-gateway RSS at the first tick  : %12.1f MB\n", (double) rss_first / 1024.0);
    printf ("md-gateway RSS max during the run : %12.1f MB (PUB queue included)\n",
            (double) rss_max / 1024.0);
    printf ("targets: decode >= 20M/s [%s], e2e >= 200k/s [%s], >= 50%% raw [%s], RSS <= 20 MB "
            "[%s]\n",
            full >= 20e6 ? "ok" : "MISS", e2e >= 200000 ? "ok" : "MISS",
            raw > 0 && e2e / raw >= 0.5 ? "ok" : "MISS", rss_first <= 20 * 1024 ? "ok" : "MISS");
    kt_msg_decoder_destroy (&dec);
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
