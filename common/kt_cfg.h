/*  kt_cfg - the pipeline's JSON config, loaded through per-process key tables.
 *
 *  One file for the whole pipeline (deploy/config/{sim,paper,live}.json) with shared
 *  sections (mode, log, bus, redis, clock, health, kite, instruments) and one section per
 *  process. Each process declares the keys it reads as a table of kt_cfg_row_t; the shared
 *  sections are read by the table in kt_cfg.c into struct kt_cfg. A process owns its
 *  section and the shared sections: an unknown key there, a wrong type, a value out of
 *  range or a missing required key fails the load with one line naming the file, the JSON
 *  path and the reason (the caller exits with code 2). Top-level sections must be known.
 *
 *  Secrets never live in the file: a secret key's value is "env:NAME" (read from the
 *  environment) or "file:PATH#NAME" (a NAME=value line in a secrets file). A literal
 *  value for a secret key is an error. Loaded secret values are registered with kt_log
 *  so they are never printed. cJSON trees never outlive kt_cfg_load. */

#ifndef KT_CFG_H
#define KT_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    KT_CFG_INT,         //  int64_t; JSON integer within [min, max]
    KT_CFG_BOOL,        //  bool
    KT_CFG_STR,         //  char[size]; JSON string shorter than size
    KT_CFG_MONEY,       //  int64_t paise; JSON number of rupees with at most 2 decimals
    KT_CFG_BPS,         //  int64_t basis points; JSON number of percent (80 -> 8000)
    KT_CFG_DBL,         //  double (speeds, factors; never money)
    KT_CFG_SECRET       //  char[size]; "env:NAME" or "file:PATH#NAME" resolved at load
} kt_cfg_type_t;

#define KT_CFG_F_REQUIRED  0x1   //  no default: the key must be present
#define KT_CFG_F_RESTART   0x2   //  documented as needing a restart to change
#define KT_CFG_F_OPTIONAL  0x4   //  SECRET: an unset variable leaves "" instead of failing

//  One key of a table. def is the default as JSON text ("10", "\"tcp://...\"", "true")
//  or NULL with KT_CFG_F_REQUIRED. Bounds are in stored units (paise, bps), checked
//  when min <= max. A table ends with a row whose path is NULL.
typedef struct {
    const char *path;           //  dotted JSON path, e.g. "risk.max_positions"
    kt_cfg_type_t type;
    size_t offset;              //  offsetof into the process's config struct
    size_t size;                //  buffer size for STR / SECRET
    const char *def;
    int64_t min;
    int64_t max;
    unsigned flags;
    const char *help;           //  one line, used by --print-config and the docs
} kt_cfg_row_t;

#define KT_CFG_END { NULL, 0, 0, 0, NULL, 0, 0, 0, NULL }

//  Shared sections, filled for every process from kt_cfg.c's own table.
struct kt_cfg {
    char file[256];
    char proc[32];
    char mode[8];               //  "sim" | "paper" | "live"
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
    char clock_mode[8];         //  "real" | "sim"
    double clock_speed;
    char clock_date[11];        //  YYYY-MM-DD or "" (today)
    char clock_start[6];        //  HH:MM IST
    //  health
    int64_t health_beat_ms;
    int64_t health_ttl_s;
    //  kite (shared by md-gateway, exec-gateway, reconciler)
    char kite_api_url[128];
    char kite_ws_url[128];
    char kite_api_key[64];      //  secret
    char kite_api_secret[64];   //  secret
    char kite_access_token[128];//  secret
    //  instruments
    char instruments_file[256]; //  CSV path; "" = download from kite_api_url
    //  set by kt_cfg_load
    bool print_only;            //  --print-config was given: print and exit 0
};
typedef struct kt_cfg kt_cfg_t;

//  Parse argv (-c FILE, --print-config, --help), load FILE, fill the shared struct and
//  proc_cfg through table (may be NULL when the process has no section). On any error
//  prints one line "config: FILE: PATH: reason" to stderr and returns NULL (exit 2).
//  With --print-config prints the effective config (secrets masked) to stdout and
//  returns a cfg with print_only set. Returns an owned cfg.
kt_cfg_t *
    kt_cfg_load (int argc, char **argv, const char *proc, const kt_cfg_row_t *table,
                 void *proc_cfg);

//  Load a file without argv handling. On error returns NULL and writes the one-line
//  reason into err (errlen bytes). Used by kt_cfg_load and by tests.
kt_cfg_t *
    kt_cfg_load_file (const char *file, const char *proc, const kt_cfg_row_t *table,
                      void *proc_cfg, char *err, size_t errlen);

//  Print the effective config (shared + table) as JSON to fp, secrets as "***".
void
    kt_cfg_print (const kt_cfg_t *self, const kt_cfg_row_t *table, const void *proc_cfg,
                  void *fp);

//  Endpoint of a bus name ("md", "risk", "risk_pub", "exec", "exec_pub", "alerts"),
//  or NULL if the name is unknown. Borrowed.
const char *
    kt_cfg_endpoint (const kt_cfg_t *self, const char *name);

//  True in sim mode (mode == "sim").
bool
    kt_cfg_is_sim (const kt_cfg_t *self);

//  Free. Safe on NULL; sets *self_p to NULL.
void
    kt_cfg_destroy (kt_cfg_t **self_p);

#endif
