/*  recon - the reconciler's context: a run at start-up and on a timer, the broker's view
 *  fetched over Kite REST (kt_http on the loop), compared with the book in Redis
 *  (recon_diff), and each finding acted on and recorded.
 *
 *  A run: GET /portfolio/positions, /orders and /trades at once; when all three have
 *  answered, read our open positions, open and unresolved orders and their applied
 *  trade ids (kt_book), compare, then act in the order the findings come: missing fills
 *  and fills of our stops are applied (kt_book_fill, once per trade id; a stop's order
 *  is marked exit reason RECONCILED first), orders settled to the broker's state,
 *  unknown positions and quantity mismatches halt trading (risk:kill, CRITICAL alert
 *  with both views), and a run with nothing but agreement tells risk-gate
 *  (risk:state recon_ok_ns), which then leaves REDUCING. Every finding but agreement
 *  is an `events` entry with both views; the run's summary is recon:last. A run whose
 *  broker view is incomplete (network, 5xx, token) establishes nothing: never
 *  agreement by default. */

#include "recon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_POS_MAX 256
#define S_ORDERS_MAX 512
#define S_TRADES_MAX 1024
#define S_OURS_MAX 256
#define S_APPLIED_MAX 1024
#define S_NF_MAX 256
#define S_FINDINGS_MAX (S_TRADES_MAX + S_POS_MAX + S_OURS_MAX + S_ORDERS_MAX)

enum { S_POSITIONS = 0, S_ORDERS, S_TRADES, S_CALLS };

static const char *const s_paths[S_CALLS] = {"/portfolio/positions", "/orders", "/trades"};

struct s_call {
    recon_t *self;
    int idx;
    int id; //  kt_http id while pending
    bool done, ok;
    char *body; //  owned
    size_t len;
    char why[160];
};

struct s_nf {
    char coid[KT_ID_LEN];
    int runs;
};

struct recon {
    kt_proc_t *proc;             //  borrowed
    const struct recon_cfg *cfg; //  borrowed
    kt_store_t *store;           //  borrowed
    kt_http_t *http;             //  owned
    int timer;
    int watch_timer;         //  recon:request, once a second
    int64_t request_seen_ns; //  the newest operator request already served
    int64_t run_ns;          //  pipeline time the run in flight started
    int64_t last_run_ns;     //  ... and of the last finished run (health, tradectl)
    bool running;
    bool rerun;   //  a request came in during a run: run again after it
    bool closing; //  destroy: cancelled requests finish nothing
    int64_t run_start_mono;
    struct s_call calls[S_CALLS];
    //  one run's working set, allocated once
    struct recon_bpos *bpos;
    struct recon_border *borders;
    struct recon_btrade *btrades;
    struct kt_pos_rec *pos;
    int npos;
    struct recon_ours_order *ours;
    int nours;
    struct recon_applied *applied;
    int napplied;
    struct recon_finding *findings;
    struct s_nf nf[S_NF_MAX]; //  orders missing at the broker, runs in a row
    int nnf;
    //  counters
    int64_t runs, exec_events, agreements, discrepancies, unknowns, fills_applied, settled;
    int last_result;
    char last_why[160];
};

// ---- the broker's view ------------------------------------------------------------------

static void s_finish (recon_t *self);

static void
s_on_http (const kt_http_resp_t *resp, void *arg)
{
    struct s_call *c = arg;
    c->id = 0;
    if (c->self->closing)
        return;
    c->done = true;
    c->ok = resp->err == KT_HTTP_OK && resp->status == 200;
    if (!c->ok)
        snprintf (c->why, sizeof c->why, "%s: %s%ld %.100s", s_paths[c->idx],
                  resp->err == KT_HTTP_OK ? "HTTP " : kt_http_err_str (resp->err),
                  resp->err == KT_HTTP_OK ? resp->status : 0L,
                  resp->err == KT_HTTP_OK ? resp->body : resp->errstr);
    free (c->body);
    c->body = malloc (resp->body_len + 1);
    if (!c->body)
        abort ();
    memcpy (c->body, resp->body, resp->body_len);
    c->body[resp->body_len] = '\0';
    c->len = resp->body_len;
    for (int i = 0; i < S_CALLS; i++)
        if (!c->self->calls[i].done)
            return;
    s_finish (c->self);
}

