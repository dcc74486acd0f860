/* A real `kpi serve` for end-to-end web suites (web_fixture.h). */
#include "support/web_fixture.h"

#include "support/support.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define WF_ARGS_MAX 16

void wf_start(struct wf_server *s, const char *data, const char *const *args)
{
    const char *argv[8 + WF_ARGS_MAX] = {KPI_BINARY, "--data",   data,
                                         "serve",    "--listen", "127.0.0.1:0"};
    size_t n = 6;
    for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
        ck_assert_uint_lt(i, WF_ARGS_MAX);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    int out[2];
    ck_assert_int_eq(pipe(out), 0);
    s->pid = fork();
    ck_assert_msg(s->pid >= 0, "fork: %s", strerror(errno));
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(KPI_BINARY, (char *const *)(uintptr_t)argv); /* execv does not write them */
        _exit(127);
    }
    close(out[1]);
    char line[512];
    size_t used = 0;
    while (used + 1 < sizeof line && read(out[0], line + used, 1) == 1 && line[used] != '\n')
        used++;
    line[used] = '\0';
    close(out[0]);
    const char *colon = strrchr(line, ':');
    ck_assert_msg(colon != NULL && strstr(line, "serving") != NULL, "kpi serve said: %s", line);
    s->port = (unsigned)atoi(colon + 1);
    ck_assert_uint_ne(s->port, 0);
}

void wf_stop(struct wf_server *s, int sig)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    int status;
    waitpid(s->pid, &status, 0);
    s->pid = 0;
}

void wf_token_command(const char *data, const char *const *args, char *out, size_t cap)
{
    const char *argv[16] = {"--data", data, "token"};
    size_t n = 3;
    for (size_t i = 0; args[i] != NULL; i++) {
        ck_assert_uint_lt(n, 15);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "kpi token %s: %s", args[0], r.err);
    size_t len = strcspn(r.out, "\n");
    ck_assert_uint_lt(len, cap);
    memcpy(out, r.out, len);
    out[len] = '\0';
    ts_run_free(&r);
}

void wf_token_add(const char *data, const char *name, const char *role, const char *team, char *out)
{
    const char *args[] = {"add", name, "--role", role, team ? "--team" : NULL, team, NULL};
    wf_token_command(data, args, out, WF_SECRET_MAX);
    ck_assert_msg(strncmp(out, "kpi_", 4) == 0, "token add printed %s", out);
}

void wf_request(const struct wf_server *s, const char *method, const char *path, const char *secret,
                const char *type, const char *body, struct th_response *r)
{
    char headers[512] = "";
    int n = 0;
    if (secret != NULL)
        n = snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\n", secret);
    if (body != NULL)
        snprintf(headers + n, sizeof headers - (size_t)n,
                 "Content-Type: %s\r\nContent-Length: %zu\r\n", type, strlen(body));
    int fd = th_connect(s->port);
    th_send_request(fd, method, path, headers);
    if (body != NULL)
        th_send(fd, body, strlen(body));
    ck_assert_msg(th_read_response(fd, strcmp(method, "HEAD") == 0, r), "%s %s: no answer", method,
                  path);
    close(fd);
}
