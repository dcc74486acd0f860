/*
 * The libmicrohttpd functions only web/'s access code calls (auth.c,
 * upload.c, access_log.c), loaded like those of mhdlib.c: resolved with
 * dlsym on first use. They are only reached with connections of a daemon
 * that MHD_start_daemon made, so the library is loaded by then; this table
 * is filled once under pthread_once and read-only afterwards.
 */
#include "web/web_int.h"

#include <microhttpd.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

static struct {
    const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *,
                                                           enum MHD_ConnectionInfoType, ...);
    int (*get_connection_values)(struct MHD_Connection *, enum MHD_ValueKind, MHD_KeyValueIterator,
                                 void *);
    void (*suspend_connection)(struct MHD_Connection *);
    void (*resume_connection)(struct MHD_Connection *);
} access_lib;

static pthread_once_t access_once = PTHREAD_ONCE_INIT;

static void *symbol(void *handle, const char *name)
{
    return handle ? dlsym(handle, name) : NULL;
}

#define RESOLVE(handle, field, name)                                                               \
    do {                                                                                           \
        void *sym = symbol(handle, name);                                                          \
        memcpy(&access_lib.field, &sym, sizeof sym);                                               \
    } while (0)

static void access_load(void)
{
    void *handle = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL)
        handle = dlopen("libmicrohttpd.so", RTLD_NOW | RTLD_LOCAL);
    RESOLVE(handle, get_connection_info, "MHD_get_connection_info");
    RESOLVE(handle, get_connection_values, "MHD_get_connection_values");
    RESOLVE(handle, suspend_connection, "MHD_suspend_connection");
    RESOLVE(handle, resume_connection, "MHD_resume_connection");
}

/* web/ asks for MHD_CONNECTION_INFO_CLIENT_ADDRESS and
 * MHD_CONNECTION_INFO_HTTP_STATUS, which take no extra argument. */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
                                                        enum MHD_ConnectionInfoType info_type, ...)
{
    pthread_once(&access_once, access_load);
    return access_lib.get_connection_info ? access_lib.get_connection_info(connection, info_type)
                                          : NULL;
}

int MHD_get_connection_values(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator iterator, void *iterator_cls)
{
    pthread_once(&access_once, access_load);
    return access_lib.get_connection_values
               ? access_lib.get_connection_values(connection, kind, iterator, iterator_cls)
               : -1;
}

void MHD_suspend_connection(struct MHD_Connection *connection)
{
    pthread_once(&access_once, access_load);
    access_lib.suspend_connection(connection);
}

void MHD_resume_connection(struct MHD_Connection *connection)
{
    pthread_once(&access_once, access_load);
    access_lib.resume_connection(connection);
}
