/* POST /api/v1/imports (SPEC §9): the body is one CSV file, imported exactly
 * as `kpi import` would, by the importer the CLI gives the server.
 *
 * The body is streamed to an unnamed file of the data directory (O_TMPFILE:
 * nothing is left behind by a crash) as it arrives, so it is never held in
 * memory, and counted: a Content-Length over --max-upload is refused before
 * any of the body is read, a chunked body that grows past it closes the
 * connection. The import runs on its own thread while the connection is
 * suspended, so the worker thread goes on answering reads; imports queue on
 * the store's writer lock like `kpi import`, as long as it takes (unlike a
 * note's, the wait holds no worker), at most WEB_UPLOADS_MAX at once: the
 * next gets 503 busy with Retry-After. */
#define _GNU_SOURCE /* O_TMPFILE */
#include "web/access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UPLOAD_PARAM_MAX 256   /* bytes of a parameter value */
#define UPLOAD_ERRORS_MAX 1000 /* bad rows listed in a 422 */

struct web_upload {
    struct web_server *srv;
    struct MHD_Connection *conn;
    struct web_principal who;
    int fd;
    struct web_post_body body; /* counted, written to fd; past the limit: closed */
    char path[64];             /* /proc/self/fd/N, or the named fallback */
    char *named;               /* the named temporary to unlink, or NULL */
    int64_t started;           /* seconds since the epoch, when the headers arrived */
    bool launched, finished;
    /* the job's strings (copies: the request's memory is not ours) */
    char name[UPLOAD_PARAM_MAX + 1], team[UPLOAD_PARAM_MAX + 1], kpi[UPLOAD_PARAM_MAX + 1];
    char date_format[UPLOAD_PARAM_MAX + 1];
    char columns[INGEST_ROLE_COUNT][UPLOAD_PARAM_MAX + 1];
    struct web_import_job job;
    struct web_import_result result;
    /* the bad rows: a JSON array being built, and how many */
    struct kpi_buf errors;
    size_t error_count;
    int error_rc;
};

static bool scoped(const struct web_principal *who)
{
    return who->token != NULL && who->token->team_count > 0;
}

void web_upload_free(struct web_upload *u)
{
    if (u == NULL)
        return;
    if (u->fd >= 0)
        close(u->fd);
    if (u->named != NULL) {
        unlink(u->named);
        free(u->named);
    }
    free(u->result.summary_json);
    kpi_buf_free(&u->errors);
    web_principal_release(&u->who);
    free(u);
}

/* ------------------------------------------------------------ answers */

static int json_string(struct kpi_buf *b, const char *s)
{
    int rc = kpi_buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = kpi_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            rc = kpi_buf_printf(b, "\\u%04x", *p);
        else
            rc = kpi_buf_append(b, p, 1);
    }
    return rc == 0 ? kpi_buf_puts(b, "\"") : rc;
}

/* body (taken) as the JSON answer http, with Retry-After: retry_after
 * (seconds) when not NULL. */
