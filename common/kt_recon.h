/*  kt_recon - the reconciler's result key, recon:last.
 *
 *  The reconciler writes recon:last after every run; tradectl (status, reconcile,
 *  preflight) and, in time, risk-gate read it. "Broker session ok" and "agree" come only
 *  from real broker calls: a run whose broker call failed writes agree 0 and the reason,
 *  never a default. A request through recon:request (kt_schema.h: tradectl reconcile)
 *  is answered by a run that started after it; request_ns then holds its requested_ns
 *  (and keeps the newest answered one). */

#ifndef KT_RECON_H
#define KT_RECON_H

#include <stdbool.h>
#include <stdint.h>
#include "kt_schema.h"
#include "kt_log.h"
#include "kt_store.h"

//  recon:last - one hash, overwritten by every run.
struct kt_recon_last {
    int64_t run;            //  runs since the reconciler started
    int64_t ts_ns;          //  when the comparison was made (pipeline ns)
    int64_t duration_us;    //  broker calls + comparison + actions (wall)
    bool agree;             //  this run found the broker and Redis equal
    int64_t agree_ns;       //  last run that agreed (0 = none yet)
    bool session_ok;        //  1 after a run whose broker calls all succeeded; 0 before any
                            //  and after a TokenException (kept on other failures)
    int64_t session_ok_ns;  //  last run whose broker calls all succeeded
    char broker_error[128]; //  why the broker comparison failed ("" = it did not)
    int64_t request_ns;     //  newest recon:request requested_ns answered so far (0 = none)
    int64_t broker_positions, broker_orders, broker_trades;
    int64_t findings;    //  all classes
    int64_t unconfirmed; //  findings inside the retry budget (not acted on yet)
    int64_t missing_fill, closed_by_stop, venue_close, unknown_position, qty_mismatch, order_state,
        unresolved;                                    //  findings per class
    int64_t applied, settled, adopted, halted, failed; //  what the actions did
};

extern const kt_schema_key_t kt_key_recon_last; //  recon:last

//  Write recon:last from rec: one HSET, queued on the store's write connection (a
//  failure Redis reports later is logged as recon.last). Returns 0, or -1 (why) when the
//  write could not be queued.
int kt_recon_last_put (kt_store_t *store, const struct kt_recon_last *rec, char *why,
                       size_t whylen);

//  Read recon:last. Returns 1 found, 0 absent (out zeroed), -1 failure (why).
int kt_recon_last_get (kt_store_t *store, struct kt_recon_last *out, char *why, size_t whylen);

#endif
