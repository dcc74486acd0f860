/* ingest: UTF-8 with and without BOM, Windows-1252 detection and decoding,
 * forced encodings, bytes that are bad input, standard input. */
#include "test_ingest_helpers.h"

#include <unistd.h>

START_TEST(test_utf8_bom_is_stripped)
{
    TI_EXPECT("\xEF\xBB\xBF"
              "date,team,kpi,value\n2026-01,Équipe A,k,1\n",
              NULL, "observations long utf-8 ,\n2: Équipe A|k|2026-01-31|V|1|4\n");
}
END_TEST

START_TEST(test_cp1252_file_is_detected_and_decoded)
{
    /* "Équipe;Période;Indicateur;Valeur" and "Réseau" in Windows-1252 */
    TI_EXPECT("\xC9quipe;P\xE9riode;Indicateur;Valeur\n"
              "R\xE9seau \x80 \x9C;2026-01;CA;1,5\n",
              NULL, "observations long cp1252 ;\n2: Réseau € œ|CA|2026-01-31|V|1.5|4\n");
}
END_TEST

START_TEST(test_cp1252_byte_on_last_line_decides_whole_file)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,a,k,1\n2026-02,Caf\xE9,k,2\n", NULL,
              "observations long cp1252 ,\n2: a|k|2026-01-31|V|1|4\n3: Café|k|2026-02-28|V|2|4\n");
}
END_TEST

START_TEST(test_forced_cp1252_reads_utf8_bytes_as_cp1252)
{
    struct ingest_options o = {.encoding = INGEST_ENCODING_CP1252};
    TI_EXPECT("date,team,kpi,value\n2026-01,é,k,1\n", &o,
              "observations long cp1252 ,\n2: Ã©|k|2026-01-31|V|1|4\n");
}
END_TEST

START_TEST(test_forced_utf8_on_cp1252_file_is_bad_input)
{
    struct ingest_options o = {.encoding = INGEST_ENCODING_UTF8};
    TI_EXPECT("date,team,kpi,value\n2026-01,Caf\xE9,k,1\n2026-02,a,k,2\n", &o,
              "observations long utf-8 ,\n"
              "ERR -2 t.csv:2:2: invalid UTF-8 (byte 0xE9); if the file is Windows-1252, give "
              "--encoding cp1252\n"
              "3: a|k|2026-02-28|V|2|4\n");
}
END_TEST

START_TEST(test_byte_undefined_in_cp1252_is_bad_input)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,Caf\xE9,k,1\n2026-02,\"x\ny\x81\",k,2\n2026-03,a,k,3\n",
              NULL,
              "observations long cp1252 ,\n"
              "2: Café|k|2026-01-31|V|1|4\n"
              "ERR -2 t.csv:4:2: byte 0x81 is undefined in Windows-1252\n"
              "5: a|k|2026-03-31|V|3|4\n");
}
END_TEST

START_TEST(test_nul_byte_is_bad_input)
{
    static const char csv[] =
        "date,team,kpi,value\n2026-01,a,k,1\n2026-02,a,k\0,2\n2026-03,a,k,3\n";
    char *got = ti_dump_n(csv, sizeof csv - 1, NULL);
    ck_assert_str_eq(got, "observations long utf-8 ,\n"
                          "2: a|k|2026-01-31|V|1|4\n"
                          "ERR -2 t.csv:3:3: NUL byte\n"
                          "4: a|k|2026-03-31|V|3|4\n");
    free(got);
    struct ingest_options o = {.encoding = INGEST_ENCODING_CP1252};
    got = ti_dump_n(csv, sizeof csv - 1, &o);
    ck_assert_str_eq(got, "observations long cp1252 ,\n"
                          "2: a|k|2026-01-31|V|1|4\n"
                          "ERR -2 t.csv:3:3: NUL byte\n"
                          "4: a|k|2026-03-31|V|3|4\n");
    free(got);
}
END_TEST

