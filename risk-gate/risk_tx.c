/*  risk_tx - the account commit (see risk_tx.h): writes decided in C, applied by one
 *  EVALSHA only if the account's version is the one the decision read.
 *
 *  KEYS of the script: risk_tx_keys (every name from its declaration). ARGV: 1 prefix,
 *  2-4 the stems of pos:, order:, intent:, 5 expected version ('' = any), 6 expected
 *  book version ('' = any), 7 expected kill switch ('' = any), 8 intent id whose
 *  record makes the commit a duplicate ('' = none), 9 flags ('s': answer the account
 *  after the writes, 'n': the writes set the version themselves, or leave it alone),
 *  then the writes, each as: op, key (declared, without prefix), n, n arguments. The
 *  script knows no rule: it checks, writes, bumps the version. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt_book.h"
#include "risk.h"

//  KEYS: risk:state, risk:kill, book (risk_tx_commit); the account after it, or after a
//  STALE, is read by the snapshot script (a second call), so the commit the caller waits
//  for carries only what it checks and writes.
const char risk_tx_lua[] =
    "local st = KEYS[1]\n"
    "if ARGV[5] ~= '' and (redis.call('HGET', st, 'version') or '0') ~= ARGV[5] then\n"
    "  return {'STALE'}\n"
    "end\n"
    "if ARGV[6] ~= '' and (redis.call('HGET', KEYS[3], 'ver') or '0') ~= ARGV[6] then\n"
    "  return {'STALE'}\n"
    "end\n"
    "if ARGV[7] ~= '' then\n"
    "  local a = num(redis.call('HGET', KEYS[2], 'active')) ~= 0 and '1' or '0'\n"
    "  if a ~= ARGV[7] then return {'STALE'} end\n"
    "end\n"
    "if ARGV[8] ~= '' and redis.call('HEXISTS', SINT .. ARGV[8], 'verdict') == 1 then\n"
    "  return {'DUP', redis.call('HGETALL', SINT .. ARGV[8])}\n"
    "end\n"
    "local OPS = {HSET = 1, HDEL = 1, HINCRBY = 1, SADD = 1, SREM = 1, LPUSH = 1, LTRIM = 1,\n"
    "             DEL = 1, EXPIRE = 1, XADD = 1}\n"
    "local i = 10\n"
    "while i <= #ARGV do\n"
    "  local op, n = ARGV[i], tonumber(ARGV[i + 2])\n"
    "  if not OPS[op] or not n then\n"
    "    return redis.error_reply('risk commit: bad write ' .. tostring(op))\n"
    "  end\n"
    "  redis.call(op, K(ARGV[i + 1]), unpack(ARGV, i + 3, i + 2 + n))\n"
    "  i = i + 3 + n\n"
    "end\n"
    "local v = ''\n"
    "if not string.find(ARGV[9], 'n', 1, true) then\n"
    "  v = tostring(redis.call('HINCRBY', st, 'version', 1))\n"
    "end\n"
    "return {'OK', v}\n";

void
risk_tx_keys (const char *prefix, struct risk_tx_keys *out)
{
    const kt_schema_key_t *keys[RISK_TX_NKEYS] = {&kt_key_risk_state,       &kt_key_risk_capital,
                                                  &kt_key_risk_kill,        &kt_key_book,
                                                  &kt_key_positions,        &kt_key_orders_open,
                                                  &kt_key_risk_open,        &kt_key_risk_ts_orders,
                                                  &kt_key_risk_ts_modifies, &kt_key_risk_ts_entries,
                                                  &kt_key_risk_ts_rejects,  &kt_key_risk_marks,
                                                  &kt_key_risk_px,          &kt_key_events};
    snprintf (out->prefix, sizeof out->prefix, "%s", prefix);
    for (int i = 0; i < RISK_TX_NKEYS; i++) {
        out->k[i] = kt_schema_key (prefix, keys[i], NULL);
        out->argv[i] = out->k[i].s;
    }
    out->stem[0] = kt_schema_key (prefix, &kt_key_pos, "");
    out->stem[1] = kt_schema_key (prefix, &kt_key_order, "");
    out->stem[2] = kt_schema_key (prefix, &kt_key_risk_intent, "");
}

enum { S_BOOK_ARG = 5, S_FLAGS_ARG = 8 }; //  argv indices (ARGV[6], ARGV[9])

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

//  A field written to a declared hash must be one of its declared fields. A field found
//  once is remembered (by its text, in a slot chosen by its address), so a decision's
//  fields cost one comparison each, not a walk of the declaration.
static void
s_declared (struct risk_tx *tx, const char *field)
{
    const kt_schema_key_t *k = tx->key;
    if (!k || k->type != KT_SK_HASH || !k->fields)
        return;
    struct risk_tx_seen *m = &tx->seen[((uintptr_t) field >> 3) % RISK_TX_SEEN];
    if (m->key == k && strcmp (m->field, field) == 0)
        return;
    if (kt_schema_field (k, field)) {
        if (strlen (field) < sizeof m->field) {
            m->key = k;
            memcpy (m->field, field, strlen (field) + 1);
        }
        return;
    }
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
    if (strcmp (tx->keys.prefix, prefix) != 0 || !tx->keys.argv[0])
        risk_tx_keys (prefix, &tx->keys);
    s_push (tx, prefix);
    for (int i = 0; i < 3; i++)
        s_push (tx, tx->keys.stem[i].s);
    if (version != RISK_TX_ANY)
        snprintf (num, sizeof num, "%lld", (long long) version);
    s_push (tx, num);
    s_push (tx, "                       "); //  the book version, set by risk_tx_book
    ((char *) tx->argv[S_BOOK_ARG])[0] = 0;
    s_push (tx, kill < 0 ? "" : kill ? "1" : "0");
    s_push (tx, dup_id ? dup_id : "");
    s_push (tx, "  "); //  flags, set by risk_tx_flags
}

void
risk_tx_book (struct risk_tx *tx, int64_t book_ver)
{
    if (tx->n > S_BOOK_ARG)
        snprintf ((char *) tx->argv[S_BOOK_ARG], 24, "%lld", (long long) book_ver);
}

void
risk_tx_flags (struct risk_tx *tx, bool snapshot, bool keep_version)
{
    if (tx->n <= S_FLAGS_ARG)
        return;
    char *f = (char *) tx->argv[S_FLAGS_ARG];
    f[0] = snapshot ? 's' : ' ';
    f[1] = keep_version ? 'n' : ' ';
}

//  Open the next write on key (already formatted).
static void
s_open (struct risk_tx *tx, const char *op, const char *key)
{
    s_close (tx);
    tx->key = NULL;
    s_push (tx, op);
    s_push (tx, key);
    s_push (tx, "0000000"); //  the count, written by s_close
    if (tx->overflow)
        return;
    tx->count_at = tx->n - 1;
    tx->count = 0;
}

void
risk_tx_op (struct risk_tx *tx, const char *op, const char *keyfmt, ...)
{
    if (!tx)
        return;
    char key[160];
    va_list ap;
    va_start (ap, keyfmt);
    int n = vsnprintf (key, sizeof key, keyfmt, ap);
    va_end (ap);
    if (n < 0 || (size_t) n >= sizeof key)
        tx->overflow = true;
    s_open (tx, op, key);
}

void
risk_tx_key (struct risk_tx *tx, const char *op, const kt_schema_key_t *key, const char *arg)
{
    if (!tx)
        return;
    struct kt_skey k = kt_schema_key (NULL, key, arg);
    s_open (tx, op, k.s);
    tx->key = key;
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
    //  By hand: a decision writes a dozen numbers, and snprintf costs more than the rest
    //  of building the commit.
    char num[24];
    char *p = num + sizeof num;
    *--p = '\0';
    uint64_t u = x < 0 ? 0 - (uint64_t) x : (uint64_t) x;
    do
        *--p = (char) ('0' + u % 10);
    while ((u /= 10) != 0);
    if (x < 0)
        *--p = '-';
    risk_tx_str (tx, p);
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

//  A duplicate's stored decision (intent:<id>, read through its declaration).
static void
s_dup (const kt_store_result_t *h, struct risk_tx_dup *dup)
{
    struct kt_risk_intent_rec *r = calloc (1, sizeof *r);
    if (!r)
        abort ();
    char why[96];
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        kt_store_result_t f = kt_store_result_at (h, i), v = kt_store_result_at (h, i + 1);
        if (f.kind == KT_STORE_STR && v.kind == KT_STORE_STR)
            (void) kt_schema_set (&kt_key_risk_intent, r, f.str, f.len, v.str, v.len, why,
                                  sizeof why);
    }
    memset (dup, 0, sizeof *dup);
    snprintf (dup->verdict, sizeof dup->verdict, "%s", r->verdict);
    dup->qty = r->qty;
    snprintf (dup->state, sizeof dup->state, "%s", r->state);
    snprintf (dup->coid, sizeof dup->coid, "%s", r->coid);
    snprintf (dup->kind, sizeof dup->kind, "%s", r->kind);
    for (int i = 0; i < r->nreasons && i < KT_REASONS_MAX; i++) {
        dup->reasons[i].code = kt_reason_parse (r->code[i]);
        dup->reasons[i].outcome = KT_VERDICT_NONE;
        snprintf (dup->reasons[i].text, sizeof dup->reasons[i].text, "%s", r->text[i]);
        dup->nreasons++;
    }
    free (r);
}

//  The account as it is now into *view (the snapshot script, with the same prefix and
//  stems as the commit). Returns 0 or -1 (why).
static int
s_reread (kt_store_t *store, const struct risk_scripts *ids, struct risk_tx *tx,
          struct risk_view *view, char *why, size_t whylen)
{
    kt_store_result_t r =
        kt_store_eval_call (store, ids->snapshot, RISK_TX_NKEYS, tx->keys.argv, 4, tx->argv);
    int rc = -1;
    if (r.kind == KT_STORE_ARR)
        rc = risk_view_parse (&r, view, why, whylen);
    else
        snprintf (why, whylen, "redis: %.200s", r.str);
    kt_store_result_free (&r);
    return rc;
}

risk_tx_rc_t
risk_tx_commit (kt_store_t *store, const struct risk_scripts *ids, struct risk_tx *tx,
                struct risk_view *view, struct risk_tx_dup *dup, char *why, size_t whylen)
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
    const char *keys[] = {tx->keys.argv[0], tx->keys.argv[2], tx->keys.argv[3]};
    kt_store_result_t r = kt_store_eval_call (store, ids->commit, 3, keys, tx->n, tx->argv);
    risk_tx_rc_t rc = RISK_TX_FAIL;
    kt_store_result_t tag = kt_store_result_at (&r, 0), e1 = kt_store_result_at (&r, 1);
    if (r.kind == KT_STORE_DOWN)
        snprintf (why, whylen, "redis: %s", r.str);
    else if (r.kind == KT_STORE_ERR)
        snprintf (why, whylen, "redis script: %.200s", r.str);
    else if (r.kind != KT_STORE_ARR || r.elements < 1)
        snprintf (why, whylen, "risk commit: unexpected reply");
    else if (kt_store_result_is (&tag, "OK")) {
        int64_t v;
        if (kt_store_result_i64 (&e1, &v) == 0) //  else the writes set it (keep_version)
            view->version = v;
        rc = RISK_TX_OK;
        if (tx->argv[S_FLAGS_ARG][0] == 's' && s_reread (store, ids, tx, view, why, whylen) != 0)
            view->version = RISK_TX_STALE_VERSION; //  applied; the next commit reads again
    } else if (kt_store_result_is (&tag, "STALE")) {
        if (s_reread (store, ids, tx, view, why, whylen) == 0)
            rc = RISK_TX_STALE;
    } else if (kt_store_result_is (&tag, "DUP") && e1.kind == KT_STORE_ARR) {
        if (dup)
            s_dup (&e1, dup);
        rc = RISK_TX_DUP;
    } else
        snprintf (why, whylen, "risk commit: unexpected answer");
    kt_store_result_free (&r);
    return rc;
}
