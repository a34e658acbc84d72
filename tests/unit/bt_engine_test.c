/*  bt_engine_test - the bar-mode fill rules of backtest-bars.md, each on a hand-made
 *  minute: an entry through its trigger, gapping through the trigger, gapping through
 *  the limit (filled at the limit, or resting and filled later at max(L, open)), a
 *  minute without a row, the stop (not in the entry's minute, at max(S, open)),
 *  flatten and the end of the day at the close, MODIFY as a fresh order, the risk
 *  hook; then baseline_v1 through the engine (consumed and broken candidates).
 *
 *  A scripted strategy (bt_script.h: the interface's second user) places the orders
 *  at chosen minutes and records what the engine tells it. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bt_script.h"

// ---- entry fills -----------------------------------------------------------------------

//  Entry T 199.95, L 199.85 placed at the close of minute 0; minute 1 is the test bar.
static const struct bt_trade *
s_entry_case (struct fx *fx, int64_t o, int64_t h, int64_t l, int64_t c, size_t want)
{
    s_setup (fx, &s_script_algo, NULL, NULL);
    s_plan_entry (fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_min (fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (fx, 1, CE, o, h, l, c);
    return s_trade (fx, want);
}

static void
test_entry_fills_at_trigger (void **state)
{
    (void) state;
    struct fx fx;
    const struct bt_trade *t = s_entry_case (&fx, 20100, 20200, 19900, 20000, 1);
    assert_int_equal (t->entry_px, 19995);
    assert_int_equal (t->entry_ts, fx.t0 + NS_MIN);
    assert_int_equal (t->qty, 600);
    assert_int_equal (t->r_at_risk, (21000 - 20000) * 600);
    assert_int_equal (fx.script->seen[0].kind, STRAT_EV_ENTRY_FILL);
    assert_int_equal (fx.script->seen[0].px, 19995);
    s_teardown (&fx);
    //  low exactly at the trigger fills; one tick above does not
    s_entry_case (&fx, 20100, 20200, 19995, 20000, 1);
    s_teardown (&fx);
    s_entry_case (&fx, 20100, 20200, 20000, 20000, 0);
    s_teardown (&fx);
}

static void
test_entry_gap_through_trigger (void **state)
{
    (void) state;
    struct fx fx;
    //  open 199.90: at or below T, at or above L -> fills at the open
    const struct bt_trade *t = s_entry_case (&fx, 19990, 20000, 19800, 19900, 1);
    assert_int_equal (t->entry_px, 19990);
    s_teardown (&fx);
    //  open exactly L
    t = s_entry_case (&fx, 19985, 20000, 19800, 19900, 1);
    assert_int_equal (t->entry_px, 19985);
    s_teardown (&fx);
}

static void
test_entry_gap_through_limit (void **state)
{
    (void) state;
    struct fx fx;
    //  open 199.50 below L, high reaches L -> fills at L
    const struct bt_trade *t = s_entry_case (&fx, 19950, 19985, 19900, 19950, 1);
    assert_int_equal (t->entry_px, 19985);
    s_teardown (&fx);
    //  high below L: rests as a LIMIT at L
    s_entry_case (&fx, 19950, 19980, 19900, 19950, 0);
    //  a minute without a row of the instrument fills nothing
    s_min (&fx, 2, 0, 0, 0, 0, 0);
    s_trade (&fx, 0);
    //  a later minute with high >= L fills at max(L, open): open 199.70 -> 199.85
    s_min (&fx, 3, CE, 19970, 19990, 19960, 19980);
    t = s_trade (&fx, 1);
    assert_int_equal (t->entry_px, 19985);
    assert_int_equal (t->entry_ts, fx.t0 + 3 * NS_MIN);
    s_teardown (&fx);
    //  ... or at the open when it opens above L
    s_entry_case (&fx, 19950, 19980, 19900, 19950, 0);
    s_min (&fx, 2, CE, 20100, 20200, 20050, 20100);
    t = s_trade (&fx, 1);
    assert_int_equal (t->entry_px, 20100);
    s_teardown (&fx);
}

static void
test_modify_is_a_fresh_order (void **state)
{
    (void) state;
    struct fx fx;
    s_setup (&fx, &s_script_algo, NULL, NULL);
    s_plan_entry (&fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    //  the resting (triggered) entry is modified at the close of minute 1: untriggered
    s_plan_entry (&fx, 1, STRAT_I_MODIFY, 1, 19795, 19785, 675, 20900);
    s_min (&fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (&fx, 1, CE, 19950, 19980, 19900, 19950); //  triggers, rests at 199.85
    //  high 199.90 would fill the old resting limit; the new order's trigger is 197.95
    s_min (&fx, 2, CE, 19960, 19990, 19960, 19970);
    s_trade (&fx, 0);
    s_min (&fx, 3, CE, 19900, 19950, 19700, 19800);
    const struct bt_trade *t = s_trade (&fx, 1);
    assert_int_equal (t->entry_px, 19795);
    assert_int_equal (t->qty, 675);
    assert_int_equal (t->sl_price, 20900);
    s_teardown (&fx);
}

static void
test_cancel_removes_the_entry (void **state)
{
    (void) state;
    struct fx fx;
    s_setup (&fx, &s_script_algo, NULL, NULL);
    s_plan_entry (&fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_plan_entry (&fx, 1, STRAT_I_CANCEL, 1, 0, 0, 0, 0);
    s_min (&fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (&fx, 1, CE, 20500, 20600, 20400, 20500);
    s_min (&fx, 2, CE, 20000, 20000, 19000, 19500);
    s_trade (&fx, 0);
    s_teardown (&fx);
}

// ---- stops and exits ------------------------------------------------------------------

static void
test_stop_rules (void **state)
{
    (void) state;
    struct fx fx;
    //  the entry's own minute reaches the stop: not live yet
    s_entry_case (&fx, 20100, 21500, 19900, 20000, 1);
    const struct bt_trade *t = s_trade (&fx, 1);
    assert_int_equal (t->exit_ts, 0);
    //  next minute: high reaches S, open below -> fills at S
    s_min (&fx, 2, CE, 20500, 21000, 20400, 20900);
    t = s_trade (&fx, 1);
    assert_int_equal (t->exit_px, 21000);
    assert_int_equal (t->exit_ts, fx.t0 + 2 * NS_MIN);
    assert_int_equal (t->reason, BT_EXIT_STOP);
    assert_int_equal (bt_trade_pnl (t), (19995 - 21000) * 600);
    char buf[32];
    assert_string_equal (strat_rmul_format (bt_trade_r (t), buf, sizeof buf), "-1.0050");
    assert_int_equal (fx.script->seen[1].kind, STRAT_EV_STOP_FILL);
    s_teardown (&fx);
    //  gap above the stop: fills at the open
    s_entry_case (&fx, 20100, 20200, 19900, 20000, 1);
    s_min (&fx, 2, CE, 21500, 21600, 21400, 21500);
    assert_int_equal (s_trade (&fx, 1)->exit_px, 21500);
    s_teardown (&fx);
    //  high one tick below S: no fill
    s_entry_case (&fx, 20100, 20200, 19900, 20000, 1);
    s_min (&fx, 2, CE, 20500, 20995, 20400, 20900);
    assert_int_equal (s_trade (&fx, 1)->exit_ts, 0);
    s_teardown (&fx);
}

static void
test_flatten_at_close (void **state)
{
    (void) state;
    struct fx fx;
    s_setup (&fx, &s_script_algo, NULL, NULL);
    s_plan_entry (&fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_plan (&fx, 3, STRAT_I_FLATTEN, STRAT_WHY_TARGET_DAY);
    s_min (&fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (&fx, 1, CE, 20100, 20200, 19900, 20000);
    s_min (&fx, 2, CE, 19000, 19100, 18000, 18050);
    s_min (&fx, 3, 0, 0, 0, 0, 0); //  no row in 3: the last close (180.50) is used
    const struct bt_trade *t = s_trade (&fx, 1);
    assert_int_equal (t->exit_px, 18050);
    assert_int_equal (t->exit_ts, fx.t0 + 3 * NS_MIN);
    assert_int_equal (t->reason, BT_EXIT_TARGET_DAY);
    assert_int_equal (fx.script->seen[1].kind, STRAT_EV_EXIT_FILL);
    s_teardown (&fx);
}

static void
test_end_of_day_closes (void **state)
{
    (void) state;
    struct fx fx;
    s_entry_case (&fx, 20100, 20200, 19900, 20000, 1);
    s_min (&fx, 2, CE, 20100, 20200, 20000, 20150);
    //  the next day's first minute closes the day at minute 2's close
    int64_t next = kt_ist_ns (2026, 11, 24, 9, 15, 0);
    struct strat_bar b = {IDX, next, 2401000, 2401000, 2401000, 2401000, 0};
    assert_int_equal (bt_engine_minute (fx.eng, &b, 1), 0);
    const struct bt_trade *t = s_trade (&fx, 1);
    assert_int_equal (t->exit_px, 20150);
    assert_int_equal (t->exit_ts, fx.t0 + 2 * NS_MIN);
    assert_int_equal (t->reason, BT_EXIT_TIME);
    size_t nd;
    const int32_t *days = bt_engine_days (fx.eng, &nd);
    assert_int_equal (nd, 2);
    assert_int_equal (days[1], 20261124);
    s_teardown (&fx);
}

// ---- the risk hook -------------------------------------------------------------------

static void
s_risk (void *arg, const struct bt_engine *book, const struct strat_intent *in,
        struct bt_verdict *out)
{
    (void) book;
    const char *mode = arg;
    if (in->kind != STRAT_I_PLACE)
        return;
    if (strcmp (mode, "block") == 0) {
        out->verdict = KT_VERDICT_BLOCK;
        snprintf (out->code, sizeof out->code, "MAX_POS");
        out->qty = 0;
    } else {
        out->verdict = KT_VERDICT_REDUCE;
        snprintf (out->code, sizeof out->code, "MAX_LOTS");
        out->qty = 150;
    }
}

static void
test_risk_hook (void **state)
{
    (void) state;
    struct fx fx;
    s_setup (&fx, &s_script_algo, s_risk, "block");
    s_plan_entry (&fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_min (&fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (&fx, 1, CE, 20100, 20200, 19900, 20000);
    s_trade (&fx, 0);
    assert_int_equal (fx.script->seen[0].kind, STRAT_EV_REJECTED);
    size_t n;
    const struct bt_refusal *r = bt_engine_refusals (fx.eng, &n);
    assert_int_equal (n, 1);
    assert_string_equal (r[0].v.code, "MAX_POS");
    s_teardown (&fx);

    s_setup (&fx, &s_script_algo, s_risk, "reduce");
    s_plan_entry (&fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_min (&fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (&fx, 1, CE, 20100, 20200, 19900, 20000);
    const struct bt_trade *t = s_trade (&fx, 1);
    assert_int_equal (t->qty, 150);
    assert_int_equal (fx.script->seen[0].kind, STRAT_EV_REDUCED);
    assert_int_equal (fx.script->seen[1].kind, STRAT_EV_ENTRY_FILL);
    assert_int_equal (fx.script->seen[1].qty, 150);
    s_teardown (&fx);
}

// ---- tick mode -----------------------------------------------------------------------

//  One quote: last price, the trade's quantity (0 = quote only), one level each side.
static void
s_quote (struct fx *fx, int64_t ts, uint32_t token, int64_t ltp, int64_t qty, int64_t bid,
         int64_t bid_qty, int64_t ask, int64_t ask_qty)
{
    struct kt_fill_quote q;
    memset (&q, 0, sizeof q);
    q.ltp = ltp;
    q.trade_qty = qty;
    q.tick = token == IDX ? 0 : 5;
    q.bid[0] = (struct kt_fill_level){bid, bid_qty};
    q.ask[0] = (struct kt_fill_level){ask, ask_qty};
    struct bt_tick tk = {token, ts, ltp, qty, qty > 0 || token == IDX, &q};
    assert_int_equal (bt_engine_tick (fx->eng, &tk), 0);
}

static void
test_tick_mode_parts_and_stop (void **state)
{
    (void) state;
    struct fx fx;
    s_setup (&fx, &s_script_algo, NULL, NULL);
    s_plan_entry (&fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    int64_t t0 = fx.t0, t1 = fx.t0 + NS_MIN;
    s_quote (&fx, t0 + 1000, IDX, 2401000, 0, 0, 0, 0, 0);
    s_quote (&fx, t0 + 2000, CE, 20500, 75, 20495, 300, 20505, 300);
    //  the first quote of minute 1 closes minute 0: the entry is placed, then this quote
    //  triggers it (199.90 <= 199.95) and it takes the depth down to its limit
    s_quote (&fx, t1 + 1000, CE, 19990, 0, 19990, 300, 20000, 300);
    const struct bt_trade *t = s_trade (&fx, 1);
    assert_int_equal (t->qty, 300);
    assert_int_equal (fx.script->seen[0].kind, STRAT_EV_ENTRY_FILL);
    assert_int_equal (fx.script->seen[0].qty, 300);
    //  resting at 199.85: a trade at 199.95 fills 150 of it (the trade's size)
    s_quote (&fx, t1 + 2000, CE, 19995, 150, 19980, 75, 20000, 300);
    t = s_trade (&fx, 1);
    assert_int_equal (t->qty, 450);
    assert_int_equal (fx.script->seen[1].px, 19985);
    s_quote (&fx, t1 + 3000, CE, 19990, 300, 19980, 75, 20000, 300);
    t = s_trade (&fx, 1);
    assert_int_equal (t->qty, 600);
    assert_int_equal (t->entry_value, 300 * 19990 + 300 * 19985);
    assert_int_equal (t->entry_px, 19988); //  199.875 shown half up
    assert_int_equal (t->r_at_risk, (21000 - 20000) * 600);
    assert_int_equal (t->exit_ts, 0);
    //  the stop (trigger 210.00, limit 210.10) triggers and takes the ask
    s_quote (&fx, t1 + 4000, CE, 21000, 75, 20995, 600, 21005, 600);
    t = s_trade (&fx, 1);
    assert_true (t->closed);
    assert_int_equal (t->exit_px, 21005);
    assert_int_equal (t->reason, BT_EXIT_STOP);
    assert_int_equal (bt_trade_pnl (t), 300 * 19990 + 300 * 19985 - 600 * 21005);
    //  the minute bar was built from the trades only
    assert_int_equal (bt_engine_bars (fx.eng), 2);
    s_teardown (&fx);
}

static void
test_tick_mode_modify_below_filled (void **state)
{
    (void) state;
    struct fx fx;
    s_setup (&fx, &s_script_algo, NULL, NULL);
    s_plan_entry (&fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_plan_entry (&fx, 1, STRAT_I_MODIFY, 1, 19995, 19985, 225, 21000);
    int64_t t0 = fx.t0, t1 = t0 + NS_MIN, t2 = t1 + NS_MIN;
    s_quote (&fx, t0 + 1000, IDX, 2401000, 0, 0, 0, 0, 0);
    s_quote (&fx, t0 + 2000, CE, 20500, 75, 20495, 300, 20505, 300);
    s_quote (&fx, t1 + 1000, CE, 19990, 75, 19990, 300, 20000, 300); //  300 filled
    s_quote (&fx, t2 + 1000, CE, 20050, 75, 20045, 300, 20055, 300); //  MODIFY to 225
    const struct strat_intent *e;
    assert_int_equal (bt_engine_entries (fx.eng, &e), 0);
    assert_int_equal (fx.script->seen[fx.script->nseen - 1].kind, STRAT_EV_CANCELLED);
    const struct bt_trade *t = s_trade (&fx, 1);
    assert_int_equal (t->qty, 300); //  what was filled stays, with its stop
    assert_false (t->closed);
    s_teardown (&fx);
}

// ---- baseline_v1 through the engine ---------------------------------------------------

//  The swing of strat_base_test (200.00, sl_price 210.00) over minutes 0..5.
static void
s_base_swing (struct fx *fx)
{
    const int64_t bars[6][4] = {
        {18000, 18000, 18000, 18000}, {20400, 20500, 20300, 20400}, {20300, 20400, 20200, 20300},
        {21000, 21000, 20000, 20000}, {20100, 20150, 20100, 20100}, {20100, 20150, 20100, 20100},
    };
    for (int i = 0; i < 6; i++)
        s_min_v (fx, i, CE, bars[i][0], bars[i][1], bars[i][2], bars[i][3], i == 0 ? 1000 : 0);
}

static void
test_base_fill_consumes_candidate (void **state)
{
    (void) state;
    struct fx fx;
    s_setup (&fx, &strat_base_algo, NULL, NULL);
    s_base_swing (&fx);
    s_min (&fx, 6, CE, 20100, 20150, 19950, 20000); //  fills at 199.95
    const struct bt_trade *t = s_trade (&fx, 1);
    assert_int_equal (t->entry_px, 19995);
    assert_int_equal (t->qty, 600);
    struct strat_base_cand c;
    strat_base_cand (strat_core_state (fx.core), CE, &c);
    assert_false (c.valid); //  consumed, not broken: no second entry on it
    s_min (&fx, 7, CE, 20000, 20050, 19990, 20000);
    s_min (&fx, 8, CE, 20000, 20050, 19990, 20000);
    s_trade (&fx, 1);
    //  stopped at 210 in minute 9
    s_min (&fx, 9, CE, 20500, 21100, 20400, 21000);
    t = s_trade (&fx, 1);
    assert_int_equal (t->exit_px, 21000);
    assert_int_equal (t->reason, BT_EXIT_STOP);
    s_teardown (&fx);
}

static void
test_base_broken_when_resting (void **state)
{
    (void) state;
    struct fx fx;
    s_setup (&fx, &strat_base_algo, NULL, NULL);
    s_base_swing (&fx);
    //  gaps through the limit and rests: the swing is broken without a fill, the
    //  entry is cancelled at the close, a later high above L fills nothing
    s_min (&fx, 6, CE, 19900, 19950, 19850, 19900);
    struct strat_base_cand c;
    strat_base_cand (strat_core_state (fx.core), CE, &c);
    assert_false (c.valid);
    s_min (&fx, 7, CE, 19900, 20000, 19900, 19950);
    s_trade (&fx, 0);
    s_teardown (&fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_entry_fills_at_trigger),
        cmocka_unit_test (test_entry_gap_through_trigger),
        cmocka_unit_test (test_entry_gap_through_limit),
        cmocka_unit_test (test_modify_is_a_fresh_order),
        cmocka_unit_test (test_cancel_removes_the_entry),
        cmocka_unit_test (test_stop_rules),
        cmocka_unit_test (test_flatten_at_close),
        cmocka_unit_test (test_end_of_day_closes),
        cmocka_unit_test (test_risk_hook),
        cmocka_unit_test (test_tick_mode_parts_and_stop),
        cmocka_unit_test (test_tick_mode_modify_below_filled),
        cmocka_unit_test (test_base_fill_consumes_candidate),
        cmocka_unit_test (test_base_broken_when_resting),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
