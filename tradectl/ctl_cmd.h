/*  ctl_cmd - tradectl's commands: the context every command gets, the exit codes, and
 *  the readers and formatters the commands share.
 *
 *  main.c is a dispatcher over a table of commands (name, arguments, summary,
 *  function). A command reads what it needs (Redis through ctl_ctx_store, a process
 *  through its socket, the broker over REST), reports what actually happened - the
 *  answer it got, not what it asked for - as text or, with --json, as one JSON object
 *  on stdout, and returns one of the exit codes below (docs/tradectl.md). */

#ifndef CTL_CMD_H
#define CTL_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "ctl.h"

//  Exit codes, documented in docs/tradectl.md.
enum {
    CTL_EXIT_OK = 0,      //  done, or every check passed
    CTL_EXIT_FAIL = 1,    //  the action failed, was refused (BLOCK), or a check FAILed
    CTL_EXIT_USAGE = 2,   //  bad arguments or bad config
    CTL_EXIT_REDIS = 3,   //  Redis unavailable and the command cannot work without it
    CTL_EXIT_NOANSWER = 4 //  a process or the broker did not answer in time
};

//  What every command gets. Owned by main.
typedef struct ctl {
    const kt_cfg_t *cfg; //  the loaded config
    kt_store_t *store;   //  created by main, connected on first ctl_ctx_store
    bool store_tried;
    bool store_ok;
    bool json;       //  --json: one JSON object on out, nothing else there
    FILE *out;       //  stdout
    FILE *err;       //  stderr: errors and progress
    const char *by;  //  who runs it ($USER), for events and requests
    bool emitted;    //  a JSON object was printed
    char error[512]; //  the last ctl_ctx_fail text
} ctl_t;

//  A command: argv[0] is the command name, options and arguments follow.
typedef int (ctl_cmd_fn) (ctl_t *ctl, int argc, char **argv);

struct ctl_cmd {
    const char *name;
    const char *args;    //  argument synopsis for --help
    const char *summary; //  one line
    ctl_cmd_fn *fn;
};

//  ---- the context (ctl_ctx.c) --------------------------------------------------------

//  The store, connected on first use. Returns NULL (after printing "Redis H:P
//  unavailable: why" to err once) when Redis does not answer.
kt_store_t *ctl_ctx_store (ctl_t *ctl);

//  Pipeline time now (the shared sim clock when the config runs one and Redis has it,
//  else wall time); *speed_ppm (may be NULL) gets the clock's speed.
int64_t ctl_ctx_now (ctl_t *ctl, int64_t *speed_ppm);

