/*  kt_testhttp - a throwaway HTTP/1.1 server for tests: a forked child on a private
 *  127.0.0.1 port that serves canned routes and records every request it receives.
 *
 *  Used by kt_http_test and by tests of anything that talks HTTP to something that is
 *  not kite-sim (alerter webhooks, Telegram). The listening socket is bound in the
 *  test process before the fork, so there is no port race. Each connection is served
 *  by its own grandchild (so a hanging route never blocks the others), answers one
 *  request and closes. Requests are appended to <dir>/requests.log; the test reads
 *  them back. Built-in routes, used when no added route matches:
 *    /status/<code>   that status, body "status <code>"
 *    /echo            200 text/plain, body = the raw request as received
 *    /hang            reads the request, never answers (until stopped)
 *    /delay/<ms>      waits ms, then 200 "delayed"
 *    /close           reads the request, closes without answering
 *    /big/<n>         200 with n bytes of 'x'
 *    /gzip            200 "hello gzip\n" sent gzip-encoded (Content-Encoding: gzip)
 *    anything else    404 "not found" */

#ifndef KT_TESTHTTP_H
#define KT_TESTHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct kt_testhttp kt_testhttp_t;

//  Create a server (not yet serving): binds and listens on 127.0.0.1:<free port>.
//  Returns an owned server, or NULL (reason on stderr).
kt_testhttp_t *
    kt_testhttp_new (void);

//  Add a canned answer for method (NULL = any) and exact path (query string ignored).
//  All strings are copied. Call before kt_testhttp_start. Returns 0, or -1 if the
//  table (32) is full or the server already started.
int
    kt_testhttp_route (kt_testhttp_t *self, const char *method, const char *path, int status,
                       const char *content_type, const char *body);

//  Fork the server child. Returns 0 or -1.
int
    kt_testhttp_start (kt_testhttp_t *self);

//  Kill the server and its connection children, remove the dir and free. Safe on
//  NULL; sets *self_p to NULL.
void
    kt_testhttp_destroy (kt_testhttp_t **self_p);

//  The port.
int
    kt_testhttp_port (const kt_testhttp_t *self);

//  Write "http://127.0.0.1:<port><path>" into buf. Returns buf.
char *
    kt_testhttp_url (const kt_testhttp_t *self, char *buf, size_t buflen, const char *path);

//  Number of complete requests received so far.
int
    kt_testhttp_count (const kt_testhttp_t *self);

//  Everything received so far: each request as "METHOD PATH\n" + header lines +
//  "\n" + body + "\n----\n". Returns an owned string (free), never NULL.
char *
    kt_testhttp_requests (const kt_testhttp_t *self);

//  Wait at most timeout_ms until the recorded requests contain text. True if found.
bool
    kt_testhttp_wait (const kt_testhttp_t *self, const char *text, int timeout_ms);

#endif
