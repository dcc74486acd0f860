/*
 * rrd_image.c — the bytes of an RRD file, computed the way librrd 1.7.2
 * computes them (see rrd_image.h for the contract).
 *
 * How librrd gets there, and so how this file does:
 * - rrd_create_r2 writes the static header (stat_head, ds_def, rra_def), the
 *   live header (last_up = start), per DS a pdp_prep (last_ds "U", PDP_val
 *   unknown, PDP_unkn_sec_cnt = start % step), per RRA and DS a cdp_prep
 *   (CDP_val unknown, CDP_unkn_pdp_cnt = the steps of the start's partial
 *   row), per RRA a current row, and every data row unknown. "Unknown" is
 *   librrd's DNAN, the bits 0xfff8000000000000 (the x86 default NaN), not
 *   C's NAN.
 * - Each update at time t consolidates in four stages, all reproduced in the
 *   same order with the same double operations so that every double is
 *   bit-identical: the new reading (value * interval, the text copied into
 *   last_ds); the primary data point of every step passed (PDP_val / known
 *   seconds); the consolidation state of every archive (CDP_val, the count
 *   of unknown steps, the first row to write and the "fill in" row for the
 *   following ones); then the rows written, ring by ring.
 * - librrd reads numbers with its own rrd_strtod, which is not correctly
 *   rounded: the image parses the same text the same way.
 * Times are whole multiples of the step here, so librrd's sub-step and
 * microsecond terms are all zero and drop out.
 */
#define _GNU_SOURCE /* O_NOATIME */
#include "store/rrd_image.h"
#include "store/store_int.h"
#include "common/common.h"

#define RRD_EXPORT_DEPRECATED /* the on-disk structs of rrd_format.h */
#include <rrd.h>
#include <rrd_format.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ numbers */

/* librrd's unknown and infinities, as bits (DNAN is not NAN's bit pattern). */
static double bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
#define DNAN_BITS 0xfff8000000000000ull
#define DINF_BITS 0x7ff0000000000000ull

size_t rrd_image_format(double value, char *buf)
{
    if (isnan(value)) {
        memcpy(buf, "U", 2);
        return 1;
    }
    int n = snprintf(buf, RRD_IMAGE_TEXT, "%.17g", value);
    return n > 0 ? (size_t)n : 0;
}

double rrd_image_parse(const char *text, const char **end, int *range)
{
    const char *p = text;
    if (end != NULL)
        *end = text;
    if (range != NULL)
        *range = 0;
    while (isspace((unsigned char)*p))
        p++;
    bool negative = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    /* every digit, integer part and decimals alike, into one double */
    double number = 0.;
    int digits = 0, exponent = 0;
    while (*p >= '0' && *p <= '9') {
        number = number * 10. + (*p - '0');
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            number = number * 10. + (*p - '0');
            p++;
            digits++;
            exponent--;
        }
    }
    if (digits == 0)
        return 0.0;
    if (negative)
        number = -number;
    if (*p == 'e' || *p == 'E') {
        p++;
        bool eneg = *p == '-';
        if (*p == '-' || *p == '+')
            p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 100000) /* saturate: anything this large is out of range */
                n = n * 10 + (*p - '0');
            p++;
        }
        exponent = eneg ? exponent - n : exponent + n;
    }
    if (exponent < -1021 || exponent > 1024) { /* DBL_MIN_EXP, DBL_MAX_EXP */
        if (range != NULL)
            *range = 1;
        return HUGE_VAL;
    }
    /* scale by 10^|exponent|, one power of ten per bit, as librrd does */
    double p10 = 10.;
    for (int n = exponent < 0 ? -exponent : exponent; n != 0; n >>= 1) {
        if (n & 1) {
            if (exponent < 0)
                number /= p10;
            else
                number *= p10;
        }
        p10 *= p10;
    }
    if (end != NULL)
        *end = p;
    return number;
}

/* ------------------------------------------------------------ layout */

enum image_cf { IMAGE_AVERAGE, IMAGE_MIN, IMAGE_MAX, IMAGE_LAST };

struct image_layout {
    size_t ds_count, rra_count;
    struct {
        char name[DS_NAM_SIZE];
        unsigned long heartbeat;
    } ds[RRD_IMAGE_DS_MAX];
    struct {
        enum image_cf cf;
        const char *cf_name;
        double xff;
        unsigned long steps, rows;
    } rra[RRD_IMAGE_RRA_MAX];
};

