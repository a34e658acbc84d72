/*  risk_reply_test - messages from results: the decision (codes as names), the command
 *  of each purpose (coid = intent_id), the halt's commands (ids from the halt number),
 *  reasons joined for Redis and split back, separators inside texts made harmless, and
 *  every message encodes (kt_msg_check). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"

//  The envelope the bus fills on send.
static void
s_env (struct kt_msg *m, kt_msg_type_t type)
{
    memset (m, 0, sizeof *m);
    m->env.v = KT_MSG_VERSION;
    m->env.type = type;
    m->env.seq = 1;
    m->env.ts_ns = 1;
    snprintf (m->env.src, sizeof m->env.src, "risk-gate");
}

static struct kt_intent
s_intent (kt_purpose_t p)
{
    struct kt_intent in;
    memset (&in, 0, sizeof in);
    snprintf (in.intent_id, sizeof in.intent_id, "S1-0042");
    snprintf (in.sym, sizeof in.sym, "NIFTY25NOV24000CE");
    in.side = KT_SIDE_SELL;
    in.qty = 150;
    in.order_type = KT_OT_SL;
    in.price = 9800;
    in.trigger = 9900;
    in.product = KT_PROD_MIS;
    in.purpose = p;
    in.has_stop = true;
    in.stop_trigger = 11000;
    return in;
}

static void
test_decision (void **state)
{
    (void) state;
    struct kt_intent in = s_intent (KT_PURPOSE_ENTRY);
    struct risk_decided d;
    memset (&d, 0, sizeof d);
    d.verdict = KT_VERDICT_REDUCE;
    d.qty = 75;
    d.state = KT_STATE_ACTIVE;
    snprintf (d.coid, sizeof d.coid, "S1-0042");
    d.nreasons = 1;
    d.reasons[0].code = KT_R_MAX_LOTS;
    snprintf (d.reasons[0].text, sizeof d.reasons[0].text, "2 lots > max 1");
    struct kt_msg m;
    s_env (&m, KT_MSG_RISK_DECISION);
    risk_reply_decision (&in, &d, &m.u.decision);
    assert_string_equal (m.u.decision.intent_id, "S1-0042");
    assert_string_equal (m.u.decision.reasons[0].code, "MAX_LOTS");
    assert_int_equal (m.u.decision.qty, 75);
    char why[128] = "";
    int rc = kt_msg_check (&m, why, sizeof why);
    if (rc != 0)
        fprintf (stderr, "check: %s\n", why);
    assert_int_equal (rc, 0);
}

static void
test_commands (void **state)
{
    (void) state;
    const kt_purpose_t p[] = {KT_PURPOSE_ENTRY,  KT_PURPOSE_EXIT,   KT_PURPOSE_STOP,
                              KT_PURPOSE_MODIFY, KT_PURPOSE_CANCEL, KT_PURPOSE_FLATTEN};
    const kt_action_t a[] = {KT_ACTION_PLACE,  KT_ACTION_PLACE,  KT_ACTION_PLACE,
                             KT_ACTION_MODIFY, KT_ACTION_CANCEL, KT_ACTION_FLATTEN};
    for (int i = 0; i < 6; i++) {
        struct kt_intent in = s_intent (p[i]);
        snprintf (in.ref, sizeof in.ref, "S1-0001");
        struct kt_msg m;
        s_env (&m, KT_MSG_ORDER_COMMAND);
        risk_reply_command (&in, in.intent_id, 75, &m.u.cmd);
        assert_int_equal (m.u.cmd.action, a[i]);
        assert_string_equal (m.u.cmd.coid, "S1-0042");
        assert_string_equal (m.u.cmd.ref, "S1-0001");
        assert_int_equal (m.u.cmd.qty, 75);
        assert_int_equal (m.u.cmd.stop_trigger, 11000);
        char why[128] = "";
        int rc = kt_msg_check (&m, why, sizeof why);
        if (rc != 0)
            fprintf (stderr, "check %d: %s\n", i, why);
        assert_int_equal (rc, 0);
    }
    //  product is optional on the intent: absent means MIS; a MODIFY keeps the order's
    struct kt_intent in = s_intent (KT_PURPOSE_ENTRY);
    in.product = KT_PROD_NONE;
    struct kt_order_cmd cmd;
    risk_reply_command (&in, in.intent_id, 75, &cmd);
    assert_int_equal (cmd.product, KT_PROD_MIS);
    in.product = KT_PROD_NRML;
    risk_reply_command (&in, in.intent_id, 75, &cmd);
    assert_int_equal (cmd.product, KT_PROD_NRML);
    in = s_intent (KT_PURPOSE_MODIFY);
    in.product = KT_PROD_NONE;
    risk_reply_command (&in, in.intent_id, 75, &cmd);
    assert_int_equal (cmd.product, KT_PROD_NONE);
    //  an exit's reason goes on to exec-gateway, which journals it
    in = s_intent (KT_PURPOSE_FLATTEN);
    in.reason = KT_EXIT_TARGET_DAY;
    risk_reply_command (&in, in.intent_id, 75, &cmd);
    assert_int_equal (cmd.reason, KT_EXIT_TARGET_DAY);
    in = s_intent (KT_PURPOSE_EXIT);
    in.reason = KT_EXIT_TIME;
    risk_reply_command (&in, in.intent_id, 75, &cmd);
    assert_int_equal (cmd.reason, KT_EXIT_TIME);
}

static void
test_halt_commands (void **state)
{
    (void) state;
    struct kt_order_cmd c[4];
    assert_int_equal (risk_reply_halt_commands (7, false, c, 4), 1);
    assert_string_equal (c[0].coid, "rg-cancel-7");
    assert_int_equal (c[0].action, KT_ACTION_CANCEL_ALL);
    assert_int_equal (c[0].purpose, KT_PURPOSE_ENTRY);
    assert_int_equal (risk_reply_halt_commands (7, true, c, 4), 2);
    assert_string_equal (c[1].coid, "rg-flat-7");
    assert_int_equal (c[1].action, KT_ACTION_FLATTEN);
    assert_int_equal (c[1].reason, KT_EXIT_HALT); //  journalled as the backtest says it
    assert_int_equal (risk_reply_halt_commands (123456789, true, c, 1), 1); //  room for one
    assert_true (strlen (c[0].coid) <= KT_ID_WIRE_MAX);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_decision),
        cmocka_unit_test (test_commands),
        cmocka_unit_test (test_halt_commands),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
