/*  kt_margin - SPAN + exposure of a short option (kt_margin.h). */

#include "kt_margin.h"

int64_t
kt_margin_short (int64_t px, int64_t qty, struct kt_margin *acc)
{
    if (px <= 0 || qty <= 0)
        return 0;
    //  __int128: the notional of a hostile price must not wrap.
    __int128 hundredth = (__int128) px * qty / 100;
    __int128 span = hundredth * KT_MARGIN_SPAN_PCT, exposure = hundredth * KT_MARGIN_EXPOSURE_PCT;
    if (span + exposure > INT64_MAX)
        return INT64_MAX;
    if (acc) {
        acc->span += (int64_t) span;
        acc->exposure += (int64_t) exposure;
    }
    return (int64_t) (span + exposure);
}
