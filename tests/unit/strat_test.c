/*  strat_test - the strategy process's context: market data counted, intents sent to
 *  risk-gate through the lazy-pirate client, decisions and time-outs handled; bars
 *  driving baseline_v1 to a PLACE, and exec-gateway's fills of the entry and of its stop
 *  reaching the core (the position and its R in strat:state). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "../../strategy/strat.h"
#include "../../strategy/strat_warm.h"
#include "kt_testctx.h"
#include "kt_testhttp.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"
#define NS_MIN (60LL * 1000000000LL)

static int s_requests;
static bool s_answer;
static kt_verdict_t s_verdict = KT_VERDICT_APPROVE; //  what the test's risk-gate answers
static struct kt_intent s_got[8];
static int s_ngot;

//  The test's risk-gate: records every intent, answers it with APPROVE when s_answer
//  is set.
static int
s_on_intent (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
             void *arg)
{
    (void) topic;
    void **router = arg;
    assert_int_equal (m->env.type, KT_MSG_ORDER_INTENT);
    assert_string_equal (m->u.intent.strategy, "S1");
    s_requests++;
    if (s_ngot < 8)
        s_got[s_ngot++] = m->u.intent;
    if (!s_answer)
        return 0;
    struct kt_msg reply;
    memset (&reply, 0, sizeof reply);
    reply.env.type = KT_MSG_RISK_DECISION;
    snprintf (reply.u.decision.intent_id, sizeof reply.u.decision.intent_id, "%s",
              m->u.intent.intent_id);
    reply.u.decision.verdict = s_verdict;
    reply.u.decision.qty = m->u.intent.qty;
    reply.u.decision.state = KT_STATE_ACTIVE;
    assert_int_equal (kt_bus_reply (kt_proc_bus (proc), *router, peer, "risk.decision", &reply), 0);
    return 0;
}

static struct kt_intent
s_intent (const char *id)
{
    struct kt_intent in;
    memset (&in, 0, sizeof in);
    snprintf (in.intent_id, sizeof in.intent_id, "%s", id);
    snprintf (in.sym, sizeof in.sym, "NIFTY25N2524000CE");
    in.side = KT_SIDE_SELL;
    in.qty = 75;
    in.order_type = KT_OT_SL;
    in.price = 14990;
    in.trigger = 14995;
    in.product = KT_PROD_MIS;
    in.purpose = KT_PURPOSE_ENTRY;
    return in;
}

static void
test_ticks_and_decisions (void **state)
{
    (void) state;
    kt_testctx_t t;
    assert_int_equal (kt_testctx_start (&t, "strategy", "strat"), 0);
    static void *router;
    router = kt_proc_serve (t.peer, "risk", s_on_intent, &router);
    assert_non_null (router);
    void *md = kt_bus_bind (kt_proc_bus (t.peer), "md", ZMQ_PUB);
    assert_non_null (md);
    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    strat_t *s = strat_new (t.proc, &cfg);
    assert_non_null (s);

    char buf[64];
    for (int i = 0; i < 100; i++) {
        struct kt_msg m;
        memset (&m, 0, sizeof m);
        m.env.type = KT_MSG_TICK;
        m.u.tick.token = 42;
        snprintf (m.u.tick.sym, sizeof m.u.tick.sym, "NIFTY25N2524000CE");
        m.u.tick.ltp = 15000 + i * 5;
        if (kt_bus_publish (kt_proc_bus (t.peer), md, "md.tick.NIFTY25N2524000CE", &m) != 0)
            fail_msg ("%s", kt_bus_errstr (kt_proc_bus (t.peer)));
        kt_testctx_spin (&t, 1, 5, NULL);
    }
    assert_int_equal (kt_proc_beat (t.proc), 0);
    kt_testctx_spin (&t, 20, 5, NULL); //  the beat is a queued write: let it land
    assert_true (atoi (kt_testctx_hget (&t, "kt:health:strategy", "ticks", buf, sizeof buf)) > 0);
    assert_string_equal (kt_testctx_hget (&t, "kt:health:strategy", "last_sym", buf, sizeof buf),
                         "NIFTY25N2524000CE");

    s_requests = 0;
    s_answer = true;
    struct kt_intent in = s_intent ("S1-0001");
    assert_int_equal (strat_send_intent (s, &in), 0);
    kt_testctx_spin (&t, 100, 5, NULL);
    assert_int_equal (kt_proc_beat (t.proc), 0);
    kt_testctx_spin (&t, 20, 5, NULL); //  the beat is a queued write: let it land
    assert_string_equal (kt_testctx_hget (&t, "kt:health:strategy", "decisions", buf, sizeof buf),
                         "1");

    //  risk-gate silent: the client retries with the same id, then gives up.
    s_requests = 0;
    s_answer = false;
    in = s_intent ("S1-0002");
    assert_int_equal (strat_send_intent (s, &in), 0);
    kt_testctx_spin (&t, 300, 5, NULL);
    assert_int_equal (kt_proc_beat (t.proc), 0);
    kt_testctx_spin (&t, 20, 5, NULL); //  the beat is a queued write: let it land
    assert_true (s_requests >= 2);
    assert_string_equal (
        kt_testctx_hget (&t, "kt:health:strategy", "intent_timeouts", buf, sizeof buf), "1");
    strat_destroy (&s);
    kt_testctx_stop (&t);
}

//  The test runtime with the strategy's proc on a simulated clock at 09:00 IST of a
//  Monday (before the session: nothing to warm up from Kite) and the instruments file.
static void
s_start_at (kt_testctx_t *t, const char *tag, const char *hhmm, const char *kite_url)
{
    assert_int_equal (kt_testctx_start (t, "strategy", tag), 0);
    kt_proc_destroy (&t->proc);
    snprintf (t->cfg.clock_mode, sizeof t->cfg.clock_mode, "sim");
    snprintf (t->cfg.clock_date, sizeof t->cfg.clock_date, "2026-11-23");
    snprintf (t->cfg.clock_start, sizeof t->cfg.clock_start, "%s", hhmm);
    snprintf (t->cfg.kite_api_url, sizeof t->cfg.kite_api_url, "%s", kite_url);
    snprintf (t->cfg.instruments_file, sizeof t->cfg.instruments_file, FIXTURE);
    char err[256];
    t->proc = kt_proc_new (&t->cfg, "strategy", err, sizeof err);
    assert_non_null (t->proc);
    kt_book_register (kt_proc_store (t->peer));
}

static void
s_start_before_session (kt_testctx_t *t, const char *tag)
{
    s_start_at (t, tag, "09:00", "");
}

//  CE 24000's minutes 0..5: a swing low of Rs 150 at minute 3 (VWAP Rs 135), stop at
//  Rs 160, confirmed at minute 5's close: a PLACE of 600 at 149.95.
static const int64_t s_swing[6][5] = {
    {13500, 13500, 13500, 13500, 1000}, {15400, 15500, 15300, 15400, 0},
    {15300, 15400, 15200, 15300, 0},    {16000, 16000, 15000, 15000, 0},
    {15100, 15150, 15100, 15100, 0},    {15100, 15150, 15100, 15100, 0}};

//  Publish a BAR of token (CE 24000 or the index) for the minute at ts: o h l c volume.
static void
s_bar (kt_testctx_t *t, void *md, uint32_t token, int64_t ts, const int64_t ohlcv[5], bool final)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_BAR;
    m.u.bar.final = final;
    m.u.bar.start_ns = ts;
    m.u.bar.token = token;
    snprintf (m.u.bar.sym, sizeof m.u.bar.sym, "%s",
              token == 256265 ? "NIFTY 50" : "NIFTY26NOV24000CE");
    m.u.bar.o = ohlcv[0];
    m.u.bar.h = ohlcv[1];
    m.u.bar.l = ohlcv[2];
    m.u.bar.c = ohlcv[3];
    m.u.bar.volume = ohlcv[4];
    char topic[64];
    snprintf (topic, sizeof topic, "md.bar.%s", m.u.bar.sym);
    assert_int_equal (kt_bus_publish (kt_proc_bus (t->peer), md, topic, &m), 0);
}

static void
s_exec (kt_testctx_t *t, void *pub, const char *coid, const char *intent_id, kt_exec_kind_t kind,
        kt_purpose_t purpose, int64_t filled, int64_t last_qty, int64_t px)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_EXEC_EVENT;
    snprintf (m.u.exec.coid, sizeof m.u.exec.coid, "%s", coid);
    snprintf (m.u.exec.intent_id, sizeof m.u.exec.intent_id, "%s", intent_id);
    snprintf (m.u.exec.sym, sizeof m.u.exec.sym, "NIFTY26NOV24000CE");
    m.u.exec.event = kind;
    m.u.exec.purpose = purpose;
    m.u.exec.filled_qty = filled;
    m.u.exec.last_qty = last_qty;
    m.u.exec.last_px = px;
    m.u.exec.avg_px = px;
    assert_int_equal (kt_bus_publish (kt_proc_bus (t->peer), pub, "exec.event", &m), 0);
    kt_testctx_spin (t, 20, 5, NULL);
}

static void
test_bars_fills_and_state (void **state)
{
    (void) state;
    kt_testctx_t t;
    s_start_before_session (&t, "stratfill");
    static void *router;
    router = kt_proc_serve (t.peer, "risk", s_on_intent, &router);
    void *md = kt_bus_bind (kt_proc_bus (t.peer), "md", ZMQ_PUB);
    void *ex = kt_bus_bind (kt_proc_bus (t.peer), "exec_pub", ZMQ_PUB);
    assert_non_null (router);
    assert_non_null (md);
    assert_non_null (ex);
    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    cfg.bar_grace_ms = 50;
    strat_t *s = strat_new (t.proc, &cfg);
    assert_non_null (s);
    char buf[1024];
    //  warm-up (nothing to fetch on this clock's day) and the subscriptions' join
    for (int i = 0; i < 100; i++) {
        struct kt_msg m;
        memset (&m, 0, sizeof m);
        m.env.type = KT_MSG_MD_STATUS;
        m.u.md_status.connected = true;
        kt_bus_publish (kt_proc_bus (t.peer), md, "md.status", &m);
        kt_testctx_spin (&t, 4, 5, NULL);
        assert_int_equal (kt_proc_beat (t.proc), 0);
        if (atoi (kt_testctx_hget (&t, "kt:health:strategy", "md_status", buf, sizeof buf)) > 0 &&
            strcmp (kt_testctx_hget (&t, "kt:strat:state", "warm", buf, sizeof buf), "1") == 0)
            break;
    }
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "warm", buf, sizeof buf), "1");

    //  A swing low of Rs 150 on CE 24000 over minutes 0..5 (as in strat_state_test).
    int64_t t0 = kt_ist_ns (2026, 11, 23, 9, 15, 0);
    const int64_t (*o)[5] = s_swing;
    s_ngot = 0;
    s_answer = true;
    for (int i = 0; i < 6; i++) {
        const int64_t idx[5] = {2401000, 2401000, 2401000, 2401000, 0};
        const int64_t junk[5] = {o[i][0], o[i][1], 1, o[i][3], 0};
        s_bar (&t, md, 256265, t0 + i * NS_MIN, idx, true);
        s_bar (&t, md, 10000041, t0 + i * NS_MIN, o[i], true);
        s_bar (&t, md, 10000041, t0 + i * NS_MIN, junk, false); //  not the minute's
        kt_testctx_spin (&t, 4, 5, NULL);
    }
    for (int i = 0; i < 200 && s_ngot < 1; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    assert_int_equal (s_ngot, 1);
    assert_int_equal (s_got[0].purpose, KT_PURPOSE_ENTRY);
    assert_int_equal (s_got[0].qty, 600);
    assert_int_equal (s_got[0].trigger, 14995);
    char coid[KT_ID_LEN];
    snprintf (coid, sizeof coid, "%s", s_got[0].intent_id);
    kt_testctx_spin (&t, 20, 5, NULL);

    //  exec-gateway: the entry fills in two parts, then its stop
    s_exec (&t, ex, coid, coid, KT_EXEC_PARTIAL, KT_PURPOSE_ENTRY, 300, 300, 14995);
    s_exec (&t, ex, coid, coid, KT_EXEC_FILLED, KT_PURPOSE_ENTRY, 600, 300, 14995);
    s_exec (&t, ex, "S9-1", "S9-1", KT_EXEC_FILLED, KT_PURPOSE_ENTRY, 75, 75, 1); //  not ours
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "open_ce", buf, sizeof buf), "1");
    char want[128];
    snprintf (want, sizeof want, "%s NIFTY26NOV24000CE 600/0", coid);
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "positions", buf, sizeof buf),
                         want);
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "pending", buf, sizeof buf), "");
    char stop[KT_ID_LEN + 4];
    snprintf (stop, sizeof stop, "%s-S", coid);
    s_exec (&t, ex, stop, coid, KT_EXEC_FILLED, KT_PURPOSE_STOP, 600, 600, 16010);
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "open_ce", buf, sizeof buf), "0");
    //  (14995 - 16010) / (16000 - 15000) = -1.015 R
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "realised_r", buf, sizeof buf),
                         "-1.0150");
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "positions", buf, sizeof buf), "");
    assert_int_equal (kt_proc_beat (t.proc), 0);
    assert_string_equal (kt_testctx_hget (&t, "kt:health:strategy", "exec_events", buf, sizeof buf),
                         "3");
    strat_destroy (&s);
    kt_testctx_stop (&t);
}

//  md-gateway's MD_STATUS bars_closed closes the minute at once: with a grace that never
//  runs out, the swing confirmed by minute 5's close is still placed, on the announcement.
static void
test_minute_closed_by_md (void **state)
{
    (void) state;
    kt_testctx_t t;
    s_start_before_session (&t, "stratmin");
    static void *router;
    router = kt_proc_serve (t.peer, "risk", s_on_intent, &router);
    void *md = kt_bus_bind (kt_proc_bus (t.peer), "md", ZMQ_PUB);
    assert_non_null (router);
    assert_non_null (md);
    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    cfg.bar_grace_ms = 3600000;
    strat_t *s = strat_new (t.proc, &cfg);
    assert_non_null (s);
    char buf[1024];
    struct kt_msg st;
    memset (&st, 0, sizeof st);
    st.env.type = KT_MSG_MD_STATUS;
    st.u.md_status.connected = true;
    for (int i = 0; i < 100; i++) {
        kt_bus_publish (kt_proc_bus (t.peer), md, "md.status", &st);
        kt_testctx_spin (&t, 4, 5, NULL);
        assert_int_equal (kt_proc_beat (t.proc), 0);
        if (atoi (kt_testctx_hget (&t, "kt:health:strategy", "md_status", buf, sizeof buf)) > 0 &&
            strcmp (kt_testctx_hget (&t, "kt:strat:state", "warm", buf, sizeof buf), "1") == 0)
            break;
    }
    int64_t t0 = kt_ist_ns (2026, 11, 23, 9, 15, 0);
    s_ngot = 0;
    s_answer = true;
    for (int i = 0; i < 6; i++) {
        const int64_t idx[5] = {2401000, 2401000, 2401000, 2401000, 0};
        s_bar (&t, md, 256265, t0 + i * NS_MIN, idx, true);
        s_bar (&t, md, 10000041, t0 + i * NS_MIN, s_swing[i], true);
        kt_testctx_spin (&t, 4, 5, NULL);
    }
    //  minute 5 is open: no later bar, no grace
    for (int i = 0; i < 40; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    assert_int_equal (s_ngot, 0);
    st.u.md_status.bars_closed_ns = t0 + 5 * NS_MIN;
    kt_bus_publish (kt_proc_bus (t.peer), md, "md.status", &st);
    for (int i = 0; i < 200 && s_ngot < 1; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    assert_int_equal (s_ngot, 1);
    assert_int_equal (s_got[0].purpose, KT_PURPOSE_ENTRY);
    assert_int_equal (s_got[0].trigger, 14995);
    assert_int_equal (kt_proc_beat (t.proc), 0);
    assert_string_equal (
        kt_testctx_hget (&t, "kt:health:strategy", "minutes_closed_by_md", buf, sizeof buf), "1");
    strat_destroy (&s);
    kt_testctx_stop (&t);
}

//  A restart before any candle exists: an open entry of ours in the book that the
//  strategy does not want is cancelled (by its coid), a position of ours is kept (its
//  stop and exits followed), another strategy's order is left alone.
static void
test_recovery_without_candles (void **state)
{
    (void) state;
    kt_testctx_t t;
    s_start_before_session (&t, "stratrec");
    static void *router;
    router = kt_proc_serve (t.peer, "risk", s_on_intent, &router);
    assert_non_null (router);
    kt_store_t *st = kt_proc_store (t.peer);
    char why[256];
    const char *coids[] = {"S1-261122-5", "S1-261122-3", "S7-261122-1"};
    for (int i = 0; i < 3; i++) {
        struct kt_order_rec o;
        memset (&o, 0, sizeof o);
        snprintf (o.coid, sizeof o.coid, "%s", coids[i]);
        snprintf (o.intent_id, sizeof o.intent_id, "%s", coids[i]);
        snprintf (o.sym, sizeof o.sym, "NIFTY26NOV24000CE");
        o.token = 10000041;
        o.side = KT_SIDE_SELL;
        o.order_type = KT_OT_SL;
        o.product = KT_PROD_MIS;
        o.purpose = KT_PURPOSE_ENTRY;
        o.qty = 600;
        o.trigger = 14995;
        o.price = 14985;
        o.stop_trigger = 16000;
        o.status = KT_OS_OPEN;
        assert_int_equal (kt_book_order_create (st, &o, 1 + i, NULL, why, sizeof why), 1);
    }
    struct kt_book_fill f = {
        .coid = "S1-261122-3", .trade_id = "T1", .qty = 600, .price = 15000, .ts_ns = 2};
    struct kt_book_fill_result res;
    assert_int_equal (kt_book_fill (st, &f, &res, why, sizeof why), 0);
    assert_int_equal (res.pos_qty, -600);

    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    s_ngot = 0;
    s_answer = true;
    strat_t *s = strat_new (t.proc, &cfg);
    assert_non_null (s);
    for (int i = 0; i < 200 && s_ngot < 1; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    kt_testctx_spin (&t, 40, 5, NULL);
    assert_int_equal (s_ngot, 1);
    assert_int_equal (s_got[0].purpose, KT_PURPOSE_CANCEL);
    assert_string_equal (s_got[0].ref, "S1-261122-5");
    char buf[1024];
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "warm", buf, sizeof buf), "1");
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "positions", buf, sizeof buf),
                         "S1-261122-3 NIFTY26NOV24000CE 600/0");
    strat_destroy (&s);
    kt_testctx_stop (&t);
}

//  The strategy on t with cfg, once its warm-up is over (at most 10 s); the stand-in
//  risk-gate answers and its record is cleared.
static strat_t *
s_new_warm (kt_testctx_t *t, const struct strat_cfg *cfg)
{
    s_ngot = 0;
    s_answer = true;
    strat_t *s = strat_new (t->proc, cfg);
    assert_non_null (s);
    char buf[16];
    for (int i = 0; i < 1000; i++) {
        kt_testctx_spin (t, 2, 5, NULL);
        if (i % 10 == 0 &&
            strcmp (kt_testctx_hget (t, "kt:strat:state", "warm", buf, sizeof buf), "1") == 0)
            break;
    }
    return s;
}

//  A restart at 09:22 with the entry of minute 5's close resting at the broker: today's
//  candles (Kite's historical answers) are replayed, the replay's PLACE is the book's
//  entry, nothing is sent; a live MODIFY later refers to it.
static void
test_warm_up_finds_the_entry (void **state)
{
    (void) state;
    static const char idx[] = "{\"status\":\"success\",\"data\":{\"candles\":["
                              "[\"2026-11-23T09:15:00+0530\",24010,24010,24010,24010,0],"
                              "[\"2026-11-23T09:16:00+0530\",24010,24010,24010,24010,0],"
                              "[\"2026-11-23T09:17:00+0530\",24010,24010,24010,24010,0],"
                              "[\"2026-11-23T09:18:00+0530\",24010,24010,24010,24010,0],"
                              "[\"2026-11-23T09:19:00+0530\",24010,24010,24010,24010,0],"
                              "[\"2026-11-23T09:20:00+0530\",24010,24010,24010,24010,0]]}}";
    static const char ce[] = "{\"status\":\"success\",\"data\":{\"candles\":["
                             "[\"2026-11-23T09:15:00+0530\",135,135,135,135,1000],"
                             "[\"2026-11-23T09:16:00+0530\",154,155,153,154,0],"
                             "[\"2026-11-23T09:17:00+0530\",153,154,152,153,0],"
                             "[\"2026-11-23T09:18:00+0530\",160,160,150,150,0],"
                             "[\"2026-11-23T09:19:00+0530\",151,151.5,151,151,0],"
                             "[\"2026-11-23T09:20:00+0530\",151,151.5,151,151,0]]}}";
    static const char none[] = "{\"status\":\"success\",\"data\":{\"candles\":[]}}";
    kt_testhttp_t *http = kt_testhttp_new ();
    assert_non_null (http);
    for (uint32_t tok = 10000037u; tok <= 10000046u; tok++) {
        char path[96];
        snprintf (path, sizeof path, "/instruments/historical/%u/minute", tok);
        assert_int_equal (kt_testhttp_route (http, "GET", path, 200, "application/json",
                                             tok == 10000041u ? ce : none),
                          0);
    }
    assert_int_equal (kt_testhttp_route (http, "GET", "/instruments/historical/256265/minute", 200,
                                         "application/json", idx),
                      0);
    assert_int_equal (kt_testhttp_start (http), 0);
    char url[128];
    kt_testhttp_url (http, url, sizeof url, "");
    kt_testctx_t t;
    s_start_at (&t, "stratwarm", "09:22", url);
    static void *router;
    router = kt_proc_serve (t.peer, "risk", s_on_intent, &router);
    void *md = kt_bus_bind (kt_proc_bus (t.peer), "md", ZMQ_PUB);
    assert_non_null (md);
    char why[256];
    struct kt_order_rec o;
    memset (&o, 0, sizeof o);
    snprintf (o.coid, sizeof o.coid, "S1-261123-1");
    snprintf (o.intent_id, sizeof o.intent_id, "S1-261123-1");
    snprintf (o.sym, sizeof o.sym, "NIFTY26NOV24000CE");
    o.token = 10000041;
    o.side = KT_SIDE_SELL;
    o.order_type = KT_OT_SL;
    o.purpose = KT_PURPOSE_ENTRY;
    o.qty = 600;
    o.trigger = 14995;
    o.price = 14985;
    o.stop_trigger = 16000;
    o.stop_price = 16010;
    o.status = KT_OS_OPEN;
    assert_int_equal (kt_book_order_create (kt_proc_store (t.peer), &o, 1, NULL, why, sizeof why),
                      1);

    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    cfg.p.strikes_each_side = 2;
    cfg.bar_grace_ms = 50;
    strat_t *s = s_new_warm (&t, &cfg);
    char buf[1024];
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "warm", buf, sizeof buf), "1");
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "bars", buf, sizeof buf), "12");
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "pending", buf, sizeof buf),
                         "S1-261123-1 NIFTY26NOV24000CE 600@149.95 sl=160.00");
    kt_testctx_spin (&t, 20, 5, NULL);
    assert_int_equal (s_ngot, 0);

    //  live minutes 6..9: a higher swing low at 7 -> MODIFY of the recovered entry
    static const int64_t live[4][5] = {{15300, 15400, 15200, 15300, 0},
                                       {15100, 16050, 15050, 15100, 0},
                                       {15250, 15300, 15200, 15250, 0},
                                       {15250, 15300, 15200, 15250, 0}};
    int64_t t0 = kt_ist_ns (2026, 11, 23, 9, 21, 0);
    for (int k = 0; k < 50 && s_ngot == 0; k++) {
        //  PUB/SUB joins asynchronously: the same minutes again are dropped as late
        for (int i = 0; i < 4; i++) {
            s_bar (&t, md, 10000041, t0 + i * NS_MIN, live[i], true);
            kt_testctx_spin (&t, 2, 5, NULL);
        }
        kt_testctx_spin (&t, 30, 5, NULL);
    }
    assert_int_equal (s_ngot, 1);
    assert_int_equal (s_got[0].purpose, KT_PURPOSE_MODIFY);
    assert_string_equal (s_got[0].ref, "S1-261123-1");
    assert_int_equal (s_got[0].trigger, 15045);
    strat_destroy (&s);
    kt_testctx_stop (&t);
    kt_testhttp_destroy (&http);
}

static void
s_risk_state (kt_testctx_t *t, void *pub, kt_trading_state_t st)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_RISK_STATE;
    m.u.risk_state.state = st;
    assert_int_equal (kt_bus_publish (kt_proc_bus (t->peer), pub, "risk.state", &m), 0);
    kt_testctx_spin (t, 4, 5, NULL);
}

//  The core's PLACE of a CE entry, order id id, at the 24000 CE.
static struct strat_intent
s_core_place (uint32_t id, uint32_t token)
{
    struct strat_intent it = {.kind = STRAT_I_PLACE,
                              .why = STRAT_WHY_BEST,
                              .order_id = id,
                              .token = token,
                              .itype = KT_ITYPE_CE,
                              .side = KT_SIDE_SELL,
                              .order_type = KT_OT_SL,
                              .qty = 75,
                              .trigger = 14995,
                              .price = 14985,
                              .sl_price = 16000,
                              .stop_price = 16010,
                              .r_value = 75000,
                              .ts = kt_ist_ns (2026, 11, 23, 9, 20, 0)};
    return it;
}

//  The core's CANCEL (why REPLACED) of entry old followed by a PLACE of the same type
//  goes to risk-gate as ONE ENTRY with ref = the old entry's coid; refused, the old
//  entry's CANCEL follows as its own intent.
static void
test_replacement_one_intent (void **state)
{
    (void) state;
    kt_testctx_t t;
    s_start_before_session (&t, "stratrepl");
    static void *router;
    router = kt_proc_serve (t.peer, "risk", s_on_intent, &router);
    assert_non_null (router);
    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    strat_t *s = strat_new (t.proc, &cfg);
    assert_non_null (s);
    kt_testctx_spin (&t, 20, 5, NULL);
    s_ngot = 0;
    s_answer = true;
    s_verdict = KT_VERDICT_APPROVE;
    struct strat_intent v[2] = {s_core_place (1, 10000041)};
    strat_warm_done (s, v, 1);
    for (int i = 0; i < 100 && s_ngot < 1; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    assert_int_equal (s_ngot, 1);
    char coid1[KT_ID_LEN];
    snprintf (coid1, sizeof coid1, "%s", s_got[0].intent_id);
    assert_string_equal (strat_map_by_id (strat_map_of (s), 1)->coid, coid1);

    //  Replaced by the 24050 CE: one intent, the ENTRY, naming the old one.
    v[0] = (struct strat_intent){.kind = STRAT_I_CANCEL,
                                 .why = STRAT_WHY_REPLACED,
                                 .order_id = 1,
                                 .token = 10000041,
                                 .itype = KT_ITYPE_CE,
                                 .ts = v[0].ts};
    v[1] = s_core_place (2, 10000043);
    strat_warm_done (s, v, 2);
    for (int i = 0; i < 100 && s_ngot < 2; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    kt_testctx_spin (&t, 20, 5, NULL);
    assert_int_equal (s_ngot, 2);
    assert_int_equal (s_got[1].purpose, KT_PURPOSE_ENTRY);
    assert_string_equal (s_got[1].ref, coid1);
    assert_string_equal (s_got[1].sym, "NIFTY26NOV24050CE");
    char coid2[KT_ID_LEN];
    snprintf (coid2, sizeof coid2, "%s", s_got[1].intent_id);
    //  The old one stays working until its CANCELLED comes from exec-gateway.
    assert_true (strat_map_by_id (strat_map_of (s), 1)->working);

    //  Replaced again, refused: the ENTRY naming entry 2, then entry 2's own CANCEL.
    s_verdict = KT_VERDICT_BLOCK;
    v[0].order_id = 2;
    v[0].token = 10000043;
    v[1] = s_core_place (3, 10000041);
    strat_warm_done (s, v, 2);
    for (int i = 0; i < 100 && s_ngot < 4; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    kt_testctx_spin (&t, 20, 5, NULL);
    assert_int_equal (s_ngot, 4);
    assert_int_equal (s_got[2].purpose, KT_PURPOSE_ENTRY);
    assert_string_equal (s_got[2].ref, coid2);
    assert_int_equal (s_got[3].purpose, KT_PURPOSE_CANCEL);
    assert_string_equal (s_got[3].ref, coid2);
    s_verdict = KT_VERDICT_APPROVE;
    strat_destroy (&s);
    kt_testctx_stop (&t);
}

//  While risk-gate says HALTED no entry is asked for; once ACTIVE, the next minute close
//  places it.
static void
test_entries_held_while_halted (void **state)
{
    (void) state;
    kt_testctx_t t;
    s_start_before_session (&t, "strathalt");
    static void *router;
    router = kt_proc_serve (t.peer, "risk", s_on_intent, &router);
    void *md = kt_bus_bind (kt_proc_bus (t.peer), "md", ZMQ_PUB);
    void *rp = kt_bus_bind (kt_proc_bus (t.peer), "risk_pub", ZMQ_PUB);
    assert_non_null (md);
    assert_non_null (rp);
    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    cfg.bar_grace_ms = 50;
    strat_t *s = strat_new (t.proc, &cfg);
    assert_non_null (s);
    char buf[256];
    for (int i = 0; i < 100; i++) {
        s_risk_state (&t, rp, KT_STATE_HALTED);
        assert_int_equal (kt_proc_beat (t.proc), 0);
        if (atoi (kt_testctx_hget (&t, "kt:health:strategy", "risk_states", buf, sizeof buf)) > 0)
            break;
    }
    s_ngot = 0;
    s_answer = true;
    int64_t t0 = kt_ist_ns (2026, 11, 23, 9, 15, 0);
    const int64_t idx[5] = {2401000, 2401000, 2401000, 2401000, 0};
    for (int i = 0; i < 6; i++) {
        s_bar (&t, md, 256265, t0 + i * NS_MIN, idx, true);
        s_bar (&t, md, 10000041, t0 + i * NS_MIN, s_swing[i], true);
        kt_testctx_spin (&t, 4, 5, NULL);
    }
    kt_testctx_spin (&t, 60, 5, NULL);
    assert_int_equal (s_ngot, 0);
    assert_int_equal (kt_proc_beat (t.proc), 0);
    assert_string_equal (
        kt_testctx_hget (&t, "kt:health:strategy", "entries_held", buf, sizeof buf), "1");
    s_risk_state (&t, rp, KT_STATE_ACTIVE);
    s_bar (&t, md, 256265, t0 + 6 * NS_MIN, idx, true);
    s_bar (&t, md, 10000041, t0 + 6 * NS_MIN, s_swing[5], true);
    for (int i = 0; i < 100 && s_ngot < 1; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    assert_int_equal (s_ngot, 1);
    assert_int_equal (s_got[0].purpose, KT_PURPOSE_ENTRY);
    assert_int_equal (s_got[0].trigger, 14995);
    strat_destroy (&s);
    kt_testctx_stop (&t);
}

//  Kite's historical endpoint failing: the strategy retries and never trades on a day it
//  has not seen (no strat:state with warm = 1, no intent).
static void
test_warm_up_fails_closed (void **state)
{
    (void) state;
    kt_testhttp_t *http = kt_testhttp_new ();
    assert_non_null (http);
    assert_int_equal (
        kt_testhttp_route (http, "GET", "/instruments/historical/256265/minute", 503,
                           "application/json",
                           "{\"status\":\"error\",\"error_type\":\"NetworkException\"}"),
        0);
    assert_int_equal (kt_testhttp_start (http), 0);
    char url[128];
    kt_testhttp_url (http, url, sizeof url, "");
    kt_testctx_t t;
    s_start_at (&t, "stratfail", "09:22", url);
    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    s_ngot = 0;
    strat_t *s = strat_new (t.proc, &cfg);
    assert_non_null (s);
    for (int i = 0; i < 500 && kt_testhttp_count (http) < 3; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    assert_true (kt_testhttp_count (http) >= 3); //  retried, paced
    char buf[64];
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "warm", buf, sizeof buf), "");
    assert_int_equal (kt_proc_beat (t.proc), 0);
    assert_string_equal (kt_testctx_hget (&t, "kt:health:strategy", "warm", buf, sizeof buf), "0");
    assert_int_equal (s_ngot, 0);
    strat_destroy (&s); //  with a request maybe in flight
    kt_testctx_stop (&t);
    kt_testhttp_destroy (&http);
}

//  The same restart with md-gateway's bars in Redis (md:bars:<token> from the session's
//  first minute): the warm-up reads them and asks Kite for nothing (no Kite URL at all).
static void
test_warm_up_from_md_bars (void **state)
{
    (void) state;
    kt_testctx_t t;
    s_start_at (&t, "stratmdb", "09:22", "");
    static void *router;
    router = kt_proc_serve (t.peer, "risk", s_on_intent, &router);
    redisContext *c = kt_testredis_connect (t.redis);
    assert_non_null (c);
    int64_t t0 = kt_ist_ns (2026, 11, 23, 9, 15, 0);
    for (int i = 0; i < 6; i++) {
        redisReply *r =
            redisCommand (c,
                          "XADD kt:md:bars:256265 * start_ns %lld o 2401000 h 2401000 l 2401000 "
                          "c 2401000 volume 0 vwap 0 ticks 3",
                          (long long) (t0 + i * NS_MIN));
        freeReplyObject (r);
        r = redisCommand (c,
                          "XADD kt:md:bars:10000041 * start_ns %lld o %lld h %lld l %lld c %lld "
                          "volume %lld vwap 0 ticks 3",
                          (long long) (t0 + i * NS_MIN), (long long) s_swing[i][0],
                          (long long) s_swing[i][1], (long long) s_swing[i][2],
                          (long long) s_swing[i][3], (long long) s_swing[i][4]);
        freeReplyObject (r);
    }
    redisReply *r = redisCommand (c, "HSET kt:md:universe 256265 NSE:NIFTY%%2050 10000041 "
                                     "NFO:NIFTY26NOV24000CE 10000099 NFO:NIFTY26DEC24000CE");
    freeReplyObject (r);
    redisFree (c);

    static struct strat_cfg cfg;
    assert_int_equal (strat_cfg_apply_defaults (strat_cfg_table, &cfg), 0);
    strat_t *s = s_new_warm (&t, &cfg);
    char buf[1024];
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "warm", buf, sizeof buf), "1");
    assert_string_equal (kt_testctx_hget (&t, "kt:strat:state", "bars", buf, sizeof buf), "12");
    //  nothing in the book: the entry minute 5's close calls for is placed now
    for (int i = 0; i < 100 && s_ngot < 1; i++)
        kt_testctx_spin (&t, 1, 5, NULL);
    assert_int_equal (s_ngot, 1);
    assert_int_equal (s_got[0].purpose, KT_PURPOSE_ENTRY);
    assert_int_equal (s_got[0].trigger, 14995);
    assert_int_equal (s_got[0].qty, 600);
    strat_destroy (&s);
    kt_testctx_stop (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ticks_and_decisions),
        cmocka_unit_test (test_bars_fills_and_state),
        cmocka_unit_test (test_minute_closed_by_md),
        cmocka_unit_test (test_recovery_without_candles),
        cmocka_unit_test (test_warm_up_finds_the_entry),
        cmocka_unit_test (test_entries_held_while_halted),
        cmocka_unit_test (test_replacement_one_intent),
        cmocka_unit_test (test_warm_up_fails_closed),
        cmocka_unit_test (test_warm_up_from_md_bars),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
