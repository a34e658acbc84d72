/*  recon_diff_bench - cost of one comparison at the sizes a day can reach.
 *
 *  Books of N orders of ours (each with two trades, half of them missing from the book,
 *  so every path of the comparison runs) and N/10 positions, for N = 100 (a normal day),
 *  1000 and 5000 (Kite's daily order cap). Reports the time of recon_diff per run
 *  (median of several runs) and, for scale, of parsing the three broker answers of that
 *  size. The reconciler runs every 30 s, so anything well under a second is enough; the
 *  numbers show how far the linear lookups are from that. Run by `make bench`. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../reconciler/recon.h"

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  A book of n orders: the broker's view and ours, and the broker's answers as text.
static void
s_build (int n, struct recon_broker *b, struct recon_redis *r, char **orders_json,
         char **trades_json)
{
    size_t cap = (size_t) n * 700 + 64;
    char *oj = malloc (cap), *tj = malloc (2 * cap);
    size_t ol = (size_t) sprintf (oj, "{\"status\":\"success\",\"data\":["), tl = 0;
    tl = (size_t) sprintf (tj, "{\"status\":\"success\",\"data\":[");
    b->npos = b->nord = b->ntrade = 0;
    r->npos = r->nord = r->nknown = 0;
    int nsym = n / 10 > 0 ? n / 10 : 1;
    for (int i = 0; i < n; i++) {
        char coid[KT_ID_LEN], oid[KT_BROKER_LEN], sym[KT_SYM_LEN];
        snprintf (coid, sizeof coid, "c%07d", i);
        snprintf (oid, sizeof oid, "2511240%08d", i);
        snprintf (sym, sizeof sym, "NIFTY25N25%05dCE", 20000 + 50 * (i % nsym));
        struct recon_bord *o = &b->ord[b->nord++];
        memset (o, 0, sizeof *o);
        snprintf (o->order_id, sizeof o->order_id, "%s", oid);
        snprintf (o->tag, sizeof o->tag, "%s", coid);
        snprintf (o->status, sizeof o->status, "COMPLETE");
        snprintf (o->sym, sizeof o->sym, "%s", sym);
        o->side = i % 2 ? KT_SIDE_SELL : KT_SIDE_BUY;
        o->qty = 150;
        struct kt_order_rec *ro = &r->ord[r->nord++];
        memset (ro, 0, sizeof *ro);
        snprintf (ro->coid, sizeof ro->coid, "%s", coid);
        snprintf (ro->sym, sizeof ro->sym, "%s", sym);
        ro->status = KT_OS_PARTIAL;
        ro->side = o->side;
        ro->qty = 150;
        for (int k = 0; k < 2; k++) {
            struct recon_btrade *t = &b->trade[b->ntrade++];
            memset (t, 0, sizeof *t);
            snprintf (t->trade_id, sizeof t->trade_id, "%08d", 2 * i + k);
            snprintf (t->order_id, sizeof t->order_id, "%s", oid);
            snprintf (t->sym, sizeof t->sym, "%s", sym);
            t->side = o->side;
            t->qty = 75;
            t->price = 10000 + i;
            if (k == 0) {
                struct recon_known *kn = &r->known[r->nknown++];
                snprintf (kn->coid, sizeof kn->coid, "%s", coid);
                snprintf (kn->trade_id, sizeof kn->trade_id, "%s", t->trade_id);
            }
            tl += (size_t) sprintf (
                tj + tl,
                "%s{\"trade_id\":\"%s\",\"order_id\":\"%s\",\"exchange\":\"NFO\","
                "\"tradingsymbol\":\"%s\",\"instrument_token\":12345602,\"product\":\"MIS\","
                "\"average_price\":100.05,\"quantity\":75,\"exchange_order_id\":\"1\","
                "\"transaction_type\":\"%s\",\"fill_timestamp\":\"2025-11-24 10:00:00\","
                "\"order_timestamp\":\"10:00:00\",\"exchange_timestamp\":\"2025-11-24 10:00:00\"}",
                i || k ? "," : "", t->trade_id, oid, sym, kt_side_str (o->side));
        }
        ol += (size_t) sprintf (
            oj + ol,
            "%s{\"placed_by\":\"SM0001\",\"order_id\":\"%s\",\"status\":\"COMPLETE\","
            "\"tradingsymbol\":\"%s\",\"exchange\":\"NFO\",\"instrument_token\":12345602,"
            "\"order_type\":\"MARKET\",\"transaction_type\":\"%s\",\"product\":\"MIS\","
            "\"quantity\":150,\"price\":0,\"trigger_price\":0,\"average_price\":100.05,"
            "\"filled_quantity\":150,\"pending_quantity\":0,\"status_message\":null,"
            "\"tag\":\"%s\",\"tags\":[\"%s\"],\"meta\":{}}",
            i ? "," : "", oid, sym, kt_side_str (o->side), coid, coid);
    }
    for (int s = 0; s < nsym && s < RECON_BPOS_MAX; s++) {
        struct recon_bpos *p = &b->pos[b->npos++];
        memset (p, 0, sizeof *p);
        snprintf (p->sym, sizeof p->sym, "NIFTY25N25%05dCE", 20000 + 50 * s);
        struct kt_pos_rec *rp = &r->pos[r->npos++];
        memset (rp, 0, sizeof *rp);
        snprintf (rp->sym, sizeof rp->sym, "%s", p->sym);
    }
    sprintf (oj + ol, "]}");
    sprintf (tj + tl, "]}");
    *orders_json = oj;
    *trades_json = tj;
}

int
main (void)
{
    static const int sizes[] = {100, 1000, 5000};
    struct recon_broker b, parsed;
    struct recon_redis r;
    recon_broker_init (&b);
    recon_broker_init (&parsed);
    recon_redis_init (&r);
    struct recon_result *res = calloc (1, sizeof *res);
    struct recon_pending pending = {0};
    struct recon_diff_opts opts = {RECON_UNKNOWN_HALT, 3};
    printf ("%8s %10s %14s %14s\n", "orders", "findings", "diff_ms_p50", "parse_ms_p50");
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        char *oj, *tj;
        s_build (sizes[z], &b, &r, &oj, &tj);
        enum { RUNS = 5 };
        int64_t diff[RUNS], parse[RUNS];
        int found = 0;
        for (int k = 0; k < RUNS; k++) {
            int64_t t0 = s_now_ns ();
            found = recon_diff (&b, &r, &opts, &pending, res);
            int64_t t1 = s_now_ns ();
            char why[256];
            if (recon_broker_parse_orders (&parsed, oj, strlen (oj), why, sizeof why) < 0 ||
                recon_broker_parse_trades (&parsed, tj, strlen (tj), why, sizeof why) < 0) {
                fprintf (stderr, "parse: %s\n", why);
                return 1;
            }
            int64_t t2 = s_now_ns ();
            diff[k] = t1 - t0;
            parse[k] = t2 - t1;
        }
        qsort (diff, RUNS, sizeof diff[0], s_cmp);
        qsort (parse, RUNS, sizeof parse[0], s_cmp);
        printf ("%8d %10d %14.2f %14.2f\n", sizes[z], found, diff[RUNS / 2] / 1e6,
                parse[RUNS / 2] / 1e6);
        free (oj);
        free (tj);
    }
    free (res);
    recon_broker_free (&b);
    recon_broker_free (&parsed);
    recon_redis_free (&r);
    return 0;
}
