/*  kt_alert - raise an alert for a human: PUSH an ALERT to the alerter and log
 *  `alert.raised`.
 *
 *  Used by every process. The PUSH socket never blocks: if the alerter is down the
 *  message waits in the socket's queue (HWM from config); beyond that it is dropped
 *  and counted, and the log line still carries the alert. */

#ifndef KT_ALERT_H
#define KT_ALERT_H

#include <stdint.h>
#include "kt_bus.h"
#include "kt_schema.h"

//  alerts:sent - the alerter's delivery record: one stream entry per alert delivered on
//  a channel (fields channel, alert = the alert as JSON, with its key).
extern const kt_schema_key_t kt_key_alerts_sent;

typedef struct kt_alert_out kt_alert_out_t;

//  Connect a PUSH socket to the "alerts" endpoint of bus (borrowed). NULL on error.
kt_alert_out_t *kt_alert_out_new (kt_bus_t *bus);

//  Free. Safe on NULL; sets *self_p to NULL.
void kt_alert_out_destroy (kt_alert_out_t **self_p);

//  Send one alert (text formatted printf-style) on topic "alert.<severity in lower
//  case>" and log alert.raised (severity, key, text, queued) at warn (error for
//  CRITICAL). key de-duplicates at the alerter ("none" if NULL or empty); key and text
//  are cut to KT_KEY_LEN-1 / KT_ALERT_LEN-1 chars. A severity outside the enum is sent
//  as CRITICAL. self may be NULL (tools without an alerter): then it only logs.
//  Returns 0, or -1 if not queued (dropped and counted, or self NULL).
int kt_alert_send (kt_alert_out_t *self, kt_severity_t sev, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Alerts dropped because the queue was full.
int64_t kt_alert_out_drops (const kt_alert_out_t *self);

#endif
