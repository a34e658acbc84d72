/*  recon_diff - the comparison of the broker's view with the book, as plain data.
 *
 *  What the broker proves is acted on at once: a trade of an order carrying our tag that
 *  the book has not applied (kt_book_fill de-duplicates by trade id, so applying it
 *  twice changes nothing), the outcome of an UNRESOLVED order found by its tag, a
 *  cancel or reject of an order we hold open. What rests on something being absent, or
 *  on two quantities disagreeing, may be the broker's books lagging by a few seconds:
 *  such a finding must be seen with the same values on retry_runs consecutive runs
 *  before its action (adopt, halt, settle as not at the broker). */

#include "recon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_class_names[RECON_C_COUNT] = {
    "none",         "missing_fill", "closed_by_stop", "venue_close", "unknown_position",
    "qty_mismatch", "order_state",  "unresolved"};

const char *
recon_class_str (recon_class_t c)
{
    return (unsigned) c < RECON_C_COUNT ? s_class_names[c] : "?";
}

const char *
recon_action_str (recon_action_t a)
{
    static const char *const names[] = {"none",  "fill", "venue", "settle",
                                        "adopt", "halt", "alert"};
    return (unsigned) a < sizeof names / sizeof names[0] ? names[a] : "?";
}

kt_ord_status_t
recon_kite_status (const char *word)
{
    if (!word || !word[0])
        return KT_OS_NONE;
    if (strcmp (word, "COMPLETE") == 0)
        return KT_OS_FILLED;
    //  "CANCELLED AMO" is a cancel too.
    if (strncmp (word, "CANCELLED", 9) == 0)
        return KT_OS_CANCELLED;
    if (strcmp (word, "REJECTED") == 0)
        return KT_OS_REJECTED;
    //  Every other word is a working order: OPEN, TRIGGER PENDING, AMO REQ RECEIVED and
    //  the transient ones (VALIDATION PENDING, MODIFY ..., CANCEL PENDING).
    return KT_OS_OPEN;
}

//  ---- lookups ---------------------------------------------------------------------------

//  Sorted views of the inputs, so a day of 5000 orders compares in milliseconds
//  (bsearch) rather than seconds (nested scans).
struct s_ix {
    const struct kt_order_rec **ours; //  by coid
    const struct recon_known **known; //  by coid, trade id
    const struct recon_bord **by_id;  //  by order id
    const struct recon_bord **by_tag; //  by tag
    int nours, nknown, nord;
};

static int
s_cmp_ours (const void *a, const void *b)
{
    return strcmp ((*(const struct kt_order_rec *const *) a)->coid,
                   (*(const struct kt_order_rec *const *) b)->coid);
}

static int
s_cmp_known (const void *a, const void *b)
{
    const struct recon_known *x = *(const struct recon_known *const *) a;
    const struct recon_known *y = *(const struct recon_known *const *) b;
    int c = strcmp (x->coid, y->coid);
    return c ? c : strcmp (x->trade_id, y->trade_id);
}

static int
s_cmp_id (const void *a, const void *b)
{
    return strcmp ((*(const struct recon_bord *const *) a)->order_id,
                   (*(const struct recon_bord *const *) b)->order_id);
}

static int
s_cmp_tag (const void *a, const void *b)
{
    return strcmp ((*(const struct recon_bord *const *) a)->tag,
                   (*(const struct recon_bord *const *) b)->tag);
}

static void *
s_alloc (size_t n, size_t size)
{
    void *p = calloc (n ? n : 1, size);
    if (!p)
        abort ();
    return p;
}

static void
s_ix_build (struct s_ix *ix, const struct recon_broker *b, const struct recon_redis *r)
{
    ix->nours = r->nord;
    ix->nknown = r->nknown;
    ix->nord = b->nord;
    ix->ours = s_alloc ((size_t) r->nord, sizeof *ix->ours);
    ix->known = s_alloc ((size_t) r->nknown, sizeof *ix->known);
    ix->by_id = s_alloc ((size_t) b->nord, sizeof *ix->by_id);
    ix->by_tag = s_alloc ((size_t) b->nord, sizeof *ix->by_tag);
    for (int i = 0; i < r->nord; i++)
        ix->ours[i] = &r->ord[i];
    for (int i = 0; i < r->nknown; i++)
        ix->known[i] = &r->known[i];
    for (int i = 0; i < b->nord; i++)
        ix->by_id[i] = ix->by_tag[i] = &b->ord[i];
    qsort (ix->ours, (size_t) ix->nours, sizeof *ix->ours, s_cmp_ours);
    qsort (ix->known, (size_t) ix->nknown, sizeof *ix->known, s_cmp_known);
    qsort (ix->by_id, (size_t) ix->nord, sizeof *ix->by_id, s_cmp_id);
    qsort (ix->by_tag, (size_t) ix->nord, sizeof *ix->by_tag, s_cmp_tag);
}

