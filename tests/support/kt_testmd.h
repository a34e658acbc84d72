/*  kt_testmd - the files an md-gateway started by a test or a benchmark needs: an
 *  instruments CSV of NIFTY options with given tokens, and a config made from
 *  deploy/config/sim.json with every bus endpoint an ipc:// path in the test's own
 *  directory and Redis at a kt_testredis port. */

#ifndef KT_TESTMD_H
#define KT_TESTMD_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

//  Write path: the CSV header and n NIFTY option rows (CE and PE alternating, strikes
//  from 23000 up by 50 per pair) whose instrument_token is tokens[i]. The tokens are
//  also written to list as "t1,t2,..." (md.subscribe). Returns 0, or -1 (cannot write,
//  list too small).
int kt_testmd_instruments (const char *path, const uint32_t *tokens, int n, char *list,
                           size_t listlen);

//  deploy/config/sim.json (read from the worktree root) with the bus endpoints in dir,
//  Redis at redis_port, the real clock at speed 1, instruments.file = csv (if not NULL)
//  and md.subscribe = subscribe (if not NULL). Returns the owned JSON for further
//  edits, or NULL if the file cannot be read or parsed.
cJSON *kt_testmd_cfg (const char *dir, int redis_port, const char *csv, const char *subscribe);

//  Set root[section][key] to item (owned by root afterwards), replacing or adding it.
void kt_testmd_set (cJSON *root, const char *section, const char *key, cJSON *item);

//  Write root to path and free it. Returns 0 or -1.
int kt_testmd_save (cJSON *root, const char *path);

#endif
