/*  kt_cfg - load the pipeline's JSON config through key tables.
 *
 *  Used by every process's main (kt_cfg_load) and by tests (kt_cfg_load_file). The file
 *  is read whole, parsed by cJSON, checked in two passes and freed before returning:
 *  first the shape (every top-level section known, no unknown or duplicate key in a
 *  section this process owns), then every row of the shared table and of the process
 *  table in order (type, bounds, required, secrets). The first problem stops the load
 *  with "config: FILE: PATH: reason". Numbers are read from their source text, never
 *  through cJSON's double, so money (100000.05) and int64 keys are exact: the number
 *  tokens of the text are matched, in document order, with cJSON's number nodes. */

#include "kt_cfg.h"
#include "kt_log.h"
#include "kt_money.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_MAX_FILE (4L << 20) //  a config is a few KB; refuse anything absurd
#define S_PATH_MAX 256

//  Top-level sections every process accepts (each owned by one process), in addition
//  to the shared ones. One file serves the whole pipeline, so every process must
//  know every section name even though it checks only its own.
static const char *s_proc_sections[] = {"md",      "strategy", "risk",     "exec",     "recon",
                                        "alerter", "sim",      "tradectl", "backtest", NULL};

// ---- the shared table -------------------------------------------------------------

//  Extra validation of a shared value, run after it is stored (earlier rows are set).
typedef int (s_check_fn) (const kt_cfg_t *cfg, char *why, size_t whylen);

typedef struct {
    kt_cfg_row_t row;
    s_check_fn *check;         //  NULL: type and bounds only
    const char *sim_def;       //  default (JSON text) used instead of row.def in sim mode
    const char *sim_secret;    //  SECRET: value used in sim mode when the reference is unset
    bool sim_def_on_sim_clock; //  sim_def only when clock.mode is "sim" as well
    bool endpoint;             //  a bus endpoint (list): checked by s_endpoint
} s_shared_row_t;

#define S_FIELD_SIZE(f) sizeof (((kt_cfg_t *) 0)->f)
#define S_ROW(path, type, field, def, min, max, flags, help)                                       \
    {                                                                                              \
        path, type, offsetof (kt_cfg_t, field), S_FIELD_SIZE (field), def, min, max, flags, help   \
    }

