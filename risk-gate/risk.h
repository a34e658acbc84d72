/*  risk - risk-gate: the process, and the one include of its concepts.
 *
 *  risk-gate is the single door to the broker: every ORDER_INTENT is checked here and
 *  only approved ones become ORDER_COMMANDs. The concepts, one file and header each:
 *    risk_cfg      the "risk" config section (every limit of docs/risk-gate.md)
 *    risk_kind     kinds of intent, by what they do to risk
 *    risk_view     the account as read from Redis (one snapshot) -> struct risk_view
 *    risk_pnl      realised/unrealised P&L, day/week/hour windows on exchange time (pure)
 *    risk_check    the rule table: check(view, limits, intent, market) -> verdict (pure)
 *    risk_breaker  the HALT rules (loss limits, rejects, kill, session) (pure)
 *    risk_prices   last traded price per symbol from `md` (in memory, no heap per tick)
 *    risk_tx       the account commit: writes decided in C, applied if the account's
 *                  version is unchanged
 *    risk_capital  the decision (rules in C, one commit), the Lua snapshot, exec, resolve
 *    risk_reserve  what a decision writes (pure)
 *    risk_state    ACTIVE / REDUCING / HALTED: start-up, halt, activate, roll, marks, resume
 *    risk_core     the engine: the above over one store, no sockets (tests run two of them)
 *    risk_reply    RISK_DECISION / ORDER_COMMAND / RISK_STATE messages from results
 *    risk          the process: sockets, timers, alerts around one core
 *  Money is int64 paise, time int64 ns (pipeline clock), percentages basis points.
 *  docs/risk-gate.md holds the decisions (key layout, commit contract, state machine). */

#ifndef RISK_H
#define RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"
#include "kt_proc.h"
#include "kt_risk.h"
#include "risk_kind.h"
#include "risk_cfg.h"
#include "risk_view.h"
#include "risk_pnl.h"
#include "risk_check.h"
#include "risk_breaker.h"
#include "risk_prices.h"
#include "risk_tx.h"
#include "risk_capital.h"
#include "risk_reserve.h"
#include "risk_state.h"
#include "risk_core.h"
#include "risk_reply.h"

// ---- the process (risk.c) -------------------------------------------------------------
typedef struct risk risk_t;

//  Bind `risk` (ROUTER) and `risk_pub`, subscribe `exec_pub` and `md`, connect the
//  request client to `exec`, start the core and the timers on proc's loop. cfg is
//  borrowed. Returns an owned context, or NULL (logged).
risk_t *risk_new (kt_proc_t *proc, const struct risk_cfg *cfg);

void risk_destroy (risk_t **self_p);

#endif
