/*  exec_gateway_test - the exec-gateway binary against kite-sim, real Redis, real HTTP.
 *
 *  kite-sim runs paused on a Monday (2025-11-24 10:00 IST, seed 7), so the market only
 *  moves when the test steps its clock; exec-gateway runs on real time with a fast
 *  order book poll. The test plays risk-gate: it sends ORDER_COMMANDs on `exec`
 *  (DEALER) and reads EXEC_EVENTs on `exec_pub`. Each case checks the book in Redis and
 *  kite-sim's own order book agree: each order type, each error type, a throttled
 *  burst, token expiry, accepted-then-rejected, the dropped answer after acceptance
 *  (exactly one order, settled by tag), a 5xx after the order was placed, attached
 *  stops (placed, resized, cancelled when flat), FLATTEN, kill -9 with restart, an
 *  entry replacing another (the old one cancelled first; refused if the old one filled),
 *  an entry above the freeze quantity with its stop sliced with it (kill -9 and restart
 *  mid-way; stopped out), and paper mode against kite-sim's matching at one instant and
 *  over kite-sim's own tick stream (carried by md-gateway). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <cmocka.h>
#include <zmq.h>

#include "kt.h"
#include "../../exec-gateway/exec_kite.h"
#include "kt_testproc.h"
#include "kt_testredis.h"

#define TOKEN "itest_exec_token"

struct world {
    kt_testredis_t *redis;
    redisContext *rc;
    kt_testproc_t *sim;
    kt_testproc_t *exec;
    int http_port, ws_port;
    char api[64];
    char dir[64];
    char cfg[128];
    char ep_exec[128], ep_pub[128], ep_md[128];
    void *zctx, *dealer, *sub, *mdpub;
    //  A case's own sockets and processes, closed here too when it fails half-way.
    void *pdealer, *msub;
    kt_testproc_t *paper, *md;
    kt_msg_decoder_t *dec;
    char sym[KT_SYM_LEN]; //  a liquid option of the session
    uint64_t seq;
    int coids;
};

static struct world W;

static int64_t
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

// ---- kite-sim over REST ---------------------------------------------------------------------

static kt_http_resp_t *
s_rest (const char *method, const char *path, const char *form)
{
    static const char *const hdr[] = {"X-Kite-Version: 3",
                                      "Authorization: token sim_api_key:" TOKEN, NULL};
    char url[512];
    snprintf (url, sizeof url, "%s%s", W.api, path);
    kt_http_req_t req = {
        .method = method, .url = url, .headers = hdr, .body = form, .timeout_ms = 5000};
    kt_http_resp_t *r = kt_http_sync (&req);
    assert_int_equal (r->err, KT_HTTP_OK);
    return r;
}

//  A GET of kite-sim, waiting out its rate limits (the test's reads share them with
//  exec-gateway's poll).
static kt_http_resp_t *
s_read (const char *path)
{
    kt_http_resp_t *r = s_rest ("GET", path, NULL);
    while (r->status == 429) {
        kt_http_resp_destroy (&r);
        usleep (200000);
        r = s_rest ("GET", path, NULL);
    }
    return r;
}

static void
s_admin (const char *path, const char *form)
{
    kt_http_resp_t *r = s_rest ("POST", path, form);
    if (r->status != 200)
        fail_msg ("%s %s: %ld %s", path, form, r->status, r->body);
    kt_http_resp_destroy (&r);
}

static void
s_step (const char *hhmmss)
{
    char form[64];
    snprintf (form, sizeof form, "step_to=%s", hhmmss);
    s_admin ("/_admin/clock", form);
}

//  kite-sim's orders carrying tag: how many, and the first.
static int
s_sim_orders (const char *tag, struct exec_kite_row *row)
{
    kt_http_resp_t *r = s_read ("/orders");
    char why[128];
    int n = exec_kite_find_tag (r->body, r->body_len, tag, row, why, sizeof why);
    if (n < 0)
        fail_msg ("order book: %s", why);
    kt_http_resp_destroy (&r);
    return n;
}

//  kite-sim's net position in sym (0 if none).
static int64_t
s_sim_position (const char *sym)
{
    kt_http_resp_t *r = s_read ("/portfolio/positions");
    cJSON *root = cJSON_Parse (r->body);
    kt_http_resp_destroy (&r);
    assert_non_null (root);
    int64_t q = 0;
    const cJSON *p;
    cJSON_ArrayForEach (p, cJSON_GetObjectItem (cJSON_GetObjectItem (root, "data"), "net"))
    {
        if (strcmp (cJSON_GetObjectItem (p, "tradingsymbol")->valuestring, sym) == 0)
            q = (int64_t) cJSON_GetObjectItem (p, "quantity")->valuedouble;
    }
    cJSON_Delete (root);
    return q;
}

//  Best bid and ask of sym now (paise).
static void
s_quote (const char *sym, int64_t *bid, int64_t *ask, int64_t *ltp)
{
    char path[128];
    snprintf (path, sizeof path, "/quote?i=NFO:%s", sym);
    kt_http_resp_t *r = s_read (path); //  /quote allows 1 request a second
    exec_json_t doc;
    char why[96];
    assert_int_equal (exec_json_parse (&doc, r->body, r->body_len, why, sizeof why), 0);
    const cJSON *q = cJSON_GetObjectItem (doc.root, "data")->child;
    const cJSON *depth = cJSON_GetObjectItem (q, "depth");
    assert_int_equal (exec_json_money (&doc, q, "last_price", ltp), 0);
    assert_int_equal (exec_json_money (&doc,
                                       cJSON_GetArrayItem (cJSON_GetObjectItem (depth, "buy"), 0),
                                       "price", bid),
                      0);
    assert_int_equal (exec_json_money (&doc,
                                       cJSON_GetArrayItem (cJSON_GetObjectItem (depth, "sell"), 0),
                                       "price", ask),
                      0);
    exec_json_free (&doc);
    kt_http_resp_destroy (&r);
}

// ---- Redis --------------------------------------------------------------------------------------

//  HGET <prefix><key> field ("" when absent); the text lives until the next call.
static const char *
s_hget_in (const char *prefix, const char *key, const char *field)
{
    static char out[256];
    redisReply *r = redisCommand (W.rc, "HGET %s%s %s", prefix, key, field);
    assert_non_null (r);
    snprintf (out, sizeof out, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject (r);
    return out;
}

static const char *
s_hget (const char *key, const char *field)
{
    return s_hget_in ("kt:", key, field);
}

static int64_t
s_hgeti (const char *key, const char *field)
{
    return strtoll (s_hget (key, field), NULL, 10);
}

static bool
s_wait_field (const char *key, const char *field, const char *want, int ms)
{
    for (int64_t end = s_ms () + ms; s_ms () < end; usleep (20000))
        if (strcmp (s_hget (key, field), want) == 0)
            return true;
    fprintf (stderr, "%s %s = '%s', wanted '%s'\n", key, field, s_hget (key, field), want);
    kt_testproc_log_dump (W.exec, 3000);
    return false;
}

static bool
s_wait_status (const char *coid, const char *status, int ms)
{
    char key[64];
    snprintf (key, sizeof key, "order:%s", coid);
    return s_wait_field (key, "status", status, ms);
}

// ---- processes ----------------------------------------------------------------------------------

static void
s_sim_start (void)
{
    W.http_port = s_free_port ();
    int ws = W.ws_port = s_free_port ();
    char http[32], wsa[32];
    snprintf (http, sizeof http, "127.0.0.1:%d", W.http_port);
    snprintf (wsa, sizeof wsa, "127.0.0.1:%d", ws);
    snprintf (W.api, sizeof W.api, "http://%s", http);
    //  Rs 10 crore of cash: an entry of 2.5 times the freeze quantity is within margin.
    char simcfg[96];
    snprintf (simcfg, sizeof simcfg, "%s/sim.json", W.dir);
    FILE *f = fopen (simcfg, "w");
    assert_non_null (f);
    fprintf (f, "{\"mode\": \"sim\", \"sim\": {\"opening_balance\": 100000000, "
                "\"publish_clock\": false}}\n");
    fclose (f);
    const char *args[] = {"--http", http,          "--ws",    wsa,     "--access-token", TOKEN,
                          "--date", "2025-11-24",  "--start", "10:00", "--paused",       "--seed",
                          "7",      "--log-level", "warn",    "-c",    simcfg,           NULL};
    W.sim = kt_testproc_start ("kite-sim", args, NULL);
    assert_non_null (W.sim);
    for (int i = 0; i < 300; i++) {
        kt_http_resp_t *r = kt_http_get_sync (W.api, NULL, 200);
        bool up = r->err == KT_HTTP_OK;
        kt_http_resp_destroy (&r);
        if (up)
            return;
        usleep (20000);
    }
    fail_msg ("kite-sim did not start");
}

static void
s_exec_start (void)
{
    static const char *const env[] = {"KITE_API_KEY=sim_api_key", "KITE_ACCESS_TOKEN=" TOKEN, NULL};
    const char *args[] = {"-c", W.cfg, NULL};
    W.exec = kt_testproc_start ("exec-gateway", args, env);
    assert_non_null (W.exec);
    if (!kt_testproc_log_wait (W.exec, "exec.start", NULL, 5000)) {
        kt_testproc_log_dump (W.exec, 3000);
        fail_msg ("exec-gateway did not start");
    }
    if (W.sub) {
        //  A fresh subscription to the new publisher (no reconnect timing to wait for).
        zmq_close (W.sub);
        W.sub = zmq_socket (W.zctx, ZMQ_SUB);
        int zero = 0;
        zmq_setsockopt (W.sub, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt (W.sub, ZMQ_SUBSCRIBE, "exec.", 5);
        zmq_connect (W.sub, W.ep_pub);
        usleep (200000);
    }
}

//  The access token lives in a secrets file next to the config: SIGHUP re-reads it.
static void
s_write_secrets (const char *token)
{
    char path[128];
    snprintf (path, sizeof path, "%s/secrets", W.dir);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fprintf (f, "KITE_ACCESS_TOKEN=%s\n", token);
    fclose (f);
    chmod (path, 0600);
}

static void
s_write_cfg (void)
{
    s_write_secrets (TOKEN);
    FILE *f = fopen (W.cfg, "w");
    assert_non_null (f);
    fprintf (
        f,
        "{\"mode\": \"sim\", \"log\": {\"level\": \"info\"},\n"
        " \"bus\": {\"md\": \"%s\", \"risk\": \"ipc://%s/risk\", \"risk_pub\": "
        "\"ipc://%s/rp\", \"exec\": \"%s\", \"exec_pub\": \"%s\", \"alerts\": "
        "\"ipc://%s/alerts\"},\n"
        " \"redis\": {\"port\": %d},\n"
        " \"clock\": {\"mode\": \"real\", \"speed\": 1},\n"
        " \"kite\": {\"api_url\": \"%s\", \"access_token\": \"file:secrets#KITE_ACCESS_TOKEN\"},\n"
        " \"instruments\": {\"cache_dir\": \"%s/instr\"},\n"
        " \"exec\": {\"poll_ms\": 150, \"idle_cancel_s\": 3, \"settle_tries\": 2,\n"
        "           \"order_timeout_ms\": 2000, \"journal_dir\": \"%s/journal\"}}\n",
        W.ep_md, W.dir, W.dir, W.ep_exec, W.ep_pub, W.dir, W.redis->port, W.api, W.dir, W.dir);
    fclose (f);
}

//  A liquid option: the CE whose previous close is nearest Rs 100.
static void
s_pick_symbol (void)
{
    kt_http_resp_t *r = s_rest ("GET", "/instruments/NFO", NULL);
    int64_t best = INT64_MAX;
    char *save = NULL, *text = strdup (r->body);
    for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        char sym[KT_SYM_LEN];
        double px;
        if (sscanf (line, "%*[^,],%*[^,],%31[^,],%*[^,],%lf", sym, &px) != 2)
            continue;
        if (!strstr (sym, "CE"))
            continue;
        int64_t d = (int64_t) ((px - 100.0) * (px > 100 ? 100 : -100));
        if (d < best) {
            best = d;
            snprintf (W.sym, sizeof W.sym, "%s", sym);
        }
    }
    free (text);
    kt_http_resp_destroy (&r);
    assert_true (W.sym[0] != 0);
}

static int
s_setup (void **state)
{
    (void) state;
    memset (&W, 0, sizeof W);
    W.redis = kt_testredis_start ();
    if (!W.redis)
        return -1;
    W.rc = kt_testredis_connect (W.redis);
    snprintf (W.dir, sizeof W.dir, "/tmp/kt-exec-XXXXXX");
    if (!mkdtemp (W.dir))
        return -1;
    snprintf (W.cfg, sizeof W.cfg, "%s/exec.json", W.dir);
    snprintf (W.ep_exec, sizeof W.ep_exec, "ipc://%s/exec", W.dir);
    snprintf (W.ep_pub, sizeof W.ep_pub, "ipc://%s/exec_pub", W.dir);
    snprintf (W.ep_md, sizeof W.ep_md, "ipc://%s/md", W.dir);
    s_sim_start ();
    s_pick_symbol ();
    s_write_cfg ();
    W.zctx = zmq_ctx_new ();
    W.mdpub = zmq_socket (W.zctx, ZMQ_PUB);
    int zero = 0;
    zmq_setsockopt (W.mdpub, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind (W.mdpub, W.ep_md) != 0)
        return -1;
    s_exec_start ();
    W.dealer = zmq_socket (W.zctx, ZMQ_DEALER);
    W.sub = zmq_socket (W.zctx, ZMQ_SUB);
    zmq_setsockopt (W.dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (W.sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (W.sub, ZMQ_SUBSCRIBE, "exec.", 5);
    if (zmq_connect (W.dealer, W.ep_exec) != 0 || zmq_connect (W.sub, W.ep_pub) != 0)
        return -1;
    W.dec = kt_msg_decoder_new ();
    usleep (200000); //  the SUB joins
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_msg_decoder_destroy (&W.dec);
    zmq_close (W.dealer);
    zmq_close (W.sub);
    zmq_close (W.mdpub);
    if (W.pdealer)
        zmq_close (W.pdealer);
    if (W.msub)
        zmq_close (W.msub);
    zmq_ctx_term (W.zctx);
    kt_testproc_destroy (&W.paper);
    kt_testproc_destroy (&W.md);
    kt_testproc_destroy (&W.exec);
    kt_testproc_destroy (&W.sim);
    redisFree (W.rc);
    kt_testredis_stop (&W.redis);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", W.dir);
    if (system (cmd) != 0)
        return -1;
    return 0;
}

// ---- commands and events ----------------------------------------------------------------------

static void
s_send_msg (void *sock, bool delim, const char *topic, struct kt_msg *m)
{
    m->env.v = KT_MSG_VERSION;
    m->env.seq = ++W.seq;
    m->env.ts_ns = 1;
    snprintf (m->env.src, sizeof m->env.src, "risk-gate");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (kt_msg_encode (m, &sb), 0);
    if (delim)
        zmq_send (sock, "", 0, ZMQ_SNDMORE);
    zmq_send (sock, topic, strlen (topic), ZMQ_SNDMORE);
    zmq_send (sock, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy (&sb);
}

//  Send cmd and return exec-gateway's answer.
static struct kt_exec_event
s_command_on (void *dealer, const struct kt_order_cmd *cmd)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_ORDER_COMMAND;
    m.u.cmd = *cmd;
    s_send_msg (dealer, true, "exec.cmd", &m);
    zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, 5000) != 1) {
        kt_testproc_log_dump (W.exec, 3000);
        fail_msg ("no answer to %s", cmd->coid);
    }
    char buf[4096], why[128];
    zmq_recv (dealer, buf, sizeof buf, 0);
    zmq_recv (dealer, buf, sizeof buf, 0);
    int n = zmq_recv (dealer, buf, sizeof buf, 0);
    struct kt_msg reply;
    assert_int_equal (kt_msg_decode (W.dec, buf, (size_t) n, &reply, why, sizeof why), 0);
    assert_string_equal (reply.u.exec.coid, cmd->coid);
    return reply.u.exec;
}

static struct kt_exec_event
s_command (const struct kt_order_cmd *cmd)
{
    return s_command_on (W.dealer, cmd);
}

//  Wait for an event of coid of kind (NONE = any); events of other orders are skipped.
static bool
s_event (const char *coid, kt_exec_kind_t kind, struct kt_exec_event *out, int ms)
{
    char buf[4096], why[128];
    for (int64_t end = s_ms () + ms; s_ms () < end;) {
        zmq_pollitem_t item = {W.sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 50) != 1)
            continue;
        zmq_recv (W.sub, buf, sizeof buf, 0);
        int n = zmq_recv (W.sub, buf, sizeof buf, 0);
        struct kt_msg m;
        if (kt_msg_decode (W.dec, buf, (size_t) n, &m, why, sizeof why) != 0)
            continue;
        if (strcmp (m.u.exec.coid, coid) == 0 && (kind == KT_EXEC_NONE || m.u.exec.event == kind)) {
            if (out)
                *out = m.u.exec;
            return true;
        }
    }
    return false;
}

static void
s_coid (char *buf, const char *prefix)
{
    snprintf (buf, KT_ID_LEN, "%s%d", prefix, ++W.coids);
}

static struct kt_order_cmd
s_place (const char *coid, kt_side_t side, kt_order_type_t type, int64_t qty, int64_t price,
         int64_t trigger)
{
    struct kt_order_cmd c;
    memset (&c, 0, sizeof c);
    snprintf (c.coid, sizeof c.coid, "%s", coid);
    snprintf (c.intent_id, sizeof c.intent_id, "%s", coid);
    snprintf (c.sym, sizeof c.sym, "%s", W.sym);
    c.action = KT_ACTION_PLACE;
    c.side = side;
    c.order_type = type;
    c.qty = qty;
    c.price = price;
    c.trigger = trigger;
    c.product = KT_PROD_MIS;
    c.purpose = KT_PURPOSE_ENTRY;
    return c;
}

static struct kt_order_cmd
s_action (const char *coid, kt_action_t action, const char *ref)
{
    struct kt_order_cmd c;
    memset (&c, 0, sizeof c);
    snprintf (c.coid, sizeof c.coid, "%s", coid);
    snprintf (c.intent_id, sizeof c.intent_id, "%s", coid);
    snprintf (c.ref, sizeof c.ref, "%s", ref ? ref : "");
    c.action = action;
    return c;
}

static void
s_flatten (void)
{
    char coid[KT_ID_LEN];
    s_coid (coid, "FL");
    struct kt_order_cmd c = s_action (coid, KT_ACTION_FLATTEN, NULL);
    struct kt_exec_event ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    struct kt_exec_event done;
    if (!s_event (coid, KT_EXEC_NONE, &done, 15000)) {
        kt_testproc_log_dump (W.exec, 4000);
        fail_msg ("FLATTEN did not report");
    }
    if (done.event != KT_EXEC_CANCELLED)
        fail_msg ("FLATTEN: %s %s", kt_exec_kind_str (done.event), done.reason);
    assert_int_equal (s_sim_position (W.sym), 0);
}

//  The stop of entry coid is recorded and rests at kite-sim: a BUY for qty, TRIGGER
//  PENDING at trigger.
static void
s_stop_rests (const char *coid, int64_t qty, int64_t trigger)
{
    char stop[KT_ID_LEN];
    snprintf (stop, sizeof stop, "%.17s-st", coid);
    assert_true (s_wait_status (stop, "OPEN", 5000));
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (stop, &row), 1);
    assert_string_equal (row.status, "TRIGGER PENDING");
    assert_int_equal (row.side, KT_SIDE_BUY);
    assert_int_equal (row.qty, qty);
    assert_int_equal (row.trigger, trigger);
}

// ---- cases
// ----------------------------------------------------------------------------------------

//  LIMIT away from the market rests; CANCEL cancels it; a repeated coid is answered
//  with the recorded state and never placed twice.
static void
test_limit_rests_then_cancel (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "LIM");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    struct kt_exec_event ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 5000));
    assert_true (ev.broker_id[0] != 0);
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (coid, &row), 1);
    assert_string_equal (row.order_id, ev.broker_id);
    assert_string_equal (row.status, "OPEN");
    //  Again with the same coid: recorded state, no second order.
    struct kt_exec_event again = s_command (&c);
    assert_int_equal (again.event, KT_EXEC_ACCEPTED);
    assert_int_equal (s_sim_orders (coid, &row), 1);

    char cc[KT_ID_LEN];
    s_coid (cc, "CXL");
    struct kt_order_cmd x = s_action (cc, KT_ACTION_CANCEL, coid);
    ev = s_command (&x);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_true (s_wait_status (coid, "CANCELLED", 5000));
    assert_true (s_event (cc, KT_EXEC_CANCELLED, &ev, 3000)); //  the command's own answer
    assert_int_equal (s_sim_orders (coid, &row), 1);
    assert_string_equal (row.status, "CANCELLED");
    redisReply *r = redisCommand (W.rc, "SISMEMBER kt:orders:open %s", coid);
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);
}

//  Broker refusals are final and carry the broker's message: InputException (a
//  trigger on the wrong side of the market), and a refusal made before sending.
static void
test_errors_final (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "ERR");
    //  A SELL stop must trigger at or below the LTP.
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_SL, 75, ltp + 1000, ltp + 1005);
    struct kt_exec_event ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_true (s_event (coid, KT_EXEC_REJECTED, &ev, 5000));
    assert_non_null (strstr (ev.reason, "BROKER: InputException"));
    assert_true (s_wait_status (coid, "REJECTED", 1000));
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (coid, &row), 0);
    assert_int_equal (kt_testproc_log_count (W.exec, "exec.broker.reply", coid), 1);
    //  Not a lot multiple: refused before sending, recorded, final.
    s_coid (coid, "ERR");
    c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 70, ask + 2000, 0);
    ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_non_null (strstr (ev.reason, "LOT"));
    assert_true (s_wait_status (coid, "REJECTED", 1000));
    assert_int_equal (kt_testproc_log_count (W.exec, "exec.broker.reply", coid), 0);
}

//  MARKET entry with an attached stop: filled through the trades, the position in the
//  book equals kite-sim's, the BUY stop for the filled quantity rests at the broker;
//  FLATTEN cancels the stop and exits.
static void
test_market_entry_stop_flatten (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "MKT");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_MARKET, 150, 0, 0);
    c.has_stop = true;
    c.stop_trigger = kt_money_tick_up (ltp + ltp / 10, 5);
    c.stop_price = c.stop_trigger + 100;
    c.r_value = (c.stop_trigger - ltp) * 150;
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_FILLED, &ev, 5000));
    assert_int_equal (ev.filled_qty, 150);
    assert_true (ev.avg_px > 0);
    assert_true (s_wait_status (coid, "FILLED", 2000));
    char pkey[64];
    snprintf (pkey, sizeof pkey, "pos:%s", W.sym);
    assert_true (s_wait_field (pkey, "qty", "-150", 2000));
    assert_int_equal (s_sim_position (W.sym), -150);
    //  The stop: BUY SL for 150 at the stop trigger, resting TRIGGER PENDING.
    char stop[KT_ID_LEN];
    snprintf (stop, sizeof stop, "%.17s-st", coid);
    s_stop_rests (coid, 150, c.stop_trigger);
    struct exec_kite_row row;
    assert_string_equal (s_hget (pkey, "stop_coid"), stop);
    //  A resting entry too: FLATTEN cancels it with the stop, then exits.
    char rest[KT_ID_LEN];
    s_coid (rest, "RST");
    struct kt_order_cmd e = s_place (rest, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    s_command (&e);
    assert_true (s_wait_status (rest, "OPEN", 5000));
    s_flatten ();
    assert_true (s_wait_status (rest, "CANCELLED", 3000));
    assert_true (s_wait_status (stop, "CANCELLED", 3000));
    assert_int_equal (s_sim_orders (stop, &row), 1);
    assert_string_equal (row.status, "CANCELLED");
    assert_true (s_wait_field (pkey, "qty", "0", 2000));
}

//  A stop the broker refuses (a BUY trigger under the market) is tried stop_retries (3)
//  times, then the position is exited at market with a CRITICAL alert.
static void
test_stop_refused_exits_at_market (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "SX");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    c.has_stop = true;
    c.stop_trigger = kt_money_tick_down (ltp / 2, 5);
    c.stop_price = c.stop_trigger + 100;
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_FILLED, &ev, 5000));
    char mx[KT_ID_LEN];
    snprintf (mx, sizeof mx, "%.17s-mx", coid);
    assert_true (s_wait_status (mx, "FILLED", 8000));
    assert_non_null (kt_testproc_log_wait (W.exec, "alert.raised", "exec.stop.failed", 1000));
    assert_int_equal (kt_testproc_log_count (W.exec, "exec.stop.place", coid), 3);
    char pkey[64];
    snprintf (pkey, sizeof pkey, "pos:%s", W.sym);
    assert_true (s_wait_field (pkey, "qty", "0", 2000));
    assert_int_equal (s_sim_position (W.sym), 0);
}

//  The next accepted order ends REJECTED by RMS: ACCEPTED, then REJECTED with the
//  broker's text.
static void
test_accepted_then_rejected (void **state)
{
    (void) state;
    s_admin ("/_admin/fault", "kind=rms_reject&message=RMS:Margin%20Exceeds");
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "RMS");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_REJECTED, &ev, 5000));
    assert_non_null (strstr (ev.reason, "Margin"));
    assert_true (ev.broker_id[0] != 0);
    assert_true (s_wait_status (coid, "REJECTED", 1000));
    assert_non_null (
        kt_testproc_log_wait (W.exec, "alert.raised", "accepted, then rejected", 2000));
}

//  The answer is lost after kite-sim placed the order: UNRESOLVED, then settled by tag
//  to exactly one order, never sent again. Same for a 503 after the order was placed.
static void
test_lost_answer_settled_by_tag (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    const char *faults[] = {"kind=drop_response&count=1",
                            "kind=http_error&status=503&count=1&after=1&path=/orders/regular"};
    for (int i = 0; i < 2; i++) {
        s_admin ("/_admin/fault", faults[i]);
        char coid[KT_ID_LEN];
        s_coid (coid, "LOST");
        struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
        s_command (&c);
        struct kt_exec_event ev;
        assert_true (s_event (coid, KT_EXEC_UNRESOLVED, &ev, 5000));
        assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 5000));
        assert_true (s_wait_status (coid, "OPEN", 2000));
        struct exec_kite_row row;
        assert_int_equal (s_sim_orders (coid, &row), 1);
        char key[64];
        snprintf (key, sizeof key, "order:%s", coid);
        assert_string_equal (s_hget (key, "broker_id"), row.order_id);
        assert_non_null (kt_testproc_log_wait (W.exec, "exec.order.settled", coid, 1000));
        struct kt_order_cmd x = s_action (coid, KT_ACTION_CANCEL, coid);
        snprintf (x.coid, sizeof x.coid, "X%.18s", coid);
        s_command (&x);
        assert_true (s_wait_status (coid, "CANCELLED", 5000));
    }
}

//  Above the freeze quantity: two slices, each its own broker order and tag, one
//  answer and one set of events under the command's coid; CANCEL cancels both.
static void
test_sliced_order (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "SLC");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 1875, ask + 2000, 0);
    struct kt_exec_event ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 5000));
    char t0[KT_ID_LEN], t1[KT_ID_LEN];
    snprintf (t0, sizeof t0, "%.18ss0", coid);
    snprintf (t1, sizeof t1, "%.18ss1", coid);
    assert_true (s_wait_status (t0, "OPEN", 3000));
    assert_true (s_wait_status (t1, "OPEN", 3000));
    struct exec_kite_row r0, r1;
    assert_int_equal (s_sim_orders (t0, &r0), 1);
    assert_int_equal (s_sim_orders (t1, &r1), 1);
    assert_int_equal (r0.qty + r1.qty, 1875);
    assert_true (r0.qty <= 1800 && r1.qty <= 1800);
    char key[64];
    snprintf (key, sizeof key, "order:%s", coid);
    assert_string_equal (s_hget (key, "broker_status"), "SLICED");
    struct kt_order_cmd x = s_action ("XSLC", KT_ACTION_CANCEL, coid);
    s_command (&x);
    assert_true (s_event (coid, KT_EXEC_CANCELLED, &ev, 5000));
    assert_true (s_wait_status (coid, "CANCELLED", 1000));
    assert_int_equal (s_sim_orders (t0, &r0), 1);
    assert_string_equal (r0.status, "CANCELLED");
    assert_int_equal (s_sim_orders (t1, &r1), 1);
    assert_string_equal (r1.status, "CANCELLED");
}

//  SL-M and SL rest TRIGGER PENDING with their protection and trigger; MODIFY changes a
//  resting LIMIT's price (MODIFIED, the book follows); CANCEL_ALL of entries cancels them.
static void
test_stops_modify_cancel_all (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char slm[KT_ID_LEN], sl[KT_ID_LEN], lim[KT_ID_LEN];
    s_coid (slm, "SLM");
    s_coid (sl, "SL");
    s_coid (lim, "MOD");
    int64_t trig = kt_money_tick_down (ltp - ltp / 10, 5);
    struct kt_order_cmd c = s_place (slm, KT_SIDE_SELL, KT_OT_SLM, 75, 0, trig);
    s_command (&c);
    c = s_place (sl, KT_SIDE_SELL, KT_OT_SL, 75, trig - 100, trig);
    s_command (&c);
    c = s_place (lim, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    s_command (&c);
    struct exec_kite_row row;
    assert_true (s_wait_status (slm, "OPEN", 5000));
    assert_true (s_wait_status (sl, "OPEN", 5000));
    assert_true (s_wait_status (lim, "OPEN", 5000));
    assert_int_equal (s_sim_orders (slm, &row), 1);
    assert_string_equal (row.status, "TRIGGER PENDING");
    assert_int_equal (row.type, KT_OT_SLM);
    assert_int_equal (row.trigger, trig);
    char key[64];
    snprintf (key, sizeof key, "order:%s", slm);
    assert_true (s_wait_field (key, "broker_status", "TRIGGER PENDING", 3000));
    assert_int_equal (s_sim_orders (sl, &row), 1);
    assert_string_equal (row.status, "TRIGGER PENDING");
    assert_int_equal (row.price, trig - 100);

    struct kt_order_cmd m = s_action ("MOD-A", KT_ACTION_MODIFY, lim);
    m.price = ask + 3000;
    struct kt_exec_event ev = s_command (&m);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_true (s_event ("MOD-A", KT_EXEC_MODIFIED, &ev, 5000));
    snprintf (key, sizeof key, "order:%s", lim);
    char want[24];
    snprintf (want, sizeof want, "%lld", (long long) (ask + 3000));
    assert_true (s_wait_field (key, "price", want, 3000));
    assert_int_equal (s_sim_orders (lim, &row), 1);
    assert_int_equal (row.price, ask + 3000);

    struct kt_order_cmd x = s_action ("CXA-1", KT_ACTION_CANCEL_ALL, NULL);
    x.purpose = KT_PURPOSE_ENTRY;
    ev = s_command (&x);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_true (s_wait_status (slm, "CANCELLED", 5000));
    assert_true (s_wait_status (sl, "CANCELLED", 5000));
    assert_true (s_wait_status (lim, "CANCELLED", 5000));
    assert_true (s_event ("CXA-1", KT_EXEC_CANCELLED, &ev, 3000));
    assert_int_equal (s_sim_orders (lim, &row), 1);
    assert_string_equal (row.status, "CANCELLED");
}

//  A partly filled entry that stops filling has its remainder cancelled after
//  idle_cancel_s (3 s here); its stop keeps protecting the filled part.
static void
test_idle_partial_cancelled (void **state)
{
    (void) state;
    s_step ("10:00:20"); //  fresh quotes: liquidity is shared within one instant
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "IDL");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 1800, bid, 0);
    c.has_stop = true;
    c.stop_trigger = kt_money_tick_up (ltp * 2, 5);
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_PARTIAL, &ev, 5000));
    assert_true (s_wait_status (coid, "CANCELLED", 10000));
    assert_non_null (kt_testproc_log_wait (W.exec, "exec.entry.idle", coid, 100));
    char okey[64], skey[64];
    snprintf (okey, sizeof okey, "order:%s", coid);
    snprintf (skey, sizeof skey, "order:%.17s-st", coid);
    int64_t filled = s_hgeti (okey, "filled_qty");
    assert_true (filled > 0 && filled < 1800);
    assert_int_equal (s_hgeti (skey, "qty"), filled);
    assert_string_equal (s_hget (skey, "status"), "OPEN");
    assert_int_equal (s_sim_position (W.sym), -filled);
    s_flatten ();
}

//  A place refused by a 503 before kite-sim processed it: UNRESOLVED (we cannot know),
//  order book reads that fail (429 storm) settle nothing, reads that work and do not
//  find it settle it as never placed (REJECTED EXEC_DOWN). Nothing was sent twice.
static void
test_unresolved_absent (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    s_admin ("/_admin/fault", "kind=http_error&status=503&count=1&path=/orders/regular");
    char coid[KT_ID_LEN];
    s_coid (coid, "ABS");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_UNRESOLVED, &ev, 5000));
    s_admin ("/_admin/fault", "kind=storm&count=3&path=/orders");
    assert_true (s_event (coid, KT_EXEC_REJECTED, &ev, 8000));
    assert_non_null (strstr (ev.reason, "not in the broker's order book"));
    assert_non_null (kt_testproc_log_wait (W.exec, "exec.poll.fail", NULL, 100));
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (coid, &row), 0);
    assert_int_equal (kt_testproc_log_count (W.exec, "exec.broker.reply", coid), 1);
}

//  A storm of 429s: the order waits and goes out once.
static void
test_throttled (void **state)
{
    (void) state;
    s_admin ("/_admin/fault", "kind=storm&count=3&path=/orders/regular");
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "RL");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 8000));
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (coid, &row), 1);
    assert_true (kt_testproc_log_count (W.exec, "exec.broker.reply", "\"class\":\"wait\"") >= 3);
    struct kt_order_cmd x = s_action ("XRL", KT_ACTION_CANCEL, coid);
    s_command (&x);
    assert_true (s_wait_status (coid, "CANCELLED", 5000));
}

//  Partial fills: a resting SELL LIMIT at the bid for more than the bid shows fills in
//  part, the stop follows the filled quantity, and the idle rest is cancelled.
static void
test_partial_fill_stop_resized (void **state)
{
    (void) state;
    s_step ("10:00:50"); //  fresh quotes: liquidity is shared within one instant
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "PRT");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 1800, bid, 0);
    c.has_stop = true;
    c.stop_trigger = kt_money_tick_up (ltp * 2, 5); //  far: the test moves the market
    c.stop_price = c.stop_trigger + 200;
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_PARTIAL, &ev, 5000));
    int64_t first = ev.filled_qty;
    assert_true (first > 0 && first < 1800);
    char stop[KT_ID_LEN];
    snprintf (stop, sizeof stop, "%.17s-st", coid);
    char skey[64];
    snprintf (skey, sizeof skey, "order:%s", stop);
    assert_true (s_wait_status (stop, "OPEN", 5000));
    //  Let the market trade through the rest of the order.
    s_step ("10:01:30");
    bool more = s_event (coid, KT_EXEC_NONE, &ev, 5000);
    (void) more;
    char okey[64];
    snprintf (okey, sizeof okey, "order:%s", coid);
    for (int64_t end = s_ms () + 5000; s_ms () < end; usleep (50000)) {
        if (s_hgeti (okey, "filled_qty") > first)
            break;
    }
    //  The stop follows the entry's filled quantity (read together until they agree).
    int64_t filled = 0;
    bool agree = false;
    for (int64_t end = s_ms () + 5000; s_ms () < end && !agree; usleep (50000)) {
        filled = s_hgeti (okey, "filled_qty");
        agree = s_hgeti (skey, "qty") == filled;
    }
    if (!agree)
        kt_testproc_log_dump (W.exec, 3000);
    assert_true (agree);
    assert_true (filled > first);
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (stop, &row), 1);
    assert_int_equal (row.qty, s_hgeti (skey, "qty"));
    //  Idle for idle_cancel_s (3 s): the rest is cancelled.
    if (filled < 1800)
        assert_true (s_wait_status (coid, "CANCELLED", 8000));
    assert_int_equal (s_sim_position (W.sym), -s_hgeti (okey, "filled_qty"));
    s_flatten ();
}

//  kill -9 while an order rests, the market fills it, restart: the fill is applied
//  once, the book and kite-sim agree.
static void
test_kill_restart_applies_missed_fill_once (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "K9");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 5, 0);
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 5000));
    kt_testproc_signal (W.exec, SIGKILL);
    assert_true (kt_testproc_wait (W.exec, 2000) == 128 + SIGKILL);
    kt_testproc_destroy (&W.exec);
    s_step ("10:30:00");
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (coid, &row), 1);
    s_exec_start ();
    assert_non_null (kt_testproc_log_wait (W.exec, "exec.order.loaded", coid, 3000));
    char key[64];
    snprintf (key, sizeof key, "order:%s", coid);
    char want[24];
    snprintf (want, sizeof want, "%lld", (long long) row.filled);
    assert_true (s_wait_field (key, "filled_qty", want, 5000));
    snprintf (want, sizeof want, "%lld", (long long) s_sim_position (W.sym));
    char pkey[64];
    snprintf (pkey, sizeof pkey, "pos:%s", W.sym);
    assert_true (s_wait_field (pkey, "qty", want, 3000));
    //  Once more: a third start applies nothing new.
    redisReply *r = redisCommand (W.rc, "HGET kt:book fills");
    long long fills = strtoll (r->str, NULL, 10);
    freeReplyObject (r);
    kt_testproc_signal (W.exec, SIGKILL);
    kt_testproc_wait (W.exec, 2000);
    kt_testproc_destroy (&W.exec);
    s_exec_start ();
    usleep (800000);
    r = redisCommand (W.rc, "HGET kt:book fills");
    assert_int_equal (strtoll (r->str, NULL, 10), fills);
    freeReplyObject (r);
    assert_int_equal (s_hgeti (pkey, "qty"), s_sim_position (W.sym));
    //  The journal has the fill once, across both restarts.
    char cmd[256];
    snprintf (cmd, sizeof cmd, "sleep 1.5; grep -h ',%s,' %s/journal/*/fills.csv | wc -l", coid,
              W.dir);
    FILE *p = popen (cmd, "r");
    int lines = -1;
    assert_int_equal (fscanf (p, "%d", &lines), 1);
    pclose (p);
    assert_int_equal (lines, 1);
    s_flatten ();
}

