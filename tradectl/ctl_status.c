/*  ctl_status - `tradectl status`: the account as risk-gate keeps it in Redis, for a
 *  human at 3 a.m. The first line answers whether new positions can open and, if not,
 *  why (ctl_gate); then the trading state and why, the kill switch, the reconciler's
 *  last run and the broker session (recon:last, from real broker calls only), the day's
 *  P&L, capital, positions and the orders risk-gate holds reservations for, and whether
 *  risk-gate itself is alive. Every key and field through the kt_schema declarations.
 *  Money is printed in rupees, times in IST and as ages. Read-only. */

#include <stdlib.h>
#include <string.h>
#include "ctl_cmd.h"

static const char *
s_when (int64_t ns, char *buf, int len)
{
    if (ns <= 0)
        return "never";
    kt_ist_format (ns, buf, len - 4);
    strcat (buf, " IST");
    return buf;
}

static int64_t
s_age (int64_t now_ns, int64_t speed_ppm, int64_t ts_ns)
{
    int64_t ppm = speed_ppm > 0 ? speed_ppm : 1000000;
    return ts_ns > 0 ? (int64_t) ((__int128) (now_ns - ts_ns) * 1000000 / ppm) : 0;
}

//  The members of set key, or NULL (Redis failed). Owned.
static kt_store_result_t
s_members (kt_store_t *store, const kt_schema_key_t *k)
{
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), k, NULL);
    const char *argv[] = {"SMEMBERS", key.s};
    return kt_store_call (store, 2, argv, NULL);
}

//  The book's open positions (exec-gateway's pos:<sym>), valued at the last price
//  risk-gate's poll wrote (risk:px), with what the live orders do for each: the quantity
//  its stops cover (NO STOP, or short of the position, is flagged), exits on their way,
//  entries pending.
static void
s_positions (kt_store_t *store, FILE *out)
{
    char why[128];
    struct kt_order_rec *ord = NULL;
    int nord = ctl_book_open_orders_in (store, &ord, why, sizeof why);
    kt_store_result_t r = s_members (store, &kt_key_positions);
    struct kt_skey pk = kt_schema_key (kt_store_prefix (store), &kt_key_risk_px, NULL);
    fprintf (out, "positions:\n");
    int n = 0;
    for (size_t i = 0; r.kind == KT_STORE_ARR && i < r.elements; i++) {
        kt_store_result_t m = kt_store_result_at (&r, i);
        struct kt_pos_rec p = {0};
        if (m.kind != KT_STORE_STR ||
            ctl_gate_hash (store, &kt_key_pos, m.str, &p, why, sizeof why) != 1)
            continue;
        int64_t last = 0;
        if (kt_store_hget_i64 (store, pk.s, p.sym, &last) != 0)
            last = 0;
        char a[40], b[40], c[40], d[40];
        int64_t unreal =
            last > 0 && p.qty ? p.qty * last - (p.qty > 0 ? p.open_value : -p.open_value) : 0;
        fprintf (out, "  %-24s qty %6lld  avg %10s  last %10s  unrealised %12s  realised %12s\n",
                 p.sym, (long long) p.qty, ctl_fmt_rs (p.avg_px, a, sizeof a),
                 ctl_fmt_rs (last, b, sizeof b), ctl_fmt_rs (unreal, c, sizeof c),
                 ctl_fmt_rs (p.realised, d, sizeof d));
        struct ctl_cover cv;
        ctl_book_cover (&p, ord, nord > 0 ? nord : 0, &cv);
        int64_t q = p.qty < 0 ? -p.qty : p.qty;
        if (nord < 0)
            fprintf (out, "  %24s orders unreadable: %s\n", "", why);
        else if (cv.stop_qty <= 0)
            fprintf (out, "  %24s NO STOP  exiting %lld  pending entries %lld\n", "",
                     (long long) cv.exiting, (long long) cv.pending);
        else
            fprintf (out, "  %24s stops cover %lld of %lld%s  exiting %lld  pending entries %lld\n",
                     "", (long long) cv.stop_qty, (long long) q, cv.stop_qty < q ? " (SHORT)" : "",
                     (long long) cv.exiting, (long long) cv.pending);
        n++;
    }
    if (!n)
        fprintf (out, "  (none)\n");
    kt_store_result_free (&r);
    free (ord);
}

static void
s_orders (kt_store_t *store, FILE *out)
{
    char why[128];
    kt_store_result_t r = s_members (store, &kt_key_risk_open);
    fprintf (out, "open orders (held by risk-gate):\n");
    int n = 0;
    struct kt_risk_intent_rec *o = malloc (sizeof *o);
    if (!o)
        abort ();
    for (size_t i = 0; r.kind == KT_STORE_ARR && i < r.elements; i++) {
        kt_store_result_t m = kt_store_result_at (&r, i);
        memset (o, 0, sizeof *o);
        if (m.kind != KT_STORE_STR ||
            ctl_gate_hash (store, &kt_key_risk_intent, m.str, o, why, sizeof why) != 1)
            continue;
        char a[40];
        fprintf (out, "  %-20s %-24s %-4s %-12s qty %6lld filled %6lld reserved %12s%s%s\n", m.str,
                 o->sym, o->side, o->kind, (long long) o->oqty, (long long) o->filled,
                 ctl_fmt_rs (o->resv, a, sizeof a), o->answered ? "" : "  UNANSWERED",
                 o->unresolved ? "  UNRESOLVED" : "");
        n++;
    }
    free (o);
    if (!n)
        fprintf (out, "  (none)\n");
    kt_store_result_free (&r);
}

