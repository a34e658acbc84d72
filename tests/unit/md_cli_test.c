/*  md_cli_test - `md-gateway --decode` / `--decode-packet` on the official fixtures
 *  (base64 text, as shipped), on raw bytes, on a framed message, and on bad input. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../md-gateway/md.h"

#define S_FIX "../shared/fixtures/kite/"

static const char s_full_json[] =
    "{\"ticks\":[{\"tradable\":true,\"mode\":\"full\",\"instrument_token\":408065,"
    "\"last_price\":1573.7,\"last_traded_quantity\":7,\"average_traded_price\":1570.37,"
    "\"volume_traded\":1192471,\"total_buy_quantity\":256443,\"total_sell_quantity\":363009,"
    "\"ohlc\":{\"open\":1569.15,\"high\":1575,\"low\":1561.05,\"close\":1567.8},"
    "\"change\":0.3763235106518747,\"last_trade_time\":\"2021-07-05T05:11:27Z\",\"oi\":0,"
    "\"oi_day_high\":0,\"oi_day_low\":0,\"exchange_timestamp\":\"2021-07-05T05:11:27Z\","
    "\"depth\":{\"buy\":[{\"quantity\":5,\"price\":1573.4,\"orders\":1},"
    "{\"quantity\":140,\"price\":1573,\"orders\":2},{\"quantity\":2,\"price\":1572.95,\"orders\":1}"
    ","
    "{\"quantity\":219,\"price\":1572.9,\"orders\":7},{\"quantity\":50,\"price\":1572.85,"
    "\"orders\":1}],"
    "\"sell\":[{\"quantity\":172,\"price\":1573.7,\"orders\":3},"
    "{\"quantity\":44,\"price\":1573.75,\"orders\":3},{\"quantity\":302,\"price\":1573.85,"
    "\"orders\":3},"
    "{\"quantity\":141,\"price\":1573.9,\"orders\":2},{\"quantity\":724,\"price\":1573.95,"
    "\"orders\":5}]}}]}\n";

static const char s_quote_tick[] =
    "{\"tradable\":true,\"mode\":\"quote\",\"instrument_token\":408065,\"last_price\":1573.15,"
    "\"last_traded_quantity\":1,\"average_traded_price\":1570.33,\"volume_traded\":1175986,"
    "\"total_buy_quantity\":256511,\"total_sell_quantity\":360503,"
    "\"ohlc\":{\"open\":1569.15,\"high\":1575,\"low\":1561.05,\"close\":1567.8},"
    "\"change\":0.3412425054216186}";

//  Run the CLI on path; returns the exit status, output in out (NUL-terminated).
static int
s_run (const char *path, bool bare, char *out, size_t cap)
{
    FILE *o = tmpfile ();
    FILE *e = tmpfile ();
    assert_non_null (o);
    assert_non_null (e);
    int rc = md_cli_decode (path, bare, o, e);
    rewind (o);
    size_t n = fread (out, 1, cap - 1, o);
    out[n] = '\0';
    fclose (o);
    fclose (e);
    return rc;
}

static void
s_write (const char *path, const void *data, size_t len)
{
    FILE *f = fopen (path, "wb");
    assert_non_null (f);
    assert_int_equal (fwrite (data, 1, len, f), len);
    fclose (f);
}

static void
test_fixtures_base64 (void **state)
{
    (void) state;
    char out[8192];
    assert_int_equal (s_run (S_FIX "ticker_full.packet", true, out, sizeof out), 0);
    assert_string_equal (out, s_full_json);
    assert_int_equal (s_run (S_FIX "ticker_quote.packet", true, out, sizeof out), 0);
    char want[2048];
    snprintf (want, sizeof want, "{\"ticks\":[%s]}\n", s_quote_tick);
    assert_string_equal (out, want);
}

static void
test_frames_raw_and_base64 (void **state)
{
    (void) state;
    //  The quote fixture framed twice (00 02, 00 2C + 44 B, 00 08 + ltp), raw bytes.
    static const uint8_t quote[44] = {
        0x00, 0x06, 0x3a, 0x01, 0x00, 0x02, 0x66, 0x83, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x65,
        0x69, 0x00, 0x11, 0xf1, 0xb2, 0x00, 0x03, 0xe9, 0xff, 0x00, 0x05, 0x80, 0x37, 0x00, 0x02,
        0x64, 0xf3, 0x00, 0x02, 0x67, 0x3c, 0x00, 0x02, 0x61, 0xc9, 0x00, 0x02, 0x64, 0x6c};
    uint8_t f[64];
    f[0] = 0;
    f[1] = 2;
    f[2] = 0;
    f[3] = 44;
    memcpy (f + 4, quote, 44);
    static const uint8_t ltp[] = {0, 8, 0x00, 0x0d, 0x80, 0x01, 0x00, 0x00, 0x99, 0x7f};
    memcpy (f + 48, ltp, sizeof ltp);
    char path[] = "/tmp/md_cli_test_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    s_write (path, f, 58);
    char out[8192], want[4096];
    snprintf (want, sizeof want,
              "{\"ticks\":[%s,{\"tradable\":true,\"mode\":\"ltp\",\"instrument_token\":884737,"
              "\"last_price\":392.95}]}\n",
              s_quote_tick);
    assert_int_equal (s_run (path, false, out, sizeof out), 0);
    assert_string_equal (out, want);
    //  The same frame as base64 text with a newline.
    static const char b64[] =
        "AAIALAAGOgEAAmaDAAAAAQACZWkAEfGyAAPp/wAFgDcAAmTzAAJnPAACYckAAmRsAAgADYABAACZfw==\n";
    s_write (path, b64, strlen (b64));
    assert_int_equal (s_run (path, false, out, sizeof out), 0);
    assert_string_equal (out, want);
    //  A bare packet given to --decode is a malformed frame: empty list, status 1.
    s_write (path, quote, sizeof quote);
    assert_int_equal (s_run (path, false, out, sizeof out), 1);
    assert_string_equal (out, "{\"ticks\":[]}\n");
    //  An unknown bare length: empty list, status 0 (the clients skip it too).
    s_write (path, quote, 40);
    assert_int_equal (s_run (path, true, out, sizeof out), 0);
    assert_string_equal (out, "{\"ticks\":[]}\n");
    //  A heartbeat frame: no ticks.
    s_write (path, "\0", 1);
    assert_int_equal (s_run (path, false, out, sizeof out), 0);
    assert_string_equal (out, "{\"ticks\":[]}\n");
    unlink (path);
    assert_int_equal (s_run (path, false, out, sizeof out), 2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixtures_base64),
        cmocka_unit_test (test_frames_raw_and_base64),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
