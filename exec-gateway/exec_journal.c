/*  exec_journal - the trading journal: orders.csv, fills.csv and trades.csv per trading
 *  day, written from the `events` stream in Redis.
 *
 *  The book's scripts append an `order` event for every order change and a `fill` event
 *  for every applied fill, in the same script as the change, so the stream is the
 *  complete, ordered history. The journal follows it: each row starts with the stream
 *  id of the event it came from, and at start-up the last id of each file tells where
 *  that file stopped, so a crash between two writes neither loses nor repeats a row.
 *  Round trips (trades.csv) are rebuilt from the fills: the stream is read from its
 *  start at start-up to know the positions open before the cursor. */

#include "exec.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_TRIPS 128
#define S_BATCH 500

enum { F_ORDERS, F_FILLS, F_TRADES, F_COUNT };

static const char *const s_names[F_COUNT] = {"orders.csv", "fills.csv", "trades.csv"};
static const char *const s_heads[F_COUNT] = {
    "event_id,coid,intent_id,sym,side,qty,order_type,price,trigger,purpose,status,"
    "broker_status,broker_id,filled_qty,reason\n",
    "event_id,ts_ns,coid,trade_id,sym,side,qty,price,filled_qty,status,pos_qty,"
    "realised_delta\n",
    "event_id,sym,direction,qty,entry_ns,exit_ns,entry_avg_px,exit_avg_px,pnl,r_value,"
    "r_multiple,exit_reason,entry_coid,exit_coid\n"};

//  A round trip in progress on one symbol.
struct s_trip {
    char sym[KT_SYM_LEN];
    int64_t qty; //  signed open quantity
    int64_t entry_qty, entry_value, exit_qty, exit_value;
    int64_t pnl; //  sum of realised deltas
    int64_t entry_ns;
    char entry_coid[KT_ID_LEN];
};

struct exec_journal {
    char dir[256];
    int day; //  YYYYMMDD of the open files (0 = none)
    FILE *f[F_COUNT];
    char last[F_COUNT][32]; //  last stream id in each file
    char cursor[32];        //  last stream id read
    struct s_trip trips[S_TRIPS];
    int ntrips;
};

//  Stream ids compare as (ms, seq).
static int
s_idcmp (const char *a, const char *b)
{
    unsigned long long am = 0, as = 0, bm = 0, bs = 0;
    sscanf (a, "%llu-%llu", &am, &as);
    sscanf (b, "%llu-%llu", &bm, &bs);
    return am != bm ? (am < bm ? -1 : 1) : as != bs ? (as < bs ? -1 : 1) : 0;
}

exec_journal_t *
exec_journal_new (const char *dir)
{
    exec_journal_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    snprintf (self->cursor, sizeof self->cursor, "0-0");
    return self;
}

static void
s_close (exec_journal_t *self)
{
    for (int i = 0; i < F_COUNT; i++)
        if (self->f[i]) {
            fclose (self->f[i]);
            self->f[i] = NULL;
        }
    self->day = 0;
}

