/*  ctl_metrics - `metrics --listen HOST:PORT`: Prometheus text format (version 0.0.4)
 *  on GET /metrics, built fresh from Redis on every scrape: each process's heartbeat
 *  (up, age, pid, its numeric counters) and the book (positions, realised P&L, open
 *  orders, fills). Money stays integer paise (kt_*_paise). Loopback by default: the
 *  numbers are the account's, so exposing them is a decision (--listen 0.0.0.0:PORT).
 *
 *  One connection at a time, each with a 2 s budget, which is plenty for a scraper
 *  every few seconds; SIGINT/SIGTERM stop it with exit 0. With Redis down a scrape
 *  still answers, with kt_redis_up 0, so the dashboard shows the outage. */

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ctl_cmd.h"

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

static bool
s_numeric (const char *v)
{
    if (*v == '-')
        v++;
    if (!*v)
        return false;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return false;
    return true;
}

//  Label values and metric name parts: [a-zA-Z0-9_] kept, others become '_'.
static void
s_name (const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++) {
        char c = in[i];
        out[i] =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
    }
    out[i] = '\0';
}

static void
s_help (FILE *f, const char *name, const char *type, const char *help)
{
    fprintf (f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *
ctl_metrics_render (ctl_t *ctl)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    if (!f)
        return NULL;
    //  Each scrape reconnects if Redis went away meanwhile.
    if (!ctl->store_ok)
        ctl->store_tried = false;
    kt_store_t *store = ctl_ctx_store (ctl);
    if (store) {
        //  Connected once is not answering now: ask.
        kt_store_result_t pong = kt_store_callf (store, "PING");
        if (pong.kind != KT_STORE_STR)
            store = NULL;
        kt_store_result_free (&pong);
    }
    s_help (f, "kt_redis_up", "gauge", "1 when Redis answers");
    fprintf (f, "kt_redis_up %d\n", store ? 1 : 0);
    if (!store) {
        fclose (f);
        return buf;
    }
    int64_t speed;
    int64_t now = ctl_ctx_now (ctl, &speed);
    struct ctl_health h[16];
    int np = 0;
    for (int i = 0; ctl_health_procs[i] && np < 16; i++)
        if (ctl_health_read (ctl, ctl_health_procs[i], now, speed, &h[np]) == 0)
            np++;
    s_help (f, "kt_up", "gauge", "1 when the process's heartbeat is fresh (health.ttl_s)");
    for (int i = 0; i < np; i++)
        fprintf (f, "kt_up{proc=\"%s\"} %d\n", h[i].proc, h[i].fresh ? 1 : 0);
    s_help (f, "kt_heartbeat_age_seconds", "gauge", "wall seconds since the last heartbeat");
    for (int i = 0; i < np; i++)
        if (h[i].present)
            fprintf (f, "kt_heartbeat_age_seconds{proc=\"%s\"} %lld.%03lld\n", h[i].proc,
                     (long long) (h[i].age_ns / 1000000000LL),
                     (long long) (h[i].age_ns / 1000000 % 1000));
    s_help (f, "kt_pid", "gauge", "process id (a change is a restart)");
    for (int i = 0; i < np; i++)
        if (h[i].present)
            fprintf (f, "kt_pid{proc=\"%s\"} %lld\n", h[i].proc, (long long) h[i].rec.pid);
    s_help (f, "kt_counter", "untyped", "a numeric counter of the process's heartbeat hash");
    for (int i = 0; i < np; i++)
        for (int c = 0; c < h[i].ncounters; c++) {
            if (!s_numeric (h[i].value[c]))
                continue;
            char n[64];
            s_name (h[i].counter[c], n, sizeof n);
            fprintf (f, "kt_counter{proc=\"%s\",name=\"%s\"} %s\n", h[i].proc, n, h[i].value[c]);
        }
    //  A process's state word (risk-gate's trading state) as a labelled 1.
    s_help (f, "kt_state", "gauge", "1 for the state word a process reports in its heartbeat");
    for (int i = 0; i < np; i++) {
        const char *st = h[i].fresh ? ctl_health_counter (&h[i], "state") : NULL;
        if (st && !s_numeric (st)) {
            char n[64];
            s_name (st, n, sizeof n);
            fprintf (f, "kt_state{proc=\"%s\",state=\"%s\"} 1\n", h[i].proc, n);
        }
    }
    char why[256];
    struct kt_pos_rec *pos = NULL;
    struct kt_order_rec *ord = NULL;
    int npos = ctl_book_positions (ctl, &pos, why, sizeof why);
    int nord = ctl_book_open_orders (ctl, &ord, why, sizeof why);
    struct kt_book_rec book;
    bool have_book = kt_book_get (store, &book, why, sizeof why) == 0;
    if (npos >= 0) {
        s_help (f, "kt_positions_open", "gauge", "symbols with a non-zero position");
        fprintf (f, "kt_positions_open %d\n", npos);
        s_help (f, "kt_position_qty", "gauge", "signed units (negative = short)");
        for (int i = 0; i < npos; i++)
            fprintf (f, "kt_position_qty{sym=\"%s\"} %lld\n", pos[i].sym, (long long) pos[i].qty);
        s_help (f, "kt_position_avg_paise", "gauge", "average open price, paise");
        for (int i = 0; i < npos; i++)
            fprintf (f, "kt_position_avg_paise{sym=\"%s\"} %lld\n", pos[i].sym,
                     (long long) pos[i].avg_px);
        s_help (f, "kt_position_realised_paise", "gauge", "realised P&L of the symbol, paise");
        for (int i = 0; i < npos; i++)
            fprintf (f, "kt_position_realised_paise{sym=\"%s\"} %lld\n", pos[i].sym,
                     (long long) pos[i].realised);
    }
    if (nord >= 0) {
        s_help (f, "kt_orders_open", "gauge", "orders not yet final");
        fprintf (f, "kt_orders_open %d\n", nord);
    }
    if (have_book) {
        s_help (f, "kt_realised_paise", "gauge", "realised P&L since the book began, paise");
        fprintf (f, "kt_realised_paise %lld\n", (long long) book.realised);
        s_help (f, "kt_fills_total", "counter", "fills applied to the book");
        fprintf (f, "kt_fills_total %lld\n", (long long) book.fills);
        s_help (f, "kt_book_version", "gauge", "bumped by every order or fill change");
        fprintf (f, "kt_book_version %lld\n", (long long) book.ver);
    }
    free (pos);
    free (ord);
    fclose (f);
    return buf;
}

static void
s_serve (ctl_t *ctl, int fd)
{
    char req[4096] = "";
    size_t got = 0;
    int64_t until = kt_clock_wall_mono_ns () + 2000000000LL;
    while (got < sizeof req - 1 && !strstr (req, "\r\n\r\n")) {
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = (until - kt_clock_wall_mono_ns ()) / 1000000;
        if (left <= 0 || poll (&p, 1, (int) left) <= 0)
            return;
        ssize_t n = read (fd, req + got, sizeof req - 1 - got);
        if (n <= 0)
            return;
        got += (size_t) n;
        req[got] = '\0';
    }
    char *body = NULL;
    const char *status = "404 Not Found";
    const char *ctype = "text/plain; charset=utf-8";
    if (strncmp (req, "GET /metrics ", 13) == 0 || strncmp (req, "GET /metrics?", 13) == 0) {
        body = ctl_metrics_render (ctl);
        status = body ? "200 OK" : "500 Internal Server Error";
        ctype = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strncmp (req, "GET ", 4) != 0)
        status = "405 Method Not Allowed";
    const char *text = body ? body : "try /metrics\n";
    char head[256];
    int hl = snprintf (head, sizeof head,
                       "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                       "Connection: close\r\n\r\n",
                       status, ctype, strlen (text));
    if (write (fd, head, (size_t) hl) == hl) {
        size_t off = 0, tl = strlen (text);
        while (off < tl) {
            ssize_t n = write (fd, text + off, tl - off);
            if (n <= 0)
                break;
            off += (size_t) n;
        }
    }
    free (body);
}

int
ctl_metrics_cmd (ctl_t *ctl, int argc, char **argv)
{
    char hostport[128] = "127.0.0.1:9108";
    bool once = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--listen") == 0 && i + 1 < argc)
            snprintf (hostport, sizeof hostport, "%s", argv[++i]);
        else if (strcmp (argv[i], "--once") == 0)
            once = true;
        else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                                 "metrics: usage: metrics [--listen HOST:PORT] "
                                 "[--once]");
    }
    if (ctl->json)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "metrics: the answer is Prometheus text; "
                             "--json does not apply (use status --json)");
    if (once) {
        //  One rendering on stdout (for a cron job or a quick look).
        char *m = ctl_metrics_render (ctl);
        if (!m)
            return CTL_EXIT_FAIL;
        fputs (m, ctl->out);
        bool up = strstr (m, "\nkt_redis_up 1\n") != NULL;
        free (m);
        return up ? CTL_EXIT_OK : CTL_EXIT_REDIS;
    }
    char *colon = strrchr (hostport, ':');
    if (!colon || !colon[1])
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "metrics: --listen HOST:PORT, e.g. 127.0.0.1:9108");
    *colon = '\0';
    const char *host = hostport[0] ? hostport : "127.0.0.1";
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *ai = NULL;
    if (getaddrinfo (host, colon + 1, &hints, &ai) != 0 || !ai)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "metrics: cannot resolve %s", host);
    int fd = socket (ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind (fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen (fd, 16) != 0) {
        int e = errno;
        freeaddrinfo (ai);
        if (fd >= 0)
            close (fd);
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "metrics: cannot listen on %s:%s: %s", host,
                             colon + 1, strerror (e));
    }
    freeaddrinfo (ai);
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    fprintf (ctl->err, "tradectl: serving metrics on http://%s:%s/metrics\n", host, colon + 1);
    while (!s_stop) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, 500) <= 0)
            continue;
        int c = accept4 (fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        s_serve (ctl, c);
        close (c);
    }
    close (fd);
    return CTL_EXIT_OK;
}
