/* Private to web/: the state behind struct web_access (auth.c owns it;
 * upload.c and access_log.c use their parts). */
#ifndef KPI_WEB_ACCESS_H
#define KPI_WEB_ACCESS_H

#include "web/web_int.h"

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

/* One failing client address: the times of its last WEB_AUTH_FAILURES
 * failures (a ring), and until when it is refused. */
struct web_rate_entry {
    unsigned char addr[16];
    bool used;
    unsigned next; /* ring position of the next failure */
    int64_t fails[WEB_AUTH_FAILURES];
    int64_t blocked_until;
};

#define WEB_RATE_SLOTS 4096 /* addresses remembered; power of two */
#define WEB_RATE_PROBE 16   /* slots looked at per address */

struct web_access {
    char *dir;
    pthread_mutex_t lock; /* guards set and ident */
    struct web_auth_set *set;
    struct stat ident; /* of DIR/tokens when set was loaded (st_ino 0: missing) */
    bool loaded;
    /* the server's watch of DIR (watch.c), or NULL: DIR/tokens is stat'ed
     * only when it saw DIR written since the last stat that found nothing */
    const struct web_watch *watch;
    _Atomic uint64_t tokens_seen;
    pthread_mutex_t used_lock; /* one writer of DIR/tokens.used at a time */

    pthread_mutex_t rate_lock; /* guards rate */
    atomic_size_t rate_active; /* entries in use: 0 skips the lock */
    struct web_rate_entry *rate;

    FILE *log; /* --access-log, or NULL */
    bool log_owned;
    pthread_mutex_t log_lock;

    bool tls; /* adds Strict-Transport-Security */
    size_t max_upload;
    unsigned upload_timeout;
    struct web_importer importer; /* .run NULL: none */
    pthread_mutex_t upload_lock;  /* guards uploads_running */
    pthread_cond_t upload_done;
    unsigned uploads_running;
};

/* Per-exchange state (con_cls), made by the URI log callback: what the
 * access log needs, and the upload in progress. */
struct web_exchange {
    bool started;              /* the handler's first call happened */
    int64_t start;             /* seconds since the epoch */
    char user[KPI_ID_MAX + 1]; /* the token's name, "" for none */
    char method[16];           /* "" until the handler is called */
    char version[16];
    struct web_upload *upload;  /* POST /api/v1/imports, or NULL */
    struct web_note_post *note; /* POST .../notes (notes.c), or NULL */
    struct web_render *render;  /* a chart being rendered for it (render.c), or NULL */
    char line[];                /* the request line's URI (NUL-terminated, bounded) */
};

/* MHD callbacks of access_log.c (installed by web_start). */
void *web_exchange_begin(void *cls, const char *uri, struct MHD_Connection *c);
void web_exchange_end(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe);

/* The upload of an exchange, freed when the exchange ends (upload.c). */
void web_upload_free(struct web_upload *u);

/* POST /api/v1/teams/{team}/kpis/{kpi}/notes (notes.c): whether url is
 * that path (its two segments into team and kpi, cap bytes each); the
 * whole exchange, called for every call of the access handler on it; the
 * exchange's state, freed when the exchange ends. */
bool web_notes_path(const char *url, char *team, char *kpi, size_t cap);
enum MHD_Result web_notes_handle(struct web_server *srv, struct MHD_Connection *c, const char *team,
                                 const char *kpi, const char *method, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls);
void web_note_post_free(struct web_note_post *n);

/* POST-only endpoints (post_body.c). At the first call of the access
 * handler on an exchange: who asks (a write), the access log's user, 405
 * (Allow: POST) for another method, 413 "too_large" with the message
 * too_large when Content-Length announces more than limit bytes. Returns
 * true when it queued an answer into *ret (*who then released); else *who
 * is the caller's to release. */
bool web_post_begin(struct web_server *srv, struct MHD_Connection *c, const char *method,
                    struct web_exchange *x, uint64_t limit, const char *too_large,
                    struct web_principal *who, enum MHD_Result *ret);

/* A POST body as it arrives: each chunk counted against limit, then given
 * to sink (when set: nonzero closes the connection) or appended to data
 * (the caller frees it). Past the limit the rest is read and dropped when
 * drain (too_large then says to answer 413), else the connection closes. */
struct web_post_body {
    uint64_t limit;
    bool drain;
    int (*sink)(void *ctx, const char *data, size_t len);
    void *ctx;
    uint64_t received;
    bool too_large;
    struct kpi_buf data;
};

enum web_post_step {
    WEB_POST_MORE,  /* a chunk was taken: answer MHD_YES */
    WEB_POST_DONE,  /* the body is complete: answer now */
    WEB_POST_CLOSE, /* answer MHD_NO */
};

/* A call of the access handler after the first, with its chunk (none: the
 * body is complete). */
enum web_post_step web_post_read(struct web_post_body *b, const char *upload_data,
                                 size_t *upload_data_size);

/* Headers every answer gets from the access side (HSTS under TLS). */
void web_access_headers(const struct web_access *a, struct MHD_Response *r);

/* {"error": ...} with status and extra headers (WWW-Authenticate ...). */
enum MHD_Result web_access_error(struct web_server *srv, struct MHD_Connection *c, unsigned http,
                                 const char *code, const char *message);
/* The same with Retry-After: retry_after (seconds, as text). */
enum MHD_Result web_access_error_after(struct web_server *srv, struct MHD_Connection *c,
                                       unsigned http, const char *code, const char *message,
                                       const char *retry_after);

/* Writes over HTTP behind other writers (docs/DECISIONS.md): at most
 * WEB_UPLOADS_MAX uploads run or wait for the writer lock at once (the next
 * gets 503 busy); a note waits for the lock at most WEB_NOTE_LOCK_WAIT_MS
 * (web/notes.c), then 503 busy. Both 503s say Retry-After:
 * WEB_WRITE_RETRY_AFTER. */
#define WEB_UPLOADS_MAX 16
#define WEB_WRITE_RETRY_AFTER "5" /* seconds */

#endif
