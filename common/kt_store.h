/*  kt_store - the Redis connection of a process: an asynchronous connection on the
 *  process's kt_loop for writes nothing waits on, a synchronous one for the decisions a
 *  caller waits for, the key prefix, a Lua script registry and the health heartbeat.
 *
 *  Writes (kt_store_send, kt_store_heartbeat, kt_store_event) never block: once the
 *  store is attached to a loop they are queued in order, pipelined on the async
 *  connection and removed only when Redis answered. While Redis is down or stalled they
 *  stay queued (bounded; over the cap a write is dropped, counted and logged) and are
 *  re-sent in order after the reconnect, so a Redis stall or restart loses nothing (a
 *  write Redis applied just before the connection broke may be applied twice). The
 *  async connection reconnects in the background: at once after losing a working
 *  connection, then with a short capped exponential delay only while connects fail.
 *
 *  The synchronous calls (kt_store_call*, kt_store_eval_call) block for at most the command timeout
 * (redis.timeout_ms), a reconnect included; after a failure they are refused without I/O until the
 * back-off delay passes or the async connection sees Redis answer again. Scripts keep their SHA (a
 * SHA names the text, not the connection): the async connection loads them after each connect, and
 * a sync EVALSHA that meets NOSCRIPT loads and retries once. Results are typed (kt_store_result_t);
 * errors live on the object (errstr). */

#ifndef KT_STORE_H
#define KT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt_log.h"

typedef struct kt_store kt_store_t;
typedef struct kt_loop kt_loop_t;

//  What a Redis command answered. DOWN: no answer (Redis unavailable, the command
//  timed out, or the store was destroyed with the write still queued); str says why.
typedef enum {
    KT_STORE_NIL,
    KT_STORE_INT,
    KT_STORE_STR, //  bulk and status replies ("OK")
    KT_STORE_ARR,
    KT_STORE_ERR, //  Redis refused the command; str is its error text
    KT_STORE_DOWN
} kt_store_kind_t;

//  A typed reply. str/len: STR, ERR and DOWN (never NULL; "" otherwise); integer: INT;
//  elements: ARR (read them with kt_store_result_at). Strings are borrowed from the
//  result and live as long as it does.
typedef struct kt_store_result {
    kt_store_kind_t kind;
    int64_t integer;
    const char *str;
    size_t len;
    size_t elements;
    const void *node_; //  private: the reply behind it
    void *owned_;      //  private: set on results a kt_store_call* returned
} kt_store_result_t;

//  Element i of an ARR result (borrowed from it). NIL for anything else or i out of
//  range.
kt_store_result_t kt_store_result_at (const kt_store_result_t *result, size_t i);

//  The result as an int64: an INT, or a STR holding a whole decimal number. Returns 0
//  and sets *out, or -1 (other kinds, not a number, out of range).
int kt_store_result_i64 (const kt_store_result_t *result, int64_t *out);

//  True when the result is a STR equal to text.
bool kt_store_result_is (const kt_store_result_t *result, const char *text);

//  Release a result returned by kt_store_call, kt_store_callf or kt_store_eval_call
//  (results passed to a kt_store_done_fn are borrowed: never free those). Safe twice.
void kt_store_result_free (kt_store_result_t *result);

//  Completion of a queued write: result is borrowed for the call. Runs from the loop
//  (or at once when the store is not attached), never from kt_store_send itself when
//  attached.
typedef void (kt_store_done_fn) (const kt_store_result_t *result, void *arg);

//  Counters of the write queue since kt_store_new.
typedef struct {
    int64_t queued;     //  waiting or in flight now
    int64_t written;    //  answered by Redis (an ERR answer included)
    int64_t retried;    //  re-sent after a lost connection
    int64_t dropped;    //  refused because the queue was full
    int64_t refused;    //  answered with a Redis error (also inside EXEC)
    int64_t reconnects; //  successful reconnects of either connection after the first
} kt_store_stats_t;

#define KT_STORE_QUEUE_MAX_DEFAULT 100000

//  Create a store for host:port with key prefix (e.g. "kt:") and command timeout
//  (connect and each command; <= 0 means 1000 ms). host NULL or "" = 127.0.0.1.
//  Does not connect yet. Returns an owned store, or NULL if host (>= 256 chars) or
//  prefix (>= 128 chars) is too long. Sets SIGPIPE to SIG_IGN if it is still SIG_DFL
//  (a Redis that closed the socket must not kill the process).
kt_store_t *kt_store_new (const char *host, int port, const char *prefix, int timeout_ms);

//  Run the async connection on loop (borrowed; must outlive the store, or the store
//  must be destroyed first). Starts connecting in the background; from now on writes
//  are queued instead of run synchronously. Returns 0, or -1 if already attached.
int kt_store_attach (kt_store_t *self, kt_loop_t *loop);

//  Queue one command (argv binary safe: argvlen NULL means C strings; everything is
//  copied) on the async connection; fn (may be NULL) gets the answer. Keys must carry
//  the prefix. Without a loop attached the command runs synchronously and fn is called
//  before this returns. Returns 0 (queued, or run), or -1 when the queue is full (the
//  write is dropped, counted, logged as store.drop; fn is not called) or argc < 1.
int kt_store_send (kt_store_t *self, int argc, const char **argv, const size_t *argvlen,
                   kt_store_done_fn *fn, void *arg);

//  Same with a hiredis format string ("HSET %s %s %lld"; %b for binary).
int kt_store_sendf (kt_store_t *self, kt_store_done_fn *fn, void *arg, const char *fmt, ...);

