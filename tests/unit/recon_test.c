/*  recon_test - the reconciler's context against a real Redis and a local HTTP peer
 *  standing in for the broker: agreement only from three successful broker calls,
 *  a failed or refused call recorded as such (never agreement), credentials sent as
 *  Kite wants them, and recon:request answered with a run. */

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

static const char s_empty_pos[] = "{\"status\":\"success\",\"data\":{\"net\":[],\"day\":[]}}";
static const char s_empty_list[] = "{\"status\":\"success\",\"data\":[]}";
static const char s_token[] = "{\"status\":\"error\",\"message\":\"Incorrect `api_key` or "
                              "`access_token`.\",\"data\":null,\"error_type\":\"TokenException\"}";

struct fx {
    kt_testctx_t t;
    kt_testhttp_t *http;
    struct recon_cfg cfg;
    recon_t *r;
};

//  Start Redis, the proc and an HTTP peer with positions answered by (status, body).
static void
s_start (struct fx *x, int pos_status, const char *pos_body)
{
    memset (x, 0, sizeof *x);
    assert_int_equal (kt_testctx_start (&x->t, "reconciler", "recon"), 0);
    x->http = kt_testhttp_new ();
    assert_non_null (x->http);
    kt_testhttp_route (x->http, "GET", "/portfolio/positions", pos_status, "application/json",
                       pos_body);
    kt_testhttp_route (x->http, "GET", "/orders", 200, "application/json", s_empty_list);
    kt_testhttp_route (x->http, "GET", "/trades", 200, "application/json", s_empty_list);
    assert_int_equal (kt_testhttp_start (x->http), 0);
    kt_testhttp_url (x->http, x->t.cfg.kite_api_url, sizeof x->t.cfg.kite_api_url, "");
    snprintf (x->t.cfg.kite_api_key, sizeof x->t.cfg.kite_api_key, "k3y");
    snprintf (x->t.cfg.kite_access_token, sizeof x->t.cfg.kite_access_token, "t0ken");
    x->cfg = (struct recon_cfg){.interval_s = 30,
                                .retry_runs = 3,
                                .retry_s = 30,
                                .timeout_ms = 3000,
                                .request_poll_ms = 50};
    snprintf (x->cfg.unknown_position, sizeof x->cfg.unknown_position, "halt");
}

static void
s_stop (struct fx *x)
{
    recon_destroy (&x->r);
    kt_testhttp_destroy (&x->http);
    kt_testctx_stop (&x->t);
}

//  Run the loop until the proc's queued writes are answered.
static void
s_written (struct fx *x)
{
    kt_store_t *st = kt_proc_store (x->t.proc);
    for (int i = 0; i < 500 && kt_store_stats (st).queued > 0; i++)
        kt_testctx_spin (&x->t, 1, 10, NULL);
    assert_int_equal (kt_store_stats (st).queued, 0);
}

//  Run the loop until the reconciler has completed n runs and its queued writes are
//  answered (at most ~5 s each).
static void
s_until_runs (struct fx *x, int64_t n)
{
    for (int i = 0; i < 500 && recon_runs (x->r) < n; i++)
        kt_testctx_spin (&x->t, 1, 10, NULL);
    assert_true (recon_runs (x->r) >= n);
    s_written (x);
}

static char *
s_last (struct fx *x, const char *field, char *buf, size_t len)
{
    return kt_testctx_hget (&x->t, "kt:recon:last", field, buf, len);
}

static void
test_agreement_from_broker_calls (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 200, s_empty_pos);
    x.r = recon_new (x.t.proc, &x.cfg);
    assert_non_null (x.r);
    s_until_runs (&x, 1);
    char buf[128];
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "1");
    assert_string_equal (s_last (&x, "session_ok", buf, sizeof buf), "1");
    assert_string_equal (s_last (&x, "findings", buf, sizeof buf), "0");
    assert_string_equal (s_last (&x, "broker_error", buf, sizeof buf), "");
    assert_true (atoll (s_last (&x, "agree_ns", buf, sizeof buf)) > 0);
    //  risk-gate reads the agreement from recon:last: nothing is written to risk:state.
    char ok[32];
    assert_string_equal (kt_testctx_hget (&x.t, "kt:risk:state", "recon_ok_ns", ok, sizeof ok),
                         "");
    //  Kite's headers, and the three books in order.
    char *req = kt_testhttp_requests (x.http);
    assert_non_null (strstr (req, "Authorization: token k3y:t0ken"));
    assert_non_null (strstr (req, "X-Kite-Version: 3"));
    char *p = strstr (req, "GET /portfolio/positions"), *o = strstr (req, "GET /orders"),
         *t = strstr (req, "GET /trades");
    assert_true (p && o && t && p < o && o < t);
    free (req);
    assert_int_equal (kt_proc_beat (x.t.proc), 0);
    s_written (&x);
    assert_string_equal (
        kt_testctx_hget (&x.t, "kt:health:reconciler", "agreement", buf, sizeof buf), "yes");
    assert_string_equal (kt_testctx_hget (&x.t, "kt:health:reconciler", "runs", buf, sizeof buf),
                         "1");
    s_stop (&x);
}

