/*  strat - the strategy process: market data, executions and risk state in; intents
 *  out to risk-gate.
 *
 *  Design: one loop. Every input arrives through kt_proc dispatch as a decoded struct
 *  and goes to the pure core exactly as the backtest's engine gives it: ticks at once,
 *  final bars at once, and on_timer(minute close) once the minute's bars are in (a bar
 *  of a later minute arrived, or strategy.bar_grace_ms of wall time passed since the
 *  minute's last bar). The core's intents become ORDER_INTENTs sent through the
 *  lazy-pirate client (never blocking); decisions and EXEC_EVENTs of our orders come
 *  back as core events (strat_map.c). Every intent and decision is appended to `events`
 *  (type strat) and the strat:state hash is rewritten after each minute close, decision
 *  and execution, with queued writes only. The one synchronous Redis call is the INCRBY
 *  that reserves a block of intent ids (once per STRAT_IDS_BLOCK intents); start-up
 *  warm-up and recovery (strat_warm.c) read Redis and Kite before trading begins. No
 *  allocation, Redis call or log line per tick. */

#include "strat.h"
#include "strat_warm.h"
#include "kt_instr_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NS_MIN (60LL * 1000000000LL)
#define S_GRACE_TICK_MS 100  //  how often the minute close is checked
#define S_LOAD_RETRY_MS 5000 //  instruments not there yet: again after this (wall)

struct strat {
    kt_proc_t *proc;             //  borrowed
    const struct strat_cfg *cfg; //  borrowed
    kt_store_t *store;           //  borrowed (the proc's)
    kt_bus_client_t *risk;       //  owned: intents to risk-gate
    kt_instr_table_t *instr;     //  owned
    strat_core_t *core;          //  owned
    struct strat_params params;  //  cfg->p with r_value at the rollout stage (core borrows it)
    strat_warm_t *warm;          //  owned while warming up
    kt_product_t product;
    struct strat_ids ids;
    struct strat_map map;
    struct strat_out out;
    struct strat_counts n;
    struct kt_strat_state_rec rec; //  the last strat:state written (its strings are sent)
    int grace_timer;
    int load_timer;      //  instruments retry, 0 = none
    int64_t instr_fails; //  attempts to load them that failed
    //  the minute being filled: bars of minute cur_min given, on_timer not yet
    int64_t cur_min;        //  minute start, 0 = none
    bool cur_open;          //  on_timer(cur_min + 1 min) still due
    int64_t cur_arrival_ns; //  wall (monotonic) time the minute's last bar arrived
    int64_t closed_min;     //  the last minute whose close was given
    int64_t md_status, exec_events, risk_states, late_bars, foreign_exec;
    int64_t closed_by_md; //  minutes closed on md-gateway's bars_closed, not the grace
    int64_t held;         //  entries not sent while risk-gate is REDUCING or HALTED
    char last_sym[KT_SYM_LEN];
    int64_t last_ltp;
    bool md_connected;
    kt_trading_state_t risk_state;
};

// ---- events and the state hash ------------------------------------------------------

static void
s_write_state (strat_t *self)
{
    struct kt_strat_state_rec *rec = &self->rec;
    strat_state_render (self->core, self->instr, &self->map, self->cfg, &self->n,
                        kt_proc_now_ns (self->proc), rec);
    kt_schema_send (self->store, &kt_key_strat_state, NULL, rec, NULL, NULL);
}

static void
s_event_intent (strat_t *self, const struct strat_intent *it, const struct kt_intent *in)
{
    kt_kv_t kv[] = {KT_S ("type", "strat"),
                    KT_S ("what", strat_ikind_str (it->kind)),
                    KT_S ("why", strat_why_str (it->why)),
                    KT_S ("strategy", self->cfg->id),
                    KT_S ("intent_id", in->intent_id),
                    KT_S ("ref", in->ref),
                    KT_S ("sym", in->sym),
                    KT_S ("purpose", kt_purpose_str (in->purpose)),
                    KT_I ("qty", in->qty),
                    KT_I ("trigger", in->trigger),
                    KT_I ("price", in->price),
                    KT_I ("sl_price", in->stop_trigger),
                    KT_I ("swing_low", it->swing_low),
                    KT_I ("r_value", in->r_value),
                    KT_I ("order_id", it->order_id),
                    KT_I ("ts", it->ts),
                    KT_END};
    kt_store_event (self->store, kv);
    kt_log_info ("strat.intent", KT_S ("what", strat_ikind_str (it->kind)),
                 KT_S ("why", strat_why_str (it->why)), KT_S ("intent_id", in->intent_id),
                 KT_S ("ref", in->ref), KT_S ("sym", in->sym), KT_I ("qty", in->qty),
                 KT_I ("trigger", in->trigger), KT_I ("price", in->price),
                 KT_I ("sl_price", in->stop_trigger), KT_END);
}

