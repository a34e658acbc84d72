/*  ctl_fmt - how tradectl writes times and money for a person: ages, not raw
 *  nanoseconds; rupees with two decimals, exact from paise. */

#include <inttypes.h>
#include "ctl_cmd.h"

char *
ctl_fmt_age (int64_t age_ns, char *buf, size_t len)
{
    if (age_ns < 0) {
        snprintf (buf, len, "in the future");
        return buf;
    }
    int64_t s = age_ns / 1000000000LL;
    if (s < 120)
        snprintf (buf, len, "%" PRId64 " s ago", s);
    else if (s < 3600)
        snprintf (buf, len, "%" PRId64 " min ago", s / 60);
    else if (s < 2 * 86400)
        snprintf (buf, len, "%" PRId64 " h %" PRId64 " min ago", s / 3600, s % 3600 / 60);
    else
        snprintf (buf, len, "%" PRId64 " d ago", s / 86400);
    return buf;
}

char *
ctl_fmt_rs (int64_t paise, char *buf, size_t len)
{
    char n[32];
    if (!kt_money_format (paise, n, sizeof n))
        snprintf (buf, len, "?");
    else
        snprintf (buf, len, "Rs %s", n);
    return buf;
}
