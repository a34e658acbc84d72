/*  risk_capital - the decision and the account scripts: the account rules in C on the
 *  view, committed with one versioned EVALSHA (risk_tx); the snapshot that reads the
 *  account; the conversion or release of reservations by EXEC_EVENTs (exec); and the
 *  settling of decisions whose outcome is unknown (resolve).
 *
 *  Design overview. Redis holds the truth (keys under the prefix, see docs/risk-gate.md):
 *  risk:state and capital hashes, risk:kill, one risk:pos:<sym> hash per symbol with a
 *  position or a pending entry (set risk:positions), one intent:<id> hash per decided
 *  intent (open reservations in set risk:open), rate windows as lists of ns timestamps
 *  (newest first, trimmed to their limit: only the newest `limit` can decide a limit),
 *  per-minute P&L marks, and the `events` stream. A script runs alone in Redis and the
 *  commit applies only on the account version the rules read, so two risk-gate
 *  instances (or two quick intents) can never both take the last slot.
 *  Numbers cross as decimal strings; Lua numbers are doubles, exact to 2^53, which holds
 *  every paise amount (capital is bounded in risk_cfg) but not ns timestamps: those are
 *  compared as (seconds, nanoseconds) pairs cut from the strings, never as numbers, and
 *  integer divisions go through an exact floor (idiv) matching risk_pnl_muldiv. No rule
 *  runs in Lua: they are risk_check.c's. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "risk.h"

//  Shared by every script: key names, exact helpers and the snapshot.
static const char s_prelude[] =
    "local P = ARGV[1]\n"
    "local function K(s) return P .. s end\n"
    "local function I(x) return string.format('%d', x) end\n"
    "local function num(x) if not x then return 0 end return tonumber(x) or 0 end\n"
    "local function ts_parts(s)\n"
    "  s = tostring(s or '0')\n"
    "  local n = #s\n"
    "  if n <= 9 then return 0, tonumber(s) or 0 end\n"
    "  return tonumber(s:sub(1, n - 9)) or 0, tonumber(s:sub(n - 8)) or 0\n"
    "end\n"
    "-- a > b for ns timestamps: as doubles they are within 256 ns of the truth, so a\n"
    "-- gap wider than 4096 ns is decided by the doubles, a closer one exactly\n"
    "local function ts_gt_n(a, x, b, y)\n"
    "  if x - y > 4096 then return true end\n"
    "  if y - x > 4096 then return false end\n"
    "  local as, an = ts_parts(a)\n"
    "  local bs, bn = ts_parts(b)\n"
    "  return as > bs or (as == bs and an > bn)\n"
    "end\n"
    "local function ts_gt(a, b)\n"
    "  return ts_gt_n(a, tonumber(a) or 0, b, tonumber(b) or 0)\n"
    "end\n"
    "-- newest first: only the newest `limit` can decide a limit of `limit`\n"
    "local function count_after(key, cut, limit)\n"
    "  local n = 0\n"
    "  if limit <= 0 then return 0 end\n"
    "  local y = tonumber(cut) or 0\n"
    "  for _, v in ipairs(redis.call('LRANGE', key, 0, limit - 1)) do\n"
    "    if ts_gt_n(v, tonumber(v) or 0, cut, y) then n = n + 1 end\n"
    "  end\n"
    "  return n\n"
    "end\n"
    "local function idiv(x, d)\n"
    "  local q = math.floor(x / d)\n"
    "  while q * d > x do q = q - 1 end\n"
    "  while (q + 1) * d <= x do q = q + 1 end\n"
    "  return q\n"
    "end\n"
    "local function hgetall(key)\n"
    "  local t = redis.call('HGETALL', key)\n"
    "  local h = {}\n"
    "  for i = 1, #t, 2 do h[t[i]] = t[i + 1] end\n"
    "  return h\n"
    "end\n"
    "-- every change of what the rules read moves the account's version (risk_tx.c)\n"
    "local function bump() redis.call('HINCRBY', K('risk:state'), 'version', 1) end\n"
    "local function event(...)\n"
    "  redis.call('XADD', K('events'), 'MAXLEN', '~', '100000', '*', ...)\n"
    "end\n"
    "local ORD = {'coid', 'sym', 'itype', 'side', 'kind', 'oqty', 'filled', 'unit_cost',\n"
    "             'resv', 'pending', 'answered', 'unresolved', 'sent_ns', 'ts_ns', 'event_ns',\n"
    "             'stop_trigger'}\n"
    "local function snapshot()\n"
    "  local pos = {}\n"
    "  for _, s in ipairs(redis.call('SMEMBERS', K('risk:positions'))) do\n"
    "    local h = redis.call('HGETALL', K('risk:pos:' .. s))\n"
    "    if #h > 0 then pos[#pos + 1] = h end\n"
    "  end\n"
    "  local ord = {}\n"
    "  for _, c in ipairs(redis.call('SMEMBERS', K('risk:open'))) do\n"
    "    ord[#ord + 1] = redis.call('HMGET', K('intent:' .. c), unpack(ORD))\n"
    "  end\n"
    "  return {redis.call('HGETALL', K('risk:state')), redis.call('HGETALL', K('capital')),\n"
    "          redis.call('HGETALL', K('risk:kill')), pos, ord,\n"
    "          redis.call('LRANGE', K('risk:ts:orders'), 0, -1),\n"
    "          redis.call('LRANGE', K('risk:ts:modifies'), 0, -1),\n"
    "          redis.call('LRANGE', K('risk:ts:entries'), 0, -1),\n"
    "          redis.call('LRANGE', K('risk:ts:rejects'), 0, -1),\n"
    "          redis.call('HGETALL', K('risk:marks'))}\n"
    "end\n";

static const char s_snapshot_lua[] = "return snapshot()\n";

//  resolve: ARGV after the prefix: now, intent_id, mode ("refuse" or "sent"), verdict,
//  qty, coid, TTL, instance name, the number of reasons, then each reason's code and
//  text. Settles a decision whose outcome risk-gate does not know with the answer the
//  caller got (risk_capital_resolve).
enum { V_NOW = 2, V_ID, V_MODE, V_VERDICT, V_QTY, V_COID, V_TTL, V_SRC, V_NREASONS, V_REASONS };

_Static_assert(V_REASONS == 11, "resolve ARGV layout changed: update the Lua indices");

static const char s_resolve_lua[] =
    "local now, id, mode = ARGV[2], ARGV[3], ARGV[4]\n"
    "local st, cap, okey = K('risk:state'), K('capital'), K('risk:open')\n"
    "local ikey = K('intent:' .. id)\n"
    "local O = hgetall(ikey)\n"
    "local held = redis.call('SISMEMBER', okey, id) == 1\n"
    "local res = 1\n"
    "local function record()\n"
    "  local n = num(ARGV[10])\n"
    "  local f = {'verdict', ARGV[5], 'qty', ARGV[6], 'coid', ARGV[7], 'nreasons', I(n),\n"
    "             'state', redis.call('HGET', st, 'state') or ''}\n"
    "  for j = 1, n do\n"
    "    f[#f + 1] = 'code' .. j; f[#f + 1] = ARGV[9 + 2 * j]\n"
    "    f[#f + 1] = 'text' .. j; f[#f + 1] = ARGV[10 + 2 * j]\n"
    "  end\n"
    "  redis.call('HSET', ikey, unpack(f))\n"
    "  for j = n + 1, 8 do redis.call('HDEL', ikey, 'code' .. j, 'text' .. j) end\n"
    "  if not O.ts_ns then redis.call('HSET', ikey, 'ts_ns', now) end\n"
    "end\n"
    "if mode == 'sent' then\n"
    "  if held then\n"
    "    if num(O.sent_ns) ~= 0 then return {'0', snapshot()} end\n"
    "    -- the script's quantity may differ from the one decided without it\n"
    "    local q = num(ARGV[6])\n"
    "    if O.kind == 'exit' and O.sym and q ~= num(O.oqty) then\n"
    "      local pkey = K('risk:pos:' .. O.sym)\n"
    "      local left = num(redis.call('HGET', pkey, 'exiting')) + q - num(O.oqty)\n"
    "      if redis.call('EXISTS', pkey) == 1 then\n"
    "        redis.call('HSET', pkey, 'exiting', I(math.max(left, 0)))\n"
    "      end\n"
    "      redis.call('HSET', ikey, 'oqty', I(q))\n"
    "    end\n"
    "    record()\n"
    "    redis.call('HSET', ikey, 'sent_ns', now)\n"
    "    bump()\n"
    "  else\n"
    "    record()\n"
    "    redis.call('EXPIRE', ikey, ARGV[8])\n"
    "  end\n"
    "  return {I(res), snapshot()}\n"
    "end\n"
    "-- refuse: never what was sent\n"
    "if held and num(O.sent_ns) ~= 0 then return {'-1', snapshot()} end\n"
    "if not held and (O.verdict == 'BLOCK' or O.verdict == 'HALT') then\n"
    "  return {'0', snapshot()}\n"
    "end\n"
    "if held then\n"
    "  res = 2\n"
    "  local r = num(O.resv)\n"
    "  if r ~= 0 then redis.call('HINCRBY', cap, 'reserved', I(-r)) end\n"
    "  local pkey = K('risk:pos:' .. (O.sym or ''))\n"
    "  if O.kind == 'exit' then\n"
    "    local rest = num(O.oqty) - num(O.filled)\n"
    "    local left = num(redis.call('HGET', pkey, 'exiting'))\n"
    "    if rest > 0 and redis.call('EXISTS', pkey) == 1 then\n"
    "      redis.call('HSET', pkey, 'exiting', I(math.max(left - rest, 0)))\n"
    "    end\n"
    "  end\n"
    "  if O.pending == '1' then\n"
    "    redis.call('HINCRBY', pkey, 'pending', -1)\n"
    "    redis.call('HINCRBY', st, 'units_total', -1)\n"
    "    if O.itype == 'CE' then redis.call('HINCRBY', st, 'units_ce', -1)\n"
    "    elseif O.itype == 'PE' then redis.call('HINCRBY', st, 'units_pe', -1) end\n"
    "  end\n"
    "  redis.call('HSET', ikey, 'resv', '0', 'pending', '0', 'status', 'refused')\n"
    "  redis.call('SREM', okey, id)\n"
    "  local pp = redis.call('HMGET', pkey, 'qty', 'pending', 'sym', 'exiting')\n"
    "  if pp[3] and num(pp[1]) == 0 and num(pp[2]) <= 0 and num(pp[4]) <= 0 then\n"
    "    redis.call('DEL', pkey)\n"
    "    redis.call('SREM', K('risk:positions'), pp[3])\n"
    "  end\n"
    "end\n"
    "record()\n"
    "bump()\n"
    "redis.call('EXPIRE', ikey, ARGV[8])\n"
    "event('type', 'risk.refused', 'intent_id', id, 'reason', ARGV[11] or '',\n"
    "      'released', held and '1' or '0', 'src', ARGV[9])\n"
    "return {I(res), snapshot()}\n";

//  exec: ARGV after the prefix.
enum {
    X_NOW = 2,
    X_COID,
    X_SYM,
    X_ITYPE,
    X_EVENT,
    X_SIDE,
    X_FILLED,
    X_LAST_QTY,
    X_LAST_PX,
    X_AVG_PX,
    X_SHORT_UNIT,
    X_COUNT_REJ,
    X_TTL,
    X_LIST_CAP,
    X_SRC,
    X_COUNT
};

_Static_assert(RISK_TS_MAX == 512, "exec script trims risk:ts:entries to RISK_TS_MAX");

static const char s_exec_lua[] =
    "local now, coid, sym, itype, ev, side = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],\n"
    "                                         ARGV[7]\n"
    "local st, cap, okey = K('risk:state'), K('capital'), K('risk:open')\n"
    "local ikey = K('intent:' .. coid)\n"
    "local ours = redis.call('SISMEMBER', okey, coid) == 1\n"
    "local O = {}\n"
    "if ours then\n"
    "  O = hgetall(ikey)\n"
    "  if sym == '' then sym = O.sym or '' end\n"
    "  redis.call('HSET', ikey, 'answered', '1', 'event_ns', now)\n"
    "end\n"
    "local changed, closed, tpnl, rejc = 0, 0, 0, 0\n"
    "local function units(it, d)\n"
    "  if d == 0 then return end\n"
    "  redis.call('HINCRBY', st, 'units_total', d)\n"
    "  if it == 'CE' then redis.call('HINCRBY', st, 'units_ce', d)\n"
    "  elseif it == 'PE' then redis.call('HINCRBY', st, 'units_pe', d) end\n"
    "end\n"
    "local pkey = K('risk:pos:' .. sym)\n"
    "local fkey = K('risk:fills')\n"
    "local fq = num(ARGV[8])\n"
    "local prev = redis.call('HGET', fkey, coid)\n"
    "local aq, av = 0, 0\n"
    "if prev then\n"
    "  local a, b = string.match(prev, '^(%-?%d+),(%-?%d+)$')\n"
    "  aq, av = num(a), num(b)\n"
    "end\n"
    "local delta = fq - aq\n"
    "if delta > 0 and sym ~= '' and (side == 'BUY' or side == 'SELL') then\n"
    "  local lq, lp, ap = num(ARGV[9]), num(ARGV[10]), num(ARGV[11])\n"
    "  local value\n"
    "  if delta == lq and lp > 0 then value = delta * lp\n"
    "  elseif ap > 0 then\n"
    "    value = ap * fq - av\n"
    "    if value <= 0 then value = delta * ap end\n"
    "  else value = delta * lp end\n"
    "  redis.call('HSET', fkey, coid, I(fq) .. ',' .. I(av + value))\n"
    "  changed = 1\n"
    "  if redis.call('EXISTS', pkey) == 0 then\n"
    "    redis.call('HSET', pkey, 'sym', sym, 'itype', itype, 'qty', '0', 'basis', '0',\n"
    "               'cost', '0', 'pending', '0', 'realised', '0', 'trade_pnl', '0')\n"
    "    redis.call('SADD', K('risk:positions'), sym)\n"
    "  end\n"
    "  local Pp = hgetall(pkey)\n"
    "  local q, basis, pcost, pend = num(Pp.qty), num(Pp.basis), num(Pp.cost), num(Pp.pending)\n"
    "  local it = Pp.itype or itype\n"
    "  local s = 1\n"
    "  if side == 'SELL' then s = -1 end\n"
    "  local ud = 0\n"
    "  -- a trade is an entry that filled: TRADES_DAY / TRADES_HOUR count its first fill\n"
    "  if ours and O.kind == 'entry' and aq == 0 then\n"
    "    redis.call('HINCRBY', st, 'trades_day', 1)\n"
    "    redis.call('LPUSH', K('risk:ts:entries'), now)\n"
    "    redis.call('LTRIM', K('risk:ts:entries'), 0, 511) -- RISK_TS_MAX\n"
    "  end\n"
    "  if ours and O.pending == '1' then\n"
    "    pend = pend - 1\n"
    "    ud = ud - 1\n"
    "    redis.call('HSET', ikey, 'pending', '0')\n"
    "    O.pending = '0'\n"
    "  end\n"
    "  -- the reservation converts in proportion to the fill; a short then deploys exactly\n"
    "  -- what it had reserved, a buy what it paid (at most its limit, within the reserve)\n"
    "  local r = 0\n"
    "  if ours and num(O.resv) > 0 then\n"
    "    local open_before = num(O.oqty) - aq\n"
    "    if open_before <= delta then r = num(O.resv)\n"
    "    else r = idiv(num(O.resv) * delta, open_before) end\n"
    "  end\n"
    "  local ushort = num(ARGV[12]) * delta\n"
    "  if ours and r > 0 then ushort = r end\n"
    "  local cost_before = pcost\n"
    "  local realised = 0\n"
    "  local tp = num(Pp.trade_pnl)\n"
    "  if q == 0 or (q > 0) == (s > 0) then\n"
    "    if q == 0 then ud = ud + 1; tp = 0; redis.call('HSET', pkey, 'opened_ns', now) end\n"
    "    basis = basis + value\n"
    "    if s < 0 then pcost = pcost + ushort else pcost = pcost + value end\n"
    "    q = q + s * delta\n"
    "  else\n"
    "    local aq2 = math.abs(q)\n"
    "    local cq = math.min(delta, aq2)\n"
    "    local bc = idiv(basis * cq, aq2)\n"
    "    local cc = idiv(pcost * cq, aq2)\n"
    "    local cv = value\n"
    "    if cq ~= delta then cv = idiv(value * cq, delta) end\n"
    "    if q > 0 then realised = cv - bc else realised = bc - cv end\n"
    "    basis = basis - bc\n"
    "    pcost = pcost - cc\n"
    "    q = q + s * cq\n"
    "    tp = tp + realised\n"
    "    if q == 0 then\n"
    "      closed = 1\n"
    "      tpnl = tp\n"
    "      ud = ud - 1\n"
    "      if tp < 0 then redis.call('HINCRBY', st, 'consec_losses', 1)\n"
    "      else redis.call('HSET', st, 'consec_losses', '0') end\n"
    "    end\n"
    "    local rest = delta - cq\n"
    "    if rest > 0 then\n"
    "      q = s * rest\n"
    "      basis = value - cv\n"
    "      if s < 0 then pcost = idiv(ushort * rest, delta) else pcost = value - cv end\n"
    "      ud = ud + 1\n"
    "      tp = 0\n"
    "      redis.call('HSET', pkey, 'opened_ns', now)\n"
    "    end\n"
    "    redis.call('HINCRBY', st, 'realised_day', I(realised))\n"
    "    redis.call('HINCRBY', st, 'realised_week', I(realised))\n"
    "    redis.call('HINCRBY', cap, 'realised_total', I(realised))\n"
    "    redis.call('HINCRBY', pkey, 'realised', I(realised))\n"
    "  end\n"
    "  local avg = 0\n"
    "  if q ~= 0 then avg = idiv(basis, math.abs(q)) end\n"
    "  redis.call('HSET', pkey, 'qty', I(q), 'basis', I(basis), 'cost', I(pcost),\n"
    "             'pending', I(pend), 'trade_pnl', I(tp), 'avg_px', I(avg))\n"
    "  redis.call('HINCRBY', cap, 'deployed', I(pcost - cost_before))\n"
    "  units(it, ud)\n"
    "  if ours and O.kind == 'exit' then\n"
    "    local left = num(redis.call('HGET', pkey, 'exiting'))\n"
    "    redis.call('HSET', pkey, 'exiting', I(math.max(left - delta, 0)))\n"
    "  end\n"
    "  if ours then\n"
    "    redis.call('HSET', ikey, 'resv', I(num(O.resv) - r), 'filled', I(fq))\n"
    "    O.resv = I(num(O.resv) - r)\n"
    "    O.filled = I(fq)\n"
    "    redis.call('HINCRBY', cap, 'reserved', I(-r))\n"
    "  end\n"
    "  event('type', 'risk.fill', 'coid', coid, 'sym', sym, 'side', side, 'qty', I(delta),\n"
    "        'value', I(value), 'realised', I(realised), 'pos', I(q), 'src', ARGV[16])\n"
    "end\n"
    "if (ev == 'FILLED' or ev == 'CANCELLED' or ev == 'REJECTED' or ev == 'EXPIRED')\n"
    "   and redis.call('HSETNX', K('risk:done'), coid, ev) == 1 then\n"
    "  changed = 1\n"
    "  if ours then\n"
    "    local r = num(O.resv)\n"
    "    if r ~= 0 then redis.call('HINCRBY', cap, 'reserved', I(-r)) end\n"
    "    if O.kind == 'exit' then\n"
    "      local ppkey = K('risk:pos:' .. (O.sym or sym))\n"
    "      local rest = num(O.oqty) - num(O.filled)\n"
    "      local left = num(redis.call('HGET', ppkey, 'exiting'))\n"
    "      if rest > 0 and redis.call('EXISTS', ppkey) == 1 then\n"
    "        redis.call('HSET', ppkey, 'exiting', I(math.max(left - rest, 0)))\n"
    "      end\n"
    "      pkey = ppkey\n"
    "    end\n"
    "    if O.pending == '1' then\n"
    "      local ppkey = K('risk:pos:' .. (O.sym or sym))\n"
    "      redis.call('HINCRBY', ppkey, 'pending', -1)\n"
    "      units(O.itype or '', -1)\n"
    "      pkey = ppkey\n"
    "    end\n"
    "    redis.call('HSET', ikey, 'resv', '0', 'pending', '0', 'status', string.lower(ev))\n"
    "    redis.call('SREM', okey, coid)\n"
    "    redis.call('EXPIRE', ikey, ARGV[14])\n"
    "  end\n"
    "  if ev == 'REJECTED' and ARGV[13] == '1' and ours and O.kind == 'entry' then\n"
    "    redis.call('LPUSH', K('risk:ts:rejects'), now)\n"
    "    redis.call('LTRIM', K('risk:ts:rejects'), 0, num(ARGV[15]) - 1)\n"
    "    rejc = 1\n"
    "  end\n"
    "end\n"
    "if pkey ~= K('risk:pos:') then\n"
    "  local pp = redis.call('HMGET', pkey, 'qty', 'pending', 'sym', 'exiting')\n"
    "  if pp[3] and num(pp[1]) == 0 and num(pp[2]) <= 0 and num(pp[4]) <= 0 then\n"
    "    redis.call('DEL', pkey)\n"
    "    redis.call('SREM', K('risk:positions'), pp[3])\n"
    "  end\n"
    "end\n"
    "if changed == 1 then bump() end\n"
    "return {I(changed), I(closed), I(tpnl), I(rejc), snapshot()}\n";

// ---- argument vectors -------------------------------------------------------------------

#define S_ARG_LEN 48

//  Fixed argument storage: numbers printed into slots, strings borrowed.
struct s_args {
    const char *v[64];
    char num[64][S_ARG_LEN];
    int n;
};

static void
s_set (struct s_args *a, int i, const char *s)
{
    a->v[i - 1] = s ? s : "";
    if (i > a->n)
        a->n = i;
}

static void
s_seti (struct s_args *a, int i, int64_t x)
{
    snprintf (a->num[i - 1], S_ARG_LEN, "%lld", (long long) x);
    s_set (a, i, a->num[i - 1]);
}

static char *
s_build (const char *body)
{
    size_t n = strlen (s_prelude) + strlen (body) + 1;
    char *s = malloc (n);
    if (!s)
        abort ();
    snprintf (s, n, "%s%s", s_prelude, body);
    return s;
}

int
risk_capital_register (kt_store_t *store, struct risk_scripts *ids)
{
    const char *bodies[4] = {s_snapshot_lua, risk_tx_lua, s_exec_lua, s_resolve_lua};
    const char *names[4] = {"risk_snapshot", "risk_commit", "risk_exec", "risk_resolve"};
    int out[4];
    for (int i = 0; i < 4; i++) {
        char *lua = s_build (bodies[i]);
        out[i] = kt_store_script (store, names[i], lua);
        free (lua);
        if (out[i] < 0)
            return -1;
    }
    ids->snapshot = out[0];
    ids->commit = out[1];
    ids->exec = out[2];
    ids->resolve = out[3];
    return 0;
}

//  Reply sanity: NULL (transport) and error replies both mean "not done".
static bool
s_reply_ok (kt_store_t *store, redisReply *r, char *why, size_t whylen)
{
    if (!r) {
        snprintf (why, whylen, "redis: %s", kt_store_errstr (store));
        return false;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf (why, whylen, "redis script: %.*s", (int) (r->len < 200 ? r->len : 200), r->str);
        return false;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf (why, whylen, "redis script: unexpected reply type %d", r->type);
        return false;
    }
    return true;
}

int
risk_capital_snapshot (kt_store_t *store, const struct risk_scripts *ids, struct risk_view *view,
                       char *why, size_t whylen)
{
    const char *args[] = {kt_store_prefix (store)};
    redisReply *r = kt_store_eval (store, ids->snapshot, 0, NULL, 1, args);
    int rc = -1;
    if (s_reply_ok (store, r, why, whylen))
        rc = risk_view_parse (r, view, why, whylen);
    if (r)
        freeReplyObject (r);
    return rc;
}

static const char *
s_itype_str (kt_itype_t t)
{
    return t == KT_ITYPE_CE    ? "CE"
           : t == KT_ITYPE_PE  ? "PE"
           : t == KT_ITYPE_FUT ? "FUT"
           : t == KT_ITYPE_EQ  ? "EQ"
                               : "OTHER";
}

static const char *
s_str_el (const redisReply *r, size_t i)
{
    return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "";
}

int
risk_capital_decide (kt_store_t *store, const struct risk_scripts *ids, const struct risk_cfg *cfg,
                     const struct risk_decide_req *req, struct risk_view *view, struct risk_tx *tx,
                     struct risk_decided *out, char *why, size_t whylen)
{
    const struct kt_intent *in = req->intent;
    struct risk_reserve_req rr = {in, req->coid, req->itype, req->now_ns, req->src};
    int redecided = 0;
    for (int attempt = 0; attempt < RISK_DECIDE_TRIES; attempt++, redecided++) {
        if (!view->loaded || view->overflow) {
            snprintf (why, whylen, "%s",
                      view->overflow ? "book larger than risk-gate holds" : "account not loaded");
            return -2;
        }
        risk_kind_t kind = risk_check_kind (view, in);
        bool entry = kind == RISK_KIND_ENTRY || kind == RISK_KIND_MODIFY_ENTRY;
        struct risk_result res = entry ? *req->as_entry : *req->as_reduce;
        res.kind = kind;
        risk_check_account (view, cfg, in, req->itype, req->now_ns, req->unrealised, &res);
        risk_tx_begin (tx, kt_store_prefix (store), view->version, entry ? view->kill : -1,
                       in->intent_id);
        risk_reserve_build (view, cfg, &rr, &res, tx, false, out);
        risk_tx_flags (tx, false, true); //  the writes move the version themselves
        struct risk_tx_dup dup;
        risk_tx_rc_t rc = risk_tx_commit (store, ids->commit, tx, view, &dup, why, whylen);
        if (rc == RISK_TX_OK) {
            risk_reserve_build (view, cfg, &rr, &res, NULL, true, out);
            out->redecided = redecided;
            return 0;
        }
        if (rc == RISK_TX_STALE)
            continue; //  the account moved: decide again on what it is now
        if (rc == RISK_TX_FAIL)
            return -1;
        memset (out, 0, sizeof *out);
        out->duplicate = true;
        out->verdict = kt_verdict_parse (dup.verdict);
        out->qty = dup.qty;
        out->nreasons = dup.nreasons;
        for (int i = 0; i < dup.nreasons; i++) {
            out->reasons[i].code = dup.reasons[i].code;
            out->reasons[i].outcome = dup.reasons[i].outcome;
            snprintf (out->reasons[i].text, sizeof out->reasons[i].text, "%s", dup.reasons[i].text);
        }
        out->state = kt_state_parse (dup.state);
        snprintf (out->coid, sizeof out->coid, "%s", dup.coid);
        out->kind = risk_kind_parse (dup.kind);
        if (out->verdict == KT_VERDICT_NONE) {
            snprintf (why, whylen, "decide: stored verdict '%s' unknown", dup.verdict);
            return -1;
        }
        return 0;
    }
    snprintf (why, whylen, "the account changed under %d decisions in a row", RISK_DECIDE_TRIES);
    return -2;
}

int
risk_capital_apply_exec (kt_store_t *store, const struct risk_scripts *ids,
                         const struct risk_cfg *cfg, const struct kt_exec_event *ev,
                         kt_itype_t itype, int64_t short_unit, bool count_reject, int64_t now_ns,
                         const char *src, struct risk_applied *out, struct risk_view *view,
                         char *why, size_t whylen)
{
    struct s_args a;
    memset (&a, 0, sizeof a);
    s_set (&a, 1, kt_store_prefix (store));
    s_seti (&a, X_NOW, now_ns);
    s_set (&a, X_COID, ev->coid);
    s_set (&a, X_SYM, ev->sym);
    s_set (&a, X_ITYPE, s_itype_str (itype));
    s_set (&a, X_EVENT, kt_exec_kind_str (ev->event));
    s_set (&a, X_SIDE, ev->side == KT_SIDE_NONE ? "" : kt_side_str (ev->side));
    s_seti (&a, X_FILLED, ev->filled_qty);
    s_seti (&a, X_LAST_QTY, ev->last_qty);
    s_seti (&a, X_LAST_PX, ev->last_px);
    s_seti (&a, X_AVG_PX, ev->avg_px);
    s_seti (&a, X_SHORT_UNIT, short_unit);
    s_set (&a, X_COUNT_REJ, count_reject ? "1" : "0");
    s_seti (&a, X_TTL, cfg->intent_ttl_s);
    s_seti (&a, X_LIST_CAP, cfg->max_rejects > 0 ? cfg->max_rejects : 1);
    s_set (&a, X_SRC, src);
    redisReply *r = kt_store_eval (store, ids->exec, 0, NULL, a.n, a.v);
    int rc = -1;
    if (!s_reply_ok (store, r, why, whylen))
        goto out;
    if (r->elements != 5) {
        snprintf (why, whylen, "exec: expected 5 elements, got %zu", r->elements);
        goto out;
    }
    memset (out, 0, sizeof *out);
    out->changed = strcmp (s_str_el (r, 0), "1") == 0;
    out->trade_closed = strcmp (s_str_el (r, 1), "1") == 0;
    out->trade_pnl = strtoll (s_str_el (r, 2), NULL, 10);
    out->reject_counted = strcmp (s_str_el (r, 3), "1") == 0;
    rc = risk_view_parse (r->element[4], view, why, whylen);
out:
    if (r)
        freeReplyObject (r);
    return rc;
}

int
risk_capital_mark_sent (kt_store_t *store, const char *coid, int64_t now_ns)
{
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_risk_intent, coid);
    redisReply *r = kt_store_cmd (store, "HSET %s sent_ns %lld", key.s, (long long) now_ns);
    int rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (r)
        freeReplyObject (r);
    return rc;
}

int
risk_capital_resolve (kt_store_t *store, const struct risk_scripts *ids, const struct risk_cfg *cfg,
                      const char *intent_id, const struct risk_decided *d, int64_t now_ns,
                      const char *src, int *result, struct risk_view *view, char *why,
                      size_t whylen)
{
    struct s_args a;
    memset (&a, 0, sizeof a);
    bool sent = d->verdict == KT_VERDICT_APPROVE || d->verdict == KT_VERDICT_REDUCE;
    s_set (&a, 1, kt_store_prefix (store));
    s_seti (&a, V_NOW, now_ns);
    s_set (&a, V_ID, intent_id);
    s_set (&a, V_MODE, sent ? "sent" : "refuse");
    s_set (&a, V_VERDICT, kt_verdict_str (d->verdict));
    s_seti (&a, V_QTY, sent ? d->qty : 0);
    s_set (&a, V_COID, sent ? d->coid : "");
    s_seti (&a, V_TTL, cfg->intent_ttl_s);
    s_set (&a, V_SRC, src);
    int n = d->nreasons < KT_REASONS_MAX ? d->nreasons : KT_REASONS_MAX;
    s_seti (&a, V_NREASONS, n);
    for (int i = 0; i < n; i++) {
        s_set (&a, V_REASONS + 2 * i, kt_reason_str (d->reasons[i].code));
        s_set (&a, V_REASONS + 2 * i + 1, d->reasons[i].text);
    }
    redisReply *r = kt_store_eval (store, ids->resolve, 0, NULL, a.n, a.v);
    int rc = -1;
    if (!s_reply_ok (store, r, why, whylen))
        goto out;
    if (r->elements != 2) {
        snprintf (why, whylen, "resolve: expected 2 elements, got %zu", r->elements);
        goto out;
    }
    *result = (int) strtol (s_str_el (r, 0), NULL, 10);
    rc = risk_view_parse (r->element[1], view, why, whylen);
out:
    if (r)
        freeReplyObject (r);
    return rc;
}

int
risk_capital_mark_unresolved (kt_store_t *store, const char *coid)
{
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), &kt_key_risk_intent, coid);
    struct kt_skey open = kt_schema_key (kt_store_prefix (store), &kt_key_risk_open, NULL);
    //  Only while the reservation is open: a late mark must not resurrect a closed one.
    redisReply *r = kt_store_cmd (store, "EVAL %s 2 %s %s %s",
                                  "if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then "
                                  "redis.call('HSET', KEYS[1], 'unresolved', '1') return 1 end "
                                  "return 0",
                                  key.s, open.s, coid);
    int rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (r)
        freeReplyObject (r);
    return rc;
}
