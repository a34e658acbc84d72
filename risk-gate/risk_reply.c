/*  risk_reply - the messages risk-gate sends, built from results: RISK_DECISION for
 *  the caller, ORDER_COMMAND for exec-gateway, the commands of a halt, and the joined
 *  reason forms stored in Redis (intent:<id> codes / texts).
 *
 *  Pure: no I/O. The coid of an approved intent is its intent_id (<= 20 chars, the Kite
 *  tag), so a retried send repeats the same id and exec-gateway answers the first
 *  outcome again; halt commands take their ids from the halt number for the same reason. */

#include <stdio.h>
#include <string.h>
#include "risk.h"

void
risk_reply_decision (const struct kt_intent *in, const struct risk_decided *d,
                     struct kt_decision *out)
{
    memset (out, 0, sizeof *out);
    snprintf (out->intent_id, sizeof out->intent_id, "%s", in->intent_id);
    out->verdict = d->verdict;
    out->qty = d->qty;
    out->state = d->state;
    snprintf (out->coid, sizeof out->coid, "%s", d->coid);
    int n = d->nreasons < KT_REASONS_MAX ? d->nreasons : KT_REASONS_MAX;
    for (int i = 0; i < n; i++) {
        snprintf (out->reasons[i].code, sizeof out->reasons[i].code, "%s",
                  kt_reason_str (d->reasons[i].code));
        snprintf (out->reasons[i].text, sizeof out->reasons[i].text, "%s", d->reasons[i].text);
    }
    out->nreasons = n;
}

static kt_action_t
s_action (kt_purpose_t p)
{
    switch (p) {
        case KT_PURPOSE_ENTRY:
        case KT_PURPOSE_EXIT:
        case KT_PURPOSE_STOP:
            return KT_ACTION_PLACE;
        case KT_PURPOSE_MODIFY:
            return KT_ACTION_MODIFY;
        case KT_PURPOSE_CANCEL:
            return KT_ACTION_CANCEL;
        case KT_PURPOSE_FLATTEN:
            return KT_ACTION_FLATTEN;
        default:
            return KT_ACTION_NONE;
    }
}

void
risk_reply_command (const struct kt_intent *in, const char *coid, int64_t qty,
                    struct kt_order_cmd *out)
{
    memset (out, 0, sizeof *out);
    snprintf (out->coid, sizeof out->coid, "%s", coid);
    snprintf (out->intent_id, sizeof out->intent_id, "%s", in->intent_id);
    out->action = s_action (in->purpose);
    snprintf (out->sym, sizeof out->sym, "%s", in->sym);
    out->side = in->side;
    out->qty = qty;
    out->order_type = in->order_type;
    out->price = in->price;
    out->trigger = in->trigger;
    //  product is optional on the intent: absent means MIS (docs/messages.md); a MODIFY
    //  leaves the order's product as it is
    out->product =
        in->product == KT_PROD_NONE && in->purpose != KT_PURPOSE_MODIFY ? KT_PROD_MIS : in->product;
    out->purpose = in->purpose;
    snprintf (out->ref, sizeof out->ref, "%s", in->ref);
    out->has_stop = in->has_stop;
    out->stop_trigger = in->stop_trigger;
    out->stop_price = in->stop_price;
    out->r_value = in->r_value;
    out->reason = in->reason;
}

int
risk_reply_halt_commands (int64_t halt_seq, bool flatten, struct kt_order_cmd *out, int max)
{
    int n = 0;
    if (n < max) {
        memset (&out[n], 0, sizeof out[n]);
        snprintf (out[n].coid, sizeof out[n].coid, "rg-cancel-%lld", (long long) halt_seq);
        snprintf (out[n].intent_id, sizeof out[n].intent_id, "%s", out[n].coid);
        out[n].action = KT_ACTION_CANCEL_ALL;
        out[n].purpose = KT_PURPOSE_ENTRY; //  pending entries only: stops stay
        n++;
    }
    if (flatten && n < max) {
        memset (&out[n], 0, sizeof out[n]);
        snprintf (out[n].coid, sizeof out[n].coid, "rg-flat-%lld", (long long) halt_seq);
        snprintf (out[n].intent_id, sizeof out[n].intent_id, "%s", out[n].coid);
        out[n].action = KT_ACTION_FLATTEN;
        out[n].purpose = KT_PURPOSE_FLATTEN;
        out[n].reason = KT_EXIT_HALT;
        n++;
    }
    return n;
}
