/*  ctl_preflight - `preflight`: the pre-market checklist, one PASS/FAIL line per
 *  check, exit 1 on any FAIL. Every check asks the real thing: the broker (GET
 *  /user/profile with today's token; its Date header for the clock), Redis (CONFIG GET
 *  appendonly), every heartbeat, the book (orders left from before today's 09:00 IST),
 *  the instruments, the universe md-gateway publishes, an alert through the alerter to
 *  a channel, and free disk space. A check that cannot be made is a FAIL with the
 *  reason, never a silent pass. */

#include <stdarg.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>
#include "ctl_cmd.h"

#define S_CLOCK_SKEW_S 2

struct s_report {
    ctl_t *ctl;
    cJSON *arr;
    int failed;
};

static void s_line (struct s_report *r, bool ok, const char *name, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_line (struct s_report *r, bool ok, const char *name, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    if (!ok)
        r->failed++;
    if (r->arr) {
        cJSON *c = cJSON_CreateObject ();
        cJSON_AddStringToObject (c, "check", name);
        cJSON_AddBoolToObject (c, "pass", ok);
        cJSON_AddStringToObject (c, "detail", text);
        cJSON_AddItemToArray (r->arr, c);
    } else
        fprintf (r->ctl->out, "%s  %-14s %s\n", ok ? "PASS" : "FAIL", name, text);
}

struct s_http {
    char body[8192];
    size_t len;
    char date[64];
};

static size_t
s_on_body (char *p, size_t sz, size_t n, void *arg)
{
    struct s_http *h = arg;
    size_t take = sz * n;
    if (take > sizeof h->body - 1 - h->len)
        take = sizeof h->body - 1 - h->len;
    memcpy (h->body + h->len, p, take);
    h->len += take;
    h->body[h->len] = '\0';
    return sz * n;
}

static size_t
s_on_header (char *p, size_t sz, size_t n, void *arg)
{
    struct s_http *h = arg;
    size_t len = sz * n;
    if (len > 5 && strncasecmp (p, "Date:", 5) == 0) {
        size_t i = 5;
        while (i < len && p[i] == ' ')
            i++;
        size_t e = len;
        while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n'))
            e--;
        snprintf (h->date, sizeof h->date, "%.*s", (int) (e - i), p + i);
    }
    return len;
}

//  The token and the clock from one real broker call.
static void
s_broker (struct s_report *r)
{
    const kt_cfg_t *cfg = r->ctl->cfg;
    if (!cfg->kite_access_token[0]) {
        s_line (r, false, "token",
                "no access token configured (kite.access_token): run "
                "`tradectl login`");
        s_line (r, false, "clock", "not checked: needs a broker answer");
        return;
    }
    char url[256], auth[300];
    snprintf (url, sizeof url, "%s/user/profile", cfg->kite_api_url);
    snprintf (auth, sizeof auth, "Authorization: token %s:%s", cfg->kite_api_key,
              cfg->kite_access_token);
    struct s_http h = {.len = 0};
    CURL *c = curl_easy_init ();
    struct curl_slist *hd = curl_slist_append (NULL, "X-Kite-Version: 3");
    hd = curl_slist_append (hd, auth);
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, &h);
    curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform (c);
    long status = 0;
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
    int64_t local = kt_clock_wall_ns ();
    curl_slist_free_all (hd);
    curl_easy_cleanup (c);
    if (rc != CURLE_OK) {
        s_line (r, false, "token", "broker %s unreachable: %s", url, curl_easy_strerror (rc));
        s_line (r, false, "clock", "not checked: needs a broker answer");
        return;
    }
    cJSON *j = cJSON_Parse (h.body);
    const cJSON *uid =
        cJSON_GetObjectItemCaseSensitive (cJSON_GetObjectItemCaseSensitive (j, "data"), "user_id");
    const cJSON *et = cJSON_GetObjectItemCaseSensitive (j, "error_type");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive (j, "message");
    if (status == 200 && cJSON_IsString (uid))
        s_line (r, true, "token", "the broker accepts today's access token (user %s)",
                uid->valuestring);
    else
        s_line (r, false, "token",
                "the broker refuses the access token: HTTP %ld %s: %s; run "
                "`tradectl login`",
                status, cJSON_IsString (et) ? et->valuestring : "",
                cJSON_IsString (msg) ? msg->valuestring : "unexpected answer");
    cJSON_Delete (j);
    struct tm tm;
    memset (&tm, 0, sizeof tm);
    if (h.date[0] && strptime (h.date, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
        int64_t broker = (int64_t) timegm (&tm) * 1000000000LL;
        int64_t skew = (local - broker) / 1000000000LL;
        s_line (r, skew <= S_CLOCK_SKEW_S && skew >= -S_CLOCK_SKEW_S - 1, "clock",
                "local clock %+lld s from the broker's (%s; tolerance %d s)", (long long) skew,
                h.date, S_CLOCK_SKEW_S);
    } else if (kt_cfg_is_sim (cfg))
        s_line (r, true, "clock",
                "sim mode: the pipeline follows kite-sim's clock (no Date "
                "header to compare)");
    else
        s_line (r, false, "clock", "the broker's answer had no Date header: cannot check");
}

static void
s_redis (struct s_report *r, kt_store_t *store)
{
    kt_store_result_t x = kt_store_callf (store, "CONFIG GET appendonly");
    kt_store_result_t v = kt_store_result_at (&x, 1);
    bool on = x.kind == KT_STORE_ARR && x.elements == 2 && kt_store_result_is (&v, "yes");
    if (x.kind == KT_STORE_DOWN)
        s_line (r, false, "redis", "unavailable: %s", x.str);
    else if (x.kind == KT_STORE_ERR)
        s_line (r, false, "redis", "CONFIG GET refused (%s): cannot check persistence", x.str);
    else
        s_line (r, on, "redis",
                on ? "persistence on (appendonly yes)"
                   : "persistence OFF (appendonly no): a Redis restart loses the book; use "
                     "deploy/redis.conf");
    kt_store_result_free (&x);
}

static void
s_processes (struct s_report *r, int64_t now, int64_t speed)
{
    for (int i = 0; ctl_health_procs[i]; i++) {
        struct ctl_health h;
        char name[32], age[32];
        snprintf (name, sizeof name, "%s", ctl_health_procs[i]);
        if (ctl_health_read (r->ctl, ctl_health_procs[i], now, speed, &h) != 0)
            s_line (r, false, name, "Redis unavailable");
        else if (!h.present)
            s_line (r, false, name, "no heartbeat: not running");
        else
            s_line (r, h.fresh, name, "pid %lld, last heartbeat %s", (long long) h.rec.pid,
                    ctl_fmt_age (h.age_ns, age, sizeof age));
    }
}

static void
s_leftovers (struct s_report *r, int64_t now)
{
    char why[256];
    struct kt_order_rec *ord;
    int n = ctl_book_open_orders (r->ctl, &ord, why, sizeof why);
    if (n < 0) {
        s_line (r, false, "old orders", "cannot read the book: %s", why);
        return;
    }
    int64_t cut = kt_ist_day_start (now) + 9 * 3600 * 1000000000LL;
    char list[256] = "";
    int old = 0;
    for (int i = 0; i < n; i++)
        if (ord[i].created_ns < cut) {
            old++;
            size_t l = strlen (list);
            if (l + strlen (ord[i].coid) + 2 < sizeof list)
                snprintf (list + l, sizeof list - l, "%s%s", l ? " " : "", ord[i].coid);
        }
    free (ord);
    if (old)
        s_line (r, false, "old orders",
                "%d open order(s) from before today 09:00 IST: %s (run "
                "`tradectl reconcile`, then `tradectl cancel-all`)",
                old, list);
    else
        s_line (r, true, "old orders", "none open from before today 09:00 IST (%d open)", n);
}

static void
s_instruments (struct s_report *r, kt_store_t *store)
{
    const char *file = r->ctl->cfg->instruments_file;
    if (file[0]) {
        char err[256];
        kt_instr_table_t *t = kt_instr_load (file, err, sizeof err);
        if (t)
            s_line (r, kt_instr_count (t) > 0, "instruments", "%s: %lld instruments", file,
                    (long long) kt_instr_count (t));
        else
            s_line (r, false, "instruments", "%s", err);
        kt_instr_destroy (&t);
    } else
        s_line (r, true, "instruments",
                "downloaded by md-gateway from %s at its start (see "
                "universe)",
                r->ctl->cfg->kite_api_url);
    //  md-gateway's universe key, found by its documented name: tradectl cannot check
    //  a key md-gateway does not declare.
    int n;
    const kt_schema_key_t *const *all = kt_schema_all (&n), *uni = NULL;
    for (int i = 0; i < n; i++)
        if (strcmp (all[i]->doc_name, "md:universe") == 0)
            uni = all[i];
    if (!uni) {
        s_line (r, false, "universe",
                "md-gateway declares no md:universe key: cannot tell "
                "whether today's universe is loaded");
        return;
    }
    struct kt_skey k = kt_schema_key (kt_store_prefix (store), uni, NULL);
    kt_store_result_t x = kt_store_callf (store, "EXISTS %s", k.s);
    bool ok = x.kind == KT_STORE_INT && x.integer == 1;
    s_line (r, ok, "universe",
            ok                        ? "md:universe loaded"
            : x.kind == KT_STORE_DOWN ? "cannot read md:universe: Redis unavailable"
                                      : "md:universe missing: md-gateway has not loaded today's "
                                        "universe");
    kt_store_result_free (&x);
}

static void
s_disk (struct s_report *r, int64_t min_mb)
{
    struct statvfs v;
    if (statvfs (".", &v) != 0) {
        s_line (r, false, "disk", "statvfs failed");
        return;
    }
    int64_t free_mb = (int64_t) ((unsigned long long) v.f_bavail * v.f_frsize / (1024 * 1024));
    s_line (r, free_mb >= min_mb, "disk", "%lld MB free here (need %lld MB)", (long long) free_mb,
            (long long) min_mb);
}

int
ctl_preflight_cmd (ctl_t *ctl, int argc, char **argv)
{
    int64_t min_mb = 1024;
    int alert_s = 30;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--min-disk-mb") == 0 && i + 1 < argc)
            min_mb = atoll (argv[++i]);
        else if (strcmp (argv[i], "--alert-timeout") == 0 && i + 1 < argc && atoi (argv[i + 1]) > 0)
            alert_s = atoi (argv[++i]);
        else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                                 "preflight: usage: preflight [--min-disk-mb N] "
                                 "[--alert-timeout S]");
    }
    cJSON *root = ctl->json ? cJSON_CreateObject () : NULL;
    struct s_report r = {ctl, root ? cJSON_AddArrayToObject (root, "checks") : NULL, 0};
    s_broker (&r);
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store) {
        s_line (&r, false, "redis", "unavailable at %s:%lld", ctl->cfg->redis_host,
                (long long) ctl->cfg->redis_port);
    } else {
        int64_t speed;
        int64_t now = ctl_ctx_now (ctl, &speed);
        s_redis (&r, store);
        s_processes (&r, now, speed);
        s_leftovers (&r, now);
        s_instruments (&r, store);
        char key[KT_KEY_LEN], channel[64];
        int64_t ms;
        int a = ctl_alert_roundtrip (ctl, KT_SEV_INFO, alert_s, key, sizeof key, channel,
                                     sizeof channel, &ms);
        if (a == 1)
            s_line (&r, true, "alert", "test alert delivered on %s in %lld ms", channel,
                    (long long) ms);
        else
            s_line (&r, false, "alert", "test alert %s not delivered within %d s", key, alert_s);
    }
    s_disk (&r, min_mb);
    int rc = r.failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
    if (root) {
        ctl_json_i64 (root, "failed", r.failed);
        return ctl_json_emit (ctl, root, rc);
    }
    fprintf (ctl->out, "%s\n",
             r.failed ? "preflight FAILED: fix the FAIL lines before the open"
                      : "preflight passed");
    return rc;
}
