/*
 * What attribution (SPEC §11) costs: the team drift document of every team
 * of a data directory, with and without "contributions" and "residual",
 * in one process on one prepared analysis (as the server holds it), rounds
 * alternating the two, medians reported (docs/PERFORMANCE.md, "Review").
 *
 *   attribution DIR AS_OF [ROUNDS]      (default 9 rounds)
 */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Every team's document; returns ms, adds the bytes to *bytes. */
static double all_docs(struct query *q, size_t teams, const struct query_options *o, bool with,
                       size_t *bytes)
{
    struct kpi_error err = {0};
    double t0 = now_ms();
    for (size_t t = 0; t < teams; t++) {
        char *json = NULL;
        if (report_team_drift_doc_with(q, t, o, with, &json, &err) != 0) {
            fprintf(stderr, "attribution: %s\n", err.message);
            exit(3);
        }
        *bytes += strlen(json);
        free(json);
    }
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: attribution DIR AS_OF [ROUNDS]\n");
        return 1;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 9;
    if (rounds < 1 || rounds > 99)
        rounds = 9;
    struct kpi_error err = {0};
    int64_t day;
    struct store *st = NULL;
    struct store_view *view = NULL;
    struct query *q = NULL;
    struct store_options so = {0};
    if (kpi_date_parse(argv[2], NULL, &day, &err) != 0 || store_open(argv[1], &so, &st, &err) ||
        store_view_open(st, &view, &err) || report_analysis_open(view, true, &q, &err)) {
        fprintf(stderr, "attribution: %s\n", err.message);
        return 3;
    }
    struct query_options o;
    query_options_default(&o, day);
    size_t teams = store_view_team_count(view), with_bytes = 0, without_bytes = 0;
    double with_ms[99], without_ms[99];
    for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            without_ms[r] = all_docs(q, teams, &o, false, &without_bytes);
            with_ms[r] = all_docs(q, teams, &o, true, &with_bytes);
        } else {
            with_ms[r] = all_docs(q, teams, &o, true, &with_bytes);
            without_ms[r] = all_docs(q, teams, &o, false, &without_bytes);
        }
    }
    qsort(with_ms, (size_t)rounds, sizeof(double), cmp_double);
    qsort(without_ms, (size_t)rounds, sizeof(double), cmp_double);
    double a = without_ms[rounds / 2], b = with_ms[rounds / 2];
    printf("teams %zu, rounds %d\n", teams, rounds);
    printf("without contributions: median %.1f ms (%.1f .. %.1f), %zu bytes\n", a, without_ms[0],
           without_ms[rounds - 1], without_bytes / (size_t)rounds);
    printf("with contributions:    median %.1f ms (%.1f .. %.1f), %zu bytes\n", b, with_ms[0],
           with_ms[rounds - 1], with_bytes / (size_t)rounds);
    printf("ratio %.3f\n", b / a);
    query_free(q);
    store_view_free(view);
    store_close(st);
    return 0;
}
