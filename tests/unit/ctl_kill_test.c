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
#include "kt_testredis.h"

static struct {
    kt_testredis_t *srv;
    kt_store_t *store;
    redisContext *peek;
} F;

static char *
s_hget (const char *key, const char *field, char *buf, size_t len)
{
    redisReply *r = redisCommand (F.peek, "HGET %s %s", key, field);
    snprintf (buf, len, "%s", r && r->type == REDIS_REPLY_STRING? r->str: "");
    if (r)
        freeReplyObject (r);
    return buf;
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

static int64_t
s_hget_i (const char *key, const char *field)
{
    char b[64];
    return strtoll (s_hget (key, field, b, sizeof b), NULL, 10);
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
    assert_int_equal (ctl_kill_resume (F.store, "ops", 77, &was), 0);
    redisReply *r = redisCommand (F.peek, "LLEN kt:risk:ts:rejects");
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);
    assert_true (s_hget_i ("kt:risk:state", "version") > 0);   //  decisions read it again
    assert_int_equal (was, KT_STATE_HALTED);
    assert_string_equal (s_hget ("kt:risk:kill", "active", b, sizeof b), "0");
    assert_string_equal (s_hget ("kt:risk:state", "state", b, sizeof b), "REDUCING");
    assert_string_equal (s_hget ("kt:risk:state", "since_ns", b, sizeof b), "77");
    assert_string_equal (s_hget ("kt:risk:state", "session_ok", b, sizeof b), "1");
    assert_string_equal (s_hget ("kt:risk:state", "scope", b, sizeof b), "");
    //  ACTIVE stays ACTIVE
    freeReplyObject (redisCommand (F.peek, "HSET kt:risk:state state ACTIVE"));
    assert_int_equal (ctl_kill_resume (F.store, "ops", 78, &was), 0);
    assert_int_equal (was, KT_STATE_ACTIVE);
    assert_string_equal (s_hget ("kt:risk:state", "state", b, sizeof b), "ACTIVE");
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
    assert_int_equal (ctl_kill_resume (F.store, "ops", 1, NULL), -1);
    assert_int_equal (ctl_kill_wait (F.store, KT_STATE_HALTED, 10), -1);
}

static int
s_setup (void **state)
{
    (void) state;
    F.srv = kt_testredis_start ();
    if (!F.srv)
        return -1;
    F.peek = kt_testredis_connect (F.srv);
    F.store = kt_store_new ("127.0.0.1", F.srv->port, "kt:", 300);
    kt_log_open ("ctl_kill_test", KT_LOG_OFF);
    return kt_store_connect (F.store);
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_store_destroy (&F.store);
    redisFree (F.peek);
    kt_testredis_stop (&F.srv);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_halt),
        cmocka_unit_test (test_resume),
        cmocka_unit_test (test_wait),
        cmocka_unit_test (test_redis_down),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
