/*  kt_msg - every message type of the pipeline, as plain structs, with msgpack
 *  encoding and checked decoding.
 *
 *  Every body is a msgpack map with the envelope keys v, type, seq, ts, src and the
 *  type's own keys (architecture.md "Message types"). Prices are integer paise,
 *  quantities integer units, times ns since the Unix epoch. Enumerations travel as
 *  their upper-case strings ("BUY", "SL-M", "ENTRY") so that a captured frame reads
 *  like the docs. Unknown keys are ignored; a missing required key, a wrong type, a
 *  value out of range or a string too long rejects the message with a reason, never a
 *  crash. Strings are fixed-size arrays: no heap on the hot path.
 *
 *  Required keys (every other key is optional and decodes to 0 / "" / false / NONE):
 *    envelope       v (== KT_MSG_VERSION), type, seq, ts, src
 *    TICK           token, sym, ltp
 *    BAR            token, sym, start, o, h, l, c
 *    MD_STATUS      connected
 *    ORDER_INTENT   intent_id, sym, side, qty, order_type, purpose
 *    RISK_DECISION  intent_id, verdict
 *    ORDER_COMMAND  coid, intent_id, action
 *    EXEC_EVENT     coid, event
 *    RISK_STATE     state
 *    ALERT          severity, key, text
 *    ORDER_UPDATE   order_id, status
 *  A required string must not be empty. stop is {trigger (required), price}; its
 *  presence sets has_stop. reasons is an array of at most KT_REASONS_MAX maps {code
 *  (required), text}. Quantities, prices and times must be >= 0 (P&L and equity may
 *  be negative); token fits 32 bits; intent_id, coid and ref are at most
 *  KT_ID_WIRE_MAX chars; no string may contain a NUL byte. Duplicate keys are
 *  rejected. An optional enum at NONE is left out by the encoder; NONE is never
 *  valid on the wire. The encoder always writes v = KT_MSG_VERSION. */

#ifndef KT_MSG_H
#define KT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#define KT_MSG_VERSION 1

#define KT_SRC_LEN 16 //  process name
#define KT_SYM_LEN 32 //  tradingsymbol
#define KT_ID_LEN 24  //  intent_id / coid (<= 20 chars on the wire: Kite tag)
#define KT_ID_WIRE_MAX 20
#define KT_BROKER_LEN 24 //  Kite order id, up to 19 digits
#define KT_CODE_LEN 24   //  reason code name
#define KT_TEXT_LEN 128  //  short human text
#define KT_ALERT_LEN 512 //  alert text
#define KT_KEY_LEN 64    //  alert de-duplication key
#define KT_REASONS_MAX 8
#define KT_MSG_MAX_BYTES 65536 //  larger bodies are rejected before parsing

typedef enum {
    KT_MSG_NONE = 0,
    KT_MSG_TICK,
    KT_MSG_BAR,
    KT_MSG_MD_STATUS,
    KT_MSG_ORDER_INTENT,
    KT_MSG_RISK_DECISION,
    KT_MSG_ORDER_COMMAND,
    KT_MSG_EXEC_EVENT,
    KT_MSG_RISK_STATE,
    KT_MSG_ALERT,
    KT_MSG_ORDER_UPDATE,
    KT_MSG_TYPE_COUNT
} kt_msg_type_t;

