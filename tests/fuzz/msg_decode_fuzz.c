/*  msg_decode_fuzz - libFuzzer target for kt_msg_decode: arbitrary bytes must never
 *  crash the decoder, and whatever it accepts must survive encode -> decode unchanged
 *  and re-encode to the same bytes (the codec's round-trip invariant, kt_msg.c).
 *
 *  Every accepted body must also be one whole, well-formed map to msgpack-c's own
 *  unpacker (a differential check of kt_msg's hand-written reader).
 *
 *  Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined; seeds in
 *  tests/fuzz/seeds/msg_decode_fuzz/ (one valid body per type, from msg_decode_seeds.c). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt_msg.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  One decoder and two buffers for the whole run, as a process would keep them.
    static kt_msg_decoder_t *dec;
    static msgpack_sbuffer first, second;
    static msgpack_zone *zone;
    if (!dec) {
        dec = kt_msg_decoder_new ();
        msgpack_sbuffer_init (&first);
        msgpack_sbuffer_init (&second);
        zone = msgpack_zone_new (8192);
    }
    struct kt_msg a, b;
    char why[128] = "";
    if (kt_msg_decode (dec, data, size, &a, why, sizeof why) != 0) {
        if (!why[0])
            abort (); //  a reject always says why
        return 0;
    }
    //  Accepted bodies have bounded containers, so msgpack_unpack cannot over-allocate.
    msgpack_zone_clear (zone);
    msgpack_object root;
    size_t off = 0;
    if (msgpack_unpack ((const char *)data, size, &off, zone, &root) != MSGPACK_UNPACK_SUCCESS ||
        off != size || root.type != MSGPACK_OBJECT_MAP)
        abort ();
    first.size = 0;
    if (kt_msg_encode (&a, &first) != 0)
        abort ();
    if (kt_msg_decode (dec, first.data, first.size, &b, why, sizeof why) != 0)
        abort ();
    if (memcmp (&a, &b, sizeof a) != 0)
        abort ();
    second.size = 0;
    if (kt_msg_encode (&b, &second) != 0 || second.size != first.size ||
        memcmp (first.data, second.data, first.size) != 0)
        abort ();
    return 0;
}
