/*  kt_log_test - the JSON-lines logger through a capture sink and through stderr.
 *
 *  Every line is parsed back with cJSON, so "valid JSON" is checked, not assumed:
 *  escaping, invalid UTF-8, truncation at the buffer limit, masked secrets, the level
 *  check happening before arguments are evaluated, and the rate-limited variant. */

#include "kt_log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_LINES 8

static struct {
    char lines[MAX_LINES][KT_LOG_LINE_MAX];
    char evs[MAX_LINES][64];
    kt_log_level_t lvls[MAX_LINES];
    int count;
} s_cap;

static void
s_sink (kt_log_level_t lvl, const char *ev, const char *line, void *arg)
{
    assert_ptr_equal (arg, &s_cap);
    if (s_cap.count < MAX_LINES) {
        snprintf (s_cap.lines[s_cap.count], KT_LOG_LINE_MAX, "%s", line);
        snprintf (s_cap.evs[s_cap.count], 64, "%s", ev);
        s_cap.lvls[s_cap.count] = lvl;
    }
    s_cap.count++;
}

static int
s_setup (void **state)
{
    (void)state;
    memset (&s_cap, 0, sizeof s_cap);
    kt_log_open ("kt_log_test", KT_LOG_DEBUG);
    kt_log_set_sink (s_sink, &s_cap);
    kt_log_set_clock (NULL, NULL);
    kt_log_secret_clear ();
    return 0;
}

static int
s_teardown (void **state)
{
    (void)state;
    kt_log_set_sink (NULL, NULL);
    kt_log_secret_clear ();
    return 0;
}

//  Parse captured line i; fails the test if it is not one JSON object.
static cJSON *
s_parse (int i)
{
    assert_true (i < s_cap.count);
    assert_null (strchr (s_cap.lines[i], '\n'));
    cJSON *json = cJSON_Parse (s_cap.lines[i]);
    assert_non_null (json);
    assert_true (cJSON_IsObject (json));
    return json;
}

static const char *
s_str (cJSON *json, const char *key)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive (json, key);
    assert_non_null (item);
    assert_true (cJSON_IsString (item));
    return item->valuestring;
}

static double
s_num (cJSON *json, const char *key)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive (json, key);
    assert_non_null (item);
    assert_true (cJSON_IsNumber (item));
    return item->valuedouble;
}

//  Strict UTF-8 check of a whole line (cJSON does not validate it).
static bool
s_valid_utf8 (const unsigned char *p)
{
    while (*p) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int n = (*p >= 0xC2 && *p <= 0xDF)   ? 2
                : (*p >= 0xE0 && *p <= 0xEF) ? 3
                : (*p >= 0xF0 && *p <= 0xF4) ? 4
                                             : 0;
        if (n == 0)
            return false;
        unsigned int cp = *p & (0xFF >> (n + 1));
        for (int i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n;
    }
    return true;
}

static void
test_fields_and_order (void **state)
{
    (void)state;
    kt_log_info ("risk.block", KT_S ("intent_id", "S1-0007"), KT_S ("reason", "MAX_POS"),
                 KT_I ("qty", 75), KT_B ("ok", false), KT_END);
    assert_int_equal (s_cap.count, 1);
    assert_int_equal (s_cap.lvls[0], KT_LOG_INFO);
    assert_string_equal (s_cap.evs[0], "risk.block");
    cJSON *json = s_parse (0);
    const char *want[] = {"ts", "lvl", "proc", "pid", "ev", "intent_id", "reason", "qty", "ok"};
    int n = 0;
    for (cJSON *it = json->child; it; it = it->next, n++) {
        assert_true (n < 9);
        assert_string_equal (it->string, want[n]);
    }
    assert_int_equal (n, 9);
    const char *ts = s_str (json, "ts");
    //  2025-11-24T03:47:12.123456Z
    assert_int_equal (strlen (ts), 27);
    assert_true (ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' &&
                 ts[19] == '.' && ts[26] == 'Z');
    assert_true (strncmp (ts, "20", 2) == 0);
    assert_string_equal (s_str (json, "lvl"), "info");
    assert_string_equal (s_str (json, "proc"), "kt_log_test");
    assert_int_equal ((int)s_num (json, "pid"), getpid ());
    assert_string_equal (s_str (json, "ev"), "risk.block");
    assert_string_equal (s_str (json, "intent_id"), "S1-0007");
    assert_int_equal ((int)s_num (json, "qty"), 75);
    assert_true (cJSON_IsFalse (cJSON_GetObjectItem (json, "ok")));
    cJSON_Delete (json);
}

