/*  kt_store - the Redis connection of a process (see kt_store.h).
 *
 *  Design: one blocking hiredis context with connect and command timeouts. Any
 *  transport failure (NULL reply or c->err) discards the context; nothing is ever
 *  patched up on a context that failed, because a late reply to a timed-out command
 *  would otherwise be read as the answer to the next one. Until the back-off delay
 *  passes the store refuses commands without touching the network, so a dead Redis
 *  costs each caller one bounded wait per delay, not one per command. The back-off
 *  table is data (s_backoff_default); the first reconnect attempt after the delay is
 *  made by whichever command comes next. Scripts are identified by the SHA that
 *  SCRIPT LOAD returned on the current connection; a new connection reloads them. */

#include "kt_store.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_SCRIPTS_MAX 32
#define S_ARGV_STACK 64
#define S_HB_FIELDS_MAX 64

//  Reconnect delays after consecutive failures, in ms; the last entry repeats.
static const int s_backoff_default[] = {1000, 2000, 4000, 8000};
#define S_BACKOFF_DEFAULT_N ((int)(sizeof s_backoff_default / sizeof s_backoff_default[0]))

typedef struct {
    char name[32];
    char *lua;    //  owned
    char sha[41]; //  "" until loaded on the current connection
} s_script_t;

struct kt_store {
    char host[256];
    int port;
    char prefix[128];
    int timeout_ms;
    redisContext *ctx; //  owned; NULL while down
    char errstr[128];
    int64_t retry_at_ns; //  monotonic; commands refused before this
    int failures;        //  consecutive failed connects/commands (back-off index)
    bool connected_once;
    int64_t reconnects;
    int backoff[KT_STORE_BACKOFF_MAX];
    int backoff_n;
    s_script_t scripts[S_SCRIPTS_MAX];
    int nscripts;
};

static int64_t
s_mono_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
s_seterr (kt_store_t *self, const char *what, const char *detail)
{
    snprintf (self->errstr, sizeof self->errstr, "%s: %s", what, detail);
}

//  The connection failed: discard it and refuse commands until the next delay passes.
static void
s_down (kt_store_t *self, const char *what, const char *detail)
{
    s_seterr (self, what, detail && *detail ? detail : "connection lost");
    if (self->ctx) {
        redisFree (self->ctx);
        self->ctx = NULL;
    }
    int i = self->failures < self->backoff_n ? self->failures : self->backoff_n - 1;
    self->retry_at_ns = s_mono_ns () + (int64_t)self->backoff[i] * 1000000LL;
    self->failures++;
    for (int s = 0; s < self->nscripts; s++)
        self->scripts[s].sha[0] = 0;
}

//  A reply came back: was it a transport failure? Frees reply and marks the store
//  down if so.
static bool
s_transport_failed (kt_store_t *self, redisReply *reply, const char *what)
{
    if (reply && self->ctx && !self->ctx->err)
        return false;
    if (reply)
        freeReplyObject (reply);
    s_down (self, what, self->ctx ? self->ctx->errstr : NULL);
    return true;
}

//  SCRIPT LOAD one script on the current connection. Returns 0; -1 with the store
//  down (transport) or with errstr set and the store up (Redis refused the script).
static int
s_script_load (kt_store_t *self, s_script_t *script)
{
    const char *argv[] = {"SCRIPT", "LOAD", script->lua};
    redisReply *r = redisCommandArgv (self->ctx, 3, argv, NULL);
    if (s_transport_failed (self, r, "script load"))
        return -1;
    int rc = -1;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy (script->sha, r->str, 41);
        rc = 0;
    } else {
        snprintf (self->errstr, sizeof self->errstr, "script load %s: %s", script->name,
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    }
    freeReplyObject (r);
    return rc;
}