START_TEST(test_utf8_sequence_across_chunk_boundary_stays_utf8)
{
    /* put "é" (2 bytes) across the 64 KiB boundary of the detection pass */
    struct kpi_buf b = {0};
    kpi_buf_puts(&b, "date,team,kpi,value\n");
    while (b.len < 65536 - 40)
        kpi_buf_puts(&b, "2026-01,a,k,1\n");
    while (b.len < 65536 - 9)
        kpi_buf_puts(&b, " ");
    kpi_buf_puts(&b, "2026-01,é,k,2\n"); /* é at 65535..65536 */
    ck_assert_int_eq((unsigned char)b.data[65535], 0xC3);
    char *got = ti_dump_n(b.data, b.len, NULL);
    ck_assert_msg(strstr(got, "observations long utf-8 ,\n") == got, "%.60s", got);
    ck_assert_ptr_nonnull(strstr(got, ": é|k|2026-01-31|V|2|4\n"));
    free(got);
    kpi_buf_free(&b);
}
END_TEST

/* read_big's sink: the rows whose team is not "a", and the bad records. */
static int not_team_a(void *ctx, const struct ingest_row *row)
{
    if (strcmp(row->cells[0].team, "a") != 0)
        kpi_buf_printf(ctx, "%lu: %s\n", row->line, row->cells[0].team);
    return 0;
}

static int bad_line(void *ctx, const struct ingest_row *row, const struct kpi_error *why)
{
    (void)row;
    kpi_buf_printf(ctx, "ERR %s\n", why->message);
    return 0;
}

/* Read a file made of the header, `ascii` rows of pure ASCII, then tail;
 * return the description and the encoding reported after the last row. */
static char *read_big(const char *head_row, size_t ascii, const char *tail, size_t tail_len,
                      enum ingest_encoding *enc)
{
    struct kpi_buf b = {0};
    kpi_buf_puts(&b, "date,team,kpi,value\n");
    kpi_buf_puts(&b, head_row);
    for (size_t i = 0; i < ascii; i++)
        kpi_buf_puts(&b, "2026-01,a,k,1\n");
    kpi_buf_append(&b, tail, tail_len);
    char *dir = ts_tempdir("ingest");
    char *path = ts_path(dir, "big.csv");
    ts_write_file(path, b.data, b.len);
    struct ingest_reader *r = NULL;
    struct kpi_error err = {0};
    ck_assert_int_eq(ingest_open(path, "big.csv", NULL, &r, &err), 0);
    struct kpi_buf out = {0};
    const struct ingest_sink sink = {not_team_a, bad_line, &out};
    if (ingest_read(r, &sink, &err) != 0)
        kpi_buf_printf(&out, "ERR %s\n", err.message);
    *enc = ingest_encoding(r);
    ingest_close(r);
    ts_rm_rf(dir);
    free(path);
    free(dir);
    kpi_buf_free(&b);
    return out.data ? out.data : strdup("");
}

START_TEST(test_cp1252_byte_after_many_ascii_chunks_switches_encoding)
{
    enum ingest_encoding enc;
    static const char tail[] = "2026-02,Caf\xE9,k,2\n";
    char *got = read_big("", 20000, tail, sizeof tail - 1, &enc);
    ck_assert_str_eq(got, "20002: Café\n");
    ck_assert_int_eq(enc, INGEST_ENCODING_CP1252);
    free(got);
}
END_TEST

START_TEST(test_utf8_early_and_invalid_byte_late_reads_all_as_cp1252)
{
    enum ingest_encoding enc;
    static const char tail[] = "2026-02,Caf\xE9,k,2\n";
    char *got = read_big("2026-01,é,k,1\n", 20000, tail, sizeof tail - 1, &enc);
    ck_assert_str_eq(got, "2: Ã©\n20003: Café\n");
    ck_assert_int_eq(enc, INGEST_ENCODING_CP1252);
    free(got);
}
END_TEST

