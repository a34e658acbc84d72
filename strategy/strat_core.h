/*  strat_core - the strategy core: a pure library that turns market data and execution
 *  events into intents. No I/O, no clock, no allocation after strat_core_new.
 *
 *  The same core runs in the strategy process (live, paper, sim) and in the backtest.
 *  Time comes only from its inputs: a bar's minute, a tick's exchange time, the `now`
 *  given to on_timer. A strategy is one file that fills a struct strat_algo and one
 *  line in the registry of strat_core.c; `strategy.name` in the config picks it.
 *
 *  The calling contract (what the backtest and the process shell both do):
 *    - on_exec for every execution event of the strategy's orders, as it happens;
 *    - on_bar for every closed 1-minute bar, on_tick for every tick;
 *    - on_timer(now) once all bars closing at or before `now` were given (the backtest
 *      calls it at each minute's close; the process after the bar flush);
 *    - intents are appended to a struct strat_out the caller owns and clears; the
 *      caller answers each (approved, refused, filled) with on_exec events.
 *  Entries are identified by a strategy-local order id (> 0); a position keeps the id
 *  of the entry that opened it. Prices are paise on the instrument's tick, quantities
 *  units, times ns since the epoch. */

#ifndef STRAT_CORE_H
#define STRAT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"

// ---- parameters (the "strategy" config section; strat_cfg.c) ----------------------

//  Every number of baseline_v1 (../docs/strategy.md), plus the probe strategy's one.
struct strat_params {
    int64_t swing_k;            //  bars each side of a swing low (2)
    int64_t swing_min;          //  paise: static filter, lowest swing low (Rs 100)
    int64_t swing_max;          //  paise: highest swing low (Rs 300)
    int64_t sl_buffer;          //  paise added to the highest high (0)
    int64_t vwap_premium_bps;   //  (swing - vwap) / vwap at least this (400 = 4%)
    int64_t sl_pct_min_bps;     //  sl_points / swing at least this (200)
    int64_t sl_pct_max_bps;     //  and at most this (1000)
    int64_t r_value;            //  paise risked per position (Rs 6,500)
    int64_t max_lots;           //  lot cap per entry (10)
    int64_t target_sl_points;   //  paise: best candidate has sl_points nearest this (Rs 10)
    int64_t entry_buffer_ticks; //  limit = trigger - this many ticks (2)
    int64_t stop_buffer_ticks;  //  stop limit = sl_price + this many ticks (2)
    int64_t max_open;           //  open positions + other type's pending entry (5)
    int64_t max_per_type;       //  open positions per option type (3)
    int64_t day_target_r;       //  cumulative R >= this: flatten (5)
    int64_t day_loss_r;         //  cumulative R <= -this: flatten (5)
    char day_start[6];          //  "09:15" IST: daily reset
    char entry_cutoff[6];       //  "15:00" IST: no entries when minute close >= this
    char flatten_at[6];         //  "15:15" IST: flatten when minute close >= this
    char underlying[16];        //  option name ("NIFTY")
    int64_t index_token;        //  index whose first open of the day sets ATM (256265)
    int64_t strike_step;        //  paise: ATM rounding (Rs 50)
    int64_t strikes_each_side;  //  universe: ATM +/- this many steps (10)
    int64_t probe_every;        //  probe strategy: an entry every this many ticks (0 = off)
};

// ---- inputs -----------------------------------------------------------------------

//  One closed 1-minute bar. ts is the minute's start; the bar closes at ts + 1 minute.
struct strat_bar {
    uint32_t token;
    int64_t ts;
    int64_t open, high, low, close;
    int64_t volume; //  units traded in the minute
};

//  One tick (exchange time).
struct strat_tick {
    uint32_t token;
    int64_t ts;
    int64_t ltp;
    int64_t volume; //  cumulative day volume
};

