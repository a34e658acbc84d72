/*  bt_report - a run's files: trades.csv (backtest-bars.md "Output"), daily.csv,
 *  summary.json, report.txt (also printed) and equity.svg (cumulative R and rupees by
 *  trade, drawdown shaded), all in the --out directory.
 *
 *  Prices and money are printed from paise with exactly 2 decimals, R multiples from
 *  exact rationals with 4 (half away from zero); doubles are only used for statistics
 *  and the picture's coordinates. */

#include "bt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

char *
bt_format_ts (int64_t ts, char *buf, size_t buflen)
{
    int y, mo, d, hh, mi, ss;
    kt_ist_fields (ts, &y, &mo, &d, &hh, &mi, &ss, NULL);
    snprintf (buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d+0530", y, mo, d, hh, mi, ss);
    return buf;
}

static char *
s_rs (int64_t paise, char *buf)
{
    return kt_money_format (paise, buf, 24);
}

//  What a listed risk decision was about: an intent's kind, or BREAKER for a halt of the
//  breakers at a minute's close.
static const char *
s_ref_kind (const struct bt_refusal *r)
{
    return r->kind == STRAT_I_NONE ? "BREAKER" : strat_ikind_str (r->kind);
}

//  text as a JSON string (escaped by cJSON).
static void
s_json_str (FILE *f, const char *text)
{
    cJSON *j = cJSON_CreateString (text);
    char *p = j ? cJSON_PrintUnformatted (j) : NULL;
    fputs (p ? p : "\"\"", f);
    cJSON_free (p);
    cJSON_Delete (j);
}

static FILE *
s_open (const char *dir, const char *name, char *err, size_t errlen)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    if (!f)
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
    return f;
}

static int
s_close (FILE *f, const char *dir, const char *name, char *err, size_t errlen)
{
    bool bad = ferror (f);
    if (fclose (f) != 0 || bad) {
        snprintf (err, errlen, "%s/%s: write failed", dir, name);
        return -1;
    }
    return 0;
}

static const char *
s_otype (const struct kt_instr *in)
{
    return in->itype == KT_ITYPE_CE ? "CE" : in->itype == KT_ITYPE_PE ? "PE" : "";
}

static int
s_trades_csv (const char *dir, const struct bt_trade *tr, const struct bt_stats *st, char *err,
              size_t errlen)
{
    FILE *f = s_open (dir, "trades.csv", err, errlen);
    if (!f)
        return -1;
    fprintf (f, "tradingsymbol,option_type,qty,entry_time,entry_price,exit_time,exit_price,"
                "r_at_risk,pnl,r_multiple,exit_reason\n");
    for (int k = 0; k < st->trades; k++) {
        const struct bt_trade *t = &tr[st->order[k]];
        char a[40], b[40], p1[24], p2[24], r[24], pnl[24], rm[32];
        fprintf (f, "%s,%s,%lld,%s,%s,%s,%s,%s,%s,%s,%s\n", t->in->sym, s_otype (t->in),
                 (long long) t->qty, bt_format_ts (t->entry_ts, a, sizeof a),
                 s_rs (t->entry_px, p1), bt_format_ts (t->exit_ts, b, sizeof b),
                 s_rs (t->exit_px, p2), s_rs (t->r_at_risk, r), s_rs (bt_trade_pnl (t), pnl),
                 strat_rmul_format (bt_trade_r (t), rm, sizeof rm), bt_exit_str (t->reason));
    }
    return s_close (f, dir, "trades.csv", err, errlen);
}

static void
s_date (int32_t ymd, char *buf, size_t len)
{
    snprintf (buf, len, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100, ymd % 100);
}

