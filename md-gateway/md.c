/*  md - md-gateway's context: instruments, universe, ticker, TICK/BAR/MD_STATUS on
 *  `md`, and the Redis snapshots (docs/md-gateway.md).
 *
 *  Everything runs on the process loop. The hot path is one call chain per frame:
 *  ticker read -> md_frame_decode -> per packet: TICK published, bar builder fed, the
 *  instrument's last price marked dirty. It allocates nothing and logs nothing; Redis is
 *  written from timers (md:ltp a few times a second, bars as they close, md:status with
 *  MD_STATUS). Start-up steps that need the network (instruments list, index price)
 *  retry on a timer instead of failing the process. */

#include "md.h"

#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <zmq.h>
#include "kt_instr_cache.h"
#include "kt_risk.h"
#include "kt_schema.h"
#include "md_bar.h"
#include "md_candle.h"
#include "md_jraw.h"
#include "md_order.h"
#include "md_packet.h"
#include "md_ticker.h"
#include "md_tokmap.h"
#include "md_univ.h"

#define S_BARQ 4096 //  final bars waiting for Redis
#define S_BARS_NOT_STREAM                                                                          \
    "if redis.call('TYPE', KEYS[1]).ok ~= 'stream' then redis.call('DEL', KEYS[1]) end"
#define S_CLOCK_MS 200  //  bars closed on the pipeline clock this often (wall)
#define S_RETRY_MS 5000 //  instruments / index price retry (wall)
#define S_LOG_EVERY_NS (60LL * KT_NS_PER_SEC)
#define S_OPEN_MIN (9 * 60 + 15)           //  the session's first minute, IST
#define S_NS_DAY (24 * 60 * KT_NS_PER_MIN) //  IST has no daylight saving
#define S_OPEN_TRIES 3                     //  the open's candle, before the fall-back

struct s_inst {
    uint32_t token;
    char sym[KT_SYM_LEN];
    char exchange[8];
    char tick_topic[KT_TOPIC_LEN];
    char bar_topic[KT_TOPIC_LEN];
    int64_t ltp;
    bool dirty;
    int64_t first_ns; //  first tick while warming, 0 if none yet
    //  Warm-up: the last final bar the previous run stored (md:bars), and the complete
    //  candles of the minutes after it up to warm_cut, published at the end of warm-up.
    bool stored_known;      //  md:bars answered
    int64_t stored_ns;      //  start of its last entry, 0 if none
    bool seeded;            //  its candles arrived: minutes <= warm_cut come from them
    struct md_candle *fill; //  owned while warming
    size_t nfill;
    int64_t fill_after_min; //  minutes after this one are in fill
};

typedef enum { S_PHASE_INSTR = 0, S_PHASE_PRICE, S_PHASE_RUN } s_phase_t;

struct s_wtick {
    uint32_t token;
    int64_t ts, ltp, volume;
};

#define S_WBUF_MAX (1 << 16) //  ticks held while warming up
#define S_CANDLES_MAX 1024   //  a day has 375 minutes
#define S_WARM_GAP_MS 340    //  historical: 3 requests/s

struct md {
    kt_proc_t *proc;          //  borrowed
    const struct md_cfg *cfg; //  borrowed
    kt_bus_t *bus;            //  borrowed
    void *pub;                //  borrowed from the bus
    int status_timer, clock_timer, flush_timer, retry_timer, reload_timer;
    int64_t reload_seen; //  session:reload requested_ns already acted on
    //  Warm-up: ticks are published at once but reach the bar builder only after every
    //  instrument was seeded from its candles (in arrival order, from wbuf).
    bool warming;
    size_t warm_i; //  next instrument to fetch
    int warm_tries;
    int warm_timer;
    int64_t warm_seeded, warm_candles, warm_failed;
    struct s_wtick *wbuf; //  owned while warming
    size_t wbuf_n;
    bool wbuf_full;
    struct md_candle *candles; //  owned while warming
    int64_t warm_cut;          //  minute the warm-up began in: candles cover it and before
    s_phase_t phase;
    //  The universe follows the day's open (docs/md-gateway.md "Universe at the open"):
    //  the index's first tick and first final bar at or after 09:15 of a day not yet
    //  covered leave their price here; s_open_pending extends the universe with it.
    bool derived;         //  universe derived from the index (md.subscribe empty)
    uint32_t index_token; //  md.index_sym's token
    int64_t tick_open_ns; //  the index's ticks from this instant on may carry an open
    int64_t bar_open_ns;  //  ... its final bars from this minute on
    int64_t tick_open_px; //  pending: the open from the first tick, 0 = none
    int64_t bar_open_px;  //  pending: the open of the first final bar, 0 = none
    int32_t tick_open_day, bar_open_day;
    int open_tries;          //  mid-day start: attempts at the open's candle
    bool open_unknown;       //  ... given up: universe from the current price
    size_t cap;              //  instruments the tables below hold
    kt_instr_table_t *instr; //  owned
    kt_http_t *http;         //  owned
    md_ticker_t *ticker;     //  owned
    md_bar_t *bars;          //  owned
    struct s_inst *inst;     //  owned, ninst
    size_t ninst;
    struct md_tokmap map; //  token -> index into inst
    uint32_t tokens[MD_UNIV_MAX];
    uint32_t *dirty; //  owned: indexes of inst with a new price
    size_t ndirty;
    const char **argv; //  owned: HSET md:ltp argument vector
    size_t *argvlen;
    char (*num)[24];
    struct kt_bar *barq; //  owned ring of final bars for md:bars
    size_t barq_head, barq_n;
    struct kt_msg msg; //  scratch for TICK and BAR
    int64_t recv_ns;
    struct kt_md_status_rec st;
    int64_t status_sent, publish_fail, bar_drops, text_msgs, oversize, orders, order_bad;
    int64_t last_tick_ns;
    int64_t bars_closed_ns; //  the latest minute announced complete (MD_STATUS bars_closed)
    int close_timer;        //  one-shot at the next minute's close (0 = none)
    int64_t down_since;     //  wall mono ns the feed went down, 0 while up
    bool alerted_down;
    bool session_alerted;
    bool tls_alerted;         //  the untrusted-certificate alert went out
    int64_t malformed_log_at; //  wall mono ns of the last malformed log line
    int64_t malformed_quiet;  //  malformed frames not logged since
    char auth[256];           //  "Authorization: token key:token" (secret)
};

// ---- universe table --------------------------------------------------------------------

static struct s_inst *
s_find (const md_t *self, uint32_t token)
{
    int64_t i = md_tokmap_get (&self->map, token);
    return i < 0 ? NULL : &self->inst[i];
}

// ---- publishing (hot path) -------------------------------------------------------------

//  A price at or after 09:15 of the day of ts (ns) not yet covered: the open of that day,
//  for the universe (kept pending, applied by s_open_pending outside the decoder and the
//  bar builder).
//  Returns true when ts was one; *next_ns is moved to the next instant worth a look.
static bool
s_open_seen (int64_t ts, int64_t *next_ns, int32_t *day)
{
    int64_t open_ns = kt_ist_day_start (ts) + S_OPEN_MIN * KT_NS_PER_MIN;
    if (ts < open_ns) {
        *next_ns = open_ns; //  a pre-open price: the open is still to come
        return false;
    }
    *next_ns = open_ns + S_NS_DAY;
    *day = kt_ist_yyyymmdd (ts);
    return true;
}

