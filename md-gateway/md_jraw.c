/*  md_jraw - a reader of JSON text that hands out values as they are written.
 *
 *  cJSON keeps numbers only as doubles, and a price must be read from its digits; this
 *  walker checks the structure as far as it goes and returns the raw text of a value. */

#include "md_jraw.h"

#include <stdbool.h>
#include <string.h>

#define S_DEPTH_MAX 32

static const char *
s_ws (const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

//  End of the string starting at p (on its opening quote), or NULL.
static const char *
s_string_end (const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

//  End of the value starting at p, or NULL if it is cut or unbalanced.
static const char *
s_value_end (const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return s_string_end (p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = s_string_end (p, end);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') {
                if (++depth > S_DEPTH_MAX)
                    return NULL;
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
           *p != '\r' && *p != '\t')
        p++;
    return p > s ? p : NULL;
}

int
md_jraw_member (const char *text, size_t len, const char *key, const char **val, size_t *vlen)
{
    const char *p = text, *end = text + len;
    size_t klen = strlen (key);
    p = s_ws (p, end);
    if (p >= end || *p != '{')
        return -1;
    p = s_ws (p + 1, end);
    if (p < end && *p == '}')
        return 1;
    while (p < end) {
        if (*p != '"')
            return -1;
        const char *kend = s_string_end (p, end);
        if (!kend)
            return -1;
        bool match = (size_t) (kend - p - 2) == klen && memcmp (p + 1, key, klen) == 0;
        p = s_ws (kend, end);
        if (p >= end || *p != ':')
            return -1;
        p = s_ws (p + 1, end);
        const char *vend = s_value_end (p, end);
        if (!vend)
            return -1;
        if (match) {
            *val = p;
            *vlen = (size_t) (vend - p);
            return 0;
        }
        p = s_ws (vend, end);
        if (p < end && *p == '}')
            return 1;
        if (p >= end || *p != ',')
            return -1;
        p = s_ws (p + 1, end);
    }
    return -1;
}

int
md_jraw_elems (const char *text, size_t len, const char **elems, size_t *elen, size_t max,
               size_t *n)
{
    const char *p = text, *end = text + len;
    *n = 0;
    p = s_ws (p, end);
    if (p >= end || *p != '[')
        return -1;
    p = s_ws (p + 1, end);
    if (p < end && *p == ']')
        return 0;
    while (p < end) {
        const char *vend = s_value_end (p, end);
        if (!vend || *n == max)
            return -1;
        elems[*n] = p;
        elen[*n] = (size_t) (vend - p);
        (*n)++;
        p = s_ws (vend, end);
        if (p < end && *p == ']')
            return 0;
        if (p >= end || *p != ',')
            return -1;
        p = s_ws (p + 1, end);
    }
    return -1;
}
