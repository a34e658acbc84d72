/*  risk_check - the rule table: check(view, limits, intent, market) -> verdict (pure). */

#ifndef RISK_CHECK_H
#define RISK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_cfg.h"
#include "risk_view.h"

//  What the checks see of the market for the intent's instrument.
struct risk_market {
    const struct kt_instr *instr; //  borrowed; NULL = unknown symbol
    bool instr_table;             //  an instruments table is loaded at all
    int64_t ltp;                  //  paise, 0 = no tick seen
    int64_t ltp_ns;               //  time of that tick
};

struct risk_reason {
    kt_reason_t code;
    kt_verdict_t outcome; //  REDUCE, BLOCK or HALT
    char text[KT_TEXT_LEN];
};

struct risk_result {
    kt_verdict_t verdict; //  APPROVE < REDUCE < BLOCK < HALT (the worst reason)
    risk_kind_t kind;
    int64_t qty;           //  approved quantity
    int64_t unit_cost;     //  paise reserved per unit (entries)
    int64_t cost;          //  paise the order adds to reserved capital
    kt_reason_t halt_code; //  first HALT reason, KT_OK if none
    int nreasons;
    struct risk_reason reasons[KT_REASONS_MAX];
};

//  One row of the rule table (docs/risk-gate.md "The rules").
struct risk_rule {
    kt_reason_t code;
    const char *keys;     //  config keys it reads
    kt_verdict_t outcome; //  typical outcome on failure
    unsigned applies;     //  RISK_APPLIES_* bits
    bool account;         //  reads shared Redis state: re-run atomically in Lua
    const char *what;     //  one line, for docs and logs
};

#define RISK_APPLIES_ENTRY 0x1  //  ENTRY and MODIFY of an entry
#define RISK_APPLIES_REDUCE 0x2 //  EXIT, STOP, other MODIFY

//  The rule table in evaluation order, ending with a row whose code is KT_OK.
extern const struct risk_rule risk_check_rules[];

//  Kind of an intent, judged against the view (MODIFY of an open entry adds risk).
risk_kind_t risk_check_kind (const struct risk_view *view, const struct kt_intent *in);

//  The order-local rules (no shared state: BAD_INTENT .. RISK_PER_TRADE) for kind.
//  Fills *out from scratch. equity (paise) scales RISK_PER_TRADE's percentage.
void risk_check_local (const struct risk_cfg *cfg, const struct kt_intent *in, risk_kind_t kind,
                       const struct risk_market *mkt, int64_t now_ns, int64_t equity,
                       struct risk_result *out);

//  The account rules (KILL .. MARGIN_BUFFER, the exit cap) on top of *res, which holds
//  the local result; itype is the instrument's option type (per-type MAX_POS). The one
//  implementation: risk-gate commits its result (risk_capital_decide), tools and the
//  backtest call it directly. A BLOCK or HALT sets qty and cost to 0.
void risk_check_account (const struct risk_view *view, const struct risk_cfg *cfg,
                         const struct kt_intent *in, kt_itype_t itype, int64_t now_ns,
                         int64_t unrealised, struct risk_result *res);

//  The intent the local rules judge: a MODIFY of an open entry that carries no stop of
//  its own keeps the entry's attached stop (R is judged on it, as for a fresh entry).
//  Fills *out from in. Pure.
void risk_check_effective (const struct risk_view *view, const struct kt_intent *in,
                           struct kt_intent *out);

//  The whole check: kind, local rules, account rules. Pure: no I/O, no globals.
void risk_check_intent (const struct risk_view *view, const struct risk_cfg *cfg,
                        const struct kt_intent *in, const struct risk_market *mkt, int64_t now_ns,
                        int64_t unrealised, struct risk_result *out);

//  The slots MAX_POS and the trade limits count, as the strategy does: open positions
//  (symbols with qty != 0) in total and of one option type, and entries still pending
//  (approved, no fill yet) in total, of that type and on the intent's symbol. An entry
//  whose ref names a pending entry risk-gate holds (no fill yet) replaces it: that
//  entry's slot is not counted (replaced = its coid).
struct risk_slots {
    int64_t open_total, open_type;
    int64_t pending_total, pending_type, pending_sym;
    const struct risk_order *replaces; //  the pending entry in's ref replaces, or NULL
};

//  Count *out for an entry in of option type itype (KT_ITYPE_OTHER: no per-type
//  count) on *view. Pure.
void risk_check_slots (const struct risk_view *view, const struct kt_intent *in, kt_itype_t itype,
                       struct risk_slots *out);

//  The pending entry that entry in replaces (its ref, held, kind ENTRY, no fill), or NULL.
const struct risk_order *risk_check_replaced (const struct risk_view *view,
                                              const struct kt_intent *in);

//  Add a reason (dropped when full; the verdict still rises). text is printf-style.
void risk_check_add (struct risk_result *res, kt_reason_t code, kt_verdict_t outcome,
                     const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

//  The equity the capital rules (DEPLOY, MARGIN_BUFFER, the R cap in percent) work on:
//  equity x risk.capital_stage_pct / 100, the rollout stage (0 = no entries).
int64_t risk_check_staged (const struct risk_cfg *cfg, int64_t equity);

//  True when state lets an entry through (ACTIVE only).
bool risk_check_state_allows_entry (kt_trading_state_t state);

#endif
