/* Hostile input leaves the server answering (issue: under ASan, 64 MiB of
 * garbage uploaded, an upload trickling at 1 byte/s, 1,000 failed logins):
 * /healthz answers during each, and its latency is printed on stderr for
 * the record (tests assert no timings). The real `kpi serve` runs, with its
 * importer. */
#include "test_web_helpers.h"

#include "support/web_fixture.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *dir, *data;
static struct wf_server server;
static unsigned port;
static char secret[WF_SECRET_MAX];

static void start_server(const char *upload_timeout)
{
    const char *const args[] = {"--upload-timeout", upload_timeout, NULL};
    wf_start(&server, data, args);
    port = server.port;
}

static void setup(void)
{
    dir = make_data("web-hostile");
    data = ts_path(dir, "data");
    wf_token_add(data, "finance", "write", NULL, secret);
}

static void teardown(void)
{
    /* SIGKILL: a graceful stop would wait for an import still running */
    wf_stop(&server, SIGKILL);
    ts_rm_rf(dir);
    free(dir);
    free(data);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* GET /healthz must answer 200; returns how long it took (ms). */
static double health(void)
{
    double t0 = now_ms();
    struct th_response r;
    th_get(port, "/healthz", &r);
    double ms = now_ms() - t0;
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    th_response_free(&r);
    return ms;
}

START_TEST(test_a_thousand_failed_logins)
{
    start_server("300");
    int refused = 0, limited = 0;
    for (int i = 0; i < 1000; i++) {
        struct th_response r;
        th_request(port, "GET", "/api/v1/drift", "Authorization: Bearer kpi_guess\r\n", &r);
        refused += r.status == 401;
        limited += r.status == 429;
        th_response_free(&r);
    }
    ck_assert_int_eq(refused, 20); /* then the address is blocked */
    ck_assert_int_eq(limited, 980);
    double worst = 0;
    for (int i = 0; i < 20; i++) {
        double ms = health();
        worst = ms > worst ? ms : worst;
    }
    fprintf(stderr, "healthz after 1000 failed logins: worst of 20 %.2f ms\n", worst);
}
END_TEST

struct sender {
    int fd;
    size_t bytes;
    bool done;
};

static void *send_garbage(void *arg)
{
    struct sender *s = arg;
    char chunk[65536];
    uint64_t x = 88172645463325252ull; /* xorshift: garbage, NULs included */
    for (size_t sent = 0; sent < s->bytes;) {
        for (size_t i = 0; i < sizeof chunk; i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(chunk + i, &x, 8);
        }
        size_t n = s->bytes - sent < sizeof chunk ? s->bytes - sent : sizeof chunk;
        th_send(s->fd, chunk, n);
        sent += n;
    }
    s->done = true;
    return NULL;
}

START_TEST(test_sixty_four_mib_of_garbage)
{
    start_server("300");
    struct sender s = {.fd = th_connect(port), .bytes = 64u * 1024 * 1024};
    char headers[256];
    snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Length: %zu\r\n", secret,
             s.bytes);
    th_send_request(s.fd, "POST", "/api/v1/imports", headers);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, send_garbage, &s), 0);
    double worst = 0;
    int probes = 0;
    while (!s.done || probes < 5) {
        double ms = health();
        worst = ms > worst ? ms : worst;
        probes++;
    }
    pthread_join(t, NULL);
    /* the import of the garbage runs now, on its own thread: the server
     * still answers (its verdict on the garbage is the importer's, and on
     * today's main reading 64 MiB of random bytes takes minutes: see the
     * report of issue 11; it is not waited for here) */
    for (int i = 0; i < 20; i++) {
        double ms = health();
        worst = ms > worst ? ms : worst;
        probes++;
    }
    close(s.fd);
    fprintf(stderr, "healthz during a 64 MiB garbage upload and its import: worst of %d %.2f ms\n",
            probes, worst);
    /* the data directory took nothing in */
    struct th_response d;
    char h[128];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", secret);
    th_request(port, "GET", "/api/v1/teams", h, &d);
    ck_assert_int_eq(d.status, 200);
    ck_assert_ptr_nonnull(strstr(d.body, "{\"teams\":[{\"id\":\"acme\""));
    th_response_free(&d);
}
END_TEST

START_TEST(test_a_body_at_one_byte_a_second_is_cut_off)
{
    /* --upload-timeout 3: the connection is closed once the body has taken
     * longer; meanwhile the server answers others */
    start_server("3");
    int fd = th_connect(port);
    char headers[256];
    snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Length: 100\r\n",
             secret);
    th_send_request(fd, "POST", "/api/v1/imports", headers);
    signal(SIGPIPE, SIG_IGN);
    bool closed = false;
    double worst = 0;
    int sent = 0;
    for (; sent < 20 && !closed; sent++) {
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
        double ms = health();
        worst = ms > worst ? ms : worst;
        closed = send(fd, "d", 1, MSG_NOSIGNAL) != 1;
        if (!closed) {
            char c;
            ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
            closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        }
    }
    ck_assert_msg(closed, "the server kept a 1 byte/s upload for %d s", sent);
    ck_assert_int_le(sent, 8);
    close(fd);
    fprintf(stderr, "healthz during a 1 byte/s upload: worst of %d %.2f ms (cut after %d s)\n",
            sent, worst, sent);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("web_auth_hostile");
    TCase *tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_a_thousand_failed_logins);
    tcase_add_test(tc, test_sixty_four_mib_of_garbage);
    tcase_add_test(tc, test_a_body_at_one_byte_a_second_is_cut_off);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(hostile_suite());
}
