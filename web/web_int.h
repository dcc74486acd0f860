/*
 * web internals shared by the files of web/ (not a public header).
 *
 *   server.c    libmicrohttpd glue: start/stop, the access handler, responses
 *   routes.c    the route table, URL matching, query parameters, documents
 *   snapshot.c  the current generation (view + prepared analysis) and its
 *               answer cache, refcounted
 *   metrics.c   the Prometheus exposition
 *   text.c      hashing, ETags, JSON error bodies
 *   web_assets.c (generated in the build tree by cmake/EmbedAssets.cmake)
 */
#ifndef KPI_WEB_INT_H
#define KPI_WEB_INT_H

#include "query/query.h"
#include "store/store.h"
#include "web/web.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;
struct MHD_Daemon;

/* ------------------------------------------------------------- assets */

/* One dashboard file compiled into the binary. */
struct web_asset {
    const char *name; /* file name in web/dashboard, e.g. "app.js" */
    const unsigned char *data;
    size_t size;
};
extern const struct web_asset web_assets[];
extern const size_t web_asset_count;

/* ------------------------------------------------------------- text */

/* FNV-1a, 64 bits. */
uint64_t web_hash(const void *data, size_t len, uint64_t seed);
#define WEB_HASH_SEED 1469598103934665603ULL

#define WEB_ETAG_MAX 24 /* "\"" + 16 hex + "-gz" + "\"" + NUL */

/* The strong ETag of a body: a quoted 16-digit hex hash. */
void web_etag(const void *body, size_t len, char out[WEB_ETAG_MAX]);

/* True when an If-None-Match header value (a list of tags, W/ forms, or *)
 * matches etag. NULL matches nothing. */
bool web_etag_matches(const char *if_none_match, const char *etag);

/* The ETag of the gzip encoding of a body whose ETag is etag: "\"HASH-gz\"". */
void web_etag_gzip(const char *etag, char out[WEB_ETAG_MAX]);

/* True when an Accept-Encoding header value accepts gzip (or x-gzip) with a
 * q-value above 0. NULL accepts nothing. */
bool web_accepts_gzip(const char *accept_encoding);

/* The gzip encoding of len bytes (zlib, default level, no name, mtime 0:
 * the same bytes for the same body). *out is caller-owned (free), or NULL
 * on error. Errors: KPI_ESYSTEM. Thread-safe. */
int web_gzip(const void *data, size_t len, char **out, size_t *out_len, struct kpi_error *err);

/* {"error": {"code": code, "message": message}} (message JSON-escaped).
 * Caller-owned (free()); NULL when out of memory. */
char *web_error_json(const char *code, const char *message, size_t *len);

/* ------------------------------------------------------- the cache key */

/* A normalized request: the route and every effective parameter, defaults
 * filled in, team and indicator resolved to indices. Compared bytewise:
 * always memset to 0 before filling. */
struct web_key {
    uint32_t route;
    uint32_t window, stale_after;
    uint32_t width, height;
    uint32_t severity;
    uint64_t team, indicator; /* QUERY_NONE when not given */
    int64_t as_of, from, to;
    uint64_t scope;    /* the token's teams (web_principal.scope): 0 for every team */
    uint64_t known_at; /* known_at=: the commit (0: the snapshot's, the latest) */
    uint64_t limit;    /* /commits?limit= (0: all) */
    int64_t period;    /* .../history?period= (a day; INT64_MIN: every period) */
    uint64_t since;    /* review.html?since=: restatements after this commit */
};

/* A cached answer: immutable once built, refcounted (the cache holds one
 * reference, each request being answered from it another). */
struct MHD_Response;

/* A cached answer. Its libmicrohttpd responses (200 with the body, and 304)
 * are made on first use and queued to every connection that asks again:
 * libmicrohttpd refcounts them, and they own a copy of the body, so they
 * outlive the entry safely. A cache hit is then a lookup and a queue. */
