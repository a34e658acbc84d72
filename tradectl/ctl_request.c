/*  ctl_request - `reconcile`: ask the reconciler to compare with the broker now.
 *
 *  The request is the hash recon:request (requested_ns, by, what), which the reconciler
 *  watches: it runs at once when requested_ns is newer than its last run and writes
 *  the result to recon:last. tradectl then waits for the reconciler's heartbeat to
 *  show a run that started after the request (the `last_run_ns` counter), so it reports
 *  a comparison that happened, not the request. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctl_cmd.h"

int
ctl_request_write (ctl_t *ctl, const kt_schema_key_t *key, const char *what, int64_t now_ns)
{
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store)
        return -1;
    struct kt_request_rec req;
    memset (&req, 0, sizeof req);
    req.requested_ns = now_ns;
    snprintf (req.by, sizeof req.by, "%s", ctl->by);
    snprintf (req.what, sizeof req.what, "%s", what);
    if (ctl_gate_hset (store, key, &req) != 0)
        return -1;
    kt_store_event (store,
                    (const kt_kv_t[]){KT_S ("type", "ctl.request"), KT_S ("key", key->doc_name),
                                      KT_S ("by", ctl->by), KT_S ("what", what),
                                      KT_S ("src", "tradectl"), KT_END});
    return 0;
}

int
ctl_request_cmd_reconcile (ctl_t *ctl, int argc, char **argv)
{
    int timeout_s = 30;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout_s = atoi (argv[++i]);
        else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "reconcile: usage: reconcile [--timeout S]");
    }
    if (!ctl_ctx_store (ctl))
        return CTL_EXIT_REDIS;
    int64_t speed;
    int64_t now = ctl_ctx_now (ctl, &speed);
    if (ctl_request_write (ctl, &kt_key_recon_request, "reconcile now", now) != 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "reconcile: %s", kt_store_errstr (ctl->store));
    if (!ctl->json)
        fprintf (ctl->out, "reconciliation requested; waiting up to %d s for the reconciler\n",
                 timeout_s);
    struct ctl_health h;
    int64_t until = kt_clock_wall_mono_ns () + timeout_s * 1000000000LL;
    int rc = CTL_EXIT_NOANSWER;
    const char *found = NULL;
    while (kt_clock_wall_mono_ns () < until) {
        if (ctl_health_read (ctl, "reconciler", ctl_ctx_now (ctl, NULL), speed, &h) != 0)
            return CTL_EXIT_REDIS;
        found = ctl_health_counter (&h, "last_run_ns");
        if (found && strtoll (found, NULL, 10) >= now) {
            rc = CTL_EXIT_OK;
            break;
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep (&ts, NULL);
    }
    const char *result = rc == 0 ? ctl_health_counter (&h, "last_result") : NULL;
    if (ctl->json) {
        cJSON *root = cJSON_CreateObject ();
        cJSON_AddBoolToObject (root, "requested", true);
        cJSON_AddBoolToObject (root, "ran", rc == 0);
        cJSON_AddBoolToObject (root, "reconciler_up", h.fresh);
        cJSON_AddStringToObject (root, "result", result ? result : "");
        return ctl_json_emit (ctl, root, rc);
    }
    if (rc == 0)
        fprintf (ctl->out, "reconciler ran: %s\n", result ? result : "(no result text)");
    else if (!h.present)
        fprintf (ctl->out, "reconciler is DOWN (no heartbeat): the request stays and runs when "
                           "it starts\n");
    else
        fprintf (ctl->out,
                 "reconciler is up but has not run within %d s: the request stays "
                 "set\n",
                 timeout_s);
    return rc;
}