// ---- intents to risk-gate -----------------------------------------------------------

//  The next intent id of the decision's day; reserves a block in Redis when the one in
//  hand is used up (synchronous, once per STRAT_IDS_BLOCK intents). Returns 0, or -1
//  when no id can be had (Redis down, the day's sequence used up): the intent is not
//  sent.
static int
s_next_id (strat_t *self, int64_t ts, char *id)
{
    int32_t day = kt_ist_yyyymmdd (ts);
    int rc = strat_ids_take (&self->ids, day, id);
    if (rc == 1) {
        char arg[32];
        struct kt_skey key = kt_schema_key (kt_store_prefix (self->store), &kt_key_strat_seq,
                                            strat_ids_seq_arg (&self->ids, day, arg, sizeof arg));
        kt_store_result_t r = kt_store_callf (self->store, "INCRBY %s %d", key.s, STRAT_IDS_BLOCK);
        int64_t last = 0;
        bool ok =
            kt_store_result_i64 (&r, &last) == 0 && strat_ids_grant (&self->ids, day, last) == 0;
        if (!ok)
            kt_log_error ("strat.ids.fail", KT_S ("key", key.s),
                          KT_S ("why", r.kind == KT_STORE_DOWN || r.kind == KT_STORE_ERR
                                           ? r.str
                                           : "unexpected answer"),
                          KT_END);
        kt_store_result_free (&r);
        if (!ok)
            return -1;
        rc = strat_ids_take (&self->ids, day, id);
    }
    if (rc != 0) {
        kt_log_error ("strat.ids.exhausted", KT_I ("day", day), KT_END);
        return -1;
    }
    return 0;
}

static void s_core_exec (strat_t *self, const struct strat_exec *ev);
static void s_retry_load (strat_t *self);

//  Send core intent it about order o as ORDER_INTENT id: awaited, in `events`, to
//  risk-gate; old (NULL for none) is the pending entry a PLACE replaces, named in `ref`.
//  Returns 0, or -1 when it could not be sent (logged).
static int
s_send_as (strat_t *self, const struct strat_intent *it, const struct strat_map_order *o,
           const char *id, const struct strat_map_order *old)
{
    struct kt_intent in;
    if (strat_map_intent (it, o, id, self->cfg->id, self->product, &in) != 0) {
        kt_log_error ("strat.intent.bad", KT_S ("what", strat_ikind_str (it->kind)),
                      KT_I ("order_id", it->order_id), KT_END);
        return -1;
    }
    if (old)
        snprintf (in.ref, sizeof in.ref, "%s", old->coid);
    if (strat_map_sent_add (&self->map, id, it->kind, it->order_id, old ? old->order_id : 0) != 0) {
        kt_log_error ("strat.intent.full", KT_S ("intent_id", id), KT_END);
        return -1;
    }
    s_event_intent (self, it, &in);
    if (strat_send_intent (self, &in) != 0) {
        strat_ikind_t k;
        uint32_t oid;
        strat_map_sent_take (&self->map, id, &k, &oid, NULL);
        kt_log_error ("strat.intent.send", KT_S ("intent_id", id),
                      KT_S ("why", kt_bus_errstr (kt_proc_bus (self->proc))), KT_END);
        return -1;
    }
    self->n.intents_sent++;
    return 0;
}

