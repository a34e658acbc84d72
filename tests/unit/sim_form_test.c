/*  sim_form_test - kite-sim's urlencoded forms: percent-decoding (both hex cases, any
 *  byte but NUL, raw or escaped), '+' as a space, repeated keys in order, empty keys,
 *  values and segments, malformed escapes refused with the earlier pairs kept, the
 *  64-byte key limit (after decoding), long values, and a bounded walk over hostile
 *  inputs that must never crash (ASan watches). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../sim/sim.h"

static int
s_parse (struct sim_form *f, const char *text)
{
    return sim_form_parse (f, text, strlen (text));
}

static void
test_basic (void **state)
{
    (void) state;
    struct sim_form f = { 0 };
    assert_int_equal (s_parse (&f, "tradingsymbol=NIFTY25N1824000CE&quantity=75&price=101.5"),
                      0);
    assert_int_equal (f.count, 3);
    assert_string_equal (sim_form_get (&f, "tradingsymbol"), "NIFTY25N1824000CE");
    assert_string_equal (sim_form_get (&f, "quantity"), "75");
    assert_string_equal (sim_form_get (&f, "price"), "101.5");
    assert_null (sim_form_get (&f, "Price"));       //  keys are case-sensitive
    assert_null (sim_form_get (&f, "pric"));
    assert_null (sim_form_get (&f, ""));
    //  Parsing appends to what is there.
    assert_int_equal (s_parse (&f, "tag=x"), 0);
    assert_int_equal (f.count, 4);
    assert_string_equal (f.pairs[3].key, "tag");
    sim_form_clear (&f);
    assert_int_equal (f.count, 0);
    assert_null (f.pairs);
    assert_null (sim_form_get (&f, "tag"));
    //  Clear twice and an empty parse are harmless.
    sim_form_clear (&f);
    assert_int_equal (sim_form_parse (&f, "", 0), 0);
    assert_int_equal (f.count, 0);
    //  Only len bytes are read: the text need not be NUL-terminated.
    assert_int_equal (sim_form_parse (&f, "a=12345", 4), 0);
    assert_string_equal (sim_form_get (&f, "a"), "12");
    sim_form_clear (&f);
}

static void
test_decoding (void **state)
{
    (void) state;
    struct sim_form f = { 0 };
    assert_int_equal (s_parse (&f, "i=NSE%3AINFY&s=a+b%20c&h=%7e%7E&p=%2B1&u=%E2%82%B9"
                                   "&k%5B0%5D=v&amp=%26%3D"), 0);
    assert_string_equal (sim_form_get (&f, "i"), "NSE:INFY");
    assert_string_equal (sim_form_get (&f, "s"), "a b c");
    assert_string_equal (sim_form_get (&f, "h"), "~~");
    assert_string_equal (sim_form_get (&f, "p"), "+1");     //  an encoded '+' stays '+'
    assert_string_equal (sim_form_get (&f, "u"), "\xE2\x82\xB9");   //  bytes, not checked
    assert_string_equal (sim_form_get (&f, "k[0]"), "v");   //  keys decode too
    assert_string_equal (sim_form_get (&f, "amp"), "&=");   //  encoded separators are data
    sim_form_clear (&f);
    //  A '+' in a key is a space as well.
    assert_int_equal (s_parse (&f, "a+b=1"), 0);
    assert_string_equal (sim_form_get (&f, "a b"), "1");
    sim_form_clear (&f);
    //  An escape exactly at the end of the text.
    assert_int_equal (s_parse (&f, "x=%41"), 0);
    assert_string_equal (sim_form_get (&f, "x"), "A");
    sim_form_clear (&f);
    //  %FF and %01: any byte but NUL.
    assert_int_equal (s_parse (&f, "x=%FF%01"), 0);
    assert_int_equal (strlen (sim_form_get (&f, "x")), 2);
    assert_int_equal ((unsigned char) sim_form_get (&f, "x")[0], 0xFF);
    sim_form_clear (&f);
}

static void
test_repeated_and_empty (void **state)
{
    (void) state;
    struct sim_form f = { 0 };
    assert_int_equal (s_parse (&f, "i=NSE:INFY&&i=NFO:NIFTY25N1824000CE&=orphan&flag&e=&"
                                   "i=&a=1=2&"), 0);
    assert_int_equal (f.count, 7);
    //  Repeated keys keep their order; get returns the first.
    assert_string_equal (sim_form_get (&f, "i"), "NSE:INFY");
    assert_string_equal (f.pairs[0].val, "NSE:INFY");
    assert_string_equal (f.pairs[1].val, "NFO:NIFTY25N1824000CE");
    assert_string_equal (f.pairs[5].key, "i");
    assert_string_equal (f.pairs[5].val, "");
    //  "&&" and the trailing '&' make no pairs; "=orphan" has an empty key.
    assert_string_equal (f.pairs[2].key, "");
    assert_string_equal (f.pairs[2].val, "orphan");
    assert_string_equal (sim_form_get (&f, ""), "orphan");
    //  A key without '=' and a key with "=" both have an empty value (present, not NULL).
    assert_non_null (sim_form_get (&f, "flag"));
    assert_string_equal (sim_form_get (&f, "flag"), "");
    assert_string_equal (sim_form_get (&f, "e"), "");
    //  Only the first '=' splits.
    assert_string_equal (sim_form_get (&f, "a"), "1=2");
    sim_form_clear (&f);
    assert_int_equal (s_parse (&f, "&&&&"), 0);
    assert_int_equal (f.count, 0);
    sim_form_clear (&f);
}

static void
test_malformed (void **state)
{
    (void) state;
    static const char *const bad[] = {
        "x=%", "x=%4", "x=%4G", "x=%G4", "x=%%41", "x=% 41", "x=%-1", "x=%+1",
        "%=1", "%4=1", "k%zz=1", "x=%00", "k%00x=1", "x=a%00b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sim_form f = { 0 };
        assert_int_equal (s_parse (&f, bad[i]), -1);
        assert_int_equal (f.count, 0);
        sim_form_clear (&f);
    }
    //  The pairs before the bad one stay, nothing after it is read.
    struct sim_form f = { 0 };
    assert_int_equal (s_parse (&f, "a=1&b=2&c=%zz&d=4"), -1);
    assert_int_equal (f.count, 2);
    assert_string_equal (sim_form_get (&f, "b"), "2");
    assert_null (sim_form_get (&f, "c"));
    assert_null (sim_form_get (&f, "d"));
    sim_form_clear (&f);
    //  An escape cut by len is incomplete even if the buffer goes on.
    assert_int_equal (sim_form_parse (&f, "x=%41", 4), -1);
    sim_form_clear (&f);
    //  A raw NUL byte inside the text is refused like %00.
    assert_int_equal (sim_form_parse (&f, "a=1&k\0x=2", 9), -1);
    assert_int_equal (f.count, 1);
    sim_form_clear (&f);
    //  A '%' at the end of a pair does not borrow the next pair's bytes.
    assert_int_equal (s_parse (&f, "x=%&41=y"), -1);
    sim_form_clear (&f);
    assert_int_equal (s_parse (&f, "x=%4&1=y"), -1);
    sim_form_clear (&f);
}

static void
test_limits (void **state)
{
    (void) state;
    struct sim_form f = { 0 };
    char text[8192];
    //  Keys: 64 bytes accepted, 65 refused.
    memset (text, 'k', 64);
    strcpy (text + 64, "=v");
    assert_int_equal (s_parse (&f, text), 0);
    assert_int_equal (f.count, 1);
    assert_int_equal (strlen (f.pairs[0].key), 64);
    memset (text, 'k', 65);
    strcpy (text + 65, "=v");
    assert_int_equal (s_parse (&f, text), -1);
    assert_int_equal (f.count, 1);
    sim_form_clear (&f);
    //  The limit is on the decoded key: 64 x "%41" (192 bytes) is 64 bytes.
    size_t n = 0;
    for (int i = 0; i < 64; i++)
        n += (size_t) sprintf (text + n, "%%41");
    strcpy (text + n, "=v");
    assert_int_equal (s_parse (&f, text), 0);
    assert_int_equal (strlen (f.pairs[0].key), 64);
    sim_form_clear (&f);
    sprintf (text + n, "%%41=v");
    assert_int_equal (s_parse (&f, text), -1);
    sim_form_clear (&f);
    //  sim_form_add has the same limit and copies exactly len bytes.
    assert_int_equal (sim_form_add (&f, "abcdef", 3, "xyz123", 3), 0);
    assert_string_equal (sim_form_get (&f, "abc"), "xyz");
    memset (text, 'q', 65);
    assert_int_equal (sim_form_add (&f, text, 65, "v", 1), -1);
    assert_int_equal (sim_form_add (&f, text, 64, "", 0), 0);
    assert_int_equal (f.count, 2);
    sim_form_clear (&f);
    //  Values have no length limit of their own (the HTTP layer bounds the body).
    size_t big = 1 << 20;
    char *body = malloc (big + 3);
    assert_non_null (body);
    memcpy (body, "v=", 2);
    memset (body + 2, 'z', big);
    body[big + 2] = '\0';
    assert_int_equal (sim_form_parse (&f, body, big + 2), 0);
    assert_int_equal (strlen (sim_form_get (&f, "v")), big);
    sim_form_clear (&f);
    //  Many pairs: the array grows, order kept.
    n = 0;
    for (int i = 0; i < 600; i++)
        n += (size_t) sprintf (text + n, "%si=%d", i? "&": "", i);
    assert_true (n < sizeof text);
    assert_int_equal (s_parse (&f, text), 0);
    assert_int_equal (f.count, 600);
    assert_string_equal (f.pairs[599].val, "599");
    assert_string_equal (f.pairs[0].val, "0");
    sim_form_clear (&f);
    free (body);
}

//  Every short string over a hostile alphabet: never crashes, and on success every
//  pair is a proper C string whose key fits the limit.
static void
test_hostile (void **state)
{
    (void) state;
    static const char alpha[] = { '%', '=', '&', '+', '0', 'a', 'F', 'g', '\0', '\xff' };
    const int k = (int) sizeof alpha, len = 5;
    int total = 1;
    for (int i = 0; i < len; i++)
        total *= k;
    char text[8];
    int ok = 0, bad = 0;
    for (int v = 0; v < total; v++) {
        int x = v;
        for (int i = 0; i < len; i++) {
            text[i] = alpha[x % k];
            x /= k;
        }
        struct sim_form f = { 0 };
        int rc = sim_form_parse (&f, text, (size_t) len);
        assert_true (rc == 0 || rc == -1);
        if (memchr (text, '\0', (size_t) len))
            assert_int_equal (rc, -1);
        for (size_t i = 0; i < f.count; i++) {
            assert_true (strlen (f.pairs[i].key) <= 64);
            assert_true (strlen (f.pairs[i].val) <= (size_t) len);
        }
        ok += rc == 0;
        bad += rc != 0;
        sim_form_clear (&f);
    }
    assert_true (ok > 0 && bad > 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_basic),     cmocka_unit_test (test_decoding),
        cmocka_unit_test (test_repeated_and_empty), cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_limits),    cmocka_unit_test (test_hostile),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
