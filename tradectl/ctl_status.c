/*  ctl_status - `tradectl status`: the account as risk-gate keeps it in Redis, for a
 *  human at 3 a.m.: trading state and why, the kill switch, the broker session, the
 *  day's P&L, capital, positions and the orders risk-gate holds reservations for, and
 *  whether risk-gate itself is alive (its heartbeat). Money is printed in rupees,
 *  times in IST. Read-only. */

#include <stdlib.h>
#include <string.h>
#include "ctl.h"

#define S_FIELDS 64

//  One hash read into borrowed strings (valid while the reply lives).
struct s_hash {
    redisReply *r; //  owned
    int n;
    const char *k[S_FIELDS];
    const char *v[S_FIELDS];
};

static int
s_hgetall (kt_store_t *store, const char *key, struct s_hash *h)
{
    memset (h, 0, sizeof *h);
    h->r = kt_store_cmd (store, "HGETALL %s", key);
    if (!h->r || h->r->type != REDIS_REPLY_ARRAY)
        return -1;
    for (size_t i = 0; i + 1 < h->r->elements && h->n < S_FIELDS; i += 2) {
        h->k[h->n] = h->r->element[i]->str;
        h->v[h->n++] = h->r->element[i + 1]->str ? h->r->element[i + 1]->str : "";
    }
    return 0;
}

static void
s_hfree (struct s_hash *h)
{
    if (h->r)
        freeReplyObject (h->r);
    h->r = NULL;
}

static const char *
s_get (const struct s_hash *h, const char *k)
{
    for (int i = 0; i < h->n; i++) {
        if (h->k[i] && strcmp (h->k[i], k) == 0)
            return h->v[i];
    }
    return "";
}

static int64_t
s_geti (const struct s_hash *h, const char *k)
{
    return strtoll (s_get (h, k), NULL, 10);
}

static const char *
s_rs (int64_t paise, char *buf, size_t len)
{
    char n[32];
    if (!kt_money_format (paise, n, sizeof n))
        return "?";
    snprintf (buf, len, "Rs %s", n);
    return buf;
}

static const char *
s_when (int64_t ns, char *buf, int len)
{
    if (ns <= 0)
        return "never";
    kt_ist_format (ns, buf, len - 4);
    strcat (buf, " IST");
    return buf;
}

static void
s_positions (kt_store_t *store, FILE *out)
{
    char key[128];
    kt_store_key (store, key, sizeof key, "risk:positions");
    redisReply *r = kt_store_cmd (store, "SMEMBERS %s", key);
    fprintf (out, "positions:\n");
    int n = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        struct s_hash p;
        kt_store_key (store, key, sizeof key, "risk:pos:%s", r->element[i]->str);
        if (s_hgetall (store, key, &p) == 0 && p.n) {
            char a[40], b[40], c[40], d[40];
            int64_t qty = s_geti (&p, "qty");
            int64_t last = s_geti (&p, "last_px");
            int64_t basis = s_geti (&p, "basis");
            int64_t unreal = last > 0 && qty ? qty * last - (qty > 0 ? basis : -basis) : 0;
            fprintf (out,
                     "  %-24s %-3s qty %6lld  avg %10s  last %10s  unrealised %12s  "
                     "realised %12s  pending %lld  exiting %lld\n",
                     s_get (&p, "sym"), s_get (&p, "itype"), (long long) qty,
                     s_rs (s_geti (&p, "avg_px"), a, sizeof a), s_rs (last, b, sizeof b),
                     s_rs (unreal, c, sizeof c), s_rs (s_geti (&p, "realised"), d, sizeof d),
                     (long long) s_geti (&p, "pending"), (long long) s_geti (&p, "exiting"));
            n++;
        }
        s_hfree (&p);
    }
    if (!n)
        fprintf (out, "  (none)\n");
    if (r)
        freeReplyObject (r);
}

static void
s_orders (kt_store_t *store, FILE *out)
{
    char key[128];
    kt_store_key (store, key, sizeof key, "risk:open");
    redisReply *r = kt_store_cmd (store, "SMEMBERS %s", key);
    fprintf (out, "open orders (held by risk-gate):\n");
    int n = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        struct s_hash o;
        kt_store_key (store, key, sizeof key, "intent:%s", r->element[i]->str);
        if (s_hgetall (store, key, &o) == 0 && o.n) {
            char a[40];
            fprintf (out, "  %-20s %-24s %-4s %-12s qty %6lld filled %6lld reserved %12s%s%s\n",
                     r->element[i]->str, s_get (&o, "sym"), s_get (&o, "side"), s_get (&o, "kind"),
                     (long long) s_geti (&o, "oqty"), (long long) s_geti (&o, "filled"),
                     s_rs (s_geti (&o, "resv"), a, sizeof a),
                     s_geti (&o, "answered") ? "" : "  UNANSWERED",
                     s_geti (&o, "unresolved") ? "  UNRESOLVED" : "");
            n++;
        }
        s_hfree (&o);
    }
    if (!n)
        fprintf (out, "  (none)\n");
    if (r)
        freeReplyObject (r);
}

