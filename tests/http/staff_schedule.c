/*
 * HTTP tests of the staff scheduling pages (src/staff/services.c,
 * src/staff/schedule.c): services and opening hours, slot generation (twice:
 * nothing twice), the day view in the organisation's local time across a DST
 * change, the missing-payment flag on video consultations, the "new
 * appointment" form (validation, success, a slot's seat), admin-only editing,
 * 404 across organisations, CSRF, escaping.
 */
#include "harness.h"

#include "booking/booking.h"
#include "booking/tz.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(staff_schedule, .init = h_start, .fini = h_stop);

#define ZONE "Europe/Rome" /* the organisations' default time zone */

/* --- helpers -------------------------------------------------------------- */

static struct h_client *client_en(void)
{
	struct h_client *c = h_client();
	h_set_cookie(c, "lang", "en");
	return c;
}

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

static struct booking_actor staff_of(int org)
{
	struct booking_actor who = {.staff_org = H.org[org].org_id,
	                            .staff_id = H.org[org].staff_id};
	return who;
}

static int64_t add_patient(int org, const char *given, const char *family)
{
	struct store_conn *db = h_db();
	struct store_patient p = {0};
	p.org_id = H.org[org].org_id;
	p.given_name = (char *)given;
	p.family_name = (char *)family;
	p.lang = "it";
	int err = store_patient_add(db, &p);
	store_release(db);
	cr_assert_eq(err, 0, "store_patient_add: %s", store_strerror(err));
	return p.id;
}

static int64_t add_service(int org, const char *name, enum booking_kind kind,
                           enum booking_payment pay, int64_t price)
{
	struct booking_actor who = staff_of(org);
	struct booking_service s = {.org_id = H.org[org].org_id,
	                            .name = (char *)name,
	                            .duration_min = 30,
	                            .kind = kind,
	                            .payment = pay,
	                            .price_cents = price,
	                            .online_booking = 1,
	                            .active = 1};
	struct store_conn *db = h_db();
	int err = booking_service_create(db, &who, &s);
	store_release(db);
	cr_assert_eq(err, 0, "booking_service_create: %s", booking_strerror(err));
	return s.id;
}

/* An offline appointment at a free time (the booking core allows any time there). */
static int64_t add_appt(int org, int64_t patient, int64_t service, int64_t start,
                        enum booking_kind kind, enum booking_payment pay, int64_t amount)
{
	struct booking_actor who = staff_of(org);
	struct booking_request r = {.patient_id = patient,
	                            .service_id = service,
	                            .org_id = H.org[org].org_id,
	                            .start_at = start,
	                            .kind = kind,
	                            .payment = pay,
	                            .amount_cents = amount,
	                            .now = now_utc()};
	struct booking_appointment ap;
	struct store_conn *db = h_db();
	int err = booking_take_slot(db, &who, &r, &ap);
	store_release(db);
	cr_assert_eq(err, 0, "booking_take_slot: %s", booking_strerror(err));
	return ap.id;
}

static int64_t utc_of(int y, int mo, int d, int h, int mi)
{
	struct tz_local l = {.year = y, .month = mo, .day = d, .hour = h, .minute = mi};
	int64_t t = 0;
	cr_assert_geq(tz_local_to_utc(ZONE, &l, &t), 0);
	return t;
}

