/*  md_resolve - a host name resolved off the event loop (glibc getaddrinfo_a), for the
 *  ticker: libwebsockets 4.1 resolves with a blocking getaddrinfo inside its service
 *  call, which would stall the loop (and every tick, timer and Redis write with it) for
 *  as long as a slow DNS server takes. The ticker starts a lookup, polls it from the
 *  loop and hands lws the numeric address.
 *
 *  One lookup at a time per resolver. Not thread-safe (the loop's thread only). */

#ifndef MD_RESOLVE_H
#define MD_RESOLVE_H

#include <stddef.h>

#define MD_RESOLVE_ADDR_LEN 46 //  INET6_ADDRSTRLEN

typedef struct md_resolve md_resolve_t;

//  A resolver with no lookup running. Returns an owned resolver (aborts on OOM).
md_resolve_t *md_resolve_new (void);

//  Cancel a running lookup and free. A lookup glibc cannot cancel is waited for (its
//  request block must outlive it): bounded by the resolver's own time-outs, at
//  shutdown only. Safe on NULL; sets *self_p to NULL.
void md_resolve_destroy (md_resolve_t **self_p);

//  Begin resolving host (copied). A numeric IPv4 or IPv6 address needs no lookup: its
//  result is ready at once. A lookup still running is cancelled first. Returns 0, or
//  -1 with the reason in err (name too long, glibc refused to start).
int md_resolve_start (md_resolve_t *self, const char *host, char *err, size_t errlen);

//  The state of the lookup started last: 1 done (addr holds the numeric address, an
//  IPv4 one when the name has both), 0 still running, -1 failed (the reason, with the
//  name, in err) or none started. Never blocks.
int md_resolve_poll (md_resolve_t *self, char *addr, size_t addrlen, char *err, size_t errlen);

#endif