typedef enum {
    STRAT_EV_NONE = 0,
    STRAT_EV_ENTRY_FILL, //  entry order_id filled qty at px: a position opens
    STRAT_EV_STOP_FILL,  //  the stop of position order_id filled at px
    STRAT_EV_EXIT_FILL,  //  position order_id bought back at px (flatten)
    STRAT_EV_CANCELLED,  //  entry order_id is gone (cancelled, expired)
    STRAT_EV_REJECTED,   //  intent on entry order_id refused (risk or broker)
    STRAT_EV_REDUCED     //  PLACE / MODIFY of order_id approved for qty only
} strat_ev_t;

struct strat_exec {
    strat_ev_t kind;
    uint32_t order_id;
    uint32_t token;
    int64_t ts;  //  time of the fill (minute start in bar mode)
    int64_t qty; //  units
    int64_t px;  //  paise
};

// ---- outputs ----------------------------------------------------------------------

typedef enum {
    STRAT_I_NONE = 0,
    STRAT_I_PLACE,  //  new entry: SELL SL trigger/price, attached stop sl_price
    STRAT_I_MODIFY, //  entry order_id gets trigger, price, qty, sl_price (fresh)
    STRAT_I_CANCEL, //  cancel entry order_id
    STRAT_I_FLATTEN //  cancel every entry and stop, buy back every position
} strat_ikind_t;

typedef enum {
    STRAT_WHY_NONE = 0,
    STRAT_WHY_BEST,         //  PLACE / MODIFY: the type's best candidate
    STRAT_WHY_REPLACED,     //  CANCEL: another instrument is now best
    STRAT_WHY_NO_CANDIDATE, //  CANCEL: nothing of this type qualifies
    STRAT_WHY_LIMIT,        //  CANCEL: a position limit is reached
    STRAT_WHY_CUTOFF,       //  CANCEL: the entry cut-off
    STRAT_WHY_TARGET_DAY,   //  FLATTEN: cumulative R >= target
    STRAT_WHY_LOSS_DAY,     //  FLATTEN: cumulative R <= -loss
    STRAT_WHY_TIME,         //  FLATTEN: the day's flatten time
    STRAT_WHY_PROBE         //  PLACE by the probe strategy
} strat_why_t;

struct strat_intent {
    strat_ikind_t kind;
    strat_why_t why;
    uint32_t order_id; //  entry the intent is about (0 for FLATTEN)
    uint32_t token;
    kt_itype_t itype;           //  KT_ITYPE_CE / KT_ITYPE_PE
    kt_side_t side;             //  SELL for baseline_v1 entries
    kt_order_type_t order_type; //  SL for baseline_v1 entries
    int64_t qty;                //  units
    int64_t trigger;            //  paise
    int64_t price;              //  paise: the limit
    int64_t sl_price;           //  paise: attached stop trigger
    int64_t stop_price;         //  paise: attached stop limit
    int64_t swing_low;          //  paise: the candidate's low
    int64_t r_value;            //  paise at risk: (sl_price - swing_low) x qty
    int64_t ts;                 //  decision time
};

#define STRAT_OUT_MAX 64

//  The intents of one call; the caller clears n before each call (or between batches).
struct strat_out {
    int n;
    bool overflow; //  an intent did not fit (a bug: sized for the worst case)
    struct strat_intent v[STRAT_OUT_MAX];
};

//  Append an intent. Returns a pointer to the zeroed slot, or NULL (overflow set) if full.
struct strat_intent *strat_out_push (struct strat_out *out);

// ---- the interface a strategy implements ------------------------------------------

struct strat_algo {
    const char *name; //  "baseline_v1": the value of strategy.name
    //  Bytes of the strategy's state for these params (allocated by strat_core_new).
    size_t (*size) (const struct strat_params *p);
    //  Set up state (zeroed memory of size()). Returns 0, or -1 with the reason in err.
    int (*init) (void *self, const struct strat_params *p, const kt_instr_table_t *instr, char *err,
                 size_t errlen);
    void (*on_bar) (void *self, const struct strat_bar *bar, struct strat_out *out);
    void (*on_tick) (void *self, const struct strat_tick *tick, struct strat_out *out);
    void (*on_exec) (void *self, const struct strat_exec *ev, struct strat_out *out);
    void (*on_timer) (void *self, int64_t now, struct strat_out *out);
};

