/* A tiny HTTP/1.1 client for tests: see http.h. */
#include "support/http.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int th_connect(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect to port %u: %s", port,
                  strerror(errno));
    return fd;
}

int th_try_connect(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void th_send(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        ck_assert_msg(n > 0, "send: %s", strerror(errno));
        data += n;
        len -= (size_t)n;
    }
}

void th_send_request(int fd, const char *method, const char *path, const char *headers)
{
    size_t cap = strlen(method) + strlen(path) + (headers ? strlen(headers) : 0) + 64;
    char *req = malloc(cap);
    ck_assert_ptr_nonnull(req);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, path,
                     headers ? headers : "");
    th_send(fd, req, (size_t)n);
    free(req);
}

/* Read up to len bytes, waiting at most TH_TIMEOUT_MS; 0 at EOF. */
static size_t read_some(int fd, char *buf, size_t len)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int ready = poll(&p, 1, TH_TIMEOUT_MS);
        if (ready < 0 && errno == EINTR)
            continue;
        ck_assert_msg(ready > 0, "no answer from the server within %d ms", TH_TIMEOUT_MS);
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ECONNRESET)
            return 0;
        ck_assert_msg(n >= 0, "read: %s", strerror(errno));
        return (size_t)n;
    }
}

/* One line (without CRLF) into a heap string; NULL at EOF before any byte. */
static char *read_line(int fd)
{
    size_t cap = 128, n = 0;
    char *line = malloc(cap);
    ck_assert_ptr_nonnull(line);
    for (;;) {
        char ch;
        if (read_some(fd, &ch, 1) == 0) {
            if (n == 0) {
                free(line);
                return NULL;
            }
            break;
        }
        if (ch == '\n')
            break;
        if (n + 2 > cap) {
            cap *= 2;
            line = realloc(line, cap);
            ck_assert_ptr_nonnull(line);
        }
        line[n++] = ch;
    }
    if (n > 0 && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    return line;
}

static void read_exact(int fd, char *buf, size_t len)
{
    while (len > 0) {
        size_t n = read_some(fd, buf, len);
        ck_assert_msg(n > 0, "connection closed in the middle of a body");
        buf += n;
        len -= n;
    }
}

static void body_append(struct th_response *r, size_t *cap, size_t more)
{
    if (r->body_len + more + 1 > *cap) {
        while (r->body_len + more + 1 > *cap)
            *cap *= 2;
        r->body = realloc(r->body, *cap);
        ck_assert_ptr_nonnull(r->body);
    }
}

bool th_read_response(int fd, bool head, struct th_response *r)
{
    memset(r, 0, sizeof *r);
    char *status = read_line(fd);
    if (status == NULL)
        return false;
    ck_assert_msg(sscanf(status, "HTTP/1.%*d %d", &r->status) == 1, "bad status line \"%s\"",
                  status);
    free(status);
    size_t hcap = 256, hlen = 0;
    r->headers = calloc(hcap, 1);
    ck_assert_ptr_nonnull(r->headers);
    for (;;) {
        char *line = read_line(fd);
        ck_assert_msg(line != NULL, "connection closed in the headers");
        if (line[0] == '\0') {
            free(line);
            break;
        }
        size_t l = strlen(line);
        while (hlen + l + 3 > hcap) {
            hcap *= 2;
            r->headers = realloc(r->headers, hcap);
            ck_assert_ptr_nonnull(r->headers);
        }
        memcpy(r->headers + hlen, line, l);
        memcpy(r->headers + hlen + l, "\r\n", 3);
        hlen += l + 2;
        free(line);
    }
    size_t cap = 4096;
    r->body = malloc(cap);
    ck_assert_ptr_nonnull(r->body);
    r->body_len = 0;
    char value[64];
    bool no_body = head || r->status == 304 || r->status == 204 || r->status / 100 == 1;
    if (no_body) {
        /* nothing */
    } else if (th_header(r, "Transfer-Encoding", value, sizeof value) &&
               strcasecmp(value, "chunked") == 0) {
        for (;;) {
            char *size_line = read_line(fd);
            ck_assert_msg(size_line != NULL, "connection closed in a chunked body");
            size_t chunk = strtoul(size_line, NULL, 16);
            free(size_line);
            if (chunk == 0) {
                char *trailer;
                while ((trailer = read_line(fd)) != NULL && trailer[0] != '\0')
                    free(trailer);
                free(trailer);
                break;
            }
            body_append(r, &cap, chunk);
            read_exact(fd, r->body + r->body_len, chunk);
            r->body_len += chunk;
            char *crlf = read_line(fd);
            free(crlf);
        }
    } else if (th_header(r, "Content-Length", value, sizeof value)) {
        size_t len = strtoul(value, NULL, 10);
        body_append(r, &cap, len);
        read_exact(fd, r->body, len);
        r->body_len = len;
    } else { /* up to EOF */
        for (;;) {
            body_append(r, &cap, 4096);
            size_t n = read_some(fd, r->body + r->body_len, 4096);
            if (n == 0)
                break;
            r->body_len += n;
        }
    }
    r->body[r->body_len] = '\0';
    return true;
}

void th_request(unsigned port, const char *method, const char *path, const char *headers,
                struct th_response *r)
{
    int fd = th_connect(port);
    th_send_request(fd, method, path, headers);
    ck_assert_msg(th_read_response(fd, strcmp(method, "HEAD") == 0, r),
                  "%s %s: connection closed without an answer", method, path);
    close(fd);
}

void th_get(unsigned port, const char *path, struct th_response *r)
{
    th_request(port, "GET", path, NULL, r);
}

const char *th_header(const struct th_response *r, const char *name, char *buf, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (end == NULL)
            break;
        if ((size_t)(end - line) > nlen && strncasecmp(line, name, nlen) == 0 &&
            line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vlen = (size_t)(end - v);
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return buf;
        }
        line = end + 2;
    }
    return NULL;
}

void th_response_free(struct th_response *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

bool th_wait_eof(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[4096];
    for (;;) {
        int ready = poll(&p, 1, timeout_ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return false;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return true;
    }
}

bool th_is_quiet(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, 0);
    ck_assert_msg(ready >= 0, "poll: %s", strerror(errno));
    return ready == 0;
}

void th_want_files(unsigned want)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur >= want)
        return;
    ck_assert_msg(rl.rlim_max >= want, "the open-files limit is %llu, the test needs %u",
                  (unsigned long long)rl.rlim_max, want);
    rl.rlim_cur = rl.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}
