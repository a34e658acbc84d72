/*  recon_act - the reconciler's side of Redis: read the part of the book a comparison
 *  needs, and carry out the findings.
 *
 *  Every change goes through kt_book (one script per change, with its own event), so
 *  the book stays the one book: fills by the broker's trade id (applied once however
 *  often exec-gateway or the reconciler reports them), order outcomes with
 *  kt_book_order_update. A settle first re-reads the order and acts only if it still has
 *  the status the comparison saw, so an order exec-gateway settled meanwhile is left
 *  alone and a settle happens once. */

#include "recon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
recon_redis_init (struct recon_redis *r)
{
    memset (r, 0, sizeof *r);
    r->pos = calloc (RECON_RPOS_MAX, sizeof *r->pos);
    r->ord = calloc (RECON_RORD_MAX, sizeof *r->ord);
    r->known = calloc (RECON_KNOWN_MAX, sizeof *r->known);
    if (!r->pos || !r->ord || !r->known)
        abort ();
}

void
recon_redis_free (struct recon_redis *r)
{
    free (r->pos);
    free (r->ord);
    free (r->known);
    memset (r, 0, sizeof *r);
}

struct s_read {
    struct recon_redis *r;
    int dropped; //  rows beyond the arrays
};

static void
s_on_pos (const struct kt_pos_rec *pos, void *arg)
{
    struct s_read *rd = arg;
    if (rd->r->npos < RECON_RPOS_MAX)
        rd->r->pos[rd->r->npos++] = *pos;
    else
        rd->dropped++;
}

static bool
s_have_order (const struct recon_redis *r, const char *coid)
{
    for (int i = 0; i < r->nord; i++)
        if (strcmp (r->ord[i].coid, coid) == 0)
            return true;
    return false;
}

static void
s_on_order (const struct kt_order_rec *o, void *arg)
{
    struct s_read *rd = arg;
    if (s_have_order (rd->r, o->coid))
        return;
    if (rd->r->nord < RECON_RORD_MAX)
        rd->r->ord[rd->r->nord++] = *o;
    else
        rd->dropped++;
}

//  Add order:<coid> to the view if it exists. Returns 0 or -1 (why) on a store failure.
static int
s_read_order (kt_store_t *store, struct s_read *rd, const char *coid, char *why, size_t whylen)
{
    if (!coid[0] || s_have_order (rd->r, coid))
        return 0;
    struct kt_order_rec o;
    int rc = kt_book_order_get (store, coid, &o, why, whylen);
    if (rc < 0)
        return kt_store_is_ready (store) ? 0 : -1; //  a malformed hash is not ours to fix
    if (rc == 1)
        s_on_order (&o, rd);
    return 0;
}

int
recon_redis_read (kt_store_t *store, const struct recon_broker *b, struct recon_redis *r, char *why,
                  size_t whylen)
{
    r->npos = r->nord = r->nknown = 0;
    struct s_read rd = {r, 0};
    int skipped = 0;
    if (kt_book_each_position (store, s_on_pos, &rd, &skipped, why, whylen) < 0 ||
        kt_book_each_open_order (store, s_on_order, &rd, &skipped, why, whylen) < 0)
        return -1;
    //  The orders the broker names: by our tag, and the venue's under "v" + order id.
    for (int i = 0; i < b->nord; i++) {
        char vcoid[KT_ID_LEN];
        recon_venue_coid (&b->ord[i], vcoid, sizeof vcoid);
        if (s_read_order (store, &rd, b->ord[i].tag, why, whylen) < 0 ||
            s_read_order (store, &rd, vcoid, why, whylen) < 0)
            return -1;
    }
    //  The trade ids each of those orders has applied.
    for (int i = 0; i < r->nord; i++) {
        struct kt_skey key =
            kt_schema_key (kt_store_prefix (store), &kt_key_order_trades, r->ord[i].coid);
        const char *argv[] = {"SMEMBERS", key.s};
        kt_store_result_t rep = kt_store_call (store, 2, argv, NULL);
        if (rep.kind != KT_STORE_ARR) {
            snprintf (why, whylen, "%s: %s", key.s, rep.str);
            kt_store_result_free (&rep);
            return -1;
        }
        for (size_t k = 0; k < rep.elements; k++) {
            kt_store_result_t m = kt_store_result_at (&rep, k);
            if (m.kind != KT_STORE_STR || m.len >= RECON_TRADE_ID_LEN)
                continue;
            if (r->nknown == RECON_KNOWN_MAX) {
                rd.dropped++;
                break;
            }
            struct recon_known *kn = &r->known[r->nknown++];
            snprintf (kn->coid, sizeof kn->coid, "%s", r->ord[i].coid);
            memcpy (kn->trade_id, m.str, m.len);
            kn->trade_id[m.len] = '\0';
        }
        kt_store_result_free (&rep);
    }
    if (rd.dropped) {
        //  A partial view could report agreement it has not checked.
        snprintf (why, whylen, "the book is larger than the reconciler's view (%d rows left out)",
                  rd.dropped);
        return -1;
    }
    return 0;
}

