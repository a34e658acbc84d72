/*  reconciler_test - the reconciler binary against kite-sim over real HTTP, with a real
 *  redis-server: a flat account agrees (risk:state recon_ok_ns, recon:last "agree");
 *  a position made at kite-sim behind the system's back (its admin fault endpoint) is
 *  found on the next run and halts trading (risk:kill, recon:last "discrepancy"). */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kt.h"
#include "kt_testcfg.h"
#include "kt_testproc.h"
#include "kt_testredis.h"

#define TOKEN "recontesttoken0000000000000000000"

static int
s_free_port (void)
{
    //  Bind port 0, read it back, close: the kernel does not hand it out again at once.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind (fd, (struct sockaddr *) &a, sizeof a);
    getsockname (fd, (struct sockaddr *) &a, &len);
    close (fd);
    return ntohs (a.sin_port);
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

//  True once something accepts connections on port (at most ms).
static bool
s_port_up (int port, int ms)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
        a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        bool up = connect (fd, (struct sockaddr *) &a, sizeof a) == 0;
        close (fd);
        if (up)
            return true;
        s_sleep_ms (20);
    }
    return false;
}

static char *
s_hget (kt_testredis_t *redis, const char *key, const char *field, char *buf, size_t len)
{
    buf[0] = '\0';
    redisContext *c = kt_testredis_connect (redis);
    redisReply *r = c ? redisCommand (c, "HGET %s %s", key, field) : NULL;
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf (buf, len, "%s", r->str);
    if (r)
        freeReplyObject (r);
    if (c)
        redisFree (c);
    return buf;
}

//  Wait until key.field equals want (or ms pass).
static bool
s_until (kt_testredis_t *redis, const char *key, const char *field, const char *want, int ms)
{
    char buf[256];
    for (int waited = 0; waited <= ms; waited += 50) {
        if (!strcmp (s_hget (redis, key, field, buf, sizeof buf), want))
            return true;
        s_sleep_ms (50);
    }
    return false;
}

static void
test_agreement_then_position_behind_our_back (void **state)
{
    (void) state;
    kt_testredis_t *redis = kt_testredis_start ();
    assert_non_null (redis);
    char dir[64] = "/tmp/kt-recon-XXXXXX";
    assert_non_null (mkdtemp (dir));
    int http = s_free_port (), ws = s_free_port ();
    char http_a[32], ws_a[32];
    snprintf (http_a, sizeof http_a, "127.0.0.1:%d", http);
    snprintf (ws_a, sizeof ws_a, "127.0.0.1:%d", ws);
    const char *sim_args[] = {"--http",      http_a,   "--ws",       ws_a,      "--access-token",
                              TOKEN,         "--date", "2025-11-24", "--start", "10:00",
                              "--log-level", "warn",   NULL};
    kt_testproc_t *sim = kt_testproc_start ("kite-sim", sim_args, NULL);
    assert_non_null (sim);
    assert_true (s_port_up (http, 5000));

    char config[128], ep[128];
    snprintf (config, sizeof config, "%s/recon.json", dir);
    snprintf (ep, sizeof ep, "ipc://%s/exec_pub", dir);
    FILE *f = fopen (config, "w");
    fprintf (f,
             "{\"mode\": \"sim\", \"log\": {\"level\": \"info\"},\n"
             " \"bus\": {\"exec_pub\": \"%s\"}, \"redis\": {\"port\": %d},\n"
             " \"clock\": {\"mode\": \"real\", \"speed\": 1},\n"
             " \"kite\": {\"api_url\": \"http://%s\"},\n"
             " \"recon\": {\"interval_s\": 1}}\n",
             ep, redis->port, http_a);
    fclose (f);
    const char *args[] = {"-c", config, NULL};
    const char *env[] = {"KITE_ACCESS_TOKEN=" TOKEN, NULL};
    kt_testproc_t *rec = kt_testproc_start ("reconciler", args, env);
    assert_non_null (rec);

    //  Flat on both sides: agreement, told to risk-gate.
    if (!s_until (redis, "kt:recon:last", "result", "agree", 5000)) {
        kt_testproc_log_dump (rec, 3000);
        fail_msg ("no agreement");
    }
    char buf[300];
    assert_true (
        strtoll (s_hget (redis, "kt:risk:state", "recon_ok_ns", buf, sizeof buf), NULL, 10) > 0);
    assert_string_equal (s_hget (redis, "kt:risk:kill", "active", buf, sizeof buf), "");

    //  A position opened at the broker behind the system's back.
    char url[128], sym[64] = "";
    snprintf (url, sizeof url, "http://%s/instruments/NFO", http_a);
    const char *hdr[] = {"X-Kite-Version: 3", "Authorization: token sim_api_key:" TOKEN, NULL};
    kt_http_resp_t *r = kt_http_get_sync (url, hdr, 5000);
    assert_int_equal (r->status, 200);
    const char *line = strchr (r->body, '\n');
    assert_non_null (line);
    assert_int_equal (sscanf (line + 1, "%*[^,],%*[^,],%63[^,]", sym), 1);
    kt_http_resp_destroy (&r);
    char form[160];
    snprintf (form, sizeof form, "kind=position&tradingsymbol=%s&quantity=-75", sym);
    snprintf (url, sizeof url, "http://%s/_admin/fault", http_a);
    r = kt_http_post_sync (url, NULL, form, 5000);
    assert_int_equal (r->status, 200);
    kt_http_resp_destroy (&r);
    if (!s_until (redis, "kt:risk:kill", "active", "1", 5000)) {
        kt_testproc_log_dump (rec, 3000);
        fail_msg ("no halt");
    }
    assert_non_null (strstr (s_hget (redis, "kt:risk:kill", "reason", buf, sizeof buf), sym));
    assert_non_null (strstr (buf, "broker -75, ours 0"));
    assert_string_equal (s_hget (redis, "kt:recon:last", "result", buf, sizeof buf), "discrepancy");
    assert_string_equal (s_hget (redis, "kt:recon:last", "unknown_position", buf, sizeof buf), "1");
    assert_non_null (kt_testproc_log_wait (rec, "recon.finding", "unknown_position", 100));

    kt_testproc_signal (rec, SIGTERM);
    assert_int_equal (kt_testproc_wait (rec, 3000), 0);
    kt_testproc_destroy (&rec);
    kt_testproc_destroy (&sim);
    unlink (config);
    rmdir (dir);
    kt_testredis_stop (&redis);
}

int
main (void)
{
    kt_log_open ("reconciler_test", KT_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_agreement_then_position_behind_our_back),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
