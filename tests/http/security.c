/*
 * HTTP security sweep (issue 6, "Hostile input"): a systematic pass over the
 * route table (http_routes[], so a new route is swept without editing this
 * file; a new {param} on a signed-in route fails here until it gets a fixture
 * in param_value()). It tries, and must see refused:
 *  - another organisation's ids on every staff route (404, the same body as an
 *    id that does not exist, nothing written), ids in forms and queries too,
 *    and a range of ids enumerated;
 *  - a patient session on every staff route, a staff session on every patient
 *    route, a session cookie replayed after sign-out;
 *  - every POST without a CSRF token, with a stale one (an earlier session) and
 *    from another origin; the table itself: every POST carries HTTP_CSRF;
 *  - a reset link after the password changed, an invitation token with any one
 *    character changed;
 *  - Host / X-Forwarded-Host poisoning of links in queued messages;
 *  - CR/LF in names (staff form, CSV import, the store) reaching a response
 *    header or an e-mail header;
 *  - HTML/JS stored in every text field, and reflected through every query
 *    parameter, on every page that shows it.
 * Oversized and slow requests and brute force are in security_abuse.c.
 */
#include "harness.h"

#include "cli/import.h"
#include "comms/outbox.h"
#include "comms/transport.h"
#include "http/http.h"
#include "invite/account.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

TestSuite(security, .init = h_start, .fini = h_stop, .timeout = 120);

#define XSS1 "<script>alert(1)</script>"
#define XSS2 "\"><img src=x onerror=alert(1)>"
#define PW   "the patient's own password"

/* 1 when the page shows a name or text that only fixture f's organisation has. */
#define LEAKS(r, f) (has((r), (f)->family) || has((r), (f)->service) || has((r), (f)->tpl_text))
#define DAY         86400

/* --- small helpers ------------------------------------------------------- */

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

/* body with every occurrence of path replaced by "{path}" (malloc'd): pages echo their own
 * path (the language form's "back", a link's resend action), nothing else may differ. */
static char *normalised(const char *body, const char *path)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "");
	size_t n = strlen(path);
	const char *p = body ? body : "";
	for (const char *at; (at = strstr(p, path)) != NULL; p = at + n) {
		buf_append(&b, p, (size_t)(at - p));
		buf_puts(&b, "{path}");
	}
	buf_puts(&b, p);
	return buf_steal(&b);
}

/* Runs one statement with store_exec's own (types, values...) arguments. */
#define EXEC(...)                                                                                  \
	do {                                                                                       \
		struct store_conn *db_ = h_db();                                                   \
		int rc_ = store_exec(db_, NULL, __VA_ARGS__);                                      \
		store_release(db_);                                                                \
		cr_assert_eq(rc_, 0, "store_exec: %s", store_strerror(rc_));                       \
	} while (0)

/* INSERT ... RETURNING id into *idp. */
#define INSERT(idp, ...)                                                                           \
	do {                                                                                       \
		struct store_conn *db_ = h_db();                                                   \
		int rc_ = store_insert(db_, (idp), __VA_ARGS__);                                   \
		store_release(db_);                                                                \
		cr_assert_eq(rc_, 0, "store_insert: %s", store_strerror(rc_));                     \
	} while (0)

static int64_t count(const char *sql)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int rc = store_scalar(db, &n, sql, "");
	store_release(db);
	cr_assert_eq(rc, 0, "%s: %s", sql, store_strerror(rc));
	return n;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, f);
	cr_assert(vasprintf(&s, f, ap) >= 0);
	va_end(ap);
	return s;
}

static struct h_client *client_en(void)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	return c;
}

static struct h_client *staff_client(int org)
{
	struct h_client *c = client_en();
	h_staff_signin(c, org);
	return c;
}

static struct h_client *patient_client(int64_t patient, int org)
{
	struct h_client *c = client_en();
	h_signin(c, STORE_SESSION_PATIENT, patient, H.org[org].org_id);
	return c;
}

/* The token of the newest link `prefix` ("/i/", "/r/") in the outbox for recipient (or any
 * recipient when NULL), malloc'd, or NULL. */
static char *newest_token(const char *prefix, const char *recipient)
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
		if (recipient != NULL &&
		    (rows[i].recipient == NULL || strcmp(rows[i].recipient, recipient) != 0))
			continue;
		const char *p = rows[i].body ? strstr(rows[i].body, needle) : NULL;
		if (p != NULL)
			tok = strndup(p + strlen(needle), INVITE_TOKEN_CHARS);
	}
	arena_free(a);
	store_release(db);
	return tok;
}

/* --- fixtures ------------------------------------------------------------ */

/* One organisation's rows, every name carrying its marker ("Secret0", "Secret1") so that a
 * page leaking them is caught by a plain search. */
struct fx {
	int org;
	int64_t patient, holder, account, inv, msg, svc, place, hours, slot, appt, consent, recall;
	int64_t portal;
	char marker[16];
	char family[32], service[32], tpl_text[32]; /* names only this organisation has */
	char login[40];                             /* the holder's e-mail and sign-in */
	char payref[40];
	char invite_token[INVITE_TOKEN_CHARS + 1], reset_token[INVITE_TOKEN_CHARS + 1];
};

static int64_t add_patient(int org, const char *given, const char *family, const char *mobile,
                           const char *email)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[org].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.birth_date = "1980-01-01";
	p.mobile = (char *)mobile;
	p.email = (char *)email;
	p.lang = "en";
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

/* An account whose password is PW (weakest Argon2id parameters: verifies like any). */
static int64_t add_account(int org, int64_t patient, const char *login)
{
	char hash[crypto_pwhash_STRBYTES];
	cr_assert_eq(crypto_pwhash_str(hash, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
	                               crypto_pwhash_MEMLIMIT_MIN),
	             0);
	struct store_conn *db = h_db();
	int64_t id = 0;
	int rc = store_insert(db, &id,
	                      "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, "
	                      "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
	                      "iitti", patient, H.org[org].portal_id, login, hash, now_utc());
	store_release(db);
	cr_assert_eq(rc, 0, "insert account: %s", store_strerror(rc));
	return id;
}

