/* The server under hostile or unusual clients: bad paths never touch a file,
 * header and connection limits, idle timeouts, keep-alive, and `kpi serve`
 * started as a process and stopped with SIGTERM / SIGINT. */
#include "test_web_helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char *dir;
static struct test_server server;

static void setup_data(void)
{
    dir = make_data("web-robust");
}

static void teardown_data(void)
{
    ts_rm_rf(dir);
    free(dir);
}

static void setup(void)
{
    setup_data();
    server_start(&server, dir);
}

static void teardown(void)
{
    server_stop(&server);
    teardown_data();
}

START_TEST(test_bad_paths_are_refused_and_touch_nothing)
{
    /* A file next to the data directory that a traversal would reach. */
    char *secret = ts_path(dir, "secret.txt");
    ts_write_file(secret, "TOP-SECRET", (size_t)-1);
    char *before = ts_tree_digest(dir);
    /* over WEB_PATH_MAX, within the connection memory: kpi's own 400 */
    char *long_path = malloc(4 * 1024 + 2);
    ck_assert_ptr_nonnull(long_path);
    long_path[0] = '/';
    memset(long_path + 1, 'a', 4 * 1024);
    long_path[4 * 1024 + 1] = '\0';
    const struct {
        const char *path;
        int status;
    } cases[] = {
        {"/..", 400},
        {"/../secret.txt", 400},
        {"/%2e%2e/secret.txt", 400},
        {"/%2E%2E/%2e%2e/etc/passwd", 400},
        {"/api/v1/teams/..%2f..%2fsecret.txt/drift", 400},
        {"/api/v1/teams/%2e%2e/drift", 400},
        {"/./app.js", 400},
        {"/app.js%00.html", 400},
        {"/api/v1/teams/ops%00/drift", 400},
        {"/api/v1/teams/%c3%28/drift", 400},
        {"/api/v1/teams/%ff%fe/drift", 400},
        {"/api/v1/alerts?team=ops%00x", 400},
        {"/api/v1/alerts?team=%c3%28", 400},
        {"/api/v1/drift?as_of=2026-01-01%00", 400},
        {"/secret.txt", 404},
        {"/data/ledger", 404},
        {"/api/v1/teams/secret.txt/drift", 404},
        {"/etc/passwd", 404},
        {"//", 404},
        {long_path, 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct th_response r;
        th_get(server.port, cases[i].path, &r);
        ck_assert_msg(r.status == cases[i].status, "GET %.60s: %d, expected %d", cases[i].path,
                      r.status, cases[i].status);
        char type[64];
        ck_assert_str_eq(th_header(&r, "Content-Type", type, sizeof type), "application/json");
        ck_assert_ptr_null(strstr(r.body, "TOP-SECRET"));
        ck_assert_ptr_null(strstr(r.body, "root:"));
        th_response_free(&r);
    }
    char *after = ts_tree_digest(dir);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    free(long_path);
    free(secret);
}
END_TEST

/* X-Big: n bytes, CRLF (freed by the caller). */
static char *big_header(size_t n)
{
    char *header = malloc(n + 16);
    ck_assert_ptr_nonnull(header);
    memcpy(header, "X-Big: ", 7);
    memset(header + 7, 'x', n);
    memcpy(header + 7 + n, "\r\n", 3);
    return header;
}

START_TEST(test_huge_header_gets_431_and_huge_url_414)
{
    /* The 8 KiB connection memory (docs/DECISIONS.md) holds a 6,000-byte
     * header; 10,000 bytes and 70,000 bytes are too large. */
    const struct {
        size_t bytes;
        int status;
    } heads[] = {{6000, 200}, {10000, 431}, {70000, 431}};
    struct th_response r;
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++) {
        char *big = big_header(heads[i].bytes);
        th_request(server.port, "GET", "/healthz", big, &r);
        ck_assert_int_eq(r.status, heads[i].status);
        th_response_free(&r);
        free(big);
    }
    size_t n = 70 * 1000;
    char *url = malloc(n + 2);
    ck_assert_ptr_nonnull(url);
    url[0] = '/';
    memset(url + 1, 'u', n);
    url[n + 1] = '\0';
    th_get(server.port, url, &r);
    ck_assert_int_eq(r.status, 414);
    th_response_free(&r);
    free(url);
    /* The server still answers. */
    get_expect(server.port, "/healthz", 200, &r);
    th_response_free(&r);
}
END_TEST