//  kill -9 between an add-on entry's last fill and its stop's record: the position has
//  the first entry's stop only. At start the newest entry of each open position
//  (`last_entry_coid`) gets its first stop too, not only the one that opened it. The
//  window is made by an add-on sent without a stop whose record is then given one, as
//  if exec-gateway had died before placing it.
static void
test_kill_before_addon_stop (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char first[KT_ID_LEN], addon[KT_ID_LEN], pkey[64];
    s_coid (first, "AO");
    s_coid (addon, "AO");
    snprintf (pkey, sizeof pkey, "pos:%s", W.sym);
    int64_t trigger = kt_money_tick_up (ltp + ltp / 10, 5);
    struct kt_order_cmd c = s_place (first, KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    c.has_stop = true;
    c.stop_trigger = trigger;
    c.stop_price = trigger + 100;
    s_command (&c);
    assert_true (s_wait_status (first, "FILLED", 5000));
    char stop[KT_ID_LEN];
    snprintf (stop, sizeof stop, "%.17s-st", first);
    s_stop_rests (first, 75, trigger);
    struct kt_order_cmd a = s_place (addon, KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    s_command (&a);
    assert_true (s_wait_status (addon, "FILLED", 5000));
    assert_true (s_wait_field (pkey, "qty", "-150", 2000));
    assert_string_equal (s_hget (pkey, "entry_coid"), first);
    assert_string_equal (s_hget (pkey, "last_entry_coid"), addon);
    kt_testproc_signal (W.exec, SIGKILL);
    assert_true (kt_testproc_wait (W.exec, 2000) == 128 + SIGKILL);
    kt_testproc_destroy (&W.exec);
    redisReply *r = redisCommand (W.rc, "HSET kt:order:%s stop_trigger %lld stop_price %lld", addon,
                                  (long long) trigger, (long long) trigger + 100);
    freeReplyObject (r);

    s_exec_start ();
    s_stop_rests (addon, 75, trigger);
    //  the first entry's stop was not placed again
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (stop, &row), 1);
    s_flatten ();
}

//  kill -9 while the place is in flight (kite-sim holds its answer): the restart finds
//  the order PENDING_SUBMIT, settles it by tag, never sends it again: one order.
static void
test_kill_during_submit (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    s_admin ("/_admin/fault", "kind=latency&ms=1500&path=/orders"); //  the poll too
    char coid[KT_ID_LEN];
    s_coid (coid, "KS");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    struct kt_exec_event ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    usleep (300000); //  the request is out, its answer held
    kt_testproc_signal (W.exec, SIGKILL);
    kt_testproc_wait (W.exec, 2000);
    kt_testproc_destroy (&W.exec);
    char key[64];
    snprintf (key, sizeof key, "order:%s", coid);
    assert_string_equal (s_hget (key, "status"), "PENDING_SUBMIT");
    usleep (1500000); //  kite-sim has placed it by now
    s_admin ("/_admin/fault", "kind=latency&ms=0");
    s_exec_start ();
    assert_true (s_wait_status (coid, "OPEN", 5000));
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (coid, &row), 1);
    assert_string_equal (s_hget (key, "broker_id"), row.order_id);
    assert_int_equal (kt_testproc_log_count (W.exec, "exec.broker.reply", coid), 0);
    struct kt_order_cmd x = s_action ("XKS", KT_ACTION_CANCEL, coid);
    s_command (&x);
    assert_true (s_wait_status (coid, "CANCELLED", 5000));
    assert_int_equal (s_sim_orders (coid, &row), 1);
}

