/*  kt_store_test - the Redis connection against a real throwaway redis-server:
 *  prefixed keys, commands, the script registry (incl. NOSCRIPT after SCRIPT FLUSH),
 *  heartbeat hash + TTL, the events stream, and every failure path: Redis killed,
 *  commands refused during back-off, back-off growing, reconnect after a restart on
 *  the same port, a Redis that stops answering (timeout), a script Redis refuses. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kt_store.h"
#include "kt_testredis.h"

typedef struct {
    kt_testredis_t *srv;
    kt_store_t *store;
    redisContext *peek; //  a second connection that inspects what the store did
} fixture_t;

static const char *s_lua_add = "redis.call('HINCRBY', KEYS[1], 'n', ARGV[1])\n"
                               "return redis.call('HGET', KEYS[1], 'n')\n";

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->srv = kt_testredis_start ();
    assert_non_null (f->srv);
    f->store = kt_store_new ("127.0.0.1", f->srv->port, "kt:", 500);
    assert_non_null (f->store);
    f->peek = kt_testredis_connect (f->srv);
    assert_non_null (f->peek);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    if (f->peek)
        redisFree (f->peek);
    kt_store_destroy (&f->store);
    assert_null (f->store);
    kt_testredis_stop (&f->srv);
    free (f);
    return 0;
}

static redisReply *
s_peek (fixture_t *f, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (f->peek, fmt, ap);
    va_end (ap);
    assert_non_null (r);
    return r;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

//  Wait (bounded) until the back-off allows the next attempt.
static void
s_wait_backoff (kt_store_t *store)
{
    for (int i = 0; i < 500 && kt_store_retry_in_ms (store) > 0; i++)
        s_sleep_ms (5);
    assert_int_equal (kt_store_retry_in_ms (store), 0);
}

static void
test_key_and_prefix (void **state)
{
    fixture_t *f = *state;
    char buf[32];
    assert_string_equal (kt_store_prefix (f->store), "kt:");
    assert_ptr_equal (kt_store_key (f->store, buf, sizeof buf, "pos:%s", "NIFTY"), buf);
    assert_string_equal (buf, "kt:pos:NIFTY");
    char small[8];
    assert_null (kt_store_key (f->store, small, sizeof small, "pos:%s", "NIFTY"));
    assert_null (kt_store_key (f->store, small, 3, "%s", "")); //  prefix alone too long
    assert_non_null (kt_store_key (f->store, small, 4, "%s", ""));
    assert_string_equal (small, "kt:");

    kt_store_t *bare = kt_store_new (NULL, 1, NULL, 0);
    assert_non_null (bare);
    assert_string_equal (kt_store_prefix (bare), "");
    kt_store_destroy (&bare);
    char longp[200];
    memset (longp, 'p', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    assert_null (kt_store_new ("127.0.0.1", 1, longp, 100));
    kt_store_destroy (&bare); //  safe on NULL
}

static void
test_commands (void **state)
{
    fixture_t *f = *state;
    assert_false (kt_store_is_ready (f->store));
    assert_string_equal (kt_store_errstr (f->store), "not connected");
    assert_int_equal (kt_store_connect (f->store), 0);
    assert_true (kt_store_is_ready (f->store));
    assert_string_equal (kt_store_errstr (f->store), "");

    char key[64];
    kt_store_key (f->store, key, sizeof key, "capital");
    redisReply *r = kt_store_cmd (f->store, "HSET %s equity %lld", key, 123456789LL);
    assert_non_null (r);
    assert_int_equal (r->type, REDIS_REPLY_INTEGER);
    freeReplyObject (r);
    r = s_peek (f, "HGET kt:capital equity");
    assert_string_equal (r->str, "123456789");
    freeReplyObject (r);

    //  argv form is binary safe.
    const char *argv[] = {"SET", "kt:bin", "a\0b"};
    const size_t len[] = {3, 6, 3};
    r = kt_store_cmdargv (f->store, 3, argv, len);
    assert_non_null (r);
    assert_string_equal (r->str, "OK");
    freeReplyObject (r);
    r = s_peek (f, "STRLEN kt:bin");
    assert_int_equal (r->integer, 3);
    freeReplyObject (r);

    //  A Redis error is a reply, not a transport failure.
    r = kt_store_cmd (f->store, "INCR kt:bin");
    assert_non_null (r);
    assert_int_equal (r->type, REDIS_REPLY_ERROR);
    freeReplyObject (r);
    assert_true (kt_store_is_ready (f->store));
    assert_int_equal (kt_store_reconnects (f->store), 0);
}

static void
test_lazy_connect_on_first_command (void **state)
{
    fixture_t *f = *state;
    //  Never connected, no back-off pending: the first command connects.
    redisReply *r = kt_store_cmd (f->store, "PING");
    assert_non_null (r);
    assert_string_equal (r->str, "PONG");
    freeReplyObject (r);
    assert_true (kt_store_is_ready (f->store));
    assert_int_equal (kt_store_reconnects (f->store), 0);
}

static void
test_scripts (void **state)
{
    fixture_t *f = *state;
    int add = kt_store_script (f->store, "add", s_lua_add);
    assert_int_equal (add, 0);
    assert_int_equal (kt_store_connect (f->store), 0);
    //  Loaded at connect: Redis already knows it before the first eval.
    redisReply *r = s_peek (f, "EVAL %s 0 %s", "return redis.sha1hex(ARGV[1])", s_lua_add);
    char sha[41];
    snprintf (sha, sizeof sha, "%s", r->str);
    freeReplyObject (r);
    r = s_peek (f, "SCRIPT EXISTS %s", sha);
    assert_int_equal (r->element[0]->integer, 1);
    freeReplyObject (r);

    const char *keys[] = {"kt:cnt"};
    const char *args[] = {"5"};
    r = kt_store_eval (f->store, add, 1, keys, 1, args);
    assert_non_null (r);
    assert_int_equal (r->type, REDIS_REPLY_STRING);
    assert_string_equal (r->str, "5");
    freeReplyObject (r);

    //  Registered after connect: loaded on first use.
    int echo = kt_store_script (f->store, "echo", "return {KEYS[1], ARGV[1], ARGV[2]}");
    assert_int_equal (echo, 1);
    //  The same script again keeps its id; the same name with other text is a new one.
    assert_int_equal (kt_store_script (f->store, "echo", "return {KEYS[1], ARGV[1], ARGV[2]}"), 1);
    assert_int_equal (kt_store_script (f->store, "echo", "return 2"), 2);
    const char *args2[] = {"a", "b"};
    r = kt_store_eval (f->store, echo, 1, keys, 2, args2);
    assert_non_null (r);
    assert_int_equal (r->type, REDIS_REPLY_ARRAY);
    assert_int_equal (r->elements, 3);
    assert_string_equal (r->element[0]->str, "kt:cnt");
    assert_string_equal (r->element[2]->str, "b");
    freeReplyObject (r);

    //  Many arguments (beyond the on-stack argv).
    const char *many[100];
    for (int i = 0; i < 100; i++)
        many[i] = "1";
    int count = kt_store_script (f->store, "count", "return #ARGV");
    r = kt_store_eval (f->store, count, 0, NULL, 100, many);
    assert_non_null (r);
    assert_int_equal (r->integer, 100);
    freeReplyObject (r);

    //  A bad id is our bug, reported as NULL without hurting the connection.
    assert_null (kt_store_eval (f->store, 99, 0, NULL, 0, NULL));
    assert_non_null (strstr (kt_store_errstr (f->store), "bad script id"));
    assert_true (kt_store_is_ready (f->store));
}

static void
test_noscript_recovery (void **state)
{
    fixture_t *f = *state;
    int add = kt_store_script (f->store, "add", s_lua_add);
    assert_int_equal (kt_store_connect (f->store), 0);
    const char *keys[] = {"kt:cnt"};
    const char *args[] = {"2"};
    redisReply *r = kt_store_eval (f->store, add, 1, keys, 1, args);
    assert_string_equal (r->str, "2");
    freeReplyObject (r);

    freeReplyObject (s_peek (f, "SCRIPT FLUSH"));
    r = kt_store_eval (f->store, add, 1, keys, 1, args);
    assert_non_null (r);
    assert_int_equal (r->type, REDIS_REPLY_STRING);
    assert_string_equal (r->str, "4"); //  ran exactly once more
    freeReplyObject (r);
    assert_int_equal (kt_store_reconnects (f->store), 0);
}

static void
test_script_refused (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (kt_store_connect (f->store), 0);
    int bad = kt_store_script (f->store, "bad", "this is not lua (");
    assert_null (kt_store_eval (f->store, bad, 0, NULL, 0, NULL));
    assert_non_null (strstr (kt_store_errstr (f->store), "script load bad"));
    assert_true (kt_store_is_ready (f->store)); //  not a transport failure

    //  At connect, a refused script fails the connect: no half-working store.
    assert_int_equal (kt_store_connect (f->store), -1);
    assert_false (kt_store_is_ready (f->store));
    assert_non_null (strstr (kt_store_errstr (f->store), "script load bad"));
}

static void
test_registry_full (void **state)
{
    fixture_t *f = *state;
    int id = 0;
    char lua[32];
    for (int i = 0; i < 32; i++) {
        snprintf (lua, sizeof lua, "return %d", i);
        id = kt_store_script (f->store, "s", lua);
    }
    assert_int_equal (id, 31);
    assert_int_equal (kt_store_script (f->store, "s", "return 99"), -1);
    //  A script already registered still gets its id when the registry is full.
    assert_int_equal (kt_store_script (f->store, "s", "return 5"), 5);
}

static void
test_heartbeat (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (kt_store_connect (f->store), 0);
    kt_kv_t counters[] = {KT_I ("ticks", 42), KT_S ("state", "ACTIVE"), KT_B ("up", true),
                          KT_D ("ratio", 0.5), KT_END};
    assert_int_equal (kt_store_heartbeat (f->store, "risk-gate", 1000, 2000, 30, counters), 0);

    redisReply *r = s_peek (f, "HGETALL kt:health:risk-gate");
    assert_int_equal (r->type, REDIS_REPLY_ARRAY);
    assert_int_equal (r->elements, 14);
    const char *want[][2] = {{"pid", NULL},   {"started", "1000"}, {"beat", "2000"},
                             {"ticks", "42"}, {"state", "ACTIVE"}, {"up", "1"},
                             {"ratio", "0.5"}};
    char pid[16];
    snprintf (pid, sizeof pid, "%d", (int)getpid ());
    want[0][1] = pid;
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal (r->element[2 * i]->str, want[i][0]);
        assert_string_equal (r->element[2 * i + 1]->str, want[i][1]);
    }
    freeReplyObject (r);
    r = s_peek (f, "TTL kt:health:risk-gate");
    assert_true (r->integer > 0 && r->integer <= 30);
    freeReplyObject (r);

    //  The next beat overwrites beat and refreshes the TTL; no counters is fine.
    freeReplyObject (s_peek (f, "EXPIRE kt:health:risk-gate 5"));
    assert_int_equal (kt_store_heartbeat (f->store, "risk-gate", 1000, 3000, 60, NULL), 0);
    r = s_peek (f, "HGET kt:health:risk-gate beat");
    assert_string_equal (r->str, "3000");
    freeReplyObject (r);
    r = s_peek (f, "TTL kt:health:risk-gate");
    assert_true (r->integer > 5);
    freeReplyObject (r);

    //  A key of the wrong type: Redis refuses inside EXEC; reported, store stays up.
    freeReplyObject (s_peek (f, "SET kt:health:bad x"));
    assert_int_equal (kt_store_heartbeat (f->store, "bad", 1, 2, 30, NULL), -1);
    assert_non_null (strstr (kt_store_errstr (f->store), "WRONGTYPE"));
    assert_true (kt_store_is_ready (f->store));
}

static void
test_events (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (kt_store_connect (f->store), 0);
    kt_kv_t ev[] = {KT_S ("type", "FILL"), KT_S ("coid", "C1"), KT_I ("qty", -75),
                    KT_I ("px", 1234500), KT_END};
    assert_int_equal (kt_store_event (f->store, ev), 0);
    assert_int_equal (kt_store_event (f->store, ev), 0);
    redisReply *r = s_peek (f, "XLEN kt:events");
    assert_int_equal (r->integer, 2);
    freeReplyObject (r);
    r = s_peek (f, "XRANGE kt:events - + COUNT 1");
    assert_int_equal (r->elements, 1);
    redisReply *fields = r->element[0]->element[1];
    assert_int_equal (fields->elements, 8);
    assert_string_equal (fields->element[0]->str, "type");
    assert_string_equal (fields->element[1]->str, "FILL");
    assert_string_equal (fields->element[5]->str, "-75");
    assert_string_equal (fields->element[7]->str, "1234500");
    freeReplyObject (r);

    kt_kv_t none[] = {KT_END};
    assert_int_equal (kt_store_event (f->store, none), -1);
    assert_non_null (strstr (kt_store_errstr (f->store), "no fields"));
    //  Wrong type under the stream key: a Redis error, store still up.
    freeReplyObject (s_peek (f, "DEL kt:events"));
    freeReplyObject (s_peek (f, "SET kt:events x"));
    assert_int_equal (kt_store_event (f->store, ev), -1);
    assert_non_null (strstr (kt_store_errstr (f->store), "WRONGTYPE"));
    assert_true (kt_store_is_ready (f->store));
}

static void
test_connect_refused (void **state)
{
    fixture_t *f = *state;
    kt_testredis_kill (f->srv);
    assert_int_equal (kt_store_connect (f->store), -1);
    assert_false (kt_store_is_ready (f->store));
    assert_non_null (strstr (kt_store_errstr (f->store), "connect"));
    assert_true (kt_store_retry_in_ms (f->store) > 0);
    assert_int_equal (kt_store_heartbeat (f->store, "p", 1, 2, 3, NULL), -1);
    assert_int_equal (kt_store_event (f->store, (kt_kv_t[]){KT_S ("a", "b"), KT_END}), -1);
}

static void
test_killed_then_refused_during_backoff (void **state)
{
    fixture_t *f = *state;
    const int long_backoff[] = {60000};
    assert_int_equal (kt_store_set_backoff (f->store, long_backoff, 1), 0);
    int add = kt_store_script (f->store, "add", s_lua_add);
    assert_int_equal (kt_store_connect (f->store), 0);

    assert_int_equal (kt_testredis_kill (f->srv), 0);
    assert_null (kt_store_cmd (f->store, "PING"));
    assert_false (kt_store_is_ready (f->store));
    char why[128];
    snprintf (why, sizeof why, "%s", kt_store_errstr (f->store));
    assert_true (strlen (why) > 0);
    assert_true (kt_store_retry_in_ms (f->store) > 1000);

    //  Redis is back, but the store does not try before the delay: every command is
    //  refused without I/O and the error stays the one that caused the back-off.
    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    assert_null (kt_store_cmd (f->store, "PING"));
    const char *argv[] = {"PING"};
    assert_null (kt_store_cmdargv (f->store, 1, argv, NULL));
    const char *keys[] = {"kt:cnt"};
    const char *args[] = {"1"};
    assert_null (kt_store_eval (f->store, add, 1, keys, 1, args));
    assert_int_equal (kt_store_heartbeat (f->store, "p", 1, 2, 3, NULL), -1);
    assert_string_equal (kt_store_errstr (f->store), why);
    assert_false (kt_store_is_ready (f->store));
    redisFree (f->peek); //  died with the old server
    f->peek = kt_testredis_connect (f->srv);
    assert_non_null (f->peek);
    redisReply *r;

    //  An explicit connect ignores the back-off, and reloads the scripts.
    assert_int_equal (kt_store_connect (f->store), 0);
    assert_int_equal (kt_store_reconnects (f->store), 1);
    r = kt_store_eval (f->store, add, 1, keys, 1, args);
    assert_non_null (r);
    assert_string_equal (r->str, "1");
    freeReplyObject (r);
}

static void
test_restart_same_port_reconnects_after_backoff (void **state)
{
    fixture_t *f = *state;
    const int short_backoff[] = {50};
    assert_int_equal (kt_store_set_backoff (f->store, short_backoff, 1), 0);
    int add = kt_store_script (f->store, "add", s_lua_add);
    assert_int_equal (kt_store_connect (f->store), 0);

    for (int round = 1; round <= 2; round++) {
        assert_int_equal (kt_testredis_kill (f->srv), 0);
        assert_null (kt_store_cmd (f->store, "SET kt:x 1"));
        assert_false (kt_store_is_ready (f->store));
        assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
        s_wait_backoff (f->store);
        //  Transparent: the next command reconnects, and the new (empty) server gets
        //  the scripts again.
        const char *keys[] = {"kt:cnt"};
        const char *args[] = {"7"};
        redisReply *r = kt_store_eval (f->store, add, 1, keys, 1, args);
        assert_non_null (r);
        assert_string_equal (r->str, "7");
        freeReplyObject (r);
        assert_true (kt_store_is_ready (f->store));
        assert_string_equal (kt_store_errstr (f->store), "");
        assert_int_equal (kt_store_reconnects (f->store), round);
    }
}

static void
test_backoff_grows (void **state)
{
    fixture_t *f = *state;
    const int table[] = {50, 60000};
    assert_int_equal (kt_store_set_backoff (f->store, table, 2), 0);
    kt_testredis_kill (f->srv);
    assert_null (kt_store_cmd (f->store, "PING")); //  first failure: 50 ms
    assert_true (kt_store_retry_in_ms (f->store) <= 50);
    s_wait_backoff (f->store);
    assert_null (kt_store_cmd (f->store, "PING")); //  tried and failed: 60 s now
    assert_true (kt_store_retry_in_ms (f->store) > 1000);

    //  A success resets the table to its first entry.
    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    assert_int_equal (kt_store_connect (f->store), 0);
    kt_testredis_kill (f->srv);
    assert_null (kt_store_cmd (f->store, "PING"));
    assert_true (kt_store_retry_in_ms (f->store) <= 50);

    const int bad[] = {-1};
    assert_int_equal (kt_store_set_backoff (f->store, bad, 1), -1);
    assert_int_equal (kt_store_set_backoff (f->store, table, 0), -1);
    assert_int_equal (kt_store_set_backoff (f->store, table, KT_STORE_BACKOFF_MAX + 1), -1);
    assert_int_equal (kt_store_set_backoff (f->store, NULL, 1), -1);
}

static void
test_timeout_discards_connection (void **state)
{
    fixture_t *f = *state;
    const int short_backoff[] = {10};
    kt_store_set_backoff (f->store, short_backoff, 1);
    assert_int_equal (kt_store_connect (f->store), 0);
    redisReply *r = kt_store_cmd (f->store, "SET kt:a first");
    freeReplyObject (r);

    //  Redis hangs: the command times out and the connection is thrown away, so its
    //  late answer can never be read as the reply to a later command.
    kill (f->srv->pid, SIGSTOP);
    assert_null (kt_store_cmd (f->store, "GET kt:a"));
    assert_false (kt_store_is_ready (f->store));
    assert_true (strlen (kt_store_errstr (f->store)) > 0);
    kill (f->srv->pid, SIGCONT);
    s_wait_backoff (f->store);
    r = kt_store_cmd (f->store, "ECHO %s", "second");
    assert_non_null (r);
    assert_string_equal (r->str, "second");
    freeReplyObject (r);
    assert_int_equal (kt_store_reconnects (f->store), 1);
}

static void
test_not_a_usable_redis (void **state)
{
    (void)state;
    //  A Redis that answers PING with an error (here NOAUTH) is not "up".
    static const char *const extra[] = {"--requirepass", "secret", NULL};
    kt_testredis_t *srv = kt_testredis_start_with (extra);
    assert_non_null (srv);
    kt_store_t *store = kt_store_new ("127.0.0.1", srv->port, "kt:", 500);
    assert_int_equal (kt_store_connect (store), -1);
    assert_false (kt_store_is_ready (store));
    assert_non_null (strstr (kt_store_errstr (store), "PING answered NOAUTH"));
    kt_store_destroy (&store);
    kt_testredis_stop (&srv);
}

static void
test_too_many_fields (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (kt_store_connect (f->store), 0);
    kt_kv_t kv[66];
    for (int i = 0; i < 65; i++)
        kv[i] = KT_I ("n", i);
    kv[65] = KT_END;
    assert_int_equal (kt_store_heartbeat (f->store, "p", 1, 2, 30, kv), -1);
    assert_non_null (strstr (kt_store_errstr (f->store), "more than 64"));
    assert_int_equal (kt_store_event (f->store, kv), -1);
    assert_non_null (strstr (kt_store_errstr (f->store), "more than 64"));
    assert_true (kt_store_is_ready (f->store));
    kv[64] = KT_END; //  64 is fine
    assert_int_equal (kt_store_heartbeat (f->store, "p", 1, 2, 30, kv), 0);
    assert_int_equal (kt_store_event (f->store, kv), 0);

    char host[300];
    memset (host, 'h', sizeof host - 1);
    host[sizeof host - 1] = 0;
    assert_null (kt_store_new (host, 1, "kt:", 100));
}

static void
test_no_server_at_all (void **state)
{
    (void)state;
    kt_store_t *store = kt_store_new ("127.0.0.1", 1, "kt:", 200);
    assert_null (kt_store_cmd (store, "PING"));
    assert_non_null (strstr (kt_store_errstr (store), "connect"));
    assert_false (kt_store_is_ready (store));
    assert_int_equal (kt_store_reconnects (store), 0);
    kt_store_destroy (&store);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_key_and_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown (test_commands, setup, teardown),
        cmocka_unit_test_setup_teardown (test_lazy_connect_on_first_command, setup, teardown),
        cmocka_unit_test_setup_teardown (test_scripts, setup, teardown),
        cmocka_unit_test_setup_teardown (test_noscript_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown (test_script_refused, setup, teardown),
        cmocka_unit_test_setup_teardown (test_registry_full, setup, teardown),
        cmocka_unit_test_setup_teardown (test_heartbeat, setup, teardown),
        cmocka_unit_test_setup_teardown (test_events, setup, teardown),
        cmocka_unit_test_setup_teardown (test_connect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown (test_killed_then_refused_during_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown (test_restart_same_port_reconnects_after_backoff, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_backoff_grows, setup, teardown),
        cmocka_unit_test_setup_teardown (test_timeout_discards_connection, setup, teardown),
        cmocka_unit_test (test_not_a_usable_redis),
        cmocka_unit_test_setup_teardown (test_too_many_fields, setup, teardown),
        cmocka_unit_test (test_no_server_at_all),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
