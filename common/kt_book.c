/*  kt_book - the order and position book: declarations, scripts, readers.
 *
 *  Lua numbers are doubles: every product below stays under 2^53 for option orders
 *  (qty <= 1,800 per order x price <= Rs 50,000 = 5,000,000 paise x a reduction of at
 *  most 1,800 units is 1.6e13), and the divisions are floored exactly (s_div in Lua
 *  corrects the double quotient), so positions keep every paise. */

#include "kt_book.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const s_status_names[] = {"",          "PENDING_SUBMIT", "UNRESOLVED",
                                             "OPEN",      "PARTIAL",        "FILLED",
                                             "CANCELLED", "REJECTED",       "EXPIRED"};
#define S_NSTATUS ((int) (sizeof s_status_names / sizeof s_status_names[0]))

const char *
kt_ord_status_str (kt_ord_status_t v)
{
    return (int) v > 0 && (int) v < S_NSTATUS ? s_status_names[v] : "?";
}

kt_ord_status_t
kt_ord_status_parse (const char *s)
{
    for (int i = 1; i < S_NSTATUS; i++)
        if (strcmp (s, s_status_names[i]) == 0)
            return (kt_ord_status_t) i;
    return KT_OS_NONE;
}

bool
kt_ord_status_is_final (kt_ord_status_t v)
{
    return v == KT_OS_FILLED || v == KT_OS_CANCELLED || v == KT_OS_REJECTED || v == KT_OS_EXPIRED;
}

kt_exec_kind_t
kt_ord_status_exec_kind (kt_ord_status_t v)
{
    switch (v) {
        case KT_OS_PENDING_SUBMIT:
            return KT_EXEC_SUBMITTED;
        case KT_OS_UNRESOLVED:
            return KT_EXEC_UNRESOLVED;
        case KT_OS_OPEN:
            return KT_EXEC_ACCEPTED;
        case KT_OS_PARTIAL:
            return KT_EXEC_PARTIAL;
        case KT_OS_FILLED:
            return KT_EXEC_FILLED;
        case KT_OS_CANCELLED:
            return KT_EXEC_CANCELLED;
        case KT_OS_REJECTED:
            return KT_EXEC_REJECTED;
        case KT_OS_EXPIRED:
            return KT_EXEC_EXPIRED;
        default:
            return KT_EXEC_NONE;
    }
}

//  int-typed adapters for the field tables.
#define S_ENUM(name, type)                                                                         \
    static const char *s_##name##_s (int v)                                                        \
    {                                                                                              \
        return name##_str ((type) v);                                                              \
    }                                                                                              \
    static int s_##name##_p (const char *s)                                                        \
    {                                                                                              \
        return (int) name##_parse (s);                                                             \
    }
S_ENUM (kt_side, kt_side_t)
S_ENUM (kt_order_type, kt_order_type_t)
S_ENUM (kt_product, kt_product_t)
S_ENUM (kt_purpose, kt_purpose_t)
S_ENUM (kt_ord_status, kt_ord_status_t)

#define S_STR(rec, f, doc)                                                                         \
    {                                                                                              \
#f, KT_SF_STR, offsetof(rec, f), sizeof((rec *) 0)->f, NULL, NULL, doc                     \
    }
#define S_I64(rec, f, doc)                                                                         \
    {                                                                                              \
#f, KT_SF_I64, offsetof(rec, f), sizeof(int64_t), NULL, NULL, doc                          \
    }
#define S_ENM(rec, f, e, doc)                                                                      \
    {                                                                                              \
#f, KT_SF_ENUM, offsetof(rec, f), sizeof(int), s_##e##_s, s_##e##_p, doc                   \
    }

