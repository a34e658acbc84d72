/*  alert_queue - the alerter's durable outbox in Redis.
 *
 *  Keys (after the prefix; docs/alerter.md):
 *    alerts:seq                 counter of item ids
 *    alerts:item:<id>           hash: ts, queued_ms, severity, key, src, text, count,
 *                               window_s, left (channels still to deliver it)
 *    alerts:pending:<channel>   list of ids, oldest first
 *    alerts:group:<group>       hash of an open collapse window: until, first, count and
 *                               the latest severity/key/src/text/ts
 *    alerts:windows             zset of open windows by their end (wall ms)
 *    alerts:sent                stream, one entry per delivery (capped ~100000)
 *
 *  Every change is one Lua script, so a kill -9 of the alerter (or of Redis with AOF)
 *  never leaves an alert half queued: it is either in every pending list of its
 *  channels or in none. A channel takes its head, sends it, and only then acks it: a
 *  crash in between sends it again (at least once; the receivers get the same
 *  idempotency key). Times in the scripts are wall milliseconds, exact in Lua's doubles
 *  (nanoseconds would not be), passed in as strings; alert timestamps are stored as
 *  the sender's integer text, never through a number. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alert.h"

static const char s_push_lua[] =
    "local p = ARGV[1]\n"
    "local g = p .. 'alerts:group:' .. ARGV[2]\n"
    "if ARGV[4] ~= '0' then\n"
    "  local u = tonumber (redis.call ('HGET', g, 'until') or '0')\n"
    "  if u > tonumber (ARGV[3]) then\n"
    "    local c = redis.call ('HINCRBY', g, 'count', 1)\n"
    "    redis.call ('HSET', g, 'text', ARGV[10], 'ts', ARGV[6])\n"
    "    return {0, c, 0}\n"
    "  end\n"
    "end\n"
    "local id = redis.call ('INCR', p .. 'alerts:seq')\n"
    "local item = p .. 'alerts:item:' .. id\n"
    "redis.call ('HSET', item, 'ts', ARGV[6], 'queued_ms', ARGV[3], 'severity', ARGV[7],\n"
    "            'key', ARGV[8], 'src', ARGV[9], 'text', ARGV[10], 'count', '1',\n"
    "            'window_s', '0', 'left', tostring (#ARGV - 10))\n"
    "local qmax = tonumber (ARGV[5])\n"
    "local dropped = 0\n"
    "for i = 11, #ARGV do\n"
    "  local l = p .. 'alerts:pending:' .. ARGV[i]\n"
    "  local n = redis.call ('RPUSH', l, id)\n"
    "  while n > qmax do\n"
    "    local old = redis.call ('LPOP', l)\n"
    "    if redis.call ('HINCRBY', p .. 'alerts:item:' .. old, 'left', -1) <= 0 then\n"
    "      redis.call ('DEL', p .. 'alerts:item:' .. old)\n"
    "    end\n"
    "    n = n - 1\n"
    "    dropped = dropped + 1\n"
    "  end\n"
    "end\n"
    "if ARGV[4] ~= '0' then\n"
    "  redis.call ('HSET', g, 'until', ARGV[4], 'first', ARGV[3], 'count', '1',\n"
    "              'severity', ARGV[7], 'key', ARGV[8], 'src', ARGV[9], 'text', ARGV[10],\n"
    "              'ts', ARGV[6])\n"
    "  redis.call ('ZADD', p .. 'alerts:windows', ARGV[4], ARGV[2])\n"
    "end\n"
    "return {id, 1, dropped}\n";

//  ARGV: prefix, group, now_ms, window_s, channels...  -> {id} or {0, count}
static const char s_close_lua[] =
    "local p = ARGV[1]\n"
    "local g = p .. 'alerts:group:' .. ARGV[2]\n"
    "local u = tonumber (redis.call ('HGET', g, 'until') or '0')\n"
    "if u > tonumber (ARGV[3]) then return {0, 0} end\n"
    "local h = redis.call ('HMGET', g, 'count', 'severity', 'key', 'src', 'text', 'ts')\n"
    "redis.call ('DEL', g)\n"
    "redis.call ('ZREM', p .. 'alerts:windows', ARGV[2])\n"
    "local c = tonumber (h[1] or '0')\n"
    "if c <= 1 or #ARGV < 5 then return {0, c} end\n"
    "local id = redis.call ('INCR', p .. 'alerts:seq')\n"
    "redis.call ('HSET', p .. 'alerts:item:' .. id, 'ts', h[6], 'queued_ms', ARGV[3],\n"
    "            'severity', h[2], 'key', h[3], 'src', h[4], 'text', h[5], 'count', h[1],\n"
    "            'window_s', ARGV[4], 'left', tostring (#ARGV - 4))\n"
    "for i = 5, #ARGV do\n"
    "  redis.call ('RPUSH', p .. 'alerts:pending:' .. ARGV[i], id)\n"
    "end\n"
    "return {id, c}\n";

//  ARGV: prefix, channel, id  -> 0 acked, 1 not the head
static const char s_ack_lua[] =
    "local p = ARGV[1]\n"
    "local l = p .. 'alerts:pending:' .. ARGV[2]\n"
    "if redis.call ('LINDEX', l, 0) ~= ARGV[3] then return 1 end\n"
    "redis.call ('LPOP', l)\n"
    "local item = p .. 'alerts:item:' .. ARGV[3]\n"
    "local h = redis.call ('HMGET', item, 'severity', 'key', 'src', 'text', 'count')\n"
    "redis.call ('XADD', p .. 'alerts:sent', 'MAXLEN', '~', '100000', '*', 'channel', ARGV[2],\n"
    "            'id', ARGV[3], 'severity', h[1] or '', 'key', h[2] or '', 'src', h[3] or '',\n"
    "            'text', h[4] or '', 'count', h[5] or '1')\n"
    "if redis.call ('HINCRBY', item, 'left', -1) <= 0 then\n"
    "  redis.call ('EXPIRE', item, 86400)\n"
    "end\n"
    "return 0\n";

int
alert_queue_init (kt_store_t *store)
{
    if (kt_store_script (store, "alert.push", s_push_lua) < 0
        || kt_store_script (store, "alert.close", s_close_lua) < 0
        || kt_store_script (store, "alert.ack", s_ack_lua) < 0)
        return -1;
    return 0;
}

static int64_t
s_int_at (const redisReply *r, size_t i)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return -1;
    const redisReply *e = r->element[i];
    if (e->type == REDIS_REPLY_INTEGER)
        return e->integer;
    if (e->type == REDIS_REPLY_STRING)
        return strtoll (e->str, NULL, 10);
    return -1;
}

static bool
s_script_failed (redisReply *r, const char *what)
{
    if (!r)
        return true;
    if (r->type == REDIS_REPLY_ERROR) {
        kt_log_error ("alert.queue.script", KT_S ("script", what), KT_S ("why", r->str), KT_END);
        freeReplyObject (r);
        return true;
    }
    return false;
}

int
alert_queue_push (kt_store_t *store, struct alert_item *it, const char *group, unsigned mask,
                  int64_t now_ms, int64_t window_ms, int64_t queue_max, int64_t *count)
{
    char now_s[24], until_s[24], qmax_s[24], ts_s[24];
    snprintf (now_s, sizeof now_s, "%" PRId64, now_ms);
    snprintf (until_s, sizeof until_s, "%" PRId64, window_ms > 0? now_ms + window_ms: 0);
    snprintf (qmax_s, sizeof qmax_s, "%" PRId64, queue_max);
    snprintf (ts_s, sizeof ts_s, "%" PRId64, it->ts_ns);
    const char *args[10 + ALERT_CH_COUNT] = { kt_store_prefix (store), group, now_s, until_s,
                                              qmax_s, ts_s, kt_severity_str (it->severity),
                                              it->key, it->src, it->text };
    int n = 10;
    for (int c = 0; c < ALERT_CH_COUNT; c++)
        if (mask & (1u << c))
            args[n++] = alert_route_name ((alert_ch_t) c);
    redisReply *r = kt_store_eval (store, kt_store_script (store, "alert.push", s_push_lua), 0, NULL, n,
                                   args);
    if (s_script_failed (r, "alert.push"))
        return -1;
    int64_t id = s_int_at (r, 0), c = s_int_at (r, 1), dropped = s_int_at (r, 2);
    freeReplyObject (r);
    if (count)
        *count = c;
    if (dropped > 0) {
        static int64_t s_last_ns;       //  one line a minute while a channel is stuck
        kt_log_emit_every (KT_LOG_ERROR, "alert.queue.trimmed", 60, &s_last_ns,
                           (const kt_kv_t[]) { KT_I ("dropped", dropped), KT_I ("max", queue_max),
                                               KT_S ("why", "a channel has not delivered for "
                                                            "long: oldest alerts dropped"),
                                               KT_END });
    }
    if (id <= 0)
        return 0;
    it->id = id;
    it->queued_ms = now_ms;
    it->count = 1;
    it->window_s = 0;
    return 1;
}

int
alert_queue_close_windows (kt_store_t *store, int64_t now_ms, int max, alert_route_fn *route_fn,
                           void *arg)
{
    char wkey[128];
    kt_store_key (store, wkey, sizeof wkey, "alerts:windows");
    redisReply *r = kt_store_cmd (store, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d", wkey,
                                  (long long) now_ms, max);
    if (!r)
        return -1;
    int queued = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const char *group = r->element[i]->str;
        char gkey[192];
        kt_store_key (store, gkey, sizeof gkey, "alerts:group:%s", group);
        redisReply *h = kt_store_cmd (store, "HGET %s severity", gkey);
        if (!h) {
            freeReplyObject (r);
            return -1;
        }
        kt_severity_t sev = h->type == REDIS_REPLY_STRING? kt_severity_parse (h->str)
                                                          : KT_SEV_CRITICAL;
        freeReplyObject (h);
        unsigned mask = route_fn (sev? sev: KT_SEV_CRITICAL, arg);
        char now_s[24], win_s[24];
        snprintf (now_s, sizeof now_s, "%" PRId64, now_ms);
        //  The window's length as the person reads it: from its first alert to its end.
        redisReply *f = kt_store_cmd (store, "HMGET %s first until", gkey);
        int64_t first = s_int_at (f, 0), until = s_int_at (f, 1);
        if (f)
            freeReplyObject (f);
        snprintf (win_s, sizeof win_s, "%" PRId64, first > 0 && until > first?
                  (until - first + 500) / 1000: 0);
        const char *args[4 + ALERT_CH_COUNT] = { kt_store_prefix (store), group, now_s, win_s };
        int n = 4;
        for (int c = 0; c < ALERT_CH_COUNT; c++)
            if (mask & (1u << c))
                args[n++] = alert_route_name ((alert_ch_t) c);
        redisReply *x = kt_store_eval (store, kt_store_script (store, "alert.close", s_close_lua), 0,
                                       NULL, n, args);
        if (s_script_failed (x, "alert.close")) {
            freeReplyObject (r);
            return -1;
        }
        queued += s_int_at (x, 0) > 0;
        freeReplyObject (x);
    }
    freeReplyObject (r);
    return queued;
}

static void
s_fill_item (struct alert_item *it, const redisReply *h)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *f = h->element[i]->str, *v = h->element[i + 1]->str;
        if (!f || !v)
            continue;
        if (!strcmp (f, "ts"))
            it->ts_ns = strtoll (v, NULL, 10);
        else if (!strcmp (f, "queued_ms"))
            it->queued_ms = strtoll (v, NULL, 10);
        else if (!strcmp (f, "severity"))
            it->severity = kt_severity_parse (v);
        else if (!strcmp (f, "key"))
            snprintf (it->key, sizeof it->key, "%s", v);
        else if (!strcmp (f, "src"))
            snprintf (it->src, sizeof it->src, "%s", v);
        else if (!strcmp (f, "text"))
            snprintf (it->text, sizeof it->text, "%s", v);
        else if (!strcmp (f, "count"))
            it->count = strtoll (v, NULL, 10);
        else if (!strcmp (f, "window_s"))
            it->window_s = strtoll (v, NULL, 10);
    }
    if (!it->severity)
        it->severity = KT_SEV_CRITICAL;
    if (it->count < 1)
        it->count = 1;
}

int
alert_queue_head (kt_store_t *store, alert_ch_t ch, struct alert_item *it)
{
    char lkey[128];
    kt_store_key (store, lkey, sizeof lkey, "alerts:pending:%s", alert_route_name (ch));
    for (;;) {
        redisReply *r = kt_store_cmd (store, "LINDEX %s 0", lkey);
        if (!r)
            return -1;
        if (r->type != REDIS_REPLY_STRING) {
            freeReplyObject (r);
            return 0;
        }
        int64_t id = strtoll (r->str, NULL, 10);
        char ikey[128];
        kt_store_key (store, ikey, sizeof ikey, "alerts:item:%s", r->str);
        redisReply *h = kt_store_cmd (store, "HGETALL %s", ikey);
        if (!h) {
            freeReplyObject (r);
            return -1;
        }
        if (h->type == REDIS_REPLY_ARRAY && h->elements >= 2) {
            memset (it, 0, sizeof *it);
            it->id = id;
            s_fill_item (it, h);
            freeReplyObject (h);
            freeReplyObject (r);
            return 1;
        }
        //  An id without its item (deleted by hand, or a trim of another channel raced
        //  it): nothing can be sent for it, so it must not block the channel.
        kt_log_error ("alert.queue.orphan", KT_S ("channel", alert_route_name (ch)),
                      KT_I ("id", id), KT_S ("why", "queued id has no item: dropped"), KT_END);
        freeReplyObject (h);
        redisReply *x = kt_store_cmd (store, "LREM %s 1 %s", lkey, r->str);
        freeReplyObject (r);
        if (!x)
            return -1;
        freeReplyObject (x);
    }
}

int
alert_queue_ack (kt_store_t *store, alert_ch_t ch, int64_t id)
{
    char id_s[24];
    snprintf (id_s, sizeof id_s, "%" PRId64, id);
    const char *args[3] = { kt_store_prefix (store), alert_route_name (ch), id_s };
    redisReply *r = kt_store_eval (store, kt_store_script (store, "alert.ack", s_ack_lua), 0, NULL, 3,
                                   args);
    if (s_script_failed (r, "alert.ack"))
        return -1;
    int rc = r->type == REDIS_REPLY_INTEGER && r->integer == 0? 0: 1;
    freeReplyObject (r);
    return rc;
}

int64_t
alert_queue_pending (kt_store_t *store, alert_ch_t ch)
{
    char lkey[128];
    kt_store_key (store, lkey, sizeof lkey, "alerts:pending:%s", alert_route_name (ch));
    redisReply *r = kt_store_cmd (store, "LLEN %s", lkey);
    if (!r)
        return -1;
    int64_t n = r->type == REDIS_REPLY_INTEGER? r->integer: 0;
    freeReplyObject (r);
    return n;
}
