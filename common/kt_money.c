/*  kt_money - rupee text <-> int64 paise, exactly, with no floating point.
 *
 *  Used wherever money crosses a text boundary: Kite REST JSON, the instruments CSV,
 *  the config file (KT_CFG_MONEY, KT_CFG_BPS) and --print-config. The parser reads the
 *  JSON number grammar into a decimal digit string and a power of ten, then scales to
 *  paise with integer arithmetic: a double never sees the value, so "100000.05" is
 *  10000005 and not 10000004. Every result fits int64 or the call fails. */

#include "kt_money.h"

#include <stdio.h>
#include <string.h>

//  A JSON number split into its parts: the significant digits (leading zeros of the
//  integer part dropped) and the power of ten that scales them to rupees.
typedef struct {
    bool negative;
    const char *int_digits; //  borrowed: integer part
    size_t int_len;
    const char *frac_digits; //  borrowed: fraction part (may be empty)
    size_t frac_len;
    int64_t exp; //  exponent, saturated to +-(1 << 40)
} s_number_t;

#define S_EXP_LIMIT (1LL << 40)

//  Split text per RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
static int
s_split (const char *text, size_t len, s_number_t *num)
{
    size_t i = 0;
    memset (num, 0, sizeof *num);
    if (!text || len == 0)
        return -1;
    if (text[i] == '-') {
        num->negative = true;
        i++;
    }
    if (i >= len || text[i] < '0' || text[i] > '9')
        return -1;
    num->int_digits = text + i;
    if (text[i] == '0')
        i++; //  no leading zeros: "01" is not JSON
    else {
        while (i < len && text[i] >= '0' && text[i] <= '9')
            i++;
    }
    num->int_len = (size_t) (text + i - num->int_digits);
    num->frac_digits = text + i;
    if (i < len && text[i] == '.') {
        i++;
        num->frac_digits = text + i;
        while (i < len && text[i] >= '0' && text[i] <= '9')
            i++;
        num->frac_len = (size_t) (text + i - num->frac_digits);
        if (num->frac_len == 0)
            return -1;
    }
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        bool exp_negative = false;
        if (i < len && (text[i] == '+' || text[i] == '-')) {
            exp_negative = text[i] == '-';
            i++;
        }
        if (i >= len || text[i] < '0' || text[i] > '9')
            return -1;
        int64_t e = 0;
        while (i < len && text[i] >= '0' && text[i] <= '9') {
            //  Saturate: "1e999999999999999999" is a valid JSON number, just a huge one.
            if (e < S_EXP_LIMIT)
                e = e * 10 + (text[i] - '0');
            i++;
        }
        num->exp = exp_negative ? -e : e;
    }
    return i == len ? 0 : -1;
}

//  Digit k of the concatenated integer+fraction digits (k < int_len + frac_len).
static int
s_digit (const s_number_t *num, size_t k)
{
    if (k < num->int_len)
        return num->int_digits[k] - '0';
    return num->frac_digits[k - num->int_len] - '0';
}

//  Scale the number to paise. exact: fail when a non-zero digit falls below the paisa;
//  otherwise round half away from zero on the first dropped digit.
static int
s_to_paise (const char *text, size_t len, bool exact, int64_t *paise)
{
    s_number_t num;
    if (s_split (text, len, &num) != 0)
        return -1;

    //  value * 100 = D * 10^scale, D the digit string read as an integer.
    size_t ndigits = num.int_len + num.frac_len;
    int64_t scale = num.exp - (int64_t) num.frac_len + 2;

    //  keep: how many leading digits of D survive when scale < 0.
    int64_t keep = (int64_t) ndigits + (scale < 0 ? scale : 0);
    if (keep < 0)
        keep = 0;

    uint64_t mag = 0;
    const uint64_t limit = num.negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    for (size_t k = 0; k < (size_t) keep; k++) {
        uint64_t d = (uint64_t) s_digit (&num, k);
        if (mag > (limit - d) / 10)
            return -1;
        mag = mag * 10 + d;
    }
    if (scale > 0 && mag != 0) {
        for (int64_t s = 0; s < scale; s++) {
            if (mag > limit / 10)
                return -1;
            mag *= 10;
        }
    }
    if ((size_t) keep < ndigits) {
        //  Digits below the paisa. A dropped digit is implicit zero when keep was
        //  clamped (the number is far below one paisa), so start at the real ones.
        int64_t first_dropped_pos = (int64_t) ndigits + scale; //  may be negative
        bool any_nonzero = false;
        for (size_t k = (size_t) keep; k < ndigits; k++) {
            if (s_digit (&num, k) != 0) {
                any_nonzero = true;
                break;
            }
        }
        if (exact && any_nonzero)
            return -1;
        //  Half away from zero: only the first dropped digit decides, since >= 5 there
        //  means the remainder is at least half a paisa.
        if (first_dropped_pos >= 0 && s_digit (&num, (size_t) keep) >= 5) {
            if (mag >= limit)
                return -1;
            mag++;
        }
    }
    if (num.negative)
        *paise = mag == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) mag;
    else
        *paise = (int64_t) mag;
    return 0;
}

int
kt_money_parse (const char *text, size_t len, int64_t *paise)
{
    return s_to_paise (text, len, false, paise);
}

int
kt_money_parse_exact (const char *text, size_t len, int64_t *paise)
{
    return s_to_paise (text, len, true, paise);
}

//  Rupees and paise of the magnitude; INT64_MIN has no positive int64, hence uint64.
static void
s_split_paise (int64_t paise, bool *negative, uint64_t *rupees, unsigned *cents)
{
    uint64_t mag = paise < 0 ? (uint64_t) 0 - (uint64_t) paise : (uint64_t) paise;
    *negative = paise < 0;
    *rupees = mag / 100;
    *cents = (unsigned) (mag % 100);
}

char *
kt_money_format (int64_t paise, char *buf, size_t buflen)
{
    bool negative;
    uint64_t rupees;
    unsigned cents;
    s_split_paise (paise, &negative, &rupees, &cents);
    int n = snprintf (buf, buflen, "%s%llu.%02u", negative ? "-" : "", (unsigned long long) rupees,
                      cents);
    if (n < 0 || (size_t) n >= buflen)
        return NULL;
    return buf;
}

char *
kt_money_format_json (int64_t paise, char *buf, size_t buflen)
{
    bool negative;
    uint64_t rupees;
    unsigned cents;
    s_split_paise (paise, &negative, &rupees, &cents);
    int n;
    if (cents == 0)
        n = snprintf (buf, buflen, "%s%llu", negative ? "-" : "", (unsigned long long) rupees);
    else if (cents % 10 == 0)
        n = snprintf (buf, buflen, "%s%llu.%u", negative ? "-" : "", (unsigned long long) rupees,
                      cents / 10);
    else
        n = snprintf (buf, buflen, "%s%llu.%02u", negative ? "-" : "", (unsigned long long) rupees,
                      cents);
    if (n < 0 || (size_t) n >= buflen)
        return NULL;
    return buf;
}
