/*  kt_schema - key declarations and the record <-> hash mapping. */

#include "kt_schema.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kt_alert.h"
#include "kt_book.h"
#include "kt_msg.h"
#include "kt_store.h"
#include "kt_recon.h"
#include "kt_stratstate.h"
#include "kt_risk.h"

static const kt_schema_field_t s_health_fields[] = {
    {"pid", KT_SF_I64, offsetof (struct kt_health_rec, pid), sizeof (int64_t), NULL, NULL,
     "process id (a new pid = the process restarted)"},
    {"started", KT_SF_I64, offsetof (struct kt_health_rec, started), sizeof (int64_t), NULL, NULL,
     "process start, ns"},
    {"beat", KT_SF_I64, offsetof (struct kt_health_rec, beat), sizeof (int64_t), NULL, NULL,
     "last heartbeat, ns; the process's counters follow"},
    KT_SF_END};

static const kt_schema_field_t s_request_fields[] = {
    {"requested_ns", KT_SF_I64, offsetof (struct kt_request_rec, requested_ns), sizeof (int64_t),
     NULL, NULL, "when the operator asked, ns"},
    {"by", KT_SF_STR, offsetof (struct kt_request_rec, by),
     sizeof ((struct kt_request_rec *) 0)->by, NULL, NULL, "who asked"},
    {"what", KT_SF_STR, offsetof (struct kt_request_rec, what),
     sizeof ((struct kt_request_rec *) 0)->what, NULL, NULL, "a short note"},
    KT_SF_END};

//  Keys that belong to the runtime every process shares (kt_proc, kt_store, kt_clock).
const kt_schema_key_t kt_key_health = {
    "health:%s",      "health:<process>",
    KT_SK_HASH,       "each process",
    KT_LIFE_VOLATILE, "heartbeat: pid, started, last beat, counters (TTL health.ttl_s)",
    s_health_fields};
const kt_schema_key_t kt_key_events = {
    "events",
    "events",
    KT_SK_STREAM,
    "every producer of a fact",
    KT_LIFE_DURABLE,
    "audit log of intents, decisions, orders, fills, state changes (MAXLEN ~ 100000)",
    NULL};
const kt_schema_key_t kt_key_clock = {
    "clock",
    "clock",
    KT_SK_HASH,
    "kite-sim / first process",
    KT_LIFE_DURABLE,
    "the shared sim clock: wall_anchor_ns, sim_anchor_ns, speed_ppm, gen, date",
    NULL};
const kt_schema_key_t kt_key_seq = {"seq:%s",
                                    "seq:<process>",
                                    KT_SK_STRING,
                                    "each process",
                                    KT_LIFE_DURABLE,
                                    "last sequence epoch of the process's publishers",
                                    NULL};

//  md-gateway's keys.
#define S_MDS(f) offsetof (struct kt_md_status_rec, f)
static const kt_schema_field_t s_md_status_fields[] = {
    {"connected", KT_SF_BOOL, S_MDS (connected), 0, NULL, NULL, "1 while the ticker is connected"},
    {"session_refused", KT_SF_BOOL, S_MDS (session_refused), 0, NULL, NULL,
     "1 after Kite refused the access token at the upgrade (no retry)"},
    {"since_ns", KT_SF_I64, S_MDS (since_ns), 0, NULL, NULL,
     "ns, connected (or disconnected) since, pipeline clock"},
    {"reconnects", KT_SF_I64, S_MDS (reconnects), 0, NULL, NULL,
     "connections established after the first"},
    {"last_frame_ns", KT_SF_I64, S_MDS (last_frame_ns), 0, NULL, NULL,
     "ns, wall time of the last message (heartbeats included)"},
    {"frames", KT_SF_I64, S_MDS (frames), 0, NULL, NULL, "binary messages received"},
    {"heartbeats", KT_SF_I64, S_MDS (heartbeats), 0, NULL, NULL, "1-byte heartbeats received"},
    {"packets", KT_SF_I64, S_MDS (packets), 0, NULL, NULL, "packets decoded"},
    {"malformed", KT_SF_I64, S_MDS (malformed), 0, NULL, NULL,
     "frames dropped as malformed (and oversized messages)"},
    {"skipped", KT_SF_I64, S_MDS (skipped), 0, NULL, NULL, "packets of an unknown length"},
    {"unknown", KT_SF_I64, S_MDS (unknown), 0, NULL, NULL,
     "packets of instruments outside the universe"},
    {"ticks", KT_SF_I64, S_MDS (ticks), 0, NULL, NULL, "TICK messages published"},
    {"bars", KT_SF_I64, S_MDS (bars), 0, NULL, NULL, "final BAR messages published"},
    {"subscribed", KT_SF_I64, S_MDS (subscribed), 0, NULL, NULL, "instruments subscribed"},
    {"updated_ns", KT_SF_I64, S_MDS (updated_ns), 0, NULL, NULL, "ns, pipeline time of this write"},
    KT_SF_END};