START_TEST(test_keep_alive_serves_several_requests_on_one_connection)
{
    int fd = th_connect(server.port);
    const char *paths[] = {"/api/v1/teams", "/api/v1/drift", "/api/v1/teams", "/healthz"};
    for (size_t i = 0; i < 4; i++) {
        struct th_response r;
        th_send_request(fd, "GET", paths[i], NULL);
        ck_assert_msg(th_read_response(fd, false, &r), "request %zu: connection closed", i);
        ck_assert_int_eq(r.status, 200);
        char conn[32];
        const char *c = th_header(&r, "Connection", conn, sizeof conn);
        ck_assert_msg(c == NULL || strcasecmp(c, "close") != 0, "request %zu: Connection: close",
                      i);
        th_response_free(&r);
    }
    close(fd);
}
END_TEST

static void start_limited(unsigned limit, unsigned idle_timeout)
{
    struct web_options o;
    test_options(&o);
    o.threads = 1;
    o.connection_limit = limit;
    o.idle_timeout = idle_timeout;
    server_start_with(&server, dir, &o);
}

START_TEST(test_connection_limit_holds_extra_connections_back)
{
    start_limited(2, 30);
    int held[2];
    for (size_t i = 0; i < 2; i++) { /* two live keep-alive connections */
        held[i] = th_connect(server.port);
        struct th_response r;
        th_send_request(held[i], "GET", "/healthz", NULL);
        ck_assert(th_read_response(held[i], false, &r));
        ck_assert_int_eq(r.status, 200);
        th_response_free(&r);
    }
    /* A third waits in the listen queue, unanswered while the limit is
     * reached (the server stops accepting)... */
    int extra = th_connect(server.port);
    th_send_request(extra, "GET", "/healthz", NULL);
    struct pollfd pf = {.fd = extra, .events = POLLIN};
    ck_assert_msg(poll(&pf, 1, 300) == 0, "a third connection was answered over the limit");
    /* ...and is served once one of the two is closed by the server. */
    struct th_response r;
    th_send_request(held[0], "GET", "/healthz", "Connection: close\r\n");
    ck_assert(th_read_response(held[0], false, &r));
    th_response_free(&r);
    ck_assert(th_wait_eof(held[0], TH_TIMEOUT_MS));
    close(held[0]);
    ck_assert_msg(th_read_response(extra, false, &r), "the waiting connection was dropped");
    ck_assert_int_eq(r.status, 200);
    th_response_free(&r);
    close(extra);
    close(held[1]);
    server_stop(&server);
}
END_TEST

START_TEST(test_idle_connection_is_closed_after_the_timeout)
{
    start_limited(16, 1);
    int fd = th_connect(server.port);
    ck_assert_msg(th_wait_eof(fd, 8000), "an idle connection stayed open");
    close(fd);
    /* Also after a first request (keep-alive, then silence). */
    fd = th_connect(server.port);
    struct th_response r;
    th_send_request(fd, "GET", "/healthz", NULL);
    ck_assert(th_read_response(fd, false, &r));
    th_response_free(&r);
    ck_assert_msg(th_wait_eof(fd, 8000), "an idle keep-alive connection stayed open");
    close(fd);
    server_stop(&server);
}
END_TEST

/* ------------------------------------------------- one client, many asks */

/* The "since" of the alert with this id in an alerts document. */
static void expect_since(const char *doc, const char *id, const char *since)
{
    char key[128];
    snprintf(key, sizeof key, "\"id\":\"%s\"", id);
    const char *at = strstr(doc, key);
    ck_assert_msg(at != NULL, "no alert %s", id);
    const char *s = strstr(at, "\"since\":\"");
    ck_assert_ptr_nonnull(s);
    s += strlen("\"since\":\"");
    ck_assert_msg(strncmp(s, since, strlen(since)) == 0 && s[strlen(since)] == '"',
                  "%s: since %.10s, expected %s", id, s, since);
}

