/*
 * HTTP tests of patient sign-in and sign-out (src/portal/login.c), the
 * forgotten-password and reset pages (src/portal/reset_page.c) and self
 * sign-up (src/portal/signup.c): a fresh session at sign-in, one message for
 * every failure, throttling, ?next= never an open redirect, /forgot the same
 * words (and about the same time) for existing and unknown accounts, a reset
 * that ends every other session and works once, sign-up that never makes a
 * duplicate record and says the same words whether or not details match.
 */
#include "harness.h"

#include "comms/outbox.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(portal_login, .init = h_start, .fini = h_stop);

#define PW          "the patient's own password"
#define NEW_PW      "a brand new password 42"
#define LOGIN_ERROR "Wrong e-mail, mobile number or password."
#define EMAIL       "lucia@example.test"
#define MOBILE      "+393471234567"

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static struct h_client *client_en(void)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	return c;
}

static int64_t add_patient(const char *given, const char *family, const char *birth,
                           const char *mobile, const char *email)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[0].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.birth_date = (char *)birth;
	p.mobile = (char *)mobile;
	p.email = (char *)email;
	p.lang = "en";
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

/* A patient with an account (login: the e-mail) whose password is PW; weakest Argon2id
 * parameters, which verify like any other. */
static int64_t add_account_patient(void)
{
	int64_t p = add_patient("Lucia", "Ferri", "1980-12-31", MOBILE, EMAIL);
	char hash[crypto_pwhash_STRBYTES];
	cr_assert_eq(crypto_pwhash_str(hash, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
	                               crypto_pwhash_MEMLIMIT_MIN),
	             0);
	struct store_conn *db = h_db();
	int64_t id = 0;
	cr_assert_eq(store_insert(db, &id,
	                          "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, "
	                          "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
	                          "iitti", p, H.org[0].portal_id, EMAIL, hash, now_utc()),
	             0);
	store_release(db);
	return p;
}

static int64_t scalar(const char *sql)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	cr_assert_eq(store_scalar(db, &n, sql, ""), 0, "%s", sql);
	store_release(db);
	return n;
}

/* GETs page, then POSTs the form with the page's CSRF token and the given pairs (up to 4). */
static long post_page(struct h_client *c, const char *page, const char *action, struct h_resp *r,
                      const char *k1, const char *v1, const char *k2, const char *v2,
                      const char *k3, const char *v3)
{
	h_get(c, page, r);
	const char *t = h_csrf(r);
	char *csrf = strdup(t ? t : "none");
	h_resp_free(r);
	long st = h_post_form(c, action, r, "csrf", csrf, k1, v1, k2 ? k2 : "x", k2 ? v2 : "",
	                      k3 ? k3 : "y", k3 ? v3 : "", NULL);
	free(csrf);
	return st;
}

static long login(struct h_client *c, const char *who, const char *pw, const char *next,
                  struct h_resp *r)
{
	return post_page(c, "/login", "/login", r, "login", who, "password", pw,
	                 next ? "next" : NULL, next);
}

/* The token of the newest link with this prefix in the outbox (malloc'd), or NULL. */
static char *newest_token(const char *prefix)
{
	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int n = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &n, a), 0);
	char needle[128];
	snprintf(needle, sizeof(needle), "%s%s", H.base, prefix);
	char *tok = NULL;
	for (int i = 0; i < n && tok == NULL; i++) {
		const char *p = rows[i].body ? strstr(rows[i].body, needle) : NULL;
		if (p != NULL)
			tok = strndup(p + strlen(needle), INVITE_TOKEN_CHARS);
	}
	arena_free(a);
	store_release(db);
	return tok;
}

/* ---- sign-in -------------------------------------------------------------- */

Test(portal_login, form_is_labelled)
{
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/login", &r), 200);
	cr_assert(has(&r, "<label for=\"login\">E-mail or mobile number</label>"));
	cr_assert(has(&r, "<label for=\"password\">"));
	cr_assert(has(&r, "autocomplete=\"username\""));
	cr_assert(has(&r, "autocomplete=\"current-password\""));
	cr_assert(has(&r, "href=\"/forgot\""));
	h_resp_free(&r);
}

Test(portal_login, right_password_by_email_or_mobile_signs_in_fresh)
{
	add_account_patient();
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(login(c, "  LUCIA@example.test ", PW, NULL, &r), 303, "%s", r.body);
	cr_assert_str_eq(h_header(&r, "Location"), "/");
	h_resp_free(&r);
	cr_assert_not_null(h_cookie(c, "sid"));
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, "Welcome, Lucia"));
	h_resp_free(&r);
	/* signed in, /login goes home */
	cr_assert_eq(h_get(c, "/login", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/");
	h_resp_free(&r);

	struct h_client *d = client_en();
	cr_assert_eq(login(d, "347 123 4567", PW, NULL, &r), 303, "a mobile typed the Italian way");
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'account.login'"), 2);
}

Test(portal_login, failures_say_the_same_thing)
{
	add_account_patient();
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(login(c, EMAIL, "not the password", NULL, &r), 200);
	cr_assert(has(&r, LOGIN_ERROR));
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, "aria-invalid=\"true\""));
	cr_assert(!has(&r, "not the password"), "the password is never echoed");
	cr_assert_null(h_cookie(c, "sid"));
	h_resp_free(&r);
	cr_assert_eq(login(c, "nobody@example.test", PW, NULL, &r), 200);
	cr_assert(has(&r, LOGIN_ERROR));
	h_resp_free(&r);
	cr_assert_eq(login(c, "", "", NULL, &r), 200);
	cr_assert(has(&r, LOGIN_ERROR));
	h_resp_free(&r);
}

