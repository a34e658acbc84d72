/*  exec_test - exec-gateway's command handling: idempotency on coid, the record in
 *  Redis before any reply, the reply and the published event, Redis down. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "../../exec-gateway/exec.h"
#include "kt_testcfg.h"
#include "kt_testredis.h"

struct fixture {
    kt_testredis_t *redis;
    struct kt_cfg cfg;
    kt_proc_t *proc;
    exec_t *exec;
};

static int
s_setup (void **state)
{
    static struct fixture f;
    memset (&f, 0, sizeof f);
    f.redis = kt_testredis_start ();
    if (!f.redis)
        return -1;
    kt_testcfg_fill (&f.cfg, "exec-gateway", f.redis->port, "exec");
    char err[256];
    f.proc = kt_proc_new (&f.cfg, "exec-gateway", err, sizeof err);
    if (!f.proc)
        return -1;
    kt_log_open ("exec_test", KT_LOG_OFF);
    f.exec = exec_new (f.proc);
    *state = &f;
    return f.exec? 0: -1;
}

static int
s_teardown (void **state)
{
    struct fixture *f = *state;
    exec_destroy (&f->exec);
    kt_proc_destroy (&f->proc);
    kt_testredis_stop (&f->redis);
    kt_testcfg_cleanup ("exec");
    return 0;
}

static struct kt_order_cmd
s_cmd (const char *coid)
{
    struct kt_order_cmd c;
    memset (&c, 0, sizeof c);
    snprintf (c.coid, sizeof c.coid, "%s", coid);
    snprintf (c.intent_id, sizeof c.intent_id, "I-%s", coid);
    snprintf (c.sym, sizeof c.sym, "NIFTY2611824000CE");
    c.action = KT_ACTION_PLACE;
    c.side = KT_SIDE_SELL;
    c.qty = 75;
    c.order_type = KT_OT_SL;
    c.price = 12000;
    c.trigger = 12005;
    c.product = KT_PROD_MIS;
    c.purpose = KT_PURPOSE_ENTRY;
    return c;
}

static long long
s_int (redisContext *c, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand (c, fmt, arg);
    assert_non_null (r);
    long long v = r->type == REDIS_REPLY_INTEGER? r->integer
                : r->type == REDIS_REPLY_STRING? strtoll (r->str, NULL, 10): -1;
    freeReplyObject (r);
    return v;
}

static void
test_command_recorded_then_rejected_once (void **state)
{
    struct fixture *f = *state;
    struct kt_order_cmd cmd = s_cmd ("C1");
    struct kt_exec_event ev;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_string_equal (ev.coid, "C1");
    assert_non_null (strstr (ev.reason, "not enabled"));
    kt_store_flush (kt_proc_store (f->proc), 1000); //  the event is queued on the loop

    redisContext *c = kt_testredis_connect (f->redis);
    redisReply *r = redisCommand (c, "HGET kt:order:C1 status");
    assert_string_equal (r->str, "REJECTED");
    freeReplyObject (r);
    r = redisCommand (c, "HGET kt:order:C1 qty");
    assert_string_equal (r->str, "75");
    freeReplyObject (r);
    assert_int_equal (s_int (c, "XLEN %s", "kt:events"), 1);

    //  The same coid again: the recorded outcome, no second record.
    struct kt_exec_event again;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &again), 0);
    assert_int_equal (again.event, KT_EXEC_REJECTED);
    assert_string_equal (again.reason, ev.reason);
    assert_string_equal (again.intent_id, "I-C1");
    assert_int_equal (s_int (c, "XLEN %s", "kt:events"), 1);
    assert_int_equal (kt_proc_beat (f->proc), 0);
    assert_int_equal (s_int (c, "HGET %s duplicates", "kt:health:exec-gateway"), 1);
    redisFree (c);
}

static void
test_malformed_command (void **state)
{
    struct fixture *f = *state;
    struct kt_order_cmd cmd = s_cmd ("");
    struct kt_exec_event ev;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), -1);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_non_null (strstr (ev.reason, "BAD_MSG"));
}

static void
test_over_the_bus (void **state)
{
    struct fixture *f = *state;
    void *zctx = zmq_ctx_new ();
    void *dealer = zmq_socket (zctx, ZMQ_DEALER);
    void *sub = zmq_socket (zctx, ZMQ_SUB);
    int zero = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (sub, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_connect (dealer, f->cfg.ep_exec), 0);
    assert_int_equal (zmq_connect (sub, f->cfg.ep_exec_pub), 0);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "exec.", 5);

    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.v = KT_MSG_VERSION;
    m.env.type = KT_MSG_ORDER_COMMAND;
    m.env.seq = 1;
    m.env.ts_ns = 1;
    snprintf (m.env.src, sizeof m.env.src, "risk-gate");
    m.u.cmd = s_cmd ("C2");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (kt_msg_encode (&m, &sb), 0);

    //  Let the SUB join before the event is published (slow joiner).
    for (int i = 0; i < 20; i++)
        kt_loop_run_once (kt_proc_loop (f->proc), 10);
    zmq_send (dealer, "", 0, ZMQ_SNDMORE);
    zmq_send (dealer, "exec.cmd", 8, ZMQ_SNDMORE);
    zmq_send (dealer, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy (&sb);

    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    char buf[4096], why[128];
    int got_reply = 0, got_event = 0;
    for (int i = 0; i < 200 && !(got_reply && got_event); i++) {
        kt_loop_run_once (kt_proc_loop (f->proc), 10);
        zmq_pollitem_t items[] = { { dealer, 0, ZMQ_POLLIN, 0 }, { sub, 0, ZMQ_POLLIN, 0 } };
        zmq_poll (items, 2, 0);
        if (items[0].revents & ZMQ_POLLIN) {
            int n = zmq_recv (dealer, buf, sizeof buf, 0);      //  empty delimiter
            assert_int_equal (n, 0);
            n = zmq_recv (dealer, buf, sizeof buf, 0);          //  topic
            assert_memory_equal (buf, "exec.rejected", 13);
            n = zmq_recv (dealer, buf, sizeof buf, 0);
            struct kt_msg reply;
            assert_int_equal (kt_msg_decode (dec, buf, (size_t) n, &reply, why, sizeof why), 0);
            assert_int_equal (reply.env.type, KT_MSG_EXEC_EVENT);
            assert_string_equal (reply.u.exec.coid, "C2");
            assert_string_equal (reply.env.src, "exec-gateway");
            got_reply = 1;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            int n = zmq_recv (sub, buf, sizeof buf, 0);
            assert_int_equal (n, 13);
            n = zmq_recv (sub, buf, sizeof buf, 0);
            struct kt_msg ev;
            assert_int_equal (kt_msg_decode (dec, buf, (size_t) n, &ev, why, sizeof why), 0);
            assert_int_equal (ev.u.exec.event, KT_EXEC_REJECTED);
            got_event = 1;
        }
    }
    assert_true (got_reply);
    assert_true (got_event);
    kt_msg_decoder_destroy (&dec);
    zmq_close (dealer);
    zmq_close (sub);
    zmq_ctx_term (zctx);
}

static void
test_store_down_rejects_without_record (void **state)
{
    struct fixture *f = *state;
    assert_int_equal (kt_testredis_kill (f->redis), 0);
    struct kt_order_cmd cmd = s_cmd ("C3");
    struct kt_exec_event ev;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_non_null (strstr (ev.reason, "STORE_DOWN"));
    assert_int_equal (kt_testredis_restart_same_port (f->redis), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_command_recorded_then_rejected_once),
        cmocka_unit_test (test_malformed_command),
        cmocka_unit_test (test_over_the_bus),
        cmocka_unit_test (test_store_down_rejects_without_record),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
