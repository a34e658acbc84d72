/*  ctl_kill - the kill switch from the command line: halt and resume.
 *
 *  halt sets risk:kill (the same hash an operator may set by hand with redis-cli);
 *  risk-gate reads it inside its decide script, so the very next entry is refused with
 *  KILL and trading HALTs, and its poll halts (cancelling pending entries) within
 *  risk.poll_ms even when no intent arrives. resume clears the switch and ends the halt
 *  in one script, so it never leaves a half-resumed account. */

#include <stdio.h>
#include <string.h>
#include <time.h>
#include "ctl.h"

static const char s_resume_lua[] =
    "local was = redis.call('HGET', KEYS[2], 'state') or ''\n"
    "redis.call('HSET', KEYS[1], 'active', '0', 'reason', '', 'by', ARGV[1], 'since_ns', ARGV[2])\n"
    "if was == 'HALTED' then\n"
    "  redis.call('HSET', KEYS[2], 'state', 'REDUCING', 'reason',\n"
    "             'resumed by ' .. ARGV[1] .. ': awaiting reconciliation', 'since_ns', ARGV[2],\n"
    "             'scope', '', 'session_ok', '1')\n"
    "end\n"
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'type', 'risk.resume',\n"
    "           'by', ARGV[1], 'was', was, 'src', 'tradectl')\n"
    "return was\n";

int
ctl_kill_halt (kt_store_t *store, const char *reason, const char *by, int64_t now_ns)
{
    if (!reason || !reason[0])
        return -1;
    char kill[96], ns[24];
    kt_store_key (store, kill, sizeof kill, "risk:kill");
    snprintf (ns, sizeof ns, "%lld", (long long) now_ns);
    redisReply *r = kt_store_cmd (store, "HSET %s active 1 reason %s by %s since_ns %s", kill,
                                  reason, by, ns);
    bool ok = r && r->type == REDIS_REPLY_INTEGER;
    if (r)
        freeReplyObject (r);
    if (!ok)
        return -1;
    kt_store_event (store, (const kt_kv_t[]) { KT_S ("type", "risk.kill"), KT_S ("by", by),
                                              KT_S ("reason", reason), KT_S ("src", "tradectl"),
                                              KT_END });
    return 0;
}

int
ctl_kill_resume (kt_store_t *store, const char *by, int64_t now_ns, kt_trading_state_t *was)
{
    char kill[96], state[96], events[96], ns[24];
    kt_store_key (store, kill, sizeof kill, "risk:kill");
    kt_store_key (store, state, sizeof state, "risk:state");
    kt_store_key (store, events, sizeof events, "events");
    snprintf (ns, sizeof ns, "%lld", (long long) now_ns);
    //  Plain EVAL: a one-shot tool has no use for the script registry.
    const char *argv[] = { "EVAL", s_resume_lua, "3", kill, state, events, by, ns };
    redisReply *r = kt_store_cmdargv (store, 8, argv, NULL);
    int rc = r && r->type == REDIS_REPLY_STRING? 0: -1;
    if (rc == 0 && was)
        *was = kt_state_parse (r->str);
    if (r)
        freeReplyObject (r);
    return rc;
}

int
ctl_kill_wait (kt_store_t *store, kt_trading_state_t want, int timeout_ms)
{
    char key[96];
    kt_store_key (store, key, sizeof key, "risk:state");
    for (int waited = 0;; waited += 50) {
        redisReply *r = kt_store_cmd (store, "HGET %s state", key);
        if (!r)
            return -1;
        bool done = r->type == REDIS_REPLY_STRING && kt_state_parse (r->str) == want;
        freeReplyObject (r);
        if (done)
            return 0;
        if (waited >= timeout_ms)
            return 1;
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep (&ts, NULL);
    }
}
