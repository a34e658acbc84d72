/*  kt_loop - one zmq_poll loop per process: ZeroMQ sockets, raw fds, timers on the
 *  pipeline clock, before-sleep hooks and wait caps.
 *
 *  Used by every process and by the store/http/ws adapters in common/.
 *  Design overview: readers (sockets and fds) live in an array; the zmq_pollitem_t
 *  array mirrors it one-to-one (item k+1 is reader k; item 0 is the signal self-pipe)
 *  and is rebuilt only at the top of an iteration after a registration changed. Removal
 *  during dispatch only marks a reader dead, so indices stay valid and a removed reader
 *  is never called; dead readers are compacted away at the next rebuild. Timers are an
 *  array kept sorted by (due time, id); a timer armed during timer dispatch waits for
 *  the next iteration, so a 0 ms repeating timer cannot starve the loop. A signal sets
 *  a flag and writes a byte to a self-pipe that every loop polls, so SIGTERM wakes the
 *  loop even if it arrives just before zmq_poll blocks. zmq_poll's timeout is in whole
 *  milliseconds (a timer woken by it is up to 1 ms late), so the first timer's due time
 *  also arms a timerfd the poll watches (the last item): the wake is as exact as the
 *  kernel's, and the millisecond timeout, rounded up, only backs it up. */

#include "kt_loop.h"
#include "kt_clock.h"
#include "kt_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <zmq.h>

#define S_NS_PER_MS 1000000LL

struct s_reader {
    void *sock; //  borrowed; NULL for an fd
    int fd;
    short events; //  poll.h bits wanted (fd); POLLIN for a socket
    kt_loop_sock_fn *sock_fn;
    kt_loop_fd_fn *fd_fn;
    void *arg;        //  borrowed
    bool dead;        //  removed; compacted at the next rebuild
    const char *name; //  borrowed; NULL = unnamed
};

struct s_timer {
    int id;
    int64_t due_ns; //  pipeline monotonic time
    int64_t every_ns;
    int64_t wall_ns; //  kt_loop_timer_wall: the period in wall time (0: a pipeline timer)
    bool repeat;
    uint64_t armed_round; //  timer-dispatch round in which it was (re)armed
    kt_loop_timer_fn *fn;
    void *arg;        //  borrowed
    const char *name; //  borrowed; NULL = unnamed
};

struct s_hook {
    kt_loop_hook_fn *fn;
    void *arg;        //  borrowed
    const char *name; //  borrowed; NULL = unnamed
    bool dead;        //  removed during the hook round; compacted after it
};

struct s_cap {
    kt_loop_cap_fn *fn;
    void *arg; //  borrowed
};

struct kt_loop {
    kt_clock_t *clock;        //  borrowed; NULL = real monotonic time
    struct s_reader *readers; //  owned
    int reader_count, reader_cap;
    zmq_pollitem_t *items; //  owned; item 0 = signal pipe, item k+1 = reader k, then tfd
    int item_count, item_cap;
    int tfd;                //  timerfd of the first timer's due time (-1: none, ms waits)
    int64_t tfd_wall_ns;    //  when it is armed to fire (CLOCK_MONOTONIC), 0 = disarmed
    struct s_timer *timers; //  owned, sorted by (due_ns, id)
    int timer_count, timer_cap;
    int64_t speed_ppm;    //  the clock speed the wall timers are sized at
    struct s_hook *hooks; //  owned
    int hook_count, hook_cap;
    struct s_cap *caps; //  owned
    int cap_count, cap_cap;
    int next_timer_id;
    uint64_t round;
    bool dirty; //  readers changed since the items were built
    bool stop;
    bool dispatching;
    bool in_hooks;   //  running the before-sleep hooks (removal only marks them)
    int64_t slow_ns; //  a handler running longer is reported (loop.slow)
    int64_t slow_count;
};

//  The signal flag and its self-pipe are process-wide by nature (one signal disposition).
static volatile sig_atomic_t s_interrupted;
static int s_sig_pipe[2] = {-1, -1};

static void
s_grow (void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return;
    int n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *q = realloc (*p, (size_t) n * size);
    if (!q) {
        fprintf (stderr, "kt_loop: out of memory (%zu bytes)\n", (size_t) n * size);
        abort ();
    }
    *p = q;
    *cap = n;
}

