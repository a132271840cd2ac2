/*
 * tests/http/portals: several portals in one installation (issue 5, "Portals
 * and members"; src/http/portal_host.c, src/store/portals.c, /policy in
 * src/portal/login.c).
 *
 * The harness's two customers get a portal each: A (Clinic 0, the default,
 * lowest id) on host a.portal.test and B (Clinic 1) on b.portal.test. Every
 * request here names its Host header and carries its cookies by hand (a
 * custom Cookie header replaces curl's jar), like browsers on two sites.
 */
#include "harness.h"

#include "comms/outbox.h"
#include "comms/triggers.h"
#include "invite/account.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/util.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOST_A   "a.portal.test"
#define HOST_B   "b.portal.test"
#define BASE_A   "http://a.portal.test"
#define BASE_B   "http://b.portal.test"
#define COLOUR_A "#0a4a7a"
#define COLOUR_B "#7a1f0a"
#define PASSWORD "a long enough password 42"
#define DAY      86400

static void portals_init(void)
{
	h_start();
	struct store_conn *db = h_db();
	cr_assert_eq(store_portal_set_look(db, H.org[0].portal_id, BASE_A, COLOUR_A), 0);
	cr_assert_eq(store_portal_set_look(db, H.org[1].portal_id, BASE_B, COLOUR_B), 0);
	cr_assert_eq(store_portal_set_policy(db, H.org[0].portal_id, "A-1", "en",
	                                     "Policy of portal A, in English.", now_utc()),
	             0);
	cr_assert_eq(store_portal_set_policy(db, H.org[1].portal_id, "B-1", "en",
	                                     "Policy of portal B, in English.", now_utc()),
	             0);
	cr_assert_eq(store_portal_set_policy(db, H.org[1].portal_id, NULL, "it",
	                                     "Informativa del portale B, in italiano.", now_utc()),
	             0);
	store_release(db);
}

TestSuite(portals, .init = portals_init, .fini = h_stop);

/* --- helpers ---------------------------------------------------------------------------- */

/* method path on host with exactly the cookies given (NULL: none) and a form body (NULL:
 * none). */
static long req(struct h_client *c, const char *method, const char *host, const char *path,
                const char *cookies, const char *form, struct h_resp *r)
{
	char hh[160], ch[1024];
	const char *hdrs[3] = {NULL, NULL, NULL};
	snprintf(hh, sizeof(hh), "Host: %s", host);
	hdrs[0] = hh;
	if (cookies != NULL) { /* replaces what curl's jar would send */
		snprintf(ch, sizeof(ch), "Cookie: %s", cookies);
		hdrs[1] = ch;
	}
	return h_request(c, method, path, form ? "application/x-www-form-urlencoded" : NULL, form,
	                 form ? strlen(form) : 0, hdrs, r);
}

/* The value a Set-Cookie header of r gives to name (malloc'd), or NULL. */
static char *set_cookie(const struct h_resp *r, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = r->headers; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncasecmp(p, "Set-Cookie: ", 12) != 0)
			continue;
		const char *v = p + 12;
		if (strncmp(v, name, n) == 0 && v[n] == '=')
			return strndup(v + n + 1, strcspn(v + n + 1, ";\r\n"));
	}
	return NULL;
}

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static char *enc(const char *s)
{
	static char out[8][512];
	static int i;
	char *o = out[i++ % 8];
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && k + 4 < 512; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')
			o[k++] = (char)*p;
		else
			k += (size_t)snprintf(o + k, 4, "%%%02X", *p);
	}
	o[k] = '\0';
	return o;
}

static int64_t scalar(const char *sql, const char *types, int64_t a, int64_t b)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int rc =
	    types[1] ? store_scalar(db, &n, sql, types, a, b) : store_scalar(db, &n, sql, types, a);
	store_release(db);
	cr_assert_eq(rc, 0, "%s: %s", sql, store_strerror(rc));
	return n;
}

