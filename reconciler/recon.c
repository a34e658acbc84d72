/*  recon - the reconciler's context: a run at start-up and on a timer, and the
 *  execution events that tell it what changed in between. */

#include "recon.h"

#include <stdlib.h>
#include <string.h>

struct recon {
    kt_proc_t *proc;                //  borrowed
    const struct recon_cfg *cfg;    //  borrowed
    int timer;
    int64_t runs, exec_events;
    int last_result;
};

int
recon_run (recon_t *self)
{
    self->runs++;
    //  No broker view is read yet, so agreement is never claimed: risk-gate stays REDUCING.
    self->last_result = 1;
    kt_log_info ("recon.run", KT_I ("run", self->runs), KT_S ("result", "unknown"),
                 KT_S ("msg", "broker comparison not available; agreement not reported"), KT_END);
    return self->last_result;
}

static int
s_on_timer (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    recon_run ((recon_t *) arg);
    return 0;
}

static int
s_on_exec (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic,
           const struct kt_msg *m, void *arg)
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
    if (max < 3)
        return 0;
    out[0] = KT_I ("runs", self->runs);
    out[1] = KT_I ("exec_events", self->exec_events);
    out[2] = KT_S ("agreement", self->last_result == 0? "yes": self->last_result < 0? "no"
                                                                                 : "unknown");
    return 3;
}

recon_t *
recon_new (kt_proc_t *proc, const struct recon_cfg *cfg)
{
    recon_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    self->last_result = 1;
    static const char *const topics[] = { "exec.", NULL };
    if (!kt_proc_sub (proc, "exec_pub", topics, s_on_exec, self)) {
        kt_log_error ("recon.connect", KT_S ("why", kt_bus_errstr (kt_proc_bus (proc))), KT_END);
        free (self);
        return NULL;
    }
    self->timer = kt_loop_timer (kt_proc_loop (proc),
                                 kt_proc_wall_to_pipeline_ms (proc, cfg->interval_s * 1000), true,
                                 s_on_timer, self);
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
    kt_loop_timer_end (kt_proc_loop (self->proc), self->timer);
    kt_proc_set_counters (self->proc, NULL, NULL);
    free (self);
    *self_p = NULL;
}
