/*  strat_cfg - the keys of section "strategy" (see docs/configuration.md and
 *  docs/strategy.md): the process's id and name, and every number of the core. */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "strat.h"
#include "../risk-gate/risk_cfg.h"

#define O(f) offsetof (struct strat_cfg, f)
#define P(f) offsetof (struct strat_cfg, p.f)
#define RS(x) ((int64_t) (x) *100) //  rupees as paise (MONEY bounds)

const kt_cfg_row_t strat_cfg_table[] = {
    {"strategy.swing_k", KT_CFG_INT, P (swing_k), 0, "2", 1, 10, 0,
     "swing low: strictly below the lows of this many bars before and after"},
    {"strategy.swing_min", KT_CFG_MONEY, P (swing_min), 0, "100", 1, RS (1000000), 0,
     "static filter: lowest swing low, rupees"},
    {"strategy.swing_max", KT_CFG_MONEY, P (swing_max), 0, "300", 1, RS (1000000), 0,
     "static filter: highest swing low, rupees"},
    {"strategy.sl_buffer", KT_CFG_MONEY, P (sl_buffer), 0, "0", 0, RS (10000), 0,
     "sl_price = highest high since the swing + this, rupees"},
    {"strategy.vwap_premium_pct", KT_CFG_BPS, P (vwap_premium_bps), 0, "4", 0, 100000, 0,
     "(swing low - VWAP at the swing bar) / VWAP at least this, percent"},
    {"strategy.sl_pct_min", KT_CFG_BPS, P (sl_pct_min_bps), 0, "2", 0, 10000, 0,
     "sl_points / swing low at least this, percent"},
    {"strategy.sl_pct_max", KT_CFG_BPS, P (sl_pct_max_bps), 0, "10", 0, 10000, 0,
     "sl_points / swing low at most this, percent"},
    {"strategy.r_value", KT_CFG_MONEY, P (r_value), 0, "6500", 1, RS (100000000), 0,
     "R: rupees risked per position; lots = floor(R / (sl_points x lot))"},
    {"strategy.lot_cap", KT_CFG_INT, P (max_lots), 0, "10", 1, 1000, 0, "lot cap per entry"},
    {"strategy.target_sl_points", KT_CFG_MONEY, P (target_sl_points), 0, "10", 0, RS (1000000), 0,
     "best candidate: sl_points nearest this, rupees"},
    {"strategy.entry_buffer_ticks", KT_CFG_INT, P (entry_buffer_ticks), 0, "2", 0, 1000, 0,
     "entry limit = trigger - this many ticks"},
    {"strategy.stop_buffer_ticks", KT_CFG_INT, P (stop_buffer_ticks), 0, "2", 0, 1000, 0,
     "attached stop limit = sl_price + this many ticks"},
    {"strategy.max_open", KT_CFG_INT, P (max_open), 0, "5", 1, 50, 0,
     "open positions (+ the other type's pending entry) below this to keep an entry"},
    {"strategy.max_per_type", KT_CFG_INT, P (max_per_type), 0, "3", 1, 50, 0,
     "open positions of one option type below this to keep an entry of that type"},
    {"strategy.day_target_r", KT_CFG_INT, P (day_target_r), 0, "5", 1, 1000, 0,
     "cumulative R at or above this: flatten for the day"},
    {"strategy.day_loss_r", KT_CFG_INT, P (day_loss_r), 0, "5", 1, 1000, 0,
     "cumulative R at or below minus this: flatten for the day"},
    {"strategy.day_start", KT_CFG_STR, P (day_start), 6, "\"09:15\"", 0, -1, 0,
     "daily reset, HH:MM IST"},
    {"strategy.entry_cutoff", KT_CFG_STR, P (entry_cutoff), 6, "\"15:00\"", 0, -1, 0,
     "no entries from a minute closing at or after this, HH:MM IST"},
    {"strategy.flatten_at", KT_CFG_STR, P (flatten_at), 6, "\"15:15\"", 0, -1, 0,
     "flatten at the close of the minute closing at or after this, HH:MM IST"},
    {"strategy.underlying", KT_CFG_STR, P (underlying), 16, "\"NIFTY\"", 0, -1, 0,
     "options traded: the instruments' name column"},
    {"strategy.index_token", KT_CFG_INT, P (index_token), 0, "256265", 1, 4294967295LL, 0,
     "index token whose first open of the day sets ATM (NIFTY 50)"},
    {"strategy.strike_step", KT_CFG_MONEY, P (strike_step), 0, "50", 1, RS (100000), 0,
     "ATM rounding step, rupees"},
    {"strategy.strikes_each_side", KT_CFG_INT, P (strikes_each_side), 0, "10", 0, 100, 0,
     "universe: strikes ATM - n x step .. ATM + n x step, CE and PE"},
    {"strategy.probe_every", KT_CFG_INT, P (probe_every), 0, "0", 0, 1000000000, 0,
     "strategy \"probe\": one entry every this many ticks (0 = none)"},
    {"strategy.id", KT_CFG_STR, O (id), 8, "\"S1\"", 0, -1, 0,
     "strategy id: prefix of every intent id (intent ids are <= 20 chars, the Kite tag)"},
    {"strategy.name", KT_CFG_STR, O (name), 24, "\"baseline_v1\"", 0, -1, 0,
     "strategy to run: baseline_v1 or probe"},
    {"strategy.product", KT_CFG_STR, O (product), 8, "\"MIS\"", 0, -1, 0,
     "product of the entries: MIS or NRML"},
    {"strategy.bar_grace_ms", KT_CFG_INT, O (bar_grace_ms), 0, "2000", 0, 60000, 0,
     "a minute closes (on_timer) this long after its last bar arrived, wall ms"},
    KT_CFG_END};

