/*  kt_alert - raise an alert for a human: an ALERT message PUSHed to the alerter on
 *  topic "alert.<severity>", and one `alert.raised` log line.
 *
 *  Used by every process. The log line is written whether or not the PUSH succeeds,
 *  so an alert is never lost silently: if the alerter's queue is full the drop is
 *  counted and the journal still has it. Never blocks. */

#include "kt_alert.h"
#include "kt_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const kt_schema_key_t kt_key_alerts_sent = {
    "alerts:sent",
    "alerts:sent",
    KT_SK_STREAM,
    "alerter",
    KT_LIFE_DURABLE,
    "one entry per delivery: id, severity, key, src, text, count, channel (MAXLEN ~ 100000)",
    NULL};

struct kt_alert_out {
    kt_bus_t *bus; //  borrowed
    void *push;    //  owned by bus
    int64_t drops;
};

kt_alert_out_t *
kt_alert_out_new (kt_bus_t *bus)
{
    if (!bus)
        return NULL;
    void *push = kt_bus_connect (bus, "alerts", ZMQ_PUSH);
    if (!push)
        return NULL;
    kt_alert_out_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->bus = bus;
    self->push = push;
    return self;
}

void
kt_alert_out_destroy (kt_alert_out_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_alert_out_t *self = *self_p;
    kt_bus_close (self->bus, self->push);
    free (self);
    *self_p = NULL;
}

int
kt_alert_send (kt_alert_out_t *self, kt_severity_t sev, const char *key, const char *fmt, ...)
{
    struct kt_msg msg;
    memset (&msg, 0, sizeof msg);
    msg.env.type = KT_MSG_ALERT;
    struct kt_alert *a = &msg.u.alert;
    //  A severity outside the enum is our bug; page loudly rather than lose the alert.
    a->severity = sev > KT_SEV_NONE && sev <= KT_SEV_CRITICAL ? sev : KT_SEV_CRITICAL;
    snprintf (a->key, sizeof a->key, "%s", key && *key ? key : "none");
    if (fmt) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (a->text, sizeof a->text, fmt, ap);
        va_end (ap);
    }
    if (!a->text[0])
        snprintf (a->text, sizeof a->text, "(no text)");

    char topic[32];
    const char *sevname = kt_severity_str (a->severity);
    size_t i = 0;
    memcpy (topic, "alert.", 6);
    for (i = 0; sevname[i] && i < sizeof topic - 7; i++)
        topic[6 + i] = (char) (sevname[i] | 0x20); //  upper-case ASCII to lower
    topic[6 + i] = 0;

    int rc = -1;
    if (self) {
        rc = kt_bus_publish (self->bus, self->push, topic, &msg);
        if (rc != 0)
            self->drops++;
    }
    kt_log (a->severity == KT_SEV_CRITICAL ? KT_LOG_ERROR : KT_LOG_WARN, "alert.raised",
            KT_S ("severity", sevname), KT_S ("key", a->key), KT_S ("text", a->text),
            KT_B ("queued", rc == 0), KT_END);
    return rc;
}

int64_t
kt_alert_out_drops (const kt_alert_out_t *self)
{
    return self->drops;
}
