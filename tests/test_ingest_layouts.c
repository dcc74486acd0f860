/* ingest: kind and layout detection, header roles and aliases, --column,
 * --team/--kpi, dates, RFC 4180 quoting and physical line numbers. */
#include "test_ingest_helpers.h"

START_TEST(test_long_comma_file_gives_one_cell_per_row)
{
    TI_EXPECT("date,team,kpi,value\n"
              "2026-01-31,sales-fr,revenue,1200.5\n"
              "2026-02,sales-fr,revenue,\n",
              NULL,
              "observations long utf-8 ,\n"
              "2: sales-fr|revenue|2026-01-31|V|1200.5|4\n"
              "3: sales-fr|revenue|2026-02-28|V|NaN|4\n");
}
END_TEST

START_TEST(test_long_tab_file_is_detected)
{
    TI_EXPECT("date\tteam\tkpi\tvalue\n2026-01\ta\tk\t3\n", NULL,
              "observations long utf-8 TAB\n2: a|k|2026-01-31|V|3|4\n");
}
END_TEST

START_TEST(test_long_with_value_and_target_gives_two_cells)
{
    TI_EXPECT("date,team,kpi,value,target\n"
              "2026-01,a,k,10,12\n"
              "2026-02,a,k,,14\n",
              NULL,
              "observations long utf-8 ,\n"
              "2: a|k|2026-01-31|V|10|4 a|k|2026-01-31|T|12|5\n"
              "3: a|k|2026-02-28|V|NaN|4 a|k|2026-02-28|T|14|5\n");
}
END_TEST

START_TEST(test_long_with_target_only_is_targets)
{
    TI_EXPECT("date,team,kpi,target\n2026-01,a,k,12\n", NULL,
              "targets long utf-8 ,\n2: a|k|2026-01-31|T|12|4\n");
}
END_TEST

START_TEST(test_kind_targets_reads_value_column_as_targets)
{
    struct ingest_options o = {.kind = INGEST_KIND_TARGETS};
    TI_EXPECT("date,team,kpi,value\n2026-01,a,k,12\n", &o,
              "targets long utf-8 ,\n2: a|k|2026-01-31|T|12|4\n");
}
END_TEST

START_TEST(test_kind_observations_keeps_only_values)
{
    struct ingest_options o = {.kind = INGEST_KIND_OBSERVATIONS};
    TI_EXPECT("date,team,kpi,value,target\n2026-01,a,k,10,12\n", &o,
              "observations long utf-8 ,\n2: a|k|2026-01-31|V|10|4\n");
    TI_EXPECT("date,team,kpi,target\n2026-01,a,k,10\n", &o,
              "OPEN -2 t.csv: an observations file needs a value column (value or valeur)\n");
}
END_TEST

START_TEST(test_french_aliases_and_accents_match_roles)
{
    TI_EXPECT("Période;Équipe;Indicateur;Valeur\n2026-01;Ventes;CA;1,5\n", NULL,
              "observations long utf-8 ;\n2: Ventes|CA|2026-01-31|V|1.5|4\n");
    TI_EXPECT(" MOIS ,service,indicator,objectif\n2026-01,a,k,2\n", NULL,
              "targets long utf-8 ,\n2: a|k|2026-01-31|T|2|4\n");
    TI_EXPECT("month,equipe,KPI,budget,valeur\n2026-01,a,k,2,3\n", NULL,
              "observations long utf-8 ,\n2: a|k|2026-01-31|V|3|5 a|k|2026-01-31|T|2|4\n");
}
END_TEST

START_TEST(test_long_ignores_extra_columns)
{
    TI_EXPECT("date,team,kpi,value,comment\n2026-01,a,k,1,hello\n", NULL,
              "observations long utf-8 ,\n2: a|k|2026-01-31|V|1|4\n");
}
END_TEST

START_TEST(test_team_and_kpi_options_supply_missing_columns)
{
    struct ingest_options o = {.team = "sales", .kpi = "revenue"};
    TI_EXPECT("date,value\n2026-01,5\n", &o,
              "observations long utf-8 ,\n2: sales|revenue|2026-01-31|V|5|2\n");
    /* a column wins over the option */
    TI_EXPECT("date,team,value\n2026-01,hr,5\n", &o,
              "observations long utf-8 ,\n2: hr|revenue|2026-01-31|V|5|3\n");
}
END_TEST

