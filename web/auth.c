/* Authentication, roles and rate limits of SPEC §9 (see web_int.h).
 *
 * DIR/tokens is loaded once and kept as a refcounted set; a request stats
 * the file (one syscall) when the server's watch (watch.c) saw DIR written
 * since the last stat, or always when there is no watch, and reloads it when
 * its identity changed, so a revoked token is refused from the next request
 * on, without a restart.
 * A secret is hashed (SHA-256) and compared with every stored hash in
 * constant time (web_tokens_match). Failed authentications are counted per
 * client address; the 20th within 60 s refuses that address for 60 s. */
#include "web/access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>

struct web_auth_set {
    atomic_size_t refs;
    struct web_tokens *tokens;
    uint64_t *scope;             /* per token: 0 unscoped, else a hash of its teams */
    _Atomic(int64_t) *last_used; /* per token, seconds; 0 never */
    _Atomic(int64_t) *written;   /* per token: the last_used DIR/tokens.used holds */
};

static void set_release(struct web_auth_set *s)
{
    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    web_tokens_free(s->tokens);
    free(s->scope);
    free((void *)(uintptr_t)s->last_used);
    free((void *)(uintptr_t)s->written);
    free(s);
}

void web_principal_release(struct web_principal *who)
{
    set_release(who->set);
    who->set = NULL;
    who->token = NULL;
}

/* The scope of a token: 64 bits of the SHA-256 of its sorted team ids
 * (never 0), so that tokens with the same teams share cached answers and
 * no two scopes do. */
static uint64_t scope_of(const struct web_token *t)
{
    if (t->team_count == 0)
        return 0;
    struct kpi_sha256 ctx;
    kpi_sha256_init(&ctx);
    for (size_t i = 0; i < t->team_count; i++)
        kpi_sha256_update(&ctx, t->teams[i], strlen(t->teams[i]) + 1);
    unsigned char d[KPI_SHA256_SIZE];
    kpi_sha256_final(&ctx, d);
    uint64_t h;
    memcpy(&h, d, sizeof h);
    return h ? h : 1;
}

