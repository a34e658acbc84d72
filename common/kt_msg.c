/*  kt_msg - msgpack encoding and checked decoding of every pipeline message.
 *
 *  Used by kt_bus (every publish and receive) and by tools that read captured frames.
 *  Invariant: whatever kt_msg_encode writes, kt_msg_decode accepts and decodes to the
 *  same struct; whatever kt_msg_decode accepts, kt_msg_encode writes back (the fuzz
 *  target checks both directions).
 *
 *  Design overview: one table of field descriptors per message type (key name, kind,
 *  flags, offset into the union member) drives the encoder, the encoder's validation
 *  and the decoder, so the three cannot disagree. Encoding uses msgpack-c's packer
 *  into a stack buffer, appended to the caller's sbuffer in one write. Decoding reads
 *  the body bytes directly with a bounded reader instead of msgpack_unpack: that one
 *  pre-allocates count * 24 bytes for a container header before reading its items, so
 *  a 5-byte body claiming 4 billion items asks malloc for 96 GiB (an abort under ASan
 *  and libFuzzer), and building its object tree cost about half of a whole decode. The
 *  reader never allocates, rejects any container claiming more items than bytes remain,
 *  and limits nesting of unknown values to S_MAX_DEPTH. The encoder writes keys in
 *  table order and the decoder tries the next expected field first, so an in-order
 *  body costs one key comparison per key. The fuzz target checks every body this
 *  reader accepts against msgpack-c's own unpacker. */

#include "kt_msg.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_DEPTH 8

// ---- enumerations ----------------------------------------------------------------

//  names[0] is the NONE value; it is never valid on the wire.
struct s_enum {
    const char *const *names;
    int count;
};

static const char *const s_type_names[] = {
    "NONE",          "TICK",       "BAR",        "MD_STATUS", "ORDER_INTENT", "RISK_DECISION",
    "ORDER_COMMAND", "EXEC_EVENT", "RISK_STATE", "ALERT",     "ORDER_UPDATE"};
static const char *const s_side_names[] = {"NONE", "BUY", "SELL"};
static const char *const s_ot_names[] = {"NONE", "MARKET", "LIMIT", "SL", "SL-M"};
static const char *const s_prod_names[] = {"NONE", "MIS", "NRML"};
static const char *const s_purpose_names[] = {"NONE",   "ENTRY",  "EXIT",    "STOP",
                                              "CANCEL", "MODIFY", "FLATTEN", "HALT"};
static const char *const s_verdict_names[] = {"NONE", "APPROVE", "REDUCE", "BLOCK", "HALT"};
static const char *const s_state_names[] = {"NONE", "ACTIVE", "REDUCING", "HALTED"};
static const char *const s_action_names[] = {"NONE",   "PLACE",   "MODIFY",
                                             "CANCEL", "FLATTEN", "CANCEL_ALL"};
static const char *const s_exec_names[] = {"NONE",    "SUBMITTED", "ACCEPTED",  "REJECTED",
                                           "PARTIAL", "FILLED",    "CANCELLED", "MODIFIED",
                                           "EXPIRED", "UNRESOLVED"};
static const char *const s_sev_names[] = {"NONE", "INFO", "WARNING", "CRITICAL"};
static const char *const s_exit_names[] = {"NONE", "STOP", "TARGET_DAY", "LOSS_DAY",
                                           "TIME", "HALT", "MANUAL"};

#define S_ENUM(arr)                                                                                \
    {                                                                                              \
        arr, (int) (sizeof (arr) / sizeof ((arr)[0]))                                              \
    }
static const struct s_enum s_type_enum = S_ENUM (s_type_names);
static const struct s_enum s_side_enum = S_ENUM (s_side_names);
static const struct s_enum s_ot_enum = S_ENUM (s_ot_names);
static const struct s_enum s_prod_enum = S_ENUM (s_prod_names);
static const struct s_enum s_purpose_enum = S_ENUM (s_purpose_names);
static const struct s_enum s_verdict_enum = S_ENUM (s_verdict_names);
static const struct s_enum s_state_enum = S_ENUM (s_state_names);
static const struct s_enum s_action_enum = S_ENUM (s_action_names);
static const struct s_enum s_exec_enum = S_ENUM (s_exec_names);
static const struct s_enum s_sev_enum = S_ENUM (s_sev_names);
static const struct s_enum s_exit_enum = S_ENUM (s_exit_names);

static const char *
s_enum_str (const struct s_enum *en, int v)
{
    return v >= 0 && v < en->count ? en->names[v] : "?";
}

//  Value of the name ptr[0..len), or 0 if unknown (NONE is not accepted by name).
static int
s_enum_find (const struct s_enum *en, const char *ptr, size_t len)
{
    for (int i = 1; i < en->count; i++) {
        const char *name = en->names[i];
        size_t k = 0;
        while (k < len && name[k] && name[k] == ptr[k])
            k++;
        if (k == len && name[k] == 0)
            return i;
    }
    return 0;
}

static int
s_enum_parse (const struct s_enum *en, const char *s)
{
    return s ? s_enum_find (en, s, strlen (s)) : 0;
}

//  The public name functions, one pair per enumeration.
#define S_ENUM_FUNCS(T, str_fn, parse_fn, en)                                                      \
    const char *str_fn (T v)                                                                       \
    {                                                                                              \
        return s_enum_str (&(en), (int) v);                                                        \
    }                                                                                              \
    T parse_fn (const char *s)                                                                     \
    {                                                                                              \
        return (T) s_enum_parse (&(en), s);                                                        \
    }

S_ENUM_FUNCS (kt_msg_type_t, kt_msg_type_str, kt_msg_type_parse, s_type_enum)
S_ENUM_FUNCS (kt_side_t, kt_side_str, kt_side_parse, s_side_enum)
S_ENUM_FUNCS (kt_order_type_t, kt_order_type_str, kt_order_type_parse, s_ot_enum)
S_ENUM_FUNCS (kt_product_t, kt_product_str, kt_product_parse, s_prod_enum)
S_ENUM_FUNCS (kt_purpose_t, kt_purpose_str, kt_purpose_parse, s_purpose_enum)
S_ENUM_FUNCS (kt_verdict_t, kt_verdict_str, kt_verdict_parse, s_verdict_enum)
S_ENUM_FUNCS (kt_trading_state_t, kt_state_str, kt_state_parse, s_state_enum)
S_ENUM_FUNCS (kt_action_t, kt_action_str, kt_action_parse, s_action_enum)
S_ENUM_FUNCS (kt_exec_kind_t, kt_exec_kind_str, kt_exec_kind_parse, s_exec_enum)
S_ENUM_FUNCS (kt_severity_t, kt_severity_str, kt_severity_parse, s_sev_enum)
S_ENUM_FUNCS (kt_exit_reason_t, kt_exit_reason_str, kt_exit_reason_parse, s_exit_enum)

bool
kt_purpose_is_reducing (kt_purpose_t p)
{
    return p == KT_PURPOSE_EXIT || p == KT_PURPOSE_STOP || p == KT_PURPOSE_CANCEL ||
           p == KT_PURPOSE_FLATTEN;
}

// ---- field tables ------------------------------------------------------------------

