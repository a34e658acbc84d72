/*  kt_recon - the declaration of recon:last, and its reader and writer. */

#include "kt_recon.h"

#include <stdio.h>
#include <string.h>

#define S_I64(f, doc)                                                                              \
    {                                                                                              \
#f, KT_SF_I64, offsetof(struct kt_recon_last, f), sizeof(int64_t), NULL, NULL, doc         \
    }
#define S_BOOL(f, doc)                                                                             \
    {                                                                                              \
#f, KT_SF_BOOL, offsetof(struct kt_recon_last, f), sizeof(bool), NULL, NULL, doc           \
    }
#define S_STR(f, doc)                                                                              \
    {                                                                                              \
#f, KT_SF_STR, offsetof(struct kt_recon_last, f), sizeof((struct kt_recon_last *) 0)->f,   \
            NULL, NULL, doc                                                                        \
    }

static const kt_schema_field_t s_last_fields[] = {
    S_I64 (run, "runs since the reconciler started"),
    S_I64 (ts_ns, "when the comparison was made, ns"),
    S_I64 (duration_us, "broker calls + comparison + actions, microseconds"),
    S_BOOL (agree, "1 when this run found the broker and Redis equal"),
    S_I64 (agree_ns, "last run that agreed, ns (0 = none yet)"),
    S_BOOL (session_ok,
            "1 after three successful broker calls, 0 before any and after a TokenException"),
    S_I64 (session_ok_ns, "last run whose broker calls all succeeded, ns (0 = none yet)"),
    S_STR (broker_error, "why the broker comparison failed (empty = it did not)"),
    S_I64 (request_ns, "newest recon:request requested_ns answered so far, ns (0 = none)"),
    S_I64 (broker_positions, "rows of the broker's net positions"),
    S_I64 (broker_orders, "rows of the broker's order book"),
    S_I64 (broker_trades, "rows of the broker's trade book"),
    S_I64 (findings, "findings of every class"),
    S_I64 (unconfirmed, "findings inside the retry budget, not acted on yet"),
    S_I64 (missing_fill, "broker fills of our orders missing in the book"),
    S_I64 (closed_by_stop, "positions closed at the broker by our stop"),
    S_I64 (venue_close, "positions closed by the venue's square-off"),
    S_I64 (unknown_position, "broker positions the book does not have"),
    S_I64 (qty_mismatch, "positions whose quantities differ"),
    S_I64 (order_state, "orders whose state differs"),
    S_I64 (unresolved, "UNRESOLVED orders settled or awaiting the broker"),
    S_I64 (applied, "fills applied by this run"),
    S_I64 (settled, "orders settled by this run"),
    S_I64 (adopted, "positions adopted by this run"),
    S_I64 (halted, "1 when this run set the kill switch"),
    S_I64 (failed, "actions that failed"),
    KT_SF_END};

const kt_schema_key_t kt_key_recon_last = {"recon:last",
                                           "recon:last",
                                           KT_SK_HASH,
                                           "reconciler",
                                           KT_LIFE_DURABLE,
                                           "the last reconciliation: time, agreement, broker "
                                           "session, counts per class, duration",
                                           s_last_fields};

//  The answer to a queued recon:last write: only a failure is news.
static void
s_put_done (const kt_store_result_t *res, void *arg)
{
    (void) arg;
    if (res->kind != KT_STORE_INT)
        kt_log_error ("recon.last", KT_S ("why", res->str), KT_END);
}

int
kt_recon_last_put (kt_store_t *store, const struct kt_recon_last *rec, char *why, size_t whylen)
{
    if (kt_schema_send (store, &kt_key_recon_last, NULL, rec, s_put_done, NULL) < 0) {
        snprintf (why, whylen, "recon:last: write queue full");
        return -1;
    }
    return 0;
}

int
kt_recon_last_get (kt_store_t *store, struct kt_recon_last *out, char *why, size_t whylen)
{
    memset (out, 0, sizeof *out);
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_recon_last, NULL);
    const char *argv[] = {"HGETALL", key.s};
    kt_store_result_t r = kt_store_call (store, 2, argv, NULL);
    if (r.kind != KT_STORE_ARR) {
        snprintf (why, whylen, "recon:last: %s", r.str);
        kt_store_result_free (&r);
        return -1;
    }
    int rc = r.elements > 0 ? 1 : 0;
    for (size_t i = 0; i + 1 < r.elements; i += 2) {
        kt_store_result_t f = kt_store_result_at (&r, i), v = kt_store_result_at (&r, i + 1);
        if (f.kind == KT_STORE_STR && v.kind == KT_STORE_STR &&
            kt_schema_set (&kt_key_recon_last, out, f.str, f.len, v.str, v.len, why, whylen) < 0) {
            rc = -1;
            break;
        }
    }
    kt_store_result_free (&r);
    return rc;
}
