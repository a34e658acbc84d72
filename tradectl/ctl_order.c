/*  ctl_order - orders from the operator, always through risk-gate: `order` (a manual
 *  order with every check), `flatten`, `cancel-all`, and the socket half of `halt`.
 *
 *  Each is an ORDER_INTENT on `risk` sent with the lazy-pirate client (same bytes on
 *  every retry, so a retried intent gets risk-gate's first answer and never a second
 *  order). tradectl prints risk-gate's decision with its reasons and then what
 *  exec-gateway did with the approved command: the EXEC_EVENT it published on
 *  `exec_pub`, or, when that was missed, the order's status in the book - never what
 *  was merely asked for. A flatten is one FLATTEN intent per open position; cancel-all
 *  is one CANCEL intent per open order (risk-gate checks each, exits are never
 *  refused for state or limits). */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include "ctl_cmd.h"

#define S_EXEC_WAIT_MS 5000

struct s_link {
    kt_bus_t *bus;
    kt_loop_t *loop; //  drives the risk client while a call waits
    kt_bus_client_t *risk;
    void *exec_sub;
    int seq;
    bool done, answered; //  the pending call
    struct kt_msg reply;
};

static void
s_on_reply (kt_bus_client_t *client, const char *req_id, const struct kt_msg *reply, void *arg)
{
    (void) client;
    (void) req_id;
    struct s_link *l = arg;
    l->done = true;
    l->answered = reply != NULL;
    if (reply)
        l->reply = *reply;
}

//  One request to risk-gate with the lazy-pirate policy (same bytes on every retry),
//  waiting on a private loop until the answer or the client gives up. Returns 0 with
//  l->reply, or -1 (no answer, or the request could not be made).
static int
s_call (struct s_link *l, struct kt_msg *msg)
{
    l->done = l->answered = false;
    if (kt_bus_client_send (l->risk, msg->u.intent.intent_id, "risk.intent", msg) != 0)
        return -1;
    while (!l->done && !kt_loop_interrupted ())
        kt_loop_run_once (l->loop, 100);
    return l->answered ? 0 : -1;
}

static int
s_link_open (ctl_t *ctl, struct s_link *l)
{
    memset (l, 0, sizeof *l);
    //  The epoch only orders this tool's own publishes; wall seconds never go back.
    uint32_t epoch = (uint32_t) (kt_clock_wall_ns () / 1000000000LL);
    l->bus = kt_bus_new (ctl->cfg, NULL, "tradectl", epoch ? epoch : 1);
    if (!l->bus)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "cannot create the ZeroMQ context");
    l->exec_sub = kt_bus_connect (l->bus, "exec_pub", ZMQ_SUB);
    if (l->exec_sub)
        kt_bus_subscribe (l->bus, l->exec_sub, "exec.");
    l->loop = kt_loop_new ();
    l->risk = l->loop ? kt_bus_client_new (l->bus, l->loop, "risk", 0, -1, s_on_reply, l) : NULL;
    if (!l->risk)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "risk endpoint: %s", kt_bus_errstr (l->bus));
    //  Let the subscription reach exec-gateway before the first command can leave.
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep (&ts, NULL);
    return 0;
}

static void
s_link_close (struct s_link *l)
{
    kt_bus_client_destroy (&l->risk);
    kt_loop_destroy (&l->loop);
    kt_bus_destroy (&l->bus);
}

//  A fresh intent id (<= 20 chars): 't', the kind, wall ms and a sequence number.
static void
s_intent_id (struct s_link *l, char kind, char *out, size_t len)
{
    snprintf (out, len, "t%c%" PRId64 "-%02d", kind, kt_clock_wall_ns () / 1000000, ++l->seq % 100);
}

