/*  sim_json_test - shape conformance of kite-sim's JSON with the official fixtures.
 *
 *  For each response kind, the serialiser's output (printed, then parsed back, as a
 *  client sees it) is compared with ../shared/fixtures/kite/<kind>.json by a generic
 *  recursive comparator: same keys, same JSON types (number, string, bool, null,
 *  object, array), arrays element-wise (homogeneous arrays against their first element,
 *  tuples such as candles position by position). null may stand for a string (and the
 *  reverse) only for the keys kite-protocol.md calls nullable. Money text is checked to
 *  be exact (no float noise). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../sim/sim.h"

#define FIX "../shared/fixtures/kite/"

static const char *const s_order_nullable[] = {
    "exchange_order_id", "parent_order_id", "status_message", "status_message_raw",
    "exchange_timestamp", "exchange_update_timestamp", "tag", "guid", "placed_by",
    "account_id", "avatar_url", NULL
};

static int
s_type (const cJSON *j)
{
    if (cJSON_IsNumber (j))
        return 1;
    if (cJSON_IsString (j))
        return 2;
    if (cJSON_IsBool (j))
        return 3;
    if (cJSON_IsNull (j))
        return 4;
    if (cJSON_IsObject (j))
        return 5;
    if (cJSON_IsArray (j))
        return 6;
    return 0;
}

static bool
s_nullable (const char *key, const char *const *nullable)
{
    for (int i = 0; key && nullable && nullable[i]; i++)
        if (strcmp (key, nullable[i]) == 0)
            return true;
    return false;
}

static void
s_same_shape (const cJSON *mine, const cJSON *fix, const char *path, const char *key,
              const char *const *nullable)
{
    int tm = s_type (mine), tf = s_type (fix);
    if (tm != tf) {
        bool str_null = (tm == 2 && tf == 4) || (tm == 4 && tf == 2);
        if (str_null && s_nullable (key, nullable))
            return;
        fail_msg ("%s: JSON type %d, fixture has %d", path, tm, tf);
    }
    char sub[512];
    if (tf == 5) {
        const cJSON *it;
        cJSON_ArrayForEach (it, fix) {
            snprintf (sub, sizeof sub, "%s.%s", path, it->string);
            const cJSON *m = cJSON_GetObjectItemCaseSensitive (mine, it->string);
            if (!m)
                fail_msg ("%s: missing key", sub);
            s_same_shape (m, it, sub, it->string, nullable);
        }
        cJSON_ArrayForEach (it, mine)
            if (!cJSON_GetObjectItemCaseSensitive (fix, it->string))
                fail_msg ("%s.%s: key not in the fixture", path, it->string);
    }
    else if (tf == 6) {
        int nf = cJSON_GetArraySize (fix), nm = cJSON_GetArraySize (mine);
        if (nf == 0 || nm == 0)
            return;
        bool homogeneous = true;
        for (int i = 1; i < nf; i++)
            homogeneous &= s_type (cJSON_GetArrayItem (fix, i)) == s_type (cJSON_GetArrayItem (fix, 0));
        if (!homogeneous && nm != nf)
            fail_msg ("%s: tuple of %d, fixture has %d", path, nm, nf);
        for (int i = 0; i < nm; i++) {
            snprintf (sub, sizeof sub, "%s[%d]", path, i);
            s_same_shape (cJSON_GetArrayItem (mine, i),
                          cJSON_GetArrayItem (fix, homogeneous? 0: i), sub, key, nullable);
        }
    }
}

//  Every decimal number in text has at most 2 decimals (paise): no float noise.
static void
s_exact_money (const char *text)
{
    for (const char *p = strchr (text, '.'); p; p = strchr (p + 1, '.')) {
        if (p == text || p[-1] < '0' || p[-1] > '9')
            continue;
        int n = 0;
        while (p[1 + n] >= '0' && p[1 + n] <= '9')
            n++;
        if (n > 2)
            fail_msg ("inexact number near: %.30s", p > text + 10? p - 10: text);
    }
}

static cJSON *
s_fixture (const char *name)
{
    char path[256];
    snprintf (path, sizeof path, FIX "%s.json", name);
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    static char buf[1 << 20];
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse (buf);
    assert_non_null (j);
    return j;
}

//  Print mine in the success envelope (as the wire carries it), parse it back and
//  compare its data with the fixture's data (or with one element of it).
static void
s_check (cJSON *mine, const char *fixture, int fix_index, const char *const *nullable)
{
    char *text = sim_json_success (&mine);
    s_exact_money (text);
    cJSON *back = cJSON_Parse (text);
    assert_non_null (back);
    cJSON *fix = s_fixture (fixture);
    const cJSON *fd = cJSON_HasObjectItem (fix, "data")? cJSON_GetObjectItem (fix, "data"): fix;
    if (fix_index >= 0)
        fd = cJSON_GetArrayItem (fd, fix_index);
    assert_non_null (fd);
    assert_string_equal (cJSON_GetObjectItem (back, "status")->valuestring, "success");
    s_same_shape (cJSON_GetObjectItem (back, "data"), fd, fixture, NULL, nullable);
    cJSON_Delete (back);
    cJSON_Delete (fix);
    free (text);
}

static const struct sim_user s_user = { "SM0001", "Kite Sim", "sim_api_key" };

static kt_instr_table_t *
s_instr (void)
{
    const char csv[] = KT_INSTR_CSV_HEADER "\n"
                       "8960002,35000,NIFTY25NOV23400CE,NIFTY,820.2,2025-11-25,23400.0,0.05,75,"
                       "CE,NFO-OPT,NFO\n";
    char err[128];
    kt_instr_table_t *t = kt_instr_parse (csv, sizeof csv - 1, err, sizeof err);
    if (!t)
        fail_msg ("instruments: %s", err);
    return t;
}

static struct sim_order
s_order (bool filled)
{
    struct sim_order o;
    memset (&o, 0, sizeof o);
    snprintf (o.order_id, sizeof o.order_id, "251124000000001");
    snprintf (o.exchange_order_id, sizeof o.exchange_order_id, "1100000000000001");
    snprintf (o.tag, sizeof o.tag, "S1-0007");
    snprintf (o.sym, sizeof o.sym, "NIFTY25NOV23400CE");
    o.token = 8960002;
    o.side = KT_SIDE_BUY;
    o.order_type = KT_OT_LIMIT;
    o.product = KT_PROD_MIS;
    snprintf (o.variety, sizeof o.variety, "regular");
    snprintf (o.validity, sizeof o.validity, "DAY");
    snprintf (o.status, sizeof o.status, filled? "COMPLETE": "OPEN");
    o.qty = 150;
    o.filled = filled? 150: 0;
    o.pending = filled? 0: 150;
    o.price = 30010;
    o.avg_price = filled? 30005: 0;
    o.market_protection = -1;
    o.placed_ns = kt_ist_ns (2025, 11, 24, 9, 20, 11);
    o.updated_ns = o.placed_ns + KT_NS_PER_SEC;
    o.exchange_ns = o.placed_ns;
    return o;
}

static void
test_profile_session_margins (void **state)
{
    (void) state;
    s_check (sim_json_profile (&s_user), "profile", -1, NULL);
    s_check (sim_json_session (&s_user, "tok", "pub", kt_ist_ns (2025, 11, 24, 8, 0, 0)),
             "generate_session", -1, s_order_nullable);
    struct sim_margins m = { .opening_balance = 100000000, .live_balance = 99000000,
                             .net = 99000000, .span = 700000, .exposure = 300000,
                             .debits = 1000000 };
    s_check (sim_json_margins (&m), "margins", -1, NULL);
    s_check (sim_json_margin_segment (&m, true), "margins_equity", -1, NULL);
    s_check (sim_json_place ("251124000000001", NULL, 0), "order_response", -1, NULL);
}

//  The fixture's child of the same kind as mine ("order_id" or "error").
static const cJSON *
s_fixture_child (const cJSON *fix_children, const cJSON *mine)
{
    bool err = cJSON_HasObjectItem (mine, "error");
    const cJSON *it;
    cJSON_ArrayForEach (it, fix_children)
        if (cJSON_HasObjectItem (it, "error") == err)
            return it;
    fail_msg ("no fixture child of that kind");
    return NULL;
}

static void
test_place_autoslice (void **state)
{
    (void) state;
    //  The fixture's own content through sim_json_place must print back as the fixture,
    //  value for value (ids as strings, code 400 a number, data null).
    static const char *const ids[] = { "1914227164534824960", "1914227164580962304", "",
                                       "1914227164681625600" };
    struct sim_child ch[4];
    memset (ch, 0, sizeof ch);
    for (int i = 0; i < 4; i++)
        snprintf (ch[i].order_id, sizeof ch[i].order_id, "%s", ids[i]);
    ch[2].error_type = "MarginException";
    snprintf (ch[2].message, sizeof ch[2].message, "Insufficient funds. Required margin is "
              "228365.92 but available margin is 228358.50.");
    cJSON *mine = sim_json_place ("1914227164488687616", ch, 4);
    char *text = sim_json_success (&mine);
    cJSON *back = cJSON_Parse (text);
    cJSON *fix = s_fixture ("autoslice_response");
    assert_non_null (back);
    assert_true (cJSON_Compare (back, fix, true));
    free (text);
    //  Any mix keeps the shape: each child matches the fixture child of its kind, and
    //  the envelope's keys match.
    struct sim_child mix[3];
    memset (mix, 0, sizeof mix);
    mix[0].error_type = "MarginException";
    snprintf (mix[0].message, sizeof mix[0].message, "Insufficient funds.");
    snprintf (mix[1].order_id, sizeof mix[1].order_id, "251124000000002");
    mix[2] = mix[0];
    mine = sim_json_place ("251124000000001", mix, 3);
    text = sim_json_success (&mine);
    cJSON_Delete (back);
    back = cJSON_Parse (text);
    assert_non_null (back);
    const cJSON *bd = cJSON_GetObjectItem (back, "data");
    const cJSON *fd = cJSON_GetObjectItem (fix, "data");
    const cJSON *bc = cJSON_GetObjectItem (bd, "children");
    const cJSON *fc = cJSON_GetObjectItem (fd, "children");
    assert_int_equal (cJSON_GetArraySize (bc), 3);
    assert_true (cJSON_IsString (cJSON_GetObjectItem (bd, "order_id")));
    assert_int_equal (cJSON_GetArraySize (bd), cJSON_GetArraySize (fd));
    const cJSON *it;
    cJSON_ArrayForEach (it, bc)
        s_same_shape (it, s_fixture_child (fc, it), "autoslice_response.children", NULL, NULL);
    const cJSON *e = cJSON_GetObjectItem (cJSON_GetArrayItem (bc, 0), "error");
    assert_int_equal (cJSON_GetObjectItem (e, "code")->valueint, 400);
    assert_true (cJSON_IsNull (cJSON_GetObjectItem (e, "data")));
    assert_string_equal (cJSON_GetObjectItem (e, "message")->valuestring, "Insufficient funds.");
    free (text);
    cJSON_Delete (back);
    cJSON_Delete (fix);
    //  No children (a plain order): order_response.json's {"order_id"} alone.
    mine = sim_json_place ("251124000000003", mix, 0);
    text = sim_json_print (&mine);
    assert_string_equal (text, "{\"order_id\":\"251124000000003\"}");
    free (text);
    //  The status an error_type maps to (the child's code; the HTTP status of an error).
    assert_int_equal (sim_json_error_status ("MarginException"), 400);
    assert_int_equal (sim_json_error_status ("TokenException"), 403);
    assert_int_equal (sim_json_error_status ("NetworkException"), 503);
    assert_int_equal (sim_json_error_status ("Nonsense"), 500);
    assert_int_equal (sim_json_error_status (NULL), 500);
}

static void
test_orders (void **state)
{
    (void) state;
    kt_instr_table_t *t = s_instr ();
    struct sim_order open = s_order (false), done = s_order (true);
    //  orders.json row 8 is a modern regular order (account_id, tags, validity_ttl).
    s_check (sim_json_order (&open, t, &s_user), "orders", 8, s_order_nullable);
    s_check (sim_json_order (&done, t, &s_user), "orders", 8, s_order_nullable);
    struct sim_order rej = s_order (false);
    rej.exchange_order_id[0] = '\0';
    rej.tag[0] = '\0';
    snprintf (rej.status, sizeof rej.status, "REJECTED");
    snprintf (rej.status_message, sizeof rej.status_message, "Insufficient funds");
    snprintf (rej.status_message_raw, sizeof rej.status_message_raw, "RMS:Margin Exceeds");
    s_check (sim_json_order (&rej, t, &s_user), "orders", 8, s_order_nullable);
    s_check (sim_json_order_row (&open, t, &s_user), "order_info", 0, s_order_nullable);
    s_check (sim_json_order_row (&rej, t, &s_user), "order_info", 3, s_order_nullable);
    //  Money is exact rupee text.
    cJSON *j = sim_json_order (&open, t, &s_user);
    char *text = sim_json_print (&j);
    assert_non_null (strstr (text, "\"price\":300.1,"));
    assert_non_null (strstr (text, "\"instrument_token\":8960002,"));
    assert_non_null (strstr (text, "\"placed_by\":\"SM0001\""));
    free (text);
    //  The broker's own square-off order says so in every shape (book, history, update).
    struct sim_order sq = s_order (true);
    sq.tag[0] = '\0';
    snprintf (sq.placed_by, sizeof sq.placed_by, "%s", SIM_PLACED_BY_SQUAREOFF);
    cJSON *shapes[3] = {sim_json_order (&sq, t, &s_user), sim_json_order_row (&sq, t, &s_user),
                        sim_json_postback (&sq, t, &s_user, NULL)};
    for (int i = 0; i < 3; i++) {
        const cJSON *by = cJSON_GetObjectItemCaseSensitive (shapes[i], "placed_by");
        assert_true (cJSON_IsString (by));
        assert_string_equal (by->valuestring, "ADMINSQF");
        assert_true (cJSON_IsNull (cJSON_GetObjectItemCaseSensitive (shapes[i], "tag")));
        cJSON_Delete (shapes[i]);
    }
    kt_instr_destroy (&t);
}

static void
test_postback (void **state)
{
    (void) state;
    kt_instr_table_t *t = s_instr ();
    struct sim_order done = s_order (true);
    cJSON *pb = sim_json_postback (&done, t, &s_user, "my_api_secret");
    //  The postback fixture has no envelope: compare the object itself.
    char *text = sim_json_print (&pb);
    cJSON *back = cJSON_Parse (text);
    cJSON *fix = s_fixture ("postback");
    s_same_shape (back, fix, "postback", NULL, s_order_nullable);
    assert_string_equal (cJSON_GetObjectItem (back, "status")->valuestring, "COMPLETE");
    char want[65];
    sim_auth_checksum ("251124000000001", "2025-11-24 09:20:12", "my_api_secret", want);
    assert_string_equal (cJSON_GetObjectItem (back, "checksum")->valuestring, want);
    cJSON_Delete (back);
    cJSON_Delete (fix);
    free (text);
    //  Update statuses.
    struct sim_order o = s_order (false);
    assert_string_equal (sim_json_update_status (&o), "OPEN");
    o.filled = 75;
    assert_string_equal (sim_json_update_status (&o), "UPDATE");
    o.filled = 0;
    o.modified = true;
    assert_string_equal (sim_json_update_status (&o), "UPDATE");
    snprintf (o.status, sizeof o.status, "CANCELLED");
    assert_string_equal (sim_json_update_status (&o), "CANCELLED");
    kt_instr_destroy (&t);
}

static void
test_trades_positions (void **state)
{
    (void) state;
    kt_instr_table_t *t = s_instr ();
    struct sim_trade tr = { .token = 8960002, .side = KT_SIDE_SELL, .product = KT_PROD_NRML,
                            .qty = 75, .price = 1205, .fill_ns = kt_ist_ns (2025, 11, 24, 9, 20, 11),
                            .order_ns = kt_ist_ns (2025, 11, 24, 9, 20, 10) };
    snprintf (tr.trade_id, sizeof tr.trade_id, "50000001");
    snprintf (tr.order_id, sizeof tr.order_id, "251124000000001");
    snprintf (tr.exchange_order_id, sizeof tr.exchange_order_id, "1100000000000001");
    snprintf (tr.sym, sizeof tr.sym, "NIFTY25NOV23400CE");
    cJSON *arr = cJSON_CreateArray ();
    cJSON_AddItemToArray (arr, sim_json_trade (&tr, t));
    cJSON *arr2 = cJSON_Duplicate (arr, true);
    s_check (arr, "trades", -1, NULL);
    s_check (arr2, "order_trades", -1, NULL);
    cJSON *one = sim_json_trade (&tr, t);
    char *text = sim_json_print (&one);
    assert_non_null (strstr (text, "\"order_timestamp\":\"09:20:10\""));
    assert_non_null (strstr (text, "\"average_price\":12.05,"));
    free (text);

    struct sim_position p = { .token = 8960002, .product = KT_PROD_NRML, .qty = -75,
                              .avg_price = 1205, .sell_qty = 75, .sell_value = 90375,
                              .day_sell_qty = 75, .day_sell_value = 90375, .last_price = 1100,
                              .close_price = 1300, .unrealised = 7875, .pnl = 7875,
                              .m2m = 7875, .sell_m2m = 90375 };
    snprintf (p.sym, sizeof p.sym, "NIFTY25NOV23400CE");
    cJSON *pos = cJSON_CreateObject ();
    cJSON *net = cJSON_AddArrayToObject (pos, "net");
    cJSON *day = cJSON_AddArrayToObject (pos, "day");
    cJSON_AddItemToArray (net, sim_json_position (&p, t, false));
    cJSON_AddItemToArray (day, sim_json_position (&p, t, true));
    s_check (pos, "positions", -1, NULL);
    //  Day identities of positions.json: value = sell - buy, pnl = value + qty * ltp.
    cJSON *d = sim_json_position (&p, t, true);
    text = sim_json_print (&d);
    assert_non_null (strstr (text, "\"value\":903.75,"));
    assert_non_null (strstr (text, "\"pnl\":78.75,"));
    free (text);
    kt_instr_destroy (&t);
}

static void
test_market_data (void **state)
{
    (void) state;
    struct sim_quote q = { .token = 8960002, .ltp = 157370, .last_qty = 7, .avg_price = 157037,
                           .volume = 1192471, .buy_qty = 256443, .sell_qty = 363009,
                           .o = 156915, .h = 157500, .l = 156105, .c = 156780,
                           .last_trade_ns = kt_ist_ns (2021, 7, 5, 10, 41, 27),
                           .exch_ns = kt_ist_ns (2021, 7, 5, 10, 41, 27) };
    for (int i = 0; i < SIM_DEPTH; i++) {
        q.bid[i].px = 157340 - 5 * i;
        q.bid[i].qty = 10;
        q.bid[i].orders = 1;
        q.ask[i].px = 157370 + 5 * i;
        q.ask[i].qty = 10;
        q.ask[i].orders = 1;
    }
    cJSON *m = cJSON_CreateObject ();
    cJSON_AddItemToObject (m, "NSE:INFY", sim_json_quote (&q));
    s_check (m, "quote", -1, NULL);
    m = cJSON_CreateObject ();
    cJSON_AddItemToObject (m, "NSE:INFY", sim_json_ohlc (&q));
    s_check (m, "ohlc", -1, NULL);
    m = cJSON_CreateObject ();
    cJSON_AddItemToObject (m, "NSE:INFY", sim_json_ltp (&q));
    s_check (m, "ltp", -1, NULL);
    struct sim_candle c = { .start_ns = kt_ist_ns (2017, 12, 15, 9, 15, 0), .o = 170450,
                            .h = 170500, .l = 169925, .c = 170280, .volume = 2499 };
    cJSON *data = cJSON_CreateObject ();
    cJSON *candles = cJSON_AddArrayToObject (data, "candles");
    cJSON_AddItemToArray (candles, sim_json_candle (&c, false));
    cJSON_AddItemToArray (candles, sim_json_candle (&c, false));
    s_check (data, "historical_minute", -1, NULL);
    cJSON *one = sim_json_candle (&c, false);
    char *text = sim_json_print (&one);
    assert_string_equal (text, "[\"2017-12-15T09:15:00+0530\",1704.5,1705,1699.25,1702.8,2499]");
    free (text);
    one = sim_json_candle (&c, true);
    text = sim_json_print (&one);
    assert_string_equal (text, "[\"2017-12-15T09:15:00+0530\",1704.5,1705,1699.25,1702.8,2499,0]");
    free (text);
}

static void
test_comparator_catches (void **state)
{
    (void) state;
    //  The comparator itself: a missing key, an extra key and a type change must fail.
    cJSON *fix = cJSON_Parse ("{\"a\":1,\"b\":\"x\",\"c\":[1,2]}");
    cJSON *ok = cJSON_Parse ("{\"a\":2,\"b\":\"y\",\"c\":[3]}");
    s_same_shape (ok, fix, "t", NULL, NULL);
    cJSON_Delete (ok);
    cJSON_Delete (fix);
}

static void
test_error_envelope (void **state)
{
    (void) state;
    char *e = sim_json_error ("Too many requests", "NetworkException");
    assert_string_equal (e, "{\"status\":\"error\",\"message\":\"Too many requests\","
                            "\"error_type\":\"NetworkException\",\"data\":null}");
    free (e);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_profile_session_margins),
        cmocka_unit_test (test_place_autoslice),
        cmocka_unit_test (test_orders),
        cmocka_unit_test (test_postback),
        cmocka_unit_test (test_trades_positions),
        cmocka_unit_test (test_market_data),
        cmocka_unit_test (test_comparator_catches),
        cmocka_unit_test (test_error_envelope),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
