/*  kt_testctx - a process runtime for tests. See kt_testctx.h. */

#include "kt_testctx.h"

#include <stdio.h>
#include <string.h>

int
kt_testctx_start (kt_testctx_t *self, const char *name, const char *tag)
{
    memset (self, 0, sizeof *self);
    snprintf (self->tag, sizeof self->tag, "%s", tag);
    self->redis = kt_testredis_start ();
    if (!self->redis)
        return -1;
    kt_testcfg_fill (&self->cfg, name, self->redis->port, tag);
    kt_testcfg_fill (&self->peer_cfg, "test-peer", self->redis->port, tag);
    char err[256];
    self->proc = kt_proc_new (&self->cfg, name, err, sizeof err);
    self->peer = kt_proc_new (&self->peer_cfg, "test-peer", err, sizeof err);
    kt_log_open (name, KT_LOG_OFF);
    return self->proc && self->peer? 0: -1;
}

void
kt_testctx_stop (kt_testctx_t *self)
{
    kt_proc_destroy (&self->peer);
    kt_proc_destroy (&self->proc);
    kt_testredis_stop (&self->redis);
    kt_testcfg_cleanup (self->tag);
}

void
kt_testctx_spin (kt_testctx_t *self, int rounds, int wait_ms, const int *flag)
{
    for (int i = 0; i < rounds && !(flag && *flag); i++) {
        kt_loop_run_once (kt_proc_loop (self->proc), wait_ms);
        kt_loop_run_once (kt_proc_loop (self->peer), 0);
    }
}

char *
kt_testctx_hget (kt_testctx_t *self, const char *key, const char *field, char *buf, size_t len)
{
    buf[0] = 0;
    //  Heartbeats and other writes are queued on the loop: let them land first, so a
    //  test reads what it wrote.
    if (self->proc)
        kt_store_flush (kt_proc_store (self->proc), 1000);
    if (self->peer)
        kt_store_flush (kt_proc_store (self->peer), 1000);
    redisContext *c = kt_testredis_connect (self->redis);
    if (!c)
        return buf;
    redisReply *r = redisCommand (c, "HGET %s %s", key, field);
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf (buf, len, "%s", r->str);
    if (r)
        freeReplyObject (r);
    redisFree (c);
    return buf;
}
