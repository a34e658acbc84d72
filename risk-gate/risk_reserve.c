/*  risk_reserve - what a decision writes: the reservation of capital and the position
 *  slot, the exit cover, the rate windows, the switch to HALTED on a HALT, the
 *  intent:<id> record and the `events` entry. The reservation, the pending slot and an
 *  exit's cover are the held record itself (risk:open, intent:<id>): the view derives
 *  them with the book's positions and orders (risk_view_derive). One pass builds the commit
 * (risk_tx) without touching the view; once Redis applied it, a second pass over the same view
 *  applies the same writes to it (tx NULL), so the core's view is what a snapshot would
 *  read, without reading it, and a commit that failed leaves the view as it was.
 *  Pure: no I/O. */

#include <stdio.h>
#include <string.h>
#include "risk.h"

static const char *
s_itype_str (kt_itype_t t)
{
    return t == KT_ITYPE_CE    ? "CE"
           : t == KT_ITYPE_PE  ? "PE"
           : t == KT_ITYPE_FUT ? "FUT"
           : t == KT_ITYPE_EQ  ? "EQ"
                               : "OTHER";
}

//  Only the newest `limit` can decide a limit of `limit`, so the list is trimmed back to
//  limit once it holds twice that (one write in `limit` pushes, not one per push).
int
risk_reserve_window (struct risk_tx *tx, bool apply, const kt_schema_key_t *key, int64_t *ts,
                     int *n, int64_t limit, int64_t now_ns)
{
    int64_t cap = limit > 0 && 2 * limit < RISK_TS_MAX ? 2 * limit : RISK_TS_MAX;
    int64_t keep = *n + 1;
    risk_tx_key (tx, "LPUSH", key, NULL);
    risk_tx_i64 (tx, now_ns);
    if (keep > cap) {
        keep = limit > 0 && limit < RISK_TS_MAX ? limit : RISK_TS_MAX;
        risk_tx_key (tx, "LTRIM", key, NULL);
        risk_tx_i64 (tx, 0);
        risk_tx_i64 (tx, keep - 1);
    }
    if (!apply)
        return (int) keep;
    memmove (ts + 1, ts, (size_t) (keep - 1) * sizeof ts[0]);
    ts[0] = now_ns;
    *n = (int) keep;
    return (int) keep;
}

void
risk_reserve_reasons (struct risk_tx *tx, const struct risk_reason *r, int n)
{
    for (int i = 0; i < n && i < KT_REASONS_MAX; i++) {
        char f[16];
        snprintf (f, sizeof f, "code%d", i + 1);
        risk_tx_pair (tx, f, kt_reason_str (r[i].code));
        snprintf (f, sizeof f, "text%d", i + 1);
        risk_tx_pair (tx, f, r[i].text);
    }
}

static struct risk_order *
s_order (struct risk_view *v, const char *coid)
{
    for (int i = 0; i < v->nord; i++) {
        if (strcmp (v->ord[i].coid, coid) == 0)
            return &v->ord[i];
    }
    return NULL;
}

void
risk_reserve_halt (struct risk_view *view, kt_reason_t code, const char *text, int64_t now_ns,
                   const char *src, struct risk_tx *tx, bool apply)
{
    risk_state_halt_tx (view, code, text, now_ns, src, tx);
    if (!apply)
        return;
    view->state = KT_STATE_HALTED;
    snprintf (view->reason, sizeof view->reason, "%s: %s", kt_reason_str (code), text);
    view->since_ns = now_ns;
    view->day_scoped = risk_breaker_is_day_scoped (code);
    view->halt_seq++;
}

//  The fields every decision's record starts with, then those of a held order (an
//  approved entry or exit: the reservation and the cover) or of any other decision.
#define S_REC_COMMON                                                                               \
    "verdict", "qty", "nreasons", "state", "coid", "ts_ns", "kind", "strategy", "sym", "side",     \
        "purpose", "ref", "stop_trigger"
static const char *const s_rec_held_fields[] = {S_REC_COMMON, "resv",    "unit_cost",
                                                "oqty",       "pending", "itype"};
static const char *const s_rec_done_fields[] = {S_REC_COMMON, "order_type", "price",
                                                "trigger",    "product",    "stop_price",
                                                "r_value",    "exit_reason"};
static const struct risk_tx_layout s_rec_held = {
    1, &kt_key_risk_intent, s_rec_held_fields,
    (int) (sizeof s_rec_held_fields / sizeof s_rec_held_fields[0])};
static const struct risk_tx_layout s_rec_done = {
    2, &kt_key_risk_intent, s_rec_done_fields,
    (int) (sizeof s_rec_done_fields / sizeof s_rec_done_fields[0])};
const struct risk_tx_layout *const risk_reserve_layouts[RISK_RESERVE_NLAYOUTS] = {&s_rec_held,
                                                                                  &s_rec_done};

