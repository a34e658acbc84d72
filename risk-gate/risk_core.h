/*  risk_core - the engine: the above over one store, no sockets (tests run two of them). */

#ifndef RISK_CORE_H
#define RISK_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "risk_capital.h"

typedef struct risk_core risk_core_t;

#define RISK_CMDS_MAX 4
#define RISK_ALERTS_MAX 4

struct risk_alert_item {
    kt_severity_t sev;
    char key[KT_KEY_LEN];
    char text[KT_ALERT_LEN];
};

//  What the process must do after a core call, in this order: reply, mark sent
//  (risk_core_mark_sent: marks[] in Redis), send cmds[], publish, alert. An order in
//  marks[] must not leave before its mark was attempted: the sweep asks exec-gateway
//  again only for orders marked sent.
struct risk_out {
    bool has_decision;
    struct kt_decision decision;
    int nmarks; //  coids of cmds[] to mark sent before they leave
    char marks[RISK_CMDS_MAX][KT_ID_LEN];
    int ncmds;
    struct kt_order_cmd cmds[RISK_CMDS_MAX];
    bool state_changed; //  publish RISK_STATE
    int nalerts;
    struct risk_alert_item alerts[RISK_ALERTS_MAX];
    bool has_event; //  the decision's `events` entry, written after the reply
    char event_sym[KT_SYM_LEN];
    risk_kind_t event_kind;
};

//  A core over store (borrowed) with cfg and instruments (borrowed, instr may be NULL
//  until loaded), named src in events. Registers the scripts. Returns an owned core.
risk_core_t *risk_core_new (const struct risk_cfg *cfg, kt_store_t *store, const char *src);

void risk_core_destroy (risk_core_t **self_p);

//  Use this instruments table (borrowed; may be NULL).
void risk_core_set_instruments (risk_core_t *self, const kt_instr_table_t *instr);

//  Start-up: roll/create the account, REDUCING until the reconciler agrees, load the
//  view. started_ns is when this instance started (recon agreement must be newer).
//  Returns 0, or -1 if Redis is unavailable (the core keeps failing closed and retries
//  from risk_core_poll).
int risk_core_start (risk_core_t *self, int64_t now_ns, struct risk_out *out);

//  Decide one intent: fills out->decision and, when approved, out->cmds[0]; an approved
//  entry or exit decided in Redis also gets its coid in out->marks[]. Does not mark it
//  sent (so the caller's answer waits for one round trip only): call
//  risk_core_mark_sent before the commands leave.
void risk_core_decide (risk_core_t *self, const struct kt_intent *in, int64_t now_ns,
                       struct risk_out *out);

//  Mark sent in Redis (intent:<coid> sent_ns = now_ns) every order of out->marks[], once
//  per core call's out: after the reply and before sending out->cmds[] (out->marks[] is
//  left as it was). A mark whose HSET got no answer is unknown: the order is to be sent
//  anyway (the caller was told APPROVE); it is logged (risk.mark.fail), counts as Redis
//  down, and is remembered so the sweep marks it rather than refusing it. Returns 0,
//  or -1 if any mark got no answer (the commands must still be sent). Also writes the
//  decision's `events` entry (out->has_event; queued, never blocking once the store runs
//  on the loop).
int risk_core_mark_sent (risk_core_t *self, struct risk_out *out, int64_t now_ns);

//  Apply one EXEC_EVENT (from exec_pub or a reply of exec-gateway).
void risk_core_on_exec (risk_core_t *self, const struct kt_exec_event *ev, int64_t now_ns,
                        struct risk_out *out);

//  A TICK: remember the last price of sym.
void risk_core_on_tick (risk_core_t *self, const char *sym, int64_t ltp, int64_t ts_ns);

//  The periodic work: day roll, kill switch, reconciler agreement, P&L mark, breakers.
void risk_core_poll (risk_core_t *self, int64_t now_ns, struct risk_out *out);

//  Orders sent to exec-gateway but never answered: look them up (exec-gateway's order
//  record), ask again once, then mark unresolved and alert; such a reservation is kept.
//  Orders approved but never marked sent (a decide whose answer was lost, a crash before
//  the send) are never sent by the sweep: unless exec-gateway has them, they are
//  released as refused after resv_timeout_s. Also settles the decisions of unknown
//  outcome still waiting for Redis.
void risk_core_sweep (risk_core_t *self, int64_t now_ns, struct risk_out *out);

//  The request client gave up on coid (no answer after its retries).
void risk_core_unanswered (risk_core_t *self, const char *coid, int64_t now_ns,
                           struct risk_out *out);

//  Current view (borrowed) and the unrealised P&L from the price table.
const struct risk_view *risk_core_view (const risk_core_t *self);
int64_t risk_core_unrealised (const risk_core_t *self);

//  Fill a RISK_STATE body from the view.
void risk_core_state_msg (const risk_core_t *self, struct kt_risk_state *out);

//  Counters for the heartbeat.
struct risk_counters {
    int64_t decisions, approved, reduced, blocked, halts, duplicates, store_down;
    int64_t exec_events, fills, ticks, unresolved;
    int64_t redecided; //  decisions made again because the account moved under them
};
const struct risk_counters *risk_core_counters (const risk_core_t *self);

#endif
