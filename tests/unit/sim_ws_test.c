/*  sim_ws_test - kite-sim's ticker encoding, byte for byte: the official INFY quote and
 *  full packets (shared fixtures, kite-protocol.md 8.2) rebuilt from a sim_quote, the
 *  8-byte LTP packet, NIFTY 50's 28/32-byte index packets (H-L-O-C order, signed
 *  change), the segment divisors (CDS, BCD), clamping to what the wire can carry, the
 *  frame header (N, then L per packet), the malformed-frame fault and the 1-byte
 *  heartbeat. Everything here is pure: no sockets. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "../../sim/sim.h"

#define FIX "../shared/fixtures/kite/"
#define T_1041 (1625461887LL * KT_NS_PER_SEC)   //  2021-07-05 10:41:27 IST

//  Decode a fixture .packet (base64 text and a newline) into out. Returns the length.
static int
s_fixture (const char *name, uint8_t *out, int cap)
{
    char path[256], text[1024];
    snprintf (path, sizeof path, FIX "%s", name);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    text[n] = '\0';
    assert_true (n % 4 == 0 && (int) (n / 4 * 3) <= cap);
    int len = EVP_DecodeBlock (out, (const unsigned char *) text, (int) n);
    assert_true (len > 0);
    //  EVP_DecodeBlock counts the padding as zero bytes.
    for (size_t i = n; i > 0 && text[i - 1] == '='; i--)
        len--;
    return len;
}

static uint32_t
s_rd32 (const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint16_t
s_rd16 (const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

//  The INFY quote both fixtures share (ohlc), kite-protocol.md 8.2.
static void
s_infy (struct sim_quote *q)
{
    memset (q, 0, sizeof *q);
    q->token = 408065;
    q->o = 156915;
    q->h = 157500;
    q->l = 156105;
    q->c = 156780;
}

static void
test_fixture_quote (void **state)
{
    (void) state;
    uint8_t want[256], got[SIM_PKT_MAX];
    assert_int_equal (s_fixture ("ticker_quote.packet", want, sizeof want), 44);
    struct sim_quote q;
    s_infy (&q);
    q.ltp = 157315;
    q.last_qty = 1;
    q.avg_price = 157033;
    q.volume = 1175986;
    q.buy_qty = 256511;
    q.sell_qty = 360503;
    //  Full-only fields must not leak into a quote packet.
    q.oi = 99;
    q.exch_ns = T_1041;
    q.bid[0].px = 1;
    memset (got, 0xAA, sizeof got);
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_QUOTE, got), 44);
    assert_memory_equal (got, want, 44);
    assert_int_equal (got[44], 0xAA);       //  nothing written past the packet
}

static void
test_fixture_full (void **state)
{
    (void) state;
    uint8_t want[256], got[SIM_PKT_MAX];
    assert_int_equal (s_fixture ("ticker_full.packet", want, sizeof want), 184);
    struct sim_quote q;
    s_infy (&q);
    q.ltp = 157370;
    q.last_qty = 7;
    q.avg_price = 157037;
    q.volume = 1192471;
    q.buy_qty = 256443;
    q.sell_qty = 363009;
    q.last_trade_ns = T_1041 + 999999999;   //  whole seconds on the wire
    q.exch_ns = T_1041;
    static const int64_t bid[5][3] = {
        { 157340, 5, 1 }, { 157300, 140, 2 }, { 157295, 2, 1 }, { 157290, 219, 7 },
        { 157285, 50, 1 },
    };
    static const int64_t ask[5][3] = {
        { 157370, 172, 3 }, { 157375, 44, 3 }, { 157385, 302, 3 }, { 157390, 141, 2 },
        { 157395, 724, 5 },
    };
    for (int i = 0; i < SIM_DEPTH; i++) {
        q.bid[i].px = bid[i][0];
        q.bid[i].qty = bid[i][1];
        q.bid[i].orders = (int) bid[i][2];
        q.ask[i].px = ask[i][0];
        q.ask[i].qty = ask[i][1];
        q.ask[i].orders = (int) ask[i][2];
    }
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_FULL, got), 184);
    assert_memory_equal (got, want, 184);
    //  Spot checks of the layout, independent of the fixture.
    assert_int_equal (s_rd32 (got + 44), 1625461887);
    assert_int_equal (s_rd32 (got + 60), 1625461887);
    assert_int_equal (s_rd32 (got + 124 + 4), 157370);     //  best ask price
    assert_int_equal (s_rd16 (got + 124 + 8), 3);          //  its orders
    assert_int_equal (s_rd16 (got + 172 + 10), 0);         //  padding
}

static void
test_ltp (void **state)
{
    (void) state;
    struct sim_quote q;
    s_infy (&q);
    q.ltp = 157315;
    q.volume = 5;
    uint8_t got[SIM_PKT_MAX];
    static const uint8_t want[8] = { 0x00, 0x06, 0x3a, 0x01, 0x00, 0x02, 0x66, 0x83 };
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_LTP, got), 8);
    assert_memory_equal (got, want, 8);
    //  The TS client's TATAMOTORS LTP packet (884737, 392.95).
    q.token = 884737;
    q.ltp = 39295;
    static const uint8_t tata[8] = { 0x00, 0x0d, 0x80, 0x01, 0x00, 0x00, 0x99, 0x7f };
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_LTP, got), 8);
    assert_memory_equal (got, tata, 8);
    //  An index in LTP mode is 8 bytes as well.
    q.token = SIM_NIFTY_TOKEN;
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_LTP, got), 8);
}

static void
test_index (void **state)
{
    (void) state;
    struct sim_quote q;
    memset (&q, 0, sizeof q);
    q.token = SIM_NIFTY_TOKEN;
    q.ltp = 2399964;
    q.o = 2401000;
    q.h = 2405050;
    q.l = 2398000;
    q.c = 2400000;
    q.change = -36;                 //  signed: FF FF FF DC
    q.volume = 123;                 //  indices carry no volume: must not appear
    q.exch_ns = T_1041 + 500000000;
    uint8_t got[SIM_PKT_MAX];
    static const uint8_t want[32] = {
        0x00, 0x03, 0xe9, 0x09,  0x00, 0x24, 0x9e, 0xdc,     //  256265, 23999.64
        0x00, 0x24, 0xb2, 0xba,  0x00, 0x24, 0x97, 0x30,     //  high 24050.50, low 23980
        0x00, 0x24, 0xa2, 0xe8,  0x00, 0x24, 0x9f, 0x00,     //  open 24010, close 24000
        0xff, 0xff, 0xff, 0xdc,  0x60, 0xe2, 0x94, 0x7f,     //  change -0.36, timestamp
    };
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_QUOTE, got), 28);
    assert_memory_equal (got, want, 28);
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_FULL, got), 32);
    assert_memory_equal (got, want, 32);
    //  Before the first tick (exch_ns 0) the timestamp is 0, not garbage.
    q.exch_ns = 0;
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_FULL, got), 32);
    assert_int_equal (s_rd32 (got + 28), 0);
    //  A positive change.
    q.change = 5050;
    sim_ws_pack (&q, SIM_MODE_QUOTE, got);
    assert_int_equal (s_rd32 (got + 24), 5050);
}

static void
test_segment_divisor (void **state)
{
    (void) state;
    struct sim_quote q;
    memset (&q, 0, sizeof q);
    uint8_t got[SIM_PKT_MAX];
    //  NFO (2): paise on the wire (divisor 100).
    q.token = 35000u << 8 | 2;
    q.ltp = 12345;
    q.bid[0].px = 12340;
    q.volume = 750;
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_FULL, got), 184);
    assert_int_equal (s_rd32 (got + 4), 12345);
    assert_int_equal (s_rd32 (got + 68), 12340);
    assert_int_equal (s_rd32 (got + 16), 750);
    //  CDS (3): divisor 10 000 000 per rupee, so 100 000 wire units per paisa; prices
    //  scale, quantities do not.
    q.token = 1000u << 8 | 3;
    q.ltp = 8312;                   //  Rs 83.12
    q.avg_price = 8310;
    q.bid[0].px = 8311;
    q.ask[4].px = 8315;
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_FULL, got), 184);
    assert_int_equal (s_rd32 (got + 4), 831200000u);
    assert_int_equal (s_rd32 (got + 12), 831000000u);
    assert_int_equal (s_rd32 (got + 68), 831100000u);
    assert_int_equal (s_rd32 (got + 172 + 4), 831500000u);
    assert_int_equal (s_rd32 (got + 16), 750);
    //  BCD (6): divisor 10 000 per rupee, 100 per paisa.
    q.token = 1000u << 8 | 6;
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_QUOTE, got), 44);
    assert_int_equal (s_rd32 (got + 4), 831200);
    assert_int_equal (s_rd32 (got + 12), 831000);
}

static void
test_clamps (void **state)
{
    (void) state;
    struct sim_quote q;
    memset (&q, 0, sizeof q);
    q.token = 35000u << 8 | 2;
    q.ltp = 3000000000LL;           //  beyond int32: saturates, never wraps
    q.volume = 5000000000LL;
    q.last_qty = -5;                //  quantities never negative on the wire
    q.oi = -1;
    q.bid[0].orders = 70000;        //  uint16
    q.bid[1].orders = -3;
    q.last_trade_ns = -KT_NS_PER_SEC;
    uint8_t got[SIM_PKT_MAX];
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_FULL, got), 184);
    assert_int_equal (s_rd32 (got + 4), 0x7FFFFFFFu);
    assert_int_equal (s_rd32 (got + 16), 0x7FFFFFFFu);
    assert_int_equal (s_rd32 (got + 8), 0);
    assert_int_equal (s_rd32 (got + 48), 0);
    assert_int_equal (s_rd32 (got + 44), 0);
    assert_int_equal (s_rd16 (got + 64 + 8), 65535);
    assert_int_equal (s_rd16 (got + 76 + 8), 0);
    //  CDS price beyond the int32 range after scaling saturates too.
    q.token = 1000u << 8 | 3;
    q.ltp = 30000;                  //  3e9 wire units
    assert_int_equal (sim_ws_pack (&q, SIM_MODE_LTP, got), 8);
    assert_int_equal (s_rd32 (got + 4), 0x7FFFFFFFu);
    //  A negative price (only the index change may be negative) stays signed.
    q.token = SIM_NIFTY_TOKEN;
    q.change = -3000000000LL;
    sim_ws_pack (&q, SIM_MODE_QUOTE, got);
    assert_int_equal (s_rd32 (got + 24), 0x80000000u);
}

static void
test_frame (void **state)
{
    (void) state;
    uint8_t full[SIM_PKT_MAX], ltp[SIM_PKT_MAX], idx[SIM_PKT_MAX];
    uint8_t frame[2 + 3 * (2 + SIM_PKT_MAX)];
    struct sim_quote q;
    s_infy (&q);
    q.ltp = 157370;
    int lf = sim_ws_pack (&q, SIM_MODE_FULL, full);
    int ll = sim_ws_pack (&q, SIM_MODE_LTP, ltp);
    q.token = SIM_NIFTY_TOKEN;
    int li = sim_ws_pack (&q, SIM_MODE_QUOTE, idx);
    size_t used = 0;
    used = sim_ws_frame_add (frame, used, full, lf);
    assert_int_equal (used, 2 + 184);
    used = sim_ws_frame_add (frame, used, ltp, ll);
    used = sim_ws_frame_add (frame, used, idx, li);
    assert_int_equal (used, 186 + 10 + 30);
    sim_ws_frame_seal (frame, 3, false);
    //  Walk it as a client does: N, then L + packet each.
    assert_int_equal (s_rd16 (frame), 3);
    size_t at = 2;
    static const int lens[3] = { 184, 8, 28 };
    const uint8_t *pkts[3] = { full, ltp, idx };
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_rd16 (frame + at), lens[i]);
        assert_memory_equal (frame + at + 2, pkts[i], (size_t) lens[i]);
        at += 2 + (size_t) lens[i];
    }
    assert_int_equal (at, 2 + used);
    //  The fixture's own framing advice: 00 01 00 B8 before the full packet.
    uint8_t one[2 + 2 + SIM_PKT_MAX];
    used = sim_ws_frame_add (one, 0, full, lf);
    sim_ws_frame_seal (one, 1, false);
    static const uint8_t hdr[4] = { 0x00, 0x01, 0x00, 0xB8 };
    assert_memory_equal (one, hdr, 4);
    assert_int_equal (2 + used, 188);
    //  Malformed fault: the first packet claims 0xFFFF bytes, N and the bytes stay.
    sim_ws_frame_seal (one, 1, true);
    assert_int_equal (s_rd16 (one), 1);
    assert_int_equal (s_rd16 (one + 2), 0xFFFF);
    assert_memory_equal (one + 4, full, 184);
}

static void
test_heartbeat_and_modes (void **state)
{
    (void) state;
    uint8_t b[4] = { 0xAA, 0xAA, 0xAA, 0xAA };
    assert_int_equal (sim_ws_heartbeat (b), 1);
    assert_int_equal (b[0], 0x00);
    assert_int_equal (b[1], 0xAA);
    assert_int_equal (sim_ws_mode_parse ("ltp"), SIM_MODE_LTP);
    assert_int_equal (sim_ws_mode_parse ("quote"), SIM_MODE_QUOTE);
    assert_int_equal (sim_ws_mode_parse ("full"), SIM_MODE_FULL);
    assert_int_equal (sim_ws_mode_parse ("FULL"), 0);
    assert_int_equal (sim_ws_mode_parse ("fulls"), 0);
    assert_int_equal (sim_ws_mode_parse (""), 0);
    assert_int_equal (sim_ws_mode_parse (NULL), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixture_quote),   cmocka_unit_test (test_fixture_full),
        cmocka_unit_test (test_ltp),             cmocka_unit_test (test_index),
        cmocka_unit_test (test_segment_divisor), cmocka_unit_test (test_clamps),
        cmocka_unit_test (test_frame),           cmocka_unit_test (test_heartbeat_and_modes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
