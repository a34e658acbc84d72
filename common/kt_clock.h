/*  kt_clock - the pipeline clock (real or scaled sim time) and IST exchange-time helpers.
 *
 *  Real mode: system time. Sim mode: pipeline time runs at `speed` times wall time from
 *  an anchor (wall_anchor_ns -> sim_anchor_ns); kite-sim writes the anchor to the Redis
 *  `clock` hash and every process reads the same anchor, so all agree on "now".
 *  The anchor travels as three decimal fields: wall_anchor_ns, sim_anchor_ns, speed_ppm
 *  (speed in millionths, so no float crosses processes). IST is UTC+05:30 with no DST;
 *  the helpers are pure functions of a timestamp. */

#ifndef KT_CLOCK_H
#define KT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define KT_NS_PER_SEC 1000000000LL
#define KT_NS_PER_MIN (60LL * KT_NS_PER_SEC)
#define KT_IST_OFFSET_NS (19800LL * KT_NS_PER_SEC)

typedef struct kt_clock kt_clock_t;

//  Real time. Returns an owned clock.
kt_clock_t *kt_clock_new_real (void);

//  Sim time: now = sim_anchor_ns + (wall_now - wall_anchor_ns) * speed_ppm / 1e6.
//  speed_ppm must be > 0. Returns an owned clock, or NULL if speed_ppm <= 0.
kt_clock_t *kt_clock_new_sim (int64_t wall_anchor_ns, int64_t sim_anchor_ns, int64_t speed_ppm);

//  Free. Safe on NULL; sets *self_p to NULL.
void kt_clock_destroy (kt_clock_t **self_p);

//  Pipeline time, ns since the Unix epoch.
int64_t kt_clock_now_ns (const kt_clock_t *self);

//  Monotonic pipeline time in ns (for timers and intervals; scaled in sim mode).
int64_t kt_clock_mono_ns (const kt_clock_t *self);

//  Speed in millionths (1000000 in real mode).
int64_t kt_clock_speed_ppm (const kt_clock_t *self);

//  True for a sim clock.
bool kt_clock_is_sim (const kt_clock_t *self);

//  Anchor of a sim clock (for publishing to the `clock` hash). Returns 0, or -1 for real.
int kt_clock_anchor (const kt_clock_t *self, int64_t *wall_anchor_ns, int64_t *sim_anchor_ns,
                     int64_t *speed_ppm);

//  Move a sim clock to a new anchor (kite-sim restarted the session). Returns 0, or -1
//  for a real clock or speed_ppm <= 0. kt_clock_mono_ns continues without a jump (at
//  the new speed); only kt_clock_now_ns moves to the new mapping.
int kt_clock_set_anchor (kt_clock_t *self, int64_t wall_anchor_ns, int64_t sim_anchor_ns,
                         int64_t speed_ppm);

//  Convert a pipeline duration to wall milliseconds (for poll timeouts), rounding up.
int64_t kt_clock_wall_ms (const kt_clock_t *self, int64_t pipeline_ns);

//  Wall time now (CLOCK_REALTIME) and monotonic wall time, ns.
int64_t kt_clock_wall_ns (void);
int64_t kt_clock_wall_mono_ns (void);

//  Every kt_clock_* function above that takes a clock treats self == NULL as a real
//  clock, so code that has no clock configured (tools, tests) still gets real time.

// ---- Civil calendar (pure, proleptic Gregorian, no libc time zone code) ------------

//  Days since 1970-01-01 of the date y-mo-d (mo 1..12, d 1..31; not range-checked:
//  out-of-range days roll over arithmetically). Negative before 1970.
int64_t kt_clock_days_from_civil (int y, int mo, int d);

//  The date of a day number (inverse of kt_clock_days_from_civil). Out pointers
//  must not be NULL.
void kt_clock_civil_from_days (int64_t days, int *y, int *mo, int *d);

//  The IST helpers (kt_ist_*) live in kt_ist.h; included here so callers of either
//  keep compiling with one include.
#include "kt_ist.h"

#endif
