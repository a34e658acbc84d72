/*  kt_store - the Redis connection of a process: hiredis with reconnect and back-off,
 *  the key prefix, a Lua script registry run with EVALSHA, and the health heartbeat.
 *
 *  Synchronous on purpose: every command has a short timeout (redis.timeout_ms), so
 *  a dead Redis costs one bounded wait, after which the context is discarded and the
 *  store refuses commands until the back-off delay passes (1, 2, 4 .. 8 s) and a
 *  reconnect succeeds. Callers treat NULL replies as "Redis unavailable" and fail
 *  closed. Scripts are loaded at connect (SCRIPT LOAD) and re-loaded on NOSCRIPT
 *  (Redis restarted without its script cache). Errors live on the object (errstr). */

#ifndef KT_STORE_H
#define KT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include "kt_log.h"

typedef struct kt_store kt_store_t;

//  Create a store for host:port with key prefix (e.g. "kt:") and command timeout
//  (connect and each command; <= 0 means 1000 ms). host NULL or "" = 127.0.0.1.
//  Does not connect yet. Returns an owned store, or NULL if host (>= 256 chars) or
//  prefix (>= 128 chars) is too long. Sets SIGPIPE to SIG_IGN if it is still SIG_DFL
//  (a Redis that closed the socket must not kill the process).
kt_store_t *
    kt_store_new (const char *host, int port, const char *prefix, int timeout_ms);

//  Free (closes the connection). Safe on NULL; sets *self_p to NULL.
void
    kt_store_destroy (kt_store_t **self_p);

//  Connect now (ignoring back-off; an existing connection is replaced), check that
//  Redis answers PING, and load every registered script. Returns 0 or -1 (reason in
//  kt_store_errstr; the store is then down and backs off like after a lost connection).
int
    kt_store_connect (kt_store_t *self);

//  True when a connection is up (the last command did not fail).
bool
    kt_store_is_ready (kt_store_t *self);

//  Last error text ("" if none). Borrowed.
const char *
    kt_store_errstr (const kt_store_t *self);

//  Number of successful reconnects after the first connect (health counter).
int64_t
    kt_store_reconnects (const kt_store_t *self);

#define KT_STORE_BACKOFF_MAX 8

//  Replace the reconnect back-off table (ms after the 1st, 2nd .. failure in a row;
//  the last entry repeats). The default is { 1000, 2000, 4000, 8000 }. Tests use a
//  short table to keep reconnect tests fast. delays_ms is copied. Returns 0, or -1 if
//  n is not 1..KT_STORE_BACKOFF_MAX or a delay is negative.
int
    kt_store_set_backoff (kt_store_t *self, const int *delays_ms, int n);

//  Milliseconds until the next reconnect attempt is allowed (0 when connected or when
//  the next command will try). For health output.
int64_t
    kt_store_retry_in_ms (const kt_store_t *self);

//  The prefix ("kt:"). Borrowed.
const char *
    kt_store_prefix (const kt_store_t *self);

//  Write prefix + printf(fmt, ...) into buf. Returns buf, or NULL if it did not fit.
char *
    kt_store_key (const kt_store_t *self, char *buf, size_t buflen, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Run one command (hiredis format; keys must already carry the prefix). Reconnects
//  first when the back-off allows. Returns an owned reply (freeReplyObject), or NULL
//  when Redis is unavailable or the command failed at the transport (errstr set).
//  A Redis error reply (REDIS_REPLY_ERROR) is returned as a reply, not NULL.
//  After a transport failure (including a timeout) the connection is discarded and
//  every command returns NULL at once, without network I/O, until the back-off delay
//  has passed; errstr keeps the failure that caused it.
redisReply *
    kt_store_cmd (kt_store_t *self, const char *fmt, ...);

//  Same with an argument vector (binary safe).
redisReply *
    kt_store_cmdargv (kt_store_t *self, int argc, const char **argv, const size_t *argvlen);

//  Register a Lua script under name (both copied); loaded on every (re)connect, and
//  on first use when registered after connecting. Registering the same name and text
//  again returns the same id. Returns a script id (>= 0) or -1 if the registry (32) is
//  full.
int
    kt_store_script (kt_store_t *self, const char *name, const char *lua);

//  EVALSHA a registered script with nkeys keys then args (all borrowed). Reloads and
//  retries once on NOSCRIPT. Returns an owned reply or NULL (as kt_store_cmd; also
//  NULL for an unknown script id or a script Redis refuses to load, errstr says which).
redisReply *
    kt_store_eval (kt_store_t *self, int script_id, int nkeys, const char **keys, int nargs,
                   const char **args);

//  Write the heartbeat hash <prefix>health:<proc> with pid, started, last beat (ns,
//  pipeline time now_ns) and the counters (kv list ending with KT_END; at most 64;
//  numbers in decimal, bools as 1/0), and set its TTL, in one MULTI/EXEC round trip.
//  Returns 0 or -1 (errstr).
int
    kt_store_heartbeat (kt_store_t *self, const char *proc, int64_t started_ns, int64_t now_ns,
                        int ttl_s, const kt_kv_t *counters);

//  XADD <prefix>events MAXLEN ~ 100000 * with the given fields (kv list ending with
//  KT_END; "type" first by convention; 1..64 fields). Returns 0 or -1 (errstr).
int
    kt_store_event (kt_store_t *self, const kt_kv_t *fields);

#endif
