/*  kt_teststore - the Redis + store fixture shared by the store tests (kt_teststore.h). */

#include "kt_teststore.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
kt_teststore_start (kt_teststore_t *self, const char *name, int timeout_ms)
{
    memset (self, 0, sizeof *self);
    self->srv = kt_testredis_start ();
    if (!self->srv)
        return -1;
    self->peek = kt_testredis_connect (self->srv);
    self->store = kt_store_new ("127.0.0.1", self->srv->port, "kt:", timeout_ms);
    kt_log_open (name, KT_LOG_OFF);
    if (!self->peek || !self->store || kt_store_connect (self->store) != 0) {
        kt_teststore_stop (self);
        return -1;
    }
    return 0;
}

void
kt_teststore_stop (kt_teststore_t *self)
{
    kt_store_destroy (&self->store);
    if (self->peek)
        redisFree (self->peek);
    self->peek = NULL;
    kt_testredis_stop (&self->srv);
}

int
kt_teststore_cmd (kt_teststore_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (self->peek, fmt, ap);
    va_end (ap);
    int rc = r && r->type != REDIS_REPLY_ERROR ? 0 : -1;
    if (r)
        freeReplyObject (r);
    return rc;
}

int
kt_teststore_line (kt_teststore_t *self, const char *line)
{
    char copy[4096];
    snprintf (copy, sizeof copy, "%s", line);
    const char *argv[128];
    int argc = 0;
    for (char *save = NULL, *t = strtok_r (copy, " ", &save); t && argc < 128;
         t = strtok_r (NULL, " ", &save))
        argv[argc++] = t;
    redisReply *r = redisCommandArgv (self->peek, argc, argv, NULL);
    int rc = r && r->type != REDIS_REPLY_ERROR ? 0 : -1;
    if (r)
        freeReplyObject (r);
    return rc;
}

char *
kt_teststore_hget (kt_teststore_t *self, const char *key, const char *field, char *buf, size_t len)
{
    redisReply *r = redisCommand (self->peek, "HGET %s %s", key, field);
    snprintf (buf, len, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
    if (r)
        freeReplyObject (r);
    return buf;
}

int64_t
kt_teststore_hget_i64 (kt_teststore_t *self, const char *key, const char *field)
{
    redisReply *r = redisCommand (self->peek, "HGET %s %s", key, field);
    int64_t v = r && r->type == REDIS_REPLY_STRING ? strtoll (r->str, NULL, 10) : -1;
    if (r)
        freeReplyObject (r);
    return v;
}

int64_t
kt_teststore_int (kt_teststore_t *self, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand (self->peek, fmt, arg);
    int64_t v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject (r);
    return v;
}

void
kt_teststore_order (struct kt_order_rec *o, const char *coid, const char *sym, kt_side_t side,
                    kt_purpose_t purpose, int64_t qty)
{
    memset (o, 0, sizeof *o);
    snprintf (o->coid, sizeof o->coid, "%s", coid);
    snprintf (o->intent_id, sizeof o->intent_id, "%s", coid);
    snprintf (o->sym, sizeof o->sym, "%s", sym);
    o->side = side;
    o->purpose = purpose;
    o->order_type = KT_OT_LIMIT;
    o->product = KT_PROD_MIS;
    o->qty = qty;
    o->status = KT_OS_OPEN;
}