static const kt_schema_field_t s_order_fields[] = {
    S_STR (struct kt_order_rec, coid, "client order id, sent as the Kite tag"),
    S_STR (struct kt_order_rec, intent_id, "the approved intent"),
    S_STR (struct kt_order_rec, parent, "entry coid of an attached stop, else empty"),
    S_STR (struct kt_order_rec, replaces,
           "an entry replacing a pending one: that one's coid, else empty"),
    S_STR (struct kt_order_rec, broker_id, "Kite order_id once known"),
    S_STR (struct kt_order_rec, sym, "tradingsymbol"),
    S_I64 (struct kt_order_rec, token, "instrument token"),
    S_ENM (struct kt_order_rec, side, kt_side, "BUY / SELL"),
    S_ENM (struct kt_order_rec, order_type, kt_order_type, "MARKET / LIMIT / SL / SL-M"),
    S_ENM (struct kt_order_rec, product, kt_product, "MIS / NRML"),
    S_ENM (struct kt_order_rec, purpose, kt_purpose, "ENTRY / EXIT / STOP / ..."),
    S_I64 (struct kt_order_rec, qty, "units ordered (after modifications)"),
    S_I64 (struct kt_order_rec, price, "limit price, paise"),
    S_I64 (struct kt_order_rec, trigger, "trigger price, paise"),
    S_I64 (struct kt_order_rec, stop_trigger, "attached stop trigger of an entry, paise"),
    S_I64 (struct kt_order_rec, stop_price, "attached stop limit of an entry, paise"),
    S_I64 (struct kt_order_rec, r_value, "paise at risk of an entry"),
    S_ENM (
        struct kt_order_rec, status, kt_ord_status,
        "PENDING_SUBMIT / UNRESOLVED / OPEN / PARTIAL / FILLED / CANCELLED / REJECTED / EXPIRED"),
    S_STR (struct kt_order_rec, broker_status, "Kite's status word as last seen"),
    S_I64 (struct kt_order_rec, filled_qty, "units filled"),
    S_I64 (struct kt_order_rec, fill_value, "sum of fill qty x price, paise x units"),
    S_I64 (struct kt_order_rec, avg_px, "average fill price, paise (half up)"),
    S_STR (struct kt_order_rec, reason, "reject or cancel reason"),
    S_STR (struct kt_order_rec, exit_reason,
           "STOP / TARGET_DAY / LOSS_DAY / TIME / MANUAL / RECONCILED"),
    S_I64 (struct kt_order_rec, created_ns, "recorded, ns"),
    S_I64 (struct kt_order_rec, updated_ns, "last change, ns"),
    KT_SF_END};

static const kt_schema_field_t s_pos_fields[] = {
    S_STR (struct kt_pos_rec, sym, "tradingsymbol"),
    S_I64 (struct kt_pos_rec, token, "instrument token"),
    S_I64 (struct kt_pos_rec, qty, "signed units: negative = short"),
    S_I64 (struct kt_pos_rec, open_value, "cost of the open quantity, paise x units"),
    S_I64 (struct kt_pos_rec, avg_px, "average open price, paise (half up)"),
    S_I64 (struct kt_pos_rec, realised, "realised P&L of this symbol, paise"),
    S_I64 (struct kt_pos_rec, stop_px, "trigger of the protecting stop, paise (0 = none)"),
    S_I64 (struct kt_pos_rec, r_value, "paise at risk when opened"),
    S_STR (struct kt_pos_rec, entry_coid, "the entry that opened it"),
    S_STR (struct kt_pos_rec, last_entry_coid,
           "the newest entry that opened or added to it (its stop is checked at start)"),
    S_STR (struct kt_pos_rec, stop_coid, "the stop order protecting it"),
    S_STR (struct kt_pos_rec, exit_reason, "reason of the last reduction"),
    S_I64 (struct kt_pos_rec, opened_ns, "opened, ns"),
    S_I64 (struct kt_pos_rec, updated_ns, "last change, ns"),
    S_I64 (struct kt_pos_rec, trade_realised,
           "realised P&L of the round trip (opened from flat), paise; kept after it closes"),
    S_I64 (struct kt_pos_rec, trades_closed, "round trips closed in this symbol"),
    KT_SF_END};

static const kt_schema_field_t s_book_fields[] = {
    S_I64 (struct kt_book_rec, ver, "bumped by every order or fill change"),
    S_I64 (struct kt_book_rec, realised, "realised P&L since the book began, paise"),
    S_I64 (struct kt_book_rec, fills, "fills applied"),
    S_I64 (struct kt_book_rec, updated_ns, "last change, ns"),
    S_I64 (struct kt_book_rec, trades_closed, "round trips closed, account-wide"),
    S_I64 (struct kt_book_rec, last_trade_realised,
           "realised P&L of the last round trip closed, paise"),
    S_I64 (struct kt_book_rec, losing_streak, "round trips closed at a loss in a row"),
    KT_SF_END};

const kt_schema_key_t kt_key_order = {
    "order:%s",     "order:<coid>",  KT_SK_HASH,
    "exec-gateway", KT_LIFE_DURABLE, "one order of ours: intent, broker id, status, fills",
    s_order_fields};
