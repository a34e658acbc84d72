/*  exec_kite - the pure parts of exec-gateway: Kite REST forms and replies, the order
 *  book and trades, order updates, the order lifecycle, slicing and the order rate.
 *
 *  Nothing here does I/O, reads a clock or keeps globals: plain functions over plain
 *  structs, tested on the official fixtures (tests/unit/exec_kite_test.c,
 *  exec_order_test.c, exec_update_test.c). The concepts, one file each:
 *    exec_json    cJSON with the source text of every number (money never via a double)
 *    exec_kite    REST forms, reply envelope -> outcome class, order rows, trades, tags
 *    exec_update  Kite order updates (WebSocket `order` texts and postbacks) -> order rows
 *    exec_order   the order lifecycle: states, precedence, fills from filled quantity
 *    exec_slice   freeze-quantity slicing with per-slice tags, and the outgoing rate cap
 *  Money is int64 paise, quantities units, times ns. */

#ifndef EXEC_KITE_H
#define EXEC_KITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "kt.h"
#include "kt_fill.h"

// ---- JSON with number text (exec_json.c) ----------------------------------------------

//  A parsed JSON text. cJSON turns numbers into doubles, which cannot hold rupees or
//  19-digit ids exactly, so after parsing, every number node's valueint is replaced by
//  the offset of its text in the source: money and quantities are parsed from that text
//  (kt_money_parse, decimal digits), never from valuedouble.
typedef struct {
    cJSON *root;      //  owned
    const char *text; //  borrowed: must outlive the document
    size_t len;
} exec_json_t;

//  Parse len bytes of text (borrowed; need not be NUL-terminated) into doc. Returns 0,
//  or -1 with the reason in why (syntax error with its byte offset, more than 2 GiB).
//  On failure doc->root is NULL. Free with exec_json_free.
int exec_json_parse (exec_json_t *doc, const char *text, size_t len, char *why, size_t whylen);

//  Free the tree. Safe on a zeroed or failed doc.
void exec_json_free (exec_json_t *doc);

//  The source text of number node (a cJSON number of doc). Returns 0, or -1 if node is
//  not a number of this document.
int exec_json_num_text (const exec_json_t *doc, const cJSON *node, const char **text, size_t *len);

//  obj[key] as rupees -> paise (rounded to the paisa exactly as llround(x * 100)).
//  Returns 0 (found), 1 (missing or null: *paise = 0) or -1 (not a number, out of range).
int exec_json_money (const exec_json_t *doc, const cJSON *obj, const char *key, int64_t *paise);

//  obj[key] as an integer (JSON integer text, or a string of digits). Returns 0, 1
//  (missing or null: *v = 0) or -1 (not an integer, fraction, out of range).
int exec_json_int (const exec_json_t *doc, const cJSON *obj, const char *key, int64_t *v);

//  obj[key] as a string into buf (cap bytes). A number is copied as its text (ids may
//  come as numbers). Returns 0, 1 (missing or null: "") or -1 (other type, or longer
//  than cap - 1: buf then holds "").
int exec_json_str (const exec_json_t *doc, const cJSON *obj, const char *key, char *buf,
                   size_t cap);

// ---- REST forms and replies (exec_kite.c) ---------------------------------------------

#define EXEC_KITE_FORM_MAX 512 //  a place form is about 250 bytes
#define EXEC_KITE_PATH_MAX 64

//  One order as Kite takes it (our units: paise, units).
struct exec_kite_order {
    char variety[12]; //  "regular" ("" = regular)
    char exchange[8]; //  "NFO"
    char sym[KT_SYM_LEN];
    kt_side_t side;
    kt_order_type_t type;
    int64_t qty;     //  units (> 0)
    int64_t price;   //  paise: LIMIT, SL (> 0); otherwise not sent
    int64_t trigger; //  paise: SL, SL-M (> 0); otherwise not sent
    kt_product_t product;
    char validity[8];          //  "DAY" (""), "IOC"
    int64_t market_protection; //  MARKET, SL-M: -1 (automatic) or 1..100 percent
    char tag[KT_ID_LEN];       //  our coid (or slice tag), 1..20 chars [A-Za-z0-9_.:-]
};

