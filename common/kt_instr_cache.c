/*  kt_instr_cache - the daily instruments list on disk (see the header for the rules).
 *
 *  flock rather than O_EXCL lock files: the kernel drops an flock when its holder dies,
 *  so a process killed mid-download never leaves the others waiting on a stale lock. */

#include "kt_instr_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kt_clock.h"
#include "kt_http.h"

static int
s_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errlen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

void
kt_instr_cache_from_cfg (const kt_cfg_t *cfg, int64_t now_ns, struct kt_instr_cache_cfg *out)
{
    memset (out, 0, sizeof *out);
    out->file = cfg->instruments_file;
    out->dir = cfg->instruments_cache_dir;
    out->api_url = cfg->kite_api_url;
    out->api_key = cfg->kite_api_key;
    out->access_token = cfg->kite_access_token;
    out->now_ns = now_ns;
}

//  FNV-1a of the URL: names the source in the file name.
static uint32_t
s_source (const char *url)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *) url; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static int
s_mkdirs (const char *dir, char *err, size_t errlen)
{
    char tmp[512];
    if (snprintf (tmp, sizeof tmp, "%s", dir) >= (int) sizeof tmp)
        return s_err (err, errlen, "instruments: cache dir too long");
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir (tmp, 0755) != 0 && errno != EEXIST)
            return s_err (err, errlen, "instruments: mkdir %s: %s", tmp, strerror (errno));
        *p = '/';
    }
    if (mkdir (tmp, 0755) != 0 && errno != EEXIST)
        return s_err (err, errlen, "instruments: mkdir %s: %s", tmp, strerror (errno));
    return 0;
}

static bool
s_present (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0;
}

//  Remove other days' files of this source once today's is in place.
static void
s_prune (const char *dir, const char *keep, const char *suffix)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    size_t slen = strlen (suffix);
    while ((e = readdir (d))) {
        size_t n = strlen (e->d_name);
        if (strncmp (e->d_name, "instruments-", 12) != 0 || n < slen ||
            strcmp (e->d_name + n - slen, suffix) != 0 || strcmp (e->d_name, keep) == 0)
            continue;
        char path[768];
        if (snprintf (path, sizeof path, "%s/%s", dir, e->d_name) < (int) sizeof path)
            unlink (path);
    }
    closedir (d);
}

static int
s_download (const struct kt_instr_cache_cfg *cfg, const char *path, char *err, size_t errlen)
{
    char url[512];
    size_t ulen = strlen (cfg->api_url);
    const char *slash = ulen && cfg->api_url[ulen - 1] == '/' ? "" : "/";
    if (snprintf (url, sizeof url, "%s%sinstruments", cfg->api_url, slash) >= (int) sizeof url)
        return s_err (err, errlen, "instruments: api_url too long");
    char auth[256] = "";
    const char *headers[3] = {"X-Kite-Version: 3", NULL, NULL};
    if (cfg->api_key && *cfg->api_key && cfg->access_token && *cfg->access_token) {
        snprintf (auth, sizeof auth, "Authorization: token %s:%s", cfg->api_key, cfg->access_token);
        headers[1] = auth;
    }
    kt_http_req_t req = {.method = "GET",
                         .url = url,
                         .headers = headers,
                         .timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000,
                         .max_body = 256u << 20};
    kt_http_resp_t *resp = kt_http_sync (&req);
    memset (auth, 0, sizeof auth);
    int rc = -1;
    if (resp->err != KT_HTTP_OK)
        s_err (err, errlen, "instruments: GET %s: %s: %s", url, kt_http_err_str (resp->err),
               resp->errstr);
    else if (resp->status != 200)
        s_err (err, errlen, "instruments: GET %s: status %ld: %.200s", url, resp->status,
               resp->body);
    else {
        char why[256];
        kt_instr_table_t *t = kt_instr_parse (resp->body, resp->body_len, why, sizeof why);
        if (!t)
            s_err (err, errlen, "instruments: GET %s: not a usable list: %s", url, why);
        else {
            kt_instr_destroy (&t);
            char tmp[600];
            snprintf (tmp, sizeof tmp, "%s.XXXXXX", path);
            int fd = mkstemp (tmp);
            if (fd < 0)
                s_err (err, errlen, "instruments: %s: %s", tmp, strerror (errno));
            else {
                size_t off = 0;
                while (off < resp->body_len) {
                    ssize_t w = write (fd, resp->body + off, resp->body_len - off);
                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w <= 0)
                        break;
                    off += (size_t) w;
                }
                bool ok = off == resp->body_len && fsync (fd) == 0 && fchmod (fd, 0644) == 0;
                int saved = errno;
                close (fd);
                if (!ok || rename (tmp, path) != 0) {
                    if (ok)
                        saved = errno;
                    unlink (tmp);
                    s_err (err, errlen, "instruments: writing %s: %s", path, strerror (saved));
                } else
                    rc = 0;
            }
        }
    }
    kt_http_resp_destroy (&resp);
    return rc;
}

