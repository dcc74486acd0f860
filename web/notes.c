/* POST /api/v1/teams/{team}/kpis/{kpi}/notes (SPEC §11): set or remove the
 * note of one period, {"period": DATE, "text": TEXT}, as `kpi note` does:
 * one commit (kind note, author the token's name). Write role, within the
 * token's scope (a team outside it is answered like an unknown one).
 *
 * The body is small (a note is at most 2,000 bytes): it is kept in memory,
 * up to WEB_NOTE_BODY_MAX bytes (413 beyond), and the commit is made on
 * the worker that received it once the body is complete. It waits for an
 * import that holds the writer lock at most WEB_NOTE_LOCK_WAIT_MS, then
 * answers 503 with Retry-After: a worker is not tied up for the minutes a
 * large import takes, and the client learns when to try again. */
#include "report/report.h"
#include "web/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEB_NOTE_BODY_MAX 16384 /* bytes: a note's 2,000 escaped, and room (a bare number) */
/* How long a note waits for the writer lock before its 503: another note
 * or a small import commits well within it, and a worker thread is held
 * meanwhile (docs/DECISIONS.md, "Writes over HTTP behind other writers"). */
#define WEB_NOTE_LOCK_WAIT_MS 2000
#define QUOTE_(x) #x
#define QUOTE(x) QUOTE_(x)
#define TOO_LARGE "the body of a note is larger than " QUOTE(WEB_NOTE_BODY_MAX) " bytes"

struct web_note_post {
    struct web_principal who;
    struct web_post_body body; /* in memory; past the limit read, then 413 */
};

void web_note_post_free(struct web_note_post *n)
{
    if (n == NULL)
        return;
    web_principal_release(&n->who);
    kpi_buf_free(&n->body.data);
    free(n);
}

/* "/api/v1/teams/{team}/kpis/{kpi}/notes": the two segments (decoded by
 * libmicrohttpd) into team and kpi (cap bytes each). */
bool web_notes_path(const char *url, char *team, char *kpi, size_t cap)
{
    static const char prefix[] = "/api/v1/teams/", mid[] = "/kpis/", suffix[] = "/notes";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *t = url + sizeof prefix - 1;
    const char *m = strstr(t, mid);
    if (m == NULL || m == t)
        return false;
    const char *k = m + sizeof mid - 1;
    const char *s = strchr(k, '/');
    if (s == NULL || s == k || strcmp(s, suffix) != 0)
        return false;
    size_t tl = (size_t)(m - t), kl = (size_t)(s - k);
    if (memchr(t, '/', tl) != NULL || tl >= cap || kl >= cap)
        return false;
    memcpy(team, t, tl);
    team[tl] = '\0';
    memcpy(kpi, k, kl);
    kpi[kl] = '\0';
    return true;
}

