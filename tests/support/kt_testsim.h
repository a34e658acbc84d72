/*  kt_testsim - kite-sim as a child process of an integration test: started on free
 *  127.0.0.1 ports through kt_testproc, ready when its REST port answers, and called
 *  over REST with kite-sim's credentials (blocking kt_http helpers).
 *
 *  Used by tests that need a real venue behind a process under test (reconciler). */

#ifndef KT_TESTSIM_H
#define KT_TESTSIM_H

#include "kt_http.h"
#include "kt_testproc.h"

#define KT_TESTSIM_API_KEY "sim_api_key"
#define KT_TESTSIM_TOKEN "itest_token"

typedef struct kt_testsim kt_testsim_t;

//  Start build/bin/kite-sim with --http/--ws on free ports, --access-token
//  KT_TESTSIM_TOKEN, --log-level warn, then extra (NULL-terminated, borrowed; e.g.
//  --date, --start, --speed). Waits at most 5 s for the REST port to answer. Returns an
//  owned handle, or NULL (reason on stderr, with the log tail).
kt_testsim_t *kt_testsim_start (const char *const *extra);

//  Stop kite-sim and free. Safe on NULL; sets *self_p to NULL.
void kt_testsim_destroy (kt_testsim_t **self_p);

//  "http://127.0.0.1:<port>": the kite.api_url of the processes under test. Borrowed.
const char *kt_testsim_base (const kt_testsim_t *self);

//  The process, for its log.
kt_testproc_t *kt_testsim_proc (kt_testsim_t *self);

//  One REST call with X-Kite-Version and the Authorization header: method, path
//  ("/orders/regular", "/_admin/fault"), form body (NULL for none). Returns an owned
//  response (kt_http_resp_destroy); check err, then status.
kt_http_resp_t *kt_testsim_call (const kt_testsim_t *self, const char *method, const char *path,
                                 const char *form);

//  POST form to one of the admin routes ("/_admin/clock", "/_admin/fault", ...) of a
//  kite-sim on 127.0.0.1:http_port (one a test started itself). Returns the HTTP status,
//  0 when no answer came.
long kt_testsim_admin (int http_port, const char *path, const char *form);

#endif