int
recon_run (recon_t *self)
{
    if (self->running)
        return 1;
    const kt_cfg_t *cfg = kt_proc_cfg (self->proc);
    char auth[256], url[256];
    snprintf (auth, sizeof auth, "Authorization: token %s:%s", cfg->kite_api_key,
              cfg->kite_access_token);
    const char *headers[] = {"X-Kite-Version: 3", auth, NULL};
    self->running = true;
    self->runs++;
    self->run_ns = kt_proc_now_ns (self->proc);
    self->run_start_mono = kt_clock_wall_mono_ns ();
    for (int i = 0; i < S_CALLS; i++) {
        struct s_call *c = &self->calls[i];
        c->done = c->ok = false;
        c->why[0] = '\0';
        snprintf (url, sizeof url, "%s%s", cfg->kite_api_url, s_paths[i]);
        kt_http_req_t req = {.method = "GET",
                             .url = url,
                             .headers = headers,
                             .timeout_ms = (int) self->cfg->timeout_ms};
        c->id = kt_http_request (self->http, &req, s_on_http, c);
        if (c->id <= 0) {
            c->done = true;
            snprintf (c->why, sizeof c->why, "%s: request refused (bad kite.api_url?)", s_paths[i]);
        }
    }
    bool all_done = true;
    for (int i = 0; i < S_CALLS; i++)
        all_done = all_done && self->calls[i].done;
    if (all_done)
        s_finish (self);
    return 0;
}

// ---- our view ------------------------------------------------------------------------------

static void
s_on_pos (const struct kt_pos_rec *p, void *arg)
{
    recon_t *self = arg;
    if (self->npos < S_POS_MAX)
        self->pos[self->npos++] = *p;
}

static int
s_nf_runs (const recon_t *self, const char *coid)
{
    for (int i = 0; i < self->nnf; i++)
        if (!strcmp (self->nf[i].coid, coid))
            return self->nf[i].runs;
    return 0;
}

static void
s_on_order (const struct kt_order_rec *o, void *arg)
{
    recon_t *self = arg;
    if (self->nours == S_OURS_MAX)
        return;
    struct recon_ours_order *ou = &self->ours[self->nours++];
    ou->rec = *o;
    ou->not_found_runs = s_nf_runs (self, o->coid);
}

//  The trade ids already applied to each of our orders.
static int
s_read_applied (recon_t *self)
{
    self->napplied = 0;
    for (int i = 0; i < self->nours; i++) {
        struct kt_skey k = kt_schema_key (kt_store_prefix (self->store), &kt_key_order_trades,
                                          self->ours[i].rec.coid);
        kt_store_result_t r = kt_store_callf (self->store, "SMEMBERS %s", k.s);
        if (r.kind == KT_STORE_DOWN) {
            kt_store_result_free (&r);
            return -1;
        }
        for (size_t j = 0; r.kind == KT_STORE_ARR && j < r.elements; j++) {
            kt_store_result_t e = kt_store_result_at (&r, j);
            if (e.kind != KT_STORE_STR || self->napplied == S_APPLIED_MAX)
                continue;
            struct recon_applied *a = &self->applied[self->napplied++];
            snprintf (a->coid, sizeof a->coid, "%s", self->ours[i].rec.coid);
            snprintf (a->trade_id, sizeof a->trade_id, "%.*s", (int) e.len, e.str);
        }
        kt_store_result_free (&r);
    }
    return 0;
}

// ---- acting on findings -------------------------------------------------------------------

static void
s_event (recon_t *self, const struct recon_finding *f)
{
    kt_kv_t kv[] = {KT_S ("type", "recon"),
                    KT_S ("class", recon_class_str (f->cls)),
                    KT_S ("sym", f->sym),
                    KT_S ("coid", f->coid),
                    KT_S ("broker_id", f->broker_id),
                    KT_S ("trade_id", f->trade_id),
                    KT_I ("ours_qty", f->ours_qty),
                    KT_I ("broker_qty", f->broker_qty),
                    KT_S ("broker_status", f->broker_status),
                    KT_S ("text", f->text),
                    KT_END};
    kt_store_event (self->store, kv);
}

