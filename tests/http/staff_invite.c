/*
 * HTTP tests of the staff side of invitations (src/staff/invite.c): the
 * profile's "Invite to patient portal" / "Reset password" buttons, a single
 * invite with its outbox message and history row, revoking a pending link,
 * sending a reset link, the bulk invite's confirmation counts and report (the
 * same form twice invites nobody twice; "every patient matching the filter"),
 * CSRF, 404 across organisations on every route, escaping, and the audit
 * events (staff id and address).
 */
#include "harness.h"

#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(staff_invite, .init = h_start, .fini = h_stop);

/* --- seeding ------------------------------------------------------------ */

/* Adds a patient to organisation `org` (0 or 1); returns its id. */
static int64_t add_patient(int org, const char *given, const char *family, const char *mobile,
                           const char *email, int64_t managed_by)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[org].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.mobile = (char *)mobile;
	p.email = (char *)email;
	p.lang = "en";
	p.managed_by = managed_by;
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

/* Gives the patient an account with a password (the hash is never checked here). */
static void give_password(int org, int64_t patient, const char *login)
{
	struct store_conn *db = h_db();
	int err =
	    store_exec(db, NULL,
	               "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, created_at) "
	               "VALUES (?, ?, ?, ?, ?)",
	               "iitti", patient, H.org[org].portal_id, login,
	               "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", now_utc());
	store_release(db);
	cr_assert_eq(err, 0, "insert account: %s", store_strerror(err));
}

/* Invites the patient as the system would (a message, an hour ago's resend...). */
static int64_t invite_now(int org, int64_t patient)
{
	struct store_conn *db = h_db();
	struct invite_request r = {
	    .org_id = H.org[org].org_id, .patient_id = patient, .ignore_recent = 1};
	int64_t id = 0;
	int err = invite_send(db, &H.cfg, &r, now_utc(), &id);
	store_release(db);
	cr_assert_eq(err, 0, "invite_send: %d", err);
	return id;
}

static int64_t scalar(const char *sql, const char *types, int64_t a, int64_t b)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int err = types[0] == '\0'   ? store_scalar(db, &n, sql, "")
	          : types[1] == '\0' ? store_scalar(db, &n, sql, types, a)
	                             : store_scalar(db, &n, sql, types, a, b);
	store_release(db);
	cr_assert_eq(err, 0, "%s: %s", sql, store_strerror(err));
	return n;
}

static int64_t messages_of(int64_t patient, const char *kind)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int err =
	    store_scalar(db, &n, "SELECT COUNT(*) FROM messages WHERE patient_id = ? AND kind = ?",
	                 "it", patient, kind);
	store_release(db);
	cr_assert_eq(err, 0);
	return n;
}

static int64_t invitations_of(int64_t patient)
{
	return scalar("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", "i", patient, 0);
}

static int64_t all_invitations(void)
{
	return scalar("SELECT COUNT(*) FROM invitations", "", 0, 0);
}

/* How many audit events `action` carry the staff user of org 0 and the test's address. */
static int64_t staff_audits(const char *action)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int err = store_scalar(db, &n,
	                       "SELECT COUNT(*) FROM audit_events WHERE action = ? AND "
	                       "actor_kind = 'staff' AND actor_id = ? AND ip = '127.0.0.1' "
	                       "AND org_id = ?",
	                       "tii", action, H.org[0].staff_id, H.org[0].org_id);
	store_release(db);
	cr_assert_eq(err, 0);
	return n;
}

/* --- requests ------------------------------------------------------------- */

static struct h_client *staff_client(int org)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	h_staff_signin(c, org);
	return c;
}

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static char *path_of(const char *fmt, int64_t a, int64_t b)
{
	char *p = NULL;
	cr_assert(asprintf(&p, fmt, (long long)a, (long long)b) > 0);
	return p;
}

/* The profile page's body (status 200 asserted); free with h_resp_free. */
static void profile(struct h_client *c, int64_t id, const char *query, struct h_resp *r)
{
	char *p = NULL;
	cr_assert(asprintf(&p, "/staff/patients/%lld%s%s", (long long)id, query ? "?" : "",
	                   query ? query : "") > 0);
	cr_assert_eq(h_get(c, p, r), 200, "GET %s", p);
	free(p);
}

/* The number in the cell id="n-<key>" of a confirmation or report page; -1 when missing. */
static long count_of(const struct h_resp *r, const char *key)
{
	char marker[64];
	snprintf(marker, sizeof(marker), "id=\"n-%s\">", key);
	const char *m = r->body != NULL ? strstr(r->body, marker) : NULL;
	return m != NULL ? strtol(m + strlen(marker), NULL, 10) : -1;
}

