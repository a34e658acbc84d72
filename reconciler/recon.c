/*  recon - the reconciler's context: a run at start-up, every recon.interval_s, sooner
 *  after a run that found something, and on request (recon:request, from `tradectl
 *  reconcile`). session:reload (tradectl token / login) makes it re-read
 *  kite.access_token and prove the new session with a run.
 *
 *  A run reads the broker's positions, order book and trade book one after the other
 *  (three GETs per run, far inside Kite's 10 requests/s) on the process loop, then
 *  reads the book, compares (recon_diff), acts (recon_act) and writes the result. Only
 *  a run whose three broker calls all succeeded and that found nothing reports
 *  agreement; a failed call is recorded as such, never as agreement. */

#include "recon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_IDLE = 0, S_POSITIONS, S_ORDERS, S_TRADES };

static const char *const s_paths[] = {"", "/portfolio/positions", "/orders", "/trades"};

struct recon {
    kt_proc_t *proc;             //  borrowed
    const struct recon_cfg *cfg; //  borrowed
    kt_http_t *http;
    recon_unknown_t unknown;
    int timer, soon_timer, req_timer, pace_timer;
    int64_t last_sent_mono_ns; //  the previous broker request (wall monotonic)
    char auth[256];            //  "Authorization: token key:token" (a secret: never logged)
    char token[128];           //  the access token in auth (a secret)
    const char *headers[3];
    int stage;               //  S_*: the broker call in flight
    bool again;              //  a run was asked for while one was in flight
    bool closing;            //  destroy: cancelled requests end nothing
    int64_t request_ns;      //  recon:request requested_ns the run in flight answers (0 = none)
    int64_t next_request_ns; //  one that arrived while a run was in flight
    int64_t run_started_ns;  //  pipeline time the latest run started
    int64_t last_run_ns;     //  start of the latest completed run (health: last_run_ns)
    char last_result[160];   //  its outcome in words (health: last_result)
    int64_t reload_seen_ns;  //  session:reload requested_ns already acted on
    int64_t answered_ns;     //  recon:request requested_ns already given to a run
    int64_t started_wall_ns; //  of the run in flight
    struct recon_broker broker;
    struct recon_redis redis;
    struct recon_pending pending;
    struct recon_result *res;
    struct kt_recon_last last;
    //  counters (health:reconciler)
    int64_t runs, agreements, broker_failures, findings, exec_events;
    int64_t applied, settled, adopted, halts, act_failures;
};

static void s_run_soon (recon_t *self);

//  The Authorization header of every broker call.
static void
s_set_auth (recon_t *self, const char *key, const char *token)
{
    snprintf (self->auth, sizeof self->auth, "Authorization: token %s:%s", key, token);
    snprintf (self->token, sizeof self->token, "%s", token);
}

//  ---- results ---------------------------------------------------------------------------

static void
s_write_last (recon_t *self)
{
    self->last.run = self->runs;
    self->last.duration_us = (kt_clock_wall_mono_ns () - self->started_wall_ns) / 1000;
    //  Monotonic: every later run also started after an answered request.
    if (self->request_ns > self->last.request_ns)
        self->last.request_ns = self->request_ns;
    self->last_run_ns = self->run_started_ns;
    char why[256];
    if (kt_recon_last_put (kt_proc_store (self->proc), &self->last, why, sizeof why) < 0)
        kt_log_error ("recon.last", KT_S ("why", why), KT_END);
}

//  A run that compared nothing: no counts of an earlier run may stand in recon:last.
static void
s_clear_counts (struct kt_recon_last *l)
{
    l->agree = false;
    l->findings = l->unconfirmed = 0;
    l->missing_fill = l->closed_by_stop = l->venue_close = l->unknown_position = 0;
    l->qty_mismatch = l->order_state = l->unresolved = 0;
    l->applied = l->settled = l->adopted = l->halted = l->failed = 0;
}

//  The run is over: take the next queued run, if any.
static void
s_end_run (recon_t *self)
{
    self->stage = S_IDLE;
    self->request_ns = 0;
    if (self->again) {
        self->again = false;
        self->request_ns = self->next_request_ns;
        self->next_request_ns = 0;
        recon_run (self);
    }
}

