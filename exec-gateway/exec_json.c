/*  exec_json - cJSON with the source text of every number.
 *
 *  cJSON keeps a number only as a double (valuestring is NULL for numbers), and a
 *  double cannot hold 99725.05 or a 19-digit id exactly. So the text is parsed by cJSON
 *  as usual, then the tree is walked in document order beside a scan of the text that
 *  finds each number token outside strings: the n-th number node is the n-th token.
 *  The token's offset replaces the node's valueint (never used for anything else here),
 *  and readers parse money with kt_money_parse and integers digit by digit. */

#include "exec_kite.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

struct s_scan {
    const char *text;
    size_t len;
    size_t pos;
};

static bool
s_numchar (char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

//  Offset of the next number token outside strings, or -1 when there is none.
static long
s_next_number (struct s_scan *s)
{
    while (s->pos < s->len) {
        char c = s->text[s->pos];
        if (c == '"') {
            s->pos++;
            while (s->pos < s->len && s->text[s->pos] != '"')
                s->pos += s->text[s->pos] == '\\' ? 2 : 1;
            s->pos++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = s->pos;
            while (s->pos < s->len && s_numchar (s->text[s->pos]))
                s->pos++;
            return (long) start;
        } else
            s->pos++;
    }
    return -1;
}

static int
s_mark (cJSON *node, struct s_scan *s)
{
    for (; node; node = node->next) {
        if (cJSON_IsNumber (node)) {
            long off = s_next_number (s);
            if (off < 0)
                return -1;
            node->valueint = (int) off;
        }
        if (node->child && s_mark (node->child, s) != 0)
            return -1;
    }
    return 0;
}

int
exec_json_parse (exec_json_t *doc, const char *text, size_t len, char *why, size_t whylen)
{
    memset (doc, 0, sizeof *doc);
    if (len > INT_MAX) {
        snprintf (why, whylen, "JSON text of %zu bytes is too large", len);
        return -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts (text, len, &end, false);
    if (!root) {
        snprintf (why, whylen, "malformed JSON at byte %ld",
                  end && end >= text ? (long) (end - text) : 0L);
        return -1;
    }
    struct s_scan scan = {text, len, 0};
    if (s_mark (root, &scan) != 0) {
        cJSON_Delete (root);
        snprintf (why, whylen, "number text not found (internal error)");
        return -1;
    }
    doc->root = root;
    doc->text = text;
    doc->len = len;
    return 0;
}

void
exec_json_free (exec_json_t *doc)
{
    if (doc && doc->root) {
        cJSON_Delete (doc->root);
        doc->root = NULL;
    }
}

int
exec_json_num_text (const exec_json_t *doc, const cJSON *node, const char **text, size_t *len)
{
    if (!node || !cJSON_IsNumber (node) || node->valueint < 0 ||
        (size_t) node->valueint >= doc->len)
        return -1;
    size_t off = (size_t) node->valueint, n = 0;
    while (off + n < doc->len && s_numchar (doc->text[off + n]))
        n++;
    if (n == 0)
        return -1;
    *text = doc->text + off;
    *len = n;
    return 0;
}

int
exec_json_money (const exec_json_t *doc, const cJSON *obj, const char *key, int64_t *paise)
{
    *paise = 0;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive (obj, key);
    if (!it || cJSON_IsNull (it))
        return 1;
    const char *t;
    size_t n;
    if (exec_json_num_text (doc, it, &t, &n) != 0)
        return -1;
    return kt_money_parse (t, n, paise) == 0 ? 0 : -1;
}

static int
s_digits (const char *t, size_t n, int64_t *v)
{
    bool neg = n > 0 && t[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i == n)
        return -1;
    int64_t acc = 0;
    for (; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return -1;
        if (__builtin_mul_overflow (acc, 10, &acc) ||
            __builtin_add_overflow (acc, (neg ? -1 : 1) * (t[i] - '0'), &acc))
            return -1;
    }
    *v = acc;
    return 0;
}

int
exec_json_int (const exec_json_t *doc, const cJSON *obj, const char *key, int64_t *v)
{
    *v = 0;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive (obj, key);
    if (!it || cJSON_IsNull (it))
        return 1;
    if (cJSON_IsString (it))
        return s_digits (it->valuestring, strlen (it->valuestring), v);
    const char *t;
    size_t n;
    if (exec_json_num_text (doc, it, &t, &n) != 0)
        return -1;
    return s_digits (t, n, v);
}

int
exec_json_str (const exec_json_t *doc, const cJSON *obj, const char *key, char *buf, size_t cap)
{
    buf[0] = '\0';
    const cJSON *it = cJSON_GetObjectItemCaseSensitive (obj, key);
    if (!it || cJSON_IsNull (it))
        return 1;
    const char *t;
    size_t n;
    if (cJSON_IsString (it)) {
        t = it->valuestring;
        n = strlen (t);
    } else if (exec_json_num_text (doc, it, &t, &n) != 0)
        return -1;
    if (n >= cap)
        return -1;
    memcpy (buf, t, n);
    buf[n] = '\0';
    return 0;
}
