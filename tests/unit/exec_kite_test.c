/*  exec_kite_test - Kite REST forms, reply classes, order rows and trades, on the
 *  official fixtures (../shared/fixtures/kite) and on hand-made error bodies. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../exec-gateway/exec_kite.h"

#define FIX "../shared/fixtures/kite/"

static char *
s_read (const char *name, size_t *len)
{
    char path[256];
    snprintf (path, sizeof path, FIX "%s", name);
    FILE *f = fopen (path, "rb");
    if (!f)
        fail_msg ("cannot open %s", path);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    assert_non_null (buf);
    assert_int_equal (fread (buf, 1, (size_t) n, f), (size_t) n);
    buf[n] = '\0';
    fclose (f);
    *len = (size_t) n;
    return buf;
}

static void
test_json_number_text (void **state)
{
    (void) state;
    //  Numbers inside strings and keys must not shift the mapping; ids beyond 2^53 and
    //  float noise come out exact.
    const char *t = "{\"a1\": \"x 12 \\\" 3\", \"net\": 99725.05000000002, \"id\": "
                    "1953341975595868160, \"l\": [1, -0, 2.5e1, {\"p\": 300.1}], \"n\": null}";
    exec_json_t doc;
    char why[96];
    assert_int_equal (exec_json_parse (&doc, t, strlen (t), why, sizeof why), 0);
    int64_t v;
    assert_int_equal (exec_json_money (&doc, doc.root, "net", &v), 0);
    assert_int_equal (v, 9972505);
    char id[32];
    assert_int_equal (exec_json_str (&doc, doc.root, "id", id, sizeof id), 0);
    assert_string_equal (id, "1953341975595868160");
    assert_int_equal (exec_json_int (&doc, doc.root, "id", &v), 0);
    assert_int_equal (v, 1953341975595868160LL);
    const cJSON *l = cJSON_GetObjectItem (doc.root, "l");
    assert_int_equal (exec_json_money (&doc, cJSON_GetArrayItem (l, 3), "p", &v), 0);
    assert_int_equal (v, 30010);
    const char *nt;
    size_t nl;
    assert_int_equal (exec_json_num_text (&doc, cJSON_GetArrayItem (l, 2), &nt, &nl), 0);
    assert_int_equal (nl, 5);
    assert_memory_equal (nt, "2.5e1", 5);
    assert_int_equal (exec_json_money (&doc, doc.root, "n", &v), 1);
    assert_int_equal (exec_json_money (&doc, doc.root, "absent", &v), 1);
    assert_int_equal (exec_json_money (&doc, doc.root, "a1", &v), -1);
    assert_int_equal (exec_json_int (&doc, doc.root, "net", &v), -1);
    exec_json_free (&doc);
    assert_int_equal (exec_json_parse (&doc, "{\"a\": 1", 7, why, sizeof why), -1);
    assert_null (doc.root);
    assert_non_null (strstr (why, "malformed"));
}

static struct exec_kite_order
s_order (kt_order_type_t type)
{
    struct exec_kite_order o;
    memset (&o, 0, sizeof o);
    snprintf (o.exchange, sizeof o.exchange, "NFO");
    snprintf (o.sym, sizeof o.sym, "NIFTY26D0823450PE");
    snprintf (o.tag, sizeof o.tag, "b1-1206-0001");
    o.side = KT_SIDE_SELL;
    o.type = type;
    o.qty = 75;
    o.product = KT_PROD_MIS;
    o.market_protection = -1;
    return o;
}

static void
test_place_forms (void **state)
{
    (void) state;
    char f[EXEC_KITE_FORM_MAX], why[128];
    struct exec_kite_order o = s_order (KT_OT_LIMIT);
    o.price = 12345;
    assert_true (exec_kite_place_form (&o, f, sizeof f, why, sizeof why) > 0);
    assert_string_equal (f, "tradingsymbol=NIFTY26D0823450PE&exchange=NFO&transaction_type=SELL"
                            "&product=MIS&quantity=75&order_type=LIMIT&price=123.45"
                            "&validity=DAY&tag=b1-1206-0001");
    o = s_order (KT_OT_MARKET);
    assert_true (exec_kite_place_form (&o, f, sizeof f, why, sizeof why) > 0);
    assert_non_null (strstr (f, "&order_type=MARKET&validity=DAY&market_protection=-1&"));
    assert_null (strstr (f, "price="));
    o = s_order (KT_OT_SLM);
    o.side = KT_SIDE_BUY;
    o.trigger = 2000;
    o.market_protection = 3;
    snprintf (o.validity, sizeof o.validity, "IOC");
    assert_true (exec_kite_place_form (&o, f, sizeof f, why, sizeof why) > 0);
    assert_non_null (strstr (f, "order_type=SL-M&trigger_price=20&validity=IOC"
                                "&market_protection=3"));
    assert_null (strstr (f, "&price="));
    o = s_order (KT_OT_SL);
    o.side = KT_SIDE_BUY;
    o.price = 2105;
    o.trigger = 2100;
    assert_true (exec_kite_place_form (&o, f, sizeof f, why, sizeof why) > 0);
    assert_non_null (strstr (f, "order_type=SL&price=21.05&trigger_price=21&validity=DAY&tag="));
    assert_null (strstr (f, "market_protection"));

    //  Refusals, each with its reason.
    o = s_order (KT_OT_LIMIT);
    assert_int_equal (exec_kite_place_form (&o, f, sizeof f, why, sizeof why), -1);
    assert_non_null (strstr (why, "without a price"));
    o = s_order (KT_OT_SL);
    o.price = 100;
    assert_int_equal (exec_kite_place_form (&o, f, sizeof f, why, sizeof why), -1);
    assert_non_null (strstr (why, "trigger"));
    o = s_order (KT_OT_MARKET);
    o.market_protection = 0;
    assert_int_equal (exec_kite_place_form (&o, f, sizeof f, why, sizeof why), -1);
    assert_non_null (strstr (why, "market_protection"));
    o = s_order (KT_OT_MARKET);
    snprintf (o.tag, sizeof o.tag, "123456789012345678901");
    assert_int_equal (exec_kite_place_form (&o, f, sizeof f, why, sizeof why), -1);
    assert_non_null (strstr (why, "tag"));
    o = s_order (KT_OT_MARKET);
    o.qty = 0;
    assert_int_equal (exec_kite_place_form (&o, f, sizeof f, why, sizeof why), -1);
    o = s_order (KT_OT_MARKET);
    assert_int_equal (exec_kite_place_form (&o, f, 40, why, sizeof why), -1);
    assert_non_null (strstr (why, "longer"));

    //  Modify: the terms only, no tag, no symbol.
    o = s_order (KT_OT_SL);
    o.price = 2105;
    o.trigger = 2100;
    o.qty = 150;
    assert_true (exec_kite_modify_form (&o, f, sizeof f, why, sizeof why) > 0);
    assert_string_equal (f, "quantity=150&order_type=SL&price=21.05&trigger_price=21&validity=DAY");

    char p[EXEC_KITE_PATH_MAX];
    assert_int_equal (exec_kite_path (p, sizeof p, "regular", NULL), 15);
    assert_string_equal (p, "/orders/regular");
    assert_true (exec_kite_path (p, sizeof p, "", "151220000000000") > 0);
    assert_string_equal (p, "/orders/regular/151220000000000");
    assert_int_equal (exec_kite_path (p, sizeof p, "regular", "1/../x"), -1);
}

static void
s_reply (long status, const char *body, struct exec_kite_reply *r)
{
    exec_kite_reply_parse (KT_HTTP_OK, "", status, body, body ? strlen (body) : 0, r);
}

static void
test_reply_classes (void **state)
{
    (void) state;
    struct exec_kite_reply r;
    size_t n;
    char *ok = s_read ("order_response.json", &n);
    exec_kite_reply_parse (KT_HTTP_OK, "", 200, ok, n, &r);
    assert_int_equal (r.cls, EXEC_KITE_OK);
    assert_string_equal (r.order_id, "151220000000000");
    free (ok);
    ok = s_read ("autoslice_response.json", &n);
    exec_kite_reply_parse (KT_HTTP_OK, "", 200, ok, n, &r);
    assert_int_equal (r.cls, EXEC_KITE_OK);
    assert_string_equal (r.order_id, "1914227164488687616");
    free (ok);

    static const struct {
        long status;
        const char *type;
        exec_kite_class_t cls;
    } cases[] = {
        {400, "InputException", EXEC_KITE_FINAL},   {500, "OrderException", EXEC_KITE_FINAL},
        {400, "OrderException", EXEC_KITE_FINAL},   {400, "MarginException", EXEC_KITE_FINAL},
        {400, "HoldingException", EXEC_KITE_FINAL}, {403, "PermissionException", EXEC_KITE_FINAL},
        {403, "TokenException", EXEC_KITE_TOKEN},   {503, "NetworkException", EXEC_KITE_RETRY},
        {502, "DataException", EXEC_KITE_RETRY},    {504, "DataException", EXEC_KITE_RETRY},
        {500, "GeneralException", EXEC_KITE_RETRY}, {500, "SomethingNewException", EXEC_KITE_RETRY},
        {429, "NetworkException", EXEC_KITE_WAIT},  {429, "InputException", EXEC_KITE_WAIT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256];
        snprintf (body, sizeof body,
                  "{\"status\": \"error\", \"message\": \"msg %zu\", \"error_type\": \"%s\", "
                  "\"data\": null}",
                  i, cases[i].type);
        s_reply (cases[i].status, body, &r);
        if (r.cls != cases[i].cls)
            fail_msg ("%s/%ld: class %s", cases[i].type, cases[i].status,
                      exec_kite_class_str (r.cls));
        char m[16];
        snprintf (m, sizeof m, "msg %zu", i);
        assert_string_equal (r.message, m);
        assert_int_equal (r.status, cases[i].status);
    }
    s_reply (500, "{\"status\":\"error\",\"message\":\"x\",\"error_type\":\"Weird\"}", &r);
    assert_string_equal (r.error_type, "GeneralException");
    //  error_type decides even with status "success"; status "error" without a type is
    //  a GeneralException.
    s_reply (400, "{\"status\":\"success\",\"error_type\":\"InputException\",\"message\":\"m\"}",
             &r);
    assert_int_equal (r.cls, EXEC_KITE_FINAL);
    s_reply (200, "{\"status\":\"error\",\"message\":\"odd\"}", &r);
    assert_int_equal (r.cls, EXEC_KITE_RETRY);
    assert_string_equal (r.error_type, "GeneralException");
    //  Not JSON: a 5xx from a proxy, a 200 with garbage.
    s_reply (502, "<html>Bad Gateway</html>", &r);
    assert_int_equal (r.cls, EXEC_KITE_RETRY);
    assert_string_equal (r.error_type, "NetworkException");
    assert_non_null (strstr (r.message, "HTTP 502"));
    s_reply (200, "garbage", &r);
    assert_int_equal (r.cls, EXEC_KITE_RETRY);
    assert_string_equal (r.error_type, "DataException");
    s_reply (429, "", &r);
    assert_int_equal (r.cls, EXEC_KITE_WAIT);
    //  A success without data.order_id is still OK; the caller decides what it needs.
    s_reply (200, "{\"status\":\"success\",\"data\":true}", &r);
    assert_int_equal (r.cls, EXEC_KITE_OK);
    assert_string_equal (r.order_id, "");
    //  Transport outcomes.
    exec_kite_reply_parse (KT_HTTP_E_CONNECT, "refused", 0, NULL, 0, &r);
    assert_int_equal (r.cls, EXEC_KITE_UNSENT);
    exec_kite_reply_parse (KT_HTTP_E_TIMEOUT, "timed out", 0, NULL, 0, &r);
    assert_int_equal (r.cls, EXEC_KITE_UNKNOWN);
    assert_non_null (strstr (r.message, "timed out"));
    exec_kite_reply_parse (KT_HTTP_E_TRANSPORT, "reset", 0, NULL, 0, &r);
    assert_int_equal (r.cls, EXEC_KITE_UNKNOWN);
    exec_kite_reply_parse (KT_HTTP_E_CANCELLED, "cancelled", 0, NULL, 0, &r);
    assert_int_equal (r.cls, EXEC_KITE_UNKNOWN);
}

struct s_rows {
    struct exec_kite_row rows[16];
    int n;
};

static int
s_collect (const struct exec_kite_row *row, void *arg)
{
    struct s_rows *c = arg;
    if (c->n < 16)
        c->rows[c->n++] = *row;
    return 0;
}

static void
test_order_book (void **state)
{
    (void) state;
    size_t n;
    char *body = s_read ("orders.json", &n);
    struct s_rows c = {.n = 0};
    int bad = -1;
    char why[128];
    assert_int_equal (exec_kite_orders_each (body, n, s_collect, &c, &bad, why, sizeof why), 0);
    assert_int_equal (bad, 0);
    assert_int_equal (c.n, 10);
    const struct exec_kite_row *r = &c.rows[0];
    assert_string_equal (r->order_id, "100000000000000");
    assert_string_equal (r->status, "CANCELLED");
    assert_string_equal (r->sym, "USDINR21JUNFUT");
    assert_int_equal (r->side, KT_SIDE_BUY);
    assert_int_equal (r->type, KT_OT_LIMIT);
    assert_int_equal (r->product, KT_PROD_NRML);
    assert_int_equal (r->price, 7200);
    assert_int_equal (r->cancelled, 1);
    assert_string_equal (r->tag, "");
    assert_string_equal (r->ts, "2021-05-31 09:18:58");
    r = &c.rows[1];
    assert_int_equal (r->avg_px, 10940);
    assert_int_equal (r->filled, 1);
    r = &c.rows[3];
    assert_string_equal (r->status, "REJECTED");
    assert_string_equal (r->tag, "icebergord");
    assert_non_null (strstr (r->status_message, "Insufficient funds"));
    r = &c.rows[8];
    assert_string_equal (r->order_id, "1953341975595868160");
    assert_string_equal (r->tag, ""); //  system tags only
    assert_int_equal (r->price, 15982);
    assert_int_equal (r->avg_px, 15670);
    r = &c.rows[9];
    assert_int_equal (r->filled, 150);
    assert_int_equal (r->avg_px, 1230);
    assert_int_equal (r->type, KT_OT_MARKET);

    struct exec_kite_row row;
    assert_int_equal (exec_kite_find_tag (body, n, "connect test order1", &row, why, sizeof why),
                      1);
    assert_string_equal (row.order_id, "700000000000000");
    assert_int_equal (row.avg_px, 485200);
    assert_int_equal (exec_kite_find_tag (body, n, "b1-none", &row, why, sizeof why), 0);
    assert_int_equal (exec_kite_find_tag (body, n, "", &row, why, sizeof why), 0);
    free (body);

    //  A book that is not one: an error envelope or a broken body.
    const char *err = "{\"status\":\"error\",\"error_type\":\"TokenException\",\"message\":\"x\"}";
    assert_int_equal (exec_kite_find_tag (err, strlen (err), "a", &row, why, sizeof why), -1);
    assert_non_null (strstr (why, "TokenException"));
    assert_int_equal (exec_kite_find_tag ("{\"data\":[", 9, "a", &row, why, sizeof why), -1);
    //  A bad row is skipped and counted, the rest is read.
    const char *mixed = "{\"status\":\"success\",\"data\":[{\"status\":\"OPEN\"},"
                        "{\"order_id\":\"1\",\"status\":\"OPEN\",\"quantity\":\"x\"},"
                        "{\"order_id\":\"2\",\"status\":\"OPEN\",\"quantity\":75,"
                        "\"filled_quantity\":0,\"price\":1.05,\"tag\":\"t2\"}]}";
    c.n = 0;
    assert_int_equal (
        exec_kite_orders_each (mixed, strlen (mixed), s_collect, &c, &bad, why, sizeof why), 0);
    assert_int_equal (bad, 2);
    assert_int_equal (c.n, 1);
    assert_int_equal (c.rows[0].price, 105);
    assert_true (exec_kite_row_has_tag (&c.rows[0], "t2"));
}

struct s_trades {
    struct exec_kite_trade t[8];
    int n;
};

static int
s_trade (const struct exec_kite_trade *t, void *arg)
{
    struct s_trades *c = arg;
    if (c->n < 8)
        c->t[c->n++] = *t;
    return 0;
}

static void
test_trades (void **state)
{
    (void) state;
    size_t n;
    char *body = s_read ("trades.json", &n);
    struct s_trades c = {.n = 0};
    int bad = -1;
    char why[128];
    assert_int_equal (exec_kite_trades_each (body, n, s_trade, &c, &bad, why, sizeof why), 0);
    assert_int_equal (bad, 0);
    assert_int_equal (c.n, 4);
    assert_string_equal (c.t[0].trade_id, "10000000");
    assert_string_equal (c.t[0].order_id, "200000000000000");
    assert_int_equal (c.t[0].px, 42065);
    assert_int_equal (c.t[0].qty, 1);
    assert_int_equal (c.t[0].side, KT_SIDE_BUY);
    assert_string_equal (c.t[0].ts, "2021-05-31 09:16:39");
    assert_int_equal (c.t[1].px, 7276); //  72.755 rounds half away from zero
    assert_int_equal (c.t[1].product, KT_PROD_MIS);
    free (body);
    body = s_read ("order_trades.json", &n);
    c.n = 0;
    assert_int_equal (exec_kite_trades_each (body, n, s_trade, &c, &bad, why, sizeof why), 0);
    assert_int_equal (c.n, 1);
    free (body);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_json_number_text), cmocka_unit_test (test_place_forms),
        cmocka_unit_test (test_reply_classes),    cmocka_unit_test (test_order_book),
        cmocka_unit_test (test_trades),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
