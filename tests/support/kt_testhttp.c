/*  kt_testhttp - a throwaway HTTP/1.1 server for tests (see kt_testhttp.h).
 *
 *  The server child runs in its own process group, so stopping it kills the
 *  per-connection grandchildren too (a /hang connection included); each of them also
 *  has PR_SET_PDEATHSIG. Requests are parsed just enough for tests: request line,
 *  headers, a Content-Length body (no chunked uploads). */

#include "kt_testhttp.h"

#include <arpa/inet.h>
#include <ctype.h>
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

#define S_ROUTES_MAX 32
#define S_REQ_MAX (1 << 20)
#define S_SEPARATOR "\n----\n"

typedef struct {
    char *method; //  owned; NULL = any
    char *path;   //  owned
    int status;
    char *content_type; //  owned
    char *body;         //  owned
} s_route_t;

struct kt_testhttp {
    int listen_fd;
    int port;
    pid_t pid; //  server child; 0 before start
    char dir[64];
    char log[96];
    s_route_t routes[S_ROUTES_MAX];
    int nroutes;
};

static const unsigned char s_gzip_hello[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57,
    0x48, 0xaf, 0xca, 0x2c, 0xe0, 0x02, 0x00, 0x39, 0x7c, 0x63, 0x56, 0x0b, 0x00, 0x00, 0x00};

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

static char *
s_dup (const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup (s);
    if (!d)
        abort ();
    return d;
}

