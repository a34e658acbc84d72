/*  kt_store - the Redis connection of a process (see kt_store.h).
 *
 *  Two connections. The synchronous one (a blocking hiredis context) serves the calls a
 *  caller waits for. Any transport failure discards it; nothing is patched up on a
 *  context that failed, because a late reply to a timed-out command would otherwise be
 *  read as the answer to the next one. Every call has one deadline (the timeout) that
 *  a reconnect shares, and after a failure calls are refused without I/O until the
 *  back-off delay passes, or until the async connection hears Redis again.
 *
 *  The async connection (hiredis async API on kt_loop: the adapter below maps hiredis's
 *  addRead/delRead/addWrite/delWrite/cleanup to kt_loop_fd_events/kt_loop_fd_end) owns
 *  the write queue: a ring of formatted commands. Entries [head, head + inflight) have
 *  been handed to hiredis on the current connection, the rest wait. Redis answers in
 *  order, so an answer always belongs to the head. A lost connection puts every
 *  in-flight entry back to waiting; the next connection loads the scripts and re-sends
 *  the queue in order. Deadlines (connect, a stalled connection, the next reconnect)
 *  are checked by a before-sleep hook on wall time, and a wait cap wakes the loop for
 *  them. A stalled Redis is given a generous deadline (nothing waits on writes, and a
 *  dropped connection would make Redis apply the buffered commands twice); only a
 *  dead peer is dropped. */

#include "kt_store.h"
#include "kt_clock.h"
#include "kt_loop.h"
#include "kt_schema.h"

#include <errno.h>
#include <hiredis/async.h>
#include <poll.h>
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
#define S_PARTS_MAX 4
#define S_NS_PER_MS 1000000LL

//  Sync reconnect delays after consecutive failures, in ms; the last entry repeats.
static const int s_backoff_default[] = {50, 100, 200, 400, 800, 1000};
#define S_BACKOFF_DEFAULT_N ((int) (sizeof s_backoff_default / sizeof s_backoff_default[0]))

//  Async reconnect: at once after losing a working connection, then doubling from
//  S_ASYNC_RETRY_MIN_MS while connects fail, capped at S_ASYNC_RETRY_MAX_MS, so a Redis
//  that answers again is used within 100 ms. A refused connect costs microseconds and
//  never blocks (a connect in progress is bounded by the timeout), so the cap is low.
#define S_ASYNC_RETRY_MIN_MS 20
#define S_ASYNC_RETRY_MAX_MS 100
//  A connection with writes in flight and no answer for this long is dead. Far above the
//  command timeout: a slow Redis (a long script, a fork, DEBUG SLEEP) still answers, and
//  a dropped connection would make it apply the buffered writes twice.
#define S_ASYNC_STALL_MIN_MS 5000

typedef struct {
    char name[32];
    char *lua;    //  owned
    char sha[41]; //  "" until Redis named it (the SHA of the text: valid on any connection)
} s_script_t;

//  One queued write: 1..S_PARTS_MAX commands sent back to back (MULTI .. EXEC); its
//  answer is the last part's.
typedef struct {
    char *cmd; //  owned: the formatted commands, concatenated
    size_t part_len[S_PARTS_MAX];
    int parts;
    int left; //  answers still expected on the current connection
    bool sent_before;
    kt_store_done_fn *fn;
    void *arg; //  borrowed
} s_write_t;

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
    int64_t deadline_ns; //  of the synchronous call in progress; 0 = none

    //  The async connection and the write queue.
    kt_loop_t *loop;       //  borrowed; NULL until attached
    redisAsyncContext *ac; //  owned by hiredis; NULL while down
    bool ac_up;            //  connected (not just connecting)
    bool ac_was_up;        //  ever connected
    int ac_fd;
    short ac_events;     //  poll.h bits hiredis wants
    int ac_failures;     //  connects failed in a row
    int64_t ac_retry_at; //  next connect attempt (monotonic ns) while down
    int64_t ac_started;  //  connect started (monotonic ns)
    int64_t ac_progress; //  last answer, or the send that found nothing in flight
    bool destroying;
    s_write_t *q; //  owned ring
    int64_t q_cap, q_head, q_count, inflight, q_max;
    kt_store_stats_t stats;
    int64_t drop_logged_at;
    int64_t refused_logged_at;
};

static int64_t
s_mono_ns (void)
{
    return kt_clock_wall_mono_ns ();
}

static void
s_seterr (kt_store_t *self, const char *what, const char *detail)
{
    snprintf (self->errstr, sizeof self->errstr, "%s: %s", what, detail);
}

// ---- typed results -------------------------------------------------------------------

static kt_store_result_t
s_result (const redisReply *r)
{
    kt_store_result_t res = {.kind = KT_STORE_NIL, .str = "", .node_ = r};
    if (!r)
        return res;
    switch (r->type) {
        case REDIS_REPLY_INTEGER:
            res.kind = KT_STORE_INT;
            res.integer = r->integer;
            break;
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
            res.kind = KT_STORE_STR;
            res.str = r->str ? r->str : "";
            res.len = r->len;
            break;
        case REDIS_REPLY_ERROR:
            res.kind = KT_STORE_ERR;
            res.str = r->str ? r->str : "";
            res.len = r->len;
            break;
        case REDIS_REPLY_ARRAY:
            res.kind = KT_STORE_ARR;
            res.elements = r->elements;
            break;
        default:
            break;
    }
    return res;
}