static int set_load(const char *dir, struct web_auth_set **out, struct kpi_error *err)
{
    struct web_auth_set *s = calloc(1, sizeof *s);
    if (s == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    atomic_init(&s->refs, 1);
    int rc = web_tokens_load(dir, &s->tokens, err);
    size_t n = rc == 0 ? s->tokens->count : 0;
    if (rc == 0) {
        s->scope = calloc(n + 1, sizeof *s->scope);
        s->last_used = calloc(n + 1, sizeof *s->last_used);
        s->written = calloc(n + 1, sizeof *s->written);
        if (s->scope == NULL || s->last_used == NULL || s->written == NULL)
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    if (rc != 0) {
        set_release(s);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        s->scope[i] = scope_of(&s->tokens->items[i]);
        atomic_init(&s->last_used[i], s->tokens->items[i].last_used);
        atomic_init(&s->written[i], s->tokens->items[i].last_used);
    }
    *out = s;
    return 0;
}

int web_access_new(const char *dir, const struct web_options *opts, struct web_access **out,
                   struct kpi_error *err)
{
    *out = NULL;
    struct web_access *a = calloc(1, sizeof *a);
    if (a == NULL || (a->dir = strdup(dir)) == NULL ||
        (a->rate = calloc(WEB_RATE_SLOTS, sizeof *a->rate)) == NULL) {
        if (a != NULL) {
            free(a->dir);
            free(a);
        }
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->used_lock, NULL);
    pthread_mutex_init(&a->rate_lock, NULL);
    pthread_mutex_init(&a->log_lock, NULL);
    pthread_mutex_init(&a->upload_lock, NULL);
    pthread_cond_init(&a->upload_done, NULL);
    atomic_init(&a->rate_active, 0);
    a->tls = opts->tls_cert_pem != NULL;
    a->max_upload = opts->max_upload;
    a->upload_timeout = opts->upload_timeout;
    if (opts->importer != NULL)
        a->importer = *opts->importer;
    if (opts->access_log != NULL) {
        if (strcmp(opts->access_log, "-") == 0) {
            a->log = stderr;
        } else {
            a->log = fopen(opts->access_log, "ae");
            a->log_owned = true;
            if (a->log == NULL) {
                int rc = kpi_fail(err, KPI_ESYSTEM, "cannot open %s: %s", opts->access_log,
                                  strerror(errno));
                web_access_free(a);
                return rc;
            }
        }
    }
    *out = a;
    return 0;
}

void web_access_free(struct web_access *a)
{
    if (a == NULL)
        return;
    set_release(a->set);
    if (a->log_owned && a->log != NULL)
        fclose(a->log);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->used_lock);
    pthread_mutex_destroy(&a->rate_lock);
    pthread_mutex_destroy(&a->log_lock);
    pthread_mutex_destroy(&a->upload_lock);
    pthread_cond_destroy(&a->upload_done);
    free(a->rate);
    free(a->dir);
    free(a);
}

static bool same_file(const struct stat *x, const struct stat *y)
{
    return x->st_ino == y->st_ino && x->st_dev == y->st_dev && x->st_size == y->st_size &&
           x->st_mtim.tv_sec == y->st_mtim.tv_sec && x->st_mtim.tv_nsec == y->st_mtim.tv_nsec &&
           x->st_ctim.tv_sec == y->st_ctim.tv_sec && x->st_ctim.tv_nsec == y->st_ctim.tv_nsec;
}

/* The current token set (a new reference), reloaded when DIR/tokens is not
 * the file it was loaded from. */
static int current_set(struct web_access *a, struct web_auth_set **out, struct kpi_error *err)
{
    uint64_t seq = 0;
    if (a->watch != NULL && web_watch_quiet(a->watch, &a->tokens_seen, &seq)) {
        pthread_mutex_lock(&a->lock);
        struct web_auth_set *s = a->loaded ? a->set : NULL;
        if (s != NULL)
            atomic_fetch_add(&s->refs, 1);
        pthread_mutex_unlock(&a->lock);
        if (s != NULL) {
            *out = s;
            return 0;
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tokens", a->dir);
    struct stat now;
    if (stat(path, &now) != 0) {
        if (errno != ENOENT)
            return kpi_fail(err, KPI_ESYSTEM, "cannot stat %s: %s", path, strerror(errno));
        memset(&now, 0, sizeof now); /* missing: st_ino 0 */
    }
    pthread_mutex_lock(&a->lock);
    if (!a->loaded || !same_file(&now, &a->ident)) {
        struct web_auth_set *fresh = NULL;
        int rc = set_load(a->dir, &fresh, err);
        if (rc != 0) {
            pthread_mutex_unlock(&a->lock);
            return rc;
        }
        set_release(a->set);
        a->set = fresh;
        a->ident = now;
        a->loaded = true;
    }
    struct web_auth_set *s = a->set;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&a->lock);
    web_watch_checked(&a->tokens_seen, seq);
    *out = s;
    return 0;
}

bool web_auth_bearer(const char *header, const char **token, size_t *len)
{
    if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 || header[6] != ' ')
        return false;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    size_t n = 0;
    while (p[n] > ' ' && p[n] < 127)
        n++;
    const char *rest = p + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (n == 0 || *rest != '\0' || n > 512)
        return false;
    *token = p;
    *len = n;
    return true;
}

/* ---------------------------------------------------------- rate limits */

static uint64_t addr_hash(const unsigned char addr[16])
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 1099511628211ULL;
    return h;
}

/* The entry of addr (create: take a free or stale slot, else the least
 * recently failing one of its probe window). rate_lock held. */
static struct web_rate_entry *rate_entry(struct web_access *a, const unsigned char addr[16],
                                         int64_t now, bool create)
{
    size_t base = (size_t)addr_hash(addr) & (WEB_RATE_SLOTS - 1);
    struct web_rate_entry *victim = NULL;
    for (size_t i = 0; i < WEB_RATE_PROBE; i++) {
        struct web_rate_entry *e = &a->rate[(base + i) & (WEB_RATE_SLOTS - 1)];
        if (e->used && memcmp(e->addr, addr, 16) == 0)
            return e;
        if (!create)
            continue;
        int64_t last =
            e->used ? e->fails[(e->next + WEB_AUTH_FAILURES - 1) % WEB_AUTH_FAILURES] : 0;
        bool stale = !e->used || (e->blocked_until <= now && last + WEB_AUTH_WINDOW <= now);
        if (stale) {
            if (victim == NULL || victim->used)
                victim = e;
        } else if (victim == NULL ||
                   (victim->used && last < victim->fails[(victim->next + WEB_AUTH_FAILURES - 1) %
                                                         WEB_AUTH_FAILURES])) {
            victim = e;
        }
    }
    if (victim == NULL)
        return NULL;
    if (!victim->used)
        atomic_fetch_add(&a->rate_active, 1);
    memset(victim, 0, sizeof *victim);
    victim->used = true;
    memcpy(victim->addr, addr, 16);
    return victim;
}

