/*  kt_testwss - a TLS ticker peer for wss:// clients (see kt_testwss.h). */

#include "kt_testwss.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "kt_testnet.h"

#define S_TOKENS_MAX 64
#define S_FULL 184
#define S_EVERY_US 50000

//  The child's state (one client at a time is enough for a test).
struct s_srv {
    struct lws_context *ctx;
    struct lws *wsi;
    lws_sorted_usec_list_t sul;
    uint32_t tokens[S_TOKENS_MAX];
    size_t ntokens;
    uint32_t volume;
    unsigned char frame[LWS_PRE + 2 + S_TOKENS_MAX * (2 + S_FULL)];
};

static struct s_srv s_srv; //  the child process's only state

static int
s_run (const char *cmd)
{
    int rc = system (cmd);
    if (rc != 0)
        fprintf (stderr, "kt_testwss: '%s' failed (%d)\n", cmd, rc);
    return rc == 0 ? 0 : -1;
}

int
kt_testwss_make_ca (const char *dir, const char *name)
{
    char cmd[1024];
    snprintf (cmd, sizeof cmd,
              "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
              "-days 2 -subj '/CN=kt test CA %s' -addext basicConstraints=critical,CA:TRUE "
              "-addext keyUsage=critical,keyCertSign,cRLSign -keyout %s/%s.key -out %s/%s.pem "
              "2>/dev/null",
              name, dir, name, dir, name);
    return s_run (cmd);
}

int
kt_testwss_make_cert (const char *dir, const char *ca, const char *name, const char *san)
{
    char cmd[2048];
    snprintf (cmd, sizeof cmd,
              "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
              "-subj '/CN=%s' -keyout %s/%s.key -out %s/%s.csr 2>/dev/null && "
              "printf 'subjectAltName=%s\\nextendedKeyUsage=serverAuth\\n' > %s/%s.ext && "
              "openssl x509 -req -in %s/%s.csr -CA %s/%s.pem -CAkey %s/%s.key -CAcreateserial "
              "-days 2 -extfile %s/%s.ext -out %s/%s.pem 2>/dev/null",
              name, dir, name, dir, name, san, dir, name, dir, name, dir, ca, dir, ca, dir, name,
              dir, name);
    return s_run (cmd);
}

static void
s_be32 (unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

//  One frame: a full packet per subscribed token, prices in paise (divisor 100).
static size_t
s_make_frame (void)
{
    unsigned char *f = s_srv.frame + LWS_PRE;
    uint32_t now = (uint32_t) time (NULL);
    s_srv.volume++;
    f[0] = (unsigned char) (s_srv.ntokens >> 8);
    f[1] = (unsigned char) s_srv.ntokens;
    size_t off = 2;
    for (size_t i = 0; i < s_srv.ntokens; i++) {
        unsigned char *p = f + off;
        p[0] = 0;
        p[1] = S_FULL;
        p += 2;
        memset (p, 0, S_FULL);
        uint32_t ltp = 10000 + (uint32_t) (i * 5) + (s_srv.volume % 7) * 5;
        s_be32 (p, s_srv.tokens[i]);
        s_be32 (p + 4, ltp);
        s_be32 (p + 8, 75);
        s_be32 (p + 12, ltp);
        s_be32 (p + 16, s_srv.volume * 75);
        s_be32 (p + 28, ltp);
        s_be32 (p + 32, ltp);
        s_be32 (p + 36, ltp);
        s_be32 (p + 40, ltp);
        s_be32 (p + 44, now);
        s_be32 (p + 60, now);
        off += 2 + S_FULL;
    }
    return off;
}

static void
s_tick (lws_sorted_usec_list_t *sul)
{
    (void) sul;
    if (s_srv.wsi && s_srv.ntokens)
        lws_callback_on_writable (s_srv.wsi);
    lws_sul_schedule (s_srv.ctx, 0, &s_srv.sul, s_tick, S_EVERY_US);
}

//  {"a":"subscribe","v":[t, ...]}: remember the tokens; anything else is ignored.
static void
s_on_text (const char *in, size_t len)
{
    cJSON *root = cJSON_ParseWithLength (in, len);
    cJSON *a = cJSON_GetObjectItem (root, "a");
    cJSON *v = cJSON_GetObjectItem (root, "v");
    if (cJSON_IsString (a) && strcmp (a->valuestring, "subscribe") == 0 && cJSON_IsArray (v)) {
        s_srv.ntokens = 0;
        cJSON *t;
        cJSON_ArrayForEach (t, v)
        {
            if (cJSON_IsNumber (t) && s_srv.ntokens < S_TOKENS_MAX)
                s_srv.tokens[s_srv.ntokens++] = (uint32_t) t->valuedouble;
        }
    }
    cJSON_Delete (root);
}

static int
s_cb (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void) user;
    switch (reason) {
        case LWS_CALLBACK_ESTABLISHED:
            s_srv.wsi = wsi;
            s_srv.ntokens = 0;
            break;
        case LWS_CALLBACK_RECEIVE:
            s_on_text (in, len);
            break;
        case LWS_CALLBACK_SERVER_WRITEABLE: {
            size_t n = s_make_frame ();
            if (lws_write (wsi, s_srv.frame + LWS_PRE, n, LWS_WRITE_BINARY) < (int) n)
                return -1;
            break;
        }
        case LWS_CALLBACK_CLOSED:
            if (wsi == s_srv.wsi)
                s_srv.wsi = NULL;
            break;
        default:
            break;
    }
    return 0;
}

static const struct lws_protocols s_protocols[] = {{"kite", s_cb, 0, 4096, 0, NULL, 0},
                                                   {NULL, NULL, 0, 0, 0, NULL, 0}};

pid_t
kt_testwss_start (int port, const char *cert, const char *key)
{
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        lws_set_log_level (LLL_ERR, NULL);
        struct lws_context_creation_info info;
        memset (&info, 0, sizeof info);
        info.port = port;
        info.iface = "127.0.0.1";
        info.protocols = s_protocols;
        info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cert;
        info.ssl_private_key_filepath = key;
        s_srv.ctx = lws_create_context (&info);
        if (!s_srv.ctx)
            _exit (1);
        lws_sul_schedule (s_srv.ctx, 0, &s_srv.sul, s_tick, S_EVERY_US);
        while (lws_service (s_srv.ctx, 0) >= 0)
            ;
        _exit (0);
    }
    for (int i = 0; i < 500; i++) {
        if (kt_testnet_port_open (port))
            return pid;
        if (waitpid (pid, NULL, WNOHANG) == pid)
            return -1;
        usleep (10000);
    }
    kt_testwss_stop (pid);
    return -1;
}

void
kt_testwss_stop (pid_t pid)
{
    if (pid <= 0)
        return;
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
}