//  The form of POST /orders/<variety> for o into buf. Every field Kite needs is sent;
//  market_protection always on MARKET and SL-M (Kite does not default it). Returns the
//  length, or -1 with the reason in why (quantity <= 0, a price or trigger missing for
//  the type, protection 0 or out of range, a bad tag, unknown side/type/product, or buf
//  too small).
int exec_kite_place_form (const struct exec_kite_order *o, char *buf, size_t cap, char *why,
                          size_t whylen);

//  The form of PUT /orders/<variety>/<id> changing o's quantity, type, price, trigger,
//  validity (and market_protection for MARKET / SL-M). Same checks and returns as place,
//  without the tag.
int exec_kite_modify_form (const struct exec_kite_order *o, char *buf, size_t cap, char *why,
                           size_t whylen);

//  "/orders/<variety>" (order_id NULL or "") or "/orders/<variety>/<order_id>" into buf.
//  Returns the length or -1 (buf too small, variety or id not [A-Za-z0-9]).
int exec_kite_path (char *buf, size_t cap, const char *variety, const char *order_id);

//  What a reply means for us.
typedef enum {
    EXEC_KITE_OK = 0, //  success envelope
    EXEC_KITE_FINAL,  //  refused for good: Input/Order/Margin/Holding/Permission/
                      //  User/TwoFA/TPIN exceptions; message says why
    EXEC_KITE_RETRY,  //  the server answered with trouble (Network/Data/General
                      //  exception, 5xx, unreadable body): a read is retried; a
                      //  mutation's outcome is unknown
    EXEC_KITE_WAIT,   //  429: throttled before processing; wait, then send again
    EXEC_KITE_TOKEN,  //  TokenException: the session is invalid; retry nothing
    EXEC_KITE_UNSENT, //  transport: nothing reached the server (safe to resend)
    EXEC_KITE_UNKNOWN //  transport: the server may have acted (time-out, reset)
} exec_kite_class_t;

struct exec_kite_reply {
    exec_kite_class_t cls;
    long status;                  //  HTTP status (0 without a response)
    char error_type[32];          //  "InputException", ... ("" on success)
    char message[KT_TEXT_LEN];    //  the broker's message, or the transport error
    char order_id[KT_BROKER_LEN]; //  data.order_id of a place/modify/cancel ("" if none)
};

//  Classify one HTTP outcome (err, errstr from kt_http; status and body when a response
//  arrived). Decides "error" by error_type present or status "error" (kite-protocol 1.2);
//  an unknown error_type counts as GeneralException; a non-2xx status without one as
//  NetworkException; 429 is WAIT whatever its type. Never fails: *out is always set.
void exec_kite_reply_parse (kt_http_err_t err, const char *errstr, long status, const char *body,
                            size_t len, struct exec_kite_reply *out);

//  Stable name of a class ("ok", "final", "retry", "wait", "token", "unsent", "unknown").
const char *exec_kite_class_str (exec_kite_class_t c);

// ---- order rows (exec_kite.c), shared by /orders, /orders/<id> and order updates ------

struct exec_kite_row {
    char order_id[KT_BROKER_LEN];
    char parent_order_id[KT_BROKER_LEN];
    char exchange_order_id[KT_BROKER_LEN];
    char status[32]; //  Kite's status text ("OPEN", "TRIGGER PENDING", "UPDATE")
    char status_message[KT_TEXT_LEN];
    char tag[KT_ID_LEN]; //  "" when null or longer than ours can be
    char variety[12];
    char exchange[8];
    char sym[KT_SYM_LEN];
    char placed_by[16];
    char ts[24]; //  exchange_update_timestamp, else order_timestamp (IST)
    kt_side_t side;
    kt_order_type_t type;
    kt_product_t product; //  NONE for products we do not trade (CNC, MTF)
    int64_t qty;
    int64_t filled;
    int64_t pending;
    int64_t cancelled;
    int64_t price;   //  paise
    int64_t trigger; //  paise
    int64_t avg_px;  //  paise, VWAP of the fills so far
};

