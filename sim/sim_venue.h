/*  sim_venue - kite-sim's pure core: the synthetic (or replayed) market, the order
 *  book of the account, matching through kt_fill, trades, positions and margins.
 *
 *  No I/O, no clock of its own: the protocol shell (sim_http, sim_ws) calls
 *  sim_venue_advance with the simulated time and serialises what it reads from here.
 *  Same seed + same date -> identical ticks and fills, bit for bit, however advance is
 *  sliced (fills also need the same calls at the same times). All money in paise, all
 *  times ns since the epoch (IST rules applied by kt_clock helpers). Single-threaded;
 *  callbacks must not call back into the venue. The market model, replay format and
 *  matching rules are in docs/kite-sim.md; the fill rules in common/kt_fill.h.
 *
 *  Pointers returned by the read functions are borrowed and valid until the next call
 *  that changes the venue (advance, place, modify, cancel, a fault). */

#ifndef SIM_VENUE_H
#define SIM_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"

typedef struct sim_venue sim_venue_t;

#define SIM_DEPTH 5
#define SIM_NIFTY_TOKEN 256265u            //  NIFTY 50 index (segment 9)
#define SIM_PLACED_BY_SQUAREOFF "ADMINSQF" //  placed_by of the broker's own square-off

//  Market snapshot of one instrument (what a `full` packet and /quote carry).
struct sim_quote {
    uint32_t token;
    int64_t ltp; //  paise
    int64_t last_qty;
    int64_t avg_price;         //  day VWAP, paise
    int64_t volume;            //  cumulative
    int64_t buy_qty, sell_qty; //  total pending
    int64_t o, h, l, c;        //  c = previous close
    int64_t oi, oi_day_high, oi_day_low;
    int64_t last_trade_ns;
    int64_t exch_ns; //  time of the last update; 0 before the first tick (ltp is
                     //  then the previous close and the book is empty)
    int64_t change;  //  index packets: ltp - close, signed paise
    struct {
        int64_t px, qty;
        int orders;
    } bid[SIM_DEPTH], ask[SIM_DEPTH];
};

//  One minute candle (historical endpoint).
struct sim_candle {
    int64_t start_ns;
    int64_t o, h, l, c;
    int64_t volume;
    int64_t oi;
};

//  An order of the account, as the order book reports it (GET /orders row). Empty
//  strings stand for JSON null (exchange_order_id before the exchange took it,
//  parent_order_id, tag, status_message). Times: order_timestamp = updated_ns (time of
//  the latest state), exchange_timestamp / exchange_update_timestamp = exchange_ns and
//  updated_ns once exchange_ns != 0. pending is 0 once terminal; cancelled is the
//  unfilled rest of a CANCELLED order.
struct sim_order {
    char order_id[KT_BROKER_LEN];
    char exchange_order_id[KT_BROKER_LEN];
    char parent_order_id[KT_BROKER_LEN];
    char tag[KT_ID_LEN];
    char sym[KT_SYM_LEN];
    uint32_t token;
    kt_side_t side;
    kt_order_type_t order_type;
    kt_product_t product;
    char variety[12];
    char validity[4];                     //  DAY / IOC
    char status[32];                      //  Kite status string
    char status_message[256];             //  reject / cancel reason ("" = null)
    char status_message_raw[256];         //  RMS text of a reject ("" = null)
    char autoslice_parent[KT_BROKER_LEN]; //  parent id of an autoslice child, else ""
                                          //  (tags: ["autoslice", "autoslice:<id>"])
    char placed_by[16];                   //  "" = the account's user; SIM_PLACED_BY_SQUAREOFF for
                                          //  the venue's own 15:20 square-off orders
    int64_t qty, filled, pending, cancelled;
    int64_t price, trigger, avg_price;
    int64_t market_protection; //  -1 auto, else percent
    int64_t placed_ns, updated_ns, exchange_ns;
    int modifications; //  accepted modifications (max 25)
    bool modified;
};

//  One state row of an order's history (GET /orders/{id}).
struct sim_order_row {
    struct sim_order order; //  the order as it was in this state
};

struct sim_trade {
    char trade_id[KT_BROKER_LEN];
    char order_id[KT_BROKER_LEN];
    char exchange_order_id[KT_BROKER_LEN];
    char sym[KT_SYM_LEN];
    uint32_t token;
    kt_side_t side;
    kt_product_t product;
    int64_t qty;
    int64_t price;
    int64_t fill_ns;
    int64_t order_ns;
};