const kt_schema_key_t kt_key_order_trades = {
    "order:%s:trades",
    "order:<coid>:trades",
    KT_SK_SET,
    "exec-gateway",
    KT_LIFE_DURABLE,
    "broker trade ids applied to the order (fills are applied once)",
    NULL};
const kt_schema_key_t kt_key_orders_open = {
    "orders:open",
    "orders:open",
    KT_SK_SET,
    "exec-gateway",
    KT_LIFE_DURABLE,
    "coids of orders not yet final (incl. PENDING_SUBMIT and UNRESOLVED)",
    NULL};
const kt_schema_key_t kt_key_pos = {
    "pos:%s",       "pos:<sym>",     KT_SK_HASH,
    "exec-gateway", KT_LIFE_DURABLE, "the position in one instrument (the only position book)",
    s_pos_fields};
const kt_schema_key_t kt_key_positions = {"positions",
                                          "positions",
                                          KT_SK_SET,
                                          "exec-gateway",
                                          KT_LIFE_DURABLE,
                                          "symbols with a non-zero position",
                                          NULL};
const kt_schema_key_t kt_key_book = {"book",          "book",
                                     KT_SK_HASH,      "exec-gateway",
                                     KT_LIFE_DURABLE, "book version and account realised P&L",
                                     s_book_fields};

//  Shared Lua: exact floor division of non-negative integers held in doubles, and the
//  events stream append.
#define S_LUA_COMMON                                                                               \
    "local function div(x, a)\n"                                                                   \
    "  local k = math.floor(x / a)\n"                                                              \
    "  while k * a > x do k = k - 1 end\n"                                                         \
    "  while (k + 1) * a <= x do k = k + 1 end\n"                                                  \
    "  return k\n"                                                                                 \
    "end\n"                                                                                        \
    "local function I(x) return string.format('%d', x) end\n"                                      \
    "local function ev(key, ...)\n"                                                                \
    "  redis.call('XADD', key, 'MAXLEN', '~', '100000', '*', ...)\n"                               \
    "end\n"

//  KEYS: order, orders:open, book, events. ARGV: prefix, now, final (1/0), pairs...
static const char s_lua_create[] = S_LUA_COMMON
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  return {0, redis.call('HGETALL', KEYS[1])}\n"
    "end\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 4))\n"
    "local o = redis.call('HMGET', KEYS[1], 'coid', 'sym', 'side', 'qty', 'order_type',\n"
    "  'price', 'trigger', 'purpose', 'status', 'parent', 'intent_id')\n"
    "if ARGV[3] ~= '1' then redis.call('SADD', KEYS[2], o[1]) end\n"
    "if o[8] == 'STOP' and o[10] ~= '' then\n"
    "  local pk = ARGV[1] .. 'pos:' .. o[2]\n"
    "  redis.call('HSET', pk, 'sym', o[2], 'stop_coid', o[1], 'stop_px', o[7])\n"
    "end\n"
    "local ver = redis.call('HINCRBY', KEYS[3], 'ver', 1)\n"
    "redis.call('HSET', KEYS[3], 'updated_ns', ARGV[2])\n"
    "ev(KEYS[4], 'type', 'order', 'coid', o[1], 'intent_id', o[11], 'sym', o[2], 'side', o[3],\n"
    "  'qty', o[4], 'order_type', o[5], 'price', o[6], 'trigger', o[7], 'purpose', o[8],\n"
    "  'status', o[9], 'parent', o[10])\n"
    "return {1, ver}\n";

//  KEYS: order, orders:open, book, events. ARGV: prefix, now, final (1/0), pairs...
static const char s_lua_update[] = S_LUA_COMMON
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  return redis.error_reply('ERR unknown order')\n"
    "end\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 4))\n"
    "local o = redis.call('HMGET', KEYS[1], 'coid', 'sym', 'status', 'broker_status',\n"
    "  'broker_id', 'qty', 'price', 'trigger', 'filled_qty', 'reason', 'purpose')\n"
    "if ARGV[3] == '1' then\n"
    "  redis.call('SREM', KEYS[2], o[1])\n"
    "  if o[11] == 'STOP' then\n"
    "    local pk = ARGV[1] .. 'pos:' .. o[2]\n"
    "    if redis.call('HGET', pk, 'stop_coid') == o[1] then\n"
    "      redis.call('HSET', pk, 'stop_coid', '', 'stop_px', '0')\n"
    "    end\n"
    "  end\n"
    "else\n"
    "  redis.call('SADD', KEYS[2], o[1])\n"
    "  if o[11] == 'STOP' then\n"
    "    local pk = ARGV[1] .. 'pos:' .. o[2]\n"
    "    if redis.call('HGET', pk, 'stop_coid') == o[1] then\n"
    "      redis.call('HSET', pk, 'stop_px', o[8])\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local ver = redis.call('HINCRBY', KEYS[3], 'ver', 1)\n"
    "redis.call('HSET', KEYS[3], 'updated_ns', ARGV[2])\n"
    "ev(KEYS[4], 'type', 'order', 'coid', o[1], 'sym', o[2], 'status', o[3],\n"
    "  'broker_status', o[4], 'broker_id', o[5], 'qty', o[6], 'price', o[7], 'trigger', o[8],\n"
    "  'filled_qty', o[9], 'reason', o[10])\n"
    "return ver\n";

