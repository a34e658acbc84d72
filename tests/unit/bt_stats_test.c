/*  bt_stats_test - a run's numbers from hand-made trades: order by entry time then
 *  symbol, wins and losses, profit factor, expectancy, drawdown in R and rupees, daily
 *  sums and Sharpe, best and worst day, and the report files they end up in. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>
#include <cmocka.h>

#include "../../backtest/bt.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"

static struct bt_trade
s_trade (const kt_instr_table_t *instr, uint32_t token, int d, int hh, int mm, int64_t entry,
         int64_t exit, int64_t qty, int64_t r_unit)
{
    struct bt_trade t;
    memset (&t, 0, sizeof t);
    t.in = kt_instr_by_token (instr, token);
    assert_non_null (t.in);
    t.qty = qty;
    t.entry_ts = kt_ist_ns (2026, 11, d, hh, mm, 0);
    t.exit_ts = t.entry_ts + 60LL * 1000000000LL;
    t.entry_px = entry;
    t.exit_px = exit;
    t.entry_value = entry * qty;
    t.exited = qty;
    t.exit_value = exit * qty;
    t.r_at_risk = r_unit * qty;
    t.reason = BT_EXIT_STOP;
    t.closed = true;
    return t;
}

static void
test_stats (void **state)
{
    (void) state;
    char err[256];
    kt_instr_table_t *instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (instr);
    //  day 23: +2 R (Rs 12,000), -1 R (Rs -6,000); day 24: -1.5 R; day 25: no trade.
    //  Entered out of order; two share 09:30 (symbols decide).
    struct bt_trade tr[4] = {
        s_trade (instr, 10000041, 23, 9, 30, 20000, 21000, 600, 1000), //  -1 R, 24000CE
        s_trade (instr, 10000040, 23, 9, 30, 20000, 18000, 600, 1000), //  +2 R, 23950PE
        s_trade (instr, 10000042, 24, 10, 0, 20000, 21500, 600, 1000), //  -1.5 R
        s_trade (instr, 10000044, 24, 11, 0, 20000, 20000, 600, 1000), //  0 R
    };
    tr[3].closed = false; //  still open: not counted
    const int32_t days[] = {20261123, 20261124, 20261125};
    struct bt_stats st;
    assert_int_equal (bt_stats_compute (tr, 4, days, 3, &st), 0);
    assert_int_equal (st.trades, 3);
    assert_int_equal (st.order[0], 1); //  NIFTY26NOV23950PE before NIFTY26NOV24000CE
    assert_int_equal (st.order[1], 0);
    assert_int_equal (st.order[2], 2);
    assert_int_equal (st.wins, 1);
    assert_int_equal (st.losses, 2);
    assert_int_equal (st.pnl, 120000 * 10 - 60000 * 10 - 90000 * 10);
    assert_int_equal (st.gross_win, 1200000);
    assert_int_equal (st.gross_loss, 1500000);
    assert_true (fabs (st.pf - 0.8) < 1e-12);
    assert_true (fabs (st.total_r - (-0.5)) < 1e-12);
    assert_true (fabs (st.expectancy_r - (-0.5 / 3)) < 1e-12);
    //  cumulative R: +2, +1, -0.5 -> drawdown 2.5 R; rupees 12,000 -> -3,000: 15,000
    assert_true (fabs (st.max_dd_r - 2.5) < 1e-12);
    assert_int_equal (st.max_dd, 1500000);
    assert_int_equal (st.ndays, 3);
    assert_int_equal (st.days[0].trades, 2);
    assert_int_equal (st.days[0].pnl, 600000);
    assert_int_equal (strat_rmul_cmp_int (st.days[0].r, 1), 0);
    assert_int_equal (st.days[1].trades, 1);
    assert_int_equal (st.days[2].trades, 0);
    assert_int_equal (st.best_day, 0);
    assert_int_equal (st.worst_day, 1);
    //  daily P&L 6000, -9000, 0 (rupees): mean -1000, sample sd sqrt(57e6)
    double mean = -1000.0 * 100, sd = sqrt (57e6) * 100;
    assert_true (fabs (st.sharpe - mean / sd * sqrt (252.0)) < 1e-9);

    //  the report files
    char dir[] = "/tmp/bt_stats_test.XXXXXX";
    assert_non_null (mkdtemp (dir));
    struct bt_cfg cfg;
    bt_cfg_defaults (&cfg);
    bt_engine_t *eng = bt_engine_new (NULL, instr, NULL, NULL);
    assert_int_equal (bt_report_write (dir, &cfg, eng, &st, NULL, err, sizeof err), 0);
    char path[128], buf[2048];
    snprintf (path, sizeof path, "%s/daily.csv", dir);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose (f);
    assert_string_equal (buf, "date,trades,wins,losses,win_rate,r,cum_r,pnl,cum_pnl\n"
                              "2026-11-23,2,1,1,0.5000,1.0000,1.0000,6000.00,6000.00\n"
                              "2026-11-24,1,0,1,0.0000,-1.5000,-0.5000,-9000.00,-3000.00\n"
                              "2026-11-25,0,0,0,0.0000,0.0000,-0.5000,0.00,-3000.00\n");
    bt_engine_destroy (&eng);
    const char *files[] = {"trades.csv", "daily.csv", "summary.json", "report.txt", "equity.svg"};
    for (size_t i = 0; i < 5; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal (unlink (path), 0);
    }
    rmdir (dir);
    //  an unwritable directory is an error with the path, not a crash
    assert_int_equal (bt_report_write ("/proc/no/such/dir", &cfg, NULL, &st, NULL, err, sizeof err),
                      -1);
    assert_non_null (strstr (err, "/proc/no/such/dir"));
    bt_stats_free (&st);
    kt_instr_destroy (&instr);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_stats),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
