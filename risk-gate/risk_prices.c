/*  risk_prices - last traded price and time per symbol, from the `md` TICKs.
 *
 *  Used by the core for STALE_MD, PRICE_BAND, the price of market orders and the
 *  unrealised P&L. Design: one open-addressing table (linear probing, FNV-1a of the
 *  symbol, power-of-two capacity at least twice the symbols expected) allocated once at
 *  new; a tick is one probe and two stores, never an allocation. In memory only: after
 *  a restart, prices come back with the next ticks and, meanwhile, the book's last
 *  marked price (risk:px, written by the poll) values the positions. */

#include <stdlib.h>
#include <string.h>
#include "risk.h"

struct s_slot {
    char sym[KT_SYM_LEN]; //  "" = empty
    int64_t px;
    int64_t ts_ns;
};

struct risk_prices {
    size_t mask;
    size_t used;
    struct s_slot *slots; //  owned
};

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 1099511628211ULL;
    }
    return h;
}

risk_prices_t *
risk_prices_new (size_t cap)
{
    risk_prices_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    size_t n = 16;
    while (n < cap * 2)
        n <<= 1;
    self->slots = calloc (n, sizeof *self->slots);
    if (!self->slots)
        abort ();
    self->mask = n - 1;
    return self;
}

void
risk_prices_destroy (risk_prices_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

static struct s_slot *
s_find (const risk_prices_t *self, const char *sym, bool *found)
{
    size_t i = (size_t) s_hash (sym) & self->mask;
    for (size_t n = 0; n <= self->mask; n++, i = (i + 1) & self->mask) {
        struct s_slot *s = &self->slots[i];
        if (!s->sym[0]) {
            *found = false;
            return s;
        }
        if (strcmp (s->sym, sym) == 0) {
            *found = true;
            return s;
        }
    }
    *found = false;
    return NULL;
}

int
risk_prices_set (risk_prices_t *self, const char *sym, int64_t px, int64_t ts_ns)
{
    if (!sym[0] || strlen (sym) >= KT_SYM_LEN)
        return -1;
    bool found;
    struct s_slot *s = s_find (self, sym, &found);
    if (!s)
        return -1;
    if (!found) {
        if ((self->used + 1) * 2 > self->mask + 1)
            return -1; //  keep probes short: at most half full
        strcpy (s->sym, sym);
        self->used++;
    }
    s->px = px;
    s->ts_ns = ts_ns;
    return 0;
}

bool
risk_prices_get (const risk_prices_t *self, const char *sym, int64_t *px, int64_t *ts_ns)
{
    bool found;
    const struct s_slot *s = s_find (self, sym, &found);
    if (!found)
        return false;
    *px = s->px;
    *ts_ns = s->ts_ns;
    return true;
}
