/*
 * libFuzzer target for the upload path of POST /api/v1/imports (SPEC §9):
 * the input is the body, spooled to a file as the server spools it, and
 * imported by the importer of `kpi import` with the server's hooks (bad rows
 * handed back, a scoped token's check of every row's team) as a dry run
 * against a data directory holding a small catalog. The first byte picks
 * the options (kind, delimiter, decimal, encoding, strict, on_error, scope).
 *
 *   cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DKPI_FUZZ=ON && \
 *   cmake --build build/fuzz --target fuzz_upload && \
 *   build/fuzz/tests/fuzz_upload -max_total_time=60
 */
#include "cli/import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/kpi-fuzz-upload-XXXXXX";
static char body[64];
static bool ready;

static void init(void)
{
    if (mkdtemp(dir) == NULL)
        abort();
    char catalog[128];
    snprintf(catalog, sizeof catalog, "%s/teams.csv", dir);
    FILE *f = fopen(catalog, "w");
    if (f == NULL)
        abort();
    fputs("team,name,parent\nacme,Acme,\nops,Opérations,acme\nsales,Sales,acme\n", f);
    fclose(f);
    char data[128];
    snprintf(data, sizeof data, "%s/data", dir);
    struct store *st = NULL;
    struct store_options so = {.create = true, .threads = 1};
    struct import_settings s = {.quiet = true};
    s.ingest.kind = INGEST_KIND_TEAMS;
    if (store_open(data, &so, &st, NULL) != 0 || import_file(st, catalog, &s) != 0)
        abort();
    store_close(st);
    snprintf(body, sizeof body, "%s/body.csv", dir);
    ready = true;
}

static void count_bad(void *ctx, const char *message)
{
    size_t *n = ctx;
    if (message == NULL || message[0] == '\0')
        abort();
    (*n)++;
}

/* A scoped token of "ops": the team or an ancestor must be ops. */
static bool ops_only(void *ctx, const struct store_txn *txn, size_t team)
{
    (void)ctx;
    return strcmp(store_txn_team(txn, team)->id, "ops") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        init();
    if (size == 0)
        return 0;
    uint8_t o = data[0];
    FILE *f = fopen(body, "wb");
    if (f == NULL || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f) != 0)
        abort();
    size_t bad = 0;
    struct import_hooks hooks = {.ctx = &bad, .bad_row = count_bad};
    if (o & 0x80) {
        hooks.team_allowed = ops_only;
    }
    struct import_settings s = {.dry_run = true,
                                .quiet = true,
                                .json = true,
                                .strict = (o & 0x40) != 0,
                                .skip_errors = (o & 0x20) != 0,
                                .display_name = "upload.csv",
                                .hooks = &hooks};
    static const enum ingest_kind kinds[] = {INGEST_KIND_AUTO, INGEST_KIND_OBSERVATIONS,
                                             INGEST_KIND_TARGETS, INGEST_KIND_TEAMS};
    s.ingest.kind = kinds[o & 3];
    s.ingest.delimiter = (o & 4) ? ';' : 0;
    s.ingest.decimal = (o & 8) ? ',' : 0;
    s.ingest.encoding = (o & 16) ? INGEST_ENCODING_CP1252 : INGEST_ENCODING_AUTO;
    if ((o & 3) == 1 && (o & 0x10))
        s.ingest.team = "ops";
    char path[128];
    snprintf(path, sizeof path, "%s/data", dir);
    struct store *st = NULL;
    struct store_options so = {.read_only = true, .threads = 1};
    if (store_open(path, &so, &st, NULL) != 0)
        abort();
    int code = import_file(st, body, &s);
    store_close(st);
    if (code == 0 && bad != 0 && !s.skip_errors)
        abort(); /* bad rows but success: the 422 would be lost */
    free(hooks.summary_json);
    return 0;
}
