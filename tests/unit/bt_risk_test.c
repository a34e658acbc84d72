/*  bt_risk_test - --risk on through the bar-mode engine: the in-memory account follows
 *  the book (reservation on the decision, position and deployed margin on the fill,
 *  realised P&L and consecutive losses on the stop, everything released at the end),
 *  the same trades as --risk off when no limit binds, and each limit that binds changing
 *  the run with its code: MAX_POS, ORDER_RATE by the data's time, MAX_LOTS (REDUCE),
 *  STALE_MD by the bars' time, a HALT (CONSEC_LOSS) that refuses entries until the next
 *  day's roll, DAILY_LOSS from the breakers at a minute's close (with and without
 *  flatten_on_halt); and over synthetic days, an account that balances to the trades. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bt_script.h"
#include "../../risk-gate/risk.h"

struct rfx {
    struct fx fx;
    struct bt_cfg cfg;
    bt_risk_t *risk;
};

//  The engine with --risk on under the backtest's default limits, changed by edit.
static void
s_rsetup (struct rfx *r, void (*edit) (struct risk_cfg *))
{
    bt_cfg_defaults (&r->cfg);
    if (edit)
        edit (&r->cfg.risk);
    r->risk = bt_risk_new (&r->cfg.risk);
    s_setup (&r->fx, &s_script_algo, bt_risk_decide, r->risk);
    bt_risk_attach (r->risk, r->fx.eng);
}

static void
s_rteardown (struct rfx *r)
{
    s_teardown (&r->fx);
    bt_risk_destroy (&r->risk);
}

//  Minute i with a bar of CE (205.00 steady unless given) and of PE (180.00 steady).
static void
s_min_both (struct fx *fx, int i, int64_t o, int64_t h, int64_t l, int64_t c)
{
    int64_t ts = fx->t0 + i * NS_MIN;
    struct strat_bar b[3] = {{IDX, ts, 2401000, 2401000, 2401000, 2401000, 0},
                             {CE, ts, o, h, l, c, 0},
                             {PE, ts, 18000, 18000, 18000, 18000, 0}};
    assert_int_equal (bt_engine_minute (fx->eng, b, 3), 0);
}

//  A PE entry (T 174.95, L 174.85, stop 185.00) decided at the close of minute i.
static void
s_plan_pe (struct fx *fx, int i, uint32_t id)
{
    s_plan_entry (fx, i, STRAT_I_PLACE, id, 17495, 17485, 600, 18500);
    struct strat_intent *in = &fx->script->plan[fx->script->nplan - 1];
    in->token = PE;
    in->itype = KT_ITYPE_PE;
}

//  The CE entry of bt_engine_test (T 199.95, L 199.85, 600, stop 210.00) decided at the
//  close of minute 0, filled in minute 1, stopped at 210.00 in minute 2.
static void
s_losing_trade (struct fx *fx)
{
    s_plan_entry (fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_min (fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (fx, 1, CE, 20100, 20200, 19900, 20000);
    s_min (fx, 2, CE, 20500, 21100, 20400, 21000);
}

static const struct bt_refusal *
s_refusal (struct fx *fx, size_t want)
{
    size_t n;
    const struct bt_refusal *r = bt_engine_refusals (fx->eng, &n);
    assert_int_equal (n, want);
    return want ? &r[want - 1] : NULL;
}

static bool
s_seen (const struct fx *fx, strat_ev_t kind, uint32_t id)
{
    for (int i = 0; i < fx->script->nseen; i++)
        if (fx->script->seen[i].kind == kind && fx->script->seen[i].order_id == id)
            return true;
    return false;
}

static void
test_account_follows_the_book (void **state)
{
    (void) state;
    struct rfx r;
    s_rsetup (&r, NULL);
    struct fx *fx = &r.fx;
    const struct risk_view *v = bt_risk_view (r.risk);
    s_plan_entry (fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_min (fx, 0, CE, 20500, 20600, 20400, 20500);
    //  decided: the short's margin estimate reserved, one pending slot; no trade yet (a
    //  trade counts at its first fill: docs/risk-gate.md)
    const struct kt_instr *in = kt_instr_by_token (fx->instr, CE);
    int64_t margin = risk_pnl_short_margin (in, 19995) * 600;
    assert_true (margin > 0);
    assert_int_equal (v->state, KT_STATE_ACTIVE);
    assert_int_equal (v->nord, 1);
    assert_int_equal (v->reserved, margin);
    assert_int_equal (v->units_total, 1);
    assert_int_equal (v->units_ce, 1);
    assert_int_equal (v->trades_day, 0);
    assert_int_equal (v->nentries_ts, 0);
    assert_int_equal (risk_view_pos (v, in->sym)->pending, 1);
    //  filled: the reservation becomes the position's deployed margin; one trade today,
    //  at the fill's minute
    s_min (fx, 1, CE, 20100, 20200, 19900, 20000);
    assert_int_equal (v->trades_day, 1);
    assert_int_equal (v->nentries_ts, 1);
    assert_int_equal (v->entries_ts[0], fx->t0 + NS_MIN);
    assert_int_equal (v->nord, 0);
    assert_int_equal (v->reserved, 0);
    assert_int_equal (v->deployed, margin);
    assert_int_equal (risk_view_pos (v, in->sym)->qty, -600);
    assert_int_equal (risk_view_pos (v, in->sym)->pending, 0);
    assert_int_equal (v->units_total, 1);
    //  stopped at 210.00: realised (199.95 - 210.00) x 600, a loss in a row, all released
    s_min (fx, 2, CE, 20500, 21100, 20400, 21000);
    assert_int_equal (v->realised_total, (19995 - 21000) * 600);
    assert_int_equal (v->realised_day, (19995 - 21000) * 600);
    assert_int_equal (v->consec_losses, 1);
    assert_int_equal (v->deployed, 0);
    assert_int_equal (v->units_total, 0);
    assert_int_equal (v->npos, 0);
    assert_int_equal (v->trades_day, 1);
    s_refusal (fx, 0);
    const struct bt_trade *on = s_trade (fx, 1);
    struct bt_trade t_on = *on;

    //  the same run with --risk off: the same trade
    struct fx off;
    s_setup (&off, &s_script_algo, NULL, NULL);
    s_losing_trade (&off);
    const struct bt_trade *t_off = s_trade (&off, 1);
    assert_int_equal (t_on.qty, t_off->qty);
    assert_int_equal (t_on.entry_ts, t_off->entry_ts);
    assert_int_equal (t_on.entry_px, t_off->entry_px);
    assert_int_equal (t_on.exit_ts, t_off->exit_ts);
    assert_int_equal (t_on.exit_px, t_off->exit_px);
    assert_int_equal (t_on.reason, t_off->reason);
    s_teardown (&off);
    s_rteardown (&r);
}

static void
s_one_position (struct risk_cfg *c)
{
    c->max_positions = 1;
}

static void
s_one_order_a_second (struct risk_cfg *c)
{
    c->max_orders_per_s = 1;
}

static void
test_max_pos_and_order_rate (void **state)
{
    (void) state;
    struct rfx r;
    //  max_positions counts open positions: a CE and a PE both pending at 0 open are
    //  approved; once the CE is held, a PE entry is one position too many
    s_rsetup (&r, s_one_position);
    s_plan_entry (&r.fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_plan_pe (&r.fx, 0, 2);
    s_min_both (&r.fx, 0, 20500, 20600, 20400, 20500);
    s_refusal (&r.fx, 0);
    assert_int_equal (bt_risk_view (r.risk)->units_total, 2);
    s_rteardown (&r);

    s_rsetup (&r, s_one_position);
    s_plan_entry (&r.fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_plan_pe (&r.fx, 1, 2);
    s_min_both (&r.fx, 0, 20500, 20600, 20400, 20500);
    s_min_both (&r.fx, 1, 20100, 20200, 19900, 20000); //  CE sold at 199.95
    const struct bt_refusal *f = s_refusal (&r.fx, 1);
    assert_int_equal (f->v.verdict, KT_VERDICT_BLOCK);
    assert_string_equal (f->v.code, "MAX_POS");
    assert_non_null (strstr (f->v.text, "open positions 1 + 1 > max 1"));
    assert_int_equal (f->in->token, PE);
    assert_int_equal (f->kind, STRAT_I_PLACE);
    assert_int_equal (f->ts, r.fx.t0 + NS_MIN);
    assert_true (s_seen (&r.fx, STRAT_EV_REJECTED, 2));
    assert_false (s_seen (&r.fx, STRAT_EV_REJECTED, 1));
    assert_int_equal (bt_risk_view (r.risk)->units_total, 1);
    s_rteardown (&r);

    //  risk.max_pending_per_type 1 (sim.json): a second CE entry pending beside the
    //  first is refused, whatever max_positions allows
    s_rsetup (&r, NULL);
    s_plan_entry (&r.fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_plan_entry (&r.fx, 0, STRAT_I_PLACE, 2, 19995, 19985, 600, 21000);
    s_min (&r.fx, 0, CE, 20500, 20600, 20400, 20500);
    f = s_refusal (&r.fx, 1);
    assert_int_equal (f->v.verdict, KT_VERDICT_BLOCK);
    assert_string_equal (f->v.code, "MAX_POS");
    assert_non_null (strstr (f->v.text, "CE pending entries 1 + 1 > max 1"));
    assert_true (s_seen (&r.fx, STRAT_EV_REJECTED, 2));
    assert_int_equal (bt_risk_view (r.risk)->units_ce, 1);
    s_rteardown (&r);

    //  one order a second: the second intent of the same close is refused; a close a
    //  minute later is another second of the data's time
    s_rsetup (&r, s_one_order_a_second);
    s_plan_entry (&r.fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_plan_pe (&r.fx, 0, 2);
    s_plan_pe (&r.fx, 1, 3);
    s_min_both (&r.fx, 0, 20500, 20600, 20400, 20500);
    assert_string_equal (s_refusal (&r.fx, 1)->v.code, "ORDER_RATE");
    s_min_both (&r.fx, 1, 20500, 20600, 20400, 20500);
    s_refusal (&r.fx, 1);
    assert_int_equal (bt_risk_view (r.risk)->nord, 2);
    s_rteardown (&r);
}

#define CE2 10000043u //  NIFTY26NOV24050CE

//  Minute i with a steady bar of CE (205.00) and of CE2 (185.00).
static void
s_min_ce2 (struct fx *fx, int i)
{
    int64_t ts = fx->t0 + i * NS_MIN;
    struct strat_bar b[3] = {{IDX, ts, 2401000, 2401000, 2401000, 2401000, 0},
                             {CE, ts, 20500, 20600, 20400, 20500, 0},
                             {CE2, ts, 18500, 18600, 18400, 18500, 0}};
    assert_int_equal (bt_engine_minute (fx->eng, b, 3), 0);
}

//  The strategy's "another CE is now best" at the close of minute 1: CANCEL of the
//  pending CE entry 1 (REPLACED) and PLACE of entry 2 on CE2, stop stop2.
static void
s_plan_replacement (struct fx *fx, int64_t stop2)
{
    s_plan_entry (fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_plan_entry (fx, 1, STRAT_I_CANCEL, 1, 19995, 19985, 600, 21000);
    fx->script->plan[fx->script->nplan - 1].why = STRAT_WHY_REPLACED;
    s_plan_entry (fx, 1, STRAT_I_PLACE, 2, 17995, 17985, 600, stop2);
    fx->script->plan[fx->script->nplan - 1].token = CE2;
}

//  A CANCEL of a pending entry and a PLACE of the same option type in one decision go
//  to risk-gate as one replacement (the PLACE's ref names the old entry): one order in
//  the rate window, the old slot and reservation taken over, the old one's CANCELLED
//  releasing nothing twice. Refused, the old entry is still cancelled on its own.
static void
test_replacement_is_one_decision (void **state)
{
    (void) state;
    struct rfx r;
    s_rsetup (&r, NULL);
    struct fx *fx = &r.fx;
    const struct risk_view *v = bt_risk_view (r.risk);
    s_plan_replacement (fx, 19000);
    s_min_ce2 (fx, 0);
    assert_int_equal (v->units_ce, 1);
    s_min_ce2 (fx, 1);
    s_refusal (fx, 0);
    assert_true (s_seen (fx, STRAT_EV_CANCELLED, 1));
    assert_false (s_seen (fx, STRAT_EV_REJECTED, 2));
    const struct kt_instr *in2 = kt_instr_by_token (fx->instr, CE2);
    assert_int_equal (v->norders_ts, 2);
    assert_int_equal (v->nord, 1);
    assert_int_equal (v->units_total, 1);
    assert_int_equal (v->units_ce, 1);
    assert_int_equal (v->npos, 1);
    assert_int_equal (risk_view_pos (v, in2->sym)->pending, 1);
    assert_int_equal (v->reserved, risk_pnl_short_margin (in2, 17995) * 600);
    assert_int_equal (v->trades_day, 0);
    s_rteardown (&r);

    //  the new entry refused (its stop below its trigger): the old one goes all the same
    s_rsetup (&r, NULL);
    fx = &r.fx;
    v = bt_risk_view (r.risk);
    s_plan_replacement (fx, 17000);
    s_min_ce2 (fx, 0);
    s_min_ce2 (fx, 1);
    const struct bt_refusal *f = s_refusal (fx, 1);
    assert_int_equal (f->v.verdict, KT_VERDICT_BLOCK);
    assert_int_equal (f->in->token, CE2);
    assert_true (s_seen (fx, STRAT_EV_CANCELLED, 1));
    assert_true (s_seen (fx, STRAT_EV_REJECTED, 2));
    assert_int_equal (v->norders_ts, 2); //  PLACE 1, CANCEL 1
    assert_int_equal (v->nord, 0);
    assert_int_equal (v->units_total, 0);
    assert_int_equal (v->npos, 0);
    assert_int_equal (v->reserved, 0);
    s_rteardown (&r);
}

static void
s_two_lots (struct risk_cfg *c)
{
    c->max_lots = 2;
}

static void
s_two_lots_tiny_r (struct risk_cfg *c)
{
    c->max_lots = 2;
    c->max_risk_per_trade = 100000; //  Rs 1,000 < R of 150 units, Rs 1,507.50
}

static void
test_reduce_changes_the_quantity (void **state)
{
    (void) state;
    struct rfx r;
    s_rsetup (&r, s_two_lots);
    s_losing_trade (&r.fx);
    const struct bt_refusal *f = s_refusal (&r.fx, 1);
    assert_int_equal (f->v.verdict, KT_VERDICT_REDUCE);
    assert_int_equal (f->v.qty, 150);
    assert_int_equal (f->qty, 600);
    assert_string_equal (f->v.code, "MAX_LOTS");
    assert_true (s_seen (&r.fx, STRAT_EV_REDUCED, 1));
    const struct bt_trade *t = s_trade (&r.fx, 1);
    assert_int_equal (t->qty, 150);
    assert_int_equal (bt_risk_view (r.risk)->realised_total, (19995 - 21000) * 150);
    s_rteardown (&r);

    //  reduced, then blocked: the decision is listed as the BLOCK's reason
    s_rsetup (&r, s_two_lots_tiny_r);
    s_losing_trade (&r.fx);
    f = s_refusal (&r.fx, 1);
    assert_int_equal (f->v.verdict, KT_VERDICT_BLOCK);
    assert_string_equal (f->v.code, "RISK_PER_TRADE");
    s_trade (&r.fx, 0);
    s_rteardown (&r);
}

static void
s_stale_3min (struct risk_cfg *c)
{
    c->stale_md_s = 180;
}

static void
test_stale_md_by_bar_time (void **state)
{
    (void) state;
    struct rfx r;
    //  CE's last bar is minute 0 (closing at +1 min); the entry is decided at the close
    //  of minute 2: its price is 2 minutes old
    s_rsetup (&r, NULL);
    s_plan_entry (&r.fx, 2, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_min (&r.fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (&r.fx, 1, CE, 0, 0, 0, 0);
    s_min (&r.fx, 2, CE, 0, 0, 0, 0);
    const struct bt_refusal *f = s_refusal (&r.fx, 1);
    assert_string_equal (f->v.code, "STALE_MD");
    assert_non_null (strstr (f->v.text, "120000 ms old (max 10 s)"));
    s_rteardown (&r);

    s_rsetup (&r, s_stale_3min);
    s_plan_entry (&r.fx, 2, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
    s_min (&r.fx, 0, CE, 20500, 20600, 20400, 20500);
    s_min (&r.fx, 1, CE, 0, 0, 0, 0);
    s_min (&r.fx, 2, CE, 0, 0, 0, 0);
    s_refusal (&r.fx, 0);
    s_rteardown (&r);
}

static void
s_one_loss (struct risk_cfg *c)
{
    c->max_consec_losses = 1;
}

static void
test_halt_until_the_next_day (void **state)
{
    (void) state;
    struct rfx r;
    s_rsetup (&r, s_one_loss);
    struct fx *fx = &r.fx;
    s_plan_entry (fx, 3, STRAT_I_PLACE, 2, 19995, 19985, 600, 21000);
    s_plan_entry (fx, 4, STRAT_I_PLACE, 3, 19995, 19985, 600, 21000);
    s_losing_trade (fx);
    //  the breakers at the close of minute 2 (risk-gate's poll): the loss in a row halts
    const struct bt_refusal *f = s_refusal (fx, 1);
    assert_int_equal (f->kind, STRAT_I_NONE);
    assert_null (f->in);
    assert_int_equal (f->ts, fx->t0 + 2 * NS_MIN);
    assert_int_equal (f->v.verdict, KT_VERDICT_HALT);
    assert_string_equal (f->v.code, "CONSEC_LOSS");
    assert_int_equal (bt_risk_view (r.risk)->state, KT_STATE_HALTED);
    //  entries are refused from then on
    s_min (fx, 3, CE, 20500, 20600, 20400, 20500);
    f = s_refusal (fx, 2);
    assert_true (f->v.verdict >= KT_VERDICT_BLOCK);
    assert_true (s_seen (fx, STRAT_EV_REJECTED, 2));
    s_min (fx, 4, CE, 20500, 20600, 20400, 20500);
    f = s_refusal (fx, 3);
    assert_true (f->v.verdict >= KT_VERDICT_BLOCK);
    //  the next day: the day-scoped halt ends with the roll
    fx->t0 = kt_ist_ns (2026, 11, 24, 9, 15, 0);
    s_plan_entry (fx, 0, STRAT_I_PLACE, 4, 19995, 19985, 600, 21000);
    s_min (fx, 0, CE, 20500, 20600, 20400, 20500);
    s_refusal (fx, 3);
    const struct risk_view *v = bt_risk_view (r.risk);
    assert_int_equal (v->state, KT_STATE_ACTIVE);
    assert_int_equal (v->consec_losses, 0);
    assert_int_equal (v->trades_day, 0); //  the roll's 0; the entry counts when it fills
    assert_int_equal (v->units_ce, 1);
    s_min (fx, 1, CE, 20100, 20200, 19900, 20000);
    assert_int_equal (v->trades_day, 1);
    assert_int_equal (v->day, 20261124);
    assert_int_equal (v->realised_total, (19995 - 21000) * 600);
    s_rteardown (&r);
}

static void
s_tiny_daily_loss (struct risk_cfg *c)
{
    c->max_daily_loss_bps = 1; //  0.01% of Rs 2 crore: Rs 2,000
}

static void
s_tiny_daily_loss_flatten (struct risk_cfg *c)
{
    s_tiny_daily_loss (c);
    c->flatten_on_halt = true;
}

//  A loss on the books (unrealised) beyond the day's limit halts at the minute's close:
//  the pending entry is cancelled; the position stays, or with flatten_on_halt is
//  bought back at the close (exit reason HALT).
static void
test_daily_loss_halts_and_flattens (void **state)
{
    (void) state;
    for (int flatten = 0; flatten < 2; flatten++) {
        struct rfx r;
        s_rsetup (&r, flatten ? s_tiny_daily_loss_flatten : s_tiny_daily_loss);
        struct fx *fx = &r.fx;
        s_plan_entry (fx, 0, STRAT_I_PLACE, 1, 19995, 19985, 600, 21000);
        s_plan_pe (fx, 1, 2);
        s_min_both (fx, 0, 20500, 20600, 20400, 20500);
        s_min_both (fx, 1, 20100, 20200, 19900, 20000); //  CE sold at 199.95, PE pending
        s_refusal (fx, 0);
        s_min_both (fx, 2, 20500, 20600, 20400, 20500); //  CE at 205.00: Rs -3,030
        const struct bt_refusal *f = s_refusal (fx, 1);
        assert_int_equal (f->v.verdict, KT_VERDICT_HALT);
        assert_string_equal (f->v.code, "DAILY_LOSS");
        assert_true (s_seen (fx, STRAT_EV_CANCELLED, 2));
        const struct bt_trade *t = s_trade (fx, 1);
        if (flatten) {
            assert_true (t->closed);
            assert_int_equal (t->exit_px, 20500);
            assert_string_equal (bt_exit_str (t->reason), "HALT");
            assert_int_equal (bt_risk_view (r.risk)->npos, 0);
        } else {
            assert_false (t->closed);
            assert_int_equal (bt_risk_view (r.risk)->npos, 1);
        }
        assert_int_equal (bt_risk_view (r.risk)->nord, 0);
        s_rteardown (&r);
    }
}

//  baseline_v1 over two synthetic days (bar mode and tick mode, where fills come in
//  parts): after each run the account is flat, nothing reserved, deployed or pending,
//  and its realised P&L is the trades' P&L to the paisa. sim.json's limits do not bind
//  on this seed (docs/backtest.md), so two tighter ones make the account follow reduced
//  entries and refused ones too.
static void
test_synthetic_account_balances (void **state)
{
    (void) state;
    for (int ticks = 0; ticks < 2; ticks++) {
        struct bt_cfg cfg;
        bt_cfg_defaults (&cfg);
        cfg.risk.max_lots = 3;
        cfg.risk.max_trades_hour = 2;
        bt_risk_t *risk = bt_risk_new (&cfg.risk);
        bt_engine_t *eng = bt_engine_new (NULL, NULL, bt_risk_decide, risk);
        bt_risk_attach (risk, eng);
        struct bt_synth_cfg sc = {7,  20261123,  2, (int) cfg.strat.p.strikes_each_side,
                                  75, ticks == 1};
        char err[256];
        bt_synth_t *run = bt_synth_run (&sc, &cfg.strat, eng, NULL, NULL, err, sizeof err);
        assert_non_null (run);
        size_t n;
        const struct bt_trade *t = bt_engine_trades (eng, &n);
        assert_true (n > 0);
        int64_t pnl = 0;
        for (size_t i = 0; i < n; i++)
            pnl += bt_trade_pnl (&t[i]);
        const struct risk_view *v = bt_risk_view (risk);
        assert_false (v->overflow);
        assert_int_equal (v->realised_total, pnl);
        assert_int_equal (v->reserved, 0);
        assert_int_equal (v->deployed, 0);
        assert_int_equal (v->units_total, 0);
        assert_int_equal (v->units_ce + v->units_pe, 0);
        assert_int_equal (v->nord, 0);
        assert_int_equal (v->npos, 0);
        size_t nref;
        const struct bt_refusal *ref = bt_engine_refusals (eng, &nref);
        bool reduced = false, blocked = false;
        for (size_t i = 0; i < nref; i++) {
            reduced |= ref[i].v.verdict == KT_VERDICT_REDUCE && !strcmp (ref[i].v.code, "MAX_LOTS");
            blocked |=
                ref[i].v.verdict == KT_VERDICT_BLOCK && !strcmp (ref[i].v.code, "TRADES_HOUR");
        }
        assert_true (reduced);
        assert_true (blocked);
        bt_engine_destroy (&eng);
        bt_risk_destroy (&risk);
        bt_synth_destroy (&run);
    }
}

//  Without --config the limits are deploy/config/sim.json's: the file read through the
//  backtest's rows gives the same risk section as the defaults, key for key.
static void
test_defaults_are_sim_json (void **state)
{
    (void) state;
    struct bt_cfg dflt, file;
    bt_cfg_defaults (&dflt);
    bt_cfg_defaults (&file);
    kt_cfg_row_t rows[BT_CFG_ROWS_MAX];
    int n = bt_cfg_rows (rows, BT_CFG_ROWS_MAX);
    assert_true (n < BT_CFG_ROWS_MAX - 1);
    char err[1024];
    kt_cfg_t *kc =
        kt_cfg_load_file ("deploy/config/sim.json", "backtest", rows, &file, err, sizeof err);
    if (!kc)
        fail_msg ("%s", err);
    kt_cfg_destroy (&kc);
    for (int i = 0; i < n; i++) {
        if (strncmp (rows[i].path, "risk.", 5) != 0)
            continue;
        size_t len = rows[i].type == KT_CFG_STR    ? rows[i].size
                     : rows[i].type == KT_CFG_BOOL ? sizeof (bool)
                                                   : sizeof (int64_t);
        if (memcmp ((char *) &dflt + rows[i].offset, (char *) &file + rows[i].offset, len) != 0)
            fail_msg ("%s: default differs from sim.json", rows[i].path);
    }
    assert_int_equal (dflt.risk.capital, 2000000000); //  Rs 2 crore in paise
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_account_follows_the_book),
        cmocka_unit_test (test_max_pos_and_order_rate),
        cmocka_unit_test (test_replacement_is_one_decision),
        cmocka_unit_test (test_reduce_changes_the_quantity),
        cmocka_unit_test (test_stale_md_by_bar_time),
        cmocka_unit_test (test_halt_until_the_next_day),
        cmocka_unit_test (test_daily_loss_halts_and_flattens),
        cmocka_unit_test (test_synthetic_account_balances),
        cmocka_unit_test (test_defaults_are_sim_json),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
