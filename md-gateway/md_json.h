/*  md_json - a decoded packet as the official Kite clients' tick object, in JSON.
 *
 *  Keys and which keys each mode carries
 *  follow pykiteconnect's and kiteconnectjs's ticker (docs/md-gateway.md lists them):
 *  prices in rupees printed exactly from the wire integer and the segment's divisor,
 *  times as ISO 8601 UTC ("2021-07-05T05:11:27Z") or null when 0, `change` the
 *  percent change against the previous close computed with the clients' own double
 *  steps and printed with the shortest digits that read back as that double.
 *  Used by `md-gateway --decode`. Pure: no I/O, no heap. */

#ifndef MD_JSON_H
#define MD_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "md_packet.h"

//  Largest text md_json_tick writes for one packet (full packet with depth).
#define MD_JSON_TICK_MAX 2048

//  Write wire / divisor (divisor a power of ten) as the shortest exact decimal:
//  "1573.7", "1575", "-0.36", "0.0001234". Returns the length, or -1 if buflen is too
//  small (buf then holds "" when buflen > 0).
int md_json_decimal (int64_t wire, int64_t divisor, char *buf, size_t buflen);

//  Write the clients' `change` of wire prices ltp and close: in doubles,
//  (ltp/divisor - close/divisor) * 100 / (close/divisor), 0 when close is 0, printed
//  positionally (no exponent) with the shortest digits that read back as the same
//  double (0.3763235106518747). Returns the length, or -1 if buflen is too small.
int md_json_change (int64_t ltp, int64_t close, int64_t divisor, char *buf, size_t buflen);

//  Write a Unix time as "\"YYYY-MM-DDTHH:MM:SSZ\"" (quotes included), or null for 0.
//  Returns the length, or -1 if buflen is too small.
int md_json_time (uint32_t unix_s, char *buf, size_t buflen);

//  Write pkt as one JSON object (no newline). Returns the length, or -1 if buflen is
//  too small (MD_JSON_TICK_MAX always suffices) or pkt->kind is NONE.
int md_json_tick (const struct md_pkt *pkt, char *buf, size_t buflen);

#endif