/* A whole field of digits as an unsigned long >= 1; *s moves past it. */
static bool parse_count(const char **s, char stop, unsigned long *out)
{
    const char *p = *s;
    unsigned long v = 0;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (ULONG_MAX - 9) / 10)
            return false;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (*p != stop || v == 0)
        return false;
    *out = v;
    *s = p + (stop != '\0');
    return true;
}

/* "DS:<name>:GAUGE:<heartbeat>:U:U" */
static bool parse_ds(const char *def, struct image_layout *l)
{
    if (l->ds_count == RRD_IMAGE_DS_MAX)
        return false;
    const char *p = def + 3, *colon = strchr(p, ':');
    size_t len = colon != NULL ? (size_t)(colon - p) : 0;
    if (len == 0 || len >= DS_NAM_SIZE)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '_' && p[i] != '-')
            return false;
    for (size_t i = 0; i < l->ds_count; i++)
        if (strlen(l->ds[i].name) == len && memcmp(l->ds[i].name, p, len) == 0)
            return false;
    memcpy(l->ds[l->ds_count].name, p, len);
    l->ds[l->ds_count].name[len] = '\0';
    p = colon + 1;
    if (strncmp(p, "GAUGE:", 6) != 0)
        return false;
    p += 6;
    if (!parse_count(&p, ':', &l->ds[l->ds_count].heartbeat) || strcmp(p, "U:U") != 0)
        return false;
    l->ds_count++;
    return true;
}

/* "RRA:<CF>:<xff>:<steps>:<rows>" */
static bool parse_rra(const char *def, struct image_layout *l)
{
    static const struct {
        const char *name;
        enum image_cf cf;
    } cfs[] = {
        {"AVERAGE", IMAGE_AVERAGE}, {"MIN", IMAGE_MIN}, {"MAX", IMAGE_MAX}, {"LAST", IMAGE_LAST}};
    if (l->rra_count == RRD_IMAGE_RRA_MAX)
        return false;
    const char *p = def + 4;
    size_t k = 0;
    while (k < sizeof cfs / sizeof cfs[0] &&
           (strncmp(p, cfs[k].name, strlen(cfs[k].name)) != 0 || p[strlen(cfs[k].name)] != ':'))
        k++;
    if (k == sizeof cfs / sizeof cfs[0])
        return false;
    p += strlen(cfs[k].name) + 1;
    const char *end;
    int range;
    double xff = rrd_image_parse(p, &end, &range);
    if (range || end == p || *end != ':' || !(xff >= 0.0 && xff < 1.0))
        return false;
    p = end + 1;
    unsigned long steps = 0, rows = 0;
    if (!parse_count(&p, ':', &steps) || !parse_count(&p, '\0', &rows))
        return false;
    l->rra[l->rra_count].cf = cfs[k].cf;
    l->rra[l->rra_count].cf_name = cfs[k].name;
    l->rra[l->rra_count].xff = xff;
    l->rra[l->rra_count].steps = steps;
    l->rra[l->rra_count].rows = rows;
    l->rra_count++;
    return true;
}

static bool parse_layout(int argc, const char *const *argv, struct image_layout *l)
{
    memset(l, 0, sizeof *l);
    for (int i = 0; i < argc; i++) {
        bool ok = false;
        if (strncmp(argv[i], "DS:", 3) == 0)
            ok = parse_ds(argv[i], l);
        else if (strncmp(argv[i], "RRA:", 4) == 0)
            ok = parse_rra(argv[i], l);
        if (!ok)
            return false;
    }
    return l->ds_count > 0 && l->rra_count > 0;
}

/* ------------------------------------------------------------ the file */

/* The file's parts, all pointing into one buffer (see rrd_format.h). */
struct image {
    const struct image_layout *l;
    unsigned long step;
    stat_head_t *stat;
    ds_def_t *ds;
    rra_def_t *rra;
    live_head_t *live;
    pdp_prep_t *pdp;
    cdp_prep_t *cdp; /* [rra * ds_count + ds] */
    rra_ptr_t *ptr;
    double *rows[RRD_IMAGE_RRA_MAX]; /* each rows x ds_count */
    /* rows written into each ring by the updates applied (at most its
     * rows): they follow the ring's current row before the updates */
    unsigned long written[RRD_IMAGE_RRA_MAX];
};

/* The header's and the whole file's sizes for layout l; false when too
 * large. */
