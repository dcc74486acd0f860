/* GET /api/v1/whoami: the token a request was answered for, so that the
 * dashboard knows whether to offer the upload (SPEC §8, §9; the route is a
 * decision of docs/DECISIONS.md). Without an Authorization header it only
 * says whether the server needs a token (what any 401 says); with one, it is
 * authenticated like every other route (web_access_gate). Never cached: two
 * tokens of one scope may differ in role. Names and team ids are ids
 * (kpi_id_valid), so they need no escaping in JSON. */
#include "web/access.h"

#include <stdlib.h>

int web_whoami_build(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    const struct web_token *t = rq->who->token;
    struct kpi_buf b = {0};
    int rc;
    if (t == NULL && rq->who->set == NULL) {
        /* tokens needed, none given (web_access_gate): only that */
        rc = kpi_buf_puts(&b, "{\"tokens\":true,\"name\":null,\"role\":null,\"teams\":[],"
                              "\"expires\":null}");
    } else if (t == NULL) {
        /* an open directory: anyone reads, nobody writes over HTTP */
        rc = kpi_buf_puts(&b, "{\"tokens\":false,\"name\":null,\"role\":\"read\",\"teams\":[],"
                              "\"expires\":null}");
    } else {
        rc = kpi_buf_printf(&b, "{\"tokens\":true,\"name\":\"%s\",\"role\":\"%s\",\"teams\":[",
                            t->name, t->role == WEB_ROLE_WRITE ? "write" : "read");
        for (size_t i = 0; rc == 0 && i < t->team_count; i++)
            rc = kpi_buf_printf(&b, "%s\"%s\"", i ? "," : "", t->teams[i]);
        char expires[KPI_LABEL_MAX];
        if (rc == 0 && t->expires_day != INT64_MAX)
            rc = kpi_buf_printf(&b, "],\"expires\":\"%s\"", kpi_day_label(t->expires_day, expires));
        else if (rc == 0)
            rc = kpi_buf_puts(&b, "],\"expires\":null");
        if (rc == 0)
            rc = kpi_buf_puts(&b, "}");
    }
    if (rc != 0) {
        kpi_buf_free(&b);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    *out = (struct web_body){.data = b.data, .len = b.len, .borrowed = false};
    return 0;
}
