/* Access tokens at rest (SPEC §9): DIR/tokens, DIR/tokens.used. See web.h.
 *
 * DIR/tokens is text, one token a line, fields separated by tabs:
 *   name  role  sha256-hex  created  expires  teams
 * created is YYYY-MM-DDThh:mm:ssZ, expires a day (YYYY-MM-DD) or "-", teams
 * a comma-separated list of ids or "-". Lines starting with '#' are
 * comments. DIR/tokens.used holds "sha256-hex<TAB>seconds" lines. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "web/web.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (WEB_TOKEN_TEAMS_MAX * (KPI_ID_MAX + 1) + 512)

char *web_time_label(int64_t seconds, char *buf)
{
    time_t t = (time_t)seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static int parse_time(const char *text, int64_t *out)
{
    struct tm tm = {0};
    const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int parse_hash(const char *text, unsigned char out[KPI_SHA256_SIZE])
{
    if (strlen(text) != 2 * KPI_SHA256_SIZE)
        return -1;
    for (size_t i = 0; i < KPI_SHA256_SIZE; i++) {
        int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
}

static int parse_teams(char *text, struct web_token *t)
{
    t->team_count = 0;
    if (strcmp(text, "-") == 0)
        return 0;
    for (char *save = NULL, *id = strtok_r(text, ",", &save); id != NULL;
         id = strtok_r(NULL, ",", &save)) {
        if (!kpi_id_valid(id) || t->team_count == WEB_TOKEN_TEAMS_MAX)
            return -1;
        strcpy(t->teams[t->team_count++], id);
    }
    return t->team_count > 0 ? 0 : -1;
}

/* One line of DIR/tokens (modified in place). */
static int parse_line(char *line, struct web_token *t)
{
    char *field[6];
    size_t n = 0;
    for (char *p = line; n < 6; n++) {
        field[n] = p;
        p = strchr(p, '\t');
        if (p == NULL) {
            n++;
            break;
        }
        *p++ = '\0';
    }
    if (n != 6 || strchr(field[5], '\t') != NULL)
        return -1;
    memset(t, 0, sizeof *t);
    if (!kpi_id_valid(field[0]))
        return -1;
    strcpy(t->name, field[0]);
    if (strcmp(field[1], "read") == 0)
        t->role = WEB_ROLE_READ;
    else if (strcmp(field[1], "write") == 0)
        t->role = WEB_ROLE_WRITE;
    else
        return -1;
    if (parse_hash(field[2], t->hash) != 0 || parse_time(field[3], &t->created) != 0)
        return -1;
    t->expires_day = INT64_MAX;
    if (strcmp(field[4], "-") != 0) {
        if (strlen(field[4]) != 10 || kpi_date_parse(field[4], NULL, &t->expires_day, NULL) != 0)
            return -1;
    }
    return parse_teams(field[5], t);
}

static char *path_of(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

void web_tokens_free(struct web_tokens *t)
{
    if (t == NULL)
        return;
    free(t->items);
    free(t);
}

/* last_used from DIR/tokens.used, matched by hash; a missing or malformed
 * file only loses those times. */
static void load_used(const char *dir, struct web_tokens *t)
{
    char *path = path_of(dir, "tokens.used");
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (f == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        char *tab = strchr(line, '\t');
        unsigned char hash[KPI_SHA256_SIZE];
        if (tab == NULL)
            continue;
        *tab = '\0';
        char *end;
        long long when = strtoll(tab + 1, &end, 10);
        if (parse_hash(line, hash) != 0 || end == tab + 1 || when <= 0)
            continue;
        for (size_t i = 0; i < t->count; i++)
            if (memcmp(t->items[i].hash, hash, sizeof hash) == 0)
                t->items[i].last_used = (int64_t)when;
    }
    fclose(f);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct web_token *)a)->name, ((const struct web_token *)b)->name);
}

