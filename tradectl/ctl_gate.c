/*  ctl_gate - the operator's first question: can the system open new positions now,
 *  and if not, why. Answered from what the processes wrote, never from defaults: the
 *  trading state and kill switch (risk-gate), the reconciler's last run and broker
 *  session (recon:last: only a real broker call sets them), the feed (md:status), the
 *  instruments risk-gate loaded (its health counter) and its heartbeat. Every reason
 *  found is listed, not just the first, so one look tells everything that must change. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "ctl_cmd.h"

//  Pipeline-time age as wall ns (beats and runs are stamped with pipeline time).
static int64_t
s_wall_age (const struct ctl_gate_in *in, int64_t ts_ns)
{
    int64_t ppm = in->speed_ppm > 0 ? in->speed_ppm : 1000000;
    return (int64_t) ((__int128) (in->now_ns - ts_ns) * 1000000 / ppm);
}

static void s_why (struct ctl_gate *g, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_why (struct ctl_gate *g, const char *fmt, ...)
{
    if (g->nwhy >= CTL_GATE_WHY_MAX)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (g->why[g->nwhy++], sizeof g->why[0], fmt, ap);
    va_end (ap);
}

//  "3 s ago" without " ago": "feed silent 42 s".
static const char *
s_span (int64_t ns, char *buf, size_t len)
{
    ctl_fmt_age (ns, buf, len);
    char *ago = strstr (buf, " ago");
    if (ago)
        *ago = '\0';
    return buf;
}

void
ctl_gate_decide (const struct ctl_gate_in *in, struct ctl_gate *g)
{
    memset (g, 0, sizeof *g);
    char a[48];
    const struct kt_risk_state_rec *st = &in->state;
    if (!in->have_state)
        s_why (g, "no account yet (risk-gate has not started)");
    else if (strcmp (st->state, "ACTIVE") != 0) {
        if (strcmp (st->state, "REDUCING") == 0 && in->have_recon && in->recon.agree_ns > 0 &&
            in->recon.agree_ns >= st->since_ns)
            s_why (g,
                   "trading REDUCING (the reconciler agreed %s; risk-gate turns ACTIVE on "
                   "its next poll)",
                   ctl_fmt_age (s_wall_age (in, in->recon.agree_ns), a, sizeof a));
        else if (strcmp (st->state, "REDUCING") == 0)
            s_why (g, "trading REDUCING (waiting for the reconciler's %s agreement)",
                   in->have_recon && in->recon.agree_ns > 0 ? "next" : "first");
        else
            s_why (g, "trading %s (%s)", st->state[0] ? st->state : "UNKNOWN", st->reason);
    }
    if (in->kill.active)
        s_why (g, "kill switch ON: %s (by %s, %s)", in->kill.reason, in->kill.by,
               ctl_fmt_age (s_wall_age (in, in->kill.since_ns), a, sizeof a));
    if (!in->have_rg_health)
        s_why (g, "risk-gate not running (no heartbeat)");
    else if (!in->rg_fresh)
        s_why (g, "risk-gate heartbeat stale (last %s)",
               ctl_fmt_age (s_wall_age (in, in->rg_beat_ns), a, sizeof a));
    if (in->have_rg_health && in->instruments <= 0)
        s_why (g, "instruments not loaded");
    if (!in->have_md)
        s_why (g, "feed status unknown (md-gateway has not written md:status)");
    else if (in->md.session_refused)
        s_why (g, "feed refused: the ticker rejected the access token");
    else if (!in->md.connected)
        s_why (g, "feed disconnected %s",
               ctl_fmt_age (s_wall_age (in, in->md.since_ns), a, sizeof a));
    else if (in->md.last_frame_ns <= 0)
        s_why (g, "feed silent (no frame since it connected)");
    else if (in->wall_ns - in->md.last_frame_ns > CTL_GATE_FEED_SILENT_NS)
        s_why (g, "feed silent %s", s_span (in->wall_ns - in->md.last_frame_ns, a, sizeof a));
    if (!in->have_recon || in->recon.ts_ns <= 0)
        s_why (g, "broker session not checked yet (no reconciliation)");
    else {
        if (!in->recon.session_ok) {
            if (in->recon.session_ok_ns > 0)
                s_why (g, "broker session invalid (last valid %s)",
                       ctl_fmt_age (s_wall_age (in, in->recon.session_ok_ns), a, sizeof a));
            else
                s_why (g, "broker session invalid (never confirmed by a broker call)");
        }
        if (in->recon.broker_error[0])
            s_why (g, "last reconciliation failed %s: %s",
                   ctl_fmt_age (s_wall_age (in, in->recon.ts_ns), a, sizeof a),
                   in->recon.broker_error);
        else if (!in->recon.agree)
            s_why (g, "last reconciliation disagreed %s (%" PRId64 " findings)",
                   ctl_fmt_age (s_wall_age (in, in->recon.ts_ns), a, sizeof a), in->recon.findings);
    }
    if (in->have_state && !st->session_ok)
        s_why (g, "broker session invalid (exec-gateway saw a TokenException)");
    g->can_open = g->nwhy == 0;
}

int
ctl_gate_hash (kt_store_t *store, const kt_schema_key_t *k, const char *arg, void *rec, char *why,
               size_t whylen)
{
    return kt_schema_read (store, k, arg, rec, why, whylen);
}

int
ctl_gate_hset (kt_store_t *store, const kt_schema_key_t *k, const void *rec)
{
    struct kt_schema_pairs p;
    int n = kt_schema_pairs (k, rec, &p);
    if (n < 0)
        return -1;
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), k, NULL);
    const char *argv[2 + 2 * KT_SCHEMA_FIELDS_MAX] = {"HSET", key.s};
    size_t lens[2 + 2 * KT_SCHEMA_FIELDS_MAX] = {4, key.len};
    for (int i = 0; i < 2 * n; i++) {
        argv[2 + i] = p.argv[i];
        lens[2 + i] = p.argvlen[i];
    }
    kt_store_result_t r = kt_store_call (store, 2 + 2 * n, argv, lens);
    bool ok = r.kind == KT_STORE_INT;
    kt_store_result_free (&r);
    return ok ? 0 : -1;
}

int
ctl_gate_read (kt_store_t *store, int64_t now_ns, int64_t speed_ppm, int64_t health_ttl_s,
               struct ctl_gate_in *in, char *why, size_t whylen)
{
    memset (in, 0, sizeof *in);
    in->now_ns = now_ns;
    in->speed_ppm = speed_ppm;
    in->wall_ns = kt_clock_wall_ns ();
    int rc;
    if ((rc = ctl_gate_hash (store, &kt_key_risk_state, NULL, &in->state, why, whylen)) < 0)
        return -1;
    in->have_state = rc == 1 && in->state.state[0];
    if (ctl_gate_hash (store, &kt_key_risk_kill, NULL, &in->kill, why, whylen) < 0)
        return -1;
    if ((rc = ctl_gate_hash (store, &kt_key_md_status, NULL, &in->md, why, whylen)) < 0)
        return -1;
    in->have_md = rc == 1;
    if ((rc = kt_recon_last_get (store, &in->recon, why, whylen)) < 0)
        return -1;
    in->have_recon = rc == 1;
    //  health:risk-gate: the fixed fields through the schema, the counter by name
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_health, "risk-gate");
    const char *argv[] = {"HGETALL", key.s};
    kt_store_result_t r = kt_store_call (store, 2, argv, NULL);
    if (r.kind != KT_STORE_ARR) {
        snprintf (why, whylen, "health:risk-gate: %s", r.str ? r.str : "no answer");
        kt_store_result_free (&r);
        return -1;
    }
    struct kt_health_rec h = {0};
    for (size_t i = 0; i + 1 < r.elements; i += 2) {
        kt_store_result_t f = kt_store_result_at (&r, i), v = kt_store_result_at (&r, i + 1);
        if (f.kind != KT_STORE_STR || v.kind != KT_STORE_STR)
            continue;
        in->have_rg_health = true;
        if (kt_schema_set (&kt_key_health, &h, f.str, f.len, v.str, v.len, why, whylen) == 1 &&
            f.len == strlen (CTL_GATE_INSTRUMENTS) &&
            memcmp (f.str, CTL_GATE_INSTRUMENTS, f.len) == 0)
            in->instruments = strtoll (v.str, NULL, 10);
    }
    kt_store_result_free (&r);
    in->rg_beat_ns = h.beat;
    in->rg_fresh =
        in->have_rg_health && h.beat > 0 && s_wall_age (in, h.beat) <= health_ttl_s * 1000000000LL;
    return 0;
}

cJSON *
ctl_gate_json (const struct ctl_gate *g)
{
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddBoolToObject (o, "can_open", g->can_open);
    cJSON *arr = cJSON_AddArrayToObject (o, "why");
    for (int i = 0; i < g->nwhy; i++)
        cJSON_AddItemToArray (arr, cJSON_CreateString (g->why[i]));
    return o;
}

void
ctl_gate_line (const struct ctl_gate *g, FILE *out)
{
    if (g->can_open) {
        fprintf (out, "can open new positions: YES\n");
        return;
    }
    fprintf (out, "can open new positions: NO - ");
    for (int i = 0; i < g->nwhy; i++)
        fprintf (out, "%s%s", i ? "; " : "", g->why[i]);
    fprintf (out, "\n");
}