//  Open a context, check Redis answers, load the scripts. Returns 0 or -1 (down).
static int
s_connect (kt_store_t *self)
{
    if (self->ctx) {
        redisFree (self->ctx);
        self->ctx = NULL;
    }
    struct timeval tv = {.tv_sec = self->timeout_ms / 1000,
                         .tv_usec = (self->timeout_ms % 1000) * 1000};
    self->ctx = redisConnectWithTimeout (self->host, self->port, tv);
    if (!self->ctx) {
        s_down (self, "connect", "out of memory");
        return -1;
    }
    if (self->ctx->err) {
        s_down (self, "connect", self->ctx->errstr);
        return -1;
    }
    if (redisSetTimeout (self->ctx, tv) != REDIS_OK) {
        s_down (self, "connect", "cannot set timeout");
        return -1;
    }
    redisEnableKeepAlive (self->ctx);

    //  A listening socket is not a working Redis (LOADING, NOAUTH, a wrong service).
    redisReply *r = redisCommand (self->ctx, "PING");
    if (s_transport_failed (self, r, "connect"))
        return -1;
    bool pong = r->type == REDIS_REPLY_STATUS && strcmp (r->str, "PONG") == 0;
    char detail[96];
    snprintf (detail, sizeof detail, "PING answered %s",
              r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS ? r->str : "?");
    freeReplyObject (r);
    if (!pong) {
        s_down (self, "connect", detail);
        return -1;
    }
    for (int i = 0; i < self->nscripts; i++) {
        if (s_script_load (self, &self->scripts[i]) != 0) {
            //  A script Redis refuses is our bug, but the store must not half-work.
            char why[128];
            snprintf (why, sizeof why, "%s", self->errstr);
            if (self->ctx)
                s_down (self, "connect", why);
            return -1;
        }
    }
    if (self->connected_once)
        self->reconnects++;
    self->connected_once = true;
    self->failures = 0;
    self->errstr[0] = 0;
    return 0;
}

//  Make sure a context exists: reconnect when the back-off allows. False = refused.
static bool
s_ready (kt_store_t *self)
{
    if (self->ctx)
        return true;
    if (s_mono_ns () < self->retry_at_ns)
        return false; //  errstr still says why Redis is down
    return s_connect (self) == 0;
}

