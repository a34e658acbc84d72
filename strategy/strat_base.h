/*  strat_base - baseline_v1's read-only view, for tests, reports and the process's
 *  strat:state hash. The strategy itself is reached through strat_core.h. */

#ifndef STRAT_BASE_H
#define STRAT_BASE_H

#include "strat_core.h"

struct strat_base_view {
    int32_t day;                //  YYYYMMDD of the current day, 0 before the first bar
    int64_t atm;                //  paise, 0 until the index's first bar of the day
    int32_t expiry;             //  YYYYMMDD of the day's options
    int universe;               //  instruments traded today
    int open[2];                //  open positions: [0] CE, [1] PE
    uint32_t pending[2];        //  order id of the pending entry per type, 0 = none
    bool flattened;             //  no more entries today
    struct strat_rmul realised; //  the day's realised R
};

struct strat_base_cand {
    bool valid;
    int64_t low;  //  paise: the swing low
    int64_t ts;   //  the swing bar's minute
    int64_t high; //  paise: highest high from the swing bar to now
};

//  The day's state of a baseline_v1 instance (state = strat_core_state).
void strat_base_view (const void *state, struct strat_base_view *out);

//  The candidate of token (valid false when none or not in today's universe).
void strat_base_cand (const void *state, uint32_t token, struct strat_base_cand *out);

//  Cumulative R now: realised + unrealised at the latest closes. *ok false on overflow.
struct strat_rmul strat_base_cum_r (const void *state, bool *ok);

#endif