const kt_schema_key_t kt_key_md_status = {
    "md:status",       "md:status",      KT_SK_HASH,
    "md-gateway",      KT_LIFE_VOLATILE, "the ticker connection and its counters",
    s_md_status_fields};
const kt_schema_key_t kt_key_md_ltp = {
    "md:ltp",
    "md:ltp",
    KT_SK_HASH,
    "md-gateway",
    KT_LIFE_VOLATILE,
    "last price of every subscribed instrument: field tradingsymbol, value paise (a few writes/s)",
    NULL};
const kt_schema_key_t kt_key_md_universe = {
    "md:universe",
    "md:universe",
    KT_SK_HASH,
    "md-gateway",
    KT_LIFE_VOLATILE,
    "the subscribed instruments: field instrument token, value EXCHANGE:TRADINGSYMBOL",
    NULL};
//  A stream entry's fields, mapped onto struct kt_bar.
#define S_BAR(f) offsetof (struct kt_bar, f)
static const kt_schema_field_t s_md_bar_fields[] = {
    {"start_ns", KT_SF_I64, S_BAR (start_ns), 0, NULL, NULL,
     "ns, the minute's start (exchange time)"},
    {"o", KT_SF_I64, S_BAR (o), 0, NULL, NULL, "paise, open"},
    {"h", KT_SF_I64, S_BAR (h), 0, NULL, NULL, "paise, high"},
    {"l", KT_SF_I64, S_BAR (l), 0, NULL, NULL, "paise, low"},
    {"c", KT_SF_I64, S_BAR (c), 0, NULL, NULL, "paise, close"},
    {"volume", KT_SF_I64, S_BAR (volume), 0, NULL, NULL, "units traded in the minute"},
    {"vwap", KT_SF_I64, S_BAR (vwap), 0, NULL, NULL, "paise, the day's VWAP at the bar's close"},
    {"ticks", KT_SF_I64, S_BAR (ticks), 0, NULL, NULL, "trading ticks in the minute"},
    KT_SF_END};
const kt_schema_key_t kt_key_md_bars = {
    "md:bars:%s",
    "md:bars:<token>",
    KT_SK_STREAM,
    "md-gateway",
    KT_LIFE_VOLATILE,
    "the last final 1-minute bars, oldest first: one stream entry per bar, each field its own "
    "value (XRANGE; capped at md.bars_keep)",
    s_md_bar_fields};
//  The alerter's outbox. Its hashes are written by Lua scripts from their parts, so they
//  have no record mapping; their fields are listed here.
const kt_schema_key_t kt_key_alerts_seq = {"alerts:seq", "alerts:seq",    KT_SK_STRING,
                                           "alerter",    KT_LIFE_DURABLE, "last alert id given out",
                                           NULL};
const kt_schema_key_t kt_key_alerts_item = {
    "alerts:item:%s",
    "alerts:item:<id>",
    KT_SK_HASH,
    "alerter",
    KT_LIFE_DURABLE,
    "one alert: ts (ns, the sender's), queued_ms (wall), severity, key, src, text, count, "
    "window_s, left (channels still to deliver it); expires a day after the last delivery",
    NULL};
const kt_schema_key_t kt_key_alerts_pending = {"alerts:pending:%s",
                                               "alerts:pending:<channel>",
                                               KT_SK_LIST,
                                               "alerter",
                                               KT_LIFE_DURABLE,
                                               "ids the channel has still to deliver, oldest first",
                                               NULL};
const kt_schema_key_t kt_key_alerts_group = {
    "alerts:group:%s",
    "alerts:group:<group>",
    KT_SK_HASH,
    "alerter",
    KT_LIFE_DURABLE,
    "an open collapse window: until and first (wall ms), count, and the latest severity, "
    "key, src, text, ts",
    NULL};
const kt_schema_key_t kt_key_alerts_windows = {
    "alerts:windows",
    "alerts:windows",
    KT_SK_ZSET,
    "alerter",
    KT_LIFE_DURABLE,
    "open collapse windows (groups) by their end, wall ms",
    NULL};
