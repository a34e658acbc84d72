/*  risk_capital - the capital reservation: the account rules and the reservation of
 *  capital and position slots in ONE Lua script (decide), and the conversion or release
 *  of reservations by EXEC_EVENTs (exec), both run with EVALSHA.
 *
 *  Design overview. Redis holds the truth (keys under the prefix, see docs/risk-gate.md):
 *  risk:state and capital hashes, risk:kill, one risk:pos:<sym> hash per symbol with a
 *  position or a pending entry (set risk:positions), one intent:<id> hash per decided
 *  intent (open reservations in set risk:open), rate windows as lists of ns timestamps
 *  (newest first, trimmed to their limit: only the newest `limit` can decide a limit),
 *  per-minute P&L marks, and the `events` stream. A script runs alone in Redis, so two
 *  risk-gate instances (or two quick intents) can never both take the last slot.
 *  Numbers cross as decimal strings; Lua numbers are doubles, exact to 2^53, which holds
 *  every paise amount (capital is bounded in risk_cfg) but not ns timestamps: those are
 *  compared as (seconds, nanoseconds) pairs cut from the strings, never as numbers, and
 *  integer divisions go through an exact floor (idiv) matching risk_pnl_muldiv. The C
 *  twin of the rules is risk_check.c; the property test holds them to the same answers. */

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
    "local function event(...)\n"
    "  redis.call('XADD', K('events'), 'MAXLEN', '~', '100000', '*', ...)\n"
    "end\n"
    "local ORD = {'coid', 'sym', 'itype', 'side', 'kind', 'oqty', 'filled', 'unit_cost',\n"
    "             'resv', 'pending', 'answered', 'unresolved', 'sent_ns', 'ts_ns'}\n"
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

//  decide: ARGV after the prefix, in this order (risk_capital_decide builds them). The
//  limits travel as one comma list (L[1..16] in the script), the order as one field.
enum {
    A_NOW = 2, A_ID, A_COID, A_SYM, A_ITYPE, A_SIDE, A_PURPOSE, A_REF, A_OQTY,
    A_E_VERDICT, A_E_QTY, A_E_UNIT, A_E_CODES, A_E_TEXTS,
    A_R_VERDICT, A_R_QTY, A_R_CODES, A_R_TEXTS,
    A_UNREAL, A_CUT_1S, A_CUT_HOUR, A_CUT_REJ, A_CUT_SPACING, A_MARK_FROM, A_MARK_TO, A_TTL,
    A_LIMITS, A_STRATEGY, A_ORDER, A_SRC,
    A_COUNT
};

_Static_assert (A_COUNT == 32, "decide ARGV layout changed: update the Lua indices");

