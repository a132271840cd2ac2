/*
 * Tests for lib/validate.c: the rules shared by the staff form and the CSV
 * import.
 */
#include "lib/arena.h"
#include "lib/validate.h"

#include <criterion/criterion.h>
#include <string.h>

/* 2026-03-15 12:00:00 UTC */
#define NOW ((int64_t)1773576000)

Test(validate, mobile_accepted)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"+39 333 123 4567", "+393331234567"},   {"0039 333 1234567", "+393331234567"},
	    {"333 123 4567", "+393331234567"},       {"333-123-4567", "+393331234567"},
	    {"(+39) 333.123.4567", "+393331234567"}, {"+39 320 123456", "+39320123456"},
	    {"+44 7700 900123", "+447700900123"},    {"0041 79 123 45 67", "+41791234567"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char out[VALIDATE_E164_MAX];
		const char *why = "x";
		cr_expect_eq(validate_mobile(ok[i].in, out, &why), 0, "%s", ok[i].in);
		cr_expect_str_eq(out, ok[i].out);
		cr_expect_null(why);
	}
}

Test(validate, mobile_refused)
{
	static const char *bad[] = {
	    "",
	    "abc",
	    "06 1234 5678",
	    "+39 06 1234 5678",
	    "+39 333",
	    "+39 333 123 456 789",
	    "12345",
	    "+0 333 1234567",
	    "333 123 4567 x",
	    "+39+333",
	    "+1234567890123456",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[VALIDATE_E164_MAX];
		const char *why = NULL;
		cr_expect_eq(validate_mobile(bad[i], out, &why), -1, "%s", bad[i]);
		cr_expect_not_null(why);
	}
}

Test(validate, email)
{
	static const char *ok[] = {"mario.rossi@example.it", "a+b@sub.example.com", "x@y.io",
	                           "o'neill@example.ie"};
	static const char *bad[] = {
	    "",          "mario",    "mario@",  "@example.it",       "a@b",
	    "a@@b.it",   "a b@c.it", "a@b..it", "a@-b.it",           "a@b.i",
	    "a..b@c.it", ".a@b.it",  "a@b.it.", "nicolò@example.it", "a@b.123"};
	const char *why;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect_eq(validate_email(ok[i], &why), 0, "%s", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(validate_email(bad[i], &why), -1, "%s", bad[i]);
}

Test(validate, birth_date)
{
	const char *why;
	cr_expect_eq(validate_birth_date("1980-02-29", NOW, &why), 0);
	cr_expect_eq(validate_birth_date("2000-02-29", NOW, &why), 0);
	cr_expect_eq(validate_birth_date("2026-03-14", NOW, &why), 0);
	cr_expect_eq(validate_birth_date("2026-03-15", NOW, &why), -1); /* today */
	cr_expect_eq(validate_birth_date("2030-01-01", NOW, &why), -1);
	cr_expect_eq(validate_birth_date("1981-02-29", NOW, &why), -1);
	cr_expect_eq(validate_birth_date("1900-02-29", NOW, &why), -1);
	cr_expect_eq(validate_birth_date("1980-13-01", NOW, &why), -1);
	cr_expect_eq(validate_birth_date("1980-04-31", NOW, &why), -1);
	cr_expect_eq(validate_birth_date("1980-4-3", NOW, &why), -1);
	cr_expect_eq(validate_birth_date("03/04/1980", NOW, &why), -1);
	cr_expect_eq(validate_birth_date("1899-12-31", NOW, &why), -1);
	cr_expect_eq(validate_birth_date("1980-01-01x", NOW, &why), -1);
}

Test(validate, names_and_lang)
{
	const char *why;
	cr_expect_eq(validate_name("D'Amico", &why), 0);
	cr_expect_eq(validate_name("Παπαδόπουλος", &why), 0);
	cr_expect_eq(validate_name("' -", &why), -1);
	cr_expect_eq(validate_name("Ross\xff", &why), -1);
	cr_expect_eq(validate_name("Ro\tssi", &why), -1);
	cr_expect_eq(validate_lang("IT", &why), 0);
	cr_expect_eq(validate_lang("en", &why), 0);
	cr_expect_eq(validate_lang("fr", &why), -1);
}

Test(validate, patient_normalised)
{
	struct arena *a = arena_create();
	struct validate_result res;
	struct validate_patient p = {.given_name = "  Maria Grazia ",
	                             .family_name = "D'Amico",
	                             .birth_date = "1975-06-01",
	                             .mobile = "333 123 4567",
	                             .email = " Maria@Example.IT ",
	                             .lang = ""};
	cr_assert_eq(validate_patient(&p, NOW, a, &res), 0);
	cr_expect_eq(res.n, 0);
	cr_expect_str_eq(p.given_name, "Maria Grazia");
	cr_expect_str_eq(p.mobile, "+393331234567");
	cr_expect_str_eq(p.email, "maria@example.it");
	cr_expect_str_eq(p.lang, "it");

	struct validate_patient q = {.given_name = "Nicolò", .family_name = NULL, .mobile = ""};
	cr_assert_eq(validate_patient(&q, NOW, a, &res), 0 - 1);
	cr_expect_eq(res.n, 1);
	cr_expect_str_eq(res.err[0].field, "family_name");
	cr_expect_str_eq(res.err[0].msg, "Family name is required.");

	struct validate_patient r = {.given_name = "",
	                             .family_name = "Rossi",
	                             .birth_date = "2099-01-01",
	                             .mobile = "06 123",
	                             .email = "x",
	                             .lang = "fr"};
	cr_assert_eq(validate_patient(&r, NOW, a, &res), -1);
	cr_expect_eq(res.n, 5);
	cr_expect_str_eq(res.err[0].field, "given_name");
	cr_expect_str_eq(res.err[4].field, "lang");
	cr_expect_str_eq(r.family_name, "Rossi"); /* untouched on failure */
	arena_free(a);
}
