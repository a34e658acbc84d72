/*  risk_reply - RISK_DECISION / ORDER_COMMAND / RISK_STATE messages from results (pure). */

#ifndef RISK_REPLY_H
#define RISK_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_capital.h"

//  RISK_DECISION body from a decided result.
void risk_reply_decision (const struct kt_intent *in, const struct risk_decided *d,
                          struct kt_decision *out);

//  ORDER_COMMAND for an approved intent (coid = intent_id, qty = approved).
void risk_reply_command (const struct kt_intent *in, const char *coid, int64_t qty,
                         struct kt_order_cmd *out);

//  The commands of a halt: CANCEL_ALL of entries, and FLATTEN when flatten. coids are
//  derived from the halt number, so a retried halt repeats them. Returns the count.
int risk_reply_halt_commands (int64_t halt_seq, bool flatten, struct kt_order_cmd *out, int max);

#endif
