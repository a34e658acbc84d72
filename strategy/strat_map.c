/*  strat_map - the strategy's orders between the core (order ids) and the pipeline
 *  (coids, ORDER_INTENTs, EXEC_EVENTs, decisions). Pure: no I/O, fixed tables. */

#include "strat.h"

#include <stdio.h>
#include <string.h>

int64_t
strat_map_open_units (const struct strat_map_order *o)
{
    int64_t n = o->filled - o->stop_filled - o->exit_filled;
    return n > 0 ? n : 0;
}

struct strat_map_order *
strat_map_by_id (struct strat_map *m, uint32_t order_id)
{
    for (int i = 0; order_id && i < STRAT_MAP_ORDERS; i++)
        if (m->ord[i].order_id == order_id)
            return &m->ord[i];
    return NULL;
}

struct strat_map_order *
strat_map_by_coid (struct strat_map *m, const char *coid)
{
    for (int i = 0; coid[0] && i < STRAT_MAP_ORDERS; i++)
        if (m->ord[i].order_id && strcmp (m->ord[i].coid, coid) == 0)
            return &m->ord[i];
    return NULL;
}

struct strat_map_order *
strat_map_add (struct strat_map *m, const struct strat_intent *it, const char *coid,
               const char *sym)
{
    struct strat_map_order *o = NULL;
    for (int i = 0; i < STRAT_MAP_ORDERS && !o; i++)
        if (!m->ord[i].order_id)
            o = &m->ord[i];
    for (int i = 0; i < STRAT_MAP_ORDERS && !o; i++)
        if (!m->ord[i].working && strat_map_open_units (&m->ord[i]) == 0)
            o = &m->ord[i];
    if (!o)
        return NULL;
    memset (o, 0, sizeof *o);
    o->order_id = it->order_id;
    snprintf (o->coid, sizeof o->coid, "%s", coid);
    snprintf (o->sym, sizeof o->sym, "%s", sym);
    o->token = it->token;
    o->itype = it->itype;
    strat_map_set (o, it);
    o->working = true;
    return o;
}

void
strat_map_set (struct strat_map_order *o, const struct strat_intent *it)
{
    o->qty = it->qty;
    o->trigger = it->trigger;
    o->price = it->price;
    o->sl_price = it->sl_price;
    o->stop_price = it->stop_price;
    o->r_value = it->r_value;
}

int
strat_map_sent_add (struct strat_map *m, const char *intent_id, strat_ikind_t kind,
                    uint32_t order_id, uint32_t replaces)
{
    for (int i = 0; i < STRAT_MAP_SENT; i++) {
        struct strat_map_sent *s = &m->sent[i];
        if (s->intent_id[0])
            continue;
        snprintf (s->intent_id, sizeof s->intent_id, "%s", intent_id);
        s->kind = kind;
        s->order_id = order_id;
        s->replaces = replaces;
        return 0;
    }
    return -1;
}

int
strat_map_sent_take (struct strat_map *m, const char *intent_id, strat_ikind_t *kind,
                     uint32_t *order_id, uint32_t *replaces)
{
    for (int i = 0; intent_id[0] && i < STRAT_MAP_SENT; i++) {
        struct strat_map_sent *s = &m->sent[i];
        if (strcmp (s->intent_id, intent_id) != 0)
            continue;
        *kind = s->kind;
        *order_id = s->order_id;
        if (replaces)
            *replaces = s->replaces;
        memset (s, 0, sizeof *s);
        return 0;
    }
    return -1;
}

struct strat_map_order *
strat_map_replaced (struct strat_map *m, const struct strat_intent *cancel,
                    const struct strat_intent *place)
{
    if (cancel->kind != STRAT_I_CANCEL || cancel->why != STRAT_WHY_REPLACED ||
        place->kind != STRAT_I_PLACE || place->itype != cancel->itype)
        return NULL;
    struct strat_map_order *o = strat_map_by_id (m, cancel->order_id);
    //  A partly filled entry is a position: its cancel is not a replacement.
    if (!o || !o->working || o->filled > 0 || o->itype != place->itype)
        return NULL;
    return o;
}

