/*  ctl_book - `positions` and `orders`: the one order and position book (kt_book) as
 *  exec-gateway keeps it, read-only. `orders --all` lists every order recorded today
 *  (the book keeps each order's hash after it ends; orders:open holds only the live
 *  ones), found by scanning order:<coid> keys, fine for a day's few hundred orders. */

#include <stdlib.h>
#include <string.h>
#include "ctl_cmd.h"

struct s_vec {
    void *items;
    size_t size;
    int n, cap;
};

static void
s_push (struct s_vec *v, const void *item)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = realloc (v->items, (size_t) v->cap * v->size);
        if (!v->items)
            abort ();
    }
    memcpy ((char *) v->items + (size_t) v->n++ * v->size, item, v->size);
}

static void
s_on_pos (const struct kt_pos_rec *pos, void *arg)
{
    s_push (arg, pos);
}

static void
s_on_order (const struct kt_order_rec *order, void *arg)
{
    s_push (arg, order);
}

static int
s_by_created (const void *a, const void *b)
{
    const struct kt_order_rec *x = a, *y = b;
    if (x->created_ns != y->created_ns)
        return x->created_ns < y->created_ns ? -1 : 1;
    return strcmp (x->coid, y->coid);
}

static int
s_by_sym (const void *a, const void *b)
{
    return strcmp (((const struct kt_pos_rec *) a)->sym, ((const struct kt_pos_rec *) b)->sym);
}

int
ctl_book_positions (ctl_t *ctl, struct kt_pos_rec **out, char *why, size_t whylen)
{
    struct s_vec v = {NULL, sizeof (struct kt_pos_rec), 0, 0};
    *out = NULL;
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store) {
        snprintf (why, whylen, "Redis unavailable");
        return -1;
    }
    if (kt_book_each_position (store, s_on_pos, &v, NULL, why, whylen) < 0) {
        free (v.items);
        return -1;
    }
    if (v.n)
        qsort (v.items, (size_t) v.n, v.size, s_by_sym);
    *out = v.items;
    return v.n;
}

int
ctl_book_open_orders (ctl_t *ctl, struct kt_order_rec **out, char *why, size_t whylen)
{
    *out = NULL;
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store) {
        snprintf (why, whylen, "Redis unavailable");
        return -1;
    }
    return ctl_book_open_orders_in (store, out, why, whylen);
}

int
ctl_book_open_orders_in (kt_store_t *store, struct kt_order_rec **out, char *why, size_t whylen)
{
    struct s_vec v = {NULL, sizeof (struct kt_order_rec), 0, 0};
    *out = NULL;
    if (kt_book_each_open_order (store, s_on_order, &v, NULL, why, whylen) < 0) {
        free (v.items);
        return -1;
    }
    if (v.n)
        qsort (v.items, (size_t) v.n, v.size, s_by_created);
    *out = v.items;
    return v.n;
}

int
ctl_book_orders_between (ctl_t *ctl, int64_t from_ns, int64_t to_ns, struct kt_order_rec **out,
                         int *n, char *why, size_t whylen)
{
    struct s_vec v = {NULL, sizeof (struct kt_order_rec), 0, 0};
    *out = NULL;
    *n = 0;
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store) {
        snprintf (why, whylen, "Redis unavailable");
        return -1;
    }
    const char *pre = kt_store_prefix (store);
    struct kt_skey head = kt_schema_key (pre, &kt_key_order, "");
    struct kt_skey match = kt_schema_key (pre, &kt_key_order, "*");
    char cursor[32] = "0";
    do {
        kt_store_result_t r = kt_store_callf (store, "SCAN %s MATCH %s COUNT 500", cursor, match.s);
        if (r.kind != KT_STORE_ARR || r.elements != 2) {
            snprintf (why, whylen, "SCAN: %s",
                      r.kind == KT_STORE_DOWN ? r.str : "unexpected reply");
            kt_store_result_free (&r);
            free (v.items);
            return -1;
        }
        snprintf (cursor, sizeof cursor, "%s", kt_store_result_at (&r, 0).str);
        kt_store_result_t keys = kt_store_result_at (&r, 1);
        for (size_t i = 0; i < keys.elements; i++) {
            kt_store_result_t k = kt_store_result_at (&keys, i);
            //  order:<coid>:trades and other sub-keys are not orders.
            if (k.len <= head.len || k.len - head.len >= KT_ID_LEN ||
                strchr (k.str + head.len, ':'))
                continue;
            struct kt_order_rec o;
            char w[160];
            if (kt_book_order_get (store, k.str + head.len, &o, w, sizeof w) == 1 &&
                o.created_ns >= from_ns && o.created_ns < to_ns)
                s_push (&v, &o);
        }
        kt_store_result_free (&r);
    } while (strcmp (cursor, "0") != 0);
    if (v.n)
        qsort (v.items, (size_t) v.n, v.size, s_by_created);
    *out = v.items;
    *n = v.n;
    return 0;
}