static int load_file(const char *dir, const char *path, struct web_tokens **out,
                     struct kpi_error *err)
{
    *out = NULL;
    struct web_tokens *t = calloc(1, sizeof *t);
    if (t == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT) {
            *out = t;
            return 0;
        }
        web_tokens_free(t);
        return kpi_fail(err, KPI_ESYSTEM, "cannot read %s: %s", path, strerror(errno));
    }
    char *line = malloc(LINE_MAX_BYTES);
    size_t cap = 0, lineno = 0;
    int rc = line ? 0 : kpi_fail(err, KPI_ESYSTEM, "out of memory");
    while (rc == 0 && fgets(line, LINE_MAX_BYTES, f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(f))
            rc = kpi_fail(err, KPI_ESYSTEM, "%s:%zu: line too long", path, lineno);
        if (rc != 0 || len == 0 || line[0] == '#')
            continue;
        if (t->count == cap) {
            size_t grown_cap = cap ? cap * 2 : 8;
            struct web_token *grown = realloc(t->items, grown_cap * sizeof *grown);
            if (grown == NULL) {
                rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            t->items = grown;
            cap = grown_cap;
        }
        if (parse_line(line, &t->items[t->count]) != 0)
            rc = kpi_fail(err, KPI_ESYSTEM, "%s:%zu: malformed token line", path, lineno);
        else
            t->count++;
    }
    if (rc == 0 && ferror(f))
        rc = kpi_fail(err, KPI_ESYSTEM, "cannot read %s", path);
    fclose(f);
    free(line);
    if (rc != 0) {
        web_tokens_free(t);
        return rc;
    }
    if (t->count > 1)
        qsort(t->items, t->count, sizeof *t->items, by_name);
    load_used(dir, t);
    *out = t;
    return 0;
}

