/*  ctl_state - `status` and `resume`: the account as risk-gate keeps it
 *  (ctl_status_print, ctl_kill_resume), followed by every process's heartbeat, so the
 *  operator sees at once which process is down. --json gives the processes and the
 *  book (risk-gate's own keys are printed by the text form only). */

#include <stdlib.h>
#include <string.h>
#include "ctl_cmd.h"
#include "../risk-gate/risk_cfg.h"

//  One line per process: up/DOWN and the age of its last heartbeat. Returns how many
//  are down, or -1 if Redis is unavailable.
static int
s_processes (ctl_t *ctl, int64_t now, int64_t speed, cJSON *arr)
{
    int down = 0;
    if (!arr)
        fprintf (ctl->out, "processes:\n");
    for (int i = 0; ctl_health_procs[i]; i++) {
        struct ctl_health h;
        if (ctl_health_read (ctl, ctl_health_procs[i], now, speed, &h) != 0)
            return -1;
        char age[32];
        if (h.present)
            ctl_fmt_age (h.age_ns, age, sizeof age);
        if (!h.fresh)
            down++;
        if (arr) {
            cJSON *p = cJSON_CreateObject ();
            cJSON_AddStringToObject (p, "name", h.proc);
            cJSON_AddBoolToObject (p, "up", h.fresh);
            ctl_json_i64 (p, "pid", h.rec.pid);
            ctl_json_i64 (p, "beat_ns", h.rec.beat);
            cJSON_AddStringToObject (p, "beat_age", h.present ? age : "never");
            cJSON_AddItemToArray (arr, p);
        } else if (!h.present)
            fprintf (ctl->out, "  %-13s DOWN (no heartbeat)\n", h.proc);
        else
            fprintf (ctl->out, "  %-13s %s (pid %lld, last beat %s)\n", h.proc,
                     h.fresh ? "up" : "STALE", (long long) h.rec.pid, age);
    }
    return down;
}

//  The rollout stage risk-gate runs with (risk.capital_stage_pct of the same config file):
//  the share of equity its capital rules work on. Text line, or "capital_stage_pct" in root.
static void
s_stage (ctl_t *ctl, cJSON *root)
{
    struct risk_cfg rc;
    char err[1024];
    kt_cfg_t *cfg =
        kt_cfg_load_file (ctl->cfg->file, "tradectl", risk_cfg_table, &rc, err, sizeof err);
    if (root) {
        if (cfg)
            ctl_json_i64 (root, "capital_stage_pct", rc.capital_stage_pct);
    } else if (cfg)
        fprintf (ctl->out,
                 "capital stage:   %lld%% of equity for entries (risk.capital_stage_pct)%s\n",
                 (long long) rc.capital_stage_pct, rc.capital_stage_pct == 0 ? ": no entries" : "");
    else
        fprintf (ctl->out, "capital stage:   unknown (%s)\n", err);
    kt_cfg_destroy (&cfg);
}

int
ctl_state_cmd_status (ctl_t *ctl, int argc, char **argv)
{
    (void) argv;
    if (argc != 1)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "status takes no arguments");
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store)
        return CTL_EXIT_REDIS;
    int64_t speed;
    int64_t now = ctl_ctx_now (ctl, &speed);
    if (!ctl->json) {
        if (ctl_status_print (store, ctl->out, now, speed, ctl->cfg->health_ttl_s) != 0)
            return CTL_EXIT_REDIS;
        s_stage (ctl, NULL);
        return s_processes (ctl, now, speed, NULL) < 0 ? CTL_EXIT_REDIS : CTL_EXIT_OK;
    }
    char why[256];
    struct ctl_gate_in in;
    if (ctl_gate_read (store, now, speed, ctl->cfg->health_ttl_s, &in, why, sizeof why) != 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "status: %s", why);
    struct ctl_gate g;
    ctl_gate_decide (&in, &g);
    //  the answer first, as in the text form
    cJSON *root = ctl_gate_json (&g);
    ctl_json_i64 (root, "now_ns", now);
    s_stage (ctl, root);
    int down = s_processes (ctl, now, speed, cJSON_AddArrayToObject (root, "processes"));
    struct kt_pos_rec *pos = NULL;
    struct kt_order_rec *ord = NULL;
    int np = ctl_book_positions (ctl, &pos, why, sizeof why);
    int no = ctl_book_open_orders (ctl, &ord, why, sizeof why);
    struct kt_book_rec book;
    if (down < 0 || np < 0 || no < 0 || kt_book_get (store, &book, why, sizeof why) != 0) {
        free (pos);
        free (ord);
        cJSON_Delete (root);
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "status: %s", why);
    }
    ctl_json_i64 (root, "processes_down", down);
    cJSON *arr = cJSON_AddArrayToObject (root, "positions");
    for (int i = 0; i < np; i++)
        cJSON_AddItemToArray (arr, ctl_json_pos (&pos[i]));
    arr = cJSON_AddArrayToObject (root, "open_orders");
    for (int i = 0; i < no; i++)
        cJSON_AddItemToArray (arr, ctl_json_order (&ord[i], now));
    cJSON *b = cJSON_AddObjectToObject (root, "book");
    ctl_json_i64 (b, "ver", book.ver);
    ctl_json_i64 (b, "realised", book.realised);
    ctl_json_i64 (b, "fills", book.fills);
    free (pos);
    free (ord);
    return ctl_json_emit (ctl, root, CTL_EXIT_OK);
}

