/*
 * A real `kpi serve` for end-to-end web suites: started on 127.0.0.1:0 over
 * a data directory, with tokens made by `kpi token add`, spoken to with a
 * token over real HTTP (support/http.h), and stopped.
 */
#ifndef KPI_TEST_WEB_FIXTURE_H
#define KPI_TEST_WEB_FIXTURE_H

#include "support/http.h"

#include <stddef.h>
#include <sys/types.h>

#define WF_SECRET_MAX 64 /* bytes of a token's secret, with its NUL */

struct wf_server {
    pid_t pid;
    unsigned port;
};

/* Start `kpi --data data serve --listen 127.0.0.1:0 [args...]` (args: NULL
 * or NULL-terminated) and return once it listens: the port is read from its
 * first line ("... serving on http://127.0.0.1:PORT"). The server dies with
 * the process that started it (PR_SET_PDEATHSIG): a failing test leaves
 * none behind. */
void wf_start(struct wf_server *s, const char *data, const char *const *args);

/* Stop it with sig (SIGTERM: a graceful stop; SIGKILL: at once) and reap
 * it. A server not started (pid 0) is fine. */
void wf_stop(struct wf_server *s, int sig);

/* `kpi --data data token add name --role role [--team team]`; the secret
 * it prints into out (WF_SECRET_MAX bytes). */
void wf_token_add(const char *data, const char *name, const char *role, const char *team,
                  char *out);

/* `kpi --data data token ARGS...` (args NULL-terminated, at most 12); its
 * first line of output into out (cap bytes). */
void wf_token_command(const char *data, const char *const *args, char *out, size_t cap);

/* One request on a connection of its own: Authorization: Bearer secret
 * (NULL: none), and when body is not NULL a Content-Type (type) and a
 * Content-Length. The answer into r (th_response_free). */
void wf_request(const struct wf_server *s, const char *method, const char *path, const char *secret,
                const char *type, const char *body, struct th_response *r);

#endif
