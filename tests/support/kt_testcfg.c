/*  kt_testcfg - test defaults for struct kt_cfg. See kt_testcfg.h. */

#include "kt_testcfg.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const s_names[] = { "md", "risk", "risk_pub", "exec", "exec_pub", "alerts" };

static void
s_path (char *buf, size_t len, const char *tag, const char *name)
{
    snprintf (buf, len, "/tmp/kt-test-%d-%s-%s", (int) getpid (), tag, name);
}

void
kt_testcfg_fill (struct kt_cfg *cfg, const char *proc, int redis_port, const char *tag)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->file, sizeof cfg->file, "(test)");
    snprintf (cfg->proc, sizeof cfg->proc, "%s", proc);
    snprintf (cfg->mode, sizeof cfg->mode, "sim");
    snprintf (cfg->log_level, sizeof cfg->log_level, "warn");
    char *eps[] = { cfg->ep_md, cfg->ep_risk, cfg->ep_risk_pub, cfg->ep_exec, cfg->ep_exec_pub,
                    cfg->ep_alerts };
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        char path[100];
        s_path (path, sizeof path, tag, s_names[i]);
        snprintf (eps[i], sizeof cfg->ep_md, "ipc://%s", path);
    }
    cfg->sndhwm = 100000;
    cfg->rcvhwm = 100000;
    cfg->linger_ms = 0;
    cfg->req_timeout_ms = 200;
    cfg->req_retries = 2;
    snprintf (cfg->redis_host, sizeof cfg->redis_host, "127.0.0.1");
    cfg->redis_port = redis_port;
    snprintf (cfg->redis_prefix, sizeof cfg->redis_prefix, "kt:");
    cfg->redis_timeout_ms = 200;
    snprintf (cfg->clock_mode, sizeof cfg->clock_mode, "real");
    cfg->clock_speed = 1.0;
    snprintf (cfg->clock_start, sizeof cfg->clock_start, "09:15");
    cfg->health_beat_ms = 1000;
    cfg->health_slow_ms = 50;
    cfg->health_ttl_s = 5;
}

void
kt_testcfg_cleanup (const char *tag)
{
    for (size_t i = 0; i < sizeof s_names / sizeof s_names[0]; i++) {
        char path[100];
        s_path (path, sizeof path, tag, s_names[i]);
        unlink (path);
    }
}
