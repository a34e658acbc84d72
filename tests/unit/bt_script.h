/*  bt_script - the tests' scripted strategy (a struct strat_algo: the interface's second
 *  user) that places the orders it is given at chosen minutes and records what the
 *  engine tells it, and the fixture that runs it through a bar-mode engine over the
 *  NIFTY instruments fixture. Included by the bt_* unit tests, after cmocka.h. */

#ifndef BT_SCRIPT_H
#define BT_SCRIPT_H

#include "../../backtest/bt.h"
#include "../../strategy/strat_base.h"

#define FIXTURE "tests/fixtures/instruments_nifty.csv"
#define IDX 256265u
#define CE 10000041u
#define PE 10000042u
#define NS_MIN (60LL * 1000000000LL)

// ---- the scripted strategy ---------------------------------------------------------

#define S_PLAN 8
#define S_SEEN 32

typedef struct {
    struct strat_intent plan[S_PLAN]; //  emitted at the close whose time is plan[i].ts
    int nplan;
    struct strat_exec seen[S_SEEN];
    int nseen;
} s_script_t;

static __attribute__ ((unused)) size_t
s_script_size (const struct strat_params *p)
{
    (void) p;
    return sizeof (s_script_t);
}

static __attribute__ ((unused)) int
s_script_init (void *state, const struct strat_params *p, const kt_instr_table_t *instr, char *err,
               size_t errlen)
{
    (void) state;
    (void) p;
    (void) instr;
    (void) err;
    (void) errlen;
    return 0;
}

static __attribute__ ((unused)) void
s_script_exec (void *state, const struct strat_exec *ev, struct strat_out *out)
{
    (void) out;
    s_script_t *self = state;
    if (self->nseen < S_SEEN)
        self->seen[self->nseen++] = *ev;
}

static __attribute__ ((unused)) void
s_script_timer (void *state, int64_t now, struct strat_out *out)
{
    s_script_t *self = state;
    for (int i = 0; i < self->nplan; i++)
        if (self->plan[i].ts == now)
            *strat_out_push (out) = self->plan[i];
}

static const struct strat_algo s_script_algo = {
    .name = "script",
    .size = s_script_size,
    .init = s_script_init,
    .on_exec = s_script_exec,
    .on_timer = s_script_timer,
};

// ---- fixture -------------------------------------------------------------------------

struct fx {
    kt_instr_table_t *instr;
    struct strat_params p;
    strat_core_t *core;
    bt_engine_t *eng;
    s_script_t *script;
    int64_t t0;
};

static __attribute__ ((unused)) void
s_setup (struct fx *fx, const struct strat_algo *algo, bt_risk_fn *risk, void *arg)
{
    char err[256];
    memset (fx, 0, sizeof *fx);
    fx->instr = kt_instr_load (FIXTURE, err, sizeof err);
    assert_non_null (fx->instr);
    strat_params_defaults (&fx->p);
    fx->core = strat_core_new_algo (algo, &fx->p, fx->instr, err, sizeof err);
    assert_non_null (fx->core);
    fx->script = algo == &s_script_algo ? strat_core_state (fx->core) : NULL;
    fx->eng = bt_engine_new (fx->core, fx->instr, risk, arg);
    fx->t0 = kt_ist_ns (2026, 11, 23, 9, 15, 0);
}

static __attribute__ ((unused)) void
s_teardown (struct fx *fx)
{
    bt_engine_destroy (&fx->eng);
    strat_core_destroy (&fx->core);
    kt_instr_destroy (&fx->instr);
}

//  Minute i: the index and, when o > 0, one bar of token with volume v.
static __attribute__ ((unused)) void
s_min_v (struct fx *fx, int i, uint32_t token, int64_t o, int64_t h, int64_t l, int64_t c,
         int64_t v)
{
    int64_t ts = fx->t0 + i * NS_MIN;
    struct strat_bar b[2] = {{IDX, ts, 2401000, 2401000, 2401000, 2401000, 0},
                             {token, ts, o, h, l, c, v}};
    assert_int_equal (bt_engine_minute (fx->eng, b, o > 0 ? 2 : 1), 0);
}

static __attribute__ ((unused)) void
s_min (struct fx *fx, int i, uint32_t token, int64_t o, int64_t h, int64_t l, int64_t c)
{
    s_min_v (fx, i, token, o, h, l, c, 0);
}

//  Plan a SELL SL entry decided at the close of minute i (live from i + 1).
static __attribute__ ((unused)) void
s_plan_entry (struct fx *fx, int i, strat_ikind_t kind, uint32_t id, int64_t trigger, int64_t limit,
              int64_t qty, int64_t sl)
{
    struct strat_intent *in = &fx->script->plan[fx->script->nplan++];
    memset (in, 0, sizeof *in);
    *in = (struct strat_intent){.kind = kind,
                                .why = STRAT_WHY_BEST,
                                .order_id = id,
                                .token = CE,
                                .itype = KT_ITYPE_CE,
                                .side = KT_SIDE_SELL,
                                .order_type = KT_OT_SL,
                                .qty = qty,
                                .trigger = trigger,
                                .price = limit,
                                .sl_price = sl,
                                .stop_price = sl + 10,
                                .swing_low = trigger + 5,
                                .ts = fx->t0 + (i + 1) * NS_MIN};
}

static __attribute__ ((unused)) void
s_plan (struct fx *fx, int i, strat_ikind_t kind, strat_why_t why)
{
    struct strat_intent *in = &fx->script->plan[fx->script->nplan++];
    memset (in, 0, sizeof *in);
    in->kind = kind;
    in->why = why;
    in->ts = fx->t0 + (i + 1) * NS_MIN;
}

static __attribute__ ((unused)) const struct bt_trade *
s_trade (struct fx *fx, size_t want)
{
    size_t n;
    const struct bt_trade *t = bt_engine_trades (fx->eng, &n);
    assert_int_equal (n, want);
    return want ? &t[want - 1] : NULL;
}

#endif
