/*  bt_ticks_test - the tick CSV: quotes with and without depth, fractions of a second, an
 *  index row as a move, and every bad input with the file, the line and the reason. */

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
#define HDR "timestamp,instrument_token,last_price,last_quantity\n"

static char s_path[64];
static kt_instr_table_t *s_instr;

static int
s_setup (void **state)
{
    (void) state;
    char err[256];
    s_instr = kt_instr_load (FIXTURE, err, sizeof err);
    snprintf (s_path, sizeof s_path, "/tmp/bt_ticks_test.%d.csv", (int) getpid ());
    return s_instr ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    unlink (s_path);
    kt_instr_destroy (&s_instr);
    return 0;
}

static bt_ticks_t *
s_open (const char *text, char *err, size_t errlen)
{
    FILE *f = fopen (s_path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
    return bt_ticks_open (s_path, s_instr, err, errlen);
}

static void
test_quotes (void **state)
{
    (void) state;
    char err[256];
    bt_ticks_t *t = s_open ("ask_price,timestamp,instrument_token,last_price,last_quantity,"
                            "bid_price,bid_quantity,ask_quantity\n"
                            "150.10,2026-11-23T09:15:00.25+0530,10000041,150.05,75,150.00,300,225\n"
                            ",2026-11-23T09:15:00.25+0530,256265,24010.35,0,,,\n"
                            ",2026-11-23T09:15:01+0530,10000041,150.05,0,150.00,75,\n",
                            err, sizeof err);
    assert_non_null (t);
    struct bt_tick tk;
    assert_int_equal (bt_ticks_next (t, &tk, err, sizeof err), 1);
    assert_int_equal (tk.token, 10000041);
    assert_int_equal (tk.ts, kt_ist_ns (2026, 11, 23, 9, 15, 0) + 250000000);
    assert_int_equal (tk.ltp, 15005);
    assert_int_equal (tk.qty, 75);
    assert_true (tk.trade);
    assert_int_equal (tk.q->tick, 5);
    assert_int_equal (tk.q->trade_qty, 75);
    assert_int_equal (tk.q->bid[0].px, 15000);
    assert_int_equal (tk.q->bid[0].qty, 300);
    assert_int_equal (tk.q->ask[0].px, 15010);
    assert_int_equal (tk.q->ask[0].qty, 225);
    //  the index: no trades, each row a move
    assert_int_equal (bt_ticks_next (t, &tk, err, sizeof err), 1);
    assert_true (tk.trade);
    assert_int_equal (tk.q->tick, 0);
    assert_int_equal (tk.q->bid[0].qty, 0);
    //  a quote-only update, one side of depth
    assert_int_equal (bt_ticks_next (t, &tk, err, sizeof err), 1);
    assert_false (tk.trade);
    assert_int_equal (tk.q->bid[0].qty, 75);
    assert_int_equal (tk.q->ask[0].qty, 0);
    assert_int_equal (bt_ticks_next (t, &tk, err, sizeof err), 0);
    bt_ticks_destroy (&t);
    assert_null (t);
}

static void
s_bad (const char *text, int line, const char *why)
{
    char err[256] = "";
    bt_ticks_t *t = s_open (text, err, sizeof err);
    struct bt_tick tk;
    while (t && bt_ticks_next (t, &tk, err, sizeof err) > 0)
        ;
    bt_ticks_destroy (&t);
    char want[128];
    snprintf (want, sizeof want, "%s:%d: ", s_path, line);
    if (strncmp (err, want, strlen (want)) != 0 || !strstr (err, why))
        fail_msg ("want \"%s...%s\", got \"%s\"", want, why, err);
}

static void
test_bad_input (void **state)
{
    (void) state;
    s_bad ("timestamp,instrument_token,last_price\n", 1, "missing column \"last_quantity\"");
    s_bad ("timestamp,instrument_token,last_price,last_quantity,oi\n", 1, "unknown column");
    s_bad (HDR "2026-11-23T09:15:01+0530,10000041,150,75\n"
               "2026-11-23T09:15:00.999+0530,10000041,150,75\n",
           3, "not sorted");
    s_bad (HDR "2026-11-23T09:15:00+0530,10000041,150.01,75\n", 2, "not on the tick");
    s_bad (HDR "2026-11-23T09:15:00+0530,1,150,75\n", 2, "unknown token 1");
    s_bad (HDR "2026-11-23T09:15:00+0530,10000041,150,-75\n", 2, "last_quantity");
    s_bad (HDR "2026-11-23T09:15:00.+0530,10000041,150,75\n", 2, "fraction");
    s_bad ("timestamp,instrument_token,last_price,last_quantity,bid_price,bid_quantity\n"
           "2026-11-23T09:15:00+0530,10000041,150,75,149.95,\n",
           2, "bid_quantity");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_quotes),
        cmocka_unit_test (test_bad_input),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
