/*
 * HTTP tests of the recalls staff set up (src/staff/recalls.c) and of the
 * payment request the "new appointment" page sends (src/comms/triggers.c):
 * create a recall on the profile and from the recalls list, field errors,
 * the list (due / upcoming / sent filters, pages), cancel, organisation
 * isolation (404), CSRF (403); an offline video consultation with mandatory
 * payment queues "request payment in advance" once.
 */
#include "harness.h"

#include "booking/tz.h"
#include "comms/triggers.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(staff_recalls, .init = h_start, .fini = h_stop);

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

static int count_of(const struct h_resp *r, const char *s)
{
	int n = 0;
	for (const char *p = r->body; p != NULL && (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	return n;
}

/* printf into a static buffer (one at a time). */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char buf[512];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

static struct h_client *staff(int org)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	h_staff_signin(c, org);
	return c;
}

static int64_t scalar(const char *sql, int64_t id)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int err = id != 0 ? store_scalar(db, &n, sql, "i", id) : store_scalar(db, &n, sql, "");
	store_release(db);
	cr_assert_eq(err, 0, "%s: %s", sql, store_strerror(err));
	return n;
}

static int64_t add_patient(int org, const char *family, const char *mobile, const char *email)
{
	struct store_conn *db = h_db();
	struct store_patient p = {.org_id = H.org[org].org_id,
	                          .given_name = "Maria",
	                          .family_name = (char *)family,
	                          .mobile = (char *)mobile,
	                          .email = (char *)email,
	                          .lang = "it"};
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0);
	return p.id;
}

static int64_t add_service(int org, const char *name, const char *kind, const char *pay)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	int err = store_insert(db, &id,
	                       "INSERT INTO services (org_id, name, kind, price_cents, payment) "
	                       "VALUES (?, ?, ?, 3500, ?) RETURNING id",
	                       "ittt", H.org[org].org_id, name, kind, pay);
	store_release(db);
	cr_assert_eq(err, 0);
	return id;
}

/* The organisation's local day, days from now, as YYYY-MM-DD. */
static void day_in(int days, char out[32])
{
	struct tz_local l;
	cr_assert_eq(tz_utc_to_local("Europe/Rome", now_utc() + days * 86400, &l), 0);
	snprintf(out, 32, "%04d-%02d-%02d", l.year, l.month, l.day);
}

