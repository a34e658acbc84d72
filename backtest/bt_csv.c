/*  bt_csv - the backtest's input files (bars, ticks): a CSV read whole, a header of named
 *  columns in any order, rows split in place into fields by column, and every problem
 *  reported as "FILE:LINE: reason".
 *
 *  Fields are not quoted in these files (numbers and timestamps only); a quote in a
 *  field is simply part of its text and fails that field's own check. */

#include "bt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct bt_csv {
    char path[256];
    char *buf; //  owned: the whole file, NUL-terminated
    size_t len, pos;
    int64_t line;
    int ncols;               //  columns in the header
    int nnames;              //  names the caller knows
    int col_of[BT_CSV_COLS]; //  header position of each known name, -1 if absent
    const char *f[BT_CSV_COLS];
    size_t fl[BT_CSV_COLS];
};

int
bt_csv_fail (const bt_csv_t *self, char *err, size_t errlen, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (why, sizeof why, fmt, ap);
    va_end (ap);
    snprintf (err, errlen, "%s:%lld: %s", self->path, (long long) (self->line ? self->line : 1),
              why);
    return -1;
}

//  The next line as [*start, *end) without its line ending; false at the end.
static bool
s_line (bt_csv_t *self, const char **start, const char **end)
{
    if (self->pos >= self->len)
        return false;
    const char *s = self->buf + self->pos;
    const char *nl = memchr (s, '\n', self->len - self->pos);
    const char *e = nl ? nl : self->buf + self->len;
    self->pos = nl ? (size_t) (nl - self->buf) + 1 : self->len;
    if (e > s && e[-1] == '\r')
        e--;
    *start = s;
    *end = e;
    self->line++;
    return true;
}

bt_csv_t *
bt_csv_open (const char *path, const char *const *names, int nnames, int nrequired, char *err,
             size_t errlen)
{
    bt_csv_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    snprintf (self->path, sizeof self->path, "%s", path);
    self->nnames = nnames < BT_CSV_COLS ? nnames : BT_CSV_COLS;
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        goto out_free;
    }
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, 0, SEEK_SET);
    if (size < 0) {
        fclose (f);
        snprintf (err, errlen, "%s: cannot tell its size", path);
        goto out_free;
    }
    self->buf = malloc ((size_t) size + 1);
    if (!self->buf)
        abort ();
    self->len = fread (self->buf, 1, (size_t) size, f);
    fclose (f);
    self->buf[self->len] = '\0';
    if (self->len >= 3 && memcmp (self->buf, "\xEF\xBB\xBF", 3) == 0)
        self->pos = 3;

    const char *s, *e;
    if (!s_line (self, &s, &e)) {
        bt_csv_fail (self, err, errlen, "empty file (no header)");
        goto out_free;
    }
    for (int i = 0; i < BT_CSV_COLS; i++)
        self->col_of[i] = -1;
    int col = 0;
    while (s <= e) {
        const char *c = memchr (s, ',', (size_t) (e - s));
        const char *fe = c ? c : e;
        size_t n = (size_t) (fe - s);
        int which = -1;
        for (int i = 0; i < self->nnames; i++)
            if (strlen (names[i]) == n && memcmp (names[i], s, n) == 0)
                which = i;
        if (which < 0) {
            bt_csv_fail (self, err, errlen, "unknown column \"%.*s\"", n > 40 ? 40 : (int) n, s);
            goto out_free;
        }
        if (self->col_of[which] >= 0) {
            bt_csv_fail (self, err, errlen, "column \"%s\" repeated", names[which]);
            goto out_free;
        }
        self->col_of[which] = col++;
        s = fe + 1;
    }
    for (int i = 0; i < nrequired; i++) {
        if (self->col_of[i] < 0) {
            bt_csv_fail (self, err, errlen, "missing column \"%s\"", names[i]);
            goto out_free;
        }
    }
    self->ncols = col;
    return self;

out_free:
    free (self->buf);
    free (self);
    return NULL;
}

void
bt_csv_destroy (bt_csv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->buf);
    free (*self_p);
    *self_p = NULL;
}

int
bt_csv_next (bt_csv_t *self, char *err, size_t errlen)
{
    const char *s, *e;
    do {
        if (!s_line (self, &s, &e))
            return 0;
    } while (s == e); //  blank lines (a trailing newline) are not rows
    const char *f[BT_CSV_COLS];
    size_t fl[BT_CSV_COLS];
    int nf = 0;
    for (const char *p = s;; nf++) {
        if (nf >= self->ncols)
            return bt_csv_fail (self, err, errlen, "more fields than the header");
        const char *c = memchr (p, ',', (size_t) (e - p));
        const char *fe = c ? c : e;
        f[nf] = p;
        fl[nf] = (size_t) (fe - p);
        if (!c) {
            nf++;
            break;
        }
        p = c + 1;
    }
    if (nf != self->ncols)
        return bt_csv_fail (self, err, errlen, "fewer fields than the header");
    for (int i = 0; i < self->nnames; i++) {
        int c = self->col_of[i];
        self->f[i] = c >= 0 ? f[c] : NULL;
        self->fl[i] = c >= 0 ? fl[c] : 0;
    }
    return 1;
}

const char *
bt_csv_field (const bt_csv_t *self, int i, size_t *len)
{
    *len = self->fl[i];
    return self->f[i];
}

int64_t
bt_csv_line (const bt_csv_t *self)
{
    return self->line;
}

size_t
bt_csv_pos (const bt_csv_t *self)
{
    return self->pos;
}

size_t
bt_csv_size (const bt_csv_t *self)
{
    return self->len;
}

int
bt_csv_uint (const char *s, size_t n, int maxdigits, uint64_t *out)
{
    if (n == 0 || (int) n > maxdigits)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t) (s[i] - '0');
    }
    *out = v;
    return 0;
}

int
bt_csv_token (const bt_csv_t *self, int i, const kt_instr_table_t *instr,
              const struct kt_instr **out, char *err, size_t errlen)
{
    size_t n;
    const char *f = bt_csv_field (self, i, &n);
    uint64_t token;
    if (!f || bt_csv_uint (f, n, 10, &token) != 0)
        return bt_csv_fail (self, err, errlen, "instrument_token: not a token");
    *out = token <= UINT32_MAX ? kt_instr_by_token (instr, (uint32_t) token) : NULL;
    if (!*out)
        return bt_csv_fail (self, err, errlen, "unknown token %llu (not in the instruments)",
                            (unsigned long long) token);
    return 0;
}

int
bt_csv_price (const bt_csv_t *self, int i, const char *name, const struct kt_instr *in, int64_t *px,
              char *err, size_t errlen)
{
    size_t n;
    const char *f = bt_csv_field (self, i, &n);
    int w = n > 24 ? 24 : (int) n;
    if (!f || kt_money_parse_exact (f, n, px) != 0 || *px <= 0)
        return bt_csv_fail (self, err, errlen, "%s: not a price with at most 2 decimals \"%.*s\"",
                            name, w, f ? f : "");
    if (in->tick > 0 && *px % in->tick != 0)
        return bt_csv_fail (self, err, errlen, "%s: %.*s is not on the tick of %s", name, w, f,
                            in->sym);
    return 0;
}
