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
 *  process takes it from Redis, INCR <prefix>seq:<proc>) and n counts per socket and topic
 *  family (the topic text before the first '.'): replies on a ROUTER do not advance the
 *  numbers a PUB socket's subscribers check. So seq never goes back while Redis lives,
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
#define KT_PEER_MAX 256

//  Routing frames of a ROUTER peer, copied out of a request so the reply can follow.
//  id holds each routing frame as one length byte followed by its bytes (more than one
//  frame when the request came through a proxy); len is the total. Treat as opaque.
typedef struct {
    size_t len;
    unsigned char id[KT_PEER_MAX];
    bool delimiter; //  request had an empty delimiter frame (REQ / our DEALER)
} kt_bus_peer_t;

//  What the sequence check said about the last message kt_bus_recv returned.
typedef enum {
    KT_SEQ_NONE = 0, //  not checked (not a SUB socket, or rejected)
    KT_SEQ_OK,       //  the next number from this publisher and family
    KT_SEQ_FIRST,    //  first message seen from this publisher and family
    KT_SEQ_GAP,      //  same epoch, numbers skipped (kt_bus_gaps grew)
    KT_SEQ_RESTART   //  new epoch or numbers going back (kt_bus_restarts grew)
} kt_bus_seq_t;

//  Create a bus for process src (1..15 chars) with sequence epoch seq_epoch (>= 1).
//  cfg and clock are borrowed and must outlive the bus (clock may be NULL: real time;
//  it stamps env.ts). Returns an owned bus, or NULL if an argument is invalid or the
//  ZeroMQ context cannot be created.
kt_bus_t *kt_bus_new (const kt_cfg_t *cfg, kt_clock_t *clock, const char *src, uint32_t seq_epoch);

//  Close every socket (each lingers at most cfg linger_ms) and the context. Destroy
//  the bus's clients first. Safe on NULL; sets *self_p to NULL.
void kt_bus_destroy (kt_bus_t **self_p);

//  Last error text. Borrowed.
const char *kt_bus_errstr (const kt_bus_t *self);

//  Bind a socket of zmq type (ZMQ_PUB, ZMQ_ROUTER, ZMQ_PULL) on the endpoint named
//  name in config ("md", "risk", ...). Returns the socket (owned by the bus) or NULL.
void *kt_bus_bind (kt_bus_t *self, const char *name, int type);

//  Connect a socket of zmq type (ZMQ_SUB, ZMQ_DEALER, ZMQ_REQ, ZMQ_PUSH) to the endpoint
//  named name. A SUB starts with no subscription. Returns the socket or NULL.
void *kt_bus_connect (kt_bus_t *self, const char *name, int type);

//  Subscribe a SUB socket to a topic prefix ("" = everything). Returns 0 or -1.
//  Gaps are counted only for families the socket takes whole ("", "md", "md."): with a
//  narrower prefix ("md.tick.NIFTY...") skipped numbers are other topics, not losses;
//  restarts are detected either way.
int kt_bus_subscribe (kt_bus_t *self, void *sub, const char *prefix);

//  Close one socket made by this bus (e.g. to rebuild a client socket).
void kt_bus_close (kt_bus_t *self, void *sock);

//  Fill msg->env (v, seq, ts from the clock, src) and send topic + body on sock without
//  blocking. topic is 1..KT_TOPIC_LEN-1 chars; its family (text before the first '.')
//  1..15 chars. Returns 0, or -1 if the message could not be queued (HWM reached: also
//  counted in kt_bus_drops; or an invalid message; errstr says which). A PUB socket
//  never reports the HWM: it drops silently per subscriber, which the subscriber's
//  gap count sees. A message that was not sent does not use up its sequence number.
int kt_bus_publish (kt_bus_t *self, void *sock, const char *topic, struct kt_msg *msg);

//  Receive one topic + body from sock without blocking and decode it into *out; topic
//  gets the topic (topiclen >= KT_TOPIC_LEN avoids truncation; topic may be NULL).
//  Checks the sequence of messages on SUB sockets (kt_bus_last_seq). Returns 0 on
//  success, 1 if nothing was waiting, -1 if a message was consumed but rejected (wrong
//  frame count, bad topic, body the decoder rejects: counted in kt_bus_rejects) or
//  the socket failed; the reason is in why and the caller logs msg.reject.
int kt_bus_recv (kt_bus_t *self, void *sock, char *topic, size_t topiclen, struct kt_msg *out,
                 char *why, size_t whylen);

