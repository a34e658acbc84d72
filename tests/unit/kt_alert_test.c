/*  kt_alert_test - an alert reaches a PULL socket (the alerter's side) with its fields
 *  and topic, and is logged as alert.raised; a full queue drops and counts; a NULL
 *  sender only logs. Real ZeroMQ sockets on tcp://127.0.0.1. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "kt_alert.h"
#include "kt_log.h"

struct s_capture {
    int n;
    kt_log_level_t lvl;
    char ev[64];
    char line[2048];
};

static void
s_sink (kt_log_level_t lvl, const char *ev, const char *line, void *arg)
{
    struct s_capture *c = arg;
    c->n++;
    c->lvl = lvl;
    snprintf (c->ev, sizeof c->ev, "%s", ev);
    snprintf (c->line, sizeof c->line, "%s", line);
}

static void
s_cfg (struct kt_cfg *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->ep_alerts, sizeof cfg->ep_alerts, "tcp://127.0.0.1:*");
    cfg->sndhwm = 1000;
    cfg->rcvhwm = 1000;
    cfg->linger_ms = 0;
}

static int
s_recv (kt_bus_t *bus, void *sock, char *topic, struct kt_msg *out, char *why)
{
    for (int i = 0; i < 500; i++) {
        int rc = kt_bus_recv (bus, sock, topic, KT_TOPIC_LEN, out, why, 128);
        if (rc != 1)
            return rc;
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        zmq_poll (&it, 1, 10);
    }
    return 1;
}

static void
test_alert_reaches_pull (void **state)
{
    (void)state;
    struct s_capture cap = {0};
    kt_log_open ("risk-gate", KT_LOG_DEBUG);
    kt_log_set_sink (s_sink, &cap);
    struct kt_cfg cfg;
    s_cfg (&cfg);
    kt_bus_t *alerter = kt_bus_new (&cfg, NULL, "alerter", 1);
    void *pull = kt_bus_bind (alerter, "alerts", ZMQ_PULL);
    assert_non_null (pull);
    size_t len = sizeof cfg.ep_alerts;
    assert_int_equal (zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, cfg.ep_alerts, &len), 0);

    kt_bus_t *bus = kt_bus_new (&cfg, NULL, "risk-gate", 3);
    kt_alert_out_t *out = kt_alert_out_new (bus);
    assert_non_null (out);
    assert_int_equal (
        kt_alert_send (out, KT_SEV_CRITICAL, "risk.halt", "daily loss %d.%02d reached", 5000, 0),
        0);
    assert_int_equal (cap.n, 1);
    assert_string_equal (cap.ev, "alert.raised");
    assert_int_equal (cap.lvl, KT_LOG_ERROR);
    assert_non_null (strstr (cap.line, "\"severity\":\"CRITICAL\""));
    assert_non_null (strstr (cap.line, "\"key\":\"risk.halt\""));
    assert_non_null (strstr (cap.line, "\"text\":\"daily loss 5000.00 reached\""));
    assert_non_null (strstr (cap.line, "\"queued\":true"));

    char topic[KT_TOPIC_LEN], why[128] = "";
    struct kt_msg m;
    assert_int_equal (s_recv (alerter, pull, topic, &m, why), 0);
    assert_string_equal (topic, "alert.critical");
    assert_int_equal (m.env.type, KT_MSG_ALERT);
    assert_string_equal (m.env.src, "risk-gate");
    assert_int_equal (m.env.seq, (3ull << 32) | 1);
    assert_int_equal (m.u.alert.severity, KT_SEV_CRITICAL);
    assert_string_equal (m.u.alert.key, "risk.halt");
    assert_string_equal (m.u.alert.text, "daily loss 5000.00 reached");

    //  WARNING logs at warn; an empty key becomes "none"; long text is cut, not refused.
    char longtext[KT_ALERT_LEN + 100];
    memset (longtext, 'y', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = 0;
    assert_int_equal (kt_alert_send (out, KT_SEV_WARNING, "", "%s", longtext), 0);
    assert_int_equal (cap.lvl, KT_LOG_WARN);
    assert_int_equal (s_recv (alerter, pull, topic, &m, why), 0);
    assert_string_equal (topic, "alert.warning");
    assert_string_equal (m.u.alert.key, "none");
    assert_int_equal (strlen (m.u.alert.text), KT_ALERT_LEN - 1);
    assert_int_equal (m.env.seq, (3ull << 32) | 2);

    //  A severity outside the enum pages as CRITICAL; an empty text says so.
    assert_int_equal (kt_alert_send (out, (kt_severity_t)42, "k", "%s", ""), 0);
    assert_int_equal (s_recv (alerter, pull, topic, &m, why), 0);
    assert_string_equal (topic, "alert.critical");
    assert_string_equal (m.u.alert.text, "(no text)");

    assert_int_equal (kt_alert_send (out, KT_SEV_INFO, "md.reconnect", "ok"), 0);
    assert_int_equal (s_recv (alerter, pull, topic, &m, why), 0);
    assert_string_equal (topic, "alert.info");
    assert_int_equal (m.u.alert.severity, KT_SEV_INFO);
    assert_int_equal (kt_alert_out_drops (out), 0);

    kt_alert_out_destroy (&out);
    assert_null (out);
    kt_alert_out_destroy (&out);
    kt_bus_destroy (&bus);
    kt_bus_destroy (&alerter);
    kt_log_set_sink (NULL, NULL);
}

//  No alerter and a queue of one: sends beyond the HWM are dropped and counted, and
//  the log line still carries each alert.
static void
test_alert_dropped_when_queue_full (void **state)
{
    (void)state;
    struct s_capture cap = {0};
    kt_log_open ("md-gateway", KT_LOG_DEBUG);
    kt_log_set_sink (s_sink, &cap);
    struct kt_cfg cfg;
    s_cfg (&cfg);
    cfg.sndhwm = 1;
    snprintf (cfg.ep_alerts, sizeof cfg.ep_alerts, "tcp://127.0.0.1:1");
    kt_bus_t *bus = kt_bus_new (&cfg, NULL, "md-gateway", 1);
    kt_alert_out_t *out = kt_alert_out_new (bus);
    assert_non_null (out);
    int failed = 0;
    for (int i = 0; i < 50; i++)
        if (kt_alert_send (out, KT_SEV_WARNING, "md.stale", "no ticks for %d s", i) != 0)
            failed++;
    assert_true (failed >= 1);
    assert_int_equal (kt_alert_out_drops (out), failed);
    assert_int_equal (cap.n, 50);
    assert_non_null (strstr (cap.line, "\"queued\":false"));
    assert_non_null (strstr (cap.line, "no ticks for 49 s"));
    kt_alert_out_destroy (&out);
    kt_bus_destroy (&bus);
    kt_log_set_sink (NULL, NULL);
}

static void
test_alert_without_sender (void **state)
{
    (void)state;
    struct s_capture cap = {0};
    kt_log_open ("tradectl", KT_LOG_DEBUG);
    kt_log_set_sink (s_sink, &cap);
    assert_int_equal (kt_alert_send (NULL, KT_SEV_INFO, "tool", "hello %s", "there"), -1);
    assert_int_equal (cap.n, 1);
    assert_string_equal (cap.ev, "alert.raised");
    assert_non_null (strstr (cap.line, "\"text\":\"hello there\""));
    assert_null (kt_alert_out_new (NULL));
    struct kt_cfg cfg;
    s_cfg (&cfg);
    cfg.ep_alerts[0] = 0;
    kt_bus_t *bus = kt_bus_new (&cfg, NULL, "tradectl", 1);
    assert_null (kt_alert_out_new (bus)); //  no endpoint configured
    kt_bus_destroy (&bus);
    kt_log_set_sink (NULL, NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_alert_reaches_pull),
        cmocka_unit_test (test_alert_dropped_when_queue_full),
        cmocka_unit_test (test_alert_without_sender),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