//  ---- actions ------------------------------------------------------------------------------

//  Set the order's exit reason to RECONCILED before its fill, so the position it closes
//  records why.
static int
s_mark_reconciled (kt_store_t *store, const char *coid, int64_t now_ns, char *why, size_t whylen)
{
    struct kt_order_rec o;
    int rc = kt_book_order_get (store, coid, &o, why, whylen);
    if (rc <= 0) {
        if (rc == 0)
            snprintf (why, whylen, "order %s not in the book", coid);
        return -1;
    }
    if (strcmp (o.exit_reason, "RECONCILED") == 0)
        return 0;
    snprintf (o.exit_reason, sizeof o.exit_reason, "RECONCILED");
    return kt_book_order_update (store, &o, now_ns, why, whylen);
}

//  Apply one broker fill. Returns 1 applied, 0 duplicate, -1 failure (why).
static int
s_fill (kt_store_t *store, const struct recon_finding *f, const char *coid, int64_t now_ns,
        char *why, size_t whylen)
{
    struct kt_book_fill fill = {0};
    snprintf (fill.coid, sizeof fill.coid, "%s", coid);
    snprintf (fill.trade_id, sizeof fill.trade_id, "%s", f->trade_id);
    fill.qty = f->qty;
    fill.price = f->price;
    fill.ts_ns = f->ts_ns ? f->ts_ns : now_ns;
    struct kt_book_fill_result res;
    if (kt_book_fill (store, &fill, &res, why, whylen) < 0)
        return -1;
    return res.duplicate ? 0 : 1;
}

//  Record an order that is not one of our intents (the venue's square-off, an adopted
//  position). Returns 0 (created or already there) or -1 (why).
static int
s_create (kt_store_t *store, const struct recon_finding *f, const char *coid, const char *intent,
          kt_purpose_t purpose, int64_t qty, const char *exit_reason, int64_t now_ns, char *why,
          size_t whylen)
{
    struct kt_order_rec o = {0};
    snprintf (o.coid, sizeof o.coid, "%s", coid);
    snprintf (o.intent_id, sizeof o.intent_id, "%s", intent);
    snprintf (o.broker_id, sizeof o.broker_id, "%s", f->order_id);
    snprintf (o.sym, sizeof o.sym, "%s", f->sym);
    snprintf (o.broker_status, sizeof o.broker_status, "%s", f->broker_status);
    snprintf (o.exit_reason, sizeof o.exit_reason, "%s", exit_reason);
    o.token = f->token;
    o.side = f->side;
    o.order_type = KT_OT_MARKET;
    o.product = KT_PROD_MIS;
    o.purpose = purpose;
    o.qty = qty;
    o.price = f->price;
    o.status = KT_OS_OPEN;
    return kt_book_order_create (store, &o, now_ns, NULL, why, whylen) < 0 ? -1 : 0;
}

static int
s_settle (kt_store_t *store, const struct recon_finding *f, int64_t now_ns, char *why,
          size_t whylen)
{
    struct kt_order_rec o;
    int rc = kt_book_order_get (store, f->coid, &o, why, whylen);
    if (rc <= 0) {
        if (rc == 0)
            snprintf (why, whylen, "order %s not in the book", f->coid);
        return -1;
    }
    if (o.status != f->redis_status)
        return 0; //  settled by someone else since the comparison
    o.status = f->settle_status;
    snprintf (o.broker_status, sizeof o.broker_status, "%s", f->broker_status);
    if (f->order_id[0])
        snprintf (o.broker_id, sizeof o.broker_id, "%s", f->order_id);
    if (f->settle_status == KT_OS_REJECTED || f->settle_status == KT_OS_CANCELLED ||
        f->settle_status == KT_OS_EXPIRED)
        snprintf (o.reason, sizeof o.reason, "%s%s",
                  f->broker_status[0] ? "" : "NOT_AT_BROKER: ", f->text);
    if (kt_book_order_update (store, &o, now_ns, why, whylen) < 0)
        return -1;
    return 1;
}

