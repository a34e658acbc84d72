/*  kt_testbus - blocking call over the loop-driven client. See kt_testbus.h. */

#include "kt_testbus.h"
#include "kt_loop.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

struct s_wait {
    bool done;
    bool answered;
    struct kt_msg *reply;
};

static void
s_on_reply (kt_bus_client_t *client, const char *req_id, const struct kt_msg *reply, void *arg)
{
    (void) client;
    (void) req_id;
    struct s_wait *w = arg;
    w->done = true;
    w->answered = reply != NULL;
    if (reply)
        *w->reply = *reply;
}

int
kt_testbus_call (kt_bus_t *bus, const char *name, int timeout_ms, int retries, const char *req_id,
                 const char *topic, struct kt_msg *msg, struct kt_msg *reply, char *err,
                 size_t errlen)
{
    struct s_wait w = {.reply = reply};
    kt_loop_t *loop = kt_loop_new ();
    kt_bus_client_t *client =
        kt_bus_client_new (bus, loop, name, timeout_ms, retries, s_on_reply, &w);
    int rc = -1;
    if (!client)
        snprintf (err, errlen, "client: %s", kt_bus_errstr (bus));
    else if (kt_bus_client_send (client, req_id, topic, msg) != 0)
        snprintf (err, errlen, "%s", kt_bus_errstr (bus));
    else {
        //  The client's own timer gives up after its last retry: this loop ends.
        while (!w.done && !kt_loop_interrupted ())
            kt_loop_run_once (loop, 100);
        if (w.answered)
            rc = 0;
        else
            snprintf (err, errlen, "request '%s': no reply after %d tries", req_id,
                      (retries < 0 ? 0 : retries) + 1);
    }
    kt_bus_client_destroy (&client);
    kt_loop_destroy (&loop);
    return rc;
}

int
kt_testbus_send_crafted (void *pub, const char *topic, struct kt_msg *m, const char *src,
                         uint32_t epoch, uint32_t n)
{
    m->env.seq = ((uint64_t) epoch << 32) | n;
    m->env.ts_ns = 1;
    snprintf (m->env.src, sizeof m->env.src, "%s", src);
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    int rc = kt_msg_encode (m, &body) == 0 &&
                     zmq_send (pub, topic, strlen (topic), ZMQ_SNDMORE) >= 0 &&
                     zmq_send (pub, body.data, body.size, 0) >= 0
                 ? 0
                 : -1;
    msgpack_sbuffer_destroy (&body);
    return rc;
}
