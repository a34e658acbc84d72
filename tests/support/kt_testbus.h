/*  kt_testbus - a blocking request/reply call for tests, on top of the lazy-pirate
 *  client of kt_bus (which processes use from their loop).
 *
 *  Used by tests that play a client of a ROUTER (risk, exec) without a loop of their
 *  own: the call makes a private loop and client, sends, and runs that loop until the
 *  reply or the client gives up. */

#ifndef KT_TESTBUS_H
#define KT_TESTBUS_H

#include <stddef.h>
#include <stdint.h>
#include "kt_bus.h"
#include "kt_msg.h"

//  Send msg (topic, keyed req_id as kt_bus_client_send wants) to endpoint name of bus
//  (borrowed) and wait for the matching reply with the client's timeout/retry policy
//  (timeout_ms <= 0 and retries < 0 take the config's). Returns 0 with *reply filled,
//  or -1 with the reason in err: "request '<id>': no reply after <n> tries", or the
//  bus's error when the request could not be made.
int kt_testbus_call (kt_bus_t *bus, const char *name, int timeout_ms, int retries,
                     const char *req_id, const char *topic, struct kt_msg *msg,
                     struct kt_msg *reply, char *err, size_t errlen);

//  Send m on topic to a PUB socket as publisher src numbered epoch:n would (not
//  kt_bus_publish's own numbering): gaps, restarts and strangers for subscribers to see.
//  Sets m's src, seq and ts_ns. Returns 0, or -1 when it could not be encoded or sent.
int kt_testbus_send_crafted (void *pub, const char *topic, struct kt_msg *m, const char *src,
                             uint32_t epoch, uint32_t n);

#endif
