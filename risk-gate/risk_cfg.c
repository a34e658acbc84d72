/*  risk_cfg - the keys of section "risk": every limit of the rule table with its default.
 *
 *  Used by risk-gate (kt_cfg_load) and by tests (risk_cfg_defaults). Each row names the
 *  JSON path, the type (MONEY = rupees in the file, paise here; BPS = percent in the file,
 *  basis points here), the default and the bounds. docs/configuration.md explains each
 *  key; deploy/config/{sim,paper,live}.json carry every key. */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "risk.h"

#define O(f) offsetof (struct risk_cfg, f)
#define RUPEES(n) ((int64_t) (n) *100)

const kt_cfg_row_t risk_cfg_table[] = {
    {"risk.capital", KT_CFG_MONEY, O (capital), 0, "1000000", RUPEES (1000), RUPEES (1000000000), 0,
     "initial capital (rupees) written to the capital hash when it does not exist yet"},
    {"risk.exchange", KT_CFG_STR, O (exchange), 8, "\"NFO\"", 0, -1, 0,
     "INSTRUMENT: the exchange orders may go to"},
    {"risk.segments", KT_CFG_STR, O (segments), 64, "\"NFO-OPT\"", 0, -1, 0,
     "INSTRUMENT: tradable segments, comma separated"},
    {"risk.market_open", KT_CFG_STR, O (market_open), 6, "\"09:15\"", 0, -1, 0,
     "HOURS: market opens (IST, HH:MM)"},
    {"risk.market_close", KT_CFG_STR, O (market_close), 6, "\"15:30\"", 0, -1, 0,
     "HOURS: market closes (IST, HH:MM)"},
    {"risk.entry_cutoff", KT_CFG_STR, O (entry_cutoff), 6, "\"15:00\"", 0, -1, 0,
     "HOURS: no entries at or after this time (IST, HH:MM)"},
    {"risk.stale_md_s", KT_CFG_INT, O (stale_md_s), 0, "10", 1, 3600, 0,
     "STALE_MD: entries blocked when the instrument's last tick is older (seconds)"},
    {"risk.price_band_pct", KT_CFG_BPS, O (price_band_bps), 0, "20", 1, 10000, 0,
     "PRICE_BAND: limit and trigger within this percent of the last price"},
    {"risk.max_lots", KT_CFG_INT, O (max_lots), 0, "10", 1, 10000, 0,
     "MAX_LOTS: lots per order; above -> REDUCE"},
    {"risk.freeze_qty.NIFTY", KT_CFG_INT, O (freeze[0]), 0, "1800", 0, 1000000, 0,
     "FREEZE: exchange freeze quantity (units per order) of NIFTY options"},
    {"risk.freeze_qty.BANKNIFTY", KT_CFG_INT, O (freeze[1]), 0, "900", 0, 1000000, 0,
     "FREEZE: of BANKNIFTY"},
    {"risk.freeze_qty.FINNIFTY", KT_CFG_INT, O (freeze[2]), 0, "1800", 0, 1000000, 0,
     "FREEZE: of FINNIFTY"},
    {"risk.freeze_qty.MIDCPNIFTY", KT_CFG_INT, O (freeze[3]), 0, "2800", 0, 1000000, 0,
     "FREEZE: of MIDCPNIFTY"},
    {"risk.freeze_qty.SENSEX", KT_CFG_INT, O (freeze[4]), 0, "1000", 0, 1000000, 0,
     "FREEZE: of SENSEX"},
    {"risk.freeze_qty.default", KT_CFG_INT, O (freeze[5]), 0, "600", 0, 1000000, 0,
     "FREEZE: of any other underlying (0 = no limit)"},
    {"risk.freeze_slice", KT_CFG_BOOL, O (freeze_slice), 0, "true", 0, -1, 0,
     "FREEZE: above the freeze quantity approve and let exec-gateway slice (true) or REDUCE"},
    {"risk.max_slices", KT_CFG_INT, O (max_slices), 0, "10", 1, 50, 0,
     "FREEZE: most slices exec-gateway may cut one order into"},
    {"risk.max_order_notional", KT_CFG_MONEY, O (max_order_notional), 0, "100000", 0,
     RUPEES (10000000000LL), 0, "NOTIONAL_ORDER: premium x qty of one buy order (rupees)"},
    {"risk.max_order_margin", KT_CFG_MONEY, O (max_order_margin), 0, "2000000", 0,
     RUPEES (10000000000LL), 0, "NOTIONAL_ORDER: margin estimate of one sell order (rupees)"},
    {"risk.market_reserve_pct", KT_CFG_BPS, O (market_reserve_bps), 0, "5", 0, 10000, 0,
     "buys at market: capital reserved above the last price (>= exec market protection)"},
    {"risk.max_positions", KT_CFG_INT, O (max_positions), 0, "5", 1, 1000, 0,
     "MAX_POS: open positions, with the entry, at most this"},
    {"risk.max_per_type", KT_CFG_INT, O (max_per_type), 0, "3", 1, 1000, 0,
     "MAX_POS: same, per option type (CE, PE)"},
    {"risk.max_pending_per_type", KT_CFG_INT, O (max_pending_per_type), 0, "1", 1, 1000, 0,
     "MAX_POS: pending entries (no fill yet) per option type"},
    {"risk.max_per_symbol", KT_CFG_INT, O (max_per_symbol), 0, "1", 1, 1000, 0,
     "MAX_POS: pending entries per symbol (a held symbol may get a new entry)"},
    {"risk.capital_stage_pct", KT_CFG_INT, O (capital_stage_pct), 0, "100", 0, 100, 0,
     "gradual rollout: percent of equity DEPLOY, MARGIN_BUFFER and the R cap work on (0 = no "
     "entries)"},
    {"risk.max_deploy_pct", KT_CFG_BPS, O (max_deploy_bps), 0, "80", 1, 10000, 0,
     "DEPLOY: reserved + deployed capital at most this percent of equity"},
    {"risk.margin_buffer", KT_CFG_MONEY, O (margin_buffer), 0, "50000", 0, RUPEES (10000000000LL),
     0, "MARGIN_BUFFER: capital left free after the order (rupees)"},
    {"risk.max_risk_per_trade", KT_CFG_MONEY, O (max_risk_per_trade), 0, "10000", 0,
     RUPEES (10000000000LL), 0,
     "RISK_PER_TRADE: R (entry to attached stop) per entry (rupees, 0 = off)"},
    {"risk.max_risk_per_trade_pct", KT_CFG_BPS, O (max_risk_per_trade_bps), 0, "1", 0, 10000, 0,
     "RISK_PER_TRADE: R per entry as percent of equity (0 = off); the lower limit wins"},
    {"risk.require_stop", KT_CFG_BOOL, O (require_stop), 0, "true", 0, -1, 0,
     "RISK_PER_TRADE: an entry without an attached stop is blocked"},
    {"risk.max_daily_loss_pct", KT_CFG_BPS, O (max_daily_loss_bps), 0, "3", 0, 10000, 0,
     "DAILY_LOSS: day P&L at or below -this percent of the day's starting equity -> HALT"},
    {"risk.max_weekly_loss_pct", KT_CFG_BPS, O (max_weekly_loss_bps), 0, "6", 0, 10000, 0,
     "WEEKLY_LOSS: week P&L at or below -this percent of the week's starting equity -> HALT"},
    {"risk.max_hourly_loss_pct", KT_CFG_BPS, O (max_hourly_loss_bps), 0, "5", 0, 10000, 0,
     "HOURLY_LOSS: P&L of the last 60 min at or below -this percent -> HALT"},
    {"risk.max_drawdown_pct", KT_CFG_BPS, O (max_drawdown_bps), 0, "15", 0, 10000, 0,
     "DRAWDOWN: equity below peak x (1 - this percent) -> HALT"},
    {"risk.max_consec_losses", KT_CFG_INT, O (max_consec_losses), 0, "5", 0, 1000, 0,
     "CONSEC_LOSS: this many losing trades in a row -> HALT (0 = off)"},
    {"risk.max_trades_day", KT_CFG_INT, O (max_trades_day), 0, "40", 1, 100000, 0,
     "TRADES_DAY: entries per trading day"},
    {"risk.max_trades_hour", KT_CFG_INT, O (max_trades_hour), 0, "5", 1, RISK_TS_MAX - 1, 0,
     "TRADES_HOUR: entries in the last 60 minutes"},
    {"risk.min_spacing_s", KT_CFG_INT, O (min_spacing_s), 0, "0", 0, 86400, 0,
     "SPACING: seconds between two entries (0 = off)"},
    {"risk.max_orders_per_s", KT_CFG_INT, O (max_orders_per_s), 0, "10", 1, RISK_TS_MAX - 1, 0,
     "ORDER_RATE: orders of every kind in the last second (entries blocked above)"},
    {"risk.max_modifies_per_s", KT_CFG_INT, O (max_modifies_per_s), 0, "5", 1, RISK_TS_MAX - 1, 0,
     "ORDER_RATE: modifications of entries in the last second"},
    {"risk.max_rejects", KT_CFG_INT, O (max_rejects), 0, "5", 0, RISK_TS_MAX - 1, 0,
     "REJECTS: broker rejections in the window -> HALT (0 = off)"},
    {"risk.reject_window_s", KT_CFG_INT, O (reject_window_s), 0, "600", 1, 86400, 0,
     "REJECTS: the window (seconds)"},
    {"risk.flatten_on_halt", KT_CFG_BOOL, O (flatten_on_halt), 0, "false", 0, -1, 0,
     "a HALT also flattens every position (it always cancels pending entries)"},
    {"risk.poll_ms", KT_CFG_INT, O (poll_ms), 0, "250", 10, 60000, 0,
     "kill switch / state / reconciler poll and P&L mark period (wall ms)"},
    {"risk.state_pub_ms", KT_CFG_INT, O (state_pub_ms), 0, "5000", 100, 600000, 0,
     "RISK_STATE is published on every change and at least this often (wall ms)"},
    {"risk.resv_timeout_s", KT_CFG_INT, O (resv_timeout_s), 0, "30", 1, 3600, 0,
     "an order unanswered this long (pipeline s) is looked up; swept every third of it"},
    {"risk.intent_ttl_s", KT_CFG_INT, O (intent_ttl_s), 0, "604800", 3600, 31536000, 0,
     "decided intents are kept this long for duplicate replies (seconds)"},
    KT_CFG_END};

