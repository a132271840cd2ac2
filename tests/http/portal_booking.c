/*
 * HTTP tests of the patient's home, appointment and booking pages
 * (src/portal/home.c, appointments.c, search.c): the home lists the patient's
 * and the family's appointments and puts an unpaid mandatory payment first;
 * an appointment page is 404 for anyone it does not belong to (another
 * patient, another portal); cancel and reschedule work until the cut-off and
 * not after; the search filters and pre-selects ?service=; of two clients
 * racing for one slot one books and the other is told and shown the next
 * slots; booking for a managed family member is allowed and for anybody
 * else's refused; an online video consultation with mandatory payment goes to
 * its payment page; sign-in comes back to /search?service=N; CSRF and escaping.
 */
#include "harness.h"

#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(portal_booking, .init = h_start, .fini = h_stop);

#define DAY  86400
#define HOUR 3600
#define PW   "the patient's own password"

static int has(const struct h_resp *r, const char *s)
{
	return r->body != NULL && strstr(r->body, s) != NULL;
}

/* Runs sql with one integer parameter. */
static void exec_sql(const char *sql, int64_t a)
{
	struct store_conn *db = h_db();
	int rc = store_exec(db, NULL, sql, "i", a);
	store_release(db);
	cr_assert_eq(rc, 0, "%s: %s", sql, store_strerror(rc));
}

static int64_t scalar(const char *sql, int64_t a)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int rc = store_scalar(db, &n, sql, "i", a);
	store_release(db);
	cr_assert_eq(rc, 0, "%s: %s", sql, store_strerror(rc));
	return n;
}

static int64_t patient(int org, const char *given, const char *family, const char *email,
                       int64_t managed_by)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[org].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.birth_date = "1980-01-01";
	p.email = (char *)email;
	p.lang = "en";
	p.managed_by = managed_by;
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

static int64_t service(int64_t org_id, const char *name, const char *kind, const char *payment,
                       int64_t price)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	int rc =
	    store_insert(db, &id,
	                 "INSERT INTO services (org_id, name, duration_min, kind, price_cents, "
	                 "payment, online_booking, active) VALUES (?, ?, 30, ?, ?, ?, 1, 1) "
	                 "RETURNING id",
	                 "ittit", org_id, name, kind, price, payment);
	store_release(db);
	cr_assert_eq(rc, 0, "insert service: %s", store_strerror(rc));
	return id;
}

static int64_t slot(int64_t org_id, int64_t svc, int64_t start, int capacity, int booked)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	int rc = store_insert(db, &id,
	                      "INSERT INTO slots (org_id, service_id, start_at, end_at, capacity, "
	                      "booked) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
	                      "iiiiii", org_id, svc, start, start + 1800, (int64_t)capacity,
	                      (int64_t)booked);
	store_release(db);
	cr_assert_eq(rc, 0, "insert slot: %s", store_strerror(rc));
	return id;
}

/* An appointment (offline) of patient at org for svc; slot_id 0: none. */
static int64_t appointment(int64_t pat, int64_t org_id, int64_t svc, int64_t slot_id, int64_t start,
                           const char *kind, const char *payment, int64_t amount)
{
	struct store_conn *db = h_db();
	int64_t id = 0;
	int rc = store_insert(db, &id,
	                      "INSERT INTO appointments (patient_id, org_id, service_id, slot_id, "
	                      "start_at, end_at, kind, booked_via, payment, amount_cents) VALUES "
	                      "(?, ?, ?, ?, ?, ?, ?, 'offline', ?, ?) RETURNING id",
	                      "iiiIiitti", pat, org_id, svc, slot_id, start, start + 1800, kind,
	                      payment, amount);
	store_release(db);
	cr_assert_eq(rc, 0, "insert appointment: %s", store_strerror(rc));
	return id;
}

/* The standard cast: org 0 with an address; a member practice on portal 0; patient Anna
 * (account) with her son Bruno; patient Carla (another account, with her own daughter Dora);
 * patient Elio at org 1. */
struct cast {
	int64_t member, anna, bruno, carla, dora, elio;
	int64_t cardio, derm, gp_member, video, other_org_svc;
};

