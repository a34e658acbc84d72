/*  md_gateway_test - md-gateway as a process against kite-sim, a throwaway Redis and a
 *  ZeroMQ SUB client on `md`.
 *
 *  Shows: the derived universe (NIFTY 50 + ATM +/- 10 strikes, CE and PE) is subscribed
 *  and streams TICKs with no sequence gap, written to md:universe, md:ltp, md:status;
 *  every final BAR equals the bar this test computes on its own from the TICKs it
 *  received (same rules as docs/md-gateway.md, separate code); the feed comes back with
 *  its subscriptions after a dropped socket, a silent socket (watchdog) and a kite-sim
 *  restart, and survives malformed frames; a refused token (403 at the upgrade) marks
 *  the session invalid, raises a CRITICAL alert and is not retried; started before an
 *  open that gaps, the universe grows at the open to the strategy's (ATM +/- strikes
 *  around the index's first bar), every strike of it ticking and closing bars; started
 *  later, the universe comes from the index's 09:15 candle, or, when the historical
 *  endpoint fails three times, from the last price. */

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <zmq.h>

#include "kt.h"
#include "kt_instr_cache.h"
#include "kt_testnet.h"
#include "kt_testproc.h"
#include "kt_testredis.h"
#include "kt_testsim.h"
#include "../../strategy/strat_warm.h"

#define TOKEN "mdtest_token"
#define NMAX 64

struct s_env {
    kt_testredis_t *redis;
    redisContext *rc;
    char dir[64];
    char cfg[128];
    char ep_md[128];
    int http_port, ws_port;
    kt_testproc_t *sim;
    kt_testproc_t *md;
    void *zctx;
    void *sub;
    kt_msg_decoder_t *dec;
    uint64_t last_seq;
    int64_t gaps;
};

static struct s_env s_e;

static int64_t
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_sim_start_on (const char *date, const char *start);

//  kite-sim at 60x from start (HH:MM) on a Monday, clock published to Redis.
static void
s_sim_start (const char *start)
{
    s_sim_start_on ("2025-11-24", start);
}

//  kite-sim at 60x from start (HH:MM) of date (YYYY-MM-DD), clock published to Redis.
static void
s_sim_start_on (const char *date, const char *start)
{
    char http[32], ws[32], redis[32];
    snprintf (http, sizeof http, "127.0.0.1:%d", s_e.http_port);
    snprintf (ws, sizeof ws, "127.0.0.1:%d", s_e.ws_port);
    snprintf (redis, sizeof redis, "127.0.0.1:%d", s_e.redis->port);
    const char *args[] = {"--http",         http,  "--ws",        ws,     "--date",  date,
                          "--start",        start, "--speed",     "60",   "--redis", redis,
                          "--access-token", TOKEN, "--log-level", "warn", NULL};
    s_e.sim = kt_testproc_start ("kite-sim", args, NULL);
    assert_non_null (s_e.sim);
    for (int i = 0;
         i < 500 && !(kt_testnet_port_open (s_e.http_port) && kt_testnet_port_open (s_e.ws_port));
         i++)
        usleep (10000);
    assert_true (kt_testnet_port_open (s_e.ws_port));
}

static cJSON *
s_json_load (const char *path)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    char text[16384];
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse (text);
    assert_non_null (root);
    return root;
}

//  Write root to path and free it.
static void
s_json_save (const char *path, cJSON *root)
{
    char *out = cJSON_Print (root);
    cJSON_Delete (root);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (out, f);
    fclose (f);
    free (out);
}

static void s_write_cfg_warm (const char *subscribe, bool warmup, const char *path,
                              const char *md_ep);

static void
s_write_cfg (const char *subscribe)
{
    char ep[128];
    snprintf (ep, sizeof ep, "ipc://%s/md", s_e.dir);
    s_write_cfg_warm (subscribe, false, s_e.cfg, ep);
}

static void
s_write_cfg_warm (const char *subscribe, bool warmup, const char *path, const char *md_ep)
{
    cJSON *root = s_json_load ("deploy/config/sim.json");
    static const char *const names[] = {"md", "risk", "risk_pub", "exec", "exec_pub", "alerts"};
    cJSON *bus = cJSON_GetObjectItem (root, "bus");
    for (int i = 0; i < 6; i++) {
        char ep[128];
        snprintf (ep, sizeof ep, "ipc://%s/%s", s_e.dir, names[i]);
        cJSON_ReplaceItemInObject (bus, names[i], cJSON_CreateString (ep));
    }
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "redis"), "port",
                               cJSON_CreateNumber (s_e.redis->port));
    cJSON *kite = cJSON_GetObjectItem (root, "kite");
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", s_e.http_port);
    cJSON_ReplaceItemInObject (kite, "api_url", cJSON_CreateString (url));
    snprintf (url, sizeof url, "ws://127.0.0.1:%d", s_e.ws_port);
    cJSON_ReplaceItemInObject (kite, "ws_url", cJSON_CreateString (url));
    char dir[128];
    snprintf (dir, sizeof dir, "%s/instruments", s_e.dir);
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "instruments"), "cache_dir",
                               cJSON_CreateString (dir));
    cJSON *md = cJSON_GetObjectItem (root, "md");
    cJSON_ReplaceItemInObject (md, "subscribe", cJSON_CreateString (subscribe));
    cJSON_ReplaceItemInObject (md, "reconnect_min_ms", cJSON_CreateNumber (200));
    cJSON_ReplaceItemInObject (md, "reconnect_max_ms", cJSON_CreateNumber (2000));
    cJSON_ReplaceItemInObject (md, "alert_after_s", cJSON_CreateNumber (2));
    cJSON_ReplaceItemInObject (md, "warmup", cJSON_CreateBool (warmup));
    cJSON_ReplaceItemInObject (bus, "md", cJSON_CreateString (md_ep));
    s_json_save (path, root);
}

static void
s_secret (const char *path, const char *token)
{
    char tmp[160];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen (tmp, "w");
    assert_non_null (f);
    fprintf (f, "KITE_ACCESS_TOKEN=%s\n", token);
    fclose (f);
    assert_int_equal (chmod (tmp, 0600), 0);
    assert_int_equal (rename (tmp, path), 0);
}

