/*  store_bench - what a Redis write costs the loop: a synchronous HSET round trip (what
 *  every write cost before the queue) beside a queued write on the async connection
 *  (the caller's cost: format and enqueue) and the queue's throughput to Redis
 *  (pipelined, answered writes/s), in the same run against the same Redis. Then the
 *  stall experiment (tests/support/kt_teststall): a 10 ms loop timer while Redis sleeps
 *  0.5 s, every tick within 2 ms of its schedule (the target; a benchmark, run alone,
 *  since a loaded machine's scheduler alone delays ticks that much). Own redis-server
 *  (kt_testredis). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_clock.h"
#include "kt_loop.h"
#include "kt_store.h"
#include "kt_testredis.h"
#include "kt_teststall.h"

#define N 20000

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static void
s_report (const char *what, int64_t *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp);
    printf ("  %-40s p50 %7.2f us  p99 %7.2f us\n", what, v[n / 2] / 1e3, v[n * 99 / 100] / 1e3);
}

int
main (void)
{
    static const char *const extra[] = {"--enable-debug-command", "yes", NULL}; //  DEBUG SLEEP
    kt_testredis_t *srv = kt_testredis_start_with (extra);
    if (!srv)
        return 1;
    kt_store_t *store = kt_store_new ("127.0.0.1", srv->port, "kt:", 1000);
    kt_loop_t *loop = kt_loop_new ();
    static int64_t lat[N];
    char v[24];

    //  Synchronous: the caller waits for the round trip.
    if (kt_store_connect (store) != 0)
        return 1;
    for (int i = 0; i < N; i++) {
        snprintf (v, sizeof v, "%d", i);
        const char *argv[] = {"HSET", "kt:bench:sync", "n", v};
        int64_t t0 = kt_clock_wall_mono_ns ();
        kt_store_result_t r = kt_store_call (store, 4, argv, NULL);
        lat[i] = kt_clock_wall_mono_ns () - t0;
        kt_store_result_free (&r);
    }
    printf ("store: %d writes each way\n", N);
    s_report ("sync HSET round trip (caller waits):", lat, N);

    //  Queued: the caller's cost, then the time until Redis answered all of them.
    kt_store_attach (store, loop);
    while (!kt_store_is_ready (store))
        kt_loop_run_once (loop, 10);
    int64_t start = kt_clock_wall_mono_ns ();
    for (int i = 0; i < N; i++) {
        snprintf (v, sizeof v, "%d", i);
        const char *argv[] = {"HSET", "kt:bench:async", "n", v};
        int64_t t0 = kt_clock_wall_mono_ns ();
        kt_store_send (store, 4, argv, NULL, NULL, NULL);
        lat[i] = kt_clock_wall_mono_ns () - t0;
        if (i % 256 == 255)
            kt_loop_run_once (loop, 0); //  the loop turns while the writes flow
    }
    while (kt_store_stats (store).queued > 0)
        kt_loop_run_once (loop, 10);
    double secs = (kt_clock_wall_mono_ns () - start) / 1e9;
    s_report ("queued HSET (caller's cost):", lat, N);
    printf ("  queued writes answered: %.0f writes/s (%lld written, %lld dropped)\n", N / secs,
            (long long) kt_store_stats (store).written, (long long) kt_store_stats (store).dropped);
    kt_store_destroy (&store);
    kt_loop_destroy (&loop);

    static struct kt_teststall st;
    char why[160];
    kt_store_t *stall = kt_store_new ("127.0.0.1", srv->port, "kt:", 500);
    if (kt_teststall_run (srv, &stall, false, &st, why, sizeof why) != 0) {
        fprintf (stderr, "store_bench: stall: %s\n", why);
        kt_testredis_stop (&srv);
        return 1;
    }
    int n = st.ticks < KT_TESTSTALL_TICKS ? st.ticks : KT_TESTSTALL_TICKS;
    bool met = st.slept_ok && st.within_2ms == n && st.answered == st.writes && !st.dropped;
    printf ("stall: a 10 ms timer while Redis sleeps 0.5 s (DEBUG SLEEP %s), %d writes queued "
            "meanwhile, %d answered, %lld dropped\n",
            st.slept_ok ? "ok" : "REFUSED", st.writes, st.answered, (long long) st.dropped);
    printf ("  timer lateness: p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n", st.p50 / 1e6,
            st.p90 / 1e6, st.p99 / 1e6, st.max / 1e6);
    printf ("  %d of %d ticks within 2 ms (target: all): %s\n", st.within_2ms, n,
            met ? "MET" : "MISSED");
    kt_testredis_stop (&srv);
    return 0;
}