static void seed(struct fx *f, int org)
{
	static int seq; /* a second fixture in one organisation gets other contacts */
	int k = seq++;
	memset(f, 0, sizeof(*f));
	f->org = org;
	int64_t o = H.org[org].org_id;
	snprintf(f->marker, sizeof(f->marker), "Secret%d", org);
	snprintf(f->family, sizeof(f->family), "Family%s", f->marker);
	snprintf(f->service, sizeof(f->service), "Service%s", f->marker);
	snprintf(f->tpl_text, sizeof(f->tpl_text), "Template%s", f->marker);
	snprintf(f->login, sizeof(f->login), "h%d@example.test", k);
	char *fam = fmt("Family%s", f->marker), *mob = fmt("+3933311100%02d", k),
	     *mail = fmt("p%d@example.test", k), *hmob = fmt("+3933322200%02d", k),
	     *svc = fmt("Service%s", f->marker);
	f->patient = add_patient(org, "Pia", fam, mob, mail);
	f->holder = add_patient(org, "Holder", fam, hmob, f->login);
	f->account = add_account(org, f->holder, f->login);

	struct store_conn *db = h_db();
	struct invite_request r = {.org_id = o,
	                           .patient_id = f->patient,
	                           .staff_id = H.org[org].staff_id,
	                           .channel = "email",
	                           .ignore_recent = 1};
	int err = invite_send(db, &H.cfg, &r, now_utc(), &f->inv);
	cr_assert_eq(err, 0, "invite_send: %s", invite_strerror(err));
	err = account_reset_send(db, &H.cfg, o, f->holder, H.org[org].staff_id, "email",
	                         "127.0.0.1", now_utc());
	cr_assert_eq(err, 0, "account_reset_send: %s", account_strerror(err));
	err = store_scalar(db, &f->msg, "SELECT MAX(id) FROM messages WHERE org_id = ?", "i", o);
	cr_assert_eq(err, 0);
	store_release(db);
	char *it = newest_token("/i/", mail), *rt = newest_token("/r/", f->login);
	cr_assert_not_null(it);
	cr_assert_not_null(rt);
	snprintf(f->invite_token, sizeof(f->invite_token), "%s", it);
	snprintf(f->reset_token, sizeof(f->reset_token), "%s", rt);
	free(it);
	free(rt);

	INSERT(&f->svc,
	       "INSERT INTO services (org_id, name, duration_min, kind, price_cents, payment, "
	       "online_booking, active) VALUES (?, ?, 30, 'in_person', 5000, 'optional', 1, 1) "
	       "RETURNING id",
	       "it", o, svc);
	f->place = o;
	INSERT(&f->hours,
	       "INSERT INTO opening_hours (org_id, service_id, weekday, start_min, end_min) "
	       "VALUES (?, ?, 2, 540, 720) RETURNING id",
	       "ii", o, f->svc);
	int64_t start = (now_utc() / DAY + 3) * DAY + 9 * 3600;
	INSERT(&f->slot,
	       "INSERT INTO slots (org_id, service_id, start_at, end_at, capacity, booked) "
	       "VALUES (?, ?, ?, ?, 3, 0) RETURNING id",
	       "iiii", o, f->svc, start, start + 1800);
	INSERT(&f->appt,
	       "INSERT INTO appointments (patient_id, org_id, service_id, start_at, end_at, kind, "
	       "booked_via, payment, amount_cents) VALUES (?, ?, ?, ?, ?, 'in_person', "
	       "'offline', 'optional', 5000) RETURNING id",
	       "iiiii", f->holder, o, f->svc, start + 7 * DAY, start + 7 * DAY + 1800);
	INSERT(&f->consent,
	       "INSERT INTO consents (account_id, kind, version, accepted_at) "
	       "VALUES (?, 'marketing', '1', ?) RETURNING id",
	       "ii", f->account, now_utc());
	INSERT(&f->recall,
	       "INSERT INTO recalls (org_id, patient_id, service_id, due_date, channel) VALUES "
	       "(?, ?, ?, '2099-01-01', 'email') RETURNING id",
	       "iii", o, f->patient, f->svc);
	f->portal = H.org[org].portal_id;
	snprintf(f->payref, sizeof(f->payref), "sbx_%032d", k + 1);
	int64_t pay = 0;
	INSERT(&pay,
	       "INSERT INTO payments (appointment_id, provider, provider_ref, amount_cents) "
	       "VALUES (?, 'sandbox', ?, 5000) RETURNING id",
	       "it", f->appt, f->payref);
	/* a custom template whose text is only this organisation's */
	char *tpl = fmt("Template%s {{link}}", f->marker);
	EXEC("INSERT INTO templates (org_id, kind, channel, lang, body) VALUES "
	     "(?, 'invitation', 'sms', 'en', ?) ON CONFLICT (org_id, kind, channel, lang) "
	     "DO NOTHING",
	     "it", o, tpl);
	free(tpl);
	free(fam);
	free(mob);
	free(mail);
	free(hmob);
	free(svc);
}

/* --- the route table, with params filled ----------------------------------- */

/*
 * The value of {name} in a route, the segment before it being `prev` ("patients" for
 * "/staff/patients/{id}"), from fixture f. NULL when no fixture knows it: a signed-in route
 * with a new kind of parameter makes the sweep fail until one is added here.
 */
static char *param_value(const char *prev, const char *name, const struct fx *f)
{
	static const struct {
		const char *prev, *name;
		size_t off;
	} ids[] = {
	    {"patients", "id", offsetof(struct fx, patient)},
	    {"invitations", "inv", offsetof(struct fx, inv)},
	    {"messages", "id", offsetof(struct fx, msg)},
	    {"services", "id", offsetof(struct fx, svc)},
	    {"places", "place", offsetof(struct fx, place)},
	    {"appointments", "id", offsetof(struct fx, appt)},
	    {"book", "slot", offsetof(struct fx, slot)},
	    {"consents", "id", offsetof(struct fx, consent)},
	    {"recalls", "id", offsetof(struct fx, recall)},
	    {"portal", "id", offsetof(struct fx, portal)},
	    {"portals", "id", offsetof(struct fx, portal)},
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strcmp(ids[i].prev, prev) == 0 && strcmp(ids[i].name, name) == 0)
			return fmt("%lld",
			           (long long)*(const int64_t *)(const void *)((const char *)f +
			                                                       ids[i].off));
	if (strcmp(prev, "sandbox") == 0 && strcmp(name, "ref") == 0)
		return strdup(f->payref);
	if (strcmp(prev, "i") == 0 && strcmp(name, "token") == 0)
		return strdup(f->invite_token);
	if (strcmp(prev, "r") == 0 && strcmp(name, "token") == 0)
		return strdup(f->reset_token);
	if (strcmp(name, "token") == 0)
		return strdup("AAAAAAAAAAAAAAAAAAAAAA"); /* a link nobody was sent */
	if (strcmp(name, "kind") == 0)
		return strdup("invitation");
	if (strcmp(name, "channel") == 0)
		return strdup("sms");
	if (strcmp(name, "lang") == 0)
		return strdup("en");
	if (strcmp(name, "file") == 0)
		return strdup("app.css");
	return NULL;
}

/* 1 when {name} after prev names a row of one organisation (an id to guess). */
static int is_row_id(const char *prev, const char *name)
{
	return strcmp(name, "id") == 0 || strcmp(name, "inv") == 0 || strcmp(name, "place") == 0 ||
	       strcmp(name, "slot") == 0 ||
	       (strcmp(prev, "sandbox") == 0 && strcmp(name, "ref") == 0);
}

/*
 * Builds the path of pattern with params from fx[k] for the k-th parameter (pick[k] selects
 * which fixture: lets a test mix "mine" and "theirs"); with fixed != NULL every row id is
 * that literal instead. Sets *ids to the number of row-id params. NULL (with *missing the
 * name) when a parameter has no fixture.
 */
static char *fill(const char *pattern, const struct fx *const *pick, const char *fixed, int *ids,
                  const char **missing)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "");
	char prev[64] = "";
	int k = 0;
	*ids = 0;
	*missing = NULL;
	const char *p = pattern;
	while (*p != '\0') {
		if (*p == '/') {
			buf_putc(&b, '/');
			p++;
			continue;
		}
		size_t n = strcspn(p, "/");
		if (*p == '{') {
			char name[32];
			snprintf(name, sizeof(name), "%.*s", (int)(n - 2), p + 1);
			char *v = NULL;
			if (is_row_id(prev, name)) {
				(*ids)++;
				v = fixed != NULL ? strdup(fixed)
				                  : param_value(prev, name, pick[k]);
			} else {
				v = param_value(prev, name, pick[k]);
			}
			k++;
			if (v == NULL) {
				*missing = pattern;
				buf_free(&b);
				return NULL;
			}
			buf_puts(&b, v);
			free(v);
		} else {
			buf_append(&b, p, n);
			snprintf(prev, sizeof(prev), "%.*s", (int)n, p);
		}
		p += n;
	}
	char *out = strdup(b.data);
	buf_free(&b);
	return out;
}

static int is_get(const struct http_route *r)
{
	return strcmp(r->method, "GET") == 0;
}

/* POSTs a form with csrf (NULL: no csrf field) and a few harmless fields most handlers read. */
static long post_with(struct h_client *c, const char *path, const char *csrf, struct h_resp *r)
{
	if (csrf == NULL)
		return h_post_form(c, path, r, "channel", "email", "name", "x", NULL);
	return h_post_form(c, path, r, "csrf", csrf, "channel", "email", "name", "x", NULL);
}

