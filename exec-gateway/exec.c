/*  exec - exec-gateway's process: commands in, broker orders out, the book kept.
 *
 *  Order of effects, always (architecture.md failure rules): the durable fact goes to
 *  the book first (kt_book: one Lua script per change), then the EXEC_EVENT is
 *  published, then whoever asked is answered. A place is recorded PENDING_SUBMIT before
 *  its request leaves; its coid travels as the Kite tag. An answer that does not say
 *  what happened (time-out, 5xx, reset after sending) leaves the order UNRESOLVED until
 *  the broker's order book, read by tag, says what it is: never a blind re-send.
 *
 *  Broker state arrives two ways, both judged by exec_order_judge (stale and duplicate
 *  observations dropped): order updates forwarded by md-gateway (`md.order`) and a
 *  poll of the order book while orders are live. A row whose filled quantity is ahead
 *  of the book fetches that order's trades, and each trade is applied once (by trade
 *  id) through kt_book_fill before its event is published. Mutations (place, modify,
 *  cancel) wait in a queue for the rate bucket, so our own bursts never earn a 429. */

#include "exec.h"
#include "kt_risk.h"
#include "kt_instr_cache.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_SLOTS 1024

typedef enum { R_NONE = 0, R_PLACE, R_MODIFY, R_CANCEL, R_TRADES } s_req_t;

//  One order of ours that is not final yet (or whose request is still out).
struct s_ord {
    bool used;
    exec_t *self;
    struct kt_order_rec rec;    //  as in the book
    struct exec_order_fsm fsm;  //  what the broker last told us, as applied
    int http_id;                //  request in flight (0 none)
    s_req_t req;                //  its kind
    s_req_t queued;             //  mutation waiting for the rate bucket (R_NONE none)
    uint64_t queued_seq;        //  FIFO order of the queue
    int64_t not_before_ms;      //  wall: back-off after a 429 or an unsent request
    int tries;                  //  unsent attempts of the queued mutation
    struct exec_kite_order mod; //  terms of a queued modify
    int64_t unresolved_ms;      //  wall time the submit became UNRESOLVED (0 if not)
    int settle_misses;          //  order book reads since then without it
    bool trades_wanted;         //  the broker shows more filled than the book
    struct exec_kite_row row;   //  observation waiting for its trades
    bool has_row;
    int64_t last_fill_ns; //  pipeline time of the last fill (idle cancel)
    bool idle_cancelled;
    int stop_failures; //  attached stop: failed placements
    //  A sliced order: the parent is not a broker order, its slices are (rec.parent).
    bool sliced; //  this is the parent
    int nslices;
    int slices_final; //  slices that ended
    int slices_rejected;
    int64_t agg_value;       //  sum of slice fills qty x price (paise x units)
    bool counted;            //  (a slice) its end was counted by the parent
    bool stopped_out;        //  (a sliced entry) a slice's stop filled: the trade is over
    bool cancel_requested;   //  we asked for its cancel (a stop is then not replaced)
    int64_t trades_after_ms; //  wall: next trades fetch after a failed one
    char mod_cmd[KT_ID_LEN]; //  the MODIFY command waiting for this order's answer
    //  An entry replacing a pending one (rec.replaces): held, never sent, until that one
    //  has ended with nothing filled.
    bool awaiting_old;
    bool old_cancel_asked; //  the old one's cancel has been asked for
    bool resumed;          //  loaded after a restart: it may have left if the old one ended
};

//  A command other than PLACE whose outcome is told later, under its own coid.
#define S_CMDS 32
struct s_cmd {
    bool used;
    char coid[KT_ID_LEN];
    char intent_id[KT_ID_LEN];
    kt_action_t action;
    bool entries_only;   //  CANCEL_ALL of entries
    char ref[KT_ID_LEN]; //  CANCEL / MODIFY target
    int64_t deadline_ms; //  wall: reported as not done after this
};

struct exec {
    kt_proc_t *proc;            //  borrowed
    const struct exec_cfg *cfg; //  borrowed
    kt_store_t *store;          //  borrowed
    kt_http_t *http;            //  owned
    void *router, *pub;         //  borrowed from the bus
    struct s_ord ord[S_SLOTS];
    struct exec_rate rate;
    uint64_t queue_seq;
    char api[160];  //  base URL
    char auth[256]; //  "Authorization: token key:token" (secret: never logged)
    const char *headers[4];
    bool session_bad; //  TokenException seen: nothing goes out until a new token
    bool ready;       //  the first order book read after start has settled
    int poll_id;      //  order book read in flight
    int64_t poll_started_ms;
    int64_t next_poll_ms;
    int poll_failures; //  order book reads failed in a row
    int sig_fd;
    int tick_timer;
    exec_paper_t *paper;     //  paper mode: the broker (owned), else NULL
    kt_instr_table_t *instr; //  today's instruments (owned), NULL until loaded
    int64_t next_instr_ms;   //  wall: next load attempt while instr is NULL
    char instr_err[256];     //  why the last load failed
    exec_journal_t *journal; //  owned, NULL without a journal dir
    int64_t next_journal_ms;
    char journal_err[160]; //  last journal failure (logged once per change)
    char reload_seen[32];  //  session:reload requested_ns last acted on
    int64_t next_reload_ms;
    struct s_cmd cmds[S_CMDS];
    //  FLATTEN in progress
    bool flattening;
    int64_t flat_wait_ms; //  wall: exits go out by then even if orders are still live
    char flat_coid[KT_ID_LEN];
    char flat_intent[KT_ID_LEN];
    kt_exit_reason_t flat_reason; //  the exits' exit_reason
    int flat_round;
    int64_t flat_next_ms;
    //  counters
    int64_t commands, duplicates, rejected, store_errors, sent, http_errors, throttled, unresolved,
        settled, fills, updates_dropped, unknown_orders, token_errors;
};

static void s_cmd_report (exec_t *self, const char *coid, const char *intent, kt_action_t action,
                          kt_exec_kind_t kind, const char *reason);
static void s_cmds_check (exec_t *self);
static void s_replace_step (exec_t *self, struct s_ord *o);

// ---- small helpers --------------------------------------------------------------------------

static int64_t
s_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
s_now (exec_t *self)
{
    return kt_proc_now_ns (self->proc);
}

//  Today's instruments (instruments.file, or the daily list kt_instr_cache keeps for every
//  process): each order's lot and price step come from its instrument. Blocking (the
//  download is bounded); a load that fails is retried every 10 s, and meanwhile entries
//  are refused (INSTRUMENT).
static int
s_load_instruments (exec_t *self)
{
    struct kt_instr_cache_cfg icc;
    kt_instr_cache_from_cfg (kt_proc_cfg (self->proc), kt_proc_now_ns (self->proc), &icc);
    icc.timeout_ms = 10000;
    self->instr = kt_instr_cache_load (&icc, self->instr_err, sizeof self->instr_err);
    if (!self->instr) {
        self->next_instr_ms = s_wall_ms () + 10000;
        kt_log_warn_every ("exec.instruments.fail", 60, KT_S ("why", self->instr_err), KT_END);
        return -1;
    }
    kt_log_info ("exec.instruments", KT_S ("file", icc.file ? icc.file : ""),
                 KT_I ("count", (int64_t) kt_instr_count (self->instr)), KT_END);
    return 0;
}

//  The tradable instrument sym of our exchange, or NULL (not loaded, not listed, an index).
static const struct kt_instr *
s_instr (exec_t *self, const char *sym)
{
    const struct kt_instr *in =
        self->instr ? kt_instr_by_sym (self->instr, self->cfg->exchange, sym) : NULL;
    return in && in->lot > 0 && in->tick > 0 ? in : NULL;
}

//  The lot of sym for slicing. Without the instrument (only a risk-reducing order gets
//  this far without one: the list did not load) 1, so an exit is never held back.
static int64_t
s_lot (exec_t *self, const char *sym)
{
    const struct kt_instr *in = s_instr (self, sym);
    return in ? in->lot : 1;
}

static kt_ord_status_t
s_os_of (exec_state_t s, int64_t filled, int64_t qty)
{
    switch (s) {
        case EXEC_ST_PENDING_SUBMIT:
            return KT_OS_PENDING_SUBMIT;
        case EXEC_ST_UNRESOLVED:
            return KT_OS_UNRESOLVED;
        case EXEC_ST_COMPLETE:
            return KT_OS_FILLED;
        case EXEC_ST_CANCELLED:
            return KT_OS_CANCELLED;
        case EXEC_ST_REJECTED:
            return KT_OS_REJECTED;
        default:
            return filled > 0 && filled < qty ? KT_OS_PARTIAL
                   : filled > 0               ? KT_OS_FILLED
                                              : KT_OS_OPEN;
    }
}

//  The lifecycle state of a book record (at start-up, or for an answer).
static exec_state_t
s_state_of (const struct kt_order_rec *r)
{
    switch (r->status) {
        case KT_OS_PENDING_SUBMIT:
            return EXEC_ST_PENDING_SUBMIT;
        case KT_OS_UNRESOLVED:
            return EXEC_ST_UNRESOLVED;
        case KT_OS_FILLED:
            return EXEC_ST_COMPLETE;
        case KT_OS_CANCELLED:
        case KT_OS_EXPIRED:
            return EXEC_ST_CANCELLED;
        case KT_OS_REJECTED:
            return EXEC_ST_REJECTED;
        default:
            if (strcmp (r->broker_status, "TRIGGER PENDING") == 0)
                return EXEC_ST_TRIGGER_PENDING;
            return r->broker_status[0] && strcmp (r->broker_status, "OPEN") == 0 ? EXEC_ST_OPEN
                                                                                 : EXEC_ST_ACCEPTED;
    }
}

static void
s_fsm_from_rec (struct s_ord *o)
{
    memset (&o->fsm, 0, sizeof o->fsm);
    o->fsm.state = s_state_of (&o->rec);
    o->fsm.qty = o->rec.qty;
    o->fsm.price = o->rec.price;
    o->fsm.trigger = o->rec.trigger;
    o->fsm.filled = o->rec.filled_qty;
    o->fsm.avg_px = o->rec.avg_px;
    memcpy (o->fsm.broker_id, o->rec.broker_id, sizeof o->fsm.broker_id);
}

static struct s_ord *
s_find (exec_t *self, const char *coid)
{
    for (int i = 0; i < S_SLOTS; i++)
        if (self->ord[i].used && strcmp (self->ord[i].rec.coid, coid) == 0)
            return &self->ord[i];
    return NULL;
}

static struct s_ord *
s_find_row (exec_t *self, const struct exec_kite_row *row)
{
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *o = &self->ord[i];
        if (!o->used)
            continue;
        if (o->rec.broker_id[0] && strcmp (o->rec.broker_id, row->order_id) == 0)
            return o;
        if (!o->rec.broker_id[0] && exec_kite_row_has_tag (row, o->rec.coid))
            return o;
    }
    return NULL;
}

static struct s_ord *
s_alloc (exec_t *self, const struct kt_order_rec *rec)
{
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *o = &self->ord[i];
        if (!o->used) {
            memset (o, 0, sizeof *o);
            o->used = true;
            o->self = self;
            o->rec = *rec;
            s_fsm_from_rec (o);
            o->last_fill_ns = s_now (self);
            return o;
        }
    }
    return NULL;
}

//  A slot is kept while its order is live or something about it is still out.
static void
s_maybe_free (struct s_ord *o)
{
    if (o->used && kt_ord_status_is_final (o->rec.status) && !o->http_id && o->queued == R_NONE &&
        !o->trades_wanted)
        o->used = false;
}

static void
s_event_from_rec (const struct kt_order_rec *r, kt_exec_kind_t kind, struct kt_exec_event *ev)
{
    memset (ev, 0, sizeof *ev);
    snprintf (ev->coid, sizeof ev->coid, "%s", r->coid);
    snprintf (ev->intent_id, sizeof ev->intent_id, "%s", r->intent_id);
    snprintf (ev->broker_id, sizeof ev->broker_id, "%s", r->broker_id);
    snprintf (ev->sym, sizeof ev->sym, "%s", r->sym);
    ev->event = kind;
    ev->side = r->side;
    ev->purpose = r->purpose;
    ev->qty = r->qty;
    ev->filled_qty = r->filled_qty;
    ev->avg_px = r->avg_px;
    snprintf (ev->reason, sizeof ev->reason, "%s", r->reason);
}

static void
s_topic (kt_exec_kind_t kind, char *t, size_t len)
{
    kt_exec_topic (kind, t, len);
}

static void
s_publish (exec_t *self, struct kt_exec_event *ev)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = KT_MSG_EXEC_EVENT;
    m.u.exec = *ev;
    char t[KT_TOPIC_LEN];
    s_topic (ev->event, t, sizeof t);
    kt_bus_publish (kt_proc_bus (self->proc), self->pub, t, &m);
}

static struct s_ord *s_find (exec_t *self, const char *coid);
static int s_book_update (exec_t *self, struct s_ord *o);
static void s_emit (exec_t *self, struct s_ord *o, kt_exec_kind_t kind, int64_t last_qty,
                    int64_t last_px);

//  The parent of a slice (NULL when o is not one).
static struct s_ord *
s_parent_of (exec_t *self, struct s_ord *o)
{
    if (!o->rec.parent[0] || o->rec.purpose == KT_PURPOSE_STOP)
        return NULL;
    struct s_ord *p = s_find (self, o->rec.parent);
    return p && p->sliced ? p : NULL;
}