/* The value of the hidden input `name` (malloc'd) or NULL. */
static char *hidden(const struct h_resp *r, const char *name)
{
	char marker[64];
	snprintf(marker, sizeof(marker), "name=\"%s\" value=\"", name);
	const char *m = r->body != NULL ? strstr(r->body, marker) : NULL;
	if (m == NULL)
		return NULL;
	m += strlen(marker);
	return strndup(m, strcspn(m, "\""));
}

static char *id_str(int64_t id)
{
	return path_of("%lld", id, 0);
}

/* --- the profile ------------------------------------------------------------- */

Test(staff_invite, profile_offers_invite_reset_or_neither)
{
	int64_t none = add_patient(0, "Anna", "Verdi", "+393331112222", NULL, 0);
	int64_t active = add_patient(0, "Bruno", "Neri", "+393331113333", "bruno@example.test", 0);
	give_password(0, active, "bruno@example.test");
	int64_t parent = add_patient(0, "Carla", "Blu", NULL, "carla@example.test", 0);
	int64_t kid = add_patient(0, "Dino", "Blu", NULL, NULL, parent);
	struct h_client *c = staff_client(0);
	struct h_resp r;

	profile(c, none, NULL, &r);
	cr_assert(has(&r, "<summary>Invite to patient portal</summary>"));
	cr_assert(!has(&r, "Reset password"));
	char *action = path_of("action=\"/staff/patients/%lld/invite\"", none, 0);
	cr_assert(has(&r, action));
	free(action);
	/* the channel the record has is the default; the others say why they cannot be used */
	cr_assert(has(&r, "<legend>Send by</legend>"));
	cr_assert(has(&r, "value=\"sms\" checked"));
	cr_assert(has(&r, "value=\"email\" disabled"));
	cr_assert(has(&r, "No e-mail address on file."));
	cr_assert(has(&r, "No invitations sent."));
	h_resp_free(&r);

	profile(c, active, NULL, &r);
	cr_assert(has(&r, "<summary>Reset password</summary>"));
	cr_assert(!has(&r, "Invite to patient portal"));
	cr_assert(has(&r, "value=\"both\" checked"));
	h_resp_free(&r);

	profile(c, kid, NULL, &r);
	cr_assert(!has(&r, "Invite to patient portal"));
	cr_assert(!has(&r, "Reset password"));
	char *manager = path_of("href=\"/staff/patients/%lld\"", parent, 0);
	cr_assert(has(&r, manager), "the managing account is linked");
	free(manager);
	cr_assert(has(&r, "Managed by"));
	h_resp_free(&r);

	/* no contact at all: the form is there, its button disabled, with a way to fix it */
	int64_t bare = add_patient(0, "Elio", "Nudo", NULL, NULL, 0);
	profile(c, bare, NULL, &r);
	cr_assert(has(&r, "<button type=\"submit\" disabled>Send the invitation</button>"));
	cr_assert(has(&r, "Add a mobile number or an e-mail address"));
	h_resp_free(&r);
}

Test(staff_invite, single_invite_queues_a_message_and_shows_in_history)
{
	int64_t id = add_patient(0, "Anna", "Verdi", "+393331112222", "anna@example.test", 0);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	char *path = path_of("/staff/patients/%lld/invite", id, 0);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), "channel", "sms", NULL),
	             303);
	char *loc = path_of("/staff/patients/%lld?result=invited-sms", id, 0);
	cr_assert_str_eq(h_header(&r, "Location"), loc);
	h_resp_free(&r);
	cr_assert_eq(messages_of(id, "invitation"), 1);
	cr_assert_eq(
	    scalar("SELECT COUNT(*) FROM messages WHERE patient_id = ? AND channel = 'sms' "
	           "AND recipient = '+393331112222'",
	           "i", id, 0),
	    1);
	cr_assert_eq(invitations_of(id), 1);
	cr_assert_eq(staff_audits("invite.sent"), 1,
	             "the audit event has the staff id and address");

	cr_assert_eq(h_get(c, loc, &r), 200);
	cr_assert(has(&r, "role=\"status\">Invitation sent by SMS.</p>"));
	cr_assert(has(&r, "<td data-label=\"By\">Staff 0</td>"));
	cr_assert(has(&r, "<td data-label=\"Channel\">SMS</td>"));
	cr_assert(has(&r, "Pending until"));
	cr_assert(has(&r, ">Revoke</button>"));
	cr_assert(has(&r, "<span class=\"badge badge-invited\">Invited</span>"));
	h_resp_free(&r);
	free(loc);

	/* staff chose this patient: a second invitation right away is not skipped as recent */
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), "channel", "both", NULL),
	             303);
	cr_assert_not_null(strstr(h_header(&r, "Location"), "result=invited-both"));
	h_resp_free(&r);
	cr_assert_eq(invitations_of(id), 2);
	cr_assert_eq(messages_of(id, "invitation"), 3);
	free(path);

	/* a result key not in the table puts nothing on the page */
	profile(c, id, "result=%3Cscript%3E", &r);
	cr_assert(!has(&r, "<script>"));
	cr_assert(!has(&r, "role=\"alert\""));
	h_resp_free(&r);
}

