/*  ctl_login - the daily Kite session: `login` (login URL, request token pasted back,
 *  exchanged at /session/token with its checksum) and `token` (an access token obtained
 *  elsewhere). Either way the token is checked with a real broker call (GET
 *  /user/profile) before it is stored, written to the secrets file that
 *  kite.access_token names ("file:PATH#NAME", mode 0600, replaced atomically), and the
 *  processes are told to re-read it through session:reload. The token itself is never
 *  printed. kite-sim speaks the same protocol, so this works against it unchanged. */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "ctl_cmd.h"

#define S_LOGIN_URL "https://kite.zerodha.com/connect/login"

//  Where kite.access_token is stored: the file and the NAME of its line. Returns 0, or
//  -1 with why (not a file: reference, config unreadable).
static int
s_secret_ref (ctl_t *ctl, char *path, size_t plen, char *name, size_t nlen, char *why, size_t wlen)
{
    FILE *f = fopen (ctl->cfg->file, "r");
    if (!f) {
        snprintf (why, wlen, "%s: %s", ctl->cfg->file, strerror (errno));
        return -1;
    }
    static char text[1 << 20];
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse (text);
    const cJSON *kite = cJSON_GetObjectItemCaseSensitive (root, "kite");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive (kite, "access_token");
    const char *s = cJSON_IsString (ref) ? ref->valuestring : "env:KITE_ACCESS_TOKEN";
    int rc = -1;
    const char *hash = strrchr (s, '#');
    if (strncmp (s, "file:", 5) != 0 || !hash || hash == s + 5 || !hash[1])
        snprintf (why, wlen,
                  "kite.access_token is \"%s\": tradectl stores a token only in a "
                  "secrets file (\"file:PATH#NAME\", docs/configuration.md); set the "
                  "variable yourself and restart the processes",
                  s);
    else {
        char rel[512], dir[512];
        snprintf (rel, sizeof rel, "%.*s", (int) (hash - s - 5), s + 5);
        snprintf (dir, sizeof dir, "%s", ctl->cfg->file);
        int w = rel[0] == '/' ? snprintf (path, plen, "%s", rel)
                              : snprintf (path, plen, "%s/%s", dirname (dir), rel);
        rc = w > 0 && (size_t) w < plen && strlen (hash + 1) < nlen ? 0 : -1;
        if (rc == 0)
            snprintf (name, nlen, "%s", hash + 1);
        else
            snprintf (why, wlen, "kite.access_token: path or name too long");
    }
    cJSON_Delete (root);
    return rc;
}

//  Replace (or add) NAME=token in the secrets file, atomically, mode 0600.
static int
s_store_token (const char *path, const char *name, const char *token, char *why, size_t wlen)
{
    char *old = NULL;
    size_t oldlen = 0;
    FILE *f = fopen (path, "r");
    if (f) {
        fseek (f, 0, SEEK_END);
        long sz = ftell (f);
        fseek (f, 0, SEEK_SET);
        old = calloc (1, (size_t) (sz > 0 ? sz : 0) + 1);
        oldlen = old ? fread (old, 1, (size_t) (sz > 0 ? sz : 0), f) : 0;
        fclose (f);
    }
    char tmp[600];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        if (snprintf (why, wlen, "%s: %s", tmp, strerror (errno)) < 0)
            why[0] = '\0';
        free (old);
        return -1;
    }
    FILE *o = fdopen (fd, "w");
    size_t nl = strlen (name);
    bool written = false;
    for (char *line = old, *next; line && line < old + oldlen; line = next) {
        char *end = memchr (line, '\n', (size_t) (old + oldlen - line));
        next = end ? end + 1 : old + oldlen;
        const char *k = line;
        if (strncmp (k, "export ", 7) == 0)
            k += 7;
        if (strncmp (k, name, nl) == 0 && k[nl] == '=') {
            if (!written)
                fprintf (o, "%s=%s\n", name, token);
            written = true;
        } else
            fprintf (o, "%.*s\n", (int) (end ? end - line : next - line), line);
    }
    if (!written)
        fprintf (o, "%s=%s\n", name, token);
    free (old);
    bool ok = fflush (o) == 0 && fsync (fileno (o)) == 0;
    ok = fclose (o) == 0 && ok;
    if (!ok || rename (tmp, path) != 0) {
        if (snprintf (why, wlen, "%s: %s", path, strerror (errno)) < 0)
            why[0] = '\0';
        unlink (tmp);
        return -1;
    }
    return 0;
}