//  Set one string key of the written config.
static void
s_cfg_set (const char *path, const char *section, const char *key, const char *value)
{
    cJSON *root = s_json_load (path);
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, section), key,
                               cJSON_CreateString (value));
    s_json_save (path, root);
}

static void
s_md_start (const char *token)
{
    char env_token[128];
    snprintf (env_token, sizeof env_token, "KITE_ACCESS_TOKEN=%s", token);
    const char *args[] = {"-c", s_e.cfg, NULL};
    const char *env[] = {"KITE_API_KEY=sim_api_key", "KITE_API_SECRET=sim_api_secret", env_token,
                         NULL};
    s_e.md = kt_testproc_start ("md-gateway", args, env);
    assert_non_null (s_e.md);
}

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_e, 0, sizeof s_e);
    s_e.redis = kt_testredis_start ();
    if (!s_e.redis)
        return -1;
    s_e.rc = redisConnect ("127.0.0.1", s_e.redis->port);
    if (!s_e.rc || s_e.rc->err)
        return -1;
    snprintf (s_e.dir, sizeof s_e.dir, "/tmp/kt-mdgw-XXXXXX");
    if (!mkdtemp (s_e.dir))
        return -1;
    snprintf (s_e.cfg, sizeof s_e.cfg, "%s/sim.json", s_e.dir);
    snprintf (s_e.ep_md, sizeof s_e.ep_md, "ipc://%s/md", s_e.dir);
    s_e.http_port = kt_testnet_free_port ();
    do
        s_e.ws_port = kt_testnet_free_port ();
    while (s_e.ws_port == s_e.http_port);
    s_e.zctx = zmq_ctx_new ();
    s_e.sub = zmq_socket (s_e.zctx, ZMQ_SUB);
    int hwm = 0, ivl = 5;
    zmq_setsockopt (s_e.sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    //  Retry the connect every 5 ms: md-gateway binds tens of ms before its first tick.
    zmq_setsockopt (s_e.sub, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (s_e.sub, ZMQ_SUBSCRIBE, "md.", 3);
    //  Connected before md-gateway binds, so not one message is missed.
    if (zmq_connect (s_e.sub, s_e.ep_md) != 0)
        return -1;
    s_e.dec = kt_msg_decoder_new ();
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_testproc_destroy (&s_e.md);
    kt_testproc_destroy (&s_e.sim);
    kt_msg_decoder_destroy (&s_e.dec);
    int zero = 0;
    zmq_setsockopt (s_e.sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close (s_e.sub);
    zmq_ctx_term (s_e.zctx);
    if (s_e.rc)
        redisFree (s_e.rc);
    kt_testredis_stop (&s_e.redis);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_e.dir);
    if (system (cmd) != 0)
        return -1;
    return 0;
}

//  Next message on md within timeout_ms: 1, 0 on timeout. Checks the sequence.
static int
s_recv (struct kt_msg *m, char *topic, int timeout_ms)
{
    zmq_pollitem_t it = {s_e.sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&it, 1, timeout_ms) <= 0)
        return 0;
    int n = zmq_recv (s_e.sub, topic, KT_TOPIC_LEN - 1, 0);
    assert_true (n > 0);
    topic[n < KT_TOPIC_LEN ? n : KT_TOPIC_LEN - 1] = '\0';
    zmq_msg_t body;
    zmq_msg_init (&body);
    assert_true (zmq_msg_recv (&body, s_e.sub, 0) >= 0);
    char why[128];
    int rc =
        kt_msg_decode (s_e.dec, zmq_msg_data (&body), zmq_msg_size (&body), m, why, sizeof why);
    zmq_msg_close (&body);
    if (rc != 0)
        fail_msg ("undecodable message on %s: %s", topic, why);
    uint64_t seq = m->env.seq;
    if (s_e.last_seq && (seq >> 32) == (s_e.last_seq >> 32) && seq != s_e.last_seq + 1)
        s_e.gaps++;
    s_e.last_seq = seq;
    return 1;
}

