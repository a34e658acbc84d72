/*  kt_bus_test - the bus over real ZeroMQ sockets on tcp://127.0.0.1 (ephemeral ports):
 *  PUB/SUB with prefix filters, per-family sequence numbers, gap and restart detection
 *  (crafted seq on raw frames), rejects, ROUTER with REQ and DEALER clients, and the
 *  lazy-pirate client driven by kt_loop_run_once or blocking with a server thread.
 *
 *  Waits are bounded (seconds) only so that a broken build fails instead of hanging;
 *  no assertion depends on timing. */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "kt_bus.h"
#include "kt_loop.h"
#include "kt_testbus.h"

// ---- helpers -------------------------------------------------------------------------

static void
s_cfg (struct kt_cfg *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->proc, sizeof cfg->proc, "test");
    snprintf (cfg->mode, sizeof cfg->mode, "sim");
    char *eps[] = {cfg->ep_md,   cfg->ep_risk,     cfg->ep_risk_pub,
                   cfg->ep_exec, cfg->ep_exec_pub, cfg->ep_alerts};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
        snprintf (eps[i], sizeof cfg->ep_md, "tcp://127.0.0.1:*");
    cfg->sndhwm = 10000;
    cfg->rcvhwm = 10000;
    cfg->linger_ms = 0;
    cfg->req_timeout_ms = 100;
    cfg->req_retries = 2;
}

//  Bind name on an ephemeral port and write the real endpoint back into cfg, so that
//  connects through the same cfg reach it.
static void *
s_bind (kt_bus_t *bus, struct kt_cfg *cfg, const char *name, int type)
{
    void *s = kt_bus_bind (bus, name, type);
    assert_non_null (s);
    char ep[128];
    size_t len = sizeof ep;
    assert_int_equal (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &len), 0);
    char *dst = (char *) kt_cfg_endpoint (cfg, name);
    snprintf (dst, sizeof cfg->ep_md, "%s", ep);
    return s;
}

static bool
s_readable (void *sock, int ms)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    return zmq_poll (&it, 1, ms) == 1;
}

//  kt_bus_recv, waiting up to 5 s for something to arrive.
static int
s_recv (kt_bus_t *bus, void *sock, char *topic, struct kt_msg *out, char *why)
{
    for (int i = 0; i < 500; i++) {
        int rc = kt_bus_recv (bus, sock, topic, KT_TOPIC_LEN, out, why, 128);
        if (rc != 1)
            return rc;
        s_readable (sock, 10);
    }
    return 1;
}

static struct kt_msg
s_status (int64_t subscribed)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_MD_STATUS;
    m.u.md_status.connected = true;
    m.u.md_status.subscribed = subscribed;
    return m;
}

static struct kt_msg
s_tick (const char *sym, int64_t ltp)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_TICK;
    m.u.tick.token = 12345;
    snprintf (m.u.tick.sym, sizeof m.u.tick.sym, "%s", sym);
    m.u.tick.ltp = ltp;
    return m;
}

static struct kt_msg
s_intent (const char *id)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_ORDER_INTENT;
    struct kt_intent *i = &m.u.intent;
    snprintf (i->intent_id, sizeof i->intent_id, "%s", id);
    snprintf (i->sym, sizeof i->sym, "NIFTY25NOV24000CE");
    i->side = KT_SIDE_BUY;
    i->qty = 75;
    i->order_type = KT_OT_MARKET;
    i->purpose = KT_PURPOSE_ENTRY;
    return m;
}

static struct kt_msg
s_decision (const char *id, int64_t qty)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_RISK_DECISION;
    snprintf (m.u.decision.intent_id, sizeof m.u.decision.intent_id, "%s", id);
    m.u.decision.verdict = KT_VERDICT_APPROVE;
    m.u.decision.qty = qty;
    return m;
}

//  Subscribe "warm." and publish on it until the subscription is live, then a fence,
//  and drain up to the fence: afterwards nothing from before is in flight.
static void
s_sync (kt_bus_t *pb, void *pub, kt_bus_t *sb, void *sub)
{
    assert_int_equal (kt_bus_subscribe (sb, sub, "warm."), 0);
    struct kt_msg m;
    char topic[KT_TOPIC_LEN], why[128];
    bool up = false;
    for (int i = 0; i < 500 && !up; i++) {
        struct kt_msg p = s_status (0);
        assert_int_equal (kt_bus_publish (pb, pub, "warm.probe", &p), 0);
        up = s_readable (sub, 10);
    }
    assert_true (up);
    struct kt_msg fence = s_status (1);
    assert_int_equal (kt_bus_publish (pb, pub, "warm.fence", &fence), 0);
    for (;;) {
        assert_int_equal (s_recv (sb, sub, topic, &m, why), 0);
        if (strcmp (topic, "warm.fence") == 0)
            break;
    }
}

//  Send a raw two-frame message (topic, body) on sock.
static void
s_raw (void *sock, const char *topic, const void *body, size_t len)
{
    assert_true (zmq_send (sock, topic, strlen (topic), ZMQ_SNDMORE) >= 0);
    assert_true (zmq_send (sock, body, len, 0) >= 0);
}

// ---- construction --------------------------------------------------------------------

