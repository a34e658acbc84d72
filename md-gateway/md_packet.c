/*  md_packet - Kite ticker frames and packets (kite-protocol.md 6.3 - 6.5).
 *
 *  The frame is walked twice: once to prove every length fits, then to decode. A
 *  frame that lies about its lengths is dropped whole rather than half-used, because
 *  a wrong length means every packet after it may be misaligned garbage. */

#include "md_packet.h"

#include <string.h>
#include "kt_instr.h"

#define S_LEN_LTP 8
#define S_LEN_INDEX_QUOTE 28
#define S_LEN_INDEX_FULL 32
#define S_LEN_QUOTE 44
#define S_LEN_FULL 184
#define S_DEPTH_OFF 64
#define S_DEPTH_ENTRY 12
#define S_SEG_INDICES 9

//  Unaligned big-endian loads: memcpy + byte swap compile to one load and one bswap.
static inline uint32_t
s_u32 (const uint8_t *p)
{
    uint32_t v;
    memcpy (&v, p, sizeof v);
    return __builtin_bswap32 (v);
}

static inline uint16_t
s_u16 (const uint8_t *p)
{
    uint16_t v;
    memcpy (&v, p, sizeof v);
    return __builtin_bswap16 (v);
}

//  Prices are int32 on the wire (the index change field really is negative).
static inline int64_t
s_i32 (const uint8_t *p)
{
    return (int32_t) s_u32 (p);
}

int
md_packet_decode (const uint8_t *p, size_t len, struct md_pkt *out)
{
    md_pkt_kind_t kind;
    switch (len) {
        case S_LEN_LTP:
            kind = MD_PKT_LTP;
            break;
        case S_LEN_INDEX_QUOTE:
            kind = MD_PKT_INDEX_QUOTE;
            break;
        case S_LEN_INDEX_FULL:
            kind = MD_PKT_INDEX_FULL;
            break;
        case S_LEN_QUOTE:
            kind = MD_PKT_QUOTE;
            break;
        case S_LEN_FULL:
            kind = MD_PKT_FULL;
            break;
        default:
            memset (out, 0, sizeof *out);
            return -1;
    }
    //  A full packet sets every field below; the others start from zero.
    if (kind != MD_PKT_FULL)
        memset (out, 0, sizeof *out);
    out->kind = kind;
    out->token = s_u32 (p);
    out->segment = kt_instr_segment_of (out->token);
    out->divisor = kt_instr_price_divisor (out->segment);
    out->tradable = out->segment != S_SEG_INDICES;
    out->ltp = s_i32 (p + 4);
    if (kind == MD_PKT_LTP)
        return 0;
    if (kind == MD_PKT_INDEX_QUOTE || kind == MD_PKT_INDEX_FULL) {
        //  Index packets order the day's prices H, L, O, C.
        out->high = s_i32 (p + 8);
        out->low = s_i32 (p + 12);
        out->open = s_i32 (p + 16);
        out->close = s_i32 (p + 20);
        out->wire_change = s_i32 (p + 24);
        if (kind == MD_PKT_INDEX_FULL)
            out->exch_s = s_u32 (p + 28);
        return 0;
    }
    out->last_qty = s_u32 (p + 8);
    out->avg = s_i32 (p + 12);
    out->volume = s_u32 (p + 16);
    out->buy_qty = s_u32 (p + 20);
    out->sell_qty = s_u32 (p + 24);
    out->open = s_i32 (p + 28);
    out->high = s_i32 (p + 32);
    out->low = s_i32 (p + 36);
    out->close = s_i32 (p + 40);
    if (kind == MD_PKT_QUOTE)
        return 0;
    out->wire_change = 0;
    out->ltt_s = s_u32 (p + 44);
    out->oi = s_u32 (p + 48);
    out->oi_high = s_u32 (p + 52);
    out->oi_low = s_u32 (p + 56);
    out->exch_s = s_u32 (p + 60);
    const uint8_t *e = p + S_DEPTH_OFF;
    for (int i = 0; i < MD_DEPTH; i++, e += S_DEPTH_ENTRY) {
        out->buy[i].qty = s_u32 (e);
        out->buy[i].price = s_i32 (e + 4);
        out->buy[i].orders = s_u16 (e + 8);
    }
    for (int i = 0; i < MD_DEPTH; i++, e += S_DEPTH_ENTRY) {
        out->sell[i].qty = s_u32 (e);
        out->sell[i].price = s_i32 (e + 4);
        out->sell[i].orders = s_u16 (e + 8);
    }
    return 0;
}

