/*  bt_cfg - the "backtest" section, read together with the "strategy" and "risk" sections
 *  (the backtest runs the strategy's own config and risk-gate's own limits, through
 *  their own tables: the same file can drive all three). */

#include "bt.h"

#include <string.h>

#define O(f) offsetof (struct bt_cfg, f)

static const kt_cfg_row_t s_rows[] = {
    {"backtest.golive_min_trades", KT_CFG_INT, O (golive_min_trades), 0, "100", 0, 1000000000, 0,
     "go-live check: at least this many trades"},
    {"backtest.golive_profit_factor", KT_CFG_DBL, O (golive_pf), 0, "1.5", 0, 1000, 0,
     "go-live check: profit factor above this"},
    {"backtest.golive_sharpe", KT_CFG_DBL, O (golive_sharpe), 0, "1.0", -1000, 1000, 0,
     "go-live check: daily Sharpe (annualised with sqrt 252) above this"},
    {"backtest.golive_max_drawdown_pct", KT_CFG_BPS, O (golive_max_dd_bps), 0, "20", 0, 10000, 0,
     "go-live check: max drawdown below this share of risk.capital, percent"},
    KT_CFG_END};

//  Without --config the backtest judges with deploy/config/sim.json's limits: the
//  risk rows whose table default differs from that file get its value here.
static const struct {
    const char *path, *def;
} s_risk_defs[] = {
    {"risk.capital", "20000000"},         {"risk.max_order_margin", "3000000"},
    {"risk.max_daily_loss_pct", "1"},     {"risk.max_weekly_loss_pct", "2.5"},
    {"risk.max_hourly_loss_pct", "0.75"}, {"risk.max_drawdown_pct", "10"},
    {"risk.max_consec_losses", "6"},      {"risk.max_trades_hour", "8"},
};

int
bt_cfg_rows (kt_cfg_row_t *out, int max)
{
    int n = 0;
    for (const kt_cfg_row_t *r = strat_cfg_table; r->path && n < max - 1; r++)
        out[n++] = *r; //  struct strat_cfg sits at offset 0 of struct bt_cfg
    for (const kt_cfg_row_t *r = s_rows; r->path && n < max - 1; r++)
        out[n++] = *r;
    for (const kt_cfg_row_t *r = risk_cfg_table; r->path && n < max - 1; r++) {
        out[n] = *r;
        out[n].offset += O (risk);
        for (size_t i = 0; i < sizeof s_risk_defs / sizeof s_risk_defs[0]; i++)
            if (strcmp (r->path, s_risk_defs[i].path) == 0)
                out[n].def = s_risk_defs[i].def;
        n++;
    }
    out[n] = (kt_cfg_row_t) KT_CFG_END;
    return n;
}

void
bt_cfg_defaults (struct bt_cfg *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    kt_cfg_row_t rows[BT_CFG_ROWS_MAX];
    bt_cfg_rows (rows, BT_CFG_ROWS_MAX);
    strat_cfg_apply_defaults (rows, cfg);
}
