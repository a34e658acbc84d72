/*  alert_channel_test - back-off, failing since, down once, recovery. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../alerter/alert.h"

static void
test_backoff (void **state)
{
    (void) state;
    assert_int_equal (alert_channel_backoff_ms (1, 1000, 60000, 0), 1000);
    assert_int_equal (alert_channel_backoff_ms (2, 1000, 60000, 0), 2000);
    assert_int_equal (alert_channel_backoff_ms (4, 1000, 60000, 0), 8000);
    assert_int_equal (alert_channel_backoff_ms (30, 1000, 60000, 0), 60000);
    assert_int_equal (alert_channel_backoff_ms (1, 1000, 60000, 5000), 5000); //  429
    assert_int_equal (alert_channel_backoff_ms (10, 1000, 60000, 5000), 60000);
}

static void
test_down_once_then_recovery (void **state)
{
    (void) state;
    struct alert_channel c = {.ch = ALERT_CH_WEBHOOK, .enabled = true};
    int64_t t0 = 1000000;
    assert_false (alert_channel_failed (&c, t0, "HTTP 500", 100, 1000, 0, 5000));
    assert_int_equal (c.failing_since_ms, t0);
    assert_int_equal (c.next_ms, t0 + 100);
    assert_string_equal (c.last_error, "HTTP 500");
    assert_false (alert_channel_failed (&c, t0 + 200, "HTTP 502", 100, 1000, 0, 5000));
    assert_int_equal (c.next_ms, t0 + 400);
    assert_int_equal (c.failing_since_ms, t0); //  the run's start stays
    assert_true (alert_channel_failed (&c, t0 + 5000, "timeout", 100, 1000, 0, 5000));
    c.down_reported = true;
    assert_false (alert_channel_failed (&c, t0 + 9000, "timeout", 100, 1000, 0, 5000));
    assert_int_equal (c.failures, 4);
    assert_int_equal (alert_channel_ok (&c, t0 + 10000), 10000);
    assert_int_equal (c.attempts, 0);
    assert_int_equal (c.failing_since_ms, 0);
    assert_int_equal (c.next_ms, 0);
    assert_int_equal (c.delivered, 1);
    assert_int_equal (alert_channel_ok (&c, t0 + 11000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_down_once_then_recovery),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
