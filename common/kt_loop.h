/*  kt_loop - the one event loop of every process: ZeroMQ sockets, raw fds, timers
 *  and before-sleep hooks around a single zmq_poll.
 *
 *  Handlers return 0 to continue and -1 to stop the process. The poll set is rebuilt
 *  lazily after a registration changes. Timers run on the pipeline clock (kt_clock):
 *  in sim mode at 60x a 1000 ms timer fires every 16.7 ms of wall time.
 *  SIGTERM and SIGINT end kt_loop_run with 0 (graceful stop). */

#ifndef KT_LOOP_H
#define KT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct kt_loop kt_loop_t;
typedef struct kt_clock kt_clock_t;

typedef int (kt_loop_sock_fn) (kt_loop_t *loop, void *zsock, void *arg);
typedef int (kt_loop_fd_fn) (kt_loop_t *loop, int fd, short revents, void *arg);
typedef int (kt_loop_timer_fn) (kt_loop_t *loop, int timer_id, void *arg);
typedef void (kt_loop_hook_fn) (kt_loop_t *loop, void *arg);
typedef int (kt_loop_cap_fn) (void *arg);

//  Create a loop on real monotonic time. Returns an owned loop (aborts on OOM).
kt_loop_t *kt_loop_new (void);

//  Free the loop (not the sockets or fds registered on it). Safe on NULL; sets *self_p NULL.
void kt_loop_destroy (kt_loop_t **self_p);

//  Run timers on this clock (borrowed; must outlive the loop). NULL = real time.
void kt_loop_set_clock (kt_loop_t *self, kt_clock_t *clock);

//  Call fn whenever zsock is readable (ZMQ_POLLIN). zsock is borrowed: end it with
//  kt_loop_sock_end before zmq_close. Returns 0, or -1 if NULL or already registered.
int kt_loop_sock (kt_loop_t *self, void *zsock, kt_loop_sock_fn *fn, void *arg);

//  Stop watching zsock. Safe if not registered; its handler is never called after this,
//  even later in the same dispatch round.
void kt_loop_sock_end (kt_loop_t *self, void *zsock);

//  Call fn when fd has any of events (POLLIN, POLLOUT, POLLPRI from <poll.h>). revents
//  uses the same bits; zmq_poll cannot tell error from hang-up, so either arrives as
//  POLLERR | POLLHUP, plus POLLIN when POLLIN is watched (a read then sees EOF or the
//  error). An fd watching no events (0) is not polled at all. fd is borrowed: the loop
//  never closes it. Returns 0, or -1 if fd < 0, fn is NULL or fd is already registered.
int kt_loop_fd (kt_loop_t *self, int fd, short events, kt_loop_fd_fn *fn, void *arg);

//  Change the events watched on a registered fd (adapters add/remove POLLOUT). Cheap:
//  no rebuild of the poll set. Returns 0, or -1 if fd is not registered.
int kt_loop_fd_events (kt_loop_t *self, int fd, short events);

//  Stop watching fd. Safe if not registered; its handler is never called after this.
void kt_loop_fd_end (kt_loop_t *self, int fd);

//  Start a timer firing after every_ms of pipeline time, repeatedly if repeat (every_ms
//  after its previous due time; a loop that fell behind skips ticks, never bursts).
//  Due timers fire in (due time, id) order. A timer started from a timer handler fires
//  at the earliest in the next iteration, so 0 ms timers cannot starve the loop.
//  Returns a timer id (> 0), or -1 if every_ms < 0 or fn is NULL. A timer may end
//  itself (or any other) from its handler.
int kt_loop_timer (kt_loop_t *self, int64_t every_ms, bool repeat, kt_loop_timer_fn *fn, void *arg);

//  The same for an interval of wall time (heartbeats, polls, retries): on a sim clock it
//  fires every wall_ms of wall time whatever the clock's speed, and keeps doing so when
//  the speed changes (a paused clock resumed, a new speed): the wall time left and the
//  period follow the speed at the next iteration. Returns a timer id (> 0), or -1 if
//  wall_ms < 0 or fn is NULL.
int kt_loop_timer_wall (kt_loop_t *self, int64_t wall_ms, bool repeat, kt_loop_timer_fn *fn,
                        void *arg);

