/* What fresh memory costs on this machine: the time to touch MB megabytes
 * of newly allocated memory, one write per 4 KiB page. Each round waits
 * PAUSE seconds (the guest then hands its free memory back to the host),
 * then touches MB in 2 MiB huge pages (MADV_HUGEPAGE) — cold —, again —
 * warm: the pages just freed —, then in 4 KiB pages. The figures behind the
 * staging's memory layout (docs/ARCHITECTURE.md).
 *
 *   page_faults [MB [ROUNDS [PAUSE]]]     (default 24 MB, 5 rounds, 3 s)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { PAGE = 4096, HUGE_PAGE = 2 << 20 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Seconds to touch bytes of fresh memory, or a negative number. */
static double touch(size_t bytes, int advice)
{
    void *mem = NULL;
    if (posix_memalign(&mem, HUGE_PAGE, bytes) != 0)
        return -1;
    (void)madvise(mem, bytes, advice); /* advice only */
    volatile char *p = mem;
    double t0 = now();
    for (size_t i = 0; i < bytes; i += PAGE)
        p[i] = 1;
    double t1 = now();
    free(mem);
    return t1 - t0;
}

int main(int argc, char **argv)
{
    long mb = argc > 1 ? atol(argv[1]) : 24;
    long rounds = argc > 2 ? atol(argv[2]) : 5;
    long pause = argc > 3 ? atol(argv[3]) : 3;
    if (mb < 2 || mb > 4096 || rounds < 1 || rounds > 1000 || pause < 0 || pause > 60) {
        fprintf(stderr, "usage: page_faults [MB (2-4096) [ROUNDS (1-1000) [PAUSE (0-60 s)]]]\n");
        return 2;
    }
    size_t bytes = (size_t)mb << 20;
    double huge_pages = (double)(bytes / HUGE_PAGE), pages = (double)(bytes / PAGE);
    printf("| round | huge pages, cold: ms | per 2 MiB | huge pages, warm: ms | per 2 MiB "
           "| 4 KiB pages: ms | per 4 KiB |\n");
    printf("| --- | --- | --- | --- | --- | --- | --- |\n");
    for (long r = 1; r <= rounds; r++) {
        sleep((unsigned)pause);
        double cold = touch(bytes, MADV_HUGEPAGE), warm = touch(bytes, MADV_HUGEPAGE);
        double small = touch(bytes, MADV_NOHUGEPAGE);
        if (cold < 0 || warm < 0 || small < 0) {
            fprintf(stderr, "page_faults: out of memory\n");
            return 3;
        }
        printf("| %ld | %.1f | %.2f ms | %.1f | %.2f ms | %.1f | %.1f us |\n", r, cold * 1e3,
               cold * 1e3 / huge_pages, warm * 1e3, warm * 1e3 / huge_pages, small * 1e3,
               small * 1e6 / pages);
    }
    return 0;
}