static md_frame_kind_t
s_malformed (struct md_frame_res *res, const char *why, size_t a, size_t b)
{
    res->kind = MD_FRAME_MALFORMED;
    res->packets = 0;
    res->skipped = 0;
    //  Hand-rolled to keep snprintf off a path an attacker can drive at line rate.
    char *w = res->why;
    size_t cap = sizeof res->why;
    size_t n = strlen (why);
    if (n > cap - 24)
        n = cap - 24;
    memcpy (w, why, n);
    size_t vals[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        w[n++] = k ? '/' : ' ';
        char digits[24];
        int d = 0;
        size_t v = vals[k];
        do {
            digits[d++] = (char) ('0' + v % 10);
            v /= 10;
        } while (v && d < 20);
        while (d)
            w[n++] = digits[--d];
    }
    w[n] = '\0';
    return MD_FRAME_MALFORMED;
}

md_frame_kind_t
md_frame_decode (const uint8_t *buf, size_t len, md_pkt_fn *fn, void *arg, struct md_frame_res *res)
{
    res->kind = MD_FRAME_TICKS;
    res->packets = 0;
    res->skipped = 0;
    res->why[0] = '\0';
    if (len == 1) {
        res->kind = MD_FRAME_HEARTBEAT;
        return MD_FRAME_HEARTBEAT;
    }
    if (len < 2)
        return s_malformed (res, "empty frame, bytes/needed", len, 2);
    unsigned count = s_u16 (buf);
    size_t off = 2;
    for (unsigned i = 0; i < count; i++) {
        if (len - off < 2)
            return s_malformed (res, "packet length past the end, packet/count", i + 1, count);
        size_t plen = s_u16 (buf + off);
        if (len - off - 2 < plen)
            return s_malformed (res, "packet body past the end, length/left", plen, len - off - 2);
        off += 2 + plen;
    }
    if (off != len)
        return s_malformed (res, "bytes after the last packet, used/frame", off, len);
    off = 2;
    struct md_pkt pkt;
    for (unsigned i = 0; i < count; i++) {
        size_t plen = s_u16 (buf + off);
        if (md_packet_decode (buf + off + 2, plen, &pkt) == 0) {
            res->packets++;
            if (fn)
                fn (&pkt, arg);
        } else
            res->skipped++;
        off += 2 + plen;
    }
    return MD_FRAME_TICKS;
}

const char *
md_pkt_mode (md_pkt_kind_t kind)
{
    switch (kind) {
        case MD_PKT_LTP:
            return "ltp";
        case MD_PKT_INDEX_QUOTE:
        case MD_PKT_QUOTE:
            return "quote";
        case MD_PKT_INDEX_FULL:
        case MD_PKT_FULL:
            return "full";
        default:
            return "";
    }
}

int64_t
md_packet_paise (int64_t wire, int64_t divisor)
{
    if (divisor == 100)
        return wire;
    if (divisor <= 0)
        return 0;
    //  |wire| < 2^31, so wire * 100 cannot overflow.
    int64_t num = wire * 100;
    int64_t q = num / divisor;
    int64_t r = num % divisor;
    if (r < 0)
        r = -r;
    if (2 * r >= divisor)
        q += num < 0 ? -1 : 1;
    return q;
}

void
md_packet_tick (const struct md_pkt *pkt, int64_t recv_ns, struct kt_tick *out)
{
    memset (out, 0, sizeof *out);
    int64_t d = pkt->divisor;
    out->token = pkt->token;
    out->ltp = md_packet_paise (pkt->ltp, d);
    out->last_qty = pkt->last_qty;
    out->avg_price = md_packet_paise (pkt->avg, d);
    out->volume = pkt->volume;
    out->buy_qty = pkt->buy_qty;
    out->sell_qty = pkt->sell_qty;
    out->o = md_packet_paise (pkt->open, d);
    out->h = md_packet_paise (pkt->high, d);
    out->l = md_packet_paise (pkt->low, d);
    out->c = md_packet_paise (pkt->close, d);
    out->oi = pkt->oi;
    out->bid = md_packet_paise (pkt->buy[0].price, d);
    out->ask = md_packet_paise (pkt->sell[0].price, d);
    out->bid_qty = pkt->buy[0].qty;
    out->ask_qty = pkt->sell[0].qty;
    uint32_t ts = pkt->exch_s ? pkt->exch_s : pkt->ltt_s;
    out->exch_ts_ns = (int64_t) ts * 1000000000;
    out->recv_ts_ns = recv_ns;
}

void
md_packet_hex (const uint8_t *buf, size_t len, size_t max_bytes, char *out, size_t outlen)
{
    static const char digits[] = "0123456789abcdef";
    if (outlen == 0)
        return;
    size_t n = len < max_bytes ? len : max_bytes;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 2 < outlen; i++) {
        out[o++] = digits[buf[i] >> 4];
        out[o++] = digits[buf[i] & 15];
    }
    out[o] = '\0';
}
