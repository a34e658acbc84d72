/*  alert_channel - the delivery state of one channel: back-off after failures, how long
 *  it has been failing, whether that was reported (pure; times are wall ms). */

#include <stdio.h>
#include "alert.h"

int64_t
alert_channel_backoff_ms (int attempts, int64_t min_ms, int64_t max_ms, int64_t retry_after_ms)
{
    int64_t wait = min_ms;
    for (int i = 1; i < attempts && wait < max_ms; i++)
        wait *= 2;
    if (wait > max_ms)
        wait = max_ms;
    return retry_after_ms > wait ? retry_after_ms : wait;
}

bool
alert_channel_failed (struct alert_channel *self, int64_t now_ms, const char *why, int64_t min_ms,
                      int64_t max_ms, int64_t retry_after_ms, int64_t down_ms)
{
    self->attempts++;
    self->failures++;
    if (!self->failing_since_ms)
        self->failing_since_ms = now_ms;
    snprintf (self->last_error, sizeof self->last_error, "%s", why);
    self->next_ms =
        now_ms + alert_channel_backoff_ms (self->attempts, min_ms, max_ms, retry_after_ms);
    return !self->down_reported && now_ms - self->failing_since_ms >= down_ms;
}

int64_t
alert_channel_ok (struct alert_channel *self, int64_t now_ms)
{
    int64_t was = self->failing_since_ms ? now_ms - self->failing_since_ms : 0;
    self->attempts = 0;
    self->failing_since_ms = 0;
    self->next_ms = 0;
    self->delivered++;
    return was;
}
