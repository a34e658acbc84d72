/*  recon_test - the reconciler as a process against a real kite-sim and a real Redis.
 *
 *  Shows, each discrepancy made behind the system's back through kite-sim's REST and
 *  admin endpoints:
 *  - agreement on an empty account (recon:last agree, risk:state recon_ok_ns), and a
 *    real risk-gate going REDUCING -> ACTIVE by itself;
 *  - a fill missing in Redis applied once (still once after more runs and a second
 *    report of the same trade);
 *  - an UNRESOLVED order settled from kite-sim's order book by its tag, once;
 *  - a position opened at kite-sim behind our back halted (kill switch, CRITICAL alert)
 *    with recon.unknown_position "halt", and adopted as EXTERNAL with "adopt";
 *  - our stop's fill closing a position (exit reason RECONCILED);
 *  - an order cancelled at the broker settled;
 *  - `tradectl reconcile` answered by this reconciler with a run;
 *  - the session expired at the broker (TokenException: no agreement, CRITICAL alert)
 *    and a new token loaded through session:reload without a restart;
 *  - a quantity changed at the broker halted, both views in the alert.
 *  Ports are free ones; the config is the shipped sim.json with its addresses changed. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cJSON.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "kt.h"
#include "kt_testproc.h"
#include "kt_testredis.h"
#include "kt_testsim.h"

struct env {
    kt_testredis_t *redis;
    kt_testsim_t *sim;
    kt_testproc_t *recon;
    kt_testproc_t *risk;
    kt_store_t *store;
    char dir[64];
    char base[64]; //  kite-sim REST base
    char cfg_adopt[128];
    char cfg_halt[128];
    char secrets[128];       //  holds kite.access_token (KITE_ACCESS_TOKEN=...)
    char sym[3][KT_SYM_LEN]; //  options kite-sim lists
    char ru1[32];            //  kite-sim's id of the order behind UNRESOLVED RU1
};

static struct env s_env;

static const char *const s_proc_env[] = {"KITE_API_KEY=sim_api_key",
                                         "KITE_API_SECRET=sim_api_secret",
                                         "KITE_ACCESS_TOKEN=" KT_TESTSIM_TOKEN, NULL};

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

//  ---- kite-sim over REST -------------------------------------------------------------

static kt_http_resp_t *
s_sim (const char *method, const char *path, const char *form)
{
    return kt_testsim_call (s_env.sim, method, path, form);
}

//  Place an order at kite-sim behind the system's back; returns its order id (owned).
static char *
s_place (const char *form)
{
    kt_http_resp_t *r = s_sim ("POST", "/orders/regular", form);
    assert_int_equal (r->err, KT_HTTP_OK);
    if (r->status != 200)
        fail_msg ("order refused: %s", r->body);
    cJSON *root = cJSON_Parse (r->body);
    const cJSON *id = cJSON_GetObjectItem (cJSON_GetObjectItem (root, "data"), "order_id");
    assert_true (cJSON_IsString (id));
    char *out = strdup (id->valuestring);
    cJSON_Delete (root);
    kt_http_resp_destroy (&r);
    return out;
}

static void
s_admin (const char *form)
{
    kt_http_resp_t *r = s_sim ("POST", "/_admin/fault", form);
    assert_int_equal (r->err, KT_HTTP_OK);
    assert_int_equal (r->status, 200);
    kt_http_resp_destroy (&r);
}

//  Three options kite-sim lists at Rs 20 - 1000, so a BUY LIMIT at 0.05 rests and a SELL
//  MARKET finds bids.
static void
s_pick_symbols (void)
{
    kt_http_resp_t *r = s_sim ("GET", "/instruments/NFO", NULL);
    assert_int_equal (r->status, 200);
    int n = 0;
    for (const char *line = strchr (r->body, '\n'); line && n < 3; line = strchr (line + 1, '\n')) {
        char sym[KT_SYM_LEN], last[24];
        int64_t px = 0;
        if (sscanf (line + 1, "%*[^,],%*[^,],%31[^,],%*[^,],%23[^,]", sym, last) == 2 &&
            kt_money_parse (last, strlen (last), &px) == 0 && px >= 2000 && px <= 100000)
            snprintf (s_env.sym[n++], sizeof s_env.sym[0], "%s", sym);
    }
    assert_int_equal (n, 3);
    kt_http_resp_destroy (&r);
}

//  ---- config and processes -------------------------------------------------------------

static char *
s_read_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    size_t got = fread (buf, 1, (size_t) n, f);
    buf[got] = 0;
    fclose (f);
    return buf;
}

//  Replace the secrets file (mode 0600, renamed into place as tradectl login does).
static int
s_write_secret (const char *token)
{
    char tmp[160];
    snprintf (tmp, sizeof tmp, "%s.tmp", s_env.secrets);
    FILE *f = fopen (tmp, "w");
    if (!f)
        return -1;
    fprintf (f, "KITE_ACCESS_TOKEN=%s\n", token);
    fclose (f);
    chmod (tmp, 0600);
    return rename (tmp, s_env.secrets);
}

static int
s_write_config (const char *path, const char *unknown)
{
    char *text = s_read_file ("deploy/config/sim.json");
    if (!text)
        return -1;
    cJSON *root = cJSON_Parse (text);
    free (text);
    if (!root)
        return -1;
    static const char *const eps[] = {"md", "risk", "risk_pub", "exec", "exec_pub", "alerts"};
    cJSON *bus = cJSON_GetObjectItem (root, "bus");
    for (int i = 0; i < 6; i++) {
        char ep[128];
        snprintf (ep, sizeof ep, "ipc://%s/%s", s_env.dir, eps[i]);
        cJSON_ReplaceItemInObject (bus, eps[i], cJSON_CreateString (ep));
    }
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "redis"), "port",
                               cJSON_CreateNumber (s_env.redis->port));
    cJSON *kite = cJSON_GetObjectItem (root, "kite");
    cJSON_ReplaceItemInObject (kite, "api_url", cJSON_CreateString (kt_testsim_base (s_env.sim)));
    //  The token from a secrets file, as tradectl login writes it, so a new one can be
    //  loaded while the reconciler runs.
    char ref[192];
    snprintf (ref, sizeof ref, "file:%s#KITE_ACCESS_TOKEN", s_env.secrets);
    cJSON_ReplaceItemInObject (kite, "access_token", cJSON_CreateString (ref));
    cJSON *clock = cJSON_GetObjectItem (root, "clock");
    cJSON_ReplaceItemInObject (clock, "date", cJSON_CreateString ("2025-11-24"));
    cJSON_ReplaceItemInObject (clock, "start", cJSON_CreateString ("10:00"));
    cJSON_ReplaceItemInObject (clock, "speed", cJSON_CreateNumber (1));
    cJSON *recon = cJSON_CreateObject ();
    cJSON_AddNumberToObject (recon, "interval_s", 1);
    cJSON_AddStringToObject (recon, "unknown_position", unknown);
    cJSON_AddNumberToObject (recon, "retry_runs", 2);
    cJSON_AddNumberToObject (recon, "retry_s", 1);
    cJSON_AddNumberToObject (recon, "request_poll_ms", 100);
    cJSON_ReplaceItemInObject (root, "recon", recon);
    char *out = cJSON_Print (root);
    cJSON_Delete (root);
    FILE *f = fopen (path, "w");
    if (!f) {
        free (out);
        return -1;
    }
    fputs (out, f);
    fclose (f);
    free (out);
    return 0;
}

static kt_testproc_t *
s_start_proc (const char *name, const char *cfg)
{
    const char *args[] = {"-c", cfg, NULL};
    kt_testproc_t *p = kt_testproc_start (name, args, s_proc_env);
    assert_non_null (p);
    if (!kt_testproc_log_wait (p, "proc.start", NULL, 5000)) {
        kt_testproc_log_dump (p, 3000);
        fail_msg ("%s did not start", name);
    }
    return p;
}

static kt_testproc_t *
s_start_recon (const char *cfg)
{
    return s_start_proc ("reconciler", cfg);
}

static int
s_setup (void **state)
{
    (void) state;
    s_env.redis = kt_testredis_start ();
    if (!s_env.redis)
        return -1;
    snprintf (s_env.dir, sizeof s_env.dir, "/tmp/kt-recon-XXXXXX");
    if (!mkdtemp (s_env.dir))
        return -1;
    static const char *const sim_args[] = {"--date",  "2025-11-24", "--start", "10:00",
                                           "--speed", "1",          NULL};
    s_env.sim = kt_testsim_start (sim_args);
    if (!s_env.sim)
        return -1;
    snprintf (s_env.secrets, sizeof s_env.secrets, "%s/secrets", s_env.dir);
    if (s_write_secret (KT_TESTSIM_TOKEN) != 0)
        return -1;
    snprintf (s_env.cfg_adopt, sizeof s_env.cfg_adopt, "%s/adopt.json", s_env.dir);
    snprintf (s_env.cfg_halt, sizeof s_env.cfg_halt, "%s/halt.json", s_env.dir);
    if (s_write_config (s_env.cfg_adopt, "adopt") != 0 ||
        s_write_config (s_env.cfg_halt, "halt") != 0)
        return -1;
    s_env.store = kt_store_new ("127.0.0.1", s_env.redis->port, "kt:", 2000);
    kt_book_register (s_env.store);
    if (kt_store_connect (s_env.store) != 0)
        return -1;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_testproc_destroy (&s_env.recon);
    kt_testproc_destroy (&s_env.risk);
    kt_testsim_destroy (&s_env.sim);
    kt_store_destroy (&s_env.store);
    kt_testredis_stop (&s_env.redis);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_env.dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", s_env.dir);
    return 0;
}

//  ---- Redis helpers -------------------------------------------------------------------------

static char *
s_hget (const char *key, const char *field, char *buf, size_t len)
{
    buf[0] = '\0';
    kt_store_result_t r = kt_store_callf (s_env.store, "HGET %s %s", key, field);
    if (r.kind == KT_STORE_STR)
        snprintf (buf, len, "%s", r.str);
    kt_store_result_free (&r);
    return buf;
}

//  Wait up to ms for HGET key field == want.
static bool
s_wait_field (const char *key, const char *field, const char *want, int ms)
{
    char buf[128];
    for (int waited = 0; waited <= ms; waited += 50) {
        if (strcmp (s_hget (key, field, buf, sizeof buf), want) == 0)
            return true;
        s_sleep_ms (50);
    }
    fprintf (stderr, "%s %s is \"%s\", wanted \"%s\"\n", key, field, buf, want);
    return false;
}

static long long
s_int_of (const char *fmt, const char *arg)
{
    kt_store_result_t r = kt_store_callf (s_env.store, fmt, arg);
    long long v = r.kind == KT_STORE_INT ? r.integer : -1;
    kt_store_result_free (&r);
    return v;
}

//  Number of `events` entries of type recon.finding whose fields contain all of a, b.
static int
s_findings (const char *a, const char *b)
{
    kt_store_result_t r = kt_store_callf (s_env.store, "XRANGE kt:events - +");
    int n = 0;
    for (size_t i = 0; i < r.elements; i++) {
        kt_store_result_t entry = kt_store_result_at (&r, i);
        kt_store_result_t f = kt_store_result_at (&entry, 1);
        bool type = false, has_a = !a, has_b = !b;
        for (size_t k = 0; k + 1 < f.elements; k += 2) {
            kt_store_result_t name = kt_store_result_at (&f, k),
                              val = kt_store_result_at (&f, k + 1);
            type |= strcmp (name.str, "type") == 0 && strcmp (val.str, "recon.finding") == 0;
            char pair[160];
            snprintf (pair, sizeof pair, "%s=%s", name.str, val.str);
            has_a |= a && strcmp (pair, a) == 0;
            has_b |= b && strcmp (pair, b) == 0;
        }
        n += type && has_a && has_b;
    }
    kt_store_result_free (&r);
    return n;
}

//  The pipeline's "now", as every process computes it from the shared clock hash.
static int64_t
s_pipeline_now (void)
{
    kt_clock_t *clock = kt_proc_shared_clock (s_env.store, NULL);
    assert_non_null (clock);
    int64_t now = kt_clock_now_ns (clock);
    kt_clock_destroy (&clock);
    return now;
}

//  Ask for a run as `tradectl reconcile` does and wait until recon:last answers it with
//  agreement.
static void
s_run_until_agree (const char *what)
{
    char ns[24];
    snprintf (ns, sizeof ns, "%lld", (long long) s_pipeline_now ());
    kt_store_result_t r = kt_store_callf (
        s_env.store, "HSET kt:recon:request requested_ns %s by recon_test what %s", ns, what);
    assert_int_equal (r.kind, KT_STORE_INT);
    kt_store_result_free (&r);
    assert_true (s_wait_field ("kt:recon:last", "request_ns", ns, 10000));
    assert_true (s_wait_field ("kt:recon:last", "agree", "1", 10000));
}

static void
s_order_as (const char *coid, const char *sym, kt_side_t side, kt_order_type_t type, int64_t price,
            kt_ord_status_t status, kt_purpose_t purpose, const char *parent)
{
    struct kt_order_rec o = {0};
    snprintf (o.parent, sizeof o.parent, "%s", parent);
    snprintf (o.coid, sizeof o.coid, "%s", coid);
    snprintf (o.intent_id, sizeof o.intent_id, "i-%s", coid);
    snprintf (o.sym, sizeof o.sym, "%s", sym);
    o.side = side;
    o.order_type = type;
    o.product = KT_PROD_MIS;
    o.purpose = purpose;
    o.qty = 75;
    o.price = price;
    o.status = status;
    char why[256];
    assert_int_equal (
        kt_book_order_create (s_env.store, &o, kt_clock_wall_ns (), NULL, why, sizeof why), 1);
}

static void
s_order (const char *coid, const char *sym, kt_side_t side, kt_order_type_t type, int64_t price,
         kt_ord_status_t status)
{
    s_order_as (coid, sym, side, type, price, status, KT_PURPOSE_ENTRY, "");
}

//  ---- the scenarios -----------------------------------------------------------------------------

static void
test_agreement_on_an_empty_account (void **state)
{
    (void) state;
    s_pick_symbols ();
    //  risk-gate starts REDUCING and waits for the reconciler.
    s_env.risk = s_start_proc ("risk-gate", s_env.cfg_adopt);
    assert_true (s_wait_field ("kt:risk:state", "state", "REDUCING", 10000));
    s_env.recon = s_start_recon (s_env.cfg_adopt);
    assert_true (s_wait_field ("kt:recon:last", "agree", "1", 10000));
    //  ... and turns ACTIVE on the first agreement, with no help.
    if (!s_wait_field ("kt:risk:state", "state", "ACTIVE", 10000))
        kt_testproc_log_dump (s_env.risk, 3000);
    char st[64];
    assert_string_equal (s_hget ("kt:risk:state", "state", st, sizeof st), "ACTIVE");
    kt_testproc_destroy (&s_env.risk);
    char buf[64], ok[64];
    assert_string_equal (s_hget ("kt:recon:last", "session_ok", buf, sizeof buf), "1");
    assert_string_equal (s_hget ("kt:recon:last", "findings", buf, sizeof buf), "0");
    //  risk-gate went ACTIVE on recon:last agree_ns alone: risk:state has no bridge field.
    assert_string_equal (s_hget ("kt:risk:state", "recon_ok_ns", ok, sizeof ok), "");
    assert_true (atoll (s_hget ("kt:recon:last", "agree_ns", buf, sizeof buf)) > 0);
    assert_non_null (kt_testproc_log_wait (s_env.recon, "recon.run", "\"agree\":true", 1000));
}

static void
test_missing_fill_applied_once (void **state)
{
    (void) state;
    //  Our order, recorded; its fill happens at the broker and never reaches the book.
    s_order ("RF1", s_env.sym[0], KT_SIDE_SELL, KT_OT_MARKET, 0, KT_OS_OPEN);
    char form[512];
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=SELL&order_type=MARKET"
              "&quantity=75&product=MIS&market_protection=-1&tag=RF1",
              s_env.sym[0]);
    char *id = s_place (form);
    assert_true (s_wait_field ("kt:order:RF1", "filled_qty", "75", 10000));
    char buf[64];
    assert_string_equal (s_hget ("kt:order:RF1", "status", buf, sizeof buf), "FILLED");
    char pos[64];
    snprintf (pos, sizeof pos, "kt:pos:%s", s_env.sym[0]);
    assert_string_equal (s_hget (pos, "qty", buf, sizeof buf), "-75");
    assert_int_equal (s_int_of ("SCARD %s", "kt:order:RF1:trades"), 1);
    assert_int_equal (s_findings ("class=missing_fill", "outcome=done"), 1);
    //  More runs, and exec-gateway reporting the same trade late: still once.
    s_run_until_agree ("fill-1");
    s_run_until_agree ("fill-2");
    kt_store_result_t r = kt_store_callf (s_env.store, "SMEMBERS kt:order:RF1:trades");
    kt_store_result_t tid = kt_store_result_at (&r, 0);
    assert_int_equal (tid.kind, KT_STORE_STR);
    struct kt_book_fill fill = {.qty = 75, .price = 100};
    snprintf (fill.coid, sizeof fill.coid, "RF1");
    snprintf (fill.trade_id, sizeof fill.trade_id, "%s", tid.str);
    kt_store_result_free (&r);
    struct kt_book_fill_result res;
    char why[256];
    assert_int_equal (kt_book_fill (s_env.store, &fill, &res, why, sizeof why), 0);
    assert_true (res.duplicate);
    assert_string_equal (s_hget ("kt:order:RF1", "filled_qty", buf, sizeof buf), "75");
    assert_string_equal (s_hget (pos, "qty", buf, sizeof buf), "-75");
    assert_int_equal (s_findings ("class=missing_fill", NULL), 1);
    free (id);
}

static void
test_unresolved_settled_by_tag (void **state)
{
    (void) state;
    //  A submit whose answer was lost: UNRESOLVED in the book, resting at the broker.
    s_order ("RU1", s_env.sym[1], KT_SIDE_BUY, KT_OT_LIMIT, 5, KT_OS_UNRESOLVED);
    char form[512];
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY&order_type=LIMIT"
              "&quantity=75&product=MIS&price=0.05&tag=RU1",
              s_env.sym[1]);
    char *id = s_place (form);
    assert_true (s_wait_field ("kt:order:RU1", "status", "OPEN", 10000));
    char buf[64];
    assert_string_equal (s_hget ("kt:order:RU1", "broker_id", buf, sizeof buf), id);
    assert_string_equal (s_hget ("kt:order:RU1", "broker_status", buf, sizeof buf), "OPEN");
    assert_int_equal (s_int_of ("SISMEMBER kt:orders:open %s", "RU1"), 1);
    s_run_until_agree ("unresolved-1");
    s_run_until_agree ("unresolved-2");
    assert_int_equal (s_findings ("class=unresolved", "coid=RU1"), 1);
    snprintf (s_env.ru1, sizeof s_env.ru1, "%s", id);
    free (id);
}

static void
test_unknown_position_halts (void **state)
{
    (void) state;
    kt_testproc_destroy (&s_env.recon);
    char form[256];
    snprintf (form, sizeof form, "kind=position&tradingsymbol=%s&quantity=-150", s_env.sym[2]);
    s_admin (form);
    s_env.recon = s_start_recon (s_env.cfg_halt);
    assert_true (s_wait_field ("kt:risk:kill", "active", "1", 15000));
    char buf[256];
    assert_string_equal (s_hget ("kt:risk:kill", "by", buf, sizeof buf), "reconciler");
    assert_non_null (strstr (s_hget ("kt:risk:kill", "reason", buf, sizeof buf), s_env.sym[2]));
    assert_non_null (
        kt_testproc_log_wait (s_env.recon, "alert.raised", "recon.unknown_position", 5000));
    const char *line = kt_testproc_log_wait (s_env.recon, "alert.raised", "CRITICAL", 5000);
    assert_non_null (line);
    assert_non_null (strstr (line, "broker view"));
    assert_non_null (strstr (line, "Redis view"));
    assert_true (s_findings ("class=unknown_position", "broker_qty=-150") >= 2);
    assert_true (s_findings ("class=unknown_position", "outcome=done") >= 1);
    assert_string_equal (s_hget ("kt:recon:last", "agree", buf, sizeof buf), "0");
    //  Nothing was booked: halting is the action.
    snprintf (form, sizeof form, "kt:pos:%s", s_env.sym[2]);
    assert_string_equal (s_hget (form, "qty", buf, sizeof buf), "");
}

static void
test_unknown_position_adopted (void **state)
{
    (void) state;
    kt_testproc_destroy (&s_env.recon);
    kt_store_result_t r = kt_store_callf (s_env.store, "DEL kt:risk:kill");
    kt_store_result_free (&r);
    s_env.recon = s_start_recon (s_env.cfg_adopt);
    char pos[64], buf[64];
    snprintf (pos, sizeof pos, "kt:pos:%s", s_env.sym[2]);
    assert_true (s_wait_field (pos, "qty", "-150", 15000));
    char coid[64];
    s_hget (pos, "entry_coid", coid, sizeof coid);
    assert_true (coid[0] == 'x');
    char okey[96];
    snprintf (okey, sizeof okey, "kt:order:%s", coid);
    assert_string_equal (s_hget (okey, "intent_id", buf, sizeof buf), "EXTERNAL");
    assert_true (atoll (s_hget (pos, "avg_px", buf, sizeof buf)) > 0);
    assert_non_null (kt_testproc_log_wait (s_env.recon, "alert.raised", "adopted", 5000));
    //  Adopted once; the next runs agree and no second adoption follows.
    s_run_until_agree ("adopt-1");
    s_run_until_agree ("adopt-2");
    assert_string_equal (s_hget (pos, "qty", buf, sizeof buf), "-150");
    assert_int_equal (s_findings ("class=unknown_position", "action=adopt"), 1);
    assert_string_equal (s_hget ("kt:risk:kill", "active", buf, sizeof buf), "");
}

static void
test_closed_by_stop (void **state)
{
    (void) state;
    //  The short from the missing fill is protected by our stop; the stop fills at the
    //  broker and the book never hears of it.
    char pos[64], buf[64];
    snprintf (pos, sizeof pos, "kt:pos:%s", s_env.sym[0]);
    assert_string_equal (s_hget (pos, "qty", buf, sizeof buf), "-75");
    s_order_as ("RS1", s_env.sym[0], KT_SIDE_BUY, KT_OT_MARKET, 0, KT_OS_OPEN, KT_PURPOSE_STOP,
                "RF1");
    char form[512];
    snprintf (form, sizeof form,
              "tradingsymbol=%s&exchange=NFO&transaction_type=BUY&order_type=MARKET"
              "&quantity=75&product=MIS&market_protection=-1&tag=RS1",
              s_env.sym[0]);
    free (s_place (form));
    assert_true (s_wait_field (pos, "qty", "0", 10000));
    assert_string_equal (s_hget (pos, "exit_reason", buf, sizeof buf), "RECONCILED");
    assert_string_equal (s_hget ("kt:order:RS1", "status", buf, sizeof buf), "FILLED");
    assert_string_equal (s_hget ("kt:order:RS1", "exit_reason", buf, sizeof buf), "RECONCILED");
    assert_int_equal (s_int_of ("SISMEMBER kt:positions %s", s_env.sym[0]), 0);
    s_run_until_agree ("stop-1");
    assert_int_equal (s_findings ("class=closed_by_stop", "outcome=done"), 1);
}

static void
test_order_cancelled_at_broker (void **state)
{
    (void) state;
    //  RU1 rests at the broker; someone cancels it there.
    char path[96];
    snprintf (path, sizeof path, "/orders/regular/%s", s_env.ru1);
    kt_http_resp_t *r = s_sim ("DELETE", path, NULL);
    assert_int_equal (r->status, 200);
    kt_http_resp_destroy (&r);
    assert_true (s_wait_field ("kt:order:RU1", "status", "CANCELLED", 10000));
    char buf[64];
    assert_string_equal (s_hget ("kt:order:RU1", "broker_status", buf, sizeof buf), "CANCELLED");
    assert_int_equal (s_int_of ("SISMEMBER kt:orders:open %s", "RU1"), 0);
    s_run_until_agree ("cancel-1");
    assert_int_equal (s_findings ("class=order_state", "coid=RU1"), 1);
}

static void
test_qty_mismatch_halts (void **state)
{
    (void) state;
    //  The adopted short changes at the broker with no order or trade of ours.
    char form[256], buf[256];
    snprintf (form, sizeof form, "kind=position&tradingsymbol=%s&quantity=-75", s_env.sym[2]);
    s_admin (form);
    assert_true (s_wait_field ("kt:risk:kill", "active", "1", 15000));
    assert_non_null (strstr (s_hget ("kt:risk:kill", "reason", buf, sizeof buf), s_env.sym[2]));
    const char *line =
        kt_testproc_log_wait (s_env.recon, "alert.raised", "recon.qty_mismatch", 5000);
    assert_non_null (line);
    assert_non_null (strstr (line, "CRITICAL"));
    assert_non_null (strstr (line, "Redis view"));
    assert_non_null (strstr (line, "qty -150"));
    assert_int_equal (s_findings ("class=qty_mismatch", "redis_qty=-150") >= 2, 1);
    assert_true (s_findings ("class=qty_mismatch", "outcome=done") >= 1);
    snprintf (form, sizeof form, "kt:pos:%s", s_env.sym[2]);
    assert_string_equal (s_hget (form, "qty", buf, sizeof buf), "-150");
}

static void
test_tradectl_reconcile (void **state)
{
    (void) state;
    //  The operator's command against this reconciler: it reports a run that happened.
    const char *env[] = {"KITE_API_KEY=sim_api_key", "KITE_API_SECRET=sim_api_secret",
                         "USER=recon_test", NULL};
    const char *args[] = {"-c", s_env.cfg_adopt, "reconcile", "--timeout", "15", NULL};
    kt_testproc_t *p = kt_testproc_start ("tradectl", args, env);
    assert_non_null (p);
    int rc = kt_testproc_wait (p, 30000);
    char *out = kt_testproc_out_read (p);
    kt_testproc_destroy (&p);
    if (rc != 0)
        fprintf (stderr, "tradectl reconcile: %d\n%s\n", rc, out);
    assert_int_equal (rc, 0);
    if (!strstr (out, "reconciler ran: agree"))
        fprintf (stderr, "tradectl said: %s\n", out);
    assert_non_null (strstr (out, "reconciler ran: agree"));
    free (out);
    char buf[64];
    assert_true (atoll (s_hget ("kt:recon:last", "request_ns", buf, sizeof buf)) > 0);
}

//  kite-sim's daily login: a request token exchanged with its checksum for an access
//  token (docs/kite-sim.md). Writes the 32 hex chars into token.
static void
s_login (const char *request_token, char token[64])
{
    char input[128], hex[65];
    snprintf (input, sizeof input, "%s%s%s", KT_TESTSIM_API_KEY, request_token, "sim_api_secret");
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest (input, strlen (input), md, &n, EVP_sha256 (), NULL);
    for (int i = 0; i < 32; i++)
        snprintf (hex + 2 * i, 3, "%02x", md[i]);
    char form[256], url[128];
    snprintf (form, sizeof form, "api_key=%s&request_token=%s&checksum=%s", KT_TESTSIM_API_KEY,
              request_token, hex);
    snprintf (url, sizeof url, "%s/session/token", kt_testsim_base (s_env.sim));
    const char *headers[] = {"X-Kite-Version: 3", NULL};
    kt_http_req_t req = {.url = url, .headers = headers, .body = form, .timeout_ms = 5000};
    kt_http_resp_t *r = kt_http_sync (&req);
    if (r->status != 200)
        fail_msg ("login refused: %ld %s", r->status, r->body);
    cJSON *root = cJSON_Parse (r->body);
    const cJSON *tok = cJSON_GetObjectItem (cJSON_GetObjectItem (root, "data"), "access_token");
    assert_true (cJSON_IsString (tok));
    snprintf (token, 64, "%s", tok->valuestring);
    cJSON_Delete (root);
    kt_http_resp_destroy (&r);
}

static void
test_token_expiry_and_reload (void **state)
{
    (void) state;
    //  The session ends at the broker: TokenException, session not ok, CRITICAL alert.
    s_admin ("kind=expire_tokens");
    assert_true (s_wait_field ("kt:recon:last", "session_ok", "0", 10000));
    char buf[160];
    assert_non_null (
        strstr (s_hget ("kt:recon:last", "broker_error", buf, sizeof buf), "TokenException"));
    assert_string_equal (s_hget ("kt:recon:last", "agree", buf, sizeof buf), "0");
    const char *line = kt_testproc_log_wait (s_env.recon, "alert.raised", "recon.session", 5000);
    assert_non_null (line);
    assert_non_null (strstr (line, "CRITICAL"));
    //  The daily login, as tradectl login does it: a new token in the secrets file, then
    //  session:reload.
    char token[64];
    s_login ("recon-rt-1", token);
    assert_int_equal (s_write_secret (token), 0);
    char ns[24];
    snprintf (ns, sizeof ns, "%lld", (long long) s_pipeline_now ());
    kt_store_result_t r = kt_store_callf (
        s_env.store, "HSET kt:session:reload requested_ns %s by recon_test what ...%s", ns,
        token + 28);
    kt_store_result_free (&r);
    assert_non_null (
        kt_testproc_log_wait (s_env.recon, "recon.session_reload", "\"changed\":true", 5000));
    assert_true (s_wait_field ("kt:recon:last", "session_ok", "1", 10000));
    assert_true (s_wait_field ("kt:recon:last", "agree", "1", 10000));
    //  Never logged.
    assert_int_equal (kt_testproc_log_count (s_env.recon, NULL, token), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_agreement_on_an_empty_account),
        cmocka_unit_test (test_missing_fill_applied_once),
        cmocka_unit_test (test_unresolved_settled_by_tag),
        cmocka_unit_test (test_unknown_position_halts),
        cmocka_unit_test (test_unknown_position_adopted),
        cmocka_unit_test (test_closed_by_stop),
        cmocka_unit_test (test_order_cancelled_at_broker),
        cmocka_unit_test (test_tradectl_reconcile),
        cmocka_unit_test (test_token_expiry_and_reload),
        cmocka_unit_test (test_qty_mismatch_halts),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