//  What a slice's event means for its parent: the first acceptance, every fill (with
//  the parent's cumulative quantity and VWAP), and the end once every slice ended.
static void
s_slice_event (exec_t *self, struct s_ord *p, kt_exec_kind_t kind, int64_t lq, int64_t lpx)
{
    if (kt_ord_status_is_final (p->rec.status))
        return;
    if (kind == KT_EXEC_ACCEPTED && p->rec.status == KT_OS_PENDING_SUBMIT) {
        p->rec.status = KT_OS_OPEN;
        if (s_book_update (self, p) == 0)
            s_emit (self, p, KT_EXEC_ACCEPTED, 0, 0);
    }
    if ((kind == KT_EXEC_PARTIAL || kind == KT_EXEC_FILLED) && lq > 0) {
        p->rec.filled_qty += lq;
        p->agg_value += lq * lpx;
        p->rec.fill_value = p->agg_value;
        p->rec.avg_px = (p->agg_value + p->rec.filled_qty / 2) / p->rec.filled_qty;
        p->rec.status = p->rec.filled_qty >= p->rec.qty ? KT_OS_FILLED : KT_OS_PARTIAL;
        snprintf (p->rec.reason, sizeof p->rec.reason, "sliced into %d orders: %lld filled",
                  p->nslices, (long long) p->rec.filled_qty);
        s_book_update (self, p);
        s_emit (self, p, p->rec.status == KT_OS_FILLED ? KT_EXEC_FILLED : KT_EXEC_PARTIAL, lq, lpx);
    }
}

//  A slice that ended is counted once; the last one ends the parent.
static void
s_slice_check (exec_t *self, struct s_ord *o)
{
    struct s_ord *p = s_parent_of (self, o);
    if (!p || o->counted || !kt_ord_status_is_final (o->rec.status))
        return;
    o->counted = true;
    p->slices_final++;
    if (o->rec.status == KT_OS_REJECTED)
        p->slices_rejected++;
    if (p->slices_final < p->nslices || kt_ord_status_is_final (p->rec.status))
        return;
    bool all = p->rec.filled_qty >= p->rec.qty;
    p->rec.status = all                                                          ? KT_OS_FILLED
                    : p->rec.filled_qty == 0 && p->slices_rejected == p->nslices ? KT_OS_REJECTED
                                                                                 : KT_OS_CANCELLED;
    if (!all)
        snprintf (p->rec.reason, sizeof p->rec.reason, "%d of %d slices ended unfilled: %.80s",
                  p->nslices -
                      (int) (p->rec.filled_qty * p->nslices / (p->rec.qty ? p->rec.qty : 1)),
                  p->nslices, o->rec.reason);
    if (s_book_update (self, p) == 0 && !all)
        s_emit (self, p, p->rec.status == KT_OS_REJECTED ? KT_EXEC_REJECTED : KT_EXEC_CANCELLED, 0,
                0);
}

//  Publish kind for o (after its book write). A slice speaks through its parent.
static void
s_emit (exec_t *self, struct s_ord *o, kt_exec_kind_t kind, int64_t last_qty, int64_t last_px)
{
    struct s_ord *p = s_parent_of (self, o);
    if (p) {
        kt_log_info ("exec.slice.event", KT_S ("coid", o->rec.coid),
                     KT_S ("event", kt_exec_kind_str (kind)), KT_S ("broker_id", o->rec.broker_id),
                     KT_I ("last_qty", last_qty), KT_END);
        s_slice_event (self, p, kind, last_qty, last_px);
        return;
    }
    struct kt_exec_event ev;
    s_event_from_rec (&o->rec, kind, &ev);
    ev.last_qty = last_qty;
    ev.last_px = last_px;
    s_publish (self, &ev);
    kt_log_info ("exec.order.event", KT_S ("coid", o->rec.coid),
                 KT_S ("event", kt_exec_kind_str (kind)), KT_S ("broker_id", o->rec.broker_id),
                 KT_I ("filled", o->rec.filled_qty), KT_I ("last_qty", last_qty),
                 KT_I ("last_px", last_px), KT_S ("reason", o->rec.reason), KT_END);
}

//  Write o->rec's state fields to the book. Returns 0, or -1 (logged; the caller keeps
//  its in-memory state as it was so that the next observation writes again).
static int
s_book_update (exec_t *self, struct s_ord *o)
{
    char why[160];
    o->rec.updated_ns = s_now (self);
    if (kt_book_order_update (self->store, &o->rec, o->rec.updated_ns, why, sizeof why) == 0)
        return 0;
    self->store_errors++;
    kt_log_error ("exec.book.fail", KT_S ("coid", o->rec.coid), KT_S ("why", why), KT_END);
    return -1;
}

static void s_on_final (exec_t *self, struct s_ord *o);

//  Move o to a final or settled state of our own making (rejected before the broker had
//  it, never placed, unresolved) with reason; book, then event.
static void
s_set_state (exec_t *self, struct s_ord *o, exec_state_t st, const char *reason)
{
    struct kt_order_rec saved = o->rec;
    o->rec.status = s_os_of (st, o->rec.filled_qty, o->rec.qty);
    if (reason)
        snprintf (o->rec.reason, sizeof o->rec.reason, "%s", reason);
    if (s_book_update (self, o) != 0) {
        o->rec = saved;
        return;
    }
    o->fsm.state = st;
    if (st == EXEC_ST_REJECTED) {
        self->rejected++;
        kt_log_warn ("exec.order.rejected", KT_S ("coid", o->rec.coid), KT_S ("sym", o->rec.sym),
                     KT_S ("reason", o->rec.reason), KT_END);
    }
    s_emit (self, o, exec_order_event_kind (st, o->rec.filled_qty, o->rec.qty), 0, 0);
    if (exec_state_terminal (st))
        s_on_final (self, o);
    s_slice_check (self, o);
}

// ---- the session ----------------------------------------------------------------------------

static void
s_headers (exec_t *self, const struct kt_cfg *cfg)
{
    snprintf (self->auth, sizeof self->auth, "Authorization: token %s:%s", cfg->kite_api_key,
              cfg->kite_access_token);
    self->headers[0] = "X-Kite-Version: 3";
    self->headers[1] = self->auth;
    self->headers[2] = "User-Agent: kt-c/1";
    self->headers[3] = NULL;
}

static void s_reject_unsent_entries (exec_t *self, const char *reason);

//  The broker session as found (exec:session): risk-gate reads it and halts while it is
//  invalid.
static void
s_session_write (exec_t *self, bool ok, const char *reason)
{
    struct kt_exec_session_rec rec = {.ok = ok, .since_ns = s_now (self)};
    snprintf (rec.reason, sizeof rec.reason, "%s", reason);
    if (kt_schema_send (self->store, &kt_key_exec_session, NULL, &rec, NULL, NULL) != 0) {
        self->store_errors++;
        kt_log_error ("exec.session.store", KT_S ("why", "store queue full"), KT_END);
    }
}

//  TokenException: the session is invalid. risk-gate halts on exec:session; nothing
//  more goes to the broker until a new token (SIGHUP, session:reload).
static void
s_session_invalid (exec_t *self, const char *msg)
{
    self->token_errors++;
    if (self->session_bad)
        return;
    self->session_bad = true;
    char reason[KT_TEXT_LEN];
    snprintf (reason, sizeof reason, "TokenException: %.100s", msg);
    s_session_write (self, false, reason);
    snprintf (reason, sizeof reason, "SESSION: TokenException: %.90s", msg);
    kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "exec.session",
                   "broker session invalid (TokenException: %s): nothing is sent until a new "
                   "access token is loaded (tradectl token, or SIGHUP after updating the "
                   "secrets)",
                   msg);
    s_reject_unsent_entries (self, reason);
}

//  Read the config file (and its secrets) again for a new access token: on SIGHUP, or
//  when `tradectl token` / `login` asks through session:reload.
static void
s_reload_token (exec_t *self, const char *by)
{
    const struct kt_cfg *cur = kt_proc_cfg (self->proc);
    char err[1024];
    struct exec_cfg scratch;
    kt_cfg_t *fresh =
        kt_cfg_load_file (cur->file, "exec-gateway", exec_cfg_table (), &scratch, err, sizeof err);
    if (!fresh) {
        kt_log_error ("exec.token.reload", KT_S ("by", by), KT_S ("why", err), KT_END);
        return;
    }
    s_headers (self, fresh);
    kt_cfg_destroy (&fresh);
    bool was = self->session_bad;
    self->session_bad = false;
    kt_log_info ("exec.token.reloaded", KT_S ("by", by), KT_I ("was_invalid", was), KT_END);
    char reason[KT_TEXT_LEN];
    snprintf (reason, sizeof reason, "new access token loaded (%.60s)", by);
    s_session_write (self, true, reason);
}

static int
s_on_signal (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    (void) revents;
    struct signalfd_siginfo si;
    while (read (fd, &si, sizeof si) == (ssize_t) sizeof si)
        ;
    s_reload_token (arg, "SIGHUP");
    return 0;
}

//  session:reload requested_ns ("" when absent or Redis is down: then nothing changes).
static void
s_reload_seen (exec_t *self, char *out, size_t cap)
{
    struct kt_skey k = kt_schema_key (kt_store_prefix (self->store), &kt_key_session_reload, NULL);
    kt_store_result_t r = kt_store_callf (self->store, "HGET %s requested_ns", k.s);
    snprintf (out, cap, "%s", r.kind == KT_STORE_STR ? r.str : "");
    kt_store_result_free (&r);
}

// ---- requests ---------------------------------------------------------------------------------

static void s_on_mutation (const kt_http_resp_t *resp, void *arg);
static void s_on_trades (const kt_http_resp_t *resp, void *arg);
static void s_handle_reply (exec_t *self, struct s_ord *o, s_req_t kind,
                            struct exec_kite_reply *reply, int64_t elapsed_us);
static void s_trades_walk (exec_t *self, struct s_ord *o, const char *body, size_t len);

static void
s_order_of (exec_t *self, const struct kt_order_rec *r, struct exec_kite_order *k)
{
    memset (k, 0, sizeof *k);
    snprintf (k->variety, sizeof k->variety, "%s", self->cfg->variety);
    snprintf (k->exchange, sizeof k->exchange, "%s", self->cfg->exchange);
    snprintf (k->sym, sizeof k->sym, "%s", r->sym);
    snprintf (k->tag, sizeof k->tag, "%s", r->coid);
    k->side = r->side;
    k->type = r->order_type;
    k->qty = r->qty;
    k->price = r->price;
    k->trigger = r->trigger;
    k->product = r->product;
    k->market_protection = self->cfg->market_protection;
}

static void s_queue (exec_t *self, struct s_ord *o, s_req_t kind);

//  Ask the broker to cancel o unless that is already under way; an order never sent is
//  simply not sent. A sliced parent cancels its slices.
static void
s_cancel (exec_t *self, struct s_ord *o)
{
    if (!o->used || kt_ord_status_is_final (o->rec.status))
        return;
    if (o->sliced) {
        for (int i = 0; i < S_SLOTS; i++) {
            struct s_ord *c = &self->ord[i];
            if (c->used && c != o && strcmp (c->rec.parent, o->rec.coid) == 0 &&
                c->rec.purpose != KT_PURPOSE_STOP)
                s_cancel (self, c);
        }
        return;
    }
    if ((o->queued == R_PLACE && !o->http_id) || o->awaiting_old) {
        o->queued = R_NONE;
        o->awaiting_old = false;
        s_set_state (self, o, EXEC_ST_CANCELLED, "cancelled before it was sent");
        s_maybe_free (o);
        return;
    }
    o->cancel_requested = true;
    if (o->rec.broker_id[0] && o->queued != R_CANCEL && o->req != R_CANCEL)
        s_queue (self, o, R_CANCEL);
}

static void
s_queue (exec_t *self, struct s_ord *o, s_req_t kind)
{
    o->queued = kind;
    o->queued_seq = ++self->queue_seq;
    o->tries = 0;
    o->not_before_ms = 0;
}

//  Start o's queued mutation now. Returns 0, or -1 when it cannot even be formed (the
//  order is then settled as refused).
static int
s_send_mutation (exec_t *self, struct s_ord *o)
{
    char form[EXEC_KITE_FORM_MAX], path[EXEC_KITE_PATH_MAX], url[256], why[160];
    struct exec_kite_order k;
    const char *method = "POST";
    int flen = 0;
    s_req_t kind = o->queued;
    if (kind == R_PLACE) {
        s_order_of (self, &o->rec, &k);
        flen = exec_kite_place_form (&k, form, sizeof form, why, sizeof why);
        if (flen < 0 || exec_kite_path (path, sizeof path, self->cfg->variety, NULL) < 0) {
            o->queued = R_NONE;
            char reason[KT_TEXT_LEN];
            snprintf (reason, sizeof reason, "BAD_MSG: %.100s", flen < 0 ? why : "bad variety");
            s_set_state (self, o, EXEC_ST_REJECTED, reason);
            return -1;
        }
    } else {
        if (exec_kite_path (path, sizeof path, self->cfg->variety, o->rec.broker_id) < 0) {
            o->queued = R_NONE;
            return -1;
        }
        if (kind == R_MODIFY) {
            method = "PUT";
            flen = exec_kite_modify_form (&o->mod, form, sizeof form, why, sizeof why);
            if (flen < 0) {
                o->queued = R_NONE;
                kt_log_warn ("exec.modify.refused", KT_S ("coid", o->rec.coid), KT_S ("why", why),
                             KT_END);
                return -1;
            }
        } else
            method = "DELETE";
    }
    if (self->paper) {
        //  The broker call itself: the paper broker answers at once.
        struct exec_kite_reply rep;
        int64_t now = s_now (self);
        o->queued = R_NONE;
        self->sent++;
        if (kind == R_PLACE)
            exec_paper_place (self->paper, &k, now, &rep);
        else if (kind == R_MODIFY)
            exec_paper_modify (self->paper, o->rec.broker_id, &o->mod, now, &rep);
        else
            exec_paper_cancel (self->paper, o->rec.broker_id, now, &rep);
        s_handle_reply (self, o, kind, &rep, 0);
        return 0;
    }
    snprintf (url, sizeof url, "%s%s", self->api, path);
    kt_http_req_t req = {.method = method,
                         .url = url,
                         .headers = self->headers,
                         .body = kind == R_CANCEL ? NULL : form,
                         .timeout_ms = (int) self->cfg->order_timeout_ms,
                         .connect_timeout_ms = 2000,
                         .fresh_connect = kind == R_PLACE};
    int id = kt_http_request (self->http, &req, s_on_mutation, o);
    if (id < 0) {
        o->queued = R_NONE;
        return -1;
    }
    o->http_id = id;
    o->req = kind;
    o->queued = R_NONE;
    self->sent++;
    return 0;
}

