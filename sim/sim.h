/*  sim - kite-sim's private header: the process context and the protocol modules
 *  around the pure venue (sim_venue.h).
 *
 *  kite-sim is a standalone venue: one lws context serves the REST API (a vhost on
 *  --http) and the WebSocket ticker (a vhost on --ws), driven by lws's own service
 *  loop with an lws_sul timer for the market clock. Only kite-sim's files include this
 *  header. Modules: sim_cfg (arguments and config), sim_clock (pausable scaled clock),
 *  sim_auth (keys, checksums, access tokens), sim_rate (Kite's rate limits), sim_fault
 *  (faults on demand), sim_form (urlencoded forms), sim_json (Kite's JSON shapes),
 *  sim_http (REST), sim_ws (ticker), sim (the context: wiring and the market timer).
 *  Money is int64 paise and times int64 ns everywhere; rupees exist only as text. */

#ifndef SIM_H
#define SIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "kt.h"
#include "sim_venue.h"

struct lws;
struct lws_context;
struct lws_vhost;

// ---- sim_cfg: command line and config file -----------------------------------------

#define SIM_HOST_LEN 64
#define SIM_PATH_LEN 256
#define SIM_SECRET_LEN 128

struct sim_cfg {
    char http_addr[SIM_HOST_LEN]; //  "HOST:PORT" as given
    char ws_addr[SIM_HOST_LEN];
    char http_host[SIM_HOST_LEN]; //  split by sim_cfg_finish
    int http_port;
    char ws_host[SIM_HOST_LEN];
    int ws_port;
    int64_t seed;
    double speed;              //  sim seconds per wall second
    char date[16];             //  "YYYY-MM-DD" or "" (today IST)
    char start[16];            //  "HH:MM" or "HH:MM:SS" IST, "" = 09:15
    bool wall_clock;           //  follow real time instead of a scaled session
    bool paused;               //  start with the clock paused (tests: exact steps)
    char replay[SIM_PATH_LEN]; //  CSV of ticks or minute bars, "" = synthetic
    char api_key[64];
    char api_secret[SIM_SECRET_LEN];
    char access_token[SIM_SECRET_LEN]; //  fixed token accepted besides issued ones
    char redis[96];                    //  "HOST:PORT" or "" (no clock hash)
    char prefix[32];                   //  Redis key prefix
    char cfg_file[SIM_PATH_LEN];       //  -c FILE or ""
    char user_id[16];
    char user_name[64];
    char log_level[8];
    bool publish_clock;      //  with -c: write the clock hash to the redis section
    int64_t opening_balance; //  paise
    int64_t freeze_qty;      //  units
    int64_t strikes_each_side;
    int64_t lot;
    int64_t tick_ms;      //  wall ms between market advances (10)
    int64_t ws_batch;     //  max packets per binary frame
    int64_t ws_queue_max; //  bytes queued per client before ticks are dropped
    int64_t heartbeat_ms; //  wall ms of silence before a 1-byte heartbeat
    //  faults from config (the admin endpoint sets the same ones at run time)
    int64_t fault_latency_ms;
    char fault_latency_path[64];
    int64_t fault_error_count;
    int64_t fault_error_status;
    char fault_error_path[64];
    int64_t fault_storm_count;
    int64_t fault_drop_count;
};

//  Parse argv (see docs/kite-sim.md for the flags). Fills defaults, then the config
//  file's "sim" section and shared sections (-c FILE), then the flags (flags win).
//  Returns 0, 1 when --help was printed (exit 0), or -1 with a one-line reason in err
//  (the caller prints it and exits 2).
int sim_cfg_parse (int argc, char **argv, struct sim_cfg *cfg, char *err, size_t errlen);

//  Split "HOST:PORT" into host and port (1..65535). Returns 0 or -1.
int sim_cfg_split_addr (const char *addr, char *host, size_t hostlen, int *port);

//  Rows of the "sim" config section (kt_cfg table; ends with KT_CFG_END).
extern const kt_cfg_row_t sim_cfg_table[];

