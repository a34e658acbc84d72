/*  risk - risk-gate's private header: config, the account view, the pure rule
 *  check, the atomic reservation (Lua), trading state, breakers, P&L and the process.
 *
 *  risk-gate is the single door to the broker: every ORDER_INTENT is checked here and
 *  only approved ones become ORDER_COMMANDs. The concepts, one file each:
 *    risk_cfg      the "risk" config section (every limit of risk-rules.md)
 *    risk_check    the rule table: check(view, limits, intent, market) -> verdict (pure)
 *    risk_breaker  the HALT rules (loss limits, rejects, kill, session), also run on a timer
 *    risk_pnl      realised/unrealised P&L, day/week/hour windows on exchange time (pure)
 *    risk_view     the account as read from Redis (one Lua snapshot) -> struct risk_view
 *    risk_capital  the Lua scripts: decide (check + reserve), apply an EXEC_EVENT
 *    risk_state    ACTIVE / REDUCING / HALTED in Redis: start-up, halt, activate, roll, marks
 *    risk_prices   last traded price per symbol from `md` (in memory, no heap per tick)
 *    risk_core     the engine: the above over one store, no sockets (tests run two of them)
 *    risk_reply    RISK_DECISION / ORDER_COMMAND / RISK_STATE messages from results
 *    risk          the process: sockets, timers, alerts around one core
 *  Money is int64 paise, time int64 ns (pipeline clock), percentages basis points.
 *  docs/risk-gate.md holds the decisions (key layout, Lua contract, state machine). */

#ifndef RISK_H
#define RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"
#include "kt_proc.h"
#include "risk_tx.h"

// ---- config (risk_cfg.c) --------------------------------------------------------------

#define RISK_FREEZE_ROWS 6

struct risk_cfg {
    int64_t capital;                //  paise: initial capital when `capital` is new
    char exchange[8];               //  tradable exchange ("NFO")
    char segments[64];              //  tradable segments, comma separated ("NFO-OPT")
    char market_open[6];            //  "09:15" IST
    char market_close[6];           //  "15:30" IST
    char entry_cutoff[6];           //  "15:00" IST: no entries at or after
    int64_t stale_md_s;             //  last tick older than this blocks entries
    int64_t price_band_bps;         //  limit/trigger within this of last price
    int64_t max_lots;               //  per order; above -> REDUCE
    int64_t freeze[RISK_FREEZE_ROWS];   //  units per order: NIFTY, BANKNIFTY, FINNIFTY,
                                        //  MIDCPNIFTY, SENSEX, default
    bool freeze_slice;              //  above freeze: approve (exec-gateway slices) or REDUCE
    int64_t max_slices;             //  slices exec-gateway may make of one order
    int64_t max_order_notional;     //  paise, buys: premium x qty
    int64_t max_order_margin;       //  paise, sells: margin estimate
    int64_t short_margin_bps;       //  margin estimate of a short: strike x qty x this
    int64_t market_reserve_bps;     //  buys at market: reserve this above last price
    int64_t max_positions;          //  open positions + pending entries
    int64_t max_per_type;           //  same, per option type (CE / PE)
    int64_t max_per_symbol;         //  same, per symbol
    int64_t max_deploy_bps;         //  reserved + deployed <= this x equity
    int64_t margin_buffer;          //  paise left free after the order
    int64_t max_risk_per_trade;     //  paise of R per entry (0 = off)
    int64_t max_risk_per_trade_bps; //  R per entry as a share of equity (0 = off)
    bool require_stop;              //  an entry without an attached stop is blocked
    int64_t max_daily_loss_bps;     //  of the day's starting equity -> HALT
    int64_t max_weekly_loss_bps;    //  of the week's starting equity -> HALT
    int64_t max_hourly_loss_bps;    //  of the day's starting equity, last 60 min -> HALT
    int64_t max_drawdown_bps;       //  below peak equity -> HALT
    int64_t max_consec_losses;      //  losing trades in a row -> HALT (0 = off)
    int64_t max_trades_day;         //  entries per day
    int64_t max_trades_hour;        //  entries in the last 60 min
    int64_t min_spacing_s;          //  seconds between entries (0 = off)
    int64_t max_orders_per_s;       //  orders of every kind in the last second
    int64_t max_modifies_per_s;     //  modifications in the last second
    int64_t max_rejects;            //  broker rejections in the window -> HALT (0 = off)
    int64_t reject_window_s;
    bool flatten_on_halt;           //  a HALT also flattens every position
    int64_t poll_ms;                //  state/kill/reconciler poll and P&L marks (wall ms)
    int64_t state_pub_ms;           //  RISK_STATE re-published at least this often (wall ms)
    int64_t resv_timeout_s;         //  an order unanswered this long is looked up
    int64_t intent_ttl_s;           //  decided intents kept this long (duplicate replies)
};