//  kite-sim's quote of the test's option now, as a tick (token 1): last price, volume and
//  the best level of each side.
static void
s_sim_tick (struct kt_tick *t)
{
    char qpath[128], why[96];
    snprintf (qpath, sizeof qpath, "/quote?i=NFO:%s", W.sym);
    kt_http_resp_t *r = s_read (qpath);
    exec_json_t doc;
    assert_int_equal (exec_json_parse (&doc, r->body, r->body_len, why, sizeof why), 0);
    const cJSON *q = cJSON_GetObjectItem (doc.root, "data")->child;
    const cJSON *depth = cJSON_GetObjectItem (q, "depth");
    const cJSON *b0 = cJSON_GetArrayItem (cJSON_GetObjectItem (depth, "buy"), 0);
    const cJSON *a0 = cJSON_GetArrayItem (cJSON_GetObjectItem (depth, "sell"), 0);
    memset (t, 0, sizeof *t);
    t->token = 1;
    snprintf (t->sym, sizeof t->sym, "%s", W.sym);
    assert_int_equal (exec_json_money (&doc, q, "last_price", &t->ltp), 0);
    assert_int_equal (exec_json_int (&doc, q, "volume", &t->volume), 0);
    assert_int_equal (exec_json_money (&doc, b0, "price", &t->bid), 0);
    assert_int_equal (exec_json_int (&doc, b0, "quantity", &t->bid_qty), 0);
    assert_int_equal (exec_json_money (&doc, a0, "price", &t->ask), 0);
    assert_int_equal (exec_json_int (&doc, a0, "quantity", &t->ask_qty), 0);
    exec_json_free (&doc);
    kt_http_resp_destroy (&r);
}