static void
s_on_bar (const struct kt_bar *bar, void *arg)
{
    md_t *self = arg;
    struct s_inst *in = s_find (self, bar->token);
    if (!in)
        return;
    //  The strategy takes ATM from the open of the index's first bar of the session: the
    //  universe follows that bar (the first tick gave the same price a minute earlier).
    if (bar->final && self->derived && bar->token == self->index_token &&
        bar->start_ns >= self->bar_open_ns &&
        s_open_seen (bar->start_ns, &self->bar_open_ns, &self->bar_open_day))
        self->bar_open_px = bar->o;
    memset (&self->msg, 0, sizeof self->msg);
    self->msg.env.type = KT_MSG_BAR;
    self->msg.u.bar = *bar;
    if (kt_bus_publish (self->bus, self->pub, in->bar_topic, &self->msg) != 0)
        self->publish_fail++;
    if (!bar->final)
        return;
    self->st.bars++;
    if (self->barq_n == S_BARQ) {
        //  Redis has been away for a long time: the oldest bar goes.
        self->barq_head = (self->barq_head + 1) % S_BARQ;
        self->barq_n--;
        self->bar_drops++;
    }
    self->barq[(self->barq_head + self->barq_n) % S_BARQ] = *bar;
    self->barq_n++;
}

static void
s_on_pkt (const struct md_pkt *pkt, void *arg)
{
    md_t *self = arg;
    struct s_inst *in = s_find (self, pkt->token);
    if (!in) {
        self->st.unknown++;
        return;
    }
    struct kt_msg *m = &self->msg;
    memset (&m->env, 0, sizeof m->env);
    m->env.type = KT_MSG_TICK;
    md_packet_tick (pkt, self->recv_ns, &m->u.tick);
    memcpy (m->u.tick.sym, in->sym, sizeof m->u.tick.sym);
    if (kt_bus_publish (self->bus, self->pub, in->tick_topic, m) == 0)
        self->st.ticks++;
    else
        self->publish_fail++;
    int64_t ts = m->u.tick.exch_ts_ns ? m->u.tick.exch_ts_ns : self->recv_ns;
    int64_t ltp = m->u.tick.ltp;
    int64_t volume = m->u.tick.volume;
    self->last_tick_ns = self->recv_ns;
    if (ltp > 0 && self->warming) {
        if (!in->first_ns)
            in->first_ns = ts;
        if (self->wbuf_n < S_WBUF_MAX)
            self->wbuf[self->wbuf_n++] = (struct s_wtick){pkt->token, ts, ltp, volume};
        else
            self->wbuf_full = true;
    } else if (ltp > 0) {
        md_bar_tick (self->bars, pkt->token, ts, ltp, volume);
        //  One compare per index tick; the rest once a day.
        if (pkt->token == self->index_token && self->derived && ts >= self->tick_open_ns &&
            s_open_seen (ts, &self->tick_open_ns, &self->tick_open_day))
            self->tick_open_px = ltp;
        in->ltp = ltp;
        if (!in->dirty) {
            in->dirty = true;
            self->dirty[self->ndirty++] = (uint32_t) (in - self->inst);
        }
    }
}

static void
s_recovered (md_t *self)
{
    if (self->down_since == 0)
        return;
    self->down_since = 0;
    if (self->alerted_down) {
        self->alerted_down = false;
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_INFO, "md.feed",
                       "market data is flowing again");
    }
    kt_log_info ("md.feed.up", KT_I ("reconnects", self->st.reconnects), KT_END);
}

static void
s_malformed (md_t *self, const uint8_t *data, size_t len, const char *why)
{
    self->st.malformed++;
    int64_t now = kt_clock_wall_mono_ns ();
    if (self->malformed_log_at && now - self->malformed_log_at < S_LOG_EVERY_NS) {
        self->malformed_quiet++;
        return;
    }
    char hex[65];
    md_packet_hex (data, len, 32, hex, sizeof hex);
    kt_log_warn ("md.frame.malformed", KT_S ("why", why), KT_I ("bytes", (int64_t) len),
                 KT_S ("head", hex), KT_I ("unlogged", self->malformed_quiet),
                 KT_I ("total", self->st.malformed), KT_END);
    self->malformed_log_at = now;
    self->malformed_quiet = 0;
}

static void s_extend (md_t *self, int64_t open_px, int32_t day, const char *source);

//  An open seen by the packets just decoded (or the bars just closed): the universe
//  follows it now, outside the decoder and the bar builder, before the next frame - at
//  a fast sim clock every wall millisecond of delay is trades the added strikes miss.
static void
s_open_pending (md_t *self)
{
    if (self->warming)
        return;
    if (self->tick_open_px) {
        s_extend (self, self->tick_open_px, self->tick_open_day, "first index tick");
        self->tick_open_px = 0;
    }
    if (self->bar_open_px) {
        s_extend (self, self->bar_open_px, self->bar_open_day, "first index bar");
        self->bar_open_px = 0;
    }
}

static void
s_on_binary (const uint8_t *data, size_t len, void *arg)
{
    md_t *self = arg;
    self->recv_ns = kt_proc_now_ns (self->proc);
    self->st.last_frame_ns = kt_clock_wall_ns ();
    if (self->down_since)
        s_recovered (self);
    struct md_frame_res res;
    md_frame_kind_t k = md_frame_decode (data, len, self->bars ? s_on_pkt : NULL, self, &res);
    if (k == MD_FRAME_HEARTBEAT) {
        self->st.heartbeats++;
        return;
    }
    self->st.frames++;
    if (k == MD_FRAME_MALFORMED) {
        s_malformed (self, data, len, res.why);
        return;
    }
    self->st.packets += res.packets;
    self->st.skipped += res.skipped;
    if (self->tick_open_px | self->bar_open_px)
        s_open_pending (self);
}

// ---- text messages -----------------------------------------------------------------------

//  An order update goes to exec-gateway on md.order as it came, prices from their digits.
static void
s_order_update (md_t *self, const char *text, size_t len)
{
    const char *data;
    size_t n;
    char why[128] = "no data object";
    struct kt_msg *m = &self->msg;
    memset (&m->env, 0, sizeof m->env);
    m->env.type = KT_MSG_ORDER_UPDATE;
    if (md_jraw_member (text, len, "data", &data, &n) != 0 ||
        md_order_parse (data, n, &m->u.order_update, why, sizeof why) != 0) {
        self->order_bad++;
        kt_log_warn ("md.order.bad", KT_S ("why", why), KT_I ("bytes", (int64_t) len), KT_END);
        return;
    }
    const struct kt_order_update *u = &m->u.order_update;
    kt_log_info ("md.order.update", KT_S ("order_id", u->order_id), KT_S ("status", u->status),
                 KT_S ("tag", u->tag), KT_I ("filled", u->filled_qty), KT_END);
    if (kt_bus_publish (self->bus, self->pub, "md.order", m) == 0)
        self->orders++;
    else {
        self->publish_fail++;
        kt_log_error ("md.order.publish", KT_S ("order_id", u->order_id),
                      KT_S ("why", kt_bus_errstr (self->bus)), KT_END);
    }
}

static void
s_on_text (const char *data, size_t len, void *arg)
{
    md_t *self = arg;
    self->text_msgs++;
    self->st.last_frame_ns = kt_clock_wall_ns ();
    cJSON *j = cJSON_ParseWithLength (data, len);
    const cJSON *type = j ? cJSON_GetObjectItemCaseSensitive (j, "type") : NULL;
    const cJSON *d = j ? cJSON_GetObjectItemCaseSensitive (j, "data") : NULL;
    if (!cJSON_IsString (type)) {
        char head[81];
        snprintf (head, sizeof head, "%.*s", (int) (len < 80 ? len : 80), data);
        kt_log_warn ("md.text.bad", KT_S ("head", head), KT_I ("bytes", (int64_t) len), KT_END);
    } else if (strcmp (type->valuestring, "order") == 0)
        s_order_update (self, data, len);
    else if (strcmp (type->valuestring, "error") == 0 ||
             strcmp (type->valuestring, "message") == 0) {
        bool err = strcmp (type->valuestring, "error") == 0;
        const char *text = cJSON_IsString (d) ? d->valuestring : "(not a string)";
        if (err)
            kt_log_warn ("md.ws.error", KT_S ("text", text), KT_END);
        else
            kt_log_info ("md.ws.message", KT_S ("text", text), KT_END);
        kt_alert_send (kt_proc_alerts (self->proc), err ? KT_SEV_WARNING : KT_SEV_INFO,
                       err ? "md.ws.error" : "md.ws.message", "Kite ticker %s: %s",
                       err ? "error" : "message", text);
    } else
        kt_log_info ("md.text.other", KT_S ("type", type->valuestring), KT_END);
    cJSON_Delete (j);
}

