/*
 * HTTP tests of the admins' Settings page (src/staff/settings.c) and of each
 * setting taking effect where it is used: the shortest patient password on
 * the invitation landing page and the reset page (message and hint naming the
 * number, in English and Italian; the default still 10 elsewhere), the
 * invitation lifetime and wrong-name limit, the colour in the portal's CSS,
 * the logo served from the portal, a changed privacy policy as a new version
 * that the next acceptance records, the portal address in new links, and the
 * SMS sender name in what the sms-http transport sends to the gateway.
 * Refused: bad values (each message next to its field, the values as typed,
 * nothing changed, no audit event), non-admin staff (403, no link), a missing
 * CSRF token (403), another organisation's portal (404).
 */
#include "harness.h"

#include "comms/dispatch.h"
#include "comms/outbox.h"
#include "invite/account.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(staff_settings, .init = h_start, .fini = h_stop);

#define STRONG12 "grappa trams"         /* 12 characters that zxcvbn lets through */
#define STRONG20 "grappa trams violino" /* 20 */
#define DAY      86400

/* --- helpers ------------------------------------------------------------------------------ */

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static int64_t count(const char *sql, int64_t a)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int rc =
	    strchr(sql, '?') ? store_scalar(db, &n, sql, "i", a) : store_scalar(db, &n, sql, "");
	store_release(db);
	cr_assert_eq(rc, 0, "%s: %s", sql, store_strerror(rc));
	return n;
}

/* The text of the first column of the first row (malloc'd; "" for NULL). */
static char *text(const char *sql, int64_t a)
{
	struct store_conn *db = h_db();
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(db, &s, sql, "i", a), 0, "%s", sql);
	cr_assert_eq(store_step(s), 1, "%s: no row", sql);
	const char *t = store_col_text(s, 0);
	char *out = strdup(t != NULL ? t : "");
	store_done(s);
	store_release(db);
	return out;
}

static int64_t audits(const char *action)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	cr_assert_eq(
	    store_scalar(db, &n, "SELECT COUNT(*) FROM audit_events WHERE action = ?", "t", action),
	    0);
	store_release(db);
	return n;
}

/* The newest audit event's detail for action (malloc'd). */
static char *audit_detail(const char *action)
{
	struct store_conn *db = h_db();
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(db, &s,
	                         "SELECT detail, actor_kind, actor_id, org_id FROM audit_events "
	                         "WHERE action = ? ORDER BY id DESC LIMIT 1",
	                         "t", action),
	             0);
	cr_assert_eq(store_step(s), 1, "an audit event %s", action);
	cr_assert_str_eq(store_col_text(s, 1), "staff");
	cr_assert_eq(store_col_int(s, 2), H.org[0].staff_id);
	cr_assert_eq(store_col_int(s, 3), H.org[0].org_id);
	char *out = strdup(store_col_text(s, 0) ? store_col_text(s, 0) : "");
	store_done(s);
	store_release(db);
	return out;
}

/* Staff of org 0 (an admin), pages in English. */
static struct h_client *admin(void)
{
	struct h_client *c = h_client();
	h_staff_signin(c, 0);
	h_set_cookie(c, "lang", "en");
	return c;
}

static int64_t add_patient(int org, const char *family, const char *mobile, const char *email)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[org].org_id;
	p.given_name = "Anna";
	p.family_name = (char *)family;
	p.birth_date = "1980-05-05";
	p.mobile = (char *)mobile;
	p.email = (char *)email;
	p.lang = "en";
	int rc = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(rc, 0, "store_patient_add: %s", store_strerror(rc));
	return p.id;
}

/* The token of the newest link base + kind in the outbox (malloc'd). */
static char *newest_token(const char *base, const char *kind)
{
	struct store_conn *db = h_db();
	struct arena *a = arena_create();
	struct comms_outbox_row *rows = NULL;
	int n = 0;
	cr_assert_eq(comms_outbox_list(db, 1000, &rows, &n, a), 0);
	char needle[160];
	snprintf(needle, sizeof(needle), "%s%s", base, kind);
	char *tok = NULL;
	for (int i = 0; i < n && tok == NULL; i++) {
		const char *p = rows[i].body ? strstr(rows[i].body, needle) : NULL;
		if (p != NULL)
			tok = strndup(p + strlen(needle), INVITE_TOKEN_CHARS);
	}
	arena_free(a);
	store_release(db);
	cr_assert_not_null(tok, "a link %s%s in the outbox", base, kind);
	return tok;
}

/* Invites a patient of org; *inv (may be NULL) gets the invitation id. The token (malloc'd). */
static char *invite(int org, int64_t patient, const char *base, int64_t *inv)
{
	struct store_conn *db = h_db();
	struct invite_request q = {.org_id = H.org[org].org_id,
	                           .patient_id = patient,
	                           .staff_id = H.org[org].staff_id,
	                           .ignore_recent = 1};
	int64_t id = 0;
	int rc = invite_send(db, &H.cfg, &q, now_utc(), &id);
	store_release(db);
	cr_assert_eq(rc, 0, "invite_send: %s", invite_strerror(rc));
	if (inv != NULL)
		*inv = id;
	return newest_token(base, "/i/");
}