typedef enum {
    F_INT,    //  int64_t
    F_U32,    //  uint32_t
    F_BOOL,   //  bool
    F_STR,    //  char[], at most max chars on the wire
    F_ENUM,   //  enum (int-sized), travels as its name
    F_STOP,   //  { trigger, price } map; off = has_stop, off2 = trigger, off3 = price
    F_REASONS //  [ { code, text } ]; off = nreasons, off2 = reasons[]
} s_kind_t;

#define F_REQ 0x1    //  must be present; a required string must not be empty
#define F_NONNEG 0x2 //  integer must be >= 0

struct s_field {
    const char *name;
    uint8_t namelen;
    uint8_t kind;
    uint8_t flags;
    uint16_t off;
    uint16_t max; //  F_STR: longest string accepted
    uint16_t off2;
    uint16_t off3; //  F_STR: size of the char[]
    const struct s_enum *en;
    const char *unit; //  what the number means: "paise", "units", "ns", "" (docs/messages.md)
};

#define S_FLD(name, kind, flags, off, max, off2, off3, en, unit)                                   \
    {                                                                                              \
        name, sizeof (name) - 1, kind, flags, (uint16_t) (off), max, off2, off3, en, unit          \
    }
#define S_SIZEOF(T, f) sizeof (((T *) 0)->f)
//  Longest string a char[] field holds (one byte for the NUL), capped at cap.
#define S_STRMAX(T, f, cap) (uint16_t) (S_SIZEOF (T, f) - 1 < (cap) ? S_SIZEOF (T, f) - 1 : (cap))

//  Integers carry their unit: U_PAISE (money), U_UNITS (quantities), U_NS (times since
//  the epoch), or U_NONE (counts).
#define U_PAISE "paise"
#define U_UNITS "units"
#define U_NS "ns"
#define U_NONE ""
#define I(T, key, f, fl, unit) S_FLD (key, F_INT, fl, offsetof (T, f), 0, 0, 0, NULL, unit)
#define U32(T, key, f, fl) S_FLD (key, F_U32, fl, offsetof (T, f), 0, 0, 0, NULL, "")
#define B(T, key, f, fl) S_FLD (key, F_BOOL, fl, offsetof (T, f), 0, 0, 0, NULL, "")
#define S(T, key, f, fl, cap)                                                                      \
    S_FLD (key, F_STR, fl, offsetof (T, f), S_STRMAX (T, f, cap), 0, S_SIZEOF (T, f), NULL, "")
#define E(T, key, f, fl, en) S_FLD (key, F_ENUM, fl, offsetof (T, f), 0, 0, 0, en, "")
#define STOP(T)                                                                                    \
    S_FLD ("stop", F_STOP, F_NONNEG, offsetof (T, has_stop), 0, offsetof (T, stop_trigger),        \
           offsetof (T, stop_price), NULL, U_PAISE)

#define NN F_NONNEG
#define RQ F_REQ
#define RN (F_REQ | F_NONNEG)

static const struct s_field s_tick_fields[] = {
    U32 (struct kt_tick, "token", token, RQ),
    S (struct kt_tick, "sym", sym, RQ, 1000),
    I (struct kt_tick, "ltp", ltp, RN, U_PAISE),
    I (struct kt_tick, "last_qty", last_qty, NN, U_UNITS),
    I (struct kt_tick, "avg_price", avg_price, NN, U_PAISE),
    I (struct kt_tick, "volume", volume, NN, U_UNITS),
    I (struct kt_tick, "buy_qty", buy_qty, NN, U_UNITS),
    I (struct kt_tick, "sell_qty", sell_qty, NN, U_UNITS),
    I (struct kt_tick, "o", o, NN, U_PAISE),
    I (struct kt_tick, "h", h, NN, U_PAISE),
    I (struct kt_tick, "l", l, NN, U_PAISE),
    I (struct kt_tick, "c", c, NN, U_PAISE),
    I (struct kt_tick, "oi", oi, NN, U_UNITS),
    I (struct kt_tick, "bid", bid, NN, U_PAISE),
    I (struct kt_tick, "ask", ask, NN, U_PAISE),
    I (struct kt_tick, "bid_qty", bid_qty, NN, U_UNITS),
    I (struct kt_tick, "ask_qty", ask_qty, NN, U_UNITS),
    I (struct kt_tick, "exch_ts", exch_ts_ns, NN, U_NS),
    I (struct kt_tick, "recv_ts", recv_ts_ns, NN, U_NS),
};

static const struct s_field s_bar_fields[] = {
    U32 (struct kt_bar, "token", token, RQ),
    S (struct kt_bar, "sym", sym, RQ, 1000),
    I (struct kt_bar, "start", start_ns, RN, U_NS),
    I (struct kt_bar, "o", o, RN, U_PAISE),
    I (struct kt_bar, "h", h, RN, U_PAISE),
    I (struct kt_bar, "l", l, RN, U_PAISE),
    I (struct kt_bar, "c", c, RN, U_PAISE),
    I (struct kt_bar, "volume", volume, NN, U_UNITS),
    I (struct kt_bar, "vwap", vwap, NN, U_PAISE),
    I (struct kt_bar, "ticks", ticks, NN, U_NONE),
    B (struct kt_bar, "final", final, 0),
};

static const struct s_field s_md_status_fields[] = {
    B (struct kt_md_status, "connected", connected, RQ),
    I (struct kt_md_status, "subscribed", subscribed, NN, U_NONE),
    I (struct kt_md_status, "last_tick_ts", last_tick_ts_ns, NN, U_NS),
    I (struct kt_md_status, "reconnects", reconnects, NN, U_NONE),
    I (struct kt_md_status, "bars_closed", bars_closed_ns, NN, U_NS),
};

static const struct s_field s_intent_fields[] = {
    S (struct kt_intent, "intent_id", intent_id, RQ, KT_ID_WIRE_MAX),
    S (struct kt_intent, "strategy", strategy, 0, 1000),
    //  sym, side, qty and order_type are required by risk-gate for the purposes that use
    //  them (not CANCEL, FLATTEN): BAD_INTENT there, not a decode failure here
    S (struct kt_intent, "sym", sym, 0, 1000),
    E (struct kt_intent, "side", side, 0, &s_side_enum),
    I (struct kt_intent, "qty", qty, NN, U_UNITS),
    E (struct kt_intent, "order_type", order_type, 0, &s_ot_enum),
    I (struct kt_intent, "price", price, NN, U_PAISE),
    I (struct kt_intent, "trigger", trigger, NN, U_PAISE),
    E (struct kt_intent, "product", product, 0, &s_prod_enum),
    E (struct kt_intent, "purpose", purpose, RQ, &s_purpose_enum),
    S (struct kt_intent, "ref", ref, 0, KT_ID_WIRE_MAX),
    STOP (struct kt_intent),
    I (struct kt_intent, "r_value", r_value, NN, U_PAISE),
    E (struct kt_intent, "reason", reason, 0, &s_exit_enum),
};

static const struct s_field s_decision_fields[] = {
    //  empty only in the BAD_INTENT answer to a request whose intent_id was unreadable
    S (struct kt_decision, "intent_id", intent_id, 0, KT_ID_WIRE_MAX),
    E (struct kt_decision, "verdict", verdict, RQ, &s_verdict_enum),
    I (struct kt_decision, "qty", qty, NN, U_UNITS),
    S_FLD ("reasons", F_REASONS, 0, offsetof (struct kt_decision, nreasons), 0,
           offsetof (struct kt_decision, reasons), 0, NULL, ""),
    E (struct kt_decision, "state", state, 0, &s_state_enum),
    S (struct kt_decision, "coid", coid, 0, KT_ID_WIRE_MAX),
};