static void
test_value_types (void **state)
{
    (void)state;
    kt_log_warn ("types", KT_I ("min", INT64_MIN), KT_I ("max", INT64_MAX), KT_I ("zero", 0),
                 KT_D ("tenth", 0.1), KT_D ("nan", NAN), KT_D ("inf", -INFINITY),
                 KT_S ("null", NULL), KT_B ("yes", true), KT_END);
    assert_int_equal (s_cap.count, 1);
    //  Integers are exact in the text (a double would round them).
    assert_non_null (strstr (s_cap.lines[0], "\"min\":-9223372036854775808,"));
    assert_non_null (strstr (s_cap.lines[0], "\"max\":9223372036854775807,"));
    assert_non_null (strstr (s_cap.lines[0], "\"zero\":0,"));
    assert_non_null (strstr (s_cap.lines[0], "\"tenth\":0.1,"));
    cJSON *json = s_parse (0);
    assert_string_equal (s_str (json, "lvl"), "warn");
    assert_true (cJSON_IsNull (cJSON_GetObjectItem (json, "nan")));
    assert_true (cJSON_IsNull (cJSON_GetObjectItem (json, "inf")));
    assert_true (cJSON_IsNull (cJSON_GetObjectItem (json, "null")));
    assert_true (cJSON_IsTrue (cJSON_GetObjectItem (json, "yes")));
    cJSON_Delete (json);

    kt_log_error ("no.fields", KT_END);
    kt_log_emit (KT_LOG_ERROR, "null.kv", NULL);
    assert_int_equal (s_cap.count, 3);
    json = s_parse (1);
    assert_string_equal (s_str (json, "lvl"), "error");
    cJSON_Delete (json);
    json = s_parse (2);
    assert_string_equal (s_str (json, "ev"), "null.kv");
    cJSON_Delete (json);
}

static void
test_escaping (void **state)
{
    (void)state;
    const char *nasty = "q\"b\\s/n\nr\rt\tc\x01\x1f"
                        "d\x7f"
                        "e";
    kt_log_info ("esc", KT_S ("v", nasty), KT_S ("k\"ey", "x"), KT_END);
    cJSON *json = s_parse (0);
    assert_string_equal (s_str (json, "v"), nasty);
    assert_string_equal (s_str (json, "k\"ey"), "x");
    assert_non_null (strstr (s_cap.lines[0], "\\u0001"));
    assert_non_null (strstr (s_cap.lines[0], "\\u001f"));
    cJSON_Delete (json);
}

static void
test_utf8 (void **state)
{
    (void)state;
    //  Valid multi-byte text passes through unchanged.
    kt_log_info ("utf8.ok", KT_S ("v", "₹ 24000 — नमस्ते 😀"), KT_END);
    cJSON *json = s_parse (0);
    assert_string_equal (s_str (json, "v"), "₹ 24000 — नमस्ते 😀");
    cJSON_Delete (json);

    //  Invalid bytes (stray continuation, 0xFF, overlong '/', a UTF-16 surrogate, a
    //  code point above U+10FFFF, a truncated sequence at the end) become U+FFFD.
    const char *bad[] = {
        "a\x80z", "a\xffz", "a\xc0\xafz", "a\xed\xa0\x80z", "a\xf4\x90\x80\x80z", "az\xe2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kt_log_info ("utf8.bad", KT_S ("v", bad[i]), KT_END);
        int at = s_cap.count - 1;
        assert_true (s_valid_utf8 ((const unsigned char *)s_cap.lines[at]));
        json = s_parse (at);
        const char *v = s_str (json, "v");
        assert_non_null (strstr (v, "\xEF\xBF\xBD"));
        assert_true (v[0] == 'a');
        cJSON_Delete (json);
    }
}

