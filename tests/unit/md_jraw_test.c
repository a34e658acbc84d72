/*  md_jraw_test - raw JSON values: members found, absent and nested, arrays split,
 *  strings with escapes and brackets, malformed and cut text. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../md-gateway/md_jraw.h"

static void
test_member (void **state)
{
    (void) state;
    static const char t[] =
        " { \"a\" : 1.50 , \"s\": \"x\\\"}]\" , \"o\": {\"a\": [1, {\"b\": 2}]},"
        " \"n\": null }";
    const char *v;
    size_t n;
    assert_int_equal (md_jraw_member (t, strlen (t), "a", &v, &n), 0);
    assert_int_equal (n, 4);
    assert_memory_equal (v, "1.50", 4);
    assert_int_equal (md_jraw_member (t, strlen (t), "s", &v, &n), 0);
    assert_memory_equal (v, "\"x\\\"}]\"", n);
    assert_int_equal (md_jraw_member (t, strlen (t), "o", &v, &n), 0);
    assert_memory_equal (v, "{\"a\": [1, {\"b\": 2}]}", n);
    const char *inner;
    size_t in;
    assert_int_equal (md_jraw_member (v, n, "a", &inner, &in), 0);
    assert_memory_equal (inner, "[1, {\"b\": 2}]", in);
    assert_int_equal (md_jraw_member (t, strlen (t), "n", &v, &n), 0);
    assert_memory_equal (v, "null", 4);
    assert_int_equal (md_jraw_member (t, strlen (t), "b", &v, &n), 1);
    assert_int_equal (md_jraw_member ("{}", 2, "a", &v, &n), 1);
    assert_int_equal (md_jraw_member ("[1]", 3, "a", &v, &n), -1);
    assert_int_equal (md_jraw_member ("{\"a\" 1}", 7, "b", &v, &n), -1);
    //  Every prefix: an answer or an error, never a read past the end.
    for (size_t cut = 0; cut < strlen (t); cut++) {
        char *copy = malloc (cut ? cut : 1);
        memcpy (copy, t, cut);
        md_jraw_member (copy, cut, "zz", &v, &n);
        free (copy);
    }
}

static void
test_elems (void **state)
{
    (void) state;
    static const char t[] = "[ \"a,]\", 2 ,[3,[4]], {\"x\":\"]\"} ]";
    const char *e[8];
    size_t el[8], n;
    assert_int_equal (md_jraw_elems (t, strlen (t), e, el, 8, &n), 0);
    assert_int_equal (n, 4);
    assert_memory_equal (e[0], "\"a,]\"", el[0]);
    assert_memory_equal (e[1], "2", el[1]);
    assert_memory_equal (e[2], "[3,[4]]", el[2]);
    assert_memory_equal (e[3], "{\"x\":\"]\"}", el[3]);
    assert_int_equal (md_jraw_elems (t, strlen (t), e, el, 3, &n), -1);
    assert_int_equal (md_jraw_elems ("[]", 2, e, el, 8, &n), 0);
    assert_int_equal (n, 0);
    assert_int_equal (md_jraw_elems ("[1,", 3, e, el, 8, &n), -1);
    assert_int_equal (md_jraw_elems ("{}", 2, e, el, 8, &n), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_member),
        cmocka_unit_test (test_elems),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