/* The local date of t in ZONE, "YYYY-MM-DD". */
static void local_day(int64_t t, char out[16])
{
	struct tz_local l;
	cr_assert_eq(tz_utc_to_local(ZONE, t, &l), 0);
	snprintf(out, 16, "%04d-%02d-%02d", l.year, l.month, l.day);
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

/* The id at the end of a Location such as /staff/services/12?saved=1. */
static int64_t id_in(const char *location, const char *prefix)
{
	cr_assert_not_null(location);
	cr_assert_eq(strncmp(location, prefix, strlen(prefix)), 0, "%s", location);
	return strtoll(location + strlen(prefix), NULL, 10);
}

/* The <tr ...> ... </tr> of the day view's table that mentions name (malloc'd, or NULL). */
static char *row_of(const struct h_resp *r, const char *name)
{
	const char *tbody = strstr(r->body, "<tbody>");
	const char *m = tbody != NULL ? strstr(tbody, name) : NULL;
	if (m == NULL)
		return NULL;
	const char *b = m;
	while (b > tbody && strncmp(b, "<tr", 3) != 0)
		b--;
	const char *e = strstr(m, "</tr>");
	if (e == NULL)
		return NULL;
	return strndup(b, (size_t)(e - b));
}

static char *path_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *path_of(const char *fmt, ...)
{
	static char buf[8][256];
	static int k;
	char *p = buf[k++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, 256, fmt, ap);
	va_end(ap);
	return p;
}

/* --- services, hours, slots ------------------------------------------------------ */

Test(staff_schedule, create_service_hours_and_generate_twice)
{
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	char org[24];
	snprintf(org, sizeof(org), "%lld", (long long)H.org[0].org_id);

	cr_assert_eq(h_get(c, "/staff/services", &r), 200);
	cr_assert(has(&r, "No services yet."));
	cr_assert(has(&r, "href=\"/staff/services/new\""));
	cr_assert(has(&r, "href=\"/staff/appointments\""), "the nav links the day view");
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/services/new", &r), 200);
	cr_assert(has(&r, "<label for=\"name\""));
	cr_assert(has(&r, "<legend>Payment</legend>"));
	h_resp_free(&r);

	/* mandatory payment without a price: refused, values kept */
	cr_assert_eq(h_post_form(c, "/staff/services/new", &r, "csrf", h_client_csrf(c), "org", org,
	                         "name", "Televisita cardiologica", "duration", "30", "kind",
	                         "video", "payment", "mandatory", "price", "", "online_booking",
	                         "1", "active", "1", NULL),
	             200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, "Enter the price: this service asks for a payment."));
	cr_assert(has(&r, "value=\"Televisita cardiologica\""));
	cr_assert(has(&r, "aria-invalid=\"true\""));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM services", 0), 0);

	cr_assert_eq(h_post_form(c, "/staff/services/new", &r, "csrf", h_client_csrf(c), "org", org,
	                         "name", "Televisita cardiologica", "duration", "30", "kind",
	                         "video", "payment", "mandatory", "price", "35,50",
	                         "online_booking", "1", "active", "1", NULL),
	             303);
	int64_t svc = id_in(h_header(&r, "Location"), "/staff/services/");
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT price_cents FROM services WHERE id = ?", svc), 3550);
	cr_assert_eq(h_get(c, path_of("/staff/services/%lld?saved=1", (long long)svc), &r), 200);
	cr_assert(has(&r, "The service was saved."));
	cr_assert(has(&r, "Televisita cardiologica"));
	cr_assert(has(&r, "No opening hours: patients cannot book here."));
	h_resp_free(&r);

	/* edit: a new name and duration */
	const char *edit = path_of("/staff/services/%lld/edit", (long long)svc);
	cr_assert_eq(h_get(c, edit, &r), 200);
	cr_assert(has(&r, "value=\"35.50\""));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, edit, &r, "csrf", h_client_csrf(c), "name", "Televisita",
	                         "duration", "20", "kind", "video", "payment", "mandatory", "price",
	                         "40", "online_booking", "1", "active", "1", NULL),
	             303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT duration_min FROM services WHERE id = ?", svc), 20);

	/* opening hours: two rows, then errors are shown per row and nothing changes */
	const char *hours =
	    path_of("/staff/services/%lld/places/%lld", (long long)svc, (long long)H.org[0].org_id);
	cr_assert_eq(h_get(c, hours, &r), 200);
	cr_assert(has(&r, "<label for=\"from_0\""));
	h_resp_free(&r);
	const char *save = path_of("%s/hours", hours);
	cr_assert_eq(h_post_form(c, save, &r, "csrf", h_client_csrf(c), "weekday_0", "0", "from_0",
	                         "09:00", "to_0", "12:00", "slot_0", "30", "capacity_0", "1",
	                         "weekday_1", "0", "from_1", "11:00", "to_1", "13:00", "slot_1",
	                         "30", "capacity_1", "1", "weekday_2", "3", "from_2", "15:00",
	                         "to_2", "14:00", "slot_2", "30", "capacity_2", "1", NULL),
	             200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, "These hours overlap other hours of the same day."));
	cr_assert(has(&r, "The closing time must come after the opening time."));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM opening_hours", 0), 0);

	/* every day, so the next two weeks surely hold slots */
	cr_assert_eq(h_post_form(c, save, &r, "csrf", h_client_csrf(c), "weekday_0", "0", "from_0",
	                         "09:00", "to_0", "12:00", "slot_0", "30", "capacity_0", "1",
	                         "weekday_1", "1", "from_1", "09:00", "to_1", "10:00", "slot_1",
	                         "20", "capacity_1", "2", "weekday_2", "2", "from_2", "09:00",
	                         "to_2", "10:00", "slot_2", "30", "capacity_2", "1", "weekday_3",
	                         "3", "from_3", "09:00", "to_3", "10:00", "slot_3", "30",
	                         "capacity_3", "1", "weekday_4", "4", "from_4", "09:00", "to_4",
	                         "10:00", "slot_4", "30", "capacity_4", "1", "weekday_5", "5",
	                         "from_5", "09:00", "to_5", "10:00", "slot_5", "30", "capacity_5",
	                         "1", "weekday_6", "6", "from_6", "09:00", "to_6", "10:00",
	                         "slot_6", "30", "capacity_6", "1", "weekday_7", "6", "from_7", "",
	                         "to_7", "", "slot_7", "30", "capacity_7", "1", NULL),
	             303);
	cr_assert_str_eq(h_header(&r, "Location"), path_of("%s?saved=1", hours));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM opening_hours", 0), 7,
	             "the empty row is skipped");
	cr_assert_eq(h_get(c, path_of("%s?saved=1", hours), &r), 200);
	cr_assert(has(&r, "The opening hours were saved."));
	cr_assert(has(&r, "value=\"12:00\""));
	h_resp_free(&r);

	/* generate: a bad number of weeks, then twice */
	const char *gen = path_of("%s/generate", hours);
	cr_assert_eq(h_post_form(c, gen, &r, "csrf", h_client_csrf(c), "weeks", "99", NULL), 200);
	cr_assert(has(&r, "Enter a number of weeks from 1 to 52."));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM slots", 0), 0);

	cr_assert_eq(h_post_form(c, gen, &r, "csrf", h_client_csrf(c), "weeks", "2", NULL), 303);
	const char *loc = h_header(&r, "Location");
	cr_assert_not_null(strstr(loc, "?created="), "%s", loc);
	int created = atoi(strstr(loc, "created=") + 8);
	h_resp_free(&r);
	int64_t slots = scalar("SELECT COUNT(*) FROM slots", 0);
	cr_assert_gt(slots, 20, "two weeks of slots");
	cr_assert_eq(created, slots);

	cr_assert_eq(h_post_form(c, gen, &r, "csrf", h_client_csrf(c), "weeks", "2", NULL), 303);
	loc = h_header(&r, "Location");
	cr_assert_not_null(strstr(loc, "?created=0&"), "nothing twice: %s", loc);
	char *again = strdup(loc);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM slots", 0), slots);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM (SELECT service_id, org_id, start_at FROM slots "
	                    "GROUP BY service_id, org_id, start_at HAVING COUNT(*) > 1) d",
	                    0),
	             0);
	cr_assert_eq(h_get(c, again, &r), 200);
	cr_assert(has(&r, "<strong id=\"n-created\">0</strong>"));
	h_resp_free(&r);
	free(again);

	/* the list */
	cr_assert_eq(h_get(c, "/staff/services", &r), 200);
	cr_assert(has(&r, "Televisita"));
	cr_assert(has(&r, "Payment required"));
	cr_assert(has(&r, "€40.00"));
	h_resp_free(&r);
}