//  Queue a registered script (kt_store_script) with nkeys keys then args (borrowed,
//  copied), like kt_store_send; it runs in queue order and cannot meet NOSCRIPT.
//  Returns 0, or -1 (queue full, or a bad script id or counts: errstr).
int kt_store_send_eval (kt_store_t *self, int script_id, int nkeys, const char **keys, int nargs,
                        const char **args, kt_store_done_fn *fn, void *arg);

//  Wait at most timeout_ms for the queued writes to be answered (shutdown). Runs only
//  the store's own connection, not the loop. Returns the number still queued.
int64_t kt_store_flush (kt_store_t *self, int timeout_ms);

//  Bound the write queue (default KT_STORE_QUEUE_MAX_DEFAULT; n >= 1).
void kt_store_set_queue_max (kt_store_t *self, int64_t n);

//  The write counters.
kt_store_stats_t kt_store_stats (const kt_store_t *self);

//  Free (closes the connections). Writes still queued are lost: their callbacks get
//  DOWN "store destroyed" (call kt_store_flush first to give them a chance). Never call
//  it from a kt_store_done_fn. Safe on NULL; sets *self_p to NULL.
void kt_store_destroy (kt_store_t **self_p);

//  Connect the synchronous connection now (ignoring back-off; an existing connection
//  is replaced), check that Redis answers PING, and load every registered script: the
//  explicit start-up check. Blocks up to the timeout per round trip. Returns 0 or -1
//  (reason in kt_store_errstr; the store is then down and backs off like after a lost
//  connection). Reconnects after a failure are lighter: connect only, within the
//  timeout of the command that needed it.
int kt_store_connect (kt_store_t *self);

//  True when Redis is reachable: attached, the async connection is up; otherwise the
//  synchronous connection is up (its last command did not fail).
bool kt_store_is_ready (kt_store_t *self);

//  Last error text ("" if none). Borrowed.
const char *kt_store_errstr (const kt_store_t *self);

//  Number of successful reconnects (either connection) after its first connect.
int64_t kt_store_reconnects (const kt_store_t *self);

#define KT_STORE_BACKOFF_MAX 8

//  Replace the synchronous connection's back-off table (ms after the 1st, 2nd ..
//  failure in a row; the last entry repeats). The default is { 50, 100, 200, 400, 800,
//  1000 }: short, because any answer on the async connection ends the back-off at once. delays_ms
//  is copied. Returns 0, or -1 if n is not 1..KT_STORE_BACKOFF_MAX or a delay is negative.
int kt_store_set_backoff (kt_store_t *self, const int *delays_ms, int n);

//  Milliseconds until the next reconnect attempt is allowed (0 when connected or when
//  the next command will try). For health output.
int64_t kt_store_retry_in_ms (const kt_store_t *self);

//  The prefix ("kt:"). Borrowed.
const char *kt_store_prefix (const kt_store_t *self);

//  A key by value: it cannot be NULL. The prefix is < 128 chars (kt_store_new refuses
//  longer), so a key whose own part is a fixed name and bounded ids (< 128 chars in
//  all) always fits; a longer one is a programming error and aborts with a message.
typedef struct {
    char s[256];
} kt_key_t;

kt_key_t kt_store_keyv (const kt_store_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Run one command synchronously (argv binary safe; keys carry the prefix), bounded by
//  the timeout, reconnecting first when the back-off allows. Returns an owned result
//  (kt_store_result_free): DOWN when Redis is unavailable or the round trip failed
//  (errstr too), ERR when Redis refused the command.
kt_store_result_t kt_store_call (kt_store_t *self, int argc, const char **argv,
                                 const size_t *argvlen);

//  Same with a hiredis format string.
kt_store_result_t kt_store_callf (kt_store_t *self, const char *fmt, ...);

//  EVALSHA a registered script synchronously (keys then args borrowed). Loads it and
//  retries once on NOSCRIPT. Returns an owned result as kt_store_call (DOWN also for an
//  unknown script id or a script Redis refuses to load; errstr says which).
kt_store_result_t kt_store_eval_call (kt_store_t *self, int script_id, int nkeys, const char **keys,
                                      int nargs, const char **args);

//  HGET key field as an int64. Returns 0 (set *out), 1 when the field is missing or
//  not a number, -1 when Redis is unavailable. Synchronous.
int kt_store_hget_i64 (kt_store_t *self, const char *key, const char *field, int64_t *out);

// ---- scripts ----------------------------------------------------------------------

//  Register a Lua script under name (both copied); loaded by kt_store_connect, on every
//  async (re)connect, and on first use or NOSCRIPT by a synchronous eval. Registering the same name
//  and text again returns the same id. Returns a script id (>= 0) or -1 if the registry (32) is
//  full.
int kt_store_script (kt_store_t *self, const char *name, const char *lua);

// ---- writes of every process ------------------------------------------------------

//  Write the heartbeat hash <prefix>health:<proc> with pid, started, last beat (ns,
//  pipeline time now_ns) and the counters (kv list ending with KT_END; at most 64;
//  numbers in decimal, bools as 1/0), and set its TTL, in one MULTI/EXEC (so the hash
//  never lives without its TTL). Attached: queued (returns 0, or -1 when dropped or
//  invalid); otherwise synchronous (returns 0 or -1 with errstr).
int kt_store_heartbeat (kt_store_t *self, const char *proc, int64_t started_ns, int64_t now_ns,
                        int ttl_s, const kt_kv_t *counters);

//  XADD <prefix>events MAXLEN ~ 100000 * with the given fields (kv list ending with
//  KT_END; "type" first by convention; 1..64 fields). Queued when attached, like
//  kt_store_heartbeat. Returns 0 or -1 (errstr).
int kt_store_event (kt_store_t *self, const kt_kv_t *fields);

#endif
