/*  kt_cfg_test - the config loader: every kind of mistake stops the load with one exact
 *  line naming the file, the JSON path and the reason; a process table of every type
 *  loads exactly (money from the number's text, not a double); secrets come from the
 *  environment or a secrets file and never show in --print-config or the log; the
 *  shipped deploy/config/{sim,paper,live}.json load and carry every shared key with its default. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cJSON.h>
#include <cmocka.h>

#include "kt_cfg.h"
#include "kt_log.h"

//  A process config struct and its table, one row of each type, with a nested section.
struct t_cfg {
    int64_t max_positions;
    bool enabled;
    char name[16];
    int64_t capital;            //  paise
    int64_t max_dd_bps;
    double factor;
    int64_t big;
    int64_t daily_loss;         //  paise
    char bot_token[48];
};

static const kt_cfg_row_t s_table[] = {
    { "risk.max_positions", KT_CFG_INT, offsetof (struct t_cfg, max_positions), 0, "2", 1, 10,
      0, "open positions at most" },
    { "risk.enabled", KT_CFG_BOOL, offsetof (struct t_cfg, enabled), 0, "true", 0, -1, 0,
      "trading allowed" },
    { "risk.name", KT_CFG_STR, offsetof (struct t_cfg, name), sizeof ((struct t_cfg *) 0)->name,
      "\"baseline\"", 0, -1, 0, "a name" },
    { "risk.capital", KT_CFG_MONEY, offsetof (struct t_cfg, capital), 0, "100000", 100,
      10000000000, 0, "capital, rupees" },
    { "risk.max_dd", KT_CFG_BPS, offsetof (struct t_cfg, max_dd_bps), 0, "2.5", 0, 10000, 0,
      "max drawdown, percent" },
    { "risk.factor", KT_CFG_DBL, offsetof (struct t_cfg, factor), 0, "1.5", 0, 10, 0,
      "a factor" },
    { "risk.big", KT_CFG_INT, offsetof (struct t_cfg, big), 0, "0", 0, -1, 0, "unbounded" },
    { "risk.limits.daily_loss", KT_CFG_MONEY, offsetof (struct t_cfg, daily_loss), 0, "5000",
      0, -1, 0, "daily loss limit, rupees" },
    { "risk.bot_token", KT_CFG_SECRET, offsetof (struct t_cfg, bot_token),
      sizeof ((struct t_cfg *) 0)->bot_token, "\"env:KT_TEST_BOT\"", 0, -1, KT_CFG_F_OPTIONAL,
      "a bot token" },
    KT_CFG_END
};

static const kt_cfg_row_t s_required_table[] = {
    { "exec.account", KT_CFG_STR, 0, 16, NULL, 0, -1, KT_CFG_F_REQUIRED, "account id" },
    KT_CFG_END
};

//  Rows a process may not declare: they would break every other process's load.
static const kt_cfg_row_t s_bad_table_shared[] = {
    { "kite.reconnect_ms", KT_CFG_INT, 0, 0, "1000", 0, -1, 0, "in a shared section" },
    KT_CFG_END
};

static const kt_cfg_row_t s_bad_table_section[] = {
    { "fills.model", KT_CFG_INT, 0, 0, "1", 0, -1, 0, "a section nobody else knows" },
    KT_CFG_END
};

static char s_path[64];         //  the config file of the current test

static void
s_write_file (const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen (path, "w");
    assert_non_null (fp);
    fputs (text, fp);
    fclose (fp);
    chmod (path, mode);
}

//  Write json to a fresh temp file (s_path).
static void
s_config (const char *json)
{
    if (s_path[0])
        remove (s_path);
    snprintf (s_path, sizeof s_path, "/tmp/kt_cfg_test_XXXXXX");
    int fd = mkstemp (s_path);
    assert_true (fd >= 0);
    assert_true (write (fd, json, strlen (json)) == (ssize_t) strlen (json));
    close (fd);
}

static kt_cfg_t *
s_load_ok (const char *json, const kt_cfg_row_t *table, void *proc_cfg)
{
    char err[1024] = "";
    s_config (json);
    kt_cfg_t *cfg = kt_cfg_load_file (s_path, "test", table, proc_cfg, err, sizeof err);
    if (!cfg)
        print_error ("%s\n", err);
    assert_non_null (cfg);
    assert_string_equal (err, "");
    return cfg;
}

//  The load must fail with exactly "config: <file>: <reason>".
static void
s_load_fails (const char *json, const kt_cfg_row_t *table, const char *reason)
{
    struct t_cfg tc;
    char err[1024] = "";
    char want[1024];
    s_config (json);
    kt_cfg_t *cfg = kt_cfg_load_file (s_path, "test", table, table? &tc: NULL, err, sizeof err);
    assert_null (cfg);
    snprintf (want, sizeof want, "config: %s: %s", s_path, reason);
    assert_string_equal (err, want);
}

static int
s_setup (void **state)
{
    (void) state;
    unsetenv ("KITE_API_KEY");
    unsetenv ("KITE_API_SECRET");
    unsetenv ("KITE_ACCESS_TOKEN");
    unsetenv ("KT_TEST_BOT");
    unsetenv ("KT_TEST_UNSET");
    s_path[0] = '\0';
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    if (s_path[0])
        remove (s_path);
    s_path[0] = '\0';
    kt_log_secret_clear ();
    kt_log_set_sink (NULL, NULL);
    return 0;
}

static void
test_missing_file (void **state)
{
    (void) state;
    char err[256];
    assert_null (kt_cfg_load_file ("/tmp/kt_cfg_test_nonexistent.json", "test", NULL, NULL, err,
                                   sizeof err));
    assert_string_equal (err, "config: /tmp/kt_cfg_test_nonexistent.json: cannot read: No such "
                              "file or directory");
    assert_null (kt_cfg_load_file (NULL, "test", NULL, NULL, err, sizeof err));
    assert_string_equal (err, "config: (null): no config file given");
}

static void
test_bad_json (void **state)
{
    (void) state;
    s_load_fails ("{\n    \"mode\": \"sim\",\n    \"bus\": { \"md\": }\n}\n", NULL,
                  "line 3, column 20: invalid JSON");
    s_load_fails ("{ \"mode\": \"sim\" } trailing", NULL, "line 1, column 19: invalid JSON");
    s_load_fails ("", NULL, "line 1, column 1: invalid JSON");
    s_load_fails ("[1, 2]", NULL, "the top level must be a JSON object");

    //  Text after a NUL byte would be ignored by cJSON: refuse it.
    s_config ("x");
    FILE *fp = fopen (s_path, "wb");
    fwrite ("{\"mode\":\"sim\"}\0{", 1, 16, fp);
    fclose (fp);
    char err[256], want[256];
    assert_null (kt_cfg_load_file (s_path, "test", NULL, NULL, err, sizeof err));
    snprintf (want, sizeof want, "config: %s: contains a NUL byte at offset 14", s_path);
    assert_string_equal (err, want);
}

static void
test_unknown_key_shared (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"sim\", \"bus\": {\"mdd\": \"tcp://127.0.0.1:1\"}}", NULL,
                  "bus.mdd: unknown key");
    s_load_fails ("{\"mode\": \"sim\", \"log\": {\"level\": \"info\", \"lvl\": {}}}", NULL,
                  "log.lvl: unknown key");
    //  Keys are case-sensitive, and a dotted key never aliases a nested path.
    s_load_fails ("{\"mode\": \"sim\", \"redis\": {\"Port\": 1}}", NULL, "redis.Port: unknown key");
    s_load_fails ("{\"mode\": \"sim\", \"kite\": {\"api_url.x\": 1}}", NULL,
                  "kite.api_url.x: unknown key");
    s_load_fails ("{\"mode\": \"sim\", \"bus\": 7}", NULL, "bus: expected an object");
    s_load_fails ("{\"mode\": \"sim\", \"bus\": {\"md\": \"tcp://a:1\", \"md\": \"tcp://a:2\"}}",
                  NULL, "bus.md: duplicate key");
    s_load_fails ("{\"mode\": \"sim\", \"mode\": \"live\"}", NULL, "mode: duplicate key");
}

static void
test_unknown_key_process (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"max_position\": 3}}", s_table,
                  "risk.max_position: unknown key");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"limits\": {\"daily_los\": 3}}}", s_table,
                  "risk.limits.daily_los: unknown key");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"limits\": 3}}", s_table,
                  "risk.limits: expected an object");
    //  Without the risk table, "risk" is someone else's section: not checked here.
    struct t_cfg tc;
    kt_cfg_t *cfg = s_load_ok ("{\"mode\": \"sim\", \"risk\": {\"max_position\": 3}, "
                               "\"md\": {\"anything\": [1, 2]}}", NULL, NULL);
    kt_cfg_destroy (&cfg);
    //  ... but it must still be an object.
    s_load_fails ("{\"mode\": \"sim\", \"strategy\": 3}", NULL, "strategy: expected an object");
    cfg = s_load_ok ("{\"mode\": \"sim\", \"md\": {\"anything\": 1}}", s_table, &tc);
    kt_cfg_destroy (&cfg);
}

static void
test_bad_table (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"sim\"}", s_bad_table_shared,
                  "kite.reconnect_ms: table row outside a process section (internal error: "
                  "add the section to kt_cfg.c)");
    s_load_fails ("{\"mode\": \"sim\"}", s_bad_table_section,
                  "fills.model: table row outside a process section (internal error: "
                  "add the section to kt_cfg.c)");
}

static void
test_unknown_section (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"sim\", \"riks\": {}}", NULL, "riks: unknown section");
    s_load_fails ("{\"mode\": \"sim\", \"Bus\": {}}", s_table, "Bus: unknown section");
    //  Every process's section is known to every process.
    kt_cfg_t *cfg = s_load_ok ("{\"mode\": \"sim\", \"md\": {}, \"strategy\": {}, \"risk\": {}, "
                               "\"exec\": {}, \"recon\": {}, \"alerter\": {}, \"sim\": {}, "
                               "\"tradectl\": {}, \"backtest\": {}}", NULL, NULL);
    kt_cfg_destroy (&cfg);
}

static void
test_wrong_type (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"sim\", \"redis\": {\"port\": \"6379\"}}", NULL,
                  "redis.port: expected an integer");
    s_load_fails ("{\"mode\": 1}", NULL, "mode: expected a string");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"speed\": \"60\"}}", NULL,
                  "clock.speed: expected a number");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"enabled\": 1}}", s_table,
                  "risk.enabled: expected true or false");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"capital\": \"100\"}}", s_table,
                  "risk.capital: expected a number of rupees");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"max_dd\": null}}", s_table,
                  "risk.max_dd: expected a number (percent)");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"name\": [\"x\"]}}", s_table,
                  "risk.name: expected a string");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"max_positions\": 1.5}}", s_table,
                  "risk.max_positions: expected an integer, got 1.5");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"max_positions\": 1e1}}", s_table,
                  "risk.max_positions: expected an integer, got 1e1");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"max_positions\": 01}}", s_table,
                  "risk.max_positions: malformed number 01");
    s_load_fails ("{\"mode\": \"sim\", \"kite\": {\"api_key\": 5}}", NULL,
                  "kite.api_key: expected a string");
}

static void
test_out_of_range (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"sim\", \"redis\": {\"port\": 70000}}", NULL,
                  "redis.port: 70000 is out of range [1, 65535]");
    s_load_fails ("{\"mode\": \"sim\", \"redis\": {\"port\": 0}}", NULL,
                  "redis.port: 0 is out of range [1, 65535]");
    s_load_fails ("{\"mode\": \"sim\", \"redis\": {\"port\": -1}}", NULL,
                  "redis.port: -1 is out of range [1, 65535]");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"max_positions\": 11}}", s_table,
                  "risk.max_positions: 11 is out of range [1, 10]");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"big\": 9223372036854775808}}", s_table,
                  "risk.big: 9223372036854775808 is out of range");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"capital\": 100000000.01}}", s_table,
                  "risk.capital: 100000000.01 is out of range [1, 100000000]");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"capital\": 0.99}}", s_table,
                  "risk.capital: 0.99 is out of range [1, 100000000]");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"capital\": 1000.005}}", s_table,
                  "risk.capital: 1000.005 has more than 2 decimals");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"capital\": 1e300}}", s_table,
                  "risk.capital: 1e300 is out of range");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"max_dd\": 100.5}}", s_table,
                  "risk.max_dd: 100.5 is out of range [0, 100]");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"max_dd\": 2.555}}", s_table,
                  "risk.max_dd: 2.555 has more than 2 decimals");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"factor\": 10.5}}", s_table,
                  "risk.factor: 10.5 is out of range [0, 10]");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"speed\": 0}}", NULL,
                  "clock.speed: 0 must be greater than 0");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"speed\": 10000.5}}", NULL,
                  "clock.speed: 10000.5 is out of range [0, 10000]");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"speed\": 1e999}}", NULL,
                  "clock.speed: 1e999 is out of range");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"name\": \"sixteen chars!!!\"}}", s_table,
                  "risk.name: longer than 15 characters");
}

static void
test_missing_required (void **state)
{
    (void) state;
    s_load_fails ("{}", NULL, "mode: missing required key");
    s_load_fails ("{\"log\": {\"level\": \"info\"}}", NULL, "mode: missing required key");
    char account[16];
    char err[512];
    s_config ("{\"mode\": \"sim\", \"exec\": {}}");
    assert_null (kt_cfg_load_file (s_path, "test", s_required_table, account, err, sizeof err));
    char want[512];
    snprintf (want, sizeof want, "config: %s: exec.account: missing required key", s_path);
    assert_string_equal (err, want);
    kt_cfg_t *cfg = s_load_ok ("{\"mode\": \"sim\", \"exec\": {\"account\": \"AB1234\"}}",
                               s_required_table, account);
    assert_string_equal (account, "AB1234");
    kt_cfg_destroy (&cfg);
}

static void
test_shared_checks (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"demo\"}", NULL, "mode: \"demo\" is not one of sim, paper, live");
    s_load_fails ("{\"mode\": \"sim\", \"log\": {\"level\": \"verbose\"}}", NULL,
                  "log.level: \"verbose\" is not one of debug, info, warn, error, off");
    s_load_fails ("{\"mode\": \"sim\", \"bus\": {\"md\": \"http://127.0.0.1:1\"}}", NULL,
                  "bus.md: \"http://127.0.0.1:1\" is not a tcp://, ipc:// or inproc:// endpoint");
    s_load_fails ("{\"mode\": \"sim\", \"bus\": {\"md\": \"tcp://\"}}", NULL,
                  "bus.md: \"tcp://\" is not a tcp://, ipc:// or inproc:// endpoint");
    s_load_fails ("{\"mode\": \"sim\", \"bus\": {\"md\": \"tcp://a:1,\"}}", NULL,
                  "bus.md: \"\" is not a tcp://, ipc:// or inproc:// endpoint");
    s_load_fails ("{\"mode\": \"sim\", \"bus\": {\"exec_pub\": \"tcp://127.0.0.1:7102\"}}", NULL,
                  "bus.exec_pub: shares an endpoint with bus.risk");
    s_load_fails ("{\"mode\": \"sim\", \"bus\": {\"alerts\": "
                  "\"ipc:///tmp/a,tcp://127.0.0.1:7101\"}}",
                  NULL, "bus.alerts: shares an endpoint with bus.md");
    s_load_fails ("{\"mode\": \"sim\", \"redis\": {\"prefix\": \"kt *\"}}", NULL,
                  "redis.prefix: \"kt *\" contains whitespace, quotes or glob characters");
    s_load_fails ("{\"mode\": \"sim\", \"redis\": {\"host\": \"\"}}", NULL,
                  "redis.host: \"\" is not a host name or address");
    s_load_fails ("{\"mode\": \"live\", \"clock\": {\"mode\": \"sim\"}}", NULL,
                  "clock.mode: \"sim\" is only allowed with mode \"sim\" (mode is \"live\")");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"mode\": \"fast\"}}", NULL,
                  "clock.mode: \"fast\" is not one of real, sim");
    s_load_fails ("{\"mode\": \"paper\", \"clock\": {\"speed\": 2}}", NULL,
                  "clock.speed: 2: must be 1 when clock.mode is \"real\"");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"date\": \"2025-02-29\"}}", NULL,
                  "clock.date: \"2025-02-29\" is not a date YYYY-MM-DD (or \"\" for today)");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"date\": \"25-11-24\"}}", NULL,
                  "clock.date: \"25-11-24\" is not a date YYYY-MM-DD (or \"\" for today)");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"start\": \"9:15\"}}", NULL,
                  "clock.start: \"9:15\" is not a time HH:MM");
    s_load_fails ("{\"mode\": \"sim\", \"clock\": {\"start\": \"24:00\"}}", NULL,
                  "clock.start: \"24:00\" is not a time HH:MM");
    s_load_fails ("{\"mode\": \"sim\", \"health\": {\"beat_ms\": 5000, \"ttl_s\": 5}}", NULL,
                  "health.ttl_s: 5 s must be longer than health.beat_ms (5000 ms)");
    setenv ("KITE_API_KEY", "k", 1);
    s_load_fails ("{\"mode\": \"live\", \"kite\": {\"api_url\": \"http://api.kite.trade\"}}", NULL,
                  "kite.api_url: \"http://api.kite.trade\": mode \"live\" requires https://");
    s_load_fails ("{\"mode\": \"paper\", \"kite\": {\"ws_url\": \"ws://ws.kite.trade\"}}", NULL,
                  "kite.ws_url: \"ws://ws.kite.trade\": mode \"paper\" requires wss://");
    s_load_fails ("{\"mode\": \"sim\", \"kite\": {\"ws_url\": \"https://x\"}}", NULL,
                  "kite.ws_url: \"https://x\" does not start with wss:// or ws://");

    //  Valid corner cases: a leap day, an endpoint list, the sim clock at real speed.
    kt_cfg_t *cfg = s_load_ok ("{\"mode\": \"sim\", \"clock\": {\"date\": \"2024-02-29\", "
                               "\"start\": \"23:59\", \"speed\": 1}, \"bus\": {\"md\": "
                               "\"ipc:///tmp/kt-md,tcp://127.0.0.1:9999\"}}", NULL, NULL);
    assert_string_equal (cfg->clock_date, "2024-02-29");
    assert_string_equal (cfg->ep_md, "ipc:///tmp/kt-md,tcp://127.0.0.1:9999");
    assert_true (cfg->clock_speed == 1.0);
    kt_cfg_destroy (&cfg);
    //  In sim mode with the real clock, the sim speed default does not apply.
    cfg = s_load_ok ("{\"mode\": \"sim\", \"clock\": {\"mode\": \"real\"}}", NULL, NULL);
    assert_true (cfg->clock_speed == 1.0);
    kt_cfg_destroy (&cfg);
}

static void
test_literal_secret (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"sim\", \"kite\": {\"api_key\": \"abc123\"}}", NULL,
                  "kite.api_key: secrets must be given as env:NAME or file:PATH#NAME");
    s_load_fails ("{\"mode\": \"sim\", \"kite\": {\"api_key\": \"\"}}", NULL,
                  "kite.api_key: secrets must be given as env:NAME or file:PATH#NAME");
    s_load_fails ("{\"mode\": \"sim\", \"kite\": {\"api_key\": \"file:/tmp/x\"}}", NULL,
                  "kite.api_key: secrets must be given as env:NAME or file:PATH#NAME");
    s_load_fails ("{\"mode\": \"sim\", \"kite\": {\"api_key\": \"env:1BAD\"}}", NULL,
                  "kite.api_key: bad environment variable name \"1BAD\"");
    s_load_fails ("{\"mode\": \"sim\", \"risk\": {\"bot_token\": \"123:abc\"}}", s_table,
                  "risk.bot_token: secrets must be given as env:NAME or file:PATH#NAME");
}

static void
s_capture (kt_log_level_t lvl, const char *ev, const char *line, void *arg)
{
    (void) lvl;
    (void) ev;
    snprintf (arg, 512, "%s", line);
}

static void
test_env_secret (void **state)
{
    (void) state;
    s_load_fails ("{\"mode\": \"paper\", \"kite\": {\"api_key\": \"env:KT_TEST_UNSET\"}}", NULL,
                  "kite.api_key: missing secret: environment variable KT_TEST_UNSET is not set");
    s_load_fails ("{\"mode\": \"live\"}", NULL,
                  "kite.api_key: missing secret: environment variable KITE_API_KEY is not set");
    setenv ("KITE_API_KEY", "", 1);
    s_load_fails ("{\"mode\": \"live\"}", NULL,
                  "kite.api_key: missing secret: environment variable KITE_API_KEY is not set");

    //  Set: loaded. The optional ones stay "" when unset.
    setenv ("KITE_API_KEY", "live-key-1234", 1);
    kt_cfg_t *cfg = s_load_ok ("{\"mode\": \"live\"}", NULL, NULL);
    assert_string_equal (cfg->kite_api_key, "live-key-1234");
    assert_string_equal (cfg->kite_api_secret, "");
    assert_string_equal (cfg->kite_access_token, "");
    assert_false (kt_cfg_is_sim (cfg));
    kt_cfg_destroy (&cfg);
    assert_null (cfg);

    //  The logger now masks the loaded value wherever it appears.
    char line[512] = "";
    kt_log_set_sink (s_capture, line);
    kt_log_warn ("test.secret", KT_S ("url", "https://x/?api_key=live-key-1234"), KT_END);
    assert_non_null (strstr (line, "test.secret"));
    assert_null (strstr (line, "live-key-1234"));

    //  Sim mode: kite-sim's well-known credentials stand in for unset variables.
    unsetenv ("KITE_API_KEY");
    cfg = s_load_ok ("{\"mode\": \"sim\"}", NULL, NULL);
    assert_string_equal (cfg->kite_api_key, "sim_api_key");
    assert_string_equal (cfg->kite_api_secret, "sim_api_secret");
    assert_string_equal (cfg->kite_access_token, "");
    assert_true (kt_cfg_is_sim (cfg));
    kt_cfg_destroy (&cfg);

    //  A process-table secret, optional: unset -> "", set -> the value.
    struct t_cfg tc;
    cfg = s_load_ok ("{\"mode\": \"sim\"}", s_table, &tc);
    assert_string_equal (tc.bot_token, "");
    kt_cfg_destroy (&cfg);
    setenv ("KT_TEST_BOT", "123456:ABCDEF", 1);
    cfg = s_load_ok ("{\"mode\": \"sim\"}", s_table, &tc);
    assert_string_equal (tc.bot_token, "123456:ABCDEF");
    kt_cfg_destroy (&cfg);
    setenv ("KT_TEST_BOT", "0123456789012345678901234567890123456789012345678", 1);
    s_load_fails ("{\"mode\": \"sim\"}", s_table,
                  "risk.bot_token: secret in KT_TEST_BOT is longer than 47 characters");
}

static void
test_secrets_file (void **state)
{
    (void) state;
    char dir[] = "/tmp/kt_cfg_secrets_XXXXXX";
    assert_non_null (mkdtemp (dir));
    char secrets[128], cfgpath[128], json[1024], err[1024], want[1200];
    snprintf (secrets, sizeof secrets, "%s/kite.env", dir);
    snprintf (cfgpath, sizeof cfgpath, "%s/live.json", dir);
    s_write_file (secrets, "# Kite credentials\n"
                           "\n"
                           "KITE_API_KEY=file-key-42\n"
                           "export KITE_API_SECRET=\"file secret\"  \n"
                           "KITE_ACCESS_TOKEN_OLD=stale\n"
                           "KITE_ACCESS_TOKEN='tok-99'\r\n", 0600);

    //  Absolute path.
    snprintf (json, sizeof json, "{\"mode\": \"live\", \"kite\": {"
              "\"api_key\": \"file:%s#KITE_API_KEY\", \"api_secret\": \"file:%s#KITE_API_SECRET\", "
              "\"access_token\": \"file:%s#KITE_ACCESS_TOKEN\"}}", secrets, secrets, secrets);
    kt_cfg_t *cfg = s_load_ok (json, NULL, NULL);
    assert_string_equal (cfg->kite_api_key, "file-key-42");
    assert_string_equal (cfg->kite_api_secret, "file secret");
    assert_string_equal (cfg->kite_access_token, "tok-99");
    kt_cfg_destroy (&cfg);

    //  A relative path is relative to the config file's directory.
    s_write_file (cfgpath, "{\"mode\": \"live\", \"kite\": {\"api_key\": "
                           "\"file:kite.env#KITE_API_KEY\"}}", 0600);
    cfg = kt_cfg_load_file (cfgpath, "test", NULL, NULL, err, sizeof err);
    assert_non_null (cfg);
    assert_string_equal (cfg->kite_api_key, "file-key-42");
    kt_cfg_destroy (&cfg);

    //  Name not in the file: required fails, optional is "".
    snprintf (json, sizeof json, "{\"mode\": \"live\", \"kite\": {\"api_key\": \"file:%s#NOPE\"}}",
              secrets);
    snprintf (want, sizeof want, "kite.api_key: missing secret: NOPE not found in %s", secrets);
    s_load_fails (json, NULL, want);
    setenv ("KITE_API_KEY", "k", 1);
    snprintf (json, sizeof json, "{\"mode\": \"live\", \"kite\": {\"access_token\": "
              "\"file:%s#NOPE\"}}", secrets);
    cfg = s_load_ok (json, NULL, NULL);
    assert_string_equal (cfg->kite_access_token, "");
    kt_cfg_destroy (&cfg);

    //  A missing file is an error even for an optional secret.
    snprintf (json, sizeof json, "{\"mode\": \"live\", \"kite\": {\"access_token\": "
              "\"file:%s/none.env#X\"}}", dir);
    snprintf (want, sizeof want, "kite.access_token: cannot read secrets file %s/none.env: "
              "No such file or directory", dir);
    s_load_fails (json, NULL, want);

    //  A file other users can read is refused.
    chmod (secrets, 0644);
    snprintf (json, sizeof json, "{\"mode\": \"live\", \"kite\": {\"api_key\": "
              "\"file:%s#KITE_API_KEY\"}}", secrets);
    snprintf (want, sizeof want, "kite.api_key: secrets file %s is accessible by other users "
              "(mode 0644): chmod o-rwx it", secrets);
    s_load_fails (json, NULL, want);
    chmod (secrets, 0640);
    cfg = s_load_ok (json, NULL, NULL);
    kt_cfg_destroy (&cfg);

    //  A value longer than the key allows is refused, never cut (even past 1 KB).
    char longfile[3000];
    int n = snprintf (longfile, sizeof longfile, "KITE_API_KEY=");
    memset (longfile + n, 'k', 2000);
    snprintf (longfile + n + 2000, sizeof longfile - (size_t) n - 2000, "\nOTHER=1\n");
    s_write_file (secrets, longfile, 0600);
    snprintf (want, sizeof want, "kite.api_key: secret KITE_API_KEY in %s is longer than 63 "
              "characters", secrets);
    s_load_fails (json, NULL, want);

    remove (secrets);
    remove (cfgpath);
    rmdir (dir);
}

static const char *s_full_json =
    "{\n"
    "  \"mode\": \"sim\",\n"
    "  \"log\": {\"level\": \"debug\"},\n"
    "  \"redis\": {\"port\": 6390, \"prefix\": \"acct2:\"},\n"
    "  \"risk\": {\n"
    "    \"max_positions\": 10,\n"
    "    \"enabled\": false,\n"
    "    \"name\": \"fifteen chars!!\",\n"
    "    \"capital\": 100000.05,\n"
    "    \"max_dd\": 80,\n"
    "    \"factor\": 0.25,\n"
    "    \"big\": 9007199254740993,\n"
    "    \"limits\": {\"daily_loss\": 2.5e3},\n"
    "    \"bot_token\": \"env:KT_TEST_BOT\"\n"
    "  }\n"
    "}\n";

static void
test_process_table (void **state)
{
    (void) state;
    struct t_cfg tc;
    memset (&tc, 0xA5, sizeof tc);
    setenv ("KT_TEST_BOT", "bot-secret-77", 1);
    kt_cfg_t *cfg = s_load_ok (s_full_json, s_table, &tc);
    assert_int_equal (tc.max_positions, 10);
    assert_false (tc.enabled);
    assert_string_equal (tc.name, "fifteen chars!!");
    assert_int_equal (tc.capital, 10000005);        //  exact, not 10000004.99...
    assert_int_equal (tc.max_dd_bps, 8000);
    assert_true (tc.factor == 0.25);
    assert_true (tc.big == 9007199254740993LL);     //  beyond a double's 2^53
    assert_int_equal (tc.daily_loss, 250000);
    assert_string_equal (tc.bot_token, "bot-secret-77");
    //  Shared values from the file and defaults.
    assert_string_equal (cfg->file, s_path);
    assert_string_equal (cfg->proc, "test");
    assert_string_equal (cfg->log_level, "debug");
    assert_int_equal (cfg->redis_port, 6390);
    assert_string_equal (cfg->redis_prefix, "acct2:");
    assert_string_equal (cfg->redis_host, "127.0.0.1");
    assert_string_equal (kt_cfg_endpoint (cfg, "md"), "tcp://127.0.0.1:7101");
    assert_string_equal (kt_cfg_endpoint (cfg, "alerts"), "tcp://127.0.0.1:7106");
    assert_null (kt_cfg_endpoint (cfg, "nope"));
    assert_false (cfg->print_only);
    kt_cfg_destroy (&cfg);

    //  Every default when the section is absent (BPS 2.5 -> 250).
    memset (&tc, 0xA5, sizeof tc);
    unsetenv ("KT_TEST_BOT");
    cfg = s_load_ok ("{\"mode\": \"sim\"}", s_table, &tc);
    assert_int_equal (tc.max_positions, 2);
    assert_true (tc.enabled);
    assert_string_equal (tc.name, "baseline");
    assert_int_equal (tc.capital, 10000000);
    assert_int_equal (tc.max_dd_bps, 250);
    assert_true (tc.factor == 1.5);
    assert_int_equal (tc.big, 0);
    assert_int_equal (tc.daily_loss, 500000);
    assert_string_equal (tc.bot_token, "");
    kt_cfg_destroy (&cfg);
    kt_cfg_destroy (&cfg);
}

//  Read a whole stream from the start.
static char *
s_slurp (FILE *fp)
{
    fflush (fp);
    long n = ftell (fp);
    assert_true (n > 0);
    char *text = calloc (1, (size_t) n + 1);
    rewind (fp);
    assert_int_equal (fread (text, 1, (size_t) n, fp), (size_t) n);
    return text;
}

static void
test_print_config (void **state)
{
    (void) state;
    struct t_cfg tc;
    setenv ("KT_TEST_BOT", "bot-secret-77", 1);
    setenv ("KITE_API_KEY", "live-key-1234", 1);
    kt_cfg_t *cfg = s_load_ok (s_full_json, s_table, &tc);
    FILE *fp = tmpfile ();
    assert_non_null (fp);
    kt_cfg_print (cfg, s_table, &tc, fp);
    char *text = s_slurp (fp);
    fclose (fp);
    assert_null (strstr (text, "bot-secret-77"));
    assert_null (strstr (text, "live-key-1234"));
    cJSON *root = cJSON_Parse (text);
    assert_non_null (root);
    cJSON *kite = cJSON_GetObjectItemCaseSensitive (root, "kite");
    assert_string_equal (cJSON_GetObjectItemCaseSensitive (kite, "api_key")->valuestring, "***");
    assert_string_equal (cJSON_GetObjectItemCaseSensitive (kite, "access_token")->valuestring,
                         "");
    cJSON *risk = cJSON_GetObjectItemCaseSensitive (root, "risk");
    assert_string_equal (cJSON_GetObjectItemCaseSensitive (risk, "bot_token")->valuestring,
                         "***");
    assert_false (cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (risk, "enabled")));
    //  Numbers are printed from the typed values, exactly.
    assert_non_null (strstr (text, "\"capital\":\t100000.05"));
    assert_non_null (strstr (text, "\"max_dd\":\t80"));
    assert_non_null (strstr (text, "\"big\":\t9007199254740993"));
    assert_non_null (strstr (text, "\"daily_loss\":\t2500"));
    assert_non_null (strstr (text, "\"factor\":\t0.25"));
    assert_non_null (strstr (text, "\"speed\":\t60"));
    assert_string_equal (cJSON_GetObjectItemCaseSensitive (root, "mode")->valuestring, "sim");
    cJSON_Delete (root);

    //  The printed config loads again to the same values.
    kt_cfg_destroy (&cfg);
    free (text);
}

//  A copy of text with the first occurrence of from replaced by to (must occur).
static char *
s_replace (const char *text, const char *from, const char *to)
{
    const char *at = strstr (text, from);
    assert_non_null (at);
    size_t n = strlen (text) - strlen (from) + strlen (to) + 1;
    char *out = malloc (n);
    snprintf (out, n, "%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
    return out;
}

//  Run kt_cfg_load with stdout redirected to a temp file; returns what it printed.
static kt_cfg_t *
s_load_argv (int argc, char **argv, const kt_cfg_row_t *table, void *proc_cfg, char **out)
{
    fflush (stdout);
    FILE *fp = tmpfile ();
    assert_non_null (fp);
    int saved = dup (STDOUT_FILENO);
    dup2 (fileno (fp), STDOUT_FILENO);
    kt_cfg_t *cfg = kt_cfg_load (argc, argv, "test", table, proc_cfg);
    fflush (stdout);
    dup2 (saved, STDOUT_FILENO);
    close (saved);
    fseek (fp, 0, SEEK_END);
    if (ftell (fp) > 0)
        *out = s_slurp (fp);
    else
        *out = calloc (1, 1);
    fclose (fp);
    return cfg;
}

static void
test_argv (void **state)
{
    (void) state;
    struct t_cfg tc;
    char *out;
    setenv ("KT_TEST_BOT", "bot-secret-77", 1);
    s_config (s_full_json);

    char *a1[] = { "risk-gate", "-c", s_path, "--print-config", NULL };
    kt_cfg_t *cfg = s_load_argv (4, a1, s_table, &tc, &out);
    assert_non_null (cfg);
    assert_true (cfg->print_only);
    assert_non_null (strstr (out, "\"bot_token\":\t\"***\""));
    assert_null (strstr (out, "bot-secret-77"));
    //  What --print-config prints is itself a valid config with the same values
    //  (secrets aside: they print as "***", so they are pointed at the env again).
    //  Text replacement, not cJSON: a cJSON round trip would turn big into a double.
    char *again = s_replace (out, "\"bot_token\":\t\"***\"",
                             "\"bot_token\":\t\"env:KT_TEST_BOT\"");
    char *t = s_replace (again, "\"api_key\":\t\"***\"", "\"api_key\":\t\"env:KITE_API_KEY\"");
    free (again);
    again = s_replace (t, "\"api_secret\":\t\"***\"",
                       "\"api_secret\":\t\"env:KITE_API_SECRET\"");
    free (t);
    assert_null (strstr (again, "***"));
    struct t_cfg tc2;
    kt_cfg_t *cfg2 = s_load_ok (again, s_table, &tc2);
    assert_int_equal (tc2.capital, tc.capital);
    assert_int_equal (tc2.max_dd_bps, tc.max_dd_bps);
    assert_true (tc2.big == tc.big);
    assert_true (tc2.factor == tc.factor);
    assert_int_equal (tc2.daily_loss, tc.daily_loss);
    assert_string_equal (tc2.name, tc.name);
    assert_string_equal (tc2.bot_token, tc.bot_token);
    assert_int_equal (cfg2->redis_port, cfg->redis_port);
    assert_string_equal (cfg2->redis_prefix, cfg->redis_prefix);
    assert_string_equal (cfg2->kite_api_key, cfg->kite_api_key);
    kt_cfg_destroy (&cfg2);
    free (again);
    kt_cfg_destroy (&cfg);
    free (out);

    s_config (s_full_json);
    char *a2[] = { "risk-gate", "--config=", NULL };
    char arg[96];
    snprintf (arg, sizeof arg, "--config=%s", s_path);
    a2[1] = arg;
    cfg = s_load_argv (2, a2, s_table, &tc, &out);
    assert_non_null (cfg);
    assert_false (cfg->print_only);
    assert_string_equal (out, "");
    kt_cfg_destroy (&cfg);
    free (out);

    //  Arguments after "--" belong to the process.
    char *a3[] = { "tradectl", "--config", s_path, "--", "status", NULL };
    cfg = s_load_argv (5, a3, s_table, &tc, &out);
    assert_non_null (cfg);
    kt_cfg_destroy (&cfg);
    free (out);

    char *a4[] = { "risk-gate", "--help", NULL };
    cfg = s_load_argv (2, a4, s_table, &tc, &out);
    assert_non_null (cfg);
    assert_true (cfg->print_only);
    assert_non_null (strstr (out, "usage: test -c FILE"));
    kt_cfg_destroy (&cfg);
    free (out);

    char *a5[] = { "risk-gate", "-c", s_path, "--verbose", NULL };
    assert_null (s_load_argv (4, a5, s_table, &tc, &out));
    free (out);
    char *a6[] = { "risk-gate", NULL };
    assert_null (s_load_argv (1, a6, s_table, &tc, &out));
    free (out);
    char *a7[] = { "risk-gate", "-c", NULL };
    assert_null (s_load_argv (2, a7, s_table, &tc, &out));
    free (out);
    char *a8[] = { "risk-gate", "-c", "/tmp/kt_cfg_test_nonexistent.json", NULL };
    assert_null (s_load_argv (3, a8, s_table, &tc, &out));
    free (out);
}

//  Print cfg (shared keys only) into a cJSON tree.
static cJSON *
s_printed (const kt_cfg_t *cfg)
{
    FILE *fp = tmpfile ();
    kt_cfg_print (cfg, NULL, NULL, fp);
    char *text = s_slurp (fp);
    fclose (fp);
    cJSON *root = cJSON_Parse (text);
    free (text);
    assert_non_null (root);
    return root;
}

//  Every leaf of `printed` is in `file` with the same value (secrets: a reference).
static void
s_assert_shipped (const cJSON *printed, const cJSON *file, const char *path)
{
    for (const cJSON *c = printed->child; c; c = c->next) {
        char sub[128];
        snprintf (sub, sizeof sub, "%s%s%s", path, *path? ".": "", c->string);
        const cJSON *f = cJSON_GetObjectItemCaseSensitive (file, c->string);
        if (!f)
            print_error ("%s is not in the shipped file\n", sub);
        assert_non_null (f);
        if (cJSON_IsObject (c))
            s_assert_shipped (c, f, sub);
        else if (cJSON_IsString (c) && strcmp (c->valuestring, "***") == 0)
            assert_true (strncmp (f->valuestring, "env:", 4) == 0);
        else {
            if (!cJSON_Compare (c, f, true))
                print_error ("%s differs from the default\n", sub);
            assert_true (cJSON_Compare (c, f, true));
        }
    }
}

static void
s_check_shipped (const char *mode)
{
    char path[64], err[1024], json[64];
    snprintf (path, sizeof path, "deploy/config/%s.json", mode);
    kt_cfg_t *cfg = kt_cfg_load_file (path, "test", NULL, NULL, err, sizeof err);
    if (!cfg)
        print_error ("%s\n", err);
    assert_non_null (cfg);
    assert_string_equal (cfg->mode, mode);

    //  The file holds exactly the defaults of its mode, and every shared key.
    snprintf (json, sizeof json, "{\"mode\": \"%s\"}", mode);
    kt_cfg_t *defaults = s_load_ok (json, NULL, NULL);
    cJSON *p_file = s_printed (cfg);
    cJSON *p_defaults = s_printed (defaults);
    assert_true (cJSON_Compare (p_file, p_defaults, true));
    FILE *fp = fopen (path, "r");
    assert_non_null (fp);
    fseek (fp, 0, SEEK_END);
    char *text = s_slurp (fp);
    fclose (fp);
    cJSON *file = cJSON_Parse (text);
    assert_non_null (file);
    s_assert_shipped (p_file, file, "");
    cJSON_Delete (file);
    cJSON_Delete (p_file);
    cJSON_Delete (p_defaults);
    free (text);
    kt_cfg_destroy (&defaults);
    kt_cfg_destroy (&cfg);
}

static void
test_shipped_configs (void **state)
{
    (void) state;
    setenv ("KITE_API_KEY", "test-key", 1);
    setenv ("KITE_API_SECRET", "test-secret", 1);
    setenv ("KITE_ACCESS_TOKEN", "test-token", 1);
    s_check_shipped ("sim");
    s_check_shipped ("paper");
    s_check_shipped ("live");

    char err[1024];
    kt_cfg_t *cfg = kt_cfg_load_file ("deploy/config/sim.json", "test", NULL, NULL, err,
                                      sizeof err);
    assert_non_null (cfg);
    assert_string_equal (cfg->clock_mode, "sim");
    assert_true (cfg->clock_speed == 60.0);
    assert_string_equal (cfg->kite_api_url, "http://127.0.0.1:7201");
    assert_string_equal (cfg->kite_ws_url, "ws://127.0.0.1:7202");
    assert_string_equal (cfg->kite_api_key, "test-key");
    assert_string_equal (cfg->kite_access_token, "test-token");
    assert_int_equal (cfg->sndhwm, 100000);
    assert_int_equal (cfg->req_timeout_ms, 500);
    assert_int_equal (cfg->health_ttl_s, 5);
    kt_cfg_destroy (&cfg);
    cfg = kt_cfg_load_file ("deploy/config/live.json", "test", NULL, NULL, err, sizeof err);
    assert_non_null (cfg);
    assert_string_equal (cfg->clock_mode, "real");
    assert_true (cfg->clock_speed == 1.0);
    assert_string_equal (cfg->kite_api_url, "https://api.kite.trade");
    assert_string_equal (cfg->kite_ws_url, "wss://ws.kite.trade");
    kt_cfg_destroy (&cfg);

    //  live and paper refuse to start without the API key.
    unsetenv ("KITE_API_KEY");
    assert_null (kt_cfg_load_file ("deploy/config/live.json", "test", NULL, NULL, err,
                                   sizeof err));
    assert_string_equal (err, "config: deploy/config/live.json: kite.api_key: missing secret: "
                              "environment variable KITE_API_KEY is not set");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_missing_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_json, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_key_shared, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_key_process, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_section, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_table, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wrong_type, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_out_of_range, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_missing_required, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_shared_checks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_literal_secret, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_env_secret, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_secrets_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_process_table, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_print_config, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_argv, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_shipped_configs, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