//  Print "tradectl: <text>" on err, keep text in ctl->error and return code. A command with
//  ctl->store_tried reset reconnects on its next ctl_ctx_store (watch, metrics: Redis may come
//  back).
int ctl_ctx_fail (ctl_t *ctl, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  ---- formatting (ctl_fmt.c) -------------------------------------------------------

//  An age as a person reads it: "3 s ago", "4 min ago", "2 h 5 min ago", "5 d ago";
//  "never" when ns <= 0 (nothing happened), "in the future" for a negative age.
//  Returns buf.
char *ctl_fmt_age (int64_t age_ns, char *buf, size_t len);

//  Rupees from paise, exact: "Rs 1234.50", "Rs -3.05". Returns buf ("?" on overflow).
char *ctl_fmt_rs (int64_t paise, char *buf, size_t len);

//  ---- JSON (ctl_json.c) -------------------------------------------------------------

//  An order / a position as JSON (money in paise, times in ns, plus *_age text).
cJSON *ctl_json_order (const struct kt_order_rec *o, int64_t now_ns);
cJSON *ctl_json_pos (const struct kt_pos_rec *p);

//  Add an integer as exact JSON number text (cJSON numbers are doubles).
void ctl_json_i64 (cJSON *o, const char *name, int64_t v);

//  Print root on one line to ctl->out and free it. Returns code.
int ctl_json_emit (ctl_t *ctl, cJSON *root, int code);

//  ---- process health (ctl_health.c) -------------------------------------------------

#define CTL_HEALTH_COUNTERS 48

//  The processes of the pipeline, in start order (NULL-terminated).
extern const char *const ctl_health_procs[];

//  One process's heartbeat as health:<proc> holds it.
struct ctl_health {
    const char *proc; //  borrowed name
    bool present;     //  the hash exists (it expires health.ttl_s after the last beat)
    bool fresh;       //  last beat within health.ttl_s of wall time
    struct kt_health_rec rec;
    int64_t age_ns; //  wall ns since the last beat (clock speed applied)
    int ncounters;
    char counter[CTL_HEALTH_COUNTERS][32];
    char value[CTL_HEALTH_COUNTERS][64];
};

//  Read health:<proc>. Returns 0 (present or not), -1 if Redis is unavailable.
int ctl_health_read (ctl_t *ctl, const char *proc, int64_t now_ns, int64_t speed_ppm,
                     struct ctl_health *out);

//  The value of counter name in h, or NULL.
const char *ctl_health_counter (const struct ctl_health *h, const char *name);

//  ---- the book (ctl_book.c) ---------------------------------------------------------

//  Orders whose created_ns is in [from_ns, to_ns), every order ever recorded (the book
//  keeps an order's hash), sorted by creation. *out is an owned array (free), *n its
//  length. Returns 0, or -1 if Redis is unavailable (why).
int ctl_book_orders_between (ctl_t *ctl, int64_t from_ns, int64_t to_ns, struct kt_order_rec **out,
                             int *n, char *why, size_t whylen);

//  Open positions / open orders read into owned arrays (free). Returns the count, or -1
//  if Redis is unavailable (why).
int ctl_book_positions (ctl_t *ctl, struct kt_pos_rec **out, char *why, size_t whylen);
int ctl_book_open_orders (ctl_t *ctl, struct kt_order_rec **out, char *why, size_t whylen);
int ctl_book_open_orders_in (kt_store_t *store, struct kt_order_rec **out, char *why,
                             size_t whylen);

//  What the live orders do for position p: the quantity its stops still cover (STOP
//  orders on the other side), the quantity on its way out (EXIT orders), and entries
//  still pending on its side (their unfilled quantity). Pure: over the open orders.
struct ctl_cover {
    int64_t stop_qty, exiting, pending;
};
void ctl_book_cover (const struct kt_pos_rec *p, const struct kt_order_rec *ord, int n,
                     struct ctl_cover *out);

//  ---- requests to running processes (ctl_request.c) ---------------------------------

//  Write an operator request (kt_request_rec) to key (recon:request, session:reload)
//  and record it in `events`. Returns 0, or -1 if Redis is unavailable.
int ctl_request_write (ctl_t *ctl, const kt_schema_key_t *key, const char *what, int64_t now_ns);

//  ---- the broker session (ctl_login.c) ---------------------------------------------

//  GET /user/profile with token (cfg's api_url and api_key). Returns 0 (user_id filled),
//  1 when the broker refuses the token (why has its error type and message), -1 when it
//  does not answer (why). date (may be NULL) is reserved for the answer's Date header.
int ctl_login_profile (const kt_cfg_t *cfg, const char *token, char *user_id, size_t ulen,
                       char *date, size_t dlen, char *why, size_t wlen);

//  The request token in a pasted redirect URL ("...?request_token=X&...") or the bare
//  token. Returns 0, or -1 when there is none.
int ctl_login_request_token (const char *pasted, char *out, size_t len);

//  ---- alerts (ctl_alert.c) ----------------------------------------------------------

//  Send a test alert with a unique key (written to key) through the alerter and wait
//  up to timeout_s for alerts:sent to record its delivery (channel, *ms). Returns 1
//  delivered, 0 not within the time, -1 Redis unavailable, -2 not queued.
int ctl_alert_roundtrip (ctl_t *ctl, kt_severity_t sev, int timeout_s, char *key, size_t klen,
                         char *channel, size_t clen, int64_t *ms);

//  ---- metrics (ctl_metrics.c) -------------------------------------------------------

//  The Prometheus text exposition of processes and book, read now. Returns an owned
//  string (free), or NULL on OOM. With Redis down it holds kt_redis_up 0 only.
char *ctl_metrics_render (ctl_t *ctl);

//  ---- the day's journal (ctl_journal.c) ---------------------------------------------

//  One fill as kt_book's `fill` entry in `events` records it.
struct ctl_journal_fill {
    char coid[KT_ID_LEN], trade_id[32], sym[KT_SYM_LEN], side[8];
    int64_t qty, price; //  units, paise
    int64_t pos_qty;    //  signed position after the fill
    int64_t realised;   //  paise realised by the fill
    int64_t ts;         //  fill time, ns
};

//  The rollout stages (risk.capital_stage_pct) risk-gate recorded for a day: at its
//  start-ups (`risk.stage`) and the daily roll (`risk.day`) in `events`. Distinct, in order.
#define CTL_JOURNAL_STAGES 8
struct ctl_journal_stages {
    int n;
    int64_t pct[CTL_JOURNAL_STAGES];
};

//  A round trip: from a symbol's position leaving 0 to its return to 0.
struct ctl_journal_trip {
    char sym[KT_SYM_LEN];
    int64_t opened_ns;   //  0: opened before the fills given (entry unknown)
    int64_t closed_ns;   //  0 while open
    int64_t qty;         //  units opened
    int64_t entry_value; //  paise x units of the opening fills
    int64_t exit_value;  //  paise x units of the closing fills
    int64_t realised;    //  paise
    bool open;
};

//  Round trips of fills (in time order) into out (room for 2 x n: a fill through 0
//  closes one and opens the next). Pure. Returns the number of trips.
int ctl_journal_trips (const struct ctl_journal_fill *fills, int n, struct ctl_journal_trip *out);

//  ---- watch (ctl_watch.c) ------------------------------------------------------------

//  Write text to out; with colour, the words that need a look are coloured (the first
//  line's "positions: NO", HALTED, DOWN, STALE, NOT RUNNING, a kill switch ON: red;
//  REDUCING, UNANSWERED: yellow; "positions: YES", ACTIVE, up: green) with ANSI escapes.
//  Without colour, text as it is.
void ctl_watch_paint (FILE *out, const char *text, bool colour);

//  ---- commands ----------------------------------------------------------------------

int ctl_state_cmd_status (ctl_t *ctl, int argc, char **argv);
int ctl_state_cmd_resume (ctl_t *ctl, int argc, char **argv);
int ctl_book_cmd_positions (ctl_t *ctl, int argc, char **argv);
int ctl_book_cmd_orders (ctl_t *ctl, int argc, char **argv);
int ctl_journal_cmd (ctl_t *ctl, int argc, char **argv);
int ctl_order_cmd_order (ctl_t *ctl, int argc, char **argv);
int ctl_order_cmd_flatten (ctl_t *ctl, int argc, char **argv);
int ctl_order_cmd_cancel_all (ctl_t *ctl, int argc, char **argv);
int ctl_order_cmd_halt (ctl_t *ctl, int argc, char **argv);
int ctl_request_cmd_reconcile (ctl_t *ctl, int argc, char **argv);
int ctl_login_cmd_token (ctl_t *ctl, int argc, char **argv);
int ctl_login_cmd_login (ctl_t *ctl, int argc, char **argv);
int ctl_alert_cmd_test (ctl_t *ctl, int argc, char **argv);
int ctl_watch_cmd (ctl_t *ctl, int argc, char **argv);
int ctl_preflight_cmd (ctl_t *ctl, int argc, char **argv);
int ctl_metrics_cmd (ctl_t *ctl, int argc, char **argv);

#endif
