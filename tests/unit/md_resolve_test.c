/*  md_resolve_test - host names resolved off the loop: a numeric address at once, a
 *  name through the system resolver (localhost), a name that does not exist with the
 *  resolver's reason, a lookup replaced or destroyed while it may still run. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../md-gateway/md_resolve.h"

//  Poll until the lookup ends (at most 10 s: the system resolver's own bound).
static int
s_wait (md_resolve_t *r, char *addr, size_t addrlen, char *err, size_t errlen)
{
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 10000; i++) {
        int rc = md_resolve_poll (r, addr, addrlen, err, errlen);
        if (rc != 0)
            return rc;
        nanosleep (&ms, NULL);
    }
    return 0;
}

static void
test_numeric (void **state)
{
    (void) state;
    md_resolve_t *r = md_resolve_new ();
    char addr[MD_RESOLVE_ADDR_LEN], err[160];
    assert_int_equal (md_resolve_start (r, "127.0.0.1", err, sizeof err), 0);
    assert_int_equal (md_resolve_poll (r, addr, sizeof addr, err, sizeof err), 1);
    assert_string_equal (addr, "127.0.0.1");
    assert_int_equal (md_resolve_start (r, "::1", err, sizeof err), 0);
    assert_int_equal (md_resolve_poll (r, addr, sizeof addr, err, sizeof err), 1);
    assert_string_equal (addr, "::1");
    md_resolve_destroy (&r);
    assert_null (r);
}

static void
test_name (void **state)
{
    (void) state;
    md_resolve_t *r = md_resolve_new ();
    char addr[MD_RESOLVE_ADDR_LEN], err[160];
    assert_int_equal (md_resolve_start (r, "localhost", err, sizeof err), 0);
    assert_int_equal (s_wait (r, addr, sizeof addr, err, sizeof err), 1);
    assert_string_equal (addr, "127.0.0.1"); //  IPv4 first
    //  Once reported, the lookup is over.
    assert_int_equal (md_resolve_poll (r, addr, sizeof addr, err, sizeof err), -1);
    md_resolve_destroy (&r);
}

static void
test_unknown (void **state)
{
    (void) state;
    md_resolve_t *r = md_resolve_new ();
    char addr[MD_RESOLVE_ADDR_LEN] = "", err[160] = "";
    assert_int_equal (md_resolve_start (r, "kt-no-such-host.invalid", err, sizeof err), 0);
    assert_int_equal (s_wait (r, addr, sizeof addr, err, sizeof err), -1);
    assert_non_null (strstr (err, "resolve kt-no-such-host.invalid: "));
    assert_int_equal (md_resolve_start (r, "", err, sizeof err), -1);
    char longname[300];
    memset (longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal (md_resolve_start (r, longname, err, sizeof err), -1);
    md_resolve_destroy (&r);
}

static void
test_replace_and_destroy_running (void **state)
{
    (void) state;
    md_resolve_t *r = md_resolve_new ();
    char addr[MD_RESOLVE_ADDR_LEN], err[160];
    //  A second start replaces the first lookup; only its answer is reported.
    assert_int_equal (md_resolve_start (r, "kt-no-such-host.invalid", err, sizeof err), 0);
    assert_int_equal (md_resolve_start (r, "localhost", err, sizeof err), 0);
    assert_int_equal (s_wait (r, addr, sizeof addr, err, sizeof err), 1);
    assert_string_equal (addr, "127.0.0.1");
    //  Destroyed while a lookup may still run: nothing leaks or writes freed memory
    //  (ASan build).
    assert_int_equal (md_resolve_start (r, "localhost", err, sizeof err), 0);
    md_resolve_destroy (&r);
    md_resolve_destroy (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_numeric),
        cmocka_unit_test (test_name),
        cmocka_unit_test (test_unknown),
        cmocka_unit_test (test_replace_and_destroy_running),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
