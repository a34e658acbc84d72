/*  kt_instr_cache - today's Kite instruments list for every process: downloaded from
 *  `GET /instruments` once per trading day and kept on disk, or a configured file.
 *
 *  Used by md-gateway (subscriptions), risk-gate, strategy and exec-gateway. The day
 *  is the IST date of the pipeline clock, so a sim session on another date gets that
 *  date's list. The cache file is <dir>/instruments-<YYYYMMDD>-<source>.csv, where
 *  <source> is a short hash of the API URL (kite-sim's list and the real one never mix).
 *  A restart the same day reuses the file. Processes starting together download once:
 *  the first takes an flock on <dir>/instruments-<YYYYMMDD>-<source>.lock, the others
 *  wait for it and then find the file. A download is parsed (kt_instr_parse) before it
 *  is kept, written to a temp file, fsync'ed and renamed into place, so the cache never
 *  holds a half or broken list. Older days' files of the same source are removed after
 *  a successful download.
 *
 *  Blocking: meant for start-up (before the loop runs) and tools, never a loop handler. */

#ifndef KT_INSTR_CACHE_H
#define KT_INSTR_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "kt_cfg.h"
#include "kt_instr.h"

struct kt_instr_cache_cfg {
    const char *file;         //  a configured CSV: used as is, nothing downloaded ("" or
                              //  NULL = use the cache)
    const char *dir;          //  cache directory, created (with parents) if missing
    const char *api_url;      //  Kite REST base ("https://api.kite.trade")
    const char *api_key;      //  sent as "Authorization: token key:token" when both
    const char *access_token; //  are non-empty (the dump itself needs no session)
    int64_t now_ns;           //  pipeline time; its IST date is the trading day
    int timeout_ms;           //  the download; <= 0 = 60000
};

//  The cache settings of a process config: instruments.file, instruments.cache_dir,
//  kite.api_url, kite.api_key, kite.access_token, now_ns. Pointers are borrowed from
//  cfg (keep cfg alive while out is used).
void kt_instr_cache_from_cfg (const kt_cfg_t *cfg, int64_t now_ns, struct kt_instr_cache_cfg *out);

//  Path of today's list into path (pathlen bytes): the configured file if any (it must
//  be readable), else the cache file, downloaded first when today's is missing.
//  Returns 0, or -1 with the reason in err ("instruments: GET http://...: status 403:
//  ...", "instruments: /x: No such file or directory").
int kt_instr_cache_path (const struct kt_instr_cache_cfg *cfg, char *path, size_t pathlen,
                         char *err, size_t errlen);

//  kt_instr_cache_path, then kt_instr_load. Returns an owned table, or NULL with the
//  reason in err.
kt_instr_table_t *kt_instr_cache_load (const struct kt_instr_cache_cfg *cfg, char *err,
                                       size_t errlen);

#endif
