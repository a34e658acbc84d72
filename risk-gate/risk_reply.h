/*  risk_reply - RISK_DECISION / ORDER_COMMAND / RISK_STATE messages from results (pure). */

#ifndef RISK_REPLY_H
#define RISK_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_capital.h"

//  RISK_DECISION body from a decided result.
void
    risk_reply_decision (const struct kt_intent *in, const struct risk_decided *d,
                         struct kt_decision *out);

//  ORDER_COMMAND for an approved intent (coid = intent_id, qty = approved).
void
    risk_reply_command (const struct kt_intent *in, const char *coid, int64_t qty,
                        struct kt_order_cmd *out);

//  The commands of a halt: CANCEL_ALL of entries, and FLATTEN when flatten. coids are
//  derived from the halt number, so a retried halt repeats them. Returns the count.
int
    risk_reply_halt_commands (int64_t halt_seq, bool flatten, struct kt_order_cmd *out,
                              int max);

//  Join the codes ("MAX_LOTS,FREEZE") or texts ("a|b") of reasons into buf; '|' and
//  ',' inside texts become '/'. Returns buf.
char *
    risk_reply_join_codes (const struct risk_reason *r, int n, char *buf, size_t len);
char *
    risk_reply_join_texts (const struct risk_reason *r, int n, char *buf, size_t len);

//  Split the joined forms back into reasons (the decide script's answer). Returns n.
int
    risk_reply_split (const char *codes, const char *texts, struct risk_reason *out, int max);

#endif