static cJSON *
s_decision_json (const struct kt_decision *d)
{
    cJSON *j = cJSON_CreateObject ();
    cJSON_AddStringToObject (j, "intent_id", d->intent_id);
    cJSON_AddStringToObject (j, "verdict", kt_verdict_str (d->verdict));
    ctl_json_i64 (j, "qty", d->qty);
    cJSON_AddStringToObject (j, "state", d->state ? kt_state_str (d->state) : "");
    cJSON_AddStringToObject (j, "coid", d->coid);
    cJSON *r = cJSON_AddArrayToObject (j, "reasons");
    for (int i = 0; i < d->nreasons; i++) {
        cJSON *x = cJSON_CreateObject ();
        cJSON_AddStringToObject (x, "code", d->reasons[i].code);
        cJSON_AddStringToObject (x, "text", d->reasons[i].text);
        cJSON_AddItemToArray (r, x);
    }
    return j;
}

static void
s_decision_text (ctl_t *ctl, const char *what, const struct kt_decision *d)
{
    fprintf (ctl->out, "%s: risk-gate %s", what, kt_verdict_str (d->verdict));
    if (d->verdict == KT_VERDICT_APPROVE || d->verdict == KT_VERDICT_REDUCE)
        fprintf (ctl->out, " qty %" PRId64 "%s%s", d->qty, d->coid[0] ? ", order " : "", d->coid);
    fprintf (ctl->out, " (trading %s)\n", d->state ? kt_state_str (d->state) : "UNKNOWN");
    for (int i = 0; i < d->nreasons; i++)
        fprintf (ctl->out, "  %s: %s\n", d->reasons[i].code, d->reasons[i].text);
}

static bool
s_exec_decisive (kt_exec_kind_t k)
{
    return k != KT_EXEC_NONE && k != KT_EXEC_SUBMITTED;
}

//  What exec-gateway did with coid: its EXEC_EVENT on exec_pub, else the order's
//  record in the book. Returns 0 with *out (event, reason, filled), 1 when neither
//  said anything decisive within S_EXEC_WAIT_MS.
static int
s_exec_outcome (ctl_t *ctl, struct s_link *l, const char *coid, struct kt_exec_event *out)
{
    memset (out, 0, sizeof *out);
    int64_t until = kt_clock_wall_mono_ns () + S_EXEC_WAIT_MS * 1000000LL;
    struct kt_msg m;
    char topic[KT_TOPIC_LEN], why[160];
    while (kt_clock_wall_mono_ns () < until) {
        zmq_pollitem_t it = {l->exec_sub, 0, ZMQ_POLLIN, 0};
        if (l->exec_sub && zmq_poll (&it, 1, 100) > 0) {
            while (kt_bus_recv (l->bus, l->exec_sub, topic, sizeof topic, &m, why, sizeof why) ==
                   0) {
                if (m.env.type != KT_MSG_EXEC_EVENT || strcmp (m.u.exec.coid, coid) != 0)
                    continue;
                *out = m.u.exec;
                if (s_exec_decisive (out->event))
                    return 0;
            }
        } else if (!l->exec_sub) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep (&ts, NULL);
        }
        //  The event may have been published before our subscription took: the book
        //  has the order once exec-gateway recorded it.
        struct kt_order_rec o;
        kt_store_t *store = ctl->store_ok ? ctl->store : NULL;
        if (store && kt_book_order_get (store, coid, &o, why, sizeof why) == 1 &&
            o.status != KT_OS_PENDING_SUBMIT && o.status != KT_OS_NONE) {
            snprintf (out->coid, sizeof out->coid, "%s", coid);
            snprintf (out->broker_id, sizeof out->broker_id, "%s", o.broker_id);
            snprintf (out->reason, sizeof out->reason, "%s", o.reason);
            out->filled_qty = o.filled_qty;
            out->avg_px = o.avg_px;
            out->event = o.status == KT_OS_FILLED       ? KT_EXEC_FILLED
                         : o.status == KT_OS_CANCELLED  ? KT_EXEC_CANCELLED
                         : o.status == KT_OS_REJECTED   ? KT_EXEC_REJECTED
                         : o.status == KT_OS_EXPIRED    ? KT_EXEC_EXPIRED
                         : o.status == KT_OS_UNRESOLVED ? KT_EXEC_UNRESOLVED
                         : o.status == KT_OS_PARTIAL    ? KT_EXEC_PARTIAL
                                                        : KT_EXEC_ACCEPTED;
            return 0;
        }
    }
    return 1;
}