Test(portal_login, repeated_failures_are_throttled)
{
	add_account_patient();
	struct h_client *c = client_en();
	struct h_resp r;
	long st = 0;
	for (int i = 0; i < 8 && st != 429; i++) {
		st = login(c, EMAIL, "wrong password here", NULL, &r);
		h_resp_free(&r);
	}
	cr_assert_eq(st, 429, "failures end in a wait");
	/* even the right password waits now */
	cr_assert_eq(login(c, EMAIL, PW, NULL, &r), 429);
	cr_assert_not_null(h_header(&r, "Retry-After"));
	cr_assert(has(&r, "Too many attempts"));
	cr_assert_null(h_cookie(c, "sid"));
	h_resp_free(&r);
}

Test(portal_login, next_is_followed_only_inside_the_portal)
{
	add_account_patient();
	static const struct {
		const char *next, *location;
	} cases[] = {
	    {"/appointments/3/pay", "/appointments/3/pay"},
	    {"/search?service=2", "/search?service=2"},
	    {"https://evil.example", "/"},
	    {"//evil.example", "/"},
	    {"/\\evil.example", "/"},
	    {"/\t/evil.example", "/"},
	    {"javascript:alert(1)", "/"},
	    {"evil.example", "/"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h_client *c = client_en();
		struct h_resp r;
		cr_assert_eq(login(c, EMAIL, PW, cases[i].next, &r), 303);
		cr_assert_str_eq(h_header(&r, "Location"), cases[i].location, "next=%s",
		                 cases[i].next);
		h_resp_free(&r);
	}
	/* the form keeps a safe next and drops an unsafe one */
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/login?next=%2Fappointments%2F3", &r), 200);
	cr_assert(has(&r, "name=\"next\" value=\"/appointments/3\""));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/login?next=https%3A%2F%2Fevil.example", &r), 200);
	cr_assert(!has(&r, "evil.example"));
	h_resp_free(&r);
}

Test(portal_login, csrf_missing_is_refused)
{
	add_account_patient();
	struct h_client *c = client_en();
	struct h_resp r;
	h_get(c, "/login", &r);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/login", &r, "login", EMAIL, "password", PW, NULL), 403);
	cr_assert_null(h_cookie(c, "sid"));
	h_resp_free(&r);
}

Test(portal_login, sign_out_ends_the_session)
{
	add_account_patient();
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(login(c, EMAIL, PW, NULL, &r), 303);
	h_resp_free(&r);
	char *sid = strdup(h_cookie(c, "sid"));
	cr_assert_eq(h_get(c, "/", &r), 200);
	char *csrf = strdup(h_csrf(&r));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/logout", &r, "csrf", csrf, NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/login");
	h_resp_free(&r);
	struct h_client *replay = client_en();
	h_set_cookie(replay, "sid", sid);
	cr_assert_eq(h_get(replay, "/", &r), 200);
	cr_assert(!has(&r, "Welcome"));
	h_resp_free(&r);
	free(sid);
	free(csrf);
}

/* ---- forgot and reset ---------------------------------------------------- */

Test(portal_login, forgot_answers_the_same_for_existing_and_unknown)
{
	add_account_patient();
	struct h_client *c = client_en();
	struct h_resp r;
	int64_t before = scalar("SELECT COUNT(*) FROM messages");
	int64_t t0 = now_ms();
	cr_assert_eq(post_page(c, "/forgot", "/forgot", &r, "login", EMAIL, NULL, NULL, NULL, NULL),
	             200);
	int64_t t_known = now_ms() - t0;
	cr_assert(has(&r, "If an account exists, we have sent a link"));
	char *known = strdup(r.body);
	h_resp_free(&r);
	cr_assert_geq(scalar("SELECT COUNT(*) FROM messages WHERE kind = 'reset'"), 1);
	cr_assert_gt(scalar("SELECT COUNT(*) FROM messages"), before);

	int64_t mid = scalar("SELECT COUNT(*) FROM messages");
	t0 = now_ms();
	cr_assert_eq(post_page(c, "/forgot", "/forgot", &r, "login", "nobody@example.test", NULL,
	                       NULL, NULL, NULL),
	             200);
	int64_t t_unknown = now_ms() - t0;
	cr_assert_str_eq(r.body, known, "the very same page");
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages"), mid);
	/* both wait for the same floor on the worker pool (150 ms) */
	cr_assert_geq(t_known, 140);
	cr_assert_geq(t_unknown, 140);
	free(known);
}

