/*  risk_breaker - the circuit breakers: the rules whose failure HALTs trading.
 *
 *  DAILY_LOSS, WEEKLY_LOSS, HOURLY_LOSS, DRAWDOWN, CONSEC_LOSS and REJECTS, over the
 *  view and the unrealised P&L. Used twice: by the rule check for every entry (so an
 *  entry that meets a tripped breaker is refused with HALT), and by the core on every
 *  poll and fill (so a loss limit halts trading when prices move, not only when the
 *  strategy next asks). Pure. */

#include "risk.h"

kt_reason_t
risk_breaker_eval (const struct risk_view *v, const struct risk_cfg *cfg, int64_t now_ns,
                   int64_t unrealised, struct risk_result *res)
{
    kt_reason_t first = KT_OK;
#define TRIP(code, ...)                                                                            \
    do {                                                                                           \
        risk_check_add (res, (code), KT_VERDICT_HALT, __VA_ARGS__);                                \
        if (first == KT_OK)                                                                        \
            first = (code);                                                                        \
    } while (0)

    int64_t lim = risk_pnl_muldiv (v->day_start_equity, cfg->max_daily_loss_bps, 10000);
    int64_t day = risk_pnl_day (v, unrealised);
    if (lim > 0 && day <= -lim)
        TRIP (KT_R_DAILY_LOSS, "day P&L %lld <= -%lld", (long long) day, (long long) lim);

    lim = risk_pnl_muldiv (v->week_start_equity, cfg->max_weekly_loss_bps, 10000);
    int64_t week = risk_pnl_week (v, unrealised);
    if (lim > 0 && week <= -lim)
        TRIP (KT_R_WEEKLY_LOSS, "week P&L %lld <= -%lld", (long long) week, (long long) lim);

    lim = risk_pnl_muldiv (v->day_start_equity, cfg->max_hourly_loss_bps, 10000);
    int64_t hour = risk_pnl_hour (v, unrealised, now_ns);
    if (lim > 0 && hour <= -lim)
        TRIP (KT_R_HOURLY_LOSS, "P&L of the last hour %lld <= -%lld", (long long) hour,
              (long long) lim);

    int64_t equity = risk_pnl_equity (v, unrealised);
    int64_t peak = v->peak_equity > equity ? v->peak_equity : equity;
    if (cfg->max_drawdown_bps > 0 && peak > 0) {
        int64_t floor_eq = peak - risk_pnl_muldiv (peak, cfg->max_drawdown_bps, 10000);
        if (equity < floor_eq)
            TRIP (KT_R_DRAWDOWN, "equity %lld < %lld (peak %lld)", (long long) equity,
                  (long long) floor_eq, (long long) peak);
    }

    if (cfg->max_consec_losses > 0 && v->consec_losses >= cfg->max_consec_losses)
        TRIP (KT_R_CONSEC_LOSS, "%lld losing trades in a row (max %lld)",
              (long long) v->consec_losses, (long long) cfg->max_consec_losses);

    if (cfg->max_rejects > 0) {
        //  newest first: the newest max_rejects decide (as in the Lua)
        int last = v->nrejects_ts < cfg->max_rejects ? v->nrejects_ts : (int) cfg->max_rejects;
        int n = risk_view_count_after (v->rejects_ts, last,
                                       now_ns - cfg->reject_window_s * KT_NS_PER_SEC);
        if (n >= cfg->max_rejects)
            TRIP (KT_R_REJECTS, "%d broker rejections in %lld s (max %lld)", n,
                  (long long) cfg->reject_window_s, (long long) cfg->max_rejects);
    }
#undef TRIP
    return first;
}

bool
risk_breaker_is_day_scoped (kt_reason_t code)
{
    return code == KT_R_DAILY_LOSS || code == KT_R_HOURLY_LOSS || code == KT_R_CONSEC_LOSS ||
           code == KT_R_REJECTS;
}
