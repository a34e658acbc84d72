/*  recon_test - the reconciler never claims agreement it has not established. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../reconciler/recon.h"
#include "kt_testctx.h"

static void
test_no_agreement_without_broker_view (void **state)
{
    (void) state;
    kt_testctx_t t;
    assert_int_equal (kt_testctx_start (&t, "reconciler", "recon"), 0);
    struct recon_cfg cfg = { .interval_s = 30 };
    recon_t *r = recon_new (t.proc, &cfg);
    assert_non_null (r);
    assert_int_equal (recon_run (r), 1);
    assert_int_equal (kt_proc_beat (t.proc), 0);
    char buf[32];
    assert_string_equal (kt_testctx_hget (&t, "kt:health:reconciler", "agreement", buf, sizeof buf),
                         "unknown");
    assert_string_equal (kt_testctx_hget (&t, "kt:health:reconciler", "runs", buf, sizeof buf), "2");
    //  Nothing was written that risk-gate could read as agreement.
    assert_string_equal (kt_testctx_hget (&t, "kt:risk:state", "recon_ok", buf, sizeof buf), "");
    recon_destroy (&r);
    kt_testctx_stop (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_no_agreement_without_broker_view),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
