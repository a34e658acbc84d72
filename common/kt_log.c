/*  kt_log - JSON-lines logger: each event is built in a fixed stack buffer and written
 *  with one write(2) to stderr (or handed to a test sink).
 *
 *  Used by every process and tool. Design: no heap, no stdio and no libc time code on
 *  the emit path (so it is safe anywhere, including just before abort); the line is
 *  always valid JSON: strings are escaped, invalid UTF-8 becomes U+FFFD, and a line that
 *  would overflow KT_LOG_LINE_MAX is cut at a field or a character boundary with room
 *  kept for the tail ("trunc", "clk", "}"). Secrets are compared against every string
 *  value; a value containing one is written as "***". Single-threaded, like every
 *  process; the logger state is the one process-wide module state the house style allows. */

#include "kt_log.h"
#include "kt_clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

//  Bytes kept free for the tail: ,"trunc":true  ,"clk":-9223372036854775808  }  \n  NUL
#define S_TAIL_RESERVE 64
//  A field is only started if its key and this much of a value fit.
#define S_MIN_VALUE 8

kt_log_level_t kt_log_threshold = KT_LOG_INFO;

static struct {
    char proc[64];
    bool proc_set;
    kt_log_sink_fn *sink;
    void *sink_arg; //  borrowed
    int64_t (*clock_fn) (void *arg);
    void *clock_arg; //  borrowed
    char secrets[KT_LOG_SECRETS][KT_LOG_SECRET_MAX];
    int secret_count;
} s_log;

//  A line under construction; `cap` excludes the tail reserve.
struct s_line {
    char *buf;
    size_t len;
    size_t cap;
    bool trunc;
};

static const char *const s_level_names[] = {"debug", "info", "warn", "error", "off"};

void
kt_log_open (const char *proc, kt_log_level_t threshold)
{
    if (proc) {
        snprintf (s_log.proc, sizeof s_log.proc, "%s", proc);
        s_log.proc_set = true;
    }
    kt_log_threshold = threshold;
}

int
kt_log_level_parse (const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i <= KT_LOG_OFF; i++)
        if (strcmp (name, s_level_names[i]) == 0)
            return i;
    return -1;
}

int
kt_log_secret_add (const char *value)
{
    if (!value || !*value)
        return 0;
    for (int i = 0; i < s_log.secret_count; i++)
        if (strncmp (s_log.secrets[i], value, KT_LOG_SECRET_MAX - 1) == 0)
            return 0;
    if (s_log.secret_count == KT_LOG_SECRETS)
        return -1;
    //  A prefix of a long secret is stored: anything containing the secret contains it.
    snprintf (s_log.secrets[s_log.secret_count++], KT_LOG_SECRET_MAX, "%s", value);
    return 0;
}

void
kt_log_secret_clear (void)
{
    //  Wipe, not just forget: the table should not keep tokens in memory after use.
    memset (s_log.secrets, 0, sizeof s_log.secrets);
    s_log.secret_count = 0;
}

void
kt_log_set_sink (kt_log_sink_fn *fn, void *arg)
{
    s_log.sink = fn;
    s_log.sink_arg = fn ? arg : NULL;
}

void
kt_log_set_clock (int64_t (*fn) (void *arg), void *arg)
{
    s_log.clock_fn = fn;
    s_log.clock_arg = fn ? arg : NULL;
}

// ---- line building ---------------------------------------------------------------------

static bool
s_put (struct s_line *line, const char *p, size_t n)
{
    if (line->len + n > line->cap)
        return false;
    memcpy (line->buf + line->len, p, n);
    line->len += n;
    return true;
}

static bool
s_put_cstr (struct s_line *line, const char *s)
{
    return s_put (line, s, strlen (s));
}

