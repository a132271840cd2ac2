/*
 * HTTP tests of the invitation landing page (src/portal/invite_page.c), the
 * signed-in home and /dev/outbox: the family-name check with its countdown
 * and lock, names matched across case, accents and apostrophes, single use,
 * expiry and "send me a new link", unknown links, two concurrent submissions,
 * CSRF, field errors, the target after acceptance, escaping of a patient's
 * name, and the development outbox (links, escaping, 404 off the log transport).
 */
#include "harness.h"

#include "comms/outbox.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(portal_invite, .init = h_start, .fini = h_stop);

#define PASSWORD "a long enough password 7"

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
	p.lang = "en";
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

/* The token of the newest invitation link in the outbox (malloc'd), or NULL. */
static char *newest_token(const char *path_prefix)
{
	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int n = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &n, a), 0);
	char needle[128];
	snprintf(needle, sizeof(needle), "%s%s", H.base, path_prefix);
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

static int64_t count_messages(void)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	cr_assert_eq(store_scalar(db, &n, "SELECT COUNT(*) FROM messages", ""), 0);
	store_release(db);
	return n;
}

/* Invites patient of org 0 (target may be NULL) and returns the link's token (malloc'd). */
static char *invite(int64_t patient, const char *target, int64_t *inv_id)
{
	struct store_conn *db = h_db();
	struct invite_request r = {.org_id = H.org[0].org_id,
	                           .patient_id = patient,
	                           .staff_id = H.org[0].staff_id,
	                           .target = target,
	                           .ignore_recent = 1};
	int64_t id = 0;
	int err = invite_send(db, &H.cfg, &r, now_utc(), &id);
	store_release(db);
	cr_assert_eq(err, 0, "invite_send: %s", invite_strerror(err));
	if (inv_id != NULL)
		*inv_id = id;
	char *tok = newest_token("/i/");
	cr_assert_not_null(tok, "the invitation's message holds a link");
	return tok;
}

static int64_t accounts_of(int64_t patient)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	cr_assert_eq(store_scalar(db, &n, "SELECT COUNT(*) FROM accounts WHERE patient_id = ?", "i",
	                          patient),
	             0);
	store_release(db);
	return n;
}

/* GETs /i/token and POSTs the form with the page's CSRF token. consent NULL: unticked. */
static long submit(struct h_client *c, const char *token, const char *family, const char *pw,
                   const char *pw2, const char *consent, struct h_resp *r)
{
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", token);
	h_get(c, path, r);
	const char *csrf0 = h_csrf(r);
	char *csrf = strdup(csrf0 ? csrf0 : "none");
	h_resp_free(r);
	long st;
	if (consent != NULL)
		st = h_post_form(c, path, r, "csrf", csrf, "family_name", family, "password", pw,
		                 "password2", pw2, "consent", consent, NULL);
	else
		st = h_post_form(c, path, r, "csrf", csrf, "family_name", family, "password", pw,
		                 "password2", pw2, NULL);
	free(csrf);
	return st;
}

/* ---- the form ------------------------------------------------------------ */

Test(portal_invite, form_shows_the_portal_and_nothing_of_the_patient)
{
	int64_t p = add_patient(0, "Zenobia", "Quagliarella", "1970-01-01", "+393331234567",
	                        "zenobia@example.test");
	char *tok = invite(p, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	cr_assert_eq(h_get(c, path, &r), 200);
	cr_assert(has(&r, "Clinic 0"), "the portal's name");
	cr_assert(!has(&r, "Zenobia") && !has(&r, "Quagliarella") && !has(&r, "zenobia@"),
	          "nothing of the patient before the name matches");
	cr_assert(has(&r, "<label for=\"family_name\">Family name (surname)</label>"));
	cr_assert(has(&r, "<label for=\"password\">"));
	cr_assert(has(&r, "<label for=\"password2\">"));
	cr_assert(
	    has(&r, "<label for=\"consent\">I accept the privacy policy (version 1)</label>"));
	cr_assert(has(&r, "autocomplete=\"new-password\""));
	cr_assert(has(&r, "type=\"password\" id=\"password\""));
	cr_assert(has(&r, "?show=1"), "a no-JS show-password link");
	cr_assert(has(&r, "/static/show-password.js"));
	cr_assert_not_null(h_csrf(&r));
	h_resp_free(&r);

	/* the no-JS toggle shows the fields as text */
	snprintf(path, sizeof(path), "/i/%s?show=1", tok);
	cr_assert_eq(h_get(c, path, &r), 200);
	cr_assert(has(&r, "type=\"text\" id=\"password\""));
	cr_assert(has(&r, "Hide password"));
	h_resp_free(&r);
	free(tok);
}

Test(portal_invite, static_script_is_served)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/static/show-password.js", &r), 200);
	cr_assert_not_null(strstr(h_header(&r, "Content-Type"), "javascript"));
	h_resp_free(&r);
}

