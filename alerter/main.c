/*  alerter - alerts in, to a human, reliably. Wiring only. */

#include "alert.h"

static void *
s_new (kt_proc_t *proc, const void *cfg)
{
    return alert_new (proc, cfg);
}

static void
s_destroy (void **ctx_p)
{
    alert_destroy ((alert_t **) ctx_p);
}

int
main (int argc, char **argv)
{
    struct alert_cfg cfg;
    kt_proc_spec_t spec = {"alerter", alert_cfg_table, &cfg, s_new, s_destroy};
    return kt_proc_main (argc, argv, &spec);
}
