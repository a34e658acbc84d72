/*  strat_probe - the smallest strategy: one entry on every probe_every-th tick.
 *
 *  Used by tests and by latency measurements (a known intent at a known tick), and as
 *  the example of what a second strategy needs: this file and a line in strat_core.c's
 *  registry; `strategy.name: "probe"` selects it. Each entry is a BUY LIMIT of one lot
 *  at the tick's price with an attached stop 20 ticks below. */

#include "strat_core.h"

#include <stdio.h>

typedef struct {
    const struct strat_params *p;  //  borrowed
    const kt_instr_table_t *instr; //  borrowed
    int64_t ticks;
    uint32_t next_id;
} s_self_t;

static size_t
s_size (const struct strat_params *p)
{
    (void) p;
    return sizeof (s_self_t);
}

static int
s_init (void *state, const struct strat_params *p, const kt_instr_table_t *instr, char *err,
        size_t errlen)
{
    s_self_t *self = state;
    if (p->probe_every < 0) {
        snprintf (err, errlen, "strategy.probe_every: must be >= 0");
        return -1;
    }
    self->p = p;
    self->instr = instr;
    return 0;
}

static void
s_on_tick (void *state, const struct strat_tick *tick, struct strat_out *out)
{
    s_self_t *self = state;
    self->ticks++;
    if (self->p->probe_every <= 0 || self->ticks % self->p->probe_every != 0)
        return;
    const struct kt_instr *in = kt_instr_by_token (self->instr, tick->token);
    if (!in || in->lot <= 0 || in->tick <= 0 || tick->ltp <= 20 * in->tick)
        return;
    struct strat_intent *it = strat_out_push (out);
    if (!it)
        return;
    it->kind = STRAT_I_PLACE;
    it->why = STRAT_WHY_PROBE;
    it->order_id = ++self->next_id;
    it->token = in->token;
    it->itype = in->itype;
    it->side = KT_SIDE_BUY;
    it->order_type = KT_OT_LIMIT;
    it->qty = in->lot;
    it->price = tick->ltp;
    it->sl_price = tick->ltp - 20 * in->tick;
    it->stop_price = it->sl_price;
    it->r_value = 20 * in->tick * in->lot;
    it->ts = tick->ts;
}

const struct strat_algo strat_probe_algo = {
    .name = "probe",
    .size = s_size,
    .init = s_init,
    .on_bar = NULL,
    .on_tick = s_on_tick,
    .on_exec = NULL,
    .on_timer = NULL,
};
