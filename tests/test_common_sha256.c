/* common/sha256.c: the FIPS 180-4 test vectors, one-shot and streamed,
 * through the dispatch (kpi_sha256_init) and through each implementation
 * forced by common/sha256_int.h: the portable rounds are tested on a CPU
 * with SHA-NI too, and both agree on every length from 0 to 1000. */
#include "common/sha256_int.h"
#include "support/support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *hex_of(const void *data, size_t len, char out[KPI_SHA256_HEX])
{
    unsigned char d[KPI_SHA256_SIZE];
    kpi_sha256(data, len, d);
    return kpi_sha256_hex(d, out);
}

START_TEST(test_sha256_empty_and_abc)
{
    char hex[KPI_SHA256_HEX];
    ck_assert_str_eq(hex_of("", 0, hex),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_str_eq(hex_of("abc", 3, hex),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_sha256_two_block_message)
{
    /* 56 bytes: the padding needs a second block */
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char hex[KPI_SHA256_HEX];
    ck_assert_str_eq(hex_of(m, strlen(m), hex),
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m2 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                     "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    ck_assert_str_eq(hex_of(m2, strlen(m2), hex),
                     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(test_sha256_million_a_streamed_in_odd_chunks)
{
    char *a = malloc(1000000);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', 1000000);
    char hex[KPI_SHA256_HEX];
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    ck_assert_str_eq(hex_of(a, 1000000, hex), want);
    /* chunks of 1, 63, 64, 65, 127... bytes cross every block boundary case */
    struct kpi_sha256 ctx;
    kpi_sha256_init(&ctx);
    size_t done = 0, step = 1;
    while (done < 1000000) {
        size_t n = step < 1000000 - done ? step : 1000000 - done;
        kpi_sha256_update(&ctx, a + done, n);
        done += n;
        step = step * 2 + 61;
        if (step > 5000)
            step = 1;
    }
    unsigned char d[KPI_SHA256_SIZE];
    kpi_sha256_final(&ctx, d);
    ck_assert_str_eq(kpi_sha256_hex(d, hex), want);
    free(a);
}
END_TEST

/* ------------------------------------------ each implementation, forced */

static const enum kpi_sha256_impl IMPLS[] = {KPI_SHA256_PORTABLE, KPI_SHA256_NI};
#define IMPL_COUNT (sizeof IMPLS / sizeof IMPLS[0])

/* The digest of data[0..len) with impl, fed in pieces of at most chunk bytes
 * (0: in one update), as hex. False when this CPU cannot run impl. */
static bool hex_with(enum kpi_sha256_impl impl, const void *data, size_t len, size_t chunk,
                     char out[KPI_SHA256_HEX])
{
    struct kpi_sha256 ctx;
    if (kpi_sha256_init_impl(&ctx, impl) != 0)
        return false;
    ck_assert_int_eq(kpi_sha256_impl_of(&ctx), impl);
    const unsigned char *p = data;
    for (size_t done = 0; done < len;) {
        size_t n = chunk == 0 || chunk > len - done ? len - done : chunk;
        kpi_sha256_update(&ctx, p + done, n);
        done += n;
    }
    unsigned char d[KPI_SHA256_SIZE];
    kpi_sha256_final(&ctx, d);
    kpi_sha256_hex(d, out);
    return true;
}

/* Whether /proc/cpuinfo lists the SHA extensions ("sha_ni"). */
static bool cpuinfo_has_sha_ni(void)
{
    char *info = ts_read_file("/proc/cpuinfo", NULL);
    bool has = info != NULL && strstr(info, " sha_ni") != NULL;
    free(info);
    return has;
}

/* The dispatch runs SHA-NI exactly where the CPU has it (with GCC on x86-64,
 * the only build that compiles it); forcing it elsewhere is refused and
 * falls back to the portable rounds; forcing the portable rounds works
 * everywhere. */
START_TEST(test_sha256_dispatch_picks_ni_exactly_where_the_cpu_has_it)
{
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    ck_assert_int_eq(kpi_sha256_have_ni(), cpuinfo_has_sha_ni());
#else
    ck_assert(!kpi_sha256_have_ni());
#endif
    bool ni = kpi_sha256_have_ni();
    struct kpi_sha256 ctx;
    kpi_sha256_init(&ctx);
    ck_assert_int_eq(kpi_sha256_impl_of(&ctx), ni ? KPI_SHA256_NI : KPI_SHA256_PORTABLE);
    ck_assert_int_eq(kpi_sha256_init_impl(&ctx, KPI_SHA256_AUTO), 0);
    ck_assert_int_eq(kpi_sha256_impl_of(&ctx), ni ? KPI_SHA256_NI : KPI_SHA256_PORTABLE);
    ck_assert_int_eq(kpi_sha256_init_impl(&ctx, KPI_SHA256_PORTABLE), 0);
    ck_assert_int_eq(kpi_sha256_impl_of(&ctx), KPI_SHA256_PORTABLE);
    ck_assert_int_eq(kpi_sha256_init_impl(&ctx, KPI_SHA256_NI), ni ? 0 : KPI_EUSAGE);
    ck_assert_int_eq(kpi_sha256_impl_of(&ctx), ni ? KPI_SHA256_NI : KPI_SHA256_PORTABLE);
}
END_TEST

/* FIPS 180-4 / NIST vectors through each implementation: empty, "abc",
 * the 448-bit message, the 896-bit one, one million 'a' (in one update and
 * in 1,000-byte pieces). */
START_TEST(test_sha256_vectors_with_each_implementation)
{
    static const struct {
        const char *msg, *hex;
    } vectors[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
         "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    const char *million = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    char *a = malloc(1000000);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', 1000000);
    size_t ran = 0;
    for (size_t i = 0; i < IMPL_COUNT; i++) {
        char hex[KPI_SHA256_HEX];
        if (!hex_with(IMPLS[i], "", 0, 0, hex)) { /* no SHA-NI here: refused, checked above */
            ck_assert_int_eq(IMPLS[i], KPI_SHA256_NI);
            continue;
        }
        ran++;
        for (size_t v = 0; v < sizeof vectors / sizeof vectors[0]; v++) {
            ck_assert(hex_with(IMPLS[i], vectors[v].msg, strlen(vectors[v].msg), 0, hex));
            ck_assert_msg(strcmp(hex, vectors[v].hex) == 0, "impl %d, \"%s\": %s", IMPLS[i],
                          vectors[v].msg, hex);
        }
        ck_assert(hex_with(IMPLS[i], a, 1000000, 0, hex));
        ck_assert_str_eq(hex, million);
        ck_assert(hex_with(IMPLS[i], a, 1000000, 1000, hex));
        ck_assert_str_eq(hex, million);
    }
    ck_assert_uint_eq(ran, kpi_sha256_have_ni() ? 2 : 1);
    free(a);
}
END_TEST

/* A deterministic generator (xorshift64*), so that a failure can be
 * reproduced. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Every length from 0 to 1000 bytes of random content: the portable rounds
 * and SHA-NI give the same digest, in one update and in random pieces (1 to
 * 130 bytes: across every block boundary), and the dispatch gives it too. */
START_TEST(test_sha256_portable_and_ni_agree_on_every_length_to_1000)
{
    uint64_t state = 0x9E3779B97F4A7C15ULL;
    unsigned char buf[1000];
    bool ni = kpi_sha256_have_ni();
    for (size_t len = 0; len <= 1000; len++) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)(next_random(&state) >> 56);
        size_t chunk = 1 + (size_t)(next_random(&state) % 130);
        char portable[KPI_SHA256_HEX], pieces[KPI_SHA256_HEX], other[KPI_SHA256_HEX];
        char dispatched[KPI_SHA256_HEX];
        ck_assert(hex_with(KPI_SHA256_PORTABLE, buf, len, 0, portable));
        ck_assert(hex_with(KPI_SHA256_PORTABLE, buf, len, chunk, pieces));
        ck_assert_msg(strcmp(portable, pieces) == 0, "length %zu, pieces of %zu", len, chunk);
        ck_assert_str_eq(hex_of(buf, len, dispatched), portable);
        if (!ni) {
            ck_assert(!hex_with(KPI_SHA256_NI, buf, len, 0, other));
            continue;
        }
        ck_assert(hex_with(KPI_SHA256_NI, buf, len, 0, other));
        ck_assert_msg(strcmp(portable, other) == 0, "length %zu: portable %s, SHA-NI %s", len,
                      portable, other);
        ck_assert(hex_with(KPI_SHA256_NI, buf, len, chunk, other));
        ck_assert_msg(strcmp(portable, other) == 0, "length %zu, pieces of %zu: SHA-NI %s", len,
                      chunk, other);
    }
}
END_TEST

static Suite *sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_sha256_empty_and_abc);
    tcase_add_test(tc, test_sha256_two_block_message);
    tcase_add_test(tc, test_sha256_million_a_streamed_in_odd_chunks);
    suite_add_tcase(s, tc);
    TCase *impl = tcase_create("implementations");
    tcase_add_test(impl, test_sha256_dispatch_picks_ni_exactly_where_the_cpu_has_it);
    tcase_add_test(impl, test_sha256_vectors_with_each_implementation);
    tcase_add_test(impl, test_sha256_portable_and_ni_agree_on_every_length_to_1000);
    suite_add_tcase(s, impl);
    return s;
}

int main(void)
{
    return ts_run_suite(sha256_suite());
}
