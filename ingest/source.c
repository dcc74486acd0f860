/*
 * The bytes of an input file: opening, spooling standard input and pipes to
 * an unlinked temporary file, encoding detection, the BOM, and Windows-1252
 * decoding.
 *
 * Encoding detection needs the whole file (a cp1252 "é" may first occur on
 * the last line), but only from the first non-ASCII byte on: every byte
 * before it reads the same in UTF-8 and Windows-1252. So a regular file is
 * parsed at once while each chunk is checked for non-ASCII bytes (8 bytes at
 * a time); at the first one, the rest of the file is validated in one pass
 * (pread) and the encoding decided before any record of that chunk is
 * decoded. An ASCII file (most exports) is read once. A pipe cannot be read
 * twice: it is copied to tmpfile() and validated on the way. Memory stays
 * bounded by the chunk size either way.
 */
#include "ingest/ingest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Length of the UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF): its length when valid and complete, 0 when
 * invalid, -1 when it is a valid prefix cut by the end of the buffer. */
static int utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    int n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((size_t)i >= avail)
            return -1;
        unsigned char lim_lo = i == 1 ? lo : 0x80, lim_hi = i == 1 ? hi : 0xBF;
        if (p[i] < lim_lo || p[i] > lim_hi)
            return 0;
    }
    return n;
}

#define HIGH_BITS 0x8080808080808080ull
#define LOW_BITS 0x0101010101010101ull

/* Validate [p, p+n). Returns the offset where scanning stopped: n when all
 * is valid, the start of an incomplete sequence at the end (*cut = true), or
 * the first invalid byte (*ok = false). *nul is set when a NUL occurs. */
static size_t utf8_scan(const unsigned char *p, size_t n, bool *ok, bool *cut, bool *nul)
{
    size_t i = 0;
    *ok = true;
    *cut = false;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, sizeof w);
            if (w & HIGH_BITS)
                break;
            if ((w - LOW_BITS) & ~w & HIGH_BITS)
                *nul = true;
            i += 8;
        }
        if (i >= n)
            break;
        if (p[i] < 0x80) {
            if (p[i] == 0)
                *nul = true;
            i++;
            continue;
        }
        int len = utf8_seq(p + i, n - i);
        if (len == 0) {
            *ok = false;
            return i;
        }
        if (len < 0) {
            *cut = true;
            return i;
        }
        i += (size_t)len;
    }
    return n;
}

bool ingest_utf8_check(const char *p, size_t len, size_t *bad)
{
    bool ok, cut, nul = false;
    size_t at = utf8_scan((const unsigned char *)p, len, &ok, &cut, &nul);
    if (ok && !cut)
        return true;
    if (bad)
        *bad = at;
    return false;
}

/* The validation state across chunks: up to 3 bytes of a sequence cut by
 * the end of the previous chunk. */
struct utf8_state {
    unsigned char tail[8];
    size_t tail_len;
    bool valid;
    bool nul;
};

static void utf8_feed(struct utf8_state *st, const unsigned char *p, size_t n)
{
    if (!st->valid)
        return;
    while (st->tail_len > 0 && n > 0) {
        st->tail[st->tail_len++] = *p++;
        n--;
        int len = utf8_seq(st->tail, st->tail_len);
        if (len == 0) {
            st->valid = false;
            return;
        }
        if (len > 0)
            st->tail_len = 0;
    }
    bool ok, cut;
    size_t at = utf8_scan(p, n, &ok, &cut, &st->nul);
    if (!ok) {
        st->valid = false;
    } else if (cut) {
        memcpy(st->tail, p + at, n - at);
        st->tail_len = n - at;
    }
}

static long read_fd(int fd, void *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0 || errno != EINTR)
            return (long)n;
    }
}

