/*  exec_update_test - Kite order updates: the postback fixture, the WebSocket `order`
 *  text, other WebSocket texts, broken input, and the forwarded ORDER_UPDATE. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../exec-gateway/exec_kite.h"

static void
test_postback_fixture (void **state)
{
    (void) state;
    FILE *f = fopen ("../shared/fixtures/kite/postback.json", "rb");
    assert_non_null (f);
    char buf[4096];
    size_t n = fread (buf, 1, sizeof buf, f);
    fclose (f);
    struct exec_kite_row r;
    char why[128];
    assert_int_equal (exec_update_parse (buf, n, &r, why, sizeof why), 0);
    assert_string_equal (r.order_id, "220303000308932");
    assert_string_equal (r.status, "COMPLETE");
    assert_string_equal (r.sym, "SBIN");
    assert_int_equal (r.side, KT_SIDE_BUY);
    assert_int_equal (r.type, KT_OT_MARKET);
    assert_int_equal (r.product, KT_PROD_NONE); //  CNC: not ours to trade
    assert_int_equal (r.filled, 1);
    assert_int_equal (r.avg_px, 47000);
    assert_string_equal (r.tag, "");
    assert_string_equal (r.ts, "2022-03-03 09:24:25");
    assert_int_equal (exec_state_from_kite (r.status, NULL), EXEC_ST_COMPLETE);
}

static void
test_websocket_texts (void **state)
{
    (void) state;
    const char *ws = "{\"type\":\"order\",\"data\":{\"order_id\":\"1953341975595868160\","
                     "\"status\":\"UPDATE\",\"tag\":\"b1-1206-0001\",\"tradingsymbol\":"
                     "\"NIFTY26D0823450PE\",\"transaction_type\":\"SELL\",\"order_type\":\"LIMIT\","
                     "\"product\":\"MIS\",\"quantity\":150,\"filled_quantity\":75,"
                     "\"pending_quantity\":75,\"unfilled_quantity\":75,\"price\":16.85,"
                     "\"trigger_price\":0,\"average_price\":16.9}}";
    struct exec_kite_row r;
    char why[128];
    assert_int_equal (exec_update_parse (ws, strlen (ws), &r, why, sizeof why), 0);
    assert_string_equal (r.order_id, "1953341975595868160");
    assert_string_equal (r.tag, "b1-1206-0001");
    assert_int_equal (r.filled, 75);
    assert_int_equal (r.price, 1685);
    assert_int_equal (r.avg_px, 1690);
    assert_int_equal (r.product, KT_PROD_MIS);
    //  Other text messages are not order updates.
    const char *other = "{\"type\":\"error\",\"data\":\"invalid token\"}";
    assert_int_equal (exec_update_parse (other, strlen (other), &r, why, sizeof why), 1);
    //  Broken ones say why and never crash.
    static const char *const bad[] = {
        "",
        "{",
        "[1,2]",
        "{\"type\":\"order\"}",
        "{\"type\":\"order\",\"data\":[]}",
        "{\"order_id\":\"1\"}",
        "{\"order_id\":\"1\",\"status\":\"OPEN\",\"price\":\"x\"}",
        "{\"order_id\":\"1\",\"status\":\"OPEN\",\"quantity\":1,\"filled_quantity\":2}",
        "{\"order_id\":\"1\",\"status\":\"OPEN\",\"price\":-1}",
        "{\"order_id\":\"1\",\"status\":\"OPEN\",\"quantity\":1.5}",
        "{\"order_id\":\"123456789012345678901234567890\",\"status\":\"OPEN\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (exec_update_parse (bad[i], strlen (bad[i]), &r, why, sizeof why) != -1)
            fail_msg ("accepted: %s", bad[i]);
        assert_true (why[0] != '\0');
    }
}

static void
test_forwarded_update (void **state)
{
    (void) state;
    struct kt_order_update u;
    memset (&u, 0, sizeof u);
    snprintf (u.order_id, sizeof u.order_id, "42");
    snprintf (u.status, sizeof u.status, "TRIGGER PENDING");
    snprintf (u.tag, sizeof u.tag, "b1-stop");
    snprintf (u.transaction_type, sizeof u.transaction_type, "BUY");
    snprintf (u.order_type, sizeof u.order_type, "SL");
    u.qty = 75;
    u.trigger = 2100;
    u.price = 2200;
    struct exec_kite_row r;
    exec_update_from_msg (&u, &r);
    assert_string_equal (r.order_id, "42");
    assert_true (exec_kite_row_has_tag (&r, "b1-stop"));
    assert_int_equal (r.trigger, 2100);
    assert_int_equal (r.type, KT_OT_SL);
    assert_int_equal (exec_state_from_kite (r.status, NULL), EXEC_ST_TRIGGER_PENDING);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_postback_fixture),
        cmocka_unit_test (test_websocket_texts),
        cmocka_unit_test (test_forwarded_update),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
