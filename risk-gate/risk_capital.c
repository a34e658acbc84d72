/*  risk_capital - the decision and the account scripts: the account rules in C on the
 *  view, committed with one versioned EVALSHA (risk_tx); the snapshot that reads the
 *  account and the book; the settling of held orders from the book (a fill, an end);
 *  and the settling of decisions whose outcome is unknown (resolve).
 *
 *  Design overview. Redis holds the truth (keys under the prefix, see docs/risk-gate.md):
 *  the book (exec-gateway's, common/kt_book: positions, orders, fills, realised P&L)
 *  and risk-gate's own keys beside it: risk:state, capital, risk:kill, one intent:<id>
 *  hash per decided intent (the orders it holds in set risk:open), rate windows as
 *  lists of ns timestamps (newest first, trimmed to their limit), per-minute P&L marks,
 *  last prices (risk:px) and the `events` stream. A script runs alone in Redis and the
 *  commit applies only on the account and book versions the rules read, so two
 *  risk-gate instances (or two quick intents, or a fill in between) can never both take
 *  the last slot. Every key name reaches the scripts from its declaration (KEYS and
 *  stems, risk_tx_keys). No rule and no arithmetic runs in Lua: they are C's. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "risk.h"

//  Shared by every script: keys (KEYS, risk_tx_keys), the stems of the keys named by an
//  argument, exact helpers and the snapshot.
static const char s_prelude[] =
    "local P, SPOS, SORD, SINT = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
    "local function K(s) return P .. s end\n"
    "local function I(x) return string.format('%d', x) end\n"
    "local function num(x) if not x then return 0 end return tonumber(x) or 0 end\n"
    "local function hgetall(key)\n"
    "  local t = redis.call('HGETALL', key)\n"
    "  local h = {}\n"
    "  for i = 1, #t, 2 do h[t[i]] = t[i + 1] end\n"
    "  return h\n"
    "end\n"
    "-- every change of what the rules read moves the account's version (risk_tx.c)\n"
    "local function bump() redis.call('HINCRBY', KEYS[1], 'version', 1) end\n"
    "local function event(...)\n"
    "  redis.call('XADD', KEYS[14], 'MAXLEN', '~', '100000', '*', ...)\n"
    "end\n"
    "local function snapshot()\n"
    "  local pos, bord, held = {}, {}, {}\n"
    "  for _, s in ipairs(redis.call('SMEMBERS', KEYS[5])) do\n"
    "    pos[#pos + 1] = redis.call('HGETALL', SPOS .. s)\n"
    "  end\n"
    "  for _, c in ipairs(redis.call('SMEMBERS', KEYS[6])) do\n"
    "    bord[#bord + 1] = redis.call('HGETALL', SORD .. c)\n"
    "  end\n"
    "  for _, c in ipairs(redis.call('SMEMBERS', KEYS[7])) do\n"
    "    held[#held + 1] = {c, redis.call('HGETALL', SINT .. c),\n"
    "                       redis.call('HGETALL', SORD .. c)}\n"
    "  end\n"
    "  return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]),\n"
    "          redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4]), pos, bord,\n"
    "          held, redis.call('LRANGE', KEYS[8], 0, -1),\n"
    "          redis.call('LRANGE', KEYS[9], 0, -1), redis.call('LRANGE', KEYS[10], 0, -1),\n"
    "          redis.call('LRANGE', KEYS[11], 0, -1), redis.call('HGETALL', KEYS[12]),\n"
    "          redis.call('HGETALL', KEYS[13])}\n"
    "end\n";

static const char s_snapshot_lua[] = "return snapshot()\n";

//  resolve: ARGV after the prefix and stems: now, intent_id, mode ("refuse" or "sent"),
//  verdict, qty, coid, TTL, instance name, the number of reasons, then each reason's
//  code and text. Settles a decision whose outcome risk-gate does not know with the
//  answer the caller got (risk_capital_resolve).
enum { V_NOW = 5, V_ID, V_MODE, V_VERDICT, V_QTY, V_COID, V_TTL, V_SRC, V_NREASONS, V_REASONS };

_Static_assert(V_REASONS == 14, "resolve ARGV layout changed: update the Lua indices");

static const char s_resolve_lua[] =
    "local now, id, mode = ARGV[5], ARGV[6], ARGV[7]\n"
    "local st, okey = KEYS[1], KEYS[7]\n"
    "local ikey = SINT .. id\n"
    "local O = hgetall(ikey)\n"
    "local held = redis.call('SISMEMBER', okey, id) == 1\n"
    "local res = 1\n"
    "local function record()\n"
    "  local n = num(ARGV[13])\n"
    "  local f = {'verdict', ARGV[8], 'qty', ARGV[9], 'coid', ARGV[10], 'nreasons', I(n),\n"
    "             'state', redis.call('HGET', st, 'state') or ''}\n"
    "  for j = 1, n do\n"
    "    f[#f + 1] = 'code' .. j; f[#f + 1] = ARGV[12 + 2 * j]\n"
    "    f[#f + 1] = 'text' .. j; f[#f + 1] = ARGV[13 + 2 * j]\n"
    "  end\n"
    "  redis.call('HSET', ikey, unpack(f))\n"
    "  for j = n + 1, 8 do redis.call('HDEL', ikey, 'code' .. j, 'text' .. j) end\n"
    "  if not O.ts_ns then redis.call('HSET', ikey, 'ts_ns', now) end\n"
    "end\n"
    "if mode == 'sent' then\n"
    "  if held then\n"
    "    if num(O.sent_ns) ~= 0 then return {'0', snapshot()} end\n"
    "    -- the script's quantity may differ from the one decided without it\n"
    "    local q = num(ARGV[9])\n"
    "    if O.kind == 'exit' and q ~= num(O.oqty) then redis.call('HSET', ikey, 'oqty', I(q)) end\n"
    "    record()\n"
    "    redis.call('HSET', ikey, 'sent_ns', now)\n"
    "    bump()\n"
    "  else\n"
    "    record()\n"
    "    redis.call('EXPIRE', ikey, ARGV[11])\n"
    "  end\n"
    "  return {I(res), snapshot()}\n"
    "end\n"
    "-- refuse: never what was sent\n"
    "if held and num(O.sent_ns) ~= 0 then return {'-1', snapshot()} end\n"
    "if not held and (O.verdict == 'BLOCK' or O.verdict == 'HALT') then\n"
    "  return {'0', snapshot()}\n"
    "end\n"
    "if held then\n"
    "  res = 2\n"
    "  redis.call('HSET', ikey, 'resv', '0', 'pending', '0', 'status', 'refused')\n"
    "  redis.call('SREM', okey, id)\n"
    "end\n"
    "record()\n"
    "bump()\n"
    "redis.call('EXPIRE', ikey, ARGV[11])\n"
    "event('type', 'risk.refused', 'intent_id', id, 'reason', ARGV[14] or '',\n"
    "      'released', held and '1' or '0', 'src', ARGV[12])\n"
    "return {I(res), snapshot()}\n";

// ---- argument vectors -------------------------------------------------------------------

#define S_ARG_LEN 48

//  Fixed argument storage: numbers printed into slots, strings borrowed.
struct s_args {
    const char *v[64];
    char num[64][S_ARG_LEN];
    int n;
};

static void
s_set (struct s_args *a, int i, const char *s)
{
    a->v[i - 1] = s ? s : "";
    if (i > a->n)
        a->n = i;
}

static void
s_seti (struct s_args *a, int i, int64_t x)
{
    snprintf (a->num[i - 1], S_ARG_LEN, "%lld", (long long) x);
    s_set (a, i, a->num[i - 1]);
}

static char *
s_build (const char *body)
{
    size_t n = strlen (s_prelude) + strlen (body) + 1;
    char *s = malloc (n);
    if (!s)
        abort ();
    snprintf (s, n, "%s%s", s_prelude, body);
    return s;
}

int
risk_capital_register (kt_store_t *store, struct risk_scripts *ids)
{
    const char *names[3] = {"risk_snapshot", "risk_commit", "risk_resolve"};
    int out[3];
    for (int i = 0; i < 3; i++) {
        //  the commit has its own few locals, made from the record layouts (risk_tx.c)
        char why[160];
        char *lua = i == 0   ? s_build (s_snapshot_lua)
                    : i == 2 ? s_build (s_resolve_lua)
                             : risk_tx_script (risk_reserve_layouts, RISK_RESERVE_NLAYOUTS, why,
                                               sizeof why);
        if (!lua) {
            kt_log_error ("risk.script", KT_S ("why", why), KT_END);
            return -1;
        }
        out[i] = kt_store_script (store, names[i], lua);
        free (lua);
        if (out[i] < 0)
            return -1;
    }
    ids->snapshot = out[0];
    ids->commit = out[1];
    ids->resolve = out[2];
    return 0;
}

//  The arguments every account script starts with: the prefix and the stems.
static void
s_head (struct s_args *a, const struct risk_tx_keys *k)
{
    s_set (a, 1, k->prefix);
    for (int i = 0; i < 3; i++)
        s_set (a, 2 + i, k->stem[i].s);
}

//  Run script id with the account keys; an answer that is not an array (a transport
//  failure, an error) is refused with its reason. Returns the owned result, or a NIL
//  one (freed already) with why set.
static kt_store_result_t
s_eval (kt_store_t *store, int id, struct risk_tx_keys *k, struct s_args *a, char *why,
        size_t whylen)
{
    kt_store_result_t r = kt_store_eval_call (store, id, RISK_TX_NKEYS, k->argv, a->n, a->v);
    if (r.kind == KT_STORE_ARR)
        return r;
    if (r.kind == KT_STORE_DOWN)
        snprintf (why, whylen, "redis: %s", r.str);
    else if (r.kind == KT_STORE_ERR)
        snprintf (why, whylen, "redis script: %.200s", r.str);
    else
        snprintf (why, whylen, "redis script: unexpected reply type %d", (int) r.kind);
    kt_store_result_free (&r);
    r.kind = KT_STORE_NIL;
    return r;
}

int
risk_capital_snapshot (kt_store_t *store, const struct risk_scripts *ids, struct risk_view *view,
                       char *why, size_t whylen)
{
    struct risk_tx_keys k;
    risk_tx_keys (kt_store_prefix (store), &k);
    struct s_args a;
    memset (&a, 0, sizeof a);
    s_head (&a, &k);
    kt_store_result_t r = s_eval (store, ids->snapshot, &k, &a, why, whylen);
    if (r.kind != KT_STORE_ARR)
        return -1;
    int rc = risk_view_parse (&r, view, why, whylen);
    kt_store_result_free (&r);
    return rc;
}

int
risk_capital_decide (kt_store_t *store, const struct risk_scripts *ids, const struct risk_cfg *cfg,
                     const struct risk_decide_req *req, struct risk_view *view, struct risk_tx *tx,
                     struct risk_decided *out, char *why, size_t whylen)
{
    const struct kt_intent *in = req->intent;
    struct risk_reserve_req rr = {in, req->coid, req->itype, req->now_ns, req->src};
    int redecided = 0;
    for (int attempt = 0; attempt < RISK_DECIDE_TRIES; attempt++, redecided++) {
        if (!view->loaded || view->overflow) {
            snprintf (why, whylen, "%s",
                      view->overflow ? "book larger than risk-gate holds" : "account not loaded");
            return -2;
        }
        risk_kind_t kind = risk_check_kind (view, in);
        bool entry = kind == RISK_KIND_ENTRY || kind == RISK_KIND_MODIFY_ENTRY;
        struct risk_result res = entry ? *req->as_entry : *req->as_reduce;
        res.kind = kind;
        risk_check_account (view, cfg, in, req->itype, req->now_ns, req->unrealised, &res);
        risk_tx_begin (tx, kt_store_prefix (store), view->version, entry ? view->kill : -1,
                       in->intent_id);
        risk_tx_book (tx, view->book_ver);
        risk_reserve_build (view, cfg, &rr, &res, tx, false, out);
        risk_tx_flags (tx, false, true); //  the writes move the version themselves
        struct risk_tx_dup dup;
        risk_tx_rc_t rc = risk_tx_commit (store, ids, tx, view, &dup, why, whylen);
        if (rc == RISK_TX_OK) {
            risk_reserve_build (view, cfg, &rr, &res, NULL, true, out);
            out->redecided = redecided;
            return 0;
        }
        if (rc == RISK_TX_STALE)
            continue; //  the account moved: decide again on what it is now
        if (rc == RISK_TX_FAIL)
            return -1;
        memset (out, 0, sizeof *out);
        out->duplicate = true;
        out->verdict = kt_verdict_parse (dup.verdict);
        out->qty = dup.qty;
        out->nreasons = dup.nreasons;
        for (int i = 0; i < dup.nreasons; i++) {
            out->reasons[i].code = dup.reasons[i].code;
            out->reasons[i].outcome = dup.reasons[i].outcome;
            snprintf (out->reasons[i].text, sizeof out->reasons[i].text, "%s", dup.reasons[i].text);
        }
        out->state = kt_state_parse (dup.state);
        snprintf (out->coid, sizeof out->coid, "%s", dup.coid);
        out->kind = risk_kind_parse (dup.kind);
        if (out->verdict == KT_VERDICT_NONE) {
            snprintf (why, whylen, "decide: stored verdict '%s' unknown", dup.verdict);
            return -1;
        }
        return 0;
    }
    snprintf (why, whylen, "the account changed under %d decisions in a row", RISK_DECIDE_TRIES);
    return -2;
}

//  A reason of our own making starts with one of our codes ("STORE_DOWN: ...").
bool
risk_capital_our_reason (const char *reason)
{
    char code[KT_CODE_LEN];
    size_t n = strcspn (reason, ":");
    if (n == 0 || n >= sizeof code || reason[n] != ':')
        return false;
    memcpy (code, reason, n);
    code[n] = '\0';
    int c = kt_reason_parse (code);
    return c > 0 && c != KT_R_BROKER;
}

static const char *
s_status_word (kt_ord_status_t st)
{
    switch (st) {
        case KT_OS_FILLED:
            return "filled";
        case KT_OS_CANCELLED:
            return "cancelled";
        case KT_OS_REJECTED:
            return "rejected";
        case KT_OS_EXPIRED:
            return "expired";
        default:
            return "";
    }
}

static kt_ord_status_t
s_status_of (kt_exec_kind_t ev)
{
    switch (ev) {
        case KT_EXEC_FILLED:
            return KT_OS_FILLED;
        case KT_EXEC_CANCELLED:
            return KT_OS_CANCELLED;
        case KT_EXEC_REJECTED:
            return KT_OS_REJECTED;
        case KT_EXEC_EXPIRED:
            return KT_OS_EXPIRED;
        default:
            return KT_OS_NONE;
    }
}

//  How a held order ends: the book's final status, else a terminal event of it that
//  the book has no record for (exec-gateway refused it before recording it).
static kt_ord_status_t
s_final (const struct risk_order *o, const struct risk_settle_ev *ev)
{
    if (o->in_book)
        return kt_ord_status_is_final ((kt_ord_status_t) o->book_status)
                   ? (kt_ord_status_t) o->book_status
                   : KT_OS_NONE;
    return ev ? s_status_of (ev->event) : KT_OS_NONE;
}

bool
risk_capital_settle_needed (const struct risk_view *view)
{
    for (int i = 0; i < view->nord; i++) {
        const struct risk_order *o = &view->ord[i];
        if (o->book_filled > o->rec_filled || s_final (o, NULL) != KT_OS_NONE)
            return true;
    }
    return false;
}

//  The writes that bring the held orders up to the book (and ev, the event that
//  arrived, may be NULL): an entry's first fill counts as a trade and frees its slot,
//  the filled quantity and what stays reserved are recorded, an ended order leaves
//  risk:open, and a broker rejection of an entry counts toward REJECTS. Into tx unless
//  NULL; onto *v when apply (once with tx, then, committed, once with apply on the same
//  view: the view becomes what a snapshot would read, without reading it). Returns the
//  number of orders written.
static int
s_settle_build (struct risk_view *v, const struct risk_cfg *cfg, const struct risk_settle_ev *ev,
                int64_t now_ns, struct risk_tx *tx, bool apply, struct risk_applied *out)
{
    int n = 0, trades = 0, rejects = 0, kept = 0;
    for (int i = 0; i < v->nord; i++) {
        struct risk_order *o = &v->ord[i];
        bool its = ev && strcmp (ev->coid, o->coid) == 0;
        kt_ord_status_t fin = s_final (o, its ? ev : NULL);
        bool filled = o->filled > o->rec_filled;
        if (!its && !filled && fin == KT_OS_NONE) {
            if (apply)
                v->ord[kept++] = *o;
            continue;
        }
        n++;
        risk_tx_key (tx, "HSET", &kt_key_risk_intent, o->coid);
        if (its) {
            risk_tx_pair (tx, "answered", "1");
            risk_tx_pair_i64 (tx, "event_ns", now_ns);
        }
        if (filled) {
            risk_tx_pair_i64 (tx, "filled", o->filled);
            risk_tx_pair_i64 (tx, "resv", o->resv);
            risk_tx_pair (tx, "pending", "0");
            if (o->kind == RISK_KIND_ENTRY && o->rec_filled == 0)
                trades++;
        }
        if (apply && its) {
            o->answered = true;
            o->event_ns = now_ns;
        }
        if (apply && filled) {
            o->rec_filled = o->filled;
            o->rec_resv = o->resv;
            o->rec_pending = false;
        }
        if (fin == KT_OS_NONE) {
            if (apply)
                v->ord[kept++] = *o;
            continue;
        }
        risk_tx_pair (tx, "resv", "0");
        risk_tx_pair (tx, "pending", "0");
        risk_tx_pair (tx, "status", s_status_word (fin));
        risk_tx_key (tx, "SREM", &kt_key_risk_open, NULL);
        risk_tx_str (tx, o->coid);
        risk_tx_key (tx, "EXPIRE", &kt_key_risk_intent, o->coid);
        risk_tx_i64 (tx, cfg->intent_ttl_s);
        bool broker = its ? ev->count_reject : !risk_capital_our_reason (o->book_reason);
        if (fin == KT_OS_REJECTED && o->kind == RISK_KIND_ENTRY && broker)
            rejects++;
    }
    if (apply)
        v->nord = kept; //  an ended order left risk:open
    //  A trade is an entry that filled: TRADES_DAY / TRADES_HOUR count its first fill.
    if (trades) {
        risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
        risk_tx_pair_i64 (tx, "trades_day", v->trades_day + trades);
        if (apply)
            v->trades_day += trades;
    }
    //  TRADES_HOUR reads only the newest max_trades_hour: the window keeps no more (a
    //  longer list only makes every snapshot larger).
    for (int i = 0, len = v->nentries_ts; i < trades; i++) {
        int was = len;
        len = risk_reserve_window (tx, apply, &kt_key_risk_ts_entries, v->entries_ts,
                                   apply ? &v->nentries_ts : &was, cfg->max_trades_hour, now_ns);
    }
    int keep_rejects = cfg->max_rejects > 0 ? cfg->max_rejects : 1;
    for (int i = 0; i < rejects; i++) {
        risk_tx_key (tx, "LPUSH", &kt_key_risk_ts_rejects, NULL);
        risk_tx_i64 (tx, now_ns);
        if (apply) {
            int len = v->nrejects_ts < RISK_TS_MAX ? v->nrejects_ts + 1 : RISK_TS_MAX;
            memmove (v->rejects_ts + 1, v->rejects_ts,
                     (size_t) (len - 1) * sizeof v->rejects_ts[0]);
            v->rejects_ts[0] = now_ns;
            v->nrejects_ts = len;
        }
    }
    if (rejects) {
        risk_tx_key (tx, "LTRIM", &kt_key_risk_ts_rejects, NULL);
        risk_tx_i64 (tx, 0);
        risk_tx_i64 (tx, keep_rejects - 1);
        if (apply && v->nrejects_ts > keep_rejects)
            v->nrejects_ts = keep_rejects;
    }
    if (out)
        out->reject_counted = out->reject_counted || rejects > 0;
    if (apply)
        risk_view_derive (v);
    return n;
}

int
risk_capital_settle (kt_store_t *store, const struct risk_scripts *ids, const struct risk_cfg *cfg,
                     const struct risk_settle_ev *ev, int64_t now_ns, struct risk_applied *out,
                     struct risk_view *view, char *why, size_t whylen)
{
    memset (out, 0, sizeof *out);
    why[0] = '\0';
    int64_t closed = view->loaded ? view->book_trades_closed : -1;
    if (risk_capital_snapshot (store, ids, view, why, whylen) != 0)
        return -1;
    struct risk_tx *tx = calloc (1, sizeof *tx);
    if (!tx)
        abort ();
    int rc = -1;
    for (int attempt = 0; attempt < RISK_DECIDE_TRIES; attempt++) {
        risk_tx_begin (tx, kt_store_prefix (store), view->version, -1, NULL);
        risk_tx_book (tx, view->book_ver);
        struct risk_applied a;
        memset (&a, 0, sizeof a);
        if (s_settle_build (view, cfg, ev, now_ns, tx, false, &a) == 0) {
            rc = 0;
            break;
        }
        //  No second read: the commit applies only on the account and book just read, so
        //  the view after it is this one with the same writes (s_settle_build, apply).
        risk_tx_flags (tx, false, false);
        risk_tx_rc_t t = risk_tx_commit (store, ids, tx, view, NULL, why, whylen);
        if (t == RISK_TX_STALE)
            continue;
        if (t == RISK_TX_OK) {
            (void) s_settle_build (view, cfg, ev, now_ns, NULL, true, NULL);
            rc = 0;
            out->changed = true;
            out->reject_counted = a.reject_counted;
        }
        break;
    }
    if (rc != 0 && !why[0])
        snprintf (why, whylen, "the account changed under %d settlements in a row",
                  RISK_DECIDE_TRIES);
    free (tx);
    if (rc == 0 && closed >= 0 && view->book_trades_closed > closed) {
        out->trade_closed = true;
        out->trade_pnl = view->book_last_trade;
    }
    return rc;
}

int
risk_capital_mark_sent (kt_store_t *store, const char *coid, const struct kt_order_cmd *cmd,
                        int64_t now_ns)
{
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_risk_intent, coid);
    char num[5][24];
    snprintf (num[0], sizeof num[0], "%lld", (long long) now_ns);
    const char *argv[20] = {"HSET", key.s, "sent_ns", num[0]};
    int argc = 4;
    if (cmd) {
        //  The order as sent: what the sweep needs to ask again (s_command_of).
        snprintf (num[1], sizeof num[1], "%lld", (long long) cmd->price);
        snprintf (num[2], sizeof num[2], "%lld", (long long) cmd->trigger);
        snprintf (num[3], sizeof num[3], "%lld", (long long) (cmd->has_stop ? cmd->stop_price : 0));
        snprintf (num[4], sizeof num[4], "%lld", (long long) cmd->r_value);
        const char *more[] = {
            "order_type",  cmd->order_type == KT_OT_NONE ? "" : kt_order_type_str (cmd->order_type),
            "price",       num[1],
            "trigger",     num[2],
            "product",     cmd->product == KT_PROD_NONE ? "" : kt_product_str (cmd->product),
            "stop_price",  num[3],
            "r_value",     num[4],
            "exit_reason", cmd->reason == KT_EXIT_NONE ? "" : kt_exit_reason_str (cmd->reason)};
        for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
            argv[argc++] = more[i];
    }
    kt_store_result_t r = kt_store_call (store, argc, argv, NULL);
    int rc = r.kind == KT_STORE_INT ? 0 : -1;
    kt_store_result_free (&r);
    return rc;
}

int
risk_capital_resolve (kt_store_t *store, const struct risk_scripts *ids, const struct risk_cfg *cfg,
                      const char *intent_id, const struct risk_decided *d, int64_t now_ns,
                      const char *src, int *result, struct risk_view *view, char *why,
                      size_t whylen)
{
    struct risk_tx_keys k;
    risk_tx_keys (kt_store_prefix (store), &k);
    struct s_args a;
    memset (&a, 0, sizeof a);
    bool sent = d->verdict == KT_VERDICT_APPROVE || d->verdict == KT_VERDICT_REDUCE;
    s_head (&a, &k);
    s_seti (&a, V_NOW, now_ns);
    s_set (&a, V_ID, intent_id);
    s_set (&a, V_MODE, sent ? "sent" : "refuse");
    s_set (&a, V_VERDICT, kt_verdict_str (d->verdict));
    s_seti (&a, V_QTY, sent ? d->qty : 0);
    s_set (&a, V_COID, sent ? d->coid : "");
    s_seti (&a, V_TTL, cfg->intent_ttl_s);
    s_set (&a, V_SRC, src);
    int n = d->nreasons < KT_REASONS_MAX ? d->nreasons : KT_REASONS_MAX;
    s_seti (&a, V_NREASONS, n);
    for (int i = 0; i < n; i++) {
        s_set (&a, V_REASONS + 2 * i, kt_reason_str (d->reasons[i].code));
        s_set (&a, V_REASONS + 2 * i + 1, d->reasons[i].text);
    }
    kt_store_result_t r = s_eval (store, ids->resolve, &k, &a, why, whylen);
    if (r.kind != KT_STORE_ARR)
        return -1;
    int rc = -1;
    kt_store_result_t res = kt_store_result_at (&r, 0), snap = kt_store_result_at (&r, 1);
    int64_t x = 0;
    if (r.elements != 2 || kt_store_result_i64 (&res, &x) != 0)
        snprintf (why, whylen, "resolve: expected {result, snapshot}");
    else {
        *result = (int) x;
        rc = risk_view_parse (&snap, view, why, whylen);
    }
    kt_store_result_free (&r);
    return rc;
}

int
risk_capital_mark_unresolved (kt_store_t *store, const char *coid)
{
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_risk_intent, coid);
    struct kt_skey open = kt_schema_key (kt_store_prefix (store), &kt_key_risk_open, NULL);
    //  Only while the reservation is open: a late mark must not resurrect a closed one.
    const char *argv[] = {"EVAL",
                          "if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then "
                          "redis.call('HSET', KEYS[1], 'unresolved', '1') return 1 end "
                          "return 0",
                          "2",
                          key.s,
                          open.s,
                          coid};
    kt_store_result_t r = kt_store_call (store, 6, argv, NULL);
    int rc = r.kind == KT_STORE_INT ? 0 : -1;
    kt_store_result_free (&r);
    return rc;
}
