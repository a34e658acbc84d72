/*  sim_fault_test - kite-sim's faults on demand: each kind set through the admin form,
 *  what sim_fault_check then decides per request (latency, 5xx for exactly N matching
 *  requests, 429 storms, accept-then-hang-up for placements only), the WebSocket
 *  faults (silence until an instant, N malformed frames), the one-off actions returned
 *  to the caller (token expiry, RMS reject, WS drop, position change), `clear`, the
 *  faults from config, and bad admin parameters refused with a reason and no effect. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "../../sim/sim.h"

#define SEC KT_NS_PER_SEC
#define MONO0 (7000 * SEC)

//  Apply one admin form; returns sim_fault_admin's result, act and msg filled.
static int
s_admin (struct sim_fault *f, const char *text, struct sim_fault_action *act, char *msg,
         size_t msglen)
{
    struct sim_form form = { 0 };
    assert_int_equal (sim_form_parse (&form, text, strlen (text)), 0);
    snprintf (msg, msglen, "stale");
    int rc = sim_fault_admin (f, &form, MONO0, act, msg, msglen);
    sim_form_clear (&form);
    return rc;
}

//  Admin that must succeed with no action for another module.
static void
s_ok (struct sim_fault *f, const char *text)
{
    struct sim_fault_action act;
    char msg[KT_TEXT_LEN];
    assert_int_equal (s_admin (f, text, &act, msg, sizeof msg), 0);
    assert_string_equal (msg, "");
    assert_int_equal (act.kind, SIM_FAULT_ACT_NONE);
}

//  Admin that must fail with exactly reason, leaving the faults as they were.
static void
s_bad (struct sim_fault *f, const char *text, const char *reason)
{
    struct sim_fault before = *f;
    struct sim_fault_action act;
    char msg[KT_TEXT_LEN];
    act.kind = SIM_FAULT_ACT_EXPIRE;
    assert_int_equal (s_admin (f, text, &act, msg, sizeof msg), -1);
    assert_string_equal (msg, reason);
    assert_int_equal (act.kind, SIM_FAULT_ACT_NONE);
    assert_memory_equal (&before, f, sizeof before);
}

static struct sim_fault_verdict
s_get (struct sim_fault *f, const char *path)
{
    return sim_fault_check (f, "GET", path, false);
}

static void
test_none (void **state)
{
    (void) state;
    struct sim_fault f;
    sim_fault_init (&f, NULL);
    for (int i = 0; i < 3; i++) {
        struct sim_fault_verdict v = sim_fault_check (&f, "POST", "/orders/regular", true);
        assert_int_equal (v.status, 0);
        assert_int_equal (v.delay_ms, 0);
        assert_false (v.drop);
        assert_false (v.after);
        assert_null (v.error_type);
    }
    assert_false (sim_fault_ws_silent (&f, MONO0));
    assert_false (sim_fault_take_malformed (&f));
}

static void
test_latency (void **state)
{
    (void) state;
    struct sim_fault f;
    sim_fault_init (&f, NULL);
    s_ok (&f, "kind=latency&ms=250&path=/orders");
    //  Standing: every matching request, not consumed; prefix match only.
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_get (&f, "/orders/regular").delay_ms, 250);
    assert_int_equal (s_get (&f, "/orders").delay_ms, 250);
    assert_int_equal (s_get (&f, "/quote/ltp").delay_ms, 0);
    assert_int_equal (s_get (&f, "/order").delay_ms, 0);
    assert_int_equal (s_get (&f, "/orders/regular").status, 0);     //  delay only
    //  Without a path: every route. ms=0 clears.
    s_ok (&f, "kind=latency&ms=600000");
    assert_int_equal (s_get (&f, "/user/profile").delay_ms, 600000);
    s_ok (&f, "kind=latency&ms=0");
    assert_int_equal (s_get (&f, "/user/profile").delay_ms, 0);
    //  ms absent means 0 (clears) too.
    s_ok (&f, "kind=latency&ms=5");
    s_ok (&f, "kind=latency");
    assert_int_equal (s_get (&f, "/orders").delay_ms, 0);
    s_ok (&f, "kind=latency&ms=5");
    const char *why = "`ms` must be a whole number in [0, 600000]";
    s_bad (&f, "kind=latency&ms=600001", why);
    s_bad (&f, "kind=latency&ms=-1", why);
    s_bad (&f, "kind=latency&ms=1.5", why);
    s_bad (&f, "kind=latency&ms=", why);
    s_bad (&f, "kind=latency&ms=10ms", why);
    s_bad (&f, "kind=latency&ms=99999999999999999999", why);
    assert_int_equal (s_get (&f, "/orders").delay_ms, 5);
}

static void
test_http_error (void **state)
{
    (void) state;
    struct sim_fault f;
    sim_fault_init (&f, NULL);
    s_ok (&f, "kind=http_error&status=502&count=2&path=/orders");
    //  Non-matching requests pass and do not use the count.
    assert_int_equal (s_get (&f, "/quote").status, 0);
    struct sim_fault_verdict v = sim_fault_check (&f, "POST", "/orders/regular", true);
    assert_int_equal (v.status, 502);
    assert_string_equal (v.error_type, "DataException");
    assert_non_null (v.message);
    assert_false (v.after);
    assert_false (v.drop);
    assert_int_equal (s_get (&f, "/orders").status, 502);
    assert_int_equal (s_get (&f, "/orders").status, 0);         //  exactly N
    //  Each status has Kite's error_type.
    static const struct { const char *form; int status; const char *type; } k[] = {
        { "kind=http_error&status=500", 500, "GeneralException" },
        { "kind=http_error&status=502", 502, "DataException" },
        { "kind=http_error&status=503", 503, "NetworkException" },
        { "kind=http_error&status=504", 504, "DataException" },
        { "kind=http_error", 503, "NetworkException" },        //  defaults: 503, count 1
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        s_ok (&f, k[i].form);
        v = s_get (&f, "/portfolio/positions");
        assert_int_equal (v.status, k[i].status);
        assert_string_equal (v.error_type, k[i].type);
        assert_int_equal (s_get (&f, "/portfolio/positions").status, 0);
    }
    //  after=1 / true: the handler runs first; a later fault without it resets it.
    s_ok (&f, "kind=http_error&status=503&count=1&after=1");
    v = sim_fault_check (&f, "POST", "/orders/regular", true);
    assert_int_equal (v.status, 503);
    assert_true (v.after);
    s_ok (&f, "kind=http_error&count=1&after=true");
    assert_true (s_get (&f, "/orders").after);
    s_ok (&f, "kind=http_error&count=1&after=0");
    assert_false (s_get (&f, "/orders").after);
    //  count=0 clears a standing one.
    s_ok (&f, "kind=http_error&count=5");
    s_ok (&f, "kind=http_error&count=0");
    assert_int_equal (s_get (&f, "/orders").status, 0);
    //  Bad parameters change nothing.
    s_ok (&f, "kind=http_error&count=3&status=500");
    s_bad (&f, "kind=http_error&status=499", "`status` must be a whole number in [500, 504]");
    s_bad (&f, "kind=http_error&status=505&count=9",
           "`status` must be a whole number in [500, 504]");
    s_bad (&f, "kind=http_error&count=-1", "`count` must be a whole number in [0, 1000000]");
    s_bad (&f, "kind=http_error&count=1000001",
           "`count` must be a whole number in [0, 1000000]");
    s_bad (&f, "kind=http_error&count=two", "`count` must be a whole number in [0, 1000000]");
    assert_int_equal (f.error_count, 3);
    assert_int_equal (s_get (&f, "/x").status, 500);
}

static void
test_storm (void **state)
{
    (void) state;
    struct sim_fault f;
    sim_fault_init (&f, NULL);
    //  Default count 10.
    s_ok (&f, "kind=storm");
    for (int i = 0; i < 10; i++) {
        struct sim_fault_verdict v = s_get (&f, "/quote");
        assert_int_equal (v.status, 429);
        assert_string_equal (v.error_type, "NetworkException");
        assert_string_equal (v.message, "Too many requests");
    }
    assert_int_equal (s_get (&f, "/quote").status, 0);
    //  With a path; a storm wins over an injected error, which keeps its count.
    s_ok (&f, "kind=storm&count=2&path=/quote");
    s_ok (&f, "kind=http_error&count=1&status=500");
    assert_int_equal (s_get (&f, "/quote/ltp").status, 429);
    assert_int_equal (s_get (&f, "/orders").status, 500);          //  not in the storm
    s_ok (&f, "kind=http_error&count=1&status=500");
    assert_int_equal (s_get (&f, "/quote").status, 429);
    assert_int_equal (s_get (&f, "/quote").status, 500);
    assert_int_equal (s_get (&f, "/quote").status, 0);
    //  Latency applies on top of a storm answer.
    s_ok (&f, "kind=latency&ms=40");
    s_ok (&f, "kind=storm&count=1");
    struct sim_fault_verdict v = s_get (&f, "/orders");
    assert_int_equal (v.status, 429);
    assert_int_equal (v.delay_ms, 40);
    s_bad (&f, "kind=storm&count=x", "`count` must be a whole number in [0, 1000000]");
}

static void
test_drop_response (void **state)
{
    (void) state;
    struct sim_fault f;
    sim_fault_init (&f, NULL);
    s_ok (&f, "kind=drop_response&count=2");
    //  Only order placements: other requests (modify, GET) pass and keep the count.
    assert_false (sim_fault_check (&f, "PUT", "/orders/regular/1", false).drop);
    assert_false (s_get (&f, "/orders").drop);
    struct sim_fault_verdict v = sim_fault_check (&f, "POST", "/orders/regular", true);
    assert_true (v.drop);
    assert_int_equal (v.status, 0);
    assert_true (sim_fault_check (&f, "POST", "/orders/regular", true).drop);
    assert_false (sim_fault_check (&f, "POST", "/orders/regular", true).drop);
    //  Default count 1; a storm answering the placement does not use the drop.
    s_ok (&f, "kind=drop_response");
    s_ok (&f, "kind=storm&count=1");
    v = sim_fault_check (&f, "POST", "/orders/regular", true);
    assert_int_equal (v.status, 429);
    assert_false (v.drop);
    assert_true (sim_fault_check (&f, "POST", "/orders/regular", true).drop);
    assert_false (sim_fault_check (&f, "POST", "/orders/regular", true).drop);
    s_bad (&f, "kind=drop_response&count=1e3", "`count` must be a whole number in [0, 1000000]");
}

static void
test_ws_faults (void **state)
{
    (void) state;
    struct sim_fault f;
    sim_fault_init (&f, NULL);
    //  Silent for N wall seconds from the admin call (MONO0), then talking again.
    s_ok (&f, "kind=ws_silent&seconds=5");
    assert_true (sim_fault_ws_silent (&f, MONO0));
    assert_true (sim_fault_ws_silent (&f, MONO0 + 5 * SEC - 1));
    assert_false (sim_fault_ws_silent (&f, MONO0 + 5 * SEC));
    //  seconds=0 clears; the default is an hour.
    s_ok (&f, "kind=ws_silent");
    assert_true (sim_fault_ws_silent (&f, MONO0 + 3600 * SEC - 1));
    assert_false (sim_fault_ws_silent (&f, MONO0 + 3600 * SEC));
    s_ok (&f, "kind=ws_silent&seconds=0");
    assert_false (sim_fault_ws_silent (&f, MONO0));
    s_bad (&f, "kind=ws_silent&seconds=86401", "`seconds` must be a whole number in [0, 86400]");
    s_bad (&f, "kind=ws_silent&seconds=-5", "`seconds` must be a whole number in [0, 86400]");
    //  WS faults do not touch REST requests.
    s_ok (&f, "kind=ws_silent&seconds=60");
    assert_int_equal (s_get (&f, "/orders").status, 0);
    //  Malformed: exactly N frames.
    s_ok (&f, "kind=malformed&count=2");
    assert_true (sim_fault_take_malformed (&f));
    assert_true (sim_fault_take_malformed (&f));
    assert_false (sim_fault_take_malformed (&f));
    assert_false (sim_fault_take_malformed (&f));
    s_ok (&f, "kind=malformed");
    assert_true (sim_fault_take_malformed (&f));
    assert_false (sim_fault_take_malformed (&f));
    s_bad (&f, "kind=malformed&count=-2", "`count` must be a whole number in [0, 1000000]");
    assert_false (sim_fault_take_malformed (&f));
}

static void
test_actions (void **state)
{
    (void) state;
    struct sim_fault f;
    sim_fault_init (&f, NULL);
    struct sim_fault before = f;
    struct sim_fault_action act;
    char msg[KT_TEXT_LEN];
    assert_int_equal (s_admin (&f, "kind=expire_tokens", &act, msg, sizeof msg), 0);
    assert_int_equal (act.kind, SIM_FAULT_ACT_EXPIRE);
    assert_string_equal (msg, "");
    assert_int_equal (s_admin (&f, "kind=ws_drop", &act, msg, sizeof msg), 0);
    assert_int_equal (act.kind, SIM_FAULT_ACT_WS_DROP);
    //  RMS: the given message, or Kite's wording by default (also for an empty one).
    assert_int_equal (s_admin (&f, "kind=rms_reject&message=RMS%3AMargin+Exceeds", &act, msg,
                               sizeof msg), 0);
    assert_int_equal (act.kind, SIM_FAULT_ACT_RMS);
    assert_string_equal (act.message, "RMS:Margin Exceeds");
    assert_int_equal (s_admin (&f, "kind=rms_reject", &act, msg, sizeof msg), 0);
    assert_int_equal (act.kind, SIM_FAULT_ACT_RMS);
    assert_non_null (strstr (act.message, "Insufficient funds"));
    assert_int_equal (s_admin (&f, "kind=rms_reject&message=", &act, msg, sizeof msg), 0);
    assert_non_null (strstr (act.message, "Insufficient funds"));
    //  A message longer than the field is cut, not overflowed.
    char text[512] = "kind=rms_reject&message=";
    memset (text + strlen (text), 'm', 300);
    assert_int_equal (s_admin (&f, text, &act, msg, sizeof msg), 0);
    assert_int_equal (strlen (act.message), KT_TEXT_LEN - 1);
    //  Position change behind the client's back.
    assert_int_equal (s_admin (&f, "kind=position&tradingsymbol=NIFTY25N1824000CE&quantity=-75",
                               &act, msg, sizeof msg), 0);
    assert_int_equal (act.kind, SIM_FAULT_ACT_POSITION);
    assert_string_equal (act.sym, "NIFTY25N1824000CE");
    assert_int_equal (act.qty, -75);
    assert_int_equal (s_admin (&f, "kind=position&tradingsymbol=X&quantity=10000000", &act, msg,
                               sizeof msg), 0);
    assert_int_equal (act.qty, 10000000);
    //  None of the actions is a standing fault.
    assert_memory_equal (&before, &f, sizeof before);
    //  Bad position requests.
    s_bad (&f, "kind=position&quantity=75", "missing or bad `tradingsymbol`");
    s_bad (&f, "kind=position&tradingsymbol=&quantity=75", "missing or bad `tradingsymbol`");
    s_bad (&f, "kind=position&tradingsymbol=NIFTY25N1824000CENIFTY25N1824000CE&quantity=75",
           "missing or bad `tradingsymbol`");
    s_bad (&f, "kind=position&tradingsymbol=X", "`quantity` must be non-zero");
    s_bad (&f, "kind=position&tradingsymbol=X&quantity=0", "`quantity` must be non-zero");
    s_bad (&f, "kind=position&tradingsymbol=X&quantity=10000001",
           "`quantity` must be a whole number in [-10000000, 10000000]");
    s_bad (&f, "kind=position&tradingsymbol=X&quantity=lots",
           "`quantity` must be a whole number in [-10000000, 10000000]");
    //  The longest symbol that fits is accepted.
    char sym[128];
    int n = snprintf (sym, sizeof sym, "kind=position&quantity=1&tradingsymbol=");
    memset (sym + n, 'S', KT_SYM_LEN - 1);
    sym[n + KT_SYM_LEN - 1] = '\0';
    assert_int_equal (s_admin (&f, sym, &act, msg, sizeof msg), 0);
    assert_int_equal (strlen (act.sym), KT_SYM_LEN - 1);
}

static void
test_kind_errors (void **state)
{
    (void) state;
    struct sim_fault f;
    sim_fault_init (&f, NULL);
    s_ok (&f, "kind=storm&count=3");
    s_bad (&f, "ms=5", "missing `kind`");
    s_bad (&f, "", "missing `kind`");
    s_bad (&f, "kind=explode", "unknown fault kind `explode`");
    s_bad (&f, "kind=", "unknown fault kind ``");
    s_bad (&f, "kind=Latency&ms=5", "unknown fault kind `Latency`");
    //  The reason is cut to the caller's buffer, never overflowed.
    struct sim_form form = { 0 };
    assert_int_equal (sim_form_parse (&form, "kind=whatever", 13), 0);
    struct sim_fault_action act;
    char small[8];
    assert_int_equal (sim_fault_admin (&f, &form, MONO0, &act, small, sizeof small), -1);
    assert_string_equal (small, "unknown");
    sim_form_clear (&form);
    assert_int_equal (f.storm_count, 3);
}

static void
test_config_and_clear (void **state)
{
    (void) state;
    struct sim_cfg cfg;
    memset (&cfg, 0, sizeof cfg);
    cfg.fault_latency_ms = 30;
    snprintf (cfg.fault_latency_path, sizeof cfg.fault_latency_path, "/quote");
    cfg.fault_error_count = 2;
    cfg.fault_error_status = 504;
    snprintf (cfg.fault_error_path, sizeof cfg.fault_error_path, "/orders");
    cfg.fault_storm_count = 1;
    cfg.fault_drop_count = 1;
    struct sim_fault f;
    sim_fault_init (&f, &cfg);
    //  Storm first (any path), then the errors on /orders, then the drop.
    struct sim_fault_verdict v = s_get (&f, "/quote/ltp");
    assert_int_equal (v.status, 429);
    assert_int_equal (v.delay_ms, 30);
    assert_int_equal (s_get (&f, "/quote/ltp").status, 0);
    v = sim_fault_check (&f, "POST", "/orders/regular", true);
    assert_int_equal (v.status, 504);
    assert_string_equal (v.error_type, "DataException");
    assert_int_equal (v.delay_ms, 0);
    assert_int_equal (sim_fault_check (&f, "POST", "/orders/regular", true).status, 504);
    assert_true (sim_fault_check (&f, "POST", "/orders/regular", true).drop);
    assert_false (sim_fault_check (&f, "POST", "/orders/regular", true).drop);
    //  Status 0 in a config means the default 503.
    cfg.fault_error_status = 0;
    sim_fault_init (&f, &cfg);
    assert_int_equal (f.error_status, 503);
    //  clear removes every standing fault, those from config included.
    sim_fault_init (&f, &cfg);
    s_ok (&f, "kind=ws_silent&seconds=100");
    s_ok (&f, "kind=malformed&count=4");
    s_ok (&f, "kind=http_error&after=1&count=9");
    s_ok (&f, "kind=clear");
    struct sim_fault none;
    sim_fault_init (&none, NULL);
    assert_memory_equal (&none, &f, sizeof none);
    v = sim_fault_check (&f, "POST", "/orders/regular", true);
    assert_int_equal (v.status, 0);
    assert_int_equal (v.delay_ms, 0);
    assert_false (v.drop);
    assert_false (sim_fault_ws_silent (&f, MONO0 + SEC));
    assert_false (sim_fault_take_malformed (&f));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_none),          cmocka_unit_test (test_latency),
        cmocka_unit_test (test_http_error),    cmocka_unit_test (test_storm),
        cmocka_unit_test (test_drop_response), cmocka_unit_test (test_ws_faults),
        cmocka_unit_test (test_actions),       cmocka_unit_test (test_kind_errors),
        cmocka_unit_test (test_config_and_clear),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
