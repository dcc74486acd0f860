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

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void put_text(struct kpi_sha256 *s, const char *text)
{
    char len[24];
    size_t n = text != NULL ? strlen(text) : 0;
    int k = snprintf(len, sizeof len, "%zu:", n);
    kpi_sha256_update(s, len, (size_t)k);
    if (n > 0)
        kpi_sha256_update(s, text, n);
    kpi_sha256_update(s, "\n", 1);
}

static void put_int(struct kpi_sha256 *s, int64_t v)
{
    char buf[32];
    int k = snprintf(buf, sizeof buf, "%" PRId64 "\n", v);
    kpi_sha256_update(s, buf, (size_t)k);
}

static void put_number(struct kpi_sha256 *s, double v)
{
    char buf[24];
    if (isnan(v)) {
        kpi_sha256_update(s, "null\n", 5);
        return;
    }
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int k = snprintf(buf, sizeof buf, "%016" PRIx64 "\n", bits);
    kpi_sha256_update(s, buf, (size_t)k);
}

void commit_hash_team(struct kpi_sha256 *s, const struct kpi_team *t)
{
    kpi_sha256_update(s, "T\n", 2);
    put_text(s, t->id);
    put_text(s, t->name);
    put_text(s, t->parent);
}

void commit_hash_indicator(struct kpi_sha256 *s, const struct kpi_indicator *ind)
{
    kpi_sha256_update(s, "I\n", 2);
    put_text(s, ind->id);
    put_text(s, ind->name);
    put_text(s, ind->family == KPI_FAMILY_NONE ? "" : kpi_family_name(ind->family));
    put_text(s, ind->unit);
    put_text(s, kpi_direction_name(ind->direction));
    put_text(s, kpi_period_kind_name(ind->period));
    put_text(s, kpi_aggregate_name(ind->aggregate));
    put_number(s, ind->amber);
    put_number(s, ind->red);
    put_number(s, ind->weight);
}

void commit_hash_version(struct kpi_sha256 *s, const char *team, const char *kpi, int64_t period,
                         int field, double v)
{
    kpi_sha256_update(s, "V\n", 2);
    put_text(s, team);
    put_text(s, kpi);
    put_int(s, period);
    put_int(s, field);
    put_number(s, v);
}

void commit_hash_note(struct kpi_sha256 *s, const char *team, const char *kpi, int64_t period,
                      const char *text)
{
    kpi_sha256_update(s, "N\n", 2);
    put_text(s, team);
    put_text(s, kpi);
    put_int(s, period);
    if (text == NULL)
        kpi_sha256_update(s, "null\n", 5);
    else
        put_text(s, text);
}

void commit_hash_header(const struct commit_header *h, char hash[65])
{
    struct kpi_sha256 s;
    kpi_sha256_init(&s);
    put_text(&s, "kpi commit 1");
    put_int(&s, (int64_t)h->id);
    put_text(&s, h->time);
    put_text(&s, h->author);
    put_text(&s, h->kind);
    put_text(&s, h->source);
    put_text(&s, h->sha256);
    put_int(&s, (int64_t)h->rows);
    put_int(&s, (int64_t)h->new_cells);
    put_int(&s, (int64_t)h->corrected);
    put_int(&s, (int64_t)h->series);
    put_text(&s, h->teams);
    put_text(&s, h->prev_hash);
    put_text(&s, h->body);
    unsigned char digest_bytes[KPI_SHA256_SIZE];
    kpi_sha256_final(&s, digest_bytes);
    kpi_sha256_hex(digest_bytes, hash);
}