static int64_t add_patient(int64_t org_id, const char *given, const char *family, const char *email)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.birth_date = "1980-01-01";
	p.email = (char *)email;
	p.lang = "en";
	int rc = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(rc, 0, "store_patient_add: %s", store_strerror(rc));
	return p.id;
}

/* An account with PASSWORD on the portal of org (login: email) that accepted version. */
static int64_t add_account(int64_t patient, int64_t portal, const char *email, const char *version)
{
	char hash[crypto_pwhash_STRBYTES];
	cr_assert_eq(crypto_pwhash_str(hash, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
	                               crypto_pwhash_MEMLIMIT_MIN),
	             0);
	struct store_conn *db = h_db();
	int64_t id = 0;
	int rc = store_insert(db, &id,
	                      "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, "
	                      "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
	                      "iitti", patient, portal, email, hash, now_utc());
	cr_assert_eq(rc, 0, "insert account: %s", store_strerror(rc));
	if (version != NULL)
		cr_assert_eq(store_policy_accept(db, id, version, "192.0.2.1", now_utc() - DAY), 0);
	store_release(db);
	return id;
}

/* The newest token in the outbox whose link starts with base + kind ("/i/", "/r/")
 * (malloc'd). */
static char *outbox_link(const char *base, const char *kind)
{
	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int n = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &n, a), 0);
	char needle[128];
	snprintf(needle, sizeof(needle), "%s%s", base, kind);
	char *tok = NULL;
	for (int i = 0; i < n && tok == NULL; i++) {
		const char *p = rows[i].body ? strstr(rows[i].body, needle) : NULL;
		if (p != NULL)
			tok = strndup(p + strlen(needle), 22);
	}
	arena_free(a);
	store_release(db);
	return tok;
}

static char *outbox_token(const char *base)
{
	return outbox_link(base, "/i/");
}

/* 1 when some outbox message body holds s. */
static int outbox_has(const char *s)
{
	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int n = 0, found = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &n, a), 0);
	for (int i = 0; i < n; i++)
		found |= rows[i].body != NULL && strstr(rows[i].body, s) != NULL;
	arena_free(a);
	store_release(db);
	return found;
}

/* A patient session cookie ("sid=...; lang=en") for patient of org, made in the store. */
static char *patient_cookie(int64_t patient, int64_t org_id)
{
	struct h_client *c = h_client();
	h_signin(c, STORE_SESSION_PATIENT, patient, org_id);
	char *s = NULL;
	cr_assert(asprintf(&s, "sid=%s; lang=en", h_cookie(c, "sid")) > 0);
	return s;
}

/* Signs in through POST /login on host; returns the response's status, *sid the new session
 * (malloc'd; NULL when none) and the Location in loc (when given). */
static long login(const char *host, const char *email, char **sid, char *loc, size_t locn)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(req(c, "GET", host, "/login", "lang=en", NULL, &r), 200);
	char *csrf = set_cookie(&r, "csrf");
	cr_assert_not_null(csrf);
	h_resp_free(&r);
	char cookies[256], form[512];
	snprintf(cookies, sizeof(cookies), "csrf=%s; lang=en", csrf);
	snprintf(form, sizeof(form), "csrf=%s&login=%s&password=%s", csrf, enc(email),
	         enc(PASSWORD));
	long st = req(c, "POST", host, "/login", cookies, form, &r);
	*sid = set_cookie(&r, "sid");
	if (loc != NULL) {
		const char *l = h_header(&r, "Location");
		snprintf(loc, locn, "%s", l ? l : "");
	}
	h_resp_free(&r);
	free(csrf);
	return st;
}

/* The CSRF token of a signed-in page (malloc'd). */
static char *page_csrf(const char *host, const char *path, const char *cookies)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(req(c, "GET", host, path, cookies, NULL, &r), 200, "GET %s", path);
	const char *t = h_csrf(&r);
	cr_assert_not_null(t);
	char *s = strdup(t);
	h_resp_free(&r);
	return s;
}

