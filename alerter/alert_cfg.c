/*  alert_cfg - the keys of section "alerter" (docs/configuration.md, docs/alerter.md). */

#include <stddef.h>
#include "alert.h"

#define S_STR(path, field, def, help)                                                              \
    {                                                                                              \
        "alerter." path, KT_CFG_STR, offsetof (struct alert_cfg, field),                           \
            sizeof ((struct alert_cfg *) 0)->field, def, 0, -1, 0, help                            \
    }
#define S_SECRET(path, field, def, help)                                                           \
    {                                                                                              \
        "alerter." path, KT_CFG_SECRET, offsetof (struct alert_cfg, field),                        \
            sizeof ((struct alert_cfg *) 0)->field, def, 0, -1, KT_CFG_F_OPTIONAL, help            \
    }
#define S_INT(path, field, def, min, max, help)                                                    \
    {                                                                                              \
        "alerter." path, KT_CFG_INT, offsetof (struct alert_cfg, field), 0, def, min, max, 0, help \
    }

const kt_cfg_row_t alert_cfg_table[] = {
    S_INT ("dedup_s", dedup_s, "60", 0, 86400,
           "repeats of one alert within this many seconds are counted and sent once as a "
           "summary (\"x7 in 60 s\") when the window ends; 0 = every alert is sent"),
    S_INT ("queue_max", queue_max, "10000", 100, 1000000,
           "most alerts kept waiting per channel (the oldest are dropped, logged CRITICAL)"),
    S_INT ("drain_max", drain_max, "64", 1, 100000,
           "ALERT messages read from the PULL socket per loop iteration"),
    S_STR ("route_critical", route_critical, "\"log,telegram,webhook,email\"",
           "channels of CRITICAL alerts (log, telegram, webhook, email; those not set up are "
           "skipped, with a warning at start)"),
    S_STR ("route_warning", route_warning, "\"log,telegram,webhook\"",
           "channels of WARNING alerts"),
    S_STR ("route_info", route_info, "\"log\"", "channels of INFO alerts"),
    S_INT ("retry_min_ms", retry_min_ms, "1000", 10, 3600000,
           "first wait before a failed delivery is tried again (doubles up to retry_max_ms)"),
    S_INT ("retry_max_ms", retry_max_ms, "60000", 10, 3600000, "longest wait between tries"),
    S_INT ("channel_down_s", channel_down_s, "300", 1, 86400,
           "a channel failing this long is reported on the others and in health:alerter"),
    S_INT ("redis_down_s", redis_down_s, "10", 1, 3600,
           "Redis down this long: one CRITICAL alert goes straight to the channels (alerts "
           "are held until it is back)"),
    S_INT ("timeout_ms", timeout_ms, "10000", 100, 120000, "one delivery request, whole"),
    S_STR ("summary_at", summary_at, "\"15:30\"",
           "IST time of the daily summary alert (INFO) on trading days; \"\" = none"),
    S_STR ("telegram_url", telegram_url, "\"https://api.telegram.org\"",
           "Telegram Bot API base URL"),
    S_SECRET ("telegram_token", telegram_token, "\"env:KT_TELEGRAM_TOKEN\"",
              "Telegram bot token (secret reference); unset = no Telegram"),
    S_STR ("telegram_chat_id", telegram_chat_id, "\"\"", "chat (or channel) the bot writes to"),
    S_SECRET ("webhook_url", webhook_url, "\"env:KT_ALERT_WEBHOOK_URL\"",
              "JSON webhook URL, Slack or Discord compatible (secret reference: such URLs "
              "hold a token); unset = no webhook"),
    S_STR ("smtp_url", smtp_url, "\"\"",
           "mail server, smtp://host:587 (with smtp_starttls) or smtps://host:465; \"\" = no "
           "e-mail"),
    {"alerter.smtp_starttls", KT_CFG_BOOL, offsetof (struct alert_cfg, smtp_starttls), 0, "true", 0,
     -1, 0, "smtp://: send nothing unless the server upgrades to TLS (STARTTLS)"},
    S_STR ("smtp_user", smtp_user, "\"\"", "SMTP AUTH user; \"\" = no authentication"),
    S_SECRET ("smtp_password", smtp_password, "\"env:KT_SMTP_PASSWORD\"",
              "SMTP AUTH password (secret reference)"),
    S_STR ("smtp_from", smtp_from, "\"\"", "sender address of alert mails"),
    S_STR ("smtp_to", smtp_to, "\"\"", "recipients of alert mails, comma-separated"),
    KT_CFG_END};