extern const kt_cfg_row_t risk_cfg_table[];

//  Fill cfg with every default of the table (tests and tools). Returns 0 or -1.
int
    risk_cfg_defaults (struct risk_cfg *cfg);

//  Exchange freeze quantity (units) for an underlying name ("NIFTY"); the default row
//  for any other name. 0 means no limit.
int64_t
    risk_cfg_freeze (const struct risk_cfg *cfg, const char *underlying);

//  Seconds since IST midnight of "HH:MM" fields (market_open ...). -1 if malformed.
int
    risk_cfg_sod (const char *hhmm);

// ---- the account view (risk_view.c) --------------------------------------------------

#define RISK_POS_MAX    64          //  symbols with a position or a pending entry
#define RISK_ORD_MAX    128         //  open orders risk-gate reserved for
#define RISK_TS_MAX     512         //  newest timestamps kept per rate window
#define RISK_MINUTES    1440        //  P&L marks, one per minute of the IST day

//  One symbol of the book (Redis risk:pos:<sym>).
struct risk_pos {
    char sym[KT_SYM_LEN];
    kt_itype_t itype;
    int64_t qty;                    //  signed units (short < 0)
    int64_t basis;                  //  paise: entry value of the open quantity
    int64_t cost;                   //  paise of capital deployed (premium, or margin of a short)
    int64_t pending;                //  entry orders not yet filled at all
    int64_t exiting;                //  units of open exit orders risk-gate approved
    int64_t realised;               //  paise, today
    int64_t trade_pnl;              //  paise, realised since the position opened
    int64_t last_px;                //  paise, last price written by a mark
    int64_t last_px_ns;
};

//  Kinds of intent, by what they do to risk.
typedef enum {
    RISK_KIND_NONE = 0,
    RISK_KIND_ENTRY,                //  ENTRY: adds risk
    RISK_KIND_MODIFY_ENTRY,         //  MODIFY of an open entry order: may add risk
    RISK_KIND_EXIT,                 //  EXIT or STOP: reduces a position
    RISK_KIND_MODIFY,               //  MODIFY of anything else (stops, exits)
    RISK_KIND_CANCEL,
    RISK_KIND_FLATTEN
} risk_kind_t;

//  One open order risk-gate holds a reservation or a pending slot for (intent:<id>).
struct risk_order {
    char coid[KT_ID_LEN];
    char sym[KT_SYM_LEN];
    kt_itype_t itype;
    kt_side_t side;
    risk_kind_t kind;
    int64_t oqty;                   //  order quantity
    int64_t filled;                 //  cumulative filled (applied)
    int64_t unit_cost;              //  paise reserved per unfilled unit
    int64_t resv;                   //  paise still reserved
    bool pending;                   //  holds a pending-entry slot (no fill yet)
    bool answered;                  //  exec-gateway has said something about it
    bool unresolved;                //  looked up and still unknown (alerted)
    int64_t sent_ns;                //  when risk-gate sent it to exec-gateway (0 = never)
    int64_t decided_ns;             //  when the decision approved it
    int64_t event_ns;               //  when its last EXEC_EVENT was applied (0 = none)
    int64_t stop_trigger;           //  an entry's attached stop trigger (0 = none)
};

