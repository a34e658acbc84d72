/*  kt_reason - the one list of machine reason codes (risk checks, message rejects,
 *  broker errors), with their stable names.
 *
 *  The names are what travels in RISK_DECISION reasons[].code, in logs and in alerts;
 *  they match the codes in docs/risk-gate.md. Append new codes at the end of a group. */

#ifndef KT_REASON_H
#define KT_REASON_H

#define KT_REASON_LIST(X)                                                                          \
    X (KT_OK, "OK")                                                                                \
    X (KT_R_STATE, "STATE")                                                                        \
    X (KT_R_KILL, "KILL")                                                                          \
    X (KT_R_HOURS, "HOURS")                                                                        \
    X (KT_R_SESSION, "SESSION")                                                                    \
    X (KT_R_STALE_MD, "STALE_MD")                                                                  \
    X (KT_R_INSTRUMENT, "INSTRUMENT")                                                              \
    X (KT_R_LOT, "LOT")                                                                            \
    X (KT_R_TICK, "TICK")                                                                          \
    X (KT_R_PRICE_BAND, "PRICE_BAND")                                                              \
    X (KT_R_MAX_LOTS, "MAX_LOTS")                                                                  \
    X (KT_R_FREEZE, "FREEZE")                                                                      \
    X (KT_R_NOTIONAL_ORDER, "NOTIONAL_ORDER")                                                      \
    X (KT_R_MAX_POS, "MAX_POS")                                                                    \
    X (KT_R_DEPLOY, "DEPLOY")                                                                      \
    X (KT_R_MARGIN_BUFFER, "MARGIN_BUFFER")                                                        \
    X (KT_R_RISK_PER_TRADE, "RISK_PER_TRADE")                                                      \
    X (KT_R_DAILY_LOSS, "DAILY_LOSS")                                                              \
    X (KT_R_WEEKLY_LOSS, "WEEKLY_LOSS")                                                            \
    X (KT_R_HOURLY_LOSS, "HOURLY_LOSS")                                                            \
    X (KT_R_DRAWDOWN, "DRAWDOWN")                                                                  \
    X (KT_R_CONSEC_LOSS, "CONSEC_LOSS")                                                            \
    X (KT_R_TRADES_DAY, "TRADES_DAY")                                                              \
    X (KT_R_TRADES_HOUR, "TRADES_HOUR")                                                            \
    X (KT_R_SPACING, "SPACING")                                                                    \
    X (KT_R_ORDER_RATE, "ORDER_RATE")                                                              \
    X (KT_R_REJECTS, "REJECTS")                                                                    \
    X (KT_R_DUPLICATE, "DUPLICATE")                                                                \
    X (KT_R_STORE_DOWN, "STORE_DOWN")                                                              \
    X (KT_R_BAD_INTENT, "BAD_INTENT")                                                              \
    X (KT_R_EXEC_DOWN, "EXEC_DOWN")                                                                \
    X (KT_R_BAD_MSG, "BAD_MSG")                                                                    \
    X (KT_R_BROKER, "BROKER")

#define KT_REASON_ENUM_(id, name) id,
typedef enum { KT_REASON_LIST (KT_REASON_ENUM_) KT_R_COUNT } kt_reason_t;
#undef KT_REASON_ENUM_

//  Stable name of a code ("MAX_POS"); "UNKNOWN" if out of range. Static string.
const char *kt_reason_str (kt_reason_t code);

//  Code of a name, or -1 if unknown.
int kt_reason_parse (const char *name);

#endif
