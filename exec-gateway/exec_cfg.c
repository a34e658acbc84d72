/*  exec_cfg - the "exec" config section. */

#include "exec.h"

#include <stddef.h>

#define O(f) offsetof (struct exec_cfg, f)

static const kt_cfg_row_t s_rows[] = {
    {"exec.exchange", KT_CFG_STR, O (exchange), 8, "\"NFO\"", 0, -1, 0, "exchange of the orders"},
    {"exec.variety", KT_CFG_STR, O (variety), 12, "\"regular\"", 0, -1, 0, "Kite order variety"},
    {"exec.freeze_qty", KT_CFG_INT, O (freeze_qty), 0, "1800", 1, 10000000, 0,
     "units per broker order (the exchange's freeze quantity, which Kite's instruments "
     "list does not carry); larger orders are sliced"},
    {"exec.max_slices", KT_CFG_INT, O (max_slices), 0, "10", 1, EXEC_SLICE_MAX, 0,
     "most slices of one order"},
    {"exec.market_protection", KT_CFG_INT, O (market_protection), 0, "-1", -1, 100, 0,
     "MARKET and SL-M protection: -1 automatic or 1..100 percent"},
    {"exec.rate_per_s", KT_CFG_INT, O (rate_per_s), 0, "8", 1, 10, 0,
     "outgoing order requests per second (the rest wait in a queue)"},
    {"exec.order_timeout_ms", KT_CFG_INT, O (order_timeout_ms), 0, "7000", 100, 60000, 0,
     "place/modify/cancel time-out; after it the outcome is unknown"},
    {"exec.read_timeout_ms", KT_CFG_INT, O (read_timeout_ms), 0, "7000", 100, 60000, 0,
     "order book and trades time-out"},
    {"exec.poll_ms", KT_CFG_INT, O (poll_ms), 0, "1000", 100, 60000, 0,
     "order book poll while orders are live (wall time)"},
    {"exec.settle_tries", KT_CFG_INT, O (settle_tries), 0, "3", 1, 100, 0,
     "order book look-ups that must miss an unresolved submit"},
    {"exec.connect_retries", KT_CFG_INT, O (connect_retries), 0, "3", 0, 100, 0,
     "sends that never left the host before the command is refused"},
    {"exec.idle_cancel_s", KT_CFG_INT, O (idle_cancel_s), 0, "30", 1, 86400, 0,
     "a partly filled entry idle this long has its rest cancelled"},
    {"exec.stop_retries", KT_CFG_INT, O (stop_retries), 0, "3", 1, 9, 0,
     "attempts to place an attached stop before exiting at market"},
    {"exec.flatten_attempts", KT_CFG_INT, O (flatten_attempts), 0, "5", 1, 100, 0,
     "FLATTEN rounds before it reports failure"},
    {"exec.paper_slippage_ticks", KT_CFG_INT, O (paper_slippage_ticks), 0, "0", 0, 100, 0,
     "paper mode: each fill this many ticks worse than the quote"},
    {"exec.journal_dir", KT_CFG_STR, O (journal_dir), 256, "\"run/journal\"", 0, -1, 0,
     "journal root: <dir>/<YYYYMMDD>/{orders,fills,trades}.csv (\"\" = none)"},
    KT_CFG_END,
};

const kt_cfg_row_t *
exec_cfg_table (void)
{
    return s_rows;
}
