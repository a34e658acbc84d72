/*  risk_reserve - what a decision writes (reservation, cover, windows, record, event) (pure). */

#ifndef RISK_RESERVE_H
#define RISK_RESERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_capital.h"

struct risk_reserve_req {
    const struct kt_intent *intent;
    const char *coid; //  order id if approved
    kt_itype_t itype;
    int64_t now_ns;
    const char *src; //  instance name, written to events
};

//  The writes of the decision *res (local + account rules): the switch to HALTED on a
//  HALT, rate windows, the entry's reservation and slot, an exit's cover, a
//  modification's growth, the intent record, the event. Into tx unless NULL; onto
//  *view when apply (call once with tx and !apply, commit, then with NULL and apply
//  on the same view). A BLOCK or HALT sets res->qty and res->cost to 0. Fills *out
//  (the caller's answer).
void risk_reserve_build (struct risk_view *view, const struct risk_cfg *cfg,
                         const struct risk_reserve_req *req, struct risk_result *res,
                         struct risk_tx *tx, bool apply, struct risk_decided *out);

//  The switch to HALTED with code and text (scope from the code, halt_seq + 1) into tx
//  (unless NULL) and, when apply, onto *view.
void risk_reserve_halt (struct risk_view *view, kt_reason_t code, const char *text, int64_t now_ns,
                        const char *src, struct risk_tx *tx, bool apply);

//  LPUSH now_ns onto the newest-first window key (into tx unless NULL), trimmed back to
//  `limit` once it holds twice that (limit <= 0: RISK_TS_MAX). When apply, the same onto
//  ts[] and *n. Returns the window's length after the push (also without apply).
int risk_reserve_window (struct risk_tx *tx, bool apply, const kt_schema_key_t *key, int64_t *ts,
                         int *n, int64_t limit, int64_t now_ns);

//  The reasons of a decision into the open HSET of tx as fields of their own: code1,
//  text1, code2, text2, ... (at most KT_REASONS_MAX; `nreasons` is the caller's).
void risk_reserve_reasons (struct risk_tx *tx, const struct risk_reason *r, int n);

//  The layouts of a decision's record (risk_tx_record), for the commit script.
#define RISK_RESERVE_NLAYOUTS 2
extern const struct risk_tx_layout *const risk_reserve_layouts[RISK_RESERVE_NLAYOUTS];

#endif