static struct cast cast(void)
{
	struct cast k;
	exec_sql("UPDATE organisations SET address = 'Via Roma 1, Roma', phone = '+39 06 1' "
	         "WHERE id = ?",
	         H.org[0].org_id);
	struct store_conn *db = h_db();
	int rc =
	    store_insert(db, &k.member,
	                 "INSERT INTO organisations (kind, portal_id, parent_id, name, address) "
	                 "VALUES ('member', ?, ?, 'Studio Ferri', 'Via Tuscolana 45') "
	                 "RETURNING id",
	                 "ii", H.org[0].portal_id, H.org[0].org_id);
	store_release(db);
	cr_assert_eq(rc, 0);
	k.anna = patient(0, "Anna", "Rossi", "anna@example.test", 0);
	k.bruno = patient(0, "Bruno", "Rossi", NULL, k.anna);
	k.carla = patient(0, "Carla", "Bianchi", "carla@example.test", 0);
	k.dora = patient(0, "Dora", "Bianchi", NULL, k.carla);
	k.elio = patient(1, "Elio", "Verdi", "elio@example.test", 0);
	k.cardio = service(H.org[0].org_id, "Cardiology visit", "in_person", "optional", 12000);
	k.derm = service(H.org[0].org_id, "Dermatology visit", "in_person", "none", 0);
	k.gp_member = service(k.member, "GP visit", "in_person", "none", 0);
	k.video = service(H.org[0].org_id, "Video nutrition", "video", "mandatory", 6000);
	k.other_org_svc = service(H.org[1].org_id, "Other clinic visit", "in_person", "none", 0);
	return k;
}

static struct h_client *as_patient(int64_t id, int org)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	h_signin(c, STORE_SESSION_PATIENT, id, H.org[org].org_id);
	return c;
}

static long post(struct h_client *c, const char *path, struct h_resp *r, const char *k1,
                 const char *v1)
{
	char *csrf = strdup(h_client_csrf(c));
	long st = h_post_form(c, path, r, "csrf", csrf, k1 ? k1 : "x", k1 ? v1 : "", NULL);
	free(csrf);
	return st;
}

static char *path_of(const char *fmt, int64_t a, int64_t b)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];
	snprintf(p, 256, fmt, (long long)a, (long long)b);
	return p;
}

static int64_t count_messages(const char *kind)
{
	struct store_conn *db = h_db();
	int64_t n = -1;
	int rc = store_scalar(db, &n, "SELECT COUNT(*) FROM messages WHERE kind = ?", "t", kind);
	store_release(db);
	cr_assert_eq(rc, 0);
	return n;
}

/* ---- home ------------------------------------------------------------------- */

Test(portal_booking, home_lists_own_and_family_and_flags_the_unpaid_payment)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t own = appointment(k.anna, org, k.cardio, 0, now + 3 * DAY, "in_person", "none", 0);
	int64_t due =
	    appointment(k.anna, org, k.video, 0, now + 5 * DAY, "video", "mandatory", 6000);
	int64_t kid =
	    appointment(k.bruno, k.member, k.gp_member, 0, now + 4 * DAY, "in_person", "none", 0);
	int64_t past = appointment(k.anna, org, k.derm, 0, now - 30 * DAY, "in_person", "none", 0);
	int64_t other = appointment(k.carla, org, k.derm, 0, now + 2 * DAY, "in_person", "none", 0);
	(void)own;
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, "Welcome,"));
	cr_assert(has(&r, "To do first"));
	cr_assert(has(&r, path_of("href=\"/appointments/%lld/pay\"", due, 0)));
	cr_assert(has(&r, "Cardiology visit"));
	cr_assert(has(&r, "Bruno Rossi"), "the family member is listed");
	cr_assert(has(&r, path_of("href=\"/appointments/%lld\"", kid, 0)));
	cr_assert(has(&r, "Studio Ferri"));
	cr_assert(has(&r, path_of("href=\"/appointments/%lld\"", past, 0)));
	cr_assert(has(&r, "Past and cancelled appointments"));
	cr_assert(!has(&r, path_of("href=\"/appointments/%lld\"", other, 0)),
	          "another patient's appointment is not listed");
	cr_assert(has(&r, "href=\"/search\""));
	cr_assert(has(&r, "href=\"/account\""));
	cr_assert(has(&r, "action=\"/logout\""));
	/* the unpaid one comes before the list of upcoming appointments */
	cr_assert(strstr(r.body, "To do first") < strstr(r.body, "Your upcoming appointments"));
	h_resp_free(&r);

	/* signed out: the public page */
	struct h_client *anon = h_client();
	cr_assert_eq(h_get(anon, "/", &r), 200);
	cr_assert(!has(&r, "Cardiology visit"));
	cr_assert(has(&r, "href=\"/login\""));
	h_resp_free(&r);
}

