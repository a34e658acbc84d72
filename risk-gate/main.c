/*  risk-gate - the single door to the broker. Wiring only (style.md section 5).
 *  Exit codes: 0 graceful stop, 1 runtime failure, 2 bad config. */

#include "risk.h"

static void *
s_new (kt_proc_t *proc, const void *cfg)
{
    return risk_new (proc, cfg); //  binds sockets, reads Redis, starts timers
}

static void
s_destroy (void **ctx_p)
{
    risk_destroy ((risk_t **) ctx_p);
}

int
main (int argc, char **argv)
{
    struct risk_cfg cfg;
    kt_proc_spec_t spec = {"risk-gate", risk_cfg_table, &cfg, s_new, s_destroy};
    return kt_proc_main (argc, argv, &spec);
}
