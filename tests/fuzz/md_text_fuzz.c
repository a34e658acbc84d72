/*  md_text_fuzz - libFuzzer target for the raw-JSON readers of md-gateway: order
 *  updates (md_order) and historical candles (md_candle).
 *
 *  Any bytes: each parser returns a value or an error, never crashes or reads outside
 *  the input (ASan); a parsed order has its required fields, parsed candles have
 *  non-negative volumes. The sources are compiled in, since `make fuzz` links common/
 *  only. */

#include <stdlib.h>
#include <string.h>

#include "../../md-gateway/md_jraw.c"
#include "../../md-gateway/md_order.c"
#include "../../md-gateway/md_candle.c"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *buf = malloc (size ? size : 1);
    if (!buf)
        abort ();
    memcpy (buf, data, size);
    struct kt_order_update u;
    char why[128];
    if (md_order_parse (buf, size, &u, why, sizeof why) == 0 && (!u.order_id[0] || !u.status[0]))
        abort ();
    static struct md_candle c[64];
    int n = md_candle_parse (buf, size, c, 64, why, sizeof why);
    for (int i = 0; i < n; i++)
        if (c[i].volume < 0)
            abort ();
    const char *v;
    size_t vlen;
    if (md_jraw_member (buf, size, "data", &v, &vlen) == 0 && (v < buf || v + vlen > buf + size))
        abort ();
    free (buf);
    return 0;
}
