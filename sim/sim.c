/*  sim - kite-sim's process context: builds the venue and the protocol modules, runs
 *  one lws context (REST vhost + ticker vhost) on lws's own service loop, and moves the
 *  market with an lws_sul timer.
 *
 *  Used by main.c only. kite-sim is standalone (no ZeroMQ, no kt_loop): lws_service is
 *  its loop, which is the simplest correct way to drive lws without external poll
 *  (docs/kite-sim.md). Every tick_ms of wall time the timer advances the venue to the
 *  clock's now, queues ticks and order updates for the ticker, and flushes it. The
 *  clock anchor goes to the Redis `clock` hash at start and after every admin change,
 *  with `gen` bumped so that followers re-anchor. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>
#include "sim.h"

struct s_timer {
    lws_sorted_usec_list_t sul;
    sim_t *ctx; //  borrowed
};

int64_t
sim_now_ns (const sim_t *self)
{
    return sim_clock_now (&self->clock, kt_clock_wall_mono_ns ());
}

static void
s_on_tick (const struct sim_quote *q, void *arg)
{
    sim_t *self = arg;
    sim_ws_on_tick (self->ws, q);
}

void
sim_on_order (const struct sim_order *o, void *arg)
{
    sim_t *self = arg;
    kt_log_info ("order.update", KT_S ("order_id", o->order_id), KT_S ("status", o->status),
                 KT_I ("filled", o->filled), KT_END);
    sim_ws_on_order (self->ws, o);
}

void
sim_step (sim_t *self)
{
    int64_t now = sim_now_ns (self);
    if (now > self->market_ns) {
        self->ticks += sim_venue_advance (self->venue, now, s_on_tick, sim_on_order, self);
        self->market_ns = now;
    }
    sim_ws_flush (self->ws, kt_clock_wall_mono_ns ());
}

static void s_publish_clock (sim_t *self);

static void
s_timer_fire (lws_sorted_usec_list_t *sul)
{
    struct s_timer *t = lws_container_of (sul, struct s_timer, sul);
    if (t->ctx->clock_unpublished)
        s_publish_clock (t->ctx);
    sim_step (t->ctx);
    lws_sul_schedule (t->ctx->lws, 0, &t->sul, s_timer_fire, t->ctx->cfg.tick_ms * LWS_US_PER_MS);
}

//  Write the anchor to the Redis `clock` hash (kt_clock.h fields). A paused clock is
//  published at 1 ppm, the slowest speed a follower accepts.
static void
s_publish_clock (sim_t *self)
{
    if (!self->store)
        return;
    char w[24], s[24], p[24], d[16];
    kt_key_t key = kt_store_keyv (self->store, "clock");
    snprintf (w, sizeof w, "%" PRId64, self->clock.real_anchor_ns);
    snprintf (s, sizeof s, "%" PRId64, self->clock.sim_anchor_ns);
    snprintf (p, sizeof p, "%" PRId64, self->clock.paused ? (int64_t) 1 : self->clock.speed_ppm);
    snprintf (d, sizeof d, "%d", kt_ist_yyyymmdd (sim_venue_open_ns (self->venue)));
    //  kite-sim runs on libwebsockets' loop, not kt_loop: its store is synchronous
    //  (500 ms timeout), and these two writes happen once per session, not per tick.
    kt_store_result_t r = kt_store_callf (self->store,
                                          "HSET %s wall_anchor_ns %s sim_anchor_ns %s "
                                          "speed_ppm %s mode sim date %s by kite-sim paused %s",
                                          key.s, w, s, p, d, self->clock.paused ? "1" : "0");
    bool ok = r.kind != KT_STORE_DOWN;
    kt_store_result_free (&r);
    if (ok) {
        r = kt_store_callf (self->store, "HINCRBY %s gen 1", key.s);
        ok = r.kind != KT_STORE_DOWN;
        kt_store_result_free (&r);
    }
    self->clock_unpublished = !ok;
    if (!ok) {
        //  Retried from the market timer until Redis answers: followers need the anchor.
        kt_log_warn_every ("clock.publish.failed", 10, KT_S ("why", kt_store_errstr (self->store)),
                           KT_END);
        return;
    }
    kt_log_info ("clock.publish", KT_I ("sim_anchor_ns", self->clock.sim_anchor_ns),
                 KT_I ("speed_ppm", self->clock.speed_ppm), KT_B ("paused", self->clock.paused),
                 KT_END);
}

int
sim_set_clock (sim_t *self, const char *action, int64_t arg, char *msg, size_t msglen)
{
    int64_t mono = kt_clock_wall_mono_ns (), real = kt_clock_wall_ns ();
    //  Settle the market at the current instant before the clock changes.
    sim_step (self);
    if (strcmp (action, "pause") == 0)
        sim_clock_pause (&self->clock, mono, real);
    else if (strcmp (action, "resume") == 0)
        sim_clock_resume (&self->clock, mono, real);
    else if (strcmp (action, "step") == 0) {
        if (sim_clock_step_to (&self->clock, arg, mono, real) != 0) {
            snprintf (msg, msglen, "step_to needs a paused clock and a time not in the past");
            return -1;
        }
        sim_step (self);
    } else if (strcmp (action, "speed") == 0) {
        if (sim_clock_set_speed (&self->clock, arg, mono, real) != 0) {
            snprintf (msg, msglen, "speed must be > 0");
            return -1;
        }
    } else {
        snprintf (msg, msglen, "unknown clock action `%s`: use pause, resume, step_to, speed",
                  action);
        return -1;
    }
    s_publish_clock (self);
    return 0;
}

static void
s_lws_log (int level, const char *line)
{
    char text[256];
    snprintf (text, sizeof text, "%s", line);
    size_t n = strlen (text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    if (level & LLL_ERR)
        kt_log_error ("lws", KT_S ("msg", text), KT_END);
    else
        kt_log_debug ("lws", KT_S ("msg", text), KT_END);
}

static int64_t
s_log_clock (void *arg)
{
    return sim_now_ns (arg);
}

//  Session date and start instant from the config.
static int
s_session (const struct sim_cfg *cfg, int32_t *yyyymmdd, char *err, size_t errlen)
{
    int y, mo, d;
    if (!cfg->wall_clock && !cfg->date[0] && cfg->replay[0]) {
        *yyyymmdd = 0; //  the replay file's date is the session date
        return 0;
    }
    if (cfg->wall_clock || !cfg->date[0])
        kt_ist_fields (kt_clock_wall_ns (), &y, &mo, &d, NULL, NULL, NULL, NULL);
    else if (kt_ist_parse_date (cfg->date, &y, &mo, &d) != 0) {
        snprintf (err, errlen, "bad date: %s", cfg->date);
        return -1;
    }
    *yyyymmdd = y * 10000 + mo * 100 + d;
    return 0;
}

static struct lws_vhost *
s_vhost (sim_t *self, const char *name, const char *host, int port,
         const struct lws_protocols *protocols)
{
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.vhost_name = name;
    info.iface = host;
    info.port = port;
    info.protocols = protocols;
    info.keepalive_timeout = 60;
    info.timeout_secs = 30;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    return lws_create_vhost (self->lws, &info);
}

sim_t *
sim_new (const struct sim_cfg *cfg, char *err, size_t errlen)
{
    sim_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->cfg = *cfg;
    self->started_ns = kt_clock_wall_ns ();
    self->user.user_id = self->cfg.user_id;
    self->user.user_name = self->cfg.user_name;
    self->user.api_key = self->cfg.api_key;

    struct sim_venue_cfg vc = {
        .seed = (uint64_t) cfg->seed,
        .replay_path = cfg->replay[0] ? cfg->replay : NULL,
        .opening_balance = cfg->opening_balance,
        .freeze_qty = cfg->freeze_qty,
        .strikes_each_side = (int) cfg->strikes_each_side,
        .lot = cfg->lot,
    };
    if (s_session (cfg, &vc.date, err, errlen) != 0)
        goto fail;
    self->venue = sim_venue_new (&vc, err, errlen);
    if (!self->venue)
        goto fail;
    if (vc.date && sim_venue_date (self->venue) != vc.date)
        kt_log_warn ("session.rolled", KT_I ("requested", vc.date),
                     KT_I ("date", sim_venue_date (self->venue)),
                     KT_S ("why", "no session on a Saturday or Sunday: trading the next Monday"),
                     KT_END);
    self->instr = sim_venue_instruments (self->venue);
    self->auth = sim_auth_new (cfg->api_key, cfg->api_secret, cfg->access_token);
    sim_rate_init (&self->rate);
    sim_fault_init (&self->fault, cfg);
    sim_clock_start (&self->clock, cfg, sim_venue_open_ns (self->venue), kt_clock_wall_mono_ns (),
                     kt_clock_wall_ns ());
    self->market_ns = sim_venue_open_ns (self->venue) - 1;
    self->ws = sim_ws_new (self);

    if (cfg->redis[0]) {
        char host[SIM_HOST_LEN];
        int port = 0;
        if (sim_cfg_split_addr (cfg->redis, host, sizeof host, &port) != 0) {
            snprintf (err, errlen, "bad redis address: %s", cfg->redis);
            goto fail;
        }
        self->store = kt_store_new (host, port, cfg->prefix, 500);
        if (kt_store_connect (self->store) != 0)
            kt_log_warn ("store.down", KT_S ("why", kt_store_errstr (self->store)), KT_END);
    }

    lws_set_log_level (LLL_ERR | LLL_WARN, s_lws_log);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.user = self;
    info.max_http_header_data = 16384;
    info.pt_serv_buf_size = 65536;
    self->lws = lws_create_context (&info);
    if (!self->lws) {
        snprintf (err, errlen, "lws_create_context failed");
        goto fail;
    }
    self->http_vh =
        s_vhost (self, "kite-rest", cfg->http_host, cfg->http_port, sim_http_protocols ());
    if (!self->http_vh) {
        snprintf (err, errlen, "cannot listen on --http %s", cfg->http_addr);
        goto fail;
    }
    self->ws_vh = s_vhost (self, "kite-ticker", cfg->ws_host, cfg->ws_port, sim_ws_protocols ());
    if (!self->ws_vh) {
        snprintf (err, errlen, "cannot listen on --ws %s", cfg->ws_addr);
        goto fail;
    }
    struct s_timer *t = calloc (1, sizeof *t);
    if (!t)
        abort ();
    t->ctx = self;
    self->timer = t;
    lws_sul_schedule (self->lws, 0, &t->sul, s_timer_fire, cfg->tick_ms * LWS_US_PER_MS);
    kt_log_set_clock (s_log_clock, self);
    s_publish_clock (self);
    char start[32];
    kt_ist_format (sim_now_ns (self), start, sizeof start);
    kt_log_info ("proc.start", KT_S ("http", cfg->http_addr), KT_S ("ws", cfg->ws_addr),
                 KT_I ("seed", cfg->seed), KT_I ("date", sim_venue_date (self->venue)),
                 KT_S ("start", start), KT_D ("speed", cfg->wall_clock ? 1.0 : cfg->speed),
                 KT_B ("wall_clock", cfg->wall_clock),
                 KT_I ("instruments", (int64_t) kt_instr_count (self->instr)), KT_END);
    return self;
fail:
    sim_destroy (&self);
    return NULL;
}

int
sim_run (sim_t *self, volatile sig_atomic_t *stop)
{
    while (!*stop)
        if (lws_service (self->lws, 0) < 0)
            return 1;
    kt_log_info ("proc.stop", KT_I ("ticks", self->ticks), KT_END);
    return 0;
}

void
sim_destroy (sim_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_t *self = *self_p;
    kt_log_set_clock (NULL, NULL);
    if (self->timer)
        lws_sul_cancel (&((struct s_timer *) self->timer)->sul);
    //  lws first: closing connections calls back into the ticker's state.
    if (self->lws)
        lws_context_destroy (self->lws);
    free (self->timer);
    sim_ws_destroy (&self->ws);
    kt_store_destroy (&self->store);
    sim_auth_destroy (&self->auth);
    sim_venue_destroy (&self->venue);
    free (self);
    *self_p = NULL;
}
