/*  risk_breaker_test - each circuit breaker at its boundary (exactly at the limit trips,
 *  one paise inside does not), the first tripped code, and which halts end at the daily
 *  reset. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"

#define EQ (1000000LL * 100) //  Rs 10 lakh

static struct risk_view s_v;
static struct risk_cfg s_c;
static int64_t s_now;

static void
s_base (void)
{
    memset (&s_v, 0, sizeof s_v);
    risk_cfg_defaults (&s_c);
    s_v.initial = s_v.day_start_equity = s_v.week_start_equity = s_v.peak_equity = EQ;
    s_now = kt_ist_ns (2025, 11, 24, 11, 0, 0);
}

static kt_reason_t
s_eval (int64_t unreal)
{
    struct risk_result r;
    memset (&r, 0, sizeof r);
    kt_reason_t code = risk_breaker_eval (&s_v, &s_c, s_now, unreal, &r);
    assert_int_equal (code == KT_OK, r.nreasons == 0);
    return code;
}

static void
test_daily (void **state)
{
    (void) state;
    s_base ();
    s_v.realised_day = -(EQ * 3 / 100) + 1;
    assert_int_equal (s_eval (0), KT_OK);
    assert_int_equal (s_eval (-1), KT_R_DAILY_LOSS);
    s_c.max_daily_loss_bps = 0; //  off
    assert_int_equal (s_eval (-1), KT_OK);
}

static void
test_weekly (void **state)
{
    (void) state;
    s_base ();
    s_v.realised_week = -(EQ * 6 / 100);
    assert_int_equal (s_eval (0), KT_R_WEEKLY_LOSS);
    s_v.realised_week += 1;
    assert_int_equal (s_eval (0), KT_OK);
}

static void
test_hourly (void **state)
{
    (void) state;
    s_base ();
    s_c.max_daily_loss_bps = 0;
    int m = risk_pnl_minute (s_now);
    s_v.has_mark[m - 60] = true;
    s_v.mark[m - 60] = EQ / 100;
    s_v.realised_day = EQ / 100 - EQ * 5 / 100 + 1;
    assert_int_equal (s_eval (0), KT_OK);
    assert_int_equal (s_eval (-1), KT_R_HOURLY_LOSS);
}

static void
test_drawdown (void **state)
{
    (void) state;
    s_base ();
    s_c.max_daily_loss_bps = s_c.max_weekly_loss_bps = s_c.max_hourly_loss_bps = 0;
    s_v.peak_equity = 2 * EQ;
    s_v.realised_total = 2 * EQ * 85 / 100 - EQ; //  equity exactly 85% of peak
    assert_int_equal (s_eval (0), KT_OK);
    assert_int_equal (s_eval (-1), KT_R_DRAWDOWN);
    //  an unrealised high counts as the peak too
    s_v.peak_equity = 0;
    s_v.realised_total = 0;
    assert_int_equal (s_eval (0), KT_OK);
}

static void
test_consec_and_rejects (void **state)
{
    (void) state;
    s_base ();
    s_v.consec_losses = 4;
    assert_int_equal (s_eval (0), KT_OK);
    s_v.consec_losses = 5;
    assert_int_equal (s_eval (0), KT_R_CONSEC_LOSS);
    s_v.consec_losses = 0;
    for (int i = 0; i < 5; i++)
        s_v.rejects_ts[i] = s_now - i * KT_NS_PER_SEC;
    s_v.nrejects_ts = 4;
    assert_int_equal (s_eval (0), KT_OK);
    s_v.nrejects_ts = 5;
    assert_int_equal (s_eval (0), KT_R_REJECTS);
    s_v.rejects_ts[4] = s_now - 600 * KT_NS_PER_SEC; //  the oldest leaves the window
    assert_int_equal (s_eval (0), KT_OK);
}

static void
test_first_code_and_scope (void **state)
{
    (void) state;
    s_base ();
    s_v.consec_losses = 9;
    s_v.realised_week = -EQ;
    struct risk_result r;
    memset (&r, 0, sizeof r);
    assert_int_equal (risk_breaker_eval (&s_v, &s_c, s_now, 0, &r), KT_R_WEEKLY_LOSS);
    assert_int_equal (r.nreasons, 2); //  WEEKLY_LOSS, CONSEC_LOSS
    assert_int_equal (r.verdict, KT_VERDICT_HALT);
    assert_true (risk_breaker_is_day_scoped (KT_R_DAILY_LOSS));
    assert_true (risk_breaker_is_day_scoped (KT_R_HOURLY_LOSS));
    assert_true (risk_breaker_is_day_scoped (KT_R_CONSEC_LOSS));
    assert_true (risk_breaker_is_day_scoped (KT_R_REJECTS));
    assert_false (risk_breaker_is_day_scoped (KT_R_WEEKLY_LOSS));
    assert_false (risk_breaker_is_day_scoped (KT_R_DRAWDOWN));
    assert_false (risk_breaker_is_day_scoped (KT_R_KILL));
    assert_false (risk_breaker_is_day_scoped (KT_R_SESSION));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_daily),
        cmocka_unit_test (test_weekly),
        cmocka_unit_test (test_hourly),
        cmocka_unit_test (test_drawdown),
        cmocka_unit_test (test_consec_and_rejects),
        cmocka_unit_test (test_first_code_and_scope),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
