/*  risk_core_test - the engine against a real redis-server: the life of a trade
 *  (reservation, fill, exit, realised P&L), duplicates, the trading state machine and
 *  the reconciler's agreement, the kill switch set by hand, breakers on price moves,
 *  rejections and TokenException, the daily roll-over, Redis down (entries blocked,
 *  exits forwarded), the sweep of orders exec-gateway never answered, and the sent mark
 *  as its own step (never by the decision; a lost mark is redone by the sweep). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <signal.h>
#include <unistd.h>

#include "../../risk-gate/risk.h"
#include "kt_book.h"
#include "kt_testredis.h"
#include "kt_teststore.h"

#define RS(x) ((int64_t) (x) *100)
#define SYM_CE "NIFTY25NOV24000CE"
#define SYM_PE "NIFTY25NOV24000PE"

static const char s_csv[] = KT_INSTR_CSV_HEADER
    "\n"
    "1001,1,NIFTY25NOV24000CE,NIFTY,100,2025-11-27,24000,0.05,75,CE,NFO-OPT,NFO\n"
    "1002,2,NIFTY25NOV24000PE,NIFTY,100,2025-11-27,24000,0.05,75,PE,NFO-OPT,NFO\n";

struct fx {
    kt_testredis_t *srv;
    kt_store_t *store;
    kt_store_t *obs; //  reads the account as another reader would (s_acct)
    struct risk_scripts obs_ids;
    struct risk_view acct;
    redisContext *peek;
    kt_instr_table_t *instr;
    struct risk_cfg cfg;
    risk_core_t *core;
    int64_t now;
    int seq;
};

static int64_t
s_at (int d, int hh, int mm, int ss)
{
    return kt_ist_ns (2025, 11, d, hh, mm, ss);
}

static const char *const s_aof[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};

static int
s_setup_with (void **state, const char *const *extra)
{
    struct fx *f = calloc (1, sizeof *f);
    f->srv = extra ? kt_testredis_start_with (extra) : kt_testredis_start ();
    assert_non_null (f->srv);
    f->store = kt_store_new ("127.0.0.1", f->srv->port, "kt:", 500);
    assert_int_equal (kt_store_connect (f->store), 0);
    f->peek = kt_testredis_connect (f->srv);
    f->obs = kt_store_new ("127.0.0.1", f->srv->port, "kt:", 2000);
    assert_int_equal (kt_store_connect (f->obs), 0);
    assert_int_equal (risk_capital_register (f->obs, &f->obs_ids), 0);
    char err[200];
    f->instr = kt_instr_parse (s_csv, strlen (s_csv), err, sizeof err);
    assert_non_null (f->instr);
    assert_int_equal (risk_cfg_defaults (&f->cfg), 0);
    f->core = risk_core_new (&f->cfg, f->store, "risk-test");
    assert_non_null (f->core);
    risk_core_set_instruments (f->core, f->instr);
    f->now = s_at (24, 10, 0, 0);
    kt_log_open ("risk_core_test", KT_LOG_OFF);
    *state = f;
    return 0;
}

static int
s_setup (void **state)
{
    return s_setup_with (state, NULL);
}

//  Redis with an append-only file, so a restart keeps the account (as deployed).
static int
s_setup_aof (void **state)
{
    return s_setup_with (state, s_aof);
}

static int
s_teardown (void **state)
{
    struct fx *f = *state;
    risk_core_destroy (&f->core);
    kt_instr_destroy (&f->instr);
    if (f->peek)
        redisFree (f->peek);
    kt_store_destroy (&f->store);
    kt_store_destroy (&f->obs);
    kt_testredis_stop (&f->srv);
    free (f);
    return 0;
}

static redisReply *
s_peek (struct fx *f, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (f->peek, fmt, ap);
    va_end (ap);
    assert_non_null (r);
    return r;
}

static int64_t
s_hget (struct fx *f, const char *key, const char *field)
{
    redisReply *r = s_peek (f, "HGET %s %s", key, field);
    int64_t v = r->type == REDIS_REPLY_STRING ? strtoll (r->str, NULL, 10) : 0;
    freeReplyObject (r);
    return v;
}

static void
s_hset (struct fx *f, const char *key, const char *field, const char *value)
{
    freeReplyObject (s_peek (f, "HSET %s %s %s", key, field, value));
}

//  The account as a fresh snapshot reads it: the book and risk-gate's keys, with what
//  risk-gate derives from them (reserved, deployed, units, slots, cover, day P&L).
static const struct risk_view *
s_acct (struct fx *f)
{
    char why[200];
    int rc = -1;
    //  after a restart of Redis the reader's own connection comes back within its back-off
    for (int i = 0; i < 100 && rc != 0; i++) {
        rc = risk_capital_snapshot (f->obs, &f->obs_ids, &f->acct, why, sizeof why);
        if (rc != 0)
            usleep (20000);
    }
    assert_int_equal (rc, 0);
    return &f->acct;
}

//  The derived entry of sym (zeros when the account has none).
static struct risk_pos
s_pos (struct fx *f, const char *sym)
{
    const struct risk_pos *p = risk_view_pos (s_acct (f), sym);
    struct risk_pos z;
    memset (&z, 0, sizeof z);
    return p ? *p : z;
}

//  Start, let the reconciler agree, poll: ACTIVE.
static void
s_active (struct fx *f)
{
    struct risk_out out;
    memset (&out, 0, sizeof out);
    assert_int_equal (risk_core_start (f->core, f->now, &out), 0);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_REDUCING);
    char ns[24];
    snprintf (ns, sizeof ns, "%lld", (long long) (f->now + 1));
    s_hset (f, "kt:recon:last", "agree_ns", ns);
    s_hset (f, "kt:recon:last", "session_ok", "1");
    f->now += KT_NS_PER_SEC;
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_ACTIVE);
    assert_true (out.state_changed);
}

static struct kt_intent
s_intent (struct fx *f, kt_purpose_t p, const char *sym, kt_side_t side, int64_t qty, int64_t price)
{
    struct kt_intent in;
    memset (&in, 0, sizeof in);
    snprintf (in.intent_id, sizeof in.intent_id, "T-%04d", ++f->seq);
    snprintf (in.strategy, sizeof in.strategy, "T");
    snprintf (in.sym, sizeof in.sym, "%s", sym);
    in.side = side;
    in.qty = qty;
    in.order_type = KT_OT_LIMIT;
    in.price = price;
    in.product = KT_PROD_MIS;
    in.purpose = p;
    if (p == KT_PURPOSE_ENTRY) {
        in.has_stop = true;
        in.stop_trigger = side == KT_SIDE_BUY ? price - RS (10) : price + RS (10);
    }
    return in;
}

static struct risk_out
s_decide (struct fx *f, const struct kt_intent *in)
{
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_decide (f->core, in, f->now, &out);
    assert_true (out.has_decision);
    //  The decision does not mark (the caller's answer waits for one round trip); the
    //  mark step marks each order to be sent, before it is sent.
    char key[64];
    for (int i = 0; i < out.nmarks; i++) {
        bool cmd = false;
        for (int j = 0; j < out.ncmds; j++)
            cmd = cmd || strcmp (out.cmds[j].coid, out.marks[i]) == 0;
        assert_true (cmd);
        snprintf (key, sizeof key, "kt:intent:%s", out.marks[i]);
        assert_int_equal (s_hget (f, key, "sent_ns"), 0);
        //  the order's fields come with the mark, not in the commit the caller waits for
        redisReply *r = s_peek (f, "HEXISTS %s order_type", key);
        assert_int_equal (r->integer, 0);
        freeReplyObject (r);
    }
    assert_int_equal (risk_core_mark_sent (f->core, &out, f->now), 0);
    for (int i = 0; i < out.nmarks; i++) {
        snprintf (key, sizeof key, "kt:intent:%s", out.marks[i]);
        assert_int_equal (s_hget (f, key, "sent_ns"), f->now);
        assert_int_equal (s_hget (f, key, "price"), in->price);
    }
    return out;
}

//  What exec-gateway does before it publishes an event: the order in the book (as
//  risk-gate approved it, when it did; else an attached stop), its fill applied once
//  (kt_book_fill), its end recorded.
static void
s_book (struct fx *f, const char *coid, const char *sym, kt_side_t side, kt_exec_kind_t kind,
        int64_t filled, int64_t px, const char *reason)
{
    char why[200];
    struct kt_order_rec rec;
    //  exec-gateway's own connection (the reader's here), back within its back-off
    kt_store_t *ex = f->obs;
    int found = -1;
    for (int i = 0; i < 100 && found < 0; i++) {
        found = kt_book_order_get (ex, coid, &rec, why, sizeof why);
        if (found < 0)
            usleep (20000);
    }
    assert_true (found >= 0);
    if (found == 0) {
        struct kt_risk_intent_rec *ir = calloc (1, sizeof *ir);
        assert_non_null (ir);
        assert_true (kt_schema_read (ex, &kt_key_risk_intent, coid, ir, why, sizeof why) >= 0);
        kt_teststore_order (&rec, coid, sym[0] ? sym : ir->sym,
                            side != KT_SIDE_NONE ? side : kt_side_parse (ir->side),
                            ir->purpose[0] ? kt_purpose_parse (ir->purpose) : KT_PURPOSE_STOP,
                            ir->oqty > 0 ? ir->oqty
                            : filled > 0 ? filled
                                         : 75);
        free (ir);
        assert_int_equal (kt_book_order_create (ex, &rec, f->now, NULL, why, sizeof why), 1);
    }
    if (filled > rec.filled_qty) {
        if (filled > rec.qty) {
            rec.qty = filled;
            assert_int_equal (kt_book_order_update (ex, &rec, f->now, why, sizeof why), 0);
        }
        struct kt_book_fill fl;
        memset (&fl, 0, sizeof fl);
        snprintf (fl.coid, sizeof fl.coid, "%s", coid);
        snprintf (fl.trade_id, sizeof fl.trade_id, "%s-%lld", coid, (long long) filled);
        fl.qty = filled - rec.filled_qty;
        fl.price = px;
        fl.ts_ns = f->now;
        struct kt_book_fill_result res;
        assert_int_equal (kt_book_fill (ex, &fl, &res, why, sizeof why), 0);
    }
    kt_ord_status_t st = kind == KT_EXEC_CANCELLED  ? KT_OS_CANCELLED
                         : kind == KT_EXEC_REJECTED ? KT_OS_REJECTED
                         : kind == KT_EXEC_EXPIRED  ? KT_OS_EXPIRED
                         : kind == KT_EXEC_FILLED   ? KT_OS_FILLED
                                                    : KT_OS_NONE;
    assert_int_equal (kt_book_order_get (ex, coid, &rec, why, sizeof why), 1);
    if (st != KT_OS_NONE && rec.status != st) {
        rec.status = st;
        snprintf (rec.reason, sizeof rec.reason, "%s", reason ? reason : "");
        assert_int_equal (kt_book_order_update (ex, &rec, f->now, why, sizeof why), 0);
    }
}

//  The event alone (the book written apart, or not at all).
static struct risk_out
s_event (struct fx *f, const char *coid, const char *sym, kt_side_t side, kt_exec_kind_t kind,
         int64_t filled, int64_t last_qty, int64_t px)
{
    struct kt_exec_event ev;
    memset (&ev, 0, sizeof ev);
    snprintf (ev.coid, sizeof ev.coid, "%s", coid);
    snprintf (ev.sym, sizeof ev.sym, "%s", sym);
    ev.side = side;
    ev.event = kind;
    ev.filled_qty = filled;
    ev.last_qty = last_qty;
    ev.last_px = px;
    ev.avg_px = px;
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_on_exec (f->core, &ev, f->now, &out);
    return out;
}

static struct risk_out
s_exec (struct fx *f, const char *coid, const char *sym, kt_side_t side, kt_exec_kind_t kind,
        int64_t filled, int64_t last_qty, int64_t px)
{
    s_book (f, coid, sym, side, kind, filled, px, NULL);
    return s_event (f, coid, sym, side, kind, filled, last_qty, px);
}

static void
s_tick (struct fx *f, const char *sym, int64_t px)
{
    risk_core_on_tick (f->core, sym, px, f->now);
}

static void
test_trade_life (void **state)
{
    struct fx *f = *state;
    s_active (f);
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 150, RS (100));

    struct risk_out out = s_decide (f, &in); //  no tick yet
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_string_equal (out.decision.reasons[0].code, "STALE_MD");
    assert_int_equal (out.ncmds, 0);

    s_tick (f, SYM_CE, RS (100));
    in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 150, RS (100));
    out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 1);
    assert_int_equal (out.cmds[0].action, KT_ACTION_PLACE);
    assert_string_equal (out.cmds[0].coid, in.intent_id);
    assert_string_equal (out.decision.coid, in.intent_id);
    assert_int_equal (out.nmarks, 1);
    assert_string_equal (out.marks[0], in.intent_id);
    assert_int_equal (s_acct (f)->reserved, 150 * RS (100));
    assert_int_equal (s_acct (f)->units_total, 1);
    assert_int_equal (s_pos (f, SYM_CE).pending, 1);
    char ikey[64];
    snprintf (ikey, sizeof ikey, "kt:intent:%s", in.intent_id);
    assert_int_equal (s_hget (f, ikey, "sent_ns"), f->now); //  marked as it is sent
    //  the decision's events entry, written after the reply with the mark
    redisReply *ev = s_peek (f, "XREVRANGE kt:events + - COUNT 1");
    assert_int_equal (ev->elements, 1);
    redisReply *kv = ev->element[0]->element[1];
    bool found = false;
    for (size_t i = 0; i + 1 < kv->elements; i += 2)
        found = found || (strcmp (kv->element[i]->str, "intent_id") == 0 &&
                          strcmp (kv->element[i + 1]->str, in.intent_id) == 0);
    assert_true (found);
    assert_string_equal (kv->element[1]->str, "risk.decision");
    freeReplyObject (ev);

    //  The same intent again: the first decision, and no second order.
    struct risk_out again = s_decide (f, &in);
    assert_int_equal (again.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (again.ncmds, 0);
    assert_int_equal (again.nmarks, 0);
    assert_int_equal (s_acct (f)->reserved, 150 * RS (100));

    //  Partial fill at 99.50, then the rest at 99: the reservation converts.
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_PARTIAL, 75, 75, 9950);
    assert_int_equal (s_pos (f, SYM_CE).qty, 75);
    assert_int_equal (s_pos (f, SYM_CE).pending, 0);
    assert_int_equal (s_acct (f)->units_total, 1);
    assert_int_equal (s_acct (f)->reserved, 75 * RS (100));
    assert_int_equal (s_acct (f)->deployed, 75 * 9950);
    //  the same event again (PUB duplicates, a second instance): nothing changes
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_PARTIAL, 75, 75, 9950);
    assert_int_equal (s_pos (f, SYM_CE).qty, 75);
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 150, 75, 9900);
    assert_int_equal (s_pos (f, SYM_CE).qty, 150);
    assert_int_equal (s_acct (f)->reserved, 0);
    assert_int_equal (s_acct (f)->deployed, 75 * 9950 + 75 * 9900);
    redisReply *r = s_peek (f, "SISMEMBER kt:risk:open %s", in.intent_id);
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);

    //  Unrealised from the tick; exit one lot at 110, then the other at 90.
    s_tick (f, SYM_CE, RS (110));
    assert_int_equal (risk_core_unrealised (f->core), 150 * RS (110) - (75 * 9950 + 75 * 9900));
    struct kt_intent ex = s_intent (f, KT_PURPOSE_EXIT, SYM_CE, KT_SIDE_SELL, 300, RS (110));
    out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_REDUCE); //  capped at 150
    assert_int_equal (out.decision.qty, 150);
    assert_int_equal (out.cmds[0].qty, 150);
    s_exec (f, ex.intent_id, SYM_CE, KT_SIDE_SELL, KT_EXEC_PARTIAL, 75, 75, RS (110));
    //  basis of 75 of 150 = half of (746250 + 742500)
    int64_t basis = 75 * 9950 + 75 * 9900;
    int64_t r1 = 75 * RS (110) - basis / 2;
    assert_int_equal (s_acct (f)->realised_day, r1);
    s_exec (f, ex.intent_id, SYM_CE, KT_SIDE_SELL, KT_EXEC_FILLED, 150, 75, RS (90));
    int64_t r2 = 75 * RS (90) - (basis - basis / 2);
    assert_int_equal (s_acct (f)->realised_day, r1 + r2);
    assert_int_equal (s_acct (f)->realised_total, r1 + r2);
    assert_int_equal (s_acct (f)->deployed, 0);
    assert_int_equal (s_acct (f)->units_total, 0);
    assert_int_equal (s_acct (f)->consec_losses, r1 + r2 < 0 ? 1 : 0);
    assert_null (risk_view_pos (s_acct (f), SYM_CE)); //  flat: nothing left of it
    r = s_peek (f, "EXISTS kt:pos:" SYM_CE);
    assert_int_equal (r->integer, 1); //  the book keeps the closed position
    freeReplyObject (r);
    r = s_peek (f, "XLEN kt:events");
    assert_true (r->integer >= 5); //  decisions, fills, state changes
    freeReplyObject (r);
}

static void
test_cancel_releases (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_PE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 75, RS (100));
    struct risk_out out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    int64_t margin = 75 * 288000; //  kt_margin: 9% + 3% of strike 24000 per unit
    assert_int_equal (s_acct (f)->reserved, margin);
    assert_int_equal (s_acct (f)->units_pe, 1);

    //  A modify of the entry raises its reservation (entry rules apply) ...
    struct kt_intent mod = s_intent (f, KT_PURPOSE_MODIFY, SYM_PE, KT_SIDE_SELL, 150, RS (100));
    snprintf (mod.ref, sizeof mod.ref, "%s", in.intent_id);
    mod.has_stop = true;
    mod.stop_trigger = RS (110);
    out = s_decide (f, &mod);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.cmds[0].action, KT_ACTION_MODIFY);
    assert_string_equal (out.cmds[0].ref, in.intent_id);
    assert_int_equal (out.nmarks, 0); //  no order of its own to mark
    assert_int_equal (s_acct (f)->reserved, 2 * margin);

    //  ... and a cancel releases it all, with the pending slot.
    struct kt_intent cx = s_intent (f, KT_PURPOSE_CANCEL, "", KT_SIDE_NONE, 0, 0);
    snprintf (cx.ref, sizeof cx.ref, "%s", in.intent_id);
    out = s_decide (f, &cx);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.cmds[0].action, KT_ACTION_CANCEL);
    s_exec (f, in.intent_id, SYM_PE, KT_SIDE_SELL, KT_EXEC_CANCELLED, 0, 0, 0);
    assert_int_equal (s_acct (f)->reserved, 0);
    assert_int_equal (s_acct (f)->units_total, 0);
    assert_int_equal (s_acct (f)->units_pe, 0);
    assert_int_equal (s_acct (f)->npos, 0);
}

//  An entry exec-gateway sliced: its fills are its slices', and the parent's record
//  carries their totals (kt_book_order_update of a SLICED parent). The first slice fill
//  counts the trade and frees the entry's pending slot, as an unsliced entry's does.
static void
test_sliced_entry_settled (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_PE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 150, RS (100));
    assert_int_equal (s_decide (f, &in).decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (s_acct (f)->units_pe, 1); //  the pending slot
    char why[200];
    struct kt_order_rec p;
    kt_teststore_order (&p, in.intent_id, SYM_PE, KT_SIDE_SELL, KT_PURPOSE_ENTRY, 150);
    snprintf (p.broker_status, sizeof p.broker_status, "%s", KT_BOOK_SLICED);
    assert_int_equal (kt_book_order_create (f->obs, &p, f->now, NULL, why, sizeof why), 1);
    struct kt_order_rec sl = p;
    snprintf (sl.coid, sizeof sl.coid, "%.18ss0", in.intent_id);
    snprintf (sl.parent, sizeof sl.parent, "%s", in.intent_id);
    sl.broker_status[0] = '\0';
    sl.qty = 75;
    assert_int_equal (kt_book_order_create (f->obs, &sl, f->now, NULL, why, sizeof why), 1);
    struct kt_book_fill fl = {.qty = 75, .price = RS (100), .ts_ns = f->now};
    snprintf (fl.coid, sizeof fl.coid, "%s", sl.coid);
    snprintf (fl.trade_id, sizeof fl.trade_id, "%s-1", sl.coid);
    struct kt_book_fill_result res;
    assert_int_equal (kt_book_fill (f->obs, &fl, &res, why, sizeof why), 0);
    p.status = KT_OS_PARTIAL;
    p.filled_qty = 75;
    p.fill_value = 75 * RS (100);
    p.avg_px = RS (100);
    assert_int_equal (kt_book_order_update (f->obs, &p, f->now, why, sizeof why), 0);
    struct kt_order_rec got;
    assert_int_equal (kt_book_order_get (f->obs, p.coid, &got, why, sizeof why), 1);
    assert_int_equal (got.filled_qty, 75);
    s_event (f, in.intent_id, SYM_PE, KT_SIDE_SELL, KT_EXEC_PARTIAL, 75, 75, RS (100));
    assert_int_equal (s_hget (f, "kt:risk:state", "trades_day"), 1);
    assert_int_equal (s_acct (f)->units_pe, 1); //  the position, no pending slot besides
}

//  Issue 13: a pending entry the strategy modifies and cancels as it re-evaluates uses
//  up no trade; a trade is counted once, at its entry's first fill.
static void
test_trades_count_fills (void **state)
{
    struct fx *f = *state;
    s_active (f);
    for (int i = 0; i < 8; i++) { //  max_trades_hour 5, max_trades_day 40
        f->now += KT_NS_PER_MIN;
        s_tick (f, SYM_PE, RS (100));
        struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 75, RS (100));
        struct risk_out out = s_decide (f, &in);
        assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
        struct kt_intent cx = s_intent (f, KT_PURPOSE_CANCEL, "", KT_SIDE_NONE, 0, 0);
        snprintf (cx.ref, sizeof cx.ref, "%s", in.intent_id);
        assert_int_equal (s_decide (f, &cx).decision.verdict, KT_VERDICT_APPROVE);
        s_exec (f, in.intent_id, SYM_PE, KT_SIDE_SELL, KT_EXEC_CANCELLED, 0, 0, 0);
    }
    assert_int_equal (s_hget (f, "kt:risk:state", "trades_day"), 0);
    //  One that fills counts once, however many fills it has.
    s_tick (f, SYM_PE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 150, RS (100));
    assert_int_equal (s_decide (f, &in).decision.verdict, KT_VERDICT_APPROVE);
    s_exec (f, in.intent_id, SYM_PE, KT_SIDE_SELL, KT_EXEC_PARTIAL, 75, 75, RS (100));
    s_exec (f, in.intent_id, SYM_PE, KT_SIDE_SELL, KT_EXEC_FILLED, 150, 75, RS (100));
    assert_int_equal (s_hget (f, "kt:risk:state", "trades_day"), 1);
    redisReply *r = s_peek (f, "LLEN kt:risk:ts:entries");
    assert_int_equal (r->integer, 1);
    freeReplyObject (r);
}

//  The entries window keeps what TRADES_HOUR reads (the newest max_trades_hour, trimmed
//  once it holds twice that), not 512 timestamps every snapshot would carry.
static void
test_entries_window_trimmed (void **state)
{
    struct fx *f = *state;
    s_active (f);
    for (int i = 0; i < 10; i++) { //  max_trades_hour 5: ten from two hours ago
        redisReply *r = s_peek (f, "LPUSH kt:risk:ts:entries %lld",
                                (long long) (f->now - 2 * 3600 * KT_NS_PER_SEC + i));
        freeReplyObject (r);
    }
    f->now += KT_NS_PER_MIN;
    s_tick (f, SYM_PE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 75, RS (100));
    assert_int_equal (s_decide (f, &in).decision.verdict, KT_VERDICT_APPROVE);
    s_exec (f, in.intent_id, SYM_PE, KT_SIDE_SELL, KT_EXEC_FILLED, 75, 75, RS (100));
    redisReply *r = s_peek (f, "LLEN kt:risk:ts:entries");
    assert_int_equal (r->integer, 5);
    freeReplyObject (r);
    r = s_peek (f, "LINDEX kt:risk:ts:entries 0");
    assert_non_null (r->str);
    assert_int_equal (atoll (r->str), f->now);
    freeReplyObject (r);
}

//  Issue 13: replacing a pending entry at the per-type limit is one decision: the new
//  entry names the old in ref, takes its slot and reservation in the same commit, and
//  the PLACE carries ref so that exec-gateway cancels the old before placing.
static void
test_replacement_one_decision (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    s_tick (f, SYM_PE, RS (100));
    struct kt_intent a = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_SELL, 75, RS (100));
    assert_int_equal (s_decide (f, &a).decision.verdict, KT_VERDICT_APPROVE);
    int64_t margin = 75 * 288000;
    //  a second pending CE without ref: one pending entry per option type
    struct kt_intent b = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_SELL, 75, RS (100));
    struct risk_out out = s_decide (f, &b);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_string_equal (out.decision.reasons[0].code, "MAX_POS");
    //  the same as a replacement of a
    b = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_SELL, 150, RS (100));
    snprintf (b.ref, sizeof b.ref, "%s", a.intent_id);
    out = s_decide (f, &b);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 1);
    assert_int_equal (out.cmds[0].action, KT_ACTION_PLACE);
    assert_string_equal (out.cmds[0].ref, a.intent_id);
    assert_int_equal (s_acct (f)->reserved, 2 * margin);
    assert_int_equal (s_acct (f)->units_ce, 1);
    assert_int_equal (s_pos (f, SYM_CE).pending, 1);
    //  the old one's CANCELLED releases nothing twice
    s_exec (f, a.intent_id, SYM_CE, KT_SIDE_SELL, KT_EXEC_CANCELLED, 0, 0, 0);
    assert_int_equal (s_acct (f)->reserved, 2 * margin);
    assert_int_equal (s_acct (f)->units_ce, 1);
    assert_int_equal (s_pos (f, SYM_CE).pending, 1);
    //  a pending PE beside it is the strategy's normal book
    struct kt_intent c = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 75, RS (100));
    assert_int_equal (s_decide (f, &c).decision.verdict, KT_VERDICT_APPROVE);
}

static void
test_kill_switch_by_hand (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    //  an open long to exit later
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    s_decide (f, &in);
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 75, 75, RS (100));

    //  redis-cli HSET kt:risk:kill active 1 reason "..." -- honoured on the next decision
    freeReplyObject (s_peek (f, "HSET kt:risk:kill active 1 reason %s", "operator test"));
    struct kt_intent e2 = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_BUY, 75, RS (100));
    s_tick (f, SYM_PE, RS (100));
    struct risk_out out = s_decide (f, &e2);
    assert_int_equal (out.decision.verdict, KT_VERDICT_HALT);
    assert_string_equal (out.decision.reasons[0].code, "KILL");
    assert_int_equal (out.decision.state, KT_STATE_HALTED);
    assert_true (out.state_changed);
    assert_true (out.ncmds >= 1);
    assert_int_equal (out.cmds[0].action, KT_ACTION_CANCEL_ALL);
    assert_int_equal (out.cmds[0].purpose, KT_PURPOSE_ENTRY);
    assert_int_equal (out.nalerts > 0, 1);
    assert_int_equal (out.alerts[0].sev, KT_SEV_CRITICAL);

    //  The exit is never blocked.
    struct kt_intent ex = s_intent (f, KT_PURPOSE_EXIT, SYM_CE, KT_SIDE_SELL, 75, RS (100));
    out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 1);

    //  Clearing the switch alone does not resume: HALTED is left by an operator.
    freeReplyObject (s_peek (f, "HSET kt:risk:kill active 0"));
    memset (&out, 0, sizeof out);
    f->now += KT_NS_PER_SEC;
    risk_core_poll (f->core, f->now, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_HALTED);
    //  tradectl resume: state back to REDUCING (since now); only a reconciliation after
    //  that makes it ACTIVE
    char ns[24];
    snprintf (ns, sizeof ns, "%lld", (long long) f->now);
    freeReplyObject (s_peek (f, "HSET kt:risk:state state REDUCING since_ns %s", ns));
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_REDUCING);
    snprintf (ns, sizeof ns, "%lld", (long long) f->now + 1);
    s_hset (f, "kt:recon:last", "agree_ns", ns);
    s_hset (f, "kt:recon:last", "session_ok", "1");
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now + 2, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_ACTIVE);
}

static void
test_kill_switch_on_poll (void **state)
{
    struct fx *f = *state;
    s_active (f);
    freeReplyObject (s_peek (f, "HSET kt:risk:kill active 1 reason %s", "by hand"));
    struct risk_out out;
    memset (&out, 0, sizeof out);
    f->now += KT_NS_PER_SEC;
    risk_core_poll (f->core, f->now, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_HALTED);
    assert_int_equal (out.ncmds, 1);
    assert_string_equal (out.cmds[0].coid, "rg-cancel-1");
    assert_true (out.state_changed);
    //  a second poll does not halt (or cancel) again
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now + 1, &out);
    assert_int_equal (out.ncmds, 0);
}

static void
test_breaker_on_price (void **state)
{
    struct fx *f = *state;
    f->cfg.flatten_on_halt = true;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 750, RS (100));
    struct risk_out out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 750, 750, RS (100));
    //  3% of Rs 10 lakh = Rs 30000 = Rs 40 x 750: at Rs 60 exactly at the limit
    f->now += KT_NS_PER_SEC;
    s_tick (f, SYM_CE, RS (60) + 5);
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_ACTIVE);
    s_tick (f, SYM_CE, RS (60));
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_HALTED);
    assert_non_null (strstr (risk_core_view (f->core)->reason, "DAILY_LOSS"));
    assert_true (risk_core_view (f->core)->day_scoped);
    assert_int_equal (out.ncmds, 2);
    assert_int_equal (out.cmds[1].action, KT_ACTION_FLATTEN);

    //  The next trading day: archived, counters reset, the day-scoped halt ended.
    f->now = s_at (25, 9, 0, 0);
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    const struct risk_view *v = risk_core_view (f->core);
    assert_int_equal (v->day, 20251125);
    assert_int_equal (v->trades_day, 0);
    assert_int_equal (v->state, KT_STATE_REDUCING); //  halt over, awaiting reconciliation
    char ns[24];
    snprintf (ns, sizeof ns, "%lld", (long long) f->now);
    s_hset (f, "kt:recon:last", "agree_ns", ns);
    s_hset (f, "kt:recon:last", "session_ok", "1");
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now + 1, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_ACTIVE);
    redisReply *r = s_peek (f, "HGET kt:risk:day:20251124 trades");
    assert_string_equal (r->str, "1");
    freeReplyObject (r);
}

//  An entry approved, then rejected with reason.
static struct risk_out
s_entry_rejected (struct fx *f, const char *reason, char *coid, size_t len)
{
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    struct risk_out out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    snprintf (coid, len, "%s", in.intent_id);
    struct kt_exec_event ev;
    memset (&ev, 0, sizeof ev);
    snprintf (ev.coid, sizeof ev.coid, "%s", in.intent_id);
    snprintf (ev.sym, sizeof ev.sym, SYM_CE);
    ev.side = KT_SIDE_BUY;
    ev.event = KT_EXEC_REJECTED;
    ev.purpose = KT_PURPOSE_ENTRY;
    snprintf (ev.reason, sizeof ev.reason, "%s", reason);
    memset (&out, 0, sizeof out);
    risk_core_on_exec (f->core, &ev, f->now, &out);
    return out;
}

static void
test_rejects_and_session (void **state)
{
    struct fx *f = *state;
    f->cfg.max_trades_hour = 20;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    char coid[KT_ID_LEN];
    for (int i = 0; i < 4; i++)
        s_entry_rejected (f, "BROKER: InputException: price out of range", coid, sizeof coid);
    //  our own refusals do not count
    struct risk_out out = s_entry_rejected (f, "STORE_DOWN: redis gone", coid, sizeof coid);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_ACTIVE);
    //  the same reject twice counts once
    struct kt_exec_event ev;
    memset (&ev, 0, sizeof ev);
    snprintf (ev.coid, sizeof ev.coid, "%s", coid);
    ev.event = KT_EXEC_REJECTED;
    snprintf (ev.reason, sizeof ev.reason, "BROKER: InputException: price out of range");
    memset (&out, 0, sizeof out);
    risk_core_on_exec (f->core, &ev, f->now, &out);
    risk_core_on_exec (f->core, &ev, f->now, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_ACTIVE);
    out = s_entry_rejected (f, "BROKER: MarginException: insufficient funds", coid, sizeof coid);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_HALTED);
    assert_non_null (strstr (risk_core_view (f->core)->reason, "REJECTS"));

    //  TokenException: session invalid
    snprintf (ev.coid, sizeof ev.coid, "X-tok");
    snprintf (ev.reason, sizeof ev.reason, "TokenException: Incorrect api_key or access_token");
    memset (&out, 0, sizeof out);
    risk_core_on_exec (f->core, &ev, f->now, &out);
    assert_false (risk_core_view (f->core)->session_ok);
}

//  The broker session as exec-gateway (exec:session) and md-gateway (md:status) find it:
//  either invalid halts (SESSION) at the next poll and invalidates the account's
//  session; a resume while it is still invalid is halted again; once both are valid
//  the resume stands. Absent keys say nothing.
static void
test_session_from_gateways (void **state)
{
    struct fx *f = *state;
    s_active (f);
    struct risk_out out;
    const char *bad[][3] = {{"kt:exec:session", "ok", "0"},
                            {"kt:md:status", "session_refused", "1"}};
    const char *good[][3] = {{"kt:exec:session", "ok", "1"},
                             {"kt:md:status", "session_refused", "0"}};
    const char *who[] = {"exec-gateway", "md-gateway"};
    for (int k = 0; k < 2; k++) {
        s_hset (f, bad[k][0], bad[k][1], bad[k][2]);
        s_hset (f, "kt:exec:session", "reason", "TokenException: Incorrect access_token");
        memset (&out, 0, sizeof out);
        f->now += KT_NS_PER_SEC;
        risk_core_poll (f->core, f->now, &out);
        const struct risk_view *v = risk_core_view (f->core);
        assert_int_equal (v->state, KT_STATE_HALTED);
        assert_false (v->session_ok);
        assert_non_null (strstr (v->reason, "SESSION"));
        assert_non_null (strstr (v->reason, who[k]));
        //  resumed while still invalid: halted again
        kt_trading_state_t was;
        assert_int_equal (
            risk_state_resume (f->obs, &f->obs_ids, "test", NULL, f->now, &was, &f->acct), 0);
        memset (&out, 0, sizeof out);
        f->now += KT_NS_PER_SEC;
        risk_core_poll (f->core, f->now, &out);
        assert_int_equal (risk_core_view (f->core)->state, KT_STATE_HALTED);
        //  valid again, resumed: REDUCING until the reconciler agrees
        s_hset (f, good[k][0], good[k][1], good[k][2]);
        assert_int_equal (
            risk_state_resume (f->obs, &f->obs_ids, "test", NULL, f->now, &was, &f->acct), 0);
        memset (&out, 0, sizeof out);
        f->now += KT_NS_PER_SEC;
        risk_core_poll (f->core, f->now, &out);
        assert_int_equal (risk_core_view (f->core)->state, KT_STATE_REDUCING);
        assert_true (risk_core_view (f->core)->session_ok);
    }
}

static void
test_redis_down (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    s_decide (f, &in);
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 75, 75, RS (100));

    assert_int_equal (kt_testredis_kill (f->srv), 0);
    struct kt_intent e2 = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    struct risk_out out = s_decide (f, &e2);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    bool store_down = false;
    for (int i = 0; i < out.decision.nreasons; i++)
        store_down = store_down || strcmp (out.decision.reasons[i].code, "STORE_DOWN") == 0;
    assert_true (store_down);
    assert_int_equal (out.ncmds, 0);
    assert_true (out.nalerts >= 1);
    assert_int_equal (out.alerts[0].sev, KT_SEV_CRITICAL);
    assert_string_equal (out.alerts[0].key, "risk.store_down");

    struct kt_intent ex = s_intent (f, KT_PURPOSE_EXIT, SYM_CE, KT_SIDE_SELL, 75, RS (100));
    out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 1);
    assert_int_equal (out.nalerts, 0); //  alerted once per outage
    //  asked again: the same answer, no second order
    out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 0);
    //  its fill arrives while Redis is down: queued, settled when Redis is back (and
    //  exec-gateway has written it into the book)
    s_event (f, ex.intent_id, SYM_CE, KT_SIDE_SELL, KT_EXEC_FILLED, 75, 75, RS (105));

    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    s_book (f, ex.intent_id, SYM_CE, KT_SIDE_SELL, KT_EXEC_FILLED, 75, RS (105), NULL);
    f->now += 10 * KT_NS_PER_SEC;
    usleep ((useconds_t) kt_store_retry_in_ms (f->store) * 1000 + 50000);
    out = (struct risk_out){0};
    risk_core_poll (f->core, f->now, &out);
    const struct risk_view *v = risk_core_view (f->core);
    assert_true (v->loaded);
    assert_int_equal (out.nalerts, 1);
    assert_int_equal (out.alerts[0].sev, KT_SEV_INFO); //  "reaches Redis again"
    //  the queued fill was applied: flat, Rs 5 x 75 realised
    assert_null (risk_view_pos (v, SYM_CE));
    assert_int_equal (v->realised_day, 75 * RS (5));
    //  and the exit decided offline is still answered the same, without a second order
    out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 0);
}

//  A TokenException that arrives while Redis is down is queued with the other
//  executions; when it is applied later it must still mark the session invalid and
//  HALT (SESSION), as it does when Redis is up.
static void
test_token_exception_while_redis_down (void **state)
{
    struct fx *f = *state;
    s_active (f);
    assert_int_equal (kt_testredis_kill (f->srv), 0);
    struct kt_exec_event ev;
    memset (&ev, 0, sizeof ev);
    snprintf (ev.coid, sizeof ev.coid, "X-tok");
    snprintf (ev.sym, sizeof ev.sym, SYM_CE);
    ev.side = KT_SIDE_BUY;
    ev.event = KT_EXEC_REJECTED;
    snprintf (ev.reason, sizeof ev.reason, "TokenException: Incorrect api_key or access_token");
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_on_exec (f->core, &ev, f->now, &out);

    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    f->now += 10 * KT_NS_PER_SEC;
    usleep ((useconds_t) kt_store_retry_in_ms (f->store) * 1000 + 50000);
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    const struct risk_view *v = risk_core_view (f->core);
    assert_true (v->loaded);
    assert_false (v->session_ok);
    assert_int_equal (v->state, KT_STATE_HALTED);
    assert_non_null (strstr (v->reason, "SESSION"));
}

//  Without Redis, exits are checked against the last known book: a second exit of the
//  whole position (a STOP after an EXIT) must meet the cover of the first, or both
//  fill and flip the long into an unchecked short.
static void
test_offline_exits_capped (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    s_decide (f, &in);
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 75, 75, RS (100));

    assert_int_equal (kt_testredis_kill (f->srv), 0);
    struct kt_intent ex = s_intent (f, KT_PURPOSE_EXIT, SYM_CE, KT_SIDE_SELL, 75, RS (100));
    struct risk_out out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 1);
    struct kt_intent st = s_intent (f, KT_PURPOSE_STOP, SYM_CE, KT_SIDE_SELL, 75, RS (95));
    out = s_decide (f, &st);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_int_equal (out.ncmds, 0);
}

//  Without Redis too, a MODIFY of an exit may not grow it past the position.
static void
test_offline_modify_exit_capped (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    s_decide (f, &in);
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 75, 75, RS (100));
    struct kt_intent ex = s_intent (f, KT_PURPOSE_EXIT, SYM_CE, KT_SIDE_SELL, 75, RS (110));
    assert_int_equal (s_decide (f, &ex).decision.verdict, KT_VERDICT_APPROVE);

    //  with Redis: raising the exit to 150 is cut to what the position allows
    struct kt_intent m = s_intent (f, KT_PURPOSE_MODIFY, SYM_CE, KT_SIDE_SELL, 150, RS (110));
    snprintf (m.ref, sizeof m.ref, "%s", ex.intent_id);
    struct risk_out out = s_decide (f, &m);
    assert_int_equal (out.decision.verdict, KT_VERDICT_REDUCE);
    assert_int_equal (out.decision.qty, 75);
    assert_int_equal (out.cmds[0].qty, 75);
    assert_int_equal (s_pos (f, SYM_CE).exiting, 75);
    //  lowering is free
    m = s_intent (f, KT_PURPOSE_MODIFY, SYM_CE, KT_SIDE_SELL, 0, RS (110));
    m.qty = 75;
    snprintf (m.ref, sizeof m.ref, "%s", ex.intent_id);
    assert_int_equal (s_decide (f, &m).decision.verdict, KT_VERDICT_APPROVE);

    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out); //  the view knows the exit
    assert_int_equal (kt_testredis_kill (f->srv), 0);
    m = s_intent (f, KT_PURPOSE_MODIFY, SYM_CE, KT_SIDE_SELL, 300, RS (110));
    snprintf (m.ref, sizeof m.ref, "%s", ex.intent_id);
    out = s_decide (f, &m);
    assert_int_equal (out.decision.verdict, KT_VERDICT_REDUCE);
    assert_int_equal (out.decision.qty, 75);
    assert_int_equal (out.ncmds, 1);
}

static void
test_unanswered_sweep (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent a = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    struct kt_intent b = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_BUY, 75, RS (100));
    s_tick (f, SYM_PE, RS (100));
    s_decide (f, &a);
    s_decide (f, &b);
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out); //  refresh the view
    //  exec-gateway recorded b as rejected, but its event never reached us
    freeReplyObject (s_peek (f, "HSET kt:order:%s status REJECTED filled_qty 0 sym %s side BUY",
                             b.intent_id, SYM_PE));
    //  not yet past the timeout: nothing
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now + 29 * KT_NS_PER_SEC, &out);
    assert_int_equal (out.ncmds, 0);
    f->now += 31 * KT_NS_PER_SEC;
    s_tick (f, SYM_CE, RS (100));
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now, &out);
    //  a: unknown to exec-gateway -> asked again (same coid), reservation kept, alerted
    assert_int_equal (out.ncmds, 1);
    assert_string_equal (out.cmds[0].coid, a.intent_id);
    assert_int_equal (out.cmds[0].action, KT_ACTION_PLACE);
    assert_int_equal (out.cmds[0].qty, 75);
    //  the order as it was sent, from the fields its sent mark wrote
    assert_int_equal (out.cmds[0].order_type, KT_OT_LIMIT);
    assert_int_equal (out.cmds[0].price, RS (100));
    assert_int_equal (out.cmds[0].product, KT_PROD_MIS);
    assert_int_equal (out.alerts[0].sev, KT_SEV_CRITICAL);
    char key[64];
    snprintf (key, sizeof key, "kt:intent:%s", a.intent_id);
    assert_int_equal (s_hget (f, key, "unresolved"), 1);
    //  b: settled from exec-gateway's record -> released
    assert_int_equal (s_acct (f)->reserved, 75 * RS (100));
    assert_int_equal (s_acct (f)->units_total, 1);
    //  the next sweep does not alert again
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now + 1, &out);
    assert_int_equal (out.nalerts, 0);
    assert_int_equal (out.ncmds, 0);
}

//  An exit exec-gateway never confirmed is asked for again with its reason: the journal's
//  exit_reason must not depend on which of the two commands arrived.
static void
test_unanswered_exit_keeps_reason (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    s_decide (f, &in);
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 75, 75, RS (100));
    struct kt_intent ex = s_intent (f, KT_PURPOSE_EXIT, SYM_CE, KT_SIDE_SELL, 75, RS (100));
    ex.reason = KT_EXIT_LOSS_DAY;
    struct risk_out out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 1);
    assert_int_equal (out.cmds[0].reason, KT_EXIT_LOSS_DAY);
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    f->now += 31 * KT_NS_PER_SEC;
    s_tick (f, SYM_CE, RS (100));
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now, &out);
    int k = -1;
    for (int i = 0; i < out.ncmds; i++)
        if (strcmp (out.cmds[i].coid, ex.intent_id) == 0)
            k = i;
    assert_true (k >= 0);
    assert_int_equal (out.cmds[k].reason, KT_EXIT_LOSS_DAY);
}

static bool
s_has_code (const struct kt_decision *d, const char *code)
{
    for (int i = 0; i < d->nreasons; i++) {
        if (strcmp (d->reasons[i].code, code) == 0)
            return true;
    }
    return false;
}

//  Decide an entry while Redis is frozen: the EVALSHA times out on our side, but Redis
//  runs it once it thaws (an APPROVE with a reservation the caller never heard of).
static struct kt_intent
s_decide_frozen (struct fx *f)
{
    const int backoff[] = {10};
    kt_store_set_backoff (f->store, backoff, 1);
    //  load the decide script first (a refusal: no tick of the PE yet)
    struct kt_intent warm = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_BUY, 75, RS (100));
    assert_int_equal (s_decide (f, &warm).decision.verdict, KT_VERDICT_BLOCK);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    kill (f->srv->pid, SIGSTOP);
    struct risk_out out = s_decide (f, &in);
    kill (f->srv->pid, SIGCONT);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "STORE_DOWN"));
    assert_int_equal (out.ncmds, 0);
    //  the script did run in Redis after all (the premise of this test)
    char key[64];
    snprintf (key, sizeof key, "kt:intent:%s", in.intent_id);
    for (int i = 0; i < 200 && s_acct (f)->reserved == 0; i++)
        usleep (10000);
    redisReply *r = s_peek (f, "HGET %s verdict", key);
    assert_int_equal (r->type, REDIS_REPLY_STRING);
    freeReplyObject (r);
    usleep ((useconds_t) kt_store_retry_in_ms (f->store) * 1000 + 20000);
    return in;
}

//  After the refusal: nothing reserved, no slot, the record says BLOCK STORE_DOWN.
static void
s_assert_refused (struct fx *f, const struct kt_intent *in)
{
    char key[64];
    snprintf (key, sizeof key, "kt:intent:%s", in->intent_id);
    assert_int_equal (s_acct (f)->reserved, 0);
    assert_int_equal (s_acct (f)->units_total, 0);
    redisReply *r = s_peek (f, "SISMEMBER kt:risk:open %s", in->intent_id);
    assert_int_equal (r->integer, 0);
    freeReplyObject (r);
    r = s_peek (f, "HMGET %s verdict code1 text1", key);
    assert_string_equal (r->element[0]->str, "BLOCK");
    assert_string_equal (r->element[1]->str, "STORE_DOWN");
    assert_non_null (strstr (r->element[2]->str, "decision outcome unknown"));
    freeReplyObject (r);
}

//  The EVALSHA of decide timed out after Redis ran it: the caller was told BLOCK, so the
//  order must never be sent, not even by the sweep later; the reservation is released
//  and the intent recorded as refused, so a retry gets the same BLOCK.
static void
test_decide_timeout_refused (void **state)
{
    struct fx *f = *state;
    s_active (f);
    struct kt_intent in = s_decide_frozen (f);

    f->now += 31 * KT_NS_PER_SEC;
    s_tick (f, SYM_CE, RS (100));
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    s_assert_refused (f, &in); //  settled as soon as Redis answers
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now, &out);
    assert_int_equal (out.ncmds, 0); //  never the refused order
    s_assert_refused (f, &in);
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now + KT_NS_PER_SEC, &out);
    assert_int_equal (out.ncmds, 0);

    //  a retry, even by a restarted risk-gate, gets the BLOCK it got first
    risk_core_destroy (&f->core);
    f->core = risk_core_new (&f->cfg, f->store, "risk-test");
    risk_core_set_instruments (f->core, f->instr);
    out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "STORE_DOWN"));
    assert_int_equal (out.ncmds, 0);
}

//  The same, but risk-gate dies before it can release: the next instance's sweep finds
//  an approval that was never marked sent and refuses it instead of sending it.
static void
test_decide_timeout_restart (void **state)
{
    struct fx *f = *state;
    s_active (f);
    struct kt_intent in = s_decide_frozen (f);
    risk_core_destroy (&f->core);
    f->core = risk_core_new (&f->cfg, f->store, "risk-test");
    risk_core_set_instruments (f->core, f->instr);
    struct risk_out out;
    memset (&out, 0, sizeof out);
    assert_int_equal (risk_core_start (f->core, f->now, &out), 0);
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now + 10 * KT_NS_PER_SEC, &out);
    assert_int_equal (out.ncmds, 0); //  not yet timed out: kept
    assert_int_equal (s_acct (f)->reserved, 75 * RS (100));
    f->now += 31 * KT_NS_PER_SEC;
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now, &out);
    assert_int_equal (out.ncmds, 0);
    assert_true (out.nalerts >= 1);
    s_assert_refused (f, &in);
}

//  The sent mark is a step of its own, after the decision (and the caller's answer). If
//  it gets no answer the order still leaves (the caller was told APPROVE): Redis counts
//  as down, and the core remembers the order, so its sweep marks it sent (and follows
//  it) instead of refusing it as an approval that never left.
static void
test_mark_lost (void **state)
{
    struct fx *f = *state;
    s_active (f);
    const int backoff[] = {10};
    kt_store_set_backoff (f->store, backoff, 1);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_decide (f->core, &in, f->now, &out);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.ncmds, 1);
    assert_int_equal (out.nmarks, 1);
    assert_string_equal (out.marks[0], in.intent_id);
    char key[64];
    snprintf (key, sizeof key, "kt:intent:%s", in.intent_id);
    assert_int_equal (s_hget (f, key, "sent_ns"), 0); //  not marked by decide

    assert_int_equal (kt_testredis_kill (f->srv), 0);
    assert_int_equal (risk_core_mark_sent (f->core, &out, f->now), -1);
    assert_int_equal (out.ncmds, 1); //  still to be sent
    assert_true (out.nalerts >= 1);
    assert_string_equal (out.alerts[0].key, "risk.store_down");

    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    redisFree (f->peek);
    f->peek = kt_testredis_connect (f->srv);
    usleep ((useconds_t) kt_store_retry_in_ms (f->store) * 1000 + 50000);
    assert_int_equal (s_hget (f, key, "sent_ns"), 0); //  the mark was lost
    assert_int_equal (s_acct (f)->reserved, 75 * RS (100));
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now + KT_NS_PER_SEC, &out);
    assert_true (risk_core_view (f->core)->loaded);

    //  past the timeout: marked now, not refused; the reservation stays
    f->now += 31 * KT_NS_PER_SEC;
    s_tick (f, SYM_CE, RS (100));
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now, &out);
    assert_int_equal (out.ncmds, 0);
    assert_int_equal (s_hget (f, key, "sent_ns"), f->now);
    assert_int_equal (s_acct (f)->reserved, 75 * RS (100));
    redisReply *r = s_peek (f, "SISMEMBER kt:risk:open %s", in.intent_id);
    assert_int_equal (r->integer, 1);
    freeReplyObject (r);
    //  and followed as a sent order: unknown to exec-gateway later, asked for again
    f->now += 31 * KT_NS_PER_SEC;
    s_tick (f, SYM_CE, RS (100));
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now, &out);
    assert_int_equal (out.ncmds, 1);
    assert_string_equal (out.cmds[0].coid, in.intent_id);
    assert_int_equal (out.cmds[0].action, KT_ACTION_PLACE);
    //  the lost mark was redone with the order as sent
    assert_int_equal (out.cmds[0].order_type, KT_OT_LIMIT);
    assert_int_equal (out.cmds[0].price, RS (100));
    assert_true (out.cmds[0].has_stop);
}

//  A MODIFY of an open entry without a stop keeps the entry's attached stop: R is judged
//  on it, as for a fresh entry of that size (a modify to 750 units must not slip past
//  RISK_PER_TRADE).
static void
test_modify_entry_keeps_its_stop (void **state)
{
    struct fx *f = *state;
    f->cfg.max_lots = 20;
    f->cfg.max_order_notional = RS (10000000);
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    in.stop_trigger = RS (80); //  R = 75 x Rs 20 = Rs 1,500
    struct risk_out out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);

    //  the same size as a fresh entry: R = 750 x Rs 20 = Rs 15,000 > Rs 10,000
    struct kt_intent big = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_BUY, 750, RS (100));
    big.stop_trigger = RS (80);
    s_tick (f, SYM_PE, RS (100));
    out = s_decide (f, &big);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "RISK_PER_TRADE"));

    struct kt_intent mod = s_intent (f, KT_PURPOSE_MODIFY, SYM_CE, KT_SIDE_BUY, 750, RS (100));
    snprintf (mod.ref, sizeof mod.ref, "%s", in.intent_id);
    assert_false (mod.has_stop);
    out = s_decide (f, &mod);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "RISK_PER_TRADE"));
    assert_int_equal (out.ncmds, 0);

    //  within R it passes: 300 x Rs 20 = Rs 6,000
    mod = s_intent (f, KT_PURPOSE_MODIFY, SYM_CE, KT_SIDE_BUY, 300, RS (100));
    snprintf (mod.ref, sizeof mod.ref, "%s", in.intent_id);
    out = s_decide (f, &mod);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    //  a modify that moves the stop is judged on the new stop, and keeps it
    mod = s_intent (f, KT_PURPOSE_MODIFY, SYM_CE, KT_SIDE_BUY, 300, RS (100));
    snprintf (mod.ref, sizeof mod.ref, "%s", in.intent_id);
    mod.has_stop = true;
    mod.stop_trigger = RS (95);
    out = s_decide (f, &mod);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    mod = s_intent (f, KT_PURPOSE_MODIFY, SYM_CE, KT_SIDE_BUY, 750, RS (100));
    snprintf (mod.ref, sizeof mod.ref, "%s", in.intent_id);
    out = s_decide (f, &mod); //  750 x Rs 5 = Rs 3,750
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
}

//  The attached stop is checked like an order of its own, and so is an SL entry: the
//  broker rejects a stop-limit whose limit is on the wrong side of its trigger, and a
//  stop rejected after its entry filled leaves a position without a stop.
static void
test_attached_stop_validated (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    s_tick (f, SYM_PE, RS (100));

    //  a short's stop is a BUY SL: its limit may not be below its trigger
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 75, RS (100));
    in.stop_trigger = RS (110);
    in.stop_price = RS (108);
    struct risk_out out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "BAD_INTENT"));
    assert_int_equal (out.ncmds, 0);

    //  a long's stop is a SELL SL: its limit may not be above its trigger
    in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    in.stop_trigger = RS (90);
    in.stop_price = RS (91);
    out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "BAD_INTENT"));

    //  a SELL SL entry with its limit above its trigger
    in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 75, RS (98));
    in.order_type = KT_OT_SL;
    in.trigger = RS (97);
    in.price = RS (98);
    in.stop_trigger = RS (110);
    out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "BAD_INTENT"));

    //  a stop outside the price band (fat finger)
    in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    in.stop_trigger = RS (1);
    out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "PRICE_BAND"));

    //  a stop that would trigger at once (a long's stop above the last price)
    in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (105));
    in.stop_trigger = RS (101);
    out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
    assert_true (s_has_code (&out.decision, "PRICE_BAND"));

    //  and a good one passes: SELL SL stop with its limit below the trigger
    in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    in.stop_trigger = RS (90);
    in.stop_price = RS (89);
    out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
}

//  With a stop resting, a CANCEL of the stop then an exit of the whole position: the
//  exit passes (the cancelled stop no longer covers), and the stop's CANCELLED event
//  later does not free the new exit's cover.
static void
test_exit_after_stop_cancel (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_PE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 75, RS (100));
    struct risk_out out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    s_exec (f, in.intent_id, SYM_PE, KT_SIDE_SELL, KT_EXEC_FILLED, 75, 75, RS (100));

    struct kt_intent st = s_intent (f, KT_PURPOSE_STOP, SYM_PE, KT_SIDE_BUY, 75, RS (110));
    st.order_type = KT_OT_SLM;
    st.trigger = RS (110);
    st.price = 0;
    out = s_decide (f, &st);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (s_pos (f, SYM_PE).exiting, 75);

    struct kt_intent cx = s_intent (f, KT_PURPOSE_CANCEL, "", KT_SIDE_NONE, 0, 0);
    snprintf (cx.ref, sizeof cx.ref, "%s", st.intent_id);
    out = s_decide (f, &cx);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);

    struct kt_intent ex = s_intent (f, KT_PURPOSE_EXIT, SYM_PE, KT_SIDE_BUY, 75, 0);
    ex.order_type = KT_OT_MARKET;
    out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.decision.qty, 75);
    assert_int_equal (out.ncmds, 1);
    assert_int_equal (s_pos (f, SYM_PE).exiting, 75);

    //  the stop's cancel confirmed: the exit still covers the position
    s_exec (f, st.intent_id, SYM_PE, KT_SIDE_BUY, KT_EXEC_CANCELLED, 0, 0, 0);
    assert_int_equal (s_pos (f, SYM_PE).exiting, 75);
    struct kt_intent ex2 = s_intent (f, KT_PURPOSE_EXIT, SYM_PE, KT_SIDE_BUY, 75, 0);
    ex2.order_type = KT_OT_MARKET;
    out = s_decide (f, &ex2);
    assert_int_equal (out.decision.verdict, KT_VERDICT_BLOCK);
}

//  REJECTS counts only the broker's rejections of orders that add risk: the CANCEL_ALLs
//  of six halts answered REJECTED (today's exec-gateway rejects every command) and a
//  rejection without the broker's code do not count.
static void
test_rejects_only_broker_entries (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct risk_out out;
    for (int i = 0; i < 6; i++) {
        char coid[24];
        snprintf (coid, sizeof coid, "rg-cancel-%d", i);
        struct kt_exec_event ev;
        memset (&ev, 0, sizeof ev);
        snprintf (ev.coid, sizeof ev.coid, "%s", coid);
        ev.event = KT_EXEC_REJECTED;
        ev.purpose = KT_PURPOSE_ENTRY;
        snprintf (ev.reason, sizeof ev.reason, "broker order entry is not enabled in this build");
        memset (&out, 0, sizeof out);
        risk_core_on_exec (f->core, &ev, f->now, &out);
    }
    assert_int_equal (risk_core_view (f->core)->nrejects_ts, 0);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_ACTIVE);

    //  entries rejected by the broker count; one without the broker's code does not
    for (int i = 0; i < 5; i++) {
        struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
        out = s_decide (f, &in);
        assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
        struct kt_exec_event ev;
        memset (&ev, 0, sizeof ev);
        snprintf (ev.coid, sizeof ev.coid, "%s", in.intent_id);
        snprintf (ev.sym, sizeof ev.sym, SYM_CE);
        ev.side = KT_SIDE_BUY;
        ev.event = KT_EXEC_REJECTED;
        ev.purpose = KT_PURPOSE_ENTRY;
        snprintf (ev.reason, sizeof ev.reason,
                  i == 0 ? "order entry disabled" : "BROKER: InputException: bad price");
        memset (&out, 0, sizeof out);
        risk_core_on_exec (f->core, &ev, f->now, &out);
    }
    assert_int_equal (risk_core_view (f->core)->nrejects_ts, 4);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_ACTIVE);
}

//  Bug g): a FILLED event without side or symbol no longer matters: risk-gate takes
//  positions and fills from the book (exec-gateway applied the fill with its side), so
//  the event only tells it to look, and nothing is half-applied or lost.
static void
test_fill_without_side_refused_whole (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    //  a fill of an order risk-gate did not approve (an attached stop), event without side
    s_book (f, "STOP-1", SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 75, RS (100), NULL);
    struct risk_out out = s_event (f, "STOP-1", "", KT_SIDE_NONE, KT_EXEC_FILLED, 75, 75, RS (100));
    assert_int_equal (out.nalerts, 0);
    const struct risk_pos *p = risk_view_pos (risk_core_view (f->core), SYM_CE);
    assert_non_null (p);
    assert_int_equal (p->qty, 75);

    //  an entry of ours filled, event without a side: the book has it
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_PE, KT_SIDE_SELL, 75, RS (100));
    s_tick (f, SYM_PE, RS (100));
    out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    s_exec (f, in.intent_id, SYM_PE, KT_SIDE_NONE, KT_EXEC_FILLED, 75, 75, RS (100));
    p = risk_view_pos (risk_core_view (f->core), SYM_PE);
    assert_non_null (p);
    assert_int_equal (p->qty, -75);
    assert_int_equal (p->pending, 0);
    assert_null (risk_view_order (risk_core_view (f->core), in.intent_id));
}

//  A FILLED event lost after an earlier event of the same order (PARTIAL seen, FILLED
//  dropped by PUB/SUB): the sweep looks the order up again once it has been quiet for
//  the time-out, applies the fill and releases the reservation, so its exit passes.
static void
test_sweep_recovers_lost_fill (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 150, RS (100));
    struct risk_out out = s_decide (f, &in);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    s_exec (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_PARTIAL, 75, 75, RS (100));
    //  exec-gateway's book says FILLED; the event never came
    s_book (f, in.intent_id, SYM_CE, KT_SIDE_BUY, KT_EXEC_FILLED, 150, RS (100), NULL);
    f->now += (f->cfg.resv_timeout_s + 1) * KT_NS_PER_SEC;
    memset (&out, 0, sizeof out);
    risk_core_sweep (f->core, f->now, &out);
    const struct risk_view *v = risk_core_view (f->core);
    const struct risk_pos *p = risk_view_pos (v, SYM_CE);
    assert_non_null (p);
    assert_int_equal (p->qty, 150);
    assert_int_equal (v->reserved, 0);
    assert_null (risk_view_order (v, in.intent_id));
    struct kt_intent ex = s_intent (f, KT_PURPOSE_EXIT, SYM_CE, KT_SIDE_SELL, 150, RS (100));
    out = s_decide (f, &ex);
    assert_int_equal (out.decision.verdict, KT_VERDICT_APPROVE);
    assert_int_equal (out.decision.qty, 150);
}

//  tradectl's halt over risk-gate's socket (purpose HALT): answered HALT; with Redis up
//  the kill switch is set and trading HALTs at once; with Redis down risk-gate holds
//  the halt (entries refused) and writes both when Redis is back.
static void
test_halt_intent (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    struct kt_intent h;
    memset (&h, 0, sizeof h);
    snprintf (h.intent_id, sizeof h.intent_id, "H-1");
    snprintf (h.strategy, sizeof h.strategy, "tradectl");
    h.purpose = KT_PURPOSE_HALT;
    struct risk_out out = s_decide (f, &h);
    assert_int_equal (out.decision.verdict, KT_VERDICT_HALT);
    assert_string_equal (out.decision.reasons[0].code, "KILL");
    assert_int_equal (out.decision.state, KT_STATE_HALTED);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_HALTED);
    assert_int_equal (s_hget (f, "kt:risk:kill", "active"), 1);
    bool cancel = false;
    for (int i = 0; i < out.ncmds; i++)
        cancel = cancel || out.cmds[i].action == KT_ACTION_CANCEL_ALL;
    assert_true (cancel);
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    out = s_decide (f, &in);
    assert_true (out.decision.verdict >= KT_VERDICT_BLOCK);
}

static void
test_halt_intent_while_redis_down (void **state)
{
    struct fx *f = *state;
    s_active (f);
    s_tick (f, SYM_CE, RS (100));
    assert_int_equal (kt_testredis_kill (f->srv), 0);
    struct kt_intent h;
    memset (&h, 0, sizeof h);
    snprintf (h.intent_id, sizeof h.intent_id, "H-2");
    snprintf (h.strategy, sizeof h.strategy, "tradectl");
    h.purpose = KT_PURPOSE_HALT;
    struct risk_out out;
    memset (&out, 0, sizeof out);
    risk_core_decide (f->core, &h, f->now, &out);
    assert_int_equal (out.decision.verdict, KT_VERDICT_HALT);
    //  held: an entry is refused for the halt, not only for the outage
    struct kt_intent in = s_intent (f, KT_PURPOSE_ENTRY, SYM_CE, KT_SIDE_BUY, 75, RS (100));
    memset (&out, 0, sizeof out);
    risk_core_decide (f->core, &in, f->now, &out);
    assert_int_equal (out.decision.verdict, KT_VERDICT_HALT);
    assert_string_equal (out.decision.reasons[0].code, "KILL");

    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    f->now += 10 * KT_NS_PER_SEC;
    usleep ((useconds_t) kt_store_retry_in_ms (f->store) * 1000 + 50000);
    memset (&out, 0, sizeof out);
    risk_core_poll (f->core, f->now, &out);
    assert_int_equal (risk_core_view (f->core)->state, KT_STATE_HALTED);
    redisFree (f->peek); //  the restart closed it
    f->peek = kt_testredis_connect (f->srv);
    assert_int_equal (s_hget (f, "kt:risk:kill", "active"), 1);
    assert_non_null (strstr (risk_core_view (f->core)->reason, "KILL"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_trade_life, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cancel_releases, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sliced_entry_settled, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_trades_count_fills, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_entries_window_trimmed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_replacement_one_decision, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_kill_switch_by_hand, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_kill_switch_on_poll, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_breaker_on_price, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rejects_and_session, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_session_from_gateways, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redis_down, s_setup_aof, s_teardown),
        cmocka_unit_test_setup_teardown (test_unanswered_sweep, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unanswered_exit_keeps_reason, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_offline_exits_capped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_offline_modify_exit_capped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_token_exception_while_redis_down, s_setup_aof,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_decide_timeout_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_decide_timeout_restart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_mark_lost, s_setup_aof, s_teardown),
        cmocka_unit_test_setup_teardown (test_modify_entry_keeps_its_stop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_attached_stop_validated, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_exit_after_stop_cancel, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rejects_only_broker_entries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_fill_without_side_refused_whole, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sweep_recovers_lost_fill, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_halt_intent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_halt_intent_while_redis_down, s_setup_aof,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