static bool image_size(const struct image_layout *l, size_t *header, size_t *total)
{
    *header = sizeof(stat_head_t) + l->ds_count * sizeof(ds_def_t) +
              l->rra_count * sizeof(rra_def_t) + sizeof(live_head_t) +
              l->ds_count * sizeof(pdp_prep_t) + l->rra_count * l->ds_count * sizeof(cdp_prep_t) +
              l->rra_count * sizeof(rra_ptr_t);
    *total = *header;
    for (size_t r = 0; r < l->rra_count; r++) {
        if (l->rra[r].rows > (SIZE_MAX / 2 - *total) / (l->ds_count * sizeof(double)))
            return false;
        *total += l->rra[r].rows * l->ds_count * sizeof(double);
    }
    return true;
}

/* Point im's parts into buf, laid out as the file (rows only when
 * with_rows: a header-only buffer has none). */
static void image_map(struct image *im, unsigned char *buf, bool with_rows)
{
    const struct image_layout *l = im->l;
    unsigned char *p = buf;
    im->stat = (stat_head_t *)(void *)p;
    p += sizeof(stat_head_t);
    im->ds = (ds_def_t *)(void *)p;
    p += l->ds_count * sizeof(ds_def_t);
    im->rra = (rra_def_t *)(void *)p;
    p += l->rra_count * sizeof(rra_def_t);
    im->live = (live_head_t *)(void *)p;
    p += sizeof(live_head_t);
    im->pdp = (pdp_prep_t *)(void *)p;
    p += l->ds_count * sizeof(pdp_prep_t);
    im->cdp = (cdp_prep_t *)(void *)p;
    p += l->rra_count * l->ds_count * sizeof(cdp_prep_t);
    im->ptr = (rra_ptr_t *)(void *)p;
    p += l->rra_count * sizeof(rra_ptr_t);
    for (size_t r = 0; r < l->rra_count; r++) {
        im->rows[r] = with_rows ? (double *)(void *)p : NULL;
        p += l->rra[r].rows * l->ds_count * sizeof(double);
        im->written[r] = 0;
    }
}

/* The header of a freshly created file: librrd's rrd_create_r2 (ring
 * positions aside). */
static void create_header(struct image *im, int64_t start)
{
    const struct image_layout *l = im->l;
    double dnan = bits_double(DNAN_BITS);
    memcpy(im->stat->cookie, RRD_COOKIE, sizeof RRD_COOKIE);
    memcpy(im->stat->version, RRD_VERSION3, sizeof RRD_VERSION3);
    im->stat->float_cookie = FLOAT_COOKIE;
    im->stat->ds_cnt = l->ds_count;
    im->stat->rra_cnt = l->rra_count;
    im->stat->pdp_step = im->step;
    for (size_t d = 0; d < l->ds_count; d++) {
        memcpy(im->ds[d].ds_nam, l->ds[d].name, sizeof l->ds[d].name);
        memcpy(im->ds[d].dst, "GAUGE", sizeof "GAUGE");
        im->ds[d].par[DS_mrhb_cnt].u_cnt = l->ds[d].heartbeat;
        im->ds[d].par[DS_min_val].u_val = dnan;
        im->ds[d].par[DS_max_val].u_val = dnan;
        memcpy(im->pdp[d].last_ds, "U", 2);
        im->pdp[d].scratch[PDP_unkn_sec_cnt].u_cnt = (unsigned long)start % im->step;
        im->pdp[d].scratch[PDP_val].u_val = dnan;
    }
    unsigned long start_step = (unsigned long)start - (unsigned long)start % im->step;
    for (size_t r = 0; r < l->rra_count; r++) {
        memcpy(im->rra[r].cf_nam, l->rra[r].cf_name, strlen(l->rra[r].cf_name) + 1);
        im->rra[r].row_cnt = l->rra[r].rows;
        im->rra[r].pdp_cnt = l->rra[r].steps;
        im->rra[r].par[RRA_cdp_xff_val].u_val = l->rra[r].xff;
        for (size_t d = 0; d < l->ds_count; d++) {
            unival *s = im->cdp[r * l->ds_count + d].scratch;
            s[CDP_val].u_val = dnan;
            s[CDP_unkn_pdp_cnt].u_cnt = start_step % (im->step * l->rra[r].steps) / im->step;
        }
    }
    im->live->last_up = (time_t)start;
    im->live->last_up_usec = 0;
}

