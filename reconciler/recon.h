/*  recon - the reconciler's private header: context and config.
 *
 *  The reconciler compares the broker's view (positions, orders, trades over Kite REST)
 *  with Redis at start-up and every recon.interval_s, and is the only process that may
 *  tell risk-gate the two agree. The comparison and its actions plug in behind
 *  recon_run (docs/roadmap.md item 4); until then a run records that no agreement was
 *  established, so trading stays REDUCING (fail closed). */

#ifndef RECON_H
#define RECON_H

#include "kt.h"

struct recon_cfg {
    int64_t interval_s;         //  seconds between runs (wall time)
};

typedef struct recon recon_t;

extern const kt_cfg_row_t recon_cfg_table[];

//  Subscribe to exec_pub and start the run timer. Returns an owned context or NULL.
recon_t *
    recon_new (kt_proc_t *proc, const struct recon_cfg *cfg);

//  Free. Safe on NULL; sets *self_p to NULL.
void
    recon_destroy (recon_t **self_p);

//  One reconciliation run. Returns 0 when the broker and Redis agree, 1 when agreement
//  could not be established, -1 on a discrepancy.
int
    recon_run (recon_t *self);

#endif