Test(staff_schedule, member_place_gets_its_own_hours)
{
	struct store_conn *db = h_db();
	int64_t member = 0;
	int err = store_insert(db, &member,
	                       "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                       "VALUES ('member', ?, ?, 'Studio Membro') RETURNING id",
	                       "ii", H.org[0].portal_id, H.org[0].org_id);
	store_release(db);
	cr_assert_eq(err, 0);
	int64_t svc = add_service(0, "Visita", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, path_of("/staff/services/%lld", (long long)svc), &r), 200);
	cr_assert(has(&r, "Studio Membro"), "the member is a place of the customer's service");
	h_resp_free(&r);
	const char *hours =
	    path_of("/staff/services/%lld/places/%lld", (long long)svc, (long long)member);
	cr_assert_eq(h_post_form(c, path_of("%s/hours", hours), &r, "csrf", h_client_csrf(c),
	                         "weekday_0", "2", "from_0", "8:30", "to_0", "10:00", "slot_0",
	                         "30", "capacity_0", "3", NULL),
	             303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM opening_hours WHERE org_id = ?", member), 1);
	cr_assert_eq(scalar("SELECT capacity FROM opening_hours WHERE org_id = ?", member), 3);

	/* the day view of the member, and of every place with a place column */
	cr_assert_eq(h_get(c, path_of("/staff/appointments?place=%lld", (long long)member), &r),
	             200);
	cr_assert(has(&r, "Studio Membro"));
	h_resp_free(&r);
}

/* --- the day view ------------------------------------------------------------------ */

