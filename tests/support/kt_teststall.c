/*  kt_teststall - the stall experiment. See kt_teststall.h. */

#include "kt_teststall.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt_clock.h"
#include "kt_loop.h"
#include "kt_store.h"

struct s_run {
    struct kt_teststall *out;
    kt_store_t *store;
    redisContext *sleeper; //  the connection that sends DEBUG SLEEP
    int64_t due_ns;        //  when the 10 ms timer is due next
};

static int
s_tick (kt_loop_t *loop, int id, void *arg)
{
    (void) loop;
    (void) id;
    struct s_run *r = arg;
    int64_t now = kt_clock_wall_mono_ns ();
    //  Against the loop's schedule: every 10 ms after the previous due time; a loop that
    //  fell a whole period behind restarts the schedule from now (kt_loop skips, never
    //  bursts), and that late fire itself is what gets counted.
    int64_t late = now - r->due_ns;
    r->due_ns += 10 * 1000000;
    if (r->due_ns <= now)
        r->due_ns = now + 10 * 1000000;
    if (r->out->ticks < KT_TESTSTALL_TICKS)
        r->out->late_ns[r->out->ticks] = late;
    r->out->ticks++;
    return 0;
}

static void
s_on_done (const kt_store_result_t *res, void *arg)
{
    (void) res;
    struct kt_teststall *o = arg;
    if (o->answered < KT_TESTSTALL_WRITES)
        o->answered_ns[o->answered] = kt_clock_wall_mono_ns ();
    o->answered++;
}

static int
s_write (kt_loop_t *loop, int id, void *arg)
{
    (void) loop;
    (void) id;
    struct s_run *r = arg;
    struct kt_teststall *o = r->out;
    if (o->writes < KT_TESTSTALL_WRITES)
        o->issued_ns[o->writes] = kt_clock_wall_mono_ns ();
    char v[16];
    snprintf (v, sizeof v, "%d", o->writes);
    const char *argv[] = {"RPUSH", "kt:list", v};
    o->failed += kt_store_send (r->store, 3, argv, NULL, s_on_done, o) != 0;
    o->writes++;
    kt_kv_t c[] = {KT_I ("n", o->writes), KT_END};
    o->failed += kt_store_heartbeat (r->store, "stall", 1, o->writes, 30, c) != 0;
    return 0;
}

static int
s_sleeper_readable (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) revents;
    struct s_run *r = arg;
    void *reply = NULL;
    if (redisBufferRead (r->sleeper) == REDIS_OK &&
        redisGetReplyFromReader (r->sleeper, &reply) == REDIS_OK && reply) {
        r->out->wake_ns = kt_clock_wall_mono_ns ();
        r->out->slept_ok = ((redisReply *) reply)->type == REDIS_REPLY_STATUS;
        freeReplyObject (reply);
        kt_loop_fd_end (loop, fd);
    }
    return 0;
}

static int
s_start_sleep (kt_loop_t *loop, int id, void *arg)
{
    (void) id;
    struct s_run *r = arg;
    //  Sent without waiting: the answer is read by an fd handler on the same loop.
    r->out->slept_ns = kt_clock_wall_mono_ns ();
    redisAppendCommand (r->sleeper, "DEBUG SLEEP 0.5");
    int done = 0;
    while (!done)
        if (redisBufferWrite (r->sleeper, &done) != REDIS_OK)
            return 0;
    kt_loop_fd (loop, r->sleeper->fd, POLLIN, s_sleeper_readable, r);
    return 0;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

int
kt_teststall_run (kt_testredis_t *srv, kt_store_t **store_p, bool blocking,
                  struct kt_teststall *out, char *why, size_t whylen)
{
    kt_store_t *store = *store_p;
    memset (out, 0, sizeof *out);
    struct s_run r = {out, store, kt_testredis_connect (srv), 0};
    if (!r.sleeper) {
        snprintf (why, whylen, "no connection for DEBUG SLEEP");
        return -1;
    }
    kt_loop_t *loop = kt_loop_new ();
    if (blocking ? kt_store_connect (store) != 0 : kt_store_attach (store, loop) != 0) {
        snprintf (why, whylen, "store: %s", kt_store_errstr (store));
        redisFree (r.sleeper);
        kt_loop_destroy (&loop);
        return -1;
    }
    //  the async connection up first
    for (int i = 0; i < 200 && !blocking && !kt_store_is_ready (store); i++)
        kt_loop_run_once (loop, 10);
    r.due_ns = kt_clock_wall_mono_ns () + 10 * 1000000;
    kt_loop_timer (loop, 10, true, s_tick, &r);
    kt_loop_timer (loop, 50, true, s_write, &r);
    kt_loop_timer (loop, 300, false, s_start_sleep, &r);
    int64_t end = kt_clock_wall_mono_ns () + 1300LL * 1000000;
    while (kt_clock_wall_mono_ns () < end)
        kt_loop_run_once (loop, 100);
    //  what was still queued lands
    for (int64_t until = kt_clock_wall_mono_ns () + 2000LL * 1000000;
         !blocking && kt_store_stats (store).queued > 0 && kt_clock_wall_mono_ns () < until;)
        kt_loop_run_once (loop, 10);
    int n = out->ticks < KT_TESTSTALL_TICKS ? out->ticks : KT_TESTSTALL_TICKS;
    int64_t *sorted = malloc ((size_t) (n ? n : 1) * sizeof *sorted);
    if (!sorted)
        abort ();
    memcpy (sorted, out->late_ns, (size_t) n * sizeof *sorted);
    qsort (sorted, (size_t) n, sizeof *sorted, s_cmp);
    if (n) {
        out->p50 = sorted[n / 2];
        out->p90 = sorted[n * 90 / 100];
        out->p99 = sorted[n * 99 / 100];
        out->max = sorted[n - 1];
    }
    for (int i = 0; i < n; i++)
        out->within_2ms += out->late_ns[i] < 2 * 1000000;
    free (sorted);
    redisFree (r.sleeper);
    out->dropped = kt_store_stats (store).dropped;
    out->reconnects = kt_store_reconnects (store);
    kt_store_destroy (store_p);
    kt_loop_destroy (&loop);
    return 0;
}