/* GETs path (a landing or reset page) and POSTs the form there with its CSRF token. */
static long post_page(struct h_client *c, const char *path, struct h_resp *r, const char *family,
                      const char *pw)
{
	h_get(c, path, r);
	char *csrf = strdup(h_csrf(r) ? h_csrf(r) : "none");
	h_resp_free(r);
	long st =
	    family != NULL
	        ? h_post_form(c, path, r, "csrf", csrf, "family_name", family, "password", pw,
	                      "password2", pw, "consent", "1", NULL)
	        : h_post_form(c, path, r, "csrf", csrf, "password", pw, "password2", pw, NULL);
	free(csrf);
	return st;
}

/* The portal form: every field as the page sends it; NULL keeps the default below. */
struct pform {
	const char *csrf; /* NULL: the client's; "": none */
	const char *base_url, *colour, *ttl, *attempts, *pw_min;
	const char *policy_it, *policy_en; /* NULL: the field is not sent */
	const char *policy_base;           /* the version the form was read at; NULL: not sent */
	const char *logo;                  /* bytes of an upload, or NULL */
	size_t logo_len;
	const char *remove_logo;
};

static long post_portal(struct h_client *c, int64_t portal, const struct pform *f, struct h_resp *r)
{
	struct h_part parts[16];
	int n = 0;
	const char *csrf = f->csrf != NULL ? f->csrf : h_client_csrf(c);
#define FIELD(nm, v, def)                                                                          \
	parts[n++] = (struct h_part)                                                               \
	{                                                                                          \
		.name = nm, .value = (v) != NULL ? (v) : (def)                                     \
	}
	if (csrf[0] != '\0')
		FIELD("csrf", csrf, "");
	FIELD("base_url", f->base_url, H.base);
	FIELD("colour", f->colour, "");
	FIELD("invite_ttl_days", f->ttl, "30");
	FIELD("invite_max_attempts", f->attempts, "5");
	FIELD("password_min_chars", f->pw_min, "10");
	if (f->policy_it != NULL)
		FIELD("policy_it", f->policy_it, "");
	if (f->policy_en != NULL)
		FIELD("policy_en", f->policy_en, "");
	if (f->remove_logo != NULL)
		FIELD("remove_logo", f->remove_logo, "");
	if (f->policy_base != NULL)
		FIELD("policy_base", f->policy_base, "");
#undef FIELD
	/* a browser sends the file input even when no file was chosen: empty, filename "" */
	parts[n++] = (struct h_part){.name = "logo",
	                             .value = f->logo != NULL ? f->logo : "",
	                             .len = f->logo_len,
	                             .filename = f->logo != NULL ? "logo.bin" : "",
	                             .type = "application/octet-stream"};
	char path[96];
	snprintf(path, sizeof(path), "/staff/settings/portals/%lld", (long long)portal);
	return h_post_parts(c, path, r, parts, n);
}

static long post_org(struct h_client *c, const char *csrf, const char *name, const char *phone,
                     const char *sender, struct h_resp *r)
{
	if (csrf == NULL)
		csrf = h_client_csrf(c);
	return csrf[0] != '\0'
	           ? h_post_form(c, "/staff/settings/organisation", r, "csrf", csrf, "name", name,
	                         "phone", phone, "sender_name", sender, NULL)
	           : h_post_form(c, "/staff/settings/organisation", r, "name", name, "phone", phone,
	                         "sender_name", sender, NULL);
}

/* --- who may use it ----------------------------------------------------------------------- */

Test(staff_settings, admins_get_the_page_and_the_link_others_do_not)
{
	struct h_client *c = h_client();
	struct h_resp r;
	cr_assert_eq(h_get(c, "/staff/settings", &r), 303, "signed out: to the sign-in page");
	h_resp_free(&r);

	c = admin();
	cr_assert_eq(h_get(c, "/staff/patients", &r), 200);
	cr_assert(has(&r, "<a href=\"/staff/settings\">Settings</a>"), "admins see the link");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/settings", &r), 200);
	cr_assert(has(&r, "action=\"/staff/settings/organisation\""));
	char action[96];
	snprintf(action, sizeof(action), "action=\"/staff/settings/portals/%lld\"",
	         (long long)H.org[0].portal_id);
	cr_assert(has(&r, action), "the organisation's own portal");
	snprintf(action, sizeof(action), "/staff/settings/portals/%lld\"",
	         (long long)H.org[1].portal_id);
	cr_assert(!has(&r, action), "never another organisation's portal");
	cr_assert(has(&r, "enctype=\"multipart/form-data\""), "the logo upload");
	cr_assert(has(&r, "value=\"Clinic 0\""));
	cr_assert(has(&r, "name=\"password_min_chars\" value=\"10\""), "the default minimum");
	cr_assert(has(&r, "name=\"invite_ttl_days\" value=\"30\""));
	cr_assert(has(&r, "name=\"invite_max_attempts\" value=\"5\""));
	cr_assert(has(&r, "name=\"policy_it\""));
	cr_assert(has(&r, "name=\"policy_en\""));
	h_resp_free(&r);

	/* a receptionist of the same organisation */
	struct store_conn *db = h_db();
	int64_t rec = 0;
	cr_assert_eq(store_staff_add(db, H.org[0].org_id, "desk@clinic0.test", "Desk", "x",
	                             STORE_ROLE_RECEPTION, &rec),
	             0);
	store_release(db);
	struct h_client *d = h_client();
	h_signin(d, STORE_SESSION_STAFF, rec, H.org[0].org_id);
	h_set_cookie(d, "lang", "en");
	cr_assert_eq(h_get(d, "/staff/patients", &r), 200);
	cr_assert(!has(&r, "/staff/settings"), "no link for reception staff");
	h_resp_free(&r);
	cr_assert_eq(h_get(d, "/staff/settings", &r), 403);
	h_resp_free(&r);
	cr_assert_eq(post_org(d, NULL, "Taken over", "", "", &r), 403);
	h_resp_free(&r);
	struct pform f = {.pw_min = "20"};
	cr_assert_eq(post_portal(d, H.org[0].portal_id, &f, &r), 403);
	h_resp_free(&r);
	char *name = text("SELECT name FROM organisations WHERE id = ?", H.org[0].org_id);
	cr_assert_str_eq(name, "Clinic 0");
	free(name);
	cr_assert_eq(
	    count("SELECT password_min_chars FROM portals WHERE id = ?", H.org[0].portal_id), 10);
	cr_assert_eq(audits("settings.organisation") + audits("settings.portal"), 0);
}

