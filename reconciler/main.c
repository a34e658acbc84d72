/*  reconciler - the broker view against Redis. Wiring only. */

#include "recon.h"

static void *
s_new (kt_proc_t *proc, const void *cfg)
{
    return recon_new (proc, cfg);
}

static void
s_destroy (void **ctx_p)
{
    recon_destroy ((recon_t **) ctx_p);
}

int
main (int argc, char **argv)
{
    struct recon_cfg cfg;
    kt_proc_spec_t spec = {"reconciler", recon_cfg_table, &cfg, s_new, s_destroy};
    return kt_proc_main (argc, argv, &spec);
}