/* Seconds addr is still refused, 0 when it is not. */
static unsigned rate_blocked(struct web_access *a, const unsigned char addr[16], int64_t now)
{
    if (atomic_load(&a->rate_active) == 0)
        return 0;
    pthread_mutex_lock(&a->rate_lock);
    struct web_rate_entry *e = rate_entry(a, addr, now, false);
    unsigned left = e && e->blocked_until > now ? (unsigned)(e->blocked_until - now) : 0;
    pthread_mutex_unlock(&a->rate_lock);
    return left;
}

static void rate_fail(struct web_access *a, const unsigned char addr[16], int64_t now)
{
    pthread_mutex_lock(&a->rate_lock);
    struct web_rate_entry *e = rate_entry(a, addr, now, true);
    if (e != NULL) {
        e->fails[e->next] = now;
        e->next = (e->next + 1) % WEB_AUTH_FAILURES;
        int64_t oldest = e->fails[e->next]; /* the 20th most recent, 0 before 20 */
        if (oldest > 0 && now - oldest < WEB_AUTH_WINDOW)
            e->blocked_until = now + WEB_AUTH_BLOCK;
    }
    pthread_mutex_unlock(&a->rate_lock);
}

/* ------------------------------------------------------------ last used */

/* Remember that token i was used; at most once a minute per token, write
 * DIR/tokens.used (best effort: a failure only loses the time). */
static void mark_used(struct web_access *a, struct web_auth_set *s, size_t i, int64_t now)
{
    atomic_store(&s->last_used[i], now);
    if (now - atomic_load(&s->written[i]) < 60 || pthread_mutex_trylock(&a->used_lock) != 0)
        return;
    size_t n = s->tokens->count;
    int64_t *times = malloc((n + 1) * sizeof *times);
    if (times != NULL) {
        for (size_t k = 0; k < n; k++)
            times[k] = atomic_load(&s->last_used[k]);
        if (web_tokens_write_used(a->dir, s->tokens, times, NULL) == 0)
            for (size_t k = 0; k < n; k++)
                atomic_store(&s->written[k], times[k]);
        free(times);
    }
    pthread_mutex_unlock(&a->used_lock);
}

/* -------------------------------------------------------------- verdict */

enum web_verdict web_auth_decide(struct web_access *a, const char *authorization,
                                 const unsigned char addr[16], bool write, int64_t now,
                                 struct web_principal *who, unsigned *retry_after,
                                 struct kpi_error *err)
{
    memset(who, 0, sizeof *who);
    *retry_after = 0;
    struct web_auth_set *s = NULL;
    if (current_set(a, &s, err) != 0)
        return WEB_AUTH_ERROR;
    if (s->tokens->count == 0) { /* open, read-only: as before tokens */
        if (write) {
            set_release(s);
            kpi_fail(err, KPI_EUSAGE,
                     "writes need a write token, and this data directory has "
                     "none (kpi token add)");
            return WEB_FORBIDDEN;
        }
        who->set = s;
        return WEB_ALLOW;
    }
    unsigned left = rate_blocked(a, addr, now);
    if (left > 0) {
        set_release(s);
        *retry_after = left;
        kpi_fail(err, KPI_EUSAGE, "too many failed authentications; retry in %u s", left);
        return WEB_TOO_MANY;
    }
    const char *secret;
    size_t len;
    if (authorization == NULL) {
        set_release(s);
        kpi_fail(err, KPI_EUSAGE, "this server needs a token (Authorization: Bearer TOKEN)");
        return WEB_UNAUTHORIZED;
    }
    const struct web_token *t = NULL;
    if (web_auth_bearer(authorization, &secret, &len))
        t = web_tokens_match(s->tokens, secret, len);
    if (t != NULL && t->expires_day != INT64_MAX && now / 86400 > t->expires_day)
        t = NULL; /* expired: refused like an unknown token */
    if (t == NULL) {
        set_release(s);
        rate_fail(a, addr, now);
        kpi_fail(err, KPI_EUSAGE, "invalid, expired or revoked token");
        return WEB_UNAUTHORIZED;
    }
    size_t i = (size_t)(t - s->tokens->items);
    mark_used(a, s, i, now);
    if (write && t->role != WEB_ROLE_WRITE) {
        set_release(s);
        kpi_fail(err, KPI_EUSAGE, "token \"%s\" may only read", t->name);
        return WEB_FORBIDDEN;
    }
    who->token = t;
    who->scope = s->scope[i];
    who->set = s;
    return WEB_ALLOW;
}

