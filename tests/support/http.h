/*
 * A tiny blocking HTTP/1.1 client for the server tests: connect to
 * 127.0.0.1, send a request with extra headers, read the status line, the
 * headers and the body (Content-Length, chunked, or up to EOF). Test code
 * only: every system failure aborts the test (ck_abort_msg); every read is
 * bounded by a poll() timeout, so a server that hangs fails the test instead
 * of hanging it.
 */
#ifndef KPI_TEST_HTTP_H
#define KPI_TEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define TH_TIMEOUT_MS 10000 /* the longest a test waits for one read */

struct th_response {
    int status;    /* e.g. 200 */
    char *headers; /* the header lines, "Name: value\r\n"..., NUL-terminated */
    char *body;    /* NUL-terminated (binary bodies: use body_len) */
    size_t body_len;
};

/* A connected socket to 127.0.0.1:port. */
int th_connect(unsigned port);

/* Like th_connect, but -1 when nothing listens there yet (for polling a
 * server that is starting). */
int th_try_connect(unsigned port);

/* Write all of data (len bytes) to fd. */
void th_send(int fd, const char *data, size_t len);

/* Send "METHOD path HTTP/1.1" with Host and the extra header lines (each
 * ending in "\r\n"; may be NULL) on fd. */
void th_send_request(int fd, const char *method, const char *path, const char *headers);

/* Read one response from fd. head: the request was HEAD (no body). Returns
 * false when the server closed the connection before a status line. */
bool th_read_response(int fd, bool head, struct th_response *r);

/* One request on a fresh connection, closed afterwards. */
void th_request(unsigned port, const char *method, const char *path, const char *headers,
                struct th_response *r);

/* GET path on a fresh connection. */
void th_get(unsigned port, const char *path, struct th_response *r);

/* The value of a response header (case-insensitive name), copied into buf
 * (cap bytes); NULL when absent. */
const char *th_header(const struct th_response *r, const char *name, char *buf, size_t cap);

void th_response_free(struct th_response *r);

/* Wait until the server closes fd (read returns 0), up to timeout_ms.
 * Returns true when it did (any pending data is discarded). */
bool th_wait_eof(int fd, int timeout_ms);

/* True when fd is still open with nothing to read: the server has neither
 * closed it nor sent anything (a poll that does not wait). */
bool th_is_quiet(int fd);

/* Raise the soft open-files limit to at least want descriptors (up to the
 * hard limit); fails the test when the hard limit is lower. */
void th_want_files(unsigned want);

#endif