static void
s_ix_free (struct s_ix *ix)
{
    free (ix->ours);
    free (ix->known);
    free (ix->by_id);
    free (ix->by_tag);
}

static const struct kt_order_rec *
s_our_order (const struct s_ix *ix, const char *coid)
{
    if (!coid[0])
        return NULL;
    struct kt_order_rec key;
    snprintf (key.coid, sizeof key.coid, "%s", coid);
    const struct kt_order_rec *kp = &key;
    const struct kt_order_rec **hit =
        bsearch (&kp, ix->ours, (size_t) ix->nours, sizeof *ix->ours, s_cmp_ours);
    return hit ? *hit : NULL;
}

static bool
s_known (const struct s_ix *ix, const char *coid, const char *trade_id)
{
    struct recon_known key;
    snprintf (key.coid, sizeof key.coid, "%s", coid);
    snprintf (key.trade_id, sizeof key.trade_id, "%s", trade_id);
    const struct recon_known *kp = &key;
    return bsearch (&kp, ix->known, (size_t) ix->nknown, sizeof *ix->known, s_cmp_known) != NULL;
}

static const struct recon_bord *
s_broker_order (const struct s_ix *ix, const char *order_id)
{
    struct recon_bord key;
    snprintf (key.order_id, sizeof key.order_id, "%s", order_id);
    const struct recon_bord *kp = &key;
    const struct recon_bord **hit =
        bsearch (&kp, ix->by_id, (size_t) ix->nord, sizeof *ix->by_id, s_cmp_id);
    return hit ? *hit : NULL;
}

//  Number of broker orders carrying tag (autoslice children share their parent's).
static int
s_tag_count (const struct s_ix *ix, const char *tag)
{
    struct recon_bord key;
    snprintf (key.tag, sizeof key.tag, "%s", tag);
    const struct recon_bord *kp = &key;
    const struct recon_bord **hit =
        bsearch (&kp, ix->by_tag, (size_t) ix->nord, sizeof *ix->by_tag, s_cmp_tag);
    if (!hit)
        return 0;
    const struct recon_bord **lo = hit, **hi = hit;
    while (lo > ix->by_tag && strcmp ((*(lo - 1))->tag, tag) == 0)
        lo--;
    while (hi + 1 < ix->by_tag + ix->nord && strcmp ((*(hi + 1))->tag, tag) == 0)
        hi++;
    return (int) (hi - lo) + 1;
}

//  True when an order of the book whose parent is coid is at the broker: an order sent
//  as slices (each slice its own order, tagged with its own coid) is at the broker
//  through them, though no broker order carries the parent's coid.
static bool
s_child_at_broker (const struct s_ix *ix, const struct recon_redis *r, const char *coid)
{
    for (int i = 0; i < r->nord; i++)
        if (strcmp (r->ord[i].parent, coid) == 0 && s_tag_count (ix, r->ord[i].coid) > 0)
            return true;
    return false;
}

//  True when coid is a venue order we booked ("v" + order id) that the broker still lists.
static bool
s_venue_at_broker (const struct s_ix *ix, const char *coid)
{
    if (coid[0] != 'v')
        return false;
    const struct recon_bord *bo = s_broker_order (ix, coid + 1);
    return bo && strcmp (bo->placed_by, RECON_PLACED_BY_VENUE) == 0;
}

bool
recon_venue_coid (const struct recon_bord *bo, char *coid, size_t len)
{
    size_t n = strlen (bo->order_id);
    coid[0] = '\0';
    if (strcmp (bo->placed_by, RECON_PLACED_BY_VENUE) != 0 || n + 2 > len)
        return false;
    coid[0] = 'v';
    memcpy (coid + 1, bo->order_id, n + 1);
    return true;
}

//  The coid under which an order of the broker's is booked: our tag, "v" + order id for
//  the venue's square-off, "" for anything else (someone else's order).
static void
s_coid_of (const struct recon_bord *bo, const struct s_ix *ix, char *coid, size_t len)
{
    if (s_our_order (ix, bo->tag))
        snprintf (coid, len, "%s", bo->tag);
    else
        recon_venue_coid (bo, coid, len);
}

//  ---- the result ------------------------------------------------------------------------