Test(staff_settings, a_post_without_csrf_is_refused_and_changes_nothing)
{
	struct h_client *c = admin();
	struct h_resp r;
	cr_assert_eq(post_org(c, "", "No token", "", "", &r), 403);
	h_resp_free(&r);
	cr_assert_eq(post_org(c, "wrong-token", "No token", "", "", &r), 403);
	h_resp_free(&r);
	struct pform f = {.csrf = "", .pw_min = "20", .colour = "#0a4a7a"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 403);
	h_resp_free(&r);
	char *name = text("SELECT name FROM organisations WHERE id = ?", H.org[0].org_id);
	cr_assert_str_eq(name, "Clinic 0");
	free(name);
	cr_assert_eq(
	    count("SELECT password_min_chars FROM portals WHERE id = ?", H.org[0].portal_id), 10);
	cr_assert_eq(count("SELECT COUNT(*) FROM portals WHERE id = ? AND primary_colour IS NULL",
	                   H.org[0].portal_id),
	             1);
}

Test(staff_settings, another_organisations_portal_is_not_found)
{
	struct h_client *c = admin();
	struct h_resp r;
	struct pform f = {.pw_min = "30", .colour = "#0a4a7a"};
	cr_assert_eq(post_portal(c, H.org[1].portal_id, &f, &r), 404);
	h_resp_free(&r);
	cr_assert_eq(post_portal(c, 999999, &f, &r), 404);
	h_resp_free(&r);
	cr_assert_eq(
	    h_post_form(c, "/staff/settings/portals/abc", &r, "csrf", h_client_csrf(c), NULL), 404);
	h_resp_free(&r);
	cr_assert_eq(
	    count("SELECT password_min_chars FROM portals WHERE id = ?", H.org[1].portal_id), 10);
	cr_assert_eq(count("SELECT COUNT(*) FROM portals WHERE id = ? AND primary_colour IS NULL",
	                   H.org[1].portal_id),
	             1);

	/* a member practice connected to org 0's portal owns no portal: only its own details */
	struct store_conn *db = h_db();
	int64_t member = 0, staff = 0;
	cr_assert_eq(store_insert(db, &member,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                          "VALUES ('member', ?, ?, 'Studio Ferri') RETURNING id",
	                          "ii", H.org[0].portal_id, H.org[0].org_id),
	             0);
	cr_assert_eq(store_staff_add(db, member, "ferri@member.test", "Ferri", "x",
	                             STORE_ROLE_ADMIN, &staff),
	             0);
	store_release(db);
	struct h_client *m = h_client();
	h_signin(m, STORE_SESSION_STAFF, staff, member);
	h_set_cookie(m, "lang", "en");
	cr_assert_eq(h_get(m, "/staff/settings", &r), 200);
	cr_assert(has(&r, "value=\"Studio Ferri\""));
	cr_assert(has(&r, "connected to a portal that another organisation owns"));
	cr_assert(!has(&r, "/staff/settings/portals/"));
	h_resp_free(&r);
	cr_assert_eq(post_portal(m, H.org[0].portal_id, &f, &r), 404);
	h_resp_free(&r);
	cr_assert_eq(
	    count("SELECT password_min_chars FROM portals WHERE id = ?", H.org[0].portal_id), 10);
}

/* --- the organisation ------------------------------------------------------------------- */