static const kt_schema_field_t s_alerts_summary_fields[] = {
    {"day", KT_SF_I64, offsetof (struct kt_alerts_summary_rec, day), sizeof (int64_t), NULL, NULL,
     "YYYYMMDD (IST) of the last daily summary sent"},
    {"sent_ns", KT_SF_I64, offsetof (struct kt_alerts_summary_rec, sent_ns), sizeof (int64_t), NULL,
     NULL, "when it was sent, ns"},
    KT_SF_END};
const kt_schema_key_t kt_key_alerts_summary = {
    "alerts:summary",
    "alerts:summary",
    KT_SK_HASH,
    "alerter",
    KT_LIFE_DURABLE,
    "the last daily summary at the close (alerter.summary_at), so a restart does not repeat it",
    s_alerts_summary_fields};

//  exec-gateway's broker session (its own key: risk-gate reads it and halts on it).
#define S_EXS(f) offsetof (struct kt_exec_session_rec, f)
static const kt_schema_field_t s_exec_session_fields[] = {
    {"ok", KT_SF_BOOL, S_EXS (ok), 0, NULL, NULL,
     "0 after a TokenException, 1 again once a new access token is loaded"},
    {"since_ns", KT_SF_I64, S_EXS (since_ns), 0, NULL, NULL, "ns, pipeline clock, of the change"},
    {"reason", KT_SF_STR, S_EXS (reason), sizeof ((struct kt_exec_session_rec *) 0)->reason, NULL,
     NULL, "Kite's message, or how it was restored"},
    KT_SF_END};
const kt_schema_key_t kt_key_exec_session = {
    "exec:session",
    "exec:session",
    KT_SK_HASH,
    "exec-gateway",
    KT_LIFE_DURABLE,
    "the broker session as exec-gateway last found it (risk-gate halts while it is invalid)",
    s_exec_session_fields};

//  Requests of the operator's command line to a running process.
const kt_schema_key_t kt_key_recon_request = {"recon:request",
                                              "recon:request",
                                              KT_SK_HASH,
                                              "tradectl",
                                              KT_LIFE_DURABLE,
                                              "`tradectl reconcile`: the reconciler compares now "
                                              "when requested_ns is newer than its last run",
                                              s_request_fields};
const kt_schema_key_t kt_key_session_reload = {
    "session:reload",
    "session:reload",
    KT_SK_HASH,
    "tradectl",
    KT_LIFE_DURABLE,
    "`tradectl token` / `login`: processes re-read kite.access_token when requested_ns changes",
    s_request_fields};

//  The registry: one line per key, in the order docs/redis.md lists them.
static const kt_schema_key_t *const s_all[] = {
    &kt_key_order,
    &kt_key_order_trades,
    &kt_key_orders_open,
    &kt_key_pos,
    &kt_key_positions,
    &kt_key_book,
    &kt_key_events,
    &kt_key_health,
    &kt_key_clock,
    &kt_key_seq,
    &kt_key_md_status,
    &kt_key_md_ltp,
    &kt_key_md_universe,
    &kt_key_md_bars,
    &kt_key_exec_session,
    &kt_key_recon_request,
    &kt_key_session_reload,
    &kt_key_alerts_seq,
    &kt_key_alerts_item,
    &kt_key_alerts_pending,
    &kt_key_alerts_group,
    &kt_key_alerts_windows,
    &kt_key_alerts_summary,
    &kt_key_alerts_sent,
    &kt_key_recon_last,
    &kt_key_strat_state,
    &kt_key_strat_seq,
    //  risk-gate (common/kt_risk.h)
    &kt_key_risk_state,
    &kt_key_risk_capital,
    &kt_key_risk_kill,
    &kt_key_risk_intent,
    &kt_key_risk_open,
    &kt_key_risk_ts_orders,
    &kt_key_risk_ts_modifies,
    &kt_key_risk_ts_entries,
    &kt_key_risk_ts_rejects,
    &kt_key_risk_marks,
    &kt_key_risk_px,
    &kt_key_risk_day,
};

const kt_schema_key_t *const *
kt_schema_all (int *n)
{
    *n = (int) (sizeof s_all / sizeof s_all[0]);
    return s_all;
}

