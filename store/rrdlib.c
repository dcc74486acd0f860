/*
 * librrd, loaded when first needed.
 *
 * Why: librrd 1.7 links its graphing stack (cairo, pango, glib, fontconfig,
 * freetype, harfbuzz, libpng, libxml2 ...: some 40 shared libraries). Loading
 * them costs 30-60 ms at every process start on this machine, more than a
 * whole `kpi drift TEAM` answer is allowed (50 ms), and the read path never
 * touches an RRD file: numbers come from the ledger. So the kpi binary does
 * not link librrd; this file defines the librrd functions store/ calls, with
 * their exact prototypes from <rrd.h>, and each one forwards to the real
 * function, resolved with dlopen/dlsym on the first call of any of them.
 * Call sites stay plain librrd calls.
 *
 * If the library cannot be loaded, every function fails the way librrd
 * reports errors (-1 / NULL / 0) and rrd_get_error() says why.
 *
 * The resolved table is the one process-wide state here: written once under
 * pthread_once, read-only afterwards, so any thread may call these.
 */
#include <rrd.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The soname librrd 1.7 ships (Debian package librrd8), then the
 * development symlink. */
static const char *const rrd_library_names[] = {"librrd.so.8", "librrd.so"};

static struct {
    bool loaded;
    char error[256];
    void (*clear_error)(void);
    char *(*get_error)(void);
    int (*test_error)(void);
    void (*freemem)(void *);
    void (*info_free)(rrd_info_t *);
    rrd_info_t *(*graph_v)(int, char **);
    rrd_info_t *(*info_r)(const char *);
    int (*create_r2)(const char *, unsigned long, time_t, int, const char **, const char *, int,
                     const char **);
    int (*update_r)(const char *, const char *, int, const char **);
    int (*updatex_r)(const char *, const char *, int, int, const char **);
    int (*fetch_r)(const char *, const char *, time_t *, time_t *, unsigned long *, unsigned long *,
                   char ***, rrd_value_t **);
    time_t (*last_r)(const char *);
    int (*lastupdate_r)(const char *, time_t *, unsigned long *, char ***, char ***);
    time_t (*first_r)(const char *, const int);
} rrdlib;

static pthread_once_t rrdlib_once = PTHREAD_ONCE_INIT;

/* dlsym returns an object pointer; converting it to a function pointer is
 * what POSIX requires to work. Copying the bytes keeps -Wpedantic quiet. */
#define RESOLVE(handle, field, name)                                                               \
    do {                                                                                           \
        void *sym = dlsym(handle, name);                                                           \
        if (sym == NULL)                                                                           \
            missing = name;                                                                        \
        memcpy(&rrdlib.field, &sym, sizeof sym);                                                   \
    } while (0)

static void rrdlib_load(void)
{
    void *handle = NULL;
    for (size_t i = 0; handle == NULL && i < sizeof rrd_library_names / sizeof *rrd_library_names;
         i++)
        handle = dlopen(rrd_library_names[i], RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(rrdlib.error, sizeof rrdlib.error, "cannot load librrd: %s", dlerror());
        return;
    }
    const char *missing = NULL;
    RESOLVE(handle, clear_error, "rrd_clear_error");
    RESOLVE(handle, get_error, "rrd_get_error");
    RESOLVE(handle, test_error, "rrd_test_error");
    RESOLVE(handle, freemem, "rrd_freemem");
    RESOLVE(handle, info_free, "rrd_info_free");
    RESOLVE(handle, graph_v, "rrd_graph_v");
    RESOLVE(handle, info_r, "rrd_info_r");
    RESOLVE(handle, create_r2, "rrd_create_r2");
    RESOLVE(handle, update_r, "rrd_update_r");
    RESOLVE(handle, updatex_r, "rrd_updatex_r");
    RESOLVE(handle, fetch_r, "rrd_fetch_r");
    RESOLVE(handle, last_r, "rrd_last_r");
    RESOLVE(handle, lastupdate_r, "rrd_lastupdate_r");
    RESOLVE(handle, first_r, "rrd_first_r");
    if (missing != NULL) {
        snprintf(rrdlib.error, sizeof rrdlib.error, "librrd has no %s", missing);
        return; /* the handle stays open: harmless, and dlclose is not needed */
    }
    rrdlib.loaded = true;
}

static bool rrdlib_ready(void)
{
    pthread_once(&rrdlib_once, rrdlib_load);
    return rrdlib.loaded;
}

void rrd_clear_error(void)
{
    if (rrdlib_ready())
        rrdlib.clear_error();
}

char *rrd_get_error(void)
{
    return rrdlib_ready() ? rrdlib.get_error() : rrdlib.error;
}

int rrd_test_error(void)
{
    return rrdlib_ready() ? rrdlib.test_error() : 1;
}

void rrd_freemem(void *mem)
{
    if (rrdlib_ready())
        rrdlib.freemem(mem);
}

void rrd_info_free(rrd_info_t *info)
{
    if (rrdlib_ready())
        rrdlib.info_free(info);
}

rrd_info_t *rrd_graph_v(int argc, char **argv)
{
    return rrdlib_ready() ? rrdlib.graph_v(argc, argv) : NULL;
}

rrd_info_t *rrd_info_r(const char *filename)
{
    return rrdlib_ready() ? rrdlib.info_r(filename) : NULL;
}

int rrd_create_r2(const char *filename, unsigned long pdp_step, time_t last_up, int no_overwrite,
                  const char **sources, const char *_template, int argc, const char **argv)
{
    return rrdlib_ready() ? rrdlib.create_r2(filename, pdp_step, last_up, no_overwrite, sources,
                                             _template, argc, argv)
                          : -1;
}

int rrd_update_r(const char *filename, const char *_template, int argc, const char **argv)
{
    return rrdlib_ready() ? rrdlib.update_r(filename, _template, argc, argv) : -1;
}

int rrd_updatex_r(const char *filename, const char *_template, int extra_flags, int argc,
                  const char **argv)
{
    return rrdlib_ready() ? rrdlib.updatex_r(filename, _template, extra_flags, argc, argv) : -1;
}

int rrd_fetch_r(const char *filename, const char *cf, time_t *start, time_t *end,
                unsigned long *step, unsigned long *ds_cnt, char ***ds_namv, rrd_value_t **data)
{
    return rrdlib_ready() ? rrdlib.fetch_r(filename, cf, start, end, step, ds_cnt, ds_namv, data)
                          : -1;
}

time_t rrd_last_r(const char *filename)
{
    return rrdlib_ready() ? rrdlib.last_r(filename) : -1;
}

int rrd_lastupdate_r(const char *filename, time_t *ret_last_update, unsigned long *ret_ds_count,
                     char ***ret_ds_names, char ***ret_last_ds)
{
    return rrdlib_ready() ? rrdlib.lastupdate_r(filename, ret_last_update, ret_ds_count,
                                                ret_ds_names, ret_last_ds)
                          : -1;
}

time_t rrd_first_r(const char *filename, const int rraindex)
{
    return rrdlib_ready() ? rrdlib.first_r(filename, rraindex) : -1;
}