Test(portal_booking, dates_are_in_the_patients_language_and_the_clinic_zone)
{
	struct cast k = cast();
	/* 2030-01-07 08:30 UTC is Monday 09:30 in Rome (CET) */
	int64_t start = 1894005000;
	appointment(k.anna, H.org[0].org_id, k.derm, 0, start, "in_person", "none", 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, "Monday 7 January 2030, 09:30"), "%s", r.body);
	h_resp_free(&r);
	h_set_cookie(c, "lang", "it");
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, "lunedì 7 gennaio 2030, 09:30"), "Italian names (po/it.po)");
	h_resp_free(&r);
}

/* ---- the appointment page ------------------------------------------------------ */

Test(portal_booking, appointment_page_is_404_for_strangers)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t own =
	    appointment(k.anna, org, k.cardio, 0, now + 3 * DAY, "in_person", "optional", 12000);
	int64_t kid =
	    appointment(k.bruno, k.member, k.gp_member, 0, now + 3 * DAY, "in_person", "none", 0);
	int64_t carla = appointment(k.carla, org, k.derm, 0, now + 3 * DAY, "in_person", "none", 0);
	int64_t dora = appointment(k.dora, org, k.derm, 0, now + 3 * DAY, "in_person", "none", 0);
	int64_t elio = appointment(k.elio, H.org[1].org_id, k.other_org_svc, 0, now + 3 * DAY,
	                           "in_person", "none", 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path_of("/appointments/%lld", own, 0), &r), 200);
	cr_assert(has(&r, "Cardiology visit"));
	cr_assert(has(&r, "Via Roma 1, Roma"));
	cr_assert(has(&r, "Clinic 0"));
	cr_assert(has(&r, "€120.00"));
	cr_assert(has(&r, "not paid yet"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/appointments/%lld", kid, 0), &r), 200);
	cr_assert(has(&r, "Via Tuscolana 45"), "a member's address");
	cr_assert(has(&r, "Bruno"));
	h_resp_free(&r);
	const int64_t strangers[] = {carla, dora, elio, elio + 1000};
	for (size_t i = 0; i < sizeof(strangers) / sizeof(strangers[0]); i++) {
		cr_assert_eq(h_get(c, path_of("/appointments/%lld", strangers[i], 0), &r), 404,
		             "appointment %zu", i);
		cr_assert(!has(&r, "Dermatology") && !has(&r, "Other clinic"));
		h_resp_free(&r);
		cr_assert_eq(h_get(c, path_of("/appointments/%lld/cancel", strangers[i], 0), &r),
		             404);
		h_resp_free(&r);
		cr_assert_eq(
		    post(c, path_of("/appointments/%lld/cancel", strangers[i], 0), &r, NULL, NULL),
		    404);
		h_resp_free(&r);
	}
	cr_assert_eq(
	    scalar("SELECT COUNT(*) FROM appointments WHERE status = 'booked' AND id > ?", 0), 5);
	/* the other portal's patient cannot open Anna's either */
	struct h_client *e = as_patient(k.elio, 1);
	cr_assert_eq(h_get(e, path_of("/appointments/%lld", own, 0), &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_get(e, path_of("/appointments/%lld", elio, 0), &r), 200);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/appointments/abc", &r), 404);
	h_resp_free(&r);
}

Test(portal_booking, cancel_before_the_cutoff_frees_the_slot)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t s = slot(org, k.derm, now + 3 * DAY, 1, 1);
	int64_t a = appointment(k.anna, org, k.derm, s, now + 3 * DAY, "in_person", "none", 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path_of("/appointments/%lld", a, 0), &r), 200);
	cr_assert(has(&r, path_of("href=\"/appointments/%lld/cancel\"", a, 0)));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/appointments/%lld/cancel", a, 0), &r), 200);
	cr_assert(has(&r, "Yes, cancel it"));
	h_resp_free(&r);
	cr_assert_eq(post(c, path_of("/appointments/%lld/cancel", a, 0), &r, NULL, NULL), 303);
	cr_assert_str_eq(h_header(&r, "Location"),
	                 path_of("/appointments/%lld?done=cancelled", a, 0));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE id = ? AND status = "
	                    "'cancelled'",
	                    a),
	             1);
	cr_assert_eq(count_messages("cancellation"), 1);
	cr_assert_eq(h_get(c, path_of("/appointments/%lld?done=cancelled", a, 0), &r), 200);
	cr_assert(has(&r, "role=\"status\""));
	cr_assert(has(&r, "Cancelled"));
	cr_assert(!has(&r, path_of("href=\"/appointments/%lld/cancel\"", a, 0)));
	h_resp_free(&r);
	/* twice: refused, nothing changes */
	cr_assert_eq(post(c, path_of("/appointments/%lld/cancel", a, 0), &r, NULL, NULL), 409);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s), 0);
}

