/*  exec - exec-gateway's context: commands in, order records and EXEC_EVENTs out.
 *
 *  Order of effects for every command (architecture.md failure rules): the durable
 *  fact goes to Redis first (order hash + events stream), then the event is published,
 *  then the requester gets its reply. A repeated coid reads the recorded outcome back. */

#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct exec {
    kt_proc_t *proc;                //  borrowed
    void *router;                   //  borrowed from the bus
    void *pub;                      //  borrowed from the bus
    int64_t commands, duplicates, rejected, store_errors;
};

static const char s_no_entry[] = "broker order entry is not enabled in this build";

//  Recorded outcome of coid, if any: 1 found (out filled), 0 not found, -1 store down.
static int
s_lookup (exec_t *self, const char *coid, struct kt_exec_event *out)
{
    kt_store_t *st = kt_proc_store (self->proc);
    char key[96];
    kt_store_key (st, key, sizeof key, "order:%s", coid);
    redisReply *r = kt_store_cmd (st, "HMGET %s status reason sym intent_id broker_id", key);
    if (!r)
        return -1;
    int found = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 5 && r->element[0]->type == REDIS_REPLY_STRING) {
        found = 1;
        memset (out, 0, sizeof *out);
        snprintf (out->coid, sizeof out->coid, "%s", coid);
        out->event = kt_exec_kind_parse (r->element[0]->str);
        for (int i = 1; i < 5; i++) {
            const char *v = r->element[i]->type == REDIS_REPLY_STRING? r->element[i]->str: "";
            char *dst = i == 1? out->reason: i == 2? out->sym: i == 3? out->intent_id: out->broker_id;
            size_t cap = i == 1? sizeof out->reason: i == 2? sizeof out->sym
                       : i == 3? sizeof out->intent_id: sizeof out->broker_id;
            snprintf (dst, cap, "%s", v);
        }
    }
    else if (r->type == REDIS_REPLY_ERROR)
        found = -1;
    freeReplyObject (r);
    return found;
}

//  Record the order and its outcome: order hash, then the events stream.
static int
s_record (exec_t *self, const struct kt_order_cmd *cmd, const struct kt_exec_event *ev)
{
    kt_store_t *st = kt_proc_store (self->proc);
    char key[96], qty[24], px[24], trig[24], now[24];
    kt_store_key (st, key, sizeof key, "order:%s", cmd->coid);
    snprintf (qty, sizeof qty, "%lld", (long long) cmd->qty);
    snprintf (px, sizeof px, "%lld", (long long) cmd->price);
    snprintf (trig, sizeof trig, "%lld", (long long) cmd->trigger);
    snprintf (now, sizeof now, "%lld", (long long) kt_proc_now_ns (self->proc));
    const char *argv[] = { "HSET", key, "coid", cmd->coid, "intent_id", cmd->intent_id,
                           "action", kt_action_str (cmd->action), "sym", cmd->sym,
                           "side", kt_side_str (cmd->side), "qty", qty,
                           "order_type", kt_order_type_str (cmd->order_type), "price", px,
                           "trigger", trig, "product", kt_product_str (cmd->product),
                           "purpose", kt_purpose_str (cmd->purpose),
                           "status", kt_exec_kind_str (ev->event), "reason", ev->reason,
                           "filled", "0", "broker_id", ev->broker_id, "updated", now };
    redisReply *r = kt_store_cmdargv (st, (int) (sizeof argv / sizeof argv[0]), argv, NULL);
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
        freeReplyObject (r);
    if (!ok)
        return -1;
    return kt_store_event (st, (const kt_kv_t[]) { KT_S ("type", "order"), KT_S ("coid", cmd->coid),
                                                  KT_S ("intent_id", cmd->intent_id),
                                                  KT_S ("sym", cmd->sym),
                                                  KT_S ("action", kt_action_str (cmd->action)),
                                                  KT_S ("status", kt_exec_kind_str (ev->event)),
                                                  KT_S ("reason", ev->reason), KT_END });
}