// ---- sim_clock: the simulated session clock ----------------------------------------

//  now = sim_anchor + (wall_mono - wall_anchor) * speed_ppm / 1e6, unless paused.
//  Pausing freezes now; step_to moves a paused clock forward to an exact instant,
//  so tests can see the same instant over REST and WebSocket.
struct sim_clock {
    int64_t wall_anchor_ns; //  CLOCK_MONOTONIC at the anchor
    int64_t real_anchor_ns; //  CLOCK_REALTIME at the anchor (for the Redis hash)
    int64_t sim_anchor_ns;
    int64_t speed_ppm; //  sim ns per wall ns, in millionths (> 0)
    bool paused;
};

//  Start at sim_ns running at speed_ppm (> 0) from the given wall instants.
void sim_clock_init (struct sim_clock *self, int64_t sim_ns, int64_t speed_ppm,
                     int64_t wall_mono_ns, int64_t wall_real_ns);

//  Simulated time at wall_mono_ns.
int64_t sim_clock_now (const struct sim_clock *self, int64_t wall_mono_ns);

//  Freeze at the current instant / run again from it. Idempotent.
void sim_clock_pause (struct sim_clock *self, int64_t wall_mono_ns, int64_t wall_real_ns);
void sim_clock_resume (struct sim_clock *self, int64_t wall_mono_ns, int64_t wall_real_ns);

//  Move a paused clock to target_ns (>= now). Returns 0, or -1 if not paused or the
//  target is in the past (time never goes backwards).
int sim_clock_step_to (struct sim_clock *self, int64_t target_ns, int64_t wall_mono_ns,
                       int64_t wall_real_ns);

//  Change the speed from now on (re-anchors). speed_ppm must be > 0. Returns 0 or -1.
int sim_clock_set_speed (struct sim_clock *self, int64_t speed_ppm, int64_t wall_mono_ns,
                         int64_t wall_real_ns);

//  The session clock cfg asks for: with wall_clock, real time (wall_real_ns) at speed 1;
//  otherwise cfg->start ("HH:MM[:SS]", already validated by sim_cfg_parse) on the day of
//  open_ns, or open_ns itself (09:15 IST of the session date) when start is "", at
//  cfg->speed (rounded to ppm, at least 1 ppm). With cfg->paused the clock is paused at
//  exactly that instant.
void sim_clock_start (struct sim_clock *self, const struct sim_cfg *cfg, int64_t open_ns,
                      int64_t wall_mono_ns, int64_t wall_real_ns);

// ---- sim_auth: api key, checksum, access tokens ------------------------------------

typedef struct sim_auth sim_auth_t;

#define SIM_TOKEN_LEN 33 //  32 hex characters + NUL

//  Create the account's credentials. fixed_token may be "" or NULL (none). Copies all.
//  Returns an owned auth.
sim_auth_t *sim_auth_new (const char *api_key, const char *api_secret, const char *fixed_token);

//  Free. Safe on NULL; sets *self_p to NULL.
void sim_auth_destroy (sim_auth_t **self_p);

//  The api_key. Borrowed.
const char *sim_auth_api_key (const sim_auth_t *self);

//  checksum = lowercase hex SHA-256(api_key || request_token || api_secret) into out
//  (65 bytes). Returns 0, or -1 if the digest failed.
int sim_auth_checksum (const char *api_key, const char *request_token, const char *api_secret,
                       char out[65]);

//  POST /session/token: check api_key, a non-empty request_token never used before and
//  its checksum; issue an access token valid until 06:00 IST after now_ns. Returns 0
//  with the token in token (SIM_TOKEN_LEN) and a public token in pub (SIM_TOKEN_LEN),
//  or -1 with Kite's error_type (static) and message in msg.
int sim_auth_exchange (sim_auth_t *self, const char *api_key, const char *request_token,
                       const char *checksum, int64_t now_ns, char *token, char *pub,
                       const char **error_type, char *msg, size_t msglen);

