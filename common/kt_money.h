/*  kt_money - integer paise arithmetic with overflow checks, rupee text parsing and
 *  formatting, and tick rounding.
 *
 *  Money is int64 paise everywhere (1 rupee = 100 paise); floats never hold money.
 *  Kite's REST JSON carries rupees as JSON numbers: parse the number's text, never a
 *  double, so "300.1" is exactly 30010. Header-only (static inline) except the text
 *  functions in kt_money.c. */

#ifndef KT_MONEY_H
#define KT_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  *out = a + b, a - b, a * b. Return false (and leave *out alone) on overflow:
//  the builtins store the wrapped value, so the result goes through a temporary.
static inline bool
kt_money_add (int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow (a, b, &r))
        return false;
    *out = r;
    return true;
}

static inline bool
kt_money_sub (int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_sub_overflow (a, b, &r))
        return false;
    *out = r;
    return true;
}

static inline bool
kt_money_mul (int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_mul_overflow (a, b, &r))
        return false;
    *out = r;
    return true;
}

//  True when px is a positive multiple of tick (tick > 0).
static inline bool
kt_money_on_tick (int64_t px, int64_t tick)
{
    return tick > 0 && px > 0 && px % tick == 0;
}

//  Round px down / up / to nearest (half up) to a multiple of tick (> 0); px >= 0.
static inline int64_t
kt_money_tick_down (int64_t px, int64_t tick)
{
    return px - px % tick;
}

static inline int64_t
kt_money_tick_up (int64_t px, int64_t tick)
{
    int64_t r = px % tick;
    return r ? px + (tick - r) : px;
}

static inline int64_t
kt_money_tick_nearest (int64_t px, int64_t tick)
{
    int64_t r = px % tick;
    return r * 2 >= tick ? px + (tick - r) : px - r;
}

//  Parse rupee text ("300.1", "-0", "1e2", "99725.05000000002") into paise, rounding
//  to the nearest paisa (half away from zero) as llround(x * 100) would, but exactly.
//  Accepts the JSON number grammar only; no spaces, no commas. Returns 0 or -1 (bad
//  syntax, or out of range of int64 paise).
int kt_money_parse (const char *text, size_t len, int64_t *paise);

//  Parse rupee text that must be exact to the paisa ("300.10" ok, "300.105" not).
//  Returns 0 or -1.
int kt_money_parse_exact (const char *text, size_t len, int64_t *paise);

//  Format paise as rupees with two decimals ("-1234.50") into buf. Returns buf, or
//  NULL if buflen is too small (24 bytes always suffice).
char *kt_money_format (int64_t paise, char *buf, size_t buflen);

//  Format paise as a JSON number of rupees with the fewest decimals ("300.1", "1573",
//  "0.05"): what Kite puts on the wire. Returns buf or NULL.
char *kt_money_format_json (int64_t paise, char *buf, size_t buflen);

#endif
