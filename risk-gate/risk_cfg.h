/*  risk_cfg - the "risk" config section (every limit of docs/risk-gate.md). */

#ifndef RISK_CFG_H
#define RISK_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"

#define RISK_FREEZE_ROWS 6

struct risk_cfg {
    int64_t capital;                  //  paise: initial capital when `capital` is new
    char exchange[8];                 //  tradable exchange ("NFO")
    char segments[64];                //  tradable segments, comma separated ("NFO-OPT")
    char market_open[6];              //  "09:15" IST
    char market_close[6];             //  "15:30" IST
    char entry_cutoff[6];             //  "15:00" IST: no entries at or after
    int64_t stale_md_s;               //  last tick older than this blocks entries
    int64_t price_band_bps;           //  limit/trigger within this of last price
    int64_t max_lots;                 //  per order; above -> REDUCE
    int64_t freeze[RISK_FREEZE_ROWS]; //  units per order: NIFTY, BANKNIFTY, FINNIFTY,
                                      //  MIDCPNIFTY, SENSEX, default
    bool freeze_slice;                //  above freeze: approve (exec-gateway slices) or REDUCE
    int64_t max_slices;               //  slices exec-gateway may make of one order
    int64_t max_order_notional;       //  paise, buys: premium x qty
    int64_t max_order_margin;         //  paise, sells: margin estimate
    int64_t market_reserve_bps;       //  buys at market: reserve this above last price
    int64_t max_positions;            //  open positions (with the entry)
    int64_t max_per_type;             //  same, per option type (CE / PE)
    int64_t max_pending_per_type;     //  pending entries per option type
    int64_t max_per_symbol;           //  pending entries per symbol
    int64_t capital_stage_pct;        //  gradual rollout: the share of equity entries may use
    int64_t max_deploy_bps;           //  reserved + deployed <= this x equity
    int64_t margin_buffer;            //  paise left free after the order
    int64_t max_risk_per_trade;       //  paise of R per entry (0 = off)
    int64_t max_risk_per_trade_bps;   //  R per entry as a share of equity (0 = off)
    bool require_stop;                //  an entry without an attached stop is blocked
    int64_t max_daily_loss_bps;       //  of the day's starting equity -> HALT
    int64_t max_weekly_loss_bps;      //  of the week's starting equity -> HALT
    int64_t max_hourly_loss_bps;      //  of the day's starting equity, last 60 min -> HALT
    int64_t max_drawdown_bps;         //  below peak equity -> HALT
    int64_t max_consec_losses;        //  losing trades in a row -> HALT (0 = off)
    int64_t max_trades_day;           //  entries per day
    int64_t max_trades_hour;          //  entries in the last 60 min
    int64_t min_spacing_s;            //  seconds between entries (0 = off)
    int64_t max_orders_per_s;         //  orders of every kind in the last second
    int64_t max_modifies_per_s;       //  modifications in the last second
    int64_t max_rejects;              //  broker rejections in the window -> HALT (0 = off)
    int64_t reject_window_s;
    bool flatten_on_halt;   //  a HALT also flattens every position
    int64_t poll_ms;        //  state/kill/reconciler poll and P&L marks (wall ms)
    int64_t state_pub_ms;   //  RISK_STATE re-published at least this often (wall ms)
    int64_t resv_timeout_s; //  an order unanswered this long is looked up
    int64_t intent_ttl_s;   //  decided intents kept this long (duplicate replies)
};

extern const kt_cfg_row_t risk_cfg_table[];

//  Fill cfg with every default of the table (tests and tools). Returns 0 or -1.
int risk_cfg_defaults (struct risk_cfg *cfg);

//  Exchange freeze quantity (units) for an underlying name ("NIFTY"); the default row
//  for any other name. 0 means no limit.
int64_t risk_cfg_freeze (const struct risk_cfg *cfg, const char *underlying);

//  Seconds since IST midnight of "HH:MM" fields (market_open ...). -1 if malformed.
int risk_cfg_sod (const char *hhmm);

#endif
