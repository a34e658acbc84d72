/*  exec_update - Kite order updates: the WebSocket `order` text and the postback body.
 *
 *  Both carry the order object of GET /orders (plus unfilled_quantity, checksum), so
 *  they are read by the same row parser; the WebSocket wraps it as
 *  {"type":"order","data":{...}} among other text messages (error, message), which are
 *  not ours to act on. */

#include "exec_kite.h"

#include <stdio.h>
#include <string.h>

int
exec_update_parse (const char *text, size_t len, struct exec_kite_row *row, char *why,
                   size_t whylen)
{
    memset (row, 0, sizeof *row);
    exec_json_t doc;
    if (exec_json_parse (&doc, text, len, why, whylen) != 0)
        return -1;
    const cJSON *obj = doc.root;
    int rc = -1;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive (obj, "type");
    if (!cJSON_IsObject (obj))
        snprintf (why, whylen, "order update is not an object");
    else if (cJSON_IsString (type) && strcmp (type->valuestring, "order") != 0)
        rc = 1;
    else {
        if (cJSON_IsString (type))
            obj = cJSON_GetObjectItemCaseSensitive (obj, "data");
        rc = exec_kite_row_parse (&doc, obj, row, why, whylen);
    }
    exec_json_free (&doc);
    return rc;
}

void
exec_update_from_msg (const struct kt_order_update *u, struct exec_kite_row *row)
{
    memset (row, 0, sizeof *row);
    snprintf (row->order_id, sizeof row->order_id, "%s", u->order_id);
    snprintf (row->parent_order_id, sizeof row->parent_order_id, "%s", u->parent_order_id);
    snprintf (row->status, sizeof row->status, "%s", u->status);
    snprintf (row->status_message, sizeof row->status_message, "%s", u->status_message);
    snprintf (row->tag, sizeof row->tag, "%s", u->tag);
    snprintf (row->sym, sizeof row->sym, "%s", u->sym);
    //  The update carries Kite's words; products we do not trade stay NONE.
    row->side = kt_side_parse (u->transaction_type);
    row->type = kt_order_type_parse (u->order_type);
    row->product = kt_product_parse (u->product);
    row->qty = u->qty;
    row->filled = u->filled_qty;
    row->pending = u->pending_qty;
    row->cancelled = u->cancelled_qty;
    row->price = u->price;
    row->trigger = u->trigger;
    row->avg_px = u->avg_price;
}