Test(staff_schedule, day_view_in_local_time_across_dst)
{
	int64_t svc = add_service(0, "Visita", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	/* Sunday 25 October 2026: CEST (UTC+2) until 03:00, then CET (UTC+1): 25 hours */
	static const struct {
		const char *family;
		int64_t at;
	} appts[] = {
	    {"Alpha", 1792881000},   /* 2026-10-24T22:30Z = 00:30 CEST on the 25th */
	    {"Beta", 1792888200},    /* 2026-10-25T00:30Z = 02:30 CEST */
	    {"Gamma", 1792891800},   /* 2026-10-25T01:30Z = 02:30 CET (the hour again) */
	    {"Delta", 1792967400},   /* 2026-10-25T22:30Z = 23:30 CET on the 25th */
	    {"Epsilon", 1792971000}, /* 2026-10-25T23:30Z = 00:30 CET on the 26th */
	    {"Zeta", 1793001600},    /* 2026-10-26T08:00Z = 09:00 CET, Monday */
	    {"Eta", 1792738800},     /* 2026-10-23T07:00Z = 09:00 CEST, Friday */
	    {"Theta", 1792877400},   /* 2026-10-24T21:30Z = 23:30 CEST on the 24th */
	};
	cr_assert_eq(utc_of(2026, 10, 25, 0, 30), appts[0].at);
	cr_assert_eq(utc_of(2026, 10, 26, 9, 0), appts[5].at);
	for (size_t i = 0; i < sizeof(appts) / sizeof(appts[0]); i++)
		add_appt(0, add_patient(0, "Paziente", appts[i].family), svc, appts[i].at,
		         BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	/* another organisation's appointment that day is not shown */
	int64_t svc1 = add_service(1, "Altro", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	add_appt(1, add_patient(1, "Paziente", "Iota"), svc1, appts[1].at, BOOKING_IN_PERSON,
	         BOOKING_PAY_NONE, 0);

	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_get(c, "/staff/appointments?day=2026-10-25", &r), 200);
	cr_assert(has(&r, "Sunday 25/10/2026"));
	cr_assert(has(&r, "<span id=\"count\">4</span>"), "%s", r.body);
	const char *order[] = {"Alpha", "Beta", "Gamma", "Delta"};
	const char *prev = r.body;
	for (int i = 0; i < 4; i++) {
		const char *at = strstr(r.body, order[i]);
		cr_assert_not_null(at, "%s listed", order[i]);
		cr_assert_gt(at, prev, "%s in time order", order[i]);
		prev = at;
	}
	cr_assert(!has(&r, "Epsilon") && !has(&r, "Theta") && !has(&r, "Iota"));
	cr_assert(has(&r, "id=\"dst-note\""), "the clocks change that day");
	char *row = row_of(&r, "Beta");
	cr_assert(strstr(row, ">02:30</time> <small>CEST</small>") != NULL, "%s", row);
	cr_assert(strstr(row, "datetime=\"2026-10-25T00:30Z\"") != NULL, "%s", row);
	free(row);
	row = row_of(&r, "Gamma");
	cr_assert(strstr(row, ">02:30</time> <small>CET</small>") != NULL, "%s", row);
	free(row);
	row = row_of(&r, "Alpha");
	cr_assert(strstr(row, ">00:30</time>") != NULL, "%s", row);
	cr_assert(strstr(row, "By the clinic") != NULL, "booked via");
	cr_assert(strstr(row, "In person") != NULL);
	free(row);
	row = row_of(&r, "Delta");
	cr_assert(strstr(row, ">23:30</time>") != NULL, "%s", row);
	free(row);
	cr_assert(has(&r, "href=\"/staff/appointments?day=2026-10-24\" rel=\"prev\""));
	cr_assert(has(&r, "href=\"/staff/appointments?day=2026-10-26\" rel=\"next\""));
	cr_assert(has(&r, "<th scope=\"col\">Time</th>"));
	h_resp_free(&r);

	cr_assert_eq(h_get(c, "/staff/appointments?day=2026-10-26", &r), 200);
	cr_assert(has(&r, "<span id=\"count\">2</span>"));
	cr_assert(has(&r, "Epsilon") && has(&r, "Zeta"));
	cr_assert(!has(&r, "id=\"dst-note\""));
	row = row_of(&r, "Zeta");
	cr_assert(strstr(row, ">09:00</time>") != NULL, "%s", row);
	free(row);
	h_resp_free(&r);

	cr_assert_eq(h_get(c, "/staff/appointments?day=2026-10-24", &r), 200);
	cr_assert(has(&r, "Theta") && !has(&r, "Alpha"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/appointments?day=2026-10-23", &r), 200);
	row = row_of(&r, "Eta");
	cr_assert_not_null(row);
	cr_assert(strstr(row, ">09:00</time>") != NULL, "%s", row);
	free(row);
	h_resp_free(&r);

	/* a profile link per patient, the patient's own page */
	cr_assert_eq(h_get(c, "/staff/appointments?day=2027-03-28", &r), 200);
	cr_assert(has(&r, "No appointments on this day."));
	cr_assert(has(&r, "id=\"dst-note\""), "a 23-hour day too");
	h_resp_free(&r);
}

Test(staff_schedule, missing_payment_flag_on_video_consultations)
{
	int64_t now = now_utc() / 60 * 60;
	int64_t tele = add_service(0, "Televisita", BOOKING_VIDEO, BOOKING_PAY_MANDATORY, 3500);
	int64_t unpaid = add_appt(0, add_patient(0, "Anna", "Unpaid"), tele, now + 2 * 3600,
	                          BOOKING_VIDEO, BOOKING_PAY_MANDATORY, 3500);
	int64_t paid = add_appt(0, add_patient(0, "Bruno", "Paidup"), tele, now + 3 * 3600,
	                        BOOKING_VIDEO, BOOKING_PAY_MANDATORY, 3500);
	add_appt(0, add_patient(0, "Carla", "Later"), tele, now + 30 * 3600, BOOKING_VIDEO,
	         BOOKING_PAY_MANDATORY, 3500);
	add_appt(0, add_patient(0, "Dario", "Inperson"), tele, now + 2 * 3600, BOOKING_IN_PERSON,
	         BOOKING_PAY_MANDATORY, 3500);
	add_appt(0, add_patient(0, "Elena", "Optional"), tele, now + 2 * 3600, BOOKING_VIDEO,
	         BOOKING_PAY_OPTIONAL, 3500);
	struct store_conn *db = h_db();
	int changed = 0;
	cr_assert_eq(booking_mark_paid(db, paid, "sandbox", "ref-1", now_utc(), &changed), 0);
	store_release(db);
	(void)unpaid;

	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	char day[16];
	const char *names[] = {"Unpaid", "Paidup", "Later", "Inperson", "Optional"};
	const int64_t at[] = {now + 2 * 3600, now + 3 * 3600, now + 30 * 3600, now + 2 * 3600,
	                      now + 2 * 3600};
	const int flagged24[] = {1, 0, 0, 0, 0};
	const int flagged48[] = {1, 0, 1, 0, 0};
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 5; i++) {
			local_day(at[i], day);
			cr_assert_eq(h_get(c, path_of("/staff/appointments?day=%s", day), &r), 200);
			char *row = row_of(&r, names[i]);
			cr_assert_not_null(row, "%s on %s", names[i], day);
			int want = pass == 0 ? flagged24[i] : flagged48[i];
			cr_assert_eq(strstr(row, "Payment missing") != NULL, want, "%s pass %d: %s",
			             names[i], pass, row);
			cr_assert_eq(strstr(row, "sched-flagged") != NULL, want);
			if (i == 1)
				cr_assert(strstr(row, ">paid<") != NULL, "%s", row);
			if (i == 0)
				cr_assert(strstr(row, ">not paid<") != NULL &&
				          strstr(row, "Video"));
			free(row);
			/* the summary of what needs doing first */
			cr_assert(has(&r, "id=\"unpaid-soon\""));
			cr_assert_eq(count_of(&r, "Televisita</li>"), pass == 0 ? 1 : 2);
			h_resp_free(&r);
		}
		if (pass == 1)
			break;
		/* a wider window, set for the organisation */
		db = h_db();
		cr_assert_eq(store_exec(db, NULL,
		                        "INSERT INTO org_settings (org_id, key, value) "
		                        "VALUES (?, 'payment_flag_hours', '48')",
		                        "i", H.org[0].org_id),
		             0);
		store_release(db);
	}
}

/* --- new appointment -------------------------------------------------------------- */

Test(staff_schedule, new_appointment_validation_and_success)
{
	int64_t tele = add_service(0, "Televisita", BOOKING_VIDEO, BOOKING_PAY_MANDATORY, 3500);
	int64_t pid = add_patient(0, "Maria", "Rossetti");
	add_patient(0, "Mario", "Bianchi");
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	char svc[24], place[24], patient[24];
	snprintf(svc, sizeof(svc), "%lld", (long long)tele);
	snprintf(place, sizeof(place), "%lld", (long long)H.org[0].org_id);
	snprintf(patient, sizeof(patient), "%lld", (long long)pid);

	/* the patient search */
	cr_assert_eq(h_get(c, "/staff/appointments/new?q=rosset", &r), 200);
	cr_assert(has(&r, "Maria Rossetti"));
	cr_assert(!has(&r, "Bianchi"));
	cr_assert(has(&r, path_of("href=\"/staff/appointments/new?patient=%lld", (long long)pid)));
	h_resp_free(&r);
	cr_assert_eq(
	    h_get(c,
	          path_of("/staff/appointments/new?patient=%lld&service=%s", (long long)pid, svc),
	          &r),
	    200);
	cr_assert(has(&r, path_of("name=\"patient\" value=\"%lld\"", (long long)pid)));
	cr_assert(has(&r, "value=\"35.00\""), "the service's price is the default amount");
	cr_assert(has(&r, "id=\"kind-video\" name=\"kind\" value=\"video\" checked"));
	h_resp_free(&r);

	int64_t when = now_utc() + 2 * 86400;
	char day[16];
	local_day(when, day);

	/* nothing chosen */
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", "", "service", "", "place", place, "date", "", "time",
	                         "", "kind", "video", "payment", "none", NULL),
	             200);
	cr_assert(has(&r, "role=\"alert\""));
	cr_assert(has(&r, "Choose the patient: search by name."));
	cr_assert(has(&r, "Choose the service."));
	cr_assert(has(&r, "Enter the date, for example 31/12/2026."));
	cr_assert(has(&r, "Enter the time as hours and minutes, for example 09:30."));
	h_resp_free(&r);

	/* mandatory payment without an amount */
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", patient, "service", svc, "place", place, "date", day,
	                         "time", "10:00", "kind", "video", "payment", "mandatory", "amount",
	                         "", NULL),
	             200);
	cr_assert(has(&r, "Enter the amount to pay: this appointment asks for a payment."));
	cr_assert(has(&r, "Maria Rossetti"), "the chosen patient is kept");
	cr_assert(has(&r, path_of("value=\"%s\"", day)));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", patient, "service", svc, "place", place, "date", day,
	                         "time", "10:00", "kind", "video", "payment", "optional", "amount",
	                         "dieci", NULL),
	             200);
	cr_assert(has(&r, "Enter the amount in euros, for example 35,00."));
	h_resp_free(&r);

	/* a time already passed, and one the spring DST change skips */
	char yesterday[16];
	local_day(now_utc() - 86400, yesterday);
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", patient, "service", svc, "place", place, "date",
	                         yesterday, "time", "10:00", "kind", "video", "payment", "none",
	                         NULL),
	             200);
	cr_assert(has(&r, "This time has already passed."));
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", patient, "service", svc, "place", place, "date",
	                         "28/03/2027", "time", "02:30", "kind", "video", "payment", "none",
	                         NULL),
	             200);
	cr_assert(has(&r, "This time does not exist on that day"));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 0);

	/* booked */
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", patient, "service", svc, "place", place, "date", day,
	                         "time", "10:00", "kind", "video", "payment", "mandatory", "amount",
	                         "35,00", NULL),
	             303);
	const char *loc = h_header(&r, "Location");
	char *want = strdup(path_of("/staff/appointments?day=%s&place=%s&booked=", day, place));
	cr_assert_eq(strncmp(loc, want, strlen(want)), 0, "%s", loc);
	int64_t appt = strtoll(loc + strlen(want), NULL, 10);
	char *next = strdup(loc);
	free(want);
	h_resp_free(&r);

	int y, mo, d;
	cr_assert_eq(sscanf(day, "%d-%d-%d", &y, &mo, &d), 3);
	cr_assert_eq(scalar("SELECT start_at FROM appointments WHERE id = ?", appt),
	             utc_of(y, mo, d, 10, 0), "local 10:00 in the organisation's zone");
	cr_assert_eq(scalar("SELECT amount_cents FROM appointments WHERE id = ?", appt), 3500);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE id = ? AND kind = 'video' AND "
	                    "payment = 'mandatory' AND booked_via = 'offline' AND paid_at IS NULL",
	                    appt),
	             1);
	cr_assert_eq(scalar("SELECT created_by_staff FROM appointments WHERE id = ?", appt),
	             H.org[0].staff_id);
	cr_assert_eq(
	    scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'appointment.create'", 0), 1);

	cr_assert_eq(h_get(c, next, &r), 200);
	cr_assert(has(&r, "Appointment booked:"));
	char *row = row_of(&r, "<a href=\"/staff/patients/");
	cr_assert_not_null(row);
	cr_assert(strstr(row, "Maria Rossetti") != NULL);
	cr_assert(strstr(row, ">10:00</time>") != NULL, "%s", row);
	cr_assert(strstr(row, "By the clinic") != NULL && strstr(row, "not paid") != NULL);
	free(row);
	h_resp_free(&r);
	free(next);
}

