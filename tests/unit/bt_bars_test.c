/*  bt_bars_test - the bars CSV: minutes handed out whole, and every bad input stops
 *  with the file, the line and the reason (unknown or missing column, price off tick
 *  or with 3 decimals, high < low, unsorted or repeated rows, unknown token, bad
 *  timestamp). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../backtest/bt.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"
#define HDR "timestamp,instrument_token,open,high,low,close,volume\n"
#define T0 "2026-11-23T09:15:00+0530"
#define T1 "2026-11-23T09:16:00+0530"

static char s_dir[64];
static char s_path[128];
static kt_instr_table_t *s_instr;

static int
s_setup (void **state)
{
    (void) state;
    snprintf (s_dir, sizeof s_dir, "/tmp/bt_bars_test.XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    snprintf (s_path, sizeof s_path, "%s/bars.csv", s_dir);
    char err[256];
    s_instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (s_instr);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    unlink (s_path);
    rmdir (s_dir);
    kt_instr_destroy (&s_instr);
    return 0;
}

static void
s_write (const char *text)
{
    FILE *f = fopen (s_path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

//  Read the whole file; returns the error text ("" when it read cleanly) and the
//  number of minutes and rows seen.
static const char *
s_read (const char *text, int *minutes, int *rows)
{
    static char err[512];
    err[0] = '\0';
    s_write (text);
    *minutes = *rows = 0;
    bt_bars_t *b = bt_bars_open (s_path, s_instr, err, sizeof err);
    if (!b)
        return err;
    struct strat_bar out[16];
    int n;
    while ((n = bt_bars_next (b, out, 16, err, sizeof err)) > 0) {
        (*minutes)++;
        *rows += n;
        for (int i = 1; i < n; i++)
            assert_int_equal (out[i].ts, out[0].ts);
    }
    bt_bars_destroy (&b);
    return n < 0 ? err : "";
}

//  The error must name the file and line and contain why.
static void
s_bad (const char *text, int line, const char *why)
{
    int m, r;
    const char *err = s_read (text, &m, &r);
    char want[256];
    snprintf (want, sizeof want, "%s:%d: ", s_path, line);
    if (strncmp (err, want, strlen (want)) != 0 || !strstr (err, why))
        fail_msg ("want \"%s...%s\", got \"%s\"", want, why, err);
}

static void
test_good_file (void **state)
{
    (void) state;
    int m, r;
    const char *err = s_read (HDR T0 ",256265,24010.05,24020,24000,24010,0\r\n" T0
                                     ",10000041,150,152.5,148.05,150,1000\n" T1
                                     ",256265,24010,24011,24009,24010,0\n\n",
                              &m, &r);
    assert_string_equal (err, "");
    assert_int_equal (m, 2);
    assert_int_equal (r, 3);
    //  columns in another order, and the values land where they belong
    s_write ("volume,close,low,high,open,instrument_token,timestamp\n"
             "75,150.05,148,152,149,10000041," T0 "\n");
    char e[256];
    bt_bars_t *b = bt_bars_open (s_path, s_instr, e, sizeof e);
    assert_non_null (b);
    struct strat_bar out[4];
    assert_int_equal (bt_bars_next (b, out, 4, e, sizeof e), 1);
    assert_int_equal (out[0].token, 10000041);
    assert_int_equal (out[0].open, 14900);
    assert_int_equal (out[0].high, 15200);
    assert_int_equal (out[0].low, 14800);
    assert_int_equal (out[0].close, 15005);
    assert_int_equal (out[0].volume, 75);
    assert_int_equal (out[0].ts, kt_ist_ns (2026, 11, 23, 9, 15, 0));
    assert_int_equal (bt_bars_next (b, out, 4, e, sizeof e), 0);
    bt_bars_destroy (&b);
}

static void
test_bad_header (void **state)
{
    (void) state;
    s_bad ("timestamp,instrument_token,open,high,low,close,volume,oi\n", 1,
           "unknown column \"oi\"");
    s_bad ("timestamp,instrument_token,open,high,low,close\n", 1, "missing column \"volume\"");
    s_bad ("timestamp,instrument_token,open,open,high,low,close,volume\n", 1, "repeated");
    s_bad ("", 1, "empty");
}

static void
test_bad_rows (void **state)
{
    (void) state;
    s_bad (HDR T0 ",10000041,150.02,152,148,150,10\n", 2, "not on the tick");
    s_bad (HDR T0 ",10000041,150.005,152,148,150,10\n", 2, "at most 2 decimals");
    s_bad (HDR T0 ",10000041,150,148,152,150,10\n", 2, "high < low");
    s_bad (HDR T0 ",10000041,153,152,148,150,10\n", 2, "outside [low, high]");
    s_bad (HDR T0 ",99,150,152,148,150,10\n", 2, "unknown token 99");
    s_bad (HDR T0 ",10000041,150,152,148,150,-1\n", 2, "volume");
    s_bad (HDR T0 ",10000041,150,152,148,150\n", 2, "fewer fields");
    s_bad (HDR "2026-11-23 09:15:30+0530,10000041,150,152,148,150,1\n", 2,
           "not the start of a minute");
    s_bad (HDR "2026-11-31T09:15:00+0530,10000041,150,152,148,150,1\n", 2, "timestamp");
    s_bad (HDR "2026-11-23T09:15:00,10000041,150,152,148,150,1\n", 2, "UTC offset");
}

static void
test_unsorted (void **state)
{
    (void) state;
    s_bad (HDR T1 ",10000041,150,152,148,150,1\n" T0 ",10000041,150,152,148,150,1\n", 3,
           "not sorted");
    s_bad (HDR T0 ",10000042,150,152,148,150,1\n" T0 ",10000041,150,152,148,150,1\n", 3,
           "not sorted");
    s_bad (HDR T0 ",10000041,150,152,148,150,1\n" T0 ",10000041,150,152,148,150,1\n", 3,
           "repeated");
    //  the error comes with the rows before it already handed out
    s_bad (HDR T0 ",10000041,150,152,148,150,1\n" T1 ",10000041,150,152,148,150,1\n" T0
                  ",10000041,150,152,148,150,1\n",
           4, "not sorted");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_good_file),
        cmocka_unit_test (test_bad_header),
        cmocka_unit_test (test_bad_rows),
        cmocka_unit_test (test_unsorted),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