static struct recon_finding *
s_add (struct recon_result *out, recon_class_t cls, bool proven)
{
    out->counts[cls]++;
    if (out->n == RECON_FINDINGS_MAX) {
        out->truncated = true;
        return NULL;
    }
    struct recon_finding *f = &out->f[out->n++];
    memset (f, 0, sizeof *f);
    f->cls = cls;
    f->proven = proven;
    f->seen = 1;
    return f;
}

//  An unproven finding: count the consecutive runs its key was seen, and keep its
//  action only once the budget is spent.
static void
s_budget (struct recon_finding *f, const char *key, recon_action_t action,
          const struct recon_pending *prev, struct recon_pending *next, int retry_runs)
{
    int seen = 1;
    for (int i = 0; i < prev->n; i++)
        if (strcmp (prev->e[i].key, key) == 0) {
            seen = prev->e[i].seen + 1;
            break;
        }
    if (next->n < RECON_PENDING_MAX) {
        snprintf (next->e[next->n].key, sizeof next->e[next->n].key, "%s", key);
        next->e[next->n].seen = seen;
        next->n++;
    }
    f->seen = seen;
    f->action = seen >= retry_runs ? action : RECON_A_NONE;
}

//  ---- positions ---------------------------------------------------------------------------

struct s_sym {
    char sym[KT_SYM_LEN];
    int64_t broker, redis, delta; //  signed units; delta = fills about to be applied
    int64_t avg_px, last_px;      //  broker's, for an adoption
    int64_t token;
};

struct s_syms {
    int n;
    struct s_sym s[RECON_BPOS_MAX + RECON_RPOS_MAX];
};

static struct s_sym *
s_sym (struct s_syms *t, const char *sym)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp (t->s[i].sym, sym) == 0)
            return &t->s[i];
    if (t->n == (int) (sizeof t->s / sizeof t->s[0]))
        return NULL;
    struct s_sym *s = &t->s[t->n++];
    memset (s, 0, sizeof *s);
    snprintf (s->sym, sizeof s->sym, "%s", sym);
    return s;
}

static int64_t
s_signed (kt_side_t side, int64_t qty)
{
    return side == KT_SIDE_SELL ? -qty : qty;
}

int
recon_diff (const struct recon_broker *b, const struct recon_redis *r,
            const struct recon_diff_opts *opts, struct recon_pending *pending,
            struct recon_result *out)
{
    memset (out, 0, sizeof *out);
    static const struct recon_pending empty;
    struct recon_pending prev = pending ? *pending : empty;
    struct recon_pending next = {0};
    int retry = opts->retry_runs > 0 ? opts->retry_runs : 1;
    struct s_syms *syms = calloc (1, sizeof *syms); //  72 KB: too large for the stack
    if (!syms)
        abort ();
    struct s_ix ix;
    s_ix_build (&ix, b, r);

    //  1. Our orders at the broker (and the venue's we booked): outcomes of UNRESOLVED
    //  orders, cancels and rejects.
    for (int i = 0; i < b->nord; i++) {
        const struct recon_bord *bo = &b->ord[i];
        char coid[KT_ID_LEN];
        s_coid_of (bo, &ix, coid, sizeof coid);
        const struct kt_order_rec *o = s_our_order (&ix, coid);
        bool venue = o && strcmp (coid, bo->tag) != 0;
        //  Slices share a tag: their states belong to no single order of ours.
        if (!o || (!venue && s_tag_count (&ix, bo->tag) != 1))
            continue;
        kt_ord_status_t bs = recon_kite_status (bo->status);
        bool unresolved = o->status == KT_OS_UNRESOLVED || o->status == KT_OS_PENDING_SUBMIT;
        struct recon_finding *f = NULL;
        if (unresolved) {
            f = s_add (out, RECON_C_UNRESOLVED, true);
            if (f) {
                f->action = RECON_A_SETTLE;
                //  A COMPLETE order is settled OPEN: its fills (applied next) finish it.
                f->settle_status = bs == KT_OS_CANCELLED || bs == KT_OS_REJECTED ? bs : KT_OS_OPEN;
            }
        } else if ((o->status == KT_OS_OPEN || o->status == KT_OS_PARTIAL) &&
                   (bs == KT_OS_CANCELLED || bs == KT_OS_REJECTED)) {
            f = s_add (out, RECON_C_ORDER_STATE, true);
            if (f) {
                f->action = RECON_A_SETTLE;
                f->settle_status = bs;
            }
        } else if (kt_ord_status_is_final (o->status) && bs == KT_OS_OPEN) {
            //  Working at the broker, finished in the book: only a person can tell why.
            f = s_add (out, RECON_C_ORDER_STATE, false);
            if (f) {
                char key[96];
                snprintf (key, sizeof key, "os:%s:%s", o->coid, bo->status);
                s_budget (f, key, RECON_A_ALERT, &prev, &next, retry);
            }
        }
        if (!f)
            continue;
        snprintf (f->coid, sizeof f->coid, "%s", o->coid);
        snprintf (f->order_id, sizeof f->order_id, "%s", bo->order_id);
        snprintf (f->sym, sizeof f->sym, "%s", o->sym);
        snprintf (f->broker_status, sizeof f->broker_status, "%s", bo->status);
        f->redis_status = o->status;
        f->side = o->side;
        f->qty = bo->qty;
        if (f->action == RECON_A_SETTLE || f->action == RECON_A_NONE)
            snprintf (f->text, sizeof f->text, "order %s: book %s, broker %s (%s)%s%.80s", o->coid,
                      kt_ord_status_str (o->status), bo->status, bo->order_id,
                      bo->message[0] ? ": " : "", bo->message);
        else
            snprintf (f->text, sizeof f->text,
                      "order %s is %s in the book but %s at the broker (%s)", o->coid,
                      kt_ord_status_str (o->status), bo->status, bo->order_id);
    }

