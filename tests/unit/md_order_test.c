/*  md_order_test - order updates from the ticker: Kite's postback.json fixture (read
 *  from ../shared/fixtures/kite), a wrapped ticker message, exact prices from their
 *  digits, nulls, escapes, and broken or cut text. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../md-gateway/md_jraw.h"
#include "../../md-gateway/md_order.h"
#include "kt_clock.h"

static char *
s_read (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    static char buf[8192];
    *len = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[*len] = '\0';
    return buf;
}

static void
test_postback_fixture (void **state)
{
    (void) state;
    size_t len;
    char *text = s_read ("../shared/fixtures/kite/postback.json", &len);
    struct kt_order_update u;
    char why[128];
    assert_int_equal (md_order_parse (text, len, &u, why, sizeof why), 0);
    assert_string_equal (u.order_id, "220303000308932");
    assert_string_equal (u.exchange_order_id, "1000000001482421");
    assert_string_equal (u.parent_order_id, "");
    assert_string_equal (u.status, "COMPLETE");
    assert_string_equal (u.status_message, "");
    assert_string_equal (u.tag, "");
    assert_string_equal (u.guid, "XXXXXX");
    assert_string_equal (u.variety, "regular");
    assert_string_equal (u.exchange, "NSE");
    assert_string_equal (u.sym, "SBIN");
    assert_int_equal (u.token, 779521);
    assert_string_equal (u.order_type, "MARKET");
    assert_string_equal (u.transaction_type, "BUY");
    assert_string_equal (u.validity, "DAY");
    assert_string_equal (u.product, "CNC");
    assert_int_equal (u.qty, 1);
    assert_int_equal (u.price, 0);
    assert_int_equal (u.trigger, 0);
    assert_int_equal (u.avg_price, 47000);
    assert_int_equal (u.filled_qty, 1);
    assert_int_equal (u.pending_qty, 0);
    assert_int_equal (u.unfilled_qty, 0);
    assert_int_equal (u.order_ts_ns, kt_ist_ns (2022, 3, 3, 9, 24, 25));
    assert_int_equal (u.exchange_ts_ns, kt_ist_ns (2022, 3, 3, 9, 24, 25));
}

static void
test_ticker_message (void **state)
{
    (void) state;
    static const char msg[] =
        "{\"type\": \"order\", \"data\": {\"order_id\": \"251124000000012\", \"status\": "
        "\"TRIGGER PENDING\", \"status_message\": \"a \\\"quoted\\\" \\u00e9 text\", "
        "\"tag\": \"C-0001\", \"meta\": {\"x\": [1, {\"y\": \"}\"}]}, \"price\": 300.1, "
        "\"trigger_price\": 299.95, \"average_price\": 0.05, \"quantity\": 75.0, "
        "\"tradingsymbol\": \"NIFTY25N2524000CE\"}}";
    const char *data;
    size_t n;
    assert_int_equal (md_jraw_member (msg, strlen (msg), "data", &data, &n), 0);
    const char *type;
    size_t tn;
    assert_int_equal (md_jraw_member (msg, strlen (msg), "type", &type, &tn), 0);
    assert_int_equal (tn, 7);
    assert_int_equal (md_jraw_member (msg, strlen (msg), "nope", &type, &tn), 1);
    struct kt_order_update u;
    char why[128];
    assert_int_equal (md_order_parse (data, n, &u, why, sizeof why), 0);
    assert_string_equal (u.status, "TRIGGER PENDING");
    assert_string_equal (u.status_message, "a \"quoted\" ? text");
    assert_string_equal (u.tag, "C-0001");
    assert_int_equal (u.price, 30010);
    assert_int_equal (u.trigger, 29995);
    assert_int_equal (u.avg_price, 5);
    assert_int_equal (u.qty, 75);
    assert_string_equal (u.sym, "NIFTY25N2524000CE");
}

static void
test_bad_input (void **state)
{
    (void) state;
    struct kt_order_update u;
    char why[128];
    static const char *const bad[] = {
        "",
        "[]",
        "{\"order_id\": \"1\"}",
        "{\"order_id\": \"1\", \"status\": \"OPEN\", \"price\": \"abc\"}",
        "{\"order_id\": \"1\", \"status\": \"OPEN\", \"price\": -5}",
        "{\"order_id\": \"1\", \"status\": \"OPEN\", \"quantity\": 1.5}",
        "{\"order_id\": \"1\", \"status\": \"OPEN\", \"order_timestamp\": \"2022-13-03 09:24:25\"}",
        "{\"order_id\": \"1\", \"status\": \"OPEN\", \"instrument_token\": 99999999999}",
        "{\"order_id\": 1 \"status\": \"OPEN\"}",
        "{\"order_id\": \"1\", \"status\": \"OPEN\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (md_order_parse (bad[i], strlen (bad[i]), &u, why, sizeof why), -1);
        assert_true (why[0] != '\0');
    }
    //  Every prefix of the fixture, each in its own heap block (ASan sees over-reads).
    size_t len;
    char *text = s_read ("../shared/fixtures/kite/postback.json", &len);
    for (size_t cut = 0; cut < len; cut++) {
        char *copy = malloc (cut ? cut : 1);
        memcpy (copy, text, cut);
        md_order_parse (copy, cut, &u, why, sizeof why);
        free (copy);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_postback_fixture),
        cmocka_unit_test (test_ticker_message),
        cmocka_unit_test (test_bad_input),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
