/*  md_candle - Kite's historical minute candles (GET /instruments/historical/<token>/
 *  minute, kite-protocol.md 3.8) parsed from the answer's raw text: prices from their
 *  digits into paise, the "+0530" timestamps into ns. Pure: no I/O, no heap. */

#ifndef MD_CANDLE_H
#define MD_CANDLE_H

#include <stddef.h>
#include <stdint.h>

struct md_candle {
    int64_t start_ns;   //  the minute's start
    int64_t o, h, l, c; //  paise
    int64_t volume;
};

//  Parse {"status":"success","data":{"candles":[[ts,o,h,l,c,v(,oi)],...]}} into out
//  (at most max, in the answer's order). Returns the count, or -1 with the reason in
//  why (not that shape, a bad number or time, more than max).
int md_candle_parse (const char *body, size_t len, struct md_candle *out, size_t max, char *why,
                     size_t whylen);

#endif