//  A paper exec-gateway (Redis prefix <name>:, its own endpoints) reading `md` at md_ep,
//  trading kite-sim's instruments (its list, as instruments.file); *dealer is connected
//  to its command socket.
static kt_testproc_t *
s_paper_start (const char *md_ep, const char *name, void **dealer)
{
    if (W.pdealer)
        zmq_close (W.pdealer);
    kt_testproc_destroy (&W.paper);
    char path[128], ep_exec[128], ep_pub[128];
    snprintf (path, sizeof path, "%s/instruments.csv", W.dir);
    kt_http_resp_t *list = s_read ("/instruments");
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fwrite (list->body, 1, list->body_len, f);
    fclose (f);
    kt_http_resp_destroy (&list);
    snprintf (path, sizeof path, "%s/%s.json", W.dir, name);
    snprintf (ep_exec, sizeof ep_exec, "ipc://%s/%sexec", W.dir, name);
    snprintf (ep_pub, sizeof ep_pub, "ipc://%s/%sexec_pub", W.dir, name);
    f = fopen (path, "w");
    assert_non_null (f);
    fprintf (f,
             "{\"mode\": \"paper\", \"log\": {\"level\": \"info\"},\n"
             " \"bus\": {\"md\": \"%s\", \"risk\": \"ipc://%s/%srisk\", \"risk_pub\": "
             "\"ipc://%s/%srp\", \"exec\": \"%s\", \"exec_pub\": \"%s\", \"alerts\": "
             "\"ipc://%s/%salerts\"},\n"
             " \"redis\": {\"port\": %d, \"prefix\": \"%s:\"},\n"
             " \"clock\": {\"mode\": \"real\", \"speed\": 1},\n"
             " \"instruments\": {\"file\": \"%s/instruments.csv\"},\n"
             " \"exec\": {\"poll_ms\": 150, \"journal_dir\": \"\"}}\n",
             md_ep, W.dir, name, W.dir, name, ep_exec, ep_pub, W.dir, name, W.redis->port, name,
             W.dir);
    fclose (f);
    static const char *const env[] = {"KITE_API_KEY=none", NULL};
    const char *args[] = {"-c", path, NULL};
    kt_testproc_t *paper = kt_testproc_start ("exec-gateway", args, env);
    assert_non_null (paper);
    if (!kt_testproc_log_wait (paper, "exec.start", NULL, 5000)) {
        kt_testproc_log_dump (paper, 3000);
        fail_msg ("the paper exec-gateway did not start");
    }
    *dealer = W.pdealer = zmq_socket (W.zctx, ZMQ_DEALER);
    W.paper = paper;
    int zero = 0;
    zmq_setsockopt (*dealer, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_connect (*dealer, ep_exec), 0);
    usleep (300000);
    return paper;
}