/* --- the table itself ----------------------------------------------------- */

Test(security, every_post_route_checks_csrf_and_every_staff_page_needs_staff)
{
	/* POSTs that cannot carry a form token: their own proof instead (a signature) */
	static const char *const exempt[] = {"/pay/webhook/stripe"};
	int posts = 0;
	for (int i = 0; i < http_nroutes; i++) {
		const struct http_route *r = &http_routes[i];
		if (strncmp(r->pattern, "/staff", 6) == 0 &&
		    strcmp(r->pattern, "/staff/login") != 0)
			cr_expect(r->flags & HTTP_STAFF, "%s %s lacks HTTP_STAFF", r->method,
			          r->pattern);
		cr_expect(!((r->flags & HTTP_STAFF) && (r->flags & HTTP_PATIENT)), "%s",
		          r->pattern);
		/* a bearer secret is the whole proof: never mixed with a session or a form */
		if (r->flags & (HTTP_APIKEY | HTTP_METRICS))
			cr_expect(!(r->flags & (HTTP_STAFF | HTTP_PATIENT | HTTP_CSRF)), "%s %s",
			          r->method, r->pattern);
		/* the operator's scrape only reads */
		if (r->flags & HTTP_METRICS)
			cr_expect(is_get(r), "%s %s", r->method, r->pattern);
		if (is_get(r))
			continue;
		int skip = 0;
		for (size_t k = 0; k < sizeof(exempt) / sizeof(exempt[0]); k++)
			skip |= strcmp(exempt[k], r->pattern) == 0;
		/* API routes carry a bearer key in each request, nothing ambient to forge */
		if (skip || (r->flags & HTTP_APIKEY))
			continue;
		posts++;
		cr_expect(r->flags & HTTP_CSRF, "%s %s lacks HTTP_CSRF", r->method, r->pattern);
	}
	cr_assert_gt(posts, 20);
}

/* --- another organisation -------------------------------------------------- */

Test(security, other_organisations_ids_are_404_on_every_staff_route)
{
	struct fx mine, theirs;
	seed(&mine, 0);
	seed(&theirs, 1);
	int64_t audits = count("SELECT COUNT(*) FROM audit_events");
	int64_t msgs = count("SELECT COUNT(*) FROM messages");
	struct h_client *c = staff_client(0);
	struct h_resp r;
	int swept = 0;
	for (int i = 0; i < http_nroutes; i++) {
		const struct http_route *rt = &http_routes[i];
		if (!(rt->flags & HTTP_STAFF))
			continue;
		/* every combination of mine/theirs with at least one of theirs */
		for (unsigned mask = 1; mask < 16; mask++) {
			const struct fx *pick[4];
			for (int k = 0; k < 4; k++)
				pick[k] = (mask >> k) & 1 ? &theirs : &mine;
			int ids = 0;
			const char *missing = NULL;
			char *path = fill(rt->pattern, pick, NULL, &ids, &missing);
			cr_assert_not_null(path, "no fixture for a parameter of %s (param_value)",
			                   missing);
			/* only row ids can belong to someone else; skip masks past the params */
			int nparams = 0;
			for (const char *q = rt->pattern; (q = strchr(q, '{')) != NULL; q++)
				nparams++;
			if (ids == 0 || mask >= (1u << nparams)) {
				free(path);
				if (ids == 0)
					break;
				continue;
			}
			long st = is_get(rt) ? h_get(c, path, &r)
			                     : post_with(c, path, h_client_csrf(c), &r);
			cr_expect_eq(st, 404, "%s %s: %ld", rt->method, path, st);
			cr_expect(!LEAKS(&r, &theirs), "%s %s shows %s", rt->method, path,
			          theirs.marker);
			h_resp_free(&r);
			swept++;
			free(path);
		}
	}
	cr_assert_gt(swept, 15);
	/* nothing written: no audit line, no message, their rows as they were */
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_events"), audits);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages"), msgs);
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations WHERE state = 'pending'"), 2);
	cr_assert_eq(count("SELECT COUNT(*) FROM resets WHERE used_at IS NULL AND revoked_at IS "
	                   "NULL"),
	             2);

	/* the control: the same routes with my own ids are found (the 404s above are not
	 * just bad paths) */
	for (int i = 0; i < http_nroutes; i++) {
		const struct http_route *rt = &http_routes[i];
		if (!(rt->flags & HTTP_STAFF) || !is_get(rt))
			continue;
		const struct fx *pick[4] = {&mine, &mine, &mine, &mine};
		int ids = 0;
		const char *missing = NULL;
		char *path = fill(rt->pattern, pick, NULL, &ids, &missing);
		if (ids > 0) {
			cr_expect_eq(h_get(c, path, &r), 200, "%s (own ids): %ld", path, r.status);
			cr_expect(!LEAKS(&r, &theirs), "%s", path);
			h_resp_free(&r);
		}
		free(path);
	}
}

Test(security, other_organisations_ids_in_forms_and_queries_are_refused)
{
	struct fx mine, theirs;
	seed(&mine, 0);
	seed(&theirs, 1);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	int64_t appts = count("SELECT COUNT(*) FROM appointments");
	int64_t svcs = count("SELECT COUNT(*) FROM services");
	char *day = NULL;
	{
		time_t t = (time_t)(now_utc() + 3 * DAY);
		struct tm tm;
		gmtime_r(&t, &tm);
		day = fmt("%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	}
	/* GET pages that take ids in the query */
	char *gets[] = {
	    fmt("/staff/appointments?place=%lld&day=%s", (long long)theirs.place, day),
	    fmt("/staff/appointments/new?patient=%lld&service=%lld&place=%lld&day=%s&time=09:00",
	        (long long)theirs.patient, (long long)theirs.svc, (long long)theirs.place, day),
	    fmt("/staff/patients?q=%s", "familysecret"),
	    fmt("/staff/patients?after=%lld", (long long)theirs.patient - 1),
	    fmt("/staff/messages?before=%lld", (long long)theirs.msg + 1),
	    fmt("/staff/patients/new?patient=%lld", (long long)theirs.patient),
	};
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		long st = h_get(c, gets[i], &r);
		cr_expect(st == 200 || st == 404 || st == 400, "%s: %ld", gets[i], st);
		cr_expect(!LEAKS(&r, &theirs), "%s shows %s", gets[i], theirs.marker);
		h_resp_free(&r);
		free(gets[i]);
	}
	/* forms that name a patient, a service, a place, a slot by id */
	char *pid = fmt("%lld", (long long)theirs.patient),
	     *sid = fmt("%lld", (long long)theirs.svc),
	     *plid = fmt("%lld", (long long)theirs.place),
	     *slid = fmt("%lld", (long long)theirs.slot);
	h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c), "patient", pid,
	            "service", sid, "place", plid, "date", day, "time", "09:00", "kind",
	            "in_person", "payment", "none", "amount", "0", "slot", slid, NULL);
	cr_expect(r.status != 303 && r.status < 500, "new appointment for their patient: %ld",
	          r.status);
	cr_expect(!LEAKS(&r, &theirs));
	h_resp_free(&r);
	h_post_form(c, "/staff/services/new", &r, "csrf", h_client_csrf(c), "org", plid, "name",
	            "Mine in their place", "duration", "30", "kind", "in_person", "payment", "none",
	            "price", "0", "online_booking", "1", "active", "1", NULL);
	cr_expect(r.status != 303 && r.status < 500, "service in their place: %ld", r.status);
	h_resp_free(&r);
	h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c), "action",
	            "export_csv", "ids", pid, NULL);
	cr_expect(!LEAKS(&r, &theirs), "CSV export of their patient: %s", r.body);
	h_resp_free(&r);
	h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	            "0123456789abcdef0123456789abcdef", "scope", "selected", "ids", pid, NULL);
	cr_expect(!LEAKS(&r, &theirs));
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM appointments"), appts);
	cr_assert_eq(count("SELECT COUNT(*) FROM services"), svcs);
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations"), 2);
	free(pid);
	free(sid);
	free(plid);
	free(slid);
	free(day);
}

