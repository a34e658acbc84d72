/*  bt_stats - what a run reports, computed from its closed trades: per day (trades, win
 *  rate, R, P&L) and over the run (profit factor, expectancy, drawdowns, Sharpe, best
 *  and worst day).
 *
 *  Money stays int64 paise and R sums stay exact rationals; doubles appear only for
 *  ratios that are statistics (profit factor, Sharpe, drawdown in R for the picture). */

#include "bt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t
bt_trade_pnl (const struct bt_trade *t)
{
    return t->entry_value - t->exit_value;
}

struct strat_rmul
bt_trade_r (const struct bt_trade *t)
{
    return strat_rmul_make (bt_trade_pnl (t), t->r_at_risk);
}

static int
s_cmp_trade (const void *a, const void *b, void *arg)
{
    const struct bt_trade *trades = arg;
    const struct bt_trade *x = &trades[*(const int *) a];
    const struct bt_trade *y = &trades[*(const int *) b];
    if (x->entry_ts != y->entry_ts)
        return x->entry_ts < y->entry_ts ? -1 : 1;
    int c = strcmp (x->in->sym, y->in->sym);
    if (c)
        return c;
    return x->order_id < y->order_id ? -1 : x->order_id > y->order_id;
}

int
bt_stats_compute (const struct bt_trade *trades, size_t n, const int32_t *days, size_t ndays,
                  struct bt_stats *st)
{
    memset (st, 0, sizeof *st);
    st->best_day = st->worst_day = -1;
    st->src = trades;
    st->order = calloc (n + 1, sizeof *st->order);
    st->days = calloc (ndays + 1, sizeof *st->days);
    if (!st->order || !st->days)
        abort ();
    int m = 0;
    for (size_t i = 0; i < n; i++)
        if (trades[i].closed)
            st->order[m++] = (int) i;
    qsort_r (st->order, (size_t) m, sizeof *st->order, s_cmp_trade, (void *) trades);
    st->trades = m;
    st->ndays = (int) ndays;
    for (size_t d = 0; d < ndays; d++) {
        st->days[d].date = days[d];
        st->days[d].r = strat_rmul_make (0, 1);
        st->days[d].r_ok = true;
    }

    double cum_r = 0, peak_r = 0;
    int64_t cum = 0, peak = 0;
    bool ok = true;
    struct strat_rmul total = strat_rmul_make (0, 1);
    for (int k = 0; k < m; k++) {
        const struct bt_trade *t = &trades[st->order[k]];
        int64_t pnl = bt_trade_pnl (t);
        struct strat_rmul r = bt_trade_r (t);
        total = strat_rmul_add (total, r, &ok);
        st->pnl += pnl;
        if (pnl > 0) {
            st->wins++;
            st->gross_win += pnl;
        } else if (pnl < 0) {
            st->losses++;
            st->gross_loss -= pnl;
        }
        cum_r += strat_rmul_double (r);
        if (cum_r > peak_r)
            peak_r = cum_r;
        if (peak_r - cum_r > st->max_dd_r)
            st->max_dd_r = peak_r - cum_r;
        cum += pnl;
        if (cum > peak)
            peak = cum;
        if (peak - cum > st->max_dd)
            st->max_dd = peak - cum;
        int32_t date = kt_ist_yyyymmdd (t->entry_ts);
        for (size_t d = 0; d < ndays; d++) {
            struct bt_day *day = &st->days[d];
            if (day->date != date)
                continue;
            day->trades++;
            day->wins += pnl > 0;
            day->losses += pnl < 0;
            day->pnl += pnl;
            bool dok = true;
            day->r = strat_rmul_add (day->r, r, &dok);
            day->r_ok = day->r_ok && dok;
            break;
        }
    }
    st->total_r = ok ? strat_rmul_double (total) : cum_r;
    st->expectancy_r = m ? st->total_r / m : 0;
    st->pf = st->gross_loss  ? (double) st->gross_win / (double) st->gross_loss
             : st->gross_win ? INFINITY
                             : 0;

    double mean = 0, var = 0;
    for (int d = 0; d < st->ndays; d++) {
        mean += (double) st->days[d].pnl;
        if (st->best_day < 0 || st->days[d].pnl > st->days[st->best_day].pnl)
            st->best_day = d;
        if (st->worst_day < 0 || st->days[d].pnl < st->days[st->worst_day].pnl)
            st->worst_day = d;
    }
    if (st->ndays > 1) {
        mean /= st->ndays;
        for (int d = 0; d < st->ndays; d++)
            var += ((double) st->days[d].pnl - mean) * ((double) st->days[d].pnl - mean);
        var /= st->ndays - 1;
        st->sharpe = var > 0 ? mean / sqrt (var) * sqrt (252.0) : 0;
    }
    return 0;
}

void
bt_stats_free (struct bt_stats *st)
{
    free (st->days);
    free (st->order);
    st->days = NULL;
    st->order = NULL;
}