static const char s_decide_lua[] =
    "local now, id, coid, sym = ARGV[2], ARGV[3], ARGV[4], ARGV[5]\n"
    "local itype, side, purpose, ref = ARGV[6], ARGV[7], ARGV[8], ARGV[9]\n"
    "local ikey = K('intent:' .. id)\n"
    "if redis.call('HGET', ikey, 'verdict') then\n"
    "  local p = redis.call('HMGET', ikey, 'verdict', 'qty', 'codes', 'texts', 'state', 'coid',\n"
    "      'kind')\n"
    "  return {'DUP', p[1], p[2] or '0', p[3] or '', p[4] or '', p[5] or '', p[6] or '',\n"
    "      p[7] or '', '0'}\n"
    "end\n"
    "local L = {}\n"
    "for v in string.gmatch(ARGV[28], '[^,]+') do L[#L + 1] = tonumber(v) end\n"
    "local RANK = {APPROVE = 1, REDUCE = 2, BLOCK = 3, HALT = 4}\n"
    "local NAME = {'APPROVE', 'REDUCE', 'BLOCK', 'HALT'}\n"
    "local st, cap, okey = K('risk:state'), K('capital'), K('risk:open')\n"
    "-- one read of every state field the rules use\n"
    "local SF = redis.call('HMGET', st, 'state', 'session_ok', 'day_start_equity',\n"
    "  'week_start_equity', 'realised_day', 'realised_week', 'day_start_unrealised',\n"
    "  'week_start_unrealised', 'peak_equity', 'consec_losses', 'trades_day', 'last_entry_ns',\n"
    "  'units_total', 'units_ce', 'units_pe', 'first_mark_min', 'halt_seq')\n"
    "local state = SF[1] or ''\n"
    "local kind = ''\n"
    "if purpose == 'ENTRY' then kind = 'entry'\n"
    "elseif purpose == 'EXIT' or purpose == 'STOP' then kind = 'exit'\n"
    "elseif purpose == 'CANCEL' then kind = 'cancel'\n"
    "elseif purpose == 'FLATTEN' then kind = 'flatten'\n"
    "elseif purpose == 'MODIFY' then\n"
    "  kind = 'modify'\n"
    "  if ref ~= '' and redis.call('SISMEMBER', okey, ref) == 1\n"
    "     and redis.call('HGET', K('intent:' .. ref), 'kind') == 'entry' then\n"
    "    kind = 'modify_entry'\n"
    "  end\n"
    "end\n"
    "local entry = kind == 'entry' or kind == 'modify_entry'\n"
    "local verdict, qty, codes, texts\n"
    "if entry then verdict, qty, codes, texts = ARGV[11], num(ARGV[12]), ARGV[14], ARGV[15]\n"
    "else verdict, qty, codes, texts = ARGV[16], num(ARGV[17]), ARGV[18], ARGV[19] end\n"
    "local unit = num(ARGV[13])\n"
    "local rank = RANK[verdict] or 3\n"
    "local C, T = {}, {}\n"
    "if codes ~= '' then\n"
    "  for c in string.gmatch(codes, '[^,]+') do C[#C + 1] = c end\n"
    "  for t in string.gmatch(texts .. '|', '([^|]*)|') do T[#T + 1] = t end\n"
    "  while #T < #C do T[#T + 1] = '' end\n"
    "  while #T > #C do T[#T] = nil end\n"
    "end\n"
    "local halt_code, halt_text\n"
    "local function add(code, out, text)\n"
    "  if #C < 8 then C[#C + 1] = code; T[#T + 1] = text end\n"
    "  if RANK[out] > rank then rank = RANK[out] end\n"
    "  if out == 'HALT' and not halt_code then halt_code = code; halt_text = text end\n"
    "end\n"
    "local cost = 0\n"
    "local pkey = K('risk:pos:' .. sym)\n"
    "local CF, PP\n"
    "if entry then\n"
    "  local kill = redis.call('HMGET', K('risk:kill'), 'active', 'reason')\n"
    "  if num(kill[1]) ~= 0 then add('KILL', 'HALT', 'kill switch: ' .. (kill[2] or '')) end\n"
    "  if state ~= 'ACTIVE' then\n"
    "    add('STATE', 'BLOCK',\n"
    "        'state ' .. (state == '' and 'UNKNOWN' or state) .. ': entries refused')\n"
    "  end\n"
    "  if SF[2] and num(SF[2]) == 0 then add('SESSION', 'BLOCK', 'broker session invalid') end\n"
    "  CF = redis.call('HMGET', cap, 'initial', 'realised_total', 'reserved', 'deployed')\n"
    "  local unreal = num(ARGV[20])\n"
    "  local equity = num(CF[1]) + num(CF[2]) + unreal\n"
    "  local dse, wse = num(SF[3]), num(SF[4])\n"
    "  local day = num(SF[5]) + unreal - num(SF[7])\n"
    "  local lim = idiv(dse * L[6], 10000)\n"
    "  if lim > 0 and day <= -lim then\n"
    "    add('DAILY_LOSS', 'HALT', string.format('day P&L %d <= -%d', day, lim))\n"
    "  end\n"
    "  local week = num(SF[6]) + unreal - num(SF[8])\n"
    "  lim = idiv(wse * L[7], 10000)\n"
    "  if lim > 0 and week <= -lim then\n"
    "    add('WEEKLY_LOSS', 'HALT', string.format('week P&L %d <= -%d', week, lim))\n"
    "  end\n"
    "  -- the first mark in [now - 60 min, now]: usually the one exactly an hour ago; no\n"
    "  -- mark exists before the day's first (first_mark_min), so the walk starts there\n"
    "  local base, mf, mt = 0, num(ARGV[25]), num(ARGV[26])\n"
    "  local fm = SF[16] and num(SF[16]) or -1\n"
    "  if fm < 0 and redis.call('HLEN', K('risk:marks')) > 0 then fm = 0 end\n"
    "  if mf >= 0 and fm >= 0 then\n"
    "    if fm > mf then mf = fm end\n"
    "    for m = mf, mt do\n"
    "      local v = redis.call('HGET', K('risk:marks'), tostring(m))\n"
    "      if v then base = num(v); break end\n"
    "    end\n"
    "  end\n"
    "  lim = idiv(dse * L[8], 10000)\n"
    "  if lim > 0 and day - base <= -lim then\n"
    "    add('HOURLY_LOSS', 'HALT', string.format('P&L of the last hour %d <= -%d', day - base,\n"
    "        lim))\n"
    "  end\n"
    "  local peak = num(SF[9])\n"
    "  if equity > peak then peak = equity end\n"
    "  local dd = L[9]\n"
    "  if dd > 0 and peak > 0 then\n"
    "    local floor_eq = peak - idiv(peak * dd, 10000)\n"
    "    if equity < floor_eq then\n"
    "      add('DRAWDOWN', 'HALT', string.format('equity %d < %d (peak %d)', equity, floor_eq,\n"
    "          peak))\n"
    "    end\n"
    "  end\n"
    "  local mc = L[10]\n"
    "  if mc > 0 and num(SF[10]) >= mc then\n"
    "    add('CONSEC_LOSS', 'HALT', string.format('%d losing trades in a row (max %d)',\n"
    "        num(SF[10]), mc))\n"
    "  end\n"
    "  local mr = L[11]\n"
    "  if mr > 0 then\n"
    "    local n = count_after(K('risk:ts:rejects'), ARGV[23], mr)\n"
    "    if n >= mr then\n"
    "      add('REJECTS', 'HALT', string.format('%d broker rejections in the window (max %d)',\n"
    "          n, mr))\n"
    "    end\n"
    "  end\n"
    "  if kind == 'entry' then\n"
    "    if num(SF[11]) + 1 > L[12] then\n"
    "      add('TRADES_DAY', 'BLOCK', string.format('entries today %d + 1 > max %d', num(SF[11]),\n"
    "          L[12]))\n"
    "    end\n"
    "    local n = count_after(K('risk:ts:entries'), ARGV[22], L[13])\n"
    "    if n + 1 > L[13] then\n"
    "      add('TRADES_HOUR', 'BLOCK',\n"
    "          string.format('entries in the last hour %d + 1 > max %d', n,\n"
    "          L[13]))\n"
    "    end\n"
    "    if L[14] == 1 and num(SF[12]) > 0 and ts_gt(SF[12], ARGV[24]) then\n"
    "      add('SPACING', 'BLOCK', 'too soon after the last entry')\n"
    "    end\n"
    "  end\n"
    "  local n = count_after(K('risk:ts:orders'), ARGV[21], L[15])\n"
    "  if n + 1 > L[15] then\n"
    "    add('ORDER_RATE', 'BLOCK', string.format('orders in the last second %d + 1 > max %d', n,\n"
    "        L[15]))\n"
    "  elseif kind == 'modify_entry' then\n"
    "    local m = count_after(K('risk:ts:modifies'), ARGV[21], L[16])\n"
    "    if m + 1 > L[16] then\n"
    "      add('ORDER_RATE', 'BLOCK',\n"
    "          string.format('modifications in the last second %d + 1 > max %d',\n"
    "          m, L[16]))\n"
    "    end\n"
    "  end\n"
    "  if kind == 'entry' then\n"
    "    local ut = num(SF[13])\n"
    "    local uty = -1\n"
    "    if itype == 'CE' then uty = num(SF[14]) elseif itype == 'PE' then uty = num(SF[15]) end\n"
    "    PP = redis.call('HMGET', pkey, 'qty', 'pending', 'sym')\n"
    "    local usym = (num(PP[1]) ~= 0 and 1 or 0) + num(PP[2])\n"
    "    if ut + 1 > L[1] then\n"
    "      add('MAX_POS', 'BLOCK', string.format('positions + pending entries %d + 1 > max %d',\n"
    "          ut,\n"
    "          L[1]))\n"
    "    elseif uty >= 0 and uty + 1 > L[2] then\n"
    "      add('MAX_POS', 'BLOCK', string.format('%s positions + pending %d + 1 > max %d',\n"
    "          itype, uty,\n"
    "          L[2]))\n"
    "    elseif usym + 1 > L[3] then\n"
    "      add('MAX_POS', 'BLOCK', string.format('%s positions + pending %d + 1 > max %d', sym,\n"
    "          usym,\n"
    "          L[3]))\n"
    "    end\n"
    "    cost = unit * qty\n"
    "  else\n"
    "    local o = redis.call('HMGET', K('intent:' .. ref), 'filled', 'resv')\n"
    "    local open = qty - num(o[1])\n"
    "    local want = 0\n"
    "    if open > 0 then want = unit * open end\n"
    "    if want > num(o[2]) then cost = want - num(o[2]) end\n"
    "  end\n"
    "  if cost > 0 then\n"
    "    local used = num(CF[3]) + num(CF[4]) + cost\n"
    "    local limit = idiv(equity * L[4], 10000)\n"
    "    if used > limit then\n"
    "      add('DEPLOY', 'BLOCK', string.format('reserved %d + deployed %d + order %d > %d',\n"
    "          num(CF[3]), num(CF[4]), cost, limit))\n"
    "    end\n"
    "    if equity - used < L[5] then\n"
    "      add('MARGIN_BUFFER', 'BLOCK',\n"
    "          string.format('free capital after the order %d < buffer %d',\n"
    "          equity - used, L[5]))\n"
    "    end\n"
    "  end\n"
    "elseif kind == 'exit' then\n"
    "  PP = redis.call('HMGET', pkey, 'qty', 'exiting')\n"
    "  local q, cover = num(PP[1]), num(PP[2])\n"
    "  if q == 0 then\n"
    "    add('BAD_INTENT', 'BLOCK', 'no open position in ' .. sym .. ' to exit')\n"
    "  elseif (q > 0 and side == 'BUY') or (q < 0 and side == 'SELL') then\n"
    "    add('BAD_INTENT', 'BLOCK', string.format('%s would add to the position of %d', side, q))\n"
    "  else\n"
    "    local free = math.abs(q) - cover\n"
    "    if free <= 0 then\n"
    "      add('BAD_INTENT', 'BLOCK',\n"
    "          string.format('pending exits of %d already cover the position of %d',\n"
    "          cover, q))\n"
    "    elseif qty > free then\n"
    "      add('BAD_INTENT', 'REDUCE',\n"
    "          string.format('exit qty %d capped at the uncovered position %d',\n"
    "          qty, free))\n"
    "      qty = free\n"
    "    end\n"
    "  end\n"
    "elseif kind == 'modify' and ref ~= '' and redis.call('SISMEMBER', okey, ref) == 1 then\n"
    "  -- a modified exit may shrink freely, but grow only to what the position leaves\n"
    "  -- after the other open exits (never below its current quantity)\n"
    "  local o = redis.call('HMGET', K('intent:' .. ref), 'kind', 'oqty', 'filled', 'sym')\n"
    "  local oq, fd = num(o[2]), num(o[3])\n"
    "  if o[1] == 'exit' and o[4] and qty > oq then\n"
    "    local pp = redis.call('HMGET', K('risk:pos:' .. o[4]), 'qty', 'exiting')\n"
    "    local q = math.abs(num(pp[1]))\n"
    "    local others = num(pp[2]) - (oq - fd)\n"
    "    local capq = fd + q - others\n"
    "    if capq < oq then capq = oq end\n"
    "    if qty > capq then\n"
    "      add('BAD_INTENT', 'REDUCE',\n"
    "          string.format('modified exit qty %d capped at %d (position %d, other exits %d)',\n"
    "          qty, capq, q, others))\n"
    "      qty = capq\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if rank >= 3 then qty = 0; cost = 0 end\n"
    "local vname = NAME[rank]\n"
    "local halted_now = 0\n"
    "if rank == 4 and state ~= 'HALTED' then\n"
    "  local scope = 'manual'\n"
    "  if halt_code == 'DAILY_LOSS' or halt_code == 'HOURLY_LOSS' or halt_code == 'CONSEC_LOSS'\n"
    "     or halt_code == 'REJECTS' then scope = 'day' end\n"
    "  local why = halt_code .. ': ' .. halt_text\n"
    "  redis.call('HSET', st, 'state', 'HALTED', 'reason', why, 'since_ns', now, 'scope', scope,\n"
    "             'halt_seq', I(num(SF[17]) + 1))\n"
    "  event('type', 'risk.state', 'state', 'HALTED', 'reason', why, 'src', ARGV[31])\n"
    "  state = 'HALTED'\n"
    "  halted_now = 1\n"
    "end\n"
    "local cj, tj = table.concat(C, ','), table.concat(T, '|')\n"
    "local out_coid = ''\n"
    "if rank <= 2 then out_coid = coid end\n"
    "-- the record: the decision (for duplicates) and the order as sent, for a look-up later:\n"
    "-- \"<type> <price> <trigger> <product> <has_stop> <stop_trigger> <stop_price> <r> <qty>\"\n"
    "local rec = {'verdict', vname, 'qty', I(qty), 'codes', cj, 'texts', tj, 'state', state,\n"
    "             'coid', out_coid, 'ts_ns', now, 'kind', kind, 'strategy', ARGV[29], 'sym', sym,\n"
    "             'side', side, 'purpose', purpose, 'ref', ref,\n"
    "             'order', ARGV[30] .. ' ' .. I(qty)}\n"
    "local held = false\n"
    "if rank <= 2 then\n"
    "  redis.call('LPUSH', K('risk:ts:orders'), now)\n"
    "  redis.call('LTRIM', K('risk:ts:orders'), 0, L[15] - 1)\n"
    "  if purpose == 'MODIFY' then\n"
    "    redis.call('LPUSH', K('risk:ts:modifies'), now)\n"
    "    redis.call('LTRIM', K('risk:ts:modifies'), 0, L[16] - 1)\n"
    "  end\n"
    "  if kind == 'entry' or kind == 'exit' then\n"
    "    held = true\n"
    "    local n = #rec\n"
    "    -- absent fields read as 0: filled, answered, unresolved, and sent_ns: risk-gate\n"
    "    -- writes it when it sends the order, so an answer lost after this script ran\n"
    "    -- can never make the sweep send what the caller was told was refused\n"
    "    for _, v in ipairs({'resv', I(cost), 'unit_cost', I(kind == 'entry' and unit or 0),\n"
    "                        'oqty', I(qty), 'pending', kind == 'entry' and '1' or '0',\n"
    "                        'itype', itype}) do\n"
    "      n = n + 1\n"
    "      rec[n] = v\n"
    "    end\n"
    "    redis.call('SADD', okey, id)\n"
    "  end\n"
    "  if kind == 'entry' then\n"
    "    if not PP[3] then\n"
    "      redis.call('HSET', pkey, 'sym', sym, 'itype', itype, 'qty', '0', 'basis', '0',\n"
    "          'cost', '0',\n"
    "                 'pending', '1', 'realised', '0', 'trade_pnl', '0')\n"
    "    else\n"
    "      redis.call('HSET', pkey, 'pending', I(num(PP[2]) + 1))\n"
    "    end\n"
    "    redis.call('SADD', K('risk:positions'), sym)\n"
    "    local uc, up = num(SF[14]), num(SF[15])\n"
    "    if itype == 'CE' then uc = uc + 1 elseif itype == 'PE' then up = up + 1 end\n"
    "    redis.call('HSET', st, 'units_total', I(num(SF[13]) + 1), 'units_ce', I(uc),\n"
    "        'units_pe', I(up),\n"
    "               'trades_day', I(num(SF[11]) + 1), 'last_entry_ns', now)\n"
    "    redis.call('HSET', cap, 'reserved', I(num(CF[3]) + cost))\n"
    "    redis.call('LPUSH', K('risk:ts:entries'), now)\n"
    "    redis.call('LTRIM', K('risk:ts:entries'), 0, L[13] - 1)\n"
    "  elseif kind == 'exit' then\n"
    "    redis.call('HINCRBY', pkey, 'exiting', I(qty))\n"
    "  elseif kind == 'modify_entry' then\n"
    "    local rkey = K('intent:' .. ref)\n"
    "    local o = redis.call('HMGET', rkey, 'resv', 'unit_cost')\n"
    "    local u = num(o[2])\n"
    "    if unit > u then u = unit end\n"
    "    redis.call('HSET', rkey, 'resv', I(num(o[1]) + cost), 'unit_cost', I(u), 'oqty', I(qty))\n"
    "    redis.call('HSET', cap, 'reserved', I(num(CF[3]) + cost))\n"
    "  elseif kind == 'modify' and ref ~= '' and redis.call('SISMEMBER', okey, ref) == 1 then\n"
    "    local rkey = K('intent:' .. ref)\n"
    "    local o = redis.call('HMGET', rkey, 'kind', 'oqty', 'sym')\n"
    "    if o[1] == 'exit' and o[3] then\n"
    "      redis.call('HSET', rkey, 'oqty', I(qty))\n"
    "      redis.call('HINCRBY', K('risk:pos:' .. o[3]), 'exiting', I(qty - num(o[2])))\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', ikey, unpack(rec))\n"
    "if not held then redis.call('EXPIRE', ikey, ARGV[27]) end\n"
    "event('type', 'risk.decision', 'intent_id', id, 'verdict', vname, 'qty', I(qty), 'codes',\n"
    "    cj,\n"
    "      'sym', sym, 'kind', kind, 'src', ARGV[31])\n"
    "return {'NEW', vname, I(qty), cj, tj, state, out_coid, kind, I(halted_now)}\n";

