/*  exec_order - the order lifecycle: our states, Kite's statuses, and which
 *  observations of the broker's order count.
 *
 *  Order updates, the order book poll and look-ups by tag all describe the same order
 *  and arrive in any order, twice, or late. Two facts only move forward: the filled
 *  quantity (never decreases) and the rank of the state (a terminal state is never
 *  left). Everything that would move either backwards is dropped here, so the book is
 *  written only with progress. Fills come from increases of the filled quantity
 *  (kite-protocol 4.2), priced by the change of the order's VWAP. */

#include "exec_kite.h"

#include <stdio.h>
#include <string.h>

static const char *const s_state_names[] = {"NONE",     "PENDING_SUBMIT", "UNRESOLVED",
                                            "ACCEPTED", "OPEN",           "TRIGGER PENDING",
                                            "COMPLETE", "CANCELLED",      "REJECTED"};

_Static_assert(sizeof s_state_names / sizeof s_state_names[0] == EXEC_ST_COUNT, "names");

const char *
exec_state_str (exec_state_t s)
{
    return s >= 0 && s < EXEC_ST_COUNT ? s_state_names[s] : "?";
}

exec_state_t
exec_state_parse (const char *s)
{
    for (int i = 1; s && i < EXEC_ST_COUNT; i++)
        if (strcmp (s, s_state_names[i]) == 0)
            return (exec_state_t) i;
    return EXEC_ST_NONE;
}

bool
exec_state_terminal (exec_state_t s)
{
    return s == EXEC_ST_COMPLETE || s == EXEC_ST_CANCELLED || s == EXEC_ST_REJECTED;
}

static int
s_rank (exec_state_t s)
{
    switch (s) {
        case EXEC_ST_NONE:
            return 0;
        case EXEC_ST_PENDING_SUBMIT:
            return 1;
        case EXEC_ST_UNRESOLVED:
            return 2;
        case EXEC_ST_ACCEPTED:
            return 3;
        case EXEC_ST_OPEN:
        case EXEC_ST_TRIGGER_PENDING:
            return 4;
        default:
            return 9;
    }
}

//  Statuses that describe work on a live order without changing what it is.
static const char *const s_in_place[] = {"UPDATE",         "MODIFY VALIDATION PENDING",
                                         "MODIFY PENDING", "MODIFIED",
                                         "NOT MODIFIED",   "CANCEL PENDING",
                                         "NOT CANCELLED",  NULL};

static const char *const s_before_open[] = {"PUT ORDER REQ RECEIVED", "VALIDATION PENDING",
                                            "OPEN PENDING", "AMO REQ RECEIVED", NULL};

static bool
s_listed (const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp (*list, s) == 0)
            return true;
    return false;
}

exec_state_t
exec_state_from_kite (const char *status, bool *known)
{
    bool k = true;
    exec_state_t s = EXEC_ST_OPEN;
    if (strcmp (status, "OPEN") == 0)
        s = EXEC_ST_OPEN;
    else if (strcmp (status, "TRIGGER PENDING") == 0)
        s = EXEC_ST_TRIGGER_PENDING;
    else if (strcmp (status, "COMPLETE") == 0)
        s = EXEC_ST_COMPLETE;
    else if (strcmp (status, "CANCELLED") == 0)
        s = EXEC_ST_CANCELLED;
    else if (strcmp (status, "REJECTED") == 0)
        s = EXEC_ST_REJECTED;
    else if (s_listed (s_before_open, status))
        s = EXEC_ST_ACCEPTED;
    else if (!s_listed (s_in_place, status))
        k = false;
    if (known)
        *known = k;
    return s;
}

kt_exec_kind_t
exec_order_event_kind (exec_state_t s, int64_t filled, int64_t qty)
{
    switch (s) {
        case EXEC_ST_PENDING_SUBMIT:
            return KT_EXEC_SUBMITTED;
        case EXEC_ST_UNRESOLVED:
            return KT_EXEC_UNRESOLVED;
        case EXEC_ST_ACCEPTED:
        case EXEC_ST_OPEN:
        case EXEC_ST_TRIGGER_PENDING:
            return filled > 0 && filled < qty ? KT_EXEC_PARTIAL
                   : filled > 0               ? KT_EXEC_FILLED
                                              : KT_EXEC_ACCEPTED;
        case EXEC_ST_COMPLETE:
            return KT_EXEC_FILLED;
        case EXEC_ST_CANCELLED:
            return KT_EXEC_CANCELLED;
        case EXEC_ST_REJECTED:
            return KT_EXEC_REJECTED;
        default:
            return KT_EXEC_NONE;
    }
}

