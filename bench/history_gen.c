/*
 * The large data directories of bench/history.sh, written through the store
 * API (commits, hash chain, RRD files: `kpi check` is clean on them), not by
 * SQL behind kpi's back.
 *
 *   history_gen DIR DAYS LAST_DAY [TAIL]
 *
 * 2,000 daily series (teams t000..t199 x indicators k0..k9), DAYS days
 * ending on LAST_DAY (YYYY-MM-DD), value (7 t + 13 k + d) % 997 + 0.5 on day
 * d (days since 1970-01-01; the formula of bench/history.sh's CSV files).
 * Commit 1 is the indicators; then the first DAYS - TAIL days go in by 20
 * teams (200 series) per commit, every series new to its commit; then the
 * last TAIL days (default 100) one commit per day for all 2,000 series, so
 * that the directory has history to read (`--known-at` 100 commits back).
 * DIR must not exist. Prints the seconds each phase took.
 *
 *   history_gen --convert DIR
 *
 * converts DIR's database to the latest format (store_upgrade: what the
 * first commit into it would do) and prints the seconds it took.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TEAMS = 200, KPIS = 10, TEAMS_PER_COMMIT = 20 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct kpi_error *err)
{
    fprintf(stderr, "history_gen: %s: %s\n", what, err->message);
    exit(3);
}

static struct store_txn *begin(struct store *st)
{
    struct store_txn *txn = NULL;
    struct kpi_error err = {0};
    if (store_txn_begin(st, &txn, &err) != 0)
        die("begin", &err);
    return txn;
}

static void commit(struct store_txn *txn, const char *source)
{
    struct store_commit_info info = {
        .author = "history_gen", .kind = "import", .source = source, .sha256 = NULL, .rows = 0};
    store_txn_describe(txn, &info);
    struct kpi_error err = {0};
    if (store_txn_commit(txn, NULL, NULL, &err) != 0)
        die("commit", &err);
}

static size_t ref(struct store_txn *txn, bool team, int n)
{
    char id[16];
    snprintf(id, sizeof id, team ? "t%03d" : "k%d", n);
    size_t i;
    struct kpi_error err = {0};
    int rc = team ? store_txn_resolve_team(txn, id, true, &i, NULL, &err)
                  : store_txn_resolve_indicator(txn, id, true, &i, NULL, &err);
    if (rc != 0)
        die(id, &err);
    return i;
}

/* The points of days [d0, d1) of every indicator of teams [t0, t1). */
static void put_days(struct store_txn *txn, int t0, int t1, int64_t d0, int64_t d1)
{
    for (int t = t0; t < t1; t++) {
        size_t ti = ref(txn, true, t);
        for (int k = 0; k < KPIS; k++) {
            size_t ki = ref(txn, false, k);
            for (int64_t d = d0; d < d1; d++) {
                struct kpi_error err = {0};
                double v = (double)((7 * t + 13 * k + d) % 997) + 0.5;
                if (store_txn_set(txn, ti, ki, d, STORE_VALUE, v, NULL, &err) != 0)
                    die("set", &err);
            }
        }
    }
}

/* history_gen --convert DIR */
static int convert(const char *dir)
{
    struct store_options so = {.create = false, .threads = 0};
    struct store *st = NULL;
    struct kpi_error err = {0};
    if (store_open(dir, &so, &st, &err) != 0)
        die(dir, &err);
    double t0 = now_s();
    if (store_upgrade(st, &err) != 0)
        die("convert", &err);
    printf("history_gen: %s converted in %.1f s\n", dir, now_s() - t0);
    store_close(st);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--convert") == 0)
        return convert(argv[2]);
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: history_gen DIR DAYS LAST_DAY [TAIL]\n");
        return 1;
    }
    long days = strtol(argv[2], NULL, 10), tail = argc > 4 ? strtol(argv[4], NULL, 10) : 100;
    int64_t last = 0;
    struct kpi_error err = {0};
    if (days < 1 || tail < 0 || tail > days || kpi_date_parse(argv[3], NULL, &last, &err) != 0) {
        fprintf(stderr, "history_gen: bad DAYS, TAIL or LAST_DAY\n");
        return 1;
    }
    int64_t first = last - days + 1, bulk_end = last - tail + 1;
    struct store_options so = {.create = true, .threads = 0};
    struct store *st = NULL;
    if (store_open(argv[1], &so, &st, &err) != 0)
        die(argv[1], &err);
    double t0 = now_s();
    struct store_txn *txn = begin(st);
    for (int k = 0; k < KPIS; k++) {
        char id[16], name[16];
        snprintf(id, sizeof id, "k%d", k);
        snprintf(name, sizeof name, "K%d", k);
        struct kpi_indicator_patch p = {
            .ref = id, .name = name, .set = KPI_SET_PERIOD, .period = KPI_PERIOD_DAY};
        if (store_txn_patch_indicator(txn, &p, false, NULL, &err) != 0)
            die(id, &err);
    }
    commit(txn, "indicators");
    for (int t = 0; t < TEAMS && first < bulk_end; t += TEAMS_PER_COMMIT) {
        txn = begin(st);
        put_days(txn, t, t + TEAMS_PER_COMMIT, first, bulk_end);
        commit(txn, "bulk");
    }
    double t1 = now_s();
    for (int64_t d = bulk_end; d <= last; d++) {
        txn = begin(st);
        put_days(txn, 0, TEAMS, d, d + 1);
        commit(txn, "day");
    }
    double t2 = now_s();
    store_close(st);
    printf("history_gen: %ld days x 2000 series: bulk %.1f s, %ld daily commits %.1f s\n", days,
           t1 - t0, tail, t2 - t1);
    return 0;
}