//  resolve: ARGV after the prefix: now, intent_id, mode ("refuse" or "sent"), verdict,
//  qty, codes, texts, coid, TTL, instance name. Settles a decision whose script outcome
//  risk-gate does not know with the answer the caller got (risk_capital_resolve).
enum {
    V_NOW = 2, V_ID, V_MODE, V_VERDICT, V_QTY, V_CODES, V_TEXTS, V_COID, V_TTL, V_SRC,
    V_COUNT
};

_Static_assert (V_COUNT == 12, "resolve ARGV layout changed: update the Lua indices");

static const char s_resolve_lua[] =
    "local now, id, mode = ARGV[2], ARGV[3], ARGV[4]\n"
    "local st, cap, okey = K('risk:state'), K('capital'), K('risk:open')\n"
    "local ikey = K('intent:' .. id)\n"
    "local O = hgetall(ikey)\n"
    "local held = redis.call('SISMEMBER', okey, id) == 1\n"
    "local res = 1\n"
    "local function record()\n"
    "  redis.call('HSET', ikey, 'verdict', ARGV[5], 'qty', ARGV[6], 'codes', ARGV[7],\n"
    "             'texts', ARGV[8], 'coid', ARGV[9],\n"
    "             'state', redis.call('HGET', st, 'state') or '')\n"
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
    "  else\n"
    "    record()\n"
    "    redis.call('EXPIRE', ikey, ARGV[10])\n"
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
    "redis.call('EXPIRE', ikey, ARGV[10])\n"
    "event('type', 'risk.refused', 'intent_id', id, 'codes', ARGV[7], 'texts', ARGV[8],\n"
    "      'released', held and '1' or '0', 'src', ARGV[11])\n"
    "return {I(res), snapshot()}\n";