static const char *s_freeze_names[RISK_FREEZE_ROWS - 1] = {"NIFTY", "BANKNIFTY", "FINNIFTY",
                                                           "MIDCPNIFTY", "SENSEX"};

int
risk_cfg_defaults (struct risk_cfg *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    for (const kt_cfg_row_t *row = risk_cfg_table; row->path; row++) {
        char *field = (char *) cfg + row->offset;
        const char *d = row->def;
        switch (row->type) {
            case KT_CFG_INT:
                *(int64_t *) field = strtoll (d, NULL, 10);
                break;
            case KT_CFG_MONEY:
                if (kt_money_parse_exact (d, strlen (d), (int64_t *) field) != 0)
                    return -1;
                break;
            case KT_CFG_BPS: {
                int64_t paise; //  percent with two decimals == basis points
                if (kt_money_parse_exact (d, strlen (d), &paise) != 0)
                    return -1;
                *(int64_t *) field = paise;
                break;
            }
            case KT_CFG_BOOL:
                *(bool *) field = strcmp (d, "true") == 0;
                break;
            case KT_CFG_STR: {
                size_t n = strlen (d);
                if (n < 2 || n - 2 >= row->size)
                    return -1;
                memcpy (field, d + 1, n - 2);
                field[n - 2] = '\0';
                break;
            }
            default:
                return -1;
        }
    }
    return 0;
}

int64_t
risk_cfg_freeze (const struct risk_cfg *cfg, const char *underlying)
{
    for (int i = 0; i < RISK_FREEZE_ROWS - 1; i++) {
        if (underlying && strcmp (underlying, s_freeze_names[i]) == 0)
            return cfg->freeze[i];
    }
    return cfg->freeze[RISK_FREEZE_ROWS - 1];
}

int
risk_cfg_sod (const char *hhmm)
{
    int hh, mm;
    if (!hhmm || kt_ist_parse_hhmm (hhmm, &hh, &mm) != 0)
        return -1;
    return hh * 3600 + mm * 60;
}