//  GET /user/profile with token: the broker's own answer on whether it is valid.
//  Returns 0 (user_id filled), 1 refused (why has the broker's error), -1 no answer.
int
ctl_login_profile (const kt_cfg_t *cfg, const char *token, char *user_id, size_t ulen, char *date,
                   size_t dlen, char *why, size_t wlen)
{
    char url[256], auth[300];
    snprintf (url, sizeof url, "%s/user/profile", cfg->kite_api_url);
    snprintf (auth, sizeof auth, "Authorization: token %s:%s", cfg->kite_api_key, token);
    const char *hdrs[] = {"X-Kite-Version: 3", auth, NULL};
    kt_http_req_t req = {.method = "GET", .url = url, .headers = hdrs, .timeout_ms = 10000};
    kt_http_resp_t *r = kt_http_sync (&req);
    int rc = -1;
    if (date && dlen)
        date[0] = '\0';
    if (r->err != KT_HTTP_OK)
        snprintf (why, wlen, "%s: %s", url, r->errstr);
    else {
        cJSON *j = cJSON_Parse (r->body);
        const cJSON *data = cJSON_GetObjectItemCaseSensitive (j, "data");
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive (data, "user_id");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive (j, "message");
        const cJSON *et = cJSON_GetObjectItemCaseSensitive (j, "error_type");
        if (r->status == 200 && cJSON_IsString (uid)) {
            snprintf (user_id, ulen, "%s", uid->valuestring);
            rc = 0;
        } else {
            snprintf (why, wlen, "HTTP %ld %s: %s", r->status,
                      cJSON_IsString (et) ? et->valuestring : "",
                      cJSON_IsString (msg) ? msg->valuestring : "unexpected answer");
            rc = r->status >= 500 ? -1 : 1;
        }
        cJSON_Delete (j);
    }
    kt_http_resp_destroy (&r);
    return rc;
}

static bool
s_token_ok (const char *t)
{
    size_t n = strlen (t);
    if (n < 8 || n > 120)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char) t[i]))
            return false;
    return true;
}

//  Check, store, announce. Returns an exit code; prints or fills root.
static int
s_install (ctl_t *ctl, const char *token, cJSON *root)
{
    char path[512], name[64], why[512], user[64];
    if (s_secret_ref (ctl, path, sizeof path, name, sizeof name, why, sizeof why) != 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "%s", why);
    int p = ctl_login_profile (ctl->cfg, token, user, sizeof user, NULL, 0, why, sizeof why);
    if (p != 0)
        return ctl_ctx_fail (ctl, p < 0 ? CTL_EXIT_NOANSWER : CTL_EXIT_FAIL,
                             "the broker %s the token (%s); nothing stored",
                             p < 0 ? "did not answer for" : "refused", why);
    if (s_store_token (path, name, token, why, sizeof why) != 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_FAIL, "token not stored: %s", why);
    char note[64];
    snprintf (note, sizeof note, "access token ...%s for %.32s", token + strlen (token) - 4, user);
    bool told = ctl_ctx_store (ctl) &&
                ctl_request_write (ctl, &kt_key_session_reload, note, ctl_ctx_now (ctl, NULL)) == 0;
    if (root) {
        cJSON_AddStringToObject (root, "user_id", user);
        cJSON_AddStringToObject (root, "stored_in", path);
        cJSON_AddBoolToObject (root, "reload_requested", told);
        return ctl_json_emit (ctl, root, told ? CTL_EXIT_OK : CTL_EXIT_REDIS);
    }
    fprintf (ctl->out, "broker accepts the token: user %s\n", user);
    fprintf (ctl->out, "stored as %s in %s (mode 0600)\n", name, path);
    if (told)
        fprintf (ctl->out, "processes told to reload it (session:reload)\n");
    else
        fprintf (ctl->out, "Redis unavailable: the processes were NOT told; restart them "
                           "(supervisorctl restart all) to load the token\n");
    return told ? CTL_EXIT_OK : CTL_EXIT_REDIS;
}

int
ctl_login_cmd_token (ctl_t *ctl, int argc, char **argv)
{
    if (argc != 2)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "token: usage: token ACCESS_TOKEN | token - "
                             "(read from stdin, keeps it out of the shell "
                             "history)");
    char buf[256];
    const char *t = argv[1];
    if (strcmp (t, "-") == 0) {
        if (!fgets (buf, sizeof buf, stdin))
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "token: nothing on stdin");
        buf[strcspn (buf, "\r\n \t")] = '\0';
        t = buf;
    }
    if (!s_token_ok (t))
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "token: an access token is 8..120 letters and "
                             "digits");
    return s_install (ctl, t, ctl->json ? cJSON_CreateObject () : NULL);
}

