/*  risk_view_test - reading a snapshot reply: malformed replies are refused with a reason
 *  (never a crash), an oversized book sets overflow (fail closed), lookups and units,
 *  window counting, kind names. Built from real hiredis replies of a throwaway Redis. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"
#include "kt_testredis.h"

static kt_testredis_t *s_srv;
static redisContext *s_c;
static struct risk_view s_v;

static redisReply *
s_eval (const char *lua)
{
    redisReply *r = redisCommand (s_c, "EVAL %s 0", lua);
    assert_non_null (r);
    return r;
}

static void
test_malformed (void **state)
{
    (void) state;
    const char *bad[] = {
        "return 1",
        "return {1, 2, 3}",
        "return {{'a'}, {}, {}, {}, {}, {}, {}, {}, {}, {}}", //  odd hash
        "return {{}, {}, {}, 'x', {}, {}, {}, {}, {}, {}}",   //  positions not a list
        "return {{}, {}, {}, {}, {}, 'x', {}, {}, {}, {}}",   //  window not a list
        "return {{}, {}, {}, {}, {}, {}, {}, {}, {}, {'1'}}", //  odd marks
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        redisReply *r = s_eval (bad[i]);
        char why[128] = "";
        assert_int_equal (risk_view_parse (r, &s_v, why, sizeof why), -1);
        assert_true (strlen (why) > 0);
        assert_false (s_v.loaded);
        freeReplyObject (r);
    }
    char why[128];
    assert_int_equal (risk_view_parse (NULL, &s_v, why, sizeof why), -1);
}

static void
test_fields_and_lookups (void **state)
{
    (void) state;
    redisReply *r = s_eval (
        "return {{'state', 'ACTIVE', 'units_total', '2', 'scope', 'day', 'bogus', 'x'},"
        " {'initial', '100', 'reserved', '7'}, {'active', '1', 'reason', 'op'},"
        " {{'sym', 'A', 'itype', 'CE', 'qty', '-75', 'pending', '1'}},"
        " {{'o1', 'A', 'CE', 'SELL', 'entry', '75', '0', '10', '750', '1', false, false, '5',"
        " '4', '9', '0'}},"
        " {'3', '2'}, {}, {'1'}, {}, {'600', '-5', '9999', '1'}}");
    char why[128] = "";
    assert_int_equal (risk_view_parse (r, &s_v, why, sizeof why), 0);
    freeReplyObject (r);
    assert_true (s_v.loaded);
    assert_int_equal (s_v.state, KT_STATE_ACTIVE);
    assert_true (s_v.day_scoped);
    assert_true (s_v.session_ok); //  absent reads as valid
    assert_true (s_v.kill);
    assert_string_equal (s_v.kill_reason, "op");
    assert_int_equal (s_v.initial, 100);
    assert_int_equal (s_v.reserved, 7);
    assert_non_null (risk_view_pos (&s_v, "A"));
    assert_null (risk_view_pos (&s_v, "B"));
    assert_int_equal (risk_view_units (&s_v, "A"), 2);
    assert_int_equal (risk_view_units (&s_v, "B"), 0);
    const struct risk_order *o = risk_view_order (&s_v, "o1");
    assert_non_null (o);
    assert_int_equal (o->kind, RISK_KIND_ENTRY);
    assert_int_equal (o->side, KT_SIDE_SELL);
    assert_int_equal (o->event_ns, 9);
    assert_int_equal (o->stop_trigger, 0);
    assert_true (o->pending);
    assert_false (o->answered);
    assert_int_equal (o->sent_ns, 5);
    assert_int_equal (o->decided_ns, 4);
    assert_int_equal (s_v.norders_ts, 2);
    assert_int_equal (risk_view_count_after (s_v.orders_ts, s_v.norders_ts, 2), 1);
    assert_true (s_v.has_mark[600]);
    assert_int_equal (s_v.mark[600], -5);
    assert_false (s_v.has_mark[1439]); //  9999 is no minute: ignored
}

static void
test_overflow (void **state)
{
    (void) state;
    redisReply *r =
        s_eval ("local p = {} for i = 1, 70 do p[i] = {'sym', 'S' .. i, 'qty', '1'} end "
                "return {{}, {}, {}, p, {}, {}, {}, {}, {}, {}}");
    char why[128];
    assert_int_equal (risk_view_parse (r, &s_v, why, sizeof why), 0);
    freeReplyObject (r);
    assert_true (s_v.overflow);
    assert_int_equal (s_v.npos, RISK_POS_MAX);
}

static void
test_kinds (void **state)
{
    (void) state;
    for (int k = RISK_KIND_ENTRY; k <= RISK_KIND_FLATTEN; k++)
        assert_int_equal (risk_kind_parse (risk_kind_str ((risk_kind_t) k)), k);
    assert_string_equal (risk_kind_str (RISK_KIND_NONE), "");
    assert_int_equal (risk_kind_parse (NULL), RISK_KIND_NONE);
}

static int
s_setup (void **state)
{
    (void) state;
    s_srv = kt_testredis_start ();
    s_c = s_srv ? kt_testredis_connect (s_srv) : NULL;
    return s_c ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    redisFree (s_c);
    kt_testredis_stop (&s_srv);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_fields_and_lookups),
        cmocka_unit_test (test_overflow),
        cmocka_unit_test (test_kinds),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
