/*  strat - the strategy process's private header: context and config.
 *
 *  The strategy process holds signal logic only: it subscribes to `md`, `exec_pub` and
 *  `risk_pub` and sends ORDER_INTENTs to risk-gate through the lazy-pirate client.
 *  baseline_v1 plugs in behind strat_on_* (docs/roadmap.md item 3); the shell already
 *  tracks what it has seen so an operator can tell a silent feed from a silent strategy. */

#ifndef STRAT_H
#define STRAT_H

#include "kt.h"

struct strat_cfg {
    char id[8];                 //  strategy id, prefix of intent ids ("S1")
    char name[24];              //  strategy name ("baseline_v1")
};

typedef struct strat strat_t;

extern const kt_cfg_row_t strat_cfg_table[];

//  Subscribe and connect on proc's loop. Returns an owned context or NULL (logged).
strat_t *
    strat_new (kt_proc_t *proc, const struct strat_cfg *cfg);

//  Free. Safe on NULL; sets *self_p to NULL.
void
    strat_destroy (strat_t **self_p);

//  Send an intent to risk-gate; the decision arrives through the client's callback.
//  Returns 0, or -1 if it could not be queued.
int
    strat_send_intent (strat_t *self, struct kt_intent *intent);

#endif
