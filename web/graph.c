/* Charts: RRDtool renders them in the store (store_graph serialises librrd's
 * graph function, which is not thread-safe in 1.7.2); here they are only
 * asked for with the request's range and size. */
#include "web/web_int.h"

int web_graph_build(struct store *st, const struct store_view *view, const struct web_key *key,
                    bool png, struct web_body *out, struct kpi_error *err)
{
#ifdef KPI_HAVE_STORE_GRAPH
    struct store_graph_options g = {.from_day = key->from,
                                    .to_day = key->to,
                                    .width = key->width,
                                    .height = key->height,
                                    .png = png};
    void *image = NULL;
    size_t size = 0;
    int rc = store_graph(st, view, key->team, key->indicator, &g, &image, &size, err);
    if (rc != 0)
        return rc;
    *out = (struct web_body){.data = image, .len = size, .borrowed = false};
    return 0;
#else
    /* Transitional: built before store/ had store_graph (see EmbedAssets.cmake). */
    (void)st;
    (void)view;
    (void)key;
    (void)png;
    (void)out;
    return kpi_fail(err, KPI_ESYSTEM, "graphs are not available in this build");
#endif
}
