/*  alert_group_test - what makes two alerts the same: a halt for REJECTS is never the
 *  group of a halt for KILL; changing counts in one text are; symbols are not. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../alerter/alert.h"

static void
s_group (const char *src, kt_severity_t sev, const char *key, const char *text, char *out)
{
    alert_group_of (src, sev, key, text, out);
    assert_true (strlen (out) < ALERT_GROUP_LEN);
}

static void
test_reasons_and_symbols_differ (void **state)
{
    (void) state;
    char a[ALERT_GROUP_LEN], b[ALERT_GROUP_LEN];
    s_group ("risk-gate", KT_SEV_CRITICAL, "risk.halt",
             "TRADING HALTED (KILL): operator. Pending entries cancelled", a);
    s_group ("risk-gate", KT_SEV_CRITICAL, "risk.halt",
             "TRADING HALTED (REJECTS): 5 rejects in 600 s. Pending entries cancelled", b);
    assert_string_not_equal (a, b);
    assert_int_equal (strncmp (a, "risk.halt:", 10), 0);
    s_group ("exec-gateway", KT_SEV_CRITICAL, "recon.mismatch",
             "NIFTY25N1824000CE: broker 75, ours 150", a);
    s_group ("exec-gateway", KT_SEV_CRITICAL, "recon.mismatch",
             "NIFTY25N1824050CE: broker 75, ours 150", b);
    assert_string_not_equal (a, b);
}

static void
test_changing_numbers_are_one_group (void **state)
{
    (void) state;
    char a[ALERT_GROUP_LEN], b[ALERT_GROUP_LEN];
    s_group ("risk-gate", KT_SEV_CRITICAL, "risk.halt",
             "TRADING HALTED (REJECTS): 5 rejects in 600 s", a);
    s_group ("risk-gate", KT_SEV_CRITICAL, "risk.halt",
             "TRADING HALTED (REJECTS): 17 rejects in 600 s", b);
    assert_string_equal (a, b);
    s_group ("md-gateway", KT_SEV_WARNING, "md.silent", "feed silent for 12.5 s", a);
    s_group ("md-gateway", KT_SEV_WARNING, "md.silent", "feed silent for 31.25 s", b);
    assert_string_equal (a, b);
}

static void
test_src_severity_key_count (void **state)
{
    (void) state;
    char a[ALERT_GROUP_LEN], b[ALERT_GROUP_LEN];
    s_group ("md-gateway", KT_SEV_WARNING, "redis.down", "Redis unreachable", a);
    s_group ("risk-gate", KT_SEV_WARNING, "redis.down", "Redis unreachable", b);
    assert_string_not_equal (a, b);
    s_group ("md-gateway", KT_SEV_CRITICAL, "redis.down", "Redis unreachable", b);
    assert_string_not_equal (a, b);
    s_group ("md-gateway", KT_SEV_WARNING, "redis.gone", "Redis unreachable", b);
    assert_string_not_equal (a, b);
    //  Odd keys become Redis-safe; a long key is cut, the hash still tells texts apart.
    char key[KT_KEY_LEN];
    memset (key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    key[3] = ' ';
    s_group ("x", KT_SEV_INFO, key, "one", a);
    s_group ("x", KT_SEV_INFO, key, "two", b);
    assert_null (strchr (a, ' '));
    assert_string_not_equal (a, b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reasons_and_symbols_differ),
        cmocka_unit_test (test_changing_numbers_are_one_group),
        cmocka_unit_test (test_src_severity_key_count),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