static void
test_token_exception_is_not_agreement (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 403, s_token);
    x.r = recon_new (x.t.proc, &x.cfg);
    assert_non_null (x.r);
    s_until_runs (&x, 1);
    char buf[128];
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "0");
    assert_string_equal (s_last (&x, "session_ok", buf, sizeof buf), "0");
    assert_string_equal (s_last (&x, "agree_ns", buf, sizeof buf), "0");
    assert_non_null (strstr (s_last (&x, "broker_error", buf, sizeof buf), "TokenException"));
    assert_non_null (strstr (buf, "/portfolio/positions"));
    assert_string_equal (kt_testctx_hget (&x.t, "kt:risk:state", "recon_ok_ns", buf, sizeof buf),
                         "");
    //  Nothing after the refused call: the run stopped there.
    assert_int_equal (kt_testhttp_count (x.http), 1);
    assert_int_equal (kt_proc_beat (x.t.proc), 0);
    s_written (&x);
    assert_string_equal (
        kt_testctx_hget (&x.t, "kt:health:reconciler", "agreement", buf, sizeof buf), "no");
    assert_string_equal (
        kt_testctx_hget (&x.t, "kt:health:reconciler", "broker_failures", buf, sizeof buf), "1");
    s_stop (&x);
}

static void
test_unreachable_broker_and_bad_answers (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 200, "<html>maintenance</html>");
    x.r = recon_new (x.t.proc, &x.cfg);
    s_until_runs (&x, 1);
    char buf[128];
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "0");
    assert_non_null (strstr (s_last (&x, "broker_error", buf, sizeof buf), "not a Kite answer"));
    recon_destroy (&x.r);
    //  Nobody listening.
    kt_testhttp_destroy (&x.http);
    x.r = recon_new (x.t.proc, &x.cfg);
    s_until_runs (&x, 1);
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "0");
    assert_string_equal (s_last (&x, "session_ok", buf, sizeof buf), "0");
    assert_non_null (strstr (s_last (&x, "broker_error", buf, sizeof buf), "connect"));
    assert_string_equal (kt_testctx_hget (&x.t, "kt:risk:state", "recon_ok_ns", buf, sizeof buf),
                         "");
    s_stop (&x);
}

static void
test_outage_keeps_the_last_session_proof (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 200, s_empty_pos);
    x.r = recon_new (x.t.proc, &x.cfg);
    s_until_runs (&x, 1);
    char buf[128], proof[32];
    assert_string_equal (s_last (&x, "session_ok", buf, sizeof buf), "1");
    s_last (&x, "session_ok_ns", proof, sizeof proof);
    //  The broker goes away: no agreement, but the session was not refused.
    kt_testhttp_destroy (&x.http);
    assert_int_equal (recon_run (x.r), 0);
    s_until_runs (&x, 2);
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "0");
    assert_string_equal (s_last (&x, "session_ok", buf, sizeof buf), "1");
    assert_string_equal (s_last (&x, "session_ok_ns", buf, sizeof buf), proof);
    assert_non_null (strstr (s_last (&x, "broker_error", buf, sizeof buf), "connect"));
    s_stop (&x);
}

static void
test_start_up_failure_retried_soon (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 503,
             "{\"status\":\"error\",\"message\":\"down\",\"error_type\":"
             "\"NetworkException\"}");
    x.cfg.retry_s = 1;
    x.r = recon_new (x.t.proc, &x.cfg);
    s_until_runs (&x, 1);
    char buf[128];
    assert_non_null (strstr (s_last (&x, "broker_error", buf, sizeof buf), "NetworkException"));
    //  The broker comes up: before any agreement the next run is retry_s away, not
    //  interval_s (30 s).
    kt_testhttp_t *up = kt_testhttp_new ();
    kt_testhttp_route (up, "GET", "/portfolio/positions", 200, "application/json", s_empty_pos);
    kt_testhttp_route (up, "GET", "/orders", 200, "application/json", s_empty_list);
    kt_testhttp_route (up, "GET", "/trades", 200, "application/json", s_empty_list);
    assert_int_equal (kt_testhttp_start (up), 0);
    kt_testhttp_url (up, x.t.cfg.kite_api_url, sizeof x.t.cfg.kite_api_url, "");
    s_until_runs (&x, 2);
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "1");
    kt_testhttp_destroy (&up);
    s_stop (&x);
}

static void
test_requests_are_paced (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 200, s_empty_pos);
    x.cfg.min_gap_ms = 200;
    x.r = recon_new (x.t.proc, &x.cfg);
    s_until_runs (&x, 1);
    //  Within Kite's rate limit by construction: three GETs at least 200 ms apart.
    char buf[32];
    assert_true (atoll (s_last (&x, "duration_us", buf, sizeof buf)) >= 400000);
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "1");
    s_stop (&x);
}