//  Cancel a timer. Safe on an id that already fired or ended.
void kt_loop_timer_end (kt_loop_t *self, int timer_id);

//  Run fn before every sleep (batched flushes, heartbeats). Hooks run in order added,
//  at the top of every iteration, before the wait is computed. Returns 0, or -1 if fn
//  is NULL.
int kt_loop_before_sleep (kt_loop_t *self, kt_loop_hook_fn *fn, void *arg);

//  Remove the hook added with this fn and arg (the first match). Safe if absent and
//  from a hook; the removed hook is not run again.
void kt_loop_before_sleep_end (kt_loop_t *self, kt_loop_hook_fn *fn, void *arg);

//  Cap each wait by fn(arg) milliseconds (e.g. a library's own timeout). fn returns
//  -1 for no cap. Returns 0, or -1 if fn is NULL.
int kt_loop_wait_cap (kt_loop_t *self, kt_loop_cap_fn *fn, void *arg);

//  Remove the cap added with this fn and arg (the first match). Safe if absent.
void kt_loop_wait_cap_end (kt_loop_t *self, kt_loop_cap_fn *fn, void *arg);

//  Name a registered handler for the loop.slow report (name is borrowed: a string
//  literal or one that outlives the registration). Unnamed handlers are reported as
//  "sock:<index>", "fd:<fd>", "timer:<id>" or "hook:<index>". Return 0, or -1 if no
//  such handler is registered.
int kt_loop_sock_name (kt_loop_t *self, void *zsock, const char *name);
int kt_loop_fd_name (kt_loop_t *self, int fd, const char *name);
int kt_loop_timer_name (kt_loop_t *self, int timer_id, const char *name);
int kt_loop_hook_name (kt_loop_t *self, kt_loop_hook_fn *fn, void *arg, const char *name);

#define KT_LOOP_SLOW_MS_DEFAULT 50

//  Report every handler (socket, fd, timer, hook) that runs longer than ms of wall
//  time: one `loop.slow` warning naming it (at most one line per 10 s) and +1 on
//  kt_loop_slow_count. 0 turns the report off. Default KT_LOOP_SLOW_MS_DEFAULT.
void kt_loop_set_slow_ms (kt_loop_t *self, int64_t ms);

//  Handlers that ran longer than the slow threshold so far (heartbeat counter).
int64_t kt_loop_slow_count (const kt_loop_t *self);

//  Ask the loop to stop after the current dispatch (from a handler or a test).
void kt_loop_stop (kt_loop_t *self);

//  Run until a handler returns -1 (returns -1), kt_loop_stop or SIGTERM/SIGINT (returns 0).
//  Also returns -1 (after logging loop.poll.failed) if zmq_poll fails, e.g. a closed
//  socket is still registered or the context was terminated. Installs the signal
//  handlers. Not re-entrant: never call it from a handler.
int kt_loop_run (kt_loop_t *self);

//  One iteration: hooks, wait at most max_wait_ms (0 or negative = do not block; timers
//  and caps may shorten it), dispatch ready readers, then due timers.
//  Returns the number of handlers run (hooks not counted), or -1 if a handler asked to
//  stop or zmq_poll failed. Ignores kt_loop_stop and signals (the caller decides).
int kt_loop_run_once (kt_loop_t *self, int max_wait_ms);

//  Install SIGTERM/SIGINT handlers (no SA_RESTART) that make kt_loop_run return 0.
//  Called by kt_loop_run; exposed for tools with their own loops.
void kt_loop_signals_install (void);

//  True once SIGTERM or SIGINT was received.
bool kt_loop_interrupted (void);

//  Forget a received SIGTERM/SIGINT (tests that raise one and then run again).
void kt_loop_signals_reset (void);

#endif
