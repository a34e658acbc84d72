/*  md_json_test - ticks as the official clients print them: exact decimals per
 *  divisor, the clients' `change` (kite-protocol.md 8.2's Python/TS values), times,
 *  and the keys each mode carries. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../md-gateway/md_json.h"

static void
test_decimal (void **state)
{
    (void) state;
    char b[64];
    static const struct {
        int64_t wire, div;
        const char *text;
    } rows[] = {
        {157370, 100, "1573.7"},
        {157500, 100, "1575"},
        {157315, 100, "1573.15"},
        {5, 100, "0.05"},
        {0, 100, "0"},
        {-36, 100, "-0.36"},
        {734525000, 10000000, "73.4525"},
        {1234, 10000000, "0.0001234"},
        {734525, 10000, "73.4525"},
        {700000, 10000, "70"},
        {2147483647, 100, "21474836.47"},
        {-2147483647 - 1, 100, "-21474836.48"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int n = md_json_decimal (rows[i].wire, rows[i].div, b, sizeof b);
        assert_int_equal (n, (int) strlen (rows[i].text));
        assert_string_equal (b, rows[i].text);
    }
    assert_int_equal (md_json_decimal (157370, 100, b, 4), -1);
    assert_string_equal (b, "");
}

static void
test_change (void **state)
{
    (void) state;
    char b[64];
    //  Python/TS percent rule on the fixtures (8.2) and the TS repo packets.
    md_json_change (157370, 156780, 100, b, sizeof b);
    assert_string_equal (b, "0.3763235106518747");
    md_json_change (157315, 156780, 100, b, sizeof b);
    assert_string_equal (b, "0.3412425054216186");
    md_json_change (39295, 41410, 100, b, sizeof b);
    assert_string_equal (b, "-5.107461965708774");
    md_json_change (157315, 0, 100, b, sizeof b);
    assert_string_equal (b, "0");
    md_json_change (156780, 156780, 100, b, sizeof b);
    assert_string_equal (b, "0");
    md_json_change (200, 100, 100, b, sizeof b);
    assert_string_equal (b, "100");
    //  Small values are written positionally, not 4e-05.
    md_json_change (2500001, 2500000, 100, b, sizeof b);
    assert_string_equal (b, "0.00003999999999359716"); //  Python: 3.999999999359716e-05
}

static void
test_time (void **state)
{
    (void) state;
    char b[64];
    md_json_time (1625461887, b, sizeof b);
    assert_string_equal (b, "\"2021-07-05T05:11:27Z\"");
    md_json_time (0, b, sizeof b);
    assert_string_equal (b, "null");
    md_json_time (1655375264, b, sizeof b);
    assert_string_equal (b, "\"2022-06-16T10:27:44Z\"");
}

static int
s_has (const char *json, const char *key)
{
    char k[64];
    snprintf (k, sizeof k, "\"%s\":", key);
    return strstr (json, k) != NULL;
}

static void
test_keys_per_mode (void **state)
{
    (void) state;
    static const char *const quote_keys[] = {"tradable",
                                             "mode",
                                             "instrument_token",
                                             "last_price",
                                             "last_traded_quantity",
                                             "average_traded_price",
                                             "volume_traded",
                                             "total_buy_quantity",
                                             "total_sell_quantity",
                                             "ohlc",
                                             "open",
                                             "high",
                                             "low",
                                             "close",
                                             "change",
                                             NULL};
    static const char *const full_only[] = {"last_trade_time",
                                            "exchange_timestamp",
                                            "oi",
                                            "oi_day_high",
                                            "oi_day_low",
                                            "depth",
                                            "buy",
                                            "sell",
                                            NULL};
    char b[MD_JSON_TICK_MAX];
    struct md_pkt k = {.kind = MD_PKT_LTP,
                       .token = 408065,
                       .segment = 1,
                       .divisor = 100,
                       .tradable = true,
                       .ltp = 157315};
    md_json_tick (&k, b, sizeof b);
    assert_string_equal (b, "{\"tradable\":true,\"mode\":\"ltp\",\"instrument_token\":408065,"
                            "\"last_price\":1573.15}");

    k.kind = MD_PKT_QUOTE;
    md_json_tick (&k, b, sizeof b);
    for (int i = 0; quote_keys[i]; i++)
        assert_true (s_has (b, quote_keys[i]));
    for (int i = 0; full_only[i]; i++)
        assert_false (s_has (b, full_only[i]));

    k.kind = MD_PKT_FULL;
    k.exch_s = 1625461887;
    md_json_tick (&k, b, sizeof b);
    for (int i = 0; quote_keys[i]; i++)
        assert_true (s_has (b, quote_keys[i]));
    for (int i = 0; full_only[i]; i++)
        assert_true (s_has (b, full_only[i]));
    //  Empty depth levels are zeros, all five per side; a 0 time is null.
    assert_non_null (strstr (b, "\"last_trade_time\":null"));
    assert_non_null (strstr (b, "\"exchange_timestamp\":\"2021-07-05T05:11:27Z\""));
    const char *sell = strstr (b, "\"sell\":[");
    assert_non_null (sell);
    int levels = 0;
    for (const char *p = b; (p = strstr (p, "{\"quantity\":0,\"price\":0,\"orders\":0}")); p++)
        levels++;
    assert_int_equal (levels, 10);

    //  Index: ohlc and change, no quantities; exchange_timestamp only in full.
    struct md_pkt x = {.kind = MD_PKT_INDEX_QUOTE,
                       .token = 256265,
                       .segment = 9,
                       .divisor = 100,
                       .tradable = false,
                       .ltp = 2450035,
                       .high = 2460000,
                       .low = 2440010,
                       .open = 2445000,
                       .close = 2450071,
                       .wire_change = -36};
    md_json_tick (&x, b, sizeof b);
    assert_string_equal (b, "{\"tradable\":false,\"mode\":\"quote\",\"instrument_token\":256265,"
                            "\"last_price\":24500.35,\"ohlc\":{\"open\":24450,\"high\":24600,"
                            "\"low\":24400.1,\"close\":24500.71},"
                            "\"change\":-0.0014693451740810045}");
    x.kind = MD_PKT_INDEX_FULL;
    x.exch_s = 0;
    md_json_tick (&x, b, sizeof b);
    assert_non_null (strstr (b, "\"mode\":\"full\""));
    assert_non_null (strstr (b, ",\"exchange_timestamp\":null}"));
    assert_false (s_has (b, "volume_traded"));
    assert_false (s_has (b, "depth"));

    //  Too small a buffer, and NONE.
    assert_int_equal (md_json_tick (&k, b, 10), -1);
    struct md_pkt none = {0};
    assert_int_equal (md_json_tick (&none, b, sizeof b), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_decimal),
        cmocka_unit_test (test_change),
        cmocka_unit_test (test_time),
        cmocka_unit_test (test_keys_per_mode),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
