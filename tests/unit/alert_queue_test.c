/*  alert_queue_test - the alerter's durable outbox against a real redis-server. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../alerter/alert.h"
#include "kt_testredis.h"

static kt_testredis_t *s_redis;

static int
s_setup (void **state)
{
    (void) state;
    s_redis = kt_testredis_start ();
    return s_redis? 0: -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_testredis_stop (&s_redis);
    return 0;
}

static kt_store_t *
s_store (void)
{
    kt_store_t *st = kt_store_new ("127.0.0.1", s_redis->port, "kt:", 500);
    assert_int_equal (kt_store_connect (st), 0);
    redisReply *r = kt_store_cmd (st, "FLUSHALL");
    assert_non_null (r);
    freeReplyObject (r);
    return st;
}

static struct kt_alert
s_alert (const char *key, kt_severity_t sev, const char *text)
{
    struct kt_alert a;
    memset (&a, 0, sizeof a);
    a.severity = sev;
    snprintf (a.key, sizeof a.key, "%s", key);
    snprintf (a.text, sizeof a.text, "%s", text);
    return a;
}

static long long
s_llen (kt_store_t *st, const char *key)
{
    redisReply *r = kt_store_cmd (st, "LLEN %s", key);
    assert_non_null (r);
    long long n = r->integer;
    freeReplyObject (r);
    return n;
}

struct sink {
    int calls;
    int fail_after;             //  refuse deliveries after this many (-1 never)
    char last[1024];
};

static int
s_deliver (const char *json, void *arg)
{
    struct sink *s = arg;
    if (s->fail_after >= 0 && s->calls >= s->fail_after)
        return -1;
    s->calls++;
    snprintf (s->last, sizeof s->last, "%s", json);
    return 0;
}

static void
test_push_dedup_and_drain (void **state)
{
    (void) state;
    kt_store_t *st = s_store ();
    struct kt_alert a = s_alert ("risk.halt", KT_SEV_CRITICAL, "daily loss limit hit");
    assert_int_equal (alert_queue_push (st, &a, "risk-gate", 123, 60, 100), 0);
    assert_int_equal (alert_queue_push (st, &a, "risk-gate", 124, 60, 100), 1);
    struct kt_alert b = s_alert ("md.silent", KT_SEV_WARNING, "no ticks for 10 s");
    assert_int_equal (alert_queue_push (st, &b, "md-gateway", 125, 60, 100), 0);
    assert_int_equal (s_llen (st, "kt:alerts:queue"), 2);

    struct sink sink = { 0, -1, "" };
    assert_int_equal (alert_queue_drain (st, "log", s_deliver, &sink), 2);
    assert_int_equal (sink.calls, 2);
    //  Oldest first: the second delivery is the md alert.
    assert_non_null (strstr (sink.last, "\"key\":\"md.silent\""));
    assert_non_null (strstr (sink.last, "\"src\":\"md-gateway\""));
    assert_int_equal (s_llen (st, "kt:alerts:queue"), 0);
    redisReply *r = kt_store_cmd (st, "XLEN kt:alerts:sent");
    assert_int_equal (r->integer, 2);
    freeReplyObject (r);
    kt_store_destroy (&st);
}

static void
test_channel_down_keeps_alert_queued (void **state)
{
    (void) state;
    kt_store_t *st = s_store ();
    struct kt_alert a = s_alert ("a", KT_SEV_INFO, "one");
    struct kt_alert b = s_alert ("b", KT_SEV_INFO, "two");
    alert_queue_push (st, &a, "x", 1, 0, 100);
    alert_queue_push (st, &b, "x", 2, 0, 100);
    struct sink sink = { 0, 1, "" };
    assert_int_equal (alert_queue_drain (st, "log", s_deliver, &sink), 1);
    assert_int_equal (s_llen (st, "kt:alerts:queue"), 1);
    sink.fail_after = -1;
    assert_int_equal (alert_queue_drain (st, "log", s_deliver, &sink), 1);
    assert_non_null (strstr (sink.last, "\"text\":\"two\""));
    kt_store_destroy (&st);
}

static void
test_queue_cap_trims_oldest (void **state)
{
    (void) state;
    kt_store_t *st = s_store ();
    for (int i = 0; i < 105; i++) {
        char key[16];
        snprintf (key, sizeof key, "k%d", i);
        struct kt_alert a = s_alert (key, KT_SEV_INFO, key);
        assert_int_equal (alert_queue_push (st, &a, "x", i, 0, 100), 0);
    }
    assert_int_equal (s_llen (st, "kt:alerts:queue"), 100);
    kt_store_destroy (&st);
}

static void
test_store_down (void **state)
{
    (void) state;
    kt_store_t *st = kt_store_new ("127.0.0.1", 1, "kt:", 100);
    struct kt_alert a = s_alert ("a", KT_SEV_INFO, "x");
    assert_int_equal (alert_queue_push (st, &a, "x", 1, 60, 100), -1);
    struct sink sink = { 0, -1, "" };
    assert_int_equal (alert_queue_drain (st, "log", s_deliver, &sink), -1);
    assert_int_equal (sink.calls, 0);
    kt_store_destroy (&st);
}

int
main (void)
{
    kt_log_open ("alert_queue_test", KT_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_push_dedup_and_drain),
        cmocka_unit_test (test_channel_down_keeps_alert_queued),
        cmocka_unit_test (test_queue_cap_trims_oldest),
        cmocka_unit_test (test_store_down),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