//  One intent through risk-gate and, when approved, its outcome at exec-gateway.
//  Adds {"decision", "exec"} to res (JSON) or prints both. Returns an exit code.
static int
s_send (ctl_t *ctl, struct s_link *l, const char *what, struct kt_intent *in, cJSON *res)
{
    struct kt_msg msg;
    memset (&msg, 0, sizeof msg);
    msg.env.type = KT_MSG_ORDER_INTENT;
    msg.u.intent = *in;
    if (s_call (l, &msg) != 0 || l->reply.env.type != KT_MSG_RISK_DECISION) {
        if (res)
            cJSON_AddStringToObject (res, "error", "risk-gate did not answer");
        else
            fprintf (ctl->out,
                     "%s: risk-gate did not answer on %s (is it running?); nothing "
                     "was sent\n",
                     what, ctl->cfg->ep_risk);
        return CTL_EXIT_NOANSWER;
    }
    const struct kt_decision *d = &l->reply.u.decision;
    if (res)
        cJSON_AddItemToObject (res, "decision", s_decision_json (d));
    else
        s_decision_text (ctl, what, d);
    if (d->verdict != KT_VERDICT_APPROVE && d->verdict != KT_VERDICT_REDUCE)
        return CTL_EXIT_FAIL;
    const char *coid = d->coid[0] ? d->coid : in->intent_id;
    struct kt_exec_event ev;
    if (s_exec_outcome (ctl, l, coid, &ev) != 0) {
        if (res)
            cJSON_AddStringToObject (res, "exec", "no answer");
        else
            fprintf (ctl->out,
                     "  exec-gateway: no answer for %s within %d s (is it running? "
                     "`tradectl orders` shows the book)\n",
                     coid, S_EXEC_WAIT_MS / 1000);
        return CTL_EXIT_NOANSWER;
    }
    if (res) {
        cJSON *e = cJSON_AddObjectToObject (res, "exec");
        cJSON_AddStringToObject (e, "event", kt_exec_kind_str (ev.event));
        cJSON_AddStringToObject (e, "coid", coid);
        cJSON_AddStringToObject (e, "broker_id", ev.broker_id);
        ctl_json_i64 (e, "filled_qty", ev.filled_qty);
        ctl_json_i64 (e, "avg_px", ev.avg_px);
        cJSON_AddStringToObject (e, "reason", ev.reason);
    } else {
        char px[32];
        fprintf (ctl->out, "  exec-gateway: %s", kt_exec_kind_str (ev.event));
        if (ev.broker_id[0])
            fprintf (ctl->out, ", broker order %s", ev.broker_id);
        if (ev.filled_qty)
            fprintf (ctl->out, ", filled %" PRId64 " at %s", ev.filled_qty,
                     ctl_fmt_rs (ev.avg_px, px, sizeof px));
        fprintf (ctl->out, "%s%s\n", ev.reason[0] ? ": " : "", ev.reason);
    }
    return ev.event == KT_EXEC_REJECTED || ev.event == KT_EXEC_EXPIRED ? CTL_EXIT_FAIL
           : ev.event == KT_EXEC_UNRESOLVED                            ? CTL_EXIT_NOANSWER
                                                                       : CTL_EXIT_OK;
}

//  BUY / SELL in any case.
static kt_side_t
s_side (const char *a)
{
    char up[8];
    size_t i = 0;
    for (; a[i] && i + 1 < sizeof up; i++)
        up[i] = (char) (a[i] >= 'a' && a[i] <= 'z' ? a[i] - 32 : a[i]);
    up[i] = '\0';
    return a[i] ? KT_SIDE_NONE : kt_side_parse (up);
}

