/*  risk_view - the account as read from Redis (one snapshot) -> struct risk_view. */

#ifndef RISK_VIEW_H
#define RISK_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"
#include "kt_store.h"
#include "risk_kind.h"

#define RISK_POS_MAX 64   //  symbols with a position, a pending entry or an exit
#define RISK_ORD_MAX 128  //  open orders risk-gate holds; open exits of the book
#define RISK_TS_MAX 512   //  newest timestamps kept per rate window
#define RISK_MINUTES 1440 //  P&L marks, one per minute of the IST day

//  Margin per unit of a short in sym at price px (paise): the capital a short position
//  ties up per unit. arg is the view's margin_arg.
typedef int64_t (risk_margin_fn) (void *arg, const char *sym, int64_t px);

//  One symbol as the rules see it. From the book (pos:<sym>): qty, basis, realised,
//  trade_pnl; derived by risk_view_derive: cost, pending, exiting, itype.
struct risk_pos {
    char sym[KT_SYM_LEN];
    kt_itype_t itype;
    int64_t qty;       //  signed units (short < 0), the book's
    int64_t basis;     //  paise: the book's open_value (entry value of the open quantity)
    int64_t cost;      //  paise of capital deployed (premium, or margin of a short)
    int64_t pending;   //  risk-gate's held entries not yet filled at all
    int64_t exiting;   //  units of open exits covering it: the book's EXIT/STOP orders and
                       //  held exits not yet in the book
    int64_t realised;  //  paise, the book's realised P&L of the symbol (cumulative)
    int64_t trade_pnl; //  paise, the book's P&L of the round trip open now
    int64_t last_px;   //  paise, last price written by a poll (risk:px)
    int64_t last_px_ns;
};

//  An open order of the book (orders:open) that covers a position: EXIT or STOP.
struct risk_book_ord {
    char coid[KT_ID_LEN];
    char sym[KT_SYM_LEN];
    kt_side_t side;
    int64_t qty, filled;
};

//  One open order risk-gate holds (intent:<id> in risk:open), joined with the book's
//  record of it (order:<coid>). The rec_ fields are the intent record's; filled,
//  resv and pending are derived from them and the book by risk_view_derive.
struct risk_order {
    char coid[KT_ID_LEN];
    char sym[KT_SYM_LEN];
    kt_itype_t itype;
    kt_side_t side;
    risk_kind_t kind;
    int64_t oqty;         //  order quantity
    int64_t filled;       //  cumulative filled: the book's (at least what was recorded)
    int64_t unit_cost;    //  paise reserved per unfilled unit
    int64_t resv;         //  paise still reserved
    bool pending;         //  holds a pending-entry slot (no fill yet)
    bool answered;        //  exec-gateway has said something about it
    bool unresolved;      //  looked up and still unknown (alerted)
    int64_t sent_ns;      //  when risk-gate sent it to exec-gateway (0 = never)
    int64_t decided_ns;   //  when the decision approved it
    int64_t event_ns;     //  when its last EXEC_EVENT was applied (0 = none)
    int64_t stop_trigger; //  an entry's attached stop trigger (0 = none)
    int64_t rec_filled;   //  filled as the record says (settled up to)
    int64_t rec_resv;     //  reserved as the record says (at rec_filled)
    bool rec_pending;     //  the record's pending flag
    bool in_book;         //  exec-gateway recorded it (order:<coid> exists)
    int64_t book_filled;  //  the book's filled_qty
    int book_status;      //  the book's status (kt_ord_status_t)
    char book_reason[KT_TEXT_LEN];
};

//  Everything the checks read from Redis, as of one snapshot.
struct risk_view {
    bool loaded;      //  a snapshot was parsed
    int64_t version;  //  risk:state version: moves with every change of risk-gate's
    int64_t book_ver; //  the book's version (book ver): moves with every order or fill
    bool overflow;    //  more positions/orders than fit: fail closed
    kt_trading_state_t state;
    char reason[KT_TEXT_LEN];
    int64_t since_ns;
    bool day_scoped; //  the halt ends at the daily reset
    bool session_ok; //  broker session valid (false after TokenException)
    bool kill;       //  operator kill switch (risk:kill active)
    char kill_reason[KT_TEXT_LEN];
    int day; //  trading day YYYYMMDD
    int64_t week_start_ns;
    int64_t initial; //  paise
    int64_t day_start_equity, week_start_equity;
    int64_t day_start_unrealised, week_start_unrealised;
    int64_t peak_equity;
    int64_t trades_day;
    int64_t last_entry_ns;
    int64_t halt_seq; //  halts so far (names the halt's commands)
    //  the book's counters (book) and their values at the rolls (risk:state)
    int64_t book_realised, book_trades_closed, book_losing_streak;
    int64_t book_last_trade; //  paise, P&L of the last round trip the book closed
    int64_t day_start_realised, week_start_realised;
    int64_t day_start_trades_closed, day_start_losing_streak;
    //  derived by risk_view_derive
    int64_t realised_total; //  paise: the book's realised P&L
    int64_t realised_day, realised_week;
    int64_t consec_losses; //  losing round trips in a row, today
    int64_t reserved;      //  paise, held entries
    int64_t deployed;      //  paise, the book's positions
    int64_t units_total, units_ce, units_pe;
    int norders_ts, nmodifies_ts, nentries_ts, nrejects_ts;
    int64_t orders_ts[RISK_TS_MAX]; //  newest first
    int64_t modifies_ts[RISK_TS_MAX];
    int64_t entries_ts[RISK_TS_MAX];
    int64_t rejects_ts[RISK_TS_MAX];
    bool has_mark[RISK_MINUTES];
    int64_t mark[RISK_MINUTES]; //  day P&L at the first look in each minute
    int nbpos;                  //  the book's open positions (pos:<sym> in `positions`)
    struct risk_pos bpos[RISK_POS_MAX];
    int nbord; //  the book's open EXIT / STOP orders
    struct risk_book_ord bord[RISK_ORD_MAX];
    int npos; //  derived: the book's positions plus symbols of held orders
    struct risk_pos pos[RISK_POS_MAX];
    int nord;
    struct risk_order ord[RISK_ORD_MAX];
    risk_margin_fn *margin; //  kept across parses (NULL: kt_margin on the average price)
    void *margin_arg;
};

//  Parse a snapshot (risk_capital's Lua snapshot layout) into *view (its margin hook
//  kept), then derive. Returns 0, or -1 with the reason in why if the result does not
//  have the layout.
int risk_view_parse (const kt_store_result_t *r, struct risk_view *view, char *why, size_t whylen);

//  Recompute the derived parts of *view from the book and the held orders: pos[] (the
//  book's positions, their cost, pending entries and exit cover), each held order's
//  filled, resv and pending, reserved, deployed, units, the realised P&L of the day and
//  the week (the book's, less its value at the roll) and the day's losing streak. Call
//  after changing bpos, bord, ord or the book counters.
void risk_view_derive (struct risk_view *view);

//  The book entry of sym, or NULL. Borrowed.
const struct risk_pos *risk_view_pos (const struct risk_view *view, const char *sym);

//  The open order coid, or NULL. Borrowed.
const struct risk_order *risk_view_order (const struct risk_view *view, const char *coid);

//  Units counted against MAX_POS for sym: 1 for an open position plus its pending entries.
int64_t risk_view_units (const struct risk_view *view, const char *sym);

//  Entries of a newest-first timestamp list strictly after cut_ns.
int risk_view_count_after (const int64_t *ts, int n, int64_t cut_ns);

#endif
