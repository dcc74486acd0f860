/* common/sha256.c: the FIPS 180-4 test vectors, one-shot and streamed. */
#include "common/common.h"
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

static Suite *sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_sha256_empty_and_abc);
    tcase_add_test(tc, test_sha256_two_block_message);
    tcase_add_test(tc, test_sha256_million_a_streamed_in_odd_chunks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(sha256_suite());
}
