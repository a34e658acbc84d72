/*  kt_schema - every Redis key of the pipeline and its fields, declared once.
 *
 *  A key is declared by one table row (kt_schema_key_t): its name pattern, Redis type,
 *  owning process, lifetime and, for hashes, the field table that maps a plain C record
 *  to hash fields (like the config tables map JSON to a config struct). Code builds key
 *  names and hash field lists only through these declarations, so a key or field name
 *  is spelled in exactly one place; docs/redis.md is checked against the same tables by
 *  kt_schema_test. Every value is readable with `redis-cli HGETALL`: integers as
 *  decimal text (money in paise, times in ns), enums as their upper-case names, booleans
 *  as 1/0, strings as they are - never a blob or a packed list.
 *
 *  Keys carry the configured prefix ("kt:") in front of the pattern. The owner writes;
 *  everyone else reads. Durable keys hold state a restart must find (orders, positions,
 *  risk state); volatile keys are snapshots any writer can rebuild (health, md:ltp). */

#ifndef KT_SCHEMA_H
#define KT_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    KT_SF_STR,  //  char[size]
    KT_SF_I64,  //  int64_t, decimal text
    KT_SF_BOOL, //  bool, "1" / "0"
    KT_SF_ENUM  //  int-sized enum, stored as its name (enum_str/enum_parse)
} kt_schema_ftype_t;

typedef struct {
    const char *name; //  hash field name
    kt_schema_ftype_t type;
    size_t offset; //  offsetof into the record
    size_t size;   //  buffer size for KT_SF_STR
    const char *(*enum_str) (int v);
    int (*enum_parse) (const char *s);
    const char *doc; //  one line for docs/redis.md, with the unit
} kt_schema_field_t;

#define KT_SF_END                                                                                  \
    {                                                                                              \
        NULL, KT_SF_STR, 0, 0, NULL, NULL, NULL                                                    \
    }

typedef enum {
    KT_SK_HASH,
    KT_SK_SET,
    KT_SK_LIST,
    KT_SK_STREAM,
    KT_SK_STRING,
    KT_SK_ZSET
} kt_schema_ktype_t;

typedef enum { KT_LIFE_DURABLE, KT_LIFE_VOLATILE } kt_schema_life_t;

typedef struct {
    const char *pattern;  //  printf pattern after the prefix: "order:%s", "positions"
    const char *doc_name; //  as docs/redis.md writes it: "order:<coid>"
    kt_schema_ktype_t type;
    const char *owner; //  the one writer: "exec-gateway", "every process", ...
    kt_schema_life_t life;
    const char *holds;               //  one line for docs/redis.md
    const kt_schema_field_t *fields; //  hash fields, or a stream entry's fields
                                     //  (KT_SF_END-terminated), or NULL
} kt_schema_key_t;

//  Keys of the runtime every process shares (declared in kt_schema.c).
extern const kt_schema_key_t kt_key_health; //  health:<process>
extern const kt_schema_key_t kt_key_events; //  events
extern const kt_schema_key_t kt_key_clock;  //  clock
extern const kt_schema_key_t kt_key_seq;    //  seq:<process>

//  md-gateway's keys (declared in kt_schema.c).
extern const kt_schema_key_t kt_key_md_status;   //  md:status
extern const kt_schema_key_t kt_key_md_ltp;      //  md:ltp
extern const kt_schema_key_t kt_key_md_universe; //  md:universe
extern const kt_schema_key_t kt_key_md_bars;     //  md:bars:<token>, a stream whose
                                                 //  entries' fields map struct kt_bar

//  The md:status record (kt_schema_pairs with kt_key_md_status).
struct kt_md_status_rec {
    bool connected;
    bool session_refused; //  the ticker refused the access token (403): not retrying
    int64_t since_ns;     //  connected or disconnected since (pipeline ns)
    int64_t reconnects;
    int64_t last_frame_ns; //  wall ns of the last message of any kind
    int64_t frames;
    int64_t heartbeats;
    int64_t packets;
    int64_t malformed;
    int64_t skipped;
    int64_t unknown;
    int64_t ticks;
    int64_t bars;
    int64_t subscribed;
    int64_t updated_ns;
};

//  exec-gateway's broker session: set invalid on a TokenException, valid again on a new
//  access token. risk-gate reads it (and md:status session_refused) and halts.
extern const kt_schema_key_t kt_key_exec_session; //  exec:session
struct kt_exec_session_rec {
    bool ok;
    int64_t since_ns;
    char reason[128];
};

//  The alerter's outbox (alerter/alert_queue.c; docs/alerter.md).
extern const kt_schema_key_t kt_key_alerts_seq;     //  alerts:seq
extern const kt_schema_key_t kt_key_alerts_item;    //  alerts:item:<id>
extern const kt_schema_key_t kt_key_alerts_pending; //  alerts:pending:<channel>
extern const kt_schema_key_t kt_key_alerts_group;   //  alerts:group:<group>
extern const kt_schema_key_t kt_key_alerts_windows; //  alerts:windows
extern const kt_schema_key_t kt_key_alerts_summary; //  alerts:summary

