/* common/ident.c: identifiers, UTF-8 validity, folding and slugs (SPEC §2). */
#include "common/common.h"
#include "support/support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *slug(const char *in, char *out)
{
    kpi_slugify(in, out);
    return out;
}

static const char *fold(const char *in, char *out, size_t cap)
{
    kpi_fold(in, out, cap);
    return out;
}

static bool valid(const char *s)
{
    return kpi_utf8_valid(s, strlen(s));
}

START_TEST(test_id_valid_accepts_lower_case_ids)
{
    ck_assert(kpi_id_valid("sales"));
    ck_assert(kpi_id_valid("a"));
    ck_assert(kpi_id_valid("0x"));
    ck_assert(kpi_id_valid("ca_net.2026-q1"));
    char id[KPI_ID_MAX + 1];
    memset(id, 'a', KPI_ID_MAX);
    id[KPI_ID_MAX] = '\0';
    ck_assert(kpi_id_valid(id)); /* exactly 64 */
}
END_TEST

START_TEST(test_id_valid_rejects_other_texts)
{
    ck_assert(!kpi_id_valid(""));
    ck_assert(!kpi_id_valid(NULL));
    ck_assert(!kpi_id_valid("_a"));
    ck_assert(!kpi_id_valid("-a"));
    ck_assert(!kpi_id_valid(".a"));
    ck_assert(!kpi_id_valid("Sales"));
    ck_assert(!kpi_id_valid("a b"));
    ck_assert(!kpi_id_valid("a/b"));
    ck_assert(!kpi_id_valid("\xc3\xa9t\xc3\xa9")); /* été */
    char id[KPI_ID_MAX + 2];
    memset(id, 'a', KPI_ID_MAX + 1);
    id[KPI_ID_MAX + 1] = '\0';
    ck_assert(!kpi_id_valid(id)); /* 65 */
}
END_TEST

START_TEST(test_slug_spec_examples)
{
    char out[KPI_ID_MAX + 1];
    /* "Ventes – Île-de-France": U+2013 en dash, U+00CE */
    ck_assert_str_eq(slug("Ventes \xe2\x80\x93 \xc3\x8e"
                          "le-de-France",
                          out),
                     "ventes-ile-de-france");
    ck_assert_uint_eq(kpi_slugify("../../etc", out), 3);
    ck_assert_str_eq(out, "etc");
}
END_TEST

START_TEST(test_slug_folds_latin_letters)
{
    char out[KPI_ID_MAX + 1];
    ck_assert_str_eq(slug("\xc3\x89quipe Nord", out), "equipe-nord"); /* Équipe */
    ck_assert_str_eq(slug("\xc5\x92UVRE", out), "oeuvre");            /* ŒUVRE */
    ck_assert_str_eq(slug("Stra\xc3\x9f"
                          "e",
                          out),
                     "strasse"); /* Straße */
    ck_assert_str_eq(slug("\xc5\x81\xc3\xb3"
                          "d\xc5\xba",
                          out),
                     "lodz");                                 /* Łódź */
    ck_assert_str_eq(slug("\xc3\x86r\xc3\xb8", out), "aero"); /* Ærø */
    ck_assert_str_eq(slug("\xc3\x9e\xc3\xb3r", out), "thor"); /* Þór */
    ck_assert_str_eq(slug("Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
                          "e",
                          out),
                     "creme-brulee");
    ck_assert_str_eq(slug("CA (k\xe2\x82\xac)", out), "ca-k"); /* CA (k€) */
    ck_assert_str_eq(slug("Gar\xc3\xa7on & Fa\xc3\xa7"
                          "ade",
                          out),
                     "garcon-facade");
}
END_TEST

START_TEST(test_slug_of_nothing_is_empty)
{
    char out[KPI_ID_MAX + 1];
    ck_assert_uint_eq(kpi_slugify("  ", out), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(kpi_slugify("---", out), 0);
    ck_assert_uint_eq(kpi_slugify("", out), 0);
    ck_assert_uint_eq(kpi_slugify("\xe6\x97\xa5\xe6\x9c\xac", out), 0); /* 日本 */
    ck_assert_uint_eq(kpi_slugify("\xff\xfe", out), 0);                 /* not UTF-8 */
}
END_TEST

START_TEST(test_slug_of_long_name_cut_to_64)
{
    char in[101], out[KPI_ID_MAX + 1];
    memset(in, 'A', 100);
    in[100] = '\0';
    ck_assert_uint_eq(kpi_slugify(in, out), 64);
    for (size_t i = 0; i < 64; i++)
        ck_assert_int_eq(out[i], 'a');
    /* 63 letters, a blank, then more: the cut falls on the '-', which goes */
    memset(in, 'b', 63);
    strcpy(in + 63, " cde");
    ck_assert_uint_eq(kpi_slugify(in, out), 63);
    ck_assert_int_eq(out[62], 'b');
    /* 62 letters, a blank, then more: "bbb...b-c" is exactly 64 */
    memset(in, 'b', 62);
    strcpy(in + 62, " cde");
    ck_assert_uint_eq(kpi_slugify(in, out), 64);
    ck_assert_int_eq(out[62], '-');
    ck_assert_int_eq(out[63], 'c');
}
END_TEST

START_TEST(test_slug_is_a_valid_id)
{
    static const char *const refs[] = {"Ventes \xe2\x80\x93 \xc3\x8e"
                                       "le-de-France",
                                       "../../etc", "  A  B  ", "x__y", "Q1.2026"};
    char out[KPI_ID_MAX + 1];
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        ck_assert_uint_gt(kpi_slugify(refs[i], out), 0);
        ck_assert_msg(kpi_id_valid(out), "slug \"%s\" is not an id", out);
    }
    ck_assert_str_eq(slug("x__y", out), "x-y");
    ck_assert_str_eq(slug("Q1.2026", out), "q1-2026");
}
END_TEST

