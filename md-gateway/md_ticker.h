/*  md_ticker - the Kite WebSocket ticker connection, driven from the process loop.
 *
 *  One libwebsockets client context serviced from kt_loop (docs/decisions.md "Ticker on
 *  the process loop"): the connection's socket is watched on the loop and lws_service
 *  runs, without blocking, when it is readable, when a write is queued, and at least
 *  every 20 ms for lws's own timers and the connect steps. So a frame is decoded and
 *  published in the same call that read it: no thread, no queue.
 *
 *  The ticker keeps the subscriptions and their mode and sends them after every
 *  (re)connect. It reconnects on its own with exponential back-off (min, x2 each time,
 *  capped, with jitter), resetting the back-off once a connection delivers data. A
 *  watchdog closes a connection that delivers nothing (no frame, no heartbeat) for
 *  silence_ms. A handshake refused with HTTP 403 (TokenException: the access token is
 *  dead) stops the ticker: no retry until md_ticker_start is called again. Every change
 *  is reported through on_state. The access token is only ever in the request line;
 *  nothing here logs. Timing is wall time. */

#ifndef MD_TICKER_H
#define MD_TICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt_loop.h"

typedef struct md_ticker md_ticker_t;

typedef enum {
    MD_TICKER_CONNECTED = 1, //  handshake done, subscriptions sent
    MD_TICKER_CLOSED,        //  connection lost or refused; a reconnect is scheduled
    MD_TICKER_SILENT,        //  watchdog: nothing for silence_ms, closing
    MD_TICKER_REFUSED,       //  HTTP 403 at the upgrade: stopped, no reconnect
    MD_TICKER_UNTRUSTED      //  TLS: the server's certificate failed verification (CA or
                             //  host name); never connected insecurely, a reconnect is
                             //  scheduled as for CLOSED
} md_ticker_event_t;

struct md_ticker_cfg {
    const char *url;          //  ws:// or wss:// (TLS, certificate verified)
    const char *api_key;      //  borrowed; must outlive the ticker
    const char *access_token; //  borrowed; must outlive the ticker
    int64_t backoff_min_ms;   //  first reconnect delay (> 0)
    int64_t backoff_max_ms;   //  cap (>= min)
    int64_t silence_ms;       //  watchdog (> 0)
    size_t max_message;       //  largest message reassembled; larger ones are dropped
    const char *ca_file;      //  wss: PEM file of the CAs trusted instead of the system
                              //  store; NULL or "" = the system store. Borrowed.
};

struct md_ticker_handlers {
    //  A whole binary message (a frame of packets or a heartbeat). data is borrowed.
    void (*on_binary) (const uint8_t *data, size_t len, void *arg);
    //  A whole text message (JSON). data is NUL-terminated and borrowed.
    void (*on_text) (const char *data, size_t len, void *arg);
    //  A state change. why is a short reason ("" if none), http the upgrade's HTTP
    //  status when known (0 otherwise).
    void (*on_state) (md_ticker_event_t ev, const char *why, int http, void *arg);
    //  A message larger than max_message was dropped.
    void (*on_oversize) (size_t len, void *arg);
};

//  Create the ticker on loop (borrowed; must outlive it). Nothing connects until
//  md_ticker_start. Returns an owned ticker, or NULL with the reason in err (bad URL,
//  bad numbers, lws context failure).
md_ticker_t *md_ticker_new (kt_loop_t *loop, const struct md_ticker_cfg *cfg,
                            const struct md_ticker_handlers *h, void *arg, char *err,
                            size_t errlen);

//  Close the connection and free. Safe on NULL; sets *self_p to NULL.
void md_ticker_destroy (md_ticker_t **self_p);

//  Set the subscriptions (tokens copied, at most 3000) and their mode ("ltp", "quote",
//  "full"). Sent now when connected, and after every reconnect. Returns 0, or -1 if n
//  is over 3000 or the mode is unknown.
int md_ticker_subscribe (md_ticker_t *self, const uint32_t *tokens, size_t n, const char *mode);

//  Use a new access token (copied) from the next connection on. Returns 0, or -1 if the
//  request line would be too long (the old token stays).
int md_ticker_set_token (md_ticker_t *self, const char *access_token);

//  Connect now (also after REFUSED, e.g. with a new token). Returns 0.
int md_ticker_start (md_ticker_t *self);

//  The ticker URL's host name (borrowed, valid while the ticker lives).
const char *md_ticker_host (const md_ticker_t *self);

//  The numeric address the current or last attempt connected to ("" before the host
//  name was resolved). Borrowed, valid until the next attempt.
const char *md_ticker_addr (const md_ticker_t *self);

//  True while a connection is established.
bool md_ticker_connected (const md_ticker_t *self);

//  True after REFUSED until the next md_ticker_start.
bool md_ticker_stopped (const md_ticker_t *self);

//  Connections established so far beyond the first, and connection attempts.
int64_t md_ticker_reconnects (const md_ticker_t *self);
int64_t md_ticker_attempts (const md_ticker_t *self);

//  Wall-clock ns (CLOCK_REALTIME) of the last message of any kind, 0 if none.
int64_t md_ticker_last_rx_ns (const md_ticker_t *self);

//  Close the current connection as the watchdog would (tests, operators). No-op when
//  not connected.
void md_ticker_drop (md_ticker_t *self);

#endif