int web_tokens_load(const char *dir, struct web_tokens **out, struct kpi_error *err)
{
    char *path = path_of(dir, "tokens");
    if (path == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    int rc = load_file(dir, path, out, err);
    free(path);
    return rc;
}

/* Write text to DIR/name atomically: DIR/name.tmp with mode 0600, synced,
 * renamed over DIR/name, the directory synced. */
static int replace_file(const char *dir, const char *name, const char *text, size_t len,
                        struct kpi_error *err)
{
    char *path = path_of(dir, name);
    size_t tlen = path ? strlen(path) + 32 : 0;
    char *tmp = path ? malloc(tlen) : NULL;
    if (tmp == NULL) {
        free(path);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    snprintf(tmp, tlen, "%s.%ld.tmp", path, (long)getpid());
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "cannot write %s: %s", tmp, strerror(errno));
    } else {
        size_t done = 0;
        while (rc == 0 && done < len) {
            ssize_t n = write(fd, text + done, len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                rc = kpi_fail(err, KPI_ESYSTEM, "cannot write %s: %s", tmp, strerror(errno));
            else
                done += (size_t)n;
        }
        if (rc == 0 && fsync(fd) != 0)
            rc = kpi_fail(err, KPI_ESYSTEM, "cannot sync %s: %s", tmp, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "cannot rename %s: %s", tmp, strerror(errno));
    if (rc != 0) {
        unlink(tmp);
    } else {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(tmp);
    free(path);
    return rc;
}

static int format_tokens(const struct web_tokens *t, struct kpi_buf *b)
{
    int rc = kpi_buf_puts(b, "# kpi access tokens (SPEC 9): name, role, SHA-256 of the "
                             "secret, created, expires, teams; tab-separated\n");
    for (size_t i = 0; rc == 0 && i < t->count; i++) {
        const struct web_token *k = &t->items[i];
        char hex[KPI_SHA256_HEX], created[24], expires[KPI_LABEL_MAX];
        strcpy(expires, "-");
        if (k->expires_day != INT64_MAX)
            kpi_day_label(k->expires_day, expires);
        rc = kpi_buf_printf(
            b, "%s\t%s\t%s\t%s\t%s\t", k->name, k->role == WEB_ROLE_WRITE ? "write" : "read",
            kpi_sha256_hex(k->hash, hex), web_time_label(k->created, created), expires);
        for (size_t j = 0; rc == 0 && j < k->team_count; j++)
            rc = kpi_buf_printf(b, "%s%s", j ? "," : "", k->teams[j]);
        if (rc == 0)
            rc = kpi_buf_puts(b, k->team_count ? "\n" : "-\n");
    }
    return rc == 0 ? 0 : KPI_ESYSTEM;
}

/* mkdir -p dir (mode 0700 for what it creates). */
static int make_dirs(const char *dir, struct kpi_error *err)
{
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    if (p == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    memcpy(p, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int rc = kpi_fail(err, KPI_ESYSTEM, "cannot create %s: %s", p, strerror(errno));
            free(p);
            return rc;
        }
        p[i] = saved;
    }
    free(p);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return kpi_fail(err, KPI_ESYSTEM, "%s is not a directory", dir);
    return 0;
}

/* Take DIR/tokens.lock (waiting for another kpi token command). Returns the
 * descriptor to close, or -1 with err set. */
static int lock_tokens(const char *dir, struct kpi_error *err)
{
    char *path = path_of(dir, "tokens.lock");
    if (path == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory"), -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        kpi_fail(err, KPI_ESYSTEM, "cannot lock %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    free(path);
    return fd;
}

static int save_tokens(const char *dir, const struct web_tokens *t, struct kpi_error *err)
{
    struct kpi_buf b = {0};
    int rc = format_tokens(t, &b) == 0 ? 0 : kpi_fail(err, KPI_ESYSTEM, "out of memory");
    if (rc == 0)
        rc = replace_file(dir, "tokens", b.data, b.len, err);
    kpi_buf_free(&b);
    return rc;
}

/* A secret: "kpi_" and WEB_SECRET_CHARS characters of [A-Za-z0-9], each
 * uniform (bytes >= 248 are drawn again: 248 = 4 x 62). */
static int make_secret(char out[WEB_SECRET_MAX], struct kpi_error *err)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    memcpy(out, "kpi_", 4);
    size_t n = 0;
    while (n < WEB_SECRET_CHARS) {
        unsigned char bytes[64];
        ssize_t got = getrandom(bytes, sizeof bytes, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return kpi_fail(err, KPI_ESYSTEM, "getrandom: %s", strerror(errno));
        for (ssize_t i = 0; i < got && n < WEB_SECRET_CHARS; i++)
            if (bytes[i] < 248)
                out[4 + n++] = alphabet[bytes[i] % 62];
    }
    out[4 + WEB_SECRET_CHARS] = '\0';
    return 0;
}

int web_token_add(const char *dir, const struct web_token_spec *spec, char secret[WEB_SECRET_MAX],
                  struct kpi_error *err)
{
    if (!kpi_id_valid(spec->name))
        return kpi_fail(err, KPI_EUSAGE,
                        "invalid token name \"%s\" (expected an id: [a-z0-9][a-z0-9_.-]{0,63})",
                        spec->name);
    if (spec->team_count > WEB_TOKEN_TEAMS_MAX)
        return kpi_fail(err, KPI_EUSAGE, "too many --team (at most %d)", WEB_TOKEN_TEAMS_MAX);
    int rc = make_dirs(dir, err);
    if (rc != 0)
        return rc;
    int lock = lock_tokens(dir, err);
    if (lock < 0)
        return KPI_ESYSTEM;
    struct web_tokens *t = NULL;
    rc = web_tokens_load(dir, &t, err);
    for (size_t i = 0; rc == 0 && i < t->count; i++)
        if (strcmp(t->items[i].name, spec->name) == 0)
            rc = kpi_fail(err, KPI_EUSAGE, "a token named \"%s\" exists (revoke it first)",
                          spec->name);
    struct web_token *grown = NULL;
    if (rc == 0) {
        grown = realloc(t->items, (t->count + 1) * sizeof *grown);
        if (grown == NULL)
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        else
            t->items = grown;
    }
    if (rc == 0)
        rc = make_secret(secret, err);
    if (rc == 0) {
        struct web_token *k = &t->items[t->count];
        memset(k, 0, sizeof *k);
        strcpy(k->name, spec->name);
        k->role = spec->role;
        kpi_sha256(secret, strlen(secret), k->hash);
        k->created = (int64_t)time(NULL);
        k->expires_day = spec->expires_day;
        for (size_t i = 0; i < spec->team_count; i++) {
            if (!kpi_id_valid(spec->teams[i])) {
                rc = kpi_fail(err, KPI_EUSAGE, "invalid team id \"%s\"", spec->teams[i]);
                break;
            }
            /* sorted and unique, so that one scope has one spelling */
            size_t at = 0;
            while (at < k->team_count && strcmp(k->teams[at], spec->teams[i]) < 0)
                at++;
            if (at < k->team_count && strcmp(k->teams[at], spec->teams[i]) == 0)
                continue;
            memmove(k->teams[at + 1], k->teams[at], (k->team_count - at) * sizeof k->teams[0]);
            strcpy(k->teams[at], spec->teams[i]);
            k->team_count++;
        }
        if (rc == 0) {
            t->count++;
            qsort(t->items, t->count, sizeof *t->items, by_name);
            rc = save_tokens(dir, t, err);
        }
    }
    if (rc != 0)
        memset(secret, 0, WEB_SECRET_MAX);
    web_tokens_free(t);
    close(lock);
    return rc;
}

int web_token_revoke(const char *dir, const char *name, struct kpi_error *err)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return kpi_fail(err, KPI_ENOTFOUND, "no token named \"%s\"", name);
    int lock = lock_tokens(dir, err);
    if (lock < 0)
        return KPI_ESYSTEM;
    struct web_tokens *t = NULL;
    int rc = web_tokens_load(dir, &t, err);
    if (rc == 0) {
        size_t i = 0;
        while (i < t->count && strcmp(t->items[i].name, name) != 0)
            i++;
        if (i == t->count) {
            rc = kpi_fail(err, KPI_ENOTFOUND, "no token named \"%s\"", name);
        } else {
            memmove(&t->items[i], &t->items[i + 1], (t->count - i - 1) * sizeof t->items[0]);
            t->count--;
            rc = save_tokens(dir, t, err);
        }
    }
    web_tokens_free(t);
    close(lock);
    return rc;
}

const struct web_token *web_tokens_match(const struct web_tokens *t, const char *text, size_t len)
{
    unsigned char hash[KPI_SHA256_SIZE];
    kpi_sha256(text, len, hash);
    const struct web_token *found = NULL;
    /* Every stored hash is compared in full, whatever matched before: the
     * time taken depends on the number of tokens only. */
    for (size_t i = 0; i < t->count; i++) {
        unsigned diff = 0;
        for (size_t j = 0; j < KPI_SHA256_SIZE; j++)
            diff |= (unsigned)(hash[j] ^ t->items[i].hash[j]);
        volatile unsigned same = (diff == 0);
        if (same)
            found = &t->items[i];
    }
    return found;
}

int web_tokens_write_used(const char *dir, const struct web_tokens *t, const int64_t *last_used,
                          struct kpi_error *err)
{
    struct kpi_buf b = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < t->count; i++) {
        char hex[KPI_SHA256_HEX];
        if (last_used[i] > 0)
            rc = kpi_buf_printf(&b, "%s\t%" PRId64 "\n", kpi_sha256_hex(t->items[i].hash, hex),
                                last_used[i]);
    }
    if (rc != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    else
        rc = replace_file(dir, "tokens.used", b.data ? b.data : "", b.len, err);
    kpi_buf_free(&b);
    return rc;
}
