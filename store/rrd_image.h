/*
 * rrd_image — an RRD file built in memory (private to store/).
 *
 * librrd spends ~0.2 ms per create and ~0.4 ms or more per update call in
 * the kernel (mmap, munmap, fcntl on every call), which dominates a large
 * import. A rebuild instead computes the whole file here: the bytes that
 * librrd 1.7.2's rrd_create_r2 with the same layout and start, followed by
 * one rrd_update_r with the same updates, leaves on disk — except where
 * each archive's ring starts: librrd's create picks the current row of
 * every archive at random (rra_random_row), the image puts it where the
 * caller says (by default so that the newest row is the last one). The file
 * is then written with one write(2). librrd stays the reference:
 * tests/test_store_rrd_image.c builds the same series both ways and compares
 * the files byte for byte (ring positions aligned) and through librrd's
 * fetch, info, lastupdate and later appends.
 *
 * Only what kpi writes is supported; anything else is declined with
 * RRD_IMAGE_UNSUPPORTED so that the caller can fall back to librrd:
 * - DS:<name>:GAUGE:<heartbeat seconds>:U:U, at most RRD_IMAGE_DS_MAX;
 * - RRA:<AVERAGE|MIN|MAX|LAST>:<xff>:<steps>:<rows> (plain numbers);
 * - a start and update times that are multiples of the step, increasing;
 * - finite values or NaN (unknown), each written as rrd_image_format does.
 *
 * An APPEND (rrd_image_append) is the same update arithmetic started from
 * the state read from an existing file instead of a created one: librrd's
 * rrd_update_r without its mmap/munmap (each munmap costs a TLB-flush IPI
 * to every other CPU, very expensive on a paravirtualized VM). It reads the
 * header with pread, takes librrd's lock, and writes with pwrite only the
 * rows and header parts that change; the bytes are those rrd_update_r
 * leaves (tests/test_store_rrd_image.c compares them). No fsync.
 *
 * Building is pure computation on caller memory, appending touches only the
 * file it is given: both thread-safe.
 */
#ifndef KPI_STORE_RRD_IMAGE_H
#define KPI_STORE_RRD_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define RRD_IMAGE_DS_MAX 4
#define RRD_IMAGE_RRA_MAX 16
#define RRD_IMAGE_UNSUPPORTED 1 /* declined: use librrd */
#define RRD_IMAGE_BUSY 2        /* another process holds the file's lock: retry */
#define RRD_IMAGE_TEXT 32       /* room for any rrd_image_format text */

/* One update as rrd_update_r gets it: "ts:v0:v1...". */
struct rrd_image_update {
    int64_t ts;                     /* seconds since the epoch */
    double value[RRD_IMAGE_DS_MAX]; /* one per DS of the layout; NaN: "U" */
};

struct rrd_image_spec {
    unsigned long step;                     /* seconds, as rrd_create_r2's pdp_step */
    int64_t start;                          /* rrd_create_r2's last_up */
    int argc;                               /* the layout, as rrd_create_r2's argc/argv */
    const char *const *argv;                /* (borrowed) */
    const struct rrd_image_update *updates; /* (borrowed) in time order */
    size_t count;
    /* Where each archive's current row (the newest row written) ends up,
     * one per RRA in layout order; NULL: its last row. A test passes the
     * rows of a librrd-made file to compare the two byte for byte. */
    const unsigned long *cur_row;
};

/* Build the file's bytes into *image (caller owns it: free with free()),
 * *size bytes. Returns 0; RRD_IMAGE_UNSUPPORTED (nothing allocated) when
 * the layout or the updates are outside what is supported (see above), or
 * when librrd would refuse them; KPI_ESYSTEM when out of memory. */
int rrd_image_build(const struct rrd_image_spec *spec, unsigned char **image, size_t *size);

/* Append spec's updates (step, argc/argv: the layout the file must have;
 * start and cur_row unused) to the RRD file at path, in place, as one
 * rrd_update_r with the same updates would: the same bytes. Holds a fcntl
 * write lock on the whole file meanwhile (F_SETLK, as librrd). Returns
 * - 0: appended;
 * - RRD_IMAGE_UNSUPPORTED (the file untouched): the file is not exactly
 *   the layout's (cookie, version, float cookie, counts, step, DS and RRA
 *   definitions, size), not in a state reached by updates on step
 *   boundaries, or the updates are not all after its last update, on step
 *   boundaries, finite or NaN: use librrd (which refuses what it must);
 * - RRD_IMAGE_BUSY (untouched): the lock is held elsewhere, retry later;
 * - KPI_ESYSTEM with errno set: opening, reading or writing failed (the
 *   file may be partly written then: rebuild it). */
int rrd_image_append(const char *path, const struct rrd_image_spec *spec);

/* rrd_image_append in two steps, for a writer that may compute an append
 * before it may write it (store/rrd_pool.c: before the database's COMMIT).
 * rrd_image_append_prepare does everything but the writes: it opens the
 * file (O_NOATIME where allowed), takes the lock, reads and checks the
 * header and computes the bytes that change; it returns what
 * rrd_image_append returns, and on 0 *out (caller-owned), which holds the
 * descriptor and its lock until rrd_image_append_finish writes the changes
 * with pwrite and closes it (its result: 0 or KPI_ESYSTEM with errno set,
 * the file then maybe partly written) or rrd_image_append_cancel closes it
 * untouched; either frees it. Nothing else may write the file meanwhile
 * (the lock keeps librrd out; the caller keeps its own writers out). */
struct rrd_image_pending;
/* Where *out's memory comes from: alloc(ctx, size) gives size bytes aligned
 * for any object, or NULL; rrd_image never frees it. alloc NULL: malloc,
 * freed by finish or cancel. */
typedef void *(*rrd_image_alloc)(void *ctx, size_t size);
int rrd_image_append_prepare(const char *path, const struct rrd_image_spec *spec,
                             rrd_image_alloc alloc, void *ctx, struct rrd_image_pending **out);
int rrd_image_append_finish(struct rrd_image_pending *p);
void rrd_image_append_cancel(struct rrd_image_pending *p);
/* The memory p takes (bytes). */
size_t rrd_image_pending_size(const struct rrd_image_pending *p);
/* The pwrites finishing p takes: one per changed byte range (a ring's new
 * rows, two where it wraps; the header's live part, with the first ring's
 * rows when they start at row 0, right after the header). */
size_t rrd_image_pending_writes(const struct rrd_image_pending *p);

/* The text of an update value: "U" for NaN, else "%.17g" (which is what
 * the librrd path writes too). buf holds RRD_IMAGE_TEXT bytes; returns
 * the length. */
size_t rrd_image_format(double value, char *buf);

/* The double librrd 1.7.2 reads from text (its rrd_strtod: C-locale
 * digits accumulated in a double, then scaled by powers of ten — not
 * always the nearest double, so kpi must compute it the same way). *end
 * (when not NULL) gets the first unread character, text itself when no
 * digit was found; *range is set when the exponent is out of range (librrd
 * then reads HUGE_VAL and reads no character). */
double rrd_image_parse(const char *text, const char **end, int *range);

#endif