struct web_entry {
    struct web_entry *next; /* hash chain */
    atomic_size_t refs;
    _Atomic(struct MHD_Response *) ok;           /* 200, made on first use */
    _Atomic(struct MHD_Response *) not_modified; /* 304, made on first use */
    /* The gzip encoding, for clients that accept it: compressed on first
     * use, once; the body lives in the response (MHD frees it). */
    _Atomic(struct MHD_Response *) gzip_ok;
    _Atomic(struct MHD_Response *) gzip_not_modified;
    uint64_t hash;
    struct web_key key;
    const char *content_type; /* static string */
    bool compressible;        /* worth gzip: text, at least WEB_GZIP_MIN bytes */
    char etag[WEB_ETAG_MAX];
    char etag_gzip[WEB_ETAG_MAX];
    size_t len;
    char data[]; /* len bytes (plus a NUL) */
};

#define WEB_GZIP_MIN 256 /* smaller bodies are sent as they are */

/* Build an entry (refs 1) holding a copy of body. NULL when out of memory. */
struct web_entry *web_entry_new(const struct web_key *key, const char *content_type,
                                const void *body, size_t len);
void web_entry_release(struct web_entry *e); /* NULL is fine */

/* ------------------------------------------------------------ snapshot */

/* One generation of the data directory: its view, the prepared analysis of
 * it (shared read-only by the worker threads) and the answers computed from
 * it. Refcounted: the server holds one reference to the current snapshot,
 * each request in flight another. */
struct web_snapshot;

int web_snapshot_open(struct store *st, size_t max_entries, size_t max_bytes,
                      struct web_snapshot **out, struct kpi_error *err);
/* The snapshot of the latest commit taken up from prev (which stays valid
 * for the requests that hold it): the view built from prev's by what changed
 * since (store_view_update: unchanged series share their points), the
 * analysis prepared again, an empty cache with prev's caps. The one seam
 * between "a commit was made" and "answers show it". */
int web_snapshot_refresh(struct store *st, const struct web_snapshot *prev,
                         struct web_snapshot **out, struct kpi_error *err);
void web_snapshot_release(struct web_snapshot *s); /* NULL is fine */
void web_snapshot_retain(struct web_snapshot *s);
const struct store_view *web_snapshot_view(const struct web_snapshot *s);
struct query *web_snapshot_query(const struct web_snapshot *s);

/* The cached answer of key (a new reference: web_entry_release), or NULL. */
struct web_entry *web_snapshot_lookup(struct web_snapshot *s, const struct web_key *key);

/* Cache e (takes the caller's reference) and return the entry to answer
 * with (a new reference): e, or an equal one another thread cached first. */
struct web_entry *web_snapshot_insert(struct web_snapshot *s, struct web_entry *e);

/* ------------------------------------------------------------- server */

/* ------------------------------------------------------------ renders */

/* Charts of the cache's misses, rendered on one thread of their own
 * (render.c says why): a request suspends its connection, which is resumed
 * once the chart is in the snapshot's cache or has failed. */
#define WEB_RENDER_QUEUE 16 /* charts waiting at most; more get 503 */

struct web_render; /* one job: owned by the request's web_exchange */

struct web_renderer {
    pthread_t thread;
    pthread_mutex_t lock; /* guards the rest */
    pthread_cond_t more;
    struct web_render *head, *tail;
    size_t queued; /* waiting or rendering */
    bool stopping, running;
};

/* The checkpoint thread (checkpoint.c): copies DIR/kpi.db-wal into
 * DIR/kpi.db after each take-up, off the requests' and commits' path. */
struct web_checkpointer {
    struct store *st;
    pthread_t thread;
    pthread_mutex_t mu; /* guards the rest */
    pthread_cond_t cv;  /* wanted or stopping set; a checkpoint done */
    bool wanted, stopping, running;
    uint64_t runs, failures; /* checkpoints made, of them failed */
};

/* Start the thread. Errors: KPI_ESYSTEM. */
int web_checkpointer_start(struct web_checkpointer *c, struct store *st, struct kpi_error *err);
/* Ask for a checkpoint (returns at once). Thread-safe. */
void web_checkpointer_want(struct web_checkpointer *c);
/* Stop the thread once the checkpoint under way is done (fine when not
 * started). */
void web_checkpointer_stop(struct web_checkpointer *c);

/* Start the render thread. Errors: KPI_ESYSTEM. */
int web_renderer_start(struct web_renderer *r, struct kpi_error *err);
/* Render what is queued, then stop the thread (fine when never started). */
void web_renderer_stop(struct web_renderer *r);
void web_renderer_destroy(struct web_renderer *r);