void
ctl_book_cover (const struct kt_pos_rec *p, const struct kt_order_rec *ord, int n,
                struct ctl_cover *out)
{
    memset (out, 0, sizeof *out);
    kt_side_t held = p->qty > 0 ? KT_SIDE_BUY : KT_SIDE_SELL;
    for (int i = 0; i < n; i++) {
        const struct kt_order_rec *o = &ord[i];
        if (strcmp (o->sym, p->sym) != 0 || kt_ord_status_is_final (o->status) ||
            strcmp (o->broker_status, KT_BOOK_SLICED) == 0) //  its slices are orders
            continue;
        int64_t left = o->qty > o->filled_qty ? o->qty - o->filled_qty : 0;
        if (o->purpose == KT_PURPOSE_STOP && o->side != held)
            out->stop_qty += left;
        else if (o->purpose == KT_PURPOSE_EXIT && o->side != held)
            out->exiting += left;
        else if (o->purpose == KT_PURPOSE_ENTRY && o->side == held)
            out->pending += left;
    }
}

//  "150/150", "75/150 !" (short of the position) or "NONE".
static const char *
s_cover_str (int64_t stop_qty, int64_t qty, char *buf, size_t len)
{
    int64_t q = qty < 0 ? -qty : qty;
    if (stop_qty <= 0)
        return "NONE";
    snprintf (buf, len, "%lld/%lld%s", (long long) stop_qty, (long long) q,
              stop_qty < q ? " !" : "");
    return buf;
}

int
ctl_book_cmd_positions (ctl_t *ctl, int argc, char **argv)
{
    (void) argv;
    if (argc != 1)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "positions takes no arguments");
    char why[256];
    struct kt_pos_rec *pos;
    if (!ctl_ctx_store (ctl))
        return CTL_EXIT_REDIS;
    int n = ctl_book_positions (ctl, &pos, why, sizeof why);
    if (n < 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "positions: %s", why);
    struct kt_order_rec *ord = NULL;
    int nord = ctl_book_open_orders (ctl, &ord, why, sizeof why);
    if (nord < 0) {
        free (pos);
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "positions: %s", why);
    }
    if (ctl->json) {
        cJSON *root = cJSON_CreateObject ();
        cJSON *arr = cJSON_AddArrayToObject (root, "positions");
        for (int i = 0; i < n; i++) {
            struct ctl_cover c;
            ctl_book_cover (&pos[i], ord, nord, &c);
            cJSON *j = ctl_json_pos (&pos[i]);
            ctl_json_i64 (j, "stop_qty", c.stop_qty);
            ctl_json_i64 (j, "exiting", c.exiting);
            ctl_json_i64 (j, "pending_entries", c.pending);
            cJSON_AddItemToArray (arr, j);
        }
        free (pos);
        free (ord);
        return ctl_json_emit (ctl, root, CTL_EXIT_OK);
    }
    int64_t now = ctl_ctx_now (ctl, NULL);
    if (n == 0)
        fprintf (ctl->out, "no open positions\n");
    else
        fprintf (ctl->out, "%-24s %7s %12s %14s %12s %11s %8s %8s  %s\n", "SYMBOL", "QTY", "AVG",
                 "REALISED", "STOP", "STOPPED", "EXITING", "PENDING", "OPENED");
    for (int i = 0; i < n; i++) {
        char avg[32], real[32], stop[32], age[32], cov[48];
        struct ctl_cover c;
        ctl_book_cover (&pos[i], ord, nord, &c);
        fprintf (ctl->out, "%-24s %7lld %12s %14s %12s %11s %8lld %8lld  %s\n", pos[i].sym,
                 (long long) pos[i].qty, ctl_fmt_rs (pos[i].avg_px, avg, sizeof avg),
                 ctl_fmt_rs (pos[i].realised, real, sizeof real),
                 pos[i].stop_px ? ctl_fmt_rs (pos[i].stop_px, stop, sizeof stop) : "NONE",
                 s_cover_str (c.stop_qty, pos[i].qty, cov, sizeof cov), (long long) c.exiting,
                 (long long) c.pending,
                 pos[i].opened_ns ? ctl_fmt_age (now - pos[i].opened_ns, age, sizeof age) : "-");
    }
    free (pos);
    free (ord);
    return CTL_EXIT_OK;
}

