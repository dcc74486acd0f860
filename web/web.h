/*
 * web — the query server of `kpi serve` (SPEC §7) and its dashboard (§8),
 * on libmicrohttpd.
 *
 * The server answers GET (and HEAD) requests from a thread pool. It keeps
 * the current store view and a prepared analysis of it (a "snapshot"); at
 * each request it asks the store, with one stat(2), whether the ledger
 * changed, and if so loads the new generation and swaps it in atomically:
 * a request sees one whole generation, never a mix. Every answer is computed
 * once per (generation, normalized request) and cached with a strong ETag
 * (a 64-bit hash of the body), so polling a dashboard is a hash lookup and
 * If-None-Match gets 304. Nothing is ever read from disk because of a URL:
 * the dashboard's files are compiled into the binary.
 *
 * Usage:
 *   struct web_options o; web_options_default(&o); o.port = 0;
 *   web_start(st, &o, &srv, &err); ... web_port(srv) ...; web_stop(srv);
 *
 * Thread-safety: web_start and web_stop must be called from one thread; the
 * store is shared with the server threads for reading until web_stop
 * returns (store_view_open/store_changed/store_graph on it).
 */
#ifndef KPI_WEB_H
#define KPI_WEB_H

#include "common/common.h"
#include "ingest/ingest.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct web_server;   /* a running server (opaque) */
struct web_importer; /* see web_import_fn below */

#define WEB_HOST_MAX 256 /* bytes of a listen host, with the NUL */

struct web_options {
    char host[WEB_HOST_MAX];   /* numeric IPv4/IPv6 or a host name; "127.0.0.1" */
    unsigned port;             /* 0..65535; 0 = an ephemeral port (see web_port) */
    unsigned threads;          /* worker threads of the pool, 1..64; default 2 */
    bool pin_as_of;            /* true: as_of_day is the server's as-of, else today */
    int64_t as_of_day;         /* days since 1970-01-01, used when pin_as_of */
    unsigned connection_limit; /* concurrent connections; 0 (default): from the open-files
                                  limit (see web_start) */
    unsigned per_ip_limit;     /* concurrent connections of one client address; 0 (default):
                                  half the connection limit when that is >= 1024, else none */
    unsigned idle_timeout;     /* seconds before an idle connection is closed; 10 */
    unsigned header_timeout;   /* seconds a new connection may take to send a whole
                                  request head; 5 (capped at idle_timeout) */
    size_t connection_memory;  /* per connection, bounds URL and headers; 8 KiB */
    size_t cache_entries;      /* cached answers per generation; default 4096 */
    size_t cache_bytes;        /* bytes of cached answers per generation; 64 MiB */
    /* Access (SPEC §9): */
    const char *access_log;        /* --access-log FILE, "-" for stderr; NULL: none */
    const char *tls_cert_pem;      /* PEM text of the certificate chain; NULL: plain HTTP */
    const char *tls_key_pem;       /* PEM text of its private key */
    size_t max_upload;             /* bytes of an upload body; default 64 MiB */
    unsigned upload_timeout;       /* seconds an upload body may take to arrive; default 300 */
    struct web_importer *importer; /* runs uploads (the CLI's importer); NULL: uploads 503 */
};

/* Fill o with the defaults above (127.0.0.1:8080, 2 threads, today). */
void web_options_default(struct web_options *o);

/* Parse a --listen value "ADDR:PORT", "[IPV6]:PORT", ":PORT" (loopback) or
 * "PORT" into o->host and o->port. Returns 0, or KPI_EUSAGE with err saying
 * what was expected (o untouched). */
int web_parse_listen(const char *text, struct web_options *o, struct kpi_error *err);

/* Load the store's current generation and start listening: one event loop
 * per worker thread, each accepting on a socket of its own (SO_REUSEPORT:
 * the kernel spreads new connections over them; the port is first checked
 * free of any other listener); past a worker's share of the connection limit
 * new connections wait in its listen queue (up to 4096), past the
 * per-address limit they are closed at once. With connection_limit 0, the
 * process's soft open-files limit is first raised to its hard limit (as a
 * service manager's LimitNOFILE would) and the limit is that minus 64 and 5
 * per worker thread (its own descriptors), at most 16384. st is borrowed
 * and must stay open until web_stop returns. The caller runs store_repair
 * first if it wants RRD files in line (graphs read them). Errors:
 * KPI_EUSAGE (bad options, an unresolvable host), KPI_ESYSTEM (the port is
 * taken, the ledger is unreadable, out of memory). *out is caller-owned:
 * web_stop. */
int web_start(struct store *st, const struct web_options *opts, struct web_server **out,
              struct kpi_error *err);

/* The port actually bound (useful with port 0). */
unsigned web_port(const struct web_server *srv);

/* The URL the server answers at, "http://127.0.0.1:8080/" (IPv6 hosts in
 * brackets), into buf of cap bytes (truncated). Returns buf. */
char *web_url(const struct web_server *srv, char *buf, size_t cap);

/* Stop listening, wait for the worker threads, close every connection and
 * free everything. NULL is fine. */
void web_stop(struct web_server *srv);

/* -------------------------------------------------------------- uploads */

/* One upload to import (POST /api/v1/imports): the body spooled to path,
 * and the import options of its query parameters. */