//  exec: ARGV after the prefix.
enum {
    X_NOW = 2, X_COID, X_SYM, X_ITYPE, X_EVENT, X_SIDE, X_FILLED, X_LAST_QTY, X_LAST_PX,
    X_AVG_PX, X_SHORT_UNIT, X_COUNT_REJ, X_TTL, X_LIST_CAP, X_SRC,
    X_COUNT
};

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
    "  if O.answered ~= '1' then redis.call('HSET', ikey, 'answered', '1') end\n"
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
    "  if ev == 'REJECTED' and ARGV[13] == '1' then\n"
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
    a->v[i - 1] = s? s: "";
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
    const char *bodies[5] = { s_snapshot_lua, s_decide_lua, s_exec_lua, risk_state_lua,
                              s_resolve_lua };
    const char *names[5] = { "risk_snapshot", "risk_decide", "risk_exec", "risk_state",
                             "risk_resolve" };
    int out[5];
    for (int i = 0; i < 5; i++) {
        char *lua = s_build (bodies[i]);
        out[i] = kt_store_script (store, names[i], lua);
        free (lua);
        if (out[i] < 0)
            return -1;
    }
    ids->snapshot = out[0];
    ids->decide = out[1];
    ids->exec = out[2];
    ids->state = out[3];
    ids->resolve = out[4];
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
        snprintf (why, whylen, "redis script: %.*s", (int) (r->len < 200? r->len: 200), r->str);
        return false;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf (why, whylen, "redis script: unexpected reply type %d", r->type);
        return false;
    }
    return true;
}

