/*  md_cli - `md-gateway --decode FILE` and `--decode-packet FILE`: a captured binary
 *  message or one bare packet, printed as the official clients' ticks in one JSON
 *  line {"ticks":[...]} (docs/md-gateway.md).
 *
 *  The file holds raw bytes or their base64 text (the form of the official fixtures):
 *  text made only of the base64 alphabet and whitespace that decodes cleanly is taken
 *  as base64, anything else as raw bytes. */

#include "md.h"
#include "md_json.h"
#include "md_packet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#define S_FILE_MAX                                                                                 \
    (1 << 20) //  a Kite frame is at most 2 + 65535 * (2 + 65535) in theory;
              //  captures are far smaller

struct s_emit {
    FILE *out;
    int n;
    bool fail;
};

static bool
s_is_b64 (const unsigned char *buf, size_t len)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = buf[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return false;
        chars++;
    }
    return chars > 0 && chars % 4 == 0;
}

//  Decode base64 text in place. Returns the decoded length or -1.
static long
s_b64_decode (unsigned char *buf, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t')
            buf[n++] = buf[i];
    size_t pad = 0;
    while (pad < 2 && pad < n && buf[n - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i + pad < n; i++)
        if (buf[i] == '=')
            return -1;
    unsigned char *out = malloc (n / 4 * 3 + 1);
    if (!out)
        abort ();
    int got = EVP_DecodeBlock (out, buf, (int) n);
    if (got < 0 || (size_t) got < pad) {
        free (out);
        return -1;
    }
    got -= (int) pad;
    memcpy (buf, out, (size_t) got);
    free (out);
    return got;
}

static void
s_on_pkt (const struct md_pkt *pkt, void *arg)
{
    struct s_emit *e = arg;
    char text[MD_JSON_TICK_MAX];
    int n = md_json_tick (pkt, text, sizeof text);
    if (n < 0) {
        e->fail = true;
        return;
    }
    fprintf (e->out, "%s%s", e->n++ ? "," : "", text);
}

int
md_cli_decode (const char *path, bool bare, FILE *out, FILE *err)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (err, "md-gateway: %s: %s\n", path, strerror (errno));
        return 2;
    }
    unsigned char *buf = malloc (S_FILE_MAX + 1);
    if (!buf)
        abort ();
    size_t len = fread (buf, 1, S_FILE_MAX + 1, f);
    bool read_err = ferror (f);
    fclose (f);
    if (read_err || len > S_FILE_MAX) {
        fprintf (err, "md-gateway: %s: %s\n", path,
                 read_err ? "read error" : "larger than 1 MiB, not one message");
        free (buf);
        return 2;
    }
    if (s_is_b64 (buf, len)) {
        unsigned char *copy = malloc (len + 1);
        if (!copy)
            abort ();
        memcpy (copy, buf, len);
        long got = s_b64_decode (copy, len);
        if (got >= 0) {
            memcpy (buf, copy, (size_t) got);
            len = (size_t) got;
        }
        free (copy);
    }
    struct s_emit e = {out, 0, false};
    int rc = 0;
    fputs ("{\"ticks\":[", out);
    if (bare) {
        struct md_pkt pkt;
        if (md_packet_decode (buf, len, &pkt) == 0)
            s_on_pkt (&pkt, &e);
        else {
            fprintf (err,
                     "md-gateway: %s: %zu bytes is not a known packet length (8, 28, 32, "
                     "44, 184); skipped\n",
                     path, len);
        }
    } else {
        struct md_frame_res res;
        if (md_frame_decode (buf, len, s_on_pkt, &e, &res) == MD_FRAME_MALFORMED) {
            char hex[65];
            md_packet_hex (buf, len, 32, hex, sizeof hex);
            fprintf (err, "md-gateway: %s: malformed frame: %s (starts %s)\n", path, res.why, hex);
            rc = 1;
        } else if (res.skipped)
            fprintf (err, "md-gateway: %s: %u packet(s) of unknown length skipped\n", path,
                     res.skipped);
    }
    fputs ("]}\n", out);
    free (buf);
    if (e.fail)
        rc = 1;
    return rc;
}
