/*  kt_http - HTTP requests on the process loop: libcurl multi driven by kt_loop
 *  (CURLMOPT_SOCKETFUNCTION -> kt_loop_fd, CURLMOPT_TIMERFUNCTION -> a timerfd on the
 *  loop), plus blocking one-shot helpers for tools.
 *
 *  Used by exec-gateway and the reconciler (Kite REST / kite-sim), md-gateway
 *  (instruments, historical candles) and the alerter (Telegram, webhooks, and e-mail
 *  through the same multi handle: kt_http_req_t.mail). Nothing is
 *  logged here: every outcome reaches the caller's callback as a value, with the
 *  curl error text. The outcome classes matter for orders: KT_HTTP_E_CONNECT means the
 *  request never left this host (safe to send again); TIMEOUT, TRANSPORT and
 *  CANCELLED mean the server may have acted (an order is then UNRESOLVED, never
 *  REJECTED). Redirects are never followed. Responses are decompressed (gzip, br). */

#ifndef KT_HTTP_H
#define KT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt_loop.h"

typedef struct kt_http kt_http_t;

//  What happened to a request, beyond the HTTP status.
typedef enum {
    KT_HTTP_OK = 0,      //  a response arrived (any status, 5xx included)
    KT_HTTP_E_CONNECT,   //  no request was sent: DNS, refused, connect/TLS failure
                         //  or timeout before sending
    KT_HTTP_E_TIMEOUT,   //  timeout_ms passed after sending began: outcome unknown
    KT_HTTP_E_TRANSPORT, //  connection failed after sending began (reset, closed
                         //  without a response): outcome unknown
    KT_HTTP_E_TOO_LARGE, //  response longer than max_body: the server did answer
    KT_HTTP_E_CANCELLED, //  kt_http_destroy with the request pending: outcome unknown
    KT_HTTP_E_REQUEST    //  the request is unusable (bad URL, scheme not http(s)):
                         //  nothing was sent
} kt_http_err_t;

//  Mail submission instead of an HTTP request (kt_http_req_t.mail): the url is then
//  smtp://host[:port] or smtps://host[:port], body is the whole RFC 5322 message
//  (headers, blank line, text; CRLF line ends), method, headers and content_type are
//  ignored, and resp.status is the server's last SMTP reply code (250 on success).
//  Borrowed for the duration of kt_http_request (copied).
struct kt_http_mail {
    const char *from;        //  envelope sender (MAIL FROM), required
    const char *const *rcpt; //  envelope recipients (RCPT TO), NULL-terminated, >= 1
    bool starttls;           //  smtp:// only: require STARTTLS before anything is sent
    const char *user;        //  AUTH user, NULL or "" = no authentication
    const char *password;
};

//  One request. Everything is borrowed for the duration of kt_http_request (copied).
typedef struct kt_http_req {
    const char *method;              //  "GET", "POST", "PUT", "DELETE", "HEAD", ...; NULL = GET,
                                     //  or POST when body is set
    const char *url;                 //  http:// or https:// only
    const char *const *headers;      //  "Name: value" lines, NULL-terminated; NULL = none
    const char *body;                //  request body (a form: "a=1&b=2"); NULL = none
    size_t body_len;                 //  0 = strlen (body)
    const char *content_type;        //  of the body; NULL = application/x-www-form-urlencoded
    int timeout_ms;                  //  the whole exchange; <= 0 = 10000
    int connect_timeout_ms;          //  connect (+ TLS) part; <= 0 = timeout_ms
    size_t max_body;                 //  response size limit; 0 = 64 MiB
    bool fresh_connect;              //  use a new connection: curl silently re-sends a request
                                     //  once when a reused keep-alive connection turns out dead
                                     //  before any response byte; a fresh one is never re-sent
    const struct kt_http_mail *mail; //  NULL = HTTP; else send body as mail (above)
} kt_http_req_t;

//  The outcome, handed to the callback. All pointers are borrowed for the duration
//  of the callback (copy what you keep).
typedef struct {
    int id; //  as returned by kt_http_request
    kt_http_err_t err;
    const char *errstr; //  "" when err == KT_HTTP_OK, else curl's error text
    long status;        //  HTTP status, 0 when no response arrived
    const char *body;   //  NUL-terminated (the body may hold NULs: use body_len);
                        //  "" when empty
    size_t body_len;
    const char *content_type; //  Content-Type of the response, "" if none
    int64_t elapsed_us;       //  from start to completion
} kt_http_resp_t;

//  Called once per request, from a loop handler (never from inside kt_http_request).
//  It may start or cancel requests, but must not destroy the kt_http.
typedef void (kt_http_done_fn) (const kt_http_resp_t *resp, void *arg);

//  Create a client on loop (borrowed; must outlive the client). Returns an owned
//  client, or NULL if curl or the timer fd cannot be set up.
kt_http_t *kt_http_new (kt_loop_t *loop);

//  Cancel every pending request (each callback gets KT_HTTP_E_CANCELLED, errstr
//  "cancelled"), unregister from the loop and free. Safe on NULL; sets *self_p NULL.
void kt_http_destroy (kt_http_t **self_p);

//  Start a request; fn(resp, arg) runs when it completes. Returns the request id
//  (> 0), or -1 if the request is malformed (no url, no fn, a body on GET/HEAD, a mail
//  without sender, recipient or body) or the client is being destroyed; no callback is
//  made then.
int kt_http_request (kt_http_t *self, const kt_http_req_t *req, kt_http_done_fn *fn, void *arg);

//  Abandon a pending request: its callback is not called. The server may still act
//  on it. Returns 0, or -1 if id is not pending.
int kt_http_cancel (kt_http_t *self, int id);

//  Number of requests started and not yet completed.
int kt_http_pending (const kt_http_t *self);

//  Stable lower-case name of an outcome ("ok", "connect", "timeout", ...).
const char *kt_http_err_str (kt_http_err_t err);

//  True when the request certainly did not reach the server (E_CONNECT, E_REQUEST).
bool kt_http_err_unsent (kt_http_err_t err);

//  ---- blocking helpers for tools (tradectl, one-shot scripts); never in a process
//  loop. Each returns an owned response (never NULL; aborts on out of memory): check
//  err, then status. Free with kt_http_resp_destroy.

//  Perform req and wait for the outcome.
kt_http_resp_t *kt_http_sync (const kt_http_req_t *req);

//  GET url with headers (NULL-terminated "Name: value", or NULL).
kt_http_resp_t *kt_http_get_sync (const char *url, const char *const *headers, int timeout_ms);

//  POST a form body (NUL-terminated) to url.
kt_http_resp_t *kt_http_post_sync (const char *url, const char *const *headers, const char *body,
                                   int timeout_ms);

//  Free a response from the helpers above. Safe on NULL; sets *resp_p to NULL.
void kt_http_resp_destroy (kt_http_resp_t **resp_p);

#endif
