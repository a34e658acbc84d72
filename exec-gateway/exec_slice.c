/*  exec_slice - orders above the exchange freeze quantity go out as slices, each its
 *  own broker order with its own tag (so each is idempotent on its own), and every
 *  outgoing order request waits for a token of the rate bucket, so our own burst never
 *  earns a 429. */

#include "exec_kite.h"

#include <stdio.h>
#include <string.h>

int
exec_slice_split (int64_t qty, int64_t lot, int64_t freeze, int max, int64_t *out, char *why,
                  size_t whylen)
{
    if (max < 1 || max > EXEC_SLICE_MAX)
        max = EXEC_SLICE_MAX;
    if (lot <= 0 || qty <= 0 || qty % lot != 0) {
        snprintf (why, whylen, "quantity %lld is not a positive multiple of lot %lld",
                  (long long) qty, (long long) lot);
        return -1;
    }
    if (freeze <= 0 || qty <= freeze) {
        out[0] = qty;
        return 1;
    }
    int64_t per = freeze / lot; //  lots per slice at most
    if (per < 1) {
        snprintf (why, whylen, "freeze quantity %lld is below one lot (%lld)", (long long) freeze,
                  (long long) lot);
        return -1;
    }
    int64_t lots = qty / lot;
    int64_t n = (lots + per - 1) / per;
    if (n > max) {
        snprintf (why, whylen, "%lld units need %lld slices of at most %lld; the limit is %d",
                  (long long) qty, (long long) n, (long long) freeze, max);
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        out[i] = (lots / n + (i < lots % n ? 1 : 0)) * lot;
    return (int) n;
}

int
exec_slice_tag (const char *coid, int i, int n, char *buf, size_t cap)
{
    if (!coid || !coid[0] || i < 0 || i >= n || i >= EXEC_SLICE_MAX)
        return -1;
    int w = n == 1 ? snprintf (buf, cap, "%s", coid) : snprintf (buf, cap, "%.18ss%d", coid, i);
    return w < 0 || (size_t) w >= cap ? -1 : 0;
}

void
exec_rate_init (struct exec_rate *r, int64_t rate, int64_t burst, int64_t now_ns)
{
    r->rate = rate > 0 ? rate : 1;
    r->burst = burst > 0 ? burst : 1;
    r->tokens_milli = r->burst * 1000;
    r->last_ns = now_ns;
}

int64_t
exec_rate_take (struct exec_rate *r, int64_t now_ns)
{
    if (now_ns > r->last_ns) {
        //  rate tokens per second = rate milli-tokens per ms
        int64_t add = (now_ns - r->last_ns) / 1000000 * r->rate;
        if (add > 0) {
            r->tokens_milli += add;
            if (r->tokens_milli > r->burst * 1000)
                r->tokens_milli = r->burst * 1000;
            r->last_ns += add / r->rate * 1000000;
        }
    }
    if (r->tokens_milli >= 1000) {
        r->tokens_milli -= 1000;
        return 0;
    }
    int64_t need = 1000 - r->tokens_milli;
    return (need + r->rate - 1) / r->rate;
}
