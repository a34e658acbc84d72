/*  md_bar_test - 1-minute bars and VWAP: OHLCV from ticks, flat bars, exactly one
 *  final per minute, volume drops and mid-day joins, late ticks, session and day
 *  edges, partial bars, and a randomised run checked against invariants. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../md-gateway/md_bar.h"
#include "kt_clock.h"

#define S_MAX 4096
#define S_SEC KT_NS_PER_SEC

static struct kt_bar s_bars[S_MAX];
static int s_n;

static void
s_on_bar (const struct kt_bar *bar, void *arg)
{
    (void) arg;
    assert_true (s_n < S_MAX);
    s_bars[s_n++] = *bar;
}

static md_bar_t *
s_new (int64_t partial_ns)
{
    struct md_bar_cfg cfg = {
        .capacity = 8, .partial_ns = partial_ns, .session_open_min = 555, .session_close_min = 930};
    md_bar_t *b = md_bar_new (&cfg, s_on_bar, NULL);
    assert_non_null (b);
    assert_int_equal (md_bar_add (b, 111, "NIFTY25D1124500CE"), 0);
    assert_int_equal (md_bar_add (b, 222, "NIFTY25D1124500PE"), 0);
    s_n = 0;
    return b;
}

//  2025-12-08 (a Monday) hh:mm:ss IST plus ms.
static int64_t
s_t (int hh, int mm, int ss, int ms)
{
    return kt_ist_ns (2025, 12, 8, hh, mm, ss) + (int64_t) ms * 1000000;
}

static void
s_assert_bar (const struct kt_bar *b, uint32_t token, int64_t start, int64_t o, int64_t h,
              int64_t l, int64_t c, int64_t vol, int64_t ticks, bool final)
{
    assert_int_equal (b->token, token);
    assert_int_equal (b->start_ns, start);
    assert_int_equal (b->o, o);
    assert_int_equal (b->h, h);
    assert_int_equal (b->l, l);
    assert_int_equal (b->c, c);
    assert_int_equal (b->volume, vol);
    assert_int_equal (b->ticks, ticks);
    assert_int_equal (b->final, final);
}

static void
test_ohlcv_and_vwap (void **state)
{
    (void) state;
    md_bar_t *b = s_new (0);
    assert_int_equal (md_bar_tick (b, 111, s_t (9, 15, 5, 0), 10000, 10), 0);
    assert_int_equal (md_bar_tick (b, 111, s_t (9, 15, 30, 0), 10200, 25), 0);
    assert_int_equal (md_bar_tick (b, 111, s_t (9, 15, 50, 0), 9900, 30), 0);
    md_bar_advance (b, s_t (9, 15, 59, 999));
    assert_int_equal (s_n, 0);
    md_bar_advance (b, s_t (9, 16, 0, 0));
    assert_int_equal (s_n, 1);
    s_assert_bar (&s_bars[0], 111, s_t (9, 15, 0, 0), 10000, 10200, 9900, 9900, 30, 3, true);
    assert_string_equal (s_bars[0].sym, "NIFTY25D1124500CE");
    //  (10200 + 9900 + 9900) x 30 / (3 x 30) = 10000
    assert_int_equal (s_bars[0].vwap, 10000);
    //  Second bar: typical (10100 + 10000 + 10050) / 3 = 10050, volume 10
    //  VWAP = (30000 x 30 + 30150 x 10) / (3 x 40) = 1201500 / 120 = 10012.5 -> 10013
    md_bar_tick (b, 111, s_t (9, 16, 1, 0), 10100, 35);
    md_bar_tick (b, 111, s_t (9, 16, 2, 0), 10000, 38);
    md_bar_tick (b, 111, s_t (9, 16, 3, 0), 10050, 40);
    assert_int_equal (md_bar_vwap (b, 111), 10013);
    md_bar_advance (b, s_t (9, 17, 0, 0));
    assert_int_equal (s_n, 2);
    s_assert_bar (&s_bars[1], 111, s_t (9, 16, 0, 0), 10100, 10100, 10000, 10050, 10, 3, true);
    assert_int_equal (s_bars[1].vwap, 10013);
    //  Instrument 222 never traded: no bar at all.
    for (int i = 0; i < s_n; i++)
        assert_int_equal (s_bars[i].token, 111);
    assert_int_equal (md_bar_vwap (b, 222), 0);
    assert_int_equal (md_bar_vwap (b, 999), 0);
    md_bar_destroy (&b);
    assert_null (b);
}

static void
test_flat_bars_exactly_once (void **state)
{
    (void) state;
    md_bar_t *b = s_new (0);
    md_bar_tick (b, 111, s_t (9, 20, 10, 0), 15000, 100);
    md_bar_advance (b, s_t (9, 24, 0, 0));
    //  09:20 with data, 09:21..09:23 flat at the last close.
    assert_int_equal (s_n, 4);
    s_assert_bar (&s_bars[0], 111, s_t (9, 20, 0, 0), 15000, 15000, 15000, 15000, 0, 1, true);
    for (int i = 1; i < 4; i++)
        s_assert_bar (&s_bars[i], 111, s_t (9, 20 + i, 0, 0), 15000, 15000, 15000, 15000, 0, 0,
                      true);
    //  The clock again inside the same minute, or backwards: nothing new.
    md_bar_advance (b, s_t (9, 24, 30, 0));
    md_bar_advance (b, s_t (9, 22, 0, 0));
    assert_int_equal (s_n, 4);
    //  A tick closes the minutes it passes without the clock.
    md_bar_tick (b, 111, s_t (9, 26, 1, 0), 15100, 110);
    assert_int_equal (s_n, 6);
    assert_int_equal (s_bars[4].start_ns, s_t (9, 24, 0, 0));
    assert_int_equal (s_bars[5].start_ns, s_t (9, 25, 0, 0));
    md_bar_advance (b, s_t (9, 27, 0, 0));
    assert_int_equal (s_n, 7);
    s_assert_bar (&s_bars[6], 111, s_t (9, 26, 0, 0), 15100, 15100, 15100, 15100, 10, 1, true);
    struct md_bar_stats st;
    md_bar_stats (b, &st);
    assert_int_equal (st.finals, 7);
    md_bar_destroy (&b);
}

static void
test_volume_drop_and_midday_join (void **state)
{
    (void) state;
    md_bar_t *b = s_new (0);
    //  Joining at 11:00: the first tick only sets the baseline.
    md_bar_tick (b, 111, s_t (11, 0, 1, 0), 20000, 500000);
    md_bar_tick (b, 111, s_t (11, 0, 2, 0), 20005, 500100);
    //  A feed restart reports a lower cumulative volume: 0, then counting from there.
    md_bar_tick (b, 111, s_t (11, 0, 3, 0), 20010, 400000);
    md_bar_tick (b, 111, s_t (11, 0, 4, 0), 20000, 400050);
    md_bar_advance (b, s_t (11, 1, 0, 0));
    assert_int_equal (s_n, 1);
    s_assert_bar (&s_bars[0], 111, s_t (11, 0, 0, 0), 20000, 20010, 20000, 20000, 150, 4, true);
    //  At the open the first tick's whole volume counts.
    md_bar_tick (b, 222, s_t (9, 15, 0, 500) + 86400 * S_SEC, 5000, 75);
    md_bar_advance (b, s_t (9, 16, 0, 0) + 86400 * S_SEC);
    int last = s_n - 1;
    s_assert_bar (&s_bars[last], 222, s_t (9, 15, 0, 0) + 86400 * S_SEC, 5000, 5000, 5000, 5000, 75,
                  1, true);
    md_bar_destroy (&b);
}

static void
test_non_trading_ticks (void **state)
{
    (void) state;
    md_bar_t *b = s_new (0);
    md_bar_tick (b, 111, s_t (9, 30, 1, 0), 10000, 10);
    //  Same price and volume (a depth change): not a trade.
    md_bar_tick (b, 111, s_t (9, 30, 2, 0), 10000, 10);
    md_bar_tick (b, 111, s_t (9, 30, 3, 0), 10000, 10);
    //  An index-like tick: price moves, no volume.
    md_bar_tick (b, 111, s_t (9, 30, 4, 0), 10050, 10);
    md_bar_advance (b, s_t (9, 31, 0, 0));
    s_assert_bar (&s_bars[0], 111, s_t (9, 30, 0, 0), 10000, 10050, 10000, 10050, 0, 2, true);
    //  A minute of only non-trading ticks is flat.
    md_bar_tick (b, 111, s_t (9, 31, 4, 0), 10050, 10);
    md_bar_advance (b, s_t (9, 32, 0, 0));
    s_assert_bar (&s_bars[1], 111, s_t (9, 31, 0, 0), 10050, 10050, 10050, 10050, 0, 0, true);
    //  Refused: unknown token, non-positive price.
    assert_int_equal (md_bar_tick (b, 999, s_t (9, 32, 1, 0), 100, 1), -1);
    assert_int_equal (md_bar_tick (b, 111, s_t (9, 32, 1, 0), 0, 1), -1);
    assert_int_equal (md_bar_tick (b, 111, s_t (9, 32, 1, 0), 100, -1), -1);
    struct md_bar_stats st;
    md_bar_stats (b, &st);
    assert_int_equal (st.refused, 3);
    md_bar_destroy (&b);
}

static void
test_late_tick_folded (void **state)
{
    (void) state;
    md_bar_t *b = s_new (0);
    md_bar_tick (b, 111, s_t (10, 0, 10, 0), 10000, 10);
    md_bar_advance (b, s_t (10, 1, 0, 0));
    assert_int_equal (s_n, 1);
    //  Exchange time inside the closed minute: goes into 10:01, never a second 10:00.
    md_bar_tick (b, 111, s_t (10, 0, 59, 900), 10100, 20);
    md_bar_advance (b, s_t (10, 2, 0, 0));
    assert_int_equal (s_n, 2);
    s_assert_bar (&s_bars[1], 111, s_t (10, 1, 0, 0), 10100, 10100, 10100, 10100, 10, 1, true);
    //  Late against the open minute set by a later tick of the same instrument.
    md_bar_tick (b, 111, s_t (10, 3, 5, 0), 10200, 30);
    md_bar_tick (b, 111, s_t (10, 2, 58, 0), 10150, 31);
    md_bar_advance (b, s_t (10, 4, 0, 0));
    int last = s_n - 1;
    s_assert_bar (&s_bars[last], 111, s_t (10, 3, 0, 0), 10200, 10200, 10150, 10150, 11, 2, true);
    struct md_bar_stats st;
    md_bar_stats (b, &st);
    assert_int_equal (st.late, 2);
    md_bar_destroy (&b);
}

static void
test_session_end_and_next_day (void **state)
{
    (void) state;
    md_bar_t *b = s_new (0);
    md_bar_tick (b, 111, s_t (15, 28, 30, 0), 10000, 10);
    md_bar_advance (b, s_t (16, 0, 0, 0));
    //  15:28 with data, 15:29 flat, nothing after 15:30.
    assert_int_equal (s_n, 2);
    assert_int_equal (s_bars[1].start_ns, s_t (15, 29, 0, 0));
    //  The next morning: no flat bars before the first trade of the day, VWAP anew.
    int64_t day = 86400 * S_SEC;
    md_bar_advance (b, s_t (9, 20, 0, 0) + day);
    assert_int_equal (s_n, 2);
    md_bar_tick (b, 111, s_t (9, 20, 5, 0) + day, 12000, 40);
    md_bar_advance (b, s_t (9, 21, 0, 0) + day);
    assert_int_equal (s_n, 3);
    //  Joined after the open: volume baseline 40, so volume 0 and VWAP 0 (undefined).
    s_assert_bar (&s_bars[2], 111, s_t (9, 20, 0, 0) + day, 12000, 12000, 12000, 12000, 0, 1, true);
    assert_int_equal (s_bars[2].vwap, 0);
    md_bar_destroy (&b);
}

static void
test_partial_bars (void **state)
{
    (void) state;
    md_bar_t *b = s_new (10 * S_SEC);
    md_bar_tick (b, 111, s_t (9, 40, 1, 0), 10000, 10); //  joins mid-day: baseline 10
    md_bar_advance (b, s_t (9, 40, 2, 0));
    assert_int_equal (s_n, 1);
    s_assert_bar (&s_bars[0], 111, s_t (9, 40, 0, 0), 10000, 10000, 10000, 10000, 0, 1, false);
    //  Not due yet, then due but nothing changed.
    md_bar_tick (b, 111, s_t (9, 40, 3, 0), 10100, 20);
    md_bar_advance (b, s_t (9, 40, 5, 0));
    assert_int_equal (s_n, 1);
    md_bar_advance (b, s_t (9, 40, 10, 0));
    assert_int_equal (s_n, 2);
    s_assert_bar (&s_bars[1], 111, s_t (9, 40, 0, 0), 10000, 10100, 10000, 10100, 10, 2, false);
    md_bar_advance (b, s_t (9, 40, 20, 0));
    assert_int_equal (s_n, 2);
    //  The final comes once at the boundary, after which the partial has nothing new.
    md_bar_advance (b, s_t (9, 41, 0, 0));
    assert_int_equal (s_n, 3);
    assert_true (s_bars[2].final);
    struct md_bar_stats st;
    md_bar_stats (b, &st);
    assert_int_equal (st.partials, 2);
    assert_int_equal (st.finals, 1);
    md_bar_destroy (&b);
}

static void
test_config_and_table (void **state)
{
    (void) state;
    struct md_bar_cfg cfg = {.capacity = 2, .session_open_min = 555, .session_close_min = 930};
    assert_null (md_bar_new (&cfg, NULL, NULL));
    cfg.capacity = 0;
    assert_null (md_bar_new (&cfg, s_on_bar, NULL));
    cfg.capacity = 2;
    cfg.session_close_min = 555;
    assert_null (md_bar_new (&cfg, s_on_bar, NULL));
    cfg.session_close_min = 930;
    cfg.partial_ns = -1;
    assert_null (md_bar_new (&cfg, s_on_bar, NULL));
    cfg.partial_ns = 0;
    md_bar_t *b = md_bar_new (&cfg, s_on_bar, NULL);
    assert_non_null (b);
    assert_int_equal (md_bar_add (b, 1, "A"), 0);
    assert_int_equal (md_bar_add (b, 2, "B"), 0);
    assert_int_equal (md_bar_add (b, 1, "A2"), 0); //  rename, not a new row
    assert_int_equal (md_bar_add (b, 3, "C"), -1); //  full
    assert_int_equal (md_bar_add (b, 2, ""), -1);
    s_n = 0;
    md_bar_tick (b, 1, s_t (9, 15, 1, 0), 100, 1);
    md_bar_advance (b, s_t (9, 16, 0, 0));
    assert_int_equal (s_n, 1);
    assert_string_equal (s_bars[0].sym, "A2");
    md_bar_destroy (&b);
    md_bar_destroy (&b);
    md_bar_destroy (NULL);
}

//  Random ticks for two instruments over a session hour, random clock steps: every
//  (token, minute) final at most once, finals contiguous from the first trade's minute
//  to the last closed minute, volume conserved, OHLC consistent.
static void
test_random_invariants (void **state)
{
    (void) state;
    srand (7);
    for (int round = 0; round < 20; round++) {
        md_bar_t *b = s_new (0);
        int64_t t = s_t (9, 15, 0, 0);
        int64_t end = s_t (10, 15, 0, 0);
        int64_t cum[2] = {0, 0}, total[2] = {0, 0}, first_min[2] = {-1, -1};
        uint32_t tok[2] = {111, 222};
        while (t < end) {
            t += (rand () % 20000) * 1000000LL;
            if (t >= end)
                break;
            int k = rand () % 2;
            int64_t dv = rand () % 4 == 0 ? 0 : rand () % 100;
            cum[k] += dv;
            total[k] += dv;
            //  Exchange time up to 2 s behind the clock.
            int64_t ts = t - (rand () % 2000) * 1000000LL;
            md_bar_tick (b, tok[k], ts, 10000 + rand () % 500, cum[k]);
            if (first_min[k] < 0) {
                first_min[k] = ts / KT_NS_PER_MIN;
                //  Joined after the first session minute: its volume is the baseline.
                if (first_min[k] > s_t (9, 15, 0, 0) / KT_NS_PER_MIN)
                    total[k] -= cum[k];
            }
            if (rand () % 5 == 0)
                md_bar_advance (b, t);
        }
        md_bar_advance (b, end);
        int64_t last_closed = end / KT_NS_PER_MIN - 1;
        for (int k = 0; k < 2; k++) {
            int64_t expect = first_min[k], vol = 0;
            for (int i = 0; i < s_n; i++) {
                if (s_bars[i].token != tok[k])
                    continue;
                assert_true (s_bars[i].final);
                assert_int_equal (s_bars[i].start_ns / KT_NS_PER_MIN, expect);
                assert_true (s_bars[i].l <= s_bars[i].o && s_bars[i].o <= s_bars[i].h);
                assert_true (s_bars[i].l <= s_bars[i].c && s_bars[i].c <= s_bars[i].h);
                assert_true (s_bars[i].volume >= 0);
                expect++;
                vol += s_bars[i].volume;
            }
            assert_int_equal (expect, last_closed + 1);
            assert_int_equal (vol, total[k]);
        }
        md_bar_destroy (&b);
    }
}

//  A restart: history from candles through minute L, the minutes after L through C from
//  their complete candles (minute by minute for both tokens), then ticks. Every bar after
//  L equals the bar an uninterrupted builder made from the same trades (ticks count
//  aside), flat bars included, and the ticks after C add only their new volume.
static void
test_seed_and_candles (void **state)
{
    (void) state;
    //  token, minute after 09:15, second, price, cumulative volume
    static const int64_t tr[][5] = {
        {111, 0, 5, 10000, 10},  {222, 0, 9, 5000, 4},    {111, 0, 40, 10100, 25},
        {111, 1, 3, 10050, 40},  {222, 1, 30, 5010, 9},   {111, 2, 1, 9990, 50},
        {111, 2, 50, 10020, 70}, {222, 3, 10, 5050, 12},  {111, 3, 20, 10030, 75},
        {111, 4, 15, 10080, 90}, {222, 4, 45, 5040, 20},  {111, 5, 5, 10090, 95},
        {222, 5, 30, 5060, 26},  {111, 5, 55, 10070, 101}};
    const size_t nt = sizeof tr / sizeof tr[0];
    md_bar_t *a = s_new (0);
    for (size_t i = 0; i < nt; i++)
        assert_int_equal (md_bar_tick (a, (uint32_t) tr[i][0],
                                       s_t (9, 15 + (int) tr[i][1], (int) tr[i][2], 0), tr[i][3],
                                       tr[i][4]),
                          0);
    md_bar_advance (a, s_t (9, 21, 0, 0));
    static struct kt_bar want[64];
    int nwant = s_n;
    memcpy (want, s_bars, sizeof want[0] * (size_t) s_n);
    md_bar_destroy (&a);
    //  Candles: the uninterrupted bars of the minutes with trades.
    struct md_candle c[2][8];
    size_t nc[2] = {0, 0};
    for (int i = 0; i < nwant; i++) {
        int k = want[i].token == 111 ? 0 : 1;
        if (want[i].volume > 0)
            c[k][nc[k]++] = (struct md_candle){want[i].start_ns, want[i].o, want[i].h,
                                               want[i].l,        want[i].c, want[i].volume};
    }
    md_bar_t *b = s_new (0);
    int64_t after = s_t (9, 16, 0, 0); //  L = 09:16 was the last bar stored
    assert_int_equal (md_bar_seed (b, 111, c[0], nc[0], after), 2);
    assert_int_equal (md_bar_seed (b, 222, c[1], nc[1], after), 2);
    assert_int_equal (s_n, 0); //  history is not published again
    //  C = 09:19: minutes 09:17..09:19 from candles, minute by minute.
    for (int m = 17; m <= 19; m++) {
        md_bar_advance (b, s_t (9, m, 0, 0));
        for (int k = 0; k < 2; k++)
            for (size_t j = 0; j < nc[k]; j++)
                if (c[k][j].start_ns == s_t (9, m, 0, 0))
                    assert_int_equal (md_bar_candle (b, k ? 222 : 111, &c[k][j]), 0);
    }
    md_bar_advance (b, s_t (9, 20, 0, 0));
    //  A candle of a closed minute is refused.
    assert_int_equal (md_bar_candle (b, 111, &c[0][0]), -1);
    //  The ticks of 09:20 on.
    for (size_t i = 0; i < nt; i++)
        if (tr[i][1] >= 5)
            assert_int_equal (md_bar_tick (b, (uint32_t) tr[i][0],
                                           s_t (9, 15 + (int) tr[i][1], (int) tr[i][2], 0),
                                           tr[i][3], tr[i][4]),
                              0);
    md_bar_advance (b, s_t (9, 21, 0, 0));
    int compared = 0;
    for (int i = 0; i < nwant; i++) {
        if (want[i].start_ns <= after)
            continue;
        bool found = false;
        for (int j = 0; j < s_n; j++) {
            if (s_bars[j].token != want[i].token || s_bars[j].start_ns != want[i].start_ns)
                continue;
            assert_false (found); //  exactly once
            found = true;
            bool candle = s_bars[j].start_ns < s_t (9, 20, 0, 0);
            s_assert_bar (&s_bars[j], want[i].token, want[i].start_ns, want[i].o, want[i].h,
                          want[i].l, want[i].c, want[i].volume, candle ? 0 : want[i].ticks, true);
            assert_int_equal (s_bars[j].vwap, want[i].vwap);
            compared++;
        }
        assert_true (found);
    }
    assert_int_equal (compared, s_n);
    assert_int_equal (compared, 2 * 4); //  09:17..09:20, both tokens (222's 09:17 flat)
    md_bar_destroy (&b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ohlcv_and_vwap),
        cmocka_unit_test (test_flat_bars_exactly_once),
        cmocka_unit_test (test_volume_drop_and_midday_join),
        cmocka_unit_test (test_non_trading_ticks),
        cmocka_unit_test (test_late_tick_folded),
        cmocka_unit_test (test_session_end_and_next_day),
        cmocka_unit_test (test_partial_bars),
        cmocka_unit_test (test_config_and_table),
        cmocka_unit_test (test_random_invariants),
        cmocka_unit_test (test_seed_and_candles),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