static char *
s_hget (const char *key, const char *field, char *buf, size_t len)
{
    redisReply *r = redisCommand (s_e.rc, "HGET %s %s", key, field);
    snprintf (buf, len, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject (r);
    return buf;
}

static long long
s_hlen (const char *key)
{
    redisReply *r = redisCommand (s_e.rc, "HLEN %s", key);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject (r);
    return n;
}

//  kite-sim takes a fault (kind=..., see sim_fault.c) / a clock change (step_to, pause, ...).
static void
s_fault (const char *body)
{
    assert_int_equal (kt_testsim_admin (s_e.http_port, "/_admin/fault", body), 200);
}

static void
s_clock (const char *body)
{
    assert_int_equal (kt_testsim_admin (s_e.http_port, "/_admin/clock", body), 200);
}

//  Distinct tokens ticking within timeout_ms (other messages skipped).
static int
s_ticking (int timeout_ms, int want)
{
    uint32_t seen[NMAX];
    int n = 0;
    int64_t end = s_ms () + timeout_ms;
    struct kt_msg m;
    char topic[KT_TOPIC_LEN];
    while (n < want && s_ms () < end) {
        if (!s_recv (&m, topic, 50) || m.env.type != KT_MSG_TICK)
            continue;
        bool dup = false;
        for (int i = 0; i < n; i++)
            dup = dup || seen[i] == m.u.tick.token;
        if (!dup && n < NMAX)
            seen[n++] = m.u.tick.token;
    }
    return n;
}

// ---- an independent bar model (docs/md-gateway.md "Bars") ------------------------------

#define MIN_NS (60LL * 1000000000LL)
#define IST_MIN 330

struct tb {
    uint32_t token;
    bool active;
    int64_t day, cur;
    bool has;
    int64_t o, h, l, c, vol, ticks, last_price, last_close, base;
    __int128 num;
    int64_t den;
};

struct tb_exp {
    uint32_t token;
    int64_t start_min;
    int64_t o, h, l, c, vol, vwap, ticks;
    bool used;
};

static struct tb s_tb[NMAX];
static int s_ntb;
static struct tb_exp s_exp[40000];
static int s_nexp;

static int64_t
s_fdiv (int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int64_t
s_day (int64_t min)
{
    return s_fdiv (min + IST_MIN, 1440);
}

static bool
s_sess (int64_t min)
{
    int64_t mod = min + IST_MIN - s_day (min) * 1440;
    return mod >= 555 && mod < 930;
}

static struct tb *
s_tb_of (uint32_t token)
{
    for (int i = 0; i < s_ntb; i++)
        if (s_tb[i].token == token)
            return &s_tb[i];
    assert_true (s_ntb < NMAX);
    memset (&s_tb[s_ntb], 0, sizeof s_tb[0]);
    s_tb[s_ntb].token = token;
    return &s_tb[s_ntb++];
}

static void
s_tb_close (struct tb *b)
{
    if (b->has || s_sess (b->cur)) {
        struct tb_exp *e = &s_exp[s_nexp++];
        assert_true (s_nexp < (int) (sizeof s_exp / sizeof s_exp[0]));
        e->token = b->token;
        e->start_min = b->cur;
        e->o = b->has ? b->o : b->last_close;
        e->h = b->has ? b->h : b->last_close;
        e->l = b->has ? b->l : b->last_close;
        e->c = b->has ? b->c : b->last_close;
        e->vol = b->has ? b->vol : 0;
        e->ticks = b->has ? b->ticks : 0;
        __int128 num = b->num + (b->has ? (__int128) (b->h + b->l + b->c) * b->vol : 0);
        __int128 den = b->den + (b->has ? b->vol : 0);
        e->vwap = den ? (int64_t) ((2 * num + 3 * den) / (6 * den)) : 0;
        e->used = false;
    }
    if (b->has) {
        b->num += (__int128) (b->h + b->l + b->c) * b->vol;
        b->den += b->vol;
        b->last_close = b->c;
    }
    b->has = false;
    b->vol = b->ticks = 0;
}

static void
s_tb_roll (struct tb *b, int64_t target)
{
    while (b->active && b->cur < target) {
        s_tb_close (b);
        if (s_day (b->cur + 1) != b->day) {
            b->active = false;
            return;
        }
        b->cur++;
    }
}

static void
s_tb_tick (const struct kt_tick *t)
{
    struct tb *b = s_tb_of (t->token);
    if (t->ltp <= 0)
        return;
    int64_t ts = t->exch_ts_ns ? t->exch_ts_ns : t->recv_ts_ns;
    int64_t m = s_fdiv (ts, MIN_NS);
    if (b->active && m < b->cur)
        m = b->cur;
    if (b->active && m > b->cur)
        s_tb_roll (b, m);
    bool first = false;
    if (!b->active || s_day (m) != b->day) {
        memset ((char *) b + sizeof b->token, 0, sizeof *b - sizeof b->token);
        b->active = true;
        b->day = s_day (m);
        b->cur = m;
        int64_t mod = m + IST_MIN - b->day * 1440;
        b->base = mod <= 555 ? 0 : t->volume;
        first = true;
    }
    int64_t dv = t->volume - b->base;
    if (dv < 0)
        dv = 0;
    b->base = t->volume;
    if (!(first || dv > 0 || t->ltp != b->last_price))
        return;
    b->last_price = t->ltp;
    if (!b->has) {
        b->o = b->h = b->l = t->ltp;
        b->has = true;
    }
    if (t->ltp > b->h)
        b->h = t->ltp;
    if (t->ltp < b->l)
        b->l = t->ltp;
    b->c = t->ltp;
    b->vol += dv;
    b->ticks++;
}

//  A final BAR from md-gateway: close the model up to it and compare.
static void
s_tb_check (const struct kt_bar *bar)
{
    int64_t start = bar->start_ns / MIN_NS;
    struct tb *b = s_tb_of (bar->token);
    if (b->active && b->cur <= start)
        s_tb_roll (b, start + 1);
    for (int i = s_nexp - 1; i >= 0; i--) {
        struct tb_exp *e = &s_exp[i];
        if (e->token != bar->token || e->start_min != start)
            continue;
        if (e->used)
            fail_msg ("second final bar for %s at minute %lld", bar->sym, (long long) start);
        e->used = true;
        if (e->o != bar->o || e->h != bar->h || e->l != bar->l || e->c != bar->c ||
            e->vol != bar->volume || e->vwap != bar->vwap || e->ticks != bar->ticks)
            fail_msg ("%s %lld: md-gateway o%lld h%lld l%lld c%lld v%lld vwap%lld t%lld, "
                      "computed o%lld h%lld l%lld c%lld v%lld vwap%lld t%lld",
                      bar->sym, (long long) start, (long long) bar->o, (long long) bar->h,
                      (long long) bar->l, (long long) bar->c, (long long) bar->volume,
                      (long long) bar->vwap, (long long) bar->ticks, (long long) e->o,
                      (long long) e->h, (long long) e->l, (long long) e->c, (long long) e->vol,
                      (long long) e->vwap, (long long) e->ticks);
        return;
    }
    fail_msg ("final bar %s at minute %lld that the ticks do not give", bar->sym,
              (long long) start);
}

// ---- tests -------------------------------------------------------------------------------

static void
test_universe_ticks_and_bars (void **state)
{
    (void) state;
    s_sim_start ("09:20");
    s_write_cfg ("");
    //  md:bars as an older md-gateway left it (a list of JSON objects): replaced.
    freeReplyObject (redisCommand (s_e.rc, "RPUSH kt:md:bars:256265 {\"start_ns\":1}"));
    s_md_start (TOKEN);
    //  ~10 simulated minutes (60x): every TICK and BAR in order.
    int ticks = 0, finals = 0, statuses = 0, announced = 0, after_close = 0;
    int64_t closed = 0, last_final = 0;
    uint32_t toks[NMAX];
    int ntoks = 0;
    uint64_t first_seq = 0;
    struct kt_msg m;
    char topic[KT_TOPIC_LEN];
    int64_t end = s_ms () + 12000;
    while (s_ms () < end && finals < 43 * 6) {
        if (!s_recv (&m, topic, 100))
            continue;
        if (!first_seq) {
            first_seq = m.env.seq;
            //  Nothing missed from the very first message on.
            assert_int_equal (first_seq & 0xffffffffu, 1);
        }
        assert_string_equal (m.env.src, "md-gateway");
        if (m.env.type == KT_MSG_TICK) {
            char want[KT_TOPIC_LEN];
            snprintf (want, sizeof want, "md.tick.%s", m.u.tick.sym);
            assert_string_equal (topic, want);
            ticks++;
            bool dup = false;
            for (int i = 0; i < ntoks; i++)
                dup = dup || toks[i] == m.u.tick.token;
            if (!dup && ntoks < NMAX)
                toks[ntoks++] = m.u.tick.token;
            s_tb_tick (&m.u.tick);
        } else if (m.env.type == KT_MSG_BAR) {
            assert_true (m.u.bar.final);
            finals++;
            after_close += m.u.bar.start_ns <= closed; //  a minute already said complete
            if (m.u.bar.start_ns > last_final)
                last_final = m.u.bar.start_ns;
            s_tb_check (&m.u.bar);
        } else if (m.env.type == KT_MSG_MD_STATUS) {
            statuses++;
            if (m.u.md_status.bars_closed_ns > closed) {
                //  announced right after the minute's last final bar
                if (last_final)
                    assert_true (m.u.md_status.bars_closed_ns >= last_final);
                closed = m.u.md_status.bars_closed_ns;
                announced++;
            }
        }
    }
    //  Every minute said complete only once all its final bars were out.
    assert_int_equal (after_close, 0);
    assert_true (announced >= 5);
    //  Nothing missed from the very first message on.
    assert_int_equal (first_seq & 0xffffffffu, 1);
    assert_int_equal (s_e.gaps, 0);
    assert_true (statuses >= 1);
    assert_true (ticks > 1000);
    //  NIFTY 50 + 21 strikes x (CE, PE), each one ticking, each one in md:universe.
    assert_int_equal (s_hlen ("kt:md:universe"), 43);
    assert_int_equal (ntoks, 43);
    char buf[64];
    for (int i = 0; i < ntoks; i++) {
        char field[16];
        snprintf (field, sizeof field, "%u", toks[i]);
        redisReply *r = redisCommand (s_e.rc, "HGET kt:md:universe %s", field);
        assert_true (r && r->type == REDIS_REPLY_STRING);
        freeReplyObject (r);
    }
    assert_string_equal (s_hget ("kt:md:universe", "256265", buf, sizeof buf), "NSE:NIFTY 50");
    //  Bars: at least 5 closed minutes of all 43, each equal to the test's own.
    assert_true (finals >= 43 * 5);
    int compared = 0;
    for (int i = 0; i < s_nexp; i++)
        compared += s_exp[i].used;
    assert_int_equal (compared, finals);
    //  Redis snapshots.
    assert_int_equal (s_hlen ("kt:md:ltp"), 43);
    assert_string_equal (s_hget ("kt:md:status", "connected", buf, sizeof buf), "1");
    assert_string_equal (s_hget ("kt:md:status", "malformed", buf, sizeof buf), "0");
    //  md:bars:<token>: a stream, one entry per final bar, each field its own value and
    //  equal to the BAR published for that minute.
    redisReply *r = redisCommand (s_e.rc, "XLEN kt:md:bars:256265");
    assert_true (r && r->type == REDIS_REPLY_INTEGER && r->integer >= 4);
    freeReplyObject (r);
    r = redisCommand (s_e.rc, "XRANGE kt:md:bars:256265 - +");
    assert_true (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 4);
    int matched = 0;
    for (size_t k = 0; k < r->elements; k++) {
        redisReply *fv = r->element[k]->element[1];
        assert_int_equal (fv->elements, 16);
        struct kt_bar got = {.token = 256265};
        for (size_t i = 0; i + 1 < fv->elements; i += 2)
            assert_int_equal (kt_schema_set (&kt_key_md_bars, &got, fv->element[i]->str,
                                             fv->element[i]->len, fv->element[i + 1]->str,
                                             fv->element[i + 1]->len, buf, sizeof buf),
                              0);
        assert_true (got.start_ns > 0 && got.start_ns % MIN_NS == 0);
        for (int i = 0; i < s_nexp; i++) {
            const struct tb_exp *e = &s_exp[i];
            if (!e->used || e->token != 256265 || e->start_min != got.start_ns / MIN_NS)
                continue;
            assert_true (e->o == got.o && e->h == got.h && e->l == got.l && e->c == got.c &&
                         e->vol == got.volume && e->vwap == got.vwap && e->ticks == got.ticks);
            matched++;
        }
    }
    freeReplyObject (r);
    assert_true (matched >= 4);
    //  Started at 09:20: the universe comes from the day's open (the index's 09:15 candle).
    const char *derived = kt_testproc_log_wait (s_e.md, "md.universe.derived", NULL, 3000);
    assert_non_null (derived);
    assert_non_null (strstr (derived, "\"source\":\"open candle\""));
    assert_non_null (strstr (derived, "\"follows_open\":false"));
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.frame.malformed", NULL), 0);
    //  An order placed at kite-sim comes back as ORDER_UPDATE on md.order (the tag is
    //  how exec-gateway finds its order), with prices in paise.
    redisReply *u =
        redisCommand (s_e.rc, "HGET kt:md:universe %u", toks[1] == 256265 ? toks[2] : toks[1]);
    assert_true (u && u->type == REDIS_REPLY_STRING && strncmp (u->str, "NFO:", 4) == 0);
    char form[256], url[96], auth[128];
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY&order_type=MARKET&quantity=75"
              "&product=MIS&validity=DAY&market_protection=-1&tag=MDT1",
              u->str + 4);
    freeReplyObject (u);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/orders/regular", s_e.http_port);
    snprintf (auth, sizeof auth, "Authorization: token sim_api_key:%s", TOKEN);
    const char *headers[] = {"X-Kite-Version: 3", auth, NULL};
    kt_http_resp_t *resp = kt_http_post_sync (url, headers, form, 3000);
    assert_int_equal (resp->status, 200);
    kt_http_resp_destroy (&resp);
    bool update = false;
    end = s_ms () + 5000;
    while (!update && s_ms () < end) {
        if (!s_recv (&m, topic, 100) || m.env.type != KT_MSG_ORDER_UPDATE)
            continue;
        assert_string_equal (topic, "md.order");
        assert_string_equal (m.u.order_update.tag, "MDT1");
        assert_true (m.u.order_update.order_id[0] != '\0');
        assert_true (m.u.order_update.status[0] != '\0');
        assert_int_equal (m.u.order_update.qty, 75);
        update = true;
    }
    assert_true (update);
    assert_int_equal (s_e.gaps, 0);

    //  SIGTERM: a clean stop, md:status says disconnected.
    assert_int_equal (kt_testproc_signal (s_e.md, SIGTERM), 0);
    assert_int_equal (kt_testproc_wait (s_e.md, 5000), 0);
    assert_string_equal (s_hget ("kt:md:status", "connected", buf, sizeof buf), "0");
}

static void
test_reconnects_and_faults (void **state)
{
    (void) state;
    s_sim_start ("09:30");
    s_write_cfg ("");
    s_md_start (TOKEN);
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.connected", NULL, 10000));
    assert_true (s_ticking (5000, 40) >= 40);

    //  A dropped socket: reconnected, subscriptions restored (kite-sim streams only
    //  what a connection subscribed).
    kt_testproc_log_mark (s_e.md);
    s_fault ("kind=ws_drop");
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.closed", NULL, 5000));
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.connected", NULL, 5000));
    assert_true (s_ticking (5000, 40) >= 40);

    //  A silent socket: the watchdog (5 s) closes it, then data again.
    kt_testproc_log_mark (s_e.md);
    s_fault ("kind=ws_silent&seconds=7");
    int64_t t0 = s_ms ();
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.silent", NULL, 12000));
    int64_t silent_after = s_ms () - t0;
    assert_true (silent_after >= 4000);
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.connected", NULL, 15000));
    assert_true (s_ticking (15000, 40) >= 40);

    //  Malformed frames: counted, logged (once a minute at most), survived.
    kt_testproc_log_mark (s_e.md);
    s_fault ("kind=malformed&count=3");
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.frame.malformed", NULL, 5000));
    assert_true (s_ticking (5000, 40) >= 40);
    char buf[64];
    int64_t end = s_ms () + 3000;
    //  At least one: kite-sim takes the count from whichever connection seals a frame
    //  next, and the one the watchdog closed may still be in its list.
    while (atoi (s_hget ("kt:md:status", "malformed", buf, sizeof buf)) < 1 && s_ms () < end)
        usleep (50000);
    assert_true (atoi (buf) >= 1);
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.frame.malformed", NULL), 1);
    assert_true (kt_testproc_running (s_e.md));

    //  kite-sim restarts (later in the session): md-gateway comes back on its own.
    kt_testproc_log_mark (s_e.md);
    kt_testproc_destroy (&s_e.sim);
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.closed", NULL, 5000));
    //  Down longer than md.alert_after_s (2 s here) in market hours: a CRITICAL alert,
    //  once, and an INFO one when data flows again.
    assert_non_null (kt_testproc_log_wait (s_e.md, "alert.raised",
                                           "\"severity\":\"CRITICAL\",\"key\":\"md.feed\"", 6000));
    s_sim_start ("09:45");
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.connected", NULL, 10000));
    assert_true (s_ticking (10000, 40) >= 40);
    assert_non_null (kt_testproc_log_wait (s_e.md, "alert.raised",
                                           "\"severity\":\"INFO\",\"key\":\"md.feed\"", 3000));
    assert_int_equal (kt_testproc_log_count (s_e.md, "alert.raised",
                                             "\"severity\":\"CRITICAL\",\"key\":\"md.feed\""),
                      1);
    end = s_ms () + 3000;
    while (atoi (s_hget ("kt:md:status", "reconnects", buf, sizeof buf)) < 3 && s_ms () < end)
        usleep (50000);
    assert_true (atoi (buf) >= 3);
    assert_true (kt_testproc_running (s_e.md));
}

static void
test_token_refused (void **state)
{
    (void) state;
    s_sim_start ("09:20");
    //  A configured universe goes straight to the ticker (no REST call first).
    s_write_cfg ("NSE:NIFTY 50");
    redisReply *r = redisCommand (s_e.rc, "HSET kt:risk:state session_ok 1");
    freeReplyObject (r);
    //  Real Kite serves the instruments dump without a session (kite-sim wants one):
    //  another process of the day has it in the shared cache already.
    char dir[128], url[64], err[256], path[600];
    snprintf (dir, sizeof dir, "%s/instruments", s_e.dir);
    snprintf (url, sizeof url, "http://127.0.0.1:%d", s_e.http_port);
    struct kt_instr_cache_cfg icfg = {.dir = dir,
                                      .api_url = url,
                                      .api_key = "sim_api_key",
                                      .access_token = TOKEN,
                                      .now_ns = kt_ist_ns (2025, 11, 24, 9, 20, 0)};
    assert_int_equal (kt_instr_cache_path (&icfg, path, sizeof path, err, sizeof err), 0);
    //  The token comes from a secrets file, as `tradectl token` writes it.
    char secrets[128];
    snprintf (secrets, sizeof secrets, "%s/secrets.env", s_e.dir);
    s_secret (secrets, "not_the_token");
    s_cfg_set (s_e.cfg, "kite", "access_token", "file:secrets.env#KITE_ACCESS_TOKEN");
    s_md_start ("unused");
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.refused", "\"http\":403", 10000));
    assert_non_null (kt_testproc_log_wait (s_e.md, "alert.raised", "\"key\":\"md.session\"", 2000));
    char buf[16];
    //  md:status says so (risk-gate reads it and halts); risk:state is risk-gate's own.
    //  A queued write: give it a moment.
    int64_t until = s_ms () + 2000;
    while (strcmp (s_hget ("kt:md:status", "session_refused", buf, sizeof buf), "1") != 0 &&
           s_ms () < until)
        usleep (20000);
    assert_string_equal (buf, "1");
    assert_string_equal (s_hget ("kt:risk:state", "session_ok", buf, sizeof buf), "1");
    //  No reconnect storm: three seconds later still one attempt.
    sleep (3);
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.ws.refused", NULL), 1);
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.ws.connected", NULL), 0);
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.ws.closed", NULL), 0);
    assert_string_equal (s_hget ("kt:md:status", "session_refused", buf, sizeof buf), "1");
    assert_true (kt_testproc_running (s_e.md));

    //  A new token and session:reload: md-gateway reconnects without a restart.
    s_secret (secrets, TOKEN);
    r = redisCommand (s_e.rc, "HSET kt:session:reload requested_ns %lld by test what new",
                      (long long) kt_clock_wall_ns ());
    freeReplyObject (r);
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.session.reload", NULL, 5000));
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.connected", NULL, 5000));
    assert_true (s_ticking (5000, 1) >= 1);
}