static enum MHD_Result too_large(struct web_server *srv, struct MHD_Connection *c)
{
    return web_access_error(srv, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", TOO_LARGE);
}

static enum MHD_Result fail(struct web_server *srv, struct MHD_Connection *c,
                            const struct kpi_error *err)
{
    switch (err->code) {
    case KPI_EBUSY: /* the writer lock was not free in time */
        return web_access_error_after(
            srv, c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
            "an import is writing the data directory; retry in a few seconds",
            WEB_WRITE_RETRY_AFTER);
    case KPI_EUSAGE:
    case KPI_EINPUT:
        return web_access_error(srv, c, MHD_HTTP_BAD_REQUEST, "bad_request", err->message);
    case KPI_ENOTFOUND:
        return web_access_error(srv, c, MHD_HTTP_NOT_FOUND, "not_found", err->message);
    default:
        return web_access_error(srv, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                                err->message);
    }
}

/* The first call, with the request's head: who asks, the method and the
 * announced size. Returns true when it queued the answer. */
static bool begin(struct web_server *srv, struct MHD_Connection *c, const char *method,
                  struct web_exchange *x, enum MHD_Result *ret)
{
    struct web_principal who;
    if (web_post_begin(srv, c, method, x, WEB_NOTE_BODY_MAX, TOO_LARGE, &who, ret))
        return true;
    struct web_note_post *n = calloc(1, sizeof *n);
    if (n == NULL) {
        web_principal_release(&who);
        return *ret = MHD_NO, true;
    }
    n->who = who;
    n->body.limit = WEB_NOTE_BODY_MAX;
    n->body.drain = true;
    x->note = n; /* freed with the exchange from now on */
    return false;
}

/* The whole body is here: check it, resolve the team (within the scope)
 * and the indicator, and commit. */
static enum MHD_Result finish(struct web_server *srv, struct MHD_Connection *c,
                              struct web_note_post *n, const char *team_ref, const char *kpi_ref)
{
    struct kpi_error err = {0};
    char *period = NULL, *text = NULL;
    struct web_snapshot *snap = NULL;
    enum MHD_Result ret;
    int64_t day;
    size_t team, ind;
    const struct kpi_buf *body = &n->body.data;
    if (report_note_request_parse(body->data != NULL ? body->data : "", body->len, &period, &text,
                                  &err) != 0 ||
        kpi_date_parse(period, NULL, &day, &err) != 0 ||
        web_server_snapshot(srv, &snap, &err) != 0) {
        if (err.code == KPI_EINPUT && period != NULL) { /* the date */
            char why[KPI_ERROR_MAX];
            snprintf(why, sizeof why, "%s", err.message);
            kpi_fail(&err, KPI_EUSAGE, "invalid \"period\": %s", why);
        }
        ret = fail(srv, c, &err);
        goto done;
    }
    const struct store_view *view = web_snapshot_view(snap);
    int rc = store_view_resolve_team(view, team_ref, &team, &err);
    /* a team outside the token's scope is answered exactly like an unknown
     * one, SPEC §9 */
    if (rc == 0 && !web_scope_allows(view, &n->who, team))
        rc = kpi_fail(&err, KPI_ENOTFOUND, "unknown team \"%s\"", team_ref);
    if (rc == 0)
        rc = store_view_resolve_indicator(view, kpi_ref, &ind, &err);
    uint64_t commit = 0;
    if (rc == 0) {
        struct store_note_request rq = {
            .team = store_view_team(view, team)->id,
            .kpi = store_view_indicator(view, ind)->id,
            .day = day,
            .text = text,
            .len = strlen(text),
            .author = n->who.token != NULL ? n->who.token->name : "",
            .source = "POST notes",
        };
        /* a store of its own, whose writer waits for the lock a bounded time */
        struct store *w = NULL;
        struct store_options so = {.lock_wait_ms = WEB_NOTE_LOCK_WAIT_MS};
        rc = store_open(store_dir(srv->st), &so, &w, &err);
        if (rc == 0)
            rc = store_set_note(w, &rq, &commit, NULL, &err);
        store_close(w);
    }
    if (rc != 0) {
        ret = fail(srv, c, &err);
        goto done;
    }
    struct kpi_buf b = {0};
    if ((commit > 0 ? kpi_buf_printf(&b, "{\"commit\":%llu}", (unsigned long long)commit)
                    : kpi_buf_puts(&b, "{\"commit\":null}")) != 0) {
        kpi_buf_free(&b);
        ret = MHD_NO;
        goto done;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        kpi_buf_free(&b);
        ret = MHD_NO;
        goto done;
    }
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    web_access_headers(srv->access, r);
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
done:
    web_snapshot_release(snap);
    free(period);
    free(text);
    return ret;
}

enum MHD_Result web_notes_handle(struct web_server *srv, struct MHD_Connection *c, const char *team,
                                 const char *kpi, const char *method, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct web_exchange *x = *con_cls;
    enum MHD_Result ret = MHD_YES;
    if (!x->started) {
        x->started = true;
        return begin(srv, c, method, x, &ret) ? ret : MHD_YES;
    }
    struct web_note_post *n = x->note;
    if (n == NULL) /* answered at the first call */
        return MHD_NO;
    switch (web_post_read(&n->body, upload_data, upload_data_size)) {
    case WEB_POST_MORE:
        return MHD_YES;
    case WEB_POST_CLOSE:
        return MHD_NO;
    case WEB_POST_DONE:
        break;
    }
    if (n->body.too_large)
        return too_large(srv, c);
    return finish(srv, c, n, team, kpi);
}
