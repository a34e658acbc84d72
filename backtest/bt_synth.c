/*  bt_synth - a backtest over kite-sim's synthetic market, in process: sim_market as a
 *  library (the same generator kite-sim serves), one session per trading day.
 *
 *  Design: each day's market is run to its close, its minute candles become the day's
 *  bars (index first, then options by token: the bars file's order), and the bar-mode
 *  engine runs them against a strategy instance made for that day's instruments. The
 *  markets and instances are kept until the run is freed, because trades point into
 *  the instruments tables. */

#include "bt.h"
#include "../sim/sim_market.h"

#include <stdlib.h>
#include <string.h>

struct bt_synth {
    int n;
    sim_market_t *markets[BT_SYNTH_DAYS_MAX]; //  owned
    strat_core_t *cores[BT_SYNTH_DAYS_MAX];   //  owned
    int64_t ticks;
};

int32_t
bt_synth_weekday (int32_t ymd)
{
    int64_t days = kt_clock_days_from_civil (ymd / 10000, ymd / 100 % 100, ymd % 100);
    while ((days + 4) % 7 == 0 || (days + 4) % 7 == 6) //  1970-01-01 was a Thursday
        days++;
    int y, mo, d;
    kt_clock_civil_from_days (days, &y, &mo, &d);
    return y * 10000 + mo * 100 + d;
}

static int32_t
s_next_day (int32_t ymd)
{
    int64_t days = kt_clock_days_from_civil (ymd / 10000, ymd / 100 % 100, ymd % 100) + 1;
    int y, mo, d;
    kt_clock_civil_from_days (days, &y, &mo, &d);
    return bt_synth_weekday (y * 10000 + mo * 100 + d);
}

//  Tick mode: every quote of the session, as kite-sim's matching engine sees it.
static int
s_day_ticks (bt_synth_t *self, sim_market_t *m, bt_engine_t *eng, char *err, size_t errlen)
{
    int64_t qty;
    int slot;
    struct kt_fill_quote q;
    while ((slot = sim_market_step (m, &qty)) >= 0) {
        self->ticks++;
        const struct sim_quote *sq = sim_market_quote (m, slot);
        const struct kt_instr *in = sim_market_instr (m, slot);
        memset (&q, 0, sizeof q);
        q.ltp = sq->ltp;
        q.trade_qty = qty;
        q.tick = in->tick;
        for (int i = 0; i < KT_FILL_DEPTH && i < SIM_DEPTH; i++) {
            q.bid[i] = (struct kt_fill_level){sq->bid[i].px, sq->bid[i].qty};
            q.ask[i] = (struct kt_fill_level){sq->ask[i].px, sq->ask[i].qty};
        }
        struct bt_tick tk = {in->token, sq->exch_ns, sq->ltp, qty, qty > 0 || in->lot == 0, &q};
        if (bt_engine_tick (eng, &tk) != 0) {
            snprintf (err, errlen, "backtest: the strategy's output overflowed");
            return -1;
        }
    }
    return 0;
}

//  Bar mode: run the market to its close and feed its candles minute by minute.
static int
s_day (bt_synth_t *self, sim_market_t *m, bt_engine_t *eng, char *err, size_t errlen)
{
    int64_t qty;
    while (sim_market_step (m, &qty) >= 0)
        self->ticks++;
    int n = (int) sim_market_count (m);
    struct sim_candle (*c)[SIM_MARKET_MINUTES] = calloc ((size_t) n, sizeof *c);
    int *nc = calloc ((size_t) n, sizeof *nc);
    int *at = calloc ((size_t) n, sizeof *at);
    struct strat_bar *bars = calloc ((size_t) n, sizeof *bars);
    if (!c || !nc || !at || !bars)
        abort ();
    int64_t open = sim_market_open_ns (m);
    for (int s = 0; s < n; s++)
        nc[s] =
            sim_market_candles (m, s, open, sim_market_close_ns (m) - 1, c[s], SIM_MARKET_MINUTES);
    int rc = 0;
    for (int k = 0; k < SIM_MARKET_MINUTES && rc == 0; k++) {
        int64_t t = open + k * KT_NS_PER_MIN;
        int nb = 0;
        //  Slot order is index, then options by exchange token: ascending tokens.
        for (int s = 0; s < n; s++) {
            if (at[s] >= nc[s] || c[s][at[s]].start_ns != t)
                continue;
            const struct sim_candle *cd = &c[s][at[s]++];
            bars[nb++] = (struct strat_bar){
                sim_market_instr (m, s)->token, t, cd->o, cd->h, cd->l, cd->c, cd->volume};
        }
        if (nb && bt_engine_minute (eng, bars, nb) != 0) {
            snprintf (err, errlen, "backtest: the strategy's output overflowed");
            rc = -1;
        }
    }
    free (c);
    free (nc);
    free (at);
    free (bars);
    return rc;
}

bt_synth_t *
bt_synth_run (const struct bt_synth_cfg *sc, const struct strat_cfg *cfg, bt_engine_t *eng,
              bt_synth_progress_fn *progress, void *arg, char *err, size_t errlen)
{
    if (sc->days < 1 || sc->days > BT_SYNTH_DAYS_MAX) {
        snprintf (err, errlen, "--days: 1..%d", BT_SYNTH_DAYS_MAX);
        return NULL;
    }
    bt_synth_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    int32_t day = bt_synth_weekday (sc->from);
    for (int i = 0; i < sc->days; i++, day = s_next_day (day)) {
        struct sim_market_cfg mc = {sc->seed, day, NULL, sc->strikes_each_side, sc->lot};
        char why[256];
        sim_market_t *m = sim_market_new (&mc, why, sizeof why);
        if (!m) {
            snprintf (err, errlen, "synthetic market %d: %s", day, why);
            goto out_fail;
        }
        self->markets[self->n] = m;
        strat_core_t *core =
            strat_core_new (cfg->name, &cfg->p, sim_market_instruments (m), err, errlen);
        if (!core) {
            self->n++;
            goto out_fail;
        }
        self->cores[self->n++] = core;
        bt_engine_rebind (eng, core, sim_market_instruments (m));
        if ((sc->ticks ? s_day_ticks (self, m, eng, err, errlen)
                       : s_day (self, m, eng, err, errlen)) != 0)
            goto out_fail;
        if (progress)
            progress (arg, i + 1, sc->days);
    }
    bt_engine_end_day (eng);
    return self;

out_fail:
    bt_synth_destroy (&self);
    return NULL;
}

int64_t
bt_synth_ticks (const bt_synth_t *self)
{
    return self->ticks;
}

void
bt_synth_destroy (bt_synth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bt_synth_t *self = *self_p;
    for (int i = 0; i < self->n; i++) {
        strat_core_destroy (&self->cores[i]);
        sim_market_destroy (&self->markets[i]);
    }
    free (self);
    *self_p = NULL;
}
