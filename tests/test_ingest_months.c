/* ingest: the month forms of spreadsheet exports (SPEC §2) in every layout:
 * MM/YYYY, French and English month names, Excel's mmm-yy, date-times, and
 * the errors for what stays ambiguous. */
#include "test_ingest_helpers.h"

START_TEST(test_long_file_with_month_forms)
{
    TI_EXPECT("mois;\xC3\xA9quipe;indicateur;valeur\n"
              "01/2026;a;k;1\n"
              "janv. 2026;a;k2;2\n"
              "f\xC3\xA9vr.-26;a;k;3\n"
              "MARS 2026;a;k;4\n"
              "Apr-26;a;k;5\n"
              "31/05/2026 00:00;a;k;6\n",
              NULL,
              "observations long utf-8 ;\n"
              "2: a|k|2026-01-31|V|1|4\n"
              "3: a|k2|2026-01-31|V|2|4\n"
              "4: a|k|2026-02-28|V|3|4\n"
              "5: a|k|2026-03-31|V|4|4\n"
              "6: a|k|2026-04-30|V|5|4\n"
              "7: a|k|2026-05-31|V|6|4\n");
}
END_TEST

START_TEST(test_wide_file_with_month_names)
{
    TI_EXPECT("Mois,Team,ca,marge,TOTAL\n"
              "janvier 2026,a,1,2,3\n"
              "Feb-26,a,3,4,7\n",
              NULL,
              "observations wide utf-8 ,\n"
              "2: a|ca|2026-01-31|V|1|3 a|marge|2026-01-31|V|2|4\n"
              "3: a|ca|2026-02-28|V|3|3 a|marge|2026-02-28|V|4|4\n");
}
END_TEST

/* A budget sheet as French Excel writes it: mmm-yy headers. */
START_TEST(test_periods_headers_as_excel_writes_them)
{
    struct ingest_options o = {.kind = INGEST_KIND_TARGETS};
    TI_EXPECT("\xC3\xA9quipe;indicateur;janv.-26;f\xC3\xA9vr.-26;mars-26;avr.-26\n"
              "a;ca;100;110;120;130\n",
              &o,
              "targets periods utf-8 ;\n"
              "2: a|ca|2026-01-31|T|100|3 a|ca|2026-02-28|T|110|4 a|ca|2026-03-31|T|120|5 "
              "a|ca|2026-04-30|T|130|6\n");
    /* the year's total column of a budget sheet is not a period */
    TI_EXPECT("\xC3\xA9quipe;indicateur;janv.-26;f\xC3\xA9vr.-26;Total g\xC3\xA9n\xC3\xA9ral\n"
              "a;ca;100;110;210\n",
              &o,
              "targets periods utf-8 ;\n"
              "2: a|ca|2026-01-31|T|100|3 a|ca|2026-02-28|T|110|4\n");
    o.kind = INGEST_KIND_OBSERVATIONS;
    TI_EXPECT("team,kpi,01/2026,02/2026,Mar 2026\na,ca,1,2,3\n", &o,
              "observations periods utf-8 ,\n"
              "2: a|ca|2026-01-31|V|1|3 a|ca|2026-02-28|V|2|4 a|ca|2026-03-31|V|3|5\n");
}
END_TEST

/* The same month names written by a French Excel in Windows-1252 (é = E9,
 * û = FB): decoded before they are parsed. */
START_TEST(test_cp1252_month_names)
{
    struct ingest_options o = {.kind = INGEST_KIND_TARGETS};
    TI_EXPECT("\xE9quipe;indicateur;f\xE9vr.-26;ao\xFBt 2026;D\xC9"
              "C.-26\n"
              "a;ca;1;2;3\n",
              &o,
              "targets periods cp1252 ;\n"
              "2: a|ca|2026-02-28|T|1|3 a|ca|2026-08-31|T|2|4 a|ca|2026-12-31|T|3|5\n");
    TI_EXPECT("mois;\xE9quipe;indicateur;valeur\nf\xE9vrier 2026;a;k;1\n", NULL,
              "observations long cp1252 ;\n2: a|k|2026-02-28|V|1|4\n");
}
END_TEST

START_TEST(test_ambiguous_month_forms_say_why)
{
    TI_EXPECT("mois;team;kpi;valeur\n"
              "01/26;a;k;1\n"
              "mars;a;k;2\n"
              "mars 26;a;k;3\n",
              NULL,
              "observations long utf-8 ;\n"
              "ERR -2 t.csv:2:1: invalid date \"01/26\" in column \"mois\" (a two-digit year is "
              "ambiguous here: write the year in full (01/2026), or give --date-format %m/%y)\n"
              "ERR -2 t.csv:3:1: invalid date \"mars\" in column \"mois\" (a month needs its "
              "year: janv. 2026, or janv.-26 as Excel writes it)\n"
              "ERR -2 t.csv:4:1: invalid date \"mars 26\" in column \"mois\" (a two-digit year "
              "only after '-' (janv.-26, as Excel writes it), where it cannot be a day; else "
              "write the year in full (janv. 2026))\n");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ingest_months");
    TCase *tc = tcase_create("months");
    tcase_add_test(tc, test_long_file_with_month_forms);
    tcase_add_test(tc, test_wide_file_with_month_names);
    tcase_add_test(tc, test_periods_headers_as_excel_writes_them);
    tcase_add_test(tc, test_cp1252_month_names);
    tcase_add_test(tc, test_ambiguous_month_forms_say_why);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
