/* SHA-256 (FIPS 180-4): see common.h. A plain, portable implementation,
 * and the x86 SHA extensions (SHA-NI) where the CPU has them: a commit
 * hashes its whole content (the hash chain: ~70 bytes per version, 70 MB
 * for a load of 1 M rows) and the imported file, where the portable rounds
 * cost ~60 instructions per byte and SHA-NI a few. Chosen once per context
 * at init by GCC's __builtin_cpu_supports (set once at start-up by libgcc;
 * no CPUID per call, which a VM traps); other compilers use the portable
 * code. Tests force either through common/sha256_int.h, so the portable
 * rounds are tested on a CPU with SHA-NI too (tests/test_common_sha256.c). */
#include "common/sha256_int.h"

#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define KPI_SHA_NI 1
#include <immintrin.h>
#endif

static const uint32_t k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const unsigned char block[64])
{
    uint32_t w[64];
    for (unsigned i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
               (uint32_t)block[4 * i + 2] << 8 | (uint32_t)block[4 * i + 3];
    for (unsigned i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t t1 =
            hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

#ifdef KPI_SHA_NI
/* The rounds of n blocks with the SHA extensions (the state kept as ABEF
 * and CDGH, the order sha256rnds2 works in). */
__attribute__((target("sha,sse4.1"))) static void compress_ni(uint32_t h[8], const unsigned char *p,
                                                              size_t n)
{
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
    __m128i s1 = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xB1);       /* CDAB */
    s1 = _mm_shuffle_epi32(s1, 0x1B);         /* EFGH */
    __m128i s0 = _mm_alignr_epi8(tmp, s1, 8); /* ABEF */
    s1 = _mm_blend_epi16(s1, tmp, 0xF0);      /* CDGH */
    for (; n > 0; n--, p += 64) {
        __m128i abef = s0, cdgh = s1, w[4];
        for (unsigned g = 0; g < 16; g++) {
            __m128i x;
            if (g < 4) {
                x = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * g)),
                                     swap);
            } else { /* words 4g .. 4g+3 from the four before them */
                x = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
                x = _mm_sha256msg2_epu32(x, w[(g + 3) % 4]);
            }
            w[g % 4] = x;
            __m128i m = _mm_add_epi32(x, _mm_loadu_si128((const __m128i *)(const void *)&k[4 * g]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, m);
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
        }
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
    }
    tmp = _mm_shuffle_epi32(s0, 0x1B);   /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);    /* DCHG */
    s0 = _mm_blend_epi16(tmp, s1, 0xF0); /* DCBA */
    s1 = _mm_alignr_epi8(s1, tmp, 8);    /* HGFE */
    _mm_storeu_si128((__m128i *)(void *)&h[0], s0);
    _mm_storeu_si128((__m128i *)(void *)&h[4], s1);
}
#endif

/* The rounds of n whole blocks at p, with ctx's implementation. */
static void compress_blocks(struct kpi_sha256 *ctx, const unsigned char *p, size_t n)
{
#ifdef KPI_SHA_NI
    if (ctx->impl == KPI_SHA256_NI) {
        compress_ni(ctx->h, p, n);
        return;
    }
#endif
    for (; n > 0; n--, p += 64)
        compress(ctx->h, p);
}

bool kpi_sha256_have_ni(void)
{
#ifdef KPI_SHA_NI
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
#else
    return false;
#endif
}

int kpi_sha256_init_impl(struct kpi_sha256 *ctx, enum kpi_sha256_impl impl)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(ctx->h, iv, sizeof iv);
    ctx->bytes = 0;
    ctx->used = 0;
    bool ni = kpi_sha256_have_ni();
    ctx->impl = (impl == KPI_SHA256_AUTO || impl == KPI_SHA256_NI) && ni ? KPI_SHA256_NI
                                                                         : KPI_SHA256_PORTABLE;
    return impl == KPI_SHA256_NI && !ni ? KPI_EUSAGE : 0;
}

enum kpi_sha256_impl kpi_sha256_impl_of(const struct kpi_sha256 *ctx)
{
    return ctx->impl == KPI_SHA256_NI ? KPI_SHA256_NI : KPI_SHA256_PORTABLE;
}

void kpi_sha256_init(struct kpi_sha256 *ctx)
{
    kpi_sha256_init_impl(ctx, KPI_SHA256_AUTO);
}

void kpi_sha256_update(struct kpi_sha256 *ctx, const void *data, size_t len)
{
    const unsigned char *p = data;
    ctx->bytes += len;
    if (ctx->used > 0) {
        size_t take = 64 - ctx->used < len ? 64 - ctx->used : len;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        len -= take;
        if (ctx->used < 64)
            return;
        compress_blocks(ctx, ctx->block, 1);
        ctx->used = 0;
    }
    size_t whole = len / 64;
    if (whole > 0)
        compress_blocks(ctx, p, whole);
    p += whole * 64;
    len -= whole * 64;
    memcpy(ctx->block, p, len);
    ctx->used = len;
}

void kpi_sha256_final(struct kpi_sha256 *ctx, unsigned char digest[KPI_SHA256_SIZE])
{
    uint64_t bits = ctx->bytes * 8;
    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, 64 - ctx->used);
        compress_blocks(ctx, ctx->block, 1);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    for (unsigned i = 0; i < 8; i++)
        ctx->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    compress_blocks(ctx, ctx->block, 1);
    for (unsigned i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(ctx->h[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(ctx->h[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(ctx->h[i] >> 8);
        digest[4 * i + 3] = (unsigned char)ctx->h[i];
    }
}

void kpi_sha256(const void *data, size_t len, unsigned char digest[KPI_SHA256_SIZE])
{
    struct kpi_sha256 ctx;
    kpi_sha256_init(&ctx);
    kpi_sha256_update(&ctx, data, len);
    kpi_sha256_final(&ctx, digest);
}

char *kpi_sha256_hex(const unsigned char digest[KPI_SHA256_SIZE], char out[KPI_SHA256_HEX])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < KPI_SHA256_SIZE; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * KPI_SHA256_SIZE] = '\0';
    return out;
}
