/*  md_candle_test - historical minute candles: Kite's fixtures (historical_minute.json,
 *  historical_oi.json with the 7th OI field, read from ../shared/fixtures/kite), exact
 *  prices, and broken answers. Also md_bar_seed and md_bar_candle: a warm-up from
 *  candles continues the day's VWAP and volume as if the bars had been built live. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../md-gateway/md_bar.h"
#include "../../md-gateway/md_candle.h"
#include "kt_clock.h"

static char *
s_read (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    static char buf[1 << 20];
    *len = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[*len] = '\0';
    return buf;
}

static void
test_fixtures (void **state)
{
    (void) state;
    static struct md_candle c[2048];
    char why[128];
    size_t len;
    char *text = s_read ("../shared/fixtures/kite/historical_minute.json", &len);
    int n = md_candle_parse (text, len, c, 2048, why, sizeof why);
    assert_true (n > 2);
    assert_int_equal (c[0].start_ns, kt_ist_ns (2017, 12, 15, 9, 15, 0));
    assert_int_equal (c[0].o, 170450);
    assert_int_equal (c[0].h, 170500);
    assert_int_equal (c[0].l, 169925);
    assert_int_equal (c[0].c, 170280);
    assert_int_equal (c[0].volume, 2499);
    assert_int_equal (c[1].start_ns, kt_ist_ns (2017, 12, 15, 9, 16, 0));
    assert_int_equal (c[1].l, 169815);
    text = s_read ("../shared/fixtures/kite/historical_oi.json", &len);
    n = md_candle_parse (text, len, c, 2048, why, sizeof why);
    assert_true (n > 2);
    assert_int_equal (c[0].o, 1200990);
    assert_int_equal (c[0].h, 1201935);
    assert_int_equal (c[0].volume, 163275);
    //  Too many for the buffer, and broken answers.
    assert_int_equal (md_candle_parse (text, len, c, 2, why, sizeof why), -1);
    static const char *const bad[] = {
        "{}",
        "{\"data\":{\"candles\":[[\"2017-12-15 09:15:00\",1,1,1,1,1]]}}",
        "{\"data\":{\"candles\":[[\"2017-12-15T09:15:00+0530\",1,1,1,1]]}}",
        "{\"data\":{\"candles\":[[\"2017-12-15T09:15:00+0530\",\"x\",1,1,1,1]]}}",
        "{\"data\":{\"candles\":[[\"2017-12-15T09:15:00+0530\",1,1,1,1,1.5]]}}",
        "{\"data\":{\"candles\":[[\"2017-12-15T09:15:00+0530\",1,1,1,1,1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (md_candle_parse (bad[i], strlen (bad[i]), c, 2048, why, sizeof why), -1);
    assert_int_equal (md_candle_parse ("{\"data\":{\"candles\":[]}}", 23, c, 2048, why, sizeof why),
                      0);
}

static struct kt_bar s_bars[64];
static int s_n;

static void
s_on_bar (const struct kt_bar *bar, void *arg)
{
    (void) arg;
    if (s_n < 64)
        s_bars[s_n++] = *bar;
}

static void
test_seed (void **state)
{
    (void) state;
    struct md_bar_cfg cfg = {.capacity = 4, .session_open_min = 555, .session_close_min = 930};
    md_bar_t *b = md_bar_new (&cfg, s_on_bar, NULL);
    assert_int_equal (md_bar_add (b, 7, "OPT"), 0);
    s_n = 0;
    //  09:15, 09:16 and 09:17 done.
    struct md_candle c[] = {
        {kt_ist_ns (2025, 12, 8, 9, 15, 0), 10000, 10200, 9900, 10100, 30},
        {kt_ist_ns (2025, 12, 8, 9, 16, 0), 10100, 10300, 10000, 10000, 10},
        {kt_ist_ns (2025, 12, 8, 9, 17, 0), 9950, 10050, 9900, 10000, 5},
        {kt_ist_ns (2025, 12, 7, 15, 0, 0), 1, 1, 1, 1, 1000}, //  another day: ignored
    };
    //  The previous run stored 09:16 last: 09:15 and 09:16 are history, not published.
    int64_t after = kt_ist_ns (2025, 12, 8, 9, 16, 0);
    assert_int_equal (md_bar_seed (b, 7, c, 4, after), 2);
    assert_int_equal (md_bar_seed (b, 99, c, 4, after), -1);
    assert_int_equal (s_n, 0);
    //  09:17, complete, from its candle; then a tick of 09:18 with the day's cumulative
    //  48 (30 + 10 + 5 before it): 09:18 gets 3.
    assert_int_equal (md_bar_candle (b, 7, &c[2]), 0);
    md_bar_advance (b, kt_ist_ns (2025, 12, 8, 9, 18, 0));
    md_bar_tick (b, 7, kt_ist_ns (2025, 12, 8, 9, 18, 5), 10020, 48);
    md_bar_advance (b, kt_ist_ns (2025, 12, 8, 9, 19, 0));
    assert_int_equal (s_n, 2);
    assert_int_equal (s_bars[0].start_ns, kt_ist_ns (2025, 12, 8, 9, 17, 0));
    assert_int_equal (s_bars[0].o, 9950);
    assert_int_equal (s_bars[0].h, 10050);
    assert_int_equal (s_bars[0].l, 9900);
    assert_int_equal (s_bars[0].c, 10000);
    assert_int_equal (s_bars[0].volume, 5);
    assert_int_equal (s_bars[0].ticks, 0); //  a candle does not count them
    //  VWAP: (30200*30 + 30300*10 + 29950*5) / (3*45) = 10064.81..
    assert_int_equal (s_bars[0].vwap, 10065);
    assert_int_equal (s_bars[1].start_ns, kt_ist_ns (2025, 12, 8, 9, 18, 0));
    assert_int_equal (s_bars[1].o, 10020);
    assert_int_equal (s_bars[1].volume, 3);
    assert_int_equal (s_bars[1].ticks, 1);
    //  + 30060*3, over 48: 10062.01..
    assert_int_equal (s_bars[1].vwap, 10062);
    //  No candles: nothing seeded, the first tick behaves as a mid-day join.
    assert_int_equal (md_bar_add (b, 8, "NEW"), 0);
    assert_int_equal (md_bar_seed (b, 8, c, 0, after), 0);
    md_bar_destroy (&b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixtures),
        cmocka_unit_test (test_seed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
