/*  alert - the alerter's context: ALERTs in, the durable outbox, one delivery at a time
 *  per channel, health.
 *
 *  Flow: the PULL handler reads at most drain_max messages per loop turn (a burst can
 *  never starve the timers or the HTTP transfers; zmq_poll reports the socket again
 *  while messages wait). Each alert is logged (alert.received, at its own level, with
 *  its text), grouped and pushed to the outbox for the channels of its severity. With
 *  Redis down it is held in memory (alert.held) and pushed when Redis is back. A timer
 *  (100 ms of wall time) closes collapse windows and kicks every channel: a channel
 *  with nothing in flight and no back-off takes its head item and sends it; the answer
 *  acks it (then the next) or backs off. The log channel delivers at once. A delivered
 *  item whose ack could not be written (Redis down) is remembered and acked before the
 *  channel sends anything else, so Redis trouble does not cause a second send. */

#include "alert.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_TICK_WALL_MS 100
#define S_HELD_MAX 256 //  alerts kept in memory while Redis is down
#define S_LOG_BATCH 64
#define S_WATCH_MS 2000 //  how often health:* is read (wall) //  log-channel deliveries per kick

struct s_chan {
    alert_t *self;
    struct alert_channel st;
    int64_t unacked_id; //  delivered, ack not yet written (Redis down)
    bool maybe;         //  its pending list may hold something: look (an idle channel
                        //  costs no Redis call per tick)
    int64_t sent_at_ms;
};

struct s_held {
    struct alert_item it;
    char group[ALERT_GROUP_LEN];
    unsigned mask;
};

struct alert {
    kt_proc_t *proc;             //  borrowed
    const struct alert_cfg *cfg; //  borrowed
    kt_store_t *store;           //  borrowed
    kt_http_t *http;             //  owned
    void *pull;                  //  owned by the bus
    int timer;
    unsigned enabled; //  channel mask with settings present
    struct s_chan ch[ALERT_CH_COUNT];
    struct kt_msg rx;    //  receive buffer
    struct s_held *held; //  owned ring, S_HELD_MAX
    int held_head, held_len;
    int64_t last_windows_ms;
    int64_t last_watch_ms;
    int64_t redis_down_ms; //  since when alerts could not be queued, 0 = Redis fine
    bool redis_alerted;    //  the direct "Redis unreachable" alert went out
    char direct_text[KT_ALERT_LEN];
    struct alert_watch watch; //  processes seen in health:*
    int summary_min;          //  alerter.summary_at as minutes of the IST day, -1 = none
    int64_t summary_day;      //  day of the last summary sent (alerts:summary), -1 = unread
    bool closing;             //  destroy: cancelled requests change nothing
    int64_t received, queued, collapsed, summaries, held_total, held_dropped, rejected;
    char rcpt_buf[sizeof ((struct alert_cfg *) 0)->smtp_to];
    const char *rcpt[ALERT_RCPT_MAX + 1];
};

static int64_t
s_now_ms (void)
{
    return kt_clock_wall_ns () / 1000000;
}

static unsigned
s_route (kt_severity_t sev, void *arg)
{
    alert_t *self = arg;
    unsigned mask = alert_route_mask (self->cfg, sev, self->enabled);
    //  Never nowhere: an alert whose channels are all unset still reaches the log.
    return mask ? mask : 1u << ALERT_CH_LOG;
}

// ---- into the outbox ------------------------------------------------------------------

//  Push one alert; 1 queued, 0 collapsed, -1 Redis unavailable.
static int
s_push (alert_t *self, struct alert_item *it, const char *group, unsigned mask)
{
    int64_t count = 0;
    int rc = alert_queue_push (self->store, it, group, mask, s_now_ms (), self->cfg->dedup_s * 1000,
                               self->cfg->queue_max, &count);
    if (rc == 1) {
        self->queued++;
        for (int c = 0; c < ALERT_CH_COUNT; c++)
            if (mask & (1u << c))
                self->ch[c].maybe = true;
        alert_log (KT_LOG_DEBUG, "alert.queued", it, (kt_kv_t[]){KT_S ("group", group), KT_END});
    } else if (rc == 0) {
        self->collapsed++;
        struct alert_item shown = *it;
        shown.count = count;
        alert_log (
            KT_LOG_INFO, "alert.collapsed", &shown,
            (kt_kv_t[]){KT_S ("group", group), KT_I ("window_s", self->cfg->dedup_s), KT_END});
    }
    return rc;
}