static int
s_daily_csv (const char *dir, const struct bt_stats *st, char *err, size_t errlen)
{
    FILE *f = s_open (dir, "daily.csv", err, errlen);
    if (!f)
        return -1;
    fprintf (f, "date,trades,wins,losses,win_rate,r,cum_r,pnl,cum_pnl\n");
    struct strat_rmul cum_r = strat_rmul_make (0, 1);
    int64_t cum = 0;
    for (int d = 0; d < st->ndays; d++) {
        const struct bt_day *day = &st->days[d];
        bool ok = true;
        cum_r = strat_rmul_add (cum_r, day->r, &ok);
        cum += day->pnl;
        char date[16], r[32], cr[32], p[24], cp[24];
        s_date (day->date, date, sizeof date);
        fprintf (f, "%s,%d,%d,%d,%.4f,%s,%s,%s,%s\n", date, day->trades, day->wins, day->losses,
                 day->trades ? (double) day->wins / day->trades : 0.0,
                 strat_rmul_format (day->r, r, sizeof r), strat_rmul_format (cum_r, cr, sizeof cr),
                 s_rs (day->pnl, p), s_rs (cum, cp));
    }
    return s_close (f, dir, "daily.csv", err, errlen);
}

static double
s_fin (double v)
{
    return isfinite (v) ? v : 999999.0; //  JSON has no infinity: a profit factor without loss
}

struct s_check {
    const char *name;
    bool pass;
    char text[96];
};

static int
s_checks (const struct bt_cfg *cfg, const struct bt_stats *st, struct s_check *c)
{
    char a[24], b[24];
    int64_t dd_cap = (int64_t) ((__int128) cfg->risk.capital * cfg->golive_max_dd_bps / 10000);
    c[0] = (struct s_check){"trades", st->trades >= cfg->golive_min_trades, ""};
    snprintf (c[0].text, sizeof c[0].text, "%d >= %lld", st->trades,
              (long long) cfg->golive_min_trades);
    c[1] = (struct s_check){"profit_factor", st->pf > cfg->golive_pf, ""};
    snprintf (c[1].text, sizeof c[1].text, "%.2f > %.2f", s_fin (st->pf), cfg->golive_pf);
    c[2] = (struct s_check){"sharpe", st->sharpe > cfg->golive_sharpe, ""};
    snprintf (c[2].text, sizeof c[2].text, "%.2f > %.2f", st->sharpe, cfg->golive_sharpe);
    c[3] = (struct s_check){"max_drawdown", st->max_dd < dd_cap, ""};
    snprintf (c[3].text, sizeof c[3].text, "Rs %s < Rs %s (%lld.%02lld%% of capital)",
              s_rs (st->max_dd, a), s_rs (dd_cap, b), (long long) cfg->golive_max_dd_bps / 100,
              (long long) cfg->golive_max_dd_bps % 100);
    return 4;
}

