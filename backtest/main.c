/*  backtest - run a strategy over recorded minute bars at full speed and write its
 *  report (docs/backtest.md). Wiring only: argv, files, the progress bar. */

#include "bt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct s_args {
    const char *bars, *ticks, *instruments, *out, *config;
    const char *seed, *days, *from, *mode; //  synthetic mode
    bool risk;
    bool quiet;
};

static int
s_usage (const char *why)
{
    if (why)
        fprintf (stderr, "backtest: %s\n", why);
    fprintf (
        stderr,
        "usage: backtest --bars FILE | --ticks FILE  --instruments FILE --out DIR [--risk on|off]\n"
        "                [--config FILE] [--quiet]\n"
        "       backtest --synthetic SEED --days N [--from YYYY-MM-DD] [--mode ticks|bars]\n"
        "                --out DIR [--risk on|off] [--config FILE] [--quiet]\n");
    return 2;
}

static int
s_parse_args (int argc, char **argv, struct s_args *a)
{
    memset (a, 0, sizeof *a);
    a->risk = true;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp (k, "--help") == 0 || strcmp (k, "-h") == 0) {
            s_usage (NULL);
            exit (0);
        }
        if (strcmp (k, "--quiet") == 0) {
            a->quiet = true;
            continue;
        }
        if (i + 1 >= argc)
            return s_usage ("an option is missing its value");
        const char *v = argv[++i];
        if (strcmp (k, "--bars") == 0)
            a->bars = v;
        else if (strcmp (k, "--ticks") == 0)
            a->ticks = v;
        else if (strcmp (k, "--instruments") == 0)
            a->instruments = v;
        else if (strcmp (k, "--out") == 0)
            a->out = v;
        else if (strcmp (k, "--config") == 0 || strcmp (k, "-c") == 0)
            a->config = v;
        else if (strcmp (k, "--synthetic") == 0)
            a->seed = v;
        else if (strcmp (k, "--days") == 0)
            a->days = v;
        else if (strcmp (k, "--from") == 0)
            a->from = v;
        else if (strcmp (k, "--mode") == 0) {
            if (strcmp (v, "ticks") != 0 && strcmp (v, "bars") != 0)
                return s_usage ("--mode takes ticks or bars");
            a->mode = v;
        } else if (strcmp (k, "--risk") == 0) {
            if (strcmp (v, "on") != 0 && strcmp (v, "off") != 0)
                return s_usage ("--risk takes on or off");
            a->risk = strcmp (v, "on") == 0;
        } else {
            char why[160];
            snprintf (why, sizeof why, "unknown option \"%s\"", k);
            return s_usage (why);
        }
    }
    if (a->seed) {
        if (a->bars || a->ticks || a->instruments)
            return s_usage ("--synthetic replaces --bars, --ticks and --instruments");
        if (!a->days || !a->out)
            return s_usage ("--synthetic needs --days and --out");
        return 0;
    }
    if (a->days || a->from || a->mode)
        return s_usage ("--days, --from and --mode go with --synthetic");
    if (!!a->bars == !!a->ticks)
        return s_usage ("one of --bars, --ticks or --synthetic is required");
    if (!a->instruments || !a->out)
        return s_usage ("--instruments and --out are required");
    return 0;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  A one-line progress bar on a terminal, redrawn at most every 100 ms.
static void
s_progress (size_t pos, size_t size, int64_t *last_ms, bool done)
{
    int64_t now = s_now_ms ();
    if (!done && now - *last_ms < 100)
        return;
    *last_ms = now;
    int pct = size ? (int) (pos * 100 / size) : 100;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[40] = '\0';
    fprintf (stderr, "\r[%s] %3d%%%s", bar, pct, done ? "\n" : "");
}

//  Statistics and the outputs. Returns the exit code.
static int
s_finish (const bt_engine_t *eng, const struct bt_cfg *cfg, const struct s_args *a)
{
    char err[1024];
    size_t ntr, ndays;
    const struct bt_trade *tr = bt_engine_trades (eng, &ntr);
    const int32_t *days = bt_engine_days (eng, &ndays);
    struct bt_stats st;
    bt_stats_compute (tr, ntr, days, ndays, &st);
    int rc = 0;
    if (bt_report_write (a->out, cfg, eng, &st, a->quiet ? NULL : stdout, err, sizeof err) != 0) {
        fprintf (stderr, "backtest: %s\n", err);
        rc = 1;
    }
    bt_stats_free (&st);
    return rc;
}

static void
s_synth_progress (void *arg, int i, int n)
{
    int64_t *last_ms = arg;
    s_progress ((size_t) i, (size_t) n, last_ms, i == n);
}