void
exec_journal_destroy (exec_journal_t **self_p)
{
    if (self_p && *self_p) {
        s_close (*self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_mkdirs (const char *path)
{
    char tmp[512];
    snprintf (tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir (tmp, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir (tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

//  The stream id at the start of the last line of an existing file ("0-0" if none).
static void
s_last_id (const char *path, char *out, size_t cap)
{
    snprintf (out, cap, "0-0");
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets (line, sizeof line, f))
        if (line[0] >= '0' && line[0] <= '9' && strchr (line, '-'))
            sscanf (line, "%31[0-9-]", out);
    fclose (f);
}

static int
s_open (exec_journal_t *self, int day, char *why, size_t whylen)
{
    if (self->day == day)
        return 0;
    s_close (self);
    char d[400];
    snprintf (d, sizeof d, "%s/%08d", self->dir, day);
    if (s_mkdirs (d) != 0) {
        snprintf (why, whylen, "journal dir %s: %s", d, strerror (errno));
        return -1;
    }
    for (int i = 0; i < F_COUNT; i++) {
        char path[512];
        snprintf (path, sizeof path, "%s/%s", d, s_names[i]);
        s_last_id (path, self->last[i], sizeof self->last[i]);
        self->f[i] = fopen (path, "a");
        if (!self->f[i]) {
            snprintf (why, whylen, "journal %s: %s", path, strerror (errno));
            s_close (self);
            return -1;
        }
        if (ftell (self->f[i]) == 0)
            fputs (s_heads[i], self->f[i]);
    }
    self->day = day;
    return 0;
}

//  A CSV field: quoted when it holds a comma, quote or newline.
static void
s_field (FILE *f, const char *v, bool last)
{
    if (strpbrk (v, ",\"\n\r")) {
        fputc ('"', f);
        for (const char *p = v; *p; p++) {
            if (*p == '"')
                fputc ('"', f);
            fputc (*p == '\n' || *p == '\r' ? ' ' : *p, f);
        }
        fputc ('"', f);
    } else
        fputs (v, f);
    fputc (last ? '\n' : ',', f);
}

//  The value of field name in an entry's field list (borrowed from it; "" if absent).
static const char *
s_get (const kt_store_result_t *kv, const char *name)
{
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        kt_store_result_t k = kt_store_result_at (kv, i);
        if (kt_store_result_is (&k, name)) {
            kt_store_result_t v = kt_store_result_at (kv, i + 1);
            return v.kind == KT_STORE_STR ? v.str : "";
        }
    }
    return "";
}

static bool
s_fresh (exec_journal_t *self, int file, const char *id)
{
    return s_idcmp (id, self->last[file]) > 0;
}

static void
s_row (exec_journal_t *self, int file, const char *id, const char *const *vals, int n)
{
    if (!s_fresh (self, file, id))
        return;
    s_field (self->f[file], id, false);
    for (int i = 0; i < n; i++)
        s_field (self->f[file], vals[i], i == n - 1);
    snprintf (self->last[file], sizeof self->last[file], "%s", id);
}

static struct s_trip *
s_trip (exec_journal_t *self, const char *sym)
{
    for (int i = 0; i < self->ntrips; i++)
        if (strcmp (self->trips[i].sym, sym) == 0)
            return &self->trips[i];
    if (self->ntrips == S_TRIPS)
        return NULL;
    struct s_trip *t = &self->trips[self->ntrips++];
    memset (t, 0, sizeof *t);
    snprintf (t->sym, sizeof t->sym, "%s", sym);
    return t;
}

//  R multiple with two decimals, from integers: pnl / r (r > 0).
static void
s_rmult (int64_t pnl, int64_t r, char *buf, size_t cap)
{
    if (r <= 0) {
        snprintf (buf, cap, "%s", "");
        return;
    }
    int64_t h = (pnl * 100 + (pnl >= 0 ? r / 2 : -r / 2)) / r;
    snprintf (buf, cap, "%s%lld.%02lld", h < 0 ? "-" : "", (long long) (h < 0 ? -h : h) / 100,
              (long long) (h < 0 ? -h : h) % 100);
}

static void
s_trip_close (exec_journal_t *self, kt_store_t *store, struct s_trip *t, const char *id,
              const char *exit_coid, int64_t exit_ns)
{
    struct kt_order_rec entry, exit;
    char why[128];
    int64_t r_value = 0;
    if (kt_book_order_get (store, t->entry_coid, &entry, why, sizeof why) == 1)
        r_value = entry.r_value;
    char reason[24] = "";
    if (kt_book_order_get (store, exit_coid, &exit, why, sizeof why) == 1)
        snprintf (reason, sizeof reason, "%s",
                  exit.exit_reason[0] ? exit.exit_reason : kt_purpose_str (exit.purpose));
    char q[24], en[24], ex[24], ea[24], xa[24], pnl[24], rv[24], rm[24];
    snprintf (q, sizeof q, "%lld", (long long) t->entry_qty);
    snprintf (en, sizeof en, "%lld", (long long) t->entry_ns);
    snprintf (ex, sizeof ex, "%lld", (long long) exit_ns);
    snprintf (ea, sizeof ea, "%lld",
              (long long) (t->entry_qty ? (t->entry_value + t->entry_qty / 2) / t->entry_qty : 0));
    snprintf (xa, sizeof xa, "%lld",
              (long long) (t->exit_qty ? (t->exit_value + t->exit_qty / 2) / t->exit_qty : 0));
    snprintf (pnl, sizeof pnl, "%lld", (long long) t->pnl);
    snprintf (rv, sizeof rv, "%lld", (long long) r_value);
    s_rmult (t->pnl, r_value, rm, sizeof rm);
    const char *vals[] = {t->sym,   t->qty > 0 ? "LONG" : "SHORT",
                          q,        en,
                          ex,       ea,
                          xa,       pnl,
                          rv,       rm,
                          reason,   t->entry_coid,
                          exit_coid};
    s_row (self, F_TRADES, id, vals, 13);
}

static void
s_fill (exec_journal_t *self, kt_store_t *store, const char *id, const kt_store_result_t *kv)
{
    const char *vals[] = {
        s_get (kv, "ts"),      s_get (kv, "coid"),          s_get (kv, "trade_id"),
        s_get (kv, "sym"),     s_get (kv, "side"),          s_get (kv, "qty"),
        s_get (kv, "price"),   s_get (kv, "filled_qty"),    s_get (kv, "status"),
        s_get (kv, "pos_qty"), s_get (kv, "realised_delta")};
    s_row (self, F_FILLS, id, vals, 11);
    struct s_trip *t = s_trip (self, s_get (kv, "sym"));
    if (!t)
        return;
    int64_t q = strtoll (s_get (kv, "qty"), NULL, 10), px = strtoll (s_get (kv, "price"), NULL, 10);
    int64_t ts = strtoll (s_get (kv, "ts"), NULL, 10);
    int64_t after = strtoll (s_get (kv, "pos_qty"), NULL, 10);
    int64_t d = strcmp (s_get (kv, "side"), "BUY") == 0 ? q : -q;
    const char *coid = s_get (kv, "coid");
    if (t->qty == 0 || (t->qty > 0) == (d > 0)) {
        if (t->qty == 0) {
            memset (&t->entry_qty, 0, sizeof *t - offsetof (struct s_trip, entry_qty));
            t->entry_ns = ts;
            snprintf (t->entry_coid, sizeof t->entry_coid, "%s", coid);
        }
        t->entry_qty += q;
        t->entry_value += q * px;
        t->qty = after;
        return;
    }
    int64_t closing = q < llabs (t->qty) ? q : llabs (t->qty);
    t->exit_qty += closing;
    t->exit_value += closing * px;
    t->pnl += strtoll (s_get (kv, "realised_delta"), NULL, 10);
    int64_t dir = t->qty;
    t->qty = after;
    if (after == 0 || (after > 0) != (dir > 0)) {
        struct s_trip done = *t;
        done.qty = dir;
        s_trip_close (self, store, &done, id, coid, ts);
        memset (&t->entry_qty, 0, sizeof *t - offsetof (struct s_trip, entry_qty));
        if (after != 0) {
            //  Reversed through zero: the rest opens a new trip at this price.
            t->entry_qty = llabs (after);
            t->entry_value = llabs (after) * px;
            t->entry_ns = ts;
            snprintf (t->entry_coid, sizeof t->entry_coid, "%s", coid);
        }
    }
}

static void
s_order (exec_journal_t *self, const char *id, const kt_store_result_t *kv)
{
    const char *vals[] = {
        s_get (kv, "coid"),       s_get (kv, "intent_id"),     s_get (kv, "sym"),
        s_get (kv, "side"),       s_get (kv, "qty"),           s_get (kv, "order_type"),
        s_get (kv, "price"),      s_get (kv, "trigger"),       s_get (kv, "purpose"),
        s_get (kv, "status"),     s_get (kv, "broker_status"), s_get (kv, "broker_id"),
        s_get (kv, "filled_qty"), s_get (kv, "reason")};
    s_row (self, F_ORDERS, id, vals, 14);
}

int
exec_journal_step (exec_journal_t *self, kt_store_t *store, int64_t now_ns, char *why,
                   size_t whylen)
{
    if (s_open (self, kt_ist_yyyymmdd (now_ns), why, whylen) != 0)
        return -1;
    struct kt_skey ekey = kt_schema_key (kt_store_prefix (store), &kt_key_events, NULL);
    const char *key = ekey.s;
    int rows = 0;
    for (int round = 0; round < 20; round++) {
        char from[40];
        snprintf (from, sizeof from, "(%s", self->cursor);
        kt_store_result_t r =
            kt_store_callf (store, "XRANGE %s %s + COUNT %d", key,
                            strcmp (self->cursor, "0-0") == 0 ? "-" : from, S_BATCH);
        if (r.kind != KT_STORE_ARR) {
            snprintf (why, whylen, "events: %s", r.kind == KT_STORE_NIL ? "no answer" : r.str);
            kt_store_result_free (&r);
            return -1;
        }
        size_t n = r.elements;
        for (size_t i = 0; i < n; i++) {
            kt_store_result_t e = kt_store_result_at (&r, i);
            kt_store_result_t eid = kt_store_result_at (&e, 0);
            kt_store_result_t kv = kt_store_result_at (&e, 1);
            if (e.elements != 2 || eid.kind != KT_STORE_STR || kv.kind != KT_STORE_ARR)
                continue;
            const char *id = eid.str;
            const char *type = s_get (&kv, "type");
            if (strcmp (type, "order") == 0)
                s_order (self, id, &kv);
            else if (strcmp (type, "fill") == 0)
                s_fill (self, store, id, &kv);
            snprintf (self->cursor, sizeof self->cursor, "%s", id);
            rows++;
        }
        kt_store_result_free (&r);
        if (n < S_BATCH)
            break;
    }
    for (int i = 0; i < F_COUNT; i++) {
        fflush (self->f[i]);
        fsync (fileno (self->f[i]));
    }
    return rows;
}
