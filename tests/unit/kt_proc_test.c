/*  kt_proc_test - the process runtime: heartbeat, shared sim clock, sequence epoch,
 *  socket dispatch, start-up with Redis down. Real redis-server, real ZeroMQ. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "kt_proc.h"
#include "kt_testcfg.h"
#include "kt_testbus.h"
#include "kt_testredis.h"

static kt_testredis_t *s_redis;

static int
s_setup (void **state)
{
    (void) state;
    s_redis = kt_testredis_start ();
    return s_redis ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_testredis_stop (&s_redis);
    kt_testcfg_cleanup ("proc");
    return 0;
}

static char *
s_hget (const char *key, const char *field, char *buf, size_t len)
{
    redisContext *c = kt_testredis_connect (s_redis);
    assert_non_null (c);
    redisReply *r = redisCommand (c, "HGET %s %s", key, field);
    assert_non_null (r);
    snprintf (buf, len, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject (r);
    redisFree (c);
    return buf;
}

static void
s_flush (void)
{
    redisContext *c = kt_testredis_connect (s_redis);
    freeReplyObject (redisCommand (c, "FLUSHALL"));
    redisFree (c);
}

//  Run the proc's loop until its queued Redis writes (and reads) are answered: the
//  heartbeat is asynchronous.
static void
s_settle (kt_proc_t *p)
{
    for (int i = 0; i < 200 && kt_store_stats (kt_proc_store (p)).queued > 0; i++)
        kt_loop_run_once (kt_proc_loop (p), 10);
    assert_int_equal (kt_store_stats (kt_proc_store (p)).queued, 0);
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    (void) max;
    out[0] = KT_I ("widgets", *(int *) arg);
    return 1;
}

static void
test_heartbeat_and_counters (void **state)
{
    (void) state;
    s_flush ();
    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "md-gateway", s_redis->port, "proc");
    char err[256] = "";
    kt_proc_t *p = kt_proc_new (&cfg, "md-gateway", err, sizeof err);
    assert_non_null (p);
    int widgets = 7;
    kt_proc_set_counters (p, s_counters, &widgets);
    assert_int_equal (kt_proc_beat (p), 0);
    s_settle (p);
    assert_int_equal (kt_proc_beat (p), 0); //  carries the counters of the beats before
    s_settle (p);
    char buf[64];
    assert_string_equal (s_hget ("kt:health:md-gateway", "store_dropped", buf, sizeof buf), "0");
    assert_string_equal (s_hget ("kt:health:md-gateway", "loop_slow", buf, sizeof buf), "0");
    assert_true (atoi (s_hget ("kt:health:md-gateway", "store_written", buf, sizeof buf)) >= 1);
    assert_int_equal (atoi (s_hget ("kt:health:md-gateway", "pid", buf, sizeof buf)), getpid ());
    assert_string_equal (s_hget ("kt:health:md-gateway", "widgets", buf, sizeof buf), "7");
    assert_string_equal (s_hget ("kt:health:md-gateway", "mode", buf, sizeof buf), "sim");
    redisContext *c = kt_testredis_connect (s_redis);
    redisReply *r = redisCommand (c, "TTL kt:health:md-gateway");
    assert_true (r->integer > 0 && r->integer <= 5);
    freeReplyObject (r);
    //  Each start takes a new, larger sequence epoch, never below wall seconds.
    r = redisCommand (c, "GET kt:seq:md-gateway");
    long long e1 = strtoll (r->str, NULL, 10);
    freeReplyObject (r);
    assert_true (e1 >= kt_clock_wall_ns () / KT_NS_PER_SEC - 5);
    kt_proc_destroy (&p);
    assert_null (p);
    p = kt_proc_new (&cfg, "md-gateway", err, sizeof err);
    r = redisCommand (c, "GET kt:seq:md-gateway");
    assert_true (strtoll (r->str, NULL, 10) >= e1 + 1);
    freeReplyObject (r);
    redisFree (c);
    kt_proc_destroy (&p);
}

static void
test_sim_clock_is_shared (void **state)
{
    (void) state;
    s_flush ();
    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "strategy", s_redis->port, "proc");
    snprintf (cfg.clock_mode, sizeof cfg.clock_mode, "sim");
    snprintf (cfg.clock_date, sizeof cfg.clock_date, "2025-11-24");
    cfg.clock_speed = 60.0;
    char err[256] = "";
    kt_proc_t *a = kt_proc_new (&cfg, "strategy", err, sizeof err);
    assert_non_null (a);
    char buf[64];
    int64_t anchor = kt_ist_ns (2025, 11, 24, 9, 15, 0);
    assert_int_equal (strtoll (s_hget ("kt:clock", "sim_anchor_ns", buf, sizeof buf), NULL, 10),
                      anchor);
    assert_string_equal (s_hget ("kt:clock", "speed_ppm", buf, sizeof buf), "60000000");
    assert_string_equal (s_hget ("kt:clock", "by", buf, sizeof buf), "strategy");
    int64_t now = kt_proc_now_ns (a);
    assert_true (now >= anchor && now < anchor + 3600LL * KT_NS_PER_SEC);

    //  A second process with another configured date adopts the existing anchor.
    snprintf (cfg.clock_date, sizeof cfg.clock_date, "2025-12-01");
    kt_proc_t *b = kt_proc_new (&cfg, "risk-gate", err, sizeof err);
    assert_non_null (b);
    int64_t nb = kt_proc_now_ns (b), na = kt_proc_now_ns (a);
    assert_true (llabs (nb - na) < 60LL * KT_NS_PER_SEC);

    //  kite-sim re-anchors (new session): followers adopt it at the next beat.
    int64_t next = kt_ist_ns (2025, 11, 25, 9, 15, 0);
    redisContext *c = kt_testredis_connect (s_redis);
    freeReplyObject (redisCommand (c, "HSET kt:clock sim_anchor_ns %lld wall_anchor_ns %lld gen 2",
                                   (long long) next, (long long) kt_clock_wall_ns ()));
    redisFree (c);
    assert_int_equal (kt_proc_beat (b), 0);
    s_settle (b);
    assert_true (kt_proc_now_ns (b) >= next);
    assert_true (kt_proc_now_ns (b) < next + 3600LL * KT_NS_PER_SEC);
    kt_proc_destroy (&b);
    kt_proc_destroy (&a);
}

static int s_fired;

static int
s_on_wall (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    (void) arg;
    s_fired++;
    return 0;
}

//  Run the loop for ms of wall time.
static void
s_run_wall (kt_proc_t *p, int ms)
{
    for (int64_t end = kt_clock_wall_mono_ns () + ms * 1000000LL; kt_clock_wall_mono_ns () < end;)
        kt_loop_run_once (kt_proc_loop (p), 20);
}

//  A process started while kite-sim's clock is paused (published at 1 ppm) notices the
//  resume at its next beat, a wall second later, not after the ~17 minutes its beat
//  would last sized from the paused speed; its wall timers keep their wall period, paused
//  and running (not one tick per 17 minutes, nor a spin at 60x).
static void
test_paused_clock_resumes (void **state)
{
    (void) state;
    s_flush ();
    int64_t anchor = kt_ist_ns (2025, 11, 24, 8, 50, 0);
    redisContext *c = kt_testredis_connect (s_redis);
    freeReplyObject (
        redisCommand (c,
                      "HSET kt:clock wall_anchor_ns %lld sim_anchor_ns %lld speed_ppm 1 "
                      "mode sim by kite-sim paused 1 gen 1",
                      (long long) kt_clock_wall_ns (), (long long) anchor));
    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "strategy", s_redis->port, "proc");
    snprintf (cfg.clock_mode, sizeof cfg.clock_mode, "sim");
    cfg.clock_speed = 60.0;
    char err[256] = "";
    kt_proc_t *p = kt_proc_new (&cfg, "strategy", err, sizeof err);
    assert_non_null (p);
    assert_int_equal (kt_clock_speed_ppm (kt_proc_clock (p)), 1);
    s_fired = 0;
    assert_true (kt_loop_timer_wall (kt_proc_loop (p), 100, true, s_on_wall, NULL) > 0);
    s_run_wall (p, 550);
    assert_in_range (s_fired, 2, 6); //  every 100 ms of wall time while paused

    //  kite-sim resumes at 60x.
    freeReplyObject (redisCommand (c,
                                   "HSET kt:clock wall_anchor_ns %lld sim_anchor_ns %lld "
                                   "speed_ppm 60000000 paused 0 gen 2",
                                   (long long) kt_clock_wall_ns (), (long long) anchor));
    redisFree (c);
    int64_t t0 = kt_clock_wall_mono_ns ();
    while (kt_clock_speed_ppm (kt_proc_clock (p)) != 60000000 &&
           kt_clock_wall_mono_ns () - t0 < 5 * KT_NS_PER_SEC)
        kt_loop_run_once (kt_proc_loop (p), 20);
    assert_int_equal (kt_clock_speed_ppm (kt_proc_clock (p)), 60000000);
    //  one beat (health.beat_ms 1000) and the read, with room for a loaded machine
    assert_true (kt_clock_wall_mono_ns () - t0 < 3 * KT_NS_PER_SEC);
    int64_t now = kt_proc_now_ns (p);
    assert_true (now >= anchor && now < anchor + 600LL * KT_NS_PER_SEC);
    s_fired = 0;
    s_run_wall (p, 550);
    assert_in_range (s_fired, 2, 6); //  still every 100 ms of wall time at 60x
    kt_proc_destroy (&p);
}

static int s_seen;

static int
s_on_msg (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
          void *arg)
{
    (void) proc;
    (void) arg;
    assert_null (peer);
    assert_string_equal (topic, "md.status");
    assert_int_equal (m->env.type, KT_MSG_MD_STATUS);
    assert_true (m->u.md_status.connected);
    s_seen++;
    return 0;
}

//  md-gateway's PUB on `md` (returned) and a strategy subscribed to "md." by s_on_msg.
static void *
s_pub_sub (kt_proc_t **pub, kt_proc_t **sub)
{
    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "strategy", s_redis->port, "proc");
    char err[256] = "";
    *pub = kt_proc_new (&cfg, "md-gateway", err, sizeof err);
    *sub = kt_proc_new (&cfg, "strategy", err, sizeof err);
    assert_non_null (*pub);
    assert_non_null (*sub);
    void *ps = kt_bus_bind (kt_proc_bus (*pub), "md", ZMQ_PUB);
    assert_non_null (ps);
    static const char *const topics[] = {"md.", NULL};
    assert_non_null (kt_proc_sub (*sub, "md", topics, s_on_msg, NULL));
    return ps;
}

static void
test_sub_dispatch (void **state)
{
    (void) state;
    kt_proc_t *pub, *sub;
    void *ps = s_pub_sub (&pub, &sub);
    s_seen = 0;
    for (int i = 0; i < 300 && s_seen < 3; i++) {
        struct kt_msg m;
        memset (&m, 0, sizeof m);
        m.env.type = KT_MSG_MD_STATUS;
        m.u.md_status.connected = true;
        kt_bus_publish (kt_proc_bus (pub), ps, "md.status", &m);
        kt_loop_run_once (kt_proc_loop (sub), 10);
    }
    assert_true (s_seen >= 3);
    kt_proc_destroy (&sub);
    kt_proc_destroy (&pub);
}

static void
test_starts_with_redis_down (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "alerter", 1, "proc"); //  nothing listens on port 1
    char err[256] = "";
    kt_proc_t *p = kt_proc_new (&cfg, "alerter", err, sizeof err);
    assert_non_null (p);
    assert_false (kt_store_is_ready (kt_proc_store (p)));
    //  The beat is queued for when Redis comes: an explicit beat says it did not land.
    int64_t queued = kt_store_stats (kt_proc_store (p)).queued;
    assert_true (queued >= 1);
    assert_int_equal (kt_proc_beat (p), -1);
    assert_int_equal (kt_store_stats (kt_proc_store (p)).queued, queued + 1);
    kt_loop_run_once (kt_proc_loop (p), 10);
    assert_false (kt_store_is_ready (kt_proc_store (p)));
    kt_proc_destroy (&p);
}

// ---- fairness: a flood on one socket does not starve another --------------------------

static void *s_fair_router;

struct fair {
    kt_proc_t *server;
    int ticks;            //  md messages the server handled
    int ticks_at_request; //  ... when it answered the request
    bool answered;
    int64_t answered_ns;
    int timer_fires;
    int ticks_at_timer;
};

static int
s_fair_tick (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
             void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    (void) m;
    ((struct fair *) arg)->ticks++;
    return 0;
}

static int
s_fair_request (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic,
                const struct kt_msg *m, void *arg)
{
    (void) topic;
    struct fair *f = arg;
    struct kt_msg d;
    memset (&d, 0, sizeof d);
    d.env.type = KT_MSG_RISK_DECISION;
    snprintf (d.u.decision.intent_id, sizeof d.u.decision.intent_id, "%s", m->u.intent.intent_id);
    d.u.decision.verdict = KT_VERDICT_APPROVE;
    d.u.decision.qty = 75;
    kt_bus_reply (kt_proc_bus (proc), s_fair_router, peer, "risk.decision", &d);
    f->ticks_at_request = f->ticks;
    return 0;
}

static int
s_fair_timer (kt_loop_t *loop, int id, void *arg)
{
    (void) loop;
    (void) id;
    struct fair *f = arg;
    if (f->timer_fires++ == 0)
        f->ticks_at_timer = f->ticks;
    return 0;
}

static void
s_fair_reply (kt_bus_client_t *client, const char *req_id, const struct kt_msg *reply, void *arg)
{
    (void) client;
    (void) req_id;
    struct fair *f = arg;
    f->answered = reply != NULL;
    f->answered_ns = kt_clock_wall_mono_ns ();
}

//  100k ticks queued on the md SUB of a process, then a request on its ROUTER and a
//  timer due: both are served within the first few iterations, while most of the flood
//  is still queued (each socket yields after KT_PROC_DRAIN_MAX messages), and nothing
//  of the flood is lost.
static void
test_flood_does_not_starve (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "risk-gate", s_redis->port, "fair");
    char err[256] = "";
    static struct fair f;
    memset (&f, 0, sizeof f);
    kt_proc_t *md = kt_proc_new (&cfg, "md-gateway", err, sizeof err);
    kt_proc_t *srv = kt_proc_new (&cfg, "risk-gate", err, sizeof err);
    kt_proc_t *cli = kt_proc_new (&cfg, "strategy", err, sizeof err);
    assert_non_null (md);
    assert_non_null (srv);
    assert_non_null (cli);
    f.server = srv;
    void *pub = kt_bus_bind (kt_proc_bus (md), "md", ZMQ_PUB);
    assert_non_null (pub);
    static const char *const topics[] = {"md.", NULL};
    assert_non_null (kt_proc_sub (srv, "md", topics, s_fair_tick, &f));
    s_fair_router = kt_proc_serve (srv, "risk", s_fair_request, &f);
    assert_non_null (s_fair_router);
    kt_bus_client_t *client = kt_bus_client_new (kt_proc_bus (cli), kt_proc_loop (cli), "risk",
                                                 5000, 0, s_fair_reply, &f);
    assert_non_null (client);

    //  Wait until the subscription is live (slow joiner), then flood.
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_MD_STATUS;
    m.u.md_status.connected = true;
    for (int i = 0; i < 500 && f.ticks == 0; i++) {
        kt_bus_publish (kt_proc_bus (md), pub, "md.status", &m);
        kt_loop_run_once (kt_proc_loop (srv), 10);
    }
    assert_true (f.ticks > 0);
    for (int i = 0; i < 10; i++)
        kt_loop_run_once (kt_proc_loop (srv), 1);
    f.ticks = 0;
    const int flood = 100000;
    for (int i = 0; i < flood; i++)
        assert_int_equal (kt_bus_publish (kt_proc_bus (md), pub, "md.status", &m), 0);
    //  Let the flood reach the SUB's queue before the request goes out.
    usleep (200 * 1000);

    struct kt_msg in;
    memset (&in, 0, sizeof in);
    in.env.type = KT_MSG_ORDER_INTENT;
    snprintf (in.u.intent.intent_id, sizeof in.u.intent.intent_id, "F-1");
    snprintf (in.u.intent.sym, sizeof in.u.intent.sym, "NIFTY25NOV24000CE");
    in.u.intent.side = KT_SIDE_BUY;
    in.u.intent.qty = 75;
    in.u.intent.order_type = KT_OT_MARKET;
    in.u.intent.purpose = KT_PURPOSE_ENTRY;
    int64_t sent_ns = kt_clock_wall_mono_ns ();
    assert_int_equal (kt_bus_client_send (client, "F-1", "risk.intent", &in), 0);
    kt_loop_timer (kt_proc_loop (srv), 5, false, s_fair_timer, &f);
    int iterations = 0;
    while ((!f.answered || f.timer_fires == 0) && iterations < 10000) {
        kt_loop_run_once (kt_proc_loop (srv), 1);
        kt_loop_run_once (kt_proc_loop (cli), 0);
        iterations++;
    }
    int64_t took_ms = (f.answered_ns - sent_ns) / 1000000;
    print_message ("fairness: answered after %d ticks of %d (%lld ms, %d iterations); "
                   "timer after %d ticks\n",
                   f.ticks_at_request, flood, (long long) took_ms, iterations, f.ticks_at_timer);
    assert_true (f.answered);
    assert_int_equal (f.timer_fires, 1);
    //  Read until empty, the server would handle the whole flood first.
    assert_true (f.ticks_at_request < flood / 2);
    assert_true (f.ticks_at_timer < flood / 2);
    assert_true (took_ms < 1000);
    //  The flood is then drained completely: capping loses nothing.
    for (int i = 0; i < 100000 && f.ticks < flood; i++)
        kt_loop_run_once (kt_proc_loop (srv), 10);
    assert_int_equal (f.ticks, flood);
    assert_int_equal (kt_bus_gaps (kt_proc_bus (srv)), 0);

    kt_bus_client_destroy (&client);
    kt_proc_destroy (&cli);
    kt_proc_destroy (&srv);
    kt_proc_destroy (&md);
    kt_testcfg_cleanup ("fair");
}

static int s_gap_lines, s_restart_lines;

static void
s_seq_sink (kt_log_level_t lvl, const char *ev, const char *line, void *arg)
{
    (void) arg;
    if (strcmp (ev, "bus.gap") == 0 && lvl == KT_LOG_WARN &&
        strstr (line, "\"src\":\"md-gateway\""))
        s_gap_lines++;
    if (strcmp (ev, "bus.restart") == 0)
        s_restart_lines++;
}

//  A subscriber that sees a publisher's numbers skip logs it (bus.gap, WARN) with the
//  count so far, and a publisher's restart (bus.restart); in-order messages log nothing.
static void
test_sub_gap_logged (void **state)
{
    (void) state;
    kt_proc_t *pub, *sub;
    void *ps = s_pub_sub (&pub, &sub);
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_MD_STATUS;
    m.u.md_status.connected = true;
    //  the subscription is up once a message of another publisher arrives
    s_seen = 0;
    for (uint32_t i = 1; i < 300 && s_seen == 0; i++) {
        assert_int_equal (kt_testbus_send_crafted (ps, "md.status", &m, "warm-up", 1, i), 0);
        kt_loop_run_once (kt_proc_loop (sub), 10);
    }
    assert_true (s_seen > 0);
    kt_log_open ("kt_proc_test", KT_LOG_INFO);
    kt_log_set_sink (s_seq_sink, NULL);
    s_gap_lines = s_restart_lines = 0;
    s_seen = 0;
    const uint32_t seq[][2] = {{5, 1}, {5, 2}, {5, 10}, {5, 11}, {6, 1}};
    for (int i = 0; i < 5; i++)
        assert_int_equal (
            kt_testbus_send_crafted (ps, "md.status", &m, "md-gateway", seq[i][0], seq[i][1]), 0);
    for (int i = 0; i < 300 && s_seen < 5; i++)
        kt_loop_run_once (kt_proc_loop (sub), 10);
    kt_log_set_sink (NULL, NULL);
    kt_log_open ("kt_proc_test", KT_LOG_OFF);
    assert_int_equal (s_seen, 5);
    assert_int_equal (s_gap_lines, 1);
    assert_int_equal (s_restart_lines, 1);
    assert_int_equal (kt_bus_gaps (kt_proc_bus (sub)), 7);
    kt_proc_destroy (&sub);
    kt_proc_destroy (&pub);
}

static int s_drop_alerts;

static void
s_alert_sink (kt_log_level_t lvl, const char *ev, const char *line, void *arg)
{
    (void) lvl;
    (void) arg;
    if (strcmp (ev, "alert.raised") == 0 && strstr (line, "store.drop"))
        s_drop_alerts++;
}

//  Writes dropped over the queue's cap are counted in the heartbeat and raised once as
//  an alert (a human must look: Redis has been down longer than the queue lasts).
static void
test_dropped_writes_raise_an_alert (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "alerter", 1, "proc"); //  nothing listens on port 1
    char err[256] = "";
    kt_proc_t *p = kt_proc_new (&cfg, "alerter", err, sizeof err);
    assert_non_null (p);
    kt_log_open ("kt_proc_test", KT_LOG_WARN);
    kt_log_set_sink (s_alert_sink, NULL);
    s_drop_alerts = 0;
    kt_store_set_queue_max (kt_proc_store (p), 1); //  the start-up beat fills it
    kt_kv_t ev[] = {KT_S ("type", "x"), KT_END};
    assert_int_equal (kt_store_event (kt_proc_store (p), ev), -1);
    assert_int_equal (kt_store_stats (kt_proc_store (p)).dropped, 1);
    kt_proc_beat (p); //  itself dropped too: two so far, one alert
    assert_int_equal (s_drop_alerts, 1);
    kt_proc_beat (p); //  the beat's own drop is new: alerted again
    assert_int_equal (s_drop_alerts, 2);
    assert_int_equal (kt_store_stats (kt_proc_store (p)).dropped, 3);
    kt_log_set_sink (NULL, NULL);
    kt_proc_destroy (&p);
}

static void
test_bad_clock_config (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    kt_testcfg_fill (&cfg, "alerter", s_redis->port, "proc");
    snprintf (cfg.clock_mode, sizeof cfg.clock_mode, "sim");
    snprintf (cfg.clock_date, sizeof cfg.clock_date, "2025-13-40");
    s_flush ();
    char err[256] = "";
    kt_proc_t *p = kt_proc_new (&cfg, "alerter", err, sizeof err);
    assert_null (p);
    assert_non_null (strstr (err, "clock.date"));
}

int
main (void)
{
    kt_log_open ("kt_proc_test", KT_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_heartbeat_and_counters),
        cmocka_unit_test (test_sim_clock_is_shared),
        cmocka_unit_test (test_paused_clock_resumes),
        cmocka_unit_test (test_sub_dispatch),
        cmocka_unit_test (test_sub_gap_logged),
        cmocka_unit_test (test_starts_with_redis_down),
        cmocka_unit_test (test_bad_clock_config),
        cmocka_unit_test (test_flood_does_not_starve),
        cmocka_unit_test (test_dropped_writes_raise_an_alert),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
