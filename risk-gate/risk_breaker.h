/*  risk_breaker - the HALT rules (loss limits, rejects, kill, session), also run on a timer (pure).
 */

#ifndef RISK_BREAKER_H
#define RISK_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_check.h"

//  The HALT rules over the view: KILL, SESSION, DAILY_LOSS, WEEKLY_LOSS, HOURLY_LOSS,
//  DRAWDOWN, CONSEC_LOSS, REJECTS. Adds each tripped rule to *res (HALT; SESSION is a
//  BLOCK: its HALT happens when the session fails). Returns the first HALT code or KT_OK.
kt_reason_t risk_breaker_eval (const struct risk_view *view, const struct risk_cfg *cfg,
                               int64_t now_ns, int64_t unrealised, struct risk_result *res);

//  True for HALT reasons that end at the daily reset (DAILY_LOSS, HOURLY_LOSS,
//  CONSEC_LOSS, REJECTS); the others stay until an operator resumes.
bool risk_breaker_is_day_scoped (kt_reason_t code);

#endif
