/*  exec - exec-gateway's private header: config, context, command handling.
 *
 *  exec-gateway is the only process that talks orders to the broker. It serves
 *  ORDER_COMMANDs from risk-gate on `exec` (ROUTER), records every order in the book
 *  (common/kt_book: order:<coid>, orders:open, pos:<sym>) before it acts, sends it to
 *  Kite REST (kite-sim in sim mode) over kt_http on the loop, follows it through order
 *  updates (`md.order` from md-gateway) and by polling the order book, applies fills
 *  once per broker trade id, and publishes EXEC_EVENTs on `exec_pub` after the book has
 *  them. The pure parts are in exec_kite.h; docs/exec-gateway.md holds the decisions. */

#ifndef EXEC_H
#define EXEC_H

#include "kt.h"
#include "exec_kite.h"

// ---- config (exec_cfg.c) ----------------------------------------------------------------

struct exec_cfg {
    char exchange[8];             //  "NFO"
    char variety[12];             //  "regular"
    int64_t freeze_qty;           //  units per broker order; above it the order is sliced
                                  //  (lot and tick come from the instruments)
    int64_t max_slices;           //  at most this many slices (<= 10)
    int64_t market_protection;    //  MARKET / SL-M: -1 automatic, or 1..100 percent
    int64_t rate_per_s;           //  outgoing order requests per second (queue beyond)
    int64_t order_timeout_ms;     //  place / modify / cancel request time-out
    int64_t read_timeout_ms;      //  order book / trades request time-out
    int64_t poll_ms;              //  order book poll while orders are live (wall time)
    int64_t settle_tries;         //  order book look-ups that must miss before an
                                  //  UNRESOLVED submit counts as never placed
    int64_t connect_retries;      //  sends that never left the host before giving up
    int64_t idle_cancel_s;        //  a partly filled entry idle this long: rest cancelled
    int64_t stop_retries;         //  attached stop placements before the market exit
    int64_t flatten_attempts;     //  FLATTEN rounds before it reports failure
    int64_t paper_slippage_ticks; //  paper mode: fills this many ticks worse
    char journal_dir[256];        //  journal root ("" = no journal)
};

// ---- the journal (exec_journal.c) ---------------------------------------------------------

typedef struct exec_journal exec_journal_t;

//  A journal under dir: <dir>/<YYYYMMDD>/orders.csv, fills.csv, trades.csv (round trips
//  with P&L, R multiple and exit reason), each row keyed by the `events` stream id it
//  came from. Returns an owned journal (aborts on OOM); files open on the first step.
exec_journal_t *exec_journal_new (const char *dir);

//  Close the files and free. Safe on NULL; sets *self_p to NULL.
void exec_journal_destroy (exec_journal_t **self_p);

//  Append the rows of every event after the last one read (the whole stream on the
//  first step, skipping what each file already holds), for the trading day of now_ns,
//  and fsync. Returns the number of events read, or -1 with the reason (Redis down,
//  a file that cannot be written): the next step tries again from the same place.
int exec_journal_step (exec_journal_t *self, kt_store_t *store, int64_t now_ns, char *why,
                       size_t whylen);

//  The "exec" section's rows. Returns the table (static).
const kt_cfg_row_t *exec_cfg_table (void);

// ---- the process (exec.c) ----------------------------------------------------------------

typedef struct exec exec_t;

//  Bind `exec` and `exec_pub`, subscribe to `md` for order updates, register the book's
//  scripts, load open orders from Redis and settle them with the broker. cfg is
//  borrowed (must outlive the context). Returns an owned context or NULL (logged).
exec_t *exec_new (kt_proc_t *proc, const struct exec_cfg *cfg);

//  Free (pending HTTP requests are cancelled; their orders stay as recorded and are
//  settled by the next start). Safe on NULL; sets *self_p to NULL.
void exec_destroy (exec_t **self_p);

//  Handle one command: returns the EXEC_EVENT to answer with in *out. Idempotent on
//  cmd->coid: a recorded coid gets its recorded state, never a second order. Returns 0,
//  or -1 when the command is malformed (out says why).
int exec_handle_command (exec_t *self, const struct kt_order_cmd *cmd, struct kt_exec_event *out);

//  Handle one broker order update (as forwarded on md.order). Returns 0 when it was
//  applied or dropped as stale, -1 when it names no order of ours.
int exec_handle_update (exec_t *self, const struct kt_order_update *u);

#endif
