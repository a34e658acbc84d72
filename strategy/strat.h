/*  strat - the strategy process's private header: context and config.
 *
 *  The strategy process holds signal logic only: it subscribes to `md`, `exec_pub` and
 *  `risk_pub` and sends ORDER_INTENTs to risk-gate through the lazy-pirate client.
 *  The signal logic is the pure core of strat_core.h (baseline_v1 in strat_base.c),
 *  which the backtest runs too; this shell does not drive it yet: today it tracks what
 *  it has seen so an operator can tell a silent feed from a silent strategy. */

#ifndef STRAT_H
#define STRAT_H

#include "kt.h"
#include "strat_core.h"

//  The "strategy" section. The params come first so that the rows of strat_cfg_table
//  also address a struct strat_params alone (strat_cfg_defaults, the backtest).
struct strat_cfg {
    struct strat_params p; //  the core's numbers
    char id[8];            //  strategy id, prefix of intent ids ("S1")
    char name[24];         //  strategy name ("baseline_v1")
};

typedef struct strat strat_t;

extern const kt_cfg_row_t strat_cfg_table[];

//  Store every row's default into base (a struct laid out as the rows' offsets say):
//  INT, BOOL, STR, MONEY and BPS rows; required rows (no default) are left alone.
//  Returns 0, or -1 if a default does not parse (a bug in a table).
int
    strat_cfg_apply_defaults (const kt_cfg_row_t *rows, void *base);

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
