/*  alert_item - one queued alert as a person and a receiver see it (pure). */

#include <inttypes.h>
#include <stdio.h>
#include "alert.h"

char *
alert_item_idem (const struct alert_item *it, char *out, size_t outlen)
{
    snprintf (out, outlen, "kt-%" PRId64 "-%" PRId64, it->id, it->queued_ms);
    return out;
}

char *
alert_item_line (const struct alert_item *it, char *out, size_t outlen)
{
    if (it->count > 1)
        snprintf (out, outlen, "%s %s: %s [x%" PRId64 " in %" PRId64 " s]",
                  kt_severity_str (it->severity), it->src, it->text, it->count, it->window_s);
    else
        snprintf (out, outlen, "%s %s: %s", kt_severity_str (it->severity), it->src, it->text);
    return out;
}