//  Read one order object obj of doc into row. Returns 0, or -1 with the reason (no
//  order_id or status, a quantity or price that is not a number).
int exec_kite_row_parse (const exec_json_t *doc, const cJSON *obj, struct exec_kite_row *row,
                         char *why, size_t whylen);

//  True when row carries tag (its `tag`, or one of its `tags` when parsed from JSON; the
//  row keeps the first user tag). tag "" never matches.
bool exec_kite_row_has_tag (const struct exec_kite_row *row, const char *tag);

//  Called for each row; return 0 to go on, non-zero to stop (that value is returned).
typedef int (exec_kite_row_fn) (const struct exec_kite_row *row, void *arg);

//  Walk the order book reply (GET /orders: success envelope with an array of orders) in
//  order. A row that cannot be read is skipped and counted in *bad (may be NULL). Returns
//  0 (or fn's stop value), or -1 with the reason when the body is not an order book.
int exec_kite_orders_each (const char *body, size_t len, exec_kite_row_fn *fn, void *arg, int *bad,
                           char *why, size_t whylen);

//  Find the order carrying tag in an order book reply. Returns the number of orders that
//  carry it (the first is copied to *row), or -1 with the reason (not an order book).
int exec_kite_find_tag (const char *body, size_t len, const char *tag, struct exec_kite_row *row,
                        char *why, size_t whylen);

// ---- trades (exec_kite.c) --------------------------------------------------------------

struct exec_kite_trade {
    char trade_id[KT_BROKER_LEN];
    char order_id[KT_BROKER_LEN];
    char exchange[8];
    char sym[KT_SYM_LEN];
    char ts[24]; //  fill_timestamp (IST)
    kt_side_t side;
    kt_product_t product;
    int64_t qty; //  this fill
    int64_t px;  //  paise, this fill
};

typedef int (exec_kite_trade_fn) (const struct exec_kite_trade *t, void *arg);

//  Walk a trades reply (GET /trades or /orders/<id>/trades). Same contract as
//  exec_kite_orders_each.
int exec_kite_trades_each (const char *body, size_t len, exec_kite_trade_fn *fn, void *arg,
                           int *bad, char *why, size_t whylen);

// ---- order updates (exec_update.c) -----------------------------------------------------

//  One Kite order update: a WebSocket text {"type":"order","data":{...}} or a postback
//  body (the order object itself, with checksum and unfilled_quantity). Returns 0 with
//  the order in *row, 1 when the text is a WebSocket message of another type (not an
//  order update; ignore it), or -1 with the reason.
int exec_update_parse (const char *text, size_t len, struct exec_kite_row *row, char *why,
                       size_t whylen);

//  A forwarded update (kt_msg ORDER_UPDATE from md-gateway) as a row.
void exec_update_from_msg (const struct kt_order_update *u, struct exec_kite_row *row);

// ---- the order lifecycle (exec_order.c) ------------------------------------------------

//  Our state of one order. Ranks grow along the lifecycle; terminal states end it.
typedef enum {
    EXEC_ST_NONE = 0,
    EXEC_ST_PENDING_SUBMIT,  //  recorded, request not yet answered
    EXEC_ST_UNRESOLVED,      //  request outcome unknown: settle by tag, never re-send
    EXEC_ST_ACCEPTED,        //  the OMS took it (order id), no book state seen yet
    EXEC_ST_OPEN,            //  live (filled may be > 0: partly filled)
    EXEC_ST_TRIGGER_PENDING, //  a stop waiting for its trigger
    EXEC_ST_COMPLETE,        //  terminal: fully filled
    EXEC_ST_CANCELLED,       //  terminal (may be partly filled)
    EXEC_ST_REJECTED,        //  terminal
    EXEC_ST_COUNT
} exec_state_t;