struct kt_skey
kt_schema_key (const char *prefix, const kt_schema_key_t *k, const char *arg)
{
    //  Assembled by hand: a format built from the pattern would let a '%' in the prefix
    //  or the argument be interpreted.
    struct kt_skey key;
    const char *p = prefix ? prefix : "";
    const char *pct = strstr (k->pattern, "%s");
    size_t plen = strlen (p);
    size_t head = pct ? (size_t) (pct - k->pattern) : strlen (k->pattern);
    size_t alen = pct && arg ? strlen (arg) : 0;
    const char *tail = pct ? pct + 2 : "";
    size_t tlen = strlen (tail);
    if (plen + head + alen + tlen >= sizeof key.s) {
        fprintf (stderr, "kt_schema_key: %s%s with a %zu-char argument does not fit\n", p,
                 k->pattern, alen);
        abort ();
    }
    memcpy (key.s, p, plen);
    memcpy (key.s + plen, k->pattern, head);
    if (alen)
        memcpy (key.s + plen + head, arg, alen);
    memcpy (key.s + plen + head + alen, tail, tlen);
    key.len = plen + head + alen + tlen;
    key.s[key.len] = '\0';
    return key;
}

const kt_schema_field_t *
kt_schema_field (const kt_schema_key_t *k, const char *name)
{
    if (!k->fields)
        return NULL;
    for (const kt_schema_field_t *f = k->fields; f->name; f++)
        if (strcmp (f->name, name) == 0)
            return f;
    return NULL;
}

int
kt_schema_pairs (const kt_schema_key_t *k, const void *rec, struct kt_schema_pairs *out)
{
    if ((k->type != KT_SK_HASH && k->type != KT_SK_STREAM) || !k->fields)
        return -1;
    const char *base = rec;
    int n = 0;
    for (const kt_schema_field_t *f = k->fields; f->name; f++, n++) {
        if (n == KT_SCHEMA_FIELDS_MAX)
            return -1;
        const char *val = NULL;
        switch (f->type) {
            case KT_SF_STR:
                val = base + f->offset;
                break;
            case KT_SF_I64: {
                int64_t v;
                memcpy (&v, base + f->offset, sizeof v);
                snprintf (out->num[n], sizeof out->num[n], "%" PRId64, v);
                val = out->num[n];
                break;
            }
            case KT_SF_BOOL: {
                bool v;
                memcpy (&v, base + f->offset, sizeof v);
                val = v ? "1" : "0";
                break;
            }
            case KT_SF_ENUM: {
                int v;
                memcpy (&v, base + f->offset, sizeof v);
                //  NONE is stored as "" so a reader tells "not set" from a value.
                val = v ? f->enum_str (v) : "";
                break;
            }
        }
        out->argv[2 * n] = f->name;
        out->argvlen[2 * n] = strlen (f->name);
        out->argv[2 * n + 1] = val;
        out->argvlen[2 * n + 1] = strlen (val);
    }
    out->n = n;
    return n;
}

//  Parse a decimal int64 from len bytes: optional '-', digits only, no overflow.
static int
s_parse_i64 (const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (len == 1)
            return -1;
    }
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t) (s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t) INT64_MAX + 1)
            return -1;
        *out = v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v;
    } else {
        if (v > (uint64_t) INT64_MAX)
            return -1;
        *out = (int64_t) v;
    }
    return 0;
}

int
kt_schema_set (const kt_schema_key_t *k, void *rec, const char *name, size_t nlen, const char *val,
               size_t vlen, char *why, size_t whylen)
{
    if (!k->fields)
        return 1;
    const kt_schema_field_t *f = NULL;
    for (const kt_schema_field_t *c = k->fields; c->name; c++)
        if (strlen (c->name) == nlen && memcmp (c->name, name, nlen) == 0) {
            f = c;
            break;
        }
    if (!f)
        return 1;
    char *base = rec;
    switch (f->type) {
        case KT_SF_STR:
            if (vlen >= f->size || memchr (val, '\0', vlen)) {
                snprintf (why, whylen, "%s: string of %zu bytes does not fit %zu", f->name, vlen,
                          f->size);
                return -1;
            }
            memcpy (base + f->offset, val, vlen);
            base[f->offset + vlen] = '\0';
            return 0;
        case KT_SF_I64: {
            int64_t v;
            if (s_parse_i64 (val, vlen, &v) != 0) {
                snprintf (why, whylen, "%s: not a decimal integer: %.*s", f->name,
                          (int) (vlen > 32 ? 32 : vlen), val);
                return -1;
            }
            memcpy (base + f->offset, &v, sizeof v);
            return 0;
        }
        case KT_SF_BOOL: {
            bool v;
            if (vlen == 1 && (val[0] == '0' || val[0] == '1'))
                v = val[0] == '1';
            else {
                snprintf (why, whylen, "%s: not 1 or 0", f->name);
                return -1;
            }
            memcpy (base + f->offset, &v, sizeof v);
            return 0;
        }
        case KT_SF_ENUM: {
            char tmp[32];
            int v = 0;
            if (vlen > 0) {
                if (vlen >= sizeof tmp) {
                    snprintf (why, whylen, "%s: unknown name", f->name);
                    return -1;
                }
                memcpy (tmp, val, vlen);
                tmp[vlen] = '\0';
                v = f->enum_parse (tmp);
                if (v == 0) {
                    snprintf (why, whylen, "%s: unknown name %s", f->name, tmp);
                    return -1;
                }
            }
            memcpy (base + f->offset, &v, sizeof v);
            return 0;
        }
    }
    return 1;
}