//  Send queued mutations, oldest first, while the rate bucket has tokens. Returns the
//  wall ms until the next one could go (-1 when nothing waits).
static int64_t
s_pump (exec_t *self)
{
    if (self->session_bad || !self->ready)
        return -1;
    int64_t now = s_wall_ms ();
    for (;;) {
        struct s_ord *next = NULL;
        int64_t wait = -1;
        for (int i = 0; i < S_SLOTS; i++) {
            struct s_ord *o = &self->ord[i];
            if (!o->used || o->queued == R_NONE || o->http_id)
                continue;
            if (o->not_before_ms > now) {
                int64_t w = o->not_before_ms - now;
                wait = wait < 0 || w < wait ? w : wait;
                continue;
            }
            if (!next || o->queued_seq < next->queued_seq)
                next = o;
        }
        if (!next)
            return wait;
        int64_t w = exec_rate_take (&self->rate, now * 1000000);
        if (w > 0) {
            self->throttled++;
            return wait < 0 || w < wait ? w : wait;
        }
        s_send_mutation (self, next);
    }
}

static bool s_any_live (exec_t *self);

static void
s_pump_hook (kt_loop_t *loop, void *arg)
{
    (void) loop;
    s_pump (arg);
}

static int
s_wait_cap (void *arg)
{
    exec_t *self = arg;
    int64_t w = s_pump (self);
    if (s_any_live (self) || !self->ready) {
        int64_t p = self->next_poll_ms - s_wall_ms ();
        if (p < 0)
            p = 0;
        if (w < 0 || p < w)
            w = p;
    }
    return w < 0 ? -1 : w > 1000 ? 1000 : (int) w;
}

static void
s_fetch_trades (exec_t *self, struct s_ord *o)
{
    o->trades_wanted = true;
    if (o->http_id || !o->rec.broker_id[0] || self->session_bad)
        return;
    if (self->paper) {
        s_trades_walk (self, o, NULL, 0);
        return;
    }
    char url[256];
    snprintf (url, sizeof url, "%s/orders/%s/trades", self->api, o->rec.broker_id);
    kt_http_req_t req = {.method = "GET",
                         .url = url,
                         .headers = self->headers,
                         .timeout_ms = (int) self->cfg->read_timeout_ms};
    int id = kt_http_request (self->http, &req, s_on_trades, o);
    if (id > 0) {
        o->http_id = id;
        o->req = R_TRADES;
    }
}

// ---- observations ---------------------------------------------------------------------------

static void s_on_fill (exec_t *self, struct s_ord *o, int64_t qty, int64_t px);
static void s_on_final (exec_t *self, struct s_ord *o);
static void s_stop_accepted (exec_t *self, struct s_ord *s);

//  Apply a judged observation that brings no new fill: state, terms, broker id.
static void
s_apply_state (exec_t *self, struct s_ord *o, const struct exec_order_step *st,
               const struct exec_kite_row *row)
{
    struct kt_order_rec saved = o->rec;
    bool was_unresolved = o->fsm.state == EXEC_ST_UNRESOLVED;
    o->rec.status = s_os_of (st->state, o->rec.filled_qty, st->qty);
    snprintf (o->rec.broker_status, sizeof o->rec.broker_status, "%.23s", row->status);
    if (!o->rec.broker_id[0])
        snprintf (o->rec.broker_id, sizeof o->rec.broker_id, "%s", row->order_id);
    o->rec.qty = st->qty;
    o->rec.price = st->price;
    o->rec.trigger = st->trigger;
    if ((st->state == EXEC_ST_CANCELLED || st->state == EXEC_ST_REJECTED) && row->status_message[0])
        snprintf (o->rec.reason, sizeof o->rec.reason, "%s%.110s",
                  st->state == EXEC_ST_REJECTED ? "BROKER: " : "", row->status_message);
    if (s_book_update (self, o) != 0) {
        o->rec = saved;
        return;
    }
    o->fsm.state = st->state;
    o->fsm.qty = st->qty;
    o->fsm.price = st->price;
    o->fsm.trigger = st->trigger;
    snprintf (o->fsm.ts, sizeof o->fsm.ts, "%s", st->ts);
    snprintf (o->fsm.broker_id, sizeof o->fsm.broker_id, "%s", o->rec.broker_id);
    if (was_unresolved) {
        self->settled++;
        o->unresolved_ms = 0;
        kt_log_info ("exec.order.settled", KT_S ("coid", o->rec.coid),
                     KT_S ("broker_id", o->rec.broker_id), KT_S ("status", row->status), KT_END);
    }
    kt_exec_kind_t kind = st->event;
    if (was_unresolved && kind == KT_EXEC_NONE)
        kind = exec_order_event_kind (st->state, o->rec.filled_qty, o->rec.qty);
    if (kind != KT_EXEC_NONE)
        s_emit (self, o, kind, 0, 0);
    if (was_unresolved)
        s_stop_accepted (self, o);
    if (st->state == EXEC_ST_REJECTED && saved.status != KT_OS_PENDING_SUBMIT) {
        self->rejected++;
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_WARNING, "exec.rejected",
                       "order %s (%s %s) accepted, then rejected by the broker: %s", o->rec.coid,
                       kt_side_str (o->rec.side), o->rec.sym, row->status_message);
    }
    if (exec_state_terminal (st->state))
        s_on_final (self, o);
    s_slice_check (self, o);
}

//  One observation of the broker's order o (update, poll, look-up).
static void
s_observe (exec_t *self, struct s_ord *o, const struct exec_kite_row *row)
{
    struct exec_order_step st;
    exec_order_judge (&o->fsm, row, &st);
    if (!st.apply) {
        self->updates_dropped++;
        return;
    }
    if (st.fill_qty > 0) {
        //  Fills come from the trades (one book write per trade id); the rest of this
        //  row is applied after them.
        if (!o->rec.broker_id[0])
            snprintf (o->rec.broker_id, sizeof o->rec.broker_id, "%s", row->order_id);
        if (st.qty > o->rec.qty) {
            //  A modification that raised the quantity (a resized stop) reaches the book
            //  before the fills it allows, which would overfill the old quantity.
            int64_t was = o->rec.qty;
            o->rec.qty = st.qty;
            if (s_book_update (self, o) != 0) {
                o->rec.qty = was;
                return;
            }
            o->fsm.qty = st.qty;
        }
        o->row = *row;
        o->has_row = true;
        s_fetch_trades (self, o);
        return;
    }
    s_apply_state (self, o, &st, row);
}

struct s_trade_ctx {
    exec_t *self;
    struct s_ord *o;
    int applied;
    int failed;
};

static int64_t
s_fill_ts (exec_t *self, const char *ts)
{
    int y, mo, d, hh, mi, ss;
    if (sscanf (ts, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &hh, &mi, &ss) == 6)
        return kt_ist_ns (y, mo, d, hh, mi, ss);
    return s_now (self);
}

static int
s_one_trade (const struct exec_kite_trade *t, void *arg)
{
    struct s_trade_ctx *c = arg;
    struct s_ord *o = c->o;
    if (strcmp (t->order_id, o->rec.broker_id) != 0)
        return 0;
    struct kt_book_fill f;
    memset (&f, 0, sizeof f);
    snprintf (f.coid, sizeof f.coid, "%s", o->rec.coid);
    snprintf (f.trade_id, sizeof f.trade_id, "%s", t->trade_id);
    f.qty = t->qty;
    f.price = t->px;
    f.ts_ns = s_fill_ts (c->self, t->ts);
    struct kt_book_fill_result res;
    char why[160];
    if (kt_book_fill (c->self->store, &f, &res, why, sizeof why) != 0) {
        c->failed++;
        c->self->store_errors++;
        kt_log_error ("exec.fill.fail", KT_S ("coid", o->rec.coid), KT_S ("trade_id", t->trade_id),
                      KT_S ("why", why), KT_END);
        return 1;
    }
    if (res.duplicate)
        return 0;
    c->applied++;
    o->rec.filled_qty = res.filled_qty;
    o->rec.avg_px = res.avg_px;
    o->rec.status = res.status;
    o->fsm.filled = res.filled_qty;
    o->fsm.avg_px = res.avg_px;
    s_on_fill (c->self, o, t->qty, t->px);
    s_slice_check (c->self, o);
    return 0;
}

static void
s_on_trades (const kt_http_resp_t *resp, void *arg)
{
    struct s_ord *o = arg;
    exec_t *self = o->self;
    if (!o->used || o->http_id != resp->id)
        return;
    o->http_id = 0;
    o->req = R_NONE;
    struct exec_kite_reply rep;
    exec_kite_reply_parse (resp->err, resp->errstr, resp->status, resp->body, resp->body_len, &rep);
    if (rep.cls == EXEC_KITE_TOKEN) {
        s_session_invalid (self, rep.message);
        return;
    }
    if (rep.cls != EXEC_KITE_OK) {
        self->http_errors++;
        return; //  trades_wanted stays: the next poll asks again
    }
    s_trades_walk (self, o, resp->body, resp->body_len);
}

//  Apply o's trades (a trades reply body, or the paper broker's when body is NULL), then
//  the rest of the row that asked for them.
static void
s_trades_walk (exec_t *self, struct s_ord *o, const char *body, size_t len)
{
    struct s_trade_ctx c = {self, o, 0, 0};
    char why[160] = "";
    int rc = body ? exec_kite_trades_each (body, len, s_one_trade, &c, NULL, why, sizeof why)
                  : exec_paper_trades_each (self->paper, o->rec.broker_id, s_one_trade, &c);
    if (rc < 0) {
        self->http_errors++;
        kt_log_warn ("exec.trades.bad", KT_S ("coid", o->rec.coid), KT_S ("why", why), KT_END);
        return;
    }
    if (c.failed) {
        o->trades_after_ms = s_wall_ms () + 1000; //  a refused fill is not retried in a spin
        return;
    }
    o->trades_wanted = false;
    if (o->has_row) {
        //  The rest of the row that asked for the trades: its state, once the fills it
        //  reported are in the book (if some are not yet listed, the next poll asks again).
        struct exec_order_step st;
        exec_order_judge (&o->fsm, &o->row, &st);
        if (st.apply && st.fill_qty == 0) {
            o->has_row = false;
            s_apply_state (self, o, &st, &o->row);
        } else if (!st.apply)
            o->has_row = false;
    }
    s_maybe_free (o);
}

// ---- mutation answers -------------------------------------------------------------------------

static void
s_on_mutation (const kt_http_resp_t *resp, void *arg)
{
    struct s_ord *o = arg;
    exec_t *self = o->self;
    if (!o->used || o->http_id != resp->id)
        return;
    s_req_t kind = o->req;
    o->http_id = 0;
    o->req = R_NONE;
    struct exec_kite_reply rep;
    exec_kite_reply_parse (resp->err, resp->errstr, resp->status, resp->body, resp->body_len, &rep);
    s_handle_reply (self, o, kind, &rep, resp->elapsed_us);
}

