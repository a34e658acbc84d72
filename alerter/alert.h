/*  alert - the alerter's private header: config, context, and its concepts.
 *
 *  The alerter PULLs ALERTs from every process and gets each one to a person through
 *  the channels its severity is routed to (the log, Telegram, a JSON webhook, e-mail),
 *  at least once, even across a kill -9 (docs/alerter.md):
 *
 *    alert_group    what makes two alerts the same (pure): repeats of one group within
 *                   the window are counted, then sent once as "x7 in 60 s"
 *    alert_route    severity -> channels (pure, from config)
 *    alert_queue    the durable outbox in Redis: one item per alert, one pending list
 *                   per channel, collapse windows, the delivery log (Lua, atomic)
 *    alert_format   the request each channel sends for an item (pure): Telegram
 *                   sendMessage JSON, the webhook JSON, the RFC 5322 mail
 *    alert_channel  delivery state per channel: back-off, failing since, reported down
 *    alert_watch    processes restarted or gone, from their heartbeats (pure)
 *    alert          the context: PULL (capped per loop iteration), timers, kt_http,
 *                   health:alerter counters
 *
 *  Every log line about an alert carries its id (once queued), severity, key, src and
 *  text, in one format (alert_log). Secrets (bot token, webhook URL, SMTP password) come
 *  from the environment or the secrets file through kt_cfg and are masked by kt_log. */

#ifndef ALERT_H
#define ALERT_H

#include "kt.h"
#include "kt_risk.h"

// ---- config ---------------------------------------------------------------------------

#define ALERT_ROUTE_LEN 64
#define ALERT_RCPT_MAX 8 //  mail recipients

struct alert_cfg {
    int64_t dedup_s;                      //  collapse window, seconds (0 = none)
    int64_t queue_max;                    //  most ids kept pending per channel
    int64_t drain_max;                    //  ALERTs read from the PULL socket per loop turn
    char route_critical[ALERT_ROUTE_LEN]; //  "log,telegram,webhook,email"
    char route_warning[ALERT_ROUTE_LEN];
    char route_info[ALERT_ROUTE_LEN];
    int64_t retry_min_ms;     //  first back-off of a failing channel (wall)
    int64_t retry_max_ms;     //  back-off cap
    int64_t channel_down_s;   //  a channel failing this long is reported
    int64_t timeout_ms;       //  per delivery request
    int64_t redis_down_s;     //  Redis down this long: one alert sent outside the outbox
    char telegram_url[128];   //  Bot API base ("https://api.telegram.org")
    char telegram_token[128]; //  secret; "" = channel off
    char telegram_chat_id[64];
    char webhook_url[512]; //  secret (Slack/Discord URLs hold a token); "" = off
    char smtp_url[128];    //  "smtp://host:587" or "smtps://host:465"; "" = off
    bool smtp_starttls;    //  smtp://: refuse to send unless STARTTLS works
    char smtp_user[128];
    char smtp_password[128]; //  secret
    char smtp_from[128];
    char smtp_to[256];  //  comma-separated recipients
    char summary_at[6]; //  "15:30" IST: the daily summary; "" = none
};

extern const kt_cfg_row_t alert_cfg_table[];

// ---- alert_route: severity -> channels ---------------------------------------------------

typedef enum {
    ALERT_CH_LOG = 0,
    ALERT_CH_TELEGRAM,
    ALERT_CH_WEBHOOK,
    ALERT_CH_EMAIL,
    ALERT_CH_COUNT
} alert_ch_t;

//  Stable channel name ("log", "telegram", "webhook", "email"), or "?" out of range.
const char *alert_route_name (alert_ch_t ch);

//  Parse a comma-separated channel list ("log, telegram") into a bit mask (1u << ch).
//  Returns 0, or -1 with the reason in err (unknown or repeated name, empty list).
int alert_route_parse (const char *list, unsigned *mask, char *err, size_t errlen);

//  The channel mask of a severity under cfg, limited to the enabled channels (mask of
//  the channels whose settings are present). Returns the mask (0 = nowhere).
unsigned alert_route_mask (const struct alert_cfg *cfg, kt_severity_t sev, unsigned enabled);

//  Check cfg's routes and the settings of every channel they name. Returns 0, or -1
//  with the reason in err. *enabled gets the mask of the usable channels (the log
//  always; telegram with token and chat id; webhook with a URL; email with url, from
//  and 1..ALERT_RCPT_MAX recipients).
int alert_route_check (const struct alert_cfg *cfg, unsigned *enabled, char *err, size_t errlen);

// ---- alert_group: what makes two alerts the same ----------------------------------------

#define ALERT_GROUP_LEN 96

