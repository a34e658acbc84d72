/*  kt_testfile - whole files for tests: read one into memory, write a JSON document
 *  (config files made from the shipped ones with addresses changed). */

#ifndef KT_TESTFILE_H
#define KT_TESTFILE_H

#include <cJSON.h>

//  The whole file, NUL-terminated. Returns an owned string (free), or NULL if it cannot
//  be read.
char *kt_testfile_read (const char *path);

//  Write root (borrowed) as indented JSON to path. Returns 0, or -1.
int kt_testfile_write_json (const char *path, const cJSON *root);

//  The JSON document in path. Returns an owned tree (cJSON_Delete), or NULL if the
//  file cannot be read or parsed.
cJSON *kt_testfile_read_json (const char *path);

//  Set section.key of root to v (owned by root from here), replacing or adding it.
//  Returns 0, or -1 (and frees v) when root has no such section.
int kt_testfile_json_set (cJSON *root, const char *section, const char *key, cJSON *v);

#endif
