/*  risk_tx - the account commit (see risk_tx.h): writes decided in C, applied by one
 *  EVALSHA only if the account's version is the one the decision read.
 *
 *  KEYS of the script: risk:state, risk:kill, book (names from their declarations).
 *  ARGV: 1 expected version ('' = any), 2 expected book version ('' = any), 3 expected
 *  kill switch ('' = any), 4 the intent record whose verdict makes the commit a
 *  duplicate ('' = none), 5 flags ('s': answer the account after the writes, 'n': the
 *  writes set the version themselves, or leave it alone), then the writes, each as: op,
 *  key (declared, with the prefix), n, n arguments. An op `R<i>` is an HSET of record
 *  layout i: its first arguments are the values of the layout's fields, in order, any
 *  further ones field/value pairs. The script knows no rule: it checks, writes, bumps
 *  the version. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt_book.h"
#include "risk.h"

//  The script, made once per process from the layouts (risk_tx_script). Its own few
//  locals and no shared prelude: a script's every run creates its closures and tables
//  again, and this is the one a caller waits for. Field names of a layout are constants
//  of the script, so a record's names are neither sent nor made into strings per run.
static const char s_head_lua[] =
    "local st = KEYS[1]\n"
    "if ARGV[1] ~= '' and (redis.call('HGET', st, 'version') or '0') ~= ARGV[1] then\n"
    "  return {'STALE'}\n"
    "end\n"
    "if ARGV[2] ~= '' and (redis.call('HGET', KEYS[3], 'ver') or '0') ~= ARGV[2] then\n"
    "  return {'STALE'}\n"
    "end\n"
    "if ARGV[3] ~= '' then\n"
    "  local a = tonumber(redis.call('HGET', KEYS[2], 'active') or '0') or 0\n"
    "  if (a ~= 0 and '1' or '0') ~= ARGV[3] then return {'STALE'} end\n"
    "end\n"
    "if ARGV[4] ~= '' and redis.call('HEXISTS', ARGV[4], 'verdict') == 1 then\n"
    "  return {'DUP', redis.call('HGETALL', ARGV[4])}\n"
    "end\n"
    "local i, last = 6, #ARGV\n"
    "while i <= last do\n"
    "  local op, k, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])\n"
    "  if not n then\n"
    "    return redis.error_reply('risk commit: bad count of ' .. tostring(op))\n";

static const char s_tail_lua[] =
    "  elseif op == 'HSET' or op == 'HDEL' or op == 'HINCRBY' or op == 'SADD' or\n"
    "         op == 'SREM' or op == 'LPUSH' or op == 'LTRIM' or op == 'DEL' or\n"
    "         op == 'EXPIRE' or op == 'XADD' then\n"
    "    redis.call(op, k, unpack(ARGV, i + 3, i + 2 + n))\n"
    "  else\n"
    "    return redis.error_reply('risk commit: bad write ' .. tostring(op))\n"
    "  end\n"
    "  i = i + 3 + n\n"
    "end\n"
    "local v = ''\n"
    "if not string.find(ARGV[5], 'n', 1, true) then\n"
    "  v = tostring(redis.call('HINCRBY', st, 'version', 1))\n"
    "end\n"
    "return {'OK', v}\n";

static bool
s_name_ok (const char *f)
{
    if (!*f)
        return false;
    for (; *f; f++) {
        if (!((*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z') || (*f >= '0' && *f <= '9') ||
              *f == '_'))
            return false;
    }
    return true;
}

char *
risk_tx_script (const struct risk_tx_layout *const *layouts, int n, char *why, size_t whylen)
{
    size_t cap = sizeof s_head_lua + sizeof s_tail_lua + 1;
    for (int l = 0; l < n; l++)
        cap += 128 + (size_t) layouts[l]->n * 64;
    char *s = malloc (cap);
    if (!s)
        abort ();
    size_t used = (size_t) snprintf (s, cap, "%s", s_head_lua);
    for (int l = 0; l < n; l++) {
        const struct risk_tx_layout *L = layouts[l];
        if (L->index != l + 1 || L->n <= 0 || L->key->type != KT_SK_HASH) {
            snprintf (why, whylen, "risk commit: layout %d malformed", l + 1);
            free (s);
            return NULL;
        }
        used += (size_t) snprintf (s + used, cap - used,
                                   "  elseif op == 'R%d' then\n"
                                   "    if n < %d then return redis.error_reply('risk commit: "
                                   "short record') end\n"
                                   "    redis.call('HSET', k",
                                   L->index, L->n);
        for (int f = 0; f < L->n; f++) {
            if (!s_name_ok (L->fields[f]) || !kt_schema_field (L->key, L->fields[f])) {
                snprintf (why, whylen, "risk commit: layout %d field %s not declared", L->index,
                          L->fields[f]);
                free (s);
                return NULL;
            }
            used += (size_t) snprintf (s + used, cap - used, ", '%s', ARGV[i + %d]", L->fields[f],
                                       3 + f);
        }
        used += (size_t) snprintf (s + used, cap - used, ", unpack(ARGV, i + %d, i + 2 + n))\n",
                                   3 + L->n);
    }
    snprintf (s + used, cap - used, "%s", s_tail_lua);
    return s;
}

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

enum { S_BOOK_ARG = 1, S_FLAGS_ARG = 4 }; //  argv indices (ARGV[2], ARGV[5])

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

//  Write the open op's argument count into its slot. A record left short of its
//  layout's fields refuses the commit.
static void
s_close (struct risk_tx *tx)
{
    if (tx->count_at < 0)
        return;
    if (tx->layout && tx->lpos < tx->layout->n) {
        tx->overflow = true;
        if (!tx->fault[0])
            snprintf (tx->fault, sizeof tx->fault, "field %s missing from its record",
                      tx->layout->fields[tx->lpos]);
    }
    tx->layout = NULL;
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
    if (!tx->fault[0])
        snprintf (tx->fault, sizeof tx->fault, "field %s not declared (common/kt_risk.c)", field);
}

void
risk_tx_begin (struct risk_tx *tx, const char *prefix, int64_t version, int kill,
               const char *dup_id)
{
    tx->n = 0;
    tx->used = 0;
    tx->key = NULL;
    tx->fault[0] = '\0';
    tx->count_at = -1;
    tx->count = 0;
    tx->overflow = false;
    tx->layout = NULL;
    char num[24] = "";
    if (strcmp (tx->keys.prefix, prefix) != 0 || !tx->keys.argv[0])
        risk_tx_keys (prefix, &tx->keys);
    if (version != RISK_TX_ANY)
        snprintf (num, sizeof num, "%lld", (long long) version);
    s_push (tx, num);
    s_push (tx, "                       "); //  the book version, set by risk_tx_book
    ((char *) tx->argv[S_BOOK_ARG])[0] = 0;
    s_push (tx, kill < 0 ? "" : kill ? "1" : "0");
    if (dup_id) {
        struct kt_skey k = kt_schema_key (tx->keys.prefix, &kt_key_risk_intent, dup_id);
        s_push (tx, k.s);
    } else
        s_push (tx, "");
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
risk_tx_key (struct risk_tx *tx, const char *op, const kt_schema_key_t *key, const char *arg)
{
    if (!tx)
        return;
    struct kt_skey k = kt_schema_key (tx->keys.prefix, key, arg);
    s_open (tx, op, k.s);
    tx->key = key;
}

void
risk_tx_record (struct risk_tx *tx, const struct risk_tx_layout *layout, const char *arg)
{
    if (!tx)
        return;
    char op[8];
    snprintf (op, sizeof op, "R%d", layout->index);
    risk_tx_key (tx, op, layout->key, arg);
    tx->layout = layout;
    tx->lpos = 0;
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

//  A field of an open record: the next of its layout (only the value is sent; true), or
//  one after the layout's (false: sent as a pair). Out of order refuses the commit.
static bool
s_in_layout (struct risk_tx *tx, const char *field)
{
    const struct risk_tx_layout *L = tx->layout;
    if (!L || tx->lpos == L->n)
        return false;
    if (strcmp (L->fields[tx->lpos], field) != 0) {
        tx->overflow = true;
        if (!tx->fault[0])
            snprintf (tx->fault, sizeof tx->fault, "field %s out of its record's order (%s next)",
                      field, L->fields[tx->lpos]);
        return true;
    }
    tx->lpos++;
    return true;
}

void
risk_tx_pair (struct risk_tx *tx, const char *field, const char *value)
{
    if (!tx)
        return;
    if (!s_in_layout (tx, field)) {
        s_declared (tx, field);
        risk_tx_str (tx, field);
    }
    risk_tx_str (tx, value);
}

void
risk_tx_pair_i64 (struct risk_tx *tx, const char *field, int64_t value)
{
    if (!tx)
        return;
    if (!s_in_layout (tx, field)) {
        s_declared (tx, field);
        risk_tx_str (tx, field);
    }
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
    const char *head[] = {tx->keys.prefix, tx->keys.stem[0].s, tx->keys.stem[1].s,
                          tx->keys.stem[2].s};
    kt_store_result_t r =
        kt_store_eval_call (store, ids->snapshot, RISK_TX_NKEYS, tx->keys.argv, 4, head);
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
        if (tx->fault[0])
            snprintf (why, whylen, "risk commit: %s", tx->fault);
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