//  The collapse group of an alert: "<key>:<16 hex digits>", a hash of src, severity,
//  key and the text with every stand-alone number replaced by '#' (so "5 rejects in 60
//  s" and "6 rejects in 60 s" are one group, while a halt for REJECTS and one for KILL,
//  or two symbols such as NIFTY25N1824000CE and NIFTY25N1824050CE, are not). out gets
//  at most ALERT_GROUP_LEN bytes; key is cut to fit.
void alert_group_of (const char *src, kt_severity_t sev, const char *key, const char *text,
                     char out[ALERT_GROUP_LEN]);

// ---- one alert, as queued --------------------------------------------------------------

#define ALERT_TEXT_LEN (KT_ALERT_LEN + 64)

struct alert_item {
    int64_t id;        //  outbox id (alerts:seq), > 0
    int64_t ts_ns;     //  when it was raised (the sender's pipeline time)
    int64_t queued_ms; //  wall time it entered the outbox
    kt_severity_t severity;
    char key[KT_KEY_LEN];
    char src[KT_SRC_LEN];
    char text[ALERT_TEXT_LEN];
    int64_t count;    //  1, or the repeats a summary stands for
    int64_t window_s; //  the summary's window (0 for a plain alert)
};

//  The idempotency key of an item ("kt-<id>-<queued_ms>"): the same on every retry,
//  different for two alerts even after the outbox was wiped. Returns out.
char *alert_item_idem (const struct alert_item *it, char *out, size_t outlen);

//  The line a person reads: "CRITICAL risk-gate: TRADING HALTED ..." with " [x7 in 60
//  s]" for a summary. Returns out.
char *alert_item_line (const struct alert_item *it, char *out, size_t outlen);

//  Log one event about an alert, in the one format every alert line has: ev, then id
//  (when > 0), severity, key, src, text, count, then extra (a KT_END-terminated list,
//  may be NULL). Level: lvl, or -1 for the alert's own (INFO -> info, WARNING -> warn,
//  CRITICAL -> error).
void alert_log (int lvl, const char *ev, const struct alert_item *it, const kt_kv_t *extra);

// ---- alert_queue: the durable outbox ----------------------------------------------------

//  Register the outbox scripts on store (call once, before any other alert_queue call).
//  Returns 0, or -1 if the store's registry is full.
int alert_queue_init (kt_store_t *store);

//  Put an alert in the outbox for the channels of mask, atomically: unless its group
//  (alert_group_of) already has an open window, in which case the window's count goes
//  up and nothing is queued. window_ms 0 = no collapsing. it->id, queued_ms and count
//  are set on success. Pending lists are capped at queue_max (the oldest ids dropped,
//  logged CRITICAL). Returns 1 queued, 0 collapsed (*count = the window's count so
//  far), -1 Redis unavailable.
int alert_queue_push (kt_store_t *store, struct alert_item *it, const char *group, unsigned mask,
                      int64_t now_ms, int64_t window_ms, int64_t queue_max, int64_t *count);

//  Close the collapse windows that ended by now_ms (at most max): a window that
//  counted repeats becomes a summary item (the last text, count, window) queued for the
//  channels route_fn gives its severity. Returns the number of summaries queued, or -1
//  Redis unavailable.
typedef unsigned (alert_route_fn) (kt_severity_t sev, void *arg);
int alert_queue_close_windows (kt_store_t *store, int64_t now_ms, int max, alert_route_fn *route_fn,
                               void *arg);

//  The oldest item pending for channel ch. Returns 1 (item filled), 0 none, -1 Redis
//  unavailable. An id whose item is gone is dropped from the list (logged) and the next
//  one tried.
int alert_queue_head (kt_store_t *store, alert_ch_t ch, struct alert_item *it);

//  Mark item id delivered on ch: removed from the channel's pending list (only if it is
//  still its head, so a duplicate ack does nothing), one line added to alerts:sent, the
//  item expired once every channel had it. Returns 0, 1 when it was not the head
//  (nothing done), -1 Redis unavailable.
int alert_queue_ack (kt_store_t *store, alert_ch_t ch, int64_t id);

//  Number of ids pending for ch, or -1 Redis unavailable.
int64_t alert_queue_pending (kt_store_t *store, alert_ch_t ch);

// ---- alert_format: what each channel sends ------------------------------------------------

//  Telegram Bot API sendMessage: url "<base>/bot<token>/sendMessage" and a JSON body
//  {"chat_id", "text", "disable_web_page_preview"}. Returns an owned body (free), or
//  NULL if url does not fit.
char *alert_format_telegram (const struct alert_cfg *cfg, const struct alert_item *it, char *url,
                             size_t urllen);

//  The generic webhook's JSON body: "text" (Slack) and "content" (Discord) hold the
//  line; id, idempotency_key, severity, key, src, text_raw, ts (integer ns), count and
//  window_s for machines. Returns an owned body (free).
char *alert_format_webhook (const struct alert_item *it);

