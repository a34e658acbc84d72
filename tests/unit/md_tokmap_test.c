/*  md_tokmap_test - token -> index: found, absent, re-put, full, colliding tokens. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../md-gateway/md_tokmap.h"

static void
test_map (void **state)
{
    (void) state;
    struct md_tokmap empty = {0};
    assert_int_equal (md_tokmap_get (&empty, 1), -1);
    struct md_tokmap m;
    md_tokmap_init (&m, 3000);
    //  Real Kite tokens (exchange_token << 8 | segment) and many that share low bits.
    for (uint32_t i = 0; i < 3000; i++)
        assert_int_equal (md_tokmap_put (&m, (35000 + i) << 8 | 2, i), 0);
    assert_int_equal (md_tokmap_put (&m, 256265, 9), -1); //  full
    for (uint32_t i = 0; i < 3000; i++)
        assert_int_equal (md_tokmap_get (&m, (35000 + i) << 8 | 2), i);
    assert_int_equal (md_tokmap_get (&m, 256265), -1);
    assert_int_equal (md_tokmap_get (&m, 0), -1);
    //  A token already in takes the new index, even when full.
    assert_int_equal (md_tokmap_put (&m, 35000u << 8 | 2, 77), 0);
    assert_int_equal (md_tokmap_get (&m, 35000u << 8 | 2), 77);
    md_tokmap_free (&m);
    md_tokmap_free (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_map),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