int
kt_instr_cache_path (const struct kt_instr_cache_cfg *cfg, char *path, size_t pathlen, char *err,
                     size_t errlen)
{
    if (cfg->file && *cfg->file) {
        if (access (cfg->file, R_OK) != 0)
            return s_err (err, errlen, "instruments: %s: %s", cfg->file, strerror (errno));
        if (snprintf (path, pathlen, "%s", cfg->file) >= (int) pathlen)
            return s_err (err, errlen, "instruments: path too long");
        return 0;
    }
    if (!cfg->dir || !*cfg->dir)
        return s_err (err, errlen, "instruments: no file and no cache dir configured");
    if (!cfg->api_url || !*cfg->api_url)
        return s_err (err, errlen, "instruments: no file and no kite.api_url to download from");
    if (s_mkdirs (cfg->dir, err, errlen) != 0)
        return -1;
    int day = kt_ist_yyyymmdd (cfg->now_ns);
    char suffix[32], name[64], lockpath[600];
    snprintf (suffix, sizeof suffix, "-%08x.csv", s_source (cfg->api_url));
    snprintf (name, sizeof name, "instruments-%08d%s", day, suffix);
    if (snprintf (path, pathlen, "%s/%s", cfg->dir, name) >= (int) pathlen)
        return s_err (err, errlen, "instruments: path too long");
    if (s_present (path))
        return 0;
    snprintf (lockpath, sizeof lockpath, "%s/instruments-%08d-%08x.lock", cfg->dir, day,
              s_source (cfg->api_url));
    int lock = open (lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0)
        return s_err (err, errlen, "instruments: %s: %s", lockpath, strerror (errno));
    while (flock (lock, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int saved = errno;
            close (lock);
            return s_err (err, errlen, "instruments: lock %s: %s", lockpath, strerror (saved));
        }
    }
    //  Whoever held the lock before us may have downloaded it.
    int rc = 0;
    if (!s_present (path)) {
        rc = s_download (cfg, path, err, errlen);
        if (rc == 0) {
            char lockname[64], locksuffix[32];
            snprintf (lockname, sizeof lockname, "instruments-%08d-%08x.lock", day,
                      s_source (cfg->api_url));
            snprintf (locksuffix, sizeof locksuffix, "-%08x.lock", s_source (cfg->api_url));
            s_prune (cfg->dir, name, suffix);
            s_prune (cfg->dir, lockname, locksuffix);
        }
    }
    flock (lock, LOCK_UN);
    close (lock);
    return rc;
}

kt_instr_table_t *
kt_instr_cache_load (const struct kt_instr_cache_cfg *cfg, char *err, size_t errlen)
{
    char path[600];
    if (kt_instr_cache_path (cfg, path, sizeof path, err, errlen) != 0)
        return NULL;
    return kt_instr_load (path, err, errlen);
}