//  Send a change of an entry (MODIFY, CANCEL, FLATTEN) with a new id. The core has
//  already moved on (a CANCEL forgets the entry), so a change that cannot be sent is
//  raised to a human: the order at the broker is not what the strategy wants.
static int
s_send (strat_t *self, const struct strat_intent *it, const struct strat_map_order *o)
{
    char id[KT_ID_LEN];
    if (s_next_id (self, it->ts, id) == 0 && s_send_as (self, it, o, id, NULL) == 0)
        return 0;
    kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "strat.intent",
                   "strategy %s: %s of %s not sent (see the log)", self->cfg->id,
                   strat_ikind_str (it->kind), o->coid);
    return -1;
}

static void
s_refuse_place (strat_t *self, const struct strat_intent *it, const char *why)
{
    kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_WARNING, "strat.intent",
                   "strategy %s: entry not sent: %s", self->cfg->id, why);
    struct strat_exec ev = {STRAT_EV_REJECTED, it->order_id, it->token, it->ts, 0, 0};
    s_core_exec (self, &ev);
}

//  Send the core's PLACE it (replacing old, NULL for none). Returns 0 when it went to
//  risk-gate, -1 when it did not (the core has been told REJECTED).
static int
s_place (strat_t *self, const struct strat_intent *it, const struct strat_map_order *old)
{
    const struct kt_instr *ins = kt_instr_by_token (self->instr, it->token);
    char id[KT_ID_LEN];
    if (self->risk_state == KT_STATE_REDUCING || self->risk_state == KT_STATE_HALTED) {
        //  risk-gate refuses entries now: not asked (one refusal a minute per type
        //  would only be noise); the core tries again at the next minute close.
        self->held++;
        kt_log_warn_every ("strat.entry.held", 60, KT_S ("state", kt_state_str (self->risk_state)),
                           KT_I ("held", self->held), KT_END);
        struct strat_exec ev = {STRAT_EV_REJECTED, it->order_id, it->token, it->ts, 0, 0};
        s_core_exec (self, &ev);
        return -1;
    }
    if (!ins) {
        s_refuse_place (self, it, "instrument not in the instruments");
        return -1;
    }
    //  The entry's coid is its PLACE intent's id: take it first, record the order.
    if (s_next_id (self, it->ts, id) != 0) {
        s_refuse_place (self, it, "no intent id (Redis unavailable?)");
        return -1;
    }
    struct strat_map_order *o = strat_map_add (&self->map, it, id, ins->sym);
    if (!o) {
        s_refuse_place (self, it, "order table full");
        return -1;
    }
    if (s_send_as (self, it, o, id, old) != 0) {
        o->working = false;
        s_refuse_place (self, it, "risk-gate request could not be queued");
        return -1;
    }
    return 0;
}

static void
s_intent (strat_t *self, const struct strat_intent *it)
{
    struct strat_map_order *o = NULL;
    switch (it->kind) {
        case STRAT_I_PLACE:
            s_place (self, it, NULL);
            return;
        case STRAT_I_MODIFY:
            o = strat_map_by_id (&self->map, it->order_id);
            if (!o || !o->working)
                return;
            if (s_send (self, it, o) == 0)
                strat_map_set (o, it);
            return;
        case STRAT_I_CANCEL:
            o = strat_map_by_id (&self->map, it->order_id);
            if (o && o->working)
                s_send (self, it, o);
            return;
        case STRAT_I_FLATTEN:
            //  Every working entry cancelled, every position bought back.
            for (int i = 0; i < STRAT_MAP_ORDERS; i++) {
                o = &self->map.ord[i];
                if (!o->order_id)
                    continue;
                if (o->working) {
                    struct strat_intent c = *it;
                    c.kind = STRAT_I_CANCEL;
                    c.order_id = o->order_id;
                    s_send (self, &c, o);
                }
                if (strat_map_open_units (o) > 0) {
                    struct strat_intent f = *it;
                    f.order_id = o->order_id;
                    s_send (self, &f, o);
                }
            }
            return;
        default:
            return;
    }
}

