/*  risk_state - ACTIVE / REDUCING / HALTED in Redis: start-up, halt, activate, roll, marks, resume.
 */

#ifndef RISK_STATE_H
#define RISK_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_capital.h"
#include "risk_pnl.h"

//  Start-up and the daily reset: create the account when new (capital.initial from
//  config, REDUCING), roll the day (archive risk:day:<yyyymmdd>, reset day counters,
//  end a day-scoped halt) and the week when they changed, and on start-up turn ACTIVE
//  into REDUCING until the reconciler agrees. Refreshes *view. Returns 0 or -1.
int risk_state_roll (kt_store_t *store, const struct risk_scripts *ids, const struct risk_cfg *cfg,
                     int64_t now_ns, int64_t unrealised, bool startup, const char *src,
                     struct risk_view *view);

//  Switch to HALTED (unless already) with code and text; *halted tells whether this
//  call did it. Refreshes *view. Returns 0 or -1.
int risk_state_halt (kt_store_t *store, const struct risk_scripts *ids, kt_reason_t code,
                     const char *text, int64_t now_ns, const char *src, bool *halted,
                     struct risk_view *view);

//  REDUCING -> ACTIVE when the reconciler's last agreement (agree_ns, recon:last, read
//  by the caller) is at or after since_ns (this instance's start) and after REDUCING
//  began, and no kill switch is set. *changed tells whether it happened. Refreshes
//  *view. 0 or -1.
int risk_state_activate (kt_store_t *store, const struct risk_scripts *ids, int64_t agree_ns,
                         int64_t since_ns, int64_t now_ns, const char *src, bool *changed,
                         struct risk_view *view);

//  Broker session validity (exec-gateway reported a TokenException: ok = false).
//  Returns 0 or -1.
int risk_state_session (kt_store_t *store, const struct risk_scripts *ids, bool ok, int64_t now_ns,
                        struct risk_view *view);

//  The periodic mark: P&L of this minute (kept once per minute for HOURLY_LOSS), peak
//  equity, the operator fields (unrealised, day P&L, equity, available) and each open
//  position's last price. Refreshes *view. Returns 0 or -1.
int risk_state_mark (kt_store_t *store, const struct risk_scripts *ids, int64_t now_ns,
                     int64_t unrealised, risk_price_fn *price, void *arg, struct risk_view *view);

//  The operator's resume (tradectl): the kill switch off and, from HALTED, REDUCING
//  until the reconciler agrees again, with the session valid and the broker rejections
//  window cleared. expect is the halt reason the operator decided on ("" when the account
//  was not HALTED; NULL resumes whatever stands): when the account's halt differs at the
//  commit, nothing is written. *was gets the state it saw. Refreshes *view. Returns 0,
//  1 (another halt stands than expected: not resumed) or -1.
int risk_state_resume (kt_store_t *store, const struct risk_scripts *ids, const char *by,
                       const char *expect, int64_t now_ns, kt_trading_state_t *was,
                       struct risk_view *view);

//  The writes of a switch to HALTED with code and text (scope from the code, halt_seq
//  + 1, the `events` entry) into tx, from the account in *v. Pure.
void risk_state_halt_tx (const struct risk_view *v, kt_reason_t code, const char *text,
                         int64_t now_ns, const char *src, struct risk_tx *tx);

//  Set the kill switch (risk:kill active 1, reason, by, since_ns; `events` risk.kill),
//  as tradectl halt does, for a halt risk-gate was asked to hold. Nothing when it is set
//  already. Refreshes *view. 0 or -1.
int risk_state_kill (kt_store_t *store, const struct risk_scripts *ids, const char *reason,
                     const char *by, int64_t now_ns, struct risk_view *view);

#endif
