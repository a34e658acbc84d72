/*  kt_instr - Kite's instruments CSV as a read-only table with O(1) lookups.
 *
 *  Design overview: the rows live in one array in file order. Three open-addressing
 *  hash indexes (linear probing, power-of-two capacity at most half full) hold row
 *  index + 1 (0 = empty): by token, by tradingsymbol (the exchange is compared while
 *  probing, so a NULL exchange finds the first row in file order) and by option key
 *  (underlying, expiry, strike, CE/PE). Nothing is removed, so probe chains never
 *  break. The parser is a strict RFC 4180 reader: a malformed record fails the whole
 *  load with its line number, because a half-loaded dump would trade on a partial
 *  universe. The old mock dumps leave `name` empty for options; the underlying is then
 *  recovered from the tradingsymbol (kite-protocol.md 7.2) so kt_instr_option works. */

#include "kt_instr.h"
#include "kt_money.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_FIELDS 64         //  columns in a record (Kite has 12)
#define S_FIELD_MAX 1024        //  bytes in one field after unquoting
#define S_MAX_FILE (512L << 20) //  refuse absurd files instead of exhausting memory
#define S_UNDER_LEN 32

enum {
    S_COL_TOKEN,
    S_COL_EXCH_TOKEN,
    S_COL_SYM,
    S_COL_NAME,
    S_COL_LAST,
    S_COL_EXPIRY,
    S_COL_STRIKE,
    S_COL_TICK,
    S_COL_LOT,
    S_COL_ITYPE,
    S_COL_SEGMENT,
    S_COL_EXCHANGE,
    S_NCOLS
};

static const char *s_col_names[S_NCOLS] = {
    "instrument_token", "exchange_token",  "tradingsymbol", "name",
    "last_price",       "expiry",          "strike",        "tick_size",
    "lot_size",         "instrument_type", "segment",       "exchange"};

struct kt_instr_table {
    struct kt_instr *rows;      //  owned, count entries, file order
    char (*under)[S_UNDER_LEN]; //  owned, per row: underlying for option lookups
    size_t count;
    size_t alloc;
    uint32_t *by_token;  //  owned, cap slots: row index + 1, 0 = empty
    uint32_t *by_sym;    //  owned, cap slots
    uint32_t *by_option; //  owned, cap slots
    size_t cap;          //  power of two, >= 2 * count
};

// ---- CSV reader ---------------------------------------------------------------------

typedef struct {
    const char *p;   //  borrowed: next byte
    const char *end; //  borrowed
    size_t line;     //  physical line of p, 1-based
    size_t rec_line; //  line where the current record started
    char scratch[S_MAX_FIELDS * 64 + S_FIELD_MAX];
    size_t used;
    const char *fields[S_MAX_FIELDS]; //  borrowed from scratch
    size_t nfields;
} s_csv_t;

static void
s_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, errlen, fmt, ap);
    va_end (ap);
}

static bool
s_at_eol (const s_csv_t *csv)
{
    return csv->p == csv->end || *csv->p == '\n' ||
           (*csv->p == '\r' && csv->p + 1 < csv->end && csv->p[1] == '\n');
}

static void
s_skip_eol (s_csv_t *csv)
{
    if (csv->p < csv->end && *csv->p == '\r')
        csv->p++;
    if (csv->p < csv->end && *csv->p == '\n') {
        csv->p++;
        csv->line++;
    }
}

static int
s_put (s_csv_t *csv, char c, char *err, size_t errlen)
{
    //  One byte is kept for the terminating NUL of the field.
    if (csv->used + 1 >= sizeof csv->scratch) {
        s_err (err, errlen, "line %zu: field %zu too long", csv->rec_line, csv->nfields + 1);
        return -1;
    }
    csv->scratch[csv->used++] = c;
    return 0;
}

