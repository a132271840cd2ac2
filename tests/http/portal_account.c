/*
 * HTTP tests of the profile page (src/portal/account.c): contact details
 * changed only through a link sent to the NEW address (the old contact kept
 * until then; the link single-use, replaced by a newer one, expiring after 24
 * hours; an address that is another account's login refused, when asked and
 * when confirmed), the language (record, session and cookie), the accepted
 * policies with versions and dates, withdrawal of an optional consent (never
 * of the privacy policy), CSRF on every form, and escaped output.
 */
#include "harness.h"

#include "comms/outbox.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(portal_account, .init = h_start, .fini = h_stop);

#define EMAIL     "lucia@example.test"
#define MOBILE    "+393471234567"
#define NEW_EMAIL "lucia.new@example.test"

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static int64_t add_patient(const char *given, const char *mobile, const char *email)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[0].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)"Ferri";
	p.mobile = (char *)mobile;
	p.email = (char *)email;
	p.lang = "en";
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

/* A patient with an account whose login is its e-mail; *account gets the account id. */
static int64_t add_account_patient(const char *given, const char *mobile, const char *email,
                                   int64_t *account)
{
	int64_t p = add_patient(given, mobile, email);
	struct store_conn *db = h_db();
	int64_t id = 0;
	cr_assert_eq(store_insert(db, &id,
	                          "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, "
	                          "created_at) VALUES (?, ?, ?, 'x', ?) RETURNING id",
	                          "iiti", p, H.org[0].portal_id, email ? email : mobile, now_utc()),
	             0);
	store_release(db);
	if (account != NULL)
		*account = id;
	return p;
}

static int64_t add_consent(int64_t account, const char *kind, const char *version)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	cr_assert_eq(store_insert(db, &id,
	                          "INSERT INTO consents (account_id, kind, version, accepted_at) "
	                          "VALUES (?, ?, ?, ?) RETURNING id",
	                          "itti", account, kind, version, (int64_t)1767225600),
	             0); /* 2026-01-01 00:00 UTC */
	store_release(db);
	return id;
}

/* One text column of one row (malloc'd; NULL for SQL NULL). */
static char *text(const char *sql, int64_t arg)
{
	struct store_conn *db = h_db();
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(db, &s, sql, "i", arg), 0, "%s", sql);
	cr_assert_eq(store_step(s), 1, "%s", sql);
	const char *v = store_col_text(s, 0);
	char *out = v ? strdup(v) : NULL;
	store_done(s);
	store_release(db);
	return out;
}

static int64_t scalar(const char *sql, int64_t arg)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	cr_assert_eq(store_scalar(db, &n, sql, "i", arg), 0, "%s", sql);
	store_release(db);
	return n;
}

static void expect_text(const char *sql, int64_t arg, const char *want)
{
	char *got = text(sql, arg);
	cr_expect(got != NULL && strcmp(got, want) == 0, "%s: want %s, got %s", sql, want,
	          got ? got : "NULL");
	free(got);
}

static struct h_client *signed_in(int64_t patient)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	h_signin(c, STORE_SESSION_PATIENT, patient, H.org[0].org_id);
	return c;
}

static long post_contact(struct h_client *c, const char *email, const char *mobile,
                         struct h_resp *r)
{
	return h_post_form(c, "/account/contact", r, "csrf", h_client_csrf(c), "email", email,
	                   "mobile", mobile, NULL);
}

/* The newest outbox message of kind contact_change: recipient and channel copied out, and
 * the token of its link (malloc'd), or NULL when there is none. */
static char *newest_link(char *recipient, size_t rn, char *channel, size_t cn)
{
	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int n = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &n, a), 0);
	char needle[128];
	snprintf(needle, sizeof(needle), "%s/account/confirm/", H.base);
	char *tok = NULL;
	for (int i = 0; i < n && tok == NULL; i++) {
		if (strcmp(rows[i].kind, "contact_change") != 0)
			continue;
		const char *p = rows[i].body ? strstr(rows[i].body, needle) : NULL;
		cr_assert_not_null(p, "the message carries the link");
		tok = strndup(p + strlen(needle), INVITE_TOKEN_CHARS);
		if (recipient)
			snprintf(recipient, rn, "%s", rows[i].recipient);
		if (channel)
			snprintf(channel, cn, "%s", rows[i].channel);
	}
	arena_free(a);
	store_release(db);
	return tok;
}

static long open_link(const char *token, struct h_resp *r)
{
	struct h_client *c = h_client(); /* the link may be opened anywhere, signed out */
	h_set_cookie(c, "lang", "en");
	char p[128];
	snprintf(p, sizeof(p), "/account/confirm/%s", token);
	return h_get(c, p, r);
}

