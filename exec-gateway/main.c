/*  exec-gateway - order commands in, broker orders and EXEC_EVENTs out. Wiring only. */

#include "exec.h"

static struct exec_cfg s_cfg;

static void *
s_new (kt_proc_t *proc, const void *cfg)
{
    return exec_new (proc, cfg);
}

static void
s_destroy (void **ctx_p)
{
    exec_destroy ((exec_t **) ctx_p);
}

int
main (int argc, char **argv)
{
    kt_proc_spec_t spec = {"exec-gateway", exec_cfg_table (), &s_cfg, s_new, s_destroy};
    return kt_proc_main (argc, argv, &spec);
}
