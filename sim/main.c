/*  kite-sim - a local Kite Connect venue: REST API + WebSocket ticker over a synthetic
 *  or replayed NIFTY options market. Wiring only: arguments, logger, signals, the
 *  context (sim.c), its loop. Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime
 *  failure (cannot listen, bad replay file), 2 bad arguments or config. */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "sim.h"

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

int
main (int argc, char **argv)
{
    struct sim_cfg cfg;
    char err[256] = "";
    int rc = sim_cfg_parse (argc, argv, &cfg, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc != 0) {
        fprintf (stderr, "kite-sim: %s\n", err);
        return 2;
    }
    kt_log_open ("kite-sim", (kt_log_level_t) kt_log_level_parse (cfg.log_level));
    kt_log_secret_add (cfg.api_secret);
    kt_log_secret_add (cfg.access_token);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    sim_t *sim = sim_new (&cfg, err, sizeof err);
    if (!sim) {
        kt_log_error ("proc.fail", KT_S ("why", err), KT_END);
        fprintf (stderr, "kite-sim: %s\n", err);
        return 1;
    }
    rc = sim_run (sim, &s_stop);
    sim_destroy (&sim);
    return rc;
}
