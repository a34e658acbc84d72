/*  bt - the backtest: the strategy core, the risk hook and a fill model in one process,
 *  at full speed, over recorded minute bars (docs/backtest.md).
 *
 *  The concepts, one file each:
 *    bt_bars    the bars CSV: header, rows, every check of backtest-bars.md "Input"
 *    bt_engine  bar mode: fills, bars, minute close, intents, trades (pure, no I/O)
 *    bt_stats   per-day and whole-run statistics from the trades (pure)
 *    bt_report  trades.csv, daily.csv, summary.json, report.txt, equity.svg
 *    bt_cfg     the "backtest" config section
 *  main.c parses argv and wires them. Money is int64 paise, time ns since the epoch. */

#ifndef BT_H
#define BT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "kt.h"
#include "kt_fill.h"
#include "../strategy/strat.h"
#include "../strategy/strat_core.h"
#include "../risk-gate/risk_cfg.h"

// ---- config (bt_cfg.c) ----------------------------------------------------------------

//  The strategy section first (its rows address it at offset 0), then "backtest". The
//  capital is the risk section's: a backtest runs with the account the live risk-gate
//  starts from the same file, and judges its drawdown against it.
struct bt_cfg {
    struct strat_cfg strat;
    int64_t golive_min_trades; //  go-live: at least this many trades
    double golive_pf;          //  go-live: profit factor above this
    double golive_sharpe;      //  go-live: daily Sharpe (annualised) above this
    int64_t golive_max_dd_bps; //  go-live: max drawdown below this share of capital
    struct risk_cfg risk;      //  the "risk" section: the limits of --risk on
};

#define BT_CFG_ROWS_MAX 192

//  The backtest's rows into out (max >= BT_CFG_ROWS_MAX): the strategy's rows, the
//  backtest's, risk-gate's (risk_cfg_table, defaults as deploy/config/sim.json), then
//  KT_CFG_END. Returns the number of rows before the end.
int bt_cfg_rows (kt_cfg_row_t *out, int max);

//  Every default of those rows into cfg.
void bt_cfg_defaults (struct bt_cfg *cfg);

// ---- CSV input files (bt_csv.c) -------------------------------------------------------

#define BT_CSV_COLS 16

typedef struct bt_csv bt_csv_t;

//  Read FILE whole and map its header: names[0..nnames) are the known columns, the first
//  nrequired must be present, any other column is an error ("unknown column"). Returns
//  an owned reader, or NULL with "FILE:LINE: reason" (or "FILE: errno text") in err.
bt_csv_t *bt_csv_open (const char *path, const char *const *names, int nnames, int nrequired,
                       char *err, size_t errlen);

//  Free. Safe on NULL; sets *self_p to NULL.
void bt_csv_destroy (bt_csv_t **self_p);

//  The next row (blank lines skipped). 1 = a row, 0 = end, -1 = wrong field count (err).
int bt_csv_next (bt_csv_t *self, char *err, size_t errlen);

//  Field of known column i in the current row (NULL when the column is absent), its
//  length in *len. Borrowed until the reader is freed.
const char *bt_csv_field (const bt_csv_t *self, int i, size_t *len);

