/*  strat_rmul - exact R multiples: P&L / R at risk as reduced 128-bit rationals.
 *
 *  The day's cumulative R is compared with +5 / -5 and must not depend on rounding, so
 *  it is a sum of exact fractions. A trade's fraction reduces to (entry - exit) /
 *  (sl_price - swing) in ticks, so denominators stay small (hundreds) and the running
 *  sum's denominator, a least common multiple of a day's few dozen of them, fits
 *  128 bits; an overflow is reported to the caller rather than wrapped. */

#include "strat_core.h"

#include <stdio.h>

static __int128
s_abs (__int128 v)
{
    return v < 0 ? -v : v;
}

static __int128
s_gcd (__int128 a, __int128 b)
{
    a = s_abs (a);
    b = s_abs (b);
    while (b) {
        __int128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static struct strat_rmul
s_reduce (__int128 num, __int128 den)
{
    if (den < 0) {
        num = -num;
        den = -den;
    }
    __int128 g = s_gcd (num, den);
    if (g > 1) {
        num /= g;
        den /= g;
    }
    if (num == 0)
        den = 1;
    return (struct strat_rmul){num, den};
}

struct strat_rmul
strat_rmul_make (int64_t num, int64_t den)
{
    if (den == 0)
        return (struct strat_rmul){0, 1};
    return s_reduce (num, den);
}

struct strat_rmul
strat_rmul_add (struct strat_rmul a, struct strat_rmul b, bool *ok)
{
    __int128 g = s_gcd (a.den, b.den);
    __int128 den, n1, n2, num;
    if (__builtin_mul_overflow (a.den / g, b.den, &den) ||
        __builtin_mul_overflow (a.num, b.den / g, &n1) ||
        __builtin_mul_overflow (b.num, a.den / g, &n2) || __builtin_add_overflow (n1, n2, &num)) {
        *ok = false;
        return a;
    }
    return s_reduce (num, den);
}

int
strat_rmul_cmp_int (struct strat_rmul a, int64_t k)
{
    //  |k| x den cannot overflow for the small k we compare with unless den is huge;
    //  the division form avoids the product altogether.
    __int128 q = a.num / a.den;
    __int128 r = a.num % a.den;
    if (r < 0) {
        q -= 1; //  floor
        r += a.den;
    }
    if (q < k)
        return -1;
    if (q > k)
        return 1;
    return r > 0 ? 1 : 0;
}

int
strat_rmul_cmp (struct strat_rmul a, struct strat_rmul b, bool *ok)
{
    __int128 l, r;
    if (__builtin_mul_overflow (a.num, b.den, &l) || __builtin_mul_overflow (b.num, a.den, &r)) {
        *ok = false;
        return 0;
    }
    return l < r ? -1 : l > r ? 1 : 0;
}

int64_t
strat_rmul_e4 (struct strat_rmul a)
{
    //  round(num x 10000 / den), half away from zero, without forming num x 10000 when
    //  that would overflow: split into whole part and remainder first.
    __int128 n = s_abs (a.num);
    __int128 whole = n / a.den;
    __int128 rem = n % a.den;
    __int128 frac = (rem * 10000 * 2 + a.den) / (2 * a.den);
    __int128 v = whole * 10000 + frac;
    return (int64_t) (a.num < 0 ? -v : v);
}

char *
strat_rmul_format (struct strat_rmul a, char *buf, size_t buflen)
{
    int64_t v = strat_rmul_e4 (a);
    int64_t av = v < 0 ? -v : v;
    snprintf (buf, buflen, "%s%lld.%04lld", v < 0 ? "-" : "", (long long) (av / 10000),
              (long long) (av % 10000));
    return buf;
}

double
strat_rmul_double (struct strat_rmul a)
{
    return (double) a.num / (double) a.den;
}
