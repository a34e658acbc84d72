/*  risk_state - the trading state ACTIVE / REDUCING / HALTED in Redis (risk:state),
 *  and the account's life around it: creation, start-up, the daily reset, P&L marks.
 *
 *  Every change is one Lua script (guarded: a transition happens only from the states
 *  it allows, so two instances or an operator racing end in one answer), written to
 *  Redis first and to `events`; the caller then publishes RISK_STATE and alerts.
 *  State machine (docs/risk-gate.md):
 *    new account -> REDUCING;  start-up: ACTIVE -> REDUCING;
 *    REDUCING -> ACTIVE when the reconciler's recon_ok_ns is at or after both this
 *      instance's start and the moment REDUCING began (a resume needs a fresh
 *      reconciliation), and no kill switch is set;
 *    any -> HALTED on a HALT rule, the kill switch or a TokenException (scope "day" for
 *      DAILY_LOSS, HOURLY_LOSS, CONSEC_LOSS, REJECTS; "manual" otherwise);
 *    HALTED -> REDUCING only by an operator (tradectl resume) or, for scope "day", by
 *      the daily reset. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "risk.h"

//  ARGV: 1 prefix, 2 op, 3 now_ns, 4 src, then per op (see each wrapper).
const char risk_state_lua[] =
    "local op, now, src = ARGV[2], ARGV[3], ARGV[4]\n"
    "local st, cap = K('risk:state'), K('capital')\n"
    "local changed = 0\n"
    "local moved = false\n"
    "local function set_state(s, reason, scope)\n"
    "  redis.call('HSET', st, 'state', s, 'reason', reason, 'since_ns', now, 'scope', scope)\n"
    "  event('type', 'risk.state', 'state', s, 'reason', reason, 'src', src)\n"
    "  changed = 1\n"
    "end\n"
    "if op == 'roll' then\n"
    "  local day, wk, initial, unreal = ARGV[5], ARGV[6], ARGV[7], num(ARGV[8])\n"
    "  redis.call('HSETNX', cap, 'initial', initial)\n"
    "  redis.call('HSETNX', cap, 'realised_total', '0')\n"
    "  redis.call('HSETNX', cap, 'reserved', '0')\n"
    "  redis.call('HSETNX', cap, 'deployed', '0')\n"
    "  local CAP = hgetall(cap)\n"
    "  local eq = num(CAP.initial) + num(CAP.realised_total) + unreal\n"
    "  local S = hgetall(st)\n"
    "  if not S.state then\n"
    "    redis.call('HSET', st, 'day', day, 'week_start_ns', wk, 'day_start_equity', I(eq),\n"
    "      'week_start_equity', I(eq), 'day_start_unrealised', I(unreal),\n"
    "      'week_start_unrealised', I(unreal), 'realised_day', '0', 'realised_week', '0',\n"
    "      'peak_equity', I(eq), 'consec_losses', '0', 'trades_day', '0', 'last_entry_ns', '0',\n"
    "      'units_total', '0', 'units_ce', '0', 'units_pe', '0', 'halt_seq', '0',\n"
    "      'session_ok', '1', 'recon_ok_ns', '0')\n"
    "    set_state('REDUCING', 'new account: awaiting reconciliation', '')\n"
    "  elseif S.day ~= day then\n"
    "    if S.day then\n"
    "      redis.call('HSET', K('risk:day:' .. S.day), 'day', S.day,\n"
    "        'realised', S.realised_day or '0', 'trades', S.trades_day or '0',\n"
    "        'consec_losses', S.consec_losses or '0', 'day_start_equity',\n"
    "        S.day_start_equity or '0', 'end_equity', I(eq), 'peak_equity',\n"
    "        S.peak_equity or '0', 'state', S.state, 'reason', S.reason or '',\n"
    "        'archived_ns', now)\n"
    "    end\n"
    "    redis.call('HSET', st, 'day', day, 'day_start_equity', I(eq),\n"
    "      'day_start_unrealised', I(unreal), 'realised_day', '0', 'trades_day', '0',\n"
    "      'consec_losses', '0')\n"
    "    redis.call('HDEL', st, 'first_mark_min')\n"
    "    redis.call('DEL', K('risk:marks'), K('risk:ts:orders'), K('risk:ts:modifies'),\n"
    "      K('risk:ts:entries'), K('risk:ts:rejects'), K('risk:fills'), K('risk:done'))\n"
    "    if S.week_start_ns ~= wk then\n"
    "      redis.call('HSET', st, 'week_start_ns', wk, 'week_start_equity', I(eq),\n"
    "        'week_start_unrealised', I(unreal), 'realised_week', '0')\n"
    "    end\n"
    "    event('type', 'risk.day', 'day', day, 'previous', S.day or '', 'src', src)\n"
    "    changed = 1\n"
    "    if S.state == 'HALTED' and S.scope == 'day' then\n"
    "      set_state('REDUCING', 'new trading day: the day-scoped halt ended', '')\n"
    "    end\n"
    "  end\n"
    "  if ARGV[9] == '1' and redis.call('HGET', st, 'state') == 'ACTIVE' then\n"
    "    set_state('REDUCING', 'start-up: awaiting reconciliation', '')\n"
    "  end\n"
    "elseif op == 'halt' then\n"
    "  if redis.call('HGET', st, 'state') ~= 'HALTED' then\n"
    "    set_state('HALTED', ARGV[5] .. ': ' .. ARGV[6], ARGV[7])\n"
    "    redis.call('HINCRBY', st, 'halt_seq', 1)\n"
    "  end\n"
    "elseif op == 'activate' then\n"
    "  local s = redis.call('HMGET', st, 'state', 'recon_ok_ns', 'since_ns')\n"
    "  local kill = num(redis.call('HGET', K('risk:kill'), 'active'))\n"
    "  local need = ARGV[5]\n"
    "  if s[3] and ts_gt(s[3], need) then need = s[3] end\n"
    "  if s[1] == 'REDUCING' and kill == 0 and num(s[2]) > 0 and not ts_gt(need, s[2]) then\n"
    "    set_state('ACTIVE', 'reconciler agrees with the broker', '')\n"
    "  end\n"
    "elseif op == 'session' then\n"
    "  if redis.call('HGET', st, 'session_ok') ~= ARGV[5] then\n"
    "    redis.call('HSET', st, 'session_ok', ARGV[5])\n"
    "    changed = 1\n"
    "  end\n"
    "elseif op == 'mark' then\n"
    "  local minute, dpnl, unreal, eq = ARGV[5], ARGV[6], ARGV[7], num(ARGV[8])\n"
    "  if redis.call('EXISTS', st) == 1 then\n"
    "    if redis.call('HSETNX', K('risk:marks'), minute, dpnl) == 1 then\n"
    "      moved = true\n"
    "      local fm = redis.call('HGET', st, 'first_mark_min')\n"
    "      if not fm or num(minute) < num(fm) then\n"
    "        redis.call('HSET', st, 'first_mark_min', minute)\n"
    "      end\n"
    "    end\n"
    "    if eq > num(redis.call('HGET', st, 'peak_equity')) then\n"
    "      redis.call('HSET', st, 'peak_equity', I(eq))\n"
    "      moved = true\n"
    "    end\n"
    "    redis.call('HSET', st, 'unrealised', unreal, 'day_pnl', dpnl, 'updated_ns', now)\n"
    "    local c = redis.call('HMGET', cap, 'reserved', 'deployed')\n"
    "    redis.call('HSET', cap, 'equity', I(eq), 'available',\n"
    "      I(eq - num(c[1]) - num(c[2])))\n"
    "    for i = 9, #ARGV - 2, 3 do\n"
    "      local pkey = K('risk:pos:' .. ARGV[i])\n"
    "      if redis.call('EXISTS', pkey) == 1 then\n"
    "        redis.call('HSET', pkey, 'last_px', ARGV[i + 1], 'last_px_ns', ARGV[i + 2])\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if changed == 1 or moved then bump() end\n"
    "return {I(changed), snapshot()}\n";

//  Run an op; parse the snapshot into view; *changed from the script. 0 or -1.
static int
s_run (kt_store_t *store, const struct risk_scripts *ids, int nargs, const char **args,
       bool *changed, struct risk_view *view)
{
    redisReply *r = kt_store_eval (store, ids->state, 0, NULL, nargs, args);
    int rc = -1;
    char why[160];
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        if (r && r->type == REDIS_REPLY_ERROR)
            kt_log_error ("risk.lua.error", KT_S ("script", "risk_state"), KT_S ("why", r->str),
                          KT_END);
        goto out;
    }
    if (changed)
        *changed = r->element[0]->type == REDIS_REPLY_STRING
                   && strcmp (r->element[0]->str, "1") == 0;
    if (risk_view_parse (r->element[1], view, why, sizeof why) != 0) {
        kt_log_error ("risk.view.bad", KT_S ("why", why), KT_END);
        goto out;
    }
    rc = 0;
out:
    if (r)
        freeReplyObject (r);
    return rc;
}

static void
s_i64 (char *buf, size_t len, int64_t x)
{
    snprintf (buf, len, "%lld", (long long) x);
}

int
risk_state_roll (kt_store_t *store, const struct risk_scripts *ids, const struct risk_cfg *cfg,
                 int64_t now_ns, int64_t unrealised, bool startup, const char *src,
                 struct risk_view *view)
{
    char now[24], day[16], wk[24], initial[24], unreal[24];
    s_i64 (now, sizeof now, now_ns);
    snprintf (day, sizeof day, "%d", kt_ist_yyyymmdd (now_ns));
    s_i64 (wk, sizeof wk, kt_ist_week_start (now_ns));
    s_i64 (initial, sizeof initial, cfg->capital);
    s_i64 (unreal, sizeof unreal, unrealised);
    const char *args[] = { kt_store_prefix (store), "roll", now, src, day, wk, initial, unreal,
                           startup? "1": "0" };
    return s_run (store, ids, 9, args, NULL, view);
}

int
risk_state_halt (kt_store_t *store, const struct risk_scripts *ids, kt_reason_t code,
                 const char *text, int64_t now_ns, const char *src, bool *halted,
                 struct risk_view *view)
{
    char now[24];
    s_i64 (now, sizeof now, now_ns);
    const char *scope = risk_breaker_is_day_scoped (code)? "day": "manual";
    const char *args[] = { kt_store_prefix (store), "halt", now, src, kt_reason_str (code), text,
                           scope };
    return s_run (store, ids, 7, args, halted, view);
}

int
risk_state_activate (kt_store_t *store, const struct risk_scripts *ids, int64_t since_ns,
                     int64_t now_ns, const char *src, bool *changed, struct risk_view *view)
{
    char now[24], since[24];
    s_i64 (now, sizeof now, now_ns);
    s_i64 (since, sizeof since, since_ns);
    const char *args[] = { kt_store_prefix (store), "activate", now, src, since };
    return s_run (store, ids, 5, args, changed, view);
}

int
risk_state_session (kt_store_t *store, const struct risk_scripts *ids, bool ok, int64_t now_ns,
                    struct risk_view *view)
{
    char now[24];
    s_i64 (now, sizeof now, now_ns);
    const char *args[] = { kt_store_prefix (store), "session", now, "", ok? "1": "0" };
    return s_run (store, ids, 5, args, NULL, view);
}

int
risk_state_mark (kt_store_t *store, const struct risk_scripts *ids, int64_t now_ns,
                 int64_t unrealised, risk_price_fn *price, void *arg, struct risk_view *view)
{
    //  Fixed storage: 8 base args + 3 per position of the current view.
    enum { BASE = 8, MAXARGS = BASE + 3 * RISK_POS_MAX };
    const char *args[MAXARGS];
    char nums[MAXARGS][24];
    int n = 0;
    char minute[8];
    snprintf (minute, sizeof minute, "%d", risk_pnl_minute (now_ns));
    args[n++] = kt_store_prefix (store);
    args[n++] = "mark";
    s_i64 (nums[n], 24, now_ns);
    args[n] = nums[n];
    n++;
    args[n++] = "";
    args[n++] = minute;
    s_i64 (nums[n], 24, risk_pnl_day (view, unrealised));
    args[n] = nums[n];
    n++;
    s_i64 (nums[n], 24, unrealised);
    args[n] = nums[n];
    n++;
    s_i64 (nums[n], 24, risk_pnl_equity (view, unrealised));
    args[n] = nums[n];
    n++;
    for (int i = 0; i < view->npos && n + 3 <= MAXARGS; i++) {
        int64_t px, ts;
        if (!price || !price (arg, view->pos[i].sym, &px, &ts) || px <= 0)
            continue;
        args[n++] = view->pos[i].sym;
        s_i64 (nums[n], 24, px);
        args[n] = nums[n];
        n++;
        s_i64 (nums[n], 24, ts);
        args[n] = nums[n];
        n++;
    }
    //  The symbols point into *view: safe, the arguments are sent before the reply is
    //  parsed over it.
    return s_run (store, ids, n, args, NULL, view);
}
