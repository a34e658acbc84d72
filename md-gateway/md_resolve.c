/*  md_resolve - host names resolved off the loop (see md_resolve.h).
 *
 *  getaddrinfo_a runs the lookup on a glibc helper thread and writes the result into
 *  the request block, which therefore lives in the resolver and must not be freed or
 *  reused while glibc may still write it: a new start or destroy cancels first and,
 *  when glibc answers EAI_NOTCANCELED, waits for the lookup to end. */

#include "md_resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_NONE = 0, S_RUNNING, S_NUMERIC } s_state_t;

struct md_resolve {
    s_state_t state;
    char host[256];
    struct addrinfo hints;
    struct gaicb req;
    struct gaicb *list[1];
    char numeric[MD_RESOLVE_ADDR_LEN];
};

md_resolve_t *
md_resolve_new (void)
{
    md_resolve_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    return self;
}

//  End a running lookup: cancelled, or waited for when glibc has it in hand.
static void
s_stop (md_resolve_t *self)
{
    if (self->state == S_RUNNING) {
        if (gai_cancel (&self->req) == EAI_NOTCANCELED)
            while (gai_error (&self->req) == EAI_INPROGRESS)
                gai_suspend ((const struct gaicb *const *) self->list, 1, NULL);
        if (gai_error (&self->req) == 0 && self->req.ar_result)
            freeaddrinfo (self->req.ar_result);
        self->req.ar_result = NULL;
    }
    self->state = S_NONE;
}

void
md_resolve_destroy (md_resolve_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_stop (*self_p);
    free (*self_p);
    *self_p = NULL;
}

static bool
s_numeric (const char *host)
{
    unsigned char buf[sizeof (struct in6_addr)];
    return inet_pton (AF_INET, host, buf) == 1 || inet_pton (AF_INET6, host, buf) == 1;
}

int
md_resolve_start (md_resolve_t *self, const char *host, char *err, size_t errlen)
{
    s_stop (self);
    size_t n = strlen (host);
    if (n == 0 || n >= sizeof self->host) {
        snprintf (err, errlen, "resolve: host name empty or too long");
        return -1;
    }
    memcpy (self->host, host, n + 1);
    if (s_numeric (host)) {
        snprintf (self->numeric, sizeof self->numeric, "%s", host);
        self->state = S_NUMERIC;
        return 0;
    }
    memset (&self->hints, 0, sizeof self->hints);
    self->hints.ai_family = AF_UNSPEC;
    self->hints.ai_socktype = SOCK_STREAM;
    memset (&self->req, 0, sizeof self->req);
    self->req.ar_name = self->host;
    self->req.ar_request = &self->hints;
    self->list[0] = &self->req;
    int rc = getaddrinfo_a (GAI_NOWAIT, self->list, 1, NULL);
    if (rc != 0) {
        snprintf (err, errlen, "resolve %s: %s", self->host, gai_strerror (rc));
        return -1;
    }
    self->state = S_RUNNING;
    return 0;
}

int
md_resolve_poll (md_resolve_t *self, char *addr, size_t addrlen, char *err, size_t errlen)
{
    if (self->state == S_NUMERIC) {
        snprintf (addr, addrlen, "%s", self->numeric);
        return 1;
    }
    if (self->state != S_RUNNING) {
        snprintf (err, errlen, "resolve: no lookup started");
        return -1;
    }
    int rc = gai_error (&self->req);
    if (rc == EAI_INPROGRESS)
        return 0;
    self->state = S_NONE;
    if (rc != 0) {
        snprintf (err, errlen, "resolve %s: %s", self->host, gai_strerror (rc));
        return -1;
    }
    //  lws may be built without IPv6: an IPv4 address first when there is one.
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *a = self->req.ar_result; a; a = a->ai_next)
        if (a->ai_family == AF_INET || (a->ai_family == AF_INET6 && !pick)) {
            pick = a;
            if (a->ai_family == AF_INET)
                break;
        }
    int ok = -1;
    if (pick) {
        const void *in =
            pick->ai_family == AF_INET
                ? (const void *) &((const struct sockaddr_in *) pick->ai_addr)->sin_addr
                : (const void *) &((const struct sockaddr_in6 *) pick->ai_addr)->sin6_addr;
        if (inet_ntop (pick->ai_family, in, addr, (socklen_t) addrlen))
            ok = 1;
        else
            snprintf (err, errlen, "resolve %s: address does not fit", self->host);
    } else
        snprintf (err, errlen, "resolve %s: no IPv4 or IPv6 address", self->host);
    freeaddrinfo (self->req.ar_result);
    self->req.ar_result = NULL;
    return ok;
}
