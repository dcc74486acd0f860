/*
 * libmicrohttpd, loaded when `kpi serve` first needs it.
 *
 * Why: libmicrohttpd brings GnuTLS and its eight dependencies; loading them
 * costs ~10 ms at every start of the kpi binary, a fifth of the 50 ms budget
 * of a one-team query that never serves HTTP. As for librrd (store/rrdlib.c),
 * the binary does not link it: this file defines the few MHD functions web/
 * calls, with their prototypes from <microhttpd.h>, forwarding to the real
 * ones resolved with dlopen/dlsym on first use. MHD_start_daemon, variadic,
 * forwards to MHD_start_daemon_va.
 *
 * If the library cannot be loaded, MHD_start_daemon returns NULL (web_start
 * reports it) and web_mhd_error() says why; the other functions are only
 * reached with objects MHD_start_daemon made.
 *
 * The resolved table is written once under pthread_once and read-only
 * afterwards: any thread may call these.
 */
#include "web/web_int.h"

#include <microhttpd.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The soname of libmicrohttpd 0.9.x (Debian package libmicrohttpd12). */
static const char *const mhd_library_names[] = {"libmicrohttpd.so.12", "libmicrohttpd.so"};

static struct {
    bool loaded;
    char error[256];
    struct MHD_Daemon *(*start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                          MHD_AccessHandlerCallback, void *, va_list);
    void (*stop_daemon)(struct MHD_Daemon *);
    const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *, enum MHD_DaemonInfoType,
                                                   ...);
    const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind,
                                           const char *);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
    struct MHD_Response *(*create_response_from_buffer)(size_t, void *,
                                                        enum MHD_ResponseMemoryMode);
    enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
    void (*destroy_response)(struct MHD_Response *);
    enum MHD_Result (*run)(struct MHD_Daemon *);
    enum MHD_Result (*get_timeout)(struct MHD_Daemon *, MHD_UNSIGNED_LONG_LONG *);
    MHD_socket (*quiesce_daemon)(struct MHD_Daemon *);
    enum MHD_Result (*set_connection_option)(struct MHD_Connection *, enum MHD_CONNECTION_OPTION,
                                             ...);
} mhdlib;

static pthread_once_t mhdlib_once = PTHREAD_ONCE_INIT;

/* dlsym returns an object pointer; POSIX guarantees it converts to a
 * function pointer. Copying the bytes keeps -Wpedantic quiet. */
#define RESOLVE(handle, field, name)                                                               \
    do {                                                                                           \
        void *sym = dlsym(handle, name);                                                           \
        if (sym == NULL)                                                                           \
            missing = name;                                                                        \
        memcpy(&mhdlib.field, &sym, sizeof sym);                                                   \
    } while (0)

static void mhdlib_load(void)
{
    void *handle = NULL;
    for (size_t i = 0; handle == NULL && i < sizeof mhd_library_names / sizeof *mhd_library_names;
         i++)
        handle = dlopen(mhd_library_names[i], RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(mhdlib.error, sizeof mhdlib.error, "cannot load libmicrohttpd: %s", dlerror());
        return;
    }
    const char *missing = NULL;
    RESOLVE(handle, start_daemon_va, "MHD_start_daemon_va");
    RESOLVE(handle, stop_daemon, "MHD_stop_daemon");
    RESOLVE(handle, get_daemon_info, "MHD_get_daemon_info");
    RESOLVE(handle, lookup_connection_value, "MHD_lookup_connection_value");
    RESOLVE(handle, queue_response, "MHD_queue_response");
    RESOLVE(handle, create_response_from_buffer, "MHD_create_response_from_buffer");
    RESOLVE(handle, add_response_header, "MHD_add_response_header");
    RESOLVE(handle, destroy_response, "MHD_destroy_response");
    RESOLVE(handle, run, "MHD_run");
    RESOLVE(handle, get_timeout, "MHD_get_timeout");
    RESOLVE(handle, quiesce_daemon, "MHD_quiesce_daemon");
    RESOLVE(handle, set_connection_option, "MHD_set_connection_option");
    if (missing != NULL) {
        snprintf(mhdlib.error, sizeof mhdlib.error, "libmicrohttpd has no %s", missing);
        return;
    }
    mhdlib.loaded = true;
}

const char *web_mhd_error(void)
{
    pthread_once(&mhdlib_once, mhdlib_load);
    return mhdlib.loaded ? NULL : mhdlib.error;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    if (web_mhd_error() != NULL)
        return NULL;
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = mhdlib.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

/* Only reached with a daemon MHD_start_daemon made, so the table is loaded. */
void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
    mhdlib.stop_daemon(daemon);
}

/* web/ asks only for MHD_DAEMON_INFO_EPOLL_FD and
 * MHD_DAEMON_INFO_CURRENT_CONNECTIONS, which take no extra argument. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
                                                enum MHD_DaemonInfoType info_type, ...)
{
    return mhdlib.get_daemon_info(daemon, info_type);
}

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    return mhdlib.lookup_connection_value(connection, kind, key);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    return mhdlib.queue_response(connection, status_code, response);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
    return mhdlib.create_response_from_buffer(size, buffer, mode);
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response, const char *header,
                                        const char *content)
{
    return mhdlib.add_response_header(response, header, content);
}

void MHD_destroy_response(struct MHD_Response *response)
{
    mhdlib.destroy_response(response);
}

enum MHD_Result MHD_run(struct MHD_Daemon *daemon)
{
    return mhdlib.run(daemon);
}

enum MHD_Result MHD_get_timeout(struct MHD_Daemon *daemon, MHD_UNSIGNED_LONG_LONG *timeout)
{
    return mhdlib.get_timeout(daemon, timeout);
}

MHD_socket MHD_quiesce_daemon(struct MHD_Daemon *daemon)
{
    return mhdlib.quiesce_daemon(daemon);
}

/* web/ sets only MHD_CONNECTION_OPTION_TIMEOUT, whose one argument is an
 * unsigned int (seconds). */
enum MHD_Result MHD_set_connection_option(struct MHD_Connection *connection,
                                          enum MHD_CONNECTION_OPTION option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned int seconds = va_arg(ap, unsigned int);
    va_end(ap);
    return mhdlib.set_connection_option(connection, option, seconds);
}
