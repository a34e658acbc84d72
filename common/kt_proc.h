/*  kt_proc - what every process of the pipeline has: the loop, the pipeline clock,
 *  the Redis store, the bus, the alert outbox, and the heartbeat.
 *
 *  Used by each process's X_new (md, strat, risk, exec, recon, alert). Start-up waits
 *  for Redis at most redis.timeout_ms per round trip: a process comes up with Redis down,
 *  logs store.down, fails closed where it matters and reconnects in the background. The
 *  store runs on the proc's loop: heartbeats and other writes are queued, never block,
 *  and the heartbeat carries the store's and the loop's counters (docs/decisions.md). In sim mode
 * the clock comes from the Redis `clock` hash (written by kite-sim, or created from config by the
 * first process that finds none), and the heartbeat re-reads it so every process follows a
 *  restarted simulated session. */

#ifndef KT_PROC_H
#define KT_PROC_H

#include <stddef.h>
#include <stdint.h>
#include "kt_alert.h"
#include "kt_bus.h"
#include "kt_cfg.h"
#include "kt_clock.h"
#include "kt_log.h"
#include "kt_loop.h"
#include "kt_store.h"

typedef struct kt_proc kt_proc_t;

#define KT_PROC_COUNTERS_MAX 24

//  Messages a socket handler reads per loop iteration before yielding to the others.
#define KT_PROC_DRAIN_MAX 64

//  Fill up to max counters for the heartbeat hash; return how many. Keys and string
//  values must stay valid until the next call.
typedef int (kt_proc_counters_fn) (kt_kv_t *out, int max, void *arg);

//  Build the runtime of process name from cfg (borrowed; must outlive the proc). Opens
//  the logger. Returns an owned proc, or NULL with the reason in err (an endpoint that
//  cannot be created, a bad clock config).
kt_proc_t *kt_proc_new (const kt_cfg_t *cfg, const char *name, char *err, size_t errlen);

//  Tear down in reverse order. Safe on NULL; sets *self_p to NULL.
void kt_proc_destroy (kt_proc_t **self_p);

//  Parts (borrowed, valid for the life of the proc).
kt_loop_t *kt_proc_loop (kt_proc_t *self);
kt_clock_t *kt_proc_clock (kt_proc_t *self);
kt_store_t *kt_proc_store (kt_proc_t *self);
kt_bus_t *kt_proc_bus (kt_proc_t *self);

//  After a message m was received on a SUB socket of the bus: log what its sequence number
//  said, if it was not the next one (a gap: messages lost, WARN at most every 10 s; a
//  publisher's restart: INFO). The counters stay kt_bus_gaps / kt_bus_restarts.
struct kt_msg;
void kt_proc_note_seq (kt_proc_t *self, const char *topic, const struct kt_msg *m);
kt_alert_out_t *kt_proc_alerts (kt_proc_t *self);
const kt_cfg_t *kt_proc_cfg (kt_proc_t *self);
const char *kt_proc_name (kt_proc_t *self);

//  Pipeline time now, ns.
int64_t kt_proc_now_ns (kt_proc_t *self);

//  Add the process's own counters to every heartbeat.
void kt_proc_set_counters (kt_proc_t *self, kt_proc_counters_fn *fn, void *arg);

//  Write the heartbeat now and wait, at most redis.timeout_ms, until Redis has it (for
//  tools and tests; never call it from a handler). The loop's own beat, every
//  health.beat_ms of wall time, is queued and never waits. Returns 0, or -1 if Redis is
//  unavailable (the beat then stays queued and lands when Redis is back).
int kt_proc_beat (kt_proc_t *self);

//  Pipeline ms that last wall_ms of wall time at the clock's speed now (at least 1). For
//  a timer of wall time use kt_loop_timer_wall, which follows the speed as it changes;
//  this is for durations measured on the pipeline clock (a grace added to a due time).
int64_t kt_proc_wall_to_pipeline_ms (kt_proc_t *self, int64_t wall_ms);

//  The shared sim clock as the Redis `clock` hash holds it now (for tools and tests
//  that have a store but no proc). Returns an owned clock, or NULL if the hash is
//  missing or incomplete, or Redis is unavailable. *gen (may be NULL) gets its `gen`.
kt_clock_t *kt_proc_shared_clock (kt_store_t *store, int64_t *gen);

//  A decoded message from a socket made by kt_proc_sub / kt_proc_serve / kt_proc_pull.
//  peer is NULL except for requests on a ROUTER. Arguments are borrowed for the call.
//  Return 0 to continue, -1 only to stop the process.
typedef int (kt_proc_msg_fn) (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic,
                              const struct kt_msg *msg, void *arg);

//  Connect a SUB to endpoint name, subscribe to each prefix of the NULL-terminated list,
//  and call fn for every message on proc's loop. Rejected bodies are counted by the
//  bus and logged as msg.reject (rate-limited). Returns the socket or NULL.
void *kt_proc_sub (kt_proc_t *self, const char *name, const char *const *prefixes,
                   kt_proc_msg_fn *fn, void *arg);

//  Bind a ROUTER on name and call fn for every request; fn answers with
//  kt_bus_reply (kt_proc_bus (proc), sock, peer, ...). Returns the socket or NULL.
void *kt_proc_serve (kt_proc_t *self, const char *name, kt_proc_msg_fn *fn, void *arg);

//  Bind a PULL on name and call fn for every message. Returns the socket or NULL.
void *kt_proc_pull (kt_proc_t *self, const char *name, kt_proc_msg_fn *fn, void *arg);

//  What a process is, for kt_proc_main: its name, its config table and struct, and its
//  context constructor/destructor. new_fn binds sockets and registers handlers on the
//  proc's loop; it returns NULL (after logging why) if the process cannot run.
typedef struct {
    const char *name;
    const kt_cfg_row_t *table; //  may be NULL
    void *proc_cfg;            //  the table's struct, borrowed
    void *(*new_fn) (kt_proc_t *proc, const void *proc_cfg);
    void (*destroy_fn) (void **ctx_p);
} kt_proc_spec_t;

//  The whole of a process's main(): load the config (exit 2 on a bad one, print and exit
//  0 with --print-config), build the proc and the context, run the loop until SIGTERM or
//  SIGINT, tear down. Returns the exit code: 0 graceful stop, 1 runtime failure, 2 bad
//  config.
int kt_proc_main (int argc, char **argv, const kt_proc_spec_t *spec);

#endif