/* --- look and policy ------------------------------------------------------------------- */

Test(portals, each_portal_shows_its_own_name_colour_and_policy)
{
	struct h_client *c = h_client();
	struct h_resp r;
	char css[64];
	cr_assert_eq(req(c, "GET", HOST_A, "/login", "lang=en", NULL, &r), 200);
	cr_assert(has(&r, "<title>Sign in · Clinic 0</title>"));
	cr_assert(has(&r, "class=\"brand\" href=\"/\">Clinic 0</a>"));
	snprintf(css, sizeof(css), "/portal/%lld/theme.css", (long long)H.org[0].portal_id);
	cr_assert(has(&r, css));
	cr_assert(!has(&r, "Clinic 1"));
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_A, css, NULL, NULL, &r), 200);
	cr_assert(has(&r, "--brand: " COLOUR_A ";"));
	cr_assert_str_eq(h_header(&r, "Content-Type"), "text/css; charset=utf-8");
	h_resp_free(&r);

	cr_assert_eq(req(c, "GET", HOST_B, "/login", "lang=en", NULL, &r), 200);
	cr_assert(has(&r, "<title>Sign in · Clinic 1</title>"));
	snprintf(css, sizeof(css), "/portal/%lld/theme.css", (long long)H.org[1].portal_id);
	cr_assert(has(&r, css));
	cr_assert(!has(&r, "Clinic 0"));
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_B, css, NULL, NULL, &r), 200);
	cr_assert(has(&r, "--brand: " COLOUR_B ";"));
	cr_assert(!has(&r, COLOUR_A));
	h_resp_free(&r);

	/* the policy on each portal's landing page, in the page's language */
	int64_t p = add_patient(H.org[1].org_id, "Bea", "Bruni", "bea@example.test");
	struct store_conn *db = h_db();
	struct invite_request ir = {.org_id = H.org[1].org_id, .patient_id = p, .ignore_recent = 1};
	cr_assert_eq(invite_send(db, &H.cfg, &ir, now_utc(), NULL), 0);
	store_release(db);
	char *tok = outbox_token(BASE_B);
	cr_assert_not_null(tok);
	char path[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	cr_assert_eq(req(c, "GET", HOST_B, path, "lang=en", NULL, &r), 200);
	cr_assert(has(&r, "Policy of portal B, in English."));
	cr_assert(has(&r, "B-1"));
	cr_assert(!has(&r, "portal A"));
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_B, path, "lang=it", NULL, &r), 200);
	cr_assert(has(&r, "Informativa del portale B, in italiano."));
	h_resp_free(&r);
	free(tok);
}

Test(portals, a_colour_is_checked_before_it_reaches_css)
{
	struct store_conn *db = h_db();
	cr_assert_eq(store_portal_colour_ok(COLOUR_A), 0);
	cr_assert_eq(store_portal_colour_ok("#0A4A7A"), 0);
	cr_assert_neq(store_portal_colour_ok("#ffffff"), 0); /* white text would vanish */
	cr_assert_neq(store_portal_colour_ok("#777777"), 0); /* 4.48:1, just under AA */
	cr_assert_eq(store_portal_colour_ok("#767676"), 0);  /* 4.54:1 */
	cr_assert_neq(store_portal_colour_ok("red"), 0);
	cr_assert_neq(store_portal_colour_ok("#0a4a7"), 0);
	cr_assert_neq(store_portal_colour_ok("#0a4a7a;}"), 0);
	cr_assert_neq(store_portal_colour_ok("#0a4g7a"), 0);
	cr_assert_neq(store_portal_colour_ok(NULL), 0);
	cr_assert_eq(store_portal_set_look(db, H.org[0].portal_id, NULL, "#fff;}body{"),
	             STORE_INVALID);
	cr_assert_eq(store_portal_set_look(db, H.org[0].portal_id, "javascript:x", COLOUR_A),
	             STORE_INVALID);
	/* two portals cannot share a host */
	cr_assert_eq(store_portal_set_look(db, H.org[1].portal_id, BASE_A, COLOUR_B),
	             STORE_CONFLICT);
	/* a row written by hand with something else never reaches the stylesheet */
	cr_assert_eq(store_exec(db, NULL, "UPDATE portals SET primary_colour = ? WHERE id = ?",
	                        "ti", "#}{x:y;", H.org[0].portal_id),
	             0);
	store_release(db);
	struct h_client *c = h_client();
	struct h_resp r;
	char css[64];
	snprintf(css, sizeof(css), "/portal/%lld/theme.css", (long long)H.org[0].portal_id);
	cr_assert_eq(req(c, "GET", HOST_A, css, NULL, NULL, &r), 200);
	cr_assert(!has(&r, "#}{"));
	cr_assert(!has(&r, "--brand"));
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_A, "/login", NULL, NULL, &r), 200);
	cr_assert(!has(&r, css)); /* no colour, no logo: no portal stylesheet */
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_A, "/portal/999999/theme.css", NULL, NULL, &r), 404);
	h_resp_free(&r);
}

