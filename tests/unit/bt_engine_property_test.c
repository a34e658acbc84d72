/*  bt_engine_property_test - baseline_v1 through the bar-mode engine on many random days
 *  (random walks on the tick, gaps, missing rows), checking what must hold whatever the
 *  data: every fill inside its bar, stops at or above sl_price, flattens at the latest
 *  close, no entry fill from 15:00, exits by the 15:14 close, the position limits, sizes
 *  of whole lots within the cap, the sl_pct band, and every trade closed at the end. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../backtest/bt.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"
#define IDX 256265u
#define NTOK 8
#define MINUTES 375
#define NS_MIN (60LL * 1000000000LL)

static uint64_t s_rng;

static int64_t
s_rand (int64_t n)
{
    s_rng = s_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int64_t) ((s_rng >> 33) % (uint64_t) n);
}

//  A day's bars: [minute][slot], slot 0 = index; o == 0 = no row.
static struct strat_bar s_day[MINUTES][NTOK + 1];

static const struct strat_bar *
s_bar_at (uint32_t token, int64_t ts, int64_t t0)
{
    int m = (int) ((ts - t0) / NS_MIN);
    for (int s = 0; s <= NTOK; s++)
        if (m >= 0 && m < MINUTES && s_day[m][s].token == token && s_day[m][s].open)
            return &s_day[m][s];
    return NULL;
}

//  The latest close of token at or before minute ts.
static int64_t
s_close_at (uint32_t token, int64_t ts, int64_t t0)
{
    for (int64_t t = ts; t >= t0; t -= NS_MIN) {
        const struct strat_bar *b = s_bar_at (token, t, t0);
        if (b)
            return b->close;
    }
    return 0;
}

static void
s_make_day (int64_t t0, const uint32_t *tok)
{
    int64_t px[NTOK];
    for (int s = 0; s < NTOK; s++)
        px[s] = 12000 + s_rand (15000) / 5 * 5;
    memset (s_day, 0, sizeof s_day);
    for (int m = 0; m < MINUTES; m++) {
        int64_t ts = t0 + m * NS_MIN;
        s_day[m][0] = (struct strat_bar){IDX, ts, 2401000, 2401000, 2401000, 2401000, 0};
        for (int s = 0; s < NTOK; s++) {
            int64_t o = px[s] + (s_rand (7) == 0 ? (s_rand (41) - 20) * 50 : 0); //  gaps
            if (o < 500)
                o = 500;
            int64_t c = o + (s_rand (61) - 30) * 5;
            if (c < 500)
                c = 500;
            int64_t h = (o > c ? o : c) + s_rand (40) * 5;
            int64_t l = (o < c ? o : c) - s_rand (40) * 5;
            if (l < 5)
                l = 5;
            px[s] = c;
            if (s_rand (10) == 0)
                continue; //  no trade this minute
            s_day[m][s + 1] = (struct strat_bar){tok[s], ts, o, h, l, c, 75 * (1 + s_rand (40))};
        }
    }
}

static void
test_random_days (void **state)
{
    (void) state;
    char err[256];
    kt_instr_table_t *instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (instr);
    struct strat_params p;
    strat_params_defaults (&p);
    //  CE and PE of four strikes around 24000, ascending tokens
    const uint32_t tok[NTOK] = {10000039, 10000040, 10000041, 10000042,
                                10000043, 10000044, 10000045, 10000046};
    size_t total = 0;
    for (int seed = 1; seed <= 60; seed++) {
        s_rng = (uint64_t) seed;
        strat_core_t *core = strat_core_new ("baseline_v1", &p, instr, err, sizeof err);
        bt_engine_t *eng = bt_engine_new (core, instr, NULL, NULL);
        int64_t t0 = kt_ist_ns (2026, 11, 23, 9, 15, 0);
        s_make_day (t0, tok);
        struct strat_bar minute[NTOK + 1];
        for (int m = 0; m < MINUTES; m++) {
            int n = 0;
            for (int s = 0; s <= NTOK; s++)
                if (s_day[m][s].open)
                    minute[n++] = s_day[m][s];
            assert_int_equal (bt_engine_minute (eng, minute, n), 0);
        }
        bt_engine_end_day (eng);
        size_t nt;
        const struct bt_trade *tr = bt_engine_trades (eng, &nt);
        total += nt;
        int64_t t1500 = kt_ist_ns (2026, 11, 23, 15, 0, 0);
        int64_t t1514 = kt_ist_ns (2026, 11, 23, 15, 14, 0);
        for (size_t i = 0; i < nt; i++) {
            const struct bt_trade *t = &tr[i];
            assert_true (t->closed);
            assert_int_equal (t->exited, t->qty);
            assert_true (t->qty > 0 && t->qty % t->in->lot == 0 && t->qty <= 10 * t->in->lot);
            assert_true (t->entry_ts < t1500);
            assert_true (t->exit_ts <= t1514 && t->exit_ts >= t->entry_ts);
            const struct strat_bar *eb = s_bar_at (t->in->token, t->entry_ts, t0);
            assert_non_null (eb);
            assert_true (t->entry_px >= eb->low && t->entry_px <= eb->high);
            assert_true (t->entry_px < t->swing_low); //  sold below the swing
            int64_t pts = t->sl_price - t->swing_low;
            assert_true (10000 * pts >= 200 * t->swing_low && 10000 * pts <= 1000 * t->swing_low);
            assert_true (t->swing_low >= 10000 && t->swing_low <= 30000);
            assert_int_equal (t->r_at_risk, pts * t->qty);
            if (t->reason == BT_EXIT_STOP) {
                const struct strat_bar *xb = s_bar_at (t->in->token, t->exit_ts, t0);
                assert_non_null (xb);
                assert_true (t->exit_ts > t->entry_ts);
                assert_true (t->exit_px >= t->sl_price && t->exit_px <= xb->high);
            } else
                assert_int_equal (t->exit_px, s_close_at (t->in->token, t->exit_ts, t0));
            //  position limits at this entry: open before it (exited after its minute)
            int open = 0, same = 0;
            for (size_t j = 0; j < nt; j++) {
                if (j == i || tr[j].entry_ts > t->entry_ts || tr[j].exit_ts < t->entry_ts)
                    continue;
                if (tr[j].entry_ts == t->entry_ts && j > i)
                    continue;
                if (tr[j].exit_ts == t->entry_ts && tr[j].reason == BT_EXIT_STOP)
                    continue; //  stopped during the minute the new entry filled
                open++;
                same += tr[j].in->itype == t->in->itype;
            }
            assert_true (open < 5);
            assert_true (same < 3);
        }
        bt_engine_destroy (&eng);
        strat_core_destroy (&core);
    }
    //  the random days must actually trade, or nothing above was checked
    assert_true (total >= 30);
    kt_instr_destroy (&instr);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_random_days),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
