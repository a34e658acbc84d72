/*  alert_cfg - the keys of section "alerter" (see docs/configuration.md). */

#include <stddef.h>
#include "alert.h"

const kt_cfg_row_t alert_cfg_table[] = {
    { "alerter.dedup_s", KT_CFG_INT, offsetof (struct alert_cfg, dedup_s), 0, "60", 0, 86400, 0,
      "an alert whose key was seen within this many seconds is counted, not sent again" },
    { "alerter.queue_max", KT_CFG_INT, offsetof (struct alert_cfg, queue_max), 0, "10000", 100,
      1000000, 0, "most alerts kept undelivered in alerts:queue" },
    KT_CFG_END
};