/* Queue the chart of key (a cache miss of snap) and suspend c until it is
 * rendered. *out: the job, owned by the caller (web_render_free), to read
 * with web_render_outcome once the connection is resumed. Errors: WEB_EBUSY
 * (WEB_RENDER_QUEUE jobs wait already, or the server is stopping),
 * KPI_ESYSTEM. Call from c's worker. */
int web_render_submit(struct web_server *srv, struct MHD_Connection *c, struct web_snapshot *snap,
                      const struct web_key *key, struct web_render **out, struct kpi_error *err);
/* 0 when the chart is in the cache now, else its error (into err). */
int web_render_outcome(const struct web_render *j, struct kpi_error *err);
void web_render_free(struct web_render *j); /* NULL is fine */

/* A web-only status beside enum kpi_status: the server is busy with this kind
 * of request, try again shortly (503 with Retry-After). */
#define WEB_EBUSY ((enum kpi_status) - 100)

#define WEB_LISTEN_BACKLOG 4096   /* the kernel caps it at net.core.somaxconn */
#define WEB_FILES_RESERVED 64     /* descriptors kept for the store, logs, ... */
#define WEB_FILES_PER_WORKER 5    /* its listening socket, two epoll sets, two eventfds */
#define WEB_CONNECTIONS_MAX 16384 /* the automatic connection limit's ceiling */
#define WEB_PER_IP_FLOOR 1024     /* an automatic per-address limit is never lower */

/* One event loop: a libmicrohttpd daemon without threads of its own, run
 * by a thread of the server (server.c says why). */
/* ------------------------------------------------------------- watch */

/* Whether the data directory may have changed since a request last looked
 * (watch.c), so that a request asks the store (a SQLite query, two fcntl
 * and an fstat) and stats DIR/tokens only when something was written there.
 *
 * The workers put fd in their epoll sets, call web_watch_drain when it is
 * readable and web_watch_sync at the start of every round, before serving.
 * A request loads the sequence with web_watch_quiet against the value it
 * keeps (seen, starting at 0): when quiet it skips its check; else it checks
 * and then calls web_watch_checked with the sequence it loaded *before*
 * checking. Without inotify (inotify_init1 or inotify_add_watch fails, or
 * the directory is removed) web_watch_quiet is always false: every request
 * checks, as before the watch. All functions are thread-safe. */
struct web_watch {
    int fd;               /* inotify, non-blocking; -1 when there is none */
    _Atomic uint64_t seq; /* even: quiet; odd: settling or no watch */
    pthread_mutex_t lock; /* guards the fields below, one drain at a time */
    bool broken;          /* the watched directory went away */
    int64_t settle_ns;    /* how long after an event requests keep checking */
    int64_t settle_until; /* CLOCK_MONOTONIC, ns */
    uint64_t events;      /* events read (ignored ones too) */
};

void web_watch_init(struct web_watch *w, const char *dir); /* never fails: falls back */
void web_watch_destroy(struct web_watch *w);
void web_watch_drain(struct web_watch *w);
void web_watch_sync(struct web_watch *w);
bool web_watch_quiet(const struct web_watch *w, const _Atomic uint64_t *seen, uint64_t *seq);
void web_watch_checked(_Atomic uint64_t *seen, uint64_t seq);

struct web_worker {
    struct MHD_Daemon *daemon;
    const struct web_server *srv;
    struct web_watch *watch; /* the server's */
    pthread_t thread;
    int epoll_fd;   /* ours: the daemon's epoll descriptor and wake */
    int wake;       /* eventfd, written once by web_stop */
    int kick;       /* eventfd: run a round now (web_server_kick) */
    unsigned limit; /* the daemon's connection limit */
    int listen_fd;  /* its own (SO_REUSEPORT), closed by web_stop; -1: the first worker's */
    atomic_uint connections; /* open now (kept by its thread, read by any) */
    bool running;
};