//  What the broker's answer to a mutation of o means (live, sim and paper alike).
static void
s_handle_reply (exec_t *self, struct s_ord *o, s_req_t kind, struct exec_kite_reply *reply,
                int64_t elapsed_us)
{
    struct exec_kite_reply rep = *reply;
    if (kind == R_MODIFY && o->mod_cmd[0] && rep.cls != EXEC_KITE_WAIT &&
        rep.cls != EXEC_KITE_UNSENT) {
        char reason[KT_TEXT_LEN];
        snprintf (reason, sizeof reason, "%.40s: %.80s", o->rec.coid,
                  rep.cls == EXEC_KITE_OK ? "modified" : rep.message);
        s_cmd_report (self, o->mod_cmd, o->rec.intent_id, KT_ACTION_MODIFY,
                      rep.cls == EXEC_KITE_OK ? KT_EXEC_MODIFIED : KT_EXEC_REJECTED, reason);
        o->mod_cmd[0] = '\0';
    }
    kt_log_info ("exec.broker.reply", KT_S ("coid", o->rec.coid),
                 KT_S ("req", kind == R_PLACE    ? "place"
                              : kind == R_MODIFY ? "modify"
                                                 : "cancel"),
                 KT_S ("class", exec_kite_class_str (rep.cls)), KT_I ("status", rep.status),
                 KT_S ("error_type", rep.error_type), KT_S ("message", rep.message),
                 KT_I ("us", elapsed_us), KT_END);
    char reason[KT_TEXT_LEN];
    switch (rep.cls) {
        case EXEC_KITE_OK:
            if (kind == R_PLACE) {
                if (!rep.order_id[0]) {
                    //  Success without an id: the broker has it, we do not know which.
                    o->unresolved_ms = s_wall_ms ();
                    o->settle_misses = 0;
                    s_set_state (self, o, EXEC_ST_UNRESOLVED, "placed, no order id in the answer");
                    self->unresolved++;
                    self->next_poll_ms = 0;
                    break;
                }
                struct kt_order_rec saved = o->rec;
                snprintf (o->rec.broker_id, sizeof o->rec.broker_id, "%s", rep.order_id);
                o->rec.status = KT_OS_OPEN;
                snprintf (o->rec.broker_status, sizeof o->rec.broker_status,
                          "PUT ORDER REQ RECEIVED");
                if (s_book_update (self, o) != 0) {
                    o->rec = saved;
                    //  The order is at the broker; the poll settles it by tag.
                    o->unresolved_ms = s_wall_ms ();
                    break;
                }
                o->fsm.state = EXEC_ST_ACCEPTED;
                snprintf (o->fsm.broker_id, sizeof o->fsm.broker_id, "%s", rep.order_id);
                s_emit (self, o, KT_EXEC_ACCEPTED, 0, 0);
                s_stop_accepted (self, o);
            }
            //  State and fills come with the order updates; the book is read on the poll's
            //  cadence (not at once: a day's book can be long, and orders arrive in bursts).
            break;
        case EXEC_KITE_WAIT:
            //  Throttled before processing: the same request again after a second.
            self->throttled++;
            o->queued = kind;
            o->not_before_ms = s_wall_ms () + 1000;
            break;
        case EXEC_KITE_UNSENT:
            if (o->tries++ < self->cfg->connect_retries) {
                o->queued = kind;
                o->not_before_ms = s_wall_ms () + 250 * o->tries;
                break;
            }
            self->http_errors++;
            if (kind == R_PLACE) {
                snprintf (reason, sizeof reason, "EXEC_DOWN: broker unreachable: %.90s",
                          rep.message);
                s_set_state (self, o, EXEC_ST_REJECTED, reason);
            } else
                kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "exec.unreachable",
                               "%s of %s not sent: broker unreachable (%s)",
                               kind == R_MODIFY ? "modify" : "cancel", o->rec.coid, rep.message);
            break;
        case EXEC_KITE_TOKEN:
            snprintf (reason, sizeof reason, "SESSION: TokenException: %.90s", rep.message);
            if (kind == R_PLACE)
                s_set_state (self, o, EXEC_ST_REJECTED, reason);
            else
                o->queued = kind; //  sent again once a new token is loaded
            s_session_invalid (self, rep.message);
            break;
        case EXEC_KITE_FINAL:
            snprintf (reason, sizeof reason, "BROKER: %.31s: %.80s", rep.error_type, rep.message);
            if (kind == R_PLACE) {
                s_set_state (self, o, EXEC_ST_REJECTED, reason);
                kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_WARNING, "exec.rejected",
                               "order %s (%s %s) refused: %s", o->rec.coid,
                               kt_side_str (o->rec.side), o->rec.sym, reason);
            } else {
                //  "cannot be modified/cancelled": the order moved on; the book tells.
                kt_log_warn ("exec.order.refused", KT_S ("coid", o->rec.coid),
                             KT_S ("reason", reason), KT_END);
                self->next_poll_ms = 0;
            }
            break;
        case EXEC_KITE_RETRY:
        case EXEC_KITE_UNKNOWN:
            self->http_errors++;
            if (kind == R_PLACE) {
                //  The broker may have it: look it up by tag, never send it again blind.
                o->unresolved_ms = s_wall_ms ();
                o->settle_misses = 0;
                snprintf (reason, sizeof reason, "outcome unknown: %.31s: %.60s",
                          rep.error_type[0] ? rep.error_type : "transport", rep.message);
                s_set_state (self, o, EXEC_ST_UNRESOLVED, reason);
                self->unresolved++;
            }
            self->next_poll_ms = 0;
            break;
    }
    s_maybe_free (o);
}

// ---- the order book poll ----------------------------------------------------------------------

static void s_on_poll (const kt_http_resp_t *resp, void *arg);

static bool
s_any_live (exec_t *self)
{
    for (int i = 0; i < S_SLOTS; i++)
        if (self->ord[i].used && !kt_ord_status_is_final (self->ord[i].rec.status))
            return true;
    return false;
}

//  Live orders a cancel can act on (of sym, or of every symbol when sym is NULL): not
//  ended, not a sliced parent, and known to the broker or still waiting to be sent. An
//  UNRESOLVED submit is not one: nothing can cancel it until the book settles it.
static int
s_cancelable (exec_t *self, const char *sym, bool entries_only)
{
    int n = 0;
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *o = &self->ord[i];
        n += o->used && !kt_ord_status_is_final (o->rec.status) && !o->sliced &&
             (o->rec.broker_id[0] || o->queued == R_PLACE || o->awaiting_old) &&
             (!sym || strcmp (o->rec.sym, sym) == 0) &&
             (!entries_only || o->rec.purpose == KT_PURPOSE_ENTRY);
    }
    return n;
}

static int s_poll_row (const struct exec_kite_row *row, void *arg);

static void
s_poll (exec_t *self)
{
    if (self->poll_id || self->session_bad)
        return;
    if (self->paper) {
        exec_paper_orders_each (self->paper, s_poll_row, self);
        self->ready = true;
        self->next_poll_ms = s_wall_ms () + self->cfg->poll_ms;
        return;
    }
    char url[256];
    snprintf (url, sizeof url, "%s/orders", self->api);
    kt_http_req_t req = {.method = "GET",
                         .url = url,
                         .headers = self->headers,
                         .timeout_ms = (int) self->cfg->read_timeout_ms};
    int id = kt_http_request (self->http, &req, s_on_poll, self);
    if (id > 0) {
        self->poll_id = id;
        self->poll_started_ms = s_wall_ms ();
    }
    self->next_poll_ms = s_wall_ms () + self->cfg->poll_ms;
}

static int
s_poll_row (const struct exec_kite_row *row, void *arg)
{
    exec_t *self = arg;
    struct s_ord *o = s_find_row (self, row);
    if (o) {
        s_observe (self, o, row);
        if (o->trades_wanted && !o->http_id)
            s_fetch_trades (self, o);
    }
    return 0;
}

static void
s_on_poll (const kt_http_resp_t *resp, void *arg)
{
    exec_t *self = arg;
    if (resp->id != self->poll_id)
        return;
    self->poll_id = 0;
    struct exec_kite_reply rep;
    exec_kite_reply_parse (resp->err, resp->errstr, resp->status, resp->body, resp->body_len, &rep);
    if (rep.cls == EXEC_KITE_TOKEN) {
        s_session_invalid (self, rep.message);
        return;
    }
    char why[160];
    if (rep.cls != EXEC_KITE_OK || exec_kite_orders_each (resp->body, resp->body_len, s_poll_row,
                                                          self, NULL, why, sizeof why) < 0) {
        //  A look-up that cannot tell is retried, never read as "absent": with back-off
        //  (250 ms x 2^n, at most 5 s), logged on the first failure of a run.
        self->http_errors++;
        if (self->poll_failures++ == 0)
            kt_log_warn ("exec.poll.fail", KT_S ("class", exec_kite_class_str (rep.cls)),
                         KT_S ("message", rep.message), KT_END);
        int64_t wait = 250LL << (self->poll_failures < 5 ? self->poll_failures : 5);
        self->next_poll_ms = s_wall_ms () + (wait < 5000 ? wait : 5000);
        return;
    }
    //  Unresolved submits this read did not find (the read began after they became
    //  unresolved): after settle_tries such reads the broker does not have them.
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *o = &self->ord[i];
        if (!o->used || o->fsm.state != EXEC_ST_UNRESOLVED || !o->unresolved_ms ||
            self->poll_started_ms < o->unresolved_ms)
            continue;
        if (++o->settle_misses >= self->cfg->settle_tries) {
            char reason[KT_TEXT_LEN];
            snprintf (reason, sizeof reason,
                      "EXEC_DOWN: not in the broker's order book after %d reads (%.50s)",
                      o->settle_misses, o->rec.reason);
            o->unresolved_ms = 0;
            self->settled++;
            s_set_state (self, o, EXEC_ST_REJECTED, reason);
            kt_log_warn ("exec.order.settled", KT_S ("coid", o->rec.coid),
                         KT_S ("status", "absent"), KT_END);
            s_maybe_free (o);
        }
    }
    if (self->poll_failures) {
        kt_log_info ("exec.poll.ok", KT_I ("after_failures", self->poll_failures), KT_END);
        self->poll_failures = 0;
    }
    if (!self->ready) {
        self->ready = true;
        kt_log_info ("exec.ready", KT_END);
    }
}

// ---- fills, stops, final states ---------------------------------------------------------------

static void s_stop_sync (exec_t *self, const struct kt_order_rec *entry);
static void s_exit_market (exec_t *self, const char *coid, const char *intent, const char *sym,
                           int64_t pos_qty, kt_product_t product, const char *why);

//  True when r is a slice of a sliced order (its parent is the command's order).
static bool
s_is_slice (const struct kt_order_rec *r)
{
    return r->parent[0] && r->purpose != KT_PURPOSE_STOP;
}

//  The coid of an order derived from entry e: its attached stop ("-st"), a replacement
//  stop ("-s<n>"), the market exit of a stop that cannot be placed ("-mx") or of a fill
//  after the stop ("-x<n>"), at most 20 characters (Kite's tag). An entry: its coid cut
//  to fit + suffix. A slice of parent P: P + "s<i>" + suffix when that fits, else the
//  head of it, 4 characters of its FNV-1a hash, then suffix, so the stops of the slices
//  of different long coids that share a head do not share a name.
static void
s_derived (const struct kt_order_rec *e, const char *suffix, char *buf, size_t cap)
{
    int room = KT_ID_WIRE_MAX - (int) strlen (suffix);
    if (!s_is_slice (e)) {
        snprintf (buf, cap, "%.*s%s", room, e->coid, suffix);
        return;
    }
    size_t n = strlen (e->coid);
    char key[2 * KT_ID_LEN];
    snprintf (key, sizeof key, "%s%s", e->parent, n >= 2 ? e->coid + n - 2 : e->coid);
    if ((int) strlen (key) <= room) {
        snprintf (buf, cap, "%.*s%s", room, key, suffix);
        return;
    }
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t) *p) * 16777619u;
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    char hash[5];
    for (int i = 0; i < 4; i++, h /= 36)
        hash[i] = digits[h % 36];
    hash[4] = '\0';
    snprintf (buf, cap, "%.*s%s%s", room - 4, key, hash, suffix);
}

static struct s_ord *s_live_stop (exec_t *self, const char *entry);

//  The loaded sliced parent of slice e (NULL when e is not a slice). A filled stop of
//  one slice marks it stopped_out (in memory), so that a later fill of a sibling slice
//  is exited, not given a stop of its own.
static struct s_ord *
s_entry_parent (exec_t *self, const struct kt_order_rec *e)
{
    if (!s_is_slice (e))
        return NULL;
    struct s_ord *p = s_find (self, e->parent);
    return p && p->sliced ? p : NULL;
}

static void
s_on_fill (exec_t *self, struct s_ord *o, int64_t qty, int64_t px)
{
    self->fills++;
    o->last_fill_ns = s_now (self);
    kt_exec_kind_t kind = o->rec.filled_qty >= o->rec.qty ? KT_EXEC_FILLED : KT_EXEC_PARTIAL;
    s_emit (self, o, kind, qty, px);
    if (o->rec.purpose == KT_PURPOSE_ENTRY && o->rec.stop_trigger > 0) {
        //  A fill after its stop (or a sibling slice's stop) filled - the cancel of the
        //  rest came too late - is not protected by anything: exited at market at once.
        char first[KT_ID_LEN], why[128];
        struct kt_order_rec stop;
        struct s_ord *p = s_entry_parent (self, &o->rec);
        s_derived (&o->rec, "-st", first, sizeof first);
        bool stopped = p && p->stopped_out;
        if (!stopped && !s_live_stop (self, o->rec.coid) &&
            kt_book_order_get (self->store, first, &stop, why, sizeof why) == 1 &&
            stop.status == KT_OS_FILLED)
            stopped = true;
        if (stopped) {
            char coid[KT_ID_LEN], suffix[8];
            snprintf (suffix, sizeof suffix, "-x%lld", (long long) (o->rec.filled_qty % 100));
            s_derived (&o->rec, suffix, coid, sizeof coid);
            s_cancel (self, p ? p : o);
            s_exit_market (self, coid, o->rec.intent_id, o->rec.sym,
                           o->rec.side == KT_SIDE_SELL ? -qty : qty, o->rec.product, "STOP");
            kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_WARNING, "exec.stop.late_fill",
                           "%s filled %lld after its stop filled: exited at market", o->rec.coid,
                           (long long) qty);
        } else
            s_stop_sync (self, &o->rec);
    }
    if (o->rec.purpose == KT_PURPOSE_STOP) {
        //  Stopped out: the trade is over, so what is left of its entry (every slice of
        //  a sliced one) is cancelled.
        kt_log_info ("exec.stop.filled", KT_S ("coid", o->rec.coid), KT_S ("sym", o->rec.sym),
                     KT_I ("qty", qty), KT_I ("px", px), KT_END);
        struct s_ord *entry = s_find (self, o->rec.parent);
        struct kt_order_rec erec;
        char ewhy[128];
        //  A slice that filled whole has left memory: its record names its parent.
        const struct kt_order_rec *e =
            entry ? &entry->rec
            : kt_book_order_get (self->store, o->rec.parent, &erec, ewhy, sizeof ewhy) == 1 ? &erec
                                                                                            : NULL;
        struct s_ord *p = e ? s_entry_parent (self, e) : NULL;
        if (p) {
            p->stopped_out = true;
            s_cancel (self, p);
        } else if (entry && !kt_ord_status_is_final (entry->rec.status))
            s_cancel (self, entry);
    }
    //  A position that went flat no longer needs its protecting stop.
    struct kt_pos_rec pos;
    char why[160];
    if (kt_book_pos_get (self->store, o->rec.sym, &pos, why, sizeof why) == 1 && pos.qty == 0) {
        for (int i = 0; i < S_SLOTS; i++) {
            struct s_ord *s = &self->ord[i];
            if (s->used && s != o && s->rec.purpose == KT_PURPOSE_STOP &&
                strcmp (s->rec.sym, o->rec.sym) == 0)
                s_cancel (self, s);
        }
    }
}

