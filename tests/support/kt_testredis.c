/*  kt_testredis - a throwaway redis-server for tests (see kt_testredis.h).
 *
 *  The free port comes from binding port 0 and closing it again, so another process
 *  may take it before redis-server binds: start therefore retries on a new port when
 *  the server exits early. Readiness is a real PING, not a sleep. */

#include "kt_testredis.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define S_READY_MS 5000
#define S_STOP_MS 5000
#define S_START_TRIES 4
#define S_MAX_ARGS 64

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

//  A port that was free a moment ago (the kernel picks it from the ephemeral range).
int
kt_testredis_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd == -1)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (bind (fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname (fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs (sa.sin_port);
    close (fd);
    return port;
}

//  Remove dir and what redis left in it (redis.log, dump.rdb, appendonlydir/ ...).
static void
s_rmdir (const char *dir, int depth)
{
    DIR *d = opendir (dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir (d)) != NULL) {
            if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
                continue;
            char path[512];
            snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat (path, &st) == 0 && S_ISDIR (st.st_mode) && depth < 4)
                s_rmdir (path, depth + 1);
            else
                unlink (path);
        }
        closedir (d);
    }
    rmdir (dir);
}

static void
s_print_log_tail (const kt_testredis_t *self)
{
    char path[128];
    snprintf (path, sizeof path, "%s/redis.log", self->dir);
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, size > 2000 ? size - 2000 : 0, SEEK_SET);
    char buf[2001];
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose (f);
    fprintf (stderr, "kt_testredis: tail of %s:\n%s\n", path, buf);
}

static pid_t
s_spawn (const kt_testredis_t *self)
{
    char port[16];
    snprintf (port, sizeof port, "%d", self->port);
    const char *argv[S_MAX_ARGS];
    int argc = 0;
    const char *fixed[] = {self->bin, "--port",      port,     "--bind", "127.0.0.1",
                           "--dir",   self->dir,     "--save", "",       "--appendonly",
                           "no",      "--daemonize", "no",     NULL};
    for (int i = 0; fixed[i]; i++)
        argv[argc++] = fixed[i];
    for (int i = 0; self->extra && self->extra[i] && argc < S_MAX_ARGS - 1; i++)
        argv[argc++] = self->extra[i];
    argv[argc] = NULL;

    char log[128];
    snprintf (log, sizeof log, "%s/redis.log", self->dir);
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid != 0)
        return pid; //  parent, or -1

    //  Child: never outlive the test, even when it crashes under ASan.
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (127);
    int out = open (log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = open ("/dev/null", O_RDONLY);
    if (out == -1 || in == -1)
        _exit (127);
    dup2 (in, 0);
    dup2 (out, 1);
    dup2 (out, 2);
    execvp (self->bin, (char *const *)argv);
    dprintf (2, "kt_testredis: exec %s: %s\n", self->bin, strerror (errno));
    _exit (127);
}