Test(security, enumerating_ids_reveals_nothing)
{
	/* only the other organisation has rows; every id in the range is someone else's or
	 * nobody's, and the answers must not tell which */
	struct fx theirs, more;
	seed(&theirs, 1);
	seed(&more, 1);
	int64_t top = count("SELECT MAX(id) FROM messages") + 30;
	int64_t audits = count("SELECT COUNT(*) FROM audit_events");
	struct h_client *c = staff_client(0);
	struct h_resp r;
	int routes = 0;
	for (int i = 0; i < http_nroutes; i++) {
		const struct http_route *rt = &http_routes[i];
		if (!(rt->flags & HTTP_STAFF))
			continue;
		const struct fx *pick[4] = {&theirs, &theirs, &theirs, &theirs};
		int ids = 0;
		const char *missing = NULL;
		char *probe = fill(rt->pattern, pick, "99999999", &ids, &missing);
		cr_assert_not_null(probe, "no fixture for %s", missing);
		if (ids == 0) {
			free(probe);
			continue;
		}
		routes++;
		long st =
		    is_get(rt) ? h_get(c, probe, &r) : post_with(c, probe, h_client_csrf(c), &r);
		cr_assert_eq(st, 404, "%s %s: %ld", rt->method, probe, st);
		char *want = normalised(r.body, probe);
		h_resp_free(&r);
		free(probe);
		for (int64_t id = 1; id <= top; id++) {
			/* the harness gives org 0 a portal of its own: that one id is found, as it
			 * should be (its Settings form answers), every other one is not */
			if (strcmp(rt->pattern, "/staff/settings/portals/{id}") == 0 &&
			    id == H.org[0].portal_id)
				continue;
			char n[24];
			snprintf(n, sizeof(n), "%lld", (long long)id);
			char *path = fill(rt->pattern, pick, n, &ids, &missing);
			st = is_get(rt) ? h_get(c, path, &r)
			                : post_with(c, path, h_client_csrf(c), &r);
			cr_expect_eq(st, 404, "%s %s: %ld", rt->method, path, st);
			char *got = normalised(r.body, path);
			cr_expect_str_eq(got, want, "%s %s: another 404 body", rt->method, path);
			free(got);
			h_resp_free(&r);
			free(path);
		}
		free(want);
	}
	cr_assert_geq(routes, 12);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_events"), audits, "nothing was done");
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations WHERE state = 'pending'"), 2);
}

/* --- the wrong kind of session ---------------------------------------------- */

/* Asserts a refusal of a route that needs a session of another kind: 303 to login (prefix
 * login) or 404, never a page. */
static void expect_refused(const struct h_resp *r, const char *what, const char *path,
                           const char *login)
{
	if (r->status == 404)
		return;
	cr_expect_eq(r->status, 303, "%s %s: %ld", what, path, r->status);
	const char *loc = h_header(r, "Location");
	cr_expect(loc != NULL && strncmp(loc, login, strlen(login)) == 0, "%s %s: Location %s",
	          what, path, loc ? loc : "(none)");
}

/* Every route with `need` (HTTP_STAFF or HTTP_PATIENT) requested by c: refused. */
static int sweep_refused(struct h_client *c, unsigned need, const struct fx *f, const char *login)
{
	struct h_resp r;
	int n = 0;
	for (int i = 0; i < http_nroutes; i++) {
		const struct http_route *rt = &http_routes[i];
		if (!(rt->flags & need))
			continue;
		const struct fx *pick[4] = {f, f, f, f};
		int ids = 0;
		const char *missing = NULL;
		char *path = fill(rt->pattern, pick, NULL, &ids, &missing);
		cr_assert_not_null(path, "no fixture for %s", missing);
		if (is_get(rt))
			h_get(c, path, &r);
		else
			post_with(c, path, h_client_csrf(c), &r);
		expect_refused(&r, rt->method, path, login);
		cr_expect(!LEAKS(&r, f), "%s %s shows %s", rt->method, path, f->marker);
		h_resp_free(&r);
		free(path);
		n++;
	}
	return n;
}

Test(security, patient_session_is_refused_on_every_staff_route)
{
	struct fx f;
	seed(&f, 0);
	struct h_client *c = patient_client(f.holder, 0);
	int64_t audits = count("SELECT COUNT(*) FROM audit_events");
	cr_assert_gt(sweep_refused(c, HTTP_STAFF, &f, "/staff/login"), 30);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_events"), audits);
}

Test(security, staff_session_is_refused_on_every_patient_route)
{
	struct fx f;
	seed(&f, 0);
	struct h_client *c = staff_client(0);
	int64_t audits = count("SELECT COUNT(*) FROM audit_events");
	cr_assert_gt(sweep_refused(c, HTTP_PATIENT, &f, "/login"), 10);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_events"), audits);
	cr_assert_eq(count("SELECT COUNT(*) FROM consents WHERE withdrawn_at IS NOT NULL"), 0);
	cr_assert_eq(count("SELECT COUNT(*) FROM appointments WHERE status <> 'booked'"), 0);
}

Test(security, session_cookie_after_sign_out_is_refused_everywhere)
{
	struct fx f;
	seed(&f, 0);
	struct h_resp r;
	/* staff, through the real pages */
	struct h_client *s = client_en();
	cr_assert_eq(h_staff_login(s, H.org[0].staff_email, H_STAFF_PASSWORD), 303);
	char *sid = strdup(h_cookie(s, "sid"));
	cr_assert_eq(h_get(s, "/staff/patients", &r), 200);
	const char *t = h_csrf(&r);
	char *csrf = strdup(t ? t : "");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(s, "/staff/logout", &r, "csrf", csrf, NULL), 303);
	h_resp_free(&r);
	struct h_client *replay = client_en();
	h_set_cookie(replay, "sid", sid);
	cr_assert_gt(sweep_refused(replay, HTTP_STAFF, &f, "/staff/login"), 30);
	/* the old page token with the old cookie does not sign anything either */
	cr_assert_eq(h_post_form(replay, "/staff/patients/new", &r, "csrf", csrf, "given_name",
	                         "Zed", "family_name", "Replay", "lang", "en", NULL),
	             303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/login");
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM patients WHERE family_name = 'Replay'"), 0);
	free(sid);
	free(csrf);

	/* a patient, through the real pages */
	struct h_client *p = client_en();
	cr_assert_eq(h_get(p, "/login", &r), 200);
	t = h_csrf(&r);
	csrf = strdup(t ? t : "");
	h_resp_free(&r);
	char *login = strdup(f.login);
	cr_assert_eq(
	    h_post_form(p, "/login", &r, "csrf", csrf, "login", login, "password", PW, NULL), 303);
	h_resp_free(&r);
	free(csrf);
	sid = strdup(h_cookie(p, "sid"));
	cr_assert_eq(h_get(p, "/account", &r), 200);
	t = h_csrf(&r);
	csrf = strdup(t ? t : "");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(p, "/logout", &r, "csrf", csrf, NULL), 303);
	h_resp_free(&r);
	struct h_client *preplay = client_en();
	h_set_cookie(preplay, "sid", sid);
	cr_assert_gt(sweep_refused(preplay, HTTP_PATIENT, &f, "/login"), 10);
	cr_assert_eq(count("SELECT COUNT(*) FROM sessions"), 0, "both sessions are gone");
	free(sid);
	free(csrf);
	free(login);
}

