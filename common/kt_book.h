/*  kt_book - the one order and position book of the account, in Redis.
 *
 *  exec-gateway owns it: it writes orders (order:<coid>, orders:open) and applies fills
 *  (order + position + realised P&L + book version, appended to `events`) in one Lua
 *  script each, so an order and its position can never disagree and a fill (keyed by
 *  the broker's trade id) is applied exactly once, however often it is reported (order
 *  update, polling, reconciler, restart). risk-gate, the reconciler, the strategy and
 *  tradectl read it; none of them keeps a second book.
 *
 *  Positions are signed (negative = short). The open side's cost is kept exactly as
 *  open_value = sum of qty x price (paise x units) of what is still open, so average
 *  prices never lose paise to rounding: a partial close takes its proportional share
 *  (floor), a full close takes the rest. Realised P&L is in paise, per position and in
 *  the `book` hash (the account total since the book began). Every change bumps
 *  book.ver, which risk-gate's commit checks to decide on a current view.
 *
 *  Calls are synchronous on the store's decision connection (one EVALSHA or one
 *  HGETALL, bounded by redis.timeout_ms); they return -1 with a reason when Redis is
 *  unavailable, and the caller fails closed. */

#ifndef KT_BOOK_H
#define KT_BOOK_H

#include <stdbool.h>
#include <stdint.h>
#include "kt_msg.h"
#include "kt_schema.h"
#include "kt_store.h"

//  An order's life in the book. OPEN covers accepted orders resting at the broker
//  (OPEN, TRIGGER PENDING, AMO REQ RECEIVED: broker_status has Kite's exact word);
//  PARTIAL is open with some quantity filled. UNRESOLVED: a submit whose outcome is
//  unknown (time-out, 5xx, reset after sending), open until the broker's order book,
//  an order update or the reconciler settles it - never re-sent before that.
typedef enum {
    KT_OS_NONE = 0,
    KT_OS_PENDING_SUBMIT, //  recorded, request not yet answered
    KT_OS_UNRESOLVED,
    KT_OS_OPEN,
    KT_OS_PARTIAL,
    KT_OS_FILLED,    //  terminal
    KT_OS_CANCELLED, //  terminal (possibly after partial fills)
    KT_OS_REJECTED,  //  terminal
    KT_OS_EXPIRED    //  terminal
} kt_ord_status_t;

const char *kt_ord_status_str (kt_ord_status_t v);
kt_ord_status_t kt_ord_status_parse (const char *s);

//  True for FILLED, CANCELLED, REJECTED, EXPIRED.
bool kt_ord_status_is_final (kt_ord_status_t v);

//  The EXEC_EVENT kind a book status stands for (OPEN is ACCEPTED); KT_EXEC_NONE for none.
kt_exec_kind_t kt_ord_status_exec_kind (kt_ord_status_t v);

//  order:<coid> - everything known about one order of ours.
struct kt_order_rec {
    char coid[KT_ID_LEN];          //  client order id, sent as the Kite tag
    char intent_id[KT_ID_LEN];     //  the intent risk-gate approved
    char parent[KT_ID_LEN];        //  entry coid for an attached stop, else ""
    char replaces[KT_ID_LEN];      //  an entry replacing a pending one: its coid, else ""
    char broker_id[KT_BROKER_LEN]; //  Kite order_id once known
    char sym[KT_SYM_LEN];
    int64_t token;
    kt_side_t side;
    kt_order_type_t order_type;
    kt_product_t product;
    kt_purpose_t purpose;
    int64_t qty;          //  units ordered (current, after modifications)
    int64_t price;        //  paise (LIMIT, SL)
    int64_t trigger;      //  paise (SL, SL-M)
    int64_t stop_trigger; //  paise, attached stop of an entry (0 = none)
    int64_t stop_price;   //  paise, attached stop's limit
    int64_t r_value;      //  paise at risk of an entry
    kt_ord_status_t status;
    char broker_status[24];   //  Kite's status word, as last seen
    int64_t filled_qty;       //  units
    int64_t fill_value;       //  sum of fill qty x price (paise x units)
    int64_t avg_px;           //  paise, fill_value / filled_qty rounded half up
    char reason[KT_TEXT_LEN]; //  reject / cancel reason (broker's message)
    char exit_reason[16];     //  STOP, TARGET_DAY, LOSS_DAY, TIME, MANUAL, RECONCILED
    int64_t created_ns;
    int64_t updated_ns;
};

//  pos:<sym> - the position in one instrument (kept after it closes, qty 0, for the
//  day's realised P&L and the last exit).
struct kt_pos_rec {
    char sym[KT_SYM_LEN];
    int64_t token;
    int64_t qty;                     //  signed units: < 0 short, > 0 long
    int64_t open_value;              //  paise x units of the open quantity (>= 0)
    int64_t avg_px;                  //  paise, open_value / |qty| rounded half up (display)
    int64_t realised;                //  paise, realised P&L of this symbol (cumulative)
    int64_t stop_px;                 //  paise, trigger of the protecting stop (0 = none)
    int64_t r_value;                 //  paise at risk when opened
    char entry_coid[KT_ID_LEN];      //  the entry that opened it
    char last_entry_coid[KT_ID_LEN]; //  the newest entry that opened or added to it
    char stop_coid[KT_ID_LEN];       //  the stop protecting it ("" = none)
    char exit_reason[16];            //  reason of the last reduction
    int64_t opened_ns;
    int64_t updated_ns;
    int64_t trade_realised; //  paise, P&L of the round trip opened from flat (kept once closed)
    int64_t trades_closed;  //  round trips closed in this symbol (+1 each time it goes flat)
};

