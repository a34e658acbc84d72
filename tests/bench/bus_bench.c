/*  bus_bench - cost of the message codec and of one PUB -> SUB hop through kt_bus,
 *  against raw libzmq on the same kind of sockets in the same run.
 *
 *  (a) TICK encode, decode, and both, in ns per message, plus the number of heap
 *      allocations per message in steady state (malloc is counted by wrapping it).
 *  (b) Ping-pong over tcp://127.0.0.1: PUB -> SUB (echo thread) -> PUB -> SUB. The bus
 *      run uses kt_bus_publish / kt_bus_recv on both sides (so two encodes and two
 *      decodes per round trip); the raw run sends a pre-encoded body of the same size
 *      with zmq_send and receives with zmq_recv. Both wait with zmq_poll, as kt_loop
 *      does. One message in flight; hop = round trip / 2, p50 / p99 / mean. The two
 *      paths alternate in blocks of S_BLOCK messages, so machine load hits both alike.
 *  Run by `make bench`; needs nothing but libzmq and msgpack-c. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "kt_bus.h"

#define S_CODEC_ITERS 1000000
#define S_WARMUP 2000
#define S_MESSAGES 20000
#define S_BLOCK 500

// ---- allocation counting ---------------------------------------------------------------

//  Counting is switched on only around the single-threaded codec loop.
extern void *__libc_malloc (size_t);
extern void *__libc_calloc (size_t, size_t);
extern void *__libc_realloc (void *, size_t);
static volatile bool s_counting;
static int64_t s_allocs;

void *
malloc (size_t n)
{
    if (s_counting)
        s_allocs++;
    return __libc_malloc (n);
}

void *
calloc (size_t n, size_t size)
{
    if (s_counting)
        s_allocs++;
    return __libc_calloc (n, size);
}

void *
realloc (void *p, size_t n)
{
    if (s_counting)
        s_allocs++;
    return __libc_realloc (p, n);
}

// ---- helpers ---------------------------------------------------------------------------

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct kt_msg
s_tick (void)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_TICK;
    m.env.seq = (1ull << 32) | 1;
    m.env.ts_ns = 1732500000123456789LL;
    strcpy (m.env.src, "md-gateway");
    struct kt_tick *t = &m.u.tick;
    t->token = 10496514;
    strcpy (t->sym, "NIFTY25NOV24000CE");
    t->ltp = 12345;
    t->last_qty = 75;
    t->avg_price = 12010;
    t->volume = 98765425;
    t->buy_qty = 1500000;
    t->sell_qty = 2250000;
    t->o = 11000;
    t->h = 13000;
    t->l = 10500;
    t->c = 11500;
    t->oi = 4500000;
    t->bid = 12340;
    t->ask = 12350;
    t->bid_qty = 300;
    t->ask_qty = 450;
    t->exch_ts_ns = 1732500000000000000LL;
    t->recv_ts_ns = 1732500000000100000LL;
    return m;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

struct s_stats {
    double p50_us, p99_us, mean_us;
};

//  Stats of one-way hops from round-trip samples (ns).
static struct s_stats
s_stats (int64_t *rtt, int n)
{
    qsort (rtt, (size_t)n, sizeof *rtt, s_cmp);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)rtt[i];
    struct s_stats s = {
        .p50_us = (double)rtt[n / 2] / 2e3,
        .p99_us = (double)rtt[(int)((int64_t)n * 99 / 100)] / 2e3,
        .mean_us = sum / n / 2e3,
    };
    return s;
}

static bool
s_wait (void *sock, long ms)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    return zmq_poll (&it, 1, ms) == 1;
}

// ---- (a) codec -------------------------------------------------------------------------

static void
s_bench_codec (void)
{
    struct kt_msg in = s_tick (), out;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    char why[128];
    //  Warm: the buffer and the decoder's zone get their memory once.
    for (int i = 0; i < 1000; i++) {
        sb.size = 0;
        kt_msg_encode (&in, &sb);
        kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why);
    }
    size_t body = sb.size;

    int64_t t0 = s_now_ns ();
    for (int i = 0; i < S_CODEC_ITERS; i++) {
        in.u.tick.ltp = 12345 + (i & 1023);
        sb.size = 0;
        if (kt_msg_encode (&in, &sb) != 0)
            abort ();
    }
    int64_t t1 = s_now_ns ();
    s_counting = true;
    for (int i = 0; i < S_CODEC_ITERS; i++)
        if (kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why) != 0)
            abort ();
    s_counting = false;
    int64_t decode_allocs = s_allocs;
    int64_t t2 = s_now_ns ();
    s_allocs = 0;
    s_counting = true;
    for (int i = 0; i < S_CODEC_ITERS; i++) {
        in.u.tick.ltp = 12345 + (i & 1023);
        sb.size = 0;
        if (kt_msg_encode (&in, &sb) != 0 ||
            kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why) != 0)
            abort ();
    }
    s_counting = false;
    int64_t t3 = s_now_ns ();
    if (out.u.tick.ltp != in.u.tick.ltp)
        abort ();
    printf ("tick body: %zu bytes\n", body);
    printf ("tick encode: %.0f ns/op\n", (double)(t1 - t0) / S_CODEC_ITERS);
    printf ("tick decode: %.0f ns/op\n", (double)(t2 - t1) / S_CODEC_ITERS);
    printf ("tick encode+decode: %.0f ns/op\n", (double)(t3 - t2) / S_CODEC_ITERS);
    printf ("heap allocations per message: decode %.4f, encode+decode %.4f\n",
            (double)decode_allocs / S_CODEC_ITERS, (double)s_allocs / S_CODEC_ITERS);
    kt_msg_decoder_destroy (&dec);
    msgpack_sbuffer_destroy (&sb);
}

// ---- (b) one hop -----------------------------------------------------------------------

//  One path under test: main's PUB and SUB, and an echo thread with its own.
struct s_echo {
    bool raw;
    kt_bus_t *bus; //  owned by the pair (bus path)
    void *sub, *pub;
    void *ctx; //  raw path
};

struct s_pair {
    bool raw;
    struct kt_cfg cfg;  //  main side (md = main's PUB, exec_pub = echo's PUB)
    struct kt_cfg ecfg; //  echo side
    kt_bus_t *bus;      //  bus path
    void *ctx;          //  raw path
    void *pub, *sub;
    struct s_echo e;
    pthread_t th;
    struct kt_msg tick;   //  what the bus path publishes
    msgpack_sbuffer body; //  what the raw path sends: the same tick, encoded
};

static const char *const s_topic = "md.tick.NIFTY25NOV24000CE";

//  Echo every message back until the topic "stop.x" arrives.
static void *
s_echo_main (void *arg)
{
    struct s_echo *e = arg;
    char topic[KT_TOPIC_LEN], why[128];
    char body[4096];
    struct kt_msg m;
    for (;;) {
        if (!s_wait (e->sub, -1))
            continue;
        if (e->raw) {
            int tl = zmq_recv (e->sub, topic, sizeof topic - 1, 0);
            int bl = zmq_recv (e->sub, body, sizeof body, 0);
            if (tl < 0 || bl < 0)
                abort ();
            topic[tl] = 0;
            if (strcmp (topic, "stop.x") == 0)
                break;
            zmq_send (e->pub, topic, (size_t)tl, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send (e->pub, body, (size_t)bl, ZMQ_DONTWAIT);
        } else {
            int rc = kt_bus_recv (e->bus, e->sub, topic, sizeof topic, &m, why, sizeof why);
            if (rc == 1)
                continue;
            if (rc != 0) {
                fprintf (stderr, "echo: %s\n", why);
                abort ();
            }
            if (strcmp (topic, "stop.x") == 0)
                break;
            kt_bus_publish (e->bus, e->pub, topic, &m);
        }
    }
    return NULL;
}

static void
s_cfg (struct kt_cfg *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->ep_md, sizeof cfg->ep_md, "tcp://127.0.0.1:*");
    snprintf (cfg->ep_exec_pub, sizeof cfg->ep_exec_pub, "tcp://127.0.0.1:*");
    cfg->sndhwm = 100000;
    cfg->rcvhwm = 100000;
    cfg->linger_ms = 0;
}

static void
s_last_ep (void *sock, char *dst, size_t len)
{
    if (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, dst, &len) != 0)
        abort ();
}

static void *
s_raw_socket (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    int hwm = 100000, zero = 0;
    zmq_setsockopt (s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    return s;
}

//  Sockets as a process would have them: each side its own context (bus or raw), main
//  binds md, echo binds exec_pub, each SUB connects to the other's PUB.
static void
s_pair_open (struct s_pair *p, bool raw)
{
    memset (p, 0, sizeof *p);
    p->raw = p->e.raw = raw;
    s_cfg (&p->cfg);
    s_cfg (&p->ecfg);
    if (raw) {
        p->ctx = zmq_ctx_new ();
        p->e.ctx = zmq_ctx_new ();
        p->pub = s_raw_socket (p->ctx, ZMQ_PUB);
        p->sub = s_raw_socket (p->ctx, ZMQ_SUB);
        p->e.pub = s_raw_socket (p->e.ctx, ZMQ_PUB);
        p->e.sub = s_raw_socket (p->e.ctx, ZMQ_SUB);
        if (zmq_bind (p->pub, p->cfg.ep_md) != 0 || zmq_bind (p->e.pub, p->ecfg.ep_exec_pub) != 0)
            abort ();
        s_last_ep (p->pub, p->cfg.ep_md, sizeof p->cfg.ep_md);
        s_last_ep (p->e.pub, p->cfg.ep_exec_pub, sizeof p->cfg.ep_exec_pub);
        zmq_connect (p->e.sub, p->cfg.ep_md);
        zmq_connect (p->sub, p->cfg.ep_exec_pub);
        zmq_setsockopt (p->e.sub, ZMQ_SUBSCRIBE, "", 0);
        zmq_setsockopt (p->sub, ZMQ_SUBSCRIBE, "", 0);
    } else {
        p->bus = kt_bus_new (&p->cfg, NULL, "md-gateway", 1);
        p->e.bus = kt_bus_new (&p->ecfg, NULL, "strategy", 1);
        p->pub = kt_bus_bind (p->bus, "md", ZMQ_PUB);
        p->e.pub = kt_bus_bind (p->e.bus, "exec_pub", ZMQ_PUB);
        if (!p->pub || !p->e.pub)
            abort ();
        s_last_ep (p->pub, p->ecfg.ep_md, sizeof p->ecfg.ep_md);
        s_last_ep (p->e.pub, p->cfg.ep_exec_pub, sizeof p->cfg.ep_exec_pub);
        p->e.sub = kt_bus_connect (p->e.bus, "md", ZMQ_SUB);
        p->sub = kt_bus_connect (p->bus, "exec_pub", ZMQ_SUB);
        if (!p->sub || !p->e.sub)
            abort ();
        kt_bus_subscribe (p->e.bus, p->e.sub, "");
        kt_bus_subscribe (p->bus, p->sub, "");
    }
    p->tick = s_tick ();
    msgpack_sbuffer_init (&p->body);
    kt_msg_encode (&p->tick, &p->body);
    if (pthread_create (&p->th, NULL, s_echo_main, &p->e) != 0)
        abort ();
}

static void
s_pair_send (struct s_pair *p, const char *topic, int64_t tag)
{
    if (p->raw) {
        zmq_send (p->pub, topic, strlen (topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send (p->pub, p->body.data, p->body.size, ZMQ_DONTWAIT);
    } else {
        p->tick.u.tick.ltp = tag;
        if (kt_bus_publish (p->bus, p->pub, topic, &p->tick) != 0)
            abort ();
    }
}

//  Receive one echo; returns its tag (bus path) or 0.
static int64_t
s_pair_recv (struct s_pair *p)
{
    char topic[KT_TOPIC_LEN], why[128], body[4096];
    if (p->raw) {
        zmq_recv (p->sub, topic, sizeof topic, 0);
        if (zmq_recv (p->sub, body, sizeof body, 0) != (int)p->body.size)
            abort ();
        return 0;
    }
    struct kt_msg back;
    if (kt_bus_recv (p->bus, p->sub, topic, sizeof topic, &back, why, sizeof why) != 0)
        abort ();
    return back.u.tick.ltp;
}

//  Wait until both subscriptions are up (PUB drops until then), then drain.
static void
s_pair_sync (struct s_pair *p)
{
    bool up = false;
    for (int i = 0; i < 1000 && !up; i++) {
        s_pair_send (p, s_topic, 1);
        up = s_wait (p->sub, 10);
    }
    if (!up)
        abort ();
    while (s_wait (p->sub, 100))
        s_pair_recv (p);
}

//  One round trip, in ns.
static int64_t
s_pair_round (struct s_pair *p, int64_t tag)
{
    int64_t t0 = s_now_ns ();
    s_pair_send (p, s_topic, tag);
    if (!s_wait (p->sub, 5000))
        abort ();
    int64_t got = s_pair_recv (p);
    int64_t t1 = s_now_ns ();
    if (!p->raw && got != tag)
        abort ();
    return t1 - t0;
}

static void
s_pair_close (struct s_pair *p)
{
    s_pair_send (p, "stop.x", 0);
    pthread_join (p->th, NULL);
    msgpack_sbuffer_destroy (&p->body);
    if (p->raw) {
        zmq_close (p->pub);
        zmq_close (p->sub);
        zmq_close (p->e.pub);
        zmq_close (p->e.sub);
        zmq_ctx_term (p->ctx);
        zmq_ctx_term (p->e.ctx);
    } else {
        if (kt_bus_gaps (p->bus) != 0 || kt_bus_gaps (p->e.bus) != 0)
            fprintf (stderr, "warning: gaps seen (bus %lld, echo %lld)\n",
                     (long long)kt_bus_gaps (p->bus), (long long)kt_bus_gaps (p->e.bus));
        kt_bus_destroy (&p->e.bus);
        kt_bus_destroy (&p->bus);
    }
}

int
main (void)
{
    s_bench_codec ();

    //  Bus and raw round trips alternate in blocks of S_BLOCK messages: long enough for
    //  each path to run warm, short enough that a busy neighbour on this machine slows
    //  both paths alike.
    static int64_t bus_rtt[S_MESSAGES], raw_rtt[S_MESSAGES];
    static struct s_pair bus, raw;
    s_pair_open (&bus, false);
    s_pair_open (&raw, true);
    s_pair_sync (&bus);
    s_pair_sync (&raw);
    for (int i = 0; i < S_WARMUP; i++) {
        s_pair_round (&bus, 10000 + i);
        s_pair_round (&raw, 0);
    }
    for (int block = 0; block < S_MESSAGES / S_BLOCK; block++) {
        for (int i = block * S_BLOCK; i < (block + 1) * S_BLOCK; i++)
            bus_rtt[i] = s_pair_round (&bus, 10000 + i);
        for (int i = block * S_BLOCK; i < (block + 1) * S_BLOCK; i++)
            raw_rtt[i] = s_pair_round (&raw, 0);
    }
    s_pair_close (&bus);
    s_pair_close (&raw);
    struct s_stats sb = s_stats (bus_rtt, S_MESSAGES);
    struct s_stats sr = s_stats (raw_rtt, S_MESSAGES);
    printf ("tick hop p50: bus %.1f us raw %.1f us ratio %.2f\n", sb.p50_us, sr.p50_us,
            sb.p50_us / sr.p50_us);
    printf ("tick hop p99: bus %.1f us raw %.1f us ratio %.2f\n", sb.p99_us, sr.p99_us,
            sb.p99_us / sr.p99_us);
    printf ("tick hop mean: bus %.1f us raw %.1f us ratio %.2f\n", sb.mean_us, sr.mean_us,
            sb.mean_us / sr.mean_us);
    printf ("(hop = round trip / 2, PUB->SUB->PUB->SUB over tcp://127.0.0.1, %d messages per "
            "path after %d warm-up, in alternating blocks of %d)\n",
            S_MESSAGES, S_WARMUP, S_BLOCK);
    return 0;
}