static const struct s_field s_cmd_fields[] = {
    S (struct kt_order_cmd, "coid", coid, RQ, KT_ID_WIRE_MAX),
    S (struct kt_order_cmd, "intent_id", intent_id, RQ, KT_ID_WIRE_MAX),
    E (struct kt_order_cmd, "action", action, RQ, &s_action_enum),
    S (struct kt_order_cmd, "sym", sym, 0, 1000),
    E (struct kt_order_cmd, "side", side, 0, &s_side_enum),
    I (struct kt_order_cmd, "qty", qty, NN, U_UNITS),
    E (struct kt_order_cmd, "order_type", order_type, 0, &s_ot_enum),
    I (struct kt_order_cmd, "price", price, NN, U_PAISE),
    I (struct kt_order_cmd, "trigger", trigger, NN, U_PAISE),
    E (struct kt_order_cmd, "product", product, 0, &s_prod_enum),
    E (struct kt_order_cmd, "purpose", purpose, 0, &s_purpose_enum),
    S (struct kt_order_cmd, "ref", ref, 0, KT_ID_WIRE_MAX),
    STOP (struct kt_order_cmd),
    I (struct kt_order_cmd, "r_value", r_value, NN, U_PAISE),
    E (struct kt_order_cmd, "reason", reason, 0, &s_exit_enum),
};

static const struct s_field s_exec_fields[] = {
    S (struct kt_exec_event, "coid", coid, RQ, KT_ID_WIRE_MAX),
    S (struct kt_exec_event, "intent_id", intent_id, 0, KT_ID_WIRE_MAX),
    S (struct kt_exec_event, "broker_id", broker_id, 0, 1000),
    S (struct kt_exec_event, "sym", sym, 0, 1000),
    E (struct kt_exec_event, "event", event, RQ, &s_exec_enum),
    E (struct kt_exec_event, "side", side, 0, &s_side_enum),
    E (struct kt_exec_event, "purpose", purpose, 0, &s_purpose_enum),
    I (struct kt_exec_event, "qty", qty, NN, U_UNITS),
    I (struct kt_exec_event, "filled_qty", filled_qty, NN, U_UNITS),
    I (struct kt_exec_event, "last_qty", last_qty, NN, U_UNITS),
    I (struct kt_exec_event, "last_px", last_px, NN, U_PAISE),
    I (struct kt_exec_event, "avg_px", avg_px, NN, U_PAISE),
    S (struct kt_exec_event, "reason", reason, 0, 1000),
};

static const struct s_field s_risk_state_fields[] = {
    E (struct kt_risk_state, "state", state, RQ, &s_state_enum),
    S (struct kt_risk_state, "reason", reason, 0, 1000),
    I (struct kt_risk_state, "day_pnl", day_pnl, 0, U_PAISE),
    I (struct kt_risk_state, "realised", realised, 0, U_PAISE),
    I (struct kt_risk_state, "unrealised", unrealised, 0, U_PAISE),
    I (struct kt_risk_state, "equity", equity, 0, U_PAISE),
    I (struct kt_risk_state, "open_positions", open_positions, NN, U_NONE),
    I (struct kt_risk_state, "max_positions", max_positions, NN, U_NONE),
    I (struct kt_risk_state, "max_daily_loss", max_daily_loss, NN, U_PAISE),
};

static const struct s_field s_alert_fields[] = {
    E (struct kt_alert, "severity", severity, RQ, &s_sev_enum),
    S (struct kt_alert, "key", key, RQ, 1000),
    S (struct kt_alert, "text", text, RQ, 1000),
};

static const struct s_field s_order_update_fields[] = {
    S (struct kt_order_update, "order_id", order_id, RQ, 1000),
    S (struct kt_order_update, "exchange_order_id", exchange_order_id, 0, 1000),
    S (struct kt_order_update, "parent_order_id", parent_order_id, 0, 1000),
    S (struct kt_order_update, "status", status, RQ, 1000),
    S (struct kt_order_update, "status_message", status_message, 0, 1000),
    S (struct kt_order_update, "tag", tag, 0, 1000),
    S (struct kt_order_update, "guid", guid, 0, 1000),
    S (struct kt_order_update, "variety", variety, 0, 1000),
    S (struct kt_order_update, "exchange", exchange, 0, 1000),
    S (struct kt_order_update, "sym", sym, 0, 1000),
    U32 (struct kt_order_update, "token", token, 0),
    S (struct kt_order_update, "order_type", order_type, 0, 1000),
    S (struct kt_order_update, "transaction_type", transaction_type, 0, 1000),
    S (struct kt_order_update, "validity", validity, 0, 1000),
    S (struct kt_order_update, "product", product, 0, 1000),
    I (struct kt_order_update, "qty", qty, NN, U_UNITS),
    I (struct kt_order_update, "price", price, NN, U_PAISE),
    I (struct kt_order_update, "trigger", trigger, NN, U_PAISE),
    I (struct kt_order_update, "avg_price", avg_price, NN, U_PAISE),
    I (struct kt_order_update, "filled_qty", filled_qty, NN, U_UNITS),
    I (struct kt_order_update, "pending_qty", pending_qty, NN, U_UNITS),
    I (struct kt_order_update, "cancelled_qty", cancelled_qty, NN, U_UNITS),
    I (struct kt_order_update, "unfilled_qty", unfilled_qty, NN, U_UNITS),
    I (struct kt_order_update, "order_ts", order_ts_ns, NN, U_NS),
    I (struct kt_order_update, "exchange_update_ts", exchange_update_ts_ns, NN, U_NS),
    I (struct kt_order_update, "exchange_ts", exchange_ts_ns, NN, U_NS),
};

//  Fields of one reasons[] item and of the stop map (decoded by hand, named here for
//  the messages).
#define S_CODE_MAX ((int) sizeof (((struct kt_reason_item *) 0)->code) - 1)
#define S_RTEXT_MAX ((int) sizeof (((struct kt_reason_item *) 0)->text) - 1)

struct s_type {
    const struct s_field *fields;
    int nfields;
};

#define S_TYPE(arr)                                                                                \
    {                                                                                              \
        arr, (int) (sizeof (arr) / sizeof ((arr)[0]))                                              \
    }
static const struct s_type s_types[KT_MSG_TYPE_COUNT] = {
    [KT_MSG_TICK] = S_TYPE (s_tick_fields),
    [KT_MSG_BAR] = S_TYPE (s_bar_fields),
    [KT_MSG_MD_STATUS] = S_TYPE (s_md_status_fields),
    [KT_MSG_ORDER_INTENT] = S_TYPE (s_intent_fields),
    [KT_MSG_RISK_DECISION] = S_TYPE (s_decision_fields),
    [KT_MSG_ORDER_COMMAND] = S_TYPE (s_cmd_fields),
    [KT_MSG_EXEC_EVENT] = S_TYPE (s_exec_fields),
    [KT_MSG_RISK_STATE] = S_TYPE (s_risk_state_fields),
    [KT_MSG_ALERT] = S_TYPE (s_alert_fields),
    [KT_MSG_ORDER_UPDATE] = S_TYPE (s_order_update_fields),
};