static void
s_on_oversize (size_t len, void *arg)
{
    md_t *self = arg;
    self->oversize++;
    self->st.malformed++;
    kt_log_warn ("md.frame.oversize", KT_I ("bytes", (int64_t) len),
                 KT_I ("max", self->cfg->max_message), KT_END);
}

// ---- connection state --------------------------------------------------------------------

static void s_write_status (md_t *self);

static void
s_session_invalid (md_t *self, int http, const char *why)
{
    //  risk-gate reads md:status session_refused and halts on it (docs/md-gateway.md).
    self->st.session_refused = true;
    s_write_status (self);
    if (!self->session_alerted) {
        self->session_alerted = true;
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "md.session",
                       "Kite refused the access token at the ticker (HTTP %d, TokenException: "
                       "%s). Market data stopped; log in again and restart md-gateway.",
                       http, why);
    }
}

//  The server's certificate failed verification: the connection was never used. Each
//  attempt is logged (the back-off spaces them); the alert goes once until a
//  connection succeeds again, since a human must fix the CA file, the host name or
//  find out who is answering.
static void
s_untrusted (md_t *self, const char *why)
{
    kt_log_error ("md.ws.untrusted", KT_S ("url_host", md_ticker_host (self->ticker)),
                  KT_S ("why", why),
                  KT_S ("ca_file", self->cfg->ws_ca_file[0] ? self->cfg->ws_ca_file : "system"),
                  KT_I ("attempts", md_ticker_attempts (self->ticker)), KT_END);
    if (self->tls_alerted)
        return;
    self->tls_alerted = true;
    kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "md.tls",
                   "The ticker server %s failed TLS verification (%s). Not connecting; "
                   "market data is stopped until its certificate verifies against %s.",
                   md_ticker_host (self->ticker), why,
                   self->cfg->ws_ca_file[0] ? self->cfg->ws_ca_file : "the system CA store");
}

static void
s_on_state (md_ticker_event_t ev, const char *why, int http, void *arg)
{
    md_t *self = arg;
    int64_t now = kt_proc_now_ns (self->proc);
    switch (ev) {
        case MD_TICKER_CONNECTED:
            self->st.connected = true;
            self->st.since_ns = now;
            self->st.reconnects = md_ticker_reconnects (self->ticker);
            self->tls_alerted = false;
            kt_log_info ("md.ws.connected", KT_S ("host", md_ticker_host (self->ticker)),
                         KT_S ("addr", md_ticker_addr (self->ticker)),
                         KT_I ("subscribed", (int64_t) self->ninst),
                         KT_I ("reconnects", self->st.reconnects), KT_END);
            break;
        case MD_TICKER_SILENT:
            kt_log_warn ("md.ws.silent", KT_I ("silence_ms", self->cfg->silence_ms), KT_END);
            if (!self->down_since)
                self->down_since = kt_clock_wall_mono_ns ();
            break;
        case MD_TICKER_CLOSED:
        case MD_TICKER_REFUSED:
        case MD_TICKER_UNTRUSTED:
            if (self->st.connected)
                self->st.since_ns = now;
            self->st.connected = false;
            if (!self->down_since)
                self->down_since = kt_clock_wall_mono_ns ();
            if (ev == MD_TICKER_REFUSED) {
                self->st.session_refused = true;
                kt_log_error ("md.ws.refused", KT_I ("http", http), KT_S ("why", why), KT_END);
                s_session_invalid (self, http, why);
            } else if (ev == MD_TICKER_UNTRUSTED)
                s_untrusted (self, why);
            else
                kt_log_warn ("md.ws.closed", KT_I ("http", http), KT_S ("why", why),
                             KT_I ("attempts", md_ticker_attempts (self->ticker)), KT_END);
            break;
    }
    md_publish_status (self);
}

// ---- timers ------------------------------------------------------------------------------

static void
s_write_status (md_t *self)
{
    self->st.updated_ns = kt_proc_now_ns (self->proc);
    self->st.subscribed = (int64_t) self->ninst;
    kt_schema_send (kt_proc_store (self->proc), &kt_key_md_status, NULL, &self->st, NULL, NULL);
}

static void
s_check_down (md_t *self)
{
    if (!self->down_since || self->alerted_down || self->phase != S_PHASE_RUN ||
        self->st.session_refused)
        return;
    int64_t down = kt_clock_wall_mono_ns () - self->down_since;
    if (down < self->cfg->alert_after_s * KT_NS_PER_SEC ||
        !kt_ist_market_open (kt_proc_now_ns (self->proc)))
        return;
    self->alerted_down = true;
    kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "md.feed",
                   "no market data for %lld s in market hours (ticker %s, %lld reconnect "
                   "attempts)",
                   (long long) (down / KT_NS_PER_SEC),
                   md_ticker_connected (self->ticker) ? "connected but silent" : "disconnected",
                   (long long) md_ticker_attempts (self->ticker));
}

static int
s_on_status (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    md_t *self = arg;
    md_publish_status (self);
    s_write_status (self);
    s_check_down (self);
    return 0;
}

//  The clock that closes minutes: pipeline time less the grace, so a tick stamped just
//  before a minute's end but read just after it still belongs to its minute (at 60x, 10
//  wall ms of delivery are 600 simulated ms).
static int64_t
s_bar_clock (md_t *self)
{
    return kt_proc_now_ns (self->proc) -
           kt_proc_wall_to_pipeline_ms (self->proc, self->cfg->bar_grace_ms) * 1000000;
}

//  Close the minutes that ended at or before now_ns and, when that completes a minute
//  not yet announced, say so with MD_STATUS `bars_closed` right after its last final bar
//  (one PUB socket keeps the order): a subscriber closes its minute on that, not on a
//  wall-time guess that a loaded machine can beat.
static void
s_advance (md_t *self, int64_t now_ns)
{
    md_bar_advance (self->bars, now_ns);
    int64_t closed =
        (now_ns >= 0 ? now_ns / KT_NS_PER_MIN : (now_ns + 1) / KT_NS_PER_MIN - 1) * KT_NS_PER_MIN -
        KT_NS_PER_MIN;
    if (closed > self->bars_closed_ns) {
        self->bars_closed_ns = closed;
        if (md_publish_status (self) != 0)
            self->publish_fail++;
    }
}

static int s_on_close (kt_loop_t *loop, int timer_id, void *arg);

//  A one-shot timer at the next instant a minute can be closed (its end plus the grace):
//  the periodic clock alone would close it up to S_CLOCK_MS of wall time late (40 s of
//  session at 200x; up to 200 ms of every decision live).
static void
s_arm_close (md_t *self)
{
    if (self->close_timer > 0)
        return;
    int64_t now = kt_proc_now_ns (self->proc);
    int64_t grace = now - s_bar_clock (self);
    int64_t at = now - grace;
    int64_t next = (at >= 0 ? at / KT_NS_PER_MIN : (at + 1) / KT_NS_PER_MIN - 1) * KT_NS_PER_MIN +
                   KT_NS_PER_MIN + grace;
    int64_t ms = (next - now + 999999) / 1000000 + 1;
    self->close_timer =
        kt_loop_timer (kt_proc_loop (self->proc), ms > 0 ? ms : 1, false, s_on_close, self);
}

