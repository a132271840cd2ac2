/*
 * HTTP tests of the staff pages (src/staff/): sign-in with throttling and
 * session regeneration, sign-out, the manage-patients list (organisation
 * isolation, search, pagination, CSV export), the profile and the add / edit
 * forms (validation, CSRF, 404 across organisations, escaping).
 */
#include "harness.h"

#include "lib/arena.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(staff, .init = h_start, .fini = h_stop);

#define LOGIN_ERROR "Wrong e-mail or password"

/* Adds a patient to organisation `org` (0 or 1) straight in the store; returns its id. */
static int64_t add_patient(int org, const char *given, const char *family, const char *birth,
                           const char *mobile, const char *email)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[org].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.birth_date = (char *)birth;
	p.mobile = (char *)mobile;
	p.email = (char *)email;
	p.lang = "it";
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

static int64_t count_patients(int org)
{
	struct store_conn *db = h_db();
	struct store_patient_filter f = {.q = NULL, .status = -1, .after_id = 0, .limit = 10};
	int64_t n = -1;
	int err = store_patient_count(db, H.org[org].org_id, &f, &n);
	store_release(db);
	cr_assert_eq(err, 0);
	return n;
}

/* A client that reads the pages in English (the default language is Italian). */
static struct h_client *client_en(void)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	return c;
}

/* How many audit events called action were recorded. */
static int64_t audits(const char *action)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int err =
	    store_scalar(db, &n, "SELECT COUNT(*) FROM audit_events WHERE action = ?", "t", action);
	store_release(db);
	cr_assert_eq(err, 0);
	return n;
}

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

/* The href of the first <a ... rel="next"> (or of the link whose text is `text`),
 * with &amp; turned back into &; malloc'd. */
static char *link_href(const struct h_resp *r, const char *marker)
{
	const char *m = strstr(r->body, marker);
	if (m == NULL)
		return NULL;
	const char *tag = m;
	while (tag > r->body && strncmp(tag, "<a ", 3) != 0)
		tag--;
	const char *h = strstr(tag, "href=\"");
	if (h == NULL)
		return NULL;
	h += 6;
	const char *e = strchr(h, '"');
	char *out = calloc(1, (size_t)(e - h) + 1), *o = out;
	for (const char *s = h; s < e; s++) {
		if (strncmp(s, "&amp;", 5) == 0) {
			*o++ = '&';
			s += 4;
		} else {
			*o++ = *s;
		}
	}
	return out;
}

/* ---- sign-in ------------------------------------------------------------ */

Test(staff, login_page_has_accessible_form)
{
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/staff/login", &r), 200);
	cr_assert(has(&r, "<label for=\"email\""));
	cr_assert(has(&r, "<label for=\"password\""));
	cr_assert(has(&r, "autocomplete=\"username\""));
	cr_assert(has(&r, "autocomplete=\"current-password\""));
	cr_assert_not_null(h_csrf(&r));
	h_resp_free(&r);
}

Test(staff, wrong_password_refused_then_locked)
{
	struct h_client *c = client_en();
	struct h_resp r;
	const char *email = H.org[0].staff_email;
	for (int i = 0; i < 5; i++) {
		h_get(c, "/staff/login", &r);
		char *csrf = strdup(h_csrf(&r));
		h_resp_free(&r);
		cr_assert_eq(h_post_form(c, "/staff/login", &r, "csrf", csrf, "email", email,
		                         "password", "wrong password", NULL),
		             200, "try %d", i + 1);
		free(csrf);
		cr_assert(has(&r, LOGIN_ERROR));
		cr_assert(has(&r, "role=\"alert\""));
		cr_assert(has(&r, email), "the e-mail is kept");
		cr_assert_null(h_cookie(c, "sid"));
		h_resp_free(&r);
	}
	/* the 6th try is locked out even with the right password, with the same message */
	h_get(c, "/staff/login", &r);
	char *csrf = strdup(h_csrf(&r));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/login", &r, "csrf", csrf, "email", email, "password",
	                         H_STAFF_PASSWORD, NULL),
	             200);
	free(csrf);
	cr_assert(has(&r, LOGIN_ERROR));
	cr_assert_null(h_cookie(c, "sid"));
	h_resp_free(&r);

	cr_assert_eq(audits("staff.login_failed"), 6);
	cr_assert_eq(audits("staff.login"), 0);

	/* the other organisation's user is not affected */
	struct h_client *d = client_en();
	cr_assert_eq(h_staff_login(d, H.org[1].staff_email, H_STAFF_PASSWORD), 303);
}