//  Hand out v[i], or v[i] and v[i + 1] when they are a replacement of a pending entry
//  (CANCEL why REPLACED, then PLACE of the same type): ONE ORDER_INTENT, the PLACE with
//  ref = the old entry, so that risk-gate judges it with the old one's slot (with one
//  pending entry per type a CANCEL then a PLACE would be refused until CANCELLED comes
//  back). Should the PLACE not go out, the old entry's CANCEL goes on its own: the core
//  has decided the old one should go. Returns how many intents it took (1 or 2).
static int
s_hand_out (strat_t *self, const struct strat_intent *v, int n, int i)
{
    struct strat_intent it = v[i];
    struct strat_map_order *old =
        i + 1 < n ? strat_map_replaced (&self->map, &v[i], &v[i + 1]) : NULL;
    if (!old) {
        s_intent (self, &it);
        return 1;
    }
    struct strat_intent place = v[i + 1];
    if (s_place (self, &place, old) != 0 && old->working)
        s_send (self, &it, old);
    return 2;
}

//  Hand out what the core asked for. While warming up the intents are the replay's
//  (strat_warm.c decides which of them still stand).
static void
s_drain (strat_t *self)
{
    if (self->out.overflow)
        kt_log_error ("strat.out.overflow", KT_I ("n", self->out.n), KT_END);
    //  The array may grow while it is handed out (a refused PLACE goes back to the core).
    for (int i = 0; i < self->out.n;) {
        if (self->warm) {
            struct strat_intent it = self->out.v[i++];
            strat_warm_intent (self->warm, &it);
        } else
            i += s_hand_out (self, self->out.v, self->out.n, i);
    }
    self->out.n = 0;
    self->out.overflow = false;
}

static void
s_core_exec (strat_t *self, const struct strat_exec *ev)
{
    //  May run while intents are handed out (a refused PLACE): what the core adds is
    //  appended and handed out by the same s_drain.
    strat_core_exec (self->core, ev, &self->out);
}

// ---- the minute ---------------------------------------------------------------------

static void
s_close_minute (strat_t *self)
{
    if (!self->cur_open)
        return;
    self->cur_open = false;
    self->closed_min = self->cur_min;
    strat_core_timer (self->core, self->cur_min + S_NS_MIN, &self->out);
    s_drain (self);
    if (!self->warm)
        s_write_state (self);
}

void
strat_feed_bar (strat_t *self, const struct strat_bar *b)
{
    if (self->cur_min && b->ts > self->cur_min)
        s_close_minute (self);
    //  A bar of a minute already closed cannot be given in order any more (the core's
    //  swings assume time order): dropped, counted, said.
    if (b->ts < self->cur_min || (self->closed_min && b->ts <= self->closed_min)) {
        self->late_bars++;
        kt_log_warn_every ("strat.bar.late", 60, KT_I ("token", b->token), KT_I ("ts", b->ts),
                           KT_I ("minute", self->cur_min), KT_I ("late_bars", self->late_bars),
                           KT_END);
        return;
    }
    self->cur_min = b->ts;
    self->cur_open = true;
    self->cur_arrival_ns = kt_clock_wall_mono_ns ();
    self->n.bars++;
    self->n.last_bar_ns = self->cur_min;
    strat_core_bar (self->core, b, &self->out);
    s_drain (self);
}

void
strat_feed_close (strat_t *self)
{
    s_close_minute (self);
}

static int
s_on_grace (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    strat_t *self = arg;
    if (self->cur_open && !self->warm &&
        kt_clock_wall_mono_ns () - self->cur_arrival_ns >= self->cfg->bar_grace_ms * 1000000LL)
        s_close_minute (self);
    return 0;
}

// ---- inputs -------------------------------------------------------------------------

