/*  kt_msg_test - round trips of every message type and every rejection reason of the
 *  decoder: missing keys, wrong types, negative values, long strings, unknown enums,
 *  bad version, truncation at every length, trailing bytes, garbage.
 *
 *  Bodies with a defect are built by re-packing a valid body with one key dropped,
 *  replaced or added, so each case changes exactly one thing. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kt_msg.h"

// ---- builders ------------------------------------------------------------------------

static void
s_env (struct kt_msg *m, kt_msg_type_t type)
{
    memset (m, 0, sizeof *m);
    m->env.v = KT_MSG_VERSION;
    m->env.type = type;
    m->env.seq = (7ull << 32) | 42;
    m->env.ts_ns = 1732500000123456789LL;
    strcpy (m->env.src, "md-gateway");
}

//  Every field of the type set to a distinct non-zero value.
static void
s_fill_all (struct kt_msg *m, kt_msg_type_t type)
{
    s_env (m, type);
    switch (type) {
        case KT_MSG_TICK: {
            struct kt_tick *t = &m->u.tick;
            t->token = 4294967295u;
            strcpy (t->sym, "NIFTY25NOV24000CE");
            t->ltp = 12345;
            t->last_qty = 75;
            t->avg_price = 12000;
            t->volume = 9876543210LL;
            t->buy_qty = 1500;
            t->sell_qty = 2250;
            t->o = 11000;
            t->h = 13000;
            t->l = 10500;
            t->c = 11500;
            t->oi = 4500000;
            t->bid = 12340;
            t->ask = 12350;
            t->bid_qty = 300;
            t->ask_qty = 450;
            t->exch_ts_ns = 1732500000000000000LL;
            t->recv_ts_ns = 1732500000000100000LL;
            break;
        }
        case KT_MSG_BAR: {
            struct kt_bar *b = &m->u.bar;
            b->token = 256265;
            strcpy (b->sym, "NIFTY 50");
            b->start_ns = 1732499940000000000LL;
            b->o = 2400000;
            b->h = 2401000;
            b->l = 2399000;
            b->c = 2400500;
            b->volume = 123456;
            b->vwap = 2400250;
            b->ticks = 321;
            b->final = true;
            break;
        }
        case KT_MSG_MD_STATUS:
            m->u.md_status.connected = true;
            m->u.md_status.subscribed = 42;
            m->u.md_status.last_tick_ts_ns = 1732500000000000000LL;
            m->u.md_status.reconnects = 3;
            break;
        case KT_MSG_ORDER_INTENT: {
            struct kt_intent *i = &m->u.intent;
            strcpy (i->intent_id, "S1-20251124-0007abcd"); //  20 chars, the limit
            strcpy (i->strategy, "baseline_v1");
            strcpy (i->sym, "NIFTY25NOV24000CE");
            i->side = KT_SIDE_SELL;
            i->qty = 150;
            i->order_type = KT_OT_SLM;
            i->price = 12000;
            i->trigger = 11900;
            i->product = KT_PROD_NRML;
            i->purpose = KT_PURPOSE_MODIFY;
            strcpy (i->ref, "C-0001");
            i->has_stop = true;
            i->stop_trigger = 9000;
            i->stop_price = 8900;
            i->r_value = 300000;
            i->reason = KT_EXIT_TARGET_DAY;
            break;
        }
        case KT_MSG_RISK_DECISION: {
            struct kt_decision *d = &m->u.decision;
            strcpy (d->intent_id, "S1-0007");
            d->verdict = KT_VERDICT_REDUCE;
            d->qty = 75;
            d->nreasons = KT_REASONS_MAX;
            for (int i = 0; i < KT_REASONS_MAX; i++) {
                snprintf (d->reasons[i].code, sizeof d->reasons[i].code, "CODE_%d", i);
                snprintf (d->reasons[i].text, sizeof d->reasons[i].text, "reason number %d", i);
            }
            d->state = KT_STATE_REDUCING;
            strcpy (d->coid, "C-0007");
            break;
        }
        case KT_MSG_ORDER_COMMAND: {
            struct kt_order_cmd *c = &m->u.cmd;
            strcpy (c->coid, "C-0007");
            strcpy (c->intent_id, "S1-0007");
            c->action = KT_ACTION_CANCEL_ALL;
            strcpy (c->sym, "NIFTY25NOV24000PE");
            c->side = KT_SIDE_BUY;
            c->qty = 1800;
            c->order_type = KT_OT_LIMIT;
            c->price = 10005;
            c->trigger = 9995;
            c->product = KT_PROD_MIS;
            c->purpose = KT_PURPOSE_FLATTEN;
            strcpy (c->ref, "C-0006");
            c->has_stop = true;
            c->stop_trigger = 7000;
            c->stop_price = 6990;
            c->r_value = 123456;
            c->reason = KT_EXIT_LOSS_DAY;
            break;
        }
        case KT_MSG_EXEC_EVENT: {
            struct kt_exec_event *e = &m->u.exec;
            strcpy (e->coid, "C-0007");
            strcpy (e->intent_id, "S1-0007");
            strcpy (e->broker_id, "1234567890123456789");
            strcpy (e->sym, "NIFTY25NOV24000CE");
            e->event = KT_EXEC_UNRESOLVED;
            e->side = KT_SIDE_SELL;
            e->purpose = KT_PURPOSE_STOP;
            e->qty = 150;
            e->filled_qty = 75;
            e->last_qty = 75;
            e->last_px = 12050;
            e->avg_px = 12025;
            strcpy (e->reason, "RMS: margin exceeds");
            break;
        }
        case KT_MSG_RISK_STATE: {
            struct kt_risk_state *r = &m->u.risk_state;
            r->state = KT_STATE_HALTED;
            strcpy (r->reason, "DAILY_LOSS");
            r->day_pnl = -500000;
            r->realised = -450000;
            r->unrealised = -50000;
            r->equity = 99500000;
            r->open_positions = 2;
            r->max_positions = 3;
            r->max_daily_loss = 500000;
            break;
        }
        case KT_MSG_ALERT:
            m->u.alert.severity = KT_SEV_CRITICAL;
            strcpy (m->u.alert.key, "risk.halt");
            memset (m->u.alert.text, 'x', KT_ALERT_LEN - 1);
            break;
        case KT_MSG_ORDER_UPDATE: {
            struct kt_order_update *u = &m->u.order_update;
            strcpy (u->order_id, "2512080000001234567");
            strcpy (u->exchange_order_id, "1100000012345678");
            strcpy (u->status, "TRIGGER PENDING");
            strcpy (u->status_message, "partly filled");
            strcpy (u->tag, "C-0007");
            strcpy (u->guid, "84176X1234567890");
            strcpy (u->variety, "regular");
            strcpy (u->exchange, "NFO");
            strcpy (u->sym, "NIFTY25NOV24000CE");
            u->token = 12345602;
            strcpy (u->order_type, "SL-M");
            strcpy (u->transaction_type, "SELL");
            strcpy (u->validity, "DAY");
            strcpy (u->product, "MIS");
            u->qty = 150;
            u->price = 0;
            u->trigger = 9995;
            u->avg_price = 10010;
            u->filled_qty = 75;
            u->pending_qty = 75;
            u->unfilled_qty = 75;
            u->order_ts_ns = 1763956201000000000LL;
            u->exchange_update_ts_ns = 1763956202000000000LL;
            u->exchange_ts_ns = 1763956202000000000LL;
            break;
        }
        default:
            fail ();
    }
}

static void
s_encode (const struct kt_msg *m, msgpack_sbuffer *sb)
{
    sb->size = 0;
    assert_int_equal (kt_msg_encode (m, sb), 0);
}

//  Re-pack the map in `in` into `out`: drop key `drop` (if not NULL), and append the
//  pair add_key -> add_val (a msgpack object built by the caller) when given.
static void
s_rewrite (const msgpack_sbuffer *in, const char *drop, const char *add_key,
           const msgpack_object *add_val, msgpack_sbuffer *out)
{
    msgpack_zone z;
    msgpack_zone_init (&z, 2048);
    msgpack_object root;
    size_t off = 0;
    assert_int_equal (msgpack_unpack (in->data, in->size, &off, &z, &root), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (root.type, MSGPACK_OBJECT_MAP);
    uint32_t n = 0;
    for (uint32_t i = 0; i < root.via.map.size; i++) {
        const msgpack_object *k = &root.via.map.ptr[i].key;
        if (drop && k->via.str.size == strlen (drop) &&
            memcmp (k->via.str.ptr, drop, k->via.str.size) == 0)
            continue;
        n++;
    }
    out->size = 0;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, n + (add_key ? 1 : 0));
    for (uint32_t i = 0; i < root.via.map.size; i++) {
        const msgpack_object *k = &root.via.map.ptr[i].key;
        if (drop && k->via.str.size == strlen (drop) &&
            memcmp (k->via.str.ptr, drop, k->via.str.size) == 0)
            continue;
        msgpack_pack_object (&pk, *k);
        msgpack_pack_object (&pk, root.via.map.ptr[i].val);
    }
    if (add_key) {
        msgpack_pack_str (&pk, strlen (add_key));
        msgpack_pack_str_body (&pk, add_key, strlen (add_key));
        msgpack_pack_object (&pk, *add_val);
    }
    msgpack_zone_destroy (&z);
}

static msgpack_object
s_obj_int (int64_t v)
{
    msgpack_object o;
    if (v < 0) {
        o.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o.via.i64 = v;
    } else {
        o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o.via.u64 = (uint64_t)v;
    }
    return o;
}

static msgpack_object
s_obj_str (const char *s)
{
    msgpack_object o;
    o.type = MSGPACK_OBJECT_STR;
    o.via.str.ptr = s;
    o.via.str.size = (uint32_t)strlen (s);
    return o;
}

//  Replace key's value in the valid body of m by val, decode, expect the reason.
static void
s_expect_replaced (const struct kt_msg *m, const char *key, msgpack_object val, const char *reason)
{
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    s_encode (m, &a);
    s_rewrite (&a, key, key, &val, &b);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct kt_msg out;
    char why[128] = "";
    assert_int_equal (kt_msg_decode (dec, b.data, b.size, &out, why, sizeof why), -1);
    assert_string_equal (why, reason);
    //  nothing half-filled but what identifies the request (its type and id)
    struct kt_msg z;
    memset (&z, 0, sizeof z);
    z.env.type = out.env.type;
    assert_true (out.env.type == KT_MSG_NONE || out.env.type == m->env.type);
    if (out.env.type == KT_MSG_ORDER_INTENT || out.env.type == KT_MSG_NONE)
        memcpy (z.u.intent.intent_id, out.u.intent.intent_id, sizeof z.u.intent.intent_id);
    else if (out.env.type == KT_MSG_ORDER_COMMAND)
        memcpy (z.u.cmd.coid, out.u.cmd.coid, sizeof z.u.cmd.coid);
    assert_memory_equal (&out, &z, sizeof z);
    kt_msg_decoder_destroy (&dec);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
}

static void
s_expect_dropped (const struct kt_msg *m, const char *key, const char *reason)
{
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    s_encode (m, &a);
    s_rewrite (&a, key, NULL, NULL, &b);
    assert_true (b.size < a.size);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct kt_msg out;
    char why[128] = "";
    int rc = kt_msg_decode (dec, b.data, b.size, &out, why, sizeof why);
    if (reason) {
        assert_int_equal (rc, -1);
        assert_string_equal (why, reason);
    } else
        assert_int_equal (rc, 0); //  optional key: still decodes
    kt_msg_decoder_destroy (&dec);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
}

// ---- round trips ---------------------------------------------------------------------

static void
test_roundtrip_every_type (void **state)
{
    (void)state;
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    for (int t = KT_MSG_TICK; t < KT_MSG_TYPE_COUNT; t++) {
        struct kt_msg in, out;
        s_fill_all (&in, (kt_msg_type_t)t);
        s_encode (&in, &sb);
        char why[128] = "";
        assert_int_equal (kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why), 0);
        assert_string_equal (why, "");
        assert_memory_equal (&in, &out, sizeof in);
    }
    msgpack_sbuffer_destroy (&sb);
    kt_msg_decoder_destroy (&dec);
}

//  Only the required keys set: optional enums (NONE) and the stop are left out of the
//  body and come back as NONE / has_stop false.
static void
test_roundtrip_minimal (void **state)
{
    (void)state;
    struct kt_msg in, out;
    s_env (&in, KT_MSG_ORDER_INTENT);
    strcpy (in.u.intent.intent_id, "I1");
    strcpy (in.u.intent.sym, "NIFTY25NOV24000CE");
    in.u.intent.side = KT_SIDE_BUY;
    in.u.intent.qty = 75;
    in.u.intent.order_type = KT_OT_MARKET;
    in.u.intent.purpose = KT_PURPOSE_ENTRY;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_encode (&in, &sb);
    assert_null (memmem (sb.data, sb.size, "product", 7));
    assert_null (memmem (sb.data, sb.size, "stop", 4));
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    assert_int_equal (kt_msg_decode (dec, sb.data, sb.size, &out, NULL, 0), 0);
    assert_memory_equal (&in, &out, sizeof in);
    assert_false (out.u.intent.has_stop);
    assert_int_equal (out.u.intent.product, KT_PROD_NONE);
    kt_msg_decoder_destroy (&dec);
    msgpack_sbuffer_destroy (&sb);
}

//  A body must read like the docs: key names and enum names in the bytes.
static void
test_wire_names (void **state)
{
    (void)state;
    struct kt_msg m;
    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_encode (&m, &sb);
    const char *names[] = {"intent_id", "strategy", "order_type",   "SL-M",      "NRML",
                           "MODIFY",    "SELL",     "ORDER_INTENT", "trigger",   "r_value",
                           "src",       "seq",      "reason",       "TARGET_DAY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null (memmem (sb.data, sb.size, names[i], strlen (names[i])));
    msgpack_sbuffer_destroy (&sb);
}

//  The decoder reads keys in any order (other encoders), ignores unknown ones.
static void
test_unknown_keys_and_order (void **state)
{
    (void)state;
    struct kt_msg in, out;
    s_fill_all (&in, KT_MSG_TICK);
    msgpack_sbuffer a, b, c;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    msgpack_sbuffer_init (&c);
    s_encode (&in, &a);
    //  Move v and type to the end, and add an unknown nested key.
    msgpack_object v = s_obj_int (1), type = s_obj_str ("TICK");
    s_rewrite (&a, "v", "v", &v, &b);
    s_rewrite (&b, "type", "type", &type, &c);
    msgpack_object arr_items[2] = {s_obj_int (1), s_obj_str ("x")};
    msgpack_object arr = {.type = MSGPACK_OBJECT_ARRAY, .via.array = {.size = 2, .ptr = arr_items}};
    s_rewrite (&c, NULL, "future_field", &arr, &b);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    char why[128] = "";
    assert_int_equal (kt_msg_decode (dec, b.data, b.size, &out, why, sizeof why), 0);
    assert_memory_equal (&in, &out, sizeof in);
    kt_msg_decoder_destroy (&dec);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
    msgpack_sbuffer_destroy (&c);
}

//  Every integer width msgpack-c's packer picks (fixint, int8..int64, uint8..uint64) at
//  its boundaries, through a signed field and an unsigned one.
static void
test_integer_boundaries (void **state)
{
    (void)state;
    const int64_t values[] = {
        0,         1,  127, 128, 255,  256,  65535,  65536,  4294967295LL,  4294967296LL,
        INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL,
        INT64_MIN};
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct kt_msg in, out;
        s_fill_all (&in, KT_MSG_RISK_STATE);
        in.u.risk_state.day_pnl = values[i];
        if (values[i] >= 0)
            in.u.risk_state.max_daily_loss = values[i];
        in.env.seq = values[i] >= 0 ? (uint64_t)values[i] : UINT64_MAX;
        s_encode (&in, &sb);
        char why[128] = "";
        assert_int_equal (kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why), 0);
        assert_int_equal (out.u.risk_state.day_pnl, values[i]);
        assert_int_equal (out.u.risk_state.max_daily_loss, in.u.risk_state.max_daily_loss);
        assert_true (out.env.seq == in.env.seq);
    }
    msgpack_sbuffer_destroy (&sb);
    kt_msg_decoder_destroy (&dec);
}

//  Other encoders may pick wider formats than needed (int8 for 5, uint64 for 7, str16
//  for a short string, map16 for a small map, a float for an unknown key): all read.
static void
test_noncanonical_formats (void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    static const unsigned char head[] = {
        0xde, 0x00, 0x09,                        //  map16, 9 entries
        0xa1, 'v',  0xd0, 0x01,                  //  v: int8 1
        0xd9, 0x04, 't',  'y',  'p',  'e',       //  str8 "type"
        0xda, 0x00, 0x04, 'T',  'I',  'C',  'K', //  str16 "TICK"
        0xa3, 's',  'e',  'q',  0xd3, 0,    0,    0,    0,    0,    0,    0,    9, //  seq: int64 9
        0xa2, 't',  's',  0xcf, 0,    0,    0,    0,    0,    0,    0,    7,       //  ts: uint64 7
        0xa3, 's',  'r',  'c',  0xdb, 0,    0,    0,    1,    'x', //  src: str32 "x"
        0xa5, 't',  'o',  'k',  'e',  'n',  0xd1, 0x00, 0x05,      //  token: int16 5
        0xa3, 's',  'y',  'm',  0xa1, 'S',  0xa3, 'l',  't',  'p',  0xce, 0x00, 0x00,
        0x01, 0x00,                                                       //  ltp: uint32 256
        0xa1, 'z',  0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, //  z: 3.14
    };
    msgpack_sbuffer_write (&sb, (const char *)head, sizeof head);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct kt_msg out;
    char why[128] = "";
    assert_int_equal (kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why), 0);
    assert_int_equal (out.env.type, KT_MSG_TICK);
    assert_int_equal (out.env.seq, 9);
    assert_int_equal (out.env.ts_ns, 7);
    assert_string_equal (out.env.src, "x");
    assert_int_equal (out.u.tick.token, 5);
    assert_string_equal (out.u.tick.sym, "S");
    assert_int_equal (out.u.tick.ltp, 256);
    //  Declared 8 entries, 9 present: the last one (11 bytes) is trailing.
    sb.data[2] = 8;
    assert_int_equal (kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why), -1);
    assert_string_equal (why, "trailing bytes (11)");
    sb.data[2] = 9;
    //  A bin value where a string belongs is a type error, not a string.
    char *sym = memmem (sb.data, sb.size, "\xa3sym\xa1", 5);
    assert_non_null (sym);
    sym[4] = (char)0xc4;
    assert_int_equal (kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why), -1);
    assert_string_equal (why, "key 'sym': expected string");
    msgpack_sbuffer_destroy (&sb);
    kt_msg_decoder_destroy (&dec);
}

// ---- rejections ----------------------------------------------------------------------

static void
test_missing_required (void **state)
{
    (void)state;
    struct kt_msg m;
    s_fill_all (&m, KT_MSG_TICK);
    s_expect_dropped (&m, "sym", "missing key 'sym'");
    s_expect_dropped (&m, "token", "missing key 'token'");
    s_expect_dropped (&m, "ltp", "missing key 'ltp'");
    s_expect_dropped (&m, "oi", NULL);
    s_expect_dropped (&m, "v", "missing key 'v'");
    s_expect_dropped (&m, "type", "missing key 'type'");
    s_expect_dropped (&m, "seq", "missing key 'seq'");
    s_expect_dropped (&m, "ts", "missing key 'ts'");
    s_expect_dropped (&m, "src", "missing key 'src'");
    s_fill_all (&m, KT_MSG_BAR);
    s_expect_dropped (&m, "start", "missing key 'start'");
    s_expect_dropped (&m, "final", NULL);
    s_fill_all (&m, KT_MSG_MD_STATUS);
    s_expect_dropped (&m, "connected", "missing key 'connected'");
    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    s_expect_dropped (&m, "intent_id", "missing key 'intent_id'");
    s_expect_dropped (&m, "purpose", "missing key 'purpose'");
    //  required by risk-gate for the purposes that use them (BAD_INTENT there): a CANCEL
    //  or FLATTEN carries only what it uses
    s_expect_dropped (&m, "sym", NULL);
    s_expect_dropped (&m, "side", NULL);
    s_expect_dropped (&m, "qty", NULL);
    s_expect_dropped (&m, "order_type", NULL);
    s_expect_dropped (&m, "stop", NULL);
    s_expect_dropped (&m, "product", NULL);
    s_fill_all (&m, KT_MSG_RISK_DECISION);
    s_expect_dropped (&m, "verdict", "missing key 'verdict'");
    s_expect_dropped (&m, "intent_id", NULL);   //  the answer to an unreadable request
    s_expect_dropped (&m, "reasons", NULL);
    s_fill_all (&m, KT_MSG_ORDER_COMMAND);
    s_expect_dropped (&m, "coid", "missing key 'coid'");
    s_expect_dropped (&m, "action", "missing key 'action'");
    s_fill_all (&m, KT_MSG_EXEC_EVENT);
    s_expect_dropped (&m, "event", "missing key 'event'");
    s_expect_dropped (&m, "broker_id", NULL);
    s_fill_all (&m, KT_MSG_RISK_STATE);
    s_expect_dropped (&m, "state", "missing key 'state'");
    s_fill_all (&m, KT_MSG_ALERT);
    s_expect_dropped (&m, "severity", "missing key 'severity'");
    s_expect_dropped (&m, "key", "missing key 'key'");
    s_expect_dropped (&m, "text", "missing key 'text'");
}

static void
test_wrong_types (void **state)
{
    (void)state;
    struct kt_msg m;
    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    s_expect_replaced (&m, "qty", s_obj_str ("75"), "key 'qty': expected integer");
    msgpack_object f = {.type = MSGPACK_OBJECT_FLOAT64, .via.f64 = 75.0};
    s_expect_replaced (&m, "price", f, "key 'price': expected integer");
    s_expect_replaced (&m, "sym", s_obj_int (5), "key 'sym': expected string");
    s_expect_replaced (&m, "side", s_obj_int (1), "key 'side': expected string");
    s_expect_replaced (&m, "stop", s_obj_int (1), "key 'stop': expected map");
    s_expect_replaced (&m, "type", s_obj_int (1), "key 'type': expected string");
    s_expect_replaced (&m, "v", s_obj_str ("1"), "key 'v': expected integer");
    s_expect_replaced (&m, "seq", s_obj_str ("1"), "key 'seq': expected integer");
    s_fill_all (&m, KT_MSG_BAR);
    s_expect_replaced (&m, "final", s_obj_int (1), "key 'final': expected boolean");
    msgpack_object big = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = UINT64_MAX};
    s_expect_replaced (&m, "volume", big, "key 'volume': integer out of range");
    s_expect_replaced (&m, "token", s_obj_int (4294967296LL), "key 'token': integer out of range");
    s_fill_all (&m, KT_MSG_RISK_DECISION);
    s_expect_replaced (&m, "reasons", s_obj_str ("x"), "key 'reasons': expected array");
    msgpack_object items[KT_REASONS_MAX + 1];
    for (int i = 0; i <= KT_REASONS_MAX; i++)
        items[i] = s_obj_int (1);
    msgpack_object arr = {.type = MSGPACK_OBJECT_ARRAY, .via.array = {1, items}};
    s_expect_replaced (&m, "reasons", arr, "key 'reasons': item 0 is not a map");
    arr.via.array.size = KT_REASONS_MAX + 1;
    s_expect_replaced (&m, "reasons", arr, "key 'reasons': more than 8 items");
    msgpack_object_kv kv = {s_obj_str ("text"), s_obj_str ("no code")};
    msgpack_object item = {.type = MSGPACK_OBJECT_MAP, .via.map = {1, &kv}};
    arr.via.array.size = 1;
    arr.via.array.ptr = &item;
    s_expect_replaced (&m, "reasons", arr, "key 'reasons': item 0: missing key 'code'");
}

static void
test_negative_and_range (void **state)
{
    (void)state;
    struct kt_msg m;
    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    s_expect_replaced (&m, "qty", s_obj_int (-75), "key 'qty': negative");
    s_expect_replaced (&m, "ts", s_obj_int (-1), "key 'ts': negative");
    s_expect_replaced (&m, "seq", s_obj_int (-1), "key 'seq': negative");
    msgpack_object_kv kv[2] = {{s_obj_str ("trigger"), s_obj_int (-5)},
                               {s_obj_str ("price"), s_obj_int (0)}};
    msgpack_object stop = {.type = MSGPACK_OBJECT_MAP, .via.map = {2, kv}};
    s_expect_replaced (&m, "stop", stop, "key 'stop.trigger': negative");
    kv[0].key = s_obj_str ("price");
    kv[0].val = s_obj_int (1);
    s_expect_replaced (&m, "stop", stop, "duplicate key 'stop.price'");
    stop.via.map.size = 1;
    s_expect_replaced (&m, "stop", stop, "key 'stop': missing key 'trigger'");
    s_fill_all (&m, KT_MSG_TICK);
    s_expect_replaced (&m, "ltp", s_obj_int (-1), "key 'ltp': negative");
    s_expect_replaced (&m, "token", s_obj_int (-1), "key 'token': negative");
    //  P&L may be negative.
    s_fill_all (&m, KT_MSG_RISK_STATE);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_encode (&m, &sb);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct kt_msg out;
    assert_int_equal (kt_msg_decode (dec, sb.data, sb.size, &out, NULL, 0), 0);
    assert_int_equal (out.u.risk_state.day_pnl, -500000);
    kt_msg_decoder_destroy (&dec);
    msgpack_sbuffer_destroy (&sb);
    s_expect_replaced (&m, "open_positions", s_obj_int (-1), "key 'open_positions': negative");
}

static void
test_strings (void **state)
{
    (void)state;
    struct kt_msg m;
    s_fill_all (&m, KT_MSG_TICK);
    char sym[KT_SYM_LEN + 1];
    memset (sym, 'A', KT_SYM_LEN);
    sym[KT_SYM_LEN] = 0;
    s_expect_replaced (&m, "sym", s_obj_str (sym), "key 'sym': string too long (32 > 31)");
    sym[KT_SYM_LEN - 1] = 0; //  31 chars fit
    struct kt_msg ok = m;
    strcpy (ok.u.tick.sym, sym);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_encode (&ok, &sb);
    msgpack_sbuffer_destroy (&sb);
    s_expect_replaced (&m, "sym", s_obj_str (""), "key 'sym': empty");
    s_expect_replaced (&m, "src", s_obj_str (""), "key 'src': empty");
    msgpack_object nul = {.type = MSGPACK_OBJECT_STR, .via.str = {3, "a\0b"}};
    s_expect_replaced (&m, "sym", nul, "key 'sym': string contains NUL");
    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    s_expect_replaced (&m, "intent_id", s_obj_str ("123456789012345678901"),
                       "key 'intent_id': string too long (21 > 20)");
    s_expect_replaced (&m, "ref", s_obj_str ("123456789012345678901"),
                       "key 'ref': string too long (21 > 20)");
}

static void
test_enums_rejected (void **state)
{
    (void)state;
    struct kt_msg m;
    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    s_expect_replaced (&m, "side", s_obj_str ("UP"), "key 'side': unknown value 'UP'");
    s_expect_replaced (&m, "side", s_obj_str ("NONE"), "key 'side': unknown value 'NONE'");
    s_expect_replaced (&m, "side", s_obj_str ("buy"), "key 'side': unknown value 'buy'");
    s_expect_replaced (&m, "order_type", s_obj_str ("SLM"),
                       "key 'order_type': unknown value 'SLM'");
    s_expect_replaced (&m, "type", s_obj_str ("TOCK"), "unknown type 'TOCK'");
    s_expect_replaced (&m, "product", s_obj_str ("CNC\x01'"),
                       "key 'product': unknown value 'CNC?"
                       "?'");
    msgpack_object nul = {.type = MSGPACK_OBJECT_STR, .via.str = {4, "BUY\0"}};
    s_expect_replaced (&m, "side", nul, "key 'side': unknown value 'BUY?'");
    s_expect_replaced (&m, "side", s_obj_str ("BU"), "key 'side': unknown value 'BU'");
    s_expect_replaced (&m, "side", s_obj_str ("BUYS"), "key 'side': unknown value 'BUYS'");
    //  an exit's reason is one of the backtest's exit_reason names, nothing else
    s_expect_replaced (&m, "reason", s_obj_str ("TARGET"), "key 'reason': unknown value 'TARGET'");
    s_expect_replaced (&m, "reason", s_obj_str ("time"), "key 'reason': unknown value 'time'");
    s_expect_replaced (&m, "reason", s_obj_str ("NONE"), "key 'reason': unknown value 'NONE'");
    s_fill_all (&m, KT_MSG_ORDER_COMMAND);
    s_expect_replaced (&m, "reason", s_obj_str ("EOD"), "key 'reason': unknown value 'EOD'");
    s_fill_all (&m, KT_MSG_ALERT);
    s_expect_replaced (&m, "severity", s_obj_str ("SEVERE"),
                       "key 'severity': unknown value 'SEVERE'");
}

static void
test_version (void **state)
{
    (void)state;
    struct kt_msg m;
    s_fill_all (&m, KT_MSG_TICK);
    s_expect_replaced (&m, "v", s_obj_int (2), "version 2 not supported");
    s_expect_replaced (&m, "v", s_obj_int (0), "version 0 not supported");
    //  A future version with a type we do not know is reported as a version problem.
    msgpack_sbuffer a, b, c;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    msgpack_sbuffer_init (&c);
    s_encode (&m, &a);
    msgpack_object v = s_obj_int (2), t = s_obj_str ("TICK2");
    s_rewrite (&a, "v", "v", &v, &b);
    s_rewrite (&b, "type", "type", &t, &c);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct kt_msg out;
    char why[128];
    assert_int_equal (kt_msg_decode (dec, c.data, c.size, &out, why, sizeof why), -1);
    assert_string_equal (why, "version 2 not supported");
    kt_msg_decoder_destroy (&dec);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
    msgpack_sbuffer_destroy (&c);
}

static void
test_duplicate_and_bad_keys (void **state)
{
    (void)state;
    struct kt_msg m;
    s_fill_all (&m, KT_MSG_TICK);
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    s_encode (&m, &a);
    msgpack_object v = s_obj_int (5);
    s_rewrite (&a, NULL, "ltp", &v, &b);
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct kt_msg out;
    char why[128];
    assert_int_equal (kt_msg_decode (dec, b.data, b.size, &out, why, sizeof why), -1);
    assert_string_equal (why, "duplicate key 'ltp'");
    v = s_obj_str ("x");
    s_rewrite (&a, NULL, "src", &v, &b);
    assert_int_equal (kt_msg_decode (dec, b.data, b.size, &out, why, sizeof why), -1);
    assert_string_equal (why, "duplicate key 'src'");
    //  A map with an integer key.
    b.size = 0;
    msgpack_packer pk;
    msgpack_packer_init (&pk, &b, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "v", 1);
    msgpack_pack_int (&pk, 1);
    msgpack_pack_str (&pk, 4);
    msgpack_pack_str_body (&pk, "type", 4);
    msgpack_pack_str (&pk, 4);
    msgpack_pack_str_body (&pk, "TICK", 4);
    msgpack_pack_int (&pk, 7);
    msgpack_pack_int (&pk, 7);
    assert_int_equal (kt_msg_decode (dec, b.data, b.size, &out, why, sizeof why), -1);
    assert_string_equal (why, "map key is not a string");
    //  Not a map at all.
    b.size = 0;
    msgpack_pack_array (&pk, 0);
    assert_int_equal (kt_msg_decode (dec, b.data, b.size, &out, why, sizeof why), -1);
    assert_string_equal (why, "body is not a map");
    assert_int_equal (kt_msg_decode (dec, "", 0, &out, why, sizeof why), -1);
    assert_string_equal (why, "empty body");
    kt_msg_decoder_destroy (&dec);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
}

//  Every proper prefix of a valid body is rejected, and so is a body with one byte more.
static void
test_truncated_every_length (void **state)
{
    (void)state;
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    for (int t = KT_MSG_TICK; t < KT_MSG_TYPE_COUNT; t++) {
        struct kt_msg in, out;
        s_fill_all (&in, (kt_msg_type_t)t);
        s_encode (&in, &sb);
        for (size_t len = 0; len < sb.size; len++) {
            //  A copy of exactly len bytes, so ASan sees any read past the end.
            char *copy = malloc (len ? len : 1);
            memcpy (copy, sb.data, len);
            char why[128] = "";
            assert_int_equal (kt_msg_decode (dec, copy, len, &out, why, sizeof why), -1);
            assert_true (strcmp (why, "truncated") == 0 || strcmp (why, "empty body") == 0);
            free (copy);
        }
        msgpack_sbuffer_write (&sb, "\xc0", 1);
        char why[128] = "";
        assert_int_equal (kt_msg_decode (dec, sb.data, sb.size, &out, why, sizeof why), -1);
        assert_string_equal (why, "trailing bytes (1)");
    }
    msgpack_sbuffer_destroy (&sb);
    kt_msg_decoder_destroy (&dec);
}

//  Hostile container headers: a few bytes that claim billions of items, and nesting.
static void
test_hostile_headers (void **state)
{
    (void)state;
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    struct kt_msg out;
    char why[128];
    static const char huge_map[] = "\xdf\xff\xff\xff\xff";
    assert_int_equal (kt_msg_decode (dec, huge_map, 5, &out, why, sizeof why), -1);
    assert_string_equal (why, "truncated");
    static const char huge_arr[] = "\x81\xa1v\xdd\xff\xff\xff\xff\x01\x02";
    assert_int_equal (kt_msg_decode (dec, huge_arr, 10, &out, why, sizeof why), -1);
    assert_string_equal (why, "truncated");
    static const char huge_str[] = "\x81\xa1v\xdb\xff\xff\xff\xff";
    assert_int_equal (kt_msg_decode (dec, huge_str, 8, &out, why, sizeof why), -1);
    assert_string_equal (why, "truncated");
    static const char reserved[] = "\x81\xa1v\xc1";
    assert_int_equal (kt_msg_decode (dec, reserved, 4, &out, why, sizeof why), -1);
    assert_string_equal (why, "malformed msgpack (byte 0xc1 at 3)");
    char deep[64];
    deep[0] = (char)0x81;
    deep[1] = (char)0xa1;
    deep[2] = 'x';
    for (int i = 3; i < 63; i++)
        deep[i] = (char)0x91; //  [[[[...
    deep[63] = (char)0xc0;
    assert_int_equal (kt_msg_decode (dec, deep, sizeof deep, &out, why, sizeof why), -1);
    assert_string_equal (why, "nesting too deep");
    char *big = calloc (1, KT_MSG_MAX_BYTES + 1);
    big[0] = (char)0x80;
    assert_int_equal (kt_msg_decode (dec, big, KT_MSG_MAX_BYTES + 1, &out, why, sizeof why), -1);
    assert_string_equal (why, "body too large (65537 bytes)");
    free (big);
    kt_msg_decoder_destroy (&dec);
}

static uint64_t s_rng = 88172645463325252ull;

static uint32_t
s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)s_rng;
}

//  Random bytes and random mutations of valid bodies: never a crash; whatever is
//  accepted encodes again and decodes to the same struct.
static void
test_garbage (void **state)
{
    (void)state;
    kt_msg_decoder_t *dec = kt_msg_decoder_new ();
    msgpack_sbuffer sb, re;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&re);
    unsigned char buf[512];
    int accepted = 0;
    for (int iter = 0; iter < 200000; iter++) {
        size_t len;
        if (iter % 2 == 0) {
            len = s_rand () % sizeof buf;
            for (size_t i = 0; i < len; i++)
                buf[i] = (unsigned char)s_rand ();
            if (len && iter % 4 == 0)
                buf[0] = 0x80 | (s_rand () & 0x0f); //  a fixmap, to get further
        } else {
            struct kt_msg m;
            s_fill_all (&m, (kt_msg_type_t)(KT_MSG_TICK + s_rand () % (KT_MSG_TYPE_COUNT - 1)));
            s_encode (&m, &sb);
            len = sb.size < sizeof buf ? sb.size : sizeof buf;
            memcpy (buf, sb.data, len);
            int flips = 1 + (int)(s_rand () % 3);
            for (int f = 0; f < flips; f++)
                buf[s_rand () % len] ^= (unsigned char)(1u << (s_rand () % 8));
        }
        struct kt_msg out, again;
        char why[128];
        if (kt_msg_decode (dec, buf, len, &out, why, sizeof why) != 0)
            continue;
        accepted++;
        re.size = 0;
        assert_int_equal (kt_msg_encode (&out, &re), 0);
        assert_int_equal (kt_msg_decode (dec, re.data, re.size, &again, why, sizeof why), 0);
        assert_memory_equal (&out, &again, sizeof out);
    }
    assert_true (accepted > 0); //  the mutations do reach the accept path
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_destroy (&re);
    kt_msg_decoder_destroy (&dec);
}

// ---- encoder checks ------------------------------------------------------------------

static void
test_encode_rejects_invalid (void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    struct kt_msg m;
    char why[128];

    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    m.u.intent.side = (kt_side_t)7;
    assert_int_equal (kt_msg_encode (&m, &sb), -1);
    assert_int_equal (sb.size, 0); //  nothing written
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "key 'side': invalid value 7");

    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    m.u.intent.purpose = KT_PURPOSE_NONE;
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "key 'purpose': invalid value 0");

    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    m.u.intent.qty = -1;
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "key 'qty': negative");

    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    strcpy (m.u.intent.intent_id, "123456789012345678901");
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "key 'intent_id': string too long (21 > 20)");

    s_fill_all (&m, KT_MSG_TICK);
    memset (m.u.tick.sym, 'A', sizeof m.u.tick.sym);
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "key 'sym': string not terminated");

    s_fill_all (&m, KT_MSG_TICK);
    m.env.src[0] = 0;
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "key 'src': empty");

    s_fill_all (&m, KT_MSG_RISK_DECISION);
    m.u.decision.nreasons = KT_REASONS_MAX + 1;
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "key 'reasons': count 9 out of range");

    s_fill_all (&m, KT_MSG_RISK_DECISION);
    m.u.decision.reasons[3].code[0] = 0;
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "key 'reasons.code': empty");

    s_fill_all (&m, KT_MSG_ORDER_INTENT);
    m.u.intent.stop_price = -1;
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    m.u.intent.has_stop = false; //  ignored when there is no stop
    assert_int_equal (kt_msg_check (&m, why, sizeof why), 0);

    s_fill_all (&m, KT_MSG_TICK);
    m.env.type = KT_MSG_TYPE_COUNT;
    assert_int_equal (kt_msg_encode (&m, &sb), -1);
    m.env.type = KT_MSG_NONE;
    assert_int_equal (kt_msg_check (&m, why, sizeof why), -1);
    assert_string_equal (why, "unknown type 0");
    msgpack_sbuffer_destroy (&sb);
}

// ---- enum names ----------------------------------------------------------------------

static void
test_enum_names (void **state)
{
    (void)state;
#define ROUND(str, parse, first, last)                                                             \
    for (int v = (first); v <= (last); v++)                                                        \
        assert_int_equal (parse (str (v)), v);                                                     \
    assert_string_equal (str ((last) + 1), "?");                                                   \
    assert_string_equal (str (-1), "?");                                                           \
    assert_int_equal (parse ("nonsense"), 0);                                                      \
    assert_int_equal (parse (NULL), 0);                                                            \
    assert_int_equal (parse ("NONE"), 0);

    ROUND (kt_msg_type_str, kt_msg_type_parse, 1, KT_MSG_ORDER_UPDATE);
    ROUND (kt_side_str, kt_side_parse, 1, KT_SIDE_SELL);
    ROUND (kt_order_type_str, kt_order_type_parse, 1, KT_OT_SLM);
    ROUND (kt_product_str, kt_product_parse, 1, KT_PROD_NRML);
    ROUND (kt_purpose_str, kt_purpose_parse, 1, KT_PURPOSE_HALT);
    ROUND (kt_verdict_str, kt_verdict_parse, 1, KT_VERDICT_HALT);
    ROUND (kt_state_str, kt_state_parse, 1, KT_STATE_HALTED);
    ROUND (kt_action_str, kt_action_parse, 1, KT_ACTION_CANCEL_ALL);
    ROUND (kt_exec_kind_str, kt_exec_kind_parse, 1, KT_EXEC_UNRESOLVED);
    ROUND (kt_severity_str, kt_severity_parse, 1, KT_SEV_CRITICAL);
    ROUND (kt_exit_reason_str, kt_exit_reason_parse, 1, KT_EXIT_MANUAL);
#undef ROUND
    assert_string_equal (kt_order_type_str (KT_OT_SLM), "SL-M");
    assert_string_equal (kt_action_str (KT_ACTION_CANCEL_ALL), "CANCEL_ALL");
    assert_string_equal (kt_msg_type_str (KT_MSG_RISK_DECISION), "RISK_DECISION");
    assert_string_equal (kt_side_str (KT_SIDE_NONE), "NONE");
    assert_int_equal (kt_severity_parse ("warning"), 0); //  names are case-sensitive
    //  the backtest's trades.csv exit_reason spellings
    assert_string_equal (kt_exit_reason_str (KT_EXIT_STOP), "STOP");
    assert_string_equal (kt_exit_reason_str (KT_EXIT_TARGET_DAY), "TARGET_DAY");
    assert_string_equal (kt_exit_reason_str (KT_EXIT_LOSS_DAY), "LOSS_DAY");
    assert_string_equal (kt_exit_reason_str (KT_EXIT_TIME), "TIME");
    assert_string_equal (kt_exit_reason_str (KT_EXIT_HALT), "HALT");

    assert_false (kt_purpose_is_reducing (KT_PURPOSE_ENTRY));
    assert_false (kt_purpose_is_reducing (KT_PURPOSE_MODIFY));
    assert_false (kt_purpose_is_reducing (KT_PURPOSE_NONE));
    assert_false (kt_purpose_is_reducing (KT_PURPOSE_HALT)); //  a halt is not an order
    assert_true (kt_purpose_is_reducing (KT_PURPOSE_EXIT));
    assert_true (kt_purpose_is_reducing (KT_PURPOSE_STOP));
    assert_true (kt_purpose_is_reducing (KT_PURPOSE_CANCEL));
    assert_true (kt_purpose_is_reducing (KT_PURPOSE_FLATTEN));
}

//  The docs row of a declared key.
static void
s_doc_row (const struct kt_msg_field *f, char *buf, size_t len)
{
    char type[256];
    if (f->nvalues > 0) {
        size_t n = 0;
        type[0] = '\0';
        for (int i = 0; i < f->nvalues && n < sizeof type; i++)
            n += (size_t) snprintf (type + n, sizeof type - n, "%s%s", i? ", ": "", f->values[i]);
    }
    else if (strcmp (f->type, "string") == 0)
        snprintf (type, sizeof type, "string (<= %d)", f->max_len);
    else
        snprintf (type, sizeof type, "%s", f->type);
    snprintf (buf, len, "| `%s` | %s | %s | %s |", f->name, type, f->required? "yes": "no",
              f->unit[0]? f->unit: "-");
}

//  docs/messages.md has, for every message type, a section "### <TYPE>" whose table is
//  exactly the declaration (key, type, required, unit), in wire order: the doc cannot
//  drift from the codec. On a difference the expected section is printed.
static void
test_doc_matches_declarations (void **state)
{
    (void) state;
    FILE *fp = fopen ("docs/messages.md", "r");
    assert_non_null (fp);                   //  run from the worktree root
    static char doc[65536];
    size_t n = fread (doc, 1, sizeof doc - 1, fp);
    fclose (fp);
    doc[n] = '\0';
    int bad = 0;
    for (int t = KT_MSG_NONE + 1; t < KT_MSG_TYPE_COUNT; t++) {
        struct kt_msg_field fields[32];
        int nf = kt_msg_fields ((kt_msg_type_t) t, fields, 32);
        assert_true (nf > 0 && nf <= 32);
        char want[8192], row[512];
        size_t w = (size_t) snprintf (want, sizeof want,
                                      "### %s\n\n| key | type | required | unit |\n"
                                      "|---|---|---|---|\n", kt_msg_type_str ((kt_msg_type_t) t));
        for (int i = 0; i < nf; i++) {
            s_doc_row (&fields[i], row, sizeof row);
            w += (size_t) snprintf (want + w, sizeof want - w, "%s\n", row);
        }
        //  the section must hold exactly these rows, and no other row after them
        const char *at = strstr (doc, want);
        bool ok = at && strncmp (at + w, "| ", 2) != 0;
        if (!ok) {
            bad++;
            fprintf (stderr, "docs/messages.md: section %s differs; expected:\n%s\n",
                     kt_msg_type_str ((kt_msg_type_t) t), want);
        }
    }
    assert_int_equal (bad, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_roundtrip_every_type),
        cmocka_unit_test (test_roundtrip_minimal),
        cmocka_unit_test (test_wire_names),
        cmocka_unit_test (test_unknown_keys_and_order),
        cmocka_unit_test (test_integer_boundaries),
        cmocka_unit_test (test_noncanonical_formats),
        cmocka_unit_test (test_missing_required),
        cmocka_unit_test (test_wrong_types),
        cmocka_unit_test (test_negative_and_range),
        cmocka_unit_test (test_strings),
        cmocka_unit_test (test_enums_rejected),
        cmocka_unit_test (test_version),
        cmocka_unit_test (test_duplicate_and_bad_keys),
        cmocka_unit_test (test_truncated_every_length),
        cmocka_unit_test (test_hostile_headers),
        cmocka_unit_test (test_garbage),
        cmocka_unit_test (test_encode_rejects_invalid),
        cmocka_unit_test (test_enum_names),
        cmocka_unit_test (test_doc_matches_declarations),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