Test(portal_booking, cancel_after_the_cutoff_is_refused)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t s = slot(org, k.derm, now + 5 * HOUR, 1, 1);
	int64_t a = appointment(k.anna, org, k.derm, s, now + 5 * HOUR, "in_person", "none", 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path_of("/appointments/%lld", a, 0), &r), 200);
	cr_assert(!has(&r, path_of("href=\"/appointments/%lld/cancel\"", a, 0)));
	cr_assert(has(&r, "please call the clinic"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/appointments/%lld/cancel", a, 0), &r), 409);
	cr_assert(has(&r, "role=\"alert\""));
	h_resp_free(&r);
	cr_assert_eq(post(c, path_of("/appointments/%lld/cancel", a, 0), &r, NULL, NULL), 409);
	cr_assert(has(&r, "too late"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s), 1);
	cr_assert_eq(
	    scalar("SELECT COUNT(*) FROM appointments WHERE id = ? AND status = 'booked'", a), 1);
	/* a shorter cut-off set by the organisation allows it */
	struct store_conn *db = h_db();
	cr_assert_eq(store_exec(db, NULL,
	                        "INSERT INTO org_settings (org_id, key, value) VALUES (?, "
	                        "'cancel_cutoff_hours', '2')",
	                        "i", org),
	             0);
	store_release(db);
	cr_assert_eq(post(c, path_of("/appointments/%lld/cancel", a, 0), &r, NULL, NULL), 303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s), 0);
}