Test(portals, a_logo_is_an_image_served_from_the_portal)
{
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	                                    0,    0,   0,   13,  'I',  'H',  'D',  'R'};
	struct store_conn *db = h_db();
	cr_assert_eq(store_portal_set_logo(db, H.org[1].portal_id, "GIF89a....", 10),
	             STORE_INVALID);
	cr_assert_eq(store_portal_set_logo(db, H.org[1].portal_id, "<svg onload=x>", 14),
	             STORE_INVALID);
	cr_assert_eq(store_portal_set_logo(db, H.org[1].portal_id, png, STORE_LOGO_MAX + 1),
	             STORE_INVALID);
	cr_assert_eq(store_portal_set_logo(db, H.org[1].portal_id, png, sizeof(png)), 0);
	store_release(db);
	struct h_client *c = h_client();
	struct h_resp r;
	char img[160], logo[64];
	snprintf(logo, sizeof(logo), "/portal/%lld/logo", (long long)H.org[1].portal_id);
	snprintf(img, sizeof(img), "<img class=\"brand-logo\" src=\"%s\" alt=\"Clinic 1\">", logo);
	cr_assert_eq(req(c, "GET", HOST_B, "/login", NULL, NULL, &r), 200);
	cr_assert(has(&r, img));
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_B, logo, NULL, NULL, &r), 200);
	cr_assert_str_eq(h_header(&r, "Content-Type"), "image/png");
	cr_assert_eq(r.len, sizeof(png));
	cr_assert_eq(memcmp(r.body, png, sizeof(png)), 0);
	cr_assert_str_eq(h_header(&r, "X-Content-Type-Options"), "nosniff");
	h_resp_free(&r);
	snprintf(logo, sizeof(logo), "/portal/%lld/logo", (long long)H.org[0].portal_id);
	cr_assert_eq(req(c, "GET", HOST_A, logo, NULL, NULL, &r), 404);
	h_resp_free(&r);
}

/* --- hosts ------------------------------------------------------------------------------ */

Test(portals, an_unknown_host_gets_the_default_portal)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(req(c, "GET", "nowhere.example", "/login", NULL, NULL, &r), 200);
	cr_assert(has(&r, "· Clinic 0</title>"));
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", "B.PORTAL.TEST", "/login", NULL, NULL, &r), 200);
	cr_assert(has(&r, "· Clinic 1</title>"), "host names ignore case");
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", "b.portal.test.evil.example", "/login", NULL, NULL, &r), 200);
	cr_assert(has(&r, "· Clinic 0</title>"));
	h_resp_free(&r);
	/* the harness's own address is no portal's host either */
	cr_assert_eq(h_get(c, "/login", &r), 200);
	cr_assert(has(&r, "· Clinic 0</title>"));
	h_resp_free(&r);
}