Test(staff_schedule, new_appointment_takes_a_slot_seat)
{
	int64_t svc = add_service(0, "Visita", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t p1 = add_patient(0, "Uno", "Primo"), p2 = add_patient(0, "Due", "Secondo");
	/* every day 09:00-10:00, one seat per 30 minutes, for two weeks */
	struct booking_hours h[7];
	for (int i = 0; i < 7; i++)
		h[i] = (struct booking_hours){i, 9 * 60, 10 * 60, 30, 1};
	struct booking_actor who = staff_of(0);
	struct store_conn *db = h_db();
	cr_assert_eq(booking_hours_set(db, &who, svc, H.org[0].org_id, h, 7), 0);
	char from[16], to[16];
	local_day(now_utc(), from);
	local_day(now_utc() + 13 * 86400, to);
	cr_assert_eq(booking_slots_generate(db, &who, svc, H.org[0].org_id, from, to, NULL), 0);
	store_release(db);

	char day[16], s[24], place[24], a1[24], a2[24];
	local_day(now_utc() + 3 * 86400, day);
	snprintf(s, sizeof(s), "%lld", (long long)svc);
	snprintf(place, sizeof(place), "%lld", (long long)H.org[0].org_id);
	snprintf(a1, sizeof(a1), "%lld", (long long)p1);
	snprintf(a2, sizeof(a2), "%lld", (long long)p2);
	int y, mo, d;
	cr_assert_eq(sscanf(day, "%d-%d-%d", &y, &mo, &d), 3);
	int64_t slot_at = utc_of(y, mo, d, 9, 30);

	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", a1, "service", s, "place", place, "date", day, "time",
	                         "09:30", "kind", "in_person", "payment", "none", NULL),
	             303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT booked FROM slots WHERE start_at = ?", slot_at), 1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE slot_id IS NOT NULL", 0), 1);
	/* the seat is gone: the second patient is told, nothing is booked */
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", a2, "service", s, "place", place, "date", day, "time",
	                         "09:30", "kind", "in_person", "payment", "none", NULL),
	             200);
	cr_assert(has(&r, "This time is fully booked. Choose another time."));
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 1);
	/* a time without a slot is still bookable by the clinic */
	cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", h_client_csrf(c),
	                         "patient", a2, "service", s, "place", place, "date", day, "time",
	                         "17:15", "kind", "in_person", "payment", "none", NULL),
	             303);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE slot_id IS NULL", 0), 1);
}

