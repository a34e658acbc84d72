/*  bt_ticks - the tick CSV of tick mode (docs/backtest.md "Tick file"): one row per
 *  quote, checked, handed out one at a time with the fill model's view of it.
 *
 *  Columns: timestamp (fractions of a second allowed), instrument_token, last_price,
 *  last_quantity (units of the trade this row prints, 0 for a quote-only update), and
 *  optionally one level of depth: bid_price, bid_quantity, ask_price, ask_quantity.
 *  Rows are in time order. Every problem is "FILE:LINE: reason". */

#include "bt.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_cols[] = {"timestamp", "instrument_token", "last_price", "last_quantity",
                                     "bid_price", "bid_quantity",     "ask_price",  "ask_quantity"};
#define S_NCOLS 8
#define S_REQUIRED 4

struct bt_ticks {
    bt_csv_t *csv;                 //  owned
    const kt_instr_table_t *instr; //  borrowed
    int64_t prev_ts;
    struct kt_fill_quote q; //  the quote of the last row (bt_tick.q points here)
};

bt_ticks_t *
bt_ticks_open (const char *path, const kt_instr_table_t *instr, char *err, size_t errlen)
{
    bt_csv_t *csv = bt_csv_open (path, s_cols, S_NCOLS, S_REQUIRED, err, errlen);
    if (!csv)
        return NULL;
    bt_ticks_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->csv = csv;
    self->instr = instr;
    return self;
}

void
bt_ticks_destroy (bt_ticks_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bt_csv_destroy (&(*self_p)->csv);
    free (*self_p);
    *self_p = NULL;
}

const bt_csv_t *
bt_ticks_csv (const bt_ticks_t *self)
{
    return self->csv;
}

//  Optional depth level: price column pi and quantity column qi, both or neither.
static int
s_level (bt_ticks_t *self, int pi, int qi, const struct kt_instr *in, struct kt_fill_level *lv,
         char *err, size_t errlen)
{
    size_t pn, qn;
    const char *p = bt_csv_field (self->csv, pi, &pn);
    const char *q = bt_csv_field (self->csv, qi, &qn);
    memset (lv, 0, sizeof *lv);
    if ((!p || pn == 0) && (!q || qn == 0))
        return 0; //  no level on this side
    uint64_t qty;
    if (!p || !q || bt_csv_uint (q, qn, 18, &qty) != 0)
        return bt_csv_fail (self->csv, err, errlen, "%s: not a whole number of units (with %s)",
                            s_cols[qi], s_cols[pi]);
    if (bt_csv_price (self->csv, pi, s_cols[pi], in, &lv->px, err, errlen) != 0)
        return -1;
    lv->qty = (int64_t) qty;
    return 0;
}

int
bt_ticks_next (bt_ticks_t *self, struct bt_tick *out, char *err, size_t errlen)
{
    int rc = bt_csv_next (self->csv, err, errlen);
    if (rc <= 0)
        return rc;
    memset (out, 0, sizeof *out);
    size_t n;
    const char *f = bt_csv_field (self->csv, 0, &n);
    const char *why;
    if (bt_parse_ts (f, n, false, &out->ts, &why) != 0)
        return bt_csv_fail (self->csv, err, errlen, "%s", why);
    if (out->ts < self->prev_ts)
        return bt_csv_fail (self->csv, err, errlen, "rows not sorted by timestamp");
    self->prev_ts = out->ts;
    const struct kt_instr *in;
    if (bt_csv_token (self->csv, 1, self->instr, &in, err, errlen) != 0)
        return -1;
    out->token = in->token;
    if (bt_csv_price (self->csv, 2, s_cols[2], in, &out->ltp, err, errlen) != 0)
        return -1;
    f = bt_csv_field (self->csv, 3, &n);
    uint64_t qty;
    if (bt_csv_uint (f, n, 18, &qty) != 0)
        return bt_csv_fail (self->csv, err, errlen, "last_quantity: not a whole number");
    out->qty = (int64_t) qty;
    //  An index has no trades; each of its rows is a move of its value.
    out->trade = out->qty > 0 || in->lot == 0;
    memset (&self->q, 0, sizeof self->q);
    self->q.ltp = out->ltp;
    self->q.trade_qty = out->qty;
    self->q.tick = in->tick;
    if (s_level (self, 4, 5, in, &self->q.bid[0], err, errlen) != 0 ||
        s_level (self, 6, 7, in, &self->q.ask[0], err, errlen) != 0)
        return -1;
    out->q = &self->q;
    return 1;
}
