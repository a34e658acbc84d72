/*  system_test - the six processes of the pipeline, started from deploy/config/sim.json
 *  against a throwaway redis-server, talking over real ZeroMQ sockets.
 *
 *  Shows: every process heartbeats into Redis; a TICK published on `md` reaches
 *  strategy; an ORDER_INTENT goes through risk-gate to exec-gateway and the decision
 *  comes back; an ALERT reaches the alerter's durable outbox; SIGTERM stops each
 *  process within 2 s. The config is the shipped sim.json with the addresses changed
 *  (Redis port, ipc:// endpoints private to this test) and the simulated session set to
 *  a Monday 10:00 IST at real-time pace. The test plays a second market-data publisher on
 *  `md`: the subscribers' md endpoint lists md-gateway's address and the test's. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <cmocka.h>
#include <cJSON.h>
#include <zmq.h>

#include "kt.h"
#include "kt_proc.h"
#include "kt_testproc.h"
#include "kt_testredis.h"

#define NPROCS 6
#define SYM "NIFTY25N2524000CE"
#define TOKEN 12345602u

//  The instruments of the test: one NIFTY weekly option expiring the day after the
//  simulated session (2025-11-24), in Kite's CSV layout.
static const char s_instruments[] =
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,"
    "lot_size,instrument_type,segment,exchange\n"
    "12345602,48225," SYM ",NIFTY,150.0,2025-11-25,24000.0,0.05,75,CE,NFO-OPT,NFO\n"
    "256265,1001,NIFTY 50,NIFTY 50,24000.0,,0.0,0.05,1,EQ,INDICES,NSE\n";
static const char *const s_procs[NPROCS] = {"alerter",   "md-gateway", "exec-gateway",
                                            "risk-gate", "reconciler", "strategy"};

struct sys {
    kt_testredis_t *redis;
    char dir[64];
    char cfg_path[128];     //  the pipeline's config
    char sub_cfg_path[128]; //  subscribers': md lists the test's publisher too
    char ep[6][128];        //  md, risk, risk_pub, exec, exec_pub, alerts
    char ep_inject[128];
    kt_testproc_t *procs[NPROCS];
    void *zctx;
};

static struct sys s_sys;

enum { EP_MD, EP_RISK, EP_RISK_PUB, EP_EXEC, EP_EXEC_PUB, EP_ALERTS };
static const char *const s_ep_names[6] = {"md", "risk", "risk_pub", "exec", "exec_pub", "alerts"};

static char *
s_read_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    if (fread (buf, 1, (size_t) n, f) != (size_t) n) {
        free (buf);
        fclose (f);
        return NULL;
    }
    buf[n] = 0;
    fclose (f);
    return buf;
}

static int
s_write_config (const char *path, const char *md_endpoint)
{
    char *text = s_read_file ("deploy/config/sim.json");
    if (!text)
        return -1;
    cJSON *root = cJSON_Parse (text);
    free (text);
    if (!root)
        return -1;
    cJSON *bus = cJSON_GetObjectItem (root, "bus");
    for (int i = 0; i < 6; i++)
        cJSON_ReplaceItemInObject (bus, s_ep_names[i],
                                   cJSON_CreateString (i == EP_MD ? md_endpoint : s_sys.ep[i]));
    cJSON *redis = cJSON_GetObjectItem (root, "redis");
    cJSON_ReplaceItemInObject (redis, "port", cJSON_CreateNumber (s_sys.redis->port));
    //  A weekday inside market hours, so the session is open for the intent.
    cJSON *clock = cJSON_GetObjectItem (root, "clock");
    cJSON_ReplaceItemInObject (clock, "date", cJSON_CreateString ("2025-11-24"));
    cJSON_ReplaceItemInObject (clock, "start", cJSON_CreateString ("10:00"));
    //  Real-time pace: the entry below must find a tick younger than risk.stale_md_s.
    cJSON_ReplaceItemInObject (clock, "speed", cJSON_CreateNumber (1));
    cJSON *instr = cJSON_GetObjectItem (root, "instruments");
    char csv[128];
    snprintf (csv, sizeof csv, "%s/instruments.csv", s_sys.dir);
    if (instr)
        cJSON_ReplaceItemInObject (instr, "file", cJSON_CreateString (csv));
    char *out = cJSON_Print (root);
    cJSON_Delete (root);
    FILE *f = fopen (path, "w");
    if (!f) {
        free (out);
        return -1;
    }
    fputs (out, f);
    fclose (f);
    free (out);
    return 0;
}

static int
s_setup (void **state)
{
    (void) state;
    s_sys.redis = kt_testredis_start ();
    if (!s_sys.redis)
        return -1;
    snprintf (s_sys.dir, sizeof s_sys.dir, "/tmp/kt-sys-XXXXXX");
    if (!mkdtemp (s_sys.dir))
        return -1;
    for (int i = 0; i < 6; i++)
        snprintf (s_sys.ep[i], sizeof s_sys.ep[i], "ipc://%s/%s", s_sys.dir, s_ep_names[i]);
    snprintf (s_sys.ep_inject, sizeof s_sys.ep_inject, "ipc://%s/md-test", s_sys.dir);
    snprintf (s_sys.cfg_path, sizeof s_sys.cfg_path, "%s/sim.json", s_sys.dir);
    char csv[128];
    snprintf (csv, sizeof csv, "%s/instruments.csv", s_sys.dir);
    FILE *f = fopen (csv, "w");
    if (!f)
        return -1;
    fputs (s_instruments, f);
    fclose (f);
    snprintf (s_sys.sub_cfg_path, sizeof s_sys.sub_cfg_path, "%s/subscribers.json", s_sys.dir);
    char both[300];
    snprintf (both, sizeof both, "%s,%s", s_sys.ep[EP_MD], s_sys.ep_inject);
    if (s_write_config (s_sys.cfg_path, s_sys.ep[EP_MD]) != 0 ||
        s_write_config (s_sys.sub_cfg_path, both) != 0)
        return -1;

    static const char *const env[] = {"KITE_API_KEY=sim_api_key", "KITE_API_SECRET=sim_api_secret",
                                      "KITE_ACCESS_TOKEN=sim_access_token", NULL};
    for (int i = 0; i < NPROCS; i++) {
        const char *cfg =
            strcmp (s_procs[i], "md-gateway") == 0 ? s_sys.cfg_path : s_sys.sub_cfg_path;
        const char *args[] = {"-c", cfg, NULL};
        s_sys.procs[i] = kt_testproc_start (s_procs[i], args, env);
        if (!s_sys.procs[i])
            return -1;
    }
    for (int i = 0; i < NPROCS; i++) {
        if (!kt_testproc_log_wait (s_sys.procs[i], "proc.start", NULL, 5000)) {
            fprintf (stderr, "%s did not start:\n", s_procs[i]);
            kt_testproc_log_dump (s_sys.procs[i], 3000);
            return -1;
        }
    }
    s_sys.zctx = zmq_ctx_new ();
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    for (int i = 0; i < NPROCS; i++)
        kt_testproc_destroy (&s_sys.procs[i]);
    if (s_sys.zctx)
        zmq_ctx_term (s_sys.zctx);
    kt_testredis_stop (&s_sys.redis);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_sys.dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", s_sys.dir);
    return 0;
}

static void *
s_socket (int type, const char *endpoint, bool bind)
{
    void *s = zmq_socket (s_sys.zctx, type);
    int zero = 0;
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    int rc = bind ? zmq_bind (s, endpoint) : zmq_connect (s, endpoint);
    assert_int_equal (rc, 0);
    return s;
}

static void
s_send (void *sock, bool delimiter, const char *topic, struct kt_msg *m, uint64_t seq)
{
    m->env.v = KT_MSG_VERSION;
    m->env.seq = ((uint64_t) 1 << 32) | seq;
    m->env.ts_ns = kt_clock_wall_ns ();
    snprintf (m->env.src, sizeof m->env.src, "system-test");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (kt_msg_encode (m, &sb), 0);
    if (delimiter)
        zmq_send (sock, "", 0, ZMQ_SNDMORE);
    zmq_send (sock, topic, strlen (topic), ZMQ_SNDMORE);
    zmq_send (sock, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
}

static redisReply *
s_redis_cmd (const char *fmt, const char *arg)
{
    redisContext *c = kt_testredis_connect (s_sys.redis);
    assert_non_null (c);
    redisReply *r = redisCommand (c, fmt, arg);
    redisFree (c);
    return r;
}

static void
test_every_process_heartbeats (void **state)
{
    (void) state;
    for (int i = 0; i < NPROCS; i++) {
        char key[64];
        snprintf (key, sizeof key, "kt:health:%s", s_procs[i]);
        bool found = false;
        for (int t = 0; t < 100 && !found; t++) {
            redisReply *r = s_redis_cmd ("HGET %s pid", key);
            found = r && r->type == REDIS_REPLY_STRING &&
                    atoi (r->str) == (int) kt_testproc_pid (s_sys.procs[i]);
            if (r)
                freeReplyObject (r);
            if (!found)
                usleep (50 * 1000);
        }
        if (!found)
            fprintf (stderr, "no heartbeat from %s\n", s_procs[i]);
        assert_true (found);
        redisReply *r = s_redis_cmd ("TTL %s", key);
        assert_true (r->integer > 0);
        freeReplyObject (r);
    }
}

static void
test_tick_reaches_strategy (void **state)
{
    (void) state;
    void *pub = s_socket (ZMQ_PUB, s_sys.ep_inject, true);
    kt_testproc_t *strat = s_sys.procs[5];
    const char *line = NULL;
    //  PUB/SUB joins asynchronously: publish until the strategy has seen one.
    for (uint64_t n = 1; n <= 100 && !line; n++) {
        struct kt_msg m;
        memset (&m, 0, sizeof m);
        m.env.type = KT_MSG_TICK;
        m.u.tick.token = TOKEN;
        snprintf (m.u.tick.sym, sizeof m.u.tick.sym, SYM);
        m.u.tick.ltp = 15005;
        m.u.tick.volume = 1000;
        s_send (pub, false, "md.tick." SYM, &m, n);
        line = kt_testproc_log_wait (strat, "strat.md.first", NULL, 50);
    }
    assert_non_null (line);
    assert_non_null (strstr (line, "\"sym\":\"" SYM "\""));
    assert_non_null (strstr (line, "\"ltp\":15005"));
    zmq_close (pub);
}

//  The reconciler's signal that the broker and Redis agree (docs/risk-gate.md), at the
//  pipeline's "now" as every process computes it from the shared clock hash.
static void
s_signal_agreement (void)
{
    kt_store_t *st = kt_store_new ("127.0.0.1", s_sys.redis->port, "kt:", 500);
    kt_clock_t *clock = kt_proc_shared_clock (st, NULL);
    assert_non_null (clock);
    kt_store_result_t r = kt_store_callf (st, "HSET kt:recon:last session_ok 1 agree_ns %lld",
                                          (long long) kt_clock_now_ns (clock));
    assert_int_equal (r.kind, KT_STORE_INT);
    kt_store_result_free (&r);
    kt_clock_destroy (&clock);
    kt_store_destroy (&st);
}

//  The pipeline's "now" as every process computes it from the shared clock hash.
static int64_t
s_pipeline_now (void)
{
    kt_store_t *st = kt_store_new ("127.0.0.1", s_sys.redis->port, "kt:", 500);
    kt_clock_t *clock = kt_proc_shared_clock (st, NULL);
    assert_non_null (clock);
    int64_t now = kt_clock_now_ns (clock);
    kt_clock_destroy (&clock);
    kt_store_destroy (&st);
    return now;
}

static void
s_publish_tick (void *pub, uint64_t seq)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_TICK;
    m.u.tick.recv_ts_ns = s_pipeline_now (); //  risk-gate judges freshness on it
    m.u.tick.token = TOKEN;
    snprintf (m.u.tick.sym, sizeof m.u.tick.sym, SYM);
    m.u.tick.ltp = 15005;
    m.u.tick.bid = 15000;
    m.u.tick.ask = 15010;
    m.u.tick.volume = 1000 + (int64_t) seq;
    s_send (pub, false, "md.tick." SYM, &m, seq);
}

static void
test_intent_through_risk_to_exec (void **state)
{
    (void) state;
    kt_testproc_t *risk = s_sys.procs[3];
    //  Trading starts REDUCING; the reconciler's agreement makes it ACTIVE.
    s_signal_agreement ();
    const char *line = kt_testproc_log_wait (risk, "risk.state", "\"state\":\"ACTIVE\"", 5000);
    if (!line)
        kt_testproc_log_dump (risk, 3000);
    assert_non_null (line);

    void *pub = s_socket (ZMQ_PUB, s_sys.ep_inject, true);
    void *dealer = s_socket (ZMQ_DEALER, s_sys.ep[EP_RISK], false);
    for (uint64_t n = 1; n <= 20; n++) { //  a fresh price for the entry
        s_publish_tick (pub, n);
        usleep (20 * 1000);
    }

    //  A short entry on the break of 150.00 with its stop at 160.00: one lot, R = Rs 753.75.
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_ORDER_INTENT;
    struct kt_intent *in = &m.u.intent;
    snprintf (in->intent_id, sizeof in->intent_id, "SYS1");
    snprintf (in->strategy, sizeof in->strategy, "S1");
    snprintf (in->sym, sizeof in->sym, SYM);
    in->side = KT_SIDE_SELL;
    in->qty = 75;
    in->order_type = KT_OT_SL;
    in->trigger = 14995;
    in->price = 14990;
    in->product = KT_PROD_MIS;
    in->purpose = KT_PURPOSE_ENTRY;
    in->has_stop = true;
    in->stop_trigger = 16000;
    in->stop_price = 16050;
    in->r_value = (16000 - 14995) * 75;
    s_send (dealer, true, "risk.intent", &m, 1);

    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    char buf[8192], why[160];
    struct kt_msg reply;
    bool got = false;
    zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, 5000) == 1) {
        int n = zmq_recv (dealer, buf, sizeof buf, 0);
        assert_int_equal (n, 0);                   //  delimiter
        n = zmq_recv (dealer, buf, sizeof buf, 0); //  topic
        n = zmq_recv (dealer, buf, sizeof buf, 0);
        assert_true (n > 0);
        assert_int_equal (kt_msg_decode (dec, buf, (size_t) n, &reply, why, sizeof why), 0);
        got = true;
    }
    if (!got)
        kt_testproc_log_dump (risk, 3000);
    assert_true (got);
    assert_int_equal (reply.env.type, KT_MSG_RISK_DECISION);
    assert_string_equal (reply.u.decision.intent_id, "SYS1");
    assert_string_equal (reply.env.src, "risk-gate");
    if (reply.u.decision.verdict != KT_VERDICT_APPROVE) {
        fprintf (stderr, "decision %s: %s %s\n", kt_verdict_str (reply.u.decision.verdict),
                 reply.u.decision.nreasons ? reply.u.decision.reasons[0].code : "",
                 reply.u.decision.nreasons ? reply.u.decision.reasons[0].text : "");
        kt_testproc_log_dump (risk, 3000);
    }
    assert_int_equal (reply.u.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (reply.u.decision.qty, 75);
    assert_true (reply.u.decision.coid[0] != 0);
    //  It reached exec-gateway: the order is recorded there under that coid, and
    //  exec-gateway's answer came back to risk-gate, which released the reservation.
    line =
        kt_testproc_log_wait (s_sys.procs[2], "exec.order.rejected", reply.u.decision.coid, 3000);
    assert_non_null (line);
    char key[80];
    snprintf (key, sizeof key, "kt:order:%s", reply.u.decision.coid);
    redisReply *r = s_redis_cmd ("HGET %s intent_id", key);
    assert_int_equal (r->type, REDIS_REPLY_STRING);
    assert_string_equal (r->str, "SYS1");
    freeReplyObject (r);

    //  The same intent again (a client retry): the first decision, never a second order.
    s_send (dealer, true, "risk.intent", &m, 2);
    assert_int_equal (zmq_poll (&item, 1, 5000), 1);
    zmq_recv (dealer, buf, sizeof buf, 0);
    zmq_recv (dealer, buf, sizeof buf, 0);
    int n = zmq_recv (dealer, buf, sizeof buf, 0);
    struct kt_msg again;
    assert_int_equal (kt_msg_decode (dec, buf, (size_t) n, &again, why, sizeof why), 0);
    assert_int_equal (again.u.decision.verdict, KT_VERDICT_APPROVE);
    assert_string_equal (again.u.decision.coid, reply.u.decision.coid);
    usleep (300 * 1000);
    assert_int_equal (
        kt_testproc_log_count (s_sys.procs[2], "exec.order.rejected", reply.u.decision.coid), 1);
    kt_msg_decoder_destroy (&dec);
    zmq_close (dealer);
    zmq_close (pub);
}

static void
test_alert_reaches_alerter (void **state)
{
    (void) state;
    void *push = s_socket (ZMQ_PUSH, s_sys.ep[EP_ALERTS], false);
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_ALERT;
    m.u.alert.severity = KT_SEV_CRITICAL;
    snprintf (m.u.alert.key, sizeof m.u.alert.key, "system-test.alert");
    snprintf (m.u.alert.text, sizeof m.u.alert.text, "a human must look at this");
    s_send (push, false, "alert.critical", &m, 1);
    const char *line =
        kt_testproc_log_wait (s_sys.procs[0], "alert.deliver", "system-test.alert", 5000);
    assert_non_null (line);
    redisReply *r = s_redis_cmd ("XLEN %s", "kt:alerts:sent");
    assert_true (r->integer >= 1);
    freeReplyObject (r);
    zmq_close (push);
}

static void
test_sigterm_stops_each_within_2s (void **state)
{
    (void) state;
    for (int i = NPROCS - 1; i >= 0; i--) {
        assert_true (kt_testproc_running (s_sys.procs[i]));
        assert_int_equal (kt_testproc_signal (s_sys.procs[i], SIGTERM), 0);
        int status = kt_testproc_wait (s_sys.procs[i], 2000);
        if (status != 0)
            fprintf (stderr, "%s: status %d after SIGTERM\n", s_procs[i], status);
        assert_int_equal (status, 0);
        assert_non_null (kt_testproc_log_wait (s_sys.procs[i], "proc.stop", NULL, 100));
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_process_heartbeats),
        cmocka_unit_test (test_tick_reaches_strategy),
        cmocka_unit_test (test_intent_through_risk_to_exec),
        cmocka_unit_test (test_alert_reaches_alerter),
        cmocka_unit_test (test_sigterm_stops_each_within_2s),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
