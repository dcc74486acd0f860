/* The libmicrohttpd glue: options, start and stop, the access handler,
 * responses (ETag, 304, errors) and the snapshot swap. */
#include "web/access.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ options */

void web_options_default(struct web_options *o)
{
    memset(o, 0, sizeof *o);
    strcpy(o->host, "127.0.0.1");
    o->port = 8080;
    o->threads = 2;
    o->pin_as_of = false;
    o->connection_limit = 0; /* from the open-files limit */
    o->per_ip_limit = 0;     /* half of that */
    o->idle_timeout = 10;
    o->header_timeout = 5;
    /* libmicrohttpd zeroes all of it after every request: 8 KiB holds a
     * request head of ~7.5 KB (431 beyond) and keeps the cost per request
     * flat up to 1,000 connections (docs/DECISIONS.md, "Connections"). */
    o->connection_memory = 8 * 1024;
    o->cache_entries = 4096;
    o->cache_bytes = 64u * 1024 * 1024;
    o->max_upload = 64u * 1024 * 1024;
    o->upload_timeout = 300;
}

static bool parse_port(const char *text, unsigned *port)
{
    if (*text == '\0' || strlen(text) > 5)
        return false;
    unsigned v = 0;
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 65535)
        return false;
    *port = v;
    return true;
}

int web_parse_listen(const char *text, struct web_options *o, struct kpi_error *err)
{
    char host[WEB_HOST_MAX];
    unsigned port;
    const char *colon = strrchr(text, ':');
    if (colon == NULL) { /* "8080" alone: a port on loopback */
        if (!parse_port(text, &port))
            goto bad;
        strcpy(host, "127.0.0.1");
    } else {
        const char *h = text;
        size_t hlen = (size_t)(colon - text);
        if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') { /* [::1]:8080 */
            h++;
            hlen -= 2;
        } else if (memchr(h, ':', hlen) != NULL) {
            goto bad; /* an IPv6 address needs brackets */
        }
        if (hlen >= sizeof host || !parse_port(colon + 1, &port))
            goto bad;
        if (hlen == 0) {
            strcpy(host, "127.0.0.1");
        } else {
            memcpy(host, h, hlen);
            host[hlen] = '\0';
        }
    }
    memcpy(o->host, host, sizeof host);
    o->port = port;
    return 0;
bad:
    return kpi_fail(err, KPI_EUSAGE, "invalid listen address \"%s\" (expected ADDR:PORT)", text);
}

/* ---------------------------------------------------------- snapshots */

