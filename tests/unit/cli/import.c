/*
 * Tests for cli/import.c: CSV files written to a temporary directory and
 * imported into a fresh SQLite database, without a process.
 */
#include "cli/import.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/invito-import-XXXXXX";
static struct store *st;
static int64_t org;
static char errbuf[8192];
static FILE *errs;

static void setup(void)
{
	char db[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/test.db", dir);
	cr_assert_eq(store_open(&st, db, 1), 0);
	struct store_conn *c = store_acquire(st);
	int64_t portal;
	cr_assert_eq(store_insert(c, &portal,
	                          "INSERT INTO portals (name, base_url) VALUES (?, ?) RETURNING id",
	                          "tt", "Portal", "http://127.0.0.1:8080"),
	             0);
	cr_assert_eq(store_insert(c, &org,
	                          "INSERT INTO organisations (kind, portal_id, name) VALUES "
	                          "('customer', ?, ?) RETURNING id",
	                          "it", portal, "Clinic"),
	             0);
	store_release(c);
	errs = fmemopen(errbuf, sizeof(errbuf), "w");
	cr_assert_not_null(errs);
}

static void teardown(void)
{
	char cmd[300];
	if (errs != NULL)
		fclose(errs);
	store_free(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

/* Writes text (n bytes) to dir/name and returns the path (static buffer). */
static const char *write_csv(const char *name, const char *text, size_t n)
{
	static char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, n, f), n);
	fclose(f);
	return path;
}

#define CSV(name, lit) write_csv(name, lit, sizeof(lit) - 1)

static int64_t count(const char *where)
{
	char sql[256];
	int64_t n = -1;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM patients WHERE %s", where);
	struct store_conn *c = store_acquire(st);
	cr_assert_eq(store_scalar(c, &n, sql, ""), 0);
	store_release(c);
	return n;
}

/* The errors written so far, NUL-terminated. */
static const char *errors(void)
{
	fflush(errs);
	return errbuf;
}

TestSuite(import, .init = setup, .fini = teardown);

Test(import, good_file)
{
	const char *p =
	    CSV("good.csv", "Family_Name,given_name,birth_date,mobile,email,lang,external_ref\n"
	                    "D'Amico,Maria Grazia,1975-06-01,333 123 4567,Maria@Example.it,it,A1\n"
	                    "Rossi Bianchi,Nicolò,,+39 320 1234567,,en,A2\r\n"
	                    "\n"
	                    "\"Lo Russo\",\"Zoë\",2001-02-03,,,,\n");
	struct import_report rep;
	cr_assert_eq(import_patients_csv(st, org, p, &rep, errs), 0, "%s", errors());
	cr_expect_eq(rep.imported, 3);
	cr_expect_eq(rep.present, 0);
	cr_expect_eq(rep.rejected, 0);
	cr_expect_str_eq(errors(), "");
	cr_expect_eq(count("family_name = 'D''Amico' AND given_name = 'Maria Grazia' AND "
	                   "mobile = '+393331234567' AND email = 'maria@example.it' AND "
	                   "family_key = 'damico' AND external_ref = 'A1'"),
	             1);
	cr_expect_eq(count("family_name = 'Rossi Bianchi' AND lang = 'en' AND birth_date IS NULL"),
	             1);
	cr_expect_eq(count("family_name = 'Lo Russo' AND lang = 'it' AND external_ref IS NULL"), 1);
}

Test(import, bad_rows_reported_by_physical_line)
{
	const char *p =
	    CSV("bad.csv", "given_name,family_name,birth_date,mobile,email\n"
	                   "Mario,Rossi,1980-01-01,,\n"       /* 2: good */
	                   "Anna,,1980-01-01,,\n"             /* 3: no family name */
	                   "\"Luca\n\",Verdi,,,\n"            /* 4-5: good, embedded NL (trimmed) */
	                   "Paolo,Neri,1980-02-30,,\n"        /* 6: bad date */
	                   "Gino,\"Bianchi\n\n\",,06 1234,\n" /* 7-9: good name, bad mobile */
	                   "Sara,Conti,,,not-an-email\n"      /* 10: bad e-mail */
	                   "Ugo,Gallo,,\n"                    /* 11: 4 fields */
	                   "Ada,Fo\"x,,,\n"                   /* 12: stray quote */
	                   "Eva,Costa,2999-01-01,,,\n"        /* 13: 6 fields */
	                   "Ivo,Russo,2010-05-05,0039 347 1234567,ivo@example.com\n" /* 14 */);
	struct import_report rep;
	cr_assert_eq(import_patients_csv(st, org, p, &rep, errs), 0, "%s", errors());
	cr_expect_eq(rep.imported, 3, "%s", errors());
	cr_expect_eq(rep.rejected, 7, "%s", errors());
	const char *e = errors();
	char want[512];
	static const char *lines[] = {
	    ":3: family_name: Family name is required.",
	    ":6: birth_date: Birth date must be a real date written YYYY-MM-DD.",
	    ":7: mobile: Mobile number needs the country code (e.g. +39).",
	    ":10: email: E-mail address is not valid.",
	    ":11: 4 fields, but the header has 5 columns",
	    ":12: malformed quoting",
	    ":13: 6 fields, but the header has 5 columns",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(want, sizeof(want), "%s%s", p, lines[i]);
		cr_expect_not_null(strstr(e, want), "missing \"%s\" in:\n%s", want, e);
	}
	cr_expect_eq(count("given_name = 'Luca' AND family_name = 'Verdi'"), 1);
	cr_expect_eq(count("mobile = '+393471234567'"), 1);
}

Test(import, missing_column)
{
	const char *p = CSV("missing.csv", "given_name,birth_date\nMario,1980-01-01\n");
	struct import_report rep;
	cr_expect_eq(import_patients_csv(st, org, p, &rep, errs), IMPORT_ERR_HEADER);
	cr_expect_not_null(strstr(errors(), ":1: missing column family_name"), "%s", errors());
	cr_expect_eq(count("1 = 1"), 0);
}

Test(import, unknown_column)
{
	const char *p =
	    CSV("unknown.csv", "given_name,family_name,Fiscal_Code,notes\nMario,Rossi,X,Y\n");
	struct import_report rep;
	cr_expect_eq(import_patients_csv(st, org, p, &rep, errs), IMPORT_ERR_HEADER);
	cr_expect_not_null(strstr(errors(), ":1: unknown column \"fiscal_code\""), "%s", errors());
	cr_expect_not_null(strstr(errors(), ":1: unknown column \"notes\""), "%s", errors());
	cr_expect_eq(count("1 = 1"), 0);
}

Test(import, bare_cr_line_ends_are_refused_not_misnumbered)
{
	const char *p = CSV("mac.csv", "given_name,family_name,birth_date\rMario,Rossi,1980-01-01\r"
	                               "Anna,,1980-01-01\r");
	struct import_report rep;
	cr_expect_eq(import_patients_csv(st, org, p, &rep, errs), IMPORT_ERR_FORMAT);
	cr_expect_not_null(strstr(errors(), ":1: lines end with a bare CR"), "%s", errors());
	cr_expect_eq(count("1 = 1"), 0, "nothing half-imported");
}

Test(import, empty_file)
{
	const char *p = CSV("empty.csv", "");
	struct import_report rep;
	cr_expect_eq(import_patients_csv(st, org, p, &rep, errs), IMPORT_ERR_HEADER);
	cr_expect_not_null(strstr(errors(), "empty file"), "%s", errors());
}

Test(import, missing_file)
{
	char path[300];
	struct import_report rep;
	snprintf(path, sizeof(path), "%s/nope.csv", dir);
	cr_expect_eq(import_patients_csv(st, org, path, &rep, errs), IMPORT_ERR_IO);
	cr_expect_not_null(strstr(errors(), "No such file"), "%s", errors());
}

Test(import, bom_is_stripped)
{
	const char *p = CSV("bom.csv", "\xEF\xBB\xBFgiven_name,family_name\nMario,Rossi\n");
	struct import_report rep;
	cr_assert_eq(import_patients_csv(st, org, p, &rep, errs), 0, "%s", errors());
	cr_expect_eq(rep.imported, 1);
	cr_expect_eq(count("given_name = 'Mario'"), 1);
}

Test(import, rerun_is_idempotent)
{
	const char *p =
	    CSV("twice.csv", "given_name,family_name,birth_date,external_ref\n"
	                     "Mario,Rossi,1980-01-01,R1\n"
	                     "Mario,Rossi,1980-01-01,R2\n" /* another patient by ref */
	                     "Anna,D'Amico,1990-01-01,\n"
	                     "ANNA,d’amico,1990-01-01,\n" /* same as above by name key */
	                     "Anna,D'Amico,,\n"           /* no birth date: different */
	                     "Anna,D'Amico,,\n");         /* same as the one above */
	struct import_report rep;
	cr_assert_eq(import_patients_csv(st, org, p, &rep, errs), 0, "%s", errors());
	cr_expect_eq(rep.imported, 4);
	cr_expect_eq(rep.present, 2);
	cr_assert_eq(import_patients_csv(st, org, p, &rep, errs), 0, "%s", errors());
	cr_expect_eq(rep.imported, 0);
	cr_expect_eq(rep.present, 6);
	cr_expect_eq(rep.rejected, 0);
	cr_expect_eq(count("1 = 1"), 4);
	cr_expect_str_eq(errors(), "");
}

Test(import, invalid_utf8)
{
	const char *p = CSV("latin1.csv", "given_name,family_name\n"
	                                  "Nicol\xf2,Rossi\n" /* Latin-1 ò */
	                                  "Nicolò,Rossi\n"
	                                  "Mario,Ross\xc3\n"); /* truncated sequence */
	struct import_report rep;
	cr_assert_eq(import_patients_csv(st, org, p, &rep, errs), 0, "%s", errors());
	cr_expect_eq(rep.imported, 1);
	cr_expect_eq(rep.rejected, 2);
	char want[400];
	snprintf(want, sizeof(want), "%s:2: given_name is not valid UTF-8", p);
	cr_expect_not_null(strstr(errors(), want), "%s", errors());
	snprintf(want, sizeof(want), "%s:4: family_name is not valid UTF-8", p);
	cr_expect_not_null(strstr(errors(), want), "%s", errors());
}

Test(import, unterminated_quote_at_end)
{
	const char *p = CSV("open.csv", "given_name,family_name\nMario,Rossi\nAnna,\"Verdi\n");
	struct import_report rep;
	cr_assert_eq(import_patients_csv(st, org, p, &rep, errs), 0, "%s", errors());
	cr_expect_eq(rep.imported, 1);
	cr_expect_eq(rep.rejected, 1);
	cr_expect_not_null(strstr(errors(), ":3: unterminated quoted field"), "%s", errors());
}

Test(import, many_rows_span_batches)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/many.csv", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "external_ref,given_name,family_name\n");
	for (int i = 0; i < IMPORT_BATCH + 1500; i++)
		fprintf(f, "%d,Nome%d,Cognome\n", i, i);
	fclose(f);
	struct import_report rep;
	cr_assert_eq(import_patients_csv(st, org, path, &rep, errs), 0, "%s", errors());
	cr_expect_eq(rep.imported, IMPORT_BATCH + 1500);
	cr_expect_eq(rep.lines, IMPORT_BATCH + 1501);
	cr_expect_eq(count("1 = 1"), IMPORT_BATCH + 1500);
}