START_TEST(test_as_of_is_bounded_and_a_far_one_is_cheap)
{
    const char *refused[] = {"/api/v1/alerts?as_of=9999-12-31", "/api/v1/alerts?as_of=0001-01-01",
                             "/api/v1/alerts?as_of=2200-01-01", "/api/v1/drift?as_of=1899-12-31",
                             "/api/v1/teams/ops/trends?as_of=9999-12-31"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        struct th_response r;
        get_expect(server.port, refused[i], 400, &r);
        ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"bad_request\",\"message\":\"invalid as_of "
                                 "(expected a date from 1900-01-01 to 2199-12-31)\"}}");
        th_response_free(&r);
    }
    /* The last day allowed, 2,084 months past the data: since is computed,
     * not walked back month by month. Staleness starts stale_after (2)
     * periods after the last value: sales' revenue was last seen in 2026-04,
     * so it is stale since 2026-07; ops' headcount (2026-01) since 2026-04.
     * Off track (80 against 100 + 3 x 50/11 = 113.6) since 2026-03, as at
     * any as_of from 2026-04 on. */
    struct th_response r;
    get_expect(server.port, "/api/v1/alerts?as_of=2199-12-31", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "(2084 periods before 2199-12)"));
    expect_since(r.body, "sales/revenue/stale", "2026-07");
    expect_since(r.body, "ops/headcount/stale", "2026-04");
    expect_since(r.body, "sales/revenue/off_track", "2026-03");
    char *data = ts_path(dir, "data");
    const char *argv[] = {"--data",     data,       "alerts", "--as-of",
                          "2199-12-31", "--format", "json",   NULL};
    struct ts_run run;
    ts_kpi(&run, NULL, argv);
    ck_assert_int_eq(run.status, 0);
    ck_assert_uint_eq(strlen(run.out), r.body_len + 1); /* the CLI ends with a newline */
    ck_assert(strncmp(run.out, r.body, r.body_len) == 0);
    ts_run_free(&run);
    free(data);
    th_response_free(&r);
    get_expect(server.port, "/api/v1/alerts?as_of=1900-01-01", 200, &r);
    ck_assert_str_eq(r.body, "{\"as_of\":\"1900-01-01\",\"alerts\":[]}");
    th_response_free(&r);
}
END_TEST

/* No alert at all: qsort(NULL, 0, ...) aborted under UBSan. */
START_TEST(test_alerts_of_a_catalog_only_directory_are_empty)
{
    char *only = ts_tempdir("web-catalog-only");
    import_text(only, "teams.csv", teams_csv, "teams");
    char *data = ts_path(only, "data");
    const char *argv[] = {"--data", data, "alerts", "--as-of", AS_OF, "--format", "json", NULL};
    struct ts_run run;
    ts_kpi(&run, NULL, argv);
    ck_assert_msg(run.status == 0, "kpi alerts: exit %d: %s", run.status, run.err);
    ck_assert_str_eq(run.out, "{\"as_of\":\"" AS_OF "\",\"alerts\":[]}\n");
    ts_run_free(&run);
    struct test_server s;
    server_start(&s, only);
    struct th_response r;
    get_expect(s.port, "/api/v1/alerts", 200, &r);
    ck_assert_str_eq(r.body, "{\"as_of\":\"" AS_OF "\",\"alerts\":[]}");
    th_response_free(&r);
    server_stop(&s);
    free(data);
    ts_rm_rf(only);
    free(only);
}
END_TEST

/* The 405 comes before the body: 100 MB announced, none sent. */
START_TEST(test_a_body_is_not_read_before_the_answer)
{
    static const char post[] = "POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Content-Length: 100000000\r\n\r\n";
    int fd = th_connect(server.port);
    th_send(fd, post, sizeof post - 1);
    struct th_response r;
    ck_assert(th_read_response(fd, false, &r));
    ck_assert_int_eq(r.status, 405);
    char allow[32];
    ck_assert_str_eq(th_header(&r, "Allow", allow, sizeof allow), "GET, HEAD");
    th_response_free(&r);
    ck_assert_msg(th_wait_eof(fd, TH_TIMEOUT_MS), "the connection stayed open for the body");
    close(fd);
    /* A GET announcing a body is answered, and closed, without it too. */
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n";
    fd = th_connect(server.port);
    th_send(fd, get, sizeof get - 1);
    ck_assert(th_read_response(fd, false, &r));
    ck_assert_int_eq(r.status, 200);
    th_response_free(&r);
    ck_assert(th_wait_eof(fd, TH_TIMEOUT_MS));
    close(fd);
}
END_TEST

