/*
 * The server's take-up, in process (docs/PERFORMANCE.md, "History"): on a
 * data directory of bench/history_gen, ROUNDS commits of one more day for
 * its 2,000 series, each followed by what `kpi serve` does to take it up --
 * store_view_update, then the analysis computed again in full
 * (report_analysis_open) and from the previous one (report_analysis_update)
 * -- and then the document of one series (t007/k3 in those directories, as
 * bench/history.sh polls it), timed (CPU of this thread, and wall); the two
 * analyses' all-drift and alerts documents are compared byte for byte.
 *
 *   takeup DIR ROUNDS       (DIR is written: use a copy)
 */
#include "report/report.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const struct kpi_error *err)
{
    fprintf(stderr, "takeup: %s: %s\n", what, err->message);
    exit(3);
}

/* One more day (after the view's last one) for every series of the view. */
static void commit_day(struct store *st, const struct store_view *v, int64_t day)
{
    struct store_txn *txn = NULL;
    struct kpi_error err = {0};
    if (store_txn_begin(st, &txn, &err) != 0)
        die("begin", &err);
    for (size_t i = 0; i < store_view_series_count(v); i++) {
        struct store_series s;
        store_view_series(v, i, &s);
        size_t t, k;
        if (store_txn_resolve_team(txn, store_view_team(v, s.team)->id, false, &t, NULL, &err) ||
            store_txn_resolve_indicator(txn, store_view_indicator(v, s.indicator)->id, false, &k,
                                        NULL, &err) ||
            store_txn_set(txn, t, k, day, STORE_VALUE,
                          (double)(((int64_t)(7 * t + 13 * k) + day) % 997) + 0.5, NULL, &err) != 0)
            die("set", &err);
    }
    struct store_commit_info info = {
        .author = "takeup", .kind = "import", .source = "day", .sha256 = NULL, .rows = 0};
    store_txn_describe(txn, &info);
    if (store_txn_commit(txn, NULL, NULL, &err) != 0)
        die("commit", &err);
}

static char *docs(struct query *q, int64_t day)
{
    struct query_options opt;
    query_options_default(&opt, day);
    char *a = NULL, *b = NULL;
    struct kpi_error err = {0};
    if (report_all_drift_doc(q, &opt, &a, &err) != 0 || report_alerts_doc(q, &opt, NULL, &b, &err))
        die("documents", &err);
    size_t la = strlen(a), lb = strlen(b);
    char *out = malloc(la + lb + 1);
    if (out == NULL)
        exit(3);
    memcpy(out, a, la);
    memcpy(out + la, b, lb + 1);
    free(a);
    free(b);
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: takeup DIR ROUNDS\n");
        return 1;
    }
    int rounds = atoi(argv[2]);
    struct kpi_error err = {0};
    struct store_options so = {.create = false, .threads = 0};
    struct store *st = NULL;
    struct store_view *v = NULL;
    struct query *q = NULL;
    if (store_open(argv[1], &so, &st, &err) != 0 || store_view_open_shared(st, &v, &err) != 0 ||
        report_analysis_open(v, true, &q, &err) != 0)
        die(argv[1], &err);
    int64_t day = 0;
    for (size_t i = 0; i < store_view_series_count(v); i++) {
        struct store_series s;
        store_view_series(v, i, &s);
        if (s.count > 0 && s.points[s.count - 1].period > day)
            day = s.points[s.count - 1].period;
    }
    printf("round update_cpu_ms update_wall_ms full_cpu_ms full_wall_ms incr_cpu_ms "
           "incr_wall_ms series_doc_cpu_ms series_doc_wall_ms same\n");
    for (int r = 1; r <= rounds; r++) {
        commit_day(st, v, ++day);
        struct store_view *nv = NULL;
        struct query *full = NULL, *incr = NULL;
        double c0 = ms(CLOCK_THREAD_CPUTIME_ID), w0 = ms(CLOCK_MONOTONIC);
        if (store_view_update(st, v, &nv, &err) != 0)
            die("update", &err);
        double c1 = ms(CLOCK_THREAD_CPUTIME_ID), w1 = ms(CLOCK_MONOTONIC);
        if (report_analysis_open(nv, true, &full, &err) != 0)
            die("full", &err);
        double c2 = ms(CLOCK_THREAD_CPUTIME_ID), w2 = ms(CLOCK_MONOTONIC);
        if (report_analysis_update(nv, q, &incr, &err) != 0)
            die("incremental", &err);
        double c3 = ms(CLOCK_THREAD_CPUTIME_ID), w3 = ms(CLOCK_MONOTONIC);
        /* the answer bench/history.sh polls: one series' document */
        char *series = NULL;
        if (report_series_doc(incr, 7 % store_view_team_count(nv),
                              3 % store_view_indicator_count(nv), INT64_MIN, INT64_MAX, &series,
                              &err) != 0)
            die("series", &err);
        double c4 = ms(CLOCK_THREAD_CPUTIME_ID), w4 = ms(CLOCK_MONOTONIC);
        free(series);
        char *a = docs(full, day), *b = docs(incr, day);
        printf("%d %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %s\n", r, c1 - c0, w1 - w0, c2 - c1,
               w2 - w1, c3 - c2, w3 - w2, c4 - c3, w4 - w3, strcmp(a, b) == 0 ? "yes" : "NO");
        fflush(stdout);
        free(a);
        free(b);
        query_free(full);
        query_free(q);
        store_view_free(v);
        q = incr;
        v = nv;
    }
    query_free(q);
    store_view_free(v);
    store_close(st);
    return 0;
}
