/*  exec_test - exec-gateway's context against a canned broker (kt_testhttp) and a real
 *  redis-server: the record before the request, the coid as the tag, idempotency on
 *  coid, each class of answer (accepted, refused, unknown -> settled by tag), the
 *  session, the reply and the published event, Redis down. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "../../exec-gateway/exec.h"
#include "kt_testcfg.h"
#include "kt_testhttp.h"
#include "kt_testredis.h"

#define BOOK_ROW                                                                                   \
    "{\"order_id\":\"151220000000007\",\"status\":\"OPEN\",\"tag\":\"U1\",\"tradingsymbol\":"      \
    "\"NIFTY2611824000CE\",\"transaction_type\":\"SELL\",\"order_type\":\"SL\",\"product\":"       \
    "\"MIS\",\"quantity\":75,\"filled_quantity\":0,\"price\":120,\"trigger_price\":120.05,"        \
    "\"average_price\":0}"

struct fixture {
    kt_testredis_t *redis;
    kt_testhttp_t *broker;
    struct kt_cfg cfg;
    struct exec_cfg ecfg;
    kt_proc_t *proc;
    exec_t *exec;
    redisContext *rc;
};

static struct fixture s_f;

//  The canned broker: places of coid R* are refused (InputException), of U* time out
//  at the server side (503, outcome unknown) and are found in the book by tag; others
//  are accepted.
static int
s_setup (void **state)
{
    memset (&s_f, 0, sizeof s_f);
    s_f.redis = kt_testredis_start ();
    s_f.broker = kt_testhttp_new ();
    if (!s_f.redis || !s_f.broker)
        return -1;
    kt_testhttp_route (s_f.broker, "POST", "/orders/regular", 200, "application/json",
                       "{\"status\":\"success\",\"data\":{\"order_id\":\"151220000000001\"}}");
    kt_testhttp_route (s_f.broker, "GET", "/orders", 200, "application/json",
                       "{\"status\":\"success\",\"data\":[" BOOK_ROW "]}");
    kt_testhttp_route (s_f.broker, "GET", "/orders/151220000000001/trades", 200, "application/json",
                       "{\"status\":\"success\",\"data\":[]}");
    if (kt_testhttp_start (s_f.broker) != 0)
        return -1;
    kt_testcfg_fill (&s_f.cfg, "exec-gateway", s_f.redis->port, "exec");
    kt_testhttp_url (s_f.broker, s_f.cfg.kite_api_url, sizeof s_f.cfg.kite_api_url, "");
    snprintf (s_f.cfg.kite_api_key, sizeof s_f.cfg.kite_api_key, "k");
    snprintf (s_f.cfg.kite_access_token, sizeof s_f.cfg.kite_access_token, "t");
    char err[1024];
    kt_cfg_t *c = kt_cfg_load_file ("/dev/null", "exec-gateway", exec_cfg_table (), &s_f.ecfg, err,
                                    sizeof err);
    kt_cfg_destroy (&c);
    //  Defaults without a file: the table's own.
    s_f.ecfg = (struct exec_cfg){"NFO", "regular", 1800, 10, -1, 8, 2000, 2000,
                                 100,   2,         1,    30, 3,  5, 0,    ""};
    //  The instrument of the orders (lot 75, tick 0.05), as instruments.file.
    snprintf (s_f.cfg.instruments_file, sizeof s_f.cfg.instruments_file, "/tmp/kt-exec-test-%d.csv",
              (int) getpid ());
    FILE *f = fopen (s_f.cfg.instruments_file, "w");
    if (!f)
        return -1;
    fputs ("instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
           "tick_size,lot_size,instrument_type,segment,exchange\n"
           "12345602,48225,NIFTY2611824000CE,NIFTY,150.0,2026-01-18,24000.0,0.05,75,CE,"
           "NFO-OPT,NFO\n",
           f);
    fclose (f);
    s_f.proc = kt_proc_new (&s_f.cfg, "exec-gateway", err, sizeof err);
    if (!s_f.proc)
        return -1;
    kt_log_open ("exec_test", getenv ("EXEC_TEST_LOG") ? KT_LOG_INFO : KT_LOG_OFF);
    s_f.exec = exec_new (s_f.proc, &s_f.ecfg);
    s_f.rc = kt_testredis_connect (s_f.redis);
    *state = &s_f;
    return s_f.exec ? 0 : -1;
}

static int
s_teardown (void **state)
{
    struct fixture *f = *state;
    exec_destroy (&f->exec);
    kt_proc_destroy (&f->proc);
    redisFree (f->rc);
    kt_testhttp_destroy (&f->broker);
    kt_testredis_stop (&f->redis);
    kt_testcfg_cleanup ("exec");
    unlink (f->cfg.instruments_file);
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

static char *
s_hget (struct fixture *f, const char *coid, const char *field)
{
    static char out[256];
    redisReply *r = redisCommand (f->rc, "HGET kt:order:%s %s", coid, field);
    assert_non_null (r);
    snprintf (out, sizeof out, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject (r);
    return out;
}

static int64_t
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Run the loop until order coid has status, at most ms.
static bool
s_until_status (struct fixture *f, const char *coid, const char *status, int ms)
{
    for (int64_t end = s_ms () + ms; s_ms () < end;) {
        kt_loop_run_once (kt_proc_loop (f->proc), 10);
        if (strcmp (s_hget (f, coid, "status"), status) == 0)
            return true;
    }
    print_error ("%s: status %s, wanted %s\n", coid, s_hget (f, coid, "status"), status);
    return false;
}

static void
test_place_accepted_once (void **state)
{
    struct fixture *f = *state;
    struct kt_order_cmd cmd = s_cmd ("C1");
    struct kt_exec_event ev;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_string_equal (ev.coid, "C1");
    //  Recorded before anything left: PENDING_SUBMIT with the command's fields.
    assert_string_equal (s_hget (f, "C1", "qty"), "75");
    assert_string_equal (s_hget (f, "C1", "intent_id"), "I-C1");
    assert_true (s_until_status (f, "C1", "OPEN", 3000));
    assert_string_equal (s_hget (f, "C1", "broker_id"), "151220000000001");
    char *reqs = kt_testhttp_requests (f->broker);
    assert_non_null (strstr (reqs, "POST /orders/regular"));
    assert_non_null (strstr (reqs, "tag=C1"));
    assert_non_null (strstr (reqs, "order_type=SL&price=120&trigger_price=120.05"));
    assert_non_null (strstr (reqs, "Authorization: token k:t"));
    assert_non_null (strstr (reqs, "X-Kite-Version: 3"));
    free (reqs);
    //  The same coid again: the recorded state, no second request.
    int before = kt_testhttp_count (f->broker);
    struct kt_exec_event again;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &again), 0);
    assert_int_equal (again.event, KT_EXEC_ACCEPTED);
    assert_string_equal (again.broker_id, "151220000000001");
    for (int i = 0; i < 20; i++)
        kt_loop_run_once (kt_proc_loop (f->proc), 10);
    reqs = kt_testhttp_requests (f->broker);
    int posts = 0;
    for (const char *p = reqs; (p = strstr (p, "POST /orders/regular")); p++)
        posts++;
    free (reqs);
    assert_int_equal (posts, 1);
    assert_true (kt_testhttp_count (f->broker) >= before);
}

static void
test_refused_before_sending (void **state)
{
    struct fixture *f = *state;
    //  A MARKET order is fine; an SL without a trigger is refused here, recorded, final.
    struct kt_order_cmd cmd = s_cmd ("B1");
    cmd.trigger = 0;
    struct kt_exec_event ev;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_non_null (strstr (ev.reason, "BAD_MSG"));
    assert_string_equal (s_hget (f, "B1", "status"), "REJECTED");
    //  More than ten slices of the freeze quantity.
    cmd = s_cmd ("B2");
    cmd.qty = 18075;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_non_null (strstr (ev.reason, "FREEZE"));
    //  The lot is the instrument's (75 in the instruments file): 50 is not a multiple.
    cmd = s_cmd ("B3");
    cmd.qty = 50;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_non_null (strstr (ev.reason, "LOT: 50 units is not a multiple of the lot (75)"));
    //  Not in today's instruments: refused, entry or exit.
    cmd = s_cmd ("B4");
    snprintf (cmd.sym, sizeof cmd.sym, "NIFTY2611824100CE");
    cmd.purpose = KT_PURPOSE_EXIT;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_non_null (strstr (ev.reason, "INSTRUMENT: NIFTY2611824100CE"));
    //  Malformed.
    cmd = s_cmd ("");
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), -1);
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
    for (int i = 0; i < 20; i++)
        kt_loop_run_once (kt_proc_loop (f->proc), 10);
    zmq_send (dealer, "", 0, ZMQ_SNDMORE);
    zmq_send (dealer, "exec.cmd", 8, ZMQ_SNDMORE);
    zmq_send (dealer, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy (&sb);

    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    char buf[4096], why[128];
    bool got_reply = false, got_accepted = false;
    for (int64_t end = s_ms () + 5000; s_ms () < end && !(got_reply && got_accepted);) {
        kt_loop_run_once (kt_proc_loop (f->proc), 10);
        zmq_pollitem_t items[] = {{dealer, 0, ZMQ_POLLIN, 0}, {sub, 0, ZMQ_POLLIN, 0}};
        zmq_poll (items, 2, 0);
        if (items[0].revents & ZMQ_POLLIN) {
            int n = zmq_recv (dealer, buf, sizeof buf, 0);
            assert_int_equal (n, 0);
            n = zmq_recv (dealer, buf, sizeof buf, 0);
            assert_memory_equal (buf, "exec.SUBMITTED", 14);
            n = zmq_recv (dealer, buf, sizeof buf, 0);
            struct kt_msg reply;
            assert_int_equal (kt_msg_decode (dec, buf, (size_t) n, &reply, why, sizeof why), 0);
            assert_string_equal (reply.u.exec.coid, "C2");
            assert_string_equal (reply.env.src, "exec-gateway");
            got_reply = true;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            zmq_recv (sub, buf, sizeof buf, 0);
            int n = zmq_recv (sub, buf, sizeof buf, 0);
            struct kt_msg ev;
            assert_int_equal (kt_msg_decode (dec, buf, (size_t) n, &ev, why, sizeof why), 0);
            if (strcmp (ev.u.exec.coid, "C2") != 0)
                continue;
            if (ev.u.exec.event == KT_EXEC_ACCEPTED) {
                //  Published after the book has it (the SUBMITTED before it may have gone
                //  out before this subscriber joined).
                assert_string_equal (s_hget (f, "C2", "status"), "OPEN");
                got_accepted = true;
            }
        }
    }
    assert_true (got_reply);
    assert_true (got_accepted);
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
    redisFree (f->rc);
    f->rc = kt_testredis_connect (f->redis);
}

//  exec-gateway stopped, Redis changed by cmd (NULL: nothing), then started again.
static void
s_restart (struct fixture *f, const char *cmd)
{
    exec_destroy (&f->exec);
    if (cmd) {
        redisReply *r = redisCommand (f->rc, cmd);
        assert_non_null (r);
        freeReplyObject (r);
    }
    f->exec = exec_new (f->proc, &f->ecfg);
    assert_non_null (f->exec);
}

//  A crash after a sliced order's parent was recorded SLICED but before its slices were:
//  the restart records the missing slices (never sent, so sent now), each once.
static void
test_restart_records_missing_slices (void **state)
{
    struct fixture *f = *state;
    struct kt_order_cmd cmd = s_cmd ("SL9");
    cmd.order_type = KT_OT_LIMIT;
    cmd.trigger = 0;
    cmd.qty = 1875;
    struct kt_exec_event ev;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_string_equal (s_hget (f, "SL9", "broker_status"), "SLICED");
    assert_string_equal (s_hget (f, "SL9s1", "qty"), "900");
    //  As if the second slice had never been recorded.
    s_restart (f, "DEL kt:order:SL9s1");
    assert_string_equal (s_hget (f, "SL9s1", "qty"), "900");
    assert_string_equal (s_hget (f, "SL9s1", "parent"), "SL9");
    assert_string_equal (s_hget (f, "SL9s0", "qty"), "975");
}

//  A crash between an entry's last fill and its stop's record: the entry is FILLED (not
//  loaded again), its position open without a stop. The restart gives it its stop.
static void
test_restart_protects_filled_entry (void **state)
{
    struct fixture *f = *state;
    kt_store_t *st = kt_proc_store (f->proc);
    struct kt_order_rec o;
    memset (&o, 0, sizeof o);
    snprintf (o.coid, sizeof o.coid, "PR1");
    snprintf (o.intent_id, sizeof o.intent_id, "PR1");
    snprintf (o.sym, sizeof o.sym, "NIFTY2611824000CE");
    o.side = KT_SIDE_SELL;
    o.order_type = KT_OT_MARKET;
    o.product = KT_PROD_MIS;
    o.purpose = KT_PURPOSE_ENTRY;
    o.qty = 75;
    o.stop_trigger = 20000;
    o.stop_price = 21000;
    o.status = KT_OS_OPEN;
    char why[160];
    assert_int_equal (kt_book_order_create (st, &o, 1, NULL, why, sizeof why), 1);
    struct kt_book_fill fl = {.qty = 75, .price = 15000, .ts_ns = 2};
    snprintf (fl.coid, sizeof fl.coid, "PR1");
    snprintf (fl.trade_id, sizeof fl.trade_id, "PRT1");
    struct kt_book_fill_result res;
    assert_int_equal (kt_book_fill (st, &fl, &res, why, sizeof why), 0);
    assert_int_equal (res.pos_qty, -75);
    assert_string_equal (s_hget (f, "PR1-st", "qty"), "");
    s_restart (f, NULL);
    assert_string_equal (s_hget (f, "PR1-st", "qty"), "75");
    assert_string_equal (s_hget (f, "PR1-st", "side"), "BUY");
    assert_string_equal (s_hget (f, "PR1-st", "trigger"), "20000");
    //  Once only: another restart places nothing new.
    s_restart (f, "HSET kt:order:PR1-st status CANCELLED");
    assert_string_equal (s_hget (f, "PR1-st", "status"), "CANCELLED");
    assert_string_equal (s_hget (f, "PR1-s2", "qty"), "");
}

//  An exit's order records why (the journal's exit_reason): the command's reason, as the
//  strategy gave it through risk-gate; a FLATTEN without one is an operator's (MANUAL);
//  a whole-book FLATTEN gives its reason to every exit it places.
static void
test_exit_reasons (void **state)
{
    struct fixture *f = *state;
    //  The short PR1 opened (test_restart_protects_filled_entry) is what is closed.
    struct kt_order_cmd cmd = s_cmd ("FT1");
    cmd.action = KT_ACTION_FLATTEN;
    cmd.side = KT_SIDE_BUY;
    cmd.order_type = KT_OT_MARKET;
    cmd.price = cmd.trigger = 0;
    cmd.purpose = KT_PURPOSE_FLATTEN;
    cmd.reason = KT_EXIT_TARGET_DAY;
    struct kt_exec_event ev;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_string_equal (s_hget (f, "FT1", "exit_reason"), "TARGET_DAY");
    snprintf (cmd.coid, sizeof cmd.coid, "FM1");
    cmd.reason = KT_EXIT_NONE; //  tradectl flatten
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_string_equal (s_hget (f, "FM1", "exit_reason"), "MANUAL");
    cmd = s_cmd ("EX1");
    cmd.side = KT_SIDE_BUY;
    cmd.order_type = KT_OT_MARKET;
    cmd.price = cmd.trigger = 0;
    cmd.purpose = KT_PURPOSE_EXIT;
    cmd.reason = KT_EXIT_TIME;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_string_equal (s_hget (f, "EX1", "exit_reason"), "TIME");
    //  The whole book (risk-gate's on a halt): its exit of the open short says HALT.
    cmd = s_cmd ("FH1");
    cmd.action = KT_ACTION_FLATTEN;
    cmd.sym[0] = '\0';
    cmd.purpose = KT_PURPOSE_FLATTEN;
    cmd.reason = KT_EXIT_HALT;
    assert_int_equal (exec_handle_command (f->exec, &cmd, &ev), 0);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    //  coid: the FLATTEN's, the round (1) and the symbol's last three characters
    for (int64_t end = s_ms () + 15000; s_ms () < end && !s_hget (f, "FH1-x10CE", "qty")[0];)
        kt_loop_run_once (kt_proc_loop (f->proc), 10);
    assert_string_equal (s_hget (f, "FH1-x10CE", "side"), "BUY");
    assert_string_equal (s_hget (f, "FH1-x10CE", "exit_reason"), "HALT");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_place_accepted_once),
        cmocka_unit_test (test_refused_before_sending),
        cmocka_unit_test (test_over_the_bus),
        cmocka_unit_test (test_restart_records_missing_slices),
        cmocka_unit_test (test_restart_protects_filled_entry),
        cmocka_unit_test (test_exit_reasons),
        cmocka_unit_test (test_store_down_rejects_without_record),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