Test(staff, unknown_email_gets_the_same_answer)
{
	struct h_client *c = client_en();
	struct h_resp r;
	h_get(c, "/staff/login", &r);
	char *csrf = strdup(h_csrf(&r));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/login", &r, "csrf", csrf, "email",
	                         "nobody@nowhere.test", "password", H_STAFF_PASSWORD, NULL),
	             200);
	free(csrf);
	cr_assert(has(&r, LOGIN_ERROR));
	cr_assert(has(&r, "nobody@nowhere.test"));
	h_resp_free(&r);
}

Test(staff, right_password_signs_in_with_a_new_session)
{
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0); /* an existing session: sign-in must replace it */
	char *before = strdup(h_cookie(c, "sid"));

	h_get(c, "/staff/login", &r);
	cr_assert_eq(r.status, 303, "signed in: the form sends to the list");
	h_resp_free(&r);
	h_post_form(c, "/staff/login", &r, "csrf", h_client_csrf(c), "email", H.org[0].staff_email,
	            "password", H_STAFF_PASSWORD, NULL);
	cr_assert_eq(r.status, 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/patients");
	h_resp_free(&r);
	const char *after = h_cookie(c, "sid");
	cr_assert_not_null(after);
	cr_assert_str_neq(after, before, "the session id changes at sign-in");
	cr_assert_eq(audits("staff.login"), 1);
	cr_assert_eq(h_get(c, "/staff/patients", &r), 200);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/patients");
	h_resp_free(&r);

	/* the old id is dead */
	struct h_client *old = h_client();
	h_set_cookie(old, "sid", before);
	cr_assert_eq(h_get(old, "/staff/patients", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
	h_resp_free(&r);
	free(before);
}

Test(staff, sign_out_kills_the_cookie)
{
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_staff_login(c, H.org[0].staff_email, H_STAFF_PASSWORD), 303);
	char *sid = strdup(h_cookie(c, "sid"));
	cr_assert_eq(h_get(c, "/staff/patients", &r), 200);
	char *csrf = strdup(h_csrf(&r));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/logout", &r, "csrf", csrf, NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
	h_resp_free(&r);
	free(csrf);

	struct h_client *replay = h_client();
	h_set_cookie(replay, "sid", sid);
	cr_assert_eq(h_get(replay, "/staff/patients", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
	h_resp_free(&r);
	free(sid);
}

/* ---- the list ------------------------------------------------------------ */

Test(staff, list_shows_only_own_organisation)
{
	add_patient(0, "Anna", "Verdi", "1980-01-02", "+393331112222", "anna@example.test");
	add_patient(1, "Bruno", "Neri", "1970-03-04", "+393334445555", "bruno@example.test");
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/patients", &r), 200);
	cr_assert(has(&r, "Verdi"));
	cr_assert(!has(&r, "Neri"));
	cr_assert(has(&r, "<th scope=\"col\""));
	cr_assert(has(&r, "name=\"ids\""));
	cr_assert(has(&r, "<summary>Actions</summary>"));
	cr_assert(has(&r, "02/01/1980"));
	h_resp_free(&r);
	/* a search for the other organisation's patient finds nothing */
	cr_assert_eq(h_get(c, "/staff/patients?q=neri", &r), 200);
	cr_assert(!has(&r, "Neri"));
	h_resp_free(&r);
}

Test(staff, search_by_name_mobile_email)
{
	add_patient(0, "Nicolò", "D'Amico", "1985-05-06", "+393471234567", "nico@example.test");
	add_patient(0, "Giulia", "Rossi", "1990-07-08", "+393489999999", "giulia@posta.test");
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	static const struct {
		const char *q, *found, *missing;
	} cases[] = {
	    {"nicolo", "Amico", "Rossi"},          /* accents ignored */
	    {"DAMICO", "Amico", "Rossi"},          /* apostrophe and case ignored */
	    {"d%E2%80%99amico", "Amico", "Rossi"}, /* curly apostrophe */
	    {"rossi+giu", "Rossi", "Amico"},       /* family then given */
	    {"347+123", "Amico", "Rossi"},         /* mobile without +39 */
	    {"%2B39348", "Rossi", "Amico"},        /* mobile with +39 */
	    {"giulia%40posta", "Rossi", "Amico"},  /* e-mail */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "/staff/patients?q=%s", cases[i].q);
		cr_assert_eq(h_get(c, path, &r), 200);
		cr_assert(has(&r, cases[i].found), "%s finds %s", cases[i].q, cases[i].found);
		cr_assert(!has(&r, cases[i].missing), "%s skips %s", cases[i].q, cases[i].missing);
		h_resp_free(&r);
	}
	/* the status filter: nobody is invited yet */
	cr_assert_eq(h_get(c, "/staff/patients?status=invited", &r), 200);
	cr_assert(!has(&r, "Amico") && !has(&r, "Rossi"));
	cr_assert(has(&r, "<option value=\"invited\" selected>"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/patients?status=none&q=rossi", &r), 200);
	cr_assert(has(&r, "Rossi"));
	h_resp_free(&r);
}

Test(staff, pagination_next_link_keeps_the_filter)
{
	char given[32];
	for (int i = 0; i < 30; i++) {
		snprintf(given, sizeof(given), "Person%02d", i);
		add_patient(0, given, "Bianchi", NULL, NULL, NULL);
	}
	add_patient(0, "Other", "Gialli", NULL, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/patients?q=bianchi&status=none", &r), 200);
	cr_assert(has(&r, "Person00"));
	cr_assert(has(&r, "Person24"));
	cr_assert(!has(&r, "Person25"));
	cr_assert(has(&r, ">30<") || has(&r, " 30"), "the total is shown");
	cr_assert(!has(&r, "First page"));
	char *next = link_href(&r, "rel=\"next\"");
	h_resp_free(&r);
	cr_assert_not_null(next);
	cr_assert_not_null(strstr(next, "q=bianchi"), "%s", next);
	cr_assert_not_null(strstr(next, "status=none"), "%s", next);
	cr_assert_not_null(strstr(next, "after="), "%s", next);

	cr_assert_eq(h_get(c, next, &r), 200);
	cr_assert(has(&r, "Person25"));
	cr_assert(has(&r, "Person29"));
	cr_assert(!has(&r, "Person24"));
	cr_assert(!has(&r, "Gialli"));
	cr_assert(!has(&r, "rel=\"next\""), "the last page has no Next");
	char *first = link_href(&r, ">First page<");
	cr_assert_not_null(first);
	cr_assert_str_eq(first, "/staff/patients?q=bianchi&status=none");
	h_resp_free(&r);
	free(next);
	free(first);
}

Test(staff, html_in_names_is_escaped)
{
	int64_t id = add_patient(0, "<script>alert(1)</script>", "O\"Brien<b>", NULL, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/patients", &r), 200);
	cr_assert(!has(&r, "<script>alert"));
	cr_assert(!has(&r, "Brien<b>"));
	cr_assert(has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	h_resp_free(&r);
	char path[64];
	snprintf(path, sizeof(path), "/staff/patients/%lld", (long long)id);
	cr_assert_eq(h_get(c, path, &r), 200);
	cr_assert(!has(&r, "<script>alert"));
	cr_assert(!has(&r, "Brien<b>"));
	cr_assert(has(&r, "O&quot;Brien&lt;b&gt;") || has(&r, "O&#34;Brien&lt;b&gt;"));
	h_resp_free(&r);
	snprintf(path, sizeof(path), "/staff/patients/%lld/edit", (long long)id);
	cr_assert_eq(h_get(c, path, &r), 200);
	cr_assert(!has(&r, "<script>alert"));
	h_resp_free(&r);
}

/* ---- CSV export ---------------------------------------------------------- */

Test(staff, csv_export_selected_rows_only_and_guarded)
{
	int64_t a = add_patient(0, "=HYPERLINK(\"http://x\")", "Formula", "1980-01-02",
	                        "+393331112222", "a@example.test");
	int64_t b = add_patient(0, "Carla", "Rossi, Jr", NULL, NULL, "@sum@example.test");
	add_patient(0, "Dario", "Unselected", NULL, NULL, NULL);
	int64_t other = add_patient(1, "Elena", "OtherOrg", NULL, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	char ida[24], idb[24], ido[24];
	snprintf(ida, sizeof(ida), "%lld", (long long)a);
	snprintf(idb, sizeof(idb), "%lld", (long long)b);
	snprintf(ido, sizeof(ido), "%lld", (long long)other);
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "export_csv", "scope", "selected", "ids", ida, "ids",
	                         idb, "ids", ido, NULL),
	             200);
	cr_assert_not_null(strstr(h_header(&r, "Content-Type"), "text/csv"));
	cr_assert_not_null(strstr(h_header(&r, "Content-Disposition"), "attachment"));
	cr_assert(has(&r, "external_ref,given_name,family_name,birth_date,mobile,email,lang\r\n"));
	cr_assert(has(&r, "\"'=HYPERLINK(\"\"http://x\"\")\",Formula,1980-01-02,+393331112222,"
	                  "a@example.test,it\r\n"),
	          "%s", r.body);
	cr_assert(has(&r, ",Carla,\"Rossi, Jr\",,,'@sum@example.test,it\r\n"), "%s", r.body);
	cr_assert(!has(&r, "Unselected"));
	cr_assert(!has(&r, "OtherOrg"), "another organisation's id is skipped");
	h_resp_free(&r);

	/* every patient matching the filter */
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "export_csv", "scope", "filter", "q", "unselected",
	                         "status", "", NULL),
	             200);
	cr_assert(has(&r, "Unselected"));
	cr_assert(!has(&r, "Formula"));
	h_resp_free(&r);

	/* nothing selected: the list again, with a message */
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "export_csv", "scope", "selected", NULL),
	             200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert_not_null(strstr(h_header(&r, "Content-Type"), "text/html"));
	h_resp_free(&r);

	/* an unknown action */
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "drop_all", "ids", ida, NULL),
	             400);
	h_resp_free(&r);
}

/* ---- profile, add, edit -------------------------------------------------- */

Test(staff, other_organisation_is_404)
{
	int64_t theirs = add_patient(1, "Bruno", "Neri", NULL, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	char path[64];
	snprintf(path, sizeof(path), "/staff/patients/%lld", (long long)theirs);
	cr_assert_eq(h_get(c, path, &r), 404);
	cr_assert(!has(&r, "Neri"));
	h_resp_free(&r);
	snprintf(path, sizeof(path), "/staff/patients/%lld/edit", (long long)theirs);
	cr_assert_eq(h_get(c, path, &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), "given_name", "Hacked",
	                         "family_name", "Hacked", "lang", "it", NULL),
	             404);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/patients/999999", &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/patients/abc", &r), 404);
	h_resp_free(&r);

	struct store_conn *db = h_db();
	struct store_patient p;
	struct arena *a = arena_create();
	cr_assert_eq(store_patient_get(db, H.org[1].org_id, theirs, &p, a), 0);
	cr_assert_str_eq(p.family_name, "Neri");
	arena_free(a);
	store_release(db);
}