Test(portal_login, reset_sets_the_password_ends_other_sessions_and_works_once)
{
	add_account_patient();
	struct h_client *other = client_en();
	struct h_resp r;
	cr_assert_eq(login(other, EMAIL, PW, NULL, &r), 303);
	h_resp_free(&r);

	struct h_client *c = client_en();
	cr_assert_eq(
	    post_page(c, "/forgot", "/forgot", &r, "login", MOBILE, NULL, NULL, NULL, NULL), 200);
	h_resp_free(&r);
	char *tok = newest_token("/r/");
	cr_assert_not_null(tok);
	char path[64];
	snprintf(path, sizeof(path), "/r/%s", tok);
	cr_assert_eq(h_get(c, path, &r), 200);
	cr_assert(has(&r, "autocomplete=\"new-password\""));
	h_resp_free(&r);

	/* different passwords: a field error, nothing changes */
	cr_assert_eq(post_page(c, path, path, &r, "password", NEW_PW, "password2",
	                       "something else!", NULL, NULL),
	             200);
	cr_assert(has(&r, "The two passwords are not the same"));
	h_resp_free(&r);

	cr_assert_eq(
	    post_page(c, path, path, &r, "password", NEW_PW, "password2", NEW_PW, NULL, NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, "Welcome, Lucia"), "signed in afresh");
	h_resp_free(&r);

	/* the other browser's session has ended */
	cr_assert_eq(h_get(other, "/", &r), 200);
	cr_assert(!has(&r, "Welcome"));
	h_resp_free(&r);

	/* old password refused, new one works */
	struct h_client *d = client_en();
	cr_assert_eq(login(d, EMAIL, PW, NULL, &r), 200);
	h_resp_free(&r);
	cr_assert_eq(login(d, EMAIL, NEW_PW, NULL, &r), 303);
	h_resp_free(&r);

	/* used twice: refused, with the way to a new link */
	struct h_client *e = client_en();
	cr_assert_eq(h_get(e, path, &r), 410);
	cr_assert(has(&r, "already been used"));
	cr_assert(has(&r, "href=\"/forgot\""));
	h_resp_free(&r);
	free(tok);
}

Test(portal_login, unknown_reset_link_is_a_clear_page)
{
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/r/AAAAAAAAAAAAAAAAAAAAAA", &r), 404);
	cr_assert(has(&r, "This link does not work"));
	cr_assert(has(&r, "href=\"/forgot\""));
	h_resp_free(&r);
}

/* ---- sign-up ------------------------------------------------------------- */

#define SIGNUP_WORDS "If your details match a patient of the clinic"

static long signup(struct h_client *c, const char *family, const char *birth, const char *mobile,
                   const char *email, struct h_resp *r)
{
	h_get(c, "/signup", r);
	char *csrf = strdup(h_csrf(r));
	h_resp_free(r);
	long st = h_post_form(c, "/signup", r, "csrf", csrf, "given_name", "Whoever", "family_name",
	                      family, "birth_date", birth, "mobile", mobile, "email", email, NULL);
	free(csrf);
	return st;
}

Test(portal_login, signup_with_matching_details_invites_the_contact_on_file)
{
	int64_t p =
	    add_patient("Nicolò", "D'Amico", "1975-03-04", "+393331231231", "nico@file.test");
	int64_t patients = scalar("SELECT COUNT(*) FROM patients");
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(signup(c, "damico", "04/03/1975", "", "NICO@file.test", &r), 200);
	cr_assert(has(&r, SIGNUP_WORDS), "%s", r.body);
	char *match = strdup(r.body);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM patients"), patients, "no duplicate record");
	struct store_conn *db = h_db();
	int64_t n = 0;
	cr_assert_eq(store_scalar(db, &n,
	                          "SELECT COUNT(*) FROM messages WHERE kind = 'invitation' AND "
	                          "recipient = 'nico@file.test' AND patient_id = ?",
	                          "i", p),
	             0);
	store_release(db);
	cr_assert_eq(n, 1, "an invitation to the e-mail on file");

	/* no match: the very same words, nothing queued, nothing created */
	int64_t msgs = scalar("SELECT COUNT(*) FROM messages");
	cr_assert_eq(signup(c, "Sconosciuti", "1990-01-01", "333 999 8888", "", &r), 200);
	cr_assert_str_eq(r.body, match);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages"), msgs);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM patients"), patients);
	free(match);
}

Test(portal_login, signup_checks_the_form)
{
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(signup(c, "", "31/02/1980", "", "", &r), 200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, "id=\"family_name-error\""));
	cr_assert(has(&r, "id=\"birth_date-error\""));
	cr_assert(has(&r, "id=\"mobile-error\""));
	cr_assert(has(&r, "aria-invalid=\"true\""));
	cr_assert(!has(&r, SIGNUP_WORDS));
	h_resp_free(&r);
}
