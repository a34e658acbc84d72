/*  instr_csv_fuzz - libFuzzer target for the instruments CSV parser (kt_instr).
 *
 *  Any bytes: parse must return a table or an error, never crash. When a table loads,
 *  every row must be found by token and by symbol, and must survive a format/parse
 *  round trip field for field. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_instr.h"

static void
s_round_trip (const struct kt_instr *in)
{
    char row[4096], csv[8192], err[256];
    if (kt_instr_format_row (in, row, sizeof row) < 0)
        abort ();
    snprintf (csv, sizeof csv, "%s\n%s\n", KT_INSTR_CSV_HEADER, row);
    kt_instr_table_t *t = kt_instr_parse (csv, strlen (csv), err, sizeof err);
    if (!t)
        abort ();
    const struct kt_instr *b = kt_instr_at (t, 0);
    if (b->token != in->token || strcmp (b->sym, in->sym) != 0 || strcmp (b->name, in->name) != 0
        || b->strike != in->strike || b->tick != in->tick || b->lot != in->lot
        || b->expiry != in->expiry || b->last_price != in->last_price || b->itype != in->itype)
        abort ();
    kt_instr_destroy (&t);
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    char err[256];
    kt_instr_table_t *t = kt_instr_parse ((const char *) data, size, err, sizeof err);
    if (!t)
        return 0;
    for (size_t i = 0; i < kt_instr_count (t); i++) {
        const struct kt_instr *in = kt_instr_at (t, i);
        if (kt_instr_by_token (t, in->token) != in || !kt_instr_by_sym (t, in->exchange, in->sym))
            abort ();
        s_round_trip (in);
        kt_instr_option (t, in->name, in->expiry, in->strike, in->itype);
    }
    kt_instr_destroy (&t);
    return 0;
}