struct s_fbar {
    uint32_t token;
    int64_t start, o, h, l, c, volume, vwap;
};

//  Drain sub for ms, keeping final bars (at most max) in out; returns the count kept.
static int
s_finals (void *sub, int ms, struct s_fbar *out, int n, int max)
{
    int64_t end = s_ms () + ms;
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    while (s_ms () < end) {
        if (zmq_poll (&it, 1, 50) <= 0)
            continue;
        char topic[KT_TOPIC_LEN];
        int tn = zmq_recv (sub, topic, sizeof topic - 1, 0);
        zmq_msg_t body;
        zmq_msg_init (&body);
        assert_true (tn > 0 && zmq_msg_recv (&body, sub, 0) >= 0);
        struct kt_msg m;
        int rc = kt_msg_decode (s_e.dec, zmq_msg_data (&body), zmq_msg_size (&body), &m, NULL, 0);
        zmq_msg_close (&body);
        if (rc == 0 && m.env.type == KT_MSG_BAR && m.u.bar.final && n < max)
            out[n++] =
                (struct s_fbar){m.u.bar.token, m.u.bar.start_ns, m.u.bar.o,      m.u.bar.h,
                                m.u.bar.l,     m.u.bar.c,        m.u.bar.volume, m.u.bar.vwap};
    }
    return n;
}