static int
s_on_clock (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    md_t *self = arg;
    if (self->bars && !self->warming)
        s_advance (self, s_bar_clock (self));
    s_open_pending (self);
    s_arm_close (self);
    return 0;
}

static int
s_on_close (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    md_t *self = arg;
    self->close_timer = 0;
    if (self->bars && !self->warming)
        s_advance (self, s_bar_clock (self));
    s_open_pending (self);
    s_arm_close (self);
    return 0;
}

static void
s_flush_ltp (md_t *self, kt_store_t *store)
{
    if (self->ndirty == 0)
        return;
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_md_ltp, NULL);
    self->argv[0] = "HSET";
    self->argvlen[0] = 4;
    self->argv[1] = key.s;
    self->argvlen[1] = key.len;
    size_t n = 2;
    for (size_t i = 0; i < self->ndirty; i++) {
        struct s_inst *in = &self->inst[self->dirty[i]];
        snprintf (self->num[i], sizeof self->num[i], "%lld", (long long) in->ltp);
        self->argv[n] = in->sym;
        self->argvlen[n++] = strlen (in->sym);
        self->argv[n] = self->num[i];
        self->argvlen[n++] = strlen (self->num[i]);
    }
    //  Queued (copied): the store keeps it through a Redis outage and sends it later.
    if (kt_store_send (store, (int) n, self->argv, self->argvlen, NULL, NULL) != 0)
        return; //  queue full: keep them dirty, the next flush tries again
    for (size_t i = 0; i < self->ndirty; i++)
        self->inst[self->dirty[i]].dirty = false;
    self->ndirty = 0;
}

//  Each final bar: XADD md:bars:<token> MAXLEN <md.bars_keep> * with the fields
//  kt_key_md_bars declares, each its own value (redis-cli XRANGE reads them).
static void
s_flush_bars (md_t *self, kt_store_t *store)
{
    char keep[24];
    snprintf (keep, sizeof keep, "%lld", (long long) self->cfg->bars_keep);
    while (self->barq_n > 0) {
        const struct kt_bar *b = &self->barq[self->barq_head];
        char tok[16];
        snprintf (tok, sizeof tok, "%u", b->token);
        struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_md_bars, tok);
        struct kt_schema_pairs pairs;
        if (kt_schema_pairs (&kt_key_md_bars, b, &pairs) < 0)
            abort (); //  the declaration is fixed: cannot fail
        const char *argv[5 + 2 * KT_SCHEMA_FIELDS_MAX] = {"XADD", key.s, "MAXLEN", keep, "*"};
        size_t argvlen[5 + 2 * KT_SCHEMA_FIELDS_MAX] = {4, key.len, 6, strlen (keep), 1};
        for (int i = 0; i < 2 * pairs.n; i++) {
            argv[5 + i] = pairs.argv[i];
            argvlen[5 + i] = pairs.argvlen[i];
        }
        if (kt_store_send (store, 5 + 2 * pairs.n, argv, argvlen, NULL, NULL) != 0)
            return; //  queue full: the next flush tries again
        self->barq_head = (self->barq_head + 1) % S_BARQ;
        self->barq_n--;
    }
}

static int
s_on_flush (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    md_t *self = arg;
    kt_store_t *store = kt_proc_store (self->proc);
    s_flush_ltp (self, store);
    s_flush_bars (self, store);
    return 0;
}

static int
s_counters (kt_kv_t *out, int max, void *arg)
{
    md_t *self = arg;
    if (max < 12)
        return 0;
    out[0] = KT_I ("connected", self->st.connected);
    out[1] = KT_I ("subscribed", (int64_t) self->ninst);
    out[2] = KT_I ("frames", self->st.frames);
    out[3] = KT_I ("packets", self->st.packets);
    out[4] = KT_I ("malformed", self->st.malformed);
    out[5] = KT_I ("ticks", self->st.ticks);
    out[6] = KT_I ("bars", self->st.bars);
    out[7] = KT_I ("reconnects", self->st.reconnects);
    out[8] = KT_I ("publish_fail", self->publish_fail);
    out[9] = KT_I ("status_sent", self->status_sent);
    out[10] = KT_I ("order_updates", self->orders);
    out[11] = KT_I ("order_updates_bad", self->order_bad);
    return 12;
}

// ---- start-up: instruments, universe, ticker ---------------------------------------------

static void s_step (md_t *self);

static int
s_on_retry (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    md_t *self = arg;
    self->retry_timer = 0;
    s_step (self);
    return 0;
}

static void
s_retry_later (md_t *self)
{
    if (self->retry_timer <= 0)
        self->retry_timer =
            kt_loop_timer_wall (kt_proc_loop (self->proc), S_RETRY_MS, false, s_on_retry, self);
}

// ---- warm-up from today's candles ---------------------------------------------------------

static void s_warm_next (md_t *self);

//  The complete minutes after each instrument's last stored bar, through warm_cut, from
//  their candles, minute by minute across instruments (the order a live close has, and
//  the one the strategy needs), then the held ticks of later minutes. An instrument
//  whose candles did not come keeps all its ticks, as before the warm-up existed.
static void
s_warm_done (md_t *self)
{
    int64_t lo = self->warm_cut + 1;
    for (size_t k = 0; k < self->ninst; k++)
        if (self->inst[k].seeded && self->inst[k].fill_after_min + 1 < lo)
            lo = self->inst[k].fill_after_min + 1;
    size_t *next = calloc (self->ninst ? self->ninst : 1, sizeof *next);
    if (!next)
        abort ();
    int64_t filled = 0;
    for (int64_t m = lo; m <= self->warm_cut; m++) {
        s_advance (self, m * KT_NS_PER_MIN);
        for (size_t k = 0; k < self->ninst; k++) {
            struct s_inst *in = &self->inst[k];
            while (next[k] < in->nfill && in->fill[next[k]].start_ns / KT_NS_PER_MIN < m)
                next[k]++;
            if (next[k] < in->nfill && in->fill[next[k]].start_ns / KT_NS_PER_MIN == m)
                filled += md_bar_candle (self->bars, in->token, &in->fill[next[k]]) == 0;
        }
        s_flush_bars (self, kt_proc_store (self->proc)); //  a long gap stays within barq
    }
    if (lo <= self->warm_cut)
        s_advance (self, (self->warm_cut + 1) * KT_NS_PER_MIN);
    free (next);
    int64_t cut_end = (self->warm_cut + 1) * KT_NS_PER_MIN;
    int64_t dropped = 0;
    for (size_t i = 0; i < self->wbuf_n; i++) {
        const struct s_wtick *t = &self->wbuf[i];
        const struct s_inst *in = s_find (self, t->token);
        if (in && in->seeded && t->ts < cut_end) {
            dropped++; //  its trade is in a candle
            continue;
        }
        md_bar_tick (self->bars, t->token, t->ts, t->ltp, t->volume);
    }
    for (size_t k = 0; k < self->ninst; k++) {
        free (self->inst[k].fill);
        self->inst[k].fill = NULL;
        self->inst[k].nfill = 0;
    }
    kt_log_info ("md.warm.fill", KT_I ("from_min", lo), KT_I ("through_min", self->warm_cut),
                 KT_I ("candle_bars", filled), KT_I ("ticks_in_candles", dropped), KT_END);
    self->warming = false;
    s_advance (self, s_bar_clock (self));
    kt_log_info ("md.warm.done", KT_I ("seeded", self->warm_seeded),
                 KT_I ("candles", self->warm_candles), KT_I ("failed", self->warm_failed),
                 KT_I ("held_ticks", (int64_t) self->wbuf_n), KT_B ("overflow", self->wbuf_full),
                 KT_END);
    if (self->wbuf_full)
        kt_log_warn ("md.warm.overflow", KT_I ("held", (int64_t) self->wbuf_n), KT_END);
    free (self->wbuf);
    self->wbuf = NULL;
    free (self->candles);
    self->candles = NULL;
}

