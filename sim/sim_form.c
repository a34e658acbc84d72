/*  sim_form - application/x-www-form-urlencoded key/value lists for kite-sim.
 *
 *  Used by sim_http for POST/PUT bodies (Kite's request encoding) and for query
 *  strings (lws hands over decoded "k=v" fragments, added with sim_form_add), and by
 *  sim_fault for admin requests. Keys may repeat (`i=NSE:INFY&i=NFO:...`); order is
 *  kept. '+' decodes to a space, %XX to its byte; a broken escape or a NUL byte, raw
 *  or %00 (keys and values are C strings), is an error, not a guess. Off the tick
 *  path, so pairs are ordinary heap strings. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

#define S_KEY_MAX 64

void
sim_form_clear (struct sim_form *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free (self->pairs[i].key);
        free (self->pairs[i].val);
    }
    free (self->pairs);
    self->pairs = NULL;
    self->count = self->cap = 0;
}

static char *
s_dup (const char *s, size_t n)
{
    char *d = malloc (n + 1);
    if (!d)
        abort ();
    memcpy (d, s, n);
    d[n] = '\0';
    return d;
}

int
sim_form_add (struct sim_form *self, const char *key, size_t klen, const char *val, size_t vlen)
{
    if (klen > S_KEY_MAX)
        return -1;
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        struct sim_form_pair *p = realloc (self->pairs, cap * sizeof *p);
        if (!p)
            abort ();
        self->pairs = p;
        self->cap = cap;
    }
    self->pairs[self->count].key = s_dup (key, klen);
    self->pairs[self->count].val = s_dup (val, vlen);
    self->count++;
    return 0;
}

static int
s_hexval (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Decode src[0..n) into dst (at least n + 1 bytes). Returns the length or -1.
static long
s_decode (const char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = s_hexval (src[i + 1]), lo = s_hexval (src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char) (hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return -1; //  a NUL would cut the C string short: "k%00x" would be "k"
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (long) o;
}

int
sim_form_parse (struct sim_form *self, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && text[end] != '&')
            end++;
        if (end > i) {
            const char *eq = memchr (text + i, '=', end - i);
            size_t klen = eq ? (size_t) (eq - (text + i)) : end - i;
            size_t vstart = eq ? (size_t) (eq - text) + 1 : end;
            char *k = malloc (klen + 1), *v = malloc (end - vstart + 1);
            if (!k || !v)
                abort ();
            long kl = s_decode (text + i, klen, k);
            long vl = s_decode (text + vstart, end - vstart, v);
            int rc = (kl < 0 || vl < 0) ? -1 : sim_form_add (self, k, (size_t) kl, v, (size_t) vl);
            free (k);
            free (v);
            if (rc != 0)
                return -1;
        }
        i = end + 1;
    }
    return 0;
}

const char *
sim_form_get (const struct sim_form *self, const char *key)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->pairs[i].key, key) == 0)
            return self->pairs[i].val;
    return NULL;
}
