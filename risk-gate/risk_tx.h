/*  risk_tx - the account commit: a list of Redis writes the C core decided, applied by
 *  one small Lua script only if the account is still the one the core decided on.
 *
 *  The rules never run in Redis. The core reads the account (a snapshot, with the
 *  account's version, risk:state `version`), decides in C, and sends the writes of its
 *  decision here. The commit script applies them when the version (and, for entries,
 *  the kill switch, which an operator may set by hand) is unchanged, then bumps the
 *  version; otherwise it answers the account as it is now and the core decides again.
 *  Every script that changes what the rules read bumps the version too. */

#ifndef RISK_TX_H
#define RISK_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt.h"
#include "kt_schema.h"

#define RISK_TX_ARGS 1024 //  argument slots (ops, keys, fields, values): a mark of 64 positions
#define RISK_TX_BUF 32768 //  bytes of argument text

struct risk_view;

//  Script ids in one store, from risk_capital_register.
struct risk_scripts {
    int snapshot, commit, resolve;
};

//  The key names every account script gets (KEYS), and the stems of the keys named by
//  an argument (the snapshot's ARGV 2..4: pos:, order:, intent:), all from the
//  declarations.
#define RISK_TX_NKEYS 14
struct risk_tx_keys {
    char prefix[128];
    struct kt_skey k[RISK_TX_NKEYS];
    const char *argv[RISK_TX_NKEYS];
    struct kt_skey stem[3];
};

//  Build the script keys for prefix into *out.
void risk_tx_keys (const char *prefix, struct risk_tx_keys *out);

//  A field found in its key's declaration (risk_tx.c's check, remembered).
#define RISK_TX_SEEN 64
struct risk_tx_seen {
    const kt_schema_key_t *key;
    char field[24];
};

//  One commit being built: fixed storage, no allocation. Strings are copied in.
struct risk_tx {
    int n; //  arguments used
    const char *argv[RISK_TX_ARGS];
    size_t used;
    char buf[RISK_TX_BUF];
    int count_at;                        //  argv index of the open op's count, -1 if none
    int count;                           //  arguments of the open op so far
    bool overflow;                       //  did not fit: the commit refuses to run
    const kt_schema_key_t *key;          //  the open write's declared key (risk_tx_key), or NULL
    const struct risk_tx_layout *layout; //  the open record's (risk_tx_record), or NULL
    int lpos;                            //  its fields written so far
    char fault[96]; //  why the commit refuses to run (an undeclared field, a record's order)
    struct risk_tx_keys keys;               //  of the prefix the commit was begun with
    struct risk_tx_seen seen[RISK_TX_SEEN]; //  declared fields already checked
};

//  What the commit script answered.
typedef enum {
    RISK_TX_FAIL = -1, //  Redis unavailable or an error (why)
    RISK_TX_OK = 0,    //  applied; view->version is the new version
    RISK_TX_STALE,     //  not applied: *view holds the account as it is now
    RISK_TX_DUP        //  not applied: the intent was decided before (*dup)
} risk_tx_rc_t;

//  The stored decision of a duplicate intent (fields of intent:<id>).
struct risk_tx_dup {
    char verdict[16], state[16], coid[KT_ID_LEN], kind[16];
    int64_t qty;
    int nreasons;
    struct {
        kt_reason_t code;
        kt_verdict_t outcome; //  not stored: NONE
        char text[KT_TEXT_LEN];
    } reasons[KT_REASONS_MAX];
};

#define RISK_TX_ANY INT64_MIN      //  a commit that does not check the version
#define RISK_TX_STALE_VERSION (-1) //  a view known to be out of date: never matches

//  Start a commit on the key prefix (copied). version: the account version it was
//  decided on (RISK_TX_ANY: unconditional). kill: the kill switch it assumed (0/1; -1: any).
//  dup_id: refuse as a duplicate when intent:<dup_id> has a verdict (NULL: no check).
//  Every key a write names gets the prefix.
void risk_tx_begin (struct risk_tx *tx, const char *prefix, int64_t version, int kill,
                    const char *dup_id);

//  Apply only if the book (exec-gateway's `book` ver) is still at book_ver: a fill or an
//  order change since the view was read makes the commit STALE.
void risk_tx_book (struct risk_tx *tx, int64_t book_ver);

//  Options of the commit: answer the account after the writes (RISK_TX_OK then parses
//  it into the view), and do not move the version (the writes set it themselves, as a
//  decision does, or touch nothing a rule reads: operator fields).
void risk_tx_flags (struct risk_tx *tx, bool snapshot, bool keep_version);

//  Every builder call below does nothing on a NULL tx (a pass that only applies).

//  Open the next write on a declared key (common/kt_risk.h, kt_schema.h) with its
//  argument (NULL for a pattern without one). op is one of HSET HDEL HINCRBY SADD SREM
//  LPUSH LTRIM DEL EXPIRE XADD (the script refuses others).
void risk_tx_key (struct risk_tx *tx, const char *op, const kt_schema_key_t *key, const char *arg);

//  A record layout: the fields a new hash of a declared key is written with, in order.
//  The commit script holds their names (risk_tx_script), so a record sends only its
//  values: a decision's record is most of what its commit carries. index: 1, 2, ... in
//  the array given to risk_tx_script.
struct risk_tx_layout {
    int index;
    const kt_schema_key_t *key;
    const char *const *fields;
    int n;
};

//  Open an HSET of a record of layout on its key with arg: then every field of the
//  layout in its order (risk_tx_pair*), then any others as pairs. A field out of order,
//  or one missing when the next write opens, refuses the commit.
void risk_tx_record (struct risk_tx *tx, const struct risk_tx_layout *layout, const char *arg);

//  Append an argument to the open write: a string (copied) or a decimal number.
void risk_tx_str (struct risk_tx *tx, const char *s);
void risk_tx_i64 (struct risk_tx *tx, int64_t x);

//  A field and its value for the open write (HSET). On a write opened by risk_tx_key
//  on a declared hash, a field the declaration lacks makes the commit refuse to run
//  ("field ... not declared"): every field risk-gate writes is declared in kt_risk.c.
void risk_tx_pair (struct risk_tx *tx, const char *field, const char *value);
void risk_tx_pair_i64 (struct risk_tx *tx, const char *field, int64_t value);

//  An `events` stream entry (XADD events MAXLEN ~ 100000 *): open it, then pairs.
void risk_tx_event (struct risk_tx *tx, const char *type, const char *src);

//  Run the commit (ids from risk_capital_register) with one EVALSHA. RISK_TX_OK sets
//  view->version (or reads the whole account into *view, see risk_tx_flags: a second
//  call, the snapshot); RISK_TX_STALE reads the current account into *view (a second
//  call); RISK_TX_DUP fills *dup (may be NULL). RISK_TX_FAIL: nothing known (why). An
//  account that could not be read after an applied commit leaves *view marked out of
//  date (RISK_TX_STALE_VERSION), so the next commit on it reads it again.
risk_tx_rc_t risk_tx_commit (kt_store_t *store, const struct risk_scripts *ids, struct risk_tx *tx,
                             struct risk_view *view, struct risk_tx_dup *dup, char *why,
                             size_t whylen);

//  The commit script's Lua text for these layouts (malloc'd; registered by
//  risk_capital_register), or NULL with why when a layout names a field its key's
//  declaration lacks.
char *risk_tx_script (const struct risk_tx_layout *const *layouts, int n, char *why, size_t whylen);

#endif
