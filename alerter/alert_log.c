/*  alert_log - the one format of every log line about an alert. */

#include "alert.h"

#define S_EXTRA_MAX 8

void
alert_log (int lvl, const char *ev, const struct alert_item *it, const kt_kv_t *extra)
{
    if (lvl < 0)
        lvl = it->severity == KT_SEV_INFO      ? KT_LOG_INFO
              : it->severity == KT_SEV_WARNING ? KT_LOG_WARN
                                               : KT_LOG_ERROR;
    if ((kt_log_level_t) lvl < kt_log_threshold)
        return;
    kt_kv_t kv[8 + S_EXTRA_MAX + 1];
    int n = 0;
    if (it->id > 0)
        kv[n++] = KT_I ("id", it->id);
    kv[n++] = KT_S ("severity", kt_severity_str (it->severity));
    kv[n++] = KT_S ("key", it->key);
    kv[n++] = KT_S ("src", it->src);
    kv[n++] = KT_S ("text", it->text);
    kv[n++] = KT_I ("count", it->count);
    for (int i = 0; extra && extra[i].key && i < S_EXTRA_MAX; i++)
        kv[n++] = extra[i];
    kv[n] = KT_END;
    kt_log_emit ((kt_log_level_t) lvl, ev, kv);
}
