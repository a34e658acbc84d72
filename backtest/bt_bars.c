/*  bt_bars - the bars CSV of backtest-bars.md: read whole, checked row by row, handed
 *  out one minute at a time.
 *
 *  Design: the file is read into one buffer at open; rows are parsed in place (fields
 *  split at commas, prices through kt_money_parse_exact, the timestamp re-parsed only
 *  when its text changes), one row of look-ahead ends a minute. Every problem is
 *  "FILE:LINE: reason" and stops the run: a half-read history is worse than none. */

#include "bt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_cols[] = {
    "timestamp", "instrument_token", "open", "high", "low", "close", "volume"};
#define S_NCOLS 7

struct bt_bars {
    char path[256];
    const kt_instr_table_t *instr; //  borrowed
    char *buf;                     //  owned: the whole file, NUL-terminated
    size_t len, pos;
    int64_t line;        //  line of the last row read
    int col_of[S_NCOLS]; //  column index of each field
    int ncols;
    bool have_peek;
    struct strat_bar peek;
    int64_t peek_line;
    int64_t prev_ts;
    uint32_t prev_token;
    char ts_text[40]; //  the last timestamp's text and value
    int64_t ts_val;
};

static int
s_fail (const bt_bars_t *self, int64_t line, char *err, size_t errlen, const char *why)
{
    snprintf (err, errlen, "%s:%lld: %s", self->path, (long long) line, why);
    return -1;
}

//  The next line as [*start, *end) without its line ending; false at the end.
static bool
s_line (bt_bars_t *self, const char **start, const char **end)
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