//  The kill switch risk-gate honours (docs/risk-gate.md "Kill switch"), set only when it
//  is not set already: a halt that stands keeps its first reason and time.
static const char s_lua_halt[] =
    "if redis.call('HGET', KEYS[1], 'active') == '1' then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'active', '1', 'reason', ARGV[1], 'by', 'reconciler',\n"
    "           'since_ns', ARGV[2])\n"
    "return 1\n";

//  Set the kill switch. Synchronous: the finding's outcome says whether it is set.
//  Returns 1 set now, 0 already set, -1 failure (why).
static int
s_halt (kt_store_t *store, const char *reason, int64_t now_ns, char *why, size_t whylen)
{
    kt_key_t key = kt_store_keyv (store, "risk:kill");
    char ns[24];
    snprintf (ns, sizeof ns, "%" PRId64, now_ns);
    const char *keys[] = {key.s};
    const char *args[] = {reason, ns};
    kt_store_result_t r = kt_store_eval_call (
        store, kt_store_script (store, "recon_halt", s_lua_halt), 1, keys, 2, args);
    int rc = r.kind == KT_STORE_INT ? (int) r.integer : -1;
    if (rc < 0)
        snprintf (why, whylen, "risk:kill: %s", r.str);
    kt_store_result_free (&r);
    if (rc == 1)
        kt_store_event (store,
                        (const kt_kv_t[]){KT_S ("type", "risk.kill"), KT_S ("by", "reconciler"),
                                          KT_S ("reason", reason), KT_END});
    return rc;
}

//  One `events` entry per finding, with both views and what was done.
static void
s_event (kt_store_t *store, const struct recon_finding *f, const char *outcome, const char *why)
{
    kt_store_event (
        store,
        (const kt_kv_t[]){
            KT_S ("type", "recon.finding"),
            KT_S ("class", recon_class_str (f->cls)),
            KT_S ("action", recon_action_str (f->action)),
            KT_S ("outcome", outcome),
            KT_S ("sym", f->sym),
            KT_S ("coid", f->coid),
            KT_S ("order_id", f->order_id),
            KT_S ("trade_id", f->trade_id),
            KT_S ("side", f->side ? kt_side_str (f->side) : ""),
            KT_I ("qty", f->qty),
            KT_I ("price", f->price),
            KT_I ("broker_qty", f->broker_qty),
            KT_I ("redis_qty", f->redis_qty),
            KT_S ("broker_status", f->broker_status),
            KT_S ("redis_status", f->redis_status ? kt_ord_status_str (f->redis_status) : ""),
            KT_S ("settle_status", f->settle_status ? kt_ord_status_str (f->settle_status) : ""),
            KT_I ("seen", f->seen),
            KT_B ("proven", f->proven),
            KT_S ("text", f->text),
            KT_S ("why", why ? why : ""),
            KT_END});
}

