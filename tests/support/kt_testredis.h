/*  kt_testredis - a throwaway redis-server for tests, in the manner of hiredis's
 *  test suite: a private port on 127.0.0.1, a private temp dir, no persistence.
 *
 *  Used by unit tests (kt_store, risk-gate, exec-gateway ...) and by integration tests
 *  that run the real processes against it. The server is our child: it dies with the
 *  test process (PR_SET_PDEATHSIG), its output goes to <dir>/redis.log, and stop
 *  removes the dir. The binary is `redis-server` from PATH unless KT_REDIS_SERVER
 *  names another one. Single-threaded, like the tests that use it. */

#ifndef KT_TESTREDIS_H
#define KT_TESTREDIS_H

#include <stdbool.h>
#include <sys/types.h>
#include <hiredis/hiredis.h>

//  One running (or killed) server. Fields are read-only for callers.
typedef struct {
    int port;                   //  TCP port on 127.0.0.1
    pid_t pid;                  //  server pid; 0 when not running
    char dir[64];               //  temp dir (mkdtemp under /tmp), holds redis.log
    char bin[256];              //  binary used (KT_REDIS_SERVER or "redis-server")
    const char *const *extra;   //  borrowed extra server args (kt_testredis_start_with)
} kt_testredis_t;

//  A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it back,
//  close), or -1. Another process may take it before the caller binds it.
int
    kt_testredis_free_port (void);

//  Start a server on a free port with `--save "" --appendonly no`, and wait (at most
//  5 s) until it answers PING (PONG, or NOAUTH when extra has --requirepass). Retries
//  a few times on another port if the port was taken meanwhile. Returns an owned
//  server, or NULL (reason printed on stderr with the tail of redis.log; the temp dir
//  is removed).
kt_testredis_t *
    kt_testredis_start (void);

//  Same, with extra server arguments appended after the defaults (they win), e.g.
//  { "--appendonly", "yes", NULL } for a restart that keeps data. extra is borrowed
//  and must outlive the server (restart uses it again); NULL = none.
kt_testredis_t *
    kt_testredis_start_with (const char *const *extra);

//  Stop the server (SIGTERM, then SIGKILL after 5 s), reap it, remove its dir and free.
//  Safe on NULL and on a killed server; sets *self_p to NULL.
void
    kt_testredis_stop (kt_testredis_t **self_p);

//  Kill the server with SIGKILL and reap it (fault tests: "Redis died"). The port and
//  dir stay reserved for kt_testredis_restart_same_port. Returns 0, or -1 if not running.
int
    kt_testredis_kill (kt_testredis_t *self);

//  Start the server again on the same port and dir (killing it first if it still
//  runs), and wait until it answers PING. Data survives only with persistence given
//  in `extra`. Returns 0, or -1 (reason on stderr).
int
    kt_testredis_restart_same_port (kt_testredis_t *self);

//  True while the server process is alive (not reaped).
bool
    kt_testredis_running (kt_testredis_t *self);

//  A fresh blocking hiredis connection to the server (1 s timeout), for tests that
//  inspect or change state behind the code under test. Returns an owned context
//  (redisFree), or NULL if it cannot connect.
redisContext *
    kt_testredis_connect (const kt_testredis_t *self);

#endif
