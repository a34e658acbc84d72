/*  risk-gate - the single door to the broker. Wiring only (style.md section 5):
 *  config -> log -> loop (kt_proc opens the log and makes the loop, the store, the bus
 *  and the alert outbox) -> risk_new -> run until SIGTERM/SIGINT -> teardown.
 *  Exit codes: 0 graceful stop, 1 runtime failure, 2 bad config. */

#include <unistd.h>
#include "risk.h"

int
main (int argc, char **argv)
{
    struct risk_cfg rcfg;
    kt_cfg_t *cfg = kt_cfg_load (argc, argv, "risk-gate", risk_cfg_table, &rcfg);
    if (!cfg)
        return 2;                           //  reason already printed: bad config is not a crash
    int rc = 0;
    if (cfg->print_only)
        goto out_cfg;
    rc = 1;
    char err[256] = "";
    kt_proc_t *proc = kt_proc_new (cfg, "risk-gate", err, sizeof err);
    if (!proc) {
        kt_log_error ("proc.fail", KT_S ("why", err), KT_END);
        goto out_cfg;
    }
    risk_t *risk = risk_new (proc, &rcfg);  //  binds sockets, reads Redis, starts timers
    if (!risk)
        goto out_proc;
    kt_log_info ("proc.start", KT_S ("mode", cfg->mode), KT_S ("config", cfg->file),
                 KT_I ("pid", getpid ()), KT_END);
    rc = kt_loop_run (kt_proc_loop (proc)) == 0? 0: 1;
    kt_log_info ("proc.stop", KT_I ("rc", rc), KT_END);
    risk_destroy (&risk);
out_proc:
    kt_proc_destroy (&proc);
out_cfg:
    kt_cfg_destroy (&cfg);
    return rc;
}
