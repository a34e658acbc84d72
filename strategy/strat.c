/*  strat - the strategy process: market data, executions and risk state in; intents
 *  out to risk-gate.
 *
 *  Design: every input arrives through kt_proc dispatch as a decoded struct; counters
 *  go to the heartbeat hash so `redis-cli HGETALL kt:health:strategy` shows what the
 *  strategy has seen. No allocation per message. */

#include "strat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct strat {
    kt_proc_t *proc;             //  borrowed
    const struct strat_cfg *cfg; //  borrowed
    kt_bus_client_t *risk;       //  owned: intents to risk-gate
    int64_t ticks, bars, md_status, exec_events, risk_states, decisions, give_ups;
    char last_sym[KT_SYM_LEN];
    int64_t last_ltp;
    bool md_connected;
    kt_trading_state_t risk_state;
};

static int
s_on_md (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
         void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    strat_t *self = arg;
    switch (m->env.type) {
        case KT_MSG_TICK:
            if (self->ticks++ == 0)
                kt_log_info ("strat.md.first", KT_S ("sym", m->u.tick.sym),
                             KT_I ("ltp", m->u.tick.ltp), KT_END);
            memcpy (self->last_sym, m->u.tick.sym, sizeof self->last_sym);
            self->last_ltp = m->u.tick.ltp;
            break;
        case KT_MSG_BAR:
            self->bars++;
            break;
        case KT_MSG_MD_STATUS:
            self->md_status++;
            if (self->md_connected != m->u.md_status.connected)
                kt_log_info ("strat.md.status", KT_B ("connected", m->u.md_status.connected),
                             KT_END);
            self->md_connected = m->u.md_status.connected;
            break;
        default:
            break;
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
    strat_t *self = arg;
    if (m->env.type == KT_MSG_EXEC_EVENT)
        self->exec_events++;
    return 0;
}

static int
s_on_risk (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
           void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    strat_t *self = arg;
    if (m->env.type != KT_MSG_RISK_STATE)
        return 0;
    self->risk_states++;
    if (self->risk_state != m->u.risk_state.state)
        kt_log_info ("strat.risk.state", KT_S ("state", kt_state_str (m->u.risk_state.state)),
                     KT_S ("reason", m->u.risk_state.reason), KT_END);
    self->risk_state = m->u.risk_state.state;
    return 0;
}

static void
s_on_decision (kt_bus_client_t *client, const char *req_id, const struct kt_msg *reply, void *arg)
{
    (void) client;
    strat_t *self = arg;
    if (!reply) {
        self->give_ups++;
        kt_log_warn ("strat.intent.timeout", KT_S ("intent_id", req_id), KT_END);
        return;
    }
    self->decisions++;
    const struct kt_decision *d = &reply->u.decision;
    kt_log_info ("strat.decision", KT_S ("intent_id", d->intent_id),
                 KT_S ("verdict", kt_verdict_str (d->verdict)), KT_I ("qty", d->qty),
                 KT_S ("reason", d->nreasons ? d->reasons[0].code : ""), KT_END);
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    strat_t *self = arg;
    if (max < 10)
        return 0;
    int n = 0;
    out[n++] = KT_S ("strategy", self->cfg->name);
    out[n++] = KT_I ("ticks", self->ticks);
    out[n++] = KT_I ("bars", self->bars);
    out[n++] = KT_I ("md_status", self->md_status);
    out[n++] = KT_I ("exec_events", self->exec_events);
    out[n++] = KT_I ("risk_states", self->risk_states);
    out[n++] = KT_I ("decisions", self->decisions);
    out[n++] = KT_I ("intent_timeouts", self->give_ups);
    out[n++] = KT_S ("last_sym", self->last_sym);
    out[n++] = KT_I ("last_ltp", self->last_ltp);
    return n;
}

strat_t *
strat_new (kt_proc_t *proc, const struct strat_cfg *cfg)
{
    strat_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    const kt_cfg_t *kc = kt_proc_cfg (proc);
    static const char *const md_topics[] = {"md.", NULL};
    static const char *const exec_topics[] = {"exec.", NULL};
    static const char *const risk_topics[] = {"risk.", NULL};
    if (!kt_proc_sub (proc, "md", md_topics, s_on_md, self) ||
        !kt_proc_sub (proc, "exec_pub", exec_topics, s_on_exec, self) ||
        !kt_proc_sub (proc, "risk_pub", risk_topics, s_on_risk, self)) {
        kt_log_error ("strat.connect", KT_S ("why", kt_bus_errstr (kt_proc_bus (proc))), KT_END);
        goto out_free;
    }
    self->risk =
        kt_bus_client_new (kt_proc_bus (proc), kt_proc_loop (proc), "risk",
                           (int) kc->req_timeout_ms, (int) kc->req_retries, s_on_decision, self);
    if (!self->risk) {
        kt_log_error ("strat.connect", KT_S ("endpoint", "risk"),
                      KT_S ("why", kt_bus_errstr (kt_proc_bus (proc))), KT_END);
        goto out_free;
    }
    kt_proc_set_counters (proc, s_counters, self);
    return self;

out_free:
    free (self);
    return NULL;
}

void
strat_destroy (strat_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    strat_t *self = *self_p;
    kt_proc_set_counters (self->proc, NULL, NULL);
    kt_bus_client_destroy (&self->risk);
    free (self);
    *self_p = NULL;
}

int
strat_send_intent (strat_t *self, struct kt_intent *intent)
{
    struct kt_msg msg;
    memset (&msg, 0, sizeof msg);
    msg.env.type = KT_MSG_ORDER_INTENT;
    msg.u.intent = *intent;
    snprintf (msg.u.intent.strategy, sizeof msg.u.intent.strategy, "%s", self->cfg->id);
    return kt_bus_client_send (self->risk, intent->intent_id, "risk.intent", &msg);
}
