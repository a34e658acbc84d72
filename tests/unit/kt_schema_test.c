/*  kt_schema_test - key names, record <-> hash pairs for every field type, bad
 *  stored values, and docs/redis.md kept equal to the declarations. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_book.h"
#include "kt_schema.h"

static void
s_key_names (void **state)
{
    (void) state;
    struct kt_skey k = kt_schema_key ("kt:", &kt_key_order, "S1-0001");
    assert_string_equal (k.s, "kt:order:S1-0001");
    assert_int_equal (k.len, strlen ("kt:order:S1-0001"));
    k = kt_schema_key ("kt:", &kt_key_order_trades, "C%s");
    assert_string_equal (k.s, "kt:order:C%s:trades");
    k = kt_schema_key ("a%d:", &kt_key_positions, NULL);
    assert_string_equal (k.s, "a%d:positions");
    k = kt_schema_key (NULL, &kt_key_book, NULL);
    assert_string_equal (k.s, "book");
}

static void
s_pairs_round_trip (void **state)
{
    (void) state;
    struct kt_order_rec o, back;
    memset (&o, 0, sizeof o);
    memset (&back, 0, sizeof back);
    snprintf (o.coid, sizeof o.coid, "C1");
    snprintf (o.reason, sizeof o.reason, "a | b, c"); //  no packing: any text survives
    o.side = KT_SIDE_SELL;
    o.order_type = KT_OT_SLM;
    o.qty = -5;
    o.price = INT64_MAX;
    o.trigger = INT64_MIN;
    o.status = KT_OS_UNRESOLVED;
    struct kt_schema_pairs p;
    int n = kt_schema_pairs (&kt_key_order, &o, &p);
    assert_true (n > 20);
    char why[128];
    for (int i = 0; i < n; i++)
        assert_true (kt_schema_set (&kt_key_order, &back, p.argv[2 * i], p.argvlen[2 * i],
                                    p.argv[2 * i + 1], p.argvlen[2 * i + 1], why, sizeof why) == 0);
    assert_memory_equal (&o, &back, sizeof o);
    //  What a person reads with HGETALL.
    for (int i = 0; i < n; i++) {
        if (strcmp (p.argv[2 * i], "order_type") == 0)
            assert_string_equal (p.argv[2 * i + 1], "SL-M");
        if (strcmp (p.argv[2 * i], "product") == 0)
            assert_string_equal (p.argv[2 * i + 1], "");
    }
}

static void
s_bad_values_refused (void **state)
{
    (void) state;
    struct kt_order_rec o;
    memset (&o, 0, sizeof o);
    char why[128] = "";
    assert_int_equal (kt_schema_set (&kt_key_order, &o, "qty", 3, "12x", 3, why, sizeof why), -1);
    assert_non_null (strstr (why, "qty"));
    assert_int_equal (
        kt_schema_set (&kt_key_order, &o, "qty", 3, "99999999999999999999", 20, why, sizeof why),
        -1);
    assert_int_equal (kt_schema_set (&kt_key_order, &o, "qty", 3, "", 0, why, sizeof why), -1);
    assert_int_equal (kt_schema_set (&kt_key_order, &o, "side", 4, "SIDEWAYS", 8, why, sizeof why),
                      -1);
    char longsym[64];
    memset (longsym, 'A', sizeof longsym);
    assert_int_equal (
        kt_schema_set (&kt_key_order, &o, "sym", 3, longsym, sizeof longsym, why, sizeof why), -1);
    assert_int_equal (o.qty, 0);
    //  A field this reader does not know is ignored (a newer writer).
    assert_int_equal (kt_schema_set (&kt_key_order, &o, "future", 6, "x", 1, why, sizeof why), 1);
    assert_int_equal (kt_schema_set (&kt_key_order, &o, "qty", 3, "-42", 3, why, sizeof why), 0);
    assert_int_equal (o.qty, -42);
}

static void
s_every_key_declared_well (void **state)
{
    (void) state;
    int n;
    const kt_schema_key_t *const *all = kt_schema_all (&n);
    assert_true (n >= 10);
    for (int i = 0; i < n; i++) {
        assert_non_null (all[i]->owner);
        assert_non_null (all[i]->holds);
        assert_true (strlen (all[i]->pattern) < 32);
        //  Fields only for hashes and streams (an entry's fields).
        assert_true (!all[i]->fields || all[i]->type == KT_SK_HASH || all[i]->type == KT_SK_STREAM);
        for (int j = 0; j < i; j++)
            assert_string_not_equal (all[i]->pattern, all[j]->pattern);
        if (all[i]->fields)
            for (const kt_schema_field_t *f = all[i]->fields; f->name; f++) {
                assert_non_null (f->doc);
                assert_ptr_equal (kt_schema_field (all[i], f->name), f);
            }
    }
}

//  docs/redis.md holds the rendered tables between two markers; the declarations are
//  the truth, and a change to either without the other fails here.
static void
s_docs_match_declarations (void **state)
{
    (void) state;
    FILE *f = fopen ("docs/redis.md", "r");
    assert_non_null (f);
    static char doc[1 << 17];
    size_t len = fread (doc, 1, sizeof doc - 1, f);
    fclose (f);
    doc[len] = '\0';
    const char *begin = strstr (doc, "<!-- schema:begin -->\n");
    const char *end = strstr (doc, "<!-- schema:end -->");
    assert_non_null (begin);
    assert_non_null (end);
    begin += strlen ("<!-- schema:begin -->\n");
    char *want = kt_schema_markdown ();
    assert_non_null (want);
    size_t have_len = (size_t) (end - begin);
    if (have_len != strlen (want) || memcmp (begin, want, have_len) != 0) {
        FILE *o = fopen ("build/redis.md.expected", "w");
        if (o) {
            fputs (want, o);
            fclose (o);
        }
        free (want);
        fail_msg ("docs/redis.md differs from the declarations; the expected tables are in "
                  "build/redis.md.expected");
    }
    free (want);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (s_key_names),
        cmocka_unit_test (s_pairs_round_trip),
        cmocka_unit_test (s_bad_values_refused),
        cmocka_unit_test (s_every_key_declared_well),
        cmocka_unit_test (s_docs_match_declarations),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
