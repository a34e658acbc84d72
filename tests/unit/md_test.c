/*  md_test - md-gateway's context: binds `md`, publishes MD_STATUS, heartbeats. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "../../md-gateway/md.h"
#include "kt_testctx.h"

static int s_status;
static bool s_connected;

static int
s_on_md (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
         void *arg)
{
    (void) proc;
    (void) peer;
    (void) arg;
    assert_string_equal (topic, "md.status");
    assert_int_equal (m->env.type, KT_MSG_MD_STATUS);
    assert_string_equal (m->env.src, "md-gateway");
    s_connected = m->u.md_status.connected;
    s_status++;
    return 0;
}

//  A config that needs no network: the official instruments fixture, one configured
//  instrument, a ticker address where nothing listens.
static void
s_md_cfg (kt_testctx_t *t, struct md_cfg *cfg, int64_t status_ms)
{
    snprintf (t->cfg.kite_ws_url, sizeof t->cfg.kite_ws_url, "ws://127.0.0.1:9");
    snprintf (t->cfg.kite_api_url, sizeof t->cfg.kite_api_url, "http://127.0.0.1:9");
    snprintf (t->cfg.kite_api_key, sizeof t->cfg.kite_api_key, "k");
    snprintf (t->cfg.kite_access_token, sizeof t->cfg.kite_access_token, "t");
    snprintf (t->cfg.instruments_file, sizeof t->cfg.instruments_file,
              "../shared/fixtures/kite/instruments_all.csv");
    memset (cfg, 0, sizeof *cfg);
    cfg->status_ms = status_ms;
    snprintf (cfg->subscribe, sizeof cfg->subscribe, "NSE:INFY");
    snprintf (cfg->mode, sizeof cfg->mode, "full");
    cfg->strikes = 10;
    cfg->reconnect_min_ms = 1000;
    cfg->reconnect_max_ms = 30000;
    cfg->silence_ms = 5000;
    cfg->alert_after_s = 30;
    cfg->ltp_flush_ms = 250;
    cfg->bars_keep = 10;
    cfg->max_message = 1 << 20;
}

static void
test_status_published (void **state)
{
    (void) state;
    kt_testctx_t t;
    assert_int_equal (kt_testctx_start (&t, "md-gateway", "md"), 0);
    struct md_cfg cfg;
    s_md_cfg (&t, &cfg, 100);
    md_t *md = md_new (t.proc, &cfg);
    assert_non_null (md);
    static const char *const topics[] = {"md.", NULL};
    assert_non_null (kt_proc_sub (t.peer, "md", topics, s_on_md, NULL));
    s_status = 0;
    s_connected = true;
    //  The status timer runs on md's loop; the peer receives it.
    kt_testctx_spin (&t, 300, 10, &s_status);
    assert_true (s_status >= 1);
    assert_false (s_connected);
    assert_int_equal (kt_proc_beat (t.proc), 0);
    kt_testctx_spin (&t, 20, 10, NULL); //  the beat is a queued write
    char buf[32];
    assert_string_equal (kt_testctx_hget (&t, "kt:health:md-gateway", "connected", buf, sizeof buf),
                         "0");
    md_destroy (&md);
    assert_null (md);
    kt_testctx_stop (&t);
}

static void
test_bind_conflict_fails_cleanly (void **state)
{
    (void) state;
    kt_testctx_t t;
    assert_int_equal (kt_testctx_start (&t, "md-gateway", "md2"), 0);
    //  ipc:// binds take over an existing path, so show the conflict on tcp://.
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", 20000 + (int) (getpid () % 20000));
    snprintf (t.cfg.ep_md, sizeof t.cfg.ep_md, "%s", ep);
    snprintf (t.peer_cfg.ep_md, sizeof t.peer_cfg.ep_md, "%s", ep);
    struct md_cfg cfg;
    s_md_cfg (&t, &cfg, 1000);
    md_t *a = md_new (t.proc, &cfg);
    assert_non_null (a);
    md_t *b = md_new (t.peer, &cfg); //  same endpoint already bound
    assert_null (b);
    md_destroy (&a);
    kt_testctx_stop (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_status_published),
        cmocka_unit_test (test_bind_conflict_fails_cleanly),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
