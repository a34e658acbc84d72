/*  alert_queue - the alerter's durable outbox in Redis.
 *
 *  Keys (declared in common/kt_schema.c; docs/redis.md, docs/alerter.md):
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
#include "kt_schema.h"

//  KEYS: seq, windows, group key. ARGV: item base, pending base, group, now_ms, until_ms
//  ("0" = no window), queue_max, ts, severity, key, src, text, channels...
//  -> {id, 1, dropped} queued, or {0, count} collapsed
static const char s_push_lua[] =
    "if ARGV[5] ~= '0' then\n"
    "  local u = tonumber (redis.call ('HGET', KEYS[3], 'until') or '0')\n"
    "  if u > tonumber (ARGV[4]) then\n"
    "    local c = redis.call ('HINCRBY', KEYS[3], 'count', 1)\n"
    "    redis.call ('HSET', KEYS[3], 'text', ARGV[11], 'ts', ARGV[7])\n"
    "    return {0, c, 0}\n"
    "  end\n"
    "end\n"
    "local id = redis.call ('INCR', KEYS[1])\n"
    "redis.call ('HSET', ARGV[1] .. id, 'ts', ARGV[7], 'queued_ms', ARGV[4], 'severity',\n"
    "            ARGV[8], 'key', ARGV[9], 'src', ARGV[10], 'text', ARGV[11], 'count', '1',\n"
    "            'window_s', '0', 'left', tostring (#ARGV - 11))\n"
    "local qmax = tonumber (ARGV[6])\n"
    "local dropped = 0\n"
    "for i = 12, #ARGV do\n"
    "  local l = ARGV[2] .. ARGV[i]\n"
    "  local n = redis.call ('RPUSH', l, id)\n"
    "  while n > qmax do\n"
    "    local old = redis.call ('LPOP', l)\n"
    "    if redis.call ('HINCRBY', ARGV[1] .. old, 'left', -1) <= 0 then\n"
    "      redis.call ('DEL', ARGV[1] .. old)\n"
    "    end\n"
    "    n = n - 1\n"
    "    dropped = dropped + 1\n"
    "  end\n"
    "end\n"
    "if ARGV[5] ~= '0' then\n"
    "  redis.call ('HSET', KEYS[3], 'until', ARGV[5], 'first', ARGV[4], 'count', '1',\n"
    "              'severity', ARGV[8], 'key', ARGV[9], 'src', ARGV[10], 'text', ARGV[11],\n"
    "              'ts', ARGV[7])\n"
    "  redis.call ('ZADD', KEYS[2], ARGV[5], ARGV[3])\n"
    "end\n"
    "return {id, 1, dropped}\n";

//  KEYS: seq, windows, group key. ARGV: item base, pending base, group, now_ms, window_s,
//  channels...  -> {id, count} a summary queued, or {0, count}
static const char s_close_lua[] =
    "local u = tonumber (redis.call ('HGET', KEYS[3], 'until') or '0')\n"
    "if u > tonumber (ARGV[4]) then return {0, 0} end\n"
    "local h = redis.call ('HMGET', KEYS[3], 'count', 'severity', 'key', 'src', 'text', 'ts')\n"
    "redis.call ('DEL', KEYS[3])\n"
    "redis.call ('ZREM', KEYS[2], ARGV[3])\n"
    "local c = tonumber (h[1] or '0')\n"
    "if c <= 1 or #ARGV < 6 then return {0, c} end\n"
    "local id = redis.call ('INCR', KEYS[1])\n"
    "redis.call ('HSET', ARGV[1] .. id, 'ts', h[6], 'queued_ms', ARGV[4], 'severity', h[2],\n"
    "            'key', h[3], 'src', h[4], 'text', h[5], 'count', h[1], 'window_s', ARGV[5],\n"
    "            'left', tostring (#ARGV - 5))\n"
    "for i = 6, #ARGV do\n"
    "  redis.call ('RPUSH', ARGV[2] .. ARGV[i], id)\n"
    "end\n"
    "return {id, c}\n";

//  KEYS: pending list, item, sent. ARGV: channel, id  -> 0 acked, 1 not the head
static const char s_ack_lua[] =
    "if redis.call ('LINDEX', KEYS[1], 0) ~= ARGV[2] then return 1 end\n"
    "redis.call ('LPOP', KEYS[1])\n"
    "local h = redis.call ('HMGET', KEYS[2], 'severity', 'key', 'src', 'text', 'count')\n"
    "redis.call ('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'id', ARGV[2], 'severity',\n"
    "            h[1] or '', 'key', h[2] or '', 'src', h[3] or '', 'text', h[4] or '',\n"
    "            'count', h[5] or '1', 'channel', ARGV[1])\n"
    "if redis.call ('HINCRBY', KEYS[2], 'left', -1) <= 0 then\n"
    "  redis.call ('EXPIRE', KEYS[2], 86400)\n"
    "end\n"
    "return 0\n";

int
alert_queue_init (kt_store_t *store)
{
    if (kt_store_script (store, "alert.push", s_push_lua) < 0 ||
        kt_store_script (store, "alert.close", s_close_lua) < 0 ||
        kt_store_script (store, "alert.ack", s_ack_lua) < 0)
        return -1;
    return 0;
}

static struct kt_skey
s_key (kt_store_t *store, const kt_schema_key_t *k, const char *arg)
{
    return kt_schema_key (kt_store_prefix (store), k, arg);
}

//  Run a registered script; false (logged when Redis refused it) unless it answered.
static bool
s_eval (kt_store_t *store, const char *name, const char *lua, int nkeys, const char **keys,
        int nargs, const char **args, kt_store_result_t *out)
{
    *out = kt_store_eval_call (store, kt_store_script (store, name, lua), nkeys, keys, nargs, args);
    if (out->kind == KT_STORE_ERR)
        kt_log_error ("alert.queue.script", KT_S ("script", name), KT_S ("why", out->str), KT_END);
    if (out->kind == KT_STORE_DOWN || out->kind == KT_STORE_ERR) {
        kt_store_result_free (out);
        return false;
    }
    return true;
}

static int64_t
s_int_at (const kt_store_result_t *r, size_t i)
{
    kt_store_result_t e = kt_store_result_at (r, i);
    int64_t v;
    return kt_store_result_i64 (&e, &v) == 0 ? v : -1;
}

int
alert_queue_push (kt_store_t *store, struct alert_item *it, const char *group, unsigned mask,
                  int64_t now_ms, int64_t window_ms, int64_t queue_max, int64_t *count)
{
    char now_s[24], until_s[24], qmax_s[24], ts_s[24];
    snprintf (now_s, sizeof now_s, "%" PRId64, now_ms);
    snprintf (until_s, sizeof until_s, "%" PRId64, window_ms > 0 ? now_ms + window_ms : 0);
    snprintf (qmax_s, sizeof qmax_s, "%" PRId64, queue_max);
    snprintf (ts_s, sizeof ts_s, "%" PRId64, it->ts_ns);
    struct kt_skey seq = s_key (store, &kt_key_alerts_seq, NULL);
    struct kt_skey win = s_key (store, &kt_key_alerts_windows, NULL);
    struct kt_skey grp = s_key (store, &kt_key_alerts_group, group);
    struct kt_skey item = s_key (store, &kt_key_alerts_item, "");
    struct kt_skey pend = s_key (store, &kt_key_alerts_pending, "");
    const char *keys[3] = {seq.s, win.s, grp.s};
    const char *args[11 + ALERT_CH_COUNT] = {
        item.s,  pend.s,  group,   now_s, until_s, qmax_s, ts_s, kt_severity_str (it->severity),
        it->key, it->src, it->text};
    int n = 11;
    for (int c = 0; c < ALERT_CH_COUNT; c++)
        if (mask & (1u << c))
            args[n++] = alert_route_name ((alert_ch_t) c);
    kt_store_result_t r;
    if (!s_eval (store, "alert.push", s_push_lua, 3, keys, n, args, &r))
        return -1;
    int64_t id = s_int_at (&r, 0), c = s_int_at (&r, 1), dropped = s_int_at (&r, 2);
    kt_store_result_free (&r);
    if (count)
        *count = c;
    if (dropped > 0) {
        static int64_t s_last_ns; //  one line a minute while a channel is stuck
        kt_log_emit_every (KT_LOG_ERROR, "alert.queue.trimmed", 60, &s_last_ns,
                           (const kt_kv_t[]){KT_I ("dropped", dropped), KT_I ("max", queue_max),
                                             KT_S ("why", "a channel has not delivered for "
                                                          "long: oldest alerts dropped"),
                                             KT_END});
    }
    if (id <= 0)
        return 0;
    it->id = id;
    it->queued_ms = now_ms;
    it->count = 1;
    it->window_s = 0;
    return 1;
}

//  Close one ended window. Returns 1 summary queued, 0 none, -1 Redis unavailable.
static int
s_close_one (kt_store_t *store, const char *group, int64_t now_ms, alert_route_fn *route_fn,
             void *arg)
{
    struct kt_skey grp = s_key (store, &kt_key_alerts_group, group);
    kt_store_result_t h = kt_store_callf (store, "HMGET %s severity first until", grp.s);
    if (h.kind == KT_STORE_DOWN) {
        kt_store_result_free (&h);
        return -1;
    }
    kt_store_result_t sev_r = kt_store_result_at (&h, 0);
    kt_severity_t sev = sev_r.kind == KT_STORE_STR ? kt_severity_parse (sev_r.str) : KT_SEV_NONE;
    int64_t first = s_int_at (&h, 1), until = s_int_at (&h, 2);
    kt_store_result_free (&h);
    unsigned mask = route_fn (sev ? sev : KT_SEV_CRITICAL, arg);
    char now_s[24], win_s[24];
    snprintf (now_s, sizeof now_s, "%" PRId64, now_ms);
    //  The window's length as the person reads it: from its first alert to its end.
    snprintf (win_s, sizeof win_s, "%" PRId64,
              first > 0 && until > first ? (until - first + 500) / 1000 : 0);
    struct kt_skey seq = s_key (store, &kt_key_alerts_seq, NULL);
    struct kt_skey win = s_key (store, &kt_key_alerts_windows, NULL);
    struct kt_skey item = s_key (store, &kt_key_alerts_item, "");
    struct kt_skey pend = s_key (store, &kt_key_alerts_pending, "");
    const char *keys[3] = {seq.s, win.s, grp.s};
    const char *args[5 + ALERT_CH_COUNT] = {item.s, pend.s, group, now_s, win_s};
    int n = 5;
    for (int c = 0; c < ALERT_CH_COUNT; c++)
        if (mask & (1u << c))
            args[n++] = alert_route_name ((alert_ch_t) c);
    kt_store_result_t x;
    if (!s_eval (store, "alert.close", s_close_lua, 3, keys, n, args, &x))
        return -1;
    int queued = s_int_at (&x, 0) > 0;
    kt_store_result_free (&x);
    return queued;
}

int
alert_queue_close_windows (kt_store_t *store, int64_t now_ms, int max, alert_route_fn *route_fn,
                           void *arg)
{
    struct kt_skey win = s_key (store, &kt_key_alerts_windows, NULL);
    kt_store_result_t r = kt_store_callf (store, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d", win.s,
                                          (long long) now_ms, max);
    if (r.kind == KT_STORE_DOWN) {
        kt_store_result_free (&r);
        return -1;
    }
    int queued = 0;
    for (size_t i = 0; r.kind == KT_STORE_ARR && i < r.elements; i++) {
        kt_store_result_t g = kt_store_result_at (&r, i);
        if (g.kind != KT_STORE_STR)
            continue;
        int rc = s_close_one (store, g.str, now_ms, route_fn, arg);
        if (rc < 0) {
            kt_store_result_free (&r);
            return -1;
        }
        queued += rc;
    }
    kt_store_result_free (&r);
    return queued;
}

static void
s_fill_item (struct alert_item *it, const kt_store_result_t *h)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        kt_store_result_t fr = kt_store_result_at (h, i), vr = kt_store_result_at (h, i + 1);
        if (fr.kind != KT_STORE_STR || vr.kind != KT_STORE_STR)
            continue;
        const char *f = fr.str, *v = vr.str;
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
    struct kt_skey list = s_key (store, &kt_key_alerts_pending, alert_route_name (ch));
    for (;;) {
        kt_store_result_t r = kt_store_callf (store, "LINDEX %s 0", list.s);
        if (r.kind == KT_STORE_DOWN) {
            kt_store_result_free (&r);
            return -1;
        }
        if (r.kind != KT_STORE_STR) {
            kt_store_result_free (&r);
            return 0;
        }
        char id_s[24];
        snprintf (id_s, sizeof id_s, "%.*s", (int) (r.len < 23 ? r.len : 23), r.str);
        kt_store_result_free (&r);
        struct kt_skey ikey = s_key (store, &kt_key_alerts_item, id_s);
        kt_store_result_t h = kt_store_callf (store, "HGETALL %s", ikey.s);
        if (h.kind == KT_STORE_DOWN) {
            kt_store_result_free (&h);
            return -1;
        }
        if (h.kind == KT_STORE_ARR && h.elements >= 2) {
            memset (it, 0, sizeof *it);
            it->id = strtoll (id_s, NULL, 10);
            s_fill_item (it, &h);
            kt_store_result_free (&h);
            return 1;
        }
        kt_store_result_free (&h);
        //  An id without its item (deleted by hand, or a trim of another channel raced
        //  it): nothing can be sent for it, so it must not block the channel.
        kt_log_error ("alert.queue.orphan", KT_S ("channel", alert_route_name (ch)),
                      KT_S ("id", id_s), KT_S ("why", "queued id has no item: dropped"), KT_END);
        kt_store_result_t x = kt_store_callf (store, "LREM %s 1 %s", list.s, id_s);
        bool down = x.kind == KT_STORE_DOWN;
        kt_store_result_free (&x);
        if (down)
            return -1;
    }
}

int
alert_queue_ack (kt_store_t *store, alert_ch_t ch, int64_t id)
{
    char id_s[24];
    snprintf (id_s, sizeof id_s, "%" PRId64, id);
    struct kt_skey list = s_key (store, &kt_key_alerts_pending, alert_route_name (ch));
    struct kt_skey item = s_key (store, &kt_key_alerts_item, id_s);
    struct kt_skey sent = s_key (store, &kt_key_alerts_sent, NULL);
    const char *keys[3] = {list.s, item.s, sent.s};
    const char *args[2] = {alert_route_name (ch), id_s};
    kt_store_result_t r;
    if (!s_eval (store, "alert.ack", s_ack_lua, 3, keys, 2, args, &r))
        return -1;
    int rc = r.kind == KT_STORE_INT && r.integer == 0 ? 0 : 1;
    kt_store_result_free (&r);
    return rc;
}

int64_t
alert_queue_pending (kt_store_t *store, alert_ch_t ch)
{
    struct kt_skey list = s_key (store, &kt_key_alerts_pending, alert_route_name (ch));
    kt_store_result_t r = kt_store_callf (store, "LLEN %s", list.s);
    int64_t n = r.kind == KT_STORE_DOWN ? -1 : r.kind == KT_STORE_INT ? r.integer : 0;
    kt_store_result_free (&r);
    return n;
}