/* --- links ------------------------------------------------------------------ */

static long post_reset(struct h_client *c, const char *token, const char *pw, struct h_resp *r)
{
	char *path = fmt("/r/%s", token);
	h_get(c, path, r);
	const char *t = h_csrf(r);
	char *csrf = strdup(t ? t : h_client_csrf(c));
	h_resp_free(r);
	long st = h_post_form(c, path, r, "csrf", csrf, "password", pw, "password2", pw, NULL);
	free(csrf);
	free(path);
	return st;
}

Test(security, reset_link_after_the_password_changed_is_refused)
{
	struct fx f;
	seed(&f, 0);
	char *hmail = strdup(f.login);
	char *staff_link = strdup(f.reset_token); /* sent by staff in seed() */
	/* then the patient asks for one too (which replaces the staff one) */
	struct store_conn *db = h_db();
	cr_assert_eq(account_forgot(db, &H.cfg, 0, hmail, "127.0.0.1", now_utc()), 0);
	store_release(db);
	char *own = newest_token("/r/", hmail);
	cr_assert_not_null(own);
	cr_assert_str_neq(own, staff_link);
	struct h_client *c = client_en();
	struct h_resp r;
	cr_assert_eq(post_reset(c, own, "a brand new password 42", &r), 303, "%s", r.body);
	h_resp_free(&r);
	char *hash = NULL;
	{
		struct store_conn *d = h_db();
		struct arena *a = arena_create();
		struct account acc;
		cr_assert_eq(account_by_patient(d, f.holder, &acc, a), 0);
		hash = strdup(acc.pw_hash);
		arena_free(a);
		store_release(d);
	}
	/* both links, each exactly and with one character changed, GET and POST */
	const char *links[] = {staff_link, own};
	for (size_t i = 0; i < 2; i++) {
		char *tok = strdup(links[i]);
		for (int variant = 0; variant < 2; variant++) {
			if (variant == 1)
				tok[3] = tok[3] == 'A' ? 'B' : 'A';
			char *path = fmt("/r/%s", tok);
			long st = h_get(c, path, &r);
			cr_expect(st == 404 || st == 410 || st == 403, "GET %s: %ld", path, st);
			cr_expect(!has(&r, "name=\"password2\""), "no password form on %s", path);
			h_resp_free(&r);
			st = post_reset(c, tok, "an attacker's password 1", &r);
			cr_expect(st != 303 && st != 200, "POST %s: %ld", path, st);
			cr_expect_null(h_cookie(c, "sid") ? NULL : NULL);
			h_resp_free(&r);
			free(path);
		}
		free(tok);
	}
	struct store_conn *d = h_db();
	struct arena *a = arena_create();
	struct account acc;
	cr_assert_eq(account_by_patient(d, f.holder, &acc, a), 0);
	cr_assert_str_eq(acc.pw_hash, hash, "the password is the one the patient chose");
	arena_free(a);
	store_release(d);
	free(hash);
	free(hmail);
	free(own);
	free(staff_link);
}

Test(security, invitation_token_with_any_character_changed_is_unknown)
{
	struct fx f;
	seed(&f, 0);
	struct h_client *c = client_en();
	struct h_resp r;
	char *unknown = NULL;
	h_get(c, "/i/AAAAAAAAAAAAAAAAAAAAAA", &r);
	cr_assert_eq(r.status, 404);
	cr_assert(has(&r, "This link does not work"));
	unknown = normalised(r.body, "/i/AAAAAAAAAAAAAAAAAAAAAA");
	h_resp_free(&r);
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int64_t msgs = count("SELECT COUNT(*) FROM messages");
	size_t len = strlen(f.invite_token);
	cr_assert_eq(len, INVITE_TOKEN_CHARS);
	int tried = 0;
	for (size_t i = 0; i < len; i++) {
		char *tok = strdup(f.invite_token);
		/* the next character of the alphabet: always a different, valid character */
		const char *at = strchr(alphabet, tok[i]);
		cr_assert_not_null(at);
		tok[i] = alphabet[((size_t)(at - alphabet) + 1) % 64];
		char *path = fmt("/i/%s", tok);
		cr_expect_eq(h_get(c, path, &r), 404, "%s", path);
		char *got = normalised(r.body, path);
		cr_expect_str_eq(got, unknown, "%s: not the unknown-link page", path);
		free(got);
		const char *t = h_csrf(&r);
		char *csrf = strdup(t ? t : "");
		h_resp_free(&r);
		long st = h_post_form(c, path, &r, "csrf", csrf, "family_name", "FamilySecret0",
		                      "password", PW, "password2", PW, "consent", "1", NULL);
		cr_expect_eq(st, 404, "POST %s: %ld", path, st);
		h_resp_free(&r);
		char *resend = fmt("%s/resend", path);
		h_post_form(c, resend, &r, "csrf", csrf, NULL);
		h_resp_free(&r);
		free(resend);
		free(csrf);
		free(path);
		free(tok);
		tried++;
	}
	/* shorter, longer, other case */
	char *shorter = fmt("/i/%.*s", (int)len - 1, f.invite_token);
	char *longer = fmt("/i/%sA", f.invite_token);
	char *upper = strdup(f.invite_token);
	for (char *p = upper; *p; p++)
		*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	char *uppath = fmt("/i/%s", upper);
	const char *odd[] = {shorter, longer, uppath};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(odd[i] + 3, f.invite_token) == 0)
			continue; /* a token with no lower-case letter */
		cr_expect_eq(h_get(c, odd[i], &r), 404, "%s", odd[i]);
		cr_expect(has(&r, "This link does not work"), "%s", odd[i]);
		h_resp_free(&r);
	}
	cr_assert_eq(tried, INVITE_TOKEN_CHARS);
	cr_assert_eq(count("SELECT COUNT(*) FROM messages"), msgs, "no link sent for a guess");
	cr_assert_eq(count("SELECT COUNT(*) FROM accounts"), 1, "only the seeded one");
	cr_assert_eq(count("SELECT COUNT(*) FROM invitations WHERE failed_attempts > 0"), 0);
	/* and the real link still works */
	char *real = fmt("/i/%s", f.invite_token);
	cr_assert_eq(h_get(c, real, &r), 200);
	h_resp_free(&r);
	free(real);
	free(shorter);
	free(longer);
	free(upper);
	free(uppath);
	free(unknown);
}

/* --- CSRF and origin ----------------------------------------------------------- */

