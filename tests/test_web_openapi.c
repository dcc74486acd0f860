/* docs/openapi.json against the real server (`kpi serve` on the example
 * data of examples/, with a write and a read token): it is served byte for
 * byte at GET /api/v1/openapi.json; every route of the server's table (and
 * the upload path, answered before it) is documented and every documented
 * path is one; every documented status of every operation is provoked by a
 * real request, and each answer has the documented Content-Type and
 * headers, and, for JSON, validates against its schema
 * (tests/support/json_schema.c).
 *
 * Adding an endpoint: document it in docs/openapi.json and add one probe
 * line per documented status to PROBES below. */
#include "support/json_schema.h"
#include "test_web_helpers.h"

#include "support/web_fixture.h"
#include "web/access.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXAMPLES_AS_OF "2026-10-31"
#define EX KPI_SOURCE_DIR "/examples/"

/* Who sends a probe: the write token (the default), the read token, no
 * token, or a token the server does not know. */
enum who { WRITER, READER, NOBODY, WRONG };

/* One real request and the status it must get. op is the documented
 * operation whose responses hold that status (a POST to a GET-only path is
 * the 405 of its "get"); a 304 probe first GETs target for its ETag; a 429
 * probe first fails to authenticate 20 times; a 413 probe announces a body
 * larger than --max-upload; a 503 probe holds the writer lock (and, for an
 * upload, first fills the upload queue behind it). */
struct probe {
    const char *method;
    const char *op;
    const char *path; /* the documented path */
    const char *target;
    int status;
    enum who who;
    const char *body; /* sent with Content-Length, or NULL */
};

#define MAX_UPLOAD "100000"
#define CSV_OK "date,team,kpi,value\n2026-10,ventes-ara,ca,263464.04\n"
#define CSV_BAD "date,team,kpi,value\n2026-10,ventes-ara,ca,12a\n2026-13,ventes-ara,ca,1\n"
#define IMPORTS "/api/v1/imports"

#define TEAM "/api/v1/teams/ventes-ara"
#define NOTES "/api/v1/teams/{team}/kpis/{kpi}/notes"
#define NOTE_OK "{\"period\": \"2026-10\", \"text\": \"Salon reporté en novembre\"}"
#define SERIES TEAM "/kpis/ca/series"
#define SVG TEAM "/kpis/ca/graph.svg"
#define PNG TEAM "/kpis/ca/graph.png"

