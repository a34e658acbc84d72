/*  sim_fault - faults on demand for kite-sim: what a broker does on a bad day.
 *
 *  Used by sim_http (per request: latency, 5xx, 429 storms, accept-then-hang-up; the
 *  admin endpoint POST /_admin/fault) and sim_ws (silence, malformed frames). One-off
 *  actions (token expiry, RMS reject, WebSocket drop, a position changed behind the
 *  client's back) are returned to the caller, who owns the module they act on.
 *  Counters only go down; a fault with count N hits exactly the next N matching
 *  requests. Admin routes are never faulted, so a test can always clear a fault. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

void
sim_fault_init (struct sim_fault *self, const struct sim_cfg *cfg)
{
    memset (self, 0, sizeof *self);
    self->error_status = 503;
    if (!cfg)
        return;
    self->latency_ms = cfg->fault_latency_ms;
    snprintf (self->latency_path, sizeof self->latency_path, "%s", cfg->fault_latency_path);
    self->error_count = cfg->fault_error_count;
    if (cfg->fault_error_status)
        self->error_status = (int) cfg->fault_error_status;
    snprintf (self->error_path, sizeof self->error_path, "%s", cfg->fault_error_path);
    self->storm_count = cfg->fault_storm_count;
    self->drop_count = cfg->fault_drop_count;
}

//  A number field: absent -> def; present must be a whole number within [min, max].
static int
s_num (const struct sim_form *form, const char *key, int64_t def, int64_t min, int64_t max,
       int64_t *out, char *msg, size_t msglen)
{
    const char *v = sim_form_get (form, key);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end = NULL;
    long long n = strtoll (v, &end, 10);
    if (!*v || *end || n < min || n > max) {
        snprintf (msg, msglen, "`%s` must be a whole number in [%lld, %lld]", key, (long long) min,
                  (long long) max);
        return -1;
    }
    *out = n;
    return 0;
}

static void
s_path (const struct sim_form *form, char *dst, size_t len)
{
    const char *p = sim_form_get (form, "path");
    snprintf (dst, len, "%s", p ? p : "");
}

int
sim_fault_admin (struct sim_fault *self, const struct sim_form *form, int64_t wall_mono_ns,
                 struct sim_fault_action *act, char *msg, size_t msglen)
{
    memset (act, 0, sizeof *act);
    const char *kind = sim_form_get (form, "kind");
    int64_t n = 0;
    if (!kind) {
        snprintf (msg, msglen, "missing `kind`");
        return -1;
    }
    if (strcmp (kind, "latency") == 0) {
        if (s_num (form, "ms", 0, 0, 600000, &n, msg, msglen) != 0)
            return -1;
        self->latency_ms = n;
        s_path (form, self->latency_path, sizeof self->latency_path);
    } else if (strcmp (kind, "http_error") == 0) {
        int64_t status = 0;
        if (s_num (form, "count", 1, 0, 1000000, &n, msg, msglen) != 0 ||
            s_num (form, "status", 503, 500, 504, &status, msg, msglen) != 0)
            return -1;
        const char *after = sim_form_get (form, "after");
        self->error_count = n;
        self->error_status = (int) status;
        self->error_after = after && (strcmp (after, "1") == 0 || strcmp (after, "true") == 0);
        s_path (form, self->error_path, sizeof self->error_path);
    } else if (strcmp (kind, "storm") == 0) {
        if (s_num (form, "count", 10, 0, 1000000, &n, msg, msglen) != 0)
            return -1;
        self->storm_count = n;
        s_path (form, self->storm_path, sizeof self->storm_path);
    } else if (strcmp (kind, "drop_response") == 0) {
        if (s_num (form, "count", 1, 0, 1000000, &n, msg, msglen) != 0)
            return -1;
        self->drop_count = n;
    } else if (strcmp (kind, "ws_silent") == 0) {
        if (s_num (form, "seconds", 3600, 0, 86400, &n, msg, msglen) != 0)
            return -1;
        self->ws_silent_until_ns = n ? wall_mono_ns + n * KT_NS_PER_SEC : 0;
    } else if (strcmp (kind, "malformed") == 0) {
        if (s_num (form, "count", 1, 0, 1000000, &n, msg, msglen) != 0)
            return -1;
        self->malformed_count = n;
    } else if (strcmp (kind, "expire_tokens") == 0)
        act->kind = SIM_FAULT_ACT_EXPIRE;
    else if (strcmp (kind, "rms_reject") == 0) {
        const char *m = sim_form_get (form, "message");
        act->kind = SIM_FAULT_ACT_RMS;
        snprintf (act->message, sizeof act->message, "%s",
                  m && *m ? m
                          : "Insufficient funds. Required margin is more than available "
                            "margin. Check the orderbook for open orders.");
    } else if (strcmp (kind, "ws_drop") == 0)
        act->kind = SIM_FAULT_ACT_WS_DROP;
    else if (strcmp (kind, "position") == 0) {
        const char *sym = sim_form_get (form, "tradingsymbol");
        if (!sym || !*sym || strlen (sym) >= sizeof act->sym) {
            snprintf (msg, msglen, "missing or bad `tradingsymbol`");
            return -1;
        }
        if (s_num (form, "quantity", 0, -10000000, 10000000, &n, msg, msglen) != 0)
            return -1;
        if (n == 0) {
            snprintf (msg, msglen, "`quantity` must be non-zero");
            return -1;
        }
        act->kind = SIM_FAULT_ACT_POSITION;
        snprintf (act->sym, sizeof act->sym, "%s", sym);
        act->qty = n;
    } else if (strcmp (kind, "clear") == 0)
        sim_fault_init (self, NULL);
    else {
        snprintf (msg, msglen, "unknown fault kind `%s`", kind);
        return -1;
    }
    msg[0] = '\0';
    return 0;
}

static bool
s_matches (const char *path, const char *prefix)
{
    return !prefix[0] || strncmp (path, prefix, strlen (prefix)) == 0;
}

static void
s_error_of (int status, struct sim_fault_verdict *v)
{
    v->status = status;
    switch (status) {
        case 502:
            v->error_type = "DataException";
            v->message = "Couldn't parse the JSON response received from the exchange.";
            break;
        case 503:
            v->error_type = "NetworkException";
            v->message = "Gateway is unable to reach the OMS. Please try again.";
            break;
        case 504:
            v->error_type = "DataException";
            v->message = "Gateway timed out waiting for the OMS.";
            break;
        default:
            v->status = 500;
            v->error_type = "GeneralException";
            v->message = "Something went wrong. Please try again.";
            break;
    }
}

struct sim_fault_verdict
sim_fault_check (struct sim_fault *self, const char *method, const char *path, bool place)
{
    (void) method;
    struct sim_fault_verdict v = {0};
    if (self->latency_ms > 0 && s_matches (path, self->latency_path))
        v.delay_ms = self->latency_ms;
    if (self->storm_count > 0 && s_matches (path, self->storm_path)) {
        self->storm_count--;
        v.status = 429;
        v.error_type = "NetworkException";
        v.message = "Too many requests";
    } else if (self->error_count > 0 && s_matches (path, self->error_path)) {
        self->error_count--;
        s_error_of (self->error_status, &v);
        v.after = self->error_after;
    } else if (place && self->drop_count > 0) {
        self->drop_count--;
        v.drop = true;
    }
    return v;
}

bool
sim_fault_ws_silent (const struct sim_fault *self, int64_t wall_mono_ns)
{
    return self->ws_silent_until_ns && wall_mono_ns < self->ws_silent_until_ns;
}

bool
sim_fault_take_malformed (struct sim_fault *self)
{
    if (self->malformed_count <= 0)
        return false;
    self->malformed_count--;
    return true;
}
