/*  risk_pnl - P&L for the loss limits: unrealised from last prices, equity, and the
 *  day / week / rolling-hour figures on exchange (IST) time.
 *
 *  Pure functions over the view. Realised P&L is the book's (exec-gateway applies fills,
 *  common/kt_book; risk_view derives the day's and the week's); here it is only read. Day and week
 * P&L count the change of unrealised since the period started, so a position carried over night
 * does not count yesterday's move again. The hour uses per-minute marks of day P&L kept in Redis
 * (risk:marks, the last 61 minutes), so a restart mid-day sees the same window. */

#include <string.h>
#include "kt_margin.h"
#include "risk.h"

int64_t
risk_pnl_muldiv (int64_t a, int64_t b, int64_t d)
{
    __int128 p = (__int128) a * b;
    __int128 q = p / d;
    if ((p % d != 0) && ((p < 0) != (d < 0)))
        q -= 1; //  floor, not truncation, like the Lua idiv
    return (int64_t) q;
}

int
risk_pnl_minute (int64_t ts_ns)
{
    return kt_ist_minute_of_day (ts_ns);
}

int64_t
risk_pnl_unrealised (const struct risk_view *view, risk_price_fn *price, void *arg)
{
    int64_t total = 0;
    for (int i = 0; i < view->npos; i++) {
        const struct risk_pos *p = &view->pos[i];
        if (p->qty == 0)
            continue;
        int64_t px = 0, ts = 0;
        if (!price || !price (arg, p->sym, &px, &ts) || px <= 0)
            px = p->last_px;
        if (px <= 0)
            continue; //  no price at all: count at cost
        int64_t signed_basis = p->qty > 0 ? p->basis : -p->basis;
        total += p->qty * px - signed_basis;
    }
    return total;
}

int64_t
risk_pnl_equity (const struct risk_view *view, int64_t unrealised)
{
    return view->initial + view->realised_total + unrealised;
}

int64_t
risk_pnl_day (const struct risk_view *view, int64_t unrealised)
{
    return view->realised_day + unrealised - view->day_start_unrealised;
}

int64_t
risk_pnl_week (const struct risk_view *view, int64_t unrealised)
{
    return view->realised_week + unrealised - view->week_start_unrealised;
}

int64_t
risk_pnl_hour (const struct risk_view *view, int64_t unrealised, int64_t now_ns)
{
    int m = risk_pnl_minute (now_ns);
    int64_t base = 0;
    for (int i = m - 60; i >= 0 && i <= m; i++) {
        if (view->has_mark[i]) {
            base = view->mark[i];
            break;
        }
    }
    return risk_pnl_day (view, unrealised) - base;
}

int64_t
risk_pnl_short_margin (const struct kt_instr *in, int64_t px)
{
    return kt_margin_short (in && in->strike > 0 ? in->strike : px, 1, NULL);
}