static void
s_apply_fill (recon_t *self, const struct recon_finding *f)
{
    char why[160];
    if (f->cls == RECON_CLOSED_BY_STOP) {
        //  The position's exit reason comes from the order: say who closed it.
        struct kt_order_rec o;
        if (kt_book_order_get (self->store, f->coid, &o, why, sizeof why) == 1) {
            snprintf (o.exit_reason, sizeof o.exit_reason, "RECONCILED");
            kt_book_order_update (self->store, &o, kt_proc_now_ns (self->proc), why, sizeof why);
        }
    }
    struct kt_book_fill fill = {
        .qty = f->qty, .price = f->price, .ts_ns = kt_proc_now_ns (self->proc)};
    snprintf (fill.coid, sizeof fill.coid, "%s", f->coid);
    snprintf (fill.trade_id, sizeof fill.trade_id, "%s", f->trade_id);
    struct kt_book_fill_result res;
    if (kt_book_fill (self->store, &fill, &res, why, sizeof why) != 0) {
        kt_log_error ("recon.fill.failed", KT_S ("coid", f->coid), KT_S ("trade_id", f->trade_id),
                      KT_S ("why", why), KT_END);
        return;
    }
    if (!res.duplicate)
        self->fills_applied++;
    kt_log_info ("recon.fill", KT_S ("class", recon_class_str (f->cls)), KT_S ("coid", f->coid),
                 KT_S ("trade_id", f->trade_id), KT_I ("qty", f->qty),
                 KT_I ("pos_qty", res.pos_qty), KT_B ("duplicate", res.duplicate), KT_END);
}

//  Settle one of our orders to what the broker says (fills are applied separately and
//  move a FILLED order by themselves).
static void
s_settle (recon_t *self, const struct recon_finding *f, kt_ord_status_t to, const char *reason)
{
    char why[160];
    struct kt_order_rec o;
    if (to == KT_OS_NONE || to == KT_OS_FILLED ||
        kt_book_order_get (self->store, f->coid, &o, why, sizeof why) != 1)
        return;
    if (o.status == to && !strcmp (o.broker_id, f->broker_id))
        return;
    o.status = to;
    if (f->broker_id[0])
        snprintf (o.broker_id, sizeof o.broker_id, "%s", f->broker_id);
    if (f->broker_status[0])
        snprintf (o.broker_status, sizeof o.broker_status, "%.*s", (int) sizeof o.broker_status - 1,
                  f->broker_status);
    if (reason)
        snprintf (o.reason, sizeof o.reason, "%s", reason);
    if (kt_book_order_update (self->store, &o, kt_proc_now_ns (self->proc), why, sizeof why) == 0)
        self->settled++;
    else
        kt_log_error ("recon.settle.failed", KT_S ("coid", f->coid), KT_S ("why", why), KT_END);
}

//  Halt new risk: the kill switch risk-gate polls (an operator resumes).
static void
s_halt (recon_t *self, const struct recon_finding *f)
{
    char reason[300];
    snprintf (reason, sizeof reason, "reconciler: %s", f->text);
    //  The same hash and event as tradectl halt: the operator's resume clears it.
    char ns[24];
    snprintf (ns, sizeof ns, "%" PRId64, kt_proc_now_ns (self->proc));
    kt_key_t k = kt_store_keyv (self->store, "risk:kill");
    kt_store_result_t r = kt_store_callf (
        self->store, "HSET %s active 1 reason %s by reconciler since_ns %s", k.s, reason, ns);
    bool ok = r.kind == KT_STORE_INT;
    kt_store_result_free (&r);
    if (ok)
        kt_store_event (self->store,
                        (const kt_kv_t[]){KT_S ("type", "risk.kill"), KT_S ("by", "reconciler"),
                                          KT_S ("reason", reason), KT_S ("src", "reconciler"),
                                          KT_END});
    else
        kt_log_error ("recon.halt.failed", KT_S ("why", kt_store_errstr (self->store)),
                      KT_S ("text", f->text), KT_END);
    kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL,
                   f->cls == RECON_UNKNOWN_POSITION ? "recon.unknown_position" : "recon.mismatch",
                   "TRADING HALTED by the reconciler: %s", f->text);
}

static void
s_remember_not_found (recon_t *self)
{
    //  Rebuilt every run from its findings: an order found again starts over.
    struct s_nf next[S_NF_MAX];
    int n = 0;
    for (int i = 0; i < self->nours && n < S_NF_MAX; i++) {
        const struct recon_finding *hit = NULL;
        for (int j = 0; j < S_FINDINGS_MAX && self->findings[j].cls != RECON_CLASS_COUNT; j++)
            if ((self->findings[j].cls == RECON_NOT_FOUND_RETRY ||
                 self->findings[j].cls == RECON_NOT_FOUND) &&
                !strcmp (self->findings[j].coid, self->ours[i].rec.coid))
                hit = &self->findings[j];
        if (hit) {
            snprintf (next[n].coid, sizeof next[n].coid, "%s", hit->coid);
            next[n++].runs = hit->not_found_runs;
        }
    }
    memcpy (self->nf, next, sizeof next[0] * (size_t) n);
    self->nnf = n;
}

