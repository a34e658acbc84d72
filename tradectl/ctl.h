/*  ctl - tradectl, the operator's command line: the private header.
 *
 *  tradectl talks to Redis directly (the shared truth), so it works while any process
 *  is down: `status` reads the account, `halt` sets the kill switch that risk-gate
 *  honours on its next decision and poll, `resume` clears it and moves HALTED to
 *  REDUCING (risk-gate turns ACTIVE after the reconciler agrees again). The keys and
 *  fields are risk-gate's (docs/risk-gate.md). Every change is also appended to the
 *  `events` stream with who made it. */

#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "kt.h"
#include "kt_risk.h"

//  ---- can the system open new positions (ctl_gate.c) ---------------------------------

#define CTL_GATE_WHY_MAX 10
#define CTL_GATE_FEED_SILENT_NS (5 * 1000000000LL) //  wall: Kite beats every second
#define CTL_GATE_INSTRUMENTS "instruments"         //  risk-gate's health counter

//  What the answer is made of, as the processes wrote it.
struct ctl_gate_in {
    int64_t now_ns, speed_ppm; //  pipeline time and the clock's speed
    int64_t wall_ns;           //  wall time (md:status last_frame_ns is wall)
    bool have_state;           //  risk:state exists
    struct kt_risk_state_rec state;
    struct kt_risk_kill_rec kill;
    bool have_md; //  md:status exists
    struct kt_md_status_rec md;
    bool have_recon; //  recon:last exists
    struct kt_recon_last recon;
    bool have_rg_health; //  health:risk-gate exists
    bool rg_fresh;       //  its beat is within health.ttl_s
    int64_t rg_beat_ns;
    int64_t instruments; //  risk-gate's instruments counter (0: none loaded)
};

//  The answer: can_open, else every reason found, in the order a person fixes them.
struct ctl_gate {
    bool can_open;
    int nwhy;
    char why[CTL_GATE_WHY_MAX][224];
};

//  Decide from in. Pure: no I/O. A record that is absent counts against opening
//  (fail closed).
void ctl_gate_decide (const struct ctl_gate_in *in, struct ctl_gate *out);

//  Read the records behind the answer into *in (zeroed first). health_ttl_s: a
//  risk-gate beat older than this (wall) is stale. Returns 0, or -1 if Redis is
//  unavailable (why).
int ctl_gate_read (kt_store_t *store, int64_t now_ns, int64_t speed_ppm, int64_t health_ttl_s,
                   struct ctl_gate_in *in, char *why, size_t whylen);

//  HGETALL the hash k (arg for its pattern, may be NULL) into rec (the record k's
//  field table maps; the caller zeroes it). A field that does not parse stays as it
//  was. Returns 1 found, 0 absent, -1 if Redis is unavailable (why).
int ctl_gate_hash (kt_store_t *store, const kt_schema_key_t *k, const char *arg, void *rec,
                   char *why, size_t whylen);

//  HSET every field of rec (the record of hash k, a pattern without argument) in one
//  command. Returns 0, or -1 if Redis is unavailable or refused it.
int ctl_gate_hset (kt_store_t *store, const kt_schema_key_t *k, const void *rec);

//  The answer as the first line of `status`: "can open new positions: YES" or
//  "can open new positions: NO - why; why".
void ctl_gate_line (const struct ctl_gate *g, FILE *out);

//  The answer as JSON {"can_open": bool, "why": [..]}. Owned by the caller.
cJSON *ctl_gate_json (const struct ctl_gate *g);

//  Print whether new positions can open (first line), the trading state, the kill
//  switch, the reconciler's last run and the broker session (recon:last), P&L,
//  capital, positions and open orders of the account behind store to out, as text
//  (times in IST and as ages). now_ns is pipeline time and speed_ppm the clock's speed
//  (ages are shown in wall time); health_ttl_s as for ctl_gate_read. Returns 0, or -1
//  if Redis is unavailable (reason printed to out).
int ctl_status_print (kt_store_t *store, FILE *out, int64_t now_ns, int64_t speed_ppm,
                      int64_t health_ttl_s);

//  Set the kill switch (risk:kill active 1, reason, by, since_ns) and record it in
//  `events`. Returns 0, or -1 if Redis is unavailable or reason is empty.
int ctl_kill_halt (kt_store_t *store, const char *reason, const char *by, int64_t now_ns);

//  Clear the kill switch and, if HALTED, switch to REDUCING (since now, broker session
//  marked valid again, broker rejections window cleared), in one commit (risk-gate's
//  risk_state_resume); record it in `events`. expect: the halt reason the decision was made
//  on ("" = not HALTED, NULL = whatever stands). *was receives the state before (may be
//  NULL). Returns 0, 1 when another halt stands than expected (nothing changed), or -1 if
//  Redis is unavailable.
int ctl_kill_resume (kt_store_t *store, const char *by, const char *expect, int64_t now_ns,
                     kt_trading_state_t *was);

//  Wait up to timeout_ms (wall) for risk:state to show want. Returns 0 when it does,
//  1 on timeout, -1 if Redis is unavailable.
int ctl_kill_wait (kt_store_t *store, kt_trading_state_t want, int timeout_ms);

#endif
