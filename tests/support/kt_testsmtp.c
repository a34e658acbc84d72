/*  kt_testsmtp - a throwaway SMTP server for tests (see kt_testsmtp.h).
 *
 *  Line-based on purpose: commands are read a line at a time from a small buffer,
 *  DATA until a line holding only ".". The child has PR_SET_PDEATHSIG, so it never
 *  outlives the test. Attempts are counted as one byte each in <dir>/attempts. */

#include "kt_testsmtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_SEPARATOR "\n====\n"
#define S_LINE_MAX 4096
#define S_DATA_MAX (1 << 20)

struct kt_testsmtp {
    int listen_fd;
    int port;
    pid_t pid;
    kt_testsmtp_mode_t mode;
    char dir[64];
    char log[96];
    char attempts[96];
};

typedef struct {
    int fd;
    char buf[S_LINE_MAX];
    size_t len;
} s_conn_t;

static void
s_say (int fd, const char *text)
{
    size_t n = strlen (text), off = 0;
    while (off < n) {
        ssize_t w = write (fd, text + off, n - off);
        if (w <= 0)
            return;
        off += (size_t) w;
    }
}

//  One line without its CRLF into out. Returns its length, or -1 on EOF / error.
static int
s_line (s_conn_t *c, char *out, size_t outlen)
{
    for (;;) {
        char *nl = memchr (c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t) (nl - c->buf) + 1;
            size_t keep = n - 1;
            if (keep && c->buf[keep - 1] == '\r')
                keep--;
            if (keep >= outlen)
                keep = outlen - 1;
            memcpy (out, c->buf, keep);
            out[keep] = '\0';
            memmove (c->buf, c->buf + n, c->len - n);
            c->len -= n;
            return (int) keep;
        }
        if (c->len == sizeof c->buf)
            c->len = 0; //  an over-long line is dropped
        ssize_t r = read (c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (r <= 0)
            return -1;
        c->len += (size_t) r;
    }
}

static void
s_append (const char *path, const char *data, size_t len)
{
    int fd = open (path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
        return;
    if (write (fd, data, len) != (ssize_t) len) {
        //  Nothing to do: the test will miss the message and say so.
    }
    close (fd);
}

static void
s_session (const kt_testsmtp_t *self, int fd)
{
    s_conn_t c = {.fd = fd};
    char line[S_LINE_MAX];
    char *env = calloc (1, S_DATA_MAX);
    char *data = calloc (1, S_DATA_MAX);
    size_t envlen = 0;
    if (!env || !data)
        abort ();
    s_say (fd, "220 kt-testsmtp ESMTP ready\r\n");
    int n;
    while ((n = s_line (&c, line, sizeof line)) >= 0) {
        if (!strncasecmp (line, "EHLO", 4))
            s_say (fd, "250-kt-testsmtp\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n"
                       "250 SIZE 1048576\r\n");
        else if (!strncasecmp (line, "HELO", 4))
            s_say (fd, "250 kt-testsmtp\r\n");
        else if (!strncasecmp (line, "AUTH", 4)) {
            //  Any credentials pass; the exchange follows RFC 4954 so clients finish it.
            bool login = !strncasecmp (line, "AUTH LOGIN", 10);
            bool initial = strchr (line + 5, ' ') != NULL;
            if (login) {
                if (!initial) {
                    s_say (fd, "334 VXNlcm5hbWU6\r\n");
                    if (s_line (&c, line, sizeof line) < 0)
                        break;
                }
                s_say (fd, "334 UGFzc3dvcmQ6\r\n");
                if (s_line (&c, line, sizeof line) < 0)
                    break;
            } else if (!initial) {
                s_say (fd, "334 \r\n");
                if (s_line (&c, line, sizeof line) < 0)
                    break;
            }
            s_say (fd, "235 2.7.0 accepted\r\n");
        } else if (!strncasecmp (line, "MAIL FROM:", 10) || !strncasecmp (line, "RCPT TO:", 8)) {
            if (envlen + (size_t) n + 2 < S_DATA_MAX) {
                memcpy (env + envlen, line, (size_t) n);
                envlen += (size_t) n;
                env[envlen++] = '\n';
            }
            s_say (fd, "250 ok\r\n");
        } else if (!strncasecmp (line, "RSET", 4)) {
            envlen = 0;
            s_say (fd, "250 ok\r\n");
        } else if (!strncasecmp (line, "NOOP", 4))
            s_say (fd, "250 ok\r\n");
        else if (!strncasecmp (line, "QUIT", 4)) {
            s_say (fd, "221 bye\r\n");
            break;
        } else if (!strncasecmp (line, "DATA", 4)) {
            s_say (fd, "354 end with <CRLF>.<CRLF>\r\n");
            size_t dlen = 0;
            int m;
            while ((m = s_line (&c, line, sizeof line)) >= 0) {
                if (!strcmp (line, "."))
                    break;
                const char *l = line[0] == '.' ? line + 1 : line; //  undo dot-stuffing
                size_t ll = strlen (l);
                if (dlen + ll + 3 < S_DATA_MAX) {
                    memcpy (data + dlen, l, ll);
                    dlen += ll;
                    data[dlen++] = '\r';
                    data[dlen++] = '\n';
                }
            }
            if (m < 0)
                break;
            s_append (self->attempts, "x", 1);
            if (self->mode == KT_TESTSMTP_ACCEPT) {
                s_append (self->log, env, envlen);
                s_append (self->log, "\n", 1);
                s_append (self->log, data, dlen);
                s_append (self->log, S_SEPARATOR, strlen (S_SEPARATOR));
                s_say (fd, "250 2.0.0 queued\r\n");
            } else if (self->mode == KT_TESTSMTP_TEMPFAIL)
                s_say (fd, "451 4.3.0 try again later\r\n");
            else
                s_say (fd, "554 5.7.1 refused\r\n");
            envlen = 0;
        } else
            s_say (fd, "502 command not implemented\r\n");
    }
    free (env);
    free (data);
}

static void
s_server_main (const kt_testsmtp_t *self, pid_t parent)
{
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (0);
    signal (SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = accept (self->listen_fd, NULL, NULL);
        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit (1);
        }
        s_session (self, fd);
        close (fd);
    }
}

