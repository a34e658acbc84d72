/*  md_univ - the instruments md-gateway subscribes to: a configured list, or the
 *  strategy's universe derived from the instruments list and the index price.
 *
 *  Pure: no I/O, no heap. Derived (docs/md-gateway.md "Universe"): the underlying's
 *  nearest expiry on or after today, the strike step from the listed strikes of that
 *  expiry, ATM = the index price rounded to the step (half up), the CE and PE of every
 *  listed strike from ATM - N steps to ATM + N steps with a tick and a lot, plus the
 *  index itself - the strategy's rule (strat_warm_universe; md_univ_test compares the
 *  two). At the session's open md-gateway extends its universe by the one derived from
 *  the index's open (md_univ_extend), never dropping an instrument. */

#ifndef MD_UNIV_H
#define MD_UNIV_H

#include <stddef.h>
#include <stdint.h>
#include "kt_instr.h"

#define MD_UNIV_MAX 3000 //  Kite's instruments per connection

//  Derive the universe of underlying name (e.g. "NIFTY") with index row index_sym
//  (e.g. "NIFTY 50", any exchange) at index price index_ltp (paise), strikes steps
//  either side, expiry on or after today (YYYYMMDD). Writes tokens (index first, then
//  CE/PE from the lowest strike) into out (max entries), the count into *n and the
//  chosen expiry, step and ATM (paise) into the optional out pointers. Returns 0, or -1
//  with the reason in err (no such index, no options of name from today, no price, more
//  than max, fewer than two strikes to tell the step).
int md_univ_derive (const kt_instr_table_t *t, const char *name, const char *index_sym,
                    int64_t index_ltp, int strikes, int32_t today, uint32_t *out, size_t max,
                    size_t *n, int32_t *expiry, int64_t *step, int64_t *atm, char *err,
                    size_t errlen);

//  Extend the universe tokens[0..*n) by the one md_univ_derive gives at index_open:
//  the derived tokens not yet in it are appended (in md_univ_derive's order), nothing is
//  removed. Writes how many were appended into *added (tokens[*n - *added ..*n) are
//  they) and the open's ATM into the optional atm. Returns 0, or -1 with the reason in
//  err and tokens, *n unchanged (a derive failure, or more than max in all).
int md_univ_extend (const kt_instr_table_t *t, const char *name, const char *index_sym,
                    int64_t index_open, int strikes, int32_t today, uint32_t *tokens, size_t max,
                    size_t *n, size_t *added, int64_t *atm, char *err, size_t errlen);

//  Parse a configured list: comma-separated entries, each an instrument token or
//  "EXCHANGE:TRADINGSYMBOL" (spaces inside a symbol kept: "NSE:NIFTY 50"), every one
//  of which must be in t. Duplicates are dropped. Returns 0 with the tokens in out and
//  their count in *n, or -1 with the reason in err (unknown entry, more than max).
int md_univ_parse (const kt_instr_table_t *t, const char *list, uint32_t *out, size_t max,
                   size_t *n, char *err, size_t errlen);

#endif
