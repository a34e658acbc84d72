/*  md_packet_fuzz - libFuzzer target for the ticker frame decoder (md_packet) and the
 *  client-compatible JSON writer (md_json).
 *
 *  Any bytes as a frame: the decoder returns ticks, heartbeat or malformed, never
 *  crashes or reads outside the input (ASan). A malformed frame hands out no packet;
 *  a good one hands out exactly res.packets, each of a known kind whose JSON fits
 *  MD_JSON_TICK_MAX. Any bytes as one bare packet: decoded only at a known length.
 *  The decoder's sources are compiled in, since `make fuzz` links common/ only. */

#include <stdlib.h>
#include <string.h>

#include "../../md-gateway/md_packet.c"
#include "../../md-gateway/md_json.c"

struct s_count {
    unsigned n;
};

static void
s_on_pkt (const struct md_pkt *pkt, void *arg)
{
    struct s_count *c = arg;
    c->n++;
    if (pkt->kind == MD_PKT_NONE)
        abort ();
    char json[MD_JSON_TICK_MAX];
    if (md_json_tick (pkt, json, sizeof json) <= 0)
        abort ();
    struct kt_tick t;
    md_packet_tick (pkt, 1, &t);
    if (t.token != pkt->token)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  A private copy so an over-read hits the heap redzone, not the fuzzer's buffer.
    uint8_t *buf = malloc (size ? size : 1);
    if (!buf)
        abort ();
    memcpy (buf, data, size);
    struct s_count c = {0};
    struct md_frame_res res;
    md_frame_kind_t k = md_frame_decode (buf, size, s_on_pkt, &c, &res);
    if (k != res.kind)
        abort ();
    if (k == MD_FRAME_MALFORMED && (c.n != 0 || res.why[0] == '\0'))
        abort ();
    if (k == MD_FRAME_TICKS && c.n != res.packets)
        abort ();
    if (k == MD_FRAME_HEARTBEAT && size != 1)
        abort ();
    struct md_pkt pkt;
    if (md_packet_decode (buf, size, &pkt) == 0) {
        char json[MD_JSON_TICK_MAX];
        if (md_json_tick (&pkt, json, sizeof json) <= 0)
            abort ();
    }
    char hex[65];
    md_packet_hex (buf, size, 32, hex, sizeof hex);
    free (buf);
    return 0;
}
