/*  md_cfg - the keys of section "md" (see docs/configuration.md). */

#include <stddef.h>
#include "md.h"

const kt_cfg_row_t md_cfg_table[] = {
    { "md.status_ms", KT_CFG_INT, offsetof (struct md_cfg, status_ms), 0, "1000", 100, 60000, 0,
      "period of MD_STATUS messages on md, wall milliseconds" },
    KT_CFG_END
};