/* Read fd to its end, validating UTF-8, copying to spool when not NULL. */
static int first_pass(struct ingest_source *s, int fd, FILE *spool, bool validate, const char *name,
                      struct kpi_error *err)
{
    char *buf = malloc(INGEST_CHUNK);
    if (buf == NULL)
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "out of memory");
    struct utf8_state st = {.valid = true};
    unsigned char head[3];
    size_t head_len = 0;
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        long n = read_fd(fd, buf, INGEST_CHUNK);
        if (n < 0) {
            rc = ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        size_t len = (size_t)n;
        for (size_t i = 0; head_len < 3 && i < len; i++)
            head[head_len++] = (unsigned char)buf[i];
        if (spool != NULL && fwrite(buf, 1, len, spool) != len) {
            rc = ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot write a temporary copy: %s",
                                strerror(errno));
            break;
        }
        if (validate)
            utf8_feed(&st, (const unsigned char *)buf, len);
        total += len;
    }
    free(buf);
    if (rc != 0)
        return rc;
    if (spool != NULL && fflush(spool) != 0)
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot write a temporary copy: %s",
                              strerror(errno));
    if (st.tail_len > 0)
        st.valid = false;
    s->size = total;
    s->bom = head_len == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF;
    s->decided = true;
    s->utf8_valid = validate && st.valid;
    /* once invalid, the scan stopped looking for NULs */
    s->maybe_nul = !validate || !st.valid || st.nul;
    return 0;
}

static int read_head(struct ingest_source *s, const char *name, struct kpi_error *err)
{
    unsigned char head[3];
    ssize_t n = pread(s->fd, head, sizeof head, 0);
    if (n < 0)
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot read: %s", strerror(errno));
    s->bom = n == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF;
    return 0;
}

/* Append code point cp to out as UTF-8; returns the bytes written. */
static size_t put_utf8(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A file that starts with a UTF-16 BOM (what Excel's "Unicode text"
 * writes) is converted to UTF-8 into an unlinked temporary file once, and
 * read from there as a UTF-8 file: the reader's fast paths stay those of
 * UTF-8, and line numbers are the same (one '\n' for one U+000A). A lone
 * surrogate, a NUL character or an odd byte at the end is bad input. */
static int transcode_utf16(struct ingest_source *s, bool big_endian, const char *name,
                           struct kpi_error *err)
{
    FILE *out = tmpfile();
    if (out == NULL)
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot create a temporary file: %s",
                              strerror(errno));
    unsigned char *in = malloc(INGEST_CHUNK + 2), *o = malloc(INGEST_CHUNK * 2 + 8);
    int rc = 0;
    if (in == NULL || o == NULL) {
        rc = ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "out of memory");
        goto done;
    }
    uint64_t pos = 2, written = 0;
    size_t carry = 0;  /* an odd byte left from the previous read */
    uint32_t high = 0; /* a high surrogate waiting for its low one */
    unsigned long line = 1;
    const char *bad = NULL;
    for (;;) {
        ssize_t n = pread(s->fd, in + carry, INGEST_CHUNK, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot read: %s", strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        pos += (uint64_t)n;
        size_t len = carry + (size_t)n, w = 0, i = 0;
        for (; i + 1 < len; i += 2) {
            uint32_t u =
                big_endian ? (uint32_t)in[i] << 8 | in[i + 1] : (uint32_t)in[i + 1] << 8 | in[i];
            if (high != 0) {
                if (u < 0xDC00 || u > 0xDFFF) {
                    bad = "invalid UTF-16 (a high surrogate without its low one)";
                    break;
                }
                u = 0x10000 + ((high - 0xD800) << 10) + (u - 0xDC00);
                high = 0;
            } else if (u >= 0xD800 && u <= 0xDBFF) {
                high = u;
                continue;
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                bad = "invalid UTF-16 (a low surrogate alone)";
                break;
            } else if (u == 0) {
                bad = "NUL character";
                break;
            }
            line += u == '\n';
            w += put_utf8(u, o + w);
        }
        carry = len - i;
        if (bad == NULL && carry == 1)
            in[0] = in[len - 1];
        if (fwrite(o, 1, w, out) != w) {
            rc = ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot write a temporary copy: %s",
                                strerror(errno));
            goto done;
        }
        written += w;
        if (bad != NULL)
            break;
    }
    if (bad == NULL && (carry != 0 || high != 0))
        bad = "invalid UTF-16 (the file ends in the middle of a character)";
    if (bad != NULL) {
        rc = ingest_fail_at(err, KPI_EINPUT, name, line, 0, "%s", bad);
        goto done;
    }
    if (fflush(out) != 0) {
        rc = ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot write a temporary copy: %s",
                            strerror(errno));
        goto done;
    }
    /* read from the copy from now on */
    if (s->spool != NULL)
        fclose(s->spool);
    else if (s->own_fd)
        close(s->fd);
    s->spool = out;
    s->fd = fileno(out);
    s->own_fd = false;
    out = NULL;
    s->size = written;
    s->bom = false;
    s->decided = true;
    s->utf8_valid = true;
    s->maybe_nul = false;
    s->encoding = big_endian ? INGEST_ENCODING_UTF16BE : INGEST_ENCODING_UTF16LE;
    s->start = 0;