    //  2. Broker trades the book has not applied.
    for (int i = 0; i < r->npos; i++) {
        struct s_sym *s = s_sym (syms, r->pos[i].sym);
        if (s)
            s->redis += r->pos[i].qty;
    }
    for (int i = 0; i < b->ntrade; i++) {
        const struct recon_btrade *t = &b->trade[i];
        const struct recon_bord *bo = s_broker_order (&ix, t->order_id);
        if (!bo)
            continue; //  the order book was read before this order: next run
        char coid[KT_ID_LEN];
        s_coid_of (bo, &ix, coid, sizeof coid);
        if (!coid[0] || s_known (&ix, coid, t->trade_id))
            continue;
        bool venue = !s_our_order (&ix, bo->tag);
        struct s_sym *s = s_sym (syms, t->sym);
        int64_t d = s_signed (t->side, t->qty);
        //  The venue's square-off is booked only where it reduces a position the book
        //  holds; closing one the book never had is left to the position comparison.
        if (venue && (!s || s->redis + s->delta == 0 || (s->redis + s->delta > 0) == (d > 0)))
            continue;
        if (s)
            s->delta += d;
        struct recon_finding *f =
            s_add (out, venue ? RECON_C_VENUE_CLOSE : RECON_C_MISSING_FILL, true);
        if (!f)
            continue;
        f->action = venue ? RECON_A_VENUE : RECON_A_FILL;
        f->reconciled_exit = venue;
        snprintf (f->coid, sizeof f->coid, "%s", coid);
        snprintf (f->order_id, sizeof f->order_id, "%s", t->order_id);
        snprintf (f->trade_id, sizeof f->trade_id, "%s", t->trade_id);
        snprintf (f->sym, sizeof f->sym, "%s", t->sym);
        snprintf (f->broker_status, sizeof f->broker_status, "%s", bo->status);
        const struct kt_order_rec *o = s_our_order (&ix, coid);
        f->redis_status = o ? o->status : KT_OS_NONE;
        f->side = t->side;
        f->token = bo->token;
        f->order_qty = bo->qty;
        f->qty = t->qty;
        f->price = t->price;
        f->ts_ns = t->ts_ns;
        snprintf (f->text, sizeof f->text, "%s %" PRId64 " %s at %" PRId64 " paise (trade %s, %s)",
                  t->side == KT_SIDE_BUY ? "BUY" : "SELL", t->qty, t->sym, t->price, t->trade_id,
                  venue ? "the venue's square-off" : coid);
    }

