/*  md - md-gateway's private header: the context and the config of the market-data
 *  process.
 *
 *  md-gateway loads today's instruments list (kt_instr_cache), picks the universe
 *  (configured, or derived from the index price and grown at the day's open: md_univ),
 *  connects the Kite ticker (md_ticker) and turns every packet into a TICK on `md`,
 *  every minute into a BAR (md_bar), with MD_STATUS, `md:status`, `md:ltp`,
 *  `md:universe` and `md:bars:<token>` in Redis (docs/md-gateway.md). */

#ifndef MD_H
#define MD_H

#include <stdio.h>
#include "kt.h"

struct md_cfg {
    int64_t status_ms;        //  MD_STATUS period, wall ms
    char subscribe[4096];     //  "EXCH:SYM,..." or tokens; "" = derived
    char underlying[16];      //  derived universe: options of this name
    char index_sym[32];       //  ... around the price of this index row
    int64_t strikes;          //  ... ATM +/- this many strikes
    char mode[8];             //  ltp | quote | full
    int64_t reconnect_min_ms; //  wall
    int64_t reconnect_max_ms; //  wall
    int64_t silence_ms;       //  watchdog, wall
    int64_t alert_after_s;    //  disconnected this long in market hours -> alert
    int64_t partial_bar_ms;   //  0 = no partial bars; pipeline ms
    int64_t ltp_flush_ms;     //  md:ltp and md:bars writes, wall ms
    int64_t bars_keep;        //  md:bars:<token> length
    int64_t max_message;      //  largest ticker message accepted, bytes
    bool warmup;              //  seed bars and VWAP from today's candles at start
    int64_t bar_grace_ms;     //  a minute closes this long (wall) after its end
    char ws_ca_file[256];     //  wss: CAs trusted instead of the system store; "" = system
};

typedef struct md md_t;

//  Config table of section "md".
extern const kt_cfg_row_t md_cfg_table[];

//  Bind `md`, start the timers and begin: instruments, universe, ticker. Returns an
//  owned context, or NULL (reason logged) if `md` cannot be bound or the ticker
//  settings are unusable. A missing instruments list or index price is retried, not
//  fatal.
md_t *md_new (kt_proc_t *proc, const struct md_cfg *cfg);

//  Free. Safe on NULL; sets *self_p to NULL.
void md_destroy (md_t **self_p);

//  Publish one MD_STATUS now. Returns 0 or -1 (HWM).
int md_publish_status (md_t *self);

//  `md-gateway --decode FILE` (bare false: one binary message) or `--decode-packet
//  FILE` (bare true: one packet): print {"ticks":[...]} and a newline to out, problems
//  to err. Returns the exit status: 0, 1 for a malformed frame (the ticks list is then
//  empty), 2 if the file cannot be read.
int md_cli_decode (const char *path, bool bare, FILE *out, FILE *err);

#endif