static void
test_new_and_errors (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    assert_null (kt_bus_new (NULL, NULL, "x", 1));
    assert_null (kt_bus_new (&cfg, NULL, "x", 0));
    assert_null (kt_bus_new (&cfg, NULL, "", 1));
    assert_null (kt_bus_new (&cfg, NULL, "a-name-that-is-too-long", 1));
    kt_bus_t *bus = kt_bus_new (&cfg, NULL, "test", 1);
    assert_non_null (bus);
    assert_null (kt_bus_bind (bus, "nope", ZMQ_PUB));
    assert_string_equal (kt_bus_errstr (bus), "no endpoint named 'nope'");
    snprintf (cfg.ep_md, sizeof cfg.ep_md, "bogus://x");
    assert_null (kt_bus_bind (bus, "md", ZMQ_PUB));
    assert_non_null (strstr (kt_bus_errstr (bus), "md: bind bogus://x"));
    s_cfg (&cfg);
    void *pub = s_bind (bus, &cfg, "md", ZMQ_PUB);
    assert_int_equal (kt_bus_subscribe (bus, pub, ""), -1); //  not a SUB
    void *sub = kt_bus_connect (bus, "md", ZMQ_SUB);
    assert_non_null (sub);
    char topic[KT_TOPIC_LEN], why[128];
    struct kt_msg m;
    assert_int_equal (kt_bus_recv (bus, sub, topic, sizeof topic, &m, why, sizeof why), 1);
    //  Invalid messages and topics are refused and use up no sequence number.
    struct kt_msg bad = s_intent ("I1");
    bad.u.intent.side = (kt_side_t) 9;
    assert_int_equal (kt_bus_publish (bus, pub, "risk.intent", &bad), -1);
    assert_string_equal (kt_bus_errstr (bus), "invalid ORDER_INTENT: key 'side': invalid value 9");
    struct kt_msg ok = s_status (1);
    assert_int_equal (kt_bus_publish (bus, pub, "", &ok), -1);
    assert_int_equal (kt_bus_publish (bus, pub, ".x", &ok), -1);
    assert_int_equal (kt_bus_publish (bus, pub, "averyveryverylongfamily.x", &ok), -1);
    char longtopic[KT_TOPIC_LEN + 1];
    memset (longtopic, 'a', KT_TOPIC_LEN);
    longtopic[0] = 'r';
    longtopic[1] = '.';
    longtopic[KT_TOPIC_LEN] = 0;
    assert_int_equal (kt_bus_publish (bus, pub, longtopic, &ok), -1);
    assert_int_equal (kt_bus_publish (bus, pub, "risk.intent", &ok), 0);
    assert_int_equal (ok.env.seq, (1ull << 32) | 1);
    assert_string_equal (ok.env.src, "test");
    assert_int_equal (ok.env.v, KT_MSG_VERSION);
    assert_true (ok.env.ts_ns > 1700000000000000000LL);
    kt_bus_destroy (&bus);
    assert_null (bus);
    kt_bus_destroy (&bus);
}

// ---- publish / subscribe -------------------------------------------------------------

static void
test_endpoint_list (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *p1 = kt_bus_new (&cfg, NULL, "md-gateway", 1);
    kt_bus_t *p2 = kt_bus_new (&cfg, NULL, "md-second", 1);
    kt_bus_t *sb = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *pub1 = s_bind (p1, &cfg, "md", ZMQ_PUB);
    char first[60];
    assert_true (strlen (cfg.ep_md) < sizeof first);
    memcpy (first, cfg.ep_md, strlen (cfg.ep_md) + 1);
    snprintf (cfg.ep_md, sizeof cfg.ep_md, "tcp://127.0.0.1:*");
    void *pub2 = s_bind (p2, &cfg, "md", ZMQ_PUB);
    assert_true (strlen (cfg.ep_md) < 60);
    char second[60];
    memcpy (second, cfg.ep_md, strlen (cfg.ep_md) + 1);
    snprintf (cfg.ep_md, sizeof cfg.ep_md, "%s,%s", first, second);
    void *sub = kt_bus_connect (sb, "md", ZMQ_SUB);
    assert_non_null (sub);
    assert_int_equal (kt_bus_subscribe (sb, sub, "md."), 0);
    bool from1 = false, from2 = false;
    char topic[KT_TOPIC_LEN], why[128];
    for (int i = 0; i < 500 && !(from1 && from2); i++) {
        struct kt_msg a = s_status (1), b = s_status (2);
        kt_bus_publish (p1, pub1, "md.status", &a);
        kt_bus_publish (p2, pub2, "md.status", &b);
        struct kt_msg m;
        while (s_readable (sub, 5) &&
               kt_bus_recv (sb, sub, topic, sizeof topic, &m, why, sizeof why) == 0) {
            from1 |= strcmp (m.env.src, "md-gateway") == 0;
            from2 |= strcmp (m.env.src, "md-second") == 0;
        }
    }
    assert_true (from1);
    assert_true (from2);
    //  An empty element in a list is a config error, not a silent skip.
    snprintf (cfg.ep_md, sizeof cfg.ep_md, "%.60s,", first);
    assert_null (kt_bus_connect (sb, "md", ZMQ_SUB));
    assert_non_null (strstr (kt_bus_errstr (sb), "bad endpoint list"));
    kt_bus_destroy (&sb);
    kt_bus_destroy (&p2);
    kt_bus_destroy (&p1);
}

