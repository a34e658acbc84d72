/*  kt_testproc - a project binary as a child of an integration test (see kt_testproc.h).
 *
 *  The log is read from the file the child writes, never through a pipe, so a test
 *  that stops reading cannot block the child, and the file survives for a post-mortem
 *  (KT_TEST_KEEP=1). Lines are matched as text ("ev":"x"), the way an operator uses
 *  grep or jq, so the tests also pin the log format. */

#include "kt_testproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_ARGS_MAX 64
#define S_STOP_MS 5000

struct kt_testproc {
    char path[512];
    char dir[64]; //  temp dir holding the logs
    char log[96]; //  <dir>/stderr.log
    char out[96]; //  <dir>/stdout.log
    pid_t pid;
    bool exited;
    int status; //  shell form, valid when exited
    int64_t start_ms;
    int64_t end_ms;
    long mark;  //  byte offset in the log where searches start
    char *line; //  owned; last matched line
    size_t line_cap;
};

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void
s_child (kt_testproc_t *self, const char *const *args, const char *const *env, pid_t parent)
{
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (127);
    int in = open ("/dev/null", O_RDONLY);
    int err = open (self->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    int out = open (self->out, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (in == -1 || err == -1 || out == -1)
        _exit (127);
    dup2 (in, 0);
    dup2 (out, 1);
    dup2 (err, 2);
    for (int i = 0; env && env[i]; i++) {
        const char *eq = strchr (env[i], '=');
        if (!eq)
            continue;
        char key[256];
        snprintf (key, sizeof key, "%.*s", (int)(eq - env[i]), env[i]);
        setenv (key, eq + 1, 1);
    }
    const char *argv[S_ARGS_MAX + 2];
    int argc = 0;
    argv[argc++] = self->path;
    for (int i = 0; args && args[i] && argc < S_ARGS_MAX + 1; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    execv (self->path, (char *const *)argv);
    dprintf (2, "kt_testproc: exec %s: %s\n", self->path, strerror (errno));
    _exit (127);
}

kt_testproc_t *
kt_testproc_start (const char *name, const char *const *args, const char *const *env)
{
    kt_testproc_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    if (strchr (name, '/'))
        snprintf (self->path, sizeof self->path, "%s", name);
    else {
        const char *build = getenv ("KT_BUILD");
        snprintf (self->path, sizeof self->path, "%s/bin/%s", build && *build ? build : "build",
                  name);
    }
    if (access (self->path, X_OK) != 0) {
        fprintf (stderr, "kt_testproc: %s: %s\n", self->path, strerror (errno));
        free (self);
        return NULL;
    }
    snprintf (self->dir, sizeof self->dir, "/tmp/kt-proc-XXXXXX");
    if (!mkdtemp (self->dir)) {
        fprintf (stderr, "kt_testproc: mkdtemp: %s\n", strerror (errno));
        free (self);
        return NULL;
    }
    snprintf (self->log, sizeof self->log, "%s/stderr.log", self->dir);
    snprintf (self->out, sizeof self->out, "%s/stdout.log", self->dir);
    //  Create the files now, so a reader never races the child's open.
    close (open (self->log, O_WRONLY | O_CREAT, 0644));
    close (open (self->out, O_WRONLY | O_CREAT, 0644));

    pid_t parent = getpid ();
    self->start_ms = s_now_ms ();
    self->pid = fork ();
    if (self->pid == 0)
        s_child (self, args, env, parent);
    if (self->pid == -1) {
        fprintf (stderr, "kt_testproc: fork: %s\n", strerror (errno));
        unlink (self->log);
        unlink (self->out);
        rmdir (self->dir);
        free (self);
        return NULL;
    }
    return self;
}

static int
s_shell_status (int status)
{
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    if (WIFSIGNALED (status))
        return 128 + WTERMSIG (status);
    return 255;
}

//  Reap without blocking. True if the process has exited (now or before).
static bool
s_reap (kt_testproc_t *self)
{
    if (self->exited)
        return true;
    int status;
    pid_t rc = waitpid (self->pid, &status, WNOHANG);
    if (rc == self->pid && (WIFEXITED (status) || WIFSIGNALED (status))) {
        self->exited = true;
        self->status = s_shell_status (status);
        self->end_ms = s_now_ms ();
    } else if (rc == -1 && errno == ECHILD) {
        self->exited = true; //  reaped elsewhere: status unknown
        self->status = 255;
        self->end_ms = s_now_ms ();
    }
    return self->exited;
}

int
kt_testproc_wait (kt_testproc_t *self, int timeout_ms)
{
    int64_t deadline = s_now_ms () + (timeout_ms > 0 ? timeout_ms : 0);
    while (!s_reap (self)) {
        if (s_now_ms () >= deadline)
            return -1;
        s_sleep_ms (2);
    }
    return self->status;
}

bool
kt_testproc_running (kt_testproc_t *self)
{
    return !s_reap (self);
}

int
kt_testproc_signal (kt_testproc_t *self, int sig)
{
    if (s_reap (self))
        return -1;
    return kill (self->pid, sig);
}

int64_t
kt_testproc_elapsed_ms (kt_testproc_t *self)
{
    return (s_reap (self) ? self->end_ms : s_now_ms ()) - self->start_ms;
}

pid_t
kt_testproc_pid (const kt_testproc_t *self)
{
    return self->pid;
}

const char *
kt_testproc_log_path (const kt_testproc_t *self)
{
    return self->log;
}

const char *
kt_testproc_out_path (const kt_testproc_t *self)
{
    return self->out;
}

void
kt_testproc_destroy (kt_testproc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_testproc_t *self = *self_p;
    if (kt_testproc_signal (self, SIGTERM) == 0 && kt_testproc_wait (self, S_STOP_MS) == -1) {
        kill (self->pid, SIGKILL);
        kt_testproc_wait (self, S_STOP_MS);
    }
    const char *keep = getenv ("KT_TEST_KEEP");
    if (keep && strcmp (keep, "1") == 0)
        fprintf (stderr, "kt_testproc: kept logs of %s in %s\n", self->path, self->dir);
    else {
        unlink (self->log);
        unlink (self->out);
        rmdir (self->dir);
    }
    free (self->line);
    free (self);
    *self_p = NULL;
}

static bool
s_line_matches (const char *line, const char *ev, const char *contains)
{
    if (ev) {
        char pat[160];
        snprintf (pat, sizeof pat, "\"ev\":\"%s\"", ev);
        if (!strstr (line, pat))
            return false;
    }
    return !contains || strstr (line, contains);
}

//  Scan complete lines from *offset; stop at the first match when want_first (copied
//  to self->line). Advances *offset past the complete lines read. Returns matches.
static int
s_scan (kt_testproc_t *self, long *offset, const char *ev, const char *contains, bool want_first)
{
    FILE *f = fopen (self->log, "r");
    if (!f)
        return 0;
    if (fseek (f, *offset, SEEK_SET) != 0) {
        fclose (f);
        return 0;
    }
    int found = 0;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline (&buf, &cap, f)) > 0) {
        if (buf[n - 1] != '\n')
            break; //  a line still being written: look again later
        *offset += n;
        buf[n - 1] = 0;
        if (!s_line_matches (buf, ev, contains))
            continue;
        found++;
        if (want_first) {
            if (self->line_cap < (size_t)n) {
                free (self->line);
                self->line = malloc ((size_t)n);
                if (!self->line)
                    abort ();
                self->line_cap = (size_t)n;
            }
            memcpy (self->line, buf, (size_t)n);
            break;
        }
    }
    free (buf);
    fclose (f);
    return found;
}

const char *
kt_testproc_log_wait (kt_testproc_t *self, const char *ev, const char *contains, int timeout_ms)
{
    long offset = self->mark;
    int64_t deadline = s_now_ms () + (timeout_ms > 0 ? timeout_ms : 0);
    while (true) {
        //  Check for exit first: every line it wrote is in the file once it is reaped.
        bool exited = s_reap (self);
        if (s_scan (self, &offset, ev, contains, true) > 0)
            return self->line;
        if (exited || s_now_ms () >= deadline)
            return NULL;
        s_sleep_ms (5);
    }
}

int
kt_testproc_log_count (kt_testproc_t *self, const char *ev, const char *contains)
{
    long offset = self->mark;
    return s_scan (self, &offset, ev, contains, false);
}

void
kt_testproc_log_mark (kt_testproc_t *self)
{
    struct stat st;
    self->mark = stat (self->log, &st) == 0 ? (long)st.st_size : 0;
}

void
kt_testproc_log_dump (kt_testproc_t *self, int max_bytes)
{
    if (max_bytes <= 0)
        max_bytes = 4000;
    FILE *f = fopen (self->log, "r");
    if (!f)
        return;
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, size > max_bytes ? size - max_bytes : 0, SEEK_SET);
    fprintf (stderr, "---- %s (stderr of %s, last %d bytes)\n", self->log, self->path, max_bytes);
    char buf[4096];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, f)) > 0)
        fwrite (buf, 1, n, stderr);
    fprintf (stderr, "---- end\n");
    fclose (f);
}

char *
kt_testproc_out_read (kt_testproc_t *self)
{
    FILE *f = fopen (self->out, "r");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t)size + 1);
    if (!buf)
        abort ();
    size_t n = fread (buf, 1, (size_t)size, f);
    buf[n] = 0;
    fclose (f);
    return buf;
}