//  Field presence is tracked in a 32-bit mask.
_Static_assert(sizeof (s_tick_fields) / sizeof (s_tick_fields[0]) < 32, "field mask");
_Static_assert(sizeof (s_cmd_fields) / sizeof (s_cmd_fields[0]) < 32, "field mask");
_Static_assert(sizeof (s_order_update_fields) / sizeof (s_order_update_fields[0]) < 32,
               "field mask");
_Static_assert(sizeof (kt_side_t) == sizeof (int), "enums are int-sized");

// ---- helpers -------------------------------------------------------------------------

static int s_fail (char *why, size_t whylen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fail (char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen > 0) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (why, whylen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

//  A wire string made safe for a reason text: printable ASCII only, at most 24 chars.
static const char *
s_printable (const char *ptr, size_t len, char *buf, size_t buflen)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < buflen && i < 24; i++)
        buf[n++] = ptr[i] >= 0x20 && ptr[i] < 0x7f && ptr[i] != '\'' ? ptr[i] : '?';
    if (len > 24 && n + 4 <= buflen) {
        memcpy (buf + n, "...", 3);
        n += 3;
    }
    buf[n] = 0;
    return buf;
}

// ---- validation (shared by encode and kt_msg_check) ------------------------------------

//  Checks the string field at p: NUL-terminated inside its array, at most max chars,
//  non-empty when required.
static int
s_check_str (const char *p, size_t size, size_t max, bool req, const char *name, char *why,
             size_t whylen)
{
    size_t n = strnlen (p, size);
    if (n == size)
        return s_fail (why, whylen, "key '%s': string not terminated", name);
    if (n > max)
        return s_fail (why, whylen, "key '%s': string too long (%zu > %zu)", name, n, max);
    if (req && n == 0)
        return s_fail (why, whylen, "key '%s': empty", name);
    return 0;
}

static int
s_check_fields (const struct s_type *t, const char *base, char *why, size_t whylen)
{
    for (int i = 0; i < t->nfields; i++) {
        const struct s_field *f = &t->fields[i];
        const char *p = base + f->off;
        bool req = f->flags & F_REQ;
        switch (f->kind) {
            case F_INT: {
                int64_t v;
                memcpy (&v, p, sizeof v);
                if ((f->flags & F_NONNEG) && v < 0)
                    return s_fail (why, whylen, "key '%s': negative", f->name);
                break;
            }
            case F_U32:
            case F_BOOL:
                break;
            case F_STR:
                if (s_check_str (p, f->off3, f->max, req, f->name, why, whylen) != 0)
                    return -1;
                break;
            case F_ENUM: {
                int v;
                memcpy (&v, p, sizeof v);
                if (v < 0 || v >= f->en->count || (req && v == 0))
                    return s_fail (why, whylen, "key '%s': invalid value %d", f->name, v);
                break;
            }
            case F_STOP: {
                bool has;
                int64_t trig, price;
                memcpy (&has, p, sizeof has);
                memcpy (&trig, base + f->off2, sizeof trig);
                memcpy (&price, base + f->off3, sizeof price);
                if (has && (trig < 0 || price < 0))
                    return s_fail (why, whylen, "key 'stop': negative");
                break;
            }
            case F_REASONS: {
                int n;
                memcpy (&n, p, sizeof n);
                if (n < 0 || n > KT_REASONS_MAX)
                    return s_fail (why, whylen, "key 'reasons': count %d out of range", n);
                const struct kt_reason_item *items = (const void *) (base + f->off2);
                for (int j = 0; j < n; j++) {
                    if (s_check_str (items[j].code, sizeof items[j].code, S_CODE_MAX, true,
                                     "reasons.code", why, whylen) != 0 ||
                        s_check_str (items[j].text, sizeof items[j].text, S_RTEXT_MAX, false,
                                     "reasons.text", why, whylen) != 0)
                        return -1;
                }
                break;
            }
            default:
                assert (!"unknown field kind");
        }
    }
    return 0;
}

int
kt_msg_check (const struct kt_msg *msg, char *why, size_t whylen)
{
    if (msg->env.type <= KT_MSG_NONE || msg->env.type >= KT_MSG_TYPE_COUNT)
        return s_fail (why, whylen, "unknown type %d", (int) msg->env.type);
    if (msg->env.ts_ns < 0)
        return s_fail (why, whylen, "key 'ts': negative");
    if (s_check_str (msg->env.src, sizeof msg->env.src, sizeof msg->env.src - 1, true, "src", why,
                     whylen) != 0)
        return -1;
    return s_check_fields (&s_types[msg->env.type], (const char *) &msg->u, why, whylen);
}

// ---- encoding ----------------------------------------------------------------------------

//  The packer writes into a stack buffer (one memcpy per item, no capacity check
//  against the heap) and the whole body goes to the caller's sbuffer at the end: a
//  body is bounded (S_BODY_MAX) because every field was checked first.
#define S_BODY_MAX 8192

struct s_wbuf {
    char *p;
    char *end;
};

static int
s_wbuf_write (void *data, const char *buf, size_t len)
{
    struct s_wbuf *w = data;
    if ((size_t) (w->end - w->p) < len)
        abort (); //  our bug: S_BODY_MAX no longer covers the largest body
    memcpy (w->p, buf, len);
    w->p += len;
    return 0;
}

