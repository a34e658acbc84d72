/*  kt_instr_cache_test - the daily instruments list: downloaded once per day and
 *  source, reused on restart, one download for processes starting together, a
 *  configured file used as is, refused downloads never cached, old days pruned.
 *  The server is kt_testhttp serving Kite's own instruments_all.csv fixture. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>

#include "kt_clock.h"
#include "kt_instr_cache.h"
#include "kt_testhttp.h"

#define S_FIX "../shared/fixtures/kite/instruments_all.csv"

static char *
s_read (const char *path)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    static char buf[1 << 20];
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = '\0';
    return buf;
}

static int
s_count_files (const char *dir, const char *ext)
{
    DIR *d = opendir (dir);
    assert_non_null (d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)))
        if (strstr (e->d_name, ext))
            n++;
    closedir (d);
    return n;
}

struct s_env {
    kt_testhttp_t *http;
    char api[128];
    char dir[128];
};

static void
s_setup (struct s_env *env, bool serve)
{
    env->http = kt_testhttp_new ();
    assert_non_null (env->http);
    if (serve)
        assert_int_equal (
            kt_testhttp_route (env->http, "GET", "/instruments", 200, "text/csv", s_read (S_FIX)),
            0);
    else
        assert_int_equal (kt_testhttp_route (env->http, "GET", "/instruments", 200, "text/csv",
                                             "not,a,dump\n1,2\n"),
                          0);
    assert_int_equal (kt_testhttp_start (env->http), 0);
    kt_testhttp_url (env->http, env->api, sizeof env->api, "");
    snprintf (env->dir, sizeof env->dir, "/tmp/kt_instr_cache_test_%d/a/b", (int) getpid ());
}

static void
s_teardown (struct s_env *env)
{
    char cmd[256];
    snprintf (cmd, sizeof cmd, "rm -rf /tmp/kt_instr_cache_test_%d", (int) getpid ());
    assert_int_equal (system (cmd), 0);
    kt_testhttp_destroy (&env->http);
}

static struct kt_instr_cache_cfg
s_cfg (const struct s_env *env, int64_t now_ns)
{
    struct kt_instr_cache_cfg c = {.file = "",
                                   .dir = env->dir,
                                   .api_url = env->api,
                                   .api_key = "key",
                                   .access_token = "tok",
                                   .now_ns = now_ns,
                                   .timeout_ms = 5000};
    return c;
}

static void
test_download_once_per_day (void **state)
{
    (void) state;
    struct s_env env;
    s_setup (&env, true);
    int64_t day1 = kt_ist_ns (2025, 12, 8, 9, 0, 0);
    struct kt_instr_cache_cfg c = s_cfg (&env, day1);
    char err[512], path[600];
    kt_instr_table_t *t = kt_instr_cache_load (&c, err, sizeof err);
    assert_non_null (t);
    assert_int_equal (kt_instr_count (t), 99);
    kt_instr_destroy (&t);
    assert_int_equal (kt_testhttp_count (env.http), 1);
    //  The request carried the Kite headers.
    assert_true (kt_testhttp_wait (env.http, "X-Kite-Version: 3", 1000));
    assert_true (kt_testhttp_wait (env.http, "Authorization: token key:tok", 1000));
    //  A restart the same day (later that day) reads the file again, no download.
    c.now_ns = day1 + 5 * 3600 * KT_NS_PER_SEC;
    assert_int_equal (kt_instr_cache_path (&c, path, sizeof path, err, sizeof err), 0);
    assert_non_null (strstr (path, "instruments-20251208-"));
    assert_int_equal (kt_testhttp_count (env.http), 1);
    //  The next day downloads again and prunes the previous day's file.
    c.now_ns = day1 + 24 * 3600 * KT_NS_PER_SEC;
    assert_int_equal (kt_instr_cache_path (&c, path, sizeof path, err, sizeof err), 0);
    assert_non_null (strstr (path, "instruments-20251209-"));
    assert_int_equal (kt_testhttp_count (env.http), 2);
    assert_int_equal (s_count_files (env.dir, ".csv"), 1);
    assert_int_equal (s_count_files (env.dir, ".lock"), 1);
    //  Another source (API URL) the same day has its own file.
    char other[160];
    snprintf (other, sizeof other, "%s/", env.api);
    c.api_url = other;
    char path2[600];
    assert_int_equal (kt_instr_cache_path (&c, path2, sizeof path2, err, sizeof err), 0);
    assert_string_not_equal (path, path2);
    assert_int_equal (kt_testhttp_count (env.http), 3);
    s_teardown (&env);
}

static void
test_concurrent_start_downloads_once (void **state)
{
    (void) state;
    struct s_env env;
    s_setup (&env, true);
    struct kt_instr_cache_cfg c = s_cfg (&env, kt_ist_ns (2025, 12, 8, 9, 0, 0));
    enum { N = 6 };
    pid_t kids[N];
    int go[2];
    assert_int_equal (pipe (go), 0);
    for (int i = 0; i < N; i++) {
        kids[i] = fork ();
        assert_true (kids[i] >= 0);
        if (kids[i] == 0) {
            char b;
            close (go[1]);
            if (read (go[0], &b, 1) < 0)
                _exit (3);
            char err[512];
            kt_instr_table_t *t = kt_instr_cache_load (&c, err, sizeof err);
            int ok = t && kt_instr_count (t) == 99;
            kt_instr_destroy (&t);
            _exit (ok ? 0 : 1);
        }
    }
    close (go[0]);
    close (go[1]); //  every child starts at once
    for (int i = 0; i < N; i++) {
        int st = 0;
        assert_int_equal (waitpid (kids[i], &st, 0), kids[i]);
        assert_true (WIFEXITED (st));
        assert_int_equal (WEXITSTATUS (st), 0);
    }
    assert_int_equal (kt_testhttp_count (env.http), 1);
    s_teardown (&env);
}

static void
test_configured_file_and_errors (void **state)
{
    (void) state;
    struct s_env env;
    s_setup (&env, false);
    struct kt_instr_cache_cfg c = s_cfg (&env, kt_ist_ns (2025, 12, 8, 9, 0, 0));
    char err[512], path[600];
    //  A configured file: used as is, nothing downloaded.
    c.file = S_FIX;
    assert_int_equal (kt_instr_cache_path (&c, path, sizeof path, err, sizeof err), 0);
    assert_string_equal (path, S_FIX);
    c.file = "/nonexistent/instruments.csv";
    assert_int_equal (kt_instr_cache_path (&c, path, sizeof path, err, sizeof err), -1);
    assert_non_null (strstr (err, "/nonexistent/instruments.csv"));
    assert_int_equal (kt_testhttp_count (env.http), 0);
    //  A download that does not parse is refused and not cached: a retry downloads again.
    c.file = "";
    assert_null (kt_instr_cache_load (&c, err, sizeof err));
    assert_non_null (strstr (err, "not a usable list"));
    assert_null (kt_instr_cache_load (&c, err, sizeof err));
    assert_int_equal (kt_testhttp_count (env.http), 2);
    assert_int_equal (s_count_files (env.dir, ".csv"), 0);
    //  HTTP status and connection errors name the URL.
    char bad[160];
    kt_testhttp_url (env.http, bad, sizeof bad, "/status/403");
    c.api_url = bad;
    assert_int_equal (kt_instr_cache_path (&c, path, sizeof path, err, sizeof err), -1);
    assert_non_null (strstr (err, "status"));
    c.api_url = "http://127.0.0.1:1";
    assert_int_equal (kt_instr_cache_path (&c, path, sizeof path, err, sizeof err), -1);
    assert_non_null (strstr (err, "connect"));
    c.api_url = "";
    assert_int_equal (kt_instr_cache_path (&c, path, sizeof path, err, sizeof err), -1);
    c.api_url = env.api;
    c.dir = "";
    assert_int_equal (kt_instr_cache_path (&c, path, sizeof path, err, sizeof err), -1);
    s_teardown (&env);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_download_once_per_day),
        cmocka_unit_test (test_concurrent_start_downloads_once),
        cmocka_unit_test (test_configured_file_and_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
