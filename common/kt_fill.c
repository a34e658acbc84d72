/*  kt_fill - the one fill model (rules in kt_fill.h).
 *
 *  Shared by kite-sim, paper mode and the backtest. Integer paise only; the protection
 *  arithmetic is done in __int128 so that no reference price can overflow it. */

#include <string.h>
#include "kt_fill.h"
#include "kt_money.h"

void
kt_fill_liq_reset (struct kt_fill_liq *liq)
{
    memset (liq, 0, sizeof *liq);
}

bool
kt_fill_trigger (const struct kt_fill_order *order, int64_t ltp)
{
    if (ltp <= 0)
        return false;
    if (order->order_type != KT_OT_SL && order->order_type != KT_OT_SLM)
        return false;
    if (order->side == KT_SIDE_BUY)
        return ltp >= order->trigger;
    if (order->side == KT_SIDE_SELL)
        return ltp <= order->trigger;
    return false;
}

int64_t
kt_fill_auto_protection (int64_t ref_px)
{
    if (ref_px < 1000)
        return 5;
    if (ref_px < 10000)
        return 3;
    if (ref_px < 50000)
        return 2;
    return 1;
}

int64_t
kt_fill_protect_price (kt_side_t side, int64_t ref_px, int64_t market_protection, int64_t tick)
{
    if (ref_px <= 0 || tick <= 0)
        return 0;
    int64_t pct = market_protection == -1 ? kt_fill_auto_protection (ref_px) : market_protection;
    if (pct < 1 || pct > 100)
        return 0;
    if (side == KT_SIDE_BUY) {
        __int128 raw = (__int128) ref_px * (100 + pct) / 100;
        if (raw > INT64_MAX / 2)
            raw = INT64_MAX / 2;
        int64_t cap = kt_money_tick_down ((int64_t) raw, tick);
        //  A cap on the LTP itself could never reach an ask above it: one tick at least.
        int64_t min_cap = kt_money_tick_up (ref_px, tick) + (ref_px % tick ? 0 : tick);
        return cap < min_cap ? min_cap : cap;
    }
    if (side == KT_SIDE_SELL) {
        __int128 raw = (__int128) ref_px * (100 - pct);
        int64_t floor_px = (int64_t) ((raw + 99) / 100);
        floor_px = kt_money_tick_up (floor_px, tick);
        int64_t max_floor = kt_money_tick_down (ref_px, tick) - (ref_px % tick ? 0 : tick);
        if (floor_px > max_floor)
            floor_px = max_floor;
        return floor_px < tick ? tick : floor_px;
    }
    return 0;
}

int64_t
kt_fill_working_limit (const struct kt_fill_order *order)
{
    switch (order->order_type) {
        case KT_OT_LIMIT:
            return order->price;
        case KT_OT_SL:
            return order->triggered ? order->price : 0;
        case KT_OT_MARKET:
            return order->protect_px;
        case KT_OT_SLM:
            return order->triggered ? order->protect_px : 0;
        default:
            return 0;
    }
}

//  Reference for the protection price: the LTP, or the touch when nothing has traded.
static int64_t
s_reference (const struct kt_fill_order *order, const struct kt_fill_quote *q)
{
    if (q->ltp > 0)
        return q->ltp;
    const struct kt_fill_level *touch = order->side == KT_SIDE_BUY ? &q->ask[0] : &q->bid[0];
    return touch->qty > 0 ? touch->px : 0;
}

static bool
s_within (kt_side_t side, int64_t px, int64_t limit)
{
    return side == KT_SIDE_BUY ? px <= limit : px >= limit;
}

int
kt_fill_match (struct kt_fill_order *order, const struct kt_fill_quote *q, struct kt_fill_liq *liq,
               struct kt_fill *out, int max)
{
    if (q->tick <= 0 || max <= 0)
        return 0;
    if (order->side != KT_SIDE_BUY && order->side != KT_SIDE_SELL)
        return 0;
    if (order->filled >= order->qty)
        return 0;
    bool is_stop = order->order_type == KT_OT_SL || order->order_type == KT_OT_SLM;
    bool is_market = order->order_type == KT_OT_MARKET || order->order_type == KT_OT_SLM;
    if (!is_stop && order->order_type != KT_OT_LIMIT && order->order_type != KT_OT_MARKET)
        return 0;

    //  A trade that fires a trigger or meets a just-fixed protection price happened
    //  before the working order existed, so it cannot fill it.
    bool new_on_this_quote = false;
    if (is_stop && !order->triggered) {
        if (!kt_fill_trigger (order, q->ltp))
            return 0;
        order->triggered = true;
        new_on_this_quote = true;
    }
    if (is_market && order->protect_px == 0) {
        order->protect_px = kt_fill_protect_price (order->side, s_reference (order, q),
                                                   order->market_protection, q->tick);
        if (order->protect_px == 0)
            return 0;
        new_on_this_quote = true;
    }
    int64_t limit = kt_fill_working_limit (order);
    if (limit <= 0)
        return 0;

    int n = 0;
    int64_t left = order->qty - order->filled;
    const struct kt_fill_level *side = order->side == KT_SIDE_BUY ? q->ask : q->bid;
    int64_t *used = order->side == KT_SIDE_BUY ? liq->ask_used : liq->bid_used;
    for (int i = 0; i < KT_FILL_DEPTH && left > 0 && n < max; i++) {
        if (side[i].qty <= 0 || side[i].px <= 0)
            break;
        if (!s_within (order->side, side[i].px, limit))
            break;
        int64_t avail = side[i].qty - used[i];
        if (avail <= 0)
            continue;
        int64_t take = avail < left ? avail : left;
        used[i] += take;
        left -= take;
        out[n++] = (struct kt_fill){.px = side[i].px, .qty = take};
    }
    if (left > 0 && n < max && !new_on_this_quote && q->trade_qty > 0 && q->ltp > 0 &&
        s_within (order->side, q->ltp, limit)) {
        int64_t avail = q->trade_qty - liq->trade_used;
        if (avail > 0) {
            int64_t take = avail < left ? avail : left;
            liq->trade_used += take;
            left -= take;
            out[n++] = (struct kt_fill){.px = limit, .qty = take};
        }
    }
    order->filled = order->qty - left;
    return n;
}
