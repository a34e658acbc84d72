/*  kt_bus - ZeroMQ sockets by config name, topic + body framing, sequence numbers with
 *  gap and restart detection, ROUTER request/reply, and the lazy-pirate client.
 *
 *  Used by every process. Invariants: every socket made here has linger and both HWMs
 *  from config; a send never blocks (ZMQ_DONTWAIT); a received message that cannot be
 *  used is consumed whole (all its frames), counted as a reject and reported with a
 *  reason, never fatal.
 *
 *  Design overview: all tables are fixed arrays inside the bus (sockets, per-family
 *  publish counters, per-(src, family) receive state), and one msgpack_sbuffer and one
 *  decoder are reused for every message, so publish and receive do not allocate once
 *  warm (libzmq may, inside zmq_send, for bodies over 33 bytes). Received frames are
 *  decoded in place from the zmq_msg_t, never copied. The lazy-pirate client keeps
 *  each request's encoded bytes in a slot of a fixed table; a timeout throws the
 *  DEALER socket away (zguide: a socket in an unknown state is not reused), makes a
 *  new one and replays every pending request byte for byte, so the server sees the
 *  same idempotency key and answers it with its first answer. */

#include "kt_bus.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_SOCKS_MAX 32
#define S_SUBS_MAX 8
#define S_FAMILY_LEN 16 //  family names are at most 15 chars
#define S_FAMILIES_MAX 32
#define S_PEERS_MAX 64
#define S_FRAMES_MAX 8
#define S_REQS_MAX 256

struct s_sock {
    void *sock; //  owned (ZeroMQ socket)
    int type;
    bool sub_all; //  SUB subscribed to "" (every family whole)
    int nsubs;
    char subs[S_SUBS_MAX][S_FAMILY_LEN + 1]; //  prefixes that take whole families
};

struct s_family {
    const void *chan; //  the socket (or request client) it counts for
    char name[S_FAMILY_LEN];
    uint32_t n; //  last n published in this family on chan
};

struct s_peer {
    const void *sock; //  the SUB socket; each keeps its own view
    char src[KT_SRC_LEN];
    char family[S_FAMILY_LEN];
    uint32_t epoch;
    uint32_t n;
    uint64_t used; //  LRU stamp
};

struct kt_bus {
    void *ctx;           //  owned ZeroMQ context
    const kt_cfg_t *cfg; //  borrowed
    kt_clock_t *clock;   //  borrowed; NULL = real time
    char src[KT_SRC_LEN];
    uint32_t epoch;
    struct s_sock socks[S_SOCKS_MAX];
    int nsocks;
    struct s_family fams[S_FAMILIES_MAX];
    int nfams;
    struct s_peer peers[S_PEERS_MAX];
    int npeers;
    uint64_t peer_stamp;
    msgpack_sbuffer sb;    //  owned buffer, reused by every send
    kt_msg_decoder_t *dec; //  owned
    int64_t gaps, restarts, rejects, drops;
    kt_bus_seq_t last_seq;
    char errstr[128];
};

static void s_err (kt_bus_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_err (kt_bus_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->errstr, sizeof self->errstr, fmt, ap);
    va_end (ap);
}

