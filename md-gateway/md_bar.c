/*  md_bar - 1-minute bars and day VWAP (rules in md_bar.h and docs/md-gateway.md).
 *
 *  Minutes are counted as ts / 60 s since the epoch; IST (UTC+05:30) is a whole number
 *  of minutes away, so a minute never straddles an IST day or session boundary. Each
 *  instrument is either idle (no trade yet today) or holds one open minute; closing a
 *  minute moves it to the next, skipping minutes outside the session when it has
 *  nothing to say about them. */

#include "md_bar.h"

#include <stdlib.h>
#include <string.h>
#include "kt_clock.h"
#include "md_tokmap.h"

#define S_MIN_PER_DAY 1440

struct s_inst {
    uint32_t token;
    char sym[KT_SYM_LEN];
    bool active; //  traded today: cur_min is the open minute
    int64_t day; //  IST day number of cur_min
    int64_t cur_min;
    bool has_data; //  a trading tick in cur_min
    bool dirty;    //  changed since the last partial
    int64_t o, h, l, c;
    int64_t vol; //  traded in cur_min
    int64_t ticks;
    int64_t last_price; //  last tick's price
    int64_t last_close; //  close of the last closed bar (flat bars)
    int64_t base_vol;   //  cumulative volume already accounted for
    __int128 vwap_num;  //  sum of (h + l + c) x volume over closed bars
    int64_t vwap_den;   //  sum of volume over closed bars
};

struct md_bar {
    struct md_bar_cfg cfg;
    md_bar_fn *fn;
    void *arg;
    struct s_inst *inst;
    size_t count;
    struct md_tokmap map; //  token -> index into inst
    int64_t now_min;      //  minutes before this one are closed
    int64_t next_partial;
    struct md_bar_stats stats;
};

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
s_day_of (int64_t min)
{
    return s_floor_div (min + KT_IST_OFFSET_NS / KT_NS_PER_MIN, S_MIN_PER_DAY);
}

static int
s_min_of_day (int64_t min)
{
    return (int) (min + KT_IST_OFFSET_NS / KT_NS_PER_MIN - s_day_of (min) * S_MIN_PER_DAY);
}

static bool
s_in_session (const md_bar_t *self, int64_t min)
{
    int mod = s_min_of_day (min);
    return mod >= self->cfg.session_open_min && mod < self->cfg.session_close_min;
}

static struct s_inst *
s_find (const md_bar_t *self, uint32_t token)
{
    int64_t i = md_tokmap_get (&self->map, token);
    return i < 0 ? NULL : &self->inst[i];
}

md_bar_t *
md_bar_new (const struct md_bar_cfg *cfg, md_bar_fn *fn, void *arg)
{
    if (!cfg || cfg->capacity == 0 || cfg->capacity > UINT32_MAX / 4 || cfg->partial_ns < 0 ||
        cfg->session_open_min < 0 || cfg->session_close_min > S_MIN_PER_DAY ||
        cfg->session_open_min >= cfg->session_close_min || !fn)
        return NULL;
    md_bar_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->cfg = *cfg;
    self->fn = fn;
    self->arg = arg;
    self->inst = calloc (cfg->capacity, sizeof *self->inst);
    if (!self->inst)
        abort ();
    md_tokmap_init (&self->map, cfg->capacity);
    self->now_min = INT64_MIN;
    return self;
}

void
md_bar_destroy (md_bar_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    md_bar_t *self = *self_p;
    free (self->inst);
    md_tokmap_free (&self->map);
    free (self);
    *self_p = NULL;
}

int
md_bar_add (md_bar_t *self, uint32_t token, const char *sym)
{
    if (!sym || !*sym)
        return -1;
    struct s_inst *in = s_find (self, token);
    if (!in) {
        if (self->count == self->cfg.capacity)
            return -1;
        in = &self->inst[self->count];
        in->token = token;
        md_tokmap_put (&self->map, token, (uint32_t) self->count++);
    }
    size_t n = strlen (sym);
    if (n >= sizeof in->sym)
        n = sizeof in->sym - 1;
    memcpy (in->sym, sym, n);
    in->sym[n] = '\0';
    return 0;
}