extern const struct strat_algo strat_base_algo;  //  baseline_v1 (strat_base.c)
extern const struct strat_algo strat_probe_algo; //  probe (strat_probe.c)

typedef struct strat_core strat_core_t;

//  The registered strategy called name, or NULL.
const struct strat_algo *strat_core_find (const char *name);

//  A strategy instance: finds name, allocates its state and inits it. p and instr are
//  borrowed and must outlive the instance. Returns an owned core, or NULL with the reason
//  in err (unknown name, bad parameter, instruments without the index).
strat_core_t *strat_core_new (const char *name, const struct strat_params *p,
                              const kt_instr_table_t *instr, char *err, size_t errlen);

//  The same for an algorithm outside the registry (tests, tools). algo is borrowed
//  and must outlive the instance.
strat_core_t *strat_core_new_algo (const struct strat_algo *algo, const struct strat_params *p,
                                   const kt_instr_table_t *instr, char *err, size_t errlen);

//  Free. Safe on NULL; sets *self_p to NULL.
void strat_core_destroy (strat_core_t **self_p);

//  The strategy's name. Borrowed.
const char *strat_core_name (const strat_core_t *self);

//  The algorithm's state (for strategy-specific views such as strat_base_view).
void *strat_core_state (strat_core_t *self);

//  Feed one input; intents are appended to out. Never fail: bad input is ignored.
void strat_core_bar (strat_core_t *self, const struct strat_bar *bar, struct strat_out *out);
void strat_core_tick (strat_core_t *self, const struct strat_tick *tick, struct strat_out *out);
void strat_core_exec (strat_core_t *self, const struct strat_exec *ev, struct strat_out *out);
void strat_core_timer (strat_core_t *self, int64_t now, struct strat_out *out);

//  The defaults of struct strat_params (the config table's defaults).
void strat_params_defaults (struct strat_params *p);

//  Minutes since IST midnight of "HH:MM", or -1.
int strat_hhmm_minutes (const char *hhmm);

//  The string of a why / an intent kind ("BEST", "PLACE").
const char *strat_why_str (strat_why_t why);
const char *strat_ikind_str (strat_ikind_t kind);

// ---- exact R multiples (strat_rmul.c) ---------------------------------------------

//  A rational number num/den, den > 0, kept reduced. R multiples are P&L / R at risk.
struct strat_rmul {
    __int128 num;
    __int128 den;
};

//  num / den reduced (den != 0). Returns the value.
struct strat_rmul strat_rmul_make (int64_t num, int64_t den);

//  a + b exactly, reduced. Sets *ok false (and returns a) on 128-bit overflow.
struct strat_rmul strat_rmul_add (struct strat_rmul a, struct strat_rmul b, bool *ok);

//  Compare a with the integer k: -1, 0, 1.
int strat_rmul_cmp_int (struct strat_rmul a, int64_t k);

//  Compare a with b: -1, 0, 1 (cross-multiplied in 128 bits after reduction; *ok false
//  on overflow).
int strat_rmul_cmp (struct strat_rmul a, struct strat_rmul b, bool *ok);

//  The value in units of 1e-4, rounded half away from zero ("-1.2346" -> -12346).
int64_t strat_rmul_e4 (struct strat_rmul a);

//  Format with 4 decimals ("-1.2346") into buf (>= 24 bytes). Returns buf.
char *strat_rmul_format (struct strat_rmul a, char *buf, size_t buflen);

//  A double, for statistics only (Sharpe, plots); never for decisions.
double strat_rmul_double (struct strat_rmul a);

#endif
