/*  md_tls_test - md-gateway's ticker over wss:// against a TLS WebSocket server with a
 *  certificate made at test time (kt_testwss: a test CA signs a certificate for
 *  localhost), md-gateway given that CA in md.ws_ca_file and the host name `localhost`
 *  in kite.ws_url.
 *
 *  Shows: with the right CA it connects, subscribes and publishes the server's ticks on
 *  `md`; with another CA, with a certificate for another host name, and with the
 *  system store (which does not know the test CA) it never connects: each attempt is
 *  logged as md.ws.untrusted with the verification error, one CRITICAL alert md.tls
 *  goes out, and not one TICK is published (no insecure fallback). */

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <zmq.h>

#include "kt.h"
#include "kt_testmd.h"
#include "kt_testnet.h"
#include "kt_testproc.h"
#include "kt_testredis.h"
#include "kt_testwss.h"

#define NTOK 4

struct s_env {
    kt_testredis_t *redis;
    char dir[64];
    char cfg[128];
    int port;
    const char *host; //  in kite.ws_url
    pid_t wss;
    kt_testproc_t *md;
    void *zctx;
    void *sub;
    kt_msg_decoder_t *dec;
};

static struct s_env s_e;

static uint32_t
s_token (int i)
{
    return (uint32_t) (36000 + i) << 8 | 2;
}

static void
s_path (char *out, size_t len, const char *name)
{
    snprintf (out, len, "%s/%s", s_e.dir, name);
}