typedef enum { KT_SIDE_NONE = 0, KT_SIDE_BUY, KT_SIDE_SELL } kt_side_t;
typedef enum { KT_OT_NONE = 0, KT_OT_MARKET, KT_OT_LIMIT, KT_OT_SL, KT_OT_SLM } kt_order_type_t;
typedef enum { KT_PROD_NONE = 0, KT_PROD_MIS, KT_PROD_NRML } kt_product_t;
typedef enum {
    KT_PURPOSE_NONE = 0,
    KT_PURPOSE_ENTRY,
    KT_PURPOSE_EXIT,
    KT_PURPOSE_STOP,
    KT_PURPOSE_CANCEL,
    KT_PURPOSE_MODIFY,
    KT_PURPOSE_FLATTEN,
    KT_PURPOSE_HALT //  tradectl halt over the socket (kill switch while Redis is down)
} kt_purpose_t;
typedef enum {
    KT_VERDICT_NONE = 0,
    KT_VERDICT_APPROVE,
    KT_VERDICT_REDUCE,
    KT_VERDICT_BLOCK,
    KT_VERDICT_HALT
} kt_verdict_t;
typedef enum {
    KT_STATE_NONE = 0,
    KT_STATE_ACTIVE,
    KT_STATE_REDUCING,
    KT_STATE_HALTED
} kt_trading_state_t;
typedef enum {
    KT_ACTION_NONE = 0,
    KT_ACTION_PLACE,
    KT_ACTION_MODIFY,
    KT_ACTION_CANCEL,
    KT_ACTION_FLATTEN,
    KT_ACTION_CANCEL_ALL
} kt_action_t;
typedef enum {
    KT_EXEC_NONE = 0,
    KT_EXEC_SUBMITTED,
    KT_EXEC_ACCEPTED,
    KT_EXEC_REJECTED,
    KT_EXEC_PARTIAL,
    KT_EXEC_FILLED,
    KT_EXEC_CANCELLED,
    KT_EXEC_MODIFIED,
    KT_EXEC_EXPIRED,
    KT_EXEC_UNRESOLVED //  outcome unknown; settled later, never a reject
} kt_exec_kind_t;
typedef enum { KT_SEV_NONE = 0, KT_SEV_INFO, KT_SEV_WARNING, KT_SEV_CRITICAL } kt_severity_t;
//  Why a position is closed: the exit_reason of the journal's and the backtest's trades.csv,
//  spelled as there. Optional on EXIT and FLATTEN intents and commands.
typedef enum {
    KT_EXIT_NONE = 0,
    KT_EXIT_STOP,       //  the attached stop filled (or stood in for it)
    KT_EXIT_TARGET_DAY, //  the strategy's day target was reached
    KT_EXIT_LOSS_DAY,   //  the strategy's day loss limit was reached
    KT_EXIT_TIME,       //  the strategy's flatten time
    KT_EXIT_HALT,       //  trading halted with risk.flatten_on_halt
    KT_EXIT_MANUAL      //  an operator's (tradectl flatten); also a FLATTEN without reason
} kt_exit_reason_t;

//  Envelope: present in every body.
struct kt_env {
    int64_t v; //  schema version (KT_MSG_VERSION)
    kt_msg_type_t type;
    uint64_t seq;         //  per publisher and topic family, strictly increasing
    int64_t ts_ns;        //  pipeline clock
    char src[KT_SRC_LEN]; //  publishing process
};

struct kt_tick {
    uint32_t token;
    char sym[KT_SYM_LEN];
    int64_t ltp; //  paise
    int64_t last_qty;
    int64_t avg_price; //  paise
    int64_t volume;    //  cumulative for the day
    int64_t buy_qty;
    int64_t sell_qty;
    int64_t o, h, l, c; //  paise; c = previous close
    int64_t oi;
    int64_t bid, ask; //  paise, best level (0 if none)
    int64_t bid_qty, ask_qty;
    int64_t exch_ts_ns;
    int64_t recv_ts_ns;
};

struct kt_bar {
    uint32_t token;
    char sym[KT_SYM_LEN];
    int64_t start_ns;   //  minute start
    int64_t o, h, l, c; //  paise
    int64_t volume;
    int64_t vwap; //  paise, day VWAP at bar close
    int64_t ticks;
    bool final;
};

struct kt_md_status {
    bool connected;
    int64_t subscribed;
    int64_t last_tick_ts_ns;
    int64_t reconnects;
    int64_t bars_closed_ns; //  start of the latest minute whose final bars are all published
};

struct kt_intent {
    char intent_id[KT_ID_LEN]; //  idempotency key, <= 20 chars
    char strategy[KT_SRC_LEN];
    char sym[KT_SYM_LEN];
    kt_side_t side;
    int64_t qty; //  units, multiple of lot
    kt_order_type_t order_type;
    int64_t price;   //  paise (LIMIT, SL)
    int64_t trigger; //  paise (SL, SL-M)
    kt_product_t product;
    kt_purpose_t purpose;
    char ref[KT_ID_LEN]; //  coid being modified / cancelled
    bool has_stop;       //  attached stop for an entry
    int64_t stop_trigger;
    int64_t stop_price;
    int64_t r_value;         //  paise at risk
    kt_exit_reason_t reason; //  EXIT / FLATTEN: why (NONE: not said)
};

struct kt_reason_item {
    char code[KT_CODE_LEN]; //  machine code, e.g. "MAX_POS"
    char text[KT_TEXT_LEN];
};