void
risk_reserve_build (struct risk_view *view, const struct risk_cfg *cfg,
                    const struct risk_reserve_req *req, struct risk_result *res, struct risk_tx *tx,
                    bool apply, struct risk_decided *out)
{
    const struct kt_intent *in = req->intent;
    risk_kind_t kind = res->kind;
    bool approved = res->verdict <= KT_VERDICT_REDUCE;
    if (!approved) {
        res->qty = 0;
        res->cost = 0;
    }
    memset (out, 0, sizeof *out);
    out->verdict = res->verdict;
    out->qty = res->qty;
    out->kind = kind;
    out->nreasons = res->nreasons;
    memcpy (out->reasons, res->reasons, sizeof out->reasons);
    if (res->verdict == KT_VERDICT_HALT && view->state != KT_STATE_HALTED) {
        const char *text = "";
        for (int i = 0; i < res->nreasons; i++) {
            if (res->reasons[i].code == res->halt_code) {
                text = res->reasons[i].text;
                break;
            }
        }
        risk_reserve_halt (view, res->halt_code, text, req->now_ns, req->src, tx, apply);
        out->halted_now = true;
    }
    kt_trading_state_t state = out->halted_now ? KT_STATE_HALTED : view->state;
    out->state = state;
    if (approved)
        snprintf (out->coid, sizeof out->coid, "%s", req->coid);

    int64_t now = req->now_ns;
    bool held = approved && (kind == RISK_KIND_ENTRY || kind == RISK_KIND_EXIT);
    bool wrote_version = false; //  the commit leaves the version to these writes
    if (approved) {
        risk_reserve_window (tx, apply, &kt_key_risk_ts_orders, view->orders_ts, &view->norders_ts,
                             cfg->max_orders_per_s, now);
        if (in->purpose == KT_PURPOSE_MODIFY)
            risk_reserve_window (tx, apply, &kt_key_risk_ts_modifies, view->modifies_ts,
                                 &view->nmodifies_ts, cfg->max_modifies_per_s, now);
    }
    if (approved && kind == RISK_KIND_ENTRY) {
        //  A replacement takes the slot and the reservation of the pending entry it
        //  replaces, in this same commit: exec-gateway cancels that one before placing.
        const struct risk_order *rep = risk_check_replaced (view, in);
        struct risk_order *old = rep ? s_order (view, rep->coid) : NULL;
        if (old) {
            risk_tx_key (tx, "HSET", &kt_key_risk_intent, old->coid);
            risk_tx_pair (tx, "pending", "0");
            risk_tx_pair (tx, "resv", "0");
            risk_tx_pair (tx, "replaced_by", in->intent_id);
        }
        //  The slot and the reservation are the held record itself (risk_view_derive).
        risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
        risk_tx_pair_i64 (tx, "version", view->version + 1);
        wrote_version = true;
        risk_tx_pair_i64 (tx, "last_entry_ns", now);
        if (apply) {
            if (old) {
                old->rec_pending = false;
                old->rec_resv = 0;
            }
            view->last_entry_ns = now;
        }
    } else if (approved && kind == RISK_KIND_MODIFY_ENTRY) {
        struct risk_order *o = s_order (view, in->ref);
        if (o) {
            int64_t unit = res->unit_cost > o->unit_cost ? res->unit_cost : o->unit_cost;
            risk_tx_key (tx, "HSET", &kt_key_risk_intent, in->ref);
            risk_tx_pair_i64 (tx, "resv", o->resv + res->cost);
            risk_tx_pair_i64 (tx, "filled", o->filled);
            risk_tx_pair_i64 (tx, "unit_cost", unit);
            risk_tx_pair_i64 (tx, "oqty", res->qty);
            if (in->has_stop)
                risk_tx_pair_i64 (tx, "stop_trigger", in->stop_trigger);
            if (apply) {
                o->rec_resv = o->resv + res->cost;
                o->rec_filled = o->filled;
                o->unit_cost = unit;
                o->oqty = res->qty;
                if (in->has_stop)
                    o->stop_trigger = in->stop_trigger;
            }
        }
    } else if (approved && kind == RISK_KIND_CANCEL && in->ref[0]) {
        //  A cancelled exit stops covering its position now, not when the cancel is
        //  confirmed: an exit sent right after must not be trapped behind it. Its open
        //  quantity becomes what filled.
        struct risk_order *o = s_order (view, in->ref);
        if (o && o->kind == RISK_KIND_EXIT && o->oqty > o->filled) {
            risk_tx_key (tx, "HSET", &kt_key_risk_intent, in->ref);
            risk_tx_pair_i64 (tx, "oqty", o->filled);
            if (apply)
                o->oqty = o->filled;
        }
    } else if (approved && kind == RISK_KIND_MODIFY && in->ref[0]) {
        struct risk_order *o = s_order (view, in->ref);
        if (o && o->kind == RISK_KIND_EXIT && o->sym[0]) {
            risk_tx_key (tx, "HSET", &kt_key_risk_intent, in->ref);
            risk_tx_pair_i64 (tx, "oqty", res->qty);
            if (apply)
                o->oqty = res->qty;
        }
    }

    //  The record: the decision (for duplicates) and the order as sent, for a look-up
    //  later; every value a field of its own (no packed lists). Fields in the order of
    //  its layout (risk_reserve_layouts), the reasons after them.
    risk_tx_record (tx, held ? &s_rec_held : &s_rec_done, in->intent_id);
    risk_tx_pair (tx, "verdict", kt_verdict_str (res->verdict));
    risk_tx_pair_i64 (tx, "qty", res->qty);
    risk_tx_pair_i64 (tx, "nreasons", res->nreasons);
    risk_tx_pair (tx, "state", state == KT_STATE_NONE ? "" : kt_state_str (state));
    risk_tx_pair (tx, "coid", out->coid);
    risk_tx_pair_i64 (tx, "ts_ns", now);
    risk_tx_pair (tx, "kind", risk_kind_str (kind));
    risk_tx_pair (tx, "strategy", in->strategy);
    risk_tx_pair (tx, "sym", in->sym);
    risk_tx_pair (tx, "side", in->side == KT_SIDE_NONE ? "" : kt_side_str (in->side));
    risk_tx_pair (tx, "purpose", kt_purpose_str (in->purpose));
    risk_tx_pair (tx, "ref", in->ref);
    int64_t stop = in->has_stop ? in->stop_trigger : 0;
    risk_tx_pair_i64 (tx, "stop_trigger", stop);
    if (!held) {
        //  An order risk-gate holds gets these with its sent mark, after the caller's
        //  answer (risk_capital_mark_sent): the commit the caller waits for stays small,
        //  and the sweep asks again only for marked orders, which have them.
        risk_tx_pair (tx, "order_type",
                      in->order_type == KT_OT_NONE ? "" : kt_order_type_str (in->order_type));
        risk_tx_pair_i64 (tx, "price", in->price);
        risk_tx_pair_i64 (tx, "trigger", in->trigger);
        risk_tx_pair (tx, "product",
                      in->product == KT_PROD_NONE ? "" : kt_product_str (in->product));
        risk_tx_pair_i64 (tx, "stop_price", in->has_stop ? in->stop_price : 0);
        risk_tx_pair_i64 (tx, "r_value", in->r_value);
        risk_tx_pair (tx, "exit_reason",
                      in->reason == KT_EXIT_NONE ? "" : kt_exit_reason_str (in->reason));
        risk_reserve_reasons (tx, res->reasons, res->nreasons);
        risk_tx_key (tx, "EXPIRE", &kt_key_risk_intent, in->intent_id);
        risk_tx_i64 (tx, cfg->intent_ttl_s);
    } else {
        //  Absent fields read as 0: filled, answered, unresolved, and sent_ns, written
        //  when risk-gate sends the order (an answer lost after this commit can never
        //  make the sweep send what the caller was told was refused).
        int64_t unit = kind == RISK_KIND_ENTRY ? res->unit_cost : 0;
        int64_t resv = kind == RISK_KIND_ENTRY ? res->cost : 0;
        risk_tx_pair_i64 (tx, "resv", resv);
        risk_tx_pair_i64 (tx, "unit_cost", unit);
        risk_tx_pair_i64 (tx, "oqty", res->qty);
        risk_tx_pair (tx, "pending", kind == RISK_KIND_ENTRY ? "1" : "0");
        risk_tx_pair (tx, "itype", s_itype_str (req->itype));
        risk_reserve_reasons (tx, res->reasons, res->nreasons);
        risk_tx_key (tx, "SADD", &kt_key_risk_open, NULL);
        risk_tx_str (tx, in->intent_id);
        if (apply && view->nord < RISK_ORD_MAX) {
            struct risk_order *o = &view->ord[view->nord++];
            memset (o, 0, sizeof *o);
            snprintf (o->coid, sizeof o->coid, "%s", in->intent_id);
            snprintf (o->sym, sizeof o->sym, "%s", in->sym);
            o->itype = req->itype;
            o->side = in->side;
            o->kind = kind;
            o->oqty = res->qty;
            o->unit_cost = unit;
            o->rec_resv = resv;
            o->rec_pending = kind == RISK_KIND_ENTRY;
            o->decided_ns = now;
            o->stop_trigger = kind == RISK_KIND_ENTRY ? stop : 0;
        } else if (apply)
            view->overflow = true;
    }
    //  The `events` entry of the decision is the caller's: an audit line nothing waits
    //  for, written after the reply (risk_core_mark_sent) on the queued connection.
    if (!wrote_version) {
        risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
        risk_tx_pair_i64 (tx, "version", view->version + 1);
    }
    if (apply) {
        view->version++;
        risk_view_derive (view);
    }
}