Test(staff_settings, the_organisation_is_saved_with_an_audit_event)
{
	struct h_client *c = admin();
	struct h_resp r;
	cr_assert_eq(post_org(c, NULL, "  Studio Rossi  ", "+39 06 1234 5678", "StudioRossi", &r),
	             303);
	cr_assert_str_eq(h_header(&r, "Location"),
	                 "/staff/settings?saved=organisation#organisation");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/settings?saved=organisation", &r), 200);
	cr_assert(has(&r, "<p class=\"notice\" role=\"status\">Saved.</p>"));
	cr_assert(has(&r, "value=\"Studio Rossi\""), "trimmed");
	cr_assert(has(&r, "value=\"+39 06 1234 5678\""));
	cr_assert(has(&r, "value=\"StudioRossi\""));
	h_resp_free(&r);
	char *v = text("SELECT name FROM organisations WHERE id = ?", H.org[0].org_id);
	cr_assert_str_eq(v, "Studio Rossi");
	free(v);
	v = text("SELECT sender_name FROM organisations WHERE id = ?", H.org[0].org_id);
	cr_assert_str_eq(v, "StudioRossi");
	free(v);
	cr_assert_eq(audits("settings.organisation"), 1);
	v = audit_detail("settings.organisation");
	cr_assert_str_eq(v, "changed: name, phone, sender_name StudioRossi");
	free(v);

	/* the same values again: nothing to save, no second event */
	cr_assert_eq(post_org(c, NULL, "Studio Rossi", "+39 06 1234 5678", "StudioRossi", &r), 303);
	cr_assert_not_null(strstr(h_header(&r, "Location"), "unchanged=1"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/settings?saved=organisation&unchanged=1", &r), 200);
	cr_assert(has(&r, "Nothing to save"));
	h_resp_free(&r);
	cr_assert_eq(audits("settings.organisation"), 1);

	/* emptied optional fields: NULL, and the default sender again */
	cr_assert_eq(post_org(c, NULL, "Studio Rossi", "", "", &r), 303);
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM organisations WHERE id = ? AND phone IS NULL AND "
	                   "sender_name IS NULL",
	                   H.org[0].org_id),
	             1);
	v = audit_detail("settings.organisation");
	cr_assert_str_eq(v, "changed: phone, sender_name (default)");
	free(v);
}

Test(staff_settings, bad_organisation_values_are_refused_next_to_their_fields)
{
	struct h_client *c = admin();
	struct h_resp r;
	cr_assert_eq(post_org(c, NULL, "", "call us", "Studio Rossi", &r), 422);
	cr_assert(has(&r, "Type the organisation&#39;s name.") ||
	          has(&r, "Type the organisation's name."));
	cr_assert(has(&r, "id=\"org-phone-error\""));
	cr_assert(has(&r, "Type the phone number with its digits"));
	cr_assert(has(&r, "id=\"org-sender-error\""));
	cr_assert(has(&r, "The SMS sender name must be 3 to 11 letters"));
	cr_assert(has(&r, "value=\"call us\""), "values as typed");
	cr_assert(has(&r, "value=\"Studio Rossi\""));
	cr_assert(has(&r, "aria-invalid=\"true\""));
	cr_assert(has(&r, "href=\"#org-sender\""), "the summary links to the field");
	cr_assert(has(&r, "Nothing was saved"));
	h_resp_free(&r);
	const char *bad_senders[] = {"AB", "TwelveChars12", "Nicolò", "San-Luca", "12345678"};
	for (size_t i = 0; i < sizeof(bad_senders) / sizeof(bad_senders[0]); i++) {
		cr_assert_eq(post_org(c, NULL, "Clinic 0", "", bad_senders[i], &r), 422, "%s",
		             bad_senders[i]);
		cr_assert(has(&r, "phone networks refuse other names"), "%s", bad_senders[i]);
		h_resp_free(&r);
	}
	cr_assert_eq(post_org(c, NULL, "Clinic 0", "+39 06 1", "", &r), 422, "too few digits");
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM organisations WHERE id = ? AND name = 'Clinic 0' "
	                   "AND phone IS NULL AND sender_name IS NULL",
	                   H.org[0].org_id),
	             1, "nothing changed");
	cr_assert_eq(audits("settings.organisation"), 0);
}

/* A stand-in SMS gateway: records the JSON body of each request, answers 200. */
static struct {
	pthread_mutex_t lock;
	struct MHD_Daemon *d;
	char body[4096];
	size_t len;
	int requests;
} gw = {.lock = PTHREAD_MUTEX_INITIALIZER};