struct kt_decision {
    char intent_id[KT_ID_LEN];
    kt_verdict_t verdict;
    int64_t qty; //  approved quantity
    int nreasons;
    struct kt_reason_item reasons[KT_REASONS_MAX];
    kt_trading_state_t state;
    char coid[KT_ID_LEN]; //  order id given to exec-gateway ("" if none)
};

struct kt_order_cmd {
    char coid[KT_ID_LEN]; //  client order id (also the Kite tag)
    char intent_id[KT_ID_LEN];
    kt_action_t action;
    char sym[KT_SYM_LEN];
    kt_side_t side;
    int64_t qty;
    kt_order_type_t order_type;
    int64_t price;
    int64_t trigger;
    kt_product_t product;
    kt_purpose_t purpose;
    char ref[KT_ID_LEN]; //  coid being modified / cancelled
    bool has_stop;
    int64_t stop_trigger;
    int64_t stop_price;
    int64_t r_value;
    kt_exit_reason_t reason; //  EXIT / FLATTEN: why, the exit's exit_reason (NONE: not said)
};

struct kt_exec_event {
    char coid[KT_ID_LEN];
    char intent_id[KT_ID_LEN];
    char broker_id[KT_BROKER_LEN];
    char sym[KT_SYM_LEN];
    kt_exec_kind_t event;
    kt_side_t side;
    kt_purpose_t purpose;
    int64_t qty;        //  order quantity
    int64_t filled_qty; //  cumulative
    int64_t last_qty;
    int64_t last_px; //  paise
    int64_t avg_px;  //  paise
    char reason[KT_TEXT_LEN];
};

//  A broker order update (Kite WebSocket `order` text or postback) as md-gateway
//  forwards it on `md` (topic md.order): the order's state at that moment. status is
//  Kite's text ("OPEN", "TRIGGER PENDING", "COMPLETE", "UPDATE", ...); product is NONE
//  for products we do not trade.
struct kt_risk_state {
    kt_trading_state_t state;
    char reason[KT_TEXT_LEN];
    int64_t day_pnl; //  paise, realised + unrealised
    int64_t realised;
    int64_t unrealised;
    int64_t equity;
    int64_t open_positions;
    int64_t max_positions;
    int64_t max_daily_loss; //  paise
};

struct kt_alert {
    kt_severity_t severity;
    char key[KT_KEY_LEN]; //  de-duplication key
    char text[KT_ALERT_LEN];
};

//  A broker order update as Kite's ticker sends it (the postback fields,
//  kite-protocol.md 6.8), published by md-gateway on md.order for exec-gateway. Prices
//  in paise (exact from the JSON text), times in ns (Kite's IST "YYYY-MM-DD HH:MM:SS").
struct kt_order_update {
    char order_id[KT_BROKER_LEN];
    char exchange_order_id[KT_BROKER_LEN];
    char parent_order_id[KT_BROKER_LEN];
    char status[32]; //  Kite's status text ("COMPLETE", "TRIGGER PENDING", ...)
    char status_message[KT_TEXT_LEN];
    char tag[KT_ID_LEN]; //  our coid when we placed it
    char guid[48];
    char variety[16];
    char exchange[8];
    char sym[KT_SYM_LEN]; //  tradingsymbol
    uint32_t token;
    char order_type[8];       //  MARKET, LIMIT, SL, SL-M as Kite writes them
    char transaction_type[8]; //  BUY, SELL
    char validity[8];
    char product[8];
    int64_t qty;
    int64_t price;     //  paise
    int64_t trigger;   //  paise
    int64_t avg_price; //  paise
    int64_t filled_qty;
    int64_t pending_qty;
    int64_t cancelled_qty;
    int64_t unfilled_qty;
    int64_t order_ts_ns;
    int64_t exchange_update_ts_ns;
    int64_t exchange_ts_ns;
};

struct kt_msg {
    struct kt_env env;
    union {
        struct kt_tick tick;
        struct kt_bar bar;
        struct kt_md_status md_status;
        struct kt_intent intent;
        struct kt_decision decision;
        struct kt_order_cmd cmd;
        struct kt_exec_event exec;
        struct kt_risk_state risk_state;
        struct kt_alert alert;
        struct kt_order_update order_update;
    } u;
};

