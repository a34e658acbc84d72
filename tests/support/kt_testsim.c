/*  kt_testsim - kite-sim for integration tests. See kt_testsim.h. */

#include "kt_testsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kt_testredis.h"

struct kt_testsim {
    kt_testproc_t *proc;
    char base[64];
};

kt_testsim_t *
kt_testsim_start (const char *const *extra)
{
    int http = kt_testredis_free_port (), ws;
    do
        ws = kt_testredis_free_port ();
    while (ws == http);
    if (http < 0 || ws < 0)
        return NULL;
    kt_testsim_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char hp[32], wp[32];
    snprintf (hp, sizeof hp, "127.0.0.1:%d", http);
    snprintf (wp, sizeof wp, "127.0.0.1:%d", ws);
    snprintf (self->base, sizeof self->base, "http://%s", hp);
    const char *args[48] = {"--http",      hp,    "--ws", wp, "--access-token", KT_TESTSIM_TOKEN,
                            "--log-level", "warn"};
    int n = 8;
    for (int i = 0; extra && extra[i] && n < 47; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    self->proc = kt_testproc_start ("kite-sim", args, NULL);
    for (int i = 0; self->proc && i < 250; i++) {
        kt_http_resp_t *r = kt_http_get_sync (self->base, NULL, 500);
        bool up = r->err == KT_HTTP_OK;
        kt_http_resp_destroy (&r);
        if (up)
            return self;
        if (!kt_testproc_running (self->proc))
            break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep (&ts, NULL);
    }
    fprintf (stderr, "kt_testsim: kite-sim did not answer on %s\n", self->base);
    if (self->proc)
        kt_testproc_log_dump (self->proc, 3000);
    kt_testsim_destroy (&self);
    return NULL;
}

void
kt_testsim_destroy (kt_testsim_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_testproc_destroy (&(*self_p)->proc);
    free (*self_p);
    *self_p = NULL;
}

const char *
kt_testsim_base (const kt_testsim_t *self)
{
    return self->base;
}

kt_testproc_t *
kt_testsim_proc (kt_testsim_t *self)
{
    return self->proc;
}

kt_http_resp_t *
kt_testsim_call (const kt_testsim_t *self, const char *method, const char *path, const char *form)
{
    char url[256];
    snprintf (url, sizeof url, "%s%s", self->base, path);
    const char *headers[] = {"X-Kite-Version: 3",
                             "Authorization: token " KT_TESTSIM_API_KEY ":" KT_TESTSIM_TOKEN, NULL};
    kt_http_req_t req = {
        .method = method, .url = url, .headers = headers, .body = form, .timeout_ms = 5000};
    return kt_http_sync (&req);
}

long
kt_testsim_admin (int http_port, const char *path, const char *form)
{
    char url[160];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", http_port, path);
    kt_http_resp_t *r = kt_http_post_sync (url, NULL, form, 5000);
    long status = r && r->err == KT_HTTP_OK ? r->status : 0;
    kt_http_resp_destroy (&r);
    return status;
}