//  A position, key (token, product). The net view is these fields; the day view is the
//  day_* fields with quantity = day_buy_qty - day_sell_qty (equal to the net view while
//  overnight_qty is 0, which it always is: the sim starts each day flat). multiplier is 1.
//  pnl = sell_value - buy_value + qty * last_price; realised + unrealised = pnl
//  (average-cost split); m2m = sell_m2m - buy_m2m + qty * last_price. avg_price is the
//  average cost of the open quantity, 0 when flat. buy_price = buy_value / buy_qty.
struct sim_position {
    char sym[KT_SYM_LEN];
    uint32_t token;
    kt_product_t product;
    int64_t qty; //  signed
    int64_t overnight_qty;
    int64_t avg_price;
    int64_t buy_qty, buy_value, sell_qty, sell_value; //  value in paise
    int64_t day_buy_qty, day_buy_value, day_sell_qty, day_sell_value;
    int64_t last_price, close_price;
    int64_t realised, unrealised, pnl, m2m;
    int64_t buy_m2m, sell_m2m; //  values with carried quantity at close_price
};

//  The equity segment (commodity: enabled, all zero). Blocked: long premium of open
//  positions and buy orders, SPAN (9%) + exposure (3%) of the index notional of short
//  quantity and of sell orders that would add to it; m2m_realised = minus booked P&L,
//  m2m_unrealised = open losses. debits = span + exposure + option_premium +
//  m2m_realised + m2m_unrealised; live_balance = net = opening_balance - debits;
//  cash = opening_balance.
struct sim_margins {
    int64_t opening_balance; //  paise
    int64_t live_balance;
    int64_t net;
    int64_t span, exposure, option_premium, m2m_realised, m2m_unrealised, debits;
};

//  Order entry parameters (POST /orders/regular, already validated for syntax: numbers
//  parsed, enums mapped; an enum the shell cannot map is passed as its NONE value and
//  refused here with InputException, like every rule of Kite's, so the messages come
//  from one place). price/trigger are ignored for types that do not use them.
struct sim_order_req {
    char sym[KT_SYM_LEN];
    char exchange[8];
    kt_side_t side;
    kt_order_type_t order_type;
    kt_product_t product;
    int64_t qty;
    int64_t price;
    int64_t trigger;
    char validity[4];
    char tag[KT_ID_LEN];
    int64_t market_protection; //  -1 or 1..100 for MARKET / SL-M; pass 0 when the request
                               //  omitted it: refused, as Kite does (never defaulted)
    bool autoslice;
};

//  Modify parameters (PUT): only fields with has_* set change.
struct sim_modify_req {
    bool has_qty, has_price, has_trigger, has_order_type, has_market_protection;
    int64_t qty, price, trigger;
    kt_order_type_t order_type;
    int64_t market_protection; //  as in sim_order_req; without it a MARKET / SL-M order
                               //  keeps its own, and one that becomes MARKET / SL-M by
                               //  this modify has none and is refused
};

//  Something the venue did that the WebSocket must tell the client (order updates):
//  called once per change with the order's latest state: OPEN / TRIGGER PENDING after
//  placement or a modification, OPEN with more filled after a partial fill (Kite's
//  "UPDATE"), COMPLETE, CANCELLED, REJECTED. o is borrowed for the call.
typedef void (sim_venue_order_fn) (const struct sim_order *o, void *arg);
//  Each tick as it is generated, in time order.
typedef void (sim_venue_tick_fn) (const struct sim_quote *q, void *arg);

//  Zero means the default for every number but seed.
struct sim_venue_cfg {
    uint64_t seed;
    int32_t date;            //  YYYYMMDD of the session; 0 with a replay: the file's date
    const char *replay_path; //  CSV of ticks or minute bars, or NULL for synthetic
                             //  (borrowed during sim_venue_new only)
    int64_t opening_balance; //  paise (default 10,00,000 rupees)
    int64_t freeze_qty;      //  NIFTY freeze quantity (units) for autoslice (1800)
    int strikes_each_side;   //  strikes listed each side of ATM (10; at most 100)
    int64_t lot;             //  NIFTY lot size (75)
};

//  Create a venue. Returns an owned venue, or NULL with the reason in err (bad replay
//  file with its line, bad date, freeze below a lot). The session is 09:15-15:30 IST of
//  the date; a synthetic market given a Saturday or Sunday trades the next Monday
//  (sim_venue_date tells which), a replay trades its file's date whatever the weekday.
sim_venue_t *sim_venue_new (const struct sim_venue_cfg *cfg, char *err, size_t errlen);

//  Free. Safe on NULL; sets *self_p to NULL.
void sim_venue_destroy (sim_venue_t **self_p);

//  The venue's instruments (NIFTY 50 index + the listed options). Borrowed.
const kt_instr_table_t *sim_venue_instruments (const sim_venue_t *self);

//  Session open (09:15 IST of the date) in ns.
int64_t sim_venue_open_ns (const sim_venue_t *self);

//  Session date (YYYYMMDD; the replay file's when cfg.date was 0) and options expiry.
int32_t sim_venue_date (const sim_venue_t *self);
int32_t sim_venue_expiry (const sim_venue_t *self);