static void
s_record (recon_t *self, const char *result, const struct recon_counts *c, const char *why)
{
    int64_t ms = (kt_clock_wall_mono_ns () - self->run_start_mono) / 1000000;
    struct kt_skey k = kt_schema_key (kt_store_prefix (self->store), &kt_key_recon_last, NULL);
    char args[RECON_CLASS_COUNT][24];
    const char *argv[8 + 2 * RECON_CLASS_COUNT];
    char at[24], dur[24];
    snprintf (at, sizeof at, "%" PRId64, kt_proc_now_ns (self->proc));
    snprintf (dur, sizeof dur, "%" PRId64, ms);
    int n = 0;
    argv[n++] = "HSET";
    argv[n++] = k.s;
    argv[n++] = "at_ns";
    argv[n++] = at;
    argv[n++] = "duration_ms";
    argv[n++] = dur;
    argv[n++] = "result";
    argv[n++] = result;
    for (int i = 0; i < RECON_CLASS_COUNT; i++) {
        snprintf (args[i], sizeof args[i], "%d", c ? c->n[i] : 0);
        argv[n++] = recon_class_str ((recon_class_t) i);
        argv[n++] = args[i];
    }
    kt_store_result_t r = kt_store_call (self->store, n, argv, NULL);
    kt_store_result_free (&r);
    kt_store_result_t w = kt_store_callf (self->store, "HSET %s why %s", k.s, why ? why : "");
    kt_store_result_free (&w);
    snprintf (self->last_why, sizeof self->last_why, "%s", why ? why : "");
    self->last_run_ns = self->run_ns;
    if (self->rerun && !self->closing) {
        self->rerun = false;
        recon_run (self);
    }
    kt_log (strcmp (result, "agree") ? KT_LOG_WARN : KT_LOG_INFO, "recon.run",
            KT_I ("run", self->runs), KT_S ("result", result), KT_I ("ms", ms),
            KT_S ("why", why ? why : ""), KT_END);
}