static inline void
s_pack_cstr (msgpack_packer *pk, const char *s)
{
    size_t n = strlen (s);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

static inline void
s_pack_key (msgpack_packer *pk, const struct s_field *f)
{
    msgpack_pack_str (pk, f->namelen);
    msgpack_pack_str_body (pk, f->name, f->namelen);
}

//  Optional enums at NONE and an absent stop are left out; everything else is written.
static inline bool
s_field_written (const struct s_field *f, const char *base)
{
    if (f->kind == F_ENUM) {
        int v;
        memcpy (&v, base + f->off, sizeof v);
        return v != 0;
    }
    if (f->kind == F_STOP) {
        bool has;
        memcpy (&has, base + f->off, sizeof has);
        return has;
    }
    return true;
}

int
kt_msg_encode (const struct kt_msg *msg, msgpack_sbuffer *sb)
{
    if (kt_msg_check (msg, NULL, 0) != 0)
        return -1;
    const struct s_type *t = &s_types[msg->env.type];
    const char *base = (const char *) &msg->u;

    uint32_t nkeys = 5;
    for (int i = 0; i < t->nfields; i++)
        nkeys += s_field_written (&t->fields[i], base);

    char body[S_BODY_MAX];
    struct s_wbuf w = {body, body + sizeof body};
    msgpack_packer pk;
    msgpack_packer_init (&pk, &w, s_wbuf_write);
    msgpack_pack_map (&pk, nkeys);
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "v", 1);
    msgpack_pack_int64 (&pk, KT_MSG_VERSION);
    msgpack_pack_str (&pk, 4);
    msgpack_pack_str_body (&pk, "type", 4);
    s_pack_cstr (&pk, s_type_names[msg->env.type]);
    msgpack_pack_str (&pk, 3);
    msgpack_pack_str_body (&pk, "seq", 3);
    msgpack_pack_uint64 (&pk, msg->env.seq);
    msgpack_pack_str (&pk, 2);
    msgpack_pack_str_body (&pk, "ts", 2);
    msgpack_pack_int64 (&pk, msg->env.ts_ns);
    msgpack_pack_str (&pk, 3);
    msgpack_pack_str_body (&pk, "src", 3);
    s_pack_cstr (&pk, msg->env.src);

    for (int i = 0; i < t->nfields; i++) {
        const struct s_field *f = &t->fields[i];
        const char *p = base + f->off;
        if (!s_field_written (f, base))
            continue;
        s_pack_key (&pk, f);
        switch (f->kind) {
            case F_INT: {
                int64_t v;
                memcpy (&v, p, sizeof v);
                msgpack_pack_int64 (&pk, v);
                break;
            }
            case F_U32: {
                uint32_t v;
                memcpy (&v, p, sizeof v);
                msgpack_pack_uint32 (&pk, v);
                break;
            }
            case F_BOOL:
                if (*(const bool *) p)
                    msgpack_pack_true (&pk);
                else
                    msgpack_pack_false (&pk);
                break;
            case F_STR:
                s_pack_cstr (&pk, p);
                break;
            case F_ENUM: {
                int v;
                memcpy (&v, p, sizeof v);
                s_pack_cstr (&pk, f->en->names[v]);
                break;
            }
            case F_STOP: {
                int64_t trig, price;
                memcpy (&trig, base + f->off2, sizeof trig);
                memcpy (&price, base + f->off3, sizeof price);
                msgpack_pack_map (&pk, 2);
                msgpack_pack_str (&pk, 7);
                msgpack_pack_str_body (&pk, "trigger", 7);
                msgpack_pack_int64 (&pk, trig);
                msgpack_pack_str (&pk, 5);
                msgpack_pack_str_body (&pk, "price", 5);
                msgpack_pack_int64 (&pk, price);
                break;
            }
            case F_REASONS: {
                int n;
                memcpy (&n, p, sizeof n);
                const struct kt_reason_item *items = (const void *) (base + f->off2);
                msgpack_pack_array (&pk, (size_t) n);
                for (int j = 0; j < n; j++) {
                    msgpack_pack_map (&pk, 2);
                    msgpack_pack_str (&pk, 4);
                    msgpack_pack_str_body (&pk, "code", 4);
                    s_pack_cstr (&pk, items[j].code);
                    msgpack_pack_str (&pk, 4);
                    msgpack_pack_str_body (&pk, "text", 4);
                    s_pack_cstr (&pk, items[j].text);
                }
                break;
            }
            default:
                assert (!"unknown field kind");
        }
    }
    //  The sbuffer fails only when realloc does: out of memory aborts (style.md 8).
    if (msgpack_sbuffer_write (sb, body, (size_t) (w.p - body)) != 0)
        abort ();
    return 0;
}

// ---- skipping values ---------------------------------------------------------------------

//  Walks (skips) one msgpack object at p[*off..len) without allocating: used for the
//  values of unknown keys, which must still be well formed. Fails on truncation, the
//  reserved byte 0xc1, nesting deeper than S_MAX_DEPTH, or a container announcing more
//  items than bytes remain (every item takes at least one byte). Iterative, with fast
//  paths for the fixint and fixstr bytes that make up most of a body.
static int
s_scan (const uint8_t *p, size_t len, size_t *off, char *why, size_t whylen)
{
    uint64_t left[S_MAX_DEPTH + 1]; //  items still to read at each open level
    int top = 0;
    left[0] = 1;
    size_t i = *off;
    while (top >= 0) {
        if (left[top] == 0) {
            top--;
            continue;
        }
        left[top]--;
        if (i >= len)
            return s_fail (why, whylen, "truncated");
        uint8_t b = p[i++];
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            continue;       //  fixint, nil, bool
        uint64_t skip = 0;  //  payload bytes after the header
        uint64_t items = 0; //  nested objects after the header
        size_t hdr = 0;     //  length-field bytes
        int kind = 0;       //  0 payload, 1 array, 2 map
        if ((b & 0xe0) == 0xa0) {
            skip = b & 0x1fu;
        } else if ((b & 0xf0) == 0x80) {
            items = 2u * (b & 0x0fu);
            kind = 1;
        } else if ((b & 0xf0) == 0x90) {
            items = b & 0x0fu;
            kind = 1;
        } else {
            switch (b) {
                case 0xc4:
                case 0xd9:
                    hdr = 1;
                    break; //  bin8, str8
                case 0xc5:
                case 0xda:
                    hdr = 2;
                    break; //  bin16, str16
                case 0xc6:
                case 0xdb:
                    hdr = 4;
                    break; //  bin32, str32
                case 0xc7:
                    hdr = 1;
                    skip = 1;
                    break; //  ext8 (+type)
                case 0xc8:
                    hdr = 2;
                    skip = 1;
                    break;
                case 0xc9:
                    hdr = 4;
                    skip = 1;
                    break;
                case 0xca:
                    skip = 4;
                    break; //  float32
                case 0xcb:
                    skip = 8;
                    break;
                case 0xcc:
                case 0xd0:
                    skip = 1;
                    break;
                case 0xcd:
                case 0xd1:
                    skip = 2;
                    break;
                case 0xce:
                case 0xd2:
                    skip = 4;
                    break;
                case 0xcf:
                case 0xd3:
                    skip = 8;
                    break;
                case 0xd4:
                    skip = 2;
                    break; //  fixext1 (+type)
                case 0xd5:
                    skip = 3;
                    break;
                case 0xd6:
                    skip = 5;
                    break;
                case 0xd7:
                    skip = 9;
                    break;
                case 0xd8:
                    skip = 17;
                    break;
                case 0xdc:
                    hdr = 2;
                    kind = 1;
                    break; //  array16
                case 0xdd:
                    hdr = 4;
                    kind = 1;
                    break;
                case 0xde:
                    hdr = 2;
                    kind = 2;
                    break; //  map16
                case 0xdf:
                    hdr = 4;
                    kind = 2;
                    break;
                default:
                    return s_fail (why, whylen, "malformed msgpack (byte 0x%02x at %zu)", b, i - 1);
            }
            if (hdr) {
                if (len - i < hdr)
                    return s_fail (why, whylen, "truncated");
                uint64_t n = 0;
                for (size_t k = 0; k < hdr; k++)
                    n = (n << 8) | p[i + k];
                i += hdr;
                if (kind == 1)
                    items = n;
                else if (kind == 2) {
                    items = 2 * n;
                    kind = 1;
                } else
                    skip += n;
            }
        }
        if (skip > len - i)
            return s_fail (why, whylen, "truncated");
        i += (size_t) skip;
        if (kind) {
            if (items > len - i)
                return s_fail (why, whylen, "truncated");
            if (top == S_MAX_DEPTH)
                return s_fail (why, whylen, "nesting too deep");
            left[++top] = items;
        }
    }
    *off = i;
    return 0;
}

// ---- decoding ----------------------------------------------------------------------------

//  A bounded reader over the body bytes. Readers return 0, or one of these without
//  moving past a value of the wrong type.
enum { RD_OK = 0, RD_TYPE = -1, RD_TRUNC = -2, RD_RANGE = -3 };

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t i;
} s_rd_t;

struct kt_msg_decoder {
    uint64_t decoded; //  bodies accepted (kept so decode state has a home)
    uint64_t rejected;
};

kt_msg_decoder_t *
kt_msg_decoder_new (void)
{
    kt_msg_decoder_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    return self;
}

void
kt_msg_decoder_destroy (kt_msg_decoder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

static inline uint64_t
s_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++)
        v = (v << 8) | p[k];
    return v;
}