//  One finding's action. Returns the outcome word for events.
static const char *
s_do (kt_proc_t *proc, const struct recon_finding *f, int idx, int64_t now_ns,
      struct recon_act_stats *st, char *why, size_t whylen)
{
    kt_store_t *store = kt_proc_store (proc);
    kt_alert_out_t *al = kt_proc_alerts (proc);
    char akey[KT_KEY_LEN];
    snprintf (akey, sizeof akey, "recon.%s:%s", recon_class_str (f->cls),
              f->coid[0] ? f->coid : f->sym);
    int rc = 0;
    switch (f->action) {
        case RECON_A_NONE:
            return f->proven ? "none" : "waiting";
        case RECON_A_FILL:
            if (f->reconciled_exit && s_mark_reconciled (store, f->coid, now_ns, why, whylen) < 0)
                rc = -1;
            else
                rc = s_fill (store, f, f->coid, now_ns, why, whylen);
            break;
        case RECON_A_VENUE:
            if (s_create (store, f, f->coid, "VENUE", KT_PURPOSE_EXIT,
                          f->order_qty > 0 ? f->order_qty : f->qty, "RECONCILED", now_ns, why,
                          whylen) < 0)
                rc = -1;
            else
                rc = s_fill (store, f, f->coid, now_ns, why, whylen);
            break;
        case RECON_A_SETTLE:
            rc = s_settle (store, f, now_ns, why, whylen);
            if (rc > 0)
                st->settled++;
            break;
        case RECON_A_ADOPT: {
            //  A coid of its own (run time and finding: unique, <= 20 chars for a tag), and
            //  a trade id derived from it, so the adoption is one fill.
            char coid[KT_ID_LEN];
            snprintf (coid, sizeof coid, "x%" PRId64 "-%d", now_ns / 1000000 % 10000000000000,
                      idx % 1000);
            struct recon_finding g = *f;
            snprintf (g.trade_id, sizeof g.trade_id, "adopt-%s", coid);
            g.order_id[0] = '\0';
            g.ts_ns = now_ns;
            if (s_create (store, &g, coid, "EXTERNAL", KT_PURPOSE_ENTRY, f->qty, "", now_ns, why,
                          whylen) < 0 ||
                s_fill (store, &g, coid, now_ns, why, whylen) < 0)
                rc = -1;
            else {
                st->adopted++;
                kt_alert_send (al, KT_SEV_WARNING, akey,
                               "reconciler adopted %s %" PRId64
                               " %s as EXTERNAL (%s): broker %" PRId64 ", book %" PRId64,
                               kt_side_str (f->side), f->qty, f->sym, coid, f->broker_qty,
                               f->redis_qty);
            }
            break;
        }
        case RECON_A_HALT: {
            char reason[KT_TEXT_LEN + 16];
            snprintf (reason, sizeof reason, "RECON: %s", f->text);
            rc = s_halt (store, reason, now_ns, why, whylen);
            kt_alert_send (al, KT_SEV_CRITICAL, akey,
                           "HALT: %s - broker view: %s qty %" PRId64 "; Redis view: %s qty %" PRId64
                           "%s%s",
                           recon_class_str (f->cls), f->sym, f->broker_qty, f->sym, f->redis_qty,
                           rc < 0 ? "; kill switch NOT set: " : "", rc < 0 ? why : "");
            if (rc >= 0)
                st->halted = 1;
            if (rc == 0)
                return "already_halted";
            break;
        }
        case RECON_A_ALERT:
            kt_alert_send (al, KT_SEV_CRITICAL, akey, "reconciler: %s", f->text);
            return "alerted";
    }
    if (rc < 0) {
        st->failed++;
        kt_log_error ("recon.act", KT_S ("class", recon_class_str (f->cls)),
                      KT_S ("action", recon_action_str (f->action)), KT_S ("sym", f->sym),
                      KT_S ("coid", f->coid), KT_S ("why", why), KT_END);
        if (f->action != RECON_A_HALT)
            kt_alert_send (al, KT_SEV_CRITICAL, akey, "reconciler could not %s (%s): %s",
                           recon_action_str (f->action), f->text, why);
        return "failed";
    }
    if (f->action == RECON_A_FILL || f->action == RECON_A_VENUE) {
        if (rc == 0)
            return "duplicate";
        st->applied++;
        const char *what = f->cls == RECON_C_CLOSED_BY_STOP
                               ? "booked our stop's fill that closed the position (exit RECONCILED)"
                           : f->cls == RECON_C_VENUE_CLOSE
                               ? "booked the venue's square-off (exit RECONCILED)"
                               : "applied a fill the book had missed";
        kt_alert_send (al, KT_SEV_WARNING, akey, "reconciler %s: %s", what, f->text);
    } else if (f->action == RECON_A_SETTLE) {
        if (rc == 0)
            return "already_settled";
        kt_alert_send (al, f->broker_status[0] ? KT_SEV_INFO : KT_SEV_WARNING, akey,
                       "reconciler settled order %s as %s: %s", f->coid,
                       kt_ord_status_str (f->settle_status), f->text);
    }
    return "done";
}

void
recon_act (kt_proc_t *proc, const struct recon_result *res, int64_t now_ns,
           struct recon_act_stats *stats)
{
    memset (stats, 0, sizeof *stats);
    //  Settles first (an UNRESOLVED order becomes OPEN, then its fills finish it), then
    //  fills, then what depends on positions (adopt, halt), then alerts.
    static const recon_action_t order[] = {RECON_A_SETTLE, RECON_A_FILL, RECON_A_VENUE,
                                           RECON_A_ADOPT,  RECON_A_HALT, RECON_A_ALERT,
                                           RECON_A_NONE};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (int i = 0; i < res->n; i++) {
            const struct recon_finding *f = &res->f[i];
            if (f->action != order[k])
                continue;
            char why[256] = "";
            const char *outcome = s_do (proc, f, i, now_ns, stats, why, sizeof why);
            kt_log_info ("recon.finding", KT_S ("class", recon_class_str (f->cls)),
                         KT_S ("action", recon_action_str (f->action)), KT_S ("outcome", outcome),
                         KT_S ("sym", f->sym), KT_S ("coid", f->coid),
                         KT_S ("trade_id", f->trade_id), KT_I ("broker_qty", f->broker_qty),
                         KT_I ("redis_qty", f->redis_qty), KT_S ("broker_status", f->broker_status),
                         KT_I ("seen", f->seen), KT_S ("text", f->text), KT_END);
            s_event (kt_proc_store (proc), f, outcome, why);
        }
}