int
risk_capital_snapshot (kt_store_t *store, const struct risk_scripts *ids,
                       struct risk_view *view, char *why, size_t whylen)
{
    const char *args[] = { kt_store_prefix (store) };
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
    return t == KT_ITYPE_CE? "CE": t == KT_ITYPE_PE? "PE": t == KT_ITYPE_FUT? "FUT"
         : t == KT_ITYPE_EQ? "EQ": "OTHER";
}

static const char *
s_str_el (const redisReply *r, size_t i)
{
    return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING? r->element[i]->str: "";
}

int
risk_capital_decide (kt_store_t *store, const struct risk_scripts *ids,
                     const struct risk_cfg *cfg, const struct risk_decide_req *req,
                     struct risk_decided *out, char *why, size_t whylen)
{
    const struct kt_intent *in = req->intent;
    const struct risk_result *e = req->as_entry, *rd = req->as_reduce;
    struct s_args a;
    memset (&a, 0, sizeof a);
    char e_codes[256], e_texts[1100], r_codes[256], r_texts[1100];
    risk_reply_join_codes (e->reasons, e->nreasons, e_codes, sizeof e_codes);
    risk_reply_join_texts (e->reasons, e->nreasons, e_texts, sizeof e_texts);
    risk_reply_join_codes (rd->reasons, rd->nreasons, r_codes, sizeof r_codes);
    risk_reply_join_texts (rd->reasons, rd->nreasons, r_texts, sizeof r_texts);
    int64_t now = req->now_ns;
    int minute = risk_pnl_minute (now);