static int
s_on_md (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
         void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    strat_t *self = arg;
    switch (m->env.type) {
        case KT_MSG_TICK: {
            const struct kt_tick *t = &m->u.tick;
            if (self->n.ticks++ == 0)
                kt_log_info ("strat.md.first", KT_S ("sym", t->sym), KT_I ("ltp", t->ltp), KT_END);
            memcpy (self->last_sym, t->sym, sizeof self->last_sym);
            self->last_ltp = t->ltp;
            if (!self->core || self->warm)
                break;
            struct strat_tick st = {t->token, t->exch_ts_ns ? t->exch_ts_ns : m->env.ts_ns, t->ltp,
                                    t->volume};
            strat_core_tick (self->core, &st, &self->out);
            s_drain (self);
            break;
        }
        case KT_MSG_BAR: {
            const struct kt_bar *b = &m->u.bar;
            if (!b->final || !self->core)
                break;
            struct strat_bar sb = {b->token, b->start_ns, b->o, b->h, b->l, b->c, b->volume};
            if (self->warm)
                strat_warm_live_bar (self->warm, &sb);
            else
                strat_feed_bar (self, &sb);
            break;
        }
        case KT_MSG_MD_STATUS:
            self->md_status++;
            if (self->md_connected != m->u.md_status.connected)
                kt_log_info ("strat.md.status", KT_B ("connected", m->u.md_status.connected),
                             KT_END);
            self->md_connected = m->u.md_status.connected;
            //  md-gateway has published every final bar of that minute: the minute is in,
            //  without waiting for the grace (kept for a feed that never says so).
            if (self->core && !self->warm && self->cur_open && m->u.md_status.bars_closed_ns &&
                m->u.md_status.bars_closed_ns >= self->cur_min) {
                self->closed_by_md++;
                s_close_minute (self);
            }
            break;
        default:
            break;
    }
    return 0;
}

static int
s_on_exec (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
           void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    strat_t *self = arg;
    if (m->env.type != KT_MSG_EXEC_EVENT || !self->core)
        return 0;
    const struct kt_exec_event *e = &m->u.exec;
    if (!strat_ids_ours (e->coid, self->cfg->id) && !strat_ids_ours (e->intent_id, self->cfg->id) &&
        e->purpose != KT_PURPOSE_EXIT && e->purpose != KT_PURPOSE_FLATTEN)
        return 0;
    self->exec_events++;
    if (self->warm) {
        strat_warm_exec (self->warm, e);
        return 0;
    }
    struct strat_exec ev[STRAT_MAP_EV_MAX];
    int n = strat_map_exec (&self->map, e, ev);
    if (n == 0) {
        self->foreign_exec++;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        ev[i].ts = m->env.ts_ns;
        kt_kv_t kv[] = {KT_S ("type", "strat"),
                        KT_S ("what", "EXEC"),
                        KT_S ("strategy", self->cfg->id),
                        KT_S ("coid", e->coid),
                        KT_S ("event", kt_exec_kind_str (e->event)),
                        KT_I ("order_id", ev[i].order_id),
                        KT_I ("kind", ev[i].kind),
                        KT_I ("qty", ev[i].qty),
                        KT_I ("px", ev[i].px),
                        KT_END};
        kt_store_event (self->store, kv);
        strat_core_exec (self->core, &ev[i], &self->out);
    }
    s_drain (self);
    s_write_state (self);
    return 0;
}

static int
s_on_risk (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
           void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    strat_t *self = arg;
    if (m->env.type != KT_MSG_RISK_STATE)
        return 0;
    self->risk_states++;
    if (self->risk_state != m->u.risk_state.state)
        kt_log_info ("strat.risk.state", KT_S ("state", kt_state_str (m->u.risk_state.state)),
                     KT_S ("reason", m->u.risk_state.reason), KT_END);
    self->risk_state = m->u.risk_state.state;
    return 0;
}

