/*  risk_capital - the Lua scripts (snapshot, commit, resolve), the decision (rules in C, one
 *  versioned commit) and the settling of held orders from the book. */

#ifndef RISK_CAPITAL_H
#define RISK_CAPITAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_check.h"
#include "risk_tx.h"

//  What a decision answered.
struct risk_decided {
    kt_verdict_t verdict;
    int64_t qty;
    risk_kind_t kind;
    bool duplicate;           //  intent_id was decided before: stored decision
    bool halted_now;          //  this decision switched the state to HALTED
    kt_trading_state_t state; //  trading state after the decision
    char coid[KT_ID_LEN];
    int nreasons;
    struct risk_reason reasons[KT_REASONS_MAX];
    int redecided; //  times the account moved and the rules ran again
};

//  Register the scripts on store (borrowed). Returns 0 or -1 (registry full).
int risk_capital_register (kt_store_t *store, struct risk_scripts *ids);

//  Read the whole account into *view with one EVALSHA. Returns 0, or -1 (Redis down or
//  a malformed answer; reason in why).
int risk_capital_snapshot (kt_store_t *store, const struct risk_scripts *ids,
                           struct risk_view *view, char *why, size_t whylen);

//  Everything decide needs besides the store and the view: the intent, both local
//  results (as an entry and as a reducing order), P&L and the limits.
struct risk_decide_req {
    const struct kt_intent *intent;
    const char *coid; //  order id if approved (= intent_id)
    kt_itype_t itype;
    const struct risk_result *as_entry;  //  local result if the intent adds risk
    const struct risk_result *as_reduce; //  local result if it reduces risk
    int64_t now_ns;
    int64_t unrealised;
    const char *src; //  instance name, written to events
};

#define RISK_DECIDE_TRIES 4 //  decisions on a moving account before failing closed

//  Decide on *view (the account as last read, updated in place): the account rules in
//  C (risk_check_account), then one commit (risk_tx) of the reservation, the record
//  and the `events` entry, applied only if the account did not change since *view was
//  read; else *view is the account now and the rules run again (at most
//  RISK_DECIDE_TRIES times). tx is scratch. Returns 0 with *out filled (a duplicate
//  intent gets its stored decision), -1 when Redis did not answer or answered an error
//  (the commit may have been applied), -2 when nothing was applied (the view is not
//  loaded, or the account kept changing): reason in why either way.
int risk_capital_decide (kt_store_t *store, const struct risk_scripts *ids,
                         const struct risk_cfg *cfg, const struct risk_decide_req *req,
                         struct risk_view *view, struct risk_tx *tx, struct risk_decided *out,
                         char *why, size_t whylen);

//  What settling held orders from the book did.
struct risk_applied {
    bool changed;        //  a held order was brought up to the book
    bool trade_closed;   //  the book closed a round trip since the view was read
    int64_t trade_pnl;   //  paise, of the last one
    bool reject_counted; //  a broker rejection was added to the window
};

//  The EXEC_EVENT that made risk-gate settle (its coid is marked answered).
struct risk_settle_ev {
    char coid[KT_ID_LEN];
    kt_exec_kind_t event; //  a terminal one ends a held order the book has no record of
    bool count_reject;    //  a REJECTED of the broker's making (counts toward REJECTS)
};

//  Read the account and the book, then bring every held order up to the book in one
//  commit (applied only if neither moved meanwhile, else again): an entry's first fill
//  counts as a trade and frees its pending slot, the filled quantity and the
//  reservation left are recorded, an order that ended leaves risk:open, a broker
//  rejection of an entry counts toward REJECTS (ev's flag for ev's order, else the
//  book's reason: one not of our own making). ev may be NULL (the poll). Positions,
//  fills and realised P&L are the book's: nothing here applies a fill. Returns 0 or -1
//  (why); *view is the account after it.
int risk_capital_settle (kt_store_t *store, const struct risk_scripts *ids,
                         const struct risk_cfg *cfg, const struct risk_settle_ev *ev,
                         int64_t now_ns, struct risk_applied *out, struct risk_view *view,
                         char *why, size_t whylen);

//  True when a held order of *view is behind the book (a fill or an end not settled).
bool risk_capital_settle_needed (const struct risk_view *view);

//  True for a reason of our own making ("CODE: text" with one of our codes).
bool risk_capital_our_reason (const char *reason);

//  Record that risk-gate sends the approved order coid now (intent:<coid> sent_ns) with
//  the order as sent (cmd: order type, prices, product; NULL when it is not at hand):
//  only orders marked sent are ever asked for again by the sweep, from these fields.
//  One HSET. Returns 0, or -1 when Redis did not answer (then it is unknown whether the
//  mark was written).
int risk_capital_mark_sent (kt_store_t *store, const char *coid, const struct kt_order_cmd *cmd,
                            int64_t now_ns);

//  Settle in Redis a decision whose script outcome risk-gate does not know (the EVALSHA
//  failed at the transport, possibly after Redis ran it) with the answer the caller got:
//  refused (d->verdict BLOCK/HALT: an order held but never marked sent is released like
//  a cancelled one -- reservation, pending slot or exit cover -- and the record becomes
//  that refusal), or sent (APPROVE/REDUCE: a held order is marked sent with the quantity
//  sent). The record then answers a retried intent as the caller was answered.
//  *result: 2 released a held order, 1 recorded only, 0 nothing to do (already refused
//  or already marked sent), -1 not refused because it was marked sent. Refreshes *view.
//  Returns 0 or -1 (why).
int risk_capital_resolve (kt_store_t *store, const struct risk_scripts *ids,
                          const struct risk_cfg *cfg, const char *intent_id,
                          const struct risk_decided *d, int64_t now_ns, const char *src,
                          int *result, struct risk_view *view, char *why, size_t whylen);

//  Record that open order coid was looked up and exec-gateway does not know it
//  (unresolved; its reservation stays). Returns 0 or -1.
int risk_capital_mark_unresolved (kt_store_t *store, const char *coid);

#endif