static int s_why (char *why, size_t whylen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_why (char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (why, whylen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

// ---- life cycle ----------------------------------------------------------------------

kt_bus_t *
kt_bus_new (const kt_cfg_t *cfg, kt_clock_t *clock, const char *src, uint32_t seq_epoch)
{
    if (!cfg || !src || !*src || strlen (src) >= KT_SRC_LEN || seq_epoch == 0)
        return NULL;
    kt_bus_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->ctx = zmq_ctx_new ();
    if (!self->ctx) {
        free (self);
        return NULL;
    }
    self->cfg = cfg;
    self->clock = clock;
    snprintf (self->src, sizeof self->src, "%s", src);
    self->epoch = seq_epoch;
    msgpack_sbuffer_init (&self->sb);
    self->dec = kt_msg_decoder_new ();
    return self;
}

void
kt_bus_destroy (kt_bus_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_bus_t *self = *self_p;
    for (int i = 0; i < self->nsocks; i++)
        zmq_close (self->socks[i].sock);
    zmq_ctx_term (self->ctx);
    msgpack_sbuffer_destroy (&self->sb);
    kt_msg_decoder_destroy (&self->dec);
    free (self);
    *self_p = NULL;
}

const char *
kt_bus_errstr (const kt_bus_t *self)
{
    return self->errstr;
}

// ---- sockets -------------------------------------------------------------------------

static struct s_sock *
s_sock_find (kt_bus_t *self, void *sock)
{
    for (int i = 0; i < self->nsocks; i++)
        if (self->socks[i].sock == sock)
            return &self->socks[i];
    return NULL;
}

//  A socket with the config's linger and HWMs, recorded in the table. NULL on error.
static struct s_sock *
s_sock_new (kt_bus_t *self, const char *name, int type, const char **endpoint)
{
    *endpoint = kt_cfg_endpoint (self->cfg, name);
    if (!*endpoint || !**endpoint) {
        s_err (self, "no endpoint named '%s'", name ? name : "(null)");
        return NULL;
    }
    if (self->nsocks == S_SOCKS_MAX) {
        s_err (self, "too many sockets (%d)", S_SOCKS_MAX);
        return NULL;
    }
    void *sock = zmq_socket (self->ctx, type);
    if (!sock) {
        s_err (self, "%s: zmq_socket: %s", name, zmq_strerror (errno));
        return NULL;
    }
    int linger = (int) self->cfg->linger_ms;
    int sndhwm = (int) self->cfg->sndhwm;
    int rcvhwm = (int) self->cfg->rcvhwm;
    int one = 1;
    if (zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt (sock, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) != 0 ||
        zmq_setsockopt (sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) != 0
        //  A reply to a vanished peer must be an error, not a silent drop.
        || (type == ZMQ_ROUTER &&
            zmq_setsockopt (sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0)) {
        s_err (self, "%s: socket options: %s", name, zmq_strerror (errno));
        zmq_close (sock);
        return NULL;
    }
    struct s_sock *s = &self->socks[self->nsocks++];
    memset (s, 0, sizeof *s);
    s->sock = sock;
    s->type = type;
    return s;
}

static void
s_sock_drop (kt_bus_t *self, struct s_sock *s)
{
    //  A later socket may get the same address: it must not inherit this one's view.
    for (int i = 0; i < self->npeers;)
        if (self->peers[i].sock == s->sock)
            self->peers[i] = self->peers[--self->npeers];
        else
            i++;
    zmq_close (s->sock);
    *s = self->socks[--self->nsocks];
}

//  An endpoint value may list several addresses separated by commas: bind or connect
//  each, so a subscriber can follow several publishers of one name (docs/decisions.md).
static int
s_attach (kt_bus_t *self, struct s_sock *s, const char *name, const char *list, bool bind)
{
    const char *p = list;
    for (;;) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen (p);
        char ep[256];
        if (len == 0 || len >= sizeof ep) {
            s_err (self, "%s: bad endpoint list '%s'", name, list);
            return -1;
        }
        memcpy (ep, p, len);
        ep[len] = 0;
        if ((bind ? zmq_bind (s->sock, ep) : zmq_connect (s->sock, ep)) != 0) {
            s_err (self, "%s: %s %s: %s", name, bind ? "bind" : "connect", ep,
                   zmq_strerror (errno));
            return -1;
        }
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

void *
kt_bus_bind (kt_bus_t *self, const char *name, int type)
{
    const char *ep;
    struct s_sock *s = s_sock_new (self, name, type, &ep);
    if (!s)
        return NULL;
    if (s_attach (self, s, name, ep, true) != 0) {
        s_sock_drop (self, s);
        return NULL;
    }
    return s->sock;
}

void *
kt_bus_connect (kt_bus_t *self, const char *name, int type)
{
    const char *ep;
    struct s_sock *s = s_sock_new (self, name, type, &ep);
    if (!s)
        return NULL;
    if (s_attach (self, s, name, ep, false) != 0) {
        s_sock_drop (self, s);
        return NULL;
    }
    return s->sock;
}

int
kt_bus_subscribe (kt_bus_t *self, void *sub, const char *prefix)
{
    struct s_sock *s = s_sock_find (self, sub);
    if (!s || s->type != ZMQ_SUB || !prefix) {
        s_err (self, "subscribe: not a SUB socket of this bus");
        return -1;
    }
    size_t len = strlen (prefix);
    if (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, prefix, len) != 0) {
        s_err (self, "subscribe: %s", zmq_strerror (errno));
        return -1;
    }
    //  Gaps are only meaningful when the socket takes a whole family: a prefix with no
    //  '.' before its last character ("", "md", "md."). A narrower one ("md.tick.X")
    //  skips the others' numbers by design.
    const char *dot = memchr (prefix, '.', len);
    if (len == 0)
        s->sub_all = true;
    else if ((!dot || dot == prefix + len - 1) && len <= S_FAMILY_LEN && s->nsubs < S_SUBS_MAX)
        memcpy (s->subs[s->nsubs++], prefix, len + 1);
    return 0;
}

void
kt_bus_close (kt_bus_t *self, void *sock)
{
    struct s_sock *s = s_sock_find (self, sock);
    if (s)
        s_sock_drop (self, s);
}

// ---- sequence numbers ----------------------------------------------------------------

//  The family of a topic is its text before the first '.'.
static size_t
s_family_len (const char *topic, size_t tlen)
{
    const char *dot = memchr (topic, '.', tlen);
    return dot ? (size_t) (dot - topic) : tlen;
}

static struct s_family *
s_family_get (kt_bus_t *self, const void *chan, const char *topic, size_t tlen)
{
    size_t flen = s_family_len (topic, tlen);
    if (flen == 0 || flen >= S_FAMILY_LEN) {
        s_err (self, "topic '%s': family must be 1..%d chars", topic, S_FAMILY_LEN - 1);
        return NULL;
    }
    //  Counted per socket: a reply on the ROUTER must not look like a message lost to the
    //  PUB socket's subscribers of the same family.
    for (int i = 0; i < self->nfams; i++)
        if (self->fams[i].chan == chan && strlen (self->fams[i].name) == flen &&
            memcmp (self->fams[i].name, topic, flen) == 0)
            return &self->fams[i];
    if (self->nfams == S_FAMILIES_MAX) {
        s_err (self, "too many topic families (%d)", S_FAMILIES_MAX);
        return NULL;
    }
    struct s_family *f = &self->fams[self->nfams++];
    f->chan = chan;
    memcpy (f->name, topic, flen);
    f->name[flen] = 0;
    f->n = 0;
    return f;
}

static bool
s_covers_family (const struct s_sock *s, const char *fam, size_t flen)
{
    if (s->sub_all)
        return true;
    for (int i = 0; i < s->nsubs; i++) {
        size_t plen = strlen (s->subs[i]);
        //  prefix p covers family f when p is a prefix of "f."
        if (plen <= flen + 1 && memcmp (s->subs[i], fam, plen < flen ? plen : flen) == 0 &&
            (plen <= flen || s->subs[i][flen] == '.'))
            return true;
    }
    return false;
}

static kt_bus_seq_t
s_seq_check (kt_bus_t *self, const void *sock, const char *src, const char *fam, size_t flen,
             uint64_t seq, bool whole_family)
{
    if (flen >= S_FAMILY_LEN)
        flen = S_FAMILY_LEN - 1;
    uint32_t epoch = (uint32_t) (seq >> 32);
    uint32_t n = (uint32_t) seq;
    struct s_peer *p = NULL;
    for (int i = 0; i < self->npeers; i++)
        if (self->peers[i].sock == sock && strcmp (self->peers[i].src, src) == 0 &&
            strlen (self->peers[i].family) == flen &&
            memcmp (self->peers[i].family, fam, flen) == 0) {
            p = &self->peers[i];
            break;
        }
    kt_bus_seq_t rc;
    if (!p) {
        if (self->npeers < S_PEERS_MAX)
            p = &self->peers[self->npeers++];
        else {
            p = &self->peers[0];
            for (int i = 1; i < S_PEERS_MAX; i++)
                if (self->peers[i].used < p->used)
                    p = &self->peers[i];
        }
        p->sock = sock;
        snprintf (p->src, sizeof p->src, "%s", src);
        memcpy (p->family, fam, flen);
        p->family[flen] = 0;
        rc = KT_SEQ_FIRST;
    } else if (epoch != p->epoch || n <= p->n) {
        //  A new epoch, or numbers going back (a publisher that lost its epoch): either
        //  way the publisher restarted and the subscriber must resynchronise.
        self->restarts++;
        rc = KT_SEQ_RESTART;
    } else if (n != p->n + 1 && whole_family) {
        self->gaps += (int64_t) (n - p->n - 1);
        rc = KT_SEQ_GAP;
    } else
        rc = KT_SEQ_OK;
    p->epoch = epoch;
    p->n = n;
    p->used = ++self->peer_stamp;
    return rc;
}

// ---- sending -------------------------------------------------------------------------

//  Fill the envelope and encode msg into self->sb. *fam_p gets the family whose counter
//  was advanced (so a failed send can give the number back). 0 or -1.
static int
s_encode (kt_bus_t *self, const void *chan, const char *topic, struct kt_msg *msg,
          struct s_family **fam_p)
{
    size_t tlen = topic ? strlen (topic) : 0;
    if (tlen == 0 || tlen >= KT_TOPIC_LEN) {
        s_err (self, "topic must be 1..%d chars", KT_TOPIC_LEN - 1);
        return -1;
    }
    struct s_family *fam = s_family_get (self, chan, topic, tlen);
    if (!fam)
        return -1;
    if (fam->n == UINT32_MAX) {
        s_err (self, "family '%s': sequence exhausted for epoch %u", fam->name, self->epoch);
        return -1;
    }
    msg->env.v = KT_MSG_VERSION;
    msg->env.seq = ((uint64_t) self->epoch << 32) | (fam->n + 1);
    msg->env.ts_ns = kt_clock_now_ns (self->clock);
    memcpy (msg->env.src, self->src, sizeof msg->env.src);
    self->sb.size = 0;
    if (kt_msg_encode (msg, &self->sb) != 0) {
        char why[96];
        kt_msg_check (msg, why, sizeof why);
        s_err (self, "invalid %s: %s", kt_msg_type_str (msg->env.type), why);
        return -1;
    }
    fam->n++;
    *fam_p = fam;
    return 0;
}

//  Send one frame without blocking. On failure sets errstr; a full queue is a drop.
static int
s_send_frame (kt_bus_t *self, void *sock, const void *data, size_t len, bool more)
{
    if (zmq_send (sock, data, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) >= 0)
        return 0;
    if (errno == EAGAIN) {
        self->drops++;
        s_err (self, "send queue full (HWM)");
    } else if (errno == EHOSTUNREACH)
        s_err (self, "peer is gone");
    else
        s_err (self, "send: %s", zmq_strerror (errno));
    return -1;
}

//  Frames: [routing..., ""] (peer != NULL), topic, body. ZeroMQ queues a multipart
//  message whole or not at all, so only the first frame can hit the HWM.
static int
s_send (kt_bus_t *self, void *sock, const kt_bus_peer_t *peer, const char *topic,
        struct kt_msg *msg)
{
    struct s_family *fam;
    if (s_encode (self, sock, topic, msg, &fam) != 0)
        return -1;
    if (peer) {
        size_t i = 0;
        if (peer->len == 0 || peer->len > KT_PEER_MAX)
            goto out_bad_peer;
        while (i < peer->len) {
            size_t n = peer->id[i++];
            if (n == 0 || n > peer->len - i)
                goto out_bad_peer;
            if (s_send_frame (self, sock, peer->id + i, n, true) != 0)
                goto out_unsent;
            i += n;
        }
    }
    if (peer && peer->delimiter && s_send_frame (self, sock, "", 0, true) != 0)
        goto out_unsent;
    if (s_send_frame (self, sock, topic, strlen (topic), true) != 0 ||
        s_send_frame (self, sock, self->sb.data, self->sb.size, false) != 0)
        goto out_unsent;
    return 0;

out_bad_peer:
    s_err (self, "malformed peer routing frames");
out_unsent:
    fam->n--; //  nobody saw the number: no false gap downstream
    return -1;
}

int
kt_bus_publish (kt_bus_t *self, void *sock, const char *topic, struct kt_msg *msg)
{
    return s_send (self, sock, NULL, topic, msg);
}

int
kt_bus_reply (kt_bus_t *self, void *router, const kt_bus_peer_t *peer, const char *topic,
              struct kt_msg *msg)
{
    if (!peer) {
        s_err (self, "reply without a peer");
        return -1;
    }
    return s_send (self, router, peer, topic, msg);
}

// ---- receiving -----------------------------------------------------------------------

//  Receive every frame of one message (at most S_FRAMES_MAX kept, the rest drained).
//  Returns 0 (frames[0..*n) initialised; caller closes), 1 nothing waiting, 2 consumed
//  but too many frames, -1 socket error (nothing consumed).
static int
s_recv_frames (kt_bus_t *self, void *sock, zmq_msg_t *frames, int *n)
{
    *n = 0;
    zmq_msg_init (&frames[0]);
    if (zmq_msg_recv (&frames[0], sock, ZMQ_DONTWAIT) == -1) {
        int e = errno;
        zmq_msg_close (&frames[0]);
        if (e == EAGAIN)
            return 1;
        s_err (self, "recv: %s", zmq_strerror (e));
        return -1;
    }
    *n = 1;
    bool more = zmq_msg_more (&frames[0]);
    bool too_many = false;
    while (more) {
        if (*n == S_FRAMES_MAX) {
            zmq_msg_t scratch; //  drain the excess so the next message starts clean
            zmq_msg_init (&scratch);
            int rc = zmq_msg_recv (&scratch, sock, ZMQ_DONTWAIT);
            more = rc != -1 && zmq_msg_more (&scratch);
            zmq_msg_close (&scratch);
            too_many = true;
            continue;
        }
        zmq_msg_t *f = &frames[*n];
        zmq_msg_init (f);
        if (zmq_msg_recv (f, sock, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close (f);
            break; //  cannot happen: the parts of a message arrive together
        }
        (*n)++;
        more = zmq_msg_more (f);
    }
    if (too_many) {
        for (int i = 0; i < *n; i++)
            zmq_msg_close (&frames[i]);
        *n = 0;
        return 2;
    }
    return 0;
}

static void
s_close_frames (zmq_msg_t *frames, int n)
{
    for (int i = 0; i < n; i++)
        zmq_msg_close (&frames[i]);
}

//  Check the topic frame and decode the body frame. seq_sock: the SUB socket whose
//  subscriptions decide gap counting, or NULL for no sequence check.
static int
s_accept (kt_bus_t *self, const struct s_sock *seq_sock, zmq_msg_t *tf, zmq_msg_t *bf, char *topic,
          size_t topiclen, struct kt_msg *out, char *why, size_t whylen)
{
    size_t tlen = zmq_msg_size (tf);
    const char *t = zmq_msg_data (tf);
    if (tlen == 0 || tlen >= KT_TOPIC_LEN || memchr (t, 0, tlen)) {
        memset (out, 0, sizeof *out);
        return s_why (why, whylen, "bad topic frame (%zu bytes)", tlen);
    }
    if (topic && topiclen) {
        size_t n = tlen < topiclen - 1 ? tlen : topiclen - 1;
        memcpy (topic, t, n);
        topic[n] = 0;
    }
    if (kt_msg_decode (self->dec, zmq_msg_data (bf), zmq_msg_size (bf), out, why, whylen) != 0)
        return -1;
    if (seq_sock) {
        size_t flen = s_family_len (t, tlen);
        self->last_seq = s_seq_check (self, seq_sock->sock, out->env.src, t, flen, out->env.seq,
                                      s_covers_family (seq_sock, t, flen));
    }
    return 0;
}

int
kt_bus_recv (kt_bus_t *self, void *sock, char *topic, size_t topiclen, struct kt_msg *out,
             char *why, size_t whylen)
{
    zmq_msg_t frames[S_FRAMES_MAX];
    int n;
    self->last_seq = KT_SEQ_NONE;
    int rc = s_recv_frames (self, sock, frames, &n);
    if (rc == 1)
        return 1;
    if (rc == -1) {
        memset (out, 0, sizeof *out);
        return s_why (why, whylen, "%s", self->errstr);
    }
    if (rc == 2 || n != 2) {
        s_close_frames (frames, n);
        memset (out, 0, sizeof *out);
        self->rejects++;
        return s_why (why, whylen, "expected 2 frames (topic, body), got %s",
                      rc == 2  ? "more than 8"
                      : n == 1 ? "1"
                               : "more");
    }
    const struct s_sock *s = s_sock_find (self, sock);
    rc = s_accept (self, s && s->type == ZMQ_SUB ? s : NULL, &frames[0], &frames[1], topic,
                   topiclen, out, why, whylen);
    s_close_frames (frames, n);
    if (rc != 0)
        self->rejects++;
    return rc;
}

int
kt_bus_recv_req (kt_bus_t *self, void *router, kt_bus_peer_t *peer, char *topic, size_t topiclen,
                 struct kt_msg *out, char *why, size_t whylen)
{
    zmq_msg_t frames[S_FRAMES_MAX];
    int n;
    self->last_seq = KT_SEQ_NONE;
    memset (peer, 0, sizeof *peer);
    int rc = s_recv_frames (self, router, frames, &n);
    if (rc == 1)
        return 1;
    memset (out, 0, sizeof *out);
    if (rc == -1)
        return s_why (why, whylen, "%s", self->errstr);
    if (rc == 2 || n < 3) {
        s_close_frames (frames, n);
        self->rejects++;
        return s_why (why, whylen, "expected routing, topic, body frames, got %s",
                      rc == 2  ? "more than 8"
                      : n == 1 ? "1"
                               : "2");
    }
    //  [routing...] [""] topic body: the topic is never empty, so an empty frame just
    //  before it can only be the REQ-style delimiter.
    int nroute = n - 2;
    if (zmq_msg_size (&frames[nroute - 1]) == 0) {
        peer->delimiter = true;
        nroute--;
    }
    size_t len = 0;
    for (int i = 0; i < nroute; i++) {
        size_t fl = zmq_msg_size (&frames[i]);
        if (fl == 0 || fl > 255 || len + 1 + fl > KT_PEER_MAX) {
            s_close_frames (frames, n);
            memset (peer, 0, sizeof *peer);
            self->rejects++;
            return s_why (why, whylen, "bad routing frames");
        }
        peer->id[len++] = (unsigned char) fl;
        memcpy (peer->id + len, zmq_msg_data (&frames[i]), fl);
        len += fl;
    }
    peer->len = len;
    if (nroute == 0) {
        s_close_frames (frames, n);
        memset (peer, 0, sizeof *peer);
        self->rejects++;
        return s_why (why, whylen, "bad routing frames");
    }
    rc = s_accept (self, NULL, &frames[n - 2], &frames[n - 1], topic, topiclen, out, why, whylen);
    s_close_frames (frames, n);
    if (rc != 0)
        self->rejects++;
    return rc;
}

int64_t
kt_bus_gaps (const kt_bus_t *self)
{
    return self->gaps;
}

int64_t
kt_bus_restarts (const kt_bus_t *self)
{
    return self->restarts;
}

int64_t
kt_bus_rejects (const kt_bus_t *self)
{
    return self->rejects;
}

int64_t
kt_bus_drops (const kt_bus_t *self)
{
    return self->drops;
}

kt_bus_seq_t
kt_bus_last_seq (const kt_bus_t *self)
{
    return self->last_seq;
}

// ---- lazy-pirate client --------------------------------------------------------------

struct s_req {
    bool used;
    char id[KT_ID_LEN];
    char topic[KT_TOPIC_LEN];
    int retried;         //  resends after a timeout so far
    int64_t deadline_ns; //  wall monotonic
    unsigned char *body; //  owned; kept across uses of the slot
    size_t len, cap;
};

struct kt_bus_client {
    kt_bus_t *bus;   //  borrowed
    kt_loop_t *loop; //  borrowed
    char name[32];
    void *sock; //  owned by bus; NULL between a failed rebuild and the next
    int64_t timeout_ns;
    int retries;
    kt_bus_reply_fn *fn;
    void *arg; //  borrowed
    int timer_id;
    int pending;
    int64_t dropped;
    int64_t resends;
    struct s_req reqs[S_REQS_MAX];
};

static int s_client_on_readable (kt_loop_t *loop, void *sock, void *arg);

static int
s_client_open (kt_bus_client_t *self)
{
    self->sock = kt_bus_connect (self->bus, self->name, ZMQ_DEALER);
    if (!self->sock)
        return -1;
    if (self->loop)
        kt_loop_sock (self->loop, self->sock, s_client_on_readable, self);
    return 0;
}

static void
s_client_shut (kt_bus_client_t *self)
{
    if (!self->sock)
        return;
    if (self->loop)
        kt_loop_sock_end (self->loop, self->sock);
    //  Whatever is still queued on a discarded socket is replayed on the next one.
    int zero = 0;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &zero, sizeof zero);
    kt_bus_close (self->bus, self->sock);
    self->sock = NULL;
}

//  [""] topic body, as a REQ socket would frame it, so the server sees one shape.
static void
s_client_transmit (kt_bus_client_t *self, struct s_req *r)
{
    if (!self->sock)
        return; //  the next timeout retries the rebuild
    if (zmq_send (self->sock, "", 0, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0)
        return; //  queue full: the timeout resends
    zmq_send (self->sock, r->topic, strlen (r->topic), ZMQ_DONTWAIT | ZMQ_SNDMORE);
    zmq_send (self->sock, r->body, r->len, ZMQ_DONTWAIT);
}

static struct s_req *
s_client_find (kt_bus_client_t *self, const char *id, size_t idlen)
{
    if (self->pending == 0)
        return NULL;
    for (int i = 0; i < S_REQS_MAX; i++) {
        struct s_req *r = &self->reqs[i];
        if (r->used && strlen (r->id) == idlen && memcmp (r->id, id, idlen) == 0)
            return r;
    }
    return NULL;
}

static void
s_client_release (kt_bus_client_t *self, struct s_req *r)
{
    r->used = false;
    self->pending--;
}

//  Time out overdue requests: give up on those out of retries, then (if anything
//  timed out) rebuild the socket and replay every pending request.
static void
s_client_check (kt_bus_client_t *self)
{
    if (self->pending == 0 && self->sock)
        return;
    int64_t now = kt_clock_wall_mono_ns ();
    bool expired = false;
    char give[S_REQS_MAX][KT_ID_LEN];
    int ngive = 0;
    for (int i = 0; i < S_REQS_MAX; i++) {
        struct s_req *r = &self->reqs[i];
        if (!r->used || r->deadline_ns > now)
            continue;
        expired = true;
        if (r->retried >= self->retries) {
            memcpy (give[ngive++], r->id, KT_ID_LEN);
            s_client_release (self, r);
        } else
            r->retried++;
    }
    //  A timeout rebuilds the socket and replays everything pending with fresh
    //  deadlines. A socket that could not be rebuilt last time is retried here too, but
    //  without touching deadlines, so requests still run out of tries.
    if (expired || !self->sock) {
        s_client_shut (self);
        s_client_open (self);
        for (int i = 0; i < S_REQS_MAX; i++) {
            struct s_req *r = &self->reqs[i];
            if (!r->used)
                continue;
            s_client_transmit (self, r);
            if (expired) {
                r->deadline_ns = now + self->timeout_ns;
                self->resends++;
            }
        }
    }
    //  Callbacks last: they may send new requests on the new socket.
    for (int i = 0; i < ngive; i++)
        if (self->fn)
            self->fn (self, give[i], NULL, self->arg);
}

//  Read every waiting reply and hand each to its request.
static void
s_client_drain (kt_bus_client_t *self)
{
    kt_bus_t *bus = self->bus;
    for (int budget = 0; self->sock && budget < 1000; budget++) {
        zmq_msg_t frames[S_FRAMES_MAX];
        int n;
        int rc = s_recv_frames (bus, self->sock, frames, &n);
        if (rc == 1 || rc == -1)
            return;
        struct kt_msg reply;
        char why[128];
        int first = n == 3 && zmq_msg_size (&frames[0]) == 0 ? 1 : 0;
        if (rc == 2 || n - first != 2) {
            s_close_frames (frames, n);
            bus->rejects++;
            continue;
        }
        rc = s_accept (bus, NULL, &frames[first], &frames[first + 1], NULL, 0, &reply, why,
                       sizeof why);
        s_close_frames (frames, n);
        if (rc != 0) {
            bus->rejects++;
            continue;
        }
        const char *key = reply.env.type == KT_MSG_RISK_DECISION ? reply.u.decision.intent_id
                          : reply.env.type == KT_MSG_EXEC_EVENT  ? reply.u.exec.coid
                                                                 : NULL;
        struct s_req *r = key ? s_client_find (self, key, strlen (key)) : NULL;
        if (!r) {
            self->dropped++; //  a late or duplicate answer to a finished request
            continue;
        }
        char id[KT_ID_LEN];
        memcpy (id, r->id, sizeof id);
        s_client_release (self, r);
        if (self->fn)
            self->fn (self, id, &reply, self->arg);
    }
}

static int
s_client_on_readable (kt_loop_t *loop, void *sock, void *arg)
{
    (void) loop;
    (void) sock;
    s_client_drain ((kt_bus_client_t *) arg);
    return 0;
}

static int
s_client_on_timer (kt_loop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_client_check ((kt_bus_client_t *) arg);
    return 0;
}

kt_bus_client_t *
kt_bus_client_new (kt_bus_t *bus, kt_loop_t *loop, const char *name, int timeout_ms, int retries,
                   kt_bus_reply_fn *fn, void *arg)
{
    if (!bus || !loop || !name || strlen (name) >= sizeof ((kt_bus_client_t *) 0)->name)
        return NULL;
    kt_bus_client_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->bus = bus;
    self->loop = loop;
    snprintf (self->name, sizeof self->name, "%s", name);
    int64_t tmo = timeout_ms > 0 ? timeout_ms : bus->cfg->req_timeout_ms;
    if (tmo <= 0)
        tmo = 2500;
    self->timeout_ns = tmo * 1000000LL;
    self->retries = retries >= 0 ? retries : (int) bus->cfg->req_retries;
    if (self->retries < 0)
        self->retries = 0;
    self->fn = fn;
    self->arg = arg;
    if (s_client_open (self) != 0) {
        free (self);
        return NULL;
    }
    if (loop) {
        //  A tenth of the timeout: a reply is declared lost at most 10% late. Deadlines
        //  are wall time, and so is the check's period, whatever the clock's speed.
        int64_t every = tmo / 10;
        every = every < 1 ? 1 : every > 100 ? 100 : every;
        self->timer_id = kt_loop_timer_wall (loop, every, true, s_client_on_timer, self);
    }
    return self;
}

void
kt_bus_client_destroy (kt_bus_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_bus_client_t *self = *self_p;
    if (self->loop && self->timer_id > 0)
        kt_loop_timer_end (self->loop, self->timer_id);
    s_client_shut (self);
    for (int i = 0; i < S_REQS_MAX; i++)
        free (self->reqs[i].body);
    free (self);
    *self_p = NULL;
}

static struct s_req *
s_client_add (kt_bus_client_t *self, const char *req_id, const char *topic, struct kt_msg *msg)
{
    kt_bus_t *bus = self->bus;
    size_t idlen = req_id ? strlen (req_id) : 0;
    if (idlen == 0 || idlen > KT_ID_WIRE_MAX) {
        s_err (bus, "request id must be 1..%d chars", KT_ID_WIRE_MAX);
        return NULL;
    }
    const char *key = msg->env.type == KT_MSG_ORDER_INTENT    ? msg->u.intent.intent_id
                      : msg->env.type == KT_MSG_ORDER_COMMAND ? msg->u.cmd.coid
                                                              : req_id;
    if (strcmp (key, req_id) != 0) {
        s_err (bus, "request id '%s' differs from the message's key '%s'", req_id, key);
        return NULL;
    }
    if (s_client_find (self, req_id, idlen)) {
        s_err (bus, "request '%s' already in flight", req_id);
        return NULL;
    }
    struct s_req *r = NULL;
    for (int i = 0; i < S_REQS_MAX && !r; i++)
        if (!self->reqs[i].used)
            r = &self->reqs[i];
    if (!r) {
        s_err (bus, "too many requests in flight (%d)", S_REQS_MAX);
        return NULL;
    }
    struct s_family *fam;
    if (s_encode (bus, self, topic, msg, &fam) != 0)
        return NULL;
    if (r->cap < bus->sb.size) {
        unsigned char *b = realloc (r->body, bus->sb.size);
        if (!b)
            abort ();
        r->body = b;
        r->cap = bus->sb.size;
    }
    memcpy (r->body, bus->sb.data, bus->sb.size);
    r->len = bus->sb.size;
    memcpy (r->id, req_id, idlen + 1);
    snprintf (r->topic, sizeof r->topic, "%s", topic);
    r->used = true;
    r->retried = 0;
    r->deadline_ns = kt_clock_wall_mono_ns () + self->timeout_ns;
    self->pending++;
    s_client_transmit (self, r);
    return r;
}

int
kt_bus_client_send (kt_bus_client_t *self, const char *req_id, const char *topic,
                    struct kt_msg *msg)
{
    return s_client_add (self, req_id, topic, msg) ? 0 : -1;
}

int
kt_bus_client_pending (const kt_bus_client_t *self)
{
    return self->pending;
}

int64_t
kt_bus_client_dropped (const kt_bus_client_t *self)
{
    return self->dropped;
}

int64_t
kt_bus_client_resends (const kt_bus_client_t *self)
{
    return self->resends;
}