/* The bytes of a freshly created file: librrd's rrd_create_r2. */
static void create(struct image *im, int64_t start)
{
    double dnan = bits_double(DNAN_BITS);
    create_header(im, start);
    for (size_t r = 0; r < im->l->rra_count; r++)
        for (size_t i = 0; i < im->l->rra[r].rows * im->l->ds_count; i++)
            im->rows[r][i] = dnan;
}

/* The carried-over CDP_val when a row completes. */
static double carry_over(enum image_cf cf, double pdp, unsigned long elapsed, unsigned long offset,
                         unsigned long steps)
{
    unsigned long into = (elapsed - offset) % steps;
    if (into == 0 || isnan(pdp)) {
        switch (cf) {
        case IMAGE_MAX:
            return -bits_double(DINF_BITS);
        case IMAGE_MIN:
            return bits_double(DINF_BITS);
        case IMAGE_AVERAGE:
            return 0;
        case IMAGE_LAST:
            break;
        }
        return bits_double(DNAN_BITS);
    }
    return cf == IMAGE_AVERAGE ? pdp * (double)into : pdp;
}

/* One archive's consolidation state for one DS after `elapsed` steps whose
 * primary data point is pdp, `rows` of them completing rows (librrd's
 * update_cdp, for archives of more than one step). */
static void consolidate(unival *s, enum image_cf cf, double xff, unsigned long steps, double pdp,
                        unsigned long rows, unsigned long elapsed, unsigned long offset)
{
    if (rows == 0) {
        if (isnan(pdp)) {
            s[CDP_unkn_pdp_cnt].u_cnt += elapsed;
            return;
        }
        double cdp = s[CDP_val].u_val;
        if (isnan(cdp))
            s[CDP_val].u_val = cf == IMAGE_AVERAGE ? pdp * (double)elapsed : pdp;
        else if (cf == IMAGE_AVERAGE)
            s[CDP_val].u_val = cdp + pdp * (double)elapsed;
        else if (cf == IMAGE_MIN)
            s[CDP_val].u_val = pdp < cdp ? pdp : cdp;
        else if (cf == IMAGE_MAX)
            s[CDP_val].u_val = pdp > cdp ? pdp : cdp;
        else
            s[CDP_val].u_val = pdp;
        return;
    }
    if (isnan(pdp)) {
        s[CDP_unkn_pdp_cnt].u_cnt += offset;
        s[CDP_secondary_val].u_val = bits_double(DNAN_BITS);
    } else {
        s[CDP_secondary_val].u_val = pdp;
    }
    if ((double)s[CDP_unkn_pdp_cnt].u_cnt > (double)steps * xff) {
        s[CDP_primary_val].u_val = bits_double(DNAN_BITS);
    } else {
        double cum = s[CDP_val].u_val, cur = pdp;
        switch (cf) {
        case IMAGE_AVERAGE:
            cum = isnan(cum) ? 0.0 : cum;
            cur = isnan(cur) ? 0.0 : cur;
            s[CDP_primary_val].u_val =
                (cum + cur * (double)offset) / (double)(steps - s[CDP_unkn_pdp_cnt].u_cnt);
            break;
        case IMAGE_MAX:
            cum = isnan(cum) ? -bits_double(DINF_BITS) : cum;
            cur = isnan(cur) ? -bits_double(DINF_BITS) : cur;
            s[CDP_primary_val].u_val = cur > cum ? cur : cum;
            break;
        case IMAGE_MIN:
            cum = isnan(cum) ? bits_double(DINF_BITS) : cum;
            cur = isnan(cur) ? bits_double(DINF_BITS) : cur;
            s[CDP_primary_val].u_val = cur < cum ? cur : cum;
            break;
        case IMAGE_LAST:
            s[CDP_primary_val].u_val = pdp;
            break;
        }
    }
    s[CDP_val].u_val = carry_over(cf, pdp, elapsed, offset, steps);
    s[CDP_unkn_pdp_cnt].u_cnt = isnan(pdp) ? (elapsed - offset) % steps : 0;
}

/* The rows an archive of `steps` steps completes when `elapsed` steps pass
 * after step number `done`, and the steps left in its partial row. */
static unsigned long rows_completed(unsigned long steps, unsigned long done, unsigned long elapsed,
                                    unsigned long *offset)
{
    *offset = steps - done % steps;
    return *offset <= elapsed ? (elapsed - *offset) / steps + 1 : 0;
}