START_TEST(test_fold_lowercases_and_folds_accents)
{
    char out[64];
    ck_assert_str_eq(fold("P\xc3\xa9riode", out, sizeof out), "periode");
    ck_assert_str_eq(fold("\xc3\x89QUIPE", out, sizeof out), "equipe");
    ck_assert_str_eq(fold("\xc5\x92uvre", out, sizeof out), "oeuvre");
    ck_assert_str_eq(fold("\xc3\x87"
                          "A",
                          out, sizeof out),
                     "ca");
    ck_assert_str_eq(fold("\xc3\x9f", out, sizeof out), "ss");
    ck_assert_str_eq(fold("\xc3\x98"
                          "st",
                          out, sizeof out),
                     "ost");
    ck_assert_str_eq(fold("\xc5\xb8", out, sizeof out), "y");          /* Ÿ */
    ck_assert_str_eq(fold("\xc4\x90\xc4\x91", out, sizeof out), "dd"); /* Đđ */
    ck_assert_str_eq(fold("\xc8\x98\xc8\x9b", out, sizeof out), "st"); /* Șț */
}
END_TEST

START_TEST(test_fold_keeps_other_characters)
{
    char out[64];
    ck_assert_str_eq(fold("a\xc3\x97"
                          "b",
                          out, sizeof out),
                     "a\xc3\x97"
                     "b");                                                     /* × */
    ck_assert_str_eq(fold("k\xe2\x82\xac", out, sizeof out), "k\xe2\x82\xac"); /* € */
    ck_assert_str_eq(fold("\xe6\x97\xa5", out, sizeof out), "\xe6\x97\xa5");
    ck_assert_str_eq(fold("a \xe2\x80\x93 b", out, sizeof out), "a \xe2\x80\x93 b");
    ck_assert_str_eq(fold("a  b", out, sizeof out), "a  b"); /* inner blanks kept */
}
END_TEST