kt_testhttp_t *
kt_testhttp_new (void)
{
    kt_testhttp_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (self->listen_fd == -1 || bind (self->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen (self->listen_fd, 64) != 0 ||
        getsockname (self->listen_fd, (struct sockaddr *)&sa, &len) != 0) {
        fprintf (stderr, "kt_testhttp: listen: %s\n", strerror (errno));
        if (self->listen_fd != -1)
            close (self->listen_fd);
        free (self);
        return NULL;
    }
    self->port = ntohs (sa.sin_port);
    snprintf (self->dir, sizeof self->dir, "/tmp/kt-http-XXXXXX");
    if (!mkdtemp (self->dir)) {
        fprintf (stderr, "kt_testhttp: mkdtemp: %s\n", strerror (errno));
        close (self->listen_fd);
        free (self);
        return NULL;
    }
    snprintf (self->log, sizeof self->log, "%s/requests.log", self->dir);
    close (open (self->log, O_WRONLY | O_CREAT, 0644));
    return self;
}

int
kt_testhttp_route (kt_testhttp_t *self, const char *method, const char *path, int status,
                   const char *content_type, const char *body)
{
    if (self->pid || self->nroutes == S_ROUTES_MAX || !path)
        return -1;
    s_route_t *r = &self->routes[self->nroutes++];
    r->method = s_dup (method);
    r->path = s_dup (path);
    r->status = status;
    r->content_type = s_dup (content_type ? content_type : "text/plain");
    r->body = s_dup (body ? body : "");
    return 0;
}

// ---- the server child ----------------------------------------------------------------

static void
s_write_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write (fd, p, len);
        if (n <= 0) {
            if (n == -1 && errno == EINTR)
                continue;
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

static void
s_respond (int fd, int status, const char *ctype, const char *extra_headers, const void *body,
           size_t len)
{
    char head[512];
    int n = snprintf (head, sizeof head,
                      "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                      "Connection: close\r\n\r\n",
                      status, ctype, len, extra_headers ? extra_headers : "");
    s_write_all (fd, head, (size_t)n);
    s_write_all (fd, body, len);
}

//  Read one request into buf. Returns its total length (headers + body), or -1.
static ssize_t
s_read_request (int fd, char *buf, size_t cap, size_t *head_len)
{
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        if (len == cap - 1)
            return -1;
        ssize_t n = read (fd, buf + len, cap - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = 0;
        end = strstr (buf, "\r\n\r\n");
    }
    *head_len = (size_t)(end - buf) + 4;
    size_t body_len = 0;
    for (char *h = strchr (buf, '\n'); h && h < end; h = strchr (h + 1, '\n'))
        if (strncasecmp (h + 1, "content-length:", 15) == 0)
            body_len = strtoul (h + 16, NULL, 10);
    if (*head_len + body_len > cap - 1)
        return -1;
    while (len < *head_len + body_len) {
        ssize_t n = read (fd, buf + len, *head_len + body_len - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
    buf[len] = 0;
    return (ssize_t)len;
}

//  Append one record: "METHOD PATH\n" + header lines + "\n" + body + separator.
static void
s_record (const kt_testhttp_t *self, const char *req, size_t head_len, size_t total)
{
    size_t cap = total + 64;
    char *rec = malloc (cap);
    if (!rec)
        return;
    size_t n = 0;
    const char *line_end = strstr (req, "\r\n");
    //  Request line without " HTTP/1.1".
    const char *sp = memchr (req, ' ', (size_t)(line_end - req));
    const char *sp2 = sp ? memchr (sp + 1, ' ', (size_t)(line_end - sp - 1)) : NULL;
    size_t rl = (size_t)((sp2 ? sp2 : line_end) - req);
    memcpy (rec + n, req, rl);
    n += rl;
    rec[n++] = '\n';
    for (const char *p = line_end + 2; p < req + head_len - 2;) {
        const char *e = strstr (p, "\r\n");
        memcpy (rec + n, p, (size_t)(e - p));
        n += (size_t)(e - p);
        rec[n++] = '\n';
        p = e + 2;
    }
    rec[n++] = '\n';
    memcpy (rec + n, req + head_len, total - head_len);
    n += total - head_len;
    memcpy (rec + n, S_SEPARATOR, strlen (S_SEPARATOR));
    n += strlen (S_SEPARATOR);
    int fd = open (self->log, O_WRONLY | O_APPEND);
    if (fd != -1) {
        s_write_all (fd, rec, n); //  O_APPEND: one write per record, no interleaving
        close (fd);
    }
    free (rec);
}

static void
s_serve (const kt_testhttp_t *self, int fd)
{
    char *buf = malloc (S_REQ_MAX);
    size_t head_len = 0;
    ssize_t total = buf ? s_read_request (fd, buf, S_REQ_MAX, &head_len) : -1;
    if (total < 0) {
        free (buf);
        return;
    }
    char method[16] = "", target[1024] = "";
    sscanf (buf, "%15s %1023s", method, target);
    char *q = strchr (target, '?');
    if (q)
        *q = 0;
    s_record (self, buf, head_len, (size_t)total);

    for (int i = 0; i < self->nroutes; i++) {
        const s_route_t *r = &self->routes[i];
        if ((!r->method || strcmp (r->method, method) == 0) && strcmp (r->path, target) == 0) {
            s_respond (fd, r->status, r->content_type, NULL, r->body, strlen (r->body));
            free (buf);
            return;
        }
    }
    char body[64];
    if (strncmp (target, "/status/", 8) == 0) {
        int status = atoi (target + 8);
        int n = snprintf (body, sizeof body, "status %d", status);
        s_respond (fd, status, "text/plain", NULL, body, (size_t)n);
    } else if (strcmp (target, "/echo") == 0)
        s_respond (fd, 200, "text/plain", NULL, buf, (size_t)total);
    else if (strcmp (target, "/hang") == 0)
        pause ();
    else if (strncmp (target, "/delay/", 7) == 0) {
        s_sleep_ms (atoi (target + 7));
        s_respond (fd, 200, "text/plain", NULL, "delayed", 7);
    } else if (strcmp (target, "/close") == 0)
        ;
    else if (strncmp (target, "/big/", 5) == 0) {
        size_t n = strtoul (target + 5, NULL, 10);
        char *big = malloc (n + 1);
        if (big) {
            memset (big, 'x', n);
            s_respond (fd, 200, "text/plain", NULL, big, n);
            free (big);
        }
    } else if (strcmp (target, "/gzip") == 0)
        s_respond (fd, 200, "text/plain", "Content-Encoding: gzip\r\n", s_gzip_hello,
                   sizeof s_gzip_hello);
    else
        s_respond (fd, 404, "text/plain", NULL, "not found", 9);
    free (buf);
}

static void
s_server_main (const kt_testhttp_t *self, pid_t parent)
{
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (0);
    setpgid (0, 0);
    signal (SIGCHLD, SIG_IGN); //  connection children reap themselves
    signal (SIGPIPE, SIG_IGN);
    pid_t server = getpid ();
    while (true) {
        int fd = accept (self->listen_fd, NULL, NULL);
        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit (1);
        }
        pid_t pid = fork ();
        if (pid == 0) {
            prctl (PR_SET_PDEATHSIG, SIGKILL);
            if (getppid () != server)
                _exit (0);
            close (self->listen_fd);
            s_serve (self, fd);
            shutdown (fd, SHUT_WR);
            close (fd);
            _exit (0);
        }
        close (fd);
    }
}

int
kt_testhttp_start (kt_testhttp_t *self)
{
    if (self->pid)
        return -1;
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0)
        s_server_main (self, parent);
    if (pid == -1)
        return -1;
    self->pid = pid;
    setpgid (pid, pid); //  also here: no race with the child's own call
    return 0;
}

void
kt_testhttp_destroy (kt_testhttp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_testhttp_t *self = *self_p;
    if (self->pid > 0) {
        kill (-self->pid, SIGKILL);
        kill (self->pid, SIGKILL);
        waitpid (self->pid, NULL, 0);
    }
    close (self->listen_fd);
    unlink (self->log);
    rmdir (self->dir);
    for (int i = 0; i < self->nroutes; i++) {
        free (self->routes[i].method);
        free (self->routes[i].path);
        free (self->routes[i].content_type);
        free (self->routes[i].body);
    }
    free (self);
    *self_p = NULL;
}

int
kt_testhttp_port (const kt_testhttp_t *self)
{
    return self->port;
}

char *
kt_testhttp_url (const kt_testhttp_t *self, char *buf, size_t buflen, const char *path)
{
    snprintf (buf, buflen, "http://127.0.0.1:%d%s", self->port, path);
    return buf;
}

char *
kt_testhttp_requests (const kt_testhttp_t *self)
{
    FILE *f = fopen (self->log, "r");
    char *buf = NULL;
    long size = 0;
    if (f) {
        fseek (f, 0, SEEK_END);
        size = ftell (f);
        fseek (f, 0, SEEK_SET);
    }
    buf = malloc ((size_t)size + 1);
    if (!buf)
        abort ();
    size_t n = f ? fread (buf, 1, (size_t)size, f) : 0;
    buf[n] = 0;
    if (f)
        fclose (f);
    return buf;
}

int
kt_testhttp_count (const kt_testhttp_t *self)
{
    char *all = kt_testhttp_requests (self);
    int count = 0;
    for (char *p = strstr (all, S_SEPARATOR); p; p = strstr (p + 1, S_SEPARATOR))
        count++;
    free (all);
    return count;
}

bool
kt_testhttp_wait (const kt_testhttp_t *self, const char *text, int timeout_ms)
{
    int64_t deadline = s_now_ms () + timeout_ms;
    while (true) {
        char *all = kt_testhttp_requests (self);
        bool found = strstr (all, text) != NULL;
        free (all);
        if (found)
            return true;
        if (s_now_ms () >= deadline)
            return false;
        s_sleep_ms (5);
    }
}
