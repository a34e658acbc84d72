/*  kt_proc - the runtime every process shares: loop, clock, store, bus, alerts and the
 *  heartbeat. See kt_proc.h.
 *
 *  Design: construction is ordered so that each part can borrow the ones before it
 *  (clock <- store, loop <- clock, bus <- clock, alerts <- bus); destruction runs in
 *  reverse. Only start-up waits for Redis (bounded by its timeout): afterwards the
 *  heartbeat and the clock follow-up are queued on the loop and never block it. */

#include "kt_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define KT_PROC_SOCKS_MAX 8

//  One socket the proc dispatches for a process.
struct kt_proc_sock {
    kt_proc_t *proc; //  borrowed (back pointer)
    void *sock;      //  borrowed from the bus
    bool router;
    kt_proc_msg_fn *fn;
    void *arg;     //  borrowed
    char name[32]; //  endpoint name, for loop.slow
};

struct kt_proc {
    const kt_cfg_t *cfg; //  borrowed
    char name[KT_SRC_LEN];
    kt_clock_t *clock;      //  owned
    kt_store_t *store;      //  owned
    kt_loop_t *loop;        //  owned
    kt_bus_t *bus;          //  owned
    kt_alert_out_t *alerts; //  owned
    int64_t started_ns;
    int beat_timer;
    int64_t clock_gen;     //  `gen` of the clock hash we follow
    bool store_up;         //  as last logged
    int64_t store_dropped; //  as last alerted
    kt_proc_counters_fn *counters_fn;
    void *counters_arg; //  borrowed
    struct kt_proc_sock socks[KT_PROC_SOCKS_MAX];
    int nsocks;
    struct kt_msg rx; //  receive buffer: no per-message allocation
};

