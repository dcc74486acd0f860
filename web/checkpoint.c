/* The server's checkpoints: after it takes up a commit, a thread of its own
 * copies the WAL into DIR/kpi.db (store_checkpoint, PASSIVE: it waits for
 * no writer and no reader), so that the commits made while a server runs do
 * not pay it and the WAL stays short for the readers. Requests never wait
 * for it; several take-ups during one checkpoint make one more after it. */
#include "web/web_int.h"

static void *checkpointer_main(void *arg)
{
    struct web_checkpointer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->wanted && !c->stopping)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stopping)
            break;
        c->wanted = false;
        pthread_mutex_unlock(&c->mu);
        struct kpi_error err;
        /* maintenance: a failure (a read-only directory) is left to the
         * next writer, whose commit past the WAL's bound checkpoints */
        int rc = store_checkpoint(c->st, NULL, &err);
        pthread_mutex_lock(&c->mu);
        c->runs++;
        c->failures += rc != 0;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int web_checkpointer_start(struct web_checkpointer *c, struct store *st, struct kpi_error *err)
{
    c->st = st;
    c->wanted = c->stopping = false;
    c->runs = c->failures = 0;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->running = pthread_create(&c->thread, NULL, checkpointer_main, c) == 0;
    return c->running ? 0 : kpi_fail(err, KPI_ESYSTEM, "cannot start the checkpoint thread");
}

void web_checkpointer_want(struct web_checkpointer *c)
{
    pthread_mutex_lock(&c->mu);
    c->wanted = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void web_checkpointer_stop(struct web_checkpointer *c)
{
    if (!c->running)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL); /* a checkpoint under way ends first */
    c->running = false;
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}