//  True when token is a live access token of api_key at now_ns.
bool sim_auth_valid (const sim_auth_t *self, const char *api_key, const char *token,
                     int64_t now_ns);

//  Check an Authorization header value ("token api_key:access_token"; NULL = absent).
//  Returns 0, or -1 with Kite's message in msg (always a TokenException).
int sim_auth_header (const sim_auth_t *self, const char *header, int64_t now_ns, char *msg,
                     size_t msglen);

//  DELETE /session/token: invalidate token. Returns 0, or -1 if it was not live.
int sim_auth_logout (sim_auth_t *self, const char *api_key, const char *token);

//  Fault: every token (issued and fixed) expires now. New logins work again.
void sim_auth_expire_all (sim_auth_t *self);

//  Expiry of a token issued at now_ns: the next 06:00 IST.
int64_t sim_auth_expiry (int64_t now_ns);

// ---- sim_rate: Kite's per-second limits --------------------------------------------

typedef enum {
    SIM_RATE_ORDER = 0, //  POST/PUT/DELETE /orders...: 10/s and 400/min
    SIM_RATE_QUOTE,     //  /quote, /quote/ohlc, /quote/ltp: 1/s (shared)
    SIM_RATE_HIST,      //  /instruments/historical/...: 3/s
    SIM_RATE_OTHER,     //  everything else: 10/s
    SIM_RATE_CLASSES
} sim_rate_class_t;

#define SIM_RATE_MINUTE_MAX 400 //  Kite's orders per minute

//  GCRA buckets on wall time (no float, no timer, exact at the boundary), plus a
//  sliding 60 s window for orders: at most minute_cap in any minute.
struct sim_rate {
    struct {
        int64_t interval_ns; //  1 s / rate
        int64_t burst_ns;    //  (burst - 1) * interval
        int64_t tat_ns;      //  theoretical arrival time of the next request
    } b[SIM_RATE_CLASSES];
    int64_t minute[SIM_RATE_MINUTE_MAX]; //  times of the last orders (ring)
    int minute_cap;                      //  0 = no per-minute cap
    int minute_at;                       //  oldest slot of the ring
};

//  Kite's limits: orders 10/s (+ 400/min), quote 1/s, historical 3/s, others 10/s.
void sim_rate_init (struct sim_rate *self);

//  Set one class to per_sec requests per second with a burst of per_sec (>= 1); for
//  orders the per-minute cap becomes 40 x per_sec (Kite's 400 for 10), or none when
//  that exceeds SIM_RATE_MINUTE_MAX (benchmarks).
void sim_rate_set (struct sim_rate *self, sim_rate_class_t cls, int64_t per_sec);

//  Take one request of cls at wall_ns. True if allowed; false means answer 429.
bool sim_rate_take (struct sim_rate *self, sim_rate_class_t cls, int64_t wall_ns);

//  Class of a request ("GET", "/quote/ltp" -> SIM_RATE_QUOTE).
sim_rate_class_t sim_rate_class_of (const char *method, const char *path);

// ---- sim_form: urlencoded key=value lists ------------------------------------------

struct sim_form_pair {
    char *key; //  owned, decoded
    char *val; //  owned, decoded
};

struct sim_form {
    struct sim_form_pair *pairs; //  owned
    size_t count, cap;
};

//  Empty the form and free its pairs (the struct itself is the caller's).
void sim_form_clear (struct sim_form *self);

//  Add one decoded pair (copied). Returns 0 or -1 on a key longer than 64 bytes.
int sim_form_add (struct sim_form *self, const char *key, size_t klen, const char *val,
                  size_t vlen);

//  Parse application/x-www-form-urlencoded text ("a=1&b=x%20y+z") and append its
//  pairs. Returns 0, or -1 on a bad %-escape, a NUL byte (raw or %00) or a key longer
//  than 64 bytes (the pairs before it stay).
int sim_form_parse (struct sim_form *self, const char *text, size_t len);

//  First value of key, or NULL. Borrowed.
const char *sim_form_get (const struct sim_form *self, const char *key);

