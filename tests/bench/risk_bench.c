/*  risk_bench - how fast risk-gate decides: decisions/s and p50/p99 of one decision (local
 *  and account rules in C + the versioned commit with its reservation and record: the
 *  caller's wait) beside a bare EVALSHA round trip (a trivial script) to the same Redis,
 *  in the same run, interleaved in blocks. Target: decision p50 and p99 each within 2x the
 *  bare p50 and p99. The sent mark (after the reply, before the command leaves) is timed
 *  on its own and, with the decision, as the order path. Workload: trading days compressed
 *  ("market" open all day, weekends skipped, an entry every 91 s so 40 an hour is never
 *  hit): entries that are approved and reserve, their fills, exits approved, their fills,
 *  on 8 symbols with fresh ticks. Only decisions and marks are timed. Own redis-server
 *  (kt_testredis). The store runs on a loop as risk-gate's does: writes nothing waits for
 *  (the decision's `events` entry) are queued and sent between cycles, not timed. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../../risk-gate/risk.h"
#include "kt_book.h"
#include "kt_loop.h"
#include "kt_testredis.h"
#include "kt_teststore.h"

#define NSYM 8
#define CYCLES 5000 //  x 2 decisions
#define BLOCK 250   //  cycles per interleaved block
#define RS(x) ((int64_t) (x) *100)

static int64_t
s_mono (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static int64_t
s_pct (int64_t *v, int n, int pct)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp);
    int i = (int) ((int64_t) n * pct / 100);
    return v[i < n ? i : n - 1];
}

//  exec-gateway's part (not timed): the order recorded and filled in the book
//  (kt_book_fill), then the event that makes risk-gate settle it.
static void
s_exec (risk_core_t *core, kt_store_t *book, const char *coid, const char *sym, kt_side_t side,
        kt_purpose_t purpose, int64_t qty, int64_t px, int64_t now)
{
    char why[200];
    struct kt_order_rec rec;
    kt_teststore_order (&rec, coid, sym, side, purpose, qty);
    struct kt_book_fill f = {.qty = qty, .price = px, .ts_ns = now};
    snprintf (f.coid, sizeof f.coid, "%s", coid);
    snprintf (f.trade_id, sizeof f.trade_id, "%s", coid);
    struct kt_book_fill_result res;
    if (kt_book_order_create (book, &rec, now, NULL, why, sizeof why) != 1 ||
        kt_book_fill (book, &f, &res, why, sizeof why) != 0)
        fprintf (stderr, "risk_bench: book: %s\n", why);
    struct kt_exec_event ev;
    memset (&ev, 0, sizeof ev);
    snprintf (ev.coid, sizeof ev.coid, "%s", coid);
    snprintf (ev.sym, sizeof ev.sym, "%s", sym);
    ev.side = side;
    ev.event = KT_EXEC_FILLED;
    ev.filled_qty = ev.last_qty = ev.qty = qty;
    ev.last_px = ev.avg_px = px;
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_on_exec (core, &ev, now, &out);
}

//  The sent mark of a decision's order, timed; path = the decision's time dt + the mark.
static void
s_mark (risk_core_t *core, struct risk_out *out, int64_t now, int64_t dt, int64_t *mark,
        int64_t *path, int *nm, int *fail)
{
    int64_t t0 = s_mono ();
    *fail += risk_core_mark_sent (core, out, now) != 0;
    int64_t m = s_mono () - t0;
    mark[*nm] = m;
    path[(*nm)++] = dt + m;
}

//  Median server time (us) per script sha and per command, from SLOWLOG: what Redis
//  itself spends, against the round trips above.
static void
s_server_times (redisContext *peek)
{
    redisReply *r = redisCommand (peek, "SLOWLOG GET -1");
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        fprintf (stderr, "risk_bench: SLOWLOG: %s\n", r ? r->str : peek->errstr);
        if (r)
            freeReplyObject (r);
        return;
    }
    enum { MAXK = 64 };
    static int64_t us[MAXK][4 * CYCLES];
    char name[MAXK][48];
    int cnt[MAXK] = {0}, nk = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 4 || e->element[3]->elements < 1)
            continue;
        redisReply *args = e->element[3];
        char key[48];
        snprintf (key, sizeof key, "%s %.8s", args->element[0]->str,
                  args->elements > 1 && strcasecmp (args->element[0]->str, "evalsha") == 0
                      ? args->element[1]->str
                      : "");
        int k = 0;
        while (k < nk && strcmp (name[k], key) != 0)
            k++;
        if (k == nk) {
            if (nk == MAXK)
                continue;
            snprintf (name[nk++], sizeof name[0], "%s", key);
        }
        if (cnt[k] < (int) (sizeof us[0] / sizeof us[0][0]))
            us[k][cnt[k]++] = e->element[2]->integer;
    }
    freeReplyObject (r);
    printf ("  Redis's own time (SLOWLOG), median / p99 per command:\n");
    for (int k = 0; k < nk; k++)
        if (cnt[k] >= 100)
            printf ("    %-22s %6d calls  p50 %5lld us  p99 %5lld us\n", name[k], cnt[k],
                    (long long) s_pct (us[k], cnt[k], 50), (long long) s_pct (us[k], cnt[k], 99));
}

int
main (void)
{
    kt_log_open ("risk_bench", KT_LOG_OFF);
    //  KT_BENCH_AOF=1: Redis with deploy/redis.conf's persistence (AOF, fsync every
    //  second), which every write then also goes through; off by default (the figures
    //  in docs/risk-gate.md say which they are).
    static const char *const aof[] = {"--appendonly", "yes", "--appendfsync", "everysec", NULL};
    bool with_aof = getenv ("KT_BENCH_AOF") && strcmp (getenv ("KT_BENCH_AOF"), "1") == 0;
    kt_testredis_t *srv = with_aof ? kt_testredis_start_with (aof) : kt_testredis_start ();
    if (!srv) {
        fprintf (stderr, "risk_bench: no redis-server\n");
        return 1;
    }
    kt_store_t *store = kt_store_new ("127.0.0.1", srv->port, "kt:", 1000);
    int bare = kt_store_script (store, "bench_bare", "return 1");
    struct risk_cfg cfg;
    risk_cfg_defaults (&cfg);
    cfg.capital = RS (100000000);
    snprintf (cfg.market_open, sizeof cfg.market_open, "00:00");
    snprintf (cfg.market_close, sizeof cfg.market_close, "23:59");
    snprintf (cfg.entry_cutoff, sizeof cfg.entry_cutoff, "23:59");
    cfg.max_trades_day = 100000;
    cfg.max_trades_hour = 40; //  a generous real setting
    risk_core_t *core = risk_core_new (&cfg, store, "risk-bench");
    kt_loop_t *loop = kt_loop_new ();
    if (kt_store_connect (store) != 0 || !core || kt_store_attach (store, loop) != 0) {
        fprintf (stderr, "risk_bench: %s\n", kt_store_errstr (store));
        return 1;
    }
    char csv[2048], sym[NSYM][KT_SYM_LEN];
    int n = snprintf (csv, sizeof csv, "%s\n", KT_INSTR_CSV_HEADER);
    for (int i = 0; i < NSYM; i++) {
        snprintf (sym[i], sizeof sym[i], "NIFTY25NOV%d%s", 23800 + (i % 4) * 100,
                  i < 4 ? "CE" : "PE");
        n += snprintf (csv + n, sizeof csv - (size_t) n,
                       "%d,%d,%s,NIFTY,100,2030-12-26,%d,0.05,75,%s,NFO-OPT,NFO\n", 3000 + i, i,
                       sym[i], 23800 + (i % 4) * 100, i < 4 ? "CE" : "PE");
    }
    char err[200];
    kt_instr_table_t *instr = kt_instr_parse (csv, strlen (csv), err, sizeof err);
    risk_core_set_instruments (core, instr);

    int64_t now = kt_ist_ns (2025, 11, 24, 0, 30, 0); //  a Monday, "market" all day
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_start (core, now, &out);
    redisContext *peek = kt_testredis_connect (srv);
    kt_store_t *book = kt_store_new ("127.0.0.1", srv->port, "kt:", 1000); //  exec-gateway's
    if (kt_store_connect (book) != 0) {
        fprintf (stderr, "risk_bench: %s\n", kt_store_errstr (book));
        return 1;
    }
    freeReplyObject (
        redisCommand (peek, "HSET kt:recon:last session_ok 1 agree_ns %lld", (long long) now + 1));
    now += KT_NS_PER_SEC;
    risk_core_poll (core, now, &out);
    if (risk_core_view (core)->state != KT_STATE_ACTIVE) {
        fprintf (stderr, "risk_bench: not ACTIVE\n");
        return 1;
    }

    //  KT_BENCH_SLOWLOG=1: Redis's own time per command and script (SLOWLOG of
    //  everything), to tell the server's share of a decision from the round trip's.
    //  Logging every command slows every timing above, so it is off by default.
    bool slowlog = getenv ("KT_BENCH_SLOWLOG") && strcmp (getenv ("KT_BENCH_SLOWLOG"), "1") == 0;
    if (slowlog) {
        freeReplyObject (redisCommand (peek, "CONFIG SET slowlog-log-slower-than 0"));
        freeReplyObject (redisCommand (peek, "CONFIG SET slowlog-max-len 1000000"));
        freeReplyObject (redisCommand (peek, "SLOWLOG RESET"));
    }

    static int64_t dec[2 * CYCLES], raw[2 * CYCLES], mark[2 * CYCLES], path[2 * CYCLES];
    static int64_t amid[CYCLES];
    int nd = 0, nr = 0, nm = 0, na = 0, approved = 0, mark_fail = 0;
    int64_t dec_total = 0;
    for (int b = 0; b < CYCLES / BLOCK; b++) {
        //  bare round trips, as many as the block's decisions
        for (int i = 0; i < 2 * BLOCK; i++) {
            int64_t t0 = s_mono ();
            kt_store_result_t r = kt_store_eval_call (store, bare, 0, NULL, 0, NULL);
            raw[nr++] = s_mono () - t0;
            kt_store_result_free (&r);
        }
        for (int c = 0; c < BLOCK; c++) {
            int k = (b * BLOCK + c) % NSYM;
            now += 91 * KT_NS_PER_SEC;                      //  under 40 entries an hour
            if (kt_ist_minute_of_day (now) >= 23 * 60 + 50) //  the "market" closes 23:59
                now = kt_ist_day_start (now) + 24 * 3600 * KT_NS_PER_SEC + KT_NS_PER_MIN;
            if (!kt_ist_is_weekday (now) || kt_ist_yyyymmdd (now) != risk_core_view (core)->day) {
                while (!kt_ist_is_weekday (now))
                    now = kt_ist_day_start (now) + 24 * 3600 * KT_NS_PER_SEC;
                memset (&out, 0, sizeof out);
                risk_core_poll (core, now, &out); //  the daily roll, not timed
                freeReplyObject (redisCommand (
                    peek, "HSET kt:recon:last session_ok 1 agree_ns %lld", (long long) now));
                risk_core_poll (core, now + 1, &out);
                now += 2;
            }
            risk_core_on_tick (core, sym[k], RS (100), now);
            struct kt_intent in;
            memset (&in, 0, sizeof in);
            snprintf (in.intent_id, sizeof in.intent_id, "B%d-%d-e", b, c);
            snprintf (in.sym, sizeof in.sym, "%s", sym[k]);
            in.side = KT_SIDE_SELL;
            in.qty = 150;
            in.order_type = KT_OT_SL;
            in.trigger = RS (99);
            in.price = RS (98);
            in.product = KT_PROD_MIS;
            in.purpose = KT_PURPOSE_ENTRY;
            in.has_stop = true;
            in.stop_trigger = RS (110);
            memset (&out, 0, sizeof out);
            int64_t t0 = s_mono ();
            risk_core_decide (core, &in, now, &out);
            int64_t dt = s_mono () - t0;
            dec[nd++] = dt;
            dec_total += dt;
            approved += out.decision.verdict == KT_VERDICT_APPROVE && out.nmarks == 1;
            s_mark (core, &out, now, dt, mark, path, &nm, &mark_fail);
            kt_loop_run_once (loop, 0); //  the queued writes go, as on risk-gate's loop
            s_exec (core, book, in.intent_id, sym[k], KT_SIDE_SELL, KT_PURPOSE_ENTRY, 150, RS (98),
                    now);
            //  A bare round trip amid the workload (after the book's scripts and the
            //  settle, as a decision is; the poll's calls stand between it and the next
            //  decision, so it warms nothing the decision uses).
            t0 = s_mono ();
            kt_store_result_t br = kt_store_eval_call (store, bare, 0, NULL, 0, NULL);
            amid[na++] = s_mono () - t0;
            kt_store_result_free (&br);
            memset (&out, 0, sizeof out);
            risk_core_poll (core, now, &out); //  the periodic mark, not timed

            struct kt_intent ex = in;
            snprintf (ex.intent_id, sizeof ex.intent_id, "B%d-%d-x", b, c);
            ex.side = KT_SIDE_BUY;
            ex.purpose = KT_PURPOSE_EXIT;
            ex.order_type = KT_OT_LIMIT;
            ex.price = RS (100);
            ex.has_stop = false;
            memset (&out, 0, sizeof out);
            t0 = s_mono ();
            risk_core_decide (core, &ex, now, &out);
            dt = s_mono () - t0;
            dec[nd++] = dt;
            dec_total += dt;
            approved += out.decision.verdict == KT_VERDICT_APPROVE && out.nmarks == 1;
            s_mark (core, &out, now, dt, mark, path, &nm, &mark_fail);
            kt_loop_run_once (loop, 0);
            s_exec (core, book, ex.intent_id, sym[k], KT_SIDE_BUY, KT_PURPOSE_EXIT, 150, RS (97),
                    now);
        }
    }
    double per_s = dec_total > 0 ? (double) nd * 1e9 / (double) dec_total : 0;
    int64_t d50 = s_pct (dec, nd, 50), d99 = s_pct (dec, nd, 99);
    int64_t r50 = s_pct (raw, nr, 50), r99 = s_pct (raw, nr, 99);
    int64_t m50 = s_pct (mark, nm, 50), m99 = s_pct (mark, nm, 99);
    int64_t p50 = s_pct (path, nm, 50), p99 = s_pct (path, nm, 99);
    double ratio = r99 > 0 ? (double) d99 / (double) r99 : 0;
    double ratio50 = r50 > 0 ? (double) d50 / (double) r50 : 0;
    printf ("risk decisions: %d (%d approved, %lld decided again), %.0f decisions/s\n", nd,
            approved, (long long) risk_core_counters (core)->redecided, per_s);
    printf ("  decision (C rules + commit):         p50 %7.1f us  p99 %7.1f us"
            "  (the caller's wait)\n",
            d50 / 1e3, d99 / 1e3);
    printf ("  sent mark (HSET, after the reply):   p50 %7.1f us  p99 %7.1f us  (%d failed)\n",
            m50 / 1e3, m99 / 1e3, mark_fail);
    printf ("  order path incl. sent mark:          p50 %7.1f us  p99 %7.1f us\n", p50 / 1e3,
            p99 / 1e3);
    printf ("  bare EVALSHA round trip (return 1):  p50 %7.1f us  p99 %7.1f us\n", r50 / 1e3,
            r99 / 1e3);
    int64_t a50 = s_pct (amid, na, 50), a99 = s_pct (amid, na, 99);
    printf ("  bare EVALSHA amid the workload:      p50 %7.1f us  p99 %7.1f us"
            "  (after a fill, as cold as a decision)\n",
            a50 / 1e3, a99 / 1e3);
    printf ("  ratio p99 decision / p99 bare: %.2fx (target <= 2x): %s\n", ratio,
            ratio <= 2.0 ? "MET" : "MISSED");
    printf ("  ratio p50 decision / p50 bare: %.2fx (target <= 2x): %s\n", ratio50,
            ratio50 <= 2.0 ? "MET" : "MISSED");
    printf ("  ratio decision / bare amid the workload: p50 %.2fx  p99 %.2fx\n",
            a50 > 0 ? (double) d50 / (double) a50 : 0, a99 > 0 ? (double) d99 / (double) a99 : 0);
    printf ("  ratio order path / bare: p50 %.2fx  p99 %.2fx\n",
            r50 > 0 ? (double) p50 / (double) r50 : 0, r99 > 0 ? (double) p99 / (double) r99 : 0);
    if (slowlog) {
        //  a connection without the test's time-out: the log of a whole run is large
        redisContext *slow = redisConnect ("127.0.0.1", srv->port);
        if (slow && !slow->err)
            s_server_times (slow);
        if (slow)
            redisFree (slow);
    }
    redisFree (peek);
    kt_instr_destroy (&instr);
    risk_core_destroy (&core);
    kt_store_destroy (&book);
    kt_store_flush (store, 2000);
    kt_store_destroy (&store);
    kt_loop_destroy (&loop);
    kt_testredis_stop (&srv);
    return approved == nd && mark_fail == 0 ? 0 : 1;
}