//  KEYS: order, order trades, orders:open, positions, book, events.
//  ARGV: prefix, trade_id, qty, price, ts.
static const char s_lua_fill[] = S_LUA_COMMON
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  return redis.error_reply('ERR unknown order')\n"
    "end\n"
    "local o = redis.call('HMGET', KEYS[1], 'coid', 'sym', 'token', 'side', 'qty',\n"
    "  'filled_qty', 'fill_value', 'purpose', 'r_value', 'stop_trigger', 'exit_reason',\n"
    "  'status')\n"
    "local q, px, ts = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]\n"
    "local oqty, filled, fv = tonumber(o[5]) or 0, tonumber(o[6]) or 0, tonumber(o[7]) or 0\n"
    "local status = o[12]\n"
    "if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then\n"
    "  local pq = tonumber(redis.call('HGET', ARGV[1] .. 'pos:' .. o[2], 'qty')) or 0\n"
    "  local ver = tonumber(redis.call('HGET', KEYS[5], 'ver')) or 0\n"
    "  local avg = filled > 0 and div(2 * fv + filled, 2 * filled) or 0\n"
    "  return {1, status, I(filled), I(avg), I(pq), '0', I(ver), 0, '0'}\n"
    "end\n"
    "if o[4] ~= 'BUY' and o[4] ~= 'SELL' then\n"
    "  return redis.error_reply('ERR order has no side')\n"
    "end\n"
    "if filled + q > oqty then\n"
    "  return redis.error_reply('ERR fill of ' .. I(q) .. ' overfills ' .. I(filled) .. '/' .. "
    "I(oqty))\n"
    "end\n"
    "redis.call('SADD', KEYS[2], ARGV[2])\n"
    "filled = filled + q\n"
    "fv = fv + q * px\n"
    "local avg = div(2 * fv + filled, 2 * filled)\n"
    "if status ~= 'CANCELLED' and status ~= 'EXPIRED' and status ~= 'REJECTED' then\n"
    "  status = (filled == oqty) and 'FILLED' or 'PARTIAL'\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'filled_qty', I(filled), 'fill_value', I(fv),\n"
    "  'avg_px', I(avg), 'status', status, 'updated_ns', ts)\n"
    "if status == 'FILLED' or status == 'CANCELLED' or status == 'EXPIRED' or\n"
    "   status == 'REJECTED' then\n"
    "  redis.call('SREM', KEYS[3], o[1])\n"
    "end\n"
    "local pk = ARGV[1] .. 'pos:' .. o[2]\n"
    "local p = redis.call('HMGET', pk, 'qty', 'open_value', 'realised', 'r_value',\n"
    "  'entry_coid', 'opened_ns', 'stop_px', 'exit_reason', 'trade_realised', 'trades_closed',\n"
    "  'last_entry_coid')\n"
    "local tr, tc = tonumber(p[9]) or 0, tonumber(p[10]) or 0\n"
    "local closed, closed_pnl = 0, 0\n"
    "local pq, ov, real = tonumber(p[1]) or 0, tonumber(p[2]) or 0, tonumber(p[3]) or 0\n"
    "local pr, entry, opened = tonumber(p[4]) or 0, p[5] or '', p[6] or '0'\n"
    "local stop_px, why = p[7] or '0', p[8] or ''\n"
    "local is_entry = o[8] == 'ENTRY'\n"
    "local last = p[11] or ''\n"
    "local d = (o[4] == 'BUY') and q or -q\n"
    "local delta = 0\n"
    "local share_r = (oqty > 0) and div((tonumber(o[9]) or 0) * q, oqty) or 0\n"
    "if pq == 0 or (pq > 0) == (d > 0) then\n"
    "  if pq == 0 then\n"
    "    opened, entry, pr, ov, tr = ts, o[1], 0, 0, 0\n"
    "    stop_px = (o[10] and o[10] ~= '') and o[10] or '0'\n"
    "    last = ''\n"
    "  end\n"
    "  if is_entry then last = o[1] end\n"
    "  pq = pq + d\n"
    "  ov = ov + q * px\n"
    "  pr = pr + share_r\n"
    "else\n"
    "  local a = math.abs(pq)\n"
    "  local r = math.min(q, a)\n"
    "  local share = (r == a) and ov or div(ov * r, a)\n"
    "  if pq < 0 then delta = share - r * px else delta = r * px - share end\n"
    "  local rshare = (r == a) and pr or div(pr * r, a)\n"
    "  ov, pr = ov - share, pr - rshare\n"
    "  pq = pq + ((d > 0) and r or -r)\n"
    "  tr = tr + delta\n"
    "  if pq == 0 then\n"
    "    -- one round trip closed: counted once, with its P&L (CONSEC_LOSS reads these)\n"
    "    closed, closed_pnl, tc = 1, tr, tc + 1\n"
    "  end\n"
    "  why = (o[11] ~= nil and o[11] ~= '') and o[11] or o[8]\n"
    "  local rest = q - r\n"
    "  if rest > 0 then\n"
    "    pq = (d > 0) and rest or -rest\n"
    "    ov, pr, opened, entry, tr = rest * px, 0, ts, o[1], 0\n"
    "    last = is_entry and o[1] or ''\n"
    "  end\n"
    "  if pq == 0 then stop_px, last = '0', '' end\n"
    "end\n"
    "real = real + delta\n"
    "local pavg = (pq ~= 0) and div(2 * ov + math.abs(pq), 2 * math.abs(pq)) or 0\n"
    "redis.call('HSET', pk, 'sym', o[2], 'token', o[3], 'qty', I(pq), 'open_value', I(ov),\n"
    "  'avg_px', I(pavg), 'realised', I(real), 'r_value', I(pr), 'entry_coid', entry,\n"
    "  'opened_ns', opened, 'updated_ns', ts, 'stop_px', stop_px, 'exit_reason', why,\n"
    "  'trade_realised', I(tr), 'trades_closed', I(tc), 'last_entry_coid', last)\n"
    "if pq ~= 0 then\n"
    "  redis.call('SADD', KEYS[4], o[2])\n"
    "else\n"
    "  redis.call('SREM', KEYS[4], o[2])\n"
    "  redis.call('HSET', pk, 'stop_coid', '')\n"
    "end\n"
    "local ver = redis.call('HINCRBY', KEYS[5], 'ver', 1)\n"
    "redis.call('HINCRBY', KEYS[5], 'realised', I(delta))\n"
    "redis.call('HINCRBY', KEYS[5], 'fills', 1)\n"
    "redis.call('HSET', KEYS[5], 'updated_ns', ts)\n"
    "if closed == 1 then\n"
    "  redis.call('HINCRBY', KEYS[5], 'trades_closed', 1)\n"
    "  redis.call('HSET', KEYS[5], 'last_trade_realised', I(closed_pnl))\n"
    "  if closed_pnl < 0 then redis.call('HINCRBY', KEYS[5], 'losing_streak', 1)\n"
    "  else redis.call('HSET', KEYS[5], 'losing_streak', '0') end\n"
    "end\n"
    "ev(KEYS[6], 'type', 'fill', 'coid', o[1], 'trade_id', ARGV[2], 'sym', o[2], 'side', o[4],\n"
    "  'qty', I(q), 'price', I(px), 'filled_qty', I(filled), 'status', status,\n"
    "  'pos_qty', I(pq), 'realised_delta', I(delta), 'trade_closed', I(closed),\n"
    "  'trade_realised', I(closed_pnl), 'ts', ts)\n"
    "return {0, status, I(filled), I(avg), I(pq), I(delta), I(ver), closed, I(closed_pnl)}\n";