static void
s_hold (alert_t *self, const struct alert_item *it, const char *group, unsigned mask)
{
    if (self->held_len == S_HELD_MAX) {
        struct s_held *old = &self->held[self->held_head];
        alert_log (KT_LOG_ERROR, "alert.held.dropped", &old->it,
                   (kt_kv_t[]){KT_S ("why", "Redis down and the memory backlog is full: "
                                            "this alert reached the log only"),
                               KT_END});
        self->held_head = (self->held_head + 1) % S_HELD_MAX;
        self->held_len--;
        self->held_dropped++;
    }
    struct s_held *h = &self->held[(self->held_head + self->held_len) % S_HELD_MAX];
    h->it = *it;
    snprintf (h->group, sizeof h->group, "%s", group);
    h->mask = mask;
    self->held_len++;
    self->held_total++;
    alert_log (-1, "alert.held", it,
               (kt_kv_t[]){KT_S ("why", "Redis unavailable: kept in memory, queued for the "
                                        "channels when Redis is back"),
                           KT_I ("held", self->held_len), KT_END});
}

//  Held alerts first, in order, so nothing overtakes them.
static void
s_flush_held (alert_t *self)
{
    while (self->held_len > 0) {
        struct s_held *h = &self->held[self->held_head];
        if (s_push (self, &h->it, h->group, h->mask) < 0)
            return;
        self->held_head = (self->held_head + 1) % S_HELD_MAX;
        self->held_len--;
    }
}

//  An alert for a person, from a process or from the alerter itself.
static void
s_enqueue (alert_t *self, struct alert_item *it, unsigned mask)
{
    char group[ALERT_GROUP_LEN];
    alert_group_of (it->src, it->severity, it->key, it->text, group);
    if (self->held_len > 0)
        s_flush_held (self);
    if (self->held_len > 0 || s_push (self, it, group, mask) < 0)
        s_hold (self, it, group, mask);
}

//  The alerter's own alerts (a channel down or back) go straight into the outbox.
static void
s_raise (alert_t *self, kt_severity_t sev, const char *key, unsigned mask, const char *text)
{
    struct alert_item it = {.ts_ns = kt_proc_now_ns (self->proc), .severity = sev, .count = 1};
    snprintf (it.key, sizeof it.key, "%s", key);
    snprintf (it.src, sizeof it.src, "alerter");
    snprintf (it.text, sizeof it.text, "%s", text);
    alert_log (-1, "alert.received", &it, NULL);
    s_enqueue (self, &it, mask ? mask : 1u << ALERT_CH_LOG);
}

// ---- the PULL socket ------------------------------------------------------------------

static void s_kick (alert_t *self);

static int
s_on_pull (kt_loop_t *loop, void *zsock, void *arg)
{
    (void) loop;
    alert_t *self = arg;
    char topic[64], why[160];
    bool any = false;
    for (int64_t i = 0; i < self->cfg->drain_max; i++) {
        int rc = kt_bus_recv (kt_proc_bus (self->proc), zsock, topic, sizeof topic, &self->rx, why,
                              sizeof why);
        if (rc == 1)
            break;
        if (rc < 0 || self->rx.env.type != KT_MSG_ALERT) {
            self->rejected++;
            kt_log_warn_every ("alert.reject", 10, KT_S ("topic", topic),
                               KT_S ("why", rc < 0 ? why : "not an ALERT"),
                               KT_I ("rejected", self->rejected), KT_END);
            continue;
        }
        kt_proc_note_seq (self->proc, topic, &self->rx);
        const struct kt_alert *a = &self->rx.u.alert;
        struct alert_item it = {.ts_ns = self->rx.env.ts_ns, .severity = a->severity, .count = 1};
        snprintf (it.key, sizeof it.key, "%s", a->key);
        snprintf (it.src, sizeof it.src, "%s", self->rx.env.src);
        snprintf (it.text, sizeof it.text, "%s", a->text);
        self->received++;
        alert_log (-1, "alert.received", &it, NULL);
        s_enqueue (self, &it, s_route (it.severity, self));
        any = true;
    }
    if (any)
        s_kick (self);
    return 0;
}