Test(staff, profile_shows_details_and_family)
{
	int64_t parent = add_patient(0, "Maria", "Esposito", "1975-02-03", "+393401234567",
	                             "maria@example.test");
	struct store_conn *db = h_db();
	struct store_patient kid = {0};
	kid.org_id = H.org[0].org_id;
	kid.given_name = "Luca";
	kid.family_name = "Esposito";
	kid.birth_date = "2015-09-10";
	kid.lang = "it";
	kid.managed_by = parent;
	cr_assert_eq(store_patient_add(db, &kid), 0);
	store_release(db);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	char path[64];
	snprintf(path, sizeof(path), "/staff/patients/%lld", (long long)parent);
	cr_assert_eq(h_get(c, path, &r), 200);
	cr_assert(has(&r, "<h1>Maria Esposito</h1>"));
	cr_assert(has(&r, "class=\"page-actions\""));
	cr_assert(has(&r, "/edit\""));
	cr_assert(has(&r, "03/02/1975"));
	cr_assert(has(&r, "+393401234567"));
	char kid_href[64];
	snprintf(kid_href, sizeof(kid_href), "href=\"/staff/patients/%lld\"", (long long)kid.id);
	cr_assert(has(&r, kid_href), "the family member is listed");
	h_resp_free(&r);

	snprintf(path, sizeof(path), "/staff/patients/%lld", (long long)kid.id);
	cr_assert_eq(h_get(c, path, &r), 200);
	char parent_href[64];
	snprintf(parent_href, sizeof(parent_href), "href=\"/staff/patients/%lld\"",
	         (long long)parent);
	cr_assert(has(&r, "Managed by"));
	cr_assert(has(&r, parent_href));
	h_resp_free(&r);
}

