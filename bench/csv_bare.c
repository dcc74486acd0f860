/* The parser's own limit: a bare libcsv pass over a file with callbacks that
 * only count (the flags kpi's reader uses).
 *
 *   csv_bare FILE            one pass on one thread
 *   csv_bare --halves FILE   the two halves of the file (cut after a '\n') on
 *                            two threads at once: what a second core gives
 *                            libcsv on this machine
 */
#include <csv.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pass {
    int fd;
    off_t from, to;
    unsigned long fields, rows;
    int status;
    unsigned char delim;
};

static void on_field(void *data, size_t len, void *ctx)
{
    (void)data;
    (void)len;
    ((struct pass *)ctx)->fields++;
}

static void on_row(int term, void *ctx)
{
    (void)term;
    ((struct pass *)ctx)->rows++;
}

static void *parse(void *arg)
{
    struct pass *p = arg;
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL |
                              CSV_REPALL_NL) != 0) {
        p->status = 3;
        return NULL;
    }
    csv_set_delim(&parser, p->delim);
    enum { CHUNK = 1 << 16 };
    char *buf = malloc(CHUNK);
    if (buf == NULL) {
        csv_free(&parser);
        p->status = 3;
        return NULL;
    }
    for (off_t pos = p->from; pos < p->to;) {
        size_t want = p->to - pos < CHUNK ? (size_t)(p->to - pos) : CHUNK;
        ssize_t n = pread(p->fd, buf, want, pos);
        if (n <= 0)
            break;
        if (csv_parse(&parser, buf, (size_t)n, on_field, on_row, p) != (size_t)n) {
            fprintf(stderr, "csv_bare: %s\n", csv_strerror(csv_error(&parser)));
            p->status = 2;
            break;
        }
        pos += n;
    }
    csv_fini(&parser, on_field, on_row, p);
    csv_free(&parser);
    free(buf);
    return NULL;
}

/* Just after the first '\n' at or after pos (or size). */
static off_t cut_after_newline(int fd, off_t pos, off_t size)
{
    char buf[4096];
    while (pos < size) {
        ssize_t n = pread(fd, buf, sizeof buf, pos);
        if (n <= 0)
            break;
        const char *nl = memchr(buf, '\n', (size_t)n);
        if (nl != NULL)
            return pos + (nl - buf) + 1;
        pos += n;
    }
    return size;
}

int main(int argc, char **argv)
{
    int halves = argc == 3 && strcmp(argv[1], "--halves") == 0;
    if (argc != 2 + halves) {
        fputs("usage: csv_bare [--halves] FILE\n", stderr);
        return 1;
    }
    const char *path = argv[1 + halves];
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(path);
        return 3;
    }
    /* the delimiter as kpi detects it: ';' when the header has more of them */
    char head[4096];
    ssize_t hn = pread(fd, head, sizeof head, 0);
    size_t commas = 0, semis = 0;
    for (ssize_t i = 0; i < hn && head[i] != '\n'; i++) {
        commas += head[i] == ',';
        semis += head[i] == ';';
    }
    unsigned char delim = semis > commas ? ';' : ',';
    struct pass p[2] = {{fd, 0, st.st_size, 0, 0, 0, delim},
                        {fd, st.st_size, st.st_size, 0, 0, 0, delim}};
    if (halves) {
        p[0].to = p[1].from = cut_after_newline(fd, st.st_size / 2, st.st_size);
        pthread_t second;
        if (pthread_create(&second, NULL, parse, &p[1]) != 0)
            return 3;
        parse(&p[0]);
        pthread_join(second, NULL);
    } else {
        parse(&p[0]);
    }
    close(fd);
    if (p[0].status != 0 || p[1].status != 0)
        return p[0].status ? p[0].status : p[1].status;
    printf("%lu rows, %lu fields\n", p[0].rows + p[1].rows, p[0].fields + p[1].fields);
    return 0;
}
