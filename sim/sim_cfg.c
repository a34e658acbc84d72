/*  sim_cfg - kite-sim's command line and its rows of the pipeline config.
 *
 *  Used by main.c. Precedence: built-in defaults, then the config file given with -c
 *  (the "sim" section through kt_cfg's table loader, plus the shared clock, redis, kite
 *  and log sections), then the flags. Any bad flag or value is one line of reason and
 *  exit code 2 (the caller prints it); nothing falls back to a default silently. */

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

#define S_F(field) offsetof (struct sim_cfg, field), sizeof (((struct sim_cfg *) 0)->field)

const kt_cfg_row_t sim_cfg_table[] = {
    {"sim.http", KT_CFG_STR, S_F (http_addr), "\"127.0.0.1:8400\"", 0, -1, KT_CFG_F_RESTART,
     "REST listen address HOST:PORT"},
    {"sim.ws", KT_CFG_STR, S_F (ws_addr), "\"127.0.0.1:8401\"", 0, -1, KT_CFG_F_RESTART,
     "WebSocket ticker listen address HOST:PORT"},
    {"sim.seed", KT_CFG_INT, S_F (seed), "1", 0, INT64_MAX, KT_CFG_F_RESTART,
     "market seed: same seed and date give the same ticks and fills"},
    {"sim.replay", KT_CFG_STR, S_F (replay), "\"\"", 0, -1, KT_CFG_F_RESTART,
     "CSV of ticks or minute bars to replay instead of the synthetic market"},
    {"sim.user_id", KT_CFG_STR, S_F (user_id), "\"SM0001\"", 0, -1, KT_CFG_F_RESTART,
     "user_id reported by /user/profile and order updates"},
    {"sim.user_name", KT_CFG_STR, S_F (user_name), "\"Kite Sim\"", 0, -1, KT_CFG_F_RESTART,
     "user_name reported by /user/profile"},
    {"sim.publish_clock", KT_CFG_BOOL, S_F (publish_clock), "true", 0, -1, KT_CFG_F_RESTART,
     "write the session clock to the Redis `clock` hash of the redis section"},
    {"sim.opening_balance", KT_CFG_MONEY, S_F (opening_balance), "10000000", 0, INT64_MAX / 4,
     KT_CFG_F_RESTART, "account cash at the open, rupees"},
    {"sim.freeze_qty", KT_CFG_INT, S_F (freeze_qty), "1800", 1, 1000000, KT_CFG_F_RESTART,
     "NIFTY freeze quantity in units (autoslice above it)"},
    {"sim.strikes_each_side", KT_CFG_INT, S_F (strikes_each_side), "20", 10, 200, KT_CFG_F_RESTART,
     "option strikes listed each side of the money"},
    {"sim.lot", KT_CFG_INT, S_F (lot), "75", 1, 100000, KT_CFG_F_RESTART, "NIFTY lot size"},
    {"sim.tick_ms", KT_CFG_INT, S_F (tick_ms), "10", 1, 1000, KT_CFG_F_RESTART,
     "wall milliseconds between market steps"},
    {"sim.ws_batch", KT_CFG_INT, S_F (ws_batch), "64", 1, 1000, KT_CFG_F_RESTART,
     "most packets in one binary frame"},
    {"sim.ws_queue_max", KT_CFG_INT, S_F (ws_queue_max), "8388608", 65536, 1073741824,
     KT_CFG_F_RESTART, "bytes queued for one client before its ticks are dropped"},
    {"sim.heartbeat_ms", KT_CFG_INT, S_F (heartbeat_ms), "1000", 100, 60000, KT_CFG_F_RESTART,
     "silence before a 1-byte heartbeat"},
    {"sim.fault_latency_ms", KT_CFG_INT, S_F (fault_latency_ms), "0", 0, 600000, 0,
     "fault: delay every matching REST answer by this much"},
    {"sim.fault_latency_path", KT_CFG_STR, S_F (fault_latency_path), "\"\"", 0, -1, 0,
     "fault: path prefix the latency applies to (\"\" = all)"},
    {"sim.fault_error_count", KT_CFG_INT, S_F (fault_error_count), "0", 0, 1000000, 0,
     "fault: the first N matching requests answer fault_error_status"},
    {"sim.fault_error_status", KT_CFG_INT, S_F (fault_error_status), "503", 500, 504, 0,
     "fault: HTTP status of injected errors (500, 502, 503, 504)"},
    {"sim.fault_error_path", KT_CFG_STR, S_F (fault_error_path), "\"\"", 0, -1, 0,
     "fault: path prefix the injected errors apply to"},
    {"sim.fault_storm_count", KT_CFG_INT, S_F (fault_storm_count), "0", 0, 1000000, 0,
     "fault: the first N requests answer 429"},
    {"sim.fault_drop_count", KT_CFG_INT, S_F (fault_drop_count), "0", 0, 1000000, 0,
     "fault: the first N order placements are placed, then the connection is closed"},
    KT_CFG_END};

