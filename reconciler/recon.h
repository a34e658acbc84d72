/*  recon - the reconciler's private header: config, the broker's and Redis's views,
 *  the pure comparison (recon_diff), the broker reader (recon_broker) and the actions
 *  (recon_act).
 *
 *  The reconciler compares the broker's view (positions, orders, trades over Kite REST)
 *  with the book in Redis (common/kt_book) at start-up, every recon.interval_s and on
 *  request (`recon:request`), applies only what the broker proves (a fill by its trade
 *  id, an order's outcome found by its tag) and is the only process that tells
 *  risk-gate the two agree. A broker call that fails is never agreement.
 *  docs/reconciler.md describes the classes and their actions. */

#ifndef RECON_H
#define RECON_H

#include "kt.h"

//  ---- config -------------------------------------------------------------------------

typedef enum { RECON_UNKNOWN_ADOPT = 1, RECON_UNKNOWN_HALT } recon_unknown_t;

struct recon_cfg {
    int64_t interval_s;       //  seconds between runs (wall time)
    char unknown_position[8]; //  "adopt" | "halt"
    int64_t retry_runs;       //  consecutive runs an unproven finding must be seen
    int64_t retry_s;          //  seconds to the next run after a run that found anything
    int64_t timeout_ms;       //  per broker request
    int64_t request_poll_ms;  //  how often recon:request is looked at (wall ms)
    int64_t min_gap_ms;       //  least time between two broker requests (wall ms)
};

extern const kt_cfg_row_t recon_cfg_table[];

//  ---- the broker's view (parsed from Kite REST) ---------------------------------------

#define RECON_TRADE_ID_LEN 32
#define RECON_STATUS_LEN 24

//  One row of data.net of GET /portfolio/positions.
struct recon_bpos {
    char sym[KT_SYM_LEN];
    char exchange[8];
    char product[8];
    int64_t token;
    int64_t qty;     //  signed net units
    int64_t avg_px;  //  paise, average of the open quantity (0 when flat)
    int64_t last_px; //  paise
};

//  One row of GET /orders.
struct recon_bord {
    char order_id[KT_BROKER_LEN];
    char tag[KT_ID_LEN]; //  "" when absent or longer than any coid of ours
    char placed_by[16];
    char status[RECON_STATUS_LEN]; //  Kite's word
    char sym[KT_SYM_LEN];
    int64_t token;
    kt_side_t side;
    kt_order_type_t order_type;
    kt_product_t product;
    int64_t qty, filled_qty;
    int64_t price, trigger, avg_px; //  paise
    char message[KT_TEXT_LEN];      //  status_message
};

//  One row of GET /trades.
struct recon_btrade {
    char trade_id[RECON_TRADE_ID_LEN];
    char order_id[KT_BROKER_LEN];
    char sym[KT_SYM_LEN];
    kt_side_t side;
    int64_t qty;   //  units of this fill
    int64_t price; //  paise of this fill
    int64_t ts_ns; //  fill_timestamp (IST) as ns, 0 if absent
};

#define RECON_BPOS_MAX 512
#define RECON_BORD_MAX 6000 //  Kite's 5000 orders a day, and some slack
#define RECON_BTRADE_MAX 12000

//  Everything one run read from the broker. Arrays are owned (recon_broker_new).
struct recon_broker {
    struct recon_bpos *pos;
    int npos;
    struct recon_bord *ord;
    int nord;
    struct recon_btrade *trade;
    int ntrade;
};

//  Placed-by of the venue's own end-of-day square-off orders.
#define RECON_PLACED_BY_VENUE "ADMINSQF"

//  ---- Redis's view ---------------------------------------------------------------------

//  A trade id the book has applied to an order (order:<coid>:trades).
struct recon_known {
    char coid[KT_ID_LEN];
    char trade_id[RECON_TRADE_ID_LEN];
};

#define RECON_RPOS_MAX 512
#define RECON_RORD_MAX (RECON_BORD_MAX + 2048) //  every order the broker names, plus open ones
#define RECON_KNOWN_MAX 12000