static void
test_secrets_masked (void **state)
{
    (void)state;
    assert_int_equal (kt_log_secret_add ("tok_9f8e7d6c5b4a"), 0);
    assert_int_equal (kt_log_secret_add (""), 0); //  ignored, masks nothing
    assert_int_equal (kt_log_secret_add (NULL), 0);
    kt_log_warn ("http.req", KT_S ("auth", "token apikey:tok_9f8e7d6c5b4a"),
                 KT_S ("exact", "tok_9f8e7d6c5b4a"), KT_S ("other", "tok_9f8e7d6c5b4"),
                 KT_I ("n", 1), KT_END);
    cJSON *json = s_parse (0);
    assert_string_equal (s_str (json, "auth"), "***");
    assert_string_equal (s_str (json, "exact"), "***");
    assert_string_equal (s_str (json, "other"), "tok_9f8e7d6c5b4"); //  not the secret
    assert_null (strstr (s_cap.lines[0], "tok_9f8e7d6c5b4a"));
    cJSON_Delete (json);

    //  A secret longer than the slot is still masked (matched on its prefix).
    char longsecret[600];
    memset (longsecret, 'S', sizeof longsecret - 1);
    longsecret[sizeof longsecret - 1] = '\0';
    assert_int_equal (kt_log_secret_add (longsecret), 0);
    kt_log_warn ("long", KT_S ("v", longsecret), KT_END);
    json = s_parse (1);
    assert_string_equal (s_str (json, "v"), "***");
    cJSON_Delete (json);

    kt_log_secret_clear ();
    kt_log_warn ("after.clear", KT_S ("v", "tok_9f8e7d6c5b4a"), KT_END);
    json = s_parse (2);
    assert_string_equal (s_str (json, "v"), "tok_9f8e7d6c5b4a");
    cJSON_Delete (json);

    //  The table is bounded; adding one too many is an error, not an overflow.
    char name[32];
    int rc = 0;
    for (int i = 0; i < KT_LOG_SECRETS && rc == 0; i++) {
        snprintf (name, sizeof name, "secret-%d", i);
        rc = kt_log_secret_add (name);
    }
    assert_int_equal (rc, 0);
    assert_int_equal (kt_log_secret_add ("one-too-many"), -1);
    assert_int_equal (kt_log_secret_add ("secret-3"), 0); //  already known: fine
}

static int s_evaluations;

static int64_t
s_count_eval (void)
{
    return ++s_evaluations;
}

static void
test_threshold_skips_evaluation (void **state)
{
    (void)state;
    s_evaluations = 0;
    kt_log_open ("kt_log_test", KT_LOG_INFO);
    kt_log_debug ("dbg", KT_I ("n", s_count_eval ()), KT_END);
    assert_int_equal (s_evaluations, 0);
    assert_int_equal (s_cap.count, 0);
    kt_log_info ("inf", KT_I ("n", s_count_eval ()), KT_END);
    assert_int_equal (s_evaluations, 1);
    assert_int_equal (s_cap.count, 1);

    kt_log_open ("kt_log_test", KT_LOG_ERROR);
    kt_log_warn ("w", KT_I ("n", s_count_eval ()), KT_END);
    kt_log_warn_every ("we", 1, KT_I ("n", s_count_eval ()), KT_END);
    assert_int_equal (s_evaluations, 1);
    assert_int_equal (s_cap.count, 1);
    //  Calling emit directly below the threshold writes nothing either.
    kt_log_emit (KT_LOG_WARN, "direct", NULL);
    assert_int_equal (s_cap.count, 1);

    kt_log_open ("kt_log_test", KT_LOG_OFF);
    kt_log_error ("e", KT_I ("n", s_count_eval ()), KT_END);
    assert_int_equal (s_evaluations, 1);
    assert_int_equal (s_cap.count, 1);
    kt_log_emit ((kt_log_level_t)7, "bogus.level", NULL);
    assert_int_equal (s_cap.count, 1);
}