//  A broker call failed: not agreement. Recorded, logged and alerted.
static void
s_broker_failed (recon_t *self, recon_bstatus_t st, const char *why)
{
    self->runs++;
    self->broker_failures++;
    char what[160];
    snprintf (what, sizeof what, "GET %s: %s", s_paths[self->stage], why);
    self->last.ts_ns = kt_proc_now_ns (self->proc);
    s_clear_counts (&self->last);
    //  Only the broker saying so ends the session; a timeout or a 5xx says nothing about
    //  it (session_ok_ns keeps the age of the last proof, from a real call).
    if (st == RECON_B_TOKEN)
        self->last.session_ok = false;
    snprintf (self->last.broker_error, sizeof self->last.broker_error, "%.120s", what);
    snprintf (self->last_result, sizeof self->last_result, "no agreement: broker %.130s", what);
    kt_log_error ("recon.broker", KT_S ("status", recon_bstatus_str (st)), KT_S ("why", what),
                  KT_END);
    if (st == RECON_B_TOKEN)
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "recon.session",
                       "broker session invalid (TokenException): log in again; %s", what);
    else
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_WARNING, "recon.broker",
                       "reconciliation failed, no agreement: %s", what);
    s_write_last (self);
    //  Until the first agreement (start-up: kite-sim or the network not up yet, trading
    //  held REDUCING) look again soon; after it, the interval is enough.
    if (self->agreements == 0)
        s_run_soon (self);
    s_end_run (self);
}

//  The answer to the agreement signal: only a failure is news (risk-gate then stays
//  REDUCING, the safe side, and the next run writes it again).
//  The outcome of a compared run in words, for health:reconciler last_result (what
//  `tradectl reconcile` prints; the first 63 characters matter most): "agree", or
//  "HALT 3 findings: qty_mismatch 1 missing_fill 2 (1 waiting)". recon:last has the rest.
static void
s_result_text (recon_t *self, int n)
{
    const struct kt_recon_last *l = &self->last;
    if (l->agree) {
        snprintf (self->last_result, sizeof self->last_result, "agree");
        return;
    }
    if (n == 0) {
        snprintf (self->last_result, sizeof self->last_result,
                  "no agreement: the agreement signal could not be written");
        return;
    }
    char *p = self->last_result;
    size_t left = sizeof self->last_result;
    int w = snprintf (p, left, "%s%d finding%s:", l->halted ? "HALT " : "", n, n == 1 ? "" : "s");
    for (int c = 1; c < RECON_C_COUNT && w > 0 && (size_t) w < left; c++) {
        if (!self->res->counts[c])
            continue;
        p += w;
        left -= (size_t) w;
        w = snprintf (p, left, " %s %" PRId64, recon_class_str ((recon_class_t) c),
                      self->res->counts[c]);
    }
    if (l->unconfirmed && w > 0 && (size_t) w < left)
        snprintf (p + w, left - (size_t) w, " (%" PRId64 " waiting)", l->unconfirmed);
}