START_TEST(test_fold_trims_blanks_and_no_break_spaces)
{
    char out[64];
    ck_assert_uint_eq(kpi_fold("  \xc3\x89quipe  Nord\xc2\xa0", out, sizeof out), 12);
    ck_assert_str_eq(out, "equipe  nord");
    ck_assert_str_eq(fold("\xe2\x80\xaf"
                          "Ventes\xe2\x80\xaf\t",
                          out, sizeof out),
                     "ventes");
    ck_assert_uint_eq(kpi_fold(" \xc2\xa0 ", out, sizeof out), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_fold_truncates_on_character_boundary)
{
    char out[8];
    ck_assert_uint_eq(kpi_fold("\xc3\xa9\xc3\xa9", out, 2), 1);
    ck_assert_str_eq(out, "e");
    ck_assert_uint_eq(kpi_fold("\xc5\x92", out, 2), 0); /* "oe" needs 3 bytes */
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(kpi_fold("a\xe2\x82\xac", out, 4), 1); /* € needs 3 more */
    ck_assert_str_eq(out, "a");
    ck_assert_uint_eq(kpi_fold("a\xe2\x82\xac", out, 5), 4);
    ck_assert_uint_eq(kpi_fold("ab", out, 1), 0);
    ck_assert_str_eq(out, "");
    out[0] = 'z';
    ck_assert_uint_eq(kpi_fold("ab", out, 0), 0);
    ck_assert_int_eq(out[0], 'z'); /* cap 0: nothing written */
}
END_TEST

START_TEST(test_utf8_valid_accepts_well_formed)
{
    ck_assert(valid(""));
    ck_assert(valid("abc"));
    ck_assert(valid("\xc3\xa9"));         /* é, U+00E9 */
    ck_assert(valid("\xe2\x82\xac"));     /* €, U+20AC */
    ck_assert(valid("\xef\xbf\xbf"));     /* U+FFFF */
    ck_assert(valid("\xf0\x9f\x98\x80")); /* U+1F600 */
    ck_assert(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
    ck_assert(kpi_utf8_valid("a\0b", 3)); /* U+0000 is a character */
}
END_TEST

START_TEST(test_utf8_valid_rejects_overlong_surrogate_truncated)
{
    ck_assert(!valid("\xc0\xaf"));         /* overlong '/' */
    ck_assert(!valid("\xc1\xbf"));         /* overlong */
    ck_assert(!valid("\xe0\x80\xaf"));     /* overlong '/' in 3 bytes */
    ck_assert(!valid("\xe0\x9f\xbf"));     /* overlong U+07FF */
    ck_assert(!valid("\xf0\x80\x80\xaf")); /* overlong in 4 bytes */
    ck_assert(!valid("\xf0\x8f\xbf\xbf")); /* overlong U+FFFF */
    ck_assert(!valid("\xed\xa0\x80"));     /* U+D800 surrogate */
    ck_assert(!valid("\xed\xbf\xbf"));     /* U+DFFF surrogate */
    ck_assert(!valid("\xf4\x90\x80\x80")); /* U+110000 */
    ck_assert(!valid("\xf5\x80\x80\x80"));
    ck_assert(!valid("\xff"));
    ck_assert(!valid("\x80"));     /* lone continuation */
    ck_assert(!valid("a\xc3"));    /* truncated */
    ck_assert(!valid("\xe2\x82")); /* truncated */
    ck_assert(!valid("\xe2\x82"
                     "a"));                    /* continuation missing */
    ck_assert(!kpi_utf8_valid("\xc3\xa9", 1)); /* cut by len */
    ck_assert(!valid("caf\xe9"));              /* cp1252 é */
}
END_TEST

/* The key of text (len bytes) copied into a buffer whose other bytes are
 * fill: keys must not depend on the bytes past the text. */
static struct kpi_key key_in(const char *text, size_t len, char fill)
{
    char buf[KPI_KEY_MAX + 8];
    memset(buf, fill, sizeof buf);
    memcpy(buf, text, len);
    struct kpi_key k;
    kpi_key_of(buf, len, &k);
    return k;
}

START_TEST(test_key_ignores_the_bytes_past_the_text)
{
    static const char text[] = "team-0042-with-a-long-id-of-sixty-four-bytes-to-fill-every-word!";
    ck_assert_uint_eq(sizeof text - 1, KPI_KEY_MAX);
    for (size_t len = 1; len <= KPI_KEY_MAX; len++) {
        struct kpi_key a = key_in(text, len, 'x'), b = key_in(text, len, '\0');
        ck_assert_msg(kpi_key_eq(&a, &b), "length %zu", len);
        ck_assert_uint_eq(kpi_key_hash(&a), kpi_key_hash(&b));
    }
}
END_TEST

START_TEST(test_key_tells_texts_apart)
{
    struct kpi_key abc = key_in("abc", 3, 'd'), abcd = key_in("abcd", 4, 0);
    ck_assert(!kpi_key_eq(&abc, &abcd)); /* the byte past "abc" is a "d" */
    ck_assert(!kpi_key_eq(&abcd, &abc));
    struct kpi_key k9a = key_in("123456789", 9, 0), k9b = key_in("12345678X", 9, 0);
    ck_assert(!kpi_key_eq(&k9a, &k9b)); /* the second word differs */
    char a[KPI_KEY_MAX], b[KPI_KEY_MAX];
    memset(a, 'q', sizeof a);
    memcpy(b, a, sizeof b);
    b[KPI_KEY_MAX - 1] = 'r';
    struct kpi_key ka = key_in(a, sizeof a, 0), kb = key_in(b, sizeof b, 0);
    ck_assert(!kpi_key_eq(&ka, &kb)); /* the last byte of the last word */
    ck_assert(kpi_key_eq(&ka, &ka));
}
END_TEST

static Suite *ident_suite(void)
{
    Suite *s = suite_create("common_ident");
    TCase *ids = tcase_create("ids");
    tcase_add_test(ids, test_id_valid_accepts_lower_case_ids);
    tcase_add_test(ids, test_id_valid_rejects_other_texts);
    suite_add_tcase(s, ids);
    TCase *slugs = tcase_create("slugs");
    tcase_add_test(slugs, test_slug_spec_examples);
    tcase_add_test(slugs, test_slug_folds_latin_letters);
    tcase_add_test(slugs, test_slug_of_nothing_is_empty);
    tcase_add_test(slugs, test_slug_of_long_name_cut_to_64);
    tcase_add_test(slugs, test_slug_is_a_valid_id);
    suite_add_tcase(s, slugs);
    TCase *folds = tcase_create("fold");
    tcase_add_test(folds, test_fold_lowercases_and_folds_accents);
    tcase_add_test(folds, test_fold_keeps_other_characters);
    tcase_add_test(folds, test_fold_trims_blanks_and_no_break_spaces);
    tcase_add_test(folds, test_fold_truncates_on_character_boundary);
    suite_add_tcase(s, folds);
    TCase *utf8 = tcase_create("utf8");
    tcase_add_test(utf8, test_utf8_valid_accepts_well_formed);
    tcase_add_test(utf8, test_utf8_valid_rejects_overlong_surrogate_truncated);
    suite_add_tcase(s, utf8);
    TCase *keys = tcase_create("keys");
    tcase_add_test(keys, test_key_ignores_the_bytes_past_the_text);
    tcase_add_test(keys, test_key_tells_texts_apart);
    suite_add_tcase(s, keys);
    return s;
}

int main(void)
{
    return ts_run_suite(ident_suite());
}
