/*  kt_stratstate - declarations of the strategy process's keys. */

#include "kt_stratstate.h"

#include <stddef.h>

#define F(n, t, f, doc)                                                                            \
    {                                                                                              \
        n, t, offsetof (struct kt_strat_state_rec, f),                                             \
            sizeof ((struct kt_strat_state_rec *) 0)->f, NULL, NULL, doc                           \
    }

static const kt_schema_field_t s_state_fields[] = {
    F ("strategy", KT_SF_STR, strategy, "strategy.name"),
    F ("id", KT_SF_STR, id, "strategy.id, prefix of its intent ids"),
    F ("day", KT_SF_I64, day, "YYYYMMDD of the strategy's day (0 before its first bar)"),
    F ("atm", KT_SF_I64, atm, "ATM strike of the day, paise (0 until the index's first bar)"),
    F ("universe", KT_SF_I64, universe, "instruments traded today"),
    F ("candidates", KT_SF_I64, candidates, "instruments with a valid swing-low candidate"),
    F ("cands", KT_SF_STR, cands, "the candidates: `SYM low/high` in rupees, space-separated"),
    F ("best_ce", KT_SF_STR, best_ce, "the CE entry wanted now (the pending CE entry)"),
    F ("best_pe", KT_SF_STR, best_pe, "the PE entry wanted now (the pending PE entry)"),
    F ("pending", KT_SF_STR, pending, "pending entries: `coid SYM qty@trigger sl=...`"),
    F ("open_ce", KT_SF_I64, open_ce, "open positions, CE"),
    F ("open_pe", KT_SF_I64, open_pe, "open positions, PE"),
    F ("positions", KT_SF_STR, positions, "positions: `coid SYM sold/bought`"),
    F ("cum_r", KT_SF_STR, cum_r, "cumulative R of the day (realised + unrealised), 4 decimals"),
    F ("realised_r", KT_SF_STR, realised_r, "realised R of the day, 4 decimals"),
    F ("flattened", KT_SF_BOOL, flattened, "1 when flattened for the day (no more entries)"),
    F ("warm", KT_SF_BOOL, warm, "1 once warm-up and recovery are done (intents are sent)"),
    F ("last_bar_ns", KT_SF_I64, last_bar_ns, "start of the last minute given to the strategy, ns"),
    F ("bars", KT_SF_I64, bars, "bars given to the strategy"),
    F ("ticks", KT_SF_I64, ticks, "ticks given to the strategy"),
    F ("intents_sent", KT_SF_I64, intents_sent, "intents sent to risk-gate"),
    F ("approved", KT_SF_I64, approved, "APPROVE decisions"),
    F ("reduced", KT_SF_I64, reduced, "REDUCE decisions"),
    F ("refused", KT_SF_I64, refused, "BLOCK and HALT decisions"),
    F ("timeouts", KT_SF_I64, timeouts, "intents risk-gate never answered"),
    F ("last_decision", KT_SF_STR, last_decision, "the last decision: intent, verdict, reason"),
    F ("updated_ns", KT_SF_I64, updated_ns, "pipeline time of this snapshot, ns"),
    KT_SF_END};

const kt_schema_key_t kt_key_strat_state = {
    "strat:state",
    "strat:state",
    KT_SK_HASH,
    "strategy",
    KT_LIFE_VOLATILE,
    "what the strategy thinks now: candidates, best CE/PE, pending entries, positions, R",
    s_state_fields};

const kt_schema_key_t kt_key_strat_seq = {
    "strat:seq:%s",
    "strat:seq:<id>-<yyMMdd>",
    KT_SK_STRING,
    "strategy",
    KT_LIFE_DURABLE,
    "last intent sequence number reserved for a strategy id and day (INCRBY)",
    NULL};