Test(staff_invite, single_invite_skip_reasons)
{
	int64_t bare = add_patient(0, "Elio", "Nudo", NULL, NULL, 0);
	int64_t active = add_patient(0, "Bruno", "Neri", "+393331113333", NULL, 0);
	give_password(0, active, "+393331113333");
	int64_t parent = add_patient(0, "Carla", "Blu", "+393331114444", NULL, 0);
	int64_t kid = add_patient(0, "Dino", "Blu", "+393331115555", NULL, parent);
	int64_t sms_only = add_patient(0, "Fabio", "Rosa", "+393331116666", NULL, 0);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	const struct {
		int64_t id;
		const char *channel, *result, *text;
	} cases[] = {
	    {bare, "sms", "no-contact", "no mobile number or e-mail address on file"},
	    {active, "sms", "has-account", "already has an account"},
	    {kid, "sms", "family", "is a family member"},
	    {sms_only, "email", "no-contact", "no mobile number or e-mail address on file"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = path_of("/staff/patients/%lld/invite", cases[i].id, 0);
		cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), "channel",
		                         cases[i].channel, NULL),
		             303);
		char *loc = NULL;
		cr_assert(asprintf(&loc, "/staff/patients/%lld?result=%s", (long long)cases[i].id,
		                   cases[i].result) > 0);
		cr_assert_str_eq(h_header(&r, "Location"), loc, "case %zu", i);
		h_resp_free(&r);
		cr_assert_eq(h_get(c, loc, &r), 200);
		cr_assert(has(&r, "role=\"alert\""));
		cr_assert(has(&r, cases[i].text), "case %zu", i);
		h_resp_free(&r);
		free(loc);
		free(path);
	}
	cr_assert_eq(all_invitations(), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages", "", 0, 0), 0);
}

Test(staff_invite, revoke_a_pending_link)
{
	int64_t id = add_patient(0, "Anna", "Verdi", NULL, "anna@example.test", 0);
	int64_t inv = invite_now(0, id);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	profile(c, id, NULL, &r);
	char *action = path_of("action=\"/staff/patients/%lld/invitations/%lld/revoke\"", id, inv);
	cr_assert(has(&r, action));
	cr_assert(has(&r, "<td data-label=\"By\">Automatic message</td>"));
	h_resp_free(&r);

	char *path = path_of("/staff/patients/%lld/invitations/%lld/revoke", id, inv);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert_not_null(strstr(h_header(&r, "Location"), "?result=revoked"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM invitations WHERE id = ? AND state = 'revoked' "
	                    "AND revoked_at IS NOT NULL",
	                    "i", inv, 0),
	             1);
	cr_assert_eq(staff_audits("invite.revoked"), 1);

	profile(c, id, "result=revoked", &r);
	cr_assert(has(&r, "The link was revoked"));
	cr_assert(has(&r, "class=\"state-revoked\">Revoked"));
	cr_assert(!has(&r, action), "no Revoke for a revoked link");
	h_resp_free(&r);

	/* a second revocation changes nothing and says so */
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert_not_null(strstr(h_header(&r, "Location"), "?result=not-pending"));
	h_resp_free(&r);
	cr_assert_eq(staff_audits("invite.revoked"), 1);
	free(path);
	free(action);

	/* an invitation of another patient of the same organisation, through this one's path */
	int64_t other = add_patient(0, "Bea", "Gialli", NULL, "bea@example.test", 0);
	int64_t inv2 = invite_now(0, other);
	path = path_of("/staff/patients/%lld/invitations/%lld/revoke", id, inv2);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 404);
	h_resp_free(&r);
	free(path);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM invitations WHERE id = ? AND state = 'pending'",
	                    "i", inv2, 0),
	             1);
}