Test(portal_booking, reschedule_moves_to_the_chosen_slot)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t old = slot(org, k.derm, now + 3 * DAY, 1, 1);
	int64_t neu = slot(org, k.derm, now + 6 * DAY, 1, 0);
	int64_t a = appointment(k.anna, org, k.derm, old, now + 3 * DAY, "in_person", "none", 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path_of("/appointments/%lld/reschedule", a, 0), &r), 200);
	cr_assert(has(&r, path_of("/appointments/%lld/reschedule?slot=%lld", a, neu)));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/appointments/%lld/reschedule?slot=%lld", a, neu), &r), 200);
	cr_assert(has(&r, "Confirm the new date"));
	cr_assert(has(&r, path_of("name=\"slot\" value=\"%lld\"", neu, 0)));
	h_resp_free(&r);
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)neu);
	cr_assert_eq(post(c, path_of("/appointments/%lld/reschedule", a, 0), &r, "slot", v), 303);
	cr_assert_str_eq(h_header(&r, "Location"), path_of("/appointments/%lld?done=moved", a, 0));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT start_at FROM appointments WHERE id = ?", a), now + 6 * DAY);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", old), 0);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", neu), 1);
	cr_assert_eq(count_messages("reschedule"), 1);
	/* a full slot: told, nothing moves */
	int64_t full = slot(org, k.derm, now + 8 * DAY, 1, 1);
	snprintf(v, sizeof(v), "%lld", (long long)full);
	cr_assert_eq(post(c, path_of("/appointments/%lld/reschedule", a, 0), &r, "slot", v), 409);
	cr_assert(has(&r, "That time was just taken"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT slot_id FROM appointments WHERE id = ?", a), neu);
	/* after the cut-off: no reschedule */
	int64_t soon = appointment(k.anna, org, k.derm, 0, now + HOUR, "in_person", "none", 0);
	cr_assert_eq(h_get(c, path_of("/appointments/%lld/reschedule", soon, 0), &r), 409);
	h_resp_free(&r);
	snprintf(v, sizeof(v), "%lld", (long long)old);
	cr_assert_eq(post(c, path_of("/appointments/%lld/reschedule", soon, 0), &r, "slot", v),
	             409);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", old), 0);
}

/* ---- search ------------------------------------------------------------------ */

Test(portal_booking, search_filters_and_preselects_the_service)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t c1 = slot(org, k.cardio, now + 2 * DAY, 1, 0);
	int64_t c2 = slot(org, k.cardio, now + 9 * DAY, 1, 0);
	int64_t d1 = slot(org, k.derm, now + 1 * DAY, 1, 0);
	int64_t g1 = slot(k.member, k.gp_member, now + 3 * DAY, 1, 0);
	int64_t full = slot(org, k.cardio, now + 4 * DAY, 1, 1);
	int64_t o1 = slot(H.org[1].org_id, k.other_org_svc, now + DAY, 1, 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, "/search", &r), 200);
	cr_assert(has(&r, "<label for=\"service\">"));
	cr_assert(has(&r, "<label for=\"place\">"));
	cr_assert(has(&r, "Studio Ferri"));
	cr_assert(!has(&r, "Other clinic visit"), "another portal's service is not offered");
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", d1, 0)));
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", g1, 0)));
	cr_assert(!has(&r, path_of("href=\"/book/%lld\"", full, 0)), "a full slot is not listed");
	cr_assert(!has(&r, path_of("href=\"/book/%lld\"", o1, 0)));
	/* soonest first */
	cr_assert(strstr(r.body, path_of("href=\"/book/%lld\"", d1, 0)) <
	          strstr(r.body, path_of("href=\"/book/%lld\"", c1, 0)));
	h_resp_free(&r);

	cr_assert_eq(h_get(c, path_of("/search?service=%lld", k.cardio, 0), &r), 200);
	cr_assert(has(&r, path_of("<option value=\"%lld\" selected>", k.cardio, 0)));
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", c1, 0)));
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", c2, 0)));
	cr_assert(!has(&r, path_of("href=\"/book/%lld\"", d1, 0)));
	h_resp_free(&r);

	cr_assert_eq(h_get(c, path_of("/search?place=%lld", k.member, 0), &r), 200);
	cr_assert(has(&r, path_of("<option value=\"%lld\" selected>", k.member, 0)));
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", g1, 0)));
	cr_assert(!has(&r, path_of("href=\"/book/%lld\"", c1, 0)));
	h_resp_free(&r);

	/* a date range that holds only the first cardiology slot (dates in Rome) */
	struct tm tm;
	time_t t1 = (time_t)(now + 2 * DAY), t2 = (time_t)(now + 3 * DAY);
	char from[16], to[16], url[128];
	gmtime_r(&t1, &tm);
	strftime(from, sizeof(from), "%Y-%m-%d", &tm);
	gmtime_r(&t2, &tm);
	strftime(to, sizeof(to), "%Y-%m-%d", &tm);
	snprintf(url, sizeof(url), "/search?service=%lld&from=%s&to=%s", (long long)k.cardio, from,
	         to);
	cr_assert_eq(h_get(c, url, &r), 200);
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", c1, 0)), "%s", url);
	cr_assert(!has(&r, path_of("href=\"/book/%lld\"", c2, 0)));
	h_resp_free(&r);

	/* bad input is explained, not a crash */
	cr_assert_eq(h_get(c, "/search?from=31-12-2030", &r), 200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, "aria-invalid=\"true\""));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/search?service=%lld", k.other_org_svc, 0), &r), 200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(!has(&r, path_of("href=\"/book/%lld\"", o1, 0)));
	h_resp_free(&r);
}

