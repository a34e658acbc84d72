/*  kt_fill - the one fill model: how an order fills against a quote.
 *
 *  Used by kite-sim (its matching engine), exec-gateway in paper mode and the backtest,
 *  so that a strategy sees the same fills in all three. Pure functions over plain
 *  structs: no clock, no allocation, no I/O. All prices are integer paise on the
 *  instrument's tick; quantities are units.
 *
 *  The rules (each has a test in tests/unit/kt_fill_test.c):
 *
 *  Triggers. SL and SL-M orders wait until the LTP reaches the trigger: a BUY triggers
 *  when ltp >= trigger, a SELL when ltp <= trigger. Once triggered an SL order is a
 *  LIMIT order at its price and an SL-M order a MARKET order; a trigger never un-fires.
 *
 *  Market protection. A MARKET (or triggered SL-M) order is a limit order at the
 *  protection price, fixed once when the order becomes a market order (placement or
 *  trigger) from the LTP at that moment (the best opposite quote if there is no LTP):
 *  BUY cap = LTP x (1 + p), SELL floor = LTP x (1 - p), rounded to the tick towards the
 *  LTP, and at least one tick away from it. p is the order's market_protection percent,
 *  or with -1 (automatic) the table by LTP used for options: below Rs 10: 5%,
 *  Rs 10-100: 3%, Rs 100-500: 2%, Rs 500 and above: 1%. The unfilled rest of a market
 *  order stays open at that price, as Kite does.
 *
 *  Depth. An order whose (effective) limit crosses the opposite side fills at the
 *  quoted prices, best level first, walking down the displayed depth while the level's
 *  price is within the limit: a BUY LIMIT 105 against asks 100 x 75, 101 x 150 gets 75
 *  at 100 and 150 at 101 (the better of limit and touch). Size beyond the displayed
 *  quantity within the limit is not filled; the remainder rests (partial fill).
 *
 *  Trade-through. A resting order (one that was already in the book before this quote)
 *  also fills when the market trades at or through its limit: a resting BUY at L fills
 *  at L when the LTP of a new trade is <= L (SELL: LTP >= L), for at most the quantity
 *  of that trade. An order placed or triggered on this quote takes depth only: the
 *  trade that printed the quote happened before it existed.
 *
 *  Liquidity. Each quote's depth and trade quantity are given to our orders once: the
 *  caller keeps one kt_fill_liq per instrument, resets it when a new quote arrives, and
 *  passes it to every match against that quote, so two orders cannot both take the
 *  same 75 at 100 and a second match of the same order takes nothing new. */

#ifndef KT_FILL_H
#define KT_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt_msg.h"

#define KT_FILL_DEPTH 5
//  Most fills one match can produce: every level of one side plus one trade-through.
#define KT_FILL_MAX (KT_FILL_DEPTH + 1)

struct kt_fill_level {
    int64_t px;  //  paise; 0 with qty 0 = empty level
    int64_t qty; //  units
};

//  What the market shows at one instant for one instrument.
struct kt_fill_quote {
    int64_t ltp;       //  last traded price, paise; 0 = no trade yet
    int64_t trade_qty; //  units traded at ltp by the update that made this quote;
                       //  0 for a quote-only update (and when matching a newly
                       //  placed order: see "Trade-through")
    int64_t tick;      //  tick size, paise (> 0)
    struct kt_fill_level bid[KT_FILL_DEPTH]; //  best (highest) first
    struct kt_fill_level ask[KT_FILL_DEPTH]; //  best (lowest) first
};

//  Liquidity of the current quote already taken by our orders.
struct kt_fill_liq {
    int64_t bid_used[KT_FILL_DEPTH];
    int64_t ask_used[KT_FILL_DEPTH];
    int64_t trade_used;
};

//  The fill-relevant state of one order. Callers own it and keep it between matches.
struct kt_fill_order {
    kt_side_t side;
    kt_order_type_t order_type; //  as placed (SL stays SL after the trigger)
    int64_t qty;                //  total units
    int64_t filled;             //  units filled so far (updated by kt_fill_match)
    int64_t price;              //  limit, paise (LIMIT, SL)
    int64_t trigger;            //  paise (SL, SL-M)
    bool triggered;             //  SL / SL-M has triggered (updated by kt_fill_match)
    int64_t market_protection;  //  -1 automatic, or 1..100 percent (MARKET, SL-M)
    int64_t protect_px;         //  protection price once fixed, 0 before
};

//  One execution.
struct kt_fill {
    int64_t px;  //  paise
    int64_t qty; //  units (> 0)
};

//  Forget the liquidity taken from the previous quote (call on every new quote).
void kt_fill_liq_reset (struct kt_fill_liq *liq);

//  True when an SL / SL-M order of this side and trigger fires at ltp (BUY: ltp >=
//  trigger, SELL: ltp <= trigger). False for other order types, or when ltp <= 0.
bool kt_fill_trigger (const struct kt_fill_order *order, int64_t ltp);

//  The automatic (-1) market protection for a reference price, in percent (5, 3, 2, 1).
int64_t kt_fill_auto_protection (int64_t ref_px);

//  The protection price of a market order of this side from reference price ref_px
//  (> 0) with market_protection (-1 or 1..100) on tick (> 0), as described above.
//  Returns the price, or 0 when ref_px, tick or market_protection is out of range.
int64_t kt_fill_protect_price (kt_side_t side, int64_t ref_px, int64_t market_protection,
                               int64_t tick);

//  The limit an order is working at right now: LIMIT and triggered SL -> price; MARKET
//  and triggered SL-M -> protect_px; an untriggered stop -> 0 (not working).
int64_t kt_fill_working_limit (const struct kt_fill_order *order);

//  Match order against quote q: fire its trigger if q->ltp reaches it, fix the
//  protection price of a market order that has none yet, then fill by the rules above,
//  taking liquidity from liq. Writes at most max fills (max >= KT_FILL_MAX never
//  truncates) to out, adds their quantity to order->filled, and returns how many were
//  written (0 when nothing fills). A filled-out order, a side or type of NONE, or a
//  quote with tick <= 0 fills nothing. Deterministic: same inputs, same fills.
int kt_fill_match (struct kt_fill_order *order, const struct kt_fill_quote *q,
                   struct kt_fill_liq *liq, struct kt_fill *out, int max);

#endif