int
kt_book_register (kt_store_t *store)
{
    if (kt_store_script (store, "book_create", s_lua_create) < 0 ||
        kt_store_script (store, "book_update", s_lua_update) < 0 ||
        kt_store_script (store, "book_fill", s_lua_fill) < 0)
        return -1;
    return 0;
}

//  Registering again returns the same id: callers need no global to remember it.
static int
s_script (kt_store_t *store, const char *name, const char *lua)
{
    return kt_store_script (store, name, lua);
}

static int
s_fail (char *why, size_t whylen, const char *what, kt_store_t *store, kt_store_result_t *r)
{
    if (r->kind == KT_STORE_ERR)
        snprintf (why, whylen, "%s: %.*s", what, (int) r->len, r->str);
    else if (r->kind == KT_STORE_DOWN)
        snprintf (why, whylen, "%s: Redis unavailable: %s", what, kt_store_errstr (store));
    else
        snprintf (why, whylen, "%s: unexpected reply", what);
    kt_store_result_free (r);
    return -1;
}

//  Parse a flat [field, value, ...] reply into rec. Returns 0 or -1 (why).
static int
s_parse_hash (const kt_schema_key_t *k, const kt_store_result_t *r, void *rec, char *why,
              size_t whylen)
{
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        kt_store_result_t f = kt_store_result_at (r, i), v = kt_store_result_at (r, i + 1);
        if (f.kind != KT_STORE_STR || v.kind != KT_STORE_STR)
            continue;
        if (kt_schema_set (k, rec, f.str, f.len, v.str, v.len, why, whylen) < 0)
            return -1;
    }
    return 0;
}