int64_t web_server_as_of(const struct web_server *srv)
{
    return srv->opts.pin_as_of ? srv->opts.as_of_day : kpi_today();
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: no system call */
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct web_snapshot *current_snapshot(struct web_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    struct web_snapshot *s = srv->current;
    web_snapshot_retain(s);
    pthread_mutex_unlock(&srv->lock);
    return s;
}

/* Whether a commit was made since s was loaded: asked of the store only
 * when the watch saw DIR written since a check last found nothing. */
static bool data_changed(struct web_server *srv, const struct web_snapshot *s)
{
    uint64_t seq;
    if (web_watch_quiet(&srv->watch, &srv->data_seen, &seq))
        return false;
    bool changed = store_changed(srv->st, web_snapshot_view(s));
    if (!changed)
        web_watch_checked(&srv->data_seen, seq);
    return changed;
}

int web_server_snapshot(struct web_server *srv, struct web_snapshot **out, struct kpi_error *err)
{
    (void)err; /* a failed take-up serves the last good snapshot */
    struct web_snapshot *s = current_snapshot(srv);
    if (!data_changed(srv, s)) {
        *out = s;
        return 0;
    }
    /* One thread loads the new generation; the others wait for it rather
     * than all reading the ledger at once. */
    pthread_mutex_lock(&srv->reload_lock);
    struct web_snapshot *now = current_snapshot(srv);
    if (now != s) { /* another request swapped it meanwhile */
        pthread_mutex_unlock(&srv->reload_lock);
        web_snapshot_release(s);
        *out = now;
        return 0;
    }
    web_snapshot_release(now);
    if (srv->take_up_failed && store_latest_commit(srv->st) == srv->failed_commit &&
        monotonic_ns() - srv->failed_at_ns < WEB_RETRY_NS) {
        pthread_mutex_unlock(&srv->reload_lock); /* not again for every request */
        *out = s;
        return 0;
    }
    struct web_snapshot *fresh;
    struct kpi_error failure = {0};
    if (web_snapshot_refresh(srv->st, s, &fresh, &failure) != 0) {
        /* keep answering from the last good snapshot */
        srv->take_up_failed = true;
        srv->failed_commit = store_latest_commit(srv->st);
        srv->failed_at_ns = monotonic_ns();
        pthread_mutex_unlock(&srv->reload_lock);
        *out = s;
        return 0;
    }
    srv->take_up_failed = false;
    web_snapshot_retain(fresh); /* the caller's reference; the server keeps the first */
    pthread_mutex_lock(&srv->lock);
    struct web_snapshot *old = srv->current;
    srv->current = fresh;
    pthread_mutex_unlock(&srv->lock);
    pthread_mutex_unlock(&srv->reload_lock);
    web_snapshot_release(old);         /* the server's reference */
    web_snapshot_release(s);           /* ours */
    web_checkpointer_want(&srv->ckpt); /* the WAL into kpi.db, off this path */
    *out = fresh;
    return 0;
}

/* ----------------------------------------------------------- responses */

/* The one mapping of kpi_status to HTTP (STYLE.md: one table). */
static const struct {
    enum kpi_status status;
    unsigned http;
    const char *code;
} status_map[] = {
    {KPI_EUSAGE, MHD_HTTP_BAD_REQUEST, "bad_request"},
    {KPI_EINPUT, MHD_HTTP_BAD_REQUEST, "bad_request"},
    {KPI_ENOTFOUND, MHD_HTTP_NOT_FOUND, "not_found"},
    {KPI_ESYSTEM, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error"},
    {WEB_EBUSY, MHD_HTTP_SERVICE_UNAVAILABLE, "busy"},
};

static void common_headers(const struct web_server *srv, struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    web_access_headers(srv->access, r);
}

/* An error answer; allow: the Allow header of a 405, or NULL. A 503 says
 * when to retry. */
static enum MHD_Result send_error(const struct web_server *srv, struct MHD_Connection *c,
                                  unsigned http, const char *code, const char *message,
                                  const char *allow)
{
    size_t len = 0;
    char *body = web_error_json(code, message, &len);
    struct MHD_Response *r =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE) : NULL;
    if (r == NULL) {
        free(body);
        return MHD_NO; /* out of memory: MHD closes the connection */
    }
    common_headers(srv, r);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (http == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    enum MHD_Result ret = MHD_queue_response(c, http, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_status(const struct web_server *srv, struct MHD_Connection *c,
                                   const struct kpi_error *err)
{
    unsigned http = MHD_HTTP_INTERNAL_SERVER_ERROR;
    const char *code = "internal_error";
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (status_map[i].status == err->code) {
            http = status_map[i].http;
            code = status_map[i].code;
        }
    return send_error(srv, c, http, code, err->message[0] ? err->message : "internal error", NULL);
}

/* A 200 with body, or a 304 when If-None-Match matches etag. The body is
 * static (persistent), or copied when copy is true (a body the caller frees
 * once this returns). */
static enum MHD_Result send_body(const struct web_server *srv, struct MHD_Connection *c,
                                 const char *content_type, const void *body, size_t len,
                                 const char *etag, bool copy)
{
    const char *inm =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool not_modified = web_etag_matches(inm, etag);
    struct MHD_Response *r;
    if (not_modified)
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
                                            copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    common_headers(srv, r);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (!not_modified) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        if (strncmp(content_type, "text/html", 9) == 0)
            MHD_add_response_header(r, "Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' blob:; object-src 'none'; "
                                    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    }
    enum MHD_Result ret =
        MHD_queue_response(c, not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* The response of a cached entry, 200 or 304, identity or gzip, made once
 * and shared by every connection (see struct web_entry). NULL when out of
 * memory or when the body cannot be compressed. */
static struct MHD_Response *entry_response(const struct web_server *srv, struct web_entry *e,
                                           bool gzip, bool not_modified)
{
    _Atomic(struct MHD_Response *) *slot =
        gzip ? (not_modified ? &e->gzip_not_modified : &e->gzip_ok)
             : (not_modified ? &e->not_modified : &e->ok);
    struct MHD_Response *r = atomic_load(slot);
    if (r != NULL)
        return r;
    if (not_modified) {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else if (gzip) {
        char *z;
        size_t zlen;
        if (web_gzip(e->data, e->len, &z, &zlen, NULL) != 0)
            return NULL;
        r = MHD_create_response_from_buffer(zlen, z, MHD_RESPMEM_MUST_FREE);
        if (r == NULL)
            free(z);
    } else {
        r = MHD_create_response_from_buffer(e->len, e->data, MHD_RESPMEM_MUST_COPY);
    }
    if (r == NULL)
        return NULL;
    common_headers(srv, r);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, gzip ? e->etag_gzip : e->etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (e->compressible)
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (!not_modified) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, e->content_type);
        if (gzip)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    struct MHD_Response *expected = NULL;
    if (!atomic_compare_exchange_strong(slot, &expected, r)) {
        MHD_destroy_response(r); /* another thread made it first */
        r = expected;
    }
    return r;
}

static enum MHD_Result send_entry(const struct web_server *srv, struct MHD_Connection *c,
                                  struct web_entry *e)
{
    bool gzip = e->compressible && web_accepts_gzip(MHD_lookup_connection_value(
                                       c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    const char *inm =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool not_modified = web_etag_matches(inm, gzip ? e->etag_gzip : e->etag);
    struct MHD_Response *r = entry_response(srv, e, gzip, not_modified);
    if (r == NULL && gzip && !not_modified) { /* cannot compress: send it as it is */
        not_modified = web_etag_matches(inm, e->etag);
        r = entry_response(srv, e, false, not_modified);
    }
    if (r == NULL)
        return MHD_NO;
    return MHD_queue_response(c, not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
}

/* ------------------------------------------------------------ dispatch */

/* A path the server refuses before routing: too long, not UTF-8 (an encoded
 * NUL arrives as an invalid byte, see unescape), or with a dot segment.
 * Returns NULL when fine, else the reason. */
static const char *bad_path(const char *path, size_t len)
{
    if (len > WEB_PATH_MAX)
        return "path too long";
    if (!kpi_utf8_valid(path, len))
        return "path is not valid UTF-8 or contains an encoded NUL";
    for (const char *p = path; *p; p++)
        if (p[0] == '/' && p[1] == '.' &&
            (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
            return "path has a dot segment";
    return NULL;
}

/* Charts are rendered off the worker threads (render.c). */
static bool renders(const struct web_route *rt)
{
    return strstr(rt->pattern, "/graph.") != NULL;
}

static enum MHD_Result answer(struct web_server *srv, struct MHD_Connection *c,
                              struct web_exchange *x, const char *url, const char *method,
                              const struct web_principal *who)
{
    size_t len = strlen(url);
    const char *why = bad_path(url, len);
    if (why != NULL)
        return send_error(srv, c, MHD_HTTP_BAD_REQUEST, "bad_request", why, NULL);
    char buf[WEB_PATH_MAX + 8];
    struct web_request rq = {.srv = srv, .conn = c, .who = who};
    bool known;
    int route = web_route_match(url, method, buf, sizeof buf, rq.captures, &known);
    if (route < 0 && known)
        return send_error(srv, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                          "method not allowed", "GET, HEAD");
    if (route < 0)
        return send_error(srv, c, MHD_HTTP_NOT_FOUND, "not_found", "no such path", NULL);
    const struct web_route *rt = &web_routes[route];
    memset(&rq.key, 0, sizeof rq.key);
    rq.key.route = (uint32_t)route;
    rq.key.team = rq.key.indicator = QUERY_NONE;
    rq.key.scope = who->scope;
    struct kpi_error err = {0};
    struct web_body body = {0};
    if (!rt->needs_data) { /* static: health and dashboard files */
        if (rt->build(&rq, &body, &err) != 0)
            return send_status(srv, c, &err);
        char etag[WEB_ETAG_MAX];
        web_etag(body.data, body.len, etag);
        enum MHD_Result sent =
            send_body(srv, c, rt->content_type, body.data, body.len, etag, !body.borrowed);
        if (!body.borrowed) /* /api/v1/whoami */
            free(body.data);
        return sent;
    }
    if (web_server_snapshot(srv, &rq.snap, &err) != 0)
        return send_status(srv, c, &err);
    enum MHD_Result ret;
    struct web_entry *e = NULL;
    if (rt->prepare(&rq, &err) != 0) {
        ret = send_status(srv, c, &err);
        goto done;
    }
    struct web_render *job = x->render; /* a render done for this request */
    x->render = NULL;
    e = web_snapshot_lookup(rq.snap, &rq.key);
    if (e == NULL && renders(rt)) {
        if (job == NULL) { /* suspend; answered from the cache once resumed */
            ret = web_render_submit(srv, c, rq.snap, &rq.key, &x->render, &err) == 0
                      ? MHD_YES
                      : send_status(srv, c, &err);
            goto done;
        }
        if (web_render_outcome(job, &err) != 0) {
            web_render_free(job);
            ret = send_status(srv, c, &err);
            goto done;
        }
        /* rendered, but a new generation came meanwhile: build it here */
    }
    web_render_free(job);
    if (e == NULL) {
        if (rt->build(&rq, &body, &err) != 0 || web_scope_filter(&rq, &body, &err) != 0) {
            if (!body.borrowed)
                free(body.data);
            ret = send_status(srv, c, &err);
            goto done;
        }
        e = web_entry_new(&rq.key, rt->content_type, body.data, body.len);
        if (!body.borrowed)
            free(body.data);
        if (e == NULL) {
            kpi_fail(&err, KPI_ESYSTEM, "out of memory");
            ret = send_status(srv, c, &err);
            goto done;
        }
        e = web_snapshot_insert(rq.snap, e);
    }
    ret = send_entry(srv, c, e);
done:
    web_entry_release(e);
    web_snapshot_release(rq.snap);
    return ret;
}

/* True when the request announces a body (Content-Length above 0, or a
 * Transfer-Encoding). */
static bool has_body(struct MHD_Connection *c)
{
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (len != NULL && strspn(len, "0") != strlen(len)) ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
               NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct web_server *srv = cls;
    struct web_exchange *x = *con_cls; /* made by web_exchange_begin */
    if (x == NULL)
        return MHD_NO; /* out of memory */
    if (x->method[0] == '\0') {
        snprintf(x->method, sizeof x->method, "%s", method);
        snprintf(x->version, sizeof x->version, "%s", version);
    }
    if (strcmp(url, "/api/v1/imports") == 0)
        return web_upload_handle(srv, c, method, upload_data, upload_data_size, con_cls);
    char note_team[256], note_kpi[256];
    if (web_notes_path(url, note_team, note_kpi, sizeof note_team))
        return web_notes_handle(srv, c, note_team, note_kpi, method, upload_data, upload_data_size,
                                con_cls);
    if (!x->started) {
        x->started = true;
        /* The request head is complete: from now on the connection gets the
         * idle timeout rather than the header timeout. */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_TIMEOUT);
        if (ci != NULL && ci->connection_timeout != srv->opts.idle_timeout)
            MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, srv->opts.idle_timeout);
        /* Answer on the second call: a response queued with only the headers
         * parsed makes libmicrohttpd close the connection (no keep-alive).
         * But a method other than GET and HEAD, or a request announcing a
         * body, is answered now, before its body is read: libmicrohttpd then
         * discards the body and closes the connection. */
        bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
        if (get && !has_body(c))
            return MHD_YES;
    } else if (*upload_data_size != 0) { /* a body we do not read */
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct web_principal who;
    enum MHD_Result ret;
    if (web_access_gate(srv, c, url, method, &who, &ret))
        return ret;
    if (who.token != NULL)
        snprintf(x->user, sizeof x->user, "%s", who.token->name);
    ret = answer(srv, c, x, url, method, &who);
    web_principal_release(&who);
    return ret;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decoding of the path and of query keys and values, in place.
 * libmicrohttpd's own turns %00 into a NUL that silently cuts the string;
 * here %00 becomes 0xFF instead, a byte that is never valid UTF-8, so the
 * UTF-8 check of the path (and of every parameter read) refuses it. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *out = s;
    for (const char *in = s; *in;) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_value(in[1])) >= 0 && (lo = hex_value(in[2])) >= 0) {
            int byte = hi * 16 + lo;
            *out++ = (char)(unsigned char)(byte == 0 ? 0xFF : byte);
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* ------------------------------------------------------------ loops */

/* One worker: a libmicrohttpd daemon without threads of its own, run by a
 * thread of ours, accepting on a listening socket of its own (web_start).
 *
 * Why not libmicrohttpd's thread pool: in 0.9.75 its epoll loop reads at
 * most 128 ready connections per epoll_wait, and after a full batch waits
 * again with the full timeout (the oldest connection's idle deadline, up to
 * 10 s) before serving the batches it already has. With 128, 256, ... busy
 * connections per thread every round ends in that wait: 600 connections
 * made 73,000 req/s fall to 1,200 (docs/PERFORMANCE.md). Here MHD_run makes
 * the daemon wait 0 ms, and the waiting is done below, on the daemon's
 * epoll descriptor, with MHD_get_timeout (0 while any connection has data
 * pending). */
/* One round of the daemon. At its connection limit the daemon takes its
 * listening socket out of its epoll set, and puts it back only at the start
 * of a round: when connections closed during a round that began full, a
 * second round resumes accepting at once (else the waiting connections
 * would wait for some other event). */
static void worker_round(struct web_worker *w)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    bool full = info != NULL && info->num_connections >= w->limit;
    MHD_run(w->daemon);
    if (full)
        MHD_run(w->daemon);
}

static void *worker_main(void *arg)
{
    struct web_worker *w = arg;
    worker_round(w);
    for (;;) {
        MHD_UNSIGNED_LONG_LONG ms = 0;
        int timeout = -1;
        if (MHD_get_timeout(w->daemon, &ms) == MHD_YES)
            timeout = ms > INT_MAX ? INT_MAX : (int)ms;
        struct epoll_event ev[4];
        int n = epoll_wait(w->epoll_fd, ev, 4, timeout);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == &w->wake)
                return NULL;
            if (ev[i].data.ptr == w->watch)
                web_watch_drain(w->watch); /* before serving what came after */
            uint64_t kicks;
            if (ev[i].data.ptr == &w->kick && read(w->kick, &kicks, sizeof kicks) < 0)
                continue; /* another round took it already */
        }
        web_watch_sync(w->watch);
        worker_round(w);
    }
}

/* At accept: connections get the short header timeout until their first
 * request line and headers have arrived (see on_request). Each worker
 * counts its connections. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct web_worker *w = cls;
    const struct web_server *srv = w->srv;
    (void)socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add_explicit(&w->connections, 1, memory_order_relaxed);
        if (srv->header_timeout < srv->opts.idle_timeout)
            MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, srv->header_timeout);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub_explicit(&w->connections, 1, memory_order_relaxed);
    }
}

unsigned web_server_worker_connections(const struct web_server *srv, size_t i)
{
    return i < srv->nworkers
               ? atomic_load_explicit(&srv->workers[i].connections, memory_order_relaxed)
               : 0;
}

/* A TCP socket bound to addr, listening when reuseport, or -1. */
static int bound_socket(const struct sockaddr_storage *addr, bool reuseport)
{
    bool v6 = addr->ss_family == AF_INET6;
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int on = 1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
        (!reuseport || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0) &&
        (!v6 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0) &&
        bind(fd, (const struct sockaddr *)addr,
             v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) == 0 &&
        (!reuseport || listen(fd, WEB_LISTEN_BACKLOG) == 0))
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The port of addr made concrete (when 0 was asked) and known free: bound
 * once without SO_REUSEPORT, which fails while any other server listens
 * there, with or without it (two servers must not share a port unawares). */
static bool port_free(struct sockaddr_storage *addr)
{
    int fd = bound_socket(addr, false);
    if (fd < 0)
        return false;
    socklen_t alen = sizeof *addr;
    bool ok = getsockname(fd, (struct sockaddr *)addr, &alen) == 0;
    close(fd);
    return ok;
}

/* The open-files limit, its soft value raised to the hard one first, as a
 * service manager would (every connection holds a descriptor). */
static rlim_t open_files_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    return rl.rlim_cur;
}

/* The effective limits of opts (see web.h), into srv. */
static void resolve_limits(struct web_server *srv)
{
    const struct web_options *o = &srv->opts;
    srv->connection_limit = o->connection_limit;
    if (srv->connection_limit == 0) {
        rlim_t files = open_files_limit();
        rlim_t kept = WEB_FILES_RESERVED + (rlim_t)WEB_FILES_PER_WORKER * o->threads;
        rlim_t usable = files > kept + 16 ? files - kept : 16;
        srv->connection_limit =
            usable > WEB_CONNECTIONS_MAX ? WEB_CONNECTIONS_MAX : (unsigned)usable;
    }
    srv->per_ip_limit = o->per_ip_limit;
    if (srv->per_ip_limit == 0)
        srv->per_ip_limit = srv->connection_limit / 2 >= WEB_PER_IP_FLOOR
                                ? srv->connection_limit / 2
                                : srv->connection_limit;
    srv->header_timeout = o->header_timeout < o->idle_timeout ? o->header_timeout : o->idle_timeout;
}

static int start_worker(struct web_server *srv, struct web_worker *w, int listen_fd,
                        struct kpi_error *err)
{
    unsigned n = srv->opts.threads;
    unsigned limit = (srv->connection_limit + n - 1) / n;
    unsigned per_ip = (srv->per_ip_limit + n - 1) / n;
    w->epoll_fd = w->wake = w->kick = -1;
    w->limit = limit;
    w->srv = srv;
    atomic_init(&w->connections, 0);
    const struct web_options *o = &srv->opts;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | (o->tls_cert_pem ? MHD_USE_TLS : 0);
    /* HTTPS (SPEC §9): GnuTLS inside libmicrohttpd, TLS 1.2 and 1.3 only. */
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)o->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)o->tls_key_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         (void *)(uintptr_t) "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    if (o->tls_cert_pem == NULL)
        tls[0].option = MHD_OPTION_END;
    w->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, srv->opts.idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)srv->opts.connection_memory, MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_URI_LOG_CALLBACK,
        web_exchange_begin, srv, MHD_OPTION_NOTIFY_COMPLETED, web_exchange_end, srv,
        MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (w->daemon == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "cannot start the HTTP server (libmicrohttpd)");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    w->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event daemon_ev = {.events = EPOLLIN, .data.ptr = w->daemon};
    struct epoll_event wake_ev = {.events = EPOLLIN, .data.ptr = &w->wake};
    struct epoll_event kick_ev = {.events = EPOLLIN, .data.ptr = &w->kick};
    struct epoll_event watch_ev = {.events = EPOLLIN, .data.ptr = &srv->watch};
    w->watch = &srv->watch;
    if (info == NULL || w->epoll_fd < 0 || w->wake < 0 ||
        epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, info->epoll_fd, &daemon_ev) != 0 ||
        epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->wake, &wake_ev) != 0 ||
        epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->kick, &kick_ev) != 0 ||
        (srv->watch.fd >= 0 &&
         epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, srv->watch.fd, &watch_ev) != 0) ||
        pthread_create(&w->thread, NULL, worker_main, w) != 0)
        return kpi_fail(err, KPI_ESYSTEM, "cannot start a server thread");
    w->running = true;
    return 0;
}

