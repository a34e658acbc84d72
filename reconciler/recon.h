/*  recon - the reconciler's private header: context, config, and its pure concepts.
 *
 *  The reconciler compares the broker's view (positions, orders, trades over Kite REST)
 *  with the book in Redis at start-up and every recon.interval_s, acts on what differs
 *  (applies missing fills once, settles orders, halts on a position it cannot explain)
 *  and is the only process that tells risk-gate the two agree (risk:state recon_ok_ns).
 *  recon_kite parses the broker's answers, recon_diff classifies (both pure); recon.c is
 *  the I/O shell. */

#ifndef RECON_H
#define RECON_H

#include "kt.h"

struct recon_cfg {
    int64_t interval_s;       //  seconds between runs (wall time)
    int64_t not_found_budget; //  runs an order of ours may be missing at the broker before
                              //  it is settled (unresolved) or halts (open): books lag
    int64_t timeout_ms;       //  each REST request
};

typedef struct recon recon_t;

extern const kt_cfg_row_t recon_cfg_table[];

//  Subscribe to exec_pub, start the run timer and the first run. Returns an owned
//  context or NULL (logged).
recon_t *recon_new (kt_proc_t *proc, const struct recon_cfg *cfg);

//  Free (a run in flight is abandoned). Safe on NULL; sets *self_p to NULL.
void recon_destroy (recon_t **self_p);

//  Start a run: the three REST requests go out on the loop; the comparison and its
//  actions happen when the last answer is in. Returns 0 started, 1 a run is already in
//  flight (nothing started).
int recon_run (recon_t *self);

//  Result of the last finished run: 0 agreement (told to risk-gate), -1 a discrepancy
//  (trading halted), 1 agreement not established (broker or Redis unavailable, an order
//  still being looked for); 2 while a run is in flight.
int recon_result (const recon_t *self);

// ---- recon_kite: the broker's view, parsed (pure) ------------------------------------------

#define RECON_STATUS_LEN 32

//  A net position at the broker (positions.json data.net row). Money in paise.
struct recon_bpos {
    char sym[KT_SYM_LEN];
    char exchange[8];
    kt_product_t product; //  NONE for products we do not trade (CNC, CO, MTF ...)
    int64_t token;
    int64_t qty; //  signed
    int64_t avg_px;
};

//  An order at the broker (orders.json row).
struct recon_border {
    char order_id[KT_BROKER_LEN];
    char tag[KT_ID_LEN];           //  "" when null (or longer than a tag can be)
    char placed_by[16];            //  "ADMINSQF" for the broker's own square-off
    char status[RECON_STATUS_LEN]; //  Kite's word
    char sym[KT_SYM_LEN];
    kt_side_t side;
    int64_t qty, filled, pending, cancelled;
    int64_t avg_px;
    char status_message[KT_TEXT_LEN];
};

//  A trade at the broker (trades.json row).
struct recon_btrade {
    char trade_id[32];
    char order_id[KT_BROKER_LEN];
    char sym[KT_SYM_LEN];
    kt_side_t side;
    int64_t qty, price;
    int64_t fill_ns; //  fill_timestamp (IST) in ns, 0 when absent
};

//  Parse a Kite answer ({"status":"success","data":...}) into rows; money and
//  quantities from the numbers' own text, never through a double. Writes at most max
//  rows; returns the number of rows in the answer (more than max: the caller's array is
//  too small), or -1 with the reason in why (not JSON, not success, a row missing a
//  required field or with a bad value: the row index and field are named).
int recon_kite_positions (const char *json, size_t len, struct recon_bpos *out, int max, char *why,
                          size_t whylen);
int recon_kite_orders (const char *json, size_t len, struct recon_border *out, int max, char *why,
                       size_t whylen);
int recon_kite_trades (const char *json, size_t len, struct recon_btrade *out, int max, char *why,
                       size_t whylen);

