/* A cheap HTTP/1.1 load client for the connection benchmark
 * (bench/web-conns.sh, docs/PERFORMANCE.md "Server: many connections").
 *
 *   http_load PORT PATH CONNECTIONS SECONDS [THREADS]
 *
 * CONNECTIONS keep-alive connections to 127.0.0.1:PORT, split over THREADS
 * threads (default 1), each thread with an epoll set of its own; every
 * connection sends `GET PATH`, reads the whole answer and sends the next
 * request at once, for SECONDS seconds counted from the moment every
 * connection is open. Per answer: one write, one read of the head (up to
 * 1 KiB, copied), one read of the rest of the body, counted and discarded
 * by the kernel without a copy (MSG_TRUNC, tcp(7)), and a share of one
 * epoll_wait. Why not wrk alone: wrk copies and parses every byte of every
 * answer and its CPU per request grows with the connections (docs/
 * PERFORMANCE.md), so on a 2-vCPU machine shared with the server it caps
 * the rate it measures.
 *
 * Checks: every answer's status is 200 and its body is exactly its
 * Content-Length, the same for every answer; a connection closed by the
 * server (other than after an answer saying Connection: close) or a failed
 * read or write is a socket error; the connection is opened again. Prints, on one line:
 *
 *   requests N rate R bytes B body_bytes L non200 E socket_errors S
 *   p50_ms A p99_ms B cpu_s C
 *
 * bytes: the body bytes received in all; body_bytes: every answer's body
 * length (-1 if two differed); cpu_s: the process's user + system CPU time
 * during the measure (connecting not included). Exits 1 unless every answer
 * was a 200 of the same length and bytes = requests x body_bytes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    HEAD_MAX = 4096,        /* a response head longer than this is an error */
    HEAD_READ = 1024,       /* bytes read (copied) at a time while reading a head */
    BUCKET_US = 10,         /* latency histogram: 10 µs buckets */
    BUCKETS = 1000000 / 10, /* up to 1 s; slower answers go in the last one */
    EVENTS = 512,
};

struct conn {
    int fd;
    int64_t sent_ns;   /* when the pending request was sent */
    size_t head_len;   /* bytes of the head read so far (in head) */
    int64_t body_left; /* -1 while reading the head */
    int64_t body_len;  /* this answer's Content-Length */
    int status;
    bool close; /* the answer said Connection: close */
    char head[HEAD_MAX];
};

struct worker {
    pthread_t thread;
    int epoll_fd;
    size_t nconns;
    struct conn *conns;
    /* results */
    uint64_t requests, bytes, non200, socket_errors;
    int64_t body_len; /* 0 before the first answer, -1 once two differ */
    uint32_t *histogram;
};

static struct sockaddr_in server;
static char request[1024];
static size_t request_len;
static int64_t deadline_ns;
static pthread_barrier_t connected, started;

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static double cpu_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

/* A blocking connect, then non-blocking use: the connections are all open
 * before the clock starts. */
static int open_conn(struct worker *w, struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&server, sizeof server) != 0) {
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev);
}

static int send_request(struct conn *c)
{
    c->head_len = 0;
    c->body_left = -1;
    c->sent_ns = now_ns();
    return send(c->fd, request, request_len, MSG_NOSIGNAL) == (ssize_t)request_len ? 0 : -1;
}

/* The connection closed and opened again: after an answer with
 * Connection: close (nginx closes a connection after keepalive_requests
 * answers), not an error unless it cannot be opened again ... */
static void renew(struct worker *w, struct conn *c)
{
    close(c->fd); /* leaves the epoll set */
    if (open_conn(w, c) != 0 || send_request(c) != 0)
        w->socket_errors++;
}

/* ... and after a socket error. */
static void reopen(struct worker *w, struct conn *c)
{
    w->socket_errors++;
    renew(w, c);
}