static int
s_on_warm_timer (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    md_t *self = arg;
    self->warm_timer = 0;
    s_warm_next (self);
    return 0;
}

static void
s_warm_later (md_t *self, int64_t wall_ms)
{
    self->warm_timer =
        kt_loop_timer_wall (kt_proc_loop (self->proc), wall_ms, false, s_on_warm_timer, self);
}

//  History up to the last bar the previous run stored today (else up to the minute
//  before warm_cut: a first start publishes no morning); the complete candles after it,
//  through warm_cut, kept for s_warm_done.
static void
s_seed (md_t *self, struct s_inst *in, size_t n)
{
    int64_t after = self->warm_cut - 1;
    int64_t stored = in->stored_ns / KT_NS_PER_MIN;
    int64_t day_min = 24 * 60;
    int64_t off = KT_IST_OFFSET_NS / KT_NS_PER_MIN;
    if (in->stored_known && in->stored_ns > 0 && stored < self->warm_cut &&
        (stored + off) / day_min == (self->warm_cut + off) / day_min)
        after = stored;
    int used = md_bar_seed (self->bars, in->token, self->candles, n, after * KT_NS_PER_MIN);
    self->warm_seeded++;
    self->warm_candles += used > 0 ? used : 0;
    in->seeded = true;
    in->fill_after_min = after;
    in->fill = malloc ((size_t) (self->warm_cut - after) * sizeof *in->fill);
    if (!in->fill)
        abort ();
    in->nfill = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m = self->candles[i].start_ns / KT_NS_PER_MIN;
        if (m > after && m <= self->warm_cut && in->nfill < (size_t) (self->warm_cut - after))
            in->fill[in->nfill++] = self->candles[i];
    }
}

static void
s_on_candles (const kt_http_resp_t *resp, void *arg)
{
    md_t *self = arg;
    struct s_inst *in = &self->inst[self->warm_i];
    if (resp->err == KT_HTTP_OK && resp->status == 429) {
        s_warm_later (self, 1000); //  over the 3/s limit: the same again, later
        return;
    }
    char why[128] = "";
    int n = -1;
    if (resp->err == KT_HTTP_OK && resp->status == 200)
        n = md_candle_parse (resp->body, resp->body_len, self->candles, S_CANDLES_MAX, why,
                             sizeof why);
    if (n < 0 && ++self->warm_tries < 3) {
        s_warm_later (self, 1000);
        return;
    }
    if (n < 0) {
        self->warm_failed++;
        kt_log_warn ("md.warm.fail", KT_S ("sym", in->sym), KT_I ("status", resp->status),
                     KT_S ("err", kt_http_err_str (resp->err)), KT_S ("why", why), KT_END);
    } else
        s_seed (self, in, (size_t) n);
    self->warm_i++;
    self->warm_tries = 0;
    s_warm_later (self, S_WARM_GAP_MS);
}

//  GET /instruments/historical/<token>/minute from 09:15 today to now, one at a time.
static void
s_warm_next (md_t *self)
{
    if (self->warm_i >= self->ninst) {
        s_warm_done (self);
        return;
    }
    const kt_cfg_t *cfg = kt_proc_cfg (self->proc);
    int64_t now = kt_proc_now_ns (self->proc);
    char to[24], url[512];
    kt_ist_format (now, to, sizeof to);
    to[10] = '+';
    size_t ul = strlen (cfg->kite_api_url);
    snprintf (url, sizeof url, "%s%sinstruments/historical/%u/minute?from=%.10s+09:15:00&to=%s",
              cfg->kite_api_url, ul && cfg->kite_api_url[ul - 1] == '/' ? "" : "/",
              self->inst[self->warm_i].token, to, to);
    const char *headers[] = {"X-Kite-Version: 3", self->auth, NULL};
    kt_http_req_t req = {.method = "GET", .url = url, .headers = headers, .timeout_ms = 10000};
    if (kt_http_request (self->http, &req, s_on_candles, self) < 0) {
        self->warm_failed++;
        self->warm_i++;
        s_warm_later (self, S_WARM_GAP_MS);
    }
}

//  The last entry of md:bars:<token>: the last final bar the previous run stored.
static void
s_on_stored (const kt_store_result_t *r, void *arg)
{
    //  DOWN also comes when the store is destroyed with this read queued, after md-gateway
    //  let go of in: nothing may be written then.
    if (r->kind != KT_STORE_ARR && r->kind != KT_STORE_NIL)
        return;
    struct s_inst *in = arg;
    in->stored_known = true;
    if (r->kind != KT_STORE_ARR || r->elements == 0)
        return;
    kt_store_result_t e = kt_store_result_at (r, 0);
    kt_store_result_t f = kt_store_result_at (&e, 1);
    struct kt_bar b = {.start_ns = 0};
    char why[96];
    for (size_t i = 0; i + 1 < f.elements; i += 2) {
        kt_store_result_t k = kt_store_result_at (&f, i), v = kt_store_result_at (&f, i + 1);
        if (k.kind == KT_STORE_STR && v.kind == KT_STORE_STR)
            kt_schema_set (&kt_key_md_bars, &b, k.str, k.len, v.str, v.len, why, sizeof why);
    }
    in->stored_ns = b.start_ns;
}

//  The warm-up covers the minute it begins in (warm_cut) with candles, so it fetches
//  them once that minute is over (plus md.bar_grace_ms): the candle of warm_cut is then
//  complete, and that minute, like every one the previous run did not publish, is
//  published from its candle - equal to the bar an uninterrupted run built from the
//  ticks. Meanwhile each md:bars:<token> says where the previous run stopped.
static void
s_warm_begin (md_t *self)
{
    kt_store_t *store = kt_proc_store (self->proc);
    int64_t now = kt_proc_now_ns (self->proc);
    self->warm_cut = now / KT_NS_PER_MIN;
    for (size_t i = 0; i < self->ninst; i++) {
        char tok[16];
        snprintf (tok, sizeof tok, "%u", self->inst[i].token);
        struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_md_bars, tok);
        const char *argv[] = {"XREVRANGE", key.s, "+", "-", "COUNT", "1"};
        size_t argvlen[] = {9, key.len, 1, 1, 5, 1};
        kt_store_send (store, 6, argv, argvlen, s_on_stored, &self->inst[i]);
    }
    int64_t wait_ms = ((self->warm_cut + 1) * KT_NS_PER_MIN - now) / 1000000 +
                      kt_proc_wall_to_pipeline_ms (self->proc, self->cfg->bar_grace_ms);
    kt_log_info ("md.warm.begin", KT_I ("cut_min", self->warm_cut), KT_I ("wait_ms", wait_ms),
                 KT_END);
    self->warm_timer = kt_loop_timer (kt_proc_loop (self->proc), wait_ms > 0 ? wait_ms : 0, false,
                                      s_on_warm_timer, self);
}