static void start_with(unsigned threads, unsigned limit, unsigned per_ip, unsigned header_timeout)
{
    struct web_options o;
    test_options(&o);
    o.threads = threads;
    o.connection_limit = limit;
    o.per_ip_limit = per_ip;
    o.header_timeout = header_timeout;
    o.idle_timeout = 60;
    server_start_with(&server, dir, &o);
}

/* A connection that has sent part of a request head. */
static int half_open(unsigned port)
{
    static const char part[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    int fd = th_connect(port);
    th_send(fd, part, sizeof part - 1);
    return fd;
}

/* 520 unfinished heads took every slot of the former limit of 512: /healthz
 * waited until some timed out. */
START_TEST(test_half_open_connections_do_not_stall_health)
{
    start_with(2, 0, 0, 60); /* the automatic limits */
    th_want_files(2 * 520 + 200);
    int fds[520];
    for (size_t i = 0; i < 520; i++)
        fds[i] = half_open(server.port);
    struct th_response r;
    get_expect(server.port, "/healthz", 200, &r);
    th_response_free(&r);
    for (size_t i = 0; i < 520; i++) { /* none was dropped to make room */
        ck_assert_msg(th_is_quiet(fds[i]), "connection %zu was closed", i);
        close(fds[i]);
    }
    server_stop(&server);
}
END_TEST

START_TEST(test_one_address_cannot_take_every_connection)
{
    start_with(1, 16, 4, 60);
    int fds[4];
    for (size_t i = 0; i < 4; i++)
        fds[i] = half_open(server.port);
    /* The fifth from the same address is closed at once. */
    int extra = half_open(server.port);
    ck_assert_msg(th_wait_eof(extra, TH_TIMEOUT_MS), "a fifth connection was kept");
    close(extra);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_msg(th_is_quiet(fds[i]), "connection %zu was closed", i);
        close(fds[i]);
    }
    server_stop(&server);
}
END_TEST

START_TEST(test_an_unfinished_head_is_closed_after_the_header_timeout)
{
    start_with(1, 16, 0, 1);
    int fd = half_open(server.port);
    ck_assert_msg(th_wait_eof(fd, 8000), "an unfinished request head was kept");
    close(fd);
    server_stop(&server);
}
END_TEST

/* Eight charts of new sizes asked at once: each is a PNG, or a 503 to retry
 * when too many wait, and /healthz is answered while they render (on a
 * thread of their own, never on the workers). */
START_TEST(test_graph_renders_do_not_block_cheap_requests)
{
    start_with(2, 0, 0, 60);
    int fds[8];
    char paths[8][128];
    for (size_t i = 0; i < 8; i++) {
        snprintf(paths[i], sizeof paths[i],
                 "/api/v1/teams/sales/kpis/revenue/graph.png?width=%zu&height=%zu", 300 + i,
                 120 + i);
        fds[i] = th_connect(server.port);
        th_send_request(fds[i], "GET", paths[i], NULL);
    }
    struct th_response r;
    get_expect(server.port, "/healthz", 200, &r);
    th_response_free(&r);
    for (size_t i = 0; i < 8; i++) {
        ck_assert(th_read_response(fds[i], false, &r));
        close(fds[i]);
        if (r.status == 503) {
            char retry[16];
            ck_assert_str_eq(th_header(&r, "Retry-After", retry, sizeof retry), "1");
            ck_assert_ptr_nonnull(strstr(r.body, "\"code\":\"busy\""));
            th_response_free(&r);
            get_expect(server.port, paths[i], 200, &r); /* alone, it renders */
        }
        ck_assert_msg(r.status == 200, "%s: %d", paths[i], r.status);
        ck_assert(r.body_len > 8 && memcmp(r.body, "\x89PNG", 4) == 0);
        th_response_free(&r);
    }
    server_stop(&server);
}
END_TEST

/* ----------------------------------------------------- kpi serve process */

