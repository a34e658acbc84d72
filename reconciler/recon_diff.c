/*  recon_diff - the broker's positions, orders and trades against our book (pure).
 *
 *  The order of reasoning matters: fills first (a broker trade of one of our orders
 *  that the book has not applied), because they explain position differences; then
 *  positions by symbol, where "ours + the missing fills == the broker's" is agreement
 *  (and, when the missing fills are our stop's and close the position, "closed by our
 *  stop"); then each of our orders against the broker's; then the broker's orders that
 *  are not ours. Arrays are small (tens of rows), so lookups are linear scans. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "recon.h"

static const char *const s_names[RECON_CLASS_COUNT] = {
    "agree",       "closed_by_stop",   "missing_fill",    "unknown_position", "qty_mismatch",
    "order_state", "unresolved_found", "not_found_retry", "not_found",        "foreign_order",
};

const char *
recon_class_str (recon_class_t c)
{
    return c < RECON_CLASS_COUNT ? s_names[c] : "?";
}

typedef struct {
    const struct recon_diff_in *in;
    struct recon_finding *out;
    int max, n;
    struct recon_counts *counts;
    struct recon_finding spare; //  written when out is full: counts stay complete
} s_run_t;

static struct recon_finding *
s_add (s_run_t *r, recon_class_t cls, const char *sym)
{
    r->counts->n[cls]++;
    struct recon_finding *f = r->n < r->max ? &r->out[r->n] : &r->spare;
    r->n++;
    memset (f, 0, sizeof *f);
    f->cls = cls;
    snprintf (f->sym, sizeof f->sym, "%s", sym ? sym : "");
    return f;
}

//  Our order of a broker order id or tag, or -1.
static int
s_ours_by_broker (const struct recon_diff_in *in, const char *order_id, const char *tag)
{
    for (int i = 0; i < in->norders; i++) {
        const struct kt_order_rec *o = &in->orders[i].rec;
        if (o->broker_id[0] && order_id && strcmp (o->broker_id, order_id) == 0)
            return i;
    }
    for (int i = 0; tag && tag[0] && i < in->norders; i++)
        if (strcmp (in->orders[i].rec.coid, tag) == 0)
            return i;
    return -1;
}

static const struct recon_border *
s_border_by_id (const struct recon_diff_in *in, const char *order_id)
{
    for (int i = 0; i < in->nborders; i++)
        if (strcmp (in->borders[i].order_id, order_id) == 0)
            return &in->borders[i];
    return NULL;
}

//  The broker order of one of ours (by its broker id, else by its coid as the tag).
static const struct recon_border *
s_border_of (const struct recon_diff_in *in, const struct kt_order_rec *o)
{
    if (o->broker_id[0]) {
        const struct recon_border *b = s_border_by_id (in, o->broker_id);
        if (b)
            return b;
    }
    for (int i = 0; i < in->nborders; i++)
        if (in->borders[i].tag[0] && strcmp (in->borders[i].tag, o->coid) == 0)
            return &in->borders[i];
    return NULL;
}

static bool
s_applied (const struct recon_diff_in *in, const char *coid, const char *trade_id)
{
    for (int i = 0; i < in->napplied; i++)
        if (!strcmp (in->applied[i].coid, coid) && !strcmp (in->applied[i].trade_id, trade_id))
            return true;
    return false;
}

// ---- fills -------------------------------------------------------------------------------

static void
s_fills (s_run_t *r)
{
    const struct recon_diff_in *in = r->in;
    for (int i = 0; i < in->nbtrades; i++) {
        const struct recon_btrade *t = &in->btrades[i];
        const struct recon_border *b = s_border_by_id (in, t->order_id);
        int k = s_ours_by_broker (in, t->order_id, b ? b->tag : NULL);
        if (k < 0 || s_applied (in, in->orders[k].rec.coid, t->trade_id))
            continue;
        struct recon_finding *f = s_add (r, RECON_MISSING_FILL, t->sym);
        snprintf (f->coid, sizeof f->coid, "%s", in->orders[k].rec.coid);
        snprintf (f->broker_id, sizeof f->broker_id, "%s", t->order_id);
        snprintf (f->trade_id, sizeof f->trade_id, "%s", t->trade_id);
        f->qty = t->qty;
        f->price = t->price;
        f->side = t->side;
        char px[24];
        kt_money_format (t->price, px, sizeof px);
        snprintf (f->text, sizeof f->text,
                  "%s: broker trade %s (%s %" PRId64 " @ %s) of order %s"
                  " is not in our book",
                  t->sym, t->trade_id, kt_side_str (t->side), t->qty, px, f->coid);
    }
}

// ---- positions -----------------------------------------------------------------------------

//  Signed quantity of the missing fills of sym found so far (findings 0..n).
static int64_t
s_missing_delta (const s_run_t *r, const char *sym)
{
    int64_t d = 0;
    for (int i = 0; i < r->n && i < r->max; i++) {
        const struct recon_finding *f = &r->out[i];
        if (f->cls == RECON_MISSING_FILL && !strcmp (f->sym, sym))
            d += f->side == KT_SIDE_BUY ? f->qty : -f->qty;
    }
    return d;
}

static int64_t
s_broker_qty (const struct recon_diff_in *in, const char *sym)
{
    int64_t q = 0;
    for (int i = 0; i < in->nbpos; i++)
        if (!strcmp (in->bpos[i].sym, sym))
            q += in->bpos[i].qty;
    return q;
}

static const struct kt_pos_rec *
s_pos (const struct recon_diff_in *in, const char *sym)
{
    for (int i = 0; i < in->npos; i++)
        if (!strcmp (in->pos[i].sym, sym))
            return &in->pos[i];
    return NULL;
}

//  The missing fills of sym all belong to the position's stop (and there is one).
static bool
s_all_by_stop (s_run_t *r, const char *sym, const char *stop_coid)
{
    bool any = false;
    for (int i = 0; i < r->n && i < r->max; i++) {
        const struct recon_finding *f = &r->out[i];
        if (f->cls != RECON_MISSING_FILL || strcmp (f->sym, sym))
            continue;
        if (!stop_coid[0] || strcmp (f->coid, stop_coid))
            return false;
        any = true;
    }
    return any;
}

//  A foreign order (the broker's square-off, or one not placed by us) that traded sym.
static const struct recon_border *
s_foreign_trader (const struct recon_diff_in *in, const char *sym)
{
    for (int i = 0; i < in->nborders; i++) {
        const struct recon_border *b = &in->borders[i];
        if (!strcmp (b->sym, sym) && b->filled > 0 &&
            s_ours_by_broker (in, b->order_id, b->tag) < 0)
            return b;
    }
    return NULL;
}

static void
s_position (s_run_t *r, const char *sym)
{
    const struct recon_diff_in *in = r->in;
    const struct kt_pos_rec *p = s_pos (in, sym);
    int64_t ours = p ? p->qty : 0, broker = s_broker_qty (in, sym);
    int64_t missing = s_missing_delta (r, sym);
    if (ours == 0 && broker == 0 && missing == 0)
        return; //  flat on both sides: nothing to say
    if (ours + missing == broker) {
        if (p && ours != 0 && broker == 0 && s_all_by_stop (r, sym, p->stop_coid)) {
            for (int i = 0; i < r->n && i < r->max; i++) {
                struct recon_finding *f = &r->out[i];
                if (f->cls == RECON_MISSING_FILL && !strcmp (f->sym, sym)) {
                    f->cls = RECON_CLOSED_BY_STOP;
                    r->counts->n[RECON_MISSING_FILL]--;
                    r->counts->n[RECON_CLOSED_BY_STOP]++;
                    snprintf (f->text, sizeof f->text,
                              "%s: closed at the broker by our stop %s"
                              " (trade %s), ours %" PRId64 ", broker 0",
                              sym, f->coid, f->trade_id, ours);
                }
            }
        }
        struct recon_finding *f = s_add (r, RECON_AGREE, sym);
        f->ours_qty = ours;
        f->broker_qty = broker;
        snprintf (f->text, sizeof f->text, "%s: ours %" PRId64 "%s, broker %" PRId64, sym, ours,
                  missing ? " with the missing fills" : "", broker);
        return;
    }
    bool unknown = ours == 0 && missing == 0;
    struct recon_finding *f = s_add (r, unknown ? RECON_UNKNOWN_POSITION : RECON_QTY_MISMATCH, sym);
    f->ours_qty = ours;
    f->broker_qty = broker;
    const struct recon_border *who = s_foreign_trader (in, sym);
    char by[96] = "";
    if (who)
        snprintf (by, sizeof by, "; order %s placed by %s traded it", who->order_id,
                  who->placed_by[0] ? who->placed_by : "someone else");
    snprintf (f->text, sizeof f->text,
              "%s: broker %" PRId64 ", ours %" PRId64 "%s (missing fills %+" PRId64 ")%s", sym,
              broker, ours, unknown ? " (not ours)" : "", missing, by);
}

static void
s_positions (s_run_t *r)
{
    const struct recon_diff_in *in = r->in;
    //  Every symbol once: ours first, then the broker's we have not seen.
    for (int i = 0; i < in->npos; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp (in->pos[j].sym, in->pos[i].sym);
        if (!seen)
            s_position (r, in->pos[i].sym);
    }
    for (int i = 0; i < in->nbpos; i++) {
        const char *sym = in->bpos[i].sym;
        bool seen = s_pos (in, sym) != NULL;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp (in->bpos[j].sym, sym);
        if (!seen)
            s_position (r, sym);
    }
    //  A fill of ours in a symbol neither side lists as a position.
    int nfills = r->n < r->max ? r->n : r->max;
    for (int i = 0; i < nfills; i++) {
        const char *sym = r->out[i].sym;
        if (r->out[i].cls != RECON_MISSING_FILL || s_pos (in, sym))
            continue;
        bool seen = false;
        for (int j = 0; j < in->nbpos && !seen; j++)
            seen = !strcmp (in->bpos[j].sym, sym);
        for (int j = 0; j < i && !seen; j++)
            seen = r->out[j].cls == RECON_MISSING_FILL && !strcmp (r->out[j].sym, sym);
        if (!seen)
            s_position (r, sym);
    }
}

// ---- orders ------------------------------------------------------------------------------

static void
s_orders (s_run_t *r)
{
    const struct recon_diff_in *in = r->in;
    for (int i = 0; i < in->norders; i++) {
        const struct recon_ours_order *ou = &in->orders[i];
        const struct kt_order_rec *o = &ou->rec;
        const struct recon_border *b = s_border_of (in, o);
        if (!b) {
            if (kt_ord_status_is_final (o->status))
                continue; //  done, and gone from today's book: nothing to do
            bool retry = ou->not_found_runs < in->not_found_budget;
            struct recon_finding *f =
                s_add (r, retry ? RECON_NOT_FOUND_RETRY : RECON_NOT_FOUND, o->sym);
            snprintf (f->coid, sizeof f->coid, "%s", o->coid);
            snprintf (f->broker_id, sizeof f->broker_id, "%s", o->broker_id);
            f->ours_status = o->status;
            f->ours_qty = o->qty;
            f->not_found_runs = ou->not_found_runs + 1;
            snprintf (f->text, sizeof f->text,
                      "%s: our %s order %s%s%s is not in the broker's "
                      "book (%d of %d looks)",
                      o->sym, kt_ord_status_str (o->status), o->coid, o->broker_id[0] ? " / " : "",
                      o->broker_id, f->not_found_runs, in->not_found_budget + 1);
            continue;
        }
        kt_ord_status_t as = recon_kite_status (b->status, b->filled);
        bool unresolved = o->status == KT_OS_UNRESOLVED || o->status == KT_OS_PENDING_SUBMIT;
        if (!unresolved && (as == KT_OS_NONE || as == o->status))
            continue;
        struct recon_finding *f =
            s_add (r, unresolved ? RECON_UNRESOLVED_FOUND : RECON_ORDER_STATE, o->sym);
        snprintf (f->coid, sizeof f->coid, "%s", o->coid);
        snprintf (f->broker_id, sizeof f->broker_id, "%s", b->order_id);
        snprintf (f->broker_status, sizeof f->broker_status, "%s", b->status);
        f->ours_status = o->status;
        f->broker_as = as;
        f->ours_qty = o->filled_qty;
        f->broker_qty = b->filled;
        snprintf (f->text, sizeof f->text,
                  "%s: order %s is %s in our book (filled %" PRId64
                  "), %s at the broker as %s (filled %" PRId64 ")%s%.60s",
                  o->sym, o->coid, kt_ord_status_str (o->status), o->filled_qty, b->status,
                  b->order_id, b->filled, b->status_message[0] ? ": " : "", b->status_message);
    }
}

static void
s_foreign (s_run_t *r)
{
    const struct recon_diff_in *in = r->in;
    for (int i = 0; i < in->nborders; i++) {
        const struct recon_border *b = &in->borders[i];
        if (s_ours_by_broker (in, b->order_id, b->tag) >= 0)
            continue;
        struct recon_finding *f = s_add (r, RECON_FOREIGN_ORDER, b->sym);
        snprintf (f->broker_id, sizeof f->broker_id, "%s", b->order_id);
        snprintf (f->broker_status, sizeof f->broker_status, "%s", b->status);
        f->broker_qty = b->filled;
        f->side = b->side;
        bool sqoff = !strcmp (b->placed_by, "ADMINSQF");
        snprintf (f->text, sizeof f->text,
                  "%s: broker order %s (%s %" PRId64 ", %s, filled %" PRId64
                  ") is not ours: %s%s%s",
                  b->sym, b->order_id, kt_side_str (b->side), b->qty, b->status, b->filled,
                  sqoff ? "the broker's square-off" : "placed by ",
                  sqoff ? "" : (b->placed_by[0] ? b->placed_by : "?"),
                  b->tag[0] && !sqoff ? ", tag unknown to us" : "");
    }
}

int
recon_diff_run (const struct recon_diff_in *in, struct recon_finding *out, int max,
                struct recon_counts *counts)
{
    memset (counts, 0, sizeof *counts);
    s_run_t r = {.in = in, .out = out, .max = max > 0 ? max : 0, .counts = counts};
    s_fills (&r);
    s_positions (&r);
    s_orders (&r);
    s_foreign (&r);
    return r.n;
}
