/*  kt_testfix - the official Kite fixtures for tests, read from ../shared/fixtures/kite/
 *  (relative to the worktree root, where tests run; they are never copied in). */

#ifndef KT_TESTFIX_H
#define KT_TESTFIX_H

#include <stddef.h>

//  The whole of fixture name ("orders.json"). Returns an owned NUL-terminated text
//  (free) and its length in *len, or NULL when it cannot be read (reason on stderr).
char *kt_testfix_read (const char *name, size_t *len);

#endif