//  Read one record into csv->fields. Returns 1, 0 at end of input, -1 on error.
//  Empty lines are skipped: they carry no data and some tools append them.
static int
s_csv_record (s_csv_t *csv, char *err, size_t errlen)
{
    while (csv->p < csv->end && s_at_eol (csv))
        s_skip_eol (csv);
    if (csv->p >= csv->end)
        return 0;
    csv->rec_line = csv->line;
    csv->used = 0;
    csv->nfields = 0;
    while (true) {
        if (csv->nfields == S_MAX_FIELDS) {
            s_err (err, errlen, "line %zu: more than %d fields", csv->rec_line, S_MAX_FIELDS);
            return -1;
        }
        size_t start = csv->used;
        if (csv->p < csv->end && *csv->p == '"') {
            csv->p++;
            while (true) {
                if (csv->p >= csv->end) {
                    s_err (err, errlen, "line %zu: field %zu: unterminated quoted field",
                           csv->rec_line, csv->nfields + 1);
                    return -1;
                }
                char c = *csv->p++;
                if (c == '"') {
                    if (csv->p < csv->end && *csv->p == '"')
                        csv->p++; //  "" is one quote
                    else
                        break;
                }
                if (c == '\n')
                    csv->line++;
                if (s_put (csv, c, err, errlen) != 0)
                    return -1;
            }
            if (!s_at_eol (csv) && *csv->p != ',') {
                s_err (err, errlen, "line %zu: field %zu: text after closing quote", csv->rec_line,
                       csv->nfields + 1);
                return -1;
            }
        } else {
            while (!s_at_eol (csv) && *csv->p != ',') {
                char c = *csv->p++;
                if (c == '"' || c == '\r') {
                    s_err (err, errlen, "line %zu: field %zu: stray %s in unquoted field",
                           csv->rec_line, csv->nfields + 1, c == '"' ? "quote" : "CR");
                    return -1;
                }
                if (s_put (csv, c, err, errlen) != 0)
                    return -1;
            }
        }
        if (s_put (csv, '\0', err, errlen) != 0)
            return -1;
        csv->fields[csv->nfields++] = csv->scratch + start;
        if (s_at_eol (csv)) {
            s_skip_eol (csv);
            return 1;
        }
        csv->p++; //  the comma
    }
}

// ---- field parsers ------------------------------------------------------------------