static const struct probe PROBES[] = {
    {"POST", "post", IMPORTS, IMPORTS "?dry_run=true&name=oct.csv", 200, .body = CSV_OK},
    {"POST", "post", IMPORTS,
     IMPORTS
     "?kind=observations&team=ventes-ara&kpi=ca&column=date%3Dmois&column=value%3Dmontant"
     "&date_format=%25Y-%25m&encoding=utf-8&delimiter=%3B&decimal=%2C&strict=1&aggregate=true"
     "&on_error=abort&dry_run=1&name=mois.csv",
     200, .body = "mois;montant\n2026-10;263464,04\n"},
    {"POST", "post", IMPORTS, IMPORTS "?dry_run=true&kind=bogus", 400, .body = CSV_OK},
    {"POST", "post", IMPORTS, IMPORTS "?dry_run=true", 401, NOBODY, CSV_OK},
    {"POST", "post", IMPORTS, IMPORTS "?dry_run=true", 403, READER, CSV_OK},
    {"GET", "post", IMPORTS, IMPORTS, 405, WRITER, NULL},
    {"POST", "post", IMPORTS, IMPORTS, 413, .body = ""},
    {"POST", "post", IMPORTS, IMPORTS "?name=bad.csv", 422, .body = CSV_BAD},
    {"POST", "post", IMPORTS, IMPORTS "?on_error=skip&dry_run=true", 422, .body = CSV_BAD},
    {"POST", "post", IMPORTS, IMPORTS, 429, WRONG, CSV_OK},
    {"POST", "post", IMPORTS, IMPORTS "?name=queued.csv", 503, .body = CSV_OK},

    {"POST", "post", NOTES, TEAM "/kpis/ca/notes", 200, .body = NOTE_OK},
    {"POST", "post", NOTES, TEAM "/kpis/ca/notes", 400, .body = "{\"text\": \"x\"}"},
    {"POST", "post", NOTES, TEAM "/kpis/ca/notes", 401, NOBODY, NOTE_OK},
    {"POST", "post", NOTES, TEAM "/kpis/ca/notes", 403, READER, NOTE_OK},
    {"POST", "post", NOTES, "/api/v1/teams/nobody/kpis/ca/notes", 404, .body = NOTE_OK},
    {"GET", "post", NOTES, TEAM "/kpis/ca/notes", 405, WRITER, NULL},
    {"POST", "post", NOTES, TEAM "/kpis/ca/notes", 413, .body = ""},
    {"POST", "post", NOTES, TEAM "/kpis/ca/notes", 429, WRONG, NOTE_OK},
    {"POST", "post", NOTES, TEAM "/kpis/ca/notes", 503, .body = NOTE_OK},

    {"GET", "get", "/api/v1/whoami", "/api/v1/whoami", 200, NOBODY, NULL},
    {"GET", "get", "/api/v1/whoami", "/api/v1/whoami", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/whoami", "/api/v1/whoami", 200, READER, NULL},
    {"GET", "get", "/api/v1/whoami", "/api/v1/whoami", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/whoami", "/api/v1/whoami", 401, WRONG, NULL},
    {"POST", "get", "/api/v1/whoami", "/api/v1/whoami", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/whoami", "/api/v1/whoami", 429, WRONG, NULL},

    {"GET", "get", "/healthz", "/healthz", 200, NOBODY, NULL},
    {"HEAD", "get", "/healthz", "/healthz", 200, WRITER, NULL},
    {"GET", "get", "/healthz", "/healthz", 304, WRITER, NULL},
    {"POST", "get", "/healthz", "/healthz", 405, WRITER, NULL},

    {"GET", "get", "/api/v1/openapi.json", "/api/v1/openapi.json", 200, NOBODY, NULL},
    {"GET", "get", "/api/v1/openapi.json", "/api/v1/openapi.json", 304, WRITER, NULL},
    {"PUT", "get", "/api/v1/openapi.json", "/api/v1/openapi.json", 405, WRITER, NULL},

    {"GET", "get", "/api/v1/teams", "/api/v1/teams", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams", "/api/v1/teams", 304, WRITER, NULL},
    {"DELETE", "get", "/api/v1/teams", "/api/v1/teams", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/teams", "/api/v1/teams", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/teams", "/api/v1/teams", 429, WRONG, NULL},

    {"GET", "get", "/api/v1/indicators", "/api/v1/indicators", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/indicators", "/api/v1/indicators", 304, WRITER, NULL},
    {"POST", "get", "/api/v1/indicators", "/api/v1/indicators", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/indicators", "/api/v1/indicators", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/indicators", "/api/v1/indicators", 429, WRONG, NULL},

    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", SERIES, 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", SERIES "?from=2026-01&to=2026-12", 200,
     WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", "/api/v1/teams/durand/kpis/dso/series",
     200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", SERIES, 304, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", SERIES "?from=2026-13", 400, WRITER,
     NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", "/api/v1/teams/nope/kpis/ca/series",
     404, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", TEAM "/kpis/nope/series", 404, WRITER,
     NULL},
    {"POST", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", SERIES, 405, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", SERIES, 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", SERIES, 429, WRONG, NULL},

    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg",
     SVG "?from=2026-01&to=2026-10&width=400&height=150", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg",
     SVG "?from=2026-01&to=2026-10&width=400&height=150", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg", SVG "?width=5", 400, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg", TEAM "/kpis/nope/graph.svg", 404,
     WRITER, NULL},
    {"POST", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg", SVG, 405, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg", SVG, 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg", SVG, 429, WRONG, NULL},

    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.png",
     PNG "?from=2026-04&to=2026-10&width=300&height=120", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.png", PNG "?width=300&height=120", 304,
     WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.png", PNG "?height=5000", 400, WRITER,
     NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.png", "/api/v1/teams/x/kpis/ca/graph.png",
     404, WRITER, NULL},
    {"POST", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.png", PNG, 405, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.png", PNG, 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.png", PNG, 429, WRONG, NULL},

    {"GET", "get", "/api/v1/teams/{team}/trends", TEAM "/trends", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/trends",
     TEAM "/trends?kpi=ca&as_of=2026-06-30&window=3&stale_after=1", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/trends", "/api/v1/teams/durand/trends", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/trends", TEAM "/trends", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/trends", TEAM "/trends?window=0", 400, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/trends", TEAM "/trends?kpi=nope", 404, WRITER, NULL},
    {"POST", "get", "/api/v1/teams/{team}/trends", TEAM "/trends", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/trends", TEAM "/trends", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/teams/{team}/trends", TEAM "/trends", 429, WRONG, NULL},

    {"GET", "get", "/api/v1/teams/{team}/drift", "/api/v1/teams/durand/drift", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/drift",
     "/api/v1/teams/export/drift?as_of=2025-06-30&window=4&stale_after=0", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/drift", "/api/v1/teams/durand/drift", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/drift", "/api/v1/teams/durand/drift?stale_after=x", 400,
     WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/drift", "/api/v1/teams/nope/drift", 404, WRITER, NULL},
    {"POST", "get", "/api/v1/teams/{team}/drift", "/api/v1/teams/durand/drift", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/drift", "/api/v1/teams/durand/drift", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/teams/{team}/drift", "/api/v1/teams/durand/drift", 429, WRONG, NULL},

    {"GET", "get", "/api/v1/drift", "/api/v1/drift", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/drift", "/api/v1/drift?as_of=2025-06&window=3&stale_after=5", 200,
     WRITER, NULL},
    {"GET", "get", "/api/v1/drift", "/api/v1/drift", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/drift", "/api/v1/drift?as_of=bad", 400, WRITER, NULL},
    {"POST", "get", "/api/v1/drift", "/api/v1/drift", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/drift", "/api/v1/drift", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/drift", "/api/v1/drift", 429, WRONG, NULL},

    {"GET", "get", "/api/v1/alerts", "/api/v1/alerts", 200, WRITER, NULL},
    {"HEAD", "get", "/api/v1/alerts", "/api/v1/alerts", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/alerts",
     "/api/v1/alerts?team=commercial&severity=warning&as_of=2026-09-30&window=4&stale_after=1", 200,
     WRITER, NULL},
    {"GET", "get", "/api/v1/alerts", "/api/v1/alerts", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/alerts", "/api/v1/alerts?severity=bad", 400, WRITER, NULL},
    {"GET", "get", "/api/v1/alerts", "/api/v1/alerts?team=nope", 404, WRITER, NULL},
    {"POST", "get", "/api/v1/alerts", "/api/v1/alerts", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/alerts", "/api/v1/alerts", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/alerts", "/api/v1/alerts", 429, WRONG, NULL},

    {"GET", "get", "/api/v1/review.html", "/api/v1/review.html?team=commercial", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/review.html",
     "/api/v1/review.html?as_of=2026-09-30&window=4&stale_after=1&since=1", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/review.html", "/api/v1/review.html?known_at=3&team=commercial", 200,
     WRITER, NULL},
    {"GET", "get", "/api/v1/review.html", "/api/v1/review.html?since=999", 400, WRITER, NULL},
    {"GET", "get", "/api/v1/review.html", "/api/v1/review.html?team=commercial", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/review.html", "/api/v1/review.html?as_of=bad", 400, WRITER, NULL},
    {"GET", "get", "/api/v1/review.html", "/api/v1/review.html?team=nope", 404, WRITER, NULL},
    {"POST", "get", "/api/v1/review.html", "/api/v1/review.html", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/review.html", "/api/v1/review.html", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/review.html", "/api/v1/review.html", 429, WRONG, NULL},

    {"GET", "get", "/api/v1/commits", "/api/v1/commits", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/commits", "/api/v1/commits?team=ventes-ara&kpi=ca&limit=2", 200, WRITER,
     NULL},
    {"GET", "get", "/api/v1/commits", "/api/v1/commits", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/commits", "/api/v1/commits?limit=0", 400, WRITER, NULL},
    {"GET", "get", "/api/v1/commits", "/api/v1/commits?team=nope", 404, WRITER, NULL},
    {"POST", "get", "/api/v1/commits", "/api/v1/commits", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/commits", "/api/v1/commits", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/commits", "/api/v1/commits", 429, WRONG, NULL},

    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/history", TEAM "/kpis/ca/history", 200, WRITER,
     NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/history",
     TEAM "/kpis/ca/history?period=2026-01", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/history", TEAM "/kpis/ca/history", 304, WRITER,
     NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/history", TEAM "/kpis/ca/history?period=x", 400,
     WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/history", TEAM "/kpis/nope/history", 404,
     WRITER, NULL},
    {"POST", "get", "/api/v1/teams/{team}/kpis/{kpi}/history", TEAM "/kpis/ca/history", 405, WRITER,
     NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/history", TEAM "/kpis/ca/history", 401, NOBODY,
     NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/history", TEAM "/kpis/ca/history", 429, WRONG,
     NULL},

    {"GET", "get", "/api/v1/restatements", "/api/v1/restatements", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/restatements", "/api/v1/restatements?since=1&team=commercial", 200,
     WRITER, NULL},
    {"GET", "get", "/api/v1/restatements", "/api/v1/restatements", 304, WRITER, NULL},
    {"GET", "get", "/api/v1/restatements", "/api/v1/restatements?since=99999", 400, WRITER, NULL},
    {"GET", "get", "/api/v1/restatements", "/api/v1/restatements?team=nope", 404, WRITER, NULL},
    {"POST", "get", "/api/v1/restatements", "/api/v1/restatements", 405, WRITER, NULL},
    {"GET", "get", "/api/v1/restatements", "/api/v1/restatements", 401, NOBODY, NULL},
    {"GET", "get", "/api/v1/restatements", "/api/v1/restatements", 429, WRONG, NULL},
    {"GET", "get", "/api/v1/alerts", "/api/v1/alerts?known_at=1", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/alerts", "/api/v1/alerts?known_at=2000-01-01", 400, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/series", SERIES "?known_at=2026-12-31", 200,
     WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg", SVG "?known_at=3", 200, WRITER,
     NULL},
    {"GET", "get", "/api/v1/teams/{team}/kpis/{kpi}/graph.png", PNG "?known_at=3", 200, WRITER,
     NULL},
    {"GET", "get", "/api/v1/teams/{team}/trends", TEAM "/trends?known_at=3", 200, WRITER, NULL},
    {"GET", "get", "/api/v1/teams/{team}/drift", "/api/v1/teams/durand/drift?known_at=3", 200,
     WRITER, NULL},
    {"GET", "get", "/api/v1/drift", "/api/v1/drift?known_at=3", 200, WRITER, NULL},

    {"GET", "get", "/metrics", "/metrics", 200, WRITER, NULL},
    {"GET", "get", "/metrics", "/metrics", 304, WRITER, NULL},
    {"POST", "get", "/metrics", "/metrics", 405, WRITER, NULL},
    {"GET", "get", "/metrics", "/metrics", 401, NOBODY, NULL},
    {"GET", "get", "/metrics", "/metrics", 429, WRONG, NULL},

    {"GET", "get", "/", "/", 200, NOBODY, NULL},
    {"GET", "get", "/", "/", 304, WRITER, NULL},
    {"POST", "get", "/", "/", 405, WRITER, NULL},
    {"GET", "get", "/app.css", "/app.css", 200, NOBODY, NULL},
    {"GET", "get", "/app.css", "/app.css", 304, WRITER, NULL},
    {"POST", "get", "/app.css", "/app.css", 405, WRITER, NULL},
    {"GET", "get", "/app.js", "/app.js", 200, NOBODY, NULL},
    {"GET", "get", "/app.js", "/app.js", 304, WRITER, NULL},
    {"POST", "get", "/app.js", "/app.js", 405, WRITER, NULL},
    {"GET", "get", "/access.js", "/access.js", 200, NOBODY, NULL},
    {"GET", "get", "/access.js", "/access.js", 304, WRITER, NULL},
    {"POST", "get", "/access.js", "/access.js", 405, WRITER, NULL},
    {"GET", "get", "/favicon.ico", "/favicon.ico", 200, NOBODY, NULL},
    {"GET", "get", "/favicon.ico", "/favicon.ico", 304, WRITER, NULL},
    {"POST", "get", "/favicon.ico", "/favicon.ico", 405, WRITER, NULL},
};
#define PROBE_COUNT (sizeof PROBES / sizeof PROBES[0])

/* Documented statuses no request can provoke here (path NULL: on every
 * path): a failing data directory (500), a chart asked while others render
 * (503; test_web_robust.c provokes it). */
static const struct {
    const char *path, *status;
} UNPROBED[] = {
    {NULL, "500"},
    {"/api/v1/teams/{team}/kpis/{kpi}/graph.svg", "503"},
    {"/api/v1/teams/{team}/kpis/{kpi}/graph.png", "503"},
};

/* Paths the server answers before its route table (web/server.c). */
static const struct {
    const char *method, *path;
} EXTRA_ROUTES[] = {{"POST", IMPORTS}, {"POST", NOTES}};

static char *scratch, *data;
static char *openapi_text; /* docs/openapi.json */
static cJSON *openapi;     /* parsed */
static char writer[WF_SECRET_MAX], reader[WF_SECRET_MAX];
static struct wf_server server;

static void import_examples(void)
{
    static const char *const imports[][12] = {
        {"import", EX "teams.csv", "--kind", "teams", NULL},
        {"import", EX "indicators.csv", "--kind", "indicators", NULL},
        {"import", EX "budget.csv", "--kind", "targets", "--strict", NULL},
        {"import", EX "finance.csv", "--encoding", "cp1252", "--strict", NULL},
        {"import", EX "rh_effectifs.csv", "--column", "date=Fin de période", "--date-format",
         "%d.%m.%Y", "--strict", NULL},
        {"import", EX "operations.csv", "--strict", NULL},
        {"import", EX "enquete_engagement.csv", "--kpi", "engagement", "--column", "date=Trimestre",
         "--column", "value=Score", "--strict", NULL},
    };
    scratch = ts_tempdir("web-openapi");
    data = ts_path(scratch, "data");
    for (size_t i = 0; i < sizeof imports / sizeof imports[0]; i++) {
        const char *argv[16] = {"--data", data};
        size_t n = 2;
        for (size_t k = 0; imports[i][k]; k++)
            argv[n++] = imports[i][k];
        argv[n++] = "--quiet";
        argv[n] = NULL;
        struct ts_run r;
        ts_kpi(&r, NULL, argv);
        ck_assert_msg(r.status == 0, "%s: %s", imports[i][1], r.err);
        ts_run_free(&r);
    }
    wf_token_add(data, "docs-writer", "write", NULL, writer);
    wf_token_add(data, "docs-reader", "read", NULL, reader);
    openapi_text = ts_read_file(KPI_SOURCE_DIR "/docs/openapi.json", NULL);
    ck_assert_msg(openapi_text != NULL, "docs/openapi.json is missing");
    const char *end = NULL;
    openapi = cJSON_ParseWithLengthOpts(openapi_text, strlen(openapi_text), &end, false);
    ck_assert_msg(openapi != NULL, "docs/openapi.json is not JSON near byte %td",
                  end ? end - openapi_text : 0);
}

static void remove_examples(void)
{
    cJSON_Delete(openapi);
    free(openapi_text);
    ts_rm_rf(scratch);
    free(scratch);
    free(data);
}

static void setup(void)
{
    static const char *const args[] = {"--as-of", EXAMPLES_AS_OF, "--max-upload", MAX_UPLOAD, NULL};
    wf_start(&server, data, args);
}

static void teardown(void)
{
    wf_stop(&server, SIGTERM);
}

/* A node, following a "$ref" (parameters, responses, headers, schemas). */
static const cJSON *deref(const cJSON *node)
{
    for (int i = 0; i < 8 && node != NULL; i++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
        if (!cJSON_IsString(ref))
            return node;
        node = js_pointer(openapi, ref->valuestring);
    }
    return node;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return deref(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static const cJSON *operation(const char *path, const char *op)
{
    return member(member(member(openapi, "paths"), path), op);
}

/* The documented response of (path, op, status), or NULL. */
static const cJSON *documented(const char *path, const char *op, int status)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    return member(member(operation(path, op), "responses"), code);
}

/* One request as who, with extra header lines and a body (or none). */
static void send_as(enum who who, const char *method, const char *target, const char *extra,
                    const char *body, size_t announced, struct th_response *r)
{
    char headers[512];
    const char *secret = who == WRITER   ? writer
                         : who == READER ? reader
                         : who == WRONG  ? "kpi_NotATokenOfThisDataDirectory0000000000"
                                         : NULL;
    int n = snprintf(headers, sizeof headers, "%s", extra ? extra : "");
    if (secret != NULL)
        n += snprintf(headers + n, sizeof headers - (size_t)n, "Authorization: Bearer %s\r\n",
                      secret);
    if (body != NULL)
        snprintf(headers + n, sizeof headers - (size_t)n,
                 "Content-Type: text/csv\r\nContent-Length: %zu\r\n",
                 announced ? announced : strlen(body));
    int fd = th_connect(server.port);
    th_send_request(fd, method, target, headers);
    if (body != NULL && announced == 0)
        th_send(fd, body, strlen(body));
    ck_assert_msg(th_read_response(fd, strcmp(method, "HEAD") == 0, r), "%s %s: no answer", method,
                  target);
    close(fd);
}

START_TEST(test_served_document_is_docs_openapi_json)
{
    struct th_response r;
    send_as(NOBODY, "GET", "/api/v1/openapi.json", NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, strlen(openapi_text));
    ck_assert_msg(memcmp(r.body, openapi_text, r.body_len) == 0,
                  "the served description differs from docs/openapi.json");
    char value[64];
    ck_assert_str_eq(th_header(&r, "Content-Type", value, sizeof value), "application/json");
    ck_assert_ptr_nonnull(th_header(&r, "ETag", value, sizeof value));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(openapi, "openapi")->valuestring, "3.1.0");
    th_response_free(&r);
    /* info.version is the program's version */
    struct ts_run v;
    const char *argv[] = {"--version", NULL};
    ts_kpi(&v, NULL, argv);
    char want[64];
    snprintf(want, sizeof want, "kpi %s\n",
             member(member(openapi, "info"), "version")->valuestring);
    ck_assert_str_eq(v.out, want);
    ts_run_free(&v);
}
END_TEST

/* The writer lock of the data directory, held as `kpi import` holds it: a
 * transaction begun through the store API. */
struct held_lock {
    struct store *st;
    struct store_txn *txn;
};

static void hold_writer_lock(struct held_lock *h)
{
    struct kpi_error err = {0};
    *h = (struct held_lock){0};
    ck_assert_msg(store_open(data, NULL, &h->st, &err) == 0, "%s", err.message);
    ck_assert_msg(store_txn_begin(h->st, &h->txn, &err) == 0, "%s", err.message);
}

static void release_writer_lock(struct held_lock *h)
{
    store_txn_abort(h->txn);
    store_close(h->st);
}

/* How many flock(2) calls wait for the lock on the data directory: the
 * lines "N: -> FLOCK ... MAJ:MIN:INODE ..." of /proc/locks. */
static size_t writer_lock_waiters(void)
{
    struct stat st;
    ck_assert_int_eq(stat(data, &st), 0);
    char key[64], line[256];
    snprintf(key, sizeof key, " %02x:%02x:%llu ", major(st.st_dev), minor(st.st_dev),
             (unsigned long long)st.st_ino);
    FILE *f = fopen("/proc/locks", "r");
    ck_assert_ptr_nonnull(f);
    size_t n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, " -> FLOCK ") != NULL && strstr(line, key) != NULL;
    fclose(f);
    return n;
}

/* WEB_UPLOADS_MAX uploads of p's file sent on fds, each of them waiting for
 * the held writer lock: the server has taken every one (the condition is
 * polled: the uploads reach the lock on threads of the server). */
static void fill_upload_queue(const struct probe *p, int fds[WEB_UPLOADS_MAX])
{
    char headers[256];
    snprintf(headers, sizeof headers,
             "Authorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: %zu\r\n",
             writer, strlen(p->body));
    for (size_t i = 0; i < WEB_UPLOADS_MAX; i++) {
        fds[i] = th_connect(server.port);
        th_send_request(fds[i], "POST", IMPORTS, headers);
        th_send(fds[i], p->body, strlen(p->body));
    }
    for (int waited = 0; writer_lock_waiters() < WEB_UPLOADS_MAX; waited++) {
        ck_assert_msg(waited < TH_TIMEOUT_MS, "%zu of %d uploads wait for the writer lock",
                      writer_lock_waiters(), WEB_UPLOADS_MAX);
        poll(NULL, 0, 1);
    }
}

/* Send probe p, after what its status needs first. */
static void send_probe(const struct probe *p, struct th_response *r)
{
    if (p->status == 503) { /* a writer holds the lock */
        struct held_lock h;
        int fds[WEB_UPLOADS_MAX];
        bool upload = strcmp(p->path, IMPORTS) == 0;
        hold_writer_lock(&h);
        if (upload)
            fill_upload_queue(p, fds);
        send_as(p->who, p->method, p->target, NULL, p->body, 0, r);
        release_writer_lock(&h);
        for (size_t i = 0; upload && i < WEB_UPLOADS_MAX; i++) { /* imported once it is free */
            struct th_response queued;
            ck_assert(th_read_response(fds[i], false, &queued));
            ck_assert_msg(queued.status == 200, "%d %s", queued.status, queued.body);
            th_response_free(&queued);
            close(fds[i]);
        }
        return;
    }
    char header[WEB_ETAG_MAX + 32] = "";
    if (p->status == 304) {
        struct th_response first;
        send_as(p->who, "GET", p->target, NULL, NULL, 0, &first);
        ck_assert_int_eq(first.status, 200);
        char etag[WEB_ETAG_MAX + 8];
        ck_assert_msg(th_header(&first, "ETag", etag, sizeof etag) != NULL, "%s: no ETag",
                      p->target);
        snprintf(header, sizeof header, "If-None-Match: %s\r\n", etag);
        th_response_free(&first);
    }
    for (int i = 0; p->status == 429 && i < WEB_AUTH_FAILURES; i++) {
        struct th_response fail;
        send_as(WRONG, "GET", "/api/v1/teams", NULL, NULL, 0, &fail);
        ck_assert_int_eq(fail.status, 401);
        th_response_free(&fail);
    }
    size_t announced = p->status == 413 ? 2 * (size_t)atoi(MAX_UPLOAD) : 0;
    send_as(p->who, p->method, p->target, header, p->body, announced, r);
}

/* The answer r to probe p has what the description says of its status. */
static void check_answer(const struct probe *p, const cJSON *resp, const struct th_response *r)
{
    char value[256], why[1024];
    const cJSON *headers = member(resp, "headers");
    const cJSON *h;
    cJSON_ArrayForEach(h, headers)
    {
        ck_assert_msg(th_header(r, h->string, value, sizeof value) != NULL,
                      "%s %s (%d): documented header %s missing", p->method, p->target, p->status,
                      h->string);
    }
    const cJSON *content = member(resp, "content");
    if (content == NULL || cJSON_GetArraySize(content) == 0) {
        ck_assert_msg(r->body_len == 0, "%s %s (%d): a body where none is documented", p->method,
                      p->target, p->status);
        return;
    }
    ck_assert_int_eq(cJSON_GetArraySize(content), 1);
    const char *media = content->child->string;
    ck_assert_msg(th_header(r, "Content-Type", value, sizeof value) != NULL,
                  "%s %s: no Content-Type", p->method, p->target);
    ck_assert_msg(strcasecmp(value, media) == 0, "%s %s (%d): Content-Type %s, documented %s",
                  p->method, p->target, p->status, value, media);
    if (strcmp(p->method, "HEAD") == 0) {
        ck_assert_uint_eq(r->body_len, 0);
        return;
    }
    ck_assert_msg(r->body_len > 0, "%s %s: empty body", p->method, p->target);
    if (strcmp(media, "application/json") != 0)
        return;
    const cJSON *schema = member(content->child, "schema");
    ck_assert_msg(schema != NULL, "%s (%d): no schema", p->path, p->status);
    const char *end = NULL;
    cJSON *body = cJSON_ParseWithLengthOpts(r->body, r->body_len, &end, false);
    ck_assert_msg(body != NULL, "%s %s: the body is not JSON", p->method, p->target);
    bool ok = js_validate(openapi, schema, body, why, sizeof why);
    cJSON_Delete(body);
    ck_assert_msg(ok, "%s %s (%d): %s", p->method, p->target, p->status, why);
}

START_TEST(test_every_probe_gets_a_documented_answer)
{
    const struct probe *p = &PROBES[_i];
    const cJSON *resp = documented(p->path, p->op, p->status);
    ck_assert_msg(resp != NULL, "%s %s: status %d is not documented", p->op, p->path, p->status);
    struct th_response r;
    send_probe(p, &r);
    ck_assert_msg(r.status == p->status, "%s %s: status %d, expected %d: %s", p->method, p->target,
                  r.status, p->status, r.body);
    check_answer(p, resp, &r);
    if (p->status == 503) { /* busy writers: both writes say when to come back */
        char retry[16];
        ck_assert_str_eq(th_header(&r, "Retry-After", retry, sizeof retry), WEB_WRITE_RETRY_AFTER);
        ck_assert_msg(strstr(r.body, "\"code\":\"busy\"") != NULL, "%s", r.body);
    }
    th_response_free(&r);
}
END_TEST

static bool unprobed(const char *path, const char *code)
{
    for (size_t i = 0; i < sizeof UNPROBED / sizeof UNPROBED[0]; i++)
        if ((UNPROBED[i].path == NULL || strcmp(UNPROBED[i].path, path) == 0) &&
            strcmp(UNPROBED[i].status, code) == 0)
            return true;
    return false;
}

static bool probed(const char *path, const char *op, int status)
{
    for (size_t i = 0; i < PROBE_COUNT; i++)
        if (strcmp(PROBES[i].path, path) == 0 && strcmp(PROBES[i].op, op) == 0 &&
            PROBES[i].status == status)
            return true;
    return false;
}

START_TEST(test_every_documented_status_has_a_probe)
{
    const cJSON *path;
    size_t operations = 0;
    cJSON_ArrayForEach(path, member(openapi, "paths"))
    {
        const cJSON *op;
        cJSON_ArrayForEach(op, path)
        {
            const cJSON *resp;
            operations++;
            cJSON_ArrayForEach(resp, member(op, "responses"))
            {
                if (unprobed(path->string, resp->string))
                    continue;
                ck_assert_msg(probed(path->string, op->string, atoi(resp->string)),
                              "%s %s: documented status %s has no probe", op->string, path->string,
                              resp->string);
            }
        }
    }
    ck_assert_uint_ge(operations, web_route_count);
}
END_TEST

/* Every query parameter documented for an operation is used by one of its
 * probes that succeed, and every query parameter a probe sends is
 * documented. */
START_TEST(test_every_query_parameter_is_documented_and_used)
{
    for (size_t i = 0; i < PROBE_COUNT; i++) {
        const struct probe *p = &PROBES[i];
        const char *q = strchr(p->target, '?');
        const cJSON *params = member(operation(p->path, p->op), "parameters");
        while (q != NULL) {
            char name[64];
            size_t n = strcspn(q + 1, "=&");
            ck_assert_uint_lt(n, sizeof name);
            memcpy(name, q + 1, n);
            name[n] = '\0';
            bool found = false;
            const cJSON *prm;
            cJSON_ArrayForEach(prm, params)
            {
                const cJSON *d = deref(prm);
                found = found || strcmp(member(d, "name")->valuestring, name) == 0;
            }
            ck_assert_msg(found, "%s: parameter %s is not documented", p->target, name);
            q = strchr(q + 1, '&');
        }
    }
    const cJSON *path;
    cJSON_ArrayForEach(path, member(openapi, "paths"))
    {
        const cJSON *op;
        cJSON_ArrayForEach(op, path)
        {
            const cJSON *prm;
            cJSON_ArrayForEach(prm, member(op, "parameters"))
            {
                const cJSON *d = deref(prm);
                if (strcmp(member(d, "in")->valuestring, "query") != 0)
                    continue;
                const char *name = member(d, "name")->valuestring;
                char needle[80];
                bool used = false;
                for (size_t i = 0; i < PROBE_COUNT && !used; i++) {
                    const char *t = strchr(PROBES[i].target, '?');
                    if (t == NULL || PROBES[i].status != 200 ||
                        strcmp(PROBES[i].path, path->string) != 0)
                        continue;
                    snprintf(needle, sizeof needle, "?%s=", name);
                    used = strstr(t, needle) != NULL;
                    snprintf(needle, sizeof needle, "&%s=", name);
                    used = used || strstr(t, needle) != NULL;
                }
                ck_assert_msg(used, "%s: parameter %s is never sent by a successful probe",
                              path->string, name);
            }
        }
    }
}
END_TEST

START_TEST(test_every_route_is_documented_and_every_path_is_a_route)
{
    for (size_t i = 0; i < sizeof EXTRA_ROUTES / sizeof EXTRA_ROUTES[0]; i++)
        ck_assert_msg(operation(EXTRA_ROUTES[i].path, "post") != NULL, "%s %s is not documented",
                      EXTRA_ROUTES[i].method, EXTRA_ROUTES[i].path);
    for (size_t i = 0; i < web_route_count; i++) {
        char op[16];
        size_t n = 0;
        for (const char *m = web_routes[i].method; *m && n + 1 < sizeof op; m++)
            op[n++] = (char)tolower((unsigned char)*m);
        op[n] = '\0';
        ck_assert_msg(operation(web_routes[i].pattern, op) != NULL,
                      "route %s %s is not in docs/openapi.json", web_routes[i].method,
                      web_routes[i].pattern);
    }
    const cJSON *path;
    cJSON_ArrayForEach(path, member(openapi, "paths"))
    {
        bool found = false;
        for (size_t i = 0; i < web_route_count && !found; i++)
            found = strcmp(web_routes[i].pattern, path->string) == 0;
        for (size_t i = 0; i < sizeof EXTRA_ROUTES / sizeof EXTRA_ROUTES[0] && !found; i++)
            found = strcmp(EXTRA_ROUTES[i].path, path->string) == 0;
        ck_assert_msg(found, "documented path %s is not a route of the server", path->string);
    }
}
END_TEST

/* The validator fails on what a wrong description or a wrong answer would
 * show: a missing field, a wrong type, an undeclared field, a bad enum. */
START_TEST(test_schema_check_fails_on_a_missing_field_or_a_wrong_type)
{
    struct th_response r;
    send_as(WRITER, "GET", "/api/v1/teams/durand/drift", NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    const char *schema = "#/components/schemas/TeamDrift";
    char why[1024];
    ck_assert_msg(js_validate_text(openapi, schema, r.body, why, sizeof why), "%s", why);
    cJSON *doc = cJSON_Parse(r.body);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "indicators"), 0);

    cJSON *gap = cJSON_DetachItemFromObjectCaseSensitive(first, "gap");
    ck_assert(!js_validate(openapi, js_pointer(openapi, schema), doc, why, sizeof why));
    ck_assert_str_eq(why, "$.indicators[0]: missing required member \"gap\"");
    cJSON_AddItemToObject(first, "gap", gap);

    cJSON_ReplaceItemInObjectCaseSensitive(doc, "drift", cJSON_CreateString("0.1"));
    ck_assert(!js_validate(openapi, js_pointer(openapi, schema), doc, why, sizeof why));
    ck_assert_str_eq(why, "$.drift: \"0.1\" is not of type [\"number\",\"null\"]");
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "drift", cJSON_CreateNull());
    ck_assert_msg(js_validate(openapi, js_pointer(openapi, schema), doc, why, sizeof why), "%s",
                  why);

    cJSON_ReplaceItemInObjectCaseSensitive(first, "trend", cJSON_CreateNull());
    ck_assert_msg(js_validate(openapi, js_pointer(openapi, schema), doc, why, sizeof why), "%s",
                  why);
    cJSON_ReplaceItemInObjectCaseSensitive(first, "trend", cJSON_CreateNumber(1));
    ck_assert(!js_validate(openapi, js_pointer(openapi, schema), doc, why, sizeof why));
    ck_assert_msg(strncmp(why, "$.indicators[0].trend: 0 of 2 schemas of anyOf match", 51) == 0,
                  "%s", why);

    cJSON_ReplaceItemInObjectCaseSensitive(first, "trend", cJSON_CreateNull());
    cJSON_ReplaceItemInObjectCaseSensitive(first, "status", cJSON_CreateString("late"));
    ck_assert(!js_validate(openapi, js_pointer(openapi, schema), doc, why, sizeof why));
    ck_assert_str_eq(why, "$.indicators[0].status: \"late\" is not one of "
                          "[\"no_data\",\"no_target\",\"on_track\",\"at_risk\",\"off_track\"]");
    cJSON_ReplaceItemInObjectCaseSensitive(first, "status", cJSON_CreateString("on_track"));

    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(doc, "families"), "money", "x");
    ck_assert(!js_validate(openapi, js_pointer(openapi, schema), doc, why, sizeof why));
    ck_assert_str_eq(why, "$.families: member \"money\" is not in the schema");

    cJSON_Delete(doc);
    th_response_free(&r);

    ck_assert(!js_validate_text(openapi, "#/components/schemas/Alerts",
                                "{\"as_of\":\"31/10/2026\",\"alerts\":[]}", why, sizeof why));
    ck_assert_str_eq(why, "$.as_of: \"31/10/2026\" does not match ^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
    ck_assert(!js_validate_text(openapi, "#/components/schemas/Nope", "{}", why, sizeof why));
    ck_assert_str_eq(why, "no schema at #/components/schemas/Nope");
}
END_TEST

/* The checker's other keywords, on a document of its own. */
START_TEST(test_schema_check_keywords)
{
    static const char schemas[] =
        "{\"components\": {\"schemas\": {"
        "\"Count\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 9},"
        "\"List\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/Count\"}},"
        "\"One\": {\"oneOf\": [{\"type\": \"number\"}, {\"type\": \"integer\"}]},"
        "\"Loop\": {\"$ref\": \"#/components/schemas/Loop\"},"
        "\"Odd\": {\"type\": \"string\", \"uniqueItems\": true},"
        "\"Id\": {\"type\": \"string\", \"maxLength\": 3, \"const\": \"ab\"}}}}";
    cJSON *doc = cJSON_Parse(schemas);
    ck_assert_ptr_nonnull(doc);
    char why[512];
    ck_assert_msg(js_validate_text(doc, "#/components/schemas/List", "[0, 9, 3]", why, sizeof why),
                  "%s", why);
    ck_assert(!js_validate_text(doc, "#/components/schemas/List", "[0, 10]", why, sizeof why));
    ck_assert_str_eq(why, "$[1]: 10 is more than 9");
    ck_assert(!js_validate_text(doc, "#/components/schemas/List", "[1.5]", why, sizeof why));
    ck_assert_str_eq(why, "$[0]: 1.5 is not of type \"integer\"");
    ck_assert(!js_validate_text(doc, "#/components/schemas/List", "[-1]", why, sizeof why));
    ck_assert_str_eq(why, "$[0]: -1 is less than 0");
    /* 2 is a number and an integer: two branches match, oneOf wants one */
    ck_assert(!js_validate_text(doc, "#/components/schemas/One", "2", why, sizeof why));
    ck_assert_str_eq(why, "$: 2 of 2 schemas of oneOf match");
    ck_assert(js_validate_text(doc, "#/components/schemas/One", "2.5", why, sizeof why));
    ck_assert(!js_validate_text(doc, "#/components/schemas/Loop", "1", why, sizeof why));
    ck_assert_str_eq(why, "$: schema: nested too deep ($ref loop?)");
    ck_assert(!js_validate_text(doc, "#/components/schemas/Odd", "\"x\"", why, sizeof why));
    ck_assert_str_eq(why, "$: schema: unsupported keyword \"uniqueItems\"");
    ck_assert(!js_validate_text(doc, "#/components/schemas/Id", "\"abcd\"", why, sizeof why));
    ck_assert_str_eq(why, "$: \"abcd\" breaks maxLength 3");
    ck_assert(!js_validate_text(doc, "#/components/schemas/Id", "\"abc\"", why, sizeof why));
    ck_assert_str_eq(why, "$: not the constant of the schema");
    ck_assert(!js_validate_text(doc, "#/components/schemas/Id", "{", why, sizeof why));
    ck_assert_str_eq(why, "not JSON: {");
    cJSON_Delete(doc);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("web_openapi");
    TCase *tc = tcase_create("openapi");
    tcase_add_unchecked_fixture(tc, import_examples, remove_examples);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_served_document_is_docs_openapi_json);
    tcase_add_loop_test(tc, test_every_probe_gets_a_documented_answer, 0, (int)PROBE_COUNT);
    tcase_add_test(tc, test_every_documented_status_has_a_probe);
    tcase_add_test(tc, test_every_query_parameter_is_documented_and_used);
    tcase_add_test(tc, test_every_route_is_documented_and_every_path_is_a_route);
    tcase_add_test(tc, test_schema_check_fails_on_a_missing_field_or_a_wrong_type);
    tcase_add_test(tc, test_schema_check_keywords);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