// ---- sim_fault: faults on demand ---------------------------------------------------

#define SIM_FAULT_PATH_LEN 64

struct sim_fault {
    int64_t latency_ms;                    //  added before answering matching requests
    char latency_path[SIM_FAULT_PATH_LEN]; //  path prefix ("" = every API route)
    int64_t error_count;                   //  next N matching requests answer error_status
    int error_status;                      //  500, 502, 503 or 504
    char error_path[SIM_FAULT_PATH_LEN];
    bool error_after;    //  process the request, then answer the error
    int64_t storm_count; //  next N requests answer 429
    char storm_path[SIM_FAULT_PATH_LEN];
    int64_t drop_count;         //  next N order placements: place, then hang up
    int64_t ws_silent_until_ns; //  wall mono ns; no data nor heartbeats until then
    int64_t malformed_count;    //  next N binary frames carry bad lengths
};

//  What the HTTP layer must do with one request.
struct sim_fault_verdict {
    int64_t delay_ms;       //  answer after this much wall time
    int status;             //  0, or the injected HTTP status (5xx or 429)
    const char *error_type; //  Kite error_type for status (static string)
    const char *message;    //  static message
    bool after;             //  run the handler, then answer status
    bool drop;              //  run the handler, then close without answering
};

//  One-off admin actions that act on other modules.
typedef enum {
    SIM_FAULT_ACT_NONE = 0,
    SIM_FAULT_ACT_EXPIRE,  //  every access token expires now
    SIM_FAULT_ACT_RMS,     //  next accepted order rejected by RMS (message)
    SIM_FAULT_ACT_WS_DROP, //  close every WebSocket now
    SIM_FAULT_ACT_POSITION //  change a position (sym, qty)
} sim_fault_act_t;

struct sim_fault_action {
    sim_fault_act_t kind;
    char sym[KT_SYM_LEN];
    int64_t qty;
    char message[KT_TEXT_LEN];
};

//  Start with the faults from config (cfg may be NULL: none).
void sim_fault_init (struct sim_fault *self, const struct sim_cfg *cfg);

//  Apply one admin request (form fields kind=..., see docs/kite-sim.md). Returns 0
//  (act says whether another module must act), or -1 with the reason in msg.
int sim_fault_admin (struct sim_fault *self, const struct sim_form *form, int64_t wall_mono_ns,
                     struct sim_fault_action *act, char *msg, size_t msglen);

//  Decide the faults of one API request and consume the counters it uses. place is
//  true for an order placement (drop applies to those only).
struct sim_fault_verdict sim_fault_check (struct sim_fault *self, const char *method,
                                          const char *path, bool place);

//  True while the WebSocket must stay silent.
bool sim_fault_ws_silent (const struct sim_fault *self, int64_t wall_mono_ns);

//  Take one malformed-frame token. True if this frame must be corrupted.
bool sim_fault_take_malformed (struct sim_fault *self);

// ---- sim_json: Kite's JSON shapes --------------------------------------------------

//  The account as Kite describes it.
struct sim_user {
    const char *user_id;   //  borrowed
    const char *user_name; //  borrowed
    const char *api_key;   //  borrowed
};

//  Rupee number from paise, exact text (no float noise). Owned item.
cJSON *sim_json_money (int64_t paise);

//  "YYYY-MM-DD HH:MM:SS" IST string item, or JSON null when ts_ns == 0. Owned.
cJSON *sim_json_time (int64_t ts_ns);

//  Each returns an owned cJSON tree in the shape of the named fixture.
cJSON *sim_json_profile (const struct sim_user *u); //  profile.json
cJSON *sim_json_session (const struct sim_user *u, const char *access_token,
                         const char *public_token, int64_t login_ns);       //  generate_session
cJSON *sim_json_margin_segment (const struct sim_margins *m, bool enabled); //  margins_equity
cJSON *sim_json_margins (const struct sim_margins *m);                      //  margins.json
cJSON *sim_json_order (const struct sim_order *o, const kt_instr_table_t *instr,
                       const struct sim_user *u); //  orders.json row
