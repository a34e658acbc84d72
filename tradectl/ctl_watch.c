/*  ctl_watch - `watch`: a full-screen view refreshed every interval: the account as
 *  `status` prints it, every process with the age of its heartbeat, positions and open
 *  orders. Words that need a look are coloured (the first line's NO, HALTED, DOWN, STALE
 *  red; REDUCING yellow; YES, ACTIVE, up green). q or Ctrl-C quits and restores the
 *  terminal. Without a terminal (a pipe, a log) it prints plain frames; --once prints one
 *  and exits. */

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "ctl_cmd.h"

static volatile sig_atomic_t s_quit;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_quit = 1;
}

static const struct {
    const char *word, *colour;
} s_colours[] = {
    {"positions: NO", "\033[1;31m"},
    {"positions: YES", "\033[1;32m"},
    {"HALTED", "\033[1;31m"},
    {"DOWN", "\033[1;31m"},
    {"STALE", "\033[1;31m"},
    {"NOT RUNNING", "\033[1;31m"},
    {"ON:", "\033[1;31m"},
    {"REDUCING", "\033[1;33m"},
    {"UNANSWERED", "\033[1;33m"},
    {"ACTIVE", "\033[1;32m"},
    {" up ", "\033[32m"},
};

void
ctl_watch_paint (FILE *out, const char *text, bool colour)
{
    if (!colour) {
        fputs (text, out);
        return;
    }
    for (const char *p = text; *p;) {
        size_t hit = 0;
        const char *c = NULL;
        for (size_t i = 0; i < sizeof s_colours / sizeof s_colours[0]; i++) {
            size_t l = strlen (s_colours[i].word);
            if (strncmp (p, s_colours[i].word, l) == 0) {
                hit = l;
                c = s_colours[i].colour;
                break;
            }
        }
        if (hit) {
            fprintf (out, "%s%.*s\033[0m", c, (int) hit, p);
            p += hit;
        } else
            fputc (*p++, out);
    }
}

//  One frame as text. Returns an owned string.
static char *
s_frame (ctl_t *ctl)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    if (!ctl->store_ok)
        ctl->store_tried = false; //  try again each frame: Redis may be back
    FILE *err = ctl->err;
    ctl->err = f;
    kt_store_t *store = ctl_ctx_store (ctl);
    int64_t speed;
    int64_t now = ctl_ctx_now (ctl, &speed);
    char when[40];
    kt_ist_format (now, when, sizeof when);
    fprintf (f, "tradectl watch  %s IST  (%s)  q quits\n\n", when, ctl->cfg->mode);
    if (store) {
        ctl_status_print (store, f, now, speed, ctl->cfg->health_ttl_s);
        fprintf (f, "\nprocesses:\n");
        for (int i = 0; ctl_health_procs[i]; i++) {
            struct ctl_health h;
            char age[32];
            if (ctl_health_read (ctl, ctl_health_procs[i], now, speed, &h) != 0)
                break;
            if (!h.present)
                fprintf (f, "  %-13s DOWN (no heartbeat)\n", h.proc);
            else
                fprintf (f, "  %-13s %s (pid %lld, beat %s)\n", h.proc, h.fresh ? " up " : "STALE",
                         (long long) h.rec.pid, ctl_fmt_age (h.age_ns, age, sizeof age));
        }
        char why[256];
        struct kt_order_rec *ord;
        int n = ctl_book_open_orders (ctl, &ord, why, sizeof why);
        fprintf (f, "\nopen orders (book): %d\n", n < 0 ? 0 : n);
        for (int i = 0; i < n && i < 20; i++) {
            char px[32], age[32];
            fprintf (f, "  %-20s %-24s %-4s %6lld/%-6lld %-6s %12s %-14s %s\n", ord[i].coid,
                     ord[i].sym, kt_side_str (ord[i].side), (long long) ord[i].filled_qty,
                     (long long) ord[i].qty, kt_order_type_str (ord[i].order_type),
                     ord[i].price ? ctl_fmt_rs (ord[i].price, px, sizeof px) : "-",
                     kt_ord_status_str (ord[i].status),
                     ctl_fmt_age (now - ord[i].created_ns, age, sizeof age));
        }
        free (ord);
    } else
        fprintf (f, "Redis %s:%lld is DOWN: no state to show (retrying)\n", ctl->cfg->redis_host,
                 (long long) ctl->cfg->redis_port);
    ctl->err = err;
    fclose (f);
    return buf;
}

int
ctl_watch_cmd (ctl_t *ctl, int argc, char **argv)
{
    int interval_ms = 1000;
    bool once = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--interval") == 0 && i + 1 < argc && atof (argv[i + 1]) >= 0.2)
            interval_ms = (int) (atof (argv[++i]) * 1000);
        else if (strcmp (argv[i], "--once") == 0)
            once = true;
        else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                                 "watch: usage: watch [--interval S] [--once]");
    }
    bool tty = isatty (STDOUT_FILENO) && isatty (STDIN_FILENO) && !ctl->json && !once;
    struct termios saved;
    if (tty) {
        tcgetattr (STDIN_FILENO, &saved);
        struct termios raw = saved;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr (STDIN_FILENO, TCSANOW, &raw);
        fputs ("\033[?1049h\033[?25l", ctl->out); //  alternate screen, cursor hidden
    }
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    int rc = CTL_EXIT_OK;
    while (!s_quit) {
        if (ctl->json) {
            //  One status object per frame (JSON lines).
            rc = ctl_state_cmd_status (ctl, 1, argv);
            fflush (ctl->out);
        } else {
            char *frame = s_frame (ctl);
            if (tty)
                fputs ("\033[H\033[2J", ctl->out);
            ctl_watch_paint (ctl->out, frame ? frame : "", tty);
            if (!tty)
                fputs ("\n", ctl->out);
            free (frame);
            fflush (ctl->out);
        }
        if (once)
            break;
        if (!tty) {
            //  stdin is not a terminal: no keys to read, refresh on the timer.
            struct timespec ts = {interval_ms / 1000, (long) (interval_ms % 1000) * 1000000L};
            nanosleep (&ts, NULL);
            continue;
        }
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        if (poll (&p, 1, interval_ms) > 0) {
            char c;
            while (read (STDIN_FILENO, &c, 1) == 1)
                if (c == 'q' || c == 'Q' || c == 3)
                    s_quit = 1;
        }
    }
    if (tty) {
        fputs ("\033[?25h\033[?1049l", ctl->out);
        fflush (ctl->out);
        tcsetattr (STDIN_FILENO, TCSANOW, &saved);
    }
    return rc;
}
