/*  alert_test - the alerter's context: PULL, de-duplicate, queue, deliver, record. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../alerter/alert.h"
#include "kt_testctx.h"

static long long
s_xlen (kt_testctx_t *t, const char *key)
{
    redisContext *c = kt_testredis_connect (t->redis);
    redisReply *r = redisCommand (c, "XLEN %s", key);
    long long n = r->integer;
    freeReplyObject (r);
    redisFree (c);
    return n;
}

static void
test_alerts_delivered_once_per_key (void **state)
{
    (void) state;
    kt_testctx_t t;
    assert_int_equal (kt_testctx_start (&t, "alerter", "alert"), 0);
    struct alert_cfg cfg = { .dedup_s = 60, .queue_max = 1000 };
    alert_t *a = alert_new (t.proc, &cfg);
    assert_non_null (a);
    //  The peer raises the same alert three times and another one once.
    kt_alert_out_t *out = kt_proc_alerts (t.peer);
    assert_int_equal (kt_alert_send (out, KT_SEV_CRITICAL, "risk.halt", "halted: %s", "loss"), 0);
    assert_int_equal (kt_alert_send (out, KT_SEV_CRITICAL, "risk.halt", "halted again"), 0);
    assert_int_equal (kt_alert_send (out, KT_SEV_CRITICAL, "risk.halt", "and again"), 0);
    assert_int_equal (kt_alert_send (out, KT_SEV_WARNING, "md.silent", "quiet feed"), 0);
    kt_testctx_spin (&t, 200, 10, NULL);
    assert_int_equal (s_xlen (&t, "kt:alerts:sent"), 2);
    assert_int_equal (kt_proc_beat (t.proc), 0);
    char buf[32];
    assert_string_equal (kt_testctx_hget (&t, "kt:health:alerter", "received", buf, sizeof buf),
                         "4");
    assert_string_equal (kt_testctx_hget (&t, "kt:health:alerter", "deduped", buf, sizeof buf),
                         "2");
    alert_destroy (&a);
    kt_testctx_stop (&t);
}

static void
test_undelivered_alerts_survive_a_restart (void **state)
{
    (void) state;
    kt_testctx_t t;
    assert_int_equal (kt_testctx_start (&t, "alerter", "alert2"), 0);
    //  A previous alerter queued an alert and died before delivering it.
    struct kt_alert al;
    memset (&al, 0, sizeof al);
    al.severity = KT_SEV_WARNING;
    snprintf (al.key, sizeof al.key, "left.over");
    snprintf (al.text, sizeof al.text, "from before the restart");
    assert_int_equal (alert_queue_push (kt_proc_store (t.proc), &al, "x", 1, 60, 100), 0);
    struct alert_cfg cfg = { .dedup_s = 60, .queue_max = 1000 };
    alert_t *a = alert_new (t.proc, &cfg);
    assert_non_null (a);
    assert_int_equal (s_xlen (&t, "kt:alerts:sent"), 1);
    alert_destroy (&a);
    kt_testctx_stop (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_alerts_delivered_once_per_key),
        cmocka_unit_test (test_undelivered_alerts_survive_a_restart),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