//  Write "FILE:LINE: reason" into err. Returns -1.
int bt_csv_fail (const bt_csv_t *self, char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Field i as an instrument token of instr / a price (paise, > 0, at most 2 decimals, on
//  the instrument's tick). Return 0, or -1 with the reason in err.
int bt_csv_token (const bt_csv_t *self, int i, const kt_instr_table_t *instr,
                  const struct kt_instr **out, char *err, size_t errlen);
int bt_csv_price (const bt_csv_t *self, int i, const char *name, const struct kt_instr *in,
                  int64_t *px, char *err, size_t errlen);

//  Digits only (1..maxdigits of them) as an unsigned number. Returns 0 or -1.
int bt_csv_uint (const char *s, size_t n, int maxdigits, uint64_t *out);

//  Current line number, bytes read, file size.
int64_t bt_csv_line (const bt_csv_t *self);
size_t bt_csv_pos (const bt_csv_t *self);
size_t bt_csv_size (const bt_csv_t *self);

// ---- the bars file (bt_bars.c) -------------------------------------------------------

typedef struct bt_bars bt_bars_t;

//  Open and read FILE whole; check the header. Returns an owned reader, or NULL with
//  "FILE:LINE: reason" in err.
bt_bars_t *bt_bars_open (const char *path, const kt_instr_table_t *instr, char *err, size_t errlen);

//  Free. Safe on NULL; sets *self_p to NULL.
void bt_bars_destroy (bt_bars_t **self_p);

//  The next minute: every row of the next timestamp, in file order (token order), into
//  out (at most max rows). Returns the number of rows (> 0), 0 at the end of the file,
//  or -1 with "FILE:LINE: reason" in err (bad price, off tick, high < low, unsorted,
//  unknown token, too many rows in a minute, ...).
int bt_bars_next (bt_bars_t *self, struct strat_bar *out, int max, char *err, size_t errlen);

//  Parse a timestamp "2026-11-23T09:15:00+0530" (a space for the T, "+05:30" and "Z"
//  accepted; with minute false also a fraction "09:15:00.25+0530"). With minute true
//  the seconds must be 00. Returns 0 with ns since the epoch in *out, or -1 with a
//  static reason in *why.
int bt_parse_ts (const char *s, size_t n, bool minute, int64_t *out, const char **why);

//  The underlying reader (progress: bt_csv_pos, bt_csv_size). Borrowed.
const bt_csv_t *bt_bars_csv (const bt_bars_t *self);

// ---- the tick file (bt_ticks.c) -----------------------------------------------------

struct bt_tick;
typedef struct bt_ticks bt_ticks_t;

//  Open a tick CSV (docs/backtest.md "Tick file") and check its header. Returns an
//  owned reader, or NULL with "FILE:LINE: reason" in err.
bt_ticks_t *bt_ticks_open (const char *path, const kt_instr_table_t *instr, char *err,
                           size_t errlen);

//  Free. Safe on NULL; sets *self_p to NULL.
void bt_ticks_destroy (bt_ticks_t **self_p);

//  The next row as a quote in *out (out->q is borrowed until the next call). Returns 1,
//  0 at the end, or -1 with "FILE:LINE: reason" (bad timestamp, out of order, unknown
//  token, price off tick, bad quantity, half a depth level).
int bt_ticks_next (bt_ticks_t *self, struct bt_tick *out, char *err, size_t errlen);

//  The underlying reader (progress: bt_csv_pos, bt_csv_size). Borrowed.
const bt_csv_t *bt_ticks_csv (const bt_ticks_t *self);

// ---- the risk hook -------------------------------------------------------------------

struct bt_verdict {
    kt_verdict_t verdict;   //  APPROVE, REDUCE (qty), BLOCK, HALT
    int64_t qty;            //  approved quantity (REDUCE)
    char code[KT_CODE_LEN]; //  reason code when not APPROVE (the HALT's, or the first)
    char text[KT_TEXT_LEN]; //  its reason text ("" when none)
    bool halted_now;        //  this decision (or breaker) switched trading to HALTED:
                            //  every pending entry is cancelled
    bool flatten;           //  ... and every position bought back (flatten_on_halt)
};

struct bt_engine;

//  Decide one intent with the engine's book as the account (positions, entries, last
//  prices: bt_engine_* accessors). Fills *out; the default is APPROVE.
typedef void (bt_risk_fn) (void *arg, const struct bt_engine *book, const struct strat_intent *in,
                           struct bt_verdict *out);

//  Watch the engine's book change: ev is each event the engine tells the strategy
//  (fills, exits, cancels, rejections, reductions; told first, at ts = its minute;
//  halt NULL), or NULL at each minute's close (ts = the close), after the minute's
//  fills and bars and before the strategy decides on it. At a close the watcher may
//  halt trading: *halt (APPROVE on entry) set to HALT with halted_now, its code and
//  text; the engine lists it (kind NONE) and applies it as for a decision.
typedef void (bt_watch_fn) (void *arg, const struct bt_engine *book, const struct strat_exec *ev,
                            int64_t ts, struct bt_verdict *halt);

// ---- --risk on (bt_risk.c) -------------------------------------------------------------

typedef struct bt_risk bt_risk_t;
struct risk_view;

//  risk-gate's checks over an account held in memory, with the limits cfg (copied):
//  ACTIVE, session valid, capital = cfg->capital. Returns an owned hook.
bt_risk_t *bt_risk_new (const struct risk_cfg *cfg);

//  Free. Safe on NULL; sets *self_p to NULL.
void bt_risk_destroy (bt_risk_t **self_p);

//  Follow eng's book (bt_engine_watch): create the engine with bt_risk_decide and this
//  hook as its risk function, then attach.
void bt_risk_attach (bt_risk_t *self, struct bt_engine *eng);

//  The risk function (bt_risk_fn; arg is the bt_risk_t): intent -> kt_intent as the
//  strategy process sends it, risk_check_intent at the intent's time with the
//  instrument's last price and its time (the close of its last bar in bar mode), then
//  risk_reserve_build onto the account. Fills *out with the verdict, the approved
//  quantity and the deciding reason (the HALT's, else the first).
void bt_risk_decide (void *arg, const struct bt_engine *book, const struct strat_intent *in,
                     struct bt_verdict *out);

//  The watch function (bt_watch_fn; arg is the bt_risk_t): fills, exits, cancels and
//  rejections onto the account as the book and risk-gate's settle apply them; each minute's
//  close a P&L mark and the breakers (risk_breaker_eval, as risk-gate's poll runs
//  them), which may halt trading (*halt); a new IST date the daily roll.
void bt_risk_watch (void *arg, const struct bt_engine *book, const struct strat_exec *ev,
                    int64_t ts, struct bt_verdict *halt);

//  The account as it stands. Borrowed.
const struct risk_view *bt_risk_view (const bt_risk_t *self);

// ---- the engine (bt_engine.c) ---------------------------------------------------------

typedef enum {
    BT_EXIT_NONE = 0,
    BT_EXIT_STOP,
    BT_EXIT_TARGET_DAY,
    BT_EXIT_LOSS_DAY,
    BT_EXIT_TIME,
    BT_EXIT_HALT //  trading halted with risk.flatten_on_halt
} bt_exit_t;

//  One round trip. Tick mode fills in parts: the prices are averages to the paisa (half
//  up, for display); P&L comes from the exact values.
struct bt_trade {
    uint32_t order_id;
    const struct kt_instr *in; //  borrowed from the instruments table
    int64_t qty;               //  units sold
    int64_t entry_ts, entry_px;
    int64_t exit_ts, exit_px; //  the last exit's minute; exit_ts 0 before any exit
    int64_t sl_price, swing_low;
    int64_t r_at_risk;   //  paise: (sl_price - swing_low) x qty
    int64_t entry_value; //  sum of px x qty sold
    int64_t exited;      //  units bought back
    int64_t exit_value;  //  sum of px x qty bought back
    bt_exit_t reason;    //  of the last exit
    bool closed;         //  everything bought back and the entry order gone
};

//  A risk decision other than APPROVE, for the report.
struct bt_refusal {
    int64_t ts;
    strat_ikind_t kind;
    const struct kt_instr *in; //  borrowed; NULL for FLATTEN
    int64_t qty;
    struct bt_verdict v;
};

typedef struct bt_engine bt_engine_t;

//  A bar-mode engine over core (borrowed) and instr (borrowed). risk may be NULL
//  (--risk off: every intent approved). core and instr may be NULL until a
//  bt_engine_rebind (synthetic runs). Returns an owned engine.
bt_engine_t *bt_engine_new (strat_core_t *core, const kt_instr_table_t *instr, bt_risk_fn *risk,
                            void *risk_arg);

//  Call fn (arg borrowed) for every change of the book (bt_watch_fn); NULL stops it.
void bt_engine_watch (bt_engine_t *self, bt_watch_fn *fn, void *arg);

//  Close the day (bt_engine_end_day) and go on with another strategy instance and
//  instruments table (both borrowed): a synthetic run lists new instruments every day.
//  Trades so far keep pointing into the old table, which must outlive the engine.
void bt_engine_rebind (bt_engine_t *self, strat_core_t *core, const kt_instr_table_t *instr);

//  Free. Safe on NULL; sets *self_p to NULL.
void bt_engine_destroy (bt_engine_t **self_p);

//  Run one minute: bars are every row of that minute (same ts, token order). Fills,
//  bars, the minute's close and the decided intents, in backtest-bars.md's order. A new
//  IST date first closes the previous day (bt_engine_end_day). Returns 0, or -1 if the
//  strategy's output overflowed (a bug).
int bt_engine_minute (bt_engine_t *self, const struct strat_bar *bars, int n);

//  One quote of tick mode: an update of token at ts (ns). q is the fill model's view of
//  it (last price, the trade's quantity, tick, depth); trade says it printed a trade at
//  ltp for qty units (it then joins the minute bar; an index's move counts as one).
struct bt_tick {
    uint32_t token;
    int64_t ts;
    int64_t ltp;
    int64_t qty;
    bool trade;
    const struct kt_fill_quote *q; //  borrowed; NULL or tick 0 = nothing can fill
};

//  Run one quote in tick mode: fills of the live orders through kt_fill (parts allowed;
//  a stop is live from the quote after its entry's fill), then the trade into the minute
//  bar. The first quote of a later minute first closes the minute (bars to the strategy,
//  then the close and its intents); a new IST date first ends the day. Quotes must come
//  in time order. Returns 0, or -1 if the strategy's output overflowed.
int bt_engine_tick (bt_engine_t *self, const struct bt_tick *tk);

//  Close the day: positions still open are bought back at their last close at the
//  day's last minute (reason TIME), entries are cancelled. Called by bt_engine_minute
//  on a new date and by the caller after the last minute.
void bt_engine_end_day (bt_engine_t *self);

//  Trades so far (open ones have exit_ts 0), in the order they were entered. Borrowed.
const struct bt_trade *bt_engine_trades (const bt_engine_t *self, size_t *n);

//  Risk refusals so far. Borrowed.
const struct bt_refusal *bt_engine_refusals (const bt_engine_t *self, size_t *n);

//  Trading days seen (YYYYMMDD), in order. Borrowed.
const int32_t *bt_engine_days (const bt_engine_t *self, size_t *n);

//  Minutes, bars and quotes (tick mode) processed.
int64_t bt_engine_minutes (const bt_engine_t *self);
int64_t bt_engine_bars (const bt_engine_t *self);
int64_t bt_engine_ticks (const bt_engine_t *self);

//  The book, for a risk function: open positions (trades not closed) and pending
//  entries (as strat_intents), the last close of a token (0 if none).
int bt_engine_open_count (const bt_engine_t *self);
int bt_engine_entries (const bt_engine_t *self, const struct strat_intent **out);
int64_t bt_engine_last_close (const bt_engine_t *self, uint32_t token);

//  The time of that last price (ns): bar mode the close of its last bar (bar ts + 1
//  minute), tick mode the token's last quote (as a live tick refreshes it); 0 if none.
int64_t bt_engine_last_ts (const bt_engine_t *self, uint32_t token);

//  While the risk function decides a PLACE that replaces a pending entry (the strategy's
//  CANCEL of it and this PLACE, same option type, one decision): that entry's order id;
//  else 0.
uint32_t bt_engine_replaces (const bt_engine_t *self);

//  True when intents go through a risk function (--risk on).
bool bt_engine_has_risk (const bt_engine_t *self);

//  The instruments table the engine runs on now (may be NULL). Borrowed.
const kt_instr_table_t *bt_engine_instr (const bt_engine_t *self);

//  "STOP", "TARGET_DAY", ...
const char *bt_exit_str (bt_exit_t reason);

// ---- synthetic market (bt_synth.c) -------------------------------------------------

struct bt_synth_cfg {
    uint64_t seed;
    int32_t from;          //  YYYYMMDD: the first day (weekdays only are traded)
    int days;              //  trading days, 1..BT_SYNTH_DAYS_MAX
    int strikes_each_side; //  listed strikes each side of ATM
    int64_t lot;           //  NIFTY lot (units)
    bool ticks;            //  tick mode (quotes through kt_fill) or bar mode (candles)
};

#define BT_SYNTH_DAYS_MAX 250

typedef struct bt_synth bt_synth_t;

//  Progress callback: day i of n done.
typedef void (bt_synth_progress_fn) (void *arg, int i, int n);

//  Run the strategy named in cfg over kite-sim's synthetic market (sim/sim_market.c as
//  a library, no kite-sim process): for each trading day a market of (seed, date), a
//  fresh strategy instance over that day's instruments, the engine rebound to both, and
//  either every quote through bt_engine_tick (ticks) or the day's minute candles
//  through bt_engine_minute (bar mode). Returns an owned run (it keeps the days'
//  markets and strategies, which the engine's trades point into), or NULL with the
//  reason in err.
bt_synth_t *bt_synth_run (const struct bt_synth_cfg *sc, const struct strat_cfg *cfg,
                          bt_engine_t *eng, bt_synth_progress_fn *progress, void *arg, char *err,
                          size_t errlen);

//  Ticks generated over the run.
int64_t bt_synth_ticks (const bt_synth_t *self);

//  Free (after the engine's trades are no longer used). Safe on NULL.
void bt_synth_destroy (bt_synth_t **self_p);

//  The next weekday on or after yyyymmdd (YYYYMMDD).
int32_t bt_synth_weekday (int32_t yyyymmdd);

// ---- statistics (bt_stats.c) -------------------------------------------------------

struct bt_day {
    int32_t date; //  YYYYMMDD
    int trades, wins, losses;
    int64_t pnl;         //  paise
    struct strat_rmul r; //  sum of the day's R multiples (exact)
    bool r_ok;           //  false if the exact sum overflowed
};

struct bt_stats {
    int trades, wins, losses;
    int64_t gross_win, gross_loss; //  paise (gross_loss >= 0)
    int64_t pnl;
    double pf;           //  gross win / gross loss (INFINITY when no loss)
    double expectancy_r; //  mean R multiple
    double total_r;
    double max_dd_r;         //  peak-to-trough of cumulative R by trade, >= 0
    int64_t max_dd;          //  paise, same on cumulative P&L
    double sharpe;           //  mean / sample stdev of daily P&L x sqrt(252)
    int best_day, worst_day; //  indexes into days, -1 if none
    int ndays;
    struct bt_day *days;        //  owned
    int *order;                 //  owned: indexes into src sorted by entry time, symbol
    const struct bt_trade *src; //  borrowed: the trades given to bt_stats_compute
};

//  Statistics of n closed trades over the given trading days. Returns 0, fills *out
//  (free with bt_stats_free).
int bt_stats_compute (const struct bt_trade *trades, size_t n, const int32_t *days, size_t ndays,
                      struct bt_stats *out);

void bt_stats_free (struct bt_stats *st);

//  A trade's P&L (paise) and R multiple.
int64_t bt_trade_pnl (const struct bt_trade *t);
struct strat_rmul bt_trade_r (const struct bt_trade *t);

// ---- outputs (bt_report.c) ---------------------------------------------------------

//  Timestamp of a minute as the bars file writes it ("2026-11-23T09:15:00+0530").
char *bt_format_ts (int64_t ts, char *buf, size_t buflen);

//  Write trades.csv, daily.csv, summary.json, report.txt and equity.svg into dir
//  (created if missing) and print the report to out (may be NULL). The trades are st's
//  (st->src); eng gives the run's counts and risk refusals. Returns 0, or -1
//  with the reason (file and errno text) in err.
int bt_report_write (const char *dir, const struct bt_cfg *cfg, const bt_engine_t *eng,
                     const struct bt_stats *st, FILE *out, char *err, size_t errlen);

#endif