//  Record and queue stop attempt n (0 = the first) of entry e, from template t (side,
//  type, trigger, price, product, intent), for qty units.
static struct s_ord *
s_stop_place (exec_t *self, const struct kt_order_rec *t, const struct kt_order_rec *e, int n,
              int64_t qty)
{
    struct kt_order_rec r = *t;
    char suffix[8];
    if (n == 0)
        snprintf (suffix, sizeof suffix, "-st");
    else
        snprintf (suffix, sizeof suffix, "-s%d", (n + 1) % 10);
    s_derived (e, suffix, r.coid, sizeof r.coid);
    snprintf (r.parent, sizeof r.parent, "%s", e->coid);
    snprintf (r.exit_reason, sizeof r.exit_reason, "STOP");
    r.purpose = KT_PURPOSE_STOP;
    r.qty = qty;
    r.stop_trigger = r.stop_price = r.r_value = r.filled_qty = r.fill_value = r.avg_px = 0;
    r.broker_id[0] = r.broker_status[0] = r.reason[0] = '\0';
    r.status = KT_OS_PENDING_SUBMIT;
    r.created_ns = r.updated_ns = s_now (self);
    struct kt_order_rec existing;
    char why[160];
    int rc = kt_book_order_create (self->store, &r, r.created_ns, &existing, why, sizeof why);
    if (rc < 0) {
        self->store_errors++;
        kt_log_error ("exec.stop.record", KT_S ("coid", r.coid), KT_S ("why", why), KT_END);
        return NULL;
    }
    struct s_ord *s = s_alloc (self, rc == 1 ? &r : &existing);
    if (!s) {
        kt_log_error ("exec.slots.full", KT_S ("coid", r.coid), KT_END);
        return NULL;
    }
    s->stop_failures = n;
    if (rc == 1) {
        s_queue (self, s, R_PLACE);
        kt_log_info ("exec.stop.place", KT_S ("coid", r.coid), KT_S ("entry", e->coid),
                     KT_I ("qty", qty), KT_I ("trigger", r.trigger), KT_I ("attempt", n + 1),
                     KT_END);
    }
    return s;
}

static struct s_ord *
s_live_stop (exec_t *self, const char *entry)
{
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *s = &self->ord[i];
        if (s->used && s->rec.purpose == KT_PURPOSE_STOP && strcmp (s->rec.parent, entry) == 0 &&
            !kt_ord_status_is_final (s->rec.status))
            return s;
    }
    return NULL;
}

//  Keep the entry's stop at the entry's filled quantity: place it, or resize it. A slice
//  has its own stop for its own filled quantity, so no stop is above the freeze quantity.
static void
s_stop_sync (exec_t *self, const struct kt_order_rec *entry)
{
    int64_t want = entry->filled_qty;
    if (entry->purpose != KT_PURPOSE_ENTRY || entry->stop_trigger <= 0 || want <= 0)
        return;
    struct s_ord *s = s_live_stop (self, entry->coid);
    if (!s) {
        //  Placed once only: a stop that ended is replaced by s_on_final, not here.
        char first[KT_ID_LEN], why[128];
        struct kt_order_rec seen;
        s_derived (entry, "-st", first, sizeof first);
        if (s_find (self, first) ||
            kt_book_order_get (self->store, first, &seen, why, sizeof why) != 0)
            return;
        struct kt_order_rec t = *entry;
        t.side = entry->side == KT_SIDE_SELL ? KT_SIDE_BUY : KT_SIDE_SELL;
        t.order_type = entry->stop_price > 0 ? KT_OT_SL : KT_OT_SLM;
        t.trigger = entry->stop_trigger;
        t.price = entry->stop_price;
        s_stop_place (self, &t, entry, 0, want);
        return;
    }
    if (s->rec.qty == want && (s->queued != R_MODIFY || s->mod.qty == want))
        return;
    if (s->fsm.state == EXEC_ST_PENDING_SUBMIT && s->queued == R_PLACE && !s->http_id) {
        //  Not sent yet: it goes out at the new size.
        s->rec.qty = want;
        s_book_update (self, s);
        return;
    }
    if (!s->rec.broker_id[0])
        return; //  resized once the broker has it (s_stop_accepted)
    s_order_of (self, &s->rec, &s->mod);
    s->mod.qty = want;
    s_queue (self, s, R_MODIFY);
    kt_log_info ("exec.stop.resize", KT_S ("coid", s->rec.coid), KT_I ("from", s->rec.qty),
                 KT_I ("to", want), KT_END);
}

//  A stop the broker now knows (accepted, or settled by tag): the entry may have filled
//  more while it was on its way, so it is brought to the entry's filled quantity.
static void
s_stop_accepted (exec_t *self, struct s_ord *s)
{
    if (s->rec.purpose != KT_PURPOSE_STOP || kt_ord_status_is_final (s->rec.status))
        return;
    struct s_ord *e = s_find (self, s->rec.parent);
    struct kt_order_rec rec;
    char why[128];
    if (e)
        s_stop_sync (self, &e->rec);
    else if (kt_book_order_get (self->store, s->rec.parent, &rec, why, sizeof why) == 1)
        s_stop_sync (self, &rec);
}

static void
s_on_final (exec_t *self, struct s_ord *o)
{
    if (o->rec.purpose != KT_PURPOSE_STOP || o->rec.status == KT_OS_FILLED || o->cancel_requested ||
        self->flattening)
        return;
    //  A stop that ended without filling (refused, or cancelled by the broker) while its
    //  position is open: placed again for what it protected (its entry's filled quantity,
    //  at most the position), and after stop_retries attempts that quantity is exited at
    //  market.
    struct kt_pos_rec pos;
    struct kt_order_rec entry;
    char why[160];
    if (kt_book_pos_get (self->store, o->rec.sym, &pos, why, sizeof why) != 1 || pos.qty == 0 ||
        (pos.qty > 0) != (o->rec.side == KT_SIDE_SELL))
        return;
    struct s_ord *e = s_find (self, o->rec.parent);
    if (e)
        entry = e->rec;
    else if (kt_book_order_get (self->store, o->rec.parent, &entry, why, sizeof why) != 1) {
        //  The entry cannot be read: the stop is named from its own record.
        memset (&entry, 0, sizeof entry);
        snprintf (entry.coid, sizeof entry.coid, "%s", o->rec.parent);
        entry.filled_qty = o->rec.qty;
    }
    int64_t open = pos.qty > 0 ? pos.qty : -pos.qty;
    int64_t qty = entry.filled_qty - o->rec.filled_qty;
    if (qty <= 0 || qty > open)
        qty = open;
    int attempts = o->stop_failures + 1;
    if (attempts >= (int) self->cfg->stop_retries) {
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "exec.stop.failed",
                       "stop for %s could not be placed %d times (%s): exiting %lld at market",
                       o->rec.sym, attempts, o->rec.reason, (long long) qty);
        char coid[KT_ID_LEN];
        s_derived (&entry, "-mx", coid, sizeof coid);
        s_exit_market (self, coid, o->rec.intent_id, o->rec.sym, pos.qty > 0 ? qty : -qty,
                       o->rec.product, "STOP");
        return;
    }
    kt_log_warn ("exec.stop.retry", KT_S ("coid", o->rec.coid), KT_S ("reason", o->rec.reason),
                 KT_I ("attempt", attempts + 1), KT_END);
    s_stop_place (self, &o->rec, &entry, attempts, qty);
}

//  Record slice i of n (q units) of sliced order r and queue it (a slice already recorded
//  is taken as it is). Each slice keeps the attached stop: its own stop for its own
//  filled quantity.
static void
s_slice_launch (exec_t *self, const struct kt_order_rec *r, int i, int n, int64_t q)
{
    struct kt_order_rec c = *r;
    exec_slice_tag (r->coid, i, n, c.coid, sizeof c.coid);
    snprintf (c.parent, sizeof c.parent, "%s", r->coid);
    c.qty = q;
    c.status = KT_OS_PENDING_SUBMIT;
    c.broker_id[0] = c.broker_status[0] = c.reason[0] = '\0';
    c.filled_qty = c.fill_value = c.avg_px = 0;
    c.r_value = r->r_value * q / r->qty;
    struct kt_order_rec existing;
    char why[160];
    int rc = kt_book_order_create (self->store, &c, s_now (self), &existing, why, sizeof why);
    struct s_ord *o = rc >= 0 ? s_alloc (self, rc == 1 ? &c : &existing) : NULL;
    if (!o) {
        kt_log_error ("exec.slice.record", KT_S ("coid", c.coid),
                      KT_S ("why", rc < 0 ? why : "no slot"), KT_END);
        return;
    }
    if (rc == 1)
        s_queue (self, o, R_PLACE);
}

//  Queue recorded order r for the broker, or, above the freeze quantity, record and queue
//  its slices (each its own broker order and tag) under r as their parent. Returns the
//  slot of r, or NULL (logged).
static struct s_ord *
s_launch (exec_t *self, struct kt_order_rec *r)
{
    int64_t q[EXEC_SLICE_MAX];
    char why[160];
    int n = exec_slice_split (r->qty, s_lot (self, r->sym), self->cfg->freeze_qty,
                              (int) self->cfg->max_slices, q, why, sizeof why);
    struct s_ord *p = s_alloc (self, r);
    if (!p) {
        kt_log_error ("exec.slots.full", KT_S ("coid", r->coid), KT_END);
        return NULL;
    }
    if (n <= 1) {
        s_queue (self, p, R_PLACE);
        return p;
    }
    p->sliced = true;
    p->nslices = n;
    snprintf (p->rec.broker_status, sizeof p->rec.broker_status, KT_BOOK_SLICED);
    snprintf (p->rec.reason, sizeof p->rec.reason, "sliced into %d orders", n);
    s_book_update (self, p);
    for (int i = 0; i < n; i++)
        s_slice_launch (self, r, i, n, q[i]);
    return p;
}

//  A market order closing pos_qty of sym (recorded, then queued).
static void
s_exit_market (exec_t *self, const char *coid, const char *intent, const char *sym, int64_t pos_qty,
               kt_product_t product, const char *why)
{
    if (pos_qty == 0 || s_find (self, coid))
        return;
    struct kt_order_rec r;
    memset (&r, 0, sizeof r);
    snprintf (r.coid, sizeof r.coid, "%s", coid);
    snprintf (r.intent_id, sizeof r.intent_id, "%s", intent);
    snprintf (r.sym, sizeof r.sym, "%s", sym);
    snprintf (r.exit_reason, sizeof r.exit_reason, "%s", why);
    r.side = pos_qty > 0 ? KT_SIDE_SELL : KT_SIDE_BUY;
    r.order_type = KT_OT_MARKET;
    r.product = product != KT_PROD_NONE ? product : KT_PROD_MIS;
    r.purpose = KT_PURPOSE_EXIT;
    r.qty = pos_qty > 0 ? pos_qty : -pos_qty;
    r.status = KT_OS_PENDING_SUBMIT;
    r.created_ns = r.updated_ns = s_now (self);
    struct kt_order_rec existing;
    char err[160];
    int rc = kt_book_order_create (self->store, &r, r.created_ns, &existing, err, sizeof err);
    if (rc != 1) {
        kt_log_error ("exec.exit.record", KT_S ("coid", coid),
                      KT_S ("why", rc < 0 ? err : "exists"), KT_END);
        return;
    }
    s_launch (self, &r);
}

//  Queued, never-sent entries are refused when the session dies: sent later they would
//  act on a stale decision. Exits, stops and cancels wait for the new token.
static void
s_reject_unsent_entries (exec_t *self, const char *reason)
{
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *o = &self->ord[i];
        if (o->used && ((o->queued == R_PLACE && !o->http_id) || o->awaiting_old) &&
            o->rec.purpose == KT_PURPOSE_ENTRY) {
            o->queued = R_NONE;
            o->awaiting_old = false;
            s_set_state (self, o, EXEC_ST_REJECTED, reason);
            s_maybe_free (o);
        }
    }
}

// ---- FLATTEN ------------------------------------------------------------------------------------

static void
s_cancel_live (exec_t *self, bool entries_only)
{
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *o = &self->ord[i];
        if (!o->used || kt_ord_status_is_final (o->rec.status))
            continue;
        if (entries_only && o->rec.purpose != KT_PURPOSE_ENTRY)
            continue;
        s_cancel (self, o);
    }
}

