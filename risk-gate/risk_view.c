/*  risk_view - the account as read from Redis in one snapshot, as a plain struct, and
 *  what risk-gate derives from it.
 *
 *  Used by the core (after every script that changes the account, and on each poll),
 *  by the backtest (which keeps the same struct in memory) and by the property test (a
 *  second core must load the same view). The layout is written by the Lua snapshot in
 *  risk_capital.c:
 *    { risk:state, capital, risk:kill, book, {pos:<sym>...}, {open order:<coid>...},
 *      {{id, intent:<id>, order:<id>}...}, orders-ts, modifies-ts, entries-ts,
 *      rejects-ts, marks, risk:px }
 *  Hashes arrive flat (field, value, ...) and are read through their declarations
 *  (common/kt_risk.h, common/kt_book.h): no field is spelled here. A missing field
 *  reads as 0 (session_ok as 1). Fixed arrays: more positions or orders than fit set
 *  `overflow`, and the core then fails closed. No allocation.
 *
 *  The book (exec-gateway's, common/kt_book) is the one record of positions and fills;
 *  risk-gate's own keys hold only its decisions and the orders it holds until they end.
 *  risk_view_derive joins the two: reservations, pending slots, exit cover, deployed
 *  capital, units and the day's realised P&L and losing streak. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt_book.h"
#include "kt_margin.h"
#include "kt_risk.h"
#include "risk.h"

enum {
    S_STATE,
    S_CAPITAL,
    S_KILL,
    S_BOOK,
    S_POS,
    S_BORD,
    S_HELD,
    S_TS_ORDERS,
    S_TS_MODIFIES,
    S_TS_ENTRIES,
    S_TS_REJECTS,
    S_MARKS,
    S_PX,
    S_COUNT
};

static void
s_copy (char *dst, size_t cap, const char *src)
{
    snprintf (dst, cap, "%s", src);
}

static int64_t
s_i64 (const kt_store_result_t *r)
{
    int64_t v = 0;
    return kt_store_result_i64 (r, &v) == 0 ? v : 0;
}

static bool
s_is_hash (const kt_store_result_t *r)
{
    return r->kind == KT_STORE_ARR && r->elements % 2 == 0;
}

//  A flat hash into a record declared by k: the field names live in the declaration
//  only. A value that does not parse leaves its field as it was.
static void
s_record (const kt_store_result_t *h, const kt_schema_key_t *k, void *rec)
{
    char why[96];
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        kt_store_result_t f = kt_store_result_at (h, i), v = kt_store_result_at (h, i + 1);
        if (f.kind == KT_STORE_STR && v.kind == KT_STORE_STR)
            (void) kt_schema_set (k, rec, f.str, f.len, v.str, v.len, why, sizeof why);
    }
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

//  The type of a position the book holds, from its tradingsymbol (an option's ends in
//  CE or PE, a future's in FUT: kite-protocol 7.2).
static kt_itype_t
s_itype_of_sym (const char *sym)
{
    size_t n = strlen (sym);
    if (n > 3 && strcmp (sym + n - 3, "FUT") == 0)
        return KT_ITYPE_FUT;
    return n > 2 ? s_itype (sym + n - 2) : KT_ITYPE_OTHER;
}

static void
s_parse_state (const kt_store_result_t *h, struct risk_view *v)
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
    v->day_start_realised = st.day_start_realised;
    v->week_start_realised = st.week_start_realised;
    v->day_start_trades_closed = st.day_start_trades_closed;
    v->day_start_losing_streak = st.day_start_losing_streak;
    v->peak_equity = st.peak_equity;
    v->trades_day = st.trades_day;
    v->last_entry_ns = st.last_entry_ns;
    v->halt_seq = st.halt_seq;
    v->version = st.version;
}

static void
s_parse_small (const kt_store_result_t *cap, const kt_store_result_t *kill,
               const kt_store_result_t *book, struct risk_view *v)
{
    struct kt_risk_capital_rec c;
    memset (&c, 0, sizeof c);
    s_record (cap, &kt_key_risk_capital, &c);
    v->initial = c.initial;
    struct kt_risk_kill_rec k;
    memset (&k, 0, sizeof k);
    s_record (kill, &kt_key_risk_kill, &k);
    v->kill = k.active;
    s_copy (v->kill_reason, sizeof v->kill_reason, k.reason);
    struct kt_book_rec b;
    memset (&b, 0, sizeof b);
    s_record (book, &kt_key_book, &b);
    v->book_ver = b.ver;
    v->book_realised = b.realised;
    v->book_trades_closed = b.trades_closed;
    v->book_losing_streak = b.losing_streak;
    v->book_last_trade = b.last_trade_realised;
}

static void
s_parse_pos (const kt_store_result_t *h, struct risk_pos *p)
{
    struct kt_pos_rec r;
    memset (&r, 0, sizeof r);
    s_record (h, &kt_key_pos, &r);
    memset (p, 0, sizeof *p);
    s_copy (p->sym, sizeof p->sym, r.sym);
    p->itype = s_itype_of_sym (r.sym);
    p->qty = r.qty;
    p->basis = r.open_value;
    p->realised = r.realised;
    p->trade_pnl = r.trade_realised;
}

//  One held order: {id, intent hash, order hash (empty when the book has none)}.
static int
s_parse_held (const kt_store_result_t *a, struct risk_order *o, struct kt_order_rec *br,
              struct kt_risk_intent_rec *r)
{
    kt_store_result_t id = kt_store_result_at (a, 0), ih = kt_store_result_at (a, 1),
                      oh = kt_store_result_at (a, 2);
    if (a->kind != KT_STORE_ARR || id.kind != KT_STORE_STR || !s_is_hash (&ih) ||
        !s_is_hash (&oh) || id.len == 0 || id.len >= KT_ID_LEN || ih.elements == 0)
        return -1;
    memset (r, 0, sizeof *r);
    s_record (&ih, &kt_key_risk_intent, r);
    memset (o, 0, sizeof *o);
    memcpy (o->coid, id.str, id.len);
    s_copy (o->sym, sizeof o->sym, r->sym);
    o->itype = s_itype (r->itype);
    o->side = kt_side_parse (r->side);
    o->kind = risk_kind_parse (r->kind);
    o->oqty = r->oqty;
    o->unit_cost = r->unit_cost;
    o->rec_filled = r->filled;
    o->rec_resv = r->resv;
    o->rec_pending = r->pending != 0;
    o->answered = r->answered != 0;
    o->unresolved = r->unresolved != 0;
    o->sent_ns = r->sent_ns;
    o->decided_ns = r->ts_ns;
    o->event_ns = r->event_ns;
    o->stop_trigger = r->stop_trigger;
    memset (br, 0, sizeof *br);
    s_record (&oh, &kt_key_order, br);
    o->in_book = oh.elements > 0;
    o->book_filled = br->filled_qty;
    o->book_status = br->status;
    s_copy (o->book_reason, sizeof o->book_reason, br->reason);
    return 0;
}

//  A newest-first list of ns timestamps (LPUSH order).
static int
s_parse_ts (const kt_store_result_t *l, int64_t *ts, int *n)
{
    if (l->kind != KT_STORE_ARR)
        return -1;
    *n = 0;
    for (size_t i = 0; i < l->elements && *n < RISK_TS_MAX; i++) {
        kt_store_result_t e = kt_store_result_at (l, i);
        ts[(*n)++] = s_i64 (&e);
    }
    return 0;
}

//  Scratch records of one parse (one allocation, not one per order).
struct s_scratch {
    struct kt_order_rec order;
    struct kt_risk_intent_rec intent;
};

static int
s_parse_lists (const kt_store_result_t *r, struct risk_view *view, struct s_scratch *sc, char *why,
               size_t whylen)
{
    kt_store_result_t pos = kt_store_result_at (r, S_POS);
    kt_store_result_t bord = kt_store_result_at (r, S_BORD);
    kt_store_result_t held = kt_store_result_at (r, S_HELD);
    if (pos.kind != KT_STORE_ARR || bord.kind != KT_STORE_ARR || held.kind != KT_STORE_ARR) {
        snprintf (why, whylen, "snapshot: positions or orders are not arrays");
        return -1;
    }
    for (size_t i = 0; i < pos.elements; i++) {
        kt_store_result_t h = kt_store_result_at (&pos, i);
        if (!s_is_hash (&h) || h.elements == 0)
            continue;
        if (view->nbpos == RISK_POS_MAX) {
            view->overflow = true;
            break;
        }
        s_parse_pos (&h, &view->bpos[view->nbpos]);
        if (view->bpos[view->nbpos].sym[0] && view->bpos[view->nbpos].qty != 0)
            view->nbpos++;
    }
    for (size_t i = 0; i < bord.elements; i++) {
        kt_store_result_t h = kt_store_result_at (&bord, i);
        if (!s_is_hash (&h))
            continue;
        struct kt_order_rec *br = &sc->order;
        memset (br, 0, sizeof *br);
        s_record (&h, &kt_key_order, br);
        //  An order sliced by exec-gateway is covered by its slices (orders of their own).
        bool sliced = strcmp (br->broker_status, KT_BOOK_SLICED) == 0;
        if ((br->purpose != KT_PURPOSE_EXIT && br->purpose != KT_PURPOSE_STOP) || sliced ||
            !br->coid[0] || kt_ord_status_is_final (br->status))
            continue;
        if (view->nbord == RISK_ORD_MAX) {
            view->overflow = true;
            break;
        }
        struct risk_book_ord *b = &view->bord[view->nbord++];
        s_copy (b->coid, sizeof b->coid, br->coid);
        s_copy (b->sym, sizeof b->sym, br->sym);
        b->side = br->side;
        b->qty = br->qty;
        b->filled = br->filled_qty;
    }
    for (size_t i = 0; i < held.elements; i++) {
        if (view->nord == RISK_ORD_MAX) {
            view->overflow = true;
            break;
        }
        kt_store_result_t a = kt_store_result_at (&held, i);
        if (s_parse_held (&a, &view->ord[view->nord], &sc->order, &sc->intent) == 0)
            view->nord++;
    }
    return 0;
}

int
risk_view_parse (const kt_store_result_t *r, struct risk_view *view, char *why, size_t whylen)
{
    risk_margin_fn *margin = view->margin;
    void *margin_arg = view->margin_arg;
    memset (view, 0, sizeof *view);
    view->margin = margin;
    view->margin_arg = margin_arg;
    if (!r || r->kind != KT_STORE_ARR || r->elements != S_COUNT) {
        snprintf (why, whylen, "snapshot: expected an array of %d", S_COUNT);
        return -1;
    }
    kt_store_result_t h[S_COUNT];
    for (int i = 0; i < S_COUNT; i++)
        h[i] = kt_store_result_at (r, (size_t) i);
    const int hashes[] = {S_STATE, S_CAPITAL, S_KILL, S_BOOK, S_MARKS, S_PX};
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        if (!s_is_hash (&h[hashes[i]])) {
            snprintf (why, whylen, "snapshot: element %d is not a hash", hashes[i]);
            return -1;
        }
    }
    s_parse_state (&h[S_STATE], view);
    s_parse_small (&h[S_CAPITAL], &h[S_KILL], &h[S_BOOK], view);
    struct s_scratch *sc = malloc (sizeof *sc);
    if (!sc)
        abort ();
    int rc = s_parse_lists (r, view, sc, why, whylen);
    free (sc);
    if (rc != 0)
        return -1;
    if (s_parse_ts (&h[S_TS_ORDERS], view->orders_ts, &view->norders_ts) != 0 ||
        s_parse_ts (&h[S_TS_MODIFIES], view->modifies_ts, &view->nmodifies_ts) != 0 ||
        s_parse_ts (&h[S_TS_ENTRIES], view->entries_ts, &view->nentries_ts) != 0 ||
        s_parse_ts (&h[S_TS_REJECTS], view->rejects_ts, &view->nrejects_ts) != 0) {
        snprintf (why, whylen, "snapshot: a rate window is not a list");
        return -1;
    }
    for (size_t i = 0; i + 1 < h[S_MARKS].elements; i += 2) {
        kt_store_result_t k = kt_store_result_at (&h[S_MARKS], i),
                          x = kt_store_result_at (&h[S_MARKS], i + 1);
        int64_t m = s_i64 (&k);
        if (m >= 0 && m < RISK_MINUTES) {
            view->has_mark[m] = true;
            view->mark[m] = s_i64 (&x);
        }
    }
    for (size_t i = 0; i + 1 < h[S_PX].elements; i += 2) {
        kt_store_result_t k = kt_store_result_at (&h[S_PX], i),
                          x = kt_store_result_at (&h[S_PX], i + 1);
        for (int j = 0; k.kind == KT_STORE_STR && j < view->nbpos; j++) {
            if (strlen (view->bpos[j].sym) == k.len &&
                memcmp (view->bpos[j].sym, k.str, k.len) == 0)
                view->bpos[j].last_px = s_i64 (&x);
        }
    }
    view->loaded = true;
    risk_view_derive (view);
    return 0;
}

// ---- what risk-gate derives from the book -----------------------------------------------

static struct risk_pos *
s_pos_of (struct risk_view *v, const char *sym, kt_itype_t itype)
{
    for (int i = 0; i < v->npos; i++) {
        if (strcmp (v->pos[i].sym, sym) == 0)
            return &v->pos[i];
    }
    if (v->npos == RISK_POS_MAX) {
        v->overflow = true;
        return NULL;
    }
    struct risk_pos *p = &v->pos[v->npos++];
    memset (p, 0, sizeof *p);
    s_copy (p->sym, sizeof p->sym, sym);
    p->itype = itype != KT_ITYPE_OTHER ? itype : s_itype_of_sym (sym);
    return p;
}

static struct risk_order *
s_held (struct risk_view *v, const char *coid)
{
    for (int i = 0; i < v->nord; i++) {
        if (strcmp (v->ord[i].coid, coid) == 0)
            return &v->ord[i];
    }
    return NULL;
}

//  A held order's filled quantity, reservation and slot from its record and the book:
//  the reservation converts in proportion to what filled since the record was settled
//  (as the book's fills come), and ends with the order.
static void
s_derive_order (struct risk_order *o)
{
    bool final = o->in_book && kt_ord_status_is_final ((kt_ord_status_t) o->book_status);
    o->filled = o->book_filled > o->rec_filled ? o->book_filled : o->rec_filled;
    o->pending = o->rec_pending && o->filled == 0 && !final;
    int64_t open_before = o->oqty - o->rec_filled, delta = o->filled - o->rec_filled;
    if (final || o->rec_resv <= 0 || open_before <= 0 || delta >= open_before)
        o->resv = 0;
    else if (delta > 0)
        o->resv = o->rec_resv - risk_pnl_muldiv (o->rec_resv, delta, open_before);
    else
        o->resv = o->rec_resv;
}

static int64_t
s_cost (const struct risk_view *v, const struct risk_pos *p)
{
    if (p->qty >= 0)
        return p->basis;
    int64_t q = -p->qty;
    int64_t avg = (p->basis + q / 2) / q;
    int64_t unit =
        v->margin ? v->margin (v->margin_arg, p->sym, avg) : kt_margin_short (avg, 1, NULL);
    return unit * q;
}

void
risk_view_derive (struct risk_view *v)
{
    v->npos = 0;
    for (int i = 0; i < v->nbpos; i++) {
        struct risk_pos *p = &v->pos[v->npos++];
        *p = v->bpos[i];
        p->cost = s_cost (v, p);
        p->pending = p->exiting = 0;
    }
    v->reserved = 0;
    for (int i = 0; i < v->nord; i++) {
        struct risk_order *o = &v->ord[i];
        s_derive_order (o);
        v->reserved += o->resv;
        bool final = o->in_book && kt_ord_status_is_final ((kt_ord_status_t) o->book_status);
        if (o->pending) {
            struct risk_pos *p = s_pos_of (v, o->sym, o->itype);
            if (p)
                p->pending++;
        } else if (o->kind == RISK_KIND_EXIT && !o->in_book && o->oqty > o->filled && !final) {
            //  an exit exec-gateway has not recorded yet covers from its approval
            struct risk_pos *p = s_pos_of (v, o->sym, o->itype);
            if (p)
                p->exiting += o->oqty - o->filled;
        }
    }
    for (int i = 0; i < v->nbord; i++) {
        const struct risk_book_ord *b = &v->bord[i];
        //  an exit risk-gate holds counts at its held quantity (a cancel ends it at once)
        const struct risk_order *o = s_held (v, b->coid);
        int64_t q = o ? o->oqty : b->qty;
        struct risk_pos *p = q > b->filled ? s_pos_of (v, b->sym, KT_ITYPE_OTHER) : NULL;
        if (p)
            p->exiting += q - b->filled;
    }
    v->deployed = 0;
    v->units_total = v->units_ce = v->units_pe = 0;
    for (int i = 0; i < v->npos; i++) {
        const struct risk_pos *p = &v->pos[i];
        v->deployed += p->cost;
        int64_t u = (p->qty != 0 ? 1 : 0) + p->pending;
        v->units_total += u;
        if (p->itype == KT_ITYPE_CE)
            v->units_ce += u;
        else if (p->itype == KT_ITYPE_PE)
            v->units_pe += u;
    }
    v->realised_total = v->book_realised;
    v->realised_day = v->book_realised - v->day_start_realised;
    v->realised_week = v->book_realised - v->week_start_realised;
    //  The streak went on from the roll when every round trip since was a loss; one at
    //  or above zero restarted it today.
    int64_t closed = v->book_trades_closed - v->day_start_trades_closed;
    int64_t grew = v->book_losing_streak - v->day_start_losing_streak;
    v->consec_losses = closed <= 0 ? 0 : grew == closed ? grew : v->book_losing_streak;
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
