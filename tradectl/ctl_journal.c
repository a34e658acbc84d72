/*  ctl_journal - `journal --date D`: the day as CSV, for a spreadsheet or a later
 *  comparison of stages: every order recorded that day (the book), every fill and the
 *  round trips (from the `fill` entries kt_book appends to `events`: a round trip opens
 *  when a symbol's position leaves 0 and closes when it returns to 0, with its realised
 *  P&L). Three sections, one header line each, money in rupees with 2 decimals. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "ctl_cmd.h"

static struct ctl_journal_trip *
s_open_trip (const char *sym, struct ctl_journal_trip *trips, int *ntrip)
{
    for (int k = *ntrip - 1; k >= 0; k--)
        if (trips[k].open && strcmp (trips[k].sym, sym) == 0)
            return &trips[k];
    return NULL;
}

int
ctl_journal_trips (const struct ctl_journal_fill *fills, int n, struct ctl_journal_trip *out)
{
    int ntrip = 0;
    for (int i = 0; i < n; i++) {
        const struct ctl_journal_fill *x = &fills[i];
        bool buy = strcmp (x->side, "BUY") == 0;
        int64_t before = x->pos_qty + (buy ? -x->qty : x->qty);
        //  Units of this fill that reduce the position, and those that (re)open it: a
        //  fill that goes through 0 closes one trip and opens the next.
        int64_t closing = before == 0 || (before > 0) == buy ? 0 : (before > 0 ? before : -before);
        if (closing > x->qty)
            closing = x->qty;
        int64_t opening = x->qty - closing;
        struct ctl_journal_trip *t = s_open_trip (x->sym, out, &ntrip);
        if (closing) {
            if (!t) {
                //  Opened before the day (or before `events` was trimmed): entry unknown.
                t = &out[ntrip++];
                memset (t, 0, sizeof *t);
                snprintf (t->sym, sizeof t->sym, "%s", x->sym);
                t->open = true;
            }
            t->exit_value += closing * x->price;
            t->realised += x->realised;
            if (closing == (before > 0 ? before : -before)) {
                t->open = false;
                t->closed_ns = x->ts;
            }
        }
        if (opening) {
            t = s_open_trip (x->sym, out, &ntrip);
            if (!t) {
                t = &out[ntrip++];
                memset (t, 0, sizeof *t);
                snprintf (t->sym, sizeof t->sym, "%s", x->sym);
                t->opened_ns = x->ts;
                t->open = true;
            }
            t->entry_value += opening * x->price;
            t->qty += opening;
            if (!closing)
                t->realised += x->realised;
        }
    }
    return ntrip;
}

static void
s_csv_str (FILE *f, const char *s)
{
    //  Quoted only when needed (RFC 4180): reasons may hold commas.
    if (!strpbrk (s, ",\"\n")) {
        fputs (s, f);
        return;
    }
    fputc ('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc ('"', f);
        fputc (*s, f);
    }
    fputc ('"', f);
}

static const char *
s_rs (int64_t paise, char *buf, size_t len)
{
    return kt_money_format (paise, buf, len) ? buf : "";
}

static const char *
s_ist (int64_t ns, char *buf, int len)
{
    if (ns <= 0)
        return "";
    return kt_ist_format (ns, buf, len);
}

static void
s_fill_parse (const kt_store_result_t *f, struct ctl_journal_fill *x)
{
    memset (x, 0, sizeof *x);
    for (size_t j = 0; j + 1 < f->elements; j += 2) {
        const char *k = kt_store_result_at (f, j).str, *v = kt_store_result_at (f, j + 1).str;
        if (strcmp (k, "coid") == 0)
            snprintf (x->coid, sizeof x->coid, "%s", v);
        else if (strcmp (k, "trade_id") == 0)
            snprintf (x->trade_id, sizeof x->trade_id, "%s", v);
        else if (strcmp (k, "sym") == 0)
            snprintf (x->sym, sizeof x->sym, "%s", v);
        else if (strcmp (k, "side") == 0)
            snprintf (x->side, sizeof x->side, "%s", v);
        else if (strcmp (k, "qty") == 0)
            x->qty = strtoll (v, NULL, 10);
        else if (strcmp (k, "price") == 0)
            x->price = strtoll (v, NULL, 10);
        else if (strcmp (k, "pos_qty") == 0)
            x->pos_qty = strtoll (v, NULL, 10);
        else if (strcmp (k, "realised_delta") == 0)
            x->realised = strtoll (v, NULL, 10);
        else if (strcmp (k, "ts") == 0)
            x->ts = strtoll (v, NULL, 10);
    }
}

static bool
s_is_fill (const kt_store_result_t *f)
{
    for (size_t j = 0; j + 1 < f->elements; j += 2) {
        kt_store_result_t k = kt_store_result_at (f, j);
        if (kt_store_result_is (&k, "type")) {
            kt_store_result_t v = kt_store_result_at (f, j + 1);
            return kt_store_result_is (&v, "fill");
        }
    }
    return false;
}

//  The rollout stage risk-gate recorded for day (YYYYMMDD) in a `risk.stage` (start-up) or
//  `risk.day` (daily roll) entry of `events`: added to stages[] (distinct, in order).
static void
s_stage (const kt_store_result_t *f, int64_t day, struct ctl_journal_stages *st)
{
    bool kind = false;
    int64_t d = 0, pct = -1;
    for (size_t j = 0; j + 1 < f->elements; j += 2) {
        kt_store_result_t k = kt_store_result_at (f, j), v = kt_store_result_at (f, j + 1);
        if (k.kind != KT_STORE_STR || v.kind != KT_STORE_STR)
            return;
        if (kt_store_result_is (&k, "type"))
            kind = kt_store_result_is (&v, "risk.stage") || kt_store_result_is (&v, "risk.day");
        else if (kt_store_result_is (&k, "day"))
            d = strtoll (v.str, NULL, 10);
        else if (kt_store_result_is (&k, "stage_pct"))
            pct = strtoll (v.str, NULL, 10);
    }
    if (!kind || d != day || pct < 0)
        return;
    for (int i = 0; i < st->n; i++)
        if (st->pct[i] == pct)
            return;
    if (st->n < CTL_JOURNAL_STAGES)
        st->pct[st->n++] = pct;
}

//  Fills of [from, to) in stream order, and the stages recorded for day. Returns the
//  count, or -1 (Redis).
static int
s_fills (kt_store_t *store, int64_t from, int64_t to, int64_t day, struct ctl_journal_fill **out,
         struct ctl_journal_stages *stages)
{
    memset (stages, 0, sizeof *stages);
    struct kt_skey ev = kt_schema_key (kt_store_prefix (store), &kt_key_events, NULL);
    int n = 0, cap = 0;
    *out = NULL;
    char start[48] = "-";
    for (;;) {
        kt_store_result_t r = kt_store_callf (store, "XRANGE %s %s + COUNT 1000", ev.s, start);
        if (r.kind != KT_STORE_ARR) {
            kt_store_result_free (&r);
            free (*out);
            *out = NULL;
            return -1;
        }
        size_t got = r.elements;
        for (size_t i = 0; i < got; i++) {
            kt_store_result_t e = kt_store_result_at (&r, i);
            kt_store_result_t f = kt_store_result_at (&e, 1);
            if (e.kind != KT_STORE_ARR || e.elements != 2)
                continue;
            if (!s_is_fill (&f)) {
                s_stage (&f, day, stages);
                continue;
            }
            struct ctl_journal_fill x;
            s_fill_parse (&f, &x);
            if (x.ts < from || x.ts >= to)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                *out = realloc (*out, (size_t) cap * sizeof **out);
                if (!*out)
                    abort ();
            }
            (*out)[n++] = x;
        }
        if (got) {
            kt_store_result_t last = kt_store_result_at (&r, got - 1);
            snprintf (start, sizeof start, "(%s", kt_store_result_at (&last, 0).str);
        }
        kt_store_result_free (&r);
        if (got < 1000)
            return n;
    }
}

int
ctl_journal_cmd (ctl_t *ctl, int argc, char **argv)
{
    const char *date = NULL, *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--date") == 0 && i + 1 < argc)
            date = argv[++i];
        else if (strcmp (argv[i], "--out") == 0 && i + 1 < argc)
            file = argv[++i];
        else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                                 "journal: usage: journal --date YYYY-MM-DD "
                                 "[--out FILE]");
    }
    int y, mo, d;
    if (!date || kt_ist_parse_date (date, &y, &mo, &d) != 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "journal: --date YYYY-MM-DD (an IST trading day) "
                             "is required");
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store)
        return CTL_EXIT_REDIS;
    int64_t from = kt_ist_ns (y, mo, d, 0, 0, 0), to = from + 86400000000000LL;
    char why[256];
    struct kt_order_rec *ord;
    int nord;
    struct ctl_journal_fill *fills;
    if (ctl_book_orders_between (ctl, from, to, &ord, &nord, why, sizeof why) != 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "journal: %s", why);
    struct ctl_journal_stages stages;
    int nfill = s_fills (store, from, to, (int64_t) y * 10000 + mo * 100 + d, &fills, &stages);
    if (nfill < 0) {
        free (ord);
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "journal: events: %s", kt_store_errstr (store));
    }
    struct ctl_journal_trip *trips = calloc (2 * (size_t) nfill + 1, sizeof *trips);
    if (!trips)
        abort ();
    int ntrip = ctl_journal_trips (fills, nfill, trips);
    if (ctl->json && !file) {
        //  The same three sections as JSON arrays (money in paise, times in ns).
        cJSON *root = cJSON_CreateObject ();
        cJSON_AddStringToObject (root, "date", date);
        cJSON *arr = cJSON_AddArrayToObject (root, "capital_stage_pct");
        for (int i = 0; i < stages.n; i++)
            cJSON_AddItemToArray (arr, cJSON_CreateNumber ((double) stages.pct[i]));
        arr = cJSON_AddArrayToObject (root, "orders");
        for (int i = 0; i < nord; i++)
            cJSON_AddItemToArray (arr, ctl_json_order (&ord[i], ctl_ctx_now (ctl, NULL)));
        arr = cJSON_AddArrayToObject (root, "fills");
        for (int i = 0; i < nfill; i++) {
            cJSON *x = cJSON_CreateObject ();
            cJSON_AddStringToObject (x, "coid", fills[i].coid);
            cJSON_AddStringToObject (x, "trade_id", fills[i].trade_id);
            cJSON_AddStringToObject (x, "sym", fills[i].sym);
            cJSON_AddStringToObject (x, "side", fills[i].side);
            ctl_json_i64 (x, "qty", fills[i].qty);
            ctl_json_i64 (x, "price", fills[i].price);
            ctl_json_i64 (x, "pos_qty", fills[i].pos_qty);
            ctl_json_i64 (x, "realised", fills[i].realised);
            ctl_json_i64 (x, "ts_ns", fills[i].ts);
            cJSON_AddItemToArray (arr, x);
        }
        arr = cJSON_AddArrayToObject (root, "round_trips");
        for (int i = 0; i < ntrip; i++) {
            cJSON *x = cJSON_CreateObject ();
            cJSON_AddStringToObject (x, "sym", trips[i].sym);
            ctl_json_i64 (x, "qty", trips[i].qty);
            ctl_json_i64 (x, "entry_value", trips[i].entry_value);
            ctl_json_i64 (x, "exit_value", trips[i].exit_value);
            ctl_json_i64 (x, "realised", trips[i].realised);
            ctl_json_i64 (x, "opened_ns", trips[i].opened_ns);
            ctl_json_i64 (x, "closed_ns", trips[i].open ? 0 : trips[i].closed_ns);
            cJSON_AddItemToArray (arr, x);
        }
        free (ord);
        free (fills);
        free (trips);
        return ctl_json_emit (ctl, root, CTL_EXIT_OK);
    }
    FILE *f = file ? fopen (file, "w") : ctl->out;
    if (!f) {
        free (ord);
        free (fills);
        free (trips);
        return ctl_ctx_fail (ctl, CTL_EXIT_FAIL, "journal: cannot write %s", file);
    }
    char a[32], b[32], c[32], t1[32], t2[32];
    //  The rollout stage first, so the days of each stage can be told apart.
    fprintf (f, "section,capital_stage_pct\n");
    for (int i = 0; i < stages.n; i++)
        fprintf (f, "stage,%" PRId64 "\n", stages.pct[i]);
    fprintf (f, "section,coid,intent_id,parent,sym,side,purpose,order_type,product,qty,price,"
                "trigger,status,filled_qty,avg_px,reason,exit_reason,created_ist,updated_ist\n");
    for (int i = 0; i < nord; i++) {
        const struct kt_order_rec *o = &ord[i];
        fprintf (f, "order,%s,%s,%s,%s,%s,%s,%s,%s,%" PRId64 ",%s,%s,%s,%" PRId64 ",%s,", o->coid,
                 o->intent_id, o->parent, o->sym, o->side ? kt_side_str (o->side) : "",
                 o->purpose ? kt_purpose_str (o->purpose) : "",
                 o->order_type ? kt_order_type_str (o->order_type) : "",
                 o->product ? kt_product_str (o->product) : "", o->qty,
                 s_rs (o->price, a, sizeof a), s_rs (o->trigger, b, sizeof b),
                 o->status ? kt_ord_status_str (o->status) : "", o->filled_qty,
                 s_rs (o->avg_px, c, sizeof c));
        s_csv_str (f, o->reason);
        fprintf (f, ",%s,%s,%s\n", o->exit_reason, s_ist (o->created_ns, t1, sizeof t1),
                 s_ist (o->updated_ns, t2, sizeof t2));
    }
    fprintf (f, "section,coid,trade_id,sym,side,qty,price,pos_qty_after,realised,time_ist\n");
    for (int i = 0; i < nfill; i++) {
        const struct ctl_journal_fill *x = &fills[i];
        fprintf (f, "fill,%s,%s,%s,%s,%" PRId64 ",%s,%" PRId64 ",%s,%s\n", x->coid, x->trade_id,
                 x->sym, x->side, x->qty, s_rs (x->price, a, sizeof a), x->pos_qty,
                 s_rs (x->realised, b, sizeof b), s_ist (x->ts, t1, sizeof t1));
    }
    fprintf (f, "section,sym,qty,entry_value,exit_value,realised,opened_ist,closed_ist\n");
    int64_t total = 0;
    for (int i = 0; i < ntrip; i++) {
        const struct ctl_journal_trip *t = &trips[i];
        total += t->realised;
        fprintf (f, "trip,%s,%" PRId64 ",%s,%s,%s,%s,%s\n", t->sym, t->qty,
                 s_rs (t->entry_value, a, sizeof a), s_rs (t->exit_value, b, sizeof b),
                 s_rs (t->realised, c, sizeof c), s_ist (t->opened_ns, t1, sizeof t1),
                 t->open ? "open" : s_ist (t->closed_ns, t2, sizeof t2));
    }
    if (file) {
        fclose (f);
        if (ctl->json) {
            cJSON *root = cJSON_CreateObject ();
            cJSON_AddStringToObject (root, "file", file);
            cJSON *arr = cJSON_AddArrayToObject (root, "capital_stage_pct");
            for (int i = 0; i < stages.n; i++)
                cJSON_AddItemToArray (arr, cJSON_CreateNumber ((double) stages.pct[i]));
            ctl_json_i64 (root, "orders", nord);
            ctl_json_i64 (root, "fills", nfill);
            ctl_json_i64 (root, "round_trips", ntrip);
            ctl_json_i64 (root, "realised", total);
            ctl_json_emit (ctl, root, CTL_EXIT_OK);
        } else
            fprintf (ctl->out, "%s: %d orders, %d fills, %d round trips, realised %s\n", file, nord,
                     nfill, ntrip, ctl_fmt_rs (total, a, sizeof a));
    }
    free (ord);
    free (fills);
    free (trips);
    return CTL_EXIT_OK;
}
