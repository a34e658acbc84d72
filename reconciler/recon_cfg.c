/*  recon_cfg - the keys of section "recon" (see docs/configuration.md). */

#include <stddef.h>
#include "recon.h"

#define O(f) offsetof (struct recon_cfg, f)

const kt_cfg_row_t recon_cfg_table[] = {
    {"recon.interval_s", KT_CFG_INT, O (interval_s), 0, "30", 1, 3600, 0,
     "seconds (wall time) between reconciliation runs"},
    {"recon.unknown_position", KT_CFG_STR, O (unknown_position),
     sizeof ((struct recon_cfg *) 0)->unknown_position, "\"halt\"", 0, -1, 0,
     "a broker position the book does not have: \"adopt\" (book it as EXTERNAL) or \"halt\""},
    {"recon.retry_runs", KT_CFG_INT, O (retry_runs), 0, "3", 1, 100, 0,
     "consecutive runs a finding that rests on something missing must be seen before acting"},
    {"recon.retry_s", KT_CFG_INT, O (retry_s), 0, "5", 1, 3600, 0,
     "seconds (wall time) to the next run after a run that found anything"},
    {"recon.timeout_ms", KT_CFG_INT, O (timeout_ms), 0, "7000", 100, 60000, 0,
     "limit of each broker request (wall ms)"},
    {"recon.request_poll_ms", KT_CFG_INT, O (request_poll_ms), 0, "1000", 50, 60000, 0,
     "how often recon:request (run now) and session:reload (new token) are looked at (wall ms)"},
    {"recon.min_gap_ms", KT_CFG_INT, O (min_gap_ms), 0, "350", 0, 10000, 0,
     "least time between two broker requests (wall ms): Kite's 10/s are shared by the api_key"},
    KT_CFG_END};
