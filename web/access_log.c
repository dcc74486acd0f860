/* The per-exchange state and the access log (SPEC §9): one line per request
 * in the Combined Log Format,
 *   host - user [day/Mon/year:hh:mm:ss +0000] "METHOD URI VERSION" status bytes "referer" "agent"
 * with the token's name as user ("-" without one). The Authorization header
 * is never logged. Bytes are "-": libmicrohttpd does not tell how many a
 * response sent, and the status is "-" when the client went away before
 * one was queued. Quotes, backslashes, control and non-ASCII bytes of the
 * URI and headers are written as \xHH, so a line cannot be forged. */
#include "web/access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LOGGED_URI_MAX 2048

void *web_exchange_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    struct web_server *srv = cls;
    size_t len = srv->access->log != NULL ? strnlen(uri, LOGGED_URI_MAX) : 0;
    struct web_exchange *x = calloc(1, sizeof *x + len + 1);
    if (x == NULL)
        return NULL; /* the handler then refuses the request (no state) */
    x->start = (int64_t)time(NULL);
    memcpy(x->line, uri, len);
    x->line[len] = '\0';
    return x;
}

static void put_escaped(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
            fprintf(f, "\\x%02X", *p);
        else
            fputc(*p, f);
    }
}

static void log_line(struct web_server *srv, struct MHD_Connection *c, const struct web_exchange *x)
{
    char host[INET6_ADDRSTRLEN] = "-";
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, host,
                  sizeof host);
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, host,
                  sizeof host);
    const union MHD_ConnectionInfo *st =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    unsigned status = st ? st->http_status : 0;
    const char *referer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER);
    const char *agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    time_t t = (time_t)x->start;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[40];
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    struct web_access *a = srv->access;
    pthread_mutex_lock(&a->log_lock);
    fprintf(a->log, "%s - %s [%s] \"%s ", host, x->user[0] ? x->user : "-", when,
            x->method[0] ? x->method : "-");
    put_escaped(a->log, x->line);
    fprintf(a->log, " %s\" ", x->version[0] ? x->version : "HTTP/1.1");
    if (status > 0)
        fprintf(a->log, "%u - \"", status);
    else
        fputs("- - \"", a->log);
    put_escaped(a->log, referer ? referer : "-");
    fputs("\" \"", a->log);
    put_escaped(a->log, agent ? agent : "-");
    fputs("\"\n", a->log);
    fflush(a->log);
    pthread_mutex_unlock(&a->log_lock);
}

void web_exchange_end(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct web_server *srv = cls;
    struct web_exchange *x = *con_cls;
    if (x == NULL)
        return;
    if (srv->access->log != NULL)
        log_line(srv, c, x);
    web_upload_free(x->upload);
    web_note_post_free(x->note);
    web_render_free(x->render);
    free(x);
    *con_cls = NULL;
}
