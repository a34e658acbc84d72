/*  recon_kite_test - the broker's answers parsed from the official fixtures, money from
 *  the numbers' text (no double), and refusals that name the row and field. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../reconciler/recon.h"
#include "kt_testfix.h"

static void
test_positions (void **state)
{
    (void) state;
    size_t len;
    char *j = kt_testfix_read ("positions.json", &len), why[160];
    assert_non_null (j);
    struct recon_bpos p[8];
    assert_int_equal (recon_kite_positions (j, len, p, 8, why, sizeof why), 3);
    assert_string_equal (p[0].sym, "LEADMINI17DECFUT");
    assert_string_equal (p[0].exchange, "MCX");
    assert_int_equal (p[0].product, KT_PROD_NRML);
    assert_int_equal (p[0].qty, 1);
    assert_int_equal (p[0].avg_px, 16105); //  161.05, exact
    assert_int_equal (p[0].token, 53496327);
    assert_int_equal (p[1].qty, 0);
    assert_int_equal (p[2].product, KT_PROD_NONE); //  CO: not a product of ours
    //  Too small an array: the count says so, nothing written past it.
    assert_int_equal (recon_kite_positions (j, len, p, 1, why, sizeof why), 3);
    free (j);
}

static void
test_orders (void **state)
{
    (void) state;
    size_t len;
    char *j = kt_testfix_read ("orders.json", &len), why[160];
    assert_non_null (j);
    struct recon_border o[32];
    int n = recon_kite_orders (j, len, o, 32, why, sizeof why);
    assert_true (n >= 10);
    assert_string_equal (o[1].order_id, "300000000000000");
    assert_string_equal (o[1].status, "COMPLETE");
    assert_int_equal (o[1].avg_px, 10940);
    assert_int_equal (o[1].side, KT_SIDE_BUY);
    int found = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp (o[i].order_id, "220524001859672")) {
            found++;
            assert_string_equal (o[i].status, "REJECTED");
            assert_string_equal (o[i].tag, "icebergord");
            assert_non_null (strstr (o[i].status_message, "Insufficient funds"));
        }
        if (!strcmp (o[i].order_id, "1953367517686685697")) { //  19 digits kept as text
            found++;
            assert_string_equal (o[i].sym, "NIFTY2580724400CE");
            assert_int_equal (o[i].filled, 150);
            assert_int_equal (o[i].avg_px, 1230);
        }
        assert_string_equal (o[i].placed_by, "XXXXXX");
    }
    assert_int_equal (found, 2);
    free (j);
}

static void
test_trades (void **state)
{
    (void) state;
    size_t len;
    char *j = kt_testfix_read ("trades.json", &len), why[160];
    assert_non_null (j);
    struct recon_btrade t[8];
    assert_int_equal (recon_kite_trades (j, len, t, 8, why, sizeof why), 4);
    assert_string_equal (t[0].trade_id, "10000000");
    assert_string_equal (t[0].order_id, "200000000000000");
    assert_int_equal (t[0].price, 42065);
    assert_int_equal (t[0].fill_ns, kt_ist_ns (2021, 5, 31, 9, 16, 39));
    assert_int_equal (t[1].price, 7276); //  72.755 -> nearest paisa
    free (j);
}

static void
test_refusals (void **state)
{
    (void) state;
    char why[160];
    struct recon_bpos p[2];
    struct recon_btrade t[2];
    const char *bad = "{\"status\":\"error\",\"message\":\"Incorrect `api_key` or "
                      "`access_token`.\",\"error_type\":\"TokenException\"}";
    assert_int_equal (recon_kite_positions (bad, strlen (bad), p, 2, why, sizeof why), -1);
    assert_non_null (strstr (why, "Incorrect `api_key`"));
    assert_int_equal (recon_kite_positions ("{", 1, p, 2, why, sizeof why), -1);
    assert_string_equal (why, "not JSON");
    const char *no_qty = "{\"status\":\"success\",\"data\":[{\"trade_id\":\"1\",\"order_id\":"
                         "\"2\",\"tradingsymbol\":\"X\",\"transaction_type\":\"BUY\","
                         "\"average_price\":1.5}]}";
    assert_int_equal (recon_kite_trades (no_qty, strlen (no_qty), t, 2, why, sizeof why), -1);
    assert_string_equal (why, "row 0: quantity missing or bad");
    //  Strings holding digits are not touched; numbers inside strings stay strings.
    const char *odd = "{\"status\":\"success\",\"data\":[{\"trade_id\":\"7 \\\"12\\\" 3\","
                      "\"order_id\":\"-5\",\"tradingsymbol\":\"A1\",\"transaction_type\":\"SELL\","
                      "\"quantity\":75,\"average_price\":0.05}]}";
    assert_int_equal (recon_kite_trades (odd, strlen (odd), t, 2, why, sizeof why), 1);
    assert_string_equal (t[0].trade_id, "7 \"12\" 3");
    assert_int_equal (t[0].price, 5);
    assert_int_equal (t[0].fill_ns, 0);
}

static void
test_status_words (void **state)
{
    (void) state;
    assert_int_equal (recon_kite_status ("COMPLETE", 75), KT_OS_FILLED);
    assert_int_equal (recon_kite_status ("CANCELLED", 75), KT_OS_CANCELLED);
    assert_int_equal (recon_kite_status ("REJECTED", 0), KT_OS_REJECTED);
    assert_int_equal (recon_kite_status ("OPEN", 0), KT_OS_OPEN);
    assert_int_equal (recon_kite_status ("OPEN", 75), KT_OS_PARTIAL);
    assert_int_equal (recon_kite_status ("TRIGGER PENDING", 0), KT_OS_OPEN);
    assert_int_equal (recon_kite_status ("LAPSED", 0), KT_OS_EXPIRED);
    assert_int_equal (recon_kite_status ("VALIDATION PENDING", 0), KT_OS_NONE);
    assert_int_equal (recon_kite_status ("MODIFY PENDING", 0), KT_OS_NONE);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_positions),    cmocka_unit_test (test_orders),
        cmocka_unit_test (test_trades),       cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_status_words),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
