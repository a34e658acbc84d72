/*  sim_market - kite-sim's market: the listed instruments (NIFTY 50 and the nearest
 *  weekly expiry's options around the money) and their tick stream, synthetic from a
 *  seed or replayed from a file, with minute candles.
 *
 *  Private to kite-sim: sim_venue drives it (one tick at a time, in time order) and
 *  matches orders against the quotes it makes. The stream is a pure function of
 *  (seed, date, strikes, lot, replay file): same inputs, same ticks bit for bit, however
 *  the caller slices time. Every emitted price is integer paise on the 0.05 tick
 *  (the index too). The model is described in docs/kite-sim.md "Market".
 *
 *  Design overview: one slot per instrument (index 0 = NIFTY 50, then CE/PE pairs by
 *  strike) holding its quote, its PRNG stream, its next event time and 375 minute
 *  candles; the next event is the earliest slot (ties: lower slot first), so no heap
 *  and no allocation after sim_market_new. Each slot has its own xoshiro256** stream
 *  seeded from (seed, date, slot identity): an option's path does not depend on how
 *  many other strikes are listed. */

#ifndef SIM_MARKET_H
#define SIM_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"
#include "sim_venue.h"

#define SIM_MARKET_MINUTES 375         //  09:15 .. 15:29
#define SIM_MARKET_MAX_STRIKES 100     //  strikes_each_side cap
#define SIM_STRIKE_STEP 5000           //  NIFTY strike step, paise (Rs 50)
#define SIM_EXCHANGE_TOKEN_BASE 35000u //  first option exchange_token

struct sim_market_cfg {
    uint64_t seed;
    int32_t date;            //  YYYYMMDD (a weekend rolls to Monday when synthetic); 0
                             //  with a replay file = the file's date
    const char *replay_path; //  NULL = synthetic
    int strikes_each_side;   //  1..SIM_MARKET_MAX_STRIKES
    int64_t lot;             //  NIFTY lot size (units)
};

typedef struct sim_market sim_market_t;

//  Build the instruments and the opening state. Returns an owned market, or NULL with
//  the reason in err (bad date, bad lot or strikes, unreadable or invalid replay file:
//  the reason names the line).
sim_market_t *sim_market_new (const struct sim_market_cfg *cfg, char *err, size_t errlen);

//  Free. Safe on NULL; sets *self_p to NULL.
void sim_market_destroy (sim_market_t **self_p);

//  The instruments table (parsed from the CSV the market generated). Borrowed.
const kt_instr_table_t *sim_market_instruments (const sim_market_t *self);

//  Session date (YYYYMMDD), options expiry (YYYYMMDD), open (09:15) and close (15:30)
//  of the session in ns.
int32_t sim_market_date (const sim_market_t *self);
int32_t sim_market_expiry (const sim_market_t *self);
int64_t sim_market_open_ns (const sim_market_t *self);
int64_t sim_market_close_ns (const sim_market_t *self);

//  Number of instruments (slots); slot of a token, or -1; instrument and quote of a
//  slot (borrowed). Slot i is row i of the instruments table.
size_t sim_market_count (const sim_market_t *self);
int sim_market_slot (const sim_market_t *self, uint32_t token);
const struct kt_instr *sim_market_instr (const sim_market_t *self, int slot);
const struct sim_quote *sim_market_quote (const sim_market_t *self, int slot);

//  Last NIFTY 50 value in paise (the previous close before the first tick).
int64_t sim_market_spot (const sim_market_t *self);

//  Time of the next tick, or INT64_MAX when the session's stream is over.
int64_t sim_market_next_ns (const sim_market_t *self);

//  Make the next tick: updates that slot's quote and candles. Returns the slot, with
//  *trade_qty = the units traded by this tick (0 for a quote-only update), or -1 when
//  the stream is over. Replay rows whose volume goes down are treated as a new day
//  total (trade_qty 0) rather than failing mid-session (the parser has checked them).
int sim_market_step (sim_market_t *self, int64_t *trade_qty);

//  Minute candles of a slot whose start is within [from_ns, to_ns], oldest first,
//  including the minute in progress; minutes without trades have no candle. Writes at
//  most max; returns the count.
int sim_market_candles (const sim_market_t *self, int slot, int64_t from_ns, int64_t to_ns,
                        struct sim_candle *out, int max);

//  The tradingsymbol of a NIFTY option (Kite's weekly or monthly form, kite-protocol.md
//  7.2) into buf. Returns 0, or -1 if buf is too small or the date is invalid.
int sim_market_symbol (int32_t expiry, int64_t strike, bool call, char *buf, size_t buflen);

//  The session date kite-sim trades for a requested date: the date itself on a weekday,
//  the next Monday for a Saturday or Sunday (exchange holidays are not modelled), or 0 if
//  the date is invalid. sim_market_new applies it to synthetic markets.
int32_t sim_market_trading_day (int32_t date);

//  Nearest Tuesday on or after date (YYYYMMDD), or 0 if the date is invalid.
int32_t sim_market_expiry_for (int32_t date);

#endif
