/*  ctl_login_test - the request token found in whatever the operator pastes: a full
 *  redirect URL (with Kite's other query keys around it), the bare token, or nothing
 *  usable. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../tradectl/ctl_cmd.h"

static void
test_request_token (void **state)
{
    (void) state;
    char t[64];
    assert_int_equal (ctl_login_request_token ("https://app.example/kt?action=login&type=login&"
                                               "status=success&request_token=AbC123",
                                               t, sizeof t),
                      0);
    assert_string_equal (t, "AbC123");
    assert_int_equal (
        ctl_login_request_token ("https://a/x?request_token=tok9&status=success", t, sizeof t), 0);
    assert_string_equal (t, "tok9");
    assert_int_equal (ctl_login_request_token ("  tok42\n", t, sizeof t), 0);
    assert_string_equal (t, "tok42");
    assert_int_equal (ctl_login_request_token ("https://a/x?request_token=abc#frag", t, sizeof t),
                      0);
    assert_string_equal (t, "abc");
    //  nothing usable
    assert_int_equal (ctl_login_request_token ("https://a/x?status=success", t, sizeof t), -1);
    assert_int_equal (ctl_login_request_token ("", t, sizeof t), -1);
    assert_int_equal (ctl_login_request_token ("request_token=", t, sizeof t), -1);
    assert_int_equal (ctl_login_request_token ("tok;rm -rf", t, sizeof t), -1);
    //  never longer than the buffer
    char small[4];
    assert_int_equal (ctl_login_request_token ("abcdefgh", small, sizeof small), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_request_token),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