//  The part of the book a run compares: open positions, open orders, the orders the
//  broker's tags (and venue orders) name, and the trade ids applied to each of those.
struct recon_redis {
    struct kt_pos_rec *pos;
    int npos;
    struct kt_order_rec *ord;
    int nord;
    struct recon_known *known;
    int nknown;
};

//  ---- findings -------------------------------------------------------------------------

typedef enum {
    RECON_C_NONE = 0,
    RECON_C_MISSING_FILL,     //  a broker trade of our order not in the book: apply it
    RECON_C_CLOSED_BY_STOP,   //  our stop's fill, not in the book, closed the position
    RECON_C_VENUE_CLOSE,      //  the venue's square-off (ADMINSQF) closed our position
    RECON_C_UNKNOWN_POSITION, //  a broker position the book does not have
    RECON_C_QTY_MISMATCH,     //  both have the symbol, quantities differ, no trade explains it
    RECON_C_ORDER_STATE,      //  our order's state differs from the broker's
    RECON_C_UNRESOLVED,       //  an UNRESOLVED (or stuck PENDING_SUBMIT) order settled
    RECON_C_COUNT
} recon_class_t;

//  Stable lower-case name of a class ("missing_fill", ...).
const char *recon_class_str (recon_class_t c);

//  What to do about a finding.
typedef enum {
    RECON_A_NONE = 0, //  report only (waiting for the retry budget, or nothing to do)
    RECON_A_FILL,     //  kt_book_fill (coid, trade); exit reason RECONCILED when asked
    RECON_A_VENUE,    //  record the venue's order (coid "v" + order id), then fill
    RECON_A_SETTLE,   //  kt_book_order_update: status, broker status / id, reason
    RECON_A_ADOPT,    //  record an EXTERNAL order and fill it at the broker's average
    RECON_A_HALT,     //  kill switch + CRITICAL alert
    RECON_A_ALERT     //  CRITICAL alert only (nothing the reconciler may change)
} recon_action_t;

const char *recon_action_str (recon_action_t a);

struct recon_finding {
    recon_class_t cls;
    recon_action_t action;
    int seen;    //  consecutive runs this finding was seen (1 = first time)
    bool proven; //  the broker's data proves it: acted on at once
    char sym[KT_SYM_LEN];
    char coid[KT_ID_LEN];
    char order_id[KT_BROKER_LEN];
    char trade_id[RECON_TRADE_ID_LEN];
    kt_side_t side;
    int64_t token;        //  instrument token (0 when unknown)
    int64_t order_qty;    //  the broker order's quantity (venue orders)
    int64_t qty;          //  fill / adopted units (> 0)
    int64_t price;        //  fill price / adopted average, paise
    int64_t ts_ns;        //  fill time
    bool reconciled_exit; //  fill with exit reason RECONCILED
    //  Both views, for events and alerts.
    int64_t broker_qty, redis_qty;               //  positions (signed units)
    char broker_status[RECON_STATUS_LEN];        //  Kite's word ("" = not at the broker)
    kt_ord_status_t redis_status, settle_status; //  ours now, ours after SETTLE
    char text[200];                              //  one line for a human
};

//  Findings that need confirmation over several runs before an action, by key.
#define RECON_PENDING_MAX 256
struct recon_pending {
    int n;
    struct {
        char key[96];
        int seen;
    } e[RECON_PENDING_MAX];
};

#define RECON_FINDINGS_MAX 512

//  The result of one comparison.
struct recon_result {
    int n; //  findings (RECON_FINDINGS_MAX at most; `truncated` when more)
    struct recon_finding f[RECON_FINDINGS_MAX];
    bool truncated;
    int64_t counts[RECON_C_COUNT]; //  findings per class
    int unconfirmed;               //  findings still inside the retry budget
};

struct recon_diff_opts {
    recon_unknown_t unknown; //  adopt or halt a broker position the book does not have
    int retry_runs;          //  >= 1
};

//  Compare the broker's view with Redis's (both borrowed) and classify every
//  difference into out. pending is the previous run's unconfirmed findings on entry
//  and this run's on return (a finding not seen again starts over). Pure: no I/O, no
//  clock. Returns the number of findings (0 = agreement).
int recon_diff (const struct recon_broker *b, const struct recon_redis *r,
                const struct recon_diff_opts *opts, struct recon_pending *pending,
                struct recon_result *out);

