/*  alert_queue_test - the alerter's durable outbox against a real redis-server: one item
 *  per alert in each channel's list, collapse windows and their summaries, acks only of
 *  the head, the cap, orphans, and timestamps kept as exact integers. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../alerter/alert.h"
#include "kt_testredis.h"

#define S_LOG (1u << ALERT_CH_LOG)
#define S_HOOK (1u << ALERT_CH_WEBHOOK)
#define S_MAIL (1u << ALERT_CH_EMAIL)
#define S_T0 1796541300000LL //  wall ms

static kt_testredis_t *s_redis;

static int
s_setup (void **state)
{
    (void) state;
    s_redis = kt_testredis_start ();
    return s_redis ? 0 : -1;
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
    kt_store_result_t r = kt_store_callf (st, "FLUSHALL");
    assert_true (kt_store_result_is (&r, "OK"));
    kt_store_result_free (&r);
    assert_int_equal (alert_queue_init (st), 0);
    return st;
}

static struct alert_item
s_item (kt_severity_t sev, const char *key, const char *text)
{
    struct alert_item it = {.ts_ns = 1796541300123456789LL, .severity = sev, .count = 1};
    snprintf (it.key, sizeof it.key, "%s", key);
    snprintf (it.src, sizeof it.src, "risk-gate");
    snprintf (it.text, sizeof it.text, "%s", text);
    return it;
}

//  Push with its own group; returns what alert_queue_push returned.
static int
s_push (kt_store_t *st, struct alert_item *it, unsigned mask, int64_t now, int64_t window_ms,
        int64_t *count)
{
    char group[ALERT_GROUP_LEN];
    alert_group_of (it->src, it->severity, it->key, it->text, group);
    return alert_queue_push (st, it, group, mask, now, window_ms, 1000, count);
}

static unsigned
s_route_hook_log (kt_severity_t sev, void *arg)
{
    (void) sev;
    (void) arg;
    return S_LOG | S_HOOK;
}

static void
test_push_head_ack (void **state)
{
    (void) state;
    kt_store_t *st = s_store ();
    struct alert_item a = s_item (KT_SEV_CRITICAL, "risk.halt", "halted (KILL)");
    assert_int_equal (s_push (st, &a, S_LOG | S_HOOK, S_T0, 0, NULL), 1);
    assert_int_equal (a.id, 1);
    assert_int_equal (a.queued_ms, S_T0);
    struct alert_item b = s_item (KT_SEV_WARNING, "md.silent", "feed silent");
    assert_int_equal (s_push (st, &b, S_HOOK, S_T0 + 1, 0, NULL), 1);
    assert_int_equal (alert_queue_pending (st, ALERT_CH_LOG), 1);
    assert_int_equal (alert_queue_pending (st, ALERT_CH_WEBHOOK), 2);
    assert_int_equal (alert_queue_pending (st, ALERT_CH_EMAIL), 0);
    struct alert_item h;
    assert_int_equal (alert_queue_head (st, ALERT_CH_WEBHOOK, &h), 1);
    assert_int_equal (h.id, 1);
    assert_int_equal (h.ts_ns, 1796541300123456789LL); //  exact, never via a double
    assert_int_equal (h.queued_ms, S_T0);
    assert_int_equal (h.severity, KT_SEV_CRITICAL);
    assert_string_equal (h.key, "risk.halt");
    assert_string_equal (h.src, "risk-gate");
    assert_string_equal (h.text, "halted (KILL)");
    assert_int_equal (h.count, 1);
    //  Only the head can be acked; a second ack of it does nothing.
    assert_int_equal (alert_queue_ack (st, ALERT_CH_WEBHOOK, 2), 1);
    assert_int_equal (alert_queue_ack (st, ALERT_CH_WEBHOOK, 1), 0);
    assert_int_equal (alert_queue_ack (st, ALERT_CH_WEBHOOK, 1), 1);
    assert_int_equal (alert_queue_head (st, ALERT_CH_WEBHOOK, &h), 1);
    assert_int_equal (h.id, 2);
    //  Item 1 lives until the log channel has it too, then expires.
    kt_store_result_t r = kt_store_callf (st, "TTL kt:alerts:item:1");
    assert_int_equal (r.integer, -1);
    kt_store_result_free (&r);
    assert_int_equal (alert_queue_ack (st, ALERT_CH_LOG, 1), 0);
    r = kt_store_callf (st, "TTL kt:alerts:item:1");
    assert_true (r.integer > 0);
    kt_store_result_free (&r);
    assert_int_equal (alert_queue_head (st, ALERT_CH_LOG, &h), 0);
    //  Every delivery is in alerts:sent with its text.
    r = kt_store_callf (st, "XRANGE kt:alerts:sent - +");
    assert_int_equal (r.elements, 2);
    kt_store_result_free (&r);
    kt_store_destroy (&st);
}

static void
test_collapse_and_summary (void **state)
{
    (void) state;
    kt_store_t *st = s_store ();
    int64_t count = 0;
    struct alert_item a = s_item (KT_SEV_CRITICAL, "risk.halt", "HALTED (KILL): operator");
    assert_int_equal (s_push (st, &a, S_LOG | S_HOOK, S_T0, 60000, &count), 1);
    //  Six more of the same within the window: counted, not queued.
    for (int i = 0; i < 6; i++) {
        struct alert_item r = s_item (KT_SEV_CRITICAL, "risk.halt", "HALTED (KILL): operator");
        assert_int_equal (s_push (st, &r, S_LOG | S_HOOK, S_T0 + 1000 * (i + 1), 60000, &count), 0);
        assert_int_equal (count, i + 2);
    }
    //  A halt for another reason under the same key is never swallowed.
    struct alert_item b = s_item (KT_SEV_CRITICAL, "risk.halt", "HALTED (REJECTS): 5 rejects");
    assert_int_equal (s_push (st, &b, S_LOG | S_HOOK, S_T0 + 8000, 60000, &count), 1);
    assert_int_equal (alert_queue_pending (st, ALERT_CH_WEBHOOK), 2);
    //  Nothing closes before the window ends.
    assert_int_equal (alert_queue_close_windows (st, S_T0 + 59999, 16, s_route_hook_log, NULL), 0);
    //  At its end: one summary of seven for KILL; REJECTS (alone so far) needs none.
    assert_int_equal (alert_queue_close_windows (st, S_T0 + 68000, 16, s_route_hook_log, NULL), 1);
    assert_int_equal (alert_queue_pending (st, ALERT_CH_WEBHOOK), 3);
    struct alert_item h;
    for (int i = 0; i < 2; i++) {
        assert_int_equal (alert_queue_head (st, ALERT_CH_WEBHOOK, &h), 1);
        assert_int_equal (alert_queue_ack (st, ALERT_CH_WEBHOOK, h.id), 0);
    }
    assert_int_equal (alert_queue_head (st, ALERT_CH_WEBHOOK, &h), 1);
    assert_int_equal (h.count, 7);
    assert_int_equal (h.window_s, 60);
    assert_string_equal (h.text, "HALTED (KILL): operator");
    char line[1024];
    assert_non_null (strstr (alert_item_line (&h, line, sizeof line), "[x7 in 60 s]"));
    //  The window is gone: the next one is sent at once again.
    struct alert_item c = s_item (KT_SEV_CRITICAL, "risk.halt", "HALTED (KILL): operator");
    assert_int_equal (s_push (st, &c, S_HOOK, S_T0 + 70000, 60000, &count), 1);
    kt_store_result_t r = kt_store_callf (st, "ZCARD kt:alerts:windows");
    assert_int_equal (r.integer, 1);
    kt_store_result_free (&r);
    kt_store_destroy (&st);
}

static void
test_cap_and_orphans (void **state)
{
    (void) state;
    kt_store_t *st = s_store ();
    char group[ALERT_GROUP_LEN];
    for (int i = 0; i < 105; i++) {
        char text[32];
        snprintf (text, sizeof text, "alert %c%c", 'a' + i / 26, 'a' + i % 26);
        struct alert_item it = s_item (KT_SEV_WARNING, "k", text);
        alert_group_of (it.src, it.severity, it.key, it.text, group);
        assert_int_equal (alert_queue_push (st, &it, group, S_MAIL, S_T0, 0, 100, NULL), 1);
    }
    assert_int_equal (alert_queue_pending (st, ALERT_CH_EMAIL), 100);
    struct alert_item h;
    assert_int_equal (alert_queue_head (st, ALERT_CH_EMAIL, &h), 1);
    assert_int_equal (h.id, 6); //  the oldest five dropped
    kt_store_result_t r = kt_store_callf (st, "EXISTS kt:alerts:item:5");
    assert_int_equal (r.integer, 0);
    kt_store_result_free (&r);
    //  An id whose item is gone does not block the channel.
    r = kt_store_callf (st, "DEL kt:alerts:item:6");
    kt_store_result_free (&r);
    assert_int_equal (alert_queue_head (st, ALERT_CH_EMAIL, &h), 1);
    assert_int_equal (h.id, 7);
    assert_int_equal (alert_queue_pending (st, ALERT_CH_EMAIL), 99);
    kt_store_destroy (&st);
}

static void
test_redis_down (void **state)
{
    (void) state;
    kt_store_t *st = kt_store_new ("127.0.0.1", 1, "kt:", 100);
    assert_int_equal (alert_queue_init (st), 0);
    struct alert_item it = s_item (KT_SEV_INFO, "k", "t");
    assert_int_equal (s_push (st, &it, S_LOG, S_T0, 0, NULL), -1);
    assert_int_equal (alert_queue_head (st, ALERT_CH_LOG, &it), -1);
    assert_int_equal (alert_queue_ack (st, ALERT_CH_LOG, 1), -1);
    assert_int_equal (alert_queue_pending (st, ALERT_CH_LOG), -1);
    assert_int_equal (alert_queue_close_windows (st, S_T0, 4, s_route_hook_log, NULL), -1);
    kt_store_destroy (&st);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_push_head_ack),
        cmocka_unit_test (test_collapse_and_summary),
        cmocka_unit_test (test_cap_and_orphans),
        cmocka_unit_test (test_redis_down),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
