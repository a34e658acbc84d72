/*  tradectl - the operator's command line. Wiring only: global options, the command
 *  table, the config and the Redis store; each command lives in its ctl_*.c file.
 *
 *    tradectl [-c FILE] [--json] COMMAND [ARGS]      tradectl --help
 *
 *  Exit codes (docs/tradectl.md): 0 done, 1 the action failed or was refused, 2 usage
 *  or config, 3 Redis unavailable, 4 a process or the broker did not answer. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl_cmd.h"

static const struct ctl_cmd s_cmds[] = {
    {"status", "", "can the system trade now, and why not; state, P&L, positions, health",
     ctl_state_cmd_status},
    {"positions", "", "open positions from the book", ctl_book_cmd_positions},
    {"orders", "[--all]", "open orders (--all: every order of today)", ctl_book_cmd_orders},
    {"halt", "REASON", "kill switch on (Redis and risk-gate's socket): entries refused",
     ctl_order_cmd_halt},
    {"resume", "[--clear CODE --reason TEXT]",
     "kill switch off; HALTED -> REDUCING until the reconciler agrees (a breaker: --clear)",
     ctl_state_cmd_resume},
    {"order", "BUY|SELL QTY SYMBOL [--limit RS] [--trigger RS] [--stop RS] [--exit] [--nrml]",
     "a manual order through risk-gate with every check", ctl_order_cmd_order},
    {"flatten", "[SYMBOL]", "close every open position (or one) through risk-gate",
     ctl_order_cmd_flatten},
    {"cancel-all", "", "cancel every open order through risk-gate", ctl_order_cmd_cancel_all},
    {"reconcile", "[--timeout S]", "ask the reconciler to compare with the broker now",
     ctl_request_cmd_reconcile},
    {"token", "ACCESS_TOKEN | -", "store a new access token and tell the processes",
     ctl_login_cmd_token},
    {"login", "[REDIRECT_URL | REQUEST_TOKEN]",
     "the daily Kite login: URL, request token, access token stored", ctl_login_cmd_login},
    {"alert-test", "[--timeout S] [--severity SEV]",
     "send a test alert and wait until it is delivered", ctl_alert_cmd_test},
    {"journal", "--date YYYY-MM-DD [--out FILE]", "the day's orders, fills, round trips as CSV",
     ctl_journal_cmd},
    {"watch", "[--interval S] [--once]", "full-screen live view; q or Ctrl-C quits", ctl_watch_cmd},
    {"preflight", "[--min-disk-mb N] [--alert-timeout S]",
     "the pre-market checklist: PASS/FAIL lines", ctl_preflight_cmd},
    {"metrics", "[--listen HOST:PORT] [--once]", "serve Prometheus metrics (127.0.0.1:9108)",
     ctl_metrics_cmd},
    {NULL, NULL, NULL, NULL}};

static void
s_help (FILE *f)
{
    fprintf (f, "usage: tradectl [-c FILE] [--json] COMMAND [ARGS]\n"
                "       tradectl COMMAND --help\n\n"
                "  -c FILE   the pipeline config (default $KT_CONFIG, else "
                "deploy/config/sim.json)\n"
                "  --json    one JSON object on stdout instead of text\n\ncommands:\n");
    for (const struct ctl_cmd *c = s_cmds; c->name; c++)
        fprintf (f, "  %-11s %s\n              %s\n", c->name, c->args, c->summary);
    fprintf (f, "\nexit codes: 0 done, 1 failed or refused, 2 usage or config, 3 Redis "
                "unavailable,\n            4 a process or the broker did not answer "
                "(docs/tradectl.md)\n");
}

int
main (int argc, char **argv)
{
    const char *file = getenv ("KT_CONFIG");
    bool json = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
            s_help (stdout);
            return CTL_EXIT_OK;
        } else if (strcmp (argv[i], "--json") == 0)
            json = true;
        else if ((strcmp (argv[i], "-c") == 0 || strcmp (argv[i], "--config") == 0) && i + 1 < argc)
            file = argv[++i];
        else {
            fprintf (stderr, "tradectl: unknown option %s\n", argv[i]);
            s_help (stderr);
            return CTL_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        s_help (stderr);
        return CTL_EXIT_USAGE;
    }
    const struct ctl_cmd *cmd = s_cmds;
    while (cmd->name && strcmp (cmd->name, argv[i]) != 0)
        cmd++;
    if (!cmd->name) {
        fprintf (stderr, "tradectl: unknown command %s (tradectl --help lists them)\n", argv[i]);
        return CTL_EXIT_USAGE;
    }
    //  --json and --help are accepted after the command too; the rest is the command's.
    char *args[64];
    int nargs = 0;
    for (int j = i; j < argc; j++) {
        if (strcmp (argv[j], "--json") == 0 && j > i)
            json = true;
        else if (strcmp (argv[j], "--help") == 0 && j > i) {
            printf ("usage: tradectl %s %s\n  %s\n", cmd->name, cmd->args, cmd->summary);
            return CTL_EXIT_OK;
        } else if (nargs < 63)
            args[nargs++] = argv[j];
        else {
            fprintf (stderr, "tradectl: too many arguments\n");
            return CTL_EXIT_USAGE;
        }
    }
    args[nargs] = NULL;
    if (!file)
        file = "deploy/config/sim.json";

    char err[1024];
    kt_cfg_t *cfg = kt_cfg_load_file (file, "tradectl", NULL, NULL, err, sizeof err);
    if (!cfg) {
        fprintf (stderr, "%s\n", err);
        return CTL_EXIT_USAGE;
    }
    kt_log_open ("tradectl", KT_LOG_WARN);
    ctl_t ctl = {.cfg = cfg, .json = json, .out = stdout, .err = stderr};
    ctl.by = getenv ("USER") && *getenv ("USER") ? getenv ("USER") : "operator";
    ctl.store = kt_store_new (cfg->redis_host, (int) cfg->redis_port, cfg->redis_prefix,
                              (int) cfg->redis_timeout_ms);
    int rc = ctl.store ? cmd->fn (&ctl, nargs, args) : CTL_EXIT_USAGE;
    if (ctl.json && !ctl.emitted) {
        //  --json promises one object on stdout, also when the command failed early.
        cJSON *root = cJSON_CreateObject ();
        cJSON_AddBoolToObject (root, "ok", rc == CTL_EXIT_OK);
        ctl_json_i64 (root, "exit", rc);
        cJSON_AddStringToObject (root, "error", ctl.error);
        ctl_json_emit (&ctl, root, rc);
    }
    fflush (stdout);
    kt_store_destroy (&ctl.store);
    kt_cfg_destroy (&cfg);
    return rc;
}