static enum MHD_Result gw_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	if (*con_cls == NULL) {
		*con_cls = &gw;
		pthread_mutex_lock(&gw.lock);
		gw.len = 0;
		pthread_mutex_unlock(&gw.lock);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		pthread_mutex_lock(&gw.lock);
		if (gw.len + *upload_size < sizeof(gw.body)) {
			memcpy(gw.body + gw.len, upload, *upload_size);
			gw.len += *upload_size;
			gw.body[gw.len] = '\0';
		}
		pthread_mutex_unlock(&gw.lock);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&gw.lock);
	gw.requests++;
	pthread_mutex_unlock(&gw.lock);
	static const char answer[] = "{\"id\": \"gw-1\"}";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(answer) - 1, (void *)answer,
	                                                         MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* Sends what is queued through the sms-http transport to the stand-in gateway; returns the
 * "from" of the last request (malloc'd). */
static char *sms_from_of_next_send(void)
{
	struct comms_dispatcher *d = NULL;
	cr_assert_eq(comms_dispatcher_create(&d, H.store, &H.cfg), 0);
	int before = gw.requests;
	cr_assert_geq(comms_dispatch_pass(d, now_utc() + 60, NULL), 1);
	comms_dispatcher_free(d);
	cr_assert_gt(gw.requests, before, "the gateway got the message");
	json_t *j = json_loadb(gw.body, gw.len, 0, NULL);
	cr_assert_not_null(j, "%s", gw.body);
	const char *from = json_string_value(json_object_get(j, "from"));
	char *out = strdup(from != NULL ? from : "");
	json_decref(j);
	return out;
}

Test(staff_settings, the_sender_name_is_what_the_sms_transport_sends)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gw.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, gw_request, NULL,
	                        MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	cr_assert_not_null(gw.d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(gw.d, MHD_DAEMON_INFO_BIND_PORT);
	char url[96], err[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/sms", (unsigned)info->port);
	cr_assert_eq(config_set(&H.cfg, "transport", "sms-http", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(&H.cfg, "sms_url", url, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(&H.cfg, "sms_token", "tok", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(&H.cfg, "sms_sender", "Invito", err, sizeof(err)), 0, "%s", err);

	int64_t p = add_patient(0, "Verdi", "+393331234567", NULL);
	invite(0, p, H.base, NULL);
	char *from = sms_from_of_next_send();
	cr_assert_str_eq(from, "Invito", "no sender name yet: the configured one");
	free(from);

	struct h_client *c = admin();
	struct h_resp r;
	cr_assert_eq(post_org(c, NULL, "Clinic 0", "", "StudioRossi", &r), 303);
	h_resp_free(&r);
	invite(0, p, H.base, NULL);
	from = sms_from_of_next_send();
	cr_assert_str_eq(from, "StudioRossi", "the organisation's sender name, from the page");
	free(from);
	MHD_stop_daemon(gw.d);
	gw.d = NULL;
}

/* --- the portal: password, invitations ------------------------------------------------------ */

Test(staff_settings, a_minimum_of_14_is_asked_on_the_landing_page_default_still_10)
{
	struct h_client *c = admin();
	struct h_resp r;
	struct pform f = {.pw_min = "14"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	char loc[128];
	snprintf(loc, sizeof(loc), "/staff/settings?saved=%lld#portal-%lld",
	         (long long)H.org[0].portal_id, (long long)H.org[0].portal_id);
	cr_assert_str_eq(h_header(&r, "Location"), loc);
	h_resp_free(&r);
	cr_assert_eq(
	    count("SELECT password_min_chars FROM portals WHERE id = ?", H.org[0].portal_id), 14);
	char *d = audit_detail("settings.portal");
	cr_assert_str_eq(d, "changed: password_min_chars 10->14");
	free(d);

	/* org 0's portal: 12 strong characters are too few, and the page says 14 */
	int64_t p = add_patient(0, "Bianchi", NULL, "bianchi@example.test");
	char *tok = invite(0, p, H.base, NULL);
	char path[96];
	snprintf(path, sizeof(path), "/i/%s", tok);
	struct h_client *pt = h_client();
	h_set_cookie(pt, "lang", "en");
	cr_assert_eq(h_get(pt, path, &r), 200);
	cr_assert(has(&r, "At least 14 characters."), "the hint");
	cr_assert(has(&r, "minlength=\"14\""));
	h_resp_free(&r);
	cr_assert_eq(post_page(pt, path, &r, "Bianchi", STRONG12), 200);
	cr_assert(has(&r, "The password must have at least 14 characters."), "%s", r.body);
	h_resp_free(&r);
	/* in Italian, the plural from the catalog */
	struct h_client *it = h_client();
	h_set_cookie(it, "lang", "it");
	cr_assert_eq(post_page(it, path, &r, "Bianchi", STRONG12), 200);
	cr_assert(has(&r, "La password deve avere almeno 14 caratteri."));
	cr_assert(has(&r, "Almeno 14 caratteri."));
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM accounts WHERE patient_id = ?", p), 0);
	cr_assert_eq(post_page(pt, path, &r, "Bianchi", STRONG20), 303, "20 characters will do");
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM accounts WHERE patient_id = ?", p), 1);
	free(tok);

	/* org 1's portal keeps the default: 12 strong characters are enough, 9 are not */
	int64_t q = add_patient(1, "Neri", NULL, "neri@example.test");
	tok = invite(1, q, H.base, NULL);
	snprintf(path, sizeof(path), "/i/%s", tok);
	struct h_client *pt1 = h_client();
	h_set_cookie(pt1, "lang", "en");
	cr_assert_eq(post_page(pt1, path, &r, "Neri", "grappa tr"), 200);
	cr_assert(has(&r, "The password must have at least 10 characters."));
	cr_assert(has(&r, "At least 10 characters."));
	cr_assert(has(&r, "minlength=\"10\""));
	h_resp_free(&r);
	cr_assert_eq(post_page(pt1, path, &r, "Neri", STRONG12), 303);
	h_resp_free(&r);
	cr_assert_eq(count("SELECT COUNT(*) FROM accounts WHERE patient_id = ?", q), 1);
	free(tok);
}

Test(staff_settings, the_reset_page_asks_the_portals_minimum)
{
	struct h_client *c = admin();
	struct h_resp r;
	int64_t p = add_patient(0, "Galli", NULL, "galli@example.test");
	char *tok = invite(0, p, H.base, NULL);
	char path[96];
	snprintf(path, sizeof(path), "/i/%s", tok);
	free(tok);
	struct h_client *pt = h_client();
	h_set_cookie(pt, "lang", "en");
	cr_assert_eq(post_page(pt, path, &r, "Galli", STRONG20), 303);
	h_resp_free(&r);

	struct pform f = {.pw_min = "16"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	h_resp_free(&r);
	struct store_conn *db = h_db();
	int rc = account_reset_send(db, &H.cfg, H.org[0].org_id, p, H.org[0].staff_id, "email",
	                            "127.0.0.1", now_utc());
	store_release(db);
	cr_assert_eq(rc, 0, "account_reset_send: %s", account_strerror(rc));
	tok = newest_token(H.base, "/r/");
	snprintf(path, sizeof(path), "/r/%s", tok);
	free(tok);
	cr_assert_eq(h_get(pt, path, &r), 200);
	cr_assert(has(&r, "At least 16 characters."));
	h_resp_free(&r);
	cr_assert_eq(post_page(pt, path, &r, NULL, "grappa trams vio"), 303, "16 will do");
	h_resp_free(&r);

	/* and one character less is refused with the number */
	db = h_db();
	rc = account_reset_send(db, &H.cfg, H.org[0].org_id, p, H.org[0].staff_id, "email",
	                        "127.0.0.1", now_utc() + 3600);
	store_release(db);
	cr_assert_eq(rc, 0, "account_reset_send: %s", account_strerror(rc));
	tok = newest_token(H.base, "/r/");
	snprintf(path, sizeof(path), "/r/%s", tok);
	free(tok);
	cr_assert_eq(post_page(pt, path, &r, NULL, "grappa trams vi"), 200);
	cr_assert(has(&r, "The password must have at least 16 characters."));
	h_resp_free(&r);
}

Test(staff_settings, invitation_lifetime_and_tries_take_effect)
{
	struct h_client *c = admin();
	struct h_resp r;
	struct pform f = {.ttl = "7", .attempts = "2"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	h_resp_free(&r);
	char *d = audit_detail("settings.portal");
	cr_assert_str_eq(d, "changed: invite_ttl_days 30->7, invite_max_attempts 5->2");
	free(d);

	int64_t p = add_patient(0, "Fontana", NULL, "fontana@example.test"), inv = 0;
	char *tok = invite(0, p, H.base, &inv);
	cr_assert_eq(count("SELECT expires_at - created_at FROM invitations WHERE id = ?", inv),
	             7 * DAY);
	char path[96];
	snprintf(path, sizeof(path), "/i/%s", tok);
	free(tok);
	struct h_client *pt = h_client();
	h_set_cookie(pt, "lang", "en");
	cr_assert_eq(post_page(pt, path, &r, "Wrong", STRONG20), 200);
	cr_assert(has(&r, "Tries left before the link locks: 1."));
	h_resp_free(&r);
	cr_assert_eq(post_page(pt, path, &r, "Wrong", STRONG20), 403, "locked at the second");
	h_resp_free(&r);
}

Test(staff_settings, bad_portal_values_are_refused_and_nothing_changes)
{
	struct h_client *c = admin();
	struct h_resp r;
	struct pform f = {.ttl = "0",
	                  .attempts = "21",
	                  .pw_min = "7",
	                  .colour = "#ffffff",
	                  .base_url = "ftp://files.example",
	                  .policy_en = "A new policy."};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 422);
	cr_assert(has(&r, "Type a number of days from 1 to 365."));
	cr_assert(has(&r, "Type a number from 1 to 20."));
	cr_assert(has(&r, "Type a number of characters from 8 to 64."));
	cr_assert(has(&r, "This colour is too light"));
	cr_assert(has(&r, "Type the portal&#39;s address") || has(&r, "Type the portal's address"));
	cr_assert(has(&r, "value=\"ftp://files.example\""), "values as typed");
	cr_assert(has(&r, "value=\"#ffffff\""));
	cr_assert(has(&r, "name=\"password_min_chars\" value=\"7\""));
	cr_assert(has(&r, "A new policy."), "the policy as typed");
	char id[64];
	snprintf(id, sizeof(id), "id=\"p%lld-pw_min-error\"", (long long)H.org[0].portal_id);
	cr_assert(has(&r, id), "the error next to its field");
	h_resp_free(&r);

	struct pform g = {
	    .ttl = "abc", .pw_min = "65", .colour = "navy", .base_url = "https://x.example/?a=1"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &g, &r), 422);
	cr_assert(has(&r, "value=\"abc\""));
	cr_assert(has(&r, "Type the colour as # and six hexadecimal digits"));
	h_resp_free(&r);
	struct pform e = {.base_url = ""};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &e, &r), 422);
	h_resp_free(&r);
	/* a changed policy cannot be emptied */
	struct store_conn *db = h_db();
	cr_assert_eq(
	    store_portal_set_policy(db, H.org[0].portal_id, NULL, "en", "Old text.", now_utc()), 0);
	store_release(db);
	struct pform p = {.policy_en = "  "};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &p, &r), 422);
	cr_assert(has(&r, "cannot be left empty"));
	h_resp_free(&r);

	cr_assert_eq(count("SELECT COUNT(*) FROM portals WHERE id = ? AND invite_ttl_days = 30 AND "
	                   "invite_max_attempts = 5 AND password_min_chars = 10 AND "
	                   "primary_colour IS NULL AND host IS NULL AND policy_version = '1'",
	                   H.org[0].portal_id),
	             1, "nothing changed");
	char *t = text("SELECT text FROM portal_policies WHERE portal_id = ? AND lang = 'en'",
	               H.org[0].portal_id);
	cr_assert_str_eq(t, "Old text.");
	free(t);
	cr_assert_eq(audits("settings.portal"), 0);
}

/* --- the portal: look ------------------------------------------------------------------------ */

Test(staff_settings, the_colour_reaches_the_portals_css)
{
	struct h_client *c = admin();
	struct h_resp r;
	struct pform f = {.colour = " #0A4A7A "};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	h_resp_free(&r);
	char css[64];
	snprintf(css, sizeof(css), "/portal/%lld/theme.css", (long long)H.org[0].portal_id);
	cr_assert_eq(h_get(c, css, &r), 200);
	cr_assert(has(&r, "--brand: #0a4a7a;"), "%s", r.body);
	h_resp_free(&r);
	char *d = audit_detail("settings.portal");
	cr_assert_str_eq(d, "changed: colour #0a4a7a");
	free(d);
	/* emptied: the default again */
	struct pform g = {.colour = ""};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &g, &r), 303);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, css, &r), 200);
	cr_assert(!has(&r, "--brand"));
	h_resp_free(&r);
}

