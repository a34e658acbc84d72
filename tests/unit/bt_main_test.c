/*  bt_main_test - build/bin/backtest end to end on a small hand-made bars file and the
 *  NIFTY instruments fixture: the exact trades.csv, the other outputs present, bad
 *  input and bad arguments exiting 2 with the reason, --config applied and checked,
 *  --risk on by default (same trades as --risk off when no limit binds), and a binding
 *  limit that changes the run and is listed with its code. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define FIXTURE "tests/fixtures/instruments_nifty.csv"

static char s_dir[64];
static char s_bin[256];

static int
s_setup (void **state)
{
    (void) state;
    const char *build = getenv ("KT_BUILD");
    snprintf (s_bin, sizeof s_bin, "%s/bin/backtest", build && *build ? build : "build");
    if (access (s_bin, X_OK) != 0) {
        fprintf (stderr, "missing %s (make build/bin/backtest)\n", s_bin);
        return -1;
    }
    snprintf (s_dir, sizeof s_dir, "/tmp/bt_main_test.XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system (cmd) == 0 ? 0 : -1;
}

static void
s_write (const char *name, const char *text)
{
    char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static char *
s_read (const char *name)
{
    static char buf[1 << 16];
    char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose (f);
    return buf;
}

//  Run the binary with args; stdout and stderr go to files in the test dir.
static int
s_run (const char *args)
{
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "%s %s >%s/stdout 2>%s/stderr", s_bin, args, s_dir, s_dir);
    int st = system (cmd);
    return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

//  A swing low of 160.00 on NIFTY26NOV24000CE (VWAP ~150), sold at 159.95 at 09:22,
//  stopped at 170.00 at 09:23; the index row every minute.
static void
s_bars (void)
{
    static const char *opt[] = {
        "150,152,148,150,10000", "150,160,150,158,1000", "165,172,164,170,100",
        "170,175,168,172,100",   "168,170,160,165,100",  "165,168,165,166,100",
        "167,169,166,168,100",   "166,167,159,160,100",  "165,171,163,170,100",
        "170,171,169,170,100",
    };
    char text[4096];
    int n = snprintf (text, sizeof text, "timestamp,instrument_token,open,high,low,close,volume\n");
    for (int m = 0; m < 12; m++) {
        char ts[40];
        snprintf (ts, sizeof ts, "2026-11-23T09:%02d:00+0530", 15 + m);
        n += snprintf (text + n, sizeof text - (size_t) n, "%s,256265,24010,24020,24000,24010,0\n",
                       ts);
        if (m < 10)
            n += snprintf (text + n, sizeof text - (size_t) n, "%s,10000041,%s\n", ts, opt[m]);
    }
    s_write ("bars.csv", text);
}

static void
test_run_writes_the_outputs (void **state)
{
    (void) state;
    s_bars ();
    char args[512];
    snprintf (args, sizeof args, "--bars %s/bars.csv --instruments %s --out %s/out --risk off",
              s_dir, FIXTURE, s_dir);
    assert_int_equal (s_run (args), 0);
    assert_string_equal (
        s_read ("out/trades.csv"),
        "tradingsymbol,option_type,qty,entry_time,entry_price,exit_time,exit_price,r_at_risk,"
        "pnl,r_multiple,exit_reason\n"
        "NIFTY26NOV24000CE,CE,600,2026-11-23T09:22:00+0530,159.95,2026-11-23T09:23:00+0530,"
        "170.00,6000.00,-6030.00,-1.0050,STOP\n");
    assert_string_equal (s_read ("out/daily.csv"),
                         "date,trades,wins,losses,win_rate,r,cum_r,pnl,cum_pnl\n"
                         "2026-11-23,1,0,1,0.0000,-1.0050,-1.0050,-6030.00,-6030.00\n");
    const char *sum = s_read ("out/summary.json");
    assert_non_null (sum);
    assert_non_null (strstr (sum, "\"trades\": 1,"));
    assert_non_null (strstr (sum, "\"pnl\": -6030,"));
    const char *rep = s_read ("out/report.txt");
    assert_non_null (rep);
    assert_non_null (strstr (rep, "FAIL trades"));
    assert_non_null (strstr (rep, "PASS max_drawdown"));
    //  the report is printed too
    assert_non_null (strstr (s_read ("stdout"), "go-live checks"));
    const char *svg = s_read ("out/equity.svg");
    assert_non_null (svg);
    assert_int_equal (strncmp (svg, "<svg", 4), 0);
    assert_non_null (strstr (svg, "</svg>"));
}

//  The same minutes as ticks: open, high, low, close at :00, :15, :30, :45 (units a
//  quarter of the minute's volume; 09:22 and 09:23 trade 1000 a print). No depth, so
//  the entry, triggered at 159.00, fills by trade-through at its limit 159.85 on the
//  next print, and the stop, triggered at 171.00, at its limit 170.10 on the next.
static void
s_ticks (void)
{
    static const int64_t opt[10][5] = {
        {15000, 15200, 14800, 15000, 10000}, {15000, 16000, 15000, 15800, 1000},
        {16500, 17200, 16400, 17000, 100},   {17000, 17500, 16800, 17200, 100},
        {16800, 17000, 16000, 16500, 100},   {16500, 16800, 16500, 16600, 100},
        {16700, 16900, 16600, 16800, 100},   {16600, 16700, 15900, 16000, 4000},
        {16500, 17100, 16300, 17000, 4000},  {17000, 17100, 16900, 17000, 100},
    };
    char text[8192];
    int n = snprintf (text, sizeof text, "timestamp,instrument_token,last_price,last_quantity\n");
    for (int m = 0; m < 12; m++) {
        n += snprintf (text + n, sizeof text - (size_t) n,
                       "2026-11-23T09:%02d:00+0530,256265,24010,0\n", 15 + m);
        for (int k = 0; m < 10 && k < 4; k++) {
            char px[24];
            int64_t p = opt[m][k];
            snprintf (px, sizeof px, "%lld.%02lld", (long long) (p / 100), (long long) (p % 100));
            n += snprintf (text + n, sizeof text - (size_t) n,
                           "2026-11-23T09:%02d:%02d.5+0530,10000041,%s,%lld\n", 15 + m, k * 15, px,
                           (long long) (opt[m][4] / 4));
        }
    }
    s_write ("ticks.csv", text);
}

static void
test_tick_file (void **state)
{
    (void) state;
    s_ticks ();
    char args[512];
    snprintf (args, sizeof args, "--ticks %s/ticks.csv --instruments %s --out %s/outt --risk off",
              s_dir, FIXTURE, s_dir);
    assert_int_equal (s_run (args), 0);
    assert_string_equal (
        s_read ("outt/trades.csv"),
        "tradingsymbol,option_type,qty,entry_time,entry_price,exit_time,exit_price,r_at_risk,"
        "pnl,r_multiple,exit_reason\n"
        "NIFTY26NOV24000CE,CE,600,2026-11-23T09:22:00+0530,159.85,2026-11-23T09:23:00+0530,"
        "170.10,6000.00,-6150.00,-1.0250,STOP\n");
    //  out of order: line and reason
    s_write ("bad_ticks.csv", "timestamp,instrument_token,last_price,last_quantity\n"
                              "2026-11-23T09:15:01+0530,10000041,150,75\n"
                              "2026-11-23T09:15:00.5+0530,10000041,150,75\n");
    snprintf (args, sizeof args, "--ticks %s/bad_ticks.csv --instruments %s --out %s/o4 --risk off",
              s_dir, FIXTURE, s_dir);
    assert_int_equal (s_run (args), 2);
    assert_non_null (strstr (s_read ("stderr"), "bad_ticks.csv:3: rows not sorted"));
}

static void
test_synthetic (void **state)
{
    (void) state;
    char args[256];
    snprintf (args, sizeof args, "--synthetic 1 --days 1 --out %s/syn --risk off --quiet", s_dir);
    assert_int_equal (s_run (args), 0);
    char first[4096];
    snprintf (first, sizeof first, "%s", s_read ("syn/trades.csv"));
    assert_int_equal (strncmp (first, "tradingsymbol,option_type,", 26), 0);
    assert_non_null (strstr (s_read ("syn/daily.csv"), "2026-11-23,"));
    //  the same seed gives the same trades
    assert_int_equal (s_run (args), 0);
    assert_string_equal (s_read ("syn/trades.csv"), first);
    assert_int_equal (s_run ("--synthetic x --days 1 --out /tmp/none --risk off"), 2);
    assert_int_equal (s_run ("--synthetic 1 --days 1 --mode both --out /tmp/none --risk off"), 2);
}

static void
test_config_applies (void **state)
{
    (void) state;
    s_bars ();
    //  R of Rs 3,000: floor(3000 / (10 x 75)) = 4 lots
    s_write ("cfg.json", "{ \"mode\": \"sim\", \"strategy\": { \"r_value\": 3000 } }\n");
    char args[512];
    snprintf (args, sizeof args,
              "--bars %s/bars.csv --instruments %s --out %s/out2 --risk off --config %s/cfg.json",
              s_dir, FIXTURE, s_dir, s_dir);
    assert_int_equal (s_run (args), 0);
    assert_non_null (strstr (s_read ("out2/trades.csv"), "NIFTY26NOV24000CE,CE,300,"));
    //  a typo is an error, not a default
    s_write ("cfg.json", "{ \"mode\": \"sim\", \"strategy\": { \"r_valu\": 3000 } }\n");
    assert_int_equal (s_run (args), 2);
    assert_non_null (strstr (s_read ("stderr"), "r_valu"));
}

//  One capital: the go-live drawdown check is a share of risk.capital (the account
//  risk-gate starts from the same file), with --risk off too; there is no
//  backtest.capital beside it.
static void
test_capital_is_risk_capital (void **state)
{
    (void) state;
    s_bars ();
    char args[512];
    snprintf (args, sizeof args, "--bars %s/bars.csv --instruments %s --out %s/cap --risk off",
              s_dir, FIXTURE, s_dir);
    assert_int_equal (s_run (args), 0); //  sim.json's Rs 2 crore: 20% is Rs 40 lakh
    assert_non_null (strstr (s_read ("cap/report.txt"),
                             "PASS max_drawdown   Rs 6030.00 < Rs 4000000.00 (20.00% of capital)"));
    //  20% of Rs 30,150 is exactly the trade's loss: not below it
    s_write ("cap.json", "{ \"mode\": \"sim\", \"risk\": { \"capital\": 30150 } }\n");
    snprintf (args, sizeof args,
              "--bars %s/bars.csv --instruments %s --out %s/cap --risk off --config %s/cap.json",
              s_dir, FIXTURE, s_dir, s_dir);
    assert_int_equal (s_run (args), 0);
    assert_non_null (strstr (s_read ("cap/report.txt"),
                             "FAIL max_drawdown   Rs 6030.00 < Rs 6030.00 (20.00% of capital)"));
    s_write ("cap.json", "{ \"mode\": \"sim\", \"backtest\": { \"capital\": 5000 } }\n");
    assert_int_equal (s_run (args), 2);
    assert_non_null (strstr (s_read ("stderr"), "backtest.capital"));
}

//  Without --risk the run is --risk on: risk-gate's checks with sim.json's limits. On
//  this file no limit binds, so the trades are exactly those of --risk off, and the
//  report says no decision other than APPROVE was made.
static void
test_risk_on_is_the_default (void **state)
{
    (void) state;
    s_bars ();
    char args[512];
    snprintf (args, sizeof args, "--bars %s/bars.csv --instruments %s --out %s/off --risk off",
              s_dir, FIXTURE, s_dir);
    assert_int_equal (s_run (args), 0);
    char off[4096];
    snprintf (off, sizeof off, "%s", s_read ("off/trades.csv"));
    snprintf (args, sizeof args, "--bars %s/bars.csv --instruments %s --out %s/dflt", s_dir,
              FIXTURE, s_dir);
    assert_int_equal (s_run (args), 0);
    assert_string_equal (s_read ("dflt/trades.csv"), off);
    assert_non_null (strstr (s_read ("dflt/report.txt"), "risk decisions other than APPROVE: 0\n"));
    assert_non_null (strstr (s_read ("dflt/summary.json"), "\"risk_refusals\": 0,"));
    snprintf (args, sizeof args, "--bars %s/bars.csv --instruments %s --out %s/on --risk on", s_dir,
              FIXTURE, s_dir);
    assert_int_equal (s_run (args), 0);
    assert_string_equal (s_read ("on/trades.csv"), off);
}

//  A limit that binds changes the run and is listed with its code, time, instrument and
//  text: max_lots 2 REDUCEs the 8-lot entry to 150 units (trades.csv keeps its format);
//  a tiny risk_per_trade BLOCKs it (no trade at all).
//  The bars file with a config whose risk section is risk_json, into out dir name.
static void
s_run_risk (const char *name, const char *risk_json)
{
    char text[256], file[64], args[512];
    snprintf (text, sizeof text, "{ \"mode\": \"sim\", \"risk\": %s }\n", risk_json);
    snprintf (file, sizeof file, "%s.json", name);
    s_write (file, text);
    snprintf (args, sizeof args,
              "--bars %s/bars.csv --instruments %s --out %s/%s --config %s/%s --quiet", s_dir,
              FIXTURE, s_dir, name, s_dir, file);
    assert_int_equal (s_run (args), 0);
}

static void
test_risk_limit_binds (void **state)
{
    (void) state;
    s_bars ();
    s_run_risk ("lots", "{ \"max_lots\": 2 }");
    assert_string_equal (
        s_read ("lots/trades.csv"),
        "tradingsymbol,option_type,qty,entry_time,entry_price,exit_time,exit_price,r_at_risk,"
        "pnl,r_multiple,exit_reason\n"
        "NIFTY26NOV24000CE,CE,150,2026-11-23T09:22:00+0530,159.95,2026-11-23T09:23:00+0530,"
        "170.00,1500.00,-1507.50,-1.0050,STOP\n");
    const char *rep = s_read ("lots/report.txt");
    //  The strategy asks again for its size (MODIFY) while the entry is pending; once
    //  the option has no bar for a minute its price is stale (STALE_MD by bar time).
    assert_non_null (strstr (rep, "risk decisions other than APPROVE: 4\n"));
    assert_non_null (strstr (rep,
                             "2026-11-23T09:21:00+0530 PLACE   NIFTY26NOV24000CE      qty 600: "
                             "REDUCE MAX_LOTS (qty 150) 8 lots > max 2"));
    assert_non_null (strstr (rep,
                             "2026-11-23T09:25:00+0530 MODIFY  NIFTY26NOV24000CE      qty 525: "
                             "BLOCK STALE_MD (qty 0) last tick of NIFTY26NOV24000CE is 60000 ms"));
    const char *sum = s_read ("lots/summary.json");
    assert_non_null (strstr (sum, "\"risk_refusals\": 4,"));
    assert_non_null (strstr (sum, "{\"time\": \"2026-11-23T09:21:00+0530\", \"kind\": \"PLACE\", "
                                  "\"instrument\": \"NIFTY26NOV24000CE\", \"qty\": 600, "
                                  "\"verdict\": \"REDUCE\", \"approved_qty\": 150, "
                                  "\"code\": \"MAX_LOTS\", \"text\": \""));

    s_run_risk ("rpt", "{ \"max_risk_per_trade\": 1000 }");
    assert_string_equal (
        s_read ("rpt/trades.csv"),
        "tradingsymbol,option_type,qty,entry_time,entry_price,exit_time,exit_price,r_at_risk,"
        "pnl,r_multiple,exit_reason\n");
    sum = s_read ("rpt/summary.json");
    assert_non_null (strstr (sum, "\"verdict\": \"BLOCK\", \"approved_qty\": 0, "
                                  "\"code\": \"RISK_PER_TRADE\""));
}

static void
test_bad_input_exits_2 (void **state)
{
    (void) state;
    s_write ("bad.csv", "timestamp,instrument_token,open,high,low,close,volume\n"
                        "2026-11-23T09:15:00+0530,256265,24010,24020,24000,24010,0\n"
                        "2026-11-23T09:15:00+0530,10000041,150.02,152,148,150,10\n");
    char args[512];
    snprintf (args, sizeof args, "--bars %s/bad.csv --instruments %s --out %s/out3 --risk off",
              s_dir, FIXTURE, s_dir);
    assert_int_equal (s_run (args), 2);
    char want[256];
    snprintf (want, sizeof want, "%s/bad.csv:3: open: 150.02 is not on the tick", s_dir);
    assert_non_null (strstr (s_read ("stderr"), want));
    //  a broken risk section is an error too (risk-gate's own table)
    s_bars ();
    s_write ("badrisk.json", "{ \"mode\": \"sim\", \"risk\": { \"max_postions\": 1 } }\n");
    snprintf (args, sizeof args,
              "--bars %s/bars.csv --instruments %s --out %s/o6 --config %s/badrisk.json", s_dir,
              FIXTURE, s_dir, s_dir);
    assert_int_equal (s_run (args), 2);
    assert_non_null (strstr (s_read ("stderr"), "max_postions"));
    //  arguments
    assert_int_equal (s_run ("--bars x.csv"), 2);
    assert_non_null (strstr (s_read ("stderr"), "required"));
    assert_int_equal (s_run ("--bars a --instruments b --out c --risk maybe"), 2);
    assert_int_equal (s_run ("--bars a --instruments b --out c --frobnicate 1"), 2);
    //  a missing instruments file names itself
    snprintf (args, sizeof args,
              "--bars %s/bad.csv --instruments %s/none.csv --out %s/o --risk off", s_dir, s_dir,
              s_dir);
    assert_int_equal (s_run (args), 2);
    assert_non_null (strstr (s_read ("stderr"), "none.csv"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_run_writes_the_outputs),
        cmocka_unit_test (test_config_applies),
        cmocka_unit_test (test_capital_is_risk_capital),
        cmocka_unit_test (test_tick_file),
        cmocka_unit_test (test_synthetic),
        cmocka_unit_test (test_risk_on_is_the_default),
        cmocka_unit_test (test_risk_limit_binds),
        cmocka_unit_test (test_bad_input_exits_2),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
