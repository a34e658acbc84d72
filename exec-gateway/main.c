/*  exec-gateway - order commands in, broker orders and EXEC_EVENTs out. Wiring only. */

#include "exec.h"

static void *
s_new (kt_proc_t *proc, const void *cfg)
{
    (void) cfg;
    return exec_new (proc);
}

static void
s_destroy (void **ctx_p)
{
    exec_destroy ((exec_t **) ctx_p);
}

int
main (int argc, char **argv)
{
    kt_proc_spec_t spec = { "exec-gateway", NULL, NULL, s_new, s_destroy };
    return kt_proc_main (argc, argv, &spec);
}
