/*  sim_replay_test - the replay CSV: both formats, bar expansion order and volume split,
 *  time formats, ordering across instruments, and one row per kind of broken input,
 *  each refused with its line number. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "../../sim/sim_replay.h"

static struct sim_replay *
s_parse (const char *text, char *err)
{
    return sim_replay_parse (text, strlen (text), err, 256);
}

static void
test_ticks (void **state)
{
    (void) state;
    char err[256] = "";
    struct sim_replay *r = s_parse ("ts,token,ltp,volume\r\n"
                                    "2025-11-12 09:15:00,256265,24010.35,0\r\n"
                                    "\r\n"
                                    "2025-11-12 09:15:00.250,9999874,150.05,750\r\n"
                                    "2025-11-12T09:15:01+0530,256265,24011,0\r\n",
                                    err);
    assert_non_null (r);
    assert_false (r->bars);
    assert_int_equal (r->date, 20251112);
    assert_int_equal (r->count, 3);
    assert_int_equal (r->ticks[0].token, 256265);
    assert_int_equal (r->ticks[0].ltp, 2401035);
    assert_int_equal (r->ticks[0].line, 2);
    assert_int_equal (r->ticks[1].ts_ns - r->ticks[0].ts_ns, 250000000);
    assert_int_equal (r->ticks[1].volume, 750);
    assert_int_equal (r->ticks[1].line, 4);
    assert_int_equal (r->ticks[2].ts_ns, kt_ist_ns (2025, 11, 12, 9, 15, 1));
    assert_int_equal (r->ticks[2].ltp, 2401100);
    sim_replay_destroy (&r);
    assert_null (r);
    sim_replay_destroy (&r);
}

static void
test_bars_expand (void **state)
{
    (void) state;
    char err[256] = "";
    struct sim_replay *r = s_parse ("ts,tradingsymbol,open,high,low,close,volume\n"
                                    "2025-11-12 09:15:00,NIFTY25N1824000CE,150,155.5,148,149,"
                                    "7501\n"
                                    "2025-11-12 09:15:00,NIFTY 50,24000,24010,23990,24005,0\n",
                                    err);
    assert_non_null (r);
    assert_true (r->bars);
    assert_int_equal (r->count, 8);
    //  Interleaved by time, file order on ties; down bar O H L C, up bar O L H C.
    int64_t t0 = kt_ist_ns (2025, 11, 12, 9, 15, 0);
    const char *keys[8] = { "NIFTY25N1824000CE", "NIFTY 50", "NIFTY25N1824000CE", "NIFTY 50",
                            "NIFTY25N1824000CE", "NIFTY 50", "NIFTY25N1824000CE", "NIFTY 50" };
    int64_t px[8] = { 15000, 2400000, 15550, 2399000, 14800, 2401000, 14900, 2400500 };
    int64_t secs[8] = { 0, 0, 15, 15, 30, 30, 45, 45 };
    for (int i = 0; i < 8; i++) {
        assert_string_equal (r->ticks[i].key, keys[i]);
        assert_int_equal (r->ticks[i].ltp, px[i]);
        assert_int_equal (r->ticks[i].ts_ns, t0 + secs[i] * KT_NS_PER_SEC);
        assert_int_equal (r->ticks[i].token, 0);
    }
    //  7501 = 1875 x 3 + 1876 on the close.
    assert_int_equal (r->ticks[0].volume, 1875);
    assert_int_equal (r->ticks[6].volume, 1876);
    sim_replay_destroy (&r);
}

static void
test_errors_name_the_line (void **state)
{
    (void) state;
    struct {
        const char *text;
        const char *needle;
    } cases[] = {
        { "", "empty" },
        { "ts,token,ltp,volume\n", "no rows" },
        { "time,token,ltp,volume\n2025-11-12 09:15:00,1,1,0\n", "line 1: header" },
        { "ts,token,ltp\n", "line 1: header" },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00,256265,1\n", "line 2: 3 fields" },
        { "ts,token,ltp,volume\n2025-11-12 9:15:00,256265,1,0\n", "line 2: bad ts" },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00+0000,256265,1,0\n", "line 2: bad ts" },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00,256265,1,0\n"
          "2025-11-12 09:14:59,256265,1,0\n", "line 3: " },
        { "ts,token,ltp,volume\n2025-11-12 09:16:00,256265,1,0\n"
          "2025-11-12 09:15:59,256265,1,0\n", "line 3: time goes backwards" },
        { "ts,token,ltp,volume\n2025-11-12 15:30:00,256265,1,0\n", "line 2: " },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00,256265,1,0\n"
          "2025-11-13 09:15:00,256265,1,0\n", "line 3: date" },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00,256265,-1,0\n", "line 2: bad ltp" },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00,256265,1.2.3,0\n", "line 2: bad ltp" },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00,256265,1,-5\n", "line 2: bad volume" },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00,NIFTY,1,0\n", "line 2: bad instrument" },
        { "ts,token,ltp,volume\n2025-11-12 09:15:00,\"256265\",1,0\n", "line 2: field" },
        { "ts,token,open,high,low,close,volume\n2025-11-12 09:15:00,256265,10,9,8,9,0\n",
          "line 2: high/low" },
        { "ts,token,open,high,low,close,volume\n2025-11-12 15:29:30,256265,10,11,9,10,0\n",
          "line 2: bar starts too late" },
        { "ts,token,open,high,low,close,volume\n2025-11-12 09:15:00,256265,10,11,9,10,0,1\n",
          "line 2: 8 fields" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        struct sim_replay *r = s_parse (cases[i].text, err);
        if (r || !strstr (err, cases[i].needle))
            fprintf (stderr, "case %zu: \"%s\"\n", i, err);
        assert_null (r);
        assert_non_null (strstr (err, cases[i].needle));
    }
    //  NUL bytes inside a line.
    char err[256] = "";
    const char bin[] = "ts,token,ltp,volume\n2025-11-12 09:15:00,256\0265,1,0\n";
    assert_null (sim_replay_parse (bin, sizeof bin - 1, err, sizeof err));
    assert_non_null (strstr (err, "line 2"));
}

static void
test_load_names_the_file (void **state)
{
    (void) state;
    char err[256] = "";
    assert_null (sim_replay_load ("/nonexistent/x.csv", err, sizeof err));
    assert_non_null (strstr (err, "/nonexistent/x.csv"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ticks),
        cmocka_unit_test (test_bars_expand),
        cmocka_unit_test (test_errors_name_the_line),
        cmocka_unit_test (test_load_names_the_file),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