bt_bars_t *
bt_bars_open (const char *path, const kt_instr_table_t *instr, char *err, size_t errlen)
{
    bt_bars_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    snprintf (self->path, sizeof self->path, "%s", path);
    self->instr = instr;
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
        s_fail (self, 1, err, errlen, "empty file (no header)");
        goto out_free;
    }
    for (int i = 0; i < S_NCOLS; i++)
        self->col_of[i] = -1;
    int col = 0;
    while (s <= e) {
        const char *c = memchr (s, ',', (size_t) (e - s));
        const char *fe = c ? c : e;
        int which = -1;
        for (int i = 0; i < S_NCOLS; i++)
            if (strlen (s_cols[i]) == (size_t) (fe - s) &&
                memcmp (s_cols[i], s, (size_t) (fe - s)) == 0)
                which = i;
        char why[160];
        if (which < 0) {
            snprintf (why, sizeof why, "unknown column \"%.*s\"",
                      (int) (fe - s) > 40 ? 40 : (int) (fe - s), s);
            s_fail (self, 1, err, errlen, why);
            goto out_free;
        }
        if (self->col_of[which] >= 0) {
            snprintf (why, sizeof why, "column \"%s\" repeated", s_cols[which]);
            s_fail (self, 1, err, errlen, why);
            goto out_free;
        }
        self->col_of[which] = col++;
        s = fe + 1;
    }
    for (int i = 0; i < S_NCOLS; i++) {
        if (self->col_of[i] < 0) {
            char why[80];
            snprintf (why, sizeof why, "missing column \"%s\"", s_cols[i]);
            s_fail (self, 1, err, errlen, why);
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
bt_bars_destroy (bt_bars_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->buf);
    free (*self_p);
    *self_p = NULL;
}

size_t
bt_bars_pos (const bt_bars_t *self)
{
    return self->pos;
}

size_t
bt_bars_size (const bt_bars_t *self)
{
    return self->len;
}

//  Two decimal digits at s, or -1.
static int
s_two (const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

//  "2026-11-23T09:15:00+0530" (also "+05:30", "Z", or a space for the T).
static int
s_parse_ts (const char *s, size_t n, int64_t *out, const char **why)
{
    char date[11], hhmm[6];
    int y, mo, d, hh, mi;
    *why = "timestamp: expected YYYY-MM-DDTHH:MM:SS+hhmm";
    if (n < 19 || (s[10] != 'T' && s[10] != ' ') || s[16] != ':')
        return -1;
    memcpy (date, s, 10);
    date[10] = '\0';
    memcpy (hhmm, s + 11, 5);
    hhmm[5] = '\0';
    int ss = s_two (s + 17);
    if (kt_ist_parse_date (date, &y, &mo, &d) != 0 || kt_ist_parse_hhmm (hhmm, &hh, &mi) != 0 ||
        ss < 0 || ss > 59)
        return -1;
    const char *z = s + 19;
    size_t zn = n - 19;
    int off = 0;
    if (zn == 1 && z[0] == 'Z')
        off = 0;
    else if ((zn == 5 || (zn == 6 && z[3] == ':')) && (z[0] == '+' || z[0] == '-')) {
        int oh = s_two (z + 1), om = s_two (z + zn - 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59) {
            *why = "timestamp: bad UTC offset";
            return -1;
        }
        off = (z[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else {
        *why = "timestamp: missing or bad UTC offset";
        return -1;
    }
    if (ss != 0) {
        *why = "timestamp: not the start of a minute";
        return -1;
    }
    int64_t secs = kt_clock_days_from_civil (y, mo, d) * 86400 + hh * 3600 + mi * 60 - off;
    *out = secs * KT_NS_PER_SEC;
    return 0;
}

//  Parse the next data row into self->peek. 1 = a row, 0 = end, -1 = error.
static int
s_read_row (bt_bars_t *self, char *err, size_t errlen)
{
    const char *s, *e;
    do {
        if (!s_line (self, &s, &e))
            return 0;
    } while (s == e); //  blank lines (a trailing newline) are not rows
    const char *f[S_NCOLS + 8];
    size_t fl[S_NCOLS + 8];
    int nf = 0;
    for (const char *p = s;; nf++) {
        if (nf >= self->ncols)
            return s_fail (self, self->line, err, errlen, "more fields than the header");
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
        return s_fail (self, self->line, err, errlen, "fewer fields than the header");
    struct strat_bar *b = &self->peek;
    memset (b, 0, sizeof *b);
    const char *why = NULL;
    char msg[160];

    const char *ts = f[self->col_of[0]];
    size_t tsl = fl[self->col_of[0]];
    if (tsl < sizeof self->ts_text && self->ts_text[tsl] == '\0' &&
        memcmp (ts, self->ts_text, tsl) == 0 && self->ts_val)
        b->ts = self->ts_val;
    else {
        if (s_parse_ts (ts, tsl, &b->ts, &why) != 0)
            return s_fail (self, self->line, err, errlen, why);
        if (tsl < sizeof self->ts_text) {
            memcpy (self->ts_text, ts, tsl);
            self->ts_text[tsl] = '\0';
            self->ts_val = b->ts;
        }
    }

    const char *tk = f[self->col_of[1]];
    size_t tkl = fl[self->col_of[1]];
    uint64_t token = 0;
    if (tkl == 0 || tkl > 10)
        return s_fail (self, self->line, err, errlen, "instrument_token: not a token");
    for (size_t i = 0; i < tkl; i++) {
        if (tk[i] < '0' || tk[i] > '9')
            return s_fail (self, self->line, err, errlen, "instrument_token: not a token");
        token = token * 10 + (uint64_t) (tk[i] - '0');
    }
    const struct kt_instr *in =
        token <= UINT32_MAX ? kt_instr_by_token (self->instr, (uint32_t) token) : NULL;
    if (!in) {
        snprintf (msg, sizeof msg, "unknown token %llu (not in the instruments)",
                  (unsigned long long) token);
        return s_fail (self, self->line, err, errlen, msg);
    }
    b->token = (uint32_t) token;

    int64_t *px[4] = {&b->open, &b->high, &b->low, &b->close};
    for (int i = 0; i < 4; i++) {
        const char *v = f[self->col_of[2 + i]];
        size_t vl = fl[self->col_of[2 + i]];
        if (kt_money_parse_exact (v, vl, px[i]) != 0 || *px[i] <= 0) {
            snprintf (msg, sizeof msg, "%s: not a price with at most 2 decimals \"%.*s\"",
                      s_cols[2 + i], vl > 24 ? 24 : (int) vl, v);
            return s_fail (self, self->line, err, errlen, msg);
        }
        if (in->tick > 0 && *px[i] % in->tick != 0) {
            snprintf (msg, sizeof msg, "%s: %.*s is not on the tick of %s", s_cols[2 + i],
                      vl > 24 ? 24 : (int) vl, v, in->sym);
            return s_fail (self, self->line, err, errlen, msg);
        }
    }
    if (b->high < b->low)
        return s_fail (self, self->line, err, errlen, "high < low");
    if (b->open < b->low || b->open > b->high || b->close < b->low || b->close > b->high)
        return s_fail (self, self->line, err, errlen, "open or close outside [low, high]");

    const char *v = f[self->col_of[6]];
    size_t vl = fl[self->col_of[6]];
    if (vl == 0 || vl > 18)
        return s_fail (self, self->line, err, errlen, "volume: not a whole number");
    int64_t vol = 0;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] < '0' || v[i] > '9')
            return s_fail (self, self->line, err, errlen, "volume: not a whole number");
        vol = vol * 10 + (v[i] - '0');
    }
    b->volume = vol;

    if (b->ts < self->prev_ts || (b->ts == self->prev_ts && b->token <= self->prev_token)) {
        return s_fail (self, self->line, err, errlen,
                       b->ts == self->prev_ts && b->token == self->prev_token
                           ? "row repeated (same timestamp and token)"
                           : "rows not sorted by timestamp, then token");
    }
    self->prev_ts = b->ts;
    self->prev_token = b->token;
    self->peek_line = self->line;
    return 1;
}

int
bt_bars_next (bt_bars_t *self, struct strat_bar *out, int max, char *err, size_t errlen)
{
    if (!self->have_peek) {
        int rc = s_read_row (self, err, errlen);
        if (rc <= 0)
            return rc;
        self->have_peek = true;
    }
    int n = 0;
    int64_t ts = self->peek.ts;
    while (self->have_peek && self->peek.ts == ts) {
        if (n >= max)
            return s_fail (self, self->peek_line, err, errlen, "too many rows in one minute");
        out[n++] = self->peek;
        int rc = s_read_row (self, err, errlen);
        if (rc < 0)
            return -1;
        self->have_peek = rc == 1;
    }
    return n;
}
