/*  risk_tx - the account commit (see risk_tx.h): writes decided in C, applied by one
 *  EVALSHA only if the account's version is the one the decision read.
 *
 *  ARGV of the script: 1 prefix, 2 expected version ('' = any), 3 expected kill switch
 *  ('' = any), 4 intent id whose record makes the commit a duplicate ('' = none), 5
 *  flags ('s': answer the account after the writes, 'n': the writes set the version
 *  themselves, or leave it alone), then
 *  the writes, each as: op, key (without prefix), n, n arguments. The script knows no
 *  rule: it checks, writes, bumps the version. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "risk.h"

const char risk_tx_lua[] =
    "local st = K('risk:state')\n"
    "if ARGV[2] ~= '' and (redis.call('HGET', st, 'version') or '0') ~= ARGV[2] then\n"
    "  return {'STALE', snapshot()}\n"
    "end\n"
    "if ARGV[3] ~= '' then\n"
    "  local a = num(redis.call('HGET', K('risk:kill'), 'active')) ~= 0 and '1' or '0'\n"
    "  if a ~= ARGV[3] then return {'STALE', snapshot()} end\n"
    "end\n"
    "if ARGV[4] ~= '' and redis.call('HEXISTS', K('intent:' .. ARGV[4]), 'verdict') == 1 then\n"
    "  local p = redis.call('HMGET', K('intent:' .. ARGV[4]), 'verdict', 'qty', 'state',\n"
    "    'coid', 'kind', 'nreasons', 'code1', 'text1', 'code2', 'text2', 'code3', 'text3',\n"
    "    'code4', 'text4', 'code5', 'text5', 'code6', 'text6', 'code7', 'text7', 'code8',\n"
    "    'text8')\n"
    "  local out = {'DUP'}\n"
    "  for j = 1, 22 do out[j + 1] = p[j] or '' end\n"
    "  return out\n"
    "end\n"
    "local OPS = {HSET = 1, HDEL = 1, HINCRBY = 1, SADD = 1, SREM = 1, LPUSH = 1, LTRIM = 1,\n"
    "             DEL = 1, EXPIRE = 1, XADD = 1}\n"
    "local i = 6\n"
    "while i <= #ARGV do\n"
    "  local op, n = ARGV[i], tonumber(ARGV[i + 2])\n"
    "  if not OPS[op] or not n then\n"
    "    return redis.error_reply('risk commit: bad write ' .. tostring(op))\n"
    "  end\n"
    "  redis.call(op, K(ARGV[i + 1]), unpack(ARGV, i + 3, i + 2 + n))\n"
    "  i = i + 3 + n\n"
    "end\n"
    "local flags = ARGV[5]\n"
    "local v = ''\n"
    "if not string.find(flags, 'n', 1, true) then\n"
    "  v = tostring(redis.call('HINCRBY', st, 'version', 1))\n"
    "end\n"
    "if string.find(flags, 's', 1, true) then return {'OK', v, snapshot()} end\n"
    "return {'OK', v}\n";

static const char *
s_copy (struct risk_tx *tx, const char *s, size_t len)
{
    if (tx->used + len + 1 > sizeof tx->buf) {
        tx->overflow = true;
        return NULL;
    }
    char *p = tx->buf + tx->used;
    memcpy (p, s, len);
    p[len] = '\0';
    tx->used += len + 1;
    return p;
}

static void
s_push (struct risk_tx *tx, const char *s)
{
    if (tx->n == RISK_TX_ARGS) {
        tx->overflow = true;
        return;
    }
    const char *p = s_copy (tx, s, strlen (s));
    if (p)
        tx->argv[tx->n++] = p;
}

//  Write the open op's argument count into its slot.
static void
s_close (struct risk_tx *tx)
{
    if (tx->count_at < 0)
        return;
    char *slot = (char *) tx->argv[tx->count_at];
    snprintf (slot, 8, "%d", tx->count);
    tx->count_at = -1;
}

void
risk_tx_key (struct risk_tx *tx, const char *op, const kt_schema_key_t *key, const char *arg)
{
    if (!tx)
        return;
    struct kt_skey k = kt_schema_key (NULL, key, arg);
    risk_tx_op (tx, op, "%s", k.s);
    tx->key = key;
}

//  A field written to a declared hash must be one of its declared fields.
static void
s_declared (struct risk_tx *tx, const char *field)
{
    const kt_schema_key_t *k = tx->key;
    if (!k || k->type != KT_SK_HASH || !k->fields || kt_schema_field (k, field))
        return;
    tx->overflow = true;
    if (!tx->undeclared[0])
        snprintf (tx->undeclared, sizeof tx->undeclared, "%s", field);
}

void
risk_tx_begin (struct risk_tx *tx, const char *prefix, int64_t version, int kill,
               const char *dup_id)
{
    tx->n = 0;
    tx->used = 0;
    tx->key = NULL;
    tx->undeclared[0] = '\0';
    tx->count_at = -1;
    tx->count = 0;
    tx->overflow = false;
    char num[24] = "";
    s_push (tx, prefix);
    if (version != RISK_TX_ANY)
        snprintf (num, sizeof num, "%lld", (long long) version);
    s_push (tx, num);
    s_push (tx, kill < 0 ? "" : kill ? "1" : "0");
    s_push (tx, dup_id ? dup_id : "");
    s_push (tx, "  "); //  flags, set by risk_tx_flags
}

void
risk_tx_flags (struct risk_tx *tx, bool snapshot, bool keep_version)
{
    if (tx->n < 5)
        return;
    char *f = (char *) tx->argv[4];
    f[0] = snapshot ? 's' : ' ';
    f[1] = keep_version ? 'n' : ' ';
}

void
risk_tx_op (struct risk_tx *tx, const char *op, const char *keyfmt, ...)
{
    if (!tx)
        return;
    s_close (tx);
    tx->key = NULL;
    char key[160];
    va_list ap;
    va_start (ap, keyfmt);
    int n = vsnprintf (key, sizeof key, keyfmt, ap);
    va_end (ap);
    if (n < 0 || (size_t) n >= sizeof key)
        tx->overflow = true;
    s_push (tx, op);
    s_push (tx, key);
    s_push (tx, "0000000"); //  the count, written by s_close
    if (tx->overflow)
        return;
    tx->count_at = tx->n - 1;
    tx->count = 0;
}

void
risk_tx_str (struct risk_tx *tx, const char *s)
{
    if (!tx)
        return;
    if (tx->count_at < 0) {
        tx->overflow = true;
        return;
    }
    s_push (tx, s ? s : "");
    tx->count++;
}

void
risk_tx_i64 (struct risk_tx *tx, int64_t x)
{
    if (!tx)
        return;
    char num[24];
    snprintf (num, sizeof num, "%lld", (long long) x);
    risk_tx_str (tx, num);
}

void
risk_tx_pair (struct risk_tx *tx, const char *field, const char *value)
{
    if (!tx)
        return;
    s_declared (tx, field);
    risk_tx_str (tx, field);
    risk_tx_str (tx, value);
}

void
risk_tx_pair_i64 (struct risk_tx *tx, const char *field, int64_t value)
{
    if (!tx)
        return;
    s_declared (tx, field);
    risk_tx_str (tx, field);
    risk_tx_i64 (tx, value);
}

void
risk_tx_event (struct risk_tx *tx, const char *type, const char *src)
{
    if (!tx)
        return;
    risk_tx_key (tx, "XADD", &kt_key_events, NULL);
    risk_tx_str (tx, "MAXLEN");
    risk_tx_str (tx, "~");
    risk_tx_str (tx, "100000");
    risk_tx_str (tx, "*");
    risk_tx_pair (tx, "type", type);
    risk_tx_pair (tx, "src", src);
}

static const char *
s_el (const redisReply *r, size_t i)
{
    return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "";
}

risk_tx_rc_t
risk_tx_commit (kt_store_t *store, int script_id, struct risk_tx *tx, struct risk_view *view,
                struct risk_tx_dup *dup, char *why, size_t whylen)
{
    s_close (tx);
    if (tx->overflow) {
        if (tx->undeclared[0])
            snprintf (why, whylen, "risk commit: field %s not declared (common/kt_risk.c)",
                      tx->undeclared);
        else
            snprintf (why, whylen, "risk commit: more writes than fit");
        return RISK_TX_FAIL;
    }
    redisReply *r = kt_store_eval (store, script_id, 0, NULL, tx->n, tx->argv);
    risk_tx_rc_t rc = RISK_TX_FAIL;
    if (!r) {
        snprintf (why, whylen, "redis: %s", kt_store_errstr (store));
        return RISK_TX_FAIL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf (why, whylen, "redis script: %.*s", (int) (r->len < 200 ? r->len : 200), r->str);
        goto out;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        snprintf (why, whylen, "risk commit: unexpected reply");
        goto out;
    }
    const char *tag = s_el (r, 0);
    if (strcmp (tag, "OK") == 0 && r->elements == 3) {
        if (risk_view_parse (r->element[2], view, why, whylen) == 0)
            rc = RISK_TX_OK;
    } else if (strcmp (tag, "OK") == 0) {
        if (s_el (r, 1)[0]) //  else the writes set it (risk_tx_flags keep_version)
            view->version = strtoll (s_el (r, 1), NULL, 10);
        rc = RISK_TX_OK;
    } else if (strcmp (tag, "STALE") == 0) {
        if (risk_view_parse (r->element[1], view, why, whylen) == 0)
            rc = RISK_TX_STALE;
    } else if (strcmp (tag, "DUP") == 0 && r->elements == 23) {
        if (dup) {
            memset (dup, 0, sizeof *dup);
            snprintf (dup->verdict, sizeof dup->verdict, "%s", s_el (r, 1));
            dup->qty = strtoll (s_el (r, 2), NULL, 10);
            snprintf (dup->state, sizeof dup->state, "%s", s_el (r, 3));
            snprintf (dup->coid, sizeof dup->coid, "%s", s_el (r, 4));
            snprintf (dup->kind, sizeof dup->kind, "%s", s_el (r, 5));
            int n = (int) strtol (s_el (r, 6), NULL, 10);
            for (int i = 0; i < n && i < KT_REASONS_MAX; i++) {
                dup->reasons[i].code = kt_reason_parse (s_el (r, 7 + 2 * (size_t) i));
                dup->reasons[i].outcome = KT_VERDICT_NONE;
                snprintf (dup->reasons[i].text, sizeof dup->reasons[i].text, "%s",
                          s_el (r, 8 + 2 * (size_t) i));
                dup->nreasons++;
            }
        }
        rc = RISK_TX_DUP;
    } else
        snprintf (why, whylen, "risk commit: unexpected answer '%s'", tag);
out:
    freeReplyObject (r);
    return rc;
}
