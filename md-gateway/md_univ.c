/*  md_univ - subscriptions from config or derived (see md_univ.h). */

#include "md_univ.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_STRIKES_MAX 4096

static int
s_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errlen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

static const struct kt_instr *
s_by_sym_any (const kt_instr_table_t *t, const char *sym)
{
    return kt_instr_by_sym (t, NULL, sym);
}

static int
s_cmp64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static bool
s_add (uint32_t *out, size_t max, size_t *n, uint32_t token)
{
    for (size_t i = 0; i < *n; i++)
        if (out[i] == token)
            return true;
    if (*n == max)
        return false;
    out[(*n)++] = token;
    return true;
}

int
md_univ_derive (const kt_instr_table_t *t, const char *name, const char *index_sym,
                int64_t index_ltp, int strikes, int32_t today, uint32_t *out, size_t max, size_t *n,
                int32_t *expiry_out, int64_t *step_out, int64_t *atm_out, char *err, size_t errlen)
{
    *n = 0;
    const struct kt_instr *index = s_by_sym_any (t, index_sym);
    if (!index)
        return s_err (err, errlen, "index %s is not in the instruments list", index_sym);
    if (index_ltp <= 0)
        return s_err (err, errlen, "no price for %s", index_sym);
    if (strikes < 0)
        return s_err (err, errlen, "strikes must be >= 0");
    int32_t expiry = kt_instr_nearest_expiry (t, name, today);
    if (expiry == 0)
        return s_err (err, errlen, "no %s options expiring on or after %d", name, (int) today);
    //  The listed strikes of that expiry (either type), sorted: the step is their
    //  smallest gap.
    int64_t strikes_seen[S_STRIKES_MAX];
    size_t ns = 0;
    for (size_t i = 0; i < kt_instr_count (t) && ns < S_STRIKES_MAX; i++) {
        const struct kt_instr *in = kt_instr_at (t, i);
        if ((in->itype == KT_ITYPE_CE || in->itype == KT_ITYPE_PE) && in->expiry == expiry &&
            kt_instr_option (t, name, expiry, in->strike, in->itype) == in)
            strikes_seen[ns++] = in->strike;
    }
    qsort (strikes_seen, ns, sizeof strikes_seen[0], s_cmp64);
    int64_t step = 0;
    for (size_t i = 1; i < ns; i++) {
        int64_t gap = strikes_seen[i] - strikes_seen[i - 1];
        if (gap > 0 && (step == 0 || gap < step))
            step = gap;
    }
    if (step == 0)
        return s_err (err, errlen, "fewer than two %s strikes on %d: no strike step", name,
                      (int) expiry);
    //  The strategy's rule (strat_warm_universe): every listed strike in
    //  [ATM - N steps, ATM + N steps] with a tick and a lot, CE and PE.
    int64_t atm = (index_ltp + step / 2) / step * step;
    int64_t lo = atm - strikes * step, hi = atm + strikes * step;
    if (!s_add (out, max, n, index->token))
        return s_err (err, errlen, "more than %zu instruments", max);
    for (size_t i = 0; i < ns; i++) {
        if (strikes_seen[i] < lo || strikes_seen[i] > hi ||
            (i > 0 && strikes_seen[i] == strikes_seen[i - 1]))
            continue;
        for (int ty = 0; ty < 2; ty++) {
            const struct kt_instr *opt =
                kt_instr_option (t, name, expiry, strikes_seen[i], ty ? KT_ITYPE_PE : KT_ITYPE_CE);
            if (opt && opt->tick > 0 && opt->lot > 0 && !s_add (out, max, n, opt->token))
                return s_err (err, errlen,
                              "more than %zu instruments (Kite's limit per "
                              "connection)",
                              max);
        }
    }
    if (*n == 1)
        return s_err (err, errlen, "no %s options listed around ATM %lld.%02lld on %d", name,
                      (long long) (atm / 100), (long long) (atm % 100), (int) expiry);
    if (expiry_out)
        *expiry_out = expiry;
    if (step_out)
        *step_out = step;
    if (atm_out)
        *atm_out = atm;
    return 0;
}

int
md_univ_parse (const kt_instr_table_t *t, const char *list, uint32_t *out, size_t max, size_t *n,
               char *err, size_t errlen)
{
    *n = 0;
    const char *p = list ? list : "";
    while (*p) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        char item[96];
        if (len >= sizeof item)
            return s_err (err, errlen, "subscription entry too long: %.40s...", p);
        memcpy (item, p, len);
        item[len] = '\0';
        if (len) {
            const struct kt_instr *in = NULL;
            char *colon = strchr (item, ':');
            char *num_end = NULL;
            unsigned long tok = strtoul (item, &num_end, 10);
            if (!colon && num_end && *num_end == '\0' && tok > 0 && tok <= UINT32_MAX)
                in = kt_instr_by_token (t, (uint32_t) tok);
            else if (colon) {
                *colon = '\0';
                in = kt_instr_by_sym (t, item, colon + 1);
                *colon = ':';
            }
            if (!in)
                return s_err (err, errlen, "subscription %s is not in the instruments list", item);
            if (!s_add (out, max, n, in->token))
                return s_err (err, errlen,
                              "more than %zu instruments (Kite's limit per connection)", max);
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (*n == 0)
        return s_err (err, errlen, "empty subscription list");
    return 0;
}

int
md_univ_extend (const kt_instr_table_t *t, const char *name, const char *index_sym,
                int64_t index_open, int strikes, int32_t today, uint32_t *tokens, size_t max,
                size_t *n, size_t *added, int64_t *atm, char *err, size_t errlen)
{
    *added = 0;
    uint32_t fresh[MD_UNIV_MAX];
    size_t nf = 0;
    if (md_univ_derive (t, name, index_sym, index_open, strikes, today, fresh, MD_UNIV_MAX, &nf,
                        NULL, NULL, atm, err, errlen) != 0)
        return -1;
    size_t more = 0;
    for (size_t i = 0; i < nf; i++) {
        bool have = false;
        for (size_t k = 0; k < *n && !have; k++)
            have = tokens[k] == fresh[i];
        if (!have)
            fresh[more++] = fresh[i]; //  compacted in place, order kept
    }
    if (*n + more > max)
        return s_err (err, errlen,
                      "the open's universe needs %zu more instruments: %zu would be over the "
                      "limit of %zu",
                      more, *n + more, max);
    memcpy (tokens + *n, fresh, more * sizeof fresh[0]);
    *n += more;
    *added = more;
    return 0;
}