/* What librrd reads from the text of value (NaN: "U", unknown). */
static double reading_of(double value)
{
    /* "%.17g" prints an integer below 2^53 as its digits, which librrd's
     * parser accumulates exactly: no need to print it */
    if (isnan(value) || (fabs(value) < 9007199254740992.0 && value == trunc(value)))
        return value;
    char text[RRD_IMAGE_TEXT];
    rrd_image_format(value, text);
    return rrd_image_parse(text, NULL, NULL);
}

/* Apply one update at time now with readings (NaN: "U"): librrd's
 * process_arg for an update on a step boundary, after a last update on a
 * step boundary. pdp_prep's last_ds (the text of the last reading, which a
 * GAUGE never reads back) is left to the caller. */
static void update(struct image *im, int64_t ts, const double *reading)
{
    const struct image_layout *l = im->l;
    unsigned long last = (unsigned long)im->live->last_up, now = (unsigned long)ts;
    double interval = (double)(now - last); /* + 0 microseconds */
    double pdp_new[RRD_IMAGE_DS_MAX], pdp_temp[RRD_IMAGE_DS_MAX];

    /* the readings: rate * seconds */
    for (size_t d = 0; d < l->ds_count; d++) {
        if (!isnan(reading[d]) && (double)l->ds[d].heartbeat >= interval)
            pdp_new[d] = reading[d] * interval;
        else
            pdp_new[d] = bits_double(DNAN_BITS);
    }

    /* the primary data points of the steps passed: both times on step
     * boundaries, so everything before `now` is this reading's, nothing after */
    unsigned long elapsed = (now - last) / im->step, done = last / im->step;
    double pre_int = (double)(long)(now - last), post_int = 0.0;
    for (size_t d = 0; d < l->ds_count; d++) {
        unival *s = im->pdp[d].scratch;
        double pre_unknown = 0.0;
        if (isnan(pdp_new[d])) {
            pre_unknown = pre_int;
        } else {
            if (isnan(s[PDP_val].u_val))
                s[PDP_val].u_val = 0;
            s[PDP_val].u_val += pdp_new[d] / interval * pre_int;
        }
        if (interval > (double)l->ds[d].heartbeat ||
            (double)im->step / 2.0 < (double)(int)s[PDP_unkn_sec_cnt].u_cnt)
            pdp_temp[d] = bits_double(DNAN_BITS);
        else
            pdp_temp[d] = s[PDP_val].u_val /
                          ((double)(elapsed * im->step - s[PDP_unkn_sec_cnt].u_cnt) - pre_unknown);
        if (isnan(pdp_new[d])) {
            s[PDP_unkn_sec_cnt].u_cnt = (unsigned long)floor(post_int);
            s[PDP_val].u_val = bits_double(DNAN_BITS);
        } else {
            s[PDP_unkn_sec_cnt].u_cnt = 0;
            s[PDP_val].u_val = pdp_new[d] / interval * post_int;
        }
    }

    /* consolidation, then the rows: the first completed row gets
     * CDP_primary_val, the following ones CDP_secondary_val */
    for (size_t r = 0; r < l->rra_count; r++) {
        unsigned long offset, steps = l->rra[r].steps;
        unsigned long rows = rows_completed(steps, done, elapsed, &offset);
        for (size_t d = 0; d < l->ds_count; d++) {
            unival *s = im->cdp[r * l->ds_count + d].scratch;
            if (steps > 1) {
                consolidate(s, l->rra[r].cf, l->rra[r].xff, steps, pdp_temp[d], rows, elapsed,
                            offset);
            } else {
                /* one step per row: the row is the primary data point (librrd
                 * sets the secondary value only when two or more steps pass) */
                s[CDP_primary_val].u_val = pdp_temp[d];
                if (elapsed >= 2)
                    s[CDP_secondary_val].u_val = pdp_temp[d];
            }
        }
        unsigned long nrows = l->rra[r].rows, cur = im->ptr[r].cur_row;
        /* librrd writes at most one full turn of the ring: the rows from
         * the current one on, the first (the primary value) included, so
         * that the ring ends where it was */
        if (rows > nrows)
            rows = nrows;
        im->written[r] = rows >= nrows - im->written[r] ? nrows : im->written[r] + rows;
        for (unsigned long k = 0; k < rows; k++) {
            cur = cur + 1 == nrows ? 0 : cur + 1;
            int idx = k == 0 ? CDP_primary_val : CDP_secondary_val;
            for (size_t d = 0; d < l->ds_count; d++)
                im->rows[r][cur * l->ds_count + d] =
                    im->cdp[r * l->ds_count + d].scratch[idx].u_val;
        }
        im->ptr[r].cur_row = cur;
    }
    im->live->last_up = (time_t)ts;
    im->live->last_up_usec = 0;
}

