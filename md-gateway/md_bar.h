/*  md_bar - per-instrument 1-minute OHLCV bars and the day's VWAP, built from ticks.
 *
 *  Pure: no I/O, no clock of its own, no heap after md_bar_new, integers only. The
 *  caller registers its instruments, feeds every tick (time, last price, cumulative day
 *  volume) and moves the pipeline clock forward with md_bar_advance; bars come out
 *  through the callback given at creation. Rules (docs/md-gateway.md "Bars"):
 *
 *  - A bar is the minute [start, start + 60 s) of the tick's time (exchange time, or
 *    the receive time when the packet has none). A tick whose minute is already closed
 *    for its instrument (late) is folded into the bar still open.
 *  - A tick trades when it is the instrument's first of the day, its cumulative volume
 *    rose, or its price moved; only trading ticks shape OHLC and count in `ticks`.
 *  - Volume is the rise of the cumulative day volume; a drop (feed restart) gives 0 and
 *    becomes the new baseline. The first tick of the day counts its whole volume when it
 *    falls in the session's first minute or before, else it only sets the baseline
 *    (joining mid-day, the earlier volume belongs to no bar of ours).
 *  - VWAP = sum((h + l + c) x volume) / (3 x sum(volume)) over the day's bars, rounded
 *    half up to a paisa, 0 while the day has no volume.
 *  - A minute ends when the clock (or a later tick) passes it: BAR final=true exactly
 *    once per minute per instrument that has traded that day. A minute without a
 *    trading tick gives a flat bar at the last close (volume 0, ticks 0), but only
 *    inside the session window; an instrument that has not traded today gives none.
 *  - A new IST day resets VWAP, the volume baseline and the last close.
 *  - With partial_ns > 0, the open bar of every instrument that traded since the last
 *    partial is also published with final=false every partial_ns of pipeline time. */

#ifndef MD_BAR_H
#define MD_BAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt_msg.h"
#include "md_candle.h"

struct md_bar_cfg {
    size_t capacity;       //  instruments (>= 1)
    int64_t partial_ns;    //  0 = no partial bars
    int session_open_min;  //  IST minute of day of the first session minute (555)
    int session_close_min; //  IST minute of day the session ends (930 = 15:30)
};

typedef struct md_bar md_bar_t;

//  Receives each bar; bar is borrowed for the call. It must not call back into md_bar.
typedef void (md_bar_fn) (const struct kt_bar *bar, void *arg);

//  Create a builder for cfg->capacity instruments (all memory taken here). Returns an
//  owned builder, or NULL if cfg is invalid (capacity 0, negative partial_ns, session
//  window outside 0..1440 or empty). Aborts on OOM.
md_bar_t *md_bar_new (const struct md_bar_cfg *cfg, md_bar_fn *fn, void *arg);

//  Free. Safe on NULL; sets *self_p to NULL.
void md_bar_destroy (md_bar_t **self_p);

//  Register an instrument (sym copied, cut to KT_SYM_LEN - 1). Registering a token
//  again updates its symbol. Returns 0, or -1 if the table is full or sym is empty.
int md_bar_add (md_bar_t *self, uint32_t token, const char *sym);

//  Fold one tick: ts_ns its time, ltp in paise (> 0), volume the cumulative day
//  volume (0 when the packet has none). May emit the final bars of minutes the tick's
//  time has passed. Returns 0, or -1 if the token is not registered or ltp <= 0 (the
//  tick is ignored).
int md_bar_tick (md_bar_t *self, uint32_t token, int64_t ts_ns, int64_t ltp, int64_t volume);

//  Warm-up (after a start in the middle of the day): seed token from today's minute
//  candles c[0..n) (any order; see md_candle.h), before any of its ticks is fed. The
//  candles of minutes up to and including after_ns's minute (the last bar already
//  published) become the day's history - VWAP sums, last close, the volume already
//  traded - and are not published again; the minute after it becomes the open one,
//  empty (md_bar_candle and the ticks fill it). Later candles are not used here.
//  Returns the number of candles used as history, or -1 if the token is not registered
//  (0 and nothing changed when no candle of that day falls at or before after_ns: the
//  token's first candle or tick starts its day).
int md_bar_seed (md_bar_t *self, uint32_t token, const struct md_candle *c, size_t n,
                 int64_t after_ns);

//  Fold the complete candle of one minute into token, as if every trade of the minute
//  had come as a tick: it starts the token's day when idle (the candles cover the day
//  from its first trade, so nothing traded before is unaccounted), closes the minutes
//  before it (md_bar_advance does that for every token first when candles are fed
//  minute by minute), then sets open (if the minute had no data), high, low, close and
//  adds the volume, also to the volume already traded, so the ticks that follow add
//  only what is new. `ticks` is unchanged: a candle does not count them. Returns 0, or
//  -1 (unknown token, a minute already closed, a price <= 0 or volume < 0).
int md_bar_candle (md_bar_t *self, uint32_t token, const struct md_candle *c);

//  Move the pipeline clock to now_ns: emits the final bar of every minute that ended
//  at or before now_ns (flat bars included), then the partial bars that are due. Time
//  never goes back: an earlier now_ns is ignored.
void md_bar_advance (md_bar_t *self, int64_t now_ns);

//  Current day VWAP of token in paise (0 if none yet or unknown token).
int64_t md_bar_vwap (const md_bar_t *self, uint32_t token);

//  Counters: ticks refused (unknown token or bad price), late ticks folded into the
//  open bar, final bars emitted, partial bars emitted.
struct md_bar_stats {
    int64_t refused;
    int64_t late;
    int64_t finals;
    int64_t partials;
};
void md_bar_stats (const md_bar_t *self, struct md_bar_stats *out);

#endif
