/*  risk_check_test - every rule of the rule table (docs/risk-gate.md "The rules") at its
 * boundaries: exactly at the limit, one paise over, one lot over; the outcome (APPROVE / REDUCE /
 * BLOCK / HALT), the reason code and the approved quantity. Table-driven: one row per boundary,
 * each row a small change to a base case that approves. Also: risk-reducing orders pass in every
 * state, and every rule of the table has rows. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"

#define LAKH (100000LL * 100) //  paise
#define RS(x) ((int64_t) (x) *100)

static const char s_csv[] = KT_INSTR_CSV_HEADER
    "\n"
    "1001,1,NIFTY25NOV24000CE,NIFTY,100,2025-11-27,24000,0.05,75,CE,NFO-OPT,NFO\n"
    "1002,2,NIFTY25NOV24000PE,NIFTY,100,2025-11-27,24000,0.05,75,PE,NFO-OPT,NFO\n"
    "1003,3,NIFTY25NOV24100CE,,100,2025-11-27,24100,0.01,75,CE,NFO-OPT,NFO\n"
    "1004,4,INFY,INFOSYS,1500,,0,0.05,1,EQ,NSE,NSE\n"
    "1005,5,NIFTY25OCT24000CE,NIFTY,100,2025-10-30,24000,0.05,75,CE,NFO-OPT,NFO\n";

static kt_instr_table_t *s_instr;

//  One case: everything the check reads.
struct c {
    struct risk_cfg cfg;
    struct risk_view view;
    struct kt_intent in;
    struct risk_market mkt;
    int64_t now;
    int64_t unreal;
};

#define SYM_CE "NIFTY25NOV24000CE"
#define SYM_PE "NIFTY25NOV24000PE"
#define SYM_P1 "NIFTY25NOV24100CE" //  tick 1 paisa: for one-paise boundaries

static int64_t
s_at (int hh, int mm, int ss)
{
    return kt_ist_ns (2025, 11, 24, hh, mm, ss); //  a Monday
}

static void
s_market (struct c *c, const char *sym)
{
    c->mkt.instr = kt_instr_by_sym (s_instr, NULL, sym);
    c->mkt.instr_table = true;
}

//  The base case: an ACTIVE account of Rs 10 lakh, a BUY LIMIT entry of one lot at
//  Rs 100 with a stop at Rs 90, at 10:00 IST with a fresh tick at Rs 100. Approves.
static void
s_base (struct c *c)
{
    memset (c, 0, sizeof *c);
    assert_int_equal (risk_cfg_defaults (&c->cfg), 0);
    struct risk_view *v = &c->view;
    v->loaded = true;
    v->state = KT_STATE_ACTIVE;
    v->session_ok = true;
    v->initial = 10 * LAKH;
    v->day_start_equity = v->week_start_equity = v->peak_equity = 10 * LAKH;
    v->day = 20251124;
    c->now = s_at (10, 0, 0);
    struct kt_intent *in = &c->in;
    snprintf (in->intent_id, sizeof in->intent_id, "S1-0001");
    snprintf (in->strategy, sizeof in->strategy, "S1");
    snprintf (in->sym, sizeof in->sym, SYM_CE);
    in->side = KT_SIDE_BUY;
    in->qty = 75;
    in->order_type = KT_OT_LIMIT;
    in->price = RS (100);
    in->product = KT_PROD_MIS;
    in->purpose = KT_PURPOSE_ENTRY;
    in->has_stop = true;
    in->stop_trigger = RS (90);
    s_market (c, SYM_CE);
    c->mkt.ltp = RS (100);
    c->mkt.ltp_ns = c->now - KT_NS_PER_SEC;
}

//  Equity of the account: initial capital, and the day, week and peak at that level.
static void
s_equity (struct c *c, int64_t x)
{
    c->view.initial = c->view.day_start_equity = c->view.week_start_equity = x;
    c->view.peak_equity = x;
}

static struct risk_pos *
s_pos (struct c *c, const char *sym, kt_itype_t it, int64_t qty, int64_t pending)
{
    struct risk_pos *p = &c->view.pos[c->view.npos++];
    memset (p, 0, sizeof *p);
    snprintf (p->sym, sizeof p->sym, "%s", sym);
    p->itype = it;
    p->qty = qty;
    p->basis = (qty < 0 ? -qty : qty) * RS (100);
    p->pending = pending;
    return p;
}

static void
s_exit (struct c *c, kt_side_t side, int64_t qty)
{
    c->in.purpose = KT_PURPOSE_EXIT;
    c->in.side = side;
    c->in.qty = qty;
    c->in.has_stop = false;
}

static void
s_ts (int64_t *ts, int *n, int count, int64_t newest, int64_t step)
{
    for (int i = 0; i < count; i++)
        ts[i] = newest - i * step;
    *n = count;
}

// ---- the rows: each a change to the base case ------------------------------------------

#define ROW(name) static void name (struct c *c)

ROW (base)
{
    (void) c;
}
ROW (id_20)
{
    snprintf (c->in.intent_id, sizeof c->in.intent_id, "%s", "S1-0123456789ABCDEF0");
}
ROW (id_21)
{
    snprintf (c->in.intent_id, sizeof c->in.intent_id, "%s", "S1-0123456789ABCDEF01");
}
ROW (qty_zero)
{
    c->in.qty = 0;
}
ROW (limit_no_price)
{
    c->in.price = 0;
}
ROW (sl_no_trigger)
{
    c->in.order_type = KT_OT_SL;
    c->in.trigger = 0;
}
ROW (no_product)
{
    c->in.product = KT_PROD_NONE;
}
ROW (modify_no_ref)
{
    c->in.purpose = KT_PURPOSE_MODIFY;
}
ROW (entry_with_reason)
{
    c->in.reason = KT_EXIT_TARGET_DAY;
}
ROW (exit_with_reason)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_SELL, 75);
    c->in.reason = KT_EXIT_TIME;
}
ROW (no_purpose)
{
    c->in.purpose = KT_PURPOSE_NONE;
}
ROW (unknown_sym)
{
    snprintf (c->in.sym, sizeof c->in.sym, "NIFTY25NOV99999CE");
    s_market (c, c->in.sym);
}
ROW (wrong_exchange)
{
    snprintf (c->in.sym, sizeof c->in.sym, "INFY");
    s_market (c, "INFY");
}
ROW (expired)
{
    snprintf (c->in.sym, sizeof c->in.sym, "NIFTY25OCT24000CE");
    s_market (c, c->in.sym);
}
ROW (no_table_entry)
{
    c->mkt.instr = NULL;
    c->mkt.instr_table = false;
}
ROW (no_table_exit)
{
    c->mkt.instr = NULL;
    c->mkt.instr_table = false;
    s_exit (c, KT_SIDE_SELL, 75);
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
}
ROW (lot_2)
{
    c->in.qty = 150;
}
ROW (lot_plus_1)
{
    c->in.qty = 76;
}
ROW (exit_lot_minus_1)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_SELL, 74);
}
ROW (price_off_tick)
{
    c->in.price = RS (100) + 1;
}
ROW (trigger_off_tick)
{
    c->in.order_type = KT_OT_SL; //  a BUY SL: limit at or above its trigger
    c->in.price = RS (101);
    c->in.trigger = RS (100) + 2;
}
ROW (stop_off_tick)
{
    c->in.stop_trigger = RS (90) + 3;
}
ROW (stop_limit_above_trigger)
{
    c->in.stop_price = RS (90) + 5;
}
ROW (stop_limit_at_trigger)
{
    c->in.stop_price = RS (90);
}
ROW (stop_beyond_band)
{
    c->in.stop_trigger = RS (80) - 5;
}
ROW (stop_above_market)
{
    c->in.price = RS (105);
    c->in.stop_trigger = RS (100);
}
ROW (sl_sell_limit_above_trigger)
{
    c->in.side = KT_SIDE_SELL;
    c->in.order_type = KT_OT_SL;
    c->in.trigger = RS (100);
    c->in.price = RS (100) + 5;
    c->in.stop_trigger = RS (110);
}
//  A short entered by a SELL SL one tick under the market: its stop goes live when the
//  entry fills, at or under its trigger, so a stop at the last price protects it.
static void
s_short_sl (struct c *c, kt_order_type_t type, int64_t trigger, int64_t stop)
{
    c->in.side = KT_SIDE_SELL;
    c->in.order_type = type;
    c->in.trigger = trigger;
    c->in.price = type == KT_OT_SL ? trigger - 10 : 0;
    c->in.stop_trigger = stop;
    c->in.stop_price = stop + 10;
}
ROW (short_sl_stop_at_last)
{
    s_short_sl (c, KT_OT_SL, RS (100) - 5, RS (100));
}
ROW (short_sl_stop_at_trigger)
{
    s_short_sl (c, KT_OT_SL, RS (100) - 5, RS (100) - 5);
}
ROW (short_sl_stop_under_last)
{
    s_short_sl (c, KT_OT_SL, RS (95), RS (95) + 5); //  above the trigger, under the market
}
ROW (short_slm_stop_at_trigger)
{
    s_short_sl (c, KT_OT_SLM, RS (95), RS (95));
}
ROW (short_slm_stop_over_trigger)
{
    s_short_sl (c, KT_OT_SLM, RS (95), RS (95) + 5);
}
//  A long entered by a BUY SL above the market (a breakout): its stop is under the
//  trigger, which may be above the last price.
//  A long entered by a BUY SL above the market (a breakout): its stop is under the
//  trigger, which may be above the last price.
static void
s_long_sl (struct c *c, int64_t stop)
{
    c->in.order_type = KT_OT_SL;
    c->in.trigger = RS (105);
    c->in.price = RS (105) + 10;
    c->in.stop_trigger = stop;
}
ROW (long_sl_stop_over_last)
{
    s_long_sl (c, RS (105) - 5);
}
ROW (long_sl_stop_at_trigger)
{
    s_long_sl (c, RS (105));
}
//  The stop's band is around the entry's price (a SELL SL's limit, Rs 85 here), not the
//  last price: 20% of 85 is 17.
ROW (short_stop_band_at)
{
    s_short_sl (c, KT_OT_SL, RS (85) + 10, RS (102));
    c->in.stop_price = RS (102);
}
ROW (short_stop_band_over)
{
    s_short_sl (c, KT_OT_SL, RS (85) + 10, RS (102) + 5);
    c->in.stop_price = RS (102) + 5;
}
ROW (short_stop_price_band_over)
{
    s_short_sl (c, KT_OT_SL, RS (85) + 10, RS (102));
    c->in.stop_price = RS (102) + 5;
}
ROW (open_0915)
{
    c->now = s_at (9, 15, 0);
    c->mkt.ltp_ns = c->now;
}
ROW (before_open)
{
    c->now = s_at (9, 15, 0) - 1;
    c->mkt.ltp_ns = c->now;
}
ROW (before_cutoff)
{
    c->now = s_at (15, 0, 0) - 1;
    c->mkt.ltp_ns = c->now;
}
ROW (at_cutoff)
{
    c->now = s_at (15, 0, 0);
    c->mkt.ltp_ns = c->now;
}
ROW (at_close)
{
    c->now = s_at (15, 30, 0);
    c->mkt.ltp_ns = c->now;
}
ROW (saturday)
{
    c->now = kt_ist_ns (2025, 11, 22, 10, 0, 0);
    c->mkt.ltp_ns = c->now;
}
ROW (exit_after_cutoff)
{
    c->now = s_at (15, 10, 0);
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_SELL, 75);
}
ROW (tick_10s)
{
    c->mkt.ltp_ns = c->now - 10 * KT_NS_PER_SEC;
}
ROW (tick_10s_1ns)
{
    c->mkt.ltp_ns = c->now - 10 * KT_NS_PER_SEC - 1;
}
ROW (no_tick)
{
    c->mkt.ltp = 0;
    c->mkt.ltp_ns = 0;
}
ROW (band_at)
{
    snprintf (c->in.sym, sizeof c->in.sym, SYM_P1);
    s_market (c, SYM_P1);
    c->in.price = RS (120);
    c->in.has_stop = false;
    c->cfg.require_stop = false;
}
ROW (band_over)
{
    band_at (c);
    c->in.price = RS (120) + 1;
}
ROW (band_low_at)
{
    band_at (c);
    c->in.price = RS (80);
}
ROW (band_low_over)
{
    band_at (c);
    c->in.price = RS (80) - 1;
}
ROW (band_trigger)
{
    c->in.order_type = KT_OT_SL; //  a BUY SL: limit at or above its trigger
    c->in.price = RS (100);
    c->in.trigger = RS (80) - 5;
}
ROW (lots_max)
{
    c->in.qty = 750;
}
ROW (lots_max_plus_1)
{
    c->in.qty = 825;
}
ROW (freeze_at)
{
    c->cfg.max_lots = 1000;
    c->cfg.max_order_notional = 1000 * LAKH;
    c->cfg.max_risk_per_trade = 0;
    c->cfg.max_risk_per_trade_bps = 0;
    c->in.qty = 1800;
}
ROW (freeze_slice)
{
    freeze_at (c);
    c->in.qty = 1875;
}
ROW (freeze_no_slice)
{
    freeze_at (c);
    c->cfg.freeze_slice = false;
    c->in.qty = 1875;
}
ROW (freeze_slices_max)
{
    freeze_at (c);
    c->in.qty = 18000;
    s_equity (c, 1000 * LAKH);
}
ROW (freeze_slices_over)
{
    freeze_slices_max (c);
    c->in.qty = 18075;
}
ROW (notional_at)
{
    c->cfg.max_order_notional = 75 * RS (100);
}
ROW (notional_paise_over)
{
    c->cfg.max_order_notional = 75 * RS (100) - 1;
}
ROW (notional_lot_over)
{
    c->cfg.max_order_notional = 75 * RS (100);
    c->in.qty = 150;
}
ROW (margin_at)
{
    c->in.side = KT_SIDE_SELL;
    c->in.stop_trigger = RS (110);
    c->cfg.max_order_margin = 75 * 288000;
    s_equity (c, 100 * LAKH);
}
ROW (margin_paise_over)
{
    margin_at (c);
    c->cfg.max_order_margin = 75 * 288000 - 1;
}
ROW (margin_ten_lots)
{
    margin_at (c);
    //  strike 24,000: Rs 2,880 a unit; 750 units Rs 21.6 lakh, 675 Rs 19.44 lakh
    c->cfg.max_order_margin = 20 * LAKH;
    c->cfg.max_lots = 10;
    c->cfg.max_risk_per_trade = 0;
    c->cfg.max_risk_per_trade_bps = 0;
    c->in.qty = 750;
    s_equity (c, 1000 * LAKH);
}
ROW (r_at)
{
    c->cfg.max_risk_per_trade = 75 * RS (10);
}
ROW (r_paise_over)
{
    c->cfg.max_risk_per_trade = 75 * RS (10);
    c->in.r_value = 75 * RS (10) + 1;
}
ROW (r_pct_at)
{
    c->cfg.max_risk_per_trade = 0;
    s_equity (c, RS (75000));
    c->cfg.margin_buffer = 0;
}
ROW (r_pct_over)
{
    r_pct_at (c);
    c->in.r_value = 75 * RS (10) + 1;
}
ROW (no_stop)
{
    c->in.has_stop = false;
}
ROW (no_stop_allowed)
{
    c->in.has_stop = false;
    c->cfg.require_stop = false;
}
ROW (stop_wrong_side)
{
    c->in.stop_trigger = RS (101);
}
ROW (kill)
{
    c->view.kill = true;
    snprintf (c->view.kill_reason, sizeof c->view.kill_reason, "operator");
}
ROW (reducing)
{
    c->view.state = KT_STATE_REDUCING;
}
ROW (halted)
{
    c->view.state = KT_STATE_HALTED;
}
ROW (no_state)
{
    c->view.state = KT_STATE_NONE;
}
ROW (session)
{
    c->view.session_ok = false;
}
ROW (day_loss_under)
{
    c->view.realised_day = -(3 * LAKH / 10) + 1;
}
ROW (day_loss_at)
{
    c->view.realised_day = -(3 * LAKH / 10);
}
ROW (day_loss_unreal)
{
    c->view.realised_day = -(1 * LAKH / 10);
    c->unreal = -(2 * LAKH / 10);
}
ROW (week_loss_under)
{
    c->view.realised_week = -(6 * LAKH / 10) + 1;
}
ROW (week_loss_at)
{
    c->view.realised_week = -(6 * LAKH / 10);
}
ROW (hour_loss_under)
{
    c->cfg.max_daily_loss_bps = 0;
    int m = risk_pnl_minute (c->now);
    c->view.has_mark[m - 60] = true;
    c->view.mark[m - 60] = RS (10000);
    c->view.realised_day = RS (10000) - (5 * LAKH / 10) + 1;
}
ROW (hour_loss_at)
{
    hour_loss_under (c);
    c->view.realised_day -= 1;
}
ROW (hour_mark_later)
{
    c->cfg.max_daily_loss_bps = 0;
    int m = risk_pnl_minute (c->now);
    c->view.has_mark[m - 30] = true;
    c->view.mark[m - 30] = RS (10000);
    c->view.realised_day = RS (10000) - (5 * LAKH / 10);
}
ROW (dd_at)
{
    c->cfg.max_daily_loss_bps = 0;
    c->cfg.max_weekly_loss_bps = 0;
    c->view.realised_total = -(15 * LAKH / 10);
    c->cfg.margin_buffer = 0;
}
ROW (dd_over)
{
    dd_at (c);
    c->view.realised_total -= 1;
}
ROW (consec_4)
{
    c->view.consec_losses = 4;
}
ROW (consec_5)
{
    c->view.consec_losses = 5;
}
ROW (rejects_4)
{
    s_ts (c->view.rejects_ts, &c->view.nrejects_ts, 4, c->now, KT_NS_PER_SEC);
}
ROW (rejects_5)
{
    s_ts (c->view.rejects_ts, &c->view.nrejects_ts, 5, c->now, KT_NS_PER_SEC);
}
ROW (rejects_5_oldest_out)
{
    s_ts (c->view.rejects_ts, &c->view.nrejects_ts, 5, c->now - 596 * KT_NS_PER_SEC, KT_NS_PER_SEC);
}
ROW (trades_39)
{
    c->view.trades_day = 39;
}
ROW (trades_40)
{
    c->view.trades_day = 40;
}
ROW (hour_trades_4)
{
    s_ts (c->view.entries_ts, &c->view.nentries_ts, 4, c->now - KT_NS_PER_MIN, KT_NS_PER_MIN);
}
ROW (hour_trades_5)
{
    s_ts (c->view.entries_ts, &c->view.nentries_ts, 5, c->now - KT_NS_PER_MIN, KT_NS_PER_MIN);
}
ROW (hour_trades_5_oldest_out)
{
    s_ts (c->view.entries_ts, &c->view.nentries_ts, 5,
          c->now - 3600 * KT_NS_PER_SEC + 4 * KT_NS_PER_MIN, KT_NS_PER_MIN);
}
ROW (spacing_at)
{
    c->cfg.min_spacing_s = 60;
    c->view.last_entry_ns = c->now - 60 * KT_NS_PER_SEC;
}
ROW (spacing_under)
{
    spacing_at (c);
    c->view.last_entry_ns += 1;
}
ROW (rate_9)
{
    s_ts (c->view.orders_ts, &c->view.norders_ts, 9, c->now, 1000000);
}
ROW (rate_10)
{
    s_ts (c->view.orders_ts, &c->view.norders_ts, 10, c->now, 1000000);
}
ROW (rate_10_oldest_out)
{
    s_ts (c->view.orders_ts, &c->view.norders_ts, 10, c->now - KT_NS_PER_SEC + 9, 1);
}
ROW (rate_exit)
{
    rate_10 (c);
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_SELL, 75);
}
//  n open positions of option type it, on symbols of their own.
static void
s_open (struct c *c, kt_itype_t it, int n)
{
    for (int i = 0; i < n; i++) {
        char sym[32];
        snprintf (sym, sizeof sym, "OPEN%d%s", c->view.npos, it == KT_ITYPE_CE ? "CE" : "PE");
        s_pos (c, sym, it, -75, 0);
    }
}

//  A pending entry risk-gate holds (approved, no fill yet) on sym.
static void
s_pending (struct c *c, const char *coid, const char *sym, kt_itype_t it)
{
    s_pos (c, sym, it, 0, 1);
    struct risk_order *o = &c->view.ord[c->view.nord++];
    memset (o, 0, sizeof *o);
    snprintf (o->coid, sizeof o->coid, "%s", coid);
    snprintf (o->sym, sizeof o->sym, "%s", sym);
    o->itype = it;
    o->side = KT_SIDE_SELL;
    o->kind = RISK_KIND_ENTRY;
    o->oqty = 75;
    o->unit_cost = RS (100);
    o->resv = 75 * RS (100);
    o->pending = true;
    c->view.reserved += o->resv;
}

ROW (pos_4)
{
    s_open (c, KT_ITYPE_CE, 2);
    s_open (c, KT_ITYPE_PE, 2);
}
ROW (pos_5)
{
    s_open (c, KT_ITYPE_CE, 2);
    s_open (c, KT_ITYPE_PE, 3);
}
ROW (ce_2)
{
    s_open (c, KT_ITYPE_CE, 2);
}
ROW (ce_3)
{
    s_open (c, KT_ITYPE_CE, 3);
}
//  4 open and a pending PE: the strategy's pending CE beside it passes.
ROW (pos_4_pending_pe)
{
    pos_4 (c);
    s_pending (c, "S1-0007", "PEND1PE", KT_ITYPE_PE);
}
ROW (second_pending_ce)
{
    s_pending (c, "S1-0007", "PEND1CE", KT_ITYPE_CE);
}
//  2 CE open + 1 CE pending, and a better CE: the replacement names the pending one.
ROW (replace_at_type_limit)
{
    s_open (c, KT_ITYPE_CE, 2);
    s_pending (c, "S1-0007", "PEND1CE", KT_ITYPE_CE);
    snprintf (c->in.ref, sizeof c->in.ref, "S1-0007");
}
ROW (replace_without_ref)
{
    replace_at_type_limit (c);
    c->in.ref[0] = '\0';
}
//  The replaced entry's reservation is freed for DEPLOY in the same decision.
ROW (replace_frees_capital)
{
    replace_at_type_limit (c);
    c->cfg.margin_buffer = 0;
    c->view.reserved = 80 * LAKH / 10 - 75 * RS (100) + 1; //  1 paise over without the freeing
}
ROW (sym_open_against)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0); //  a long, and a BUY entry ...
    c->in.side = KT_SIDE_SELL;             //  ... turned into a SELL against it
    c->in.stop_trigger = c->in.price + RS (10);
}
ROW (trades_39_pending)
{
    trades_39 (c);
    s_pending (c, "S1-0007", "PEND1PE", KT_ITYPE_PE);
}
ROW (pe_with_ce_3)
{
    ce_3 (c);
    snprintf (c->in.sym, sizeof c->in.sym, SYM_PE);
    s_market (c, SYM_PE);
}
ROW (sym_pending)
{
    c->cfg.max_pending_per_type = 2;
    s_pos (c, SYM_CE, KT_ITYPE_CE, 0, 1);
}
ROW (sym_open)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0); //  a long; the entry adds to it
}
ROW (deploy_at)
{
    c->cfg.margin_buffer = 0;
    c->view.reserved = 80 * LAKH / 10 - 75 * RS (100) - RS (1000);
    c->view.deployed = RS (1000);
}
ROW (deploy_paise_over)
{
    deploy_at (c);
    c->view.deployed += 1;
}
ROW (deploy_lot_over)
{
    deploy_at (c);
    c->in.qty = 150;
}
//  Rollout stage 10%: the capital rules work on a tenth of the equity.
ROW (stage_deploy_at)
{
    c->cfg.capital_stage_pct = 10;
    c->cfg.margin_buffer = 0;
    c->view.reserved = 8 * LAKH / 10 - 75 * RS (100) - RS (1000); //  80% of 1 lakh
    c->view.deployed = RS (1000);
}
ROW (stage_deploy_paise_over)
{
    stage_deploy_at (c);
    c->view.reserved += 1;
}
ROW (stage_zero)
{
    c->cfg.capital_stage_pct = 0;
}
ROW (buffer_at)
{
    c->cfg.max_deploy_bps = 10000;
    c->cfg.margin_buffer = RS (50000);
    c->view.reserved = 10 * LAKH - RS (50000) - 75 * RS (100);
}
ROW (buffer_paise_over)
{
    buffer_at (c);
    c->view.reserved += 1;
}
ROW (market_buy)
{
    c->in.order_type = KT_OT_MARKET;
    c->in.price = 0;
}
ROW (exit_ok)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_SELL, 75);
}
ROW (exit_lot_over)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_SELL, 150);
}
ROW (exit_wrong_side)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_BUY, 75);
}
ROW (exit_flat)
{
    s_exit (c, KT_SIDE_SELL, 75);
}
ROW (exit_covered)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 150, 0)->exiting = 150;
    s_exit (c, KT_SIDE_SELL, 75);
}
ROW (exit_half_covered)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 150, 0)->exiting = 75;
    s_exit (c, KT_SIDE_SELL, 150);
}
ROW (stop_short)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, -150, 0);
    s_exit (c, KT_SIDE_BUY, 150);
    c->in.purpose = KT_PURPOSE_STOP;
    c->in.order_type = KT_OT_SLM;
    c->in.trigger = RS (120);
}
ROW (exit_halted_kill)
{
    exit_ok (c);
    c->view.state = KT_STATE_HALTED;
    c->view.kill = true;
    c->view.realised_day = -(5 * LAKH);
    c->view.session_ok = false;
    rate_10 (c);
    c->view.units_total = 99;
}
ROW (cancel_halted)
{
    c->in.purpose = KT_PURPOSE_CANCEL;
    snprintf (c->in.ref, sizeof c->in.ref, "S1-0000");
    c->view.state = KT_STATE_HALTED;
    c->view.kill = true;
}
ROW (flatten_halted)
{
    memset (&c->in, 0, sizeof c->in);
    snprintf (c->in.intent_id, sizeof c->in.intent_id, "ctl-flat-1");
    c->in.purpose = KT_PURPOSE_FLATTEN;
    c->view.state = KT_STATE_HALTED;
}
static void
s_open_entry (struct c *c, int64_t resv)
{
    struct risk_order *o = &c->view.ord[c->view.nord++];
    memset (o, 0, sizeof *o);
    snprintf (o->coid, sizeof o->coid, "S1-0000");
    snprintf (o->sym, sizeof o->sym, SYM_CE);
    o->kind = RISK_KIND_ENTRY;
    o->oqty = 75;
    o->unit_cost = RS (100);
    o->resv = resv;
    o->pending = true;
    c->view.reserved = resv;
    c->in.purpose = KT_PURPOSE_MODIFY;
    snprintf (c->in.ref, sizeof c->in.ref, "S1-0000");
}
ROW (modify_entry_ok)
{
    s_open_entry (c, 75 * RS (100));
    c->in.qty = 150;
}
ROW (modify_entry_reducing_state)
{
    modify_entry_ok (c);
    c->view.state = KT_STATE_REDUCING;
}
ROW (modify_entry_rate)
{
    modify_entry_ok (c);
    s_ts (c->view.modifies_ts, &c->view.nmodifies_ts, 5, c->now, 1000);
}
ROW (modify_entry_deploy)
{
    modify_entry_ok (c);
    c->cfg.margin_buffer = 0;
    c->view.deployed = 80 * LAKH / 10 - 150 * RS (100) + 1;
}
ROW (modify_stop_halted)
{
    c->in.purpose = KT_PURPOSE_MODIFY;
    snprintf (c->in.ref, sizeof c->in.ref, "S1-0007s");
    c->in.order_type = KT_OT_SL;
    c->in.trigger = RS (110);
    c->in.price = RS (111);
    c->in.side = KT_SIDE_BUY;
    c->view.state = KT_STATE_HALTED;
    c->view.kill = true;
}

struct row {
    const char *name;
    void (*fn) (struct c *c);
    kt_verdict_t verdict;
    kt_reason_t code; //  must be among the reasons (KT_OK: no reasons)
    int64_t qty;      //  approved quantity (-1: do not check)
};

#define A KT_VERDICT_APPROVE
#define RD KT_VERDICT_REDUCE
#define B KT_VERDICT_BLOCK
#define H KT_VERDICT_HALT

static const struct row s_rows[] = {
    {"base approves", base, A, KT_OK, 75},
    {"intent_id of 20 chars", id_20, A, KT_OK, 75},
    {"intent_id of 21 chars", id_21, B, KT_R_BAD_INTENT, 0},
    {"qty 0", qty_zero, B, KT_R_BAD_INTENT, 0},
    {"LIMIT without price", limit_no_price, B, KT_R_BAD_INTENT, 0},
    {"SL without trigger", sl_no_trigger, B, KT_R_BAD_INTENT, 0},
    {"no product (MIS)", no_product, A, KT_OK, 75},
    {"MODIFY without ref", modify_no_ref, B, KT_R_BAD_INTENT, 0},
    {"no purpose", no_purpose, B, KT_R_BAD_INTENT, 0},
    {"an exit's reason on an entry", entry_with_reason, B, KT_R_BAD_INTENT, 0},
    {"exit with its reason", exit_with_reason, A, KT_OK, 75},
    {"unknown symbol", unknown_sym, B, KT_R_INSTRUMENT, 0},
    {"wrong exchange", wrong_exchange, B, KT_R_INSTRUMENT, 0},
    {"expired contract", expired, B, KT_R_INSTRUMENT, 0},
    {"entry without instruments table", no_table_entry, B, KT_R_INSTRUMENT, 0},
    {"exit without instruments table", no_table_exit, A, KT_OK, 75},
    {"two lots", lot_2, A, KT_OK, 150},
    {"one unit over a lot", lot_plus_1, B, KT_R_LOT, 0},
    {"exit one unit under a lot", exit_lot_minus_1, B, KT_R_LOT, 0},
    {"price one paise off tick", price_off_tick, B, KT_R_TICK, 0},
    {"trigger off tick", trigger_off_tick, B, KT_R_TICK, 0},
    {"stop off tick", stop_off_tick, B, KT_R_TICK, 0},
    {"SELL SL stop with its limit above its trigger", stop_limit_above_trigger, B, KT_R_BAD_INTENT,
     0},
    {"SELL SL stop with its limit at its trigger", stop_limit_at_trigger, A, KT_OK, 75},
    {"stop beyond the band", stop_beyond_band, B, KT_R_PRICE_BAND, 0},
    {"stop at or above the last price of a long", stop_above_market, B, KT_R_PRICE_BAND, 0},
    {"SELL SL entry with its limit above its trigger", sl_sell_limit_above_trigger, B,
     KT_R_BAD_INTENT, 0},
    {"SELL SL entry, stop at the last price (over its trigger)", short_sl_stop_at_last, A, KT_OK,
     75},
    {"SELL SL entry, stop at its trigger", short_sl_stop_at_trigger, B, KT_R_PRICE_BAND, 0},
    {"SELL SL entry, stop over its trigger, under the last price", short_sl_stop_under_last, A,
     KT_OK, 75},
    {"SELL SL-M entry, stop at its trigger", short_slm_stop_at_trigger, B, KT_R_PRICE_BAND, 0},
    {"SELL SL-M entry, stop one tick over its trigger", short_slm_stop_over_trigger, A, KT_OK, 75},
    {"BUY SL entry, stop under its trigger, over the last price", long_sl_stop_over_last, A, KT_OK,
     75},
    {"BUY SL entry, stop at its trigger", long_sl_stop_at_trigger, B, KT_R_PRICE_BAND, 0},
    {"stop exactly 20% from the entry price", short_stop_band_at, A, KT_OK, 75},
    {"stop trigger 20% + 1 tick from the entry price", short_stop_band_over, B, KT_R_PRICE_BAND, 0},
    {"stop price 20% + 1 tick from the entry price", short_stop_price_band_over, B, KT_R_PRICE_BAND,
     0},
    {"09:15:00 opens", open_0915, A, KT_OK, 75},
    {"1 ns before 09:15", before_open, B, KT_R_HOURS, 0},
    {"1 ns before the cut-off", before_cutoff, A, KT_OK, 75},
    {"at the cut-off 15:00", at_cutoff, B, KT_R_HOURS, 0},
    {"at the close 15:30", at_close, B, KT_R_HOURS, 0},
    {"Saturday", saturday, B, KT_R_HOURS, 0},
    {"exit after the cut-off", exit_after_cutoff, A, KT_OK, 75},
    {"tick exactly 10 s old", tick_10s, A, KT_OK, 75},
    {"tick 10 s + 1 ns old", tick_10s_1ns, B, KT_R_STALE_MD, 0},
    {"no tick at all", no_tick, B, KT_R_STALE_MD, 0},
    {"price exactly +20%", band_at, A, KT_OK, 75},
    {"price +20% + 1 paise", band_over, B, KT_R_PRICE_BAND, 0},
    {"price exactly -20%", band_low_at, A, KT_OK, 75},
    {"price -20% - 1 paise", band_low_over, B, KT_R_PRICE_BAND, 0},
    {"trigger beyond the band", band_trigger, B, KT_R_PRICE_BAND, 0},
    {"exactly max lots", lots_max, A, KT_OK, 750},
    {"one lot over max lots", lots_max_plus_1, RD, KT_R_MAX_LOTS, 750},
    {"exactly the freeze qty", freeze_at, A, KT_OK, 1800},
    {"one lot over freeze: sliced", freeze_slice, A, KT_OK, 1875},
    {"one lot over freeze: reduced", freeze_no_slice, RD, KT_R_FREEZE, 1800},
    {"exactly max slices", freeze_slices_max, A, KT_OK, 18000},
    {"one lot over max slices", freeze_slices_over, RD, KT_R_FREEZE, 18000},
    {"notional exactly max", notional_at, A, KT_OK, 75},
    {"notional one paise over", notional_paise_over, B, KT_R_NOTIONAL_ORDER, 0},
    {"notional one lot over: reduced to the lot that fits", notional_lot_over, RD,
     KT_R_NOTIONAL_ORDER, 75},
    {"sell margin exactly max", margin_at, A, KT_OK, 75},
    {"sell margin one paise over", margin_paise_over, B, KT_R_NOTIONAL_ORDER, 0},
    {"10-lot short over Rs 20 lakh: reduced to 9 lots", margin_ten_lots, RD, KT_R_NOTIONAL_ORDER,
     675},
    {"R exactly max", r_at, A, KT_OK, 75},
    {"R one paise over", r_paise_over, B, KT_R_RISK_PER_TRADE, 0},
    {"R exactly 1% of equity", r_pct_at, A, KT_OK, 75},
    {"R 1% + 1 paise", r_pct_over, B, KT_R_RISK_PER_TRADE, 0},
    {"entry without stop", no_stop, B, KT_R_RISK_PER_TRADE, 0},
    {"no stop, not required", no_stop_allowed, A, KT_OK, 75},
    {"stop on the wrong side", stop_wrong_side, B, KT_R_RISK_PER_TRADE, 0},
    {"kill switch", kill, H, KT_R_KILL, 0},
    {"state REDUCING", reducing, B, KT_R_STATE, 0},
    {"state HALTED", halted, B, KT_R_STATE, 0},
    {"state unknown", no_state, B, KT_R_STATE, 0},
    {"session invalid", session, B, KT_R_SESSION, 0},
    {"day loss 1 paise inside", day_loss_under, A, KT_OK, 75},
    {"day loss exactly at max", day_loss_at, H, KT_R_DAILY_LOSS, 0},
    {"day loss from unrealised", day_loss_unreal, H, KT_R_DAILY_LOSS, 0},
    {"week loss 1 paise inside", week_loss_under, A, KT_OK, 75},
    {"week loss exactly at max", week_loss_at, H, KT_R_WEEKLY_LOSS, 0},
    {"hour loss 1 paise inside", hour_loss_under, A, KT_OK, 75},
    {"hour loss exactly at max", hour_loss_at, H, KT_R_HOURLY_LOSS, 0},
    {"hour base: first mark in window", hour_mark_later, H, KT_R_HOURLY_LOSS, 0},
    {"drawdown exactly at max", dd_at, A, KT_OK, 75},
    {"drawdown one paise over", dd_over, H, KT_R_DRAWDOWN, 0},
    {"4 losses in a row", consec_4, A, KT_OK, 75},
    {"5 losses in a row", consec_5, H, KT_R_CONSEC_LOSS, 0},
    {"4 rejections", rejects_4, A, KT_OK, 75},
    {"5 rejections", rejects_5, H, KT_R_REJECTS, 0},
    {"5 rejections, oldest 600 s ago", rejects_5_oldest_out, A, KT_OK, 75},
    {"39 entries today", trades_39, A, KT_OK, 75},
    {"40 entries today", trades_40, B, KT_R_TRADES_DAY, 0},
    {"4 entries this hour", hour_trades_4, A, KT_OK, 75},
    {"5 entries this hour", hour_trades_5, B, KT_R_TRADES_HOUR, 0},
    {"5 entries, oldest 3600 s ago", hour_trades_5_oldest_out, A, KT_OK, 75},
    {"spacing exactly min", spacing_at, A, KT_OK, 75},
    {"spacing 1 ns short", spacing_under, B, KT_R_SPACING, 0},
    {"9 orders this second", rate_9, A, KT_OK, 75},
    {"10 orders this second", rate_10, B, KT_R_ORDER_RATE, 0},
    {"10 orders, oldest 1 s ago", rate_10_oldest_out, A, KT_OK, 75},
    {"exit at full order rate", rate_exit, A, KT_OK, 75},
    {"4 positions", pos_4, A, KT_OK, 75},
    {"5 positions", pos_5, B, KT_R_MAX_POS, 0},
    {"2 CE", ce_2, A, KT_OK, 75},
    {"3 CE", ce_3, B, KT_R_MAX_POS, 0},
    {"PE beside 3 CE", pe_with_ce_3, A, KT_OK, 75},
    {"4 open + a pending PE: a pending CE passes", pos_4_pending_pe, A, KT_OK, 75},
    {"a second pending CE", second_pending_ce, B, KT_R_MAX_POS, 0},
    {"replacing the pending CE at the CE limit (ref)", replace_at_type_limit, A, KT_OK, 75},
    {"a new CE at the CE limit without ref", replace_without_ref, B, KT_R_MAX_POS, 0},
    {"a replacement's DEPLOY frees the replaced reservation", replace_frees_capital, A, KT_OK, 75},
    {"symbol with a pending entry", sym_pending, B, KT_R_MAX_POS, 0},
    {"symbol with a position: a fresh entry passes", sym_open, A, KT_OK, 75},
    {"39 filled + 1 pending", trades_39_pending, B, KT_R_TRADES_DAY, 0},
    {"an entry against the position it holds", sym_open_against, B, KT_R_MAX_POS, 0},
    {"deploy exactly 80%", deploy_at, A, KT_OK, 75},
    {"deploy one paise over", deploy_paise_over, B, KT_R_DEPLOY, 0},
    {"deploy one lot over", deploy_lot_over, B, KT_R_DEPLOY, 0},
    {"stage 10%: deploy exactly 80% of a tenth", stage_deploy_at, A, KT_OK, 75},
    {"stage 10%: one paise over", stage_deploy_paise_over, B, KT_R_DEPLOY, 0},
    {"stage 0: no entry", stage_zero, B, KT_R_DEPLOY, 0},
    {"buffer exactly left", buffer_at, A, KT_OK, 75},
    {"buffer one paise short", buffer_paise_over, B, KT_R_MARGIN_BUFFER, 0},
    {"market buy", market_buy, A, KT_OK, 75},
    {"exit of the position", exit_ok, A, KT_OK, 75},
    {"exit one lot over the position", exit_lot_over, RD, KT_R_BAD_INTENT, 75},
    {"exit adding to the position", exit_wrong_side, B, KT_R_BAD_INTENT, 0},
    {"exit without position", exit_flat, B, KT_R_BAD_INTENT, 0},
    {"exit when open exits cover the position", exit_covered, B, KT_R_BAD_INTENT, 0},
    {"exit beside an exit of half", exit_half_covered, RD, KT_R_BAD_INTENT, 75},
    {"stop of a short", stop_short, A, KT_OK, 150},
    {"exit when halted, killed, at loss, at rate, full", exit_halted_kill, A, KT_OK, 75},
    {"cancel when halted and killed", cancel_halted, A, KT_OK, -1},
    {"flatten when halted", flatten_halted, A, KT_OK, -1},
    {"modify of an entry", modify_entry_ok, A, KT_OK, 150},
    {"modify of an entry when REDUCING", modify_entry_reducing_state, B, KT_R_STATE, 0},
    {"modify rate", modify_entry_rate, B, KT_R_ORDER_RATE, 0},
    {"modify of an entry over deploy", modify_entry_deploy, B, KT_R_DEPLOY, 0},
    {"modify of a stop when halted", modify_stop_halted, A, KT_OK, 75},
};

static bool
s_has (const struct risk_result *r, kt_reason_t code)
{
    for (int i = 0; i < r->nreasons; i++) {
        if (r->reasons[i].code == code)
            return true;
    }
    return false;
}

static void
s_dump (const char *name, const struct risk_result *r)
{
    fprintf (stderr, "row '%s': verdict %s qty %lld\n", name, kt_verdict_str (r->verdict),
             (long long) r->qty);
    for (int i = 0; i < r->nreasons; i++)
        fprintf (stderr, "  %s: %s\n", kt_reason_str (r->reasons[i].code), r->reasons[i].text);
}

static void
test_rows (void **state)
{
    (void) state;
    static struct c c;
    int failed = 0;
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++) {
        const struct row *row = &s_rows[i];
        s_base (&c);
        row->fn (&c);
        struct risk_result r;
        risk_check_intent (&c.view, &c.cfg, &c.in, &c.mkt, c.now, c.unreal, &r);
        bool ok = r.verdict == row->verdict &&
                  (row->code == KT_OK ? r.nreasons == 0 : s_has (&r, row->code)) &&
                  (row->qty < 0 || r.qty == row->qty);
        if (!ok) {
            s_dump (row->name, &r);
            failed++;
        }
    }
    assert_int_equal (failed, 0);
}

//  Every rule of the table has a failing row, so no rule goes untested.
static void
test_every_rule_has_rows (void **state)
{
    (void) state;
    for (int i = 0; risk_check_rules[i].code != KT_OK; i++) {
        bool found = false;
        for (size_t j = 0; j < sizeof s_rows / sizeof s_rows[0]; j++)
            found = found || s_rows[j].code == risk_check_rules[i].code;
        if (!found)
            fprintf (stderr, "rule %s has no row\n", kt_reason_str (risk_check_rules[i].code));
        assert_true (found);
        assert_non_null (risk_check_rules[i].keys);
        assert_non_null (risk_check_rules[i].what);
    }
}

//  A HALT names its first HALT rule; the verdict is the worst outcome; reasons pile up.
static void
test_worst_outcome_wins (void **state)
{
    (void) state;
    static struct c c;
    s_base (&c);
    c.in.qty = 825;                     //  REDUCE (MAX_LOTS)
    c.view.state = KT_STATE_REDUCING;   //  BLOCK (STATE)
    c.view.consec_losses = 9;           //  HALT (CONSEC_LOSS)
    c.view.realised_day = -(10 * LAKH); //  HALT (DAILY_LOSS), first in table order
    struct risk_result r;
    risk_check_intent (&c.view, &c.cfg, &c.in, &c.mkt, c.now, 0, &r);
    assert_int_equal (r.verdict, KT_VERDICT_HALT);
    assert_int_equal (r.halt_code, KT_R_DAILY_LOSS);
    assert_int_equal (r.qty, 0);
    assert_true (s_has (&r, KT_R_MAX_LOTS) && s_has (&r, KT_R_STATE) &&
                 s_has (&r, KT_R_CONSEC_LOSS));
}

//  Reservation size: a buy reserves premium (with headroom at market), a sell the margin
//  estimate; the unit cost the Lua reserves comes from here.
static void
test_unit_cost (void **state)
{
    (void) state;
    static struct c c;
    struct risk_result r;
    s_base (&c);
    risk_check_intent (&c.view, &c.cfg, &c.in, &c.mkt, c.now, 0, &r);
    assert_int_equal (r.unit_cost, RS (100));
    assert_int_equal (r.cost, 75 * RS (100));
    market_buy (&c);
    risk_check_intent (&c.view, &c.cfg, &c.in, &c.mkt, c.now, 0, &r);
    assert_int_equal (r.unit_cost, RS (105)); //  ltp + 5%, on tick
    s_base (&c);
    margin_at (&c);
    risk_check_intent (&c.view, &c.cfg, &c.in, &c.mkt, c.now, 0, &r);
    assert_int_equal (r.unit_cost, 288000); //  12% of strike 24000
}

static void
test_kind (void **state)
{
    (void) state;
    static struct c c;
    s_base (&c);
    assert_int_equal (risk_check_kind (&c.view, &c.in), RISK_KIND_ENTRY);
    modify_entry_ok (&c);
    assert_int_equal (risk_check_kind (&c.view, &c.in), RISK_KIND_MODIFY_ENTRY);
    snprintf (c.in.ref, sizeof c.in.ref, "other");
    assert_int_equal (risk_check_kind (&c.view, &c.in), RISK_KIND_MODIFY);
    c.in.purpose = KT_PURPOSE_STOP;
    assert_int_equal (risk_check_kind (&c.view, &c.in), RISK_KIND_EXIT);
    assert_int_equal (risk_kind_parse (risk_kind_str (RISK_KIND_MODIFY_ENTRY)),
                      RISK_KIND_MODIFY_ENTRY);
    assert_int_equal (risk_kind_parse ("nonsense"), RISK_KIND_NONE);
}

//  A hostile intent: a price near INT64_MAX (on tick) must be refused, not overflow
//  the R or the reservation arithmetic (UBSan aborts the test on a signed overflow).
static void
test_huge_price_refused (void **state)
{
    (void) state;
    static struct c c;
    struct risk_result r;
    s_base (&c);
    c.in.price = 5LL << 60; //  5.76e18 paise, a multiple of the tick
    risk_check_intent (&c.view, &c.cfg, &c.in, &c.mkt, c.now, 0, &r);
    assert_int_equal (r.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has (&r, KT_R_RISK_PER_TRADE));
    assert_int_equal (r.qty, 0);
    //  a sell: the stop above a tiny entry, R of the huge stop distance
    s_base (&c);
    c.in.side = KT_SIDE_SELL;
    c.in.stop_trigger = 5LL << 60;
    risk_check_intent (&c.view, &c.cfg, &c.in, &c.mkt, c.now, 0, &r);
    assert_int_equal (r.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has (&r, KT_R_RISK_PER_TRADE));
}

static int
s_setup (void **state)
{
    (void) state;
    char err[256];
    s_instr = kt_instr_parse (s_csv, strlen (s_csv), err, sizeof err);
    if (!s_instr)
        fprintf (stderr, "instruments: %s\n", err);
    return s_instr ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_instr_destroy (&s_instr);
    return 0;
}

//  docs/risk-gate.md lists the rule table between two markers, rendered from
//  risk_check_rules: the page and the code cannot drift apart.
static void
test_doc_lists_the_rules (void **state)
{
    (void) state;
    FILE *f = fopen ("docs/risk-gate.md", "r");
    assert_non_null (f);
    static char doc[1 << 17];
    size_t len = fread (doc, 1, sizeof doc - 1, f);
    fclose (f);
    doc[len] = '\0';
    static char want[1 << 14];
    size_t w = (size_t) snprintf (want, sizeof want,
                                  "| code | outcome | applies to | config | check |\n"
                                  "|---|---|---|---|---|\n");
    for (const struct risk_rule *r = risk_check_rules; r->code != KT_OK; r++) {
        const char *applies =
            (r->applies & RISK_APPLIES_ENTRY) && (r->applies & RISK_APPLIES_REDUCE) ? "every order"
            : (r->applies & RISK_APPLIES_ENTRY)                                     ? "entries"
                                                : "risk-reducing orders";
        w += (size_t) snprintf (want + w, sizeof want - w, "| `%s` | %s | %s | %s | %s |\n",
                                kt_reason_str (r->code), kt_verdict_str (r->outcome), applies,
                                r->keys, r->what);
    }
    const char *begin = strstr (doc, "<!-- rules:begin -->\n");
    const char *end = strstr (doc, "<!-- rules:end -->");
    bool ok = begin && end && (size_t) (end - begin) == w + strlen ("<!-- rules:begin -->\n") &&
              memcmp (begin + strlen ("<!-- rules:begin -->\n"), want, w) == 0;
    if (!ok)
        fprintf (stderr, "docs/risk-gate.md: the rule table differs; expected:\n%s", want);
    assert_true (ok);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_rows),
        cmocka_unit_test (test_doc_lists_the_rules),
        cmocka_unit_test (test_every_rule_has_rows),
        cmocka_unit_test (test_worst_outcome_wins),
        cmocka_unit_test (test_unit_cost),
        cmocka_unit_test (test_kind),
        cmocka_unit_test (test_huge_price_refused),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