/* ------------------------------------------------------------ entry */

/* Whether the updates are ones this file reproduces exactly. */
static bool updates_supported(const struct rrd_image_spec *spec, int64_t last, size_t ds_count)
{
    for (size_t i = 0; i < spec->count; i++) {
        const struct rrd_image_update *u = &spec->updates[i];
        if (u->ts <= last || u->ts % (int64_t)spec->step != 0)
            return false;
        for (size_t d = 0; d < ds_count; d++)
            if (isinf(u->value[d]))
                return false;
        last = u->ts;
    }
    return true;
}

/* The ring position before any update such that the newest row lands on
 * want (librrd's create picks it at random). */
static unsigned long first_row(const struct rrd_image_spec *spec, unsigned long steps,
                               unsigned long nrows, unsigned long want)
{
    unsigned long written = 0, last = (unsigned long)spec->start;
    for (size_t i = 0; i < spec->count; i++) {
        unsigned long now = (unsigned long)spec->updates[i].ts, offset;
        unsigned long rows =
            rows_completed(steps, last / spec->step, (now - last) / spec->step, &offset);
        written += (rows < nrows ? rows : nrows) % nrows; /* at most a turn: update() */
        last = now;
    }
    return (want % nrows + nrows - written % nrows) % nrows;
}

/* Apply the updates to im: librrd's rrd_update_r with all of them in one
 * call. */
static void apply(struct image *im, const struct rrd_image_update *updates, size_t count)
{
    const struct image_layout *l = im->l;
    for (size_t i = 0; i < count; i++) {
        double reading[RRD_IMAGE_DS_MAX] = {0};
        for (size_t d = 0; d < l->ds_count; d++)
            reading[d] = reading_of(updates[i].value[d]);
        update(im, updates[i].ts, reading);
    }
    /* librrd copies each reading's text (at most LAST_DS_LEN - 1 bytes,
     * zero-padded) into last_ds; only the last update's remains */
    for (size_t d = 0; count > 0 && d < l->ds_count; d++) {
        char text[RRD_IMAGE_TEXT];
        rrd_image_format(updates[count - 1].value[d], text);
        memset(im->pdp[d].last_ds, 0, LAST_DS_LEN);
        memcpy(im->pdp[d].last_ds, text, strnlen(text, LAST_DS_LEN - 1));
    }
}

int rrd_image_build(const struct rrd_image_spec *spec, unsigned char **image, size_t *size)
{
    *image = NULL;
    *size = 0;
    struct image_layout l;
    size_t header, total;
    if (spec->step == 0 || spec->step > LONG_MAX || spec->start <= 0 ||
        spec->start % (int64_t)spec->step != 0 || !parse_layout(spec->argc, spec->argv, &l) ||
        !updates_supported(spec, spec->start, l.ds_count) || !image_size(&l, &header, &total))
        return RRD_IMAGE_UNSUPPORTED;
    unsigned char *buf = calloc(1, total);
    if (buf == NULL)
        return KPI_ESYSTEM;

    struct image im = {.l = &l, .step = spec->step};
    image_map(&im, buf, true);
    create(&im, spec->start);
    for (size_t r = 0; r < l.rra_count; r++)
        im.ptr[r].cur_row = first_row(spec, l.rra[r].steps, l.rra[r].rows,
                                      spec->cur_row != NULL ? spec->cur_row[r] : l.rra[r].rows - 1);
    apply(&im, spec->updates, spec->count);
    *image = buf;
    *size = total;
    return 0;
}

/* ------------------------------------------------------------ append */

static bool read_all(int fd, unsigned char *buf, size_t size, off_t off)
{
    while (size > 0) {
        ssize_t n = pread(fd, buf, size, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* the file shrank under us */
            return false;
        }
        buf += n;
        size -= (size_t)n;
        off += n;
    }
    return true;
}

