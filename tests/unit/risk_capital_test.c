/*  risk_capital_test - a decision against a real redis-server.
 *
 *  The account rules at their boundaries, run through the whole decision: each row
 *  writes an account into Redis, reads it back (the snapshot), decides one intent (C
 *  rules, then the commit) and checks the verdict, the code and the quantity, that the
 *  pure check (risk_check_intent) on the account as written answers the same, and that
 *  the view the decision updated in place is what a fresh snapshot reads. A snapshot
 *  reads back exactly what was written. The commit is atomic: what an approval adds
 *  (slots, capital, rate windows, the intent record, the events entry), what a refusal
 *  does not add, and a decision on an account that changed meanwhile is decided again. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../risk-gate/risk.h"
#include "kt_teststore.h"

#define LAKH (100000LL * 100)
#define RS(x) ((int64_t) (x) *100)
#define SYM_CE "NIFTY25NOV24000CE"
#define SYM_PE "NIFTY25NOV24000PE"

static const char s_csv[] = KT_INSTR_CSV_HEADER
    "\n"
    "1001,1,NIFTY25NOV24000CE,NIFTY,100,2025-11-27,24000,0.05,75,CE,NFO-OPT,NFO\n"
    "1002,2,NIFTY25NOV24000PE,NIFTY,100,2025-11-27,24000,0.05,75,PE,NFO-OPT,NFO\n";

struct c {
    struct risk_cfg cfg;
    struct risk_view view;
    struct kt_intent in;
    int64_t now;
    int64_t unreal;
};

static struct {
    kt_teststore_t ts;  //  redis-server, store, peek
    kt_store_t *store;  //  = ts.store
    redisContext *peek; //  = ts.peek
    struct risk_scripts ids;
    kt_instr_table_t *instr;
    struct risk_view back;
    struct risk_view work; //  the view a decision runs on (as a core holds it)
    struct risk_tx tx;
} F;

#define s_cmd(...) assert_int_equal (kt_teststore_cmd (&F.ts, __VA_ARGS__), 0)

static const char *
s_it (kt_itype_t t)
{
    return t == KT_ITYPE_CE ? "CE" : t == KT_ITYPE_PE ? "PE" : "OTHER";
}

static void
s_list (const char *key, const int64_t *ts, int n)
{
    for (int i = 0; i < n; i++)
        s_cmd ("RPUSH %s %lld", key, (long long) ts[i]);
}

//  A row describes the account as the rules see it (positions with their pending
//  entries and exit cover, reserved, deployed, realised P&L, losing streak); this turns
//  it into what Redis holds (the book's positions, open exits and counters, risk-gate's
//  held orders and roll values), so that risk_view_derive gives the row's figures back.
static void
s_raw (struct risk_view *v)
{
    int64_t reserved = v->reserved, deployed = v->deployed;
    v->book_realised = v->realised_total;
    v->day_start_realised = v->realised_total - v->realised_day;
    v->week_start_realised = v->realised_total - v->realised_week;
    v->book_trades_closed = v->book_losing_streak = v->consec_losses;
    v->day_start_trades_closed = v->day_start_losing_streak = 0;
    for (int i = 0; i < v->nord; i++) {
        struct risk_order *o = &v->ord[i];
        o->rec_resv = o->resv;
        o->rec_pending = o->pending;
        o->rec_filled = o->filled;
    }
    v->nbpos = v->nbord = 0;
    int nord = v->nord;
    for (int i = 0; i < v->npos; i++) {
        const struct risk_pos *p = &v->pos[i];
        if (p->qty != 0)
            v->bpos[v->nbpos++] = *p;
        int64_t pend = p->pending, cover = p->exiting;
        for (int j = 0; j < nord; j++) {
            const struct risk_order *o = &v->ord[j];
            if (strcmp (o->sym, p->sym) != 0)
                continue;
            pend -= o->pending;
            if (o->kind == RISK_KIND_EXIT)
                cover -= o->oqty - o->filled;
        }
        for (int k = 0; k < pend; k++) {
            struct risk_order *o = &v->ord[v->nord++];
            memset (o, 0, sizeof *o);
            snprintf (o->coid, sizeof o->coid, "P%d-%d", i, k);
            memcpy (o->sym, p->sym, sizeof o->sym);
            o->itype = p->itype;
            o->side = KT_SIDE_SELL;
            o->kind = RISK_KIND_ENTRY;
            o->oqty = 75;
            o->rec_pending = true;
        }
        if (cover > 0) {
            struct risk_book_ord *b = &v->bord[v->nbord++];
            memset (b, 0, sizeof *b);
            snprintf (b->coid, sizeof b->coid, "X%d", i);
            memcpy (b->sym, p->sym, sizeof b->sym);
            b->side = p->qty > 0 ? KT_SIDE_SELL : KT_SIDE_BUY;
            b->qty = cover;
        }
    }
    risk_view_derive (v);
    if (reserved > v->reserved) {
        struct risk_order *o = &v->ord[v->nord++];
        memset (o, 0, sizeof *o);
        snprintf (o->coid, sizeof o->coid, "RSV");
        snprintf (o->sym, sizeof o->sym, "RSVCE");
        o->itype = KT_ITYPE_CE;
        o->side = KT_SIDE_SELL;
        o->kind = RISK_KIND_ENTRY;
        o->oqty = 1;
        o->rec_resv = reserved - v->reserved;
    }
    if (deployed > v->deployed) {
        struct risk_pos *p = &v->bpos[v->nbpos++];
        memset (p, 0, sizeof *p);
        snprintf (p->sym, sizeof p->sym, "DEPLOYEDFUT");
        p->itype = KT_ITYPE_FUT;
        p->qty = 1;
        p->basis = deployed - v->deployed;
    }
    risk_view_derive (v);
    assert_int_equal (v->reserved, reserved);
    //  positions deploy their premium or margin: at least what the row asked for
    assert_true (v->deployed >= deployed);
}

//  Write a view into Redis the way the book and risk-gate keep it.
static void
s_put_view (const struct risk_view *v)
{
    s_cmd ("FLUSHALL");
    s_cmd ("HSET kt:risk:state state %s reason %s scope %s session_ok %d day %d "
           "day_start_equity %lld week_start_equity %lld day_start_unrealised %lld "
           "week_start_unrealised %lld day_start_realised %lld week_start_realised %lld "
           "day_start_trades_closed %lld day_start_losing_streak %lld peak_equity %lld "
           "trades_day %lld last_entry_ns %lld halt_seq %lld",
           v->state == KT_STATE_NONE ? "" : kt_state_str (v->state), "test",
           v->day_scoped ? "day" : "", v->session_ok ? 1 : 0, v->day,
           (long long) v->day_start_equity, (long long) v->week_start_equity,
           (long long) v->day_start_unrealised, (long long) v->week_start_unrealised,
           (long long) v->day_start_realised, (long long) v->week_start_realised,
           (long long) v->day_start_trades_closed, (long long) v->day_start_losing_streak,
           (long long) v->peak_equity, (long long) v->trades_day, (long long) v->last_entry_ns,
           (long long) v->halt_seq);
    if (v->state == KT_STATE_NONE)
        s_cmd ("HDEL kt:risk:state state");
    s_cmd ("HSET kt:capital initial %lld", (long long) v->initial);
    s_cmd ("HSET kt:book ver 7 realised %lld trades_closed %lld losing_streak %lld",
           (long long) v->book_realised, (long long) v->book_trades_closed,
           (long long) v->book_losing_streak);
    s_cmd ("HSET kt:risk:kill active %d reason %s", v->kill ? 1 : 0,
           v->kill_reason[0] ? v->kill_reason : "-");
    for (int i = 0; i < v->nbpos; i++) {
        const struct risk_pos *p = &v->bpos[i];
        s_cmd ("HSET kt:pos:%s sym %s qty %lld open_value %lld realised %lld trade_realised %lld",
               p->sym, p->sym, (long long) p->qty, (long long) p->basis, (long long) p->realised,
               (long long) p->trade_pnl);
        s_cmd ("SADD kt:positions %s", p->sym);
        if (p->last_px)
            s_cmd ("HSET kt:risk:px %s %lld", p->sym, (long long) p->last_px);
    }
    for (int i = 0; i < v->nbord; i++) {
        const struct risk_book_ord *b = &v->bord[i];
        s_cmd ("HSET kt:order:%s coid %s sym %s side %s purpose EXIT qty %lld filled_qty %lld "
               "status OPEN",
               b->coid, b->coid, b->sym, kt_side_str (b->side), (long long) b->qty,
               (long long) b->filled);
        s_cmd ("SADD kt:orders:open %s", b->coid);
    }
    for (int i = 0; i < v->nord; i++) {
        const struct risk_order *o = &v->ord[i];
        s_cmd ("HSET kt:intent:%s coid %s sym %s itype %s side %s kind %s oqty %lld filled %lld "
               "unit_cost %lld resv %lld pending %d answered %d unresolved %d sent_ns %lld "
               "verdict APPROVE status open",
               o->coid, o->coid, o->sym, s_it (o->itype), kt_side_str (o->side),
               risk_kind_str (o->kind), (long long) o->oqty, (long long) o->rec_filled,
               (long long) o->unit_cost, (long long) o->rec_resv, o->rec_pending, o->answered,
               o->unresolved, (long long) o->sent_ns);
        s_cmd ("SADD kt:risk:open %s", o->coid);
    }
    s_list ("kt:risk:ts:orders", v->orders_ts, v->norders_ts);
    s_list ("kt:risk:ts:modifies", v->modifies_ts, v->nmodifies_ts);
    s_list ("kt:risk:ts:entries", v->entries_ts, v->nentries_ts);
    s_list ("kt:risk:ts:rejects", v->rejects_ts, v->nrejects_ts);
    for (int m = 0; m < RISK_MINUTES; m++) {
        if (v->has_mark[m])
            s_cmd ("HSET kt:risk:marks %d %lld", m, (long long) v->mark[m]);
    }
}

static int64_t
s_at (int hh, int mm, int ss)
{
    return kt_ist_ns (2025, 11, 24, hh, mm, ss);
}

static void
s_base (struct c *c)
{
    memset (c, 0, sizeof *c);
    assert_int_equal (risk_cfg_defaults (&c->cfg), 0);
    struct risk_view *v = &c->view;
    v->loaded = true;
    v->state = KT_STATE_ACTIVE;
    v->session_ok = true;
    v->initial = 10 * LAKH;
    v->day_start_equity = v->week_start_equity = v->peak_equity = 10 * LAKH;
    v->day = 20251124;
    c->now = s_at (10, 0, 0);
    struct kt_intent *in = &c->in;
    snprintf (in->intent_id, sizeof in->intent_id, "C-0001");
    snprintf (in->sym, sizeof in->sym, SYM_CE);
    in->side = KT_SIDE_BUY;
    in->qty = 75;
    in->order_type = KT_OT_LIMIT;
    in->price = RS (100);
    in->product = KT_PROD_MIS;
    in->purpose = KT_PURPOSE_ENTRY;
    in->has_stop = true;
    in->stop_trigger = RS (90);
}

static struct risk_pos *
s_pos (struct c *c, const char *sym, kt_itype_t it, int64_t qty, int64_t pending)
{
    struct risk_pos *p = &c->view.pos[c->view.npos++];
    memset (p, 0, sizeof *p);
    snprintf (p->sym, sizeof p->sym, "%s", sym);
    p->itype = it;
    p->qty = qty;
    p->basis = (qty < 0 ? -qty : qty) * RS (100);
    p->pending = pending;
    return p;
}

static void
s_exit (struct c *c, kt_side_t side, int64_t qty)
{
    c->in.purpose = KT_PURPOSE_EXIT;
    c->in.side = side;
    c->in.qty = qty;
    c->in.has_stop = false;
}

static void
s_ts (int64_t *ts, int *n, int count, int64_t newest, int64_t step)
{
    for (int i = 0; i < count; i++)
        ts[i] = newest - i * step;
    *n = count;
}

static void
s_open_entry (struct c *c, int64_t resv)
{
    struct risk_order *o = &c->view.ord[c->view.nord++];
    memset (o, 0, sizeof *o);
    snprintf (o->coid, sizeof o->coid, "C-0000");
    snprintf (o->sym, sizeof o->sym, SYM_CE);
    o->itype = KT_ITYPE_CE;
    o->side = KT_SIDE_BUY;
    o->kind = RISK_KIND_ENTRY;
    o->oqty = 75;
    o->unit_cost = RS (100);
    o->resv = resv;
    o->pending = true;
    c->view.reserved = resv;
    s_pos (c, SYM_CE, KT_ITYPE_CE, 0, 1);
    c->view.units_total = c->view.units_ce = 1;
    c->in.purpose = KT_PURPOSE_MODIFY;
    snprintf (c->in.ref, sizeof c->in.ref, "C-0000");
}

//  A long position of pos units with an open exit C-0000 (SELL oqty, filled) risk-gate
//  holds, other open exits covering `others` more; the intent modifies C-0000.
static void
s_open_exit (struct c *c, int64_t pos, int64_t oqty, int64_t filled, int64_t others)
{
    struct risk_order *o = &c->view.ord[c->view.nord++];
    memset (o, 0, sizeof *o);
    snprintf (o->coid, sizeof o->coid, "C-0000");
    snprintf (o->sym, sizeof o->sym, SYM_CE);
    o->itype = KT_ITYPE_CE;
    o->side = KT_SIDE_SELL;
    o->kind = RISK_KIND_EXIT;
    o->oqty = oqty;
    o->filled = filled;
    s_pos (c, SYM_CE, KT_ITYPE_CE, pos, 0)->exiting = oqty - filled + others;
    c->view.units_total = c->view.units_ce = 1;
    c->in.purpose = KT_PURPOSE_MODIFY;
    c->in.side = KT_SIDE_SELL;
    c->in.has_stop = false;
    snprintf (c->in.ref, sizeof c->in.ref, "C-0000");
}

#define ROW(name) static void name (struct c *c)

ROW (base)
{
    (void) c;
}
ROW (kill)
{
    c->view.kill = true;
    snprintf (c->view.kill_reason, sizeof c->view.kill_reason, "op");
}
ROW (reducing)
{
    c->view.state = KT_STATE_REDUCING;
}
ROW (halted)
{
    c->view.state = KT_STATE_HALTED;
}
ROW (no_state)
{
    c->view.state = KT_STATE_NONE;
}
ROW (session)
{
    c->view.session_ok = false;
}
ROW (day_under)
{
    c->view.realised_day = -(3 * LAKH / 10) + 1;
}
ROW (day_at)
{
    c->view.realised_day = -(3 * LAKH / 10);
}
ROW (day_unreal)
{
    c->view.realised_day = -(1 * LAKH / 10);
    c->unreal = -(2 * LAKH / 10);
}
ROW (day_carried)
{
    c->view.day_start_unrealised = -(2 * LAKH / 10);
    c->unreal = -(5 * LAKH / 10) + 1;
}
ROW (week_under)
{
    c->view.realised_week = -(6 * LAKH / 10) + 1;
}
ROW (week_at)
{
    c->view.realised_week = -(6 * LAKH / 10);
}
ROW (hour_under)
{
    c->cfg.max_daily_loss_bps = 0;
    int m = risk_pnl_minute (c->now);
    c->view.has_mark[m - 60] = true;
    c->view.mark[m - 60] = RS (10000);
    c->view.realised_day = RS (10000) - (5 * LAKH / 10) + 1;
}
ROW (hour_at)
{
    hour_under (c);
    c->view.realised_day -= 1;
}
ROW (hour_later)
{
    c->cfg.max_daily_loss_bps = 0;
    int m = risk_pnl_minute (c->now);
    c->view.has_mark[m - 30] = true;
    c->view.mark[m - 30] = RS (10000);
    c->view.realised_day = RS (10000) - (5 * LAKH / 10);
}
ROW (hour_older)
{
    c->cfg.max_daily_loss_bps = 0;
    int m = risk_pnl_minute (c->now);
    c->view.has_mark[m - 61] = true;
    c->view.mark[m - 61] = RS (10000);
    c->view.realised_day = RS (10000) - (5 * LAKH / 10);
}
ROW (dd_at)
{
    c->cfg.max_daily_loss_bps = 0;
    c->cfg.max_weekly_loss_bps = 0;
    c->view.realised_total = -(15 * LAKH / 10);
    c->cfg.margin_buffer = 0;
}
ROW (dd_over)
{
    dd_at (c);
    c->view.realised_total -= 1;
}
ROW (dd_peak)
{
    c->cfg.margin_buffer = 0;
    c->view.peak_equity = 20 * LAKH;
}
ROW (consec_4)
{
    c->view.consec_losses = 4;
}
ROW (consec_5)
{
    c->view.consec_losses = 5;
}
ROW (rej_4)
{
    s_ts (c->view.rejects_ts, &c->view.nrejects_ts, 4, c->now, KT_NS_PER_SEC);
}
ROW (rej_5)
{
    s_ts (c->view.rejects_ts, &c->view.nrejects_ts, 5, c->now, KT_NS_PER_SEC);
}
ROW (rej_out)
{
    s_ts (c->view.rejects_ts, &c->view.nrejects_ts, 5, c->now - 596 * KT_NS_PER_SEC, KT_NS_PER_SEC);
}
ROW (trades_39)
{
    c->view.trades_day = 39;
}
ROW (trades_40)
{
    c->view.trades_day = 40;
}
ROW (hourly_4)
{
    s_ts (c->view.entries_ts, &c->view.nentries_ts, 4, c->now - KT_NS_PER_MIN, KT_NS_PER_MIN);
}
ROW (hourly_5)
{
    s_ts (c->view.entries_ts, &c->view.nentries_ts, 5, c->now - KT_NS_PER_MIN, KT_NS_PER_MIN);
}
ROW (hourly_out)
{
    s_ts (c->view.entries_ts, &c->view.nentries_ts, 5,
          c->now - 3600 * KT_NS_PER_SEC + 4 * KT_NS_PER_MIN, KT_NS_PER_MIN);
}
ROW (spacing_at)
{
    c->cfg.min_spacing_s = 60;
    c->view.last_entry_ns = c->now - 60 * KT_NS_PER_SEC;
}
ROW (spacing_under)
{
    spacing_at (c);
    c->view.last_entry_ns += 1;
}
ROW (rate_9)
{
    s_ts (c->view.orders_ts, &c->view.norders_ts, 9, c->now, 1000000);
}
ROW (rate_10)
{
    s_ts (c->view.orders_ts, &c->view.norders_ts, 10, c->now, 1000000);
}
ROW (rate_out)
{
    s_ts (c->view.orders_ts, &c->view.norders_ts, 10, c->now - KT_NS_PER_SEC + 9, 1);
}
//  n open positions of option type it, on symbols of their own.
static void
s_open (struct c *c, kt_itype_t it, int n)
{
    for (int i = 0; i < n; i++) {
        char sym[32];
        snprintf (sym, sizeof sym, "OPEN%d%s", c->view.npos, it == KT_ITYPE_CE ? "CE" : "PE");
        s_pos (c, sym, it, -75, 0);
    }
}
ROW (pos_4)
{
    s_open (c, KT_ITYPE_CE, 2);
    s_open (c, KT_ITYPE_PE, 2);
}
ROW (pos_5)
{
    s_open (c, KT_ITYPE_CE, 2);
    s_open (c, KT_ITYPE_PE, 3);
}
ROW (ce_2)
{
    s_open (c, KT_ITYPE_CE, 2);
}
ROW (ce_3)
{
    s_open (c, KT_ITYPE_CE, 3);
}
ROW (pe_3)
{
    s_open (c, KT_ITYPE_PE, 3);
}
ROW (pe_pending)
{
    s_pos (c, "PEND1PE", KT_ITYPE_PE, 0, 1);
}
ROW (ce_pending)
{
    s_pos (c, "PEND1CE", KT_ITYPE_CE, 0, 1);
}
ROW (sym_pending)
{
    c->cfg.max_pending_per_type = 2;
    s_pos (c, SYM_CE, KT_ITYPE_CE, 0, 1);
}
ROW (sym_open)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0); //  a long; the entry adds to it
}
ROW (deploy_at)
{
    c->cfg.margin_buffer = 0;
    c->view.reserved = 80 * LAKH / 10 - 75 * RS (100) - RS (1000);
    c->view.deployed = RS (1000);
}
ROW (deploy_over)
{
    deploy_at (c);
    c->view.deployed += 1;
}
ROW (deploy_lot)
{
    deploy_at (c);
    c->in.qty = 150;
}
ROW (deploy_unreal)
{
    deploy_at (c);
    c->unreal = -1;
}
ROW (buffer_at)
{
    c->cfg.max_deploy_bps = 10000;
    c->cfg.margin_buffer = RS (50000);
    c->view.reserved = 10 * LAKH - RS (50000) - 75 * RS (100);
}
ROW (buffer_over)
{
    buffer_at (c);
    c->view.reserved += 1;
}
ROW (exit_ok)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_SELL, 75);
}
ROW (exit_over)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_SELL, 150);
}
ROW (exit_side)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 75, 0);
    s_exit (c, KT_SIDE_BUY, 75);
}
ROW (exit_flat)
{
    s_exit (c, KT_SIDE_SELL, 75);
}
ROW (exit_covered)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, 150, 0)->exiting = 150;
    s_exit (c, KT_SIDE_SELL, 75);
}
ROW (exit_half)
{
    s_pos (c, SYM_CE, KT_ITYPE_CE, -150, 0)->exiting = 75;
    s_exit (c, KT_SIDE_BUY, 150);
}
ROW (exit_all_bad)
{
    exit_ok (c);
    c->view.state = KT_STATE_HALTED;
    c->view.kill = true;
    c->view.realised_day = -(5 * LAKH);
    c->view.session_ok = false;
    rate_10 (c);
    c->view.units_total = 99;
    c->view.consec_losses = 9;
}
ROW (cancel_bad)
{
    c->in.purpose = KT_PURPOSE_CANCEL;
    snprintf (c->in.ref, sizeof c->in.ref, "C-0000");
    c->view.state = KT_STATE_HALTED;
    c->view.kill = true;
}
ROW (mod_ok)
{
    s_open_entry (c, 75 * RS (100));
    c->in.qty = 150;
}
ROW (mod_state)
{
    mod_ok (c);
    c->view.state = KT_STATE_REDUCING;
}
ROW (mod_rate)
{
    mod_ok (c);
    s_ts (c->view.modifies_ts, &c->view.nmodifies_ts, 5, c->now, 1000);
}
ROW (mod_deploy)
{
    mod_ok (c);
    c->cfg.margin_buffer = 0;
    c->view.deployed = 80 * LAKH / 10 - 150 * RS (100) + 1;
}
ROW (mod_down)
{
    mod_ok (c);
    c->in.qty = 75;
    c->view.state = KT_STATE_ACTIVE;
    c->cfg.margin_buffer = 20 * LAKH;
}
ROW (modx_down)
{
    s_open_exit (c, 150, 150, 0, 0);
    c->in.qty = 75;
}
ROW (modx_up)
{
    s_open_exit (c, 150, 75, 0, 0);
    c->in.qty = 150;
}
ROW (modx_flip)
{
    s_open_exit (c, 150, 75, 0, 0);
    c->in.qty = 300;
}
ROW (modx_others)
{
    s_open_exit (c, 225, 75, 0, 75);
    c->in.qty = 225;
}
ROW (modx_partial)
{
    s_open_exit (c, 75, 150, 75, 0);
    c->in.qty = 300;
}
ROW (modx_covered)
{
    s_open_exit (c, 150, 75, 0, 75);
    c->in.qty = 150;
}
ROW (modx_halted)
{
    modx_flip (c);
    c->view.state = KT_STATE_HALTED;
    c->view.kill = true;
}
ROW (mod_stop)
{
    c->in.purpose = KT_PURPOSE_MODIFY;
    snprintf (c->in.ref, sizeof c->in.ref, "C-9s");
    c->in.order_type = KT_OT_SL;
    c->in.trigger = RS (110);
    c->in.price = RS (111);
    c->view.state = KT_STATE_HALTED;
}

struct row {
    const char *name;
    void (*fn) (struct c *c);
    kt_verdict_t verdict;
    kt_reason_t code;
    int64_t qty;
};

#define A KT_VERDICT_APPROVE
#define RD KT_VERDICT_REDUCE
#define B KT_VERDICT_BLOCK
#define H KT_VERDICT_HALT

static const struct row s_rows[] = {
    {"base", base, A, KT_OK, 75},
    {"kill switch", kill, H, KT_R_KILL, 0},
    {"REDUCING", reducing, B, KT_R_STATE, 0},
    {"HALTED", halted, B, KT_R_STATE, 0},
    {"no state", no_state, B, KT_R_STATE, 0},
    {"session", session, B, KT_R_SESSION, 0},
    {"day loss 1 paise inside", day_under, A, KT_OK, 75},
    {"day loss at max", day_at, H, KT_R_DAILY_LOSS, 0},
    {"day loss with unrealised", day_unreal, H, KT_R_DAILY_LOSS, 0},
    {"carried unrealised not counted twice", day_carried, A, KT_OK, 75},
    {"week loss 1 paise inside", week_under, A, KT_OK, 75},
    {"week loss at max", week_at, H, KT_R_WEEKLY_LOSS, 0},
    {"hour loss 1 paise inside", hour_under, A, KT_OK, 75},
    {"hour loss at max", hour_at, H, KT_R_HOURLY_LOSS, 0},
    {"hour base: later mark", hour_later, H, KT_R_HOURLY_LOSS, 0},
    {"hour base: a mark 61 min ago does not count", hour_older, A, KT_OK, 75},
    {"drawdown at max", dd_at, A, KT_OK, 75},
    {"drawdown 1 paise over", dd_over, H, KT_R_DRAWDOWN, 0},
    {"drawdown from a higher peak", dd_peak, H, KT_R_DRAWDOWN, 0},
    {"4 losses", consec_4, A, KT_OK, 75},
    {"5 losses", consec_5, H, KT_R_CONSEC_LOSS, 0},
    {"4 rejections", rej_4, A, KT_OK, 75},
    {"5 rejections", rej_5, H, KT_R_REJECTS, 0},
    {"5 rejections, oldest out", rej_out, A, KT_OK, 75},
    {"39 entries", trades_39, A, KT_OK, 75},
    {"40 entries", trades_40, B, KT_R_TRADES_DAY, 0},
    {"4 this hour", hourly_4, A, KT_OK, 75},
    {"5 this hour", hourly_5, B, KT_R_TRADES_HOUR, 0},
    {"5 this hour, oldest out", hourly_out, A, KT_OK, 75},
    {"spacing at min", spacing_at, A, KT_OK, 75},
    {"spacing 1 ns short", spacing_under, B, KT_R_SPACING, 0},
    {"9 orders this second", rate_9, A, KT_OK, 75},
    {"10 orders this second", rate_10, B, KT_R_ORDER_RATE, 0},
    {"10 orders, oldest out", rate_out, A, KT_OK, 75},
    {"4 positions", pos_4, A, KT_OK, 75},
    {"5 positions", pos_5, B, KT_R_MAX_POS, 0},
    {"2 CE", ce_2, A, KT_OK, 75},
    {"3 CE", ce_3, B, KT_R_MAX_POS, 0},
    {"3 PE, entry CE", pe_3, A, KT_OK, 75},
    {"a pending PE, entry CE", pe_pending, A, KT_OK, 75},
    {"a pending CE, entry CE", ce_pending, B, KT_R_MAX_POS, 0},
    {"symbol pending", sym_pending, B, KT_R_MAX_POS, 0},
    {"symbol open: a fresh entry", sym_open, A, KT_OK, 75},
    {"deploy at 80%", deploy_at, A, KT_OK, 75},
    {"deploy 1 paise over", deploy_over, B, KT_R_DEPLOY, 0},
    {"deploy 1 lot over", deploy_lot, B, KT_R_DEPLOY, 0},
    {"deploy: unrealised lowers equity", deploy_unreal, B, KT_R_DEPLOY, 0},
    {"buffer at", buffer_at, A, KT_OK, 75},
    {"buffer 1 paise short", buffer_over, B, KT_R_MARGIN_BUFFER, 0},
    {"exit", exit_ok, A, KT_OK, 75},
    {"exit 1 lot over", exit_over, RD, KT_R_BAD_INTENT, 75},
    {"exit adding", exit_side, B, KT_R_BAD_INTENT, 0},
    {"exit flat", exit_flat, B, KT_R_BAD_INTENT, 0},
    {"exit covered", exit_covered, B, KT_R_BAD_INTENT, 0},
    {"exit half covered (short)", exit_half, RD, KT_R_BAD_INTENT, 75},
    {"exit through everything", exit_all_bad, A, KT_OK, 75},
    {"cancel halted killed", cancel_bad, A, KT_OK, -1},
    {"modify entry", mod_ok, A, KT_OK, 150},
    {"modify entry REDUCING", mod_state, B, KT_R_STATE, 0},
    {"modify rate", mod_rate, B, KT_R_ORDER_RATE, 0},
    {"modify over deploy", mod_deploy, B, KT_R_DEPLOY, 0},
    {"modify down adds nothing", mod_down, A, KT_OK, 75},
    {"modify stop halted", mod_stop, A, KT_OK, 75},
    {"modify exit down", modx_down, A, KT_OK, 75},
    {"modify exit up to the position", modx_up, A, KT_OK, 150},
    {"modify exit past the position", modx_flip, RD, KT_R_BAD_INTENT, 150},
    {"modify exit past other exits", modx_others, RD, KT_R_BAD_INTENT, 150},
    {"modify part-filled exit", modx_partial, RD, KT_R_BAD_INTENT, 150},
    {"modify exit, rest covered", modx_covered, RD, KT_R_BAD_INTENT, 75},
    {"modify exit halted killed", modx_halted, RD, KT_R_BAD_INTENT, 150},
};

static bool
s_has (const struct kt_decision *d, kt_reason_t code)
{
    for (int i = 0; i < d->nreasons; i++) {
        if (strcmp (d->reasons[i].code, kt_reason_str (code)) == 0)
            return true;
    }
    return false;
}

//  The view a decision updated in place must be what Redis holds after it.
static void
s_assert_view_is_redis (const struct risk_view *x)
{
    char why[200];
    assert_int_equal (risk_capital_snapshot (F.store, &F.ids, &F.back, why, sizeof why), 0);
    const struct risk_view *y = &F.back;
    assert_int_equal (x->version, y->version);
    assert_int_equal (x->state, y->state);
    assert_string_equal (x->reason, y->reason);
    assert_int_equal (x->halt_seq, y->halt_seq);
    assert_int_equal (x->reserved, y->reserved);
    assert_int_equal (x->deployed, y->deployed);
    assert_int_equal (x->units_total, y->units_total);
    assert_int_equal (x->units_ce, y->units_ce);
    assert_int_equal (x->units_pe, y->units_pe);
    assert_int_equal (x->trades_day, y->trades_day);
    assert_int_equal (x->last_entry_ns, y->last_entry_ns);
    assert_int_equal (x->norders_ts, y->norders_ts);
    assert_int_equal (x->nmodifies_ts, y->nmodifies_ts);
    assert_int_equal (x->nentries_ts, y->nentries_ts);
    assert_memory_equal (x->orders_ts, y->orders_ts, sizeof (int64_t) * (size_t) x->norders_ts);
    assert_memory_equal (x->entries_ts, y->entries_ts, sizeof (int64_t) * (size_t) x->nentries_ts);
    assert_int_equal (x->npos, y->npos);
    for (int i = 0; i < x->npos; i++) {
        const struct risk_pos *a = &x->pos[i], *b = risk_view_pos (y, a->sym);
        assert_non_null (b);
        assert_int_equal (a->qty, b->qty);
        assert_int_equal (a->pending, b->pending);
        assert_int_equal (a->exiting, b->exiting);
        assert_int_equal (a->itype, b->itype);
    }
    assert_int_equal (x->nord, y->nord);
    for (int i = 0; i < x->nord; i++) {
        const struct risk_order *a = &x->ord[i], *b = risk_view_order (y, a->coid);
        assert_non_null (b);
        assert_string_equal (a->sym, b->sym);
        assert_int_equal (a->kind, b->kind);
        assert_int_equal (a->oqty, b->oqty);
        assert_int_equal (a->resv, b->resv);
        assert_int_equal (a->unit_cost, b->unit_cost);
        assert_int_equal (a->pending, b->pending);
        assert_int_equal (a->side, b->side);
        assert_int_equal (a->decided_ns, b->decided_ns);
    }
}

//  Decide c on the view read from Redis (as a core does); also the pure check on the
//  account as written. Returns the commit's code.
static int
s_decide_on (struct c *c, struct risk_view *view, struct risk_decided *out,
             struct risk_result *twin)
{
    const struct kt_instr *ins = kt_instr_by_sym (F.instr, NULL, c->in.sym);
    struct risk_market mkt = {ins, true, RS (100), c->now - KT_NS_PER_SEC};
    int64_t eq = risk_pnl_equity (view, c->unreal);
    struct risk_result as_entry, as_reduce;
    risk_kind_t k = risk_check_kind (view, &c->in);
    if (c->in.purpose == KT_PURPOSE_MODIFY) {
        risk_check_local (&c->cfg, &c->in, RISK_KIND_MODIFY_ENTRY, &mkt, c->now, eq, &as_entry);
        risk_check_local (&c->cfg, &c->in, RISK_KIND_MODIFY, &mkt, c->now, eq, &as_reduce);
    } else {
        risk_check_local (&c->cfg, &c->in, k, &mkt, c->now, eq, &as_entry);
        as_reduce = as_entry;
    }
    struct risk_decide_req req = {&c->in,    c->in.intent_id, ins ? ins->itype : KT_ITYPE_OTHER,
                                  &as_entry, &as_reduce,      c->now,
                                  c->unreal, "test"};
    if (twin)
        risk_check_intent (view, &c->cfg, &c->in, &mkt, c->now, c->unreal, twin);
    char why[200];
    int rc =
        risk_capital_decide (F.store, &F.ids, &c->cfg, &req, view, &F.tx, out, why, sizeof why);
    if (rc != 0)
        fprintf (stderr, "decide: %s\n", why);
    return rc;
}

static void
s_decide (struct c *c, struct risk_decided *out, struct risk_result *twin)
{
    char why[200];
    assert_int_equal (risk_capital_snapshot (F.store, &F.ids, &F.work, why, sizeof why), 0);
    assert_int_equal (s_decide_on (c, &F.work, out, twin), 0);
    s_assert_view_is_redis (&F.work);
}

static void
test_rows_decided (void **state)
{
    (void) state;
    static struct c c;
    int failed = 0;
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++) {
        const struct row *row = &s_rows[i];
        s_base (&c);
        row->fn (&c);
        s_raw (&c.view);
        s_put_view (&c.view);
        struct risk_decided lua;
        struct risk_result twin;
        s_decide (&c, &lua, &twin);
        struct risk_result written;
        {
            const struct kt_instr *ins = kt_instr_by_sym (F.instr, NULL, c.in.sym);
            struct risk_market mkt = {ins, true, RS (100), c.now - KT_NS_PER_SEC};
            risk_check_intent (&c.view, &c.cfg, &c.in, &mkt, c.now, c.unreal, &written);
        }
        struct kt_decision d;
        risk_reply_decision (&c.in, &lua, &d);
        bool ok = lua.verdict == row->verdict &&
                  (row->code == KT_OK ? lua.nreasons == 0 : s_has (&d, row->code)) &&
                  (row->qty < 0 || lua.qty == row->qty) && twin.verdict == lua.verdict &&
                  twin.qty == lua.qty && twin.nreasons == lua.nreasons &&
                  written.verdict == lua.verdict && written.qty == lua.qty &&
                  written.nreasons == lua.nreasons;
        for (int r = 0; ok && r < lua.nreasons; r++)
            ok = twin.reasons[r].code == lua.reasons[r].code;
        if (!ok) {
            failed++;
            fprintf (stderr, "row '%s': decided %s %lld, pure check %s %lld\n", row->name,
                     kt_verdict_str (lua.verdict), (long long) lua.qty,
                     kt_verdict_str (twin.verdict), (long long) twin.qty);
            for (int r = 0; r < lua.nreasons; r++)
                fprintf (stderr, "   Lua %s: %s\n", kt_reason_str (lua.reasons[r].code),
                         lua.reasons[r].text);
            for (int r = 0; r < twin.nreasons; r++)
                fprintf (stderr, "   C   %s: %s\n", kt_reason_str (twin.reasons[r].code),
                         twin.reasons[r].text);
        }
    }
    assert_int_equal (failed, 0);
}

//  What is written is what a snapshot reads back (the restart guarantee in small).
static void
test_snapshot_round_trip (void **state)
{
    (void) state;
    static struct c c;
    s_base (&c);
    hour_later (&c);
    rej_4 (&c);
    hourly_4 (&c);
    rate_9 (&c);
    mod_rate (&c);
    c.view.consec_losses = 2;
    c.view.realised_total = -12345;
    c.view.halt_seq = 3;
    c.view.pos[0].exiting = 0;
    c.view.pos[0].last_px = 10105;
    c.view.pos[0].last_px_ns = c.now - 7;
    s_pos (&c, SYM_PE, KT_ITYPE_PE, -150, 0)->realised = -777;
    s_raw (&c.view);
    s_put_view (&c.view);
    char why[200];
    assert_int_equal (risk_capital_snapshot (F.store, &F.ids, &F.back, why, sizeof why), 0);
    const struct risk_view *x = &c.view, *y = &F.back;
    assert_int_equal (y->state, x->state);
    assert_int_equal (y->day, x->day);
    assert_int_equal (y->initial, x->initial);
    assert_int_equal (y->realised_total, x->realised_total);
    assert_int_equal (y->reserved, x->reserved);
    assert_int_equal (y->consec_losses, x->consec_losses);
    assert_int_equal (y->halt_seq, x->halt_seq);
    assert_int_equal (y->nrejects_ts, x->nrejects_ts);
    assert_memory_equal (y->rejects_ts, x->rejects_ts, sizeof (int64_t) * 4);
    assert_memory_equal (y->entries_ts, x->entries_ts, sizeof (int64_t) * 4);
    assert_memory_equal (y->modifies_ts, x->modifies_ts, sizeof (int64_t) * 5);
    assert_memory_equal (y->has_mark, x->has_mark, sizeof x->has_mark);
    assert_memory_equal (y->mark, x->mark, sizeof x->mark);
    assert_int_equal (y->npos, 2);
    assert_int_equal (y->nord, 1);
    for (int i = 0; i < x->npos; i++) {
        const struct risk_pos *p = risk_view_pos (y, x->pos[i].sym);
        assert_non_null (p);
        assert_memory_equal (p, &x->pos[i], sizeof *p);
    }
    const struct risk_order *o = risk_view_order (y, "C-0000");
    assert_non_null (o);
    assert_memory_equal (o, &x->ord[0], sizeof *o);
}

static int64_t
s_hget (const char *key, const char *field)
{
    return kt_teststore_hget_i64 (&F.ts, key, field);
}

static int64_t
s_int (const char *fmt, const char *arg)
{
    return kt_teststore_int (&F.ts, fmt, arg);
}

//  An approval writes everything in one script; a refusal only its record.
static void
test_reservation_effects (void **state)
{
    (void) state;
    static struct c c;
    s_base (&c);
    s_raw (&c.view);
    s_put_view (&c.view);
    struct risk_decided lua;
    struct risk_result twin;
    s_decide (&c, &lua, &twin);
    assert_int_equal (lua.verdict, KT_VERDICT_APPROVE);
    assert_string_equal (lua.coid, "C-0001");
    //  the reservation and the slot are the held record (derived by every reader)
    assert_int_equal (F.back.reserved, 75 * RS (100));
    assert_int_equal (F.back.units_total, 1);
    assert_int_equal (F.back.units_ce, 1);
    assert_int_equal (risk_view_pos (&F.back, SYM_CE)->pending, 1);
    assert_int_equal (s_hget ("kt:risk:state", "trades_day"), 0); //  counted at its first fill
    assert_int_equal (s_hget ("kt:risk:state", "last_entry_ns"), c.now);
    assert_int_equal (s_int ("EXISTS %s", "kt:pos:" SYM_CE), 0); //  the book is exec-gateway's
    assert_int_equal (s_hget ("kt:intent:C-0001", "resv"), 75 * RS (100));
    //  not sent yet: risk-gate marks it when it sends the command (risk_capital_mark_sent)
    assert_int_equal (s_int ("HEXISTS kt:intent:C-0001 %s", "sent_ns"), 0);
    assert_int_equal (s_hget ("kt:intent:C-0001", "ts_ns"), c.now);
    assert_int_equal (s_int ("SISMEMBER kt:risk:open %s", "C-0001"), 1);
    assert_int_equal (s_int ("LLEN %s", "kt:risk:ts:orders"), 1);
    assert_int_equal (s_int ("LLEN %s", "kt:risk:ts:entries"), 0); //  filled entries only
    //  the decision's events entry is written after the reply (risk_core_test)
    assert_int_equal (s_int ("XLEN %s", "kt:events"), 0);
    assert_int_equal (s_int ("TTL %s", "kt:intent:C-0001"), -1); //  open: kept

    //  The same id again: the stored decision, nothing added.
    s_decide (&c, &lua, &twin);
    assert_true (lua.duplicate);
    assert_int_equal (lua.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (F.work.reserved, 75 * RS (100));
    assert_int_equal (s_int ("LLEN %s", "kt:risk:ts:orders"), 1);

    //  A refusal: recorded (with a TTL), nothing reserved, no rate stamp.
    snprintf (c.in.intent_id, sizeof c.in.intent_id, "C-0002");
    s_decide (&c, &lua, &twin);
    assert_int_equal (lua.verdict, KT_VERDICT_BLOCK);
    assert_string_equal (lua.coid, "");
    assert_int_equal (F.back.reserved, 75 * RS (100));
    assert_int_equal (s_int ("LLEN %s", "kt:risk:ts:orders"), 1);
    assert_true (s_int ("TTL %s", "kt:intent:C-0002") > 0);
    assert_int_equal (s_int ("XLEN %s", "kt:events"), 0);

    //  A HALT switches the state in the same script.
    snprintf (c.in.intent_id, sizeof c.in.intent_id, "C-0003");
    snprintf (c.in.sym, sizeof c.in.sym, SYM_PE);
    s_cmd ("HSET kt:risk:kill active 1 reason %s", "test");
    s_decide (&c, &lua, &twin);
    assert_int_equal (lua.verdict, KT_VERDICT_HALT);
    assert_true (lua.halted_now);
    assert_int_equal (lua.state, KT_STATE_HALTED);
    assert_int_equal (s_hget ("kt:risk:state", "halt_seq"), 1);
    snprintf (c.in.intent_id, sizeof c.in.intent_id, "C-0004");
    s_decide (&c, &lua, &twin);
    assert_false (lua.halted_now); //  already halted: once
}

//  A modified exit grows the cover only by what it was allowed to grow.
static void
test_modify_exit_effects (void **state)
{
    (void) state;
    static struct c c;
    s_base (&c);
    modx_flip (&c);
    s_raw (&c.view);
    s_put_view (&c.view);
    struct risk_decided lua;
    struct risk_result twin;
    s_decide (&c, &lua, &twin);
    assert_int_equal (lua.verdict, KT_VERDICT_REDUCE);
    assert_int_equal (lua.qty, 150);
    assert_int_equal (s_hget ("kt:intent:C-0000", "oqty"), 150);
    assert_int_equal (risk_view_pos (&F.back, SYM_CE)->exiting, 150);
}

//  Two instances: one decides on a view read before the other's approval. The commit
//  must not apply on the old account: the view is refreshed and the rules run again,
//  so the last slot is taken once. A kill switch set by hand (no version change) is
//  honoured the same way.
static void
test_stale_view_decided_again (void **state)
{
    (void) state;
    static struct c c;
    static struct risk_view old, other;
    s_base (&c);
    s_raw (&c.view);
    s_put_view (&c.view);
    char why[200];
    assert_int_equal (risk_capital_snapshot (F.store, &F.ids, &old, why, sizeof why), 0);
    assert_int_equal (risk_capital_snapshot (F.store, &F.ids, &other, why, sizeof why), 0);
    struct risk_decided d;
    assert_int_equal (s_decide_on (&c, &other, &d, NULL), 0);
    assert_int_equal (d.verdict, KT_VERDICT_APPROVE);
    assert_true (other.version > old.version);

    snprintf (c.in.intent_id, sizeof c.in.intent_id, "C-0002");
    struct risk_result on_old;
    assert_int_equal (s_decide_on (&c, &old, &d, &on_old), 0);
    assert_int_equal (on_old.verdict, KT_VERDICT_APPROVE); //  what the old view says
    assert_int_equal (d.verdict, KT_VERDICT_BLOCK);        //  what the account says
    assert_int_equal (d.reasons[0].code, KT_R_MAX_POS);
    assert_int_equal (old.reserved, 75 * RS (100));
    s_assert_view_is_redis (&old);

    //  The kill switch by hand, after the view was read: the entry HALTs.
    s_cmd ("HSET kt:risk:kill active 1 reason %s", "by hand");
    snprintf (c.in.intent_id, sizeof c.in.intent_id, "C-0003");
    snprintf (c.in.sym, sizeof c.in.sym, SYM_PE);
    assert_false (old.kill);
    assert_int_equal (s_decide_on (&c, &old, &d, NULL), 0);
    assert_int_equal (d.verdict, KT_VERDICT_HALT);
    assert_true (d.halted_now);
    assert_true (old.kill);
    s_assert_view_is_redis (&old);
}

//  The record keeps each reason in fields of its own: a text with '|' and ',' (a kill
//  reason typed by an operator) comes back exactly, codes and texts aligned, in the
//  duplicate answer and in redis-cli.
static void
test_record_reasons_exact (void **state)
{
    (void) state;
    static struct c c;
    s_base (&c);
    s_raw (&c.view);
    s_put_view (&c.view);
    s_cmd ("HSET kt:risk:kill active 1 reason %s", "desk | broker, outage");
    struct risk_decided d;
    s_decide (&c, &d, NULL);
    assert_int_equal (d.verdict, KT_VERDICT_HALT);
    s_decide (&c, &d, NULL);
    assert_true (d.duplicate);
    assert_int_equal (d.reasons[0].code, KT_R_KILL);
    assert_string_equal (d.reasons[0].text, "kill switch: desk | broker, outage");
    char key[64], b[160];
    snprintf (key, sizeof key, "kt:intent:%s", c.in.intent_id);
    assert_string_equal (kt_teststore_hget (&F.ts, key, "code1", b, sizeof b), "KILL");
    assert_string_equal (kt_teststore_hget (&F.ts, key, "text1", b, sizeof b),
                         "kill switch: desk | broker, outage");
    assert_int_equal (s_hget (key, "nreasons"), d.nreasons);
    assert_int_equal (s_hget (key, "price"), c.in.price);
    assert_string_equal (kt_teststore_hget (&F.ts, key, "order_type", b, sizeof b), "LIMIT");
}

static int
s_setup (void **state)
{
    (void) state;
    if (kt_teststore_start (&F.ts, "risk_capital_test", 1000) != 0)
        return -1;
    F.store = F.ts.store;
    F.peek = F.ts.peek;
    if (risk_capital_register (F.store, &F.ids) != 0)
        return -1;
    char err[200];
    F.instr = kt_instr_parse (s_csv, strlen (s_csv), err, sizeof err);
    return F.instr ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    kt_instr_destroy (&F.instr);
    kt_teststore_stop (&F.ts);
    return 0;
}

//  Every field risk-gate writes is declared (common/kt_risk.c): a commit that writes one
//  its key's declaration lacks refuses to run, and nothing is written.
static void
test_undeclared_field_refused (void **state)
{
    (void) state;
    s_cmd ("FLUSHALL");
    risk_tx_begin (&F.tx, "kt:", RISK_TX_ANY, -1, NULL);
    risk_tx_key (&F.tx, "HSET", &kt_key_risk_state, NULL);
    risk_tx_pair (&F.tx, "state", "ACTIVE");
    risk_tx_pair (&F.tx, "recon_ok_ns", "1");
    char why[200] = "";
    assert_int_equal (risk_tx_commit (F.store, &F.ids, &F.tx, &F.back, NULL, why, sizeof why),
                      RISK_TX_FAIL);
    assert_non_null (strstr (why, "field recon_ok_ns not declared"));
    assert_int_equal (s_int ("EXISTS %s", "kt:risk:state"), 0);
    //  the same without it is applied
    risk_tx_begin (&F.tx, "kt:", RISK_TX_ANY, -1, NULL);
    risk_tx_key (&F.tx, "HSET", &kt_key_risk_state, NULL);
    risk_tx_pair (&F.tx, "state", "ACTIVE");
    assert_int_equal (risk_tx_commit (F.store, &F.ids, &F.tx, &F.back, NULL, why, sizeof why),
                      RISK_TX_OK);
    assert_int_equal (s_int ("EXISTS %s", "kt:risk:state"), 1);
}

//  A record of a layout sends only its values; the script writes them under the
//  layout's names. Out of order or short, the commit refuses to run and writes nothing;
//  a layout naming a field its key lacks makes no script at all.
static const char *const s_lay_fields[] = {"verdict", "qty"};
static const struct risk_tx_layout s_lay = {1, &kt_key_risk_intent, s_lay_fields, 2};

static void
test_record_layout (void **state)
{
    (void) state;
    s_cmd ("FLUSHALL");
    char why[200] = "";
    const struct risk_tx_layout *const one[] = {&s_lay};
    char *lua = risk_tx_script (one, 1, why, sizeof why);
    assert_non_null (lua);
    assert_non_null (strstr (lua, "'verdict', ARGV[i + 3], 'qty', ARGV[i + 4]"));
    free (lua);
    static const char *const bad_fields[] = {"verdict", "qty_typo"};
    const struct risk_tx_layout bad = {1, &kt_key_risk_intent, bad_fields, 2};
    const struct risk_tx_layout *const two[] = {&bad};
    assert_null (risk_tx_script (two, 1, why, sizeof why));
    assert_non_null (strstr (why, "qty_typo not declared"));

    //  the registered script's layouts are the decision's (risk_reserve_layouts): a
    //  field out of order, then one missing
    const char *first[] = {"qty", "verdict"};
    const char *expect[] = {"field qty out of its record's order (verdict next)",
                            "field qty missing from its record"};
    for (int c = 0; c < 2; c++) {
        risk_tx_begin (&F.tx, "kt:", RISK_TX_ANY, -1, NULL);
        risk_tx_record (&F.tx, risk_reserve_layouts[1], "L1");
        risk_tx_pair (&F.tx, first[c], "5");
        assert_int_equal (risk_tx_commit (F.store, &F.ids, &F.tx, &F.back, NULL, why, sizeof why),
                          RISK_TX_FAIL);
        assert_non_null (strstr (why, expect[c]));
    }
    assert_int_equal (s_int ("EXISTS %s", "kt:intent:L1"), 0);

    //  whole, with a pair after the layout's fields
    const struct risk_tx_layout *L = risk_reserve_layouts[1];
    risk_tx_begin (&F.tx, "kt:", RISK_TX_ANY, -1, NULL);
    risk_tx_record (&F.tx, L, "L1");
    for (int i = 0; i < L->n; i++)
        risk_tx_pair_i64 (&F.tx, L->fields[i], 100 + i);
    risk_tx_pair (&F.tx, "code1", "SPACING");
    assert_int_equal (risk_tx_commit (F.store, &F.ids, &F.tx, &F.back, NULL, why, sizeof why),
                      RISK_TX_OK);
    for (int i = 0; i < L->n; i++)
        assert_int_equal (s_hget ("kt:intent:L1", L->fields[i]), 100 + i);
    assert_int_equal (s_int ("HLEN %s", "kt:intent:L1"), L->n + 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_rows_decided),
        cmocka_unit_test (test_snapshot_round_trip),
        cmocka_unit_test (test_reservation_effects),
        cmocka_unit_test (test_modify_exit_effects),
        cmocka_unit_test (test_stale_view_decided_again),
        cmocka_unit_test (test_record_reasons_exact),
        cmocka_unit_test (test_undeclared_field_refused),
        cmocka_unit_test (test_record_layout),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