/* ---- family name ---------------------------------------------------------- */

Test(portal_invite, wrong_name_counts_down_then_locks)
{
	int64_t p = add_patient(0, "Anna", "Verdi", NULL, "+393331112222", NULL);
	char *tok = invite(p, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	for (int i = 1; i <= 4; i++) {
		cr_assert_eq(submit(c, tok, "Rossi", PASSWORD, PASSWORD, "1", &r), 200, "try %d",
		             i);
		char want[64];
		snprintf(want, sizeof(want), "Tries left before the link locks: %d.", 5 - i);
		cr_assert(has(&r, want), "try %d: %s", i, want);
		cr_assert(has(&r, "role=\"alert\""));
		cr_assert(has(&r, "aria-describedby=\"family_name-hint family_name-error\""));
		cr_assert(has(&r, "aria-invalid=\"true\""));
		cr_assert(has(&r, "value=\"Rossi\""), "the typed name is kept");
		cr_assert(!has(&r, PASSWORD), "passwords are never echoed");
		cr_assert_null(h_cookie(c, "sid"));
		h_resp_free(&r);
	}
	cr_assert_eq(submit(c, tok, "Rossi", PASSWORD, PASSWORD, "1", &r), 403);
	cr_assert(has(&r, "This link is locked"), "%s", r.body);
	cr_assert(has(&r, "Send me a new link"));
	h_resp_free(&r);
	/* locked: even the right name is refused now */
	cr_assert_eq(submit(c, tok, "Verdi", PASSWORD, PASSWORD, "1", &r), 403);
	h_resp_free(&r);
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	cr_assert_eq(h_get(c, path, &r), 403);
	cr_assert(has(&r, "locked"));
	h_resp_free(&r);
	cr_assert_eq(accounts_of(p), 0);
	free(tok);
}

Test(portal_invite, name_with_case_accents_apostrophe_changed_matches)
{
	static const struct {
		const char *on_file, *typed;
	} cases[] = {
	    {"D'Amico", "damico"},
	    {"Nicolò", "NICOLO"},
	    {"D’Angelo-Bianchi", "d angelo bianchi"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char mobile[32];
		snprintf(mobile, sizeof(mobile), "+39333100000%zu", i);
		int64_t p = add_patient(0, "Maria", cases[i].on_file, NULL, mobile, NULL);
		char *tok = invite(p, NULL, NULL);
		struct h_client *c = client_en();
		struct h_resp r;
		cr_assert_eq(submit(c, tok, cases[i].typed, PASSWORD, PASSWORD, "1", &r), 303,
		             "%s typed as %s: %s", cases[i].on_file, cases[i].typed, r.body);
		cr_assert_str_eq(h_header(&r, "Location"), "/");
		cr_assert_not_null(h_cookie(c, "sid"));
		h_resp_free(&r);
		cr_assert_eq(accounts_of(p), 1);
		cr_assert_eq(h_get(c, "/", &r), 200);
		cr_assert(has(&r, "Welcome, Maria"), "%s", r.body);
		cr_assert(has(&r, "Clinic 0"));
		cr_assert(has(&r, "action=\"/logout\""));
		h_resp_free(&r);
		free(tok);
	}
}

/* ---- passwords and consent ------------------------------------------------ */

Test(portal_invite, field_errors_cost_no_try)
{
	int64_t p = add_patient(0, "Bruno", "Neri", NULL, "+393332223333", NULL);
	char *tok = invite(p, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(submit(c, tok, "Rossi", PASSWORD, "another password 123", "1", &r), 200);
	cr_assert(has(&r, "The two passwords are not the same"));
	cr_assert(has(&r, "aria-describedby=\"password2-error\""));
	h_resp_free(&r);
	cr_assert_eq(submit(c, tok, "Rossi", "short", "short", "1", &r), 200);
	cr_assert(has(&r, "id=\"password-error\""));
	cr_assert(has(&r, "role=\"alert\""));
	h_resp_free(&r);
	cr_assert_eq(submit(c, tok, "Neri", PASSWORD, PASSWORD, NULL, &r), 200);
	cr_assert(has(&r, "please accept the privacy policy"));
	cr_assert(has(&r, "aria-describedby=\"consent-error\""));
	h_resp_free(&r);
	cr_assert_eq(accounts_of(p), 0);
	/* none of those counted as a wrong family name */
	cr_assert_eq(submit(c, tok, "Rossi", PASSWORD, PASSWORD, "1", &r), 200);
	cr_assert(has(&r, "Tries left before the link locks: 4."), "%s", r.body);
	h_resp_free(&r);
	free(tok);
}

Test(portal_invite, csrf_missing_is_refused)
{
	int64_t p = add_patient(0, "Carla", "Bassi", NULL, "+393334445555", NULL);
	char *tok = invite(p, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	h_get(c, path, &r);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path, &r, "family_name", "Bassi", "password", PASSWORD,
	                         "password2", PASSWORD, "consent", "1", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", "forged-token-forged-token-forged-token-123",
	                         "family_name", "Bassi", "password", PASSWORD, "password2",
	                         PASSWORD, "consent", "1", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(accounts_of(p), 0);
	free(tok);
}

/* ---- single use, target, expiry, unknown -------------------------------- */

Test(portal_invite, accepted_link_lands_on_target_and_cannot_be_reused)
{
	int64_t p = add_patient(0, "Dario", "Fo", NULL, "+393335556666", "dario@example.test");
	char *tok = invite(p, "/appointments/7/pay", NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(submit(c, tok, "FO", PASSWORD, PASSWORD, "1", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/appointments/7/pay");
	h_resp_free(&r);

	struct h_client *d = client_en();
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	cr_assert_eq(h_get(d, path, &r), 410);
	cr_assert(has(&r, "already been used"));
	cr_assert(has(&r, "href=\"/login\""));
	cr_assert(!has(&r, "Dario"));
	h_resp_free(&r);
	cr_assert_eq(submit(d, tok, "Fo", PASSWORD, PASSWORD, "1", &r), 410);
	h_resp_free(&r);
	cr_assert_eq(accounts_of(p), 1);
	free(tok);
}

Test(portal_invite, expired_link_offers_a_new_one_revealing_nothing)
{
	int64_t p = add_patient(0, "Elena", "Sala", NULL, "+393337778888", "elena@example.test");
	int64_t id = 0;
	char *tok = invite(p, NULL, &id);
	struct store_conn *db = h_db();
	int64_t past = now_utc() - 40 * 86400;
	cr_assert_eq(
	    store_exec(db, NULL,
	               "UPDATE invitations SET created_at = ?, expires_at = ? WHERE id = ?", "iii",
	               past, past + 30 * 86400, id),
	    0);
	store_exec(db, NULL, "UPDATE messages SET created_at = ?", "i", past);
	store_release(db);

	struct h_client *c = client_en();
	struct h_resp r;
	char path[64], resend[80];
	snprintf(path, sizeof(path), "/i/%s", tok);
	snprintf(resend, sizeof(resend), "/i/%s/resend", tok);
	cr_assert_eq(h_get(c, path, &r), 410);
	cr_assert(has(&r, "This link has expired"));
	cr_assert(has(&r, "Send me a new link"));
	cr_assert(!has(&r, "Elena") && !has(&r, "Sala") && !has(&r, "elena@") &&
	          !has(&r, "7778888"));
	char *csrf = strdup(h_csrf(&r));
	h_resp_free(&r);
	int64_t before = count_messages();
	cr_assert_eq(h_post_form(c, resend, &r, "csrf", csrf, NULL), 200);
	cr_assert(has(&r, "If we have your contact details, a new link is on its way."));
	cr_assert(!has(&r, "Elena") && !has(&r, "elena@") && !has(&r, "7778888"));
	char *known = strdup(r.body);
	h_resp_free(&r);
	cr_assert_gt(count_messages(), before, "a fresh invitation was queued");
	char *fresh = newest_token("/i/");
	cr_assert_str_neq(fresh, tok);

	/* an unknown link gets the very same answer */
	char bad[80];
	snprintf(bad, sizeof(bad), "/i/%s/resend", "AAAAAAAAAAAAAAAAAAAAAA");
	cr_assert_eq(h_post_form(c, bad, &r, "csrf", csrf, NULL), 200);
	cr_assert_str_eq(r.body, known);
	h_resp_free(&r);

	/* the new link works */
	cr_assert_eq(submit(c, fresh, "sala", PASSWORD, PASSWORD, "1", &r), 303);
	h_resp_free(&r);
	free(csrf);
	free(known);
	free(fresh);
	free(tok);
}

Test(portal_invite, one_character_changed_is_unknown)
{
	int64_t p = add_patient(0, "Fabio", "Gatti", NULL, "+393339990000", NULL);
	char *tok = invite(p, NULL, NULL);
	tok[5] = tok[5] == 'A' ? 'B' : 'A';
	struct h_client *c = client_en();
	struct h_resp r;
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	cr_assert_eq(h_get(c, path, &r), 404);
	cr_assert(has(&r, "This link does not work"));
	cr_assert(has(&r, "Send me a new link"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/i/not-a-token%3Cscript%3E", &r), 404);
	cr_assert(!has(&r, "<script>"));
	h_resp_free(&r);
	free(tok);
}

/* ---- two submissions at once ------------------------------------------- */

struct racer {
	const char *token;
	char *csrf;
	struct h_client *c;
	pthread_barrier_t *go;
	long status;
};

static void *race(void *arg)
{
	struct racer *x = arg;
	struct h_resp r;
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", x->token);
	pthread_barrier_wait(x->go);
	x->status = h_post_form(x->c, path, &r, "csrf", x->csrf, "family_name", "Lodi", "password",
	                        PASSWORD, "password2", PASSWORD, "consent", "1", NULL);
	h_resp_free(&r);
	return NULL;
}

Test(portal_invite, concurrent_double_submit_makes_one_account)
{
	int64_t p = add_patient(0, "Gino", "Lodi", NULL, "+393331010101", NULL);
	char *tok = invite(p, NULL, NULL);
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	struct racer x[2];
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	for (int i = 0; i < 2; i++) {
		struct h_resp r;
		x[i].c = client_en();
		x[i].token = tok;
		x[i].go = &go;
		h_get(x[i].c, path, &r);
		x[i].csrf = strdup(h_csrf(&r));
		h_resp_free(&r);
	}
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, race, &x[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	int won = (x[0].status == 303) + (x[1].status == 303);
	cr_assert_eq(won, 1, "statuses %ld and %ld", x[0].status, x[1].status);
	long lost = x[0].status == 303 ? x[1].status : x[0].status;
	cr_assert(lost == 410 || lost == 503, "the other gets a refusal, not %ld", lost);
	cr_assert_eq(accounts_of(p), 1);
	for (int i = 0; i < 2; i++)
		free(x[i].csrf);
	pthread_barrier_destroy(&go);
	free(tok);
}

/* ---- escaping ------------------------------------------------------------- */

Test(portal_invite, html_in_a_name_is_escaped_everywhere)
{
	int64_t p =
	    add_patient(0, "<script>alert(1)</script>", "O'Brien<b>", NULL, "+393332020202", NULL);
	char *tok = invite(p, NULL, NULL);
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/dev/outbox", &r), 200);
	cr_assert(!has(&r, "<script>alert"));
	cr_assert(!has(&r, "Brien<b>"));
	h_resp_free(&r);
	cr_assert_eq(submit(c, tok, "obrienb", PASSWORD, PASSWORD, "1", &r), 303, "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(!has(&r, "<script>alert"));
	cr_assert(has(&r, "Welcome, &lt;script&gt;alert(1)&lt;/script&gt;"), "%s", r.body);
	h_resp_free(&r);
	free(tok);
}

/* ---- /dev/outbox ---------------------------------------------------------- */

Test(portal_invite, dev_outbox_links_only_the_portals_own_urls)
{
	int64_t p = add_patient(0, "Ida", "Mori", NULL, "+393333030303", NULL);
	char *tok = invite(p, NULL, NULL);
	struct store_conn *db = h_db();
	char body[512];
	snprintf(body, sizeof(body),
	         "See https://evil.example/x and %s.evil.test/y and <b>bold</b> and %s/r/abc.",
	         H.base, H.base);
	cr_assert_eq(comms_outbox_add(db, H.org[0].org_id, 0, "test", "sms", "+393330000000", NULL,
	                              body, NULL, now_utc(), NULL),
	             0);
	store_release(db);
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/dev/outbox", &r), 200);
	char want[256];
	snprintf(want, sizeof(want), "<a href=\"%s/i/%s\">%s/i/%s</a>", H.base, tok, H.base, tok);
	cr_assert(has(&r, want), "the invitation link is clickable");
	snprintf(want, sizeof(want), "<a href=\"%s/r/abc\">%s/r/abc</a>.", H.base, H.base);
	cr_assert(has(&r, want), "trailing full stop left out of the link");
	cr_assert(!has(&r, "href=\"https://evil.example"));
	cr_assert(has(&r, "https://evil.example/x"));
	snprintf(want, sizeof(want), "href=\"%s.evil.test", H.base);
	cr_assert(!has(&r, want), "a host that only starts like the portal's is not linked");
	cr_assert(has(&r, "&lt;b&gt;bold&lt;/b&gt;"));
	h_resp_free(&r);
	free(tok);
}

static void smtp(struct config *cfg)
{
	free(cfg->transport);
	cfg->transport = strdup("smtp");
}

static void init_smtp(void)
{
	h_start_with(smtp);
}

TestSuite(portal_outbox_off, .init = init_smtp, .fini = h_stop);

Test(portal_outbox_off, dev_outbox_is_404_unless_the_transport_is_log)
{
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/dev/outbox", &r), 404);
	h_resp_free(&r);
}