//  Instrument i of tokens joins: table, token map, bar builder, md:universe.
static void
s_inst_add (md_t *self, size_t i)
{
    kt_store_t *store = kt_proc_store (self->proc);
    struct kt_skey ukey = kt_schema_key (kt_store_prefix (store), &kt_key_md_universe, NULL);
    const struct kt_instr *row = kt_instr_by_token (self->instr, self->tokens[i]);
    struct s_inst *in = &self->inst[i];
    in->token = row->token;
    snprintf (in->sym, sizeof in->sym, "%s", row->sym);
    snprintf (in->exchange, sizeof in->exchange, "%s", row->exchange);
    snprintf (in->tick_topic, sizeof in->tick_topic, "md.tick.%.50s", row->sym);
    snprintf (in->bar_topic, sizeof in->bar_topic, "md.bar.%.50s", row->sym);
    md_tokmap_put (&self->map, in->token, (uint32_t) i);
    md_bar_add (self->bars, in->token, in->sym);
    kt_store_sendf (store, NULL, NULL, "HSET %s %u %s:%s", ukey.s, in->token, in->exchange,
                    in->sym);
    //  md:bars:<token> was a list of JSON objects before it became a stream: such a
    //  key would refuse every XADD, so it goes (volatile; the stream refills).
    char tok[16];
    snprintf (tok, sizeof tok, "%u", in->token);
    struct kt_skey bkey = kt_schema_key (kt_store_prefix (store), &kt_key_md_bars, tok);
    kt_store_sendf (store, NULL, NULL, "EVAL %s 1 %s", S_BARS_NOT_STREAM, bkey.s);
}

//  The universe is known: tables, bar builder, Redis, ticker. A derived universe may
//  grow at the open (s_extend) up to Kite's limit: its tables are sized for that now, so
//  nothing moves later (the warm-up holds pointers into inst).
static void
s_go (md_t *self, size_t n)
{
    self->ninst = n;
    self->cap = self->derived ? MD_UNIV_MAX : n;
    size_t cap = self->cap;
    self->inst = calloc (cap, sizeof *self->inst);
    md_tokmap_init (&self->map, cap);
    self->dirty = calloc (cap, sizeof *self->dirty);
    self->argv = calloc (2 + 2 * cap, sizeof *self->argv);
    self->argvlen = calloc (2 + 2 * cap, sizeof *self->argvlen);
    self->num = calloc (cap, sizeof *self->num);
    if (!self->inst || !self->dirty || !self->argv || !self->argvlen || !self->num)
        abort ();
    struct md_bar_cfg bcfg = {.capacity = cap,
                              .partial_ns = self->cfg->partial_bar_ms * 1000000,
                              .session_open_min = S_OPEN_MIN,
                              .session_close_min = 15 * 60 + 30};
    self->bars = md_bar_new (&bcfg, s_on_bar, self);
    if (!self->bars)
        abort ();
    kt_store_t *store = kt_proc_store (self->proc);
    struct kt_skey ukey = kt_schema_key (kt_store_prefix (store), &kt_key_md_universe, NULL);
    kt_store_sendf (store, NULL, NULL, "DEL %s", ukey.s);
    for (size_t i = 0; i < n; i++)
        s_inst_add (self, i);
    self->phase = S_PHASE_RUN;
    kt_log_info ("md.universe", KT_I ("instruments", (int64_t) n), KT_END);
    const kt_cfg_t *cfg = kt_proc_cfg (self->proc);
    if (!cfg->kite_access_token[0]) {
        kt_log_error ("md.ws.no_token", KT_S ("msg", "kite.access_token is empty"), KT_END);
        self->st.session_refused = true;
        s_session_invalid (self, 0, "no access token configured");
        return;
    }
    //  Before the session's first minute no candle exists yet: a warm-up would only hold
    //  the open's ticks while it asks (at a fast sim clock, for minutes of the session).
    int64_t now = kt_proc_now_ns (self->proc);
    bool before_open =
        now < kt_ist_day_start (now) + (int64_t) bcfg.session_open_min * 60 * KT_NS_PER_SEC;
    if (self->cfg->warmup && before_open)
        kt_log_info ("md.warm.skip", KT_S ("why", "before the session's first minute"), KT_END);
    if (self->cfg->warmup && !before_open) {
        self->warming = true;
        self->wbuf = malloc (S_WBUF_MAX * sizeof *self->wbuf);
        self->candles = malloc (S_CANDLES_MAX * sizeof *self->candles);
        if (!self->wbuf || !self->candles)
            abort ();
    }
    md_ticker_subscribe (self->ticker, self->tokens, n, self->cfg->mode);
    md_ticker_start (self->ticker);
    if (self->warming)
        s_warm_begin (self);
}

//  The open of day is open_px: the options the strategy watches from that open (ATM +/-
//  md.strikes around it) join the universe - subscribed on the live connection (and
//  after every reconnect), in md:universe, bars from their first tick - and nothing
//  leaves it (positions may be held on any of them).
static void
s_extend (md_t *self, int64_t open_px, int32_t day, const char *source)
{
    size_t n = self->ninst, added = 0;
    int64_t atm = 0;
    char err[256];
    if (md_univ_extend (self->instr, self->cfg->underlying, self->cfg->index_sym, open_px,
                        (int) self->cfg->strikes, day, self->tokens, self->cap, &n, &added, &atm,
                        err, sizeof err) != 0) {
        kt_log_error ("md.universe.extend", KT_S ("why", err), KT_I ("open", open_px),
                      KT_I ("day", day), KT_END);
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "md.universe",
                       "cannot follow the open %lld.%02lld of %d: %s; the strategy's "
                       "universe may lack data",
                       (long long) (open_px / 100), (long long) (open_px % 100), (int) day, err);
        return;
    }
    if (added == 0) {
        kt_log_info ("md.universe.open", KT_S ("source", source), KT_I ("open", open_px),
                     KT_I ("atm", atm), KT_I ("day", day), KT_S ("covered", "already"), KT_END);
        return;
    }
    char syms[1024];
    size_t o = 0;
    syms[0] = '\0';
    for (size_t i = self->ninst; i < n; i++) {
        s_inst_add (self, i);
        if (o + 1 < sizeof syms)
            o += (size_t) snprintf (syms + o, sizeof syms - o, "%s%s", o ? "," : "",
                                    self->inst[i].sym);
    }
    self->ninst = n;
    if (md_ticker_subscribe (self->ticker, self->tokens, n, self->cfg->mode) != 0)
        kt_log_error ("md.universe.extend", KT_S ("why", "ticker refused the subscriptions"),
                      KT_END);
    kt_log_info ("md.universe.extend", KT_S ("source", source), KT_I ("open", open_px),
                 KT_I ("atm", atm), KT_I ("day", day), KT_I ("added", (int64_t) added),
                 KT_I ("instruments", (int64_t) n), KT_S ("syms", syms), KT_END);
    s_write_status (self);
}

//  The universe derived at index price px (source: what px is, for the log); then on.
static void
s_derive_go (md_t *self, int64_t px, const char *source)
{
    char err[256];
    size_t n = 0;
    int32_t expiry = 0;
    int64_t step = 0, atm = 0;
    int64_t now = kt_proc_now_ns (self->proc);
    int32_t today = kt_ist_yyyymmdd (now);
    if (md_univ_derive (self->instr, self->cfg->underlying, self->cfg->index_sym, px,
                        (int) self->cfg->strikes, today, self->tokens, MD_UNIV_MAX, &n, &expiry,
                        &step, &atm, err, sizeof err) != 0) {
        kt_log_error ("md.universe.derive", KT_S ("why", err), KT_END);
        kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "md.universe",
                       "cannot derive the universe: %s", err);
        s_retry_later (self);
        return;
    }
    //  Before today's open, its first index tick and bar extend the universe; after it,
    //  the universe is today's (from the open's candle, or given up on), and tomorrow's
    //  open is the next to follow. Started inside the open's minute (its candle cannot be
    //  had before the minute ends), the universe is the last price's at once and the
    //  open's minute bar - published from its candle, the open the strategy takes -
    //  extends it; the ticks seen from now on are past the open.
    int64_t open_ns = kt_ist_day_start (now) + S_OPEN_MIN * KT_NS_PER_MIN;
    bool first_minute = now >= open_ns && now < open_ns + KT_NS_PER_MIN && !self->open_unknown;
    self->tick_open_ns = self->bar_open_ns = now < open_ns ? open_ns : open_ns + S_NS_DAY;
    if (first_minute)
        self->bar_open_ns = open_ns;
    kt_log_info ("md.universe.derived", KT_S ("source", source), KT_I ("index_price", px),
                 KT_I ("atm", atm), KT_I ("step", step), KT_I ("expiry", expiry),
                 KT_B ("follows_open", now < open_ns || first_minute), KT_END);
    s_go (self, n);
}

