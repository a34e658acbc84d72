/*  tradectl - the operator's command line. Wiring only.
 *
 *    tradectl -c FILE status
 *    tradectl -c FILE halt "reason"      kill switch on: risk-gate HALTs, entries cancelled
 *    tradectl -c FILE resume             kill switch off, HALTED -> REDUCING -> ACTIVE once
 *                                        the reconciler agrees again
 *  Exit codes: 0 done, 1 Redis unavailable or a failed command, 2 usage or bad config,
 *  3 halt set but risk-gate did not confirm HALTED within 3 s (is it running?). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"

static int
s_usage (void)
{
    fprintf (stderr, "usage: tradectl -c FILE status | halt \"reason\" | resume\n");
    return 2;
}

//  Pipeline time: the shared sim clock when the config runs one, else wall time.
static int64_t
s_now (const kt_cfg_t *cfg, kt_store_t *store, int64_t *speed_ppm)
{
    *speed_ppm = 1000000;
    if (strcmp (cfg->clock_mode, "sim") != 0)
        return kt_clock_wall_ns ();
    kt_clock_t *clock = kt_proc_shared_clock (store, NULL);
    int64_t now = kt_clock_wall_ns ();
    if (clock) {
        now = kt_clock_now_ns (clock);
        *speed_ppm = kt_clock_speed_ppm (clock);
    }
    kt_clock_destroy (&clock);
    return now;
}

int
main (int argc, char **argv)
{
    const char *file = NULL;
    int i = 1;
    if (i + 1 < argc && strcmp (argv[i], "-c") == 0) {
        file = argv[i + 1];
        i += 2;
    }
    if (!file || i >= argc)
        return s_usage ();
    const char *cmd = argv[i++];
    const char *reason = i < argc? argv[i++]: NULL;
    if (i != argc || (strcmp (cmd, "halt") == 0) != (reason != NULL))
        return s_usage ();

    char err[300];
    kt_cfg_t *cfg = kt_cfg_load_file (file, "tradectl", NULL, NULL, err, sizeof err);
    if (!cfg) {
        fprintf (stderr, "%s\n", err);
        return 2;
    }
    kt_log_open ("tradectl", KT_LOG_WARN);
    int rc = 1;
    kt_store_t *store = kt_store_new (cfg->redis_host, (int) cfg->redis_port, cfg->redis_prefix,
                                      (int) cfg->redis_timeout_ms);
    if (kt_store_connect (store) != 0) {
        fprintf (stderr, "tradectl: Redis %s:%lld unavailable: %s\n", cfg->redis_host,
                 (long long) cfg->redis_port, kt_store_errstr (store));
        goto out;
    }
    const char *by = getenv ("USER")? getenv ("USER"): "operator";
    int64_t speed_ppm;
    int64_t now = s_now (cfg, store, &speed_ppm);
    if (strcmp (cmd, "status") == 0)
        rc = ctl_status_print (store, stdout, now, speed_ppm) == 0? 0: 1;
    else if (strcmp (cmd, "halt") == 0) {
        if (ctl_kill_halt (store, reason, by, now) != 0) {
            fprintf (stderr, "tradectl: halt failed: %s\n", kt_store_errstr (store));
            goto out;
        }
        printf ("kill switch set: %s\n", reason);
        int w = ctl_kill_wait (store, KT_STATE_HALTED, 3000);
        if (w == 0) {
            printf ("risk-gate: HALTED (pending entries cancelled)\n");
            rc = 0;
        }
        else {
            printf ("risk-gate has not confirmed HALTED: is it running? The switch stays set "
                    "and refuses every entry on its next decision.\n");
            rc = 3;
        }
    }
    else if (strcmp (cmd, "resume") == 0) {
        kt_trading_state_t was = KT_STATE_NONE;
        if (ctl_kill_resume (store, by, now, &was) != 0) {
            fprintf (stderr, "tradectl: resume failed: %s\n", kt_store_errstr (store));
            goto out;
        }
        printf ("kill switch off; state was %s%s\n", was? kt_state_str (was): "UNKNOWN",
                was == KT_STATE_HALTED? ", now REDUCING until the reconciler agrees again": "");
        rc = 0;
    }
    else {
        rc = s_usage ();
    }
out:
    kt_store_destroy (&store);
    kt_cfg_destroy (&cfg);
    return rc;
}