Test(portal_booking, search_pages_through_many_slots)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t last = 0;
	for (int i = 0; i < 25; i++)
		last = slot(org, k.derm, now + DAY + i * HOUR, 1, 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path_of("/search?service=%lld", k.derm, 0), &r), 200);
	cr_assert(!has(&r, path_of("href=\"/book/%lld\"", last, 0)));
	const char *more = strstr(r.body, "href=\"/search?");
	cr_assert_not_null(more, "a link to later times");
	char next[256];
	const char *end = strchr(more + 6, '"');
	snprintf(next, sizeof(next), "%.*s", (int)(end - more - 6), more + 6);
	h_resp_free(&r);
	/* the template escapes & as &amp; */
	char plain[256], *w = plain;
	for (const char *p = next; *p && w < plain + sizeof(plain) - 1; p++) {
		if (strncmp(p, "&amp;", 5) == 0) {
			*w++ = '&';
			p += 4;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	cr_assert_eq(h_get(c, plain, &r), 200);
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", last, 0)), "%s", plain);
	h_resp_free(&r);
}

/* ---- booking -------------------------------------------------------------------- */

Test(portal_booking, book_a_slot_for_oneself_and_get_a_confirmation)
{
	struct cast k = cast();
	int64_t now = now_utc();
	int64_t s = slot(H.org[0].org_id, k.cardio, now + 2 * DAY, 1, 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path_of("/book/%lld", s, 0), &r), 200);
	cr_assert(has(&r, "Confirm the booking"));
	cr_assert(has(&r, "Cardiology visit"));
	cr_assert(has(&r, "<label for=\"patient\">"), "Anna manages Bruno: a select");
	h_resp_free(&r);
	cr_assert_eq(post(c, path_of("/book/%lld", s, 0), &r, NULL, NULL), 303);
	int64_t id = scalar("SELECT MAX(id) FROM appointments WHERE slot_id = ?", s);
	cr_assert_str_eq(h_header(&r, "Location"),
	                 path_of("/appointments/%lld?done=booked", id, 0));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT patient_id FROM appointments WHERE id = ?", id), k.anna);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE id = ? AND booked_via = "
	                    "'online'",
	                    id),
	             1);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s), 1);
	cr_assert_eq(count_messages("confirmation"), 1);
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, path_of("href=\"/appointments/%lld\"", id, 0)));
	h_resp_free(&r);
}

Test(portal_booking, book_for_a_managed_family_member_only)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t s1 = slot(org, k.derm, now + 2 * DAY, 1, 0);
	int64_t s2 = slot(org, k.derm, now + 3 * DAY, 1, 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)k.bruno);
	cr_assert_eq(post(c, path_of("/book/%lld", s1, 0), &r, "patient", v), 303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT patient_id FROM appointments WHERE slot_id = ?", s1), k.bruno);
	/* Carla's daughter: refused, nothing booked */
	snprintf(v, sizeof(v), "%lld", (long long)k.dora);
	long st = post(c, path_of("/book/%lld", s2, 0), &r, "patient", v);
	cr_assert(st == 403 || st == 404, "status %ld", st);
	h_resp_free(&r);
	snprintf(v, sizeof(v), "%lld", (long long)k.carla);
	st = post(c, path_of("/book/%lld", s2, 0), &r, "patient", v);
	cr_assert(st == 403 || st == 404, "status %ld", st);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s2), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE slot_id = ?", s2), 0);
	/* another portal's slot: 404 */
	int64_t o = slot(H.org[1].org_id, k.other_org_svc, now + 2 * DAY, 1, 0);
	cr_assert_eq(h_get(c, path_of("/book/%lld", o, 0), &r), 404);
	h_resp_free(&r);
	cr_assert_eq(post(c, path_of("/book/%lld", o, 0), &r, NULL, NULL), 404);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", o), 0);
}

Test(portal_booking, book_for_links_preselect_the_family_member)
{
	struct cast k = cast();
	int64_t s = slot(H.org[0].org_id, k.derm, now_utc() + 2 * DAY, 1, 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, path_of("href=\"/search?for=%lld\"", k.bruno, 0)));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/search?for=%lld", k.bruno, 0), &r), 200);
	cr_assert(has(&r, path_of("name=\"for\" value=\"%lld\"", k.bruno, 0)));
	cr_assert(has(&r, path_of("href=\"/book/%lld?for=%lld\"", s, k.bruno)));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/book/%lld?for=%lld", s, k.bruno), &r), 200);
	cr_assert(
	    has(&r, path_of("<option value=\"%lld\" selected>Bruno Rossi</option>", k.bruno, 0)));
	h_resp_free(&r);
	/* a patient without family members gets no select, only themselves */
	struct h_client *e = as_patient(k.elio, 1);
	int64_t o = slot(H.org[1].org_id, k.other_org_svc, now_utc() + 2 * DAY, 1, 0);
	cr_assert_eq(h_get(e, path_of("/book/%lld", o, 0), &r), 200);
	cr_assert(!has(&r, "<select"));
	cr_assert(has(&r, path_of("name=\"patient\" value=\"%lld\"", k.elio, 0)));
	h_resp_free(&r);
}