//  Upper-case name ("PENDING_SUBMIT", "TRIGGER PENDING", ...) / back (NONE if unknown).
const char *exec_state_str (exec_state_t s);
exec_state_t exec_state_parse (const char *s);

//  True for COMPLETE, CANCELLED, REJECTED.
bool exec_state_terminal (exec_state_t s);

//  Our state for one of Kite's status texts (kite-protocol 4.1): the transient states
//  before OPEN map to ACCEPTED, modify/cancel transients and UPDATE to OPEN, unknown
//  text to OPEN (non-terminal, as Kite's own rule says). `known` (may be NULL) is false
//  for text Kite does not document, so the caller can log it.
exec_state_t exec_state_from_kite (const char *status, bool *known);

//  The part of an order the lifecycle needs.
struct exec_order_fsm {
    exec_state_t state;
    int64_t qty;     //  order quantity
    int64_t price;   //  paise, as last seen (a change is a modification)
    int64_t trigger; //  paise
    int64_t filled;  //  cumulative, never decreases
    int64_t avg_px;  //  paise, VWAP of filled
    char broker_id[KT_BROKER_LEN];
    char ts[24]; //  broker time of the last applied row ("" if none)
};

//  What one observation does to an order.
struct exec_order_step {
    bool apply;                  //  false: stale or duplicate, dropped (why says which)
    exec_state_t state;          //  the new state
    int64_t fill_qty;            //  new units filled by this observation (0 if none)
    int64_t fill_px;             //  paise: price of those units (from the change of VWAP)
    int64_t filled;              //  new cumulative filled
    int64_t avg_px;              //  new VWAP
    kt_exec_kind_t event;        //  EXEC_EVENT to publish (NONE if nothing to say)
    kt_exec_kind_t end_event;    //  a second one when a fill and the end arrive together
                                 //  (PARTIAL then CANCELLED / REJECTED); NONE otherwise
    bool modified;               //  quantity, price or trigger changed while live
    int64_t qty, price, trigger; //  as the row has them (for the record)
    char ts[24];                 //  the newer broker time
    const char *why;             //  static text for a drop
};

//  Judge one observation of the broker's order (row: from an update, the order book or a
//  look-up) against o. Rules: filled quantity never goes back (less -> dropped); a
//  terminal state is never left (a late fill on it is still taken); a lower-ranked
//  state with no new fill is stale; the same state, fill and terms again is a
//  duplicate; without a new fill, a row whose broker time is older than the last
//  applied one is stale. Kite's in-place statuses (UPDATE, MODIFIED, CANCEL PENDING,
//  ...) keep a live order's state, and only UPDATE, OPEN and TRIGGER PENDING rows carry
//  terms we take (the transient rows of a modification show the old ones). A new fill yields
//  fill_qty/fill_px and event PARTIAL/FILLED; otherwise the event is
//  ACCEPTED/CANCELLED/REJECTED/MODIFIED or NONE. Pure; o is not changed: the caller stores the
//  step.
void exec_order_judge (const struct exec_order_fsm *o, const struct exec_kite_row *row,
                       struct exec_order_step *out);

//  The VWAP price of the units added when cumulative fill goes from (filled0, avg0) to
//  (filled1, avg1): (avg1*filled1 - avg0*filled0) / (filled1 - filled0), rounded to the
//  nearest paisa. Returns 0 when filled1 <= filled0 or on overflow.
int64_t exec_order_fill_px (int64_t filled0, int64_t avg0, int64_t filled1, int64_t avg1);

//  The EXEC_EVENT kind of a state reached with cumulative filled of qty.
kt_exec_kind_t exec_order_event_kind (exec_state_t s, int64_t filled, int64_t qty);

// ---- slicing and the order rate (exec_slice.c) -----------------------------------------

#define EXEC_SLICE_MAX 10

//  Split qty into slices of at most freeze units, each a multiple of lot, as equal as the
//  lot allows (larger ones first). freeze <= 0 means no limit. Returns the number of
//  slices (1 when qty fits) written to out, or -1 with the reason (qty not a positive
//  multiple of lot, freeze below one lot, more than max slices; max <= EXEC_SLICE_MAX).
int exec_slice_split (int64_t qty, int64_t lot, int64_t freeze, int max, int64_t *out, char *why,
                      size_t whylen);