//  kill -9 and a restart mid-day: after its warm-up from the candles, the restarted
//  md-gateway publishes the same final bars (OHLC, volume, day VWAP) as one that ran
//  all along.
static void
test_restart_same_bars (void **state)
{
    (void) state;
    s_sim_start ("10:00");
    char ep_a[128], ep_b[128], cfg_b[128];
    snprintf (ep_a, sizeof ep_a, "ipc://%s/md", s_e.dir);
    snprintf (ep_b, sizeof ep_b, "ipc://%s/md-b", s_e.dir);
    snprintf (cfg_b, sizeof cfg_b, "%s/b.json", s_e.dir);
    s_write_cfg_warm ("", true, s_e.cfg, ep_a);
    s_write_cfg_warm ("", true, cfg_b, ep_b);
    static struct s_fbar a[20000], b[20000];
    int na = 0, nb = 0;
    s_md_start (TOKEN);
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.warm.done", NULL, 30000));
    const char *args[] = {"-c", cfg_b, NULL};
    const char *env[] = {"KITE_API_KEY=sim_api_key", "KITE_API_SECRET=sim_api_secret",
                         "KITE_ACCESS_TOKEN=" TOKEN, NULL};
    kt_testproc_t *pb = kt_testproc_start ("md-gateway", args, env);
    assert_non_null (kt_testproc_log_wait (pb, "md.warm.done", NULL, 30000));
    na = s_finals (s_e.sub, 3000, a, na, 20000);
    assert_int_equal (kt_testproc_signal (pb, SIGKILL), 0);
    assert_int_equal (kt_testproc_wait (pb, 3000), 128 + SIGKILL);
    kt_testproc_destroy (&pb);
    na = s_finals (s_e.sub, 1000, a, na, 20000);
    void *sub_b = zmq_socket (s_e.zctx, ZMQ_SUB);
    int hwm = 0, ivl = 5;
    zmq_setsockopt (sub_b, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sub_b, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (sub_b, ZMQ_SUBSCRIBE, "md.bar.", 7);
    int zero = 0;
    zmq_setsockopt (sub_b, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_connect (sub_b, ep_b), 0);
    pb = kt_testproc_start ("md-gateway", args, env);
    const char *begin = kt_testproc_log_wait (pb, "md.warm.begin", NULL, 30000);
    assert_non_null (begin);
    const char *cm = strstr (begin, "\"cut_min\":");
    assert_non_null (cm);
    long long cut_min = atoll (cm + strlen ("\"cut_min\":"));
    //  Every instrument seeded from its candles (the index and 42 options).
    assert_non_null (kt_testproc_log_wait (pb, "md.warm.done", "\"seeded\":43,", 30000));
    //  Both streams for a few more simulated minutes.
    for (int i = 0; i < 6; i++) {
        nb = s_finals (sub_b, 500, b, nb, 20000);
        na = s_finals (s_e.sub, 500, a, na, 20000);
    }
    //  Every minute the restarted md-gateway publishes equals the uninterrupted one's:
    //  the minute it came back in (cut_min) and any the killed run did not publish come
    //  from their complete candles, later ones from the ticks (docs/md-gateway.md). Each
    //  instrument's first bar is at or before cut_min: nothing is skipped.
    int compared = 0;
    for (int i = 0; i < nb; i++) {
        bool first = true;
        for (int k = 0; k < nb; k++)
            if (b[k].token == b[i].token && b[k].start < b[i].start)
                first = false;
        if (first && b[i].start / 60000000000LL > cut_min)
            fail_msg ("token %u: first bar after the restart at minute %lld, after %lld",
                      b[i].token, (long long) (b[i].start / 60000000000LL), cut_min);
        for (int j = 0; j < na; j++) {
            if (a[j].token != b[i].token || a[j].start != b[i].start)
                continue;
            if (a[j].o != b[i].o || a[j].h != b[i].h || a[j].l != b[i].l || a[j].c != b[i].c ||
                a[j].volume != b[i].volume || a[j].vwap != b[i].vwap)
                fail_msg ("token %u minute %lld: uninterrupted o%lld h%lld l%lld c%lld v%lld "
                          "vwap%lld, restarted o%lld h%lld l%lld c%lld v%lld vwap%lld",
                          b[i].token, (long long) (b[i].start / 60000000000LL), (long long) a[j].o,
                          (long long) a[j].h, (long long) a[j].l, (long long) a[j].c,
                          (long long) a[j].volume, (long long) a[j].vwap, (long long) b[i].o,
                          (long long) b[i].h, (long long) b[i].l, (long long) b[i].c,
                          (long long) b[i].volume, (long long) b[i].vwap);
            compared++;
        }
    }
    fprintf (stderr, "restart: %d final bars compared, restart minute included\n", compared);
    assert_true (compared >= 43 * 3);
    zmq_close (sub_b);
    kt_testproc_destroy (&pb);
}

//  The binary's --decode-packet / --decode on the official fixtures (base64 text).
static bool
s_in (const uint32_t *set, int n, uint32_t token)
{
    for (int i = 0; i < n; i++)
        if (set[i] == token)
            return true;
    return false;
}

//  The tokens of md:universe into out (at most max); returns how many.
static int
s_universe (uint32_t *out, int max)
{
    redisReply *r = redisCommand (s_e.rc, "HKEYS kt:md:universe");
    assert_true (r && r->type == REDIS_REPLY_ARRAY);
    int n = 0;
    for (size_t i = 0; i < r->elements && n < max; i++)
        out[n++] = (uint32_t) strtoul (r->element[i]->str, NULL, 10);
    freeReplyObject (r);
    return n;
}

//  Started at 09:12, before an open that gaps from the previous close (kite-sim's
//  2025-11-25, seed 1: closed at 23628.20, opens at 23560.30 - ATM 23650 -> 23550): the universe is
//  first derived from the previous close, then, at the index's first tick of the session, extended
//  by the strategy's universe around the open (the open of the first 09:15 BAR of NIFTY 50),
//  nothing dropped; every instrument of the strategy's universe ticks and closes bars after that.
static void
test_open_gap (void **state)
{
    (void) state;
    s_sim_start_on ("2025-11-25", "09:12");
    s_write_cfg ("");
    cJSON *root = s_json_load (s_e.cfg);
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "md"), "strikes", cJSON_CreateNumber (2));
    s_json_save (s_e.cfg, root);
    s_md_start (TOKEN);
    assert_non_null (
        kt_testproc_log_wait (s_e.md, "md.universe.derived", "\"follows_open\":true", 5000));
    uint32_t u0[NMAX], u1[NMAX];
    int n0 = 0;
    for (int i = 0; i < 100 && n0 < 11; i++) {
        n0 = s_universe (u0, NMAX);
        usleep (20000);
    }
    assert_int_equal (n0, 1 + 2 * 5); //  the index + ATM +/- 2, CE and PE
    //  The day's instruments, as md-gateway and the strategy read them.
    char url[128], auth[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/instruments", s_e.http_port);
    snprintf (auth, sizeof auth, "Authorization: token sim_api_key:%s", TOKEN);
    const char *headers[] = {"X-Kite-Version: 3", auth, NULL};
    kt_http_resp_t *resp = kt_http_get_sync (url, headers, 5000);
    assert_int_equal (resp->status, 200);
    char err[256];
    kt_instr_table_t *instr = kt_instr_parse (resp->body, resp->body_len, err, sizeof err);
    kt_http_resp_destroy (&resp);
    assert_non_null (instr);
    //  Through 09:19: the index's first session bar, and bars of every instrument.
    int64_t open = 0, open_min = 0;
    uint32_t ticking[NMAX], barred[NMAX];
    int nticking = 0, nbarred = 0;
    struct kt_msg m;
    char topic[KT_TOPIC_LEN];
    int64_t end = s_ms () + 20000;
    int64_t last_min = 0;
    while (s_ms () < end && (!open || last_min < open_min + 4)) {
        if (!s_recv (&m, topic, 100))
            continue;
        if (m.env.type == KT_MSG_TICK && !s_in (ticking, nticking, m.u.tick.token) &&
            nticking < NMAX && open)
            ticking[nticking++] = m.u.tick.token;
        if (m.env.type != KT_MSG_BAR || !m.u.bar.final)
            continue;
        int64_t min = m.u.bar.start_ns / MIN_NS;
        if (m.u.bar.token == 256265 && !open && s_sess (min)) {
            open = m.u.bar.o;
            open_min = min;
        }
        if (open && min >= open_min + 2 && !s_in (barred, nbarred, m.u.bar.token) && nbarred < NMAX)
            barred[nbarred++] = m.u.bar.token;
        if (m.u.bar.token == 256265)
            last_min = min;
    }
    assert_true (open > 0);
    //  The strategy's universe at that open (strategy.strikes_each_side 2, step 50).
    struct strat_params p;
    memset (&p, 0, sizeof p);
    snprintf (p.underlying, sizeof p.underlying, "NIFTY");
    p.strike_step = 5000;
    p.strikes_each_side = 2;
    uint32_t want[NMAX];
    int nwant = strat_warm_universe (instr, &p, 20251125, open, want, NMAX);
    assert_int_equal (nwant, 10);
    int missing0 = 0;
    for (int i = 0; i < nwant; i++)
        missing0 += !s_in (u0, n0, want[i]);
    //  The day gaps: the previous close's universe lacked some of the strategy's.
    assert_true (missing0 > 0);
    const char *line = kt_testproc_log_wait (s_e.md, "md.universe.extend", NULL, 1000);
    assert_non_null (line);
    assert_non_null (strstr (line, "first index tick"));
    char added[32];
    snprintf (added, sizeof added, "\"added\":%d", missing0);
    assert_non_null (strstr (line, added));
    //  md:universe: everything from before, plus the strategy's; nothing else.
    int n1 = s_universe (u1, NMAX);
    assert_int_equal (n1, n0 + missing0);
    for (int i = 0; i < n0; i++)
        assert_true (s_in (u1, n1, u0[i]));
    for (int i = 0; i < nwant; i++) {
        assert_true (s_in (u1, n1, want[i]));
        assert_true (s_in (ticking, nticking, want[i]));
        assert_true (s_in (barred, nbarred, want[i]));
    }
    //  The instruments from before the open stay subscribed.
    for (int i = 0; i < n0; i++)
        assert_true (s_in (ticking, nticking, u0[i]));
    char buf[32];
    snprintf (added, sizeof added, "%d", n1);
    assert_string_equal (s_hget ("kt:md:status", "subscribed", buf, sizeof buf), added);
    //  The bar that confirmed the open found nothing more to add.
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.universe.open", "first index bar", 3000));
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.universe.extend", NULL), 1);
    assert_int_equal (s_e.gaps, 0);
    kt_instr_destroy (&instr);
}

