/*  bt_bars - the bars CSV of backtest-bars.md: checked row by row, handed out one minute
 *  at a time.
 *
 *  Design: bt_csv holds the file and splits rows; prices go through kt_money_parse_exact,
 *  the timestamp is re-parsed only when its text changes, and one row of look-ahead ends
 *  a minute. Every problem is "FILE:LINE: reason" and stops the run: a half-read history
 *  is worse than none. */

#include "bt.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_cols[] = {
    "timestamp", "instrument_token", "open", "high", "low", "close", "volume"};
#define S_NCOLS 7

struct bt_bars {
    bt_csv_t *csv;                 //  owned
    const kt_instr_table_t *instr; //  borrowed
    bool have_peek;
    struct strat_bar peek;
    int64_t prev_ts;
    uint32_t prev_token;
    char ts_text[40]; //  the last timestamp's text and value
    int64_t ts_val;
};

bt_bars_t *
bt_bars_open (const char *path, const kt_instr_table_t *instr, char *err, size_t errlen)
{
    bt_csv_t *csv = bt_csv_open (path, s_cols, S_NCOLS, S_NCOLS, err, errlen);
    if (!csv)
        return NULL;
    bt_bars_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->csv = csv;
    self->instr = instr;
    return self;
}

void
bt_bars_destroy (bt_bars_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bt_csv_destroy (&(*self_p)->csv);
    free (*self_p);
    *self_p = NULL;
}

const bt_csv_t *
bt_bars_csv (const bt_bars_t *self)
{
    return self->csv;
}

//  Two decimal digits at s, or -1.
static int
s_two (const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int
bt_parse_ts (const char *s, size_t n, bool minute, int64_t *out, const char **why)
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
    int64_t frac = 0;
    if (!minute && zn > 0 && z[0] == '.') {
        //  Up to 9 digits of fraction (nanoseconds).
        int digits = 0;
        int64_t scale = 100000000;
        z++, zn--;
        while (zn > 0 && z[0] >= '0' && z[0] <= '9' && digits < 9) {
            frac += (z[0] - '0') * scale;
            scale /= 10;
            z++, zn--, digits++;
        }
        if (digits == 0) {
            *why = "timestamp: empty fraction of a second";
            return -1;
        }
    }
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
    if (minute && ss != 0) {
        *why = "timestamp: not the start of a minute";
        return -1;
    }
    int64_t secs = kt_clock_days_from_civil (y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off;
    *out = secs * KT_NS_PER_SEC + frac;
    return 0;
}

//  Parse the next data row into self->peek. 1 = a row, 0 = end, -1 = error.
static int
s_read_row (bt_bars_t *self, char *err, size_t errlen)
{
    int rc = bt_csv_next (self->csv, err, errlen);
    if (rc <= 0)
        return rc;
    struct strat_bar *b = &self->peek;
    memset (b, 0, sizeof *b);
    const char *why = NULL;
    size_t tsl;
    const char *ts = bt_csv_field (self->csv, 0, &tsl);
    if (tsl < sizeof self->ts_text && self->ts_text[tsl] == '\0' &&
        memcmp (ts, self->ts_text, tsl) == 0 && self->ts_val)
        b->ts = self->ts_val;
    else {
        if (bt_parse_ts (ts, tsl, true, &b->ts, &why) != 0)
            return bt_csv_fail (self->csv, err, errlen, "%s", why);
        if (tsl < sizeof self->ts_text) {
            memcpy (self->ts_text, ts, tsl);
            self->ts_text[tsl] = '\0';
            self->ts_val = b->ts;
        }
    }
    const struct kt_instr *in;
    if (bt_csv_token (self->csv, 1, self->instr, &in, err, errlen) != 0)
        return -1;
    b->token = in->token;
    int64_t *px[4] = {&b->open, &b->high, &b->low, &b->close};
    for (int i = 0; i < 4; i++)
        if (bt_csv_price (self->csv, 2 + i, s_cols[2 + i], in, px[i], err, errlen) != 0)
            return -1;
    if (b->high < b->low)
        return bt_csv_fail (self->csv, err, errlen, "high < low");
    if (b->open < b->low || b->open > b->high || b->close < b->low || b->close > b->high)
        return bt_csv_fail (self->csv, err, errlen, "open or close outside [low, high]");
    size_t vl;
    const char *v = bt_csv_field (self->csv, 6, &vl);
    uint64_t vol;
    if (bt_csv_uint (v, vl, 18, &vol) != 0)
        return bt_csv_fail (self->csv, err, errlen, "volume: not a whole number");
    b->volume = (int64_t) vol;
    if (b->ts < self->prev_ts || (b->ts == self->prev_ts && b->token <= self->prev_token)) {
        return bt_csv_fail (self->csv, err, errlen, "%s",
                            b->ts == self->prev_ts && b->token == self->prev_token
                                ? "row repeated (same timestamp and token)"
                                : "rows not sorted by timestamp, then token");
    }
    self->prev_ts = b->ts;
    self->prev_token = b->token;
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
            return bt_csv_fail (self->csv, err, errlen, "too many rows in one minute");
        out[n++] = self->peek;
        int rc = s_read_row (self, err, errlen);
        if (rc < 0)
            return -1;
        self->have_peek = rc == 1;
    }
    return n;
}