static int
s_parse_uint (const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned) (*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static bool
s_is_leap (int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

//  "YYYY-MM-DD" -> YYYYMMDD, a real calendar date. Returns 0 or -1.
static int
s_parse_date (const char *s, int32_t *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen (s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int part[3] = {0, 0, 0};
    const int pos[3][2] = {{0, 4}, {5, 2}, {8, 2}};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < pos[k][1]; i++) {
            char c = s[pos[k][0] + i];
            if (c < '0' || c > '9')
                return -1;
            part[k] = part[k] * 10 + (c - '0');
        }
    }
    int y = part[0], m = part[1], d = part[2];
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return -1;
    int dim = mdays[m - 1] + (m == 2 && s_is_leap (y));
    if (d > dim)
        return -1;
    *out = y * 10000 + m * 100 + d;
    return 0;
}

static kt_itype_t
s_parse_itype (const char *s)
{
    if (strcmp (s, "EQ") == 0)
        return KT_ITYPE_EQ;
    if (strcmp (s, "FUT") == 0)
        return KT_ITYPE_FUT;
    if (strcmp (s, "CE") == 0)
        return KT_ITYPE_CE;
    if (strcmp (s, "PE") == 0)
        return KT_ITYPE_PE;
    return KT_ITYPE_OTHER;
}

static const char *
s_itype_str (kt_itype_t t)
{
    switch (t) {
        case KT_ITYPE_EQ:
            return "EQ";
        case KT_ITYPE_FUT:
            return "FUT";
        case KT_ITYPE_CE:
            return "CE";
        case KT_ITYPE_PE:
            return "PE";
        default:
            return "OTHER";
    }
}

//  Copy a string field that must fit; names the column on failure.
static int
s_copy_field (char *dst, size_t size, const char *src, bool required, size_t line, int col,
              char *err, size_t errlen)
{
    size_t len = strlen (src);
    if (required && len == 0) {
        s_err (err, errlen, "line %zu: %s: empty", line, s_col_names[col]);
        return -1;
    }
    if (len >= size) {
        s_err (err, errlen, "line %zu: %s: longer than %zu bytes", line, s_col_names[col],
               size - 1);
        return -1;
    }
    memcpy (dst, src, len + 1);
    return 0;
}

//  Underlying of a derivative whose `name` column is empty, from its tradingsymbol:
//  strip the suffix the exchange builds from expiry, strike and type (monthly
//  YYMMMSTRIKECE, weekly YYMDDSTRIKECE, future YYMMMFUT). Leaves "" if none fits.
static void
s_derive_under (const struct kt_instr *in, char *under)
{
    static const char *months[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    static const char weekly_month[12] = {'1', '2', '3', '4', '5', '6',
                                          '7', '8', '9', 'O', 'N', 'D'};
    under[0] = '\0';
    if (in->expiry == 0)
        return;
    int yy = in->expiry / 10000 % 100, mm = in->expiry / 100 % 100, dd = in->expiry % 100;
    char strike[32] = "";
    if (in->itype == KT_ITYPE_CE || in->itype == KT_ITYPE_PE) {
        if (!kt_money_format_json (in->strike, strike, sizeof strike))
            return;
    } else if (in->itype != KT_ITYPE_FUT)
        return;
    const char *tail = in->itype == KT_ITYPE_FUT ? "FUT" : s_itype_str (in->itype);
    char suffix[2][64];
    snprintf (suffix[0], sizeof suffix[0], "%02d%s%s%s", yy, months[mm - 1], strike, tail);
    snprintf (suffix[1], sizeof suffix[1], "%02d%c%02d%s%s", yy, weekly_month[mm - 1], dd, strike,
              tail);
    size_t sym_len = strlen (in->sym);
    for (int k = 0; k < (in->itype == KT_ITYPE_FUT ? 1 : 2); k++) {
        size_t suf_len = strlen (suffix[k]);
        if (sym_len > suf_len && sym_len - suf_len < S_UNDER_LEN &&
            strcmp (in->sym + sym_len - suf_len, suffix[k]) == 0) {
            memcpy (under, in->sym, sym_len - suf_len);
            under[sym_len - suf_len] = '\0';
            return;
        }
    }
}

//  Parse one data record (fields already split) into *in.
static int
s_parse_row (const s_csv_t *csv, const int *colidx, struct kt_instr *in, char *err, size_t errlen)
{
    const char *f[S_NCOLS];
    for (int c = 0; c < S_NCOLS; c++)
        f[c] = csv->fields[colidx[c]];
    size_t line = csv->rec_line;
    uint64_t u;
    memset (in, 0, sizeof *in);

#define S_BAD(col, what)                                                                           \
    do {                                                                                           \
        s_err (err, errlen, "line %zu: %s: %s \"%.40s\"", line, s_col_names[col], (what), f[col]); \
        return -1;                                                                                 \
    } while (0)

    if (s_parse_uint (f[S_COL_TOKEN], UINT32_MAX, &u) != 0 || u == 0)
        S_BAD (S_COL_TOKEN, "not a token");
    in->token = (uint32_t) u;
    if (s_parse_uint (f[S_COL_EXCH_TOKEN], UINT32_MAX, &u) != 0)
        S_BAD (S_COL_EXCH_TOKEN, "not a token");
    in->exchange_token = (uint32_t) u;
    if (s_copy_field (in->sym, sizeof in->sym, f[S_COL_SYM], true, line, S_COL_SYM, err, errlen) !=
        0)
        return -1;
    //  The name is descriptive only (the underlying of an option is short); a long
    //  company name is cut at a UTF-8 boundary rather than failing the whole dump.
    size_t nlen = strlen (f[S_COL_NAME]);
    if (nlen >= sizeof in->name) {
        nlen = sizeof in->name - 1;
        while (nlen > 0 && ((unsigned char) f[S_COL_NAME][nlen] & 0xC0) == 0x80)
            nlen--;
    }
    memcpy (in->name, f[S_COL_NAME], nlen);
    in->name[nlen] = '\0';
    if (kt_money_parse (f[S_COL_LAST], strlen (f[S_COL_LAST]), &in->last_price) != 0)
        S_BAD (S_COL_LAST, "not a price");
    if (f[S_COL_EXPIRY][0] != '\0' && s_parse_date (f[S_COL_EXPIRY], &in->expiry) != 0)
        S_BAD (S_COL_EXPIRY, "not a YYYY-MM-DD date");
    if (kt_money_parse (f[S_COL_STRIKE], strlen (f[S_COL_STRIKE]), &in->strike) != 0 ||
        in->strike < 0)
        S_BAD (S_COL_STRIKE, "not a price");
    if (kt_money_parse (f[S_COL_TICK], strlen (f[S_COL_TICK]), &in->tick) != 0 || in->tick < 0)
        S_BAD (S_COL_TICK, "not a price");
    if (s_parse_uint (f[S_COL_LOT], INT32_MAX, &u) != 0)
        S_BAD (S_COL_LOT, "not a lot size");
    in->lot = (int64_t) u;
    in->itype = s_parse_itype (f[S_COL_ITYPE]);
    if (s_copy_field (in->segment, sizeof in->segment, f[S_COL_SEGMENT], true, line, S_COL_SEGMENT,
                      err, errlen) != 0 ||
        s_copy_field (in->exchange, sizeof in->exchange, f[S_COL_EXCHANGE], true, line,
                      S_COL_EXCHANGE, err, errlen) != 0)
        return -1;
#undef S_BAD
    return 0;
}

// ---- hash indexes -------------------------------------------------------------------

static uint64_t
s_hash_str (uint64_t h, const char *s)
{
    //  FNV-1a, then a final mix so the low bits (the slot) depend on every byte.
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t
s_mix (uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

#define S_FNV_BASIS 14695981039346656037ULL

static uint64_t
s_hash_token (uint32_t token)
{
    return s_mix (token);
}

static uint64_t
s_hash_sym (const char *sym)
{
    return s_mix (s_hash_str (S_FNV_BASIS, sym));
}

static uint64_t
s_hash_option (const char *under, int32_t expiry, int64_t strike, kt_itype_t itype)
{
    uint64_t h = s_hash_str (S_FNV_BASIS, under);
    h = s_mix (h ^ (uint64_t) (uint32_t) expiry);
    h = s_mix (h ^ (uint64_t) strike);
    return s_mix (h ^ (uint64_t) itype);
}

static bool
s_option_match (const kt_instr_table_t *self, size_t i, const char *under, int32_t expiry,
                int64_t strike, kt_itype_t itype)
{
    const struct kt_instr *in = &self->rows[i];
    return in->expiry == expiry && in->strike == strike && in->itype == itype &&
           strcmp (self->under[i], under) == 0;
}

//  Build the three indexes. Duplicate tokens or (exchange, tradingsymbol) pairs make
//  the dump ambiguous, so they are errors; a duplicate option key keeps the first row.
static int
s_index (kt_instr_table_t *self, const size_t *lines, char *err, size_t errlen)
{
    size_t cap = 16;
    while (cap < self->count * 2)
        cap <<= 1;
    self->cap = cap;
    self->by_token = calloc (cap, sizeof (uint32_t));
    self->by_sym = calloc (cap, sizeof (uint32_t));
    self->by_option = calloc (cap, sizeof (uint32_t));
    if (!self->by_token || !self->by_sym || !self->by_option) {
        s_err (err, errlen, "out of memory");
        return -1;
    }
    size_t mask = cap - 1;
    for (size_t i = 0; i < self->count; i++) {
        const struct kt_instr *in = &self->rows[i];
        size_t s = s_hash_token (in->token) & mask;
        for (; self->by_token[s]; s = (s + 1) & mask) {
            size_t j = self->by_token[s] - 1;
            if (self->rows[j].token == in->token) {
                s_err (err, errlen, "line %zu: instrument_token: %u repeats line %zu", lines[i],
                       in->token, lines[j]);
                return -1;
            }
        }
        self->by_token[s] = (uint32_t) (i + 1);

        s = s_hash_sym (in->sym) & mask;
        for (; self->by_sym[s]; s = (s + 1) & mask) {
            size_t j = self->by_sym[s] - 1;
            if (strcmp (self->rows[j].sym, in->sym) == 0 &&
                strcmp (self->rows[j].exchange, in->exchange) == 0) {
                s_err (err, errlen, "line %zu: tradingsymbol: %s:%s repeats line %zu", lines[i],
                       in->exchange, in->sym, lines[j]);
                return -1;
            }
        }
        self->by_sym[s] = (uint32_t) (i + 1);

        if ((in->itype == KT_ITYPE_CE || in->itype == KT_ITYPE_PE) && self->under[i][0]) {
            s = s_hash_option (self->under[i], in->expiry, in->strike, in->itype) & mask;
            bool dup = false;
            for (; self->by_option[s]; s = (s + 1) & mask) {
                if (s_option_match (self, self->by_option[s] - 1, self->under[i], in->expiry,
                                    in->strike, in->itype)) {
                    dup = true;
                    break;
                }
            }
            if (!dup)
                self->by_option[s] = (uint32_t) (i + 1);
        }
    }
    return 0;
}

// ---- public -------------------------------------------------------------------------

static int
s_grow (kt_instr_table_t *self, size_t **lines)
{
    size_t alloc = self->alloc ? self->alloc * 2 : 256;
    struct kt_instr *rows = realloc (self->rows, alloc * sizeof *rows);
    if (!rows)
        return -1;
    self->rows = rows;
    char (*under)[S_UNDER_LEN] = realloc (self->under, alloc * sizeof *under);
    if (!under)
        return -1;
    self->under = under;
    size_t *l = realloc (*lines, alloc * sizeof *l);
    if (!l)
        return -1;
    *lines = l;
    self->alloc = alloc;
    return 0;
}

kt_instr_table_t *
kt_instr_parse (const char *csv_text, size_t len, char *err, size_t errlen)
{
    s_csv_t *csv = calloc (1, sizeof *csv);
    kt_instr_table_t *self = calloc (1, sizeof *self);
    size_t *lines = NULL; //  file line of each row, for duplicate reports
    if (!csv || !self) {
        s_err (err, errlen, "out of memory");
        goto out_free;
    }
    csv->p = csv_text;
    csv->end = csv_text + len;
    csv->line = 1;
    //  A UTF-8 byte-order mark is invisible in editors; tolerate it.
    if (len >= 3 && memcmp (csv_text, "\xEF\xBB\xBF", 3) == 0)
        csv->p += 3;

    int rc = s_csv_record (csv, err, errlen);
    if (rc == 0)
        s_err (err, errlen, "line %zu: no header row", csv->line);
    if (rc != 1)
        goto out_free;
    size_t ncols = csv->nfields;
    int colidx[S_NCOLS];
    for (int c = 0; c < S_NCOLS; c++) {
        colidx[c] = -1;
        for (size_t k = 0; k < ncols; k++) {
            if (strcmp (csv->fields[k], s_col_names[c]) != 0)
                continue;
            if (colidx[c] != -1) {
                s_err (err, errlen, "line %zu: column %s appears twice", csv->rec_line,
                       s_col_names[c]);
                goto out_free;
            }
            colidx[c] = (int) k;
        }
        if (colidx[c] == -1) {
            s_err (err, errlen, "line %zu: missing column %s", csv->rec_line, s_col_names[c]);
            goto out_free;
        }
    }
    while ((rc = s_csv_record (csv, err, errlen)) == 1) {
        if (csv->nfields != ncols) {
            s_err (err, errlen, "line %zu: %zu fields, expected %zu", csv->rec_line, csv->nfields,
                   ncols);
            goto out_free;
        }
        if (self->count == self->alloc && s_grow (self, &lines) != 0) {
            s_err (err, errlen, "out of memory");
            goto out_free;
        }
        if (self->count == UINT32_MAX - 1) {
            s_err (err, errlen, "line %zu: too many rows", csv->rec_line);
            goto out_free;
        }
        struct kt_instr *in = &self->rows[self->count];
        if (s_parse_row (csv, colidx, in, err, errlen) != 0)
            goto out_free;
        if (in->name[0])
            snprintf (self->under[self->count], S_UNDER_LEN, "%s", in->name);
        else
            s_derive_under (in, self->under[self->count]);
        lines[self->count] = csv->rec_line;
        self->count++;
    }
    if (rc != 0)
        goto out_free;
    if (self->count == 0) {
        s_err (err, errlen, "line %zu: no instrument rows", csv->line);
        goto out_free;
    }
    if (s_index (self, lines, err, errlen) != 0)
        goto out_free;
    free (lines);
    free (csv);
    return self;

out_free:
    free (lines);
    free (csv);
    kt_instr_destroy (&self);
    return NULL;
}

kt_instr_table_t *
kt_instr_load (const char *path, char *err, size_t errlen)
{
    char why[256];
    FILE *fp = fopen (path, "rb");
    if (!fp) {
        s_err (err, errlen, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, alloc = 0;
    while (true) {
        if (len == alloc) {
            if (alloc >= (size_t) S_MAX_FILE) {
                s_err (err, errlen, "%s: larger than %ld bytes", path, S_MAX_FILE);
                goto out_close;
            }
            alloc = alloc ? alloc * 2 : 1 << 16;
            char *nbuf = realloc (buf, alloc);
            if (!nbuf) {
                s_err (err, errlen, "%s: out of memory", path);
                goto out_close;
            }
            buf = nbuf;
        }
        size_t n = fread (buf + len, 1, alloc - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror (fp)) {
        s_err (err, errlen, "%s: %s", path, strerror (errno));
        goto out_close;
    }
    fclose (fp);
    kt_instr_table_t *self = kt_instr_parse (buf, len, why, sizeof why);
    if (!self)
        s_err (err, errlen, "%s: %s", path, why);
    free (buf);
    return self;

out_close:
    fclose (fp);
    free (buf);
    return NULL;
}

void
kt_instr_destroy (kt_instr_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_instr_table_t *self = *self_p;
    free (self->rows);
    free (self->under);
    free (self->by_token);
    free (self->by_sym);
    free (self->by_option);
    free (self);
    *self_p = NULL;
}

size_t
kt_instr_count (const kt_instr_table_t *self)
{
    return self->count;
}

const struct kt_instr *
kt_instr_at (const kt_instr_table_t *self, size_t i)
{
    return i < self->count ? &self->rows[i] : NULL;
}

const struct kt_instr *
kt_instr_by_token (const kt_instr_table_t *self, uint32_t token)
{
    size_t mask = self->cap - 1;
    for (size_t s = s_hash_token (token) & mask; self->by_token[s]; s = (s + 1) & mask) {
        const struct kt_instr *in = &self->rows[self->by_token[s] - 1];
        if (in->token == token)
            return in;
    }
    return NULL;
}

const struct kt_instr *
kt_instr_by_sym (const kt_instr_table_t *self, const char *exchange, const char *sym)
{
    if (!sym)
        return NULL;
    size_t mask = self->cap - 1;
    //  Rows with the same symbol sit on the probe chain in insertion (file) order.
    for (size_t s = s_hash_sym (sym) & mask; self->by_sym[s]; s = (s + 1) & mask) {
        const struct kt_instr *in = &self->rows[self->by_sym[s] - 1];
        if (strcmp (in->sym, sym) == 0 && (!exchange || strcmp (in->exchange, exchange) == 0))
            return in;
    }
    return NULL;
}

const struct kt_instr *
kt_instr_option (const kt_instr_table_t *self, const char *name, int32_t expiry, int64_t strike,
                 kt_itype_t itype)
{
    if (!name || (itype != KT_ITYPE_CE && itype != KT_ITYPE_PE))
        return NULL;
    size_t mask = self->cap - 1;
    size_t s = s_hash_option (name, expiry, strike, itype) & mask;
    for (; self->by_option[s]; s = (s + 1) & mask) {
        size_t i = self->by_option[s] - 1;
        if (s_option_match (self, i, name, expiry, strike, itype))
            return &self->rows[i];
    }
    return NULL;
}

int32_t
kt_instr_nearest_expiry (const kt_instr_table_t *self, const char *name, int32_t yyyymmdd)
{
    //  A linear scan: called once per session or per roll, never per tick.
    int32_t best = 0;
    if (!name)
        return 0;
    for (size_t i = 0; i < self->count; i++) {
        const struct kt_instr *in = &self->rows[i];
        if ((in->itype != KT_ITYPE_CE && in->itype != KT_ITYPE_PE) || in->expiry < yyyymmdd ||
            (best && in->expiry >= best) || strcmp (self->under[i], name) != 0)
            continue;
        best = in->expiry;
    }
    return best;
}

//  Kite writes prices the way Python prints floats: "0.0", "23500.0", "0.05", "2528.4".
static const char *
s_price (int64_t paise, char *buf, size_t buflen)
{
    if (!kt_money_format_json (paise, buf, buflen))
        return NULL;
    if (!strchr (buf, '.')) {
        size_t n = strlen (buf);
        if (n + 3 > buflen)
            return NULL;
        memcpy (buf + n, ".0", 3);
    }
    return buf;
}

//  Append a text field, quoted only when RFC 4180 needs it. Returns -1 when full.
static int
s_append_field (char *buf, size_t buflen, size_t *pos, const char *s, bool comma)
{
    bool quote = strpbrk (s, ",\"\r\n") != NULL;
    size_t need = (comma ? 1 : 0) + strlen (s) + (quote ? 2 : 0);
    if (quote) {
        for (const char *q = s; *q; q++)
            need += *q == '"';
    }
    if (*pos + need + 1 > buflen)
        return -1;
    char *w = buf + *pos;
    if (comma)
        *w++ = ',';
    if (quote)
        *w++ = '"';
    for (const char *q = s; *q; q++) {
        if (*q == '"')
            *w++ = '"';
        *w++ = *q;
    }
    if (quote)
        *w++ = '"';
    *w = '\0';
    *pos = (size_t) (w - buf);
    return 0;
}

int
kt_instr_format_row (const struct kt_instr *in, char *buf, size_t buflen)
{
    char token[16], exch_token[16], last[32], expiry[16] = "", strike[32], tick[32], lot[24];
    snprintf (token, sizeof token, "%u", in->token);
    snprintf (exch_token, sizeof exch_token, "%u", in->exchange_token);
    if (in->expiry) {
        snprintf (expiry, sizeof expiry, "%04d-%02d-%02d", (int) (in->expiry / 10000),
                  (int) (in->expiry / 100 % 100), (int) (in->expiry % 100));
    }
    snprintf (lot, sizeof lot, "%lld", (long long) in->lot);
    if (!s_price (in->last_price, last, sizeof last) ||
        !s_price (in->strike, strike, sizeof strike) || !s_price (in->tick, tick, sizeof tick))
        return -1;
    const char *cols[S_NCOLS] = {
        token,       exch_token,  in->sym, in->name, last,
        expiry,      strike,      tick,    lot,      s_itype_str (in->itype),
        in->segment, in->exchange};
    size_t pos = 0;
    if (buflen == 0)
        return -1;
    buf[0] = '\0';
    for (int c = 0; c < S_NCOLS; c++) {
        if (s_append_field (buf, buflen, &pos, cols[c], c > 0) != 0)
            return -1;
    }
    return (int) pos;
}
