/* Private to common/ and its tests: the choice between the two SHA-256
 * implementations of common/sha256.c, so that a test runs the portable
 * rounds even on a CPU with the SHA extensions. Library code never calls
 * this: kpi_sha256_init picks KPI_SHA256_AUTO. */
#ifndef KPI_COMMON_SHA256_INT_H
#define KPI_COMMON_SHA256_INT_H

#include "common/common.h"

#include <stdbool.h>

enum kpi_sha256_impl {
    KPI_SHA256_AUTO,     /* SHA-NI when the CPU has it (and the compiler), else portable */
    KPI_SHA256_PORTABLE, /* the plain C rounds of FIPS 180-4 */
    KPI_SHA256_NI,       /* the x86 SHA extensions */
};

/* True when this build and this CPU can run KPI_SHA256_NI. */
bool kpi_sha256_have_ni(void);

/* kpi_sha256_init with the implementation impl for every block of ctx
 * (AUTO is resolved here, once). Returns 0, or KPI_EUSAGE for
 * KPI_SHA256_NI where kpi_sha256_have_ni() is false (ctx then uses the
 * portable rounds). */
int kpi_sha256_init_impl(struct kpi_sha256 *ctx, enum kpi_sha256_impl impl);

/* The implementation ctx runs (never AUTO). */
enum kpi_sha256_impl kpi_sha256_impl_of(const struct kpi_sha256 *ctx);

#endif