int
ctl_book_cmd_orders (ctl_t *ctl, int argc, char **argv)
{
    bool all = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--all") == 0)
            all = true;
        else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "orders: unknown argument %s", argv[i]);
    }
    if (!ctl_ctx_store (ctl))
        return CTL_EXIT_REDIS;
    int64_t now = ctl_ctx_now (ctl, NULL);
    char why[256];
    struct kt_order_rec *ord;
    int n;
    if (all) {
        int64_t day = kt_ist_day_start (now);
        if (ctl_book_orders_between (ctl, day, day + 86400000000000LL, &ord, &n, why, sizeof why) !=
            0)
            return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "orders: %s", why);
    } else if ((n = ctl_book_open_orders (ctl, &ord, why, sizeof why)) < 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "orders: %s", why);
    if (ctl->json) {
        cJSON *root = cJSON_CreateObject ();
        cJSON *arr = cJSON_AddArrayToObject (root, "orders");
        for (int i = 0; i < n; i++)
            cJSON_AddItemToArray (arr, ctl_json_order (&ord[i], now));
        free (ord);
        return ctl_json_emit (ctl, root, CTL_EXIT_OK);
    }
    if (n == 0)
        fprintf (ctl->out, all ? "no orders today\n" : "no open orders\n");
    else
        fprintf (ctl->out, "%-20s %-24s %-4s %6s %6s %-6s %12s %12s %-14s %-8s %s\n", "COID",
                 "SYMBOL", "SIDE", "QTY", "FILLED", "TYPE", "PRICE", "TRIGGER", "STATUS", "PURPOSE",
                 "AGE");
    for (int i = 0; i < n; i++) {
        const struct kt_order_rec *o = &ord[i];
        char px[32], trg[32], age[32];
        fprintf (ctl->out, "%-20s %-24s %-4s %6lld %6lld %-6s %12s %12s %-14s %-8s %s%s%s\n",
                 o->coid, o->sym, o->side ? kt_side_str (o->side) : "?", (long long) o->qty,
                 (long long) o->filled_qty, o->order_type ? kt_order_type_str (o->order_type) : "?",
                 o->price ? ctl_fmt_rs (o->price, px, sizeof px) : "-",
                 o->trigger ? ctl_fmt_rs (o->trigger, trg, sizeof trg) : "-",
                 o->status ? kt_ord_status_str (o->status) : "?",
                 o->purpose ? kt_purpose_str (o->purpose) : "?",
                 ctl_fmt_age (now - o->created_ns, age, sizeof age), o->reason[0] ? "  " : "",
                 o->reason);
    }
    free (ord);
    return CTL_EXIT_OK;
}