Test(staff_invite, reset_password_sends_a_link)
{
	int64_t id = add_patient(0, "Bruno", "Neri", "+393331113333", "bruno@example.test", 0);
	give_password(0, id, "bruno@example.test");
	int64_t none = add_patient(0, "Anna", "Verdi", "+393331112222", NULL, 0);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	char *path = path_of("/staff/patients/%lld/reset", id, 0);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), "channel", "email", NULL),
	             303);
	char *loc = path_of("/staff/patients/%lld?result=reset-email", id, 0);
	cr_assert_str_eq(h_header(&r, "Location"), loc);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM resets WHERE patient_id = ?", "i", id, 0), 1);
	cr_assert_eq(messages_of(id, "reset"), 1);
	cr_assert_eq(staff_audits("reset.sent"), 1);
	cr_assert_eq(h_get(c, loc, &r), 200);
	cr_assert(has(&r, "Password reset link sent by e-mail."));
	cr_assert(has(&r, "Password reset links"));
	h_resp_free(&r);
	free(loc);
	free(path);

	/* no account yet: invite instead */
	path = path_of("/staff/patients/%lld/reset", none, 0);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert_not_null(strstr(h_header(&r, "Location"), "?result=no-account"));
	h_resp_free(&r);
	free(path);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM resets", "", 0, 0), 1);
}

Test(staff_invite, history_shows_each_state)
{
	int64_t id = add_patient(0, "Anna", "Verdi", "+393331112222", "anna@example.test", 0);
	int64_t inv[4];
	for (int i = 0; i < 4; i++)
		inv[i] = invite_now(0, id);
	struct store_conn *db = h_db();
	int64_t now = now_utc();
	/* 0: opened and expired; 1: locked; 2: accepted state as invite/ writes it; 3: pending */
	cr_assert_eq(store_exec(db, NULL,
	                        "UPDATE invitations SET opened_at = ?, expires_at = ? WHERE id = ?",
	                        "iii", (int64_t)1767225600, now - 60, inv[0]),
	             0);
	cr_assert_eq(
	    store_exec(db, NULL,
	               "UPDATE invitations SET state = 'locked', locked_at = ? WHERE id = ?", "ii",
	               now, inv[1]),
	    0);
	cr_assert_eq(store_exec(db, NULL,
	                        "UPDATE invitations SET state = 'accepted', accepted_at = ? "
	                        "WHERE id = ?",
	                        "ii", now, inv[2]),
	             0);
	store_release(db);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	profile(c, id, NULL, &r);
	cr_assert(has(&r, "<time datetime=\"2026-01-01T00:00Z\">01/01/2026 00:00</time>"),
	          "the opening time");
	cr_assert(has(&r, "class=\"state-expired\">Expired <time"));
	cr_assert(has(&r, "class=\"state-locked\">Locked after too many wrong family names <time"));
	cr_assert(has(&r, "class=\"state-accepted\">Accepted <time"));
	cr_assert(has(&r, "class=\"state-pending\">Pending until <time"));
	for (int i = 0; i < 4; i++) {
		char *action =
		    path_of("action=\"/staff/patients/%lld/invitations/%lld/revoke\"", id, inv[i]);
		cr_assert_eq(has(&r, action), i == 3, "Revoke only for the pending link (%d)", i);
		free(action);
	}
	h_resp_free(&r);

	/* an expired link cannot be revoked */
	char *path = path_of("/staff/patients/%lld/invitations/%lld/revoke", id, inv[0]);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert_not_null(strstr(h_header(&r, "Location"), "?result=not-pending"));
	h_resp_free(&r);
	free(path);
}

Test(staff_invite, bulk_confirmation_names_the_first_fifty)
{
	char given[16];
	char *ids[55];
	for (int i = 0; i < 55; i++) {
		snprintf(given, sizeof(given), "P%02d", i);
		ids[i] = id_str(add_patient(0, given, "Molti", "+393330000001", NULL, 0));
	}
	/* 55 "ids" pairs, built as an urlencoded body */
	char body[4096] = "action=invite&scope=selected";
	for (int i = 0; i < 55; i++) {
		strcat(body, "&ids=");
		strcat(body, ids[i]);
	}
	struct h_client *c = staff_client(0);
	char *full = NULL;
	cr_assert(asprintf(&full, "%s&csrf=%s", body, h_client_csrf(c)) > 0);
	struct h_resp r;
	cr_assert_eq(h_post(c, "/staff/patients/actions", full, &r), 200);
	cr_assert(has(&r, ">P49 Molti</a>"));
	cr_assert(!has(&r, ">P50 Molti</a>"));
	cr_assert(has(&r, "Others not listed: 5"));
	cr_assert_eq(count_of(&r, "invited"), 55);
	h_resp_free(&r);
	free(full);
	for (int i = 0; i < 55; i++)
		free(ids[i]);
}