//  Instruments CSV and a config: the NTOK tokens subscribed, no warm-up, the ticker at
//  wss://localhost:<port> trusting ca_file ("" = the system store).
static void
s_write_cfg (const char *ca_file)
{
    char csv[128], list[256];
    s_path (csv, sizeof csv, "instruments.csv");
    uint32_t tokens[NTOK];
    for (int i = 0; i < NTOK; i++)
        tokens[i] = s_token (i);
    assert_int_equal (kt_testmd_instruments (csv, tokens, NTOK, list, sizeof list), 0);
    cJSON *root = kt_testmd_cfg (s_e.dir, s_e.redis->port, csv, list);
    assert_non_null (root);
    char url[64];
    snprintf (url, sizeof url, "wss://%s:%d", s_e.host, s_e.port);
    kt_testmd_set (root, "kite", "ws_url", cJSON_CreateString (url));
    kt_testmd_set (root, "md", "warmup", cJSON_CreateBool (false));
    kt_testmd_set (root, "md", "reconnect_min_ms", cJSON_CreateNumber (200));
    kt_testmd_set (root, "md", "reconnect_max_ms", cJSON_CreateNumber (400));
    kt_testmd_set (root, "md", "ws_ca_file", cJSON_CreateString (ca_file));
    assert_int_equal (kt_testmd_save (root, s_e.cfg), 0);
}

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_e, 0, sizeof s_e);
    s_e.wss = -1;
    s_e.host = "localhost";
    s_e.redis = kt_testredis_start ();
    if (!s_e.redis)
        return -1;
    snprintf (s_e.dir, sizeof s_e.dir, "/tmp/kt-mdtls-XXXXXX");
    if (!mkdtemp (s_e.dir))
        return -1;
    s_path (s_e.cfg, sizeof s_e.cfg, "md.json");
    //  ca signs both server certificates; other is a CA nobody used.
    if (kt_testwss_make_ca (s_e.dir, "ca") != 0 || kt_testwss_make_ca (s_e.dir, "other") != 0 ||
        kt_testwss_make_cert (s_e.dir, "ca", "srv", "DNS:localhost") != 0 ||
        kt_testwss_make_cert (s_e.dir, "ca", "elsewhere", "DNS:elsewhere.test") != 0)
        return -1;
    s_e.port = kt_testnet_free_port ();
    s_e.zctx = zmq_ctx_new ();
    s_e.sub = zmq_socket (s_e.zctx, ZMQ_SUB);
    int hwm = 0, ivl = 5;
    zmq_setsockopt (s_e.sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (s_e.sub, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt (s_e.sub, ZMQ_SUBSCRIBE, "md.tick.", 8);
    char ep[128];
    snprintf (ep, sizeof ep, "ipc://%s/md", s_e.dir);
    if (zmq_connect (s_e.sub, ep) != 0)
        return -1;
    s_e.dec = kt_msg_decoder_new ();
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_testproc_destroy (&s_e.md);
    kt_testwss_stop (s_e.wss);
    kt_msg_decoder_destroy (&s_e.dec);
    int zero = 0;
    zmq_setsockopt (s_e.sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close (s_e.sub);
    zmq_ctx_term (s_e.zctx);
    kt_testredis_stop (&s_e.redis);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_e.dir);
    return system (cmd) == 0 ? 0 : -1;
}

//  Start the server with certificate name, then md-gateway trusting ca_file.
static void
s_start (const char *cert, const char *ca_file)
{
    char crt[128], key[128];
    snprintf (crt, sizeof crt, "%s/%s.pem", s_e.dir, cert);
    snprintf (key, sizeof key, "%s/%s.key", s_e.dir, cert);
    s_e.wss = kt_testwss_start (s_e.port, crt, key);
    assert_true (s_e.wss > 0);
    s_write_cfg (ca_file);
    const char *args[] = {"-c", s_e.cfg, NULL};
    const char *env[] = {"KITE_API_KEY=tls_api_key", "KITE_API_SECRET=tls_api_secret",
                         "KITE_ACCESS_TOKEN=tls_access_token", NULL};
    s_e.md = kt_testproc_start ("md-gateway", args, env);
    assert_non_null (s_e.md);
}

//  TICKs received within timeout_ms; marks seen[i] for token i.
static int
s_ticks (int timeout_ms, bool seen[NTOK])
{
    int n = 0;
    zmq_pollitem_t it = {s_e.sub, 0, ZMQ_POLLIN, 0};
    int64_t end = kt_clock_wall_mono_ns () + (int64_t) timeout_ms * 1000000;
    while (kt_clock_wall_mono_ns () < end) {
        int left = (int) ((end - kt_clock_wall_mono_ns ()) / 1000000);
        if (zmq_poll (&it, 1, left > 0 ? left : 0) <= 0)
            break;
        zmq_msg_t topic, body;
        zmq_msg_init (&topic);
        zmq_msg_init (&body);
        assert_true (zmq_msg_recv (&topic, s_e.sub, 0) >= 0);
        assert_true (zmq_msg_recv (&body, s_e.sub, 0) >= 0);
        struct kt_msg m;
        assert_int_equal (
            kt_msg_decode (s_e.dec, zmq_msg_data (&body), zmq_msg_size (&body), &m, NULL, 0), 0);
        zmq_msg_close (&topic);
        zmq_msg_close (&body);
        assert_int_equal (m.env.type, KT_MSG_TICK);
        for (int i = 0; i < NTOK; i++)
            if (m.u.tick.token == s_token (i)) {
                seen[i] = true;
                assert_true (m.u.tick.ltp >= 10000 && m.u.tick.ltp < 11000);
            }
        n++;
    }
    return n;
}

static void
test_wss_verified (void **state)
{
    (void) state;
    char ca[128];
    snprintf (ca, sizeof ca, "%s/ca.pem", s_e.dir);
    s_start ("srv", ca);
    //  The name was resolved off the loop and lws given the number; the certificate
    //  names only DNS:localhost, so it verified against the host name, not the address.
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ws.connected",
                                           "\"host\":\"localhost\",\"addr\":\"127.0.0.1\"", 15000));
    bool seen[NTOK] = {false};
    int n = s_ticks (3000, seen);
    printf ("wss with the test CA: %d ticks in 3 s\n", n);
    assert_true (n >= NTOK * 10);
    for (int i = 0; i < NTOK; i++)
        assert_true (seen[i]);
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.ws.untrusted", NULL), 0);
}