kt_testsmtp_t *
kt_testsmtp_start (kt_testsmtp_mode_t mode)
{
    kt_testsmtp_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->mode = mode;
    self->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (self->listen_fd == -1 || bind (self->listen_fd, (struct sockaddr *) &sa, sizeof sa) ||
        listen (self->listen_fd, 16) ||
        getsockname (self->listen_fd, (struct sockaddr *) &sa, &len)) {
        fprintf (stderr, "kt_testsmtp: listen: %s\n", strerror (errno));
        if (self->listen_fd != -1)
            close (self->listen_fd);
        free (self);
        return NULL;
    }
    self->port = ntohs (sa.sin_port);
    snprintf (self->dir, sizeof self->dir, "/tmp/kt-smtp-XXXXXX");
    if (!mkdtemp (self->dir)) {
        fprintf (stderr, "kt_testsmtp: mkdtemp: %s\n", strerror (errno));
        close (self->listen_fd);
        free (self);
        return NULL;
    }
    snprintf (self->log, sizeof self->log, "%s/mail.log", self->dir);
    snprintf (self->attempts, sizeof self->attempts, "%s/attempts", self->dir);
    close (open (self->log, O_WRONLY | O_CREAT, 0644));
    close (open (self->attempts, O_WRONLY | O_CREAT, 0644));
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0)
        s_server_main (self, parent);
    if (pid == -1) {
        kt_testsmtp_stop (&self);
        return NULL;
    }
    self->pid = pid;
    return self;
}

void
kt_testsmtp_stop (kt_testsmtp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_testsmtp_t *self = *self_p;
    if (self->pid > 0) {
        kill (self->pid, SIGKILL);
        waitpid (self->pid, NULL, 0);
    }
    close (self->listen_fd);
    unlink (self->log);
    unlink (self->attempts);
    rmdir (self->dir);
    free (self);
    *self_p = NULL;
}

int
kt_testsmtp_port (const kt_testsmtp_t *self)
{
    return self->port;
}

static char *
s_slurp (const char *path, long *size)
{
    FILE *f = fopen (path, "r");
    *size = 0;
    if (f) {
        fseek (f, 0, SEEK_END);
        *size = ftell (f);
        fseek (f, 0, SEEK_SET);
    }
    char *buf = malloc ((size_t) *size + 1);
    if (!buf)
        abort ();
    size_t n = f ? fread (buf, 1, (size_t) *size, f) : 0;
    buf[n] = '\0';
    *size = (long) n;
    if (f)
        fclose (f);
    return buf;
}

char *
kt_testsmtp_mail (const kt_testsmtp_t *self)
{
    long size;
    return s_slurp (self->log, &size);
}

int
kt_testsmtp_count (const kt_testsmtp_t *self)
{
    char *all = kt_testsmtp_mail (self);
    int count = 0;
    for (char *p = strstr (all, S_SEPARATOR); p; p = strstr (p + 1, S_SEPARATOR))
        count++;
    free (all);
    return count;
}

int
kt_testsmtp_attempts (const kt_testsmtp_t *self)
{
    long size;
    free (s_slurp (self->attempts, &size));
    return (int) size;
}

bool
kt_testsmtp_wait (const kt_testsmtp_t *self, const char *text, int timeout_ms)
{
    for (int waited = 0;; waited += 5) {
        char *all = kt_testsmtp_mail (self);
        bool found = strstr (all, text) != NULL;
        free (all);
        if (found)
            return true;
        if (waited >= timeout_ms)
            return false;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 5000000L};
        nanosleep (&ts, NULL);
    }
}
