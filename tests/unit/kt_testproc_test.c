/*  kt_testproc_test - the child-process harness of the integration tests, driven
 *  with /bin/sh scripts that write JSON log lines: exit status, signals, environment,
 *  binary lookup through KT_BUILD, log waits with a mark, stdout capture, timeouts. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt_testproc.h"

static kt_testproc_t *
s_sh (const char *script, const char *const *env)
{
    const char *args[] = {"-c", script, NULL};
    kt_testproc_t *p = kt_testproc_start ("/bin/sh", args, env);
    assert_non_null (p);
    return p;
}

static void
test_exit_status_log_and_stdout (void **state)
{
    (void)state;
    kt_testproc_t *p = s_sh ("echo '{\"ev\":\"proc.start\",\"n\":1}' >&2; echo hello; "
                             "echo '{\"ev\":\"proc.stop\"}' >&2; exit 3",
                             NULL);
    assert_int_equal (kt_testproc_wait (p, 5000), 3);
    assert_int_equal (kt_testproc_wait (p, 0), 3); //  same answer again
    assert_false (kt_testproc_running (p));
    assert_true (kt_testproc_elapsed_ms (p) >= 0);
    const char *line = kt_testproc_log_wait (p, "proc.start", NULL, 1000);
    assert_non_null (line);
    assert_string_equal (line, "{\"ev\":\"proc.start\",\"n\":1}");
    assert_non_null (kt_testproc_log_wait (p, "proc.stop", NULL, 0));
    assert_non_null (kt_testproc_log_wait (p, NULL, "\"n\":1", 0));
    assert_null (kt_testproc_log_wait (p, "proc", NULL, 0)); //  ids match whole
    assert_null (kt_testproc_log_wait (p, "proc.start", "\"n\":2", 0));
    assert_int_equal (kt_testproc_log_count (p, "proc.start", NULL), 1);
    assert_int_equal (kt_testproc_log_count (p, NULL, NULL), 2);
    char *out = kt_testproc_out_read (p);
    assert_string_equal (out, "hello\n");
    free (out);
    assert_int_equal (kt_testproc_signal (p, SIGTERM), -1); //  already gone

    char dir[128];
    snprintf (dir, sizeof dir, "%s", kt_testproc_log_path (p));
    kt_testproc_destroy (&p);
    assert_null (p);
    struct stat st;
    assert_int_equal (stat (dir, &st), -1); //  logs removed
    kt_testproc_destroy (&p);
}

static void
test_signal_and_timeout (void **state)
{
    (void)state;
    kt_testproc_t *p = s_sh ("echo '{\"ev\":\"ready\"}' >&2; exec sleep 30", NULL);
    assert_non_null (kt_testproc_log_wait (p, "ready", NULL, 5000));
    assert_true (kt_testproc_running (p));
    assert_int_equal (kt_testproc_wait (p, 20), -1); //  still running
    assert_null (kt_testproc_log_wait (p, "never", NULL, 20));
    assert_int_equal (kt_testproc_signal (p, SIGTERM), 0);
    assert_int_equal (kt_testproc_wait (p, 5000), 128 + SIGTERM);
    assert_true (kt_testproc_pid (p) > 0);
    kt_testproc_destroy (&p);

    p = s_sh ("exec sleep 30", NULL);
    assert_int_equal (kt_testproc_signal (p, SIGKILL), 0);
    assert_int_equal (kt_testproc_wait (p, 5000), 128 + SIGKILL);
    kt_testproc_destroy (&p);

    //  destroy stops a running child by itself.
    p = s_sh ("exec sleep 30", NULL);
    pid_t pid = kt_testproc_pid (p);
    kt_testproc_destroy (&p);
    assert_int_equal (kill (pid, 0), -1);
}

static void
test_env (void **state)
{
    (void)state;
    const char *env[] = {"KT_T_FOO=bar baz", "PATH=/usr/bin:/bin", NULL};
    kt_testproc_t *p =
        s_sh ("echo \"{\\\"ev\\\":\\\"env\\\",\\\"v\\\":\\\"$KT_T_FOO\\\"}\" >&2", env);
    assert_int_equal (kt_testproc_wait (p, 5000), 0);
    assert_non_null (kt_testproc_log_wait (p, "env", "\"v\":\"bar baz\"", 0));
    kt_testproc_destroy (&p);
    assert_null (getenv ("KT_T_FOO")); //  the test's env is untouched
}

static void
test_mark (void **state)
{
    (void)state;
    char flag[] = "/tmp/kt-testproc-flag-XXXXXX";
    int fd = mkstemp (flag);
    assert_true (fd >= 0);
    close (fd);
    unlink (flag);
    char script[512];
    snprintf (script, sizeof script,
              "echo '{\"ev\":\"tick\",\"n\":1}' >&2; "
              "while [ ! -e %s ]; do sleep 0.01; done; "
              "echo '{\"ev\":\"tick\",\"n\":2}' >&2; exec sleep 30",
              flag);
    kt_testproc_t *p = s_sh (script, NULL);
    assert_non_null (kt_testproc_log_wait (p, "tick", "\"n\":1", 5000));
    kt_testproc_log_mark (p);
    assert_int_equal (kt_testproc_log_count (p, "tick", NULL), 0);
    assert_null (kt_testproc_log_wait (p, "tick", NULL, 0));
    fd = creat (flag, 0644);
    close (fd);
    const char *line = kt_testproc_log_wait (p, "tick", NULL, 5000);
    assert_non_null (line);
    assert_non_null (strstr (line, "\"n\":2"));
    unlink (flag);
    kt_testproc_destroy (&p);
}

static void
test_exited_without_match_returns_at_once (void **state)
{
    (void)state;
    kt_testproc_t *p = s_sh ("exit 0", NULL);
    assert_int_equal (kt_testproc_wait (p, 5000), 0);
    //  A long timeout does not matter: the process is gone, nothing more can come.
    assert_null (kt_testproc_log_wait (p, "x", NULL, 60000));
    kt_testproc_destroy (&p);
}

static void
test_lookup_in_build_dir (void **state)
{
    (void)state;
    char dir[] = "/tmp/kt-testproc-build-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char bin[128], link[160];
    snprintf (bin, sizeof bin, "%s/bin", dir);
    assert_int_equal (mkdir (bin, 0755), 0);
    snprintf (link, sizeof link, "%s/fake-proc", bin);
    assert_int_equal (symlink ("/bin/true", link), 0);

    char *old = getenv ("KT_BUILD") ? strdup (getenv ("KT_BUILD")) : NULL;
    setenv ("KT_BUILD", dir, 1);
    kt_testproc_t *p = kt_testproc_start ("fake-proc", NULL, NULL);
    assert_non_null (p);
    assert_int_equal (kt_testproc_wait (p, 5000), 0);
    kt_testproc_destroy (&p);
    assert_null (kt_testproc_start ("no-such-proc", NULL, NULL));
    if (old)
        setenv ("KT_BUILD", old, 1);
    else
        unsetenv ("KT_BUILD");
    free (old);
    unlink (link);
    rmdir (bin);
    rmdir (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_exit_status_log_and_stdout),
        cmocka_unit_test (test_signal_and_timeout),
        cmocka_unit_test (test_env),
        cmocka_unit_test (test_mark),
        cmocka_unit_test (test_exited_without_match_returns_at_once),
        cmocka_unit_test (test_lookup_in_build_dir),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
