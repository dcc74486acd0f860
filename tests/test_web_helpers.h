/*
 * Shared by the web suites: a small data directory imported with the real
 * kpi binary, and a server started in-process on an ephemeral port.
 * Included by one .c file each (static functions).
 */
#ifndef KPI_TEST_WEB_HELPERS_H
#define KPI_TEST_WEB_HELPERS_H

#include "support/http.h"
#include "support/support.h"
#include "web/web.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define AS_OF "2026-04-30"

static const char teams_csv[] = "team,name,parent\n"
                                "acme,Acme Corp,\n"
                                "sales,Sales,acme\n"
                                "ops,Opérations,acme\n";
static const char indicators_csv[] = "kpi,name,family,unit,direction,period\n"
                                     "revenue,Revenue,financial,EUR,up,month\n"
                                     "headcount,Headcount,human,FTE,up,month\n"
                                     "delay,Delay,process,days,down,month\n";
static const char observations_csv[] = "date,team,kpi,value\n"
                                       "2026-01,sales,revenue,100\n"
                                       "2026-02,sales,revenue,95\n"
                                       "2026-03,sales,revenue,90\n"
                                       "2026-04,sales,revenue,80\n"
                                       "2026-01,ops,delay,3\n"
                                       "2026-02,ops,delay,3.5\n"
                                       "2026-03,ops,delay,4\n"
                                       "2026-04,ops,delay,5\n"
                                       "2026-01,ops,headcount,10\n"
                                       "2026-04,sales,headcount,4\n";
static const char targets_csv[] = "date,team,kpi,target\n"
                                  "2026-01,sales,revenue,100\n"
                                  "2026-12,sales,revenue,150\n"
                                  "2026-01,ops,delay,3\n"
                                  "2026-12,ops,delay,2\n";

/* kpi --data dir import <csv written to a file> [extra args]; must succeed. */
static inline void import_text(const char *dir, const char *name, const char *csv, const char *kind)
{
    char *file = ts_path(dir, name);
    ts_write_file(file, csv, (size_t)-1);
    char *data = ts_path(dir, "data");
    struct ts_run r;
    const char *with_kind[] = {"--data", data, "import", file, "--kind", kind, "--quiet", NULL};
    const char *plain[] = {"--data", data, "import", file, "--quiet", NULL};
    ts_kpi(&r, NULL, kind ? with_kind : plain);
    ck_assert_msg(r.status == 0, "import %s: %s", name, r.err);
    ts_run_free(&r);
    free(data);
    free(file);
}

/* A scratch directory whose "data" holds the example above. Caller frees. */
static inline char *make_data(const char *tag)
{
    char *dir = ts_tempdir(tag);
    import_text(dir, "teams.csv", teams_csv, "teams");
    import_text(dir, "indicators.csv", indicators_csv, "indicators");
    import_text(dir, "observations.csv", observations_csv, NULL);
    import_text(dir, "targets.csv", targets_csv, NULL);
    return dir;
}

/* A running server over dir/data, pinned at AS_OF. */
struct test_server {
    struct store *st;
    struct web_server *srv;
    unsigned port;
};

static inline void server_start_with(struct test_server *t, const char *dir,
                                     const struct web_options *opts)
{
    char *data = ts_path(dir, "data");
    struct kpi_error err = {0};
    struct store_options so = {.create = false, .threads = 1};
    ck_assert_msg(store_open(data, &so, &t->st, &err) == 0, "store_open: %s", err.message);
    ck_assert_msg(web_start(t->st, opts, &t->srv, &err) == 0, "web_start: %s", err.message);
    t->port = web_port(t->srv);
    ck_assert_uint_ne(t->port, 0);
    free(data);
}

static inline void test_options(struct web_options *o)
{
    web_options_default(o);
    o->port = 0;
    o->pin_as_of = true;
    struct kpi_error err = {0};
    ck_assert_int_eq(kpi_date_parse(AS_OF, NULL, &o->as_of_day, &err), 0);
}

static inline void server_start(struct test_server *t, const char *dir)
{
    struct web_options o;
    test_options(&o);
    server_start_with(t, dir, &o);
}

static inline void server_stop(struct test_server *t)
{
    web_stop(t->srv);
    store_close(t->st);
    t->srv = NULL;
    t->st = NULL;
}

/* GET path and check its status; returns the response (caller frees). */
static inline void get_expect(unsigned port, const char *path, int status, struct th_response *r)
{
    th_get(port, path, r);
    ck_assert_msg(r->status == status, "GET %s: status %d, expected %d: %s", path, r->status,
                  status, r->body);
}

#endif