struct s_flat_ctx {
    exec_t *self;
    int open;
    int placed;
};

static void
s_flat_pos (const struct kt_pos_rec *p, void *arg)
{
    struct s_flat_ctx *c = arg;
    if (p->qty == 0)
        return;
    c->open++;
    char coid[KT_ID_LEN];
    snprintf (coid, sizeof coid, "%.13s-x%d%.3s", c->self->flat_coid, c->self->flat_round,
              p->sym + (strlen (p->sym) > 3 ? strlen (p->sym) - 3 : 0));
    if (!s_find (c->self, coid)) {
        //  The position's product is its entry's (MIS unless the entry was NRML).
        struct kt_order_rec entry;
        char why[128];
        kt_product_t product = KT_PROD_MIS;
        if (p->entry_coid[0] &&
            kt_book_order_get (c->self->store, p->entry_coid, &entry, why, sizeof why) == 1 &&
            entry.product != KT_PROD_NONE)
            product = entry.product;
        s_exit_market (c->self, coid, c->self->flat_intent, p->sym, p->qty, product,
                       kt_exit_reason_str (c->self->flat_reason));
        c->placed++;
    }
}

static void
s_flat_report (exec_t *self, bool ok, const char *text)
{
    struct kt_exec_event ev;
    memset (&ev, 0, sizeof ev);
    snprintf (ev.coid, sizeof ev.coid, "%s", self->flat_coid);
    snprintf (ev.intent_id, sizeof ev.intent_id, "%s", self->flat_intent);
    //  Done and flat is CANCELLED (everything cancelled, nothing open): FILLED would be
    //  a fill without a symbol, which risk-gate must not apply.
    ev.event = ok ? KT_EXEC_CANCELLED : KT_EXEC_REJECTED;
    ev.purpose = KT_PURPOSE_FLATTEN;
    snprintf (ev.reason, sizeof ev.reason, "%s", text);
    s_publish (self, &ev);
    kt_alert_send (kt_proc_alerts (self->proc), ok ? KT_SEV_WARNING : KT_SEV_CRITICAL,
                   "exec.flatten", "FLATTEN %s: %s", self->flat_coid, text);
    self->flattening = false;
}

//  One step of FLATTEN: wait until nothing is live, then exit what is open; repeat.
static void
s_flat_step (exec_t *self)
{
    if (!self->flattening || s_wall_ms () < self->flat_next_ms)
        return;
    //  Exits wait for the cancels (a live order could still fill against them), but not
    //  forever: an order the broker cannot cancel must not keep a position open.
    if (s_cancelable (self, NULL, false) && s_wall_ms () < self->flat_wait_ms) {
        if (self->flat_round == 0)
            s_cancel_live (self, false);
        return;
    }
    struct s_flat_ctx c = {self, 0, 0};
    char why[160];
    self->flat_round++;
    if (kt_book_each_position (self->store, s_flat_pos, &c, NULL, why, sizeof why) < 0) {
        self->flat_next_ms = s_wall_ms () + 1000;
        self->flat_round--;
        return;
    }
    if (c.open == 0) {
        s_flat_report (self, true, "flat: no open orders, no positions");
        return;
    }
    if (self->flat_round > self->cfg->flatten_attempts) {
        char text[KT_TEXT_LEN];
        snprintf (text, sizeof text, "still %d positions open after %d attempts", c.open,
                  self->flat_round - 1);
        s_flat_report (self, false, text);
        return;
    }
    self->flat_next_ms = s_wall_ms () + 500;
    self->flat_wait_ms = s_wall_ms () + 5000;
}

// ---- timers -------------------------------------------------------------------------------------

static int
s_on_tick (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    exec_t *self = arg;
    int64_t now_ms = s_wall_ms ();
    if ((s_any_live (self) || !self->ready) && now_ms >= self->next_poll_ms)
        s_poll (self);
    //  A partly filled entry that has not filled for idle_cancel_s: cancel the rest.
    int64_t now = s_now (self);
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *o = &self->ord[i];
        if (o->used && o->rec.purpose == KT_PURPOSE_ENTRY && o->rec.status == KT_OS_PARTIAL &&
            !o->idle_cancelled && o->rec.broker_id[0] &&
            now - o->last_fill_ns > self->cfg->idle_cancel_s * KT_NS_PER_SEC) {
            o->idle_cancelled = true;
            s_cancel (self, o);
            kt_log_info ("exec.entry.idle", KT_S ("coid", o->rec.coid),
                         KT_I ("filled", o->rec.filled_qty), KT_I ("qty", o->rec.qty), KT_END);
        }
        if (o->used && o->trades_wanted && !o->http_id && now_ms >= o->trades_after_ms)
            s_fetch_trades (self, o);
    }
    s_flat_step (self);
    if (!self->instr && now_ms >= self->next_instr_ms)
        s_load_instruments (self);
    for (int i = 0; i < S_SLOTS; i++)
        if (self->ord[i].used && self->ord[i].awaiting_old)
            s_replace_step (self, &self->ord[i]);
    s_cmds_check (self);
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *o = &self->ord[i];
        if (o->used && o->queued == R_PLACE && o->not_before_ms > now_ms &&
            o->rec.purpose == KT_PURPOSE_FLATTEN && s_cancelable (self, o->rec.sym, false) == 1)
            o->not_before_ms = 0;
    }
    if (now_ms >= self->next_reload_ms) {
        self->next_reload_ms = now_ms + 1000;
        char seen[32];
        s_reload_seen (self, seen, sizeof seen);
        if (seen[0] && strcmp (seen, self->reload_seen) != 0) {
            snprintf (self->reload_seen, sizeof self->reload_seen, "%s", seen);
            s_reload_token (self, "session:reload");
        }
    }
    if (self->journal && now_ms >= self->next_journal_ms) {
        self->next_journal_ms = now_ms + 1000;
        char why[160];
        if (exec_journal_step (self->journal, self->store, now, why, sizeof why) < 0) {
            if (strcmp (why, self->journal_err) != 0)
                kt_log_error ("exec.journal.fail", KT_S ("why", why), KT_END);
            snprintf (self->journal_err, sizeof self->journal_err, "%s", why);
        } else
            self->journal_err[0] = '\0';
    }
    return 0;
}

// ---- commands
// -------------------------------------------------------------------------------------

static void
s_cmd_report (exec_t *self, const char *coid, const char *intent, kt_action_t action,
              kt_exec_kind_t kind, const char *reason)
{
    struct kt_exec_event ev;
    memset (&ev, 0, sizeof ev);
    snprintf (ev.coid, sizeof ev.coid, "%s", coid);
    snprintf (ev.intent_id, sizeof ev.intent_id, "%s", intent);
    ev.event = kind;
    ev.purpose = action == KT_ACTION_FLATTEN ? KT_PURPOSE_FLATTEN : KT_PURPOSE_CANCEL;
    snprintf (ev.reason, sizeof ev.reason, "%s", reason);
    s_publish (self, &ev);
    kt_log_info ("exec.cmd.done", KT_S ("coid", coid), KT_S ("action", kt_action_str (action)),
                 KT_S ("event", kt_exec_kind_str (kind)), KT_S ("reason", reason), KT_END);
}

static void
s_cmd_track (exec_t *self, const struct kt_order_cmd *cmd)
{
    for (int i = 0; i < S_CMDS; i++) {
        struct s_cmd *c = &self->cmds[i];
        if (c->used && strcmp (c->coid, cmd->coid) == 0)
            return;
    }
    for (int i = 0; i < S_CMDS; i++) {
        struct s_cmd *c = &self->cmds[i];
        if (!c->used) {
            memset (c, 0, sizeof *c);
            c->used = true;
            snprintf (c->coid, sizeof c->coid, "%s", cmd->coid);
            snprintf (c->intent_id, sizeof c->intent_id, "%s", cmd->intent_id);
            snprintf (c->ref, sizeof c->ref, "%s", cmd->ref);
            c->action = cmd->action;
            c->entries_only = cmd->purpose == KT_PURPOSE_ENTRY;
            c->deadline_ms = s_wall_ms () + 10000;
            return;
        }
    }
    kt_log_warn ("exec.cmd.untracked", KT_S ("coid", cmd->coid), KT_END);
}

//  CANCEL and CANCEL_ALL are done when what they target has ended: then their coid gets
//  its own decisive event (CANCELLED, or REJECTED with what was left).
static void
s_cmds_check (exec_t *self)
{
    int64_t now = s_wall_ms ();
    for (int i = 0; i < S_CMDS; i++) {
        struct s_cmd *c = &self->cmds[i];
        if (!c->used || c->action == KT_ACTION_MODIFY)
            continue;
        char reason[KT_TEXT_LEN];
        if (c->action == KT_ACTION_CANCEL) {
            struct s_ord *o = s_find (self, c->ref);
            struct kt_order_rec rec;
            char why[128];
            kt_ord_status_t st = o ? o->rec.status : KT_OS_NONE;
            if (!o && kt_book_order_get (self->store, c->ref, &rec, why, sizeof why) == 1)
                st = rec.status;
            if (!kt_ord_status_is_final (st) && st != KT_OS_NONE && now < c->deadline_ms)
                continue;
            snprintf (reason, sizeof reason, "%.40s %s", c->ref,
                      st == KT_OS_NONE ? "unknown" : kt_ord_status_str (st));
            s_cmd_report (self, c->coid, c->intent_id, c->action,
                          st == KT_OS_CANCELLED ? KT_EXEC_CANCELLED : KT_EXEC_REJECTED, reason);
        } else {
            int live = s_cancelable (self, NULL, c->entries_only);
            if (live && now < c->deadline_ms)
                continue;
            if (live)
                snprintf (reason, sizeof reason, "%d orders still live", live);
            else
                snprintf (reason, sizeof reason, "no live %s left",
                          c->entries_only ? "entry" : "order");
            s_cmd_report (self, c->coid, c->intent_id, c->action,
                          live ? KT_EXEC_REJECTED : KT_EXEC_CANCELLED, reason);
        }
        c->used = false;
    }
}

//  Move replacement o on: the order it replaces (rec.replaces) is cancelled at the broker
//  first; o is placed once that one has ended with nothing filled, and refused
//  (REPLACED_FILLED, our own making: never counted as a broker reject) as soon as it
//  has filled at all - its fills go their usual way (position, attached stop). Called on
//  the PLACE and on every tick until o is placed or ended. After a restart (o->resumed)
//  with the old one already ended empty in the book, o may have left before the crash:
//  then it is settled by tag from the broker's order book, never sent twice.
static void
s_replace_step (exec_t *self, struct s_ord *o)
{
    struct kt_order_rec old;
    char why[160];
    struct s_ord *live = s_find (self, o->rec.replaces);
    int got = 1;
    if (live)
        old = live->rec;
    else
        got = kt_book_order_get (self->store, o->rec.replaces, &old, why, sizeof why);
    if (got < 0)
        return; //  Redis down: asked again on the next tick
    //  Only an entry is replaced: a ref naming anything else (risk-gate judged the entry
    //  as a new one) is left alone.
    bool entry = got == 1 && old.purpose == KT_PURPOSE_ENTRY;
    if (entry && old.filled_qty > 0) {
        char reason[KT_TEXT_LEN];
        snprintf (reason, sizeof reason, "REPLACED_FILLED: %.40s filled %lld", o->rec.replaces,
                  (long long) old.filled_qty);
        o->awaiting_old = false;
        s_set_state (self, o, EXEC_ST_REJECTED, reason);
        if (live && !kt_ord_status_is_final (live->rec.status) && !o->old_cancel_asked)
            s_cancel (self, live);
        s_maybe_free (o);
        return;
    }
    if (entry && !kt_ord_status_is_final (old.status)) {
        //  Not ended in the book: o was certainly not sent (it goes only after the old
        //  one's end is recorded), so it is placed as if nothing had happened.
        o->resumed = false;
        //  Asked once the broker can act on it (an UNRESOLVED submit or a request in
        //  flight has no broker id yet).
        if (live && !o->old_cancel_asked &&
            (live->rec.broker_id[0] || live->queued == R_PLACE || live->sliced ||
             live->awaiting_old)) {
            o->old_cancel_asked = true;
            kt_log_info ("exec.replace.cancel", KT_S ("coid", o->rec.coid),
                         KT_S ("replaces", o->rec.replaces), KT_END);
            s_cancel (self, live);
        }
        return;
    }
    //  Ended with nothing filled (or not an entry of ours: nothing to replace).
    o->awaiting_old = false;
    if (!entry)
        kt_log_warn ("exec.replace.unknown", KT_S ("coid", o->rec.coid),
                     KT_S ("replaces", o->rec.replaces), KT_END);
    if (o->resumed) {
        o->fsm.state = EXEC_ST_UNRESOLVED;
        o->unresolved_ms = s_wall_ms ();
        return;
    }
    struct kt_order_rec r = o->rec;
    o->used = false;
    kt_log_info ("exec.replace.place", KT_S ("coid", r.coid), KT_S ("replaces", r.replaces),
                 KT_END);
    if (!s_launch (self, &r)) {
        struct s_ord *back = s_alloc (self, &r);
        if (back)
            s_set_state (self, back, EXEC_ST_REJECTED, "EXEC_DOWN: too many live orders");
    }
    s_pump (self);
}

static void
s_reply_base (const struct kt_order_cmd *cmd, struct kt_exec_event *out)
{
    memset (out, 0, sizeof *out);
    snprintf (out->coid, sizeof out->coid, "%s", cmd->coid);
    snprintf (out->intent_id, sizeof out->intent_id, "%s", cmd->intent_id);
    snprintf (out->sym, sizeof out->sym, "%s", cmd->sym);
    out->side = cmd->side;
    out->purpose = cmd->purpose;
    out->qty = cmd->qty;
}

