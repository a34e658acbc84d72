/*  strat - the strategy process's private header: context, config and the pure helpers
 *  of its shell.
 *
 *  The strategy process holds signal logic only. It feeds the pure core of strat_core.h
 *  (the same calls, in the same order, as the backtest's engine) from `md` (TICK ->
 *  on_tick; final BAR -> on_bar; after a minute's bars, on_timer(minute close)), from
 *  `exec_pub` (EXEC_EVENTs of its orders -> on_exec) and from risk-gate's decisions
 *  (REDUCE -> REDUCED, BLOCK / HALT -> REJECTED), and sends the core's intents to
 *  risk-gate as ORDER_INTENTs through the lazy-pirate client, never blocking on them.
 *
 *  The helpers below are pure (no I/O) so they are unit-tested on their own:
 *    strat_ids_*    intent ids "<id>-<yyMMdd>-<seq>" (<= 20 chars, Kite's tag) from a
 *                   per-day sequence reserved in Redis in blocks (strat_ids.c);
 *    strat_map_*    the strategy's orders: core order id <-> entry coid, the
 *                   ORDER_INTENT of a core intent, EXEC_EVENT and decision -> core
 *                   events (strat_map.c);
 *    strat_state_*  the strat:state hash an operator reads (strat_state.c). */

#ifndef STRAT_H
#define STRAT_H

#include "kt.h"
#include "kt_stratstate.h"
#include "strat_core.h"

//  The "strategy" section. The params come first so that the rows of strat_cfg_table
//  also address a struct strat_params alone (strat_cfg_defaults, the backtest).
struct strat_cfg {
    struct strat_params p; //  the core's numbers
    char id[8];            //  strategy id, prefix of intent ids ("S1")
    char name[24];         //  strategy name ("baseline_v1")
    char product[8];       //  product of the entries ("MIS" / "NRML")
    int64_t bar_grace_ms;  //  a minute closes this long after its last bar arrived
};

typedef struct strat strat_t;

extern const kt_cfg_row_t strat_cfg_table[];

//  Store every row's default into base (a struct laid out as the rows' offsets say):
//  INT, BOOL, STR, MONEY and BPS rows; required rows (no default) are left alone.
//  Returns 0, or -1 if a default does not parse (a bug in a table).
int strat_cfg_apply_defaults (const kt_cfg_row_t *rows, void *base);

//  Gradual rollout: the R value the strategy sizes with, r_value x risk.capital_stage_pct
//  / 100, the stage risk-gate runs with, read from file (the process's own config; "" or
//  "(name)" for a config built in memory: stage 100). *stage_pct (may be NULL) gets the stage.
//  Returns 0, or -1 with why when file's risk section does not load (fail closed: the
//  caller does not trade).
int strat_cfg_staged_r (const char *file, int64_t r_value, int64_t *out, int64_t *stage_pct,
                        char *why, size_t whylen);

// ---- intent ids (strat_ids.c) ---------------------------------------------------------

//  Sequence numbers reserved at a time: one Redis round trip per this many intents.
#define STRAT_IDS_BLOCK 20

//  The intent-id allocator of one strategy id: a block [next, last] of the day's
//  sequence, reserved in Redis with INCRBY strat:seq:<id>-<yyMMdd> STRAT_IDS_BLOCK, so
//  that no id is ever handed out twice, across restarts included (a restart skips the
//  rest of its block).
struct strat_ids {
    char sid[8];     //  strategy id
    int32_t day;     //  YYYYMMDD of the block (0 = none)
    int64_t next;    //  next sequence number to hand out
    int64_t last;    //  last one of the block (next > last: empty)
    int64_t max_seq; //  largest sequence number that keeps the id <= 20 chars
};

//  Check a strategy id (1..7 letters or digits, so "<id>-<yyMMdd>-<seq>" leaves room
//  for a sequence of at least 6 digits) and set up ids. Returns 0, or -1 with the
//  reason in err.
int strat_ids_init (struct strat_ids *ids, const char *sid, char *err, size_t errlen);

//  The key argument of the day's counter ("S1-251124" for strat:seq:S1-251124) into
//  buf (>= 24 bytes). Returns buf.
char *strat_ids_seq_arg (const struct strat_ids *ids, int32_t yyyymmdd, char *buf, size_t len);

//  True when the block of day still has a number (take it with strat_ids_take).
bool strat_ids_ready (const struct strat_ids *ids, int32_t yyyymmdd);