static void
s_on_decision (kt_bus_client_t *client, const char *req_id, const struct kt_msg *reply, void *arg)
{
    (void) client;
    strat_t *self = arg;
    const struct kt_decision *d = reply ? &reply->u.decision : NULL;
    strat_ikind_t kind = STRAT_I_NONE;
    uint32_t order_id = 0, replaces = 0;
    bool known = strat_map_sent_take (&self->map, req_id, &kind, &order_id, &replaces) == 0;
    const char *verdict = d ? kt_verdict_str (d->verdict) : "TIMEOUT";
    const char *code = d && d->nreasons ? d->reasons[0].code : "";
    const char *text = d && d->nreasons ? d->reasons[0].text : "";
    if (!d)
        self->n.timeouts++;
    else if (d->verdict == KT_VERDICT_APPROVE)
        self->n.approved++;
    else if (d->verdict == KT_VERDICT_REDUCE)
        self->n.reduced++;
    else
        self->n.refused++;
    snprintf (self->n.last_decision, sizeof self->n.last_decision, "%s %s %s %s", req_id,
              strat_ikind_str (kind), verdict, code);
    kt_kv_t kv[] = {KT_S ("type", "strat"),
                    KT_S ("what", "DECISION"),
                    KT_S ("strategy", self->cfg->id),
                    KT_S ("intent_id", req_id),
                    KT_S ("kind", strat_ikind_str (kind)),
                    KT_S ("verdict", verdict),
                    KT_I ("qty", d ? d->qty : 0),
                    KT_S ("code", code),
                    KT_S ("reason", text),
                    KT_END};
    kt_store_event (self->store, kv);
    kt_log_info ("strat.decision", KT_S ("intent_id", req_id), KT_S ("verdict", verdict),
                 KT_I ("qty", d ? d->qty : 0), KT_S ("reason", code), KT_END);
    if (!known || !self->core) {
        s_write_state (self);
        return;
    }
    //  The decision's coid names the order from now on (risk-gate gives the intent's id;
    //  should it ever differ, exec events and later MODIFY / CANCEL use the coid).
    struct strat_map_order *placed = strat_map_by_id (&self->map, order_id);
    if (kind == STRAT_I_PLACE && d && d->coid[0] && placed && strcmp (placed->coid, d->coid) != 0 &&
        (d->verdict == KT_VERDICT_APPROVE || d->verdict == KT_VERDICT_REDUCE)) {
        kt_log_info ("strat.coid", KT_S ("intent_id", req_id), KT_S ("coid", d->coid), KT_END);
        snprintf (placed->coid, sizeof placed->coid, "%s", d->coid);
    }
    //  A replacement refused (or unanswered: it may not have got through) leaves the old
    //  entry resting: it still goes, as its own CANCEL. Approved, exec-gateway cancels it
    //  before placing the new one; its CANCELLED comes back as any cancel's.
    struct strat_map_order *old = replaces ? strat_map_by_id (&self->map, replaces) : NULL;
    if (old && old->working &&
        (!d || (d->verdict != KT_VERDICT_APPROVE && d->verdict != KT_VERDICT_REDUCE))) {
        struct strat_intent c = {.kind = STRAT_I_CANCEL,
                                 .why = STRAT_WHY_REPLACED,
                                 .order_id = old->order_id,
                                 .token = old->token,
                                 .itype = old->itype,
                                 .ts = kt_proc_now_ns (self->proc)};
        s_send (self, &c, old);
    }
    struct strat_exec ev;
    switch (strat_map_decision (kind, order_id, d, kt_proc_now_ns (self->proc), &ev)) {
        case STRAT_DEC_EVENT: {
            struct strat_map_order *o = strat_map_by_id (&self->map, order_id);
            if (o) {
                ev.token = o->token;
                if (ev.kind == STRAT_EV_REJECTED)
                    o->working = false;
                if (ev.kind == STRAT_EV_REDUCED)
                    o->qty = ev.qty;
            }
            strat_core_exec (self->core, &ev, &self->out);
            s_drain (self);
            break;
        }
        case STRAT_DEC_CANCEL: {
            struct strat_map_order *o = strat_map_by_id (&self->map, order_id);
            if (o && o->working) {
                struct strat_intent c = {.kind = STRAT_I_CANCEL,
                                         .why = STRAT_WHY_NONE,
                                         .order_id = order_id,
                                         .token = o->token,
                                         .itype = o->itype,
                                         .ts = kt_proc_now_ns (self->proc)};
                s_send (self, &c, o);
            }
            break;
        }
        case STRAT_DEC_ALERT:
            kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "strat.decision",
                           "strategy %s: %s %s %s %s%s%s", self->cfg->id, strat_ikind_str (kind),
                           req_id, verdict, code, text[0] ? ": " : "", text);
            break;
        default:
            break;
    }
    s_write_state (self);
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    strat_t *self = arg;
    if (max < 18)
        return 0;
    int n = 0;
    out[n++] = KT_S ("strategy", self->cfg->name);
    out[n++] = KT_I ("ticks", self->n.ticks);
    out[n++] = KT_I ("bars", self->n.bars);
    out[n++] = KT_I ("late_bars", self->late_bars);
    out[n++] = KT_I ("minutes_closed_by_md", self->closed_by_md);
    out[n++] = KT_I ("md_status", self->md_status);
    out[n++] = KT_I ("exec_events", self->exec_events);
    out[n++] = KT_I ("risk_states", self->risk_states);
    out[n++] = KT_I ("intents", self->n.intents_sent);
    out[n++] = KT_I ("decisions", self->n.approved + self->n.reduced + self->n.refused);
    out[n++] = KT_I ("refused", self->n.refused);
    out[n++] = KT_I ("entries_held", self->held);
    out[n++] = KT_I ("intent_timeouts", self->n.timeouts);
    out[n++] = KT_B ("warm", self->n.warm);
    out[n++] = KT_S ("last_sym", self->last_sym);
    out[n++] = KT_I ("last_ltp", self->last_ltp);
    return n;
}