/* --- bulk ------------------------------------------------------------------ */

/* One patient of each kind in org 0; ids[0..1] eligible. */
struct mix {
	int64_t eligible[2], account, family, parent, no_contact, recent;
};

static void seed_mix(struct mix *m)
{
	m->eligible[0] = add_patient(0, "Eva", "Uno", "+393330000001", NULL, 0);
	m->eligible[1] = add_patient(0, "Ugo", "Due", NULL, "ugo@example.test", 0);
	m->account = add_patient(0, "Ada", "Tre", "+393330000003", NULL, 0);
	give_password(0, m->account, "+393330000003");
	m->parent = add_patient(0, "Pia", "Quattro", NULL, NULL, 0); /* no contact too */
	m->family = add_patient(0, "Leo", "Quattro", "+393330000005", NULL, m->parent);
	m->no_contact = add_patient(0, "Ivo", "Cinque", NULL, NULL, 0);
	m->recent = add_patient(0, "Gea", "Sei", "+393330000007", NULL, 0);
	invite_now(0, m->recent);
}

Test(staff_invite, bulk_confirmation_counts_and_report)
{
	struct mix m;
	seed_mix(&m);
	int64_t theirs = add_patient(1, "Zoe", "Altrove", "+393339999999", NULL, 0);
	int64_t sel[] = {m.eligible[0], m.eligible[1], m.account, m.family,
	                 m.no_contact,  m.recent,      theirs};
	char *s[7];
	for (int i = 0; i < 7; i++)
		s[i] = id_str(sel[i]);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	int64_t before = scalar("SELECT COUNT(*) FROM messages", "", 0, 0);

	/* the list offers the action */
	cr_assert_eq(h_get(c, "/staff/patients", &r), 200);
	cr_assert(has(&r, "value=\"invite\">Invite to patient portal</button>"));
	h_resp_free(&r);

	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "invite", "scope", "selected", "ids", s[0], "ids", s[1],
	                         "ids", s[2], "ids", s[3], "ids", s[4], "ids", s[5], "ids", s[6],
	                         NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 2, "%s", r.body);
	cr_assert_eq(count_of(&r, "has_account"), 1);
	cr_assert_eq(count_of(&r, "family"), 1);
	cr_assert_eq(count_of(&r, "no_contact"), 1);
	cr_assert_eq(count_of(&r, "recent"), 1);
	cr_assert_eq(count_of(&r, "not_found"), 1, "the other organisation's id is not theirs");
	cr_assert(!has(&r, "Altrove"), "another organisation's patient is not named");
	cr_assert(!has(&r, "Others not listed"));
	cr_assert(has(&r, "Eva Uno"));
	cr_assert(has(&r, "<th scope=\"row\">"));
	char *batch = hidden(&r, "batch");
	cr_assert_not_null(batch);
	cr_assert_eq(strlen(batch), 32);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages", "", 0, 0), before,
	             "the confirmation invites nobody");

	/* the report */
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c),
		                         "batch", batch, "scope", "selected", "ids", s[0], "ids",
		                         s[1], "ids", s[2], "ids", s[3], "ids", s[4], "ids", s[5],
		                         "ids", s[6], NULL),
		             200, "round %d", round);
		cr_assert_eq(count_of(&r, "invited"), 2, "round %d: %s", round, r.body);
		cr_assert_eq(count_of(&r, "has_account"), 1);
		cr_assert_eq(count_of(&r, "family"), 1);
		cr_assert_eq(count_of(&r, "no_contact"), 1);
		cr_assert_eq(count_of(&r, "recent"), 1);
		h_resp_free(&r);
		/* the same form twice: nobody is invited twice */
		cr_assert_eq(invitations_of(m.eligible[0]), 1, "round %d", round);
		cr_assert_eq(invitations_of(m.eligible[1]), 1, "round %d", round);
		cr_assert_eq(invitations_of(m.recent), 1);
		cr_assert_eq(invitations_of(m.account), 0);
		cr_assert_eq(invitations_of(theirs), 0);
		cr_assert_eq(scalar("SELECT COUNT(*) FROM messages", "", 0, 0), before + 2);
	}
	cr_assert_eq(messages_of(m.eligible[0], "invitation"), 1);
	cr_assert_eq(messages_of(m.eligible[1], "invitation"), 1);
	/* invite/bulk.c writes one event per run, with the staff id, address and counts (each
	 * invitation row keeps its sender); the repeated form wrote none */
	cr_assert_eq(staff_audits("invite.bulk"), 1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'invite.bulk' AND "
	                    "detail LIKE 'invited 2;%'",
	                    "", 0, 0),
	             1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM invitations WHERE created_by_staff = ?", "i",
	                    H.org[0].staff_id, 0),
	             2);

	/* a new confirmation (new key) now finds both invited in the last 24 hours */
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "invite", "scope", "selected", "ids", s[0], "ids", s[1],
	                         NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 0);
	cr_assert_eq(count_of(&r, "recent"), 2);
	cr_assert(has(&r, "Nobody to invite"));
	cr_assert(!has(&r, "action=\"/staff/patients/invite\""));
	char *batch2 = hidden(&r, "batch");
	cr_assert(batch2 == NULL || strcmp(batch2, batch) != 0);
	free(batch2);
	h_resp_free(&r);
	free(batch);
	for (int i = 0; i < 7; i++)
		free(s[i]);
}