Test(portal_booking, a_taken_slot_says_so_and_shows_the_next_ones)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t s = slot(org, k.derm, now + 2 * DAY, 1, 0);
	int64_t n1 = slot(org, k.derm, now + 2 * DAY + HOUR, 1, 0);
	struct h_client *a = as_patient(k.anna, 0), *b = as_patient(k.carla, 0);
	struct h_resp r;
	cr_assert_eq(post(a, path_of("/book/%lld", s, 0), &r, NULL, NULL), 303);
	h_resp_free(&r);
	cr_assert_eq(post(b, path_of("/book/%lld", s, 0), &r, NULL, NULL), 409);
	cr_assert(has(&r, "That time was just taken"));
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", n1, 0)));
	h_resp_free(&r);
	cr_assert_eq(h_get(b, path_of("/book/%lld", s, 0), &r), 409);
	cr_assert(has(&r, path_of("href=\"/book/%lld\"", n1, 0)));
	h_resp_free(&r);
}

/* Two browsers racing: raw libcurl in two threads, each with its own session cookie. */
struct racer {
	char url[128], cookie[512], body[256];
	long status;
	char location[256];
};

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static size_t header_cb(char *p, size_t s, size_t n, void *u)
{
	struct racer *x = u;
	size_t len = s * n;
	if (len > 10 && strncasecmp(p, "Location: ", 10) == 0)
		snprintf(x->location, sizeof(x->location), "%.*s", (int)(len - 12), p + 10);
	return len;
}

static void *race(void *arg)
{
	struct racer *x = arg;
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_COOKIE, x->cookie);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_cleanup(h);
	return NULL;
}

Test(portal_booking, two_clients_racing_for_one_slot_one_wins)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	for (int round = 0; round < 5; round++) {
		int64_t s = slot(org, k.derm, now + 2 * DAY + round * HOUR, 1, 0);
		slot(org, k.derm, now + 3 * DAY + round * HOUR, 1, 0);
		struct h_client *c[2] = {as_patient(k.anna, 0), as_patient(k.carla, 0)};
		struct racer x[2];
		pthread_t t[2];
		memset(x, 0, sizeof(x));
		for (int i = 0; i < 2; i++) {
			snprintf(x[i].url, sizeof(x[i].url), "%s/book/%lld", H.base, (long long)s);
			const char *csrf = h_client_csrf(c[i]);
			snprintf(x[i].cookie, sizeof(x[i].cookie), "sid=%s; lang=en",
			         h_cookie(c[i], "sid"));
			snprintf(x[i].body, sizeof(x[i].body), "csrf=%s", csrf);
		}
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, race, &x[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		int won = (x[0].status == 303) + (x[1].status == 303);
		int lost = (x[0].status == 409) + (x[1].status == 409);
		cr_assert_eq(won, 1, "round %d: %ld %ld", round, x[0].status, x[1].status);
		cr_assert_eq(lost, 1);
		cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s), 1);
		cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE slot_id = ?", s), 1);
	}
}

Test(portal_booking, online_video_with_mandatory_payment_goes_to_pay)
{
	struct cast k = cast();
	int64_t s = slot(H.org[0].org_id, k.video, now_utc() + 2 * DAY, 1, 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_get(c, path_of("/book/%lld", s, 0), &r), 200);
	cr_assert(has(&r, "€60.00"));
	h_resp_free(&r);
	cr_assert_eq(post(c, path_of("/book/%lld", s, 0), &r, NULL, NULL), 303);
	int64_t id = scalar("SELECT MAX(id) FROM appointments WHERE slot_id = ?", s);
	cr_assert_str_eq(h_header(&r, "Location"), path_of("/appointments/%lld/pay", id, 0));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT amount_cents FROM appointments WHERE id = ?", id), 6000);
	cr_assert_eq(h_get(c, "/", &r), 200);
	cr_assert(has(&r, "To do first"));
	h_resp_free(&r);
}

/* ---- sign-in round trip, CSRF, escaping ------------------------------------------ */