static int
s_run_synthetic (const struct s_args *a, const struct bt_cfg *cfg)
{
    char err[1024];
    char *end;
    errno = 0;
    unsigned long long seed = strtoull (a->seed, &end, 10);
    if (errno || *end || !*a->seed || a->seed[0] == '-')
        return s_usage ("--synthetic takes a seed (a whole number)");
    long days = strtol (a->days, &end, 10);
    if (*end || days < 1 || days > BT_SYNTH_DAYS_MAX)
        return s_usage ("--days takes a number of trading days (1..250)");
    int y = 2026, mo = 11, d = 23;
    if (a->from && kt_ist_parse_date (a->from, &y, &mo, &d) != 0)
        return s_usage ("--from takes a date YYYY-MM-DD");
    struct bt_synth_cfg sc = {seed,       y * 10000 + mo * 100 + d,
                              (int) days, (int) cfg->strat.p.strikes_each_side,
                              75,         !a->mode || strcmp (a->mode, "ticks") == 0};
    bt_risk_t *risk = a->risk ? bt_risk_new (&cfg->risk) : NULL;
    bt_engine_t *eng = bt_engine_new (NULL, NULL, risk ? bt_risk_decide : NULL, risk);
    if (risk)
        bt_risk_attach (risk, eng);
    int64_t last_ms = 0;
    bool tty = !a->quiet && isatty (STDERR_FILENO);
    bt_synth_t *run = bt_synth_run (&sc, &cfg->strat, eng, tty ? s_synth_progress : NULL, &last_ms,
                                    err, sizeof err);
    int rc = 2;
    if (!run)
        fprintf (stderr, "backtest: %s\n", err);
    else
        rc = s_finish (eng, cfg, a);
    bt_engine_destroy (&eng);
    bt_risk_destroy (&risk);
    bt_synth_destroy (&run);
    return rc;
}

//  A bars file (bar mode) or a tick file (tick mode) with its instruments.
static int
s_run_file (const struct s_args *a, const struct bt_cfg *cfg)
{
    char err[1024];
    int rc = 2;
    kt_instr_table_t *instr = kt_instr_load (a->instruments, err, sizeof err);
    if (!instr) {
        fprintf (stderr, "%s\n", err);
        return 2;
    }
    strat_core_t *core = strat_core_new (cfg->strat.name, &cfg->strat.p, instr, err, sizeof err);
    if (!core) {
        fprintf (stderr, "backtest: %s\n", err);
        goto out_instr;
    }
    bt_bars_t *bars = NULL;
    bt_ticks_t *ticks = NULL;
    if (a->bars)
        bars = bt_bars_open (a->bars, instr, err, sizeof err);
    else
        ticks = bt_ticks_open (a->ticks, instr, err, sizeof err);
    if (!bars && !ticks) {
        fprintf (stderr, "%s\n", err);
        goto out_core;
    }
    bt_risk_t *risk = a->risk ? bt_risk_new (&cfg->risk) : NULL;
    bt_engine_t *eng = bt_engine_new (core, instr, risk ? bt_risk_decide : NULL, risk);
    if (risk)
        bt_risk_attach (risk, eng);
    int max = (int) kt_instr_count (instr) + 1;
    struct strat_bar *minute = calloc ((size_t) max, sizeof *minute);
    if (!minute)
        abort ();
    const bt_csv_t *csv = bars ? bt_bars_csv (bars) : bt_ticks_csv (ticks);
    size_t size = bt_csv_size (csv);
    bool tty = !a->quiet && isatty (STDERR_FILENO) && size > (4u << 20);
    int64_t last_ms = 0;
    int n;
    struct bt_tick tk;
    for (;;) {
        n = bars ? bt_bars_next (bars, minute, max, err, sizeof err)
                 : bt_ticks_next (ticks, &tk, err, sizeof err);
        if (n <= 0)
            break;
        if ((bars ? bt_engine_minute (eng, minute, n) : bt_engine_tick (eng, &tk)) != 0) {
            snprintf (err, sizeof err, "backtest: the strategy's output overflowed");
            n = -1;
            break;
        }
        if (tty)
            s_progress (bt_csv_pos (csv), size, &last_ms, false);
    }
    if (tty)
        s_progress (size, size, &last_ms, true);
    if (n < 0)
        fprintf (stderr, "%s\n", err);
    else {
        bt_engine_end_day (eng);
        rc = s_finish (eng, cfg, a);
    }
    free (minute);
    bt_engine_destroy (&eng);
    bt_risk_destroy (&risk);
    bt_bars_destroy (&bars);
    bt_ticks_destroy (&ticks);
out_core:
    strat_core_destroy (&core);
out_instr:
    kt_instr_destroy (&instr);
    return rc;
}

int
main (int argc, char **argv)
{
    struct s_args a;
    if (s_parse_args (argc, argv, &a) != 0)
        return 2;
    char err[1024];
    struct bt_cfg cfg;
    bt_cfg_defaults (&cfg);
    if (a.config) {
        kt_cfg_row_t rows[BT_CFG_ROWS_MAX];
        bt_cfg_rows (rows, BT_CFG_ROWS_MAX);
        kt_cfg_t *kc = kt_cfg_load_file (a.config, "backtest", rows, &cfg, err, sizeof err);
        if (!kc) {
            fprintf (stderr, "%s\n", err);
            return 2;
        }
        kt_cfg_destroy (&kc);
    }
    return a.seed ? s_run_synthetic (&a, &cfg) : s_run_file (&a, &cfg);
}
