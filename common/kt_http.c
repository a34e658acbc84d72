/*  kt_http - libcurl multi on kt_loop (see kt_http.h).
 *
 *  Design: curl tells us which sockets to watch (socket callback -> kt_loop_fd /
 *  kt_loop_fd_events / kt_loop_fd_end) and when it next needs a timeout call (timer
 *  callback). Its timer is a timerfd registered on the loop rather than a kt_loop
 *  timer, because loop timers run on the pipeline clock: at 60x sim speed a loop timer
 *  fires 60x early, curl finds nothing due and, seeing an unchanged deadline, never
 *  asks again, so timeouts would stall. curl's deadlines are wall time; so is a
 *  CLOCK_MONOTONIC timerfd. After every socket_action, finished transfers are read
 *  with curl_multi_info_read and handed to their callbacks. Pending transfers sit on
 *  a list so destroy can cancel them; the fds we registered are tracked so none is
 *  left on the loop. One request = one easy handle and one body buffer, freed when the
 *  callback returns (requests are not on the tick path). */

#include "kt_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define S_TIMEOUT_DEFAULT_MS 10000
#define S_MAX_BODY_DEFAULT ((size_t) 64 << 20)

typedef struct s_xfer s_xfer_t;
struct s_xfer {
    CURL *easy;                 //  owned
    struct curl_slist *headers; //  owned
    int id;
    kt_http_done_fn *fn;
    void *arg;  //  borrowed
    char *body; //  owned response body, NUL-terminated
    size_t len, cap, max;
    bool too_large;
    struct curl_slist *rcpt; //  owned; mail recipients
    char *upload;            //  owned; mail message
    size_t upload_len, upload_at;
    char errbuf[CURL_ERROR_SIZE];
    s_xfer_t *prev, *next; //  pending list
};

struct kt_http {
    kt_loop_t *loop; //  borrowed
    CURLM *multi;    //  owned
    int timer_fd;    //  owned timerfd for curl's timeout
    int *fds;        //  owned; sockets registered on the loop
    int nfds, fds_cap;
    s_xfer_t *pending; //  owned list head
    int npending;
    int next_id;
    bool destroying; //  no new requests from cancelled callbacks
};

static const char *s_err_names[] = {
    [KT_HTTP_OK] = "ok",
    [KT_HTTP_E_CONNECT] = "connect",
    [KT_HTTP_E_TIMEOUT] = "timeout",
    [KT_HTTP_E_TRANSPORT] = "transport",
    [KT_HTTP_E_TOO_LARGE] = "too_large",
    [KT_HTTP_E_CANCELLED] = "cancelled",
    [KT_HTTP_E_REQUEST] = "request",
};

const char *
kt_http_err_str (kt_http_err_t err)
{
    if ((unsigned) err < sizeof s_err_names / sizeof s_err_names[0])
        return s_err_names[err];
    return "unknown";
}

bool
kt_http_err_unsent (kt_http_err_t err)
{
    return err == KT_HTTP_E_CONNECT || err == KT_HTTP_E_REQUEST;
}

static void *
s_alloc (size_t size)
{
    void *p = calloc (1, size);
    if (!p) {
        fprintf (stderr, "kt_http: out of memory (%zu bytes)\n", size);
        abort ();
    }
    return p;
}

// ---- one transfer --------------------------------------------------------------------

static size_t
s_on_write (char *data, size_t size, size_t nmemb, void *userp)
{
    s_xfer_t *x = userp;
    size_t n = size * nmemb;
    if (x->len + n > x->max) {
        x->too_large = true;
        return 0; //  curl aborts with CURLE_WRITE_ERROR
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *body = realloc (x->body, cap);
        if (!body) {
            fprintf (stderr, "kt_http: out of memory (%zu bytes)\n", cap);
            abort ();
        }
        x->body = body;
        x->cap = cap;
    }
    memcpy (x->body + x->len, data, n);
    x->len += n;
    x->body[x->len] = 0;
    return n;
}

