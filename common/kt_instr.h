/*  kt_instr - the instruments table: Kite's instruments CSV loaded into a fixed array,
 *  looked up by instrument token or by (exchange, tradingsymbol), with option fields.
 *
 *  Used by md-gateway (subscriptions), strategy (universe), risk-gate (lot, tick,
 *  freeze), exec-gateway and kite-sim (which also writes the CSV of its synthetic
 *  market). The CSV is parsed as RFC 4180 (quoted fields, embedded commas). Prices are
 *  stored in paise; expiry as YYYYMMDD. Lookups are O(1) average (open addressing);
 *  the table does not change after loading. */

#ifndef KT_INSTR_H
#define KT_INSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kt_msg.h"

typedef enum { KT_ITYPE_OTHER = 0, KT_ITYPE_EQ, KT_ITYPE_FUT, KT_ITYPE_CE, KT_ITYPE_PE } kt_itype_t;

struct kt_instr {
    uint32_t token; //  instrument_token
    uint32_t exchange_token;
    char sym[KT_SYM_LEN]; //  tradingsymbol
    char name[32];        //  underlying name ("NIFTY"), may be empty; a longer
                          //  company name is cut at a UTF-8 boundary
    char exchange[8];     //  NSE, NFO, ...
    char segment[16];     //  NFO-OPT, INDICES, ...
    kt_itype_t itype;
    int32_t expiry;     //  YYYYMMDD, 0 if none
    int64_t strike;     //  paise, 0 if not an option
    int64_t tick;       //  paise (5 for 0.05); 0 for indices (not tradable)
    int64_t lot;        //  units per lot; 0 for indices (not tradable)
    int64_t last_price; //  paise, from the daily dump (not live)
};

typedef struct kt_instr_table kt_instr_table_t;

//  Parse CSV text (len bytes, header row first, Kite's 12 columns in any order, extra
//  columns ignored; CRLF or LF; a UTF-8 BOM and blank lines are tolerated). Prices go
//  through kt_money_parse; expiry must be a real YYYY-MM-DD date or empty. Returns an
//  owned table, or NULL with the reason in err ("line 7: strike: not a price \"x\"").
//  Rows with an unparseable field are an error, not skipped: a broken dump must not
//  half-load. A repeated instrument_token or (exchange, tradingsymbol), or a dump with
//  no rows, is an error too.
kt_instr_table_t *kt_instr_parse (const char *csv, size_t len, char *err, size_t errlen);

//  Read and parse a CSV file. As kt_instr_parse; the reason names the file.
kt_instr_table_t *kt_instr_load (const char *path, char *err, size_t errlen);

//  Free. Safe on NULL; sets *self_p to NULL.
void kt_instr_destroy (kt_instr_table_t **self_p);

//  Number of instruments.
size_t kt_instr_count (const kt_instr_table_t *self);

//  The i-th instrument in file order (i < count). Borrowed.
const struct kt_instr *kt_instr_at (const kt_instr_table_t *self, size_t i);

//  Lookup by token, or by tradingsymbol (exchange may be NULL: first match). Borrowed
//  pointer or NULL if unknown.
const struct kt_instr *kt_instr_by_token (const kt_instr_table_t *self, uint32_t token);
const struct kt_instr *kt_instr_by_sym (const kt_instr_table_t *self, const char *exchange,
                                        const char *sym);

//  Option of name/expiry/strike/type (CE or PE), or NULL. name is the underlying: the
//  name column, or for rows whose name is empty (old dumps) the tradingsymbol minus the
//  suffix built from expiry, strike and type (kite-protocol.md 7.2).
const struct kt_instr *kt_instr_option (const kt_instr_table_t *self, const char *name,
                                        int32_t expiry, int64_t strike, kt_itype_t itype);

//  Nearest expiry >= yyyymmdd among options of name, or 0 if none. A linear scan: call
//  it per session or roll, not per tick.
int32_t kt_instr_nearest_expiry (const kt_instr_table_t *self, const char *name, int32_t yyyymmdd);

//  Write one instrument as a CSV row in Kite's column order (no newline) into buf,
//  prices as Kite writes them ("0.0", "23500.0", "0.05", "2528.4"), quoting only
//  fields that need it. Every row of Kite's dump formats back to its exact text.
//  Returns the length written, or -1 if buflen is too small. The header is
//  KT_INSTR_CSV_HEADER.
int kt_instr_format_row (const struct kt_instr *in, char *buf, size_t buflen);

#define KT_INSTR_CSV_HEADER                                                                        \
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,"       \
    "lot_size,instrument_type,segment,exchange"

//  Segment id of a token (token & 0xFF; kite-protocol.md 6.4: 1 NSE, 2 NFO, 9 indices).
static inline int
kt_instr_segment_of (uint32_t token)
{
    return (int) (token & 0xFF);
}

//  Divisor of the ticker's integer price fields for a segment: rupees = wire / divisor
//  (kite-protocol.md 6.4). 100 everywhere (so wire units are paise) except CDS
//  (3: 10 000 000) and BCD (6: 10 000).
static inline int64_t
kt_instr_price_divisor (int segment)
{
    return segment == 3 ? 10000000 : segment == 6 ? 10000 : 100;
}

#endif