static void
s_sha256_hex (const char *a, const char *b, const char *c, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_MD_CTX *x = EVP_MD_CTX_new ();
    EVP_DigestInit_ex (x, EVP_sha256 (), NULL);
    EVP_DigestUpdate (x, a, strlen (a));
    EVP_DigestUpdate (x, b, strlen (b));
    EVP_DigestUpdate (x, c, strlen (c));
    EVP_DigestFinal_ex (x, md, &len);
    EVP_MD_CTX_free (x);
    for (unsigned i = 0; i < 32; i++)
        sprintf (out + 2 * i, "%02x", md[i]);
    out[64] = '\0';
}

//  The request token from what was pasted: a redirect URL (…?request_token=X&…) or the
//  token itself. Returns 0, or -1 when there is none.
int
ctl_login_request_token (const char *pasted, char *out, size_t len)
{
    const char *p = strstr (pasted, "request_token=");
    p = p ? p + strlen ("request_token=") : pasted;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    while (isalnum ((unsigned char) p[n]) && n + 1 < len)
        n++;
    if (n == 0 ||
        (p[n] && p[n] != '&' && p[n] != '\r' && p[n] != '\n' && p[n] != ' ' && p[n] != '#'))
        return -1;
    memcpy (out, p, n);
    out[n] = '\0';
    return 0;
}

int
ctl_login_cmd_login (ctl_t *ctl, int argc, char **argv)
{
    if (argc > 2)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "login: usage: login [REDIRECT_URL | "
                             "REQUEST_TOKEN]");
    const kt_cfg_t *cfg = ctl->cfg;
    if (!cfg->kite_api_key[0] || !cfg->kite_api_secret[0])
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "login: kite.api_key and kite.api_secret must be "
                             "set (docs/configuration.md, Secrets)");
    char pasted[2048];
    if (argc == 2)
        snprintf (pasted, sizeof pasted, "%s", argv[1]);
    else {
        fprintf (ctl->err, "1. open this URL in a browser and log in:\n   %s?api_key=%s&v=3\n",
                 S_LOGIN_URL, cfg->kite_api_key);
        if (kt_cfg_is_sim (cfg))
            fprintf (ctl->err, "   (kite-sim at %s: any request token works, e.g. \"sim\")\n",
                     cfg->kite_api_url);
        fprintf (ctl->err, "2. paste the URL you were sent to (or its request_token): ");
        fflush (ctl->err);
        if (!fgets (pasted, sizeof pasted, stdin))
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "login: nothing pasted");
    }
    char rt[128];
    if (ctl_login_request_token (pasted, rt, sizeof rt) != 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "login: no request_token in what was pasted");
    char sum[65], url[256], body[512];
    s_sha256_hex (cfg->kite_api_key, rt, cfg->kite_api_secret, sum);
    snprintf (url, sizeof url, "%s/session/token", cfg->kite_api_url);
    snprintf (body, sizeof body, "api_key=%s&request_token=%s&checksum=%s", cfg->kite_api_key, rt,
              sum);
    const char *hdrs[] = {"X-Kite-Version: 3", NULL};
    //  Never re-sent: a request token is single-use.
    kt_http_resp_t *r = kt_http_post_sync (url, hdrs, body, 15000);
    if (r->err != KT_HTTP_OK) {
        int rc = ctl_ctx_fail (ctl, CTL_EXIT_NOANSWER, "login: %s: %s", url, r->errstr);
        kt_http_resp_destroy (&r);
        return rc;
    }
    cJSON *j = cJSON_Parse (r->body);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive (j, "data");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive (data, "access_token");
    int rc;
    if (r->status != 200 || !cJSON_IsString (tok) || !s_token_ok (tok->valuestring)) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive (j, "message");
        const cJSON *et = cJSON_GetObjectItemCaseSensitive (j, "error_type");
        rc = ctl_ctx_fail (ctl, CTL_EXIT_FAIL,
                           "login refused: HTTP %ld %s: %s (a request token "
                           "works once and for a few minutes: log in again)",
                           r->status, cJSON_IsString (et) ? et->valuestring : "",
                           cJSON_IsString (msg) ? msg->valuestring
                                                : "no access token in the answer");
    } else
        rc = s_install (ctl, tok->valuestring, ctl->json ? cJSON_CreateObject () : NULL);
    cJSON_Delete (j);
    kt_http_resp_destroy (&r);
    return rc;
}
