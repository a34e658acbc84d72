/*  md_packet_test - the Kite ticker decoder: every packet kind and segment, the
 *  official fixtures with kite-protocol.md 8.2's exact values (read from
 *  ../shared/fixtures/kite, cwd = project root), frames truncated at every byte,
 *  oversized and lying frames, heartbeats and unknown lengths. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "../../md-gateway/md_packet.h"

#define S_FIX "../shared/fixtures/kite/"

//  Read a base64 fixture and decode it; returns the byte count.
static size_t
s_fixture (const char *name, uint8_t *out, size_t cap)
{
    char path[256];
    snprintf (path, sizeof path, S_FIX "%s", name);
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    char text[1024];
    size_t n = fread (text, 1, sizeof text, f);
    fclose (f);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    assert_true (n % 4 == 0 && n / 4 * 3 <= cap);
    int got = EVP_DecodeBlock (out, (const unsigned char *) text, (int) n);
    assert_true (got > 0);
    size_t pad = (n && text[n - 1] == '=') + (n > 1 && text[n - 2] == '=');
    return (size_t) got - pad;
}

static void
s_be32 (uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

static void
s_be16 (uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

//  Frame of packets: N, then (L, bytes) each. Returns the frame length.
static size_t
s_frame (uint8_t *out, const uint8_t *const *pkts, const size_t *lens, int n)
{
    s_be16 (out, (uint16_t) n);
    size_t off = 2;
    for (int i = 0; i < n; i++) {
        s_be16 (out + off, (uint16_t) lens[i]);
        memcpy (out + off + 2, pkts[i], lens[i]);
        off += 2 + lens[i];
    }
    return off;
}

static void
test_fixture_quote (void **state)
{
    (void) state;
    uint8_t p[256];
    size_t len = s_fixture ("ticker_quote.packet", p, sizeof p);
    assert_int_equal (len, 44);
    struct md_pkt k;
    assert_int_equal (md_packet_decode (p, len, &k), 0);
    assert_int_equal (k.kind, MD_PKT_QUOTE);
    assert_string_equal (md_pkt_mode (k.kind), "quote");
    assert_int_equal (k.token, 408065);
    assert_int_equal (k.segment, 1);
    assert_int_equal (k.divisor, 100);
    assert_true (k.tradable);
    assert_int_equal (k.ltp, 157315);
    assert_int_equal (k.last_qty, 1);
    assert_int_equal (k.avg, 157033);
    assert_int_equal (k.volume, 1175986);
    assert_int_equal (k.buy_qty, 256511);
    assert_int_equal (k.sell_qty, 360503);
    assert_int_equal (k.open, 156915);
    assert_int_equal (k.high, 157500);
    assert_int_equal (k.low, 156105);
    assert_int_equal (k.close, 156780);
    assert_int_equal (k.ltt_s, 0);
    assert_int_equal (k.exch_s, 0);
    assert_int_equal (k.buy[0].qty, 0);

    struct kt_tick t;
    md_packet_tick (&k, 42, &t);
    assert_int_equal (t.token, 408065);
    assert_int_equal (t.ltp, 157315);
    assert_int_equal (t.avg_price, 157033);
    assert_int_equal (t.o, 156915);
    assert_int_equal (t.c, 156780);
    assert_int_equal (t.volume, 1175986);
    assert_int_equal (t.exch_ts_ns, 0);
    assert_int_equal (t.recv_ts_ns, 42);
}

static void
test_fixture_full (void **state)
{
    (void) state;
    uint8_t p[256];
    size_t len = s_fixture ("ticker_full.packet", p, sizeof p);
    assert_int_equal (len, 184);
    struct md_pkt k;
    assert_int_equal (md_packet_decode (p, len, &k), 0);
    assert_int_equal (k.kind, MD_PKT_FULL);
    assert_string_equal (md_pkt_mode (k.kind), "full");
    assert_int_equal (k.token, 408065);
    assert_int_equal (k.ltp, 157370);
    assert_int_equal (k.last_qty, 7);
    assert_int_equal (k.avg, 157037);
    assert_int_equal (k.volume, 1192471);
    assert_int_equal (k.buy_qty, 256443);
    assert_int_equal (k.sell_qty, 363009);
    assert_int_equal (k.open, 156915);
    assert_int_equal (k.high, 157500);
    assert_int_equal (k.low, 156105);
    assert_int_equal (k.close, 156780);
    assert_int_equal (k.ltt_s, 1625461887);
    assert_int_equal (k.exch_s, 1625461887);
    assert_int_equal (k.oi, 0);
    assert_int_equal (k.oi_high, 0);
    assert_int_equal (k.oi_low, 0);
    static const int64_t bp[] = {157340, 157300, 157295, 157290, 157285};
    static const uint32_t bq[] = {5, 140, 2, 219, 50};
    static const uint16_t bo[] = {1, 2, 1, 7, 1};
    static const int64_t sp[] = {157370, 157375, 157385, 157390, 157395};
    static const uint32_t sq[] = {172, 44, 302, 141, 724};
    static const uint16_t so[] = {3, 3, 3, 2, 5};
    for (int i = 0; i < MD_DEPTH; i++) {
        assert_int_equal (k.buy[i].price, bp[i]);
        assert_int_equal (k.buy[i].qty, bq[i]);
        assert_int_equal (k.buy[i].orders, bo[i]);
        assert_int_equal (k.sell[i].price, sp[i]);
        assert_int_equal (k.sell[i].qty, sq[i]);
        assert_int_equal (k.sell[i].orders, so[i]);
    }
    struct kt_tick t;
    md_packet_tick (&k, 7, &t);
    assert_int_equal (t.ltp, 157370);
    assert_int_equal (t.bid, 157340);
    assert_int_equal (t.ask, 157370);
    assert_int_equal (t.bid_qty, 5);
    assert_int_equal (t.ask_qty, 172);
    assert_int_equal (t.exch_ts_ns, 1625461887000000000LL);
    assert_int_equal (t.h, 157500);
    assert_int_equal (t.l, 156105);

    //  The same packet inside a frame, as 8.2 says: prefix 00 01 00 B8.
    uint8_t f[256];
    const uint8_t *pk[] = {p};
    size_t ln[] = {len};
    size_t flen = s_frame (f, pk, ln, 1);
    assert_memory_equal (f, "\x00\x01\x00\xb8", 4);
    struct md_frame_res res;
    assert_int_equal (md_frame_decode (f, flen, NULL, NULL, &res), MD_FRAME_TICKS);
    assert_int_equal (res.packets, 1);
}

static void
test_ltp_packet (void **state)
{
    (void) state;
    //  ticker_ltp.json's packet (8.2): 00063a01 00026683 -> 1573.15.
    static const uint8_t p[] = {0x00, 0x06, 0x3a, 0x01, 0x00, 0x02, 0x66, 0x83};
    struct md_pkt k;
    assert_int_equal (md_packet_decode (p, sizeof p, &k), 0);
    assert_int_equal (k.kind, MD_PKT_LTP);
    assert_string_equal (md_pkt_mode (k.kind), "ltp");
    assert_int_equal (k.token, 408065);
    assert_int_equal (k.ltp, 157315);
    assert_true (k.tradable);
    assert_int_equal (k.volume, 0);
    assert_int_equal (k.close, 0);
    //  The TS repo's ltpMode_binary.packet: 0001 0008 000d8001 0000997f -> 392.95.
    static const uint8_t f[] = {0, 1, 0, 8, 0x00, 0x0d, 0x80, 0x01, 0x00, 0x00, 0x99, 0x7f};
    struct md_frame_res res;
    struct md_pkt got;
    assert_int_equal (md_frame_decode (f, sizeof f, NULL, NULL, &res), MD_FRAME_TICKS);
    assert_int_equal (res.packets, 1);
    assert_int_equal (md_packet_decode (f + 4, 8, &got), 0);
    assert_int_equal (got.token, 884737);
    assert_int_equal (got.ltp, 39295);
}

static void
s_index_packet (uint8_t *p, uint32_t token, bool full)
{
    s_be32 (p, token);
    s_be32 (p + 4, 2450035);         //  ltp 24500.35
    s_be32 (p + 8, 2460000);         //  high
    s_be32 (p + 12, 2440010);        //  low
    s_be32 (p + 16, 2445000);        //  open
    s_be32 (p + 20, 2450071);        //  close
    s_be32 (p + 24, (uint32_t) -36); //  change, signed (FF FF FF DC)
    if (full)
        s_be32 (p + 28, 1625461887);
}

static void
test_index_packets (void **state)
{
    (void) state;
    uint8_t p[32];
    s_index_packet (p, 256265, false);
    struct md_pkt k;
    assert_int_equal (md_packet_decode (p, 28, &k), 0);
    assert_int_equal (k.kind, MD_PKT_INDEX_QUOTE);
    assert_string_equal (md_pkt_mode (k.kind), "quote");
    assert_int_equal (k.segment, 9);
    assert_false (k.tradable);
    assert_int_equal (k.ltp, 2450035);
    //  H, L, O, C order on the wire.
    assert_int_equal (k.high, 2460000);
    assert_int_equal (k.low, 2440010);
    assert_int_equal (k.open, 2445000);
    assert_int_equal (k.close, 2450071);
    assert_int_equal (k.wire_change, -36);
    assert_int_equal (k.exch_s, 0);

    s_index_packet (p, 256265, true);
    assert_int_equal (md_packet_decode (p, 32, &k), 0);
    assert_int_equal (k.kind, MD_PKT_INDEX_FULL);
    assert_string_equal (md_pkt_mode (k.kind), "full");
    assert_int_equal (k.exch_s, 1625461887);
    assert_int_equal (k.wire_change, -36);
    struct kt_tick t;
    md_packet_tick (&k, 0, &t);
    assert_int_equal (t.ltp, 2450035);
    assert_int_equal (t.h, 2460000);
    assert_int_equal (t.o, 2445000);
    assert_int_equal (t.exch_ts_ns, 1625461887000000000LL);
    assert_int_equal (t.volume, 0);
}

static void
test_segments_and_divisors (void **state)
{
    (void) state;
    static const struct {
        int seg;
        int64_t divisor;
        bool tradable;
    } rows[] = {
        {1, 100, true},   {2, 100, true}, {3, 10000000, true}, {4, 100, true},  {5, 100, true},
        {6, 10000, true}, {7, 100, true}, {8, 100, true},      {9, 100, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t p[44] = {0};
        uint32_t token = (uint32_t) (12345 << 8 | rows[i].seg);
        s_be32 (p, token);
        s_be32 (p + 4, 734525000);
        struct md_pkt k;
        assert_int_equal (md_packet_decode (p, 44, &k), 0);
        assert_int_equal (k.segment, rows[i].seg);
        assert_int_equal (k.divisor, rows[i].divisor);
        assert_int_equal (k.tradable, rows[i].tradable);
        assert_int_equal (k.token, token);
        assert_int_equal (k.ltp, 734525000);
    }
    //  Paise from wire units: exact for 100, rounded half away from zero otherwise.
    assert_int_equal (md_packet_paise (157370, 100), 157370);
    assert_int_equal (md_packet_paise (734525000, 10000000), 7345); //  73.4525 -> 73.45
    assert_int_equal (md_packet_paise (734550000, 10000000), 7346); //  73.455 -> 73.46
    assert_int_equal (md_packet_paise (734549999, 10000000), 7345);
    assert_int_equal (md_packet_paise (-734550000, 10000000), -7346);
    assert_int_equal (md_packet_paise (734525, 10000), 7345); //  BCD
    assert_int_equal (md_packet_paise (734550, 10000), 7346);
    assert_int_equal (md_packet_paise (5, 0), 0);
    //  NFO option (segment 2) and a CDS quote through md_packet_tick.
    uint8_t p[44] = {0};
    s_be32 (p, 12345u << 8 | 3);
    s_be32 (p + 4, 834525000);
    s_be32 (p + 40, 834000000);
    struct md_pkt k;
    assert_int_equal (md_packet_decode (p, 44, &k), 0);
    struct kt_tick t;
    md_packet_tick (&k, 0, &t);
    assert_int_equal (t.ltp, 8345);
    assert_int_equal (t.c, 8340);
}

static void
test_signedness (void **state)
{
    (void) state;
    //  Quantities read unsigned, prices signed (kite-protocol.md 6.5).
    uint8_t p[184] = {0};
    s_be32 (p, 408065);
    s_be32 (p + 8, 0xFFFFFFF0u);  //  last qty
    s_be32 (p + 16, 0x80000000u); //  volume
    s_be32 (p + 4, 0xFFFFFFFFu);  //  a negative price: -1
    s_be16 (p + 64 + 8, 0xFFFF);  //  orders
    struct md_pkt k;
    assert_int_equal (md_packet_decode (p, 184, &k), 0);
    assert_int_equal (k.last_qty, 0xFFFFFFF0u);
    assert_int_equal (k.volume, 0x80000000u);
    assert_int_equal (k.ltp, -1);
    assert_int_equal (k.buy[0].orders, 0xFFFF);
}

struct s_seen {
    int n;
    uint32_t tokens[8];
    md_pkt_kind_t kinds[8];
};

static void
s_collect (const struct md_pkt *pkt, void *arg)
{
    struct s_seen *s = arg;
    if (s->n < 8) {
        s->tokens[s->n] = pkt->token;
        s->kinds[s->n] = pkt->kind;
    }
    s->n++;
}

//  A 4-packet frame: ltp, index full, an unknown 164-byte packet, full.
static size_t
s_mixed_frame (uint8_t *f)
{
    static uint8_t ltp[8], idx[32], old[164], full[184];
    s_be32 (ltp, 408065);
    s_be32 (ltp + 4, 157315);
    s_index_packet (idx, 256265, true);
    s_be32 (old, 999);
    s_be32 (full, 12345u << 8 | 2);
    s_be32 (full + 4, 10005);
    const uint8_t *pk[] = {ltp, idx, old, full};
    size_t ln[] = {8, 32, 164, 184};
    return s_frame (f, pk, ln, 4);
}

static void
test_frame_mixed (void **state)
{
    (void) state;
    uint8_t f[512];
    size_t len = s_mixed_frame (f);
    struct s_seen seen = {0};
    struct md_frame_res res;
    assert_int_equal (md_frame_decode (f, len, s_collect, &seen, &res), MD_FRAME_TICKS);
    assert_int_equal (res.kind, MD_FRAME_TICKS);
    assert_int_equal (res.packets, 3);
    assert_int_equal (res.skipped, 1);
    assert_string_equal (res.why, "");
    assert_int_equal (seen.n, 3);
    assert_int_equal (seen.tokens[0], 408065);
    assert_int_equal (seen.kinds[0], MD_PKT_LTP);
    assert_int_equal (seen.tokens[1], 256265);
    assert_int_equal (seen.kinds[1], MD_PKT_INDEX_FULL);
    assert_int_equal (seen.tokens[2], 12345u << 8 | 2);
    assert_int_equal (seen.kinds[2], MD_PKT_FULL);
}

static void
test_heartbeat_and_empty (void **state)
{
    (void) state;
    struct md_frame_res res;
    uint8_t hb[1] = {0};
    struct s_seen seen = {0};
    assert_int_equal (md_frame_decode (hb, 1, s_collect, &seen, &res), MD_FRAME_HEARTBEAT);
    assert_int_equal (seen.n, 0);
    assert_int_equal (md_frame_decode (hb, 0, s_collect, &seen, &res), MD_FRAME_MALFORMED);
    assert_non_null (strstr (res.why, "empty"));
    uint8_t zero[2] = {0, 0};
    assert_int_equal (md_frame_decode (zero, 2, s_collect, &seen, &res), MD_FRAME_TICKS);
    assert_int_equal (res.packets, 0);
    assert_int_equal (seen.n, 0);
    //  A zero-length packet is an unknown length, skipped, not malformed.
    uint8_t z[4] = {0, 1, 0, 0};
    assert_int_equal (md_frame_decode (z, 4, s_collect, &seen, &res), MD_FRAME_TICKS);
    assert_int_equal (res.skipped, 1);
}

static void
test_frame_truncated_everywhere (void **state)
{
    (void) state;
    uint8_t f[512];
    size_t len = s_mixed_frame (f);
    //  Every proper prefix is malformed (or a heartbeat at 1 byte), never decoded in
    //  part. Each prefix sits in its own heap block so ASan catches any over-read.
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc (cut ? cut : 1);
        memcpy (copy, f, cut);
        struct s_seen seen = {0};
        struct md_frame_res res;
        md_frame_kind_t k = md_frame_decode (copy, cut, s_collect, &seen, &res);
        if (cut == 1)
            assert_int_equal (k, MD_FRAME_HEARTBEAT);
        else {
            assert_int_equal (k, MD_FRAME_MALFORMED);
            assert_true (res.why[0] != '\0');
        }
        assert_int_equal (seen.n, 0);
        assert_int_equal (res.packets, 0);
        free (copy);
    }
}

static void
test_frame_oversized_and_lying (void **state)
{
    (void) state;
    uint8_t f[600];
    size_t len = s_mixed_frame (f);
    struct s_seen seen = {0};
    struct md_frame_res res;
    //  Bytes after the N-th packet.
    f[len] = 0xAB;
    assert_int_equal (md_frame_decode (f, len + 1, s_collect, &seen, &res), MD_FRAME_MALFORMED);
    assert_non_null (strstr (res.why, "after the last packet"));
    assert_int_equal (seen.n, 0);
    //  N larger than the packets present.
    s_be16 (f, 5);
    assert_int_equal (md_frame_decode (f, len, s_collect, &seen, &res), MD_FRAME_MALFORMED);
    assert_non_null (strstr (res.why, "packet length past the end"));
    //  N smaller: the rest is left over.
    s_be16 (f, 3);
    assert_int_equal (md_frame_decode (f, len, s_collect, &seen, &res), MD_FRAME_MALFORMED);
    s_be16 (f, 4);
    //  The first packet claims 0xFFFF bytes (kite-sim's malformed fault).
    s_be16 (f + 2, 0xFFFF);
    assert_int_equal (md_frame_decode (f, len, s_collect, &seen, &res), MD_FRAME_MALFORMED);
    assert_non_null (strstr (res.why, "packet body past the end"));
    assert_non_null (strstr (res.why, "65535"));
    assert_int_equal (seen.n, 0);
    //  A frame claiming 65535 packets of a 2-byte frame.
    uint8_t big[2] = {0xFF, 0xFF};
    assert_int_equal (md_frame_decode (big, 2, s_collect, &seen, &res), MD_FRAME_MALFORMED);
}

static void
test_unknown_lengths (void **state)
{
    (void) state;
    uint8_t p[200] = {0};
    struct md_pkt k;
    for (size_t len = 0; len < sizeof p; len++) {
        int rc = md_packet_decode (p, len, &k);
        bool known = len == 8 || len == 28 || len == 32 || len == 44 || len == 184;
        assert_int_equal (rc, known ? 0 : -1);
        if (!known)
            assert_int_equal (k.kind, MD_PKT_NONE);
    }
    assert_string_equal (md_pkt_mode (MD_PKT_NONE), "");
}

static void
test_hex (void **state)
{
    (void) state;
    static const uint8_t b[] = {0x00, 0x01, 0xAB, 0xff};
    char out[16];
    md_packet_hex (b, 4, 32, out, sizeof out);
    assert_string_equal (out, "0001abff");
    md_packet_hex (b, 4, 2, out, sizeof out);
    assert_string_equal (out, "0001");
    md_packet_hex (b, 4, 32, out, 5);
    assert_string_equal (out, "0001");
    md_packet_hex (b, 0, 32, out, sizeof out);
    assert_string_equal (out, "");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixture_quote),
        cmocka_unit_test (test_fixture_full),
        cmocka_unit_test (test_ltp_packet),
        cmocka_unit_test (test_index_packets),
        cmocka_unit_test (test_segments_and_divisors),
        cmocka_unit_test (test_signedness),
        cmocka_unit_test (test_frame_mixed),
        cmocka_unit_test (test_heartbeat_and_empty),
        cmocka_unit_test (test_frame_truncated_everywhere),
        cmocka_unit_test (test_frame_oversized_and_lying),
        cmocka_unit_test (test_unknown_lengths),
        cmocka_unit_test (test_hex),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