Test(staff_settings, a_logo_is_uploaded_checked_and_removed)
{
	struct h_client *c = admin();
	struct h_resp r;
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR a tiny stand-in";
	struct pform f = {.logo = png, .logo_len = sizeof(png) - 1};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	h_resp_free(&r);
	char logo[64];
	snprintf(logo, sizeof(logo), "/portal/%lld/logo", (long long)H.org[0].portal_id);
	cr_assert_eq(h_get(c, logo, &r), 200);
	cr_assert_str_eq(h_header(&r, "Content-Type"), "image/png");
	cr_assert_eq(r.len, sizeof(png) - 1);
	cr_assert_eq(memcmp(r.body, png, r.len), 0);
	h_resp_free(&r);
	char *d = audit_detail("settings.portal");
	cr_assert_not_null(strstr(d, "logo image/png"), "%s", d);
	free(d);
	cr_assert_eq(h_get(c, "/staff/settings", &r), 200);
	cr_assert(has(&r, logo), "the current logo is shown");
	cr_assert(has(&r, "name=\"remove_logo\""));
	h_resp_free(&r);

	/* not an image we take, or too large: refused, the logo stays */
	static const char gif[] = "GIF89a\x01\0\x01\0";
	struct pform g = {.logo = gif, .logo_len = sizeof(gif) - 1};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &g, &r), 422);
	cr_assert(has(&r, "The logo must be a PNG, JPEG or WebP image."));
	h_resp_free(&r);
	size_t big_len = 256 * 1024 + 1;
	char *big = calloc(1, big_len);
	memcpy(big, png, 8);
	struct pform b = {.logo = big, .logo_len = big_len};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &b, &r), 422);
	cr_assert(has(&r, "The logo is too large"));
	h_resp_free(&r);
	free(big);
	cr_assert_eq(h_get(c, logo, &r), 200);
	cr_assert_eq(r.len, sizeof(png) - 1);
	h_resp_free(&r);

	struct pform rm = {.remove_logo = "1"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &rm, &r), 303);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, logo, &r), 404);
	h_resp_free(&r);
	d = audit_detail("settings.portal");
	cr_assert_str_eq(d, "changed: logo removed");
	free(d);
}