//  Atomically adopt the shared clock anchor, or create it from our config when none
//  exists yet: whoever comes first (kite-sim normally) decides for everyone.
static const char s_clock_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  redis.call('HSET', KEYS[1], 'wall_anchor_ns', ARGV[1], 'sim_anchor_ns', ARGV[2],\n"
    "             'speed_ppm', ARGV[3], 'mode', 'sim', 'date', ARGV[4], 'gen', '1',\n"
    "             'by', ARGV[5])\n"
    "end\n"
    "return redis.call('HMGET', KEYS[1], 'wall_anchor_ns', 'sim_anchor_ns', 'speed_ppm', "
    "'gen')\n";

//  Element i of an array result as an int64 (0 when missing or not a number).
static int64_t
s_elem_i64 (const kt_store_result_t *r, size_t i)
{
    kt_store_result_t e = kt_store_result_at (r, i);
    int64_t v = 0;
    return kt_store_result_i64 (&e, &v) == 0 ? v : 0;
}

//  The clock hash's 4 fields (HMGET or the clock script) into a sim clock, or NULL.
static kt_clock_t *
s_clock_from (const kt_store_result_t *r, int64_t *gen)
{
    if (r->kind != KT_STORE_ARR || r->elements != 4)
        return NULL;
    int64_t w = s_elem_i64 (r, 0), s = s_elem_i64 (r, 1), p = s_elem_i64 (r, 2);
    if (gen)
        *gen = s_elem_i64 (r, 3);
    return w > 0 && s > 0 && p > 0 ? kt_clock_new_sim (w, s, p) : NULL;
}

//  Session anchor from config: clock.date (or today IST) at clock.start IST.
static int
s_config_anchor (const kt_cfg_t *cfg, int64_t *sim_anchor_ns, int *yyyymmdd, char *err,
                 size_t errlen)
{
    int y, mo, d, hh = 9, mi = 15;
    if (cfg->clock_date[0]) {
        if (kt_ist_parse_date (cfg->clock_date, &y, &mo, &d) != 0) {
            snprintf (err, errlen, "clock.date: not YYYY-MM-DD: %s", cfg->clock_date);
            return -1;
        }
    } else
        kt_ist_fields (kt_clock_wall_ns (), &y, &mo, &d, NULL, NULL, NULL, NULL);
    if (cfg->clock_start[0] && kt_ist_parse_hhmm (cfg->clock_start, &hh, &mi) != 0) {
        snprintf (err, errlen, "clock.start: not HH:MM: %s", cfg->clock_start);
        return -1;
    }
    *sim_anchor_ns = kt_ist_ns (y, mo, d, hh, mi, 0);
    *yyyymmdd = y * 10000 + mo * 100 + d;
    return 0;
}

//  Read (or create) the shared clock. Falls back to a local sim clock from config when
//  Redis is down, so a process can still start; the heartbeat adopts the shared anchor
//  once Redis answers.
static kt_clock_t *
s_clock_new (kt_proc_t *self, char *err, size_t errlen)
{
    const kt_cfg_t *cfg = self->cfg;
    if (strcmp (cfg->clock_mode, "sim") != 0)
        return kt_clock_new_real ();

    int64_t sim_anchor, wall_anchor = kt_clock_wall_ns ();
    int64_t speed_ppm = (int64_t) (cfg->clock_speed * 1e6 + 0.5);
    int ymd;
    if (s_config_anchor (cfg, &sim_anchor, &ymd, err, errlen) != 0)
        return NULL;

    int script = kt_store_script (self->store, "clock", s_clock_lua);
    char a1[24], a2[24], a3[24], a4[16];
    kt_key_t key = kt_store_keyv (self->store, "clock");
    snprintf (a1, sizeof a1, "%lld", (long long) wall_anchor);
    snprintf (a2, sizeof a2, "%lld", (long long) sim_anchor);
    snprintf (a3, sizeof a3, "%lld", (long long) speed_ppm);
    snprintf (a4, sizeof a4, "%d", ymd);
    const char *keys[] = {key.s};
    const char *args[] = {a1, a2, a3, a4, self->name};
    kt_store_result_t r = kt_store_eval_call (self->store, script, 1, keys, 5, args);
    int64_t gen = 0;
    kt_clock_t *clock = s_clock_from (&r, &gen);
    if (clock)
        self->clock_gen = gen;
    else {
        kt_log_warn ("clock.local", KT_S ("why", kt_store_errstr (self->store)),
                     KT_S ("msg", "Redis clock hash unavailable; using the config anchor"), KT_END);
        clock = kt_clock_new_sim (wall_anchor, sim_anchor, speed_ppm);
    }
    kt_store_result_free (&r);
    if (!clock)
        snprintf (err, errlen, "clock.speed: must be > 0");
    return clock;
}

kt_clock_t *
kt_proc_shared_clock (kt_store_t *store, int64_t *gen)
{
    kt_key_t key = kt_store_keyv (store, "clock");
    kt_store_result_t r =
        kt_store_callf (store, "HMGET %s wall_anchor_ns sim_anchor_ns speed_ppm gen", key.s);
    kt_clock_t *clock = s_clock_from (&r, gen);
    kt_store_result_free (&r);
    return clock;
}

//  The clock hash arrived (asynchronously, queued by the heartbeat).
static void
s_on_clock (const kt_store_result_t *r, void *arg)
{
    kt_proc_t *self = arg;
    int64_t gen = 0;
    kt_clock_t *shared = s_clock_from (r, &gen);
    int64_t w, s, p;
    if (shared && gen != self->clock_gen && kt_clock_anchor (shared, &w, &s, &p) == 0) {
        kt_clock_set_anchor (self->clock, w, s, p);
        kt_log_info ("clock.adopt", KT_I ("gen", gen), KT_I ("sim_anchor_ns", s),
                     KT_I ("speed_ppm", p), KT_END);
        self->clock_gen = gen;
    }
    kt_clock_destroy (&shared);
}

//  Follow a restarted simulated session: kite-sim bumps `gen` when it re-anchors. The
//  read is queued like a write, so a stalled Redis never stalls the beat.
static void
s_clock_follow (kt_proc_t *self)
{
    if (!kt_clock_is_sim (self->clock))
        return;
    kt_key_t key = kt_store_keyv (self->store, "clock");
    kt_store_sendf (self->store, s_on_clock, self,
                    "HMGET %s wall_anchor_ns sim_anchor_ns speed_ppm gen", key.s);
}

//  Log the store's transitions (down, up again) and new drops, once each.
static void
s_store_watch (kt_proc_t *self)
{
    bool up = kt_store_is_ready (self->store);
    if (up != self->store_up) {
        if (up)
            kt_log_info ("store.up", KT_I ("reconnects", kt_store_reconnects (self->store)),
                         KT_END);
        else
            kt_log_warn ("store.down", KT_S ("why", kt_store_errstr (self->store)),
                         KT_I ("queued", kt_store_stats (self->store).queued), KT_END);
        self->store_up = up;
    }
    kt_store_stats_t st = kt_store_stats (self->store);
    if (st.dropped > self->store_dropped && self->alerts) {
        //  Writes were lost: a human must look (Redis down longer than the queue lasts).
        kt_alert_send (self->alerts, KT_SEV_CRITICAL, "store.drop",
                       "%lld Redis writes dropped (queue full, %lld queued): %s",
                       (long long) (st.dropped - self->store_dropped), (long long) st.queued,
                       kt_store_errstr (self->store));
    }
    self->store_dropped = st.dropped;
}

static int s_beat (kt_proc_t *self);

static int
s_on_beat (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_beat ((kt_proc_t *) arg);
    return 0;
}

static int64_t
s_log_clock (void *arg)
{
    return kt_clock_now_ns ((kt_clock_t *) arg);
}

//  The sequence epoch: a new, larger value at every start, so seq never goes back. It
//  is max(last + 1, wall seconds): without Redis the wall seconds alone still grow, and
//  a later start with Redis back never falls below them.
static const char s_epoch_lua[] = "local v = tonumber(redis.call('GET', KEYS[1]) or '0') + 1\n"
                                  "local w = tonumber(ARGV[1])\n"
                                  "if w > v then v = w end\n"
                                  "redis.call('SET', KEYS[1], v)\n"
                                  "return v\n";

static uint32_t
s_seq_epoch (kt_proc_t *self)
{
    char now[24];
    kt_key_t key = kt_store_keyv (self->store, "seq:%s", self->name);
    uint32_t wall = (uint32_t) (kt_clock_wall_ns () / KT_NS_PER_SEC);
    snprintf (now, sizeof now, "%u", wall);
    int script = kt_store_script (self->store, "seq_epoch", s_epoch_lua);
    const char *keys[] = {key.s};
    const char *args[] = {now};
    kt_store_result_t r = kt_store_eval_call (self->store, script, 1, keys, 1, args);
    uint32_t epoch = wall;
    if (r.kind == KT_STORE_INT && r.integer > 0 && r.integer <= UINT32_MAX)
        epoch = (uint32_t) r.integer;
    kt_store_result_free (&r);
    return epoch;
}

kt_proc_t *
kt_proc_new (const kt_cfg_t *cfg, const char *name, char *err, size_t errlen)
{
    kt_proc_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->cfg = cfg;
    snprintf (self->name, sizeof self->name, "%s", name);

    int lvl = kt_log_level_parse (cfg->log_level);
    kt_log_open (name, lvl < 0 ? KT_LOG_INFO : (kt_log_level_t) lvl);

    self->store = kt_store_new (cfg->redis_host, (int) cfg->redis_port, cfg->redis_prefix,
                                (int) cfg->redis_timeout_ms);
    //  The one blocking start-up check (bounded by redis.timeout_ms per round trip):
    //  the clock and the sequence epoch below are decisions start-up waits for.
    self->store_up = kt_store_connect (self->store) == 0;
    if (!self->store_up)
        kt_log_warn ("store.down", KT_S ("why", kt_store_errstr (self->store)),
                     KT_S ("host", cfg->redis_host), KT_I ("port", cfg->redis_port), KT_END);

    self->clock = s_clock_new (self, err, errlen);
    if (!self->clock)
        goto out_free;
    if (kt_clock_is_sim (self->clock))
        kt_log_set_clock (s_log_clock, self->clock);
    self->started_ns = kt_clock_now_ns (self->clock);

    self->loop = kt_loop_new ();
    kt_loop_set_clock (self->loop, self->clock);
    kt_loop_set_slow_ms (self->loop, cfg->health_slow_ms);
    //  From here on writes are queued on the loop: nothing that follows waits for Redis.
    kt_store_attach (self->store, self->loop);

    self->bus = kt_bus_new (cfg, self->clock, name, s_seq_epoch (self));
    if (!self->bus) {
        snprintf (err, errlen, "bus: cannot create the ZeroMQ context");
        goto out_free;
    }
    self->alerts = kt_alert_out_new (self->bus);
    if (!self->alerts) {
        snprintf (err, errlen, "bus: alerts endpoint: %s", kt_bus_errstr (self->bus));
        goto out_free;
    }
    //  A wall timer: the beat is what notices a new clock anchor (kite-sim resumed), so it
    //  must not be sized from the speed at start (a paused clock's would be ~17 minutes).
    self->beat_timer = kt_loop_timer_wall (self->loop, cfg->health_beat_ms, true, s_on_beat, self);
    kt_loop_timer_name (self->loop, self->beat_timer, "proc.beat");
    s_beat (self);
    return self;

out_free:
    kt_proc_destroy (&self);
    return NULL;
}

void
kt_proc_destroy (kt_proc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_proc_t *self = *self_p;
    if (self->clock)
        kt_log_set_clock (NULL, NULL);
    kt_alert_out_destroy (&self->alerts);
    kt_bus_destroy (&self->bus);
    //  Give queued writes (the last events and beat) one timeout to land, then detach
    //  the store from the loop before the loop goes.
    if (self->store && self->cfg)
        kt_store_flush (self->store, (int) self->cfg->redis_timeout_ms);
    kt_store_destroy (&self->store);
    kt_loop_destroy (&self->loop);
    kt_clock_destroy (&self->clock);
    free (self);
    *self_p = NULL;
}

kt_loop_t *
kt_proc_loop (kt_proc_t *self)
{
    return self->loop;
}

kt_clock_t *
kt_proc_clock (kt_proc_t *self)
{
    return self->clock;
}

kt_store_t *
kt_proc_store (kt_proc_t *self)
{
    return self->store;
}

kt_bus_t *
kt_proc_bus (kt_proc_t *self)
{
    return self->bus;
}

kt_alert_out_t *
kt_proc_alerts (kt_proc_t *self)
{
    return self->alerts;
}

const kt_cfg_t *
kt_proc_cfg (kt_proc_t *self)
{
    return self->cfg;
}

const char *
kt_proc_name (kt_proc_t *self)
{
    return self->name;
}

int64_t
kt_proc_now_ns (kt_proc_t *self)
{
    return kt_clock_now_ns (self->clock);
}

void
kt_proc_set_counters (kt_proc_t *self, kt_proc_counters_fn *fn, void *arg)
{
    self->counters_fn = fn;
    self->counters_arg = arg;
}

//  Queue the heartbeat (and the clock follow-up). Never waits: the beat timer's path.
static int
s_beat (kt_proc_t *self)
{
    kt_kv_t kv[KT_PROC_COUNTERS_MAX + 16];
    int n = 0;
    kv[n++] = KT_S ("mode", self->cfg->mode);
    kv[n++] = KT_I ("bus_gaps", kt_bus_gaps (self->bus));
    kv[n++] = KT_I ("bus_restarts", kt_bus_restarts (self->bus));
    kv[n++] = KT_I ("bus_rejects", kt_bus_rejects (self->bus));
    kv[n++] = KT_I ("bus_drops", kt_bus_drops (self->bus));
    kv[n++] = KT_I ("alert_drops", kt_alert_out_drops (self->alerts));
    kt_store_stats_t st = kt_store_stats (self->store);
    kv[n++] = KT_I ("store_reconnects", st.reconnects);
    kv[n++] = KT_I ("store_queued", st.queued);
    kv[n++] = KT_I ("store_written", st.written);
    kv[n++] = KT_I ("store_retried", st.retried);
    kv[n++] = KT_I ("store_dropped", st.dropped);
    kv[n++] = KT_I ("store_refused", st.refused);
    kv[n++] = KT_I ("loop_slow", kt_loop_slow_count (self->loop));
    if (self->counters_fn)
        n += self->counters_fn (kv + n, KT_PROC_COUNTERS_MAX, self->counters_arg);
    kv[n] = KT_END;
    s_store_watch (self);
    int ttl = (int) self->cfg->health_ttl_s;
    if (kt_store_heartbeat (self->store, self->name, self->started_ns,
                            kt_clock_now_ns (self->clock), ttl, kv) != 0)
        return -1;
    s_clock_follow (self);
    return 0;
}

int
kt_proc_beat (kt_proc_t *self)
{
    if (s_beat (self) != 0)
        return -1;
    //  An explicit beat is waited for (tools and tests read the hash next).
    return kt_store_flush (self->store, (int) self->cfg->redis_timeout_ms) == 0 ? 0 : -1;
}

int64_t
kt_proc_wall_to_pipeline_ms (kt_proc_t *self, int64_t wall_ms)
{
    int64_t ppm = kt_clock_speed_ppm (self->clock);
    int64_t ms = (int64_t) ((__int128) wall_ms * ppm / 1000000);
    return ms > 0 ? ms : 1;
}

int
kt_proc_main (int argc, char **argv, const kt_proc_spec_t *spec)
{
    kt_cfg_t *cfg = kt_cfg_load (argc, argv, spec->name, spec->table, spec->proc_cfg);
    if (!cfg)
        return 2; //  reason already printed: bad config is not a crash
    if (cfg->print_only) {
        kt_cfg_destroy (&cfg);
        return 0;
    }
    int rc = 1;
    char err[256] = "";
    kt_proc_t *proc = kt_proc_new (cfg, spec->name, err, sizeof err);
    if (!proc) {
        kt_log_error ("proc.fail", KT_S ("why", err), KT_END);
        goto out_cfg;
    }
    void *ctx = spec->new_fn (proc, spec->proc_cfg);
    if (!ctx)
        goto out_proc;
    kt_log_info ("proc.start", KT_S ("mode", cfg->mode), KT_S ("config", cfg->file),
                 KT_I ("pid", getpid ()), KT_END);
    rc = kt_loop_run (kt_proc_loop (proc)) == 0 ? 0 : 1;
    kt_log_info ("proc.stop", KT_I ("rc", rc), KT_END);
    spec->destroy_fn (&ctx);
out_proc:
    kt_proc_destroy (&proc);
out_cfg:
    kt_cfg_destroy (&cfg);
    return rc;
}

//  Drain a socket, at most KT_PROC_DRAIN_MAX messages per call: zmq_poll reports a
//  socket with queued messages as readable again (it asks the socket, not the fd), so
//  the rest is read in the next iteration, after the other sockets and due timers had
//  their turn. A flood on one socket thus never starves another or a timer.
void
kt_proc_note_seq (kt_proc_t *self, const char *topic, const struct kt_msg *m)
{
    kt_bus_seq_t s = kt_bus_last_seq (self->bus);
    if (s == KT_SEQ_GAP)
        kt_log_warn_every ("bus.gap", 10, KT_S ("topic", topic), KT_S ("src", m->env.src),
                           KT_I ("seq", (int64_t) m->env.seq),
                           KT_I ("gaps", kt_bus_gaps (self->bus)), KT_END);
    else if (s == KT_SEQ_RESTART)
        kt_log_info ("bus.restart", KT_S ("topic", topic), KT_S ("src", m->env.src),
                     KT_I ("restarts", kt_bus_restarts (self->bus)), KT_END);
}

static int
s_on_sock (kt_loop_t *loop, void *zsock, void *arg)
{
    (void) loop;
    struct kt_proc_sock *ps = arg;
    kt_proc_t *self = ps->proc;
    char topic[KT_TOPIC_LEN], why[160];
    kt_bus_peer_t peer;
    for (int n = 0; n < KT_PROC_DRAIN_MAX; n++) {
        int rc = ps->router ? kt_bus_recv_req (self->bus, zsock, &peer, topic, sizeof topic,
                                               &self->rx, why, sizeof why)
                            : kt_bus_recv (self->bus, zsock, topic, sizeof topic, &self->rx, why,
                                           sizeof why);
        if (rc == 1)
            return 0;
        if (rc == -1) {
            kt_log_warn_every ("msg.reject", 10, KT_S ("topic", topic), KT_S ("why", why),
                               KT_I ("rejects", kt_bus_rejects (self->bus)), KT_END);
            continue;
        }
        if (!ps->router)
            kt_proc_note_seq (self, topic, &self->rx);
        if (ps->fn (self, ps->router ? &peer : NULL, topic, &self->rx, ps->arg) != 0)
            return -1;
    }
    return 0;
}

static void *
s_add_sock (kt_proc_t *self, const char *name, void *sock, bool router, kt_proc_msg_fn *fn,
            void *arg)
{
    if (!sock)
        return NULL;
    if (self->nsocks == KT_PROC_SOCKS_MAX) {
        kt_bus_close (self->bus, sock);
        return NULL;
    }
    struct kt_proc_sock *ps = &self->socks[self->nsocks++];
    *ps = (struct kt_proc_sock){self, sock, router, fn, arg, ""};
    kt_loop_sock (self->loop, sock, s_on_sock, ps);
    snprintf (ps->name, sizeof ps->name, "%s", name);
    kt_loop_sock_name (self->loop, sock, ps->name);
    return sock;
}

void *
kt_proc_sub (kt_proc_t *self, const char *name, const char *const *prefixes, kt_proc_msg_fn *fn,
             void *arg)
{
    void *sock = kt_bus_connect (self->bus, name, ZMQ_SUB);
    if (!sock)
        return NULL;
    for (int i = 0; prefixes && prefixes[i]; i++)
        kt_bus_subscribe (self->bus, sock, prefixes[i]);
    return s_add_sock (self, name, sock, false, fn, arg);
}

void *
kt_proc_serve (kt_proc_t *self, const char *name, kt_proc_msg_fn *fn, void *arg)
{
    return s_add_sock (self, name, kt_bus_bind (self->bus, name, ZMQ_ROUTER), true, fn, arg);
}

void *
kt_proc_pull (kt_proc_t *self, const char *name, kt_proc_msg_fn *fn, void *arg)
{
    return s_add_sock (self, name, kt_bus_bind (self->bus, name, ZMQ_PULL), false, fn, arg);
}