struct serve_process {
    pid_t pid;
    int out; /* its standard output */
    unsigned port;
};

/* Start `kpi --data DIR/data serve --listen 127.0.0.1:0 ...` and read the
 * port from its first line; files: its open-files limit (soft and hard), 0
 * to inherit the test's. */
static void serve_spawn_files(struct serve_process *p, const char *const *extra, rlim_t files)
{
    char *data = ts_path(dir, "data");
    const char *argv[16] = {KPI_BINARY, "--data", data, "serve", "--listen", "127.0.0.1:0"};
    size_t n = 6;
    for (; extra && *extra; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    p->pid = fork();
    ck_assert(p->pid >= 0);
    if (p->pid == 0) {
        struct rlimit rl = {files, files};
        if (files > 0 && setrlimit(RLIMIT_NOFILE, &rl) != 0)
            _exit(126);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(KPI_BINARY, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(fds[1]);
    p->out = fds[0];
    char line[512];
    size_t len = 0;
    while (len + 1 < sizeof line) {
        struct pollfd pf = {.fd = p->out, .events = POLLIN};
        ck_assert_msg(poll(&pf, 1, TH_TIMEOUT_MS) == 1, "kpi serve printed nothing");
        ssize_t got = read(p->out, line + len, 1);
        ck_assert_msg(got == 1, "kpi serve exited before listening");
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    char expected[4096];
    snprintf(expected, sizeof expected, "kpi: serving %s on http://127.0.0.1:", data);
    ck_assert_msg(strncmp(line, expected, strlen(expected)) == 0, "first line: %s", line);
    p->port = (unsigned)strtoul(line + strlen(expected), NULL, 10);
    ck_assert_uint_ne(p->port, 0);
    free(data);
}

static void serve_spawn(struct serve_process *p, const char *const *extra)
{
    serve_spawn_files(p, extra, 0);
}

/* Wait (bounded) for the process to exit after sig; its exit status. */
static int serve_stop(struct serve_process *p, int sig)
{
    ck_assert_int_eq(kill(p->pid, sig), 0);
    /* Its stdout closes when it exits: wait on that, bounded, then reap. */
    ck_assert_msg(th_wait_eof(p->out, TH_TIMEOUT_MS), "kpi serve still running after signal %d",
                  sig);
    int status = 0;
    ck_assert_int_eq(waitpid(p->pid, &status, 0), p->pid);
    close(p->out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(test_kpi_serve_answers_and_exits_0_on_sigterm)
{
    struct serve_process p;
    serve_spawn(&p, (const char *[]){"--threads", "3", "--as-of", AS_OF, NULL});
    struct th_response r;
    get_expect(p.port, "/api/v1/drift", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"as_of\":\"" AS_OF "\""));
    th_response_free(&r);
    /* An open keep-alive connection does not hold the shutdown back. */
    int fd = th_connect(p.port);
    th_send_request(fd, "GET", "/healthz", NULL);
    ck_assert(th_read_response(fd, false, &r));
    th_response_free(&r);
    ck_assert_int_eq(serve_stop(&p, SIGTERM), 0);
    close(fd);
}
END_TEST

START_TEST(test_kpi_serve_exits_0_on_sigint)
{
    struct serve_process p;
    serve_spawn(&p, NULL);
    struct th_response r;
    get_expect(p.port, "/healthz", 200, &r);
    th_response_free(&r);
    ck_assert_int_eq(serve_stop(&p, SIGINT), 0);
}
END_TEST

START_TEST(test_kpi_serve_rejects_bad_options)
{
    char *data = ts_path(dir, "data");
    const char *cases[][3] = {{"--listen", "localhost", NULL}, {"--listen", "1.2.3.4:99999", NULL},
                              {"--listen", "::1:80", NULL},    {"--threads", "0", NULL},
                              {"--threads", "many", NULL},     {"--as-of", "someday", NULL},
                              {"--bogus", NULL, NULL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[8] = {"--data", data, "serve", cases[i][0], cases[i][1], NULL};
        struct ts_run run;
        ts_kpi(&run, NULL, argv);
        ck_assert_msg(run.status == 1, "serve %s %s: exit %d", cases[i][0],
                      cases[i][1] ? cases[i][1] : "", run.status);
        ck_assert_str_eq(run.out, "");
        ts_run_free(&run);
    }
    free(data);
}
END_TEST

/* With an open-files limit of 100 and one worker, the server keeps 64
 * descriptors for the store and the log and 5 for the worker (its listening
 * socket, two epoll sets, two eventfds): 31 connections, the 32nd waits in
 * the listen queue until one closes. */
START_TEST(test_kpi_serve_keeps_descriptors_for_its_workers)
{
    struct serve_process p;
    serve_spawn_files(&p, (const char *[]){"--threads", "1", NULL}, 100);
    enum { LIMIT = 100 - 64 - 5 };
    int held[LIMIT];
    struct th_response r;
    for (size_t i = 0; i < LIMIT; i++) {
        held[i] = th_connect(p.port);
        th_send_request(held[i], "GET", "/healthz", NULL);
        ck_assert_msg(th_read_response(held[i], false, &r), "connection %zu closed", i);
        ck_assert_int_eq(r.status, 200);
        th_response_free(&r);
    }
    int extra = th_connect(p.port);
    th_send_request(extra, "GET", "/healthz", NULL);
    struct pollfd pf = {.fd = extra, .events = POLLIN};
    ck_assert_msg(poll(&pf, 1, 300) == 0, "connection %d was answered over the limit", LIMIT + 1);
    th_send_request(held[0], "GET", "/healthz", "Connection: close\r\n");
    ck_assert(th_read_response(held[0], false, &r));
    th_response_free(&r);
    ck_assert(th_wait_eof(held[0], TH_TIMEOUT_MS));
    ck_assert_msg(th_read_response(extra, false, &r), "the waiting connection was dropped");
    ck_assert_int_eq(r.status, 200);
    th_response_free(&r);
    close(extra);
    for (size_t i = 0; i < LIMIT; i++)
        close(held[i]);
    ck_assert_int_eq(serve_stop(&p, SIGTERM), 0);
}
END_TEST

START_TEST(test_kpi_serve_fails_on_a_taken_port)
{
    struct serve_process p;
    serve_spawn(&p, NULL);
    char *data = ts_path(dir, "data");
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", p.port);
    const char *argv[] = {"--data", data, "serve", "--listen", listen, NULL};
    struct ts_run run;
    ts_kpi(&run, NULL, argv);
    ck_assert_int_eq(run.status, 3);
    ck_assert_ptr_nonnull(strstr(run.err, "cannot listen"));
    ts_run_free(&run);
    free(data);
    ck_assert_int_eq(serve_stop(&p, SIGTERM), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("web_robust");
    TCase *tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bad_paths_are_refused_and_touch_nothing);
    tcase_add_test(tc, test_huge_header_gets_431_and_huge_url_414);
    tcase_add_test(tc, test_keep_alive_serves_several_requests_on_one_connection);
    tcase_add_test(tc, test_as_of_is_bounded_and_a_far_one_is_cheap);
    tcase_add_test(tc, test_alerts_of_a_catalog_only_directory_are_empty);
    tcase_add_test(tc, test_a_body_is_not_read_before_the_answer);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup_data, teardown_data);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_connection_limit_holds_extra_connections_back);
    tcase_add_test(tc, test_idle_connection_is_closed_after_the_timeout);
    tcase_add_test(tc, test_half_open_connections_do_not_stall_health);
    tcase_add_test(tc, test_one_address_cannot_take_every_connection);
    tcase_add_test(tc, test_an_unfinished_head_is_closed_after_the_header_timeout);
    tcase_add_test(tc, test_graph_renders_do_not_block_cheap_requests);
    suite_add_tcase(s, tc);
    tc = tcase_create("process");
    tcase_add_checked_fixture(tc, setup_data, teardown_data);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_kpi_serve_answers_and_exits_0_on_sigterm);
    tcase_add_test(tc, test_kpi_serve_exits_0_on_sigint);
    tcase_add_test(tc, test_kpi_serve_rejects_bad_options);
    tcase_add_test(tc, test_kpi_serve_fails_on_a_taken_port);
    tcase_add_test(tc, test_kpi_serve_keeps_descriptors_for_its_workers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
