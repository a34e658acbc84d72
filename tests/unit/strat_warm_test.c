/*  strat_warm_test - the warm-up's pure parts: Kite's historical candles parsed exactly
 *  (the official fixture, prices to the paisa, bad rows refused with a reason) and the
 *  day's universe as the core picks it. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../strategy/strat_warm.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"
#define HIST "../shared/fixtures/kite/historical_minute.json"

static char *
s_read (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    assert_int_equal (fread (buf, 1, (size_t) n, f), (size_t) n);
    buf[n] = 0;
    fclose (f);
    *len = (size_t) n;
    return buf;
}

static void
test_parse_fixture (void **state)
{
    (void) state;
    size_t len;
    char *body = s_read (HIST, &len);
    struct strat_bar bars[16];
    char err[128];
    int n = strat_warm_parse (body, len, 408065, bars, 16, err, sizeof err);
    assert_int_equal (n, 6);
    //  ["2017-12-15T09:15:00+0530", 1704.5, 1705, 1699.25, 1702.8, 2499]
    assert_int_equal (bars[0].token, 408065);
    assert_int_equal (bars[0].ts, kt_ist_ns (2017, 12, 15, 9, 15, 0));
    assert_int_equal (bars[0].open, 170450);
    assert_int_equal (bars[0].high, 170500);
    assert_int_equal (bars[0].low, 169925);
    assert_int_equal (bars[0].close, 170280);
    assert_int_equal (bars[0].volume, 2499);
    assert_int_equal (bars[5].ts, kt_ist_ns (2017, 12, 15, 9, 20, 0));
    assert_int_equal (bars[5].low, 169655);
    //  the bound on the output is kept
    assert_int_equal (strat_warm_parse (body, len, 1, bars, 2, err, sizeof err), 2);
    free (body);
}

static void
test_parse_refuses (void **state)
{
    (void) state;
    struct strat_bar bars[4];
    char err[128];
    const char *ok = "{\"data\":{\"candles\":[[\"2026-11-23T09:15:00+0530\",150,151.5,149.05,"
                     "150.1,1200,33]]}}";
    assert_int_equal (strat_warm_parse (ok, strlen (ok), 7, bars, 4, err, sizeof err), 1);
    assert_int_equal (bars[0].low, 14905);
    assert_int_equal (bars[0].volume, 1200);
    const char *empty = "{\"status\":\"success\",\"data\":{\"candles\":[]}}";
    assert_int_equal (strat_warm_parse (empty, strlen (empty), 7, bars, 4, err, sizeof err), 0);
    const char *bad[] = {
        "{\"status\":\"error\",\"message\":\"Invalid token\"}",
        "{\"data\":{\"candles\":[[\"2026-11-23T09:15:00+0530\",150.123,151,149,150,1]]}}",
        "{\"data\":{\"candles\":[[\"2026-11-23T09:15:00Z\",150,151,149,150,1]]}}",
        "{\"data\":{\"candles\":[[\"2026-11-23T09:15:00+0530\",150,151,149]]}}",
        "{\"data\":{\"candles\":[[\"2026-11-23T09:15:00+0530\",150,151,149,150,-1]]}}",
        "{\"data\":{\"candles\":[[\"2026-11-23T09:15:00+0530\",150,151,149,150,1]",
        "{\"data\":{\"candles\":{}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal (strat_warm_parse (bad[i], strlen (bad[i]), 7, bars, 4, err, sizeof err),
                          -1);
        assert_true (strlen (err) > 0);
    }
}

static void
test_universe (void **state)
{
    (void) state;
    char err[256];
    kt_instr_table_t *instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (instr);
    struct strat_params p;
    strat_params_defaults (&p);
    uint32_t tok[64];
    //  index at 24,010 -> ATM 24,000: 21 strikes x CE/PE of the nearest expiry
    int n = strat_warm_universe (instr, &p, 20261123, 2401000, tok, 64);
    assert_int_equal (n, 42);
    bool ce = false, pe = false;
    for (int i = 0; i < n; i++) {
        ce |= tok[i] == 10000041u;
        pe |= tok[i] == 10000042u;
    }
    assert_true (ce && pe);
    //  half up: 24,025 -> 24,050 (strike 24,550 joins, 23,500 leaves)
    p.strikes_each_side = 0;
    n = strat_warm_universe (instr, &p, 20261123, 2402500, tok, 64);
    assert_int_equal (n, 2);
    assert_int_equal (tok[0], 10000043u);
    //  after the last expiry: nothing
    assert_int_equal (strat_warm_universe (instr, &p, 20261202, 2401000, tok, 64), 0);
    kt_instr_destroy (&instr);
}

//  Parse one md:bars entry given as "name=value" strings.
static int
s_md_bar (const char *const *items, size_t n, uint32_t token, struct strat_bar *b)
{
    const char *kv[32];
    size_t kvlen[32];
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr (items[i], '=');
        kv[2 * i] = items[i];
        kvlen[2 * i] = (size_t) (eq - items[i]);
        kv[2 * i + 1] = eq + 1;
        kvlen[2 * i + 1] = strlen (eq + 1);
    }
    return strat_warm_parse_md_bar (kv, kvlen, 2 * n, token, b);
}

static void
test_parse_md_bar (void **state)
{
    (void) state;
    const char *row[] = {"start_ns=1795405500000000000",
                         "o=15400",
                         "h=15500",
                         "l=15300",
                         "c=15400",
                         "volume=750",
                         "vwap=15390",
                         "ticks=12",
                         "later=ignored"};
    struct strat_bar b;
    assert_int_equal (s_md_bar (row, 9, 10000041, &b), 0);
    assert_int_equal (b.token, 10000041);
    assert_int_equal (b.ts, 1795405500000000000LL); //  exact: no double on the way
    assert_int_equal (b.open, 15400);
    assert_int_equal (b.high, 15500);
    assert_int_equal (b.low, 15300);
    assert_int_equal (b.close, 15400);
    assert_int_equal (b.volume, 750);
    const char *no_c[] = {"start_ns=1", "o=1", "h=2", "l=1", "volume=0"};
    assert_int_equal (s_md_bar (no_c, 5, 1, &b), -1);
    const char *frac[] = {"start_ns=1", "o=1.5", "h=2", "l=1", "c=1", "volume=0"};
    assert_int_equal (s_md_bar (frac, 6, 1, &b), -1); //  not paise
    const char *h_lt_l[] = {"start_ns=1", "o=1", "h=1", "l=2", "c=1", "volume=0"};
    assert_int_equal (s_md_bar (h_lt_l, 6, 1, &b), -1);
    const char *nan[] = {"start_ns=1", "o=1", "h=2", "l=1", "c=1", "volume=x"};
    assert_int_equal (s_md_bar (nan, 6, 1, &b), -1);
    assert_int_equal (s_md_bar (row, 0, 1, &b), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_fixture),
        cmocka_unit_test (test_parse_refuses),
        cmocka_unit_test (test_universe),
        cmocka_unit_test (test_parse_md_bar),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
