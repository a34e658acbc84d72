/*  kt_testproc - run a project binary as a child in an integration test: start it
 *  with arguments and extra environment, capture its stderr (the JSON-lines log) and
 *  stdout in files, wait for log events by id ("ev":"x"), signal it, and wait for it
 *  to exit with a bound, reporting the exit status and how long it ran.
 *
 *  Binaries are found as $KT_BUILD/bin/<name> (KT_BUILD defaults to "build", as in
 *  `make test`); a name containing '/' is used as a path. The child dies with the
 *  test (PR_SET_PDEATHSIG). Log files live in a temp dir that destroy removes, unless
 *  KT_TEST_KEEP=1 is set (then its path is printed). Single-threaded. */

#ifndef KT_TESTPROC_H
#define KT_TESTPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct kt_testproc kt_testproc_t;

//  Start name with args (NULL-terminated, borrowed; NULL = none) and env entries
//  "KEY=value" added to (or replacing in) the test's own environment (NULL-terminated,
//  borrowed; NULL = none). stdin is /dev/null. Returns an owned handle, or NULL if the
//  binary does not exist or is not executable (reason on stderr). A binary that
//  starts and fails is not NULL: wait for it and check its status.
kt_testproc_t *
    kt_testproc_start (const char *name, const char *const *args, const char *const *env);

//  Stop the process if still running (SIGTERM, SIGKILL after 5 s), reap it, remove
//  its log dir (unless KT_TEST_KEEP=1) and free. Safe on NULL; sets *self_p to NULL.
void
    kt_testproc_destroy (kt_testproc_t **self_p);

//  Send sig to the process. Returns 0, or -1 if it already exited (reaped).
int
    kt_testproc_signal (kt_testproc_t *self, int sig);

//  Wait at most timeout_ms for the process to exit and reap it. Returns its status
//  in shell form: the exit code (0..255), or 128 + signal number if a signal ended
//  it; -1 on timeout (the process keeps running). Calling again after the exit
//  returns the same status at once.
int
    kt_testproc_wait (kt_testproc_t *self, int timeout_ms);

//  True while the process has not exited (reaps it if it just did).
bool
    kt_testproc_running (kt_testproc_t *self);

//  Milliseconds from start to exit (as measured when reaped), or from start to now
//  while it runs.
int64_t
    kt_testproc_elapsed_ms (kt_testproc_t *self);

//  The pid (stays valid as a number after exit).
pid_t
    kt_testproc_pid (const kt_testproc_t *self);

//  Paths of the captured stderr and stdout. Borrowed, valid until destroy.
const char *
    kt_testproc_log_path (const kt_testproc_t *self);
const char *
    kt_testproc_out_path (const kt_testproc_t *self);

//  Wait at most timeout_ms for a stderr line after the mark (see kt_testproc_log_mark)
//  that contains "ev":"<ev>" and, if contains is not NULL, also the text contains
//  (e.g. "\"coid\":\"C1\""). ev NULL matches any line. Returns the first such line
//  without its newline (borrowed, valid until the next call on self), or NULL on
//  timeout. Polls the file every 5 ms; returns at once if the process exited and no
//  line matches.
const char *
    kt_testproc_log_wait (kt_testproc_t *self, const char *ev, const char *contains,
                          int timeout_ms);

//  Number of stderr lines after the mark with "ev":"<ev>" (and contains, if not NULL).
int
    kt_testproc_log_count (kt_testproc_t *self, const char *ev, const char *contains);

//  Set the mark to the current end of the stderr file: later waits and counts look
//  only at lines written after this call (e.g. the second "proc.start" after a restart).
void
    kt_testproc_log_mark (kt_testproc_t *self);

//  Print the last bytes of stderr to the test's stderr (for failing tests). At most
//  max_bytes (0 = 4000).
void
    kt_testproc_log_dump (kt_testproc_t *self, int max_bytes);

//  Read the whole captured stdout. Returns an owned NUL-terminated string (free), or
//  NULL if the file cannot be read.
char *
    kt_testproc_out_read (kt_testproc_t *self);

#endif
