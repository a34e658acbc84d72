/*  risk_core - the risk engine over one Redis store, without sockets: decide intents,
 *  apply executions, follow prices, poll the state, sweep unanswered orders.
 *
 *  Used by the process (risk.c), which owns the sockets and does what a call's
 *  struct risk_out asks (reply, send commands, publish RISK_STATE, alert), and directly
 *  by the property test and the benchmark (two cores on one Redis = two instances).
 *  Design overview: Redis is the truth (the book, exec-gateway's, with positions and
 *  fills; risk-gate's keys beside it); the core keeps a view (the last snapshot, one
 *  struct allocated at new) refreshed by every script that changes the account and by
 *  each poll, plus the last price per symbol (risk_prices). A decision is the local
 *  rules in C (both readings of a MODIFY), the account rules in C on the view, then one
 *  commit of the held order and record that Redis applies only if the account's version
 *  and the book's are still the view's (else the view is refreshed and C decides again).
 *  An EXEC_EVENT (or a poll that finds the book ahead) settles the held orders from the
 *  book: risk-gate never applies a fill itself.
 *  Fail closed: without Redis, entries are blocked with STORE_DOWN while risk-reducing
 *  orders go through (remembered in memory so a retry is not sent twice); executions
 *  that could not be settled wait in a small queue and are settled when Redis is back. An order is
 * sent only after the caller's answer is known to be APPROVE/REDUCE, and marked sent in Redis first
 * (risk_core_mark_sent, after the reply): a decide whose answer was lost (Redis may have approved
 * and reserved) is settled as the refusal the caller got; the sweep asks exec-gateway again only
 * for marked orders. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt_recon.h"
#include "risk.h"

#define S_RECENT 256   //  decisions remembered while Redis is down
#define S_PENDING 1024 //  executions waiting for Redis
#define S_UNKNOWN 64   //  decisions of unknown outcome waiting for Redis
#define S_UNMARKED 64  //  orders sent whose sent mark may not be in Redis

struct s_recent {
    char intent_id[KT_ID_LEN];
    struct kt_decision decision;
};

//  A decide whose EVALSHA failed after it may have run: what the caller was told.
struct s_unknown {
    char intent_id[KT_ID_LEN];
    struct risk_decided decided;
    bool has_cmd; //  approved and sent: the order, for its record (the sweep's look-up)
    struct kt_order_cmd cmd;
};

struct risk_core {
    const struct risk_cfg *cfg;    //  borrowed
    kt_store_t *store;             //  borrowed
    const kt_instr_table_t *instr; //  borrowed, may be NULL
    char src[KT_SRC_LEN];
    struct risk_scripts ids;
    struct risk_view *view;        //  owned
    risk_prices_t *prices;         //  owned
    int64_t started_ns;            //  reconciler agreement must be at or after this
    bool started;                  //  start-up roll done
    bool store_down;               //  outage alerted
    kt_trading_state_t last_state; //  for change detection
    char last_reason[KT_TEXT_LEN];
    int64_t last_warn_ns[KT_R_COUNT];
    struct risk_counters counters;
    struct s_recent recent[S_RECENT];
    int recent_next;
    struct kt_exec_event pending[S_PENDING];
    int npending;
    char alerted_coid[RISK_ORD_MAX][KT_ID_LEN]; //  unresolved orders already alerted
    int nalerted;
    struct s_unknown unknown[S_UNKNOWN];
    int nunknown;
    struct kt_order_cmd unmarked[S_UNMARKED]; //  sent, their mark maybe not in Redis
    int nunmarked;
    bool halt_held; //  an operator's halt not yet written to Redis
    char halt_by[KT_SRC_LEN];
    char halt_why[KT_TEXT_LEN];
    struct risk_result as_entry; //  scratch of risk_core_decide (no 2 KB stack churn)
    struct risk_result as_reduce;
    struct risk_tx *tx; //  scratch of the decision's commit
};

// ---- helpers -------------------------------------------------------------------------

static bool
s_price (void *arg, const char *sym, int64_t *px, int64_t *ts_ns)
{
    risk_core_t *self = arg;
    return risk_prices_get (self->prices, sym, px, ts_ns);
}

static const struct kt_instr *s_instr (const risk_core_t *self, const char *sym);

//  The capital a short ties up per unit: kite-sim's margin on the strike (risk_view).
static int64_t
s_margin (void *arg, const char *sym, int64_t px)
{
    return risk_pnl_short_margin (s_instr (arg, sym), px);
}

static void s_alert (struct risk_out *out, kt_severity_t sev, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_alert (struct risk_out *out, kt_severity_t sev, const char *key, const char *fmt, ...)
{
    if (out->nalerts == RISK_ALERTS_MAX)
        return;
    struct risk_alert_item *a = &out->alerts[out->nalerts++];
    a->sev = sev;
    snprintf (a->key, sizeof a->key, "%s", key);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (a->text, sizeof a->text, fmt, ap);
    va_end (ap);
}

static void
s_store_result (risk_core_t *self, bool ok, const char *why, struct risk_out *out)
{
    if (!ok && !self->store_down) {
        self->store_down = true;
        kt_log_error ("risk.store.down", KT_S ("why", why), KT_END);
        s_alert (out, KT_SEV_CRITICAL, "risk.store_down",
                 "risk-gate cannot reach Redis (%s): entries are blocked, exits still go through",
                 why);
    } else if (ok && self->store_down) {
        self->store_down = false;
        kt_log_info ("risk.store.up", KT_END);
        s_alert (out, KT_SEV_INFO, "risk.store_down", "risk-gate reaches Redis again");
    }
}

static const struct kt_instr *
s_instr (const risk_core_t *self, const char *sym)
{
    if (!self->instr || !sym[0])
        return NULL;
    const struct kt_instr *in = kt_instr_by_sym (self->instr, self->cfg->exchange, sym);
    return in ? in : kt_instr_by_sym (self->instr, NULL, sym);
}

static void
s_note_state (risk_core_t *self, struct risk_out *out)
{
    const struct risk_view *v = self->view;
    if (!v->loaded)
        return;
    if (v->state != self->last_state || strcmp (v->reason, self->last_reason) != 0) {
        kt_log_info ("risk.state", KT_S ("state", kt_state_str (v->state)),
                     KT_S ("reason", v->reason), KT_END);
        self->last_state = v->state;
        snprintf (self->last_reason, sizeof self->last_reason, "%s", v->reason);
        out->state_changed = true;
    }
}

//  The effects of a switch to HALTED done in Redis: cancel pending entries (and flatten
//  when configured) through exec-gateway, tell a human, publish.
static void
s_after_halt (risk_core_t *self, kt_reason_t code, const char *text, struct risk_out *out)
{
    self->counters.halts++;
    bool flatten = self->cfg->flatten_on_halt;
    int room = RISK_CMDS_MAX - out->ncmds;
    out->ncmds +=
        risk_reply_halt_commands (self->view->halt_seq, flatten, out->cmds + out->ncmds, room);
    kt_log_error ("risk.halt", KT_S ("code", kt_reason_str (code)), KT_S ("why", text),
                  KT_I ("halt_seq", self->view->halt_seq), KT_B ("flatten", flatten), KT_END);
    s_alert (out, KT_SEV_CRITICAL, "risk.halt",
             "TRADING HALTED (%s): %s. Pending entries cancelled%s. Resume: tradectl resume",
             kt_reason_str (code), text, flatten ? ", positions flattened" : "");
    s_note_state (self, out);
    out->state_changed = true;
}

static void
s_halt (risk_core_t *self, kt_reason_t code, const char *text, int64_t now_ns, struct risk_out *out)
{
    bool halted = false;
    int rc = risk_state_halt (self->store, &self->ids, code, text, now_ns, self->src, &halted,
                              self->view);
    s_store_result (self, rc == 0, kt_store_errstr (self->store), out);
    if (rc == 0 && halted)
        s_after_halt (self, code, text, out);
}

static void
s_breakers (risk_core_t *self, int64_t now_ns, struct risk_out *out)
{
    const struct risk_view *v = self->view;
    if (!v->loaded || v->state == KT_STATE_HALTED)
        return;
    if (v->kill) {
        char text[KT_TEXT_LEN];
        snprintf (text, sizeof text, "kill switch: %.100s", v->kill_reason);
        s_halt (self, KT_R_KILL, text, now_ns, out);
        return;
    }
    struct risk_result r;
    memset (&r, 0, sizeof r);
    kt_reason_t code = risk_breaker_eval (v, self->cfg, now_ns, risk_core_unrealised (self), &r);
    if (code == KT_OK)
        return;
    for (int i = 0; i < r.nreasons; i++) {
        if (r.reasons[i].code == code) {
            s_halt (self, code, r.reasons[i].text, now_ns, out);
            return;
        }
    }
    s_halt (self, code, kt_reason_str (code), now_ns, out);
}

//  Code of a state reason "CODE: text" (KT_R_STATE if it has none).
static kt_reason_t
s_reason_code (const char *reason)
{
    char code[KT_CODE_LEN];
    size_t n = strcspn (reason, ":");
    if (n == 0 || n >= sizeof code)
        return KT_R_STATE;
    memcpy (code, reason, n);
    code[n] = '\0';
    int c = kt_reason_parse (code);
    return c > 0 ? (kt_reason_t) c : KT_R_STATE;
}

static const struct kt_decision *
s_recent_find (const risk_core_t *self, const char *id)
{
    for (int i = 0; i < S_RECENT; i++) {
        if (self->recent[i].intent_id[0] && strcmp (self->recent[i].intent_id, id) == 0)
            return &self->recent[i].decision;
    }
    return NULL;
}

static void
s_recent_add (risk_core_t *self, const struct kt_decision *d)
{
    struct s_recent *r = &self->recent[self->recent_next];
    self->recent_next = (self->recent_next + 1) % S_RECENT;
    snprintf (r->intent_id, sizeof r->intent_id, "%s", d->intent_id);
    r->decision = *d;
}

//  Warn a human about refused or reduced entries, at most once per code per minute.
static void
s_warn_refusal (risk_core_t *self, const struct kt_intent *in, const struct risk_decided *d,
                int64_t now_ns, struct risk_out *out)
{
    if (d->duplicate || d->verdict == KT_VERDICT_APPROVE || d->verdict == KT_VERDICT_HALT ||
        (d->kind != RISK_KIND_ENTRY && d->kind != RISK_KIND_MODIFY_ENTRY) || !d->nreasons)
        return;
    kt_reason_t code = d->reasons[0].code;
    if (code >= KT_R_COUNT ||
        (self->last_warn_ns[code] && now_ns - self->last_warn_ns[code] < KT_NS_PER_MIN))
        return;
    self->last_warn_ns[code] = now_ns;
    char key[KT_KEY_LEN];
    snprintf (key, sizeof key, "risk.%s.%s", d->verdict == KT_VERDICT_REDUCE ? "reduce" : "block",
              kt_reason_str (code));
    s_alert (out, KT_SEV_WARNING, key, "entry %s %s %s: %s", in->intent_id,
             d->verdict == KT_VERDICT_REDUCE ? "reduced" : "blocked", kt_reason_str (code),
             d->reasons[0].text);
}

// ---- life cycle ---------------------------------------------------------------------------

risk_core_t *
risk_core_new (const struct risk_cfg *cfg, kt_store_t *store, const char *src)
{
    risk_core_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->cfg = cfg;
    self->store = store;
    snprintf (self->src, sizeof self->src, "%s", src);
    self->view = calloc (1, sizeof *self->view);
    if (!self->view)
        abort ();
    self->view->margin = s_margin;
    self->view->margin_arg = self;
    self->prices = risk_prices_new (4096);
    self->tx = calloc (1, sizeof *self->tx);
    if (!self->tx)
        abort ();
    if (risk_capital_register (store, &self->ids) != 0) {
        kt_log_error ("risk.scripts", KT_S ("why", "script registry full"), KT_END);
        risk_core_destroy (&self);
        return NULL;
    }
    return self;
}

void
risk_core_destroy (risk_core_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    risk_core_t *self = *self_p;
    risk_prices_destroy (&self->prices);
    free (self->view);
    free (self->tx);
    free (self);
    *self_p = NULL;
}

void
risk_core_set_instruments (risk_core_t *self, const kt_instr_table_t *instr)
{
    self->instr = instr;
}

int
risk_core_start (risk_core_t *self, int64_t now_ns, struct risk_out *out)
{
    if (!self->started_ns)
        self->started_ns = now_ns;
    int rc = risk_state_roll (self->store, &self->ids, self->cfg, now_ns,
                              risk_core_unrealised (self), true, self->src, self->view);
    s_store_result (self, rc == 0, kt_store_errstr (self->store), out);
    if (rc != 0)
        return -1;
    self->started = true;
    kt_log_info ("risk.start", KT_S ("state", kt_state_str (self->view->state)),
                 KT_S ("reason", self->view->reason), KT_I ("day", self->view->day),
                 KT_I ("positions", self->view->npos), KT_I ("open_orders", self->view->nord),
                 KT_END);
    s_note_state (self, out);
    out->state_changed = true;
    return 0;
}

// ---- decisions ----------------------------------------------------------------------------

//  Without Redis: entries are refused; risk-reducing orders go through on the local
//  sanity rules and the last known book (never trapped by an outage).
static void
s_decide_offline (risk_core_t *self, const struct kt_intent *in, const struct risk_result *as_entry,
                  const struct risk_result *as_reduce, int64_t now_ns, const char *why,
                  bool unknown, struct risk_decided *d)
{
    memset (d, 0, sizeof *d);
    risk_kind_t kind = risk_check_kind (self->view, in);
    bool entry = kind == RISK_KIND_ENTRY || kind == RISK_KIND_MODIFY_ENTRY;
    struct risk_result r = entry ? *as_entry : *as_reduce;
    if (entry) {
        if (unknown)
            risk_check_add (&r, KT_R_STORE_DOWN, KT_VERDICT_BLOCK,
                            "decision outcome unknown: refused (%.90s)", why);
        else
            risk_check_add (&r, KT_R_STORE_DOWN, KT_VERDICT_BLOCK, "Redis unavailable: %s", why);
        r.qty = 0;
    } else if (self->view->loaded && (kind == RISK_KIND_EXIT || kind == RISK_KIND_MODIFY)) {
        kt_itype_t it = KT_ITYPE_OTHER;
        risk_check_account (self->view, self->cfg, in, it, now_ns, 0, &r);
        //  A committed decision would add this exit (or a modified exit's growth) to the
        //  cover; offline, the last known book must carry it, or a second exit passes the
        //  cap and flips the position.
        const char *sym = in->sym;
        int64_t add = r.qty;
        if (kind == RISK_KIND_MODIFY) {
            struct risk_order *o = NULL;
            for (int i = 0; i < self->view->nord; i++) {
                if (strcmp (self->view->ord[i].coid, in->ref) == 0)
                    o = &self->view->ord[i];
            }
            add = 0;
            if (o && o->kind == RISK_KIND_EXIT && r.verdict <= KT_VERDICT_REDUCE) {
                sym = o->sym;
                add = r.qty - o->oqty;
                o->oqty = r.qty;
            }
        }
        for (int i = 0; r.verdict <= KT_VERDICT_REDUCE && i < self->view->npos; i++) {
            if (strcmp (self->view->pos[i].sym, sym) == 0)
                self->view->pos[i].exiting += add;
        }
    }
    d->verdict = r.verdict;
    d->qty = r.verdict >= KT_VERDICT_BLOCK ? 0 : r.qty;
    d->kind = kind;
    d->state = self->view->loaded ? self->view->state : KT_STATE_NONE;
    d->nreasons = r.nreasons;
    memcpy (d->reasons, r.reasons, sizeof d->reasons);
    if (d->verdict <= KT_VERDICT_REDUCE)
        snprintf (d->coid, sizeof d->coid, "%s", in->intent_id);
}

//  Settle in Redis the decisions of unknown outcome, oldest first, as their callers were
//  answered (a refusal releases what the lost script reserved). Stops at the first
//  failure: they wait for Redis.
static void
s_unknown_flush (risk_core_t *self, int64_t now_ns, struct risk_out *out)
{
    int done = 0;
    while (done < self->nunknown) {
        const struct s_unknown *u = &self->unknown[done];
        int result = 0;
        char why[200];
        if (risk_capital_resolve (self->store, &self->ids, self->cfg, u->intent_id, &u->decided,
                                  now_ns, self->src, &result, self->view, why, sizeof why) != 0) {
            kt_log_warn ("risk.resolve.fail", KT_S ("intent_id", u->intent_id), KT_S ("why", why),
                         KT_END);
            break;
        }
        s_store_result (self, true, "", out);
        if (u->has_cmd && result >= 0 &&
            risk_capital_mark_sent (self->store, u->intent_id, &u->cmd, now_ns) != 0)
            break; //  the record of the order sent: again on the next flush
        if (result == -1)
            kt_log_error ("risk.resolve.sent", KT_S ("intent_id", u->intent_id),
                          KT_S ("msg", "refusal not applied: the order is marked sent"), KT_END);
        else
            kt_log_info ("risk.resolved", KT_S ("intent_id", u->intent_id),
                         KT_S ("verdict", kt_verdict_str (u->decided.verdict)),
                         KT_B ("released", result == 2), KT_END);
        done++;
    }
    if (done) {
        memmove (self->unknown, self->unknown + done,
                 (size_t) (self->nunknown - done) * sizeof self->unknown[0]);
        self->nunknown -= done;
    }
}

static bool
s_unmarked_has (const risk_core_t *self, const char *coid)
{
    for (int i = 0; i < self->nunmarked; i++) {
        if (strcmp (self->unmarked[i].coid, coid) == 0)
            return true;
    }
    return false;
}

//  Take coid's command out of the unmarked list into *cmd. Returns false if not there.
static bool
s_unmarked_take (risk_core_t *self, const char *coid, struct kt_order_cmd *cmd)
{
    for (int i = 0; i < self->nunmarked; i++) {
        if (strcmp (self->unmarked[i].coid, coid) == 0) {
            *cmd = self->unmarked[i];
            memmove (&self->unmarked[i], &self->unmarked[i + 1],
                     (size_t) (self->nunmarked - i - 1) * sizeof self->unmarked[0]);
            self->nunmarked--;
            return true;
        }
    }
    return false;
}

//  Write a held operator halt: the kill switch, then HALTED with the halt's commands.
//  Stays held (entries refused) until both are in Redis.
static void
s_halt_flush (risk_core_t *self, int64_t now_ns, struct risk_out *out)
{
    if (!self->halt_held)
        return;
    if (risk_state_kill (self->store, &self->ids, self->halt_why, self->halt_by, now_ns,
                         self->view) != 0) {
        s_store_result (self, false, kt_store_errstr (self->store), out);
        return;
    }
    char text[KT_TEXT_LEN];
    snprintf (text, sizeof text, "kill switch: %.100s", self->halt_why);
    s_halt (self, KT_R_KILL, text, now_ns, out);
    if (self->view->state == KT_STATE_HALTED)
        self->halt_held = false;
}

//  The operator's halt over the socket (tradectl halt while Redis may be down): held at
//  once (entries refused from now on), written to Redis now or as soon as it answers.
static void
s_decide_halt (risk_core_t *self, const struct kt_intent *in, int64_t now_ns, struct risk_out *out)
{
    if (!self->halt_held) {
        self->halt_held = true;
        snprintf (self->halt_by, sizeof self->halt_by, "%s", in->strategy[0] ? in->strategy : "?");
        snprintf (self->halt_why, sizeof self->halt_why, "halt by %s over risk-gate's socket (%s)",
                  self->halt_by, in->intent_id);
        kt_log_error ("risk.halt.held", KT_S ("intent_id", in->intent_id),
                      KT_S ("by", self->halt_by), KT_END);
    }
    if (self->started)
        s_halt_flush (self, now_ns, out);
    struct kt_decision *d = &out->decision;
    memset (d, 0, sizeof *d);
    snprintf (d->intent_id, sizeof d->intent_id, "%s", in->intent_id);
    d->verdict = KT_VERDICT_HALT;
    d->nreasons = 1;
    snprintf (d->reasons[0].code, sizeof d->reasons[0].code, "%s", kt_reason_str (KT_R_KILL));
    snprintf (d->reasons[0].text, sizeof d->reasons[0].text, "%.90s%s", self->halt_why,
              self->halt_held ? ": held until Redis answers" : "");
    d->state = self->view->loaded ? self->view->state : KT_STATE_NONE;
}

void
risk_core_decide (risk_core_t *self, const struct kt_intent *in, int64_t now_ns,
                  struct risk_out *out)
{
    self->counters.decisions++;
    out->has_decision = true;
    if (in->purpose == KT_PURPOSE_HALT) {
        s_decide_halt (self, in, now_ns, out);
        return;
    }

    struct risk_market mkt = {s_instr (self, in->sym), self->instr != NULL, 0, 0};
    risk_prices_get (self->prices, in->sym, &mkt.ltp, &mkt.ltp_ns);
    int64_t unreal = risk_core_unrealised (self);
    int64_t equity = risk_pnl_equity (self->view, unreal);

    //  A MODIFY adds risk only if it modifies an open entry; Redis decides which, so
    //  the local rules are run for both readings.
    struct risk_result *as_entry = &self->as_entry, *as_reduce = &self->as_reduce;
    if (in->purpose == KT_PURPOSE_MODIFY) {
        struct kt_intent eff;
        risk_check_effective (self->view, in, &eff);
        risk_check_local (self->cfg, &eff, RISK_KIND_MODIFY_ENTRY, &mkt, now_ns, equity, as_entry);
        risk_check_local (self->cfg, in, RISK_KIND_MODIFY, &mkt, now_ns, equity, as_reduce);
    } else {
        risk_check_local (self->cfg, in, risk_check_kind (self->view, in), &mkt, now_ns, equity,
                          as_entry);
        *as_reduce = *as_entry;
    }

    struct risk_decided d;
    char why[200] = "";
    const struct kt_decision *prior = s_recent_find (self, in->intent_id);
    int rc = -1;
    bool attempted = false; //  the script may have run, whatever we heard
    if (prior) {
        self->counters.duplicates++;
        out->decision = *prior;
        return; //  decided offline before: the same answer, no order
    }
    if (!self->started)
        risk_core_start (self, now_ns, out);
    if (self->halt_held && self->started)
        s_halt_flush (self, now_ns, out);
    risk_kind_t kind_now = risk_check_kind (self->view, in);
    if (self->halt_held && (kind_now == RISK_KIND_ENTRY || kind_now == RISK_KIND_MODIFY_ENTRY)) {
        //  An operator's halt not yet in Redis still refuses every entry.
        struct kt_decision *hd = &out->decision;
        memset (hd, 0, sizeof *hd);
        snprintf (hd->intent_id, sizeof hd->intent_id, "%s", in->intent_id);
        hd->verdict = KT_VERDICT_HALT;
        hd->nreasons = 1;
        snprintf (hd->reasons[0].code, sizeof hd->reasons[0].code, "%s", kt_reason_str (KT_R_KILL));
        snprintf (hd->reasons[0].text, sizeof hd->reasons[0].text, "%.100s (held)", self->halt_why);
        hd->state = self->view->loaded ? self->view->state : KT_STATE_NONE;
        self->counters.blocked++;
        return;
    }
    if (self->started && self->view->loaded && !self->view->overflow) {
        struct risk_decide_req req = {
            in,       in->intent_id, mkt.instr ? mkt.instr->itype : KT_ITYPE_OTHER,
            as_entry, as_reduce,     now_ns,
            unreal,   self->src};
        rc = risk_capital_decide (self->store, &self->ids, self->cfg, &req, self->view, self->tx,
                                  &d, why, sizeof why);
        attempted = rc == -1; //  -2: nothing was applied
        if (rc == 0)
            self->counters.redecided += d.redecided;
        s_store_result (self, rc != -1, why, out);
        if (rc != 0)
            kt_log_warn ("risk.decide.fail", KT_S ("intent_id", in->intent_id), KT_S ("why", why),
                         KT_END);
    } else
        snprintf (why, sizeof why, "%s",
                  self->view->overflow ? "book larger than risk-gate holds"
                                       : kt_store_errstr (self->store));
    if (rc != 0) {
        self->counters.store_down++;
        s_decide_offline (self, in, as_entry, as_reduce, now_ns, why, attempted, &d);
    }
    if (rc != 0 && attempted) {
        //  Redis may have run the script (an APPROVE with a reservation) and only the
        //  answer was lost: settle it as the caller is answered now, when Redis is back.
        bool refused = d.verdict >= KT_VERDICT_BLOCK;
        kt_log_error ("risk.decide.unknown", KT_S ("intent_id", in->intent_id),
                      KT_S ("answer", kt_verdict_str (d.verdict)), KT_S ("why", why), KT_END);
        if (refused)
            s_alert (out, KT_SEV_WARNING, "risk.decide.unknown",
                     "intent %s: decision outcome unknown (%.80s): refused; anything Redis "
                     "reserved for it is released",
                     in->intent_id, why);
        if (self->nunknown < S_UNKNOWN) {
            struct s_unknown *u = &self->unknown[self->nunknown++];
            snprintf (u->intent_id, sizeof u->intent_id, "%s", in->intent_id);
            u->decided = d;
            u->has_cmd = d.verdict <= KT_VERDICT_REDUCE &&
                         (d.kind == RISK_KIND_ENTRY || d.kind == RISK_KIND_EXIT);
            if (u->has_cmd)
                risk_reply_command (in, d.coid, d.qty, &u->cmd);
        } else
            kt_log_error ("risk.decide.unknown.full", KT_S ("intent_id", in->intent_id),
                          KT_S ("msg", "the sweep refuses it after resv_timeout_s"), KT_END);
        s_unknown_flush (self, now_ns, out);
    }

    risk_reply_decision (in, &d, &out->decision);
    if (rc != 0)
        s_recent_add (self, &out->decision);
    if (rc == 0 && !d.duplicate) {
        out->has_event = true;
        snprintf (out->event_sym, sizeof out->event_sym, "%s", in->sym);
        out->event_kind = d.kind;
    }
    if (d.duplicate) {
        self->counters.duplicates++;
        kt_log_info ("risk.duplicate", KT_S ("intent_id", in->intent_id),
                     KT_S ("verdict", kt_verdict_str (d.verdict)), KT_END);
        return; //  never a second order
    }
    switch (d.verdict) {
        case KT_VERDICT_APPROVE:
            self->counters.approved++;
            break;
        case KT_VERDICT_REDUCE:
            self->counters.reduced++;
            break;
        default:
            self->counters.blocked++;
            break;
    }
    kt_log (d.verdict == KT_VERDICT_APPROVE ? KT_LOG_INFO : KT_LOG_WARN,
            d.verdict == KT_VERDICT_APPROVE  ? "risk.approve"
            : d.verdict == KT_VERDICT_REDUCE ? "risk.reduce"
            : d.verdict == KT_VERDICT_BLOCK  ? "risk.block"
                                             : "risk.halt.intent",
            KT_S ("intent_id", in->intent_id), KT_S ("sym", in->sym),
            KT_S ("purpose", kt_purpose_str (in->purpose)), KT_S ("kind", risk_kind_str (d.kind)),
            KT_I ("qty", d.qty),
            KT_S ("reason", d.nreasons ? kt_reason_str (d.reasons[0].code) : ""),
            KT_S ("text", d.nreasons ? d.reasons[0].text : ""), KT_END);
    if (d.verdict <= KT_VERDICT_REDUCE && d.coid[0]) {
        //  Marked sent before it is sent (risk_core_mark_sent, after the caller's reply,
        //  so the answer waits for one round trip only): the sweep asks again only for
        //  orders marked so. Only orders risk-gate holds in Redis have a record to mark.
        if (rc == 0 && (d.kind == RISK_KIND_ENTRY || d.kind == RISK_KIND_EXIT) &&
            out->nmarks < RISK_CMDS_MAX)
            snprintf (out->marks[out->nmarks++], KT_ID_LEN, "%s", d.coid);
        risk_reply_command (in, d.coid, d.qty, &out->cmds[out->ncmds++]);
    }
    s_warn_refusal (self, in, &d, now_ns, out);
    if (d.halted_now) {
        s_after_halt (self, s_reason_code (self->view->reason), self->view->reason, out);
    }
}

int
risk_core_mark_sent (risk_core_t *self, struct risk_out *out, int64_t now_ns)
{
    int rc = 0;
    if (out->has_event) {
        //  Queued (never blocking) once the store runs on the loop; a write that cannot
        //  be made is counted and retried by the store.
        const struct kt_decision *d = &out->decision;
        char qty[24];
        snprintf (qty, sizeof qty, "%lld", (long long) d->qty);
        kt_store_event (
            self->store,
            (const kt_kv_t[]){KT_S ("type", "risk.decision"), KT_S ("intent_id", d->intent_id),
                              KT_S ("verdict", kt_verdict_str (d->verdict)), KT_S ("qty", qty),
                              KT_S ("reason", d->nreasons ? d->reasons[0].code : ""),
                              KT_S ("sym", out->event_sym),
                              KT_S ("kind", risk_kind_str (out->event_kind)),
                              KT_S ("src", self->src), KT_END});
        out->has_event = false;
    }
    for (int i = 0; i < out->nmarks; i++) {
        const char *coid = out->marks[i];
        //  A lost answer to the mark leaves it unknown: sent anyway (the caller is told
        //  APPROVE), and remembered so the sweep marks it rather than refusing it.
        const struct kt_order_cmd *cmd = NULL;
        for (int j = 0; j < out->ncmds && !cmd; j++) {
            if (strcmp (out->cmds[j].coid, coid) == 0)
                cmd = &out->cmds[j];
        }
        if (risk_capital_mark_sent (self->store, coid, cmd, now_ns) != 0) {
            rc = -1;
            s_store_result (self, false, kt_store_errstr (self->store), out);
            kt_log_warn ("risk.mark.fail", KT_S ("coid", coid),
                         KT_S ("why", kt_store_errstr (self->store)), KT_END);
            if (self->nunmarked < S_UNMARKED && !s_unmarked_has (self, coid) && cmd)
                self->unmarked[self->nunmarked++] = *cmd;
        }
    }
    return rc;
}

// ---- executions -----------------------------------------------------------------------------

//  A broker rejection carries the broker's code: exec-gateway writes the reason of a
//  rejection the broker made as "BROKER: <error type>: <message>". Anything else (our
//  own refusals, "STORE_DOWN: ...", a build without order entry) is not the broker's.
static bool
s_broker_reason (const char *reason)
{
    size_t n = strcspn (reason, ":");
    return reason[n] == ':' && n == strlen ("BROKER") && strncmp (reason, "BROKER", n) == 0;
}

//  An EXEC_EVENT tells risk-gate that the book changed (exec-gateway applies fills to it
//  before publishing): the held orders are brought up to the book (risk_capital_settle).
static int
s_apply (risk_core_t *self, const struct kt_exec_event *ev, int64_t now_ns, struct risk_out *out)
{
    char why[200];
    //  Here, not in on_exec: an event queued while Redis was down is replayed through
    //  this function and must still invalidate the session and HALT.
    if (ev->event == KT_EXEC_REJECTED && strstr (ev->reason, "TokenException")) {
        if (risk_state_session (self->store, &self->ids, false, now_ns, self->view) != 0) {
            s_store_result (self, false, kt_store_errstr (self->store), out);
            return -1;
        }
        char text[KT_TEXT_LEN];
        snprintf (text, sizeof text, "broker session invalid: %.90s", ev->reason);
        s_halt (self, KT_R_SESSION, text, now_ns, out);
    }
    struct risk_settle_ev sev;
    memset (&sev, 0, sizeof sev);
    snprintf (sev.coid, sizeof sev.coid, "%s", ev->coid);
    sev.event = ev->event;
    //  REJECTS counts the broker's rejections of orders that add risk (settle counts only
    //  entries risk-gate holds).
    sev.count_reject = ev->event == KT_EXEC_REJECTED && s_broker_reason (ev->reason);
    struct risk_applied a;
    int rc = risk_capital_settle (self->store, &self->ids, self->cfg, &sev, now_ns, &a, self->view,
                                  why, sizeof why);
    s_store_result (self, rc == 0, why, out);
    if (rc != 0) {
        kt_log_warn ("risk.exec.fail", KT_S ("coid", ev->coid), KT_S ("why", why), KT_END);
        return -1;
    }
    if (ev->last_qty > 0 || ev->event == KT_EXEC_FILLED)
        self->counters.fills++;
    if (a.trade_closed)
        kt_log_info ("risk.trade.closed", KT_S ("sym", ev->sym), KT_I ("pnl", a.trade_pnl),
                     KT_I ("consec_losses", self->view->consec_losses), KT_END);
    if (a.reject_counted)
        kt_log_warn ("risk.reject.counted", KT_S ("coid", ev->coid), KT_S ("reason", ev->reason),
                     KT_END);
    return 0;
}

void
risk_core_on_exec (risk_core_t *self, const struct kt_exec_event *ev, int64_t now_ns,
                   struct risk_out *out)
{
    self->counters.exec_events++;
    if (!ev->coid[0])
        return;
    if (s_apply (self, ev, now_ns, out) != 0) {
        if (self->npending < S_PENDING)
            self->pending[self->npending++] = *ev;
        else
            kt_log_error ("risk.exec.lost", KT_S ("coid", ev->coid),
                          KT_S ("msg", "queue full while Redis is down; reconciler must settle"),
                          KT_END);
        return;
    }
    s_note_state (self, out);
    s_breakers (self, now_ns, out);
}

void
risk_core_on_tick (risk_core_t *self, const char *sym, int64_t ltp, int64_t ts_ns)
{
    self->counters.ticks++;
    if (ltp > 0)
        risk_prices_set (self->prices, sym, ltp, ts_ns);
}

// ---- the poll ------------------------------------------------------------------------------

//  The broker session as the processes that use it last found it: exec-gateway's
//  exec:session and md-gateway's md:status (their keys, which risk-gate only reads).
//  Either invalid invalidates the account's session and HALTs (SESSION), once per
//  finding: an operator's resume makes the session valid again, and one still invalid
//  then halts again at the next poll. An absent key (the process never ran) says nothing.
static void
s_session_check (risk_core_t *self, int64_t now_ns, struct risk_out *out)
{
    struct risk_view *v = self->view;
    if (!v->loaded || !v->session_ok)
        return;
    char why[160], text[KT_TEXT_LEN] = "";
    struct kt_exec_session_rec es;
    memset (&es, 0, sizeof es);
    struct kt_md_status_rec ms;
    memset (&ms, 0, sizeof ms);
    if (kt_schema_read (self->store, &kt_key_exec_session, NULL, &es, why, sizeof why) == 1 &&
        !es.ok)
        snprintf (text, sizeof text, "broker session invalid at exec-gateway: %.80s", es.reason);
    else if (kt_schema_read (self->store, &kt_key_md_status, NULL, &ms, why, sizeof why) == 1 &&
             ms.session_refused)
        snprintf (text, sizeof text,
                  "broker session invalid: the ticker refused the access token (md-gateway)");
    if (!text[0])
        return;
    if (risk_state_session (self->store, &self->ids, false, now_ns, v) != 0) {
        s_store_result (self, false, kt_store_errstr (self->store), out);
        return;
    }
    s_halt (self, KT_R_SESSION, text, now_ns, out);
}

//  The reconciler's last agreement with the broker (recon:last agree_ns), 0 when it has
//  none, its broker session is not valid, or Redis does not answer (REDUCING stays).
//  Read only while REDUCING: one HGETALL per poll until ACTIVE.
static int64_t
s_recon_agree_ns (risk_core_t *self)
{
    struct kt_recon_last last;
    char why[160];
    int rc = kt_recon_last_get (self->store, &last, why, sizeof why);
    if (rc < 0)
        kt_log_warn_every ("risk.recon.read", 10, KT_S ("why", why), KT_END);
    return rc == 1 && last.session_ok ? last.agree_ns : 0;
}

void
risk_core_poll (risk_core_t *self, int64_t now_ns, struct risk_out *out)
{
    if (!self->started && risk_core_start (self, now_ns, out) != 0)
        return;
    struct risk_view *v = self->view;
    int rc = 0;
    if (!v->loaded || v->day != kt_ist_yyyymmdd (now_ns)) {
        rc = risk_state_roll (self->store, &self->ids, self->cfg, now_ns,
                              risk_core_unrealised (self), false, self->src, v);
        s_store_result (self, rc == 0, kt_store_errstr (self->store), out);
        if (rc != 0)
            return;
    }
    rc = risk_state_mark (self->store, &self->ids, now_ns, risk_core_unrealised (self), s_price,
                          self, v);
    s_store_result (self, rc == 0, kt_store_errstr (self->store), out);
    if (rc != 0)
        return;
    //  Executions that arrived while Redis was down: idempotent, so replay in order.
    int done = 0;
    while (done < self->npending && s_apply (self, &self->pending[done], now_ns, out) == 0)
        done++;
    if (done) {
        memmove (self->pending, self->pending + done,
                 (size_t) (self->npending - done) * sizeof self->pending[0]);
        self->npending -= done;
    }
    //  A fill or an end of a held order whose event was lost: the book has it.
    if (risk_capital_settle_needed (v)) {
        struct risk_applied a;
        char why[200];
        rc = risk_capital_settle (self->store, &self->ids, self->cfg, NULL, now_ns, &a, v, why,
                                  sizeof why);
        s_store_result (self, rc == 0, why, out);
    }
    s_unknown_flush (self, now_ns, out);
    s_halt_flush (self, now_ns, out);
    s_session_check (self, now_ns, out);
    s_note_state (self, out);
    int64_t agree_ns = v->state == KT_STATE_REDUCING && !v->kill ? s_recon_agree_ns (self) : 0;
    if (agree_ns > 0 && agree_ns >= self->started_ns && agree_ns >= v->since_ns) {
        bool changed = false;
        if (risk_state_activate (self->store, &self->ids, agree_ns, self->started_ns, now_ns,
                                 self->src, &changed, v) == 0 &&
            changed) {
            kt_log_info ("risk.active", KT_I ("agree_ns", agree_ns), KT_END);
            s_alert (out, KT_SEV_INFO, "risk.state", "trading ACTIVE: reconciler agrees");
        }
        s_note_state (self, out);
    }
    s_breakers (self, now_ns, out);
}

// ---- unanswered orders -----------------------------------------------------------------------

static bool
s_alerted (risk_core_t *self, const char *coid, bool add)
{
    for (int i = 0; i < self->nalerted; i++) {
        if (strcmp (self->alerted_coid[i], coid) == 0)
            return true;
    }
    if (add) {
        int i = self->nalerted < RISK_ORD_MAX ? self->nalerted++ : 0;
        snprintf (self->alerted_coid[i], KT_ID_LEN, "%.23s", coid);
    }
    return false;
}

//  Rebuild the ORDER_COMMAND of an open order from its intent record (the order's
//  fields as the decision wrote them), to ask again.
static int
s_command_of (risk_core_t *self, const char *coid, struct kt_order_cmd *cmd)
{
    struct kt_risk_intent_rec *r = calloc (1, sizeof *r);
    if (!r)
        abort ();
    char why[160];
    int rc = -1;
    if (kt_schema_read (self->store, &kt_key_risk_intent, coid, r, why, sizeof why) == 1 &&
        r->sym[0]) {
        struct kt_intent in;
        memset (&in, 0, sizeof in);
        snprintf (in.intent_id, sizeof in.intent_id, "%.23s", coid);
        snprintf (in.sym, sizeof in.sym, "%s", r->sym);
        in.side = kt_side_parse (r->side);
        in.purpose = kt_purpose_parse (r->purpose);
        in.order_type = kt_order_type_parse (r->order_type);
        in.price = r->price;
        in.trigger = r->trigger;
        in.product = kt_product_parse (r->product);
        in.stop_trigger = r->stop_trigger;
        in.has_stop = in.stop_trigger > 0;
        in.stop_price = r->stop_price;
        in.r_value = r->r_value;
        in.reason = kt_exit_reason_parse (r->exit_reason);
        in.qty = r->qty;
        risk_reply_command (&in, coid, in.qty, cmd);
        rc = 0;
    }
    free (r);
    return rc;
}

//  exec-gateway's record of coid in the book (order:<coid>, kt_book): written before it
//  talks to the broker, so no record means the order never left. The event it stands
//  for: status, cumulative fill, side, symbol; a rejection not of our own making is the
//  broker's. Returns 1 found, 0 absent, -1 error.
static int
s_exec_record (risk_core_t *self, const char *coid, struct kt_exec_event *ev)
{
    struct kt_order_rec rec;
    char why[160];
    int rc = kt_book_order_get (self->store, coid, &rec, why, sizeof why);
    if (rc < 0)
        kt_log_warn ("risk.book.fail", KT_S ("coid", coid), KT_S ("why", why), KT_END);
    if (rc != 1)
        return rc;
    memset (ev, 0, sizeof *ev);
    snprintf (ev->coid, sizeof ev->coid, "%.23s", coid);
    ev->event = kt_ord_status_exec_kind (rec.status);
    ev->filled_qty = rec.filled_qty;
    ev->avg_px = rec.avg_px;
    snprintf (ev->sym, sizeof ev->sym, "%s", rec.sym);
    ev->side = rec.side;
    ev->purpose = rec.purpose;
    if (ev->event == KT_EXEC_REJECTED)
        snprintf (ev->reason, sizeof ev->reason, "%s%.100s",
                  risk_capital_our_reason (rec.reason) ? "" : "BROKER: ", rec.reason);
    else
        snprintf (ev->reason, sizeof ev->reason, "looked up in order:%.23s", coid);
    return 1;
}

void
risk_core_sweep (risk_core_t *self, int64_t now_ns, struct risk_out *out)
{
    const struct risk_view *v = self->view;
    if (!v->loaded || self->store_down)
        return;
    //  Those still waiting are safe to sweep past: an unsent approval is refused below
    //  unless exec-gateway has it, and a refusal already is.
    s_unknown_flush (self, now_ns, out);
    int64_t timeout = self->cfg->resv_timeout_s * KT_NS_PER_SEC;
    //  Copy the ids first: applying an event refreshes the view under us.
    char coids[RISK_ORD_MAX][KT_ID_LEN];
    bool sent[RISK_ORD_MAX], answered[RISK_ORD_MAX];
    int n = 0;
    for (int i = 0; i < v->nord; i++) {
        const struct risk_order *o = &v->ord[i];
        int64_t since = o->sent_ns > 0 ? o->sent_ns : o->decided_ns;
        //  An answered order quiet for the time-out is looked up too: a terminal event
        //  lost after an earlier one would otherwise hold its reservation and cover.
        bool quiet = o->answered && o->event_ns > 0 && now_ns - o->event_ns > timeout;
        if ((!o->answered && since > 0 && now_ns - since > timeout) || quiet) {
            sent[n] = o->sent_ns > 0 || o->answered;
            answered[n] = o->answered;
            snprintf (coids[n++], KT_ID_LEN, "%s", o->coid);
        }
    }
    for (int i = 0; i < n; i++) {
        struct kt_exec_event ev;
        if (answered[i]) {
            //  exec-gateway answered before: never asked again, only brought up to date
            //  with what its record says (a no-op while the order rests).
            int found = s_exec_record (self, coids[i], &ev);
            if (found < 0)
                return;
            if (found == 1)
                risk_core_on_exec (self, &ev, now_ns, out);
            continue;
        }
        struct kt_order_cmd sent_cmd;
        if (!sent[i] && s_unmarked_take (self, coids[i], &sent_cmd)) {
            //  we did send it; only its mark was lost: mark it now, follow it later
            if (risk_capital_mark_sent (self->store, coids[i], &sent_cmd, now_ns) != 0) {
                self->unmarked[self->nunmarked++] = sent_cmd;
                return;
            }
            continue;
        }
        int found = s_exec_record (self, coids[i], &ev);
        if (found < 0)
            return;
        if (found == 0 && !sent[i]) {
            //  Approved in Redis but never sent (the caller's answer was lost or said
            //  BLOCK, or risk-gate stopped before sending): refused, never sent now.
            struct risk_decided d;
            memset (&d, 0, sizeof d);
            d.verdict = KT_VERDICT_BLOCK;
            d.nreasons = 1;
            d.reasons[0].code = KT_R_STORE_DOWN;
            d.reasons[0].outcome = KT_VERDICT_BLOCK;
            snprintf (d.reasons[0].text, sizeof d.reasons[0].text,
                      "decision outcome unknown: refused (never sent)");
            int result = 0;
            char why[200];
            if (risk_capital_resolve (self->store, &self->ids, self->cfg, coids[i], &d, now_ns,
                                      self->src, &result, self->view, why, sizeof why) != 0) {
                s_store_result (self, false, why, out);
                return;
            }
            if (result == 2) {
                kt_log_error ("risk.order.refused", KT_S ("coid", coids[i]),
                              KT_S ("msg", "approved but never sent: released as refused"), KT_END);
                s_alert (out, KT_SEV_WARNING, "risk.decide.unknown",
                         "order %s was approved in Redis but never sent (decision outcome "
                         "unknown): refused, its reservation released",
                         coids[i]);
            }
            continue;
        }
        if (found == 1 && !sent[i])
            risk_capital_mark_sent (self->store, coids[i], NULL, now_ns); //  it did leave
        if (found == 1) {
            //  exec-gateway has it: settle what its record already says (a terminal state
            //  whose event we missed), otherwise its events will come.
            kt_log_info ("risk.sweep.found", KT_S ("coid", coids[i]),
                         KT_S ("status", kt_exec_kind_str (ev.event)), KT_END);
            risk_core_on_exec (self, &ev, now_ns, out);
            continue;
        }
        if (s_alerted (self, coids[i], true))
            continue;
        //  Never recorded by exec-gateway: ask once more with the same coid (it answers a
        //  repeated coid with the first outcome, so this cannot place twice), keep the
        //  reservation, and tell a human.
        self->counters.unresolved++;
        risk_capital_mark_unresolved (self->store, coids[i]);
        if (out->ncmds < RISK_CMDS_MAX &&
            s_command_of (self, coids[i], &out->cmds[out->ncmds]) == 0)
            out->ncmds++;
        kt_log_error ("risk.order.unresolved", KT_S ("coid", coids[i]), KT_END);
        s_alert (out, KT_SEV_CRITICAL, "risk.unresolved",
                 "order %s: exec-gateway never confirmed it; its reservation is kept and the "
                 "order asked for again. Check exec-gateway",
                 coids[i]);
    }
}

void
risk_core_unanswered (risk_core_t *self, const char *coid, int64_t now_ns, struct risk_out *out)
{
    (void) now_ns;
    kt_log_warn ("risk.exec.timeout", KT_S ("coid", coid), KT_END);
    if (strncmp (coid, "rg-", 3) == 0) {
        s_alert (out, KT_SEV_CRITICAL, "risk.halt.unacked",
                 "halt command %s was not acknowledged by exec-gateway: cancel pending entries "
                 "by hand",
                 coid);
        return;
    }
    (void) self; //  entries: the sweep looks them up after resv_timeout_s
}

// ---- read-outs -------------------------------------------------------------------------------

const struct risk_view *
risk_core_view (const risk_core_t *self)
{
    return self->view;
}

int64_t
risk_core_unrealised (const risk_core_t *self)
{
    return risk_pnl_unrealised (self->view, s_price, (void *) self);
}

void
risk_core_state_msg (const risk_core_t *self, struct kt_risk_state *out)
{
    const struct risk_view *v = self->view;
    memset (out, 0, sizeof *out);
    out->state = v->loaded && v->state != KT_STATE_NONE ? v->state : KT_STATE_REDUCING;
    snprintf (out->reason, sizeof out->reason, "%s",
              v->loaded ? v->reason : "risk-gate cannot read Redis");
    int64_t unreal = risk_core_unrealised (self);
    out->unrealised = unreal;
    out->realised = v->realised_day;
    out->day_pnl = risk_pnl_day (v, unreal);
    out->equity = risk_pnl_equity (v, unreal);
    out->open_positions = v->units_total;
    out->max_positions = self->cfg->max_positions;
    out->max_daily_loss =
        risk_pnl_muldiv (v->day_start_equity, self->cfg->max_daily_loss_bps, 10000);
}

const struct risk_counters *
risk_core_counters (const risk_core_t *self)
{
    return &self->counters;
}
