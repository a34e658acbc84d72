/*  exec_paper_test - the paper broker: Kite-shaped ids, rows and trades; fills by the
 *  shared fill model; stops on the LTP; nothing against an empty quote; slippage;
 *  modify and cancel answers like Kite's. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../exec-gateway/exec_kite.h"

#define SYM "NIFTY25N2524000CE"
#define NOW 1764000000000000000LL //  2025-11-24 21:30 IST (any instant will do)

static struct exec_kite_order
s_order (kt_side_t side, kt_order_type_t type, int64_t qty, int64_t price, int64_t trigger)
{
    struct exec_kite_order o;
    memset (&o, 0, sizeof o);
    snprintf (o.sym, sizeof o.sym, SYM);
    snprintf (o.tag, sizeof o.tag, "T1");
    o.side = side;
    o.type = type;
    o.qty = qty;
    o.price = price;
    o.trigger = trigger;
    o.product = KT_PROD_MIS;
    o.market_protection = -1;
    return o;
}

static struct kt_tick
s_tick (int64_t ltp, int64_t bid, int64_t bid_qty, int64_t ask, int64_t ask_qty, int64_t volume)
{
    struct kt_tick t;
    memset (&t, 0, sizeof t);
    snprintf (t.sym, sizeof t.sym, SYM);
    t.ltp = ltp;
    t.bid = bid;
    t.bid_qty = bid_qty;
    t.ask = ask;
    t.ask_qty = ask_qty;
    t.volume = volume;
    return t;
}

struct s_rows {
    struct exec_kite_row r[8];
    int n;
};

static int
s_row (const struct exec_kite_row *row, void *arg)
{
    struct s_rows *c = arg;
    c->r[c->n++] = *row;
    return 0;
}

struct s_trades {
    struct exec_kite_trade t[8];
    int n;
};

static int
s_trade (const struct exec_kite_trade *t, void *arg)
{
    struct s_trades *c = arg;
    c->t[c->n++] = *t;
    return 0;
}

static void
test_market_needs_a_quote (void **state)
{
    (void) state;
    exec_paper_t *p = exec_paper_new (0);
    struct exec_kite_reply r;
    struct exec_kite_order o = s_order (KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    exec_paper_place (p, &o, NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_OK);
    assert_int_equal (strlen (r.order_id), 15);
    //  No quote yet: it rests, nothing filled.
    struct s_rows rows = {.n = 0};
    exec_paper_orders_each (p, s_row, &rows);
    assert_int_equal (rows.n, 1);
    assert_string_equal (rows.r[0].status, "OPEN");
    assert_int_equal (rows.r[0].filled, 0);
    assert_string_equal (rows.r[0].tag, "T1");
    //  A quote: it sells at the bid, 75 of the 50 + ... shown: only what is shown.
    struct kt_tick t = s_tick (10000, 9995, 50, 10005, 300, 1000);
    assert_int_equal (exec_paper_tick (p, &t, 5, NOW), 1);
    rows.n = 0;
    exec_paper_orders_each (p, s_row, &rows);
    assert_int_equal (rows.r[0].filled, 50);
    assert_string_equal (rows.r[0].status, "OPEN");
    assert_int_equal (rows.r[0].avg_px, 9995);
    t = s_tick (9995, 9990, 500, 10000, 300, 1100);
    exec_paper_tick (p, &t, 5, NOW);
    rows.n = 0;
    exec_paper_orders_each (p, s_row, &rows);
    assert_int_equal (rows.r[0].filled, 75);
    assert_string_equal (rows.r[0].status, "COMPLETE");
    struct s_trades tr = {.n = 0};
    exec_paper_trades_each (p, rows.r[0].order_id, s_trade, &tr);
    assert_int_equal (tr.n, 2);
    assert_int_equal (tr.t[0].qty + tr.t[1].qty, 75);
    assert_string_not_equal (tr.t[0].trade_id, tr.t[1].trade_id);
    assert_string_equal (tr.t[0].order_id, rows.r[0].order_id);
    //  Cancel of a completed order: Kite's answer.
    exec_paper_cancel (p, rows.r[0].order_id, NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_FINAL);
    assert_non_null (strstr (r.message, "COMPLETE"));
    exec_paper_destroy (&p);
}

static void
test_stop_triggers_on_ltp (void **state)
{
    (void) state;
    exec_paper_t *p = exec_paper_new (0);
    struct kt_tick t = s_tick (10000, 9995, 750, 10005, 750, 1000);
    exec_paper_tick (p, &t, 5, NOW);
    struct exec_kite_reply r;
    //  A BUY stop below the LTP is refused, as Kite does.
    struct exec_kite_order o = s_order (KT_SIDE_BUY, KT_OT_SL, 75, 11000, 9000);
    exec_paper_place (p, &o, NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_FINAL);
    assert_string_equal (r.error_type, "InputException");
    o = s_order (KT_SIDE_BUY, KT_OT_SL, 75, 11050, 11000);
    exec_paper_place (p, &o, NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_OK);
    struct s_rows rows = {.n = 0};
    exec_paper_orders_each (p, s_row, &rows);
    assert_string_equal (rows.r[0].status, "TRIGGER PENDING");
    //  The ask crosses the trigger but the LTP does not: no trigger.
    t = s_tick (10900, 10950, 750, 11005, 750, 1100);
    assert_int_equal (exec_paper_tick (p, &t, 5, NOW), 0);
    //  The LTP reaches it: triggered, then fills at the ask within its limit.
    t = s_tick (11000, 11000, 750, 11010, 750, 1200);
    assert_int_equal (exec_paper_tick (p, &t, 5, NOW), 1);
    rows.n = 0;
    exec_paper_orders_each (p, s_row, &rows);
    assert_string_equal (rows.r[0].status, "COMPLETE");
    assert_int_equal (rows.r[0].avg_px, 11010);
    exec_paper_destroy (&p);
}

static void
test_slippage_modify_cancel (void **state)
{
    (void) state;
    exec_paper_t *p = exec_paper_new (2);
    struct kt_tick t = s_tick (10000, 9995, 750, 10005, 750, 1000);
    exec_paper_tick (p, &t, 5, NOW);
    struct exec_kite_reply r;
    struct exec_kite_order o = s_order (KT_SIDE_SELL, KT_OT_LIMIT, 75, 9995, 0);
    exec_paper_place (p, &o, NOW, &r);
    struct s_trades tr = {.n = 0};
    exec_paper_trades_each (p, r.order_id, s_trade, &tr);
    assert_int_equal (tr.n, 1);
    assert_int_equal (tr.t[0].px, 9985); //  two ticks worse for a sell
    //  A resting order: modified, then cancelled.
    o = s_order (KT_SIDE_SELL, KT_OT_LIMIT, 75, 12000, 0);
    exec_paper_place (p, &o, NOW, &r);
    char id[KT_BROKER_LEN];
    snprintf (id, sizeof id, "%s", r.order_id);
    o.qty = 150;
    exec_paper_modify (p, id, &o, NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_OK);
    struct s_rows rows = {.n = 0};
    exec_paper_orders_each (p, s_row, &rows);
    assert_int_equal (rows.r[1].qty, 150);
    exec_paper_cancel (p, id, NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_OK);
    rows.n = 0;
    exec_paper_orders_each (p, s_row, &rows);
    assert_string_equal (rows.r[1].status, "CANCELLED");
    exec_paper_modify (p, id, &o, NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_FINAL);
    exec_paper_cancel (p, "999", NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_FINAL);
    //  Market protection 0 is refused.
    o = s_order (KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    o.market_protection = 0;
    exec_paper_place (p, &o, NOW, &r);
    assert_int_equal (r.cls, EXEC_KITE_FINAL);
    exec_paper_destroy (&p);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_market_needs_a_quote),
        cmocka_unit_test (test_stop_triggers_on_ltp),
        cmocka_unit_test (test_slippage_modify_cancel),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