static int
s_summary_json (const char *dir, const struct bt_cfg *cfg, const bt_engine_t *eng,
                const struct bt_stats *st, char *err, size_t errlen)
{
    FILE *f = s_open (dir, "summary.json", err, errlen);
    if (!f)
        return -1;
    char a[24], b[24], c[24], d[24];
    size_t nref;
    bt_engine_refusals (eng, &nref);
    fprintf (f,
             "{\n  \"strategy\": \"%s\",\n  \"risk\": \"%s\",\n  \"days\": %d,\n"
             "  \"minutes\": %lld,\n  \"bars\": %lld,\n  \"ticks\": %lld,\n  \"trades\": %d,\n"
             "  \"wins\": %d,\n  \"losses\": %d,\n",
             cfg->strat.name, bt_engine_has_risk (eng) ? "on" : "off", st->ndays,
             (long long) bt_engine_minutes (eng), (long long) bt_engine_bars (eng),
             (long long) bt_engine_ticks (eng), st->trades, st->wins, st->losses);
    fprintf (f,
             "  \"win_rate\": %.4f,\n  \"pnl\": %s,\n  \"gross_win\": %s,\n"
             "  \"gross_loss\": %s,\n  \"profit_factor\": %.4f,\n  \"total_r\": %.4f,\n"
             "  \"expectancy_r\": %.4f,\n  \"max_drawdown_r\": %.4f,\n"
             "  \"max_drawdown\": %s,\n  \"sharpe\": %.4f,\n",
             st->trades ? (double) st->wins / st->trades : 0.0,
             kt_money_format_json (st->pnl, a, 24), kt_money_format_json (st->gross_win, b, 24),
             kt_money_format_json (st->gross_loss, c, 24), s_fin (st->pf), st->total_r,
             st->expectancy_r, st->max_dd_r, kt_money_format_json (st->max_dd, d, 24), st->sharpe);
    if (st->best_day >= 0) {
        char d1[16], d2[16];
        s_date (st->days[st->best_day].date, d1, sizeof d1);
        s_date (st->days[st->worst_day].date, d2, sizeof d2);
        fprintf (f,
                 "  \"best_day\": {\"date\": \"%s\", \"pnl\": %s},\n"
                 "  \"worst_day\": {\"date\": \"%s\", \"pnl\": %s},\n",
                 d1, kt_money_format_json (st->days[st->best_day].pnl, a, 24), d2,
                 kt_money_format_json (st->days[st->worst_day].pnl, b, 24));
    }
    fprintf (f, "  \"risk_refusals\": %zu,\n  \"risk_decisions\": [", nref);
    const struct bt_refusal *ref = bt_engine_refusals (eng, &nref);
    char when[40];
    for (size_t i = 0; i < nref; i++) {
        fprintf (f,
                 "%s\n    {\"time\": \"%s\", \"kind\": \"%s\", \"instrument\": \"%s\", "
                 "\"qty\": %lld, \"verdict\": \"%s\", \"approved_qty\": %lld, \"code\": \"%s\", "
                 "\"text\": ",
                 i ? "," : "", bt_format_ts (ref[i].ts, when, sizeof when),
                 strat_ikind_str (ref[i].kind), ref[i].in ? ref[i].in->sym : "",
                 (long long) ref[i].qty, kt_verdict_str (ref[i].v.verdict),
                 (long long) ref[i].v.qty, ref[i].v.code);
        s_json_str (f, ref[i].v.text);
        fputc ('}', f);
    }
    fprintf (f, "%s],\n  \"golive\": {", nref ? "\n  " : "");
    struct s_check ck[4];
    int n = s_checks (cfg, st, ck);
    for (int i = 0; i < n; i++)
        fprintf (f, "%s\"%s\": %s", i ? ", " : "", ck[i].name, ck[i].pass ? "true" : "false");
    fprintf (f, "}\n}\n");
    return s_close (f, dir, "summary.json", err, errlen);
}

//  Print to up to two streams (the report file and the terminal).
static void
s_out (FILE *a, FILE *b, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    if (a) {
        va_list aq;
        va_copy (aq, ap);
        vfprintf (a, fmt, aq);
        va_end (aq);
    }
    if (b)
        vfprintf (b, fmt, ap);
    va_end (ap);
}

