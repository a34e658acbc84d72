/*  tradectl_test - every tradectl command as an operator runs it: the built binary
 *  against a throwaway redis-server, the real risk-gate, exec-gateway and alerter
 *  binaries on ipc:// endpoints private to the test, and a real kite-sim for login,
 *  token and preflight. Checks the text, the --json objects (parsed), the exit codes of
 *  docs/tradectl.md, and that what tradectl reports is what actually happened (the
 *  book, the kill switch, the secrets file, the request keys). `metrics` is scraped
 *  over HTTP and every sample line parsed. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cJSON.h>

#include "kt.h"
#include "kt_testproc.h"
#include "kt_testredis.h"

#define SYM "NIFTY25N2524000CE"
#define SIM_TOKEN "ctltestaccesstoken0001"

static const char s_instruments[] =
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,"
    "lot_size,instrument_type,segment,exchange\n"
    "12345602,48225," SYM ",NIFTY,150.0,2025-11-25,24000.0,0.05,75,CE,NFO-OPT,NFO\n";

static const char *const s_ep_names[6] = {"md", "risk", "risk_pub", "exec", "exec_pub", "alerts"};

static struct {
    kt_testredis_t *redis;
    char dir[64];
    char cfg[128];      //  the pipeline config (Redis up, kite-sim)
    char cfg_dead[128]; //  the same with Redis on a port nobody listens on
    char secrets[128];
    int sim_http;
    kt_testproc_t *sim;
    kt_testproc_t *risk, *exec, *alerter;
    int rc;    //  exit code of the last s_ctl
    char *out; //  its stdout (owned)
    char *err; //  its stderr (owned)
} F;

static const char *const s_env[] = {"KITE_API_KEY=sim_api_key", "KITE_API_SECRET=sim_api_secret",
                                    "USER=ctltest", NULL};

static char *s_run (const char *cmd);

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &a, sizeof a) == 0 &&
        getsockname (fd, (struct sockaddr *) &a, &len) == 0)
        port = ntohs (a.sin_port);
    close (fd);
    return port;
}

static char *
s_slurp (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = calloc (1, (size_t) n + 1);
    if (fread (buf, 1, (size_t) n, f) != (size_t) n)
        buf[0] = '\0';
    fclose (f);
    return buf;
}

static int
s_write_config (const char *path, int redis_port)
{
    char *text = s_slurp ("deploy/config/sim.json");
    if (!text)
        return -1;
    cJSON *root = cJSON_Parse (text);
    free (text);
    cJSON *bus = cJSON_GetObjectItem (root, "bus");
    for (int i = 0; i < 6; i++) {
        char ep[128];
        snprintf (ep, sizeof ep, "ipc://%s/%s", F.dir, s_ep_names[i]);
        cJSON_ReplaceItemInObject (bus, s_ep_names[i], cJSON_CreateString (ep));
    }
    cJSON_ReplaceItemInObject (bus, "req_timeout_ms", cJSON_CreateNumber (300));
    cJSON_ReplaceItemInObject (bus, "req_retries", cJSON_CreateNumber (2));
    cJSON *redis = cJSON_GetObjectItem (root, "redis");
    cJSON_ReplaceItemInObject (redis, "port", cJSON_CreateNumber (redis_port));
    cJSON *clock = cJSON_GetObjectItem (root, "clock");
    cJSON_ReplaceItemInObject (clock, "date", cJSON_CreateString ("2025-11-24"));
    cJSON_ReplaceItemInObject (clock, "start", cJSON_CreateString ("10:00"));
    cJSON_ReplaceItemInObject (clock, "speed", cJSON_CreateNumber (1));
    char csv[128], url[64], tok[160];
    snprintf (csv, sizeof csv, "%s/instruments.csv", F.dir);
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "instruments"), "file",
                               cJSON_CreateString (csv));
    cJSON *kite = cJSON_GetObjectItem (root, "kite");
    snprintf (url, sizeof url, "http://127.0.0.1:%d", F.sim_http);
    cJSON_ReplaceItemInObject (kite, "api_url", cJSON_CreateString (url));
    snprintf (tok, sizeof tok, "file:secrets.env#KITE_ACCESS_TOKEN");
    cJSON_ReplaceItemInObject (kite, "access_token", cJSON_CreateString (tok));
    char *out = cJSON_Print (root);
    cJSON_Delete (root);
    FILE *f = fopen (path, "w");
    fputs (out, f);
    fclose (f);
    free (out);
    return 0;
}

//  Run tradectl -c cfg args... and wait for it; F.rc, F.out, F.err get the outcome.
static void
s_ctl_with (const char *cfg, const char *first, ...)
{
    const char *args[40] = {"-c", cfg};
    int n = 2;
    va_list ap;
    va_start (ap, first);
    for (const char *a = first; a && n < 38; a = va_arg (ap, const char *))
        args[n++] = a;
    va_end (ap);
    args[n] = NULL;
    kt_testproc_t *p = kt_testproc_start ("tradectl", args, s_env);
    assert_non_null (p);
    F.rc = kt_testproc_wait (p, 60000);
    free (F.out);
    free (F.err);
    F.out = kt_testproc_out_read (p);
    F.err = s_slurp (kt_testproc_log_path (p));
    if (getenv ("CTL_SHOW"))
        fprintf (stderr, "tradectl %s ... -> %d\n%s%s", first, F.rc, F.out, F.err);
    kt_testproc_destroy (&p);
}

#define s_ctl(...) s_ctl_with (F.cfg, __VA_ARGS__, NULL)

static cJSON *
s_json (void)
{
    cJSON *j = cJSON_Parse (F.out);
    if (!j)
        fail_msg ("not one JSON object: %s", F.out);
    return j;
}

static redisReply *
s_redis (const char *fmt, ...)
{
    redisContext *c = kt_testredis_connect (F.redis);
    assert_non_null (c);
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (c, fmt, ap);
    va_end (ap);
    redisFree (c);
    return r;
}

static kt_testproc_t *
s_start (const char *name)
{
    const char *args[] = {"-c", F.cfg, NULL};
    kt_testproc_t *p = kt_testproc_start (name, args, s_env);
    assert_non_null (p);
    if (!kt_testproc_log_wait (p, "proc.start", NULL, 10000)) {
        kt_testproc_log_dump (p, 3000);
        fail_msg ("%s did not start", name);
    }
    return p;
}

static int
s_setup (void **state)
{
    (void) state;
    F.redis = kt_testredis_start ();
    if (!F.redis)
        return -1;
    snprintf (F.dir, sizeof F.dir, "/tmp/kt-ctl-XXXXXX");
    if (!mkdtemp (F.dir))
        return -1;
    char csv[128];
    snprintf (csv, sizeof csv, "%s/instruments.csv", F.dir);
    FILE *f = fopen (csv, "w");
    fputs (s_instruments, f);
    fclose (f);
    snprintf (F.secrets, sizeof F.secrets, "%s/secrets.env", F.dir);
    f = fopen (F.secrets, "w");
    fprintf (f, "# kt secrets\nOTHER=keep-me\nKITE_ACCESS_TOKEN=" SIM_TOKEN "\n");
    fclose (f);
    chmod (F.secrets, 0600);
    F.sim_http = s_free_port ();
    int ws = s_free_port ();
    char http[32], wsa[32];
    snprintf (http, sizeof http, "127.0.0.1:%d", F.sim_http);
    snprintf (wsa, sizeof wsa, "127.0.0.1:%d", ws);
    //  kite-sim writes the shared clock hash, as under supervisord: tradectl's "today"
    //  is the simulated 2025-11-24.
    char redis[32];
    snprintf (redis, sizeof redis, "127.0.0.1:%d", F.redis->port);
    const char *sargs[] = {"--http",  http,          "--ws",       wsa,       "--access-token",
                           SIM_TOKEN, "--date",      "2025-11-24", "--start", "10:00",
                           "--speed", "1",           "--redis",    redis,     "--prefix",
                           "kt:",     "--log-level", "warn",       NULL};
    F.sim = kt_testproc_start ("kite-sim", sargs, NULL);
    if (!F.sim)
        return -1;
    snprintf (F.cfg, sizeof F.cfg, "%s/sim.json", F.dir);
    snprintf (F.cfg_dead, sizeof F.cfg_dead, "%s/dead.json", F.dir);
    if (s_write_config (F.cfg, F.redis->port) != 0 || s_write_config (F.cfg_dead, s_free_port ()))
        return -1;
    //  kite-sim answers once its port accepts.
    for (int i = 0; i < 200; i++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) F.sim_http)};
        a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int ok = connect (fd, (struct sockaddr *) &a, sizeof a) == 0;
        close (fd);
        if (ok)
            break;
        usleep (20000);
    }
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_testproc_destroy (&F.risk);
    kt_testproc_destroy (&F.exec);
    kt_testproc_destroy (&F.alerter);
    kt_testproc_destroy (&F.sim);
    kt_testredis_stop (&F.redis);
    free (F.out);
    free (F.err);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", F.dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", F.dir);
    return 0;
}

//  A book as exec-gateway writes it: an entry filled (open position, short 75), its
//  stop open, and a closed round trip in a second symbol.
static void
s_book (void)
{
    kt_store_t *st = kt_store_new ("127.0.0.1", F.redis->port, "kt:", 1000);
    assert_int_equal (kt_book_register (st), 0);
    assert_int_equal (kt_store_connect (st), 0);
    int64_t t0 = kt_ist_ns (2025, 11, 24, 9, 30, 0);
    char why[200];
    struct kt_order_rec o;
    memset (&o, 0, sizeof o);
    snprintf (o.coid, sizeof o.coid, "S1-0001");
    snprintf (o.sym, sizeof o.sym, SYM);
    o.side = KT_SIDE_SELL;
    o.order_type = KT_OT_MARKET;
    o.product = KT_PROD_MIS;
    o.purpose = KT_PURPOSE_ENTRY;
    o.qty = 75;
    o.status = KT_OS_OPEN;
    o.created_ns = t0;
    assert_int_equal (kt_book_order_create (st, &o, t0, NULL, why, sizeof why), 1);
    struct kt_book_fill fl = {.qty = 75, .price = 15000, .ts_ns = t0 + 1000000000LL};
    snprintf (fl.coid, sizeof fl.coid, "S1-0001");
    snprintf (fl.trade_id, sizeof fl.trade_id, "T1");
    struct kt_book_fill_result res;
    assert_int_equal (kt_book_fill (st, &fl, &res, why, sizeof why), 0);
    //  the stop, open
    snprintf (o.coid, sizeof o.coid, "S1-0001-SL");
    snprintf (o.parent, sizeof o.parent, "S1-0001");
    o.side = KT_SIDE_BUY;
    o.order_type = KT_OT_SLM;
    o.purpose = KT_PURPOSE_STOP;
    o.trigger = 16000;
    o.created_ns = t0 + 2000000000LL;
    assert_int_equal (kt_book_order_create (st, &o, t0, NULL, why, sizeof why), 1);
    //  a round trip in a PE: buy 75 at 100.00, sell at 103.50 = Rs 262.50
    memset (&o, 0, sizeof o);
    snprintf (o.coid, sizeof o.coid, "S1-0002");
    snprintf (o.sym, sizeof o.sym, "NIFTY25N2524000PE");
    o.side = KT_SIDE_BUY;
    o.order_type = KT_OT_LIMIT;
    o.price = 10000;
    o.product = KT_PROD_MIS;
    o.purpose = KT_PURPOSE_ENTRY;
    o.qty = 75;
    o.status = KT_OS_OPEN;
    o.created_ns = t0 + 3000000000LL;
    assert_int_equal (kt_book_order_create (st, &o, t0, NULL, why, sizeof why), 1);
    snprintf (fl.coid, sizeof fl.coid, "S1-0002");
    snprintf (fl.trade_id, sizeof fl.trade_id, "T2");
    fl.price = 10000;
    fl.ts_ns = t0 + 4000000000LL;
    assert_int_equal (kt_book_fill (st, &fl, &res, why, sizeof why), 0);
    snprintf (o.coid, sizeof o.coid, "S1-0003");
    o.side = KT_SIDE_SELL;
    o.purpose = KT_PURPOSE_EXIT;
    o.price = 10350;
    o.created_ns = t0 + 5000000000LL;
    assert_int_equal (kt_book_order_create (st, &o, t0, NULL, why, sizeof why), 1);
    snprintf (fl.coid, sizeof fl.coid, "S1-0003");
    snprintf (fl.trade_id, sizeof fl.trade_id, "T3");
    fl.price = 10350;
    fl.ts_ns = t0 + 6000000000LL;
    assert_int_equal (kt_book_fill (st, &fl, &res, why, sizeof why), 0);
    assert_int_equal (res.realised_delta, 26250);
    kt_store_destroy (&st);
}

// ---- tests ---------------------------------------------------------------------------

static void
test_help_and_usage (void **state)
{
    (void) state;
    const char *args[] = {"--help", NULL};
    kt_testproc_t *p = kt_testproc_start ("tradectl", args, NULL);
    assert_int_equal (kt_testproc_wait (p, 10000), 0);
    char *out = kt_testproc_out_read (p);
    const char *cmds[] = {"status",  "positions",  "orders",    "halt",    "resume", "order",
                          "flatten", "cancel-all", "reconcile", "token",   "login",  "alert-test",
                          "journal", "watch",      "preflight", "metrics", NULL};
    assert_non_null (strstr (out, "usage: tradectl"));
    for (int i = 0; cmds[i]; i++) {
        char line[32];
        snprintf (line, sizeof line, "\n  %s ", cmds[i]);
        if (!strstr (out, line))
            fail_msg ("--help does not list %s", cmds[i]);
    }
    assert_non_null (strstr (out, "exit codes"));
    free (out);
    kt_testproc_destroy (&p);
    s_ctl ("bogus");
    assert_int_equal (F.rc, 2);
    assert_non_null (strstr (F.err, "unknown command bogus"));
    s_ctl ("orders", "--sideways");
    assert_int_equal (F.rc, 2);
    s_ctl ("order", "--help");
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "usage: tradectl order BUY|SELL"));
    const char *bad[] = {"-c", "/nonexistent.json", "status", NULL};
    p = kt_testproc_start ("tradectl", bad, NULL);
    assert_int_equal (kt_testproc_wait (p, 10000), 2);
    kt_testproc_destroy (&p);
}

static void
test_redis_down (void **state)
{
    (void) state;
    s_ctl_with (F.cfg_dead, "positions", NULL);
    assert_int_equal (F.rc, 3);
    assert_non_null (strstr (F.err, "unavailable"));
    s_ctl_with (F.cfg_dead, "--json", "orders", NULL);
    assert_int_equal (F.rc, 3);
    cJSON *j = s_json (); //  --json answers with one object, also on failure
    assert_false (cJSON_IsTrue (cJSON_GetObjectItem (j, "ok")));
    assert_int_equal (cJSON_GetObjectItem (j, "exit")->valueint, 3);
    assert_non_null (strstr (cJSON_GetObjectItem (j, "error")->valuestring, "unavailable"));
    cJSON_Delete (j);
    s_ctl_with (F.cfg_dead, "metrics", "--once", NULL);
    assert_int_equal (F.rc, 3);
    assert_non_null (strstr (F.out, "kt_redis_up 0"));
    s_ctl_with (F.cfg_dead, "watch", "--once", NULL);
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "is DOWN"));
}

static void
test_positions_and_orders (void **state)
{
    (void) state;
    s_book ();
    s_ctl ("positions");
    assert_int_equal (F.rc, 0);
    const char *line = strstr (F.out, SYM);
    assert_non_null (line);
    assert_non_null (strstr (line, "-75"));
    assert_non_null (strstr (line, "Rs 150.00"));
    assert_null (strstr (F.out, "NIFTY25N2524000PE")); //  closed: not an open position
    s_ctl ("--json", "positions");
    cJSON *j = s_json ();
    cJSON *arr = cJSON_GetObjectItem (j, "positions");
    assert_int_equal (cJSON_GetArraySize (arr), 1);
    assert_int_equal (cJSON_GetObjectItem (cJSON_GetArrayItem (arr, 0), "qty")->valueint, -75);
    assert_int_equal (cJSON_GetObjectItem (cJSON_GetArrayItem (arr, 0), "avg_px")->valueint, 15000);
    cJSON_Delete (j);

    s_ctl ("orders");
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "S1-0001-SL"));
    assert_null (strstr (F.out, "S1-0003"));  //  filled: not open
    assert_non_null (strstr (F.out, " ago")); //  ages, not nanoseconds
    s_ctl ("orders", "--all", "--json");
    j = s_json ();
    arr = cJSON_GetObjectItem (j, "orders");
    assert_int_equal (cJSON_GetArraySize (arr), 4); //  today's, open or not, no :trades
    assert_string_equal (cJSON_GetObjectItem (cJSON_GetArrayItem (arr, 0), "coid")->valuestring,
                         "S1-0001");
    assert_string_equal (cJSON_GetObjectItem (cJSON_GetArrayItem (arr, 3), "status")->valuestring,
                         "FILLED");
    cJSON_Delete (j);
}

static void
test_journal (void **state)
{
    (void) state;
    //  risk-gate's record of the rollout stage: a start-up at 10%, the roll at 50%, and
    //  another day's (not this journal's)
    freeReplyObject (s_redis ("XADD kt:events * type risk.stage stage_pct 10 day 20251124"));
    freeReplyObject (s_redis ("XADD kt:events * type risk.day day 20251124 stage_pct 50"));
    freeReplyObject (s_redis ("XADD kt:events * type risk.stage stage_pct 100 day 20251125"));
    s_ctl ("journal", "--date", "2025-11-24");
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "section,capital_stage_pct\nstage,10\nstage,50\nsection,"));
    assert_non_null (strstr (F.out, "order,S1-0002,"));
    assert_non_null (strstr (F.out, "fill,S1-0003,T3,NIFTY25N2524000PE,SELL,75,103.50,0,262.50,"
                                    "2025-11-24 09:30:06"));
    assert_non_null (strstr (F.out, "trip,NIFTY25N2524000PE,75,7500.00,7762.50,262.50,"
                                    "2025-11-24 09:30:04,2025-11-24 09:30:06"));
    assert_non_null (strstr (F.out, "trip," SYM ",75,11250.00,0.00,0.00,2025-11-24 09:30:01,open"));
    char path[160];
    snprintf (path, sizeof path, "%s/j.csv", F.dir);
    s_ctl ("--json", "journal", "--date", "2025-11-24", "--out", path);
    assert_int_equal (F.rc, 0);
    cJSON *j = s_json ();
    assert_int_equal (cJSON_GetObjectItem (j, "fills")->valueint, 3);
    assert_int_equal (cJSON_GetObjectItem (j, "round_trips")->valueint, 2);
    assert_int_equal (cJSON_GetObjectItem (j, "realised")->valueint, 26250);
    cJSON_Delete (j);
    s_ctl ("--json", "journal", "--date", "2025-11-24");
    j = s_json ();
    assert_int_equal (cJSON_GetArraySize (cJSON_GetObjectItem (j, "orders")), 4);
    cJSON *stages = cJSON_GetObjectItem (j, "capital_stage_pct");
    assert_int_equal (cJSON_GetArraySize (stages), 2);
    assert_int_equal (cJSON_GetArrayItem (stages, 1)->valueint, 50);
    cJSON *trip = cJSON_GetArrayItem (cJSON_GetObjectItem (j, "round_trips"), 1);
    assert_int_equal (cJSON_GetObjectItem (trip, "realised")->valueint, 26250);
    assert_int_equal (cJSON_GetObjectItem (trip, "entry_value")->valueint, 750000);
    cJSON_Delete (j);
    s_ctl ("journal", "--date", "2025-11-23"); //  another day: headers only
    assert_int_equal (F.rc, 0);
    assert_null (strstr (F.out, "S1-0001"));
    s_ctl ("journal", "--date", "2025-13-01");
    assert_int_equal (F.rc, 2);
}

static void
test_order_blocked_and_risk_down (void **state)
{
    (void) state;
    //  Nobody on the risk socket yet: no answer, nothing sent.
    s_ctl ("order", "SELL", "75", SYM);
    assert_int_equal (F.rc, 4);
    assert_non_null (strstr (F.out, "risk-gate did not answer"));
    //  The kill switch is set in Redis even with risk-gate down, and tradectl says that
    //  nobody confirmed it.
    s_ctl ("halt", "no risk-gate");
    assert_int_equal (F.rc, 4);
    assert_non_null (strstr (F.out, "kill switch set: no risk-gate"));
    assert_non_null (strstr (F.out, "has not confirmed HALTED"));
    redisReply *k = s_redis ("HGET kt:risk:kill active");
    assert_string_equal (k->str, "1");
    freeReplyObject (k);
    s_ctl ("resume");
    assert_int_equal (F.rc, 0);
    F.risk = s_start ("risk-gate");
    //  An entry without a stop while risk.require_stop: BLOCKed with its reason.
    s_ctl ("order", "sell", "75", SYM, "--limit", "150.00");
    assert_int_equal (F.rc, 1);
    assert_non_null (strstr (F.out, "risk-gate BLOCK"));
    s_ctl ("--json", "order", "SELL", "75", SYM, "--limit", "150.00");
    assert_int_equal (F.rc, 1);
    cJSON *j = s_json ();
    cJSON *d = cJSON_GetObjectItem (j, "decision");
    assert_string_equal (cJSON_GetObjectItem (d, "verdict")->valuestring, "BLOCK");
    assert_true (cJSON_GetArraySize (cJSON_GetObjectItem (d, "reasons")) >= 1);
    cJSON_Delete (j);
    s_ctl ("order", "SELL", "75", SYM, "--limit", "150.001");
    assert_int_equal (F.rc, 2);
}

static void
test_flatten_and_cancel_all (void **state)
{
    (void) state;
    if (!F.risk)
        F.risk = s_start ("risk-gate");
    F.exec = s_start ("exec-gateway");
    s_ctl ("--json", "flatten");
    cJSON *j = s_json ();
    cJSON *arr = cJSON_GetObjectItem (j, "results");
    assert_int_equal (cJSON_GetArraySize (arr), 1); //  one open position
    cJSON *r0 = cJSON_GetArrayItem (arr, 0);
    assert_string_equal (cJSON_GetObjectItem (r0, "sym")->valuestring, SYM);
    cJSON *d = cJSON_GetObjectItem (r0, "decision");
    //  Risk-reducing: never refused for state or limits.
    assert_string_equal (cJSON_GetObjectItem (d, "verdict")->valuestring, "APPROVE");
    cJSON *e = cJSON_GetObjectItem (r0, "exec");
    assert_true (cJSON_IsObject (e));
    const char *coid = cJSON_GetObjectItem (e, "coid")->valuestring;
    const char *event = cJSON_GetObjectItem (e, "event")->valuestring;
    //  The report is exec-gateway's record of that order, not what was asked.
    redisReply *r = s_redis ("HGET kt:order:%s status", coid);
    assert_int_equal (r->type, REDIS_REPLY_STRING);
    if (strcmp (event, "REJECTED") == 0)
        assert_string_equal (r->str, "REJECTED");
    freeReplyObject (r);
    //  An operator's exit, and the journal says so.
    r = s_redis ("HGET kt:order:%s exit_reason", coid);
    assert_int_equal (r->type, REDIS_REPLY_STRING);
    assert_string_equal (r->str, "MANUAL");
    freeReplyObject (r);
    assert_int_equal (F.rc, strcmp (event, "REJECTED") == 0 ? 1 : 0);
    cJSON_Delete (j);

    s_ctl ("flatten", "NIFTY25N2524000PE"); //  closed: nothing to flatten
    assert_int_equal (F.rc, 1);
    assert_non_null (strstr (F.err, "no open position"));

    s_ctl ("cancel-all");
    assert_non_null (strstr (F.out, "cancel S1-0001-SL"));
    assert_non_null (strstr (F.out, "risk-gate "));
    assert_non_null (strstr (F.out, "exec-gateway: "));
}

static void
test_halt (void **state)
{
    (void) state;
    if (!F.risk)
        F.risk = s_start ("risk-gate");
    s_ctl ("--json", "halt", "ctl test");
    cJSON *j = s_json ();
    assert_true (cJSON_IsTrue (cJSON_GetObjectItem (j, "kill_switch")));
    assert_string_equal (cJSON_GetObjectItem (j, "state")->valuestring, "HALTED");
    //  The exit code follows exec-gateway's answers to the halt's commands.
    bool rejected = false;
    cJSON *ev;
    cJSON_ArrayForEach (ev, cJSON_GetObjectItem (j, "exec"))
    {
        const char *kind = cJSON_GetObjectItem (ev, "event")->valuestring;
        rejected |= strcmp (kind, "REJECTED") == 0;
        //  each answer is the one exec-gateway recorded for that command
        redisReply *o =
            s_redis ("HGET kt:order:%s status", cJSON_GetObjectItem (ev, "coid")->valuestring);
        if (o->type == REDIS_REPLY_STRING && rejected)
            assert_string_equal (o->str, "REJECTED");
        freeReplyObject (o);
    }
    if (F.exec)
        assert_true (cJSON_GetArraySize (cJSON_GetObjectItem (j, "exec")) >= 1);
    assert_int_equal (F.rc, !F.exec ? 4 : rejected ? 1 : 0);
    redisReply *r = s_redis ("HGET kt:risk:kill reason");
    assert_string_equal (r->str, "ctl test");
    freeReplyObject (r);
    r = s_redis ("HGET kt:risk:state state");
    assert_string_equal (r->str, "HALTED");
    freeReplyObject (r);
    cJSON_Delete (j);
    s_ctl ("halt");
    assert_int_equal (F.rc, 2);
    s_ctl ("resume");
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "state was HALTED"));
}

//  A breaker outlives a resume: only --clear with its code and a reason ends it, and
//  that is in `events` with who and why.
static void
test_resume_breaker (void **state)
{
    (void) state;
    freeReplyObject (s_redis ("HSET kt:risk:state state HALTED scope day reason %s",
                              "REJECTS: 5 broker rejections in 60 s"));
    s_ctl ("resume");
    assert_int_equal (F.rc, 1);
    assert_non_null (strstr (F.err, "resume refused: trading is HALTED by the REJECTS breaker"));
    assert_non_null (strstr (F.err, "tradectl resume --clear REJECTS --reason"));
    s_ctl ("resume", "--clear", "REJECTS");
    assert_int_equal (F.rc, 2);
    s_ctl ("resume", "--clear", "DAILY_LOSS", "--reason", "wrong code");
    assert_int_equal (F.rc, 1);
    assert_non_null (strstr (F.err, "DAILY_LOSS does not stand"));
    redisReply *r = s_redis ("HGET kt:risk:state state");
    assert_string_equal (r->str, "HALTED");
    freeReplyObject (r);
    s_ctl ("resume", "--clear", "REJECTS", "--reason", "sim venue restarted");
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "REJECTS breaker cleared by ctltest (sim venue restarted)"));
    r = s_redis ("HGET kt:risk:state state");
    assert_string_equal (r->str, "REDUCING");
    freeReplyObject (r);
    r = s_redis ("XREVRANGE kt:events + - COUNT 20");
    bool found = false;
    for (size_t i = 0; r && i < r->elements && !found; i++) {
        redisReply *f = r->element[i]->element[1];
        bool clear = false, who = false, why = false;
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            clear |= !strcmp (f->element[k]->str, "type") &&
                     !strcmp (f->element[k + 1]->str, "risk.clear");
            who |=
                !strcmp (f->element[k]->str, "by") && !strcmp (f->element[k + 1]->str, "ctltest");
            why |= !strcmp (f->element[k]->str, "reason") &&
                   !strcmp (f->element[k + 1]->str, "sim venue restarted");
        }
        found = clear && who && why;
    }
    freeReplyObject (r);
    assert_true (found);
}

static void
test_halt_without_redis (void **state)
{
    (void) state;
    if (!F.risk)
        F.risk = s_start ("risk-gate");
    //  Redis unreachable for tradectl, risk-gate up: the halt goes over its socket, and
    //  tradectl says exactly what risk-gate answered.
    s_ctl_with (F.cfg_dead, "--json", "halt", "redis is down", NULL);
    cJSON *j = s_json ();
    assert_false (cJSON_IsTrue (cJSON_GetObjectItem (j, "kill_switch")));
    cJSON *rg = cJSON_GetObjectItem (j, "risk_gate");
    assert_true (cJSON_IsObject (rg));
    const char *verdict = cJSON_GetObjectItem (rg, "verdict")->valuestring;
    assert_int_equal (F.rc, strcmp (verdict, "HALT") == 0 ? 0 : 1);
    cJSON_Delete (j);
}

static void
test_reconcile_request (void **state)
{
    (void) state;
    s_ctl ("reconcile", "--timeout", "1");
    assert_int_equal (F.rc, 4);
    assert_non_null (strstr (F.out, "reconciler is DOWN"));
    redisReply *r = s_redis ("HGET kt:recon:request by");
    assert_int_equal (r->type, REDIS_REPLY_STRING);
    assert_string_equal (r->str, "ctltest");
    freeReplyObject (r);
    r = s_redis ("HGET kt:recon:request requested_ns");
    assert_true (strtoll (r->str, NULL, 10) > 0);
    freeReplyObject (r);
}

//  The reconciler of this build does not watch recon:request yet; a child process
//  plays its heartbeat: when the request appears it reports a run that started then.
static void
test_reconcile_ran (void **state)
{
    (void) state;
    pid_t pid = fork ();
    if (pid == 0) {
        for (int i = 0; i < 400; i++) {
            redisContext *c = kt_testredis_connect (F.redis);
            redisReply *r = c ? redisCommand (c, "HGET kt:recon:request requested_ns") : NULL;
            redisReply *b = c ? redisCommand (c, "HGET kt:recon:request by") : NULL;
            bool fresh = r && r->type == REDIS_REPLY_STRING && b && b->type == REDIS_REPLY_STRING &&
                         strcmp (b->str, "ctltest2") == 0;
            if (fresh)
                freeReplyObject (redisCommand (c,
                                               "HSET kt:health:reconciler pid 4242 beat %s "
                                               "last_run_ns %s last_result %s",
                                               r->str, r->str, "agree:3"));
            if (r)
                freeReplyObject (r);
            if (b)
                freeReplyObject (b);
            if (c)
                redisFree (c);
            if (fresh)
                _exit (0);
            usleep (25000);
        }
        _exit (1);
    }
    const char *env[] = {"KITE_API_KEY=sim_api_key", "KITE_API_SECRET=sim_api_secret",
                         "USER=ctltest2", NULL};
    const char *args[] = {"-c", F.cfg, "reconcile", "--timeout", "10", NULL};
    kt_testproc_t *p = kt_testproc_start ("tradectl", args, env);
    int rc = kt_testproc_wait (p, 20000);
    char *out = kt_testproc_out_read (p);
    kt_testproc_destroy (&p);
    int st = 0;
    waitpid (pid, &st, 0);
    assert_int_equal (rc, 0);
    assert_non_null (strstr (out, "reconciler ran: agree:3"));
    free (out);
    freeReplyObject (s_redis ("DEL kt:health:reconciler"));
}

static void
test_token (void **state)
{
    (void) state;
    s_ctl ("token", "notthetoken123");
    assert_int_equal (F.rc, 1);
    assert_non_null (strstr (F.err, "refused"));
    char *sec = s_slurp (F.secrets);
    assert_non_null (strstr (sec, "KITE_ACCESS_TOKEN=" SIM_TOKEN "\n"));
    free (sec);
    s_ctl ("token", "bad token!");
    assert_int_equal (F.rc, 2);
    s_ctl ("token", SIM_TOKEN);
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "user SM0001"));
    assert_null (strstr (F.out, SIM_TOKEN)); //  never printed
    redisReply *r = s_redis ("HGET kt:session:reload what");
    assert_non_null (strstr (r->str, "...0001"));
    freeReplyObject (r);
}

static void
test_login_against_kite_sim (void **state)
{
    (void) state;
    s_ctl ("login", "https://127.0.0.1/kt?action=login&type=login&status=success&"
                    "request_token=ctlrt1");
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "user SM0001"));
    struct stat st;
    assert_int_equal (stat (F.secrets, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    char *sec = s_slurp (F.secrets);
    assert_non_null (strstr (sec, "OTHER=keep-me\n")); //  other secrets kept
    const char *t = strstr (sec, "KITE_ACCESS_TOKEN=");
    assert_non_null (t);
    t += strlen ("KITE_ACCESS_TOKEN=");
    assert_int_equal (strcspn (t, "\n"), 32); //  kite-sim's 32 hex chars
    assert_null (strstr (sec, SIM_TOKEN));    //  replaced, not appended
    free (sec);
    //  The new token works for the next process: preflight's broker check uses it.
    s_ctl ("--json", "preflight", "--alert-timeout", "1", "--min-disk-mb", "1");
    cJSON *j = s_json ();
    cJSON *c;
    bool token_pass = false;
    cJSON_ArrayForEach (
        c, cJSON_GetObjectItem (
               j, "checks")) if (strcmp (cJSON_GetObjectItem (c, "check")->valuestring, "token") ==
                                 0) token_pass = cJSON_IsTrue (cJSON_GetObjectItem (c, "pass"));
    assert_true (token_pass);
    cJSON_Delete (j);
    //  A request token works once.
    s_ctl ("login", "ctlrt1");
    assert_int_equal (F.rc, 1);
    assert_non_null (strstr (F.err, "login refused"));
    s_ctl ("login", "https://127.0.0.1/kt?status=success");
    assert_int_equal (F.rc, 2);
    //  The interactive way: the redirect URL pasted on stdin.
    char cmd[600];
    snprintf (cmd, sizeof cmd,
              "printf 'https://127.0.0.1/kt?request_token=ctlrt2&status=success\\n' | "
              "KITE_API_KEY=sim_api_key KITE_API_SECRET=sim_api_secret %s/bin/tradectl -c %s "
              "login 2>&1; echo rc=$?",
              getenv ("KT_BUILD") && *getenv ("KT_BUILD") ? getenv ("KT_BUILD") : "build", F.cfg);
    char *out = s_run (cmd);
    assert_non_null (strstr (out, "connect/login?api_key=sim_api_key"));
    assert_non_null (strstr (out, "user SM0001"));
    assert_non_null (strstr (out, "rc=0"));
    free (out);
    //  token - reads the token from stdin (kept out of the shell history)
    snprintf (cmd, sizeof cmd,
              "printf '" SIM_TOKEN "\\n' | KITE_API_KEY=sim_api_key KITE_API_SECRET=sim_api_secret "
              "%s/bin/tradectl -c %s token - 2>&1; echo rc=$?",
              getenv ("KT_BUILD") && *getenv ("KT_BUILD") ? getenv ("KT_BUILD") : "build", F.cfg);
    out = s_run (cmd);
    assert_non_null (strstr (out, "rc=0"));
    free (out);
    char *sec2 = s_slurp (F.secrets);
    assert_non_null (strstr (sec2, "KITE_ACCESS_TOKEN=" SIM_TOKEN "\n"));
    free (sec2);
    s_ctl ("login"); //  stdin is /dev/null: the URL is shown, nothing is pasted
    assert_int_equal (F.rc, 2);
    assert_non_null (
        strstr (F.err, "https://kite.zerodha.com/connect/login?api_key=sim_api_key&v=3"));
    assert_non_null (strstr (F.err, "nothing pasted"));
}

static void
test_alert_test (void **state)
{
    (void) state;
    s_ctl ("alert-test", "--timeout", "1");
    assert_int_equal (F.rc, 4);
    assert_non_null (strstr (F.out, "alerter is DOWN"));
    F.alerter = s_start ("alerter");
    s_ctl ("--json", "alert-test", "--timeout", "20");
    assert_int_equal (F.rc, 0);
    cJSON *j = s_json ();
    assert_true (cJSON_IsTrue (cJSON_GetObjectItem (j, "delivered")));
    assert_true (strlen (cJSON_GetObjectItem (j, "channel")->valuestring) > 0);
    cJSON_Delete (j);
}

static void
test_preflight (void **state)
{
    (void) state;
    s_ctl ("preflight", "--alert-timeout", "10", "--min-disk-mb", "1");
    assert_int_equal (F.rc, 1); //  some checks fail here
    assert_non_null (strstr (F.out, "PASS  token"));
    //  The test Redis runs without persistence, some processes are down, the stop of
    //  S1-0001 is open since 09:30 (before 09:00? no: after), no universe key.
    assert_non_null (strstr (F.out, "FAIL  redis          persistence OFF"));
    assert_non_null (strstr (F.out, "FAIL  md-gateway     no heartbeat"));
    assert_non_null (strstr (F.out, "PASS  instruments"));
    assert_non_null (strstr (F.out, "FAIL  universe"));
    assert_non_null (strstr (F.out, "PASS  disk"));
    assert_non_null (strstr (F.out, "preflight FAILED"));
}

//  Parse a Prometheus text exposition: every sample line is NAME[{LABELS}] VALUE.
static int
s_prom_value (const char *text, const char *series, double *out)
{
    int samples = 0;
    bool found = false;
    for (const char *l = text; *l;) {
        const char *end = strchr (l, '\n');
        size_t len = end ? (size_t) (end - l) : strlen (l);
        if (len && l[0] != '#') {
            char line[512];
            snprintf (line, sizeof line, "%.*s", (int) len, l);
            char *sp = strrchr (line, ' ');
            assert_non_null (sp);
            char *num_end;
            double v = strtod (sp + 1, &num_end);
            if (*num_end)
                fail_msg ("bad sample value: %s", line);
            *sp = '\0';
            size_t nl = strcspn (line, "{");
            for (size_t i = 0; i < nl; i++)
                assert_true ((line[i] >= 'a' && line[i] <= 'z') || line[i] == '_');
            if (line[nl] == '{')
                assert_int_equal (line[strlen (line) - 1], '}');
            if (strcmp (line, series) == 0) {
                *out = v;
                found = true;
            }
            samples++;
        }
        l = end ? end + 1 : l + len;
    }
    return found ? samples : -samples;
}

static void
test_metrics_over_http (void **state)
{
    (void) state;
    int port = s_free_port ();
    char listen[32], url[64];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf (url, sizeof url, "http://%s/metrics", listen);
    const char *args[] = {"-c", F.cfg, "metrics", "--listen", listen, NULL};
    kt_testproc_t *p = kt_testproc_start ("tradectl", args, s_env);
    kt_http_resp_t *r = NULL;
    for (int i = 0; i < 100; i++) {
        kt_http_resp_destroy (&r);
        r = kt_http_get_sync (url, NULL, 5000);
        if (r->err == KT_HTTP_OK)
            break;
        usleep (50000);
    }
    assert_int_equal (r->err, KT_HTTP_OK);
    assert_int_equal (r->status, 200);
    assert_non_null (strstr (r->content_type, "text/plain; version=0.0.4"));
    double v = -1;
    assert_true (s_prom_value (r->body, "kt_redis_up", &v) > 0);
    assert_true (v == 1);
    assert_true (s_prom_value (r->body, "kt_positions_open", &v) > 0);
    assert_true (v == 1);
    assert_true (s_prom_value (r->body, "kt_position_qty{sym=\"" SYM "\"}", &v) > 0);
    assert_true (v == -75);
    assert_true (s_prom_value (r->body, "kt_realised_paise", &v) > 0);
    assert_true (v == 26250);
    assert_true (s_prom_value (r->body, "kt_up{proc=\"md-gateway\"}", &v) > 0);
    assert_true (v == 0);
    if (F.risk) { //  risk-gate's trading state from its heartbeat
        bool any =
            s_prom_value (r->body, "kt_state{proc=\"risk-gate\",state=\"REDUCING\"}", &v) > 0 ||
            s_prom_value (r->body, "kt_state{proc=\"risk-gate\",state=\"HALTED\"}", &v) > 0 ||
            s_prom_value (r->body, "kt_state{proc=\"risk-gate\",state=\"ACTIVE\"}", &v) > 0;
        assert_true (any);
        assert_true (v == 1);
    }
    if (F.alerter) {
        assert_true (s_prom_value (r->body, "kt_up{proc=\"alerter\"}", &v) > 0);
        assert_true (v == 1);
    }
    //  Every series the sample dashboard queries is one tradectl serves.
    char *dash = s_slurp ("deploy/grafana-dashboard.json");
    assert_non_null (dash);
    int series = 0;
    for (const char *m = strstr (dash, "kt_"); m; m = strstr (m + 1, "kt_")) {
        if (m > dash && ((m[-1] >= 'a' && m[-1] <= 'z') || m[-1] == '_' || m[-1] == '-'))
            continue;
        char name[64], help[80];
        size_t n = strspn (m, "abcdefghijklmnopqrstuvwxyz_");
        snprintf (name, sizeof name, "%.*s", (int) n, m);
        snprintf (help, sizeof help, "# TYPE %s ", name);
        if (!strstr (r->body, help))
            fail_msg ("the dashboard queries %s, which metrics does not serve", name);
        series++;
    }
    assert_true (series >= 10);
    free (dash);
    kt_http_resp_destroy (&r);
    snprintf (url, sizeof url, "http://%s/other", listen);
    r = kt_http_get_sync (url, NULL, 5000);
    assert_int_equal (r->status, 404);
    kt_http_resp_destroy (&r);
    kt_testproc_signal (p, SIGTERM);
    assert_int_equal (kt_testproc_wait (p, 5000), 0);
    kt_testproc_destroy (&p);
}

static void
test_status_and_watch (void **state)
{
    (void) state;
    s_ctl ("status");
    assert_int_equal (F.rc, 0);
    //  the operator's first question first: no feed, no broker call, no risk-gate here
    assert_true (strncmp (F.out, "can open new positions: NO - ", 29) == 0);
    assert_non_null (strstr (F.out, "feed status unknown"));
    assert_non_null (strstr (F.out, "broker session not checked yet"));
    assert_non_null (strstr (F.out, "processes:"));
    assert_non_null (strstr (F.out, "md-gateway    DOWN (no heartbeat)"));
    assert_non_null (strstr (F.out, "capital stage:   100% of equity for entries"));
    s_ctl ("--json", "status");
    cJSON *j = s_json ();
    assert_true (cJSON_IsFalse (cJSON_GetObjectItem (j, "can_open")));
    assert_int_equal (cJSON_GetObjectItem (j, "capital_stage_pct")->valueint, 100);
    cJSON *why = cJSON_GetObjectItem (j, "why");
    assert_true (cJSON_GetArraySize (why) >= 2);
    assert_true (cJSON_IsString (cJSON_GetArrayItem (why, 0)));
    assert_true (cJSON_GetObjectItem (j, "processes_down")->valueint >= 1);
    assert_int_equal (cJSON_GetArraySize (cJSON_GetObjectItem (j, "positions")), 1);
    cJSON_Delete (j);
    s_ctl ("watch", "--once");
    assert_int_equal (F.rc, 0);
    assert_non_null (strstr (F.out, "tradectl watch"));
    assert_non_null (strstr (F.out, "open orders (book)"));
    assert_null (strstr (F.out, "\033[")); //  no escapes without a terminal
    s_ctl ("--json", "watch", "--once");
    assert_int_equal (F.rc, 0);
    j = s_json ();
    assert_true (cJSON_IsArray (cJSON_GetObjectItem (j, "processes")));
    cJSON_Delete (j);
}

static char *
s_run (const char *cmd)
{
    FILE *p = popen (cmd, "r");
    if (!p)
        return NULL;
    char *buf = calloc (1, 1 << 16);
    size_t n = fread (buf, 1, (1 << 16) - 1, p);
    buf[n] = '\0';
    pclose (p);
    return buf;
}

//  The README's log recipe, run as written on a log folder like run/logs: redis.log and
//  supervisord.log are not JSON (nor is a stray line in a process log); the recipe reads
//  past them and prints the warnings and errors of every process log.
static void
test_readme_log_recipe (void **state)
{
    (void) state;
    char *readme = s_slurp ("README.md");
    assert_non_null (readme);
    const char *at = strstr (readme, "run/logs/*.log`");
    assert_non_null (at);
    const char *start = at;
    while (start > readme && start[-1] != '`')
        start--;
    char recipe[512];
    snprintf (recipe, sizeof recipe, "%.*s", (int) (at - start) + 14, start); //  + run/logs/*.log
    free (readme);
    assert_non_null (strstr (recipe, "jq "));
    char dir[] = "/tmp/ctl_logs_XXXXXX";
    assert_non_null (mkdtemp (dir));
    char path[256];
    struct {
        const char *name, *text;
    } files[] = {
        {"alerter.log", "{\"ts\":1,\"lvl\":\"error\",\"ev\":\"alert.fail\"}\n"},
        {"redis.log", "1:C 06 Dec 2026 09:00:00.000 # Redis is starting\n42\n"},
        {"risk-gate.log", "{\"ts\":2,\"lvl\":\"info\",\"ev\":\"risk.up\"}\nstray text\n"
                          "{\"ts\":3,\"lvl\":\"warn\",\"ev\":\"risk.halt\"}\n"},
        {"supervisord.log", "2026-12-06 09:00:00,000 INFO spawned: 'risk-gate'\n"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *f = fopen (path, "w");
        assert_non_null (f);
        fputs (files[i].text, f);
        fclose (f);
    }
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "cd %s && mkdir -p run && ln -s %s run/logs && %s; echo rc=$?", dir,
              dir, recipe);
    char *out = s_run (cmd);
    assert_non_null (out);
    if (getenv ("CTL_SHOW"))
        fprintf (stderr, "%s\n%s", recipe, out);
    assert_string_equal (out, "{\"ts\":1,\"lvl\":\"error\",\"ev\":\"alert.fail\"}\n"
                              "{\"ts\":3,\"lvl\":\"warn\",\"ev\":\"risk.halt\"}\nrc=0\n");
    free (out);
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal (system (cmd), 0);
}

//  watch on a real terminal: tmux on a private server socket gives it one.
static void
test_watch_in_tmux (void **state)
{
    (void) state;
    char bin[300], sock[48], cmd[1200], rcfile[128];
    const char *b = getenv ("KT_BUILD");
    char *abs = realpath (b && *b ? b : "build", NULL);
    assert_non_null (abs);
    snprintf (bin, sizeof bin, "%s/bin/tradectl", abs);
    free (abs);
    snprintf (sock, sizeof sock, "kt-ctl-%d", (int) getpid ());
    snprintf (rcfile, sizeof rcfile, "%s/watch.rc", F.dir);
    snprintf (cmd, sizeof cmd,
              "tmux -L %s -f /dev/null new-session -d -s w -x 160 -y 60 "
              "'%s -c %s watch --interval 0.3; echo EXIT=$? > %s; sleep 30'",
              sock, bin, F.cfg, rcfile);
    assert_int_equal (system (cmd), 0);
    char *screen = NULL;
    snprintf (cmd, sizeof cmd, "tmux -L %s capture-pane -p -e -t w", sock);
    for (int i = 0; i < 100; i++) {
        free (screen);
        screen = s_run (cmd);
        if (screen && strstr (screen, "processes:") && strstr (screen, "open orders (book)"))
            break;
        usleep (100000);
    }
    assert_non_null (strstr (screen, "tradectl watch"));
    assert_non_null (strstr (screen, "DOWN"));
    assert_non_null (strstr (screen, "31m")); //  red where it needs a look
    free (screen);
    snprintf (cmd, sizeof cmd, "tmux -L %s send-keys -t w q", sock);
    assert_int_equal (system (cmd), 0);
    char *rc = NULL;
    for (int i = 0; i < 100 && !(rc && strstr (rc, "EXIT=")); i++) {
        free (rc);
        usleep (50000);
        rc = s_slurp (rcfile);
    }
    assert_non_null (rc);
    assert_non_null (strstr (rc, "EXIT=0"));
    free (rc);
    snprintf (cmd, sizeof cmd, "tmux -L %s kill-server", sock);
    if (system (cmd) != 0)
        fprintf (stderr, "tmux kill-server failed\n");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_help_and_usage),
        cmocka_unit_test (test_readme_log_recipe),
        cmocka_unit_test (test_redis_down),
        cmocka_unit_test (test_positions_and_orders),
        cmocka_unit_test (test_journal),
        cmocka_unit_test (test_status_and_watch),
        cmocka_unit_test (test_watch_in_tmux),
        cmocka_unit_test (test_order_blocked_and_risk_down),
        cmocka_unit_test (test_flatten_and_cancel_all),
        cmocka_unit_test (test_halt),
        cmocka_unit_test (test_resume_breaker),
        cmocka_unit_test (test_halt_without_redis),
        cmocka_unit_test (test_reconcile_request),
        cmocka_unit_test (test_reconcile_ran),
        cmocka_unit_test (test_token),
        cmocka_unit_test (test_login_against_kite_sim),
        cmocka_unit_test (test_alert_test),
        cmocka_unit_test (test_preflight),
        cmocka_unit_test (test_metrics_over_http),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
