/*  risk - the risk-gate process: intents in on `risk` (ROUTER), decisions back to the
 *  caller, approved ORDER_COMMANDs to exec-gateway through the lazy-pirate client on
 *  `exec`, executions in from `exec_pub`, prices from `md`, RISK_STATE out on
 *  `risk_pub`, alerts to the alerter.
 *
 *  Design: every handler decodes, calls the core (risk_core.c, which does the Redis
 *  work), then performs what the core asked for in struct risk_out, in this order: the
 *  reply to the caller, the sent marks (risk_core_mark_sent), commands to exec-gateway,
 *  RISK_STATE, alerts. The caller waits for the decide round trip only; an order never
 *  leaves before its mark. Redis is always written first, published second. Before
 *  deciding an intent the exec_pub socket is drained, so a fill that was published
 *  before the strategy reacted to it is in the book when its exit is checked. Timers
 *  (periods in wall time): the poll (state, kill switch, reconciler agreement, P&L mark,
 *  breakers), the sweep of unanswered orders, the periodic RISK_STATE, and instrument
 *  reloads until one loads. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "kt_instr_cache.h"
#include "risk.h"

struct risk {
    kt_proc_t *proc;            //  borrowed
    const struct risk_cfg *cfg; //  borrowed
    risk_core_t *core;          //  owned
    kt_instr_table_t *instr;    //  owned, NULL until loaded
    void *router;               //  borrowed from the bus: `risk`
    void *pub;                  //  borrowed from the bus: `risk_pub`
    void *exec_sub;             //  borrowed from the bus: `exec_pub`
    kt_bus_client_t *exec;      //  owned: commands to exec-gateway
    int poll_timer, sweep_timer, instr_timer;
    int polls_since_pub; //  RISK_STATE is re-published every few polls
    struct kt_msg tx;    //  reused for every reply, command and publish
    struct kt_msg rx;    //  reused when draining exec_pub
    struct kt_msg rq;    //  reused for every request on `risk`
    struct risk_out out; //  reused for every core call
    int64_t cmd_fail, replies, rejects;
};

static void
s_out_reset (risk_t *self)
{
    memset (&self->out, 0, sizeof self->out);
}

static void
s_publish_state (risk_t *self)
{
    memset (&self->tx, 0, sizeof self->tx);
    self->tx.env.type = KT_MSG_RISK_STATE;
    risk_core_state_msg (self->core, &self->tx.u.risk_state);
    if (kt_bus_publish (kt_proc_bus (self->proc), self->pub, "risk.state", &self->tx) != 0)
        kt_log_warn_every ("risk.publish.fail", 10,
                           KT_S ("why", kt_bus_errstr (kt_proc_bus (self->proc))), KT_END);
    self->polls_since_pub = 0;
}

//  Do what the core asked: sent marks, commands, then state, then alerts (the reply is
//  the caller's, before this). The marks go first: the sweep asks exec-gateway again only
//  for orders marked sent, so none may leave unmarked (a mark without an answer is
//  remembered by the core and the order still goes: the caller was told APPROVE).
static void
s_perform (risk_t *self, struct risk_out *out)
{
    risk_core_mark_sent (self->core, out, kt_proc_now_ns (self->proc));
    for (int i = 0; i < out->ncmds; i++) {
        memset (&self->tx, 0, sizeof self->tx);
        self->tx.env.type = KT_MSG_ORDER_COMMAND;
        self->tx.u.cmd = out->cmds[i];
        if (kt_bus_client_send (self->exec, out->cmds[i].coid, "exec.cmd", &self->tx) != 0) {
            //  Not sent: an entry's reservation stays and the sweep looks it up; a halt's
            //  cancel-all must reach a human now.
            self->cmd_fail++;
            kt_log_error ("risk.cmd.fail", KT_S ("coid", out->cmds[i].coid),
                          KT_S ("action", kt_action_str (out->cmds[i].action)), KT_END);
            kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "risk.cmd.fail",
                           "risk-gate could not send %s %s to exec-gateway",
                           kt_action_str (out->cmds[i].action), out->cmds[i].coid);
        }
    }
    if (out->state_changed)
        s_publish_state (self);
    for (int i = 0; i < out->nalerts; i++)
        kt_alert_send (kt_proc_alerts (self->proc), out->alerts[i].sev, out->alerts[i].key, "%s",
                       out->alerts[i].text);
}

static void
s_handle_exec (risk_t *self, const struct kt_msg *m)
{
    if (m->env.type != KT_MSG_EXEC_EVENT)
        return;
    s_out_reset (self);
    risk_core_on_exec (self->core, &m->u.exec, kt_proc_now_ns (self->proc), &self->out);
    s_perform (self, &self->out);
}

static int
s_on_exec (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
           void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    s_handle_exec (arg, m);
    return 0;
}

//  Apply every execution already waiting on exec_pub.
static void
s_drain_exec (risk_t *self)
{
    kt_bus_t *bus = kt_proc_bus (self->proc);
    char topic[KT_TOPIC_LEN], why[160];
    for (int n = 0; n < 1000; n++) {
        int rc = kt_bus_recv (bus, self->exec_sub, topic, sizeof topic, &self->rx, why, sizeof why);
        if (rc == 1)
            return;
        if (rc == 0) {
            kt_proc_note_seq (self->proc, topic, &self->rx);
            s_handle_exec (self, &self->rx);
        } else
            kt_log_warn_every ("msg.reject", 10, KT_S ("topic", topic), KT_S ("why", why), KT_END);
    }
}

static void
s_reply (risk_t *self, const kt_bus_peer_t *peer, const char *intent_id)
{
    kt_bus_t *bus = kt_proc_bus (self->proc);
    if (kt_bus_reply (bus, self->router, peer, "risk.decision", &self->tx) != 0)
        kt_log_warn ("risk.reply.fail", KT_S ("intent_id", intent_id),
                     KT_S ("why", kt_bus_errstr (bus)), KT_END);
    else
        self->replies++;
}

static void
s_on_intent (risk_t *self, const kt_bus_peer_t *peer, const struct kt_intent *intent)
{
    //  Copied: the decision must not depend on a receive buffer while exec_pub drains.
    struct kt_intent in = *intent;
    s_drain_exec (self);
    s_out_reset (self);
    risk_core_decide (self->core, &in, kt_proc_now_ns (self->proc), &self->out);
    //  The answer first: it waits for the decision's commit only. Then the sent mark
    //  (one more round trip) and the command in s_perform, the mark before the order
    //  leaves.
    memset (&self->tx, 0, sizeof self->tx);
    self->tx.env.type = KT_MSG_RISK_DECISION;
    self->tx.u.decision = self->out.decision;
    s_reply (self, peer, in.intent_id);
    s_perform (self, &self->out);
}

//  A request the gate cannot read still gets an answer: BAD_INTENT with the reason, and
//  the intent_id when the decoder could read it, so no client waits for its time-out.
static void
s_on_bad_request (risk_t *self, const kt_bus_peer_t *peer, const char *intent_id, const char *why)
{
    self->rejects++;
    kt_log_warn_every ("risk.intent.bad", 10, KT_S ("intent_id", intent_id), KT_S ("why", why),
                       KT_I ("rejects", self->rejects), KT_END);
    memset (&self->tx, 0, sizeof self->tx);
    self->tx.env.type = KT_MSG_RISK_DECISION;
    struct kt_decision *d = &self->tx.u.decision;
    snprintf (d->intent_id, sizeof d->intent_id, "%s", intent_id);
    d->verdict = KT_VERDICT_BLOCK;
    d->nreasons = 1;
    snprintf (d->reasons[0].code, sizeof d->reasons[0].code, "%s", kt_reason_str (KT_R_BAD_INTENT));
    snprintf (d->reasons[0].text, sizeof d->reasons[0].text, "undecodable request: %.100s", why);
    const struct risk_view *v = risk_core_view (self->core);
    d->state = v->loaded ? v->state : KT_STATE_NONE;
    s_reply (self, peer, intent_id);
}

#define S_REQ_DRAIN 64 //  requests read per wake-up (the poll comes back)

static int
s_on_router (kt_loop_t *loop, void *zsock, void *arg)
{
    (void) loop;
    risk_t *self = arg;
    kt_bus_t *bus = kt_proc_bus (self->proc);
    char topic[KT_TOPIC_LEN], why[160];
    kt_bus_peer_t peer;
    for (int n = 0; n < S_REQ_DRAIN; n++) {
        int rc =
            kt_bus_recv_req (bus, zsock, &peer, topic, sizeof topic, &self->rq, why, sizeof why);
        if (rc == 1)
            return 0;
        bool intent = self->rq.env.type == KT_MSG_ORDER_INTENT;
        if (rc == 0 && intent) {
            s_on_intent (self, &peer, &self->rq.u.intent);
            continue;
        }
        if (rc == 0)
            snprintf (why, sizeof why, "expected ORDER_INTENT, got %s",
                      kt_msg_type_str (self->rq.env.type));
        if (peer.len == 0) {
            kt_log_warn_every ("msg.reject", 10, KT_S ("topic", topic), KT_S ("why", why), KT_END);
            continue; //  no one to answer (bad routing frames)
        }
        bool id_readable = intent || self->rq.env.type == KT_MSG_NONE;
        s_on_bad_request (self, &peer, id_readable ? self->rq.u.intent.intent_id : "", why);
    }
    return 0;
}

static int
s_on_md (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
         void *arg)
{
    (void) peer;
    (void) topic;
    risk_t *self = arg;
    if (m->env.type != KT_MSG_TICK)
        return 0;
    (void) proc;
    //  Freshness is when md-gateway received the quote (its exchange time without that),
    //  never when a message was published: a re-published tick is not fresh data.
    const struct kt_tick *t = &m->u.tick;
    int64_t ts = t->recv_ts_ns > 0 ? t->recv_ts_ns : t->exch_ts_ns;
    risk_core_on_tick (self->core, t->sym, t->ltp, ts);
    return 0;
}

static void
s_on_exec_reply (kt_bus_client_t *client, const char *req_id, const struct kt_msg *reply, void *arg)
{
    (void) client;
    risk_t *self = arg;
    s_out_reset (self);
    int64_t now = kt_proc_now_ns (self->proc);
    if (!reply)
        risk_core_unanswered (self->core, req_id, now, &self->out);
    else if (reply->env.type == KT_MSG_EXEC_EVENT)
        risk_core_on_exec (self->core, &reply->u.exec, now, &self->out);
    s_perform (self, &self->out);
}

static int
s_on_poll (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    risk_t *self = arg;
    int64_t now = kt_proc_now_ns (self->proc);
    s_out_reset (self);
    risk_core_poll (self->core, now, &self->out);
    s_perform (self, &self->out);
    if (!self->out.state_changed &&
        ++self->polls_since_pub * self->cfg->poll_ms >= self->cfg->state_pub_ms)
        s_publish_state (self);
    return 0;
}

static int
s_on_sweep (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    risk_t *self = arg;
    s_out_reset (self);
    risk_core_sweep (self->core, kt_proc_now_ns (self->proc), &self->out);
    s_perform (self, &self->out);
    return 0;
}

//  Today's instruments: instruments.file when configured, else the daily list that
//  kt_instr_cache downloads once for every process and keeps on disk. A download that
//  fails is retried by the timer; meanwhile entries are blocked (INSTRUMENT).
static int
s_load_instruments (risk_t *self)
{
    struct kt_instr_cache_cfg icc;
    kt_instr_cache_from_cfg (kt_proc_cfg (self->proc), kt_proc_now_ns (self->proc), &icc);
    //  The loop waits for a download: keep a retry short.
    icc.timeout_ms = 10000;
    char err[512];
    kt_instr_table_t *t = kt_instr_cache_load (&icc, err, sizeof err);
    if (!t) {
        kt_log_warn_every ("risk.instruments.fail", 60, KT_S ("why", err), KT_END);
        return -1;
    }
    self->instr = t;
    risk_core_set_instruments (self->core, t);
    kt_log_info ("risk.instruments", KT_S ("file", icc.file ? icc.file : ""),
                 KT_I ("count", kt_instr_count (t)), KT_END);
    return 0;
}

static int
s_on_instr (kt_loop_t *loop, int timer_id, void *arg)
{
    risk_t *self = arg;
    if (s_load_instruments (self) == 0) {
        kt_loop_timer_end (loop, timer_id);
        self->instr_timer = 0;
    }
    return 0;
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    risk_t *self = arg;
    if (max < 18)
        return 0;
    const struct risk_counters *c = risk_core_counters (self->core);
    const struct risk_view *v = risk_core_view (self->core);
    int n = 0;
    out[n++] = KT_S ("state", v->loaded ? kt_state_str (v->state) : "UNKNOWN");
    out[n++] = KT_I ("decisions", c->decisions);
    out[n++] = KT_I ("approved", c->approved);
    out[n++] = KT_I ("reduced", c->reduced);
    out[n++] = KT_I ("blocked", c->blocked);
    out[n++] = KT_I ("halts", c->halts);
    out[n++] = KT_I ("duplicates", c->duplicates);
    out[n++] = KT_I ("store_down", c->store_down);
    out[n++] = KT_I ("exec_events", c->exec_events);
    out[n++] = KT_I ("fills", c->fills);
    out[n++] = KT_I ("ticks", c->ticks);
    out[n++] = KT_I ("unresolved", c->unresolved);
    out[n++] = KT_I ("cmd_fail", self->cmd_fail);
    out[n++] = KT_I ("exec_in_flight", kt_bus_client_pending (self->exec));
    out[n++] = KT_I ("instruments", self->instr ? (int64_t) kt_instr_count (self->instr) : 0);
    out[n++] = KT_I ("units", v->units_total);
    out[n++] = KT_I ("bad_requests", self->rejects);
    out[n++] = KT_I ("redecided", c->redecided);
    return n;
}

static bool
s_times_ok (const struct risk_cfg *cfg)
{
    const char *names[] = {"risk.market_open", "risk.market_close", "risk.entry_cutoff"};
    const char *vals[] = {cfg->market_open, cfg->market_close, cfg->entry_cutoff};
    for (int i = 0; i < 3; i++) {
        if (risk_cfg_sod (vals[i]) < 0) {
            kt_log_error ("risk.config", KT_S ("key", names[i]), KT_S ("value", vals[i]),
                          KT_S ("why", "not HH:MM"), KT_END);
            return false;
        }
    }
    if (risk_cfg_sod (cfg->market_open) >= risk_cfg_sod (cfg->market_close)) {
        kt_log_error ("risk.config", KT_S ("why", "market_open must be before market_close"),
                      KT_END);
        return false;
    }
    return true;
}

risk_t *
risk_new (kt_proc_t *proc, const struct risk_cfg *cfg)
{
    if (!s_times_ok (cfg))
        return NULL;
    risk_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    const kt_cfg_t *kc = kt_proc_cfg (proc);
    kt_bus_t *bus = kt_proc_bus (proc);
    kt_loop_t *loop = kt_proc_loop (proc);

    self->core = risk_core_new (cfg, kt_proc_store (proc), kt_proc_name (proc));
    if (!self->core)
        goto out_free;
    if (s_load_instruments (self) != 0) {
        kt_log_warn ("risk.instruments.missing", KT_S ("file", kc->instruments_file),
                     KT_S ("msg", "entries are blocked (INSTRUMENT) until it loads"), KT_END);
        self->instr_timer = kt_loop_timer_wall (loop, 5000, true, s_on_instr, self);
    }
    static const char *const exec_topics[] = {"exec.", NULL};
    static const char *const md_topics[] = {"md.tick.", NULL};
    self->pub = kt_bus_bind (bus, "risk_pub", ZMQ_PUB);
    //  Served here rather than by kt_proc_serve: a request that does not decode must
    //  still be answered.
    self->router = kt_bus_bind (bus, "risk", ZMQ_ROUTER);
    if (self->router && kt_loop_sock (loop, self->router, s_on_router, self) != 0)
        self->router = NULL;
    self->exec_sub = kt_proc_sub (proc, "exec_pub", exec_topics, s_on_exec, self);
    if (!self->pub || !self->router || !self->exec_sub ||
        !kt_proc_sub (proc, "md", md_topics, s_on_md, self)) {
        kt_log_error ("risk.bind", KT_S ("why", kt_bus_errstr (bus)), KT_END);
        goto out_core;
    }
    self->exec = kt_bus_client_new (bus, loop, "exec", (int) kc->req_timeout_ms,
                                    (int) kc->req_retries, s_on_exec_reply, self);
    if (!self->exec) {
        kt_log_error ("risk.connect", KT_S ("endpoint", "exec"), KT_S ("why", kt_bus_errstr (bus)),
                      KT_END);
        goto out_core;
    }
    //  Start-up: REDUCING until the reconciler agrees; Redis down is not fatal (the poll
    //  retries and entries stay blocked meanwhile).
    s_out_reset (self);
    risk_core_start (self->core, kt_proc_now_ns (proc), &self->out);
    s_perform (self, &self->out);
    s_publish_state (self);
    //  Periods are wall time (a 60x simulation must not poll Redis 60 times as often); the
    //  order timeout itself is pipeline time.
    self->poll_timer = kt_loop_timer_wall (loop, cfg->poll_ms, true, s_on_poll, self);
    int64_t sweep_ms = cfg->resv_timeout_s * 1000 / 3;
    self->sweep_timer =
        kt_loop_timer_wall (loop, sweep_ms > 0 ? sweep_ms : 1, true, s_on_sweep, self);
    kt_proc_set_counters (proc, s_counters, self);
    return self;

out_core:
    if (self->router)
        kt_loop_sock_end (loop, self->router);
    kt_bus_client_destroy (&self->exec);
    risk_core_destroy (&self->core);
out_free:
    kt_instr_destroy (&self->instr);
    free (self);
    return NULL;
}

void
risk_destroy (risk_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    risk_t *self = *self_p;
    kt_loop_t *loop = kt_proc_loop (self->proc);
    kt_proc_set_counters (self->proc, NULL, NULL);
    if (self->poll_timer > 0)
        kt_loop_timer_end (loop, self->poll_timer);
    if (self->sweep_timer > 0)
        kt_loop_timer_end (loop, self->sweep_timer);
    if (self->instr_timer > 0)
        kt_loop_timer_end (loop, self->instr_timer);
    if (self->router)
        kt_loop_sock_end (loop, self->router);
    kt_bus_client_destroy (&self->exec);
    risk_core_destroy (&self->core);
    kt_instr_destroy (&self->instr);
    free (self);
    *self_p = NULL;
}