//  Everything the checks read from Redis, as of one snapshot.
struct risk_view {
    bool loaded;                    //  a snapshot was parsed
    int64_t version;                //  risk:state version: moves with every change
    bool overflow;                  //  more positions/orders than fit: fail closed
    kt_trading_state_t state;
    char reason[KT_TEXT_LEN];
    int64_t since_ns;
    bool day_scoped;                //  the halt ends at the daily reset
    int64_t recon_ok_ns;            //  when the reconciler last agreed with the broker
    bool session_ok;                //  broker session valid (false after TokenException)
    bool kill;                      //  operator kill switch (risk:kill active)
    char kill_reason[KT_TEXT_LEN];
    int day;                        //  trading day YYYYMMDD
    int64_t week_start_ns;
    int64_t initial;                //  paise
    int64_t realised_total;         //  paise, since the account started
    int64_t reserved;               //  paise, open entry orders
    int64_t deployed;               //  paise, open positions
    int64_t day_start_equity, week_start_equity;
    int64_t day_start_unrealised, week_start_unrealised;
    int64_t realised_day, realised_week;
    int64_t peak_equity;
    int64_t consec_losses;
    int64_t trades_day;
    int64_t last_entry_ns;
    int64_t units_total, units_ce, units_pe;
    int64_t halt_seq;               //  halts so far (names the halt's commands)
    int norders_ts, nmodifies_ts, nentries_ts, nrejects_ts;
    int64_t orders_ts[RISK_TS_MAX]; //  newest first
    int64_t modifies_ts[RISK_TS_MAX];
    int64_t entries_ts[RISK_TS_MAX];
    int64_t rejects_ts[RISK_TS_MAX];
    bool has_mark[RISK_MINUTES];
    int64_t mark[RISK_MINUTES];     //  day P&L at the first look in each minute
    int npos;
    struct risk_pos pos[RISK_POS_MAX];
    int nord;
    struct risk_order ord[RISK_ORD_MAX];
};

//  Parse a snapshot reply (risk_capital's Lua snapshot layout) into *view. Returns 0,
//  or -1 with the reason in why if the reply does not have the layout.
int
    risk_view_parse (const redisReply *r, struct risk_view *view, char *why, size_t whylen);

//  The book entry of sym, or NULL. Borrowed.
const struct risk_pos *
    risk_view_pos (const struct risk_view *view, const char *sym);

//  The open order coid, or NULL. Borrowed.
const struct risk_order *
    risk_view_order (const struct risk_view *view, const char *coid);

//  Units counted against MAX_POS for sym: 1 for an open position plus its pending entries.
int64_t
    risk_view_units (const struct risk_view *view, const char *sym);

//  Entries of a newest-first timestamp list strictly after cut_ns.
int
    risk_view_count_after (const int64_t *ts, int n, int64_t cut_ns);

//  Name of a kind ("entry", "modify_entry", "exit", "modify", "cancel", "flatten").
const char *
    risk_kind_str (risk_kind_t kind);
risk_kind_t
    risk_kind_parse (const char *s);

// ---- P&L (risk_pnl.c, pure) ------------------------------------------------------------

//  Last price of a symbol: from md (in memory) or, failing that, the book's mark.
typedef bool (risk_price_fn) (void *arg, const char *sym, int64_t *px, int64_t *ts_ns);

//  Unrealised P&L of the book in paise: qty x price - signed basis, per position. A
//  position without any price counts at cost (0).
int64_t
    risk_pnl_unrealised (const struct risk_view *view, risk_price_fn *price, void *arg);

//  Equity: initial + realised_total + unrealised.
int64_t
    risk_pnl_equity (const struct risk_view *view, int64_t unrealised);

//  Day and week P&L (realised + change of unrealised since the period started).
int64_t
    risk_pnl_day (const struct risk_view *view, int64_t unrealised);
int64_t
    risk_pnl_week (const struct risk_view *view, int64_t unrealised);

//  P&L over the last 60 minutes: day P&L now minus the mark 60 minutes ago (the first
//  mark after it if that minute has none; 0 if the window starts before midnight or has
//  no mark).
int64_t
    risk_pnl_hour (const struct risk_view *view, int64_t unrealised, int64_t now_ns);

//  Minute of the IST day of ts (0..1439).
int
    risk_pnl_minute (int64_t ts_ns);

//  floor (a * b / d) for d > 0 without overflow for |a|, |b| < 2^62 (exact, like the Lua).
int64_t
    risk_pnl_muldiv (int64_t a, int64_t b, int64_t d);

//  Short margin estimate per unit for an instrument: strike (or px when no strike) x bps.
int64_t
    risk_pnl_short_margin (const struct risk_cfg *cfg, const struct kt_instr *in, int64_t px);