//  All three books are in: compare, act, report.
static void
s_compare (recon_t *self)
{
    kt_proc_t *proc = self->proc;
    kt_store_t *store = kt_proc_store (proc);
    self->runs++;
    self->last.session_ok = true;
    self->last.session_ok_ns = kt_proc_now_ns (proc);
    self->last.broker_error[0] = '\0';
    self->last.broker_positions = self->broker.npos;
    self->last.broker_orders = self->broker.nord;
    self->last.broker_trades = self->broker.ntrade;
    char why[256];
    if (recon_redis_read (store, &self->broker, &self->redis, why, sizeof why) < 0) {
        self->last.ts_ns = kt_proc_now_ns (proc);
        s_clear_counts (&self->last);
        kt_log_error ("recon.redis", KT_S ("why", why), KT_END);
        kt_alert_send (kt_proc_alerts (proc), KT_SEV_WARNING, "recon.redis",
                       "reconciliation could not read the book: %s", why);
        snprintf (self->last.broker_error, sizeof self->last.broker_error, "book: %.110s", why);
        snprintf (self->last_result, sizeof self->last_result, "no agreement: %.140s",
                  self->last.broker_error);
        s_write_last (self); //  queued until Redis answers again
        if (self->agreements == 0)
            s_run_soon (self);
        s_end_run (self);
        return;
    }
    int64_t now = kt_proc_now_ns (proc);
    struct recon_diff_opts opts = {self->unknown, (int) self->cfg->retry_runs};
    int n = recon_diff (&self->broker, &self->redis, &opts, &self->pending, self->res);
    struct recon_act_stats st;
    recon_act (proc, self->res, now, &st);

    struct kt_recon_last *l = &self->last;
    l->ts_ns = now;
    l->agree = n == 0;
    l->findings = n;
    l->unconfirmed = self->res->unconfirmed;
    l->missing_fill = self->res->counts[RECON_C_MISSING_FILL];
    l->closed_by_stop = self->res->counts[RECON_C_CLOSED_BY_STOP];
    l->venue_close = self->res->counts[RECON_C_VENUE_CLOSE];
    l->unknown_position = self->res->counts[RECON_C_UNKNOWN_POSITION];
    l->qty_mismatch = self->res->counts[RECON_C_QTY_MISMATCH];
    l->order_state = self->res->counts[RECON_C_ORDER_STATE];
    l->unresolved = self->res->counts[RECON_C_UNRESOLVED];
    l->applied = st.applied;
    l->settled = st.settled;
    l->adopted = st.adopted;
    l->halted = st.halted;
    l->failed = st.failed;
    self->findings += n;
    self->applied += st.applied;
    self->settled += st.settled;
    self->adopted += st.adopted;
    self->halts += st.halted;
    self->act_failures += st.failed;
    if (l->agree) {
        self->agreements++;
        l->agree_ns = now; //  risk-gate's REDUCING -> ACTIVE reads it from recon:last
    }
    s_result_text (self, n);
    s_write_last (self);
    kt_log (l->agree ? KT_LOG_INFO : KT_LOG_WARN, "recon.run", KT_I ("run", self->runs),
            KT_B ("agree", l->agree), KT_I ("findings", n), KT_I ("unconfirmed", l->unconfirmed),
            KT_I ("missing_fill", l->missing_fill), KT_I ("closed_by_stop", l->closed_by_stop),
            KT_I ("venue_close", l->venue_close), KT_I ("unknown_position", l->unknown_position),
            KT_I ("qty_mismatch", l->qty_mismatch), KT_I ("order_state", l->order_state),
            KT_I ("unresolved", l->unresolved), KT_I ("applied", st.applied),
            KT_I ("settled", st.settled), KT_I ("adopted", st.adopted), KT_I ("halted", st.halted),
            KT_I ("failed", st.failed), KT_I ("duration_us", l->duration_us),
            KT_I ("request_ns", self->request_ns), KT_END);
    if (n > 0)
        s_run_soon (self);
    s_end_run (self);
}

//  ---- broker calls ------------------------------------------------------------------------

static void s_on_http (const kt_http_resp_t *resp, void *arg);

//  Send the GET of the current stage.
static void
s_send (recon_t *self)
{
    int stage = self->stage;
    self->last_sent_mono_ns = kt_clock_wall_mono_ns ();
    char url[256];
    snprintf (url, sizeof url, "%s%s", kt_proc_cfg (self->proc)->kite_api_url, s_paths[stage]);
    kt_http_req_t req = {.method = "GET",
                         .url = url,
                         .headers = self->headers,
                         .timeout_ms = (int) self->cfg->timeout_ms};
    if (kt_http_request (self->http, &req, s_on_http, self) < 0)
        s_broker_failed (self, RECON_B_TRANSPORT, "request refused (bad kite.api_url?)");
}

static int
s_on_pace (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    recon_t *self = arg;
    self->pace_timer = 0;
    s_send (self);
    return 0;
}

//  Start the GET of stage, at least recon.min_gap_ms after the previous one: Kite's
//  10 requests/s are per api_key, shared with exec-gateway and md-gateway.
static void
s_get (recon_t *self, int stage)
{
    self->stage = stage;
    int64_t since_ms = (kt_clock_wall_mono_ns () - self->last_sent_mono_ns) / 1000000;
    int64_t wait_ms = self->last_sent_mono_ns ? self->cfg->min_gap_ms - since_ms : 0;
    if (wait_ms <= 0) {
        s_send (self);
        return;
    }
    self->pace_timer =
        kt_loop_timer_wall (kt_proc_loop (self->proc), wait_ms, false, s_on_pace, self);
    if (self->pace_timer < 0) {
        self->pace_timer = 0;
        s_send (self);
    }
}