//  Decoding state, one per thread (a bounded reader over the body: no heap use at all
//  while decoding).
typedef struct kt_msg_decoder kt_msg_decoder_t;

//  Append msg as one msgpack map to sb (the caller clears sb between messages, e.g.
//  sb->size = 0). msg->env.type selects the body. Returns 0, or -1 (nothing written)
//  if the type is unknown or a field breaks the rules above (kt_msg_check says which).
//  What it writes always decodes back to the same struct. Aborts on OOM.
int kt_msg_encode (const struct kt_msg *msg, msgpack_sbuffer *sb);

//  Check msg against the rules above without encoding (kt_msg_encode's own check).
//  Returns 0, or -1 with the reason in why (why may be NULL).
int kt_msg_check (const struct kt_msg *msg, char *why, size_t whylen);

//  Create a decoder. Returns an owned decoder (aborts on OOM).
kt_msg_decoder_t *kt_msg_decoder_new (void);

//  Free. Safe on NULL; sets *self_p to NULL.
void kt_msg_decoder_destroy (kt_msg_decoder_t **self_p);

//  Decode len bytes into *out (zeroed first, and zeroed again on failure but for what
//  identifies the sender's request: env.type and u.intent.intent_id / u.cmd.coid, each
//  only when it could be read whole, so a rejected request can still be answered).
//  Returns 0, or -1 with the reason in why (e.g. "missing key 'sym'", "key 'qty': expected
//  integer", "trailing bytes (3)", "truncated"; why may be NULL). Never reads past
//  len, never crashes on garbage, never allocates.
int kt_msg_decode (kt_msg_decoder_t *self, const void *data, size_t len, struct kt_msg *out,
                   char *why, size_t whylen);

//  One key of a message body as declared: the one table per message type that drives
//  the encoder, its check and the decoder, and that docs/messages.md is checked against.
struct kt_msg_field {
    const char *name;
    const char *type;          //  "int", "uint32", "bool", "string", "enum",
                               //  "map {trigger, price}", "array of {code, text}"
    bool required;             //  a body without it is rejected
    const char *unit;          //  integers: "paise", "units", "ns", or "" (a count)
    int max_len;               //  strings: longest accepted
    const char *const *values; //  enums: the names accepted (borrowed, static)
    int nvalues;
};

//  The declared keys of a message type in wire order, envelope keys aside. Fills at most
//  max entries (static strings) and returns the number declared (0 for an unknown type).
int kt_msg_fields (kt_msg_type_t type, struct kt_msg_field *out, int max);

//  The topic of an EXEC_EVENT of kind: "exec.<EVENT>" with the event's wire name
//  ("exec.FILLED"), the one spelling (docs/messages.md). Returns buf.
char *kt_exec_topic (kt_exec_kind_t kind, char *buf, size_t len);

//  Names <-> enums. *_str returns a static string ("?" if out of range);
//  *_parse returns the enum, or 0 (the NONE value) if the name is unknown.
const char *kt_msg_type_str (kt_msg_type_t t);
kt_msg_type_t kt_msg_type_parse (const char *s);
const char *kt_side_str (kt_side_t v);
kt_side_t kt_side_parse (const char *s);
const char *kt_order_type_str (kt_order_type_t v);
kt_order_type_t kt_order_type_parse (const char *s);
const char *kt_product_str (kt_product_t v);
kt_product_t kt_product_parse (const char *s);
const char *kt_purpose_str (kt_purpose_t v);
kt_purpose_t kt_purpose_parse (const char *s);
const char *kt_verdict_str (kt_verdict_t v);
kt_verdict_t kt_verdict_parse (const char *s);
const char *kt_state_str (kt_trading_state_t v);
kt_trading_state_t kt_state_parse (const char *s);
const char *kt_action_str (kt_action_t v);
kt_action_t kt_action_parse (const char *s);
const char *kt_exec_kind_str (kt_exec_kind_t v);
kt_exec_kind_t kt_exec_kind_parse (const char *s);
const char *kt_severity_str (kt_severity_t v);
kt_severity_t kt_severity_parse (const char *s);
const char *kt_exit_reason_str (kt_exit_reason_t v);
kt_exit_reason_t kt_exit_reason_parse (const char *s);

//  True for purposes that only reduce risk (EXIT, STOP, CANCEL, FLATTEN). MODIFY is
//  judged by the caller from what it modifies.
bool kt_purpose_is_reducing (kt_purpose_t p);

#endif
