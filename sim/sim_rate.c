/*  sim_rate - Kite's request rate limits for kite-sim, as GCRA token buckets.
 *
 *  Used by sim_http before a request reaches its handler: over the limit the answer is
 *  HTTP 429 NetworkException "Too many requests", as Kite's. Classes (kite-protocol.md
 *  section 5): order mutations 10/s and 400/min, /quote* 1/s shared, historical 3/s,
 *  everything else 10/s. GCRA keeps one integer per bucket (the theoretical arrival
 *  time), so the limit is exact at the boundary and needs no timer; the minute cap is a
 *  ring of the last 400 order times (a true sliding window). Pure: wall time is an
 *  argument. */

#include <string.h>
#include "sim.h"

static void
s_bucket (struct sim_rate *self, int idx, int64_t count, int64_t period_ns)
{
    if (count < 1)
        count = 1;
    self->b[idx].interval_ns = period_ns / count;
    self->b[idx].burst_ns = (count - 1) * self->b[idx].interval_ns;
    self->b[idx].tat_ns = 0;
}

void
sim_rate_init (struct sim_rate *self)
{
    memset (self, 0, sizeof *self);
    s_bucket (self, SIM_RATE_ORDER, 10, KT_NS_PER_SEC);
    s_bucket (self, SIM_RATE_QUOTE, 1, KT_NS_PER_SEC);
    s_bucket (self, SIM_RATE_HIST, 3, KT_NS_PER_SEC);
    s_bucket (self, SIM_RATE_OTHER, 10, KT_NS_PER_SEC);
    self->minute_cap = SIM_RATE_MINUTE_MAX;
}

void
sim_rate_set (struct sim_rate *self, sim_rate_class_t cls, int64_t per_sec)
{
    if ((int) cls < 0 || cls >= SIM_RATE_CLASSES)
        return;
    s_bucket (self, cls, per_sec, KT_NS_PER_SEC);
    if (cls == SIM_RATE_ORDER) {
        int64_t cap = per_sec * 40;
        self->minute_cap = cap > SIM_RATE_MINUTE_MAX ? 0 : (int) cap;
        memset (self->minute, 0, sizeof self->minute);
        self->minute_at = 0;
    }
}

//  The order minute_cap requests ago is at least 60 s old (or there was none).
static bool
s_minute_ok (const struct sim_rate *self, int64_t now)
{
    if (!self->minute_cap)
        return true;
    int64_t t = self->minute[self->minute_at];
    return t == 0 || now - t >= 60 * KT_NS_PER_SEC;
}

static void
s_minute_take (struct sim_rate *self, int64_t now)
{
    if (!self->minute_cap)
        return;
    self->minute[self->minute_at] = now;
    self->minute_at = (self->minute_at + 1) % self->minute_cap;
}

static bool
s_conforms (const struct sim_rate *self, int idx, int64_t now)
{
    return now >= self->b[idx].tat_ns - self->b[idx].burst_ns;
}

static void
s_take (struct sim_rate *self, int idx, int64_t now)
{
    int64_t tat = self->b[idx].tat_ns > now ? self->b[idx].tat_ns : now;
    self->b[idx].tat_ns = tat + self->b[idx].interval_ns;
}

bool
sim_rate_take (struct sim_rate *self, sim_rate_class_t cls, int64_t wall_ns)
{
    if ((int) cls < 0 || cls >= SIM_RATE_CLASSES)
        cls = SIM_RATE_OTHER;
    if (!s_conforms (self, cls, wall_ns))
        return false;
    if (cls == SIM_RATE_ORDER) {
        if (!s_minute_ok (self, wall_ns))
            return false;
        s_minute_take (self, wall_ns);
    }
    s_take (self, cls, wall_ns);
    return true;
}

static bool
s_prefix (const char *path, const char *prefix)
{
    size_t n = strlen (prefix);
    return strncmp (path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

sim_rate_class_t
sim_rate_class_of (const char *method, const char *path)
{
    if (s_prefix (path, "/quote"))
        return SIM_RATE_QUOTE;
    if (strncmp (path, "/instruments/historical/", 24) == 0)
        return SIM_RATE_HIST;
    if (s_prefix (path, "/orders") && strcmp (method, "GET") != 0)
        return SIM_RATE_ORDER;
    return SIM_RATE_OTHER;
}