Test(staff_invite, bulk_scope_filter_invites_the_filtered_set)
{
	int64_t b[3], o[2];
	char given[16];
	for (int i = 0; i < 3; i++) {
		snprintf(given, sizeof(given), "Bea%d", i);
		b[i] = add_patient(0, given, "Bianchi", "+39333100000", NULL, 0);
	}
	o[0] = add_patient(0, "Rita", "Rossi", "+393332000001", NULL, 0);
	o[1] = add_patient(0, "Remo", "Rossi", NULL, "remo@example.test", 0);
	int64_t theirs = add_patient(1, "Bino", "Bianchi", "+393339999999", NULL, 0);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "invite", "scope", "filter", "q", "bianchi", "status",
	                         "none", NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 3, "%s", r.body);
	cr_assert(!has(&r, "name=\"ids\""), "a filter's ids never travel in the form");
	cr_assert(has(&r, "name=\"scope\" value=\"filter\""));
	cr_assert(has(&r, "name=\"q\" value=\"bianchi\""));
	cr_assert(has(&r, "name=\"status\" value=\"none\""));
	cr_assert(has(&r, "<q>bianchi</q>"));
	char *batch = hidden(&r, "batch");
	h_resp_free(&r);

	cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	                         batch, "scope", "filter", "q", "bianchi", "status", "none", NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 3, "%s", r.body);
	h_resp_free(&r);
	/* again: the filter (status "none") now matches nobody, and the key says "done" anyway */
	cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	                         batch, "scope", "filter", "q", "bianchi", "status", "none", NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 3);
	h_resp_free(&r);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(invitations_of(b[i]), 1);
	cr_assert_eq(invitations_of(o[0]), 0);
	cr_assert_eq(invitations_of(o[1]), 0);
	cr_assert_eq(invitations_of(theirs), 0, "another organisation's Bianchi is not theirs");
	free(batch);

	/* the whole organisation (no search): the two Rossi are left */
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "invite", "scope", "filter", "q", "", "status", "",
	                         NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 2);
	cr_assert_eq(count_of(&r, "recent"), 3);
	batch = hidden(&r, "batch");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	                         batch, "scope", "filter", "q", "", "status", "", NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 2);
	h_resp_free(&r);
	free(batch);
	cr_assert_eq(invitations_of(o[0]), 1);
	cr_assert_eq(invitations_of(o[1]), 1);
}

Test(staff_invite, bulk_refuses_a_bad_batch_key)
{
	int64_t id = add_patient(0, "Eva", "Uno", "+393330000001", NULL, 0);
	char *s = id_str(id);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	const char *bad[] = {"", "short", "0123456789abcdef0123456789ABCDEF",
	                     "0123456789abcdef0123456789abcdeg"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c),
		                         "batch", bad[i], "ids", s, NULL),
		             400, "%s", bad[i]);
		h_resp_free(&r);
	}
	cr_assert_eq(
	    h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "ids", s, NULL),
	    400);
	h_resp_free(&r);
	cr_assert_eq(all_invitations(), 0);
	free(s);
}