Test(staff_settings, the_address_builds_new_links_and_is_one_portals_only)
{
	struct h_client *c = admin();
	struct h_resp r;
	struct pform f = {.base_url = "https://Portal0.example/"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	h_resp_free(&r);
	char *v = text("SELECT base_url FROM portals WHERE id = ?", H.org[0].portal_id);
	cr_assert_str_eq(v, "https://Portal0.example", "as typed, without the trailing slash");
	free(v);
	v = text("SELECT host FROM portals WHERE id = ?", H.org[0].portal_id);
	cr_assert_str_eq(v, "portal0.example");
	free(v);
	int64_t p = add_patient(0, "Costa", NULL, "costa@example.test");
	char *tok = invite(0, p, "https://Portal0.example", NULL);
	free(tok);

	/* another portal's address */
	struct store_conn *db = h_db();
	cr_assert_eq(store_portal_set_look(db, H.org[1].portal_id, "https://b.example", NULL), 0);
	store_release(db);
	struct pform g = {.base_url = "https://B.example"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &g, &r), 422);
	cr_assert(has(&r, "Another portal already uses this address."));
	cr_assert(has(&r, "value=\"https://B.example\""));
	h_resp_free(&r);
	v = text("SELECT host FROM portals WHERE id = ?", H.org[0].portal_id);
	cr_assert_str_eq(v, "portal0.example", "unchanged");
	free(v);
}

/* --- the portal: privacy policy ----------------------------------------------------------- */