//  Build the ARGV of the create/update scripts: prefix, now, final, then pairs.
static int
s_order_argv (kt_store_t *store, const struct kt_order_rec *o, int64_t now_ns,
              struct kt_schema_pairs *pairs, const char **args, char *now, size_t nowlen)
{
    if (kt_schema_pairs (&kt_key_order, o, pairs) < 0)
        return -1;
    snprintf (now, nowlen, "%" PRId64, now_ns);
    args[0] = kt_store_prefix (store);
    args[1] = now;
    args[2] = kt_ord_status_is_final (o->status) ? "1" : "0";
    for (int i = 0; i < 2 * pairs->n; i++)
        args[3 + i] = pairs->argv[i];
    return 3 + 2 * pairs->n;
}

int
kt_book_order_create (kt_store_t *store, const struct kt_order_rec *order, int64_t now_ns,
                      struct kt_order_rec *existing, char *why, size_t whylen)
{
    struct kt_order_rec o = *order;
    o.created_ns = o.updated_ns = now_ns;
    o.filled_qty = o.fill_value = o.avg_px = 0;
    struct kt_schema_pairs pairs;
    const char *args[3 + 2 * KT_SCHEMA_FIELDS_MAX];
    char now[24];
    int nargs = s_order_argv (store, &o, now_ns, &pairs, args, now, sizeof now);
    if (nargs < 0) {
        snprintf (why, whylen, "order: too many fields");
        return -1;
    }
    const char *pre = kt_store_prefix (store);
    struct kt_skey k1 = kt_schema_key (pre, &kt_key_order, o.coid);
    struct kt_skey k2 = kt_schema_key (pre, &kt_key_orders_open, NULL);
    struct kt_skey k3 = kt_schema_key (pre, &kt_key_book, NULL);
    struct kt_skey k4 = kt_schema_key (pre, &kt_key_events, NULL);
    const char *keys[] = {k1.s, k2.s, k3.s, k4.s};
    kt_store_result_t r = kt_store_eval_call (store, s_script (store, "book_create", s_lua_create),
                                              4, keys, nargs, args);
    kt_store_result_t e0 = kt_store_result_at (&r, 0), e1 = kt_store_result_at (&r, 1);
    if (r.kind != KT_STORE_ARR || r.elements != 2 || e0.kind != KT_STORE_INT)
        return s_fail (why, whylen, "order create", store, &r);
    int created = e0.integer == 1;
    int rc = created;
    if (!created && existing) {
        memset (existing, 0, sizeof *existing);
        if (e1.kind != KT_STORE_ARR || s_parse_hash (&kt_key_order, &e1, existing, why, whylen) < 0)
            rc = -1;
    }
    kt_store_result_free (&r);
    return rc;
}