// ---- warm-up (strat_warm.c calls back) -------------------------------------------------

kt_proc_t *
strat_proc (strat_t *self)
{
    return self->proc;
}

const struct strat_cfg *
strat_cfg_of (strat_t *self)
{
    return self->cfg;
}

const kt_instr_table_t *
strat_instr (strat_t *self)
{
    return self->instr;
}

strat_core_t *
strat_core_of (strat_t *self)
{
    return self->core;
}

struct strat_map *
strat_map_of (strat_t *self)
{
    return &self->map;
}

struct strat_out *
strat_out_of (strat_t *self)
{
    return &self->out;
}

void
strat_warm_done (strat_t *self, const struct strat_intent *todo, int ntodo)
{
    //  todo lives in the warm-up: it is freed only once its intents are out, and the
    //  shell is live (self->warm NULL) while they go.
    strat_warm_t *warm = self->warm;
    self->warm = NULL;
    self->n.warm = true;
    for (int i = 0; i < ntodo;)
        i += s_hand_out (self, todo, ntodo, i);
    s_drain (self);
    strat_warm_destroy (&warm);
    s_write_state (self);
    kt_log_info ("strat.ready", KT_I ("bars", self->n.bars), KT_I ("intents", ntodo), KT_END);
}

int
strat_send_intent (strat_t *self, struct kt_intent *intent)
{
    struct kt_msg msg;
    memset (&msg, 0, sizeof msg);
    msg.env.type = KT_MSG_ORDER_INTENT;
    msg.u.intent = *intent;
    snprintf (msg.u.intent.strategy, sizeof msg.u.intent.strategy, "%s", self->cfg->id);
    return kt_bus_client_send (self->risk, intent->intent_id, "risk.intent", &msg);
}

// ---- life -----------------------------------------------------------------------------

//  Today's instruments (instruments.file, or the daily list kt_instr_cache downloads and
//  shares), then the core and its warm-up. Returns 0, -1 when the instruments cannot be
//  had yet (retried: the strategy runs, counts and never trades without them), -2 when
//  the strategy refuses its parameters for these instruments.
static int
s_load (strat_t *self)
{
    const kt_cfg_t *kc = kt_proc_cfg (self->proc);
    struct kt_instr_cache_cfg icc;
    kt_instr_cache_from_cfg (kc, kt_proc_now_ns (self->proc), &icc);
    char err[512];
    self->instr = kt_instr_cache_load (&icc, err, sizeof err);
    if (!self->instr) {
        kt_log_warn_every ("strat.instruments", 60, KT_S ("why", err), KT_END);
        if (self->instr_fails++ == 0)
            kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "strat.instruments",
                           "strategy %s: no instruments (%s): not trading, retrying", self->cfg->id,
                           err);
        return -1;
    }
    self->params = self->cfg->p;
    int64_t stage = 100;
    if (strat_cfg_staged_r (kc->file, self->cfg->p.r_value, &self->params.r_value, &stage, err,
                            sizeof err) != 0) {
        kt_log_error ("strat.config", KT_S ("why", err), KT_END);
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "strat.config",
                       "strategy %s: rollout stage unreadable (%s): not trading", self->cfg->id,
                       err);
        kt_instr_destroy (&self->instr);
        return -2;
    }
    kt_log_info ("strat.stage", KT_I ("capital_stage_pct", stage),
                 KT_I ("r_value", self->params.r_value), KT_END);
    self->core = strat_core_new (self->cfg->name, &self->params, self->instr, err, sizeof err);
    if (!self->core) {
        kt_log_error ("strat.config", KT_S ("why", err), KT_END);
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "strat.config",
                       "strategy %s: %s: not trading", self->cfg->id, err);
        kt_instr_destroy (&self->instr);
        return -2;
    }
    self->warm = strat_warm_new (self);
    if (!self->warm)
        strat_warm_done (self, NULL, 0);
    return 0;
}