/* ---- the page ------------------------------------------------------------------ */

Test(portal_account, page_shows_contacts_language_and_policies)
{
	int64_t acct = 0;
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, &acct);
	add_consent(acct, "privacy", "3");
	add_consent(acct, "marketing", "1");
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(h_get(c, "/account", &r), 200);
	cr_assert(has(&r, "<h1>Your profile</h1>"));
	cr_assert(has(&r, EMAIL));
	cr_assert(has(&r, MOBILE));
	cr_assert(has(&r, "id=\"lang-en\" name=\"lang\" value=\"en\" checked"));
	cr_assert(has(&r, "Privacy policy"));
	cr_assert(has(&r, "<dt>Version</dt><dd>3</dd>"));
	cr_assert(has(&r, "<time datetime=\"2026-01-01\">01/01/2026</time>"));
	cr_assert(has(&r, "it cannot be withdrawn here"));
	cr_assert(has(&r, "News and offers from your clinic"));
	cr_assert_eq(1, has(&r, "/withdraw\"") ? 1 : 0);
	/* exactly one withdraw form: the optional consent's */
	const char *first = strstr(r.body, "/withdraw\"");
	cr_assert_null(strstr(first + 1, "/withdraw\""));
	cr_assert(has(&r, "<label for=\"email\">"));
	cr_assert(has(&r, "<label for=\"mobile\">"));
	h_resp_free(&r);

	struct h_client *out = h_client();
	cr_assert_eq(h_get(out, "/account", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/login?next=%2Faccount");
	h_resp_free(&r);
}

Test(portal_account, html_is_escaped)
{
	int64_t p = add_account_patient("<script>alert(1)</script>", MOBILE, EMAIL, NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(h_get(c, "/account", &r), 200);
	cr_assert(!has(&r, "<script>alert(1)"));
	cr_assert(has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	h_resp_free(&r);
	/* what was typed comes back escaped with the error */
	cr_assert_eq(post_contact(c, "\"><img src=x onerror=alert(1)>", "", &r), 422);
	cr_assert(!has(&r, "<img src=x"));
	cr_assert(has(&r, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
	h_resp_free(&r);
}

/* ---- contact changes --------------------------------------------------------------- */

Test(portal_account, new_email_confirmed_through_a_link_sent_to_it)
{
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(post_contact(c, "  Lucia.New@Example.TEST ", "", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/account?sent=email");
	h_resp_free(&r);

	/* the link went to the NEW address, and only there */
	char to[128], channel[16];
	char *tok = newest_link(to, sizeof(to), channel, sizeof(channel));
	cr_assert_not_null(tok);
	cr_assert_str_eq(to, NEW_EMAIL);
	cr_assert_str_eq(channel, "email");
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE patient_id = ? AND kind = "
	                    "'contact_change'",
	                    p),
	             1);
	/* only the token's hash is stored */
	cr_assert_eq(scalar("SELECT COUNT(*) FROM contact_changes WHERE patient_id = ?", p), 1);

	/* until then the old contact stays, for messages and for signing in */
	expect_text("SELECT email FROM patients WHERE id = ?", p, EMAIL);
	expect_text("SELECT login FROM accounts WHERE patient_id = ?", p, EMAIL);
	cr_assert_eq(h_get(c, "/account?sent=email", &r), 200);
	cr_assert(has(&r, "We sent a confirmation link to the new address."));
	cr_assert(has(&r, "<dd class=\"email\" id=\"current-email\">" EMAIL "</dd>"));
	cr_assert(has(&r, "New e-mail address: <strong>" NEW_EMAIL "</strong>"));
	h_resp_free(&r);

	cr_assert_eq(open_link(tok, &r), 200);
	cr_assert(has(&r, "Your new e-mail address is confirmed."));
	h_resp_free(&r);
	expect_text("SELECT email FROM patients WHERE id = ?", p, NEW_EMAIL);
	expect_text("SELECT login FROM accounts WHERE patient_id = ?", p, NEW_EMAIL);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action = "
	                    "'account.contact_changed' AND subject_id = ?",
	                    p),
	             1);

	/* single use */
	cr_assert_eq(open_link(tok, &r), 410);
	cr_assert(has(&r, "already been used"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/account", &r), 200);
	cr_assert(has(&r, "<dd class=\"email\" id=\"current-email\">" NEW_EMAIL "</dd>"));
	cr_assert(!has(&r, "Waiting for confirmation"));
	h_resp_free(&r);
	free(tok);
}

Test(portal_account, new_mobile_confirmed_by_sms_in_e164)
{
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(post_contact(c, "", "333 123 4567", &r), 303);
	h_resp_free(&r);
	char to[128], channel[16];
	char *tok = newest_link(to, sizeof(to), channel, sizeof(channel));
	cr_assert_not_null(tok);
	cr_assert_str_eq(to, "+393331234567");
	cr_assert_str_eq(channel, "sms");
	expect_text("SELECT mobile FROM patients WHERE id = ?", p, MOBILE);
	cr_assert_eq(open_link(tok, &r), 200);
	cr_assert(has(&r, "Your new mobile number is confirmed."));
	h_resp_free(&r);
	expect_text("SELECT mobile FROM patients WHERE id = ?", p, "+393331234567");
	/* the login was the e-mail: it stays */
	expect_text("SELECT login FROM accounts WHERE patient_id = ?", p, EMAIL);
	free(tok);
}

Test(portal_account, link_expires_after_24_hours)
{
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(post_contact(c, NEW_EMAIL, "", &r), 303);
	h_resp_free(&r);
	int64_t ttl = scalar("SELECT expires_at - created_at FROM contact_changes WHERE "
	                     "patient_id = ?",
	                     p);
	cr_assert_eq(ttl, 86400);
	struct store_conn *db = h_db();
	cr_assert_eq(store_exec(db, NULL,
	                        "UPDATE contact_changes SET created_at = created_at - 86401, "
	                        "expires_at = expires_at - 86401 WHERE patient_id = ?",
	                        "i", p),
	             0);
	store_release(db);
	char *tok = newest_link(NULL, 0, NULL, 0);
	cr_assert_eq(open_link(tok, &r), 410);
	cr_assert(has(&r, "This link has expired."));
	h_resp_free(&r);
	expect_text("SELECT email FROM patients WHERE id = ?", p, EMAIL);
	cr_assert_eq(open_link("AAAAAAAAAAAAAAAAAAAAAA", &r), 404);
	h_resp_free(&r);
	cr_assert_eq(open_link("short", &r), 404);
	h_resp_free(&r);
	free(tok);
}

Test(portal_account, a_newer_request_replaces_the_older_link)
{
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(post_contact(c, "first@example.test", "", &r), 303);
	h_resp_free(&r);
	char *first = newest_link(NULL, 0, NULL, 0);
	cr_assert_eq(post_contact(c, "second@example.test", "", &r), 303);
	h_resp_free(&r);
	char *second = newest_link(NULL, 0, NULL, 0);
	cr_assert_str_neq(first, second);
	cr_assert_eq(open_link(first, &r), 410);
	h_resp_free(&r);
	expect_text("SELECT email FROM patients WHERE id = ?", p, EMAIL);
	cr_assert_eq(open_link(second, &r), 200);
	h_resp_free(&r);
	expect_text("SELECT email FROM patients WHERE id = ?", p, "second@example.test");
	free(first);
	free(second);
}

Test(portal_account, another_accounts_login_is_refused)
{
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, NULL);
	add_account_patient("Marco", "+393339998877", "marco@example.test", NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(post_contact(c, "MARCO@example.test", "", &r), 422);
	cr_assert(has(&r, "This e-mail address is already used to sign in to another account."));
	cr_assert(has(&r, "aria-invalid=\"true\""));
	h_resp_free(&r);
	cr_assert_eq(post_contact(c, "", "+39 333 999 8877", &r), 422);
	cr_assert(has(&r, "This mobile number is already used to sign in to another account."));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM contact_changes WHERE patient_id = ?", p), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE patient_id = ?", p), 0);

	/* taken between the request and the confirmation: refused then too */
	cr_assert_eq(post_contact(c, "later@example.test", "", &r), 303);
	h_resp_free(&r);
	char *tok = newest_link(NULL, 0, NULL, 0);
	add_account_patient("Nina", NULL, "later@example.test", NULL);
	cr_assert_eq(open_link(tok, &r), 409);
	cr_assert(has(&r, "Nothing was changed."));
	h_resp_free(&r);
	expect_text("SELECT email FROM patients WHERE id = ?", p, EMAIL);
	free(tok);
}

Test(portal_account, invalid_or_empty_input_is_explained)
{
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(post_contact(c, "not-an-email", "12", &r), 422);
	cr_assert(has(&r, "id=\"email-error\""));
	cr_assert(has(&r, "id=\"mobile-error\""));
	cr_assert(has(&r, "value=\"not-an-email\""));
	h_resp_free(&r);
	cr_assert_eq(post_contact(c, "", "", &r), 422);
	cr_assert(has(&r, "Type a new e-mail address or mobile number"));
	h_resp_free(&r);
	/* the contact already on file is no change */
	cr_assert_eq(post_contact(c, EMAIL, "", &r), 422);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM contact_changes WHERE patient_id = ?", p), 0);
}

Test(portal_account, requests_are_limited_per_hour)
{
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	char addr[64];
	for (int i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), "n%d@example.test", i);
		cr_assert_eq(post_contact(c, addr, "", &r), 303);
		h_resp_free(&r);
	}
	cr_assert_eq(post_contact(c, "n9@example.test", "", &r), 429);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM contact_changes WHERE patient_id = ?", p), 5);
}

/* ---- language ------------------------------------------------------------------------ */

Test(portal_account, language_change_updates_record_session_and_pages)
{
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, NULL);
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(
	    h_post_form(c, "/account/lang", &r, "csrf", h_client_csrf(c), "lang", "it", NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/account?saved=lang");
	h_resp_free(&r);
	expect_text("SELECT lang FROM patients WHERE id = ?", p, "it");
	expect_text("SELECT lang FROM sessions WHERE kind = 'patient' AND user_id = ?", p, "it");
	cr_assert_str_eq(h_cookie(c, "lang"), "it");
	cr_assert_eq(h_get(c, "/account", &r), 200);
	cr_assert(has(&r, "<html lang=\"it\">"));
	cr_assert(has(&r, "id=\"lang-it\" name=\"lang\" value=\"it\" checked"));
	h_resp_free(&r);

	cr_assert_eq(
	    h_post_form(c, "/account/lang", &r, "csrf", h_client_csrf(c), "lang", "de", NULL), 422);
	h_resp_free(&r);
	expect_text("SELECT lang FROM patients WHERE id = ?", p, "it");
}

/* ---- consents ------------------------------------------------------------------------- */

Test(portal_account, optional_consent_withdrawn)
{
	int64_t acct = 0;
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, &acct);
	add_consent(acct, "privacy", "1");
	int64_t m = add_consent(acct, "marketing", "1");
	struct h_client *c = signed_in(p);
	struct h_resp r;
	char path[96];
	snprintf(path, sizeof(path), "/account/consents/%lld/withdraw", (long long)m);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/account?withdrawn=1");
	h_resp_free(&r);
	cr_assert_gt(scalar("SELECT COALESCE(withdrawn_at, 0) FROM consents WHERE id = ?", m), 0);
	cr_assert_eq(h_get(c, "/account?withdrawn=1", &r), 200);
	cr_assert(has(&r, "Your consent was withdrawn."));
	cr_assert(has(&r, "<dt>Withdrawn on</dt>"));
	cr_assert(!has(&r, path), "no second withdrawal button");
	h_resp_free(&r);
	/* twice is harmless */
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	h_resp_free(&r);
}

Test(portal_account, privacy_consent_cannot_be_withdrawn_here)
{
	int64_t acct = 0;
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, &acct);
	int64_t priv = add_consent(acct, "privacy", "1");
	struct h_client *c = signed_in(p);
	struct h_resp r;
	char path[96];
	snprintf(path, sizeof(path), "/account/consents/%lld/withdraw", (long long)priv);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 409);
	cr_assert(has(&r, "The privacy policy cannot be withdrawn here"));
	cr_assert(has(&r, "contact your clinic"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COALESCE(withdrawn_at, 0) FROM consents WHERE id = ?", priv),
	             0);

	/* another account's consent: not found */
	int64_t other_acct = 0;
	add_account_patient("Marco", NULL, "marco@example.test", &other_acct);
	int64_t theirs = add_consent(other_acct, "marketing", "1");
	snprintf(path, sizeof(path), "/account/consents/%lld/withdraw", (long long)theirs);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 404);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COALESCE(withdrawn_at, 0) FROM consents WHERE id = ?", theirs),
	             0);
}

/* ---- CSRF ------------------------------------------------------------------------------ */

Test(portal_account, every_form_needs_the_csrf_token)
{
	int64_t acct = 0;
	int64_t p = add_account_patient("Lucia", MOBILE, EMAIL, &acct);
	int64_t m = add_consent(acct, "marketing", "1");
	struct h_client *c = signed_in(p);
	struct h_resp r;
	cr_assert_eq(h_post_form(c, "/account/contact", &r, "email", NEW_EMAIL, NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/account/lang", &r, "csrf", "forged", "lang", "it", NULL),
	             403);
	h_resp_free(&r);
	char path[96];
	snprintf(path, sizeof(path), "/account/consents/%lld/withdraw", (long long)m);
	cr_assert_eq(h_post(c, path, "", &r), 403);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM contact_changes WHERE patient_id = ?", p), 0);
	expect_text("SELECT lang FROM patients WHERE id = ?", p, "en");
	cr_assert_eq(scalar("SELECT COALESCE(withdrawn_at, 0) FROM consents WHERE id = ?", m), 0);
}