// ---- delivery --------------------------------------------------------------------------

static void
s_log_delivery (struct s_chan *c, const struct alert_item *it, int64_t ms)
{
    //  The log channel's line is the alert itself, at its level; the others say where
    //  it went, at info.
    bool log = c->st.ch == ALERT_CH_LOG;
    alert_log (log ? -1 : KT_LOG_INFO, "alert.deliver", it,
               (kt_kv_t[]){KT_S ("channel", alert_route_name (c->st.ch)),
                           KT_I ("attempt", c->st.attempts + 1), KT_I ("ms", ms), KT_END});
}

//  Ack a delivered item; keep the id for later when Redis does not answer.
static void
s_ack (alert_t *self, struct s_chan *c, int64_t id)
{
    int rc = alert_queue_ack (self->store, c->st.ch, id);
    c->unacked_id = rc < 0 ? id : 0;
}

static void
s_report_down (alert_t *self, struct s_chan *c, int64_t now_ms)
{
    c->st.down_reported = true;
    int64_t pending = alert_queue_pending (self->store, c->st.ch);
    char text[KT_ALERT_LEN];
    snprintf (text, sizeof text,
              "Alert channel %s has failed for %" PRId64 " min (%s); %" PRId64
              " alerts wait for it",
              alert_route_name (c->st.ch), (now_ms - c->st.failing_since_ms) / 60000,
              c->st.last_error, pending < 0 ? 0 : pending);
    unsigned others = s_route (KT_SEV_CRITICAL, self) & ~(1u << c->st.ch);
    s_raise (self, KT_SEV_CRITICAL, "alerter.channel_down", others | 1u << ALERT_CH_LOG, text);
}

static void
s_on_done (const kt_http_resp_t *resp, void *arg)
{
    struct s_chan *c = arg;
    alert_t *self = c->self;
    c->st.inflight = 0;
    if (self->closing)
        return;
    int64_t now = s_now_ms ();
    if (c->st.inflight_id == 0) {
        //  A direct send (Redis down): nothing queued to ack, best effort, said in the log.
        int64_t ra = 0;
        char why[160] = "";
        bool ok = alert_format_delivered (c->st.ch, resp, &ra, why, sizeof why);
        kt_log (ok ? KT_LOG_INFO : KT_LOG_ERROR, "alert.direct",
                KT_S ("channel", alert_route_name (c->st.ch)), KT_B ("delivered", ok),
                KT_S ("why", why), KT_S ("text", self->direct_text), KT_END);
        return;
    }
    struct alert_item it;
    int head = alert_queue_head (self->store, c->st.ch, &it);
    if (head <= 0 || it.id != c->st.inflight_id) {
        //  Redis down or the outbox changed by hand: log what we know, re-check later.
        memset (&it, 0, sizeof it);
        it.id = c->st.inflight_id;
        it.severity = KT_SEV_WARNING;
        it.count = 1;
    }
    int64_t retry_after = 0;
    char why[160];
    if (alert_format_delivered (c->st.ch, resp, &retry_after, why, sizeof why)) {
        s_log_delivery (c, &it, resp->elapsed_us / 1000);
        s_ack (self, c, c->st.inflight_id);
        int64_t was = alert_channel_ok (&c->st, now);
        if (c->st.down_reported) {
            c->st.down_reported = false;
            char text[KT_ALERT_LEN];
            snprintf (text, sizeof text, "Alert channel %s works again after %" PRId64 " min",
                      alert_route_name (c->st.ch), was / 60000);
            s_raise (self, KT_SEV_WARNING, "alerter.channel_up", s_route (KT_SEV_WARNING, self),
                     text);
        }
        s_kick (self);
        return;
    }
    bool down =
        alert_channel_failed (&c->st, now, why, self->cfg->retry_min_ms, self->cfg->retry_max_ms,
                              retry_after, self->cfg->channel_down_s * 1000);
    alert_log (KT_LOG_WARN, "alert.retry", &it,
               (kt_kv_t[]){KT_S ("channel", alert_route_name (c->st.ch)),
                           KT_I ("attempt", c->st.attempts), KT_S ("why", why),
                           KT_I ("retry_in_ms", c->st.next_ms - now), KT_END});
    if (down)
        s_report_down (self, c, now);
}

