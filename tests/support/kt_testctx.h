/*  kt_testctx - one process's runtime in a test: a throwaway redis-server, a test
 *  config and a kt_proc, plus a second bus for the test's own sockets.
 *
 *  Used by the process context tests (md, strat, recon, alert, exec). */

#ifndef KT_TESTCTX_H
#define KT_TESTCTX_H

#include "kt_proc.h"
#include "kt_testcfg.h"
#include "kt_testredis.h"

typedef struct {
    kt_testredis_t *redis;      //  owned
    struct kt_cfg cfg;
    kt_proc_t *proc;            //  owned: the process under test
    struct kt_cfg peer_cfg;
    kt_proc_t *peer;            //  owned: the test's side (other sockets, other src)
    char tag[32];
} kt_testctx_t;

//  Start Redis and build proc (named name) and a peer proc ("test-peer"). Returns 0 or -1.
int
    kt_testctx_start (kt_testctx_t *self, const char *name, const char *tag);

//  Tear everything down.
void
    kt_testctx_stop (kt_testctx_t *self);

//  Run both loops for up to rounds iterations of wait_ms each, or until *flag != 0.
void
    kt_testctx_spin (kt_testctx_t *self, int rounds, int wait_ms, const int *flag);

//  HGET from Redis into buf ("" if missing). Returns buf.
char *
    kt_testctx_hget (kt_testctx_t *self, const char *key, const char *field, char *buf,
                     size_t len);

#endif