kt_store_t *
kt_store_new (const char *host, int port, const char *prefix, int timeout_ms)
{
    if (!host || !*host)
        host = "127.0.0.1";
    if (!prefix)
        prefix = "";
    if (strlen (host) >= sizeof ((kt_store_t *)0)->host ||
        strlen (prefix) >= sizeof ((kt_store_t *)0)->prefix)
        return NULL;
    kt_store_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    snprintf (self->host, sizeof self->host, "%s", host);
    snprintf (self->prefix, sizeof self->prefix, "%s", prefix);
    self->port = port;
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    memcpy (self->backoff, s_backoff_default, sizeof s_backoff_default);
    self->backoff_n = S_BACKOFF_DEFAULT_N;
    snprintf (self->errstr, sizeof self->errstr, "not connected");
    //  hiredis writes with write(2): a peer that closed must not kill the process.
    struct sigaction sa;
    if (sigaction (SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal (SIGPIPE, SIG_IGN);
    return self;
}

void
kt_store_destroy (kt_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_store_t *self = *self_p;
    if (self->ctx)
        redisFree (self->ctx);
    for (int i = 0; i < self->nscripts; i++)
        free (self->scripts[i].lua);
    free (self);
    *self_p = NULL;
}

int
kt_store_connect (kt_store_t *self)
{
    return s_connect (self);
}

bool
kt_store_is_ready (kt_store_t *self)
{
    return self->ctx != NULL;
}

const char *
kt_store_errstr (const kt_store_t *self)
{
    return self->errstr;
}

int64_t
kt_store_reconnects (const kt_store_t *self)
{
    return self->reconnects;
}

const char *
kt_store_prefix (const kt_store_t *self)
{
    return self->prefix;
}

int
kt_store_set_backoff (kt_store_t *self, const int *delays_ms, int n)
{
    if (!delays_ms || n < 1 || n > KT_STORE_BACKOFF_MAX)
        return -1;
    for (int i = 0; i < n; i++)
        if (delays_ms[i] < 0)
            return -1;
    memcpy (self->backoff, delays_ms, (size_t)n * sizeof *delays_ms);
    self->backoff_n = n;
    return 0;
}

int64_t
kt_store_retry_in_ms (const kt_store_t *self)
{
    if (self->ctx)
        return 0;
    int64_t left = self->retry_at_ns - s_mono_ns ();
    return left > 0 ? (left + 999999) / 1000000 : 0;
}

char *
kt_store_key (const kt_store_t *self, char *buf, size_t buflen, const char *fmt, ...)
{
    int n = snprintf (buf, buflen, "%s", self->prefix);
    if (n < 0 || (size_t)n >= buflen)
        return NULL;
    va_list ap;
    va_start (ap, fmt);
    int m = vsnprintf (buf + n, buflen - (size_t)n, fmt, ap);
    va_end (ap);
    if (m < 0 || (size_t)m >= buflen - (size_t)n)
        return NULL;
    return buf;
}

redisReply *
kt_store_cmd (kt_store_t *self, const char *fmt, ...)
{
    if (!s_ready (self))
        return NULL;
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (self->ctx, fmt, ap);
    va_end (ap);
    if (s_transport_failed (self, r, "command"))
        return NULL;
    return r;
}

redisReply *
kt_store_cmdargv (kt_store_t *self, int argc, const char **argv, const size_t *argvlen)
{
    if (!s_ready (self))
        return NULL;
    redisReply *r = redisCommandArgv (self->ctx, argc, argv, argvlen);
    if (s_transport_failed (self, r, "command"))
        return NULL;
    return r;
}

int
kt_store_script (kt_store_t *self, const char *name, const char *lua)
{
    if (!lua)
        return -1;
    //  The same script registered again (e.g. by a second user of this store) keeps its id.
    for (int i = 0; i < self->nscripts; i++)
        if (name && strcmp (self->scripts[i].name, name) == 0
            && strcmp (self->scripts[i].lua, lua) == 0)
            return i;
    if (self->nscripts == S_SCRIPTS_MAX)
        return -1;
    s_script_t *script = &self->scripts[self->nscripts];
    snprintf (script->name, sizeof script->name, "%s", name ? name : "");
    script->lua = strdup (lua);
    if (!script->lua)
        abort ();
    script->sha[0] = 0; //  loaded by the next connect or the first eval
    return self->nscripts++;
}

static bool
s_is_noscript (const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0;
}

redisReply *
kt_store_eval (kt_store_t *self, int script_id, int nkeys, const char **keys, int nargs,
               const char **args)
{
    if (script_id < 0 || script_id >= self->nscripts || nkeys < 0 || nargs < 0) {
        snprintf (self->errstr, sizeof self->errstr, "eval: bad script id or counts");
        return NULL;
    }
    if (!s_ready (self))
        return NULL;
    s_script_t *script = &self->scripts[script_id];
    if (!script->sha[0] && s_script_load (self, script) != 0)
        return NULL;

    int argc = 3 + nkeys + nargs;
    const char *stack[S_ARGV_STACK];
    const char **argv = argc <= S_ARGV_STACK ? stack : malloc ((size_t)argc * sizeof *argv);
    if (!argv)
        abort ();
    char nk[16];
    snprintf (nk, sizeof nk, "%d", nkeys);
    argv[0] = "EVALSHA";
    argv[1] = script->sha;
    argv[2] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[3 + i] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[3 + nkeys + i] = args[i];

    redisReply *r = redisCommandArgv (self->ctx, argc, argv, NULL);
    if (!s_transport_failed (self, r, "eval") && s_is_noscript (r)) {
        //  Redis lost its script cache (restart, SCRIPT FLUSH, failover): load, retry once.
        freeReplyObject (r);
        r = NULL;
        if (s_script_load (self, script) == 0) {
            r = redisCommandArgv (self->ctx, argc, argv, NULL);
            if (s_transport_failed (self, r, "eval"))
                r = NULL;
        }
    } else if (!self->ctx)
        r = NULL;
    if (argv != stack)
        free (argv);
    return r;
}

//  The text of one kv value: strings as they are, numbers in decimal.
static const char *
s_kv_text (const kt_kv_t *kv, char *buf, size_t buflen)
{
    switch (kv->type) {
        case KT_KV_STR:
            return kv->s ? kv->s : "";
        case KT_KV_INT:
            snprintf (buf, buflen, "%lld", (long long)kv->i);
            return buf;
        case KT_KV_BOOL:
            return kv->b ? "1" : "0";
        case KT_KV_DBL:
            snprintf (buf, buflen, "%.17g", kv->d);
            return buf;
        default:
            return "";
    }
}

int
kt_store_heartbeat (kt_store_t *self, const char *proc, int64_t started_ns, int64_t now_ns,
                    int ttl_s, const kt_kv_t *counters)
{
    char key[256];
    if (!kt_store_key (self, key, sizeof key, "health:%s", proc)) {
        snprintf (self->errstr, sizeof self->errstr, "heartbeat: key too long");
        return -1;
    }
    char num[3 + S_HB_FIELDS_MAX][32];
    const char *argv[2 + 2 * (3 + S_HB_FIELDS_MAX)];
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = key;
    snprintf (num[0], sizeof num[0], "%d", (int)getpid ());
    snprintf (num[1], sizeof num[1], "%lld", (long long)started_ns);
    snprintf (num[2], sizeof num[2], "%lld", (long long)now_ns);
    argv[argc++] = "pid";
    argv[argc++] = num[0];
    argv[argc++] = "started";
    argv[argc++] = num[1];
    argv[argc++] = "beat";
    argv[argc++] = num[2];
    for (int i = 0; counters && counters[i].key; i++) {
        if (i == S_HB_FIELDS_MAX) {
            snprintf (self->errstr, sizeof self->errstr, "heartbeat: more than %d counters",
                      S_HB_FIELDS_MAX);
            return -1;
        }
        argv[argc++] = counters[i].key;
        argv[argc++] = s_kv_text (&counters[i], num[3 + i], sizeof num[3 + i]);
    }
    char ttl[16];
    snprintf (ttl, sizeof ttl, "%d", ttl_s > 0 ? ttl_s : 1);
    const char *expire[] = {"EXPIRE", key, ttl};

    if (!s_ready (self))
        return -1;
    //  One round trip: MULTI, HSET, EXPIRE, EXEC pipelined, so the hash never lives
    //  without its TTL (a dead process must not look alive forever).
    redisAppendCommand (self->ctx, "MULTI");
    redisAppendCommandArgv (self->ctx, argc, argv, NULL);
    redisAppendCommandArgv (self->ctx, 3, expire, NULL);
    redisAppendCommand (self->ctx, "EXEC");
    redisReply *replies[4] = {NULL};
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        if (redisGetReply (self->ctx, &r) != REDIS_OK || !r || self->ctx->err) {
            if (r)
                freeReplyObject (r);
            for (int j = 0; j < i; j++)
                freeReplyObject (replies[j]);
            s_down (self, "heartbeat", self->ctx->errstr);
            return -1;
        }
        replies[i] = r;
    }
    redisReply *exec = replies[3];
    int rc = 0;
    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != 2 ||
        exec->element[0]->type == REDIS_REPLY_ERROR ||
        exec->element[1]->type == REDIS_REPLY_ERROR) {
        const char *why = exec->type == REDIS_REPLY_ERROR ? exec->str : "transaction failed";
        if (exec->type == REDIS_REPLY_ARRAY && exec->elements == 2)
            why = exec->element[0]->type == REDIS_REPLY_ERROR ? exec->element[0]->str
                                                              : exec->element[1]->str;
        s_seterr (self, "heartbeat", why);
        rc = -1;
    }
    for (int i = 0; i < 4; i++)
        freeReplyObject (replies[i]);
    return rc;
}