//  Paper mode: a second exec-gateway (its own key prefix and endpoints) whose broker is
//  the shared fill model fed by `md` ticks. Given a tick equal to kite-sim's quote, the
//  same orders fill as kite-sim fills them: a MARKET sell at the bid, a marketable BUY
//  LIMIT at the ask, a resting LIMIT not at all.
static void
test_paper_fills_like_kite_sim (void **state)
{
    (void) state;
    s_step ("10:00:40"); //  fresh quotes: liquidity is shared within one instant
    void *dealer;
    kt_testproc_t *paper = s_paper_start (W.ep_md, "p", &dealer);

    //  kite-sim's quote now (paused), as one tick on md.
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_TICK;
    struct kt_tick *t = &m.u.tick;
    s_sim_tick (t);
    assert_true (t->bid_qty >= 75 && t->ask_qty >= 75);
    s_send_msg (W.mdpub, false, "md.tick.x", &m);
    usleep (200000);

    struct {
        kt_side_t side;
        kt_order_type_t type;
        int64_t price;
    } cases[] = {{KT_SIDE_SELL, KT_OT_MARKET, 0},
                 {KT_SIDE_BUY, KT_OT_LIMIT, t->ask + 500},
                 {KT_SIDE_BUY, KT_OT_LIMIT, t->bid - 500}};
    for (int i = 0; i < 3; i++) {
        char sc[KT_ID_LEN], pc[KT_ID_LEN];
        s_coid (sc, "CMPS");
        s_coid (pc, "CMPP");
        struct kt_order_cmd c = s_place (sc, cases[i].side, cases[i].type, 75, cases[i].price, 0);
        s_command (&c);
        snprintf (c.coid, sizeof c.coid, "%s", pc);
        snprintf (c.intent_id, sizeof c.intent_id, "%s", pc);
        struct kt_exec_event ev = s_command_on (dealer, &c);
        assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
        char skey[64], pkey[64];
        snprintf (skey, sizeof skey, "order:%s", sc);
        snprintf (pkey, sizeof pkey, "p:order:%s", pc);
        const char *want = i < 2 ? "FILLED" : "OPEN";
        assert_true (s_wait_status (sc, want, 5000));
        bool same = false;
        for (int64_t end = s_ms () + 5000; s_ms () < end && !same; usleep (50000)) {
            redisReply *x = redisCommand (W.rc, "HMGET %s status avg_px filled_qty", pkey);
            same =
                x->element[0]->type == REDIS_REPLY_STRING && strcmp (x->element[0]->str, want) == 0;
            if (same) {
                assert_string_equal (x->element[1]->str, s_hget (skey + 0, "avg_px"));
                assert_string_equal (x->element[2]->str, s_hget (skey, "filled_qty"));
            }
            freeReplyObject (x);
        }
        if (!same)
            kt_testproc_log_dump (paper, 3000);
        assert_true (same);
    }
    zmq_close (dealer);
    W.pdealer = NULL;
    kt_testproc_destroy (&W.paper);
    (void) paper;
    s_flatten ();
}

//  A sliced entry stopped out: as the market rises through the stop trigger, a slice's
//  stop fills, and what is left of every slice is cancelled (the trade is over).
static void
test_sliced_entry_stopped_out (void **state)
{
    (void) state;
    s_step ("10:33:00");
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN], key[64];
    s_coid (coid, "SSX");
    //  Resting two ticks above the ask: it fills as trades print there, a trade's quantity
    //  at a time, and the stop is three ticks above it.
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 4500, ask + 10, 0);
    c.has_stop = true;
    c.stop_trigger = ask + 25;
    c.stop_price = kt_money_tick_up (c.stop_trigger + c.stop_trigger / 10, 5);
    struct kt_exec_event ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 5000));
    (void) bid;
    (void) ltp;
    //  Up to the stop, a second at a time (the next case starts at 10:40).
    int stopped = -1;
    for (int sec = 1; sec < 400 && stopped < 0; sec++) {
        char at[40];
        snprintf (at, sizeof at, "10:%02d:%02d", 33 + sec / 60, sec % 60);
        s_step (at);
        for (int i = 0; i < 3 && stopped < 0; i++) {
            snprintf (key, sizeof key, "order:%.18ss%d-st", coid, i);
            if (s_hgeti (key, "filled_qty") > 0)
                stopped = i;
        }
        usleep (200000);
    }
    if (stopped < 0)
        kt_testproc_log_dump (W.exec, 6000);
    assert_true (stopped >= 0);
    snprintf (key, sizeof key, "order:%s", coid);
    if (!s_wait_status (coid, "CANCELLED", 5000))
        fail_msg ("the sliced entry did not end CANCELLED after slice %d's stop filled", stopped);
    int cancelled = 0;
    for (int i = 0; i < 3; i++) {
        char slice[48];
        struct exec_kite_row row;
        snprintf (slice, sizeof slice, "%.18ss%d", coid, i);
        assert_int_equal (s_sim_orders (slice, &row), 1);
        assert_true (strcmp (row.status, "CANCELLED") == 0 || strcmp (row.status, "COMPLETE") == 0);
        cancelled += strcmp (row.status, "CANCELLED") == 0;
    }
    assert_true (cancelled > 0);
    s_flatten ();
}