Test(portals, a_session_of_one_portal_is_signed_out_on_another)
{
	int64_t pa = add_patient(H.org[0].org_id, "Ada", "Alberti", "ada@example.test");
	add_account(pa, H.org[0].portal_id, "ada@example.test", "A-1");
	char *cookies = patient_cookie(pa, H.org[0].org_id);
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(req(c, "GET", HOST_A, "/account", cookies, NULL, &r), 200);
	cr_assert(has(&r, "Ada"));
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_B, "/account", cookies, NULL, &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/login?next=%2Faccount");
	h_resp_free(&r);
	/* the home page there is the signed-out one, with nothing of Ada's */
	cr_assert_eq(req(c, "GET", HOST_B, "/", cookies, NULL, &r), 200);
	cr_assert(!has(&r, "Ada"));
	cr_assert(!has(&r, "action=\"/logout\""));
	h_resp_free(&r);
	/* and on an unknown host (the default portal, A's) it still works */
	cr_assert_eq(req(c, "GET", "nowhere.example", "/account", cookies, NULL, &r), 200);
	h_resp_free(&r);
	/* a patient of B is refused on A */
	int64_t pb = add_patient(H.org[1].org_id, "Bice", "Bassi", "bice@example.test");
	char *bcookies = patient_cookie(pb, H.org[1].org_id);
	cr_assert_eq(req(c, "GET", HOST_B, "/search", bcookies, NULL, &r), 200);
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_A, "/search", bcookies, NULL, &r), 303);
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", "nowhere.example", "/search", bcookies, NULL, &r), 303);
	h_resp_free(&r);
	/* staff pages do not depend on the host, nor wear its portal */
	struct h_client *s = h_client();
	h_staff_signin(s, 1);
	char staff[160];
	snprintf(staff, sizeof(staff), "sid=%s", h_cookie(s, "sid"));
	cr_assert_eq(req(c, "GET", HOST_A, "/staff/patients", staff, NULL, &r), 200);
	cr_assert(!has(&r, "Clinic 0"));
	cr_assert(!has(&r, "theme.css"));
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_B, "/staff/patients", staff, NULL, &r), 200);
	h_resp_free(&r);
	free(cookies);
	free(bcookies);
}

