/*  ctl - tradectl, the operator's command line: the private header.
 *
 *  tradectl talks to Redis directly (the shared truth), so it works while any process
 *  is down: `status` reads the account, `halt` sets the kill switch that risk-gate
 *  honours on its next decision and poll, `resume` clears it and moves HALTED to
 *  REDUCING (risk-gate turns ACTIVE after the reconciler agrees again). The keys and
 *  fields are risk-gate's (docs/risk-gate.md). Every change is also appended to the
 *  `events` stream with who made it. */

#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "kt.h"

//  Print the trading state, the kill switch, P&L, capital, positions and open orders
//  of the account behind store to out, as text (times in IST). now_ns is pipeline time
//  and speed_ppm the clock's speed (heartbeat ages are shown in wall time). Returns 0,
//  or -1 if Redis is unavailable (reason printed to out).
int ctl_status_print (kt_store_t *store, FILE *out, int64_t now_ns, int64_t speed_ppm);

//  Set the kill switch (risk:kill active 1, reason, by, since_ns) and record it in
//  `events`. Returns 0, or -1 if Redis is unavailable or reason is empty.
int ctl_kill_halt (kt_store_t *store, const char *reason, const char *by, int64_t now_ns);

//  Clear the kill switch and, if HALTED, switch to REDUCING (since now, broker session
//  marked valid again, broker rejections window cleared), in one commit (risk-gate's
//  risk_state_resume); record it in `events`. *was receives the state before (may be
//  NULL). Returns 0, or -1 if Redis is unavailable.
int ctl_kill_resume (kt_store_t *store, const char *by, int64_t now_ns, kt_trading_state_t *was);

//  Wait up to timeout_ms (wall) for risk:state to show want. Returns 0 when it does,
//  1 on timeout, -1 if Redis is unavailable.
int ctl_kill_wait (kt_store_t *store, kt_trading_state_t want, int timeout_ms);

#endif
