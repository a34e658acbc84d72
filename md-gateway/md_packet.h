/*  md_packet - Kite ticker binary frames and packets, decoded into plain structs.
 *
 *  Pure: no I/O, no globals, no heap, no floating point. A binary WebSocket message is
 *  a frame: uint16 N, then N times (uint16 L, L bytes of packet), big-endian
 *  (kite-protocol.md 6.3). A 1-byte message is a heartbeat. Packets are dispatched on
 *  their length: 8 ltp, 28 index quote, 32 index full, 44 quote, 184 full (6.5); any
 *  other length is skipped. Every length is checked against the frame before a single
 *  packet is handed out, so a frame is either decoded whole or reported malformed and
 *  dropped whole; nothing is read past the buffer.
 *
 *  Prices stay in wire units (an integer that is rupees x divisor; the divisor is 100
 *  except CDS 10^7 and BCD 10^4, section 6.4) so that nothing is lost for currency
 *  segments; md_packet_tick converts to paise for the bus. Price fields are read as
 *  signed 32-bit, quantities, volume, OI and times as unsigned 32-bit (section 6.5). */

#ifndef MD_PACKET_H
#define MD_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt_msg.h"

#define MD_DEPTH 5 //  levels per side in a full packet

typedef enum {
    MD_PKT_NONE = 0,
    MD_PKT_LTP,         //  8 bytes, any segment
    MD_PKT_INDEX_QUOTE, //  28 bytes
    MD_PKT_INDEX_FULL,  //  32 bytes
    MD_PKT_QUOTE,       //  44 bytes
    MD_PKT_FULL         //  184 bytes
} md_pkt_kind_t;

struct md_level {
    int64_t price; //  wire units
    uint32_t qty;
    uint16_t orders;
};

//  One decoded packet. Fields a kind does not carry are 0.
struct md_pkt {
    md_pkt_kind_t kind;
    uint32_t token;
    int segment;                    //  token & 0xff
    int64_t divisor;                //  rupees = wire / divisor
    bool tradable;                  //  false for segment 9 (indices)
    int64_t ltp;                    //  wire units
    int64_t avg;                    //  average traded price (quote, full)
    int64_t open, high, low, close; //  close = previous session's
    int64_t wire_change;            //  index packets: signed change field at offset 24
    uint32_t last_qty;
    uint32_t volume; //  cumulative for the day
    uint32_t buy_qty, sell_qty;
    uint32_t oi, oi_high, oi_low;
    uint32_t ltt_s;                //  last trade time, Unix seconds (full)
    uint32_t exch_s;               //  exchange timestamp, Unix seconds (full, index full)
    struct md_level buy[MD_DEPTH]; //  best first (full)
    struct md_level sell[MD_DEPTH];
};

//  Outcome of one frame.
typedef enum {
    MD_FRAME_TICKS = 0, //  N packets walked (N may be 0)
    MD_FRAME_HEARTBEAT, //  1-byte frame
    MD_FRAME_MALFORMED  //  dropped whole; see why
} md_frame_kind_t;

struct md_frame_res {
    md_frame_kind_t kind;
    unsigned packets; //  packets handed to the callback
    unsigned skipped; //  packets of an unknown length
    char why[96];     //  MD_FRAME_MALFORMED: the reason, "" otherwise
};

//  Called once per known packet of a well-formed frame, in frame order. pkt is
//  borrowed for the call.
typedef void (md_pkt_fn) (const struct md_pkt *pkt, void *arg);

//  Decode one bare packet of len bytes into *out (fully overwritten). Returns 0, or -1
//  if len is not a known packet length (out is then zeroed, kind NONE).
int md_packet_decode (const uint8_t *p, size_t len, struct md_pkt *out);

//  Decode one binary message of len bytes: check every length first, then call fn for
//  each known packet (fn may be NULL to validate only). Fills *res and returns its
//  kind. A frame is malformed when it is empty, when a packet length or body runs past
//  the end, or when bytes are left after the N-th packet; fn is then never called. Never reads
//  outside [buf, buf + len).
md_frame_kind_t md_frame_decode (const uint8_t *buf, size_t len, md_pkt_fn *fn, void *arg,
                                 struct md_frame_res *res);

//  "ltp", "quote" or "full": the official clients' mode string of a kind ("" for NONE).
const char *md_pkt_mode (md_pkt_kind_t kind);

//  A wire price in paise: wire * 100 / divisor, rounded half away from zero (exact for
//  divisor 100; CDS and BCD prices finer than a paisa are rounded).
int64_t md_packet_paise (int64_t wire, int64_t divisor);

//  Fill a TICK body from a packet: prices in paise, exchange time (exch_s, else ltt_s)
//  and recv_ns in ns, best bid/ask from depth level 0. sym is left empty (the caller
//  knows the instrument's symbol).
void md_packet_tick (const struct md_pkt *pkt, int64_t recv_ns, struct kt_tick *out);

//  Lower-case hex of the first min(len, max_bytes) bytes of buf into out (always
//  NUL-terminated when outlen > 0; cut to fit). For log lines about malformed frames.
void md_packet_hex (const uint8_t *buf, size_t len, size_t max_bytes, char *out, size_t outlen);

#endif
