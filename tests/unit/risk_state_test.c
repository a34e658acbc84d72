/*  risk_state_test - the trading-state transitions against a real redis-server: a new
 *  account starts REDUCING with capital from config; start-up turns ACTIVE into REDUCING;
 *  the reconciler's agreement must be at or after both the start and the REDUCING; the
 *  kill switch blocks activation; a halt happens once (halt_seq); the daily reset
 *  archives the day, clears the day's counters and ends only a day-scoped halt; the week
 *  rolls on Monday; the per-minute P&L mark is kept once per minute and raises the peak. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"
#include "kt_testredis.h"

static struct {
    kt_testredis_t *srv;
    kt_store_t *store;
    struct risk_scripts ids;
    redisContext *peek;
    struct risk_cfg cfg;
    struct risk_view v;
} F;

static int64_t
s_at (int d, int hh, int mm)
{
    return kt_ist_ns (2025, 11, d, hh, mm, 0);
}

static void
s_cmd (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (F.peek, fmt, ap);
    va_end (ap);
    assert_non_null (r);
    freeReplyObject (r);
}

static int64_t
s_hget (const char *key, const char *field)
{
    redisReply *r = redisCommand (F.peek, "HGET %s %s", key, field);
    int64_t v = r->type == REDIS_REPLY_STRING ? strtoll (r->str, NULL, 10) : -1;
    freeReplyObject (r);
    return v;
}

static void
s_roll (int64_t now, bool startup)
{
    assert_int_equal (risk_state_roll (F.store, &F.ids, &F.cfg, now, 0, startup, "t", &F.v), 0);
}

//  The reconciler's last agreement (recon:last agree_ns), as the core reads it.
static int64_t s_agree_ns;

static void
s_recon (int64_t ns)
{
    s_agree_ns = ns;
}

static bool
s_activate (int64_t since, int64_t now)
{
    bool changed = false;
    assert_int_equal (
        risk_state_activate (F.store, &F.ids, s_agree_ns, since, now, "t", &changed, &F.v), 0);
    return changed;
}

static void
test_new_account_and_activation (void **state)
{
    (void) state;
    int64_t t0 = s_at (24, 9, 0);
    s_roll (t0, true);
    assert_int_equal (F.v.state, KT_STATE_REDUCING);
    assert_int_equal (F.v.initial, F.cfg.capital);
    assert_int_equal (F.v.day_start_equity, F.cfg.capital);
    assert_int_equal (F.v.peak_equity, F.cfg.capital);
    assert_int_equal (F.v.day, 20251124);
    assert_true (F.v.session_ok);
    //  an agreement from before the start does not count
    s_recon (t0 - 1);
    assert_false (s_activate (t0, t0 + 10));
    s_recon (t0);
    s_cmd ("HSET kt:risk:kill active 1");
    assert_false (s_activate (t0, t0 + 10)); //  kill switch set
    s_cmd ("HSET kt:risk:kill active 0");
    assert_true (s_activate (t0, t0 + 10));
    assert_int_equal (F.v.state, KT_STATE_ACTIVE);
    //  a restart: ACTIVE becomes REDUCING; the old agreement is older than REDUCING
    int64_t t1 = s_at (24, 9, 30);
    s_roll (t1, true);
    assert_int_equal (F.v.state, KT_STATE_REDUCING);
    assert_false (s_activate (t0, t1 + 1));
    s_recon (t1 + 5);
    assert_true (s_activate (t1, t1 + 6));
    //  capital from config is only for a new account
    F.cfg.capital = 42;
    s_roll (t1 + 7, false);
    assert_int_equal (F.v.initial, 1000000LL * 100);
}

static void
test_halt_once (void **state)
{
    (void) state;
    s_roll (s_at (24, 9, 0), true);
    bool halted = false;
    assert_int_equal (risk_state_halt (F.store, &F.ids, KT_R_WEEKLY_LOSS, "week", s_at (24, 10, 0),
                                       "t", &halted, &F.v),
                      0);
    assert_true (halted);
    assert_int_equal (F.v.state, KT_STATE_HALTED);
    assert_false (F.v.day_scoped);
    assert_int_equal (F.v.halt_seq, 1);
    assert_string_equal (F.v.reason, "WEEKLY_LOSS: week");
    assert_int_equal (
        risk_state_halt (F.store, &F.ids, KT_R_KILL, "again", s_at (24, 10, 1), "t", &halted, &F.v),
        0);
    assert_false (halted);
    assert_int_equal (F.v.halt_seq, 1);
    assert_string_equal (F.v.reason, "WEEKLY_LOSS: week");
    //  a manual halt survives the daily reset
    s_roll (s_at (25, 9, 0), false);
    assert_int_equal (F.v.state, KT_STATE_HALTED);
}

static void
test_daily_reset (void **state)
{
    (void) state;
    s_roll (s_at (24, 9, 0), true);
    //  the book realised -5000 today (two losing round trips), -9000 this week
    s_cmd ("HSET kt:book realised -5000 trades_closed 2 losing_streak 2");
    s_cmd ("HSET kt:risk:state trades_day 7 week_start_realised 4000");
    s_cmd ("RPUSH kt:risk:ts:orders 1 2");
    bool halted;
    risk_state_halt (F.store, &F.ids, KT_R_DAILY_LOSS, "day", s_at (24, 14, 0), "t", &halted, &F.v);
    assert_true (F.v.day_scoped);
    //  Tuesday: the day is archived and reset, the day-scoped halt ends, the week goes on
    s_roll (s_at (25, 8, 0), false);
    assert_int_equal (F.v.day, 20251125);
    assert_int_equal (F.v.state, KT_STATE_REDUCING);
    assert_int_equal (F.v.realised_day, 0);
    assert_int_equal (F.v.trades_day, 0);
    assert_int_equal (F.v.consec_losses, 0);
    assert_int_equal (F.v.norders_ts, 0);
    assert_int_equal (F.v.realised_week, -9000);
    assert_int_equal (F.v.day_start_equity, 1000000LL * 100 - 5000);
    assert_int_equal (s_hget ("kt:risk:day:20251124", "realised"), -5000);
    assert_int_equal (s_hget ("kt:risk:day:20251124", "trades"), 7);
    assert_int_equal (s_hget ("kt:risk:day:20251124", "consec_losses"), 2);
    //  the next Monday rolls the week too
    s_roll (kt_ist_ns (2025, 12, 1, 8, 0, 0), false);
    assert_int_equal (F.v.day, 20251201);
    assert_int_equal (F.v.realised_week, 0);
    assert_int_equal (F.v.week_start_ns, kt_ist_ns (2025, 12, 1, 0, 0, 0));
}

static bool
s_price_all (void *arg, const char *sym, int64_t *px, int64_t *ts_ns)
{
    (void) arg;
    (void) sym;
    *px = 10000;
    *ts_ns = 1;
    return true;
}

//  A mark with the book full (64 positions, each priced) and a backlog of a day's marks
//  (as an older build kept them) still commits; the backlog goes a few hundred at a time.
static void
test_marks_big (void **state)
{
    (void) state;
    s_roll (s_at (24, 9, 0), true);
    for (int i = 0; i < RISK_POS_MAX; i++) {
        s_cmd ("HSET kt:pos:S%dCE sym S%dCE qty 75 open_value 750000", i, i);
        s_cmd ("SADD kt:positions S%dCE", i);
    }
    for (int m = 0; m < 900; m++)
        s_cmd ("HSET kt:risk:marks %d %d", m, -m);
    int64_t t = s_at (24, 15, 29);
    assert_int_equal (risk_state_mark (F.store, &F.ids, t, 0, s_price_all, NULL, &F.v), 0);
    assert_int_equal (F.v.npos, RISK_POS_MAX);
    assert_int_equal (s_hget ("kt:risk:px", "S63CE"), 10000);
    assert_int_equal (F.v.deployed, RISK_POS_MAX * 750000LL);
    int kept = 0;
    for (int m = 0; m < RISK_MINUTES; m++)
        kept += F.v.has_mark[m];
    assert_int_equal (kept, 900 - 240 + 1);
    assert_true (F.v.has_mark[risk_pnl_minute (t)]);
}

static void
test_marks (void **state)
{
    (void) state;
    s_roll (s_at (24, 9, 0), true);
    int64_t t = s_at (24, 10, 0);
    assert_int_equal (risk_state_mark (F.store, &F.ids, t, 0, NULL, NULL, &F.v), 0);
    s_cmd ("HSET kt:book realised -700"); //  a fill closed at a loss since
    assert_int_equal (risk_state_mark (F.store, &F.ids, t + KT_NS_PER_SEC, 0, NULL, NULL, &F.v), 0);
    int m = risk_pnl_minute (t);
    assert_true (F.v.has_mark[m]);
    assert_int_equal (F.v.mark[m], 0); //  first look in the minute wins
    assert_int_equal (risk_state_mark (F.store, &F.ids, t + KT_NS_PER_MIN, 0, NULL, NULL, &F.v), 0);
    assert_int_equal (F.v.mark[m + 1], -700);
    //  only the rolling hour is kept: a mark 61 minutes later drops the first two
    assert_int_equal (
        risk_state_mark (F.store, &F.ids, t + 62 * KT_NS_PER_MIN, 0, NULL, NULL, &F.v), 0);
    assert_false (F.v.has_mark[m]);
    assert_false (F.v.has_mark[m + 1]);
    assert_true (F.v.has_mark[m + 62]);
    //  a higher equity raises the peak
    assert_int_equal (
        risk_state_mark (F.store, &F.ids, t + 2 * KT_NS_PER_MIN, 123456, NULL, NULL, &F.v), 0);
    assert_int_equal (F.v.peak_equity, 1000000LL * 100 - 700 + 123456);
    assert_int_equal (s_hget ("kt:capital", "equity"), 1000000LL * 100 - 700 + 123456);
}

static void
test_session (void **state)
{
    (void) state;
    s_roll (s_at (24, 9, 0), true);
    assert_int_equal (risk_state_session (F.store, &F.ids, false, s_at (24, 9, 1), &F.v), 0);
    assert_false (F.v.session_ok);
    assert_int_equal (risk_state_session (F.store, &F.ids, true, s_at (24, 9, 2), &F.v), 0);
    assert_true (F.v.session_ok);
}

static void
test_redis_down (void **state)
{
    (void) state;
    kt_testredis_kill (F.srv);
    assert_int_equal (
        risk_state_roll (F.store, &F.ids, &F.cfg, s_at (24, 9, 0), 0, true, "t", &F.v), -1);
    assert_int_equal (kt_testredis_restart_same_port (F.srv), 0);
    redisFree (F.peek);
    F.peek = kt_testredis_connect (F.srv);
}

static int
s_setup (void **state)
{
    (void) state;
    F.store = kt_store_new ("127.0.0.1", F.srv->port, "kt:", 500);
    if (risk_capital_register (F.store, &F.ids) != 0 || kt_store_connect (F.store) != 0)
        return -1;
    risk_cfg_defaults (&F.cfg);
    s_cmd ("FLUSHALL");
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_store_destroy (&F.store);
    return 0;
}

static int
s_group_setup (void **state)
{
    (void) state;
    F.srv = kt_testredis_start ();
    F.peek = F.srv ? kt_testredis_connect (F.srv) : NULL;
    kt_log_open ("risk_state_test", KT_LOG_OFF);
    return F.peek ? 0 : -1;
}

static int
s_group_teardown (void **state)
{
    (void) state;
    redisFree (F.peek);
    kt_testredis_stop (&F.srv);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_new_account_and_activation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_halt_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_daily_reset, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_marks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_marks_big, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_session, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redis_down, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
