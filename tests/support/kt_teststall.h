/*  kt_teststall - the stall experiment (issue 9): a 10 ms loop timer, a store write and
 *  a heartbeat every 50 ms, and Redis told to DEBUG SLEEP 0.5 at 300 ms, over 1.3 s. A
 *  blocking store freezes the timer for the whole sleep; a store on the loop does not.
 *  Run by kt_store_test (the bounds that hold on a loaded machine) and store_bench (the
 *  2 ms bound, on an idle one). */

#ifndef KT_TESTSTALL_H
#define KT_TESTSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"
#include "kt_testredis.h"

#define KT_TESTSTALL_TICKS 512
#define KT_TESTSTALL_WRITES 256

struct kt_teststall {
    int ticks;                           //  timer fires (late_ns holds the first 512)
    int64_t late_ns[KT_TESTSTALL_TICKS]; //  each fire against its schedule
    int writes;                          //  RPUSH kt:list i, i = 0, 1, ...
    int failed;                          //  writes or heartbeats the store refused to queue
    int64_t issued_ns[KT_TESTSTALL_WRITES];
    int answered;                             //  write completions
    int64_t answered_ns[KT_TESTSTALL_WRITES]; //  when each arrived (wall monotonic)
    int64_t slept_ns, wake_ns;                //  DEBUG SLEEP sent, answered
    bool slept_ok;                            //  answered OK ("DEBUG" allowed)
    //  From late_ns: percentiles and the ticks within 2 ms.
    int64_t p50, p90, p99, max;
    int within_2ms;
    int64_t dropped, reconnects; //  the store's, at the end
};

//  Run the experiment on *store_p (attached to the experiment's loop unless blocking:
//  then every write is a synchronous round trip, the control) against srv; the store is
//  destroyed at the end (*store_p NULL), before that loop. Returns 0, or -1 (why) when it
//  could not be set up.
int kt_teststall_run (kt_testredis_t *srv, kt_store_t **store_p, bool blocking,
                      struct kt_teststall *out, char *why, size_t whylen);

#endif