/* The head in c->head is complete (ends at end): status and length. */
static int parse_head(struct conn *c, size_t end)
{
    c->head[end - 1] = '\0';
    if (strncmp(c->head, "HTTP/1.1 ", 9) != 0)
        return -1;
    c->status = atoi(c->head + 9);
    c->body_len = -1;
    c->close = false;
    for (char *line = strstr(c->head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            c->body_len = strtoll(line + 17, NULL, 10);
        else if (strncasecmp(line + 2, "Connection: close", 17) == 0)
            c->close = true;
    }
    if (c->body_len < 0)
        return -1;
    c->body_left = c->body_len;
    return 0;
}

static void answered(struct worker *w, struct conn *c, int64_t now)
{
    w->requests++;
    w->bytes += (uint64_t)c->body_len;
    if (c->status != 200)
        w->non200++;
    if (w->body_len == 0)
        w->body_len = c->body_len;
    else if (w->body_len != c->body_len)
        w->body_len = -1;
    int64_t us = (now - c->sent_ns) / 1000;
    size_t b = (size_t)(us / BUCKET_US);
    w->histogram[b < BUCKETS ? b : BUCKETS - 1]++;
}

/* Readable. The head is read into c->head (with whatever part of the body
 * came with it); the body is then counted and discarded by the kernel
 * without being copied (recv with MSG_TRUNC, tcp(7)): the client's cost per
 * answer does not depend on the body's size. */
static void on_readable(struct worker *w, struct conn *c)
{
    ssize_t n;
    if (c->body_left < 0) {
        size_t room = HEAD_MAX - c->head_len;
        n = recv(c->fd, c->head + c->head_len, room < HEAD_READ ? room : HEAD_READ, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            reopen(w, c);
            return;
        }
        size_t from = c->head_len >= 3 ? c->head_len - 3 : 0;
        c->head_len += (size_t)n;
        char *end = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
        if (end == NULL) {
            if (c->head_len == HEAD_MAX)
                reopen(w, c);
            return;
        }
        size_t head_end = (size_t)(end - c->head) + 4;
        size_t extra = c->head_len - head_end; /* body bytes read with the head */
        if (parse_head(c, head_end) != 0) {
            reopen(w, c);
            return;
        }
        c->body_left -= (int64_t)extra;
        if (c->body_left > 0) { /* the rest is usually there already */
            n = recv(c->fd, NULL, (size_t)c->body_left, MSG_TRUNC | MSG_DONTWAIT);
            if (n > 0)
                c->body_left -= n;
        }
    } else {
        n = recv(c->fd, NULL, (size_t)c->body_left, MSG_TRUNC);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            reopen(w, c);
            return;
        }
        c->body_left -= n;
    }
    if (c->body_left > 0)
        return;
    int64_t now = now_ns();
    if (c->body_left < 0) { /* bytes past the announced length */
        reopen(w, c);
        return;
    }
    if (now >= deadline_ns)
        return;
    answered(w, c, now);
    if (c->close)
        renew(w, c);
    else if (send_request(c) != 0)
        reopen(w, c);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (size_t i = 0; i < w->nconns; i++)
        if (open_conn(w, &w->conns[i]) != 0)
            w->socket_errors++;
    pthread_barrier_wait(&connected);
    pthread_barrier_wait(&started);
    for (size_t i = 0; i < w->nconns; i++)
        if (w->conns[i].fd >= 0 && send_request(&w->conns[i]) != 0)
            reopen(w, &w->conns[i]);
    struct epoll_event ev[EVENTS];
    while (now_ns() < deadline_ns) {
        int n = epoll_wait(w->epoll_fd, ev, EVENTS, 100);
        for (int i = 0; i < n; i++)
            on_readable(w, ev[i].data.ptr);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: http_load PORT PATH CONNECTIONS SECONDS [THREADS]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    size_t conns = (size_t)atol(argv[3]);
    double seconds = atof(argv[4]);
    size_t nthreads = argc == 6 ? (size_t)atol(argv[5]) : 1;
    if (port <= 0 || conns == 0 || seconds <= 0 || nthreads == 0 || nthreads > conns) {
        fprintf(stderr, "http_load: bad arguments\n");
        return 2;
    }
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", argv[2], port);
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    struct worker *ws = calloc(nthreads, sizeof *ws);
    struct conn *all = calloc(conns, sizeof *all);
    pthread_barrier_init(&connected, NULL, (unsigned)nthreads + 1);
    pthread_barrier_init(&started, NULL, (unsigned)nthreads + 1);
    deadline_ns = INT64_MAX;
    for (size_t t = 0, first = 0; t < nthreads; t++) {
        struct worker *w = &ws[t];
        w->nconns = conns / nthreads + (t < conns % nthreads);
        w->conns = all + first;
        first += w->nconns;
        w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        w->histogram = calloc(BUCKETS, sizeof *w->histogram);
        pthread_create(&w->thread, NULL, worker_main, w);
    }
    /* every thread has its connections open: the clock starts */
    pthread_barrier_wait(&connected);
    double cpu0 = cpu_seconds();
    int64_t t0 = now_ns();
    deadline_ns = t0 + (int64_t)(seconds * 1e9);
    pthread_barrier_wait(&started);
    uint64_t requests = 0, bytes = 0, non200 = 0, errors = 0;
    int64_t body_len = 0;
    uint32_t *histogram = calloc(BUCKETS, sizeof *histogram);
    for (size_t t = 0; t < nthreads; t++) {
        struct worker *w = &ws[t];
        pthread_join(w->thread, NULL);
        requests += w->requests;
        bytes += w->bytes;
        non200 += w->non200;
        errors += w->socket_errors;
        if (w->body_len != 0)
            body_len = body_len == 0 || body_len == w->body_len ? w->body_len : -1;
        for (size_t b = 0; b < BUCKETS; b++)
            histogram[b] += w->histogram[b];
    }
    double cpu = cpu_seconds() - cpu0;
    double pct[2] = {0.50, 0.99}, ms[2] = {0, 0};
    for (int p = 0; p < 2; p++) {
        uint64_t want = (uint64_t)((double)requests * pct[p]), seen = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            seen += histogram[b];
            if (seen > want) {
                ms[p] = (double)((b + 1) * BUCKET_US) / 1000.0;
                break;
            }
        }
    }
    printf("requests %llu rate %.0f bytes %llu body_bytes %lld non200 %llu socket_errors %llu "
           "p50_ms %.2f p99_ms %.2f cpu_s %.3f\n",
           (unsigned long long)requests, (double)requests / seconds, (unsigned long long)bytes,
           (long long)body_len, (unsigned long long)non200, (unsigned long long)errors, ms[0],
           ms[1], cpu);
    bool ok = body_len > 0 && non200 == 0 && bytes == requests * (uint64_t)body_len;
    return ok ? 0 : 1;
}