//  The coid the venue's square-off order bo is booked under ("v" + order id) into coid.
//  Returns false (coid "") when bo is not the venue's or the id does not fit.
bool recon_venue_coid (const struct recon_bord *bo, char *coid, size_t len);

//  Map Kite's order status word to ours (COMPLETE -> FILLED, the working words -> OPEN).
//  Returns KT_OS_NONE for an empty or unknown word.
kt_ord_status_t recon_kite_status (const char *word);

//  ---- the broker reader ------------------------------------------------------------------

//  Allocate the arrays of a broker view (empty). Aborts on out of memory.
void recon_broker_init (struct recon_broker *b);

//  Free the arrays. Safe on a zeroed view.
void recon_broker_free (struct recon_broker *b);

//  How a broker response was judged.
typedef enum {
    RECON_B_OK = 0,
    RECON_B_TRANSPORT, //  no HTTP answer (connect, timeout, reset)
    RECON_B_TOKEN,     //  TokenException: the session is invalid
    RECON_B_ERROR,     //  an error answer (any other error_type, 4xx / 5xx)
    RECON_B_BAD        //  an answer that does not parse as Kite's shape
} recon_bstatus_t;

const char *recon_bstatus_str (recon_bstatus_t s);

//  Judge an HTTP answer: status and body of a Kite response. On an error, why gets
//  "HTTP 403 TokenException: <message>". Returns the class.
recon_bstatus_t recon_broker_judge (long http_status, const char *body, size_t len, char *why,
                                    size_t whylen);

//  Parse a GET /portfolio/positions, /orders or /trades body into b (replacing what b
//  held of that kind). Numbers are read from their text (money exact to the paisa).
//  Returns 0, or -1 with why (malformed, a row without a required field, too many rows).
int recon_broker_parse_positions (struct recon_broker *b, const char *body, size_t len, char *why,
                                  size_t whylen);
int recon_broker_parse_orders (struct recon_broker *b, const char *body, size_t len, char *why,
                               size_t whylen);
int recon_broker_parse_trades (struct recon_broker *b, const char *body, size_t len, char *why,
                               size_t whylen);

//  ---- the process ------------------------------------------------------------------------

typedef struct recon recon_t;

//  Subscribe to exec_pub, start the HTTP client and the timers, and start the first run.
//  Returns an owned context or NULL (reason logged).
recon_t *recon_new (kt_proc_t *proc, const struct recon_cfg *cfg);

//  Free (cancels a run in flight). Safe on NULL; sets *self_p to NULL.
void recon_destroy (recon_t **self_p);

//  Start a run now, or once more after the one in flight. Returns 0 when started, 1
//  when queued behind a run in flight.
int recon_run (recon_t *self);

//  Runs completed so far.
int64_t recon_runs (const recon_t *self);

//  ---- actions (recon_act.c) ----------------------------------------------------------------

//  Read the part of the book the comparison needs for broker view b into r (arrays
//  allocated by recon_redis_init). Returns 0, or -1 (why) when Redis is unavailable.
void recon_redis_init (struct recon_redis *r);
void recon_redis_free (struct recon_redis *r);
int recon_redis_read (kt_store_t *store, const struct recon_broker *b, struct recon_redis *r,
                      char *why, size_t whylen);

//  What recon_act did.
struct recon_act_stats {
    int applied; //  fills applied (not duplicates)
    int settled; //  orders settled
    int adopted; //  positions adopted
    int halted;  //  kill switch set
    int failed;  //  actions that failed (logged, alerted)
};

//  Carry out the actions of res on the book (fills, settles, adoptions, the kill
//  switch), append every finding to `events` (one XADD each, both views) and raise the
//  alerts. now_ns is pipeline time. Never fails as a whole: each failure is logged,
//  alerted and counted in stats.
void recon_act (kt_proc_t *proc, const struct recon_result *res, int64_t now_ns,
                struct recon_act_stats *stats);

#endif
