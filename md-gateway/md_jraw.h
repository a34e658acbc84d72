/*  md_jraw - raw JSON values for md-gateway's readers (order updates, candles, quotes).
 *
 *  Pure: no I/O, no heap. Values come back as their exact text (a string keeps its
 *  quotes), so numbers can be parsed from their digits. Nesting is bounded (32). */

#ifndef MD_JRAW_H
#define MD_JRAW_H

#include <stddef.h>

//  Find member key of the JSON object in text (len bytes): its raw value text. Returns 0
//  with *val / *vlen set, 1 if the object has no such key, -1 if text is not one
//  well-formed object at the top (checked up to the key found).
int md_jraw_member (const char *text, size_t len, const char *key, const char **val, size_t *vlen);

//  Split the JSON array in text (len bytes) into its elements' raw texts: at most max
//  into elems / elen, the count into *n. Returns 0, or -1 if text is not one
//  well-formed array or has more than max elements.
int md_jraw_elems (const char *text, size_t len, const char **elems, size_t *elen, size_t max,
                   size_t *n);

#endif
