/*  strat_state - the strat:state snapshot an operator reads: what the strategy sees
 *  (candidates, the entries it wants, its positions, R) and what it did (intents sent,
 *  decisions). Pure: rendered from the core's view, the orders and the counters. */

#include "strat.h"
#include "strat_base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

//  Append to a fixed buffer; a list that does not fit ends with "..." instead of a
//  cut word.
static void
s_append (char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen (buf);
    if (used + 4 >= len || (used >= 3 && strcmp (buf + used - 3, "...") == 0))
        return;
    char item[256];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (item, sizeof item, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    if (used + (size_t) n + 4 >= len) {
        snprintf (buf + used, len - used, "%s...", used ? " " : "");
        return;
    }
    snprintf (buf + used, len - used, "%s%s", used ? " " : "", item);
}

//  "123.45" from paise.
static const char *
s_rs (int64_t paise, char *buf, size_t len)
{
    char sign = paise < 0 ? '-' : '\0';
    int64_t a = paise < 0 ? -paise : paise;
    if (sign)
        snprintf (buf, len, "-%lld.%02lld", (long long) (a / 100), (long long) (a % 100));
    else
        snprintf (buf, len, "%lld.%02lld", (long long) (a / 100), (long long) (a % 100));
    return buf;
}

void
strat_state_render (strat_core_t *core, const kt_instr_table_t *instr, const struct strat_map *m,
                    const struct strat_cfg *cfg, const struct strat_counts *c, int64_t now_ns,
                    struct kt_strat_state_rec *rec)
{
    memset (rec, 0, sizeof *rec);
    snprintf (rec->strategy, sizeof rec->strategy, "%s", cfg->name);
    snprintf (rec->id, sizeof rec->id, "%s", cfg->id);
    rec->last_bar_ns = c->last_bar_ns;
    rec->bars = c->bars;
    rec->ticks = c->ticks;
    rec->intents_sent = c->intents_sent;
    rec->approved = c->approved;
    rec->reduced = c->reduced;
    rec->refused = c->refused;
    rec->timeouts = c->timeouts;
    rec->warm = c->warm;
    snprintf (rec->last_decision, sizeof rec->last_decision, "%s", c->last_decision);
    rec->updated_ns = now_ns;
    snprintf (rec->cum_r, sizeof rec->cum_r, "0.0000");
    snprintf (rec->realised_r, sizeof rec->realised_r, "0.0000");

    char a[32], b[32];
    for (int i = 0; i < STRAT_MAP_ORDERS; i++) {
        const struct strat_map_order *o = &m->ord[i];
        if (!o->order_id)
            continue;
        if (o->working)
            s_append (rec->pending, sizeof rec->pending, "%s %s %lld@%s sl=%s", o->coid, o->sym,
                      (long long) o->qty, s_rs (o->trigger, a, sizeof a),
                      s_rs (o->sl_price, b, sizeof b));
        if (strat_map_open_units (o) > 0)
            s_append (rec->positions, sizeof rec->positions, "%s %s %lld/%lld", o->coid, o->sym,
                      (long long) o->filled, (long long) (o->stop_filled + o->exit_filled));
    }
    if (!core || strcmp (strat_core_name (core), strat_base_algo.name) != 0)
        return;

    const void *st = strat_core_state (core);
    struct strat_base_view v;
    strat_base_view (st, &v);
    rec->day = v.day;
    rec->atm = v.atm;
    rec->universe = v.universe;
    rec->open_ce = v.open[0];
    rec->open_pe = v.open[1];
    rec->flattened = v.flattened;
    bool ok = true;
    strat_rmul_format (strat_base_cum_r (st, &ok), rec->cum_r, sizeof rec->cum_r);
    if (!ok)
        snprintf (rec->cum_r, sizeof rec->cum_r, "overflow");
    strat_rmul_format (v.realised, rec->realised_r, sizeof rec->realised_r);
    for (int t = 0; t < 2; t++) {
        char *best = t == 0 ? rec->best_ce : rec->best_pe;
        size_t blen = t == 0 ? sizeof rec->best_ce : sizeof rec->best_pe;
        const struct strat_map_order *o = strat_map_by_id ((struct strat_map *) m, v.pending[t]);
        if (o)
            snprintf (best, blen, "%s %lld@%s", o->sym, (long long) o->qty,
                      s_rs (o->trigger, a, sizeof a));
    }
    if (!instr || !v.expiry || v.atm <= 0)
        return;
    //  The day's universe by lookup (the instruments file holds the whole exchange).
    const struct strat_params *p = &cfg->p;
    for (int64_t k = -p->strikes_each_side; k <= p->strikes_each_side; k++) {
        for (int t = 0; t < 2; t++) {
            const struct kt_instr *in =
                kt_instr_option (instr, p->underlying, v.expiry, v.atm + k * p->strike_step,
                                 t == 0 ? KT_ITYPE_CE : KT_ITYPE_PE);
            struct strat_base_cand cd;
            if (!in)
                continue;
            strat_base_cand (st, in->token, &cd);
            if (!cd.valid)
                continue;
            rec->candidates++;
            s_append (rec->cands, sizeof rec->cands, "%s %s/%s", in->sym,
                      s_rs (cd.low, a, sizeof a), s_rs (cd.high, b, sizeof b));
        }
    }
}
