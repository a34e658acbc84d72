/*  kt_testcfg - a filled struct kt_cfg for tests that build processes in-process.
 *
 *  Endpoints are ipc:// paths private to the test process (so tests never clash with a
 *  running `make run` or with each other), Redis points at a kt_testredis port, and the
 *  clock is real unless the test switches it. */

#ifndef KT_TESTCFG_H
#define KT_TESTCFG_H

#include "kt_cfg.h"

//  Fill cfg with test defaults for process proc and Redis on 127.0.0.1:redis_port.
//  tag makes the endpoint paths unique within one test process (e.g. the test name).
void
    kt_testcfg_fill (struct kt_cfg *cfg, const char *proc, int redis_port, const char *tag);

//  Remove the ipc socket files made for tag.
void
    kt_testcfg_cleanup (const char *tag);

#endif
