/*  md - md-gateway's private header: the context and the config of the market-data
 *  process.
 *
 *  md-gateway owns the `md` publisher. The Kite ticker connection, the packet decoder
 *  and the bar builder plug in here (docs/roadmap.md item 1); until then the process
 *  binds `md`, reports MD_STATUS (connected=false) and heartbeats, so every subscriber
 *  already sees the real endpoint and a feed that says it is down. */

#ifndef MD_H
#define MD_H

#include <stdio.h>
#include "kt.h"

struct md_cfg {
    int64_t status_ms; //  MD_STATUS period, wall ms
};

typedef struct md md_t;

//  Config table of section "md".
extern const kt_cfg_row_t md_cfg_table[];

//  Bind `md` and start the status timer on proc's loop. Returns an owned context or
//  NULL (reason logged).
md_t *md_new (kt_proc_t *proc, const struct md_cfg *cfg);

//  Free. Safe on NULL; sets *self_p to NULL.
void md_destroy (md_t **self_p);

//  Publish one MD_STATUS now. Returns 0 or -1 (HWM).
int md_publish_status (md_t *self);

//  `md-gateway --decode FILE` (bare false: one binary message) or `--decode-packet
//  FILE` (bare true: one packet): print {"ticks":[...]} and a newline to out, problems
//  to err. Returns the exit status: 0, 1 for a malformed frame (the ticks list is then
//  empty), 2 if the file cannot be read.
int md_cli_decode (const char *path, bool bare, FILE *out, FILE *err);

#endif