    s_set (&a, 1, kt_store_prefix (store));
    s_seti (&a, A_NOW, now);
    s_set (&a, A_ID, in->intent_id);
    s_set (&a, A_COID, req->coid);
    s_set (&a, A_SYM, in->sym);
    s_set (&a, A_ITYPE, s_itype_str (req->itype));
    s_set (&a, A_SIDE, kt_side_str (in->side));
    s_set (&a, A_PURPOSE, kt_purpose_str (in->purpose));
    s_set (&a, A_REF, in->ref);
    s_seti (&a, A_OQTY, in->qty);
    s_set (&a, A_E_VERDICT, kt_verdict_str (e->verdict));
    s_seti (&a, A_E_QTY, e->qty);
    s_seti (&a, A_E_UNIT, e->unit_cost);
    s_set (&a, A_E_CODES, e_codes);
    s_set (&a, A_E_TEXTS, e_texts);
    s_set (&a, A_R_VERDICT, kt_verdict_str (rd->verdict));
    s_seti (&a, A_R_QTY, rd->qty);
    s_set (&a, A_R_CODES, r_codes);
    s_set (&a, A_R_TEXTS, r_texts);
    s_seti (&a, A_UNREAL, req->unrealised);
    s_seti (&a, A_CUT_1S, now - KT_NS_PER_SEC);
    s_seti (&a, A_CUT_HOUR, now - 3600 * KT_NS_PER_SEC);
    s_seti (&a, A_CUT_REJ, now - cfg->reject_window_s * KT_NS_PER_SEC);
    s_seti (&a, A_CUT_SPACING, now - cfg->min_spacing_s * KT_NS_PER_SEC);
    s_seti (&a, A_MARK_FROM, minute - 60);
    s_seti (&a, A_MARK_TO, minute);
    s_seti (&a, A_TTL, cfg->intent_ttl_s);
    char limits[400], order[160];
    snprintf (limits, sizeof limits,
              "%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%d,%lld,%lld",
              (long long) cfg->max_positions, (long long) cfg->max_per_type,
              (long long) cfg->max_per_symbol, (long long) cfg->max_deploy_bps,
              (long long) cfg->margin_buffer, (long long) cfg->max_daily_loss_bps,
              (long long) cfg->max_weekly_loss_bps, (long long) cfg->max_hourly_loss_bps,
              (long long) cfg->max_drawdown_bps, (long long) cfg->max_consec_losses,
              (long long) cfg->max_rejects, (long long) cfg->max_trades_day,
              (long long) cfg->max_trades_hour, cfg->min_spacing_s > 0? 1: 0,
              (long long) cfg->max_orders_per_s, (long long) cfg->max_modifies_per_s);
    s_set (&a, A_LIMITS, limits);
    s_set (&a, A_STRATEGY, in->strategy);
    //  "<type> <price> <trigger> <product> <has_stop> <stop_trigger> <stop_price> <r>";
    //  the script appends the approved qty
    snprintf (order, sizeof order, "%s %lld %lld %s %d %lld %lld %lld",
              in->order_type == KT_OT_NONE? "-": kt_order_type_str (in->order_type),
              (long long) in->price, (long long) in->trigger,
              in->product == KT_PROD_NONE? "-": kt_product_str (in->product), in->has_stop? 1: 0,
              (long long) in->stop_trigger, (long long) in->stop_price, (long long) in->r_value);
    s_set (&a, A_ORDER, order);
    s_set (&a, A_SRC, req->src);

