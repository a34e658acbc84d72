/*  risk_view - the account as read from Redis in one snapshot, as a plain struct.
 *
 *  Used by the core (after every script that changes the account, and on each poll),
 *  by tradectl-like tests and by the property test (a second core must load the same
 *  view). The reply layout is written by the Lua snapshot in risk_capital.c:
 *    { state-hash, capital-hash, kill-hash, {pos-hash...}, {order-fields...},
 *      orders-ts, modifies-ts, entries-ts, rejects-ts, marks-hash }
 *  Hashes arrive flat (field, value, ...). Numbers are decimal strings; a missing field
 *  reads as 0 (session_ok as 1). Fixed arrays: more positions or orders than fit set
 *  `overflow`, and the core then fails closed. No allocation. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt_risk.h"
#include "risk.h"

static int64_t
s_i64 (const redisReply *r)
{
    if (!r)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll (r->str, NULL, 10);
    return 0;
}

static const char *
s_str (const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? r->str : "";
}

static kt_itype_t
s_itype (const char *s)
{
    if (strcmp (s, "CE") == 0)
        return KT_ITYPE_CE;
    if (strcmp (s, "PE") == 0)
        return KT_ITYPE_PE;
    if (strcmp (s, "FUT") == 0)
        return KT_ITYPE_FUT;
    if (strcmp (s, "EQ") == 0)
        return KT_ITYPE_EQ;
    return KT_ITYPE_OTHER;
}

static bool
s_is_hash (const redisReply *r)
{
    return r && r->type == REDIS_REPLY_ARRAY && r->elements % 2 == 0;
}

static void
s_copy (char *dst, size_t cap, const char *src)
{
    snprintf (dst, cap, "%s", src);
}

//  A flat hash reply into a record declared by k (common/kt_risk.h): the field names
//  live in the declaration only. A value that does not parse leaves its field as it was.
static void
s_record (const redisReply *h, const kt_schema_key_t *k, void *rec)
{
    char why[96];
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *f = h->element[i], *v = h->element[i + 1];
        if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING)
            (void) kt_schema_set (k, rec, f->str, f->len, v->str, v->len, why, sizeof why);
    }
}

static void
s_parse_state (const redisReply *h, struct risk_view *v)
{
    struct kt_risk_state_rec st;
    memset (&st, 0, sizeof st);
    st.session_ok = true; //  a new account's session is valid until a TokenException
    s_record (h, &kt_key_risk_state, &st);
    v->state = kt_state_parse (st.state);
    s_copy (v->reason, sizeof v->reason, st.reason);
    v->since_ns = st.since_ns;
    v->day_scoped = strcmp (st.scope, "day") == 0;
    v->session_ok = st.session_ok;
    v->day = (int) st.day;
    v->week_start_ns = st.week_start_ns;
    v->day_start_equity = st.day_start_equity;
    v->week_start_equity = st.week_start_equity;
    v->day_start_unrealised = st.day_start_unrealised;
    v->week_start_unrealised = st.week_start_unrealised;
    v->realised_day = st.realised_day;
    v->realised_week = st.realised_week;
    v->peak_equity = st.peak_equity;
    v->consec_losses = st.consec_losses;
    v->trades_day = st.trades_day;
    v->last_entry_ns = st.last_entry_ns;
    v->units_total = st.units_total;
    v->units_ce = st.units_ce;
    v->units_pe = st.units_pe;
    v->halt_seq = st.halt_seq;
    v->version = st.version;
}

static void
s_parse_capital (const redisReply *h, struct risk_view *v)
{
    struct kt_risk_capital_rec c;
    memset (&c, 0, sizeof c);
    s_record (h, &kt_key_risk_capital, &c);
    v->initial = c.initial;
    v->realised_total = c.realised_total;
    v->reserved = c.reserved;
    v->deployed = c.deployed;
}

static void
s_parse_kill (const redisReply *h, struct risk_view *v)
{
    struct kt_risk_kill_rec k;
    memset (&k, 0, sizeof k);
    s_record (h, &kt_key_risk_kill, &k);
    v->kill = k.active;
    s_copy (v->kill_reason, sizeof v->kill_reason, k.reason);
}

static void
s_parse_pos (const redisReply *h, struct risk_pos *p)
{
    memset (p, 0, sizeof *p);
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *f = s_str (h->element[i]);
        const redisReply *val = h->element[i + 1];
        if (strcmp (f, "sym") == 0)
            s_copy (p->sym, sizeof p->sym, s_str (val));
        else if (strcmp (f, "itype") == 0)
            p->itype = s_itype (s_str (val));
        else if (strcmp (f, "qty") == 0)
            p->qty = s_i64 (val);
        else if (strcmp (f, "basis") == 0)
            p->basis = s_i64 (val);
        else if (strcmp (f, "cost") == 0)
            p->cost = s_i64 (val);
        else if (strcmp (f, "pending") == 0)
            p->pending = s_i64 (val);
        else if (strcmp (f, "exiting") == 0)
            p->exiting = s_i64 (val);
        else if (strcmp (f, "realised") == 0)
            p->realised = s_i64 (val);
        else if (strcmp (f, "trade_pnl") == 0)
            p->trade_pnl = s_i64 (val);
        else if (strcmp (f, "last_px") == 0)
            p->last_px = s_i64 (val);
        else if (strcmp (f, "last_px_ns") == 0)
            p->last_px_ns = s_i64 (val);
    }
}

//  Order fields in the order the snapshot's HMGET asks for them.
enum {
    O_COID,
    O_SYM,
    O_ITYPE,
    O_SIDE,
    O_KIND,
    O_OQTY,
    O_FILLED,
    O_UNIT,
    O_RESV,
    O_PENDING,
    O_ANSWERED,
    O_UNRESOLVED,
    O_SENT,
    O_DECIDED,
    O_EVENT,
    O_STOP,
    O_COUNT
};

static int
s_parse_order (const redisReply *a, struct risk_order *o)
{
    if (!a || a->type != REDIS_REPLY_ARRAY || a->elements != O_COUNT)
        return -1;
    memset (o, 0, sizeof *o);
    s_copy (o->coid, sizeof o->coid, s_str (a->element[O_COID]));
    s_copy (o->sym, sizeof o->sym, s_str (a->element[O_SYM]));
    o->itype = s_itype (s_str (a->element[O_ITYPE]));
    o->side = kt_side_parse (s_str (a->element[O_SIDE]));
    o->kind = risk_kind_parse (s_str (a->element[O_KIND]));
    o->oqty = s_i64 (a->element[O_OQTY]);
    o->filled = s_i64 (a->element[O_FILLED]);
    o->unit_cost = s_i64 (a->element[O_UNIT]);
    o->resv = s_i64 (a->element[O_RESV]);
    o->pending = s_i64 (a->element[O_PENDING]) != 0;
    o->answered = s_i64 (a->element[O_ANSWERED]) != 0;
    o->unresolved = s_i64 (a->element[O_UNRESOLVED]) != 0;
    o->sent_ns = s_i64 (a->element[O_SENT]);
    o->decided_ns = s_i64 (a->element[O_DECIDED]);
    o->event_ns = s_i64 (a->element[O_EVENT]);
    o->stop_trigger = s_i64 (a->element[O_STOP]);
    return 0;
}

//  A newest-first list of ns timestamps (LPUSH order).
static int
s_parse_ts (const redisReply *l, int64_t *ts, int *n)
{
    if (!l || l->type != REDIS_REPLY_ARRAY)
        return -1;
    *n = 0;
    for (size_t i = 0; i < l->elements && *n < RISK_TS_MAX; i++)
        ts[(*n)++] = s_i64 (l->element[i]);
    return 0;
}

int
risk_view_parse (const redisReply *r, struct risk_view *view, char *why, size_t whylen)
{
    memset (view, 0, sizeof *view);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 10) {
        snprintf (why, whylen, "snapshot: expected an array of 10");
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        if (!s_is_hash (r->element[i])) {
            snprintf (why, whylen, "snapshot: element %d is not a hash", i);
            return -1;
        }
    }
    s_parse_state (r->element[0], view);
    s_parse_capital (r->element[1], view);
    s_parse_kill (r->element[2], view);

    const redisReply *pos = r->element[3];
    if (pos->type != REDIS_REPLY_ARRAY) {
        snprintf (why, whylen, "snapshot: positions are not an array");
        return -1;
    }
    for (size_t i = 0; i < pos->elements; i++) {
        if (!s_is_hash (pos->element[i]))
            continue;
        if (view->npos == RISK_POS_MAX) {
            view->overflow = true;
            break;
        }
        s_parse_pos (pos->element[i], &view->pos[view->npos++]);
    }
    const redisReply *ord = r->element[4];
    if (ord->type != REDIS_REPLY_ARRAY) {
        snprintf (why, whylen, "snapshot: orders are not an array");
        return -1;
    }
    for (size_t i = 0; i < ord->elements; i++) {
        if (view->nord == RISK_ORD_MAX) {
            view->overflow = true;
            break;
        }
        if (s_parse_order (ord->element[i], &view->ord[view->nord]) == 0 &&
            view->ord[view->nord].coid[0])
            view->nord++;
    }
    if (s_parse_ts (r->element[5], view->orders_ts, &view->norders_ts) != 0 ||
        s_parse_ts (r->element[6], view->modifies_ts, &view->nmodifies_ts) != 0 ||
        s_parse_ts (r->element[7], view->entries_ts, &view->nentries_ts) != 0 ||
        s_parse_ts (r->element[8], view->rejects_ts, &view->nrejects_ts) != 0) {
        snprintf (why, whylen, "snapshot: a rate window is not a list");
        return -1;
    }
    const redisReply *marks = r->element[9];
    if (!s_is_hash (marks)) {
        snprintf (why, whylen, "snapshot: marks are not a hash");
        return -1;
    }
    for (size_t i = 0; i + 1 < marks->elements; i += 2) {
        int64_t m = s_i64 (marks->element[i]);
        if (m >= 0 && m < RISK_MINUTES) {
            view->has_mark[m] = true;
            view->mark[m] = s_i64 (marks->element[i + 1]);
        }
    }
    view->loaded = true;
    return 0;
}

const struct risk_pos *
risk_view_pos (const struct risk_view *view, const char *sym)
{
    for (int i = 0; i < view->npos; i++) {
        if (strcmp (view->pos[i].sym, sym) == 0)
            return &view->pos[i];
    }
    return NULL;
}

const struct risk_order *
risk_view_order (const struct risk_view *view, const char *coid)
{
    for (int i = 0; i < view->nord; i++) {
        if (strcmp (view->ord[i].coid, coid) == 0)
            return &view->ord[i];
    }
    return NULL;
}

int64_t
risk_view_units (const struct risk_view *view, const char *sym)
{
    const struct risk_pos *p = risk_view_pos (view, sym);
    if (!p)
        return 0;
    return (p->qty != 0 ? 1 : 0) + p->pending;
}

int
risk_view_count_after (const int64_t *ts, int n, int64_t cut_ns)
{
    int c = 0;
    for (int i = 0; i < n; i++) {
        if (ts[i] > cut_ns)
            c++;
    }
    return c;
}
