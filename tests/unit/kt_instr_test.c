/*  kt_instr_test - the instruments table from Kite's official CSV fixtures (read from
 *  ../shared/fixtures/kite, cwd = project root): counts, known rows, every lookup,
 *  byte-exact format_row round trips, RFC 4180 quoting, and each way a dump can be
 *  broken reported with its line number. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kt_instr.h"

#define S_ALL "../shared/fixtures/kite/instruments_all.csv"
#define S_NSE "../shared/fixtures/kite/instruments_nse.csv"

static kt_instr_table_t *
s_load (const char *path)
{
    char err[256] = "";
    kt_instr_table_t *t = kt_instr_load (path, err, sizeof err);
    if (!t)
        print_error ("%s\n", err);
    assert_non_null (t);
    return t;
}

static kt_instr_table_t *
s_parse (const char *csv)
{
    char err[256] = "";
    kt_instr_table_t *t = kt_instr_parse (csv, strlen (csv), err, sizeof err);
    if (!t)
        print_error ("%s\n", err);
    assert_non_null (t);
    return t;
}

//  Parse must fail with exactly this reason.
static void
s_parse_fails (const char *csv, const char *reason)
{
    char err[256] = "";
    kt_instr_table_t *t = kt_instr_parse (csv, strlen (csv), err, sizeof err);
    assert_null (t);
    assert_string_equal (err, reason);
}

#define S_HEADER KT_INSTR_CSV_HEADER "\n"

static void
test_fixture_all_rows (void **state)
{
    (void) state;
    kt_instr_table_t *t = s_load (S_ALL);
    assert_int_equal (kt_instr_count (t), 99);

    //  First and last rows in file order.
    const struct kt_instr *in = kt_instr_at (t, 0);
    assert_int_equal (in->token, 3813889);
    assert_string_equal (in->sym, "CENTRALBK-BE");
    assert_string_equal (in->name, "CENTRAL BANK OF INDIA");
    assert_int_equal (in->exchange_token, 14898);
    assert_int_equal (in->itype, KT_ITYPE_EQ);
    assert_int_equal (in->expiry, 0);
    assert_int_equal (in->strike, 0);
    assert_int_equal (in->tick, 5);
    assert_int_equal (in->lot, 1);
    assert_string_equal (in->segment, "NSE");
    assert_string_equal (in->exchange, "NSE");
    assert_string_equal (kt_instr_at (t, 98)->sym, "GISOLUTION-BE");
    assert_null (kt_instr_at (t, 99));

    //  An NFO option with an empty name.
    in = kt_instr_by_token (t, 12073986);
    assert_non_null (in);
    assert_string_equal (in->sym, "BANKNIFTY18JAN23500CE");
    assert_string_equal (in->name, "");
    assert_int_equal (in->last_price, 252840);
    assert_int_equal (in->expiry, 20180125);
    assert_int_equal (in->strike, 2350000);
    assert_int_equal (in->tick, 5);
    assert_int_equal (in->lot, 40);
    assert_int_equal (in->itype, KT_ITYPE_CE);
    assert_string_equal (in->segment, "NFO-OPT");
    assert_string_equal (in->exchange, "NFO");
    assert_int_equal (kt_instr_segment_of (in->token), 2);
    assert_int_equal (kt_instr_price_divisor (2), 100);
    assert_int_equal (kt_instr_price_divisor (3), 10000000);
    assert_int_equal (kt_instr_price_divisor (6), 10000);
    assert_int_equal (kt_instr_price_divisor (9), 100);

    in = kt_instr_by_sym (t, "NFO", "ADANIPORTS17DEC490PE");
    assert_non_null (in);
    assert_int_equal (in->token, 13693186);
    assert_int_equal (in->last_price, 8065);
    assert_int_equal (in->expiry, 20171228);
    assert_int_equal (in->strike, 49000);
    assert_int_equal (in->lot, 2500);
    assert_int_equal (in->itype, KT_ITYPE_PE);

    //  Bonds: tick 0.25 and lot 500000; ETFs: tick 0.01.
    in = kt_instr_by_sym (t, "BSE", "828GOI27-ML");
    assert_non_null (in);
    assert_int_equal (in->token, 112655620);
    assert_int_equal (in->tick, 25);
    assert_int_equal (in->lot, 500000);
    assert_int_equal (kt_instr_by_sym (t, NULL, "MIDCAPIWIN-BL")->tick, 1);
    assert_string_equal (kt_instr_by_token (t, 136484868)->sym, "COX&KINGS");
    assert_string_equal (kt_instr_by_token (t, 5101569)->name, "7.64% TAX FREETRI SR2B");
    kt_instr_destroy (&t);
    assert_null (t);
    kt_instr_destroy (&t);
}

static void
test_fixture_nse (void **state)
{
    (void) state;
    kt_instr_table_t *t = s_load (S_NSE);
    assert_int_equal (kt_instr_count (t), 99);
    const struct kt_instr *in = kt_instr_by_token (t, 510209);
    assert_non_null (in);
    assert_string_equal (in->sym, "IRFC-ND");
    assert_string_equal (in->name, "BOND 8.44% PA TF TII-SIB");
    assert_int_equal (in->tick, 1);
    in = kt_instr_by_sym (t, "NSE", "SGBNOV24-GB");
    assert_non_null (in);
    assert_int_equal (in->token, 4915969);
    assert_string_equal (in->name, "2.50% GOLDBONDS2024 TR-VI");
    //  Every row of this dump is cash NSE: no options.
    for (size_t i = 0; i < kt_instr_count (t); i++) {
        assert_string_equal (kt_instr_at (t, i)->exchange, "NSE");
        assert_int_equal (kt_instr_at (t, i)->itype, KT_ITYPE_EQ);
    }
    assert_int_equal (kt_instr_nearest_expiry (t, "BANKNIFTY", 0), 0);
    kt_instr_destroy (&t);
}

static void
test_lookups (void **state)
{
    (void) state;
    kt_instr_table_t *t = s_load (S_ALL);
    //  Every row is found by its own token and symbol.
    for (size_t i = 0; i < kt_instr_count (t); i++) {
        const struct kt_instr *in = kt_instr_at (t, i);
        assert_ptr_equal (kt_instr_by_token (t, in->token), in);
        assert_ptr_equal (kt_instr_by_sym (t, in->exchange, in->sym), in);
        assert_ptr_equal (kt_instr_by_sym (t, NULL, in->sym), in);
    }
    assert_null (kt_instr_by_token (t, 1));
    assert_null (kt_instr_by_token (t, 0));
    assert_null (kt_instr_by_sym (t, "NSE", "NOSUCH"));
    assert_null (kt_instr_by_sym (t, "BSE", "CDSL"));
    assert_null (kt_instr_by_sym (t, NULL, NULL));
    assert_int_equal (kt_instr_by_sym (t, "NSE", "CDSL")->token, 5420545);

    //  Options by (underlying, expiry, strike, type); the underlying of these old
    //  mock rows is recovered from the symbol because their name column is empty.
    const struct kt_instr *o = kt_instr_option (t, "BANKNIFTY", 20180125, 2350000, KT_ITYPE_PE);
    assert_non_null (o);
    assert_int_equal (o->token, 12074242);
    o = kt_instr_option (t, "BANKNIFTY", 20180125, 2350000, KT_ITYPE_CE);
    assert_non_null (o);
    assert_int_equal (o->token, 12073986);
    assert_int_equal (kt_instr_option (t, "BANKNIFTY", 20171130, 2400000, KT_ITYPE_CE)->token,
                      13845762);
    assert_int_equal (kt_instr_option (t, "INDIANB", 20171228, 15000, KT_ITYPE_CE)->token,
                      21231106);
    assert_int_equal (kt_instr_option (t, "INDIACEM", 20171228, 22500, KT_ITYPE_PE)->token,
                      21227778);
    assert_null (kt_instr_option (t, "BANKNIFTY", 20180125, 2350500, KT_ITYPE_CE));
    assert_null (kt_instr_option (t, "BANKNIFTY", 20180126, 2350000, KT_ITYPE_CE));
    assert_null (kt_instr_option (t, "BANKNIFTY", 20180125, 2350000, KT_ITYPE_FUT));
    assert_null (kt_instr_option (t, "NIFTY", 20180125, 2350000, KT_ITYPE_CE));
    assert_null (kt_instr_option (t, NULL, 20180125, 2350000, KT_ITYPE_CE));

    assert_int_equal (kt_instr_nearest_expiry (t, "BANKNIFTY", 20171101), 20171130);
    assert_int_equal (kt_instr_nearest_expiry (t, "BANKNIFTY", 20171130), 20171130);
    assert_int_equal (kt_instr_nearest_expiry (t, "BANKNIFTY", 20171201), 20171228);
    assert_int_equal (kt_instr_nearest_expiry (t, "BANKNIFTY", 20171229), 20180125);
    assert_int_equal (kt_instr_nearest_expiry (t, "BANKNIFTY", 20180126), 0);
    assert_int_equal (kt_instr_nearest_expiry (t, "INDIACEM", 0), 20171228);
    assert_int_equal (kt_instr_nearest_expiry (t, "NIFTY", 0), 0);
    kt_instr_destroy (&t);
}

//  Each fixture row, formatted back, is byte-identical to its line in the file.
static void
s_round_trip_file (const char *path)
{
    kt_instr_table_t *t = s_load (path);
    FILE *fp = fopen (path, "rb");
    assert_non_null (fp);
    char line[512];
    assert_non_null (fgets (line, sizeof line, fp));
    line[strcspn (line, "\r\n")] = '\0';
    assert_string_equal (line, KT_INSTR_CSV_HEADER);
    size_t i = 0;
    while (fgets (line, sizeof line, fp)) {
        line[strcspn (line, "\r\n")] = '\0';
        char out[512];
        int n = kt_instr_format_row (kt_instr_at (t, i), out, sizeof out);
        assert_int_equal (n, (int) strlen (line));
        assert_string_equal (out, line);
        i++;
    }
    assert_int_equal (i, kt_instr_count (t));
    fclose (fp);
    kt_instr_destroy (&t);
}

static void
test_format_round_trip (void **state)
{
    (void) state;
    s_round_trip_file (S_ALL);
    s_round_trip_file (S_NSE);

    kt_instr_table_t *t = s_load (S_ALL);
    const struct kt_instr *in = kt_instr_by_token (t, 12073986);
    char out[128];
    const char *want = "12073986,47164,BANKNIFTY18JAN23500CE,,2528.4,2018-01-25,23500.0,0.05,40,"
                       "CE,NFO-OPT,NFO";
    assert_int_equal (kt_instr_format_row (in, out, strlen (want) + 1), (int) strlen (want));
    assert_string_equal (out, want);
    assert_int_equal (kt_instr_format_row (in, out, strlen (want)), -1);
    assert_int_equal (kt_instr_format_row (in, out, 0), -1);
    kt_instr_destroy (&t);
}

static void
test_quoting (void **state)
{
    (void) state;
    //  Columns in another order, an extra column, LF endings, quoted fields with
    //  commas, doubled quotes and a line break inside quotes.
    const char *csv =
        "exchange,segment,instrument_type,lot_size,tick_size,strike,expiry,last_price,name,"
        "tradingsymbol,exchange_token,instrument_token,extra\n"
        "NSE,NSE,EQ,1,0.05,0.0,,1520.5,\"ADANI PORTS, SEZ\",ADANIPORTS,15083,3861249,x\n"
        "NSE,NSE,EQ,1,0.05,0.0,,0.0,\"THE \"\"GROB\"\" TEA\",GROBTEA,17774,4550145,\"a,b\"\n"
        "NFO,NFO-OPT,CE,75,0.05,24400.0,2025-08-07,112.35,\"\",NIFTY2580724400CE,1,257,\"multi\n"
        "line\"\n"
        "NFO,NFO-FUT,FUT,75,0.05,0.0,2025-08-28,24500.0,,NIFTY25AUGFUT,2,513,\n";
    kt_instr_table_t *t = s_parse (csv);
    assert_int_equal (kt_instr_count (t), 4);
    const struct kt_instr *in = kt_instr_by_token (t, 3861249);
    assert_string_equal (in->name, "ADANI PORTS, SEZ");
    assert_int_equal (in->last_price, 152050);
    char out[256];
    assert_true (kt_instr_format_row (in, out, sizeof out) > 0);
    assert_string_equal (out, "3861249,15083,ADANIPORTS,\"ADANI PORTS, SEZ\",1520.5,,0.0,0.05,1,"
                              "EQ,NSE,NSE");
    in = kt_instr_by_sym (t, "NSE", "GROBTEA");
    assert_string_equal (in->name, "THE \"GROB\" TEA");
    assert_true (kt_instr_format_row (in, out, sizeof out) > 0);
    assert_string_equal (out, "4550145,17774,GROBTEA,\"THE \"\"GROB\"\" TEA\",0.0,,0.0,0.05,1,EQ,"
                              "NSE,NSE");
    //  A weekly NIFTY option (kite-protocol.md 7.2): underlying from the symbol.
    in = kt_instr_option (t, "NIFTY", 20250807, 2440000, KT_ITYPE_CE);
    assert_non_null (in);
    assert_int_equal (in->token, 257);
    assert_int_equal (in->lot, 75);
    assert_int_equal (kt_instr_nearest_expiry (t, "NIFTY", 20250801), 20250807);
    assert_int_equal (kt_instr_by_sym (t, "NFO", "NIFTY25AUGFUT")->itype, KT_ITYPE_FUT);

    //  Parse of the formatted rows gives the same records back.
    char csv2[2048];
    size_t pos = (size_t) snprintf (csv2, sizeof csv2, "%s\r\n", KT_INSTR_CSV_HEADER);
    for (size_t i = 0; i < kt_instr_count (t); i++) {
        int n = kt_instr_format_row (kt_instr_at (t, i), csv2 + pos, sizeof csv2 - pos - 2);
        assert_true (n > 0);
        pos += (size_t) n;
        memcpy (csv2 + pos, "\r\n", 3);
        pos += 2;
    }
    kt_instr_table_t *t2 = s_parse (csv2);
    assert_int_equal (kt_instr_count (t2), kt_instr_count (t));
    for (size_t i = 0; i < kt_instr_count (t); i++)
        assert_memory_equal (kt_instr_at (t, i), kt_instr_at (t2, i), sizeof (struct kt_instr));
    kt_instr_destroy (&t2);
    kt_instr_destroy (&t);
}

static void
test_odd_but_valid (void **state)
{
    (void) state;
    //  BOM, blank lines, no final newline, a long name cut at a UTF-8 boundary, an
    //  index row with lot 0 and tick 0 (the real dump has those), an unknown type.
    const char *csv =
        "\xEF\xBB\xBF" S_HEADER "\n"
        "256265,1001,NIFTY 50,NIFTY 50,0.0,,0.0,0.0,0,EQ,INDICES,NSE\r\n"
        "\r\n"
        "1,2,LONGNAME,ABCDEFGHIJKLMNOPQRSTUVWXYZ1234\xC3\xA9XYZ,0,,0,0.05,1,XX,NSE,NSE";
    kt_instr_table_t *t = s_parse (csv);
    assert_int_equal (kt_instr_count (t), 2);
    const struct kt_instr *in = kt_instr_by_token (t, 256265);
    assert_int_equal (in->lot, 0);
    assert_int_equal (in->tick, 0);
    assert_int_equal (kt_instr_segment_of (in->token), 9);
    in = kt_instr_by_token (t, 1);
    assert_string_equal (in->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ1234");
    assert_int_equal (in->itype, KT_ITYPE_OTHER);
    kt_instr_destroy (&t);
}

static void
test_broken (void **state)
{
    (void) state;
    const char *good = "3813889,14898,CENTRALBK-BE,CENTRAL BANK,0.0,,0.0,0.05,1,EQ,NSE,NSE\r\n";
    char csv[1024];

    s_parse_fails ("", "line 1: no header row");
    s_parse_fails ("\n\n", "line 3: no header row");
    s_parse_fails (S_HEADER, "line 2: no instrument rows");
    s_parse_fails ("instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
                   "tick_size,instrument_type,segment,exchange\n",
                   "line 1: missing column lot_size");
    s_parse_fails (KT_INSTR_CSV_HEADER ",strike\n", "line 1: column strike appears twice");

    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "4645121,18145,EMMBI-BL,EMMBI,0.0,,0.0,0.05,1,EQ,NSE\n");
    s_parse_fails (csv, "line 3: 11 fields, expected 12");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "4645121,18145,EMMBI-BL,EMMBI,0.0,,abc,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: strike: not a price \"abc\"");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "4645121,18145,EMMBI-BL,EMMBI,0.0,2018-02-30,0.0,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: expiry: not a YYYY-MM-DD date \"2018-02-30\"");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "4294967296,18145,EMMBI-BL,EMMBI,0.0,,0.0,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: instrument_token: not a token \"4294967296\"");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "4645121,18145,EMMBI-BL,EMMBI,0.0,,0.0,0.05,-1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: lot_size: not a lot size \"-1\"");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "4645121,18145,EMMBI-BL,EMMBI,0.0,,0.0,-0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: tick_size: not a price \"-0.05\"");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "4645121,18145,,EMMBI,0.0,,0.0,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: tradingsymbol: empty");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "4645121,18145,EMMBI-BL,EMMBI,0.0,,0.0,0.05,1,EQ,NSE,NSEXXXXXX\n");
    s_parse_fails (csv, "line 3: exchange: longer than 7 bytes");
    //  Quoting errors. The record starting on line 3 spans lines 3-4; line numbers
    //  after it stay right.
    snprintf (csv, sizeof csv, S_HEADER "%s%s%s", good,
              "4645121,18145,EMMBI-BL,\"EMMBI\nINDUSTRIES\",0.0,,0.0,0.05,1,EQ,NSE,NSE\n",
              "1,2,X,\"bad\"quote,0.0,,0.0,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 5: field 4: text after closing quote");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good, "1,2,X,ab\"c,0.0,,0.0,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: field 4: stray quote in unquoted field");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good, "1,2,X,\"abc,0.0,,0.0,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: field 4: unterminated quoted field");
    //  Duplicates make lookups ambiguous.
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "3813889,1,OTHER,X,0.0,,0.0,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: instrument_token: 3813889 repeats line 2");
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "7,1,CENTRALBK-BE,X,0.0,,0.0,0.05,1,EQ,NSE,NSE\n");
    s_parse_fails (csv, "line 3: tradingsymbol: NSE:CENTRALBK-BE repeats line 2");
    //  The same symbol on two exchanges is fine.
    snprintf (csv, sizeof csv, S_HEADER "%s%s", good,
              "7,1,CENTRALBK-BE,X,0.0,,0.0,0.05,1,EQ,BSE,BSE\n");
    kt_instr_table_t *t = s_parse (csv);
    assert_int_equal (kt_instr_by_sym (t, NULL, "CENTRALBK-BE")->token, 3813889);
    assert_int_equal (kt_instr_by_sym (t, "BSE", "CENTRALBK-BE")->token, 7);
    kt_instr_destroy (&t);
}

static void
test_load_errors (void **state)
{
    (void) state;
    char err[256];
    assert_null (kt_instr_load ("/nonexistent/instruments.csv", err, sizeof err));
    assert_string_equal (err, "/nonexistent/instruments.csv: No such file or directory");
    char path[] = "/tmp/kt_instr_test_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *fp = fdopen (fd, "w");
    fputs (S_HEADER "1,2,X,Y,zero,,0.0,0.05,1,EQ,NSE,NSE\n", fp);
    fclose (fp);
    assert_null (kt_instr_load (path, err, sizeof err));
    char want[256];
    snprintf (want, sizeof want, "%s: line 2: last_price: not a price \"zero\"", path);
    assert_string_equal (err, want);
    remove (path);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixture_all_rows),
        cmocka_unit_test (test_fixture_nse),
        cmocka_unit_test (test_lookups),
        cmocka_unit_test (test_format_round_trip),
        cmocka_unit_test (test_quoting),
        cmocka_unit_test (test_odd_but_valid),
        cmocka_unit_test (test_broken),
        cmocka_unit_test (test_load_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