//  Length of the valid UTF-8 sequence at p (n bytes available), or 0 if invalid
//  (overlong forms, surrogates and code points above U+10FFFF are invalid).
static size_t
s_utf8_len (const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; //  allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

//  Append s as a JSON string. If it does not fit, cut it at a character boundary,
//  close the quote and mark the line truncated. False if not even "" fits.
static bool
s_put_json_str (struct s_line *line, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (line->len + 2 > line->cap)
        return false;
    line->buf[line->len++] = '"';
    const unsigned char *p = (const unsigned char *) s;
    size_t left = strlen (s);
    while (left > 0) {
        char esc[8];
        const char *out = esc;
        size_t out_n = 2, used = 1;
        unsigned char c = *p;
        esc[0] = '\\';
        if (c == '"' || c == '\\')
            esc[1] = (char) c;
        else if (c == '\n')
            esc[1] = 'n';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c == '\t')
            esc[1] = 't';
        else if (c < 0x20 || c == 0x7F) {
            memcpy (esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            out_n = 6;
        } else if (c < 0x80) {
            out = (const char *) p;
            out_n = 1;
        } else if ((used = s_utf8_len (p, left)) > 0) {
            out = (const char *) p;
            out_n = used;
        } else {
            out = "\xEF\xBF\xBD"; //  U+FFFD for one invalid byte
            out_n = 3;
            used = 1;
        }
        if (line->len + out_n + 1 > line->cap) {
            line->trunc = true;
            break;
        }
        memcpy (line->buf + line->len, out, out_n);
        line->len += out_n;
        p += used;
        left -= used;
    }
    line->buf[line->len++] = '"';
    return true;
}

//  Decimal digits of v into out (>= 21 bytes); returns the length.
static size_t
s_fmt_int (char *out, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    //  Work in negative numbers so INT64_MIN needs no special case.
    int64_t x = v < 0 ? v : -v;
    do {
        tmp[n++] = (char) ('0' - x % 10);
        x /= 10;
    } while (x != 0);
    size_t len = 0;
    if (v < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = tmp[--n];
    return len;
}

static void
s_fmt_pad (char *out, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char) ('0' + v % 10);
        v /= 10;
    }
}

