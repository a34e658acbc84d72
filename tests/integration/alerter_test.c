/*  alerter_test - the alerter binary end to end: real redis-server, real ZeroMQ PUSH
 *  from a test process, a local HTTP sink as the webhook and a local SMTP sink.
 *
 *  kill -9 of the alerter while it delivers, with more alerts raised while it is dead:
 *  after a restart every alert reaches the webhook and the mailbox (nothing lost), and
 *  by idempotency key each one exactly once (a receiver that honours the key shows
 *  nothing twice; at most the one request in flight at the kill is repeated, with the
 *  same key). Secrets (webhook URL token, SMTP password) never appear in its log. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kt.h"
#include "kt_testcfg.h"
#include "kt_testhttp.h"
#include "kt_testproc.h"
#include "kt_testredis.h"
#include "kt_testsmtp.h"

#define S_ALERTS 60
#define S_HOOK_TOKEN "whsec-9f8e7d"
#define S_SMTP_PASS "smtp-pa55-word"

typedef struct {
    kt_testredis_t *redis;
    kt_testhttp_t *http;
    kt_testsmtp_t *smtp;
    struct kt_cfg cfg; //  the test's own side (same endpoints)
    kt_proc_t *peer;
    char dir[64];
    char config[128];
    char env_hook[256], env_pass[64];
} fx_t;

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

static void
s_write_config (fx_t *f)
{
    snprintf (f->config, sizeof f->config, "%s/alerter.json", f->dir);
    FILE *fp = fopen (f->config, "w");
    assert_non_null (fp);
    fprintf (fp,
             "{\n"
             "  \"mode\": \"sim\",\n"
             "  \"log\": { \"level\": \"info\" },\n"
             "  \"bus\": { \"alerts\": \"%s\" },\n"
             "  \"redis\": { \"port\": %d },\n"
             "  \"clock\": { \"mode\": \"real\", \"speed\": 1 },\n"
             "  \"alerter\": {\n"
             "    \"dedup_s\": 0,\n"
             "    \"route_critical\": \"log,webhook,email\",\n"
             "    \"route_warning\": \"log,webhook,email\",\n"
             "    \"route_info\": \"log,webhook,email\",\n"
             "    \"retry_min_ms\": 50, \"retry_max_ms\": 200, \"timeout_ms\": 2000,\n"
             "    \"webhook_url\": \"env:KT_ALERT_WEBHOOK_URL\",\n"
             "    \"smtp_url\": \"smtp://127.0.0.1:%d\", \"smtp_starttls\": false,\n"
             "    \"smtp_user\": \"kt\", \"smtp_password\": \"env:KT_SMTP_PASSWORD\",\n"
             "    \"smtp_from\": \"kt@example.org\", \"smtp_to\": \"ops@example.org\"\n"
             "  }\n"
             "}\n",
             f->cfg.ep_alerts, f->redis->port, kt_testsmtp_port (f->smtp));
    fclose (fp);
}

static kt_testproc_t *
s_alerter (fx_t *f)
{
    const char *args[] = {"-c", f->config, NULL};
    const char *env[] = {f->env_hook, f->env_pass, NULL};
    kt_testproc_t *p = kt_testproc_start ("alerter", args, env);
    assert_non_null (p);
    if (!kt_testproc_log_wait (p, "proc.start", NULL, 5000)) {
        kt_testproc_log_dump (p, 0);
        fail_msg ("alerter did not start");
    }
    return p;
}

//  Distinct idempotency keys seen by the webhook, and all its requests.
static int
s_hook_keys (fx_t *f, int *requests)
{
    char *all = kt_testhttp_requests (f->http);
    char seen[S_ALERTS * 2 + 8][48];
    int nseen = 0, total = 0;
    for (char *p = strstr (all, "Idempotency-Key: "); p; p = strstr (p + 1, "Idempotency-Key: ")) {
        char key[48];
        if (sscanf (p + 17, "%47[^\r\n]", key) != 1)
            continue;
        total++;
        bool dup = false;
        for (int i = 0; i < nseen && !dup; i++)
            dup = strcmp (seen[i], key) == 0;
        if (!dup && nseen < (int) (sizeof seen / sizeof seen[0]))
            snprintf (seen[nseen++], sizeof seen[0], "%s", key);
    }
    free (all);
    if (requests)
        *requests = total;
    return nseen;
}

static void
s_send (fx_t *f, int from, int to)
{
    for (int i = from; i < to; i++)
        assert_int_equal (kt_alert_send (kt_proc_alerts (f->peer), KT_SEV_WARNING, "itest",
                                         "alert number %03d of the kill test", i),
                          0);
    //  Let the PUSH socket hand them over.
    for (int i = 0; i < 20; i++)
        kt_loop_run_once (kt_proc_loop (f->peer), 5);
}

static void
test_kill9_nothing_lost_nothing_twice (void **state)
{
    (void) state;
    fx_t *f = calloc (1, sizeof *f);
    f->redis = kt_testredis_start ();
    assert_non_null (f->redis);
    f->http = kt_testhttp_new ();
    assert_non_null (f->http);
    assert_int_equal (kt_testhttp_start (f->http), 0);
    f->smtp = kt_testsmtp_start (KT_TESTSMTP_ACCEPT);
    assert_non_null (f->smtp);
    snprintf (f->dir, sizeof f->dir, "/tmp/kt-alerter-XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    kt_testcfg_fill (&f->cfg, "itest", f->redis->port, "alerter-itest");
    snprintf (f->cfg.log_level, sizeof f->cfg.log_level, "error");
    //  The webhook answers after 30 ms: deliveries are under way when the kill comes.
    char url[160];
    kt_testhttp_url (f->http, url, sizeof url, "/delay/30?t=" S_HOOK_TOKEN);
    snprintf (f->env_hook, sizeof f->env_hook, "KT_ALERT_WEBHOOK_URL=%s", url);
    snprintf (f->env_pass, sizeof f->env_pass, "KT_SMTP_PASSWORD=" S_SMTP_PASS);
    s_write_config (f);
    char err[256];
    f->peer = kt_proc_new (&f->cfg, "itest", err, sizeof err);
    assert_non_null (f->peer);

    kt_testproc_t *a = s_alerter (f);
    s_send (f, 0, S_ALERTS / 2);
    //  Kill -9 in the middle of the deliveries.
    for (int i = 0; i < 500; i++) {
        int reqs = 0;
        s_hook_keys (f, &reqs);
        if (reqs >= 8)
            break;
        s_sleep_ms (10);
    }
    int before = 0;
    s_hook_keys (f, &before);
    assert_true (before >= 8 && before < S_ALERTS / 2);
    assert_int_equal (kt_testproc_signal (a, SIGKILL), 0);
    assert_int_equal (kt_testproc_wait (a, 2000), 128 + SIGKILL);
    //  Raised while the alerter is dead: they wait in the senders' sockets.
    s_send (f, S_ALERTS / 2, S_ALERTS);
    kt_testproc_t *b = s_alerter (f);
    int keys = 0, reqs = 0;
    for (int i = 0; i < 1500 && keys < S_ALERTS; i++) {
        kt_loop_run_once (kt_proc_loop (f->peer), 0);
        keys = s_hook_keys (f, &reqs);
        s_sleep_ms (10);
    }
    for (int i = 0; i < 1000 && kt_testsmtp_count (f->smtp) < S_ALERTS; i++)
        s_sleep_ms (10);
    s_sleep_ms (300); //  anything sent twice would arrive meanwhile
    keys = s_hook_keys (f, &reqs);
    fprintf (stderr, "webhook: %d alerts, %d requests (%d before the kill); mail: %d\n", keys, reqs,
             before, kt_testsmtp_count (f->smtp));
    //  Nothing lost: every alert, by its text, on both channels.
    char *hook = kt_testhttp_requests (f->http);
    char *mail = kt_testsmtp_mail (f->smtp);
    for (int i = 0; i < S_ALERTS; i++) {
        char text[64];
        snprintf (text, sizeof text, "alert number %03d of the kill test", i);
        if (!strstr (hook, text) || !strstr (mail, text)) {
            kt_testproc_log_dump (b, 3000);
            fail_msg ("lost: %s (webhook %s, mail %s)", text, strstr (hook, text) ? "ok" : "no",
                      strstr (mail, text) ? "ok" : "no");
        }
    }
    free (hook);
    free (mail);
    assert_int_equal (keys, S_ALERTS);
    //  Nothing twice: at most the request in flight at the kill went again (same key).
    assert_true (reqs <= S_ALERTS + 1);
    assert_true (kt_testsmtp_count (f->smtp) <= S_ALERTS + 1);
    //  Secrets never in the log.
    kt_testproc_signal (b, SIGTERM);
    assert_int_equal (kt_testproc_wait (b, 3000), 0);
    char *log = NULL;
    FILE *fp = fopen (kt_testproc_log_path (b), "r");
    assert_non_null (fp);
    size_t cap = 0;
    ssize_t n;
    while ((n = getline (&log, &cap, fp)) > 0) {
        assert_null (strstr (log, S_HOOK_TOKEN));
        assert_null (strstr (log, S_SMTP_PASS));
    }
    free (log);
    fclose (fp);
    assert_true (kt_testproc_log_count (b, "alert.deliver", "\"channel\":\"webhook\"") > 0);

    kt_testproc_destroy (&b);
    kt_testproc_destroy (&a);
    kt_proc_destroy (&f->peer);
    kt_testcfg_cleanup ("alerter-itest");
    unlink (f->config);
    rmdir (f->dir);
    kt_testsmtp_stop (&f->smtp);
    kt_testhttp_destroy (&f->http);
    kt_testredis_stop (&f->redis);
    free (f);
}

int
main (void)
{
    kt_log_open ("alerter_test", KT_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_kill9_nothing_lost_nothing_twice),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
