/*  kt_testfix - the official Kite fixtures for tests. See kt_testfix.h. */

#include "kt_testfix.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DIR "../shared/fixtures/kite/"

char *
kt_testfix_read (const char *name, size_t *len)
{
    char path[256];
    snprintf (path, sizeof path, S_DIR "%s", name);
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "kt_testfix: %s: %s\n", path, strerror (errno));
        return NULL;
    }
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc ((size_t) n + 1) : NULL;
    if (!buf || fread (buf, 1, (size_t) n, f) != (size_t) n) {
        fprintf (stderr, "kt_testfix: %s: cannot read\n", path);
        free (buf);
        fclose (f);
        return NULL;
    }
    buf[n] = '\0';
    fclose (f);
    *len = (size_t) n;
    return buf;
}