START_TEST(test_missing_team_column_without_option_is_bad_input)
{
    TI_EXPECT("date,kpi,value\n2026-01,k,5\n", NULL,
              "OPEN -2 t.csv: no team column (expected team, équipe, equipe or service, or "
              "--column team=HEADER); give --team for a file of one team\n");
}
END_TEST

START_TEST(test_missing_kpi_column_without_option_is_bad_input)
{
    TI_EXPECT("date,team,value\n2026-01,a,5\n", NULL,
              "OPEN -2 t.csv: no kpi column (expected kpi, indicator or indicateur, or "
              "--column kpi=HEADER); give --kpi for a file of one indicator\n");
}
END_TEST

START_TEST(test_duplicate_role_columns_are_bad_input)
{
    TI_EXPECT("date,team,équipe,kpi,value\n", NULL,
              "OPEN -2 t.csv:1:3: column \"équipe\" and column 2 (\"team\") both have the role "
              "team\n");
}
END_TEST

START_TEST(test_column_option_maps_other_header)
{
    struct ingest_options o = {0};
    o.column[INGEST_ROLE_VALUE] = "Montant";
    o.column[INGEST_ROLE_DATE] = "jour";
    TI_EXPECT("Jour,team,kpi,montant\n2026-01-02,a,k,7\n", &o,
              "observations long utf-8 ,\n2: a|k|2026-01-02|V|7|4\n");
}
END_TEST

START_TEST(test_column_option_naming_no_header_is_usage_error)
{
    struct ingest_options o = {0};
    o.column[INGEST_ROLE_VALUE] = "Amount";
    TI_EXPECT("date,team,kpi,value\n", &o,
              "OPEN -1 t.csv: --column value=Amount names no column of the header\n");
}
END_TEST

START_TEST(test_wide_file_gives_one_cell_per_indicator)
{
    TI_EXPECT("date,team,Revenue,Head count\n"
              "2026-01,sales,100,12\n"
              "2026-02,sales,NA,13\n",
              NULL,
              "observations wide utf-8 ,\n"
              "2: sales|Revenue|2026-01-31|V|100|3 sales|Head count|2026-01-31|V|12|4\n"
              "3: sales|Revenue|2026-02-28|V|NaN|3 sales|Head count|2026-02-28|V|13|4\n");
}
END_TEST

START_TEST(test_wide_without_team_column_uses_team_option)
{
    struct ingest_options o = {.team = "hr", .kind = INGEST_KIND_TARGETS};
    TI_EXPECT("date,Turnover\n2026-Q1,3\n", &o,
              "targets wide utf-8 ,\n2: hr|Turnover|2026-03-31|T|3|2\n");
    TI_EXPECT("date,Turnover\n2026-Q1,3\n", NULL,
              "OPEN -2 t.csv: no team column (expected team, équipe, equipe or service, or "
              "--column team=HEADER); give --team for a file of one team\n");
}
END_TEST

START_TEST(test_column_option_resolves_clash_with_indicator_name)
{
    /* "Service" is an alias of team: without --column both columns are teams */
    TI_EXPECT("date,team,Service\n2026-01,a,4\n", NULL,
              "OPEN -2 t.csv:1:3: column \"Service\" and column 2 (\"team\") both have the role "
              "team\n");
    struct ingest_options o = {0};
    o.column[INGEST_ROLE_TEAM] = "team";
    TI_EXPECT("date,team,Service\n2026-01,a,4\n", &o,
              "observations wide utf-8 ,\n2: a|Service|2026-01-31|V|4|3\n");
}
END_TEST

START_TEST(test_periods_file_gives_one_cell_per_period)
{
    struct ingest_options obs = {.kind = INGEST_KIND_OBSERVATIONS};
    TI_EXPECT("team;kpi;2026-01;2026-02;2026-Q2\n"
              "sales;revenue;1;2,5;\n",
              &obs,
              "observations periods utf-8 ;\n"
              "2: sales|revenue|2026-01-31|V|1|3 sales|revenue|2026-02-28|V|2.5|4 "
              "sales|revenue|2026-06-30|V|NaN|5\n");
    struct ingest_options o = {.kind = INGEST_KIND_TARGETS, .kpi = "revenue"};
    TI_EXPECT("team,2026\nsales,100\n", &o,
              "targets periods utf-8 ,\n2: sales|revenue|2026-12-31|T|100|2\n");
}
END_TEST

/* A budget sheet imported as actuals overwrote real figures: a periods file
 * must say what it holds (SPEC §4), a usage error (exit 1). */