//  The code of a halt reason "CODE: text" into code ("" when none).
static void
s_code (const char *reason, char *code, size_t len)
{
    size_t n = strcspn (reason, ":");
    snprintf (code, len, "%.*s", (int) (n < len ? n : len - 1), reason);
}

int
ctl_state_cmd_resume (ctl_t *ctl, int argc, char **argv)
{
    const char *clear = NULL, *reason = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--clear") == 0 && i + 1 < argc)
            clear = argv[++i];
        else if (strcmp (argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                                 "resume takes [--clear CODE --reason TEXT], not %s", argv[i]);
    }
    if (clear && (!reason || !reason[0]))
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "resume --clear %s needs --reason \"why\"",
                             clear);
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store)
        return CTL_EXIT_REDIS;
    //  A breaker (any halt but the operator's own KILL) stands until the daily reset (scope
    //  day) or an operator clears it by its code, on purpose and with a reason: a restart or a
    //  reflexive resume does not.
    char why[256], code[32];
    struct kt_risk_state_rec st = {0};
    if (ctl_gate_hash (store, &kt_key_risk_state, NULL, &st, why, sizeof why) < 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "resume failed: %s", why);
    bool halted = kt_state_parse (st.state) == KT_STATE_HALTED;
    s_code (st.reason, code, sizeof code);
    bool breaker = halted && kt_reason_parse (code) != KT_R_KILL;
    if (breaker && !clear)
        return ctl_ctx_fail (ctl, CTL_EXIT_FAIL,
                             "resume refused: trading is HALTED by the %s breaker (%s)%s; to "
                             "clear it on purpose: tradectl resume --clear %s --reason \"why\"",
                             code, st.reason,
                             strcmp (st.scope, "day") == 0 ? ", which ends at the daily reset" : "",
                             code);
    if (clear && (!breaker || strcmp (clear, code) != 0))
        return ctl_ctx_fail (ctl, CTL_EXIT_FAIL, "resume refused: %s does not stand (%s%s%s)",
                             clear, st.state[0] ? st.state : "no account", st.reason[0] ? ": " : "",
                             st.reason);
    kt_trading_state_t was = KT_STATE_NONE;
    int rc =
        ctl_kill_resume (store, ctl->by, halted ? st.reason : "", ctl_ctx_now (ctl, NULL), &was);
    if (rc < 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "resume failed: %s", kt_store_errstr (store));
    if (rc > 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_FAIL,
                             "resume refused: the account changed while deciding (now %s); run "
                             "status and decide again",
                             kt_state_str (was));
    if (clear) {
        kt_log_warn ("ctl.resume.clear", KT_S ("code", code), KT_S ("by", ctl->by),
                     KT_S ("reason", reason), KT_S ("halt", st.reason), KT_END);
        kt_store_event (store, (const kt_kv_t[]){KT_S ("type", "risk.clear"), KT_S ("code", code),
                                                 KT_S ("by", ctl->by), KT_S ("reason", reason),
                                                 KT_S ("halt", st.reason), KT_S ("src", "tradectl"),
                                                 KT_END});
    }
    const char *was_s = was ? kt_state_str (was) : "UNKNOWN";
    if (ctl->json) {
        cJSON *root = cJSON_CreateObject ();
        cJSON_AddBoolToObject (root, "kill_switch", false);
        cJSON_AddStringToObject (root, "was", was_s);
        cJSON_AddStringToObject (root, "now", was == KT_STATE_HALTED ? "REDUCING" : was_s);
        if (clear)
            cJSON_AddStringToObject (root, "cleared", code);
        return ctl_json_emit (ctl, root, CTL_EXIT_OK);
    }
    if (clear)
        fprintf (ctl->out, "%s breaker cleared by %s (%s); recorded in events\n", code, ctl->by,
                 reason);
    fprintf (ctl->out, "kill switch off; state was %s%s\n", was_s,
             was == KT_STATE_HALTED ? ", now REDUCING until the reconciler agrees again" : "");
    return CTL_EXIT_OK;
}