static int s_check_mode (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_level (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_redis_host (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_redis_prefix (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_clock_mode (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_clock_speed (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_clock_date (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_clock_start (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_health_ttl (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_api_url (const kt_cfg_t *cfg, char *why, size_t whylen);
static int s_check_ws_url (const kt_cfg_t *cfg, char *why, size_t whylen);

static const s_shared_row_t s_shared[] = {
    {.row = S_ROW ("mode", KT_CFG_STR, mode, NULL, 0, -1, KT_CFG_F_REQUIRED | KT_CFG_F_RESTART,
                   "sim | paper | live"),
     .check = s_check_mode},
    {.row = S_ROW ("log.level", KT_CFG_STR, log_level, "\"info\"", 0, -1, 0,
                   "debug | info | warn | error | off"),
     .check = s_check_level},
    {.row = S_ROW ("bus.md", KT_CFG_STR, ep_md, "\"tcp://127.0.0.1:7101\"", 0, -1, KT_CFG_F_RESTART,
                   "md-gateway PUB: ticks, bars, status"),
     .endpoint = true},
    {.row = S_ROW ("bus.risk", KT_CFG_STR, ep_risk, "\"tcp://127.0.0.1:7102\"", 0, -1,
                   KT_CFG_F_RESTART, "risk-gate ROUTER: intents"),
     .endpoint = true},
    {.row = S_ROW ("bus.risk_pub", KT_CFG_STR, ep_risk_pub, "\"tcp://127.0.0.1:7103\"", 0, -1,
                   KT_CFG_F_RESTART, "risk-gate PUB: risk state"),
     .endpoint = true},
    {.row = S_ROW ("bus.exec", KT_CFG_STR, ep_exec, "\"tcp://127.0.0.1:7104\"", 0, -1,
                   KT_CFG_F_RESTART, "exec-gateway ROUTER: order commands"),
     .endpoint = true},
    {.row = S_ROW ("bus.exec_pub", KT_CFG_STR, ep_exec_pub, "\"tcp://127.0.0.1:7105\"", 0, -1,
                   KT_CFG_F_RESTART, "exec-gateway PUB: execution events"),
     .endpoint = true},
    {.row = S_ROW ("bus.alerts", KT_CFG_STR, ep_alerts, "\"tcp://127.0.0.1:7106\"", 0, -1,
                   KT_CFG_F_RESTART, "alerter PULL: alerts"),
     .endpoint = true},
    {.row = S_ROW ("bus.sndhwm", KT_CFG_INT, sndhwm, "100000", 1, 10000000, KT_CFG_F_RESTART,
                   "send high-water mark, messages per socket")},
    {.row = S_ROW ("bus.rcvhwm", KT_CFG_INT, rcvhwm, "100000", 1, 10000000, KT_CFG_F_RESTART,
                   "receive high-water mark, messages per socket")},
    {.row = S_ROW ("bus.linger_ms", KT_CFG_INT, linger_ms, "200", 0, 60000, 0,
                   "how long close waits to flush unsent messages")},
    {.row = S_ROW ("bus.req_timeout_ms", KT_CFG_INT, req_timeout_ms, "500", 10, 60000, 0,
                   "request timeout before a lazy-pirate retry")},
    {.row = S_ROW ("bus.req_retries", KT_CFG_INT, req_retries, "3", 0, 100, 0,
                   "retries of a request before giving up")},
    {.row = S_ROW ("redis.host", KT_CFG_STR, redis_host, "\"127.0.0.1\"", 0, -1, KT_CFG_F_RESTART,
                   "Redis host name or address"),
     .check = s_check_redis_host},
    {.row = S_ROW ("redis.port", KT_CFG_INT, redis_port, "6379", 1, 65535, KT_CFG_F_RESTART,
                   "Redis TCP port (6390 in sim mode: never a production Redis)"),
     .sim_def = "6390"},
    {.row = S_ROW ("redis.prefix", KT_CFG_STR, redis_prefix, "\"kt:\"", 0, -1, KT_CFG_F_RESTART,
                   "prefix of every key, so accounts can share a server"),
     .check = s_check_redis_prefix},
    {.row = S_ROW ("redis.timeout_ms", KT_CFG_INT, redis_timeout_ms, "200", 1, 60000, 0,
                   "connect and command timeout")},
    {.row = S_ROW ("clock.mode", KT_CFG_STR, clock_mode, "\"real\"", 0, -1, KT_CFG_F_RESTART,
                   "real | sim (sim only in mode sim)"),
     .check = s_check_clock_mode,
     .sim_def = "\"sim\""},
    {.row = S_ROW ("clock.speed", KT_CFG_DBL, clock_speed, "1", 0, 10000, KT_CFG_F_RESTART,
                   "sim clock speed, > 0 and <= 10000 (1 with the real clock)"),
     .check = s_check_clock_speed,
     .sim_def = "60",
     .sim_def_on_sim_clock = true},
    {.row = S_ROW ("clock.date", KT_CFG_STR, clock_date, "\"\"", 0, -1, KT_CFG_F_RESTART,
                   "sim trading day YYYY-MM-DD, \"\" = today"),
     .check = s_check_clock_date},
    {.row = S_ROW ("clock.start", KT_CFG_STR, clock_start, "\"09:15\"", 0, -1, KT_CFG_F_RESTART,
                   "sim clock start time HH:MM IST"),
     .check = s_check_clock_start,
     //  a sim session starts before the open, as an operator does
     .sim_def = "\"09:12\""},
    {.row = S_ROW ("health.beat_ms", KT_CFG_INT, health_beat_ms, "1000", 10, 60000, 0,
                   "health heartbeat period")},
    {.row = S_ROW ("health.slow_ms", KT_CFG_INT, health_slow_ms, "50", 0, 60000, 0,
                   "log loop.slow for a handler running longer; 0 = off")},
    {.row = S_ROW ("health.ttl_s", KT_CFG_INT, health_ttl_s, "5", 1, 3600, 0,
                   "health key lifetime; longer than beat_ms"),
     .check = s_check_health_ttl},
    {.row = S_ROW ("kite.api_url", KT_CFG_STR, kite_api_url, "\"https://api.kite.trade\"", 0, -1,
                   KT_CFG_F_RESTART, "Kite REST base URL"),
     .check = s_check_api_url,
     .sim_def = "\"http://127.0.0.1:7201\""},
    {.row = S_ROW ("kite.ws_url", KT_CFG_STR, kite_ws_url, "\"wss://ws.kite.trade\"", 0, -1,
                   KT_CFG_F_RESTART, "Kite WebSocket ticker URL"),
     .check = s_check_ws_url,
     .sim_def = "\"ws://127.0.0.1:7202\""},
    {.row = S_ROW ("kite.api_key", KT_CFG_SECRET, kite_api_key, "\"env:KITE_API_KEY\"", 0, -1,
                   KT_CFG_F_RESTART, "Kite app key (secret reference)"),
     .sim_secret = "sim_api_key"},
    {.row = S_ROW ("kite.api_secret", KT_CFG_SECRET, kite_api_secret, "\"env:KITE_API_SECRET\"", 0,
                   -1, KT_CFG_F_RESTART | KT_CFG_F_OPTIONAL,
                   "Kite app secret, only for the login (secret reference)"),
     .sim_secret = "sim_api_secret"},
    {.row = S_ROW ("kite.access_token", KT_CFG_SECRET, kite_access_token,
                   "\"env:KITE_ACCESS_TOKEN\"", 0, -1, KT_CFG_F_RESTART | KT_CFG_F_OPTIONAL,
                   "Kite session token of the day (secret reference)")},
    {.row = S_ROW ("instruments.file", KT_CFG_STR, instruments_file, "\"\"", 0, -1,
                   KT_CFG_F_RESTART, "instruments CSV path, \"\" = download from kite.api_url")},
    {.row =
         S_ROW ("instruments.cache_dir", KT_CFG_STR, instruments_cache_dir, "\"run/instruments\"",
                0, -1, KT_CFG_F_RESTART, "directory of the once-a-day instruments download")},
};

#define S_NSHARED (sizeof s_shared / sizeof s_shared[0])

// ---- load context -------------------------------------------------------------------

//  A number token of the source text and the cJSON node it became.
typedef struct {
    const cJSON *node; //  borrowed from the tree
    const char *text;  //  borrowed from the source
    size_t len;
} s_num_t;

//  A parsed JSON text (the file, or one default) with its number tokens.
typedef struct {
    cJSON *root;   //  owned
    s_num_t *nums; //  owned
    size_t nnums;
} s_doc_t;

typedef struct {
    const char *file;          //  borrowed: for messages and relative secret files
    kt_cfg_t *cfg;             //  borrowed: the result being filled
    const kt_cfg_row_t *table; //  borrowed: process table, may be NULL
    char *err;                 //  borrowed: caller's buffer
    size_t errlen;
} s_ctx_t;

static int
s_fail (s_ctx_t *ctx, const char *path, const char *fmt, ...)
{
    char why[768];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (why, sizeof why, fmt, ap);
    va_end (ap);
    if (ctx->err && ctx->errlen) {
        if (path)
            snprintf (ctx->err, ctx->errlen, "config: %s: %s: %s", ctx->file, path, why);
        else
            snprintf (ctx->err, ctx->errlen, "config: %s: %s", ctx->file, why);
    }
    return -1;
}

// ---- number tokens ------------------------------------------------------------------

//  Find every number token of a text that cJSON accepted. Outside strings a number
//  starts with '-' or a digit (literals true/false/null have neither) and cJSON reads
//  the whole run of [0-9+-eE.] or the document would not have parsed.
static int
s_scan_numbers (const char *text, const char ***starts, size_t **lens, size_t *count)
{
    size_t n = 0, alloc = 0;
    const char **s = NULL;
    size_t *l = NULL;
    for (const char *p = text; *p;) {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
            }
            if (*p)
                p++;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *q = p;
            while (*q && strchr ("0123456789+-eE.", *q))
                q++;
            if (n == alloc) {
                alloc = alloc ? alloc * 2 : 32;
                const char **ns = realloc (s, alloc * sizeof *ns);
                size_t *nl = ns ? realloc (l, alloc * sizeof *nl) : NULL;
                if (ns)
                    s = ns;
                if (!ns || !nl) {
                    free (s);
                    free (l);
                    return -1;
                }
                l = nl;
            }
            s[n] = p;
            l[n] = (size_t) (q - p);
            n++;
            p = q;
        } else
            p++;
    }
    *starts = s;
    *lens = l;
    *count = n;
    return 0;
}

static void
s_collect_nodes (const cJSON *node, const cJSON **out, size_t cap, size_t *n)
{
    for (; node; node = node->next) {
        if (cJSON_IsNumber (node)) {
            if (*n < cap)
                out[*n] = node;
            (*n)++;
        }
        if (node->child)
            s_collect_nodes (node->child, out, cap, n);
    }
}

//  Parse text (NUL-terminated) into doc. On a syntax error returns -1 with the byte
//  offset of the error in *errpos.
static int
s_doc_parse (const char *text, s_doc_t *doc, size_t *errpos)
{
    memset (doc, 0, sizeof *doc);
    const char *end = NULL;
    doc->root = cJSON_ParseWithOpts (text, &end, true);
    if (!doc->root) {
        *errpos = end && end >= text ? (size_t) (end - text) : 0;
        return -1;
    }
    const char **starts = NULL;
    size_t *lens = NULL, count = 0;
    if (s_scan_numbers (text, &starts, &lens, &count) != 0)
        goto out_delete;
    const cJSON **nodes = count ? calloc (count, sizeof *nodes) : NULL;
    doc->nums = count ? calloc (count, sizeof *doc->nums) : NULL;
    size_t nnodes = 0;
    if (count && (!nodes || !doc->nums))
        goto out_free;
    s_collect_nodes (doc->root, nodes, count, &nnodes);
    //  The two walks see the same document; a mismatch is our bug, and then no
    //  number text is trusted (every number lookup fails with a clear reason).
    if (nnodes == count) {
        for (size_t i = 0; i < count; i++)
            doc->nums[i] = (s_num_t){nodes[i], starts[i], lens[i]};
        doc->nnums = count;
    }
    free (nodes);
    free (starts);
    free (lens);
    return 0;

out_free:
    free (nodes);
    free (starts);
    free (lens);
out_delete:
    free (doc->nums);
    cJSON_Delete (doc->root);
    memset (doc, 0, sizeof *doc);
    *errpos = 0;
    return -2;
}

static void
s_doc_free (s_doc_t *doc)
{
    cJSON_Delete (doc->root);
    free (doc->nums);
    memset (doc, 0, sizeof *doc);
}

static int
s_num_text (const s_doc_t *doc, const cJSON *node, const char **text, size_t *len)
{
    for (size_t i = 0; i < doc->nnums; i++) {
        if (doc->nums[i].node == node) {
            *text = doc->nums[i].text;
            *len = doc->nums[i].len;
            return 0;
        }
    }
    return -1;
}

//  RFC 8259 number grammar; cJSON itself also takes "01", "1." and "-.5".
static bool
s_is_json_number (const char *t, size_t len, bool *integer)
{
    size_t i = 0;
    *integer = true;
    if (i < len && t[i] == '-')
        i++;
    if (i >= len || t[i] < '0' || t[i] > '9')
        return false;
    if (t[i] == '0')
        i++;
    else {
        while (i < len && t[i] >= '0' && t[i] <= '9')
            i++;
    }
    if (i < len && t[i] == '.') {
        *integer = false;
        size_t start = ++i;
        while (i < len && t[i] >= '0' && t[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < len && (t[i] == 'e' || t[i] == 'E')) {
        *integer = false;
        i++;
        if (i < len && (t[i] == '+' || t[i] == '-'))
            i++;
        size_t start = i;
        while (i < len && t[i] >= '0' && t[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == len;
}

//  An integer token (already checked against the grammar) into int64, exactly.
static int
s_parse_int64 (const char *t, size_t len, int64_t *out)
{
    size_t i = 0;
    bool negative = len > 0 && t[0] == '-';
    uint64_t limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    uint64_t mag = 0;
    for (i = negative ? 1 : 0; i < len; i++) {
        uint64_t d = (uint64_t) (t[i] - '0');
        if (mag > (limit - d) / 10)
            return -1;
        mag = mag * 10 + d;
    }
    if (negative)
        *out = mag == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) mag;
    else
        *out = (int64_t) mag;
    return 0;
}

// ---- shape: sections and keys -------------------------------------------------------

static bool
s_in_table (const kt_cfg_row_t *table, const char *path, bool prefix)
{
    size_t len = strlen (path);
    for (const kt_cfg_row_t *row = table; row && row->path; row++) {
        if (!prefix && strcmp (row->path, path) == 0)
            return true;
        if (prefix && strncmp (row->path, path, len) == 0 && row->path[len] == '.')
            return true;
    }
    return false;
}

static bool
s_shared_has (const char *path, bool prefix)
{
    size_t len = strlen (path);
    for (size_t i = 0; i < S_NSHARED; i++) {
        const char *p = s_shared[i].row.path;
        if (!prefix && strcmp (p, path) == 0)
            return true;
        if (prefix && strncmp (p, path, len) == 0 && p[len] == '.')
            return true;
    }
    return false;
}

static bool
s_is_leaf (const s_ctx_t *ctx, const char *path)
{
    return s_shared_has (path, false) || s_in_table (ctx->table, path, false);
}

static bool
s_is_branch (const s_ctx_t *ctx, const char *path)
{
    return s_shared_has (path, true) || s_in_table (ctx->table, path, true);
}

static int
s_check_duplicates (s_ctx_t *ctx, const cJSON *obj, const char *prefix)
{
    for (const cJSON *a = obj->child; a; a = a->next) {
        for (const cJSON *b = a->next; b; b = b->next) {
            if (strcmp (a->string, b->string) == 0) {
                return s_fail (ctx, NULL, "%s%s%.64s: duplicate key", prefix, *prefix ? "." : "",
                               b->string);
            }
        }
    }
    return 0;
}

//  Every key of an owned object must be a row or lead to one.
static int
s_check_object (s_ctx_t *ctx, const cJSON *obj, const char *path)
{
    if (s_check_duplicates (ctx, obj, path) != 0)
        return -1;
    for (const cJSON *c = obj->child; c; c = c->next) {
        char sub[S_PATH_MAX];
        snprintf (sub, sizeof sub, "%s.%.64s", path, c->string);
        //  A key with a dot would alias a nested row path: never a row of ours.
        if (!*c->string || strchr (c->string, '.'))
            return s_fail (ctx, sub, "unknown key");
        if (s_is_leaf (ctx, sub))
            continue;
        if (!s_is_branch (ctx, sub))
            return s_fail (ctx, sub, "unknown key");
        if (!cJSON_IsObject (c))
            return s_fail (ctx, sub, "expected an object");
        if (s_check_object (ctx, c, sub) != 0)
            return -1;
    }
    return 0;
}

static bool
s_is_proc_section (const char *name)
{
    for (const char **s = s_proc_sections; *s; s++) {
        if (strcmp (*s, name) == 0)
            return true;
    }
    return false;
}

static int
s_check_shape (s_ctx_t *ctx, const cJSON *root)
{
    if (!cJSON_IsObject (root))
        return s_fail (ctx, NULL, "the top level must be a JSON object");
    if (s_check_duplicates (ctx, root, "") != 0)
        return -1;
    for (const cJSON *c = root->child; c; c = c->next) {
        char name[80];
        snprintf (name, sizeof name, "%.64s", c->string);
        if (s_is_leaf (ctx, name))
            continue;
        bool owned = s_is_branch (ctx, name);
        if (!owned && !s_is_proc_section (name))
            return s_fail (ctx, name, "unknown section");
        if (!cJSON_IsObject (c))
            return s_fail (ctx, name, "expected an object");
        if (owned && s_check_object (ctx, c, name) != 0)
            return -1;
    }
    return 0;
}

//  A process table may only add keys under a process section that every process knows:
//  a key it added to a shared section, or a section of its own invention, would make
//  every other process reject the same file as having an unknown key or section.
static int
s_check_table (s_ctx_t *ctx)
{
    for (const kt_cfg_row_t *row = ctx->table; row && row->path; row++) {
        char section[64];
        size_t len = strcspn (row->path, ".");
        snprintf (section, sizeof section, "%.*s", (int) (len < 63 ? len : 63), row->path);
        if (row->path[len] != '.' || !s_is_proc_section (section) || s_shared_has (section, true)) {
            return s_fail (ctx, row->path,
                           "table row outside a process section (internal "
                           "error: add the section to kt_cfg.c)");
        }
    }
    return 0;
}

// ---- values -------------------------------------------------------------------------

static const cJSON *
s_find (const cJSON *root, const char *path)
{
    char comp[S_PATH_MAX];
    const cJSON *node = root;
    const char *p = path;
    while (node && *p) {
        const char *dot = strchr (p, '.');
        size_t len = dot ? (size_t) (dot - p) : strlen (p);
        if (len >= sizeof comp)
            return NULL;
        memcpy (comp, p, len);
        comp[len] = '\0';
        node = cJSON_IsObject (node) ? cJSON_GetObjectItemCaseSensitive (node, comp) : NULL;
        p += len + (dot ? 1 : 0);
    }
    return node;
}

static bool
s_is_env_name (const char *s)
{
    if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        return false;
    for (; *s; s++) {
        if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    }
    return true;
}

//  Look NAME up in a secrets file of NAME=value lines (systemd EnvironmentFile style:
//  '#' comments, blank lines, optional "export ", one pair of surrounding quotes).
//  Returns 1 found, 0 not found, -1 error (why filled).
static int
s_secret_from_file (const char *path, const char *name, char *value, size_t size, char *why,
                    size_t whylen)
{
    struct stat st;
    if (stat (path, &st) != 0) {
        snprintf (why, whylen, "cannot read secrets file %s: %s", path, strerror (errno));
        return -1;
    }
    //  Like ssh with a private key: a secret that every local user can read is not one.
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        snprintf (why, whylen,
                  "secrets file %s is accessible by other users (mode %04o): "
                  "chmod o-rwx it",
                  path, (unsigned) (st.st_mode & 07777));
        return -1;
    }
    FILE *fp = fopen (path, "r");
    if (!fp) {
        snprintf (why, whylen, "cannot read secrets file %s: %s", path, strerror (errno));
        return -1;
    }
    int found = 0;
    char *line = NULL; //  getline: a long line is never cut into a wrong value
    size_t cap = 0;
    size_t nlen = strlen (name);
    while (!found && getline (&line, &cap, fp) != -1) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp (p, "export ", 7) == 0)
            p += 7;
        if (strncmp (p, name, nlen) != 0 || p[nlen] != '=')
            continue;
        char *v = p + nlen + 1;
        size_t vlen = strlen (v);
        while (vlen && strchr (" \t\r\n", v[vlen - 1]))
            vlen--;
        if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
            v++;
            vlen -= 2;
        }
        if (vlen >= size) {
            snprintf (why, whylen, "secret %s in %s is longer than %zu characters", name, path,
                      size - 1);
            found = -1;
        } else {
            memcpy (value, v, vlen);
            value[vlen] = '\0';
            found = 1;
        }
    }
    if (line) {
        explicit_bzero (line, cap);
        free (line);
    }
    fclose (fp);
    return found;
}

//  Resolve a secret reference into dst. sim_secret: the value to use in sim mode when
//  the reference resolves to nothing (kite-sim's well-known credentials).
static int
s_secret (s_ctx_t *ctx, const kt_cfg_row_t *row, const char *ref, char *dst, const char *sim_secret)
{
    char missing[640] = "";
    char why[640];
    bool optional = (row->flags & KT_CFG_F_OPTIONAL) != 0;
    dst[0] = '\0';
    if (optional && ref[0] == '\0')
        return 0;
    if (strncmp (ref, "env:", 4) == 0) {
        const char *name = ref + 4;
        if (!s_is_env_name (name))
            return s_fail (ctx, row->path, "bad environment variable name \"%.64s\"", name);
        const char *v = getenv (name);
        if (!v || !*v) {
            snprintf (missing, sizeof missing, "missing secret: environment variable %s is not set",
                      name);
        } else if (strlen (v) >= row->size) {
            return s_fail (ctx, row->path, "secret in %s is longer than %zu characters", name,
                           row->size - 1);
        } else
            memcpy (dst, v, strlen (v) + 1);
    } else if (strncmp (ref, "file:", 5) == 0) {
        const char *hash = strrchr (ref, '#');
        if (!hash || hash == ref + 5 || !s_is_env_name (hash + 1))
            return s_fail (ctx, row->path,
                           "secrets must be given as env:NAME or "
                           "file:PATH#NAME");
        char path[512];
        size_t plen = (size_t) (hash - (ref + 5));
        //  A relative PATH is relative to the config file, so the pair moves together
        //  and the process's working directory does not matter.
        const char *slash = strrchr (ctx->file, '/');
        int dirlen = ref[5] != '/' && slash ? (int) (slash - ctx->file + 1) : 0;
        int n = snprintf (path, sizeof path, "%.*s%.*s", dirlen, ctx->file, (int) plen, ref + 5);
        if (n < 0 || (size_t) n >= sizeof path)
            return s_fail (ctx, row->path, "secrets file path too long");
        int found = s_secret_from_file (path, hash + 1, dst, row->size, why, sizeof why);
        if (found < 0)
            return s_fail (ctx, row->path, "%s", why);
        if (found == 0)
            snprintf (missing, sizeof missing, "missing secret: %s not found in %s", hash + 1,
                      path);
    } else
        return s_fail (ctx, row->path, "secrets must be given as env:NAME or file:PATH#NAME");

    if (missing[0]) {
        if (sim_secret && strcmp (ctx->cfg->mode, "sim") == 0)
            snprintf (dst, row->size, "%s", sim_secret);
        else if (!optional)
            return s_fail (ctx, row->path, "%s", missing);
    }
    if (dst[0] && kt_log_secret_add (dst) != 0)
        return s_fail (ctx, row->path, "too many secrets for the logger's mask table");
    return 0;
}

//  Store node (from doc) into the field of row at base. Returns 0 or -1 (ctx->err).
static int
s_store (s_ctx_t *ctx, const kt_cfg_row_t *row, const s_doc_t *doc, const cJSON *node, void *base,
         const char *sim_secret)
{
    void *field = (char *) base + row->offset;
    const char *text = NULL;
    size_t len = 0;
    bool integer = false;
    bool bounded = row->min <= row->max;
    char a[32], b[32], c[32];

    if (row->type == KT_CFG_INT || row->type == KT_CFG_MONEY || row->type == KT_CFG_BPS ||
        row->type == KT_CFG_DBL) {
        if (!cJSON_IsNumber (node)) {
            return s_fail (ctx, row->path, "expected %s",
                           row->type == KT_CFG_INT     ? "an integer"
                           : row->type == KT_CFG_MONEY ? "a number of rupees"
                           : row->type == KT_CFG_BPS   ? "a number (percent)"
                                                       : "a number");
        }
        if (s_num_text (doc, node, &text, &len) != 0)
            return s_fail (ctx, row->path, "number text not found (internal error)");
        if (!s_is_json_number (text, len, &integer))
            return s_fail (ctx, row->path, "malformed number %.*s", (int) len, text);
    }
    switch (row->type) {
        case KT_CFG_INT: {
            if (!integer)
                return s_fail (ctx, row->path, "expected an integer, got %.*s", (int) len, text);
            int64_t v;
            if (s_parse_int64 (text, len, &v) != 0)
                return s_fail (ctx, row->path, "%.*s is out of range", (int) len, text);
            if (bounded && (v < row->min || v > row->max)) {
                return s_fail (ctx, row->path, "%lld is out of range [%lld, %lld]", (long long) v,
                               (long long) row->min, (long long) row->max);
            }
            *(int64_t *) field = v;
            return 0;
        }
        case KT_CFG_MONEY:
        case KT_CFG_BPS: {
            int64_t v;
            if (kt_money_parse_exact (text, len, &v) != 0) {
                if (kt_money_parse (text, len, &v) == 0)
                    return s_fail (ctx, row->path, "%.*s has more than 2 decimals", (int) len,
                                   text);
                return s_fail (ctx, row->path, "%.*s is out of range", (int) len, text);
            }
            if (bounded && (v < row->min || v > row->max)) {
                return s_fail (ctx, row->path, "%s is out of range [%s, %s]",
                               kt_money_format_json (v, a, sizeof a),
                               kt_money_format_json (row->min, b, sizeof b),
                               kt_money_format_json (row->max, c, sizeof c));
            }
            *(int64_t *) field = v;
            return 0;
        }
        case KT_CFG_DBL: {
            double v = node->valuedouble;
            if (!isfinite (v))
                return s_fail (ctx, row->path, "%.*s is out of range", (int) len, text);
            if (bounded && (v < (double) row->min || v > (double) row->max)) {
                return s_fail (ctx, row->path, "%.*s is out of range [%lld, %lld]", (int) len, text,
                               (long long) row->min, (long long) row->max);
            }
            *(double *) field = v;
            return 0;
        }
        case KT_CFG_BOOL:
            if (!cJSON_IsBool (node))
                return s_fail (ctx, row->path, "expected true or false");
            *(bool *) field = cJSON_IsTrue (node);
            return 0;
        case KT_CFG_STR:
        case KT_CFG_SECRET: {
            if (!cJSON_IsString (node))
                return s_fail (ctx, row->path, "expected a string");
            const char *s = node->valuestring;
            if (row->type == KT_CFG_SECRET)
                return s_secret (ctx, row, s, field, sim_secret);
            if (strlen (s) >= row->size) {
                return s_fail (ctx, row->path, "longer than %zu characters", row->size - 1);
            }
            memcpy (field, s, strlen (s) + 1);
            return 0;
        }
    }
    return s_fail (ctx, row->path, "unknown row type %d in the table", (int) row->type);
}

//  Load one row: the value in the file, or its default (which goes through the same
//  checks, so a bad default in a table is caught the first time it is used).
static int
s_load_row (s_ctx_t *ctx, const kt_cfg_row_t *row, const s_doc_t *doc, void *base,
            const char *sim_def, const char *sim_secret)
{
    //  kt_cfg_load_file calls this with sim_def already filtered by mode and clock.
    if ((row->type == KT_CFG_STR || row->type == KT_CFG_SECRET) && row->size == 0)
        return s_fail (ctx, row->path, "table row has size 0");
    const cJSON *node = s_find (doc->root, row->path);
    if (node)
        return s_store (ctx, row, doc, node, base, sim_secret);
    if (row->flags & KT_CFG_F_REQUIRED)
        return s_fail (ctx, row->path, "missing required key");
    const char *def = sim_def ? sim_def : row->def;
    if (!def)
        return s_fail (ctx, row->path, "table row has no default and is not required");
    s_doc_t ddoc;
    size_t errpos;
    if (s_doc_parse (def, &ddoc, &errpos) != 0)
        return s_fail (ctx, row->path, "bad default %s in the table", def);
    int rc = s_store (ctx, row, &ddoc, ddoc.root, base, sim_secret);
    s_doc_free (&ddoc);
    return rc;
}

// ---- shared checks ------------------------------------------------------------------

static int
s_one_of (const char *value, const char *const *choices, char *why, size_t whylen)
{
    for (const char *const *c = choices; *c; c++) {
        if (strcmp (value, *c) == 0)
            return 0;
    }
    int n = snprintf (why, whylen, "\"%.40s\" is not one of", value);
    for (const char *const *c = choices; *c && n > 0 && (size_t) n < whylen; c++)
        n += snprintf (why + n, whylen - (size_t) n, "%s %s", c == choices ? "" : ",", *c);
    return -1;
}

static int
s_check_mode (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    static const char *const modes[] = {"sim", "paper", "live", NULL};
    return s_one_of (cfg->mode, modes, why, whylen);
}

static int
s_check_level (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", "off", NULL};
    return s_one_of (cfg->log_level, levels, why, whylen);
}

//  One endpoint, or a comma-separated list of them (docs/decisions.md "Endpoint lists").
static int
s_endpoint (const char *ep, char *why, size_t whylen)
{
    static const char *const schemes[] = {"tcp://", "ipc://", "inproc://", NULL};
    const char *item = ep;
    while (true) {
        size_t len = strcspn (item, ",");
        bool ok = false;
        for (const char *const *s = schemes; *s && !ok; s++) {
            size_t n = strlen (*s);
            ok = len > n && strncmp (item, *s, n) == 0 && !memchr (item, ' ', len);
        }
        if (!ok) {
            snprintf (why, whylen, "\"%.*s\" is not a tcp://, ipc:// or inproc:// endpoint",
                      (int) (len > 60 ? 60 : len), item);
            return -1;
        }
        if (item[len] == '\0')
            return 0;
        item += len + 1;
    }
}

static int
s_check_redis_host (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    if (cfg->redis_host[0] && !strpbrk (cfg->redis_host, " \t/"))
        return 0;
    snprintf (why, whylen, "\"%s\" is not a host name or address", cfg->redis_host);
    return -1;
}

static int
s_check_redis_prefix (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    //  Operators type these keys into redis-cli; whitespace or glob characters would
    //  make them unreachable or match other accounts' keys in KEYS/SCAN patterns.
    if (!strpbrk (cfg->redis_prefix, " \t\r\n*?[]\\\""))
        return 0;
    snprintf (why, whylen, "\"%s\" contains whitespace, quotes or glob characters",
              cfg->redis_prefix);
    return -1;
}

static int
s_check_clock_mode (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    static const char *const modes[] = {"real", "sim", NULL};
    if (s_one_of (cfg->clock_mode, modes, why, whylen) != 0)
        return -1;
    //  Paper and live trade against the real market: their clock must be the real one.
    if (strcmp (cfg->clock_mode, "sim") == 0 && strcmp (cfg->mode, "sim") != 0) {
        snprintf (why, whylen, "\"sim\" is only allowed with mode \"sim\" (mode is \"%s\")",
                  cfg->mode);
        return -1;
    }
    return 0;
}

static int
s_check_clock_speed (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    if (!(cfg->clock_speed > 0)) {
        snprintf (why, whylen, "%g must be greater than 0", cfg->clock_speed);
        return -1;
    }
    if (strcmp (cfg->clock_mode, "real") == 0 && cfg->clock_speed != 1) {
        snprintf (why, whylen, "%g: must be 1 when clock.mode is \"real\"", cfg->clock_speed);
        return -1;
    }
    return 0;
}

static int
s_check_clock_date (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *s = cfg->clock_date;
    if (!*s)
        return 0;
    int y = 0, m = 0, d = 0;
    bool shape = strlen (s) == 10 && s[4] == '-' && s[7] == '-';
    for (int i = 0; shape && i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            shape = false;
    }
    if (shape) {
        y = atoi (s);
        m = atoi (s + 5);
        d = atoi (s + 8);
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (!shape || y < 2000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap)) {
        snprintf (why, whylen, "\"%s\" is not a date YYYY-MM-DD (or \"\" for today)", s);
        return -1;
    }
    return 0;
}

static int
s_check_clock_start (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    const char *s = cfg->clock_start;
    bool ok = strlen (s) == 5 && s[2] == ':';
    for (int i = 0; ok && i < 5; i++) {
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            ok = false;
    }
    if (ok && atoi (s) <= 23 && atoi (s + 3) <= 59)
        return 0;
    snprintf (why, whylen, "\"%s\" is not a time HH:MM", s);
    return -1;
}

static int
s_check_health_ttl (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    //  A key that expires before the next beat makes a healthy process look dead.
    if (cfg->health_ttl_s * 1000 > cfg->health_beat_ms)
        return 0;
    snprintf (why, whylen, "%lld s must be longer than health.beat_ms (%lld ms)",
              (long long) cfg->health_ttl_s, (long long) cfg->health_beat_ms);
    return -1;
}

static int
s_url (const kt_cfg_t *cfg, const char *url, const char *plain, const char *tls, char *why,
       size_t whylen)
{
    bool is_tls = strncmp (url, tls, strlen (tls)) == 0 && url[strlen (tls)];
    bool is_plain = strncmp (url, plain, strlen (plain)) == 0 && url[strlen (plain)];
    if (!is_tls && !is_plain) {
        snprintf (why, whylen, "\"%.60s\" does not start with %s or %s", url, tls, plain);
        return -1;
    }
    //  Credentials for real money never cross the network in clear text.
    if (is_plain && strcmp (cfg->mode, "sim") != 0) {
        snprintf (why, whylen, "\"%.60s\": mode \"%s\" requires %s", url, cfg->mode, tls);
        return -1;
    }
    return 0;
}

static int
s_check_api_url (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    return s_url (cfg, cfg->kite_api_url, "http://", "https://", why, whylen);
}

static int
s_check_ws_url (const kt_cfg_t *cfg, char *why, size_t whylen)
{
    return s_url (cfg, cfg->kite_ws_url, "ws://", "wss://", why, whylen);
}

static const char *const s_bus_names[] = {"md",       "risk",   "risk_pub", "exec",
                                          "exec_pub", "alerts", NULL};

//  True when the endpoint lists a and b share an address.
static bool
s_lists_overlap (const char *a, const char *b)
{
    for (const char *x = a; *x;) {
        size_t xl = strcspn (x, ",");
        for (const char *y = b; *y;) {
            size_t yl = strcspn (y, ",");
            if (xl == yl && strncmp (x, y, xl) == 0)
                return true;
            y += yl + (y[yl] ? 1 : 0);
        }
        x += xl + (x[xl] ? 1 : 0);
    }
    return false;
}

//  Two names on one endpoint would make the second bind fail at start-up, or worse,
//  connect a client to the wrong server: refuse it here with both names.
static int
s_check_endpoints_distinct (s_ctx_t *ctx)
{
    for (int i = 0; s_bus_names[i]; i++) {
        for (int j = i + 1; s_bus_names[j]; j++) {
            if (s_lists_overlap (kt_cfg_endpoint (ctx->cfg, s_bus_names[i]),
                                 kt_cfg_endpoint (ctx->cfg, s_bus_names[j]))) {
                char path[32];
                snprintf (path, sizeof path, "bus.%s", s_bus_names[j]);
                return s_fail (ctx, path, "shares an endpoint with bus.%s", s_bus_names[i]);
            }
        }
    }
    return 0;
}

// ---- file ---------------------------------------------------------------------------

static char *
s_read_file (s_ctx_t *ctx)
{
    FILE *fp = fopen (ctx->file, "rb");
    if (!fp) {
        s_fail (ctx, NULL, "cannot read: %s", strerror (errno));
        return NULL;
    }
    char *buf = malloc ((size_t) S_MAX_FILE + 1);
    if (!buf) {
        fclose (fp);
        s_fail (ctx, NULL, "out of memory");
        return NULL;
    }
    size_t len = fread (buf, 1, (size_t) S_MAX_FILE + 1, fp);
    int failed = ferror (fp);
    int saved = errno;
    fclose (fp);
    if (failed) {
        s_fail (ctx, NULL, "cannot read: %s", strerror (saved));
        goto out_free;
    }
    if (len > (size_t) S_MAX_FILE) {
        s_fail (ctx, NULL, "larger than %ld bytes", S_MAX_FILE);
        goto out_free;
    }
    buf[len] = '\0';
    //  cJSON stops at a NUL and would silently ignore whatever follows it.
    if (strlen (buf) != len) {
        s_fail (ctx, NULL, "contains a NUL byte at offset %zu", strlen (buf));
        goto out_free;
    }
    return buf;

out_free:
    free (buf);
    return NULL;
}

static void
s_position (const char *text, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else
            (*col)++;
    }
}

// ---- public -------------------------------------------------------------------------

kt_cfg_t *
kt_cfg_load_file (const char *file, const char *proc, const kt_cfg_row_t *table, void *proc_cfg,
                  char *err, size_t errlen)
{
    char dummy[8];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    kt_cfg_t *cfg = calloc (1, sizeof *cfg);
    if (!cfg) {
        snprintf (err, errlen, "config: out of memory");
        return NULL;
    }
    s_ctx_t ctx = {file ? file : "(null)", cfg, table, err, errlen};
    if (!file) {
        s_fail (&ctx, NULL, "no config file given");
        goto out_cfg;
    }
    if (table && !proc_cfg) {
        s_fail (&ctx, NULL, "a process table needs a config struct (internal error)");
        goto out_cfg;
    }
    if (s_check_table (&ctx) != 0)
        goto out_cfg;
    snprintf (cfg->file, sizeof cfg->file, "%s", file);
    snprintf (cfg->proc, sizeof cfg->proc, "%s", proc ? proc : "");

    char *text = s_read_file (&ctx);
    if (!text)
        goto out_cfg;
    s_doc_t doc;
    size_t errpos = 0;
    int prc = s_doc_parse (text, &doc, &errpos);
    if (prc == -2) {
        s_fail (&ctx, NULL, "out of memory");
        goto out_text;
    }
    if (prc != 0) {
        int line, col;
        s_position (text, errpos, &line, &col);
        s_fail (&ctx, NULL, "line %d, column %d: invalid JSON", line, col);
        goto out_text;
    }
    if (s_check_shape (&ctx, doc.root) != 0)
        goto out_doc;
    for (size_t i = 0; i < S_NSHARED; i++) {
        const s_shared_row_t *sr = &s_shared[i];
        bool sim = strcmp (cfg->mode, "sim") == 0 &&
                   (!sr->sim_def_on_sim_clock || strcmp (cfg->clock_mode, "sim") == 0);
        if (s_load_row (&ctx, &sr->row, &doc, cfg, sim ? sr->sim_def : NULL, sr->sim_secret) != 0)
            goto out_doc;
        char why[256];
        int bad = sr->endpoint ? s_endpoint ((const char *) cfg + sr->row.offset, why, sizeof why)
                  : sr->check  ? sr->check (cfg, why, sizeof why)
                               : 0;
        if (bad != 0) {
            s_fail (&ctx, sr->row.path, "%s", why);
            goto out_doc;
        }
    }
    if (s_check_endpoints_distinct (&ctx) != 0)
        goto out_doc;
    for (const kt_cfg_row_t *row = table; row && row->path; row++) {
        if (s_load_row (&ctx, row, &doc, proc_cfg, NULL, NULL) != 0)
            goto out_doc;
    }
    s_doc_free (&doc);
    free (text);
    return cfg;

out_doc:
    s_doc_free (&doc);
out_text:
    free (text);
out_cfg:
    kt_cfg_destroy (&cfg);
    return NULL;
}

static void
s_usage (const char *proc, FILE *fp)
{
    fprintf (fp,
             "usage: %s -c FILE [--print-config] [--help]\n"
             "  -c, --config FILE  the pipeline config (e.g. deploy/config/sim.json)\n"
             "  --print-config     print the effective config, secrets masked, and exit\n"
             "  --help             print this help and exit\n"
             "Arguments after \"--\" are left to the process.\n",
             proc);
}

kt_cfg_t *
kt_cfg_load (int argc, char **argv, const char *proc, const kt_cfg_row_t *table, void *proc_cfg)
{
    const char *file = NULL;
    bool print = false;
    const char *name = proc ? proc : (argc > 0 && argv[0] ? argv[0] : "kt");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp (a, "--") == 0)
            break;
        if (strcmp (a, "-c") == 0 || strcmp (a, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf (stderr, "config: %s needs a FILE argument (see %s --help)\n", a, name);
                return NULL;
            }
            file = argv[++i];
        } else if (strncmp (a, "--config=", 9) == 0)
            file = a + 9;
        else if (strcmp (a, "--print-config") == 0)
            print = true;
        else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
            //  Not an error: the caller sees print_only and exits 0.
            s_usage (name, stdout);
            kt_cfg_t *cfg = calloc (1, sizeof *cfg);
            if (!cfg)
                return NULL;
            snprintf (cfg->proc, sizeof cfg->proc, "%s", name);
            cfg->print_only = true;
            return cfg;
        } else {
            fprintf (stderr, "config: unknown argument \"%s\" (see %s --help)\n", a, name);
            return NULL;
        }
    }
    if (!file) {
        fprintf (stderr, "config: no config file given: %s -c FILE\n", name);
        return NULL;
    }
    char err[1024];
    kt_cfg_t *cfg = kt_cfg_load_file (file, name, table, proc_cfg, err, sizeof err);
    if (!cfg) {
        fprintf (stderr, "%s\n", err);
        return NULL;
    }
    if (print) {
        kt_cfg_print (cfg, table, proc_cfg, stdout);
        cfg->print_only = true;
    }
    return cfg;
}

//  The object that holds the last component of path, creating parents as needed.
static cJSON *
s_parent (cJSON *root, const char *path, const char **leaf)
{
    cJSON *node = root;
    const char *p = path;
    const char *dot;
    while ((dot = strchr (p, '.'))) {
        char comp[S_PATH_MAX];
        size_t len = (size_t) (dot - p);
        if (len >= sizeof comp)
            return NULL;
        memcpy (comp, p, len);
        comp[len] = '\0';
        cJSON *child = cJSON_GetObjectItemCaseSensitive (node, comp);
        if (!child) {
            child = cJSON_AddObjectToObject (node, comp);
            if (!child)
                return NULL;
        }
        node = child;
        p = dot + 1;
    }
    *leaf = p;
    return node;
}

static void
s_print_row (cJSON *root, const kt_cfg_row_t *row, const void *base)
{
    const char *leaf;
    cJSON *parent = s_parent (root, row->path, &leaf);
    if (!parent || !cJSON_IsObject (parent))
        return;
    const void *field = (const char *) base + row->offset;
    char buf[64];
    cJSON *value = NULL;
    switch (row->type) {
        case KT_CFG_INT:
            snprintf (buf, sizeof buf, "%lld", (long long) *(const int64_t *) field);
            value = cJSON_CreateRaw (buf);
            break;
        case KT_CFG_BOOL:
            value = cJSON_CreateBool (*(const bool *) field);
            break;
        case KT_CFG_MONEY:
        case KT_CFG_BPS:
            value =
                cJSON_CreateRaw (kt_money_format_json (*(const int64_t *) field, buf, sizeof buf));
            break;
        case KT_CFG_DBL: {
            //  Shortest text that reads back as the same double.
            double d = *(const double *) field;
            snprintf (buf, sizeof buf, "%.15g", d);
            if (strtod (buf, NULL) != d)
                snprintf (buf, sizeof buf, "%.17g", d);
            value = isfinite (d) ? cJSON_CreateRaw (buf) : cJSON_CreateNull ();
            break;
        }
        case KT_CFG_STR:
            value = cJSON_CreateString ((const char *) field);
            break;
        case KT_CFG_SECRET:
            value = cJSON_CreateString (((const char *) field)[0] ? "***" : "");
            break;
    }
    if (value)
        cJSON_AddItemToObject (parent, leaf, value);
}

void
kt_cfg_print (const kt_cfg_t *self, const kt_cfg_row_t *table, const void *proc_cfg, void *fp)
{
    cJSON *root = cJSON_CreateObject ();
    if (!root)
        return;
    for (size_t i = 0; i < S_NSHARED; i++)
        s_print_row (root, &s_shared[i].row, self);
    for (const kt_cfg_row_t *row = table; proc_cfg && row && row->path; row++)
        s_print_row (root, row, proc_cfg);
    char *text = cJSON_Print (root);
    if (text) {
        fputs (text, (FILE *) fp);
        fputc ('\n', (FILE *) fp);
        fflush ((FILE *) fp);
        free (text);
    }
    cJSON_Delete (root);
}

const char *
kt_cfg_endpoint (const kt_cfg_t *self, const char *name)
{
    if (!self || !name)
        return NULL;
    if (strcmp (name, "md") == 0)
        return self->ep_md;
    if (strcmp (name, "risk") == 0)
        return self->ep_risk;
    if (strcmp (name, "risk_pub") == 0)
        return self->ep_risk_pub;
    if (strcmp (name, "exec") == 0)
        return self->ep_exec;
    if (strcmp (name, "exec_pub") == 0)
        return self->ep_exec_pub;
    if (strcmp (name, "alerts") == 0)
        return self->ep_alerts;
    return NULL;
}

bool
kt_cfg_is_sim (const kt_cfg_t *self)
{
    return self && strcmp (self->mode, "sim") == 0;
}

void
kt_cfg_destroy (kt_cfg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_cfg_t *self = *self_p;
    //  Secrets should not outlive the config in freed heap memory.
    explicit_bzero (self, sizeof *self);
    free (self);
    *self_p = NULL;
}
