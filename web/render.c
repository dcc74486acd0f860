/* Chart renders off the worker threads.
 *
 * librrd's graph function is not thread-safe: the store renders one chart at
 * a time under a lock. Rendered on the worker threads, a few clients asking
 * for charts of new sizes kept every worker waiting on that lock, and cheap
 * requests (/healthz) waited behind them (60 to 420 ms). Here a request for
 * a chart that is not cached suspends its connection and queues a job; one
 * render thread renders it into the snapshot's cache and resumes the
 * connection, whose worker then answers from the cache. The workers never
 * render, and past WEB_RENDER_QUEUE waiting jobs a request gets 503. */
#include "web/access.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

struct web_render {
    struct web_render *next;
    struct web_server *srv;
    struct MHD_Connection *conn;
    struct web_snapshot *snap; /* a reference, released by the render thread */
    struct web_key key;
    int rc; /* the outcome, set before the connection is resumed */
    struct kpi_error err;
};

static void render_one(struct web_render *j)
{
    struct web_request rq = {.srv = j->srv, .conn = NULL, .snap = j->snap, .key = j->key};
    const struct web_route *rt = &web_routes[j->key.route];
    struct web_body body = {0};
    j->rc = rt->build(&rq, &body, &j->err); /* charts are never filtered by scope */
    if (j->rc == 0) {
        struct web_entry *e = web_entry_new(&j->key, rt->content_type, body.data, body.len);
        if (e == NULL)
            j->rc = kpi_fail(&j->err, KPI_ESYSTEM, "out of memory");
        else
            web_entry_release(web_snapshot_insert(j->snap, e));
    }
    if (!body.borrowed)
        free(body.data);
    web_snapshot_release(j->snap);
    j->snap = NULL;
}

static void *render_main(void *arg)
{
    struct web_renderer *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->head == NULL && !r->stopping)
            pthread_cond_wait(&r->more, &r->lock);
        struct web_render *j = r->head;
        if (j == NULL)
            break; /* stopping, and nothing left */
        r->head = j->next;
        if (r->head == NULL)
            r->tail = NULL;
        pthread_mutex_unlock(&r->lock);
        struct web_server *srv = j->srv;
        struct MHD_Connection *conn = j->conn;
        render_one(j);
        /* From here the job belongs to the connection's worker again. */
        MHD_resume_connection(conn);
        web_server_kick(srv);
        pthread_mutex_lock(&r->lock);
        r->queued--;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int web_renderer_start(struct web_renderer *r, struct kpi_error *err)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->more, NULL);
    if (pthread_create(&r->thread, NULL, render_main, r) != 0)
        return kpi_fail(err, KPI_ESYSTEM, "cannot start the render thread");
    r->running = true;
    return 0;
}

void web_renderer_stop(struct web_renderer *r)
{
    if (r->running) {
        pthread_mutex_lock(&r->lock);
        r->stopping = true;
        pthread_cond_signal(&r->more);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL); /* after the jobs already queued */
        r->running = false;
    }
}

void web_renderer_destroy(struct web_renderer *r)
{
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->more);
}

int web_render_submit(struct web_server *srv, struct MHD_Connection *c, struct web_snapshot *snap,
                      const struct web_key *key, struct web_render **out, struct kpi_error *err)
{
    *out = NULL;
    struct web_renderer *r = &srv->renderer;
    struct web_render *j = calloc(1, sizeof *j);
    if (j == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    j->srv = srv;
    j->conn = c;
    j->key = *key;
    pthread_mutex_lock(&r->lock);
    if (r->stopping || r->queued >= WEB_RENDER_QUEUE) {
        pthread_mutex_unlock(&r->lock);
        free(j);
        return kpi_fail(err, WEB_EBUSY, "busy rendering other charts; try again shortly");
    }
    web_snapshot_retain(snap);
    j->snap = snap;
    r->queued++;
    /* Suspended before the render thread can resume it: under the lock. */
    MHD_suspend_connection(c);
    if (r->tail != NULL)
        r->tail->next = j;
    else
        r->head = j;
    r->tail = j;
    pthread_cond_signal(&r->more);
    pthread_mutex_unlock(&r->lock);
    *out = j;
    return 0;
}

int web_render_outcome(const struct web_render *j, struct kpi_error *err)
{
    if (j->rc != 0 && err != NULL)
        *err = j->err;
    return j->rc;
}

void web_render_free(struct web_render *j)
{
    free(j);
}