    //  3. Positions: the book after the fills above must equal the broker's net.
    for (int i = 0; i < b->npos; i++) {
        struct s_sym *s = s_sym (syms, b->pos[i].sym);
        if (!s)
            continue;
        s->broker += b->pos[i].qty;
        if (b->pos[i].qty != 0) {
            s->avg_px = b->pos[i].avg_px;
            s->last_px = b->pos[i].last_px;
            s->token = b->pos[i].token;
        }
    }
    for (int i = 0; i < syms->n; i++) {
        const struct s_sym *s = &syms->s[i];
        int64_t expected = s->redis + s->delta;
        if (expected == s->broker) {
            //  Flat at the broker through a fill of our stop: that stop closed it.
            if (s->redis != 0 && s->broker == 0 && s->delta != 0)
                for (int k = 0; k < out->n; k++) {
                    struct recon_finding *f = &out->f[k];
                    const struct kt_order_rec *o = s_our_order (&ix, f->coid);
                    if (f->cls == RECON_C_MISSING_FILL && strcmp (f->sym, s->sym) == 0 && o &&
                        o->purpose == KT_PURPOSE_STOP) {
                        out->counts[RECON_C_MISSING_FILL]--;
                        out->counts[RECON_C_CLOSED_BY_STOP]++;
                        f->cls = RECON_C_CLOSED_BY_STOP;
                        f->reconciled_exit = true;
                    }
                }
            continue;
        }
        bool unknown = expected == 0;
        struct recon_finding *f =
            s_add (out, unknown ? RECON_C_UNKNOWN_POSITION : RECON_C_QTY_MISMATCH, false);
        if (!f)
            continue;
        snprintf (f->sym, sizeof f->sym, "%s", s->sym);
        f->broker_qty = s->broker;
        f->redis_qty = s->redis;
        f->token = s->token;
        char key[96];
        snprintf (key, sizeof key, "pos:%s:%" PRId64 ":%" PRId64 ":%" PRId64, s->sym, s->broker,
                  s->redis, s->delta);
        recon_action_t act = RECON_A_HALT;
        if (unknown) {
            int64_t d = s->broker - expected;
            f->side = d > 0 ? KT_SIDE_BUY : KT_SIDE_SELL;
            f->qty = d > 0 ? d : -d;
            f->price = s->avg_px > 0 ? s->avg_px : s->last_px;
            if (opts->unknown == RECON_UNKNOWN_ADOPT && f->price > 0)
                act = RECON_A_ADOPT;
            snprintf (f->text, sizeof f->text,
                      "broker holds %" PRId64 " %s (avg %" PRId64 " paise), the book holds none",
                      s->broker, s->sym, f->price);
        } else
            snprintf (f->text, sizeof f->text,
                      "%s: broker %" PRId64 ", book %" PRId64 " (%+" PRId64 " from fills being "
                      "applied)",
                      s->sym, s->broker, s->redis, s->delta);
        s_budget (f, key, act, &prev, &next, retry);
    }

    //  4. Our open orders the broker does not have.
    for (int i = 0; i < r->nord; i++) {
        const struct kt_order_rec *o = &r->ord[i];
        if (kt_ord_status_is_final (o->status) || o->status == KT_OS_NONE ||
            s_tag_count (&ix, o->coid) > 0 || s_child_at_broker (&ix, r, o->coid) ||
            s_venue_at_broker (&ix, o->coid))
            continue;
        bool unresolved = o->status == KT_OS_UNRESOLVED;
        bool pending = o->status == KT_OS_PENDING_SUBMIT;
        struct recon_finding *f =
            s_add (out, unresolved ? RECON_C_UNRESOLVED : RECON_C_ORDER_STATE, false);
        if (!f)
            continue;
        snprintf (f->coid, sizeof f->coid, "%s", o->coid);
        snprintf (f->sym, sizeof f->sym, "%s", o->sym);
        snprintf (f->order_id, sizeof f->order_id, "%s", o->broker_id);
        f->redis_status = o->status;
        f->side = o->side;
        f->qty = o->qty;
        //  Never placed (an UNRESOLVED submit the broker did not take): REJECTED, so it may
        //  be sent again; a working order missing from the day's book: EXPIRED. A submit
        //  exec-gateway has not sent yet (PENDING_SUBMIT) is its to send: a person is told
        //  that it is stuck, the order is left alone.
        f->settle_status = unresolved ? KT_OS_REJECTED : pending ? KT_OS_NONE : KT_OS_EXPIRED;
        char key[96];
        snprintf (key, sizeof key, "nf:%s:%s", o->coid, kt_ord_status_str (o->status));
        s_budget (f, key, pending ? RECON_A_ALERT : RECON_A_SETTLE, &prev, &next, retry);
        snprintf (f->text, sizeof f->text, "order %s (%s) is not in the broker's order book%s",
                  o->coid, kt_ord_status_str (o->status),
                  pending ? ": exec-gateway has not sent it (down or stuck?)" : "");
    }

    for (int i = 0; i < out->n; i++)
        if (!out->f[i].proven && out->f[i].action == RECON_A_NONE)
            out->unconfirmed++;
    free (syms);
    s_ix_free (&ix);
    if (pending)
        *pending = next;
    int total = 0;
    for (int c = 1; c < RECON_C_COUNT; c++)
        total += (int) out->counts[c];
    return total;
}