static void
test_request_runs_now (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 200, s_empty_pos);
    x.r = recon_new (x.t.proc, &x.cfg);
    s_until_runs (&x, 1);
    //  A request older than the start-up run is already answered by it.
    kt_store_t *st = kt_proc_store (x.t.peer);
    kt_store_result_t rep =
        kt_store_callf (st, "HSET kt:recon:request requested_ns 1 by ops what old");
    kt_store_result_free (&rep);
    for (int i = 0; i < 30; i++)
        kt_testctx_spin (&x.t, 1, 10, NULL);
    assert_int_equal (recon_runs (x.r), 1);
    //  tradectl reconcile: requested_ns is its pipeline "now".
    int64_t now = kt_proc_now_ns (x.t.proc);
    rep = kt_store_callf (st, "HSET kt:recon:request requested_ns %lld by ops what now",
                          (long long) now);
    assert_int_equal (rep.kind, KT_STORE_INT);
    kt_store_result_free (&rep);
    s_until_runs (&x, 2);
    char buf[160];
    snprintf (buf, sizeof buf, "%lld", (long long) now);
    char got[32];
    assert_string_equal (s_last (&x, "request_ns", got, sizeof got), buf);
    assert_string_equal (s_last (&x, "run", got, sizeof got), "2");
    //  What tradectl waits for: a run that started at or after the request, and its result.
    assert_int_equal (kt_proc_beat (x.t.proc), 0);
    s_written (&x);
    kt_testctx_hget (&x.t, "kt:health:reconciler", "last_run_ns", got, sizeof got);
    assert_true (atoll (got) >= now);
    assert_string_equal (
        kt_testctx_hget (&x.t, "kt:health:reconciler", "last_result", buf, sizeof buf), "agree");
    //  The request stays, answered: no second run.
    for (int i = 0; i < 30; i++)
        kt_testctx_spin (&x.t, 1, 10, NULL);
    assert_int_equal (recon_runs (x.r), 2);
    s_stop (&x);
}

static void
test_result_text_of_a_failed_run (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 403, s_token);
    x.r = recon_new (x.t.proc, &x.cfg);
    s_until_runs (&x, 1);
    assert_int_equal (kt_proc_beat (x.t.proc), 0);
    s_written (&x);
    char buf[200];
    kt_testctx_hget (&x.t, "kt:health:reconciler", "last_result", buf, sizeof buf);
    assert_non_null (strstr (buf, "no agreement"));
    assert_non_null (strstr (buf, "TokenException"));
    s_stop (&x);
}

static void
test_redis_down_is_not_agreement (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 200, s_empty_pos);
    x.r = recon_new (x.t.proc, &x.cfg);
    s_until_runs (&x, 1);
    char buf[200];
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "1");
    //  The broker answers but the book cannot be read: no agreement, nothing claimed.
    assert_int_equal (kt_testredis_kill (x.t.redis), 0);
    assert_int_equal (recon_run (x.r), 0);
    for (int i = 0; i < 500 && recon_runs (x.r) < 2; i++)
        kt_testctx_spin (&x.t, 1, 10, NULL);
    assert_int_equal (recon_runs (x.r), 2);
    //  Redis back: the queued result of the failed run lands, then a run agrees again.
    assert_int_equal (kt_testredis_restart_same_port (x.t.redis), 0);
    for (int i = 0; i < 500; i++) {
        kt_testctx_spin (&x.t, 1, 10, NULL);
        if (strstr (s_last (&x, "broker_error", buf, sizeof buf), "book:"))
            break;
    }
    assert_non_null (strstr (buf, "book:"));
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "0");
    assert_int_equal (recon_run (x.r), 0);
    s_until_runs (&x, 3);
    assert_string_equal (s_last (&x, "agree", buf, sizeof buf), "1");
    s_stop (&x);
}

static void
test_bad_unknown_position_setting (void **state)
{
    (void) state;
    struct fx x;
    s_start (&x, 200, s_empty_pos);
    snprintf (x.cfg.unknown_position, sizeof x.cfg.unknown_position, "ignore");
    assert_null (recon_new (x.t.proc, &x.cfg));
    s_stop (&x);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_agreement_from_broker_calls),
        cmocka_unit_test (test_token_exception_is_not_agreement),
        cmocka_unit_test (test_unreachable_broker_and_bad_answers),
        cmocka_unit_test (test_outage_keeps_the_last_session_proof),
        cmocka_unit_test (test_start_up_failure_retried_soon),
        cmocka_unit_test (test_requests_are_paced),
        cmocka_unit_test (test_request_runs_now),
        cmocka_unit_test (test_result_text_of_a_failed_run),
        cmocka_unit_test (test_redis_down_is_not_agreement),
        cmocka_unit_test (test_bad_unknown_position_setting),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
