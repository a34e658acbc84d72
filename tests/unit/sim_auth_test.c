/*  sim_auth_test - kite-sim's credentials: the checksum test vector, the session
 *  exchange (single-use request tokens, bad checksum, bad key), the Authorization
 *  header grammar, expiry at 06:00 IST, logout and the expiry fault. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "../../sim/sim.h"

static int64_t
s_at (int hh, int mm)
{
    return kt_ist_ns (2025, 11, 24, hh, mm, 0);
}

static void
test_checksum_vector (void **state)
{
    (void) state;
    char out[65];
    assert_int_equal (sim_auth_checksum ("my_api_key", "my_request_token", "my_api_secret", out),
                      0);
    assert_string_equal (out, "9d183880c6b1b8cbef59720852c4b880eefc4de66027736a55bc5c51fcdc7464");
    //  The postback checksum uses the same concatenation (kite-protocol.md 6.8).
    assert_int_equal (sim_auth_checksum ("220303000308932", "2022-03-03 09:24:25",
                                         "my_api_secret", out), 0);
    assert_string_equal (out, "60f6735188cce077a723b8d53432ffcb985cdc0437474e3b55dd5991aacd936c");
}

static void
test_exchange (void **state)
{
    (void) state;
    sim_auth_t *a = sim_auth_new ("k", "s", NULL);
    char sum[65], tok[SIM_TOKEN_LEN], pub[SIM_TOKEN_LEN], msg[128];
    const char *etype = NULL;
    sim_auth_checksum ("k", "rt", "s", sum);
    int64_t now = s_at (9, 0);
    assert_int_equal (sim_auth_exchange (a, "k", "rt", sum, now, tok, pub, &etype, msg, sizeof msg),
                      0);
    assert_int_equal (strlen (tok), 32);
    assert_true (sim_auth_valid (a, "k", tok, now));
    assert_false (sim_auth_valid (a, "other", tok, now));
    //  Single use.
    assert_int_equal (sim_auth_exchange (a, "k", "rt", sum, now, tok, pub, &etype, msg, sizeof msg),
                      -1);
    assert_string_equal (etype, "TokenException");
    //  Upper-case hex is the same checksum.
    char up[65];
    sim_auth_checksum ("k", "rt2", "s", sum);
    for (int i = 0; i < 65; i++)
        up[i] = (char) (sum[i] >= 'a' && sum[i] <= 'f'? sum[i] - 32: sum[i]);
    assert_int_equal (sim_auth_exchange (a, "k", "rt2", up, now, tok, pub, &etype, msg, sizeof msg),
                      0);
    //  Wrong checksum, empty token, wrong key.
    assert_int_equal (sim_auth_exchange (a, "k", "rt3", sum, now, tok, pub, &etype, msg, sizeof msg),
                      -1);
    assert_string_equal (etype, "TokenException");
    assert_int_equal (sim_auth_exchange (a, "k", "", sum, now, tok, pub, &etype, msg, sizeof msg),
                      -1);
    assert_string_equal (etype, "InputException");
    assert_int_equal (sim_auth_exchange (a, "x", "rt4", sum, now, tok, pub, &etype, msg, sizeof msg),
                      -1);
    assert_string_equal (etype, "InputException");
    sim_auth_destroy (&a);
    assert_null (a);
}

static void
test_expiry (void **state)
{
    (void) state;
    assert_int_equal (sim_auth_expiry (s_at (9, 15)),
                      kt_ist_ns (2025, 11, 25, 6, 0, 0));
    assert_int_equal (sim_auth_expiry (s_at (5, 59)), s_at (6, 0));
    sim_auth_t *a = sim_auth_new ("k", "s", NULL);
    char sum[65], tok[SIM_TOKEN_LEN], pub[SIM_TOKEN_LEN], msg[128];
    const char *etype;
    sim_auth_checksum ("k", "rt", "s", sum);
    assert_int_equal (sim_auth_exchange (a, "k", "rt", sum, s_at (10, 0), tok, pub, &etype, msg,
                                         sizeof msg), 0);
    int64_t six = kt_ist_ns (2025, 11, 25, 6, 0, 0);
    assert_true (sim_auth_valid (a, "k", tok, six - 1));
    assert_false (sim_auth_valid (a, "k", tok, six));
    sim_auth_destroy (&a);
}

static void
test_header (void **state)
{
    (void) state;
    sim_auth_t *a = sim_auth_new ("key", "sec", "fixed");
    char msg[128];
    int64_t now = s_at (10, 0);
    assert_int_equal (sim_auth_header (a, "token key:fixed", now, msg, sizeof msg), 0);
    assert_int_equal (sim_auth_header (a, "Token key:fixed", now, msg, sizeof msg), 0);
    assert_int_equal (sim_auth_header (a, NULL, now, msg, sizeof msg), -1);
    assert_string_equal (msg, "Incorrect `api_key` or `access_token`.");
    assert_int_equal (sim_auth_header (a, "Bearer fixed", now, msg, sizeof msg), -1);
    assert_int_equal (sim_auth_header (a, "token key:", now, msg, sizeof msg), -1);
    assert_int_equal (sim_auth_header (a, "token :fixed", now, msg, sizeof msg), -1);
    assert_int_equal (sim_auth_header (a, "token keyfixed", now, msg, sizeof msg), -1);
    assert_int_equal (sim_auth_header (a, "token other:fixed", now, msg, sizeof msg), -1);
    assert_int_equal (sim_auth_header (a, "token key:fixedX", now, msg, sizeof msg), -1);
    sim_auth_destroy (&a);
}

static void
test_logout_and_expire_all (void **state)
{
    (void) state;
    sim_auth_t *a = sim_auth_new ("k", "s", "fixed");
    char sum[65], t1[SIM_TOKEN_LEN], t2[SIM_TOKEN_LEN], pub[SIM_TOKEN_LEN], msg[128];
    const char *etype;
    int64_t now = s_at (10, 0);
    sim_auth_checksum ("k", "a", "s", sum);
    assert_int_equal (sim_auth_exchange (a, "k", "a", sum, now, t1, pub, &etype, msg, sizeof msg), 0);
    sim_auth_checksum ("k", "b", "s", sum);
    assert_int_equal (sim_auth_exchange (a, "k", "b", sum, now, t2, pub, &etype, msg, sizeof msg), 0);
    assert_int_equal (sim_auth_logout (a, "k", t1), 0);
    assert_false (sim_auth_valid (a, "k", t1, now));
    assert_true (sim_auth_valid (a, "k", t2, now));
    assert_int_equal (sim_auth_logout (a, "k", t1), -1);
    sim_auth_expire_all (a);
    assert_false (sim_auth_valid (a, "k", t2, now));
    assert_false (sim_auth_valid (a, "k", "fixed", now));
    //  A new login works after the fault.
    sim_auth_checksum ("k", "c", "s", sum);
    assert_int_equal (sim_auth_exchange (a, "k", "c", sum, now, t1, pub, &etype, msg, sizeof msg), 0);
    assert_true (sim_auth_valid (a, "k", t1, now));
    sim_auth_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_checksum_vector), cmocka_unit_test (test_exchange),
        cmocka_unit_test (test_expiry),          cmocka_unit_test (test_header),
        cmocka_unit_test (test_logout_and_expire_all),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