    redisReply *r = kt_store_eval (store, ids->decide, 0, NULL, a.n, a.v);
    int rc = -1;
    if (!s_reply_ok (store, r, why, whylen))
        goto out;
    if (r->elements != 9) {
        snprintf (why, whylen, "decide: expected 9 elements, got %zu", r->elements);
        goto out;
    }
    memset (out, 0, sizeof *out);
    out->duplicate = strcmp (s_str_el (r, 0), "DUP") == 0;
    out->verdict = kt_verdict_parse (s_str_el (r, 1));
    out->qty = strtoll (s_str_el (r, 2), NULL, 10);
    out->nreasons = risk_reply_split (s_str_el (r, 3), s_str_el (r, 4), out->reasons,
                                      KT_REASONS_MAX);
    out->state = kt_state_parse (s_str_el (r, 5));
    snprintf (out->coid, sizeof out->coid, "%s", s_str_el (r, 6));
    out->kind = risk_kind_parse (s_str_el (r, 7));
    out->halted_now = strcmp (s_str_el (r, 8), "1") == 0;
    if (out->verdict == KT_VERDICT_NONE) {
        snprintf (why, whylen, "decide: unknown verdict '%s'", s_str_el (r, 1));
        goto out;
    }
    rc = 0;
out:
    if (r)
        freeReplyObject (r);
    return rc;
}