int
exec_handle_command (exec_t *self, const struct kt_order_cmd *cmd, struct kt_exec_event *out)
{
    self->commands++;
    memset (out, 0, sizeof *out);
    snprintf (out->coid, sizeof out->coid, "%s", cmd->coid);
    snprintf (out->intent_id, sizeof out->intent_id, "%s", cmd->intent_id);
    snprintf (out->sym, sizeof out->sym, "%s", cmd->sym);
    out->side = cmd->side;
    out->purpose = cmd->purpose;
    out->qty = cmd->qty;
    if (!cmd->coid[0] || cmd->action == KT_ACTION_NONE) {
        out->event = KT_EXEC_REJECTED;
        snprintf (out->reason, sizeof out->reason, "BAD_MSG: command without coid or action");
        return -1;
    }
    int found = s_lookup (self, cmd->coid, out);
    if (found == 1) {
        self->duplicates++;
        kt_log_info ("exec.cmd.duplicate", KT_S ("coid", cmd->coid),
                     KT_S ("status", kt_exec_kind_str (out->event)), KT_END);
        return 0;
    }
    out->event = KT_EXEC_REJECTED;
    if (found < 0) {
        //  Nothing was sent, so a reject is final and safe; the requester may retry.
        self->store_errors++;
        snprintf (out->reason, sizeof out->reason, "STORE_DOWN: %s",
                  kt_store_errstr (kt_proc_store (self->proc)));
        kt_log_warn ("exec.order.rejected", KT_S ("coid", cmd->coid), KT_S ("reason", out->reason),
                     KT_END);
        return 0;
    }
    snprintf (out->reason, sizeof out->reason, "%s", s_no_entry);
    if (s_record (self, cmd, out) != 0) {
        self->store_errors++;
        snprintf (out->reason, sizeof out->reason, "STORE_DOWN: %s",
                  kt_store_errstr (kt_proc_store (self->proc)));
    }
    self->rejected++;
    kt_log_warn ("exec.order.rejected", KT_S ("coid", cmd->coid), KT_S ("sym", cmd->sym),
                 KT_S ("action", kt_action_str (cmd->action)), KT_S ("reason", out->reason), KT_END);
    return 0;
}

static int
s_on_command (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic,
              const struct kt_msg *m, void *arg)
{
    (void) topic;
    exec_t *self = arg;
    struct kt_msg reply;
    memset (&reply, 0, sizeof reply);
    reply.env.type = KT_MSG_EXEC_EVENT;
    if (m->env.type != KT_MSG_ORDER_COMMAND) {
        kt_log_warn ("msg.reject", KT_S ("why", "expected ORDER_COMMAND"),
                     KT_S ("type", kt_msg_type_str (m->env.type)), KT_END);
        return 0;
    }
    exec_handle_command (self, &m->u.cmd, &reply.u.exec);
    char t[KT_TOPIC_LEN];
    snprintf (t, sizeof t, "exec.%s", kt_exec_kind_str (reply.u.exec.event));
    for (char *c = t; *c; c++)
        *c = (char) (*c >= 'A' && *c <= 'Z'? *c + 32: *c);
    kt_bus_t *bus = kt_proc_bus (proc);
    kt_bus_publish (bus, self->pub, t, &reply);
    if (kt_bus_reply (bus, self->router, peer, t, &reply) != 0)
        kt_log_warn ("exec.reply.fail", KT_S ("coid", m->u.cmd.coid), KT_S ("why", kt_bus_errstr (bus)),
                     KT_END);
    return 0;
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    exec_t *self = arg;
    if (max < 5)
        return 0;
    out[0] = KT_B ("order_entry", false);
    out[1] = KT_I ("commands", self->commands);
    out[2] = KT_I ("duplicates", self->duplicates);
    out[3] = KT_I ("rejected", self->rejected);
    out[4] = KT_I ("store_errors", self->store_errors);
    return 5;
}

exec_t *
exec_new (kt_proc_t *proc)
{
    exec_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    kt_bus_t *bus = kt_proc_bus (proc);
    self->pub = kt_bus_bind (bus, "exec_pub", ZMQ_PUB);
    self->router = self->pub? kt_proc_serve (proc, "exec", s_on_command, self): NULL;
    if (!self->router) {
        kt_log_error ("exec.bind", KT_S ("why", kt_bus_errstr (bus)), KT_END);
        free (self);
        return NULL;
    }
    kt_proc_set_counters (proc, s_counters, self);
    return self;
}

void
exec_destroy (exec_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_proc_set_counters ((*self_p)->proc, NULL, NULL);
    free (*self_p);
    *self_p = NULL;
}