//  md-gateway started on the index (no md.subscribe): its universe derived from the last
//  price within timeout_ms. Returns the log line.
static const char *
s_derived_from_last_price (int timeout_ms)
{
    s_write_cfg ("");
    s_md_start (TOKEN);
    const char *line = kt_testproc_log_wait (s_e.md, "md.universe.derived", NULL, timeout_ms);
    assert_non_null (line);
    assert_non_null (strstr (line, "\"source\":\"last price\""));
    return line;
}

//  Started during the session while the historical endpoint fails: three attempts at the
//  open's candle, then the universe from the last price (market data first), said so;
//  ticks flow.
static void
test_open_unknown (void **state)
{
    (void) state;
    s_sim_start ("09:40");
    s_fault ("kind=http_error&status=500&count=10&path=/instruments/historical");
    s_derived_from_last_price (20000);
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.index.open", NULL), 3);
    assert_int_equal (s_ticking (5000, 43), 43);
    assert_int_equal (s_hlen ("kt:md:universe"), 43);
}

//  Started inside the open's minute (09:15:20), when its candle cannot exist yet: the
//  universe comes from the last price at once (no waiting for the candle), and the
//  09:15 bar, once final, extends it to the open the strategy takes.
static void
test_start_in_open_minute (void **state)
{
    (void) state;
    s_sim_start ("09:14");
    s_clock ("action=pause");
    s_clock ("step_to=09:15:20");
    const char *line = s_derived_from_last_price (4000);
    assert_non_null (strstr (line, "\"follows_open\":true"));
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.index.open", NULL), 0);
    s_clock ("action=resume");
    //  the 09:15 bar: covered already (md.universe.open) or grown (md.universe.extend)
    const char *ext = NULL;
    for (int64_t end = s_ms () + 8000; s_ms () < end && !ext; usleep (50000)) {
        ext = kt_testproc_log_wait (s_e.md, "md.universe.open", "first index bar", 0);
        if (!ext)
            ext = kt_testproc_log_wait (s_e.md, "md.universe.extend", "first index bar", 0);
    }
    assert_non_null (ext);
    assert_true (s_ticking (5000, 10) >= 10);
}

