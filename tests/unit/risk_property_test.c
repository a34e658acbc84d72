/*  risk_property_test - random sequences of intents, fills, cancels, rejects and price
 *  moves, driven through two risk cores (two store connections, i.e. two risk-gate
 *  instances) committing to one real redis-server, with a small venue in the test that
 *  fills, cancels and rejects what the cores approve.
 *
 *  After every step: the book in Redis is consistent (aggregates = sums of the parts,
 *  the book's positions = the venue's), no limit is exceeded (positions, per type, per
 *  symbol; reserved + deployed only grows by approvals, and then within DEPLOY and
 *  MARGIN_BUFFER), and at every approval the order rate, entries per hour and day, the
 *  trading state and the loss limits allowed it. Every decision is also re-made by the
 *  pure C check on a fresh snapshot and must agree with what the core committed from
 *  its own, possibly older, view (verdict, quantity, codes): the version check makes a
 *  core decide again on the account as it is. No risk-reducing order that has
 *  something to reduce is ever blocked. Now and then a core is restarted: the new one
 *  loads the same account and, on the same prices, decides the same. Deterministic:
 *  the seed of a failing sequence is printed. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"
#include "kt_book.h"
#include "kt_testredis.h"

#define RS(x) ((int64_t) (x) *100)
#define NSYM 8
#define LOT 75
#define TICK 5
#define NSEQ 140
#define NSTEPS 110
#define MAXVORD 512
#define MAXPAST 64
#define MAXSTAMP 8192

struct vorder {
    char coid[KT_ID_LEN];
    int sym;
    kt_side_t side;
    bool entry;
    kt_purpose_t purpose;
    kt_order_type_t type;
    int64_t qty, filled, limit, trigger, value;
    bool open;
};

struct sim {
    kt_testredis_t *srv;
    kt_store_t *store[2];
    kt_store_t *obs; //  the observer: snapshots for invariants and the pure check
    struct risk_scripts obs_ids;
    risk_core_t *core[2];
    kt_instr_table_t *instr;
    struct risk_cfg cfg;
    redisContext *peek;
    uint64_t rng;
    uint64_t seed;
    int step;
    int64_t now;
    char sym[NSYM][KT_SYM_LEN];
    int64_t px[NSYM];
    int64_t px_ns[NSYM];
    int64_t vpos[NSYM]; //  the venue's positions (signed)
    struct vorder ord[MAXVORD];
    int nord;
    struct kt_intent past[MAXPAST];
    struct kt_decision past_dec[MAXPAST];
    int npast;
    int64_t approved_ts[MAXSTAMP]; //  every approved order (all kinds)
    int napproved;
    int64_t modify_ts[MAXSTAMP];
    int nmodify;
    int64_t exposure; //  reserved + deployed after the last step
    int seq_id;
    struct kt_exec_event queue[256];
    int nqueue;
    struct risk_view *pre, *post, *a, *b;
    //  what happened, printed at the end
    int64_t n_steps, n_decisions, n_approved, n_reduced, n_blocked, n_halts, n_fills, n_reducing,
        n_restarts, n_dups, n_cross, n_redecided, n_views_checked;
};

static struct sim *S;

// ---- utilities ------------------------------------------------------------------------------

static uint64_t
s_rand (void)
{
    uint64_t x = S->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    S->rng = x;
    return x * 2685821657736338717ULL;
}

static int64_t
s_range (int64_t lo, int64_t hi)
{
    return lo + (int64_t) (s_rand () % (uint64_t) (hi - lo + 1));
}

static bool
s_chance (int pct)
{
    return s_range (1, 100) <= pct;
}

static void s_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
s_fail (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "PROPERTY FAILED (sequence %d seed %llu step %d): ", S->seq_id,
             (unsigned long long) S->seed, S->step);
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\n");
    va_end (ap);
    fail ();
}

//  Margin of a short per unit, as the cores compute it (on the strike).
static int64_t
s_margin (void *arg, const char *sym, int64_t px)
{
    (void) arg;
    return risk_pnl_short_margin (kt_instr_by_sym (S->instr, NULL, sym), px);
}

static void
s_snapshot (struct risk_view *v)
{
    v->margin = s_margin;
    char why[200];
    if (risk_capital_snapshot (S->obs, &S->obs_ids, v, why, sizeof why) != 0)
        s_fail ("snapshot: %s", why);
}

static int
s_sym_index (const char *sym)
{
    for (int i = 0; i < NSYM; i++) {
        if (strcmp (S->sym[i], sym) == 0)
            return i;
    }
    return -1;
}

// ---- the venue ----------------------------------------------------------------------------

//  What exec-gateway writes into the book before it publishes the event: the order (as
//  placed, resized, ended) and each fill, applied once by its trade id (kt_book_fill).
static void
s_book (const struct vorder *o, kt_exec_kind_t kind, int64_t last_qty, int64_t last_px)
{
    char why[200];
    struct kt_order_rec rec;
    int found = kt_book_order_get (S->obs, o->coid, &rec, why, sizeof why);
    if (found < 0)
        s_fail ("book: %s", why);
    if (found == 0) {
        memset (&rec, 0, sizeof rec);
        memcpy (rec.coid, o->coid, sizeof rec.coid);
        memcpy (rec.intent_id, o->coid, sizeof rec.intent_id);
        memcpy (rec.sym, S->sym[o->sym], sizeof rec.sym);
        rec.side = o->side;
        rec.purpose = o->purpose;
        rec.order_type = o->type;
        rec.product = KT_PROD_MIS;
        rec.qty = o->qty;
        rec.price = o->limit;
        rec.trigger = o->trigger;
        rec.status = KT_OS_OPEN;
        if (kt_book_order_create (S->obs, &rec, S->now, NULL, why, sizeof why) != 1)
            s_fail ("book create: %s", why);
    } else if (rec.qty != o->qty && !kt_ord_status_is_final (rec.status)) {
        rec.qty = o->qty;
        rec.price = o->limit;
        if (kt_book_order_update (S->obs, &rec, S->now, why, sizeof why) != 0)
            s_fail ("book update: %s", why);
    }
    if (last_qty > 0) {
        struct kt_book_fill f;
        memset (&f, 0, sizeof f);
        memcpy (f.coid, o->coid, sizeof f.coid);
        snprintf (f.trade_id, sizeof f.trade_id, "%s-%lld", o->coid, (long long) o->filled);
        f.qty = last_qty;
        f.price = last_px;
        f.ts_ns = S->now;
        struct kt_book_fill_result res;
        if (kt_book_fill (S->obs, &f, &res, why, sizeof why) != 0)
            s_fail ("book fill: %s", why);
    }
    kt_ord_status_t st = kind == KT_EXEC_CANCELLED  ? KT_OS_CANCELLED
                         : kind == KT_EXEC_REJECTED ? KT_OS_REJECTED
                         : kind == KT_EXEC_FILLED   ? KT_OS_FILLED
                                                    : KT_OS_NONE;
    if (st == KT_OS_NONE)
        return;
    if (kt_book_order_get (S->obs, o->coid, &rec, why, sizeof why) != 1)
        s_fail ("book: %s", why);
    if (rec.status != st) {
        rec.status = st;
        snprintf (rec.reason, sizeof rec.reason, "%s",
                  kind == KT_EXEC_REJECTED ? "RMS: margin exceeded" : "");
        if (kt_book_order_update (S->obs, &rec, S->now, why, sizeof why) != 0)
            s_fail ("book end: %s", why);
    }
}

static void
s_emit (const struct vorder *o, kt_exec_kind_t kind, int64_t last_qty, int64_t last_px)
{
    s_book (o, kind, last_qty, last_px);
    if (S->nqueue == (int) (sizeof S->queue / sizeof S->queue[0]))
        s_fail ("event queue full");
    struct kt_exec_event *ev = &S->queue[S->nqueue++];
    memset (ev, 0, sizeof *ev);
    memcpy (ev->coid, o->coid, sizeof ev->coid);
    memcpy (ev->sym, S->sym[o->sym], sizeof ev->sym);
    ev->side = o->side;
    ev->event = kind;
    ev->qty = o->qty;
    ev->filled_qty = o->filled;
    ev->last_qty = last_qty;
    ev->last_px = last_px;
    ev->avg_px = o->filled ? o->value / o->filled : 0;
    if (kind == KT_EXEC_REJECTED)
        snprintf (ev->reason, sizeof ev->reason, "RMS: margin exceeded");
}

static struct vorder *
s_vorder (const char *coid)
{
    for (int i = 0; i < S->nord; i++) {
        if (strcmp (S->ord[i].coid, coid) == 0)
            return &S->ord[i];
    }
    return NULL;
}

static void
s_venue_cancel (struct vorder *o)
{
    if (!o || !o->open)
        return;
    o->open = false;
    s_emit (o, KT_EXEC_CANCELLED, 0, 0);
}

//  What exec-gateway would do with a command.
static void
s_venue_command (const struct kt_order_cmd *c)
{
    int sym = s_sym_index (c->sym);
    switch (c->action) {
        case KT_ACTION_PLACE: {
            if (s_vorder (c->coid) || sym < 0 || S->nord == MAXVORD)
                return; //  a repeated coid is answered, not placed
            struct vorder *o = &S->ord[S->nord++];
            memset (o, 0, sizeof *o);
            snprintf (o->coid, sizeof o->coid, "%s", c->coid);
            o->sym = sym;
            o->side = c->side;
            o->entry = c->purpose == KT_PURPOSE_ENTRY;
            o->purpose = c->purpose;
            o->type = c->order_type;
            o->qty = c->qty;
            o->limit = c->price;
            o->trigger = c->trigger;
            o->open = true;
            s_emit (o, KT_EXEC_ACCEPTED, 0, 0);
            break;
        }
        case KT_ACTION_MODIFY: {
            struct vorder *o = s_vorder (c->ref);
            if (o && o->open && c->qty >= o->filled) {
                o->qty = c->qty;
                o->limit = c->price;
                if (o->filled == o->qty) {
                    o->open = false;
                    s_emit (o, KT_EXEC_FILLED, 0, 0);
                }
            }
            break;
        }
        case KT_ACTION_CANCEL:
            s_venue_cancel (s_vorder (c->ref));
            break;
        case KT_ACTION_CANCEL_ALL:
            for (int i = 0; i < S->nord; i++) {
                if (S->ord[i].open && S->ord[i].entry)
                    s_venue_cancel (&S->ord[i]);
            }
            break;
        default:
            break;
    }
}

static void s_deliver_queue (void);
static void s_same_view (const struct risk_view *x, const struct risk_view *y, const char *what);

//  An instance's view after it settled an event is what a snapshot reads now (it applies
//  its own writes instead of reading again), unless the account moved since.
static void
s_view_is_snapshot (int c)
{
    *S->a = *risk_core_view (S->core[c]);
    char why[200];
    S->b->margin = s_margin;
    if (risk_capital_snapshot (S->obs, &S->obs_ids, S->b, why, sizeof why) != 0)
        s_fail ("snapshot: %s", why);
    if (!S->a->loaded || S->a->version != S->b->version || S->a->book_ver != S->b->book_ver)
        return;
    S->b->kill = S->a->kill; //  set by hand in Redis (s_kill_switch), no version moves
    S->n_views_checked++;
    s_same_view (S->a, S->b, "a settled view");
}

static void
s_handle_out (const struct risk_out *out)
{
    for (int i = 0; i < out->ncmds; i++)
        s_venue_command (&out->cmds[i]);
    s_deliver_queue ();
}

//  PUB/SUB in miniature: each event reaches one instance, or both, sometimes twice.
static void
s_deliver_queue (void)
{
    while (S->nqueue > 0) {
        struct kt_exec_event ev = S->queue[0];
        memmove (S->queue, S->queue + 1, (size_t) (--S->nqueue) * sizeof S->queue[0]);
        int first = (int) s_range (0, 1);
        int copies = s_chance (60) ? 1 : s_chance (75) ? 2 : 3;
        for (int k = 0; k < copies; k++) {
            struct risk_out out;
            memset (&out, 0, sizeof out);
            risk_core_on_exec (S->core[(first + k) % 2], &ev, S->now, &out);
            s_view_is_snapshot ((first + k) % 2);
            s_handle_out (&out);
        }
    }
}

// ---- invariants ---------------------------------------------------------------------------

static int
s_count_after (const int64_t *ts, int n, int64_t cut)
{
    int c = 0;
    for (int i = n - 1; i >= 0 && ts[i] > cut; i--)
        c++;
    return c;
}

static void
s_check_book (void)
{
    struct risk_view *v = S->post;
    s_snapshot (v);
    const struct risk_cfg *cfg = &S->cfg;
    int64_t units = 0, ce = 0, pe = 0, deployed = 0, reserved = 0;
    int64_t open = 0, open_ce = 0, open_pe = 0, pend_ce = 0, pend_pe = 0;
    for (int i = 0; i < v->npos; i++) {
        const struct risk_pos *p = &v->pos[i];
        int64_t u = (p->qty != 0) + p->pending;
        units += u;
        ce += p->itype == KT_ITYPE_CE ? u : 0;
        pe += p->itype == KT_ITYPE_PE ? u : 0;
        open += p->qty != 0;
        open_ce += p->qty != 0 && p->itype == KT_ITYPE_CE;
        open_pe += p->qty != 0 && p->itype == KT_ITYPE_PE;
        pend_ce += p->itype == KT_ITYPE_CE ? p->pending : 0;
        pend_pe += p->itype == KT_ITYPE_PE ? p->pending : 0;
        deployed += p->cost;
        if (p->pending > cfg->max_per_symbol)
            s_fail ("%s has %lld pending entries > max %lld", p->sym, (long long) p->pending,
                    (long long) cfg->max_per_symbol);
        //  The slots are the held entries with no fill; the cover the book's open exits
        //  (at the quantity risk-gate holds them at) and held exits not in the book yet.
        int64_t pend = 0, exiting = 0;
        for (int j = 0; j < v->nord; j++) {
            const struct risk_order *o = &v->ord[j];
            if (strcmp (o->sym, p->sym) != 0)
                continue;
            pend += o->pending;
            if (o->kind == RISK_KIND_EXIT && !o->in_book)
                exiting += o->oqty - o->filled;
        }
        for (int j = 0; j < v->nbord; j++) {
            const struct risk_book_ord *b = &v->bord[j];
            const struct risk_order *o = risk_view_order (v, b->coid);
            int64_t q = o ? o->oqty : b->qty;
            if (strcmp (b->sym, p->sym) == 0 && q > b->filled)
                exiting += q - b->filled;
        }
        //  Open exits never cover more than the position: two that fill must not flip it.
        if (p->exiting > (p->qty < 0 ? -p->qty : p->qty))
            s_fail ("%s: exits cover %lld of a position of %lld", p->sym, (long long) p->exiting,
                    (long long) p->qty);
        if (pend != p->pending || exiting != p->exiting)
            s_fail ("%s: pending %lld / exiting %lld in the book, %lld / %lld in its orders",
                    p->sym, (long long) p->pending, (long long) p->exiting, (long long) pend,
                    (long long) exiting);
        int s = s_sym_index (p->sym);
        if (s < 0 || S->vpos[s] != p->qty)
            s_fail ("%s: book qty %lld, venue %lld", p->sym, (long long) p->qty,
                    (long long) (s < 0 ? 0 : S->vpos[s]));
        if ((p->qty > 0 && p->basis <= 0) || (p->qty == 0 && (p->basis || p->cost)))
            s_fail ("%s: basis %lld cost %lld at qty %lld", p->sym, (long long) p->basis,
                    (long long) p->cost, (long long) p->qty);
    }
    for (int s = 0; s < NSYM; s++) {
        if (S->vpos[s] != 0 && !risk_view_pos (v, S->sym[s]))
            s_fail ("%s: venue holds %lld, the book nothing", S->sym[s], (long long) S->vpos[s]);
    }
    for (int j = 0; j < v->nord; j++)
        reserved += v->ord[j].resv;
    if (units != v->units_total || ce != v->units_ce || pe != v->units_pe)
        s_fail ("units %lld/%lld/%lld, parts %lld/%lld/%lld", (long long) v->units_total,
                (long long) v->units_ce, (long long) v->units_pe, (long long) units, (long long) ce,
                (long long) pe);
    if (reserved != v->reserved || deployed != v->deployed)
        s_fail ("reserved %lld deployed %lld, parts %lld %lld", (long long) v->reserved,
                (long long) v->deployed, (long long) reserved, (long long) deployed);
    //  MAX_POS as the strategy counts: open positions per type within the limit (one
    //  pending entry per type, approved only below it); in total at most one over (a
    //  pending CE and a pending PE approved at max - 1 may both fill).
    if (open > cfg->max_positions + 1 || open_ce > cfg->max_per_type ||
        open_pe > cfg->max_per_type || pend_ce > cfg->max_pending_per_type ||
        pend_pe > cfg->max_pending_per_type)
        s_fail ("position limits exceeded: open %lld (CE %lld, PE %lld), pending CE %lld PE %lld",
                (long long) open, (long long) open_ce, (long long) open_pe, (long long) pend_ce,
                (long long) pend_pe);
    //  Trades (entries filled) plus the entries that may still fill stay within the limits.
    int64_t pend = pend_ce + pend_pe;
    int hour = 0;
    for (int i = 0; i < v->nentries_ts && i < cfg->max_trades_hour + 1; i++)
        hour += v->entries_ts[i] > S->now - 3600 * KT_NS_PER_SEC;
    if (v->trades_day + pend > cfg->max_trades_day || hour + pend > cfg->max_trades_hour)
        s_fail ("trades: %lld today, %d this hour, %lld pending", (long long) v->trades_day, hour,
                (long long) pend);
    if (v->reserved < 0 || v->deployed < 0)
        s_fail ("negative capital use");
}

//  After a step without an approved entry, capital in use can only have shrunk: fills
//  convert a reservation into at most the same amount (a buy fills at or below its
//  limit; a short takes the margin it reserved).
static void
s_check_exposure (bool approved_entry, int64_t unreal)
{
    const struct risk_view *v = S->post;
    int64_t e = v->reserved + v->deployed;
    if (approved_entry) {
        int64_t equity = v->initial + v->realised_total + unreal;
        int64_t limit = risk_pnl_muldiv (equity, S->cfg.max_deploy_bps, 10000);
        if (e > limit)
            s_fail ("DEPLOY exceeded after an approval: %lld > %lld", (long long) e,
                    (long long) limit);
        if (equity - e < S->cfg.margin_buffer)
            s_fail ("MARGIN_BUFFER broken after an approval: %lld free", (long long) (equity - e));
    } else if (e > S->exposure)
        s_fail ("capital in use grew without an approval: %lld -> %lld", (long long) S->exposure,
                (long long) e);
    S->exposure = e;
}

// ---- intents ------------------------------------------------------------------------------

static void
s_base_intent (struct kt_intent *in, kt_purpose_t p, int sym, kt_side_t side, int64_t qty)
{
    memset (in, 0, sizeof *in);
    snprintf (in->intent_id, sizeof in->intent_id, "P%03d-%05d", S->seq_id % 1000,
              S->step * 10 + (int) s_range (0, 9));
    snprintf (in->strategy, sizeof in->strategy, "P");
    snprintf (in->sym, sizeof in->sym, "%s", S->sym[sym]);
    in->side = side;
    in->qty = qty;
    in->product = KT_PROD_MIS;
    in->purpose = p;
    in->order_type = KT_OT_LIMIT;
    in->price = S->px[sym];
}

static int64_t
s_on_tick (int64_t px)
{
    return px < TICK ? TICK : px - px % TICK;
}

//  Decide through core c; check it against the pure C check on a fresh snapshot, and
//  the properties of an approval. Returns the decision.
static struct kt_decision
s_decide (int c, const struct kt_intent *in, bool dup)
{
    S->n_decisions++;
    risk_core_t *core = S->core[c];
    struct risk_view *pre = S->pre;
    s_snapshot (pre);
    int64_t unreal = risk_core_unrealised (core);
    int sym = s_sym_index (in->sym);
    struct risk_market mkt = {sym >= 0 ? kt_instr_by_sym (S->instr, NULL, in->sym) : NULL, true,
                              sym >= 0 ? S->px[sym] : 0, sym >= 0 ? S->px_ns[sym] : 0};
    struct risk_result want;
    risk_check_intent (pre, &S->cfg, in, &mkt, S->now, unreal, &want);

    struct risk_out out;
    memset (&out, 0, sizeof out);
    int64_t redecided = risk_core_counters (core)->redecided;
    risk_core_decide (core, in, S->now, &out);
    S->n_redecided += risk_core_counters (core)->redecided - redecided;
    //  As risk-gate does: the answer, then the sent marks, then the commands leave.
    if (risk_core_mark_sent (core, &out, S->now) != 0)
        s_fail ("sent mark of %s failed", in->intent_id);
    const struct kt_decision *d = &out.decision;
    if (dup) {
        S->n_dups++;
        if (out.ncmds != 0)
            s_fail ("a duplicate intent %s produced an order", in->intent_id);
        return *d;
    }
    //  The pure check on a fresh snapshot and the committed decision agree.
    char codes_c[256] = "", codes_l[256] = "";
    for (int i = 0; i < want.nreasons; i++) {
        strcat (codes_c, i ? "," : "");
        strcat (codes_c, kt_reason_str (want.reasons[i].code));
    }
    for (int i = 0; i < d->nreasons; i++) {
        strcat (codes_l, i ? "," : "");
        strcat (codes_l, d->reasons[i].code);
    }
    if (want.verdict != d->verdict || want.qty != d->qty || strcmp (codes_c, codes_l) != 0)
        s_fail ("check and decision disagree on %s (%s %s %lld): check %s %lld [%s], "
                "decided %s %lld [%s]",
                in->intent_id, kt_purpose_str (in->purpose), in->sym, (long long) in->qty,
                kt_verdict_str (want.verdict), (long long) want.qty, codes_c,
                kt_verdict_str (d->verdict), (long long) d->qty, codes_l);

    bool approved = d->verdict == KT_VERDICT_APPROVE || d->verdict == KT_VERDICT_REDUCE;
    bool entry = want.kind == RISK_KIND_ENTRY || want.kind == RISK_KIND_MODIFY_ENTRY;
    switch (d->verdict) {
        case KT_VERDICT_APPROVE:
            S->n_approved++;
            break;
        case KT_VERDICT_REDUCE:
            S->n_reduced++;
            break;
        case KT_VERDICT_HALT:
            S->n_halts++;
            break;
        default:
            S->n_blocked++;
            break;
    }
    if (approved) {
        if (S->napproved == MAXSTAMP)
            s_fail ("stamp buffer full");
        S->approved_ts[S->napproved++] = S->now;
        if (out.ncmds < 1 || strcmp (out.cmds[0].coid, in->intent_id) != 0)
            s_fail ("approved %s without its command", in->intent_id);
    }
    if (approved && entry) {
        //  Every approval of an entry happened within the limits.
        int rate = s_count_after (S->approved_ts, S->napproved, S->now - KT_NS_PER_SEC);
        if (rate > S->cfg.max_orders_per_s)
            s_fail ("ORDER_RATE: %d orders in a second", rate);
        if (pre->state != KT_STATE_ACTIVE || pre->kill || !pre->session_ok)
            s_fail ("entry approved in state %s (kill %d)", kt_state_str (pre->state), pre->kill);
        struct risk_result br;
        memset (&br, 0, sizeof br);
        if (risk_breaker_eval (pre, &S->cfg, S->now, unreal, &br) != KT_OK)
            s_fail ("entry approved past a loss limit: %s", br.reasons[0].text);
        if (want.kind == RISK_KIND_ENTRY) {
            //  the trade limits count fills: s_check_book checks them on the book
        } else {
            S->modify_ts[S->nmodify++] = S->now;
            int m = s_count_after (S->modify_ts, S->nmodify, S->now - KT_NS_PER_SEC);
            if (m > S->cfg.max_modifies_per_s)
                s_fail ("modify rate: %d in a second", m);
        }
    }
    if (!entry) {
        S->n_reducing++;
        //  Never block what reduces risk: an exit with something left to exit, a cancel.
        const struct risk_pos *p = risk_view_pos (pre, in->sym);
        bool has_room = p && p->qty != 0 && ((p->qty > 0) == (in->side == KT_SIDE_SELL)) &&
                        (p->qty > 0 ? p->qty : -p->qty) - p->exiting > 0;
        bool must_pass = in->purpose == KT_PURPOSE_CANCEL || in->purpose == KT_PURPOSE_FLATTEN ||
                         (want.kind == RISK_KIND_EXIT && has_room) || want.kind == RISK_KIND_MODIFY;
        if (must_pass && !approved)
            s_fail ("risk-reducing %s %s was refused: %s", kt_purpose_str (in->purpose),
                    in->intent_id, d->nreasons ? d->reasons[0].text : "");
        //  A modified exit is never cut below what it asks or already had.
        const struct risk_order *ro =
            want.kind == RISK_KIND_MODIFY ? risk_view_order (pre, in->ref) : NULL;
        int64_t floor_q = ro && in->qty > ro->oqty ? ro->oqty : in->qty;
        if (ro && ro->kind == RISK_KIND_EXIT && (d->qty < floor_q || d->qty > in->qty))
            s_fail ("modify %s of exit %s: qty %lld (asked %lld, had %lld)", in->intent_id, in->ref,
                    (long long) d->qty, (long long) in->qty, (long long) ro->oqty);
    }
    if (S->npast < MAXPAST) {
        S->past[S->npast] = *in;
        S->past_dec[S->npast++] = *d;
    } else if (s_chance (20)) {
        int k = (int) s_range (0, MAXPAST - 1);
        S->past[k] = *in;
        S->past_dec[k] = *d;
    }
    s_handle_out (&out);
    s_check_book ();
    s_check_exposure (approved && entry, unreal);
    return *d;
}

static void
s_entry (void)
{
    int sym = (int) s_range (0, NSYM - 1);
    kt_side_t side = s_chance (70) ? KT_SIDE_SELL : KT_SIDE_BUY;
    struct kt_intent in;
    s_base_intent (&in, KT_PURPOSE_ENTRY, sym, side, LOT * s_range (1, 6));
    int64_t px = S->px[sym];
    int sign = side == KT_SIDE_SELL ? 1 : -1;
    if (s_chance (40)) {
        in.order_type = KT_OT_SL;
        in.trigger = s_on_tick (px - sign * TICK * s_range (1, 10));
        in.price = s_on_tick (in.trigger - sign * 2 * TICK);
    } else
        in.price = s_on_tick (px + sign * TICK * s_range (0, 6));
    if (s_chance (5))
        in.price = s_on_tick (in.price * 13 / 10); //  a fat finger
    in.has_stop = true;
    in.stop_trigger = s_on_tick (in.price + sign * RS (s_range (2, 15)));
    if (in.stop_trigger <= 0)
        in.stop_trigger = TICK;
    s_decide ((int) s_range (0, 1), &in, false);
}

static void
s_exit (void)
{
    int held[NSYM], n = 0;
    for (int i = 0; i < NSYM; i++) {
        if (S->vpos[i] != 0)
            held[n++] = i;
    }
    if (n == 0)
        return;
    int sym = held[s_range (0, n - 1)];
    int64_t q = S->vpos[sym], aq = q > 0 ? q : -q;
    struct kt_intent in;
    s_base_intent (&in, s_chance (20) ? KT_PURPOSE_STOP : KT_PURPOSE_EXIT, sym,
                   q > 0 ? KT_SIDE_SELL : KT_SIDE_BUY, LOT * s_range (1, aq / LOT + 1));
    int sign = in.side == KT_SIDE_BUY ? 1 : -1;
    in.price = s_on_tick (S->px[sym] + sign * TICK * s_range (0, 4));
    s_decide ((int) s_range (0, 1), &in, false);
}

static struct vorder *
s_random_open (bool entries_only)
{
    int idx[MAXVORD], n = 0;
    for (int i = 0; i < S->nord; i++) {
        if (S->ord[i].open && (!entries_only || S->ord[i].entry))
            idx[n++] = i;
    }
    return n ? &S->ord[idx[s_range (0, n - 1)]] : NULL;
}

//  A modification of an open entry or (now and then) of an open exit or stop: the new
//  quantity may be below or above the old one, and above the position.
static void
s_modify (void)
{
    struct vorder *o = s_random_open (!s_chance (40));
    if (!o)
        return;
    struct kt_intent in;
    s_base_intent (&in, KT_PURPOSE_MODIFY, o->sym, o->side, o->filled + LOT * s_range (1, 4));
    snprintf (in.ref, sizeof in.ref, "%s", o->coid);
    in.order_type = o->type;
    int sign = o->side == KT_SIDE_SELL ? 1 : -1;
    in.price = s_on_tick (o->limit + sign * TICK * s_range (-2, 2));
    in.trigger = o->type == KT_OT_SL ? s_on_tick (in.price + sign * 2 * TICK) : 0;
    in.has_stop = o->entry;
    in.stop_trigger = o->entry ? s_on_tick (in.price + sign * RS (s_range (2, 12))) : 0;
    s_decide ((int) s_range (0, 1), &in, false);
}

static void
s_cancel_intent (void)
{
    struct vorder *o = s_random_open (false);
    if (!o)
        return;
    struct kt_intent in;
    s_base_intent (&in, KT_PURPOSE_CANCEL, o->sym, KT_SIDE_NONE, 0);
    in.order_type = KT_OT_NONE;
    snprintf (in.ref, sizeof in.ref, "%s", o->coid);
    s_decide ((int) s_range (0, 1), &in, false);
}

static void
s_duplicate (void)
{
    if (S->npast == 0)
        return;
    int k = (int) s_range (0, S->npast - 1);
    struct kt_decision d = s_decide ((int) s_range (0, 1), &S->past[k], true);
    if (d.verdict != S->past_dec[k].verdict || d.qty != S->past_dec[k].qty ||
        strcmp (d.coid, S->past_dec[k].coid) != 0)
        s_fail ("duplicate %s answered %s %lld, first %s %lld", S->past[k].intent_id,
                kt_verdict_str (d.verdict), (long long) d.qty,
                kt_verdict_str (S->past_dec[k].verdict), (long long) S->past_dec[k].qty);
    s_check_book ();
    s_check_exposure (false, 0);
}

// ---- the market ----------------------------------------------------------------------------

static void
s_tick (int sym)
{
    S->px[sym] = s_on_tick (S->px[sym] + TICK * s_range (-12, 12));
    if (S->px[sym] < RS (5))
        S->px[sym] = RS (5);
    S->px_ns[sym] = S->now;
    risk_core_on_tick (S->core[0], S->sym[sym], S->px[sym], S->now);
    risk_core_on_tick (S->core[1], S->sym[sym], S->px[sym], S->now);
}

static void
s_fill (void)
{
    struct vorder *o = s_random_open (false);
    if (!o)
        return;
    int64_t left = o->qty - o->filled;
    int64_t d = LOT * s_range (1, left / LOT);
    int sign = o->side == KT_SIDE_BUY ? -1 : 1; //  buys fill at or below the limit
    int64_t px = o->limit + sign * TICK * s_range (0, 4);
    if (px < TICK)
        px = TICK;
    o->filled += d;
    o->value += d * px;
    S->vpos[o->sym] += o->side == KT_SIDE_BUY ? d : -d;
    if (o->filled == o->qty)
        o->open = false;
    S->n_fills++;
    s_emit (o, o->open ? KT_EXEC_PARTIAL : KT_EXEC_FILLED, d, px);
    s_deliver_queue ();
}

static void
s_venue_drop (bool reject)
{
    struct vorder *o = s_random_open (false);
    if (!o)
        return;
    o->open = false;
    s_emit (o, reject && o->filled == 0 ? KT_EXEC_REJECTED : KT_EXEC_CANCELLED, 0, 0);
    s_deliver_queue ();
}

// ---- instances -----------------------------------------------------------------------------

static void
s_poll (int c)
{
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_poll (S->core[c], S->now, &out);
    s_handle_out (&out);
}

//  The reconciler agrees (it writes recon_ok_ns after a clean comparison).
static void
s_recon_ok (void)
{
    redisReply *r =
        redisCommand (S->peek, "HSET kt:recon:last session_ok 1 agree_ns %lld", (long long) S->now);
    freeReplyObject (r);
}

//  Compare two views as sets (order of positions and orders is Redis's).
static void
s_same_view (const struct risk_view *x, const struct risk_view *y, const char *what)
{
    if (x->state != y->state || x->units_total != y->units_total || x->reserved != y->reserved ||
        x->deployed != y->deployed || x->realised_day != y->realised_day ||
        x->realised_total != y->realised_total || x->peak_equity != y->peak_equity ||
        x->consec_losses != y->consec_losses || x->trades_day != y->trades_day ||
        x->npos != y->npos || x->nord != y->nord || x->norders_ts != y->norders_ts ||
        x->nentries_ts != y->nentries_ts || x->nrejects_ts != y->nrejects_ts ||
        x->kill != y->kill || x->halt_seq != y->halt_seq ||
        memcmp (x->has_mark, y->has_mark, sizeof x->has_mark) != 0 ||
        memcmp (x->mark, y->mark, sizeof x->mark) != 0)
        s_fail ("%s: a different account", what);
    for (int i = 0; i < x->npos; i++) {
        const struct risk_pos *p = risk_view_pos (y, x->pos[i].sym);
        if (!p || memcmp (p, &x->pos[i], sizeof *p) != 0)
            s_fail ("%s: position %s differs", what, x->pos[i].sym);
    }
    for (int i = 0; i < x->nord; i++) {
        const struct risk_order *o = risk_view_order (y, x->ord[i].coid);
        if (!o || memcmp (o, &x->ord[i], sizeof *o) != 0)
            s_fail ("%s: order %s differs", what, x->ord[i].coid);
    }
}

//  Kill -9 and start again: the new instance reads the same account from Redis and, on
//  the same prices, decides the same; then it waits in REDUCING for the reconciler.
static void
s_restart (void)
{
    S->n_restarts++;
    int c = (int) s_range (0, 1);
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_poll (S->core[c], S->now, &out); //  its last mark
    s_handle_out (&out);
    int64_t unreal_old = risk_core_unrealised (S->core[c]);
    *S->a = *risk_core_view (S->core[c]);
    risk_core_destroy (&S->core[c]);
    kt_store_destroy (&S->store[c]); //  a new process: a new connection

    S->store[c] = kt_store_new ("127.0.0.1", S->srv->port, "kt:", 1000);
    S->core[c] = risk_core_new (&S->cfg, S->store[c], c ? "risk-b" : "risk-a");
    risk_core_set_instruments (S->core[c], S->instr);
    char why[200];
    S->b->margin = s_margin;
    if (risk_capital_snapshot (S->store[c], &S->obs_ids, S->b, why, sizeof why) != 0)
        s_fail ("restart snapshot: %s", why);
    s_same_view (S->a, S->b, "a restarted core");
    for (int i = 0; i < NSYM; i++) {
        if (S->px_ns[i])
            risk_core_on_tick (S->core[c], S->sym[i], S->px[i], S->px_ns[i]);
    }
    //  Same prices, same unrealised; the same probes get the same answers.
    memset (&out, 0, sizeof out);
    if (risk_core_start (S->core[c], S->now, &out) != 0)
        s_fail ("restart: start failed");
    if (risk_core_unrealised (S->core[c]) != unreal_old)
        s_fail ("restart: unrealised %lld, before %lld",
                (long long) risk_core_unrealised (S->core[c]), (long long) unreal_old);
    for (int i = 0; i < NSYM; i++) {
        struct kt_intent probe;
        s_base_intent (&probe, KT_PURPOSE_ENTRY, i, KT_SIDE_SELL, LOT);
        probe.has_stop = true;
        probe.stop_trigger = s_on_tick (probe.price + RS (5));
        struct risk_market mkt = {kt_instr_by_sym (S->instr, NULL, S->sym[i]), true, S->px[i],
                                  S->px_ns[i]};
        struct risk_result r1, r2;
        risk_check_intent (S->a, &S->cfg, &probe, &mkt, S->now, unreal_old, &r1);
        risk_check_intent (S->b, &S->cfg, &probe, &mkt, S->now, unreal_old, &r2);
        if (r1.verdict != r2.verdict || r1.qty != r2.qty || r1.nreasons != r2.nreasons)
            s_fail ("restart: probe on %s decided differently", S->sym[i]);
    }
    s_handle_out (&out);
    s_recon_ok ();
    s_poll (c);
}

static void
s_kill_switch (void)
{
    redisReply *r = redisCommand (S->peek, "HSET kt:risk:kill active 1 reason %s", "property");
    freeReplyObject (r);
}

//  tradectl resume: kill switch off, HALTED -> REDUCING; the reconciler agrees again.
static void
s_resume (void)
{
    redisReply *r = redisCommand (S->peek, "HSET kt:risk:kill active 0");
    freeReplyObject (r);
    r = redisCommand (S->peek,
                      "HSET kt:risk:state state REDUCING reason %s scope %s "
                      "since_ns %lld",
                      "resumed", "", (long long) S->now);
    freeReplyObject (r);
    s_recon_ok ();
    s_poll ((int) s_range (0, 1));
}

// ---- sequences -----------------------------------------------------------------------------

static void
s_new_sequence (int id)
{
    S->seq_id = id;
    S->seed = 0x9E3779B97F4A7C15ULL * (uint64_t) (id + 1);
    S->rng = S->seed;
    redisReply *r = redisCommand (S->peek, "FLUSHALL");
    freeReplyObject (r);
    for (int c = 0; c < 2; c++) {
        risk_core_destroy (&S->core[c]);
        kt_store_destroy (&S->store[c]);
        S->store[c] = kt_store_new ("127.0.0.1", S->srv->port, "kt:", 1000);
        S->core[c] = risk_core_new (&S->cfg, S->store[c], c ? "risk-b" : "risk-a");
        risk_core_set_instruments (S->core[c], S->instr);
    }
    S->now = kt_ist_ns (2025, 11, 24, 9, 16, 0) + s_range (0, 300) * KT_NS_PER_MIN;
    for (int i = 0; i < NSYM; i++) {
        S->px[i] = RS (s_range (80, 250));
        S->vpos[i] = 0;
        S->px_ns[i] = 0;
        s_tick (i);
    }
    S->nord = S->npast = S->napproved = S->nmodify = S->nqueue = 0;
    S->exposure = 0;
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_start (S->core[0], S->now, &out);
    memset (&out, 0, sizeof out);
    risk_core_start (S->core[1], S->now, &out);
    s_recon_ok ();
    s_poll (0);
    s_poll (1);
    s_check_book ();
}

static void
s_step (void)
{
    S->n_steps++;
    int64_t adv = s_chance (85)   ? s_range (0, 400) * 1000000
                  : s_chance (90) ? s_range (1, 8) * KT_NS_PER_SEC
                                  : s_range (60, 900) * KT_NS_PER_SEC;
    S->now += adv;
    int k = (int) s_range (1, 100);
    bool checked = false;
    if (k <= 22) {
        for (int n = (int) s_range (1, 3); n > 0; n--)
            s_tick ((int) s_range (0, NSYM - 1));
    } else if (k <= 44) {
        s_entry ();
        checked = true;
    } else if (k <= 52) {
        s_exit ();
        checked = true;
    } else if (k <= 68)
        s_fill ();
    else if (k <= 71)
        s_venue_drop (false);
    else if (k <= 74)
        s_venue_drop (true);
    else if (k <= 79) {
        s_modify ();
        checked = true;
    } else if (k <= 82) {
        s_cancel_intent ();
        checked = true;
    } else if (k <= 86) {
        s_duplicate ();
        checked = true;
    } else if (k <= 96)
        s_poll ((int) s_range (0, 1));
    else if (k == 97 && s_chance (40))
        s_kill_switch ();
    else if (k == 98 && s_chance (50))
        s_restart ();
    else {
        const struct risk_view *v = risk_core_view (S->core[0]);
        if (v->state == KT_STATE_HALTED && s_chance (50))
            s_resume ();
        else
            s_poll ((int) s_range (0, 1));
    }
    if (!checked) {
        s_check_book ();
        s_check_exposure (false, 0);
    }
}

static void
test_random_sequences (void **state)
{
    (void) state;
    for (int seq = 0; seq < NSEQ; seq++) {
        s_new_sequence (seq);
        for (S->step = 0; S->step < NSTEPS; S->step++) {
            s_step ();
            if (kt_ist_minute_of_day (S->now) >= 15 * 60 + 20)
                break; //  the session is over
        }
    }
    fprintf (stderr,
             "property: %d sequences, %lld steps, %lld decisions (%lld approved, %lld reduced, "
             "%lld blocked, %lld halts), %lld risk-reducing, %lld duplicates, %lld fills, "
             "%lld restarts, %lld decided again on a moved account, %lld settled views "
             "checked against a snapshot\n",
             NSEQ, (long long) S->n_steps, (long long) S->n_decisions, (long long) S->n_approved,
             (long long) S->n_reduced, (long long) S->n_blocked, (long long) S->n_halts,
             (long long) S->n_reducing, (long long) S->n_dups, (long long) S->n_fills,
             (long long) S->n_restarts, (long long) S->n_redecided, (long long) S->n_views_checked);
    //  The sequences must have reached the interesting places, the version check among
    //  them: the other instance moved the account under a decision.
    assert_true (S->n_approved > 500);
    assert_true (S->n_blocked > 500);
    assert_true (S->n_reduced > 20);
    assert_true (S->n_fills > 500);
    assert_true (S->n_restarts > 20);
    assert_true (S->n_redecided > 20);
    assert_true (S->n_views_checked > 500);
}

//  Two instances racing for the last slot and the last rupee: whatever the interleaving,
//  exactly as many entries are approved as fit.
static void
test_two_instances_last_slot (void **state)
{
    (void) state;
    s_new_sequence (NSEQ + 1);
    //  One pending entry per option type: two fit (CE 0, then PE 4); ask for eight,
    //  alternating instances, so each decides on a view the other may have moved.
    int approved = 0;
    for (int i = 0; i < 8; i++) {
        S->now += 300 * 1000000LL;
        struct kt_intent in;
        s_base_intent (&in, KT_PURPOSE_ENTRY, i, KT_SIDE_SELL, LOT);
        in.has_stop = true;
        in.stop_trigger = s_on_tick (in.price + RS (5));
        snprintf (in.intent_id, sizeof in.intent_id, "LAST-%d", i);
        s_tick (i);
        struct risk_out out;
        memset (&out, 0, sizeof out);
        risk_core_decide (S->core[i % 2], &in, S->now, &out);
        assert_int_equal (risk_core_mark_sent (S->core[i % 2], &out, S->now), 0);
        if (out.decision.verdict == KT_VERDICT_APPROVE)
            approved++;
    }
    s_check_book ();
    assert_int_equal (approved, 2);
    assert_int_equal (S->post->units_total, 2);
    assert_int_equal (S->post->units_ce, 1); //  CE 0, then PE 4
    assert_int_equal (S->post->units_pe, 1);
}

static int
s_setup (void **state)
{
    (void) state;
    S = calloc (1, sizeof *S);
    S->pre = calloc (1, sizeof *S->pre);
    S->post = calloc (1, sizeof *S->post);
    S->a = calloc (1, sizeof *S->a);
    S->b = calloc (1, sizeof *S->b);
    S->srv = kt_testredis_start ();
    if (!S->srv)
        return -1;
    S->obs = kt_store_new ("127.0.0.1", S->srv->port, "kt:", 1000);
    if (risk_capital_register (S->obs, &S->obs_ids) != 0 || kt_store_connect (S->obs) != 0)
        return -1;
    S->peek = kt_testredis_connect (S->srv);
    //  Eight options around the money, CE and PE, lot 75, tick 0.05.
    char csv[4096];
    int n = snprintf (csv, sizeof csv, "%s\n", KT_INSTR_CSV_HEADER);
    for (int i = 0; i < NSYM; i++) {
        int strike = 23800 + (i % 4) * 100;
        const char *t = i < 4 ? "CE" : "PE";
        snprintf (S->sym[i], sizeof S->sym[i], "NIFTY25NOV%d%s", strike, t);
        n += snprintf (csv + n, sizeof csv - (size_t) n,
                       "%d,%d,%s,NIFTY,100,2025-11-27,%d,0.05,75,%s,NFO-OPT,NFO\n", 2000 + i, i,
                       S->sym[i], strike, t);
    }
    char err[200];
    S->instr = kt_instr_parse (csv, strlen (csv), err, sizeof err);
    if (!S->instr)
        return -1;
    //  Tight limits, so that sequences meet them often.
    risk_cfg_defaults (&S->cfg);
    S->cfg.capital = RS (2000000);
    S->cfg.max_positions = 3; //  below 2 x per type: the total binds too
    S->cfg.max_per_type = 2;
    S->cfg.max_per_symbol = 1;
    S->cfg.max_lots = 4;
    S->cfg.max_orders_per_s = 4;
    S->cfg.max_modifies_per_s = 2;
    S->cfg.max_trades_hour = 8;
    S->cfg.max_trades_day = 25;
    S->cfg.max_consec_losses = 4;
    S->cfg.max_rejects = 4;
    S->cfg.max_daily_loss_bps = 200;
    S->cfg.max_weekly_loss_bps = 400;
    S->cfg.max_hourly_loss_bps = 150;
    S->cfg.max_drawdown_bps = 500;
    S->cfg.margin_buffer = RS (100000);
    S->cfg.max_order_margin = RS (1000000);
    kt_log_open ("risk_property_test", KT_LOG_OFF);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    for (int c = 0; c < 2; c++) {
        risk_core_destroy (&S->core[c]);
        kt_store_destroy (&S->store[c]);
    }
    kt_store_destroy (&S->obs);
    if (S->peek)
        redisFree (S->peek);
    kt_instr_destroy (&S->instr);
    kt_testredis_stop (&S->srv);
    free (S->pre);
    free (S->post);
    free (S->a);
    free (S->b);
    free (S);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_random_sequences),
        cmocka_unit_test (test_two_instances_last_slot),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