// ---- paper mode over kite-sim's tick stream -----------------------------------------------------

//  md-gateway on kite-sim's WebSocket, subscribed to the test's option, publishing on ep.
static kt_testproc_t *
s_md_start (const char *ep)
{
    char path[128];
    snprintf (path, sizeof path, "%s/md.json", W.dir);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fprintf (f,
             "{\"mode\": \"sim\", \"log\": {\"level\": \"info\"},\n"
             " \"bus\": {\"md\": \"%s\", \"risk\": \"ipc://%s/mrisk\", \"risk_pub\": "
             "\"ipc://%s/mrp\", \"exec\": \"ipc://%s/mexec\", \"exec_pub\": \"ipc://%s/mpub\", "
             "\"alerts\": \"ipc://%s/malerts\"},\n"
             " \"redis\": {\"port\": %d, \"prefix\": \"km:\"},\n"
             " \"clock\": {\"mode\": \"real\", \"speed\": 1},\n"
             " \"kite\": {\"api_url\": \"%s\", \"ws_url\": \"ws://127.0.0.1:%d\", "
             "\"access_token\": \"env:KITE_ACCESS_TOKEN\"},\n"
             " \"instruments\": {\"cache_dir\": \"%s/instr\"},\n"
             " \"md\": {\"subscribe\": \"NFO:%s\", \"warmup\": false}}\n",
             ep, W.dir, W.dir, W.dir, W.dir, W.dir, W.redis->port, W.api, W.ws_port, W.dir, W.sym);
    fclose (f);
    static const char *const env[] = {"KITE_API_KEY=sim_api_key", "KITE_ACCESS_TOKEN=" TOKEN, NULL};
    const char *args[] = {"-c", path, NULL};
    kt_testproc_destroy (&W.md);
    kt_testproc_t *md = W.md = kt_testproc_start ("md-gateway", args, env);
    assert_non_null (md);
    if (!kt_testproc_log_wait (md, "md.ws.connected", NULL, 10000)) {
        kt_testproc_log_dump (md, 3000);
        fail_msg ("md-gateway did not connect to kite-sim");
    }
    return md;
}

//  The test's own view of md-gateway's stream: the last tick of the option.
struct s_stream {
    void *sub;
    struct kt_tick last;
    int ticks;
};

//  Wait until the stream has caught up with kite-sim's quote of the option now (its last
//  tick shows the same last price, volume, best bid and best ask), then give the paper
//  exec-gateway, on the same publisher, a moment to match them.
static void
s_stream_sync (struct s_stream *st)
{
    struct kt_tick now;
    s_sim_tick (&now);
    int64_t ltp = now.ltp, volume = now.volume, bid = now.bid, ask = now.ask;
    char why[96];
    char buf[4096];
    for (int64_t end = s_ms () + 5000; s_ms () < end;) {
        if (st->last.ltp == ltp && st->last.volume == volume && st->last.bid == bid &&
            st->last.ask == ask) {
            usleep (60000);
            return;
        }
        zmq_pollitem_t item = {st->sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 50) != 1)
            continue;
        zmq_recv (st->sub, buf, sizeof buf, 0);
        int n = zmq_recv (st->sub, buf, sizeof buf, 0);
        struct kt_msg m;
        if (n > 0 && kt_msg_decode (W.dec, buf, (size_t) n, &m, why, sizeof why) == 0 &&
            m.env.type == KT_MSG_TICK && strcmp (m.u.tick.sym, W.sym) == 0) {
            st->last = m.u.tick;
            st->ticks++;
        }
    }
    fail_msg ("the tick stream did not reach kite-sim's quote (ltp %lld volume %lld)",
              (long long) ltp, (long long) volume);
}

//  One order's outcome in a book (prefix "kt:" kite-sim's side, "q:" the paper one).
struct s_outcome {
    char status[16], broker_status[24];
    int64_t filled, avg_px;
};

static struct s_outcome
s_outcome (const char *prefix, const char *coid)
{
    struct s_outcome o;
    char key[64];
    snprintf (key, sizeof key, "order:%s", coid);
    snprintf (o.status, sizeof o.status, "%s", s_hget_in (prefix, key, "status"));
    snprintf (o.broker_status, sizeof o.broker_status, "%s",
              s_hget_in (prefix, key, "broker_status"));
    o.filled = strtoll (s_hget_in (prefix, key, "filled_qty"), NULL, 10);
    o.avg_px = strtoll (s_hget_in (prefix, key, "avg_px"), NULL, 10);
    return o;
}

//  Both sides agree on coid (state, filled quantity, average price) within ms.
static bool
s_sides_agree (const char *coid, int ms)
{
    struct s_outcome a, b;
    for (int64_t end = s_ms () + ms; s_ms () < end; usleep (30000)) {
        a = s_outcome ("kt:", coid);
        b = s_outcome ("q:", coid);
        if (strcmp (a.status, b.status) == 0 && a.filled == b.filled && a.avg_px == b.avg_px &&
            (strcmp (a.status, "OPEN") != 0 || strcmp (a.broker_status, b.broker_status) == 0))
            return true;
    }
    fprintf (stderr, "%s: kite-sim %s/%s %lld @ %lld, paper %s/%s %lld @ %lld\n", coid, a.status,
             a.broker_status, (long long) a.filled, (long long) a.avg_px, b.status, b.broker_status,
             (long long) b.filled, (long long) b.avg_px);
    return false;
}

//  Paper mode over a stream: md-gateway carries kite-sim's own WebSocket ticks to a paper
//  exec-gateway while the test steps kite-sim's clock a second at a time. The same
//  commands go to both: a SELL SL entry below the market with an attached BUY SL stop
//  above it, and a SELL LIMIT above the market. As the market moves, the entry triggers
//  and fills, its stop is placed, triggers and fills, and the LIMIT fills by trade-through
//  - on kite-sim's matching and on the paper broker's alike: the same states, quantities
//  and prices at every step.
static void
test_paper_over_tick_stream (void **state)
{
    (void) state;
    s_admin ("/_admin/rate", "class=quote&per_sec=1000"); //  the test reads a quote a step
    char ep[128];
    snprintf (ep, sizeof ep, "ipc://%s/md2", W.dir);
    kt_testproc_t *md = s_md_start (ep);
    void *dealer;
    kt_testproc_t *paper = s_paper_start (ep, "q", &dealer);
    struct s_stream st;
    memset (&st, 0, sizeof st);
    st.sub = W.msub = zmq_socket (W.zctx, ZMQ_SUB);
    int zero = 0;
    zmq_setsockopt (st.sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (st.sub, ZMQ_SUBSCRIBE, "md.tick", 7);
    assert_int_equal (zmq_connect (st.sub, ep), 0);
    usleep (300000);
    int hh = 10, mm = 40, ss = 0;
    char at[40];
    snprintf (at, sizeof at, "%02d:%02d:%02d", hh, mm, ss);
    s_step (at);
    s_stream_sync (&st);
    assert_true (st.ticks > 0);
    int64_t ltp = st.last.ltp, ask = st.last.ask, tick = 5;

    char entry[KT_ID_LEN], lim[KT_ID_LEN], stop[KT_ID_LEN];
    s_coid (entry, "PSE");
    s_coid (lim, "PSL");
    snprintf (stop, sizeof stop, "%.17s-st", entry);
    struct kt_order_cmd e = s_place (entry, KT_SIDE_SELL, KT_OT_SL, 75, 0, ltp - 2 * tick);
    e.price = kt_money_tick_down (e.trigger - e.trigger / 20, tick);
    e.has_stop = true;
    e.stop_trigger = e.trigger + 8 * tick;
    e.stop_price = kt_money_tick_up (e.stop_trigger + e.stop_trigger / 20, tick);
    struct kt_order_cmd l = s_place (lim, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2 * tick, 0);
    for (int side = 0; side < 2; side++) {
        struct kt_exec_event ev = s_command_on (side ? dealer : W.dealer, &e);
        assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
        ev = s_command_on (side ? dealer : W.dealer, &l);
        assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    }
    char key[64];
    snprintf (key, sizeof key, "order:%s", entry);
    assert_true (s_wait_field (key, "broker_status", "TRIGGER PENDING", 5000));
    assert_true (s_sides_agree (entry, 5000));
    assert_true (s_sides_agree (lim, 5000));

    //  A second at a time until all three filled; after each step both sides agree, and
    //  a stop placed in reaction to a fill is at both brokers before the market moves on.
    bool done = false;
    int steps = 0;
    for (; steps < 1200 && !done; steps++) {
        if (++ss == 60) {
            ss = 0;
            if (++mm == 60) {
                mm = 0;
                hh++;
            }
        }
        snprintf (at, sizeof at, "%02d:%02d:%02d", hh, mm, ss);
        s_step (at);
        s_stream_sync (&st);
        struct s_outcome se = s_outcome ("kt:", entry), pe = s_outcome ("q:", entry);
        if (strcmp (se.status, "FILLED") == 0 || strcmp (pe.status, "FILLED") == 0) {
            if (!s_sides_agree (entry, 5000))
                fail_msg ("the entry filled differently at %s", at);
            for (int64_t end = s_ms () + 5000;
                 s_ms () < end &&
                 (strcmp (s_outcome ("kt:", stop).broker_status, "TRIGGER PENDING") != 0 ||
                  strcmp (s_outcome ("q:", stop).broker_status, "TRIGGER PENDING") != 0) &&
                 strcmp (s_outcome ("kt:", stop).status, "FILLED") != 0;)
                usleep (30000);
        }
        if (!s_sides_agree (entry, 3000) || !s_sides_agree (lim, 3000) ||
            !s_sides_agree (stop, 3000))
            fail_msg ("paper and kite-sim differ at %s", at);
        done = strcmp (s_outcome ("kt:", entry).status, "FILLED") == 0 &&
               strcmp (s_outcome ("kt:", stop).status, "FILLED") == 0 &&
               strcmp (s_outcome ("kt:", lim).status, "FILLED") == 0;
    }
    fprintf (stderr, "paper over the stream: %d steps, %d ticks of %s\n", steps, st.ticks, W.sym);
    if (!done)
        fail_msg ("the market did not reach every order within %d s", steps);
    struct s_outcome se = s_outcome ("kt:", entry), sst = s_outcome ("kt:", stop),
                     sl = s_outcome ("kt:", lim);
    assert_int_equal (se.filled, 75);
    assert_true (se.avg_px <= e.trigger && se.avg_px >= e.price);
    assert_int_equal (sst.filled, 75);
    assert_true (sst.avg_px >= e.stop_trigger && sst.avg_px <= e.stop_price);
    assert_int_equal (sl.filled, 75);
    assert_int_equal (sl.avg_px, l.price);
    s_admin ("/_admin/rate", "class=quote&per_sec=1");
    zmq_close (st.sub);
    zmq_close (dealer);
    W.msub = W.pdealer = NULL;
    kt_testproc_destroy (&W.paper);
    kt_testproc_destroy (&W.md);
    (void) paper;
    (void) md;
    s_flatten ();
}

//  An order update forwarded on md.order is applied like a poll result.
static void
test_order_update_message (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN];
    s_coid (coid, "UPD");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 5000));
    //  A stale update (an older state) is dropped; the order stays OPEN.
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_ORDER_UPDATE;
    snprintf (m.u.order_update.order_id, sizeof m.u.order_update.order_id, "%s", ev.broker_id);
    snprintf (m.u.order_update.tag, sizeof m.u.order_update.tag, "%s", coid);
    snprintf (m.u.order_update.status, sizeof m.u.order_update.status, "OPEN PENDING");
    m.u.order_update.qty = 75;
    m.u.order_update.price = ask + 2000;
    s_send_msg (W.mdpub, false, "md.order", &m);
    usleep (300000);
    char key[64];
    snprintf (key, sizeof key, "order:%s", coid);
    assert_string_equal (s_hget (key, "status"), "OPEN");
    struct kt_order_cmd x = s_action ("XUPD", KT_ACTION_CANCEL, coid);
    s_command (&x);
    assert_true (s_wait_status (coid, "CANCELLED", 5000));
}

