/*  ctl_health_test - a heartbeat as tradectl judges it: present or not, its age in
 *  wall time whatever the clock's speed, fresh within health.ttl_s, and the process's
 *  own counters kept apart from pid / started / beat. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "../../tradectl/ctl_cmd.h"
#include "kt_testcfg.h"
#include "kt_testredis.h"

#define S 1000000000LL

static struct {
    kt_testredis_t *srv;
    struct kt_cfg cfg;
    ctl_t ctl;
    redisContext *peek;
} F;

static int
s_setup (void **state)
{
    (void) state;
    F.srv = kt_testredis_start ();
    if (!F.srv)
        return -1;
    kt_testcfg_fill (&F.cfg, "tradectl", F.srv->port, "ctl_health");
    F.cfg.health_ttl_s = 5;
    F.ctl.cfg = &F.cfg;
    F.ctl.err = stderr;
    F.ctl.store = kt_store_new ("127.0.0.1", F.srv->port, "kt:", 1000);
    F.peek = kt_testredis_connect (F.srv);
    return F.peek ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    redisFree (F.peek);
    kt_store_destroy (&F.ctl.store);
    kt_testredis_stop (&F.srv);
    kt_testcfg_cleanup ("ctl_health");
    return 0;
}

static void
test_heartbeats (void **state)
{
    (void) state;
    int64_t now = 1763956800LL * S;
    freeReplyObject (redisCommand (F.peek,
                                   "HSET kt:health:risk-gate pid 42 started 1 beat %lld "
                                   "decisions 9 state ACTIVE",
                                   (long long) (now - 2 * S)));
    struct ctl_health h;
    assert_int_equal (ctl_health_read (&F.ctl, "risk-gate", now, 1000000, &h), 0);
    assert_true (h.present);
    assert_true (h.fresh);
    assert_int_equal (h.rec.pid, 42);
    assert_int_equal (h.age_ns, 2 * S);
    assert_int_equal (h.ncounters, 2);
    assert_string_equal (ctl_health_counter (&h, "decisions"), "9");
    assert_string_equal (ctl_health_counter (&h, "state"), "ACTIVE");
    assert_null (ctl_health_counter (&h, "pid"));
    //  At 60x the same beat is 2 pipeline s old but only 1/30 s of wall time.
    assert_int_equal (ctl_health_read (&F.ctl, "risk-gate", now, 60000000, &h), 0);
    assert_int_equal (h.age_ns, 2 * S / 60);
    //  Older than health.ttl_s: present (the TTL has not fired) but not fresh.
    assert_int_equal (ctl_health_read (&F.ctl, "risk-gate", now + 10 * S, 1000000, &h), 0);
    assert_true (h.present);
    assert_false (h.fresh);
    //  No hash: down.
    assert_int_equal (ctl_health_read (&F.ctl, "md-gateway", now, 1000000, &h), 0);
    assert_false (h.present);
    assert_false (h.fresh);
    assert_string_equal (h.proc, "md-gateway");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_heartbeats),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
