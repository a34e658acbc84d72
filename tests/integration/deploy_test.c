/*  deploy_test - the process group as an operator runs it: deploy/run.sh start brings
 *  every program to RUNNING under supervisord, `supervisorctl restart` brings one back
 *  with a new pid that heartbeats, and deploy/run.sh stop leaves no process behind.
 *
 *  The config is deploy/config/sim.json with private addresses (free TCP ports for Redis
 *  and kite-sim, ipc:// endpoints in a temp dir), so the test never meets a `make run`. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <cJSON.h>
#include <hiredis/hiredis.h>

static char s_dir[64];
static char s_env[512]; //  the environment prefix of every command
static int s_redis_port;
static char s_api_port[8]; //  kite-sim's HTTP port, as text

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind (fd, (struct sockaddr *) &a, sizeof a) != 0 ||
        getsockname (fd, (struct sockaddr *) &a, &len) != 0) {
        close (fd);
        return -1;
    }
    close (fd);
    return ntohs (a.sin_port);
}

static int
s_write_config (const char *path)
{
    FILE *f = fopen ("deploy/config/sim.json", "rb");
    if (!f)
        return -1;
    char text[65536];
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = 0;
    cJSON *root = cJSON_Parse (text);
    if (!root)
        return -1;
    static const char *const names[] = {"md", "risk", "risk_pub", "exec", "exec_pub", "alerts"};
    cJSON *bus = cJSON_GetObjectItem (root, "bus");
    for (int i = 0; i < 6; i++) {
        char ep[128];
        snprintf (ep, sizeof ep, "ipc://%s/%s", s_dir, names[i]);
        cJSON_ReplaceItemInObject (bus, names[i], cJSON_CreateString (ep));
    }
    s_redis_port = s_free_port ();
    cJSON_ReplaceItemInObject (cJSON_GetObjectItem (root, "redis"), "port",
                               cJSON_CreateNumber (s_redis_port));
    char url[64];
    cJSON *kite = cJSON_GetObjectItem (root, "kite");
    int api_port = s_free_port ();
    snprintf (s_api_port, sizeof s_api_port, "%d", api_port);
    snprintf (url, sizeof url, "http://127.0.0.1:%d", api_port);
    cJSON_ReplaceItemInObject (kite, "api_url", cJSON_CreateString (url));
    snprintf (url, sizeof url, "ws://127.0.0.1:%d", s_free_port ());
    cJSON_ReplaceItemInObject (kite, "ws_url", cJSON_CreateString (url));
    char *out = cJSON_Print (root);
    cJSON_Delete (root);
    f = fopen (path, "w");
    if (!f) {
        free (out);
        return -1;
    }
    fputs (out, f);
    fclose (f);
    free (out);
    return 0;
}

//  Run a shell command with the test's environment; capture stdout into out.
static int
s_run (const char *cmd, char *out, size_t outlen)
{
    char full[1024];
    snprintf (full, sizeof full, "%s %s 2>&1", s_env, cmd);
    FILE *p = popen (full, "r");
    if (!p)
        return -1;
    size_t n = out ? fread (out, 1, outlen - 1, p) : 0;
    if (out)
        out[n] = 0;
    else {
        char sink[4096];
        while (fread (sink, 1, sizeof sink, p) > 0)
            ;
    }
    int st = pclose (p);
    return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

static int
s_count (const char *text, const char *word)
{
    int n = 0;
    for (const char *p = text; (p = strstr (p, word)); p += strlen (word))
        n++;
    return n;
}

//  Processes whose command line mentions our temp dir (supervisord, redis, the group).
static int
s_our_processes (void)
{
    int n = 0;
    DIR *d = opendir ("/proc");
    struct dirent *e;
    while (d && (e = readdir (d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi (e->d_name) == getpid ())
            continue;
        char path[300], buf[4096];
        snprintf (path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen (path, "rb");
        if (!f)
            continue;
        size_t len = fread (buf, 1, sizeof buf - 1, f);
        fclose (f);
        for (size_t i = 0; i < len; i++)
            if (!buf[i])
                buf[i] = ' ';
        buf[len] = 0;
        if (strstr (buf, s_dir) && !strstr (buf, "sh -c"))
            n++;
    }
    if (d)
        closedir (d);
    return n;
}

//  True if a kite-sim pid in the list is ours (its command line has our HTTP port).
static bool
s_kite_sim_ours (const char *pids)
{
    for (const char *p = pids; *p;) {
        int pid = atoi (p);
        char path[64], buf[1024];
        snprintf (path, sizeof path, "/proc/%d/cmdline", pid);
        FILE *f = fopen (path, "rb");
        if (f) {
            size_t len = fread (buf, 1, sizeof buf - 1, f);
            fclose (f);
            for (size_t i = 0; i < len; i++)
                if (!buf[i])
                    buf[i] = ' ';
            buf[len] = 0;
            if (strstr (buf, s_api_port))
                return true;
        }
        const char *nl = strchr (p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return false;
}

static int
s_setup (void **state)
{
    (void) state;
    snprintf (s_dir, sizeof s_dir, "/tmp/kt-deploy-XXXXXX");
    if (!mkdtemp (s_dir))
        return -1;
    char cfg[128];
    snprintf (cfg, sizeof cfg, "%s/sim.json", s_dir);
    if (s_write_config (cfg) != 0)
        return -1;
    const char *build = getenv ("KT_BUILD");
    snprintf (s_env, sizeof s_env, "KT_CONFIG=%s KT_RUN=%s/run KT_BUILD=%s", cfg, s_dir,
              build ? build : "build");
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    s_run ("deploy/run.sh stop", NULL, 0);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", s_dir);
    return 0;
}

static void
test_start_restart_stop (void **state)
{
    (void) state;
    char out[8192], cmd[256];
    int rc = s_run ("deploy/run.sh start", out, sizeof out);
    if (rc != 0)
        fprintf (stderr, "%s\n", out);
    assert_int_equal (rc, 0);
    snprintf (cmd, sizeof cmd, "supervisorctl -c %s/run/supervisord.conf status", s_dir);
    assert_int_equal (s_run (cmd, out, sizeof out), 0);
    assert_int_equal (s_count (out, "RUNNING"), 8);
    assert_non_null (strstr (out, "kt:kite-sim"));

    //  Restart one process: a new pid, and that pid heartbeats into Redis.
    snprintf (cmd, sizeof cmd, "supervisorctl -c %s/run/supervisord.conf pid kt:risk-gate", s_dir);
    assert_int_equal (s_run (cmd, out, sizeof out), 0);
    int before = atoi (out);
    assert_true (before > 0);
    snprintf (cmd, sizeof cmd, "supervisorctl -c %s/run/supervisord.conf restart kt:risk-gate",
              s_dir);
    assert_int_equal (s_run (cmd, out, sizeof out), 0);
    assert_non_null (strstr (out, "started"));
    snprintf (cmd, sizeof cmd, "supervisorctl -c %s/run/supervisord.conf pid kt:risk-gate", s_dir);
    assert_int_equal (s_run (cmd, out, sizeof out), 0);
    int after = atoi (out);
    assert_true (after > 0 && after != before);
    redisContext *c = redisConnect ("127.0.0.1", s_redis_port);
    assert_non_null (c);
    bool beating = false;
    for (int i = 0; i < 50 && !beating; i++) {
        redisReply *r = redisCommand (c, "HGET kt:health:risk-gate pid");
        beating = r && r->type == REDIS_REPLY_STRING && atoi (r->str) == after;
        if (r)
            freeReplyObject (r);
        if (!beating)
            usleep (100 * 1000);
    }
    redisFree (c);
    assert_true (beating);

    //  supervisord and the six pipeline processes name the temp dir (redis-server
    //  rewrites its title to its address; it is checked through its port below).
    assert_true (s_our_processes () >= 7);
    assert_int_equal (s_run ("pgrep -f 'kite-sim --http'", out, sizeof out), 0);
    assert_true (s_kite_sim_ours (out));
    assert_int_equal (s_run ("deploy/run.sh stop", out, sizeof out), 0);
    assert_int_equal (s_our_processes (), 0);
    redisContext *gone = redisConnect ("127.0.0.1", s_redis_port);
    assert_true (gone == NULL || gone->err != 0);
    redisFree (gone);
    //  kite-sim names only its ports: its HTTP port must be free again.
    assert_int_equal (s_run ("pgrep -f 'kite-sim --http'", out, sizeof out) == 0 &&
                          strstr (out, "\n") != NULL && s_kite_sim_ours (out),
                      0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_start_restart_stop),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
