/*  strat_ids - intent ids "<id>-<yyMMdd>-<seq>" that fit Kite's 20-character tag and are
 *  never reused: the day's sequence lives in Redis (strat:seq:<id>-<yyMMdd>) and is
 *  reserved in blocks, so a restart continues after the last block any run reserved. */

#include "strat.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int
strat_ids_format (const char *sid, int32_t yyyymmdd, int64_t seq, char *out)
{
    char buf[64];
    int n = snprintf (buf, sizeof buf, "%s-%06d-%lld", sid, (int) (yyyymmdd % 1000000),
                      (long long) seq);
    if (n < 0 || n > KT_ID_WIRE_MAX || seq < 1)
        return -1;
    memcpy (out, buf, (size_t) n + 1);
    return 0;
}

int
strat_ids_init (struct strat_ids *ids, const char *sid, char *err, size_t errlen)
{
    memset (ids, 0, sizeof *ids);
    size_t n = strlen (sid);
    bool ok = n >= 1 && n <= 7;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum ((unsigned char) sid[i]) != 0;
    if (!ok) {
        snprintf (err, errlen,
                  "strategy.id: \"%s\" must be 1..7 letters or digits (intent ids "
                  "\"<id>-<yyMMdd>-<seq>\" are at most %d chars)",
                  sid, KT_ID_WIRE_MAX);
        return -1;
    }
    memcpy (ids->sid, sid, n + 1);
    //  <id> - 6 digits - seq
    int digits = KT_ID_WIRE_MAX - (int) n - 8;
    ids->max_seq = 1;
    for (int i = 0; i < digits && i < 18; i++)
        ids->max_seq *= 10;
    ids->max_seq -= 1;
    return 0;
}

char *
strat_ids_seq_arg (const struct strat_ids *ids, int32_t yyyymmdd, char *buf, size_t len)
{
    snprintf (buf, len, "%s-%06d", ids->sid, (int) (yyyymmdd % 1000000));
    return buf;
}

bool
strat_ids_ready (const struct strat_ids *ids, int32_t yyyymmdd)
{
    return ids->day == yyyymmdd && ids->next <= ids->last;
}

int
strat_ids_grant (struct strat_ids *ids, int32_t yyyymmdd, int64_t last)
{
    if (last < STRAT_IDS_BLOCK)
        return -1;
    ids->day = yyyymmdd;
    ids->next = last - STRAT_IDS_BLOCK + 1;
    ids->last = last;
    return 0;
}

int
strat_ids_take (struct strat_ids *ids, int32_t yyyymmdd, char *out)
{
    if (!strat_ids_ready (ids, yyyymmdd))
        return 1;
    if (ids->next > ids->max_seq)
        return -1;
    if (strat_ids_format (ids->sid, yyyymmdd, ids->next, out) != 0)
        return -1;
    ids->next++;
    return 0;
}

bool
strat_ids_ours (const char *intent_id, const char *sid)
{
    size_t n = strlen (sid);
    return n > 0 && strncmp (intent_id, sid, n) == 0 && intent_id[n] == '-';
}