static bool
s_ping (const kt_testredis_t *self)
{
    redisContext *c = kt_testredis_connect (self);
    if (!c)
        return false;
    redisReply *r = redisCommand (c, "PING");
    //  NOAUTH is an answer too: the server is up, the test asked for a password.
    bool ok = r && ((r->type == REDIS_REPLY_STATUS && strcmp (r->str, "PONG") == 0) ||
                    (r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOAUTH", 6) == 0));
    if (r)
        freeReplyObject (r);
    redisFree (c);
    return ok;
}

//  Spawn and wait for PONG. Returns 0; -1 if the server exited (port taken, bad
//  binary) or did not answer in time (then it is killed).
static int
s_run (kt_testredis_t *self)
{
    self->pid = s_spawn (self);
    if (self->pid == -1) {
        self->pid = 0;
        fprintf (stderr, "kt_testredis: fork: %s\n", strerror (errno));
        return -1;
    }
    int64_t deadline = s_now_ms () + S_READY_MS;
    while (s_now_ms () < deadline) {
        int status;
        if (waitpid (self->pid, &status, WNOHANG) == self->pid) {
            self->pid = 0;
            return -1;
        }
        if (s_ping (self))
            return 0;
        s_sleep_ms (10);
    }
    fprintf (stderr, "kt_testredis: no PONG on port %d within %d ms\n", self->port, S_READY_MS);
    kt_testredis_kill (self);
    return -1;
}

kt_testredis_t *
kt_testredis_start (void)
{
    return kt_testredis_start_with (NULL);
}

kt_testredis_t *
kt_testredis_start_with (const char *const *extra)
{
    kt_testredis_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    const char *bin = getenv ("KT_REDIS_SERVER");
    snprintf (self->bin, sizeof self->bin, "%s", bin && *bin ? bin : "redis-server");
    self->extra = extra;
    snprintf (self->dir, sizeof self->dir, "/tmp/kt-redis-XXXXXX");
    if (!mkdtemp (self->dir)) {
        fprintf (stderr, "kt_testredis: mkdtemp: %s\n", strerror (errno));
        free (self);
        return NULL;
    }
    for (int attempt = 0; attempt < S_START_TRIES; attempt++) {
        self->port = kt_testredis_free_port ();
        if (self->port > 0 && s_run (self) == 0)
            return self;
    }
    fprintf (stderr, "kt_testredis: %s did not start after %d tries\n", self->bin, S_START_TRIES);
    s_print_log_tail (self);
    s_rmdir (self->dir, 0);
    free (self);
    return NULL;
}

//  Send sig, then reap within ms (SIGKILL after that).
static void
s_end (kt_testredis_t *self, int sig, int ms)
{
    if (self->pid <= 0)
        return;
    kill (self->pid, sig);
    int64_t deadline = s_now_ms () + ms;
    int status;
    while (waitpid (self->pid, &status, WNOHANG) == 0) {
        if (s_now_ms () >= deadline) {
            kill (self->pid, SIGKILL);
            waitpid (self->pid, &status, 0);
            break;
        }
        s_sleep_ms (2);
    }
    self->pid = 0;
}

void
kt_testredis_stop (kt_testredis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_testredis_t *self = *self_p;
    s_end (self, SIGTERM, S_STOP_MS);
    s_rmdir (self->dir, 0);
    free (self);
    *self_p = NULL;
}

int
kt_testredis_kill (kt_testredis_t *self)
{
    if (!self || self->pid <= 0)
        return -1;
    s_end (self, SIGKILL, S_STOP_MS);
    return 0;
}

int
kt_testredis_restart_same_port (kt_testredis_t *self)
{
    if (!self)
        return -1;
    kt_testredis_kill (self);
    //  The old listener is gone once reaped; redis sets SO_REUSEADDR, so TIME_WAIT
    //  connections do not block the bind. Retry briefly anyway: a client socket may
    //  have grabbed the port as its ephemeral source port in between.
    for (int attempt = 0; attempt < S_START_TRIES; attempt++) {
        if (s_run (self) == 0)
            return 0;
        s_sleep_ms (50);
    }
    fprintf (stderr, "kt_testredis: restart on port %d failed\n", self->port);
    s_print_log_tail (self);
    return -1;
}

bool
kt_testredis_running (kt_testredis_t *self)
{
    if (!self || self->pid <= 0)
        return false;
    int status;
    if (waitpid (self->pid, &status, WNOHANG) == self->pid) {
        self->pid = 0;
        return false;
    }
    return true;
}

redisContext *
kt_testredis_connect (const kt_testredis_t *self)
{
    struct timeval tv = {.tv_sec = 1};
    redisContext *c = redisConnectWithTimeout ("127.0.0.1", self->port, tv);
    if (!c)
        return NULL;
    if (c->err) {
        redisFree (c);
        return NULL;
    }
    redisSetTimeout (c, tv);
    return c;
}