static void
test_pubsub_prefix_filter (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *pb = kt_bus_new (&cfg, NULL, "md-gateway", 7);
    kt_bus_t *sb = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *pub = s_bind (pb, &cfg, "md", ZMQ_PUB);
    void *sub = kt_bus_connect (sb, "md", ZMQ_SUB);
    assert_non_null (sub);
    assert_int_equal (kt_bus_subscribe (sb, sub, "md.tick.NIFTY"), 0);
    s_sync (pb, pub, sb, sub);

    struct kt_msg bar = s_status (3);
    struct kt_msg t1 = s_tick ("BANKNIFTY25NOV", 100);
    struct kt_msg t2 = s_tick ("NIFTY25NOV24000CE", 12345);
    assert_int_equal (kt_bus_publish (pb, pub, "md.bar.NIFTY25NOV24000CE", &bar), 0);
    assert_int_equal (kt_bus_publish (pb, pub, "md.tick.BANKNIFTY25NOV", &t1), 0);
    assert_int_equal (kt_bus_publish (pb, pub, "md.tick.NIFTY25NOV24000CE", &t2), 0);
    char topic[KT_TOPIC_LEN], why[128] = "";
    struct kt_msg m;
    assert_int_equal (s_recv (sb, sub, topic, &m, why), 0);
    assert_string_equal (topic, "md.tick.NIFTY25NOV24000CE");
    assert_int_equal (m.env.type, KT_MSG_TICK);
    assert_string_equal (m.u.tick.sym, "NIFTY25NOV24000CE");
    assert_int_equal (m.u.tick.ltp, 12345);
    assert_string_equal (m.env.src, "md-gateway");
    assert_int_equal (m.env.seq, (7ull << 32) | 3); //  third message of family md
    assert_int_equal (m.env.seq, t2.env.seq);
    //  The narrow subscription skipped numbers 1 and 2 of the family: not a gap.
    assert_int_equal (kt_bus_last_seq (sb), KT_SEQ_FIRST);
    assert_int_equal (kt_bus_gaps (sb), 0);
    struct kt_msg t3 = s_tick ("NIFTY25NOV24000PE", 5);
    assert_int_equal (kt_bus_publish (pb, pub, "md.bar.X", &bar), 0);
    assert_int_equal (kt_bus_publish (pb, pub, "md.tick.NIFTY25NOV24000PE", &t3), 0);
    assert_int_equal (s_recv (sb, sub, topic, &m, why), 0);
    assert_string_equal (topic, "md.tick.NIFTY25NOV24000PE");
    assert_int_equal (kt_bus_last_seq (sb), KT_SEQ_OK);
    assert_int_equal (kt_bus_gaps (sb), 0);
    assert_int_equal (kt_bus_recv (sb, sub, topic, sizeof topic, &m, why, sizeof why), 1);
    kt_bus_destroy (&sb);
    kt_bus_destroy (&pb);
}

static void
test_seq_per_family (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *pb = kt_bus_new (&cfg, NULL, "exec-gateway", 3);
    kt_bus_t *sb = kt_bus_new (&cfg, NULL, "risk-gate", 1);
    void *pub = s_bind (pb, &cfg, "exec_pub", ZMQ_PUB);
    void *sub = kt_bus_connect (sb, "exec_pub", ZMQ_SUB);
    assert_int_equal (kt_bus_subscribe (sb, sub, ""), 0);
    s_sync (pb, pub, sb, sub);

    const char *topics[] = {"md.tick.A", "md.tick.B", "exec.fill", "md.bar.A", "exec"};
    const uint32_t want_n[] = {1, 2, 1, 3, 2};
    const kt_bus_seq_t want_seq[] = {KT_SEQ_FIRST, KT_SEQ_OK, KT_SEQ_FIRST, KT_SEQ_OK, KT_SEQ_OK};
    for (int i = 0; i < 5; i++) {
        struct kt_msg m = s_status (i);
        assert_int_equal (kt_bus_publish (pb, pub, topics[i], &m), 0);
    }
    for (int i = 0; i < 5; i++) {
        struct kt_msg m;
        char topic[KT_TOPIC_LEN], why[128] = "";
        assert_int_equal (s_recv (sb, sub, topic, &m, why), 0);
        assert_string_equal (topic, topics[i]);
        assert_int_equal (m.env.seq >> 32, 3);
        assert_int_equal ((uint32_t) m.env.seq, want_n[i]);
        assert_int_equal (m.u.md_status.subscribed, i);
        assert_int_equal (kt_bus_last_seq (sb), want_seq[i]);
    }
    assert_int_equal (kt_bus_gaps (sb), 0);
    assert_int_equal (kt_bus_restarts (sb), 0);
    kt_bus_destroy (&sb);
    kt_bus_destroy (&pb);
}

