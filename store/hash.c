/*
 * hash.c — the canonical text of a commit, hashed with SHA-256.
 *
 * A commit's body digest covers, in this order, every catalog row it wrote
 * (teams by id, then indicators by id), every version it wrote (by team,
 * indicator, period, field) and every note it wrote (by team, indicator,
 * period); its hash covers its header (id, time, author, kind, source,
 * sha256, counts, teams), the previous commit's hash and that body digest.
 * Text fields are written as "<length>:<bytes>" so that no content can
 * imitate a separator; numbers as the 16 hex digits of their
 * IEEE-754 bits (exact, and independent of any locale); a missing number as
 * "null". commit.c computes it while writing, check.c again from what the
 * database holds.
 */
#include "store/store_int.h"

#include <math.h>
#include <string.h>

/* The canonical text is formatted by hand into a small buffer and handed to
 * SHA-256 in one piece per row (a commit of 1 M versions formatted with
 * snprintf spent more in vfprintf than in SHA-256 itself). The bytes are
 * exactly those of the printf formats named at each writer. */
struct canon {
    struct kpi_sha256 *s;
    size_t n;
    char b[256];
};

static void canon_flush(struct canon *c)
{
    if (c->n > 0)
        kpi_sha256_update(c->s, c->b, c->n);
    c->n = 0;
}

static void canon_bytes(struct canon *c, const char *p, size_t n)
{
    if (c->n + n > sizeof c->b) {
        canon_flush(c);
        if (n > sizeof c->b) {
            kpi_sha256_update(c->s, p, n);
            return;
        }
    }
    memcpy(c->b + c->n, p, n);
    c->n += n;
}

/* "%" PRIu64 of v, then "\n" or ":" (end). */
static void canon_u64(struct canon *c, uint64_t v, char end)
{
    char d[24];
    size_t k = sizeof d;
    d[--k] = end;
    do {
        d[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    canon_bytes(c, d + k, sizeof d - k);
}

/* "<length>:<bytes>\n" ("%zu:%s\n"); NULL as "". */
static void put_text(struct canon *c, const char *text)
{
    size_t n = text != NULL ? strlen(text) : 0;
    canon_u64(c, n, ':');
    if (n > 0)
        canon_bytes(c, text, n);
    canon_bytes(c, "\n", 1);
}

/* "%" PRId64 "\n" */
static void put_int(struct canon *c, int64_t v)
{
    if (v < 0) {
        canon_bytes(c, "-", 1);
        canon_u64(c, 0 - (uint64_t)v, '\n');
    } else {
        canon_u64(c, (uint64_t)v, '\n');
    }
}

/* "null\n", or "%016" PRIx64 "\n" of the IEEE-754 bits */
static void put_number(struct canon *c, double v)
{
    if (isnan(v)) {
        canon_bytes(c, "null\n", 5);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    char d[17];
    for (int i = 15; i >= 0; i--, bits >>= 4)
        d[i] = hex[bits & 15];
    d[16] = '\n';
    canon_bytes(c, d, sizeof d);
}

void commit_hash_team(struct kpi_sha256 *s, const struct kpi_team *t)
{
    struct canon c = {.s = s};
    canon_bytes(&c, "T\n", 2);
    put_text(&c, t->id);
    put_text(&c, t->name);
    put_text(&c, t->parent);
    canon_flush(&c);
}

void commit_hash_indicator(struct kpi_sha256 *s, const struct kpi_indicator *ind)
{
    struct canon c = {.s = s};
    canon_bytes(&c, "I\n", 2);
    put_text(&c, ind->id);
    put_text(&c, ind->name);
    put_text(&c, ind->family == KPI_FAMILY_NONE ? "" : kpi_family_name(ind->family));
    put_text(&c, ind->unit);
    put_text(&c, kpi_direction_name(ind->direction));
    put_text(&c, kpi_period_kind_name(ind->period));
    put_text(&c, kpi_aggregate_name(ind->aggregate));
    put_number(&c, ind->amber);
    put_number(&c, ind->red);
    put_number(&c, ind->weight);
    canon_flush(&c);
}

void commit_hash_version(struct kpi_sha256 *s, const char *team, const char *kpi, int64_t period,
                         int field, double v)
{
    struct canon c = {.s = s};
    canon_bytes(&c, "V\n", 2);
    put_text(&c, team);
    put_text(&c, kpi);
    put_int(&c, period);
    put_int(&c, field);
    put_number(&c, v);
    canon_flush(&c);
}

void commit_hash_note(struct kpi_sha256 *s, const char *team, const char *kpi, int64_t period,
                      const char *text)
{
    struct canon c = {.s = s};
    canon_bytes(&c, "N\n", 2);
    put_text(&c, team);
    put_text(&c, kpi);
    put_int(&c, period);
    if (text == NULL)
        canon_bytes(&c, "null\n", 5);
    else
        put_text(&c, text);
    canon_flush(&c);
}

void commit_hash_header(const struct commit_header *h, char hash[65])
{
    struct kpi_sha256 s;
    kpi_sha256_init(&s);
    struct canon c = {.s = &s};
    put_text(&c, "kpi commit 1");
    put_int(&c, (int64_t)h->id);
    put_text(&c, h->time);
    put_text(&c, h->author);
    put_text(&c, h->kind);
    put_text(&c, h->source);
    put_text(&c, h->sha256);
    put_int(&c, (int64_t)h->rows);
    put_int(&c, (int64_t)h->new_cells);
    put_int(&c, (int64_t)h->corrected);
    put_int(&c, (int64_t)h->series);
    put_text(&c, h->teams);
    put_text(&c, h->prev_hash);
    put_text(&c, h->body);
    canon_flush(&c);
    unsigned char digest_bytes[KPI_SHA256_SIZE];
    kpi_sha256_final(&s, digest_bytes);
    kpi_sha256_hex(digest_bytes, hash);
}
