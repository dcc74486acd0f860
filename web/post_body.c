/* The part every POST-only endpoint shares (POST /api/v1/imports,
 * POST .../notes): who asks, 405 for another method, 413 for a body
 * announced too large at the first call, then the body counted against
 * its limit as it arrives, kept in memory or handed to a sink. */
#include "web/access.h"

#include <stdlib.h>
#include <string.h>

bool web_post_begin(struct web_server *srv, struct MHD_Connection *c, const char *method,
                    struct web_exchange *x, uint64_t limit, const char *too_large,
                    struct web_principal *who, enum MHD_Result *ret)
{
    bool post = strcmp(method, "POST") == 0;
    if (!web_auth_request(srv, c, post, who, ret))
        return true;
    if (who->token != NULL)
        snprintf(x->user, sizeof x->user, "%s", who->token->name);
    if (!post) {
        web_principal_release(who);
        static const char body[] =
            "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"method not allowed\"}}";
        struct MHD_Response *r = MHD_create_response_from_buffer(
            sizeof body - 1, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
        if (r == NULL)
            return *ret = MHD_NO, true;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
        web_access_headers(srv->access, r);
        *ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
        MHD_destroy_response(r);
        return true;
    }
    const char *length =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length != NULL && strtoull(length, NULL, 10) > limit) {
        web_principal_release(who);
        *ret = web_access_error(srv, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", too_large);
        return true;
    }
    return false;
}

enum web_post_step web_post_read(struct web_post_body *b, const char *upload_data,
                                 size_t *upload_data_size)
{
    if (*upload_data_size == 0)
        return WEB_POST_DONE;
    size_t len = *upload_data_size;
    *upload_data_size = 0;
    if (b->too_large || b->received + len > b->limit) {
        b->too_large = true;
        return b->drain ? WEB_POST_MORE : WEB_POST_CLOSE;
    }
    if (b->sink != NULL && b->sink(b->ctx, upload_data, len) != 0)
        return WEB_POST_CLOSE;
    b->received += len;
    if (b->sink == NULL && kpi_buf_append(&b->data, upload_data, len) != 0)
        return WEB_POST_CLOSE;
    return WEB_POST_MORE;
}
