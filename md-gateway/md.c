/*  md - md-gateway's context: the `md` publisher and the feed status.
 *
 *  Topics: md.status for MD_STATUS; md.tick.<sym> and md.bar.<sym> once the ticker
 *  feeds it. The status is published on a wall-time timer so subscribers can tell a
 *  dead feed from a quiet market. */

#include "md.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct md {
    kt_proc_t *proc;            //  borrowed
    const struct md_cfg *cfg;   //  borrowed
    void *pub;                  //  borrowed from the bus
    int status_timer;
    int64_t status_sent;
    bool connected;
    int64_t subscribed;
    int64_t last_tick_ns;
    int64_t reconnects;
};

static int
s_on_status (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    md_publish_status ((md_t *) arg);
    return 0;
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    md_t *self = arg;
    if (max < 3)
        return 0;
    out[0] = KT_I ("connected", self->connected);
    out[1] = KT_I ("subscribed", self->subscribed);
    out[2] = KT_I ("status_sent", self->status_sent);
    return 3;
}

md_t *
md_new (kt_proc_t *proc, const struct md_cfg *cfg)
{
    md_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    kt_bus_t *bus = kt_proc_bus (proc);
    self->pub = kt_bus_bind (bus, "md", ZMQ_PUB);
    if (!self->pub) {
        kt_log_error ("md.bind", KT_S ("endpoint", "md"), KT_S ("why", kt_bus_errstr (bus)),
                      KT_END);
        free (self);
        return NULL;
    }
    self->status_timer =
        kt_loop_timer (kt_proc_loop (proc), kt_proc_wall_to_pipeline_ms (proc, cfg->status_ms),
                       true, s_on_status, self);
    kt_proc_set_counters (proc, s_counters, self);
    kt_log_info ("md.feed.down", KT_S ("msg", "no ticker connection configured in this build"),
                 KT_END);
    return self;
}

void
md_destroy (md_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    md_t *self = *self_p;
    kt_loop_timer_end (kt_proc_loop (self->proc), self->status_timer);
    kt_proc_set_counters (self->proc, NULL, NULL);
    free (self);
    *self_p = NULL;
}

int
md_publish_status (md_t *self)
{
    struct kt_msg msg;
    memset (&msg, 0, sizeof msg);
    msg.env.type = KT_MSG_MD_STATUS;
    msg.u.md_status.connected = self->connected;
    msg.u.md_status.subscribed = self->subscribed;
    msg.u.md_status.last_tick_ts_ns = self->last_tick_ns;
    msg.u.md_status.reconnects = self->reconnects;
    if (kt_bus_publish (kt_proc_bus (self->proc), self->pub, "md.status", &msg) != 0)
        return -1;
    self->status_sent++;
    return 0;
}
