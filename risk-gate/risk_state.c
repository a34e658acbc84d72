/*  risk_state - the trading state ACTIVE / REDUCING / HALTED in Redis (risk:state),
 *  and the account's life around it: creation, start-up, the daily reset, P&L marks,
 *  the operator's resume.
 *
 *  Every change is decided here in C on the account as just read (one snapshot) and
 *  written with one commit (risk_tx) that applies only if the account did not change
 *  meanwhile (else it is decided again on the account as it is), so two instances or an
 *  operator racing end in one answer. Each builder is pure: view in, writes out. The
 *  caller then publishes RISK_STATE and alerts. tradectl's resume is this code too.
 *  State machine (docs/risk-gate.md):
 *    new account -> REDUCING;  start-up: ACTIVE -> REDUCING;
 *    REDUCING -> ACTIVE when the reconciler's recon_ok_ns is at or after both this
 *      instance's start and the moment REDUCING began (a resume needs a fresh
 *      reconciliation), and no kill switch is set;
 *    any -> HALTED on a HALT rule, the kill switch or a TokenException (scope "day" for
 *      DAILY_LOSS, HOURLY_LOSS, CONSEC_LOSS, REJECTS; "manual" otherwise);
 *    HALTED -> REDUCING only by an operator (tradectl resume) or, for scope "day", by
 *      the daily reset. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "risk.h"

//  A state change: writes into tx from the account in *v; false when there is nothing
//  to write. kill: the kill switch the change assumes (-1 any). keep_version: writes no
//  rule reads.
typedef bool (s_build_fn) (const struct risk_view *v, const void *arg, struct risk_tx *tx,
                           int *kill, bool *keep_version);

static void
s_set_state (const char *state, const char *reason, const char *scope, int64_t now_ns,
             const char *src, struct risk_tx *tx)
{
    risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
    risk_tx_pair (tx, "state", state);
    risk_tx_pair (tx, "reason", reason);
    risk_tx_pair_i64 (tx, "since_ns", now_ns);
    risk_tx_pair (tx, "scope", scope);
    risk_tx_event (tx, "risk.state", src);
    risk_tx_pair (tx, "state", state);
    risk_tx_pair (tx, "reason", reason);
}

//  Read the account, build, commit; again on an account that moved meanwhile. *view is
//  the account after it. Returns 0 (*changed: something was written) or -1.
static int
s_run (kt_store_t *store, const struct risk_scripts *ids, s_build_fn *build, const void *arg,
       bool *changed, struct risk_view *view)
{
    char why[200];
    if (changed)
        *changed = false;
    if (risk_capital_snapshot (store, ids, view, why, sizeof why) != 0) {
        kt_log_warn ("risk.view.fail", KT_S ("why", why), KT_END);
        return -1;
    }
    struct risk_tx *tx = malloc (sizeof *tx);
    if (!tx)
        abort ();
    int rc = -1;
    for (int attempt = 0; attempt < RISK_DECIDE_TRIES; attempt++) {
        int kill = -1;
        bool keep = false;
        //  Built twice: the first pass tells the kill switch the change assumes, which
        //  heads the commit.
        risk_tx_begin (tx, kt_store_prefix (store), view->version, -1, NULL);
        if (!build (view, arg, tx, &kill, &keep)) {
            rc = 0;
            break;
        }
        risk_tx_begin (tx, kt_store_prefix (store), view->version, kill, NULL);
        build (view, arg, tx, &kill, &keep);
        risk_tx_flags (tx, true, keep);
        risk_tx_rc_t t = risk_tx_commit (store, ids->commit, tx, view, NULL, why, sizeof why);
        if (t == RISK_TX_STALE)
            continue;
        if (t == RISK_TX_OK) {
            rc = 0;
            if (changed)
                *changed = true;
        } else
            kt_log_error ("risk.state.fail", KT_S ("why", why), KT_END);
        break;
    }
    free (tx);
    return rc;
}

// ---- the daily roll --------------------------------------------------------------------

struct s_roll {
    const struct risk_cfg *cfg;
    int64_t now_ns, unrealised;
    bool startup;
    const char *src;
};

static bool
s_roll (const struct risk_view *v, const void *arg, struct risk_tx *tx, int *kill, bool *keep)
{
    (void) kill;
    (void) keep;
    const struct s_roll *a = arg;
    int day = kt_ist_yyyymmdd (a->now_ns);
    int64_t wk = kt_ist_week_start (a->now_ns);
    bool wrote = false;
    kt_trading_state_t state = v->state;
    if (v->initial == 0 && v->realised_total == 0 && v->reserved == 0 && v->deployed == 0 &&
        v->state == KT_STATE_NONE) {
        risk_tx_key (tx, "HSET", &kt_key_risk_capital, NULL);
        risk_tx_pair_i64 (tx, "initial", a->cfg->capital);
        risk_tx_pair (tx, "realised_total", "0");
        risk_tx_pair (tx, "reserved", "0");
        risk_tx_pair (tx, "deployed", "0");
        wrote = true;
    }
    int64_t initial = v->initial ? v->initial : a->cfg->capital;
    int64_t eq = initial + v->realised_total + a->unrealised;
    if (v->state == KT_STATE_NONE && v->day == 0) {
        risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
        risk_tx_pair_i64 (tx, "day", day);
        risk_tx_pair_i64 (tx, "week_start_ns", wk);
        risk_tx_pair_i64 (tx, "day_start_equity", eq);
        risk_tx_pair_i64 (tx, "week_start_equity", eq);
        risk_tx_pair_i64 (tx, "day_start_unrealised", a->unrealised);
        risk_tx_pair_i64 (tx, "week_start_unrealised", a->unrealised);
        const char *zero[] = {"realised_day", "realised_week", "consec_losses",
                              "trades_day",   "last_entry_ns", "units_total",
                              "units_ce",     "units_pe",      "halt_seq"};
        for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
            risk_tx_pair (tx, zero[i], "0");
        risk_tx_pair_i64 (tx, "peak_equity", eq);
        risk_tx_pair (tx, "session_ok", "1");
        s_set_state ("REDUCING", "new account: awaiting reconciliation", "", a->now_ns, a->src, tx);
        state = KT_STATE_REDUCING;
        wrote = true;
    } else if (v->day != day) {
        if (v->day) {
            char dk[16];
            snprintf (dk, sizeof dk, "%d", v->day);
            risk_tx_key (tx, "HSET", &kt_key_risk_day, dk);
            risk_tx_pair_i64 (tx, "day", v->day);
            risk_tx_pair_i64 (tx, "realised", v->realised_day);
            risk_tx_pair_i64 (tx, "trades", v->trades_day);
            risk_tx_pair_i64 (tx, "consec_losses", v->consec_losses);
            risk_tx_pair_i64 (tx, "day_start_equity", v->day_start_equity);
            risk_tx_pair_i64 (tx, "end_equity", eq);
            risk_tx_pair_i64 (tx, "peak_equity", v->peak_equity);
            risk_tx_pair (tx, "state", v->state == KT_STATE_NONE ? "" : kt_state_str (v->state));
            risk_tx_pair (tx, "reason", v->reason);
            risk_tx_pair_i64 (tx, "archived_ns", a->now_ns);
        }
        risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
        risk_tx_pair_i64 (tx, "day", day);
        risk_tx_pair_i64 (tx, "day_start_equity", eq);
        risk_tx_pair_i64 (tx, "day_start_unrealised", a->unrealised);
        risk_tx_pair (tx, "realised_day", "0");
        risk_tx_pair (tx, "trades_day", "0");
        risk_tx_pair (tx, "consec_losses", "0");
        if (v->week_start_ns != wk) {
            risk_tx_pair_i64 (tx, "week_start_ns", wk);
            risk_tx_pair_i64 (tx, "week_start_equity", eq);
            risk_tx_pair_i64 (tx, "week_start_unrealised", a->unrealised);
            risk_tx_pair (tx, "realised_week", "0");
        }
        const kt_schema_key_t *day_keys[] = {&kt_key_risk_marks,       &kt_key_risk_ts_orders,
                                             &kt_key_risk_ts_modifies, &kt_key_risk_ts_entries,
                                             &kt_key_risk_ts_rejects,  &kt_key_risk_fills,
                                             &kt_key_risk_done};
        for (size_t i = 0; i < sizeof day_keys / sizeof day_keys[0]; i++)
            risk_tx_key (tx, "DEL", day_keys[i], NULL);
        risk_tx_event (tx, "risk.day", a->src);
        risk_tx_pair_i64 (tx, "day", day);
        risk_tx_pair_i64 (tx, "previous", v->day);
        risk_tx_pair_i64 (tx, "stage_pct", a->cfg->capital_stage_pct);
        if (v->state == KT_STATE_HALTED && v->day_scoped) {
            s_set_state ("REDUCING", "new trading day: the day-scoped halt ended", "", a->now_ns,
                         a->src, tx);
            state = KT_STATE_REDUCING;
        }
        wrote = true;
    }
    if (a->startup) {
        //  The rollout stage this instance runs with, for the day's journal.
        risk_tx_event (tx, "risk.stage", a->src);
        risk_tx_pair_i64 (tx, "stage_pct", a->cfg->capital_stage_pct);
        risk_tx_pair_i64 (tx, "day", day);
        wrote = true;
    }
    if (a->startup && state == KT_STATE_ACTIVE) {
        s_set_state ("REDUCING", "start-up: awaiting reconciliation", "", a->now_ns, a->src, tx);
        wrote = true;
    }
    return wrote;
}

int
risk_state_roll (kt_store_t *store, const struct risk_scripts *ids, const struct risk_cfg *cfg,
                 int64_t now_ns, int64_t unrealised, bool startup, const char *src,
                 struct risk_view *view)
{
    struct s_roll a = {cfg, now_ns, unrealised, startup, src};
    return s_run (store, ids, s_roll, &a, NULL, view);
}

// ---- halt, activate, session, resume -----------------------------------------------------

struct s_halt {
    kt_reason_t code;
    const char *text;
    int64_t now_ns;
    const char *src;
};

void
risk_state_halt_tx (const struct risk_view *v, kt_reason_t code, const char *text, int64_t now_ns,
                    const char *src, struct risk_tx *tx)
{
    char why[KT_TEXT_LEN];
    snprintf (why, sizeof why, "%s: %s", kt_reason_str (code), text);
    s_set_state ("HALTED", why, risk_breaker_is_day_scoped (code) ? "day" : "manual", now_ns, src,
                 tx);
    risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
    risk_tx_pair_i64 (tx, "halt_seq", v->halt_seq + 1);
}

static bool
s_halt (const struct risk_view *v, const void *arg, struct risk_tx *tx, int *kill, bool *keep)
{
    (void) kill;
    (void) keep;
    const struct s_halt *a = arg;
    if (v->state == KT_STATE_HALTED)
        return false;
    risk_state_halt_tx (v, a->code, a->text, a->now_ns, a->src, tx);
    return true;
}

int
risk_state_halt (kt_store_t *store, const struct risk_scripts *ids, kt_reason_t code,
                 const char *text, int64_t now_ns, const char *src, bool *halted,
                 struct risk_view *view)
{
    struct s_halt a = {code, text, now_ns, src};
    return s_run (store, ids, s_halt, &a, halted, view);
}

struct s_activate {
    int64_t since_ns, now_ns, agree_ns;
    const char *src;
};

static bool
s_activate (const struct risk_view *v, const void *arg, struct risk_tx *tx, int *kill, bool *keep)
{
    (void) keep;
    const struct s_activate *a = arg;
    int64_t need = v->since_ns > a->since_ns ? v->since_ns : a->since_ns;
    if (v->state != KT_STATE_REDUCING || v->kill || a->agree_ns <= 0 || a->agree_ns < need)
        return false;
    *kill = 0; //  a kill switch set meanwhile keeps it REDUCING
    s_set_state ("ACTIVE", "reconciler agrees with the broker", "", a->now_ns, a->src, tx);
    return true;
}

int
risk_state_activate (kt_store_t *store, const struct risk_scripts *ids, int64_t agree_ns,
                     int64_t since_ns, int64_t now_ns, const char *src, bool *changed,
                     struct risk_view *view)
{
    struct s_activate a = {since_ns, now_ns, agree_ns, src};
    return s_run (store, ids, s_activate, &a, changed, view);
}

static bool
s_session (const struct risk_view *v, const void *arg, struct risk_tx *tx, int *kill, bool *keep)
{
    (void) kill;
    (void) keep;
    bool ok = *(const bool *) arg;
    if (v->session_ok == ok)
        return false;
    risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
    risk_tx_pair (tx, "session_ok", ok ? "1" : "0");
    return true;
}

int
risk_state_session (kt_store_t *store, const struct risk_scripts *ids, bool ok, int64_t now_ns,
                    struct risk_view *view)
{
    (void) now_ns;
    return s_run (store, ids, s_session, &ok, NULL, view);
}

struct s_resume {
    const char *by;
    int64_t now_ns;
    kt_trading_state_t *was; //  the state the committed resume saw
    const char *expect;      //  the halt the operator decided on ("" = none), NULL = any
    bool *moved;             //  set when another halt stands than the one expected
};

//  The operator's resume: the kill switch off and, from HALTED, REDUCING (until the
//  reconciler agrees again), the session valid again, and the broker rejections that
//  may have halted forgotten (the operator looked at them; kept, they would halt the
//  next entry again).
static bool
s_resume (const struct risk_view *v, const void *arg, struct risk_tx *tx, int *kill, bool *keep)
{
    (void) kill;
    (void) keep;
    const struct s_resume *a = arg;
    *a->was = v->state;
    //  Decided on the account the commit applies to: a breaker that halted after the
    //  operator looked is not cleared by a resume meant for another one.
    const char *stands = v->state == KT_STATE_HALTED ? v->reason : "";
    if (a->expect && strcmp (stands, a->expect) != 0) {
        *a->moved = true;
        return false;
    }
    risk_tx_key (tx, "HSET", &kt_key_risk_kill, NULL);
    risk_tx_pair (tx, "active", "0");
    risk_tx_pair (tx, "reason", "");
    risk_tx_pair (tx, "by", a->by);
    risk_tx_pair_i64 (tx, "since_ns", a->now_ns);
    if (v->state == KT_STATE_HALTED) {
        char reason[KT_TEXT_LEN];
        snprintf (reason, sizeof reason, "resumed by %.60s: awaiting reconciliation", a->by);
        s_set_state ("REDUCING", reason, "", a->now_ns, "tradectl", tx);
        risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
        risk_tx_pair (tx, "session_ok", "1");
        risk_tx_key (tx, "DEL", &kt_key_risk_ts_rejects, NULL);
    }
    risk_tx_event (tx, "risk.resume", "tradectl");
    risk_tx_pair (tx, "by", a->by);
    risk_tx_pair (tx, "was", v->state == KT_STATE_NONE ? "" : kt_state_str (v->state));
    return true;
}

int
risk_state_resume (kt_store_t *store, const struct risk_scripts *ids, const char *by,
                   const char *expect, int64_t now_ns, kt_trading_state_t *was,
                   struct risk_view *view)
{
    kt_trading_state_t seen = KT_STATE_NONE;
    bool moved = false;
    struct s_resume a = {by, now_ns, &seen, expect, &moved};
    int rc = s_run (store, ids, s_resume, &a, NULL, view);
    if (was)
        *was = seen;
    return rc == 0 && moved ? 1 : rc;
}

struct s_kill {
    const char *reason, *by;
    int64_t now_ns;
};

static bool
s_kill (const struct risk_view *v, const void *arg, struct risk_tx *tx, int *kill, bool *keep)
{
    (void) kill;
    (void) keep;
    const struct s_kill *a = arg;
    if (v->kill)
        return false;
    risk_tx_key (tx, "HSET", &kt_key_risk_kill, NULL);
    risk_tx_pair (tx, "active", "1");
    risk_tx_pair (tx, "reason", a->reason);
    risk_tx_pair (tx, "by", a->by);
    risk_tx_pair_i64 (tx, "since_ns", a->now_ns);
    risk_tx_event (tx, "risk.kill", a->by);
    risk_tx_pair (tx, "reason", a->reason);
    return true;
}

int
risk_state_kill (kt_store_t *store, const struct risk_scripts *ids, const char *reason,
                 const char *by, int64_t now_ns, struct risk_view *view)
{
    struct s_kill a = {reason, by, now_ns};
    return s_run (store, ids, s_kill, &a, NULL, view);
}

// ---- the periodic mark ---------------------------------------------------------------------

#define S_MARKS_KEPT 60 //  minutes of marks kept before the current one

struct s_mark {
    int64_t now_ns, unrealised;
    risk_price_fn *price;
    void *arg;
};

static bool
s_mark (const struct risk_view *v, const void *arg, struct risk_tx *tx, int *kill, bool *keep)
{
    (void) kill;
    const struct s_mark *a = arg;
    if (v->state == KT_STATE_NONE && v->day == 0)
        return false; //  no account yet: the roll creates it
    int minute = risk_pnl_minute (a->now_ns);
    int64_t dpnl = risk_pnl_day (v, a->unrealised);
    int64_t eq = risk_pnl_equity (v, a->unrealised);
    //  The rules read the marks and the peak: only those move the version.
    *keep = true;
    if (!v->has_mark[minute]) {
        risk_tx_key (tx, "HSET", &kt_key_risk_marks, NULL);
        risk_tx_i64 (tx, minute);
        risk_tx_i64 (tx, dpnl);
        //  Only the rolling hour is ever read (HOURLY_LOSS): older marks go, so the
        //  account every decision and poll reads stays small all day.
        bool old = false;
        int dropped = 0; //  a backlog (marks of a whole day) goes over a few minutes
        for (int m = 0; m < minute - S_MARKS_KEPT && dropped < 240; m++) {
            if (!v->has_mark[m])
                continue;
            dropped++;
            if (!old)
                risk_tx_key (tx, "HDEL", &kt_key_risk_marks, NULL);
            old = true;
            risk_tx_i64 (tx, m);
        }
        *keep = false;
    }
    risk_tx_key (tx, "HSET", &kt_key_risk_state, NULL);
    if (eq > v->peak_equity) {
        risk_tx_pair_i64 (tx, "peak_equity", eq);
        *keep = false;
    }
    risk_tx_pair_i64 (tx, "unrealised", a->unrealised);
    risk_tx_pair_i64 (tx, "day_pnl", dpnl);
    risk_tx_pair_i64 (tx, "updated_ns", a->now_ns);
    risk_tx_key (tx, "HSET", &kt_key_risk_capital, NULL);
    risk_tx_pair_i64 (tx, "equity", eq);
    risk_tx_pair_i64 (tx, "available", eq - v->reserved - v->deployed);
    for (int i = 0; i < v->npos; i++) {
        int64_t px, ts;
        if (!a->price || !a->price (a->arg, v->pos[i].sym, &px, &ts) || px <= 0)
            continue;
        risk_tx_key (tx, "HSET", &kt_key_risk_pos, v->pos[i].sym);
        risk_tx_pair_i64 (tx, "last_px", px);
        risk_tx_pair_i64 (tx, "last_px_ns", ts);
    }
    return true;
}

int
risk_state_mark (kt_store_t *store, const struct risk_scripts *ids, int64_t now_ns,
                 int64_t unrealised, risk_price_fn *price, void *arg, struct risk_view *view)
{
    struct s_mark a = {now_ns, unrealised, price, arg};
    return s_run (store, ids, s_mark, &a, NULL, view);
}