done:
    if (out != NULL)
        fclose(out);
    free(in);
    free(o);
    return rc;
}

/* Convert the file to UTF-8 when it starts with a UTF-16 BOM. */
static int maybe_utf16(struct ingest_source *s, const char *name, struct kpi_error *err)
{
    unsigned char head[2];
    ssize_t n = pread(s->fd, head, sizeof head, 0);
    if (n < 0)
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot read: %s", strerror(errno));
    if (n == 2 && head[0] == 0xFF && head[1] == 0xFE)
        return transcode_utf16(s, false, name, err);
    if (n == 2 && head[0] == 0xFE && head[1] == 0xFF)
        return transcode_utf16(s, true, name, err);
    return 0;
}

int source_open(struct ingest_source *s, const char *path, const char *name,
                enum ingest_encoding forced, struct kpi_error *err)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    bool is_stdin = strcmp(path, "-") == 0;
    int in = STDIN_FILENO;
    if (!is_stdin) {
        in = open(path, O_RDONLY | O_CLOEXEC);
        if (in < 0)
            return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot open: %s", strerror(errno));
    }
    struct stat st;
    if (fstat(in, &st) != 0) {
        int e = errno;
        if (!is_stdin)
            close(in);
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot read: %s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        if (!is_stdin)
            close(in);
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot read: %s", strerror(EISDIR));
    }
    bool validate = forced != INGEST_ENCODING_CP1252;
    int rc;
    if (S_ISREG(st.st_mode) && !is_stdin) {
        s->fd = in;
        s->own_fd = true;
        s->size = (uint64_t)st.st_size;
        rc = read_head(s, name, err);
        /* decided by source_scan at the first non-ASCII byte, if any */
        s->decided = !validate;
        s->utf8_valid = validate;
        s->maybe_nul = !validate; /* cp1252 decoding finds NULs by itself */
    } else {
        /* standard input or a pipe: spool to an unlinked temporary file */
        s->spool = tmpfile();
        if (s->spool == NULL) {
            rc = ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot create a temporary file: %s",
                                strerror(errno));
        } else {
            s->fd = fileno(s->spool);
            rc = first_pass(s, in, s->spool, validate, name, err);
        }
        if (!is_stdin)
            close(in);
    }
    if (rc != 0) {
        source_close(s);
        return rc;
    }
    s->forced = forced;
    if (forced != INGEST_ENCODING_AUTO)
        s->encoding = forced;
    else if (s->bom || s->utf8_valid)
        s->encoding = INGEST_ENCODING_UTF8;
    else
        s->encoding = INGEST_ENCODING_CP1252;
    s->start = s->bom && s->encoding == INGEST_ENCODING_UTF8 ? 3 : 0;
    if ((rc = maybe_utf16(s, name, err)) != 0) {
        source_close(s);
        return rc;
    }
    s->offset = s->start;
    if (lseek(s->fd, (off_t)s->start, SEEK_SET) < 0) {
        rc = ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot read: %s", strerror(errno));
        source_close(s);
        return rc;
    }
    return 0;
}

void source_close(struct ingest_source *s)
{
    if (s->spool != NULL)
        fclose(s->spool);
    else if (s->own_fd && s->fd >= 0)
        close(s->fd);
    s->spool = NULL;
    s->fd = -1;
    s->own_fd = false;
}

long source_read(struct ingest_source *s, char *buf, size_t cap)
{
    long n = read_fd(s->fd, buf, cap);
    if (n > 0)
        s->offset += (uint64_t)n;
    return n;
}

/* Validate [from, size) of a regular file: the whole file's verdict when
 * every byte before from is ASCII. */