//  Any integer format. *neg tells a negative value (in *sv) from a non-negative one
//  (in *uv), as msgpack-c does whatever the wire format.
static inline int
s_rd_num (s_rd_t *r, bool *neg, int64_t *sv, uint64_t *uv)
{
    if (r->i >= r->len)
        return RD_TRUNC;
    uint8_t b = r->p[r->i];
    if (b <= 0x7f) {
        r->i++;
        *neg = false;
        *uv = b;
        return RD_OK;
    }
    if (b >= 0xe0) {
        r->i++;
        *neg = true;
        *sv = (int8_t) b;
        return RD_OK;
    }
    size_t n;
    bool sgn = b >= 0xd0;
    switch (b) {
        case 0xcc:
        case 0xd0:
            n = 1;
            break;
        case 0xcd:
        case 0xd1:
            n = 2;
            break;
        case 0xce:
        case 0xd2:
            n = 4;
            break;
        case 0xcf:
        case 0xd3:
            n = 8;
            break;
        default:
            return RD_TYPE;
    }
    if (r->len - r->i - 1 < n)
        return RD_TRUNC;
    uint64_t u = s_be (r->p + r->i + 1, n);
    r->i += 1 + n;
    if (sgn) {
        int64_t v = n == 1 ? (int8_t) u : n == 2 ? (int16_t) u : n == 4 ? (int32_t) u : (int64_t) u;
        *neg = v < 0;
        if (v < 0)
            *sv = v;
        else
            *uv = (uint64_t) v;
    } else {
        *neg = false;
        *uv = u;
    }
    return RD_OK;
}

static inline int
s_rd_int (s_rd_t *r, int64_t *v)
{
    bool neg;
    uint64_t u;
    int rc = s_rd_num (r, &neg, v, &u);
    if (rc != RD_OK || neg)
        return rc;
    if (u > (uint64_t) INT64_MAX)
        return RD_RANGE;
    *v = (int64_t) u;
    return RD_OK;
}

static inline int
s_rd_str (s_rd_t *r, const char **ptr, size_t *n)
{
    *ptr = "";
    *n = 0;
    if (r->i >= r->len)
        return RD_TRUNC;
    uint8_t b = r->p[r->i];
    size_t hdr;
    if ((b & 0xe0) == 0xa0) {
        hdr = 1;
        *n = b & 0x1fu;
    } else {
        hdr = b == 0xd9 ? 2 : b == 0xda ? 3 : b == 0xdb ? 5 : 0;
        if (!hdr)
            return RD_TYPE;
        if (r->len - r->i < hdr)
            return RD_TRUNC;
        *n = (size_t) s_be (r->p + r->i + 1, hdr - 1);
    }
    if (r->len - r->i - hdr < *n)
        return RD_TRUNC;
    *ptr = (const char *) r->p + r->i + hdr;
    r->i += hdr + *n;
    return RD_OK;
}

static inline int
s_rd_bool (s_rd_t *r, bool *v)
{
    if (r->i >= r->len)
        return RD_TRUNC;
    uint8_t b = r->p[r->i];
    if (b != 0xc2 && b != 0xc3)
        return RD_TYPE;
    *v = b == 0xc3;
    r->i++;
    return RD_OK;
}

//  Map (pairs = 2) or array (pairs = 1) header; a count that cannot fit in what is
//  left of the body is a truncation.
static inline int
s_rd_container (s_rd_t *r, bool map, uint32_t *count)
{
    if (r->i >= r->len)
        return RD_TRUNC;
    uint8_t b = r->p[r->i];
    size_t hdr;
    if ((b & 0xf0) == (map ? 0x80 : 0x90)) {
        hdr = 1;
        *count = b & 0x0fu;
    } else {
        hdr = b == (map ? 0xde : 0xdc) ? 3 : b == (map ? 0xdf : 0xdd) ? 5 : 0;
        if (!hdr)
            return RD_TYPE;
        if (r->len - r->i < hdr)
            return RD_TRUNC;
        *count = (uint32_t) s_be (r->p + r->i + 1, hdr - 1);
    }
    if ((uint64_t) *count * (map ? 2 : 1) > r->len - r->i - hdr)
        return RD_TRUNC;
    r->i += hdr;
    return RD_OK;
}

//  Skip (and check) one value of any type.
static inline int
s_rd_skip (s_rd_t *r, char *why, size_t whylen)
{
    return s_scan (r->p, r->len, &r->i, why, whylen);
}

static int
s_rd_fail (int rc, const char *name, const char *expected, char *why, size_t whylen)
{
    if (rc == RD_TRUNC)
        return s_fail (why, whylen, "truncated");
    if (rc == RD_RANGE)
        return s_fail (why, whylen, "key '%s': integer out of range", name);
    return s_fail (why, whylen, "key '%s': expected %s", name, expected);
}

//  Key names are short: a byte loop beats a call to memcmp.
static inline bool
s_name_is (const char *ptr, size_t n, const char *name, size_t namelen)
{
    if (n != namelen)
        return false;
    for (size_t k = 0; k < n; k++)
        if (ptr[k] != name[k])
            return false;
    return true;
}

static int
s_dec_int (s_rd_t *r, bool nonneg, const char *name, int64_t *out, char *why, size_t whylen)
{
    int rc = s_rd_int (r, out);
    if (rc != RD_OK)
        return s_rd_fail (rc, name, "integer", why, whylen);
    if (nonneg && *out < 0)
        return s_fail (why, whylen, "key '%s': negative", name);
    return 0;
}

static int
s_dec_str (s_rd_t *r, size_t max, bool req, const char *name, char *out, char *why, size_t whylen)
{
    const char *ptr;
    size_t n;
    int rc = s_rd_str (r, &ptr, &n);
    if (rc != RD_OK)
        return s_rd_fail (rc, name, "string", why, whylen);
    if (n > max)
        return s_fail (why, whylen, "key '%s': string too long (%zu > %zu)", name, n, max);
    if (n && memchr (ptr, 0, n))
        return s_fail (why, whylen, "key '%s': string contains NUL", name);
    if (req && n == 0)
        return s_fail (why, whylen, "key '%s': empty", name);
    memcpy (out, ptr, n);
    out[n] = 0;
    return 0;
}

//  Key of a nested map entry: a string, or the message names the map.
static int
s_dec_subkey (s_rd_t *r, const char *map, const char **ptr, size_t *n, char *why, size_t whylen)
{
    int rc = s_rd_str (r, ptr, n);
    if (rc == RD_TYPE)
        return s_fail (why, whylen, "key '%s': map key is not a string", map);
    return rc == RD_OK ? 0 : s_rd_fail (rc, map, "string", why, whylen);
}

