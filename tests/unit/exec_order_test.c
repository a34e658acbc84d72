/*  exec_order_test - the order lifecycle: Kite statuses, precedence, fills from the
 *  filled quantity, stale and duplicate observations dropped; slicing, slice tags and
 *  the outgoing rate bucket. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../exec-gateway/exec_kite.h"

static struct exec_kite_row
s_row (const char *status, int64_t qty, int64_t filled, int64_t avg, int64_t price)
{
    struct exec_kite_row r;
    memset (&r, 0, sizeof r);
    snprintf (r.order_id, sizeof r.order_id, "151220000000000");
    snprintf (r.status, sizeof r.status, "%s", status);
    r.qty = qty;
    r.filled = filled;
    r.avg_px = avg;
    r.price = price;
    return r;
}

//  Apply a judged step the way the process stores it.
static void
s_store (struct exec_order_fsm *o, const struct exec_order_step *s)
{
    if (!s->apply)
        return;
    o->state = s->state;
    o->filled = s->filled;
    o->avg_px = s->avg_px;
    o->qty = s->qty;
    o->price = s->price;
    o->trigger = s->trigger;
    snprintf (o->ts, sizeof o->ts, "%s", s->ts);
}

static struct exec_order_fsm
s_fsm (exec_state_t st)
{
    struct exec_order_fsm o;
    memset (&o, 0, sizeof o);
    o.state = st;
    o.qty = 150;
    o.price = 10000;
    snprintf (o.broker_id, sizeof o.broker_id, "151220000000000");
    return o;
}

static void
test_status_map (void **state)
{
    (void) state;
    static const struct {
        const char *kite;
        exec_state_t st;
        bool known;
    } cases[] = {
        {"PUT ORDER REQ RECEIVED", EXEC_ST_ACCEPTED, true},
        {"VALIDATION PENDING", EXEC_ST_ACCEPTED, true},
        {"OPEN PENDING", EXEC_ST_ACCEPTED, true},
        {"OPEN", EXEC_ST_OPEN, true},
        {"TRIGGER PENDING", EXEC_ST_TRIGGER_PENDING, true},
        {"MODIFY PENDING", EXEC_ST_OPEN, true},
        {"UPDATE", EXEC_ST_OPEN, true},
        {"COMPLETE", EXEC_ST_COMPLETE, true},
        {"CANCELLED", EXEC_ST_CANCELLED, true},
        {"REJECTED", EXEC_ST_REJECTED, true},
        {"LAUNCHED", EXEC_ST_OPEN, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool known = !cases[i].known;
        assert_int_equal (exec_state_from_kite (cases[i].kite, &known), cases[i].st);
        assert_int_equal (known, cases[i].known);
    }
    for (int s = 1; s < EXEC_ST_COUNT; s++)
        assert_int_equal (exec_state_parse (exec_state_str ((exec_state_t) s)), s);
    assert_int_equal (exec_state_parse ("nope"), EXEC_ST_NONE);
    assert_true (exec_state_terminal (EXEC_ST_REJECTED));
    assert_false (exec_state_terminal (EXEC_ST_UNRESOLVED));
}

//  order_info.json: the rows of one order's life, oldest first. In order they give
//  ACCEPTED once, then MODIFIED for the price change; replayed backwards after the
//  last, every older row is dropped.
static void
test_order_info_lifecycle (void **state)
{
    (void) state;
    FILE *f = fopen ("../shared/fixtures/kite/order_info.json", "rb");
    assert_non_null (f);
    char *buf = calloc (1, 1 << 16);
    size_t n = fread (buf, 1, (1 << 16) - 1, f);
    fclose (f);
    exec_json_t doc;
    char why[96];
    assert_int_equal (exec_json_parse (&doc, buf, n, why, sizeof why), 0);
    const cJSON *data = cJSON_GetObjectItem (doc.root, "data");
    int rows = cJSON_GetArraySize (data);
    assert_int_equal (rows, 8);
    struct exec_kite_row r[8];
    for (int i = 0; i < rows; i++)
        assert_int_equal (
            exec_kite_row_parse (&doc, cJSON_GetArrayItem (data, i), &r[i], why, sizeof why), 0);
    exec_json_free (&doc);
    free (buf);

    struct exec_order_fsm o;
    memset (&o, 0, sizeof o);
    o.state = EXEC_ST_PENDING_SUBMIT;
    o.qty = 1;
    o.price = 30000;
    struct exec_order_step s;
    kt_exec_kind_t events[8];
    int nev = 0;
    for (int i = 0; i < rows; i++) {
        exec_order_judge (&o, &r[i], &s);
        if (s.apply && s.event != KT_EXEC_NONE)
            events[nev++] = s.event;
        s_store (&o, &s);
    }
    assert_int_equal (nev, 2);
    assert_int_equal (events[0], KT_EXEC_ACCEPTED);
    assert_int_equal (events[1], KT_EXEC_MODIFIED);
    assert_int_equal (o.state, EXEC_ST_OPEN);
    assert_int_equal (o.price, 30010);
    for (int i = rows - 2; i >= 0; i--) {
        exec_order_judge (&o, &r[i], &s);
        if (s.apply)
            fail_msg ("row %d (%s) applied after the last", i, r[i].status);
    }
}

static void
test_fills_and_precedence (void **state)
{
    (void) state;
    struct exec_order_fsm o = s_fsm (EXEC_ST_ACCEPTED);
    struct exec_order_step s;
    struct exec_kite_row r = s_row ("OPEN", 150, 0, 0, 10000);
    exec_order_judge (&o, &r, &s);
    assert_true (s.apply);
    assert_int_equal (s.event, KT_EXEC_NONE); //  ACCEPTED -> OPEN says nothing new
    s_store (&o, &s);
    //  The same update twice: dropped as a duplicate.
    exec_order_judge (&o, &r, &s);
    assert_false (s.apply);
    assert_string_equal (s.why, "duplicate");

    //  75 at 100.00, then 75 more: VWAP 100.50 means the second 75 were at 101.00.
    r = s_row ("OPEN", 150, 75, 10000, 10000);
    exec_order_judge (&o, &r, &s);
    assert_true (s.apply);
    assert_int_equal (s.event, KT_EXEC_PARTIAL);
    assert_int_equal (s.fill_qty, 75);
    assert_int_equal (s.fill_px, 10000);
    s_store (&o, &s);
    struct exec_kite_row done = s_row ("COMPLETE", 150, 150, 10050, 10000);
    struct exec_kite_row stale = r;
    exec_order_judge (&o, &done, &s);
    assert_int_equal (s.event, KT_EXEC_FILLED);
    assert_int_equal (s.fill_qty, 75);
    assert_int_equal (s.fill_px, 10100);
    assert_int_equal (s.state, EXEC_ST_COMPLETE);
    s_store (&o, &s);
    //  The partial update arriving late: filled went back, dropped.
    exec_order_judge (&o, &stale, &s);
    assert_false (s.apply);
    assert_non_null (strstr (s.why, "stale"));
    //  A terminal order never goes back to OPEN, and a repeat is dropped.
    exec_order_judge (&o, &done, &s);
    assert_false (s.apply);

    //  Out of order: COMPLETE first, then the partial and the OPEN: only the first counts
    //  and it carries the whole fill.
    o = s_fsm (EXEC_ST_ACCEPTED);
    exec_order_judge (&o, &done, &s);
    assert_true (s.apply);
    assert_int_equal (s.fill_qty, 150);
    assert_int_equal (s.fill_px, 10050);
    s_store (&o, &s);
    r = s_row ("OPEN", 150, 0, 0, 10000);
    exec_order_judge (&o, &r, &s);
    assert_false (s.apply);

    //  A partial fill then cancelled (the idle remainder): PARTIAL for the fill and
    //  CANCELLED as the end, from one row.
    o = s_fsm (EXEC_ST_OPEN);
    r = s_row ("CANCELLED", 150, 75, 9995, 10000);
    exec_order_judge (&o, &r, &s);
    assert_true (s.apply);
    assert_int_equal (s.event, KT_EXEC_PARTIAL);
    assert_int_equal (s.end_event, KT_EXEC_CANCELLED);
    assert_int_equal (s.fill_px, 9995);

    //  Accepted, then rejected by RMS.
    o = s_fsm (EXEC_ST_ACCEPTED);
    r = s_row ("REJECTED", 150, 0, 0, 10000);
    exec_order_judge (&o, &r, &s);
    assert_int_equal (s.event, KT_EXEC_REJECTED);
    //  An UNRESOLVED order settled by the book: the row tells what it became.
    o = s_fsm (EXEC_ST_UNRESOLVED);
    o.broker_id[0] = '\0';
    r = s_row ("OPEN", 150, 0, 0, 10000);
    exec_order_judge (&o, &r, &s);
    assert_int_equal (s.event, KT_EXEC_ACCEPTED);
    assert_int_equal (s.state, EXEC_ST_OPEN);
    //  A row of another broker order never touches ours.
    o = s_fsm (EXEC_ST_OPEN);
    snprintf (r.order_id, sizeof r.order_id, "999");
    exec_order_judge (&o, &r, &s);
    assert_false (s.apply);
    //  A stop: TRIGGER PENDING, an UPDATE (modified trigger) keeps it pending, the
    //  trigger firing (OPEN) is not a modification, an older OPEN PENDING is stale.
    o = s_fsm (EXEC_ST_TRIGGER_PENDING);
    o.trigger = 9000;
    r = s_row ("UPDATE", 150, 0, 0, 10000);
    r.trigger = 9100;
    exec_order_judge (&o, &r, &s);
    assert_true (s.apply);
    assert_int_equal (s.state, EXEC_ST_TRIGGER_PENDING);
    assert_int_equal (s.event, KT_EXEC_MODIFIED);
    s_store (&o, &s);
    r = s_row ("OPEN", 150, 0, 0, 10000);
    r.trigger = 9100;
    exec_order_judge (&o, &r, &s);
    assert_true (s.apply);
    assert_int_equal (s.event, KT_EXEC_NONE);
    s_store (&o, &s);
    r = s_row ("OPEN PENDING", 150, 0, 0, 10000);
    r.trigger = 9100;
    exec_order_judge (&o, &r, &s);
    assert_false (s.apply);
}

static void
test_fill_px (void **state)
{
    (void) state;
    assert_int_equal (exec_order_fill_px (0, 0, 75, 12345), 12345);
    assert_int_equal (exec_order_fill_px (75, 10000, 150, 10050), 10100);
    //  Rounded to the nearest paisa: 1 at 100.00 then 2 more with VWAP 100.01 -> 100.015.
    assert_int_equal (exec_order_fill_px (1, 10000, 3, 10001), 10002);
    assert_int_equal (exec_order_fill_px (75, 10000, 75, 10000), 0);
    assert_int_equal (exec_order_fill_px (1, INT64_MAX, 2, INT64_MAX), 0);
    assert_int_equal (exec_order_event_kind (EXEC_ST_OPEN, 75, 150), KT_EXEC_PARTIAL);
    assert_int_equal (exec_order_event_kind (EXEC_ST_PENDING_SUBMIT, 0, 150), KT_EXEC_SUBMITTED);
    assert_int_equal (exec_order_event_kind (EXEC_ST_UNRESOLVED, 0, 150), KT_EXEC_UNRESOLVED);
}

static void
test_slices (void **state)
{
    (void) state;
    int64_t s[EXEC_SLICE_MAX];
    char why[128];
    assert_int_equal (exec_slice_split (1800, 75, 1800, 10, s, why, sizeof why), 1);
    assert_int_equal (s[0], 1800);
    assert_int_equal (exec_slice_split (1875, 75, 1800, 10, s, why, sizeof why), 2);
    assert_int_equal (s[0], 975);
    assert_int_equal (s[1], 900);
    assert_int_equal (exec_slice_split (18000, 75, 1800, 10, s, why, sizeof why), 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal (s[i], 1800);
    assert_int_equal (exec_slice_split (18075, 75, 1800, 10, s, why, sizeof why), -1);
    assert_non_null (strstr (why, "11 slices"));
    assert_int_equal (exec_slice_split (100, 75, 1800, 10, s, why, sizeof why), -1);
    assert_int_equal (exec_slice_split (150, 75, 50, 10, s, why, sizeof why), -1);
    assert_int_equal (exec_slice_split (150, 75, 0, 10, s, why, sizeof why), 1);
    //  Sum always equals the order, each a multiple of the lot, none above freeze.
    for (int64_t q = 75; q <= 18000; q += 75) {
        int n = exec_slice_split (q, 75, 1800, 10, s, why, sizeof why);
        assert_true (n >= 1);
        int64_t sum = 0;
        for (int i = 0; i < n; i++) {
            assert_true (s[i] % 75 == 0 && s[i] <= 1800 && s[i] > 0);
            sum += s[i];
        }
        assert_int_equal (sum, q);
    }
    char t[KT_ID_LEN];
    assert_int_equal (exec_slice_tag ("b1-1206-0001", 0, 1, t, sizeof t), 0);
    assert_string_equal (t, "b1-1206-0001");
    assert_int_equal (exec_slice_tag ("b1-1206-0001", 3, 4, t, sizeof t), 0);
    assert_string_equal (t, "b1-1206-0001s3");
    assert_int_equal (exec_slice_tag ("12345678901234567890", 9, 10, t, sizeof t), 0);
    assert_string_equal (t, "123456789012345678s9");
    assert_int_equal (exec_slice_tag ("x", 10, 11, t, sizeof t), -1);
    assert_int_equal (exec_slice_tag ("", 0, 1, t, sizeof t), -1);
}

static void
test_rate (void **state)
{
    (void) state;
    struct exec_rate r;
    const int64_t ms = 1000000;
    exec_rate_init (&r, 8, 8, 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal (exec_rate_take (&r, 0), 0);
    //  Empty: one token every 125 ms.
    assert_int_equal (exec_rate_take (&r, 0), 125);
    assert_int_equal (exec_rate_take (&r, 100 * ms), 25);
    assert_int_equal (exec_rate_take (&r, 125 * ms), 0);
    assert_int_equal (exec_rate_take (&r, 125 * ms), 125);
    //  Time going back is no time passing; a long pause refills to the burst only.
    assert_int_equal (exec_rate_take (&r, 10 * ms), 125);
    int taken = 0;
    while (exec_rate_take (&r, 60000 * ms) == 0)
        taken++;
    assert_int_equal (taken, 8);
    //  Over 10 s at a steady ask the count stays within rate x time + burst.
    exec_rate_init (&r, 8, 8, 0);
    int sent = 0;
    for (int64_t t = 0; t < 10000; t++)
        while (exec_rate_take (&r, t * ms) == 0)
            sent++;
    assert_true (sent <= 8 * 10 + 8);
    assert_true (sent >= 8 * 10);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_status_map),
        cmocka_unit_test (test_order_info_lifecycle),
        cmocka_unit_test (test_fills_and_precedence),
        cmocka_unit_test (test_fill_px),
        cmocka_unit_test (test_slices),
        cmocka_unit_test (test_rate),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
