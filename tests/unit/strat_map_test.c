/*  strat_map_test - the strategy's orders between the core and the pipeline: the
 *  ORDER_INTENT of each intent kind, EXEC_EVENTs of entries (partial fills, a cancel
 *  after a partial fill, a reject), of attached stops and of exits spread over the
 *  positions of a symbol, foreign events, and what each decision means. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../strategy/strat.h"

#define SYM "NIFTY26NOV24000CE"

static struct strat_intent
s_place (uint32_t id)
{
    struct strat_intent it = {.kind = STRAT_I_PLACE,
                              .why = STRAT_WHY_BEST,
                              .order_id = id,
                              .token = 10000041,
                              .itype = KT_ITYPE_CE,
                              .side = KT_SIDE_SELL,
                              .order_type = KT_OT_SL,
                              .qty = 600,
                              .trigger = 14995,
                              .price = 14985,
                              .sl_price = 16000,
                              .stop_price = 16010,
                              .swing_low = 15000,
                              .r_value = 600000,
                              .ts = 1};
    return it;
}

static struct kt_exec_event
s_ev (const char *coid, const char *intent_id, kt_exec_kind_t kind, kt_purpose_t purpose,
      int64_t filled, int64_t last_qty, int64_t last_px, int64_t avg_px)
{
    struct kt_exec_event e;
    memset (&e, 0, sizeof e);
    snprintf (e.coid, sizeof e.coid, "%s", coid);
    snprintf (e.intent_id, sizeof e.intent_id, "%s", intent_id);
    snprintf (e.sym, sizeof e.sym, SYM);
    e.event = kind;
    e.purpose = purpose;
    e.filled_qty = filled;
    e.last_qty = last_qty;
    e.last_px = last_px;
    e.avg_px = avg_px;
    return e;
}

static void
test_intents (void **state)
{
    (void) state;
    static struct strat_map m;
    memset (&m, 0, sizeof m);
    struct strat_intent it = s_place (7);
    struct strat_map_order *o = strat_map_add (&m, &it, "S1-261123-21", SYM);
    assert_non_null (o);
    struct kt_intent in;
    assert_int_equal (strat_map_intent (&it, o, "S1-261123-21", "S1", KT_PROD_MIS, &in), 0);
    assert_string_equal (in.intent_id, "S1-261123-21");
    assert_string_equal (in.strategy, "S1");
    assert_string_equal (in.sym, SYM);
    assert_int_equal (in.purpose, KT_PURPOSE_ENTRY);
    assert_int_equal (in.side, KT_SIDE_SELL);
    assert_int_equal (in.order_type, KT_OT_SL);
    assert_int_equal (in.qty, 600);
    assert_int_equal (in.trigger, 14995);
    assert_int_equal (in.price, 14985);
    assert_true (in.has_stop);
    assert_int_equal (in.stop_trigger, 16000);
    assert_int_equal (in.stop_price, 16010);
    assert_int_equal (in.r_value, 600000);
    assert_int_equal (in.product, KT_PROD_MIS);
    assert_string_equal (in.ref, "");
    //  every intent must be a valid message
    struct kt_msg msg = {.env.type = KT_MSG_ORDER_INTENT, .u.intent = in};
    char why[128];
    msg.env.v = KT_MSG_VERSION;
    snprintf (msg.env.src, sizeof msg.env.src, "strategy");
    assert_int_equal (kt_msg_check (&msg, why, sizeof why), 0);

    it.kind = STRAT_I_MODIFY;
    it.trigger = 15045;
    it.price = 15035;
    assert_int_equal (strat_map_intent (&it, o, "S1-261123-22", "S1", KT_PROD_MIS, &in), 0);
    assert_int_equal (in.purpose, KT_PURPOSE_MODIFY);
    assert_string_equal (in.ref, "S1-261123-21");
    assert_int_equal (in.trigger, 15045);
    assert_int_equal (in.stop_trigger, 16000);

    it.kind = STRAT_I_CANCEL;
    assert_int_equal (strat_map_intent (&it, o, "S1-261123-23", "S1", KT_PROD_MIS, &in), 0);
    assert_int_equal (in.purpose, KT_PURPOSE_CANCEL);
    assert_string_equal (in.ref, "S1-261123-21");
    msg.u.intent = in;
    assert_int_equal (kt_msg_check (&msg, why, sizeof why), 0);

    //  FLATTEN: only what is held
    it.kind = STRAT_I_FLATTEN;
    assert_int_equal (strat_map_intent (&it, o, "S1-261123-24", "S1", KT_PROD_MIS, &in), -1);
    o->filled = 300;
    o->stop_filled = 75;
    assert_int_equal (strat_map_intent (&it, o, "S1-261123-24", "S1", KT_PROD_MIS, &in), 0);
    assert_int_equal (in.purpose, KT_PURPOSE_FLATTEN);
    assert_int_equal (in.side, KT_SIDE_BUY);
    assert_int_equal (in.order_type, KT_OT_MARKET);
    assert_int_equal (in.qty, 225);
    assert_int_equal (in.reason, KT_EXIT_NONE); //  no exit why: exec-gateway's MANUAL
    msg.u.intent = in;
    assert_int_equal (kt_msg_check (&msg, why, sizeof why), 0);
    //  the strategy's exit whys, as the backtest's trades.csv spells them
    const strat_why_t whys[] = {STRAT_WHY_TARGET_DAY, STRAT_WHY_LOSS_DAY, STRAT_WHY_TIME};
    const char *names[] = {"TARGET_DAY", "LOSS_DAY", "TIME"};
    for (int i = 0; i < 3; i++) {
        it.why = whys[i];
        assert_int_equal (strat_map_intent (&it, o, "S1-261123-24", "S1", KT_PROD_MIS, &in), 0);
        assert_string_equal (kt_exit_reason_str (in.reason), names[i]);
        msg.u.intent = in;
        assert_int_equal (kt_msg_check (&msg, why, sizeof why), 0);
    }
    it.why = STRAT_WHY_NONE;
    //  MODIFY / CANCEL need the order
    it.kind = STRAT_I_CANCEL;
    assert_int_equal (strat_map_intent (&it, NULL, "x", "S1", KT_PROD_MIS, &in), -1);
}

static void
test_entry_fills_and_end (void **state)
{
    (void) state;
    static struct strat_map m;
    memset (&m, 0, sizeof m);
    struct strat_intent it = s_place (3);
    strat_map_add (&m, &it, "S1-261123-1", SYM);
    struct strat_exec out[STRAT_MAP_EV_MAX];
    //  accepted: nothing for the core
    struct kt_exec_event e =
        s_ev ("S1-261123-1", "S1-261123-1", KT_EXEC_ACCEPTED, KT_PURPOSE_ENTRY, 0, 0, 0, 0);
    assert_int_equal (strat_map_exec (&m, &e, out), 0);
    //  partial 150 @ 149.90
    e = s_ev ("S1-261123-1", "S1-261123-1", KT_EXEC_PARTIAL, KT_PURPOSE_ENTRY, 150, 150, 14990,
              14990);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].kind, STRAT_EV_ENTRY_FILL);
    assert_int_equal (out[0].order_id, 3);
    assert_int_equal (out[0].token, 10000041);
    assert_int_equal (out[0].qty, 150);
    assert_int_equal (out[0].px, 14990);
    //  the same report again: nothing new
    assert_int_equal (strat_map_exec (&m, &e, out), 0);
    //  two fills reported at once (225 more): the average is their price
    e = s_ev ("S1-261123-1", "S1-261123-1", KT_EXEC_PARTIAL, KT_PURPOSE_ENTRY, 375, 75, 14980,
              14986);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].qty, 225);
    assert_int_equal (out[0].px, 14986);
    //  cancelled with one more fill in it: the fill, then the cancel
    e = s_ev ("S1-261123-1", "S1-261123-1", KT_EXEC_CANCELLED, KT_PURPOSE_ENTRY, 450, 75, 14985,
              14986);
    assert_int_equal (strat_map_exec (&m, &e, out), 2);
    assert_int_equal (out[0].kind, STRAT_EV_ENTRY_FILL);
    assert_int_equal (out[0].qty, 75);
    assert_int_equal (out[0].px, 14985);
    assert_int_equal (out[1].kind, STRAT_EV_CANCELLED);
    assert_int_equal (out[1].order_id, 3);
    assert_false (strat_map_by_id (&m, 3)->working);
    assert_int_equal (strat_map_open_units (strat_map_by_id (&m, 3)), 450);

    //  a rejected entry; a refused change of it first, which does not end it
    it = s_place (4);
    strat_map_add (&m, &it, "S1-261123-2", SYM);
    e = s_ev ("S1-261123-2", "S1-261123-3", KT_EXEC_REJECTED, KT_PURPOSE_MODIFY, 0, 0, 0, 0);
    assert_int_equal (strat_map_exec (&m, &e, out), 0);
    assert_true (strat_map_by_id (&m, 4)->working);
    e = s_ev ("S1-261123-2", "S1-261123-2", KT_EXEC_REJECTED, KT_PURPOSE_ENTRY, 0, 0, 0, 0);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].kind, STRAT_EV_REJECTED);
    assert_int_equal (out[0].order_id, 4);
    //  not ours
    e = s_ev ("S2-261123-2", "S2-261123-2", KT_EXEC_FILLED, KT_PURPOSE_ENTRY, 75, 75, 1, 1);
    assert_int_equal (strat_map_exec (&m, &e, out), 0);
}

static void
test_stop_and_exit_fills (void **state)
{
    (void) state;
    static struct strat_map m;
    memset (&m, 0, sizeof m);
    struct strat_intent a = s_place (1), b = s_place (2);
    strat_map_add (&m, &a, "S1-261123-1", SYM)->filled = 600;
    strat_map_add (&m, &b, "S1-261123-5", SYM)->filled = 300;
    struct strat_exec out[STRAT_MAP_EV_MAX];
    //  the stop of the first entry: its intent_id is the entry's coid
    struct kt_exec_event e = s_ev ("S1-261123-1-S", "S1-261123-1", KT_EXEC_PARTIAL, KT_PURPOSE_STOP,
                                   200, 200, 16010, 16010);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].kind, STRAT_EV_STOP_FILL);
    assert_int_equal (out[0].order_id, 1);
    assert_int_equal (out[0].qty, 200);
    assert_int_equal (out[0].px, 16010);
    //  a stop known only by a coid derived from the entry's
    e = s_ev ("S1-261123-5s", "", KT_EXEC_FILLED, KT_PURPOSE_STOP, 100, 100, 16020, 16020);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].order_id, 2);
    assert_int_equal (out[0].qty, 100);
    //  a flatten of the symbol: 400 + 200 held, oldest first
    e = s_ev ("rg-flat-1", "", KT_EXEC_PARTIAL, KT_PURPOSE_FLATTEN, 500, 500, 15500, 15500);
    assert_int_equal (strat_map_exec (&m, &e, out), 2);
    assert_int_equal (out[0].kind, STRAT_EV_EXIT_FILL);
    assert_int_equal (out[0].order_id, 1);
    assert_int_equal (out[0].qty, 400);
    assert_int_equal (out[1].order_id, 2);
    assert_int_equal (out[1].qty, 100);
    e = s_ev ("rg-flat-1", "", KT_EXEC_FILLED, KT_PURPOSE_FLATTEN, 600, 100, 15400, 15483);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].order_id, 2);
    assert_int_equal (out[0].qty, 100);
    assert_int_equal (out[0].px, 15400);
    //  nothing held any more: a later exit of the symbol is someone else's
    e = s_ev ("rg-flat-2", "", KT_EXEC_FILLED, KT_PURPOSE_EXIT, 75, 75, 15400, 15400);
    assert_int_equal (strat_map_exec (&m, &e, out), 0);
}

//  exec-gateway's stops: "<entry>-st", then "<entry>-s2" when resized to the entry's
//  filled part; each reports its own cumulative fills, the entry's intent id with them.
static void
test_resized_stops (void **state)
{
    (void) state;
    static struct strat_map m;
    memset (&m, 0, sizeof m);
    struct strat_intent a = s_place (9);
    strat_map_add (&m, &a, "S1-261123-9", SYM)->filled = 600;
    struct strat_exec out[STRAT_MAP_EV_MAX];
    struct kt_exec_event e = s_ev ("S1-261123-9-st", "S1-261123-9", KT_EXEC_CANCELLED,
                                   KT_PURPOSE_STOP, 150, 150, 16010, 16010);
    assert_int_equal (strat_map_exec (&m, &e, out), 1); //  150 filled, then cancelled
    assert_int_equal (out[0].kind, STRAT_EV_STOP_FILL);
    assert_int_equal (out[0].qty, 150);
    e = s_ev ("S1-261123-9-s2", "S1-261123-9", KT_EXEC_PARTIAL, KT_PURPOSE_STOP, 300, 300, 16020,
              16020);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].qty, 300);
    e = s_ev ("S1-261123-9-s2", "S1-261123-9", KT_EXEC_FILLED, KT_PURPOSE_STOP, 450, 150, 16030,
              16023);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].qty, 150);
    assert_int_equal (out[0].px, 16030);
    assert_int_equal (strat_map_open_units (strat_map_by_id (&m, 9)), 0);
    //  the same report again: nothing
    assert_int_equal (strat_map_exec (&m, &e, out), 0);
}

static void
test_decisions (void **state)
{
    (void) state;
    struct kt_decision d;
    memset (&d, 0, sizeof d);
    struct strat_exec ev;
    d.verdict = KT_VERDICT_APPROVE;
    assert_int_equal (strat_map_decision (STRAT_I_PLACE, 5, &d, 9, &ev), STRAT_DEC_NONE);
    d.verdict = KT_VERDICT_REDUCE;
    d.qty = 300;
    assert_int_equal (strat_map_decision (STRAT_I_PLACE, 5, &d, 9, &ev), STRAT_DEC_EVENT);
    assert_int_equal (ev.kind, STRAT_EV_REDUCED);
    assert_int_equal (ev.qty, 300);
    assert_int_equal (ev.order_id, 5);
    assert_int_equal (strat_map_decision (STRAT_I_MODIFY, 5, &d, 9, &ev), STRAT_DEC_EVENT);
    assert_int_equal (ev.kind, STRAT_EV_REDUCED);
    d.verdict = KT_VERDICT_BLOCK;
    assert_int_equal (strat_map_decision (STRAT_I_PLACE, 5, &d, 9, &ev), STRAT_DEC_EVENT);
    assert_int_equal (ev.kind, STRAT_EV_REJECTED);
    d.verdict = KT_VERDICT_HALT;
    assert_int_equal (strat_map_decision (STRAT_I_PLACE, 5, &d, 9, &ev), STRAT_DEC_EVENT);
    assert_int_equal (ev.kind, STRAT_EV_REJECTED);
    //  a refused MODIFY must not leave the entry at its old numbers
    assert_int_equal (strat_map_decision (STRAT_I_MODIFY, 5, &d, 9, &ev), STRAT_DEC_CANCEL);
    assert_int_equal (strat_map_decision (STRAT_I_CANCEL, 5, &d, 9, &ev), STRAT_DEC_ALERT);
    assert_int_equal (strat_map_decision (STRAT_I_FLATTEN, 0, &d, 9, &ev), STRAT_DEC_ALERT);
    //  no answer: the entry stays pending for the core (it may have gone through)
    assert_int_equal (strat_map_decision (STRAT_I_PLACE, 5, NULL, 9, &ev), STRAT_DEC_ALERT);
}

static void
test_tables (void **state)
{
    (void) state;
    static struct strat_map m;
    memset (&m, 0, sizeof m);
    strat_ikind_t k;
    uint32_t id;
    uint32_t replaces = 99;
    assert_int_equal (strat_map_sent_add (&m, "S1-261123-1", STRAT_I_MODIFY, 4, 0), 0);
    assert_int_equal (strat_map_sent_add (&m, "S1-261123-3", STRAT_I_PLACE, 6, 5), 0);
    assert_int_equal (strat_map_sent_take (&m, "S1-261123-2", &k, &id, NULL), -1);
    assert_int_equal (strat_map_sent_take (&m, "S1-261123-1", &k, &id, &replaces), 0);
    assert_int_equal (k, STRAT_I_MODIFY);
    assert_int_equal (id, 4);
    assert_int_equal (replaces, 0);
    assert_int_equal (strat_map_sent_take (&m, "S1-261123-1", &k, &id, NULL), -1);
    assert_int_equal (strat_map_sent_take (&m, "S1-261123-3", &k, &id, &replaces), 0);
    assert_int_equal (k, STRAT_I_PLACE);
    assert_int_equal (id, 6);
    assert_int_equal (replaces, 5);
    for (int i = 0; i < STRAT_MAP_SENT; i++)
        assert_int_equal (strat_map_sent_add (&m, "x", STRAT_I_PLACE, 1, 0), 0);
    assert_int_equal (strat_map_sent_add (&m, "x", STRAT_I_PLACE, 1, 0), -1);
    //  order slots: a finished order's slot is reused, a working or held one never
    for (uint32_t i = 1; i <= STRAT_MAP_ORDERS; i++) {
        struct strat_intent it = s_place (i);
        assert_non_null (strat_map_add (&m, &it, "c", SYM));
    }
    struct strat_intent it = s_place (999);
    assert_null (strat_map_add (&m, &it, "c", SYM));
    strat_map_by_id (&m, 7)->working = false;
    struct strat_map_order *o = strat_map_add (&m, &it, "c", SYM);
    assert_non_null (o);
    assert_int_equal (o->order_id, 999);
    assert_null (strat_map_by_id (&m, 7));
}

//  The core's "another instrument is now best": CANCEL (why REPLACED) of a working entry
//  with nothing filled, then a PLACE of the same type, is one replacement; the new one's
//  events map to the new id, the old one's CANCELLED to the old id.
static void
test_replacement (void **state)
{
    (void) state;
    static struct strat_map m;
    memset (&m, 0, sizeof m);
    struct strat_intent p1 = s_place (1);
    struct strat_map_order *old = strat_map_add (&m, &p1, "S1-261123-1", SYM);
    struct strat_intent c = {.kind = STRAT_I_CANCEL,
                             .why = STRAT_WHY_REPLACED,
                             .order_id = 1,
                             .token = p1.token,
                             .itype = KT_ITYPE_CE};
    struct strat_intent p2 = s_place (2);
    p2.token = 10000042;
    assert_ptr_equal (strat_map_replaced (&m, &c, &p2), old);
    //  not a replacement: another reason, another type, the PLACE first, an entry that
    //  has filled in part, one no longer working, an unknown one
    struct strat_intent x = c;
    x.why = STRAT_WHY_NONE;
    assert_null (strat_map_replaced (&m, &x, &p2));
    x = p2;
    x.itype = KT_ITYPE_PE;
    assert_null (strat_map_replaced (&m, &c, &x));
    assert_null (strat_map_replaced (&m, &p2, &c));
    old->filled = 75;
    assert_null (strat_map_replaced (&m, &c, &p2));
    old->filled = 0;
    old->working = false;
    assert_null (strat_map_replaced (&m, &c, &p2));
    old->working = true;
    x = c;
    x.order_id = 9;
    assert_null (strat_map_replaced (&m, &x, &p2));

    //  Approved: the new entry is recorded; the old one's CANCELLED ends the old id, the
    //  new one's fill is the new id's.
    assert_non_null (strat_map_add (&m, &p2, "S1-261123-2", "NIFTY26NOV24100CE"));
    struct strat_exec out[STRAT_MAP_EV_MAX];
    struct kt_exec_event e =
        s_ev ("S1-261123-1", "S1-261123-1", KT_EXEC_CANCELLED, KT_PURPOSE_ENTRY, 0, 0, 0, 0);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].kind, STRAT_EV_CANCELLED);
    assert_int_equal (out[0].order_id, 1);
    e = s_ev ("S1-261123-2", "S1-261123-2", KT_EXEC_FILLED, KT_PURPOSE_ENTRY, 600, 600, 14985,
              14985);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].kind, STRAT_EV_ENTRY_FILL);
    assert_int_equal (out[0].order_id, 2);
    assert_int_equal (out[0].qty, 600);

    //  The new one refused by exec-gateway because the old one filled: the new id is
    //  REJECTED, the old one's fill is the old id's.
    memset (&m, 0, sizeof m);
    strat_map_add (&m, &p1, "S1-261123-1", SYM);
    strat_map_add (&m, &p2, "S1-261123-2", "NIFTY26NOV24100CE");
    e = s_ev ("S1-261123-2", "S1-261123-2", KT_EXEC_REJECTED, KT_PURPOSE_ENTRY, 0, 0, 0, 0);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].kind, STRAT_EV_REJECTED);
    assert_int_equal (out[0].order_id, 2);
    e = s_ev ("S1-261123-1", "S1-261123-1", KT_EXEC_FILLED, KT_PURPOSE_ENTRY, 600, 600, 14995,
              14995);
    assert_int_equal (strat_map_exec (&m, &e, out), 1);
    assert_int_equal (out[0].kind, STRAT_EV_ENTRY_FILL);
    assert_int_equal (out[0].order_id, 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_intents),
        cmocka_unit_test (test_entry_fills_and_end),
        cmocka_unit_test (test_stop_and_exit_fills),
        cmocka_unit_test (test_resized_stops),
        cmocka_unit_test (test_decisions),
        cmocka_unit_test (test_tables),
        cmocka_unit_test (test_replacement),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