static enum MHD_Result send_json_after(struct web_server *srv, struct MHD_Connection *c,
                                       unsigned http, struct kpi_buf *body, const char *retry_after)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        kpi_buf_free(body);
        return MHD_NO;
    }
    body->data = NULL; /* the response frees it */
    body->len = body->cap = 0;
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (retry_after != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    web_access_headers(srv->access, r);
    enum MHD_Result ret = MHD_queue_response(c, http, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct web_server *srv, struct MHD_Connection *c, unsigned http,
                                 struct kpi_buf *body)
{
    return send_json_after(srv, c, http, body, NULL);
}

enum MHD_Result web_access_error_after(struct web_server *srv, struct MHD_Connection *c,
                                       unsigned http, const char *code, const char *message,
                                       const char *retry_after)
{
    struct kpi_buf b = {0};
    int rc = kpi_buf_puts(&b, "{\"error\":{\"code\":");
    if (rc == 0)
        rc = json_string(&b, code);
    if (rc == 0)
        rc = kpi_buf_puts(&b, ",\"message\":");
    if (rc == 0)
        rc = json_string(&b, message);
    if (rc == 0)
        rc = kpi_buf_puts(&b, "}}");
    if (rc != 0) {
        kpi_buf_free(&b);
        return MHD_NO;
    }
    return send_json_after(srv, c, http, &b, retry_after);
}

enum MHD_Result web_access_error(struct web_server *srv, struct MHD_Connection *c, unsigned http,
                                 const char *code, const char *message)
{
    return web_access_error_after(srv, c, http, code, message, NULL);
}

/* One bad row "name:line[:col]: message" into the errors array. */
static void on_bad_row(void *ctx, const char *message)
{
    struct web_upload *u = ctx;
    if (u->error_count++ >= UPLOAD_ERRORS_MAX || u->error_rc != 0)
        return;
    const char *p = message;
    size_t nlen = strlen(u->name);
    unsigned long line = 0, column = 0;
    if (strncmp(p, u->name, nlen) == 0 && p[nlen] == ':') {
        char *end;
        line = strtoul(p + nlen + 1, &end, 10);
        p = end;
        if (*p == ':' && p[1] >= '0' && p[1] <= '9') {
            column = strtoul(p + 1, &end, 10);
            p = end;
        }
        if (*p == ':')
            p++;
        while (*p == ' ')
            p++;
        if (line == 0)
            p = message; /* not the prefix after all */
    }
    struct kpi_buf *b = &u->errors;
    int rc = kpi_buf_puts(b, b->len ? ",{\"line\":" : "{\"line\":");
    if (rc == 0)
        rc = line ? kpi_buf_printf(b, "%lu", line) : kpi_buf_puts(b, "null");
    if (rc == 0)
        rc = column ? kpi_buf_printf(b, ",\"column\":%lu", column)
                    : kpi_buf_puts(b, ",\"column\":null");
    if (rc == 0)
        rc = kpi_buf_puts(b, ",\"message\":");
    if (rc == 0)
        rc = json_string(b, p);
    if (rc == 0)
        rc = kpi_buf_puts(b, "}");
    u->error_rc = rc;
}

/* The summary object plus "commit": the id of the commit the upload wrote,
 * null when it changed nothing (SPEC §9, §10). */
static int summary_with_commit(const char *summary, uint64_t commit, struct kpi_buf *b)
{
    size_t len = strlen(summary);
    if (len < 2 || summary[len - 1] != '}')
        return KPI_ESYSTEM;
    int rc = kpi_buf_append(b, summary, len - 1);
    if (rc == 0)
        rc = kpi_buf_puts(b, len > 2 ? ",\"commit\":" : "\"commit\":");
    if (rc == 0)
        rc = commit > 0 ? kpi_buf_printf(b, "%llu}", (unsigned long long)commit)
                        : kpi_buf_puts(b, "null}");
    return rc;
}

static enum MHD_Result answer_upload(struct web_upload *u)
{
    struct web_server *srv = u->srv;
    struct MHD_Connection *c = u->conn;
    const struct web_import_result *r = &u->result;
    struct kpi_buf b = {0};
    int rc = 0;
    if (r->catalog_refused)
        return web_access_error(srv, c, MHD_HTTP_FORBIDDEN, "forbidden",
                                "catalog uploads (teams, indicators) need a write token without "
                                "--team");
    if (r->status == 0 && u->error_count == 0 && r->summary_json != NULL) {
        rc = summary_with_commit(r->summary_json, r->commit, &b);
        if (rc != 0) {
            kpi_buf_free(&b);
            return MHD_NO;
        }
        return send_json(srv, c, MHD_HTTP_OK, &b);
    }
    if (r->status == KPI_EUSAGE)
        return web_access_error(srv, c, MHD_HTTP_BAD_REQUEST, "bad_request", r->err.message);
    if (r->status == KPI_ESYSTEM || u->error_rc != 0)
        return web_access_error(srv, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                                r->err.message[0] ? r->err.message : "internal error");
    /* 422: bad rows, or a file that cannot be read as CSV of §4 */
    if (u->error_count == 0 && r->err.message[0] != '\0')
        on_bad_row(u, r->err.message);
    char message[160];
    if (u->job.skip_errors && r->summary_json != NULL)
        snprintf(message, sizeof message, "%zu bad rows skipped, the others imported",
                 u->error_count);
    else if (u->error_count > 1)
        snprintf(message, sizeof message, "%zu bad rows, nothing imported", u->error_count);
    else
        snprintf(message, sizeof message, "bad input, nothing imported");
    rc = kpi_buf_puts(&b, "{\"error\":{\"code\":\"bad_input\",\"message\":");
    if (rc == 0)
        rc = json_string(&b, message);
    if (rc == 0)
        rc = kpi_buf_printf(&b, ",\"errors\":[%s]", u->errors.data ? u->errors.data : "");
    if (rc == 0 && u->job.skip_errors && r->summary_json != NULL) {
        rc = kpi_buf_puts(&b, ",\"summary\":");
        if (rc == 0)
            rc = summary_with_commit(r->summary_json, r->commit, &b);
    }
    if (rc == 0)
        rc = kpi_buf_puts(&b, "}}");
    if (rc != 0) {
        kpi_buf_free(&b);
        return MHD_NO;
    }
    return send_json(srv, c, MHD_HTTP_UNPROCESSABLE_CONTENT, &b);
}

/* --------------------------------------------------------- parameters */

struct params {
    struct web_upload *u;
    struct kpi_error err;
    int rc;
};

static bool parse_bool(const char *v, bool *out)
{
    if (v == NULL || strcmp(v, "") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        return false;
    return true;
}

static int copy_param(const char *key, const char *v, char *out, struct kpi_error *err)
{
    if (v == NULL || v[0] == '\0')
        return kpi_fail(err, KPI_EUSAGE, "parameter %s needs a value", key);
    size_t len = strlen(v);
    if (len > UPLOAD_PARAM_MAX)
        return kpi_fail(err, KPI_EUSAGE, "parameter %s is too long", key);
    if (!kpi_utf8_valid(v, len))
        return kpi_fail(err, KPI_EUSAGE,
                        "parameter %s is not valid UTF-8 or contains an encoded NUL", key);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return kpi_fail(err, KPI_EUSAGE, "parameter %s has a control character", key);
    memcpy(out, v, len + 1);
    return 0;
}

static int one_param(struct web_upload *u, const char *key, const char *v, struct kpi_error *err)
{
    struct web_import_job *j = &u->job;
    char text[UPLOAD_PARAM_MAX + 1];
    if (strcmp(key, "strict") == 0 || strcmp(key, "dry_run") == 0 ||
        strcmp(key, "aggregate") == 0) {
        bool *flag = key[0] == 's' ? &j->strict : key[0] == 'a' ? &j->aggregate : &j->dry_run;
        if (!parse_bool(v, flag))
            return kpi_fail(err, KPI_EUSAGE, "invalid %s \"%s\" (expected true or false)", key, v);
        return 0;
    }
    int rc = copy_param(key, v, text, err);
    if (rc != 0)
        return rc;
    if (strcmp(key, "kind") == 0) {
        static const char *const names[] = {"observations", "targets", "teams", "indicators"};
        static const enum ingest_kind kinds[] = {INGEST_KIND_OBSERVATIONS, INGEST_KIND_TARGETS,
                                                 INGEST_KIND_TEAMS, INGEST_KIND_INDICATORS};
        for (size_t i = 0; i < 4; i++)
            if (strcmp(text, names[i]) == 0) {
                j->ingest.kind = kinds[i];
                return 0;
            }
        return kpi_fail(err, KPI_EUSAGE,
                        "invalid kind \"%s\" (expected observations, targets, teams or "
                        "indicators)",
                        text);
    }
    if (strcmp(key, "team") == 0) {
        memcpy(u->team, text, sizeof text);
        j->ingest.team = u->team;
    } else if (strcmp(key, "kpi") == 0) {
        memcpy(u->kpi, text, sizeof text);
        j->ingest.kpi = u->kpi;
    } else if (strcmp(key, "date_format") == 0) {
        memcpy(u->date_format, text, sizeof text);
        j->ingest.date_format = u->date_format;
    } else if (strcmp(key, "name") == 0) {
        memcpy(u->name, text, sizeof text);
    } else if (strcmp(key, "column") == 0) {
        char *eq = strchr(text, '=');
        enum ingest_role role;
        if (eq == NULL || eq == text || eq[1] == '\0')
            return kpi_fail(err, KPI_EUSAGE, "invalid column \"%s\" (expected ROLE=HEADER)", text);
        *eq = '\0';
        if (ingest_role_parse(text, &role) != 0)
            return kpi_fail(err, KPI_EUSAGE,
                            "invalid column role \"%s\" (expected date, team, kpi, value, "
                            "target or note)",
                            text);
        memcpy(u->columns[role], eq + 1, strlen(eq + 1) + 1);
        j->ingest.column[role] = u->columns[role];
    } else if (strcmp(key, "encoding") == 0) {
        if (strcmp(text, "utf-8") == 0 || strcmp(text, "utf8") == 0)
            j->ingest.encoding = INGEST_ENCODING_UTF8;
        else if (strcmp(text, "cp1252") == 0 || strcmp(text, "windows-1252") == 0)
            j->ingest.encoding = INGEST_ENCODING_CP1252;
        else
            return kpi_fail(err, KPI_EUSAGE, "invalid encoding \"%s\" (expected utf-8 or cp1252)",
                            text);
    } else if (strcmp(key, "delimiter") == 0 || strcmp(key, "decimal") == 0) {
        bool delim = key[1] == 'e' && key[2] == 'l';
        const char *c = strcmp(text, "tab") == 0 || strcmp(text, "\\t") == 0 ? "\t" : text;
        if (strlen(c) != 1 || strchr(delim ? ",;\t" : ".,", c[0]) == NULL)
            return kpi_fail(err, KPI_EUSAGE, "invalid %s \"%s\"", key, text);
        if (delim)
            j->ingest.delimiter = c[0];
        else
            j->ingest.decimal = c[0];
    } else if (strcmp(key, "on_error") == 0) {
        if (strcmp(text, "abort") != 0 && strcmp(text, "skip") != 0)
            return kpi_fail(err, KPI_EUSAGE, "invalid on_error \"%s\" (expected abort or skip)",
                            text);
        j->skip_errors = strcmp(text, "skip") == 0;
    } else {
        return kpi_fail(err, KPI_EUSAGE, "unknown parameter \"%s\"", key);
    }
    return 0;
}

static enum MHD_Result param_iterator(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct params *p = cls;
    if (p->rc == 0)
        p->rc = one_param(p->u, key, value, &p->err);
    return p->rc == 0 ? MHD_YES : MHD_NO;
}

int web_upload_param_check(const char *key, const char *value, struct kpi_error *err)
{
    struct web_upload *u = calloc(1, sizeof *u);
    if (u == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    int rc = one_param(u, key, value, err);
    free(u);
    return rc;
}

/* ------------------------------------------------------------ the job */

static bool token_has(const struct web_token *t, const char *id)
{
    for (size_t i = 0; i < t->team_count; i++)
        if (strcmp(t->teams[i], id) == 0)
            return true;
    return false;
}

/* A team of the transaction is the token's when it or an ancestor is one of
 * its teams. */
static bool team_allowed(void *ctx, const struct store_txn *txn, size_t team)
{
    const struct web_token *t = ctx;
    for (size_t hops = 0; hops < 10000; hops++) {
        const struct kpi_team *k = store_txn_team(txn, team);
        if (token_has(t, k->id))
            return true;
        if (k->parent == NULL || k->parent[0] == '\0' ||
            store_txn_resolve_team((struct store_txn *)(uintptr_t)txn, k->parent, false, &team,
                                   NULL, NULL) != 0)
            return false;
    }
    return false;
}

static void *run_import(void *arg)
{
    struct web_upload *u = arg;
    struct web_access *a = u->srv->access;
    a->importer.run(a->importer.ctx, &u->job, &u->result);
    u->finished = true;
    MHD_resume_connection(u->conn);
    web_server_kick(u->srv); /* the daemon has no thread of its own to wake */
    pthread_mutex_lock(&a->upload_lock);
    a->uploads_running--;
    pthread_cond_broadcast(&a->upload_done);
    pthread_mutex_unlock(&a->upload_lock);
    return NULL;
}

/* Start the import on its own thread and suspend the connection; false when
 * too many run already. */
static bool launch(struct web_upload *u)
{
    struct web_access *a = u->srv->access;
    pthread_mutex_lock(&a->upload_lock);
    bool ok = a->uploads_running < WEB_UPLOADS_MAX;
    if (ok)
        a->uploads_running++;
    pthread_mutex_unlock(&a->upload_lock);
    if (!ok)
        return false;
    u->launched = true;
    MHD_suspend_connection(u->conn);
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, run_import, u) != 0) {
        kpi_fail(&u->result.err, KPI_ESYSTEM, "cannot start the import");
        u->result.status = KPI_ESYSTEM;
        u->finished = true;
        MHD_resume_connection(u->conn);
        web_server_kick(u->srv);
        web_server_kick(u->srv); /* the daemon has no thread of its own to wake */
        pthread_mutex_lock(&a->upload_lock);
        a->uploads_running--;
        pthread_cond_broadcast(&a->upload_done);
        pthread_mutex_unlock(&a->upload_lock);
    }
    pthread_attr_destroy(&attr);
    return true;
}

static int open_spool(struct web_upload *u, const char *dir, struct kpi_error *err)
{
    u->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (u->fd >= 0) {
        snprintf(u->path, sizeof u->path, "/proc/self/fd/%d", u->fd);
        return 0;
    }
    size_t len = strlen(dir) + 32;
    u->named = malloc(len);
    if (u->named == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    snprintf(u->named, len, "%s/.upload-XXXXXX", dir);
    u->fd = mkstemp(u->named);
    if (u->fd < 0) {
        free(u->named);
        u->named = NULL;
        return kpi_fail(err, KPI_ESYSTEM, "cannot spool the upload in %s: %s", dir,
                        strerror(errno));
    }
    snprintf(u->path, sizeof u->path, "%s", "");
    return 0;
}

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* A chunk of the body into the spool file. */
static int spool(void *ctx, const char *data, size_t len)
{
    struct web_upload *u = ctx;
    /* a body trickling in (slowloris) never idles: bound its whole time */
    if ((int64_t)time(NULL) - u->started > (int64_t)u->srv->access->upload_timeout)
        return -1;
    return write_all(u->fd, data, len) ? 0 : -1;
}

/* The first call: who asks, the size announced, the parameters. Returns
 * true with *ret set when it answered (a refusal). */
static bool begin(struct web_server *srv, struct MHD_Connection *c, const char *method,
                  struct web_exchange *x, enum MHD_Result *ret)
{
    char too_large[96];
    snprintf(too_large, sizeof too_large,
             "the body is larger than %zu bytes (kpi serve "
             "--max-upload)",
             srv->access->max_upload);
    struct web_principal who;
    if (web_post_begin(srv, c, method, x, srv->access->max_upload, too_large, &who, ret))
        return true;
    struct web_upload *u = calloc(1, sizeof *u);
    if (u == NULL) {
        web_principal_release(&who);
        return *ret = MHD_NO, true;
    }
    u->srv = srv;
    u->conn = c;
    u->who = who;
    u->fd = -1;
    u->body = (struct web_post_body){.limit = srv->access->max_upload, .sink = spool, .ctx = u};
    u->started = (int64_t)time(NULL);
    strcpy(u->name, "upload.csv");
    x->upload = u; /* freed with the exchange from now on */
    struct params p = {.u = u};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, param_iterator, &p);
    if (p.rc != 0) {
        *ret = web_access_error(srv, c, MHD_HTTP_BAD_REQUEST, "bad_request", p.err.message);
        return true;
    }
    if (srv->access->importer.run == NULL) {
        *ret = web_access_error_after(srv, c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                      "this server does not import", WEB_WRITE_RETRY_AFTER);
        return true;
    }
    struct kpi_error err = {0};
    if (open_spool(u, store_dir(srv->st), &err) != 0) {
        *ret =
            web_access_error(srv, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error", err.message);
        return true;
    }
    struct web_import_job *j = &u->job;
    j->dir = store_dir(srv->st);
    j->path = u->named ? u->named : u->path;
    j->name = u->name;
    j->author = who.token ? who.token->name : "";
    if (scoped(&u->who)) {
        j->team_allowed = team_allowed;
        j->team_ctx = (void *)(uintptr_t)u->who.token;
    }
    j->bad_row = on_bad_row;
    j->bad_ctx = u;
    return false;
}

enum MHD_Result web_upload_handle(struct web_server *srv, struct MHD_Connection *c,
                                  const char *method, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct web_exchange *x = *con_cls;
    enum MHD_Result ret = MHD_YES;
    if (!x->started) {
        x->started = true;
        return begin(srv, c, method, x, &ret) ? ret : MHD_YES;
    }
    struct web_upload *u = x->upload;
    if (u == NULL) /* answered at the first call */
        return MHD_NO;
    switch (web_post_read(&u->body, upload_data, upload_data_size)) {
    case WEB_POST_MORE:
        return MHD_YES;
    case WEB_POST_CLOSE: /* past the limit, too slow, or a failed write */
        return MHD_NO;
    case WEB_POST_DONE:
        break;
    }
    if (u->finished)
        return answer_upload(u);
    if (u->launched)
        return MHD_YES; /* resumed without a result: cannot happen, wait again */
    if (!launch(u)) {
        return web_access_error_after(srv, c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                                      "too many uploads at once; retry later",
                                      WEB_WRITE_RETRY_AFTER);
    }
    return MHD_YES;
}