static void stop_worker(struct web_worker *w)
{
    if (w->running) {
        uint64_t one = 1;
        ssize_t wrote = write(w->wake, &one, sizeof one); /* an eventfd write never blocks */
        (void)wrote;
        pthread_join(w->thread, NULL);
    }
    if (w->daemon != NULL) {
        MHD_quiesce_daemon(w->daemon); /* the listening socket is ours to close */
        MHD_stop_daemon(w->daemon);
    }
    if (w->epoll_fd >= 0)
        close(w->epoll_fd);
    if (w->wake >= 0)
        close(w->wake);
    if (w->kick >= 0)
        close(w->kick);
}

void web_server_kick(struct web_server *srv)
{
    uint64_t one = 1;
    for (size_t i = 0; i < srv->nworkers; i++) {
        ssize_t wrote = write(srv->workers[i].kick, &one, sizeof one); /* never blocks */
        (void)wrote;
    }
}

/* ------------------------------------------------------- start and stop */

int web_start(struct store *st, const struct web_options *opts, struct web_server **out,
              struct kpi_error *err)
{
    *out = NULL;
    if (opts->threads < 1 || opts->threads > 64)
        return kpi_fail(err, KPI_EUSAGE, "threads must be from 1 to 64");
    if (opts->port > 65535)
        return kpi_fail(err, KPI_EUSAGE, "invalid port %u", opts->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(opts->host, NULL, &hints, &ai);
    if (gai != 0)
        return kpi_fail(err, KPI_EUSAGE, "cannot resolve \"%s\": %s", opts->host,
                        gai_strerror(gai));
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    bool v6 = addr.ss_family == AF_INET6;
    if (v6)
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)opts->port);
    else
        ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)opts->port);

    struct web_server *srv = calloc(1, sizeof *srv + opts->threads * sizeof srv->workers[0]);
    if (srv == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    srv->st = st;
    srv->opts = *opts;
    for (unsigned i = 0; i < opts->threads; i++)
        srv->workers[i].listen_fd = -1;
    resolve_limits(srv);
    /* watched before the first load: what is written during it is seen */
    web_watch_init(&srv->watch, store_dir(st));
    int rc = web_snapshot_open(st, opts->cache_entries, opts->cache_bytes, &srv->current, err);
    if (rc != 0) {
        web_watch_destroy(&srv->watch);
        free(srv);
        return rc;
    }
    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->reload_lock, NULL);
    if ((rc = web_renderer_start(&srv->renderer, err)) != 0 ||
        (rc = web_checkpointer_start(&srv->ckpt, st, err)) != 0) {
        web_stop(srv);
        return rc;
    }
    if (web_access_new(store_dir(st), opts, &srv->access, err) != 0) {
        rc = err->code;
        web_stop(srv);
        return rc;
    }
    srv->access->watch = &srv->watch;
    if (web_mhd_error() != NULL) {
        kpi_fail(err, KPI_ESYSTEM, "%s", web_mhd_error());
        web_stop(srv);
        return KPI_ESYSTEM;
    }
    /* Every worker listens on a socket of its own, all bound to the port
     * with SO_REUSEPORT: the kernel spreads new connections evenly over
     * them (docs/DECISIONS.md, "Connections"). */
    int first = port_free(&addr) ? bound_socket(&addr, true) : -1;
    if (first < 0) {
        kpi_fail(err, KPI_ESYSTEM, "cannot listen on %s port %u (in use, or not allowed)",
                 opts->host, opts->port);
        web_stop(srv);
        return KPI_ESYSTEM;
    }
    srv->port = ntohs(v6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                         : ((struct sockaddr_in *)&addr)->sin_port);
    for (unsigned i = 0; i < opts->threads; i++) {
        struct web_worker *w = &srv->workers[i];
        /* should another socket fail, this worker shares the first one */
        w->listen_fd = i == 0 ? first : bound_socket(&addr, true);
        srv->nworkers = i + 1;
        if ((rc = start_worker(srv, w, w->listen_fd >= 0 ? w->listen_fd : first, err)) != 0) {
            web_stop(srv);
            return rc;
        }
    }
    char numeric[INET6_ADDRSTRLEN] = "";
    if (v6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, numeric, sizeof numeric);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, numeric, sizeof numeric);
    snprintf(srv->url, sizeof srv->url, v6 ? "%s://[%s]:%u/" : "%s://%s:%u/",
             opts->tls_cert_pem ? "https" : "http", numeric, srv->port);
    *out = srv;
    return 0;
}

unsigned web_port(const struct web_server *srv)
{
    return srv->port;
}

char *web_url(const struct web_server *srv, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", srv->url);
    return buf;
}

void web_stop(struct web_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->access != NULL) { /* no connection stays suspended by an upload */
        pthread_mutex_lock(&srv->access->upload_lock);
        while (srv->access->uploads_running > 0)
            pthread_cond_wait(&srv->access->upload_done, &srv->access->upload_lock);
        pthread_mutex_unlock(&srv->access->upload_lock);
    }
    web_renderer_stop(&srv->renderer); /* its jobs resume their connections */
    web_checkpointer_stop(&srv->ckpt);
    for (size_t i = 0; i < srv->nworkers; i++)
        stop_worker(&srv->workers[i]);
    for (size_t i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].listen_fd >= 0)
            close(srv->workers[i].listen_fd);
    web_access_free(srv->access);
    web_renderer_destroy(&srv->renderer);
    web_snapshot_release(srv->current);
    web_watch_destroy(&srv->watch);
    pthread_mutex_destroy(&srv->lock);
    pthread_mutex_destroy(&srv->reload_lock);
    free(srv);
}