//  Raw frames with crafted seq through the same PUB (so order is kept): a jump in n is
//  a gap of the numbers missed, a new epoch or n going back is a restart.
static void
test_gaps_and_restarts (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *pb = kt_bus_new (&cfg, NULL, "md-gateway", 5);
    kt_bus_t *sb = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *pub = s_bind (pb, &cfg, "md", ZMQ_PUB);
    void *all = kt_bus_connect (sb, "md", ZMQ_SUB);
    assert_int_equal (kt_bus_subscribe (sb, all, "md."), 0);
    s_sync (pb, pub, sb, all);

    struct {
        uint32_t epoch, n;
        kt_bus_seq_t want;
        int64_t gaps, restarts;
    } steps[] = {
        {5, 1, KT_SEQ_FIRST, 0, 0},   {5, 2, KT_SEQ_OK, 0, 0},
        {5, 10, KT_SEQ_GAP, 7, 0}, //  3..9 missed
        {5, 11, KT_SEQ_OK, 7, 0},     {5, 13, KT_SEQ_GAP, 8, 0},
        {6, 1, KT_SEQ_RESTART, 8, 1}, //  publisher restarted: new epoch
        {6, 2, KT_SEQ_OK, 8, 1},      {6, 2, KT_SEQ_RESTART, 8, 2}, //  n going back
        {6, 3, KT_SEQ_OK, 8, 2},
    };
    int nsteps = (int) (sizeof steps / sizeof steps[0]);
    for (int i = 0; i < nsteps; i++) {
        struct kt_msg m = s_tick ("X", 100 + i);
        assert_int_equal (kt_testbus_send_crafted (pub, "md.tick.X", &m, "md-gateway",
                                                   steps[i].epoch, steps[i].n),
                          0);
    }
    for (int i = 0; i < nsteps; i++) {
        struct kt_msg m;
        char topic[KT_TOPIC_LEN], why[128] = "";
        assert_int_equal (s_recv (sb, all, topic, &m, why), 0);
        assert_int_equal (m.u.tick.ltp, 100 + i);
        assert_int_equal (kt_bus_last_seq (sb), steps[i].want);
        assert_int_equal (kt_bus_gaps (sb), steps[i].gaps);
        assert_int_equal (kt_bus_restarts (sb), steps[i].restarts);
    }
    //  Another publisher (different src) has its own numbering.
    struct kt_msg m2 = s_tick ("X", 1);
    assert_int_equal (kt_testbus_send_crafted (pub, "md.tick.X", &m2, "md-replay", 9, 1000), 0);
    struct kt_msg m;
    char topic[KT_TOPIC_LEN], why[128];
    assert_int_equal (s_recv (sb, all, topic, &m, why), 0);
    assert_int_equal (kt_bus_last_seq (sb), KT_SEQ_FIRST);
    assert_int_equal (kt_bus_gaps (sb), 8);
    kt_bus_destroy (&sb);
    kt_bus_destroy (&pb);
}

//  Gap counting on a narrow subscription, on its own bus so the state is its own.
static void
test_narrow_subscription_no_gaps (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *pb = kt_bus_new (&cfg, NULL, "md-gateway", 5);
    kt_bus_t *sb = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *pub = s_bind (pb, &cfg, "md", ZMQ_PUB);
    void *narrow = kt_bus_connect (sb, "md", ZMQ_SUB);
    assert_int_equal (kt_bus_subscribe (sb, narrow, "md.tick.X"), 0);
    s_sync (pb, pub, sb, narrow);
    const uint32_t ns[] = {1, 5, 9, 9};
    const kt_bus_seq_t want[] = {KT_SEQ_FIRST, KT_SEQ_OK, KT_SEQ_OK, KT_SEQ_RESTART};
    for (int i = 0; i < 4; i++) {
        struct kt_msg m = s_tick ("X", 1);
        assert_int_equal (kt_testbus_send_crafted (pub, "md.tick.X", &m, "md-gateway", 5, ns[i]),
                          0);
    }
    for (int i = 0; i < 4; i++) {
        struct kt_msg m;
        char topic[KT_TOPIC_LEN], why[128] = "";
        assert_int_equal (s_recv (sb, narrow, topic, &m, why), 0);
        assert_int_equal (kt_bus_last_seq (sb), want[i]);
    }
    assert_int_equal (kt_bus_gaps (sb), 0);
    assert_int_equal (kt_bus_restarts (sb), 1);
    kt_bus_destroy (&sb);
    kt_bus_destroy (&pb);
}

static void
test_rejects (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *pb = kt_bus_new (&cfg, NULL, "md-gateway", 1);
    kt_bus_t *sb = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *pub = s_bind (pb, &cfg, "md", ZMQ_PUB);
    void *sub = kt_bus_connect (sb, "md", ZMQ_SUB);
    assert_int_equal (kt_bus_subscribe (sb, sub, ""), 0);
    s_sync (pb, pub, sb, sub);

    struct kt_msg m;
    char topic[KT_TOPIC_LEN], why[128];
    s_raw (pub, "md.tick.X", "\x81\xa1v\xc1", 4); //  garbage body
    assert_int_equal (s_recv (sb, sub, topic, &m, why), -1);
    assert_string_equal (why, "malformed msgpack (byte 0xc1 at 3)");
    assert_int_equal (kt_bus_rejects (sb), 1);
    assert_int_equal (kt_bus_last_seq (sb), KT_SEQ_NONE);

    assert_true (zmq_send (pub, "md.tick.X", 9, 0) >= 0); //  one frame only
    assert_int_equal (s_recv (sb, sub, topic, &m, why), -1);
    assert_string_equal (why, "expected 2 frames (topic, body), got 1");
    assert_int_equal (kt_bus_rejects (sb), 2);

    for (int i = 0; i < 11; i++) //  eleven frames
        assert_true (zmq_send (pub, "md.x", 4, i < 10 ? ZMQ_SNDMORE : 0) >= 0);
    assert_int_equal (s_recv (sb, sub, topic, &m, why), -1);
    assert_string_equal (why, "expected 2 frames (topic, body), got more than 8");
    assert_int_equal (kt_bus_rejects (sb), 3);

    char longtopic[KT_TOPIC_LEN + 8];
    memset (longtopic, 'm', sizeof longtopic - 1);
    longtopic[sizeof longtopic - 1] = 0;
    struct kt_msg ok = s_tick ("X", 1);
    assert_int_equal (kt_testbus_send_crafted (pub, longtopic, &ok, "md-gateway", 1, 1), 0);
    assert_int_equal (s_recv (sb, sub, topic, &m, why), -1);
    assert_string_equal (why, "bad topic frame (71 bytes)");
    assert_int_equal (kt_bus_rejects (sb), 4);

    //  And the stream goes on.
    struct kt_msg t = s_tick ("NIFTY", 99);
    assert_int_equal (kt_bus_publish (pb, pub, "md.tick.NIFTY", &t), 0);
    assert_int_equal (s_recv (sb, sub, topic, &m, why), 0);
    assert_int_equal (m.u.tick.ltp, 99);
    assert_int_equal (kt_bus_rejects (sb), 4);
    kt_bus_destroy (&sb);
    kt_bus_destroy (&pb);
}