static int
s_price_arg (ctl_t *ctl, const char *opt, const char *val, int64_t *out)
{
    if (!val || kt_money_parse_exact (val, strlen (val), out) != 0 || *out <= 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "order: %s needs a price in rupees (e.g. 98.05)",
                             opt);
    return 0;
}

int
ctl_order_cmd_order (ctl_t *ctl, int argc, char **argv)
{
    struct kt_intent in;
    memset (&in, 0, sizeof in);
    int pos = 0;
    int64_t limit = 0, trigger = 0, stop = 0;
    in.product = KT_PROD_MIS;
    in.purpose = KT_PURPOSE_ENTRY;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp (a, "--limit") == 0)
            rc = s_price_arg (ctl, a, v, &limit), i++;
        else if (strcmp (a, "--trigger") == 0)
            rc = s_price_arg (ctl, a, v, &trigger), i++;
        else if (strcmp (a, "--stop") == 0)
            rc = s_price_arg (ctl, a, v, &stop), i++;
        else if (strcmp (a, "--exit") == 0)
            in.purpose = KT_PURPOSE_EXIT;
        else if (strcmp (a, "--nrml") == 0)
            in.product = KT_PROD_NRML;
        else if (pos == 0 && (in.side = s_side (a)) != KT_SIDE_NONE)
            pos++;
        else if (pos == 1) {
            char *end;
            in.qty = strtoll (a, &end, 10);
            if (*end || in.qty <= 0)
                return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                                     "order: quantity must be a positive "
                                     "number of units, not %s",
                                     a);
            pos++;
        } else if (pos == 2 && strlen (a) < sizeof in.sym) {
            snprintf (in.sym, sizeof in.sym, "%s", a);
            pos++;
        } else
            return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                                 "order: unexpected argument %s (usage: order "
                                 "BUY|SELL QTY SYMBOL [options])",
                                 a);
        if (rc)
            return rc;
    }
    if (pos != 3)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "order: usage: order BUY|SELL QTY SYMBOL "
                             "[--limit RS] [--trigger RS] [--stop RS] [--exit]");
    in.order_type = limit && trigger ? KT_OT_SL
                    : limit          ? KT_OT_LIMIT
                    : trigger        ? KT_OT_SLM
                                     : KT_OT_MARKET;
    in.price = limit;
    in.trigger = trigger;
    if (stop) {
        in.has_stop = true;
        in.stop_trigger = stop;
    }
    snprintf (in.strategy, sizeof in.strategy, "tradectl");
    struct s_link l;
    int rc = s_link_open (ctl, &l);
    if (rc == 0) {
        ctl_ctx_store (ctl); //  optional: the book confirms what exec-gateway did
        s_intent_id (&l, 'o', in.intent_id, sizeof in.intent_id);
        cJSON *res = ctl->json ? cJSON_CreateObject () : NULL;
        char what[96];
        snprintf (what, sizeof what, "%s %" PRId64 " %s", kt_side_str (in.side), in.qty, in.sym);
        rc = s_send (ctl, &l, what, &in, res);
        if (res)
            ctl_json_emit (ctl, res, rc);
    }
    s_link_close (&l);
    return rc;
}

//  Run one intent per item and collect the worst exit code.
static int
s_worst (int a, int b)
{
    //  NOANSWER and REDIS outrank FAIL: the operator must look, the outcome is unknown.
    int rank[] = {0, 1, 0, 2, 3};
    return rank[b] > rank[a] ? b : a;
}