//  "2025-11-24T03:47:12.123456Z" (27 bytes) from ns since the epoch.
static void
s_fmt_ts (char *out, int64_t ns)
{
    int64_t secs = ns / KT_NS_PER_SEC;
    int64_t sub = ns % KT_NS_PER_SEC;
    if (sub < 0) {
        sub += KT_NS_PER_SEC;
        secs--;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int y, mo, d;
    kt_clock_civil_from_days (days, &y, &mo, &d);
    if (y < 0 || y > 9999)
        y = 0;
    s_fmt_pad (out, y, 4);
    out[4] = '-';
    s_fmt_pad (out + 5, mo, 2);
    out[7] = '-';
    s_fmt_pad (out + 8, d, 2);
    out[10] = 'T';
    s_fmt_pad (out + 11, (int) (sod / 3600), 2);
    out[13] = ':';
    s_fmt_pad (out + 14, (int) (sod / 60 % 60), 2);
    out[16] = ':';
    s_fmt_pad (out + 17, (int) (sod % 60), 2);
    out[19] = '.';
    s_fmt_pad (out + 20, (int) (sub / 1000), 6);
    out[26] = 'Z';
}

static bool
s_is_secret (const char *s)
{
    for (int i = 0; i < s_log.secret_count; i++)
        if (strstr (s, s_log.secrets[i]))
            return true;
    return false;
}

//  Append ,"key":value. On no room, roll the line back to before the field.
static bool
s_put_field (struct s_line *line, const kt_kv_t *kv)
{
    size_t mark = line->len;
    if (!s_put (line, ",", 1) || !s_put_json_str (line, kv->key) || line->trunc ||
        line->len + 1 + S_MIN_VALUE > line->cap)
        goto out_rollback;
    line->buf[line->len++] = ':';

    char num[40];
    const char *val = num;
    size_t val_n = 0;
    switch (kv->type) {
        case KT_KV_STR:
            if (kv->s && !s_is_secret (kv->s))
                return s_put_json_str (line, kv->s); //  cuts itself if long
            val = kv->s ? "\"***\"" : "null";
            val_n = strlen (val);
            break;
        case KT_KV_INT:
            val_n = s_fmt_int (num, kv->i);
            break;
        case KT_KV_BOOL:
            val = kv->b ? "true" : "false";
            val_n = strlen (val);
            break;
        case KT_KV_DBL:
            if (isfinite (kv->d)) {
                //  Shortest of %.15g / %.17g that reads back exactly (0.1, not
                //  0.10000000000000001). Our processes never change the C locale.
                val_n = (size_t) snprintf (num, sizeof num, "%.15g", kv->d);
                if (strtod (num, NULL) != kv->d)
                    val_n = (size_t) snprintf (num, sizeof num, "%.17g", kv->d);
            } else {
                val = "null"; //  JSON has no NaN or Infinity
                val_n = 4;
            }
            break;
        default:
            //  An unknown type is our bug, but a log line must never crash: write null.
            val = "null";
            val_n = 4;
            break;
    }
    if (s_put (line, val, val_n))
        return true;
out_rollback:
    line->len = mark;
    line->trunc = false;
    return false;
}

static void
s_write_all (const char *p, size_t n)
{
    //  One write(2) in practice; loop only for a partial write or EINTR so the line is
    //  never left half-written by a signal.
    while (n > 0) {
        ssize_t rc = write (STDERR_FILENO, p, n);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += rc;
        n -= (size_t) rc;
    }
}

void
kt_log_emit (kt_log_level_t lvl, const char *ev, const kt_kv_t *kv)
{
    if ((int) lvl < (int) kt_log_threshold || (int) lvl < 0 || (int) lvl >= KT_LOG_OFF)
        return;
    int saved_errno = errno; //  callers log and then read errno
    char buf[KT_LOG_LINE_MAX];
    struct s_line line = {buf, 0, sizeof buf - S_TAIL_RESERVE, false};
    char tmp[32];

    s_put_cstr (&line, "{\"ts\":\"");
    s_fmt_ts (tmp, kt_clock_wall_ns ());
    s_put (&line, tmp, 27);
    s_put_cstr (&line, "\",\"lvl\":\"");
    s_put_cstr (&line, s_level_names[lvl]);
    s_put_cstr (&line, "\",\"proc\":");
    s_put_json_str (&line, s_log.proc_set ? s_log.proc : program_invocation_short_name);
    s_put_cstr (&line, ",\"pid\":");
    s_put (&line, tmp, s_fmt_int (tmp, (int64_t) getpid ()));
    s_put_cstr (&line, ",\"ev\":");
    s_put_json_str (&line, ev ? ev : "");

    bool cut = line.trunc;
    for (; kv && kv->key && !cut; kv++) {
        if (!s_put_field (&line, kv))
            cut = true;
        cut = cut || line.trunc;
    }
    //  The tail always fits: S_TAIL_RESERVE was kept back from cap. One byte stays free
    //  for the newline (stderr) or the NUL (sink).
    line.cap = sizeof buf - 1;
    if (cut)
        s_put_cstr (&line, ",\"trunc\":true");
    if (s_log.clock_fn) {
        s_put_cstr (&line, ",\"clk\":");
        s_put (&line, tmp, s_fmt_int (tmp, s_log.clock_fn (s_log.clock_arg)));
    }
    s_put (&line, "}", 1);
    if (line.len >= sizeof buf)
        line.len = sizeof buf - 1; //  unreachable; tells the compiler the bound
    if (s_log.sink) {
        buf[line.len] = '\0';
        s_log.sink (lvl, ev ? ev : "", buf, s_log.sink_arg);
    } else {
        buf[line.len] = '\n';
        s_write_all (buf, line.len + 1);
    }
    errno = saved_errno;
}

void
kt_log_emit_every (kt_log_level_t lvl, const char *ev, int64_t secs, int64_t *last_ns,
                   const kt_kv_t *kv)
{
    //  A suppressed level must not use up the window of a later, visible line.
    if ((int) lvl < (int) kt_log_threshold)
        return;
    int64_t now = kt_clock_wall_mono_ns ();
    if (last_ns && *last_ns != 0 && (now - *last_ns) / KT_NS_PER_SEC < secs)
        return;
    if (last_ns)
        *last_ns = now;
    kt_log_emit (lvl, ev, kv);
}