static void
s_on_http (const kt_http_resp_t *resp, void *arg)
{
    recon_t *self = arg;
    if (self->closing)
        return;
    char why[256];
    if (resp->err != KT_HTTP_OK) {
        snprintf (why, sizeof why, "%s: %s", kt_http_err_str (resp->err), resp->errstr);
        s_broker_failed (self, RECON_B_TRANSPORT, why);
        return;
    }
    recon_bstatus_t st =
        recon_broker_judge (resp->status, resp->body, resp->body_len, why, sizeof why);
    if (st != RECON_B_OK) {
        s_broker_failed (self, st, why);
        return;
    }
    int rc =
        self->stage == S_POSITIONS ? recon_broker_parse_positions (&self->broker, resp->body,
                                                                   resp->body_len, why, sizeof why)
        : self->stage == S_ORDERS
            ? recon_broker_parse_orders (&self->broker, resp->body, resp->body_len, why, sizeof why)
            : recon_broker_parse_trades (&self->broker, resp->body, resp->body_len, why,
                                         sizeof why);
    if (rc < 0) {
        s_broker_failed (self, RECON_B_BAD, why);
        return;
    }
    if (self->stage == S_TRADES)
        s_compare (self);
    else
        s_get (self, self->stage + 1);
}

int
recon_run (recon_t *self)
{
    if (self->stage != S_IDLE) {
        self->again = true;
        return 1;
    }
    self->started_wall_ns = kt_clock_wall_mono_ns ();
    self->run_started_ns = kt_proc_now_ns (self->proc);
    self->broker.npos = self->broker.nord = self->broker.ntrade = 0;
    s_get (self, S_POSITIONS);
    return 0;
}

int64_t
recon_runs (const recon_t *self)
{
    return self->runs;
}

//  ---- timers and requests ------------------------------------------------------------------

static int
s_on_timer (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    recon_t *self = arg;
    if (timer_id == self->soon_timer)
        self->soon_timer = 0;
    recon_run (self);
    return 0;
}

//  After a run that found something: look again soon (the retry budget counts runs).
static void
s_run_soon (recon_t *self)
{
    if (self->soon_timer)
        return;
    self->soon_timer = kt_loop_timer_wall (kt_proc_loop (self->proc), self->cfg->retry_s * 1000,
                                           false, s_on_timer, self);
    if (self->soon_timer < 0)
        self->soon_timer = 0;
}

//  Re-read kite.access_token from the config's secret (tradectl token / login wrote the
//  new one and set session:reload). The token is never logged.
static void
s_reload_token (recon_t *self)
{
    const kt_cfg_t *kc = kt_proc_cfg (self->proc);
    struct recon_cfg tmp;
    char err[1024];
    kt_cfg_t *fresh = kt_cfg_load_file (kc->file, kc->proc, recon_cfg_table, &tmp, err, sizeof err);
    if (!fresh) {
        kt_log_error ("recon.session_reload", KT_S ("why", err), KT_END);
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_WARNING, "recon.session_reload",
                       "reconciler could not re-read kite.access_token: %s", err);
        return;
    }
    bool changed = strcmp (fresh->kite_access_token, self->token) != 0;
    if (changed)
        s_set_auth (self, fresh->kite_api_key, fresh->kite_access_token);
    kt_cfg_destroy (&fresh);
    kt_log_info ("recon.session_reload", KT_B ("changed", changed), KT_END);
}