Test(security, every_post_without_or_with_a_stale_csrf_token_or_cross_origin_is_403)
{
	struct fx f;
	seed(&f, 0);
	/* stale tokens: what an earlier session of the same person carried */
	struct h_client *old_staff = staff_client(0);
	char *stale_staff = strdup(h_client_csrf(old_staff));
	struct h_client *old_patient = patient_client(f.holder, 0);
	char *stale_patient = strdup(h_client_csrf(old_patient));
	struct h_client *old_anon = client_en();
	char *stale_anon = strdup(h_client_csrf(old_anon));

	struct h_client *staff = staff_client(0), *patient = patient_client(f.holder, 0),
	                *anon = client_en();
	cr_assert_str_neq(h_client_csrf(staff), stale_staff);
	cr_assert_str_neq(h_client_csrf(patient), stale_patient);
	cr_assert_str_neq(h_client_csrf(anon), stale_anon);
	int64_t audits = count("SELECT COUNT(*) FROM audit_events");
	int64_t msgs = count("SELECT COUNT(*) FROM messages");
	struct h_resp r;
	int swept = 0;
	static const char *const evil[] = {"Origin: https://evil.example", NULL};
	for (int i = 0; i < http_nroutes; i++) {
		const struct http_route *rt = &http_routes[i];
		if (is_get(rt) || !(rt->flags & HTTP_CSRF))
			continue;
		struct h_client *c = (rt->flags & HTTP_STAFF)     ? staff
		                     : (rt->flags & HTTP_PATIENT) ? patient
		                                                  : anon;
		const char *stale = (rt->flags & HTTP_STAFF)     ? stale_staff
		                    : (rt->flags & HTTP_PATIENT) ? stale_patient
		                                                 : stale_anon;
		const struct fx *pick[4] = {&f, &f, &f, &f};
		int ids = 0;
		const char *missing = NULL;
		char *path = fill(rt->pattern, pick, NULL, &ids, &missing);
		cr_assert_not_null(path, "no fixture for %s", missing);
		cr_expect_eq(post_with(c, path, NULL, &r), 403, "no token: POST %s", path);
		h_resp_free(&r);
		cr_expect_eq(post_with(c, path, "", &r), 403, "empty token: POST %s", path);
		h_resp_free(&r);
		cr_expect_eq(post_with(c, path, stale, &r), 403, "stale token: POST %s", path);
		h_resp_free(&r);
		/* the right token from another site (a form that read it some other way) */
		char *body = fmt("csrf=%s&channel=email&name=x", h_client_csrf(c));
		h_request(c, "POST", path, "application/x-www-form-urlencoded", body, strlen(body),
		          evil, &r);
		cr_expect_eq(r.status, 403, "Origin evil: POST %s", path);
		h_resp_free(&r);
		/* multipart carries the same check */
		h_post_multipart(c, path, &r, "csrf", stale, "name", "x", NULL);
		cr_expect_eq(r.status, 403, "multipart, stale token: POST %s", path);
		h_resp_free(&r);
		free(body);
		free(path);
		swept++;
	}
	cr_assert_gt(swept, 30);
	cr_assert_eq(count("SELECT COUNT(*) FROM audit_events"), audits, "nothing was done");
	cr_assert_eq(count("SELECT COUNT(*) FROM messages"), msgs, "nothing was sent");
	cr_assert_eq(count("SELECT COUNT(*) FROM sessions"), 4, "nobody signed out or in");
	/* the control: the current token from our own origin gets through */
	struct h_resp ok;
	cr_assert_eq(h_post_form(staff, "/staff/patients/new", &ok, "csrf", h_client_csrf(staff),
	                         "given_name", "Ok", "family_name", "Control", "lang", "en", NULL),
	             303);
	h_resp_free(&ok);
	free(stale_staff);
	free(stale_patient);
	free(stale_anon);
}

/* --- Host header poisoning ---------------------------------------------------- */

/* Every http(s) URL in every queued message starts with the configured base URL; no message
 * names evil.example. Returns how many links were seen. */
static int links_are_ours(void)
{
	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int n = 0, links = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &n, a), 0);
	for (int i = 0; i < n; i++) {
		const char *b = rows[i].body ? rows[i].body : "";
		cr_expect_null(strstr(b, "evil"), "message %lld: %s", (long long)rows[i].id, b);
		cr_expect(rows[i].subject == NULL || strstr(rows[i].subject, "evil") == NULL);
		for (const char *p = b; (p = strstr(p, "http")) != NULL; p++) {
			if (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0)
				continue;
			cr_expect(strncmp(p, H.base, strlen(H.base)) == 0 &&
			              (p[strlen(H.base)] == '/' || p[strlen(H.base)] == '\0'),
			          "message %lld links %.60s", (long long)rows[i].id, p);
			links++;
		}
	}
	arena_free(a);
	store_release(db);
	return links;
}

/*
 * POSTs body to path with the Host and forwarding headers of an attacker, as the client
 * whose cookie is given ("Cookie: sid=..." or "Cookie: csrf=..."). A fresh client each time:
 * curl matches cookies against a custom Host, so the cookie goes in by hand.
 */
static long poisoned_post(const char *path, const char *cookie, const char *body)
{
	const char *headers[] = {"Host: evil.example",
	                         "X-Forwarded-Host: evil.example",
	                         "X-Forwarded-Proto: https",
	                         "Forwarded: host=evil.example;proto=https",
	                         "X-Original-URL: http://evil.example/",
	                         cookie,
	                         NULL};
	struct h_client *c = client_en();
	struct h_resp r;
	long st = h_request(c, "POST", path, "application/x-www-form-urlencoded", body,
	                    strlen(body), headers, &r);
	h_resp_free(&r);
	return st;
}

Test(security, host_header_never_builds_a_link)
{
	struct fx f;
	seed(&f, 0);
	int64_t fresh = add_patient(0, "Ugo", "Nuovo", "+393334445566", "ugo@example.test");
	int64_t other = add_patient(0, "Vera", "Altra", "+393334445577", "vera@example.test");
	add_patient(0, "Wanda", "Iscritta", "+393334445588", "wanda@example.test");
	int64_t msgs0 = count("SELECT COUNT(*) FROM messages");
	struct h_client *s = staff_client(0);
	char *sc = fmt("Cookie: sid=%s; lang=en", h_cookie(s, "sid"));
	char *st = strdup(h_client_csrf(s));
	struct h_client *a = client_en();
	char *at = strdup(h_client_csrf(a));
	char *ac = fmt("Cookie: csrf=%s; lang=en", h_cookie(a, "csrf"));
	struct h_client *p = patient_client(f.holder, 0);
	char *pc = fmt("Cookie: sid=%s; lang=en", h_cookie(p, "sid"));
	char *pt = strdup(h_client_csrf(p));
	/* the seeded link, locked, for "send me a new link" */
	EXEC("UPDATE invitations SET state = 'locked', locked_at = ?, created_at = created_at - "
	     "1000 "
	     "WHERE id = ?",
	     "ii", now_utc(), f.inv);
	struct {
		char *path;
		const char *cookie;
		char *body;
	} steps[] = {
	    {fmt("/staff/patients/%lld/invite", (long long)fresh), sc,
	     fmt("csrf=%s&channel=email", st)},
	    {strdup("/staff/patients/invite"), sc,
	     fmt("csrf=%s&channel=email&batch=0123456789abcdef0123456789abcdef&scope=selected&"
	         "ids=%lld",
	         st, (long long)other)},
	    {fmt("/staff/patients/%lld/reset", (long long)f.holder), sc,
	     fmt("csrf=%s&channel=email", st)},
	    {strdup("/signup"), ac,
	     fmt("csrf=%s&given_name=Wanda&family_name=Iscritta&birth_date=01%%2F01%%2F1980&"
	         "email=wanda%%40example.test&"
	         "consent=1",
	         at)},
	    {fmt("/i/%s/resend", f.invite_token), ac, fmt("csrf=%s", at)},
	    {strdup("/account/contact"), pc,
	     fmt("csrf=%s&email=new0%%40example.test&mobile=%%2B393332220000", pt)},
	    {strdup("/forgot"), ac, fmt("csrf=%s&login=%s", at, f.login)},
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int64_t before = count("SELECT COUNT(*) FROM messages");
		EXEC("DELETE FROM resets WHERE used_at IS NULL", ""); /* the hourly cap */
		long code = poisoned_post(steps[i].path, steps[i].cookie, steps[i].body);
		cr_expect(code == 200 || code == 303, "%s: %ld", steps[i].path, code);
		cr_expect_gt(count("SELECT COUNT(*) FROM messages"), before, "%s queued no message",
		             steps[i].path);
		free(steps[i].path);
		free(steps[i].body);
	}
	cr_assert_geq(count("SELECT COUNT(*) FROM messages") - msgs0, 7);
	cr_assert_geq(links_are_ours(), 7);
	/* nor does the page that shows the links (the dev outbox) */
	static const char *const poison[] = {"Host: evil.example", "X-Forwarded-Host: evil.example",
	                                     NULL};
	struct h_client *d = client_en();
	struct h_resp r;
	h_request(d, "GET", "/dev/outbox", NULL, NULL, 0, poison, &r);
	cr_assert_eq(r.status, 200);
	cr_assert(!has(&r, "evil.example"));
	h_resp_free(&r);
	free(sc);
	free(st);
	free(at);
	free(ac);
	free(pc);
	free(pt);
}

