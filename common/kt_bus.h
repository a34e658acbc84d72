/*  kt_bus - ZeroMQ endpoints by config name, topic + body framing, per-publisher
 *  sequence numbers with gap detection, and the lazy-pirate request client.
 *
 *  Used by every process. A bus owns one ZeroMQ context and every socket made through
 *  it; each socket gets linger and high-water marks from config. A message is two
 *  frames, topic (ASCII) then msgpack body (kt_msg); requests and replies on ROUTER
 *  sockets carry the peer's routing frames and an empty delimiter first, so REQ and
 *  DEALER clients both work.
 *
 *  Sequence numbers: seq = (epoch << 32) | n, where epoch is given at kt_bus_new (the
 *  process takes it from Redis, INCR <prefix>seq:<proc>) and n counts per topic family
 *  (the topic text before the first '.'). So seq never goes back while Redis lives,
 *  and a subscriber tells a gap (same epoch, n jumped) from a publisher restart (new
 *  epoch). Gaps are counted, never fatal: state comes from Redis. */

#ifndef KT_BUS_H
#define KT_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt_cfg.h"
#include "kt_clock.h"
#include "kt_loop.h"
#include "kt_msg.h"

typedef struct kt_bus kt_bus_t;
typedef struct kt_bus_client kt_bus_client_t;

#define KT_TOPIC_LEN 64
#define KT_PEER_MAX  256

//  Routing frames of a ROUTER peer, copied out of a request so the reply can follow.
typedef struct {
    size_t len;
    unsigned char id[KT_PEER_MAX];
    bool delimiter;             //  request had an empty delimiter frame (REQ / our DEALER)
} kt_bus_peer_t;

//  Create a bus for process src with sequence epoch seq_epoch (>= 1). cfg and clock
//  are borrowed and must outlive the bus (clock may be NULL: real time).
//  Returns an owned bus, or NULL if the ZeroMQ context cannot be created.
kt_bus_t *
    kt_bus_new (const kt_cfg_t *cfg, kt_clock_t *clock, const char *src, uint32_t seq_epoch);

//  Close every socket and the context. Safe on NULL; sets *self_p to NULL.
void
    kt_bus_destroy (kt_bus_t **self_p);

//  Last error text. Borrowed.
const char *
    kt_bus_errstr (const kt_bus_t *self);

//  Bind a socket of zmq type (ZMQ_PUB, ZMQ_ROUTER, ZMQ_PULL) on the endpoint named
//  name in config ("md", "risk", ...). Returns the socket (owned by the bus) or NULL.
void *
    kt_bus_bind (kt_bus_t *self, const char *name, int type);

//  Connect a socket of zmq type (ZMQ_SUB, ZMQ_DEALER, ZMQ_REQ, ZMQ_PUSH) to the endpoint
//  named name. A SUB starts with no subscription. Returns the socket or NULL.
void *
    kt_bus_connect (kt_bus_t *self, const char *name, int type);

//  Subscribe a SUB socket to a topic prefix ("" = everything). Returns 0 or -1.
int
    kt_bus_subscribe (kt_bus_t *self, void *sub, const char *prefix);

//  Close one socket made by this bus (e.g. to rebuild a client socket).
void
    kt_bus_close (kt_bus_t *self, void *sock);

//  Fill msg->env (v, seq, ts from the clock, src) and send topic + body on sock without
//  blocking. Returns 0, or -1 if the message could not be queued (HWM reached, or an
//  invalid message; errstr says which).
int
    kt_bus_publish (kt_bus_t *self, void *sock, const char *topic, struct kt_msg *msg);

//  Receive one topic + body from sock without blocking and decode it into *out. Checks
//  the sequence of subscribed messages. Returns 0 on success, 1 if nothing was waiting,
//  -1 if a message was consumed but rejected (reason in why; the caller logs msg.reject).
int
    kt_bus_recv (kt_bus_t *self, void *sock, char *topic, size_t topiclen, struct kt_msg *out,
                 char *why, size_t whylen);

//  Receive one request on a ROUTER socket: routing frames into *peer, then as kt_bus_recv.
int
    kt_bus_recv_req (kt_bus_t *self, void *router, kt_bus_peer_t *peer, char *topic,
                     size_t topiclen, struct kt_msg *out, char *why, size_t whylen);

//  Send a reply to peer on a ROUTER socket (envelope filled as for publish). 0 or -1.
int
    kt_bus_reply (kt_bus_t *self, void *router, const kt_bus_peer_t *peer, const char *topic,
                  struct kt_msg *msg);

//  Counters: sequence gaps (messages missed), publisher restarts seen, messages rejected
//  by the decoder, publishes dropped at the HWM.
int64_t kt_bus_gaps (const kt_bus_t *self);
int64_t kt_bus_restarts (const kt_bus_t *self);
int64_t kt_bus_rejects (const kt_bus_t *self);
int64_t kt_bus_drops (const kt_bus_t *self);

// ---- lazy-pirate request client ----------------------------------------------------

//  Called once per request: with the reply, or with reply == NULL when every retry
//  timed out. Arguments are borrowed for the duration of the call.
typedef void (kt_bus_reply_fn) (kt_bus_client_t *client, const char *req_id,
                                const struct kt_msg *reply, void *arg);

//  A DEALER client of endpoint name, driven by loop: each request is resent with the
//  same bytes (same idempotency key) after timeout_ms on a fresh socket, at most
//  retries times, then given up (fn with NULL). Replies are matched to requests by the
//  reply's key: RISK_DECISION.intent_id or EXEC_EVENT.coid. Returns an owned client.
kt_bus_client_t *
    kt_bus_client_new (kt_bus_t *bus, kt_loop_t *loop, const char *name, int timeout_ms,
                       int retries, kt_bus_reply_fn *fn, void *arg);

//  Free (closes its socket; pending requests are dropped without callback).
void
    kt_bus_client_destroy (kt_bus_client_t **self_p);

//  Send a request keyed req_id (<= KT_ID_WIRE_MAX chars). Returns 0, or -1 if too many
//  requests are in flight or the message is invalid.
int
    kt_bus_client_send (kt_bus_client_t *self, const char *req_id, const char *topic,
                        struct kt_msg *msg);

//  Blocking convenience for tools and tests: send and wait for the matching reply with
//  the same timeout/retry policy, without running the loop. Returns 0 with *reply
//  filled, or -1 after the last retry.
int
    kt_bus_client_call (kt_bus_client_t *self, const char *req_id, const char *topic,
                        struct kt_msg *msg, struct kt_msg *reply);

//  Requests currently in flight.
int
    kt_bus_client_pending (const kt_bus_client_t *self);

#endif
