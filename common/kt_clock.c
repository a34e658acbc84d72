/*  kt_clock - the pipeline clock (real or scaled sim time) and the civil calendar.
 *
 *  Used by every process (timestamps, timers through kt_loop, trading-day rules) and by
 *  kt_log for its UTC "ts". Sim time is an affine map of wall time: all processes that
 *  share the anchor agree on "now". Sim monotonic time is the same map applied to
 *  CLOCK_MONOTONIC from the creation instant, so it never runs backwards when NTP steps
 *  the wall clock. Scaling uses __int128 so no product of ns and ppm can overflow.
 *  The IST helpers are in kt_ist.c. The calendar code is Hinnant's days_from_civil/civil_from_days
 * (written here from the algorithm, no libc time zone code): IST is a fixed +05:30, so no tz
 * database is needed. */

#include "kt_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PPM_ONE 1000000LL

struct kt_clock {
    bool sim;
    int64_t wall_anchor_ns;    //  sim: wall time of the anchor
    int64_t sim_anchor_ns;     //  sim: pipeline time at wall_anchor_ns
    int64_t speed_ppm;         //  sim: speed in millionths; real: 1000000
    int64_t mono_wall_base_ns; //  sim: CLOCK_MONOTONIC at creation
    int64_t mono_sim_base_ns;  //  sim: pipeline time at creation
};

static kt_clock_t *
s_alloc (void)
{
    kt_clock_t *self = calloc (1, sizeof *self);
    if (!self) {
        fprintf (stderr, "kt_clock: out of memory\n");
        abort ();
    }
    return self;
}

static int64_t
s_read (clockid_t id)
{
    struct timespec ts;
    clock_gettime (id, &ts);
    return (int64_t) ts.tv_sec * KT_NS_PER_SEC + ts.tv_nsec;
}

//  d * ppm / 1e6 without overflow; saturates at the int64 range.
static int64_t
s_scale (int64_t d, int64_t ppm)
{
    __int128 v = (__int128) d * ppm / S_PPM_ONE;
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < INT64_MIN)
        return INT64_MIN;
    return (int64_t) v;
}

//  a + b, saturating: a sim clock with an absurd anchor or speed must not wrap around.
static int64_t
s_sat_add (int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow (a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t
kt_clock_wall_ns (void)
{
    return s_read (CLOCK_REALTIME);
}

int64_t
kt_clock_wall_mono_ns (void)
{
    return s_read (CLOCK_MONOTONIC);
}

kt_clock_t *
kt_clock_new_real (void)
{
    kt_clock_t *self = s_alloc ();
    self->speed_ppm = S_PPM_ONE;
    return self;
}

kt_clock_t *
kt_clock_new_sim (int64_t wall_anchor_ns, int64_t sim_anchor_ns, int64_t speed_ppm)
{
    if (speed_ppm <= 0)
        return NULL;
    kt_clock_t *self = s_alloc ();
    self->sim = true;
    self->wall_anchor_ns = wall_anchor_ns;
    self->sim_anchor_ns = sim_anchor_ns;
    self->speed_ppm = speed_ppm;
    //  Read both clocks back to back: the monotonic base starts where the wall
    //  mapping is now, and from then on only CLOCK_MONOTONIC moves it.
    self->mono_wall_base_ns = kt_clock_wall_mono_ns ();
    self->mono_sim_base_ns = kt_clock_now_ns (self);
    return self;
}

void
kt_clock_destroy (kt_clock_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int64_t
kt_clock_now_ns (const kt_clock_t *self)
{
    int64_t wall = kt_clock_wall_ns ();
    if (!self || !self->sim)
        return wall;
    int64_t since;
    if (__builtin_sub_overflow (wall, self->wall_anchor_ns, &since))
        since = self->wall_anchor_ns < 0 ? INT64_MAX : INT64_MIN;
    return s_sat_add (self->sim_anchor_ns, s_scale (since, self->speed_ppm));
}

int64_t
kt_clock_mono_ns (const kt_clock_t *self)
{
    int64_t mono = kt_clock_wall_mono_ns ();
    if (!self || !self->sim)
        return mono;
    return s_sat_add (self->mono_sim_base_ns,
                      s_scale (mono - self->mono_wall_base_ns, self->speed_ppm));
}

int
kt_clock_set_anchor (kt_clock_t *self, int64_t wall_anchor_ns, int64_t sim_anchor_ns,
                     int64_t speed_ppm)
{
    if (!self || !self->sim || speed_ppm <= 0)
        return -1;
    //  Monotonic time continues from where it is, at the new speed: timers never see a
    //  jump, only the wall mapping of "now" moves.
    int64_t mono_wall = kt_clock_wall_mono_ns ();
    self->mono_sim_base_ns = kt_clock_mono_ns (self);
    self->mono_wall_base_ns = mono_wall;
    self->wall_anchor_ns = wall_anchor_ns;
    self->sim_anchor_ns = sim_anchor_ns;
    self->speed_ppm = speed_ppm;
    return 0;
}

int64_t
kt_clock_speed_ppm (const kt_clock_t *self)
{
    return self ? self->speed_ppm : S_PPM_ONE;
}

bool
kt_clock_is_sim (const kt_clock_t *self)
{
    return self && self->sim;
}

int
kt_clock_anchor (const kt_clock_t *self, int64_t *wall_anchor_ns, int64_t *sim_anchor_ns,
                 int64_t *speed_ppm)
{
    if (!self || !self->sim)
        return -1;
    if (wall_anchor_ns)
        *wall_anchor_ns = self->wall_anchor_ns;
    if (sim_anchor_ns)
        *sim_anchor_ns = self->sim_anchor_ns;
    if (speed_ppm)
        *speed_ppm = self->speed_ppm;
    return 0;
}

int64_t
kt_clock_wall_ms (const kt_clock_t *self, int64_t pipeline_ns)
{
    if (pipeline_ns <= 0)
        return 0;
    //  wall_ms = pipeline_ns * 1e6 / speed_ppm / 1e6 = pipeline_ns / speed_ppm, rounded up
    //  so a timer is due when the poll wakes (never a busy 0 ms wait just before it).
    int64_t ppm = self ? self->speed_ppm : S_PPM_ONE;
    return pipeline_ns / ppm + (pipeline_ns % ppm != 0);
}

// ---- Civil calendar ------------------------------------------------------------------

int64_t
kt_clock_days_from_civil (int y, int mo, int d)
{
    //  Shift the year to start in March so the leap day is the last day of the year.
    int64_t yy = (int64_t) y - (mo <= 2);
    int64_t era = s_floor_div (yy, 400);
    int64_t yoe = yy - era * 400;                        //  [0, 399]
    int64_t mp = (mo + 9) % 12;                          //  March = 0
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            //  [0, 365]
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; //  [0, 146096]
    return era * 146097 + doe - 719468;
}

void
kt_clock_civil_from_days (int64_t days, int *y, int *mo, int *d)
{
    int64_t z = days + 719468;
    int64_t era = s_floor_div (z, 146097);
    int64_t doe = z - era * 146097;                                      //  [0, 146096]
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; //  [0, 399]
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               //  [0, 365]
    int64_t mp = (5 * doy + 2) / 153;                                    //  [0, 11]
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;                           //  [1, 31]
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;                              //  [1, 12]
    *y = (int) (yoe + era * 400 + (mm <= 2));
    *mo = (int) mm;
    *d = (int) dd;
}
