/*  recon_broker_fuzz - libFuzzer target for the reconciler's reading of Kite answers.
 *
 *  Any bytes, read as a positions, orders and trades answer and judged as an HTTP
 *  answer: each parse returns rows or an error, never crashes; parsed rows hold
 *  NUL-terminated fields, trades a positive quantity and price. The parsed views then go
 *  through the comparison against an empty book, which must classify without crashing.
 *  The reconciler's sources are compiled in: the fuzz build links only common/. */

#include <stdlib.h>
#include <string.h>

#include "../../reconciler/recon_broker.c"
#include "../../reconciler/recon_diff.c"

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    static struct recon_broker b;
    static struct recon_redis r;
    static struct recon_result res;
    if (!b.pos) {
        recon_broker_init (&b);
        memset (&r, 0, sizeof r);
    }
    const char *text = (const char *) data;
    char why[256];
    recon_broker_judge (size % 600, text, size, why, sizeof why);
    if (recon_broker_parse_positions (&b, text, size, why, sizeof why) < 0 && b.npos != 0)
        abort ();
    if (recon_broker_parse_orders (&b, text, size, why, sizeof why) < 0 && b.nord != 0)
        abort ();
    if (recon_broker_parse_trades (&b, text, size, why, sizeof why) < 0 && b.ntrade != 0)
        abort ();
    for (int i = 0; i < b.ntrade; i++)
        if (b.trade[i].qty <= 0 || b.trade[i].price <= 0 ||
            strlen (b.trade[i].trade_id) >= sizeof b.trade[i].trade_id)
            abort ();
    for (int i = 0; i < b.nord; i++)
        if (strlen (b.ord[i].tag) >= sizeof b.ord[i].tag ||
            strlen (b.ord[i].order_id) >= sizeof b.ord[i].order_id)
            abort ();
    struct recon_pending pending = {0};
    struct recon_diff_opts opts = {RECON_UNKNOWN_ADOPT, 1};
    int n = recon_diff (&b, &r, &opts, &pending, &res);
    if (n < 0 || res.n > RECON_FINDINGS_MAX)
        abort ();
    return 0;
}