Test(staff, add_with_errors_shows_them_and_stores_nothing)
{
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/patients/new", &r), 200);
	cr_assert(has(&r, "<label for=\"family_name\""));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/patients/new", &r, "csrf", h_client_csrf(c),
	                         "given_name", "Anna", "family_name", "", "birth_date",
	                         "2999-01-01", "mobile", "12", "email", "not-an-email", "lang",
	                         "it", NULL),
	             200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, "Family name is required."));
	cr_assert(has(&r, "id=\"family_name-error\""));
	cr_assert(has(&r, "id=\"birth_date-error\""));
	cr_assert(has(&r, "id=\"mobile-error\""));
	cr_assert(has(&r, "id=\"email-error\""));
	cr_assert(!has(&r, "id=\"given_name-error\""));
	cr_assert(has(&r, "aria-invalid=\"true\""));
	cr_assert(has(&r, "aria-describedby=\"mobile-hint mobile-error\""));
	cr_assert(has(&r, "value=\"Anna\""), "values are kept");
	cr_assert(has(&r, "value=\"not-an-email\""));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/patients/new", &r, "csrf", h_client_csrf(c),
	                         "given_name", "Anna", "family_name", "Verdi", "birth_date",
	                         "31/02/1980", "lang", "it", NULL),
	             200);
	cr_assert(has(&r, "Birth date must be a real date, for example 31/12/1980."));
	cr_assert(has(&r, "value=\"31/02/1980\""));
	h_resp_free(&r);
	cr_assert_eq(count_patients(0), 0);
}

