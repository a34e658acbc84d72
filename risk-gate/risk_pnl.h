/*  risk_pnl - realised/unrealised P&L, day/week/hour windows on exchange time (pure). */

#ifndef RISK_PNL_H
#define RISK_PNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_cfg.h"
#include "risk_view.h"

//  Last price of a symbol: from md (in memory) or, failing that, the book's mark.
typedef bool (risk_price_fn) (void *arg, const char *sym, int64_t *px, int64_t *ts_ns);

//  Unrealised P&L of the book in paise: qty x price - signed basis, per position. A
//  position without any price counts at cost (0).
int64_t risk_pnl_unrealised (const struct risk_view *view, risk_price_fn *price, void *arg);

//  Equity: initial + realised_total + unrealised.
int64_t risk_pnl_equity (const struct risk_view *view, int64_t unrealised);

//  Day and week P&L (realised + change of unrealised since the period started).
int64_t risk_pnl_day (const struct risk_view *view, int64_t unrealised);
int64_t risk_pnl_week (const struct risk_view *view, int64_t unrealised);

//  P&L over the last 60 minutes: day P&L now minus the mark 60 minutes ago (the first
//  mark after it if that minute has none; 0 if the window starts before midnight or has
//  no mark).
int64_t risk_pnl_hour (const struct risk_view *view, int64_t unrealised, int64_t now_ns);

//  Minute of the IST day of ts (0..1439).
int risk_pnl_minute (int64_t ts_ns);

//  floor (a * b / d) for d > 0 without overflow for |a|, |b| < 2^62 (exact, like the Lua).
int64_t risk_pnl_muldiv (int64_t a, int64_t b, int64_t d);

//  Margin of a short of one unit of an instrument, by kite-sim's method (kt_margin: SPAN
//  + exposure of the notional), on its strike (px when it has none; 0 without either).
int64_t risk_pnl_short_margin (const struct kt_instr *in, int64_t px);

#endif
