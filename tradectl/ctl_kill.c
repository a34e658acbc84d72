/*  ctl_kill - the kill switch from the command line: halt and resume.
 *
 *  halt sets risk:kill (the same hash an operator may set by hand with redis-cli);
 *  risk-gate's decision commit checks it, so the very next entry is refused with KILL
 *  and trading HALTs, and its poll halts (cancelling pending entries) within
 *  risk.poll_ms even when no intent arrives. resume is risk-gate's own transition
 *  (risk_state_resume): the switch cleared and the halt ended in one commit, so it
 *  never leaves a half-resumed account. */

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include "ctl.h"
#include "../risk-gate/risk.h"

int
ctl_kill_halt (kt_store_t *store, const char *reason, const char *by, int64_t now_ns)
{
    if (!reason || !reason[0])
        return -1;
    struct kt_risk_kill_rec rec = {.active = true, .since_ns = now_ns};
    snprintf (rec.reason, sizeof rec.reason, "%s", reason);
    snprintf (rec.by, sizeof rec.by, "%s", by);
    if (ctl_gate_hset (store, &kt_key_risk_kill, &rec) != 0)
        return -1;
    kt_store_event (store,
                    (const kt_kv_t[]){KT_S ("type", "risk.kill"), KT_S ("by", by),
                                      KT_S ("reason", reason), KT_S ("src", "tradectl"), KT_END});
    return 0;
}

int
ctl_kill_resume (kt_store_t *store, const char *by, const char *expect, int64_t now_ns,
                 kt_trading_state_t *was)
{
    //  risk-gate's own transition (risk_state_resume): one implementation of HALTED ->
    //  REDUCING, committed only on the account it was decided on.
    struct risk_scripts ids;
    if (risk_capital_register (store, &ids) != 0)
        return -1;
    struct risk_view *view = calloc (1, sizeof *view);
    if (!view)
        abort ();
    int rc = risk_state_resume (store, &ids, by, expect, now_ns, was, view);
    free (view);
    return rc;
}

int
ctl_kill_wait (kt_store_t *store, kt_trading_state_t want, int timeout_ms)
{
    char why[128];
    for (int waited = 0;; waited += 50) {
        struct kt_risk_state_rec st = {0};
        if (ctl_gate_hash (store, &kt_key_risk_state, NULL, &st, why, sizeof why) < 0)
            return -1;
        if (kt_state_parse (st.state) == want)
            return 0;
        if (waited >= timeout_ms)
            return 1;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep (&ts, NULL);
    }
}