//  Token expiry: the place is refused with TokenException, the session is marked
//  invalid in exec-gateway's exec:session (risk-gate halts on it; risk:state is
//  risk-gate's own), nothing is retried; a new token loaded through session:reload (what
//  tradectl token writes) resumes and marks it valid.
static void
test_token_expiry (void **state)
{
    (void) state;
    s_admin ("/_admin/fault", "kind=expire_tokens");
    int64_t bid = 0, ask = 0, ltp = 0;
    char coid[KT_ID_LEN];
    s_coid (coid, "TOK");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (coid, KT_EXEC_REJECTED, &ev, 5000));
    assert_non_null (strstr (ev.reason, "TokenException"));
    assert_true (s_wait_field ("exec:session", "ok", "0", 2000));
    assert_non_null (strstr (s_hget ("exec:session", "reason"), "TokenException"));
    assert_string_equal (s_hget ("risk:state", "session_ok"), "");
    assert_non_null (kt_testproc_log_wait (W.exec, "alert.raised", "CRITICAL", 2000));
    //  The next entry is refused without a request.
    s_coid (coid, "TOK");
    c = s_place (coid, KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_REJECTED);
    assert_non_null (strstr (ev.reason, "SESSION"));
    assert_int_equal (kt_testproc_log_count (W.exec, "exec.broker.reply", coid), 0);
    (void) bid;
    (void) ask;
    (void) ltp;

    //  A new login (kite-sim's session exchange), the token in the secrets file, SIGHUP:
    //  orders go out again.
    unsigned char md[32];
    unsigned int n = 0;
    EVP_MD_CTX *x = EVP_MD_CTX_new ();
    EVP_DigestInit_ex (x, EVP_sha256 (), NULL);
    EVP_DigestUpdate (x, "sim_api_keyrt-exec-1sim_api_secret", 34);
    EVP_DigestFinal_ex (x, md, &n);
    EVP_MD_CTX_free (x);
    char form[256];
    int off = snprintf (form, sizeof form, "api_key=sim_api_key&request_token=rt-exec-1&checksum=");
    for (int i = 0; i < 32; i++)
        off += snprintf (form + off, sizeof form - (size_t) off, "%02x", md[i]);
    kt_http_resp_t *r = s_rest ("POST", "/session/token", form);
    assert_int_equal (r->status, 200);
    cJSON *root = cJSON_Parse (r->body);
    const cJSON *tok = cJSON_GetObjectItem (cJSON_GetObjectItem (root, "data"), "access_token");
    assert_true (cJSON_IsString (tok));
    s_write_secrets (tok->valuestring);
    cJSON_Delete (root);
    kt_http_resp_destroy (&r);
    //  As `tradectl token` asks (session:reload); SIGHUP does the same.
    redisReply *rr = redisCommand (W.rc, "HSET kt:session:reload requested_ns 1 by test");
    freeReplyObject (rr);
    assert_non_null (kt_testproc_log_wait (W.exec, "exec.token.reloaded", "session:reload", 3000));
    assert_true (s_wait_field ("exec:session", "ok", "1", 2000));
    s_coid (coid, "TOK");
    c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 75, 400000, 0);
    s_command (&c);
    assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 5000));
    assert_true (kt_testproc_running (W.exec));
}

static void
s_slow_orders (void)
{
    s_admin ("/_admin/fault", "kind=latency&ms=1500&path=/orders"); //  the poll too
}

//  A resting SELL LIMIT entry (coid into old), then, after before() (NULL: nothing), an
//  entry replacing it (coid into neu, 75 at ask + 25 rupees), answered SUBMITTED.
//  Returns the ask.
static int64_t
s_rest_then_replace (char *old, char *neu, const char *tag, void (*before) (void))
{
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char p[8];
    snprintf (p, sizeof p, "%sO", tag);
    s_coid (old, p);
    struct kt_order_cmd c = s_place (old, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    s_command (&c);
    assert_true (s_wait_status (old, "OPEN", 5000));
    if (before)
        before ();
    snprintf (p, sizeof p, "%sN", tag);
    s_coid (neu, p);
    struct kt_order_cmd r = s_place (neu, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2500, 0);
    snprintf (r.ref, sizeof r.ref, "%s", old);
    struct kt_exec_event ev = s_command (&r);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    return ask;
}

//  An entry replacing a resting one (PLACE with ref): the old one is cancelled at the
//  broker first, then the new one is placed; the record names what it replaced.
static void
test_replacement_of_resting_entry (void **state)
{
    (void) state;
    char old[KT_ID_LEN], neu[KT_ID_LEN];
    int64_t ask = s_rest_then_replace (old, neu, "RP", NULL);
    struct kt_exec_event ev;
    assert_true (s_event (old, KT_EXEC_CANCELLED, &ev, 5000));
    assert_int_equal (ev.filled_qty, 0);
    assert_true (s_event (neu, KT_EXEC_ACCEPTED, &ev, 5000));
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (old, &row), 1);
    assert_string_equal (row.status, "CANCELLED");
    assert_int_equal (s_sim_orders (neu, &row), 1);
    assert_string_equal (row.status, "OPEN");
    assert_int_equal (row.price, ask + 2500);
    char key[64];
    snprintf (key, sizeof key, "order:%s", neu);
    assert_string_equal (s_hget (key, "replaces"), old);
    assert_true (s_wait_status (old, "CANCELLED", 1000));
    //  Sent only once the old one had ended (exec.replace.place follows its cancel).
    assert_non_null (kt_testproc_log_wait (W.exec, "exec.replace.cancel", neu, 1000));
    assert_non_null (kt_testproc_log_wait (W.exec, "exec.replace.place", neu, 1000));
    //  A replacement of an order already ended empty is placed at once.
    char third[KT_ID_LEN];
    s_coid (third, "RPT");
    struct kt_order_cmd t = s_place (third, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 3000, 0);
    snprintf (t.ref, sizeof t.ref, "%s", old);
    s_command (&t);
    assert_true (s_event (third, KT_EXEC_ACCEPTED, &ev, 5000));
    //  Both new ones cancelled: the case leaves nothing resting.
    const char *rest[] = {neu, third};
    for (int i = 0; i < 2; i++) {
        char cc[KT_ID_LEN];
        s_coid (cc, "CXL");
        struct kt_order_cmd x = s_action (cc, KT_ACTION_CANCEL, rest[i]);
        s_command (&x);
        assert_true (s_wait_status (rest[i], "CANCELLED", 5000));
    }
}

//  An entry replacing one that has filled: the new one is never placed, answered
//  REJECTED REPLACED_FILLED (not a broker refusal); the old one's fill opened its
//  position and its attached stop as any fill does.
static void
test_replacement_of_filled_entry (void **state)
{
    (void) state;
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char old[KT_ID_LEN], neu[KT_ID_LEN];
    s_coid (old, "RFO");
    struct kt_order_cmd c = s_place (old, KT_SIDE_SELL, KT_OT_MARKET, 75, 0, 0);
    c.has_stop = true;
    c.stop_trigger = kt_money_tick_up (ltp + ltp / 10, 5);
    c.stop_price = c.stop_trigger + 100;
    c.r_value = (c.stop_trigger - ltp) * 75;
    s_command (&c);
    struct kt_exec_event ev;
    assert_true (s_event (old, KT_EXEC_FILLED, &ev, 5000));
    s_coid (neu, "RFN");
    struct kt_order_cmd r = s_place (neu, KT_SIDE_SELL, KT_OT_LIMIT, 75, ask + 2000, 0);
    snprintf (r.ref, sizeof r.ref, "%s", old);
    s_command (&r);
    assert_true (s_event (neu, KT_EXEC_REJECTED, &ev, 5000));
    char want[KT_TEXT_LEN];
    snprintf (want, sizeof want, "REPLACED_FILLED: %s filled 75", old);
    assert_string_equal (ev.reason, want);
    assert_null (strstr (ev.reason, "TokenException"));
    assert_true (s_wait_status (neu, "REJECTED", 1000));
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (neu, &row), 0);
    assert_int_equal (kt_testproc_log_count (W.exec, "exec.broker.reply", neu), 0);
    char stop[KT_ID_LEN];
    snprintf (stop, sizeof stop, "%.17s-st", old);
    assert_true (s_wait_status (stop, "OPEN", 5000));
    assert_int_equal (s_sim_position (W.sym), -75);
    s_flatten ();
}