//  Start sending it on c. Returns 0 when a request is in flight.
static int
s_send (alert_t *self, struct s_chan *c, const struct alert_item *it)
{
    const struct alert_cfg *cfg = self->cfg;
    char url[768], idem[64], idem_h[96];
    char *body = NULL;
    kt_http_req_t req = {.method = "POST",
                         .timeout_ms = (int) cfg->timeout_ms,
                         .content_type = "application/json",
                         .max_body = 1 << 20};
    const char *headers[2] = {NULL, NULL};
    struct kt_http_mail mail = {.from = cfg->smtp_from,
                                .rcpt = self->rcpt,
                                .starttls = cfg->smtp_starttls,
                                .user = cfg->smtp_user,
                                .password = cfg->smtp_password};
    switch (c->st.ch) {
        case ALERT_CH_TELEGRAM:
            body = alert_format_telegram (cfg, it, url, sizeof url);
            break;
        case ALERT_CH_WEBHOOK:
            body = alert_format_webhook (it);
            snprintf (url, sizeof url, "%s", cfg->webhook_url);
            snprintf (idem_h, sizeof idem_h, "Idempotency-Key: %s",
                      alert_item_idem (it, idem, sizeof idem));
            headers[0] = idem_h;
            req.headers = headers;
            break;
        case ALERT_CH_EMAIL:
            body = alert_format_mail (cfg, it, kt_clock_wall_ns () / 1000000000);
            snprintf (url, sizeof url, "%s", cfg->smtp_url);
            req.mail = &mail;
            req.content_type = NULL;
            break;
        default:
            return -1;
    }
    if (!body)
        return -1;
    req.url = url;
    req.body = body;
    int id = kt_http_request (self->http, &req, s_on_done, c);
    free (body);
    if (id <= 0)
        return -1;
    c->st.inflight = id;
    c->st.inflight_id = it->id;
    c->sent_at_ms = s_now_ms ();
    return 0;
}

static void
s_kick_channel (alert_t *self, struct s_chan *c, int64_t now)
{
    if (!c->st.enabled || c->st.inflight || now < c->st.next_ms)
        return;
    if (c->unacked_id) {
        s_ack (self, c, c->unacked_id);
        if (c->unacked_id)
            return;
    }
    for (int n = 0; n < S_LOG_BATCH && c->maybe; n++) {
        struct alert_item it;
        int head = alert_queue_head (self->store, c->st.ch, &it);
        if (head == 0)
            c->maybe = false;
        if (head <= 0)
            return;
        if (c->st.ch == ALERT_CH_LOG) {
            s_log_delivery (c, &it, 0);
            s_ack (self, c, it.id);
            c->st.delivered++;
            if (c->unacked_id)
                return;
            continue;
        }
        if (s_send (self, c, &it) != 0) {
            //  A request that cannot even be built is a config problem: back off and say so.
            if (alert_channel_failed (&c->st, now, "request could not be built",
                                      self->cfg->retry_min_ms, self->cfg->retry_max_ms, 0,
                                      self->cfg->channel_down_s * 1000))
                s_report_down (self, c, now);
            alert_log (KT_LOG_ERROR, "alert.retry", &it,
                       (kt_kv_t[]){KT_S ("channel", alert_route_name (c->st.ch)),
                                   KT_S ("why", c->st.last_error), KT_END});
        }
        return;
    }
}

static void
s_kick (alert_t *self)
{
    int64_t now = s_now_ms ();
    for (int i = 0; i < ALERT_CH_COUNT; i++)
        s_kick_channel (self, &self->ch[i], now);
}