int
kt_store_event (kt_store_t *self, const kt_kv_t *fields)
{
    char key[256];
    if (!kt_store_key (self, key, sizeof key, "events")) {
        snprintf (self->errstr, sizeof self->errstr, "event: key too long");
        return -1;
    }
    int n = 0;
    while (fields && fields[n].key)
        n++;
    if (n == 0) {
        snprintf (self->errstr, sizeof self->errstr, "event: no fields");
        return -1;
    }
    if (n > S_HB_FIELDS_MAX) {
        snprintf (self->errstr, sizeof self->errstr, "event: more than %d fields", S_HB_FIELDS_MAX);
        return -1;
    }
    char num[S_HB_FIELDS_MAX][32];
    const char *argv[6 + 2 * S_HB_FIELDS_MAX];
    int argc = 0;
    argv[argc++] = "XADD";
    argv[argc++] = key;
    argv[argc++] = "MAXLEN";
    argv[argc++] = "~";
    argv[argc++] = "100000";
    argv[argc++] = "*";
    for (int i = 0; i < n; i++) {
        argv[argc++] = fields[i].key;
        argv[argc++] = s_kv_text (&fields[i], num[i], sizeof num[i]);
    }
    redisReply *r = kt_store_cmdargv (self, argc, argv, NULL);
    if (!r)
        return -1;
    int rc = 0;
    if (r->type != REDIS_REPLY_STRING) {
        s_seterr (self, "event", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        rc = -1;
    }
    freeReplyObject (r);
    return rc;
}
