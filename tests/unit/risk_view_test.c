/*  risk_view_test - reading a snapshot: malformed ones are refused with a reason (never a
 *  crash), an oversized book sets overflow (fail closed), what risk-gate derives from the
 *  book and its held orders (reservations, slots, exit cover, deployed, units, the day's
 *  realised P&L and losing streak), window counting, kind names. Built from real replies
 *  of a throwaway Redis. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"
#include "kt_testredis.h"

static kt_testredis_t *s_srv;
static kt_store_t *s_store;
static struct risk_view s_v;

static kt_store_result_t
s_eval (const char *lua)
{
    const char *argv[] = {"EVAL", lua, "0"};
    kt_store_result_t r = kt_store_call (s_store, 3, argv, NULL);
    assert_int_not_equal (r.kind, KT_STORE_DOWN);
    return r;
}

static void
test_malformed (void **state)
{
    (void) state;
    const char *bad[] = {
        "return 1",
        "return {1, 2, 3}",
        "return {{'a'}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}}", //  odd hash
        "return {{}, {}, {}, {}, 'x', {}, {}, {}, {}, {}, {}, {}, {}}",   //  positions not a list
        "return {{}, {}, {}, {}, {}, {}, {}, 'x', {}, {}, {}, {}, {}}",   //  window not a list
        "return {{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {'1'}, {}}", //  odd marks
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kt_store_result_t r = s_eval (bad[i]);
        char why[128] = "";
        assert_int_equal (risk_view_parse (&r, &s_v, why, sizeof why), -1);
        assert_true (strlen (why) > 0);
        assert_false (s_v.loaded);
        kt_store_result_free (&r);
    }
    char why[128];
    assert_int_equal (risk_view_parse (NULL, &s_v, why, sizeof why), -1);
}

//  The book's position, an exit of the book, a held entry pending and a held entry
//  part-filled by the book: what risk-gate derives from them.
static void
test_fields_and_derived (void **state)
{
    (void) state;
    kt_store_result_t r = s_eval (
        "return {{'state', 'ACTIVE', 'scope', 'day', 'bogus', 'x', 'day_start_realised', '-100',"
        "  'day_start_trades_closed', '3', 'day_start_losing_streak', '1'},"
        " {'initial', '100', 'reserved', '7'}, {'active', '1', 'reason', 'op'},"
        " {'ver', '42', 'realised', '-600', 'trades_closed', '5', 'losing_streak', '3'},"
        " {{'sym', 'ACE', 'qty', '75', 'open_value', '750000', 'realised', '-600'}},"
        " {{'coid', 'st1', 'sym', 'ACE', 'side', 'SELL', 'purpose', 'STOP', 'qty', '75',"
        "   'status', 'OPEN', 'filled_qty', '0'},"
        "  {'coid', 'e9', 'sym', 'ACE', 'side', 'BUY', 'purpose', 'ENTRY', 'qty', '75',"
        "   'status', 'OPEN'}},"
        " {{'o1', {'sym', 'BPE', 'itype', 'PE', 'side', 'SELL', 'kind', 'entry', 'oqty', '75',"
        "   'unit_cost', '10', 'resv', '750', 'pending', '1', 'sent_ns', '5', 'ts_ns', '4',"
        "   'event_ns', '9'}, {}},"
        "  {'o2', {'sym', 'ACE', 'itype', 'CE', 'side', 'BUY', 'kind', 'entry', 'oqty', '150',"
        "   'unit_cost', '10', 'resv', '1500', 'pending', '1', 'answered', '1'},"
        "   {'coid', 'o2', 'status', 'PARTIAL', 'filled_qty', '75'}}},"
        " {'3', '2'}, {}, {'1'}, {}, {'600', '-5', '9999', '1'}, {'ACE', '10500'}}");
    char why[128] = "";
    assert_int_equal (risk_view_parse (&r, &s_v, why, sizeof why), 0);
    kt_store_result_free (&r);
    assert_true (s_v.loaded);
    assert_int_equal (s_v.state, KT_STATE_ACTIVE);
    assert_true (s_v.day_scoped);
    assert_true (s_v.session_ok); //  absent reads as valid
    assert_true (s_v.kill);
    assert_string_equal (s_v.kill_reason, "op");
    assert_int_equal (s_v.initial, 100);
    assert_int_equal (s_v.book_ver, 42);
    assert_int_equal (s_v.realised_total, -600);
    assert_int_equal (s_v.realised_day, -500);
    //  two round trips closed since the roll, the streak grew by 2: both losses
    assert_int_equal (s_v.consec_losses, 2);
    //  the held reservation, not capital's stale field: o1 whole, o2 half filled
    assert_int_equal (s_v.reserved, 750 + 750);
    const struct risk_pos *a = risk_view_pos (&s_v, "ACE");
    assert_non_null (a);
    assert_int_equal (a->qty, 75);
    assert_int_equal (a->itype, KT_ITYPE_CE);
    assert_int_equal (a->exiting, 75); //  the book's stop covers it
    assert_int_equal (a->pending, 0);  //  o2 has a fill: its slot became the position
    assert_int_equal (a->last_px, 10500);
    assert_int_equal (s_v.deployed, 750000);
    const struct risk_pos *b = risk_view_pos (&s_v, "BPE");
    assert_non_null (b);
    assert_int_equal (b->qty, 0);
    assert_int_equal (b->pending, 1);
    assert_int_equal (risk_view_units (&s_v, "BPE"), 1);
    assert_int_equal (risk_view_units (&s_v, "ACE"), 1);
    assert_int_equal (s_v.units_total, 2);
    assert_int_equal (s_v.units_ce, 1);
    assert_int_equal (s_v.units_pe, 1);
    assert_null (risk_view_pos (&s_v, "C"));
    const struct risk_order *o = risk_view_order (&s_v, "o1");
    assert_non_null (o);
    assert_int_equal (o->kind, RISK_KIND_ENTRY);
    assert_int_equal (o->side, KT_SIDE_SELL);
    assert_int_equal (o->event_ns, 9);
    assert_int_equal (o->stop_trigger, 0);
    assert_true (o->pending);
    assert_false (o->answered);
    assert_false (o->in_book);
    assert_int_equal (o->sent_ns, 5);
    assert_int_equal (o->decided_ns, 4);
    o = risk_view_order (&s_v, "o2");
    assert_non_null (o);
    assert_true (o->in_book);
    assert_int_equal (o->filled, 75);
    assert_int_equal (o->resv, 750);
    assert_false (o->pending);
    assert_int_equal (s_v.norders_ts, 2);
    assert_int_equal (risk_view_count_after (s_v.orders_ts, s_v.norders_ts, 2), 1);
    assert_true (s_v.has_mark[600]);
    assert_int_equal (s_v.mark[600], -5);
    assert_false (s_v.has_mark[1439]); //  9999 is no minute: ignored
}

static void
test_overflow (void **state)
{
    (void) state;
    kt_store_result_t r =
        s_eval ("local p = {} for i = 1, 70 do p[i] = {'sym', 'S' .. i, 'qty', '1'} end "
                "return {{}, {}, {}, {}, p, {}, {}, {}, {}, {}, {}, {}, {}}");
    char why[128];
    assert_int_equal (risk_view_parse (&r, &s_v, why, sizeof why), 0);
    kt_store_result_free (&r);
    assert_true (s_v.overflow);
    assert_int_equal (s_v.npos, RISK_POS_MAX);
}

static void
test_kinds (void **state)
{
    (void) state;
    for (int k = RISK_KIND_ENTRY; k <= RISK_KIND_FLATTEN; k++)
        assert_int_equal (risk_kind_parse (risk_kind_str ((risk_kind_t) k)), k);
    assert_string_equal (risk_kind_str (RISK_KIND_NONE), "");
    assert_int_equal (risk_kind_parse (NULL), RISK_KIND_NONE);
}

static int
s_setup (void **state)
{
    (void) state;
    s_srv = kt_testredis_start ();
    s_store = s_srv ? kt_store_new ("127.0.0.1", s_srv->port, "kt:", 2000) : NULL;
    return s_store && kt_store_connect (s_store) == 0 ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_store_destroy (&s_store);
    kt_testredis_stop (&s_srv);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_fields_and_derived),
        cmocka_unit_test (test_overflow),
        cmocka_unit_test (test_kinds),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
