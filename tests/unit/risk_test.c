/*  risk_test - the risk-gate process on real ZeroMQ sockets (ipc) and a real Redis,
 *  driven step by step with kt_loop_run_once. The test plays strategy (a request client
 *  on `risk`), exec-gateway (a ROUTER on `exec` and a PUB on `exec_pub`) and md-gateway
 *  (a PUB on `md`), and listens on `risk_pub`.
 *
 *  Shown: start-up in REDUCING (entries refused, nothing sent), ACTIVE after the
 *  reconciler's agreement, an approved entry reaching exec-gateway as ORDER_COMMAND with
 *  coid = intent_id, the caller's decision, a fill on exec_pub changing the book, a
 *  duplicate answered without a second order, the kill switch set by hand halting and
 *  cancelling entries with RISK_STATE published; and the real binary stopping on SIGTERM
 *  within 2 s. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <cmocka.h>
#include <zmq.h>
#include <msgpack.h>

#include "../../risk-gate/risk.h"
#include "kt_book.h"
#include "kt_testcfg.h"
#include "kt_testproc.h"
#include "kt_testredis.h"

#define SYM "NIFTY25NOV24000CE"

static struct {
    kt_store_t *book; //  exec-gateway's connection: it writes the book
    kt_testredis_t *srv;
    redisContext *peek;
    struct kt_cfg cfg;
    struct risk_cfg rcfg;
    kt_proc_t *proc;
    risk_t *risk;
    char csv[64];
    //  the test's side of the sockets
    kt_bus_t *bus;
    kt_loop_t *loop;
    kt_bus_client_t *client;
    void *exec_router, *exec_pub, *md_pub, *state_sub;
    struct kt_msg reply;
    bool replied;
    struct kt_msg rx;
} F;

static void
s_on_reply (kt_bus_client_t *client, const char *req_id, const struct kt_msg *reply, void *arg)
{
    (void) client;
    (void) req_id;
    (void) arg;
    F.replied = reply != NULL;
    if (reply)
        F.reply = *reply;
}

//  Run both loops a little.
static void
s_pump (int rounds)
{
    for (int i = 0; i < rounds; i++) {
        kt_loop_run_once (kt_proc_loop (F.proc), 2);
        kt_loop_run_once (F.loop, 2);
    }
}

static struct kt_decision
s_ask (const struct kt_intent *in)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_ORDER_INTENT;
    m.u.intent = *in;
    F.replied = false;
    assert_int_equal (kt_bus_client_send (F.client, in->intent_id, "risk.intent", &m), 0);
    for (int i = 0; i < 500 && !F.replied; i++)
        s_pump (1);
    assert_true (F.replied);
    assert_int_equal (F.reply.env.type, KT_MSG_RISK_DECISION);
    return F.reply.u.decision;
}

//  The next ORDER_COMMAND at the fake exec-gateway (answered ACCEPTED), or false.
static bool
s_command (struct kt_order_cmd *cmd)
{
    char topic[KT_TOPIC_LEN], why[128];
    kt_bus_peer_t peer;
    for (int i = 0; i < 100; i++) {
        s_pump (1);
        int rc = kt_bus_recv_req (F.bus, F.exec_router, &peer, topic, sizeof topic, &F.rx, why,
                                  sizeof why);
        if (rc == 0) {
            assert_int_equal (F.rx.env.type, KT_MSG_ORDER_COMMAND);
            *cmd = F.rx.u.cmd;
            struct kt_msg ack;
            memset (&ack, 0, sizeof ack);
            ack.env.type = KT_MSG_EXEC_EVENT;
            snprintf (ack.u.exec.coid, sizeof ack.u.exec.coid, "%s", cmd->coid);
            snprintf (ack.u.exec.sym, sizeof ack.u.exec.sym, "%s", cmd->sym);
            ack.u.exec.side = cmd->side;
            ack.u.exec.event = KT_EXEC_ACCEPTED;
            ack.u.exec.qty = cmd->qty;
            char topic_ack[KT_TOPIC_LEN];
            kt_exec_topic (KT_EXEC_ACCEPTED, topic_ack, sizeof topic_ack);
            assert_int_equal (kt_bus_reply (F.bus, F.exec_router, &peer, topic_ack, &ack), 0);
            s_pump (5);
            return true;
        }
    }
    return false;
}

//  The latest RISK_STATE seen on risk_pub within a few rounds, or NONE.
static kt_trading_state_t
s_state_seen (int rounds)
{
    kt_trading_state_t st = KT_STATE_NONE;
    char topic[KT_TOPIC_LEN], why[128];
    for (int i = 0; i < rounds; i++) {
        s_pump (1);
        while (kt_bus_recv (F.bus, F.state_sub, topic, sizeof topic, &F.rx, why, sizeof why) == 0)
            if (F.rx.env.type == KT_MSG_RISK_STATE)
                st = F.rx.u.risk_state.state;
    }
    return st;
}

static struct kt_intent
s_entry (const char *id)
{
    struct kt_intent in;
    memset (&in, 0, sizeof in);
    snprintf (in.intent_id, sizeof in.intent_id, "%s", id);
    snprintf (in.strategy, sizeof in.strategy, "S1");
    snprintf (in.sym, sizeof in.sym, SYM);
    in.side = KT_SIDE_SELL;
    in.qty = 75;
    in.order_type = KT_OT_SL;
    in.trigger = 9900;
    in.price = 9800;
    in.product = KT_PROD_MIS;
    in.purpose = KT_PURPOSE_ENTRY;
    in.has_stop = true;
    in.stop_trigger = 11000;
    return in;
}

static void
s_tick (int64_t ltp)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_TICK;
    m.u.tick.token = 1001;
    snprintf (m.u.tick.sym, sizeof m.u.tick.sym, SYM);
    m.u.tick.ltp = ltp;
    m.u.tick.recv_ts_ns = kt_proc_now_ns (F.proc); //  what freshness is judged on
    assert_int_equal (kt_bus_publish (F.bus, F.md_pub, "md.tick." SYM, &m), 0);
    s_pump (5);
}

static int64_t
s_hget (const char *key, const char *field)
{
    redisReply *r = redisCommand (F.peek, "HGET %s %s", key, field);
    int64_t v = r && r->type == REDIS_REPLY_STRING ? strtoll (r->str, NULL, 10) : -1;
    if (r)
        freeReplyObject (r);
    return v;
}

static void
test_process (void **state)
{
    (void) state;
    //  Start-up: REDUCING, entries refused and nothing sent.
    assert_int_equal (s_state_seen (60), KT_STATE_REDUCING);
    s_tick (10000);
    struct kt_intent in = s_entry ("T-1");
    struct kt_decision d = s_ask (&in);
    assert_int_equal (d.verdict, KT_VERDICT_BLOCK);
    assert_string_equal (d.reasons[0].code, "STATE");
    struct kt_order_cmd cmd;
    assert_false (s_command (&cmd));

    //  The reconciler agrees (pipeline time of the shared sim clock): ACTIVE.
    int64_t now = kt_proc_now_ns (F.proc);
    freeReplyObject (
        redisCommand (F.peek, "HSET kt:recon:last session_ok 1 agree_ns %lld", (long long) now));
    assert_int_equal (s_state_seen (100), KT_STATE_ACTIVE);

    s_tick (10000);
    in = s_entry ("T-2");
    d = s_ask (&in);
    assert_int_equal (d.verdict, KT_VERDICT_APPROVE);
    assert_string_equal (d.coid, "T-2");
    assert_true (s_command (&cmd));
    assert_int_equal (cmd.action, KT_ACTION_PLACE);
    assert_string_equal (cmd.coid, "T-2");
    assert_int_equal (cmd.qty, 75);
    assert_int_equal (cmd.stop_trigger, 11000);

    //  The same intent again: the first answer, no second command.
    d = s_ask (&in);
    assert_int_equal (d.verdict, KT_VERDICT_APPROVE);
    assert_false (s_command (&cmd));

    //  The fill: exec-gateway records the order and applies the fill to the book, then
    //  publishes it; risk-gate settles its held order from the book.
    char why[200];
    struct kt_order_rec rec;
    memset (&rec, 0, sizeof rec);
    snprintf (rec.coid, sizeof rec.coid, "T-2");
    snprintf (rec.intent_id, sizeof rec.intent_id, "T-2");
    snprintf (rec.sym, sizeof rec.sym, SYM);
    rec.side = KT_SIDE_SELL;
    rec.purpose = KT_PURPOSE_ENTRY;
    rec.order_type = cmd.order_type;
    rec.product = KT_PROD_MIS;
    rec.qty = 75;
    rec.status = KT_OS_OPEN;
    assert_int_equal (kt_book_order_create (F.book, &rec, 1, NULL, why, sizeof why), 1);
    struct kt_book_fill bf = {.qty = 75, .price = 9800, .ts_ns = 1};
    snprintf (bf.coid, sizeof bf.coid, "T-2");
    snprintf (bf.trade_id, sizeof bf.trade_id, "TR-1");
    struct kt_book_fill_result res;
    assert_int_equal (kt_book_fill (F.book, &bf, &res, why, sizeof why), 0);
    struct kt_msg fill;
    memset (&fill, 0, sizeof fill);
    fill.env.type = KT_MSG_EXEC_EVENT;
    snprintf (fill.u.exec.coid, sizeof fill.u.exec.coid, "T-2");
    snprintf (fill.u.exec.sym, sizeof fill.u.exec.sym, SYM);
    fill.u.exec.side = KT_SIDE_SELL;
    fill.u.exec.event = KT_EXEC_FILLED;
    fill.u.exec.qty = fill.u.exec.filled_qty = fill.u.exec.last_qty = 75;
    fill.u.exec.last_px = fill.u.exec.avg_px = 9800;
    char topic_fill[KT_TOPIC_LEN];
    kt_exec_topic (KT_EXEC_FILLED, topic_fill, sizeof topic_fill);
    assert_int_equal (kt_bus_publish (F.bus, F.exec_pub, topic_fill, &fill), 0);
    for (int i = 0; i < 100 && s_hget ("kt:intent:T-2", "filled") != 75; i++)
        s_pump (1);
    assert_int_equal (s_hget ("kt:intent:T-2", "filled"), 75);
    assert_int_equal (s_hget ("kt:intent:T-2", "resv"), 0);
    assert_int_equal (s_hget ("kt:pos:" SYM, "qty"), -75);

    //  The kill switch by hand: HALTED, pending entries cancelled, RISK_STATE published.
    freeReplyObject (redisCommand (F.peek, "HSET kt:risk:kill active 1 reason %s", "test"));
    assert_true (s_command (&cmd));
    assert_int_equal (cmd.action, KT_ACTION_CANCEL_ALL);
    assert_int_equal (s_state_seen (60), KT_STATE_HALTED);
    //  the exit still goes through
    struct kt_intent ex = s_entry ("T-3");
    ex.purpose = KT_PURPOSE_EXIT;
    ex.side = KT_SIDE_BUY;
    ex.order_type = KT_OT_LIMIT;
    ex.price = 10000;
    ex.has_stop = false;
    d = s_ask (&ex);
    assert_int_equal (d.verdict, KT_VERDICT_APPROVE);
    assert_true (s_command (&cmd));
    assert_int_equal (cmd.action, KT_ACTION_PLACE);
    assert_int_equal (cmd.purpose, KT_PURPOSE_EXIT);
    //  heartbeat counters
    assert_int_equal (kt_proc_beat (F.proc), 0);
    //  the heartbeat is a queued write: the loop sends it
    for (int i = 0; i < 200 && s_hget ("kt:health:risk-gate", "decisions") < 4; i++)
        s_pump (1);
    assert_true (s_hget ("kt:health:risk-gate", "decisions") >= 4);
    assert_true (s_hget ("kt:health:risk-gate", "bad_requests") >= 0);
}

//  Send topic + body as they are on a REQ socket of its own, and wait for the answer:
//  every request that reaches the gate is answered. Returns the decision.
static struct kt_decision
s_raw_ask (const void *body, size_t len)
{
    void *req = kt_bus_connect (F.bus, "risk", ZMQ_REQ);
    assert_non_null (req);
    assert_int_equal (zmq_send (req, "risk.intent", 11, ZMQ_SNDMORE), 11);
    assert_int_equal (zmq_send (req, body, len, 0), (int) len);
    static char buf[4096];
    int got = -1;
    char topic[64];
    for (int i = 0; i < 500 && got < 0; i++) {
        s_pump (1);
        int tn = zmq_recv (req, topic, sizeof topic, ZMQ_DONTWAIT);
        if (tn < 0)
            continue;
        got = zmq_recv (req, buf, sizeof buf, 0);
    }
    assert_true (got > 0);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct kt_msg m;
    char why[160] = "";
    int rc = kt_msg_decode (dec, buf, (size_t) got, &m, why, sizeof why);
    if (rc != 0)
        fprintf (stderr, "reply: %s\n", why);
    assert_int_equal (rc, 0);
    kt_msg_decoder_destroy (&dec);
    kt_bus_close (F.bus, req);
    assert_int_equal (m.env.type, KT_MSG_RISK_DECISION);
    return m.u.decision;
}

//  A body with the envelope, then an intent's keys (an exit's reason when reason is not
//  NULL), packed by hand so it can be wrong.
static size_t
s_body_why (msgpack_sbuffer *sb, const char *type, const char *id, const char *side, int64_t price,
            const char *reason)
{
    msgpack_sbuffer_init (sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, reason ? 13 : 12);
#define S_KEY(k) msgpack_pack_str (&pk, strlen (k)), msgpack_pack_str_body (&pk, k, strlen (k))
#define S_STR(v) msgpack_pack_str (&pk, strlen (v)), msgpack_pack_str_body (&pk, v, strlen (v))
    S_KEY ("v"), msgpack_pack_int (&pk, 1);
    S_KEY ("type"), S_STR (type);
    S_KEY ("seq"), msgpack_pack_int (&pk, 1);
    S_KEY ("ts"), msgpack_pack_int64 (&pk, 1);
    S_KEY ("src"), S_STR ("tester");
    S_KEY ("intent_id"), S_STR (id);
    S_KEY ("sym"), S_STR (SYM);
    S_KEY ("side"), S_STR (side);
    S_KEY ("qty"), msgpack_pack_int (&pk, 75);
    S_KEY ("order_type"), S_STR ("LIMIT");
    S_KEY ("price"), msgpack_pack_int64 (&pk, price);
    S_KEY ("purpose"), S_STR (reason ? "EXIT" : "ENTRY");
    if (reason)
        S_KEY ("reason"), S_STR (reason);
#undef S_KEY
#undef S_STR
    return sb->size;
}

static size_t
s_body (msgpack_sbuffer *sb, const char *type, const char *id, const char *side, int64_t price)
{
    return s_body_why (sb, type, id, side, price, NULL);
}

static void
s_assert_bad (const struct kt_decision *d, const char *id)
{
    assert_string_equal (d->intent_id, id);
    assert_int_equal (d->verdict, KT_VERDICT_BLOCK);
    assert_int_equal (d->nreasons, 1);
    assert_string_equal (d->reasons[0].code, "BAD_INTENT");
    assert_true (strlen (d->reasons[0].text) > 20);
}

//  Every request that reaches the gate gets an answer: malformed msgpack, a negative
//  price, an unknown enum value (an exit reason too), an id over 20 characters, a body over 64 KiB
//  and a message that is not an ORDER_INTENT are answered BAD_INTENT with the reason, with the
//  intent_id where it could be read; the gate still decides good ones afterwards.
static void
test_bad_requests_answered (void **state)
{
    (void) state;
    struct kt_decision d = s_raw_ask ("\xc1garbage", 8);
    s_assert_bad (&d, "");
    msgpack_sbuffer sb;
    d = s_raw_ask (sb.data, s_body (&sb, "ORDER_INTENT", "NEG-1", "BUY", -500));
    msgpack_sbuffer_destroy (&sb);
    s_assert_bad (&d, "NEG-1");
    assert_non_null (strstr (d.reasons[0].text, "price"));
    d = s_raw_ask (sb.data, s_body (&sb, "ORDER_INTENT", "ENUM-1", "SIDEWAYS", 10000));
    msgpack_sbuffer_destroy (&sb);
    s_assert_bad (&d, "ENUM-1");
    //  an exit's reason outside the fixed set (the backtest's exit_reason names)
    d = s_raw_ask (sb.data, s_body_why (&sb, "ORDER_INTENT", "WHY-1", "SELL", 10000, "SOMEDAY"));
    msgpack_sbuffer_destroy (&sb);
    s_assert_bad (&d, "WHY-1");
    assert_non_null (strstr (d.reasons[0].text, "reason"));
    d = s_raw_ask (sb.data, s_body (&sb, "ORDER_INTENT", "AN-ID-OF-25-CHARACTERS-X", "BUY", 1));
    msgpack_sbuffer_destroy (&sb);
    s_assert_bad (&d, "");
    d = s_raw_ask (sb.data, s_body (&sb, "TICK", "TYPE-1", "BUY", 10000));
    msgpack_sbuffer_destroy (&sb);
    s_assert_bad (&d, "");
    static char big[70 * 1024];
    memset (big, 0xc0, sizeof big);
    d = s_raw_ask (big, sizeof big);
    s_assert_bad (&d, "");
    //  and the gate goes on deciding
    struct kt_intent in;
    memset (&in, 0, sizeof in);
    snprintf (in.intent_id, sizeof in.intent_id, "AFTER-1");
    snprintf (in.sym, sizeof in.sym, SYM);
    in.side = KT_SIDE_BUY;
    in.qty = 75;
    in.order_type = KT_OT_LIMIT;
    in.price = 10000;
    in.product = KT_PROD_MIS;
    in.purpose = KT_PURPOSE_ENTRY;
    d = s_ask (&in);
    assert_string_equal (d.intent_id, "AFTER-1");
}

//  The real binary: starts, then stops on SIGTERM within 2 s with exit code 0.
static void
test_binary_sigterm (void **state)
{
    (void) state;
    char cfgpath[] = "/tmp/risk_test_cfg_XXXXXX";
    int fd = mkstemp (cfgpath);
    assert_true (fd >= 0);
    //  A config of its own: defaults for everything but Redis, private ipc endpoints and
    //  the simulated clock.
    int pid = (int) getpid ();
    char text[2048];
    int n = snprintf (text, sizeof text,
                      "{ \"mode\": \"sim\",\n"
                      "  \"redis\": { \"port\": %d },\n"
                      "  \"clock\": { \"mode\": \"sim\", \"date\": \"2025-11-24\", "
                      "\"start\": \"10:00\" },\n"
                      "  \"bus\": { \"md\": \"ipc:///tmp/rtb-%d-md\", "
                      "\"risk\": \"ipc:///tmp/rtb-%d-risk\", "
                      "\"risk_pub\": \"ipc:///tmp/rtb-%d-risk_pub\", "
                      "\"exec\": \"ipc:///tmp/rtb-%d-exec\", "
                      "\"exec_pub\": \"ipc:///tmp/rtb-%d-exec_pub\", "
                      "\"alerts\": \"ipc:///tmp/rtb-%d-alerts\" },\n"
                      "  \"risk\": { \"max_lots\": 8 } }\n",
                      F.srv->port, pid, pid, pid, pid, pid, pid);
    assert_int_equal (write (fd, text, (size_t) n), (ssize_t) n);
    close (fd);
    const char *args[] = {"-c", cfgpath, NULL};
    kt_testproc_t *p = kt_testproc_start ("risk-gate", args, NULL);
    if (!p)
        unlink (cfgpath);
    //  A missing binary is a failure, never a skip: `make all` builds it.
    assert_non_null (p);
    const char *line = kt_testproc_log_wait (p, "proc.start", NULL, 5000);
    if (!line)
        kt_testproc_log_dump (p, 0);
    assert_non_null (line);
    assert_int_equal (kt_testproc_signal (p, SIGTERM), 0);
    int64_t t0 = kt_testproc_elapsed_ms (p);
    int rc = kt_testproc_wait (p, 2000);
    assert_int_equal (rc, 0);
    assert_true (kt_testproc_elapsed_ms (p) - t0 <= 2000);
    kt_testproc_destroy (&p);
    unlink (cfgpath);
    const char *names[] = {"md", "risk", "risk_pub", "exec", "exec_pub", "alerts"};
    for (int i = 0; i < 6; i++) {
        char path[64];
        snprintf (path, sizeof path, "/tmp/rtb-%d-%s", pid, names[i]);
        unlink (path);
    }
}

static int
s_setup (void **state)
{
    (void) state;
    F.srv = kt_testredis_start ();
    if (!F.srv)
        return -1;
    F.peek = kt_testredis_connect (F.srv);
    F.book = kt_store_new ("127.0.0.1", F.srv->port, "kt:", 2000);
    if (kt_store_connect (F.book) != 0)
        return -1;
    kt_testcfg_fill (&F.cfg, "risk-gate", F.srv->port, "risk");
    snprintf (F.cfg.clock_mode, sizeof F.cfg.clock_mode, "sim");
    snprintf (F.cfg.clock_date, sizeof F.cfg.clock_date, "2025-11-24");
    snprintf (F.cfg.clock_start, sizeof F.cfg.clock_start, "10:00");
    F.cfg.clock_speed = 1.0;
    snprintf (F.csv, sizeof F.csv, "/tmp/risk_test_instr_%d.csv", (int) getpid ());
    FILE *f = fopen (F.csv, "w");
    fprintf (f, "%s\n1001,1,%s,NIFTY,100,2025-11-27,24000,0.05,75,CE,NFO-OPT,NFO\n",
             KT_INSTR_CSV_HEADER, SYM);
    fclose (f);
    snprintf (F.cfg.instruments_file, sizeof F.cfg.instruments_file, "%s", F.csv);
    risk_cfg_defaults (&F.rcfg);
    F.rcfg.state_pub_ms = 100;
    F.rcfg.poll_ms = 20;
    //  the test's sockets first, so risk-gate's connects find them bound
    F.bus = kt_bus_new (&F.cfg, NULL, "tester", 1);
    F.loop = kt_loop_new ();
    F.exec_router = kt_bus_bind (F.bus, "exec", ZMQ_ROUTER);
    F.exec_pub = kt_bus_bind (F.bus, "exec_pub", ZMQ_PUB);
    F.md_pub = kt_bus_bind (F.bus, "md", ZMQ_PUB);
    char err[256];
    F.proc = kt_proc_new (&F.cfg, "risk-gate", err, sizeof err);
    if (!F.proc) {
        fprintf (stderr, "proc: %s\n", err);
        return -1;
    }
    kt_log_open ("risk_test", KT_LOG_OFF);
    F.risk = risk_new (F.proc, &F.rcfg);
    if (!F.risk)
        return -1;
    F.state_sub = kt_bus_connect (F.bus, "risk_pub", ZMQ_SUB);
    kt_bus_subscribe (F.bus, F.state_sub, "risk.");
    F.client = kt_bus_client_new (F.bus, F.loop, "risk", 2000, 1, s_on_reply, NULL);
    s_pump (20); //  let the connections settle
    return F.exec_router && F.exec_pub && F.md_pub && F.client ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    risk_destroy (&F.risk);
    kt_proc_destroy (&F.proc);
    kt_bus_client_destroy (&F.client);
    kt_bus_destroy (&F.bus);
    kt_loop_destroy (&F.loop);
    kt_testcfg_cleanup ("risk");
    unlink (F.csv);
    redisFree (F.peek);
    kt_store_destroy (&F.book);
    kt_testredis_stop (&F.srv);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_process),
        cmocka_unit_test (test_bad_requests_answered),
        cmocka_unit_test (test_binary_sigterm),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