//  VWAP with the open bar's contribution when include_open.
static int64_t
s_vwap (const struct s_inst *in, bool include_open)
{
    __int128 num = in->vwap_num;
    __int128 den = in->vwap_den;
    if (include_open && in->has_data) {
        num += (__int128) (in->h + in->l + in->c) * in->vol;
        den += in->vol;
    }
    if (den == 0)
        return 0;
    return (int64_t) ((2 * num + 3 * den) / (6 * den));
}

static void
s_emit (md_bar_t *self, const struct s_inst *in, bool final)
{
    struct kt_bar bar;
    memset (&bar, 0, sizeof bar);
    bar.token = in->token;
    memcpy (bar.sym, in->sym, sizeof bar.sym);
    bar.start_ns = in->cur_min * KT_NS_PER_MIN;
    if (in->has_data) {
        bar.o = in->o;
        bar.h = in->h;
        bar.l = in->l;
        bar.c = in->c;
        bar.volume = in->vol;
        bar.ticks = in->ticks;
    } else
        bar.o = bar.h = bar.l = bar.c = in->last_close;
    bar.vwap = s_vwap (in, true);
    bar.final = final;
    if (final)
        self->stats.finals++;
    else
        self->stats.partials++;
    self->fn (&bar, self->arg);
}

//  Close the open minute: publish it (flat only inside the session) and fold it into
//  the day's VWAP.
static void
s_close (md_bar_t *self, struct s_inst *in)
{
    if (in->has_data || s_in_session (self, in->cur_min))
        s_emit (self, in, true);
    if (in->has_data) {
        in->vwap_num += (__int128) (in->h + in->l + in->c) * in->vol;
        in->vwap_den += in->vol;
        in->last_close = in->c;
    }
    in->has_data = false;
    in->dirty = false;
    in->vol = 0;
    in->ticks = 0;
}

//  Close every minute before target. The instrument goes idle when its day ends.
static void
s_roll (md_bar_t *self, struct s_inst *in, int64_t target)
{
    while (in->active && in->cur_min < target) {
        s_close (self, in);
        int64_t next = in->cur_min + 1;
        if (!s_in_session (self, next)) {
            //  Nothing to publish until the next session minute (or the target).
            int mod = s_min_of_day (next);
            int64_t skip = mod < self->cfg.session_open_min
                               ? self->cfg.session_open_min - mod
                               : S_MIN_PER_DAY - mod + self->cfg.session_open_min;
            next = next + skip < target ? next + skip : target;
        }
        if (s_day_of (next) != in->day) {
            in->active = false;
            return;
        }
        in->cur_min = next;
    }
}

static void
s_start_day (md_bar_t *self, struct s_inst *in, int64_t min, int64_t volume)
{
    in->active = true;
    in->day = s_day_of (min);
    in->cur_min = min;
    in->has_data = false;
    in->dirty = false;
    in->vol = 0;
    in->ticks = 0;
    in->vwap_num = 0;
    in->vwap_den = 0;
    in->last_close = 0;
    in->last_price = 0;
    //  At the open the cumulative volume starts from zero; joining later, what was
    //  traded before our first tick belongs to no bar of ours.
    in->base_vol = s_min_of_day (min) <= self->cfg.session_open_min ? 0 : volume;
}

int
md_bar_tick (md_bar_t *self, uint32_t token, int64_t ts_ns, int64_t ltp, int64_t volume)
{
    struct s_inst *in = s_find (self, token);
    if (!in || ltp <= 0 || volume < 0) {
        self->stats.refused++;
        return -1;
    }
    int64_t min = s_floor_div (ts_ns, KT_NS_PER_MIN);
    //  A tick of a minute already closed for its instrument (by the clock or by a later
    //  tick) is folded into the bar still open: a final bar is never published twice.
    bool late = false;
    if (in->active && min < in->cur_min) {
        min = in->cur_min;
        late = true;
    }
    if (late)
        self->stats.late++;
    if (in->active && min > in->cur_min)
        s_roll (self, in, min);
    bool first = false;
    if (!in->active || s_day_of (min) != in->day) {
        s_start_day (self, in, min, volume);
        first = true;
    }
    int64_t dv = volume - in->base_vol;
    if (dv < 0)
        dv = 0;
    in->base_vol = volume;
    if (!(first || dv > 0 || ltp != in->last_price))
        return 0;
    in->last_price = ltp;
    if (!in->has_data) {
        in->o = in->h = in->l = ltp;
        in->has_data = true;
    }
    if (ltp > in->h)
        in->h = ltp;
    if (ltp < in->l)
        in->l = ltp;
    in->c = ltp;
    in->vol += dv;
    in->ticks++;
    in->dirty = true;
    return 0;
}