static int
s_dec_stop (const struct s_field *f, s_rd_t *r, char *base, char *why, size_t whylen)
{
    uint32_t n;
    int rc = s_rd_container (r, true, &n);
    if (rc != RD_OK)
        return s_rd_fail (rc, "stop", "map", why, whylen);
    bool seen_trig = false, seen_price = false;
    int64_t trig = 0, price = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        size_t kn;
        if (s_dec_subkey (r, "stop", &k, &kn, why, whylen) != 0)
            return -1;
        bool *seen = NULL;
        int64_t *dst = NULL;
        const char *name = NULL;
        if (s_name_is (k, kn, "trigger", 7)) {
            seen = &seen_trig, dst = &trig, name = "stop.trigger";
        } else if (s_name_is (k, kn, "price", 5)) {
            seen = &seen_price, dst = &price, name = "stop.price";
        } else {
            if (s_rd_skip (r, why, whylen) != 0)
                return -1;
            continue;
        }
        if (*seen)
            return s_fail (why, whylen, "duplicate key '%s'", name);
        *seen = true;
        if (s_dec_int (r, true, name, dst, why, whylen) != 0)
            return -1;
    }
    if (!seen_trig)
        return s_fail (why, whylen, "key 'stop': missing key 'trigger'");
    bool has = true;
    memcpy (base + f->off, &has, sizeof has);
    memcpy (base + f->off2, &trig, sizeof trig);
    memcpy (base + f->off3, &price, sizeof price);
    return 0;
}

static int
s_dec_reasons (const struct s_field *f, s_rd_t *r, char *base, char *why, size_t whylen)
{
    uint32_t count;
    int rc = s_rd_container (r, false, &count);
    if (rc != RD_OK)
        return s_rd_fail (rc, "reasons", "array", why, whylen);
    if (count > KT_REASONS_MAX)
        return s_fail (why, whylen, "key 'reasons': more than %d items", KT_REASONS_MAX);
    struct kt_reason_item *items = (void *) (base + f->off2);
    for (uint32_t j = 0; j < count; j++) {
        uint32_t n;
        rc = s_rd_container (r, true, &n);
        if (rc == RD_TYPE)
            return s_fail (why, whylen, "key 'reasons': item %u is not a map", j);
        if (rc != RD_OK)
            return s_rd_fail (rc, "reasons", "map", why, whylen);
        bool seen_code = false, seen_text = false;
        for (uint32_t i = 0; i < n; i++) {
            const char *k;
            size_t kn;
            if (s_dec_subkey (r, "reasons", &k, &kn, why, whylen) != 0)
                return -1;
            if (s_name_is (k, kn, "code", 4)) {
                if (seen_code)
                    return s_fail (why, whylen, "duplicate key 'reasons.code'");
                seen_code = true;
                if (s_dec_str (r, S_CODE_MAX, true, "reasons.code", items[j].code, why, whylen) !=
                    0)
                    return -1;
            } else if (s_name_is (k, kn, "text", 4)) {
                if (seen_text)
                    return s_fail (why, whylen, "duplicate key 'reasons.text'");
                seen_text = true;
                if (s_dec_str (r, S_RTEXT_MAX, false, "reasons.text", items[j].text, why, whylen) !=
                    0)
                    return -1;
            } else if (s_rd_skip (r, why, whylen) != 0)
                return -1;
        }
        if (!seen_code)
            return s_fail (why, whylen, "key 'reasons': item %u: missing key 'code'", j);
    }
    int n = (int) count;
    memcpy (base + f->off, &n, sizeof n);
    return 0;
}

static int
s_dec_field (const struct s_field *f, s_rd_t *r, char *base, char *why, size_t whylen)
{
    char *p = base + f->off;
    switch (f->kind) {
        case F_INT: {
            int64_t x;
            if (s_dec_int (r, f->flags & F_NONNEG, f->name, &x, why, whylen) != 0)
                return -1;
            memcpy (p, &x, sizeof x);
            return 0;
        }
        case F_U32: {
            int64_t x;
            if (s_dec_int (r, true, f->name, &x, why, whylen) != 0)
                return -1;
            if (x > (int64_t) UINT32_MAX)
                return s_fail (why, whylen, "key '%s': integer out of range", f->name);
            uint32_t u = (uint32_t) x;
            memcpy (p, &u, sizeof u);
            return 0;
        }
        case F_BOOL: {
            bool b;
            int rc = s_rd_bool (r, &b);
            if (rc != RD_OK)
                return s_rd_fail (rc, f->name, "boolean", why, whylen);
            memcpy (p, &b, sizeof b);
            return 0;
        }
        case F_STR:
            return s_dec_str (r, f->max, f->flags & F_REQ, f->name, p, why, whylen);
        case F_ENUM: {
            const char *ptr;
            size_t n;
            int rc = s_rd_str (r, &ptr, &n);
            if (rc != RD_OK)
                return s_rd_fail (rc, f->name, "string", why, whylen);
            int x = s_enum_find (f->en, ptr, n);
            if (x == 0) {
                char buf[32];
                return s_fail (why, whylen, "key '%s': unknown value '%s'", f->name,
                               s_printable (ptr, n, buf, sizeof buf));
            }
            memcpy (p, &x, sizeof x);
            return 0;
        }
        case F_STOP:
            return s_dec_stop (f, r, base, why, whylen);
        case F_REASONS:
            return s_dec_reasons (f, r, base, why, whylen);
        default:
            assert (!"unknown field kind");
            return -1;
    }
}

//  Envelope keys: index in the envelope presence mask, or -1.
enum { ENV_V, ENV_TYPE, ENV_SEQ, ENV_TS, ENV_SRC };
static const char *const s_env_names[] = {"v", "type", "seq", "ts", "src"};

static inline int
s_env_key (const char *k, size_t n)
{
    switch (n) {
        case 1:
            return k[0] == 'v' ? ENV_V : -1;
        case 2:
            return memcmp (k, "ts", 2) == 0 ? ENV_TS : -1;
        case 3:
            if (memcmp (k, "seq", 3) == 0)
                return ENV_SEQ;
            return memcmp (k, "src", 3) == 0 ? ENV_SRC : -1;
        case 4:
            return memcmp (k, "type", 4) == 0 ? ENV_TYPE : -1;
        default:
            return -1;
    }
}

static int
s_dec_env (int which, s_rd_t *r, struct kt_msg *out, char *why, size_t whylen)
{
    switch (which) {
        case ENV_V:
        case ENV_TYPE:
            return s_rd_skip (r, why, whylen); //  read by s_dec_head
        case ENV_SEQ: {
            bool neg;
            int64_t sv;
            int rc = s_rd_num (r, &neg, &sv, &out->env.seq);
            if (rc != RD_OK)
                return s_rd_fail (rc, "seq", "integer", why, whylen);
            if (neg)
                return s_fail (why, whylen, "key 'seq': negative");
            return 0;
        }
        case ENV_TS:
            return s_dec_int (r, true, "ts", &out->env.ts_ns, why, whylen);
        case ENV_SRC:
            return s_dec_str (r, sizeof out->env.src - 1, true, "src", out->env.src, why, whylen);
        default:
            return -1;
    }
}

static int
s_dec_key (s_rd_t *r, const char **k, size_t *kn, char *why, size_t whylen)
{
    int rc = s_rd_str (r, k, kn);
    if (rc == RD_TYPE)
        return s_fail (why, whylen, "map key is not a string");
    return rc == RD_OK ? 0 : s_fail (why, whylen, "truncated");
}