static kt_store_result_t
s_result_down (const char *why)
{
    return (kt_store_result_t){.kind = KT_STORE_DOWN, .str = why, .len = strlen (why)};
}

kt_store_result_t
kt_store_result_at (const kt_store_result_t *result, size_t i)
{
    const redisReply *r = result->node_;
    if (result->kind != KT_STORE_ARR || !r || i >= r->elements)
        return s_result (NULL);
    return s_result (r->element[i]);
}

int
kt_store_result_i64 (const kt_store_result_t *result, int64_t *out)
{
    if (result->kind == KT_STORE_INT) {
        *out = result->integer;
        return 0;
    }
    if (result->kind != KT_STORE_STR || result->len == 0 || result->len > 20)
        return -1;
    char buf[24], *end;
    memcpy (buf, result->str, result->len);
    buf[result->len] = 0;
    errno = 0;
    long long v = strtoll (buf, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

bool
kt_store_result_is (const kt_store_result_t *result, const char *text)
{
    return result->kind == KT_STORE_STR && result->len == strlen (text) &&
           memcmp (result->str, text, result->len) == 0;
}

void
kt_store_result_free (kt_store_result_t *result)
{
    if (result && result->owned_) {
        freeReplyObject (result->owned_);
        *result = s_result_down ("freed");
    }
}

static kt_store_result_t
s_owned (redisReply *r, const kt_store_t *self)
{
    if (!r)
        return s_result_down (self->errstr[0] ? self->errstr : "Redis unavailable");
    kt_store_result_t res = s_result (r);
    res.owned_ = r;
    return res;
}

// ---- the wire format -----------------------------------------------------------------

//  "<tag><n>\r\n" at p; returns its length.
static size_t
s_put_head (char *p, char tag, size_t n)
{
    char d[24];
    int k = 0;
    do
        d[k++] = (char) ('0' + n % 10);
    while ((n /= 10) != 0);
    size_t len = 0;
    p[len++] = tag;
    while (k > 0)
        p[len++] = d[--k];
    p[len++] = '\r';
    p[len++] = '\n';
    return len;
}

//  A command in RESP (malloc'd, NUL-terminated like hiredis's own, *len without the NUL),
//  framed by hand: hiredis's formatter prints every length with sprintf, which for
//  risk-gate's ~70-argument commit measured ~3 us a call (docs/decisions.md).
static void
s_format_argv (char **cmd, size_t *len, int argc, const char **argv, const size_t *argvlen)
{
    size_t total = 24;
    for (int i = 0; i < argc; i++)
        total += 26 + (argvlen ? argvlen[i] : strlen (argv[i]));
    char *p = malloc (total + 1);
    if (!p)
        abort ();
    size_t n = s_put_head (p, '*', (size_t) argc);
    for (int i = 0; i < argc; i++) {
        size_t l = argvlen ? argvlen[i] : strlen (argv[i]);
        n += s_put_head (p + n, '$', l);
        memcpy (p + n, argv[i], l);
        n += l;
        p[n++] = '\r';
        p[n++] = '\n';
    }
    p[n] = '\0';
    *cmd = p;
    *len = n;
}

//  One command on the synchronous connection (redisCommandArgv with the framing above).
//  NULL when the transport failed (ctx->err says why).
static redisReply *
s_command_argv (redisContext *ctx, int argc, const char **argv, const size_t *argvlen)
{
    char *cmd;
    size_t len;
    s_format_argv (&cmd, &len, argc, argv, argvlen);
    int rc = redisAppendFormattedCommand (ctx, cmd, len);
    free (cmd);
    void *out = NULL;
    if (rc != REDIS_OK || redisGetReply (ctx, &out) != REDIS_OK)
        return NULL;
    return out;
}

// ---- the synchronous connection ------------------------------------------------------

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
    self->retry_at_ns = s_mono_ns () + (int64_t) self->backoff[i] * S_NS_PER_MS;
    self->failures++;
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

//  The time left for this call's next round trip: the rest of the call's deadline (one
//  timeout for the whole call, a reconnect included), or a full timeout when the call
//  has none (the explicit start-up connect). 0 = the deadline passed.
static int64_t
s_left_ms (kt_store_t *self)
{
    if (!self->deadline_ns)
        return self->timeout_ms;
    int64_t left = (self->deadline_ns - s_mono_ns ()) / S_NS_PER_MS;
    return left > 0 ? left : 0;
}

static struct timeval
s_tv (int64_t ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

//  Arm the socket timeout with the time left. False (store down) when none is left.
static bool
s_arm (kt_store_t *self)
{
    int64_t left = s_left_ms (self);
    if (left <= 0) {
        s_down (self, "command", "timed out");
        return false;
    }
    if (redisSetTimeout (self->ctx, s_tv (left)) != REDIS_OK) {
        s_down (self, "command", "cannot set timeout");
        return false;
    }
    return true;
}

//  SCRIPT LOAD one script on the current connection. Returns 0; -1 with the store
//  down (transport) or with errstr set and the store up (Redis refused the script).
static int
s_script_load (kt_store_t *self, s_script_t *script)
{
    if (!s_arm (self))
        return -1;
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

static void
s_connected (kt_store_t *self)
{
    if (self->connected_once)
        self->reconnects++;
    self->connected_once = true;
    self->failures = 0;
    self->errstr[0] = 0;
}

//  Open a context within the time left. Returns 0 or -1 (down).
static int
s_open (kt_store_t *self)
{
    if (self->ctx) {
        redisFree (self->ctx);
        self->ctx = NULL;
    }
    int64_t left = s_left_ms (self);
    if (left <= 0) {
        s_down (self, "connect", "timed out");
        return -1;
    }
    self->ctx = redisConnectWithTimeout (self->host, self->port, s_tv (left));
    if (!self->ctx) {
        s_down (self, "connect", "out of memory");
        return -1;
    }
    if (self->ctx->err) {
        s_down (self, "connect", self->ctx->errstr);
        return -1;
    }
    redisEnableKeepAlive (self->ctx);
    return 0;
}

//  The explicit connect: open, check Redis answers PING, load the scripts.
static int
s_connect (kt_store_t *self)
{
    if (s_open (self) != 0 || !s_arm (self))
        return -1;
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
    s_connected (self);
    return 0;
}

//  Start a synchronous call: one deadline for all of it.
static void
s_begin (kt_store_t *self)
{
    self->deadline_ns = s_mono_ns () + (int64_t) self->timeout_ms * S_NS_PER_MS;
}

//  Make sure a context exists (reconnect when the back-off allows: connect only, the
//  scripts load lazily) and arm its timeout. False = refused or failed.
static bool
s_ready (kt_store_t *self)
{
    if (!self->ctx) {
        if (s_mono_ns () < self->retry_at_ns)
            return false; //  errstr still says why Redis is down
        if (s_open (self) != 0)
            return false;
        s_connected (self);
    }
    return s_arm (self);
}

// ---- life cycle ----------------------------------------------------------------------

static void s_async_detach (kt_store_t *self);

kt_store_t *
kt_store_new (const char *host, int port, const char *prefix, int timeout_ms)
{
    if (!host || !*host)
        host = "127.0.0.1";
    if (!prefix)
        prefix = "";
    if (strlen (host) >= sizeof ((kt_store_t *) 0)->host ||
        strlen (prefix) >= sizeof ((kt_store_t *) 0)->prefix)
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
    self->q_max = KT_STORE_QUEUE_MAX_DEFAULT;
    self->ac_fd = -1;
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
    s_async_detach (self);
    if (self->ctx)
        redisFree (self->ctx);
    for (int i = 0; i < self->nscripts; i++)
        free (self->scripts[i].lua);
    free (self->q);
    free (self);
    *self_p = NULL;
}

int
kt_store_connect (kt_store_t *self)
{
    self->deadline_ns = 0; //  start-up: a full timeout per round trip
    return s_connect (self);
}

bool
kt_store_is_ready (kt_store_t *self)
{
    return self->loop ? self->ac_up : self->ctx != NULL;
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
    memcpy (self->backoff, delays_ms, (size_t) n * sizeof *delays_ms);
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

// ---- keys ----------------------------------------------------------------------------

kt_key_t
kt_store_keyv (const kt_store_t *self, const char *fmt, ...)
{
    kt_key_t key;
    int n = snprintf (key.s, sizeof key.s, "%s", self->prefix);
    va_list ap;
    va_start (ap, fmt);
    int m = vsnprintf (key.s + n, sizeof key.s - (size_t) n, fmt, ap);
    va_end (ap);
    if (m < 0 || (size_t) m >= sizeof key.s - (size_t) n) {
        //  Unreachable with a prefix < 128 and a key part < 128: a caller built an
        //  unbounded key, which is a bug to fix, not a state to run on.
        fprintf (stderr, "kt_store_keyv: key longer than %zu: %s%s...\n", sizeof key.s - 1,
                 self->prefix, fmt);
        abort ();
    }
    return key;
}

// ---- synchronous commands ------------------------------------------------------------

static redisReply *
s_cmdargv (kt_store_t *self, int argc, const char **argv, const size_t *argvlen)
{
    s_begin (self);
    if (!s_ready (self))
        return NULL;
    redisReply *r = s_command_argv (self->ctx, argc, argv, argvlen);
    if (s_transport_failed (self, r, "command"))
        return NULL;
    return r;
}

kt_store_result_t
kt_store_call (kt_store_t *self, int argc, const char **argv, const size_t *argvlen)
{
    return s_owned (s_cmdargv (self, argc, argv, argvlen), self);
}

kt_store_result_t
kt_store_callf (kt_store_t *self, const char *fmt, ...)
{
    s_begin (self);
    if (!s_ready (self))
        return s_owned (NULL, self);
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (self->ctx, fmt, ap);
    va_end (ap);
    if (s_transport_failed (self, r, "command"))
        r = NULL;
    return s_owned (r, self);
}

int
kt_store_hget_i64 (kt_store_t *self, const char *key, const char *field, int64_t *out)
{
    const char *argv[] = {"HGET", key, field};
    kt_store_result_t r = kt_store_call (self, 3, argv, NULL);
    int rc = r.kind == KT_STORE_DOWN ? -1 : kt_store_result_i64 (&r, out) == 0 ? 0 : 1;
    kt_store_result_free (&r);
    return rc;
}

// ---- scripts -------------------------------------------------------------------------

int
kt_store_script (kt_store_t *self, const char *name, const char *lua)
{
    if (!lua)
        return -1;
    //  The same script registered again (e.g. by a second user of this store) keeps its id.
    for (int i = 0; i < self->nscripts; i++)
        if (name && strcmp (self->scripts[i].name, name) == 0 &&
            strcmp (self->scripts[i].lua, lua) == 0)
            return i;
    if (self->nscripts == S_SCRIPTS_MAX)
        return -1;
    s_script_t *script = &self->scripts[self->nscripts];
    snprintf (script->name, sizeof script->name, "%s", name ? name : "");
    script->lua = strdup (lua);
    if (!script->lua)
        abort ();
    script->sha[0] = 0; //  named by the next load (connect, async connect or first eval)
    return self->nscripts++;
}

static bool
s_is_noscript (const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0;
}

static redisReply *
s_eval (kt_store_t *self, int script_id, int nkeys, const char **keys, int nargs, const char **args)
{
    if (script_id < 0 || script_id >= self->nscripts || nkeys < 0 || nargs < 0) {
        snprintf (self->errstr, sizeof self->errstr, "eval: bad script id or counts");
        return NULL;
    }
    s_begin (self);
    if (!s_ready (self))
        return NULL;
    s_script_t *script = &self->scripts[script_id];
    if (!script->sha[0] && s_script_load (self, script) != 0)
        return NULL;

    int argc = 3 + nkeys + nargs;
    const char *stack[S_ARGV_STACK];
    const char **argv = argc <= S_ARGV_STACK ? stack : malloc ((size_t) argc * sizeof *argv);
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

    redisReply *r = s_command_argv (self->ctx, argc, argv, NULL);
    if (!s_transport_failed (self, r, "eval") && s_is_noscript (r)) {
        //  Redis lost its script cache (restart, SCRIPT FLUSH, failover): load, retry
        //  once, within what is left of this call's timeout.
        freeReplyObject (r);
        r = NULL;
        if (s_script_load (self, script) == 0 && s_arm (self)) {
            r = s_command_argv (self->ctx, argc, argv, NULL);
            if (s_transport_failed (self, r, "eval"))
                r = NULL;
        }
    } else if (!self->ctx)
        r = NULL;
    if (argv != stack)
        free (argv);
    return r;
}

kt_store_result_t
kt_store_eval_call (kt_store_t *self, int script_id, int nkeys, const char **keys, int nargs,
                    const char **args)
{
    return s_owned (s_eval (self, script_id, nkeys, keys, nargs, args), self);
}

// ---- the write queue -----------------------------------------------------------------

static s_write_t *
s_at (kt_store_t *self, int64_t i)
{
    return &self->q[(self->q_head + i) % self->q_cap];
}

static void s_pump (kt_store_t *self);

//  Append a formatted write (parts concatenated in cmd, owned from here). Returns 0, or
//  -1 when the queue is full (cmd freed, counted, logged).
static int
s_enqueue (kt_store_t *self, char *cmd, const size_t *part_len, int parts, kt_store_done_fn *fn,
           void *arg)
{
    if (self->q_count >= self->q_max) {
        free (cmd);
        self->stats.dropped++;
        snprintf (self->errstr, sizeof self->errstr, "write queue full (%lld): write dropped",
                  (long long) self->q_max);
        //  Rate-limited per store: a Redis down for long drops a write per beat.
        if (KT_LOG_ERROR >= kt_log_threshold)
            kt_log_emit_every (KT_LOG_ERROR, "store.drop", 10, &self->drop_logged_at,
                               (const kt_kv_t[]){KT_I ("dropped", self->stats.dropped),
                                                 KT_I ("queued", self->q_count),
                                                 KT_S ("why", "write queue full"), KT_END});
        return -1;
    }
    if (self->q_count == self->q_cap) {
        //  Grow the ring, unrolling it so head is 0 again.
        int64_t cap = self->q_cap ? self->q_cap * 2 : 64;
        s_write_t *q = malloc ((size_t) cap * sizeof *q);
        if (!q)
            abort ();
        for (int64_t i = 0; i < self->q_count; i++)
            q[i] = *s_at (self, i);
        free (self->q);
        self->q = q;
        self->q_cap = cap;
        self->q_head = 0;
    }
    s_write_t *w = s_at (self, self->q_count);
    memset (w, 0, sizeof *w);
    w->cmd = cmd;
    memcpy (w->part_len, part_len, (size_t) parts * sizeof *part_len);
    w->parts = parts;
    w->fn = fn;
    w->arg = arg;
    self->q_count++;
    self->stats.queued = self->q_count;
    s_pump (self);
    return 0;
}

//  The head write is answered (or abandoned): call back, free, pop.
static void
s_complete (kt_store_t *self, const kt_store_result_t *res)
{
    s_write_t w = *s_at (self, 0);
    self->q_head = (self->q_head + 1) % self->q_cap;
    self->q_count--;
    self->stats.queued = self->q_count;
    free (w.cmd);
    if (w.fn)
        w.fn (res, w.arg);
}

//  A write Redis refused (an error reply, or an error inside EXEC) is our bug or a key
//  of the wrong type: never silent. Counted, and logged (rate-limited) when no callback
//  is there to see it.
static void
s_check_refused (kt_store_t *self, const s_write_t *w, const kt_store_result_t *res)
{
    kt_store_result_t err = *res;
    for (size_t i = 0; err.kind == KT_STORE_ARR && w->parts > 1 && i < res->elements; i++) {
        kt_store_result_t e = kt_store_result_at (res, i);
        if (e.kind == KT_STORE_ERR)
            err = e;
    }
    if (err.kind != KT_STORE_ERR)
        return;
    self->stats.refused++;
    snprintf (self->errstr, sizeof self->errstr, "write refused: %.*s", (int) err.len, err.str);
    if (!w->fn && KT_LOG_ERROR >= kt_log_threshold) {
        char cmd[32];
        //  The command name, from the RESP text "*<n>\r\n$<len>\r\n<NAME>\r\n".
        const char *p = strstr (w->cmd + w->part_len[0] * (w->parts > 1), "\r\n$");
        p = p ? strstr (p + 3, "\r\n") : NULL;
        snprintf (cmd, sizeof cmd, "%.*s", p ? (int) strcspn (p + 2, "\r") : 0, p ? p + 2 : "");
        kt_log_emit_every (KT_LOG_ERROR, "store.write.refused", 10, &self->refused_logged_at,
                           (const kt_kv_t[]){KT_S ("cmd", cmd), KT_S ("why", self->errstr),
                                             KT_I ("refused", self->stats.refused), KT_END});
    }
}

//  hiredis answer to a queued write: it belongs to the head (Redis answers in order).
static void
s_on_reply (redisAsyncContext *ac, void *reply, void *privdata)
{
    kt_store_t *self = privdata;
    if (!reply || self->ac != ac || self->inflight == 0)
        return; //  the connection is going away: the write stays queued
    self->ac_progress = s_mono_ns ();
    if (!self->ctx) {
        //  Redis answers: the synchronous connection may try again at once.
        self->retry_at_ns = 0;
        self->failures = 0;
    }
    s_write_t *w = s_at (self, 0);
    if (--w->left > 0)
        return;
    self->inflight--;
    self->stats.written++;
    kt_store_result_t res = s_result (reply);
    s_check_refused (self, w, &res);
    s_complete (self, &res);
}

//  Hand every waiting write to hiredis (pipelined: no round trip between them).
static void
s_pump (kt_store_t *self)
{
    if (!self->ac_up)
        return;
    if (self->inflight == 0 && self->q_count > 0)
        self->ac_progress = s_mono_ns ();
    while (self->inflight < self->q_count) {
        s_write_t *w = s_at (self, self->inflight);
        size_t off = 0;
        for (int p = 0; p < w->parts; p++) {
            redisAsyncFormattedCommand (self->ac, s_on_reply, self, w->cmd + off, w->part_len[p]);
            off += w->part_len[p];
        }
        w->left = w->parts;
        if (w->sent_before)
            self->stats.retried++;
        w->sent_before = true;
        self->inflight++;
    }
}

//  Run a write synchronously (no loop attached): the old behaviour, for tools.
static int
s_send_sync (kt_store_t *self, int argc, const char **argv, const size_t *argvlen,
             kt_store_done_fn *fn, void *arg)
{
    kt_store_result_t r = kt_store_call (self, argc, argv, argvlen);
    if (fn)
        fn (&r, arg);
    kt_store_result_free (&r);
    return 0;
}

int
kt_store_send (kt_store_t *self, int argc, const char **argv, const size_t *argvlen,
               kt_store_done_fn *fn, void *arg)
{
    if (argc < 1 || !argv)
        return -1;
    if (!self->loop)
        return s_send_sync (self, argc, argv, argvlen, fn, arg);
    char *cmd;
    size_t len;
    s_format_argv (&cmd, &len, argc, argv, argvlen);
    return s_enqueue (self, cmd, &len, 1, fn, arg);
}

int
kt_store_sendf (kt_store_t *self, kt_store_done_fn *fn, void *arg, const char *fmt, ...)
{
    char *cmd;
    va_list ap;
    va_start (ap, fmt);
    int n = redisvFormatCommand (&cmd, fmt, ap);
    va_end (ap);
    if (n < 0) {
        snprintf (self->errstr, sizeof self->errstr, "send: bad format");
        return -1;
    }
    if (!self->loop) {
        //  No loop: run it on the synchronous connection.
        s_begin (self);
        redisReply *r = NULL;
        if (s_ready (self)) {
            redisAppendFormattedCommand (self->ctx, cmd, (size_t) n);
            void *out = NULL;
            if (redisGetReply (self->ctx, &out) == REDIS_OK)
                r = out;
            if (s_transport_failed (self, r, "command"))
                r = NULL;
        }
        free (cmd);
        kt_store_result_t res = s_owned (r, self);
        if (fn)
            fn (&res, arg);
        kt_store_result_free (&res);
        return 0;
    }
    size_t len = (size_t) n;
    return s_enqueue (self, cmd, &len, 1, fn, arg);
}

int
kt_store_send_eval (kt_store_t *self, int script_id, int nkeys, const char **keys, int nargs,
                    const char **args, kt_store_done_fn *fn, void *arg)
{
    if (script_id < 0 || script_id >= self->nscripts || nkeys < 0 || nargs < 0) {
        snprintf (self->errstr, sizeof self->errstr, "eval: bad script id or counts");
        return -1;
    }
    //  EVAL with the text, not EVALSHA: a queued write cannot meet NOSCRIPT (a Redis
    //  restarted or flushed between queueing and sending), and Redis caches the script
    //  by its SHA all the same.
    int argc = 3 + nkeys + nargs;
    const char *stack[S_ARGV_STACK];
    const char **argv = argc <= S_ARGV_STACK ? stack : malloc ((size_t) argc * sizeof *argv);
    if (!argv)
        abort ();
    char nk[16];
    snprintf (nk, sizeof nk, "%d", nkeys);
    argv[0] = "EVAL";
    argv[1] = self->scripts[script_id].lua;
    argv[2] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[3 + i] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[3 + nkeys + i] = args[i];
    int rc = kt_store_send (self, argc, argv, NULL, fn, arg);
    if (argv != stack)
        free (argv);
    return rc;
}

void
kt_store_set_queue_max (kt_store_t *self, int64_t n)
{
    self->q_max = n >= 1 ? n : 1;
}

kt_store_stats_t
kt_store_stats (const kt_store_t *self)
{
    kt_store_stats_t st = self->stats;
    st.reconnects = self->reconnects;
    return st;
}

// ---- the async connection: kt_loop adapter -----------------------------------------

static void
s_ev_set (kt_store_t *self, short events)
{
    self->ac_events = events;
    if (self->ac_fd >= 0)
        kt_loop_fd_events (self->loop, self->ac_fd, events);
}

static void
s_ev_add_read (void *privdata)
{
    kt_store_t *self = privdata;
    s_ev_set (self, self->ac_events | POLLIN);
}

static void
s_ev_del_read (void *privdata)
{
    kt_store_t *self = privdata;
    s_ev_set (self, self->ac_events & ~POLLIN);
}

static void
s_ev_add_write (void *privdata)
{
    kt_store_t *self = privdata;
    s_ev_set (self, self->ac_events | POLLOUT);
}

static void
s_ev_del_write (void *privdata)
{
    kt_store_t *self = privdata;
    s_ev_set (self, self->ac_events & ~POLLOUT);
}

static void
s_ev_cleanup (void *privdata)
{
    kt_store_t *self = privdata;
    if (self->ac_fd >= 0)
        kt_loop_fd_end (self->loop, self->ac_fd);
    self->ac_fd = -1;
    self->ac_events = 0;
}

//  Readiness of the async socket, from the loop (or from kt_store_flush).
static void
s_handle (kt_store_t *self, short revents)
{
    redisAsyncContext *ac = self->ac;
    if (ac && (revents & (POLLIN | POLLERR | POLLHUP)) && (self->ac_events & POLLIN))
        redisAsyncHandleRead (ac);
    //  A connect in progress watches POLLOUT only: an error then completes it too.
    if (ac && self->ac == ac && (revents & (POLLOUT | POLLERR | POLLHUP)))
        redisAsyncHandleWrite (ac);
}

static int
s_on_fd (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    (void) fd;
    s_handle (arg, revents);
    return 0;
}

//  The async connection is gone (any reason): in-flight writes wait again, and the next
//  connect is due at once after a working connection, later after failed connects.
static void
s_async_lost (kt_store_t *self, const char *why, bool was_up)
{
    //  hiredis runs the adapter's cleanup before some of these callbacks and after
    //  others (a failed connect): stop watching the fd here, whichever comes first.
    if (self->ac_fd >= 0 && self->loop)
        kt_loop_fd_end (self->loop, self->ac_fd);
    self->ac = NULL;
    self->ac_up = false;
    self->ac_fd = -1;
    self->ac_events = 0;
    self->inflight = 0;
    if (self->destroying)
        return;
    s_seterr (self, was_up ? "connection lost" : "connect", why && *why ? why : "failed");
    int64_t delay_ms = 0;
    if (!was_up) {
        delay_ms = S_ASYNC_RETRY_MIN_MS;
        for (int i = 1; i < self->ac_failures && delay_ms < S_ASYNC_RETRY_MAX_MS; i++)
            delay_ms *= 2;
        if (delay_ms > S_ASYNC_RETRY_MAX_MS)
            delay_ms = S_ASYNC_RETRY_MAX_MS;
    }
    self->ac_retry_at = s_mono_ns () + delay_ms * S_NS_PER_MS;
}

static void
s_on_script_loaded (redisAsyncContext *ac, void *reply, void *privdata)
{
    (void) ac;
    redisReply *r = reply;
    s_script_t *script = privdata;
    if (r && r->type == REDIS_REPLY_STRING && r->len == 40)
        memcpy (script->sha, r->str, 41);
}

static void
s_on_connect (const redisAsyncContext *cac, int status)
{
    kt_store_t *self = cac->data;
    if (self->ac != cac)
        return;
    if (status != REDIS_OK) {
        //  hiredis frees the context after this callback.
        self->ac_failures++;
        s_async_lost (self, cac->errstr, false);
        return;
    }
    redisAsyncContext *ac = self->ac;
    self->ac_up = true;
    self->ac_failures = 0;
    if (self->ac_was_up)
        self->reconnects++;
    self->ac_was_up = true;
    self->errstr[0] = 0;
    if (!self->ctx) {
        self->retry_at_ns = 0;
        self->failures = 0;
    }
    //  Scripts first (pipelined ahead of the queue): an EVALSHA re-sent below, or one on
    //  the synchronous connection, finds them loaded.
    for (int i = 0; i < self->nscripts; i++) {
        const char *argv[] = {"SCRIPT", "LOAD", self->scripts[i].lua};
        redisAsyncCommandArgv (ac, s_on_script_loaded, &self->scripts[i], 3, argv, NULL);
    }
    s_pump (self);
}

static void
s_on_disconnect (const redisAsyncContext *cac, int status)
{
    (void) status;
    kt_store_t *self = cac->data;
    if (self->ac == cac)
        s_async_lost (self, cac->errstr, true);
}

static void
s_async_connect (kt_store_t *self)
{
    self->ac_started = s_mono_ns ();
    redisAsyncContext *ac = redisAsyncConnect (self->host, self->port);
    if (!ac)
        abort (); //  out of memory
    if (ac->err) {
        self->ac_failures++;
        char why[128];
        snprintf (why, sizeof why, "%s", ac->errstr);
        redisAsyncFree (ac);
        s_async_lost (self, why, false);
        return;
    }
    self->ac = ac;
    ac->data = self;
    self->ac_fd = ac->c.fd;
    self->ac_events = 0;
    kt_loop_fd (self->loop, self->ac_fd, 0, s_on_fd, self);
    kt_loop_fd_name (self->loop, self->ac_fd, "store.async");
    ac->ev.data = self;
    ac->ev.addRead = s_ev_add_read;
    ac->ev.delRead = s_ev_del_read;
    ac->ev.addWrite = s_ev_add_write;
    ac->ev.delWrite = s_ev_del_write;
    ac->ev.cleanup = s_ev_cleanup;
    redisAsyncSetDisconnectCallback (ac, s_on_disconnect);
    redisAsyncSetConnectCallback (ac, s_on_connect); //  watches POLLOUT for the connect
}

//  Drop the async connection from our side (a connect or a stall past its deadline).
static void
s_async_drop (kt_store_t *self, const char *why)
{
    redisAsyncContext *ac = self->ac;
    bool was_up = self->ac_up;
    if (!was_up)
        self->ac_failures++;
    redisAsyncFree (ac); //  calls s_on_disconnect when it was connected
    if (self->ac == ac)
        s_async_lost (self, why, was_up);
    else
        s_seterr (self, "connection lost", why);
}

static int64_t
s_stall_ms (const kt_store_t *self)
{
    int64_t ms = (int64_t) self->timeout_ms * 10;
    return ms > S_ASYNC_STALL_MIN_MS ? ms : S_ASYNC_STALL_MIN_MS;
}

//  The next deadline of the async connection (monotonic ns), or 0 for none.
static int64_t
s_next_deadline (const kt_store_t *self)
{
    if (!self->ac)
        return self->ac_retry_at;
    if (!self->ac_up)
        return self->ac_started + (int64_t) self->timeout_ms * S_NS_PER_MS;
    if (self->inflight > 0)
        return self->ac_progress + s_stall_ms (self) * S_NS_PER_MS;
    return 0;
}

static void
s_before_sleep (kt_loop_t *loop, void *arg)
{
    (void) loop;
    kt_store_t *self = arg;
    int64_t due = s_next_deadline (self);
    if (!due || s_mono_ns () < due)
        return;
    if (!self->ac)
        s_async_connect (self);
    else if (!self->ac_up)
        s_async_drop (self, "connect timed out");
    else
        s_async_drop (self, "no answer from Redis");
}

static int
s_wait_cap (void *arg)
{
    kt_store_t *self = arg;
    int64_t due = s_next_deadline (self);
    if (!due)
        return -1;
    int64_t left = (due - s_mono_ns () + S_NS_PER_MS - 1) / S_NS_PER_MS;
    return left < 0 ? 0 : left > 60000 ? 60000 : (int) left;
}

int
kt_store_attach (kt_store_t *self, kt_loop_t *loop)
{
    if (self->loop || !loop)
        return -1;
    self->loop = loop;
    kt_loop_before_sleep (loop, s_before_sleep, self);
    kt_loop_hook_name (loop, s_before_sleep, self, "store.deadlines");
    kt_loop_wait_cap (loop, s_wait_cap, self);
    s_async_connect (self);
    return 0;
}

static void
s_async_detach (kt_store_t *self)
{
    if (!self->loop)
        return;
    self->destroying = true;
    if (self->ac)
        redisAsyncFree (self->ac);
    self->ac = NULL;
    kt_loop_before_sleep_end (self->loop, s_before_sleep, self);
    kt_loop_wait_cap_end (self->loop, s_wait_cap, self);
    self->inflight = 0;
    kt_store_result_t down = s_result_down ("store destroyed");
    while (self->q_count > 0)
        s_complete (self, &down);
    self->loop = NULL;
}

int64_t
kt_store_flush (kt_store_t *self, int timeout_ms)
{
    int64_t end = s_mono_ns () + (int64_t) timeout_ms * S_NS_PER_MS;
    while (self->loop && self->q_count > 0) {
        int64_t now = s_mono_ns ();
        if (now >= end)
            break;
        s_before_sleep (self->loop, self);
        int wait = (int) ((end - now + S_NS_PER_MS - 1) / S_NS_PER_MS);
        int cap = s_wait_cap (self);
        if (cap >= 0 && cap < wait)
            wait = cap;
        if (!self->ac || !self->ac_events) {
            struct timespec ts = {0, (long) (wait > 5 ? 5 : wait) * S_NS_PER_MS};
            nanosleep (&ts, NULL);
            continue;
        }
        struct pollfd pfd = {.fd = self->ac_fd, .events = self->ac_events};
        if (poll (&pfd, 1, wait) > 0)
            s_handle (self, pfd.revents);
    }
    return self->q_count;
}

//  The text of one kv value: strings as they are, numbers in decimal.
static const char *
s_kv_text (const kt_kv_t *kv, char *buf, size_t buflen)
{
    switch (kv->type) {
        case KT_KV_STR:
            return kv->s ? kv->s : "";
        case KT_KV_INT:
            snprintf (buf, buflen, "%lld", (long long) kv->i);
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

// ---- heartbeat and events ------------------------------------------------------------

int
kt_store_heartbeat (kt_store_t *self, const char *proc, int64_t started_ns, int64_t now_ns,
                    int ttl_s, const kt_kv_t *counters)
{
    //  The names come from their declarations (kt_schema), the one spelling of every key.
    if (!proc || strlen (proc) >= 64) {
        snprintf (self->errstr, sizeof self->errstr, "heartbeat: process name too long");
        return -1;
    }
    struct kt_skey hkey = kt_schema_key (self->prefix, &kt_key_health, proc);
    const char *key = hkey.s;
    char num[3 + S_HB_FIELDS_MAX][32];
    const char *argv[2 + 2 * (3 + S_HB_FIELDS_MAX)];
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = key;
    snprintf (num[0], sizeof num[0], "%d", (int) getpid ());
    snprintf (num[1], sizeof num[1], "%lld", (long long) started_ns);
    snprintf (num[2], sizeof num[2], "%lld", (long long) now_ns);
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
    const char *multi[] = {"MULTI"};
    const char *exec[] = {"EXEC"};

    //  MULTI, HSET, EXPIRE, EXEC back to back, so the hash never lives without its TTL
    //  (a dead process must not look alive forever).
    char *part[4];
    size_t len[4];
    s_format_argv (&part[0], &len[0], 1, multi, NULL);
    s_format_argv (&part[1], &len[1], argc, argv, NULL);
    s_format_argv (&part[2], &len[2], 3, expire, NULL);
    s_format_argv (&part[3], &len[3], 1, exec, NULL);
    size_t total = len[0] + len[1] + len[2] + len[3];
    char *cmd = malloc (total + 1); //  NUL-terminated like hiredis's own (read as text)
    if (!cmd)
        abort ();
    cmd[total] = 0;
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        memcpy (cmd + off, part[i], len[i]);
        off += len[i];
        free (part[i]);
    }
    if (self->loop)
        return s_enqueue (self, cmd, len, 4, NULL, NULL);

    //  No loop: one synchronous round trip.
    s_begin (self);
    if (!s_ready (self)) {
        free (cmd);
        return -1;
    }
    redisAppendFormattedCommand (self->ctx, cmd, total);
    free (cmd);
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
    redisReply *ex = replies[3];
    int rc = 0;
    if (ex->type != REDIS_REPLY_ARRAY || ex->elements != 2 ||
        ex->element[0]->type == REDIS_REPLY_ERROR || ex->element[1]->type == REDIS_REPLY_ERROR) {
        const char *why = ex->type == REDIS_REPLY_ERROR ? ex->str : "transaction failed";
        if (ex->type == REDIS_REPLY_ARRAY && ex->elements == 2)
            why = ex->element[0]->type == REDIS_REPLY_ERROR ? ex->element[0]->str
                                                            : ex->element[1]->str;
        s_seterr (self, "heartbeat", why);
        rc = -1;
    }
    for (int i = 0; i < 4; i++)
        freeReplyObject (replies[i]);
    return rc;
}

//  A synchronous event write reports a refused XADD in errstr.
static void
s_on_event_sync (const kt_store_result_t *r, void *arg)
{
    int *rc = arg;
    *rc = r->kind == KT_STORE_STR ? 0 : -1;
}

int
kt_store_event (kt_store_t *self, const kt_kv_t *fields)
{
    struct kt_skey ekey = kt_schema_key (self->prefix, &kt_key_events, NULL);
    const char *key = ekey.s;
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
    if (self->loop)
        return kt_store_send (self, argc, argv, NULL, NULL, NULL);
    s_begin (self);
    redisReply *r = s_ready (self) ? redisCommandArgv (self->ctx, argc, argv, NULL) : NULL;
    if (!r) {
        if (self->ctx)
            s_down (self, "event", self->ctx->errstr);
        return -1;
    }
    if (s_transport_failed (self, r, "event"))
        return -1;
    kt_store_result_t res = s_owned (r, self);
    int rc = -1;
    s_on_event_sync (&res, &rc);
    if (rc != 0)
        s_seterr (self, "event", res.kind == KT_STORE_ERR ? res.str : "unexpected reply");
    kt_store_result_free (&res);
    return rc;
}