// ---- the rule check (risk_check.c, pure) ----------------------------------------------

//  What the checks see of the market for the intent's instrument.
struct risk_market {
    const struct kt_instr *instr;   //  borrowed; NULL = unknown symbol
    bool instr_table;               //  an instruments table is loaded at all
    int64_t ltp;                    //  paise, 0 = no tick seen
    int64_t ltp_ns;                 //  time of that tick
};

struct risk_reason {
    kt_reason_t code;
    kt_verdict_t outcome;           //  REDUCE, BLOCK or HALT
    char text[KT_TEXT_LEN];
};

struct risk_result {
    kt_verdict_t verdict;           //  APPROVE < REDUCE < BLOCK < HALT (the worst reason)
    risk_kind_t kind;
    int64_t qty;                    //  approved quantity
    int64_t unit_cost;              //  paise reserved per unit (entries)
    int64_t cost;                   //  paise the order adds to reserved capital
    kt_reason_t halt_code;          //  first HALT reason, KT_OK if none
    int nreasons;
    struct risk_reason reasons[KT_REASONS_MAX];
};

//  One row of the rule table: a check of risk-rules.md.
struct risk_rule {
    kt_reason_t code;
    const char *keys;               //  config keys it reads
    kt_verdict_t outcome;           //  typical outcome on failure
    unsigned applies;               //  RISK_APPLIES_* bits
    bool account;                   //  reads shared Redis state: re-run atomically in Lua
    const char *what;               //  one line, for docs and logs
};

#define RISK_APPLIES_ENTRY  0x1     //  ENTRY and MODIFY of an entry
#define RISK_APPLIES_REDUCE 0x2     //  EXIT, STOP, other MODIFY

//  The rule table in evaluation order, ending with a row whose code is KT_OK.
extern const struct risk_rule risk_check_rules[];

//  Kind of an intent, judged against the view (MODIFY of an open entry adds risk).
risk_kind_t
    risk_check_kind (const struct risk_view *view, const struct kt_intent *in);

//  The order-local rules (no shared state: BAD_INTENT .. RISK_PER_TRADE) for kind.
//  Fills *out from scratch. equity (paise) scales RISK_PER_TRADE's percentage.
void
    risk_check_local (const struct risk_cfg *cfg, const struct kt_intent *in, risk_kind_t kind,
                      const struct risk_market *mkt, int64_t now_ns, int64_t equity,
                      struct risk_result *out);

//  The account rules (KILL .. MARGIN_BUFFER, the exit cap) on top of *res, which holds
//  the local result; itype is the instrument's option type (per-type MAX_POS). These
//  are the rules the Lua decide script runs atomically; this is their C twin, for
//  tests, tools and backtests. A BLOCK or HALT sets qty and cost to 0.
void
    risk_check_account (const struct risk_view *view, const struct risk_cfg *cfg,
                        const struct kt_intent *in, kt_itype_t itype, int64_t now_ns,
                        int64_t unrealised, struct risk_result *res);

//  The intent the local rules judge: a MODIFY of an open entry that carries no stop of
//  its own keeps the entry's attached stop (R is judged on it, as for a fresh entry).
//  Fills *out from in. Pure.
void
    risk_check_effective (const struct risk_view *view, const struct kt_intent *in,
                          struct kt_intent *out);

//  The whole check: kind, local rules, account rules. Pure: no I/O, no globals.
void
    risk_check_intent (const struct risk_view *view, const struct risk_cfg *cfg,
                       const struct kt_intent *in, const struct risk_market *mkt,
                       int64_t now_ns, int64_t unrealised, struct risk_result *out);