int
ctl_order_cmd_flatten (ctl_t *ctl, int argc, char **argv)
{
    if (argc > 2)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "flatten: usage: flatten [SYMBOL]");
    const char *only = argc == 2 ? argv[1] : NULL;
    if (!ctl_ctx_store (ctl))
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS,
                             "flatten: the positions are in Redis; without it "
                             "close them at the broker (Kite web) by hand");
    char why[256];
    struct kt_pos_rec *pos;
    int n = ctl_book_positions (ctl, &pos, why, sizeof why);
    if (n < 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "flatten: %s", why);
    struct s_link l;
    int rc = s_link_open (ctl, &l);
    cJSON *root = ctl->json ? cJSON_CreateObject () : NULL;
    cJSON *arr = root ? cJSON_AddArrayToObject (root, "results") : NULL;
    int done = 0;
    for (int i = 0; rc != CTL_EXIT_USAGE && i < n; i++) {
        if (pos[i].qty == 0 || (only && strcmp (only, pos[i].sym) != 0))
            continue;
        struct kt_intent in;
        memset (&in, 0, sizeof in);
        s_intent_id (&l, 'f', in.intent_id, sizeof in.intent_id);
        snprintf (in.strategy, sizeof in.strategy, "tradectl");
        snprintf (in.sym, sizeof in.sym, "%s", pos[i].sym);
        in.side = pos[i].qty > 0 ? KT_SIDE_SELL : KT_SIDE_BUY;
        in.qty = pos[i].qty > 0 ? pos[i].qty : -pos[i].qty;
        in.order_type = KT_OT_MARKET;
        //  The product of the entry that opened it: an NRML position closes as NRML.
        struct kt_order_rec entry;
        in.product = pos[i].entry_coid[0] &&
                             kt_book_order_get (ctl->store, pos[i].entry_coid, &entry, why,
                                                sizeof why) == 1 &&
                             entry.product
                         ? entry.product
                         : KT_PROD_MIS;
        in.purpose = KT_PURPOSE_FLATTEN;
        in.reason = KT_EXIT_MANUAL; //  an operator's: the journal's exit_reason
        cJSON *res = NULL;
        if (arr) {
            res = cJSON_CreateObject ();
            cJSON_AddStringToObject (res, "sym", in.sym);
            ctl_json_i64 (res, "qty", pos[i].qty);
            cJSON_AddItemToArray (arr, res);
        }
        char what[96];
        snprintf (what, sizeof what, "flatten %s (%+" PRId64 ")", in.sym, pos[i].qty);
        rc = s_worst (rc, s_send (ctl, &l, what, &in, res));
        done++;
    }
    free (pos);
    s_link_close (&l);
    if (done == 0 && rc == 0) {
        if (only)
            rc = ctl_ctx_fail (ctl, CTL_EXIT_FAIL, "flatten: no open position in %s", only);
        else if (!root)
            fprintf (ctl->out, "flatten: no open positions, nothing to do\n");
    }
    return root ? ctl_json_emit (ctl, root, rc) : rc;
}