struct web_server {
    struct store *st;
    struct web_options opts;
    unsigned connection_limit, per_ip_limit, header_timeout; /* effective values */
    struct web_renderer renderer;
    unsigned port;
    char url[WEB_HOST_MAX + 32];
    pthread_mutex_t lock;        /* guards current */
    pthread_mutex_t reload_lock; /* one reload at a time */
    struct web_snapshot *current;
    struct web_access *access;  /* tokens, rate limits, access log, uploads (auth.c) */
    struct web_watch watch;     /* DIR's changes (watch.c) */
    _Atomic uint64_t data_seen; /* watch sequence of the last store check that found nothing */
    /* the last take-up that failed (under reload_lock): the commit it tried
     * and when (CLOCK_MONOTONIC ns); the last good snapshot is served until
     * another commit, or WEB_RETRY_NS later */
    bool take_up_failed;
    uint64_t failed_commit;
    int64_t failed_at_ns;
    struct web_checkpointer ckpt; /* after each take-up (checkpoint.c) */
    size_t nworkers;              /* started */
    struct web_worker workers[];  /* opts.threads */
};

/* The current snapshot (a new reference), taken up first when the store says
 * a commit was made (asked only when the watch saw DIR written). A take-up
 * that fails keeps the last good snapshot, which is returned (0), and is
 * tried again only by a request after another commit or WEB_RETRY_NS later,
 * not by every request. Errors: none today (kept for callers). */
#define WEB_RETRY_NS (1000LL * 1000 * 1000)
int web_server_snapshot(struct web_server *srv, struct web_snapshot **out, struct kpi_error *err);

/* Make every worker run a round now. Call it after MHD_resume_connection:
 * libmicrohttpd wakes only threads of its own, and the daemons here have
 * none (server.c says why). Thread-safe. */
void web_server_kick(struct web_server *srv);

/* The connections worker i (0 .. threads - 1) holds open now. */
unsigned web_server_worker_connections(const struct web_server *srv, size_t i);

/* The server's as-of day: the pinned one, or today. */
int64_t web_server_as_of(const struct web_server *srv);

/* ------------------------------------------------------------- routes */

/* A request being answered, as the route handlers see it. */
struct web_request {
    struct web_server *srv;
    struct MHD_Connection *conn;
    const char *captures[2]; /* {team}, {kpi} path segments (decoded) */
    struct web_snapshot *snap;
    struct web_key key;
    const struct web_principal *who; /* who asks (auth.c); never NULL */
};

/* A body produced by a route: malloc'd (borrowed false) or static. */
struct web_body {
    char *data;
    size_t len;
    bool borrowed;
};

struct web_route {
    const char *method;  /* "GET" (HEAD is answered like GET) */
    const char *pattern; /* "/api/v1/teams/{team}/drift" */
    /* Validate query parameters and resolve path segments into rq->key
     * (route already set), using rq->snap when the route needs data. */
    int (*prepare)(struct web_request *rq, struct kpi_error *err);
    /* Compute the answer of rq->key. */
    int (*build)(const struct web_request *rq, struct web_body *out, struct kpi_error *err);
    const char *content_type;
    bool needs_data; /* false: static answers (health, dashboard), not cached */
};

extern const struct web_route web_routes[];
extern const size_t web_route_count;

#define WEB_PATH_MAX 1024   /* bytes of a decoded path */
#define WEB_SEGMENT_MAX 256 /* bytes of a captured segment */

/* Match a decoded path against the route table. Returns the index of the
 * route whose pattern and method match; or -1 with *path_known true when a
 * pattern matches but not the method (405), false otherwise (404).
 * captures point into buf (a copy of path, cap >= strlen(path) + 1). */
int web_route_match(const char *path, const char *method, char *buf, size_t cap,
                    const char *captures[2], bool *path_known);

/* -------------------------------------------------------------- graphs */

/* The chart of (key->team, key->indicator) over [key->from, key->to] at
 * key->width x key->height, SVG or PNG, rendered by the store (RRDtool). */
int web_graph_build(struct store *st, const struct store_view *view, const struct web_key *key,
                    bool png, struct web_body *out, struct kpi_error *err);

/* ------------------------------------------------------------- metrics */

/* The Prometheus text exposition at opt (SPEC §7). *out caller-owned. */
int web_metrics_build(struct query *q, const struct store_view *view,
                      const struct query_options *opt, struct web_body *out, struct kpi_error *err);

/* Why libmicrohttpd could not be loaded (web/mhdlib.c), or NULL when it is
 * loaded (loading it on the first call). Thread-safe. */
const char *web_mhd_error(void);

/* ------------------------------------------------------------- access */

/* Tokens, roles, scopes and rate limits (SPEC §9), the access log and
 * uploads: auth.c, scope.c, access_log.c, upload.c. */