static int
s_report_txt (const char *dir, const struct bt_cfg *cfg, const bt_engine_t *eng,
              const struct bt_trade *tr, const struct bt_stats *st, FILE *out, char *err,
              size_t errlen)
{
    FILE *f = s_open (dir, "report.txt", err, errlen);
    if (!f)
        return -1;
    char a[40], b[40], c[24], d[24], e[24], g[32];
    s_out (f, out,
           "backtest report: %s, %d days, %lld minutes, %lld bars, %lld ticks, --risk %s\n\n",
           cfg->strat.name, st->ndays, (long long) bt_engine_minutes (eng),
           (long long) bt_engine_bars (eng), (long long) bt_engine_ticks (eng),
           bt_engine_has_risk (eng) ? "on" : "off");
    s_out (f, out, "trades\n%-22s %-2s %6s %-24s %9s %-24s %9s %10s %10s %9s %s\n", "symbol", "ty",
           "qty", "entry", "price", "exit", "price", "R at risk", "P&L", "R", "reason");
    for (int k = 0; k < st->trades; k++) {
        const struct bt_trade *t = &tr[st->order[k]];
        char p1[24], p2[24];
        s_out (f, out, "%-22s %-2s %6lld %-24s %9s %-24s %9s %10s %10s %9s %s\n", t->in->sym,
               s_otype (t->in), (long long) t->qty, bt_format_ts (t->entry_ts, a, sizeof a),
               s_rs (t->entry_px, p1), bt_format_ts (t->exit_ts, b, sizeof b),
               s_rs (t->exit_px, p2), s_rs (t->r_at_risk, c), s_rs (bt_trade_pnl (t), d),
               strat_rmul_format (bt_trade_r (t), g, sizeof g), bt_exit_str (t->reason));
    }
    s_out (f, out, "\ndays\n%-10s %6s %8s %10s %12s\n", "date", "trades", "win rate", "R", "P&L");
    for (int i = 0; i < st->ndays; i++) {
        const struct bt_day *day = &st->days[i];
        s_date (day->date, a, sizeof a);
        s_out (f, out, "%-10s %6d %7.1f%% %10s %12s\n", a, day->trades,
               day->trades ? 100.0 * day->wins / day->trades : 0.0,
               strat_rmul_format (day->r, g, sizeof g), s_rs (day->pnl, c));
    }
    s_out (f, out, "\nrun\n  trades %d (won %d, lost %d, win rate %.1f%%)\n", st->trades, st->wins,
           st->losses, st->trades ? 100.0 * st->wins / st->trades : 0.0);
    s_out (f, out, "  P&L Rs %s (won Rs %s, lost Rs %s)\n", s_rs (st->pnl, c),
           s_rs (st->gross_win, d), s_rs (st->gross_loss, e));
    s_out (f, out, "  profit factor %.2f, expectancy %.4f R, total %.4f R\n", s_fin (st->pf),
           st->expectancy_r, st->total_r);
    s_out (f, out, "  max drawdown %.4f R, Rs %s; daily Sharpe (x sqrt 252) %.2f\n", st->max_dd_r,
           s_rs (st->max_dd, c), st->sharpe);
    if (st->best_day >= 0) {
        s_date (st->days[st->best_day].date, a, sizeof a);
        s_date (st->days[st->worst_day].date, b, sizeof b);
        s_out (f, out, "  best day %s Rs %s, worst day %s Rs %s\n", a,
               s_rs (st->days[st->best_day].pnl, c), b, s_rs (st->days[st->worst_day].pnl, d));
    }
    size_t nref;
    const struct bt_refusal *ref = bt_engine_refusals (eng, &nref);
    s_out (f, out, "\nrisk decisions other than APPROVE: %zu\n", nref);
    for (size_t i = 0; i < nref; i++)
        s_out (f, out, "  %s %-7s %-22s qty %lld: %s %s (qty %lld) %s\n",
               bt_format_ts (ref[i].ts, a, sizeof a), s_ref_kind (&ref[i]),
               ref[i].in ? ref[i].in->sym : "-", (long long) ref[i].qty,
               kt_verdict_str (ref[i].v.verdict), ref[i].v.code, (long long) ref[i].v.qty,
               ref[i].v.text);
    struct s_check ck[4];
    int n = s_checks (cfg, st, ck);
    s_out (f, out, "\ngo-live checks\n");
    for (int i = 0; i < n; i++)
        s_out (f, out, "  %s %-14s %s\n", ck[i].pass ? "PASS" : "FAIL", ck[i].name, ck[i].text);
    return s_close (f, dir, "report.txt", err, errlen);
}