// ---- Redis unreachable -------------------------------------------------------------------

//  Alerts cannot be queued while Redis is down, and a person must hear of that even so:
//  after redis_down_s the alerter sends one CRITICAL alert straight to every idle
//  channel, outside the outbox (best effort, once per outage); when Redis is back an
//  INFO says so through the outbox, and the held alerts follow.
static void
s_redis_check (alert_t *self, int64_t now)
{
    bool down = self->held_len > 0 || !kt_store_is_ready (self->store);
    if (!down) {
        if (self->redis_alerted) {
            char text[KT_ALERT_LEN];
            snprintf (text, sizeof text, "Redis reachable again after %" PRId64 " s",
                      (now - self->redis_down_ms) / 1000);
            self->redis_alerted = false;
            s_raise (self, KT_SEV_INFO, "alerter.redis_up", s_route (KT_SEV_INFO, self), text);
        }
        self->redis_down_ms = 0;
        return;
    }
    if (!self->redis_down_ms)
        self->redis_down_ms = now;
    if (self->redis_alerted || now - self->redis_down_ms < self->cfg->redis_down_s * 1000)
        return;
    self->redis_alerted = true;
    snprintf (self->direct_text, sizeof self->direct_text,
              "Redis unreachable from the alerter for %" PRId64 " s (%s): %d alerts held, sent "
              "when it is back",
              (now - self->redis_down_ms) / 1000, kt_store_errstr (self->store), self->held_len);
    struct alert_item it = {.ts_ns = kt_proc_now_ns (self->proc),
                            .queued_ms = now,
                            .severity = KT_SEV_CRITICAL,
                            .count = 1};
    snprintf (it.key, sizeof it.key, "alerter.redis_down");
    snprintf (it.src, sizeof it.src, "alerter");
    snprintf (it.text, sizeof it.text, "%s", self->direct_text);
    alert_log (-1, "alert.received", &it, NULL);
    unsigned mask = s_route (KT_SEV_CRITICAL, self);
    for (int i = ALERT_CH_LOG + 1; i < ALERT_CH_COUNT; i++) {
        struct s_chan *c = &self->ch[i];
        if ((mask & (1u << i)) && c->st.enabled && !c->st.inflight)
            s_send (self, c, &it);
    }
}

// ---- processes coming and going --------------------------------------------------------------

static void
s_watch_event (alert_t *self, const char *name, alert_watch_event_t ev, int64_t was, int64_t pid)
{
    char text[KT_ALERT_LEN];
    if (ev == ALERT_WATCH_RESTARTED) {
        snprintf (text, sizeof text, "process %s restarted (pid %" PRId64 " -> %" PRId64 ")", name,
                  was, pid);
        s_raise (self, KT_SEV_WARNING, "proc.restarted", s_route (KT_SEV_WARNING, self), text);
    } else if (ev == ALERT_WATCH_DOWN) {
        snprintf (text, sizeof text, "process %s is down: no heartbeat (health:%s expired)", name,
                  name);
        s_raise (self, KT_SEV_CRITICAL, "proc.down", s_route (KT_SEV_CRITICAL, self), text);
    } else if (ev == ALERT_WATCH_BACK) {
        snprintf (text, sizeof text, "process %s beats again (pid %" PRId64 ")", name, pid);
        s_raise (self, KT_SEV_INFO, "proc.back", s_route (KT_SEV_INFO, self), text);
    }
}

