/*  sim_market_test - the synthetic market: symbol grammar and expiry rule, the shape of
 *  every quote (tick grid, spread, lot-multiple depth), slot streams independent of
 *  the listing width, candles, replayed bars rebuilt as candles, and the swing
 *  structure the baseline strategy needs (2-bar swing lows at Rs 100-300 that pass
 *  its VWAP and stop-distance filters on most days). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../sim/sim_market.h"

static sim_market_t *
s_market (uint64_t seed, int32_t date, int strikes)
{
    struct sim_market_cfg cfg = { .seed = seed, .date = date, .strikes_each_side = strikes,
                                  .lot = 75 };
    char err[256] = "";
    sim_market_t *m = sim_market_new (&cfg, err, sizeof err);
    if (!m)
        fprintf (stderr, "sim_market_new: %s\n", err);
    assert_non_null (m);
    return m;
}

static void
test_symbols (void **state)
{
    (void) state;
    char buf[32];
    //  Weekly: YY, month digit or O/N/D, DD (orders.json and the forum examples).
    assert_int_equal (sim_market_symbol (20250807, 2440000, true, buf, sizeof buf), 0);
    assert_string_equal (buf, "NIFTY2580724400CE");
    assert_int_equal (sim_market_symbol (20201217, 1360000, true, buf, sizeof buf), 0);
    assert_string_equal (buf, "NIFTY20D1713600CE");
    assert_int_equal (sim_market_symbol (20251014, 2500000, false, buf, sizeof buf), 0);
    assert_string_equal (buf, "NIFTY25O1425000PE");
    assert_int_equal (sim_market_symbol (20251118, 2400000, false, buf, sizeof buf), 0);
    assert_string_equal (buf, "NIFTY25N1824000PE");
    //  Monthly: the last expiry of the month.
    assert_int_equal (sim_market_symbol (20251125, 2400000, true, buf, sizeof buf), 0);
    assert_string_equal (buf, "NIFTY25NOV24000CE");
    assert_int_equal (sim_market_symbol (20251230, 2600000, false, buf, sizeof buf), 0);
    assert_string_equal (buf, "NIFTY25DEC26000PE");
    //  Refusals.
    assert_int_equal (sim_market_symbol (20251125, 2400050, true, buf, sizeof buf), -1);
    assert_int_equal (sim_market_symbol (20251325, 2400000, true, buf, sizeof buf), -1);
    assert_int_equal (sim_market_symbol (20251125, 2400000, true, buf, 8), -1);
}

static void
test_expiry_rule (void **state)
{
    (void) state;
    assert_int_equal (sim_market_expiry_for (20251124), 20251125);     //  Monday
    assert_int_equal (sim_market_expiry_for (20251125), 20251125);     //  Tuesday: itself
    assert_int_equal (sim_market_expiry_for (20251126), 20251202);     //  Wednesday
    assert_int_equal (sim_market_expiry_for (20251231), 20260106);     //  across the year
    assert_int_equal (sim_market_expiry_for (20251129), 20251202);     //  Saturday
    assert_int_equal (sim_market_expiry_for (0), 0);
    //  On a monthly expiry's week the listing uses the monthly names.
    sim_market_t *m = s_market (1, 20251121, 10);
    assert_int_equal (sim_market_expiry (m), 20251125);
    assert_non_null (strstr (sim_market_instr (m, 1)->sym, "NIFTY25NOV"));
    assert_int_equal (sim_market_count (m), 43);
    sim_market_destroy (&m);
    assert_null (m);
}

//  Every quote of a slot obeys the grid: tick, bid < ask, levels ordered, lot sizes.
static void
s_check_quote (const sim_market_t *m, int slot)
{
    const struct sim_quote *q = sim_market_quote (m, slot);
    assert_true (q->ltp > 0);
    assert_int_equal (q->ltp % 5, 0);
    assert_true (q->l <= q->ltp && q->ltp <= q->h);
    if (slot == 0) {
        assert_int_equal (q->bid[0].qty, 0);
        assert_int_equal (q->volume, 0);
        return;
    }
    assert_true (q->ask[0].px > q->bid[0].px || q->bid[0].qty == 0);
    for (int i = 0; i < SIM_DEPTH; i++) {
        assert_int_equal (q->ask[i].px % 5, 0);
        assert_int_equal (q->ask[i].qty % 75, 0);
        assert_true (q->ask[i].qty > 0 && q->ask[i].orders >= 1);
        if (i > 0)
            assert_true (q->ask[i].px > q->ask[i - 1].px);
        if (q->bid[i].qty) {
            assert_int_equal (q->bid[i].px % 5, 0);
            assert_int_equal (q->bid[i].qty % 75, 0);
            if (i > 0)
                assert_true (q->bid[i].px < q->bid[i - 1].px);
        }
    }
    assert_true (q->oi > 0 && q->oi < INT32_MAX);
    assert_true (q->oi_day_low <= q->oi && q->oi <= q->oi_day_high);
}

static void
test_quote_shape (void **state)
{
    (void) state;
    sim_market_t *m = s_market (4, 20251112, 10);
    int64_t qty, prev_ns = 0;
    int64_t *vol = calloc (sim_market_count (m), sizeof *vol);
    int64_t n = 0, trades = 0;
    for (int slot; (slot = sim_market_step (m, &qty)) >= 0 && n < 200000; n++) {
        const struct sim_quote *q = sim_market_quote (m, slot);
        assert_true (q->exch_ns >= prev_ns);
        assert_true (q->exch_ns >= sim_market_open_ns (m) && q->exch_ns < sim_market_close_ns (m));
        prev_ns = q->exch_ns;
        if (qty) {
            trades++;
            assert_int_equal (qty % 75, 0);
            assert_int_equal (q->last_qty, qty);
            assert_true (q->ltp == q->bid[0].px || q->ltp == q->ask[0].px);
        }
        assert_int_equal (q->volume, vol[slot] + qty);
        vol[slot] = q->volume;
        if (n % 97 == 0)
            s_check_quote (m, slot);
    }
    assert_true (trades > n / 2);
    free (vol);
    sim_market_destroy (&m);
}

//  Hash of one token's ticks up to end_ns.
static uint64_t
s_token_hash (sim_market_t *m, uint32_t token, int64_t end_ns, int64_t *count)
{
    uint64_t h = 0xCBF29CE484222325ull;
    int64_t qty;
    *count = 0;
    while (sim_market_next_ns (m) <= end_ns) {
        int slot = sim_market_step (m, &qty);
        const struct sim_quote *q = sim_market_quote (m, slot);
        if (q->token != token)
            continue;
        int64_t v[] = { q->exch_ns, q->ltp, qty, q->bid[0].px, q->ask[4].qty };
        for (size_t i = 0; i < 5; i++) {
            h ^= (uint64_t) v[i];
            h *= 0x100000001B3ull;
        }
        (*count)++;
    }
    return h;
}

static void
test_streams_do_not_depend_on_listing_width (void **state)
{
    (void) state;
    sim_market_t *a = s_market (21, 20251112, 10);
    sim_market_t *b = s_market (21, 20251112, 15);
    const struct kt_instr *in = sim_market_instr (a, 21);      //  ATM CE of the narrow list
    const struct kt_instr *in_b = kt_instr_by_sym (sim_market_instruments (b), "NFO", in->sym);
    assert_non_null (in_b);
    int64_t end = sim_market_open_ns (a) + 30 * KT_NS_PER_MIN;
    int64_t na, nb;
    uint64_t ha = s_token_hash (a, in->token, end, &na);
    uint64_t hb = s_token_hash (b, in_b->token, end, &nb);
    assert_true (na > 100);
    //  Tokens differ with the listing; the prices and times do not.
    assert_int_equal (na, nb);
    assert_true (ha == hb);
    sim_market_destroy (&a);
    sim_market_destroy (&b);
    a = s_market (21, 20251112, 10);
    b = s_market (21, 20251112, 15);
    assert_int_equal (s_token_hash (a, SIM_NIFTY_TOKEN, end, &na),
                      s_token_hash (b, SIM_NIFTY_TOKEN, end, &nb));
    sim_market_destroy (&a);
    sim_market_destroy (&b);
}

//  Run the whole session.
static void
s_run_day (sim_market_t *m)
{
    int64_t qty;
    while (sim_market_step (m, &qty) >= 0)
        ;
    assert_int_equal (sim_market_next_ns (m), INT64_MAX);
}

static void
test_candles (void **state)
{
    (void) state;
    sim_market_t *m = s_market (8, 20251113, 3);
    s_run_day (m);
    struct sim_candle c[SIM_MARKET_MINUTES];
    for (size_t slot = 0; slot < sim_market_count (m); slot++) {
        int n = sim_market_candles (m, (int) slot, 0, INT64_MAX, c, SIM_MARKET_MINUTES);
        assert_true (n > 300);
        int64_t vol = 0;
        for (int i = 0; i < n; i++) {
            assert_true (c[i].l <= c[i].o && c[i].o <= c[i].h);
            assert_true (c[i].l <= c[i].c && c[i].c <= c[i].h);
            assert_int_equal ((c[i].start_ns - sim_market_open_ns (m)) % KT_NS_PER_MIN, 0);
            if (i)
                assert_true (c[i].start_ns > c[i - 1].start_ns);
            vol += c[i].volume;
        }
        assert_int_equal (vol, sim_market_quote (m, (int) slot)->volume);
        assert_int_equal (c[n - 1].c, sim_market_quote (m, (int) slot)->ltp);
    }
    assert_int_equal (sim_market_candles (m, 99, 0, INT64_MAX, c, 10), 0);
    assert_int_equal (sim_market_candles (m, 0, 0, INT64_MAX, c, 10), 10);
    sim_market_destroy (&m);
}

//  The baseline's swing logic on one option's candles: 2-bar swing lows at Rs 100-300,
//  and of those the ones that pass its VWAP premium (>= 4%) and stop distance (2-10%)
//  filters at the moment the swing is known (bar i + 2).
static void
s_swings (const struct sim_candle *c, int n, int *swings, int *qualified)
{
    double pv = 0, v = 0;
    double vwap[SIM_MARKET_MINUTES];
    for (int i = 0; i < n; i++) {
        pv += (double) (c[i].h + c[i].l + c[i].c) / 3.0 * (double) c[i].volume;
        v += (double) c[i].volume;
        vwap[i] = v > 0? pv / v: (double) c[i].c;
    }
    for (int i = 2; i + 2 < n; i++) {
        int64_t low = c[i].l;
        if (!(low < c[i - 1].l && low < c[i - 2].l && low < c[i + 1].l && low < c[i + 2].l))
            continue;
        if (low < 10000 || low > 30000)
            continue;
        (*swings)++;
        int64_t high = 0;
        for (int j = i; j <= i + 2; j++)
            high = c[j].h > high? c[j].h: high;
        double sl_pct = (double) (high - low) / (double) low;
        double premium = ((double) low - vwap[i]) / vwap[i];
        if (premium >= 0.04 && sl_pct >= 0.02 && sl_pct <= 0.10)
            (*qualified)++;
    }
}

static void
test_swing_structure (void **state)
{
    (void) state;
    //  Dates with 1-6 days to expiry; each seed a different day.
    static const int32_t dates[] = { 20251112, 20251113, 20251114, 20251117, 20251119 };
    int days_with_trades = 0;
    for (int d = 0; d < 5; d++) {
        sim_market_t *m = s_market (100 + (uint64_t) d, dates[d], 10);
        s_run_day (m);
        int atm_swings = 0, qualified = 0;
        struct sim_candle c[SIM_MARKET_MINUTES];
        //  ATM +/- 10 strikes, CE and PE: the baseline's universe (slots 1..42).
        for (size_t slot = 1; slot < sim_market_count (m); slot++) {
            int n = sim_market_candles (m, (int) slot, 0, INT64_MAX, c, SIM_MARKET_MINUTES);
            int sw = 0, q = 0;
            s_swings (c, n, &sw, &q);
            qualified += q;
            if (slot == 21 || slot == 22)               //  the ATM CE and PE
                atm_swings += sw;
        }
        //  The ATM pair alone has a few swing lows in the price band...
        if (atm_swings < 3)
            fprintf (stderr, "date %d: ATM swings %d\n", dates[d], atm_swings);
        assert_true (atm_swings >= 3);
        //  ...and the universe has candidates that pass the filters.
        if (qualified >= 1)
            days_with_trades++;
        sim_market_destroy (&m);
    }
    assert_true (days_with_trades >= 4);
}

static void
test_replayed_bars_become_candles (void **state)
{
    (void) state;
    char path[] = "/tmp/sim_market_test_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *f = fdopen (fd, "w");
    fprintf (f, "ts,tradingsymbol,open,high,low,close,volume\n"
                "2025-11-12 09:15:00,NIFTY 50,24000.00,24020.50,23990.00,24010.00,0\n"
                "2025-11-12 09:15:00,NIFTY25N1824000CE,150.00,155.50,148.00,149.00,7500\n"
                "2025-11-12 09:16:00,NIFTY 50,24010.00,24011.00,23980.00,23985.00,0\n"
                "2025-11-12 09:16:00,NIFTY25N1824000CE,149.00,151.00,147.05,150.95,1500\n");
    fclose (f);
    struct sim_market_cfg cfg = { .seed = 3, .date = 20251112, .replay_path = path,
                                  .strikes_each_side = 10, .lot = 75 };
    char err[256] = "";
    sim_market_t *m = sim_market_new (&cfg, err, sizeof err);
    assert_non_null (m);
    s_run_day (m);
    const struct kt_instr *ce = kt_instr_by_sym (sim_market_instruments (m), "NFO",
                                                 "NIFTY25N1824000CE");
    assert_non_null (ce);
    struct sim_candle c[4];
    int n = sim_market_candles (m, sim_market_slot (m, ce->token), 0, INT64_MAX, c, 4);
    assert_int_equal (n, 2);
    assert_int_equal (c[0].o, 15000);
    assert_int_equal (c[0].h, 15550);
    assert_int_equal (c[0].l, 14800);
    assert_int_equal (c[0].c, 14900);
    assert_int_equal (c[0].volume, 7500);
    assert_int_equal (c[1].l, 14705);
    assert_int_equal (c[1].c, 15095);
    assert_int_equal (c[1].volume, 1500);
    n = sim_market_candles (m, 0, 0, INT64_MAX, c, 4);
    assert_int_equal (n, 2);
    assert_int_equal (c[1].h, 2401100);
    assert_int_equal (c[1].c, 2398500);
    //  Other options are priced from the replayed index, not replayed themselves.
    assert_true (sim_market_quote (m, 1)->volume > 0);
    sim_market_destroy (&m);
    unlink (path);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_symbols),
        cmocka_unit_test (test_expiry_rule),
        cmocka_unit_test (test_quote_shape),
        cmocka_unit_test (test_streams_do_not_depend_on_listing_width),
        cmocka_unit_test (test_candles),
        cmocka_unit_test (test_swing_structure),
        cmocka_unit_test (test_replayed_bars_become_candles),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