static void
s_finish (recon_t *self)
{
    self->running = false;
    char why[256] = "";
    int nbpos = -1, nbord = -1, nbtr = -1;
    for (int i = 0; i < S_CALLS && !why[0]; i++)
        if (!self->calls[i].ok)
            snprintf (why, sizeof why, "%s", self->calls[i].why);
    if (!why[0]) {
        struct s_call *c = self->calls;
        char w[160] = "";
        nbpos = recon_kite_positions (c[S_POSITIONS].body, c[S_POSITIONS].len, self->bpos,
                                      S_POS_MAX, w, sizeof w);
        if (nbpos >= 0)
            nbord = recon_kite_orders (c[S_ORDERS].body, c[S_ORDERS].len, self->borders,
                                       S_ORDERS_MAX, w, sizeof w);
        if (nbord >= 0)
            nbtr = recon_kite_trades (c[S_TRADES].body, c[S_TRADES].len, self->btrades,
                                      S_TRADES_MAX, w, sizeof w);
        if (nbpos < 0 || nbord < 0 || nbtr < 0)
            snprintf (why, sizeof why, "broker answer: %s", w);
        else if (nbpos > S_POS_MAX || nbord > S_ORDERS_MAX || nbtr > S_TRADES_MAX)
            snprintf (why, sizeof why, "broker view larger than the reconciler holds");
    }
    self->npos = self->nours = 0;
    char bwhy[160] = "";
    if (!why[0] &&
        (kt_book_each_position (self->store, s_on_pos, self, NULL, bwhy, sizeof bwhy) < 0 ||
         kt_book_each_open_order (self->store, s_on_order, self, NULL, bwhy, sizeof bwhy) < 0 ||
         s_read_applied (self) < 0))
        snprintf (why, sizeof why, "our book: %s", bwhy[0] ? bwhy : "Redis unavailable");
    if (why[0]) {
        self->unknowns++;
        self->last_result = 1;
        s_record (self, "unknown", NULL, why);
        return;
    }
    struct recon_diff_in in = {.bpos = self->bpos,
                               .nbpos = nbpos,
                               .borders = self->borders,
                               .nborders = nbord,
                               .btrades = self->btrades,
                               .nbtrades = nbtr,
                               .pos = self->pos,
                               .npos = self->npos,
                               .orders = self->ours,
                               .norders = self->nours,
                               .applied = self->applied,
                               .napplied = self->napplied,
                               .not_found_budget = (int) self->cfg->not_found_budget};
    struct recon_counts counts;
    for (int i = 0; i < S_FINDINGS_MAX; i++)
        self->findings[i].cls = RECON_CLASS_COUNT;
    int n = recon_diff_run (&in, self->findings, S_FINDINGS_MAX, &counts);
    bool discrepancy = false;
    for (int i = 0; i < n && i < S_FINDINGS_MAX; i++) {
        const struct recon_finding *f = &self->findings[i];
        if (f->cls != RECON_AGREE)
            s_event (self, f);
        switch (f->cls) {
            case RECON_MISSING_FILL:
            case RECON_CLOSED_BY_STOP:
                s_apply_fill (self, f);
                break;
            case RECON_ORDER_STATE:
            case RECON_UNRESOLVED_FOUND:
                s_settle (self, f, f->broker_as == KT_OS_NONE ? KT_OS_OPEN : f->broker_as, NULL);
                break;
            case RECON_NOT_FOUND:
                if (f->ours_status == KT_OS_UNRESOLVED || f->ours_status == KT_OS_PENDING_SUBMIT)
                    s_settle (self, f, KT_OS_REJECTED, "not at the broker: never placed");
                else {
                    discrepancy = true;
                    s_halt (self, f);
                }
                break;
            case RECON_UNKNOWN_POSITION:
            case RECON_QTY_MISMATCH:
                discrepancy = true;
                s_halt (self, f);
                break;
            default:
                break;
        }
        if (f->cls != RECON_AGREE && f->cls != RECON_FOREIGN_ORDER)
            kt_log (f->cls == RECON_NOT_FOUND_RETRY ? KT_LOG_INFO : KT_LOG_WARN, "recon.finding",
                    KT_S ("class", recon_class_str (f->cls)), KT_S ("text", f->text), KT_END);
    }
    s_remember_not_found (self);
    if (discrepancy) {
        self->discrepancies++;
        self->last_result = -1;
        s_record (self, "discrepancy", &counts, "");
        return;
    }
    //  Agreement (fills applied and orders settled count as agreement reached): risk-gate
    //  may leave REDUCING. An order still being looked for is not agreement yet.
    if (counts.n[RECON_NOT_FOUND_RETRY] > 0) {
        self->unknowns++;
        self->last_result = 1;
        s_record (self, "unknown", &counts, "orders of ours not yet in the broker's book");
        return;
    }
    char now[24];
    snprintf (now, sizeof now, "%" PRId64, kt_proc_now_ns (self->proc));
    kt_key_t k = kt_store_keyv (self->store, "risk:state");
    kt_store_result_t r = kt_store_callf (self->store, "HSET %s recon_ok_ns %s", k.s, now);
    bool written = r.kind == KT_STORE_INT;
    kt_store_result_free (&r);
    self->agreements += written;
    self->last_result = written ? 0 : 1;
    s_record (self, written ? "agree" : "unknown", &counts,
              written ? "" : "agreement could not be written");
}

// ---- process -------------------------------------------------------------------------------

static int
s_on_timer (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    recon_run ((recon_t *) arg);
    return 0;
}

//  `tradectl reconcile` writes recon:request: run now when it is newer than what we served.
static int
s_on_watch (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    recon_t *self = arg;
    struct kt_skey k = kt_schema_key (kt_store_prefix (self->store), &kt_key_recon_request, NULL);
    int64_t req = 0;
    if (kt_store_hget_i64 (self->store, k.s, "requested_ns", &req) != 0 ||
        req <= self->request_seen_ns)
        return 0;
    self->request_seen_ns = req;
    if (req > self->run_ns || !self->running) {
        kt_log_info ("recon.requested", KT_I ("requested_ns", req), KT_END);
        if (self->running)
            self->rerun = true;
        else
            recon_run (self);
    }
    return 0;
}