/* --- roles, organisations, CSRF, escaping ---------------------------------------------- */

Test(staff_schedule, reception_cannot_edit_services)
{
	int64_t svc = add_service(0, "Visita", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct store_conn *db = h_db();
	int64_t rid = 0;
	cr_assert_eq(store_staff_add(db, H.org[0].org_id, "desk@clinic0.test", "Desk", "x",
	                             STORE_ROLE_RECEPTION, &rid),
	             0);
	store_release(db);
	struct h_client *c = client_en();
	struct h_resp r;
	h_signin(c, STORE_SESSION_STAFF, rid, H.org[0].org_id);

	cr_assert_eq(h_get(c, "/staff/services", &r), 200);
	cr_assert(has(&r, "Visita"));
	cr_assert(!has(&r, "href=\"/staff/services/new\""));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/staff/services/%lld", (long long)svc), &r), 200);
	cr_assert(!has(&r, "/edit\""));
	h_resp_free(&r);
	const char *hours =
	    path_of("/staff/services/%lld/places/%lld", (long long)svc, (long long)H.org[0].org_id);
	cr_assert_eq(h_get(c, hours, &r), 200);
	cr_assert(has(&r, "Only an administrator can change opening hours"));
	cr_assert(!has(&r, "Generate slots</button>"));
	h_resp_free(&r);

	cr_assert_eq(h_get(c, "/staff/services/new", &r), 403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, "/staff/services/new", &r, "csrf", h_client_csrf(c), "name",
	                         "Nuovo", "duration", "30", "kind", "in_person", "payment", "none",
	                         NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, path_of("/staff/services/%lld/edit", (long long)svc), &r), 403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path_of("/staff/services/%lld/edit", (long long)svc), &r,
	                         "csrf", h_client_csrf(c), "name", "Rinominata", "duration", "30",
	                         "kind", "in_person", "payment", "none", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path_of("%s/hours", hours), &r, "csrf", h_client_csrf(c),
	                         "weekday_0", "0", "from_0", "09:00", "to_0", "10:00", "slot_0",
	                         "30", "capacity_0", "1", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(h_post_form(c, path_of("%s/generate", hours), &r, "csrf", h_client_csrf(c),
	                         "weeks", "2", NULL),
	             403);
	h_resp_free(&r);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM services", 0), 1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM opening_hours", 0), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM slots", 0), 0);

	/* reception books appointments */
	cr_assert_eq(h_get(c, "/staff/appointments/new", &r), 200);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/appointments", &r), 200);
	h_resp_free(&r);
}