static void
test_level_parse (void **state)
{
    (void)state;
    assert_int_equal (kt_log_level_parse ("debug"), KT_LOG_DEBUG);
    assert_int_equal (kt_log_level_parse ("info"), KT_LOG_INFO);
    assert_int_equal (kt_log_level_parse ("warn"), KT_LOG_WARN);
    assert_int_equal (kt_log_level_parse ("error"), KT_LOG_ERROR);
    assert_int_equal (kt_log_level_parse ("off"), KT_LOG_OFF);
    assert_int_equal (kt_log_level_parse ("WARN"), -1);
    assert_int_equal (kt_log_level_parse (""), -1);
    assert_int_equal (kt_log_level_parse (NULL), -1);
}

static void
s_assert_truncated_valid (int i)
{
    assert_true (strlen (s_cap.lines[i]) < KT_LOG_LINE_MAX);
    assert_true (s_valid_utf8 ((const unsigned char *)s_cap.lines[i]));
    cJSON *json = s_parse (i);
    assert_true (cJSON_IsTrue (cJSON_GetObjectItem (json, "trunc")));
    assert_string_equal (s_str (json, "ev"), "big");
    cJSON_Delete (json);
}

static void
test_truncation_keeps_valid_json (void **state)
{
    (void)state;
    static char big[3 * KT_LOG_LINE_MAX];
    //  Plain bytes, characters that need 2-byte and 6-byte escapes, 3-byte UTF-8 and
    //  4-byte UTF-8: the cut must never split an escape or a character.
    const char *units[] = {"x", "\"", "\x01", "€", "😀"};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ulen = strlen (units[u]), n = 0;
        while (n + ulen < sizeof big) {
            memcpy (big + n, units[u], ulen);
            n += ulen;
        }
        big[n] = '\0';
        s_cap.count = 0;
        kt_log_info ("big", KT_S ("a", "first"), KT_S ("big", big), KT_I ("after", 1), KT_END);
        assert_int_equal (s_cap.count, 1);
        s_assert_truncated_valid (0);
        cJSON *json = s_parse (0);
        assert_string_equal (s_str (json, "a"), "first");
        const char *v = s_str (json, "big");
        assert_true (strlen (v) > 600); //  6-byte escapes: 4 KiB / 6
        assert_int_equal (strlen (v) % ulen, 0);
        assert_null (cJSON_GetObjectItem (json, "after")); //  cut stops the line
        cJSON_Delete (json);
    }

    //  Many small fields: cut at a field boundary.
    kt_kv_t kv[600];
    char keys[599][16];
    for (int i = 0; i < 599; i++) {
        snprintf (keys[i], sizeof keys[i], "k%d", i);
        kv[i] = KT_I (keys[i], 1234567890123LL);
    }
    kv[599] = KT_END;
    s_cap.count = 0;
    kt_log_emit (KT_LOG_INFO, "big", kv);
    s_assert_truncated_valid (0);

    //  A key longer than the line: the field is dropped, the line stays valid.
    memset (big, 'K', KT_LOG_LINE_MAX + 10);
    big[KT_LOG_LINE_MAX + 10] = '\0';
    s_cap.count = 0;
    kt_log_info ("big", KT_S ("a", "first"), KT_S (big, "v"), KT_END);
    s_assert_truncated_valid (0);

    //  A line that fits exactly is not marked truncated.
    s_cap.count = 0;
    kt_log_info ("small", KT_S ("a", "b"), KT_END);
    cJSON *json = s_parse (0);
    assert_null (cJSON_GetObjectItem (json, "trunc"));
    cJSON_Delete (json);
}

