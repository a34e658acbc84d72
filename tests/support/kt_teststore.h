/*  kt_teststore - the Redis fixture of tests that work on the store: a throwaway
 *  redis-server (kt_testredis), a kt_store on it with the "kt:" prefix, and a raw
 *  hiredis connection to write and look at keys behind the store's back. */

#ifndef KT_TESTSTORE_H
#define KT_TESTSTORE_H

#include <stddef.h>
#include <stdint.h>
#include "kt.h"
#include "kt_book.h"
#include "kt_testredis.h"

typedef struct {
    kt_testredis_t *srv; //  owned
    kt_store_t *store;   //  owned, prefix "kt:", connected
    redisContext *peek;  //  owned, raw connection to srv
} kt_teststore_t;

//  Start redis-server, connect the store (timeout_ms per command) and peek, and quiet
//  the log under name. Returns 0, or -1 (nothing left running).
int kt_teststore_start (kt_teststore_t *self, const char *name, int timeout_ms);

//  Stop and free everything start made. Safe on a fixture that failed to start.
void kt_teststore_stop (kt_teststore_t *self);

//  Run a command on peek (hiredis format). Returns 0, or -1 when it got no reply or an
//  error reply.
int kt_teststore_cmd (kt_teststore_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Run a whole command line on peek, split at spaces (no argument may hold one).
//  Returns 0, or -1 when it got no reply or an error reply.
int kt_teststore_line (kt_teststore_t *self, const char *line);

//  HGET key field into buf ("" when absent or on error). Returns buf.
char *kt_teststore_hget (kt_teststore_t *self, const char *key, const char *field, char *buf,
                         size_t len);

//  HGET as a decimal number: -1 when absent.
int64_t kt_teststore_hget_i64 (kt_teststore_t *self, const char *key, const char *field);

//  An integer reply of a command with one string argument (LLEN, SISMEMBER, TTL ...):
//  -1 when the reply is not an integer.
int64_t kt_teststore_int (kt_teststore_t *self, const char *fmt, const char *arg);

//  A book order record as exec-gateway records one before placing it: coid (also the
//  intent id), sym, side, purpose, qty; LIMIT, MIS, OPEN, nothing filled.
void kt_teststore_order (struct kt_order_rec *o, const char *coid, const char *sym, kt_side_t side,
                         kt_purpose_t purpose, int64_t qty);

#endif
