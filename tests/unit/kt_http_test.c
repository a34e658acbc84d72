/*  kt_http_test - libcurl multi on a real kt_loop against a real HTTP server (a forked
 *  kt_testhttp child): GET/POST/PUT/DELETE with headers and form bodies as received by
 *  the server, status codes, gzip, every outcome class (timeout, refused, closed
 *  without answer, too large, bad request), concurrency, cancel, destroy with pending
 *  requests, chaining from a callback, a slow pipeline clock, and the blocking helpers. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kt_clock.h"
#include "kt_http.h"
#include "kt_loop.h"
#include "kt_testhttp.h"

#define S_MAX_RESULTS 16

typedef struct {
    int id;
    kt_http_err_t err;
    char errstr[256];
    long status;
    char body[65536];
    size_t body_len;
    char content_type[64];
} result_t;

typedef struct fixture {
    kt_testhttp_t *srv;
    kt_loop_t *loop;
    kt_http_t *http;
    result_t results[S_MAX_RESULTS];
    int done;
    int chain_left; //  test_chain: requests still to start from callbacks
} fixture_t;

static void
s_on_done (const kt_http_resp_t *resp, void *arg)
{
    fixture_t *f = arg;
    assert_true (f->done < S_MAX_RESULTS);
    result_t *r = &f->results[f->done++];
    r->id = resp->id;
    r->err = resp->err;
    snprintf (r->errstr, sizeof r->errstr, "%s", resp->errstr);
    r->status = resp->status;
    assert_true (resp->body_len < sizeof r->body);
    memcpy (r->body, resp->body, resp->body_len + 1); //  NUL-terminated by contract
    r->body_len = resp->body_len;
    snprintf (r->content_type, sizeof r->content_type, "%s", resp->content_type);
}

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->srv = kt_testhttp_new ();
    assert_non_null (f->srv);
    assert_int_equal (kt_testhttp_route (f->srv, "PUT", "/orders/regular/X1", 200,
                                         "application/json",
                                         "{\"status\":\"success\",\"data\":{\"order_id\":\"X1\"}}"),
                      0);
    assert_int_equal (kt_testhttp_route (f->srv, "DELETE", "/orders/regular/X1", 200,
                                         "application/json", "{\"status\":\"success\"}"),
                      0);
    assert_int_equal (kt_testhttp_start (f->srv), 0);
    assert_int_equal (kt_testhttp_route (f->srv, NULL, "/late", 200, NULL, ""), -1);
    f->loop = kt_loop_new ();
    f->http = kt_http_new (f->loop);
    assert_non_null (f->http);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    kt_http_destroy (&f->http);
    assert_null (f->http);
    kt_loop_destroy (&f->loop);
    kt_testhttp_destroy (&f->srv);
    free (f);
    return 0;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Drive the loop until n callbacks ran; a 10 s wall bound keeps a broken build from
//  hanging (it is a safety net, not a speed assertion).
static void
s_run_until (fixture_t *f, int n)
{
    int64_t deadline = s_now_ms () + 10000;
    while (f->done < n && s_now_ms () < deadline)
        assert_true (kt_loop_run_once (f->loop, 50) >= 0);
    assert_int_equal (f->done, n);
}

static int
s_get (fixture_t *f, const char *path, const char *const *headers, int timeout_ms)
{
    char url[128];
    kt_http_req_t req = {.url = kt_testhttp_url (f->srv, url, sizeof url, path),
                         .headers = headers,
                         .timeout_ms = timeout_ms};
    int id = kt_http_request (f->http, &req, s_on_done, f);
    assert_true (id > 0);
    return id;
}

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    bind (fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname (fd, (struct sockaddr *)&sa, &len);
    close (fd);
    return ntohs (sa.sin_port);
}

static void
test_get_with_headers (void **state)
{
    fixture_t *f = *state;
    const char *headers[] = {"X-Kite-Version: 3", "Authorization: token key:tok", NULL};
    int id = s_get (f, "/echo", headers, 5000);
    assert_int_equal (kt_http_pending (f->http), 1);
    assert_int_equal (f->done, 0); //  never completes inside kt_http_request
    s_run_until (f, 1);
    result_t *r = &f->results[0];
    assert_int_equal (r->id, id);
    assert_int_equal (r->err, KT_HTTP_OK);
    assert_string_equal (r->errstr, "");
    assert_int_equal (r->status, 200);
    assert_string_equal (r->content_type, "text/plain");
    assert_true (strncmp (r->body, "GET /echo HTTP/1.1\r\n", 20) == 0);
    assert_non_null (strstr (r->body, "\r\nX-Kite-Version: 3\r\n"));
    assert_non_null (strstr (r->body, "\r\nAuthorization: token key:tok\r\n"));
    assert_non_null (strstr (r->body, "\r\nAccept-Encoding: "));
    assert_null (strstr (r->body, "Expect:"));
    assert_int_equal (kt_http_pending (f->http), 0);
    assert_int_equal (kt_testhttp_count (f->srv), 1);
}

static void
test_post_form (void **state)
{
    fixture_t *f = *state;
    char url[128];
    const char *headers[] = {"X-Kite-Version: 3", NULL};
    kt_http_req_t req = {
        .url = kt_testhttp_url (f->srv, url, sizeof url, "/echo"),
        .headers = headers,
        .body = "tradingsymbol=NIFTY25NOV24000CE&quantity=75&tag=S1-0007",
        .timeout_ms = 5000,
    };
    assert_true (kt_http_request (f->http, &req, s_on_done, f) > 0);
    s_run_until (f, 1);
    result_t *r = &f->results[0];
    assert_int_equal (r->err, KT_HTTP_OK);
    assert_int_equal (r->status, 200);
    assert_true (strncmp (r->body, "POST /echo ", 11) == 0);
    assert_non_null (strstr (r->body, "Content-Type: application/x-www-form-urlencoded\r\n"));
    assert_non_null (strstr (r->body, "Content-Length: 55\r\n"));
    assert_non_null (
        strstr (r->body, "\r\n\r\ntradingsymbol=NIFTY25NOV24000CE&quantity=75&tag=S1-0007"));
    //  The server's own record agrees.
    assert_true (kt_testhttp_wait (f->srv, "POST /echo\n", 1000));
    assert_true (kt_testhttp_wait (f->srv, "\n\ntradingsymbol=NIFTY25NOV24000CE", 1000));

    //  A large body goes out in one exchange (no 100-continue wait) and arrives whole.
    static char big[20001];
    memset (big, 'a', sizeof big - 1);
    req.body = big;
    req.content_type = "text/plain";
    assert_true (kt_http_request (f->http, &req, s_on_done, f) > 0);
    s_run_until (f, 2);
    assert_int_equal (f->results[1].status, 200);
    assert_non_null (strstr (f->results[1].body, "Content-Type: text/plain\r\n"));
    assert_non_null (strstr (f->results[1].body, "Content-Length: 20000\r\n"));
    assert_int_equal (f->results[1].body_len,
                      strstr (f->results[1].body, "\r\n\r\n") + 4 - f->results[1].body + 20000);
}

static void
test_put_delete (void **state)
{
    fixture_t *f = *state;
    char url[128];
    kt_testhttp_url (f->srv, url, sizeof url, "/orders/regular/X1");
    kt_http_req_t put = {.method = "PUT", .url = url, .body = "quantity=50", .timeout_ms = 5000};
    kt_http_req_t del = {.method = "DELETE", .url = url, .timeout_ms = 5000, .fresh_connect = true};
    assert_true (kt_http_request (f->http, &put, s_on_done, f) > 0);
    s_run_until (f, 1);
    assert_true (kt_http_request (f->http, &del, s_on_done, f) > 0);
    s_run_until (f, 2);
    assert_int_equal (f->results[0].status, 200);
    assert_string_equal (f->results[0].content_type, "application/json");
    assert_non_null (strstr (f->results[0].body, "\"order_id\":\"X1\""));
    assert_int_equal (f->results[1].status, 200);
    char *all = kt_testhttp_requests (f->srv);
    assert_non_null (strstr (all, "PUT /orders/regular/X1\n"));
    assert_non_null (strstr (all, "\n\nquantity=50\n----\n"));
    assert_non_null (strstr (all, "DELETE /orders/regular/X1\n"));
    free (all);
}

static void
test_status_codes (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/status/200", NULL, 5000);
    s_run_until (f, 1);
    s_get (f, "/status/403", NULL, 5000);
    s_run_until (f, 2);
    s_get (f, "/status/500", NULL, 5000);
    s_run_until (f, 3);
    s_get (f, "/nowhere", NULL, 5000);
    s_run_until (f, 4);
    const long want[] = {200, 403, 500, 404};
    for (int i = 0; i < 4; i++) {
        assert_int_equal (f->results[i].err, KT_HTTP_OK); //  a status is not an error
        assert_int_equal (f->results[i].status, want[i]);
    }
    assert_string_equal (f->results[1].body, "status 403");
    assert_string_equal (f->results[3].body, "not found");
}

static void
test_gzip (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/gzip", NULL, 5000);
    s_run_until (f, 1);
    assert_int_equal (f->results[0].err, KT_HTTP_OK);
    assert_string_equal (f->results[0].body, "hello gzip\n");
}

static void
test_timeout (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/hang", NULL, 200);
    s_run_until (f, 1);
    result_t *r = &f->results[0];
    assert_int_equal (r->err, KT_HTTP_E_TIMEOUT);
    assert_false (kt_http_err_unsent (r->err)); //  the server may have acted
    assert_int_equal (r->status, 0);
    assert_true (strlen (r->errstr) > 0);
    assert_string_equal (r->body, "");
    assert_string_equal (kt_http_err_str (r->err), "timeout");
}

static void
test_connection_refused (void **state)
{
    fixture_t *f = *state;
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/x", s_free_port ());
    kt_http_req_t req = {.url = url, .body = "a=1", .timeout_ms = 2000};
    assert_true (kt_http_request (f->http, &req, s_on_done, f) > 0);
    s_run_until (f, 1);
    result_t *r = &f->results[0];
    assert_int_equal (r->err, KT_HTTP_E_CONNECT);
    assert_true (kt_http_err_unsent (r->err)); //  safe to send again
    assert_int_equal (r->status, 0);
    assert_true (strlen (r->errstr) > 0);
}

static void
test_closed_without_answer (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/close", NULL, 5000);
    s_run_until (f, 1);
    assert_int_equal (f->results[0].err, KT_HTTP_E_TRANSPORT);
    assert_false (kt_http_err_unsent (f->results[0].err));
    assert_true (strlen (f->results[0].errstr) > 0);
}

static void
test_too_large (void **state)
{
    fixture_t *f = *state;
    char url[128];
    kt_http_req_t req = {.url = kt_testhttp_url (f->srv, url, sizeof url, "/big/100000"),
                         .max_body = 1000,
                         .timeout_ms = 5000};
    assert_true (kt_http_request (f->http, &req, s_on_done, f) > 0);
    req.url = kt_testhttp_url (f->srv, url, sizeof url, "/big/1000");
    assert_true (kt_http_request (f->http, &req, s_on_done, f) > 0);
    s_run_until (f, 2);
    for (int i = 0; i < 2; i++) {
        result_t *r = &f->results[i];
        if (r->body_len == 1000) {
            assert_int_equal (r->err, KT_HTTP_OK); //  exactly at the limit
        } else {
            assert_int_equal (r->err, KT_HTTP_E_TOO_LARGE);
            assert_int_equal (r->status, 200);
            assert_non_null (strstr (r->errstr, "1000"));
        }
    }
    assert_int_not_equal (f->results[0].err, f->results[1].err);
}

static void
test_bad_requests (void **state)
{
    fixture_t *f = *state;
    kt_http_req_t req = {.url = NULL};
    assert_int_equal (kt_http_request (f->http, &req, s_on_done, f), -1);
    assert_int_equal (kt_http_request (f->http, NULL, s_on_done, f), -1);
    req.url = "http://127.0.0.1:1/";
    assert_int_equal (kt_http_request (f->http, &req, NULL, f), -1);
    req.method = "GET";
    req.body = "x=1";
    assert_int_equal (kt_http_request (f->http, &req, s_on_done, f), -1);
    assert_int_equal (kt_http_pending (f->http), 0);

    //  Only http(s): anything else is refused by curl before any I/O.
    kt_http_req_t ftp = {.url = "ftp://127.0.0.1/x", .timeout_ms = 1000};
    assert_true (kt_http_request (f->http, &ftp, s_on_done, f) > 0);
    kt_http_req_t junk = {.url = "http://[::1", .timeout_ms = 1000};
    assert_true (kt_http_request (f->http, &junk, s_on_done, f) > 0);
    s_run_until (f, 2);
    assert_int_equal (f->results[0].err, KT_HTTP_E_REQUEST);
    assert_int_equal (f->results[1].err, KT_HTTP_E_REQUEST);
    assert_true (kt_http_err_unsent (KT_HTTP_E_REQUEST));
    assert_string_equal (kt_http_err_str ((kt_http_err_t)99), "unknown");
}

static void
test_concurrent_and_cancel (void **state)
{
    fixture_t *f = *state;
    int hang = s_get (f, "/hang", NULL, 5000);
    int ids[4];
    ids[0] = s_get (f, "/status/201", NULL, 5000);
    ids[1] = s_get (f, "/delay/50", NULL, 5000);
    ids[2] = s_get (f, "/echo", NULL, 5000);
    ids[3] = s_get (f, "/status/202", NULL, 5000);
    assert_int_equal (kt_http_pending (f->http), 5);
    //  The four complete while the hanging one is still open: they run side by side.
    s_run_until (f, 4);
    assert_int_equal (kt_http_pending (f->http), 1);
    for (int i = 0; i < 4; i++) {
        bool seen = false;
        for (int k = 0; k < 4; k++)
            if (f->results[k].id == ids[i]) {
                seen = true;
                assert_int_equal (f->results[k].err, KT_HTTP_OK);
            }
        assert_true (seen);
        assert_int_not_equal (ids[i], hang);
    }
    //  Cancel: gone at once, its callback never runs.
    assert_int_equal (kt_http_cancel (f->http, hang), 0);
    assert_int_equal (kt_http_cancel (f->http, hang), -1);
    assert_int_equal (kt_http_pending (f->http), 0);
    for (int i = 0; i < 10; i++)
        kt_loop_run_once (f->loop, 5);
    assert_int_equal (f->done, 4);
}

static void
s_on_chain (const kt_http_resp_t *resp, void *arg)
{
    fixture_t *f = arg;
    s_on_done (resp, arg);
    if (f->chain_left-- > 0) {
        char url[128];
        kt_http_req_t req = {.url = kt_testhttp_url (f->srv, url, sizeof url, "/status/200")};
        assert_true (kt_http_request (f->http, &req, s_on_chain, f) > 0);
    }
}

static void
test_chain_from_callback (void **state)
{
    fixture_t *f = *state;
    f->chain_left = 3;
    char url[128];
    kt_http_req_t req = {.url = kt_testhttp_url (f->srv, url, sizeof url, "/status/200")};
    assert_true (kt_http_request (f->http, &req, s_on_chain, f) > 0);
    s_run_until (f, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal (f->results[i].status, 200);
}

static void
test_destroy_with_pending (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/hang", NULL, 5000);
    s_get (f, "/hang", NULL, 5000);
    s_get (f, "/hang", NULL, 5000);
    //  Let them connect and send, so curl has sockets on the loop.
    int64_t deadline = s_now_ms () + 10000;
    while (kt_testhttp_count (f->srv) < 3 && s_now_ms () < deadline)
        kt_loop_run_once (f->loop, 20);
    assert_int_equal (kt_testhttp_count (f->srv), 3);
    kt_http_destroy (&f->http);
    assert_null (f->http);
    assert_int_equal (f->done, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (f->results[i].err, KT_HTTP_E_CANCELLED);
        assert_string_equal (f->results[i].errstr, "cancelled");
        assert_int_equal (f->results[i].status, 0);
    }
    //  Nothing of the client is left on the loop (ASan would catch a stale handler).
    for (int i = 0; i < 5; i++)
        assert_true (kt_loop_run_once (f->loop, 10) >= 0);
}

static void
test_slow_pipeline_clock (void **state)
{
    fixture_t *f = *state;
    //  The loop's timers run at 1/100 of wall speed; curl's 300 ms timeout must still be
    //  300 ms of wall time (its timer is not a loop timer).
    int64_t wall = kt_clock_wall_ns ();
    kt_clock_t *clock = kt_clock_new_sim (wall, wall, 10000);
    assert_non_null (clock);
    kt_loop_set_clock (f->loop, clock);
    int hang = s_get (f, "/hang", NULL, 300);
    s_get (f, "/delay/20", NULL, 5000);
    s_run_until (f, 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal (f->results[i].err,
                          f->results[i].id == hang ? KT_HTTP_E_TIMEOUT : KT_HTTP_OK);
    kt_loop_set_clock (f->loop, NULL);
    kt_clock_destroy (&clock);
}

static void
test_sync_helpers (void **state)
{
    fixture_t *f = *state;
    char url[128];
    const char *headers[] = {"X-Test: 1", NULL};
    kt_http_resp_t *r =
        kt_http_get_sync (kt_testhttp_url (f->srv, url, sizeof url, "/echo"), headers, 5000);
    assert_int_equal (r->err, KT_HTTP_OK);
    assert_int_equal (r->status, 200);
    assert_string_equal (r->errstr, "");
    assert_string_equal (r->content_type, "text/plain");
    assert_non_null (strstr (r->body, "\r\nX-Test: 1\r\n"));
    kt_http_resp_destroy (&r);
    assert_null (r);
    kt_http_resp_destroy (&r);

    r = kt_http_post_sync (kt_testhttp_url (f->srv, url, sizeof url, "/echo"), NULL, "k=v", 5000);
    assert_int_equal (r->status, 200);
    assert_non_null (strstr (r->body, "\r\n\r\nk=v"));
    kt_http_resp_destroy (&r);

    r = kt_http_get_sync (kt_testhttp_url (f->srv, url, sizeof url, "/status/503"), NULL, 5000);
    assert_int_equal (r->err, KT_HTTP_OK);
    assert_int_equal (r->status, 503);
    kt_http_resp_destroy (&r);

    r = kt_http_get_sync (kt_testhttp_url (f->srv, url, sizeof url, "/hang"), NULL, 200);
    assert_int_equal (r->err, KT_HTTP_E_TIMEOUT);
    assert_true (strlen (r->errstr) > 0);
    assert_string_equal (r->body, "");
    kt_http_resp_destroy (&r);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/", s_free_port ());
    r = kt_http_get_sync (url, NULL, 2000);
    assert_int_equal (r->err, KT_HTTP_E_CONNECT);
    kt_http_resp_destroy (&r);

    kt_http_req_t bad = {.url = NULL};
    r = kt_http_sync (&bad);
    assert_int_equal (r->err, KT_HTTP_E_REQUEST);
    assert_string_equal (r->errstr, "malformed request");
    kt_http_resp_destroy (&r);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T (test_get_with_headers),
        T (test_post_form),
        T (test_put_delete),
        T (test_status_codes),
        T (test_gzip),
        T (test_timeout),
        T (test_connection_refused),
        T (test_closed_without_answer),
        T (test_too_large),
        T (test_bad_requests),
        T (test_concurrent_and_cancel),
        T (test_chain_from_callback),
        T (test_destroy_with_pending),
        T (test_slow_pipeline_clock),
        T (test_sync_helpers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