cJSON *sim_json_order_row (const struct sim_order *o, const kt_instr_table_t *instr,
                           const struct sim_user *u); //  order_info row
cJSON *sim_json_postback (const struct sim_order *o, const kt_instr_table_t *instr,
                          const struct sim_user *u, const char *api_secret);      //  postback.json
cJSON *sim_json_trade (const struct sim_trade *t, const kt_instr_table_t *instr); //  trades row
cJSON *sim_json_position (const struct sim_position *p, const kt_instr_table_t *instr,
                          bool day);                               //  positions row
cJSON *sim_json_quote (const struct sim_quote *q);                 //  quote.json value
cJSON *sim_json_ohlc (const struct sim_quote *q);                  //  ohlc.json value
cJSON *sim_json_ltp (const struct sim_quote *q);                   //  ltp.json value
cJSON *sim_json_candle (const struct sim_candle *c, bool with_oi); //  one candle

//  POST /orders answer's data: {"order_id"} (order_response.json), plus, for an
//  autoslice placement (nchildren > 0), "children": each {"order_id"} or
//  {"error":{"code","error_type","message","data":null}} (autoslice_response.json).
//  children is borrowed. Owned tree.
cJSON *sim_json_place (const char *order_id, const struct sim_child *children, int nchildren);

//  HTTP status that goes with a Kite error_type (kite-protocol.md 1.3; the `code` of an
//  autoslice error child); 500 for an unknown or NULL type.
int sim_json_error_status (const char *error_type);

//  Status an order update carries: COMPLETE / CANCELLED / REJECTED as they are,
//  "UPDATE" for an open order that filled partly or was modified, else the status.
//  Static string.
const char *sim_json_update_status (const struct sim_order *o);

//  Exchange of an instrument token ("NFO", "NSE"...), "NFO" if unknown. Borrowed/static.
const char *sim_json_exchange (const kt_instr_table_t *instr, uint32_t token);

//  {"status":"success","data":<data>} as owned text. Consumes *data_p.
char *sim_json_success (cJSON **data_p);

//  {"status":"error","message":...,"error_type":...,"data":null} as owned text.
char *sim_json_error (const char *message, const char *error_type);

//  Print an item unformatted; owned text. Consumes *item_p.
char *sim_json_print (cJSON **item_p);

// ---- sim_ws: the ticker -------------------------------------------------------------

typedef enum { SIM_MODE_LTP = 1, SIM_MODE_QUOTE, SIM_MODE_FULL } sim_mode_t;

#define SIM_PKT_MAX 184        //  largest packet (tradable full)
#define SIM_WS_MAX_TOKENS 3000 //  per connection, as Kite
#define SIM_WS_MAX_CONN 3      //  per api_key, as Kite

//  Encode q as one packet of mode into out (SIM_PKT_MAX bytes): 8, 28/32 (index,
//  segment 9) or 44/184 bytes, big-endian, prices in the segment's wire units.
//  Returns the packet length.
int sim_ws_pack (const struct sim_quote *q, sim_mode_t mode, uint8_t *out);

//  Binary frames (kite-protocol.md 6.3): uint16 N at offset 0, then N times uint16 L
//  and L packet bytes, big-endian. sim_ws_frame_add appends pkt (len bytes) to the
//  frame whose packets already take used bytes after N (the caller provides room for
//  2 + used + 2 + len bytes) and returns the new used; sim_ws_frame_seal writes N and,
//  for the malformed fault, makes the first packet claim 0xFFFF bytes. The frame is
//  2 + used bytes long.
size_t sim_ws_frame_add (uint8_t *frame, size_t used, const uint8_t *pkt, int len);
void sim_ws_frame_seal (uint8_t *frame, int n, bool malformed);

//  Write the 1-byte heartbeat frame (0x00) into out. Returns its length (1).
size_t sim_ws_heartbeat (uint8_t *out);

