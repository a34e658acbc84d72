/*  ctl_ctx - what every tradectl command shares: Redis connected on first use (so a
 *  command that does not need it works with Redis down), pipeline time, and the one
 *  error line format (kept for the --json answer of a command that printed nothing). */

#include <stdarg.h>
#include <string.h>
#include "ctl_cmd.h"

kt_store_t *
ctl_ctx_store (ctl_t *ctl)
{
    if (!ctl->store_tried) {
        ctl->store_tried = true;
        ctl->store_ok = kt_store_connect (ctl->store) == 0;
        if (!ctl->store_ok)
            ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "Redis %s:%lld unavailable: %s",
                          ctl->cfg->redis_host, (long long) ctl->cfg->redis_port,
                          kt_store_errstr (ctl->store));
    }
    return ctl->store_ok ? ctl->store : NULL;
}

int64_t
ctl_ctx_now (ctl_t *ctl, int64_t *speed_ppm)
{
    if (speed_ppm)
        *speed_ppm = 1000000;
    if (strcmp (ctl->cfg->clock_mode, "sim") != 0 || !ctl_ctx_store (ctl))
        return kt_clock_wall_ns ();
    kt_clock_t *clock = kt_proc_shared_clock (ctl->store, NULL);
    int64_t now = kt_clock_wall_ns ();
    if (clock) {
        now = kt_clock_now_ns (clock);
        if (speed_ppm)
            *speed_ppm = kt_clock_speed_ppm (clock);
    }
    kt_clock_destroy (&clock);
    return now;
}

int
ctl_ctx_fail (ctl_t *ctl, int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (ctl->error, sizeof ctl->error, fmt, ap);
    va_end (ap);
    fprintf (ctl->err, "tradectl: %s\n", ctl->error);
    return code;
}
