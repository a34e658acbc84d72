/*  kt_reason - names of the machine reason codes, generated from KT_REASON_LIST.
 *
 *  Used wherever a reason crosses a boundary (RISK_DECISION reasons[], logs, alerts).
 *  Invariant: the name table and the enum come from the same X-macro list, so they
 *  cannot drift apart; names are unique (the unit test checks the round trip). */

#include "kt_reason.h"

#include <stddef.h>
#include <string.h>

#define S_NAME_(id, name) name,
static const char *const s_names[KT_R_COUNT] = {KT_REASON_LIST (S_NAME_)};
#undef S_NAME_

const char *
kt_reason_str (kt_reason_t code)
{
    //  The enum may arrive from the wire as any int: check the range, never index blindly.
    if ((int) code < 0 || (int) code >= KT_R_COUNT)
        return "UNKNOWN";
    return s_names[code];
}

int
kt_reason_parse (const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < KT_R_COUNT; i++)
        if (strcmp (s_names[i], name) == 0)
            return i;
    return -1;
}
