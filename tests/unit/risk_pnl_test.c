/*  risk_pnl_test - P&L arithmetic: exact floor division (the Lua's twin), unrealised of
 *  longs and shorts (from md prices, else the book's last mark, else at cost), day and
 *  week P&L with positions carried over, the rolling hour's base mark, margin estimates. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kt_margin.h"
#include "../../risk-gate/risk.h"

static struct risk_view s_v;

static bool
s_price (void *arg, const char *sym, int64_t *px, int64_t *ts)
{
    (void) arg;
    *ts = 1;
    if (strcmp (sym, "L") == 0) {
        *px = 11000;
        return true;
    }
    return false;
}

static void
test_muldiv (void **state)
{
    (void) state;
    assert_int_equal (risk_pnl_muldiv (7, 3, 2), 10);
    assert_int_equal (risk_pnl_muldiv (-7, 3, 2), -11); //  floor, not truncation
    assert_int_equal (risk_pnl_muldiv (-6, 3, 2), -9);
    assert_int_equal (risk_pnl_muldiv (100000000000LL, 8000, 10000), 80000000000LL);
    assert_int_equal (risk_pnl_muldiv (INT64_MAX / 2, 4, 4), INT64_MAX / 2); //  no overflow
}

static void
test_unrealised (void **state)
{
    (void) state;
    memset (&s_v, 0, sizeof s_v);
    struct risk_pos *p = &s_v.pos[s_v.npos++];
    snprintf (p->sym, sizeof p->sym, "L");
    p->qty = 75;
    p->basis = 75 * 10000;
    p = &s_v.pos[s_v.npos++];
    snprintf (p->sym, sizeof p->sym, "S"); //  short, valued at its last mark
    p->qty = -150;
    p->basis = 150 * 20000;
    p->last_px = 19000;
    p = &s_v.pos[s_v.npos++];
    snprintf (p->sym, sizeof p->sym, "N"); //  no price at all: at cost
    p->qty = 75;
    p->basis = 75 * 5000;
    int64_t u = risk_pnl_unrealised (&s_v, s_price, NULL);
    assert_int_equal (u, 75 * 1000 + 150 * 1000);
    assert_int_equal (risk_pnl_unrealised (&s_v, NULL, NULL), 150 * 1000);
}

static void
test_day_week_equity (void **state)
{
    (void) state;
    memset (&s_v, 0, sizeof s_v);
    s_v.initial = 1000000;
    s_v.realised_total = -5000;
    s_v.realised_day = -2000;
    s_v.realised_week = -3000;
    s_v.day_start_unrealised = 700; //  carried over night
    s_v.week_start_unrealised = 100;
    assert_int_equal (risk_pnl_equity (&s_v, 1000), 1000000 - 5000 + 1000);
    assert_int_equal (risk_pnl_day (&s_v, 1000), -2000 + 1000 - 700);
    assert_int_equal (risk_pnl_week (&s_v, 1000), -3000 + 1000 - 100);
}

static void
test_hour (void **state)
{
    (void) state;
    memset (&s_v, 0, sizeof s_v);
    s_v.realised_day = -500;
    int64_t now = kt_ist_ns (2025, 11, 24, 11, 0, 0);
    int m = risk_pnl_minute (now);
    assert_int_equal (m, 660);
    assert_int_equal (risk_pnl_hour (&s_v, 0, now), -500); //  no mark: base 0
    s_v.has_mark[m - 61] = true;                           //  outside the window
    s_v.mark[m - 61] = 900;
    assert_int_equal (risk_pnl_hour (&s_v, 0, now), -500);
    s_v.has_mark[m - 20] = true; //  first in the window
    s_v.mark[m - 20] = 300;
    assert_int_equal (risk_pnl_hour (&s_v, 0, now), -800);
    s_v.has_mark[m - 60] = true; //  exactly an hour ago
    s_v.mark[m - 60] = -100;
    assert_int_equal (risk_pnl_hour (&s_v, 0, now), -400);
    //  shortly after midnight the window starts before the day: base 0
    int64_t early = kt_ist_ns (2025, 11, 24, 0, 30, 0);
    s_v.has_mark[0] = true;
    s_v.mark[0] = 1000;
    assert_int_equal (risk_pnl_hour (&s_v, 0, early), -500);
}

static void
test_short_margin (void **state)
{
    (void) state;
    //  kite-sim's method (kt_margin): 9% SPAN + 3% exposure of strike x qty per unit
    struct kt_instr in;
    memset (&in, 0, sizeof in);
    in.strike = 2400000;
    assert_int_equal (risk_pnl_short_margin (&in, 10000), 288000);
    struct kt_margin m = {0, 0};
    assert_int_equal (kt_margin_short (in.strike, 75, &m), 75 * 288000);
    assert_int_equal (m.span, 75 * 216000);
    assert_int_equal (m.exposure, 75 * 72000);
    in.strike = 0;
    assert_int_equal (risk_pnl_short_margin (&in, 10001), 1200);
    assert_int_equal (risk_pnl_short_margin (NULL, 0), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_muldiv),          cmocka_unit_test (test_unrealised),
        cmocka_unit_test (test_day_week_equity), cmocka_unit_test (test_hour),
        cmocka_unit_test (test_short_margin),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