//  Receive one request on a ROUTER socket: routing frames (and whether an empty
//  delimiter followed them) into *peer, then as kt_bus_recv. No sequence check.
int kt_bus_recv_req (kt_bus_t *self, void *router, kt_bus_peer_t *peer, char *topic,
                     size_t topiclen, struct kt_msg *out, char *why, size_t whylen);

//  Send a reply to peer on a ROUTER socket (envelope filled as for publish), with the
//  delimiter if the request had one. Returns 0, or -1 (errstr "peer is gone" when the
//  client disconnected, "send queue full (HWM)" when it does not read).
int kt_bus_reply (kt_bus_t *self, void *router, const kt_bus_peer_t *peer, const char *topic,
                  struct kt_msg *msg);

//  Counters: sequence gaps (messages missed), publisher restarts seen, messages rejected
//  by the decoder, publishes dropped at the HWM.
int64_t kt_bus_gaps (const kt_bus_t *self);
int64_t kt_bus_restarts (const kt_bus_t *self);
int64_t kt_bus_rejects (const kt_bus_t *self);
int64_t kt_bus_drops (const kt_bus_t *self);

//  Sequence verdict of the last message returned by kt_bus_recv (KT_SEQ_NONE after a
//  reject or on other socket types). A subscriber resynchronises from Redis on FIRST,
//  GAP and RESTART.
kt_bus_seq_t kt_bus_last_seq (const kt_bus_t *self);

// ---- lazy-pirate request client ----------------------------------------------------

//  Called once per request: with the reply, or with reply == NULL when every retry
//  timed out. Arguments are borrowed for the duration of the call.
typedef void (kt_bus_reply_fn) (kt_bus_client_t *client, const char *req_id,
                                const struct kt_msg *reply, void *arg);

//  A DEALER client of endpoint name, driven by loop: each request is resent with the
//  same bytes (same idempotency key) after timeout_ms on a fresh socket, at most
//  retries times, then given up (fn with NULL). A timeout of any request rebuilds the
//  socket and replays every pending one. Replies are matched to requests by the
//  reply's key: RISK_DECISION.intent_id or EXEC_EVENT.coid; any other reply, or one
//  for a request no longer pending, is dropped and counted. timeout_ms <= 0 takes cfg
//  req_timeout_ms, retries < 0 takes cfg req_retries. Timeouts are wall time (a sim
//  clock does not shorten them). fn may be NULL (replies are then only counted off).
//  bus, loop and arg are borrowed (a blocking call for tests: tests/support/kt_testbus). Requests
//  go out as ["", topic, body], like REQ. Returns an owned client, or NULL (bus errstr; also when
//  loop is NULL).
kt_bus_client_t *kt_bus_client_new (kt_bus_t *bus, kt_loop_t *loop, const char *name,
                                    int timeout_ms, int retries, kt_bus_reply_fn *fn, void *arg);

//  Free (closes its socket; pending requests are dropped without callback). Not from
//  inside the client's own callback. Safe on NULL; sets *self_p to NULL.
void kt_bus_client_destroy (kt_bus_client_t **self_p);

//  Send a request keyed req_id (<= KT_ID_WIRE_MAX chars; must equal intent_id of an
//  ORDER_INTENT or coid of an ORDER_COMMAND). The envelope is filled as for publish and
//  the encoded bytes are kept for resends. Returns 0, or -1 (bus errstr) if too many
//  requests are in flight, req_id is already pending, or the message is invalid.
int kt_bus_client_send (kt_bus_client_t *self, const char *req_id, const char *topic,
                        struct kt_msg *msg);

//  Requests currently in flight.
int kt_bus_client_pending (const kt_bus_client_t *self);

//  Replies dropped because no pending request had their key (late or duplicate).
int64_t kt_bus_client_dropped (const kt_bus_client_t *self);

//  Requests resent after a timeout (each replayed request counts once).
int64_t kt_bus_client_resends (const kt_bus_client_t *self);

#endif