//  md-gateway must refuse the server: untrusted logged with a reason naming the
//  certificate, one CRITICAL alert, never connected, no tick.
static void
s_refuses (const char *cert, const char *ca_file, const char *reason, const char *expect)
{
    s_start (cert, ca_file);
    const char *line = kt_testproc_log_wait (s_e.md, "md.ws.untrusted", NULL, 15000);
    assert_non_null (line);
    printf ("%s: %s\n", reason, line);
    assert_non_null (strstr (line, expect));
    assert_non_null (kt_testproc_log_wait (s_e.md, "alert.raised", "\"key\":\"md.tls\"", 5000));
    //  Retried with back-off, refused every time, alerted once.
    for (int i = 0; i < 300 && kt_testproc_log_count (s_e.md, "md.ws.untrusted", NULL) < 3; i++)
        usleep (10000);
    assert_true (kt_testproc_log_count (s_e.md, "md.ws.untrusted", NULL) >= 3);
    bool seen[NTOK] = {false};
    assert_int_equal (s_ticks (1000, seen), 0);
    assert_int_equal (kt_testproc_log_count (s_e.md, "md.ws.connected", NULL), 0);
    assert_int_equal (kt_testproc_log_count (s_e.md, "alert.raised", "\"key\":\"md.tls\""), 1);
    assert_true (kt_testproc_running (s_e.md));
}

static void
test_wss_wrong_ca (void **state)
{
    (void) state;
    char other[128];
    snprintf (other, sizeof other, "%s/other.pem", s_e.dir);
    s_refuses ("srv", other, "another CA", "unable to get local issuer certificate");
}

static void
test_wss_wrong_host (void **state)
{
    (void) state;
    char ca[128];
    snprintf (ca, sizeof ca, "%s/ca.pem", s_e.dir);
    s_refuses ("elsewhere", ca, "certificate for another host", "hostname mismatch");
}

static void
test_wss_system_store (void **state)
{
    (void) state;
    s_refuses ("srv", "", "system store", "unable to get local issuer certificate");
}

static void
test_wss_unresolvable (void **state)
{
    (void) state;
    s_e.host = "kt-no-such-host.invalid";
    char ca[128];
    snprintf (ca, sizeof ca, "%s/ca.pem", s_e.dir);
    s_start ("srv", ca);
    //  A name that does not resolve: each attempt fails with the resolver's reason and
    //  is retried with the back-off; the process keeps running and publishing status.
    const char *line = kt_testproc_log_wait (s_e.md, "md.ws.closed", "resolve", 15000);
    assert_non_null (line);
    printf ("unresolvable: %s\n", line);
    assert_non_null (strstr (line, "kt-no-such-host.invalid"));
    for (int i = 0;
         i < 500 && kt_testproc_log_count (s_e.md, "md.ws.closed", "kt-no-such-host.invalid") < 3;
         i++)
        usleep (10000);
    assert_true (kt_testproc_log_count (s_e.md, "md.ws.closed", "kt-no-such-host.invalid") >= 3);
    assert_true (kt_testproc_running (s_e.md));
}

static void
test_wss_missing_ca_file (void **state)
{
    (void) state;
    char none[128];
    snprintf (none, sizeof none, "%s/absent.pem", s_e.dir);
    s_start ("srv", none);
    //  A CA file that cannot be read stops md-gateway at start with the reason.
    assert_int_not_equal (kt_testproc_wait (s_e.md, 10000), 0);
    assert_non_null (kt_testproc_log_wait (s_e.md, "md.ticker", "absent.pem", 1000));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_wss_verified, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wss_wrong_ca, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wss_wrong_host, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wss_system_store, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wss_unresolvable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wss_missing_ca_file, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