Test(staff_schedule, other_organisation_is_404_everywhere)
{
	int64_t mine = add_service(0, "Mia", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t my_patient = add_patient(0, "Anna", "Mia");
	int64_t theirs = add_service(1, "Loro", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t their_patient = add_patient(1, "Bruno", "Loro");
	int64_t their_appt = add_appt(1, their_patient, theirs, now_utc() + 86400,
	                              BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	long long o1 = (long long)H.org[1].org_id, o0 = (long long)H.org[0].org_id;
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	const char *csrf = h_client_csrf(c);

	const char *gets[] = {
	    path_of("/staff/services/%lld", (long long)theirs),
	    path_of("/staff/services/%lld/edit", (long long)theirs),
	    path_of("/staff/services/%lld/places/%lld", (long long)theirs, o1),
	    path_of("/staff/services/%lld/places/%lld", (long long)mine, o1),
	    path_of("/staff/appointments?place=%lld", o1),
	    path_of("/staff/appointments?booked=%lld", (long long)their_appt),
	    path_of("/staff/appointments/new?patient=%lld", (long long)their_patient),
	    path_of("/staff/appointments/new?service=%lld", (long long)theirs),
	};
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		cr_assert_eq(h_get(c, gets[i], &r), 404, "GET %s", gets[i]);
		cr_assert(!has(&r, "Loro"), "%s", gets[i]);
		h_resp_free(&r);
	}
	cr_assert_eq(h_get(c, "/staff/services/999999", &r), 404);
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/services/abc", &r), 404);
	h_resp_free(&r);

	cr_assert_eq(h_post_form(c, path_of("/staff/services/%lld/edit", (long long)theirs), &r,
	                         "csrf", csrf, "name", "Presa", "duration", "30", "kind",
	                         "in_person", "payment", "none", NULL),
	             404);
	h_resp_free(&r);
	cr_assert_eq(
	    h_post_form(c, path_of("/staff/services/%lld/places/%lld/hours", (long long)theirs, o1),
	                &r, "csrf", csrf, "weekday_0", "0", "from_0", "09:00", "to_0", "10:00",
	                "slot_0", "30", "capacity_0", "1", NULL),
	    404);
	h_resp_free(&r);
	cr_assert_eq(
	    h_post_form(c,
	                path_of("/staff/services/%lld/places/%lld/generate", (long long)theirs, o1),
	                &r, "csrf", csrf, "weeks", "2", NULL),
	    404);
	h_resp_free(&r);
	char o1s[24];
	snprintf(o1s, sizeof(o1s), "%lld", o1);
	cr_assert_eq(h_post_form(c, "/staff/services/new", &r, "csrf", csrf, "org", o1s, "name",
	                         "Intrusa", "duration", "30", "kind", "in_person", "payment",
	                         "none", NULL),
	             404);
	h_resp_free(&r);

	char day[16], ps[24], ms[24], tp[24], ts[24], o0s[24];
	local_day(now_utc() + 2 * 86400, day);
	snprintf(ps, sizeof(ps), "%lld", (long long)my_patient);
	snprintf(ms, sizeof(ms), "%lld", (long long)mine);
	snprintf(tp, sizeof(tp), "%lld", (long long)their_patient);
	snprintf(ts, sizeof(ts), "%lld", (long long)theirs);
	snprintf(o0s, sizeof(o0s), "%lld", o0);
	/* their patient, their service, their place */
	const char *combos[][3] = {{tp, ms, o0s}, {ps, ts, o0s}, {ps, ms, o1s}};
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(h_post_form(c, "/staff/appointments/new", &r, "csrf", csrf, "patient",
		                         combos[i][0], "service", combos[i][1], "place",
		                         combos[i][2], "date", day, "time", "10:00", "kind",
		                         "in_person", "payment", "none", NULL),
		             404, "combination %d", i);
		h_resp_free(&r);
	}
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM services WHERE name = 'Loro'", 0), 1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM opening_hours", 0), 0);

	/* their appointment is not in my day view, nor their service in my list */
	local_day(now_utc() + 86400, day);
	cr_assert_eq(h_get(c, path_of("/staff/appointments?day=%s", day), &r), 200);
	cr_assert(!has(&r, "Loro"));
	h_resp_free(&r);
	cr_assert_eq(h_get(c, "/staff/services", &r), 200);
	cr_assert(has(&r, "Mia") && !has(&r, "Loro"));
	h_resp_free(&r);
}

