/*  strat_ids_test - intent ids: the format and its 20-character bound, the strategy id
 *  check, blocks of the day's sequence (granted, used up, a new day), ownership. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../strategy/strat.h"

static void
test_format_and_bound (void **state)
{
    (void) state;
    char id[KT_ID_LEN];
    assert_int_equal (strat_ids_format ("S1", 20261123, 1, id), 0);
    assert_string_equal (id, "S1-261123-1");
    //  7-char id: 7 + 1 + 6 + 1 = 15, so 5 digits of sequence fit and 6 do not
    assert_int_equal (strat_ids_format ("ABCDEFG", 20261123, 99999, id), 0);
    assert_string_equal (id, "ABCDEFG-261123-99999");
    assert_int_equal (strlen (id), KT_ID_WIRE_MAX);
    assert_int_equal (strat_ids_format ("ABCDEFG", 20261123, 100000, id), -1);
    assert_int_equal (strat_ids_format ("S1", 20261123, 0, id), -1);
}

static void
test_strategy_id_checked (void **state)
{
    (void) state;
    struct strat_ids ids;
    char err[256];
    assert_int_equal (strat_ids_init (&ids, "S1", err, sizeof err), 0);
    assert_int_equal (ids.max_seq, 9999999999LL); //  20 - 10 = 10 digits
    assert_int_equal (strat_ids_init (&ids, "", err, sizeof err), -1);
    assert_int_equal (strat_ids_init (&ids, "ABCDEFGH", err, sizeof err), -1);
    assert_non_null (strstr (err, "strategy.id"));
    assert_int_equal (strat_ids_init (&ids, "S-1", err, sizeof err), -1);
    assert_int_equal (strat_ids_init (&ids, "ABCDEFG", err, sizeof err), 0);
    assert_int_equal (ids.max_seq, 99999);
}

static void
test_blocks (void **state)
{
    (void) state;
    struct strat_ids ids;
    char err[256], id[KT_ID_LEN], arg[32];
    assert_int_equal (strat_ids_init (&ids, "S1", err, sizeof err), 0);
    assert_string_equal (strat_ids_seq_arg (&ids, 20261123, arg, sizeof arg), "S1-261123");
    //  nothing reserved yet
    assert_int_equal (strat_ids_take (&ids, 20261123, id), 1);
    assert_int_equal (strat_ids_grant (&ids, 20261123, 5), -1); //  not a block's end
    //  Redis answered INCRBY ... 20 with 40: a second run's block, 21..40
    assert_int_equal (strat_ids_grant (&ids, 20261123, 2 * STRAT_IDS_BLOCK), 0);
    for (int i = 1; i <= STRAT_IDS_BLOCK; i++) {
        assert_int_equal (strat_ids_take (&ids, 20261123, id), 0);
        char want[KT_ID_LEN];
        snprintf (want, sizeof want, "S1-261123-%d", STRAT_IDS_BLOCK + i);
        assert_string_equal (id, want);
    }
    assert_int_equal (strat_ids_take (&ids, 20261123, id), 1); //  used up
    assert_int_equal (strat_ids_grant (&ids, 20261123, 3 * STRAT_IDS_BLOCK), 0);
    assert_int_equal (strat_ids_take (&ids, 20261124, id), 1); //  another day: its own key
    assert_int_equal (strat_ids_take (&ids, 20261123, id), 0);
    assert_string_equal (id, "S1-261123-41");
    //  the day's sequence past what fits 20 chars: refused, never cut
    assert_int_equal (strat_ids_init (&ids, "ABCDEFG", err, sizeof err), 0);
    assert_int_equal (strat_ids_grant (&ids, 20261123, 100000 + STRAT_IDS_BLOCK - 1), 0);
    assert_int_equal (strat_ids_take (&ids, 20261123, id), -1);
}

static void
test_ours (void **state)
{
    (void) state;
    assert_true (strat_ids_ours ("S1-261123-7", "S1"));
    assert_false (strat_ids_ours ("S12-261123-7", "S1"));
    assert_false (strat_ids_ours ("rg-flat-3", "S1"));
    assert_false (strat_ids_ours ("S1", "S1"));
    assert_false (strat_ids_ours ("", "S1"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_format_and_bound),
        cmocka_unit_test (test_strategy_id_checked),
        cmocka_unit_test (test_blocks),
        cmocka_unit_test (test_ours),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
