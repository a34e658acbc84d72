/*  backtest_bench - backtest throughput over a full synthetic day of 42 options (kite-sim's
 *  generator, seed 1, ATM +/- 10 strikes), each beside a loop that only reads the same
 *  input in the same run:
 *    - bar mode, engine: the day's minute bars through baseline_v1 and the bar-mode fill
 *      rules, against a loop summing the same bars. Target >= 1,000,000 bars/s.
 *    - bar mode, file: the same bars as a bars CSV, parsed and run, against parsing only.
 *    - synthetic day in tick mode: every quote generated and run through the shared fill
 *      model, the minute bars and the strategy, against generating the quotes only.
 *      Target: a day of ticks in under 2 s.
 *  The engine and tick-mode figures are given with --risk off and --risk on (every
 *  intent through risk-gate's checks on the in-memory account, sim.json's limits).
 *  Numbers are printed; the coordinator quotes a run on an idle machine. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../backtest/bt.h"
#include "../../sim/sim_market.h"

#define DATE 20261125
#define REPS 40

static int64_t
s_mono (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct day {
    sim_market_t *m;
    struct strat_bar *bars; //  all bars, minute by minute
    int *start;             //  index of each minute's first bar; start[n] = total
    int nmin, nbars;
    int64_t ticks;
};

static void
s_make_day (struct day *d)
{
    char err[256];
    struct sim_market_cfg mc = {1, DATE, NULL, 10, 75};
    d->m = sim_market_new (&mc, err, sizeof err);
    if (!d->m) {
        fprintf (stderr, "bench: %s\n", err);
        exit (1);
    }
    int64_t q;
    while (sim_market_step (d->m, &q) >= 0)
        d->ticks++;
    int n = (int) sim_market_count (d->m);
    d->bars = calloc ((size_t) n * SIM_MARKET_MINUTES, sizeof *d->bars);
    d->start = calloc (SIM_MARKET_MINUTES + 1, sizeof *d->start);
    struct sim_candle *c = calloc (SIM_MARKET_MINUTES, sizeof *c);
    int64_t open = sim_market_open_ns (d->m);
    for (int k = 0; k < SIM_MARKET_MINUTES; k++) {
        int64_t t = open + k * KT_NS_PER_MIN;
        d->start[d->nmin] = d->nbars;
        for (int s = 0; s < n; s++) {
            if (sim_market_candles (d->m, s, t, t, c, 1) != 1)
                continue;
            d->bars[d->nbars++] = (struct strat_bar){
                sim_market_instr (d->m, s)->token, t, c->o, c->h, c->l, c->c, c->volume};
        }
        if (d->nbars > d->start[d->nmin])
            d->nmin++;
    }
    d->start[d->nmin] = d->nbars;
    free (c);
}

//  One pass of the strategy and engine over the day, with risk (NULL = --risk off).
//  Returns the trades made; *nref gets the risk decisions other than APPROVE.
static size_t
s_run_bars (const struct day *d, const struct strat_params *p, const struct risk_cfg *risk,
            size_t *nref)
{
    char err[256];
    const kt_instr_table_t *instr = sim_market_instruments (d->m);
    strat_core_t *core = strat_core_new ("baseline_v1", p, instr, err, sizeof err);
    bt_risk_t *rk = risk ? bt_risk_new (risk) : NULL;
    bt_engine_t *eng = bt_engine_new (core, instr, rk ? bt_risk_decide : NULL, rk);
    if (rk)
        bt_risk_attach (rk, eng);
    for (int k = 0; k < d->nmin; k++)
        bt_engine_minute (eng, d->bars + d->start[k], d->start[k + 1] - d->start[k]);
    bt_engine_end_day (eng);
    size_t n;
    bt_engine_trades (eng, &n);
    bt_engine_refusals (eng, nref);
    bt_engine_destroy (&eng);
    bt_risk_destroy (&rk);
    strat_core_destroy (&core);
    return n;
}

//  The synthetic day in tick mode (risk NULL = --risk off). Returns the run's time (ns).
static int64_t
s_run_synth (const struct strat_cfg *cfg, const struct risk_cfg *risk, int64_t *ticks)
{
    char err[512];
    struct bt_synth_cfg sc = {1, DATE, 1, 10, 75, true};
    bt_risk_t *rk = risk ? bt_risk_new (risk) : NULL;
    bt_engine_t *eng = bt_engine_new (NULL, NULL, rk ? bt_risk_decide : NULL, rk);
    if (rk)
        bt_risk_attach (rk, eng);
    int64_t t0 = s_mono ();
    bt_synth_t *run = bt_synth_run (&sc, cfg, eng, NULL, NULL, err, sizeof err);
    int64_t ns = s_mono () - t0;
    if (!run) {
        fprintf (stderr, "bench: %s\n", err);
        exit (1);
    }
    *ticks = bt_synth_ticks (run);
    bt_synth_destroy (&run);
    bt_engine_destroy (&eng);
    bt_risk_destroy (&rk);
    return ns;
}

static double
s_rate (int64_t items, int64_t ns)
{
    return ns > 0 ? (double) items * 1e9 / (double) ns : 0;
}

int
main (void)
{
    struct day d = {0};
    int64_t t0 = s_mono ();
    s_make_day (&d);
    int64_t gen_ns = s_mono () - t0;
    struct strat_params p;
    strat_params_defaults (&p);
    printf ("day %d: %lld ticks, %d minutes, %d bars (%d instruments)\n", DATE, (long long) d.ticks,
            d.nmin, d.nbars, (int) sim_market_count (d.m));

    //  Bar mode, engine vs reading.
    volatile int64_t sink = 0;
    t0 = s_mono ();
    for (int r = 0; r < REPS; r++)
        for (int i = 0; i < d.nbars; i++)
            sink += d.bars[i].open + d.bars[i].high + d.bars[i].low + d.bars[i].close +
                    d.bars[i].volume + d.bars[i].token;
    int64_t read_ns = s_mono () - t0;
    struct bt_cfg bcfg;
    bt_cfg_defaults (&bcfg);
    for (int on = 0; on < 2; on++) {
        size_t trades = 0, nref = 0;
        t0 = s_mono ();
        for (int r = 0; r < REPS; r++)
            trades = s_run_bars (&d, &p, on ? &bcfg.risk : NULL, &nref);
        int64_t run_ns = s_mono () - t0;
        double bars_s = s_rate ((int64_t) d.nbars * REPS, run_ns);
        printf ("bar mode (engine, --risk %s):  %.2f M bars/s (%zu trades a day, %zu risk "
                "decisions other than APPROVE); reading only %.1f M bars/s; x%.1f; target >= 1 M "
                "bars/s: %s\n",
                on ? "on" : "off", bars_s / 1e6, trades, nref,
                s_rate ((int64_t) d.nbars * REPS, read_ns) / 1e6,
                read_ns > 0 ? (double) run_ns / (double) read_ns : 0,
                bars_s >= 1e6 ? "met" : "NOT MET");
    }

    //  Bar mode from a file: parse + run vs parse only.
    char dir[] = "/tmp/backtest_bench.XXXXXX";
    if (!mkdtemp (dir))
        return 1;
    char path[128];
    snprintf (path, sizeof path, "%s/bars.csv", dir);
    FILE *f = fopen (path, "w");
    fprintf (f, "timestamp,instrument_token,open,high,low,close,volume\n");
    for (int i = 0; i < d.nbars; i++) {
        char ts[40], o[24], h[24], l[24], c[24];
        const struct strat_bar *b = &d.bars[i];
        fprintf (f, "%s,%u,%s,%s,%s,%s,%lld\n", bt_format_ts (b->ts, ts, sizeof ts), b->token,
                 kt_money_format (b->open, o, sizeof o), kt_money_format (b->high, h, sizeof h),
                 kt_money_format (b->low, l, sizeof l), kt_money_format (b->close, c, sizeof c),
                 (long long) b->volume);
    }
    fclose (f);
    const kt_instr_table_t *instr = sim_market_instruments (d.m);
    struct strat_bar *minute = calloc (kt_instr_count (instr) + 1, sizeof *minute);
    int64_t parse_ns = 0, file_ns = 0;
    char err[512];
    for (int mode = 0; mode < 2; mode++) {
        t0 = s_mono ();
        for (int r = 0; r < REPS / 4; r++) {
            bt_bars_t *bb = bt_bars_open (path, instr, err, sizeof err);
            if (!bb) {
                fprintf (stderr, "bench: %s\n", err);
                return 1;
            }
            strat_core_t *core =
                mode ? strat_core_new ("baseline_v1", &p, instr, err, sizeof err) : NULL;
            bt_engine_t *eng = mode ? bt_engine_new (core, instr, NULL, NULL) : NULL;
            int n;
            while ((n = bt_bars_next (bb, minute, (int) kt_instr_count (instr) + 1, err,
                                      sizeof err)) > 0)
                if (eng)
                    bt_engine_minute (eng, minute, n);
            if (n < 0) {
                fprintf (stderr, "bench: %s\n", err);
                return 1;
            }
            bt_engine_destroy (&eng);
            strat_core_destroy (&core);
            bt_bars_destroy (&bb);
        }
        *(mode ? &file_ns : &parse_ns) = s_mono () - t0;
    }
    unlink (path);
    rmdir (dir);
    printf (
        "bar mode (CSV file): %.2f M bars/s parsed and run; parsing only %.2f M bars/s; x%.2f\n",
        s_rate ((int64_t) d.nbars * (REPS / 4), file_ns) / 1e6,
        s_rate ((int64_t) d.nbars * (REPS / 4), parse_ns) / 1e6,
        parse_ns > 0 ? (double) file_ns / (double) parse_ns : 0);

    //  Synthetic day: generate + bars + strategy vs generating only.
    struct strat_cfg cfg;
    memset (&cfg, 0, sizeof cfg);
    cfg.p = p;
    snprintf (cfg.name, sizeof cfg.name, "baseline_v1");
    for (int on = 0; on < 2; on++) {
        int64_t ticks = 0;
        int64_t syn_ns = s_run_synth (&cfg, on ? &bcfg.risk : NULL, &ticks);
        printf ("tick mode, synthetic day (--risk %s): %.3f s (%.2f M ticks/s) generated and run; "
                "generating only %.3f s (%.2f M ticks/s); target < 2 s: %s\n",
                on ? "on" : "off", (double) syn_ns / 1e9, s_rate (ticks, syn_ns) / 1e6,
                (double) gen_ns / 1e9, s_rate (d.ticks, gen_ns) / 1e6,
                syn_ns < 2000000000LL ? "met" : "NOT MET");
    }
    free (minute);
    free (d.bars);
    free (d.start);
    sim_market_destroy (&d.m);
    return sink == 42 ? 2 : 0;
}