/* --- CR/LF in names --------------------------------------------------------------- */

#define CRLF_NAME "x\r\nSet-Cookie: a=b"

static void headers_are_clean(const struct h_resp *r, const char *what)
{
	cr_expect_eq(h_header_count(r, "Set-Cookie"), 0, "%s: a Set-Cookie", what);
	cr_expect(r->headers == NULL || strstr(r->headers, "a=b") == NULL, "%s: %s", what,
	          r->headers);
	cr_expect(r->headers == NULL || strstr(r->headers, "\nx\r") == NULL, "%s", what);
}

/* Every line of the header block of an e-mail: no injected header. */
static void mime_is_clean(const char *msg, const char *what)
{
	const char *end = strstr(msg, "\r\n\r\n");
	cr_assert_not_null(end, "%s: no header block", what);
	for (const char *line = msg; line < end;) {
		const char *eol = strstr(line, "\r\n");
		cr_expect(strncasecmp(line, "Set-Cookie", 10) != 0, "%s: %.80s", what, line);
		cr_expect(strncasecmp(line, "Bcc", 3) != 0, "%s: %.80s", what, line);
		cr_expect(strncasecmp(line, "Cc", 2) != 0, "%s: %.80s", what, line);
		/* a line is a header or a folded continuation (starts with a space or tab) */
		cr_expect(line[0] == ' ' || line[0] == '\t' ||
		              memchr(line, ':', (size_t)(eol - line)),
		          "%s: a stray line %.80s", what, line);
		for (const char *q = line; q < eol; q++)
			cr_expect(*q != '\r' && *q != '\n', "%s: a bare CR or LF", what);
		line = eol + 2;
	}
}

Test(security, cr_lf_in_names_never_reaches_a_header)
{
	struct h_client *s = staff_client(0);
	struct h_resp r;
	/* 1. through the staff forms: new and edit */
	h_post_form(s, "/staff/patients/new", &r, "csrf", h_client_csrf(s), "given_name", CRLF_NAME,
	            "family_name", CRLF_NAME, "mobile", "+393330001111", "lang", "en", NULL);
	headers_are_clean(&r, "new patient");
	cr_assert(r.status == 303 || r.status == 200, "%ld", r.status);
	h_resp_free(&r);
	int64_t edited = add_patient(0, "Plain", "Name", "+393330001112", NULL);
	char *edit = fmt("/staff/patients/%lld/edit", (long long)edited);
	h_post_form(s, edit, &r, "csrf", h_client_csrf(s), "given_name", CRLF_NAME, "family_name",
	            CRLF_NAME, "mobile", "+393330001112", "email",
	            "x@example.test\r\nBcc: e@evil.example", "lang", "en", NULL);
	headers_are_clean(&r, "edit");
	h_resp_free(&r);
	/* 2. through the CSV import */
	char path[] = "/tmp/invito-sec-csv-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *csv = fdopen(fd, "w");
	fputs("given_name,family_name,birth_date,mobile,email,lang,external_ref\r\n"
	      "\"x\r\nSet-Cookie: a=b\",\"Imported\r\nSet-Cookie: a=b\",1980-01-01,+393330001113,,"
	      "en,\"ref\r\nX-Evil: 1\"\r\n",
	      csv);
	fclose(csv);
	struct import_report rep;
	memset(&rep, 0, sizeof(rep));
	FILE *errs = fopen("/dev/null", "w");
	import_patients_csv(H.store, H.org[0].org_id, path, &rep, errs);
	fclose(errs);
	unlink(path);
	/* 3. straight into the store, as a future import path might (no validation at all) */
	int64_t raw = add_patient(0, CRLF_NAME, CRLF_NAME, "+393330001114", NULL);
	EXEC("UPDATE organisations SET name = ?, sender_name = ? WHERE id = ?", "tti",
	     "Clinic\r\nSet-Cookie: a=b", "Clinic\r\nBcc: e@evil.example", H.org[0].org_id);

	/* every page and export that shows these patients */
	int64_t ids[8];
	int n = 0;
	{
		struct store_conn *db = h_db();
		struct store_stmt *st = NULL;
		cr_assert_eq(store_query(db, &st,
		                         "SELECT id FROM patients WHERE org_id = ? ORDER BY id",
		                         "i", H.org[0].org_id),
		             0);
		while (n < 8 && store_step(st) == 1)
			ids[n++] = store_col_int(st, 0);
		store_done(st);
		store_release(db);
	}
	cr_assert_geq(n, 2);
	struct buf form;
	buf_init(&form, 0);
	buf_printf(&form, "csrf=%s&action=export_csv", h_client_csrf(s));
	for (int i = 0; i < n; i++) {
		buf_printf(&form, "&ids=%lld", (long long)ids[i]);
		char *pp = fmt("/staff/patients/%lld", (long long)ids[i]);
		h_get(s, pp, &r);
		headers_are_clean(&r, pp);
		h_resp_free(&r);
		free(pp);
	}
	h_post(s, "/staff/patients/actions", form.data, &r);
	cr_assert_eq(r.status, 200, "export: %ld", r.status);
	cr_assert_not_null(strstr(h_header(&r, "Content-Type"), "text/csv"));
	headers_are_clean(&r, "CSV export");
	const char *cd = h_header(&r, "Content-Disposition");
	cr_assert_not_null(cd);
	cr_assert_null(strchr(cd, '\r'));
	h_resp_free(&r);
	buf_free(&form);
	h_get(s, "/staff/patients?q=x", &r);
	headers_are_clean(&r, "list");
	h_resp_free(&r);

	/* e-mail headers: invite the raw patient by e-mail and build the message */
	EXEC("UPDATE patients SET email = 'raw@example.test' WHERE id = ?", "i", raw);
	struct store_conn *db = h_db();
	struct invite_request ir = {
	    .org_id = H.org[0].org_id, .patient_id = raw, .channel = "email", .ignore_recent = 1};
	int64_t inv = 0;
	cr_assert_eq(invite_send(db, &H.cfg, &ir, now_utc(), &inv), 0);
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int nr = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &nr, a), 0);
	store_release(db);
	int built = 0;
	for (int i = 0; i < nr; i++) {
		if (rows[i].channel == NULL || strcmp(rows[i].channel, "email") != 0)
			continue;
		/* the subject as rendered, and the worst the other values could be */
		const char *subjects[] = {rows[i].subject ? rows[i].subject : "", CRLF_NAME};
		for (int k = 0; k < 2; k++) {
			struct comms_msg m = {.id = rows[i].id,
			                      .created_at = now_utc(),
			                      .kind = "invitation",
			                      .channel = "email",
			                      .recipient =
			                          k ? "raw@example.test\r\nBcc: e@evil.example"
			                            : rows[i].recipient,
			                      .subject = subjects[k],
			                      .body = rows[i].body,
			                      .sender_name = "Clinic\r\nBcc: e@evil.example"};
			struct buf out;
			buf_init(&out, 1 << 20);
			cr_assert_eq(comms_mime_build(&out, &m, "noreply@clinic.test",
			                              "<id@clinic.test>", now_utc()),
			             0);
			mime_is_clean(out.data, "mime");
			buf_free(&out);
			built++;
		}
	}
	arena_free(a);
	cr_assert_geq(built, 2);
	free(edit);
}

/* --- stored and reflected HTML ---------------------------------------------------- */

/* Puts an XSS payload into every text column the pages show, for both organisations'
 * fixtures (org 0 is the one looked at). */