Test(staff_schedule, post_without_csrf_is_403)
{
	int64_t svc = add_service(0, "Visita", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t pid = add_patient(0, "Anna", "Verdi");
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	char ps[24], ss[24], place[24], day[16];
	snprintf(ps, sizeof(ps), "%lld", (long long)pid);
	snprintf(ss, sizeof(ss), "%lld", (long long)svc);
	snprintf(place, sizeof(place), "%lld", (long long)H.org[0].org_id);
	local_day(now_utc() + 2 * 86400, day);
	const char *hours =
	    path_of("/staff/services/%lld/places/%lld", (long long)svc, (long long)H.org[0].org_id);
	const char *posts[] = {
	    "/staff/services/new",      path_of("/staff/services/%lld/edit", (long long)svc),
	    path_of("%s/hours", hours), path_of("%s/generate", hours),
	    "/staff/appointments/new",
	};
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		cr_assert_eq(h_post_form(c, posts[i], &r, "name", "X", "duration", "30", "kind",
		                         "in_person", "payment", "none", "weeks", "2", "weekday_0",
		                         "0", "from_0", "09:00", "to_0", "10:00", "slot_0", "30",
		                         "capacity_0", "1", "patient", ps, "service", ss, "place",
		                         place, "date", day, "time", "10:00", NULL),
		             403, "POST %s", posts[i]);
		h_resp_free(&r);
		cr_assert_eq(h_post_form(c, posts[i], &r, "csrf", "forged", "weeks", "2", NULL),
		             403, "POST %s with a forged token", posts[i]);
		h_resp_free(&r);
	}
	cr_assert_eq(scalar("SELECT COUNT(*) FROM services", 0), 1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", 0), 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM slots", 0), 0);
}

Test(staff_schedule, html_in_names_is_escaped)
{
	int64_t svc = add_service(0, "<b>Bold</b> & co", BOOKING_VIDEO, BOOKING_PAY_MANDATORY, 100);
	int64_t pid = add_patient(0, "<script>alert(1)</script>", "O\"Brien<i>");
	int64_t at = now_utc() / 60 * 60 + 3600;
	add_appt(0, pid, svc, at, BOOKING_VIDEO, BOOKING_PAY_MANDATORY, 100);
	char day[16];
	local_day(at, day);
	struct h_client *c = client_en();
	struct h_resp r;
	h_staff_signin(c, 0);
	const char *pages[] = {
	    "/staff/services",
	    path_of("/staff/services/%lld", (long long)svc),
	    path_of("/staff/services/%lld/edit", (long long)svc),
	    path_of("/staff/services/%lld/places/%lld", (long long)svc, (long long)H.org[0].org_id),
	    path_of("/staff/appointments?day=%s", day),
	    path_of("/staff/appointments/new?patient=%lld&service=%lld", (long long)pid,
	            (long long)svc),
	    "/staff/appointments/new?q=%3Cscript",
	};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		cr_assert_eq(h_get(c, pages[i], &r), 200, "%s", pages[i]);
		cr_assert(!has(&r, "<b>Bold") && !has(&r, "<script>alert") && !has(&r, "Brien<i>"),
		          "%s", pages[i]);
		cr_assert(has(&r, "&lt;b&gt;Bold&lt;/b&gt; &amp; co") ||
		              has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;"),
		          "%s", pages[i]);
		h_resp_free(&r);
	}
	/* a search value with markup goes back into the box escaped */
	cr_assert_eq(h_get(c, "/staff/appointments/new?q=%22%3E%3Cimg%20src%3Dx%3E", &r), 200);
	cr_assert(!has(&r, "<img src=x>"));
	h_resp_free(&r);
}
