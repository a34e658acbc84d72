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
    if (dedup_s > 0 && a->key[0]) {
        kt_key_t dkey = kt_store_keyv (store, "alerts:dedup:%s", a->key);
        kt_store_result_t r = kt_store_callf (store, "SET %s 1 EX %lld NX", dkey.s,
                                              (long long) dedup_s);
        bool down = r.kind == KT_STORE_DOWN;
        bool fresh = kt_store_result_is (&r, "OK");     //  NX refused -> nil reply
        kt_store_result_free (&r);
        if (down)
            return -1;
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
    kt_key_t key = kt_store_keyv (store, "alerts:queue");
    kt_store_result_t r = kt_store_callf (store, "LPUSH %s %s", key.s, json);
    free (json);
    if (r.kind == KT_STORE_DOWN)
        return -1;
    long long len = r.kind == KT_STORE_INT? r.integer: 0;
    kt_store_result_free (&r);
    if (len > queue_max) {
        r = kt_store_callf (store, "LTRIM %s 0 %lld", key.s, (long long) queue_max - 1);
        kt_store_result_free (&r);
        kt_log_error ("alert.queue.trimmed", KT_I ("len", len), KT_I ("max", queue_max), KT_END);
    }
    return 0;
}

int
alert_queue_drain (kt_store_t *store, const char *channel, alert_deliver_fn *fn, void *arg)
{
    kt_key_t qkey = kt_store_keyv (store, "alerts:queue");
    kt_key_t skey = kt_store_keyv (store, "alerts:sent");
    int delivered = 0;
    for (;;) {
        kt_store_result_t r = kt_store_callf (store, "LINDEX %s -1", qkey.s);
        if (r.kind == KT_STORE_DOWN)
            return -1;
        if (r.kind != KT_STORE_STR || fn (r.str, arg) != 0) {
            kt_store_result_free (&r);
            return delivered;           //  empty, or channel down: keep it, try next time
        }
        kt_store_result_t x = kt_store_callf (
            store, "XADD %s MAXLEN ~ 100000 * channel %s alert %b", skey.s, channel, r.str, r.len);
        kt_store_result_free (&x);
        kt_store_result_t p = kt_store_callf (store, "LREM %s -1 %b", qkey.s, r.str, r.len);
        kt_store_result_free (&r);
        bool down = p.kind == KT_STORE_DOWN;
        kt_store_result_free (&p);
        if (down)
            return -1;
        delivered++;
    }
}