Test(portals, an_invitation_of_one_portal_is_unknown_on_another)
{
	int64_t p = add_patient(H.org[1].org_id, "Bruna", "Berti", "bruna@example.test");
	struct store_conn *db = h_db();
	struct invite_request ir = {.org_id = H.org[1].org_id, .patient_id = p, .ignore_recent = 1};
	cr_assert_eq(invite_send(db, &H.cfg, &ir, now_utc(), NULL), 0);
	store_release(db);
	char *tok = outbox_token(BASE_B);
	cr_assert_not_null(tok, "the link is built from portal B's base_url");
	char path[64], bad[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	snprintf(bad, sizeof(bad), "/i/%s", "AAAAAAAAAAAAAAAAAAAAAA");
	struct h_client *c = h_client();
	struct h_resp r, u;
	cr_assert_eq(req(c, "GET", HOST_A, bad, "lang=en", NULL, &u), 404);
	cr_assert_eq(req(c, "GET", HOST_A, path, "lang=en", NULL, &r), 404);
	/* the same page as a token that does not exist, but for the token in its form */
	const char *h1 = strstr(r.body, "<h1>"), *h2 = strstr(u.body, "<h1>");
	cr_assert(h1 != NULL && h2 != NULL);
	cr_assert_eq(strncmp(h1, h2, 60), 0);
	cr_assert(!has(&r, "Clinic 1"));
	cr_assert(!has(&r, "Policy of portal B"));
	h_resp_free(&r);
	h_resp_free(&u);
	/* a POST there cannot use it either (a fresh browser: its first csrf cookie) */
	c = h_client();
	cr_assert_eq(req(c, "GET", HOST_A, "/login", NULL, NULL, &r), 200);
	char *csrf = set_cookie(&r, "csrf");
	cr_assert_not_null(csrf, "%s", r.headers);
	h_resp_free(&r);
	char cookies[128], form[512];
	snprintf(cookies, sizeof(cookies), "csrf=%s", csrf);
	snprintf(form, sizeof(form), "csrf=%s&family_name=Berti&password=%s&password2=%s&consent=1",
	         csrf, enc(PASSWORD), enc(PASSWORD));
	cr_assert_eq(req(c, "POST", HOST_A, path, cookies, form, &r), 404, "%s", r.body);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM accounts WHERE patient_id = ?", "i", p, 0), 0);
	/* on its own host it works */
	cr_assert_eq(req(c, "GET", HOST_B, path, "lang=en", NULL, &r), 200);
	cr_assert(has(&r, "Clinic 1"));
	h_resp_free(&r);
	free(csrf);
	free(tok);
}

Test(portals, a_reset_link_of_one_portal_is_unknown_on_another)
{
	int64_t p = add_patient(H.org[1].org_id, "Rita", "Rossi", "rita@example.test");
	add_account(p, H.org[1].portal_id, "rita@example.test", "B-1");
	struct store_conn *db = h_db();
	cr_assert_eq(account_reset_send(db, &H.cfg, H.org[1].org_id, p, H.org[1].staff_id, "email",
	                                NULL, now_utc()),
	             0);
	store_release(db);
	char *tok = outbox_link(BASE_B, "/r/");
	cr_assert_not_null(tok);
	char path[64];
	snprintf(path, sizeof(path), "/r/%s", tok);
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(req(c, "GET", HOST_A, path, "lang=en", NULL, &r), 404);
	h_resp_free(&r);
	cr_assert_eq(req(c, "GET", HOST_B, path, "lang=en", NULL, &r), 200);
	h_resp_free(&r);
	free(tok);
}

Test(portals, the_host_header_never_builds_a_link)
{
	int64_t p = add_patient(H.org[1].org_id, "Elsa", "Esposito", "elsa@example.test");
	struct h_client *s = h_client();
	h_staff_signin(s, 1);
	char cookies[160], form[160], path[64];
	snprintf(cookies, sizeof(cookies), "sid=%s", h_cookie(s, "sid"));
	snprintf(form, sizeof(form), "csrf=%s&channel=email", h_client_csrf(s));
	snprintf(path, sizeof(path), "/staff/patients/%lld/invite", (long long)p);
	struct h_resp r;
	cr_assert_eq(req(s, "POST", "evil.example", path, cookies, form, &r), 303);
	h_resp_free(&r);
	cr_assert(outbox_has(BASE_B "/i/"));
	cr_assert(!outbox_has("evil.example"));
	char *tok = outbox_token(BASE_B);
	cr_assert_not_null(tok);
	/* pages on any host never echo it */
	const char *pages[] = {"/login", "/", "/forgot", "/signup", "/nope"};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		req(s, "GET", "evil.example", pages[i], NULL, NULL, &r);
		cr_assert(!has(&r, "evil.example"), "%s", pages[i]);
		h_resp_free(&r);
	}
	free(tok);
}

/* --- members ------------------------------------------------------------------------------ */

