/*  alert_route - which channels an alert of each severity goes to (pure). */

#include <stdio.h>
#include <string.h>
#include "alert.h"

static const char *const s_names[ALERT_CH_COUNT] = {"log", "telegram", "webhook", "email"};

const char *
alert_route_name (alert_ch_t ch)
{
    return ch < ALERT_CH_COUNT ? s_names[ch] : "?";
}

int
alert_route_parse (const char *list, unsigned *mask, char *err, size_t errlen)
{
    *mask = 0;
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = 0;
        while (p[n] && p[n] != ',' && p[n] != ' ')
            n++;
        int found = -1;
        for (int c = 0; c < ALERT_CH_COUNT; c++)
            if (strlen (s_names[c]) == n && strncmp (p, s_names[c], n) == 0)
                found = c;
        if (found < 0) {
            snprintf (err, errlen, "unknown channel \"%.*s\" (log, telegram, webhook, email)",
                      (int) (n > 32 ? 32 : n), p);
            return -1;
        }
        if (*mask & (1u << found)) {
            snprintf (err, errlen, "channel %s named twice", s_names[found]);
            return -1;
        }
        *mask |= 1u << found;
        p += n;
    }
    if (!*mask) {
        snprintf (err, errlen, "no channel named");
        return -1;
    }
    return 0;
}

static const char *
s_route_of (const struct alert_cfg *cfg, kt_severity_t sev)
{
    return sev == KT_SEV_INFO      ? cfg->route_info
           : sev == KT_SEV_WARNING ? cfg->route_warning
                                   : cfg->route_critical;
}

unsigned
alert_route_mask (const struct alert_cfg *cfg, kt_severity_t sev, unsigned enabled)
{
    unsigned mask = 0;
    char err[96];
    if (alert_route_parse (s_route_of (cfg, sev), &mask, err, sizeof err) != 0)
        return 1u << ALERT_CH_LOG; //  checked at start; never lose an alert anyway
    return mask & enabled;
}

int
alert_route_check (const struct alert_cfg *cfg, unsigned *enabled, char *err, size_t errlen)
{
    *enabled = 1u << ALERT_CH_LOG;
    if (cfg->telegram_token[0] && cfg->telegram_chat_id[0])
        *enabled |= 1u << ALERT_CH_TELEGRAM;
    else if (cfg->telegram_token[0] || cfg->telegram_chat_id[0]) {
        snprintf (err, errlen, "alerter.telegram_token and telegram_chat_id go together");
        return -1;
    }
    if (cfg->webhook_url[0]) {
        if (strncmp (cfg->webhook_url, "http://", 7) && strncmp (cfg->webhook_url, "https://", 8)) {
            snprintf (err, errlen, "alerter.webhook_url: not an http(s) URL");
            return -1;
        }
        *enabled |= 1u << ALERT_CH_WEBHOOK;
    }
    if (cfg->smtp_url[0]) {
        if (strncmp (cfg->smtp_url, "smtp://", 7) && strncmp (cfg->smtp_url, "smtps://", 8)) {
            snprintf (err, errlen, "alerter.smtp_url: not smtp:// or smtps://");
            return -1;
        }
        if (!cfg->smtp_from[0] || !cfg->smtp_to[0]) {
            snprintf (err, errlen, "alerter.smtp_url needs smtp_from and smtp_to");
            return -1;
        }
        int rcpt = 0;
        for (const char *p = cfg->smtp_to; *p;) {
            while (*p == ',' || *p == ' ')
                p++;
            if (*p)
                rcpt++;
            while (*p && *p != ',' && *p != ' ')
                p++;
        }
        if (rcpt > ALERT_RCPT_MAX) {
            snprintf (err, errlen, "alerter.smtp_to: %d recipients, at most %d", rcpt,
                      ALERT_RCPT_MAX);
            return -1;
        }
        *enabled |= 1u << ALERT_CH_EMAIL;
    }
    static const char *const paths[3] = {"alerter.route_info", "alerter.route_warning",
                                         "alerter.route_critical"};
    const char *lists[3] = {cfg->route_info, cfg->route_warning, cfg->route_critical};
    for (int i = 0; i < 3; i++) {
        unsigned mask;
        char why[96];
        if (alert_route_parse (lists[i], &mask, why, sizeof why) != 0) {
            snprintf (err, errlen, "%s: %s", paths[i], why);
            return -1;
        }
    }
    return 0;
}