int
strat_cfg_apply_defaults (const kt_cfg_row_t *rows, void *base)
{
    for (const kt_cfg_row_t *r = rows; r->path; r++) {
        if (!r->def)
            continue;
        char *field = (char *) base + r->offset;
        size_t len = strlen (r->def);
        switch (r->type) {
            case KT_CFG_INT: {
                char *end;
                *(int64_t *) field = strtoll (r->def, &end, 10);
                if (*end)
                    return -1;
                break;
            }
            case KT_CFG_DBL: {
                char *end;
                *(double *) field = strtod (r->def, &end);
                if (*end)
                    return -1;
                break;
            }
            case KT_CFG_BOOL:
                *(bool *) field = strcmp (r->def, "true") == 0;
                break;
            case KT_CFG_MONEY:
            case KT_CFG_BPS:
                if (kt_money_parse_exact (r->def, len, (int64_t *) field) != 0)
                    return -1;
                break;
            case KT_CFG_STR:
                if (len < 2 || r->def[0] != '"' || len - 2 >= r->size)
                    return -1;
                memcpy (field, r->def + 1, len - 2);
                field[len - 2] = '\0';
                break;
            default:
                return -1;
        }
    }
    return 0;
}

void
strat_params_defaults (struct strat_params *p)
{
    struct strat_cfg c;
    memset (&c, 0, sizeof c);
    strat_cfg_apply_defaults (strat_cfg_table, &c);
    *p = c.p;
}

int
strat_cfg_staged_r (const char *file, int64_t r_value, int64_t *out, int64_t *stage_pct, char *why,
                    size_t whylen)
{
    int64_t stage = 100;
    //  "" or "(name)": a config built in memory (tests, tools), not read from a file
    if (file && file[0] && file[0] != '(') {
        struct risk_cfg rc;
        kt_cfg_t *cfg = kt_cfg_load_file (file, "strategy", risk_cfg_table, &rc, why, whylen);
        if (!cfg)
            return -1;
        stage = rc.capital_stage_pct;
        kt_cfg_destroy (&cfg);
    }
    *out = (int64_t) ((__int128) r_value * stage / 100);
    if (stage_pct)
        *stage_pct = stage;
    return 0;
}
