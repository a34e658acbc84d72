/*  recon_cfg - the keys of section "recon" (see docs/configuration.md). */

#include <stddef.h>
#include "recon.h"

const kt_cfg_row_t recon_cfg_table[] = {
    { "recon.interval_s", KT_CFG_INT, offsetof (struct recon_cfg, interval_s), 0, "30", 1, 3600,
      0, "seconds (wall time) between reconciliation runs" },
    KT_CFG_END
};