static int
s_on_exec (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
           void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    recon_t *self = arg;
    if (m->env.type == KT_MSG_EXEC_EVENT)
        self->exec_events++;
    return 0;
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    recon_t *self = arg;
    kt_kv_t kv[] = {KT_I ("runs", self->runs),
                    KT_I ("exec_events", self->exec_events),
                    KT_I ("last_run_ns", self->last_run_ns),
                    KT_S ("last_result", self->last_result == 0  ? "agree"
                                         : self->last_result < 0 ? "discrepancy"
                                                                 : "unknown"),
                    KT_S ("agreement", self->last_result == 0  ? "yes"
                                       : self->last_result < 0 ? "no"
                                                               : "unknown"),
                    KT_I ("agreements", self->agreements),
                    KT_I ("discrepancies", self->discrepancies),
                    KT_I ("unknowns", self->unknowns),
                    KT_I ("fills_applied", self->fills_applied),
                    KT_I ("orders_settled", self->settled),
                    KT_S ("last_why", self->last_why)};
    int n = 0;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && n < max; i++)
        out[n++] = kv[i];
    return n;
}

int
recon_result (const recon_t *self)
{
    return self->running ? 2 : self->last_result;
}

static void *
s_alloc (size_t n, size_t size)
{
    void *p = calloc (n, size);
    if (!p)
        abort ();
    return p;
}

recon_t *
recon_new (kt_proc_t *proc, const struct recon_cfg *cfg)
{
    recon_t *self = s_alloc (1, sizeof *self);
    self->proc = proc;
    self->cfg = cfg;
    self->store = kt_proc_store (proc);
    self->last_result = 1;
    self->bpos = s_alloc (S_POS_MAX, sizeof *self->bpos);
    self->borders = s_alloc (S_ORDERS_MAX, sizeof *self->borders);
    self->btrades = s_alloc (S_TRADES_MAX, sizeof *self->btrades);
    self->pos = s_alloc (S_POS_MAX, sizeof *self->pos);
    self->ours = s_alloc (S_OURS_MAX, sizeof *self->ours);
    self->applied = s_alloc (S_APPLIED_MAX, sizeof *self->applied);
    self->findings = s_alloc (S_FINDINGS_MAX, sizeof *self->findings);
    for (int i = 0; i < S_CALLS; i++)
        self->calls[i] = (struct s_call){.self = self, .idx = i};
    if (kt_book_register (self->store) != 0) {
        kt_log_error ("recon.config", KT_S ("why", "Redis script registry full"), KT_END);
        recon_destroy (&self);
        return NULL;
    }
    self->http = kt_http_new (kt_proc_loop (proc));
    static const char *const topics[] = {"exec.", NULL};
    if (!self->http || !kt_proc_sub (proc, "exec_pub", topics, s_on_exec, self)) {
        kt_log_error ("recon.connect", KT_S ("why", kt_bus_errstr (kt_proc_bus (proc))), KT_END);
        recon_destroy (&self);
        return NULL;
    }
    self->timer = kt_loop_timer (kt_proc_loop (proc),
                                 kt_proc_wall_to_pipeline_ms (proc, cfg->interval_s * 1000), true,
                                 s_on_timer, self);
    //  A request made before this start is served by the first run.
    struct kt_skey rk = kt_schema_key (kt_store_prefix (self->store), &kt_key_recon_request, NULL);
    kt_store_hget_i64 (self->store, rk.s, "requested_ns", &self->request_seen_ns);
    self->watch_timer = kt_loop_timer (
        kt_proc_loop (proc), kt_proc_wall_to_pipeline_ms (proc, 1000), true, s_on_watch, self);
    kt_proc_set_counters (proc, s_counters, self);
    recon_run (self);
    return self;
}

void
recon_destroy (recon_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    recon_t *self = *self_p;
    if (self->timer > 0)
        kt_loop_timer_end (kt_proc_loop (self->proc), self->timer);
    if (self->watch_timer > 0)
        kt_loop_timer_end (kt_proc_loop (self->proc), self->watch_timer);
    kt_proc_set_counters (self->proc, NULL, NULL);
    self->closing = true;
    kt_http_destroy (&self->http);
    for (int i = 0; i < S_CALLS; i++)
        free (self->calls[i].body);
    free (self->bpos);
    free (self->borders);
    free (self->btrades);
    free (self->pos);
    free (self->ours);
    free (self->applied);
    free (self->findings);
    free (self);
    *self_p = NULL;
}