Test(staff_recalls, create_on_the_profile_then_listed_and_sent_once)
{
	struct h_client *c = staff(0);
	struct h_resp r;
	int64_t p = add_patient(0, "Rossetti", "+393331112222", NULL);
	int64_t svc = add_service(0, "Controllo annuale", "in_person", "none");
	char svcs[24], due[32];
	snprintf(svcs, sizeof(svcs), "%lld", (long long)svc);
	day_in(0, due);

	cr_assert_eq(h_get(c, fmt("/staff/patients/%lld", (long long)p), &r), 200);
	cr_assert(has(&r, "New recall"));
	cr_assert(has(&r, fmt("action=\"/staff/patients/%lld/recalls\"", (long long)p)));
	cr_assert(has(&r, "Controllo annuale"));
	cr_assert(has(&r, "value=\"sms\" checked"), "SMS chosen for a patient with a mobile");
	h_resp_free(&r);

	cr_assert_eq(h_post_form(c, fmt("/staff/patients/%lld/recalls", (long long)p), &r, "csrf",
	                         h_client_csrf(c), "service", svcs, "due_date", due, "channel",
	                         "sms", NULL),
	             303);
	cr_assert_str_eq(h_header(&r, "Location"),
	                 fmt("/staff/patients/%lld?recall=created#recalls-h", (long long)p));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM recalls WHERE patient_id = ?", p), 1);
	cr_assert_eq(scalar("SELECT created_by FROM recalls WHERE patient_id = ?", p),
	             H.org[0].staff_id);

	cr_assert_eq(h_get(c, fmt("/staff/patients/%lld?recall=created", (long long)p), &r), 200);
	cr_assert(has(&r, "Recall saved"));
	cr_assert(has(&r, "Not yet"), "listed on the profile, not sent");
	h_resp_free(&r);

	cr_assert_eq(h_get(c, "/staff/recalls?state=due", &r), 200);
	cr_assert(has(&r, "Rossetti"));
	cr_assert(has(&r, "data-state=\"due\""));
	h_resp_free(&r);

	/* the scheduler's run sends it once; then it is listed as sent */
	cr_assert_eq(comms_triggers_run(H.store, now_utc(), NULL), 0);
	cr_assert_eq(comms_triggers_run(H.store, now_utc(), NULL), 0);
	cr_assert_eq(
	    scalar("SELECT COUNT(*) FROM messages WHERE kind = 'recall' AND patient_id = ?", p), 1);
	cr_assert_eq(h_get(c, "/staff/recalls?state=due", &r), 200);
	cr_assert_not(has(&r, "Rossetti"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/recalls?state=sent", &r), 200);
	cr_assert(has(&r, "Rossetti"));
	cr_assert(has(&r, "data-state=\"sent\""));
	cr_assert_not(has(&r, "/cancel\""), "a sent recall cannot be cancelled");
	h_resp_free(&r);
}

Test(staff_recalls, field_errors_keep_the_form_and_store_nothing)
{
	struct h_client *c = staff(0);
	struct h_resp r;
	int64_t p = add_patient(0, "Bianchi", "+393331113333", NULL);
	char svcs[24], past[32];
	snprintf(svcs, sizeof(svcs), "%lld",
	         (long long)add_service(0, "Igiene orale", "in_person", "none"));
	day_in(-2, past);
	const char *path = fmt("/staff/patients/%lld/recalls", (long long)p);
	char action[64];
	snprintf(action, sizeof(action), "%s", path);

	cr_assert_eq(h_post_form(c, action, &r, "csrf", h_client_csrf(c), "service", "", "due_date",
	                         "31/02/2027", "channel", "email", NULL),
	             200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, "Choose the service."));
	cr_assert(has(&r, "Enter the due date, for example 31/12/2026."));
	cr_assert(has(&r, "This patient has no e-mail address: choose SMS."));
	cr_assert(has(&r, "value=\"31/02/2027\""), "what was typed is kept");
	h_resp_free(&r);

	cr_assert_eq(h_post_form(c, action, &r, "csrf", h_client_csrf(c), "service", svcs,
	                         "due_date", past, "channel", "sms", NULL),
	             200);
	cr_assert(has(&r, "This date has passed"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM recalls", 0), 0);

	/* a typed D/M/YYYY date is fine */
	cr_assert_eq(h_post_form(c, action, &r, "csrf", h_client_csrf(c), "service", svcs,
	                         "due_date", "1/3/2099", "channel", "sms", NULL),
	             303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM recalls WHERE due_date = '2099-03-01'", 0), 1);
}

Test(staff_recalls, the_list_form_with_a_patient_search)
{
	struct h_client *c = staff(0);
	struct h_resp r;
	int64_t p = add_patient(0, "Verdone", "+393331114444", "v@example.org");
	char svcs[24];
	snprintf(svcs, sizeof(svcs), "%lld",
	         (long long)add_service(0, "Vaccino", "in_person", "none"));
	cr_assert_eq(h_get(c, "/staff/recalls/new?q=verdo", &r), 200);
	cr_assert(has(&r, fmt("/staff/recalls/new?patient=%lld", (long long)p)));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, fmt("/staff/recalls/new?patient=%lld", (long long)p), &r), 200);
	cr_assert(has(&r, "Vaccino"));
	h_resp_free(&r);
	char pid[24];
	snprintf(pid, sizeof(pid), "%lld", (long long)p);
	cr_assert_eq(h_post_form(c, "/staff/recalls/new", &r, "csrf", h_client_csrf(c), "patient",
	                         pid, "service", svcs, "due_date", "2099-01-31", "channel", "both",
	                         NULL),
	             303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/recalls?done=created");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/recalls?state=upcoming", &r), 200);
	cr_assert(has(&r, "Verdone"));
	cr_assert(has(&r, "SMS and e-mail"));
	cr_assert(has(&r, "31/01/2099"));
	h_resp_free(&r);
}

Test(staff_recalls, cancel_and_pages)
{
	struct h_client *c = staff(0);
	struct h_resp r;
	int64_t p = add_patient(0, "Neri", "+393331115555", NULL);
	int64_t svc = add_service(0, "Controllo", "in_person", "none");
	struct store_conn *db = h_db();
	int64_t first = 0;
	for (int i = 0; i < 55; i++) {
		int64_t id = 0;
		char due[32];
		snprintf(due, sizeof(due), "2099-%02d-%02d", 1 + i / 28, 1 + i % 28);
		cr_assert_eq(comms_recall_create(db, H.org[0].org_id, p, svc, due, "sms",
		                                 H.org[0].staff_id, NULL, now_utc(), &id),
		             0);
		if (i == 0)
			first = id;
	}
	store_release(db);
	cr_assert_eq(h_get(c, "/staff/recalls", &r), 200);
	cr_assert_eq(count_of(&r, "<tr id=\"recall-"), 50);
	cr_assert(has(&r, "rel=\"next\""));
	cr_assert(has(&r, "after_date=2099-02-22&amp;after="), "keyset link");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/recalls?after_date=2099-02-22&after=999999", &r), 200);
	cr_assert_eq(count_of(&r, "<tr id=\"recall-"), 5);
	cr_assert_not(has(&r, "rel=\"next\""));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/recalls?after_date=2099-13-01&after=1", &r), 400);
	h_resp_free(&r);

	const char *cancel = fmt("/staff/recalls/%lld/cancel", (long long)first);
	char path[64];
	snprintf(path, sizeof(path), "%s", cancel);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/recalls?done=cancelled");
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path, &r, "csrf", h_client_csrf(c), NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/staff/recalls?done=gone");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/recalls?state=cancelled", &r), 200);
	cr_assert_eq(count_of(&r, "<tr id=\"recall-"), 1);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'recall.cancel'", 0),
	             1);
}