//  Every heartbeat hash: a new pid is a restart, one that expired a process down.
static void
s_watch (alert_t *self)
{
    struct kt_skey pat = kt_schema_key (kt_store_prefix (self->store), &kt_key_health, "*");
    size_t head = strlen (pat.s) - 1;
    bool seen[ALERT_WATCH_MAX] = {false};
    char cursor[24] = "0";
    do {
        kt_store_result_t r =
            kt_store_callf (self->store, "SCAN %s MATCH %s COUNT 100", cursor, pat.s);
        if (r.kind != KT_STORE_ARR || r.elements != 2) {
            kt_store_result_free (&r);
            return; //  Redis down: nothing to conclude about the processes
        }
        kt_store_result_t c = kt_store_result_at (&r, 0), keys = kt_store_result_at (&r, 1);
        snprintf (cursor, sizeof cursor, "%.*s", (int) c.len, c.str);
        for (size_t i = 0; i < keys.elements; i++) {
            kt_store_result_t k = kt_store_result_at (&keys, i);
            if (k.kind != KT_STORE_STR || k.len <= head)
                continue;
            char key[KT_SCHEMA_KEY_MAX], name[32];
            snprintf (key, sizeof key, "%.*s", (int) k.len, k.str);
            snprintf (name, sizeof name, "%s", key + head);
            int64_t pid = 0, was = 0;
            if (!strcmp (name, kt_proc_name (self->proc)) ||
                kt_store_hget_i64 (self->store, key, "pid", &pid) != 0)
                continue;
            alert_watch_event_t ev = alert_watch_seen (&self->watch, name, true, pid, &was);
            for (int j = 0; j < self->watch.n; j++)
                if (!strcmp (self->watch.procs[j].name, name))
                    seen[j] = true;
            s_watch_event (self, name, ev, was, pid);
        }
        kt_store_result_free (&r);
    } while (strcmp (cursor, "0") != 0);
    for (int j = 0; j < self->watch.n; j++) {
        if (seen[j])
            continue;
        int64_t was = 0;
        char name[32];
        snprintf (name, sizeof name, "%s", self->watch.procs[j].name);
        alert_watch_event_t ev = alert_watch_seen (&self->watch, name, false, 0, &was);
        s_watch_event (self, name, ev, was, 0);
    }
}

static void
s_count_pos (const struct kt_pos_rec *pos, void *arg)
{
    (void) pos;
    (*(int64_t *) arg)++;
}

//  The daily summary at the close: once a trading day, from risk-gate's state and the book.
static void
s_summary (alert_t *self)
{
    char why[256];
    if (self->summary_min < 0)
        return;
    if (self->summary_day < 0) {
        struct kt_alerts_summary_rec last = {0};
        if (kt_schema_read (self->store, &kt_key_alerts_summary, NULL, &last, why, sizeof why) < 0)
            return; //  Redis down: tried again on the next tick
        self->summary_day = last.day;
    }
    int64_t now = kt_proc_now_ns (self->proc);
    int64_t day = alert_summary_due (now, self->summary_min, self->summary_day);
    if (!day)
        return;
    struct kt_risk_state_rec rs = {0};
    int64_t open = 0;
    if (kt_schema_read (self->store, &kt_key_risk_state, NULL, &rs, why, sizeof why) < 0 ||
        kt_book_each_position (self->store, s_count_pos, &open, NULL, why, sizeof why) < 0) {
        kt_log_warn_every ("alert.summary.fail", 60, KT_S ("why", why), KT_END);
        return;
    }
    char text[KT_ALERT_LEN];
    alert_summary_text (text, sizeof text, day, &rs, open);
    s_raise (self, KT_SEV_INFO, "daily.summary", s_route (KT_SEV_INFO, self), text);
    struct kt_alerts_summary_rec rec = {day, now};
    struct kt_schema_pairs p;
    kt_schema_pairs (&kt_key_alerts_summary, &rec, &p);
    struct kt_skey key =
        kt_schema_key (kt_store_prefix (self->store), &kt_key_alerts_summary, NULL);
    const char *argv[2 + 2 * KT_SCHEMA_FIELDS_MAX] = {"HSET", key.s};
    for (int i = 0; i < 2 * p.n; i++)
        argv[2 + i] = p.argv[i];
    kt_store_send (self->store, 2 + 2 * p.n, argv, NULL, NULL, NULL);
    self->summary_day = day;
}