static void
s_defaults (struct sim_cfg *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->http_addr, sizeof cfg->http_addr, "127.0.0.1:8400");
    snprintf (cfg->ws_addr, sizeof cfg->ws_addr, "127.0.0.1:8401");
    cfg->seed = 1;
    cfg->speed = 1.0;
    snprintf (cfg->api_key, sizeof cfg->api_key, "sim_api_key");
    snprintf (cfg->api_secret, sizeof cfg->api_secret, "sim_api_secret");
    snprintf (cfg->prefix, sizeof cfg->prefix, "kt:");
    snprintf (cfg->user_id, sizeof cfg->user_id, "SM0001");
    snprintf (cfg->user_name, sizeof cfg->user_name, "Kite Sim");
    snprintf (cfg->log_level, sizeof cfg->log_level, "info");
    cfg->publish_clock = true;
    cfg->opening_balance = 1000000000; //  Rs 1 crore, as risk.capital in sim.json
    cfg->freeze_qty = 1800;
    cfg->strikes_each_side = 20;
    cfg->lot = 75;
    cfg->tick_ms = 10;
    cfg->ws_batch = 64;
    cfg->ws_queue_max = 8 << 20;
    cfg->heartbeat_ms = 1000;
    cfg->fault_error_status = 503;
}

int
sim_cfg_split_addr (const char *addr, char *host, size_t hostlen, int *port)
{
    const char *colon = addr ? strrchr (addr, ':') : NULL;
    if (!colon || colon == addr || (size_t) (colon - addr) >= hostlen)
        return -1;
    if (colon[1] < '0' || colon[1] > '9')
        return -1; //  strtol would take " 80" and "+80"
    char *end = NULL;
    long p = strtol (colon + 1, &end, 10);
    if (*end || p < 1 || p > 65535)
        return -1;
    memcpy (host, addr, (size_t) (colon - addr));
    host[colon - addr] = '\0';
    *port = (int) p;
    return 0;
}

//  "HH:MM" or "HH:MM:SS" within a day, digits only (sscanf's %2d would take " 9:15",
//  "+9:15" or "09:5x").
static bool
s_valid_start (const char *s)
{
    size_t len = strlen (s);
    char hhmm[6];
    if (len != 5 && len != 8)
        return false;
    memcpy (hhmm, s, 5);
    hhmm[5] = '\0';
    if (kt_ist_parse_hhmm (hhmm, NULL, NULL) != 0)
        return false;
    if (len == 5)
        return true;
    return s[5] == ':' && s[6] >= '0' && s[6] <= '5' && s[7] >= '0' && s[7] <= '9';
}

static int
s_copy (char *dst, size_t len, const char *val, const char *flag, char *err, size_t errlen)
{
    if (strlen (val) >= len) {
        snprintf (err, errlen, "%s: value too long", flag);
        return -1;
    }
    snprintf (dst, len, "%s", val);
    return 0;
}

//  Shared sections of the file that kite-sim follows.
static void
s_from_shared (struct sim_cfg *cfg, const kt_cfg_t *kc)
{
    cfg->wall_clock = strcmp (kc->clock_mode, "real") == 0;
    if (!cfg->wall_clock) {
        if (kc->clock_speed > 0)
            cfg->speed = kc->clock_speed;
        snprintf (cfg->date, sizeof cfg->date, "%s", kc->clock_date);
        snprintf (cfg->start, sizeof cfg->start, "%s", kc->clock_start);
    }
    if (kc->kite_api_key[0])
        snprintf (cfg->api_key, sizeof cfg->api_key, "%s", kc->kite_api_key);
    if (kc->kite_api_secret[0])
        snprintf (cfg->api_secret, sizeof cfg->api_secret, "%s", kc->kite_api_secret);
    if (kc->kite_access_token[0])
        snprintf (cfg->access_token, sizeof cfg->access_token, "%s", kc->kite_access_token);
    if (kc->log_level[0])
        snprintf (cfg->log_level, sizeof cfg->log_level, "%s", kc->log_level);
    if (cfg->publish_clock && kc->redis_host[0] && kc->redis_port > 0) {
        snprintf (cfg->redis, sizeof cfg->redis, "%s:%lld", kc->redis_host,
                  (long long) kc->redis_port);
        snprintf (cfg->prefix, sizeof cfg->prefix, "%s", kc->redis_prefix);
    }
}

