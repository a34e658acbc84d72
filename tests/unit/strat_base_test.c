/*  strat_base_test - baseline_v1 on hand-made bar sequences: swings (strict lows, gaps,
 *  broken), the static and dynamic filters at their boundaries, sizing and the lot cap,
 *  the best candidate and every tie-break, PLACE / keep / MODIFY / CANCEL, position
 *  limits, +5R / -5R, the 15:00 cut-off, the 15:15 flatten, the daily reset and the
 *  day's universe. Fills are given as exec events, as exec-gateway would send them. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../strategy/strat.h"
#include "../../strategy/strat_base.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"
#define IDX 256265u
#define CE24000 10000041u //  strike 23000 + 50 j: CE token 10000001 + 2 j, PE + 1
#define PE24000 10000042u
#define CE24050 10000043u
#define CE23950 10000039u
#define PE24050 10000044u
#define PE23950 10000040u
#define NS_MIN (60LL * 1000000000LL)

struct sc {
    kt_instr_table_t *instr;
    struct strat_params p;
    strat_core_t *core;
    struct strat_out out;
    int64_t t0; //  09:15 of the day
};

struct ob {
    uint32_t token;
    int64_t o, h, l, c, v;
};

static void
s_open (struct sc *sc, int y, int mo, int d)
{
    char err[256];
    memset (sc, 0, sizeof *sc);
    sc->instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (sc->instr);
    strat_params_defaults (&sc->p);
    sc->t0 = kt_ist_ns (y, mo, d, 9, 15, 0);
}

static void
s_start (struct sc *sc)
{
    char err[256];
    sc->core = strat_core_new ("baseline_v1", &sc->p, sc->instr, err, sizeof err);
    assert_non_null (sc->core);
}

static void
s_close (struct sc *sc)
{
    strat_core_destroy (&sc->core);
    kt_instr_destroy (&sc->instr);
}

//  Minute i of the day: the index bar (open index_open), the given option bars, then
//  the minute's close. Returns the intents of the close.
static struct strat_out *
s_minute_at (struct sc *sc, int64_t ts, int64_t index_open, int n, const struct ob *bars)
{
    sc->out.n = 0;
    struct strat_bar ib = {IDX, ts, index_open, index_open, index_open, index_open, 0};
    strat_core_bar (sc->core, &ib, &sc->out);
    for (int i = 0; i < n; i++) {
        struct strat_bar b = {bars[i].token, ts,        bars[i].o, bars[i].h,
                              bars[i].l,     bars[i].c, bars[i].v};
        strat_core_bar (sc->core, &b, &sc->out);
    }
    strat_core_timer (sc->core, ts + NS_MIN, &sc->out);
    return &sc->out;
}

static struct strat_out *
s_minute (struct sc *sc, int i, int n, const struct ob *bars)
{
    return s_minute_at (sc, sc->t0 + i * NS_MIN, 2401000, n, bars);
}

//  Six bars (minutes from..from+5) making a swing low L at minute from+3 whose
//  sl_price is H (H >= L + 150): VWAP = 90% of L (only the first bar has volume).
static void
s_cand_bars (int j, uint32_t token, int64_t L, int64_t H, struct ob *out)
{
    int64_t b = L * 9 / 10 / 5 * 5;
    const struct ob bars[6] = {
        {token, b, b, b, b, 1000},
        {token, L + 400, L + 500, L + 300, L + 400, 0},
        {token, L + 300, L + 400, L + 200, L + 300, 0},
        {token, H, H, L, L, 0},
        {token, L + 100, L + 150, L + 100, L + 100, 0},
        {token, L + 100, L + 150, L + 100, L + 100, 0},
    };
    *out = bars[j];
}

//  Feed candidates (token, L, H) over minutes 0..5; returns the last close's intents.
static struct strat_out *
s_cands (struct sc *sc, int n, const uint32_t *tok, const int64_t *L, const int64_t *H)
{
    struct strat_out *out = NULL;
    for (int j = 0; j < 6; j++) {
        struct ob bars[8];
        for (int i = 0; i < n; i++)
            s_cand_bars (j, tok[i], L[i], H[i], &bars[i]);
        out = s_minute (sc, j, n, bars);
        if (j < 5)
            assert_int_equal (out->n, 0);
    }
    return out;
}

static void
s_fill (struct sc *sc, uint32_t id, uint32_t token, int64_t qty, int64_t px, int i)
{
    struct strat_exec ev = {STRAT_EV_ENTRY_FILL, id, token, sc->t0 + i * NS_MIN, qty, px};
    strat_core_exec (sc->core, &ev, &sc->out);
}

// ---- swings --------------------------------------------------------------------------

static void
test_swing_strict_and_equal_lows (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    //  lows 170, 168, 160, 160, 165, 166: two equal lows are not a swing
    const int64_t lows[] = {17000, 16800, 16000, 16000, 16500, 16600, 16700};
    for (int i = 0; i < 7; i++) {
        struct ob b = {CE24000, lows[i], lows[i] + 500, lows[i], lows[i], 100};
        s_minute (&sc, i, 1, &b);
    }
    struct strat_base_cand c;
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_false (c.valid);
    //  a strictly lower low at 7, then two higher: a swing known at the close of 9
    const int64_t more[] = {15900, 16100, 16200};
    for (int i = 0; i < 3; i++) {
        struct ob b = {CE24000, more[i], more[i] + 500, more[i], more[i], 100};
        s_minute (&sc, 7 + i, 1, &b);
        strat_base_cand (strat_core_state (sc.core), CE24000, &c);
        assert_int_equal (c.valid, i == 2);
    }
    assert_int_equal (c.low, 15900);
    assert_int_equal (c.ts, sc.t0 + 7 * NS_MIN);
    assert_int_equal (c.high, 16700); //  highest high from the swing bar to now
    s_close (&sc);
}

static void
test_swing_across_gaps_and_broken (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    //  rows at minutes 0, 1, 5, 9, 10 only: the neighbours are the instrument's own bars
    const int mins[] = {0, 1, 5, 9, 10};
    const int64_t lows[] = {17000, 16800, 16000, 16500, 16600};
    struct strat_base_cand c;
    for (int i = 0; i < 5; i++) {
        struct ob b = {CE24000, lows[i], lows[i] + 300, lows[i], lows[i], 100};
        s_minute (&sc, mins[i], 1, &b);
        if (i < 4) //  a minute with the index only
            s_minute (&sc, mins[i] + 1, 0, NULL);
    }
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_true (c.valid);
    assert_int_equal (c.low, 16000);
    //  a low equal to the swing does not break it
    struct ob eq = {CE24000, 16100, 16200, 16000, 16100, 100};
    s_minute (&sc, 11, 1, &eq);
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_true (c.valid);
    //  one tick below breaks it
    struct ob below = {CE24000, 16100, 16200, 15995, 16100, 100};
    s_minute (&sc, 12, 1, &below);
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_false (c.valid);
    s_close (&sc);
}

static void
test_static_filter (void **state)
{
    (void) state;
    const int64_t lows[] = {9995, 10000, 30000, 30005};
    const bool kept[] = {false, true, true, false};
    for (int k = 0; k < 4; k++) {
        struct sc sc;
        s_open (&sc, 2026, 11, 23);
        s_start (&sc);
        uint32_t tok = CE24000;
        int64_t H = lows[k] + 1000;
        s_cands (&sc, 1, &tok, &lows[k], &H);
        struct strat_base_cand c;
        strat_base_cand (strat_core_state (sc.core), CE24000, &c);
        assert_int_equal (c.valid, kept[k]);
        s_close (&sc);
    }
}

static void
test_failed_swing_keeps_previous_candidate (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    uint32_t tok = CE24000;
    int64_t L = 20000, H = 21000;
    s_cands (&sc, 1, &tok, &L, &H);
    //  a new swing at 340 (above swing_max) is ignored; the 200 candidate stays
    const int64_t lows[] = {36000, 35000, 34000, 35500, 35600};
    for (int i = 0; i < 5; i++) {
        struct ob b = {CE24000, lows[i], lows[i] + 100, lows[i], lows[i], 0};
        s_minute (&sc, 6 + i, 1, &b);
    }
    struct strat_base_cand c;
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_true (c.valid);
    assert_int_equal (c.low, 20000);
    s_close (&sc);
    //  the same bars with swing_max 400: the 340 swing replaces it
    s_open (&sc, 2026, 11, 23);
    sc.p.swing_max = 40000;
    s_start (&sc);
    s_cands (&sc, 1, &tok, &L, &H);
    for (int i = 0; i < 5; i++) {
        struct ob b = {CE24000, lows[i], lows[i] + 100, lows[i], lows[i], 0};
        s_minute (&sc, 6 + i, 1, &b);
    }
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_true (c.valid);
    assert_int_equal (c.low, 34000);
    s_close (&sc);
}

// ---- dynamic filters, sizing ------------------------------------------------------

//  VWAP exactly 100.00 (one bar with volume); swing at minute 3 with low L.
static struct strat_out *
s_vwap_case (struct sc *sc, int64_t L)
{
    const struct ob bars[6] = {
        {CE24000, 10000, 10000, 10000, 10000, 5000},
        {CE24000, 11000, 11100, 11000, 11000, 0},
        {CE24000, 10800, 10900, 10800, 10800, 0},
        {CE24000, L + 400, L + 400, L, L, 0},
        {CE24000, L + 200, L + 400, L + 200, L + 200, 0},
        {CE24000, L + 300, L + 400, L + 300, L + 300, 0},
    };
    struct strat_out *out = NULL;
    for (int i = 0; i < 6; i++)
        out = s_minute (sc, i, 1, &bars[i]);
    return out;
}

static void
test_vwap_premium_boundary (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    //  (104.00 - 100) / 100 = 4%: qualifies; sl_points 4 -> 21 lots, capped at 10
    struct strat_out *out = s_vwap_case (&sc, 10400);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].kind, STRAT_I_PLACE);
    assert_int_equal (out->v[0].qty, 750);
    assert_int_equal (out->v[0].trigger, 10395);
    assert_int_equal (out->v[0].price, 10385);
    assert_int_equal (out->v[0].sl_price, 10800);
    assert_int_equal (out->v[0].r_value, 400 * 750);
    s_close (&sc);

    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    out = s_vwap_case (&sc, 10395); //  3.95%: does not
    assert_int_equal (out->n, 0);
    s_close (&sc);
}

static void
test_vwap_undefined_without_volume (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    const int64_t lows[] = {21000, 20500, 20000, 20200, 20300};
    struct strat_out *out = NULL;
    for (int i = 0; i < 5; i++) {
        struct ob b = {CE24000, lows[i] + 800, lows[i] + 1000, lows[i], lows[i] + 800, 0};
        out = s_minute (&sc, i, 1, &b);
    }
    struct strat_base_cand c;
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_true (c.valid);
    assert_int_equal (out->n, 0); //  a candidate, but VWAP undefined: no entry
    s_close (&sc);
}

static void
test_sl_pct_boundaries (void **state)
{
    (void) state;
    //  swing 200.00: sl_points 4.00 (2%) and 20.00 (10%) qualify, one tick beyond not
    const int64_t H[] = {20400, 20395, 22000, 22005};
    const bool ok[] = {true, false, true, false};
    for (int k = 0; k < 4; k++) {
        struct sc sc;
        s_open (&sc, 2026, 11, 23);
        s_start (&sc);
        uint32_t tok = CE24000;
        int64_t L = 20000;
        int64_t h = H[k];
        //  H below L + 150 would not be the sl_price: use a custom last bar instead
        struct strat_out *out = NULL;
        for (int j = 0; j < 6; j++) {
            struct ob b;
            s_cand_bars (j, tok, L, h, &b);
            if (j >= 4) {
                b.h = L + 100;
                b.o = b.c = b.l = L + 50;
            }
            out = s_minute (&sc, j, 1, &b);
        }
        assert_int_equal (out->n, ok[k] ? 1 : 0);
        if (ok[k])
            assert_int_equal (out->v[0].sl_price, H[k]);
        s_close (&sc);
    }
}

static void
test_sizing_and_lot_cap (void **state)
{
    (void) state;
    //  R 6500, lot 75: sl_points 8.00 -> 10.8 -> 10; 8.70 -> 9.96 -> 9; 4.00 -> 21 -> cap 10
    const int64_t pts[] = {800, 870, 400, 2000};
    const int64_t lots[] = {10, 9, 10, 4};
    for (int k = 0; k < 4; k++) {
        struct sc sc;
        s_open (&sc, 2026, 11, 23);
        s_start (&sc);
        uint32_t tok = CE24000;
        int64_t L = 20000, H = L + pts[k];
        struct strat_out *out = s_cands (&sc, 1, &tok, &L, &H);
        assert_int_equal (out->n, 1);
        assert_int_equal (out->v[0].qty, lots[k] * 75);
        s_close (&sc);
    }
    //  R too small for one lot: disqualified
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    sc.p.r_value = 800 * 75 - 1;
    s_start (&sc);
    uint32_t tok = CE24000;
    int64_t L = 20000, H = 20800;
    assert_int_equal (s_cands (&sc, 1, &tok, &L, &H)->n, 0);
    s_close (&sc);
    //  exactly one lot
    s_open (&sc, 2026, 11, 23);
    sc.p.r_value = 800 * 75;
    s_start (&sc);
    struct strat_out *out = s_cands (&sc, 1, &tok, &L, &H);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].qty, 75);
    s_close (&sc);
}

// ---- best candidate -----------------------------------------------------------------

static uint32_t
s_best_of (int n, const uint32_t *tok, const int64_t *L, const int64_t *H)
{
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    struct strat_out *out = s_cands (&sc, n, tok, L, H);
    assert_int_equal (out->n, 1);
    uint32_t best = out->v[0].token;
    s_close (&sc);
    return best;
}

static void
test_best_and_tie_breaks (void **state)
{
    (void) state;
    //  nearest sl_points to 10
    {
        const uint32_t tok[] = {CE24000, CE24050};
        const int64_t L[] = {20000, 20000}, H[] = {20900, 21000};
        assert_int_equal (s_best_of (2, tok, L, H), CE24050);
    }
    //  |8 - 10| == |12 - 10|: the higher swing low
    {
        const uint32_t tok[] = {CE24000, CE24050};
        const int64_t L[] = {21000, 20000}, H[] = {22200, 20800};
        assert_int_equal (s_best_of (2, tok, L, H), CE24000);
        const int64_t L2[] = {20000, 21000}, H2[] = {20800, 22200};
        assert_int_equal (s_best_of (2, tok, L2, H2), CE24050);
    }
    //  same distance, same low: the lower token, whatever the order of the bars
    {
        const uint32_t tok[] = {CE24050, CE23950};
        const int64_t L[] = {20000, 20000}, H[] = {20800, 20800};
        assert_int_equal (s_best_of (2, tok, L, H), CE23950);
    }
    //  CE and PE are chosen separately; CE comes first
    {
        struct sc sc;
        s_open (&sc, 2026, 11, 23);
        s_start (&sc);
        const uint32_t tok[] = {CE24000, PE24000, PE24050};
        const int64_t L[] = {20000, 20000, 15000}, H[] = {21000, 21000, 16000};
        struct strat_out *out = s_cands (&sc, 3, tok, L, H);
        assert_int_equal (out->n, 2);
        assert_int_equal (out->v[0].token, CE24000);
        assert_int_equal (out->v[0].itype, KT_ITYPE_CE);
        assert_int_equal (out->v[1].token, PE24000);
        assert_int_equal (out->v[1].itype, KT_ITYPE_PE);
        s_close (&sc);
    }
}

// ---- PLACE / keep / MODIFY / CANCEL -----------------------------------------------

static void
test_place_keep_modify_cancel (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    uint32_t tok = CE24000;
    int64_t L = 20000, H = 20800; //  8 points: 10 lots
    struct strat_out *out = s_cands (&sc, 1, &tok, &L, &H);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].kind, STRAT_I_PLACE);
    uint32_t id = out->v[0].order_id;
    assert_true (id > 0);
    //  nothing changes: keep
    struct ob same = {CE24000, 20100, 20150, 20100, 20100, 0};
    assert_int_equal (s_minute (&sc, 6, 1, &same)->n, 0);
    //  a higher high: 8.50 points, still 10 lots, same trigger: keep (sl_price stays)
    struct ob up1 = {CE24000, 20100, 20850, 20100, 20100, 0};
    assert_int_equal (s_minute (&sc, 7, 1, &up1)->n, 0);
    //  9.00 points: 9 lots -> MODIFY with the new size and sl_price
    struct ob up2 = {CE24000, 20100, 20900, 20100, 20100, 0};
    out = s_minute (&sc, 8, 1, &up2);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].kind, STRAT_I_MODIFY);
    assert_int_equal (out->v[0].order_id, id);
    assert_int_equal (out->v[0].qty, 9 * 75);
    assert_int_equal (out->v[0].sl_price, 20900);
    //  price moving away does not cancel
    struct ob away = {CE24000, 20500, 20600, 20500, 20500, 0};
    assert_int_equal (s_minute (&sc, 9, 1, &away)->n, 0);
    //  the candidate breaks: nothing qualifies -> CANCEL
    struct ob brk = {CE24000, 20100, 20150, 19900, 20000, 0};
    out = s_minute (&sc, 16, 1, &brk);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].kind, STRAT_I_CANCEL);
    assert_int_equal (out->v[0].why, STRAT_WHY_NO_CANDIDATE);
    assert_int_equal (out->v[0].order_id, id);
    s_close (&sc);
}

static void
test_cancel_and_replace (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    //  two CE candidates: 24000 at 9 points (best), 24050 at 7 points
    const uint32_t tok[] = {CE24000, CE24050};
    const int64_t L[] = {20000, 20000}, H[] = {20900, 20700};
    struct strat_out *out = s_cands (&sc, 2, tok, L, H);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].token, CE24000);
    uint32_t id = out->v[0].order_id;
    //  24000's sl_points grow to 14 (|14 - 10| = 4): 24050 (|7 - 10| = 3) is now best
    const struct ob b[] = {{CE24000, 20100, 21400, 20100, 20100, 0},
                           {CE24050, 20100, 20150, 20100, 20100, 0}};
    out = s_minute (&sc, 6, 2, b);
    assert_int_equal (out->n, 2);
    assert_int_equal (out->v[0].kind, STRAT_I_CANCEL);
    assert_int_equal (out->v[0].why, STRAT_WHY_REPLACED);
    assert_int_equal (out->v[0].order_id, id);
    assert_int_equal (out->v[1].kind, STRAT_I_PLACE);
    assert_int_equal (out->v[1].token, CE24050);
    assert_true (out->v[1].order_id > id);
    s_close (&sc);
}

// ---- limits, day exits ----------------------------------------------------------------

static void
test_position_limits (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    //  three CE and three PE candidates, best first by distance: A (10), B (9), C (8)
    const uint32_t tok[] = {CE24000, CE24050, CE23950, PE24000, PE24050, PE23950};
    const int64_t L[] = {20000, 20000, 20000, 20000, 20000, 20000};
    const int64_t H[] = {21000, 20900, 20800, 21000, 20900, 20800};
    struct strat_out *out = s_cands (&sc, 6, tok, L, H);
    assert_int_equal (out->n, 2);
    //  fill both: 1 CE + 1 PE open; next close places the next best of each
    s_fill (&sc, out->v[0].order_id, CE24000, out->v[0].qty, out->v[0].trigger, 6);
    s_fill (&sc, out->v[1].order_id, PE24000, out->v[1].qty, out->v[1].trigger, 6);
    out = s_minute (&sc, 6, 0, NULL);
    assert_int_equal (out->n, 2);
    assert_int_equal (out->v[0].token, CE24050);
    assert_int_equal (out->v[1].token, PE24050);
    //  fill both: 4 open. CE: 4 + 0 pending PE < 5 -> PLACE; PE: 4 + 1 pending CE = 5 -> none
    s_fill (&sc, out->v[0].order_id, CE24050, out->v[0].qty, out->v[0].trigger, 7);
    s_fill (&sc, out->v[1].order_id, PE24050, out->v[1].qty, out->v[1].trigger, 7);
    out = s_minute (&sc, 7, 0, NULL);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].kind, STRAT_I_PLACE);
    assert_int_equal (out->v[0].token, CE23950);
    struct strat_base_view v;
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.open[0] + v.open[1], 4);
    //  fill it: 5 open, no more entries of either type
    s_fill (&sc, out->v[0].order_id, CE23950, out->v[0].qty, out->v[0].trigger, 8);
    assert_int_equal (s_minute (&sc, 8, 0, NULL)->n, 0);
    s_close (&sc);

    //  per type: 3 CE open blocks CE while PE is still placed
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    const uint32_t tok2[] = {CE24000, CE24050, CE23950, PE24000};
    out = s_cands (&sc, 4, tok2, L, H);
    for (int k = 0; k < 3; k++) {
        assert_int_equal (out->v[0].itype, KT_ITYPE_CE);
        s_fill (&sc, out->v[0].order_id, out->v[0].token, out->v[0].qty, out->v[0].trigger, 6 + k);
        if (out->n == 2) //  the PE entry stays pending (keep)
            assert_int_equal (out->v[1].itype, KT_ITYPE_PE);
        out = s_minute (&sc, 6 + k, 0, NULL);
    }
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.open[0], 3);
    assert_int_equal (out->n, 0); //  CE at its limit; the PE entry is kept
    assert_true (v.pending[1] != 0);
    assert_int_equal (v.pending[0], 0);
    s_close (&sc);
}

//  One CE position: entry 199.95, r = 10 points x qty. Returns the position's id.
static uint32_t
s_one_position (struct sc *sc)
{
    uint32_t tok = CE24000;
    int64_t L = 20000, H = 21000;
    struct strat_out *out = s_cands (sc, 1, &tok, &L, &H);
    assert_int_equal (out->n, 1);
    s_fill (sc, out->v[0].order_id, CE24000, out->v[0].qty, 19995, 6);
    return out->v[0].order_id;
}

static void
test_day_target_and_loss (void **state)
{
    (void) state;
    //  close such that (199.95 - close) / 10 = +5 exactly, and a tick short of it
    const int64_t closes[] = {14995, 15000, 24995, 24990};
    const strat_why_t why[] = {STRAT_WHY_TARGET_DAY, STRAT_WHY_NONE, STRAT_WHY_LOSS_DAY,
                               STRAT_WHY_NONE};
    for (int k = 0; k < 4; k++) {
        struct sc sc;
        s_open (&sc, 2026, 11, 23);
        s_start (&sc);
        s_one_position (&sc);
        int64_t c = closes[k];
        struct ob b = {CE24000, c, c, c, c, 0};
        struct strat_out *out = s_minute (&sc, 6, 1, &b);
        if (why[k] == STRAT_WHY_NONE) {
            for (int i = 0; i < out->n; i++)
                assert_int_not_equal (out->v[i].kind, STRAT_I_FLATTEN);
        } else {
            assert_int_equal (out->n, 1);
            assert_int_equal (out->v[0].kind, STRAT_I_FLATTEN);
            assert_int_equal (out->v[0].why, why[k]);
            //  flattened: no entries for the rest of the day
            struct strat_base_view v;
            strat_base_view (strat_core_state (sc.core), &v);
            assert_true (v.flattened);
        }
        s_close (&sc);
    }
}

static void
test_realised_r_counts (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    uint32_t id = s_one_position (&sc);
    //  stopped out at 210.00: (199.95 - 210) / 10 = -1.005 R realised
    struct strat_exec ev = {STRAT_EV_STOP_FILL, id, CE24000, sc.t0 + 7 * NS_MIN, 600, 21000};
    strat_core_exec (sc.core, &ev, &sc.out);
    struct strat_base_view v;
    strat_base_view (strat_core_state (sc.core), &v);
    char buf[32];
    assert_string_equal (strat_rmul_format (v.realised, buf, sizeof buf), "-1.0050");
    assert_int_equal (v.open[0], 0);
    s_close (&sc);
}

static void
test_fills_in_parts (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    uint32_t tok = CE24000;
    int64_t L = 20000, H = 21000;
    struct strat_out *out = s_cands (&sc, 1, &tok, &L, &H);
    uint32_t id = out->v[0].order_id;
    assert_int_equal (out->v[0].qty, 600);
    //  200 of 600 filled: a position, and the rest of the entry still pending
    s_fill (&sc, id, CE24000, 200, 19995, 6);
    struct strat_base_view v;
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.open[0], 1);
    assert_int_equal (v.pending[0], id);
    s_fill (&sc, id, CE24000, 400, 19985, 6);
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.pending[0], 0);
    //  bought back in two parts: realised only when all of it is back
    struct strat_exec ev = {STRAT_EV_STOP_FILL, id, CE24000, sc.t0 + 7 * NS_MIN, 300, 21000};
    strat_core_exec (sc.core, &ev, &sc.out);
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.open[0], 1);
    assert_int_equal (strat_rmul_cmp_int (v.realised, 0), 0);
    ev.px = 21010;
    strat_core_exec (sc.core, &ev, &sc.out);
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.open[0], 0);
    //  (200 x 199.95 + 400 x 199.85 - 300 x 210.00 - 300 x 210.10) / (10.00 x 600)
    int64_t pnl = 200 * 19995 + 400 * 19985 - 300 * 21000 - 300 * 21010;
    bool ok = true;
    assert_int_equal (strat_rmul_cmp (v.realised, strat_rmul_make (pnl, 1000 * 600), &ok), 0);
    s_close (&sc);
}

static void
test_cutoff_and_time_flatten (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    //  the candidate's minutes end at 14:58 (closes 14:59 < 15:00): PLACE
    sc.t0 = kt_ist_ns (2026, 11, 23, 14, 53, 0);
    s_start (&sc);
    uint32_t tok = CE24000;
    int64_t L = 20000, H = 21000;
    struct strat_out *out = s_cands (&sc, 1, &tok, &L, &H);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].kind, STRAT_I_PLACE);
    //  14:59 closes at 15:00: the pending entry is cancelled, nothing placed
    struct ob b = {CE24000, 20100, 20150, 20100, 20100, 0};
    out = s_minute (&sc, 6, 1, &b);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].kind, STRAT_I_CANCEL);
    assert_int_equal (out->v[0].why, STRAT_WHY_CUTOFF);
    s_close (&sc);

    //  15:13 closes at 15:14: nothing; 15:14 closes at 15:15: FLATTEN TIME
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    s_one_position (&sc);
    int64_t t1513 = kt_ist_ns (2026, 11, 23, 15, 13, 0);
    struct ob c = {CE24000, 20100, 20150, 20100, 20100, 0};
    assert_int_equal (s_minute_at (&sc, t1513, 2401000, 1, &c)->n, 0);
    out = s_minute_at (&sc, t1513 + NS_MIN, 2401000, 1, &c);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->v[0].kind, STRAT_I_FLATTEN);
    assert_int_equal (out->v[0].why, STRAT_WHY_TIME);
    s_close (&sc);
}

static void
test_daily_reset (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    uint32_t tok = CE24000;
    int64_t L = 20000, H = 21000;
    s_cands (&sc, 1, &tok, &L, &H);
    struct strat_base_cand c;
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_true (c.valid);
    //  the next day: the candidate is gone, and swings do not span days: the last two
    //  bars of day 1 plus three of day 2 make no swing
    int64_t d1 = kt_ist_ns (2026, 11, 23, 15, 28, 0);
    struct ob hi = {CE24000, 20500, 20600, 20500, 20500, 0};
    s_minute_at (&sc, d1, 2401000, 1, &hi);
    s_minute_at (&sc, d1 + NS_MIN, 2401000, 1, &hi);
    int64_t d2 = kt_ist_ns (2026, 11, 24, 9, 15, 0);
    const int64_t lows[] = {19000, 19500, 19600};
    for (int i = 0; i < 3; i++) {
        struct ob b = {CE24000, lows[i], lows[i] + 100, lows[i], lows[i], 10};
        s_minute_at (&sc, d2 + i * NS_MIN, 2401000, 1, &b);
    }
    strat_base_cand (strat_core_state (sc.core), CE24000, &c);
    assert_false (c.valid);
    struct strat_base_view v;
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.day, 20261124);
    assert_false (v.flattened);
    assert_int_equal (strat_rmul_cmp_int (v.realised, 0), 0);
    s_close (&sc);
}

static void
test_universe (void **state)
{
    (void) state;
    struct sc sc;
    s_open (&sc, 2026, 11, 23);
    s_start (&sc);
    //  24024.95 -> 24000; 21 strikes x CE/PE of the 24 Nov expiry
    s_minute_at (&sc, sc.t0, 2402495, 0, NULL);
    struct strat_base_view v;
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.atm, 2400000);
    assert_int_equal (v.expiry, 20261124);
    assert_int_equal (v.universe, 42);
    s_close (&sc);
    //  24025.00 rounds half up to 24050; on the expiry day the same expiry
    s_open (&sc, 2026, 11, 24);
    s_start (&sc);
    s_minute_at (&sc, sc.t0, 2402500, 0, NULL);
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.atm, 2405000);
    assert_int_equal (v.expiry, 20261124);
    s_close (&sc);
    //  the day after: the next expiry (its strikes 23500..24500 only)
    s_open (&sc, 2026, 11, 25);
    s_start (&sc);
    s_minute_at (&sc, sc.t0, 2400000, 0, NULL);
    strat_base_view (strat_core_state (sc.core), &v);
    assert_int_equal (v.expiry, 20261201);
    assert_int_equal (v.universe, 42);
    s_close (&sc);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_swing_strict_and_equal_lows),
        cmocka_unit_test (test_swing_across_gaps_and_broken),
        cmocka_unit_test (test_static_filter),
        cmocka_unit_test (test_failed_swing_keeps_previous_candidate),
        cmocka_unit_test (test_vwap_premium_boundary),
        cmocka_unit_test (test_vwap_undefined_without_volume),
        cmocka_unit_test (test_sl_pct_boundaries),
        cmocka_unit_test (test_sizing_and_lot_cap),
        cmocka_unit_test (test_best_and_tie_breaks),
        cmocka_unit_test (test_place_keep_modify_cancel),
        cmocka_unit_test (test_cancel_and_replace),
        cmocka_unit_test (test_position_limits),
        cmocka_unit_test (test_day_target_and_loss),
        cmocka_unit_test (test_realised_r_counts),
        cmocka_unit_test (test_fills_in_parts),
        cmocka_unit_test (test_cutoff_and_time_flatten),
        cmocka_unit_test (test_daily_reset),
        cmocka_unit_test (test_universe),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