//  recon:request (tradectl reconcile): each newer requested_ns is answered by one run that
//  started at or after it and carries it in recon:last.request_ns: the run in flight if it
//  started after the request, else a new one (queued behind the run in flight). The hash
//  stays: a request made while the reconciler was down is answered by its start-up run.
//  session:reload: a newer requested_ns re-reads the access token, then runs to prove it.
static int
s_on_request_poll (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    recon_t *self = arg;
    kt_store_t *store = kt_proc_store (self->proc);
    if (!kt_store_is_ready (store) && kt_store_retry_in_ms (store) > 0)
        return 0;
    struct kt_skey rk = kt_schema_key (kt_store_prefix (store), &kt_key_session_reload, NULL);
    int64_t req = 0;
    bool run = false;
    if (kt_store_hget_i64 (store, rk.s, "requested_ns", &req) == 0 && req > self->reload_seen_ns) {
        self->reload_seen_ns = req;
        s_reload_token (self);
        run = true;
    }
    struct kt_skey qk = kt_schema_key (kt_store_prefix (store), &kt_key_recon_request, NULL);
    bool requested = false;
    if (kt_store_hget_i64 (store, qk.s, "requested_ns", &req) == 0 && req > self->answered_ns) {
        self->answered_ns = req;
        kt_log_info ("recon.request", KT_I ("requested_ns", req), KT_END);
        if (self->stage != S_IDLE && self->run_started_ns >= req)
            self->request_ns = req; //  the run in flight started after it: it answers
        else
            requested = true;
    }
    if (!run && !requested)
        return 0;
    if (self->stage == S_IDLE) {
        self->request_ns = requested ? req : 0;
        recon_run (self);
    } else {
        if (requested)
            self->next_request_ns = req;
        self->again = true;
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
    const kt_kv_t c[] = {
        KT_I ("runs", self->runs),
        KT_I ("agreements", self->agreements),
        KT_S ("agreement", self->runs == 0    ? "unknown"
                           : self->last.agree ? "yes"
                                              : "no"),
        KT_B ("session_ok", self->last.session_ok),
        KT_I ("broker_failures", self->broker_failures),
        KT_I ("findings", self->findings),
        KT_I ("applied", self->applied),
        KT_I ("settled", self->settled),
        KT_I ("adopted", self->adopted),
        KT_I ("halts", self->halts),
        KT_I ("act_failures", self->act_failures),
        KT_I ("exec_events", self->exec_events),
        KT_I ("last_run_ns", self->last_run_ns),
        KT_S ("last_result", self->last_result),
    };
    int n = (int) (sizeof c / sizeof c[0]);
    if (n > max)
        n = max;
    memcpy (out, c, (size_t) n * sizeof c[0]);
    return n;
}

recon_t *
recon_new (kt_proc_t *proc, const struct recon_cfg *cfg)
{
    recon_unknown_t unknown;
    if (strcmp (cfg->unknown_position, "adopt") == 0)
        unknown = RECON_UNKNOWN_ADOPT;
    else if (strcmp (cfg->unknown_position, "halt") == 0)
        unknown = RECON_UNKNOWN_HALT;
    else {
        kt_log_error ("recon.config", KT_S ("key", "recon.unknown_position"),
                      KT_S ("value", cfg->unknown_position),
                      KT_S ("why", "must be \"adopt\" or \"halt\""), KT_END);
        return NULL;
    }
    const kt_cfg_t *kc = kt_proc_cfg (proc);
    if (!kc->kite_api_key[0] || !kc->kite_access_token[0])
        //  Not fatal: every run then fails with TokenException, recorded and alerted.
        kt_log_warn ("recon.config",
                     KT_S ("why", "kite.api_key or kite.access_token is empty: broker calls "
                                  "will be refused"),
                     KT_END);
    recon_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    self->unknown = unknown;
    self->res = calloc (1, sizeof *self->res);
    if (!self->res)
        abort ();
    recon_broker_init (&self->broker);
    recon_redis_init (&self->redis);
    s_set_auth (self, kc->kite_api_key, kc->kite_access_token);
    //  A token reload or a run asked for before the start is in effect / answered by the
    //  start-up run.
    self->reload_seen_ns = self->answered_ns = kt_proc_now_ns (proc);
    self->headers[0] = "X-Kite-Version: 3";
    self->headers[1] = self->auth;
    self->headers[2] = NULL;
    self->http = kt_http_new (kt_proc_loop (proc));
    static const char *const topics[] = {"exec.", NULL};
    if (!self->http || !kt_proc_sub (proc, "exec_pub", topics, s_on_exec, self)) {
        kt_log_error ("recon.start",
                      KT_S ("why", self->http ? kt_bus_errstr (kt_proc_bus (proc))
                                              : "HTTP client could not be created"),
                      KT_END);
        recon_destroy (&self);
        return NULL;
    }
    kt_loop_t *loop = kt_proc_loop (proc);
    self->timer = kt_loop_timer_wall (loop, cfg->interval_s * 1000, true, s_on_timer, self);
    self->req_timer =
        kt_loop_timer_wall (loop, cfg->request_poll_ms, true, s_on_request_poll, self);
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
    kt_loop_t *loop = kt_proc_loop (self->proc);
    if (self->timer > 0)
        kt_loop_timer_end (loop, self->timer);
    if (self->soon_timer > 0)
        kt_loop_timer_end (loop, self->soon_timer);
    if (self->req_timer > 0)
        kt_loop_timer_end (loop, self->req_timer);
    if (self->pace_timer > 0)
        kt_loop_timer_end (loop, self->pace_timer);
    kt_proc_set_counters (self->proc, NULL, NULL);
    //  A pending request's callback runs here with E_CANCELLED: it must end nothing.
    self->closing = true;
    kt_http_destroy (&self->http);
    recon_broker_free (&self->broker);
    recon_redis_free (&self->redis);
    free (self->res);
    explicit_bzero (self->auth, sizeof self->auth);
    explicit_bzero (self->token, sizeof self->token);
    free (self);
    *self_p = NULL;
}