static void
s_usage (void)
{
    printf ("usage: kite-sim --http HOST:PORT --ws HOST:PORT [--seed N] [--speed X]\n"
            "                [--date YYYY-MM-DD] [--start HH:MM] [--wall-clock] [--paused]\n"
            "                [--replay FILE]"
            " [--access-token T] [--api-key K] [--api-secret S]\n"
            "                [--redis HOST:PORT] [--prefix kt:] [--log-level L] [-c FILE]\n"
            "A local Kite Connect venue (REST + WebSocket ticker); see docs/kite-sim.md.\n");
}

int
sim_cfg_parse (int argc, char **argv, struct sim_cfg *cfg, char *err, size_t errlen)
{
    s_defaults (cfg);
    //  First pass: the config file, so that flags override it whatever their order.
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
            s_usage ();
            return 1;
        }
        if (strcmp (argv[i], "-c") == 0) {
            if (i + 1 >= argc) {
                snprintf (err, errlen, "-c: missing FILE");
                return -1;
            }
            if (s_copy (cfg->cfg_file, sizeof cfg->cfg_file, argv[i + 1], "-c", err, errlen))
                return -1;
            i++;
        }
    }
    if (cfg->cfg_file[0]) {
        kt_cfg_t *kc = kt_cfg_load_file (cfg->cfg_file, "sim", sim_cfg_table, cfg, err, errlen);
        if (!kc)
            return -1;
        s_from_shared (cfg, kc);
        kt_cfg_destroy (&kc);
    }
    bool speed_given = false;
    for (int i = 1; i < argc; i++) {
        char flag[32];
        const char *arg = argv[i], *val = NULL;
        const char *eq = strncmp (arg, "--", 2) == 0 ? strchr (arg, '=') : NULL;
        size_t flen = eq ? (size_t) (eq - arg) : strlen (arg);
        if (flen >= sizeof flag) {
            snprintf (err, errlen, "unknown argument: %.40s", arg);
            return -1;
        }
        memcpy (flag, arg, flen);
        flag[flen] = '\0';
        if (strcmp (flag, "--wall-clock") == 0 && !eq) {
            cfg->wall_clock = true;
            continue;
        }
        if (strcmp (flag, "--paused") == 0 && !eq) {
            cfg->paused = true;
            continue;
        }
        static const char *const with_value[] = {
            "--http",  "--ws",     "--seed",         "--speed",   "--date",
            "--start", "--replay", "--access-token", "--api-key", "--api-secret",
            "--redis", "--prefix", "--log-level",    "-c",        NULL};
        bool known = false;
        for (int k = 0; with_value[k]; k++)
            known |= strcmp (flag, with_value[k]) == 0;
        if (!known) {
            snprintf (err, errlen, "unknown argument: %.40s (try --help)", arg);
            return -1;
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            snprintf (err, errlen, "%s: missing value", flag);
            return -1;
        }
        int rc = 0;
        if (strcmp (flag, "-c") == 0)
            continue;
        else if (strcmp (flag, "--http") == 0)
            rc = s_copy (cfg->http_addr, sizeof cfg->http_addr, val, flag, err, errlen);
        else if (strcmp (flag, "--ws") == 0)
            rc = s_copy (cfg->ws_addr, sizeof cfg->ws_addr, val, flag, err, errlen);
        else if (strcmp (flag, "--seed") == 0) {
            char *end = NULL;
            errno = 0;
            long long s = strtoll (val, &end, 10);
            if (!*val || *end || s < 0 || errno == ERANGE) {
                snprintf (err, errlen, "--seed: not a non-negative integer: %.40s", val);
                return -1;
            }
            cfg->seed = s;
        } else if (strcmp (flag, "--speed") == 0) {
            char *end = NULL;
            double s = strtod (val, &end);
            if (!*val || *end || !(s > 0) || s > 1e6) {
                snprintf (err, errlen, "--speed: not a number in (0, 1000000]: %.40s", val);
                return -1;
            }
            cfg->speed = s;
            speed_given = true;
        } else if (strcmp (flag, "--date") == 0) {
            //  "" would mean today: `--date "$UNSET"` must not run another day silently.
            if (!*val) {
                snprintf (err, errlen, "--date: not a date YYYY-MM-DD: ");
                return -1;
            }
            rc = s_copy (cfg->date, sizeof cfg->date, val, flag, err, errlen);
        } else if (strcmp (flag, "--start") == 0) {
            if (!*val) {
                snprintf (err, errlen, "--start: not HH:MM: ");
                return -1;
            }
            rc = s_copy (cfg->start, sizeof cfg->start, val, flag, err, errlen);
        } else if (strcmp (flag, "--replay") == 0)
            rc = s_copy (cfg->replay, sizeof cfg->replay, val, flag, err, errlen);
        else if (strcmp (flag, "--access-token") == 0)
            rc = s_copy (cfg->access_token, sizeof cfg->access_token, val, flag, err, errlen);
        else if (strcmp (flag, "--api-key") == 0)
            rc = s_copy (cfg->api_key, sizeof cfg->api_key, val, flag, err, errlen);
        else if (strcmp (flag, "--api-secret") == 0)
            rc = s_copy (cfg->api_secret, sizeof cfg->api_secret, val, flag, err, errlen);
        else if (strcmp (flag, "--redis") == 0)
            rc = s_copy (cfg->redis, sizeof cfg->redis, val, flag, err, errlen);
        else if (strcmp (flag, "--prefix") == 0)
            rc = s_copy (cfg->prefix, sizeof cfg->prefix, val, flag, err, errlen);
        else if (strcmp (flag, "--log-level") == 0)
            rc = s_copy (cfg->log_level, sizeof cfg->log_level, val, flag, err, errlen);
        if (rc != 0)
            return -1;
    }
    if (sim_cfg_split_addr (cfg->http_addr, cfg->http_host, sizeof cfg->http_host,
                            &cfg->http_port) != 0) {
        snprintf (err, errlen, "--http: not HOST:PORT: %.60s", cfg->http_addr);
        return -1;
    }
    if (sim_cfg_split_addr (cfg->ws_addr, cfg->ws_host, sizeof cfg->ws_host, &cfg->ws_port) != 0) {
        snprintf (err, errlen, "--ws: not HOST:PORT: %.60s", cfg->ws_addr);
        return -1;
    }
    if (cfg->http_port == cfg->ws_port && strcmp (cfg->http_host, cfg->ws_host) == 0) {
        snprintf (err, errlen, "--http and --ws must differ");
        return -1;
    }
    char host[SIM_HOST_LEN];
    int port;
    if (cfg->redis[0] && sim_cfg_split_addr (cfg->redis, host, sizeof host, &port) != 0) {
        snprintf (err, errlen, "--redis: not HOST:PORT: %.60s", cfg->redis);
        return -1;
    }
    int y, mo, d;
    if (cfg->date[0] && kt_ist_parse_date (cfg->date, &y, &mo, &d) != 0) {
        snprintf (err, errlen, "--date: not a date YYYY-MM-DD: %.40s", cfg->date);
        return -1;
    }
    if (cfg->start[0] && !s_valid_start (cfg->start)) {
        snprintf (err, errlen, "--start: not HH:MM: %.40s", cfg->start);
        return -1;
    }
    if (cfg->wall_clock && (cfg->date[0] || cfg->start[0] || speed_given)) {
        snprintf (err, errlen, "--wall-clock follows real time: drop --date, --start, --speed");
        return -1;
    }
    if (!cfg->api_key[0] || !cfg->api_secret[0]) {
        snprintf (err, errlen, "api_key and api_secret must not be empty");
        return -1;
    }
    if (kt_log_level_parse (cfg->log_level) < 0) {
        snprintf (err, errlen, "--log-level: unknown level: %.20s", cfg->log_level);
        return -1;
    }
    return 0;
}
