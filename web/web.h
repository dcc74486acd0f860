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
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct web_server; /* a running server (opaque) */

#define WEB_HOST_MAX 256 /* bytes of a listen host, with the NUL */

struct web_options {
    char host[WEB_HOST_MAX];   /* numeric IPv4/IPv6 or a host name; "127.0.0.1" */
    unsigned port;             /* 0..65535; 0 = an ephemeral port (see web_port) */
    unsigned threads;          /* worker threads of the pool, 1..64; default 2 */
    bool pin_as_of;            /* true: as_of_day is the server's as-of, else today */
    int64_t as_of_day;         /* days since 1970-01-01, used when pin_as_of */
    unsigned connection_limit; /* concurrent connections; default 512 */
    unsigned idle_timeout;     /* seconds before an idle connection is closed; 10 */
    size_t connection_memory;  /* per connection, bounds URL and headers; 64 KiB */
    size_t cache_entries;      /* cached answers per generation; default 4096 */
    size_t cache_bytes;        /* bytes of cached answers per generation; 64 MiB */
};

/* Fill o with the defaults above (127.0.0.1:8080, 2 threads, today). */
void web_options_default(struct web_options *o);

/* Parse a --listen value "ADDR:PORT", "[IPV6]:PORT", ":PORT" (loopback) or
 * "PORT" into o->host and o->port. Returns 0, or KPI_EUSAGE with err saying
 * what was expected (o untouched). */
int web_parse_listen(const char *text, struct web_options *o, struct kpi_error *err);

/* Load the store's current generation and start listening. st is borrowed
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

#endif
