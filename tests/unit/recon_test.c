/*  recon_test - the reconciler in-process against a real redis-server and a local HTTP
 *  peer playing the broker's REST answers: agreement reaches risk:state, a position we
 *  do not know halts trading, our stop's fill found at the broker is applied once (exit
 *  reason RECONCILED), an unresolved order is settled, and a broker that does not
 *  answer establishes nothing. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../reconciler/recon.h"
#include "kt_testctx.h"
#include "kt_testhttp.h"

#define SYM "NIFTY25N1824000CE"
#define EMPTY "{\"status\":\"success\",\"data\":[]}"
#define NO_POS "{\"status\":\"success\",\"data\":{\"net\":[],\"day\":[]}}"

typedef struct {
    kt_testctx_t t;
    kt_testhttp_t *http;
    struct recon_cfg cfg;
    recon_t *r;
} fx_t;

//  The broker's three answers.
static void
s_start (fx_t *f, const char *tag, const char *positions, const char *orders, const char *trades)
{
    memset (f, 0, sizeof *f);
    assert_int_equal (kt_testctx_start (&f->t, "reconciler", tag), 0);
    f->http = kt_testhttp_new ();
    kt_testhttp_route (f->http, "GET", "/portfolio/positions", 200, "application/json", positions);
    kt_testhttp_route (f->http, "GET", "/orders", 200, "application/json", orders);
    kt_testhttp_route (f->http, "GET", "/trades", 200, "application/json", trades);
    assert_int_equal (kt_testhttp_start (f->http), 0);
    kt_testhttp_url (f->http, f->t.cfg.kite_api_url, sizeof f->t.cfg.kite_api_url, "");
    snprintf (f->t.cfg.kite_api_key, sizeof f->t.cfg.kite_api_key, "k");
    snprintf (f->t.cfg.kite_access_token, sizeof f->t.cfg.kite_access_token, "t");
    f->cfg = (struct recon_cfg){.interval_s = 3600, .not_found_budget = 1, .timeout_ms = 2000};
    assert_int_equal (kt_book_register (kt_proc_store (f->t.proc)), 0);
}

static void
s_stop (fx_t *f)
{
    recon_destroy (&f->r);
    kt_testhttp_destroy (&f->http);
    kt_testctx_stop (&f->t);
}

//  Wait for the run in flight; returns its result.
static int
s_wait (fx_t *f)
{
    for (int i = 0; i < 400 && recon_result (f->r) == 2; i++)
        kt_testctx_spin (&f->t, 1, 5, NULL);
    kt_store_flush (kt_proc_store (f->t.proc), 1000);
    return recon_result (f->r);
}

static char *
s_hget (fx_t *f, const char *key, const char *field, char *buf, size_t len)
{
    return kt_testctx_hget (&f->t, key, field, buf, len);
}

static int
s_events_with (fx_t *f, const char *text)
{
    redisContext *c = kt_testredis_connect (f->t.redis);
    redisReply *r = redisCommand (c, "XRANGE kt:events - +");
    int n = 0;
    for (size_t i = 0; r && i < r->elements; i++) {
        redisReply *fields = r->element[i]->element[1];
        for (size_t j = 0; j < fields->elements; j++)
            if (strstr (fields->element[j]->str, text)) {
                n++;
                break;
            }
    }
    freeReplyObject (r);
    redisFree (c);
    return n;
}

static void
test_agreement_told_to_risk_gate (void **state)
{
    (void) state;
    fx_t f;
    s_start (&f, "recon1", NO_POS, EMPTY, EMPTY);
    f.r = recon_new (f.t.proc, &f.cfg);
    assert_non_null (f.r);
    assert_int_equal (s_wait (&f), 0);
    char buf[64];
    assert_true (strtoll (s_hget (&f, "kt:risk:state", "recon_ok_ns", buf, sizeof buf), NULL, 10) >
                 0);
    assert_string_equal (s_hget (&f, "kt:recon:last", "result", buf, sizeof buf), "agree");
    assert_true (kt_testhttp_wait (f.http, "Authorization: token k:t", 100));
    assert_true (kt_testhttp_wait (f.http, "X-Kite-Version: 3", 100));
    s_stop (&f);
}

static void
test_unknown_position_halts (void **state)
{
    (void) state;
    fx_t f;
    s_start (&f, "recon2",
             "{\"status\":\"success\",\"data\":{\"net\":[{\"tradingsymbol\":\"" SYM "\","
             "\"exchange\":\"NFO\",\"product\":\"NRML\",\"instrument_token\":9,\"quantity\":-75,"
             "\"average_price\":101.25}],\"day\":[]}}",
             EMPTY, EMPTY);
    f.r = recon_new (f.t.proc, &f.cfg);
    assert_int_equal (s_wait (&f), -1);
    char buf[300];
    assert_string_equal (s_hget (&f, "kt:risk:kill", "active", buf, sizeof buf), "1");
    assert_non_null (strstr (s_hget (&f, "kt:risk:kill", "reason", buf, sizeof buf),
                             SYM ": broker -75, ours 0"));
    assert_string_equal (s_hget (&f, "kt:recon:last", "unknown_position", buf, sizeof buf), "1");
    assert_string_equal (s_hget (&f, "kt:recon:last", "result", buf, sizeof buf), "discrepancy");
    assert_string_equal (s_hget (&f, "kt:risk:state", "recon_ok_ns", buf, sizeof buf), "");
    assert_int_equal (s_events_with (&f, "unknown_position"), 1);
    s_stop (&f);
}

static void
s_order (fx_t *f, const char *coid, const char *broker_id, kt_side_t side, kt_purpose_t purpose,
         kt_ord_status_t status)
{
    struct kt_order_rec o = {.side = side,
                             .qty = 75,
                             .order_type = KT_OT_LIMIT,
                             .product = KT_PROD_NRML,
                             .purpose = purpose,
                             .status = status,
                             .price = 10000};
    snprintf (o.coid, sizeof o.coid, "%s", coid);
    snprintf (o.intent_id, sizeof o.intent_id, "I-%s", coid);
    snprintf (o.broker_id, sizeof o.broker_id, "%s", broker_id);
    snprintf (o.sym, sizeof o.sym, SYM);
    char why[160];
    assert_int_equal (
        kt_book_order_create (kt_proc_store (f->t.proc), &o, 1, NULL, why, sizeof why), 1);
}

#define ORDER_ROW(id, tag, side, status)                                                           \
    "{\"order_id\":\"" id "\",\"tag\":\"" tag "\",\"placed_by\":\"SM0001\",\"status\":\"" status   \
    "\",\"tradingsymbol\":\"" SYM "\",\"transaction_type\":\"" side "\",\"quantity\":75,"          \
    "\"filled_quantity\":75,\"pending_quantity\":0,\"average_price\":100}"
#define TRADE_ROW(id, order, side)                                                                 \
    "{\"trade_id\":\"" id "\",\"order_id\":\"" order "\",\"tradingsymbol\":\"" SYM                 \
    "\",\"transaction_type\":\"" side "\",\"quantity\":75,\"average_price\":100,"                  \
    "\"fill_timestamp\":\"2025-11-24 10:00:00\"}"

static void
test_stop_fill_applied_once (void **state)
{
    (void) state;
    fx_t f;
    s_start (&f, "recon3", NO_POS,
             "{\"status\":\"success\",\"data\":[" ORDER_ROW (
                 "B1", "E1", "SELL",
                 "COMPLETE") "," ORDER_ROW ("B2", "S1", "BUY",
                                            "COMPLETE") "," ORDER_ROW ("B3", "U1", "SELL",
                                                                       "CANCELLED") "]}",
             "{\"status\":\"success\",\"data\":[" TRADE_ROW ("T1", "B1", "SELL") "," TRADE_ROW (
                 "T2", "B2", "BUY") "]}");
    kt_store_t *st = kt_proc_store (f.t.proc);
    //  Our book: a short entry filled (T1), its stop open, an order whose submit timed out.
    s_order (&f, "E1", "B1", KT_SIDE_SELL, KT_PURPOSE_ENTRY, KT_OS_OPEN);
    s_order (&f, "S1", "B2", KT_SIDE_BUY, KT_PURPOSE_STOP, KT_OS_OPEN);
    s_order (&f, "U1", "", KT_SIDE_SELL, KT_PURPOSE_ENTRY, KT_OS_UNRESOLVED);
    struct kt_book_fill fill = {
        .coid = "E1", .trade_id = "T1", .qty = 75, .price = 10000, .ts_ns = 2};
    struct kt_book_fill_result res;
    char why[160];
    assert_int_equal (kt_book_fill (st, &fill, &res, why, sizeof why), 0);
    assert_int_equal (res.pos_qty, -75);
    //  The stop's position link, as exec-gateway keeps it.
    redisReply *x = kt_store_cmd (st, "HSET kt:pos:" SYM " stop_coid S1");
    freeReplyObject (x);
    f.r = recon_new (f.t.proc, &f.cfg);
    assert_int_equal (s_wait (&f), 0);
    char buf[64];
    assert_string_equal (s_hget (&f, "kt:pos:" SYM, "qty", buf, sizeof buf), "0");
    assert_string_equal (s_hget (&f, "kt:pos:" SYM, "exit_reason", buf, sizeof buf), "RECONCILED");
    assert_string_equal (s_hget (&f, "kt:order:S1", "status", buf, sizeof buf), "FILLED");
    assert_string_equal (s_hget (&f, "kt:order:U1", "status", buf, sizeof buf), "CANCELLED");
    assert_string_equal (s_hget (&f, "kt:order:U1", "broker_id", buf, sizeof buf), "B3");
    assert_string_equal (s_hget (&f, "kt:recon:last", "closed_by_stop", buf, sizeof buf), "1");
    assert_string_equal (s_hget (&f, "kt:book", "fills", buf, sizeof buf), "2");
    //  Again: nothing is applied twice.
    assert_int_equal (recon_run (f.r), 0);
    assert_int_equal (s_wait (&f), 0);
    assert_string_equal (s_hget (&f, "kt:book", "fills", buf, sizeof buf), "2");
    assert_string_equal (s_hget (&f, "kt:recon:last", "closed_by_stop", buf, sizeof buf), "0");
    s_stop (&f);
}

static void
test_unresolved_not_found_then_settled (void **state)
{
    (void) state;
    fx_t f;
    s_start (&f, "recon4", NO_POS, EMPTY, EMPTY);
    s_order (&f, "U2", "", KT_SIDE_SELL, KT_PURPOSE_ENTRY, KT_OS_UNRESOLVED);
    f.r = recon_new (f.t.proc, &f.cfg);
    //  First look: the broker's book may lag; no agreement, nothing settled.
    assert_int_equal (s_wait (&f), 1);
    char buf[64];
    assert_string_equal (s_hget (&f, "kt:order:U2", "status", buf, sizeof buf), "UNRESOLVED");
    //  Past the budget (1): it never reached the broker.
    assert_int_equal (recon_run (f.r), 0);
    assert_int_equal (s_wait (&f), 0);
    assert_string_equal (s_hget (&f, "kt:order:U2", "status", buf, sizeof buf), "REJECTED");
    s_stop (&f);
}

static void
test_broker_down_establishes_nothing (void **state)
{
    (void) state;
    fx_t f;
    s_start (&f, "recon5", NO_POS, EMPTY, EMPTY);
    snprintf (f.t.cfg.kite_api_url, sizeof f.t.cfg.kite_api_url, "http://127.0.0.1:1");
    f.r = recon_new (f.t.proc, &f.cfg);
    assert_int_equal (s_wait (&f), 1);
    assert_int_equal (kt_proc_beat (f.t.proc), 0);
    kt_store_flush (kt_proc_store (f.t.proc), 1000);
    char buf[160];
    assert_string_equal (s_hget (&f, "kt:health:reconciler", "agreement", buf, sizeof buf),
                         "unknown");
    assert_string_equal (s_hget (&f, "kt:risk:state", "recon_ok_ns", buf, sizeof buf), "");
    assert_string_equal (s_hget (&f, "kt:recon:last", "result", buf, sizeof buf), "unknown");
    assert_non_null (strstr (s_hget (&f, "kt:recon:last", "why", buf, sizeof buf),
                             "/portfolio/positions: connect"));
    s_stop (&f);
}

//  `tradectl reconcile`: a request newer than the last run starts one; the heartbeat shows
//  when it ran and what it found (the counters tradectl waits for).
static void
test_operator_request_runs_now (void **state)
{
    (void) state;
    fx_t f;
    s_start (&f, "recon6", NO_POS, EMPTY, EMPTY);
    f.r = recon_new (f.t.proc, &f.cfg);
    assert_int_equal (s_wait (&f), 0);
    int before = kt_testhttp_count (f.http);
    int64_t now = kt_proc_now_ns (f.t.proc);
    redisContext *c = kt_testredis_connect (f.t.redis);
    redisReply *r =
        redisCommand (c, "HSET kt:recon:request requested_ns %lld by op what now", (long long) now);
    freeReplyObject (r);
    redisFree (c);
    for (int i = 0; i < 400 && kt_testhttp_count (f.http) < before + 3; i++)
        kt_testctx_spin (&f.t, 1, 5, NULL);
    assert_int_equal (kt_testhttp_count (f.http), before + 3);
    assert_int_equal (s_wait (&f), 0);
    assert_int_equal (kt_proc_beat (f.t.proc), 0);
    kt_store_flush (kt_proc_store (f.t.proc), 1000);
    char buf[64];
    assert_true (strtoll (s_hget (&f, "kt:health:reconciler", "last_run_ns", buf, sizeof buf), NULL,
                          10) >= now);
    assert_string_equal (s_hget (&f, "kt:health:reconciler", "last_result", buf, sizeof buf),
                         "agree");
    //  Served once: no further runs for the same request.
    kt_testctx_spin (&f.t, 300, 5, NULL);
    assert_int_equal (kt_testhttp_count (f.http), before + 3);
    s_stop (&f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_agreement_told_to_risk_gate),
        cmocka_unit_test (test_unknown_position_halts),
        cmocka_unit_test (test_stop_fill_applied_once),
        cmocka_unit_test (test_unresolved_not_found_then_settled),
        cmocka_unit_test (test_broker_down_establishes_nothing),
        cmocka_unit_test (test_operator_request_runs_now),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