int
kt_book_order_update (kt_store_t *store, const struct kt_order_rec *order, int64_t now_ns,
                      char *why, size_t whylen)
{
    //  Only the state fields: fills belong to kt_book_fill, identity never changes. A
    //  sliced parent has no fills of its own: its totals are its slices', written with its
    //  state (readers of the book, risk-gate first, see what the order filled).
    static const char *const state_fields[] = {
        "status",     "broker_status", "broker_id",  "qty",    "price",
        "trigger",    "stop_trigger",  "stop_price", "reason", "exit_reason",
        "updated_ns", "filled_qty",    "fill_value", "avg_px"};
    size_t nstate = sizeof state_fields / sizeof state_fields[0];
    if (strcmp (order->broker_status, KT_BOOK_SLICED) != 0)
        nstate -= 3;
    struct kt_order_rec o = *order;
    o.updated_ns = now_ns;
    struct kt_schema_pairs all;
    if (kt_schema_pairs (&kt_key_order, &o, &all) < 0) {
        snprintf (why, whylen, "order: too many fields");
        return -1;
    }
    const char *args[3 + 2 * KT_SCHEMA_FIELDS_MAX];
    char now[24];
    snprintf (now, sizeof now, "%" PRId64, now_ns);
    args[0] = kt_store_prefix (store);
    args[1] = now;
    args[2] = kt_ord_status_is_final (o.status) ? "1" : "0";
    int nargs = 3;
    for (int i = 0; i < all.n; i++)
        for (size_t j = 0; j < nstate; j++)
            if (strcmp (all.argv[2 * i], state_fields[j]) == 0) {
                args[nargs++] = all.argv[2 * i];
                args[nargs++] = all.argv[2 * i + 1];
            }
    const char *pre = kt_store_prefix (store);
    struct kt_skey k1 = kt_schema_key (pre, &kt_key_order, o.coid);
    struct kt_skey k2 = kt_schema_key (pre, &kt_key_orders_open, NULL);
    struct kt_skey k3 = kt_schema_key (pre, &kt_key_book, NULL);
    struct kt_skey k4 = kt_schema_key (pre, &kt_key_events, NULL);
    const char *keys[] = {k1.s, k2.s, k3.s, k4.s};
    kt_store_result_t r = kt_store_eval_call (store, s_script (store, "book_update", s_lua_update),
                                              4, keys, nargs, args);
    if (r.kind != KT_STORE_INT)
        return s_fail (why, whylen, "order update", store, &r);
    kt_store_result_free (&r);
    return 0;
}

//  Element i of an array result as an int64 (0 when missing or not a number).
static int64_t
s_i64 (const kt_store_result_t *r, size_t i)
{
    kt_store_result_t e = kt_store_result_at (r, i);
    int64_t v = 0;
    return kt_store_result_i64 (&e, &v) == 0 ? v : 0;
}

int
kt_book_fill (kt_store_t *store, const struct kt_book_fill *fill, struct kt_book_fill_result *res,
              char *why, size_t whylen)
{
    memset (res, 0, sizeof *res);
    if (fill->qty <= 0 || fill->price <= 0 || !fill->trade_id[0] || !fill->coid[0]) {
        snprintf (why, whylen, "fill: coid, trade id, qty > 0 and price > 0 are required");
        return -1;
    }
    char qty[24], px[24], ts[24];
    snprintf (qty, sizeof qty, "%" PRId64, fill->qty);
    snprintf (px, sizeof px, "%" PRId64, fill->price);
    snprintf (ts, sizeof ts, "%" PRId64, fill->ts_ns);
    const char *pre = kt_store_prefix (store);
    struct kt_skey k1 = kt_schema_key (pre, &kt_key_order, fill->coid);
    struct kt_skey k2 = kt_schema_key (pre, &kt_key_order_trades, fill->coid);
    struct kt_skey k3 = kt_schema_key (pre, &kt_key_orders_open, NULL);
    struct kt_skey k4 = kt_schema_key (pre, &kt_key_positions, NULL);
    struct kt_skey k5 = kt_schema_key (pre, &kt_key_book, NULL);
    struct kt_skey k6 = kt_schema_key (pre, &kt_key_events, NULL);
    const char *keys[] = {k1.s, k2.s, k3.s, k4.s, k5.s, k6.s};
    const char *args[] = {pre, fill->trade_id, qty, px, ts};
    kt_store_result_t r =
        kt_store_eval_call (store, s_script (store, "book_fill", s_lua_fill), 6, keys, 5, args);
    if (r.kind != KT_STORE_ARR || r.elements != 9)
        return s_fail (why, whylen, "fill", store, &r);
    res->duplicate = s_i64 (&r, 0) == 1;
    char st[24] = "";
    kt_store_result_t e1 = kt_store_result_at (&r, 1);
    if (e1.kind == KT_STORE_STR)
        snprintf (st, sizeof st, "%.*s", (int) e1.len, e1.str);
    res->status = kt_ord_status_parse (st);
    res->filled_qty = s_i64 (&r, 2);
    res->avg_px = s_i64 (&r, 3);
    res->pos_qty = s_i64 (&r, 4);
    res->realised_delta = s_i64 (&r, 5);
    res->ver = s_i64 (&r, 6);
    res->trade_closed = s_i64 (&r, 7) != 0;
    res->trade_realised = s_i64 (&r, 8);
    kt_store_result_free (&r);
    return 0;
}

