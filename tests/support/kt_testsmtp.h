/*  kt_testsmtp - a throwaway SMTP server for tests: a forked child on a private
 *  127.0.0.1 port that speaks enough ESMTP for libcurl (EHLO/HELO, MAIL FROM, RCPT TO,
 *  DATA, RSET, NOOP, QUIT; AUTH PLAIN/LOGIN accepted without checking) and records
 *  every message it accepts.
 *
 *  Used by the alerter's e-mail channel tests. It never offers STARTTLS, so a client
 *  that requires TLS must refuse to send to it. Each message is appended to
 *  <dir>/mail.log as "MAIL FROM:<a>\nRCPT TO:<b>\n...\n\n" + the data as received
 *  (CRLF kept, dot-stuffing undone) + "\n====\n". Connections are served one at a
 *  time. Single-threaded, like the tests that use it. */

#ifndef KT_TESTSMTP_H
#define KT_TESTSMTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct kt_testsmtp kt_testsmtp_t;

//  How the server answers the end of DATA.
typedef enum {
    KT_TESTSMTP_ACCEPT = 0, //  250, message recorded
    KT_TESTSMTP_TEMPFAIL,   //  451 (try again later), nothing recorded
    KT_TESTSMTP_REJECT      //  554 (refused), nothing recorded
} kt_testsmtp_mode_t;

//  Bind and listen on 127.0.0.1:<free port> and fork the server. Returns an owned
//  server, or NULL (reason on stderr).
kt_testsmtp_t *kt_testsmtp_start (kt_testsmtp_mode_t mode);

//  Kill the server, remove its dir and free. Safe on NULL; sets *self_p to NULL.
void kt_testsmtp_stop (kt_testsmtp_t **self_p);

//  The port.
int kt_testsmtp_port (const kt_testsmtp_t *self);

//  Everything recorded so far. Returns an owned string (free), never NULL.
char *kt_testsmtp_mail (const kt_testsmtp_t *self);

//  Number of messages recorded so far.
int kt_testsmtp_count (const kt_testsmtp_t *self);

//  Number of DATA ends answered so far (accepted or not): how many sends were tried.
int kt_testsmtp_attempts (const kt_testsmtp_t *self);

//  Wait at most timeout_ms until the recorded mail contains text. True if found.
bool kt_testsmtp_wait (const kt_testsmtp_t *self, const char *text, int timeout_ms);

#endif
