/*  alert_queue - the alerter's durable outbox in Redis.
 *
 *  Keys: alerts:queue (list, newest at the head, JSON lines), alerts:dedup:<key>
 *  (string with a TTL of dedup_s), alerts:sent (stream, capped). Delivery takes the
 *  oldest entry with LINDEX and removes it only after the channel said yes, so a crash
 *  mid-delivery repeats a message rather than losing it. */

#include "alert.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
alert_queue_push (kt_store_t *store, const struct kt_alert *a, const char *src, int64_t ts_ns,
                  int64_t dedup_s, int64_t queue_max)
{
    char key[160];
    if (dedup_s > 0 && a->key[0]) {
        kt_store_key (store, key, sizeof key, "alerts:dedup:%s", a->key);
        redisReply *r = kt_store_cmd (store, "SET %s 1 EX %lld NX", key, (long long) dedup_s);
        if (!r)
            return -1;
        bool fresh = r->type == REDIS_REPLY_STATUS;     //  NX refused -> nil reply
        freeReplyObject (r);
        if (!fresh)
            return 1;
    }
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddNumberToObject (o, "ts", (double) ts_ns);
    cJSON_AddStringToObject (o, "severity", kt_severity_str (a->severity));
    cJSON_AddStringToObject (o, "key", a->key);
    cJSON_AddStringToObject (o, "src", src);
    cJSON_AddStringToObject (o, "text", a->text);
    char *json = cJSON_PrintUnformatted (o);
    cJSON_Delete (o);
    if (!json)
        abort ();
    kt_store_key (store, key, sizeof key, "alerts:queue");
    redisReply *r = kt_store_cmd (store, "LPUSH %s %s", key, json);
    free (json);
    if (!r)
        return -1;
    long long len = r->type == REDIS_REPLY_INTEGER? r->integer: 0;
    freeReplyObject (r);
    if (len > queue_max) {
        r = kt_store_cmd (store, "LTRIM %s 0 %lld", key, (long long) queue_max - 1);
        if (r)
            freeReplyObject (r);
        kt_log_error ("alert.queue.trimmed", KT_I ("len", len), KT_I ("max", queue_max), KT_END);
    }
    return 0;
}

int
alert_queue_drain (kt_store_t *store, const char *channel, alert_deliver_fn *fn, void *arg)
{
    char qkey[96], skey[96];
    kt_store_key (store, qkey, sizeof qkey, "alerts:queue");
    kt_store_key (store, skey, sizeof skey, "alerts:sent");
    int delivered = 0;
    for (;;) {
        redisReply *r = kt_store_cmd (store, "LINDEX %s -1", qkey);
        if (!r)
            return -1;
        if (r->type != REDIS_REPLY_STRING) {
            freeReplyObject (r);
            return delivered;
        }
        if (fn (r->str, arg) != 0) {
            freeReplyObject (r);
            return delivered;           //  channel down: keep it queued, try next time
        }
        redisReply *x = kt_store_cmd (store, "XADD %s MAXLEN ~ 100000 * channel %s alert %s",
                                      skey, channel, r->str);
        if (x)
            freeReplyObject (x);
        redisReply *p = kt_store_cmd (store, "LREM %s -1 %s", qkey, r->str);
        freeReplyObject (r);
        if (!p)
            return -1;
        freeReplyObject (p);
        delivered++;
    }
}