/* Whether the header just read (in im) is one this file's update reproduces:
 * the static part exactly what create writes for the layout (cookie,
 * version, float cookie, counts, step, DS and RRA definitions), the state
 * one that updates on step boundaries leave. */
static bool header_supported(const struct image *im, const unsigned char *file,
                             unsigned char *expect)
{
    const struct image_layout *l = im->l;
    struct image want = {.l = l, .step = im->step};
    image_map(&want, expect, false);
    size_t fixed = (size_t)((unsigned char *)want.live - expect);
    memset(expect, 0, fixed + sizeof(live_head_t)); /* create writes fields, not padding */
    create_header(&want, (int64_t)im->step);
    if (memcmp(file, expect, fixed) != 0)
        return false;
    if (im->live->last_up <= 0 || im->live->last_up_usec != 0 ||
        (unsigned long)im->live->last_up % im->step != 0)
        return false;
    for (size_t d = 0; d < l->ds_count; d++) {
        const unival *s = im->pdp[d].scratch;
        if (s[PDP_unkn_sec_cnt].u_cnt != 0 || !(isnan(s[PDP_val].u_val) || s[PDP_val].u_val == 0))
            return false;
    }
    for (size_t r = 0; r < l->rra_count; r++) {
        if (im->ptr[r].cur_row >= l->rra[r].rows)
            return false;
        for (size_t d = 0; d < l->ds_count; d++)
            if (im->cdp[r * l->ds_count + d].scratch[CDP_unkn_pdp_cnt].u_cnt >= l->rra[r].steps)
                return false;
    }
    return true;
}

/* An append computed, waiting to be written: the file open and locked, and
 * the byte ranges that change, their bytes back to back after the struct. */
struct pending_seg {
    off_t off;
    size_t len;
};

struct rrd_image_pending {
    int fd;
    bool heap; /* malloc'd, else the caller's allocator's */
    size_t count;
    struct pending_seg seg[]; /* count of them, then their bytes back to back */
};

static unsigned char *pending_bytes(struct rrd_image_pending *p)
{
    return (unsigned char *)&p->seg[p->count];
}

/* The byte ranges of buf (laid out as the file) that the updates applied to
 * im changed: the rows written into each ring (those after the ring's
 * current row before the updates, one range or two where the ring wraps),
 * then the header from live_head to rra_ptr (with the first ring's rows
 * when they start right after it). */
static size_t changed_ranges(const struct image *im, const unsigned char *buf, size_t header,
                             off_t off[], size_t len[])
{
    const struct image_layout *l = im->l;
    size_t row = l->ds_count * sizeof(double), n = 0;
    for (size_t r = 0; r < l->rra_count; r++) {
        unsigned long nrows = l->rra[r].rows, w = im->written[r];
        if (w == 0)
            continue;
        unsigned long cur = im->ptr[r].cur_row;
        unsigned long first = (cur + nrows - (w - 1) % nrows) % nrows;
        if (w == nrows)
            first = 0;
        unsigned long tail = nrows - first < w ? nrows - first : w;
        size_t at = (size_t)((const unsigned char *)im->rows[r] - buf);
        off[n] = (off_t)(at + first * row);
        len[n++] = tail * row;
        if (w > tail) {
            off[n] = (off_t)at;
            len[n++] = (w - tail) * row;
        }
    }
    size_t live = (size_t)((const unsigned char *)im->live - buf);
    off[n] = (off_t)live;
    len[n++] = header - live;
    /* rows written from the first ring's row 0 (an append after a rebuild,
     * whose rings end on their last row) start where the header ends: one
     * write with it, still the last one (a pwrite fewer per file: ~2 us of
     * system time on this project's machines) */
    for (size_t i = 0; i + 1 < n; i++) {
        if ((size_t)off[i] != header)
            continue;
        len[n - 1] += len[i];
        for (size_t j = i; j + 1 < n; j++) {
            off[j] = off[j + 1];
            len[j] = len[j + 1];
        }
        n--;
        break;
    }
    return n;
}

/* The pending append of the changes in buf (fd taken), from alloc (NULL:
 * malloc), or NULL (errno set) when out of memory. */
