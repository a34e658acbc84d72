/*  alert_route_test - severities to channels: parsing, settings, only enabled ones. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../alerter/alert.h"

#define S_BIT(c) (1u << (c))

static struct alert_cfg
s_cfg (void)
{
    struct alert_cfg c = {0};
    snprintf (c.route_critical, sizeof c.route_critical, "log,telegram,webhook,email");
    snprintf (c.route_warning, sizeof c.route_warning, "log, webhook");
    snprintf (c.route_info, sizeof c.route_info, "log");
    return c;
}

static void
test_parse (void **state)
{
    (void) state;
    unsigned m;
    char err[128];
    assert_int_equal (alert_route_parse ("log,telegram", &m, err, sizeof err), 0);
    assert_int_equal (m, S_BIT (ALERT_CH_LOG) | S_BIT (ALERT_CH_TELEGRAM));
    assert_int_equal (alert_route_parse (" email , webhook ", &m, err, sizeof err), 0);
    assert_int_equal (m, S_BIT (ALERT_CH_EMAIL) | S_BIT (ALERT_CH_WEBHOOK));
    assert_int_equal (alert_route_parse ("log,sms", &m, err, sizeof err), -1);
    assert_non_null (strstr (err, "unknown channel \"sms\""));
    assert_int_equal (alert_route_parse ("log,log", &m, err, sizeof err), -1);
    assert_non_null (strstr (err, "twice"));
    assert_int_equal (alert_route_parse ("", &m, err, sizeof err), -1);
    assert_string_equal (alert_route_name (ALERT_CH_EMAIL), "email");
    assert_string_equal (alert_route_name (ALERT_CH_COUNT), "?");
}

static void
test_check_and_mask (void **state)
{
    (void) state;
    struct alert_cfg c = s_cfg ();
    unsigned en;
    char err[128];
    assert_int_equal (alert_route_check (&c, &en, err, sizeof err), 0);
    assert_int_equal (en, S_BIT (ALERT_CH_LOG));
    //  Nothing set up: CRITICAL reaches the log only.
    assert_int_equal (alert_route_mask (&c, KT_SEV_CRITICAL, en), S_BIT (ALERT_CH_LOG));
    snprintf (c.telegram_token, sizeof c.telegram_token, "123:abc");
    assert_int_equal (alert_route_check (&c, &en, err, sizeof err), -1);
    assert_non_null (strstr (err, "telegram_chat_id"));
    snprintf (c.telegram_chat_id, sizeof c.telegram_chat_id, "-100");
    snprintf (c.webhook_url, sizeof c.webhook_url, "https://hooks.example/x");
    snprintf (c.smtp_url, sizeof c.smtp_url, "smtp://mail.example:587");
    assert_int_equal (alert_route_check (&c, &en, err, sizeof err), -1);
    assert_non_null (strstr (err, "smtp_from"));
    snprintf (c.smtp_from, sizeof c.smtp_from, "kt@example");
    snprintf (c.smtp_to, sizeof c.smtp_to, "ops@example");
    assert_int_equal (alert_route_check (&c, &en, err, sizeof err), 0);
    assert_int_equal (en, 0xF);
    assert_int_equal (alert_route_mask (&c, KT_SEV_CRITICAL, en), 0xF);
    assert_int_equal (alert_route_mask (&c, KT_SEV_WARNING, en),
                      S_BIT (ALERT_CH_LOG) | S_BIT (ALERT_CH_WEBHOOK));
    assert_int_equal (alert_route_mask (&c, KT_SEV_INFO, en), S_BIT (ALERT_CH_LOG));
    snprintf (c.smtp_to, sizeof c.smtp_to, "a@x, b@x,c@x,d@x,e@x,f@x,g@x,h@x,i@x");
    assert_int_equal (alert_route_check (&c, &en, err, sizeof err), -1);
    assert_non_null (strstr (err, "9 recipients, at most 8"));
    snprintf (c.smtp_to, sizeof c.smtp_to, "ops@example");
    //  Bad URLs and routes are refused with the path.
    snprintf (c.webhook_url, sizeof c.webhook_url, "ftp://x");
    assert_int_equal (alert_route_check (&c, &en, err, sizeof err), -1);
    assert_non_null (strstr (err, "webhook_url"));
    snprintf (c.webhook_url, sizeof c.webhook_url, "http://x");
    snprintf (c.route_warning, sizeof c.route_warning, "log,pager");
    assert_int_equal (alert_route_check (&c, &en, err, sizeof err), -1);
    assert_non_null (strstr (err, "alerter.route_warning: unknown channel"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse),
        cmocka_unit_test (test_check_and_mask),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
