/*  sim_cfg_test - kite-sim's command line: the defaults (and that they agree with the
 *  config table's), every flag in both "--flag value" and "--flag=value" forms, each
 *  bad argument refused with its documented one-line reason (asserted verbatim), the
 *  wall-clock exclusions, --help, and -c FILE: the "sim" section, the shared clock /
 *  kite / redis / log sections, flags winning over the file whatever their order, and
 *  a bad file's "config: FILE: PATH: reason". Config files are written under /tmp. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "../../sim/sim.h"

#define ARGC(a) ((int) (sizeof (a) / sizeof (a)[0]))

static char s_err[1024];

//  Parse argv (argv[0] added); returns sim_cfg_parse's result.
static int
s_parse (struct sim_cfg *cfg, int argc, const char *const *args)
{
    char *argv[32];
    assert_true (argc < 31);
    argv[0] = (char *) "kite-sim";
    for (int i = 0; i < argc; i++)
        argv[i + 1] = (char *) args[i];
    argv[argc + 1] = NULL;
    s_err[0] = '\0';
    return sim_cfg_parse (argc + 1, argv, cfg, s_err, sizeof s_err);
}

//  Write text to a fresh file under /tmp; path receives its name.
static void
s_write (char *path, size_t len, const char *text)
{
    snprintf (path, len, "/tmp/sim_cfg_test_XXXXXX.json");
    int fd = mkstemps (path, 5);
    assert_true (fd >= 0);
    size_t n = strlen (text);
    assert_int_equal (write (fd, text, n), (ssize_t) n);
    close (fd);
}

static void
s_expect_defaults (const struct sim_cfg *c)
{
    assert_string_equal (c->http_addr, "127.0.0.1:8400");
    assert_string_equal (c->http_host, "127.0.0.1");
    assert_int_equal (c->http_port, 8400);
    assert_string_equal (c->ws_addr, "127.0.0.1:8401");
    assert_string_equal (c->ws_host, "127.0.0.1");
    assert_int_equal (c->ws_port, 8401);
    assert_int_equal (c->seed, 1);
    assert_true (c->speed == 1.0);
    assert_string_equal (c->date, "");
    assert_string_equal (c->start, "");
    assert_false (c->wall_clock);
    assert_false (c->paused);
    assert_string_equal (c->replay, "");
    assert_string_equal (c->api_key, "sim_api_key");
    assert_string_equal (c->api_secret, "sim_api_secret");
    assert_string_equal (c->access_token, "");
    assert_string_equal (c->redis, "");
    assert_string_equal (c->prefix, "kt:");
    assert_string_equal (c->cfg_file, "");
    assert_string_equal (c->user_id, "SM0001");
    assert_string_equal (c->user_name, "Kite Sim");
    assert_string_equal (c->log_level, "info");
    assert_true (c->publish_clock);
    assert_int_equal (c->opening_balance, 1000000000);      //  Rs 1 crore in paise
    assert_int_equal (c->freeze_qty, 1800);
    assert_int_equal (c->strikes_each_side, 20);
    assert_int_equal (c->lot, 75);
    assert_int_equal (c->tick_ms, 10);
    assert_int_equal (c->ws_batch, 64);
    assert_int_equal (c->ws_queue_max, 8 << 20);
    assert_int_equal (c->heartbeat_ms, 1000);
    assert_int_equal (c->fault_latency_ms, 0);
    assert_string_equal (c->fault_latency_path, "");
    assert_int_equal (c->fault_error_count, 0);
    assert_int_equal (c->fault_error_status, 503);
    assert_string_equal (c->fault_error_path, "");
    assert_int_equal (c->fault_storm_count, 0);
    assert_int_equal (c->fault_drop_count, 0);
}

static int
s_setup (void **state)
{
    (void) state;
    //  The sim-mode defaults of the kite section must not come from the environment.
    unsetenv ("KITE_API_KEY");
    unsetenv ("KITE_API_SECRET");
    unsetenv ("KITE_ACCESS_TOKEN");
    return 0;
}

static void
test_defaults (void **state)
{
    (void) state;
    struct sim_cfg c;
    assert_int_equal (s_parse (&c, 0, NULL), 0);
    s_expect_defaults (&c);
    //  The built-in defaults are the table's: a file with an empty sim section (and the
    //  shared sections a plain run would not use) leaves every sim row unchanged.
    char path[64];
    s_write (path, sizeof path, "{\"mode\":\"sim\",\"sim\":{}}");
    const char *args[] = { "-c", path };
    assert_int_equal (s_parse (&c, ARGC (args), args), 0);
    unlink (path);
    assert_string_equal (c.cfg_file, path);
    c.cfg_file[0] = '\0';
    assert_true (c.speed == 60.0);  //  sim mode's clock.speed default
    c.speed = 1.0;
    assert_string_equal (c.start, "09:12"); //  sim mode's clock.start default
    c.start[0] = '\0';
    assert_string_equal (c.redis, "127.0.0.1:6390");   //  sim mode's redis
    c.redis[0] = '\0';
    s_expect_defaults (&c);
}

static void
test_every_flag (void **state)
{
    (void) state;
    static const char *const spaced[] = {
        "--http", "0.0.0.0:9400", "--ws", "localhost:9401", "--seed", "42", "--speed", "60",
        "--date", "2024-02-29", "--start", "10:30:15", "--paused", "--replay", "/tmp/r.csv",
        "--access-token", "tok", "--api-key", "key", "--api-secret", "sec",
        "--redis", "127.0.0.1:6390", "--prefix", "t1:", "--log-level", "debug",
    };
    static const char *const joined[] = {
        "--http=0.0.0.0:9400", "--ws=localhost:9401", "--seed=42", "--speed=60",
        "--date=2024-02-29", "--start=10:30:15", "--paused", "--replay=/tmp/r.csv",
        "--access-token=tok", "--api-key=key", "--api-secret=sec", "--redis=127.0.0.1:6390",
        "--prefix=t1:", "--log-level=debug",
    };
    for (int form = 0; form < 2; form++) {
        struct sim_cfg c;
        int rc = form? s_parse (&c, ARGC (joined), joined): s_parse (&c, ARGC (spaced), spaced);
        assert_int_equal (rc, 0);
        assert_string_equal (c.http_addr, "0.0.0.0:9400");
        assert_string_equal (c.http_host, "0.0.0.0");
        assert_int_equal (c.http_port, 9400);
        assert_string_equal (c.ws_host, "localhost");
        assert_int_equal (c.ws_port, 9401);
        assert_int_equal (c.seed, 42);
        assert_true (c.speed == 60.0);
        assert_string_equal (c.date, "2024-02-29");
        assert_string_equal (c.start, "10:30:15");
        assert_true (c.paused);
        assert_false (c.wall_clock);
        assert_string_equal (c.replay, "/tmp/r.csv");
        assert_string_equal (c.access_token, "tok");
        assert_string_equal (c.api_key, "key");
        assert_string_equal (c.api_secret, "sec");
        assert_string_equal (c.redis, "127.0.0.1:6390");
        assert_string_equal (c.prefix, "t1:");
        assert_string_equal (c.log_level, "debug");
    }
    //  Edge values that are fine.
    struct sim_cfg c;
    const char *ok[] = { "--seed", "0", "--speed", "1000000", "--http", "h:1", "--ws", "h:65535",
                         "--start", "23:59", "--date", "2000-02-29", "--log-level", "off" };
    assert_int_equal (s_parse (&c, ARGC (ok), ok), 0);
    assert_int_equal (c.seed, 0);
    assert_int_equal (c.http_port, 1);
    assert_int_equal (c.ws_port, 65535);
    const char *big[] = { "--seed", "9223372036854775807", "--speed", "0.001" };
    assert_int_equal (s_parse (&c, ARGC (big), big), 0);
    assert_int_equal (c.seed, INT64_MAX);
    assert_true (c.speed == 0.001);
    //  The last of a repeated flag wins.
    const char *twice[] = { "--seed", "3", "--seed=4" };
    assert_int_equal (s_parse (&c, ARGC (twice), twice), 0);
    assert_int_equal (c.seed, 4);
    //  Same port on different hosts is allowed.
    const char *hosts[] = { "--http", "127.0.0.1:8400", "--ws", "127.0.0.2:8400" };
    assert_int_equal (s_parse (&c, ARGC (hosts), hosts), 0);
    //  --wall-clock alone.
    const char *wall[] = { "--wall-clock", "--paused" };
    assert_int_equal (s_parse (&c, ARGC (wall), wall), 0);
    assert_true (c.wall_clock);
    assert_true (c.paused);
}

struct s_case {
    const char *args[4];
    const char *err;
};

static void
test_bad_arguments (void **state)
{
    (void) state;
    static const struct s_case cases[] = {
        { { "--bogus" }, "unknown argument: --bogus (try --help)" },
        { { "-x" }, "unknown argument: -x (try --help)" },
        { { "positional" }, "unknown argument: positional (try --help)" },
        { { "--paused=1" }, "unknown argument: --paused=1 (try --help)" },
        { { "--wall-clock=yes" }, "unknown argument: --wall-clock=yes (try --help)" },
        { { "--bogus=1" }, "unknown argument: --bogus=1 (try --help)" },
        { { "--a-very-long-flag-name-that-goes-on-and-on" },
          "unknown argument: --a-very-long-flag-name-that-goes-on-and" },
        { { "--seed" }, "--seed: missing value" },
        { { "--paused", "--http" }, "--http: missing value" },
        //  HOST:PORT
        { { "--http", "localhost" }, "--http: not HOST:PORT: localhost" },
        { { "--http", ":8400" }, "--http: not HOST:PORT: :8400" },
        { { "--http", "h:" }, "--http: not HOST:PORT: h:" },
        { { "--http", "h:0" }, "--http: not HOST:PORT: h:0" },
        { { "--http", "h:65536" }, "--http: not HOST:PORT: h:65536" },
        { { "--http", "h:80x" }, "--http: not HOST:PORT: h:80x" },
        { { "--http", "h:-80" }, "--http: not HOST:PORT: h:-80" },
        { { "--http", "h: 80" }, "--http: not HOST:PORT: h: 80" },
        { { "--http", "h:+80" }, "--http: not HOST:PORT: h:+80" },
        { { "--http", "" }, "--http: not HOST:PORT: " },
        { { "--ws", "h" }, "--ws: not HOST:PORT: h" },
        { { "--ws", "h:99999999999999999999" }, "--ws: not HOST:PORT: h:99999999999999999999" },
        { { "--http", "127.0.0.1:8401" }, "--http and --ws must differ" },
        { { "--redis", "nope" }, "--redis: not HOST:PORT: nope" },
        { { "--redis", "h:0" }, "--redis: not HOST:PORT: h:0" },
        //  seed
        { { "--seed", "-1" }, "--seed: not a non-negative integer: -1" },
        { { "--seed", "1.5" }, "--seed: not a non-negative integer: 1.5" },
        { { "--seed", "" }, "--seed: not a non-negative integer: " },
        { { "--seed", "12x" }, "--seed: not a non-negative integer: 12x" },
        { { "--seed", "9223372036854775808" },
          "--seed: not a non-negative integer: 9223372036854775808" },
        { { "--seed=99999999999999999999" },
          "--seed: not a non-negative integer: 99999999999999999999" },
        //  speed
        { { "--speed", "0" }, "--speed: not a number in (0, 1000000]: 0" },
        { { "--speed", "-2" }, "--speed: not a number in (0, 1000000]: -2" },
        { { "--speed", "1000001" }, "--speed: not a number in (0, 1000000]: 1000001" },
        { { "--speed", "fast" }, "--speed: not a number in (0, 1000000]: fast" },
        { { "--speed", "nan" }, "--speed: not a number in (0, 1000000]: nan" },
        { { "--speed", "inf" }, "--speed: not a number in (0, 1000000]: inf" },
        { { "--speed", "60x" }, "--speed: not a number in (0, 1000000]: 60x" },
        { { "--speed=" }, "--speed: not a number in (0, 1000000]: " },
        //  date
        { { "--date", "2025-02-29" }, "--date: not a date YYYY-MM-DD: 2025-02-29" },
        { { "--date", "2025-13-01" }, "--date: not a date YYYY-MM-DD: 2025-13-01" },
        { { "--date", "2025-11-31" }, "--date: not a date YYYY-MM-DD: 2025-11-31" },
        { { "--date", "2025-1-18" }, "--date: not a date YYYY-MM-DD: 2025-1-18" },
        { { "--date", "2025/11/18" }, "--date: not a date YYYY-MM-DD: 2025/11/18" },
        { { "--date", "18-11-2025" }, "--date: not a date YYYY-MM-DD: 18-11-2025" },
        { { "--date", "today" }, "--date: not a date YYYY-MM-DD: today" },
        { { "--date", "" }, "--date: not a date YYYY-MM-DD: " },
        { { "--date", "2025-11-18-01" }, "--date: not a date YYYY-MM-DD: 2025-11-18-01" },
        { { "--date", "2025-11-18T09:15:00" }, "--date: value too long" },
        //  start
        { { "--start", "9:15" }, "--start: not HH:MM: 9:15" },
        { { "--start", " 9:15" }, "--start: not HH:MM:  9:15" },
        { { "--start", "+9:15" }, "--start: not HH:MM: +9:15" },
        { { "--start", "09:5x" }, "--start: not HH:MM: 09:5x" },
        { { "--start", "24:00" }, "--start: not HH:MM: 24:00" },
        { { "--start", "09:60" }, "--start: not HH:MM: 09:60" },
        { { "--start", "09:15:60" }, "--start: not HH:MM: 09:15:60" },
        { { "--start", "09:15:0x" }, "--start: not HH:MM: 09:15:0x" },
        { { "--start", "09:15:" }, "--start: not HH:MM: 09:15:" },
        { { "--start", "0915" }, "--start: not HH:MM: 0915" },
        { { "--start", "09-15" }, "--start: not HH:MM: 09-15" },
        { { "--start", "" }, "--start: not HH:MM: " },
        //  log level, credentials, lengths
        { { "--log-level", "loud" }, "--log-level: unknown level: loud" },
        { { "--log-level", "INFO" }, "--log-level: unknown level: INFO" },
        { { "--log-level", "verbosest" }, "--log-level: value too long" },
        { { "--api-key", "" }, "api_key and api_secret must not be empty" },
        { { "--api-secret=" }, "api_key and api_secret must not be empty" },
        { { "--prefix", "a-prefix-that-is-much-too-long-for-it" }, "--prefix: value too long" },
        //  wall clock
        { { "--wall-clock", "--date", "2025-11-18" },
          "--wall-clock follows real time: drop --date, --start, --speed" },
        { { "--start", "10:00", "--wall-clock" },
          "--wall-clock follows real time: drop --date, --start, --speed" },
        { { "--wall-clock", "--speed", "1" },
          "--wall-clock follows real time: drop --date, --start, --speed" },
        { { "-c" }, "-c: missing FILE" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = 0;
        while (n < 4 && cases[i].args[n])
            n++;
        struct sim_cfg c;
        int rc = s_parse (&c, n, cases[i].args);
        if (rc != -1 || strcmp (s_err, cases[i].err) != 0)
            fail_msg ("case %zu (%s): rc %d, err \"%s\", want \"%s\"", i, cases[i].args[0], rc,
                      s_err, cases[i].err);
        assert_null (strchr (s_err, '\n'));         //  one line
    }
    //  A value longer than its field: the reason, never a truncated copy.
    char long_addr[128];
    memset (long_addr, 'h', 100);
    snprintf (long_addr + 100, 28, ":8400");
    const char *args[] = { "--http", long_addr };
    struct sim_cfg c;
    assert_int_equal (s_parse (&c, ARGC (args), args), -1);
    assert_string_equal (s_err, "--http: value too long");
    //  The longest address that fits its field.
    memset (long_addr, 'h', 61);
    snprintf (long_addr + 61, 8, ":1");
    assert_int_equal (s_parse (&c, ARGC (args), args), 0);
    assert_int_equal (strlen (c.http_host), 61);
}

static void
test_split_addr (void **state)
{
    (void) state;
    char host[8];
    int port = -1;
    assert_int_equal (sim_cfg_split_addr ("abc:12", host, sizeof host, &port), 0);
    assert_string_equal (host, "abc");
    assert_int_equal (port, 12);
    //  The last ':' splits (an IPv6 literal keeps its colons in the host).
    assert_int_equal (sim_cfg_split_addr ("::1:80", host, sizeof host, &port), 0);
    assert_string_equal (host, "::1");
    assert_int_equal (port, 80);
    //  Host exactly filling the buffer is refused, one shorter fits.
    assert_int_equal (sim_cfg_split_addr ("abcdefgh:1", host, sizeof host, &port), -1);
    assert_int_equal (sim_cfg_split_addr ("abcdefg:1", host, sizeof host, &port), 0);
    assert_string_equal (host, "abcdefg");
    port = 7;
    assert_int_equal (sim_cfg_split_addr (NULL, host, sizeof host, &port), -1);
    assert_int_equal (sim_cfg_split_addr ("a: 1", host, sizeof host, &port), -1);
    assert_int_equal (sim_cfg_split_addr ("a:1 ", host, sizeof host, &port), -1);
    assert_int_equal (sim_cfg_split_addr ("a:+1", host, sizeof host, &port), -1);
    assert_int_equal (sim_cfg_split_addr ("a:0x50", host, sizeof host, &port), -1);
    assert_int_equal (port, 7);                     //  untouched on failure
}

static void
test_help (void **state)
{
    (void) state;
    struct sim_cfg c;
    const char *h[] = { "--seed", "-5", "--help" };     //  help wins over bad values
    assert_int_equal (s_parse (&c, ARGC (h), h), 1);
    const char *h2[] = { "-h" };
    assert_int_equal (s_parse (&c, ARGC (h2), h2), 1);
}

static void
test_config_file (void **state)
{
    (void) state;
    char path[64];
    s_write (path, sizeof path,
             "{\"mode\":\"sim\",\n"
             " \"log\":{\"level\":\"warn\"},\n"
             " \"redis\":{\"host\":\"127.0.0.1\",\"port\":6391,\"prefix\":\"simt:\"},\n"
             " \"clock\":{\"mode\":\"sim\",\"speed\":30,\"date\":\"2025-11-18\","
             "\"start\":\"10:00\"},\n"
             " \"sim\":{\"http\":\"127.0.0.1:9500\",\"ws\":\"127.0.0.1:9501\",\"seed\":7,\n"
             "   \"replay\":\"/tmp/x.csv\",\"user_id\":\"AB1234\",\"user_name\":\"Test\",\n"
             "   \"opening_balance\":250000.50,\"freeze_qty\":900,\"strikes_each_side\":12,\n"
             "   \"lot\":50,\"tick_ms\":5,\"ws_batch\":8,\"ws_queue_max\":65536,\n"
             "   \"heartbeat_ms\":500,\"fault_latency_ms\":20,\"fault_latency_path\":\"/quote\",\n"
             "   \"fault_error_count\":3,\"fault_error_status\":502,"
             "\"fault_error_path\":\"/orders\",\n"
             "   \"fault_storm_count\":4,\"fault_drop_count\":5}}\n");
    struct sim_cfg c;
    const char *args[] = { "-c", path };
    assert_int_equal (s_parse (&c, ARGC (args), args), 0);
    assert_string_equal (c.cfg_file, path);
    assert_string_equal (c.http_addr, "127.0.0.1:9500");
    assert_int_equal (c.http_port, 9500);
    assert_int_equal (c.ws_port, 9501);
    assert_int_equal (c.seed, 7);
    assert_string_equal (c.replay, "/tmp/x.csv");
    assert_string_equal (c.user_id, "AB1234");
    assert_string_equal (c.user_name, "Test");
    assert_int_equal (c.opening_balance, 25000050);
    assert_int_equal (c.freeze_qty, 900);
    assert_int_equal (c.strikes_each_side, 12);
    assert_int_equal (c.lot, 50);
    assert_int_equal (c.tick_ms, 5);
    assert_int_equal (c.ws_batch, 8);
    assert_int_equal (c.ws_queue_max, 65536);
    assert_int_equal (c.heartbeat_ms, 500);
    assert_int_equal (c.fault_latency_ms, 20);
    assert_string_equal (c.fault_latency_path, "/quote");
    assert_int_equal (c.fault_error_count, 3);
    assert_int_equal (c.fault_error_status, 502);
    assert_string_equal (c.fault_error_path, "/orders");
    assert_int_equal (c.fault_storm_count, 4);
    assert_int_equal (c.fault_drop_count, 5);
    //  Shared sections: clock, redis (publish_clock is on by default), log, kite (sim
    //  mode's well-known credentials).
    assert_true (c.speed == 30.0);
    assert_string_equal (c.date, "2025-11-18");
    assert_string_equal (c.start, "10:00");
    assert_false (c.wall_clock);
    assert_string_equal (c.redis, "127.0.0.1:6391");
    assert_string_equal (c.prefix, "simt:");
    assert_string_equal (c.log_level, "warn");
    assert_string_equal (c.api_key, "sim_api_key");
    assert_string_equal (c.api_secret, "sim_api_secret");
    //  Flags win over the file, before or after -c.
    const char *over[] = { "--seed", "9", "-c", path, "--speed=2", "--date", "2025-11-19",
                           "--start", "11:00", "--http", "127.0.0.1:9600", "--prefix", "x:",
                           "--log-level", "error", "--redis", "127.0.0.1:7000" };
    assert_int_equal (s_parse (&c, ARGC (over), over), 0);
    assert_int_equal (c.seed, 9);
    assert_true (c.speed == 2.0);
    assert_string_equal (c.date, "2025-11-19");
    assert_string_equal (c.start, "11:00");
    assert_int_equal (c.http_port, 9600);
    assert_int_equal (c.ws_port, 9501);             //  still the file's
    assert_string_equal (c.prefix, "x:");
    assert_string_equal (c.log_level, "error");
    assert_string_equal (c.redis, "127.0.0.1:7000");
    assert_int_equal (c.lot, 50);
    //  -c=FILE is not a form kite-sim knows.
    char joined[96];
    snprintf (joined, sizeof joined, "-c=%s", path);
    const char *bad[] = { joined };
    assert_int_equal (s_parse (&c, ARGC (bad), bad), -1);
    assert_non_null (strstr (s_err, "unknown argument: -c="));
    unlink (path);
}

static void
test_config_shared (void **state)
{
    (void) state;
    char path[64];
    struct sim_cfg c;
    //  publish_clock false: no clock hash even with a redis section.
    s_write (path, sizeof path,
             "{\"mode\":\"sim\",\"redis\":{\"host\":\"127.0.0.1\",\"port\":6391},"
             "\"sim\":{\"publish_clock\":false}}");
    const char *args[] = { "-c", path };
    assert_int_equal (s_parse (&c, ARGC (args), args), 0);
    assert_false (c.publish_clock);
    assert_string_equal (c.redis, "");
    assert_string_equal (c.prefix, "kt:");
    unlink (path);
    //  clock.mode real is --wall-clock: date, start and speed are not taken, and the
    //  flags that contradict it are refused.
    s_write (path, sizeof path,
             "{\"mode\":\"sim\",\"clock\":{\"mode\":\"real\",\"date\":\"2025-11-18\"}}");
    assert_int_equal (s_parse (&c, ARGC (args), args), 0);
    assert_true (c.wall_clock);
    assert_string_equal (c.date, "");
    assert_true (c.speed == 1.0);
    const char *contra[] = { "-c", path, "--start", "10:00" };
    assert_int_equal (s_parse (&c, ARGC (contra), contra), -1);
    assert_string_equal (s_err, "--wall-clock follows real time: drop --date, --start, --speed");
    unlink (path);
}

static void
test_config_errors (void **state)
{
    (void) state;
    char path[64], want[160];
    struct sim_cfg c;
    const char *args[] = { "-c", path };
    //  A missing file.
    snprintf (path, sizeof path, "/tmp/sim_cfg_test_missing_%d.json", (int) getpid ());
    assert_int_equal (s_parse (&c, ARGC (args), args), -1);
    snprintf (want, sizeof want, "config: %s", path);
    assert_memory_equal (s_err, want, strlen (want));
    assert_null (strchr (s_err, '\n'));
    //  Unknown key, wrong type, out of range, bad value of a sim row: each names its path.
    static const struct { const char *sim; const char *key; } bad[] = {
        { "{\"bogus\":1}", "sim.bogus" },
        { "{\"seed\":\"7\"}", "sim.seed" },
        { "{\"seed\":-1}", "sim.seed" },
        { "{\"lot\":0}", "sim.lot" },
        { "{\"strikes_each_side\":9}", "sim.strikes_each_side" },
        { "{\"tick_ms\":1001}", "sim.tick_ms" },
        { "{\"fault_error_status\":505}", "sim.fault_error_status" },
        { "{\"opening_balance\":1.001}", "sim.opening_balance" },
        { "{\"publish_clock\":1}", "sim.publish_clock" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf (text, sizeof text, "{\"mode\":\"sim\",\"sim\":%s}", bad[i].sim);
        s_write (path, sizeof path, text);
        assert_int_equal (s_parse (&c, ARGC (args), args), -1);
        snprintf (want, sizeof want, "config: %s: %s: ", path, bad[i].key);
        if (strncmp (s_err, want, strlen (want)) != 0)
            fail_msg ("%s: got \"%s\", want prefix \"%s\"", bad[i].sim, s_err, want);
        unlink (path);
    }
    //  Not JSON at all.
    s_write (path, sizeof path, "sim: {seed: 1}");
    assert_int_equal (s_parse (&c, ARGC (args), args), -1);
    snprintf (want, sizeof want, "config: %s: ", path);
    assert_memory_equal (s_err, want, strlen (want));
    unlink (path);
    //  A good file does not excuse a bad flag.
    s_write (path, sizeof path, "{\"mode\":\"sim\"}");
    const char *more[] = { "-c", path, "--speed", "0" };
    assert_int_equal (s_parse (&c, ARGC (more), more), -1);
    assert_string_equal (s_err, "--speed: not a number in (0, 1000000]: 0");
    unlink (path);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults),       cmocka_unit_test (test_every_flag),
        cmocka_unit_test (test_bad_arguments),  cmocka_unit_test (test_split_addr),
        cmocka_unit_test (test_help),           cmocka_unit_test (test_config_file),
        cmocka_unit_test (test_config_shared),  cmocka_unit_test (test_config_errors),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