Test(staff, add_valid_redirects_to_profile)
{
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_post_form(c, "/staff/patients/new", &r, "csrf", h_client_csrf(c),
	                         "given_name", " Anna ", "family_name", "Verdi", "birth_date",
	                         "1980-01-02", "mobile", "333 123 4567", "email",
	                         "Anna@Example.TEST", "lang", "en", "external_ref", "A-17", NULL),
	             303);
	const char *loc = h_header(&r, "Location");
	cr_assert_not_null(loc);
	cr_assert_eq(strncmp(loc, "/staff/patients/", 16), 0, "%s", loc);
	char *where = strdup(loc);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, where, &r), 200);
	cr_assert(has(&r, "<h1>Anna Verdi</h1>"));
	cr_assert(has(&r, "+393331234567"), "mobile normalised");
	cr_assert(has(&r, "anna@example.test"), "e-mail lower-cased");
	cr_assert(has(&r, "A-17"));
	h_resp_free(&r);
	free(where);
	cr_assert_eq(count_patients(0), 1);
	cr_assert_eq(count_patients(1), 0);
	cr_assert_eq(audits("patient.create"), 1);
}

Test(staff, edit_keeps_values_on_error_and_saves)
{
	int64_t id = add_patient(0, "Anna", "Verdi", "1980-01-02", NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	char path[64];
	snprintf(path, sizeof(path), "/staff/patients/%lld/edit", (long long)id);
	cr_assert_eq(h_get(c, path, &r), 200);
	cr_assert(has(&r, "value=\"Verdi\""));
	cr_assert(has(&r, "value=\"02/01/1980\""), "the birth date as clinics write it");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), "given_name", "Annalisa",
	                         "family_name", "Verdi-Neri", "birth_date", "1980-01-02", "mobile",
	                         "", "email", "bad@", "lang", "it", NULL),
	             200);
	cr_assert(has(&r, "value=\"Annalisa\""));
	cr_assert(has(&r, "value=\"Verdi-Neri\""));
	cr_assert(has(&r, "value=\"bad@\""));
	cr_assert(has(&r, "id=\"email-error\""));
	h_resp_free(&r);

	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct store_patient p;
	cr_assert_eq(store_patient_get(db, H.org[0].org_id, id, &p, a), 0);
	cr_assert_str_eq(p.given_name, "Anna", "nothing saved on error");
	store_release(db);

	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), "given_name", "Annalisa",
	                         "family_name", "Verdi-Neri", "birth_date", "3/1/1980", "mobile",
	                         "", "email", "", "lang", "it", NULL),
	             303);
	char profile[64];
	snprintf(profile, sizeof(profile), "/staff/patients/%lld", (long long)id);
	cr_assert_str_eq(h_header(&r, "Location"), profile);
	h_resp_free(&r);
	db = h_db();
	cr_assert_eq(store_patient_get(db, H.org[0].org_id, id, &p, a), 0);
	cr_assert_str_eq(p.given_name, "Annalisa");
	cr_assert_str_eq(p.family_name, "Verdi-Neri");
	cr_assert_str_eq(p.birth_date, "1980-01-03", "D/M/YYYY is stored as YYYY-MM-DD");
	cr_assert_eq(audits("patient.update"), 1);
	store_release(db);
	arena_free(a);
}

Test(staff, post_without_csrf_is_403)
{
	int64_t id = add_patient(0, "Anna", "Verdi", NULL, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_post_form(c, "/staff/patients/new", &r, "given_name", "Anna", "family_name",
	                         "Bianchi", "lang", "it", NULL),
	             403);
	h_resp_free(&r);
	char path[64];
	snprintf(path, sizeof(path), "/staff/patients/%lld/edit", (long long)id);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", "forged", "given_name", "X", "family_name",
	                         "Y", "lang", "it", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "action", "export_csv", "scope",
	                         "filter", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/logout", &r, NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(count_patients(0), 1);
}

Test(staff, portal_home_is_public)
{
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, "href=\"/staff/login\""));
	cr_assert(has(&r, "<h1>"));
	h_resp_free(&r);
}
