/*  sim_json - kite-sim's responses in Kite's exact JSON shapes and key sets.
 *
 *  Used by sim_http (REST bodies) and sim_ws (order updates). Each builder mirrors one
 *  official fixture (../shared/fixtures/kite/<name>.json; sim_json_test compares keys
 *  and JSON types). Money leaves as rupee text from kt_money_format_json inserted raw,
 *  and integers as decimal text, so no float ever touches a price ("300.1", never
 *  "300.10000000000002"). Times are IST "YYYY-MM-DD HH:MM:SS"; absent ones are null. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

static cJSON *
s_int (int64_t v)
{
    char buf[24];
    snprintf (buf, sizeof buf, "%" PRId64, v);
    return cJSON_CreateRaw (buf);
}

cJSON *
sim_json_money (int64_t paise)
{
    char buf[32];
    if (!kt_money_format_json (paise, buf, sizeof buf))
        snprintf (buf, sizeof buf, "0");
    return cJSON_CreateRaw (buf);
}

cJSON *
sim_json_time (int64_t ts_ns)
{
    if (ts_ns == 0)
        return cJSON_CreateNull ();
    char buf[32];
    kt_ist_format (ts_ns, buf, sizeof buf);
    return cJSON_CreateString (buf);
}

//  String or null for an empty one (Kite's "absent").
static cJSON *
s_str_or_null (const char *s)
{
    return s && *s ? cJSON_CreateString (s) : cJSON_CreateNull ();
}

//  Who placed an order: the user, or the broker itself (ADMINSQF) for its square-off.
static const char *
s_placed_by (const struct sim_order *o, const struct sim_user *u)
{
    return o->placed_by[0] ? o->placed_by : u->user_id;
}

static void
s_add (cJSON *obj, const char *key, cJSON *item)
{
    cJSON_AddItemToObject (obj, key, item);
}

//  Average of value over qty, to the nearest paisa (half away from zero); 0 if qty is 0.
static int64_t
s_avg (int64_t value, int64_t qty)
{
    if (qty == 0)
        return 0;
    if (qty < 0) {
        qty = -qty;
        value = -value;
    }
    int64_t q = value / qty, r = value % qty;
    if (r * 2 >= qty)
        q++;
    else if (r * 2 <= -qty)
        q--;
    return q;
}

const char *
sim_json_exchange (const kt_instr_table_t *instr, uint32_t token)
{
    const struct kt_instr *in = instr ? kt_instr_by_token (instr, token) : NULL;
    return in && in->exchange[0] ? in->exchange : "NFO";
}

static cJSON *
s_strings (const char *const *v)
{
    cJSON *a = cJSON_CreateArray ();
    for (int i = 0; v[i]; i++)
        cJSON_AddItemToArray (a, cJSON_CreateString (v[i]));
    return a;
}

static const char *const s_exchanges[] = {"NSE", "NFO", NULL};
static const char *const s_products[] = {"MIS", "NRML", NULL};
static const char *const s_order_types[] = {"MARKET", "LIMIT", "SL", "SL-M", NULL};

//  Keys shared by profile and session, in profile.json order.
static void
s_user_keys (cJSON *o, const struct sim_user *u)
{
    char email[96];
    snprintf (email, sizeof email, "%s@kite-sim.local", u->user_id);
    s_add (o, "user_type", cJSON_CreateString ("individual"));
    s_add (o, "email", cJSON_CreateString (email));
    s_add (o, "user_name", cJSON_CreateString (u->user_name));
    s_add (o, "user_shortname", cJSON_CreateString (u->user_name));
    s_add (o, "broker", cJSON_CreateString ("ZERODHA"));
    s_add (o, "exchanges", s_strings (s_exchanges));
    s_add (o, "products", s_strings (s_products));
    s_add (o, "order_types", s_strings (s_order_types));
    s_add (o, "avatar_url", cJSON_CreateNull ());
}

static cJSON *
s_meta (void)
{
    cJSON *meta = cJSON_CreateObject ();
    s_add (meta, "demat_consent", cJSON_CreateString ("physical"));
    return meta;
}

cJSON *
sim_json_profile (const struct sim_user *u)
{
    cJSON *o = cJSON_CreateObject ();
    s_add (o, "user_id", cJSON_CreateString (u->user_id));
    s_user_keys (o, u);
    s_add (o, "meta", s_meta ());
    return o;
}

cJSON *
sim_json_session (const struct sim_user *u, const char *access_token, const char *public_token,
                  int64_t login_ns)
{
    cJSON *o = cJSON_CreateObject ();
    s_user_keys (o, u);
    s_add (o, "user_id", cJSON_CreateString (u->user_id));
    s_add (o, "api_key", cJSON_CreateString (u->api_key));
    s_add (o, "access_token", cJSON_CreateString (access_token));
    s_add (o, "public_token", cJSON_CreateString (public_token));
    s_add (o, "enctoken", cJSON_CreateString (public_token));
    s_add (o, "refresh_token", cJSON_CreateString (""));
    s_add (o, "silo", cJSON_CreateString (""));
    s_add (o, "login_time", sim_json_time (login_ns));
    s_add (o, "meta", s_meta ());
    return o;
}

cJSON *
sim_json_margin_segment (const struct sim_margins *m, bool enabled)
{
    static const struct sim_margins zero;
    if (!m)
        m = &zero;
    cJSON *o = cJSON_CreateObject ();
    s_add (o, "enabled", cJSON_CreateBool (enabled));
    s_add (o, "net", sim_json_money (m->net));
    cJSON *av = cJSON_CreateObject ();
    s_add (av, "adhoc_margin", sim_json_money (0));
    s_add (av, "cash", sim_json_money (m->opening_balance));
    s_add (av, "opening_balance", sim_json_money (m->opening_balance));
    s_add (av, "live_balance", sim_json_money (m->live_balance));
    s_add (av, "collateral", sim_json_money (0));
    s_add (av, "intraday_payin", sim_json_money (0));
    s_add (o, "available", av);
    cJSON *ut = cJSON_CreateObject ();
    s_add (ut, "debits", sim_json_money (m->debits));
    s_add (ut, "exposure", sim_json_money (m->exposure));
    s_add (ut, "m2m_realised", sim_json_money (m->m2m_realised));
    s_add (ut, "m2m_unrealised", sim_json_money (m->m2m_unrealised));
    s_add (ut, "option_premium", sim_json_money (m->option_premium));
    s_add (ut, "payout", sim_json_money (0));
    s_add (ut, "span", sim_json_money (m->span));
    s_add (ut, "holding_sales", sim_json_money (0));
    s_add (ut, "turnover", sim_json_money (0));
    s_add (ut, "liquid_collateral", sim_json_money (0));
    s_add (ut, "stock_collateral", sim_json_money (0));
    s_add (ut, "delivery", sim_json_money (0));
    s_add (o, "utilised", ut);
    return o;
}

cJSON *
sim_json_margins (const struct sim_margins *m)
{
    cJSON *o = cJSON_CreateObject ();
    s_add (o, "equity", sim_json_margin_segment (m, true));
    s_add (o, "commodity", sim_json_margin_segment (NULL, false));
    return o;
}

static bool
s_terminal (const char *status)
{
    return strcmp (status, "COMPLETE") == 0 || strcmp (status, "CANCELLED") == 0 ||
           strcmp (status, "REJECTED") == 0;
}

const char *
sim_json_update_status (const struct sim_order *o)
{
    if (strcmp (o->status, "COMPLETE") == 0)
        return "COMPLETE";
    if (strcmp (o->status, "CANCELLED") == 0)
        return "CANCELLED";
    if (strcmp (o->status, "REJECTED") == 0)
        return "REJECTED";
    if ((strcmp (o->status, "OPEN") == 0 || strcmp (o->status, "TRIGGER PENDING") == 0) &&
        (o->filled > 0 || o->modified))
        return "UPDATE";
    return o->status;
}

static const char *
s_validity (const struct sim_order *o)
{
    return o->validity[0] ? o->validity : "DAY";
}

static const char *
s_variety (const struct sim_order *o)
{
    return o->variety[0] ? o->variety : "regular";
}

//  status_message_raw: the RMS text of a rejection, null otherwise.
static cJSON *
s_message_raw (const struct sim_order *o)
{
    return s_str_or_null (o->status_message_raw);
}

static cJSON *
s_tags (const struct sim_order *o)
{
    cJSON *a = cJSON_CreateArray ();
    if (o->tag[0])
        cJSON_AddItemToArray (a, cJSON_CreateString (o->tag));
    if (o->autoslice_parent[0]) {
        char t[KT_BROKER_LEN + 16];
        snprintf (t, sizeof t, "autoslice:%s", o->autoslice_parent);
        cJSON_AddItemToArray (a, cJSON_CreateString ("autoslice"));
        cJSON_AddItemToArray (a, cJSON_CreateString (t));
    }
    return a;
}

//  pending_quantity as Kite reports it: 0 once the order is terminal.
static int64_t
s_pending (const struct sim_order *o)
{
    return s_terminal (o->status) ? 0 : o->pending;
}

//  The fields an order row and an order update (postback) share.
static void
s_add_order_fields (cJSON *j, const struct sim_order *o, const kt_instr_table_t *instr)
{
    s_add (j, "exchange", cJSON_CreateString (sim_json_exchange (instr, o->token)));
    s_add (j, "tradingsymbol", cJSON_CreateString (o->sym));
    s_add (j, "instrument_token", s_int (o->token));
    s_add (j, "order_type", cJSON_CreateString (kt_order_type_str (o->order_type)));
    s_add (j, "transaction_type", cJSON_CreateString (kt_side_str (o->side)));
    s_add (j, "validity", cJSON_CreateString (s_validity (o)));
    s_add (j, "product", cJSON_CreateString (kt_product_str (o->product)));
    s_add (j, "quantity", s_int (o->qty));
    s_add (j, "disclosed_quantity", s_int (0));
    s_add (j, "price", sim_json_money (o->price));
    s_add (j, "trigger_price", sim_json_money (o->trigger));
    s_add (j, "average_price", sim_json_money (o->avg_price));
    s_add (j, "filled_quantity", s_int (o->filled));
    s_add (j, "pending_quantity", s_int (s_pending (o)));
    s_add (j, "cancelled_quantity", s_int (o->cancelled));
    s_add (j, "market_protection", s_int (o->market_protection));
    s_add (j, "meta", cJSON_CreateObject ());
    s_add (j, "tag", s_str_or_null (o->tag));
}

cJSON *
sim_json_order (const struct sim_order *o, const kt_instr_table_t *instr, const struct sim_user *u)
{
    cJSON *j = cJSON_CreateObject ();
    bool acked = o->exchange_order_id[0] != '\0';
    s_add (j, "account_id", cJSON_CreateString (u->user_id));
    s_add (j, "placed_by", cJSON_CreateString (s_placed_by (o, u)));
    s_add (j, "order_id", cJSON_CreateString (o->order_id));
    s_add (j, "exchange_order_id", s_str_or_null (o->exchange_order_id));
    s_add (j, "parent_order_id", s_str_or_null (o->parent_order_id));
    s_add (j, "status", cJSON_CreateString (o->status));
    s_add (j, "status_message", s_str_or_null (o->status_message));
    s_add (j, "status_message_raw", s_message_raw (o));
    s_add (j, "order_timestamp", sim_json_time (o->updated_ns ? o->updated_ns : o->placed_ns));
    s_add (j, "exchange_update_timestamp", sim_json_time (acked ? o->updated_ns : 0));
    s_add (j, "exchange_timestamp", sim_json_time (acked ? o->exchange_ns : 0));
    s_add (j, "variety", cJSON_CreateString (s_variety (o)));
    s_add (j, "modified", cJSON_CreateBool (o->modified));
    s_add_order_fields (j, o, instr);
    s_add (j, "validity_ttl", s_int (0));
    s_add (j, "tags", s_tags (o));
    s_add (j, "guid", cJSON_CreateNull ());
    return j;
}

cJSON *
sim_json_order_row (const struct sim_order *o, const kt_instr_table_t *instr,
                    const struct sim_user *u)
{
    cJSON *j = cJSON_CreateObject ();
    bool acked = o->exchange_order_id[0] != '\0';
    s_add (j, "average_price", sim_json_money (o->avg_price));
    s_add (j, "cancelled_quantity", s_int (o->cancelled));
    s_add (j, "disclosed_quantity", s_int (0));
    s_add (j, "exchange", cJSON_CreateString (sim_json_exchange (instr, o->token)));
    s_add (j, "exchange_order_id", s_str_or_null (o->exchange_order_id));
    s_add (j, "exchange_timestamp", sim_json_time (acked ? o->exchange_ns : 0));
    s_add (j, "filled_quantity", s_int (o->filled));
    s_add (j, "instrument_token", s_int (o->token));
    s_add (j, "order_id", cJSON_CreateString (o->order_id));
    s_add (j, "order_timestamp", sim_json_time (o->updated_ns ? o->updated_ns : o->placed_ns));
    s_add (j, "order_type", cJSON_CreateString (kt_order_type_str (o->order_type)));
    s_add (j, "parent_order_id", s_str_or_null (o->parent_order_id));
    s_add (j, "pending_quantity", s_int (s_pending (o)));
    s_add (j, "placed_by", cJSON_CreateString (s_placed_by (o, u)));
    s_add (j, "price", sim_json_money (o->price));
    s_add (j, "product", cJSON_CreateString (kt_product_str (o->product)));
    s_add (j, "quantity", s_int (o->qty));
    s_add (j, "status", cJSON_CreateString (o->status));
    s_add (j, "status_message", s_str_or_null (o->status_message));
    s_add (j, "tag", s_str_or_null (o->tag));
    s_add (j, "tradingsymbol", cJSON_CreateString (o->sym));
    s_add (j, "transaction_type", cJSON_CreateString (kt_side_str (o->side)));
    s_add (j, "trigger_price", sim_json_money (o->trigger));
    s_add (j, "validity", cJSON_CreateString (s_validity (o)));
    s_add (j, "variety", cJSON_CreateString (s_variety (o)));
    s_add (j, "modified", cJSON_CreateBool (o->modified));
    return j;
}

cJSON *
sim_json_postback (const struct sim_order *o, const kt_instr_table_t *instr,
                   const struct sim_user *u, const char *api_secret)
{
    char ts[32], sum[65] = "";
    int64_t ord_ns = o->updated_ns ? o->updated_ns : o->placed_ns;
    kt_ist_format (ord_ns, ts, sizeof ts);
    if (api_secret && sim_auth_checksum (o->order_id, ts, api_secret, sum) != 0)
        sum[0] = '\0';
    bool acked = o->exchange_order_id[0] != '\0';
    int64_t unfilled = s_terminal (o->status) ? 0 : o->qty - o->filled - o->cancelled;
    cJSON *j = cJSON_CreateObject ();
    s_add (j, "user_id", cJSON_CreateString (u->user_id));
    s_add (j, "unfilled_quantity", s_int (unfilled < 0 ? 0 : unfilled));
    s_add (j, "app_id", s_int (1));
    s_add (j, "checksum", cJSON_CreateString (sum));
    s_add (j, "placed_by", cJSON_CreateString (s_placed_by (o, u)));
    s_add (j, "order_id", cJSON_CreateString (o->order_id));
    s_add (j, "exchange_order_id", s_str_or_null (o->exchange_order_id));
    s_add (j, "parent_order_id", s_str_or_null (o->parent_order_id));
    s_add (j, "status", cJSON_CreateString (sim_json_update_status (o)));
    s_add (j, "status_message", s_str_or_null (o->status_message));
    s_add (j, "status_message_raw", s_message_raw (o));
    s_add (j, "order_timestamp", sim_json_time (ord_ns));
    s_add (j, "exchange_update_timestamp", sim_json_time (acked ? o->updated_ns : 0));
    s_add (j, "exchange_timestamp", sim_json_time (acked ? o->exchange_ns : 0));
    s_add (j, "variety", cJSON_CreateString (s_variety (o)));
    s_add_order_fields (j, o, instr);
    s_add (j, "guid", cJSON_CreateNull ());
    return j;
}

cJSON *
sim_json_trade (const struct sim_trade *t, const kt_instr_table_t *instr)
{
    char hms[32] = "";
    if (t->order_ns) {
        char full[32];
        kt_ist_format (t->order_ns, full, sizeof full);
        snprintf (hms, sizeof hms, "%s", full + 11); //  trades carry time only
    }
    cJSON *j = cJSON_CreateObject ();
    s_add (j, "trade_id", cJSON_CreateString (t->trade_id));
    s_add (j, "order_id", cJSON_CreateString (t->order_id));
    s_add (j, "exchange", cJSON_CreateString (sim_json_exchange (instr, t->token)));
    s_add (j, "tradingsymbol", cJSON_CreateString (t->sym));
    s_add (j, "instrument_token", s_int (t->token));
    s_add (j, "product", cJSON_CreateString (kt_product_str (t->product)));
    s_add (j, "average_price", sim_json_money (t->price));
    s_add (j, "quantity", s_int (t->qty));
    s_add (j, "exchange_order_id", cJSON_CreateString (t->exchange_order_id));
    s_add (j, "transaction_type", cJSON_CreateString (kt_side_str (t->side)));
    s_add (j, "fill_timestamp", sim_json_time (t->fill_ns));
    s_add (j, "order_timestamp", cJSON_CreateString (hms));
    s_add (j, "exchange_timestamp", sim_json_time (t->fill_ns));
    return j;
}

cJSON *
sim_json_position (const struct sim_position *p, const kt_instr_table_t *instr, bool day)
{
    int64_t qty, overnight, bq, bv, sq, sv, avg, pnl, m2m, realised, unrealised, bm2m, sm2m;
    if (day) {
        qty = p->qty - p->overnight_qty;
        overnight = 0;
        bq = p->day_buy_qty;
        bv = p->day_buy_value;
        sq = p->day_sell_qty;
        sv = p->day_sell_value;
        avg = qty > 0 ? s_avg (bv, bq) : qty < 0 ? s_avg (sv, sq) : 0;
        pnl = sv - bv + qty * p->last_price;
        m2m = pnl;
        unrealised = pnl;
        realised = 0;
        bm2m = bv;
        sm2m = sv;
    } else {
        qty = p->qty;
        overnight = p->overnight_qty;
        bq = p->buy_qty;
        bv = p->buy_value;
        sq = p->sell_qty;
        sv = p->sell_value;
        avg = p->avg_price;
        pnl = p->pnl;
        m2m = p->m2m;
        unrealised = p->unrealised;
        realised = p->realised;
        bm2m = p->buy_m2m;
        sm2m = p->sell_m2m;
    }
    cJSON *j = cJSON_CreateObject ();
    s_add (j, "tradingsymbol", cJSON_CreateString (p->sym));
    s_add (j, "exchange", cJSON_CreateString (sim_json_exchange (instr, p->token)));
    s_add (j, "instrument_token", s_int (p->token));
    s_add (j, "product", cJSON_CreateString (kt_product_str (p->product)));
    s_add (j, "quantity", s_int (qty));
    s_add (j, "overnight_quantity", s_int (overnight));
    s_add (j, "multiplier", s_int (1));
    s_add (j, "average_price", sim_json_money (avg));
    s_add (j, "close_price", sim_json_money (p->close_price));
    s_add (j, "last_price", sim_json_money (p->last_price));
    s_add (j, "value", sim_json_money (sv - bv));
    s_add (j, "pnl", sim_json_money (pnl));
    s_add (j, "m2m", sim_json_money (m2m));
    s_add (j, "unrealised", sim_json_money (unrealised));
    s_add (j, "realised", sim_json_money (realised));
    s_add (j, "buy_quantity", s_int (bq));
    s_add (j, "buy_price", sim_json_money (s_avg (bv, bq)));
    s_add (j, "buy_value", sim_json_money (bv));
    s_add (j, "buy_m2m", sim_json_money (bm2m));
    s_add (j, "sell_quantity", s_int (sq));
    s_add (j, "sell_price", sim_json_money (s_avg (sv, sq)));
    s_add (j, "sell_value", sim_json_money (sv));
    s_add (j, "sell_m2m", sim_json_money (sm2m));
    s_add (j, "day_buy_quantity", s_int (p->day_buy_qty));
    s_add (j, "day_buy_price", sim_json_money (s_avg (p->day_buy_value, p->day_buy_qty)));
    s_add (j, "day_buy_value", sim_json_money (p->day_buy_value));
    s_add (j, "day_sell_quantity", s_int (p->day_sell_qty));
    s_add (j, "day_sell_price", sim_json_money (s_avg (p->day_sell_value, p->day_sell_qty)));
    s_add (j, "day_sell_value", sim_json_money (p->day_sell_value));
    return j;
}

static cJSON *
s_ohlc (const struct sim_quote *q)
{
    cJSON *o = cJSON_CreateObject ();
    s_add (o, "open", sim_json_money (q->o));
    s_add (o, "high", sim_json_money (q->h));
    s_add (o, "low", sim_json_money (q->l));
    s_add (o, "close", sim_json_money (q->c));
    return o;
}

static cJSON *
s_depth_side (const struct sim_quote *q, bool buy, bool empty)
{
    cJSON *a = cJSON_CreateArray ();
    for (int i = 0; i < SIM_DEPTH; i++) {
        int64_t px = 0, qty = 0, orders = 0;
        if (!empty) {
            px = buy ? q->bid[i].px : q->ask[i].px;
            qty = buy ? q->bid[i].qty : q->ask[i].qty;
            orders = buy ? q->bid[i].orders : q->ask[i].orders;
        }
        cJSON *e = cJSON_CreateObject ();
        s_add (e, "price", sim_json_money (px));
        s_add (e, "quantity", s_int (qty));
        s_add (e, "orders", s_int (orders));
        cJSON_AddItemToArray (a, e);
    }
    return a;
}

cJSON *
sim_json_quote (const struct sim_quote *q)
{
    bool index = kt_instr_segment_of (q->token) == 9;
    //  Circuit band: +-40% of the previous close on the 0.05 grid (options have wide
    //  bands); indices have none.
    int64_t band = index ? 0 : q->c * 40 / 100;
    int64_t lower = index ? 0 : kt_money_tick_up (q->c - band > 5 ? q->c - band : 5, 5);
    int64_t upper = index ? 0 : kt_money_tick_down (q->c + band, 5);
    cJSON *j = cJSON_CreateObject ();
    s_add (j, "instrument_token", s_int (q->token));
    s_add (j, "timestamp", sim_json_time (q->exch_ns));
    s_add (j, "last_trade_time", sim_json_time (q->last_trade_ns));
    s_add (j, "last_price", sim_json_money (q->ltp));
    s_add (j, "last_quantity", s_int (q->last_qty));
    s_add (j, "buy_quantity", s_int (q->buy_qty));
    s_add (j, "sell_quantity", s_int (q->sell_qty));
    s_add (j, "volume", s_int (q->volume));
    s_add (j, "average_price", sim_json_money (q->avg_price));
    s_add (j, "oi", s_int (q->oi));
    s_add (j, "oi_day_high", s_int (q->oi_day_high));
    s_add (j, "oi_day_low", s_int (q->oi_day_low));
    s_add (j, "net_change", sim_json_money (q->ltp - q->c));
    s_add (j, "lower_circuit_limit", sim_json_money (lower));
    s_add (j, "upper_circuit_limit", sim_json_money (upper));
    s_add (j, "ohlc", s_ohlc (q));
    cJSON *depth = cJSON_CreateObject ();
    s_add (depth, "buy", s_depth_side (q, true, index));
    s_add (depth, "sell", s_depth_side (q, false, index));
    s_add (j, "depth", depth);
    return j;
}

cJSON *
sim_json_ohlc (const struct sim_quote *q)
{
    cJSON *j = cJSON_CreateObject ();
    s_add (j, "instrument_token", s_int (q->token));
    s_add (j, "last_price", sim_json_money (q->ltp));
    s_add (j, "ohlc", s_ohlc (q));
    return j;
}

cJSON *
sim_json_ltp (const struct sim_quote *q)
{
    cJSON *j = cJSON_CreateObject ();
    s_add (j, "instrument_token", s_int (q->token));
    s_add (j, "last_price", sim_json_money (q->ltp));
    return j;
}

cJSON *
sim_json_candle (const struct sim_candle *c, bool with_oi)
{
    int y, mo, d, hh, mi, ss;
    kt_ist_fields (c->start_ns, &y, &mo, &d, &hh, &mi, &ss, NULL);
    char ts[40];
    snprintf (ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d+0530", y, mo, d, hh, mi, ss);
    cJSON *a = cJSON_CreateArray ();
    cJSON_AddItemToArray (a, cJSON_CreateString (ts));
    cJSON_AddItemToArray (a, sim_json_money (c->o));
    cJSON_AddItemToArray (a, sim_json_money (c->h));
    cJSON_AddItemToArray (a, sim_json_money (c->l));
    cJSON_AddItemToArray (a, sim_json_money (c->c));
    cJSON_AddItemToArray (a, s_int (c->volume));
    if (with_oi)
        cJSON_AddItemToArray (a, s_int (c->oi));
    return a;
}

int
sim_json_error_status (const char *error_type)
{
    static const struct {
        const char *type;
        int status;
    } map[] = {
        {"TokenException", 403},  {"PermissionException", 403}, {"UserException", 403},
        {"TwoFAException", 403},  {"InputException", 400},      {"OrderException", 400},
        {"MarginException", 400}, {"HoldingException", 400},    {"NetworkException", 503},
        {"DataException", 502},   {"GeneralException", 500},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (error_type && strcmp (map[i].type, error_type) == 0)
            return map[i].status;
    return 500;
}

cJSON *
sim_json_place (const char *order_id, const struct sim_child *children, int nchildren)
{
    cJSON *data = cJSON_CreateObject ();
    s_add (data, "order_id", cJSON_CreateString (order_id));
    if (nchildren <= 0)
        return data;
    cJSON *arr = cJSON_CreateArray ();
    for (int i = 0; i < nchildren; i++) {
        const struct sim_child *c = &children[i];
        cJSON *ch = cJSON_CreateObject ();
        if (c->error_type) {
            //  The error envelope's fields, with the HTTP status as `code`.
            cJSON *e = cJSON_CreateObject ();
            s_add (e, "code", s_int (sim_json_error_status (c->error_type)));
            s_add (e, "error_type", cJSON_CreateString (c->error_type));
            s_add (e, "message", cJSON_CreateString (c->message));
            s_add (e, "data", cJSON_CreateNull ());
            s_add (ch, "error", e);
        } else
            s_add (ch, "order_id", cJSON_CreateString (c->order_id));
        cJSON_AddItemToArray (arr, ch);
    }
    s_add (data, "children", arr);
    return data;
}

char *
sim_json_print (cJSON **item_p)
{
    char *text = cJSON_PrintUnformatted (*item_p);
    cJSON_Delete (*item_p);
    *item_p = NULL;
    if (!text)
        abort ();
    return text;
}

char *
sim_json_success (cJSON **data_p)
{
    cJSON *env = cJSON_CreateObject ();
    s_add (env, "status", cJSON_CreateString ("success"));
    s_add (env, "data", *data_p);
    *data_p = NULL;
    return sim_json_print (&env);
}

char *
sim_json_error (const char *message, const char *error_type)
{
    cJSON *env = cJSON_CreateObject ();
    s_add (env, "status", cJSON_CreateString ("error"));
    s_add (env, "message", cJSON_CreateString (message));
    s_add (env, "error_type", cJSON_CreateString (error_type));
    s_add (env, "data", cJSON_CreateNull ());
    return sim_json_print (&env);
}