START_TEST(test_periods_file_without_kind_is_refused)
{
    TI_EXPECT("\xC3\xA9quipe;indicateur;janv.-26;f\xC3\xA9vr.-26\nventes;ca;100;110\n", NULL,
              "OPEN -1 t.csv:1: a file with one column per period (team, kpi, janv.-26, ...) may "
              "hold actuals or a budget: say which with --kind observations or --kind targets\n");
}
END_TEST

START_TEST(test_periods_header_with_non_date_column_is_bad_input)
{
    TI_EXPECT("team,kpi,2026-01,Commentaire\n", NULL,
              "OPEN -2 t.csv:1:4: no date column, and column \"Commentaire\" is not a period "
              "(expected "
              "YYYY-MM-DD, DD/MM/YYYY, YYYY-MM, MM/YYYY, a month and its year (janv. 2026, "
              "Sep-26), YYYY-Qn, YYYY or YYYY-Www; --date-format reads other forms)\n");
}
END_TEST

START_TEST(test_teams_catalog_is_detected)
{
    TI_EXPECT("team,name,parent\n"
              "sales-fr,Ventes France,sales\n"
              "sales,,\n",
              NULL,
              "teams catalog utf-8 ,\n"
              "2: ref=sales-fr name=Ventes France parent=sales\n"
              "3: ref=sales name=NULL parent=NULL\n");
    TI_EXPECT("id,name,parent\nx,X,\n", NULL,
              "teams catalog utf-8 ,\n2: ref=x name=X parent=NULL\n");
}
END_TEST

START_TEST(test_indicators_catalog_is_detected)
{
    TI_EXPECT("kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
              "revenue,Revenue,financial,EUR,up,month,sum,0.05,0.1,2\n"
              "churn,,Customer,%,DOWN,quarter,mean,5%,,\n"
              "x,,,,,,,,,\n",
              NULL,
              "indicators catalog utf-8 ,\n"
              "2: ref=revenue name=Revenue unit=EUR family=financial direction=up period=month "
              "aggregate=sum amber=0.05 red=0.1 weight=2\n"
              "3: ref=churn name=NULL unit=% family=customer direction=down period=quarter "
              "aggregate=mean amber=0.05\n"
              "4: ref=x name=NULL unit=NULL\n");
    TI_EXPECT("id,name,family\nx,X,human\n", NULL,
              "indicators catalog utf-8 ,\n2: ref=x name=X unit=NULL family=human\n");
}
END_TEST

START_TEST(test_id_name_header_needs_kind)
{
    TI_EXPECT("id,name\nx,X\n", NULL,
              "OPEN -1 t.csv: a header of only id and name fits both teams and indicators "
              "files: give --kind teams or --kind indicators\n");
    struct ingest_options o = {.kind = INGEST_KIND_TEAMS};
    TI_EXPECT("id,name\nx,X\n", &o, "teams catalog utf-8 ,\n2: ref=x name=X parent=NULL\n");
    o.kind = INGEST_KIND_INDICATORS;
    TI_EXPECT("id,name\nx,X\n", &o, "indicators catalog utf-8 ,\n2: ref=x name=X unit=NULL\n");
}
END_TEST

START_TEST(test_catalog_with_unknown_column_is_bad_input)
{
    TI_EXPECT("team,name,manager\n", NULL,
              "OPEN -2 t.csv:1:3: unexpected column \"manager\" in a teams file (columns: team "
              "or id, name, parent)\n");
    struct ingest_options o = {.kind = INGEST_KIND_TEAMS};
    TI_EXPECT("kpi,name\n", &o,
              "OPEN -2 t.csv: a teams file needs a team or id column (columns: team or id, "
              "name, parent)\n");
}
END_TEST

START_TEST(test_header_fitting_no_kind_is_bad_input)
{
    TI_EXPECT("foo,bar\n1,2\n", NULL,
              "OPEN -2 t.csv:1: the header fits no kind of file: expected date, team, kpi, value "
              "and/or target (long), date, team and one column per indicator (wide), team, kpi "
              "and one column per period (periods), or a teams or indicators catalog; line 1 "
              "reads \"foo\", \"bar\" (delimiter ,); line 2 is no header either (--header-line "
              "N reads it from line N)\n");
}
END_TEST

