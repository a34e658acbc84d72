/*  sim_replay - the replay CSV parser (formats in sim_replay.h and docs/kite-sim.md).
 *
 *  One pass over the text: each row is checked (field count, time, date, order,
 *  prices, volume) and appended; bars are expanded into four ticks. A final stable sort
 *  by (time, file order) interleaves the expanded ticks of different instruments. The
 *  first bad row stops the parse with its line number. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim_replay.h"

#define S_MAX_FIELDS 8
#define S_FIELD_LEN 64

struct s_tick_sorted {
    struct sim_replay_tick tick;
    size_t seq; //  order of creation: the tie-break of the sort
};

static void *
s_realloc (void *p, size_t n)
{
    void *q = realloc (p, n ? n : 1);
    if (!q) {
        fprintf (stderr, "sim_replay: out of memory (%zu bytes)\n", n);
        abort ();
    }
    return q;
}

//  Split one line (without its newline) at commas into trimmed fields. Returns the
//  field count, or -1 when a field is too long or holds a quote.
static int
s_split (const char *line, size_t len, char fields[][S_FIELD_LEN], int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ',')
            continue;
        if (n == max)
            return max + 1;
        size_t a = start, b = i;
        while (a < b && isspace ((unsigned char) line[a]))
            a++;
        while (b > a && isspace ((unsigned char) line[b - 1]))
            b--;
        if (b - a >= S_FIELD_LEN || memchr (line + a, '"', b - a))
            return -1;
        memcpy (fields[n], line + a, b - a);
        fields[n][b - a] = '\0';
        n++;
        start = i + 1;
    }
    return n;
}

static bool
s_digits (const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit ((unsigned char) s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

//  "YYYY-MM-DD HH:MM:SS[.f]" or "YYYY-MM-DDTHH:MM:SS+0530" / "+05:30", IST.
static int
s_parse_ts (const char *s, int64_t *ts_ns, int32_t *date)
{
    size_t len = strlen (s);
    int y, mo, d, hh, mi, ss;
    if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
        s[16] != ':')
        return -1;
    char day[11];
    memcpy (day, s, 10);
    day[10] = '\0';
    if (kt_ist_parse_date (day, &y, &mo, &d) != 0)
        return -1;
    if (!s_digits (s + 11, 2, &hh) || !s_digits (s + 14, 2, &mi) || !s_digits (s + 17, 2, &ss) ||
        hh > 23 || mi > 59 || ss > 59)
        return -1;
    int64_t frac_ns = 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        int64_t scale = 100000000;
        if (!isdigit ((unsigned char) *p))
            return -1;
        while (isdigit ((unsigned char) *p)) {
            frac_ns += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (*p == '+') {
        if (strcmp (p, "+0530") != 0 && strcmp (p, "+05:30") != 0)
            return -1; //  only IST: a foreign offset is almost surely a wrong file
    } else if (*p)
        return -1;
    *ts_ns = kt_ist_ns (y, mo, d, hh, mi, ss) + frac_ns;
    *date = y * 10000 + mo * 100 + d;
    return 0;
}

static int
s_parse_int (const char *s, int64_t *out)
{
    if (!*s)
        return -1;
    for (const char *p = s; *p; p++)
        if (!isdigit ((unsigned char) *p))
            return -1;
    errno = 0;
    long long v = strtoll (s, NULL, 10);
    if (errno)
        return -1;
    *out = v;
    return 0;
}

static int
s_parse_price (const char *s, int64_t *out)
{
    int64_t px;
    if (kt_money_parse (s, strlen (s), &px) != 0 || px <= 0 || px >= INT32_MAX)
        return -1;
    *out = px;
    return 0;
}

static int
s_cmp (const void *a, const void *b)
{
    const struct s_tick_sorted *x = a, *y = b;
    if (x->tick.ts_ns != y->tick.ts_ns)
        return x->tick.ts_ns < y->tick.ts_ns ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct s_parser {
    struct s_tick_sorted *rows; //  owned
    size_t count, cap;
    bool bars;
    bool key_is_token;
    int32_t date;
    int64_t last_ts;
};

static void
s_push (struct s_parser *p, int64_t ts, const char *key, int64_t ltp, int64_t volume, int line)
{
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->rows = s_realloc (p->rows, p->cap * sizeof *p->rows);
    }
    struct s_tick_sorted *r = &p->rows[p->count];
    memset (r, 0, sizeof *r);
    r->seq = p->count;
    r->tick.ts_ns = ts;
    snprintf (r->tick.key, sizeof r->tick.key, "%s", key);
    if (p->key_is_token)
        r->tick.token = (uint32_t) strtoul (key, NULL, 10);
    r->tick.ltp = ltp;
    r->tick.volume = volume;
    r->tick.line = line;
    p->count++;
}

static int
s_header (struct s_parser *p, char fields[][S_FIELD_LEN], int n)
{
    if (n != 4 && n != 7)
        return -1;
    if (strcmp (fields[0], "ts") != 0)
        return -1;
    if (!strcmp (fields[1], "token") || !strcmp (fields[1], "instrument_token"))
        p->key_is_token = true;
    else if (!strcmp (fields[1], "tradingsymbol") || !strcmp (fields[1], "symbol"))
        p->key_is_token = false;
    else
        return -1;
    if (n == 4)
        return strcmp (fields[2], "ltp") || strcmp (fields[3], "volume") ? -1 : 0;
    p->bars = true;
    return strcmp (fields[2], "open") || strcmp (fields[3], "high") || strcmp (fields[4], "low") ||
                   strcmp (fields[5], "close") || strcmp (fields[6], "volume")
               ? -1
               : 0;
}

//  One data row. Returns 0, or -1 with the reason in err.
static int
s_row (struct s_parser *p, char fields[][S_FIELD_LEN], int n, int line, char *err, size_t errlen)
{
    int want = p->bars ? 7 : 4;
    if (n != want) {
        snprintf (err, errlen, "line %d: %d fields, expected %d", line, n, want);
        return -1;
    }
    int64_t ts;
    int32_t date;
    if (s_parse_ts (fields[0], &ts, &date) != 0) {
        snprintf (err, errlen, "line %d: bad ts \"%s\" (YYYY-MM-DD HH:MM:SS, IST)", line,
                  fields[0]);
        return -1;
    }
    if (p->date == 0)
        p->date = date;
    else if (date != p->date) {
        snprintf (err, errlen, "line %d: date %d differs from the file's first date %d", line, date,
                  p->date);
        return -1;
    }
    int minute = kt_ist_minute_of_day (ts);
    if (minute < 9 * 60 + 15 || minute >= 15 * 60 + 30) {
        snprintf (err, errlen, "line %d: %s is outside market hours 09:15-15:30", line, fields[0]);
        return -1;
    }
    if (ts < p->last_ts) {
        snprintf (err, errlen, "line %d: time goes backwards", line);
        return -1;
    }
    p->last_ts = ts;
    if (!fields[1][0] || (p->key_is_token && (s_parse_int (fields[1], &(int64_t){0}) != 0 ||
                                              strtoull (fields[1], NULL, 10) > UINT32_MAX))) {
        snprintf (err, errlen, "line %d: bad instrument \"%s\"", line, fields[1]);
        return -1;
    }
    int64_t volume;
    if (s_parse_int (fields[want - 1], &volume) != 0) {
        snprintf (err, errlen, "line %d: bad volume \"%s\"", line, fields[want - 1]);
        return -1;
    }
    if (!p->bars) {
        int64_t ltp;
        if (s_parse_price (fields[2], &ltp) != 0) {
            snprintf (err, errlen, "line %d: bad ltp \"%s\"", line, fields[2]);
            return -1;
        }
        s_push (p, ts, fields[1], ltp, volume, line);
        return 0;
    }
    int64_t px[4];
    static const char *names[4] = {"open", "high", "low", "close"};
    for (int i = 0; i < 4; i++) {
        if (s_parse_price (fields[2 + i], &px[i]) != 0) {
            snprintf (err, errlen, "line %d: bad %s \"%s\"", line, names[i], fields[2 + i]);
            return -1;
        }
    }
    int64_t o = px[0], h = px[1], l = px[2], c = px[3];
    if (h < o || h < c || l > o || l > c || l > h) {
        snprintf (err, errlen, "line %d: high/low do not contain open/close", line);
        return -1;
    }
    if (kt_ist_minute_of_day (ts + 45 * KT_NS_PER_SEC) >= 15 * 60 + 30) {
        snprintf (err, errlen, "line %d: bar starts too late (last bar is 15:29)", line);
        return -1;
    }
    //  A bar that closed down most likely made its high first.
    int64_t mid1 = c < o ? h : l, mid2 = c < o ? l : h;
    int64_t share = volume / 4;
    s_push (p, ts, fields[1], o, share, line);
    s_push (p, ts + 15 * KT_NS_PER_SEC, fields[1], mid1, share, line);
    s_push (p, ts + 30 * KT_NS_PER_SEC, fields[1], mid2, share, line);
    s_push (p, ts + 45 * KT_NS_PER_SEC, fields[1], c, volume - 3 * share, line);
    return 0;
}

struct sim_replay *
sim_replay_parse (const char *text, size_t len, char *err, size_t errlen)
{
    struct s_parser p = {0};
    char fields[S_MAX_FIELDS][S_FIELD_LEN];
    bool have_header = false;
    int line = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr (start, '\n', len - pos);
        size_t l = nl ? (size_t) (nl - start) : len - pos;
        pos += l + (nl ? 1 : 0);
        line++;
        if (l > 0 && start[l - 1] == '\r')
            l--;
        if (memchr (start, '\0', l)) {
            snprintf (err, errlen, "line %d: NUL byte", line);
            goto out_fail;
        }
        size_t k = 0;
        while (k < l && isspace ((unsigned char) start[k]))
            k++;
        if (k == l)
            continue; //  blank line
        int n = s_split (start, l, fields, S_MAX_FIELDS);
        if (!have_header) {
            if (n < 0 || s_header (&p, fields, n) != 0) {
                snprintf (err, errlen,
                          "line %d: header must be \"ts,token,ltp,volume\" or "
                          "\"ts,token,open,high,low,close,volume\"",
                          line);
                goto out_fail;
            }
            have_header = true;
            continue;
        }
        if (n < 0) {
            snprintf (err, errlen, "line %d: field too long or quoted", line);
            goto out_fail;
        }
        if (s_row (&p, fields, n, line, err, errlen) != 0)
            goto out_fail;
    }
    if (!have_header) {
        snprintf (err, errlen, "empty replay file");
        goto out_fail;
    }
    if (p.count == 0) {
        snprintf (err, errlen, "replay file has a header but no rows");
        goto out_fail;
    }
    qsort (p.rows, p.count, sizeof *p.rows, s_cmp);
    struct sim_replay *self = s_realloc (NULL, sizeof *self);
    self->ticks = s_realloc (NULL, p.count * sizeof *self->ticks);
    for (size_t i = 0; i < p.count; i++)
        self->ticks[i] = p.rows[i].tick;
    self->count = p.count;
    self->bars = p.bars;
    self->date = p.date;
    free (p.rows);
    return self;

out_fail:
    free (p.rows);
    return NULL;
}

struct sim_replay *
sim_replay_load (const char *path, char *err, size_t errlen)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            buf = s_realloc (buf, cap);
        }
        size_t got = fread (buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool failed = ferror (f);
    fclose (f);
    if (failed) {
        snprintf (err, errlen, "%s: read error", path);
        free (buf);
        return NULL;
    }
    char why[256];
    struct sim_replay *self = sim_replay_parse (buf, len, why, sizeof why);
    free (buf);
    if (!self)
        snprintf (err, errlen, "%s: %s", path, why);
    return self;
}

void
sim_replay_destroy (struct sim_replay **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->ticks);
    free (*self_p);
    *self_p = NULL;
}
