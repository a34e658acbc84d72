/*  recon_cfg - the keys of section "recon" (see docs/configuration.md). */

#include <stddef.h>
#include "recon.h"

const kt_cfg_row_t recon_cfg_table[] = {
    {"recon.interval_s", KT_CFG_INT, offsetof (struct recon_cfg, interval_s), 0, "30", 1, 3600, 0,
     "seconds (wall time) between reconciliation runs"},
    {"recon.not_found_budget", KT_CFG_INT, offsetof (struct recon_cfg, not_found_budget), 0, "3", 0,
     100, 0, "runs an order of ours may be missing at the broker before acting on it"},
    {"recon.timeout_ms", KT_CFG_INT, offsetof (struct recon_cfg, timeout_ms), 0, "10000", 100,
     120000, 0, "each REST request to the broker, whole"},
    KT_CFG_END};