START_TEST(test_every_date_form_flows_through)
{
    TI_EXPECT("date,team,kpi,value\n"
              "2026-01-15,a,k,1\n"
              "2026-01-15T10:20:30Z,a,k,1\n"
              "2026-01-15T10:20:30,a,k,1\n"
              "2026-02,a,k,1\n"
              "2026-Q1,a,k,1\n"
              "2026,a,k,1\n"
              "2026-W05,a,k,1\n"
              "15/01/2026,a,k,1\n"
              "01/02/2026,a,k,1\n",
              NULL,
              "observations long utf-8 ,\n"
              "2: a|k|2026-01-15|V|1|4\n"
              "3: a|k|2026-01-15|V|1|4\n"
              "4: a|k|2026-01-15|V|1|4\n"
              "5: a|k|2026-02-28|V|1|4\n"
              "6: a|k|2026-03-31|V|1|4\n"
              "7: a|k|2026-12-31|V|1|4\n"
              "8: a|k|2026-02-01|V|1|4\n"
              "9: a|k|2026-01-15|V|1|4\n"
              "10: a|k|2026-02-01|V|1|4\n");
}
END_TEST

START_TEST(test_date_format_option_replaces_builtin_forms)
{
    struct ingest_options o = {.date_format = "%d.%m.%Y"};
    TI_EXPECT("date,team,kpi,value\n15.01.2026,a,k,1\n2026-01-15,a,k,1\n", &o,
              "observations long utf-8 ,\n"
              "2: a|k|2026-01-15|V|1|4\n"
              "ERR -2 t.csv:3:1: invalid date \"2026-01-15\" in column \"date\" (expected format "
              "\"%d.%m.%Y\" of --date-format)\n");
}
END_TEST

START_TEST(test_quoted_fields_with_delimiter_and_doubled_quotes)
{
    TI_EXPECT("date,team,kpi,value\n"
              "2026-01,\"Sales, France\",\"the \"\"best\"\" kpi\",\"1\"\n"
              "2026-01,\" padded \",k,2\n",
              NULL,
              "observations long utf-8 ,\n"
              "2: Sales, France|the \"best\" kpi|2026-01-31|V|1|4\n"
              "3: padded|k|2026-01-31|V|2|4\n");
}
END_TEST

START_TEST(test_line_break_in_quoted_field_keeps_physical_lines)
{
    TI_EXPECT("date,team,kpi,value\n"
              "2026-01,\"two\nlines\",k,1\n"
              "2026-02,\"three\r\nphysical\r\nlines\",k,2\r\n"
              "2026-03,a,k,3\n"
              "2026-04,a,k,x\n",
              NULL,
              "observations long utf-8 ,\n"
              "2: two\nlines|k|2026-01-31|V|1|4\n"
              "4: three\nphysical\nlines|k|2026-02-28|V|2|4\n"
              "7: a|k|2026-03-31|V|3|4\n"
              "ERR -2 t.csv:8:4: invalid number \"x\" in column \"value\": expected a number "
              "(with ',' the decimal separator is '.'): 1234.50, -3, (1234.50), 12 %, 1e6; empty, "
              "NA or #N/A for no value\n");
}
END_TEST

START_TEST(test_crlf_blank_lines_and_no_final_newline)
{
    TI_EXPECT("date;team;kpi;value\r\n"
              "\r\n"
              "2026-01;a;k;1\r\n"
              "\n"
              "   \n"
              ";;;\r\n"
              "2026-02;a;k;2",
              NULL,
              "observations long utf-8 ;\n"
              "3: a|k|2026-01-31|V|1|4\n"
              "7: a|k|2026-02-28|V|2|4\n");
}
END_TEST

START_TEST(test_header_only_file_has_no_rows)
{
    TI_EXPECT("date,team,kpi,value\n", NULL, "observations long utf-8 ,\n");
}
END_TEST

START_TEST(test_empty_file_is_bad_input)
{
    TI_EXPECT("", NULL, "OPEN -2 t.csv: empty file (no header)\n");
    TI_EXPECT("\n\n", NULL, "OPEN -2 t.csv: empty file (no header)\n");
}
END_TEST

START_TEST(test_delimiter_option_forces_delimiter)
{
    struct ingest_options o = {.delimiter = '|'};
    TI_EXPECT("date|team|kpi|value\n2026-01|a,b|k|1.5\n", &o,
              "observations long utf-8 |\n2: a,b|k|2026-01-31|V|1.5|4\n");
}
END_TEST