/* ------------------------------------------------------------ requests */

void web_access_headers(const struct web_access *a, struct MHD_Response *r)
{
    if (a != NULL && a->tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result refuse(struct web_server *srv, struct MHD_Connection *c, enum web_verdict v,
                              unsigned retry_after, const char *message)
{
    static const struct {
        unsigned http;
        const char *code;
    } answers[] = {
        [WEB_UNAUTHORIZED] = {MHD_HTTP_UNAUTHORIZED, "unauthorized"},
        [WEB_FORBIDDEN] = {MHD_HTTP_FORBIDDEN, "forbidden"},
        [WEB_TOO_MANY] = {MHD_HTTP_TOO_MANY_REQUESTS, "too_many_requests"},
        [WEB_AUTH_ERROR] = {MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error"},
    };
    size_t len = 0;
    char *body = web_error_json(answers[v].code, message, &len);
    struct MHD_Response *r =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE) : NULL;
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    web_access_headers(srv->access, r);
    if (v == WEB_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"kpi\"");
    if (v == WEB_TOO_MANY) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    enum MHD_Result ret = MHD_queue_response(c, answers[v].http, r);
    MHD_destroy_response(r);
    return ret;
}

/* 16 bytes naming the client's address (IPv4 as ::ffff:a.b.c.d). */
static void client_addr(struct MHD_Connection *c, unsigned char out[16])
{
    memset(out, 0, 16);
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else if (sa->sa_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    }
}

bool web_auth_request(struct web_server *srv, struct MHD_Connection *c, bool write,
                      struct web_principal *who, enum MHD_Result *ret)
{
    unsigned char addr[16];
    client_addr(c, addr);
    const char *authz =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    unsigned retry = 0;
    struct kpi_error err = {0};
    enum web_verdict v =
        web_auth_decide(srv->access, authz, addr, write, (int64_t)time(NULL), who, &retry, &err);
    if (v == WEB_ALLOW)
        return true;
    *ret = refuse(srv, c, v, retry, v == WEB_AUTH_ERROR ? "cannot read the tokens" : err.message);
    return false;
}

/* GET /api/v1/whoami without an Authorization header: answered (with *who
 * all zero when the directory has tokens, see web_whoami_build) rather than
 * refused with a 401, so that the dashboard learns that it must ask for a
 * token without an error in the browser's console. It learns nothing a 401
 * would not tell; a blocked address still gets its 429. */
static bool whoami_without_token(struct web_server *srv, struct MHD_Connection *c,
                                 struct web_principal *who, enum MHD_Result *ret)
{
    unsigned char addr[16];
    client_addr(c, addr);
    unsigned retry = 0;
    struct kpi_error err = {0};
    enum web_verdict v =
        web_auth_decide(srv->access, NULL, addr, false, (int64_t)time(NULL), who, &retry, &err);
    if (v == WEB_ALLOW || v == WEB_UNAUTHORIZED)
        return false; /* open directory (who->set held), or tokens needed (who zero) */
    *ret = refuse(srv, c, v, retry, v == WEB_AUTH_ERROR ? "cannot read the tokens" : err.message);
    return true;
}

bool web_access_gate(struct web_server *srv, struct MHD_Connection *c, const char *url,
                     const char *method, struct web_principal *who, enum MHD_Result *ret)
{
    memset(who, 0, sizeof *who);
    if (strcmp(url, "/api/v1/imports") == 0)
        return false; /* web_upload_handle authenticates (as a write) */
    char buf[WEB_PATH_MAX + 8];
    const char *captures[2];
    bool known;
    if (strlen(url) <= WEB_PATH_MAX) {
        int route = web_route_match(url, method, buf, sizeof buf, captures, &known);
        bool whoami = route >= 0 && strcmp(web_routes[route].pattern, "/api/v1/whoami") == 0;
        if (whoami &&
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) == NULL)
            return whoami_without_token(srv, c, who, ret);
        if (route >= 0 && !web_routes[route].needs_data && !whoami)
            return false; /* /healthz and the dashboard's files */
    }
    /* every other route reads: another method gets its 405 once authenticated */
    return !web_auth_request(srv, c, false, who, ret);
}
