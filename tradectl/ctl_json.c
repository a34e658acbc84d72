/*  ctl_json - the --json forms of the book's records: every field as stored (money in
 *  paise, times in ns, enums by name) so a script never parses text meant for people. */

#include <stdlib.h>
#include "ctl_cmd.h"

void
ctl_json_i64 (cJSON *o, const char *name, int64_t v)
{
    //  Raw decimal text: a double would round ns timestamps (> 2^53) and large paise.
    char t[24];
    snprintf (t, sizeof t, "%lld", (long long) v);
    cJSON_AddRawToObject (o, name, t);
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
    ctl_json_i64 (j, "qty", o->qty);
    ctl_json_i64 (j, "filled_qty", o->filled_qty);
    ctl_json_i64 (j, "price", o->price);
    ctl_json_i64 (j, "trigger", o->trigger);
    ctl_json_i64 (j, "avg_px", o->avg_px);
    cJSON_AddStringToObject (j, "reason", o->reason);
    cJSON_AddStringToObject (j, "exit_reason", o->exit_reason);
    ctl_json_i64 (j, "created_ns", o->created_ns);
    ctl_json_i64 (j, "updated_ns", o->updated_ns);
    char age[32];
    cJSON_AddStringToObject (j, "age", ctl_fmt_age (now_ns - o->created_ns, age, sizeof age));
    return j;
}

cJSON *
ctl_json_pos (const struct kt_pos_rec *p)
{
    cJSON *j = cJSON_CreateObject ();
    cJSON_AddStringToObject (j, "sym", p->sym);
    ctl_json_i64 (j, "qty", p->qty);
    ctl_json_i64 (j, "avg_px", p->avg_px);
    ctl_json_i64 (j, "open_value", p->open_value);
    ctl_json_i64 (j, "realised", p->realised);
    ctl_json_i64 (j, "stop_px", p->stop_px);
    cJSON_AddStringToObject (j, "stop_coid", p->stop_coid);
    cJSON_AddStringToObject (j, "entry_coid", p->entry_coid);
    ctl_json_i64 (j, "r_value", p->r_value);
    ctl_json_i64 (j, "opened_ns", p->opened_ns);
    ctl_json_i64 (j, "updated_ns", p->updated_ns);
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
    ctl->emitted = true;
    return code;
}