START_TEST(test_header_fields_and_progress_are_reported)
{
    char *dir = ts_tempdir("ingest");
    char *path = ts_path(dir, "h.csv");
    ts_write_file(path,
                  "\xEF\xBB\xBF"
                  "date,team,kpi,value\n2026-01,a,k,1\n",
                  (size_t)-1);
    struct ingest_reader *r = NULL;
    struct kpi_error err = {0};
    ck_assert_int_eq(ingest_open(path, NULL, NULL, &r, &err), 0);
    ck_assert_str_eq(ingest_display_name(r), path);
    ck_assert_uint_eq(ingest_header_count(r), 4);
    ck_assert_str_eq(ingest_header(r, 0), "date");
    ck_assert_str_eq(ingest_header(r, 3), "value");
    ck_assert_ptr_null(ingest_header(r, 4));
    ck_assert_uint_eq(ingest_bytes_total(r), 37);
    struct kpi_buf got = {0};
    const struct ingest_sink sink = {ti_fields_row, ti_fields_bad, &got};
    ck_assert_int_eq(ingest_read(r, &sink, &err), 0);
    ck_assert_str_eq(got.data, "2: 2026-01|a|k|1\n");
    ck_assert_uint_eq(ingest_bytes_read(r), 37);
    kpi_buf_free(&got);
    ingest_close(r);
    ingest_close(NULL);
    ts_rm_rf(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_missing_file_is_system_error)
{
    struct ingest_reader *r = NULL;
    struct kpi_error err = {0};
    ck_assert_int_eq(ingest_open("/nonexistent/x.csv", "x.csv", NULL, &r, &err), KPI_ESYSTEM);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.message, "x.csv: cannot open: No such file or directory");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ingest_layouts");
    TCase *tc = tcase_create("layouts");
    tcase_add_test(tc, test_long_comma_file_gives_one_cell_per_row);
    tcase_add_test(tc, test_long_tab_file_is_detected);
    tcase_add_test(tc, test_long_with_value_and_target_gives_two_cells);
    tcase_add_test(tc, test_long_with_target_only_is_targets);
    tcase_add_test(tc, test_kind_targets_reads_value_column_as_targets);
    tcase_add_test(tc, test_kind_observations_keeps_only_values);
    tcase_add_test(tc, test_french_aliases_and_accents_match_roles);
    tcase_add_test(tc, test_long_ignores_extra_columns);
    tcase_add_test(tc, test_team_and_kpi_options_supply_missing_columns);
    tcase_add_test(tc, test_missing_team_column_without_option_is_bad_input);
    tcase_add_test(tc, test_missing_kpi_column_without_option_is_bad_input);
    tcase_add_test(tc, test_duplicate_role_columns_are_bad_input);
    tcase_add_test(tc, test_column_option_maps_other_header);
    tcase_add_test(tc, test_column_option_naming_no_header_is_usage_error);
    tcase_add_test(tc, test_wide_file_gives_one_cell_per_indicator);
    tcase_add_test(tc, test_wide_without_team_column_uses_team_option);
    tcase_add_test(tc, test_column_option_resolves_clash_with_indicator_name);
    tcase_add_test(tc, test_periods_file_gives_one_cell_per_period);
    tcase_add_test(tc, test_periods_header_with_non_date_column_is_bad_input);
    tcase_add_test(tc, test_periods_file_without_kind_is_refused);
    tcase_add_test(tc, test_teams_catalog_is_detected);
    tcase_add_test(tc, test_indicators_catalog_is_detected);
    tcase_add_test(tc, test_id_name_header_needs_kind);
    tcase_add_test(tc, test_catalog_with_unknown_column_is_bad_input);
    tcase_add_test(tc, test_header_fitting_no_kind_is_bad_input);
    tcase_add_test(tc, test_every_date_form_flows_through);
    tcase_add_test(tc, test_date_format_option_replaces_builtin_forms);
    tcase_add_test(tc, test_quoted_fields_with_delimiter_and_doubled_quotes);
    tcase_add_test(tc, test_line_break_in_quoted_field_keeps_physical_lines);
    tcase_add_test(tc, test_crlf_blank_lines_and_no_final_newline);
    tcase_add_test(tc, test_header_only_file_has_no_rows);
    tcase_add_test(tc, test_empty_file_is_bad_input);
    tcase_add_test(tc, test_delimiter_option_forces_delimiter);
    tcase_add_test(tc, test_header_fields_and_progress_are_reported);
    tcase_add_test(tc, test_missing_file_is_system_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