//  Adopt the block Redis answered to INCRBY: the day's counter is now last, so the block
//  is [last - STRAT_IDS_BLOCK + 1, last]. Returns 0, or -1 if last is out of range.
int strat_ids_grant (struct strat_ids *ids, int32_t yyyymmdd, int64_t last);

//  Format the next id of day into out (KT_ID_LEN bytes). Returns 0, 1 when the block is
//  used up or of another day (reserve one, then call again), -1 when the day's
//  sequence no longer fits 20 characters (fail closed: no more entries today).
int strat_ids_take (struct strat_ids *ids, int32_t yyyymmdd, char *out);

//  "<sid>-<yyMMdd>-<seq>" into out (KT_ID_LEN bytes). Returns 0, or -1 if it would be
//  longer than KT_ID_WIRE_MAX.
int strat_ids_format (const char *sid, int32_t yyyymmdd, int64_t seq, char *out);

//  True when intent_id (or coid) is one of strategy sid's ("<sid>-...").
bool strat_ids_ours (const char *intent_id, const char *sid);

// ---- the strategy's orders (strat_map.c) -----------------------------------------------

#define STRAT_MAP_ORDERS 128 //  entries of the day (slots of finished ones are reused)
#define STRAT_MAP_SENT 64    //  intents awaiting risk-gate's decision
#define STRAT_MAP_EXITS 32   //  exit orders (flatten) seen
#define STRAT_MAP_EV_MAX 8   //  core events one EXEC_EVENT can make

//  One entry of the core and what became of it.
struct strat_map_order {
    uint32_t order_id;    //  the core's id (0 = free slot)
    char coid[KT_ID_LEN]; //  the entry's coid (= the PLACE intent's id)
    char sym[KT_SYM_LEN]; //  tradingsymbol
    uint32_t token;
    kt_itype_t itype;
    int64_t qty, trigger, price, sl_price, stop_price, r_value; //  as last sent
    int64_t filled;                                             //  entry units filled (cumulative)
    int64_t stop_filled;                                        //  units bought back by its stop
    int64_t exit_filled; //  units bought back by exits (flatten)
    bool working;        //  the entry order may still rest at the broker
};

struct strat_map_sent {
    char intent_id[KT_ID_LEN]; //  "" = free slot
    strat_ikind_t kind;
    uint32_t order_id;
    uint32_t replaces; //  a PLACE sent as a replacement: the pending entry it replaces
};

struct strat_map_exit {
    char coid[KT_ID_LEN];
    int64_t filled;
};

struct strat_map {
    struct strat_map_order ord[STRAT_MAP_ORDERS];
    struct strat_map_sent sent[STRAT_MAP_SENT];
    struct strat_map_exit exit[STRAT_MAP_EXITS];
    int exit_next; //  ring position of the next exit slot
};

//  Units of order still held (sold, not yet bought back).
int64_t strat_map_open_units (const struct strat_map_order *o);

//  The order of core id order_id / of entry coid, or NULL.
struct strat_map_order *strat_map_by_id (struct strat_map *m, uint32_t order_id);
struct strat_map_order *strat_map_by_coid (struct strat_map *m, const char *coid);

//  Record a PLACE of the core (it, with the entry's coid and symbol). Reuses a slot of an
//  order that is over (entry done, nothing held). Returns the order, or NULL when every
//  slot is in use.
struct strat_map_order *strat_map_add (struct strat_map *m, const struct strat_intent *it,
                                       const char *coid, const char *sym);

//  Set o's numbers (qty, trigger, price, sl_price, stop_price, r_value) from it: what
//  was last sent for the entry (a PLACE, or a MODIFY once sent).
void strat_map_set (struct strat_map_order *o, const struct strat_intent *it);

//  Remember that intent_id (kind, about order_id; replaces: the pending entry a PLACE
//  replaces, 0 for none) awaits a decision. Returns 0, or -1 when full.
int strat_map_sent_add (struct strat_map *m, const char *intent_id, strat_ikind_t kind,
                        uint32_t order_id, uint32_t replaces);

//  Find and forget the awaited intent_id. Returns 0 (kind, order_id and, if not NULL,
//  replaces set) or -1 (unknown).
int strat_map_sent_take (struct strat_map *m, const char *intent_id, strat_ikind_t *kind,
                         uint32_t *order_id, uint32_t *replaces);