static struct rrd_image_pending *pending_of(int fd, const struct image *im, unsigned char *buf,
                                            size_t header, rrd_image_alloc alloc, void *ctx)
{
    off_t off[2 * RRD_IMAGE_RRA_MAX + 1];
    size_t len[2 * RRD_IMAGE_RRA_MAX + 1], n = changed_ranges(im, buf, header, off, len), bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += len[i];
    size_t size = sizeof(struct rrd_image_pending) + n * sizeof(struct pending_seg) + bytes;
    struct rrd_image_pending *p = alloc != NULL ? alloc(ctx, size) : malloc(size);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    p->fd = fd;
    p->heap = alloc == NULL;
    p->count = n;
    unsigned char *at = pending_bytes(p);
    for (size_t i = 0; i < n; i++) {
        p->seg[i].off = off[i];
        p->seg[i].len = len[i];
        memcpy(at, buf + off[i], len[i]);
        at += len[i];
    }
    return p;
}

/* Close fd, dropping its lock; rc unless the close fails where rc is 0,
 * errno kept for a failure. */
static int close_keeping(int fd, int rc)
{
    int saved = errno;
    if (close(fd) != 0 && rc == 0)
        return KPI_ESYSTEM;
    errno = saved;
    return rc;
}

int rrd_image_append_prepare(const char *path, const struct rrd_image_spec *spec,
                             rrd_image_alloc alloc, void *ctx, struct rrd_image_pending **out)
{
    *out = NULL;
    struct image_layout l;
    size_t header, total;
    if (spec->step == 0 || spec->step > LONG_MAX || !parse_layout(spec->argc, spec->argv, &l) ||
        !image_size(&l, &header, &total))
        return RRD_IMAGE_UNSUPPORTED;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) /* O_NOATIME: only the file's owner may */
        fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return KPI_ESYSTEM;
    /* librrd's lock: a write lock on the whole file, never waiting */
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_SETLK, &lock) != 0) {
        int rc = errno == EAGAIN || errno == EACCES ? RRD_IMAGE_BUSY : KPI_ESYSTEM;
        return close_keeping(fd, rc);
    }
    /* the file's bytes, header read from the file and rows as written, then
     * a header-sized scratch buffer for what the header should be */
    unsigned char *buf = malloc(total + header);
    struct stat st;
    int rc = KPI_ESYSTEM;
    if (buf == NULL || fstat(fd, &st) != 0)
        goto fail;
    rc = RRD_IMAGE_UNSUPPORTED;
    if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size != (uintmax_t)total)
        goto fail;
    rc = KPI_ESYSTEM;
    if (!read_all(fd, buf, header, 0))
        goto fail;
    struct image im = {.l = &l, .step = spec->step};
    image_map(&im, buf, true);
    rc = RRD_IMAGE_UNSUPPORTED;
    if (!header_supported(&im, buf, buf + total) ||
        !updates_supported(spec, (int64_t)im.live->last_up, l.ds_count))
        goto fail;
    apply(&im, spec->updates, spec->count);
    *out = pending_of(fd, &im, buf, header, alloc, ctx);
    rc = *out != NULL ? 0 : KPI_ESYSTEM;
    if (rc == 0) {
        free(buf);
        return 0;
    }
fail:;
    int saved = errno;
    free(buf);
    errno = saved;
    return close_keeping(fd, rc);
}

int rrd_image_append_finish(struct rrd_image_pending *p)
{
    int rc = 0;
    const unsigned char *at = pending_bytes(p);
    for (size_t i = 0; i < p->count && rc == 0; i++) {
        if (!store_pwrite_all(p->fd, at, p->seg[i].len, p->seg[i].off))
            rc = KPI_ESYSTEM;
        at += p->seg[i].len;
    }
    rc = close_keeping(p->fd, rc); /* closing drops the lock */
    int saved = errno;
    if (p->heap)
        free(p);
    errno = saved;
    return rc;
}

void rrd_image_append_cancel(struct rrd_image_pending *p)
{
    if (p == NULL)
        return;
    close(p->fd);
    if (p->heap)
        free(p);
}

size_t rrd_image_pending_writes(const struct rrd_image_pending *p)
{
    return p->count;
}

size_t rrd_image_pending_size(const struct rrd_image_pending *p)
{
    size_t bytes = sizeof *p + p->count * sizeof p->seg[0];
    for (size_t i = 0; i < p->count; i++)
        bytes += p->seg[i].len;
    return bytes;
}

int rrd_image_append(const char *path, const struct rrd_image_spec *spec)
{
    struct rrd_image_pending *p;
    int rc = rrd_image_append_prepare(path, spec, NULL, NULL, &p);
    return rc != 0 ? rc : rrd_image_append_finish(p);
}
