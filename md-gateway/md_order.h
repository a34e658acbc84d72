/*  md_order - Kite's order update (the ticker's {"type":"order","data":{...}} text
 *  message, the postback payload of kite-protocol.md 6.8) into an ORDER_UPDATE body.
 *
 *  Pure: no I/O, no heap. The JSON is walked on its raw text (md_jraw), so prices are
 *  read from their digits (kt_money_parse) and never pass through a double. null and missing keys
 *  read as "" / 0. */

#ifndef MD_ORDER_H
#define MD_ORDER_H

#include <stddef.h>
#include "kt_msg.h"

//  Parse the payload object (text of len bytes, e.g. postback.json or the "data" value
//  of a ticker message) into *out (zeroed first). Returns 0, or -1 with the reason in
//  why (not a JSON object, order_id or status missing, a price or quantity that is not
//  a number, a time not "YYYY-MM-DD HH:MM:SS").
int md_order_parse (const char *text, size_t len, struct kt_order_update *out, char *why,
                    size_t whylen);

#endif
