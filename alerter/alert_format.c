/*  alert_format - the request each channel sends for one alert, and whether its answer
 *  means delivered (pure: no I/O).
 *
 *  Idempotency: the webhook gets the item's key as the Idempotency-Key header (added by
 *  the caller) and as "idempotency_key" in the body; the mail's Message-ID is made from
 *  it, so a mail client shows a re-sent alert once. The Bot API has no such key: a
 *  Telegram message whose answer was lost is sent again (docs/alerter.md). */

#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alert.h"

static char *
s_print (cJSON **o)
{
    char *s = cJSON_PrintUnformatted (*o);
    cJSON_Delete (*o);
    *o = NULL;
    if (!s)
        abort ();
    return s;
}

//  An int64 as a JSON number written from its digits (cJSON numbers are doubles: a
//  time in ns would print as 1.79e+18).
static void
s_add_int (cJSON *o, const char *name, int64_t v)
{
    char num[24];
    snprintf (num, sizeof num, "%" PRId64, v);
    cJSON_AddItemToObject (o, name, cJSON_CreateRaw (num));
}

char *
alert_format_telegram (const struct alert_cfg *cfg, const struct alert_item *it, char *url,
                       size_t urllen)
{
    int n = snprintf (url, urllen, "%s/bot%s/sendMessage", cfg->telegram_url, cfg->telegram_token);
    if (n < 0 || (size_t) n >= urllen)
        return NULL;
    char line[ALERT_TEXT_LEN + 128];
    alert_item_line (it, line, sizeof line);
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddStringToObject (o, "chat_id", cfg->telegram_chat_id);
    cJSON_AddStringToObject (o, "text", line);
    cJSON_AddBoolToObject (o, "disable_web_page_preview", true);
    return s_print (&o);
}

char *
alert_format_webhook (const struct alert_item *it)
{
    char line[ALERT_TEXT_LEN + 128], idem[64];
    alert_item_line (it, line, sizeof line);
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddStringToObject (o, "text", line);
    cJSON_AddStringToObject (o, "content", line);
    s_add_int (o, "id", it->id);
    cJSON_AddStringToObject (o, "idempotency_key", alert_item_idem (it, idem, sizeof idem));
    cJSON_AddStringToObject (o, "severity", kt_severity_str (it->severity));
    cJSON_AddStringToObject (o, "key", it->key);
    cJSON_AddStringToObject (o, "src", it->src);
    cJSON_AddStringToObject (o, "text_raw", it->text);
    s_add_int (o, "ts", it->ts_ns);
    s_add_int (o, "count", it->count);
    s_add_int (o, "window_s", it->window_s);
    return s_print (&o);
}

//  Copy s into out for a header value: control characters (CR, LF, tabs) become spaces,
//  so an alert's text can never add a header. Cut at max bytes.
static void
s_header_value (char *out, size_t outlen, const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] && n < max && n + 1 < outlen; n++)
        out[n] = (unsigned char) s[n] < 0x20 || s[n] == 0x7F ? ' ' : s[n];
    out[n] = '\0';
}

//  Append src to the message, LF -> CRLF.
static size_t
s_append_crlf (char *buf, size_t pos, size_t cap, const char *src)
{
    for (; *src && pos + 3 < cap; src++) {
        if (*src == '\n' && (pos == 0 || buf[pos - 1] != '\r'))
            buf[pos++] = '\r';
        buf[pos++] = *src;
    }
    buf[pos] = '\0';
    return pos;
}

char *
alert_format_mail (const struct alert_cfg *cfg, const struct alert_item *it, int64_t date_s)
{
    char line[ALERT_TEXT_LEN + 128], subject[160], to[sizeof cfg->smtp_to], from[160];
    char idem[64], date[64];
    alert_item_line (it, line, sizeof line);
    char subj_src[ALERT_TEXT_LEN + 32];
    snprintf (subj_src, sizeof subj_src, "[kt %s] %s", kt_severity_str (it->severity), it->text);
    s_header_value (subject, sizeof subject, subj_src, 120);
    s_header_value (to, sizeof to, cfg->smtp_to, sizeof to);
    s_header_value (from, sizeof from, cfg->smtp_from, sizeof from);
    time_t t = (time_t) date_s;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    alert_item_idem (it, idem, sizeof idem);
    size_t cap = 2048 + 2 * ALERT_TEXT_LEN + 2 * sizeof line;
    char *msg = calloc (1, cap);
    if (!msg)
        abort ();
    char head[1024 + sizeof to];
    snprintf (head, sizeof head,
              "From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s@kt.alerter>\n"
              "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
              "Content-Transfer-Encoding: 8bit\nX-Kt-Severity: %s\nX-Kt-Key: %s\n\n",
              from, to, subject, date, idem, kt_severity_str (it->severity), it->key);
    size_t pos = s_append_crlf (msg, 0, cap, head);
    pos = s_append_crlf (msg, pos, cap, line);
    char tail[256];
    snprintf (tail, sizeof tail, "\n\nkey %s, from %s, raised at %" PRId64 " ns, alert %s\n",
              it->key, it->src, it->ts_ns, idem);
    s_append_crlf (msg, pos, cap, tail);
    return msg;
}

bool
alert_format_delivered (alert_ch_t ch, const kt_http_resp_t *resp, int64_t *retry_after_ms,
                        char *why, size_t whylen)
{
    *retry_after_ms = 0;
    if (resp->err != KT_HTTP_OK && !(ch == ALERT_CH_EMAIL && resp->status >= 400)) {
        snprintf (why, whylen, "%s: %.100s", kt_http_err_str (resp->err), resp->errstr);
        return false;
    }
    if (ch == ALERT_CH_EMAIL) {
        if (resp->err == KT_HTTP_OK && resp->status == 250)
            return true;
        snprintf (why, whylen, "SMTP %ld: %.100s", resp->status, resp->errstr);
        return false;
    }
    bool ok = resp->status >= 200 && resp->status < 300;
    const char *desc = "";
    cJSON *j = NULL;
    if (ch == ALERT_CH_TELEGRAM) {
        j = cJSON_ParseWithLength (resp->body, resp->body_len);
        const cJSON *okf = cJSON_GetObjectItemCaseSensitive (j, "ok");
        ok = ok && cJSON_IsTrue (okf);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive (j, "description");
        if (cJSON_IsString (d))
            desc = d->valuestring;
        const cJSON *ra = cJSON_GetObjectItemCaseSensitive (
            cJSON_GetObjectItemCaseSensitive (j, "parameters"), "retry_after");
        if (cJSON_IsNumber (ra) && ra->valuedouble > 0 && ra->valuedouble < 86400)
            *retry_after_ms = (int64_t) ra->valuedouble * 1000;
    }
    if (!ok)
        snprintf (why, whylen, "HTTP %ld%s%.100s", resp->status, *desc ? ": " : "", desc);
    cJSON_Delete (j);
    return ok;
}