//  A PUSH with nowhere to go fills its queue; then publish fails and counts drops.
static void
test_drops_at_hwm (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    cfg.sndhwm = 1;
    snprintf (cfg.ep_alerts, sizeof cfg.ep_alerts, "tcp://127.0.0.1:1"); //  nobody there
    kt_bus_t *bus = kt_bus_new (&cfg, NULL, "test", 1);
    void *push = kt_bus_connect (bus, "alerts", ZMQ_PUSH);
    assert_non_null (push);
    int sent = 0, failed = 0;
    for (int i = 0; i < 100; i++) {
        struct kt_msg m = s_status (i);
        if (kt_bus_publish (bus, push, "alert.info", &m) == 0)
            sent++;
        else
            failed++;
    }
    assert_true (sent >= 1);
    assert_true (failed >= 1);
    assert_int_equal (kt_bus_drops (bus), failed);
    assert_string_equal (kt_bus_errstr (bus), "send queue full (HWM)");
    kt_bus_destroy (&bus);
}

// ---- ROUTER request / reply ----------------------------------------------------------

static void
s_serve_one (kt_bus_t *srv, void *router, bool want_delimiter)
{
    kt_bus_peer_t peer;
    char topic[KT_TOPIC_LEN], why[128] = "";
    struct kt_msg req;
    int rc = 1;
    for (int i = 0; i < 500 && rc == 1; i++) {
        rc = kt_bus_recv_req (srv, router, &peer, topic, sizeof topic, &req, why, sizeof why);
        if (rc == 1)
            s_readable (router, 10);
    }
    assert_int_equal (rc, 0);
    assert_string_equal (topic, "risk.intent");
    assert_int_equal (req.env.type, KT_MSG_ORDER_INTENT);
    assert_int_equal (peer.delimiter, want_delimiter);
    assert_true (peer.len >= 2);
    assert_int_equal (peer.id[0], peer.len - 1); //  one routing frame
    struct kt_msg d = s_decision (req.u.intent.intent_id, req.u.intent.qty);
    assert_int_equal (kt_bus_reply (srv, router, &peer, "risk.decision", &d), 0);
}

//  A reply on the ROUTER between two publications of the same family is not a message
//  lost to the PUB socket's subscribers: each socket counts its own.
static void
test_replies_leave_no_gap (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *srv = kt_bus_new (&cfg, NULL, "risk-gate", 1);
    kt_bus_t *cli = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *router = s_bind (srv, &cfg, "risk", ZMQ_ROUTER);
    void *pub = s_bind (srv, &cfg, "risk_pub", ZMQ_PUB);
    void *sub = kt_bus_connect (cli, "risk_pub", ZMQ_SUB);
    void *dealer = kt_bus_connect (cli, "risk", ZMQ_DEALER);
    assert_int_equal (kt_bus_subscribe (cli, sub, "risk."), 0);
    s_sync (srv, pub, cli, sub);
    struct kt_msg st = s_status (1);
    assert_int_equal (kt_bus_publish (srv, pub, "risk.state", &st), 0);
    struct kt_msg in = s_intent ("D-1");
    assert_int_equal (kt_bus_publish (cli, dealer, "risk.intent", &in), 0);
    s_serve_one (srv, router, false);
    st = s_status (2);
    assert_int_equal (kt_bus_publish (srv, pub, "risk.state", &st), 0);
    struct kt_msg m;
    char topic[KT_TOPIC_LEN], why[128] = "";
    assert_int_equal (s_recv (cli, sub, topic, &m, why), 0);
    assert_int_equal (s_recv (cli, sub, topic, &m, why), 0);
    assert_int_equal (m.u.md_status.subscribed, 2);
    assert_int_equal (kt_bus_last_seq (cli), KT_SEQ_OK);
    assert_int_equal (kt_bus_gaps (cli), 0);
    kt_bus_destroy (&cli);
    kt_bus_destroy (&srv);
}

