/*  strat_warm - start-up of the strategy process: warm-up from today's candles and
 *  recovery of its orders, before any intent is sent.
 *
 *  A strategy that starts after the day's first minute must see the day as it was:
 *  ATM comes from the index's first bar, swings and VWAP from every bar since. The
 *  warm-up fetches today's 1-minute candles (Kite's historical endpoint over kt_http, at
 *  most 3 requests/s, never blocking the loop): the index first, which gives the day's
 *  universe, then each option of it. It replays them through the core minute by minute
 *  (on_bar ..., on_timer) exactly as the live shell would have; live bars that arrive
 *  meanwhile are kept and follow the replay.
 *
 *  Recovery matches the replay with the book (kt_book: open orders and positions whose
 *  coid carries this strategy's id): the replay's n-th PLACE on an instrument is the
 *  book's n-th entry of ours on it (oldest first). A matched position is given to the
 *  core as the fill of that PLACE; a matched open entry keeps its coid (a later MODIFY
 *  or CANCEL refers to it). When the replay is over, what the core wants now is made
 *  true with the fewest intents: an entry it wants and the book has is kept (MODIFYed
 *  if its numbers differ), one the book lacks is PLACEd, one the book has and the core
 *  no longer wants is CANCELled. So no entry is placed twice. */

#ifndef STRAT_WARM_H
#define STRAT_WARM_H

#include "strat.h"

typedef struct strat_warm strat_warm_t;

//  Start the warm-up of strategy s (fetches run on s's loop). Returns an owned warm-up,
//  or NULL when there is nothing to do (the strategy does not use bars): the caller
//  then goes live at once.
strat_warm_t *strat_warm_new (strat_t *s);

//  Free (cancels pending fetches). Safe on NULL; sets *self_p to NULL.
void strat_warm_destroy (strat_warm_t **self_p);

//  An intent of the core during the replay (recorded, never sent as such).
void strat_warm_intent (strat_warm_t *self, const struct strat_intent *it);

//  A final bar from `md` during the warm-up: kept, given after the replay.
void strat_warm_live_bar (strat_warm_t *self, const struct strat_bar *bar);

//  An execution event of ours during the warm-up (the book read at the end has it).
void strat_warm_exec (strat_warm_t *self, const struct kt_exec_event *ev);

//  Parse a Kite historical response (data.candles: [ts, o, h, l, c, volume(, oi)]) of
//  token into bars (prices exact to the paisa, never through floating point). Writes at
//  most max bars and returns how many, or -1 with the reason in err.
int strat_warm_parse (const char *body, size_t len, uint32_t token, struct strat_bar *bars, int max,
                      char *err, size_t errlen);

//  One entry of md-gateway's md:bars:<token> stream - its n field/value strings kv[0..n)
//  (name, value, name, value, ...; lengths in kvlen), the fields kt_key_md_bars declares,
//  paise and ns as decimal text - as a bar of token. Returns 0, or -1 (start_ns, o, h, l,
//  c or volume missing, not an integer, a bar that cannot be).
int strat_warm_parse_md_bar (const char *const *kv, const size_t *kvlen, size_t n, uint32_t token,
                             struct strat_bar *out);

//  The day's options as the core picks them: ATM = index_open rounded half up to the
//  strike step, nearest expiry on or after day, strikes ATM +/- n steps, CE and PE.
//  Writes at most max tokens and returns how many.
int strat_warm_universe (const kt_instr_table_t *instr, const struct strat_params *p, int32_t day,
                         int64_t index_open, uint32_t *tokens, int max);

// ---- the shell's side (strat.c) -------------------------------------------------------

kt_proc_t *strat_proc (strat_t *s);
const struct strat_cfg *strat_cfg_of (strat_t *s);
const kt_instr_table_t *strat_instr (strat_t *s);
strat_core_t *strat_core_of (strat_t *s);
struct strat_map *strat_map_of (strat_t *s);
struct strat_out *strat_out_of (strat_t *s);

//  Give one bar to the core as the live shell does (closing the previous minute first).
void strat_feed_bar (strat_t *s, const struct strat_bar *b);

//  Close the minute being filled (on_timer of its close).
void strat_feed_close (strat_t *s);

//  The warm-up is over: destroys it, sends todo (the intents that make the book what
//  the core wants) and goes live.
void strat_warm_done (strat_t *s, const struct strat_intent *todo, int ntodo);

#endif