//  The tag of slice i (0-based) of n for coid: the coid itself when n == 1, else the
//  first 18 characters of coid + "s" + i (i < 10): at most 20, Kite's limit. Returns 0,
//  or -1 if coid is empty or i is out of range.
int exec_slice_tag (const char *coid, int i, int n, char *buf, size_t cap);

//  A token bucket for outgoing order requests: rate per second, burst tokens at most.
struct exec_rate {
    int64_t rate;         //  tokens per second (> 0)
    int64_t burst;        //  bucket size (>= 1)
    int64_t tokens_milli; //  tokens x 1000
    int64_t last_ns;
};

//  Start full at now_ns.
void exec_rate_init (struct exec_rate *r, int64_t rate, int64_t burst, int64_t now_ns);

//  Take one token at now_ns. Returns 0 when taken, else the ms to wait (>= 1) before one
//  is there. Time going backwards is treated as no time passing.
int64_t exec_rate_take (struct exec_rate *r, int64_t now_ns);

// ---- the paper broker (exec_paper.c) ------------------------------------------------------

//  A broker inside exec-gateway for paper mode: orders placed, modified and cancelled
//  like Kite's (ids, statuses, rows, trades), filled by common/kt_fill against the
//  quotes of `md` ticks. A stop triggers on the LTP; nothing fills against an empty
//  quote; fills are moved slippage_ticks ticks against the order. Pure: time is passed
//  in, no I/O, fixed tables (no heap after new).
typedef struct exec_paper exec_paper_t;

#define EXEC_PAPER_ORDERS 2048
#define EXEC_PAPER_TRADES 8192

//  A broker moving each fill slippage_ticks price steps (of the fill's instrument: the
//  quote's tick) against the order. Returns an owned broker (aborts on OOM).
exec_paper_t *exec_paper_new (int64_t slippage_ticks);

//  Free. Safe on NULL; sets *self_p to NULL.
void exec_paper_destroy (exec_paper_t **self_p);

//  Place o at now_ns: *out as exec_kite_reply_parse would give for Kite's answer (OK with
//  an order id; FINAL InputException with Kite's kind of message for what Kite refuses).
//  A marketable order matches the last quote of its symbol at once (depth only).
void exec_paper_place (exec_paper_t *self, const struct exec_kite_order *o, int64_t now_ns,
                       struct exec_kite_reply *out);

//  Modify (quantity, price, trigger, type) / cancel a live order. FINAL OrderException
//  when the order is not live ("Order cannot be modified as it is in COMPLETE state.").
void exec_paper_modify (exec_paper_t *self, const char *order_id, const struct exec_kite_order *o,
                        int64_t now_ns, struct exec_kite_reply *out);
void exec_paper_cancel (exec_paper_t *self, const char *order_id, int64_t now_ns,
                        struct exec_kite_reply *out);

//  A new quote of sym at now_ns: remember it and match every live order of sym.
//  Returns the number of orders that changed (filled or triggered).
int exec_paper_quote (exec_paper_t *self, const char *sym, const struct kt_fill_quote *q,
                      int64_t now_ns);

//  A TICK of `md` as a quote (best level only; the traded quantity is the rise of the
//  day volume since the last tick of sym), with tick the instrument's price step in paise
//  (from the instruments list; <= 0 when unknown: nothing matches on it), then as
//  exec_paper_quote.
int exec_paper_tick (exec_paper_t *self, const struct kt_tick *t, int64_t tick, int64_t now_ns);

//  Walk every order as a Kite order-book row, oldest first (fn as for the order book).
int exec_paper_orders_each (exec_paper_t *self, exec_kite_row_fn *fn, void *arg);

//  Walk the trades of order_id, oldest first.
int exec_paper_trades_each (exec_paper_t *self, const char *order_id, exec_kite_trade_fn *fn,
                            void *arg);

#endif