int
strat_map_intent (const struct strat_intent *it, const struct strat_map_order *o, const char *id,
                  const char *sid, kt_product_t product, struct kt_intent *out)
{
    memset (out, 0, sizeof *out);
    if (!o)
        return -1;
    snprintf (out->intent_id, sizeof out->intent_id, "%s", id);
    snprintf (out->strategy, sizeof out->strategy, "%s", sid);
    snprintf (out->sym, sizeof out->sym, "%s", o->sym);
    out->product = product;
    switch (it->kind) {
        case STRAT_I_PLACE:
        case STRAT_I_MODIFY:
            out->purpose = it->kind == STRAT_I_PLACE ? KT_PURPOSE_ENTRY : KT_PURPOSE_MODIFY;
            if (it->kind == STRAT_I_MODIFY)
                snprintf (out->ref, sizeof out->ref, "%s", o->coid);
            out->side = it->side;
            out->order_type = it->order_type;
            out->qty = it->qty;
            out->trigger = it->trigger;
            out->price = it->price;
            out->has_stop = it->sl_price > 0;
            out->stop_trigger = it->sl_price;
            out->stop_price = it->stop_price;
            out->r_value = it->r_value;
            return 0;
        case STRAT_I_CANCEL:
            out->purpose = KT_PURPOSE_CANCEL;
            snprintf (out->ref, sizeof out->ref, "%s", o->coid);
            out->side = KT_SIDE_SELL;
            out->order_type = KT_OT_SL;
            out->qty = o->qty;
            out->trigger = o->trigger;
            out->price = o->price;
            return 0;
        case STRAT_I_FLATTEN:
            if (strat_map_open_units (o) <= 0)
                return -1;
            out->purpose = KT_PURPOSE_FLATTEN;
            //  The journal's exit_reason, spelled as the backtest's trades.csv
            out->reason = it->why == STRAT_WHY_TARGET_DAY ? KT_EXIT_TARGET_DAY
                          : it->why == STRAT_WHY_LOSS_DAY ? KT_EXIT_LOSS_DAY
                          : it->why == STRAT_WHY_TIME     ? KT_EXIT_TIME
                                                          : KT_EXIT_NONE;
            snprintf (out->ref, sizeof out->ref, "%s", o->coid);
            out->side = KT_SIDE_BUY;
            out->order_type = KT_OT_MARKET;
            out->qty = strat_map_open_units (o);
            return 0;
        default:
            return -1;
    }
}

//  The price of the units newly filled: the last fill's when it covers them, else the
//  order's average (several fills reported at once).
static int64_t
s_fill_px (const struct kt_exec_event *ev, int64_t delta)
{
    if (ev->last_qty == delta && ev->last_px > 0)
        return ev->last_px;
    return ev->avg_px > 0 ? ev->avg_px : ev->last_px;
}

static struct strat_map_exit *
s_exit_of (struct strat_map *m, const char *coid)
{
    for (int i = 0; i < STRAT_MAP_EXITS; i++)
        if (strcmp (m->exit[i].coid, coid) == 0)
            return &m->exit[i];
    struct strat_map_exit *x = &m->exit[m->exit_next];
    m->exit_next = (m->exit_next + 1) % STRAT_MAP_EXITS;
    memset (x, 0, sizeof *x);
    snprintf (x->coid, sizeof x->coid, "%s", coid);
    return x;
}

static int
s_push (struct strat_exec *out, int n, strat_ev_t kind, const struct strat_map_order *o,
        int64_t qty, int64_t px)
{
    if (n >= STRAT_MAP_EV_MAX)
        return n;
    out[n] = (struct strat_exec){kind, o->order_id, o->token, 0, qty, px};
    return n + 1;
}

static bool
s_fill_kind (kt_exec_kind_t k)
{
    return k == KT_EXEC_PARTIAL || k == KT_EXEC_FILLED || k == KT_EXEC_CANCELLED ||
           k == KT_EXEC_EXPIRED || k == KT_EXEC_MODIFIED;
}

