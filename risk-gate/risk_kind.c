/*  risk_kind - kinds of intent by what they do to risk, and their names in Redis
 *  (intent:<id> kind). */

#include <string.h>
#include "risk.h"

static const char *s_kinds[] = {"", "entry", "modify_entry", "exit", "modify", "cancel", "flatten"};

const char *
risk_kind_str (risk_kind_t kind)
{
    return kind > RISK_KIND_NONE && kind <= RISK_KIND_FLATTEN ? s_kinds[kind] : "";
}

risk_kind_t
risk_kind_parse (const char *s)
{
    for (int k = RISK_KIND_ENTRY; k <= RISK_KIND_FLATTEN; k++) {
        if (s && strcmp (s, s_kinds[k]) == 0)
            return (risk_kind_t) k;
    }
    return RISK_KIND_NONE;
}