Test(portal_booking, signed_out_visits_come_back_after_sign_in)
{
	struct cast k = cast();
	char hash[crypto_pwhash_STRBYTES];
	cr_assert_eq(crypto_pwhash_str(hash, PW, strlen(PW), crypto_pwhash_OPSLIMIT_MIN,
	                               crypto_pwhash_MEMLIMIT_MIN),
	             0);
	struct store_conn *db = h_db();
	int64_t acct = 0;
	cr_assert_eq(store_insert(db, &acct,
	                          "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, "
	                          "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
	                          "iitti", k.anna, H.org[0].portal_id, "anna@example.test", hash,
	                          now_utc()),
	             0);
	store_release(db);
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	struct h_resp r;
	char path[64], want[128];
	snprintf(path, sizeof(path), "/search?service=%lld", (long long)k.cardio);
	cr_assert_eq(h_get(c, path, &r), 303);
	snprintf(want, sizeof(want), "/login?next=%%2Fsearch%%3Fservice%%3D%lld",
	         (long long)k.cardio);
	cr_assert_str_eq(h_header(&r, "Location"), want);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/appointments/1", &r), 303);
	cr_assert_str_eq(h_header(&r, "Location"), "/login?next=%2Fappointments%2F1");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, want, &r), 200);
	cr_assert(has(&r, "name=\"next\""));
	char *csrf = strdup(h_csrf(&r));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/login", &r, "csrf", csrf, "login", "anna@example.test",
	                         "password", PW, "next", path, NULL),
	             303);
	cr_assert_str_eq(h_header(&r, "Location"), path);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path, &r), 200);
	cr_assert(has(&r, path_of("<option value=\"%lld\" selected>", k.cardio, 0)));
	h_resp_free(&r);
	/* next outside the portal lands on the home page */
	struct h_client *d = h_client();
	cr_assert_eq(h_get(d, "/login", &r), 200);
	free(csrf);
	csrf = strdup(h_csrf(&r));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(d, "/login", &r, "csrf", csrf, "login", "anna@example.test",
	                         "password", PW, "next", "//evil.example/search", NULL),
	             303);
	cr_assert_str_eq(h_header(&r, "Location"), "/");
	h_resp_free(&r);
	free(csrf);
}

Test(portal_booking, posts_without_csrf_are_refused)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t s = slot(org, k.derm, now + 2 * DAY, 1, 0);
	int64_t s2 = slot(org, k.derm, now + 4 * DAY, 1, 0);
	int64_t a = appointment(k.anna, org, k.derm, 0, now + 3 * DAY, "in_person", "none", 0);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	cr_assert_eq(h_post_form(c, path_of("/book/%lld", s, 0), &r, "patient", "1", NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path_of("/book/%lld", s, 0), &r, "csrf", "forged", NULL), 403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path_of("/appointments/%lld/cancel", a, 0), &r, "x", "", NULL),
	             403);
	h_resp_free(&r);
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)s2);
	cr_assert_eq(
	    h_post_form(c, path_of("/appointments/%lld/reschedule", a, 0), &r, "slot", v, NULL),
	    403);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s), 0);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE id = ?", s2), 0);
	cr_assert_eq(
	    scalar("SELECT COUNT(*) FROM appointments WHERE id = ? AND status = 'booked'", a), 1);
}

Test(portal_booking, html_in_names_is_escaped)
{
	struct cast k = cast();
	int64_t now = now_utc(), org = H.org[0].org_id;
	int64_t svc = service(org, "<script>alert(1)</script> & co", "in_person", "none", 0);
	int64_t s = slot(org, svc, now + 2 * DAY, 1, 0);
	int64_t a = appointment(k.anna, org, svc, 0, now + 3 * DAY, "in_person", "none", 0);
	exec_sql("UPDATE organisations SET address = '<img src=x onerror=alert(2)>' WHERE id = ?",
	         org);
	struct h_client *c = as_patient(k.anna, 0);
	struct h_resp r;
	const char *pages[] = {"/", "/search", path_of("/book/%lld", s, 0),
	                       path_of("/appointments/%lld", a, 0),
	                       path_of("/appointments/%lld/cancel", a, 0)};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s", pages[i]);
		cr_assert_eq(h_get(c, p, &r), 200, "%s", p);
		cr_assert(!has(&r, "<script>alert(1)"), "%s", p);
		cr_assert(!has(&r, "<img src=x"), "%s", p);
		cr_assert(has(&r, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"), "%s", p);
		h_resp_free(&r);
	}
}