static int
s_on_tick (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    alert_t *self = arg;
    int64_t now = s_now_ms ();
    if (self->held_len > 0)
        s_flush_held (self);
    s_redis_check (self, now);
    if (now - self->last_watch_ms >= S_WATCH_MS) {
        self->last_watch_ms = now;
        s_watch (self);
        s_summary (self);
    }
    if (now - self->last_windows_ms >= 1000) {
        self->last_windows_ms = now;
        int n = alert_queue_close_windows (self->store, now, 64, s_route, self);
        if (n > 0)
            self->summaries += n;
        for (int i = 0; n > 0 && i < ALERT_CH_COUNT; i++)
            self->ch[i].maybe = true;
        for (int i = 0; i < ALERT_CH_COUNT; i++) {
            struct s_chan *c = &self->ch[i];
            if (!c->st.enabled)
                continue;
            int64_t p = alert_queue_pending (self->store, c->st.ch);
            if (p >= 0)
                c->st.pending = p;
            if (p > 0)
                c->maybe = true; //  whatever put it there, it will be looked at
            //  A channel that stopped answering at all is down too (no callback comes
            //  before the request's own timeout, which is far shorter than down_s).
            if (c->st.failing_since_ms && !c->st.down_reported &&
                now - c->st.failing_since_ms >= self->cfg->channel_down_s * 1000)
                s_report_down (self, c, now);
        }
    }
    s_kick (self);
    return 0;
}

// ---- health ---------------------------------------------------------------------------

static const char *const s_k_delivered[ALERT_CH_COUNT] = {"log_delivered", "telegram_delivered",
                                                          "webhook_delivered", "email_delivered"};
static const char *const s_k_pending[ALERT_CH_COUNT] = {"log_pending", "telegram_pending",
                                                        "webhook_pending", "email_pending"};
static const char *const s_k_failures[ALERT_CH_COUNT] = {"log_failures", "telegram_failures",
                                                         "webhook_failures", "email_failures"};
static const char *const s_k_down[ALERT_CH_COUNT] = {"log_down", "telegram_down", "webhook_down",
                                                     "email_down"};
static const char *const s_k_error[ALERT_CH_COUNT] = {"log_error", "telegram_error",
                                                      "webhook_error", "email_error"};

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    alert_t *self = arg;
    int n = 0;
    //  7 + 1 (log) + 3 x 5 = 23 fields, within KT_PROC_COUNTERS_MAX.
    kt_kv_t base[] = {
        KT_I ("received", self->received),   KT_I ("queued", self->queued),
        KT_I ("collapsed", self->collapsed), KT_I ("summaries", self->summaries),
        KT_I ("held", self->held_len),       KT_I ("held_dropped", self->held_dropped),
        KT_I ("rejected", self->rejected)};
    for (size_t i = 0; i < sizeof base / sizeof base[0] && n < max; i++)
        out[n++] = base[i];
    for (int i = 0; i < ALERT_CH_COUNT; i++) {
        const struct alert_channel *st = &self->ch[i].st;
        if (!st->enabled || n + 5 > max)
            continue;
        out[n++] = KT_I (s_k_delivered[i], st->delivered);
        if (i == ALERT_CH_LOG)
            continue; //  the log never fails and never waits
        out[n++] = KT_I (s_k_pending[i], st->pending);
        out[n++] = KT_I (s_k_failures[i], st->failures);
        out[n++] = KT_B (s_k_down[i], st->down_reported);
        out[n++] = KT_S (s_k_error[i], st->failing_since_ms ? st->last_error : "");
    }
    return n;
}

// ---- life ------------------------------------------------------------------------------

static void
s_split_rcpt (alert_t *self)
{
    snprintf (self->rcpt_buf, sizeof self->rcpt_buf, "%s", self->cfg->smtp_to);
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r (self->rcpt_buf, ", ", &save); t && n < ALERT_RCPT_MAX;
         t = strtok_r (NULL, ", ", &save))
        self->rcpt[n++] = t;
    self->rcpt[n] = NULL;
}