//  kill -9 in the middle of a replacement (the old one's cancel out, its answer held):
//  the new entry is recorded PENDING_SUBMIT naming the old one; after the restart the
//  old one is settled first, then the new one is placed, exactly once.
static void
test_kill_during_replacement (void **state)
{
    (void) state;
    char old[KT_ID_LEN], neu[KT_ID_LEN];
    s_rest_then_replace (old, neu, "KR", s_slow_orders);
    usleep (300000);
    kt_testproc_signal (W.exec, SIGKILL);
    kt_testproc_wait (W.exec, 2000);
    kt_testproc_destroy (&W.exec);
    char key[64];
    snprintf (key, sizeof key, "order:%s", neu);
    assert_string_equal (s_hget (key, "status"), "PENDING_SUBMIT");
    assert_string_equal (s_hget (key, "replaces"), old);
    assert_string_equal (s_hget (key, "broker_id"), "");
    usleep (1500000);
    s_admin ("/_admin/fault", "kind=latency&ms=0");
    s_exec_start ();
    assert_true (s_wait_status (old, "CANCELLED", 5000));
    assert_true (s_wait_status (neu, "OPEN", 5000));
    assert_non_null (kt_testproc_log_wait (W.exec, "exec.replace.place", neu, 1000));
    struct exec_kite_row row;
    assert_int_equal (s_sim_orders (old, &row), 1);
    assert_string_equal (row.status, "CANCELLED");
    assert_int_equal (s_sim_orders (neu, &row), 1);
    assert_string_equal (row.status, "OPEN");
    char cc[KT_ID_LEN];
    s_coid (cc, "CXL");
    struct kt_order_cmd x = s_action (cc, KT_ACTION_CANCEL, neu);
    s_command (&x);
    assert_true (s_wait_status (neu, "CANCELLED", 5000));
}

//  Slice i of the sliced coid: its filled quantity in the book, and whether its stop
//  (one per slice, for that slice's filled quantity) agrees with it in the book and at
//  kite-sim (exactly one order of that tag, at most the freeze quantity).
static bool
s_slice_stop_agrees (const char *coid, int i, int64_t *filled)
{
    char slice[48], stop[64], key[96];
    snprintf (slice, sizeof slice, "%.18ss%d", coid, i);
    snprintf (stop, sizeof stop, "%s-st", slice);
    snprintf (key, sizeof key, "order:%s", slice);
    *filled = s_hgeti (key, "filled_qty");
    snprintf (key, sizeof key, "order:%s", stop);
    if (*filled == 0)
        return s_hget (key, "status")[0] == '\0';
    struct exec_kite_row row;
    return s_hgeti (key, "qty") == *filled && s_sim_orders (stop, &row) == 1 &&
           row.qty == *filled && row.qty <= 1800 && strcmp (row.status, "TRIGGER PENDING") == 0;
}

//  Every slice's stop agrees with its slice; returns the total filled (-1 if they do not
//  agree within ms).
static int64_t
s_sliced_stops_agree (const char *coid, int n, int ms)
{
    for (int64_t end = s_ms () + ms; s_ms () < end; usleep (100000)) {
        int64_t total = 0, f;
        bool all = true;
        for (int i = 0; i < n && all; i++) {
            all = s_slice_stop_agrees (coid, i, &f);
            total += f;
        }
        if (all)
            return total;
    }
    kt_testproc_log_dump (W.exec, 4000);
    return -1;
}

//  An entry of 2.5 times the freeze quantity with an attached stop: three slices, each
//  its own tag; as slices fill, each gets its own BUY SL stop for its filled quantity (so
//  no stop is above the freeze quantity and the stops total the filled quantity). kill -9
//  with the market moving while down, restart: every slice and stop is one order at
//  kite-sim, and the stops follow the fills. CANCEL cancels what is left of every slice
//  (the stops stay for the filled part); FLATTEN cancels the stops and exits.
static void
test_sliced_entry_with_stops (void **state)
{
    (void) state;
    s_step ("10:31:00"); //  fresh quotes
    int64_t bid, ask, ltp;
    s_quote (W.sym, &bid, &ask, &ltp);
    char coid[KT_ID_LEN], key[64];
    s_coid (coid, "SST");
    struct kt_order_cmd c = s_place (coid, KT_SIDE_SELL, KT_OT_LIMIT, 4500, bid, 0);
    c.has_stop = true;
    c.stop_trigger = kt_money_tick_up (ltp * 2, 5); //  far: the test moves the market
    c.stop_price = c.stop_trigger + 200;
    c.r_value = (c.stop_trigger - ltp) * 4500;
    struct kt_exec_event ev = s_command (&c);
    assert_int_equal (ev.event, KT_EXEC_SUBMITTED);
    assert_true (s_event (coid, KT_EXEC_ACCEPTED, &ev, 5000));
    int64_t total = 0;
    for (int i = 0; i < 3; i++) {
        char slice[48];
        struct exec_kite_row row;
        snprintf (slice, sizeof slice, "%.18ss%d", coid, i);
        snprintf (key, sizeof key, "order:%s", slice);
        assert_true (s_wait_field (key, "parent", coid, 3000));
        for (int64_t end = s_ms () + 3000; s_ms () < end && !s_hget (key, "broker_id")[0];)
            usleep (50000);
        assert_int_equal (s_sim_orders (slice, &row), 1);
        assert_true (row.qty <= 1800);
        total += row.qty;
    }
    assert_int_equal (total, 4500);
    snprintf (key, sizeof key, "order:%s", coid);
    assert_string_equal (s_hget (key, "broker_status"), "SLICED");
    assert_true (s_event (coid, KT_EXEC_PARTIAL, &ev, 5000));
    int64_t before = s_sliced_stops_agree (coid, 3, 8000);
    assert_true (before > 0);
    //  The parent's totals in the book are its slices' (risk-gate settles by them).
    char want[24];
    snprintf (want, sizeof want, "%lld", (long long) before);
    assert_true (s_wait_field (key, "filled_qty", want, 3000));
    assert_true (s_hgeti (key, "avg_px") > 0);
    //  Down while the market trades through the rest.
    kt_testproc_signal (W.exec, SIGKILL);
    kt_testproc_wait (W.exec, 2000);
    kt_testproc_destroy (&W.exec);
    s_step ("10:31:02");
    s_exec_start ();
    assert_non_null (kt_testproc_log_wait (W.exec, "exec.order.loaded", coid, 3000));
    int64_t filled = -1;
    for (int64_t end = s_ms () + 8000; s_ms () < end; usleep (200000)) {
        filled = s_sliced_stops_agree (coid, 3, 3000);
        if (filled >= 0 && filled == -s_sim_position (W.sym))
            break;
    }
    assert_true (filled >= before);
    assert_int_equal (-s_sim_position (W.sym), filled);
    char pkey[64];
    snprintf (pkey, sizeof pkey, "pos:%s", W.sym);
    assert_int_equal (s_hgeti (pkey, "qty"), -filled);
    snprintf (want, sizeof want, "%lld", (long long) filled);
    assert_true (s_wait_field (key, "filled_qty", want, 3000)); //  rebuilt after the restart
    //  Nothing was placed twice (a stop attempt after the first would be "-s2").
    for (int i = 0; i < 3; i++) {
        char tag[48];
        struct exec_kite_row row;
        snprintf (tag, sizeof tag, "%.18ss%d", coid, i);
        assert_int_equal (s_sim_orders (tag, &row), 1);
        snprintf (tag, sizeof tag, "%.18ss%d-s2", coid, i);
        assert_int_equal (s_sim_orders (tag, &row), 0);
    }
    assert_true (filled < 4500); //  the third slice rests: CANCEL has work to do
    {
        struct kt_order_cmd x = s_action ("XSST", KT_ACTION_CANCEL, coid);
        s_command (&x);
        if (!s_event ("XSST", KT_EXEC_NONE, &ev, 5000)) {
            kt_testproc_log_dump (W.exec, 6000);
            fail_msg ("CANCEL of the sliced entry was not answered");
        }
        assert_true (s_wait_status (coid, "CANCELLED", 5000) ||
                     strcmp (s_hget (key, "status"), "FILLED") == 0);
        for (int i = 0; i < 3; i++) {
            char slice[48];
            struct exec_kite_row row;
            snprintf (slice, sizeof slice, "%.18ss%d", coid, i);
            assert_int_equal (s_sim_orders (slice, &row), 1);
            assert_true (strcmp (row.status, "CANCELLED") == 0 ||
                         strcmp (row.status, "COMPLETE") == 0);
        }
        filled = s_sliced_stops_agree (coid, 3, 5000);
        assert_int_equal (-s_sim_position (W.sym), filled);
    }
    s_flatten ();
    for (int i = 0; i < 3; i++) {
        char stop[48];
        snprintf (stop, sizeof stop, "%.18ss%d-st", coid, i);
        snprintf (key, sizeof key, "order:%s", stop);
        if (s_hget (key, "status")[0])
            assert_true (s_wait_status (stop, "CANCELLED", 3000));
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_limit_rests_then_cancel),
        cmocka_unit_test (test_replacement_of_resting_entry),
        cmocka_unit_test (test_replacement_of_filled_entry),
        cmocka_unit_test (test_errors_final),
        cmocka_unit_test (test_market_entry_stop_flatten),
        cmocka_unit_test (test_accepted_then_rejected),
        cmocka_unit_test (test_stop_refused_exits_at_market),
        cmocka_unit_test (test_lost_answer_settled_by_tag),
        cmocka_unit_test (test_throttled),
        cmocka_unit_test (test_unresolved_absent),
        cmocka_unit_test (test_stops_modify_cancel_all),
        cmocka_unit_test (test_idle_partial_cancelled),
        cmocka_unit_test (test_sliced_order),
        cmocka_unit_test (test_order_update_message),
        cmocka_unit_test (test_paper_fills_like_kite_sim),
        cmocka_unit_test (test_partial_fill_stop_resized),
        cmocka_unit_test (test_kill_restart_applies_missed_fill_once),
        cmocka_unit_test (test_kill_before_addon_stop),
        cmocka_unit_test (test_kill_during_submit),
        cmocka_unit_test (test_kill_during_replacement),
        cmocka_unit_test (test_sliced_entry_with_stops),
        cmocka_unit_test (test_sliced_entry_stopped_out),
        cmocka_unit_test (test_paper_over_tick_stream),
        cmocka_unit_test (test_token_expiry),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