static void
test_router_with_req_and_dealer (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *srv = kt_bus_new (&cfg, NULL, "risk-gate", 1);
    kt_bus_t *cli = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *router = s_bind (srv, &cfg, "risk", ZMQ_ROUTER);
    void *req = kt_bus_connect (cli, "risk", ZMQ_REQ);
    void *dealer = kt_bus_connect (cli, "risk", ZMQ_DEALER);
    assert_non_null (req);
    assert_non_null (dealer);

    struct kt_msg in = s_intent ("REQ-1");
    assert_int_equal (kt_bus_publish (cli, req, "risk.intent", &in), 0);
    s_serve_one (srv, router, true);
    struct kt_msg out;
    char topic[KT_TOPIC_LEN], why[128] = "";
    assert_int_equal (s_recv (cli, req, topic, &out, why), 0);
    assert_string_equal (topic, "risk.decision");
    assert_string_equal (out.u.decision.intent_id, "REQ-1");
    assert_int_equal (out.u.decision.verdict, KT_VERDICT_APPROVE);
    assert_string_equal (out.env.src, "risk-gate");

    in = s_intent ("DEALER-1");
    in.u.intent.qty = 150;
    assert_int_equal (kt_bus_publish (cli, dealer, "risk.intent", &in), 0);
    s_serve_one (srv, router, false);
    assert_int_equal (s_recv (cli, dealer, topic, &out, why), 0);
    assert_string_equal (out.u.decision.intent_id, "DEALER-1");
    assert_int_equal (out.u.decision.qty, 150);

    //  A reply to a peer that is not there is an error, not a silent drop.
    kt_bus_peer_t ghost = {.len = 3, .id = {2, 'n', 'o'}, .delimiter = true};
    struct kt_msg d = s_decision ("X", 0);
    assert_int_equal (kt_bus_reply (srv, router, &ghost, "risk.decision", &d), -1);
    assert_string_equal (kt_bus_errstr (srv), "peer is gone");
    kt_bus_peer_t broken = {.len = 3, .id = {7, 'n', 'o'}};
    assert_int_equal (kt_bus_reply (srv, router, &broken, "risk.decision", &d), -1);
    assert_string_equal (kt_bus_errstr (srv), "malformed peer routing frames");

    //  A request without routing frames cannot come from ROUTER; a body-less one can.
    assert_true (zmq_send (dealer, "risk.intent", 11, 0) >= 0);
    kt_bus_peer_t peer;
    int rc = 1;
    for (int i = 0; i < 500 && rc == 1; i++) {
        rc = kt_bus_recv_req (srv, router, &peer, topic, sizeof topic, &out, why, sizeof why);
        if (rc == 1)
            s_readable (router, 10);
    }
    assert_int_equal (rc, -1);
    assert_string_equal (why, "expected routing, topic, body frames, got 2");
    assert_int_equal (kt_bus_rejects (srv), 1);
    kt_bus_destroy (&cli);
    kt_bus_destroy (&srv);
}

// ---- lazy-pirate client --------------------------------------------------------------

struct s_calls {
    int n;
    int null_replies;
    char id[KT_ID_LEN];
    struct kt_msg last;
};

static void
s_on_reply (kt_bus_client_t *client, const char *req_id, const struct kt_msg *reply, void *arg)
{
    (void) client;
    struct s_calls *c = arg;
    c->n++;
    snprintf (c->id, sizeof c->id, "%s", req_id);
    if (reply)
        c->last = *reply;
    else
        c->null_replies++;
}

//  Server that ignores the first request and answers the resend (twice, so the client
//  sees a duplicate). The resend carries the same bytes: same seq and ts.
static void
test_pirate_retry_then_reply (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *srv = kt_bus_new (&cfg, NULL, "risk-gate", 1);
    kt_bus_t *cli = kt_bus_new (&cfg, NULL, "strategy", 4);
    void *router = s_bind (srv, &cfg, "risk", ZMQ_ROUTER);
    kt_loop_t *loop = kt_loop_new ();
    struct s_calls calls = {0};
    kt_bus_client_t *client = kt_bus_client_new (cli, loop, "risk", 100, 3, s_on_reply, &calls);
    assert_non_null (client);

    struct kt_msg in = s_intent ("S1-0001");
    assert_int_equal (kt_bus_client_send (client, "S1-0001", "risk.intent", &in), 0);
    assert_int_equal (kt_bus_client_pending (client), 1);
    assert_int_equal (kt_bus_client_send (client, "S1-0001", "risk.intent", &in), -1);
    assert_string_equal (kt_bus_errstr (cli), "request 'S1-0001' already in flight");
    struct kt_msg other = s_intent ("S1-0002");
    assert_int_equal (kt_bus_client_send (client, "S1-0003", "risk.intent", &other), -1);

    int seen = 0, replies = 0;
    uint64_t first_seq = 0;
    int64_t first_ts = 0;
    for (int i = 0; i < 2000 && calls.n == 0; i++) {
        kt_loop_run_once (loop, 5);
        kt_bus_peer_t peer;
        char topic[KT_TOPIC_LEN], why[128];
        struct kt_msg req;
        while (kt_bus_recv_req (srv, router, &peer, topic, sizeof topic, &req, why, sizeof why) ==
               0) {
            seen++;
            assert_true (peer.delimiter);
            assert_string_equal (req.u.intent.intent_id, "S1-0001");
            if (seen == 1) {
                first_seq = req.env.seq;
                first_ts = req.env.ts_ns;
                continue; //  lost
            }
            assert_int_equal (req.env.seq, first_seq);
            assert_int_equal (req.env.ts_ns, first_ts);
            struct kt_msg d = s_decision ("S1-0001", 75);
            assert_int_equal (kt_bus_reply (srv, router, &peer, "risk.decision", &d), 0);
            assert_int_equal (kt_bus_reply (srv, router, &peer, "risk.decision", &d), 0);
            replies += 2;
        }
    }
    assert_int_equal (calls.n, 1);
    assert_int_equal (calls.null_replies, 0);
    assert_string_equal (calls.id, "S1-0001");
    assert_true (replies >= 2);
    assert_int_equal (calls.last.env.type, KT_MSG_RISK_DECISION);
    assert_int_equal (calls.last.u.decision.qty, 75);
    assert_true (seen >= 2);
    assert_true (kt_bus_client_resends (client) >= 1);
    assert_int_equal (kt_bus_client_pending (client), 0);
    //  Every other answer (the duplicate, and any to a further resend) is dropped.
    for (int i = 0; i < 500 && kt_bus_client_dropped (client) < replies - 1; i++)
        kt_loop_run_once (loop, 10);
    assert_int_equal (kt_bus_client_dropped (client), replies - 1);
    assert_int_equal (calls.n, 1);
    kt_bus_client_destroy (&client);
    assert_null (client);
    kt_loop_destroy (&loop);
    kt_bus_destroy (&cli);
    kt_bus_destroy (&srv);
}