static void poison_store(const struct fx *f)
{
	static const char *const stmts[] = {
	    "UPDATE patients SET given_name = 'G" XSS1 "', family_name = 'F" XSS2
	    "', external_ref = 'R' || id || '" XSS1 "', email = 'e" XSS2
	    "@x.test' WHERE org_id = ?",
	    "UPDATE organisations SET name = 'O" XSS1 "', address = 'A" XSS2 "', phone = 'P" XSS1
	    "', email = 'M" XSS2 "', sender_name = 'S" XSS1 "', appendix_text = 'X" XSS2
	    "' WHERE id = ?",
	    "UPDATE services SET name = 'V" XSS1 "' WHERE org_id = ?",
	    "UPDATE templates SET body = 'T" XSS2 "', subject = 'U" XSS1 "' WHERE org_id = ?",
	    "UPDATE messages SET subject = 'J" XSS1 "', recipient = 'K" XSS2
	    "', last_error = 'L" XSS1 "', body = 'B" XSS2 "' WHERE org_id = ?",
	    "UPDATE staff_users SET name = 'N" XSS1 "' WHERE org_id = ?",
	    "UPDATE invitations SET target = '/" XSS2 "' WHERE org_id = ?",
	    "UPDATE appointments SET video_url = 'https://v.test/" XSS2 "', external_ref = 'E" XSS1
	    "' WHERE org_id = ?",
	};
	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		EXEC(stmts[i], "i", H.org[f->org].org_id);
	EXEC("UPDATE portals SET name = 'Q" XSS1 "', policy_text = 'Y" XSS2
	     "', policy_version = 'W" XSS1 "' WHERE id = ?",
	     "i", H.org[f->org].portal_id);
	EXEC("UPDATE consents SET kind = 'k" XSS2 "', version = 'v" XSS1 "' WHERE id = ?", "i",
	     f->consent);
	EXEC("UPDATE accounts SET login = 'l" XSS1 "' WHERE id = ?", "i", f->account);
}

/* Query parameters any page reads; each one carries a payload in the sweep. */
static const char *const reflected[] = {
    "q",    "status", "after",   "before", "service",   "day",    "place", "patient", "slot",
    "time", "from",   "to",      "for",    "next",      "state",  "saved", "done",    "result",
    "show", "sent",   "created", "booked", "withdrawn", "payreq", "page",  "error",
};

static int shown; /* responses where a payload was seen, escaped */

static void expect_escaped(const struct h_resp *r, const char *what)
{
	shown += has(r, "&lt;script&gt;alert(1)&lt;/script&gt;") || has(r, "&lt;img src=x");
	const char *payloads[] = {XSS1, XSS2, "<img src=x", "<script>"};
	for (size_t k = 0; k < sizeof(payloads) / sizeof(payloads[0]); k++) {
		const char *at = r->body ? strstr(r->body, payloads[k]) : NULL;
		cr_expect_null(at, "%s: raw %s in ...%.60s", what, payloads[k],
		               at ? (at - r->body > 40 ? at - 40 : r->body) : "");
	}
	cr_expect_lt(r->status, 500, "%s: %ld", what, r->status);
}

Test(security, html_in_every_stored_field_and_query_is_escaped_on_every_page)
{
	struct fx f;
	seed(&f, 0);
	poison_store(&f);
	struct h_client *staff = staff_client(0), *patient = patient_client(f.holder, 0),
	                *anon = client_en();
	struct h_resp r;
	struct buf q;
	buf_init(&q, 0);
	buf_puts(&q, "?");
	for (size_t i = 0; i < sizeof(reflected) / sizeof(reflected[0]); i++) {
		if (i > 0)
			buf_putc(&q, '&');
		buf_printf(&q, "%s=", reflected[i]);
		buf_urlenc(&q, i % 2 ? XSS1 : XSS2);
	}
	int pages = 0;
	for (int i = 0; i < http_nroutes; i++) {
		const struct http_route *rt = &http_routes[i];
		if (!is_get(rt) || strcmp(rt->pattern, "/static/{file}") == 0)
			continue;
		struct h_client *c = (rt->flags & HTTP_STAFF)     ? staff
		                     : (rt->flags & HTTP_PATIENT) ? patient
		                                                  : anon;
		const struct fx *pick[4] = {&f, &f, &f, &f};
		int ids = 0;
		const char *missing = NULL;
		char *path = fill(rt->pattern, pick, NULL, &ids, &missing);
		cr_assert_not_null(path, "no fixture for %s", missing);
		h_get(c, path, &r);
		expect_escaped(&r, path);
		h_resp_free(&r);
		/* the same with every query parameter carrying a payload */
		char *with_q = fmt("%s%s", path, q.data);
		h_get(c, with_q, &r);
		expect_escaped(&r, with_q);
		h_resp_free(&r);
		/* one parameter at a time too: a page may ignore everything once one is bad */
		for (size_t k = 0; k < sizeof(reflected) / sizeof(reflected[0]); k++) {
			struct buf one;
			buf_init(&one, 0);
			buf_printf(&one, "%s?%s=", path, reflected[k]);
			buf_urlenc(&one, k % 2 ? XSS2 : XSS1);
			h_get(c, one.data, &r);
			expect_escaped(&r, one.data);
			h_resp_free(&r);
			buf_free(&one);
		}
		free(with_q);
		free(path);
		pages++;
	}
	cr_assert_gt(pages, 25);
	/* the payloads were on the pages (escaped), or the sweep proves nothing */
	cr_assert_gt(shown, 100, "payloads shown escaped %d times", shown);
	/* the patient's own pages with a staff-side profile in between, and pages that echo
	 * a form back (errors keep the typed values) */
	static const struct {
		const char *path;
		int who; /* 0 staff, 1 patient, 2 signed out */
	} forms[] = {
	    {"/staff/patients/new", 0},
	    {"/staff/services/new", 0},
	    {"/staff/appointments/new", 0},
	    {"/login", 2},
	    {"/forgot", 2},
	    {"/signup", 2},
	    {"/account/contact", 1},
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct h_client *c = forms[i].who == 0 ? staff : forms[i].who == 1 ? patient : anon;
		h_post_form(c, forms[i].path, &r, "csrf", h_client_csrf(c), "given_name", XSS1,
		            "family_name", XSS2, "email", XSS2, "mobile", XSS1, "login", XSS1,
		            "name", XSS2, "birth_date", XSS1, "external_ref", XSS2, "duration",
		            XSS1, "date", XSS2, "time", XSS1, "patient", XSS2, "q", XSS1, "next",
		            XSS2, NULL);
		expect_escaped(&r, forms[i].path);
		h_resp_free(&r);
	}
	char *edit = fmt("/staff/patients/%lld/edit", (long long)f.patient);
	h_post_form(staff, edit, &r, "csrf", h_client_csrf(staff), "given_name", XSS1,
	            "family_name", XSS2, "email", XSS2, "mobile", XSS1, "lang", "en", NULL);
	expect_escaped(&r, edit);
	h_resp_free(&r);
	char *tpl = "/staff/templates/invitation/sms/en";
	h_post_form(staff, tpl, &r, "csrf", h_client_csrf(staff), "body", XSS1 "{{" XSS2 "}}",
	            "subject", XSS2, NULL);
	expect_escaped(&r, tpl);
	h_resp_free(&r);
	h_post_form(staff, "/staff/templates/invitation/sms/en/preview", &r, "csrf",
	            h_client_csrf(staff), "body", XSS1 " {{TRD92}}", "patient", "1", NULL);
	expect_escaped(&r, "template preview");
	h_resp_free(&r);
	h_post_form(staff, "/staff/templates/appendix", &r, "csrf", h_client_csrf(staff), "text",
	            XSS2 "{{" XSS1, NULL);
	expect_escaped(&r, "appendix");
	h_resp_free(&r);
	buf_free(&q);
	free(edit);
}
