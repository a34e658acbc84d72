/*  alert_format_test - what each channel sends: Telegram sendMessage, the webhook JSON
 *  (integer ts, idempotency key, Slack and Discord fields), the mail (headers, CRLF, no
 *  header injection), and which answers count as delivered. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../alerter/alert.h"

static struct alert_item
s_item (void)
{
    struct alert_item it = {.id = 42,
                            .ts_ns = 1796541300123456789LL,
                            .queued_ms = 1796541300200,
                            .severity = KT_SEV_CRITICAL,
                            .count = 1};
    snprintf (it.key, sizeof it.key, "risk.halt");
    snprintf (it.src, sizeof it.src, "risk-gate");
    snprintf (it.text, sizeof it.text, "TRADING HALTED (REJECTS): 5 rejects \"in\" 600 s");
    return it;
}

static void
test_line_and_idem (void **state)
{
    (void) state;
    struct alert_item it = s_item ();
    char buf[1024];
    assert_string_equal (alert_item_line (&it, buf, sizeof buf),
                         "CRITICAL risk-gate: TRADING HALTED (REJECTS): 5 rejects \"in\" 600 s");
    it.count = 7;
    it.window_s = 60;
    assert_non_null (strstr (alert_item_line (&it, buf, sizeof buf), "600 s [x7 in 60 s]"));
    assert_string_equal (alert_item_idem (&it, buf, sizeof buf), "kt-42-1796541300200");
}

static void
test_telegram (void **state)
{
    (void) state;
    struct alert_cfg cfg = {0};
    snprintf (cfg.telegram_url, sizeof cfg.telegram_url, "http://127.0.0.1:9");
    snprintf (cfg.telegram_token, sizeof cfg.telegram_token, "123:ABC");
    snprintf (cfg.telegram_chat_id, sizeof cfg.telegram_chat_id, "-1001");
    struct alert_item it = s_item ();
    char url[256];
    char *body = alert_format_telegram (&cfg, &it, url, sizeof url);
    assert_string_equal (url, "http://127.0.0.1:9/bot123:ABC/sendMessage");
    cJSON *j = cJSON_Parse (body);
    assert_string_equal (cJSON_GetObjectItem (j, "chat_id")->valuestring, "-1001");
    assert_non_null (strstr (cJSON_GetObjectItem (j, "text")->valuestring, "(REJECTS)"));
    cJSON_Delete (j);
    free (body);
    assert_null (alert_format_telegram (&cfg, &it, url, 20)); //  does not fit
}

static void
test_webhook (void **state)
{
    (void) state;
    struct alert_item it = s_item ();
    char *body = alert_format_webhook (&it);
    //  Times are integer ns, never a float like 1.79e+18.
    assert_non_null (strstr (body, "\"ts\":1796541300123456789"));
    assert_null (strstr (body, "e+"));
    cJSON *j = cJSON_Parse (body);
    assert_non_null (j);
    assert_string_equal (cJSON_GetObjectItem (j, "text")->valuestring,
                         cJSON_GetObjectItem (j, "content")->valuestring);
    assert_string_equal (cJSON_GetObjectItem (j, "idempotency_key")->valuestring,
                         "kt-42-1796541300200");
    assert_string_equal (cJSON_GetObjectItem (j, "text_raw")->valuestring, it.text);
    assert_string_equal (cJSON_GetObjectItem (j, "severity")->valuestring, "CRITICAL");
    cJSON_Delete (j);
    free (body);
}

static void
test_mail (void **state)
{
    (void) state;
    struct alert_cfg cfg = {0};
    snprintf (cfg.smtp_from, sizeof cfg.smtp_from, "kt@example.org");
    snprintf (cfg.smtp_to, sizeof cfg.smtp_to, "ops@example.org, oncall@example.org");
    struct alert_item it = s_item ();
    snprintf (it.text, sizeof it.text, "line one\r\nBcc: evil@example.org\nline two");
    char *m = alert_format_mail (&cfg, &it, 1796541300);
    assert_non_null (strstr (m, "From: kt@example.org\r\n"));
    assert_non_null (strstr (m, "To: ops@example.org, oncall@example.org\r\n"));
    assert_non_null (strstr (m, "Message-ID: <kt-42-1796541300200@kt.alerter>\r\n"));
    assert_non_null (strstr (m, "Subject: [kt CRITICAL] line one  Bcc: evil@example.org line two"
                                "\r\n"));
    assert_non_null (strstr (m, "Date: "));
    //  No header line starts with the injected Bcc (the body may show it); every line
    //  ends with CRLF.
    char *body = strstr (m, "\r\n\r\n");
    assert_non_null (body);
    *body = '\0';
    assert_null (strstr (m, "\r\nBcc:"));
    *body = '\r';
    assert_non_null (strstr (body, "line two"));
    for (char *p = m; *p; p++)
        if (*p == '\n')
            assert_true (p > m && p[-1] == '\r');
    free (m);
}

static void
test_delivered (void **state)
{
    (void) state;
    int64_t ra;
    char why[160];
    kt_http_resp_t r = {
        .err = KT_HTTP_OK, .errstr = "", .status = 200, .body = "{\"ok\":true,\"result\":{}}"};
    r.body_len = strlen (r.body);
    assert_true (alert_format_delivered (ALERT_CH_TELEGRAM, &r, &ra, why, sizeof why));
    r.status = 429;
    r.body =
        "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 7\","
        "\"parameters\":{\"retry_after\":7}}";
    r.body_len = strlen (r.body);
    assert_false (alert_format_delivered (ALERT_CH_TELEGRAM, &r, &ra, why, sizeof why));
    assert_int_equal (ra, 7000);
    assert_non_null (strstr (why, "HTTP 429: Too Many Requests"));
    //  200 without "ok": true is not a delivery.
    r.status = 200;
    r.body = "{\"ok\":false}";
    r.body_len = strlen (r.body);
    assert_false (alert_format_delivered (ALERT_CH_TELEGRAM, &r, &ra, why, sizeof why));
    r.body = "";
    r.body_len = 0;
    r.status = 204;
    assert_true (alert_format_delivered (ALERT_CH_WEBHOOK, &r, &ra, why, sizeof why));
    r.status = 500;
    assert_false (alert_format_delivered (ALERT_CH_WEBHOOK, &r, &ra, why, sizeof why));
    assert_string_equal (why, "HTTP 500");
    r = (kt_http_resp_t){.err = KT_HTTP_E_CONNECT, .errstr = "Connection refused", .body = ""};
    assert_false (alert_format_delivered (ALERT_CH_WEBHOOK, &r, &ra, why, sizeof why));
    assert_string_equal (why, "connect: Connection refused");
    r = (kt_http_resp_t){.err = KT_HTTP_OK, .errstr = "", .status = 250, .body = ""};
    assert_true (alert_format_delivered (ALERT_CH_EMAIL, &r, &ra, why, sizeof why));
    r = (kt_http_resp_t){
        .err = KT_HTTP_E_TRANSPORT, .errstr = "Failed sending data", .status = 451, .body = ""};
    assert_false (alert_format_delivered (ALERT_CH_EMAIL, &r, &ra, why, sizeof why));
    assert_non_null (strstr (why, "SMTP 451"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_line_and_idem), cmocka_unit_test (test_telegram),
        cmocka_unit_test (test_webhook),       cmocka_unit_test (test_mail),
        cmocka_unit_test (test_delivered),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
