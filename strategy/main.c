/*  strategy - signals in, intents out. Wiring only. */

#include "strat.h"

static void *
s_new (kt_proc_t *proc, const void *cfg)
{
    return strat_new (proc, cfg);
}

static void
s_destroy (void **ctx_p)
{
    strat_destroy ((strat_t **) ctx_p);
}

int
main (int argc, char **argv)
{
    struct strat_cfg cfg;
    kt_proc_spec_t spec = {"strategy", strat_cfg_table, &cfg, s_new, s_destroy};
    return kt_proc_main (argc, argv, &spec);
}
