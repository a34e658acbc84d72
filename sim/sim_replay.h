/*  sim_replay - kite-sim's replay file: a CSV of ticks or of minute bars for one
 *  session, parsed into one time-ordered list of ticks.
 *
 *  Used by sim_market instead of (or beside) the synthetic generator. Two formats, told
 *  apart by the header (docs/kite-sim.md "Replay format"):
 *      ts,token,ltp,volume                      ticks; volume = cumulative day volume
 *      ts,token,open,high,low,close,volume      minute bars; volume = the bar's volume
 *  The second column may be named token / instrument_token (a number) or tradingsymbol /
 *  symbol (a name such as "NIFTY 50" or "NIFTY25N2524000CE"). ts is IST:
 *  "YYYY-MM-DD HH:MM:SS[.fraction]" or Kite's historical "YYYY-MM-DDTHH:MM:SS+0530".
 *  A bar becomes four ticks: open at +0 s, then low and high (high first when the bar
 *  closed below its open) at +15 s and +30 s, close at +45 s, its volume split evenly
 *  (remainder on the close). Rows are in time order, all on one date, inside
 *  09:15-15:30. Any violation is an error naming the line; nothing is half-loaded. */

#ifndef SIM_REPLAY_H
#define SIM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"

struct sim_replay_tick {
    int64_t ts_ns;
    char key[KT_SYM_LEN]; //  the second column as written (token digits or symbol)
    uint32_t token;       //  when the column is a token, else 0
    int64_t ltp;          //  paise, exactly as written (not rounded to a tick)
    int64_t volume;       //  tick files: cumulative day volume; bars: this tick's share
    int line;             //  1-based line of the row in the file
};

struct sim_replay {
    struct sim_replay_tick *ticks; //  owned; sorted by ts_ns, file order on ties
    size_t count;
    bool bars;    //  the file held minute bars
    int32_t date; //  YYYYMMDD (IST) of every row
};

//  Parse CSV text of len bytes. Returns an owned replay, or NULL with the reason
//  ("line 7: ...") in err. An empty file (header only) is an error: nothing to replay.
struct sim_replay *sim_replay_parse (const char *text, size_t len, char *err, size_t errlen);

//  Read and parse a file; the reason names the file.
struct sim_replay *sim_replay_load (const char *path, char *err, size_t errlen);

//  Free. Safe on NULL; sets *self_p to NULL.
void sim_replay_destroy (struct sim_replay **self_p);

#endif