START_TEST(test_ascii_file_with_late_nul_reports_it)
{
    enum ingest_encoding enc;
    static const char tail[] = "2026-02,b\0,k,2\n2026-03,c,k,3\n";
    char *got = read_big("", 20000, tail, sizeof tail - 1, &enc);
    ck_assert_str_eq(got, "ERR big.csv:20002:2: NUL byte\n20003: c\n");
    ck_assert_int_eq(enc, INGEST_ENCODING_UTF8);
    free(got);
}
END_TEST

START_TEST(test_cp1252_converter_maps_the_high_range)
{
    struct kpi_buf out = {0};
    size_t bad = 99;
    ck_assert_int_eq(ingest_cp1252_to_utf8("a\x80\x8A\x9F\xA0\xE9\xFF", 7, &out, &bad), 0);
    ck_assert_str_eq(out.data, "a€ŠŸ\xC2\xA0éÿ");
    out.len = 0;
    ck_assert_int_eq(ingest_cp1252_to_utf8("ab\x8D", 3, &out, &bad), KPI_EINPUT);
    ck_assert_uint_eq(bad, 2);
    static const char undefined[] = {'\x81', '\x8D', '\x8F', '\x90', '\x9D', '\0'};
    for (size_t i = 0; i < sizeof undefined; i++) {
        bad = 99;
        ck_assert_int_eq(ingest_cp1252_to_utf8(undefined + i, 1, &out, &bad), KPI_EINPUT);
        ck_assert_uint_eq(bad, 0);
    }
    kpi_buf_free(&out);
}
END_TEST

static void stdin_from(const char *data, size_t len)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], data, len), (ssize_t)len);
    close(fds[1]);
    ck_assert_int_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
}

START_TEST(test_stdin_pipe_is_spooled_and_detected)
{
    static const char csv[] = "\xC9quipe;date;kpi;valeur\nR\xE9seau;2026-01;ventes;1,5\n";
    stdin_from(csv, sizeof csv - 1);
    char *got = ti_read("-", NULL, NULL);
    ck_assert_str_eq(got, "observations long cp1252 ;\n2: Réseau|ventes|2026-01-31|V|1.5|4\n");
    free(got);
}
END_TEST

START_TEST(test_stdin_errors_are_named_stdin)
{
    static const char csv[] = "date,team,kpi,value\n2026-01,a,k,\"1\n";
    stdin_from(csv, sizeof csv - 1);
    char *got = ti_read("-", NULL, NULL);
    ck_assert_str_eq(
        got,
        "observations long utf-8 ,\nERR -2 stdin:2:4: unterminated quote opened here; the rest of "
        "the file was not read\n");
    free(got);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ingest_encoding");
    TCase *tc = tcase_create("encoding");
    tcase_add_test(tc, test_utf8_bom_is_stripped);
    tcase_add_test(tc, test_cp1252_file_is_detected_and_decoded);
    tcase_add_test(tc, test_cp1252_byte_on_last_line_decides_whole_file);
    tcase_add_test(tc, test_forced_cp1252_reads_utf8_bytes_as_cp1252);
    tcase_add_test(tc, test_forced_utf8_on_cp1252_file_is_bad_input);
    tcase_add_test(tc, test_byte_undefined_in_cp1252_is_bad_input);
    tcase_add_test(tc, test_nul_byte_is_bad_input);
    tcase_add_test(tc, test_utf8_sequence_across_chunk_boundary_stays_utf8);
    tcase_add_test(tc, test_cp1252_byte_after_many_ascii_chunks_switches_encoding);
    tcase_add_test(tc, test_utf8_early_and_invalid_byte_late_reads_all_as_cp1252);
    tcase_add_test(tc, test_ascii_file_with_late_nul_reports_it);
    tcase_add_test(tc, test_cp1252_converter_maps_the_high_range);
    tcase_add_test(tc, test_stdin_pipe_is_spooled_and_detected);
    tcase_add_test(tc, test_stdin_errors_are_named_stdin);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
