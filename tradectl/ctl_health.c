/*  ctl_health - every process's heartbeat (health:<proc>) as tradectl shows it: there
 *  or not, how old, and the process's own counters (for metrics and watch). A missing
 *  hash means the process has not beaten for health.ttl_s: it is down or hung. */

#include <string.h>
#include "ctl_cmd.h"

const char *const ctl_health_procs[] = {"md-gateway", "strategy", "risk-gate", "exec-gateway",
                                        "reconciler", "alerter",  NULL};

int
ctl_health_read (ctl_t *ctl, const char *proc, int64_t now_ns, int64_t speed_ppm,
                 struct ctl_health *out)
{
    memset (out, 0, sizeof *out);
    out->proc = proc;
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store)
        return -1;
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_health, proc);
    kt_store_result_t r = kt_store_callf (store, "HGETALL %s", key.s);
    if (r.kind != KT_STORE_ARR) {
        kt_store_result_free (&r);
        return -1;
    }
    char why[128];
    for (size_t i = 0; i + 1 < r.elements; i += 2) {
        kt_store_result_t k = kt_store_result_at (&r, i), v = kt_store_result_at (&r, i + 1);
        if (k.kind != KT_STORE_STR || v.kind != KT_STORE_STR)
            continue;
        out->present = true;
        int set =
            kt_schema_set (&kt_key_health, &out->rec, k.str, k.len, v.str, v.len, why, sizeof why);
        if (set == 1 && out->ncounters < CTL_HEALTH_COUNTERS) {
            snprintf (out->counter[out->ncounters], sizeof out->counter[0], "%s", k.str);
            snprintf (out->value[out->ncounters], sizeof out->value[0], "%s", v.str);
            out->ncounters++;
        }
    }
    kt_store_result_free (&r);
    if (out->present && out->rec.beat > 0) {
        //  Beats are stamped with pipeline time: at 60x a 1 s old beat reads 60 s.
        int64_t ppm = speed_ppm > 0 ? speed_ppm : 1000000;
        out->age_ns = (int64_t) ((__int128) (now_ns - out->rec.beat) * 1000000 / ppm);
        out->fresh = out->age_ns <= ctl->cfg->health_ttl_s * 1000000000LL;
    }
    return 0;
}

const char *
ctl_health_counter (const struct ctl_health *h, const char *name)
{
    for (int i = 0; i < h->ncounters; i++)
        if (strcmp (h->counter[i], name) == 0)
            return h->value[i];
    return NULL;
}
