/*  alert_watch_test - restarts (a new pid), a heartbeat gone, and back. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../alerter/alert.h"

static void
test_restart_down_back (void **state)
{
    (void) state;
    struct alert_watch w;
    memset (&w, 0, sizeof w);
    int64_t was;
    //  First sight: recorded, nothing to say; a process never seen is not missing.
    assert_int_equal (alert_watch_seen (&w, "risk-gate", true, 100, &was), ALERT_WATCH_NONE);
    assert_int_equal (alert_watch_seen (&w, "md-gateway", false, 0, &was), ALERT_WATCH_NONE);
    assert_int_equal (alert_watch_seen (&w, "risk-gate", true, 100, &was), ALERT_WATCH_NONE);
    //  A new pid: restarted.
    assert_int_equal (alert_watch_seen (&w, "risk-gate", true, 200, &was), ALERT_WATCH_RESTARTED);
    assert_int_equal (was, 100);
    //  Gone: once.
    assert_int_equal (alert_watch_seen (&w, "risk-gate", false, 0, &was), ALERT_WATCH_DOWN);
    assert_int_equal (alert_watch_seen (&w, "risk-gate", false, 0, &was), ALERT_WATCH_NONE);
    //  Back with the same pid (it stalled) or a new one (it restarted).
    assert_int_equal (alert_watch_seen (&w, "risk-gate", true, 200, &was), ALERT_WATCH_BACK);
    assert_int_equal (alert_watch_seen (&w, "risk-gate", false, 0, &was), ALERT_WATCH_DOWN);
    assert_int_equal (alert_watch_seen (&w, "risk-gate", true, 300, &was), ALERT_WATCH_RESTARTED);
    assert_int_equal (was, 200);
    assert_int_equal (w.n, 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_restart_down_back),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