//  HGETALL key into rec. Returns 1 found, 0 absent, -1 failure.
static int
s_hgetall (kt_store_t *store, const kt_schema_key_t *k, const char *arg, void *rec, char *why,
           size_t whylen)
{
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), k, arg);
    const char *argv[] = {"HGETALL", key.s};
    kt_store_result_t r = kt_store_call (store, 2, argv, NULL);
    if (r.kind != KT_STORE_ARR)
        return s_fail (why, whylen, key.s, store, &r);
    int rc = r.elements > 0 ? 1 : 0;
    if (rc && s_parse_hash (k, &r, rec, why, whylen) < 0)
        rc = -1;
    kt_store_result_free (&r);
    return rc;
}

int
kt_book_order_get (kt_store_t *store, const char *coid, struct kt_order_rec *out, char *why,
                   size_t whylen)
{
    memset (out, 0, sizeof *out);
    return s_hgetall (store, &kt_key_order, coid, out, why, whylen);
}

int
kt_book_pos_get (kt_store_t *store, const char *sym, struct kt_pos_rec *out, char *why,
                 size_t whylen)
{
    memset (out, 0, sizeof *out);
    int rc = s_hgetall (store, &kt_key_pos, sym, out, why, whylen);
    if (rc == 0)
        snprintf (out->sym, sizeof out->sym, "%s", sym);
    return rc;
}

int
kt_book_get (kt_store_t *store, struct kt_book_rec *out, char *why, size_t whylen)
{
    memset (out, 0, sizeof *out);
    return s_hgetall (store, &kt_key_book, NULL, out, why, whylen) < 0 ? -1 : 0;
}

//  A visitor of one record read from a set's member.
struct s_visit {
    kt_book_order_fn *order_fn;
    kt_book_pos_fn *pos_fn;
    void *arg;
};

//  SMEMBERS set, then read each member's hash with the given key declaration.
static int
s_each (kt_store_t *store, const kt_schema_key_t *set, const kt_schema_key_t *k,
        const struct s_visit *v, int *skipped, char *why, size_t whylen)
{
    struct kt_skey key = kt_schema_key (kt_store_prefix (store), set, NULL);
    const char *argv[] = {"SMEMBERS", key.s};
    kt_store_result_t r = kt_store_call (store, 2, argv, NULL);
    if (r.kind != KT_STORE_ARR)
        return s_fail (why, whylen, key.s, store, &r);
    int visited = 0;
    if (skipped)
        *skipped = 0;
    for (size_t i = 0; i < r.elements; i++) {
        kt_store_result_t m = kt_store_result_at (&r, i);
        union {
            struct kt_order_rec o;
            struct kt_pos_rec p;
        } rec;
        memset (&rec, 0, sizeof rec);
        char w[160];
        int rc = 0;
        if (m.kind == KT_STORE_STR && m.len < KT_SYM_LEN) {
            char one[KT_SYM_LEN];
            snprintf (one, sizeof one, "%.*s", (int) m.len, m.str);
            rc = s_hgetall (store, k, one, &rec, w, sizeof w);
            if (rc < 0 && !kt_store_is_ready (store)) {
                snprintf (why, whylen, "%s", w);
                kt_store_result_free (&r);
                return -1;
            }
        }
        if (rc != 1) {
            if (skipped)
                (*skipped)++;
            continue;
        }
        if (v->order_fn)
            v->order_fn (&rec.o, v->arg);
        else
            v->pos_fn (&rec.p, v->arg);
        visited++;
    }
    kt_store_result_free (&r);
    return visited;
}

int
kt_book_each_open_order (kt_store_t *store, kt_book_order_fn *fn, void *arg, int *skipped,
                         char *why, size_t whylen)
{
    struct s_visit v = {fn, NULL, arg};
    return s_each (store, &kt_key_orders_open, &kt_key_order, &v, skipped, why, whylen);
}

int
kt_book_each_position (kt_store_t *store, kt_book_pos_fn *fn, void *arg, int *skipped, char *why,
                       size_t whylen)
{
    struct s_visit v = {NULL, fn, arg};
    return s_each (store, &kt_key_positions, &kt_key_pos, &v, skipped, why, whylen);
}