static int validate_rest(struct ingest_source *s, uint64_t from, const char *name,
                         struct kpi_error *err)
{
    char *buf = malloc(INGEST_CHUNK);
    if (buf == NULL)
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "out of memory");
    struct utf8_state st = {.valid = true};
    uint64_t pos = from;
    for (;;) {
        ssize_t n = pread(s->fd, buf, INGEST_CHUNK, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "cannot read: %s", strerror(e));
        }
        if (n == 0 || !st.valid)
            break;
        utf8_feed(&st, (const unsigned char *)buf, (size_t)n);
        pos += (uint64_t)n;
    }
    free(buf);
    if (st.tail_len > 0)
        st.valid = false;
    s->utf8_valid = st.valid;
    /* once invalid, the scan stopped looking for NULs */
    s->maybe_nul = s->maybe_nul || !st.valid || st.nul;
    if (s->forced == INGEST_ENCODING_AUTO)
        s->encoding = s->bom || st.valid ? INGEST_ENCODING_UTF8 : INGEST_ENCODING_CP1252;
    s->decided = true;
    return 0;
}

int source_scan(struct ingest_source *s, const char *chunk, size_t len, uint64_t chunk_off,
                const char *name, struct kpi_error *err)
{
    if (s->decided)
        return 0;
    const unsigned char *p = (const unsigned char *)chunk;
    uint64_t high = 0, zero = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        high |= w;
        zero |= (w - LOW_BITS) & ~w;
    }
    for (; i < len; i++) {
        high |= p[i];
        zero |= p[i] == 0 ? HIGH_BITS : 0;
    }
    /* (w - 0x01..) & ~w & 0x80.. is non-zero iff w has a zero byte */
    if ((high & HIGH_BITS) == 0) {
        if (zero & HIGH_BITS)
            s->maybe_nul = true;
        return 0;
    }
    return validate_rest(s, chunk_off, name, err);
}

unsigned long source_line_at(const struct ingest_source *s, uint64_t offset)
{
    char buf[16384];
    unsigned long line = 1;
    uint64_t pos = s->start;
    bool after_cr = false; /* the previous byte was a '\r' (cr_lines) */
    while (pos < offset) {
        size_t want = offset - pos < sizeof buf ? (size_t)(offset - pos) : sizeof buf;
        ssize_t n = pread(s->fd, buf, want, (off_t)pos);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            char ch = buf[i];
            /* a CRLF counts once: at its LF, or at its CR in a CR file */
            if (ch == '\n' && !after_cr)
                line++;
            else if (ch == '\r' && s->cr_lines)
                line++;
            after_cr = ch == '\r' && s->cr_lines;
        }
        pos += (uint64_t)n;
    }
    return line;
}

/* Windows-1252 0x80..0x9F; 0 marks the five undefined bytes. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

size_t ingest_cp1252_decode(const char *in, size_t len, char *out, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    for (size_t i = 0; i < len; i++) {
        unsigned c = p[i];
        if (c != 0 && c < 0x80) {
            *o++ = (unsigned char)c;
            continue;
        }
        if (c >= 0x80 && c <= 0x9F)
            c = cp1252_high[c - 0x80];
        if (c == 0) {
            *bad_offset = i;
            return (size_t)-1;
        }
        if (c < 0x800) {
            *o++ = (unsigned char)(0xC0 | (c >> 6));
            *o++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            *o++ = (unsigned char)(0xE0 | (c >> 12));
            *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    return (size_t)(o - (unsigned char *)out);
}

int ingest_cp1252_to_utf8(const char *in, size_t len, struct kpi_buf *out, size_t *bad_offset)
{
    if (len > SIZE_MAX / 3)
        return KPI_ESYSTEM;
    char *tmp = malloc(len * 3 + 1);
    if (tmp == NULL)
        return KPI_ESYSTEM;
    size_t bad = 0;
    size_t n = ingest_cp1252_decode(in, len, tmp, &bad);
    int rc = 0;
    if (n == (size_t)-1) {
        if (bad_offset != NULL)
            *bad_offset = bad;
        rc = KPI_EINPUT;
    } else if (kpi_buf_append(out, tmp, n) != 0) {
        rc = KPI_ESYSTEM;
    }
    free(tmp);
    return rc;
}
