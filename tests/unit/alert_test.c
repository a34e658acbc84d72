/*  alert_test - the alerter's context in-process, against a real redis-server, a local
 *  HTTP sink (Telegram and webhook) and a local SMTP sink: each channel delivers, one
 *  format of log line that always carries the text and never a secret, collapse with
 *  a summary, a failing channel reported on another one and in health:alerter, STARTTLS
 *  required, the PULL drain capped per loop turn, Redis down (held, then delivered),
 *  and what a previous run left in the outbox. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../alerter/alert.h"
#include "kt_testctx.h"
#include "kt_testhttp.h"
#include "kt_testsmtp.h"

#define S_TOKEN "123456:SECRET-bot-token"
#define S_HOOK_SECRET "hook-secret-T0K3N"

typedef struct {
    kt_testctx_t t;
    kt_testhttp_t *http;
    kt_testsmtp_t *smtp;
    struct alert_cfg cfg;
    alert_t *a;
    char lines[1 << 16]; //  captured log lines, '\n' separated (tail kept)
    size_t len;
    int secret_leaks;
} fx_t;

static void
s_sink (kt_log_level_t lvl, const char *ev, const char *line, void *arg)
{
    (void) lvl;
    (void) ev;
    fx_t *f = arg;
    if (strstr (line, S_TOKEN) || strstr (line, S_HOOK_SECRET))
        f->secret_leaks++;
    size_t n = strlen (line);
    if (f->len + n + 2 > sizeof f->lines)
        f->len = 0;
    memcpy (f->lines + f->len, line, n);
    f->len += n;
    f->lines[f->len++] = '\n';
    f->lines[f->len] = '\0';
}

static void
s_cfg_defaults (struct alert_cfg *c)
{
    memset (c, 0, sizeof *c);
    c->dedup_s = 60;
    c->queue_max = 1000;
    c->drain_max = 64;
    snprintf (c->route_critical, sizeof c->route_critical, "log,telegram,webhook,email");
    snprintf (c->route_warning, sizeof c->route_warning, "log,webhook");
    snprintf (c->route_info, sizeof c->route_info, "log");
    c->retry_min_ms = 50;
    c->retry_max_ms = 200;
    c->channel_down_s = 300;
    c->timeout_ms = 2000;
    c->redis_down_s = 60;
}

//  Sinks up, config pointing at them (hook_path: the webhook's path on the HTTP sink).
static void
s_start (fx_t *f, const char *tag, const char *hook_path, kt_testsmtp_mode_t smtp_mode)
{
    memset (f, 0, sizeof *f);
    assert_int_equal (kt_testctx_start (&f->t, "alerter", tag), 0);
    f->http = kt_testhttp_new ();
    assert_non_null (f->http);
    kt_testhttp_route (f->http, "POST", "/bot" S_TOKEN "/sendMessage", 200, "application/json",
                       "{\"ok\":true,\"result\":{\"message_id\":1}}");
    kt_testhttp_route (f->http, "POST", "/hook/" S_HOOK_SECRET, 200, "text/plain", "ok");
    assert_int_equal (kt_testhttp_start (f->http), 0);
    f->smtp = kt_testsmtp_start (smtp_mode);
    assert_non_null (f->smtp);
    s_cfg_defaults (&f->cfg);
    struct alert_cfg *c = &f->cfg;
    kt_testhttp_url (f->http, c->telegram_url, sizeof c->telegram_url, "");
    snprintf (c->telegram_token, sizeof c->telegram_token, "%s", S_TOKEN);
    snprintf (c->telegram_chat_id, sizeof c->telegram_chat_id, "-1001");
    kt_testhttp_url (f->http, c->webhook_url, sizeof c->webhook_url, hook_path);
    snprintf (c->smtp_url, sizeof c->smtp_url, "smtp://127.0.0.1:%d", kt_testsmtp_port (f->smtp));
    snprintf (c->smtp_from, sizeof c->smtp_from, "kt@example.org");
    snprintf (c->smtp_to, sizeof c->smtp_to, "ops@example.org,oncall@example.org");
    kt_log_open ("alerter", KT_LOG_DEBUG);
    kt_log_set_sink (s_sink, f);
}

static void
s_stop (fx_t *f)
{
    alert_destroy (&f->a);
    kt_log_set_sink (NULL, NULL);
    kt_log_open ("alerter", KT_LOG_OFF);
    assert_int_equal (f->secret_leaks, 0);
    kt_testhttp_destroy (&f->http);
    kt_testsmtp_stop (&f->smtp);
    kt_testctx_stop (&f->t);
}

//  Spin both loops until pred holds or ms pass.
static bool
s_until (fx_t *f, bool (*pred) (fx_t *, const void *), const void *arg, int ms)
{
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    for (;;) {
        kt_testctx_spin (&f->t, 1, 5, NULL);
        if (pred (f, arg))
            return true;
        clock_gettime (CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > ms)
            return false;
    }
}

static bool
s_http_has (fx_t *f, const void *text)
{
    char *all = kt_testhttp_requests (f->http);
    bool found = strstr (all, text) != NULL;
    free (all);
    return found;
}

static bool
s_mail_has (fx_t *f, const void *text)
{
    char *all = kt_testsmtp_mail (f->smtp);
    bool found = strstr (all, text) != NULL;
    free (all);
    return found;
}

static bool
s_log_has (fx_t *f, const void *text)
{
    return strstr (f->lines, text) != NULL;
}

//  Occurrences of text in the HTTP sink's record.
static int
s_http_count (fx_t *f, const char *text)
{
    char *all = kt_testhttp_requests (f->http);
    int n = 0;
    for (char *p = strstr (all, text); p; p = strstr (p + 1, text))
        n++;
    free (all);
    return n;
}

static char *
s_health (fx_t *f, const char *field, char *buf, size_t len)
{
    kt_proc_beat (f->t.proc);
    kt_store_flush (kt_proc_store (f->t.proc), 1000); //  the beat is a queued write
    return kt_testctx_hget (&f->t, "kt:health:alerter", field, buf, len);
}

static void
test_each_channel_delivers (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    s_start (f, "alert1", "/hook/" S_HOOK_SECRET, KT_TESTSMTP_ACCEPT);
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_non_null (f->a);
    kt_alert_out_t *out = kt_proc_alerts (f->t.peer);
    assert_int_equal (
        kt_alert_send (out, KT_SEV_CRITICAL, "risk.halt", "TRADING HALTED (KILL): operator"), 0);
    assert_true (s_until (f, s_mail_has, "TRADING HALTED (KILL)", 5000));
    assert_true (s_until (f, s_http_has, "\"chat_id\":\"-1001\"", 5000));
    assert_true (s_until (f, s_http_has, "POST /hook/", 5000));
    //  Telegram: sendMessage with the line.
    assert_true (s_http_has (f, "POST /bot" S_TOKEN "/sendMessage"));
    assert_true (s_http_has (f, "CRITICAL test-peer: TRADING HALTED (KILL): operator"));
    //  Webhook: idempotency key as header and field, Slack and Discord fields, integer ts.
    assert_true (s_http_has (f, "Idempotency-Key: kt-1-"));
    assert_true (s_http_has (f, "\"idempotency_key\":\"kt-1-"));
    assert_true (s_http_has (f, "\"content\":\"CRITICAL test-peer: TRADING HALTED"));
    char *all = kt_testhttp_requests (f->http);
    char *ts = strstr (all, "\"ts\":");
    assert_non_null (ts);
    char head[32];
    snprintf (head, sizeof head, "%.30s", ts);
    assert_null (strchr (head, 'e')); //  not 1.79e+18
    free (all);
    //  Mail: envelope to both recipients, subject, Message-ID from the same key.
    assert_true (s_mail_has (f, "RCPT TO:<ops@example.org>"));
    assert_true (s_mail_has (f, "RCPT TO:<oncall@example.org>"));
    assert_true (s_mail_has (f, "Subject: [kt CRITICAL] TRADING HALTED (KILL): operator\r\n"));
    assert_true (s_mail_has (f, "Message-ID: <kt-1-"));
    //  The log channel and every other delivery line: one format, with the text.
    assert_true (s_until (f, s_log_has,
                          "\"ev\":\"alert.deliver\",\"id\":1,\"severity\":"
                          "\"CRITICAL\",\"key\":\"risk.halt\",\"src\":\"test-peer\","
                          "\"text\":\"TRADING HALTED (KILL): operator\",\"count\":1,"
                          "\"channel\":\"email\"",
                          2000));
    assert_true (s_log_has (f, "\"ev\":\"alert.received\",\"severity\":\"CRITICAL\",\"key\":"
                               "\"risk.halt\",\"src\":\"test-peer\",\"text\":\"TRADING HALTED"));
    for (const char *p = strstr (f->lines, "alert.deliver"); p;
         p = strstr (p + 1, "alert.deliver")) {
        const char *eol = strchr (p, '\n');
        const char *text = strstr (p, "\"text\":\"TRADING HALTED (KILL)");
        assert_true (text && text < eol);
    }
    //  A sink records a request before it answers: wait for each channel's own line.
    assert_true (s_until (f, s_log_has, "\"count\":1,\"channel\":\"webhook\"", 2000));
    assert_true (s_until (f, s_log_has, "\"count\":1,\"channel\":\"telegram\"", 2000));
    char buf[64];
    assert_string_equal (s_health (f, "received", buf, sizeof buf), "1");
    assert_string_equal (s_health (f, "webhook_delivered", buf, sizeof buf), "1");
    assert_string_equal (s_health (f, "email_delivered", buf, sizeof buf), "1");
    assert_string_equal (s_health (f, "telegram_delivered", buf, sizeof buf), "1");
    assert_string_equal (s_health (f, "log_delivered", buf, sizeof buf), "1");
    //  An INFO goes to the log only, at info level, and is delivered (not an error).
    assert_int_equal (kt_alert_send (out, KT_SEV_INFO, "daily.summary", "day P&L +1200"), 0);
    assert_true (s_until (f, s_log_has, "\"lvl\":\"info\",\"proc\":\"alerter\"", 2000));
    assert_true (
        s_until (f, s_log_has, "\"text\":\"day P&L +1200\",\"count\":1,\"channel\":\"log\"", 2000));
    assert_int_equal (s_http_count (f, "day P&L"), 0);
    s_stop (f);
    free (f);
}

static void
test_collapse_window (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    s_start (f, "alert2", "/hook/" S_HOOK_SECRET, KT_TESTSMTP_ACCEPT);
    f->cfg.dedup_s = 1;
    snprintf (f->cfg.route_critical, sizeof f->cfg.route_critical, "log,webhook");
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_non_null (f->a);
    kt_alert_out_t *out = kt_proc_alerts (f->t.peer);
    for (int i = 0; i < 5; i++)
        kt_alert_send (out, KT_SEV_CRITICAL, "risk.halt", "TRADING HALTED (KILL): operator");
    kt_alert_send (out, KT_SEV_CRITICAL, "risk.halt", "TRADING HALTED (REJECTS): 5 rejects");
    assert_true (s_until (f, s_http_has, "(REJECTS)", 3000));
    assert_int_equal (s_http_count (f, "\"text_raw\":\"TRADING HALTED (KILL)"), 1);
    //  The window ends: one summary for the five.
    assert_true (s_until (f, s_http_has, "[x5 in 1 s]", 4000));
    assert_int_equal (s_http_count (f, "\"text_raw\":\"TRADING HALTED (KILL)"), 2);
    assert_int_equal (s_http_count (f, "\"text_raw\":\"TRADING HALTED (REJECTS)"), 1);
    assert_true (s_log_has (f, "\"ev\":\"alert.collapsed\""));
    char buf[64];
    assert_string_equal (s_health (f, "collapsed", buf, sizeof buf), "4");
    assert_string_equal (s_health (f, "summaries", buf, sizeof buf), "1");
    s_stop (f);
    free (f);
}

static void
test_failing_channel_reported (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    s_start (f, "alert3", "/status/500", KT_TESTSMTP_ACCEPT);
    f->cfg.channel_down_s = 1;
    snprintf (f->cfg.route_critical, sizeof f->cfg.route_critical, "log,telegram,webhook");
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_non_null (f->a);
    kt_alert_send (kt_proc_alerts (f->t.peer), KT_SEV_CRITICAL, "stop.failed",
                   "stop for NIFTY25N1824000CE could not be placed");
    assert_true (s_until (f, s_http_has, "could not be placed", 3000));
    //  The webhook keeps failing (with back-off); after channel_down_s Telegram says so.
    assert_true (s_until (f, s_http_has, "Alert channel webhook has failed", 5000));
    assert_true (s_http_count (f, "POST /status/500") >= 2);
    assert_true (s_log_has (f, "\"ev\":\"alert.retry\""));
    assert_true (s_log_has (f, "\"text\":\"stop for NIFTY25N1824000CE could not be placed\""));
    assert_true (s_log_has (f, "\"why\":\"HTTP 500\""));
    char buf[160];
    assert_string_equal (s_health (f, "webhook_down", buf, sizeof buf), "1");
    assert_string_equal (s_health (f, "webhook_error", buf, sizeof buf), "HTTP 500");
    assert_string_equal (s_health (f, "telegram_down", buf, sizeof buf), "0");
    assert_true (atoi (s_health (f, "webhook_pending", buf, sizeof buf)) >= 1);
    //  The report itself never goes to the failing channel's own queue.
    redisContext *c = kt_testredis_connect (f->t.redis);
    redisReply *r = redisCommand (c, "LRANGE kt:alerts:pending:webhook 0 -1");
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *k = redisCommand (c, "HGET kt:alerts:item:%s key", r->element[i]->str);
        assert_string_not_equal (k->str, "alerter.channel_down");
        freeReplyObject (k);
    }
    freeReplyObject (r);
    redisFree (c);
    s_stop (f);
    free (f);
}

static void
test_smtp_retry_and_starttls (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    s_start (f, "alert4", "/hook/" S_HOOK_SECRET, KT_TESTSMTP_TEMPFAIL);
    snprintf (f->cfg.route_critical, sizeof f->cfg.route_critical, "log,email");
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_non_null (f->a);
    kt_alert_send (kt_proc_alerts (f->t.peer), KT_SEV_CRITICAL, "token.expired", "token expired");
    //  451 at the end of DATA: tried again, with back-off, and kept queued.
    struct timespec ts = {0, 5000000};
    for (int i = 0; i < 400 && kt_testsmtp_attempts (f->smtp) < 3; i++) {
        kt_testctx_spin (&f->t, 1, 5, NULL);
        nanosleep (&ts, NULL);
    }
    assert_true (kt_testsmtp_attempts (f->smtp) >= 3);
    assert_int_equal (kt_testsmtp_count (f->smtp), 0);
    assert_true (s_log_has (f, "\"channel\":\"email\",\"attempt\":"));
    char buf[160];
    assert_non_null (strstr (s_health (f, "email_error", buf, sizeof buf), "SMTP 451"));
    alert_destroy (&f->a);
    //  STARTTLS required: against a server without it nothing is ever sent.
    kt_testsmtp_stop (&f->smtp);
    f->smtp = kt_testsmtp_start (KT_TESTSMTP_ACCEPT);
    snprintf (f->cfg.smtp_url, sizeof f->cfg.smtp_url, "smtp://127.0.0.1:%d",
              kt_testsmtp_port (f->smtp));
    f->cfg.smtp_starttls = true;
    f->a = alert_new (f->t.proc, &f->cfg);
    kt_testctx_spin (&f->t, 100, 5, NULL);
    assert_int_equal (kt_testsmtp_attempts (f->smtp), 0);
    assert_int_equal (kt_testsmtp_count (f->smtp), 0);
    //  Without the requirement the queued alert goes out, once.
    alert_destroy (&f->a);
    f->cfg.smtp_starttls = false;
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_true (s_until (f, s_mail_has, "Subject: [kt CRITICAL] token expired", 5000));
    kt_testctx_spin (&f->t, 40, 5, NULL);
    assert_int_equal (kt_testsmtp_count (f->smtp), 1);
    s_stop (f);
    free (f);
}

static void
test_pull_drain_capped (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    s_start (f, "alert5", "/hook/" S_HOOK_SECRET, KT_TESTSMTP_ACCEPT);
    f->cfg.drain_max = 5;
    f->cfg.dedup_s = 0;
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_non_null (f->a);
    //  One first, so the PUSH side is connected (it connected before the bind).
    kt_alert_send (kt_proc_alerts (f->t.peer), KT_SEV_INFO, "burst", "first");
    assert_true (s_until (f, s_log_has, "\"src\":\"test-peer\",\"text\":\"first\"", 3000));
    for (int i = 0; i < 20; i++)
        kt_alert_send (kt_proc_alerts (f->t.peer), KT_SEV_INFO, "burst", "burst %d", i);
    usleep (200000); //  all twenty wait in the PULL socket
    kt_loop_run_once (kt_proc_loop (f->t.proc), 100);
    char buf[32];
    assert_string_equal (s_health (f, "received", buf, sizeof buf), "6");
    //  The rest follows on the next turns.
    kt_testctx_spin (&f->t, 20, 5, NULL);
    assert_string_equal (s_health (f, "received", buf, sizeof buf), "21");
    s_stop (f);
    free (f);
}

static void
test_redis_down_then_back (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    s_start (f, "alert6", "/hook/" S_HOOK_SECRET, KT_TESTSMTP_ACCEPT);
    static const int fast[] = {50};
    kt_store_set_backoff (kt_proc_store (f->t.proc), fast, 1);
    snprintf (f->cfg.route_warning, sizeof f->cfg.route_warning, "log,webhook");
    snprintf (f->cfg.route_critical, sizeof f->cfg.route_critical, "log,webhook");
    f->cfg.redis_down_s = 1;
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_non_null (f->a);
    assert_int_equal (kt_testredis_kill (f->t.redis), 0);
    kt_alert_send (kt_proc_alerts (f->t.peer), KT_SEV_WARNING, "feed.silent", "feed silent 30 s");
    assert_true (s_until (f, s_log_has, "\"ev\":\"alert.held\"", 3000));
    //  Held at warn, with its text and why: not an error, not "delivered".
    assert_true (s_log_has (f, "\"lvl\":\"warn\",\"proc\":\"alerter\""));
    assert_true (s_log_has (f, "\"text\":\"feed silent 30 s\",\"count\":1,\"why\":\"Redis "
                               "unavailable"));
    //  Down for redis_down_s: a person hears of it at once, outside the outbox.
    assert_true (s_until (f, s_http_has, "Redis unreachable from the alerter", 4000));
    assert_true (s_http_has (f, "1 alerts held"));
    assert_true (s_until (
        f, s_log_has, "\"ev\":\"alert.direct\",\"channel\":\"webhook\",\"delivered\":true", 2000));
    assert_int_equal (kt_testredis_restart_same_port (f->t.redis), 0);
    assert_true (s_until (f, s_http_has, "feed silent 30 s", 5000));
    assert_true (s_until (f, s_log_has, "Redis reachable again after", 3000));
    assert_int_equal (s_http_count (f, "\"text_raw\":\"Redis unreachable"), 1);
    s_stop (f);
    free (f);
}

static void
test_left_over_from_a_previous_run (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    s_start (f, "alert7", "/hook/" S_HOOK_SECRET, KT_TESTSMTP_ACCEPT);
    kt_store_t *st = kt_proc_store (f->t.proc);
    assert_int_equal (alert_queue_init (st), 0);
    struct alert_item it = {.ts_ns = 1, .severity = KT_SEV_WARNING, .count = 1};
    snprintf (it.key, sizeof it.key, "left.over");
    snprintf (it.src, sizeof it.src, "x");
    snprintf (it.text, sizeof it.text, "from before the restart");
    char group[ALERT_GROUP_LEN];
    alert_group_of (it.src, it.severity, it.key, it.text, group);
    assert_int_equal (alert_queue_push (st, &it, group, 1u << ALERT_CH_LOG | 1u << ALERT_CH_WEBHOOK,
                                        1000, 0, 100, NULL),
                      1);
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_non_null (f->a);
    assert_true (s_until (f, s_http_has, "from before the restart", 3000));
    assert_true (s_log_has (f, "\"text\":\"from before the restart\",\"count\":1,\"channel\":"
                               "\"log\""));
    s_stop (f);
    free (f);
}

static void
s_redis (fx_t *f, const char *cmd)
{
    redisContext *c = kt_testredis_connect (f->t.redis);
    redisReply *r = redisCommand (c, cmd);
    freeReplyObject (r);
    redisFree (c);
}

//  A process restarted (new pid in health:*) or gone (its heartbeat expired) reaches a
//  person.
static void
test_process_restart_and_down (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    s_start (f, "alert8", "/hook/" S_HOOK_SECRET, KT_TESTSMTP_ACCEPT);
    snprintf (f->cfg.route_critical, sizeof f->cfg.route_critical, "log,webhook");
    s_redis (f, "HSET kt:health:md-gateway pid 100 beat 1");
    f->a = alert_new (f->t.proc, &f->cfg);
    assert_non_null (f->a);
    kt_testctx_spin (&f->t, 60, 50, NULL); //  first sight: recorded, nothing said
    assert_int_equal (s_http_count (f, "process md-gateway"), 0);
    s_redis (f, "HSET kt:health:md-gateway pid 200 beat 2");
    assert_true (s_until (f, s_http_has, "process md-gateway restarted (pid 100 -> 200)", 6000));
    s_redis (f, "DEL kt:health:md-gateway");
    assert_true (s_until (f, s_http_has, "process md-gateway is down: no heartbeat", 6000));
    assert_true (s_http_has (f, "\"severity\":\"CRITICAL\",\"key\":\"proc.down\""));
    assert_int_equal (s_http_count (f, "\"text_raw\":\"process md-gateway restarted"), 1);
    s_stop (f);
    free (f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_each_channel_delivers),
        cmocka_unit_test (test_collapse_window),
        cmocka_unit_test (test_failing_channel_reported),
        cmocka_unit_test (test_smtp_retry_and_starttls),
        cmocka_unit_test (test_pull_drain_capped),
        cmocka_unit_test (test_redis_down_then_back),
        cmocka_unit_test (test_left_over_from_a_previous_run),
        cmocka_unit_test (test_process_restart_and_down),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
