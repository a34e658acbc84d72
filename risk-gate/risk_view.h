/*  risk_view - the account as read from Redis (one snapshot) -> struct risk_view. */

#ifndef RISK_VIEW_H
#define RISK_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"
#include "risk_kind.h"

#define RISK_POS_MAX 64   //  symbols with a position or a pending entry
#define RISK_ORD_MAX 128  //  open orders risk-gate reserved for
#define RISK_TS_MAX 512   //  newest timestamps kept per rate window
#define RISK_MINUTES 1440 //  P&L marks, one per minute of the IST day

//  One symbol of the book (Redis risk:pos:<sym>).
struct risk_pos {
    char sym[KT_SYM_LEN];
    kt_itype_t itype;
    int64_t qty;       //  signed units (short < 0)
    int64_t basis;     //  paise: entry value of the open quantity
    int64_t cost;      //  paise of capital deployed (premium, or margin of a short)
    int64_t pending;   //  entry orders not yet filled at all
    int64_t exiting;   //  units of open exit orders risk-gate approved
    int64_t realised;  //  paise, today
    int64_t trade_pnl; //  paise, realised since the position opened
    int64_t last_px;   //  paise, last price written by a mark
    int64_t last_px_ns;
};

//  One open order risk-gate holds a reservation or a pending slot for (intent:<id>).
struct risk_order {
    char coid[KT_ID_LEN];
    char sym[KT_SYM_LEN];
    kt_itype_t itype;
    kt_side_t side;
    risk_kind_t kind;
    int64_t oqty;         //  order quantity
    int64_t filled;       //  cumulative filled (applied)
    int64_t unit_cost;    //  paise reserved per unfilled unit
    int64_t resv;         //  paise still reserved
    bool pending;         //  holds a pending-entry slot (no fill yet)
    bool answered;        //  exec-gateway has said something about it
    bool unresolved;      //  looked up and still unknown (alerted)
    int64_t sent_ns;      //  when risk-gate sent it to exec-gateway (0 = never)
    int64_t decided_ns;   //  when the decision approved it
    int64_t event_ns;     //  when its last EXEC_EVENT was applied (0 = none)
    int64_t stop_trigger; //  an entry's attached stop trigger (0 = none)
};

//  Everything the checks read from Redis, as of one snapshot.
struct risk_view {
    bool loaded;     //  a snapshot was parsed
    int64_t version; //  risk:state version: moves with every change
    bool overflow;   //  more positions/orders than fit: fail closed
    kt_trading_state_t state;
    char reason[KT_TEXT_LEN];
    int64_t since_ns;
    bool day_scoped; //  the halt ends at the daily reset
    bool session_ok; //  broker session valid (false after TokenException)
    bool kill;       //  operator kill switch (risk:kill active)
    char kill_reason[KT_TEXT_LEN];
    int day; //  trading day YYYYMMDD
    int64_t week_start_ns;
    int64_t initial;        //  paise
    int64_t realised_total; //  paise, since the account started
    int64_t reserved;       //  paise, open entry orders
    int64_t deployed;       //  paise, open positions
    int64_t day_start_equity, week_start_equity;
    int64_t day_start_unrealised, week_start_unrealised;
    int64_t realised_day, realised_week;
    int64_t peak_equity;
    int64_t consec_losses;
    int64_t trades_day;
    int64_t last_entry_ns;
    int64_t units_total, units_ce, units_pe;
    int64_t halt_seq; //  halts so far (names the halt's commands)
    int norders_ts, nmodifies_ts, nentries_ts, nrejects_ts;
    int64_t orders_ts[RISK_TS_MAX]; //  newest first
    int64_t modifies_ts[RISK_TS_MAX];
    int64_t entries_ts[RISK_TS_MAX];
    int64_t rejects_ts[RISK_TS_MAX];
    bool has_mark[RISK_MINUTES];
    int64_t mark[RISK_MINUTES]; //  day P&L at the first look in each minute
    int npos;
    struct risk_pos pos[RISK_POS_MAX];
    int nord;
    struct risk_order ord[RISK_ORD_MAX];
};

//  Parse a snapshot reply (risk_capital's Lua snapshot layout) into *view. Returns 0,
//  or -1 with the reason in why if the reply does not have the layout.
int risk_view_parse (const redisReply *r, struct risk_view *view, char *why, size_t whylen);

//  The book entry of sym, or NULL. Borrowed.
const struct risk_pos *risk_view_pos (const struct risk_view *view, const char *sym);

//  The open order coid, or NULL. Borrowed.
const struct risk_order *risk_view_order (const struct risk_view *view, const char *coid);

//  Units counted against MAX_POS for sym: 1 for an open position plus its pending entries.
int64_t risk_view_units (const struct risk_view *view, const char *sym);

//  Entries of a newest-first timestamp list strictly after cut_ns.
int risk_view_count_after (const int64_t *ts, int n, int64_t cut_ns);

#endif
