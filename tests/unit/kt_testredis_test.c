/*  kt_testredis_test - the throwaway redis-server every Redis test stands on:
 *  start answers PING on a private port, kill makes it unreachable, restart brings
 *  it back on the same port, stop removes the temp dir, KT_REDIS_SERVER is honoured. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt_testredis.h"

static redisReply *
s_cmd (redisContext *c, const char *cmd)
{
    redisReply *r = redisCommand (c, cmd);
    assert_non_null (r);
    return r;
}

static void
test_start_ping_stop (void **state)
{
    (void)state;
    kt_testredis_t *srv = kt_testredis_start ();
    assert_non_null (srv);
    assert_true (srv->port > 0);
    assert_true (srv->pid > 0);
    assert_true (kt_testredis_running (srv));
    assert_string_equal (srv->bin, "redis-server");

    redisContext *c = kt_testredis_connect (srv);
    assert_non_null (c);
    redisReply *r = s_cmd (c, "PING");
    assert_string_equal (r->str, "PONG");
    freeReplyObject (r);
    //  No persistence: save is off, so nothing can leak between tests.
    r = s_cmd (c, "CONFIG GET save");
    assert_int_equal (r->type, REDIS_REPLY_ARRAY);
    assert_int_equal (r->elements, 2);
    assert_string_equal (r->element[1]->str, "");
    freeReplyObject (r);
    redisFree (c);

    char dir[64];
    strcpy (dir, srv->dir);
    pid_t pid = srv->pid;
    struct stat st;
    assert_int_equal (stat (dir, &st), 0);
    kt_testredis_stop (&srv);
    assert_null (srv);
    assert_int_equal (stat (dir, &st), -1);
    assert_int_equal (kill (pid, 0), -1); //  reaped, not a zombie
    kt_testredis_stop (&srv);             //  safe twice
}

static void
test_two_servers_differ (void **state)
{
    (void)state;
    kt_testredis_t *a = kt_testredis_start ();
    kt_testredis_t *b = kt_testredis_start ();
    assert_non_null (a);
    assert_non_null (b);
    assert_int_not_equal (a->port, b->port);
    assert_string_not_equal (a->dir, b->dir);
    kt_testredis_stop (&a);
    kt_testredis_stop (&b);
}

static void
test_kill_and_restart_same_port (void **state)
{
    (void)state;
    kt_testredis_t *srv = kt_testredis_start ();
    assert_non_null (srv);
    int port = srv->port;
    redisContext *c = kt_testredis_connect (srv);
    assert_non_null (c);
    freeReplyObject (s_cmd (c, "SET k v"));

    assert_int_equal (kt_testredis_kill (srv), 0);
    assert_false (kt_testredis_running (srv));
    assert_int_equal (srv->pid, 0);
    assert_int_equal (kt_testredis_kill (srv), -1);
    //  The old connection is dead, and nobody listens.
    assert_null (redisCommand (c, "PING"));
    redisFree (c);
    assert_null (kt_testredis_connect (srv));

    assert_int_equal (kt_testredis_restart_same_port (srv), 0);
    assert_int_equal (srv->port, port);
    assert_true (kt_testredis_running (srv));
    c = kt_testredis_connect (srv);
    assert_non_null (c);
    redisReply *r = s_cmd (c, "GET k");
    assert_int_equal (r->type, REDIS_REPLY_NIL); //  no persistence by default
    freeReplyObject (r);
    redisFree (c);

    //  Restarting a running server replaces it.
    pid_t old = srv->pid;
    assert_int_equal (kt_testredis_restart_same_port (srv), 0);
    assert_int_not_equal (srv->pid, old);
    kt_testredis_stop (&srv);
}

static void
test_extra_args_keep_data_across_restart (void **state)
{
    (void)state;
    static const char *const extra[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
    kt_testredis_t *srv = kt_testredis_start_with (extra);
    assert_non_null (srv);
    redisContext *c = kt_testredis_connect (srv);
    assert_non_null (c);
    freeReplyObject (s_cmd (c, "SET k v"));
    redisFree (c);
    assert_int_equal (kt_testredis_kill (srv), 0);
    assert_int_equal (kt_testredis_restart_same_port (srv), 0);
    c = kt_testredis_connect (srv);
    assert_non_null (c);
    redisReply *r = s_cmd (c, "GET k");
    assert_int_equal (r->type, REDIS_REPLY_STRING);
    assert_string_equal (r->str, "v");
    freeReplyObject (r);
    redisFree (c);
    char dir[64];
    strcpy (dir, srv->dir);
    kt_testredis_stop (&srv);
    struct stat st;
    assert_int_equal (stat (dir, &st), -1); //  appendonlydir/ removed too
}

static void
test_env_override_bad_binary (void **state)
{
    (void)state;
    setenv ("KT_REDIS_SERVER", "/nonexistent/redis-server", 1);
    kt_testredis_t *srv = kt_testredis_start ();
    unsetenv ("KT_REDIS_SERVER");
    assert_null (srv);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_start_ping_stop),
        cmocka_unit_test (test_two_servers_differ),
        cmocka_unit_test (test_kill_and_restart_same_port),
        cmocka_unit_test (test_extra_args_keep_data_across_restart),
        cmocka_unit_test (test_env_override_bad_binary),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