static const char *
s_ktype (kt_schema_ktype_t t)
{
    static const char *const names[] = {"hash", "set", "list", "stream", "string", "zset"};
    return (unsigned) t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static const char *
s_ftype (kt_schema_ftype_t t)
{
    static const char *const names[] = {"string", "integer", "1/0", "name"};
    return (unsigned) t < sizeof names / sizeof names[0] ? names[t] : "?";
}

char *
kt_schema_markdown (void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    if (!f)
        return NULL;
    int n;
    const kt_schema_key_t *const *all = kt_schema_all (&n);
    fprintf (f, "| key | type | owner | lifetime | holds |\n|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++)
        fprintf (f, "| `%s` | %s | %s | %s | %s |\n", all[i]->doc_name, s_ktype (all[i]->type),
                 all[i]->owner, all[i]->life == KT_LIFE_DURABLE ? "durable" : "volatile",
                 all[i]->holds);
    for (int i = 0; i < n; i++) {
        if (!all[i]->fields)
            continue;
        fprintf (f, "\n### `%s`\n\n| field | value | meaning |\n|---|---|---|\n", all[i]->doc_name);
        for (const kt_schema_field_t *fd = all[i]->fields; fd->name; fd++)
            fprintf (f, "| `%s` | %s | %s |\n", fd->name, s_ftype (fd->type), fd->doc);
    }
    if (fclose (f) != 0) {
        free (buf);
        return NULL;
    }
    return buf;
}

int
kt_schema_send (kt_store_t *store, const kt_schema_key_t *k, const char *arg, const void *rec,
                kt_store_done_fn *done, void *done_arg)
{
    struct kt_schema_pairs pairs;
    if (kt_schema_pairs (k, rec, &pairs) < 0)
        return -1;
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), k, arg);
    const char *argv[2 + 2 * KT_SCHEMA_FIELDS_MAX];
    size_t argvlen[2 + 2 * KT_SCHEMA_FIELDS_MAX];
    argv[0] = "HSET";
    argvlen[0] = 4;
    argv[1] = key.s;
    argvlen[1] = key.len;
    for (int i = 0; i < 2 * pairs.n; i++) {
        argv[2 + i] = pairs.argv[i];
        argvlen[2 + i] = pairs.argvlen[i];
    }
    return kt_store_send (store, 2 + 2 * pairs.n, argv, argvlen, done, done_arg) < 0 ? -1 : 0;
}

int
kt_schema_read (kt_store_t *store, const kt_schema_key_t *k, const char *arg, void *rec, char *why,
                size_t whylen)
{
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), k, arg);
    const char *argv[] = {"HGETALL", key.s};
    kt_store_result_t r = kt_store_call (store, 2, argv, NULL);
    if (r.kind != KT_STORE_ARR) {
        snprintf (why, whylen, "%s: %s", k->doc_name, r.str ? r.str : "no answer");
        kt_store_result_free (&r);
        return -1;
    }
    int rc = r.elements > 0 ? 1 : 0;
    for (size_t i = 0; i + 1 < r.elements; i += 2) {
        kt_store_result_t f = kt_store_result_at (&r, i), v = kt_store_result_at (&r, i + 1);
        if (f.kind == KT_STORE_STR && v.kind == KT_STORE_STR)
            kt_schema_set (k, rec, f.str, f.len, v.str, v.len, why, whylen);
    }
    kt_store_result_free (&r);
    return rc;
}