static bool
s_is (const char *a, const char *b)
{
    return strcasecmp (a, b) == 0;
}

static void
s_xfer_free (s_xfer_t *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup (x->easy);
    curl_slist_free_all (x->headers);
    curl_slist_free_all (x->rcpt);
    free (x->upload);
    free (x->body);
    free (x);
}

static size_t
s_on_read (char *buf, size_t size, size_t nitems, void *userp)
{
    s_xfer_t *x = userp;
    size_t n = size * nitems, left = x->upload_len - x->upload_at;
    if (n > left)
        n = left;
    memcpy (buf, x->upload + x->upload_at, n);
    x->upload_at += n;
    return n;
}

//  The mail options of req (already checked by the caller). Returns 0, or -1 when the
//  message is unusable.
static int
s_xfer_mail (s_xfer_t *x, const kt_http_req_t *req)
{
    const struct kt_http_mail *m = req->mail;
    if (!m->from || !*m->from || !m->rcpt || !m->rcpt[0] || !req->body)
        return -1;
    CURL *e = x->easy;
    for (int i = 0; m->rcpt[i]; i++) {
        struct curl_slist *n = curl_slist_append (x->rcpt, m->rcpt[i]);
        if (!n)
            return -1;
        x->rcpt = n;
    }
    x->upload_len = req->body_len ? req->body_len : strlen (req->body);
    x->upload = s_alloc (x->upload_len + 1);
    memcpy (x->upload, req->body, x->upload_len);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt (e, CURLOPT_MAIL_FROM, m->from);
    curl_easy_setopt (e, CURLOPT_MAIL_RCPT, x->rcpt);
    curl_easy_setopt (e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (e, CURLOPT_READFUNCTION, s_on_read);
    curl_easy_setopt (e, CURLOPT_READDATA, x);
    curl_easy_setopt (e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) x->upload_len);
    if (m->starttls)
        curl_easy_setopt (e, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
    if (m->user && *m->user) {
        curl_easy_setopt (e, CURLOPT_USERNAME, m->user);
        curl_easy_setopt (e, CURLOPT_PASSWORD, m->password ? m->password : "");
    }
    return 0;
}

//  Build the easy handle for req. Returns NULL if req is malformed.
static s_xfer_t *
s_xfer_new (const kt_http_req_t *req)
{
    if (!req || !req->url || !*req->url)
        return NULL;
    const char *method = req->method ? req->method : req->body ? "POST" : "GET";
    bool bodyless = s_is (method, "GET") || s_is (method, "HEAD");
    if (!req->mail && (!*method || (bodyless && req->body)))
        return NULL;

    s_xfer_t *x = s_alloc (sizeof *x);
    x->max = req->max_body ? req->max_body : S_MAX_BODY_DEFAULT;
    x->easy = curl_easy_init ();
    if (!x->easy) {
        free (x);
        return NULL;
    }
    CURL *e = x->easy;
    long timeout = req->timeout_ms > 0 ? req->timeout_ms : S_TIMEOUT_DEFAULT_MS;
    long connect_timeout = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : timeout;
    curl_easy_setopt (e, CURLOPT_URL, req->url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
    curl_easy_setopt (e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt (e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_on_write);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt (e, CURLOPT_PRIVATE, x);
    curl_easy_setopt (e, CURLOPT_USERAGENT, "kt/1");
    if (req->fresh_connect)
        curl_easy_setopt (e, CURLOPT_FRESH_CONNECT, 1L);
    if (req->mail) {
        if (s_xfer_mail (x, req) != 0) {
            s_xfer_free (x);
            return NULL;
        }
        return x;
    }

    if (s_is (method, "GET"))
        curl_easy_setopt (e, CURLOPT_HTTPGET, 1L);
    else if (s_is (method, "HEAD"))
        curl_easy_setopt (e, CURLOPT_NOBODY, 1L);
    else {
        if (!s_is (method, "POST"))
            curl_easy_setopt (e, CURLOPT_CUSTOMREQUEST, method);
        if (req->body || s_is (method, "POST")) {
            const char *body = req->body ? req->body : "";
            size_t len = req->body && req->body_len ? req->body_len : strlen (body);
            curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
            curl_easy_setopt (e, CURLOPT_COPYPOSTFIELDS, body);
        }
    }
    //  No "Expect: 100-continue" round trip before larger bodies: it costs up to 1 s.
    struct curl_slist *h = curl_slist_append (NULL, "Expect:");
    if (req->content_type) {
        char line[256];
        snprintf (line, sizeof line, "Content-Type: %s", req->content_type);
        h = h ? curl_slist_append (h, line) : NULL;
    }
    for (int i = 0; h && req->headers && req->headers[i]; i++) {
        struct curl_slist *n = curl_slist_append (h, req->headers[i]);
        if (!n) {
            curl_slist_free_all (h);
            h = NULL;
        }
        h = n;
    }
    if (!h) {
        fprintf (stderr, "kt_http: out of memory (headers)\n");
        abort ();
    }
    x->headers = h;
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, x->headers);
    return x;
}

//  Turn curl's result into our outcome. content_type and errstr point into curl or x,
//  valid until x is freed.
static void
s_xfer_result (s_xfer_t *x, CURLcode res, kt_http_resp_t *resp)
{
    memset (resp, 0, sizeof *resp);
    resp->id = x->id;
    resp->body = x->body ? x->body : "";
    resp->body_len = x->len;
    char *ctype = NULL;
    curl_easy_getinfo (x->easy, CURLINFO_CONTENT_TYPE, &ctype);
    resp->content_type = ctype ? ctype : "";
    curl_off_t total_us = 0;
    curl_easy_getinfo (x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    resp->elapsed_us = (int64_t) total_us;

    if (res == CURLE_OK) {
        curl_easy_getinfo (x->easy, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->err = KT_HTTP_OK;
        resp->errstr = "";
        return;
    }
    if (!x->errbuf[0])
        snprintf (x->errbuf, sizeof x->errbuf, "%s", curl_easy_strerror (res));
    resp->errstr = x->errbuf;
    if (x->rcpt) //  mail: the server's refusal code (451, 554 ...) says what to do
        curl_easy_getinfo (x->easy, CURLINFO_RESPONSE_CODE, &resp->status);
    //  request_size counts request bytes curl handed to the connection: 0 means the
    //  server cannot have seen a complete request.
    long sent = 0;
    curl_easy_getinfo (x->easy, CURLINFO_REQUEST_SIZE, &sent);
    if (x->too_large) {
        curl_easy_getinfo (x->easy, CURLINFO_RESPONSE_CODE, &resp->status);
        snprintf (x->errbuf, sizeof x->errbuf, "response body over %zu bytes", x->max);
        resp->err = KT_HTTP_E_TOO_LARGE;
    } else if (res == CURLE_URL_MALFORMAT || res == CURLE_UNSUPPORTED_PROTOCOL)
        resp->err = KT_HTTP_E_REQUEST;
    else if (sent == 0 || res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
             res == CURLE_COULDNT_RESOLVE_PROXY)
        resp->err = KT_HTTP_E_CONNECT;
    else if (res == CURLE_OPERATION_TIMEDOUT)
        resp->err = KT_HTTP_E_TIMEOUT;
    else
        resp->err = KT_HTTP_E_TRANSPORT;
}

// ---- loop adapter --------------------------------------------------------------------

static void s_check_done (kt_http_t *self);

static int
s_fd_index (const kt_http_t *self, int fd)
{
    for (int i = 0; i < self->nfds; i++)
        if (self->fds[i] == fd)
            return i;
    return -1;
}

static int
s_on_fd (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    kt_http_t *self = arg;
    int ev = (revents & POLLIN ? CURL_CSELECT_IN : 0) | (revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
             (revents & (POLLERR | POLLHUP) ? CURL_CSELECT_ERR : 0);
    int running;
    curl_multi_socket_action (self->multi, fd, ev, &running);
    s_check_done (self);
    return 0;
}

static int
s_on_socket (CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void) easy;
    (void) socketp;
    kt_http_t *self = userp;
    int i = s_fd_index (self, s);
    if (what == CURL_POLL_REMOVE) {
        if (i >= 0) {
            kt_loop_fd_end (self->loop, s);
            self->fds[i] = self->fds[--self->nfds];
        }
        return 0;
    }
    short events =
        (short) ((what & CURL_POLL_IN ? POLLIN : 0) | (what & CURL_POLL_OUT ? POLLOUT : 0));
    if (i >= 0)
        return kt_loop_fd_events (self->loop, s, events) == 0 ? 0 : -1;
    if (kt_loop_fd (self->loop, s, events, s_on_fd, self) != 0)
        return -1;
    if (self->nfds == self->fds_cap) {
        int cap = self->fds_cap ? self->fds_cap * 2 : 8;
        int *fds = realloc (self->fds, (size_t) cap * sizeof *fds);
        if (!fds) {
            fprintf (stderr, "kt_http: out of memory\n");
            abort ();
        }
        self->fds = fds;
        self->fds_cap = cap;
    }
    self->fds[self->nfds++] = s;
    return 0;
}

static int
s_on_timer_change (CURLM *multi, long timeout_ms, void *userp)
{
    (void) multi;
    kt_http_t *self = userp;
    struct itimerspec its = {0};
    if (timeout_ms >= 0) {
        its.it_value.tv_sec = timeout_ms / 1000;
        its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L;
        if (timeout_ms == 0)
            its.it_value.tv_nsec = 1; //  "now": an all-zero value would disarm
    }
    return timerfd_settime (self->timer_fd, 0, &its, NULL) == 0 ? 0 : -1;
}

static int
s_on_timer_fd (kt_loop_t *loop, int fd, short revents, void *arg)
{
    (void) loop;
    (void) revents;
    kt_http_t *self = arg;
    uint64_t expirations;
    if (read (fd, &expirations, sizeof expirations) != sizeof expirations)
        return 0; //  re-armed meanwhile: not due any more
    int running;
    curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done (self);
    return 0;
}

static void
s_unlink (kt_http_t *self, s_xfer_t *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        self->pending = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
    self->npending--;
}

//  Complete x: off the multi and the list first, so its callback may start or cancel
//  requests freely; curl's strings stay valid until s_xfer_free.
static void
s_finish (kt_http_t *self, s_xfer_t *x, CURLcode res, bool cancelled)
{
    curl_multi_remove_handle (self->multi, x->easy);
    s_unlink (self, x);
    kt_http_resp_t resp;
    s_xfer_result (x, res, &resp);
    if (cancelled) {
        resp.err = KT_HTTP_E_CANCELLED;
        resp.errstr = "cancelled";
        resp.status = 0;
    }
    x->fn (&resp, x->arg);
    s_xfer_free (x);
}

static void
s_check_done (kt_http_t *self)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read (self->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, &priv);
        s_finish (self, (s_xfer_t *) priv, msg->data.result, false);
    }
}

// ---- public --------------------------------------------------------------------------

kt_http_t *
kt_http_new (kt_loop_t *loop)
{
    if (!loop || curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    kt_http_t *self = s_alloc (sizeof *self);
    self->loop = loop;
    self->next_id = 1;
    self->timer_fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    self->multi = curl_multi_init ();
    if (self->timer_fd == -1 || !self->multi ||
        kt_loop_fd (loop, self->timer_fd, POLLIN, s_on_timer_fd, self) != 0) {
        if (self->timer_fd != -1)
            close (self->timer_fd);
        if (self->multi)
            curl_multi_cleanup (self->multi);
        free (self);
        curl_global_cleanup ();
        return NULL;
    }
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_on_timer_change);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    return self;
}

void
kt_http_destroy (kt_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kt_http_t *self = *self_p;
    self->destroying = true;
    while (self->pending)
        s_finish (self, self->pending, CURLE_OK, true);
    //  Closing cached connections calls s_on_socket (REMOVE) for their fds.
    curl_multi_cleanup (self->multi);
    for (int i = 0; i < self->nfds; i++)
        kt_loop_fd_end (self->loop, self->fds[i]);
    free (self->fds);
    kt_loop_fd_end (self->loop, self->timer_fd);
    close (self->timer_fd);
    free (self);
    curl_global_cleanup ();
    *self_p = NULL;
}

int
kt_http_request (kt_http_t *self, const kt_http_req_t *req, kt_http_done_fn *fn, void *arg)
{
    if (!fn || self->destroying)
        return -1;
    s_xfer_t *x = s_xfer_new (req);
    if (!x)
        return -1;
    x->fn = fn;
    x->arg = arg;
    x->id = self->next_id;
    self->next_id = self->next_id == INT32_MAX ? 1 : self->next_id + 1;
    if (curl_multi_add_handle (self->multi, x->easy) != CURLM_OK) {
        s_xfer_free (x);
        return -1;
    }
    x->next = self->pending;
    if (x->next)
        x->next->prev = x;
    self->pending = x;
    self->npending++;
    return x->id;
}

int
kt_http_cancel (kt_http_t *self, int id)
{
    for (s_xfer_t *x = self->pending; x; x = x->next) {
        if (x->id == id) {
            curl_multi_remove_handle (self->multi, x->easy);
            s_unlink (self, x);
            s_xfer_free (x);
            return 0;
        }
    }
    return -1;
}

int
kt_http_pending (const kt_http_t *self)
{
    return self->npending;
}

// ---- blocking helpers ----------------------------------------------------------------

//  An owned response: the struct callers see, followed by the storage it points to.
typedef struct {
    kt_http_resp_t resp; //  first: kt_http_resp_destroy casts back
    char *body;          //  owned
    char content_type[128];
    char errstr[CURL_ERROR_SIZE];
} s_sync_t;

kt_http_resp_t *
kt_http_sync (const kt_http_req_t *req)
{
    s_sync_t *out = s_alloc (sizeof *out);
    kt_http_resp_t *resp = &out->resp;
    curl_global_init (CURL_GLOBAL_DEFAULT);
    s_xfer_t *x = s_xfer_new (req);
    if (!x) {
        resp->err = KT_HTTP_E_REQUEST;
        snprintf (out->errstr, sizeof out->errstr, "malformed request");
        resp->errstr = out->errstr;
        resp->body = "";
        resp->content_type = "";
        curl_global_cleanup ();
        return resp;
    }
    CURLcode res = curl_easy_perform (x->easy);
    kt_http_resp_t tmp;
    s_xfer_result (x, res, &tmp);
    *resp = tmp;
    snprintf (out->content_type, sizeof out->content_type, "%s", tmp.content_type);
    snprintf (out->errstr, sizeof out->errstr, "%s", tmp.errstr);
    resp->content_type = out->content_type;
    resp->errstr = out->errstr;
    out->body = x->body; //  take the buffer
    x->body = NULL;
    resp->body = out->body ? out->body : "";
    s_xfer_free (x);
    curl_global_cleanup ();
    return resp;
}

kt_http_resp_t *
kt_http_get_sync (const char *url, const char *const *headers, int timeout_ms)
{
    kt_http_req_t req = {.method = "GET", .url = url, .headers = headers, .timeout_ms = timeout_ms};
    return kt_http_sync (&req);
}

kt_http_resp_t *
kt_http_post_sync (const char *url, const char *const *headers, const char *body, int timeout_ms)
{
    kt_http_req_t req = {.method = "POST",
                         .url = url,
                         .headers = headers,
                         .body = body ? body : "",
                         .timeout_ms = timeout_ms};
    return kt_http_sync (&req);
}

void
kt_http_resp_destroy (kt_http_resp_t **resp_p)
{
    if (!resp_p || !*resp_p)
        return;
    s_sync_t *out = (s_sync_t *) *resp_p;
    free (out->body);
    free (out);
    *resp_p = NULL;
}