int
strat_map_exec (struct strat_map *m, const struct kt_exec_event *ev, struct strat_exec *out)
{
    int n = 0;
    //  The entry itself (PLACE's coid; a MODIFY keeps the order and its coid).
    struct strat_map_order *o = strat_map_by_coid (m, ev->coid);
    if (o && ev->purpose != KT_PURPOSE_STOP && ev->purpose != KT_PURPOSE_EXIT &&
        ev->purpose != KT_PURPOSE_FLATTEN) {
        if (s_fill_kind (ev->event) && ev->filled_qty > o->filled) {
            int64_t delta = ev->filled_qty - o->filled;
            o->filled = ev->filled_qty;
            n = s_push (out, n, STRAT_EV_ENTRY_FILL, o, delta, s_fill_px (ev, delta));
        }
        switch (ev->event) {
            case KT_EXEC_FILLED:
                o->working = false;
                break;
            case KT_EXEC_CANCELLED:
            case KT_EXEC_EXPIRED:
                o->working = false;
                n = s_push (out, n, STRAT_EV_CANCELLED, o, 0, 0);
                break;
            case KT_EXEC_REJECTED:
                //  A refused MODIFY or CANCEL leaves the order as it was: not the entry's end.
                if (ev->purpose == KT_PURPOSE_MODIFY || ev->purpose == KT_PURPOSE_CANCEL)
                    break;
                o->working = false;
                n = s_push (out, n, STRAT_EV_REJECTED, o, 0, 0);
                break;
            default:
                break;
        }
        return n;
    }
    //  Its attached stop: placed by exec-gateway for the entry's intent.
    if (ev->purpose == KT_PURPOSE_STOP) {
        o = strat_map_by_coid (m, ev->intent_id);
        for (int i = 0; !o && i < STRAT_MAP_ORDERS; i++) {
            size_t len = strlen (m->ord[i].coid);
            if (m->ord[i].order_id && len && strncmp (ev->coid, m->ord[i].coid, len) == 0)
                o = &m->ord[i];
        }
        if (!o || !s_fill_kind (ev->event))
            return 0;
        //  An entry's stop may be several orders (resized as the entry fills): each
        //  stop order's cumulative quantity counts on its own.
        struct strat_map_exit *x = s_exit_of (m, ev->coid);
        int64_t delta = ev->filled_qty - x->filled;
        if (delta <= 0)
            return 0;
        x->filled = ev->filled_qty;
        o->stop_filled += delta;
        return s_push (out, n, STRAT_EV_STOP_FILL, o, delta, s_fill_px (ev, delta));
    }
    //  Exits (flatten): by symbol, oldest position first.
    if ((ev->purpose == KT_PURPOSE_EXIT || ev->purpose == KT_PURPOSE_FLATTEN) &&
        s_fill_kind (ev->event)) {
        bool held = false;
        for (int i = 0; i < STRAT_MAP_ORDERS && !held; i++)
            held = m->ord[i].order_id && strcmp (m->ord[i].sym, ev->sym) == 0 &&
                   strat_map_open_units (&m->ord[i]) > 0;
        if (!held)
            return 0;
        struct strat_map_exit *x = s_exit_of (m, ev->coid);
        int64_t delta = ev->filled_qty - x->filled;
        if (delta <= 0)
            return 0;
        x->filled = ev->filled_qty;
        int64_t px = s_fill_px (ev, delta);
        //  Oldest first: the lowest order id.
        while (delta > 0 && n < STRAT_MAP_EV_MAX) {
            struct strat_map_order *best = NULL;
            for (int i = 0; i < STRAT_MAP_ORDERS; i++) {
                struct strat_map_order *c = &m->ord[i];
                if (c->order_id && strcmp (c->sym, ev->sym) == 0 && strat_map_open_units (c) > 0 &&
                    (!best || c->order_id < best->order_id))
                    best = c;
            }
            if (!best)
                break;
            int64_t q = strat_map_open_units (best);
            if (q > delta)
                q = delta;
            best->exit_filled += q;
            delta -= q;
            n = s_push (out, n, STRAT_EV_EXIT_FILL, best, q, px);
        }
    }
    return n;
}

strat_dec_t
strat_map_decision (strat_ikind_t kind, uint32_t order_id, const struct kt_decision *d, int64_t ts,
                    struct strat_exec *ev)
{
    memset (ev, 0, sizeof *ev);
    ev->order_id = order_id;
    ev->ts = ts;
    if (!d)
        return STRAT_DEC_ALERT;
    bool entry = kind == STRAT_I_PLACE || kind == STRAT_I_MODIFY;
    switch (d->verdict) {
        case KT_VERDICT_APPROVE:
            return STRAT_DEC_NONE;
        case KT_VERDICT_REDUCE:
            if (!entry)
                return STRAT_DEC_NONE;
            ev->kind = STRAT_EV_REDUCED;
            ev->qty = d->qty;
            return STRAT_DEC_EVENT;
        default: //  BLOCK, HALT (and anything unknown: refused)
            if (kind == STRAT_I_PLACE) {
                ev->kind = STRAT_EV_REJECTED;
                return STRAT_DEC_EVENT;
            }
            return kind == STRAT_I_MODIFY ? STRAT_DEC_CANCEL : STRAT_DEC_ALERT;
    }
}