//  One panel: a cumulative series by trade with its drawdown from the running peak
//  shaded. x0..x1, y0..y1 are the panel's pixel box.
static void
s_panel (FILE *f, const double *v, int n, double x0, double x1, double y0, double y1,
         const char *title, const char *unit, const char *colour)
{
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    if (hi - lo < 1e-9)
        hi = lo + 1;
    double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
#define SX(i) (x0 + (x1 - x0) * (n > 1 ? (double) (i) / (n - 1) : 0.5))
#define SY(y) (y1 - (y1 - y0) * ((y) -lo) / (hi - lo))
    fprintf (f,
             "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#fff' "
             "stroke='#999'/>\n",
             x0, y0, x1 - x0, y1 - y0);
    fprintf (f, "<text x='%.1f' y='%.1f' font-size='14' font-family='sans-serif'>%s</text>\n", x0,
             y0 - 6, title);
    fprintf (f,
             "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#bbb' "
             "stroke-dasharray='4'/>\n",
             x0, SY (0), x1, SY (0));
    fprintf (f,
             "<text x='%.1f' y='%.1f' font-size='11' font-family='sans-serif' "
             "text-anchor='end'>%.2f %s</text>\n",
             x0 - 4, SY (hi - pad) + 4, hi - pad, unit);
    fprintf (f,
             "<text x='%.1f' y='%.1f' font-size='11' font-family='sans-serif' "
             "text-anchor='end'>%.2f %s</text>\n",
             x0 - 4, SY (lo + pad) + 4, lo + pad, unit);
    if (n == 0)
        return;
    //  Drawdown: the area between the running peak and the curve.
    fprintf (f, "<polygon fill='#f4a6a6' fill-opacity='0.6' stroke='none' points='");
    double peak = v[0];
    for (int i = 0; i < n; i++) {
        peak = v[i] > peak ? v[i] : peak;
        fprintf (f, "%.1f,%.1f ", SX (i), SY (peak));
    }
    for (int i = n - 1; i >= 0; i--)
        fprintf (f, "%.1f,%.1f ", SX (i), SY (v[i]));
    fprintf (f, "'/>\n<polyline fill='none' stroke='%s' stroke-width='2' points='", colour);
    for (int i = 0; i < n; i++)
        fprintf (f, "%.1f,%.1f ", SX (i), SY (v[i]));
    fprintf (f, "'/>\n");
#undef SX
#undef SY
}

static int
s_equity_svg (const char *dir, const struct bt_trade *tr, const struct bt_stats *st, char *err,
              size_t errlen)
{
    FILE *f = s_open (dir, "equity.svg", err, errlen);
    if (!f)
        return -1;
    int n = st->trades + 1;
    double *r = calloc ((size_t) n, sizeof *r);
    double *rs = calloc ((size_t) n, sizeof *rs);
    if (!r || !rs)
        abort ();
    for (int k = 0; k < st->trades; k++) {
        const struct bt_trade *t = &tr[st->order[k]];
        r[k + 1] = r[k] + strat_rmul_double (bt_trade_r (t));
        rs[k + 1] = rs[k] + (double) bt_trade_pnl (t) / 100.0;
    }
    fprintf (f, "<svg xmlns='http://www.w3.org/2000/svg' width='960' height='620' "
                "viewBox='0 0 960 620'>\n<rect width='960' height='620' fill='#fafafa'/>\n");
    s_panel (f, r, n, 90, 940, 40, 290, "cumulative R by trade (drawdown shaded)", "R", "#1f5fa8");
    s_panel (f, rs, n, 90, 940, 340, 590, "cumulative P&amp;L by trade, rupees (drawdown shaded)",
             "Rs", "#2a8a3a");
    fprintf (f,
             "<text x='515' y='612' font-size='11' font-family='sans-serif' "
             "text-anchor='middle'>trade number (0 .. %d)</text>\n</svg>\n",
             st->trades);
    free (r);
    free (rs);
    return s_close (f, dir, "equity.svg", err, errlen);
}

int
bt_report_write (const char *dir, const struct bt_cfg *cfg, const bt_engine_t *eng,
                 const struct bt_stats *st, FILE *out, char *err, size_t errlen)
{
    if (mkdir (dir, 0755) != 0 && errno != EEXIST) {
        snprintf (err, errlen, "%s: %s", dir, strerror (errno));
        return -1;
    }
    const struct bt_trade *tr = st->src;
    if (s_trades_csv (dir, tr, st, err, errlen) != 0 || s_daily_csv (dir, st, err, errlen) != 0 ||
        s_summary_json (dir, cfg, eng, st, err, errlen) != 0 ||
        s_report_txt (dir, cfg, eng, tr, st, out, err, errlen) != 0 ||
        s_equity_svg (dir, tr, st, err, errlen) != 0)
        return -1;
    return 0;
}