int
ctl_order_cmd_cancel_all (ctl_t *ctl, int argc, char **argv)
{
    (void) argv;
    if (argc != 1)
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE, "cancel-all takes no arguments");
    if (!ctl_ctx_store (ctl))
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS,
                             "cancel-all: the open orders are in Redis; "
                             "without it cancel them at the broker by hand");
    char why[256];
    struct kt_order_rec *ord;
    int n = ctl_book_open_orders (ctl, &ord, why, sizeof why);
    if (n < 0)
        return ctl_ctx_fail (ctl, CTL_EXIT_REDIS, "cancel-all: %s", why);
    struct s_link l;
    int rc = s_link_open (ctl, &l);
    cJSON *root = ctl->json ? cJSON_CreateObject () : NULL;
    cJSON *arr = root ? cJSON_AddArrayToObject (root, "results") : NULL;
    for (int i = 0; rc != CTL_EXIT_USAGE && i < n; i++) {
        struct kt_intent in;
        memset (&in, 0, sizeof in);
        s_intent_id (&l, 'c', in.intent_id, sizeof in.intent_id);
        snprintf (in.strategy, sizeof in.strategy, "tradectl");
        snprintf (in.sym, sizeof in.sym, "%s", ord[i].sym);
        snprintf (in.ref, sizeof in.ref, "%s", ord[i].coid);
        in.side = ord[i].side;
        in.qty = ord[i].qty;
        in.order_type = ord[i].order_type ? ord[i].order_type : KT_OT_MARKET;
        in.price = ord[i].price;
        in.trigger = ord[i].trigger;
        in.product = ord[i].product;
        in.purpose = KT_PURPOSE_CANCEL;
        cJSON *res = NULL;
        if (arr) {
            res = cJSON_CreateObject ();
            cJSON_AddStringToObject (res, "ref", ord[i].coid);
            cJSON_AddItemToArray (arr, res);
        }
        char what[96];
        snprintf (what, sizeof what, "cancel %s (%s %s)", ord[i].coid, ord[i].sym,
                  kt_purpose_str (ord[i].purpose));
        rc = s_worst (rc, s_send (ctl, &l, what, &in, res));
    }
    if (n == 0 && !root)
        fprintf (ctl->out, "cancel-all: no open orders, nothing to do\n");
    free (ord);
    s_link_close (&l);
    return root ? ctl_json_emit (ctl, root, rc) : rc;
}

//  After the kill switch: what risk-gate's halt did at exec-gateway. A halt's commands
//  (cancel pending entries, flatten when configured) carry no symbol, which is how
//  their EXEC_EVENTs are told from those of orders.
static int
s_halt_commands (ctl_t *ctl, struct s_link *l, cJSON *root)
{
    int64_t until = kt_clock_wall_mono_ns () + S_EXEC_WAIT_MS * 1000000LL;
    struct kt_msg m;
    char topic[KT_TOPIC_LEN], why[160];
    cJSON *arr = root ? cJSON_AddArrayToObject (root, "exec") : NULL;
    int seen = 0, failed = 0;
    while (kt_clock_wall_mono_ns () < until) {
        zmq_pollitem_t it = {l->exec_sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&it, 1, 100) <= 0)
            continue;
        while (kt_bus_recv (l->bus, l->exec_sub, topic, sizeof topic, &m, why, sizeof why) == 0) {
            if (m.env.type != KT_MSG_EXEC_EVENT || m.u.exec.sym[0] ||
                !s_exec_decisive (m.u.exec.event))
                continue;
            //  A halt sends one or two commands (cancel, flatten): after the first answer
            //  wait a little longer for the second.
            if (!seen++)
                until = kt_clock_wall_mono_ns () + 1000000000LL;
            failed += m.u.exec.event == KT_EXEC_REJECTED;
            if (arr) {
                cJSON *e = cJSON_CreateObject ();
                cJSON_AddStringToObject (e, "coid", m.u.exec.coid);
                cJSON_AddStringToObject (e, "event", kt_exec_kind_str (m.u.exec.event));
                cJSON_AddStringToObject (e, "reason", m.u.exec.reason);
                cJSON_AddItemToArray (arr, e);
            } else
                fprintf (ctl->out, "exec-gateway answered %s: %s%s%s\n", m.u.exec.coid,
                         kt_exec_kind_str (m.u.exec.event), m.u.exec.reason[0] ? ": " : "",
                         m.u.exec.reason);
        }
    }
    if (!seen && !root)
        fprintf (ctl->out,
                 "exec-gateway: no answer to the halt's cancel of pending entries "
                 "within %d s: check `tradectl orders` and cancel by hand if needed\n",
                 S_EXEC_WAIT_MS / 1000);
    return !seen ? CTL_EXIT_NOANSWER : failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

