/*  alert_watch - processes coming and going, from their heartbeats (pure).
 *
 *  The alerter reads every health:<process> hash now and then and feeds each here: a
 *  new pid means the process restarted (supervisord brought it back, or someone did),
 *  a hash that expired means it stopped beating. Both are for a person. */

#include <stdio.h>
#include <string.h>
#include "alert.h"

alert_watch_event_t
alert_watch_seen (struct alert_watch *self, const char *name, bool present, int64_t pid,
                  int64_t *was_pid)
{
    struct alert_watch_proc *p = NULL;
    for (int i = 0; i < self->n && !p; i++)
        if (!strcmp (self->procs[i].name, name))
            p = &self->procs[i];
    *was_pid = p ? p->pid : 0;
    if (!p) {
        if (!present || self->n == ALERT_WATCH_MAX)
            return ALERT_WATCH_NONE;
        p = &self->procs[self->n++];
        snprintf (p->name, sizeof p->name, "%s", name);
        p->pid = pid;
        return ALERT_WATCH_NONE;
    }
    if (!present) {
        if (p->down)
            return ALERT_WATCH_NONE;
        p->down = true;
        return ALERT_WATCH_DOWN;
    }
    bool was_down = p->down;
    p->down = false;
    if (pid != p->pid) {
        p->pid = pid;
        return ALERT_WATCH_RESTARTED;
    }
    return was_down ? ALERT_WATCH_BACK : ALERT_WATCH_NONE;
}
