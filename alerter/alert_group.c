/*  alert_group - what makes two alerts the same, so repeats can be counted (pure).
 *
 *  The sender's key alone is not enough: risk-gate raises every halt under one key,
 *  and a halt for REJECTS must never be swallowed by an earlier halt for KILL. The
 *  text is: but it carries changing numbers ("5 rejects", "6 rejects"; a P&L), which
 *  would make every repeat look new. So the group hashes src, severity, key and the
 *  text with each stand-alone number (digits not inside a word, with its decimals)
 *  turned into '#'. Digits inside a word stay: NIFTY25N1824000CE and NIFTY25N1824050CE
 *  are different symbols, hence different groups. */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "alert.h"

#define S_FNV_OFFSET 0xCBF29CE484222325ull
#define S_FNV_PRIME 0x100000001B3ull

static uint64_t
s_mix (uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char) s[i];
        h *= S_FNV_PRIME;
    }
    return h;
}

static bool
s_word (char c)
{
    return isalnum ((unsigned char) c) || c == '_';
}

//  The text with stand-alone numbers as '#', hashed as it is read.
static uint64_t
s_mix_text (uint64_t h, const char *t)
{
    size_t i = 0;
    while (t[i]) {
        bool starts_number = isdigit ((unsigned char) t[i]) && (i == 0 || !s_word (t[i - 1]));
        if (!starts_number) {
            h = s_mix (h, t + i, 1);
            i++;
            continue;
        }
        size_t j = i;
        while (isdigit ((unsigned char) t[j]) ||
               (t[j] == '.' && isdigit ((unsigned char) t[j + 1])))
            j++;
        if (s_word (t[j])) { //  "24000CE": part of a word, kept
            h = s_mix (h, t + i, j - i);
            i = j;
            continue;
        }
        h = s_mix (h, "#", 1);
        i = j;
    }
    return h;
}

void
alert_group_of (const char *src, kt_severity_t sev, const char *key, const char *text,
                char out[ALERT_GROUP_LEN])
{
    uint64_t h = S_FNV_OFFSET;
    const char *sevname = kt_severity_str (sev);
    h = s_mix (h, src, strlen (src) + 1);
    h = s_mix (h, sevname, strlen (sevname) + 1);
    h = s_mix (h, key, strlen (key) + 1);
    h = s_mix_text (h, text);
    //  Redis key material: keep the sender's key readable, but only safe characters.
    char safe[KT_KEY_LEN];
    size_t n = 0;
    for (; key[n] && n < sizeof safe - 1 && n < ALERT_GROUP_LEN - 20; n++)
        safe[n] = s_word (key[n]) || key[n] == '.' || key[n] == '-' ? key[n] : '_';
    safe[n] = '\0';
    snprintf (out, ALERT_GROUP_LEN, "%s:%016llx", safe, (unsigned long long) h);
}
