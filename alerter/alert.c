/*  alert - the alerter's context: ALERTs in, durable outbox, delivery.
 *
 *  Every received alert is queued in Redis first and delivered from the queue, so a
 *  restart of the alerter resends what was not yet delivered. */

#include "alert.h"

#include <stdlib.h>
#include <string.h>

struct alert {
    kt_proc_t *proc;                //  borrowed
    const struct alert_cfg *cfg;    //  borrowed
    void *pull;                     //  borrowed from the bus
    int64_t received, deduped, delivered, direct;
};

//  The log channel: one alert.deliver line per alert, at error level for CRITICAL so it
//  stands out in any log view.
static int
s_deliver_log (const char *json, void *arg)
{
    (void) arg;
    bool critical = strstr (json, "\"severity\":\"CRITICAL\"") != NULL;
    kt_log (critical? KT_LOG_ERROR: KT_LOG_WARN, "alert.deliver", KT_S ("channel", "log"),
            KT_S ("alert", json), KT_END);
    return 0;
}

static void
s_drain (alert_t *self)
{
    int n = alert_queue_drain (kt_proc_store (self->proc), "log", s_deliver_log, self);
    if (n > 0)
        self->delivered += n;
}

static int
s_on_alert (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic,
            const struct kt_msg *m, void *arg)
{
    (void) peer;
    (void) topic;
    alert_t *self = arg;
    if (m->env.type != KT_MSG_ALERT)
        return 0;
    self->received++;
    const struct kt_alert *a = &m->u.alert;
    kt_log_info ("alert.received", KT_S ("src", m->env.src), KT_S ("key", a->key),
                 KT_S ("severity", kt_severity_str (a->severity)), KT_END);
    int rc = alert_queue_push (kt_proc_store (proc), a, m->env.src, m->env.ts_ns,
                               self->cfg->dedup_s, self->cfg->queue_max);
    if (rc == 1) {
        self->deduped++;
        return 0;
    }
    if (rc < 0) {
        //  No outbox: deliver now rather than lose it.
        self->direct++;
        kt_log_error ("alert.deliver", KT_S ("channel", "log"), KT_S ("src", m->env.src),
                      KT_S ("severity", kt_severity_str (a->severity)), KT_S ("key", a->key),
                      KT_S ("text", a->text), KT_S ("msg", "Redis unavailable: not queued"),
                      KT_END);
        return 0;
    }
    s_drain (self);
    return 0;
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    alert_t *self = arg;
    if (max < 4)
        return 0;
    out[0] = KT_I ("received", self->received);
    out[1] = KT_I ("deduped", self->deduped);
    out[2] = KT_I ("delivered", self->delivered);
    out[3] = KT_I ("delivered_direct", self->direct);
    return 4;
}

alert_t *
alert_new (kt_proc_t *proc, const struct alert_cfg *cfg)
{
    alert_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    self->pull = kt_proc_pull (proc, "alerts", s_on_alert, self);
    if (!self->pull) {
        kt_log_error ("alert.bind", KT_S ("why", kt_bus_errstr (kt_proc_bus (proc))), KT_END);
        free (self);
        return NULL;
    }
    kt_proc_set_counters (proc, s_counters, self);
    s_drain (self);                 //  what a previous run left undelivered
    return self;
}

void
alert_destroy (alert_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_proc_set_counters ((*self_p)->proc, NULL, NULL);
    free (*self_p);
    *self_p = NULL;
}
