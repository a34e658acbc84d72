/*  kt_testfile - whole files for tests. See kt_testfile.h. */

#include "kt_testfile.h"

#include <stdio.h>
#include <stdlib.h>

char *
kt_testfile_read (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek (f, 0, SEEK_END) == 0 && (n = ftell (f)) >= 0 && fseek (f, 0, SEEK_SET) == 0) {
        buf = malloc ((size_t) n + 1);
        if (buf && fread (buf, 1, (size_t) n, f) == (size_t) n)
            buf[n] = 0;
        else {
            free (buf);
            buf = NULL;
        }
    }
    fclose (f);
    return buf;
}

int
kt_testfile_write_json (const char *path, const cJSON *root)
{
    char *text = cJSON_Print (root);
    if (!text)
        return -1;
    FILE *f = fopen (path, "w");
    int rc = f && fputs (text, f) >= 0 ? 0 : -1;
    if (f && fclose (f) != 0)
        rc = -1;
    free (text);
    return rc;
}

cJSON *
kt_testfile_read_json (const char *path)
{
    char *text = kt_testfile_read (path);
    if (!text)
        return NULL;
    cJSON *root = cJSON_Parse (text);
    free (text);
    return root;
}

int
kt_testfile_json_set (cJSON *root, const char *section, const char *key, cJSON *v)
{
    cJSON *sec = cJSON_GetObjectItem (root, section);
    if (!cJSON_IsObject (sec)) {
        cJSON_Delete (v);
        return -1;
    }
    if (cJSON_GetObjectItem (sec, key))
        cJSON_ReplaceItemInObject (sec, key, v);
    else
        cJSON_AddItemToObject (sec, key, v);
    return 0;
}