struct web_import_job {
    const char *dir;    /* the data directory */
    const char *path;   /* the body, a regular file (read it by this path) */
    const char *name;   /* the file's name in messages (the `name` parameter) */
    const char *author; /* the token's name */
    struct ingest_options ingest;
    bool strict, skip_errors, dry_run, aggregate;
    /* A scoped write token: NULL for every team. Called for each data row's
     * team (an index of txn) before anything is staged; false makes the row
     * bad ("team \"x\" is outside this token's teams"). Catalog files are
     * refused when it is set. */
    bool (*team_allowed)(void *ctx, const struct store_txn *txn, size_t team);
    void *team_ctx;
    /* Each rejected row's message, "name:line[:col]: what", in order. */
    void (*bad_row)(void *ctx, const char *message);
    void *bad_ctx;
};

/* What an import did. */
struct web_import_result {
    int status;           /* 0; KPI_EINPUT (bad rows or file); KPI_EUSAGE (options, e.g. a
                             periods file without kind); KPI_ESYSTEM */
    bool catalog_refused; /* a catalog file with team_allowed set */
    char *summary_json;   /* the --json summary object (malloc'd), or NULL */
    uint64_t commit;      /* the commit written (SPEC §10), 0 when nothing changed */
    struct kpi_error err; /* when status != 0 and no bad_row said why */
};

/* The importer of `kpi import` (cli/), given to the server by `kpi serve`:
 * web/ cannot depend on cli/. Runs on an upload thread; must be
 * thread-safe (each call opens its own store). */
typedef void (*web_import_fn)(void *ctx, const struct web_import_job *job,
                              struct web_import_result *out);
struct web_importer {
    web_import_fn run;
    void *ctx;
};

/* ------------------------------------------------------------- tokens */

/* The access tokens of a data directory (SPEC §9), kept in DIR/tokens (mode
 * 0600, replaced atomically: a temporary file renamed over it, under an
 * flock of DIR/tokens.lock so that two `kpi token` commands never lose each
 * other's change). Only the SHA-256 of a secret is stored. When each token
 * was last used is kept apart, in DIR/tokens.used, written by the server
 * only: the CLI and the server never write the same file.
 * Thread-safety: no shared state; a struct web_tokens is immutable once
 * loaded and may be read by several threads. */

enum web_role { WEB_ROLE_READ = 0, WEB_ROLE_WRITE };

#define WEB_SECRET_CHARS 40                       /* random characters after "kpi_" */
#define WEB_SECRET_MAX (4 + WEB_SECRET_CHARS + 1) /* "kpi_" + 40 + NUL */
#define WEB_TOKEN_TEAMS_MAX 64                    /* --team options of one token */

struct web_token {
    char name[KPI_ID_MAX + 1];
    enum web_role role;
    unsigned char hash[KPI_SHA256_SIZE]; /* SHA-256 of the secret */
    int64_t created;                     /* seconds since the epoch, UTC */
    int64_t expires_day;                 /* last valid day (days since 1970); INT64_MAX: never */
    int64_t last_used;                   /* seconds since the epoch; 0: never */
    size_t team_count;                   /* 0: every team */
    char teams[WEB_TOKEN_TEAMS_MAX][KPI_ID_MAX + 1]; /* team ids, sorted */
};

struct web_tokens {
    size_t count;
    struct web_token *items; /* sorted by name */
};

/* Load DIR/tokens (and DIR/tokens.used for last_used). A missing file is an
 * empty list. Errors: KPI_ESYSTEM (unreadable, or a malformed line: the path
 * and line are named). *out is caller-owned: web_tokens_free. */
int web_tokens_load(const char *dir, struct web_tokens **out, struct kpi_error *err);
void web_tokens_free(struct web_tokens *t); /* NULL is fine */

/* What `kpi token add` asks for. teams are ids of existing teams (the
 * caller resolves them); expires_day INT64_MAX for none. */
struct web_token_spec {
    const char *name;
    enum web_role role;
    size_t team_count;
    const char *const *teams;
    int64_t expires_day;
};

/* Create a token: a new secret ("kpi_" + WEB_SECRET_CHARS characters of
 * [A-Za-z0-9] from getrandom(2)) into secret, its hash stored in DIR/tokens
 * (DIR created when missing). Errors: KPI_EUSAGE (a name that is not an id,
 * a name already used, too many teams), KPI_ESYSTEM. */
int web_token_add(const char *dir, const struct web_token_spec *spec, char secret[WEB_SECRET_MAX],
                  struct kpi_error *err);

/* Remove the token called name. KPI_ENOTFOUND when there is none. */
int web_token_revoke(const char *dir, const char *name, struct kpi_error *err);

/* The token whose secret is text[0..len), compared in constant time against
 * every stored hash (no early exit). NULL when none matches. Borrowed from
 * t. */
const struct web_token *web_tokens_match(const struct web_tokens *t, const char *text, size_t len);

/* Write DIR/tokens.used: when each token of t was last used, last_used[i]
 * for t->items[i] (0: never; replaced atomically, mode 0600). A token is
 * known there by its hash, so a revoked name given to a new token does not
 * inherit the old one's time. */
int web_tokens_write_used(const char *dir, const struct web_tokens *t, const int64_t *last_used,
                          struct kpi_error *err);

/* "YYYY-MM-DDThh:mm:ssZ" of seconds since the epoch into buf (>= 21 bytes). */
char *web_time_label(int64_t seconds, char *buf);

#endif
