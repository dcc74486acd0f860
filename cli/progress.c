/* Progress bar: see progress.h. */
#include "cli/progress.h"

#include <stdio.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(struct cli_progress *p, bool enabled, const char *label)
{
    p->enabled = enabled;
    p->label = label;
    p->started = now_seconds();
    p->drawn = 0;
}

void cli_progress_update(struct cli_progress *p, const char *phase, uint64_t done, uint64_t total)
{
    if (!p->enabled)
        return;
    double t = now_seconds();
    if (t - p->started < 0.5 || t - p->drawn < 0.1)
        return;
    p->drawn = t;
    if (total == 0) {
        fprintf(stderr, "\r%s: %s %llu\033[K", p->label, phase, (unsigned long long)done);
    } else {
        enum { WIDTH = 30 };
        unsigned filled = (unsigned)(done * WIDTH / total);
        char bar[WIDTH + 1];
        for (unsigned i = 0; i < WIDTH; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r%s: %-8s [%s] %3u%%\033[K", p->label, phase, bar,
                (unsigned)(done * 100 / total));
    }
    fflush(stderr);
}

void cli_progress_done(struct cli_progress *p)
{
    if (p->enabled && p->drawn > 0)
        fputs("\r\033[K", stderr);
    p->drawn = 0;
}