int64_t
exec_order_fill_px (int64_t filled0, int64_t avg0, int64_t filled1, int64_t avg1)
{
    int64_t v0, v1, dv;
    int64_t dq = filled1 - filled0;
    if (dq <= 0 || filled0 < 0)
        return 0;
    if (!kt_money_mul (avg0, filled0, &v0) || !kt_money_mul (avg1, filled1, &v1) ||
        !kt_money_sub (v1, v0, &dv) || dv < 0)
        return 0;
    return (dv + dq / 2) / dq;
}

static void
s_drop (struct exec_order_step *out, const char *why)
{
    out->apply = false;
    out->why = why;
}

void
exec_order_judge (const struct exec_order_fsm *o, const struct exec_kite_row *row,
                  struct exec_order_step *out)
{
    memset (out, 0, sizeof *out);
    out->state = o->state;
    out->filled = o->filled;
    out->avg_px = o->avg_px;
    out->qty = o->qty;
    out->price = o->price;
    out->trigger = o->trigger;
    if (o->broker_id[0] && row->order_id[0] && strcmp (o->broker_id, row->order_id) != 0)
        return s_drop (out, "another broker order");
    if (row->filled < o->filled)
        return s_drop (out, "filled quantity went back: stale");
    exec_state_t next = exec_state_from_kite (row->status, NULL);
    bool live = o->state == EXEC_ST_OPEN || o->state == EXEC_ST_TRIGGER_PENDING;
    if (live && s_listed (s_in_place, row->status))
        next = o->state;
    bool fill = row->filled > o->filled;
    if (exec_state_terminal (o->state)) {
        if (!fill)
            return s_drop (out, "order already ended");
        next = o->state; //  a late fill of an ended order still counts
    } else if (!fill && s_rank (next) < s_rank (o->state))
        return s_drop (out, "state older than ours: stale");
    if (!fill && row->ts[0] && o->ts[0] && strcmp (row->ts, o->ts) < 0)
        return s_drop (out, "broker time older than ours: stale");
    bool firm = strcmp (row->status, "UPDATE") == 0 || !s_listed (s_in_place, row->status);
    bool terms = firm && !exec_state_terminal (next) &&
                 ((row->qty > 0 && row->qty != o->qty) || row->price != o->price ||
                  row->trigger != o->trigger);
    //  A stop that triggers (TRIGGER PENDING -> OPEN) keeps its terms: not a modification.
    bool modified = terms && s_rank (o->state) >= 3;
    if (!fill && next == o->state && !terms)
        return s_drop (out, "duplicate");
    out->apply = true;
    out->state = next;
    out->modified = modified;
    if (firm && row->qty > 0 && !exec_state_terminal (o->state))
        out->qty = row->qty;
    if (firm && !exec_state_terminal (o->state)) {
        out->price = row->price;
        out->trigger = row->trigger;
    }
    if (row->ts[0] && strcmp (row->ts, o->ts) > 0)
        snprintf (out->ts, sizeof out->ts, "%s", row->ts);
    else
        snprintf (out->ts, sizeof out->ts, "%s", o->ts);
    if (fill) {
        out->fill_qty = row->filled - o->filled;
        out->filled = row->filled;
        out->avg_px = row->avg_px;
        out->fill_px = exec_order_fill_px (o->filled, o->avg_px, row->filled, row->avg_px);
        if (out->fill_px <= 0)
            out->fill_px = row->avg_px;
        out->event =
            next == EXEC_ST_COMPLETE || out->filled >= out->qty ? KT_EXEC_FILLED : KT_EXEC_PARTIAL;
        if (next != o->state && (next == EXEC_ST_CANCELLED || next == EXEC_ST_REJECTED))
            out->end_event = exec_order_event_kind (next, out->filled, out->qty);
        return;
    }
    if (modified && next == o->state)
        out->event = KT_EXEC_MODIFIED;
    else if (next != o->state)
        out->event = exec_order_event_kind (next, out->filled, out->qty);
    //  Once accepted, a state change without a new fill says nothing new: fills were
    //  told by their own events (FILLED included), triggers are not events.
    bool quiet = out->event == KT_EXEC_ACCEPTED || out->event == KT_EXEC_PARTIAL ||
                 out->event == KT_EXEC_FILLED;
    if (quiet && s_rank (o->state) >= 3)
        out->event = modified ? KT_EXEC_MODIFIED : KT_EXEC_NONE;
}