//  Due times saturate instead of wrapping (a sim clock can be anchored anywhere).
static int64_t
s_add (int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow (a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t
s_sub (int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow (a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t
s_now (const kt_loop_t *self)
{
    return self->clock ? kt_clock_mono_ns (self->clock) : kt_clock_wall_mono_ns ();
}

kt_loop_t *
kt_loop_new (void)
{
    kt_loop_t *self = calloc (1, sizeof *self);
    if (!self) {
        fprintf (stderr, "kt_loop: out of memory\n");
        abort ();
    }
    self->next_timer_id = 1;
    self->speed_ppm = 1000000;
    self->dirty = true;
    self->slow_ns = KT_LOOP_SLOW_MS_DEFAULT * S_NS_PER_MS;
    self->tfd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    return self;
}

void
kt_loop_destroy (kt_loop_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_loop_t *self = *self_p;
    assert (!self->dispatching); //  destroying the loop from its own handler is a bug
    if (self->tfd >= 0)
        close (self->tfd);
    free (self->readers);
    free (self->items);
    free (self->timers);
    free (self->hooks);
    free (self->caps);
    free (self);
    *self_p = NULL;
}

void
kt_loop_set_clock (kt_loop_t *self, kt_clock_t *clock)
{
    //  Armed timers keep their remaining time: rebase them onto the new clock.
    int64_t old_now = s_now (self);
    self->clock = clock;
    int64_t new_now = s_now (self);
    for (int i = 0; i < self->timer_count; i++)
        self->timers[i].due_ns = s_add (new_now, s_sub (self->timers[i].due_ns, old_now));
}

// ---- readers -------------------------------------------------------------------------

static struct s_reader *
s_find_sock (kt_loop_t *self, void *zsock)
{
    for (int i = 0; i < self->reader_count; i++)
        if (!self->readers[i].dead && self->readers[i].sock == zsock)
            return &self->readers[i];
    return NULL;
}

static struct s_reader *
s_find_fd (kt_loop_t *self, int fd)
{
    for (int i = 0; i < self->reader_count; i++)
        if (!self->readers[i].dead && !self->readers[i].sock && self->readers[i].fd == fd)
            return &self->readers[i];
    return NULL;
}

static struct s_reader *
s_add_reader (kt_loop_t *self)
{
    s_grow ((void **) &self->readers, &self->reader_cap, self->reader_count + 1,
            sizeof *self->readers);
    struct s_reader *r = &self->readers[self->reader_count++];
    memset (r, 0, sizeof *r);
    self->dirty = true;
    return r;
}

static short
s_zmq_events (short events)
{
    return (short) ((events & POLLIN ? ZMQ_POLLIN : 0) | (events & POLLOUT ? ZMQ_POLLOUT : 0) |
                    (events & POLLPRI ? ZMQ_POLLPRI : 0));
}

static void
s_item_set (zmq_pollitem_t *item, const struct s_reader *r)
{
    memset (item, 0, sizeof *item);
    if (r->sock) {
        item->socket = r->sock;
        item->events = ZMQ_POLLIN;
    } else {
        //  An fd that wants nothing is left out (poll ignores fd -1), so a hung-up fd
        //  whose adapter paused it cannot spin the loop with POLLHUP.
        item->fd = r->events ? r->fd : -1;
        item->events = s_zmq_events (r->events);
    }
}

int
kt_loop_sock (kt_loop_t *self, void *zsock, kt_loop_sock_fn *fn, void *arg)
{
    if (!zsock || !fn || s_find_sock (self, zsock))
        return -1;
    struct s_reader *r = s_add_reader (self);
    r->sock = zsock;
    r->fd = -1;
    r->events = POLLIN;
    r->sock_fn = fn;
    r->arg = arg;
    return 0;
}

void
kt_loop_sock_end (kt_loop_t *self, void *zsock)
{
    struct s_reader *r = s_find_sock (self, zsock);
    if (r) {
        r->dead = true;
        self->dirty = true;
    }
}

int
kt_loop_fd (kt_loop_t *self, int fd, short events, kt_loop_fd_fn *fn, void *arg)
{
    if (fd < 0 || !fn || s_find_fd (self, fd))
        return -1;
    struct s_reader *r = s_add_reader (self);
    r->fd = fd;
    r->events = events & (POLLIN | POLLOUT | POLLPRI);
    r->fd_fn = fn;
    r->arg = arg;
    return 0;
}

int
kt_loop_fd_events (kt_loop_t *self, int fd, short events)
{
    struct s_reader *r = s_find_fd (self, fd);
    if (!r)
        return -1;
    r->events = events & (POLLIN | POLLOUT | POLLPRI);
    //  Adapters flip POLLOUT often: patch the built item in place instead of a rebuild,
    //  keeping its revents so a dispatch in progress still sees this round's events.
    if (!self->dirty) {
        zmq_pollitem_t *item = &self->items[(r - self->readers) + 1];
        short revents = item->revents;
        s_item_set (item, r);
        item->revents = revents;
    }
    return 0;
}

void
kt_loop_fd_end (kt_loop_t *self, int fd)
{
    struct s_reader *r = s_find_fd (self, fd);
    if (r) {
        r->dead = true;
        self->dirty = true;
    }
}

static void
s_rebuild (kt_loop_t *self)
{
    int live = 0;
    for (int i = 0; i < self->reader_count; i++)
        if (!self->readers[i].dead)
            self->readers[live++] = self->readers[i];
    self->reader_count = live;
    s_grow ((void **) &self->items, &self->item_cap, live + 2, sizeof *self->items);
    memset (&self->items[0], 0, sizeof self->items[0]);
    self->items[0].fd = s_sig_pipe[0];
    self->items[0].events = s_sig_pipe[0] >= 0 ? ZMQ_POLLIN : 0;
    for (int k = 0; k < live; k++)
        s_item_set (&self->items[k + 1], &self->readers[k]);
    self->item_count = live + 1;
    if (self->tfd >= 0) {
        zmq_pollitem_t *t = &self->items[self->item_count++];
        memset (t, 0, sizeof *t);
        t->fd = self->tfd;
        t->events = ZMQ_POLLIN;
    }
    self->dirty = false;
}

// ---- timers --------------------------------------------------------------------------

static void
s_timer_insert (kt_loop_t *self, const struct s_timer *t)
{
    s_grow ((void **) &self->timers, &self->timer_cap, self->timer_count + 1, sizeof *self->timers);
    int i = self->timer_count;
    while (i > 0 && (self->timers[i - 1].due_ns > t->due_ns ||
                     (self->timers[i - 1].due_ns == t->due_ns && self->timers[i - 1].id > t->id)))
        i--;
    memmove (&self->timers[i + 1], &self->timers[i],
             (size_t) (self->timer_count - i) * sizeof *self->timers);
    self->timers[i] = *t;
    self->timer_count++;
}

static void
s_timer_remove_at (kt_loop_t *self, int i)
{
    memmove (&self->timers[i], &self->timers[i + 1],
             (size_t) (self->timer_count - i - 1) * sizeof *self->timers);
    self->timer_count--;
}

static bool
s_timer_id_used (const kt_loop_t *self, int id)
{
    for (int i = 0; i < self->timer_count; i++)
        if (self->timers[i].id == id)
            return true;
    return false;
}

//  Pipeline ns that last wall_ns of wall time at speed ppm (at least 1).
static int64_t
s_pipe_ns (int64_t wall_ns, int64_t ppm)
{
    __int128 v = (__int128) wall_ns * ppm / 1000000;
    return v < 1 ? 1 : v > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t) v;
}

//  The clock's speed changed (a paused sim clock resumed, a new speed): wall timers keep
//  their wall time left and their wall period, so a process started while the clock
//  was paused does not sleep through the resume (nor spin after it).
static void
s_timers_follow_speed (kt_loop_t *self)
{
    int64_t ppm = self->clock ? kt_clock_speed_ppm (self->clock) : 1000000;
    if (ppm == self->speed_ppm)
        return;
    int64_t old = self->speed_ppm, now = s_now (self);
    self->speed_ppm = ppm;
    struct s_timer *t = self->timers;
    for (int i = 0; i < self->timer_count; i++) {
        if (!t[i].wall_ns)
            continue;
        int64_t left = s_sub (t[i].due_ns, now);
        if (left > 0) {
            __int128 v = (__int128) left * ppm / old;
            left = v > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t) v;
        }
        t[i].due_ns = s_add (now, left);
        t[i].every_ns = s_pipe_ns (t[i].wall_ns, ppm);
    }
    //  Back into (due_ns, id) order: insertion sort of a short, nearly sorted array.
    for (int i = 1; i < self->timer_count; i++) {
        struct s_timer x = t[i];
        int j = i;
        while (j > 0 && (t[j - 1].due_ns > x.due_ns ||
                         (t[j - 1].due_ns == x.due_ns && t[j - 1].id > x.id))) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
}

//  A timer of every_ns pipeline time (wall_ns: of wall time, sized at the speed now).
static int
s_timer_add (kt_loop_t *self, int64_t every_ns, int64_t wall_ns, bool repeat, kt_loop_timer_fn *fn,
             void *arg)
{
    //  Ids grow; after INT_MAX of them (years of curl timeouts) wrap, skipping live ids.
    int id = self->next_timer_id;
    while (s_timer_id_used (self, id))
        id = id == INT_MAX ? 1 : id + 1;
    self->next_timer_id = id == INT_MAX ? 1 : id + 1;

    struct s_timer t = {
        .id = id,
        .every_ns = every_ns,
        .wall_ns = wall_ns,
        .repeat = repeat,
        .armed_round = self->round,
        .fn = fn,
        .arg = arg,
    };
    t.due_ns = s_add (s_now (self), t.every_ns);
    s_timer_insert (self, &t);
    return id;
}

//  Beyond ~292 years the ns value would overflow; such a timer never fires anyway.
#define S_EVERY_MS_MAX (INT64_MAX / S_NS_PER_MS / 2)

int
kt_loop_timer (kt_loop_t *self, int64_t every_ms, bool repeat, kt_loop_timer_fn *fn, void *arg)
{
    if (every_ms < 0 || !fn)
        return -1;
    if (every_ms > S_EVERY_MS_MAX)
        every_ms = S_EVERY_MS_MAX;
    return s_timer_add (self, every_ms * S_NS_PER_MS, 0, repeat, fn, arg);
}

int
kt_loop_timer_wall (kt_loop_t *self, int64_t wall_ms, bool repeat, kt_loop_timer_fn *fn, void *arg)
{
    if (wall_ms < 0 || !fn)
        return -1;
    if (wall_ms > S_EVERY_MS_MAX)
        wall_ms = S_EVERY_MS_MAX;
    s_timers_follow_speed (self);
    int64_t wall_ns = wall_ms * S_NS_PER_MS;
    //  0 ms: due at once, like kt_loop_timer's (a 0 wall period is not a wall timer)
    return s_timer_add (self, wall_ns ? s_pipe_ns (wall_ns, self->speed_ppm) : 0, wall_ns, repeat,
                        fn, arg);
}

void
kt_loop_timer_end (kt_loop_t *self, int timer_id)
{
    for (int i = 0; i < self->timer_count; i++)
        if (self->timers[i].id == timer_id) {
            s_timer_remove_at (self, i);
            return;
        }
}

// ---- hooks and caps ------------------------------------------------------------------

int
kt_loop_before_sleep (kt_loop_t *self, kt_loop_hook_fn *fn, void *arg)
{
    if (!fn)
        return -1;
    s_grow ((void **) &self->hooks, &self->hook_cap, self->hook_count + 1, sizeof *self->hooks);
    self->hooks[self->hook_count++] = (struct s_hook){fn, arg, NULL, false};
    return 0;
}

void
kt_loop_before_sleep_end (kt_loop_t *self, kt_loop_hook_fn *fn, void *arg)
{
    for (int i = 0; i < self->hook_count; i++)
        if (!self->hooks[i].dead && self->hooks[i].fn == fn && self->hooks[i].arg == arg) {
            if (self->in_hooks)
                self->hooks[i].dead = true; //  the hook round compacts it
            else {
                memmove (&self->hooks[i], &self->hooks[i + 1],
                         (size_t) (self->hook_count - i - 1) * sizeof *self->hooks);
                self->hook_count--;
            }
            return;
        }
}

int
kt_loop_wait_cap (kt_loop_t *self, kt_loop_cap_fn *fn, void *arg)
{
    if (!fn)
        return -1;
    s_grow ((void **) &self->caps, &self->cap_cap, self->cap_count + 1, sizeof *self->caps);
    self->caps[self->cap_count++] = (struct s_cap){fn, arg};
    return 0;
}

void
kt_loop_wait_cap_end (kt_loop_t *self, kt_loop_cap_fn *fn, void *arg)
{
    for (int i = 0; i < self->cap_count; i++)
        if (self->caps[i].fn == fn && self->caps[i].arg == arg) {
            memmove (&self->caps[i], &self->caps[i + 1],
                     (size_t) (self->cap_count - i - 1) * sizeof *self->caps);
            self->cap_count--;
            return;
        }
}

// ---- names and the slow-handler report -----------------------------------------------

int
kt_loop_sock_name (kt_loop_t *self, void *zsock, const char *name)
{
    struct s_reader *r = s_find_sock (self, zsock);
    if (!r)
        return -1;
    r->name = name;
    return 0;
}

int
kt_loop_fd_name (kt_loop_t *self, int fd, const char *name)
{
    struct s_reader *r = s_find_fd (self, fd);
    if (!r)
        return -1;
    r->name = name;
    return 0;
}

int
kt_loop_timer_name (kt_loop_t *self, int timer_id, const char *name)
{
    for (int i = 0; i < self->timer_count; i++)
        if (self->timers[i].id == timer_id) {
            self->timers[i].name = name;
            return 0;
        }
    return -1;
}

int
kt_loop_hook_name (kt_loop_t *self, kt_loop_hook_fn *fn, void *arg, const char *name)
{
    for (int i = 0; i < self->hook_count; i++)
        if (!self->hooks[i].dead && self->hooks[i].fn == fn && self->hooks[i].arg == arg) {
            self->hooks[i].name = name;
            return 0;
        }
    return -1;
}

void
kt_loop_set_slow_ms (kt_loop_t *self, int64_t ms)
{
    self->slow_ns = ms > 0 ? ms * S_NS_PER_MS : 0;
}

int64_t
kt_loop_slow_count (const kt_loop_t *self)
{
    return self->slow_count;
}

//  Like Redis's latency monitor: a handler that held the loop longer than slow_ns is
//  named in one log line (rate-limited: a handler slow on every call must not flood
//  the log) and counted for the heartbeat. Wall time, whatever the pipeline clock does.
static void
s_slow_check (kt_loop_t *self, int64_t started_ns, const char *kind, const char *name, int num)
{
    if (self->slow_ns <= 0)
        return;
    int64_t took = kt_clock_wall_mono_ns () - started_ns;
    if (took <= self->slow_ns)
        return;
    self->slow_count++;
    char unnamed[32];
    if (!name) {
        snprintf (unnamed, sizeof unnamed, "%s:%d", kind, num);
        name = unnamed;
    }
    kt_log_warn_every ("loop.slow", 10, KT_S ("handler", name), KT_S ("kind", kind),
                       KT_I ("ms", took / S_NS_PER_MS), KT_I ("us", took / 1000),
                       KT_I ("slow_count", self->slow_count), KT_END);
}

// ---- signals -------------------------------------------------------------------------

static void
s_on_signal (int sig)
{
    (void) sig;
    int saved_errno = errno;
    s_interrupted = 1;
    if (s_sig_pipe[1] >= 0) {
        ssize_t rc = write (s_sig_pipe[1], "s", 1);
        (void) rc; //  a full pipe already wakes every poller
    }
    errno = saved_errno;
}

static void
s_drain_sig_pipe (void)
{
    char buf[64];
    while (s_sig_pipe[0] >= 0 && read (s_sig_pipe[0], buf, sizeof buf) > 0)
        ;
}

void
kt_loop_signals_install (void)
{
    if (s_sig_pipe[0] < 0 && pipe2 (s_sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        //  Without the pipe the flag still works; a signal just before zmq_poll blocks
        //  is then noticed at the next wake-up instead of at once.
        s_sig_pipe[0] = s_sig_pipe[1] = -1;
    }
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sa.sa_flags = 0; //  no SA_RESTART: zmq_poll must return EINTR
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    //  A peer closing a socket must be an EPIPE error value, not the death of the process.
    sa.sa_handler = SIG_IGN;
    sigaction (SIGPIPE, &sa, NULL);
}

bool
kt_loop_interrupted (void)
{
    return s_interrupted != 0;
}

void
kt_loop_signals_reset (void)
{
    s_interrupted = 0;
    s_drain_sig_pipe ();
}

// ---- running -------------------------------------------------------------------------

static long
s_wait_ms (kt_loop_t *self, int max_wait_ms)
{
    int64_t wait = max_wait_ms < 0 ? -1 : max_wait_ms;
    if (self->timer_count > 0) {
        int64_t left_ns = s_sub (self->timers[0].due_ns, s_now (self));
        int64_t ms = kt_clock_wall_ms (self->clock, left_ns);
        if (wait < 0 || ms < wait)
            wait = ms;
    }
    for (int i = 0; i < self->cap_count; i++) {
        int cap = self->caps[i].fn (self->caps[i].arg);
        if (cap >= 0 && (wait < 0 || cap < wait))
            wait = cap;
    }
    return wait > INT_MAX ? INT_MAX : (long) wait;
}

//  Arm the timerfd at the first timer's due time in wall time (a sim clock's due time
//  scaled by its speed), unless it is armed there already: one syscall per new first
//  due time, none per iteration. Disarmed when no timer is left.
static void
s_tfd_arm (kt_loop_t *self)
{
    if (self->tfd < 0)
        return;
    int64_t at = 0;
    int64_t ppm = self->clock ? kt_clock_speed_ppm (self->clock) : 1000000;
    if (self->timer_count > 0 && ppm > 0) {
        int64_t left = s_sub (self->timers[0].due_ns, s_now (self));
        if (left < 0)
            left = 0;
        __int128 wall = ppm == 1000000 ? left : ((__int128) left * 1000000 + ppm - 1) / ppm;
        at = kt_clock_wall_mono_ns () + (wall > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t) wall);
    }
    //  A sim clock's conversion moves `at` by a few ns from one iteration to the next:
    //  within 20 us of what is armed is armed already (no syscall per iteration).
    if (at == self->tfd_wall_ns || (at && self->tfd_wall_ns && at - self->tfd_wall_ns < 20000 &&
                                    self->tfd_wall_ns - at < 20000))
        return;
    struct itimerspec its;
    memset (&its, 0, sizeof its);
    its.it_value.tv_sec = at / 1000000000;
    its.it_value.tv_nsec = at % 1000000000;
    if (at > 0 && its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1; //  0 would disarm
    if (timerfd_settime (self->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        self->tfd_wall_ns = at;
}

static short
s_fd_revents (short zrevents, short wanted)
{
    short r = 0;
    if (zrevents & ZMQ_POLLIN)
        r |= POLLIN;
    if (zrevents & ZMQ_POLLOUT)
        r |= POLLOUT;
    if (zrevents & ZMQ_POLLPRI)
        r |= POLLPRI;
    //  zmq_poll folds POLLERR/POLLHUP/POLLNVAL into ZMQ_POLLERR. A reader is told it is
    //  readable too, so a plain read handler sees the EOF or error instead of spinning.
    if (zrevents & ZMQ_POLLERR)
        r |= POLLERR | POLLHUP | (wanted & POLLIN);
    return r & (wanted | POLLERR | POLLHUP);
}

//  Returns handlers run, or -1 if one asked to stop.
static int
s_dispatch_ready (kt_loop_t *self)
{
    int ran = 0;
    if (self->items[0].revents)
        s_drain_sig_pipe ();
    int polled = self->item_count - 1 - (self->tfd >= 0);
    if (self->tfd >= 0 && self->items[polled + 1].revents) {
        uint64_t expirations;
        if (read (self->tfd, &expirations, sizeof expirations) == (ssize_t) sizeof expirations)
            self->tfd_wall_ns = 0; //  fired: armed again for the next due time
    }
    for (int k = 0; k < polled; k++) {
        short zrevents = self->items[k + 1].revents;
        //  Re-read the reader each time: a handler may grow (move) the array.
        struct s_reader *r = &self->readers[k];
        if (zrevents == 0 || r->dead)
            continue;
        int rc;
        int64_t t0 = kt_clock_wall_mono_ns ();
        const char *name = r->name;
        if (r->sock) {
            if (!(zrevents & ZMQ_POLLIN))
                continue;
            rc = r->sock_fn (self, r->sock, r->arg);
            s_slow_check (self, t0, "sock", name, k);
        } else {
            short revents = s_fd_revents (zrevents, r->events);
            if (revents == 0)
                continue;
            int fd = r->fd;
            rc = r->fd_fn (self, fd, revents, r->arg);
            s_slow_check (self, t0, "fd", name, fd);
        }
        ran++;
        if (rc == -1)
            return -1;
    }
    return ran;
}

static int
s_dispatch_timers (kt_loop_t *self)
{
    int ran = 0;
    int64_t now = s_now (self);
    self->round++;
    int i = 0;
    while (i < self->timer_count && self->timers[i].due_ns <= now) {
        if (self->timers[i].armed_round == self->round) {
            i++; //  armed by a handler in this round: next iteration
            continue;
        }
        struct s_timer t = self->timers[i];
        s_timer_remove_at (self, i);
        //  Re-arm before the call, so the handler can end its own timer by id.
        if (t.repeat) {
            struct s_timer next = t;
            next.due_ns = s_add (t.due_ns, t.every_ns);
            if (next.due_ns <= now)
                next.due_ns = s_add (now, t.every_ns); //  fell behind: skip, never burst
            next.armed_round = self->round;
            s_timer_insert (self, &next);
        }
        ran++;
        int64_t t0 = kt_clock_wall_mono_ns ();
        int rc = t.fn (self, t.id, t.arg);
        s_slow_check (self, t0, "timer", t.name, t.id);
        if (rc == -1)
            return -1;
        i = 0; //  the handler may have changed the array
    }
    return ran;
}

static int
s_iterate (kt_loop_t *self, int max_wait_ms)
{
    assert (!self->dispatching); //  running the loop from its own handler is a bug
    self->in_hooks = true;
    for (int i = 0; i < self->hook_count; i++) {
        if (self->hooks[i].dead)
            continue;
        int64_t t0 = kt_clock_wall_mono_ns ();
        struct s_hook h = self->hooks[i]; //  a hook may add hooks (the array may move)
        h.fn (self, h.arg);
        s_slow_check (self, t0, "hook", h.name, i);
    }
    self->in_hooks = false;
    int live = 0;
    for (int i = 0; i < self->hook_count; i++)
        if (!self->hooks[i].dead)
            self->hooks[live++] = self->hooks[i];
    self->hook_count = live;
    if (self->dirty)
        s_rebuild (self);
    s_timers_follow_speed (self);
    //  A hook that asked to stop must not be followed by a long (or endless) sleep.
    long wait_ms = self->stop ? 0 : s_wait_ms (self, max_wait_ms);
    if (wait_ms != 0)
        s_tfd_arm (self);
    for (int k = 0; k < self->item_count; k++)
        self->items[k].revents = 0;
    int n = zmq_poll (self->items, self->item_count, wait_ms);
    if (n == -1) {
        int err = errno;
        if (err == EINTR)
            return 0;
        kt_log_error ("loop.poll.failed", KT_S ("err", zmq_strerror (err)), KT_I ("errno", err),
                      KT_END);
        return -1;
    }
    self->dispatching = true;
    int ran = n > 0 ? s_dispatch_ready (self) : 0;
    if (ran != -1) {
        int timers = s_dispatch_timers (self);
        ran = timers == -1 ? -1 : ran + timers;
    }
    self->dispatching = false;
    return ran;
}

void
kt_loop_stop (kt_loop_t *self)
{
    self->stop = true;
}

int
kt_loop_run (kt_loop_t *self)
{
    int rc = 0;
    kt_loop_signals_install ();
    self->dirty = true; //  the signal pipe may be new since the last rebuild
    while (!s_interrupted && !self->stop) {
        if (s_iterate (self, -1) == -1) {
            rc = -1;
            break;
        }
    }
    self->stop = false;
    return rc;
}

int
kt_loop_run_once (kt_loop_t *self, int max_wait_ms)
{
    return s_iterate (self, max_wait_ms < 0 ? 0 : max_wait_ms);
}
