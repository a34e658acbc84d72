/*  kt_log - JSON-lines logger: one event per line on stderr, one write(2) each.
 *
 *  Used by every process and tool. Events carry a stable dotted id (`ev`) that
 *  operators filter with jq and tests assert on. The level is checked before the
 *  arguments are evaluated. String values registered as secrets are masked
 *  wherever they appear. Single-threaded, like every process. */

#ifndef KT_LOG_H
#define KT_LOG_H

#include <stdbool.h>
#include <stdint.h>

//  Longest line, newline included. A longer event is cut at a field or inside a string
//  value, ends with "trunc":true, and is still one valid JSON object.
#define KT_LOG_LINE_MAX 4096

//  Secrets: at most this many; a longer secret is matched on its first
//  KT_LOG_SECRET_MAX - 1 bytes (masks a superset, never less).
#define KT_LOG_SECRETS 32
#define KT_LOG_SECRET_MAX 256

typedef enum {
    KT_LOG_DEBUG = 0,
    KT_LOG_INFO = 1,
    KT_LOG_WARN = 2,
    KT_LOG_ERROR = 3,
    KT_LOG_OFF = 4
} kt_log_level_t;

typedef enum { KT_KV_END = 0, KT_KV_STR, KT_KV_INT, KT_KV_BOOL, KT_KV_DBL } kt_kv_type_t;

//  One typed field of a log event (also used for health counters).
typedef struct {
    const char *key; //  borrowed; NULL ends a list
    kt_kv_type_t type;
    union {
        const char *s; //  borrowed
        int64_t i;
        bool b;
        double d;
    };
} kt_kv_t;

#define KT_S(k, v) ((kt_kv_t){.key = (k), .type = KT_KV_STR, .s = (v)})
#define KT_I(k, v) ((kt_kv_t){.key = (k), .type = KT_KV_INT, .i = (int64_t) (v)})
#define KT_B(k, v) ((kt_kv_t){.key = (k), .type = KT_KV_BOOL, .b = (v)})
#define KT_D(k, v) ((kt_kv_t){.key = (k), .type = KT_KV_DBL, .d = (v)})
#define KT_END ((kt_kv_t){.key = NULL, .type = KT_KV_END})

//  Current threshold; events below it are skipped before their arguments are built.
extern kt_log_level_t kt_log_threshold;

//  Sink for tests: receives each finished JSON line (without the newline) and the
//  event's level and id. Arguments are borrowed for the duration of the call.
typedef void (kt_log_sink_fn) (kt_log_level_t lvl, const char *ev, const char *line, void *arg);

//  Set the process name written as "proc" (copied, cut at 63 bytes) and the threshold.
//  Safe to call again. Before the first call proc is the program's short name.
void kt_log_open (const char *proc, kt_log_level_t threshold);

//  Parse "debug" / "info" / "warn" / "error" / "off". Returns -1 if unknown.
int kt_log_level_parse (const char *name);

//  Register a secret value: any string field containing it is written as "***".
//  The value is copied. Empty strings are ignored. Returns 0, or -1 if the table is full.
int kt_log_secret_add (const char *value);

//  Forget every registered secret (tests).
void kt_log_secret_clear (void);

//  Route lines to fn instead of stderr; fn == NULL restores stderr.
void kt_log_set_sink (kt_log_sink_fn *fn, void *arg);

//  Add a "clk" field (pipeline time in ns) to every line, from fn(arg). Sim mode uses it.
void kt_log_set_clock (int64_t (*fn) (void *arg), void *arg);

//  Write one event. kv ends with KT_END (kv may be NULL). Use the kt_log_* macros instead.
//  Line: {"ts","lvl","proc","pid","ev", the kv fields in order, then "clk" if a clock is
//  set}. Strings are JSON-escaped; bytes that are not valid UTF-8 become U+FFFD; a NULL
//  string is null; a non-finite double is null. Never allocates; write errors are ignored.
void kt_log_emit (kt_log_level_t lvl, const char *ev, const kt_kv_t *kv);

//  Like kt_log_emit, but at most once per `secs` seconds (CLOCK_MONOTONIC) per call site;
//  *last_ns holds the time of the last line written (0 = never).
void kt_log_emit_every (kt_log_level_t lvl, const char *ev, int64_t secs, int64_t *last_ns,
                        const kt_kv_t *kv);

#define kt_log(lvl, ev, ...)                                                                       \
    do {                                                                                           \
        if ((lvl) >= kt_log_threshold)                                                             \
            kt_log_emit ((lvl), (ev), (const kt_kv_t[]){__VA_ARGS__});                             \
    } while (0)

#define kt_log_debug(ev, ...) kt_log (KT_LOG_DEBUG, ev, __VA_ARGS__)
#define kt_log_info(ev, ...) kt_log (KT_LOG_INFO, ev, __VA_ARGS__)
#define kt_log_warn(ev, ...) kt_log (KT_LOG_WARN, ev, __VA_ARGS__)
#define kt_log_error(ev, ...) kt_log (KT_LOG_ERROR, ev, __VA_ARGS__)

//  Rate-limited warning: at most one line per `secs` seconds from this call site.
#define kt_log_warn_every(ev, secs, ...)                                                           \
    do {                                                                                           \
        static int64_t s_last_ns_;                                                                 \
        if (KT_LOG_WARN >= kt_log_threshold)                                                       \
            kt_log_emit_every (KT_LOG_WARN, (ev), (secs), &s_last_ns_,                             \
                               (const kt_kv_t[]){__VA_ARGS__});                                    \
    } while (0)

#endif
