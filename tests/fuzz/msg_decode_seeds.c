/*  msg_decode_seeds - writes the seed corpus of msg_decode_fuzz: valid bodies of every
 *  message type (all fields set, and required fields only) into
 *  tests/fuzz/seeds/msg_decode_fuzz/. Not part of any build (its name does not end in
 *  _fuzz.c); run by hand after a schema change, from the project root:
 *
 *    cc -std=c11 -D_GNU_SOURCE -Icommon tests/fuzz/msg_decode_seeds.c common/kt_msg.c \
 *       $(pkg-config --cflags --libs msgpack) -o /tmp/seeds && /tmp/seeds */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt_msg.h"

static void
s_write (const struct kt_msg *m, const char *name)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (kt_msg_encode (m, &sb) != 0) {
        char why[128];
        kt_msg_check (m, why, sizeof why);
        fprintf (stderr, "%s: %s\n", name, why);
        exit (1);
    }
    char path[256];
    snprintf (path, sizeof path, "tests/fuzz/seeds/msg_decode_fuzz/%s.msgpack", name);
    FILE *fp = fopen (path, "wb");
    if (!fp || fwrite (sb.data, 1, sb.size, fp) != sb.size || fclose (fp) != 0) {
        perror (path);
        exit (1);
    }
    msgpack_sbuffer_destroy (&sb);
}

static struct kt_msg
s_env (kt_msg_type_t type)
{
    struct kt_msg m;
    memset (&m, 0, sizeof m);
    m.env.type = type;
    m.env.seq = (3ull << 32) | 17;
    m.env.ts_ns = 1732500000123456789LL;
    strcpy (m.env.src, "md-gateway");
    return m;
}

int
main (void)
{
    struct kt_msg m = s_env (KT_MSG_TICK);
    m.u.tick = (struct kt_tick){.token = 10496514,
                                .sym = "NIFTY25NOV24000CE",
                                .ltp = 12345,
                                .last_qty = 75,
                                .avg_price = 12000,
                                .volume = 987654,
                                .buy_qty = 1500,
                                .sell_qty = 2250,
                                .o = 11000,
                                .h = 13000,
                                .l = 10500,
                                .c = 11500,
                                .oi = 4500000,
                                .bid = 12340,
                                .ask = 12350,
                                .bid_qty = 300,
                                .ask_qty = 450,
                                .exch_ts_ns = 1732500000000000000LL,
                                .recv_ts_ns = 1732500000000100000LL};
    s_write (&m, "tick_full");
    m = s_env (KT_MSG_TICK);
    m.u.tick = (struct kt_tick){.token = 256265, .sym = "NIFTY 50", .ltp = 2400005};
    s_write (&m, "tick_ltp");

    m = s_env (KT_MSG_BAR);
    m.u.bar = (struct kt_bar){.token = 256265,
                              .sym = "NIFTY 50",
                              .start_ns = 1732499940000000000LL,
                              .o = 2400000,
                              .h = 2401000,
                              .l = 2399000,
                              .c = 2400500,
                              .volume = 123456,
                              .vwap = 2400250,
                              .ticks = 321,
                              .final = true};
    s_write (&m, "bar");

    m = s_env (KT_MSG_MD_STATUS);
    m.u.md_status = (struct kt_md_status){.connected = true,
                                          .subscribed = 42,
                                          .last_tick_ts_ns = 1732500000000000000LL,
                                          .reconnects = 1};
    s_write (&m, "md_status");

    m = s_env (KT_MSG_ORDER_INTENT);
    strcpy (m.env.src, "strategy");
    m.u.intent = (struct kt_intent){.intent_id = "S1-20251124-0007",
                                    .strategy = "baseline_v1",
                                    .sym = "NIFTY25NOV24000CE",
                                    .side = KT_SIDE_BUY,
                                    .qty = 75,
                                    .order_type = KT_OT_LIMIT,
                                    .price = 12000,
                                    .product = KT_PROD_MIS,
                                    .purpose = KT_PURPOSE_ENTRY,
                                    .has_stop = true,
                                    .stop_trigger = 9000,
                                    .stop_price = 8900,
                                    .r_value = 225000};
    s_write (&m, "intent_entry");
    m.u.intent = (struct kt_intent){.intent_id = "S1-0008",
                                    .sym = "NIFTY25NOV24000CE",
                                    .side = KT_SIDE_SELL,
                                    .qty = 75,
                                    .order_type = KT_OT_SLM,
                                    .trigger = 9500,
                                    .purpose = KT_PURPOSE_MODIFY,
                                    .ref = "C-0007"};
    s_write (&m, "intent_modify");

    m = s_env (KT_MSG_RISK_DECISION);
    strcpy (m.env.src, "risk-gate");
    m.u.decision =
        (struct kt_decision){.intent_id = "S1-0007",
                             .verdict = KT_VERDICT_REDUCE,
                             .qty = 75,
                             .nreasons = 2,
                             .reasons = {{"MAX_LOTS", "capped at 1 lot"}, {"DEPLOY", ""}},
                             .state = KT_STATE_ACTIVE,
                             .coid = "C-0007"};
    s_write (&m, "decision");

    m = s_env (KT_MSG_ORDER_COMMAND);
    strcpy (m.env.src, "risk-gate");
    m.u.cmd = (struct kt_order_cmd){.coid = "C-0007",
                                    .intent_id = "S1-0007",
                                    .action = KT_ACTION_PLACE,
                                    .sym = "NIFTY25NOV24000CE",
                                    .side = KT_SIDE_BUY,
                                    .qty = 75,
                                    .order_type = KT_OT_LIMIT,
                                    .price = 12000,
                                    .product = KT_PROD_MIS,
                                    .purpose = KT_PURPOSE_ENTRY,
                                    .has_stop = true,
                                    .stop_trigger = 9000,
                                    .r_value = 225000};
    s_write (&m, "command");

    m = s_env (KT_MSG_EXEC_EVENT);
    strcpy (m.env.src, "exec-gateway");
    m.u.exec = (struct kt_exec_event){.coid = "C-0007",
                                      .intent_id = "S1-0007",
                                      .broker_id = "251124000012345",
                                      .sym = "NIFTY25NOV24000CE",
                                      .event = KT_EXEC_PARTIAL,
                                      .side = KT_SIDE_BUY,
                                      .purpose = KT_PURPOSE_ENTRY,
                                      .qty = 150,
                                      .filled_qty = 75,
                                      .last_qty = 75,
                                      .last_px = 12005,
                                      .avg_px = 12005};
    s_write (&m, "exec_event");

    m = s_env (KT_MSG_RISK_STATE);
    strcpy (m.env.src, "risk-gate");
    m.u.risk_state = (struct kt_risk_state){.state = KT_STATE_HALTED,
                                            .reason = "DAILY_LOSS",
                                            .day_pnl = -500000,
                                            .realised = -450000,
                                            .unrealised = -50000,
                                            .equity = 99500000,
                                            .open_positions = 1,
                                            .max_positions = 3,
                                            .max_daily_loss = 500000};
    s_write (&m, "risk_state");

    m = s_env (KT_MSG_ALERT);
    m.u.alert = (struct kt_alert){.severity = KT_SEV_CRITICAL,
                                  .key = "md.stale",
                                  .text = "no ticks for 30 s in market hours"};
    s_write (&m, "alert");
    return 0;
}