static int
s_refuse (exec_t *self, struct kt_exec_event *out, const char *fmt, const char *arg)
{
    out->event = KT_EXEC_REJECTED;
    snprintf (out->reason, sizeof out->reason, fmt, arg);
    self->rejected++;
    kt_log_warn ("exec.order.rejected", KT_S ("coid", out->coid), KT_S ("reason", out->reason),
                 KT_END);
    return 0;
}

//  The exit_reason of an EXIT or FLATTEN order: the command's (the strategy's why, carried
//  by risk-gate); a FLATTEN without one is an operator's, an EXIT without one says nothing
//  (the journal then shows its purpose).
static const char *
s_exit_reason (const struct kt_order_cmd *cmd)
{
    if (cmd->reason != KT_EXIT_NONE)
        return kt_exit_reason_str (cmd->reason);
    return cmd->purpose == KT_PURPOSE_FLATTEN ? "MANUAL" : "";
}

static int
s_place (exec_t *self, const struct kt_order_cmd *cmd, struct kt_exec_event *out)
{
    struct kt_order_rec r;
    memset (&r, 0, sizeof r);
    snprintf (r.coid, sizeof r.coid, "%s", cmd->coid);
    snprintf (r.intent_id, sizeof r.intent_id, "%s", cmd->intent_id);
    snprintf (r.sym, sizeof r.sym, "%s", cmd->sym);
    r.side = cmd->side;
    r.order_type = cmd->order_type;
    r.product = cmd->product;
    r.purpose = cmd->purpose != KT_PURPOSE_NONE ? cmd->purpose : KT_PURPOSE_ENTRY;
    r.qty = cmd->qty;
    r.price = cmd->price;
    r.trigger = cmd->trigger;
    if (cmd->has_stop) {
        r.stop_trigger = cmd->stop_trigger;
        r.stop_price = cmd->stop_price;
    }
    r.r_value = cmd->r_value;
    if (r.purpose == KT_PURPOSE_ENTRY && cmd->ref[0])
        snprintf (r.replaces, sizeof r.replaces, "%s", cmd->ref);
    if (r.purpose == KT_PURPOSE_STOP)
        snprintf (r.exit_reason, sizeof r.exit_reason, "STOP");
    if (r.purpose == KT_PURPOSE_FLATTEN || r.purpose == KT_PURPOSE_EXIT)
        snprintf (r.exit_reason, sizeof r.exit_reason, "%s", s_exit_reason (cmd));
    r.created_ns = r.updated_ns = s_now (self);
    //  What the broker would refuse anyway is refused here, recorded, never sent.
    struct exec_kite_order k;
    char form[EXEC_KITE_FORM_MAX], why[160];
    int64_t slices[EXEC_SLICE_MAX];
    s_order_of (self, &r, &k);
    const char *refusal = NULL;
    char text[KT_TEXT_LEN];
    if (exec_kite_place_form (&k, form, sizeof form, why, sizeof why) < 0) {
        snprintf (text, sizeof text, "BAD_MSG: %.110s", why);
        refusal = text;
    } else if (!s_instr (self, r.sym) && (self->instr || r.purpose == KT_PURPOSE_ENTRY)) {
        //  Not listed today: the broker would refuse it. Not loaded: no new risk, but
        //  exits and stops go (unsliced by lot: s_lot).
        if (self->instr)
            snprintf (text, sizeof text, "INSTRUMENT: %.40s is not a tradable %s instrument today",
                      r.sym, self->cfg->exchange);
        else
            snprintf (text, sizeof text, "INSTRUMENT: instruments not loaded: %.80s",
                      self->instr_err);
        refusal = text;
    } else if (r.qty % s_lot (self, r.sym) != 0) {
        snprintf (text, sizeof text, "LOT: %lld units is not a multiple of the lot (%lld)",
                  (long long) r.qty, (long long) s_lot (self, r.sym));
        refusal = text;
    } else if (exec_slice_split (r.qty, s_lot (self, r.sym), self->cfg->freeze_qty,
                                 (int) self->cfg->max_slices, slices, why, sizeof why) < 0) {
        snprintf (text, sizeof text, "FREEZE: %.110s", why);
        refusal = text;
    } else if (self->session_bad && r.purpose == KT_PURPOSE_ENTRY) {
        snprintf (text, sizeof text,
                  "SESSION: TokenException: broker session invalid; load a new token");
        refusal = text;
    }
    r.status = refusal ? KT_OS_REJECTED : KT_OS_PENDING_SUBMIT;
    if (refusal)
        snprintf (r.reason, sizeof r.reason, "%s", refusal);
    struct kt_order_rec existing;
    int rc = kt_book_order_create (self->store, &r, r.created_ns, &existing, why, sizeof why);
    if (rc < 0) {
        self->store_errors++;
        //  Nothing was recorded or sent: final, and the requester may retry.
        return s_refuse (self, out, "STORE_DOWN: %.110s", why);
    }
    if (rc == 0) {
        self->duplicates++;
        s_event_from_rec (&existing, kt_ord_status_exec_kind (existing.status), out);
        kt_log_info ("exec.cmd.duplicate", KT_S ("coid", cmd->coid),
                     KT_S ("status", kt_ord_status_str (existing.status)), KT_END);
        return 0;
    }
    if (refusal) {
        s_event_from_rec (&r, KT_EXEC_REJECTED, out);
        s_publish (self, out);
        self->rejected++;
        kt_log_warn ("exec.order.rejected", KT_S ("coid", r.coid), KT_S ("sym", r.sym),
                     KT_S ("reason", r.reason), KT_END);
        return 0;
    }
    struct s_ord *o = r.replaces[0] ? s_alloc (self, &r) : s_launch (self, &r);
    if (o && r.replaces[0])
        o->awaiting_old = true;
    if (!o) {
        snprintf (r.reason, sizeof r.reason, "EXEC_DOWN: too many live orders (%d)", S_SLOTS);
        r.status = KT_OS_REJECTED;
        kt_book_order_update (self->store, &r, s_now (self), why, sizeof why);
        s_event_from_rec (&r, KT_EXEC_REJECTED, out);
        s_publish (self, out);
        return 0;
    }
    s_event_from_rec (&o->rec, KT_EXEC_SUBMITTED, out);
    s_publish (self, out);
    kt_log_info ("exec.order.submit", KT_S ("coid", r.coid), KT_S ("sym", r.sym),
                 KT_S ("side", kt_side_str (r.side)),
                 KT_S ("type", kt_order_type_str (r.order_type)), KT_I ("qty", r.qty),
                 KT_I ("price", r.price), KT_I ("trigger", r.trigger),
                 KT_S ("replaces", r.replaces), KT_END);
    if (o->awaiting_old)
        s_replace_step (self, o);
    s_pump (self);
    return 0;
}

int
exec_handle_command (exec_t *self, const struct kt_order_cmd *cmd, struct kt_exec_event *out)
{
    self->commands++;
    s_reply_base (cmd, out);
    if (!cmd->coid[0] || cmd->action == KT_ACTION_NONE) {
        out->event = KT_EXEC_REJECTED;
        snprintf (out->reason, sizeof out->reason, "BAD_MSG: command without coid or action");
        return -1;
    }
    switch (cmd->action) {
        case KT_ACTION_PLACE:
            return s_place (self, cmd, out);
        case KT_ACTION_MODIFY:
        case KT_ACTION_CANCEL: {
            struct s_ord *o = s_find (self, cmd->ref);
            if (!o || kt_ord_status_is_final (o->rec.status))
                return s_refuse (self, out, "BAD_MSG: no live order %.40s", cmd->ref);
            if (cmd->action == KT_ACTION_CANCEL) {
                s_cancel (self, o);
                s_cmd_track (self, cmd);
            } else {
                if (o->sliced)
                    return s_refuse (self, out, "BAD_MSG: %.40s is sliced: modify its slices",
                                     cmd->ref);
                s_order_of (self, &o->rec, &o->mod);
                if (cmd->qty > 0)
                    o->mod.qty = cmd->qty;
                if (cmd->order_type != KT_OT_NONE)
                    o->mod.type = cmd->order_type;
                if (cmd->price > 0)
                    o->mod.price = cmd->price;
                if (cmd->trigger > 0)
                    o->mod.trigger = cmd->trigger;
                char form[EXEC_KITE_FORM_MAX], why[160];
                if (exec_kite_modify_form (&o->mod, form, sizeof form, why, sizeof why) < 0)
                    return s_refuse (self, out, "BAD_MSG: %.110s", why);
                if (!o->rec.broker_id[0])
                    return s_refuse (self, out, "BAD_MSG: order %.40s is not at the broker yet",
                                     cmd->ref);
                s_queue (self, o, R_MODIFY);
                snprintf (o->mod_cmd, sizeof o->mod_cmd, "%s", cmd->coid);
            }
            out->event = KT_EXEC_SUBMITTED;
            snprintf (out->reason, sizeof out->reason, "%s of %.40s requested",
                      kt_action_str (cmd->action), cmd->ref);
            s_pump (self);
            return 0;
        }
        case KT_ACTION_CANCEL_ALL:
            s_cancel_live (self, cmd->purpose == KT_PURPOSE_ENTRY);
            s_cmd_track (self, cmd);
            out->event = KT_EXEC_SUBMITTED;
            snprintf (out->reason, sizeof out->reason, "cancel of every live %s requested",
                      cmd->purpose == KT_PURPOSE_ENTRY ? "entry" : "order");
            s_pump (self);
            return 0;
        case KT_ACTION_FLATTEN:
            if (cmd->sym[0]) {
                //  One position (tradectl flatten): its orders are cancelled and the exit
                //  (the command's own order, at market) waits for them, at most 5 s.
                for (int i = 0; i < S_SLOTS; i++) {
                    struct s_ord *o = &self->ord[i];
                    if (o->used && strcmp (o->rec.sym, cmd->sym) == 0)
                        s_cancel (self, o);
                }
                struct kt_order_cmd exit = *cmd;
                exit.action = KT_ACTION_PLACE;
                exit.order_type = KT_OT_MARKET;
                exit.purpose = KT_PURPOSE_FLATTEN;
                exit.has_stop = false;
                int rc = s_place (self, &exit, out);
                struct s_ord *o = s_find (self, cmd->coid);
                if (o && o->queued == R_PLACE && s_cancelable (self, cmd->sym, false) > 1)
                    o->not_before_ms = s_wall_ms () + 5000;
                return rc;
            }
            out->event = KT_EXEC_SUBMITTED;
            if (self->flattening) {
                snprintf (out->reason, sizeof out->reason, "FLATTEN %s in progress",
                          self->flat_coid);
                return 0;
            }
            self->flattening = true;
            self->flat_round = 0;
            self->flat_next_ms = 0;
            self->flat_wait_ms = s_wall_ms () + 5000;
            snprintf (self->flat_coid, sizeof self->flat_coid, "%s", cmd->coid);
            snprintf (self->flat_intent, sizeof self->flat_intent, "%s", cmd->intent_id);
            self->flat_reason = cmd->reason != KT_EXIT_NONE ? cmd->reason : KT_EXIT_MANUAL;
            snprintf (out->reason, sizeof out->reason, "FLATTEN started");
            s_cancel_live (self, false);
            kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_WARNING, "exec.flatten",
                           "FLATTEN %s: cancelling every order, then exiting every position",
                           cmd->coid);
            s_pump (self);
            return 0;
        default:
            return s_refuse (self, out, "BAD_MSG: unknown action%s", "");
    }
}

int
exec_handle_update (exec_t *self, const struct kt_order_update *u)
{
    struct exec_kite_row row;
    exec_update_from_msg (u, &row);
    struct s_ord *o = s_find_row (self, &row);
    if (!o) {
        //  A late update of an order that already ended is dropped quietly; one with a tag
        //  the book never saw is logged (the reconciler adopts or closes it).
        struct kt_order_rec rec;
        char why[128];
        if (row.tag[0] && !s_find (self, row.tag) &&
            kt_book_order_get (self->store, row.tag, &rec, why, sizeof why) == 0) {
            self->unknown_orders++;
            kt_log_info ("exec.update.unknown", KT_S ("broker_id", row.order_id),
                         KT_S ("tag", row.tag), KT_S ("status", row.status), KT_END);
        }
        return -1;
    }
    s_observe (self, o, &row);
    return 0;
}

// ---- sockets ------------------------------------------------------------------------------------

static int
s_on_command (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
              void *arg)
{
    (void) topic;
    exec_t *self = arg;
    if (m->env.type != KT_MSG_ORDER_COMMAND) {
        kt_log_warn ("msg.reject", KT_S ("why", "expected ORDER_COMMAND"),
                     KT_S ("type", kt_msg_type_str (m->env.type)), KT_END);
        return 0;
    }
    struct kt_msg reply;
    memset (&reply, 0, sizeof reply);
    reply.env.type = KT_MSG_EXEC_EVENT;
    exec_handle_command (self, &m->u.cmd, &reply.u.exec);
    char t[KT_TOPIC_LEN];
    s_topic (reply.u.exec.event, t, sizeof t);
    kt_bus_t *bus = kt_proc_bus (proc);
    if (kt_bus_reply (bus, self->router, peer, t, &reply) != 0)
        kt_log_warn ("exec.reply.fail", KT_S ("coid", m->u.cmd.coid),
                     KT_S ("why", kt_bus_errstr (bus)), KT_END);
    return 0;
}

