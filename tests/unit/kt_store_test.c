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

#include "kt_clock.h"
#include "kt_loop.h"
#include "kt_store.h"
#include "kt_testredis.h"
#include "kt_teststall.h"

#include <poll.h>

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

//  DEBUG is refused by default since Redis 7: the stall tests enable it.
static int
setup_debug (void **state)
{
    static const char *const extra[] = {"--enable-debug-command", "yes", NULL};
    fixture_t *f = calloc (1, sizeof *f);
    f->srv = kt_testredis_start_with (extra);
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

//  The store could not reach Redis: a DOWN result (freed here).
static void
s_assert_down (kt_store_result_t r)
{
    assert_int_equal (r.kind, KT_STORE_DOWN);
    kt_store_result_free (&r);
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
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
    assert_string_equal (kt_store_prefix (f->store), "kt:");
    assert_string_equal (kt_store_keyv (f->store, "pos:%s", "NIFTY").s, "kt:pos:NIFTY");
    assert_string_equal (kt_store_keyv (f->store, "%s", "").s, "kt:");

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

    kt_key_t key = kt_store_keyv (f->store, "capital");
    kt_store_result_t t = kt_store_callf (f->store, "HSET %s equity %lld", key.s, 123456789LL);
    assert_int_equal (t.kind, KT_STORE_INT);
    kt_store_result_free (&t);
    redisReply *r = s_peek (f, "HGET kt:capital equity");
    assert_string_equal (r->str, "123456789");
    freeReplyObject (r);

    //  argv form is binary safe.
    const char *argv[] = {"SET", "kt:bin", "a\0b"};
    const size_t len[] = {3, 6, 3};
    t = kt_store_call (f->store, 3, argv, len);
    assert_true (kt_store_result_is (&t, "OK"));
    kt_store_result_free (&t);
    r = s_peek (f, "STRLEN kt:bin");
    assert_int_equal (r->integer, 3);
    freeReplyObject (r);

    //  A Redis error is a reply, not a transport failure.
    t = kt_store_callf (f->store, "INCR kt:bin");
    assert_int_equal (t.kind, KT_STORE_ERR);
    kt_store_result_free (&t);
    assert_true (kt_store_is_ready (f->store));
    assert_int_equal (kt_store_reconnects (f->store), 0);
}

static void
test_lazy_connect_on_first_command (void **state)
{
    fixture_t *f = *state;
    //  Never connected, no back-off pending: the first command connects.
    kt_store_result_t r = kt_store_callf (f->store, "PING");
    assert_true (kt_store_result_is (&r, "PONG"));
    kt_store_result_free (&r);
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
    kt_store_result_t t = kt_store_eval_call (f->store, add, 1, keys, 1, args);
    assert_true (kt_store_result_is (&t, "5"));
    kt_store_result_free (&t);

    //  Registered after connect: loaded on first use.
    int echo = kt_store_script (f->store, "echo", "return {KEYS[1], ARGV[1], ARGV[2]}");
    assert_int_equal (echo, 1);
    //  The same script again keeps its id; the same name with other text is a new one.
    assert_int_equal (kt_store_script (f->store, "echo", "return {KEYS[1], ARGV[1], ARGV[2]}"), 1);
    assert_int_equal (kt_store_script (f->store, "echo", "return 2"), 2);
    const char *args2[] = {"a", "b"};
    t = kt_store_eval_call (f->store, echo, 1, keys, 2, args2);
    assert_int_equal (t.kind, KT_STORE_ARR);
    assert_int_equal (t.elements, 3);
    kt_store_result_t e0 = kt_store_result_at (&t, 0), e2 = kt_store_result_at (&t, 2);
    assert_true (kt_store_result_is (&e0, "kt:cnt"));
    assert_true (kt_store_result_is (&e2, "b"));
    kt_store_result_free (&t);

    //  Many arguments (beyond the on-stack argv).
    const char *many[100];
    for (int i = 0; i < 100; i++)
        many[i] = "1";
    int count = kt_store_script (f->store, "count", "return #ARGV");
    t = kt_store_eval_call (f->store, count, 0, NULL, 100, many);
    assert_int_equal (t.kind, KT_STORE_INT);
    assert_int_equal (t.integer, 100);
    kt_store_result_free (&t);

    //  A bad id is our bug, reported as NULL without hurting the connection.
    s_assert_down (kt_store_eval_call (f->store, 99, 0, NULL, 0, NULL));
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
    kt_store_result_t r = kt_store_eval_call (f->store, add, 1, keys, 1, args);
    assert_true (kt_store_result_is (&r, "2"));
    kt_store_result_free (&r);

    freeReplyObject (s_peek (f, "SCRIPT FLUSH"));
    r = kt_store_eval_call (f->store, add, 1, keys, 1, args);
    assert_true (kt_store_result_is (&r, "4")); //  ran exactly once more
    kt_store_result_free (&r);
    assert_int_equal (kt_store_reconnects (f->store), 0);
}

static void
test_script_refused (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (kt_store_connect (f->store), 0);
    int bad = kt_store_script (f->store, "bad", "this is not lua (");
    s_assert_down (kt_store_eval_call (f->store, bad, 0, NULL, 0, NULL));
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
    snprintf (pid, sizeof pid, "%d", (int) getpid ());
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
    s_assert_down (kt_store_callf (f->store, "PING"));
    assert_false (kt_store_is_ready (f->store));
    char why[128];
    snprintf (why, sizeof why, "%s", kt_store_errstr (f->store));
    assert_true (strlen (why) > 0);
    assert_true (kt_store_retry_in_ms (f->store) > 1000);

    //  Redis is back, but the store does not try before the delay: every command is
    //  refused without I/O and the error stays the one that caused the back-off.
    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    s_assert_down (kt_store_callf (f->store, "PING"));
    const char *argv[] = {"PING"};
    s_assert_down (kt_store_call (f->store, 1, argv, NULL));
    const char *keys[] = {"kt:cnt"};
    const char *args[] = {"1"};
    s_assert_down (kt_store_eval_call (f->store, add, 1, keys, 1, args));
    assert_int_equal (kt_store_heartbeat (f->store, "p", 1, 2, 3, NULL), -1);
    assert_string_equal (kt_store_errstr (f->store), why);
    assert_false (kt_store_is_ready (f->store));
    redisFree (f->peek); //  died with the old server
    f->peek = kt_testredis_connect (f->srv);
    assert_non_null (f->peek);

    //  An explicit connect ignores the back-off, and reloads the scripts.
    assert_int_equal (kt_store_connect (f->store), 0);
    assert_int_equal (kt_store_reconnects (f->store), 1);
    kt_store_result_t r = kt_store_eval_call (f->store, add, 1, keys, 1, args);
    assert_true (kt_store_result_is (&r, "1"));
    kt_store_result_free (&r);
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
        s_assert_down (kt_store_callf (f->store, "SET kt:x 1"));
        assert_false (kt_store_is_ready (f->store));
        assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
        s_wait_backoff (f->store);
        //  Transparent: the next command reconnects, and the new (empty) server gets
        //  the scripts again.
        const char *keys[] = {"kt:cnt"};
        const char *args[] = {"7"};
        kt_store_result_t r = kt_store_eval_call (f->store, add, 1, keys, 1, args);
        assert_true (kt_store_result_is (&r, "7"));
        kt_store_result_free (&r);
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
    s_assert_down (kt_store_callf (f->store, "PING")); //  first failure: 50 ms
    assert_true (kt_store_retry_in_ms (f->store) <= 50);
    s_wait_backoff (f->store);
    s_assert_down (kt_store_callf (f->store, "PING")); //  tried and failed: 60 s now
    assert_true (kt_store_retry_in_ms (f->store) > 1000);

    //  A success resets the table to its first entry.
    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    assert_int_equal (kt_store_connect (f->store), 0);
    kt_testredis_kill (f->srv);
    s_assert_down (kt_store_callf (f->store, "PING"));
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
    kt_store_result_t r = kt_store_callf (f->store, "SET kt:a first");
    kt_store_result_free (&r);

    //  Redis hangs: the command times out and the connection is thrown away, so its
    //  late answer can never be read as the reply to a later command.
    kill (f->srv->pid, SIGSTOP);
    s_assert_down (kt_store_callf (f->store, "GET kt:a"));
    assert_false (kt_store_is_ready (f->store));
    assert_true (strlen (kt_store_errstr (f->store)) > 0);
    kill (f->srv->pid, SIGCONT);
    s_wait_backoff (f->store);
    r = kt_store_callf (f->store, "ECHO %s", "second");
    assert_true (kt_store_result_is (&r, "second"));
    kt_store_result_free (&r);
    assert_int_equal (kt_store_reconnects (f->store), 1);
}

static void
test_not_a_usable_redis (void **state)
{
    (void) state;
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
    (void) state;
    kt_store_t *store = kt_store_new ("127.0.0.1", 1, "kt:", 200);
    s_assert_down (kt_store_callf (store, "PING"));
    assert_non_null (strstr (kt_store_errstr (store), "connect"));
    assert_false (kt_store_is_ready (store));
    assert_int_equal (kt_store_reconnects (store), 0);
    kt_store_destroy (&store);
}

// ---- typed results -------------------------------------------------------------------

static void
test_typed_results (void **state)
{
    fixture_t *f = *state;
    kt_store_result_t r = kt_store_callf (f->store, "HSET %s a 42 b x c -7", "kt:h");
    assert_int_equal (r.kind, KT_STORE_INT);
    assert_int_equal (r.integer, 3);
    kt_store_result_free (&r);
    kt_store_result_free (&r); //  twice is safe

    int64_t v = 0;
    assert_int_equal (kt_store_hget_i64 (f->store, "kt:h", "a", &v), 0);
    assert_int_equal (v, 42);
    assert_int_equal (kt_store_hget_i64 (f->store, "kt:h", "c", &v), 0);
    assert_int_equal (v, -7);
    assert_int_equal (kt_store_hget_i64 (f->store, "kt:h", "b", &v), 1);       //  not a number
    assert_int_equal (kt_store_hget_i64 (f->store, "kt:h", "missing", &v), 1); //  nil

    const char *argv[] = {"HMGET", "kt:h", "a", "nope", "b"};
    r = kt_store_call (f->store, 5, argv, NULL);
    assert_int_equal (r.kind, KT_STORE_ARR);
    assert_int_equal (r.elements, 3);
    kt_store_result_t e0 = kt_store_result_at (&r, 0), e1 = kt_store_result_at (&r, 1);
    kt_store_result_t e2 = kt_store_result_at (&r, 2), e9 = kt_store_result_at (&r, 9);
    assert_int_equal (kt_store_result_i64 (&e0, &v), 0);
    assert_int_equal (v, 42);
    assert_int_equal (e1.kind, KT_STORE_NIL);
    assert_true (kt_store_result_is (&e2, "x"));
    assert_int_equal (e9.kind, KT_STORE_NIL);
    kt_store_result_free (&r);

    r = kt_store_callf (f->store, "SET kt:s hello");
    assert_true (kt_store_result_is (&r, "OK")); //  a status reply reads as a string
    kt_store_result_free (&r);
    r = kt_store_callf (f->store, "INCR kt:s");
    assert_int_equal (r.kind, KT_STORE_ERR);
    assert_non_null (strstr (r.str, "not an integer"));
    kt_store_result_free (&r);

    int echo = kt_store_script (f->store, "echo", "return ARGV[1]");
    const char *args[] = {"7"};
    r = kt_store_eval_call (f->store, echo, 0, NULL, 1, args);
    assert_int_equal (kt_store_result_i64 (&r, &v), 0);
    assert_int_equal (v, 7);
    kt_store_result_free (&r);
    r = kt_store_eval_call (f->store, 77, 0, NULL, 0, NULL);
    assert_int_equal (r.kind, KT_STORE_DOWN);
    assert_non_null (strstr (r.str, "bad script id"));
    kt_store_result_free (&r);

    kt_key_t k = kt_store_keyv (f->store, "pos:%s:%d", "NIFTY", 7);
    assert_string_equal (k.s, "kt:pos:NIFTY:7");

    kt_testredis_kill (f->srv);
    r = kt_store_callf (f->store, "PING");
    assert_int_equal (r.kind, KT_STORE_DOWN);
    assert_true (r.len > 0);
    kt_store_result_free (&r);
    assert_int_equal (kt_store_hget_i64 (f->store, "kt:h", "a", &v), -1);
}

// ---- the async write queue -------------------------------------------------------------

struct done_log {
    int n;
    int ints;
    int64_t last;
    int64_t at_ns[4096]; //  when each completion arrived (wall monotonic)
};

static void
s_on_done (const kt_store_result_t *r, void *arg)
{
    struct done_log *d = arg;
    if (d->n < 4096)
        d->at_ns[d->n] = kt_clock_wall_mono_ns ();
    d->n++;
    if (r->kind == KT_STORE_INT) {
        d->ints++;
        d->last = r->integer;
    }
}

//  Run the loop until nothing is queued (bounded).
static void
s_drain (kt_loop_t *loop, kt_store_t *store, int max_ms)
{
    int64_t end = kt_clock_wall_mono_ns () + (int64_t) max_ms * 1000000;
    while (kt_store_stats (store).queued > 0 && kt_clock_wall_mono_ns () < end)
        kt_loop_run_once (loop, 10);
}

static void
s_push (kt_store_t *store, int i, kt_store_done_fn *fn, void *arg)
{
    char v[16];
    snprintf (v, sizeof v, "%d", i);
    const char *argv[] = {"RPUSH", "kt:list", v};
    assert_int_equal (kt_store_send (store, 3, argv, NULL, fn, arg), 0);
}

//  Every value of kt:list is 0..n-1 in order: nothing lost, nothing reordered. A write
//  re-sent after a broken connection may be applied twice; the test allows that only
//  when allow_dups, and checks the order of first appearances either way.
static void
s_check_list (fixture_t *f, int first, int n, bool allow_dups)
{
    redisReply *r = s_peek (f, "LRANGE kt:list 0 -1");
    int want = first;
    for (size_t i = 0; i < r->elements; i++) {
        int v = atoi (r->element[i]->str);
        if (v == want)
            want++;
        else
            assert_true (allow_dups && v < want);
    }
    assert_int_equal (want, first + n);
    if (!allow_dups)
        assert_int_equal (r->elements, n);
    freeReplyObject (r);
}

//  Commands are framed by hand (kt_store.c): binary values, empty ones, lengths of
//  several digits and a hundred arguments arrive as sent, through calls and scripts.
static void
test_framing (void **state)
{
    fixture_t *f = *state;
    static char big[12345];
    memset (big, 'z', sizeof big);
    const char *argv[] = {"HSET", "kt:fr", "bin", "a\r\nb\0c", "empty", "", "big", big};
    const size_t lens[] = {4, 5, 3, 6, 5, 0, 3, sizeof big};
    kt_store_result_t r = kt_store_call (f->store, 8, argv, lens);
    assert_int_equal (r.kind, KT_STORE_INT);
    assert_int_equal (r.integer, 3);
    kt_store_result_free (&r);
    const char *get[] = {"HMGET", "kt:fr", "bin", "empty", "big"};
    r = kt_store_call (f->store, 5, get, NULL);
    assert_int_equal (r.elements, 3);
    kt_store_result_t b = kt_store_result_at (&r, 0), e = kt_store_result_at (&r, 1);
    kt_store_result_t g = kt_store_result_at (&r, 2);
    assert_int_equal (b.len, 6);
    assert_memory_equal (b.str, "a\r\nb\0c", 6);
    assert_int_equal (e.kind, KT_STORE_STR);
    assert_int_equal (e.len, 0);
    assert_int_equal (g.len, sizeof big);
    assert_memory_equal (g.str, big, sizeof big);
    kt_store_result_free (&r);

    int n = kt_store_script (f->store, "count", "return {#ARGV, ARGV[#ARGV]}");
    const char *args[100];
    char num[100][16];
    for (int i = 0; i < 100; i++) {
        snprintf (num[i], sizeof num[i], "%d", i);
        args[i] = num[i];
    }
    r = kt_store_eval_call (f->store, n, 0, NULL, 100, args);
    kt_store_result_t c = kt_store_result_at (&r, 0), last = kt_store_result_at (&r, 1);
    int64_t v = 0;
    assert_int_equal (kt_store_result_i64 (&c, &v), 0);
    assert_int_equal (v, 100);
    assert_true (kt_store_result_is (&last, "99"));
    kt_store_result_free (&r);
}

static void
test_async_writes_in_order (void **state)
{
    fixture_t *f = *state;
    kt_loop_t *loop = kt_loop_new ();
    assert_int_equal (kt_store_attach (f->store, loop), 0);
    assert_int_equal (kt_store_attach (f->store, loop), -1);
    static struct done_log d;
    memset (&d, 0, sizeof d);
    //  Queued before the connection is even up: nothing blocks, nothing is lost.
    for (int i = 0; i < 2000; i++)
        s_push (f->store, i, s_on_done, &d);
    assert_int_equal (kt_store_stats (f->store).queued, 2000);
    assert_int_equal (d.n, 0); //  never called back from kt_store_send itself
    s_drain (loop, f->store, 5000);
    assert_int_equal (d.n, 2000);
    assert_int_equal (d.ints, 2000);
    assert_int_equal (d.last, 2000); //  RPUSH answered with the list's length
    s_check_list (f, 0, 2000, false);
    kt_store_stats_t st = kt_store_stats (f->store);
    assert_int_equal (st.written, 2000);
    assert_int_equal (st.queued, 0);
    assert_int_equal (st.dropped, 0);
    assert_true (kt_store_is_ready (f->store));

    //  Heartbeat and event queue too, and a Redis error is an answer, not a loss.
    kt_kv_t ev[] = {KT_S ("type", "X"), KT_END};
    assert_int_equal (kt_store_heartbeat (f->store, "p", 1, 2, 30, NULL), 0);
    assert_int_equal (kt_store_event (f->store, ev), 0);
    assert_int_equal (kt_store_sendf (f->store, s_on_done, &d, "INCR %s", "kt:list"), 0);
    s_drain (loop, f->store, 5000);
    redisReply *r = s_peek (f, "HGET kt:health:p beat");
    assert_string_equal (r->str, "2");
    freeReplyObject (r);
    r = s_peek (f, "TTL kt:health:p");
    assert_true (r->integer > 0);
    freeReplyObject (r);
    r = s_peek (f, "XLEN kt:events");
    assert_int_equal (r->integer, 1);
    freeReplyObject (r);
    assert_int_equal (d.n, 2001);
    assert_int_equal (kt_store_stats (f->store).refused, 1); //  the INCR of a list
    assert_non_null (strstr (kt_store_errstr (f->store), "WRONGTYPE"));

    //  A heartbeat Redis refuses inside EXEC is counted and reported too.
    freeReplyObject (s_peek (f, "SET kt:health:bad x"));
    assert_int_equal (kt_store_heartbeat (f->store, "bad", 1, 2, 30, NULL), 0);
    s_drain (loop, f->store, 5000);
    assert_int_equal (kt_store_stats (f->store).refused, 2);
    assert_int_equal (kt_store_stats (f->store).written, 2004);

    //  A queued script runs in order and survives a script cache flushed meanwhile.
    int add = kt_store_script (f->store, "add", s_lua_add);
    freeReplyObject (s_peek (f, "SCRIPT FLUSH"));
    const char *keys[] = {"kt:cnt"};
    const char *args[] = {"5"};
    d.last = 0;
    assert_int_equal (kt_store_send_eval (f->store, add, 1, keys, 1, args, s_on_done, &d), 0);
    assert_int_equal (kt_store_send_eval (f->store, 99, 0, NULL, 0, NULL, NULL, NULL), -1);
    s_drain (loop, f->store, 5000);
    assert_int_equal (d.n, 2002);
    r = s_peek (f, "HGET kt:cnt n");
    assert_string_equal (r->str, "5");
    freeReplyObject (r);

    //  Destroyed with writes queued: each callback hears DOWN, none is leaked.
    kt_testredis_kill (f->srv);
    for (int i = 0; i < 3; i++)
        s_push (f->store, i, s_on_done, &d);
    kt_store_destroy (&f->store);
    assert_int_equal (d.n, 2005);
    kt_loop_destroy (&loop);
}

//  The stall experiment of issue 9 (tests/support/kt_teststall): a 10 ms loop timer, a
//  store write every 50 ms, and Redis told to DEBUG SLEEP 0.5 in the middle. A blocking
//  store would freeze the timer for the whole sleep (hundreds of ms late); here the
//  timer keeps its schedule, the writes queued during the sleep land right after it,
//  and none is lost.
static void
test_stall_experiment (void **state)
{
    fixture_t *f = *state;
    static struct kt_teststall st;
    char why[160];
    assert_int_equal (kt_teststall_run (f->srv, &f->store, false, &st, why, sizeof why), 0);
    assert_true (st.slept_ok);
    assert_true (st.wake_ns - st.slept_ns >= 450LL * 1000000); //  Redis really slept
    assert_int_equal (st.failed, 0);

    //  Timer lateness over the whole run, the 0.5 s sleep included.
    assert_true (st.ticks >= 100);
    print_message ("stall: %d ticks, lateness p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f "
                   "ms\n",
                   st.ticks, st.p50 / 1e6, st.p90 / 1e6, st.p99 / 1e6, st.max / 1e6);
    int n = st.ticks < KT_TESTSTALL_TICKS ? st.ticks : KT_TESTSTALL_TICKS;
    for (int i = 0; i < n; i++)
        if (st.late_ns[i] > 5 * 1000000)
            print_message ("  tick %d late %.3f ms\n", i, st.late_ns[i] / 1e6);
    //  The bound is 2 ms. The loop wakes for a timer on a timerfd (kt_loop.c), so on an
    //  idle machine every tick meets it by far (lateness p50 ~0.1 ms, max 0.2-0.5 ms
    //  under ASan; `make bench` checks the 2 ms bound on every tick, alone); what is left
    //  is the scheduler's: on this shared 2-core machine with three busy processes 2-4%
    //  of ticks wait 2-5 ms for a core, stall or not, and at the load of `make test` more.
    //  So the test asserts what holds under that load and still fails a blocking store by
    //  far, and a loop back on millisecond waits (p50 ~0.65 ms): the median tick within
    //  1 ms, and no tick near what one blocking call costs (the command timeout, 500 ms
    //  here, or the whole 500 ms sleep).
    print_message ("stall: %d of %d ticks within 2 ms\n", st.within_2ms, n);
    assert_true (st.p50 < 1000000);
    assert_true (st.max < 100 * 1000000);

    //  Every write issued while Redis slept was answered within 100 ms of Redis waking
    //  (the heartbeats resume at once), and every write is in Redis, in order.
    int64_t worst = 0;
    int during = 0;
    for (int i = 0; i < st.writes && i < KT_TESTSTALL_WRITES; i++) {
        if (st.answered_ns[i] <= st.wake_ns - 100LL * 1000000)
            continue; //  answered before the sleep
        during++;
        int64_t from = st.issued_ns[i] > st.wake_ns ? st.issued_ns[i] : st.wake_ns;
        int64_t took = st.answered_ns[i] - from;
        if (took > worst)
            worst = took;
    }
    print_message ("stall: %d writes, %d answered after the sleep, worst %.3f ms after wake\n",
                   st.writes, during, worst / 1e6);
    assert_true (during >= 8); //  0.5 s of writes every 50 ms waited for Redis
    assert_true (worst < 100LL * 1000000);
    assert_int_equal (st.answered, st.writes);
    s_check_list (f, 0, st.writes, false);
    char beat[16];
    snprintf (beat, sizeof beat, "%d", st.writes);
    redisReply *r = s_peek (f, "HGET kt:health:stall beat");
    assert_string_equal (r->str, beat);
    freeReplyObject (r);
    assert_int_equal (st.dropped, 0);
    assert_int_equal (st.reconnects, 0); //  a slow Redis is not dropped
}

//  The control: the same run with a store that has no loop (every write a blocking
//  round trip, as every write was before the queue) freezes the timer for most of the
//  sleep, far beyond the bounds the experiment asserts. Shows the experiment can fail.
static void
test_stall_control_blocking_store (void **state)
{
    fixture_t *f = *state;
    static struct kt_teststall st;
    char why[160];
    assert_int_equal (kt_teststall_run (f->srv, &f->store, true, &st, why, sizeof why), 0);
    print_message ("stall control (blocking store): %d ticks, max lateness %.3f ms\n", st.ticks,
                   st.max / 1e6);
    assert_true (st.slept_ok);
    assert_true (st.max > 200LL * 1000000);
}

static void
test_async_restart_same_port (void **state)
{
    fixture_t *f = *state;
    kt_loop_t *loop = kt_loop_new ();
    assert_int_equal (kt_store_attach (f->store, loop), 0);
    static struct done_log d;
    memset (&d, 0, sizeof d);
    for (int i = 0; i < 200 && !kt_store_is_ready (f->store); i++)
        kt_loop_run_once (loop, 10);
    assert_true (kt_store_is_ready (f->store));

    assert_int_equal (kt_testredis_kill (f->srv), 0);
    //  Down for over a second: the connect retries reach their cap meanwhile.
    for (int i = 0; i < 50; i++) {
        s_push (f->store, i, s_on_done, &d);
        int64_t until = kt_clock_wall_mono_ns () + 25LL * 1000000;
        while (kt_clock_wall_mono_ns () < until)
            kt_loop_run_once (loop, 5);
    }
    assert_false (kt_store_is_ready (f->store));
    assert_true (kt_store_stats (f->store).queued > 0);
    assert_int_equal (kt_testredis_restart_same_port (f->srv), 0);
    int64_t up_at = kt_clock_wall_mono_ns ();
    while (!kt_store_is_ready (f->store) && kt_clock_wall_mono_ns () < up_at + 3000000000LL)
        kt_loop_run_once (loop, 10);
    int64_t took_ms = (kt_clock_wall_mono_ns () - up_at) / 1000000;
    print_message ("restart: reconnected %lld ms after Redis answered\n", (long long) took_ms);
    assert_true (kt_store_is_ready (f->store));
    assert_true (took_ms <= 300); //  retries every 100 ms at most (+ slack for load)
    s_drain (loop, f->store, 3000);
    redisFree (f->peek);
    f->peek = kt_testredis_connect (f->srv);
    s_check_list (f, 0, 50, true);
    assert_int_equal (d.n, 50);
    kt_store_stats_t st = kt_store_stats (f->store);
    assert_int_equal (st.queued, 0);
    assert_int_equal (st.dropped, 0);
    assert_int_equal (st.reconnects, 1);
    //  The synchronous connection is not held back by a back-off: Redis answered.
    kt_store_result_t r = kt_store_callf (f->store, "LLEN kt:list");
    assert_int_equal (r.kind, KT_STORE_INT);
    kt_store_result_free (&r);
    kt_store_destroy (&f->store);
    kt_loop_destroy (&loop);
}

//  Over the cap a write is dropped, counted and refused to the caller, never queued.
static void
test_async_queue_cap (void **state)
{
    fixture_t *f = *state;
    kt_loop_t *loop = kt_loop_new ();
    kt_testredis_kill (f->srv);
    assert_int_equal (kt_store_attach (f->store, loop), 0);
    kt_store_set_queue_max (f->store, 10);
    const char *argv[] = {"SET", "kt:x", "1"};
    int refused = 0;
    for (int i = 0; i < 15; i++)
        if (kt_store_send (f->store, 3, argv, NULL, NULL, NULL) != 0)
            refused++;
    assert_int_equal (refused, 5);
    kt_store_stats_t st = kt_store_stats (f->store);
    assert_int_equal (st.queued, 10);
    assert_int_equal (st.dropped, 5);
    assert_non_null (strstr (kt_store_errstr (f->store), "queue full"));
    assert_int_equal (kt_store_send (f->store, 0, argv, NULL, NULL, NULL), -1);
    //  While connects fail the loop wakes only for the next attempt (20, 40, 80, 100 ms):
    //  a dead connection's fd left in the poll set would wake it thousands of times.
    int wakes = 0;
    int64_t end = kt_clock_wall_mono_ns () + 400LL * 1000000;
    while (kt_clock_wall_mono_ns () < end) {
        kt_loop_run_once (loop, 100);
        wakes++;
    }
    print_message ("queue cap: %d loop wakes in 400 ms with Redis down\n", wakes);
    assert_true (wakes < 40);
    assert_false (kt_store_is_ready (f->store));
    assert_int_equal (kt_store_flush (f->store, 50), 10);
    kt_store_destroy (&f->store);
    kt_loop_destroy (&loop);
}

//  The synchronous call a caller waits for is bounded by one timeout, a reconnect
//  included, even when Redis hangs; the next call after Redis answers goes through.
static void
test_sync_call_bounded (void **state)
{
    fixture_t *f = *state;
    kt_store_t *store = kt_store_new ("127.0.0.1", f->srv->port, "kt:", 200);
    int echo = kt_store_script (store, "echo", "return ARGV[1]");
    const char *args[] = {"1"};
    kill (f->srv->pid, SIGSTOP);
    int64_t t0 = kt_clock_wall_mono_ns ();
    kt_store_result_t r = kt_store_eval_call (store, echo, 0, NULL, 1, args);
    int64_t took_ms = (kt_clock_wall_mono_ns () - t0) / 1000000;
    kill (f->srv->pid, SIGCONT);
    print_message ("sync eval against a hung Redis: %lld ms (timeout 200)\n", (long long) took_ms);
    assert_int_equal (r.kind, KT_STORE_DOWN);
    kt_store_result_free (&r);
    assert_true (took_ms < 400); //  one timeout (connect + load + eval share it)
    assert_true (kt_store_retry_in_ms (store) <= 50);
    //  An async answer ends the back-off at once.
    kt_loop_t *loop = kt_loop_new ();
    kt_store_attach (store, loop);
    for (int i = 0; i < 200 && !kt_store_is_ready (store); i++)
        kt_loop_run_once (loop, 10);
    kt_store_sendf (store, NULL, NULL, "PING");
    s_drain (loop, store, 2000);
    assert_int_equal (kt_store_retry_in_ms (store), 0);
    r = kt_store_eval_call (store, echo, 0, NULL, 1, args);
    assert_true (kt_store_result_is (&r, "1"));
    kt_store_result_free (&r);
    kt_store_destroy (&store);
    kt_loop_destroy (&loop);
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
        cmocka_unit_test_setup_teardown (test_typed_results, setup, teardown),
        cmocka_unit_test_setup_teardown (test_framing, setup, teardown),
        cmocka_unit_test_setup_teardown (test_async_writes_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown (test_stall_experiment, setup_debug, teardown),
        cmocka_unit_test_setup_teardown (test_stall_control_blocking_store, setup_debug, teardown),
        cmocka_unit_test_setup_teardown (test_async_restart_same_port, setup, teardown),
        cmocka_unit_test_setup_teardown (test_async_queue_cap, setup, teardown),
        cmocka_unit_test_setup_teardown (test_sync_call_bounded, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