int
risk_capital_apply_exec (kt_store_t *store, const struct risk_scripts *ids,
                         const struct risk_cfg *cfg, const struct kt_exec_event *ev,
                         kt_itype_t itype, int64_t short_unit, bool count_reject,
                         int64_t now_ns, const char *src, struct risk_applied *out,
                         struct risk_view *view, char *why, size_t whylen)
{
    struct s_args a;
    memset (&a, 0, sizeof a);
    s_set (&a, 1, kt_store_prefix (store));
    s_seti (&a, X_NOW, now_ns);
    s_set (&a, X_COID, ev->coid);
    s_set (&a, X_SYM, ev->sym);
    s_set (&a, X_ITYPE, s_itype_str (itype));
    s_set (&a, X_EVENT, kt_exec_kind_str (ev->event));
    s_set (&a, X_SIDE, ev->side == KT_SIDE_NONE? "": kt_side_str (ev->side));
    s_seti (&a, X_FILLED, ev->filled_qty);
    s_seti (&a, X_LAST_QTY, ev->last_qty);
    s_seti (&a, X_LAST_PX, ev->last_px);
    s_seti (&a, X_AVG_PX, ev->avg_px);
    s_seti (&a, X_SHORT_UNIT, short_unit);
    s_set (&a, X_COUNT_REJ, count_reject? "1": "0");
    s_seti (&a, X_TTL, cfg->intent_ttl_s);
    s_seti (&a, X_LIST_CAP, cfg->max_rejects > 0? cfg->max_rejects: 1);
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
    char key[128];
    kt_store_key (store, key, sizeof key, "intent:%s", coid);
    redisReply *r = kt_store_cmd (store, "HSET %s sent_ns %lld", key, (long long) now_ns);
    int rc = r && r->type == REDIS_REPLY_INTEGER? 0: -1;
    if (r)
        freeReplyObject (r);
    return rc;
}

int
risk_capital_resolve (kt_store_t *store, const struct risk_scripts *ids,
                      const struct risk_cfg *cfg, const char *intent_id,
                      const struct risk_decided *d, int64_t now_ns, const char *src,
                      int *result, struct risk_view *view, char *why, size_t whylen)
{
    struct s_args a;
    memset (&a, 0, sizeof a);
    char codes[256], texts[1100];
    risk_reply_join_codes (d->reasons, d->nreasons, codes, sizeof codes);
    risk_reply_join_texts (d->reasons, d->nreasons, texts, sizeof texts);
    bool sent = d->verdict == KT_VERDICT_APPROVE || d->verdict == KT_VERDICT_REDUCE;
    s_set (&a, 1, kt_store_prefix (store));
    s_seti (&a, V_NOW, now_ns);
    s_set (&a, V_ID, intent_id);
    s_set (&a, V_MODE, sent? "sent": "refuse");
    s_set (&a, V_VERDICT, kt_verdict_str (d->verdict));
    s_seti (&a, V_QTY, sent? d->qty: 0);
    s_set (&a, V_CODES, codes);
    s_set (&a, V_TEXTS, texts);
    s_set (&a, V_COID, sent? d->coid: "");
    s_seti (&a, V_TTL, cfg->intent_ttl_s);
    s_set (&a, V_SRC, src);
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
    char key[128], open[96];
    kt_store_key (store, key, sizeof key, "intent:%s", coid);
    kt_store_key (store, open, sizeof open, "risk:open");
    //  Only while the reservation is open: a late mark must not resurrect a closed one.
    redisReply *r = kt_store_cmd (store, "EVAL %s 2 %s %s %s",
                                  "if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then "
                                  "redis.call('HSET', KEYS[1], 'unresolved', '1') return 1 end "
                                  "return 0",
                                  key, open, coid);
    int rc = r && r->type == REDIS_REPLY_INTEGER? 0: -1;
    if (r)
        freeReplyObject (r);
    return rc;
}