//  Server that never answers: 1 + retries sends, then the callback with NULL.
static void
test_pirate_gives_up (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *srv = kt_bus_new (&cfg, NULL, "risk-gate", 1);
    kt_bus_t *cli = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *router = s_bind (srv, &cfg, "risk", ZMQ_ROUTER);
    kt_loop_t *loop = kt_loop_new ();
    struct s_calls calls = {0};
    //  timeout and retries from cfg: 300 ms (ample for every send to arrive), 2
    cfg.req_timeout_ms = 300;
    kt_bus_client_t *client = kt_bus_client_new (cli, loop, "risk", 0, -1, s_on_reply, &calls);
    struct kt_msg in = s_intent ("S1-0009");
    assert_int_equal (kt_bus_client_send (client, "S1-0009", "risk.intent", &in), 0);
    int seen = 0;
    for (int i = 0; i < 3000 && calls.n == 0; i++) {
        kt_loop_run_once (loop, 5);
        kt_bus_peer_t peer;
        char topic[KT_TOPIC_LEN], why[128];
        struct kt_msg req;
        while (kt_bus_recv_req (srv, router, &peer, topic, sizeof topic, &req, why, sizeof why) ==
               0)
            seen++;
    }
    assert_int_equal (calls.n, 1);
    assert_int_equal (calls.null_replies, 1);
    assert_string_equal (calls.id, "S1-0009");
    assert_int_equal (kt_bus_client_pending (client), 0);
    //  Every send that got out reached the server: 1 + 2 retries (the last resend may
    //  still be in flight when the callback runs).
    for (int i = 0; i < 50 && seen < 3; i++) {
        kt_bus_peer_t peer;
        char topic[KT_TOPIC_LEN], why[128];
        struct kt_msg req;
        s_readable (router, 10);
        while (kt_bus_recv_req (srv, router, &peer, topic, sizeof topic, &req, why, sizeof why) ==
               0)
            seen++;
    }
    assert_int_equal (seen, 3);
    kt_bus_client_destroy (&client);
    kt_loop_destroy (&loop);
    kt_bus_destroy (&cli);
    kt_bus_destroy (&srv);
}

//  A reply that matches no pending request (wrong key, or a type that carries no key)
//  is dropped and counted.
static void
test_pirate_unknown_reply (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *srv = kt_bus_new (&cfg, NULL, "risk-gate", 1);
    kt_bus_t *cli = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *router = s_bind (srv, &cfg, "risk", ZMQ_ROUTER);
    kt_loop_t *loop = kt_loop_new ();
    struct s_calls calls = {0};
    kt_bus_client_t *client = kt_bus_client_new (cli, loop, "risk", 5000, 0, s_on_reply, &calls);
    struct kt_msg in = s_intent ("S1-0010");
    assert_int_equal (kt_bus_client_send (client, "S1-0010", "risk.intent", &in), 0);
    kt_bus_peer_t peer;
    char topic[KT_TOPIC_LEN], why[128];
    struct kt_msg req;
    int rc = 1;
    for (int i = 0; i < 500 && rc == 1; i++) {
        rc = kt_bus_recv_req (srv, router, &peer, topic, sizeof topic, &req, why, sizeof why);
        if (rc == 1)
            s_readable (router, 10);
    }
    assert_int_equal (rc, 0);
    struct kt_msg wrong = s_decision ("S1-9999", 1);
    struct kt_msg status = s_status (1);
    struct kt_msg right = s_decision ("S1-0010", 75);
    assert_int_equal (kt_bus_reply (srv, router, &peer, "risk.decision", &wrong), 0);
    assert_int_equal (kt_bus_reply (srv, router, &peer, "risk.state", &status), 0);
    assert_int_equal (kt_bus_reply (srv, router, &peer, "risk.decision", &right), 0);
    for (int i = 0; i < 500 && calls.n == 0; i++)
        kt_loop_run_once (loop, 10);
    assert_int_equal (calls.n, 1);
    assert_int_equal (calls.last.u.decision.qty, 75);
    assert_int_equal (kt_bus_client_dropped (client), 2);
    assert_int_equal (kt_bus_client_resends (client), 0);
    kt_bus_client_destroy (&client);
    kt_loop_destroy (&loop);
    kt_bus_destroy (&cli);
    kt_bus_destroy (&srv);
}

