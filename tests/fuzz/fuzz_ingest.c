/*
 * libFuzzer target for ingest/: the input is written to a temporary file and
 * read to its end through the public reader, as `kpi import` does. The first
 * byte picks the options (kind, encoding, delimiter, decimal, --team/--kpi)
 * so that every layout and both encodings are reached; the rest is the file.
 *
 * Build and run (clang): cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang \
 *   -DKPI_FUZZ=ON && cmake --build build/fuzz --target fuzz_ingest && \
 *   build/fuzz/tests/fuzz_ingest -max_total_time=60
 */
#include "ingest/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The length of a cell's text, checked against what the cell says, and its
 * key read as the import reads it (the slack ingest.h promises). */
static size_t touch_text(const char *text, size_t len)
{
    if (strlen(text) != len)
        abort();
    struct kpi_key key;
    if (len > 0 && len <= KPI_KEY_MAX)
        kpi_key_of(text, len, &key);
    return len;
}

struct touch {
    size_t total;
    bool catalog; /* row->team and row->indicator are filled */
    struct ingest_reader *r;
    FILE *rejects;
};

/* Touch everything the reader hands out. */
static int touch_row(void *ctx, const struct ingest_row *row)
{
    struct touch *t = ctx;
    size_t *total = &t->total;
    for (size_t i = 0; i < row->field_count; i++)
        *total += strlen(row->fields[i]);
    for (size_t i = 0; i < row->cell_count; i++)
        *total += touch_text(row->cells[i].team, row->cells[i].team_len) +
                  touch_text(row->cells[i].kpi, row->cells[i].kpi_len);
    if (t->catalog && row->team.ref != NULL)
        *total += strlen(row->team.ref);
    if (t->catalog && row->indicator.ref != NULL)
        *total += strlen(row->indicator.ref);
    return 0;
}

static int touch_bad(void *ctx, const struct ingest_row *row, const struct kpi_error *why)
{
    struct touch *t = ctx;
    for (size_t i = 0; i < row->field_count; i++)
        t->total += strlen(row->fields[i]);
    t->total += strlen(why->message);
    if (t->rejects != NULL)
        ingest_rejects_row(t->r, t->rejects, row->fields, row->field_count, why->message);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned pick = data[0];
    data++;
    size--;

    char path[] = "/tmp/fuzz_ingest-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);

    static const char delimiters[] = {0, ',', ';', '\t'};
    struct ingest_options o = {0};
    o.kind = (enum ingest_kind)(pick % 5);
    o.encoding = (enum ingest_encoding)((pick / 5) % 3);
    o.delimiter = delimiters[(pick / 15) % 4];
    o.decimal = (pick & 0x40) ? ',' : 0;
    if (pick & 0x80) {
        o.team = "fuzz-team";
        o.kpi = "fuzz-kpi";
    }
    if (pick % 7 == 3)
        o.header_line = 2; /* --header-line 2; otherwise title lines are searched */

    struct ingest_reader *r = NULL;
    struct kpi_error err = {0};
    if (ingest_open(path, "fuzz.csv", &o, &r, &err) == 0) {
        struct touch t = {0, ingest_layout(r) == INGEST_LAYOUT_CATALOG, r, NULL};
        t.rejects = tmpfile(); /* every bad record is written as --rejects would */
        if (t.rejects != NULL)
            ingest_rejects_header(r, t.rejects);
        const struct ingest_sink sink = {touch_row, touch_bad, &t};
        (void)ingest_read(r, &sink, &err);
        for (size_t i = 0; i < ingest_header_count(r); i++)
            t.total += strlen(ingest_header(r, i));
        (void)t.total;
        (void)ingest_encoding(r);
        (void)ingest_header_line(r);
        if (t.rejects != NULL)
            fclose(t.rejects);
        ingest_close(r);
    }
    unlink(path);
    return 0;
}