//  v and type decide how the rest is read, so they are found first (our encoder puts
//  them first, so this reads two entries).
static int
s_dec_head (s_rd_t r, uint32_t n, struct kt_msg *out, char *why, size_t whylen)
{
    size_t v_at = 0, type_at = 0;
    for (uint32_t i = 0; i < n && !(v_at && type_at); i++) {
        const char *k;
        size_t kn;
        if (s_dec_key (&r, &k, &kn, why, whylen) != 0)
            return -1;
        int e = s_env_key (k, kn);
        if (e == ENV_V && !v_at)
            v_at = r.i;
        else if (e == ENV_TYPE && !type_at)
            type_at = r.i;
        if (s_rd_skip (&r, why, whylen) != 0)
            return -1;
    }
    if (!v_at)
        return s_fail (why, whylen, "missing key 'v'");
    r.i = v_at;
    int64_t ver;
    if (s_dec_int (&r, false, "v", &ver, why, whylen) != 0)
        return -1;
    if (ver != KT_MSG_VERSION)
        return s_fail (why, whylen, "version %lld not supported", (long long) ver);
    out->env.v = ver;
    if (!type_at)
        return s_fail (why, whylen, "missing key 'type'");
    r.i = type_at;
    const char *ptr;
    size_t tn;
    int rc = s_rd_str (&r, &ptr, &tn);
    if (rc != RD_OK)
        return s_rd_fail (rc, "type", "string", why, whylen);
    int t = s_enum_find (&s_type_enum, ptr, tn);
    if (t == 0) {
        char buf[32];
        return s_fail (why, whylen, "unknown type '%s'", s_printable (ptr, tn, buf, sizeof buf));
    }
    out->env.type = (kt_msg_type_t) t;
    return 0;
}

static int
s_decode (const void *data, size_t len, struct kt_msg *out, char *why, size_t whylen)
{
    if (!data || len == 0)
        return s_fail (why, whylen, "empty body");
    if (len > KT_MSG_MAX_BYTES)
        return s_fail (why, whylen, "body too large (%zu bytes)", len);
    s_rd_t r = {data, len, 0};
    uint32_t n;
    int rc = s_rd_container (&r, true, &n);
    if (rc == RD_TYPE)
        return s_fail (why, whylen, "body is not a map");
    if (rc != RD_OK)
        return s_fail (why, whylen, "truncated");
    if (s_dec_head (r, n, out, why, whylen) != 0)
        return -1;

    const struct s_type *t = &s_types[out->env.type];
    char *base = (char *) &out->u;
    uint32_t seen = 0, seen_env = 0;
    int next = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        size_t kn;
        if (s_dec_key (&r, &k, &kn, why, whylen) != 0)
            return -1;
        int idx = -1;
        if (next < t->nfields && s_name_is (k, kn, t->fields[next].name, t->fields[next].namelen))
            idx = next;
        else {
            int e = s_env_key (k, kn);
            if (e >= 0) {
                if (seen_env & (1u << e))
                    return s_fail (why, whylen, "duplicate key '%s'", s_env_names[e]);
                seen_env |= 1u << e;
                if (s_dec_env (e, &r, out, why, whylen) != 0)
                    return -1;
                continue;
            }
            for (int j = 0; j < t->nfields && idx < 0; j++)
                if (s_name_is (k, kn, t->fields[j].name, t->fields[j].namelen))
                    idx = j;
            if (idx < 0) {
                //  Unknown keys are ignored (newer senders), but must be well formed.
                if (s_rd_skip (&r, why, whylen) != 0)
                    return -1;
                continue;
            }
        }
        const struct s_field *f = &t->fields[idx];
        if (seen & (1u << idx))
            return s_fail (why, whylen, "duplicate key '%s'", f->name);
        seen |= 1u << idx;
        if (s_dec_field (f, &r, base, why, whylen) != 0)
            return -1;
        next = idx + 1;
    }
    if (r.i != len)
        return s_fail (why, whylen, "trailing bytes (%zu)", len - r.i);
    for (int e = ENV_SEQ; e <= ENV_SRC; e++)
        if (!(seen_env & (1u << e)))
            return s_fail (why, whylen, "missing key '%s'", s_env_names[e]);
    for (int j = 0; j < t->nfields; j++)
        if ((t->fields[j].flags & F_REQ) && !(seen & (1u << j)))
            return s_fail (why, whylen, "missing key '%s'", t->fields[j].name);
    return 0;
}

//  What a rejected request still tells: its type and its id (intent_id of an intent,
//  coid of a command), when each can be read whole from a top-level map, so the sender
//  can be answered. Stops at the first thing it cannot read.
static void
s_salvage (const void *data, size_t len, struct kt_msg *out)
{
    if (!data || len == 0 || len > KT_MSG_MAX_BYTES)
        return;
    s_rd_t r = {data, len, 0};
    uint32_t n;
    if (s_rd_container (&r, true, &n) != RD_OK)
        return;
    const char *id = NULL;
    size_t idn = 0;
    char why[8];
    for (uint32_t i = 0; i < n; i++) {
        const char *k, *v;
        size_t kn, vn;
        if (s_rd_str (&r, &k, &kn) != RD_OK)
            return;
        bool is_type = s_name_is (k, kn, "type", 4);
        bool is_id = s_name_is (k, kn, "intent_id", 9) || s_name_is (k, kn, "coid", 4);
        if (!is_type && !is_id) {
            if (s_rd_skip (&r, why, sizeof why) != 0)
                return;
            continue;
        }
        if (s_rd_str (&r, &v, &vn) != RD_OK)
            return;
        if (is_type) {
            int t = s_enum_find (&s_type_enum, v, vn);
            out->env.type = t > 0 ? (kt_msg_type_t) t : KT_MSG_NONE;
        } else if (vn > 0 && vn <= KT_ID_WIRE_MAX && !memchr (v, '\0', vn) && !id) {
            id = v;
            idn = vn;
        }
    }
    if (!id)
        return;
    if (out->env.type == KT_MSG_ORDER_INTENT || out->env.type == KT_MSG_NONE)
        memcpy (out->u.intent.intent_id, id, idn);
    else if (out->env.type == KT_MSG_ORDER_COMMAND)
        memcpy (out->u.cmd.coid, id, idn);
}

char *
kt_exec_topic (kt_exec_kind_t kind, char *buf, size_t len)
{
    snprintf (buf, len, "exec.%s", s_enum_str (&s_exec_enum, kind));
    return buf;
}

int
kt_msg_fields (kt_msg_type_t type, struct kt_msg_field *out, int max)
{
    if (type <= KT_MSG_NONE || type >= KT_MSG_TYPE_COUNT)
        return 0;
    static const char *const kinds[] = {
        "int", "uint32", "bool", "string", "enum", "map {trigger, price}", "array of {code, text}"};
    const struct s_type *t = &s_types[type];
    for (int i = 0; i < t->nfields && i < max; i++) {
        const struct s_field *f = &t->fields[i];
        out[i].name = f->name;
        out[i].type = kinds[f->kind];
        out[i].required = (f->flags & F_REQ) != 0;
        out[i].unit = f->unit;
        out[i].max_len = f->kind == F_STR ? f->max : 0;
        //  names[0] is NONE, never valid on the wire
        out[i].values = f->en ? f->en->names + 1 : NULL;
        out[i].nvalues = f->en ? f->en->count - 1 : 0;
    }
    return t->nfields;
}

int
kt_msg_decode (kt_msg_decoder_t *self, const void *data, size_t len, struct kt_msg *out, char *why,
               size_t whylen)
{
    memset (out, 0, sizeof *out);
    if (s_decode (data, len, out, why, whylen) != 0) {
        //  A rejected message leaves nothing half-filled behind but what identifies it.
        memset (out, 0, sizeof *out);
        s_salvage (data, len, out);
        self->rejected++;
        return -1;
    }
    self->decoded++;
    return 0;
}
