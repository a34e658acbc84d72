/*  md-gateway - market data in, `md` out. Wiring only. */

#include <stdio.h>
#include <string.h>
#include "md.h"

static void *
s_new (kt_proc_t *proc, const void *cfg)
{
    return md_new (proc, cfg);
}

static void
s_destroy (void **ctx_p)
{
    md_destroy ((md_t **) ctx_p);
}

int
main (int argc, char **argv)
{
    if (argc == 3 && strcmp (argv[1], "--decode") == 0)
        return md_cli_decode (argv[2], false, stdout, stderr);
    if (argc == 3 && strcmp (argv[1], "--decode-packet") == 0)
        return md_cli_decode (argv[2], true, stdout, stderr);
    struct md_cfg cfg;
    kt_proc_spec_t spec = {"md-gateway", md_cfg_table, &cfg, s_new, s_destroy};
    return kt_proc_main (argc, argv, &spec);
}