//  The mail (RFC 5322, CRLF): From, To, Subject "[kt SEVERITY] first line", Date,
//  Message-ID from the idempotency key (a client shows one message per id), then the
//  line and the details. Header values never carry CR or LF from the alert. date_s is
//  the wall time in seconds for the Date header. Returns an owned message (free).
char *alert_format_mail (const struct alert_cfg *cfg, const struct alert_item *it, int64_t date_s);

//  Whether a channel's answer means delivered: HTTP 2xx (Telegram: and "ok":true), SMTP
//  250. *retry_after_ms gets a wait the server asked for (Telegram 429
//  parameters.retry_after, HTTP Retry-After is not parsed), else 0. why gets a short
//  reason when not delivered (status and the server's description).
bool alert_format_delivered (alert_ch_t ch, const kt_http_resp_t *resp, int64_t *retry_after_ms,
                             char *why, size_t whylen);

// ---- alert_channel: delivery state of one channel -------------------------------------------

struct alert_channel {
    alert_ch_t ch;
    bool enabled;
    int inflight;             //  kt_http request id, 0 = none
    int64_t inflight_id;      //  item id being sent
    int attempts;             //  failures in a row
    int64_t next_ms;          //  wall ms before which nothing is sent (back-off)
    int64_t failing_since_ms; //  first failure of the current run, 0 = healthy
    bool down_reported;       //  the "channel down" alert went out for this run
    int64_t delivered, failures, pending;
    char last_error[160];
};

//  Back-off after the attempts-th failure in a row (1, 2, ...): min_ms doubled each
//  time, capped at max_ms, at least retry_after_ms when the server asked for it.
int64_t alert_channel_backoff_ms (int attempts, int64_t min_ms, int64_t max_ms,
                                  int64_t retry_after_ms);

//  A delivery failed at now_ms with reason why: attempts, failures, failing_since and
//  next_ms move on. Returns true when the channel has now failed for at least down_ms
//  and that was not reported yet (the caller reports it and sets down_reported).
bool alert_channel_failed (struct alert_channel *self, int64_t now_ms, const char *why,
                           int64_t min_ms, int64_t max_ms, int64_t retry_after_ms, int64_t down_ms);

//  A delivery succeeded: the channel is healthy again. Returns the ms it had been
//  failing (0 if it was healthy), so the caller can report a recovery after a report
//  of it being down.
int64_t alert_channel_ok (struct alert_channel *self, int64_t now_ms);

// ---- alert_watch: processes coming and going (health:*) ----------------------------------

#define ALERT_WATCH_MAX 32

typedef enum {
    ALERT_WATCH_NONE = 0,
    ALERT_WATCH_RESTARTED, //  present again, or still, with another pid
    ALERT_WATCH_DOWN,      //  its heartbeat hash expired (the process stopped beating)
    ALERT_WATCH_BACK       //  beating again with the same pid (a stall, not a restart)
} alert_watch_event_t;

struct alert_watch_proc {
    char name[32];
    int64_t pid; //  last pid seen, 0 = never
    bool down;   //  its heartbeat is gone
};

struct alert_watch {
    struct alert_watch_proc procs[ALERT_WATCH_MAX];
    int n;
};

//  One observation of process name: its heartbeat's pid, or present false when
//  health:<name> does not exist. A process first seen is only recorded; one never seen
//  is not reported missing. Returns what changed (and updates self); *was_pid gets the
//  pid before (for the text). Pure.
alert_watch_event_t alert_watch_seen (struct alert_watch *self, const char *name, bool present,
                                      int64_t pid, int64_t *was_pid);

// ---- alert: the process context ----------------------------------------------------------------

typedef struct alert alert_t;

//  Check the config, bind `alerts` on proc's loop, start the timers and deliver what a
//  previous run left in the outbox. Returns an owned context, or NULL (logged).
alert_t *alert_new (kt_proc_t *proc, const struct alert_cfg *cfg);

//  Free (pending requests are cancelled: their items stay queued). Safe on NULL; sets
//  *self_p to NULL.
void alert_destroy (alert_t **self_p);

// ---- alert_summary: the daily summary at the close (pure) ------------------------------

//  The IST day (YYYYMMDD) whose summary is due at now_ns: a weekday, at or after minute
//  at_min of the day (IST), and not last_day. 0 when none is due (also when at_min < 0).
int64_t alert_summary_due (int64_t now_ns, int at_min, int64_t last_day);

//  The summary's text for day from risk-gate's state and the open positions (into buf).
//  Returns snprintf's count.
int alert_summary_text (char *buf, size_t len, int64_t day, const struct kt_risk_state_rec *rs,
                        int64_t open_positions);

#endif
