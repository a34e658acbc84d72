/*  strat_cfg - the keys of section "strategy" (see docs/configuration.md). */

#include <stddef.h>
#include "strat.h"

const kt_cfg_row_t strat_cfg_table[] = {
    { "strategy.id", KT_CFG_STR, offsetof (struct strat_cfg, id), 8, "\"S1\"", 0, -1, 0,
      "strategy id: prefix of every intent id (intent ids are <= 20 chars, the Kite tag)" },
    { "strategy.name", KT_CFG_STR, offsetof (struct strat_cfg, name), 24, "\"baseline_v1\"", 0,
      -1, 0, "strategy to run" },
    KT_CFG_END
};