//  Advance the market to now_ns: generate every tick with time <= now_ns in order
//  (calling tick_fn for each), match resting orders against each (calling order_fn for
//  every order that changed), apply the 15:20 MIS square-off (pending MIS orders
//  cancelled, MIS positions closed by MARKET orders) and at 15:30 expire every order
//  still working (CANCELLED). A now_ns not after the last call does nothing. Either
//  callback may be NULL. Returns the ticks made.
int64_t sim_venue_advance (sim_venue_t *self, int64_t now_ns, sim_venue_tick_fn *tick_fn,
                           sim_venue_order_fn *order_fn, void *arg);

//  Current snapshot of an instrument, or NULL if unknown. Borrowed.
const struct sim_quote *sim_venue_quote (const sim_venue_t *self, uint32_t token);

//  Minute candles of token between from_ns and to_ns inclusive, up to the present
//  (the minute in progress included, as Kite does; minutes without trades have none).
//  Writes at most max into out, oldest first; returns the count, or -1 if token is
//  unknown.
int sim_venue_candles (const sim_venue_t *self, uint32_t token, int64_t from_ns, int64_t to_ns,
                       struct sim_candle *out, int max);

//  One child of an autoslice placement, as Kite's response lists it: an order
//  (order_id set, error_type NULL) or a child refused synchronously (order_id "",
//  error_type "MarginException" and Kite's message), which never entered the book.
struct sim_child {
    char order_id[KT_BROKER_LEN];
    const char *error_type; //  static, NULL for an order
    char message[256];
};

//  Place an order at now_ns (advance to now_ns first: it matches against the current
//  quotes). On acceptance returns 0 and the order id (the order may still end REJECTED
//  by RMS, as Kite does: insufficient funds, or the injected fault). On a synchronous
//  error returns -1 with the Kite error_type ("InputException") and message; nothing
//  enters the book. With autoslice and qty above the freeze quantity, order_id is the
//  parent id (a grouping id, not an order), the children are written to children (up
//  to max_children; 10 suffices) in slice order and *nchildren set; otherwise
//  *nchildren = 0. Each child passes RMS on its own, in order, against the margin left
//  by the children before it: a child short of funds is an error child
//  (MarginException, "Insufficient funds. Required margin is X but available margin is
//  Y.") and is not in the order book, as in autoslice_response.json; the injected RMS
//  fault still ends an accepted child REJECTED. error_type is static.
int sim_venue_place (sim_venue_t *self, int64_t now_ns, const struct sim_order_req *req,
                     char *order_id, size_t idlen, struct sim_child *children, int max_children,
                     int *nchildren, const char **error_type, char *message, size_t msglen,
                     sim_venue_order_fn *order_fn, void *arg);

//  Modify / cancel an order that is OPEN or TRIGGER PENDING. 0, or -1 with error_type
//  and message as Kite answers (unknown id, terminal order, 25 modifications, a rule
//  of place broken by the new values, market closed). A modify that crosses the market
//  fills at once.
int sim_venue_modify (sim_venue_t *self, int64_t now_ns, const char *order_id,
                      const struct sim_modify_req *req, const char **error_type, char *message,
                      size_t msglen, sim_venue_order_fn *order_fn, void *arg);
int sim_venue_cancel (sim_venue_t *self, int64_t now_ns, const char *order_id,
                      const char **error_type, char *message, size_t msglen,
                      sim_venue_order_fn *order_fn, void *arg);

//  Order book access: count, i-th order (placement order), by id (NULL if unknown);
//  history rows of one order (oldest first, at most max; returns the count or -1 if
//  unknown); trades (fill order; filter by order_id for one order); positions (creation
//  order); margins.
size_t sim_venue_order_count (const sim_venue_t *self);
const struct sim_order *sim_venue_order_at (const sim_venue_t *self, size_t i);
const struct sim_order *sim_venue_order_get (const sim_venue_t *self, const char *order_id);
int sim_venue_order_history (const sim_venue_t *self, const char *order_id,
                             const struct sim_order **rows, int max);
size_t sim_venue_trade_count (const sim_venue_t *self);
const struct sim_trade *sim_venue_trade_at (const sim_venue_t *self, size_t i);
size_t sim_venue_position_count (const sim_venue_t *self);
const struct sim_position *sim_venue_position_at (const sim_venue_t *self, size_t i);
void sim_venue_margins (const sim_venue_t *self, struct sim_margins *out);

//  Faults for reconciliation tests: change a position behind the client's back (as if
//  traded elsewhere at the LTP: no order or trade appears; product of an existing
//  position of sym, else NRML; returns 0, or -1 for an unknown or untradable sym or a
//  zero delta), and force the next accepted order to be rejected by RMS with message
//  (NULL or "" = a default text).
int sim_venue_fault_position (sim_venue_t *self, const char *sym, int64_t qty_delta);
void sim_venue_fault_rms_reject (sim_venue_t *self, const char *message);

#endif