//  Without Redis the kill switch cannot be written; risk-gate is asked to hold the halt
//  (purpose HALT) and write it to Redis when it is back.
static int
s_halt_socket (ctl_t *ctl, struct s_link *l, const char *reason, cJSON *root)
{
    struct kt_intent in;
    memset (&in, 0, sizeof in);
    s_intent_id (l, 'h', in.intent_id, sizeof in.intent_id);
    snprintf (in.strategy, sizeof in.strategy, "tradectl");
    //  The wire form requires a symbol, side and type; a halt covers every symbol.
    snprintf (in.sym, sizeof in.sym, "*");
    in.side = KT_SIDE_SELL;
    in.order_type = KT_OT_MARKET;
    in.purpose = KT_PURPOSE_HALT;
    struct kt_msg msg;
    memset (&msg, 0, sizeof msg);
    msg.env.type = KT_MSG_ORDER_INTENT;
    msg.u.intent = in;
    if (s_call (l, &msg) != 0 || l->reply.env.type != KT_MSG_RISK_DECISION) {
        if (root)
            cJSON_AddStringToObject (root, "risk_gate", "no answer");
        else
            fprintf (ctl->out,
                     "risk-gate did not answer on %s either: the halt is NOT set. "
                     "Stop the strategy (supervisorctl stop strategy) and close "
                     "positions at the broker by hand.\n",
                     ctl->cfg->ep_risk);
        return CTL_EXIT_NOANSWER;
    }
    const struct kt_decision *d = &l->reply.u.decision;
    bool held = d->verdict == KT_VERDICT_HALT || d->state == KT_STATE_HALTED;
    if (root)
        cJSON_AddItemToObject (root, "risk_gate", s_decision_json (d));
    else {
        fprintf (ctl->out, "%s (%s)\n",
                 held ? "risk-gate holds the halt and writes it to Redis when it is back"
                      : "risk-gate did NOT take the halt",
                 reason);
        s_decision_text (ctl, "halt", d);
    }
    return held ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int
ctl_order_cmd_halt (ctl_t *ctl, int argc, char **argv)
{
    if (argc != 2 || !argv[1][0])
        return ctl_ctx_fail (ctl, CTL_EXIT_USAGE,
                             "halt: usage: halt \"REASON\" (the reason is shown "
                             "to everyone who resumes)");
    const char *reason = argv[1];
    struct s_link l;
    int rc = s_link_open (ctl, &l);
    if (rc != 0) {
        s_link_close (&l);
        return rc;
    }
    cJSON *root = ctl->json ? cJSON_CreateObject () : NULL;
    if (root)
        cJSON_AddStringToObject (root, "reason", reason);
    kt_store_t *store = ctl_ctx_store (ctl);
    if (!store || ctl_kill_halt (store, reason, ctl->by, ctl_ctx_now (ctl, NULL)) != 0) {
        if (root)
            cJSON_AddBoolToObject (root, "kill_switch", false);
        else
            fprintf (ctl->out, "kill switch NOT set in Redis (%s); asking risk-gate directly\n",
                     store ? kt_store_errstr (store) : "Redis unavailable");
        rc = s_halt_socket (ctl, &l, reason, root);
    } else {
        if (root)
            cJSON_AddBoolToObject (root, "kill_switch", true);
        else
            fprintf (ctl->out, "kill switch set: %s\n", reason);
        int w = ctl_kill_wait (store, KT_STATE_HALTED, 3000);
        if (root)
            cJSON_AddStringToObject (root, "state", w == 0 ? "HALTED" : "UNCONFIRMED");
        if (w == 0) {
            if (!root)
                fprintf (ctl->out, "risk-gate: HALTED, entries refused\n");
            rc = s_halt_commands (ctl, &l, root);
        } else {
            if (!root)
                fprintf (ctl->out, "risk-gate has not confirmed HALTED within 3 s: is it "
                                   "running? The switch stays set and refuses every entry on "
                                   "its next decision.\n");
            rc = CTL_EXIT_NOANSWER;
        }
    }
    s_link_close (&l);
    return root ? ctl_json_emit (ctl, root, rc) : rc;
}