Test(staff_settings, a_changed_policy_is_a_new_version_that_acceptances_record)
{
	struct h_client *c = admin();
	struct h_resp r;
	struct pform f = {.policy_it = "", .policy_en = "We keep your data safe.\r\nSecond line."};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	h_resp_free(&r);
	char *v = text("SELECT policy_version FROM portals WHERE id = ?", H.org[0].portal_id);
	cr_assert_str_eq(v, "2");
	free(v);
	v = text("SELECT text FROM portal_policies WHERE portal_id = ? AND lang = 'en'",
	         H.org[0].portal_id);
	cr_assert_str_eq(v, "We keep your data safe.\nSecond line.", "line breaks as LF");
	free(v);
	v = audit_detail("settings.portal");
	cr_assert_str_eq(v, "changed: policy en version 1->2");
	cr_assert_null(strstr(v, "safe"), "never the text");
	free(v);
	cr_assert_eq(h_get(c, "/staff/settings", &r), 200);
	cr_assert(has(&r, "Current version: <strong>2</strong>"));
	cr_assert(has(&r, "We keep your data safe."));
	h_resp_free(&r);

	/* the text sent back as the browser sends it (CRLF): not a change, no new version */
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	cr_assert_not_null(strstr(h_header(&r, "Location"), "unchanged=1"));
	h_resp_free(&r);
	v = text("SELECT policy_version FROM portals WHERE id = ?", H.org[0].portal_id);
	cr_assert_str_eq(v, "2");
	free(v);
	cr_assert_eq(audits("settings.portal"), 1);

	/* the landing page shows it, and accepting records version 2 */
	int64_t p = add_patient(0, "Moretti", NULL, "moretti@example.test");
	char *tok = invite(0, p, H.base, NULL);
	char path[96];
	snprintf(path, sizeof(path), "/i/%s", tok);
	free(tok);
	struct h_client *pt = h_client();
	h_set_cookie(pt, "lang", "en");
	cr_assert_eq(h_get(pt, path, &r), 200);
	cr_assert(has(&r, "We keep your data safe."));
	cr_assert(has(&r, "I accept the privacy policy (version 2)"));
	h_resp_free(&r);
	cr_assert_eq(post_page(pt, path, &r, "Moretti", STRONG20), 303);
	h_resp_free(&r);
	v = text("SELECT c.version FROM consents c JOIN accounts a ON a.id = c.account_id "
	         "WHERE a.patient_id = ?",
	         p);
	cr_assert_str_eq(v, "2");
	free(v);

	/* both languages at once: one new version */
	struct pform g = {.policy_it = "Informativa.", .policy_en = "Policy, third edition."};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &g, &r), 303);
	h_resp_free(&r);
	v = text("SELECT policy_version FROM portals WHERE id = ?", H.org[0].portal_id);
	cr_assert_str_eq(v, "3");
	free(v);
	v = audit_detail("settings.portal");
	cr_assert_str_eq(v, "changed: policy it,en version 2->3");
	free(v);
}

Test(staff_settings, a_policy_published_meanwhile_is_not_overwritten)
{
	struct h_client *c = admin();
	struct h_resp r;
	/* the form carries the version it was read at */
	cr_assert_eq(h_get(c, "/staff/settings", &r), 200);
	cr_assert(has(&r, "name=\"policy_base\" value=\"1\""), "%s", r.body);
	h_resp_free(&r);
	/* meanwhile another admin publishes version 2 */
	struct store_conn *db = h_db();
	cr_assert_eq(
	    store_portal_set_policy(db, H.org[0].portal_id, "2", "en", "Their text.", now_utc()),
	    0);
	store_release(db);

	struct pform f = {.policy_en = "My text.", .policy_base = "1"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 409);
	cr_assert(has(&r, "Someone else published a new version"), "%s", r.body);
	cr_assert(has(&r, "My text."), "the admin's text is kept on the page");
	cr_assert(has(&r, "name=\"policy_base\" value=\"2\""), "the form now knows version 2");
	h_resp_free(&r);
	char *t = text("SELECT text FROM portal_policies WHERE portal_id = ? AND lang = 'en'",
	               H.org[0].portal_id);
	cr_assert_str_eq(t, "Their text.");
	free(t);
	cr_assert_eq(count("SELECT COUNT(*) FROM portals WHERE id = ? AND policy_version = '2'",
	                   H.org[0].portal_id),
	             1);
	cr_assert_eq(audits("settings.portal"), 0);

	/* saved again from the page that said so: now it is a deliberate change of version 2 */
	f.policy_base = "2";
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &f, &r), 303);
	h_resp_free(&r);
	t = text("SELECT text FROM portal_policies WHERE portal_id = ? AND lang = 'en'",
	         H.org[0].portal_id);
	cr_assert_str_eq(t, "My text.");
	free(t);
	cr_assert_eq(count("SELECT COUNT(*) FROM portals WHERE id = ? AND policy_version = '3'",
	                   H.org[0].portal_id),
	             1);

	/* other settings saved with an old form are not a conflict: only a changed policy is */
	struct pform g = {.pw_min = "12", .policy_base = "1"};
	cr_assert_eq(post_portal(c, H.org[0].portal_id, &g, &r), 303);
	h_resp_free(&r);
	cr_assert_eq(
	    count("SELECT password_min_chars FROM portals WHERE id = ?", H.org[0].portal_id), 12);
}