//  The index's candles of today from 09:15: the first one's open is the day's open, the
//  price the strategy takes ATM from (its warm-up reads the same candle).
static void
s_on_open_candle (const kt_http_resp_t *resp, void *arg)
{
    md_t *self = arg;
    if (resp->err == KT_HTTP_OK && resp->status == 403) {
        kt_log_error ("md.index.refused", KT_I ("status", resp->status), KT_END);
        self->st.session_refused = true;
        s_session_invalid (self, 403, "REST historical candles answered 403");
        return;
    }
    char why[160] = "";
    int64_t px = 0;
    int64_t now = kt_proc_now_ns (self->proc);
    int64_t open_ns = kt_ist_day_start (now) + S_OPEN_MIN * KT_NS_PER_MIN;
    if (resp->err != KT_HTTP_OK || resp->status != 200)
        snprintf (why, sizeof why, "%s, HTTP %ld", kt_http_err_str (resp->err), resp->status);
    else {
        struct md_candle *c = malloc (S_CANDLES_MAX * sizeof *c);
        if (!c)
            abort ();
        int n = md_candle_parse (resp->body, resp->body_len, c, S_CANDLES_MAX, why, sizeof why);
        for (int i = 0; i < n && !px; i++)
            if (c[i].start_ns >= open_ns && c[i].start_ns < open_ns + S_NS_DAY)
                px = c[i].o;
        free (c);
        if (n >= 0 && !px)
            snprintf (why, sizeof why, "no index candle of today's session");
    }
    if (px > 0) {
        s_derive_go (self, px, "open candle");
        return;
    }
    kt_log_warn ("md.index.open", KT_S ("index", self->cfg->index_sym), KT_S ("why", why),
                 KT_I ("try", self->open_tries + 1), KT_END);
    if (++self->open_tries < S_OPEN_TRIES) {
        s_retry_later (self);
        return;
    }
    //  Market data matters more than the exact edge strikes: go on from the current
    //  price, and say so.
    self->open_unknown = true;
    kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_WARNING, "md.universe",
                   "the day's open of %s is unknown (%s): universe from the current price, "
                   "the strategy's edge strikes may lack data",
                   self->cfg->index_sym, why);
    s_step (self);
}

//  data["<EXCH>:<SYM>"].last_price of a /quote/ltp answer, read from its digits (never
//  through a double). Returns 0 with *paise > 0, or -1.
static int
s_parse_ltp (const char *body, size_t len, const char *key, int64_t *paise)
{
    const char *data, *q, *lp;
    size_t dlen, qlen, lplen;
    if (md_jraw_member (body, len, "data", &data, &dlen) != 0 ||
        md_jraw_member (data, dlen, key, &q, &qlen) != 0 ||
        md_jraw_member (q, qlen, "last_price", &lp, &lplen) != 0)
        return -1;
    return kt_money_parse (lp, lplen, paise) == 0 && *paise > 0 ? 0 : -1;
}

static void
s_on_ltp (const kt_http_resp_t *resp, void *arg)
{
    md_t *self = arg;
    const struct kt_instr *index = kt_instr_by_sym (self->instr, NULL, self->cfg->index_sym);
    char key[64];
    snprintf (key, sizeof key, "%s:%s", index ? index->exchange : "", self->cfg->index_sym);
    int64_t ltp = 0;
    if (resp->err == KT_HTTP_OK && resp->status == 403) {
        //  TokenException: the session is dead; asking again will not revive it.
        kt_log_error ("md.index.refused", KT_I ("status", resp->status), KT_END);
        self->st.session_refused = true;
        s_session_invalid (self, 403, "REST /quote/ltp answered 403");
        return;
    }
    if (resp->err != KT_HTTP_OK || resp->status != 200 ||
        s_parse_ltp (resp->body, resp->body_len, key, &ltp) != 0) {
        kt_log_warn ("md.index.price", KT_S ("index", self->cfg->index_sym),
                     KT_S ("err", kt_http_err_str (resp->err)), KT_I ("status", resp->status),
                     KT_S ("body", resp->body_len > 200 ? "(long)" : resp->body), KT_END);
        s_retry_later (self);
        return;
    }
    s_derive_go (self, ltp, "last price");
}

static void
s_step (md_t *self)
{
    const kt_cfg_t *cfg = kt_proc_cfg (self->proc);
    char err[512];
    if (self->phase == S_PHASE_INSTR) {
        struct kt_instr_cache_cfg icfg;
        kt_instr_cache_from_cfg (cfg, kt_proc_now_ns (self->proc), &icfg);
        self->instr = kt_instr_cache_load (&icfg, err, sizeof err);
        if (!self->instr && strstr (err, "status 403")) {
            //  TokenException: the session is dead, retrying cannot help.
            kt_log_error ("md.instruments", KT_S ("why", err), KT_END);
            self->st.session_refused = true;
            s_session_invalid (self, 403, "REST /instruments answered 403");
            return;
        }
        if (!self->instr) {
            kt_log_error ("md.instruments", KT_S ("why", err), KT_END);
            kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "md.instruments",
                           "no instruments list: %s", err);
            s_retry_later (self);
            return;
        }
        kt_log_info ("md.instruments", KT_I ("rows", (int64_t) kt_instr_count (self->instr)),
                     KT_END);
        self->phase = S_PHASE_PRICE;
    }
    if (self->phase != S_PHASE_PRICE)
        return;
    if (self->cfg->subscribe[0]) {
        size_t n = 0;
        if (md_univ_parse (self->instr, self->cfg->subscribe, self->tokens, MD_UNIV_MAX, &n, err,
                           sizeof err) != 0) {
            kt_log_error ("md.universe.config", KT_S ("why", err), KT_END);
            kt_alert_send (kt_proc_alerts (self->proc), KT_SEV_CRITICAL, "md.universe",
                           "md.subscribe: %s", err);
            return; //  a config error does not fix itself: nothing to retry
        }
        s_go (self, n);
        return;
    }
    const struct kt_instr *index = kt_instr_by_sym (self->instr, NULL, self->cfg->index_sym);
    if (!index) {
        kt_log_error ("md.universe.derive", KT_S ("why", "index not in the instruments list"),
                      KT_S ("index", self->cfg->index_sym), KT_END);
        s_retry_later (self);
        return;
    }
    self->derived = true;
    self->index_token = index->token;
    const char *headers[] = {"X-Kite-Version: 3", self->auth, NULL};
    int64_t now = kt_proc_now_ns (self->proc);
    size_t ul = strlen (cfg->kite_api_url);
    const char *slash = ul && cfg->kite_api_url[ul - 1] == '/' ? "" : "/";
    char url[512];
    if (now >= kt_ist_day_start (now) + (S_OPEN_MIN + 1) * KT_NS_PER_MIN && !self->open_unknown) {
        //  Started after the open's minute: the day's open, not the current price, sets
        //  ATM. Inside that minute its candle cannot be had yet (s_derive_go).
        char to[24];
        kt_ist_format (now, to, sizeof to);
        to[10] = '+';
        snprintf (url, sizeof url, "%s%sinstruments/historical/%u/minute?from=%.10s+09:15:00&to=%s",
                  cfg->kite_api_url, slash, index->token, to, to);
        kt_http_req_t req = {.method = "GET", .url = url, .headers = headers, .timeout_ms = 10000};
        if (kt_http_request (self->http, &req, s_on_open_candle, self) < 0)
            s_retry_later (self);
        return;
    }
    //  /quote/ltp?i=NSE:NIFTY%2050
    char sym[96];
    size_t o = 0;
    for (const char *p = index->sym; *p && o + 4 < sizeof sym; p++) {
        if (*p == ' ') {
            memcpy (sym + o, "%20", 3);
            o += 3;
        } else
            sym[o++] = *p;
    }
    sym[o] = '\0';
    snprintf (url, sizeof url, "%s%squote/ltp?i=%s:%s", cfg->kite_api_url, slash, index->exchange,
              sym);
    kt_http_req_t req = {.method = "GET", .url = url, .headers = headers, .timeout_ms = 10000};
    if (kt_http_request (self->http, &req, s_on_ltp, self) < 0)
        s_retry_later (self);
}

