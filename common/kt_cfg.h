/*  kt_cfg - the pipeline's JSON config, loaded through per-process key tables.
 *
 *  One file for the whole pipeline (deploy/config/{sim,paper,live}.json) with shared
 *  sections (mode, log, bus, redis, clock, health, kite, instruments) and one section per
 *  process. Each process declares the keys it reads as a table of kt_cfg_row_t; the shared
 *  sections are read by the table in kt_cfg.c into struct kt_cfg. A process owns its
 *  section and the shared sections: an unknown or duplicate key there, a wrong type, a
 *  value out of range or a missing required key fails the load with one line
 *  "config: FILE: PATH: reason" (the caller exits with code 2). Top-level sections must
 *  be known: the shared ones, md, strategy, risk, exec, recon, alerter, sim, tradectl,
 *  backtest, and any section of the caller's table. Other processes' sections are only
 *  required to be objects. Numbers are read from the file's text, never via a double:
 *  MONEY 100000.05 is exactly 10000005 paise and INT keys use the full int64 range.
 *
 *  Secrets never live in the file: a secret key's value is "env:NAME" (read from the
 *  environment) or "file:PATH#NAME" (a NAME=value line in a secrets file; a relative PATH
 *  is relative to the config file; the file must not be accessible by other users). A
 *  literal value for a secret key is an error. Loaded secret values are registered with
 *  kt_log so they are never printed. In sim mode some defaults change (clock.mode "sim",
 *  clock.speed 60, redis.port 6390, kite URLs of kite-sim) and unset Kite credentials
 *  become kite-sim's well-known ones; docs/configuration.md lists them.
 *  cJSON trees never outlive kt_cfg_load. */

#ifndef KT_CFG_H
#define KT_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    KT_CFG_INT,   //  int64_t; JSON integer within [min, max]
    KT_CFG_BOOL,  //  bool
    KT_CFG_STR,   //  char[size]; JSON string shorter than size
    KT_CFG_MONEY, //  int64_t paise; JSON number of rupees with at most 2 decimals
    KT_CFG_BPS,   //  int64_t basis points; JSON number of percent (80 -> 8000)
    KT_CFG_DBL,   //  double (speeds, factors; never money)
    KT_CFG_SECRET //  char[size]; "env:NAME" or "file:PATH#NAME" resolved at load
} kt_cfg_type_t;

#define KT_CFG_F_REQUIRED 0x1 //  no default: the key must be present
#define KT_CFG_F_RESTART 0x2  //  documented as needing a restart to change
#define KT_CFG_F_OPTIONAL                                                                          \
    0x4 //  SECRET: an unset variable (or a NAME missing from the
        //  secrets file, or the value "") leaves "" instead of
        //  failing; a missing secrets file still fails

//  One key of a table. def is the default as JSON text ("10", "\"tcp://...\"", "true")
//  or NULL with KT_CFG_F_REQUIRED; a default goes through the same checks as a value
//  from the file. Bounds are in stored units (paise, bps; whole numbers for DBL),
//  inclusive, checked when min <= max. Paths may nest ("risk.freeze_qty.NIFTY"); the
//  first component is the section the table owns. A table ends with KT_CFG_END.
typedef struct {
    const char *path; //  dotted JSON path, e.g. "risk.max_positions"
    kt_cfg_type_t type;
    size_t offset; //  offsetof into the process's config struct
    size_t size;   //  buffer size for STR / SECRET
    const char *def;
    int64_t min;
    int64_t max;
    unsigned flags;
    const char *help; //  one line, used by --print-config and the docs
} kt_cfg_row_t;

#define KT_CFG_END                                                                                 \
    {                                                                                              \
        NULL, 0, 0, 0, NULL, 0, 0, 0, NULL                                                         \
    }

//  Shared sections, filled for every process from kt_cfg.c's own table.
struct kt_cfg {
    char file[256];
    char proc[32];
    char mode[8]; //  "sim" | "paper" | "live"
    char log_level[8];
    //  bus: endpoints by config name, socket options
    char ep_md[128];
    char ep_risk[128];
    char ep_risk_pub[128];
    char ep_exec[128];
    char ep_exec_pub[128];
    char ep_alerts[128];
    int64_t sndhwm;
    int64_t rcvhwm;
    int64_t linger_ms;
    int64_t req_timeout_ms;
    int64_t req_retries;
    //  redis
    char redis_host[64];
    int64_t redis_port;
    char redis_prefix[32];
    int64_t redis_timeout_ms;
    //  clock
    char clock_mode[8]; //  "real" | "sim"
    double clock_speed;
    char clock_date[11]; //  YYYY-MM-DD or "" (today)
    char clock_start[6]; //  HH:MM IST
    //  health
    int64_t health_beat_ms;
    int64_t health_slow_ms; //  loop.slow threshold, 0 = off
    int64_t health_ttl_s;
    //  kite (shared by md-gateway, exec-gateway, reconciler)
    char kite_api_url[128];
    char kite_ws_url[128];
    char kite_api_key[64];       //  secret
    char kite_api_secret[64];    //  secret
    char kite_access_token[128]; //  secret
    //  instruments
    char instruments_file[256];      //  CSV path; "" = download from kite_api_url
    char instruments_cache_dir[256]; //  where the daily download is kept (kt_instr_cache)
    //  set by kt_cfg_load
    bool print_only; //  --print-config was given: print and exit 0
};
typedef struct kt_cfg kt_cfg_t;

//  Parse argv (-c FILE or --config FILE or --config=FILE, --print-config, --help; anything
//  after "--" is left to the process), load FILE, fill the shared struct and proc_cfg
//  through table (both may be NULL when the process has no section). On any error, an
//  unknown argument included, prints one line to stderr ("config: FILE: PATH: reason"
//  for the file) and returns NULL (exit 2). With --print-config prints the effective
//  config (secrets masked) to stdout and returns a cfg with print_only set; --help prints
//  the usage to stdout and returns a cfg with only print_only and proc set. Either way
//  the caller exits 0 when print_only is set. Returns an owned cfg.
kt_cfg_t *kt_cfg_load (int argc, char **argv, const char *proc, const kt_cfg_row_t *table,
                       void *proc_cfg);

//  Load a file without argv handling. On error returns NULL and writes the one-line
//  reason "config: FILE: PATH: reason" into err (errlen bytes; 1024 is always enough).
//  proc_cfg is written only through the table's offsets; on failure it may be partly
//  filled. Used by kt_cfg_load, by tools with their own argv (kite-sim) and by tests.
kt_cfg_t *kt_cfg_load_file (const char *file, const char *proc, const kt_cfg_row_t *table,
                            void *proc_cfg, char *err, size_t errlen);

//  Print the effective config (shared + table) as JSON to fp (a FILE *), secrets as
//  "***" ("" when unset), money and percent as exact JSON numbers of rupees / percent.
//  The output is itself a valid config once secrets are given as references again.
void kt_cfg_print (const kt_cfg_t *self, const kt_cfg_row_t *table, const void *proc_cfg, void *fp);

//  Endpoint of a bus name ("md", "risk", "risk_pub", "exec", "exec_pub", "alerts"),
//  or NULL if the name is unknown. May be a comma-separated list of endpoints (each
//  tcp://, ipc:// or inproc://; no two names share one). Borrowed.
const char *kt_cfg_endpoint (const kt_cfg_t *self, const char *name);

//  True in sim mode (mode == "sim").
bool kt_cfg_is_sim (const kt_cfg_t *self);

//  Free, wiping the secrets first. Safe on NULL; sets *self_p to NULL.
void kt_cfg_destroy (kt_cfg_t **self_p);

#endif
