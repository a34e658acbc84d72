/*  sim_market - the synthetic (or replayed) NIFTY options market of kite-sim.
 *
 *  The model (docs/kite-sim.md "Market"): NIFTY 50 follows a log random walk whose
 *  volatility and drift switch between regimes at random times, with a U-shaped
 *  intraday volatility profile, a weak pull back to the opening level (reversals), and
 *  rare jumps. ATM implied volatility drifts and rises when the index falls; a smile in
 *  standardised moneyness prices the wings. Options are Black-Scholes values of that,
 *  quoted with a 1-6 tick spread and 5 levels of lot-multiple depth; most updates are
 *  trades at the bid or ask, leaning with the direction the fair value moved.
 *  Doubles are used for the model only; every emitted price is quantised to paise on
 *  the tick before it leaves this file, and only integers reach the order book. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim_market.h"
#include "sim_replay.h"

#define S_SESSION_MIN 375
#define S_YEAR_NS (365.0 * 86400.0 * 1e9)
#define S_TRADING_SECS_YEAR (252.0 * 22500.0)
#define S_RATE 0.065 //  risk-free rate for Black-Scholes
#define S_TICK 5     //  0.05 in paise
#define S_INDEX_EXCH_TOKEN 1001u

//  Model constants. Changing any of them changes every seed's stream.
#define S_START_LEVEL 24000.0   //  centre of the previous-close draw, rupees
#define S_KAPPA (1.0 / 10800.0) //  pull to the open level, per second
#define S_JUMPS_PER_DAY 1.5
#define S_JUMP_SD 0.002
#define S_IV_TAU 3600.0   //  seconds
#define S_IV_NU 0.00053   //  per sqrt(second)
#define S_IV_LEVERAGE 4.0 //  -1% index -> +4% (relative) ATM IV

struct s_rng {
    uint64_t s[4];
};

struct s_slot {
    bool is_index;
    bool call;
    bool replayed; //  rows in the replay file: no synthetic ticks
    double strike; //  rupees
    int64_t tick;  //  paise
    int64_t lot;
    struct s_rng rng;
    int64_t next_ns; //  next synthetic tick, INT64_MAX = none
    struct sim_quote q;
    int64_t pv_sum; //  sum of price x qty (paise x units), for VWAP
    int64_t pv_qty;
    double last_fair;                              //  rupees
    int64_t last_cum_volume;                       //  replay tick files
    struct sim_candle candles[SIM_MARKET_MINUTES]; //  start_ns == 0: no candle
};

struct s_spot {
    double x;                   //  ln(index in rupees)
    double anchor;              //  ln(open level)
    double mu;                  //  drift, log per second
    double vol;                 //  annualised volatility of the regime
    int64_t trend_end, vol_end; //  regime ends, ns
    double iv0, xi;             //  ATM IV = iv0 * exp(xi)
    int64_t last_ns;            //  previous index tick, 0 = none yet
    double prev_close;          //  rupees
};

struct sim_market {
    int32_t date, expiry;
    int64_t open_ns, close_ns, expiry_ns;
    kt_instr_table_t *instr; //  owned
    struct s_slot *slots;    //  owned, count
    size_t count;
    struct s_spot spot;
    struct sim_replay *replay; //  owned, NULL when synthetic
    int *replay_slot;          //  owned, slot of each replay tick
    size_t replay_pos;
};

// ---- PRNG: splitmix64 seeds xoshiro256** ---------------------------------------------

static uint64_t
s_splitmix (uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void
s_rng_seed (struct s_rng *r, uint64_t seed, int32_t date, uint64_t stream)
{
    uint64_t x = seed;
    x = s_splitmix (&x) ^ ((uint64_t) (uint32_t) date * 0xD1B54A32D192ED03ull);
    x = s_splitmix (&x) ^ (stream * 0x8CB92BA72F3D8DD7ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = s_splitmix (&x);
}

static inline uint64_t
s_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t
s_next (struct s_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = s_rotl (s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl (s[3], 45);
    return result;
}

//  Uniform in [0, 1).
static double
s_uniform (struct s_rng *r)
{
    return (double) (s_next (r) >> 11) * 0x1.0p-53;
}

//  Standard normal (Box-Muller, one value per call so the stream never caches).
static double
s_normal (struct s_rng *r)
{
    double u1 = 1.0 - s_uniform (r); //  (0, 1]
    double u2 = s_uniform (r);
    return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

static double
s_expo (struct s_rng *r, double mean)
{
    return -log (1.0 - s_uniform (r)) * mean;
}

//  Integer in [lo, hi].
static int64_t
s_range (struct s_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t) (s_next (r) % (uint64_t) (hi - lo + 1));
}

// ---- dates and symbols ---------------------------------------------------------------

static int
s_split_date (int32_t date, int *y, int *mo, int *d)
{
    char buf[16];
    snprintf (buf, sizeof buf, "%04d-%02d-%02d", (int) (date / 10000), (int) (date / 100 % 100),
              (int) (date % 100));
    return date <= 0 ? -1 : kt_ist_parse_date (buf, y, mo, d);
}

static int32_t
s_add_days (int32_t date, int days)
{
    int y, mo, d;
    if (s_split_date (date, &y, &mo, &d) != 0)
        return 0;
    int64_t t = kt_ist_ns (y, mo, d, 12, 0, 0) + (int64_t) days * 86400 * KT_NS_PER_SEC;
    return kt_ist_yyyymmdd (t);
}

static int
s_weekday (int32_t date)
{
    int y, mo, d, wday;
    if (s_split_date (date, &y, &mo, &d) != 0)
        return -1;
    kt_ist_fields (kt_ist_ns (y, mo, d, 12, 0, 0), NULL, NULL, NULL, NULL, NULL, NULL, &wday);
    return wday;
}

int32_t
sim_market_trading_day (int32_t date)
{
    int wday = s_weekday (date);
    if (wday < 0)
        return 0;
    return wday == 6 ? s_add_days (date, 2) : wday == 0 ? s_add_days (date, 1) : date;
}

//  The weekday before date (Friday for a Monday): whose close the session opens from.
static int32_t
s_prev_trading_day (int32_t date)
{
    int wday = s_weekday (date);
    return s_add_days (date, wday == 1 ? -3 : wday == 0 ? -2 : -1);
}

int32_t
sim_market_expiry_for (int32_t date)
{
    int y, mo, d, wday;
    if (s_split_date (date, &y, &mo, &d) != 0)
        return 0;
    kt_ist_fields (kt_ist_ns (y, mo, d, 12, 0, 0), NULL, NULL, NULL, NULL, NULL, NULL, &wday);
    return s_add_days (date, (2 - wday + 7) % 7);
}

int
sim_market_symbol (int32_t expiry, int64_t strike, bool call, char *buf, size_t buflen)
{
    static const char *months[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    static const char weekly_month[12] = {'1', '2', '3', '4', '5', '6',
                                          '7', '8', '9', 'O', 'N', 'D'};
    int y, mo, d;
    if (s_split_date (expiry, &y, &mo, &d) != 0 || strike <= 0 || strike % 100 != 0)
        return -1;
    //  The last expiry of the month carries the monthly name (kite-protocol.md 7.2).
    int32_t next_week = s_add_days (expiry, 7);
    bool monthly = next_week / 100 % 100 != mo;
    int n;
    if (monthly)
        n = snprintf (buf, buflen, "NIFTY%02d%s%lld%s", y % 100, months[mo - 1],
                      (long long) (strike / 100), call ? "CE" : "PE");
    else
        n = snprintf (buf, buflen, "NIFTY%02d%c%02d%lld%s", y % 100, weekly_month[mo - 1], d,
                      (long long) (strike / 100), call ? "CE" : "PE");
    return n < 0 || (size_t) n >= buflen ? -1 : 0;
}

// ---- pricing -------------------------------------------------------------------------

static double
s_ncdf (double x)
{
    return 0.5 * erfc (-x / M_SQRT2);
}

static double
s_black_scholes (bool call, double s, double k, double t, double sigma)
{
    if (t <= 0 || sigma <= 0)
        return call ? fmax (s - k, 0) : fmax (k - s, 0);
    double sq = sigma * sqrt (t);
    double d1 = (log (s / k) + (S_RATE + 0.5 * sigma * sigma) * t) / sq;
    double d2 = d1 - sq;
    double df = exp (-S_RATE * t);
    return call ? s * s_ncdf (d1) - k * df * s_ncdf (d2) : k * df * s_ncdf (-d2) - s * s_ncdf (-d1);
}

//  Standardised moneyness: log-distance of the strike in ATM standard deviations.
static double
s_moneyness (double s, double k, double t, double atm)
{
    double z = log (k / s) / (atm * sqrt (t));
    return z < -4 ? -4 : z > 4 ? 4 : z;
}

static double
s_option_value (const struct s_spot *spot, const struct s_slot *slot, double s, double t)
{
    double atm = spot->iv0 * exp (spot->xi);
    double z = s_moneyness (s, slot->strike, t, atm);
    //  Puts' side (z < 0) is richer than the calls' side: the index smirk.
    double iv = atm * (1.0 + 0.025 * z * z - 0.04 * z);
    return s_black_scholes (slot->call, s, slot->strike, t, iv);
}

static double
s_years_to_expiry (const sim_market_t *self, int64_t t)
{
    int64_t left = self->expiry_ns - t;
    if (left < 60 * KT_NS_PER_SEC)
        left = 60 * KT_NS_PER_SEC;
    return (double) left / S_YEAR_NS;
}

//  Rupees -> paise on the tick, at least one tick.
static int64_t
s_quantise (double rupees, int64_t tick)
{
    int64_t px = (int64_t) llround (rupees * 100.0 / (double) tick) * tick;
    return px < tick ? tick : px;
}

// ---- quotes and candles --------------------------------------------------------------

static void
s_candle (sim_market_t *self, struct s_slot *slot, int64_t t, int64_t px, int64_t qty)
{
    int64_t m = (t - self->open_ns) / KT_NS_PER_MIN;
    if (m < 0 || m >= SIM_MARKET_MINUTES)
        return;
    struct sim_candle *c = &slot->candles[m];
    if (c->start_ns == 0) {
        c->start_ns = self->open_ns + m * KT_NS_PER_MIN;
        c->o = c->h = c->l = px;
    }
    if (px > c->h)
        c->h = px;
    if (px < c->l)
        c->l = px;
    c->c = px;
    c->volume += qty;
    c->oi = slot->q.oi;
}

//  A trade of qty at px: last price, day OHLC, volume, VWAP, OI, candle.
static void
s_trade (sim_market_t *self, struct s_slot *slot, int64_t t, int64_t px, int64_t qty)
{
    struct sim_quote *q = &slot->q;
    q->ltp = px;
    if (q->o == 0)
        q->o = q->h = q->l = px;
    if (px > q->h)
        q->h = px;
    if (px < q->l)
        q->l = px;
    q->change = q->ltp - q->c;
    q->last_trade_ns = t;
    if (qty > 0) {
        q->last_qty = qty;
        q->volume += qty;
        slot->pv_sum += px * qty;
        slot->pv_qty += qty;
        q->avg_price = (slot->pv_sum + slot->pv_qty / 2) / slot->pv_qty;
    }
    s_candle (self, slot, t, px, qty);
}

//  Depth around a fair value (rupees): spread by price, lot-multiple sizes.
static void
s_book (struct s_slot *slot, double fair)
{
    struct s_rng *r = &slot->rng;
    struct sim_quote *q = &slot->q;
    int64_t tick = slot->tick;
    int64_t mid = llround (fair * 100.0 / (double) tick);
    double u = s_uniform (r);
    int64_t spread;
    if (fair < 20)
        spread = u < 0.85 ? 1 : 2;
    else if (fair < 100)
        spread = u < 0.6 ? 1 : u < 0.9 ? 2 : 3;
    else if (fair < 300)
        spread = u < 0.45 ? 1 : u < 0.8 ? 2 : u < 0.95 ? 3 : 4;
    else
        spread = u < 0.5 ? 2 : u < 0.8 ? 3 : u < 0.95 ? 4 : 6;
    int64_t bid_t = mid - spread / 2;
    if (bid_t < 1)
        bid_t = 1;
    int64_t ask_t = bid_t + spread;
    int64_t depth_lots = fair < 20 ? 60 : fair < 300 ? 30 : 12;
    int64_t total_bid = 0, total_ask = 0;
    for (int i = 0; i < SIM_DEPTH; i++) {
        int64_t qb = slot->lot * s_range (r, 1, depth_lots + 4 * i);
        int64_t qa = slot->lot * s_range (r, 1, depth_lots + 4 * i);
        if (bid_t - i >= 1) {
            q->bid[i].px = (bid_t - i) * tick;
            q->bid[i].qty = qb;
            q->bid[i].orders = (int) s_range (r, 1, qb / slot->lot < 20 ? qb / slot->lot : 20);
            total_bid += qb;
        } else {
            q->bid[i].px = q->bid[i].qty = 0;
            q->bid[i].orders = 0;
        }
        q->ask[i].px = (ask_t + i) * tick;
        q->ask[i].qty = qa;
        q->ask[i].orders = (int) s_range (r, 1, qa / slot->lot < 20 ? qa / slot->lot : 20);
        total_ask += qa;
    }
    q->buy_qty = total_bid * s_range (r, 8, 40);
    q->sell_qty = total_ask * s_range (r, 8, 40);
}

//  One option update at fair value fair (rupees): a new book, and usually a trade.
static int64_t
s_option_update (sim_market_t *self, struct s_slot *slot, int64_t t, double fair)
{
    struct s_rng *r = &slot->rng;
    bool opening = slot->q.exch_ns == 0;
    s_book (slot, fair);
    slot->q.exch_ns = t;
    int64_t qty = 0;
    //  The last price never lies outside the book: the first update of the day is the
    //  opening trade, and a quote-only update that moves the book past the last price
    //  becomes a trade at the touch nearest it (whoever quoted through it got filled).
    int64_t ltp = slot->q.ltp;
    bool below = slot->q.bid[0].qty > 0 && ltp < slot->q.bid[0].px;
    bool above = ltp > slot->q.ask[0].px;
    bool drawn = s_uniform (r) < 0.8;
    if (drawn || opening || below || above) {
        //  Buyers lift the ask more often when value rose, sellers hit the bid when it fell.
        double p_buy = 0.5;
        if (fair > slot->last_fair)
            p_buy = 0.75;
        else if (fair < slot->last_fair)
            p_buy = 0.25;
        bool buy = s_uniform (r) < p_buy || slot->q.bid[0].qty == 0;
        if (!drawn && !opening)
            buy = above;
        int64_t px = buy ? slot->q.ask[0].px : slot->q.bid[0].px;
        int64_t lots = 1;
        while (lots < 20 && s_uniform (r) < 0.45)
            lots++;
        qty = lots * slot->lot;
        //  Open interest: most trades open new positions early, the mix evens out later.
        int64_t doi = slot->lot * s_range (r, -1, 2);
        if (slot->q.oi + doi >= slot->lot && slot->q.oi + doi < INT32_MAX / 2)
            slot->q.oi += doi;
        if (slot->q.oi > slot->q.oi_day_high)
            slot->q.oi_day_high = slot->q.oi;
        if (slot->q.oi < slot->q.oi_day_low)
            slot->q.oi_day_low = slot->q.oi;
        s_trade (self, slot, t, px, qty);
    }
    slot->last_fair = fair;
    return qty;
}

static void
s_index_print (sim_market_t *self, int64_t t, int64_t px)
{
    struct s_slot *slot = &self->slots[0];
    s_trade (self, slot, t, px, 0);
    slot->q.exch_ns = t;
}

// ---- the index process ---------------------------------------------------------------

static double
s_intraday_vol (const sim_market_t *self, int64_t t)
{
    double since_open = (double) (t - self->open_ns) / 1e9;
    double to_close = (double) (self->close_ns - t) / 1e9;
    return 1.0 + 0.8 * exp (-since_open / 900.0) + 0.4 * exp (-to_close / 1200.0);
}

static void
s_regimes (sim_market_t *self, struct s_rng *r, int64_t t)
{
    struct s_spot *sp = &self->spot;
    if (t >= sp->trend_end) {
        //  A third of the time no trend; otherwise 0.006% a minute typical, either way.
        double per_min = s_uniform (r) < 0.3 ? 0.0 : s_normal (r) * 6e-5;
        sp->mu = per_min / 60.0;
        sp->trend_end = t + (int64_t) ((300.0 + s_expo (r, 1500.0)) * 1e9);
    }
    if (t >= sp->vol_end) {
        double u = s_uniform (r);
        sp->vol = u < 0.2 ? 0.08 : u < 0.6 ? 0.11 : u < 0.9 ? 0.15 : 0.22;
        sp->vol_end = t + (int64_t) ((600.0 + s_expo (r, 2400.0)) * 1e9);
    }
}

//  The index moves to time t; returns the log change.
static double
s_index_step (sim_market_t *self, struct s_rng *r, int64_t t)
{
    struct s_spot *sp = &self->spot;
    double dt = sp->last_ns ? (double) (t - sp->last_ns) / 1e9 : 0.0;
    s_regimes (self, r, t);
    double sd = sp->vol * s_intraday_vol (self, t) * sqrt (dt / S_TRADING_SECS_YEAR);
    double dx = sp->mu * dt + sd * s_normal (r) - S_KAPPA * (sp->x - sp->anchor) * dt;
    double jump_u = s_uniform (r);
    double jump = s_normal (r) * S_JUMP_SD;
    if (jump_u < dt * S_JUMPS_PER_DAY / 22500.0)
        dx += jump;
    sp->x += dx;
    sp->last_ns = t;
    return dx;
}

static void
s_iv_step (struct s_spot *sp, struct s_rng *r, double dt, double dx)
{
    double z = r ? s_normal (r) : 0.0;
    sp->xi = sp->xi * exp (-dt / S_IV_TAU) + S_IV_NU * sqrt (dt) * z - S_IV_LEVERAGE * dx;
    if (sp->xi < -0.7)
        sp->xi = -0.7;
    if (sp->xi > 1.0)
        sp->xi = 1.0;
}

// ---- construction --------------------------------------------------------------------

static void *
s_calloc (size_t n, size_t size)
{
    void *p = calloc (n ? n : 1, size);
    if (!p) {
        fprintf (stderr, "sim_market: out of memory\n");
        abort ();
    }
    return p;
}

static bool
s_is_index_key (const struct sim_replay_tick *rt)
{
    return rt->token == SIM_NIFTY_TOKEN || !strcmp (rt->key, "NIFTY 50");
}

//  Instruments as Kite's CSV, parsed back: kite-sim serves exactly what it trades.
static int
s_build_instruments (sim_market_t *self, char *err, size_t errlen)
{
    size_t cap = (self->count + 1) * 160;
    char *csv = s_calloc (cap, 1);
    size_t pos = (size_t) snprintf (csv, cap, "%s\n", KT_INSTR_CSV_HEADER);
    for (size_t i = 0; i < self->count; i++) {
        struct s_slot *slot = &self->slots[i];
        struct kt_instr in = {
            .token = slot->q.token, .exchange_token = slot->q.token >> 8, .last_price = slot->q.c};
        if (slot->is_index) {
            snprintf (in.sym, sizeof in.sym, "NIFTY 50");
            snprintf (in.name, sizeof in.name, "NIFTY 50");
            snprintf (in.exchange, sizeof in.exchange, "NSE");
            snprintf (in.segment, sizeof in.segment, "INDICES");
            in.itype = KT_ITYPE_EQ; //  as Kite lists indices; not tradable (lot 0)
        } else {
            int64_t strike = llround (slot->strike * 100.0);
            if (sim_market_symbol (self->expiry, strike, slot->call, in.sym, sizeof in.sym)) {
                snprintf (err, errlen, "cannot name strike %lld", (long long) strike);
                free (csv);
                return -1;
            }
            snprintf (in.name, sizeof in.name, "NIFTY");
            snprintf (in.exchange, sizeof in.exchange, "NFO");
            snprintf (in.segment, sizeof in.segment, "NFO-OPT");
            in.itype = slot->call ? KT_ITYPE_CE : KT_ITYPE_PE;
            in.expiry = self->expiry;
            in.strike = strike;
            in.tick = slot->tick;
            in.lot = slot->lot;
        }
        int n = kt_instr_format_row (&in, csv + pos, cap - pos - 1);
        if (n < 0) {
            snprintf (err, errlen, "instrument row %zu does not fit", i);
            free (csv);
            return -1;
        }
        pos += (size_t) n;
        csv[pos++] = '\n';
        csv[pos] = '\0';
    }
    char why[256];
    self->instr = kt_instr_parse (csv, pos, why, sizeof why);
    free (csv);
    if (!self->instr) {
        snprintf (err, errlen, "generated instruments do not parse: %s", why);
        return -1;
    }
    if (kt_instr_count (self->instr) != self->count) {
        snprintf (err, errlen, "generated instruments: %zu rows parsed of %zu",
                  kt_instr_count (self->instr), self->count);
        return -1;
    }
    for (size_t i = 0; i < self->count; i++) {
        if (kt_instr_at (self->instr, i)->token != self->slots[i].q.token) {
            snprintf (err, errlen, "generated instruments out of order at row %zu", i);
            return -1;
        }
    }
    return 0;
}

//  Map every replay row to its slot; mark replayed slots; check volumes.
static int
s_resolve_replay (sim_market_t *self, char *err, size_t errlen)
{
    struct sim_replay *rp = self->replay;
    self->replay_slot = s_calloc (rp->count, sizeof *self->replay_slot);
    int64_t *last_vol = s_calloc (self->count, sizeof *last_vol);
    int rc = -1;
    for (size_t i = 0; i < rp->count; i++) {
        struct sim_replay_tick *rt = &rp->ticks[i];
        int slot = -1;
        if (rt->token)
            slot = sim_market_slot (self, rt->token);
        else {
            const struct kt_instr *in = kt_instr_by_sym (self->instr, NULL, rt->key);
            slot = in ? sim_market_slot (self, in->token) : -1;
        }
        if (slot < 0) {
            snprintf (err, errlen,
                      "line %d: unknown instrument \"%s\" (kite-sim lists NIFTY 50 "
                      "and the %d expiry's strikes around the opening level)",
                      rt->line, rt->key, (int) self->expiry);
            goto out;
        }
        struct s_slot *s = &self->slots[slot];
        if (!rp->bars) {
            if (rt->volume < last_vol[slot]) {
                snprintf (err, errlen, "line %d: cumulative volume %lld of \"%s\" went down",
                          rt->line, (long long) rt->volume, rt->key);
                goto out;
            }
            last_vol[slot] = rt->volume;
        }
        if (!s->is_index)
            rt->ltp = s_quantise ((double) rt->ltp / 100.0, s->tick);
        s->replayed = true;
        s->next_ns = INT64_MAX;
        self->replay_slot[i] = slot;
    }
    rc = 0;
out:
    free (last_vol);
    return rc;
}

sim_market_t *
sim_market_new (const struct sim_market_cfg *cfg, char *err, size_t errlen)
{
    if (cfg->lot < 1 || cfg->lot > 100000) {
        snprintf (err, errlen, "lot %lld out of range", (long long) cfg->lot);
        return NULL;
    }
    if (cfg->strikes_each_side < 1 || cfg->strikes_each_side > SIM_MARKET_MAX_STRIKES) {
        snprintf (err, errlen, "strikes_each_side %d out of range 1..%d", cfg->strikes_each_side,
                  SIM_MARKET_MAX_STRIKES);
        return NULL;
    }
    sim_market_t *self = s_calloc (1, sizeof *self);
    int32_t date = cfg->date;
    if (cfg->replay_path) {
        self->replay = sim_replay_load (cfg->replay_path, err, errlen);
        if (!self->replay)
            goto out_fail;
        if (date == 0)
            date = self->replay->date;
        else if (date != self->replay->date) {
            snprintf (err, errlen, "%s: rows are dated %d but the session date is %d",
                      cfg->replay_path, (int) self->replay->date, (int) date);
            goto out_fail;
        }
    }
    int y, mo, d;
    if (s_split_date (date, &y, &mo, &d) != 0) {
        snprintf (err, errlen, "bad session date %d (YYYYMMDD)", (int) date);
        goto out_fail;
    }
    //  No session on a weekend: a synthetic market opens on the next weekday. A replay
    //  keeps its file's date (recorded data is the truth, special sessions included).
    if (!self->replay) {
        date = sim_market_trading_day (date);
        s_split_date (date, &y, &mo, &d);
    }
    self->date = date;
    self->expiry = sim_market_expiry_for (date);
    self->open_ns = kt_ist_ns (y, mo, d, 9, 15, 0);
    self->close_ns = self->open_ns + S_SESSION_MIN * KT_NS_PER_MIN;
    int ey, em, ed;
    s_split_date (self->expiry, &ey, &em, &ed);
    self->expiry_ns = kt_ist_ns (ey, em, ed, 15, 30, 0);

    //  The index: previous close, opening gap, IV level. In a replay with index rows the
    //  first replayed value is both (no gap).
    int n_strikes = 2 * cfg->strikes_each_side + 1;
    self->count = 1 + 2 * (size_t) n_strikes;
    self->slots = s_calloc (self->count, sizeof *self->slots);
    struct s_slot *ix = &self->slots[0];
    ix->is_index = true;
    ix->tick = S_TICK;
    s_rng_seed (&ix->rng, cfg->seed, date, 0);
    struct s_spot *sp = &self->spot;
    sp->prev_close = S_START_LEVEL * exp ((s_uniform (&ix->rng) - 0.5) * 0.08);
    double open_level = sp->prev_close * exp (s_normal (&ix->rng) * 0.004);
    sp->iv0 = 0.10 + 0.06 * s_uniform (&ix->rng);
    if (self->replay) {
        for (size_t i = 0; i < self->replay->count; i++) {
            if (s_is_index_key (&self->replay->ticks[i])) {
                sp->prev_close = open_level = (double) self->replay->ticks[i].ltp / 100.0;
                break;
            }
        }
    }
    sp->x = sp->anchor = log (open_level);
    ix->q.token = SIM_NIFTY_TOKEN;
    ix->q.c = ix->q.ltp = s_quantise (sp->prev_close, S_TICK);
    ix->next_ns = self->open_ns;

    //  Strikes around the opening level, CE then PE per strike, low strike first. The
    //  previous close is each option's value at 15:30 of the previous weekday (three
    //  calendar days of time value before a Monday), so the open continues from it.
    int64_t atm = llround (open_level / 50.0) * 50;
    int py, pm, pd;
    s_split_date (s_prev_trading_day (date), &py, &pm, &pd);
    double t_prev = s_years_to_expiry (self, kt_ist_ns (py, pm, pd, 15, 30, 0));
    for (int k = 0; k < n_strikes; k++) {
        for (int pe = 0; pe < 2; pe++) {
            struct s_slot *s = &self->slots[1 + 2 * k + pe];
            int64_t strike = atm + (int64_t) (k - cfg->strikes_each_side) * 50;
            s->call = !pe;
            s->strike = (double) strike;
            s->tick = S_TICK;
            s->lot = cfg->lot;
            s_rng_seed (&s->rng, cfg->seed, date, (uint64_t) strike * 2 + (uint64_t) pe);
            uint32_t et = SIM_EXCHANGE_TOKEN_BASE + (uint32_t) (2 * k + pe);
            s->q.token = et << 8 | 2;
            double value = s_option_value (sp, s, sp->prev_close, t_prev);
            s->q.c = s->q.ltp = s_quantise (value, S_TICK);
            s->last_fair = value;
            //  Open interest builds up out of the money, where writers sell.
            double otm = s->call ? (double) (strike - atm) : (double) (atm - strike);
            double weight = otm >= 0 ? exp (-otm / 600.0) : exp (otm / 250.0);
            s->q.oi = s->q.oi_day_high = s->q.oi_day_low =
                cfg->lot * (int64_t) (20000.0 * weight * (0.5 + s_uniform (&s->rng)) + 10);
            s->next_ns = self->open_ns;
        }
    }
    if (s_build_instruments (self, err, errlen) != 0)
        goto out_fail;
    if (self->replay && s_resolve_replay (self, err, errlen) != 0)
        goto out_fail;
    return self;

out_fail:
    sim_market_destroy (&self);
    return NULL;
}

void
sim_market_destroy (sim_market_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_market_t *self = *self_p;
    kt_instr_destroy (&self->instr);
    sim_replay_destroy (&self->replay);
    free (self->replay_slot);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

// ---- access --------------------------------------------------------------------------

const kt_instr_table_t *
sim_market_instruments (const sim_market_t *self)
{
    return self->instr;
}

int32_t
sim_market_date (const sim_market_t *self)
{
    return self->date;
}

int32_t
sim_market_expiry (const sim_market_t *self)
{
    return self->expiry;
}

int64_t
sim_market_open_ns (const sim_market_t *self)
{
    return self->open_ns;
}

int64_t
sim_market_close_ns (const sim_market_t *self)
{
    return self->close_ns;
}

size_t
sim_market_count (const sim_market_t *self)
{
    return self->count;
}

int
sim_market_slot (const sim_market_t *self, uint32_t token)
{
    if (token == SIM_NIFTY_TOKEN)
        return 0;
    if ((token & 0xFF) != 2)
        return -1;
    uint32_t et = token >> 8;
    if (et < SIM_EXCHANGE_TOKEN_BASE || et - SIM_EXCHANGE_TOKEN_BASE >= self->count - 1)
        return -1;
    return (int) (et - SIM_EXCHANGE_TOKEN_BASE) + 1;
}

const struct kt_instr *
sim_market_instr (const sim_market_t *self, int slot)
{
    return kt_instr_at (self->instr, (size_t) slot);
}

const struct sim_quote *
sim_market_quote (const sim_market_t *self, int slot)
{
    return &self->slots[slot].q;
}

int64_t
sim_market_spot (const sim_market_t *self)
{
    return self->slots[0].q.ltp;
}

// ---- the stream ----------------------------------------------------------------------

//  Earliest synthetic slot (lowest slot on ties), or -1.
static int
s_first_slot (const sim_market_t *self)
{
    int best = -1;
    int64_t best_ns = INT64_MAX;
    for (size_t i = 0; i < self->count; i++) {
        if (self->slots[i].next_ns < best_ns) {
            best_ns = self->slots[i].next_ns;
            best = (int) i;
        }
    }
    return best;
}

int64_t
sim_market_next_ns (const sim_market_t *self)
{
    int slot = s_first_slot (self);
    int64_t t = slot < 0 ? INT64_MAX : self->slots[slot].next_ns;
    if (self->replay && self->replay_pos < self->replay->count &&
        self->replay->ticks[self->replay_pos].ts_ns < t)
        t = self->replay->ticks[self->replay_pos].ts_ns;
    return t;
}

//  Next tick of a slot: a minimum gap plus an exponential wait (irregular arrivals).
static void
s_schedule (sim_market_t *self, struct s_slot *slot, int64_t t, double min_s, double mean_s)
{
    int64_t next = t + 1 + (int64_t) ((min_s + s_expo (&slot->rng, mean_s)) * 1e9);
    slot->next_ns = next >= self->close_ns ? INT64_MAX : next;
}

static int64_t
s_synthetic (sim_market_t *self, int idx, int64_t t)
{
    struct s_slot *slot = &self->slots[idx];
    if (slot->is_index) {
        double dt = self->spot.last_ns ? (double) (t - self->spot.last_ns) / 1e9 : 0.0;
        double dx = s_index_step (self, &slot->rng, t);
        s_iv_step (&self->spot, &slot->rng, dt, dx);
        s_index_print (self, t, s_quantise (exp (self->spot.x), S_TICK));
        //  About one index tick a second, as Kite sends them.
        s_schedule (self, slot, t, 0.25, 0.75);
        return 0;
    }
    double s = exp (self->spot.x);
    double t_years = s_years_to_expiry (self, t);
    double fair = s_option_value (&self->spot, slot, s, t_years);
    int64_t qty = s_option_update (self, slot, t, fair);
    //  Near-the-money contracts tick several times a second, the wings every few.
    double atm = self->spot.iv0 * exp (self->spot.xi);
    double z = fabs (s_moneyness (s, slot->strike, t_years, atm));
    double mean = 0.6 * (1.0 + 0.5 * z);
    s_schedule (self, slot, t, 0.05, mean < 0.4 ? 0.4 : mean > 5.0 ? 5.0 : mean);
    return qty;
}

static int64_t
s_replayed (sim_market_t *self, const struct sim_replay_tick *rt, int idx)
{
    struct s_slot *slot = &self->slots[idx];
    int64_t t = rt->ts_ns;
    if (slot->is_index) {
        struct s_spot *sp = &self->spot;
        double dt = sp->last_ns ? (double) (t - sp->last_ns) / 1e9 : 0.0;
        double x = log ((double) rt->ltp / 100.0);
        double dx = sp->last_ns ? x - sp->x : 0.0;
        sp->x = x;
        sp->last_ns = t;
        s_iv_step (sp, NULL, dt, dx);
        s_index_print (self, t, rt->ltp);
        return 0;
    }
    int64_t qty = rt->volume;
    if (!self->replay->bars) {
        qty = rt->volume - slot->last_cum_volume;
        slot->last_cum_volume = rt->volume;
        if (qty < 0)
            qty = 0;
    }
    s_book (slot, (double) rt->ltp / 100.0);
    slot->q.exch_ns = t;
    if (qty > 0)
        s_trade (self, slot, t, rt->ltp, qty);
    else {
        slot->q.ltp = rt->ltp;
        slot->q.change = rt->ltp - slot->q.c;
    }
    slot->last_fair = (double) rt->ltp / 100.0;
    return qty;
}

int
sim_market_step (sim_market_t *self, int64_t *trade_qty)
{
    int idx = s_first_slot (self);
    int64_t t = idx < 0 ? INT64_MAX : self->slots[idx].next_ns;
    if (self->replay && self->replay_pos < self->replay->count &&
        self->replay->ticks[self->replay_pos].ts_ns <= t) {
        size_t i = self->replay_pos++;
        int slot = self->replay_slot[i];
        *trade_qty = s_replayed (self, &self->replay->ticks[i], slot);
        return slot;
    }
    if (idx < 0)
        return -1;
    *trade_qty = s_synthetic (self, idx, t);
    return idx;
}

int
sim_market_candles (const sim_market_t *self, int slot, int64_t from_ns, int64_t to_ns,
                    struct sim_candle *out, int max)
{
    if (slot < 0 || (size_t) slot >= self->count)
        return 0;
    const struct s_slot *s = &self->slots[slot];
    int n = 0;
    for (int m = 0; m < SIM_MARKET_MINUTES && n < max; m++) {
        const struct sim_candle *c = &s->candles[m];
        if (c->start_ns == 0 || c->start_ns < from_ns || c->start_ns > to_ns)
            continue;
        out[n++] = *c;
    }
    return n;
}