static int
s_on_load (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    strat_t *self = arg;
    self->load_timer = 0;
    if (s_load (self) == -1)
        s_retry_load (self);
    return 0;
}

static void
s_retry_load (strat_t *self)
{
    self->load_timer =
        kt_loop_timer_wall (kt_proc_loop (self->proc), S_LOAD_RETRY_MS, false, s_on_load, self);
}

strat_t *
strat_new (kt_proc_t *proc, const struct strat_cfg *cfg)
{
    strat_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    self->store = kt_proc_store (proc);
    const kt_cfg_t *kc = kt_proc_cfg (proc);
    char err[256];
    if (strat_ids_init (&self->ids, cfg->id, err, sizeof err) != 0) {
        kt_log_error ("strat.config", KT_S ("why", err), KT_END);
        goto out_free;
    }
    self->product = kt_product_parse (cfg->product);
    if (self->product == KT_PROD_NONE) {
        kt_log_error ("strat.config", KT_S ("why", "strategy.product: MIS or NRML"), KT_END);
        goto out_free;
    }
    if (!strat_core_find (cfg->name)) {
        kt_log_error ("strat.config", KT_S ("why", "strategy.name: unknown strategy"),
                      KT_S ("name", cfg->name), KT_END);
        goto out_free;
    }
    static const char *const md_topics[] = {"md.", NULL};
    static const char *const exec_topics[] = {"exec.", NULL};
    static const char *const risk_topics[] = {"risk.", NULL};
    if (!kt_proc_sub (proc, "md", md_topics, s_on_md, self) ||
        !kt_proc_sub (proc, "exec_pub", exec_topics, s_on_exec, self) ||
        !kt_proc_sub (proc, "risk_pub", risk_topics, s_on_risk, self)) {
        kt_log_error ("strat.connect", KT_S ("why", kt_bus_errstr (kt_proc_bus (proc))), KT_END);
        goto out_free;
    }
    self->risk =
        kt_bus_client_new (kt_proc_bus (proc), kt_proc_loop (proc), "risk",
                           (int) kc->req_timeout_ms, (int) kc->req_retries, s_on_decision, self);
    if (!self->risk) {
        kt_log_error ("strat.connect", KT_S ("endpoint", "risk"),
                      KT_S ("why", kt_bus_errstr (kt_proc_bus (proc))), KT_END);
        goto out_free;
    }
    self->grace_timer =
        kt_loop_timer (kt_proc_loop (proc), S_GRACE_TICK_MS, true, s_on_grace, self);
    kt_proc_set_counters (proc, s_counters, self);
    int rc = s_load (self);
    if (rc == -2)
        goto out_free;
    if (rc == -1)
        s_retry_load (self);
    return self;

out_free:
    strat_core_destroy (&self->core);
    kt_instr_destroy (&self->instr);
    free (self);
    return NULL;
}

void
strat_destroy (strat_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    strat_t *self = *self_p;
    kt_proc_set_counters (self->proc, NULL, NULL);
    if (self->grace_timer > 0)
        kt_loop_timer_end (kt_proc_loop (self->proc), self->grace_timer);
    if (self->load_timer > 0)
        kt_loop_timer_end (kt_proc_loop (self->proc), self->load_timer);
    strat_warm_destroy (&self->warm);
    kt_bus_client_destroy (&self->risk);
    strat_core_destroy (&self->core);
    kt_instr_destroy (&self->instr);
    free (self);
    *self_p = NULL;
}