//  book - account-wide counters of the book. A round trip is a position from the
//  moment it opens from flat until it is flat again (a fill through zero closes one
//  and opens the next); each is counted once, by the fill that closes it.
struct kt_book_rec {
    int64_t ver;      //  bumped by every order or fill change
    int64_t realised; //  paise, realised P&L since the book began
    int64_t fills;    //  fills applied
    int64_t updated_ns;
    int64_t trades_closed;       //  round trips closed
    int64_t last_trade_realised; //  paise, P&L of the last round trip closed
    int64_t losing_streak;       //  round trips closed at a loss in a row (0 after one >= 0)
};

extern const kt_schema_key_t kt_key_order;        //  order:<coid>
extern const kt_schema_key_t kt_key_order_trades; //  order:<coid>:trades
extern const kt_schema_key_t kt_key_orders_open;  //  orders:open
extern const kt_schema_key_t kt_key_pos;          //  pos:<sym>
extern const kt_schema_key_t kt_key_positions;    //  positions
extern const kt_schema_key_t kt_key_book;         //  book

//  Register the book's scripts on store (at start-up, before connecting).
//  Returns 0, or -1 if the store's script registry is full.
int kt_book_register (kt_store_t *store);

//  Record a new order (status as given, normally PENDING_SUBMIT) with its event, in one
//  script, only if order:<coid> does not exist. Returns 1 when created, 0 when the coid
//  was already recorded (existing gets the recorded order; may be NULL), -1 on a store
//  failure (why).
int kt_book_order_create (kt_store_t *store, const struct kt_order_rec *order, int64_t now_ns,
                          struct kt_order_rec *existing, char *why, size_t whylen);

//  Write the order's state fields (status, broker_status, broker_id, qty, price,
//  trigger, stop_trigger, stop_price, reason, exit_reason) from order, keep it in or
//  take it out of orders:open by status, bump book.ver and append an `order` event, in
//  one script. Fill fields are never written here (only kt_book_fill changes them),
//  except a sliced parent's (broker_status KT_BOOK_SLICED): it has no fills of its own,
//  and its filled_qty, fill_value and avg_px are its slices' totals.
#define KT_BOOK_SLICED "SLICED"
//  Returns 0, or -1 (why) on a store failure or an unknown coid.
int kt_book_order_update (kt_store_t *store, const struct kt_order_rec *order, int64_t now_ns,
                          char *why, size_t whylen);

//  One execution reported by the broker.
struct kt_book_fill {
    char coid[KT_ID_LEN];
    char trade_id[32]; //  broker's trade id: the de-duplication key
    int64_t qty;       //  units (> 0)
    int64_t price;     //  paise (> 0)
    int64_t ts_ns;     //  exchange time of the fill
};

//  What kt_book_fill did.
struct kt_book_fill_result {
    bool duplicate;         //  trade id seen before: nothing changed
    kt_ord_status_t status; //  order status after the fill
    int64_t filled_qty;     //  order's filled quantity after
    int64_t avg_px;         //  order's average fill price after (paise)
    int64_t pos_qty;        //  position after (signed)
    int64_t realised_delta; //  paise realised by this fill
    int64_t ver;            //  book version after
    bool trade_closed;      //  this fill closed a round trip (the position went flat)
    int64_t trade_realised; //  paise, P&L of that round trip (0 when none closed)
};

//  Apply one fill of order coid: trade id de-duplicated; order filled_qty / fill_value /
//  avg_px / status; position qty, open_value, realised, r_value, stop and exit reason
//  (from the order); positions set; book counters; one `fill` event - all in one
//  script. An order that would be overfilled, an unknown coid or a non-positive qty or
//  price is refused whole (-1, why), nothing applied. Returns 0 (also for a duplicate,
//  see res) or -1.
int kt_book_fill (kt_store_t *store, const struct kt_book_fill *fill,
                  struct kt_book_fill_result *res, char *why, size_t whylen);

//  Read order:<coid>. Returns 1 found, 0 not found, -1 store failure (why).
int kt_book_order_get (kt_store_t *store, const char *coid, struct kt_order_rec *out, char *why,
                       size_t whylen);

//  Read pos:<sym>. Returns 1 found, 0 not found (out zeroed with sym set), -1 failure.
int kt_book_pos_get (kt_store_t *store, const char *sym, struct kt_pos_rec *out, char *why,
                     size_t whylen);

//  Read the book counters. Returns 0 (zeros when the book is empty) or -1.
int kt_book_get (kt_store_t *store, struct kt_book_rec *out, char *why, size_t whylen);

//  Call fn for every open order (orders:open) / every open position (positions). A
//  member whose hash cannot be read is skipped and counted in *skipped (may be NULL).
//  Returns the number visited, or -1 on a store failure (why).
typedef void (kt_book_order_fn) (const struct kt_order_rec *order, void *arg);
typedef void (kt_book_pos_fn) (const struct kt_pos_rec *pos, void *arg);
int kt_book_each_open_order (kt_store_t *store, kt_book_order_fn *fn, void *arg, int *skipped,
                             char *why, size_t whylen);
int kt_book_each_position (kt_store_t *store, kt_book_pos_fn *fn, void *arg, int *skipped,
                           char *why, size_t whylen);

#endif
