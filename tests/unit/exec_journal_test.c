/*  exec_journal_test - the journal from the events stream of a real book (kt_book on a
 *  throwaway redis-server): orders, fills, a round trip with P&L, R multiple and exit
 *  reason; a restarted journal neither repeats nor loses a row. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../exec-gateway/exec.h"
#include "kt_testredis.h"

#define DAY_NS 1764000000000000000LL

static kt_testredis_t *s_redis;
static kt_store_t *s_store;
static char s_dir[64];

static int
s_setup (void **state)
{
    (void) state;
    kt_log_open ("exec_journal_test", KT_LOG_OFF);
    s_redis = kt_testredis_start ();
    if (!s_redis)
        return -1;
    s_store = kt_store_new (NULL, s_redis->port, "kt:", 1000);
    kt_book_register (s_store);
    snprintf (s_dir, sizeof s_dir, "/tmp/kt-journal-XXXXXX");
    if (!mkdtemp (s_dir) || kt_store_connect (s_store) != 0)
        return -1;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_store_destroy (&s_store);
    kt_testredis_stop (&s_redis);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system (cmd) == 0 ? 0 : -1;
}

static void
s_order (const char *coid, kt_side_t side, kt_purpose_t purpose, int64_t qty, int64_t r_value,
         const char *exit_reason)
{
    struct kt_order_rec r;
    memset (&r, 0, sizeof r);
    snprintf (r.coid, sizeof r.coid, "%s", coid);
    snprintf (r.intent_id, sizeof r.intent_id, "%s", coid);
    snprintf (r.sym, sizeof r.sym, "NIFTY25N2524000CE");
    snprintf (r.exit_reason, sizeof r.exit_reason, "%s", exit_reason);
    r.side = side;
    r.order_type = KT_OT_LIMIT;
    r.product = KT_PROD_MIS;
    r.purpose = purpose;
    r.qty = qty;
    r.price = 10000;
    r.r_value = r_value;
    r.status = KT_OS_PENDING_SUBMIT;
    char why[128];
    assert_int_equal (kt_book_order_create (s_store, &r, DAY_NS, NULL, why, sizeof why), 1);
    r.status = KT_OS_OPEN;
    snprintf (r.broker_id, sizeof r.broker_id, "B%s", coid);
    assert_int_equal (kt_book_order_update (s_store, &r, DAY_NS, why, sizeof why), 0);
}

static void
s_fill (const char *coid, const char *trade, int64_t qty, int64_t px)
{
    struct kt_book_fill f;
    memset (&f, 0, sizeof f);
    snprintf (f.coid, sizeof f.coid, "%s", coid);
    snprintf (f.trade_id, sizeof f.trade_id, "%s", trade);
    f.qty = qty;
    f.price = px;
    f.ts_ns = DAY_NS + 1;
    struct kt_book_fill_result res;
    char why[128];
    assert_int_equal (kt_book_fill (s_store, &f, &res, why, sizeof why), 0);
}

static char *
s_file (const char *name)
{
    char path[256];
    snprintf (path, sizeof path, "%s/%08d/%s", s_dir, kt_ist_yyyymmdd (DAY_NS), name);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    static char buf[8192];
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose (f);
    return buf;
}

static int
s_lines (const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

static void
test_round_trip_once (void **state)
{
    (void) state;
    //  A short of 150 at 100.00 and 100.50 (R = Rs 1,500), stopped out at 104.00.
    s_order ("E1", KT_SIDE_SELL, KT_PURPOSE_ENTRY, 150, 150000, "");
    s_fill ("E1", "T1", 75, 10000);
    s_fill ("E1", "T2", 75, 10050);
    s_order ("E1-st", KT_SIDE_BUY, KT_PURPOSE_STOP, 150, 0, "STOP");
    s_fill ("E1-st", "T3", 150, 10400);
    s_fill ("E1-st", "T3", 150, 10400); //  a repeat: the book ignores it

    exec_journal_t *j = exec_journal_new (s_dir);
    char why[160];
    assert_true (exec_journal_step (j, s_store, DAY_NS, why, sizeof why) > 0);
    char *fills = s_file ("fills.csv");
    assert_int_equal (s_lines (fills), 1 + 3);
    assert_non_null (strstr (fills, ",E1,T1,NIFTY25N2524000CE,SELL,75,10000,75,PARTIAL,-75,0\n"));
    char *trades = s_file ("trades.csv");
    assert_int_equal (s_lines (trades), 2);
    //  P&L: sold 75 x 100 + 75 x 100.50, bought 150 x 104 = -56,250 paise; R -0.38.
    assert_non_null (strstr (trades,
                             ",NIFTY25N2524000CE,SHORT,150,1764000000000000001,1764000000000000001,"
                             "10025,10400,-56250,150000,-0.38,STOP,E1,E1-st\n"));
    char *orders = s_file ("orders.csv");
    int norders = s_lines (orders);
    assert_true (norders >= 1 + 4);
    assert_non_null (strstr (orders, ",E1-st,"));

    //  Again, and from a restarted journal: nothing repeated.
    assert_int_equal (exec_journal_step (j, s_store, DAY_NS, why, sizeof why), 0);
    exec_journal_destroy (&j);
    j = exec_journal_new (s_dir);
    assert_true (exec_journal_step (j, s_store, DAY_NS, why, sizeof why) >= 0);
    assert_int_equal (s_lines (s_file ("fills.csv")), 4);
    assert_int_equal (s_lines (s_file ("trades.csv")), 2);
    assert_int_equal (s_lines (s_file ("orders.csv")), norders);
    //  A new trip after the restart is journaled once, with the right entry.
    s_order ("E2", KT_SIDE_SELL, KT_PURPOSE_ENTRY, 75, 0, "");
    s_fill ("E2", "T4", 75, 9000);
    s_order ("X2", KT_SIDE_BUY, KT_PURPOSE_EXIT, 75, 0, "TIME");
    s_fill ("X2", "T5", 75, 8000);
    assert_true (exec_journal_step (j, s_store, DAY_NS, why, sizeof why) > 0);
    trades = s_file ("trades.csv");
    assert_int_equal (s_lines (trades), 3);
    assert_non_null (strstr (trades, ",SHORT,75,") && strstr (trades, ",75000,0,,TIME,E2,X2\n"));
    exec_journal_destroy (&j);
    //  Redis down: an error with its reason, nothing lost.
    j = exec_journal_new (s_dir);
    assert_int_equal (kt_testredis_kill (s_redis), 0);
    assert_int_equal (exec_journal_step (j, s_store, DAY_NS, why, sizeof why), -1);
    assert_non_null (strstr (why, "events"));
    exec_journal_destroy (&j);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip_once),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