Test(staff_recalls, another_organisation_is_a_404_and_posts_need_csrf)
{
	struct h_client *mine = staff(0), *other = staff(1);
	struct h_resp r;
	int64_t p = add_patient(0, "Galli", "+393331116666", NULL);
	int64_t svc = add_service(0, "Controllo", "in_person", "none");
	int64_t their_svc = add_service(1, "Altro", "in_person", "none");
	char svcs[24], theirs[24];
	snprintf(svcs, sizeof(svcs), "%lld", (long long)svc);
	snprintf(theirs, sizeof(theirs), "%lld", (long long)their_svc);
	const char *rp = fmt("/staff/patients/%lld/recalls", (long long)p);
	char path[64];
	snprintf(path, sizeof(path), "%s", rp);

	/* CSRF first: without the token nothing happens */
	cr_assert_eq(h_post_form(mine, path, &r, "service", svcs, "due_date", "2099-01-01",
	                         "channel", "sms", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(mine, path, &r, "csrf", "forged", "service", svcs, "due_date",
	                         "2099-01-01", "channel", "sms", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM recalls", 0), 0);

	/* the other clinic's staff: the patient, the form and the list are not theirs */
	cr_assert_eq(h_post_form(other, path, &r, "csrf", h_client_csrf(other), "service", theirs,
	                         "due_date", "2099-01-01", "channel", "sms", NULL),
	             404);
	h_resp_free(&r);
	cr_assert_eq(h_get(other, fmt("/staff/recalls/new?patient=%lld", (long long)p), &r), 404);
	h_resp_free(&r);
	/* my patient with their service: 404 too */
	cr_assert_eq(h_post_form(mine, path, &r, "csrf", h_client_csrf(mine), "service", theirs,
	                         "due_date", "2099-01-01", "channel", "sms", NULL),
	             404);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(mine, path, &r, "csrf", h_client_csrf(mine), "service", svcs,
	                         "due_date", "2099-01-01", "channel", "sms", NULL),
	             303);
	h_resp_free(&r);
	int64_t id = scalar("SELECT id FROM recalls", 0);
	cr_assert_eq(h_get(other, "/staff/recalls", &r), 200);
	cr_assert_not(has(&r, "Galli"));
	cr_assert(has(&r, "No recalls."));
	h_resp_free(&r);
	const char *cp = fmt("/staff/recalls/%lld/cancel", (long long)id);
	snprintf(path, sizeof(path), "%s", cp);
	cr_assert_eq(h_post_form(other, path, &r, "csrf", h_client_csrf(other), NULL), 404);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(mine, path, &r, NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM recalls WHERE cancelled_at IS NULL", 0), 1);

	struct h_client *out = h_client();
	cr_assert_eq(h_get(out, "/staff/recalls", &r), 303);
	h_resp_free(&r);
}

Test(staff_recalls, offline_video_with_mandatory_payment_queues_the_payment_request_once)
{
	struct h_client *c = staff(0);
	struct h_resp r;
	int64_t p = add_patient(0, "Fontana", "+393331117777", NULL);
	int64_t svc = add_service(0, "Televisita", "video", "mandatory");
	char day[32], pid[24], sid[24], place[24];
	day_in(3, day);
	snprintf(pid, sizeof(pid), "%lld", (long long)p);
	snprintf(sid, sizeof(sid), "%lld", (long long)svc);
	snprintf(place, sizeof(place), "%lld", (long long)H.org[0].org_id);
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", pid, "service", sid, "place", place, "date", day,
	                         "time", "10:00", "kind", "video", "payment", "mandatory", "amount",
	                         "35,00", NULL),
	             303);
	cr_assert_not_null(strstr(h_header(&r, "Location"), "&payreq=1"), "%s",
	                   h_header(&r, "Location"));
	h_resp_free(&r);
	int64_t ap = scalar("SELECT id FROM appointments", 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE kind = 'payment_request' AND "
	                    "appointment_id = ?",
	                    ap),
	             1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM invitations WHERE patient_id = ?", p), 1,
	             "no account: the link is an invitation");
	/* the scheduler finds nothing left to send for it */
	struct comms_trigger_stats st[8];
	int n = 0;
	comms_trigger_table(&n);
	cr_assert_eq(comms_triggers_run(H.store, now_utc(), st), 0);
	cr_assert_eq(st[0].queued, 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE kind = 'payment_request'", 0), 1);

	/* in person, or with no payment: no payment request */
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", pid, "service", sid, "place", place, "date", day,
	                         "time", "11:00", "kind", "in_person", "payment", "mandatory",
	                         "amount", "35,00", NULL),
	             303);
	cr_assert_null(strstr(h_header(&r, "Location"), "payreq"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE kind = 'payment_request'", 0), 1);
}