static void
test_decode_cli (void **state)
{
    (void) state;
    const char *args[] = {"--decode-packet", "../shared/fixtures/kite/ticker_full.packet", NULL};
    kt_testproc_t *p = kt_testproc_start ("md-gateway", args, NULL);
    assert_non_null (p);
    assert_int_equal (kt_testproc_wait (p, 5000), 0);
    FILE *f = fopen (kt_testproc_out_path (p), "rb");
    assert_non_null (f);
    char out[4096];
    size_t n = fread (out, 1, sizeof out - 1, f);
    fclose (f);
    out[n] = '\0';
    cJSON *j = cJSON_Parse (out);
    assert_non_null (j);
    cJSON *t = cJSON_GetArrayItem (cJSON_GetObjectItem (j, "ticks"), 0);
    assert_non_null (t);
    assert_string_equal (cJSON_GetObjectItem (t, "mode")->valuestring, "full");
    assert_int_equal (cJSON_GetObjectItem (t, "instrument_token")->valuedouble, 408065);
    assert_true (cJSON_GetObjectItem (t, "last_price")->valuedouble == 1573.7);
    assert_true (cJSON_GetObjectItem (t, "change")->valuedouble == 0.3763235106518747);
    assert_string_equal (cJSON_GetObjectItem (t, "exchange_timestamp")->valuestring,
                         "2021-07-05T05:11:27Z");
    cJSON *sell = cJSON_GetObjectItem (cJSON_GetObjectItem (t, "depth"), "sell");
    assert_int_equal (cJSON_GetArraySize (sell), 5);
    assert_true (cJSON_GetObjectItem (cJSON_GetArrayItem (sell, 4), "price")->valuedouble ==
                 1573.95);
    cJSON_Delete (j);
    kt_testproc_destroy (&p);
    //  A file that is not a frame: exit 1, an empty list, the reason on stderr.
    const char *bad[] = {"--decode", "../shared/fixtures/kite/ticker_full.packet", NULL};
    p = kt_testproc_start ("md-gateway", bad, NULL);
    assert_int_equal (kt_testproc_wait (p, 5000), 1);
    f = fopen (kt_testproc_out_path (p), "rb");
    n = fread (out, 1, sizeof out - 1, f);
    fclose (f);
    out[n] = '\0';
    assert_string_equal (out, "{\"ticks\":[]}\n");
    kt_testproc_destroy (&p);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_decode_cli),
        cmocka_unit_test_setup_teardown (test_universe_ticks_and_bars, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reconnects_and_faults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_token_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_restart_same_bars, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_gap, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_unknown, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_start_in_open_minute, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
