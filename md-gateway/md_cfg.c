/*  md_cfg - the keys of section "md" (see docs/configuration.md). */

#include <stddef.h>
#include "md.h"

#define O(f) offsetof (struct md_cfg, f)

const kt_cfg_row_t md_cfg_table[] = {
    {"md.status_ms", KT_CFG_INT, O (status_ms), 0, "1000", 100, 60000, 0,
     "period of MD_STATUS messages on md, wall milliseconds"},
    {"md.subscribe", KT_CFG_STR, O (subscribe), sizeof ((struct md_cfg *) 0)->subscribe, "\"\"", 0,
     -1, KT_CFG_F_RESTART,
     "instruments to subscribe, comma separated EXCHANGE:TRADINGSYMBOL or tokens; \"\" = "
     "derived (underlying, index_sym, strikes)"},
    {"md.underlying", KT_CFG_STR, O (underlying), sizeof ((struct md_cfg *) 0)->underlying,
     "\"NIFTY\"", 0, -1, KT_CFG_F_RESTART, "derived universe: options of this underlying"},
    {"md.index_sym", KT_CFG_STR, O (index_sym), sizeof ((struct md_cfg *) 0)->index_sym,
     "\"NIFTY 50\"", 0, -1, KT_CFG_F_RESTART,
     "derived universe: the index whose open of the day sets ATM (until the open: its "
     "last price, then extended by the open's; docs/md-gateway.md)"},
    {"md.strikes", KT_CFG_INT, O (strikes), 0, "10", 0, 200, KT_CFG_F_RESTART,
     "derived universe: strikes either side of ATM (CE and PE each); at least "
     "strategy.strikes_each_side"},
    {"md.mode", KT_CFG_STR, O (mode), sizeof ((struct md_cfg *) 0)->mode, "\"full\"", 0, -1,
     KT_CFG_F_RESTART, "ticker mode: ltp, quote or full"},
    {"md.reconnect_min_ms", KT_CFG_INT, O (reconnect_min_ms), 0, "1000", 100, 60000, 0,
     "first reconnect delay, doubled after each failure (wall ms, with jitter)"},
    {"md.reconnect_max_ms", KT_CFG_INT, O (reconnect_max_ms), 0, "30000", 100, 600000, 0,
     "cap of the reconnect delay (wall ms)"},
    {"md.silence_ms", KT_CFG_INT, O (silence_ms), 0, "5000", 500, 600000, 0,
     "watchdog: a connection with no frame and no heartbeat this long is closed (wall ms)"},
    {"md.alert_after_s", KT_CFG_INT, O (alert_after_s), 0, "30", 1, 3600, 0,
     "alert when the feed is down this long in market hours (wall seconds)"},
    {"md.partial_bar_ms", KT_CFG_INT, O (partial_bar_ms), 0, "0", 0, 60000, 0,
     "publish the open bar (final=false) this often, pipeline ms; 0 = never"},
    {"md.ltp_flush_ms", KT_CFG_INT, O (ltp_flush_ms), 0, "250", 50, 10000, 0,
     "md:ltp and md:bars are written to Redis this often (wall ms)"},
    {"md.bars_keep", KT_CFG_INT, O (bars_keep), 0, "500", 1, 100000, 0,
     "final bars kept per instrument in md:bars:<token>"},
    {"md.max_message", KT_CFG_INT, O (max_message), 0, "1048576", 4096, 67108864, KT_CFG_F_RESTART,
     "largest ticker message accepted (bytes); larger ones are dropped"},
    {"md.bar_grace_ms", KT_CFG_INT, O (bar_grace_ms), 0, "100", 0, 10000, 0,
     "a minute's bars close this long (wall ms) after the minute ends, so a tick of that "
     "minute still in flight lands in its own bar"},
    {"md.ws_ca_file", KT_CFG_STR, O (ws_ca_file), sizeof ((struct md_cfg *) 0)->ws_ca_file, "\"\"",
     0, -1, KT_CFG_F_RESTART,
     "wss ticker: PEM file of the CA certificates trusted instead of the system store; \"\" = "
     "the system store. The server certificate and host name are always verified."},
    {"md.warmup", KT_CFG_BOOL, O (warmup), 0, "true", 0, 0, KT_CFG_F_RESTART,
     "at start, seed bars and VWAP from today's minute candles (REST historical, 3/s)"},
    KT_CFG_END};