int
ctl_status_print (kt_store_t *store, FILE *out, int64_t now_ns, int64_t speed_ppm,
                  int64_t health_ttl_s)
{
    char why[256];
    struct ctl_gate_in in;
    struct kt_risk_capital_rec cap = {0};
    if (ctl_gate_read (store, now_ns, speed_ppm, health_ttl_s, &in, why, sizeof why) != 0 ||
        ctl_gate_hash (store, &kt_key_risk_capital, NULL, &cap, why, sizeof why) < 0) {
        fprintf (out, "Redis unavailable: %s\n", why);
        return -1;
    }
    struct ctl_gate g;
    ctl_gate_decide (&in, &g);
    ctl_gate_line (&g, out);

    const struct kt_risk_state_rec *st = &in.state;
    const struct kt_recon_last *rl = &in.recon;
    char t1[40], t2[40], a[40], b[40], c[40], d[40], e[40];
    fprintf (out, "trading state:   %s since %s (%s)\n",
             in.have_state ? st->state : "UNKNOWN (no account yet)",
             s_when (st->since_ns, t1, sizeof t1),
             st->since_ns > 0 ? ctl_fmt_age (s_age (now_ns, speed_ppm, st->since_ns), t2, sizeof t2)
                              : "never");
    fprintf (out, "reason:          %s%s\n", st->reason,
             strcmp (st->scope, "day") == 0 ? " (ends at the daily reset)" : "");
    if (in.kill.active)
        fprintf (out, "kill switch:     ON: %s (by %s, %s)\n", in.kill.reason, in.kill.by,
                 s_when (in.kill.since_ns, t1, sizeof t1));
    else
        fprintf (out, "kill switch:     off\n");
    if (!in.have_recon || rl->ts_ns <= 0)
        fprintf (out, "reconciler:      no run yet\n");
    else
        fprintf (out, "reconciler:      last run %s (%s), last agreement %s\n",
                 ctl_fmt_age (s_age (now_ns, speed_ppm, rl->ts_ns), t1, sizeof t1),
                 rl->broker_error[0] ? "FAILED"
                 : rl->agree         ? "agreed"
                                     : "DISAGREED",
                 rl->agree_ns > 0
                     ? ctl_fmt_age (s_age (now_ns, speed_ppm, rl->agree_ns), t2, sizeof t2)
                     : "never");
    if (!in.have_recon || rl->ts_ns <= 0)
        fprintf (out, "broker session:  not checked yet (no broker call)\n");
    else if (rl->session_ok)
        fprintf (out, "broker session:  ok (broker call %s)\n",
                 ctl_fmt_age (s_age (now_ns, speed_ppm, rl->session_ok_ns), t1, sizeof t1));
    else
        fprintf (out, "broker session:  INVALID%s%s\n", rl->broker_error[0] ? ": " : "",
                 rl->broker_error);
    fprintf (out, "day %lld:     realised %s  unrealised %s  day P&L %s\n", (long long) st->day,
             ctl_fmt_rs (st->realised_day, a, sizeof a), ctl_fmt_rs (st->unrealised, b, sizeof b),
             ctl_fmt_rs (st->day_pnl, c, sizeof c));
    fprintf (out, "                 trades %lld  losing in a row %lld  halts so far %lld\n",
             (long long) st->trades_day, (long long) st->consec_losses, (long long) st->halt_seq);
    fprintf (out,
             "capital:         initial %s  equity %s  reserved %s  deployed %s  "
             "available %s\n",
             ctl_fmt_rs (cap.initial, a, sizeof a), ctl_fmt_rs (cap.equity, b, sizeof b),
             ctl_fmt_rs (cap.reserved, c, sizeof c), ctl_fmt_rs (cap.deployed, d, sizeof d),
             ctl_fmt_rs (cap.available, e, sizeof e));
    fprintf (out, "positions + pending entries: %lld (CE %lld, PE %lld)\n",
             (long long) st->units_total, (long long) st->units_ce, (long long) st->units_pe);
    s_positions (store, out);
    s_orders (store, out);
    if (in.have_rg_health)
        fprintf (out, "risk-gate:       last heartbeat %s, instruments %lld\n",
                 ctl_fmt_age (s_age (now_ns, speed_ppm, in.rg_beat_ns), t1, sizeof t1),
                 (long long) in.instruments);
    else
        fprintf (out, "risk-gate:       NOT RUNNING (no heartbeat)\n");
    return 0;
}
