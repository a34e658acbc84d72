/*  ctl_json - the --json forms of the book's records: every field as stored (money in
 *  paise, times in ns, enums by name) so a script never parses text meant for people. */

#include <stdlib.h>
#include "ctl_cmd.h"

static void
s_num (cJSON *o, const char *name, int64_t v)
{
    //  cJSON numbers are doubles: paise and ns of real values stay below 2^53, but
    //  an int64 that would not survives as exact text instead.
    if (v > -(1LL << 53) && v < (1LL << 53))
        cJSON_AddNumberToObject (o, name, (double) v);
    else {
        char t[24];
        snprintf (t, sizeof t, "%lld", (long long) v);
        cJSON_AddStringToObject (o, name, t);
    }
}

cJSON *
ctl_json_order (const struct kt_order_rec *o, int64_t now_ns)
{
    cJSON *j = cJSON_CreateObject ();
    cJSON_AddStringToObject (j, "coid", o->coid);
    cJSON_AddStringToObject (j, "intent_id", o->intent_id);
    cJSON_AddStringToObject (j, "parent", o->parent);
    cJSON_AddStringToObject (j, "broker_id", o->broker_id);
    cJSON_AddStringToObject (j, "sym", o->sym);
    cJSON_AddStringToObject (j, "side", o->side ? kt_side_str (o->side) : "");
    cJSON_AddStringToObject (j, "order_type",
                             o->order_type ? kt_order_type_str (o->order_type) : "");
    cJSON_AddStringToObject (j, "product", o->product ? kt_product_str (o->product) : "");
    cJSON_AddStringToObject (j, "purpose", o->purpose ? kt_purpose_str (o->purpose) : "");
    cJSON_AddStringToObject (j, "status", o->status ? kt_ord_status_str (o->status) : "");
    cJSON_AddStringToObject (j, "broker_status", o->broker_status);
    s_num (j, "qty", o->qty);
    s_num (j, "filled_qty", o->filled_qty);
    s_num (j, "price", o->price);
    s_num (j, "trigger", o->trigger);
    s_num (j, "avg_px", o->avg_px);
    cJSON_AddStringToObject (j, "reason", o->reason);
    cJSON_AddStringToObject (j, "exit_reason", o->exit_reason);
    s_num (j, "created_ns", o->created_ns);
    s_num (j, "updated_ns", o->updated_ns);
    char age[32];
    cJSON_AddStringToObject (j, "age", ctl_fmt_age (now_ns - o->created_ns, age, sizeof age));
    return j;
}

cJSON *
ctl_json_pos (const struct kt_pos_rec *p)
{
    cJSON *j = cJSON_CreateObject ();
    cJSON_AddStringToObject (j, "sym", p->sym);
    s_num (j, "qty", p->qty);
    s_num (j, "avg_px", p->avg_px);
    s_num (j, "open_value", p->open_value);
    s_num (j, "realised", p->realised);
    s_num (j, "stop_px", p->stop_px);
    cJSON_AddStringToObject (j, "stop_coid", p->stop_coid);
    cJSON_AddStringToObject (j, "entry_coid", p->entry_coid);
    s_num (j, "r_value", p->r_value);
    s_num (j, "opened_ns", p->opened_ns);
    s_num (j, "updated_ns", p->updated_ns);
    return j;
}

int
ctl_json_emit (ctl_t *ctl, cJSON *root, int code)
{
    char *text = cJSON_PrintUnformatted (root);
    if (text) {
        fprintf (ctl->out, "%s\n", text);
        free (text);
    }
    cJSON_Delete (root);
    return code;
}
