/* The parser's own limit: a bare libcsv pass over a file with callbacks that
 * only count (the flags kpi's reader uses). Usage: csv_bare FILE */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>

struct counts {
    unsigned long fields, rows;
};

static void on_field(void *data, size_t len, void *ctx)
{
    (void)data;
    (void)len;
    ((struct counts *)ctx)->fields++;
}

static void on_row(int term, void *ctx)
{
    (void)term;
    ((struct counts *)ctx)->rows++;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: csv_bare FILE\n", stderr);
        return 1;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 3;
    }
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0)
        return 3;
    static char buf[1 << 16];
    struct counts counts = {0, 0};
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (csv_parse(&parser, buf, n, on_field, on_row, &counts) != n) {
            fprintf(stderr, "csv_bare: %s\n", csv_strerror(csv_error(&parser)));
            return 2;
        }
    }
    csv_fini(&parser, on_field, on_row, &counts);
    csv_free(&parser);
    fclose(f);
    printf("%lu rows, %lu fields\n", counts.rows, counts.fields);
    return 0;
}
