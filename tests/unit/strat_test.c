/*  strat_test - the strategy process's context: market data counted, intents sent to
 *  risk-gate through the lazy-pirate client, decisions and time-outs handled. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "../../strategy/strat.h"
#include "kt_testctx.h"

static int s_requests;
static bool s_answer;

//  The test's risk-gate: answers every intent with APPROVE when s_answer is set.
static int
s_on_intent (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
             void *arg)
{
    (void) topic;
    void **router = arg;
    assert_int_equal (m->env.type, KT_MSG_ORDER_INTENT);
    assert_string_equal (m->u.intent.strategy, "S1");
    s_requests++;
    if (!s_answer)
        return 0;
    struct kt_msg reply;
    memset (&reply, 0, sizeof reply);
    reply.env.type = KT_MSG_RISK_DECISION;
    snprintf (reply.u.decision.intent_id, sizeof reply.u.decision.intent_id, "%s",
              m->u.intent.intent_id);
    reply.u.decision.verdict = KT_VERDICT_APPROVE;
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
    struct strat_cfg cfg = {.id = "S1", .name = "baseline_v1"};
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

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ticks_and_decisions),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
