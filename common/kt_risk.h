/*  kt_risk - risk-gate's Redis keys, declared once (docs/redis.md, docs/risk-gate.md).
 *
 *  risk-gate owns and writes them all (its commit script applies its decisions only on
 *  the account version they were made on); tradectl and the reconciler read risk:state,
 *  capital and risk:kill through the records below, and tradectl writes risk:kill (the
 *  operator's switch). Numbers are decimal text: money in paise, times in ns on the
 *  pipeline clock. */

#ifndef KT_RISK_H
#define KT_RISK_H

#include <stdbool.h>
#include <stdint.h>
#include "kt_msg.h"
#include "kt_schema.h"

//  risk:state - the trading state and the account's counters.
struct kt_risk_state_rec {
    int64_t version;          //  moves with every change of what the rules read
    char state[16];           //  ACTIVE / REDUCING / HALTED
    char reason[KT_TEXT_LEN]; //  "CODE: text"
    int64_t since_ns;
    char scope[16]; //  "day": the halt ends at the daily reset; "manual"
    bool session_ok;
    int64_t day; //  YYYYMMDD (IST)
    int64_t week_start_ns;
    int64_t day_start_equity, week_start_equity;
    int64_t day_start_unrealised, week_start_unrealised;
    int64_t day_start_realised, week_start_realised; //  book.realised at the roll
    int64_t day_start_trades_closed;                 //  book.trades_closed at the day roll
    int64_t day_start_losing_streak;                 //  book.losing_streak at the day roll
    int64_t peak_equity;
    int64_t trades_day;
    int64_t last_entry_ns;
    int64_t halt_seq;
    int64_t unrealised, day_pnl, updated_ns; //  for operators, written by the poll
    //  for operators, derived from the book and written by the poll
    int64_t realised_day, realised_week, consec_losses;
    int64_t units_total, units_ce, units_pe;
};

//  capital - the account's money. Only `initial` is read by the rules; the rest is
//  derived from the book and risk-gate's held orders, written by the poll for operators.
struct kt_risk_capital_rec {
    int64_t initial, realised_total, reserved, deployed;
    int64_t equity, available;
};

//  risk:kill - the operator's kill switch.
struct kt_risk_kill_rec {
    bool active;
    char reason[KT_TEXT_LEN];
    char by[32];
    int64_t since_ns;
};

//  risk:day:<yyyymmdd> - a finished day, archived at the roll.
struct kt_risk_day_rec {
    int64_t day, archived_ns;
    int64_t realised, trades, consec_losses, day_start_equity, end_equity, peak_equity;
    char state[16];
    char reason[KT_TEXT_LEN];
};

//  intent:<id> - one decided intent: the decision (answered again to a duplicate), the
//  order as decided, and, while risk-gate holds the order, its reservation.
struct kt_risk_intent_rec {
    char verdict[16];
    int64_t qty, nreasons;
    char code[KT_REASONS_MAX][24];
    char text[KT_REASONS_MAX][KT_TEXT_LEN];
    char state[16], coid[KT_ID_LEN];
    int64_t ts_ns;
    char kind[16], strategy[KT_ID_LEN], sym[KT_SYM_LEN], side[8], purpose[16], ref[KT_ID_LEN];
    char order_type[8];
    int64_t price, trigger;
    char product[8];
    int64_t stop_trigger, stop_price, r_value;
    int64_t resv, unit_cost, oqty, filled, pending;
    char itype[8];
    int64_t sent_ns, answered, event_ns, unresolved;
    char status[16];
    char replaced_by[KT_ID_LEN];
    char exit_reason[16];
};

extern const kt_schema_key_t kt_key_risk_state;   //  risk:state
extern const kt_schema_key_t kt_key_risk_capital; //  capital
extern const kt_schema_key_t kt_key_risk_kill;    //  risk:kill
extern const kt_schema_key_t kt_key_risk_day;     //  risk:day:<yyyymmdd>
extern const kt_schema_key_t kt_key_risk_intent;  //  intent:<id>
extern const kt_schema_key_t kt_key_risk_open;    //  risk:open
extern const kt_schema_key_t kt_key_risk_ts_orders;
extern const kt_schema_key_t kt_key_risk_ts_modifies;
extern const kt_schema_key_t kt_key_risk_ts_entries;
extern const kt_schema_key_t kt_key_risk_ts_rejects;
extern const kt_schema_key_t kt_key_risk_marks; //  risk:marks
extern const kt_schema_key_t kt_key_risk_px;    //  risk:px

#endif