//  Mode of "ltp" / "quote" / "full", or 0.
sim_mode_t sim_ws_mode_parse (const char *s);

typedef struct sim_ws sim_ws_t;
typedef struct sim sim_t;

//  The ticker's state (connections and their subscriptions). Owned by the context.
sim_ws_t *sim_ws_new (sim_t *ctx);
void sim_ws_destroy (sim_ws_t **self_p);

//  The lws protocol table of the ws vhost (static).
const struct lws_protocols *sim_ws_protocols (void);

//  Venue callbacks: a tick (queue packets for subscribers) and an order update.
void sim_ws_on_tick (sim_ws_t *self, const struct sim_quote *q);
void sim_ws_on_order (sim_ws_t *self, const struct sim_order *o);

//  After each market step: seal pending frames, send heartbeats, request writes.
void sim_ws_flush (sim_ws_t *self, int64_t wall_mono_ns);

//  Fault: close every connection now.
void sim_ws_drop_all (sim_ws_t *self);

//  Connections open now (all keys).
int sim_ws_connections (const sim_ws_t *self);

// ---- sim_http: the REST API --------------------------------------------------------

//  The lws protocol table of the http vhost (static).
const struct lws_protocols *sim_http_protocols (void);

//  Write a complete small response (status line, headers, body) at once. Only for
//  places where lws allows it outside WRITEABLE (the upgrade check). Returns 0 or -1.
int sim_http_write_now (struct lws *wsi, int status, const char *content_type, const char *body,
                        size_t len);

//  Copy the query argument name (decoded) into buf. Returns buf, or NULL if absent.
const char *sim_http_query_arg (struct lws *wsi, const char *name, char *buf, int len);

// ---- sim: the process context ------------------------------------------------------

struct sim_ws;

struct sim {
    struct sim_cfg cfg;
    struct lws_context *lws;       //  owned
    struct lws_vhost *http_vh;     //  borrowed from lws
    struct lws_vhost *ws_vh;       //  borrowed from lws
    sim_venue_t *venue;            //  owned
    const kt_instr_table_t *instr; //  borrowed from venue
    sim_auth_t *auth;              //  owned
    struct sim_rate rate;
    struct sim_fault fault;
    struct sim_clock clock;
    sim_ws_t *ws;           //  owned
    kt_store_t *store;      //  owned, NULL without --redis
    bool clock_unpublished; //  the clock hash still needs writing (Redis was down)
    struct sim_user user;   //  strings borrowed from cfg
    int64_t market_ns;      //  last instant the venue was advanced to
    int64_t ticks;          //  ticks generated so far
    int64_t started_ns;     //  wall time at start
    void *timer;            //  owned: the market timer (lws_sul + back pointer)
};

//  Build the context: venue, auth, clock, lws context with both vhosts, market timer,
//  clock hash. Returns an owned context, or NULL with the reason in err.
sim_t *sim_new (const struct sim_cfg *cfg, char *err, size_t errlen);

//  Run lws_service until *stop becomes non-zero (set by the caller's signal handler;
//  the market timer wakes the loop every tick_ms, so the flag is seen quickly).
//  Returns 0, or 1 if lws failed.
int sim_run (sim_t *self, volatile sig_atomic_t *stop);

//  Free everything. Safe on NULL; sets *self_p to NULL.
void sim_destroy (sim_t **self_p);

//  Simulated time now.
int64_t sim_now_ns (const sim_t *self);

//  Advance the venue to the clock's now (ticks to the ticker, order updates), then
//  flush the ticker. Called by the market timer and after admin clock steps.
void sim_step (sim_t *self);

//  Admin clock control: "pause", "resume", step_to (ns), speed (ppm). Re-publishes the
//  clock hash. Returns 0 or -1 with the reason in msg.
int sim_set_clock (sim_t *self, const char *action, int64_t arg, char *msg, size_t msglen);

//  Venue order callback used by every caller that changes orders (borrowed ctx as arg).
void sim_on_order (const struct sim_order *o, void *arg);

#endif
