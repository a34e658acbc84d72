/*  risk_prices - last traded price per symbol from `md` (in memory, no heap per tick). */

#ifndef RISK_PRICES_H
#define RISK_PRICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct risk_prices risk_prices_t;

//  A table for up to cap symbols (open addressing; no allocation after new).
risk_prices_t *risk_prices_new (size_t cap);

void risk_prices_destroy (risk_prices_t **self_p);

//  Record a tick. Returns 0, or -1 when the table is full (the symbol is not tracked).
int risk_prices_set (risk_prices_t *self, const char *sym, int64_t px, int64_t ts_ns);

//  Last price and time of sym. Returns false if none.
bool risk_prices_get (const risk_prices_t *self, const char *sym, int64_t *px, int64_t *ts_ns);

#endif