Test(staff_invite, bulk_pages_escape_names_and_search)
{
	int64_t id =
	    add_patient(0, "<script>alert(1)</script>", "O\"Brien<b>", "+393330000001", NULL, 0);
	char *s = id_str(id);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "invite", "scope", "selected", "ids", s, NULL),
	             200);
	cr_assert(!has(&r, "<script>alert"));
	cr_assert(!has(&r, "Brien<b>"));
	cr_assert(has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	char *batch = hidden(&r, "batch");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	                         batch, "scope", "selected", "ids", s, NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 1);
	cr_assert(!has(&r, "<script>alert"));
	cr_assert(!has(&r, "Brien<b>"));
	cr_assert(has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	h_resp_free(&r);
	free(batch);

	/* the search text of a filter, on both pages */
	const char *q = "<img src=x onerror=alert(2)>\"";
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "invite", "scope", "filter", "q", q, NULL),
	             200);
	cr_assert(!has(&r, "<img src=x"));
	cr_assert(has(&r, "&lt;img src=x onerror=alert(2)&gt;"));
	batch = hidden(&r, "batch");
	h_resp_free(&r);
	cr_assert(batch == NULL, "nobody matches: no form");
	cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	                         "0123456789abcdef0123456789abcdef", "scope", "filter", "q", q,
	                         NULL),
	             200);
	cr_assert(!has(&r, "<img src=x"));
	cr_assert(has(&r, "&lt;img src=x onerror=alert(2)&gt;"));
	cr_assert_eq(count_of(&r, "invited"), 0);
	h_resp_free(&r);
	free(s);

	/* the history on the profile escapes the staff name too */
	struct store_conn *db = h_db();
	cr_assert_eq(store_exec(db, NULL, "UPDATE staff_users SET name = ? WHERE id = ?", "ti",
	                        "<i>Eve</i>", H.org[0].staff_id),
	             0);
	store_release(db);
	profile(c, id, NULL, &r);
	cr_assert(!has(&r, "<i>Eve</i>"));
	cr_assert(has(&r, "&lt;i&gt;Eve&lt;/i&gt;"));
	h_resp_free(&r);
}

/* --- CSRF and organisations ------------------------------------------------- */

Test(staff_invite, posts_without_csrf_are_403)
{
	int64_t id = add_patient(0, "Anna", "Verdi", "+393331112222", NULL, 0);
	int64_t inv = invite_now(0, id);
	int64_t active = add_patient(0, "Bruno", "Neri", "+393331113333", NULL, 0);
	give_password(0, active, "+393331113333");
	char *s = id_str(id);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	char *paths[] = {
	    path_of("/staff/patients/%lld/invite", id, 0),
	    path_of("/staff/patients/%lld/reset", active, 0),
	    path_of("/staff/patients/%lld/invitations/%lld/revoke", id, inv),
	    path_of("/staff/patients/invite", 0, 0),
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(h_post_form(c, paths[i], &r, "channel", "sms", "batch",
		                         "0123456789abcdef0123456789abcdef", "ids", s, NULL),
		             403, "%s", paths[i]);
		h_resp_free(&r);
		cr_assert_eq(h_post_form(c, paths[i], &r, "csrf", "forged", "channel", "sms",
		                         "batch", "0123456789abcdef0123456789abcdef", "ids", s,
		                         NULL),
		             403, "%s", paths[i]);
		h_resp_free(&r);
		free(paths[i]);
	}
	cr_assert_eq(
	    h_post_form(c, "/staff/patients/actions", &r, "action", "invite", "ids", s, NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(invitations_of(id), 1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM invitations WHERE id = ? AND state = 'pending'",
	                    "i", inv, 0),
	             1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM resets", "", 0, 0), 0);
	free(s);
}

Test(staff_invite, other_organisation_is_404_on_every_route)
{
	int64_t theirs = add_patient(1, "Bruno", "Neri", "+393331113333", "b@example.test", 0);
	int64_t inv = invite_now(1, theirs);
	int64_t active = add_patient(1, "Carla", "Neri", "+393331114444", NULL, 0);
	give_password(1, active, "+393331114444");
	int64_t mine = add_patient(0, "Anna", "Verdi", "+393331112222", NULL, 0);
	int64_t my_inv = invite_now(0, mine);
	struct h_client *c = staff_client(0);
	struct h_resp r;
	char *paths[] = {
	    path_of("/staff/patients/%lld/invite", theirs, 0),
	    path_of("/staff/patients/%lld/reset", active, 0),
	    path_of("/staff/patients/%lld/invitations/%lld/revoke", theirs, inv),
	    /* my patient, their invitation */
	    path_of("/staff/patients/%lld/invitations/%lld/revoke", mine, inv),
	    /* their patient, my invitation */
	    path_of("/staff/patients/%lld/invitations/%lld/revoke", theirs, my_inv),
	    path_of("/staff/patients/%lld/invitations/%lld/revoke", mine, 999999),
	    path_of("/staff/patients/%lld/invite", 999999, 0),
	    path_of("/staff/patients/abc/invite", 0, 0),
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(
		    h_post_form(c, paths[i], &r, "csrf", h_client_csrf(c), "channel", "sms", NULL),
		    404, "%s", paths[i]);
		cr_assert(!has(&r, "Neri"));
		h_resp_free(&r);
		free(paths[i]);
	}
	cr_assert_eq(invitations_of(theirs), 1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM invitations WHERE state = 'pending'", "", 0, 0),
	             2);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM resets", "", 0, 0), 0);
	cr_assert_eq(
	    scalar("SELECT COUNT(*) FROM audit_events WHERE actor_kind = 'staff'", "", 0, 0), 0);

	/* bulk: their ids are counted as not found and never invited, selected or by filter */
	char *s = id_str(theirs);
	cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	                         "0123456789abcdef0123456789abcdef", "scope", "selected", "ids", s,
	                         NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 0);
	cr_assert_eq(count_of(&r, "not_found"), 1);
	cr_assert(!has(&r, "Neri"));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	                         "1123456789abcdef0123456789abcdef", "scope", "filter", "q", "neri",
	                         NULL),
	             200);
	cr_assert_eq(count_of(&r, "invited"), 0);
	h_resp_free(&r);
	cr_assert_eq(invitations_of(theirs), 1);
	free(s);

	/* and the other organisation's staff cannot see this one's history */
	struct h_client *d = staff_client(1);
	char *p = path_of("/staff/patients/%lld", mine, 0);
	cr_assert_eq(h_get(d, p, &r), 404);
	h_resp_free(&r);
	free(p);
}