Test(portals, a_member_appointments_invitation_makes_the_account_on_the_members_portal)
{
	int64_t now = now_utc();
	struct store_conn *db = h_db();
	int64_t member = 0, svc = 0, appt = 0, slot = 0;
	cr_assert_eq(store_insert(db, &member,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                          "VALUES ('member', ?, ?, 'Studio Membro B') RETURNING id",
	                          "ii", H.org[1].portal_id, H.org[1].org_id),
	             0);
	cr_assert_eq(store_insert(db, &svc,
	                          "INSERT INTO services (org_id, name, duration_min, kind, "
	                          "price_cents, payment, online_booking, active) VALUES "
	                          "(?, 'Member video visit', 30, 'video', 5000, 'mandatory', 1, 1) "
	                          "RETURNING id",
	                          "i", member),
	             0);
	cr_assert_eq(store_insert(db, &slot,
	                          "INSERT INTO slots (org_id, service_id, start_at, end_at, "
	                          "capacity, booked) VALUES (?, ?, ?, ?, 1, 0) RETURNING id",
	                          "iiii", member, svc, now + 5 * DAY, now + 5 * DAY + 1800),
	             0);
	store_release(db);
	int64_t p = add_patient(member, "Mara", "Monti", "mara@example.test");
	db = h_db();
	cr_assert_eq(store_insert(db, &appt,
	                          "INSERT INTO appointments (patient_id, org_id, service_id, "
	                          "start_at, end_at, kind, booked_via, payment, amount_cents, "
	                          "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'video', "
	                          "'offline', 'mandatory', 5000, ?, ?) RETURNING id",
	                          "iiiiiii", p, member, svc, now + 3 * DAY, now + 3 * DAY + 1800,
	                          now, now),
	             0);
	int queued = 0;
	int rc = comms_trigger_payment_request(db, appt, now, &queued);
	store_release(db);
	cr_assert_eq(rc, 0);
	cr_assert_eq(queued, 1);
	cr_assert_eq(scalar("SELECT portal_id FROM invitations WHERE patient_id = ?", "i", p, 0),
	             H.org[1].portal_id);
	char *tok = outbox_token(BASE_B);
	cr_assert_not_null(tok, "TRD104 links to the member's portal");
	char path[64], target[64];
	snprintf(path, sizeof(path), "/i/%s", tok);
	snprintf(target, sizeof(target), "/appointments/%lld/pay", (long long)appt);

	/* accept on the member's portal's host */
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(req(c, "GET", HOST_B, path, "lang=en", NULL, &r), 200);
	char *csrf = set_cookie(&r, "csrf");
	cr_assert_not_null(csrf);
	h_resp_free(&r);
	char cookies[128], form[512];
	snprintf(cookies, sizeof(cookies), "csrf=%s; lang=en", csrf);
	snprintf(form, sizeof(form), "csrf=%s&family_name=monti&password=%s&password2=%s&consent=1",
	         csrf, enc(PASSWORD), enc(PASSWORD));
	cr_assert_eq(req(c, "POST", HOST_B, path, cookies, form, &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), target);
	char *sid = set_cookie(&r, "sid");
	cr_assert_not_null(sid);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT portal_id FROM accounts WHERE patient_id = ?", "i", p, 0),
	             H.org[1].portal_id);
	cr_assert_eq(
	    scalar("SELECT COUNT(*) FROM consents c JOIN accounts a ON a.id = c.account_id "
	           "WHERE a.patient_id = ? AND c.kind = 'privacy' AND c.version = 'B-1'",
	           "i", p, 0),
	    1);
	char signed_in[160];
	snprintf(signed_in, sizeof(signed_in), "sid=%s; lang=en", sid);
	cr_assert_eq(req(c, "GET", HOST_B, target, signed_in, NULL, &r), 200);
	h_resp_free(&r);
	/* the portal's search shows the member's services and slots */
	cr_assert_eq(req(c, "GET", HOST_B, "/search", signed_in, NULL, &r), 200);
	cr_assert(has(&r, "Member video visit"));
	cr_assert(has(&r, "Studio Membro B"));
	h_resp_free(&r);
	/* and portal A's host knows nothing of this account */
	cr_assert_eq(req(c, "GET", HOST_A, target, signed_in, NULL, &r), 303);
	h_resp_free(&r);
	char loc[256];
	char *sid2 = NULL;
	login(HOST_A, "mara@example.test", &sid2, loc, sizeof(loc));
	cr_assert_null(sid2, "no account of this login on portal A");
	cr_assert_eq(login(HOST_B, "mara@example.test", &sid2, loc, sizeof(loc)), 303);
	cr_assert_not_null(sid2);
	cr_assert_str_eq(loc, "/");
	free(sid2);
	free(sid);
	free(csrf);
	free(tok);
}