alert_t *
alert_new (kt_proc_t *proc, const struct alert_cfg *cfg)
{
    char err[256];
    unsigned enabled = 0;
    if (alert_route_check (cfg, &enabled, err, sizeof err) != 0) {
        kt_log_error ("alert.config", KT_S ("why", err), KT_END);
        return NULL;
    }
    alert_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->summary_day = -1;
    int hh, mm;
    self->summary_min = cfg->summary_at[0] && kt_ist_parse_hhmm (cfg->summary_at, &hh, &mm) == 0
                            ? hh * 60 + mm
                            : -1;
    if (cfg->summary_at[0] && self->summary_min < 0)
        kt_log_error ("alert.summary.config", KT_S ("summary_at", cfg->summary_at),
                      KT_S ("why", "not HH:MM: no daily summary"), KT_END);
    self->cfg = cfg;
    self->store = kt_proc_store (proc);
    self->enabled = enabled;
    self->held = calloc (S_HELD_MAX, sizeof *self->held);
    if (!self->held)
        abort ();
    s_split_rcpt (self);
    for (int i = 0; i < ALERT_CH_COUNT; i++)
        self->ch[i] = (struct s_chan){.self = self,
                                      .st = {.ch = (alert_ch_t) i, .enabled = (enabled >> i) & 1},
                                      .maybe = true};
    if (alert_queue_init (self->store) != 0) {
        kt_log_error ("alert.config", KT_S ("why", "Redis script registry full"), KT_END);
        goto fail;
    }
    self->http = kt_http_new (kt_proc_loop (proc));
    if (!self->http) {
        kt_log_error ("alert.http", KT_S ("why", "libcurl could not be set up"), KT_END);
        goto fail;
    }
    self->pull = kt_bus_bind (kt_proc_bus (proc), "alerts", ZMQ_PULL);
    if (!self->pull || kt_loop_sock (kt_proc_loop (proc), self->pull, s_on_pull, self) != 0) {
        kt_log_error ("alert.bind", KT_S ("why", kt_bus_errstr (kt_proc_bus (proc))), KT_END);
        goto fail;
    }
    self->timer = kt_loop_timer_wall (kt_proc_loop (proc), S_TICK_WALL_MS, true, s_on_tick, self);
    kt_proc_set_counters (proc, s_counters, self);
    static const kt_severity_t sevs[3] = {KT_SEV_CRITICAL, KT_SEV_WARNING, KT_SEV_INFO};
    for (int i = 0; i < 3; i++) {
        unsigned m = s_route (sevs[i], self);
        char list[64] = "";
        for (int c = 0; c < ALERT_CH_COUNT; c++)
            if (m & (1u << c))
                snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                          list[0] ? "," : "", alert_route_name ((alert_ch_t) c));
        //  Named in the route but not set up: said once, loudly for what must reach a person.
        unsigned named = alert_route_mask (cfg, sevs[i], ~0u);
        bool missing = (named & ~m) != 0;
        kt_log (missing && sevs[i] != KT_SEV_INFO ? KT_LOG_WARN : KT_LOG_INFO, "alert.route",
                KT_S ("severity", kt_severity_str (sevs[i])), KT_S ("channels", list),
                KT_S ("note", !missing ? ""
                              : m == 1u << ALERT_CH_LOG
                                  ? "reaches the log only: its other channels are not set up"
                                  : "some of its channels are not set up"),
                KT_END);
    }
    s_kick (self); //  what a previous run left undelivered
    return self;
fail:
    alert_destroy (&self);
    return NULL;
}

void
alert_destroy (alert_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    alert_t *self = *self_p;
    kt_proc_set_counters (self->proc, NULL, NULL);
    if (self->timer > 0)
        kt_loop_timer_end (kt_proc_loop (self->proc), self->timer);
    if (self->pull) {
        kt_loop_sock_end (kt_proc_loop (self->proc), self->pull);
        kt_bus_close (kt_proc_bus (self->proc), self->pull);
    }
    //  Pending requests end CANCELLED: their items stay queued for the next run.
    self->closing = true;
    kt_http_destroy (&self->http);
    for (int i = 0; i < self->held_len; i++)
        alert_log (KT_LOG_ERROR, "alert.held.lost",
                   &self->held[(self->held_head + i) % S_HELD_MAX].it,
                   (kt_kv_t[]){KT_S ("why", "stopped with Redis down: this alert reached "
                                            "the log only"),
                               KT_END});
    free (self->held);
    free (self);
    *self_p = NULL;
}