/* --- scale --------------------------------------------------------------------- */

/* Sanitizers slow every row down ~10x: there the same path runs on 10,000 patients, inside
 * the harness's 30-second request timeout. On PostgreSQL each row is a round trip to the
 * server: 20,000 there, and bench/bulk_invite measures the full 100,000. */
#if defined(__SANITIZE_ADDRESS__)
#define BULK_N 10000
#else
#define BULK_N 100000
#endif

Test(staff_invite, bulk_invite_of_100000_patients, .timeout = 300)
{
	const int N = H.pg_schema[0] != '\0' ? 20000 : BULK_N;
	struct store_conn *db = h_db();
	cr_assert_eq(store_begin(db), 0);
	/* names and keys need no names_key() here: the filter is the whole organisation */
	cr_assert_eq(
	    store_exec(
	        db, NULL,
	        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) "
	        "INSERT INTO patients (org_id, given_name, family_name, family_key, "
	        "search_key, search_key_fg, mobile, lang, created_at, updated_at) "
	        "SELECT ?, 'Given' || x, 'Family' || x, 'family' || x, 'given' || x, "
	        "'family' || x, '+39333' || (1000000 + x), 'it', 0, 0 FROM n",
	        "ii", (int64_t)N, H.org[0].org_id),
	    0);
	cr_assert_eq(store_commit(db), 0);
	store_release(db);

	struct h_client *c = staff_client(0);
	struct h_resp r;
	int64_t t0 = now_ms();
	cr_assert_eq(h_post_form(c, "/staff/patients/actions", &r, "csrf", h_client_csrf(c),
	                         "action", "invite", "scope", "filter", NULL),
	             200);
	int64_t t1 = now_ms();
	cr_assert_eq(count_of(&r, "invited"), N);
	cr_assert_lt(r.len, 64 * 1024, "the confirmation does not carry the ids");
	char *batch = hidden(&r, "batch");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/patients/invite", &r, "csrf", h_client_csrf(c), "batch",
	                         batch, "scope", "filter", NULL),
	             200);
	int64_t t2 = now_ms();
	cr_assert_eq(count_of(&r, "invited"), N);
	h_resp_free(&r);
	free(batch);
	cr_assert_eq(all_invitations(), N);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE kind = 'invitation'", "", 0, 0),
	             N);
	cr_log_info("%d patients: confirmation %lld ms, invite %lld ms", N, (long long)(t1 - t0),
	            (long long)(t2 - t1));
}
