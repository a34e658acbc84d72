/*  ctl_journal_test - round trips from fills: open and close in parts, several symbols
 *  interleaved, a fill through 0 that closes one trip and opens the next, a position
 *  carried in from before the day, and one still open. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "../../tradectl/ctl_cmd.h"

static struct ctl_journal_fill
s_fill (const char *sym, const char *side, int64_t qty, int64_t px, int64_t pos, int64_t real,
        int64_t ts)
{
    struct ctl_journal_fill f;
    memset (&f, 0, sizeof f);
    snprintf (f.sym, sizeof f.sym, "%s", sym);
    snprintf (f.side, sizeof f.side, "%s", side);
    f.qty = qty;
    f.price = px;
    f.pos_qty = pos;
    f.realised = real;
    f.ts = ts;
    return f;
}

static void
test_round_trips (void **state)
{
    (void) state;
    struct ctl_journal_fill f[] = {
        //  CE: short 150 in two fills, covered in two
        s_fill ("CE", "SELL", 75, 15000, -75, 0, 1),
        s_fill ("PE", "BUY", 75, 10000, 75, 0, 2),
        s_fill ("CE", "SELL", 75, 15100, -150, 0, 3),
        s_fill ("CE", "BUY", 75, 14000, -75, 78750, 4),
        s_fill ("CE", "BUY", 75, 14500, 0, 45000, 5),
        //  PE: long 75, sold 150: closes at 103.50 and opens a short of 75
        s_fill ("PE", "SELL", 150, 10350, -75, 26250, 6),
        //  FE: carried in short 75 from yesterday, bought back
        s_fill ("FE", "BUY", 75, 5000, 0, -3000, 7),
    };
    struct ctl_journal_trip t[14];
    int n = ctl_journal_trips (f, 7, t);
    assert_int_equal (n, 4);
    //  CE
    assert_string_equal (t[0].sym, "CE");
    assert_int_equal (t[0].qty, 150);
    assert_int_equal (t[0].entry_value, 75 * 15000 + 75 * 15100);
    assert_int_equal (t[0].exit_value, 75 * 14000 + 75 * 14500);
    assert_int_equal (t[0].realised, 78750 + 45000);
    assert_int_equal (t[0].opened_ns, 1);
    assert_int_equal (t[0].closed_ns, 5);
    assert_false (t[0].open);
    //  PE long: closed by the first 75 of the 150
    assert_string_equal (t[1].sym, "PE");
    assert_int_equal (t[1].entry_value, 75 * 10000);
    assert_int_equal (t[1].exit_value, 75 * 10350);
    assert_int_equal (t[1].realised, 26250);
    assert_int_equal (t[1].closed_ns, 6);
    assert_false (t[1].open);
    //  PE short: opened by the other 75, still open
    assert_string_equal (t[2].sym, "PE");
    assert_int_equal (t[2].qty, 75);
    assert_int_equal (t[2].entry_value, 75 * 10350);
    assert_int_equal (t[2].realised, 0);
    assert_int_equal (t[2].opened_ns, 6);
    assert_true (t[2].open);
    //  FE: entry before the day
    assert_string_equal (t[3].sym, "FE");
    assert_int_equal (t[3].opened_ns, 0);
    assert_int_equal (t[3].entry_value, 0);
    assert_int_equal (t[3].exit_value, 75 * 5000);
    assert_int_equal (t[3].realised, -3000);
    assert_false (t[3].open);
    assert_int_equal (ctl_journal_trips (f, 0, t), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trips),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
