/*  sim_auth - kite-sim's account credentials: the api_key/api_secret pair, the
 *  /session/token checksum, and the access tokens it hands out.
 *
 *  Used by sim_http (every authenticated route, login and logout) and sim_ws (the
 *  ticker's query-string auth). Invariants: a request_token is single-use; an access
 *  token lives until 06:00 IST after it was issued (simulated time), or until logout
 *  or the expiry fault; the fixed --access-token obeys the same fault. Tokens are 128
 *  random bits from OpenSSL, compared in constant time. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "sim.h"

#define S_TOKENS_MAX 64 //  live issued tokens kept (oldest replaced)
#define S_USED_MAX 256  //  request tokens remembered as used

struct s_token {
    char token[SIM_TOKEN_LEN];
    int64_t expiry_ns;
    bool live;
};

struct sim_auth {
    char api_key[64];
    char api_secret[SIM_SECRET_LEN];
    char fixed[SIM_SECRET_LEN]; //  "" = none
    bool fixed_expired;
    struct s_token tokens[S_TOKENS_MAX];
    size_t next_slot;
    char used[S_USED_MAX][65]; //  sha256 hex of used request tokens
    size_t next_used;
};

static const char s_bad_token[] = "Incorrect `api_key` or `access_token`.";

sim_auth_t *
sim_auth_new (const char *api_key, const char *api_secret, const char *fixed_token)
{
    sim_auth_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    snprintf (self->api_key, sizeof self->api_key, "%s", api_key ? api_key : "");
    snprintf (self->api_secret, sizeof self->api_secret, "%s", api_secret ? api_secret : "");
    snprintf (self->fixed, sizeof self->fixed, "%s", fixed_token ? fixed_token : "");
    return self;
}

void
sim_auth_destroy (sim_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    OPENSSL_cleanse (*self_p, sizeof **self_p);
    free (*self_p);
    *self_p = NULL;
}

const char *
sim_auth_api_key (const sim_auth_t *self)
{
    return self->api_key;
}

static void
s_hex (const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xF];
    }
    out[2 * n] = '\0';
}

//  SHA-256 over up to three strings, as lowercase hex.
static int
s_sha256_hex (const char *a, const char *b, const char *c, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    if (!ctx)
        return -1;
    int ok = EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL) == 1 &&
             EVP_DigestUpdate (ctx, a, strlen (a)) == 1 &&
             EVP_DigestUpdate (ctx, b, strlen (b)) == 1 &&
             EVP_DigestUpdate (ctx, c, strlen (c)) == 1 &&
             EVP_DigestFinal_ex (ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free (ctx);
    if (!ok)
        return -1;
    s_hex (md, 32, out);
    return 0;
}

int
sim_auth_checksum (const char *api_key, const char *request_token, const char *api_secret,
                   char out[65])
{
    return s_sha256_hex (api_key, request_token, api_secret, out);
}

int64_t
sim_auth_expiry (int64_t now_ns)
{
    int64_t six = kt_ist_day_start (now_ns) + 6 * 3600 * KT_NS_PER_SEC;
    return now_ns < six ? six : six + 24 * 3600 * KT_NS_PER_SEC;
}

static bool
s_streq_ct (const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp (a, b, la) == 0;
}

static int
s_random_hex (char *out)
{
    unsigned char raw[16];
    if (RAND_bytes (raw, sizeof raw) != 1)
        return -1;
    s_hex (raw, sizeof raw, out);
    return 0;
}

int
sim_auth_exchange (sim_auth_t *self, const char *api_key, const char *request_token,
                   const char *checksum, int64_t now_ns, char *token, char *pub,
                   const char **error_type, char *msg, size_t msglen)
{
    *error_type = "TokenException";
    if (!api_key || !s_streq_ct (api_key, self->api_key)) {
        *error_type = "InputException";
        snprintf (msg, msglen, "Invalid `api_key`.");
        return -1;
    }
    if (!request_token || !*request_token) {
        *error_type = "InputException";
        snprintf (msg, msglen, "Missing or empty `request_token`.");
        return -1;
    }
    char want[65], seen[65];
    if (sim_auth_checksum (api_key, request_token, self->api_secret, want) != 0 ||
        s_sha256_hex (request_token, "", "", seen) != 0) {
        *error_type = "GeneralException";
        snprintf (msg, msglen, "Checksum could not be computed.");
        return -1;
    }
    //  Kite accepts upper-case hex as well; compare case-insensitively.
    if (!checksum || strlen (checksum) != 64 || strcasecmp (checksum, want) != 0) {
        snprintf (msg, msglen, "Invalid `checksum`.");
        return -1;
    }
    for (size_t i = 0; i < S_USED_MAX; i++)
        if (strcmp (self->used[i], seen) == 0) {
            snprintf (msg, msglen, "Token is invalid or has expired.");
            return -1;
        }
    struct s_token *slot = &self->tokens[self->next_slot];
    if (s_random_hex (slot->token) != 0 || s_random_hex (pub) != 0) {
        *error_type = "GeneralException";
        snprintf (msg, msglen, "Could not generate a token.");
        return -1;
    }
    memcpy (self->used[self->next_used], seen, sizeof seen);
    self->next_used = (self->next_used + 1) % S_USED_MAX;
    slot->expiry_ns = sim_auth_expiry (now_ns);
    slot->live = true;
    self->next_slot = (self->next_slot + 1) % S_TOKENS_MAX;
    memcpy (token, slot->token, SIM_TOKEN_LEN);
    return 0;
}

bool
sim_auth_valid (const sim_auth_t *self, const char *api_key, const char *token, int64_t now_ns)
{
    if (!api_key || !token || !*token || !s_streq_ct (api_key, self->api_key))
        return false;
    if (self->fixed[0] && !self->fixed_expired && s_streq_ct (token, self->fixed))
        return true;
    for (size_t i = 0; i < S_TOKENS_MAX; i++) {
        const struct s_token *t = &self->tokens[i];
        if (t->live && now_ns < t->expiry_ns && s_streq_ct (token, t->token))
            return true;
    }
    return false;
}

int
sim_auth_header (const sim_auth_t *self, const char *header, int64_t now_ns, char *msg,
                 size_t msglen)
{
    snprintf (msg, msglen, "%s", s_bad_token);
    if (!header || strncasecmp (header, "token ", 6) != 0)
        return -1;
    const char *cred = header + 6;
    while (*cred == ' ')
        cred++;
    const char *colon = strchr (cred, ':');
    if (!colon || colon == cred)
        return -1;
    char key[64];
    size_t klen = (size_t) (colon - cred);
    if (klen >= sizeof key)
        return -1;
    memcpy (key, cred, klen);
    key[klen] = '\0';
    char token[SIM_SECRET_LEN];
    size_t tlen = strcspn (colon + 1, " \t\r\n");
    if (tlen == 0 || tlen >= sizeof token)
        return -1;
    memcpy (token, colon + 1, tlen);
    token[tlen] = '\0';
    if (!sim_auth_valid (self, key, token, now_ns))
        return -1;
    msg[0] = '\0';
    return 0;
}

int
sim_auth_logout (sim_auth_t *self, const char *api_key, const char *token)
{
    if (!api_key || !token || !s_streq_ct (api_key, self->api_key))
        return -1;
    if (self->fixed[0] && !self->fixed_expired && s_streq_ct (token, self->fixed)) {
        self->fixed_expired = true;
        return 0;
    }
    for (size_t i = 0; i < S_TOKENS_MAX; i++) {
        struct s_token *t = &self->tokens[i];
        if (t->live && s_streq_ct (token, t->token)) {
            t->live = false;
            return 0;
        }
    }
    return -1;
}

void
sim_auth_expire_all (sim_auth_t *self)
{
    for (size_t i = 0; i < S_TOKENS_MAX; i++)
        self->tokens[i].live = false;
    self->fixed_expired = true;
}