static int64_t
s_fake_clock (void *arg)
{
    return *(int64_t *)arg;
}

static void
test_clock_field (void **state)
{
    (void)state;
    int64_t now = 1732420032123456789LL;
    kt_log_set_clock (s_fake_clock, &now);
    kt_log_info ("with.clk", KT_I ("n", 1), KT_END);
    kt_log_set_clock (NULL, NULL);
    kt_log_info ("without.clk", KT_END);
    assert_non_null (strstr (s_cap.lines[0], ",\"clk\":1732420032123456789}"));
    cJSON *json = s_parse (1);
    assert_null (cJSON_GetObjectItem (json, "clk"));
    cJSON_Delete (json);
}

static void
test_emit_every (void **state)
{
    (void)state;
    int64_t last = 0;
    for (int i = 0; i < 3; i++)
        kt_log_emit_every (KT_LOG_WARN, "every", 60, &last, (kt_kv_t[]){KT_END});
    assert_int_equal (s_cap.count, 1);
    assert_true (last != 0);
    last -= 61LL * 1000000000LL; //  as if the last line was 61 s ago
    kt_log_emit_every (KT_LOG_WARN, "every", 60, &last, (kt_kv_t[]){KT_END});
    assert_int_equal (s_cap.count, 2);

    //  The macro keeps one state per call site.
    for (int i = 0; i < 5; i++)
        kt_log_warn_every ("every.macro", 3600, KT_I ("i", i), KT_END);
    assert_int_equal (s_cap.count, 3);
    cJSON *json = s_parse (2);
    assert_int_equal ((int)s_num (json, "i"), 0);
    cJSON_Delete (json);
}

static void
test_proc_name_and_errno (void **state)
{
    (void)state;
    char longname[100];
    memset (longname, 'p', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    kt_log_open (longname, KT_LOG_DEBUG);
    errno = ENOSPC;
    kt_log_info ("errno", KT_END);
    assert_int_equal (errno, ENOSPC); //  callers log and then read errno
    cJSON *json = s_parse (0);
    assert_int_equal (strlen (s_str (json, "proc")), 63);
    cJSON_Delete (json);
    kt_log_open ("kt_log_test", KT_LOG_DEBUG);
}

static void
test_stderr_one_line (void **state)
{
    (void)state;
    kt_log_set_sink (NULL, NULL);
    int p[2];
    assert_int_equal (pipe (p), 0);
    int saved = dup (STDERR_FILENO);
    assert_true (saved >= 0);
    assert_int_equal (dup2 (p[1], STDERR_FILENO), STDERR_FILENO);
    kt_log_info ("to.stderr", KT_S ("msg", "line\nbreak"), KT_END);
    kt_log_info ("second", KT_END);
    assert_int_equal (dup2 (saved, STDERR_FILENO), STDERR_FILENO);
    close (saved);
    close (p[1]);
    char buf[KT_LOG_LINE_MAX * 2];
    size_t n = 0;
    ssize_t r;
    while ((r = read (p[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close (p[0]);
    buf[n] = '\0';
    //  Exactly two lines, each one JSON object (the embedded newline is escaped).
    char *nl = strchr (buf, '\n');
    assert_non_null (nl);
    *nl = '\0';
    cJSON *json = cJSON_Parse (buf);
    assert_non_null (json);
    assert_string_equal (s_str (json, "msg"), "line\nbreak");
    cJSON_Delete (json);
    char *second = nl + 1;
    nl = strchr (second, '\n');
    assert_non_null (nl);
    assert_int_equal (nl[1], '\0');
    *nl = '\0';
    json = cJSON_Parse (second);
    assert_non_null (json);
    assert_string_equal (s_str (json, "ev"), "second");
    cJSON_Delete (json);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_fields_and_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_value_types, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_escaping, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_utf8, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_secrets_masked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_threshold_skips_evaluation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_level_parse, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_truncation_keeps_valid_json, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_clock_field, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_emit_every, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_proc_name_and_errno, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stderr_one_line, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
