/*  kt_stratstate - the strategy process's Redis keys: strat:state, the hash an operator
 *  reads to see what the strategy thinks (redis-cli HGETALL kt:strat:state), and
 *  strat:seq:<id>-<yyMMdd>, the counter that keeps intent ids unique across restarts.
 *
 *  Declared here, in the common library, so that kt_schema's registry (docs/redis.md,
 *  tradectl) knows them; the strategy process is their one writer. */

#ifndef KT_STRATSTATE_H
#define KT_STRATSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include "kt_schema.h"

//  strat:state - one snapshot, rewritten whole after every minute close, decision and
//  execution event (never per tick). Texts are short lists meant for a person.
struct kt_strat_state_rec {
    char strategy[24];       //  strategy.name
    char id[8];              //  strategy.id
    int64_t day;             //  YYYYMMDD of the strategy's day (0 before its first bar)
    int64_t atm;             //  paise, 0 until the index's first bar
    int64_t universe;        //  instruments traded today
    int64_t candidates;      //  instruments with a valid swing-low candidate
    char cands[1024];        //  "SYM low/high ..." of the candidates, rupees
    char best_ce[96];        //  the CE entry the strategy wants now (its pending entry)
    char best_pe[96];        //  the PE entry the strategy wants now
    char pending[256];       //  "coid SYM qty@trigger sl ..." of the pending entries
    int64_t open_ce;         //  open positions, CE
    int64_t open_pe;         //  open positions, PE
    char positions[512];     //  "coid SYM qty filled/exited ..." of the positions
    char cum_r[24];          //  cumulative R (realised + unrealised), 4 decimals
    char realised_r[24];     //  realised R of the day, 4 decimals
    bool flattened;          //  no more entries today
    bool warm;               //  warm-up and recovery done: intents are sent
    int64_t last_bar_ns;     //  start of the last minute given to the strategy, ns
    int64_t bars;            //  bars given to the strategy
    int64_t ticks;           //  ticks given to the strategy
    int64_t intents_sent;    //  intents sent to risk-gate
    int64_t approved;        //  APPROVE decisions
    int64_t reduced;         //  REDUCE decisions
    int64_t refused;         //  BLOCK / HALT decisions
    int64_t timeouts;        //  intents risk-gate never answered
    char last_decision[160]; //  the last decision: intent, verdict, reason
    int64_t updated_ns;      //  pipeline time of this snapshot
};

extern const kt_schema_key_t kt_key_strat_state; //  strat:state
extern const kt_schema_key_t kt_key_strat_seq;   //  strat:seq:<id>-<yyMMdd>

#endif