//  When cancel and place (the core's intents, in that order in one drain) are the
//  core's "another instrument is now best" of one option type - a CANCEL with why
//  REPLACED of a working entry with nothing filled, then a PLACE of the same type -
//  the old entry, which the PLACE replaces as one decision (its ORDER_INTENT carries
//  ref = the old coid, no separate CANCEL). NULL otherwise.
struct strat_map_order *strat_map_replaced (struct strat_map *m, const struct strat_intent *cancel,
                                            const struct strat_intent *place);

//  The ORDER_INTENT of core intent it about order o (NULL for FLATTEN), with id, strategy
//  sid and product:
//    PLACE   -> purpose ENTRY: SELL SL qty trigger/price, stop {sl_price, stop_price},
//               r_value (a replacement: the shell sets ref = the replaced entry's coid);
//    MODIFY  -> purpose MODIFY, ref = the entry's coid, the new numbers;
//    CANCEL  -> purpose CANCEL, ref = the entry's coid;
//    FLATTEN -> purpose FLATTEN of o's open units (BUY MARKET, ref = the entry's coid);
//               the shell sends one per open position.
//  Returns 0, or -1 when it cannot be expressed (no order for a MODIFY / CANCEL).
int strat_map_intent (const struct strat_intent *it, const struct strat_map_order *o,
                      const char *id, const char *sid, kt_product_t product, struct kt_intent *out);

//  The core events of one EXEC_EVENT of ours: an entry's fills (partial ones too, as the
//  units newly filled), its cancel / expiry / reject (a REJECTED with purpose MODIFY or
//  CANCEL is a refused change, not the entry's end: no event); fills of its attached stop (purpose
//  STOP with the entry's coid as intent_id, or a coid starting with the entry's coid);
//  fills of exit orders (purpose EXIT / FLATTEN) spread over the positions in that
//  symbol, oldest first. Updates m. Writes at most STRAT_MAP_EV_MAX events to out and
//  returns how many (0: not ours, or nothing new).
int strat_map_exec (struct strat_map *m, const struct kt_exec_event *ev, struct strat_exec *out);

//  What a decision on an intent means for the core and the shell.
typedef enum {
    STRAT_DEC_NONE = 0, //  nothing to do
    STRAT_DEC_EVENT,    //  give *ev to the core
    STRAT_DEC_CANCEL,   //  a MODIFY was refused: cancel the entry (its CANCELLED event
                        //  then tells the core), never leave it at old numbers
    STRAT_DEC_ALERT     //  a risk-reducing intent was refused: a human must look
} strat_dec_t;

//  Map a decision (d NULL: risk-gate never answered) on an intent of kind about
//  order_id. APPROVE -> NONE; REDUCE of a PLACE / MODIFY -> REDUCED (qty); BLOCK / HALT
//  of a PLACE -> REJECTED; of a MODIFY -> CANCEL; of a CANCEL / FLATTEN -> ALERT. No
//  answer -> ALERT (the intent may have gone through: its exec events will tell; the
//  core keeps the entry as pending, so nothing is placed twice).
strat_dec_t strat_map_decision (strat_ikind_t kind, uint32_t order_id, const struct kt_decision *d,
                                int64_t ts, struct strat_exec *ev);

// ---- the strat:state hash (strat_state.c) -------------------------------------------

//  Counters the shell keeps for the hash.
struct strat_counts {
    int64_t bars, ticks, intents_sent, approved, reduced, refused, timeouts;
    int64_t last_bar_ns;
    bool warm;
    char last_decision[160];
};

//  Render the operator's snapshot: core (baseline_v1's view when it is one), the
//  instruments, the orders and the counters into rec (zeroed first). Pure.
void strat_state_render (strat_core_t *core, const kt_instr_table_t *instr,
                         const struct strat_map *m, const struct strat_cfg *cfg,
                         const struct strat_counts *c, int64_t now_ns,
                         struct kt_strat_state_rec *rec);

// ---- the process ---------------------------------------------------------------------

//  Load the instruments, build the core, subscribe and connect on proc's loop. Returns
//  an owned context or NULL (logged: bad strategy config, endpoints).
strat_t *strat_new (kt_proc_t *proc, const struct strat_cfg *cfg);

//  Free. Safe on NULL; sets *self_p to NULL.
void strat_destroy (strat_t **self_p);

//  Send an intent to risk-gate; the decision arrives through the client's callback.
//  Returns 0, or -1 if it could not be queued.
int strat_send_intent (strat_t *self, struct kt_intent *intent);

#endif
