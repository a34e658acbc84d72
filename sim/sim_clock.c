/*  sim_clock - kite-sim's session clock: scaled wall time that can pause and step.
 *
 *  Used by sim.c (the market timer and the admin clock endpoint) and, through the
 *  Redis `clock` hash, by every other process in sim mode. Invariants: speed_ppm > 0;
 *  simulated time never goes backwards (pause freezes it, step_to only moves forward,
 *  a speed change re-anchors at the current instant). Pure: wall instants come in as
 *  arguments so tests drive it without sleeping. */

#include <stdio.h>
#include "sim.h"

//  delta * ppm / 1e6 without overflow for any session length.
static int64_t
s_scale (int64_t delta_ns, int64_t speed_ppm)
{
    __int128 v = (__int128) delta_ns * speed_ppm;
    return (int64_t) (v / 1000000);
}

void
sim_clock_init (struct sim_clock *self, int64_t sim_ns, int64_t speed_ppm, int64_t wall_mono_ns,
                int64_t wall_real_ns)
{
    self->wall_anchor_ns = wall_mono_ns;
    self->real_anchor_ns = wall_real_ns;
    self->sim_anchor_ns = sim_ns;
    self->speed_ppm = speed_ppm > 0 ? speed_ppm : 1000000;
    self->paused = false;
}

int64_t
sim_clock_now (const struct sim_clock *self, int64_t wall_mono_ns)
{
    if (self->paused || wall_mono_ns <= self->wall_anchor_ns)
        return self->sim_anchor_ns;
    return self->sim_anchor_ns + s_scale (wall_mono_ns - self->wall_anchor_ns, self->speed_ppm);
}

//  Move the anchor to the current instant so a change applies from now on.
static void
s_reanchor (struct sim_clock *self, int64_t wall_mono_ns, int64_t wall_real_ns)
{
    self->sim_anchor_ns = sim_clock_now (self, wall_mono_ns);
    self->wall_anchor_ns = wall_mono_ns;
    self->real_anchor_ns = wall_real_ns;
}

void
sim_clock_pause (struct sim_clock *self, int64_t wall_mono_ns, int64_t wall_real_ns)
{
    if (self->paused)
        return;
    s_reanchor (self, wall_mono_ns, wall_real_ns);
    self->paused = true;
}

void
sim_clock_resume (struct sim_clock *self, int64_t wall_mono_ns, int64_t wall_real_ns)
{
    if (!self->paused)
        return;
    self->wall_anchor_ns = wall_mono_ns;
    self->real_anchor_ns = wall_real_ns;
    self->paused = false;
}

int
sim_clock_step_to (struct sim_clock *self, int64_t target_ns, int64_t wall_mono_ns,
                   int64_t wall_real_ns)
{
    if (!self->paused || target_ns < self->sim_anchor_ns)
        return -1;
    self->sim_anchor_ns = target_ns;
    self->wall_anchor_ns = wall_mono_ns;
    self->real_anchor_ns = wall_real_ns;
    return 0;
}

int
sim_clock_set_speed (struct sim_clock *self, int64_t speed_ppm, int64_t wall_mono_ns,
                     int64_t wall_real_ns)
{
    if (speed_ppm <= 0)
        return -1;
    if (!self->paused)
        s_reanchor (self, wall_mono_ns, wall_real_ns);
    self->speed_ppm = speed_ppm;
    return 0;
}

void
sim_clock_start (struct sim_clock *self, const struct sim_cfg *cfg, int64_t open_ns,
                 int64_t wall_mono_ns, int64_t wall_real_ns)
{
    int64_t start = open_ns, ppm = 1000000;
    if (cfg->wall_clock)
        start = wall_real_ns;
    else {
        if (cfg->start[0]) {
            int hh = 0, mi = 0, ss = 0;
            sscanf (cfg->start, "%d:%d:%d", &hh, &mi, &ss);
            start =
                kt_ist_day_start (open_ns) + ((int64_t) hh * 3600 + mi * 60 + ss) * KT_NS_PER_SEC;
        }
        ppm = (int64_t) (cfg->speed * 1e6 + 0.5);
    }
    sim_clock_init (self, start, ppm > 0 ? ppm : 1, wall_mono_ns, wall_real_ns);
    //  Paused at the start instant itself, not a few ns of scaled time later.
    self->paused = cfg->paused;
}