/* --- a new policy version ------------------------------------------------------------------ */

Test(portals, a_new_policy_version_is_asked_at_the_next_sign_in)
{
	int64_t p = add_patient(H.org[1].org_id, "Nina", "Neri", "nina@example.test");
	int64_t acct = add_account(p, H.org[1].portal_id, "nina@example.test", "B-1");
	char loc[256];
	char *sid = NULL;
	cr_assert_eq(login(HOST_B, "nina@example.test", &sid, loc, sizeof(loc)), 303);
	cr_assert_str_eq(loc, "/", "up to date: straight in");
	free(sid);

	struct store_conn *db = h_db();
	cr_assert_eq(store_portal_set_policy(db, H.org[1].portal_id, "B-2", "en",
	                                     "Policy of portal B, version two.", now_utc()),
	             0);
	store_release(db);
	cr_assert_eq(login(HOST_B, "nina@example.test", &sid, loc, sizeof(loc)), 303);
	cr_assert_str_eq(loc, "/policy?next=%2F");
	cr_assert_not_null(sid);
	char cookies[160];
	snprintf(cookies, sizeof(cookies), "sid=%s; lang=en", sid);
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(req(c, "GET", HOST_B, "/policy?next=%2Faccount", cookies, NULL, &r), 200);
	cr_assert(has(&r, "Policy of portal B, version two."));
	cr_assert(has(&r, "B-2"));
	cr_assert(has(&r, "B-1")); /* what was accepted before */
	h_resp_free(&r);
	char *csrf = page_csrf(HOST_B, "/policy", cookies);
	char form[256];
	/* not ticked: asked again */
	snprintf(form, sizeof(form), "csrf=%s&version=B-2&next=%%2Faccount", csrf);
	cr_assert_eq(req(c, "POST", HOST_B, "/policy", cookies, form, &r), 200);
	cr_assert(has(&r, "please accept the privacy policy"));
	h_resp_free(&r);
	/* a version that is not the current one: shown the current one again */
	snprintf(form, sizeof(form), "csrf=%s&version=B-1&consent=1&next=%%2Faccount", csrf);
	cr_assert_eq(req(c, "POST", HOST_B, "/policy", cookies, form, &r), 200);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM consents WHERE account_id = ?", "i", acct, 0), 1);
	/* without the CSRF token: refused */
	cr_assert_eq(req(c, "POST", HOST_B, "/policy", cookies, "version=B-2&consent=1", &r), 403);
	h_resp_free(&r);
	/* accepted: recorded with version, time and address, and on to next (portal paths) */
	int64_t before = now_utc();
	snprintf(form, sizeof(form), "csrf=%s&version=B-2&consent=1&next=%%2Faccount", csrf);
	cr_assert_eq(req(c, "POST", HOST_B, "/policy", cookies, form, &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/account");
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM consents WHERE account_id = ? AND "
	                    "kind = 'privacy' AND version = 'B-2' AND ip = '127.0.0.1' AND "
	                    "accepted_at >= ?",
	                    "ii", acct, before),
	             1);
	/* the profile lists it */
	cr_assert_eq(req(c, "GET", HOST_B, "/account", cookies, NULL, &r), 200);
	cr_assert(has(&r, "B-2"));
	h_resp_free(&r);
	/* the next sign-in goes straight in; /policy itself moves on */
	free(sid);
	cr_assert_eq(login(HOST_B, "nina@example.test", &sid, loc, sizeof(loc)), 303);
	cr_assert_str_eq(loc, "/");
	cr_assert_eq(req(c, "GET", HOST_B, "/policy?next=//evil.example", cookies, NULL, &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/");
	h_resp_free(&r);
	/* signed out: /policy asks to sign in */
	cr_assert_eq(req(c, "GET", HOST_B, "/policy", NULL, NULL, &r), 303);
	h_resp_free(&r);
	free(sid);
	free(csrf);
}
