/*  ctl_kill_test - tradectl's kill switch against a real redis-server: halt sets the hash
 *  risk-gate reads (and records who and why in events), an empty reason is refused,
 *  resume clears it and turns HALTED into REDUCING (since now, session valid again) but
 *  leaves other states alone, waiting for a state times out or succeeds, Redis down fails. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../tradectl/ctl.h"
#include "kt_teststore.h"

static kt_teststore_t F;

static char *
s_hget (const char *key, const char *field, char *buf, size_t len)
{
    return kt_teststore_hget (&F, key, field, buf, len);
}

static void
test_halt (void **state)
{
    (void) state;
    char b[128];
    assert_int_equal (ctl_kill_halt (F.store, "", "ops", 5), -1);
    assert_int_equal (ctl_kill_halt (F.store, NULL, "ops", 5), -1);
    assert_int_equal (ctl_kill_halt (F.store, "broker outage", "ops", 5), 0);
    assert_string_equal (s_hget ("kt:risk:kill", "active", b, sizeof b), "1");
    assert_string_equal (s_hget ("kt:risk:kill", "reason", b, sizeof b), "broker outage");
    assert_string_equal (s_hget ("kt:risk:kill", "by", b, sizeof b), "ops");
    assert_string_equal (s_hget ("kt:risk:kill", "since_ns", b, sizeof b), "5");
    redisReply *r = redisCommand (F.peek, "XREVRANGE kt:events + - COUNT 1");
    assert_int_equal (r->elements, 1);
    freeReplyObject (r);
}

static void
test_resume (void **state)
{
    (void) state;
    char b[128];
    freeReplyObject (redisCommand (F.peek, "HSET kt:risk:state state HALTED reason x scope "
                                           "manual session_ok 0"));
    ctl_kill_halt (F.store, "x", "ops", 5);
    //  the broker rejections that may have halted (REJECTS) are forgotten by a resume,
    //  or the next entry would halt again
    freeReplyObject (redisCommand (F.peek, "LPUSH kt:risk:ts:rejects 1 2 3 4 5"));
    kt_trading_state_t was = KT_STATE_NONE;
    assert_int_equal (ctl_kill_resume (F.store, "ops", "x", 77, &was), 0);
    redisReply *r = redisCommand (F.peek, "LLEN kt:risk:ts:rejects");
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);
    assert_true (kt_teststore_hget_i64 (&F, "kt:risk:state", "version") >
                 0); //  decisions read it again
    assert_int_equal (was, KT_STATE_HALTED);
    assert_string_equal (s_hget ("kt:risk:kill", "active", b, sizeof b), "0");
    assert_string_equal (s_hget ("kt:risk:state", "state", b, sizeof b), "REDUCING");
    assert_string_equal (s_hget ("kt:risk:state", "since_ns", b, sizeof b), "77");
    assert_string_equal (s_hget ("kt:risk:state", "session_ok", b, sizeof b), "1");
    assert_string_equal (s_hget ("kt:risk:state", "scope", b, sizeof b), "");
    //  ACTIVE stays ACTIVE
    freeReplyObject (redisCommand (F.peek, "HSET kt:risk:state state ACTIVE"));
    assert_int_equal (ctl_kill_resume (F.store, "ops", "", 78, &was), 0);
    assert_int_equal (was, KT_STATE_ACTIVE);
    assert_string_equal (s_hget ("kt:risk:state", "state", b, sizeof b), "ACTIVE");
}

//  A resume decided on one halt does not clear another that stood by the time it commits.
static void
test_resume_moved (void **state)
{
    (void) state;
    char b[128];
    freeReplyObject (redisCommand (F.peek, "HSET kt:risk:state state HALTED reason %s scope day",
                                   "DAY_LOSS: day loss Rs 5,00,000 reached"));
    kt_trading_state_t was = KT_STATE_NONE;
    assert_int_equal (ctl_kill_resume (F.store, "ops", "REJECTS: 5 broker rejections", 80, &was),
                      1);
    assert_int_equal (was, KT_STATE_HALTED);
    assert_string_equal (s_hget ("kt:risk:state", "state", b, sizeof b), "HALTED");
    //  the operator looked at an account that was not halted
    assert_int_equal (ctl_kill_resume (F.store, "ops", "", 81, &was), 1);
    assert_string_equal (s_hget ("kt:risk:state", "state", b, sizeof b), "HALTED");
    assert_int_equal (
        ctl_kill_resume (F.store, "ops", "DAY_LOSS: day loss Rs 5,00,000 reached", 82, &was), 0);
    assert_string_equal (s_hget ("kt:risk:state", "state", b, sizeof b), "REDUCING");
}

static void
test_wait (void **state)
{
    (void) state;
    freeReplyObject (redisCommand (F.peek, "HSET kt:risk:state state HALTED"));
    assert_int_equal (ctl_kill_wait (F.store, KT_STATE_HALTED, 100), 0);
    assert_int_equal (ctl_kill_wait (F.store, KT_STATE_ACTIVE, 100), 1);
}

static void
test_redis_down (void **state)
{
    (void) state;
    kt_testredis_kill (F.srv);
    assert_int_equal (ctl_kill_halt (F.store, "x", "ops", 1), -1);
    assert_int_equal (ctl_kill_resume (F.store, "ops", NULL, 1, NULL), -1);
    assert_int_equal (ctl_kill_wait (F.store, KT_STATE_HALTED, 10), -1);
}

static int
s_setup (void **state)
{
    (void) state;
    return kt_teststore_start (&F, "ctl_kill_test", 300);
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_teststore_stop (&F);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_halt),         cmocka_unit_test (test_resume),
        cmocka_unit_test (test_resume_moved), cmocka_unit_test (test_wait),
        cmocka_unit_test (test_redis_down),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