//  The endpoint goes bad after the first send, so the socket cannot be rebuilt at the
//  timeout: the request still runs out of tries (callback with NULL) instead of waiting
//  forever, and once the endpoint is good again a new request gets its answer.
static void
test_pirate_failed_rebuild (void **state)
{
    (void) state;
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *srv = kt_bus_new (&cfg, NULL, "risk-gate", 1);
    kt_bus_t *cli = kt_bus_new (&cfg, NULL, "strategy", 1);
    void *router = s_bind (srv, &cfg, "risk", ZMQ_ROUTER);
    char good[sizeof cfg.ep_risk];
    memcpy (good, cfg.ep_risk, sizeof good);
    kt_loop_t *loop = kt_loop_new ();
    struct s_calls calls = {0};
    kt_bus_client_t *client = kt_bus_client_new (cli, loop, "risk", 50, 1, s_on_reply, &calls);
    struct kt_msg in = s_intent ("S1-0020");
    assert_int_equal (kt_bus_client_send (client, "S1-0020", "risk.intent", &in), 0);
    snprintf (cfg.ep_risk, sizeof cfg.ep_risk, "bogus://nowhere");
    for (int i = 0; i < 2000 && calls.n == 0; i++)
        kt_loop_run_once (loop, 5);
    assert_int_equal (calls.n, 1);
    assert_int_equal (calls.null_replies, 1);
    assert_int_equal (kt_bus_client_pending (client), 0);
    assert_non_null (strstr (kt_bus_errstr (cli), "bogus://nowhere"));

    memcpy (cfg.ep_risk, good, sizeof good);
    in = s_intent ("S1-0021");
    assert_int_equal (kt_bus_client_send (client, "S1-0021", "risk.intent", &in), 0);
    for (int i = 0; i < 2000 && calls.n == 1; i++) {
        kt_loop_run_once (loop, 5);
        kt_bus_peer_t peer;
        char topic[KT_TOPIC_LEN], why[128];
        struct kt_msg req;
        while (kt_bus_recv_req (srv, router, &peer, topic, sizeof topic, &req, why, sizeof why) ==
               0) {
            struct kt_msg d = s_decision (req.u.intent.intent_id, 75);
            kt_bus_reply (srv, router, &peer, "risk.decision", &d);
        }
    }
    assert_int_equal (calls.n, 2);
    assert_string_equal (calls.id, "S1-0021");
    assert_int_equal (calls.last.u.decision.qty, 75);
    kt_bus_client_destroy (&client);
    kt_loop_destroy (&loop);
    kt_bus_destroy (&cli);
    kt_bus_destroy (&srv);
}

//  A server thread for the blocking call: answers from request number answer_from on.
struct s_server {
    kt_bus_t *bus;
    void *router;
    int answer_from; //  1-based; 0 = never
    int expect;      //  stop after this many requests
    int seen;
};

static void *
s_server_main (void *arg)
{
    struct s_server *s = arg;
    for (int i = 0; i < 1000 && s->seen < s->expect; i++) {
        if (!s_readable (s->router, 10))
            continue;
        kt_bus_peer_t peer;
        char topic[KT_TOPIC_LEN], why[128];
        struct kt_msg req;
        while (kt_bus_recv_req (s->bus, s->router, &peer, topic, sizeof topic, &req, why,
                                sizeof why) == 0) {
            s->seen++;
            if (s->answer_from && s->seen >= s->answer_from) {
                struct kt_msg d = s_decision (req.u.intent.intent_id, 42);
                kt_bus_reply (s->bus, s->router, &peer, "risk.decision", &d);
            }
        }
    }
    return NULL;
}

static void
s_blocking_case (int answer_from, int expect, int want_rc)
{
    struct kt_cfg cfg;
    s_cfg (&cfg);
    struct s_server server = {0};
    server.bus = kt_bus_new (&cfg, NULL, "risk-gate", 1);
    server.router = s_bind (server.bus, &cfg, "risk", ZMQ_ROUTER);
    server.answer_from = answer_from;
    server.expect = expect;
    kt_bus_t *cli = kt_bus_new (&cfg, NULL, "tradectl", 1);
    pthread_t th;
    assert_int_equal (pthread_create (&th, NULL, s_server_main, &server), 0);
    struct kt_msg in = s_intent ("T-1"), reply;
    char err[128] = "";
    int rc =
        kt_testbus_call (cli, "risk", 100, 2, "T-1", "risk.intent", &in, &reply, err, sizeof err);
    pthread_join (th, NULL);
    assert_int_equal (rc, want_rc);
    if (rc == 0) {
        assert_string_equal (reply.u.decision.intent_id, "T-1");
        assert_int_equal (reply.u.decision.qty, 42);
        assert_int_equal (server.seen, answer_from);
    } else {
        assert_int_equal (server.seen, expect);
        assert_string_equal (err, "request 'T-1': no reply after 3 tries");
    }
    kt_bus_destroy (&cli);
    kt_bus_destroy (&server.bus);
}

static void
test_client_call_blocking (void **state)
{
    (void) state;
    s_blocking_case (1, 1, 0);  //  answered at once
    s_blocking_case (2, 2, 0);  //  answered after one retry
    s_blocking_case (0, 3, -1); //  never answered: 1 + 2 retries, then -1
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_new_and_errors),
        cmocka_unit_test (test_pubsub_prefix_filter),
        cmocka_unit_test (test_endpoint_list),
        cmocka_unit_test (test_seq_per_family),
        cmocka_unit_test (test_gaps_and_restarts),
        cmocka_unit_test (test_narrow_subscription_no_gaps),
        cmocka_unit_test (test_rejects),
        cmocka_unit_test (test_drops_at_hwm),
        cmocka_unit_test (test_replies_leave_no_gap),
        cmocka_unit_test (test_router_with_req_and_dealer),
        cmocka_unit_test (test_pirate_retry_then_reply),
        cmocka_unit_test (test_pirate_gives_up),
        cmocka_unit_test (test_pirate_unknown_reply),
        cmocka_unit_test (test_pirate_failed_rebuild),
        cmocka_unit_test (test_client_call_blocking),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