int
md_bar_seed (md_bar_t *self, uint32_t token, const struct md_candle *c, size_t n, int64_t after_ns)
{
    struct s_inst *in = s_find (self, token);
    if (!in)
        return -1;
    int64_t after = s_floor_div (after_ns, KT_NS_PER_MIN);
    int64_t day = s_day_of (after);
    const struct md_candle *last = NULL;
    __int128 num = 0;
    int64_t den = 0;
    int used = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m = s_floor_div (c[i].start_ns, KT_NS_PER_MIN);
        if (s_day_of (m) != day || m > after)
            continue;
        num += (__int128) (c[i].h + c[i].l + c[i].c) * c[i].volume;
        den += c[i].volume;
        if (!last || c[i].start_ns > last->start_ns)
            last = &c[i];
        used++;
    }
    if (!last)
        return 0;
    in->active = true;
    in->day = day;
    in->cur_min = after + 1;
    in->vwap_num = num;
    in->vwap_den = den;
    in->base_vol = den;
    in->last_close = last->c;
    in->last_price = last->c;
    in->has_data = false;
    in->vol = 0;
    in->ticks = 0;
    in->dirty = false;
    return used;
}

int
md_bar_candle (md_bar_t *self, uint32_t token, const struct md_candle *c)
{
    struct s_inst *in = s_find (self, token);
    int64_t min = s_floor_div (c->start_ns, KT_NS_PER_MIN);
    if (!in || c->l <= 0 || c->h < c->l || c->volume < 0 || (in->active && min < in->cur_min))
        return -1;
    if (!in->active || s_day_of (min) != in->day) {
        s_start_day (self, in, min, 0);
        in->base_vol = 0;
    } else if (min > in->cur_min)
        s_roll (self, in, min);
    if (!in->active || in->cur_min != min)
        return -1; //  the minute is outside the day
    if (!in->has_data) {
        in->o = c->o;
        in->h = c->h;
        in->l = c->l;
        in->has_data = true;
    }
    if (c->h > in->h)
        in->h = c->h;
    if (c->l < in->l)
        in->l = c->l;
    in->c = c->c;
    in->last_price = c->c;
    in->vol += c->volume;
    in->base_vol += c->volume;
    in->dirty = true;
    return 0;
}

void
md_bar_advance (md_bar_t *self, int64_t now_ns)
{
    int64_t target = s_floor_div (now_ns, KT_NS_PER_MIN);
    if (target > self->now_min)
        self->now_min = target;
    //  Every call, not only at a boundary: an instrument whose first tick was older than
    //  the clock has minutes to close too.
    for (size_t i = 0; i < self->count; i++)
        if (self->inst[i].active && self->inst[i].cur_min < self->now_min)
            s_roll (self, &self->inst[i], self->now_min);
    if (self->cfg.partial_ns > 0 && now_ns >= self->next_partial) {
        for (size_t i = 0; i < self->count; i++) {
            struct s_inst *in = &self->inst[i];
            if (in->active && in->dirty && in->has_data) {
                s_emit (self, in, false);
                in->dirty = false;
            }
        }
        self->next_partial =
            (s_floor_div (now_ns, self->cfg.partial_ns) + 1) * self->cfg.partial_ns;
    }
}

int64_t
md_bar_vwap (const md_bar_t *self, uint32_t token)
{
    const struct s_inst *in = s_find (self, token);
    return in && in->active ? s_vwap (in, true) : 0;
}

void
md_bar_stats (const md_bar_t *self, struct md_bar_stats *out)
{
    *out = self->stats;
}
