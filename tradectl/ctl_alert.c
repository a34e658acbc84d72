/*  ctl_alert - `alert-test`: one alert through the real path (PUSH to the alerter, its
 *  outbox, a channel), and a wait until alerts:sent records its delivery. The alert
 *  carries a unique key, so de-duplication never swallows a repeated test and the
 *  delivery record is found by that key. Reports delivered or not, with the channel. */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctl_cmd.h"

//  Look for key in the newest entries of alerts:sent. Returns 1 found (channel set),
//  0 not yet, -1 Redis unavailable.
static int
s_delivered (kt_store_t *store, const char *key, char *channel, size_t clen)
{
    struct kt_skey k = kt_schema_key (kt_store_prefix (store), &kt_key_alerts_sent, NULL);
    kt_store_result_t r = kt_store_callf (store, "XREVRANGE %s + - COUNT 200", k.s);
    if (r.kind == KT_STORE_DOWN) {
        kt_store_result_free (&r);
        return -1;
    }
    int found = 0;
    for (size_t i = 0; r.kind == KT_STORE_ARR && i < r.elements && !found; i++) {
        kt_store_result_t e = kt_store_result_at (&r, i);
        if (e.kind != KT_STORE_ARR || e.elements != 2)
            continue;
        kt_store_result_t f = kt_store_result_at (&e, 1);
        bool match = false;
        const char *ch = "";
        for (size_t j = 0; j + 1 < f.elements; j += 2) {
            const char *v = kt_store_result_at (&f, j + 1).str;
            if (strstr (v, key))
                match = true;
            //  The other field of an entry is the channel's name (docs/redis.md).
            else if (strlen (v) < 32)
                ch = v;
        }
        if (match) {
            snprintf (channel, clen, "%s", ch);
            found = 1;
        }
    }
    kt_store_result_free (&r);
    return found;
}

int
ctl_alert_roundtrip (ctl_t *ctl, kt_severity_t sev, int timeout_s, char *key, size_t klen,
                     char *channel, size_t clen, int64_t *ms)
{
    kt_store_t *store = ctl_ctx_store (ctl);
    channel[0] = '\0';
    *ms = 0;
    snprintf (key, klen, "ctl.alert_test.%lld", (long long) (kt_clock_wall_ns () / 1000000));
    if (!store)
        return -1;
    uint32_t epoch = (uint32_t) (kt_clock_wall_ns () / 1000000000LL);
    kt_bus_t *bus = kt_bus_new (ctl->cfg, NULL, "tradectl", epoch ? epoch : 1);
    kt_alert_out_t *out = bus ? kt_alert_out_new (bus) : NULL;
    int sent = out ? kt_alert_send (out, sev, key,
                                    "Test alert from tradectl (by %s): if you "
                                    "read this, alerts reach you. [%s]",
                                    ctl->by, key)
                   : -1;
    int64_t t0 = kt_clock_wall_mono_ns ();
    int64_t until = t0 + timeout_s * 1000000000LL;
    int found = 0;
    while (sent == 0 && found == 0 && kt_clock_wall_mono_ns () < until) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep (&ts, NULL);
        found = s_delivered (store, key, channel, clen);
    }
    *ms = (kt_clock_wall_mono_ns () - t0) / 1000000;
    //  The PUSH must leave before the bus closes: linger (config) lets it go.
    kt_alert_out_destroy (&out);
    kt_bus_destroy (&bus);
    return sent != 0 ? -2 : found;
}

int
ctl_alert_cmd_test (ctl_t *ctl, int argc, char **argv)
{
    int timeout_s = 30;
    kt_severity_t sev = KT_SEV_WARNING;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--timeout") == 0 && i + 1 < argc && atoi (argv[i + 1]) > 0)
            timeout_s = atoi (argv[++i]);
        else if (strcmp (argv[i], "--severity") == 0 && i + 1 < argc &&
                 kt_severity_parse (argv[i + 1]) != KT_SEV_NONE)
            sev = kt_severity_parse (argv[++i]);
        else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                                 "alert-test: usage: alert-test [--timeout S] "
                                 "[--severity INFO|WARNING|CRITICAL]");
    }
    if (!ctl_ctx_store (ctl))
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS,
                             "alert-test: delivery is recorded in Redis; "
                             "cannot confirm it without");
    char key[KT_KEY_LEN], channel[64];
    int64_t ms;
    int found =
        ctl_alert_roundtrip (ctl, sev, timeout_s, key, sizeof key, channel, sizeof channel, &ms);
    struct ctl_health h;
    ctl_health_read (ctl, "alerter", ctl_ctx_now (ctl, NULL), 1000000, &h);
    int rc = found == 1    ? CTL_EXIT_OK
             : found == -1 ? CTL_EXIT_REDIS
             : found == -2 ? CTL_EXIT_FAIL
                           : CTL_EXIT_NOANSWER;
    if (ctl->json) {
        cJSON *root = cJSON_CreateObject ();
        cJSON_AddStringToObject (root, "key", key);
        cJSON_AddBoolToObject (root, "delivered", found == 1);
        cJSON_AddStringToObject (root, "channel", channel);
        ctl_json_i64 (root, "ms", ms);
        cJSON_AddBoolToObject (root, "alerter_up", h.present);
        return ctl_json_emit (ctl, root, rc);
    }
    if (found == 1)
        fprintf (ctl->out, "alert %s delivered on channel %s after %lld ms\n", key,
                 channel[0] ? channel : "?", (long long) ms);
    else if (found == -2)
        fprintf (ctl->out, "alert %s could not be queued for the alerter\n", key);
    else
        fprintf (ctl->out, "alert %s NOT delivered within %d s%s\n", key, timeout_s,
                 h.present ? " (the alerter is up: check its channels and log)"
                           : ": the alerter is DOWN (no heartbeat)");
    return rc;
}