//  Our status for a broker status word: COMPLETE -> FILLED, CANCELLED -> CANCELLED,
//  REJECTED -> REJECTED, LAPSED/EXPIRED -> EXPIRED, OPEN and TRIGGER PENDING -> OPEN (or
//  PARTIAL with filled > 0); the transient words (PUT ORDER REQ RECEIVED, VALIDATION
//  PENDING, OPEN PENDING, MODIFY ..., CANCEL PENDING, TRIGGER PENDING transitions) ->
//  NONE: still moving, nothing to compare yet.
kt_ord_status_t recon_kite_status (const char *broker_status, int64_t filled);

// ---- recon_diff: broker vs Redis (pure) ------------------------------------------------------

typedef enum {
    RECON_AGREE = 0,        //  a position (or flat) both sides agree on
    RECON_CLOSED_BY_STOP,   //  our stop filled at the broker, fills not applied yet:
                            //  apply them once, exit reason RECONCILED
    RECON_MISSING_FILL,     //  a broker trade of one of our orders we have not applied
    RECON_UNKNOWN_POSITION, //  the broker holds a position we do not know: adopt or halt
    RECON_QTY_MISMATCH,     //  both hold it, quantities differ even after missing fills
    RECON_ORDER_STATE,      //  our order's status differs from the broker's: settle it
    RECON_UNRESOLVED_FOUND, //  an UNRESOLVED order of ours is at the broker: settle
    RECON_NOT_FOUND_RETRY,  //  an order of ours is not (yet) at the broker: look again
    RECON_NOT_FOUND,        //  still not there after the retry budget: settle / halt
    RECON_FOREIGN_ORDER,    //  a broker order that is not ours (no tag of ours, or the
                            //  broker's square-off, placed_by ADMINSQF)
    RECON_CLASS_COUNT
} recon_class_t;

//  Stable name ("agree", "closed_by_stop", ...).
const char *recon_class_str (recon_class_t c);

//  Our side, as the book holds it (kt_book.h), plus what the caller keeps between runs.
struct recon_ours_order {
    struct kt_order_rec rec; //  open and unresolved orders (and recent terminal ones)
    int not_found_runs;      //  runs in a row it was missing at the broker before this
};

//  A broker trade id already applied to one of our orders (order:<coid>:trades).
struct recon_applied {
    char coid[KT_ID_LEN];
    char trade_id[32];
};

struct recon_diff_in {
    const struct recon_bpos *bpos;
    int nbpos;
    const struct recon_border *borders;
    int nborders;
    const struct recon_btrade *btrades;
    int nbtrades;
    const struct kt_pos_rec *pos; //  our positions (open ones; qty 0 allowed)
    int npos;
    const struct recon_ours_order *orders;
    int norders;
    const struct recon_applied *applied;
    int napplied;
    int not_found_budget; //  runs an order may be missing before acting
};

//  One finding, with both views for the event and the alert.
struct recon_finding {
    recon_class_t cls;
    char sym[KT_SYM_LEN];
    char coid[KT_ID_LEN];          //  ours, "" when none
    char broker_id[KT_BROKER_LEN]; //  the broker's order id, "" when none
    char trade_id[32];             //  MISSING_FILL / CLOSED_BY_STOP: the trade to apply
    int64_t ours_qty, broker_qty;  //  positions (signed) or order quantities
    int64_t qty, price;            //  the trade to apply
    kt_side_t side;
    kt_ord_status_t ours_status, broker_as; //  ORDER_STATE / UNRESOLVED_FOUND
    char broker_status[RECON_STATUS_LEN];
    int not_found_runs;
    char text[256]; //  one line with both views
};

//  Per-class counts of a run.
struct recon_counts {
    int n[RECON_CLASS_COUNT];
};

//  Compare. Writes at most max findings (every class, agreement included, in the order:
//  fills and stops, positions, orders, foreign orders); returns the number of findings
//  and fills counts. Size out for every row (trades + symbols + our orders + broker
//  orders): past max the counts stay complete, but positions are judged only with the
//  missing fills that fitted. Pure: no I/O, no clock. A broker order is ours when its order id is
//  one of our orders' broker_id, or its tag is one of our coids. Positions compare by symbol (the
//  broker's products summed); a symbol whose difference the missing fills explain is not a
//  mismatch.
int recon_diff_run (const struct recon_diff_in *in, struct recon_finding *out, int max,
                    struct recon_counts *counts);

#endif