int
ctl_status_print (kt_store_t *store, FILE *out, int64_t now_ns, int64_t speed_ppm)
{
    char key[128];
    struct s_hash st, cap, kill, health;
    kt_store_key (store, key, sizeof key, "risk:state");
    if (s_hgetall (store, key, &st) != 0) {
        fprintf (out, "Redis unavailable: %s\n", kt_store_errstr (store));
        s_hfree (&st);
        return -1;
    }
    kt_store_key (store, key, sizeof key, "capital");
    s_hgetall (store, key, &cap);
    kt_store_key (store, key, sizeof key, "risk:kill");
    s_hgetall (store, key, &kill);
    kt_store_key (store, key, sizeof key, "health:risk-gate");
    s_hgetall (store, key, &health);

    char t1[40], t2[40], a[40], b[40], c[40], d[40], e[40];
    const char *state = s_get (&st, "state");
    fprintf (out, "trading state:   %s since %s\n", state[0] ? state : "UNKNOWN (no account yet)",
             s_when (s_geti (&st, "since_ns"), t1, sizeof t1));
    fprintf (out, "reason:          %s%s\n", s_get (&st, "reason"),
             strcmp (s_get (&st, "scope"), "day") == 0 ? " (ends at the daily reset)" : "");
    if (s_geti (&kill, "active"))
        fprintf (out, "kill switch:     ON: %s (by %s, %s)\n", s_get (&kill, "reason"),
                 s_get (&kill, "by"), s_when (s_geti (&kill, "since_ns"), t1, sizeof t1));
    else
        fprintf (out, "kill switch:     off\n");
    fprintf (out, "reconciler:      last agreement %s\n",
             s_when (s_geti (&st, "recon_ok_ns"), t2, sizeof t2));
    fprintf (out, "broker session:  %s\n",
             st.n && strcmp (s_get (&st, "session_ok"), "0") == 0 ? "INVALID" : "ok");
    fprintf (out, "day %s:     realised %s  unrealised %s  day P&L %s\n", s_get (&st, "day"),
             s_rs (s_geti (&st, "realised_day"), a, sizeof a),
             s_rs (s_geti (&st, "unrealised"), b, sizeof b),
             s_rs (s_geti (&st, "day_pnl"), c, sizeof c));
    fprintf (out, "                 trades %lld  losing in a row %lld  halts so far %lld\n",
             (long long) s_geti (&st, "trades_day"), (long long) s_geti (&st, "consec_losses"),
             (long long) s_geti (&st, "halt_seq"));
    fprintf (out,
             "capital:         initial %s  equity %s  reserved %s  deployed %s  "
             "available %s\n",
             s_rs (s_geti (&cap, "initial"), a, sizeof a),
             s_rs (s_geti (&cap, "equity"), b, sizeof b),
             s_rs (s_geti (&cap, "reserved"), c, sizeof c),
             s_rs (s_geti (&cap, "deployed"), d, sizeof d),
             s_rs (s_geti (&cap, "available"), e, sizeof e));
    fprintf (out, "positions + pending entries: %lld (CE %lld, PE %lld)\n",
             (long long) s_geti (&st, "units_total"), (long long) s_geti (&st, "units_ce"),
             (long long) s_geti (&st, "units_pe"));
    s_positions (store, out);
    s_orders (store, out);
    if (health.n) {
        //  beats carry pipeline time: show the age in wall time
        int64_t age = (now_ns - s_geti (&health, "beat")) / (speed_ppm > 0 ? speed_ppm : 1);
        fprintf (out, "risk-gate:       pid %s, last heartbeat %lld ms ago, decisions %s\n",
                 s_get (&health, "pid"), (long long) age, s_get (&health, "decisions"));
    } else
        fprintf (out, "risk-gate:       NOT RUNNING (no heartbeat)\n");
    s_hfree (&st);
    s_hfree (&cap);
    s_hfree (&kill);
    s_hfree (&health);
    return 0;
}
