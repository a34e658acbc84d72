/*  kt_testmd - md-gateway's files for tests (see kt_testmd.h). */

#include "kt_testmd.h"

#include <stdio.h>
#include <stdlib.h>
#include "kt_instr.h"

int
kt_testmd_instruments (const char *path, const uint32_t *tokens, int n, char *list, size_t listlen)
{
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    fprintf (f, "%s\n", KT_INSTR_CSV_HEADER);
    size_t ll = 0;
    list[0] = '\0';
    for (int i = 0; i < n; i++) {
        int strike = 23000 + 50 * (i / 2);
        const char *ty = i % 2 ? "PE" : "CE";
        fprintf (f, "%u,%u,NIFTY25N25%d%s,NIFTY,0.0,2025-11-25,%d.0,0.05,75,%s,NFO-OPT,NFO\n",
                 tokens[i], tokens[i] >> 8, strike, ty, strike, ty);
        int w = snprintf (list + ll, listlen - ll, "%s%u", i ? "," : "", tokens[i]);
        if (w < 0 || (size_t) w >= listlen - ll) {
            fclose (f);
            return -1;
        }
        ll += (size_t) w;
    }
    return fclose (f) == 0 ? 0 : -1;
}

void
kt_testmd_set (cJSON *root, const char *section, const char *key, cJSON *item)
{
    cJSON *sec = cJSON_GetObjectItem (root, section);
    if (cJSON_GetObjectItem (sec, key))
        cJSON_ReplaceItemInObject (sec, key, item);
    else
        cJSON_AddItemToObject (sec, key, item);
}

cJSON *
kt_testmd_cfg (const char *dir, int redis_port, const char *csv, const char *subscribe)
{
    FILE *f = fopen ("deploy/config/sim.json", "rb");
    if (!f)
        return NULL;
    static char text[65536];
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse (text);
    if (!root)
        return NULL;
    static const char *const names[] = {"md", "risk", "risk_pub", "exec", "exec_pub", "alerts"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char ep[160];
        snprintf (ep, sizeof ep, "ipc://%s/%s", dir, names[i]);
        kt_testmd_set (root, "bus", names[i], cJSON_CreateString (ep));
    }
    kt_testmd_set (root, "redis", "port", cJSON_CreateNumber (redis_port));
    kt_testmd_set (root, "clock", "mode", cJSON_CreateString ("real"));
    kt_testmd_set (root, "clock", "speed", cJSON_CreateNumber (1));
    if (csv)
        kt_testmd_set (root, "instruments", "file", cJSON_CreateString (csv));
    if (subscribe)
        kt_testmd_set (root, "md", "subscribe", cJSON_CreateString (subscribe));
    return root;
}

int
kt_testmd_save (cJSON *root, const char *path)
{
    char *out = cJSON_Print (root);
    cJSON_Delete (root);
    FILE *f = out ? fopen (path, "w") : NULL;
    if (!f) {
        free (out);
        return -1;
    }
    fputs (out, f);
    free (out);
    return fclose (f) == 0 ? 0 : -1;
}