//  alerts:summary - the last daily summary sent (so a restart after the close does not
//  send it again).
struct kt_alerts_summary_rec {
    int64_t day;     //  YYYYMMDD (IST) of the last summary sent
    int64_t sent_ns; //  when (pipeline ns)
};
//  alerts:sent is declared with kt_alert (common/kt_alert.h).

//  The reconciler's last run (reconciler/recon.c).

//  The fixed fields of health:<process> (the process's own counters follow them).
struct kt_health_rec {
    int64_t pid;
    int64_t started; //  ns, pipeline time of the process start
    int64_t beat;    //  ns, pipeline time of the last heartbeat
};

//  An operator's request to a process (tradectl writes, the process watches the key):
//  recon:request asks the reconciler to compare now, session:reload asks every process
//  that talks to Kite to re-read the access token.
struct kt_request_rec {
    int64_t requested_ns; //  pipeline time of the request
    char by[32];          //  who asked (the operator's user name)
    char what[64];        //  a short note (why, or which token: its last 4 characters)
};
extern const kt_schema_key_t kt_key_recon_request;  //  recon:request
extern const kt_schema_key_t kt_key_session_reload; //  session:reload

//  A key name: prefix + pattern + argument. Sized so that any prefix the config accepts
//  (< 128 chars) plus any pattern (< 32) plus any bounded identifier (symbol, coid,
//  process name, day: < 64 chars) fits; a longer argument is a programming error and
//  aborts (identifiers come from fixed-size message and record fields, never unchecked).
#define KT_SCHEMA_KEY_MAX 256
struct kt_skey {
    char s[KT_SCHEMA_KEY_MAX];
    size_t len;
};

//  Build the name of key k with prefix and arg (NULL for patterns without %s).
struct kt_skey kt_schema_key (const char *prefix, const kt_schema_key_t *k, const char *arg);

//  Every declared key, for docs and tests: sets *n and returns the table.
const kt_schema_key_t *const *kt_schema_all (int *n);

//  Find a declared hash field by name. Returns NULL if k has no such field.
const kt_schema_field_t *kt_schema_field (const kt_schema_key_t *k, const char *name);

//  The field/value pairs of a record, ready for HSET or a script's ARGV.
#define KT_SCHEMA_FIELDS_MAX 48
struct kt_schema_pairs {
    int n; //  number of pairs
    const char *argv[2 * KT_SCHEMA_FIELDS_MAX];
    size_t argvlen[2 * KT_SCHEMA_FIELDS_MAX];
    char num[KT_SCHEMA_FIELDS_MAX][24]; //  decimal text of numeric fields
};

//  Fill out with every field of rec (declared by k, a hash, or a stream whose entries
//  have declared fields: XADD's field/value list). Strings are borrowed from rec: keep
//  rec alive while out is used. Returns the number of pairs, or -1 if k has no fields
//  or more than KT_SCHEMA_FIELDS_MAX.
int kt_schema_pairs (const kt_schema_key_t *k, const void *rec, struct kt_schema_pairs *out);

//  Set one field of rec from its stored text (len bytes, not NUL-terminated). Unknown
//  field names are ignored (returns 1) so that older readers tolerate newer writers.
//  Returns 0 when set, 1 when unknown, -1 when the value does not parse for the
//  field's type (rec unchanged; why gets "field: reason").
int kt_schema_set (const kt_schema_key_t *k, void *rec, const char *name, size_t nlen,
                   const char *val, size_t vlen, char *why, size_t whylen);

//  Read hash key k (with arg) into rec (the caller zeroes it first) through kt_schema_set.
//  A field that does not parse is left as it was: the caller's decision then fails
//  closed. Returns 1 found, 0 absent, -1 when Redis did not answer (why).
struct kt_store;
int kt_schema_read (struct kt_store *store, const kt_schema_key_t *k, const char *arg, void *rec,
                    char *why, size_t whylen);

//  Write rec as hash key k (with arg) on the store's queued connection (HSET of every
//  declared field; done(result, done_arg) when Redis answers, unless done is NULL).
//  Returns 0 queued, -1 not (the store's queue is full, or k has no fields).
struct kt_store_result;
int kt_schema_send (struct kt_store *store, const kt_schema_key_t *k, const char *arg,
                    const void *rec, void (*done) (const struct kt_store_result *, void *),
                    void *done_arg);

//  Render the tables as the markdown docs/redis.md holds between its markers. Returns
//  an owned string (free) or NULL on OOM.
char *kt_schema_markdown (void);

#endif
