/*  strategy_test - the strategy process (build/bin/strategy) against a real redis-server
 *  and real ZeroMQ sockets.
 *
 *  The test plays md-gateway (a PUB bound at the md endpoint, publishing hand-made final
 *  BARs and ticks), Kite's historical endpoint (a kt_testhttp server with today's
 *  candles) and, in the first two tests, risk-gate (a ROUTER at the risk endpoint that
 *  records every ORDER_INTENT and APPROVEs it, so the exact sequence of intents can be
 *  compared) and exec-gateway's book (order:<coid> in Redis). The third test runs the
 *  real risk-gate and exec-gateway.
 *
 *  Shows:
 *    - the bars lead to exactly the intents the backtest's engine makes for the same
 *      bars: a PLACE, then a MODIFY (a new swing), then a CANCEL (the swing broken);
 *    - a restart with that entry pending warms up from the historical candles, recovers
 *      the entry from the book and places nothing; the MODIFY and CANCEL that follow
 *      refer to the first run's entry;
 *    - intent ids are unique across restarts and at most 20 characters;
 *    - strat:state and the `events` stream say what the strategy did;
 *    - the probe strategy runs in the process;
 *    - with the real risk-gate (ACTIVE on the reconciler's agreement) and exec-gateway,
 *      the warmed-up strategy's entry is approved, sent to the broker (the test's Kite
 *      refuses it: MarginException), and the REJECTED event reaches the core;
 *    - another CE becoming best replaces the pending entry with ONE ENTRY naming it in
 *      ref (no separate CANCEL), as the backtest's engine decides. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <limits.h>
#include <cmocka.h>
#include <cJSON.h>
#include <zmq.h>

#include "kt.h"
#include "kt_testcfg.h"
#include "kt_testfile.h"
#include "kt_testhttp.h"
#include "kt_testproc.h"
#include "kt_testredis.h"
#include "../../backtest/bt.h"
#include "../../strategy/strat.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"
#define IDX 256265u
#define CE 10000041u
#define CE_SYM "NIFTY26NOV24000CE"
#define NS_MIN (60LL * 1000000000LL)
#define NMIN 11
#define EACH_SIDE 2

struct t {
    kt_testredis_t *redis;
    kt_testhttp_t *http;
    char dir[64];
    char cfg_a[128], cfg_b[128], cfg_probe[128], cfg_pipe[128];
    struct kt_cfg peer_cfg;
    kt_proc_t *peer;
    void *md;
    void *router;
    kt_clock_t *clock; //  the pipeline's shared clock, once a process made it
    struct kt_intent got[32];
    int ngot;
    int64_t t0;
};

static struct t s_t;

// ---- the bars -------------------------------------------------------------------------

//  Minute i's bars of CE 24000 (o, h, l, c, volume). 0..5: a swing low of Rs 150 at
//  minute 3 (VWAP Rs 135 from minute 0's volume), confirmed at 5's close: PLACE. 6..9: a
//  higher swing low (150.50) at minute 7, confirmed at 9's close: MODIFY. 10: it trades
//  at 150.49, below the swing and above the entry's trigger: CANCEL.
static const int64_t s_ce[NMIN][5] = {
    {13500, 13500, 13500, 13500, 1000}, {15400, 15500, 15300, 15400, 0},
    {15300, 15400, 15200, 15300, 0},    {16000, 16000, 15000, 15000, 0},
    {15100, 15150, 15100, 15100, 0},    {15100, 15150, 15100, 15100, 0},
    {15300, 15400, 15200, 15300, 0},    {15100, 16050, 15050, 15100, 0},
    {15250, 15300, 15200, 15250, 0},    {15250, 15300, 15200, 15250, 0},
    {15100, 15200, 15049, 15100, 0},
};

static void
s_minute_bars (int i, struct strat_bar out[2])
{
    int64_t ts = s_t.t0 + i * NS_MIN;
    out[0] = (struct strat_bar){IDX, ts, 2401000, 2401000, 2401000, 2401000, 0};
    out[1] = (struct strat_bar){CE, ts, s_ce[i][0], s_ce[i][1], s_ce[i][2], s_ce[i][3], s_ce[i][4]};
}

static void
s_publish_minute (int i)
{
    struct strat_bar b[2];
    s_minute_bars (i, b);
    for (int k = 0; k < 2; k++) {
        struct kt_msg m;
        memset (&m, 0, sizeof m);
        m.env.type = KT_MSG_BAR;
        m.u.bar.token = b[k].token;
        snprintf (m.u.bar.sym, sizeof m.u.bar.sym, "%s", k == 0 ? "NIFTY 50" : CE_SYM);
        m.u.bar.start_ns = b[k].ts;
        m.u.bar.o = b[k].open;
        m.u.bar.h = b[k].high;
        m.u.bar.l = b[k].low;
        m.u.bar.c = b[k].close;
        m.u.bar.volume = b[k].volume;
        m.u.bar.final = true;
        assert_int_equal (kt_bus_publish (kt_proc_bus (s_t.peer), s_t.md,
                                          k == 0 ? "md.bar.NIFTY 50" : "md.bar." CE_SYM, &m),
                          0);
    }
}

static void
s_spin (int ms)
{
    for (int i = 0; i < ms / 5; i++)
        kt_loop_run_once (kt_proc_loop (s_t.peer), 5);
}

//  Spin until n intents were received (at most ms).
static bool
s_wait_intents (int n, int ms)
{
    for (int i = 0; i < ms / 5 && s_t.ngot < n; i++)
        kt_loop_run_once (kt_proc_loop (s_t.peer), 5);
    return s_t.ngot >= n;
}

// ---- the stand-ins --------------------------------------------------------------------

static int
s_on_intent (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
             void *arg)
{
    (void) topic;
    (void) arg;
    if (m->env.type != KT_MSG_ORDER_INTENT)
        return 0;
    bool dup = false;
    for (int i = 0; i < s_t.ngot; i++)
        dup |= strcmp (s_t.got[i].intent_id, m->u.intent.intent_id) == 0;
    if (!dup && s_t.ngot < 32)
        s_t.got[s_t.ngot++] = m->u.intent;
    struct kt_msg reply;
    memset (&reply, 0, sizeof reply);
    reply.env.type = KT_MSG_RISK_DECISION;
    snprintf (reply.u.decision.intent_id, sizeof reply.u.decision.intent_id, "%s",
              m->u.intent.intent_id);
    snprintf (reply.u.decision.coid, sizeof reply.u.decision.coid, "%s", m->u.intent.intent_id);
    reply.u.decision.verdict = KT_VERDICT_APPROVE;
    reply.u.decision.qty = m->u.intent.qty;
    reply.u.decision.state = KT_STATE_ACTIVE;
    kt_bus_reply (kt_proc_bus (proc), s_t.router, peer, "risk.decision", &reply);
    return 0;
}

//  Kite's historical answer for token: minutes 0..5 of the day for CE 24000 and the index,
//  no candles for the other options.
static char *
s_candles (uint32_t token)
{
    static char body[8192];
    size_t n =
        (size_t) snprintf (body, sizeof body, "{\"status\":\"success\",\"data\":{\"candles\":[");
    for (int i = 0; i < 6 && (token == IDX || token == CE); i++) {
        struct strat_bar b[2];
        s_minute_bars (i, b);
        const struct strat_bar *x = token == IDX ? &b[0] : &b[1];
        int hh, mi;
        kt_ist_fields (x->ts, NULL, NULL, NULL, &hh, &mi, NULL, NULL);
        n += (size_t) snprintf (body + n, sizeof body - n,
                                "%s[\"2026-11-23T%02d:%02d:00+0530\",%lld.%02lld,%lld.%02lld,%lld.%"
                                "02lld,%lld.%02lld,%lld]",
                                i ? "," : "", hh, mi, (long long) (x->open / 100),
                                (long long) (x->open % 100), (long long) (x->high / 100),
                                (long long) (x->high % 100), (long long) (x->low / 100),
                                (long long) (x->low % 100), (long long) (x->close / 100),
                                (long long) (x->close % 100), (long long) x->volume);
    }
    snprintf (body + n, sizeof body - n, "]}}");
    return body;
}

// ---- set-up ---------------------------------------------------------------------------

static void
s_set (cJSON *root, const char *section, const char *key, cJSON *v)
{
    cJSON *sec = cJSON_GetObjectItem (root, section);
    if (cJSON_GetObjectItem (sec, key))
        cJSON_ReplaceItemInObject (sec, key, v);
    else
        cJSON_AddItemToObject (sec, key, v);
}

static int
s_write_config (const char *path, const char *start, const char *name, int probe_every,
                bool pipeline)
{
    char *text = kt_testfile_read ("deploy/config/sim.json");
    if (!text)
        return -1;
    cJSON *root = cJSON_Parse (text);
    free (text);
    if (!root)
        return -1;
    const struct kt_cfg *c = &s_t.peer_cfg;
    s_set (root, "bus", "md", cJSON_CreateString (c->ep_md));
    if (pipeline) {
        //  risk-gate and exec-gateway bind these; the test only publishes md
        static const char *const names[] = {"risk", "risk_pub", "exec", "exec_pub", "alerts"};
        for (int i = 0; i < 5; i++) {
            char ep[128];
            snprintf (ep, sizeof ep, "ipc://%s/%s", s_t.dir, names[i]);
            s_set (root, "bus", names[i], cJSON_CreateString (ep));
        }
    } else {
        s_set (root, "bus", "risk", cJSON_CreateString (c->ep_risk));
        s_set (root, "bus", "risk_pub", cJSON_CreateString (c->ep_risk_pub));
        s_set (root, "bus", "exec", cJSON_CreateString (c->ep_exec));
        s_set (root, "bus", "exec_pub", cJSON_CreateString (c->ep_exec_pub));
        s_set (root, "bus", "alerts", cJSON_CreateString (c->ep_alerts));
    }
    s_set (root, "redis", "port", cJSON_CreateNumber (s_t.redis->port));
    s_set (root, "clock", "date", cJSON_CreateString ("2026-11-23"));
    s_set (root, "clock", "start", cJSON_CreateString (start));
    s_set (root, "clock", "speed", cJSON_CreateNumber (1));
    char url[128], cwd[PATH_MAX], csv[PATH_MAX + 64];
    kt_testhttp_url (s_t.http, url, sizeof url, "");
    s_set (root, "kite", "api_url", cJSON_CreateString (url));
    if (!getcwd (cwd, sizeof cwd))
        return -1;
    snprintf (csv, sizeof csv, "%s/%s", cwd, FIXTURE);
    s_set (root, "instruments", "file", cJSON_CreateString (csv));
    s_set (root, "strategy", "strikes_each_side", cJSON_CreateNumber (EACH_SIDE));
    s_set (root, "strategy", "name", cJSON_CreateString (name));
    s_set (root, "strategy", "probe_every", cJSON_CreateNumber (probe_every));
    int rc = kt_testfile_write_json (path, root);
    cJSON_Delete (root);
    return rc;
}

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_t, 0, sizeof s_t);
    s_t.t0 = kt_ist_ns (2026, 11, 23, 9, 15, 0);
    s_t.redis = kt_testredis_start ();
    if (!s_t.redis)
        return -1;
    snprintf (s_t.dir, sizeof s_t.dir, "/tmp/kt-strat-XXXXXX");
    if (!mkdtemp (s_t.dir))
        return -1;
    s_t.http = kt_testhttp_new ();
    if (!s_t.http)
        return -1;
    //  the index and the day's universe: strikes 23,900 .. 24,100, CE and PE
    uint32_t toks[1 + 4 * EACH_SIDE + 2];
    int n = 0;
    toks[n++] = IDX;
    for (uint32_t t = 10000037u; t <= 10000046u; t++)
        toks[n++] = t;
    for (int i = 0; i < n; i++) {
        char path[96];
        snprintf (path, sizeof path, "/instruments/historical/%u/minute", toks[i]);
        if (kt_testhttp_route (s_t.http, "GET", path, 200, "application/json",
                               s_candles (toks[i])) != 0)
            return -1;
    }
    //  the broker refuses every order (exec-gateway turns that into REJECTED)
    if (kt_testhttp_route (s_t.http, "POST", "/orders/regular", 400, "application/json",
                           "{\"status\":\"error\",\"message\":\"Insufficient funds\","
                           "\"error_type\":\"MarginException\"}") != 0)
        return -1;
    if (kt_testhttp_start (s_t.http) != 0)
        return -1;
    kt_testcfg_fill (&s_t.peer_cfg, "test-peer", s_t.redis->port, "strattest");
    char err[256];
    s_t.peer = kt_proc_new (&s_t.peer_cfg, "test-peer", err, sizeof err);
    if (!s_t.peer)
        return -1;
    kt_log_open ("test-peer", KT_LOG_OFF);
    s_t.router = kt_proc_serve (s_t.peer, "risk", s_on_intent, NULL);
    s_t.md = kt_bus_bind (kt_proc_bus (s_t.peer), "md", ZMQ_PUB);
    if (!s_t.router || !s_t.md)
        return -1;
    snprintf (s_t.cfg_a, sizeof s_t.cfg_a, "%s/a.json", s_t.dir);
    snprintf (s_t.cfg_b, sizeof s_t.cfg_b, "%s/b.json", s_t.dir);
    //  A starts before the session (nothing to warm up); B after minute 5 closed.
    snprintf (s_t.cfg_probe, sizeof s_t.cfg_probe, "%s/probe.json", s_t.dir);
    snprintf (s_t.cfg_pipe, sizeof s_t.cfg_pipe, "%s/pipeline.json", s_t.dir);
    if (s_write_config (s_t.cfg_a, "09:10", "baseline_v1", 0, false) != 0 ||
        s_write_config (s_t.cfg_b, "09:22", "baseline_v1", 0, false) != 0 ||
        s_write_config (s_t.cfg_probe, "10:00", "probe", 2, false) != 0 ||
        s_write_config (s_t.cfg_pipe, "09:22", "baseline_v1", 0, true) != 0)
        return -1;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_clock_destroy (&s_t.clock);
    kt_proc_destroy (&s_t.peer);
    kt_testhttp_destroy (&s_t.http);
    kt_testredis_stop (&s_t.redis);
    kt_testcfg_cleanup ("strattest");
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_t.dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", s_t.dir);
    return 0;
}

static void
s_publish_tick (int64_t ltp)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_TICK;
    m.u.tick.token = CE;
    snprintf (m.u.tick.sym, sizeof m.u.tick.sym, CE_SYM);
    m.u.tick.ltp = ltp;
    m.u.tick.bid = ltp - 5;
    m.u.tick.ask = ltp + 5;
    m.u.tick.volume = 1000;
    //  risk-gate wants a fresh tick: timed on the pipeline's clock
    m.u.tick.recv_ts_ns = s_t.clock ? kt_clock_now_ns (s_t.clock) : 0;
    m.u.tick.exch_ts_ns = m.u.tick.recv_ts_ns;
    assert_int_equal (kt_bus_publish (kt_proc_bus (s_t.peer), s_t.md, "md.tick." CE_SYM, &m), 0);
}

//  Start bin with cfg and wait (at most 20 s) for its log event ready and, for the
//  strategy, for an md status to have reached it (PUB/SUB joins asynchronously).
//  ticking: a fresh CE tick every 20 ms meanwhile (risk-gate's price must be fresh).
static kt_testproc_t *
s_run (const char *bin, const char *cfg, const char *ready, bool ticking)
{
    static const char *const env[] = {"KITE_API_KEY=sim_api_key", "KITE_API_SECRET=sim_api_secret",
                                      "KITE_ACCESS_TOKEN=sim_access_token", NULL};
    const char *args[] = {"-c", cfg, NULL};
    kt_testproc_t *p = kt_testproc_start (bin, args, env);
    assert_non_null (p);
    bool strat = strcmp (bin, "strategy") == 0;
    bool up = false, md = !strat;
    for (int i = 0; i < 1000 && (!up || !md); i++) {
        struct kt_msg m;
        memset (&m, 0, sizeof m);
        m.env.type = KT_MSG_MD_STATUS;
        m.u.md_status.connected = true;
        kt_bus_publish (kt_proc_bus (s_t.peer), s_t.md, "md.status", &m);
        if (ticking)
            s_publish_tick (15100);
        s_spin (20);
        up = up || kt_testproc_log_wait (p, ready, NULL, 1);
        md = md || kt_testproc_log_wait (p, "strat.md.status", NULL, 1);
    }
    if (!up || !md) {
        kt_testproc_log_dump (p, 4000);
        fail_msg ("%s did not start", bin);
    }
    return p;
}

static kt_testproc_t *
s_start (const char *cfg)
{
    return s_run ("strategy", cfg, "strat.ready", false);
}

static char *
s_hget (const char *key, const char *field, char *buf, size_t len)
{
    buf[0] = 0;
    redisContext *c = kt_testredis_connect (s_t.redis);
    assert_non_null (c);
    redisReply *r = redisCommand (c, "HGET %s %s", key, field);
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf (buf, len, "%s", r->str);
    if (r)
        freeReplyObject (r);
    redisFree (c);
    return buf;
}

//  Wait until strat:state's field contains text (the hash is a queued write).
static bool
s_state_has (const char *field, const char *text, int ms)
{
    char buf[1024];
    for (int i = 0; i < ms / 20; i++) {
        if (strstr (s_hget ("kt:strat:state", field, buf, sizeof buf), text))
            return true;
        s_spin (20);
    }
    fprintf (stderr, "strat:state %s = \"%s\", wanted \"%s\"\n", field, buf, text);
    return false;
}

static void
s_capture (void *arg, const struct bt_engine *book, const struct strat_intent *in,
           struct bt_verdict *out)
{
    (void) book;
    (void) out;
    struct strat_out *o = arg;
    struct strat_intent *slot = strat_out_push (o);
    if (slot)
        *slot = *in;
}

//  The backtest's engine over nmin minutes of bars(i, out) (nbars a minute): the
//  intents it decides, in order.
static void
s_backtest_of (struct strat_out *want, int nmin, int nbars, void (*bars) (int, struct strat_bar *))
{
    char err[256];
    kt_instr_table_t *instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (instr);
    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    cfg.p.strikes_each_side = EACH_SIDE;
    strat_core_t *core = strat_core_new ("baseline_v1", &cfg.p, instr, err, sizeof err);
    assert_non_null (core);
    memset (want, 0, sizeof *want);
    bt_engine_t *eng = bt_engine_new (core, instr, s_capture, want);
    for (int i = 0; i < nmin; i++) {
        struct strat_bar b[4];
        bars (i, b);
        assert_int_equal (bt_engine_minute (eng, b, nbars), 0);
    }
    bt_engine_destroy (&eng);
    strat_core_destroy (&core);
    kt_instr_destroy (&instr);
}

static void
s_backtest (struct strat_out *want)
{
    s_backtest_of (want, NMIN, 2, s_minute_bars);
}

static void
s_same (const struct strat_intent *w, const struct kt_intent *g, kt_purpose_t purpose)
{
    assert_int_equal (g->purpose, purpose);
    assert_string_equal (g->sym, CE_SYM);
    assert_string_equal (g->strategy, "S1");
    assert_true (strlen (g->intent_id) <= KT_ID_WIRE_MAX);
    if (purpose == KT_PURPOSE_CANCEL)
        return;
    assert_int_equal (g->side, w->side);
    assert_int_equal (g->order_type, w->order_type);
    assert_int_equal (g->qty, w->qty);
    assert_int_equal (g->trigger, w->trigger);
    assert_int_equal (g->price, w->price);
    assert_true (g->has_stop);
    assert_int_equal (g->stop_trigger, w->sl_price);
    assert_int_equal (g->stop_price, w->stop_price);
    assert_int_equal (g->r_value, w->r_value);
    assert_int_equal (g->product, KT_PROD_MIS);
}

static int64_t
s_seq (const char *id)
{
    const char *dash = strrchr (id, '-');
    return dash ? atoll (dash + 1) : -1;
}

static void
test_live_restart_and_backtest_agree (void **state)
{
    (void) state;
    static struct strat_out want;
    s_backtest (&want);
    assert_int_equal (want.n, 3);
    assert_int_equal (want.v[0].kind, STRAT_I_PLACE);
    assert_int_equal (want.v[1].kind, STRAT_I_MODIFY);
    assert_int_equal (want.v[2].kind, STRAT_I_CANCEL);
    assert_int_equal (want.v[1].trigger, 15045);

    //  ---- run A: minutes 0..5 live -> the PLACE -------------------------------------
    kt_testproc_t *a = s_start (s_t.cfg_a);
    for (int i = 0; i < 6; i++) {
        s_publish_minute (i);
        s_spin (30);
    }
    //  minute 5 closes bar_grace_ms (2 s) after its bars
    if (!s_wait_intents (1, 8000))
        kt_testproc_log_dump (a, 4000);
    assert_int_equal (s_t.ngot, 1);
    s_same (&want.v[0], &s_t.got[0], KT_PURPOSE_ENTRY);
    char coid[KT_ID_LEN];
    snprintf (coid, sizeof coid, "%s", s_t.got[0].intent_id);
    assert_true (strat_ids_ours (coid, "S1"));
    assert_true (s_state_has ("pending", coid, 3000));
    assert_true (s_state_has ("approved", "1", 3000));
    assert_true (s_state_has ("cands", CE_SYM " 150.00/160.00", 3000));
    assert_true (s_state_has ("best_ce", CE_SYM " 600@149.95", 3000));
    s_spin (200);
    assert_int_equal (s_t.ngot, 1); //  nothing more: the next minute keeps it

    //  exec-gateway recorded it (and it rests at the broker)
    struct kt_order_rec o;
    memset (&o, 0, sizeof o);
    snprintf (o.coid, sizeof o.coid, "%s", coid);
    snprintf (o.intent_id, sizeof o.intent_id, "%s", coid);
    snprintf (o.sym, sizeof o.sym, CE_SYM);
    o.token = CE;
    o.side = KT_SIDE_SELL;
    o.order_type = KT_OT_SL;
    o.product = KT_PROD_MIS;
    o.purpose = KT_PURPOSE_ENTRY;
    o.qty = s_t.got[0].qty;
    o.price = s_t.got[0].price;
    o.trigger = s_t.got[0].trigger;
    o.stop_trigger = s_t.got[0].stop_trigger;
    o.stop_price = s_t.got[0].stop_price;
    o.r_value = s_t.got[0].r_value;
    o.status = KT_OS_OPEN;
    char why[256];
    assert_int_equal (kt_book_order_create (kt_proc_store (s_t.peer), &o, 1, NULL, why, sizeof why),
                      1);

    //  every decision is in `events`
    redisContext *c = kt_testredis_connect (s_t.redis);
    redisReply *r = redisCommand (c, "XRANGE kt:events - +");
    assert_int_equal (r->type, REDIS_REPLY_ARRAY);
    int places = 0, decisions = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        bool strat = false;
        for (size_t j = 0; j + 1 < f->elements; j += 2) {
            if (!strcmp (f->element[j]->str, "type"))
                strat = !strcmp (f->element[j + 1]->str, "strat");
            if (strat && !strcmp (f->element[j]->str, "what")) {
                places += !strcmp (f->element[j + 1]->str, "PLACE");
                decisions += !strcmp (f->element[j + 1]->str, "DECISION");
            }
        }
    }
    freeReplyObject (r);
    assert_int_equal (places, 1);
    assert_int_equal (decisions, 1);

    assert_int_equal (kt_testproc_signal (a, SIGTERM), 0);
    assert_int_equal (kt_testproc_wait (a, 5000), 0);
    kt_testproc_destroy (&a);

    //  ---- run B: a restart at 09:22, the entry pending --------------------------------
    r = redisCommand (c, "DEL kt:clock"); //  a new simulated session from B's config
    freeReplyObject (r);
    kt_testproc_t *b = s_start (s_t.cfg_b);
    const char *done = kt_testproc_log_wait (b, "strat.warm.done", NULL, 1);
    assert_non_null (done);
    assert_non_null (strstr (done, "\"intents\":0"));
    assert_non_null (strstr (done, "\"book\":1"));
    assert_true (kt_testhttp_wait (s_t.http, "/instruments/historical/256265/minute", 1));
    assert_true (kt_testhttp_wait (s_t.http, "/instruments/historical/10000041/minute", 1));
    s_spin (500);
    assert_int_equal (s_t.ngot, 1); //  the pending entry was recovered: nothing placed
    assert_true (s_state_has ("pending", coid, 3000));
    assert_true (s_state_has ("warm", "1", 3000));

    //  minutes 6..10 live: the MODIFY and the CANCEL of the first run's entry
    for (int i = 6; i < NMIN; i++) {
        s_publish_minute (i);
        s_spin (30);
    }
    if (!s_wait_intents (3, 8000))
        kt_testproc_log_dump (b, 4000);
    assert_int_equal (s_t.ngot, 3);
    s_same (&want.v[1], &s_t.got[1], KT_PURPOSE_MODIFY);
    assert_string_equal (s_t.got[1].ref, coid);
    s_same (&want.v[2], &s_t.got[2], KT_PURPOSE_CANCEL);
    assert_string_equal (s_t.got[2].ref, coid);
    //  unique across the restart: B's ids come from a later block of the day
    assert_string_not_equal (s_t.got[0].intent_id, s_t.got[1].intent_id);
    assert_string_not_equal (s_t.got[1].intent_id, s_t.got[2].intent_id);
    assert_true (s_seq (s_t.got[1].intent_id) > s_seq (s_t.got[0].intent_id));
    assert_true (s_seq (s_t.got[1].intent_id) > STRAT_IDS_BLOCK);
    assert_true (s_state_has ("pending", "", 3000));
    assert_true (s_state_has ("intents_sent", "2", 3000));
    s_spin (300);
    assert_int_equal (s_t.ngot, 3);
    redisFree (c);
    assert_int_equal (kt_testproc_signal (b, SIGTERM), 0);
    assert_int_equal (kt_testproc_wait (b, 5000), 0);
    kt_testproc_destroy (&b);
}

//  The probe strategy runs in the same process: an entry on every 2nd tick.
static void
test_probe_in_the_process (void **state)
{
    (void) state;
    int before = s_t.ngot;
    kt_testproc_t *p = s_start (s_t.cfg_probe);
    for (int i = 0; i < 4; i++) {
        struct kt_msg m;
        memset (&m, 0, sizeof m);
        m.env.type = KT_MSG_TICK;
        m.u.tick.token = CE;
        snprintf (m.u.tick.sym, sizeof m.u.tick.sym, CE_SYM);
        m.u.tick.ltp = 15000 + 5 * i;
        m.u.tick.exch_ts_ns = s_t.t0 + 3600 * 1000000000LL + i;
        assert_int_equal (kt_bus_publish (kt_proc_bus (s_t.peer), s_t.md, "md.tick." CE_SYM, &m),
                          0);
        s_spin (10);
    }
    if (!s_wait_intents (before + 2, 5000))
        kt_testproc_log_dump (p, 4000);
    assert_int_equal (s_t.ngot, before + 2);
    for (int k = 0; k < 2; k++) {
        const struct kt_intent *g = &s_t.got[before + k];
        assert_int_equal (g->purpose, KT_PURPOSE_ENTRY);
        assert_int_equal (g->side, KT_SIDE_BUY);
        assert_int_equal (g->order_type, KT_OT_LIMIT);
        assert_int_equal (g->qty, 75);
        assert_int_equal (g->price, 15005 + 10 * k); //  ticks 2 and 4
        assert_int_equal (g->stop_trigger, g->price - 20 * 5);
        assert_true (s_seq (g->intent_id) > s_seq (s_t.got[before - 1].intent_id));
    }
    assert_int_equal (kt_testproc_signal (p, SIGTERM), 0);
    assert_int_equal (kt_testproc_wait (p, 5000), 0);
    kt_testproc_destroy (&p);
}

static bool
s_events_have (redisContext *c, const char *what, const char *field, const char *value)
{
    redisReply *r = redisCommand (c, "XRANGE kt:events - +");
    bool found = false;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements && !found; i++) {
        redisReply *f = r->element[i]->element[1];
        bool strat = false, kind = false, val = false;
        for (size_t j = 0; j + 1 < f->elements; j += 2) {
            const char *k = f->element[j]->str, *v = f->element[j + 1]->str;
            strat |= !strcmp (k, "type") && !strcmp (v, "strat");
            kind |= !strcmp (k, "what") && !strcmp (v, what);
            val |= !strcmp (k, field) && !strcmp (v, value);
        }
        found = strat && kind && val;
    }
    if (r)
        freeReplyObject (r);
    return found;
}

//  The real risk-gate and exec-gateway: the strategy, started at 09:22, warms up, places
//  the entry the day's candles call for; risk-gate (ACTIVE on the reconciler's agreement)
//  approves it and sends it to exec-gateway, which sends it to the broker; the broker
//  refuses it, the REJECTED event reaches the core and the entry is no longer pending.
static void
test_pipeline_with_risk_gate (void **state)
{
    (void) state;
    redisContext *c = kt_testredis_connect (s_t.redis);
    redisReply *r = redisCommand (c, "FLUSHALL");
    freeReplyObject (r);
    kt_testproc_t *risk = s_run ("risk-gate", s_t.cfg_pipe, "proc.start", true);
    kt_testproc_t *exec = s_run ("exec-gateway", s_t.cfg_pipe, "proc.start", true);
    //  the reconciler's agreement, at the pipeline's now
    s_t.clock = kt_proc_shared_clock (kt_proc_store (s_t.peer), NULL);
    assert_non_null (s_t.clock);
    struct kt_recon_last agreed = {.run = 1, .agree = true, .session_ok = true};
    agreed.ts_ns = agreed.agree_ns = agreed.session_ok_ns = kt_clock_now_ns (s_t.clock);
    char why[160];
    assert_int_equal (kt_recon_last_put (kt_proc_store (s_t.peer), &agreed, why, sizeof why), 0);
    s_spin (50); //  the write is queued
    bool active = false;
    for (int i = 0; i < 250 && !active; i++) {
        s_publish_tick (15100);
        s_spin (20);
        active = kt_testproc_log_wait (risk, "risk.state", "\"state\":\"ACTIVE\"", 1) != NULL;
    }
    if (!active)
        kt_testproc_log_dump (risk, 4000);
    assert_true (active);

    int before = s_t.ngot;
    kt_testproc_t *strat = s_run ("strategy", s_t.cfg_pipe, "strat.ready", true);
    const char *line = NULL;
    for (int i = 0; i < 250 && !line; i++) {
        s_publish_tick (15100);
        s_spin (20);
        line = kt_testproc_log_wait (strat, "strat.decision", NULL, 1);
    }
    if (!line) {
        kt_testproc_log_dump (strat, 4000);
        kt_testproc_log_dump (risk, 4000);
    }
    assert_non_null (line);
    if (!strstr (line, "\"verdict\":\"APPROVE\"")) {
        kt_testproc_log_dump (risk, 4000);
        fail_msg ("risk-gate: %s", line);
    }
    char coid[KT_ID_LEN] = "";
    const char *p = strstr (line, "\"intent_id\":\"");
    assert_non_null (p);
    sscanf (p + 13, "%23[^\"]", coid);
    assert_true (strat_ids_ours (coid, "S1"));
    assert_int_equal (s_t.ngot, before); //  the stand-in saw nothing: it was the real one
    //  exec-gateway sent it to the broker under the intent's id, which refused it
    const char *ev =
        kt_testproc_log_wait (exec, "exec.order.event", "\"event\":\"REJECTED\"", 5000);
    if (!ev)
        kt_testproc_log_dump (exec, 4000);
    assert_non_null (ev);
    assert_non_null (strstr (ev, coid));
    //  the refusal reached the core: nothing pending any more, and it is in `events`
    bool rejected = false;
    for (int i = 0; i < 150 && !rejected; i++) {
        s_spin (20);
        rejected = s_events_have (c, "EXEC", "event", "REJECTED");
    }
    assert_true (rejected);
    assert_true (s_events_have (c, "DECISION", "intent_id", coid));
    assert_true (s_state_has ("pending", "", 3000));
    assert_true (s_state_has ("approved", "1", 3000));
    redisFree (c);
    kt_testproc_t *procs[] = {strat, exec, risk};
    for (int i = 0; i < 3; i++) {
        assert_int_equal (kt_testproc_signal (procs[i], SIGTERM), 0);
        assert_int_equal (kt_testproc_wait (procs[i], 5000), 0);
        kt_testproc_destroy (&procs[i]);
    }
}

// ---- a replacement ---------------------------------------------------------------------

#define CE2 10000043u
#define CE2_SYM "NIFTY26NOV24050CE"
#define RMIN 9

//  CE 24050: a swing low of Rs 150 at minute 3 with a stop at Rs 162 (12 points from the
//  target of 10), confirmed at 5's close: its PLACE. CE 24000: the same low at minute 5
//  with a stop at Rs 160 (on target), confirmed at 7's close: now the best CE, so the
//  pending 24050 entry is replaced (CANCEL why REPLACED + PLACE in the core).
static const int64_t s_rep[2][RMIN][5] = {{{13500, 13500, 13500, 13500, 1000},
                                           {15400, 15500, 15300, 15400, 0},
                                           {15300, 15400, 15200, 15300, 0},
                                           {15300, 15400, 15200, 15300, 0},
                                           {15300, 15400, 15200, 15300, 0},
                                           {16000, 16000, 15000, 15000, 0},
                                           {15100, 15150, 15100, 15100, 0},
                                           {15100, 15150, 15100, 15100, 0},
                                           {15100, 15150, 15100, 15100, 0}},
                                          {{13500, 13500, 13500, 13500, 1000},
                                           {15400, 15500, 15300, 15400, 0},
                                           {15300, 15400, 15200, 15300, 0},
                                           {16200, 16200, 15000, 15000, 0},
                                           {15100, 15150, 15100, 15100, 0},
                                           {15100, 15150, 15100, 15100, 0},
                                           {15100, 15150, 15100, 15100, 0},
                                           {15100, 15150, 15100, 15100, 0},
                                           {15100, 15150, 15100, 15100, 0}}};

static void
s_rep_bars (int i, struct strat_bar *out)
{
    int64_t ts = s_t.t0 + i * NS_MIN;
    out[0] = (struct strat_bar){IDX, ts, 2401000, 2401000, 2401000, 2401000, 0};
    for (int k = 0; k < 2; k++) {
        const int64_t *b = s_rep[k][i];
        out[1 + k] = (struct strat_bar){k ? CE2 : CE, ts, b[0], b[1], b[2], b[3], b[4]};
    }
}

//  The core's CANCEL (REPLACED) + PLACE of one type reaches risk-gate as ONE ENTRY naming
//  the old entry in ref, never a separate CANCEL (which a per-type limit of 1 would
//  refuse while the old one is still pending); the backtest's engine decides the same.
static void
test_replacement_is_one_intent (void **state)
{
    (void) state;
    static struct strat_out want;
    s_backtest_of (&want, RMIN, 3, s_rep_bars);
    assert_int_equal (want.n, 2); //  the PLACE, then the replacement as one decision
    assert_int_equal (want.v[0].token, CE2);
    assert_int_equal (want.v[1].kind, STRAT_I_PLACE);
    assert_int_equal (want.v[1].token, CE);

    redisContext *c = kt_testredis_connect (s_t.redis);
    redisReply *r = redisCommand (c, "FLUSHALL");
    freeReplyObject (r);
    redisFree (c);
    s_t.ngot = 0; //  a fresh day's sequence: ids seen before come again
    int before = 0;
    kt_testproc_t *a = s_start (s_t.cfg_a);
    for (int i = 0; i < RMIN; i++) {
        struct strat_bar b[3];
        s_rep_bars (i, b);
        for (int k = 0; k < 3; k++) {
            struct kt_msg m;
            memset (&m, 0, sizeof m);
            m.env.type = KT_MSG_BAR;
            m.u.bar.token = b[k].token;
            const char *sym = k == 0 ? "NIFTY 50" : k == 1 ? CE_SYM : CE2_SYM;
            snprintf (m.u.bar.sym, sizeof m.u.bar.sym, "%s", sym);
            m.u.bar.start_ns = b[k].ts;
            m.u.bar.o = b[k].open;
            m.u.bar.h = b[k].high;
            m.u.bar.l = b[k].low;
            m.u.bar.c = b[k].close;
            m.u.bar.volume = b[k].volume;
            m.u.bar.final = true;
            char topic[64];
            snprintf (topic, sizeof topic, "md.bar.%s", sym);
            assert_int_equal (kt_bus_publish (kt_proc_bus (s_t.peer), s_t.md, topic, &m), 0);
        }
        s_spin (30);
    }
    if (!s_wait_intents (before + 2, 8000))
        kt_testproc_log_dump (a, 4000);
    s_spin (500);
    assert_int_equal (s_t.ngot, before + 2);
    const struct kt_intent *first = &s_t.got[before], *second = &s_t.got[before + 1];
    assert_int_equal (first->purpose, KT_PURPOSE_ENTRY);
    assert_string_equal (first->sym, CE2_SYM);
    assert_string_equal (first->ref, "");
    assert_int_equal (second->purpose, KT_PURPOSE_ENTRY);
    assert_string_equal (second->sym, CE_SYM);
    assert_string_equal (second->ref, first->intent_id);
    assert_int_equal (second->trigger, want.v[1].trigger);
    assert_int_equal (second->qty, want.v[1].qty);
    assert_int_equal (kt_testproc_signal (a, SIGTERM), 0);
    assert_int_equal (kt_testproc_wait (a, 5000), 0);
    kt_testproc_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_live_restart_and_backtest_agree),
        cmocka_unit_test (test_probe_in_the_process),
        cmocka_unit_test (test_pipeline_with_risk_gate),
        cmocka_unit_test (test_replacement_is_one_intent),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
