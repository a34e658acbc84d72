/*  kt_fill_test - the fill model's rules, one case per rule and boundary: triggers,
 *  market protection (automatic table and explicit percent), depth walking, partial
 *  fills, trade-through of resting orders, and liquidity used once per quote. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "kt_fill.h"

//  A quote around 100.00 on the 0.05 tick: bids 99.95/99.90/.. asks 100.05/100.10/..,
//  75 units at each level; last trade 100.00 x 75.
static struct kt_fill_quote
s_quote (void)
{
    struct kt_fill_quote q = { .ltp = 10000, .trade_qty = 75, .tick = 5 };
    for (int i = 0; i < KT_FILL_DEPTH; i++) {
        q.bid[i] = (struct kt_fill_level) { .px = 9995 - 5 * i, .qty = 75 };
        q.ask[i] = (struct kt_fill_level) { .px = 10005 + 5 * i, .qty = 75 };
    }
    return q;
}

static struct kt_fill_order
s_order (kt_side_t side, kt_order_type_t type, int64_t qty, int64_t price, int64_t trigger)
{
    return (struct kt_fill_order) { .side = side, .order_type = type, .qty = qty,
                                    .price = price, .trigger = trigger,
                                    .market_protection = -1 };
}

static int
s_match (struct kt_fill_order *o, const struct kt_fill_quote *q, struct kt_fill_liq *liq,
         struct kt_fill *out)
{
    return kt_fill_match (o, q, liq, out, KT_FILL_MAX);
}

static void
test_trigger_rules (void **state)
{
    (void) state;
    struct kt_fill_order buy = s_order (KT_SIDE_BUY, KT_OT_SL, 75, 10100, 10050);
    assert_false (kt_fill_trigger (&buy, 10045));
    assert_true (kt_fill_trigger (&buy, 10050));       //  at the trigger
    assert_true (kt_fill_trigger (&buy, 10100));
    struct kt_fill_order sell = s_order (KT_SIDE_SELL, KT_OT_SLM, 75, 0, 9950);
    assert_false (kt_fill_trigger (&sell, 9955));
    assert_true (kt_fill_trigger (&sell, 9950));
    assert_true (kt_fill_trigger (&sell, 9000));
    assert_false (kt_fill_trigger (&sell, 0));          //  no LTP, no trigger
    struct kt_fill_order lim = s_order (KT_SIDE_BUY, KT_OT_LIMIT, 75, 10000, 0);
    assert_false (kt_fill_trigger (&lim, 20000));       //  not a stop
}

static void
test_auto_protection_table (void **state)
{
    (void) state;
    assert_int_equal (kt_fill_auto_protection (995), 5);
    assert_int_equal (kt_fill_auto_protection (1000), 3);     //  Rs 10 is in the 3% band
    assert_int_equal (kt_fill_auto_protection (9995), 3);
    assert_int_equal (kt_fill_auto_protection (10000), 2);
    assert_int_equal (kt_fill_auto_protection (49995), 2);
    assert_int_equal (kt_fill_auto_protection (50000), 1);
}

static void
test_protect_price (void **state)
{
    (void) state;
    //  Rs 100, auto 2%: 102.00 / 98.00.
    assert_int_equal (kt_fill_protect_price (KT_SIDE_BUY, 10000, -1, 5), 10200);
    assert_int_equal (kt_fill_protect_price (KT_SIDE_SELL, 10000, -1, 5), 9800);
    //  Explicit 5% of 123.45 = 129.6225 -> rounded toward the LTP: 129.60; 117.2775 -> 117.30.
    assert_int_equal (kt_fill_protect_price (KT_SIDE_BUY, 12345, 5, 5), 12960);
    assert_int_equal (kt_fill_protect_price (KT_SIDE_SELL, 12345, 5, 5), 11730);
    //  Tiny prices: at least one tick away, never below one tick.
    assert_int_equal (kt_fill_protect_price (KT_SIDE_BUY, 50, -1, 5), 55);
    assert_int_equal (kt_fill_protect_price (KT_SIDE_SELL, 50, -1, 5), 45);
    assert_int_equal (kt_fill_protect_price (KT_SIDE_SELL, 10, 100, 5), 5);
    //  Out of range.
    assert_int_equal (kt_fill_protect_price (KT_SIDE_BUY, 10000, 0, 5), 0);
    assert_int_equal (kt_fill_protect_price (KT_SIDE_BUY, 10000, 101, 5), 0);
    assert_int_equal (kt_fill_protect_price (KT_SIDE_BUY, 0, -1, 5), 0);
    assert_int_equal (kt_fill_protect_price (KT_SIDE_BUY, 10000, -1, 0), 0);
}

static void
test_market_fills_at_touch (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    struct kt_fill_order o = s_order (KT_SIDE_BUY, KT_OT_MARKET, 75, 0, 0);
    assert_int_equal (s_match (&o, &q, &liq, out), 1);
    assert_int_equal (out[0].px, 10005);
    assert_int_equal (out[0].qty, 75);
    assert_int_equal (o.filled, 75);
    assert_int_equal (o.protect_px, 10200);
    //  Done: nothing more.
    assert_int_equal (s_match (&o, &q, &liq, out), 0);

    struct kt_fill_order s = s_order (KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    assert_int_equal (s_match (&s, &q, &liq, out), 1);
    assert_int_equal (out[0].px, 9995);
}

static void
test_market_walks_depth_within_protection (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    //  Protection 1% of 100.00 = cap 101.00: every level (100.05..100.25) is inside.
    struct kt_fill_order o = s_order (KT_SIDE_BUY, KT_OT_MARKET, 300, 0, 0);
    o.market_protection = 1;
    assert_int_equal (s_match (&o, &q, &liq, out), 4);
    assert_int_equal (out[0].px, 10005);
    assert_int_equal (out[3].px, 10020);
    assert_int_equal (out[3].qty, 75);
    assert_int_equal (o.filled, 300);
}

static void
test_market_protection_caps_the_walk (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    //  A thin book: asks 100.05 x 75 then 103.00 x 750 (beyond the 2% cap of 102.00).
    q.ask[1] = (struct kt_fill_level) { 10300, 750 };
    for (int i = 2; i < KT_FILL_DEPTH; i++)
        q.ask[i] = (struct kt_fill_level) { 10300 + 5 * i, 750 };
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    struct kt_fill_order o = s_order (KT_SIDE_BUY, KT_OT_MARKET, 225, 0, 0);
    assert_int_equal (s_match (&o, &q, &liq, out), 1);
    assert_int_equal (o.filled, 75);
    //  The rest stays working at the cap: a later ask at 102.00 fills it, 102.05 does not.
    kt_fill_liq_reset (&liq);
    q.ask[0] = (struct kt_fill_level) { 10205, 750 };
    q.trade_qty = 0;
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    q.ask[0] = (struct kt_fill_level) { 10200, 750 };
    assert_int_equal (s_match (&o, &q, &liq, out), 1);
    assert_int_equal (out[0].px, 10200);
    assert_int_equal (out[0].qty, 150);
    assert_int_equal (o.filled, 225);
}

static void
test_limit_marketable_gets_better_price (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    //  BUY LIMIT 100.10 for 225: 75 at 100.05, 75 at 100.10, the rest (75) rests.
    struct kt_fill_order o = s_order (KT_SIDE_BUY, KT_OT_LIMIT, 225, 10010, 0);
    q.trade_qty = 0;
    assert_int_equal (s_match (&o, &q, &liq, out), 2);
    assert_int_equal (out[0].px, 10005);
    assert_int_equal (out[1].px, 10010);
    assert_int_equal (o.filled, 150);
    //  SELL LIMIT at exactly the bid fills at the bid.
    struct kt_fill_order s = s_order (KT_SIDE_SELL, KT_OT_LIMIT, 75, 9995, 0);
    assert_int_equal (s_match (&s, &q, &liq, out), 1);
    assert_int_equal (out[0].px, 9995);
    //  One tick above the bid: nothing.
    struct kt_fill_order s2 = s_order (KT_SIDE_SELL, KT_OT_LIMIT, 75, 10000, 0);
    kt_fill_liq_reset (&liq);
    assert_int_equal (s_match (&s2, &q, &liq, out), 0);
    assert_int_equal (s2.filled, 0);
}

static void
test_limit_passive_trade_through (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    //  Resting BUY 99.90 (below the bid). A trade at 99.95 does not reach it.
    struct kt_fill_order o = s_order (KT_SIDE_BUY, KT_OT_LIMIT, 150, 9990, 0);
    q.ltp = 9995;
    q.trade_qty = 100;
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    //  A trade at exactly 99.90 (touched): fills at the limit, up to the traded 100.
    kt_fill_liq_reset (&liq);
    q.ltp = 9990;
    assert_int_equal (s_match (&o, &q, &liq, out), 1);
    assert_int_equal (out[0].px, 9990);
    assert_int_equal (out[0].qty, 100);
    assert_int_equal (o.filled, 100);
    //  The same trade cannot fill the rest again.
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    //  A trade through it (99.50) on the next quote fills the rest at the limit.
    kt_fill_liq_reset (&liq);
    q.ltp = 9950;
    assert_int_equal (s_match (&o, &q, &liq, out), 1);
    assert_int_equal (out[0].px, 9990);
    assert_int_equal (out[0].qty, 50);
    assert_int_equal (o.filled, 150);
}

static void
test_liquidity_used_once_per_quote (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    q.trade_qty = 0;
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    struct kt_fill_order a = s_order (KT_SIDE_BUY, KT_OT_LIMIT, 50, 10005, 0);
    struct kt_fill_order b = s_order (KT_SIDE_BUY, KT_OT_LIMIT, 50, 10005, 0);
    assert_int_equal (s_match (&a, &q, &liq, out), 1);
    assert_int_equal (out[0].qty, 50);
    assert_int_equal (s_match (&b, &q, &liq, out), 1);
    assert_int_equal (out[0].qty, 25);                  //  only 25 of the 75 left
    assert_int_equal (b.filled, 25);
    assert_int_equal (s_match (&b, &q, &liq, out), 0);
    //  A new quote brings new liquidity.
    kt_fill_liq_reset (&liq);
    assert_int_equal (s_match (&b, &q, &liq, out), 1);
    assert_int_equal (b.filled, 50);
}

static void
test_sl_becomes_limit_after_trigger (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    //  SELL SL trigger 99.00, limit 98.50 (the baseline's entry shape).
    struct kt_fill_order o = s_order (KT_SIDE_SELL, KT_OT_SL, 150, 9850, 9900);
    assert_int_equal (s_match (&o, &q, &liq, out), 0);     //  ltp 100.00: waiting
    assert_false (o.triggered);
    assert_int_equal (kt_fill_working_limit (&o), 0);
    //  LTP 98.95 fires it; bids 98.90 x 75, 98.85 x 75, ... fill down to 98.50.
    for (int i = 0; i < KT_FILL_DEPTH; i++) {
        q.bid[i] = (struct kt_fill_level) { 9890 - 5 * i, 75 };
        q.ask[i] = (struct kt_fill_level) { 9895 + 5 * i, 75 };
    }
    q.ltp = 9895;
    q.trade_qty = 1000;
    kt_fill_liq_reset (&liq);
    assert_int_equal (s_match (&o, &q, &liq, out), 2);
    assert_true (o.triggered);
    assert_int_equal (out[0].px, 9890);
    assert_int_equal (out[1].px, 9885);
    //  The trade that fired the trigger does not fill it a second time.
    assert_int_equal (o.filled, 150);
}

static void
test_sl_limit_beyond_market_rests (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    //  BUY SL trigger 100.00 limit 100.00: fires at ltp 100.00, but the ask is 100.05.
    struct kt_fill_order o = s_order (KT_SIDE_BUY, KT_OT_SL, 75, 10000, 10000);
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    assert_true (o.triggered);
    assert_int_equal (kt_fill_working_limit (&o), 10000);
    //  Next quote: a trade at 100.00 now fills the resting limit.
    kt_fill_liq_reset (&liq);
    assert_int_equal (s_match (&o, &q, &liq, out), 1);
    assert_int_equal (out[0].px, 10000);
    assert_int_equal (o.filled, 75);
}

static void
test_slm_becomes_market_after_trigger (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    struct kt_fill_order o = s_order (KT_SIDE_BUY, KT_OT_SLM, 75, 0, 10100);
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    assert_int_equal (o.protect_px, 0);                  //  not fixed before the trigger
    q.ltp = 10100;
    for (int i = 0; i < KT_FILL_DEPTH; i++)
        q.ask[i] = (struct kt_fill_level) { 10105 + 5 * i, 75 };
    kt_fill_liq_reset (&liq);
    assert_int_equal (s_match (&o, &q, &liq, out), 1);
    assert_int_equal (o.protect_px, 10300);              //  101.00 + 2% = 103.02 -> 103.00
    assert_int_equal (out[0].px, 10105);
}

static void
test_degenerate_inputs (void **state)
{
    (void) state;
    struct kt_fill_quote q = s_quote ();
    struct kt_fill_liq liq = { 0 };
    struct kt_fill out[KT_FILL_MAX];
    struct kt_fill_order o = s_order (KT_SIDE_NONE, KT_OT_MARKET, 75, 0, 0);
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    o = s_order (KT_SIDE_BUY, KT_OT_NONE, 75, 0, 0);
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    o = s_order (KT_SIDE_BUY, KT_OT_MARKET, 75, 0, 0);
    q.tick = 0;
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    //  An empty book and no LTP: a market order has no reference, fills nothing.
    memset (&q, 0, sizeof q);
    q.tick = 5;
    assert_int_equal (s_match (&o, &q, &liq, out), 0);
    assert_int_equal (o.filled, 0);
    //  max truncates.
    q = s_quote ();
    o = s_order (KT_SIDE_BUY, KT_OT_LIMIT, 375, 10100, 0);
    assert_int_equal (kt_fill_match (&o, &q, &liq, out, 2), 2);
    assert_int_equal (o.filled, 150);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_trigger_rules),
        cmocka_unit_test (test_auto_protection_table),
        cmocka_unit_test (test_protect_price),
        cmocka_unit_test (test_market_fills_at_touch),
        cmocka_unit_test (test_market_walks_depth_within_protection),
        cmocka_unit_test (test_market_protection_caps_the_walk),
        cmocka_unit_test (test_limit_marketable_gets_better_price),
        cmocka_unit_test (test_limit_passive_trade_through),
        cmocka_unit_test (test_liquidity_used_once_per_quote),
        cmocka_unit_test (test_sl_becomes_limit_after_trigger),
        cmocka_unit_test (test_sl_limit_beyond_market_rests),
        cmocka_unit_test (test_slm_becomes_market_after_trigger),
        cmocka_unit_test (test_degenerate_inputs),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