struct web_access;
struct web_auth_set; /* one loaded DIR/tokens, refcounted */

/* Who a request is answered for. */
struct web_principal {
    const struct web_token *token; /* NULL: the directory has no token (open, read-only) */
    uint64_t scope;                /* 0: every team; else a hash of token->teams */
    struct web_auth_set *set;      /* keeps token alive; web_principal_release; NULL:
                                      not authenticated (static files, and whoami
                                      without a token when the directory has some) */
};

enum web_verdict {
    WEB_ALLOW = 0,
    WEB_UNAUTHORIZED, /* 401: missing, unknown, expired or revoked token */
    WEB_FORBIDDEN,    /* 403: a method the role does not allow; any write without tokens */
    WEB_TOO_MANY,     /* 429: too many failed authentications from this address */
    WEB_AUTH_ERROR,   /* 500: DIR/tokens cannot be read (fail closed) */
};

#define WEB_AUTH_FAILURES 20 /* failed authentications ... */
#define WEB_AUTH_WINDOW 60   /* ... within this many seconds block an address ... */
#define WEB_AUTH_BLOCK 60    /* ... for this many seconds */

/* The state of a server (web_stop frees it). options: access_log, etc. */
int web_access_new(const char *dir, const struct web_options *opts, struct web_access **out,
                   struct kpi_error *err);
void web_access_free(struct web_access *a); /* NULL is fine */

/* The token of an Authorization header value: "Bearer TOKEN" (scheme in any
 * case, one or more spaces). False for anything else. *token points into
 * header. Pure: no state. */
bool web_auth_bearer(const char *header, const char **token, size_t *len);

/* Decide whether a request may go on. authorization: the header value or
 * NULL; addr: 16 bytes identifying the client address (IPv4 mapped into
 * IPv6); write: the request writes (POST). On WEB_ALLOW *who is filled
 * (web_principal_release); on WEB_TOO_MANY *retry_after is the seconds
 * left. Thread-safe. */
enum web_verdict web_auth_decide(struct web_access *a, const char *authorization,
                                 const unsigned char addr[16], bool write, int64_t now,
                                 struct web_principal *who, unsigned *retry_after,
                                 struct kpi_error *err);
void web_principal_release(struct web_principal *who);

/* web_auth_decide for a connection; when refused, queues the answer (401
 * with WWW-Authenticate, 403, 429 with Retry-After, 500) into *ret and
 * returns false. */
bool web_auth_request(struct web_server *srv, struct MHD_Connection *c, bool write,
                      struct web_principal *who, enum MHD_Result *ret);

/* The gate of on_request: requests to /healthz and the dashboard's files
 * pass as anonymous, and /api/v1/whoami without an Authorization header
 * (it then says only whether a token is needed); every other one needs
 * web_auth_request (write for anything but GET and HEAD). Returns true when
 * it queued a refusal. */
bool web_access_gate(struct web_server *srv, struct MHD_Connection *c, const char *url,
                     const char *method, struct web_principal *who, enum MHD_Result *ret);

/* True when who may see team (an index of view): the token is unscoped, or
 * team or one of its ancestors is one of the token's teams. */
bool web_scope_allows(const struct store_view *view, const struct web_principal *who, size_t team);

/* Remove what who may not see from a built answer of rq's route (teams,
 * drift, alerts, metrics): entries of other teams, and the parent of a team
 * whose parent is outside the scope (null). A no-op for unscoped tokens and
 * other routes. body is replaced (the old one freed unless borrowed). */
int web_scope_filter(const struct web_request *rq, struct web_body *body, struct kpi_error *err);

/* GET /api/v1/whoami (whoami.c): the name, role, teams and expiry of
 * rq->who's token, or that the directory has none. *out malloc'd. */
int web_whoami_build(const struct web_request *rq, struct web_body *out, struct kpi_error *err);

/* One query parameter of an upload checked as the upload checks it (for
 * the fuzz target): 0, or KPI_EUSAGE with err saying why. */
int web_upload_param_check(const char *key, const char *value, struct kpi_error *err);

/* POST /api/v1/imports: the whole exchange (upload.c), called for every
 * call of the access handler on that path. */
enum MHD_Result web_upload_handle(struct web_server *srv, struct MHD_Connection *c,
                                  const char *method, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls);

#endif
