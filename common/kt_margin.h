/*  kt_margin - the margin a short option blocks, one method for the whole pipeline.
 *
 *  kite-sim's RMS blocks it for an order that opens a short, and risk-gate estimates
 *  it for DEPLOY, MARGIN_BUFFER, NOTIONAL_ORDER (max_order_margin) and the capital a
 *  short ties up, with the same function, so that what risk-gate approves is what the
 *  venue accepts: SPAN 9% + exposure 3% of the notional (price x qty), each share
 *  rounded down to the paise as the venue prints it. The notional's price is the
 *  underlying's: kite-sim passes the index level; risk-gate, which sees option ticks
 *  only, passes the option's strike (equal near ATM, the strategy's range). In live
 *  mode Kite's own margin endpoint is the authority; risk-gate's estimate only has to
 *  keep the account inside it (docs/risk-gate.md). */

#ifndef KT_MARGIN_H
#define KT_MARGIN_H

#include <stdint.h>

#define KT_MARGIN_SPAN_PCT 9     //  of the notional
#define KT_MARGIN_EXPOSURE_PCT 3 //  of the notional

//  The two parts of a short option's margin, in paise.
struct kt_margin {
    int64_t span;
    int64_t exposure;
};

//  Margin of a short of qty units (>= 0) on an underlying price px (paise, >= 0):
//  adds its span and exposure to *acc (may be NULL) and returns their sum. Saturates
//  at INT64_MAX instead of overflowing (a hostile price then fails every limit).
int64_t kt_margin_short (int64_t px, int64_t qty, struct kt_margin *acc);

#endif
