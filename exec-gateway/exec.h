/*  exec - exec-gateway's private header: context and config.
 *
 *  exec-gateway is the only process that talks orders to the broker. It serves
 *  ORDER_COMMANDs from risk-gate on `exec` (ROUTER), records every order in Redis
 *  (order:<coid>, orders:open) before it acts, and publishes EXEC_EVENTs on `exec_pub`.
 *  A command whose coid is already recorded is answered with the recorded outcome and
 *  never acted on twice. Broker order entry (Kite REST, order updates, paper fills)
 *  plugs in behind exec_order_submit (docs/roadmap.md item 2); until it is enabled a
 *  command is answered REJECTED with that reason - never sent, so never ambiguous. */

#ifndef EXEC_H
#define EXEC_H

#include "kt.h"

typedef struct exec exec_t;

//  Bind `exec` and `exec_pub` on proc's loop. Returns an owned context or NULL (logged).
exec_t *
    exec_new (kt_proc_t *proc);

//  Free. Safe on NULL; sets *self_p to NULL.
void
    exec_destroy (exec_t **self_p);

//  Handle one command: returns the EXEC_EVENT to answer with in *out. Idempotent on
//  cmd->coid. Returns 0, or -1 when the command is malformed (out says why).
int
    exec_handle_command (exec_t *self, const struct kt_order_cmd *cmd, struct kt_exec_event *out);

#endif
