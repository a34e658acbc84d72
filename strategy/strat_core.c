/*  strat_core - the registry of strategies and the dispatch to the chosen one.
 *
 *  Adding a strategy: one file defining a struct strat_algo, one line in s_algos. The
 *  instance is one allocation (header + the algorithm's state) made at start-up. */

#include "strat_core.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

static const struct strat_algo *const s_algos[] = {&strat_base_algo, &strat_probe_algo, NULL};

struct strat_core {
    const struct strat_algo *algo; //  borrowed (static)
    void *state;                   //  owned, part of this allocation
};

struct strat_intent *
strat_out_push (struct strat_out *out)
{
    if (out->n >= STRAT_OUT_MAX) {
        out->overflow = true;
        return NULL;
    }
    struct strat_intent *in = &out->v[out->n++];
    memset (in, 0, sizeof *in);
    return in;
}

const struct strat_algo *
strat_core_find (const char *name)
{
    for (int i = 0; name && s_algos[i]; i++)
        if (strcmp (s_algos[i]->name, name) == 0)
            return s_algos[i];
    return NULL;
}

strat_core_t *
strat_core_new (const char *name, const struct strat_params *p, const kt_instr_table_t *instr,
                char *err, size_t errlen)
{
    const struct strat_algo *algo = strat_core_find (name);
    if (!algo) {
        snprintf (err, errlen, "strategy.name: unknown strategy \"%s\"", name ? name : "");
        return NULL;
    }
    return strat_core_new_algo (algo, p, instr, err, errlen);
}

strat_core_t *
strat_core_new_algo (const struct strat_algo *algo, const struct strat_params *p,
                     const kt_instr_table_t *instr, char *err, size_t errlen)
{
    size_t size = algo->size (p);
    strat_core_t *self = calloc (1, sizeof *self + size + 16);
    if (!self)
        abort ();
    self->algo = algo;
    self->state = (char *) self + ((sizeof *self + 15) & ~(size_t) 15);
    if (algo->init (self->state, p, instr, err, errlen) != 0) {
        free (self);
        return NULL;
    }
    return self;
}

void
strat_core_destroy (strat_core_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

const char *
strat_core_name (const strat_core_t *self)
{
    return self->algo->name;
}

void *
strat_core_state (strat_core_t *self)
{
    return self->state;
}

void
strat_core_bar (strat_core_t *self, const struct strat_bar *bar, struct strat_out *out)
{
    if (self->algo->on_bar)
        self->algo->on_bar (self->state, bar, out);
}

void
strat_core_tick (strat_core_t *self, const struct strat_tick *tick, struct strat_out *out)
{
    if (self->algo->on_tick)
        self->algo->on_tick (self->state, tick, out);
}

void
strat_core_exec (strat_core_t *self, const struct strat_exec *ev, struct strat_out *out)
{
    if (self->algo->on_exec)
        self->algo->on_exec (self->state, ev, out);
}

void
strat_core_timer (strat_core_t *self, int64_t now, struct strat_out *out)
{
    if (self->algo->on_timer)
        self->algo->on_timer (self->state, now, out);
}

int
strat_hhmm_minutes (const char *hhmm)
{
    int hh, mm;
    if (kt_ist_parse_hhmm (hhmm, &hh, &mm) != 0)
        return -1;
    return hh * 60 + mm;
}

const char *
strat_why_str (strat_why_t why)
{
    static const char *const names[] = {"NONE",  "BEST",   "REPLACED",   "NO_CANDIDATE",
                                        "LIMIT", "CUTOFF", "TARGET_DAY", "LOSS_DAY",
                                        "TIME",  "PROBE"};
    return (unsigned) why < sizeof names / sizeof names[0] ? names[why] : "?";
}

const char *
strat_ikind_str (strat_ikind_t kind)
{
    static const char *const names[] = {"NONE", "PLACE", "MODIFY", "CANCEL", "FLATTEN"};
    return (unsigned) kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}