//  Add a reason (dropped when full; the verdict still rises). text is printf-style.
void
    risk_check_add (struct risk_result *res, kt_reason_t code, kt_verdict_t outcome,
                    const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

//  True when state lets an entry through (ACTIVE only).
bool
    risk_check_state_allows_entry (kt_trading_state_t state);

// ---- breakers (risk_breaker.c, pure) --------------------------------------------------

//  The HALT rules over the view: KILL, SESSION, DAILY_LOSS, WEEKLY_LOSS, HOURLY_LOSS,
//  DRAWDOWN, CONSEC_LOSS, REJECTS. Adds each tripped rule to *res (HALT; SESSION is a
//  BLOCK: its HALT happens when the session fails). Returns the first HALT code or KT_OK.
kt_reason_t
    risk_breaker_eval (const struct risk_view *view, const struct risk_cfg *cfg,
                       int64_t now_ns, int64_t unrealised, struct risk_result *res);

//  True for HALT reasons that end at the daily reset (DAILY_LOSS, HOURLY_LOSS,
//  CONSEC_LOSS, REJECTS); the others stay until an operator resumes.
bool
    risk_breaker_is_day_scoped (kt_reason_t code);

// ---- prices (risk_prices.c) -----------------------------------------------------------

typedef struct risk_prices risk_prices_t;

//  A table for up to cap symbols (open addressing; no allocation after new).
risk_prices_t *
    risk_prices_new (size_t cap);

void
    risk_prices_destroy (risk_prices_t **self_p);

//  Record a tick. Returns 0, or -1 when the table is full (the symbol is not tracked).
int
    risk_prices_set (risk_prices_t *self, const char *sym, int64_t px, int64_t ts_ns);

//  Last price and time of sym. Returns false if none.
bool
    risk_prices_get (const risk_prices_t *self, const char *sym, int64_t *px, int64_t *ts_ns);

// ---- the Lua scripts (risk_capital.c) -------------------------------------------------

//  What the decide script answered.
struct risk_decided {
    kt_verdict_t verdict;
    int64_t qty;
    risk_kind_t kind;
    bool duplicate;                 //  intent_id was decided before: stored decision
    bool halted_now;                //  this decision switched the state to HALTED
    kt_trading_state_t state;       //  trading state after the decision
    char coid[KT_ID_LEN];
    int nreasons;
    struct risk_reason reasons[KT_REASONS_MAX];
};

//  Script ids in one store, from risk_capital_register.
struct risk_scripts {
    int snapshot, commit, exec, resolve;
};

//  Register the scripts on store (borrowed). Returns 0 or -1 (registry full).
int
    risk_capital_register (kt_store_t *store, struct risk_scripts *ids);

//  Read the whole account into *view with one EVALSHA. Returns 0, or -1 (Redis down or
//  a malformed answer; reason in why).
int
    risk_capital_snapshot (kt_store_t *store, const struct risk_scripts *ids,
                           struct risk_view *view, char *why, size_t whylen);

//  Everything decide needs besides the store and the view: the intent, both local
//  results (as an entry and as a reducing order), P&L and the limits.
struct risk_decide_req {
    const struct kt_intent *intent;
    const char *coid;               //  order id if approved (= intent_id)
    kt_itype_t itype;
    const struct risk_result *as_entry;     //  local result if the intent adds risk
    const struct risk_result *as_reduce;    //  local result if it reduces risk
    int64_t now_ns;
    int64_t unrealised;
    const char *src;                //  instance name, written to events
};

#define RISK_DECIDE_TRIES 4         //  decisions on a moving account before failing closed

//  Decide on *view (the account as last read, updated in place): the account rules in
//  C (risk_check_account), then one commit (risk_tx) of the reservation, the record
//  and the `events` entry, applied only if the account did not change since *view was
//  read; else *view is the account now and the rules run again (at most
//  RISK_DECIDE_TRIES times). tx is scratch. Returns 0 with *out filled (a duplicate
//  intent gets its stored decision), -1 when Redis did not answer or answered an error
//  (the commit may have been applied), -2 when nothing was applied (the view is not
//  loaded, or the account kept changing): reason in why either way.
int
    risk_capital_decide (kt_store_t *store, const struct risk_scripts *ids,
                         const struct risk_cfg *cfg, const struct risk_decide_req *req,
                         struct risk_view *view, struct risk_tx *tx, struct risk_decided *out,
                         char *why, size_t whylen);

//  What applying an EXEC_EVENT did.
struct risk_applied {
    bool changed;                   //  first time this fill/terminal event was seen
    bool trade_closed;              //  a position went flat
    int64_t trade_pnl;              //  paise, of that trade
    bool reject_counted;            //  a broker rejection was added to the window
};

//  Apply an EXEC_EVENT (idempotent: cumulative fills, terminal events once) to the book,
//  the reservation, capital and P&L, then re-read the view. itype and short_unit
//  (margin per unit if the fill opens a short) come from the instruments table; a
//  rejection counts toward REJECTS when count_reject. Returns 0 or -1 (why).
int
    risk_capital_apply_exec (kt_store_t *store, const struct risk_scripts *ids,
                             const struct risk_cfg *cfg, const struct kt_exec_event *ev,
                             kt_itype_t itype, int64_t short_unit, bool count_reject,
                             int64_t now_ns, const char *src, struct risk_applied *out,
                             struct risk_view *view, char *why, size_t whylen);

//  Record that risk-gate sends the approved order coid now (intent:<coid> sent_ns): only
//  orders marked sent are ever asked for again by the sweep. One HSET. Returns 0, or -1
//  when Redis did not answer (then it is unknown whether the mark was written).
int
    risk_capital_mark_sent (kt_store_t *store, const char *coid, int64_t now_ns);

//  Settle in Redis a decision whose script outcome risk-gate does not know (the EVALSHA
//  failed at the transport, possibly after Redis ran it) with the answer the caller got:
//  refused (d->verdict BLOCK/HALT: an order held but never marked sent is released like
//  a cancelled one -- reservation, pending slot or exit cover -- and the record becomes
//  that refusal), or sent (APPROVE/REDUCE: a held order is marked sent with the quantity
//  sent). The record then answers a retried intent as the caller was answered.
//  *result: 2 released a held order, 1 recorded only, 0 nothing to do (already refused
//  or already marked sent), -1 not refused because it was marked sent. Refreshes *view.
//  Returns 0 or -1 (why).
int
    risk_capital_resolve (kt_store_t *store, const struct risk_scripts *ids,
                          const struct risk_cfg *cfg, const char *intent_id,
                          const struct risk_decided *d, int64_t now_ns, const char *src,
                          int *result, struct risk_view *view, char *why, size_t whylen);

//  Record that open order coid was looked up and exec-gateway does not know it
//  (unresolved; its reservation stays). Returns 0 or -1.
int
    risk_capital_mark_unresolved (kt_store_t *store, const char *coid);

// ---- what a decision writes (risk_reserve.c, pure) ------------------------------------

struct risk_reserve_req {
    const struct kt_intent *intent;
    const char *coid;               //  order id if approved
    kt_itype_t itype;
    int64_t now_ns;
    const char *src;                //  instance name, written to events
};

//  The writes of the decision *res (local + account rules): the switch to HALTED on a
//  HALT, rate windows, the entry's reservation and slot, an exit's cover, a
//  modification's growth, the intent record, the event. Into tx unless NULL; onto
//  *view when apply (call once with tx and !apply, commit, then with NULL and apply
//  on the same view). A BLOCK or HALT sets res->qty and res->cost to 0. Fills *out
//  (the caller's answer).
void
    risk_reserve_build (struct risk_view *view, const struct risk_cfg *cfg,
                        const struct risk_reserve_req *req, struct risk_result *res,
                        struct risk_tx *tx, bool apply, struct risk_decided *out);

//  The switch to HALTED with code and text (scope from the code, halt_seq + 1) into tx
//  (unless NULL) and, when apply, onto *view.
void
    risk_reserve_halt (struct risk_view *view, kt_reason_t code, const char *text,
                       int64_t now_ns, const char *src, struct risk_tx *tx, bool apply);

// ---- trading state (risk_state.c) -----------------------------------------------------

//  Start-up and the daily reset: create the account when new (capital.initial from
//  config, REDUCING), roll the day (archive risk:day:<yyyymmdd>, reset day counters,
//  end a day-scoped halt) and the week when they changed, and on start-up turn ACTIVE
//  into REDUCING until the reconciler agrees. Refreshes *view. Returns 0 or -1.
int
    risk_state_roll (kt_store_t *store, const struct risk_scripts *ids,
                     const struct risk_cfg *cfg, int64_t now_ns, int64_t unrealised,
                     bool startup, const char *src, struct risk_view *view);

//  Switch to HALTED (unless already) with code and text; *halted tells whether this
//  call did it. Refreshes *view. Returns 0 or -1.
int
    risk_state_halt (kt_store_t *store, const struct risk_scripts *ids, kt_reason_t code,
                     const char *text, int64_t now_ns, const char *src, bool *halted,
                     struct risk_view *view);

//  REDUCING -> ACTIVE when the reconciler agreed at or after since_ns (this instance's
//  start) and after REDUCING began, and no kill switch is set. *changed tells whether
//  it happened. Refreshes *view. 0 or -1.
int
    risk_state_activate (kt_store_t *store, const struct risk_scripts *ids, int64_t since_ns,
                         int64_t now_ns, const char *src, bool *changed, struct risk_view *view);

//  Broker session validity (exec-gateway reported a TokenException: ok = false).
//  Returns 0 or -1.
int
    risk_state_session (kt_store_t *store, const struct risk_scripts *ids, bool ok,
                        int64_t now_ns, struct risk_view *view);

//  The periodic mark: P&L of this minute (kept once per minute for HOURLY_LOSS), peak
//  equity, the operator fields (unrealised, day P&L, equity, available) and each open
//  position's last price. Refreshes *view. Returns 0 or -1.
int
    risk_state_mark (kt_store_t *store, const struct risk_scripts *ids, int64_t now_ns,
                     int64_t unrealised, risk_price_fn *price, void *arg,
                     struct risk_view *view);

//  The operator's resume (tradectl): the kill switch off and, from HALTED, REDUCING
//  until the reconciler agrees again, with the session valid and the broker rejections
//  window cleared. *was gets the state it resumed from. Refreshes *view. 0 or -1.
int
    risk_state_resume (kt_store_t *store, const struct risk_scripts *ids, const char *by,
                       int64_t now_ns, kt_trading_state_t *was, struct risk_view *view);

//  The writes of a switch to HALTED with code and text (scope from the code, halt_seq
//  + 1, the `events` entry) into tx, from the account in *v. Pure.
void
    risk_state_halt_tx (const struct risk_view *v, kt_reason_t code, const char *text,
                        int64_t now_ns, const char *src, struct risk_tx *tx);

// ---- the engine (risk_core.c) ---------------------------------------------------------

typedef struct risk_core risk_core_t;

#define RISK_CMDS_MAX   4
#define RISK_ALERTS_MAX 4

struct risk_alert_item {
    kt_severity_t sev;
    char key[KT_KEY_LEN];
    char text[KT_ALERT_LEN];
};

//  What the process must do after a core call, in this order: reply, mark sent
//  (risk_core_mark_sent: marks[] in Redis), send cmds[], publish, alert. An order in
//  marks[] must not leave before its mark was attempted: the sweep asks exec-gateway
//  again only for orders marked sent.
struct risk_out {
    bool has_decision;
    struct kt_decision decision;
    int nmarks;                     //  coids of cmds[] to mark sent before they leave
    char marks[RISK_CMDS_MAX][KT_ID_LEN];
    int ncmds;
    struct kt_order_cmd cmds[RISK_CMDS_MAX];
    bool state_changed;             //  publish RISK_STATE
    int nalerts;
    struct risk_alert_item alerts[RISK_ALERTS_MAX];
};

//  A core over store (borrowed) with cfg and instruments (borrowed, instr may be NULL
//  until loaded), named src in events. Registers the scripts. Returns an owned core.
risk_core_t *
    risk_core_new (const struct risk_cfg *cfg, kt_store_t *store, const char *src);

void
    risk_core_destroy (risk_core_t **self_p);

//  Use this instruments table (borrowed; may be NULL).
void
    risk_core_set_instruments (risk_core_t *self, const kt_instr_table_t *instr);

//  Start-up: roll/create the account, REDUCING until the reconciler agrees, load the
//  view. started_ns is when this instance started (recon agreement must be newer).
//  Returns 0, or -1 if Redis is unavailable (the core keeps failing closed and retries
//  from risk_core_poll).
int
    risk_core_start (risk_core_t *self, int64_t now_ns, struct risk_out *out);

//  Decide one intent: fills out->decision and, when approved, out->cmds[0]; an approved
//  entry or exit decided in Redis also gets its coid in out->marks[]. Does not mark it
//  sent (so the caller's answer waits for one round trip only): call
//  risk_core_mark_sent before the commands leave.
void
    risk_core_decide (risk_core_t *self, const struct kt_intent *in, int64_t now_ns,
                      struct risk_out *out);

//  Mark sent in Redis (intent:<coid> sent_ns = now_ns) every order of out->marks[], once
//  per core call's out: after the reply and before sending out->cmds[] (out->marks[] is
//  left as it was). A mark whose HSET got no answer is unknown: the order is to be sent
//  anyway (the caller was told APPROVE); it is logged (risk.mark.fail), counts as Redis
//  down, and is remembered so the sweep marks it rather than refusing it. Returns 0,
//  or -1 if any mark got no answer (the commands must still be sent).
int
    risk_core_mark_sent (risk_core_t *self, struct risk_out *out, int64_t now_ns);

//  Apply one EXEC_EVENT (from exec_pub or a reply of exec-gateway).
void
    risk_core_on_exec (risk_core_t *self, const struct kt_exec_event *ev, int64_t now_ns,
                       struct risk_out *out);

//  A TICK: remember the last price of sym.
void
    risk_core_on_tick (risk_core_t *self, const char *sym, int64_t ltp, int64_t ts_ns);

//  The periodic work: day roll, kill switch, reconciler agreement, P&L mark, breakers.
void
    risk_core_poll (risk_core_t *self, int64_t now_ns, struct risk_out *out);

//  Orders sent to exec-gateway but never answered: look them up (exec-gateway's order
//  record), ask again once, then mark unresolved and alert; such a reservation is kept.
//  Orders approved but never marked sent (a decide whose answer was lost, a crash before
//  the send) are never sent by the sweep: unless exec-gateway has them, they are
//  released as refused after resv_timeout_s. Also settles the decisions of unknown
//  outcome still waiting for Redis.
void
    risk_core_sweep (risk_core_t *self, int64_t now_ns, struct risk_out *out);

//  The request client gave up on coid (no answer after its retries).
void
    risk_core_unanswered (risk_core_t *self, const char *coid, int64_t now_ns,
                          struct risk_out *out);

//  Current view (borrowed) and the unrealised P&L from the price table.
const struct risk_view *
    risk_core_view (const risk_core_t *self);
int64_t
    risk_core_unrealised (const risk_core_t *self);

//  Fill a RISK_STATE body from the view.
void
    risk_core_state_msg (const risk_core_t *self, struct kt_risk_state *out);

//  Counters for the heartbeat.
struct risk_counters {
    int64_t decisions, approved, reduced, blocked, halts, duplicates, store_down;
    int64_t exec_events, fills, ticks, unresolved;
};
const struct risk_counters *
    risk_core_counters (const risk_core_t *self);

// ---- messages (risk_reply.c, pure) ----------------------------------------------------

//  RISK_DECISION body from a decided result.
void
    risk_reply_decision (const struct kt_intent *in, const struct risk_decided *d,
                         struct kt_decision *out);

//  ORDER_COMMAND for an approved intent (coid = intent_id, qty = approved).
void
    risk_reply_command (const struct kt_intent *in, const char *coid, int64_t qty,
                        struct kt_order_cmd *out);

//  The commands of a halt: CANCEL_ALL of entries, and FLATTEN when flatten. coids are
//  derived from the halt number, so a retried halt repeats them. Returns the count.
int
    risk_reply_halt_commands (int64_t halt_seq, bool flatten, struct kt_order_cmd *out,
                              int max);

//  Join the codes ("MAX_LOTS,FREEZE") or texts ("a|b") of reasons into buf; '|' and
//  ',' inside texts become '/'. Returns buf.
char *
    risk_reply_join_codes (const struct risk_reason *r, int n, char *buf, size_t len);
char *
    risk_reply_join_texts (const struct risk_reason *r, int n, char *buf, size_t len);

//  Split the joined forms back into reasons (the decide script's answer). Returns n.
int
    risk_reply_split (const char *codes, const char *texts, struct risk_reason *out, int max);

// ---- the process (risk.c) -------------------------------------------------------------

typedef struct risk risk_t;

//  Bind `risk` (ROUTER) and `risk_pub`, subscribe `exec_pub` and `md`, connect the
//  request client to `exec`, start the core and the timers on proc's loop. cfg is
//  borrowed. Returns an owned context, or NULL (logged).
risk_t *
    risk_new (kt_proc_t *proc, const struct risk_cfg *cfg);

void
    risk_destroy (risk_t **self_p);

#endif