// ---- session:reload: a new access token without a restart ---------------------------------

static int64_t
s_reload_requested (md_t *self)
{
    kt_store_t *store = kt_proc_store (self->proc);
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_session_reload, NULL);
    kt_store_result_t r = kt_store_callf (store, "HGET %s requested_ns", key.s);
    int64_t ns = 0;
    if (kt_store_result_i64 (&r, &ns) != 0)
        ns = 0;
    kt_store_result_free (&r);
    return ns;
}

static void
s_set_auth (md_t *self, const char *token)
{
    snprintf (self->auth, sizeof self->auth, "Authorization: token %s:%s",
              kt_proc_cfg (self->proc)->kite_api_key, token);
}

static int
s_on_reload (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    md_t *self = arg;
    int64_t ns = s_reload_requested (self);
    if (ns <= self->reload_seen)
        return 0;
    self->reload_seen = ns;
    //  The token lives where the config says (env or secrets file): read it again.
    const kt_cfg_t *cfg = kt_proc_cfg (self->proc);
    char err[1024];
    kt_cfg_t *fresh =
        kt_cfg_load_file (cfg->file, kt_proc_name (self->proc), NULL, NULL, err, sizeof err);
    if (!fresh || !fresh->kite_access_token[0]) {
        kt_log_error ("md.session.reload", KT_S ("why", fresh ? "no access token" : err), KT_END);
        kt_cfg_destroy (&fresh);
        return 0;
    }
    s_set_auth (self, fresh->kite_access_token);
    int rc = md_ticker_set_token (self->ticker, fresh->kite_access_token);
    kt_cfg_destroy (&fresh);
    if (rc != 0) {
        kt_log_error ("md.session.reload", KT_S ("why", "token too long"), KT_END);
        return 0;
    }
    bool was_refused = self->st.session_refused;
    self->st.session_refused = false;
    self->session_alerted = false;
    kt_log_info ("md.session.reload", KT_B ("was_refused", was_refused), KT_END);
    if (self->phase == S_PHASE_RUN)
        md_ticker_start (self->ticker);
    else if (was_refused)
        s_step (self);
    return 0;
}

// ---- life cycle --------------------------------------------------------------------------

md_t *
md_new (kt_proc_t *proc, const struct md_cfg *cfg)
{
    md_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->proc = proc;
    self->cfg = cfg;
    self->bus = kt_proc_bus (proc);
    self->barq = calloc (S_BARQ, sizeof *self->barq);
    if (!self->barq)
        abort ();
    self->pub = kt_bus_bind (self->bus, "md", ZMQ_PUB);
    if (!self->pub) {
        kt_log_error ("md.bind", KT_S ("endpoint", "md"), KT_S ("why", kt_bus_errstr (self->bus)),
                      KT_END);
        free (self->barq);
        free (self);
        return NULL;
    }
    const kt_cfg_t *pcfg = kt_proc_cfg (proc);
    s_set_auth (self, pcfg->kite_access_token);
    char err[256];
    struct md_ticker_cfg tcfg = {.url = pcfg->kite_ws_url,
                                 .api_key = pcfg->kite_api_key,
                                 .access_token = pcfg->kite_access_token,
                                 .backoff_min_ms = cfg->reconnect_min_ms,
                                 .backoff_max_ms = cfg->reconnect_max_ms,
                                 .silence_ms = cfg->silence_ms,
                                 .max_message = (size_t) cfg->max_message,
                                 .ca_file = cfg->ws_ca_file};
    struct md_ticker_handlers h = {s_on_binary, s_on_text, s_on_state, s_on_oversize};
    kt_loop_t *loop = kt_proc_loop (proc);
    self->ticker = md_ticker_new (loop, &tcfg, &h, self, err, sizeof err);
    self->http = kt_http_new (loop);
    if (!self->ticker || !self->http) {
        kt_log_error ("md.ticker", KT_S ("why", self->ticker ? "http client" : err), KT_END);
        md_destroy (&self);
        return NULL;
    }
    self->status_timer = kt_loop_timer_wall (loop, cfg->status_ms, true, s_on_status, self);
    self->clock_timer = kt_loop_timer_wall (loop, S_CLOCK_MS, true, s_on_clock, self);
    self->flush_timer = kt_loop_timer_wall (loop, cfg->ltp_flush_ms, true, s_on_flush, self);
    self->reload_timer = kt_loop_timer_wall (loop, 2000, true, s_on_reload, self);
    self->reload_seen = s_reload_requested (self);
    s_arm_close (self);
    kt_proc_set_counters (proc, s_counters, self);
    self->down_since = kt_clock_wall_mono_ns ();
    s_step (self);
    return self;
}

void
md_destroy (md_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    md_t *self = *self_p;
    if (self->status_timer > 0) {
        //  Readers should not see "connected" from a process that is gone.
        self->st.connected = false;
        s_write_status (self);
    }
    kt_loop_t *loop = kt_proc_loop (self->proc);
    kt_loop_timer_end (loop, self->status_timer);
    kt_loop_timer_end (loop, self->clock_timer);
    if (self->close_timer > 0)
        kt_loop_timer_end (loop, self->close_timer);
    kt_loop_timer_end (loop, self->flush_timer);
    kt_loop_timer_end (loop, self->reload_timer);
    if (self->warm_timer > 0)
        kt_loop_timer_end (loop, self->warm_timer);
    free (self->wbuf);
    free (self->candles);
    if (self->retry_timer > 0)
        kt_loop_timer_end (loop, self->retry_timer);
    kt_proc_set_counters (self->proc, NULL, NULL);
    md_ticker_destroy (&self->ticker);
    kt_http_destroy (&self->http);
    md_bar_destroy (&self->bars);
    kt_instr_destroy (&self->instr);
    free (self->inst);
    md_tokmap_free (&self->map);
    free (self->dirty);
    free (self->argv);
    free (self->argvlen);
    free (self->num);
    free (self->barq);
    memset (self->auth, 0, sizeof self->auth);
    free (self);
    *self_p = NULL;
}

int
md_publish_status (md_t *self)
{
    struct kt_msg msg;
    memset (&msg, 0, sizeof msg);
    msg.env.type = KT_MSG_MD_STATUS;
    msg.u.md_status.connected = self->st.connected;
    msg.u.md_status.subscribed = (int64_t) self->ninst;
    msg.u.md_status.last_tick_ts_ns = self->last_tick_ns;
    msg.u.md_status.reconnects = self->st.reconnects;
    msg.u.md_status.bars_closed_ns = self->bars_closed_ns;
    if (kt_bus_publish (self->bus, self->pub, "md.status", &msg) != 0)
        return -1;
    self->status_sent++;
    return 0;
}