//  The price step of a tick's instrument (0 when unknown: the paper broker then does not
//  match on it).
static int64_t
s_tick_of (exec_t *self, const struct kt_tick *t)
{
    const struct kt_instr *in = self->instr ? kt_instr_by_token (self->instr, t->token) : NULL;
    if (!in || strcmp (in->sym, t->sym) != 0)
        in = s_instr (self, t->sym);
    return in ? in->tick : 0;
}

static int
s_on_md (kt_proc_t *proc, const kt_bus_peer_t *peer, const char *topic, const struct kt_msg *m,
         void *arg)
{
    (void) proc;
    (void) peer;
    (void) topic;
    exec_t *self = arg;
    if (m->env.type == KT_MSG_ORDER_UPDATE)
        exec_handle_update (self, &m->u.order_update);
    else if (m->env.type == KT_MSG_TICK && self->paper &&
             exec_paper_tick (self->paper, &m->u.tick, s_tick_of (self, &m->u.tick), s_now (self)) >
                 0)
        s_poll (self); //  fills and triggers reach the book on this tick
    return 0;
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    exec_t *self = arg;
    if (max < 15)
        return 0;
    int live = 0;
    for (int i = 0; i < S_SLOTS; i++)
        live += self->ord[i].used && !kt_ord_status_is_final (self->ord[i].rec.status);
    out[0] = KT_B ("order_entry", true);
    out[1] = KT_I ("commands", self->commands);
    out[2] = KT_I ("duplicates", self->duplicates);
    out[3] = KT_I ("rejected", self->rejected);
    out[4] = KT_I ("store_errors", self->store_errors);
    out[5] = KT_I ("sent", self->sent);
    out[6] = KT_I ("http_errors", self->http_errors);
    out[7] = KT_I ("throttled", self->throttled);
    out[8] = KT_I ("unresolved", self->unresolved);
    out[9] = KT_I ("settled", self->settled);
    out[10] = KT_I ("fills", self->fills);
    out[11] = KT_I ("updates_dropped", self->updates_dropped);
    out[12] = KT_I ("live_orders", live);
    out[13] = KT_B ("session_ok", !self->session_bad);
    out[14] = KT_I ("token_errors", self->token_errors);
    return 15;
}

static void
s_load_order (const struct kt_order_rec *rec, void *arg)
{
    exec_t *self = arg;
    struct s_ord *o = s_alloc (self, rec);
    if (!o) {
        kt_log_error ("exec.slots.full", KT_S ("coid", rec->coid), KT_END);
        return;
    }
    //  A sliced parent is not a broker order: its slices are (rebuilt after loading).
    if (strcmp (rec->broker_status, KT_BOOK_SLICED) == 0) {
        int64_t q[EXEC_SLICE_MAX];
        char why[128];
        o->sliced = true;
        o->nslices = exec_slice_split (rec->qty, s_lot (self, rec->sym), self->cfg->freeze_qty,
                                       (int) self->cfg->max_slices, q, why, sizeof why);
    }
    //  A submit recorded but not known to have left: it may have. Settle it by tag.
    //  A replacement recorded but not sent: it waits for the old one again (settled by
    //  s_replace_step, which knows whether it may have left).
    else if (rec->replaces[0] && rec->status == KT_OS_PENDING_SUBMIT && !rec->broker_id[0]) {
        o->awaiting_old = true;
        o->resumed = true;
    } else if (rec->status == KT_OS_PENDING_SUBMIT || rec->status == KT_OS_UNRESOLVED ||
               !rec->broker_id[0]) {
        o->fsm.state = EXEC_ST_UNRESOLVED;
        o->unresolved_ms = s_wall_ms ();
    }
    kt_log_info ("exec.order.loaded", KT_S ("coid", rec->coid),
                 KT_S ("status", kt_ord_status_str (rec->status)),
                 KT_S ("broker_id", rec->broker_id), KT_END);
}

//  An entry that filled whole is not loaded at start (it is not open); if the crash came
//  between its last fill and its stop's record, its open position has no stop. For each
//  open position, the entry that opened it and the newest one that added to it (every
//  slice of each, when sliced) get their first stop if they never had one (s_stop_sync
//  places a stop once only). An earlier add-on had its stop recorded before a later
//  entry's fill was applied: fills are applied one at a time, each followed by its stop.
static void
s_protect_entry (exec_t *self, const struct kt_order_rec *e, int64_t pos_qty)
{
    if (e->purpose == KT_PURPOSE_ENTRY && e->stop_trigger > 0 && e->filled_qty > 0 &&
        (e->side == KT_SIDE_SELL) == (pos_qty < 0) && !s_find (self, e->coid))
        s_stop_sync (self, e);
}

static void
s_protect_coid (exec_t *self, const char *coid, int64_t pos_qty)
{
    struct kt_order_rec e, p;
    char why[128];
    if (!coid[0] || kt_book_order_get (self->store, coid, &e, why, sizeof why) != 1)
        return;
    if (!s_is_slice (&e) || kt_book_order_get (self->store, e.parent, &p, why, sizeof why) != 1 ||
        strcmp (p.broker_status, KT_BOOK_SLICED) != 0) {
        s_protect_entry (self, &e, pos_qty);
        return;
    }
    for (int k = 0; k < EXEC_SLICE_MAX; k++) {
        char tag[KT_ID_LEN];
        exec_slice_tag (p.coid, k, EXEC_SLICE_MAX, tag, sizeof tag);
        if (kt_book_order_get (self->store, tag, &e, why, sizeof why) != 1)
            break;
        s_protect_entry (self, &e, pos_qty);
    }
}

static void
s_protect_pos (const struct kt_pos_rec *pos, void *arg)
{
    exec_t *self = arg;
    if (pos->qty == 0)
        return;
    s_protect_coid (self, pos->entry_coid, pos->qty);
    if (strcmp (pos->last_entry_coid, pos->entry_coid) != 0)
        s_protect_coid (self, pos->last_entry_coid, pos->qty);
}

//  A sliced parent's totals after a restart: from its slices' records.
static void
s_rebuild_parents (exec_t *self)
{
    for (int i = 0; i < S_SLOTS; i++) {
        struct s_ord *p = &self->ord[i];
        if (!p->used || !p->sliced)
            continue;
        int64_t was = p->rec.filled_qty;
        p->rec.filled_qty = p->agg_value = 0;
        p->slices_final = p->slices_rejected = 0;
        int64_t q[EXEC_SLICE_MAX];
        char why[128];
        bool split =
            exec_slice_split (p->rec.qty, s_lot (self, p->rec.sym), self->cfg->freeze_qty,
                              (int) self->cfg->max_slices, q, why, sizeof why) == p->nslices;
        for (int k = 0; k < p->nslices; k++) {
            char tag[KT_ID_LEN];
            struct kt_order_rec c;
            exec_slice_tag (p->rec.coid, k, p->nslices, tag, sizeof tag);
            int got = kt_book_order_get (self->store, tag, &c, why, sizeof why);
            if (got == 0 && split) {
                //  Never recorded (the crash came while the slices were being recorded),
                //  so never sent: recorded and sent now.
                kt_log_warn ("exec.slice.missing", KT_S ("coid", tag), KT_I ("qty", q[k]), KT_END);
                s_slice_launch (self, &p->rec, k, p->nslices, q[k]);
                continue;
            }
            if (got != 1)
                continue;
            p->rec.filled_qty += c.filled_qty;
            p->agg_value += c.fill_value;
            if (kt_ord_status_is_final (c.status)) {
                p->slices_final++;
                p->slices_rejected += c.status == KT_OS_REJECTED;
            }
            struct s_ord *o = s_find (self, tag);
            if (o)
                o->counted = kt_ord_status_is_final (c.status);
        }
        p->rec.fill_value = p->agg_value;
        if (p->rec.filled_qty > 0)
            p->rec.avg_px = (p->agg_value + p->rec.filled_qty / 2) / p->rec.filled_qty;
        if (p->rec.filled_qty != was) //  a slice filled after the parent's last write
            s_book_update (self, p);
    }
}

exec_t *
exec_new (kt_proc_t *proc, const struct exec_cfg *cfg)
{
    exec_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    self->store = kt_proc_store (proc);
    self->sig_fd = -1;
    const struct kt_cfg *kc = kt_proc_cfg (proc);
    snprintf (self->api, sizeof self->api, "%s", kc->kite_api_url);
    size_t n = strlen (self->api);
    while (n > 0 && self->api[n - 1] == '/')
        self->api[--n] = '\0';
    s_headers (self, kc);
    exec_rate_init (&self->rate, cfg->rate_per_s, cfg->rate_per_s, s_wall_ms () * 1000000);
    if (kt_book_register (self->store) != 0) {
        kt_log_error ("exec.init", KT_S ("why", "script registry full"), KT_END);
        free (self);
        return NULL;
    }
    kt_loop_t *loop = kt_proc_loop (proc);
    self->http = kt_http_new (loop);
    kt_bus_t *bus = kt_proc_bus (proc);
    self->pub = self->http ? kt_bus_bind (bus, "exec_pub", ZMQ_PUB) : NULL;
    self->router = self->pub ? kt_proc_serve (proc, "exec", s_on_command, self) : NULL;
    if (!self->router) {
        kt_log_error ("exec.bind", KT_S ("why", self->http ? kt_bus_errstr (bus) : "http"), KT_END);
        kt_http_destroy (&self->http);
        free (self);
        return NULL;
    }
    if (strcmp (kc->mode, "paper") == 0)
        self->paper = exec_paper_new (cfg->paper_slippage_ticks);
    if (cfg->journal_dir[0])
        self->journal = exec_journal_new (cfg->journal_dir);
    static const char *const prefixes[] = {"md.order", NULL};
    static const char *const paper_prefixes[] = {"md.order", "md.tick", NULL};
    if (!kt_proc_sub (proc, "md", self->paper ? paper_prefixes : prefixes, s_on_md, self))
        kt_log_warn ("exec.md.sub", KT_S ("why", kt_bus_errstr (bus)), KT_END);
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGHUP);
    if (sigprocmask (SIG_BLOCK, &set, NULL) == 0)
        self->sig_fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (self->sig_fd >= 0)
        kt_loop_fd (loop, self->sig_fd, POLLIN, s_on_signal, self);
    //  Instruments before the book: a sliced parent's slices are counted with its lot.
    s_load_instruments (self);
    //  Start-up: what the book says is open, then the broker's book settles it.
    char why[160];
    int nloaded = kt_book_each_open_order (self->store, s_load_order, self, NULL, why, sizeof why);
    if (nloaded < 0)
        kt_log_warn ("exec.load", KT_S ("why", why), KT_END);
    s_rebuild_parents (self);
    //  Entries loaded with fills: their stops are brought to the filled quantity (a fill
    //  applied just before the stop was recorded or resized is not applied again).
    for (int i = 0; i < S_SLOTS; i++)
        if (self->ord[i].used && !self->ord[i].sliced)
            s_stop_sync (self, &self->ord[i].rec);
    if (kt_book_each_position (self->store, s_protect_pos, self, NULL, why, sizeof why) < 0)
        kt_log_warn ("exec.load.positions", KT_S ("why", why), KT_END);
    if (self->paper) {
        //  The paper broker's resting orders lived in the process that stopped: they are
        //  gone, and so are ours (positions stay in the book).
        for (int i = 0; i < S_SLOTS; i++)
            if (self->ord[i].used && !kt_ord_status_is_final (self->ord[i].rec.status)) {
                self->ord[i].sliced = false;
                s_set_state (self, &self->ord[i], EXEC_ST_CANCELLED,
                             "paper broker restarted: its resting orders are gone");
                s_maybe_free (&self->ord[i]);
            }
        self->ready = true;
    }
    s_reload_seen (self, self->reload_seen, sizeof self->reload_seen);
    self->ready = nloaded == 0;
    kt_loop_before_sleep (loop, s_pump_hook, self);
    kt_loop_wait_cap (loop, s_wait_cap, self);
    self->tick_timer = kt_loop_timer_wall (loop, 100, true, s_on_tick, self);
    kt_proc_set_counters (proc, s_counters, self);
    //  A session found invalid by an earlier run ends with it: this one starts with the
    //  token configured now, and its first broker call tells.
    s_session_write (self, true, "exec-gateway started with its configured access token");
    kt_log_info ("exec.start", KT_S ("api", self->api),
                 KT_I ("open_orders", nloaded > 0 ? nloaded : 0),
                 KT_I ("rate_per_s", cfg->rate_per_s), KT_END);
    return self;
}

void
exec_destroy (exec_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    exec_t *self = *self_p;
    kt_proc_set_counters (self->proc, NULL, NULL);
    kt_loop_t *loop = kt_proc_loop (self->proc);
    kt_loop_timer_end (loop, self->tick_timer);
    //  The loop outlives us (a restart in the same process): nothing of ours may run.
    kt_loop_before_sleep_end (loop, s_pump_hook, self);
    kt_loop_wait_cap_end (loop, s_wait_cap, self);
    if (self->sig_fd >= 0) {
        kt_loop_fd_end (loop, self->sig_fd);
        close (self->sig_fd);
    }
    //  Pending requests end with CANCELLED: their callbacks see slots about to go.
    for (int i = 0; i < S_SLOTS; i++)
        self->ord[i].used = false;
    kt_http_destroy (&self->http);
    exec_paper_destroy (&self->paper);
    kt_instr_destroy (&self->instr);
    exec_journal_destroy (&self->journal);
    free (self);
    *self_p = NULL;
}
