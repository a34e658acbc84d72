/*  alert - the alerter's private header: context, config and the durable queue.
 *
 *  The alerter PULLs ALERTs from every process, de-duplicates them by key within a
 *  window, keeps them in a durable outbox in Redis (alerts:queue, a list of JSON lines
 *  an operator can read with LRANGE) until a channel has delivered them, and logs each
 *  delivery in the alerts:sent stream. The built-in channel is the log (ev
 *  alert.deliver); Telegram, webhook and SMTP channels plug in behind
 *  alert_deliver (docs/roadmap.md item 4). If Redis is down an alert is delivered
 *  straight to the log so it is never lost. */

#ifndef ALERT_H
#define ALERT_H

#include "kt.h"

struct alert_cfg {
    int64_t dedup_s;            //  same key within this many seconds is counted, not re-sent
    int64_t queue_max;          //  outbox cap (oldest trimmed, with a CRITICAL log line)
};

typedef struct alert alert_t;

extern const kt_cfg_row_t alert_cfg_table[];

//  Bind `alerts` on proc's loop. Returns an owned context or NULL (logged).
alert_t *
    alert_new (kt_proc_t *proc, const struct alert_cfg *cfg);

//  Free. Safe on NULL; sets *self_p to NULL.
void
    alert_destroy (alert_t **self_p);

// ---- alert_queue: the durable outbox --------------------------------------------------

//  Put one alert in the outbox unless its key was seen within dedup_s. Returns 0 when
//  queued, 1 when de-duplicated, -1 when Redis is unavailable.
int
    alert_queue_push (kt_store_t *store, const struct kt_alert *a, const char *src, int64_t ts_ns,
                      int64_t dedup_s, int64_t queue_max);

//  Deliver through fn every queued alert, oldest first; an alert leaves the queue only
//  after fn returned 0, and is then recorded in alerts:sent with the channel name.
//  Returns the number delivered, or -1 when Redis is unavailable.
typedef int (alert_deliver_fn) (const char *json, void *arg);
int
    alert_queue_drain (kt_store_t *store, const char *channel, alert_deliver_fn *fn, void *arg);

#endif
