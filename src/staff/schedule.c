/*
 * staff/schedule: the day view of appointments and the "new appointment"
 * form (offline booking by the clinic).
 *
 *   /staff/appointments?day=YYYY-MM-DD&place=ID   one local day of one place (or of
 *                                                 every place the user manages)
 *   /staff/appointments/new                       patient (search by name, or
 *                                                 ?patient=ID), service, place, local
 *                                                 date and time, kind, payment, amount
 *
 * Days and times are the place's wall clock (organisations.timezone), turned
 * into UTC with booking/tz.h, so a day of 23 or 25 hours around a DST change
 * holds exactly its own appointments. A video consultation whose mandatory
 * payment is still missing a configurable number of hours before its start
 * (org_settings 'payment_flag_hours' of the user's organisation, else of its
 * customer, else 24) is flagged. Booking goes through booking_take_slot, which
 * confines everything to the organisations the user manages; another
 * organisation's patient, service, place or appointment is a 404 on every
 * route. It must never put a value into HTML or a URL without its encoder.
 */
#include "booking/booking.h"
#include "booking/tz.h"
#include "comms/triggers.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
	DAY_MAX_ROWS = 500,
	SEARCH_ROWS = 20,
	SEARCH_MAX = 200, /* bytes of patient search text kept */
};

static const char *const weekday_names[7] = {
    N_("Monday"), N_("Tuesday"),  N_("Wednesday"), N_("Thursday"),
    N_("Friday"), N_("Saturday"), N_("Sunday"),
};

/* A stored enumeration value (the booking core's text) and its label (msgid). */
struct opt {
	const char *value, *label;
};

static const struct opt kind_options[] = {
    {"in_person", N_("In person")},
    {"video", N_("Video")},
};
static const struct opt payment_options[] = {
    {"none", N_("No payment")},
    {"optional", N_("Payment optional")},
    {"mandatory", N_("Payment required")},
};
static const struct opt via_labels[] = {
    {"offline", N_("By the clinic")},
    {"online", N_("Online")},
    {"import", N_("Imported")},
};
static const struct opt status_labels[] = {
    {"booked", N_("Booked")},
    {"cancelled", N_("Cancelled")},
    {"done", N_("Done")},
};

#define LABEL_OF(table, lang, value) label_of(lang, value, table, ARRAY_LEN(table))

/* The translated label of value in t[0..n); the value itself when unknown. */
static const char *label_of(const char *lang, const char *value, const struct opt *t, size_t n)
{
	for (size_t i = 0; value != NULL && i < n; i++)
		if (strcmp(t[i].value, value) == 0)
			return i18n_tr(lang, t[i].label);
	return value != NULL ? value : "";
}

/* --- helpers -------------------------------------------------------------- */

static struct booking_actor actor_of(const struct http_req *req)
{
	struct booking_actor who = {.staff_org = req->session->org_id,
	                            .staff_id = req->session->user_id};
	return who;
}

/* A place: an organisation the user manages (their own first). */
struct place {
	int64_t id, parent_id;
	char *name, *timezone;
};

static int places_load(struct http_req *req, struct place **rows, int *n)
{
	int64_t org = req->session->org_id;
	struct store_stmt *s = NULL;
	int cap = 16, rc;
	*rows = NULL;
	*n = 0;
	rc = store_query(req->db, &s,
	                 "SELECT o.id, o.parent_id, o.name, o.timezone FROM organisations o "
	                 "WHERE o.id = ? OR o.parent_id = ? "
	                 "ORDER BY CASE WHEN o.id = ? THEN 0 ELSE 1 END, o.name, o.id",
	                 "iii", org, org, org);
	if (rc != 0)
		return rc;
	struct place *v = arena_alloc(req->arena, sizeof(*v) * (size_t)cap);
	while ((rc = store_step(s)) == 1) {
		if (*n == cap) {
			struct place *bigger =
			    arena_alloc(req->arena, sizeof(*v) * (size_t)cap * 2);
			memcpy(bigger, v, sizeof(*v) * (size_t)cap);
			v = bigger;
			cap *= 2;
		}
		struct place *p = &v[(*n)++];
		p->id = store_col_int(s, 0);
		p->parent_id = store_col_is_null(s, 1) ? 0 : store_col_int(s, 1);
		p->name = store_col_dup(s, 2, req->arena);
		p->timezone = store_col_dup(s, 3, req->arena);
		if (p->timezone == NULL || !tz_valid(p->timezone))
			p->timezone = "UTC";
	}
	store_done(s);
	if (rc < 0)
		return rc;
	*rows = v;
	return 0;
}

static const struct place *place_find(const struct place *rows, int n, int64_t id)
{
	for (int i = 0; i < n; i++)
		if (rows[i].id == id)
			return &rows[i];
	return NULL;
}

/* "YYYY-MM-DD", or D/M/YYYY (also with "." or "-"), as a day number. 0 or -1. */
static int parse_day(const char *s, int64_t *days)
{
	if (tz_parse_date(s, days) == 0)
		return 0;
	int v[3] = {0, 0, 0}, nd[3] = {0, 0, 0}, k = 0;
	char sep = 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9' && nd[k] < (k == 2 ? 4 : 2)) {
			v[k] = v[k] * 10 + (*p - '0');
			nd[k]++;
		} else if ((*p == '/' || *p == '.' || *p == '-') && k < 2 && nd[k] > 0 &&
		           (sep == 0 || *p == sep)) {
			sep = *p;
			k++;
		} else {
			return -1;
		}
	}
	if (k != 2 || nd[2] != 4)
		return -1;
	char iso[16];
	snprintf(iso, sizeof(iso), "%04d-%02d-%02d", v[2], v[1], v[0]);
	return tz_parse_date(iso, days);
}

static const char *iso_day(int64_t days, struct arena *a)
{
	int y, m, d;
	tz_civil_from_days(days, &y, &m, &d);
	return arena_printf(a, "%04d-%02d-%02d", y, m, d);
}

/* "HH:MM" (or "H:MM", "HH.MM") as minutes from midnight, 0..1439. 0 or -1. */
static int parse_hhmm(const char *s, int *min)
{
	int h = 0, m = 0, nh = 0, nm = 0;
	for (; *s >= '0' && *s <= '9' && nh < 2; s++, nh++)
		h = h * 10 + (*s - '0');
	if (nh == 0 || (*s != ':' && *s != '.'))
		return -1;
	s++;
	for (; *s >= '0' && *s <= '9' && nm < 2; s++, nm++)
		m = m * 10 + (*s - '0');
	if (nm != 2 || *s != '\0' || h > 23 || m > 59)
		return -1;
	*min = h * 60 + m;
	return 0;
}

/* The UTC instant of local midnight starting day `days` in zone (a gap at midnight: the
 * first instant after it). */
static int64_t local_midnight(const char *zone, int64_t days)
{
	struct tz_local l;
	memset(&l, 0, sizeof(l));
	tz_civil_from_days(days, &l.year, &l.month, &l.day);
	int64_t utc = days * 86400;
	int rc = tz_local_to_utc(zone, &l, &utc);
	if (rc < 0 && rc != TZ_ERR_GAP)
		utc = days * 86400;
	return utc;
}

/* Today's date in zone. */
static int64_t today_in(const char *zone)
{
	struct tz_local l;
	if (tz_utc_to_local(zone, now_utc(), &l) != 0)
		return now_utc() / 86400;
	return tz_days_from_civil(l.year, l.month, l.day);
}

/* "Monday 30/03/2026" in the request's language (arena). */
static const char *day_title(const char *lang, int64_t days, struct arena *a)
{
	int y, m, d;
	tz_civil_from_days(days, &y, &m, &d);
	return arena_printf(a, "%s %02d/%02d/%04d", i18n_tr(lang, weekday_names[tz_weekday(days)]),
	                    d, m, y);
}

/*
 * Hours before a video consultation's start from which a missing mandatory
 * payment is flagged: org_settings 'payment_flag_hours' of the user's
 * organisation, else of its customer, else STAFF_FLAG_HOURS_DEFAULT.
 */
static int flag_hours(struct http_req *req)
{
	int64_t org = req->session->org_id, h = STAFF_FLAG_HOURS_DEFAULT;
	struct store_stmt *s = NULL;
	if (store_query(req->db, &s,
	                "SELECT s.value FROM org_settings s WHERE s.key = 'payment_flag_hours' "
	                "AND s.org_id IN (?, (SELECT o.parent_id FROM organisations o "
	                "WHERE o.id = ?)) ORDER BY CASE WHEN s.org_id = ? THEN 0 ELSE 1 END",
	                "iii", org, org, org) != 0)
		return STAFF_FLAG_HOURS_DEFAULT;
	if (store_step(s) == 1) {
		const char *v = store_col_text(s, 0);
		if (v == NULL || parse_i64(v, 0, STAFF_FLAG_HOURS_MAX, &h) != 0)
			h = STAFF_FLAG_HOURS_DEFAULT;
	}
	store_done(s);
	return (int)h;
}

/* "/staff/appointments?day=..[&place=..]" (arena). */
static const char *day_url(int64_t days, int64_t place, struct arena *a)
{
	if (place > 0)
		return arena_printf(a, "/staff/appointments?day=%s&place=%lld", iso_day(days, a),
		                    (long long)place);
	return arena_printf(a, "/staff/appointments?day=%s", iso_day(days, a));
}

/* Sets key ("HH:MM" in zone) and key_iso (UTC) in v; key_zone the zone's abbreviation. */
static void local_time(struct view *v, const char *key, int64_t t, const char *zone,
                       struct arena *a)
{
	struct tz_local l;
	if (tz_utc_to_local(zone, t, &l) != 0)
		tz_utc_to_local("UTC", t, &l);
	view_setf(v, key, "%02d:%02d", l.hour, l.minute);
	view_set(v, arena_printf(a, "%s_zone", key), l.abbrev);
	struct tz_local u;
	tz_utc_to_local("UTC", t, &u);
	view_setf(v, arena_printf(a, "%s_iso", key), "%04d-%02d-%02dT%02d:%02dZ", u.year, u.month,
	          u.day, u.hour, u.minute);
}

/* --- the day view ------------------------------------------------------------ */

int staff_appointments(struct http_req *req, struct http_resp *resp)
{
	struct arena *a = req->arena;
	const char *lang = req->lang;
	struct booking_actor who = actor_of(req);
	struct place *places = NULL;
	int np = 0;
	if (places_load(req, &places, &np) != 0 || np == 0)
		return -1;

	const struct place *place = NULL;
	const char *q = http_query(req, "place");
	if (q != NULL && q[0] != '\0' && strcmp(q, "0") != 0) {
		int64_t id = 0;
		if (parse_i64(q, 1, INT64_MAX, &id) == 0)
			place = place_find(places, np, id);
		if (place == NULL) {
			http_error(req, resp, 404);
			return 0;
		}
	}
	const char *zone = place != NULL ? place->timezone : places[0].timezone;
	int64_t day = 0;
	q = http_query(req, "day");
	if (q == NULL || parse_day(q, &day) != 0)
		day = today_in(zone);
	int64_t from = local_midnight(zone, day), to = local_midnight(zone, day + 1);
	int64_t now = now_utc();

	struct view *v = view_new(a);
	view_set(v, "title", i18n_tr(lang, "Appointments"));
	view_set(v, "day_title", day_title(lang, day, a));
	view_set(v, "day", iso_day(day, a));
	int64_t pid = place != NULL ? place->id : 0;
	view_set(v, "prev_url", day_url(day - 1, pid, a));
	view_set(v, "next_url", day_url(day + 1, pid, a));
	if (day != today_in(zone))
		view_set(v, "today_url", day_url(today_in(zone), pid, a));
	view_set(v, "new_url",
	         pid > 0 ? arena_printf(a, "/staff/appointments/new?day=%s&place=%lld",
	                                iso_day(day, a), (long long)pid)
	                 : arena_printf(a, "/staff/appointments/new?day=%s", iso_day(day, a)));
	view_set(v, "place_name", place != NULL ? place->name : "");
	view_set_bool(v, "many_places", np > 1);
	for (int i = 0; i < np; i++) {
		struct view *o = view_append(v, "places");
		view_set_int(o, "value", places[i].id);
		view_set(o, "label", places[i].name);
		view_set_bool(o, "selected", place != NULL && place->id == places[i].id);
	}
	/* the clocks change on this day: say which hour is which */
	int dst_day = (to - from) != 86400;
	view_set_bool(v, "dst_day", dst_day);

	/* the confirmation after a booking */
	q = http_query(req, "booked");
	if (q != NULL) {
		int64_t id = 0;
		struct booking_appointment ap;
		int e = parse_i64(q, 1, INT64_MAX, &id) == 0
		            ? booking_appointment_get(req->db, &who, id, &ap, a)
		            : BOOKING_NOTFOUND;
		if (e == BOOKING_NOTFOUND) {
			http_error(req, resp, 404);
			return 0;
		}
		if (e != 0)
			return -1;
		const struct place *ap_place = place_find(places, np, ap.org_id);
		struct view *b = view_child(v, "booked");
		view_set(b, "patient", ap.patient_name);
		view_set(b, "service", ap.service_name);
		struct tz_local l;
		tz_utc_to_local(ap_place != NULL ? ap_place->timezone : zone, ap.start_at, &l);
		view_set(
		    b, "when",
		    arena_printf(a, "%s %02d:%02d",
		                 day_title(lang, tz_days_from_civil(l.year, l.month, l.day), a),
		                 l.hour, l.minute));
		view_set_bool(b, "payreq", http_query(req, "payreq") != NULL);
	}

	int hours = flag_hours(req);
	view_set_int(v, "flag_hours", hours);

	/* every unpaid video consultation soon, whatever its day: what needs doing first */
	struct booking_appointment *unpaid = NULL;
	int nunpaid = 0;
	if (booking_unpaid_video(req->db, &who, hours, now, &unpaid, &nunpaid, a) != 0)
		return -1;
	view_set_int(v, "unpaid_count", nunpaid);
	for (int i = 0; i < nunpaid && i < 20; i++) {
		const struct place *up = place_find(places, np, unpaid[i].org_id);
		const char *uz = up != NULL ? up->timezone : zone;
		struct tz_local l;
		tz_utc_to_local(uz, unpaid[i].start_at, &l);
		int64_t ud = tz_days_from_civil(l.year, l.month, l.day);
		struct view *u = view_append(v, "unpaid");
		view_set(u, "patient", unpaid[i].patient_name);
		view_set(u, "service", unpaid[i].service_name);
		view_set(u, "when",
		         arena_printf(a, "%s %02d:%02d", day_title(lang, ud, a), l.hour, l.minute));
		view_set(u, "href", day_url(ud, up != NULL ? up->id : 0, a));
	}

	struct store_stmt *s = NULL;
	int rc;
	static const char sql_all[] =
	    "SELECT a.id, a.patient_id, p.org_id, p.given_name, p.family_name, v.name, o.id, "
	    "o.name, a.start_at, a.end_at, a.kind, a.booked_via, a.payment, a.amount_cents, "
	    "a.paid_at, a.status FROM appointments a JOIN services v ON v.id = a.service_id "
	    "JOIN organisations o ON o.id = a.org_id JOIN patients p ON p.id = a.patient_id "
	    "WHERE (o.id = ? OR o.parent_id = ?) AND a.start_at >= ? AND a.start_at < ? "
	    "ORDER BY a.start_at, a.id LIMIT 500";
	static const char sql_place[] =
	    "SELECT a.id, a.patient_id, p.org_id, p.given_name, p.family_name, v.name, o.id, "
	    "o.name, a.start_at, a.end_at, a.kind, a.booked_via, a.payment, a.amount_cents, "
	    "a.paid_at, a.status FROM appointments a JOIN services v ON v.id = a.service_id "
	    "JOIN organisations o ON o.id = a.org_id JOIN patients p ON p.id = a.patient_id "
	    "WHERE (o.id = ? OR o.parent_id = ?) AND a.start_at >= ? AND a.start_at < ? "
	    "AND a.org_id = ? ORDER BY a.start_at, a.id LIMIT 500";
	if (place != NULL)
		rc = store_query(req->db, &s, sql_place, "iiiii", who.staff_org, who.staff_org,
		                 from, to, place->id);
	else
		rc = store_query(req->db, &s, sql_all, "iiii", who.staff_org, who.staff_org, from,
		                 to);
	if (rc != 0)
		return -1;
	int n = 0;
	while ((rc = store_step(s)) == 1 && n < DAY_MAX_ROWS) {
		struct view *r = view_append(v, "rows");
		n++;
		int64_t patient = store_col_int(s, 1), porg = store_col_int(s, 2);
		view_setf(r, "patient", "%s %s", store_col_text(s, 3), store_col_text(s, 4));
		/* a member's patient has no profile page here */
		if (porg == req->session->org_id)
			view_setf(r, "patient_href", "/staff/patients/%lld", (long long)patient);
		else
			view_set(r, "patient_href", "");
		view_set(r, "service", store_col_text(s, 5));
		const struct place *rp = place_find(places, np, store_col_int(s, 6));
		const char *rz = rp != NULL ? rp->timezone : zone;
		view_set(r, "place", store_col_text(s, 7));
		int64_t start = store_col_int(s, 8), end = store_col_int(s, 9);
		local_time(r, "start", start, rz, a);
		local_time(r, "end", end, rz, a);
		const char *kind = store_col_text(s, 10);
		const char *payment = store_col_text(s, 12);
		const char *status = store_col_text(s, 15);
		int paid = !store_col_is_null(s, 14);
		int video = kind != NULL && strcmp(kind, "video") == 0;
		int mandatory = payment != NULL && strcmp(payment, "mandatory") == 0;
		int booked = status != NULL && strcmp(status, "booked") == 0;
		view_set(r, "kind", LABEL_OF(kind_options, lang, kind));
		view_set_bool(r, "video", video);
		view_set(r, "via", LABEL_OF(via_labels, lang, store_col_text(s, 11)));
		view_set(r, "payment", LABEL_OF(payment_options, lang, payment));
		int asks = payment != NULL && strcmp(payment, "none") != 0;
		view_set_bool(r, "asks_payment", asks);
		view_set(r, "amount", asks ? staff_money_text(lang, store_col_int(s, 13), a) : "");
		view_set_bool(r, "paid", paid);
		view_set_bool(r, "not_booked", !booked);
		view_set(r, "status", LABEL_OF(status_labels, lang, status));
		view_set(r, "status_value", status != NULL ? status : "");
		/* flagged from `hours` before the start until the end */
		int flag = booked && video && mandatory && !paid && now < end &&
		           start - (int64_t)hours * 3600 <= now;
		view_set_bool(r, "flag", flag);
	}
	store_done(s);
	if (rc < 0)
		return -1;
	view_set_bool(v, "empty", n == 0);
	view_set_int(v, "count", n);
	return http_render(req, resp, 200, "staff/schedule.html", v);
}

/* --- new appointment ------------------------------------------------------------ */

enum { F_PATIENT, F_SERVICE, F_PLACE, F_DATE, F_TIME, F_KIND, F_PAYMENT, F_AMOUNT, F_COUNT };

static const char *const field_names[F_COUNT] = {
    "patient", "service", "place", "date", "time", "kind", "payment", "amount",
};

struct appt_form {
	const char *value[F_COUNT];
	const char *error[F_COUNT]; /* msgid or NULL */
	int nerrors;
};

static void form_error(struct appt_form *f, int field, const char *msg)
{
	if (f->error[field] != NULL)
		return;
	f->error[field] = msg;
	f->nerrors++;
}

static int option_index(const char *value, int payment)
{
	if (payment) {
		for (size_t i = 0; i < ARRAY_LEN(payment_options); i++)
			if (strcmp(payment_options[i].value, value) == 0)
				return (int)i;
	} else {
		for (size_t i = 0; i < ARRAY_LEN(kind_options); i++)
			if (strcmp(kind_options[i].value, value) == 0)
				return (int)i;
	}
	return -1;
}

static void field_view(struct http_req *req, struct view *v, const struct appt_form *f, int i)
{
	struct view *x = view_child(v, field_names[i]);
	const char *err = f->error[i] != NULL ? i18n_tr(req->lang, f->error[i]) : "";
	view_set(x, "value", f->value[i]);
	view_set(x, "error", err);
	if (f->error[i] != NULL) {
		struct view *e = view_append(v, "errors");
		/* the element the summary's link moves focus to */
		const char *target = i == F_PATIENT   ? "q"
		                     : i == F_KIND    ? "kind-in_person"
		                     : i == F_PAYMENT ? "payment-none"
		                                      : field_names[i];
		view_set(e, "name", target);
		view_set(e, "error", err);
	}
}

/* A URL of the form page keeping the choices made so far, with patient set to patient
 * (0: none) and the search q (NULL: none). */
static const char *form_url(const struct appt_form *f, int64_t patient, const char *q,
                            struct arena *a)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "/staff/appointments/new");
	char sep = '?';
	if (patient > 0) {
		buf_printf(&b, "%cpatient=%lld", sep, (long long)patient);
		sep = '&';
	}
	if (q != NULL) {
		buf_printf(&b, "%cq=", sep);
		buf_urlenc(&b, q);
		sep = '&';
	}
	static const int keep[] = {F_SERVICE, F_PLACE, F_DATE, F_TIME};
	static const char *const keep_names[] = {"service", "place", "day", "time"};
	for (size_t i = 0; i < ARRAY_LEN(keep); i++) {
		if (f->value[keep[i]][0] == '\0')
			continue;
		buf_printf(&b, "%c%s=", sep, keep_names[i]);
		buf_urlenc(&b, f->value[keep[i]]);
		sep = '&';
	}
	char *s =
	    arena_strdup(a, b.data != NULL && !b.overflow ? b.data : "/staff/appointments/new");
	buf_free(&b);
	return s;
}

/* Renders the form. patient may be NULL (none chosen yet); q the patient search. */
static int render_form(struct http_req *req, struct http_resp *resp, struct appt_form *f,
                       const struct store_patient *patient, const char *q)
{
	struct arena *a = req->arena;
	const char *lang = req->lang;
	struct booking_actor who = actor_of(req);
	struct place *places = NULL;
	struct booking_service *svcs = NULL;
	int np = 0, ns = 0;
	if (places_load(req, &places, &np) != 0 ||
	    booking_service_list(req->db, &who, 0, &svcs, &ns, a) != 0)
		return -1;

	struct view *v = view_new(a);
	view_set(v, "title", i18n_tr(lang, "New appointment"));
	view_set_int(v, "nerrors", f->nerrors);
	if (patient != NULL) {
		struct view *p = view_child(v, "patient_chosen");
		view_set_int(p, "id", patient->id);
		view_setf(p, "name", "%s %s", patient->given_name, patient->family_name);
		view_setf(p, "href", "/staff/patients/%lld", (long long)patient->id);
		view_set(p, "birth_date", patient->birth_date != NULL ? patient->birth_date : "");
		view_set(v, "change_url", form_url(f, 0, NULL, a));
	}
	/* the patient search: a plain GET form, results link back here with ?patient= */
	view_set(v, "q", q != NULL ? q : "");
	if (q != NULL && q[0] != '\0') {
		struct store_patient_filter sf = {.q = q, .status = -1, .limit = SEARCH_ROWS};
		struct store_patient *rows = NULL;
		int n = 0, more = 0;
		int e = store_patient_list(req->db, req->session->org_id, &sf, &rows, &n, &more, a);
		if (e != 0 && e != STORE_INVALID)
			return -1;
		if (e == STORE_INVALID)
			n = 0;
		view_set_bool(v, "searched", 1);
		view_set_bool(v, "no_results", n == 0);
		view_set_bool(v, "more_results", more);
		for (int i = 0; i < n; i++) {
			struct view *r = view_append(v, "results");
			view_setf(r, "name", "%s %s", rows[i].given_name, rows[i].family_name);
			view_set(r, "birth_date",
			         rows[i].birth_date != NULL ? rows[i].birth_date : "");
			view_set(r, "href", form_url(f, rows[i].id, NULL, a));
		}
	}
	/* carried by the search form */
	view_set(v, "keep_service", f->value[F_SERVICE]);
	view_set(v, "keep_place", f->value[F_PLACE]);
	view_set(v, "keep_date", f->value[F_DATE]);
	view_set(v, "keep_time", f->value[F_TIME]);

	for (int i = 0; i < F_COUNT; i++)
		field_view(req, v, f, i);
	for (int i = 0; i < ns; i++) {
		if (!svcs[i].active && strcmp(f->value[F_SERVICE],
		                              arena_printf(a, "%lld", (long long)svcs[i].id)) != 0)
			continue;
		struct view *o = view_append(v, "services");
		view_set_int(o, "value", svcs[i].id);
		if (np > 1)
			view_setf(o, "label", "%s (%s)", svcs[i].name, svcs[i].org_name);
		else
			view_set(o, "label", svcs[i].name);
		view_set_bool(o, "selected",
		              strcmp(f->value[F_SERVICE],
		                     arena_printf(a, "%lld", (long long)svcs[i].id)) == 0);
	}
	view_set_bool(v, "no_services", ns == 0);
	for (int i = 0; i < np; i++) {
		struct view *o = view_append(v, "places");
		view_set_int(o, "value", places[i].id);
		view_set(o, "label", places[i].name);
		view_set_bool(o, "selected",
		              strcmp(f->value[F_PLACE],
		                     arena_printf(a, "%lld", (long long)places[i].id)) == 0);
	}
	for (size_t i = 0; i < ARRAY_LEN(kind_options); i++) {
		struct view *o = view_append(v, "kinds");
		view_set(o, "value", kind_options[i].value);
		view_set(o, "label", i18n_tr(lang, kind_options[i].label));
		view_set_bool(o, "checked", strcmp(f->value[F_KIND], kind_options[i].value) == 0);
	}
	for (size_t i = 0; i < ARRAY_LEN(payment_options); i++) {
		struct view *o = view_append(v, "payments");
		view_set(o, "value", payment_options[i].value);
		view_set(o, "label", i18n_tr(lang, payment_options[i].label));
		view_set_bool(o, "checked",
		              strcmp(f->value[F_PAYMENT], payment_options[i].value) == 0);
	}
	return http_render(req, resp, 200, "staff/appointment_form.html", v);
}

/* Loads the patient of form/query value s in the user's organisation. 0; 1 when resp holds
 * the 404 (another organisation's, or no such patient); negative on failure. */
static int load_patient(struct http_req *req, struct http_resp *resp, const char *s,
                        struct store_patient *p)
{
	int64_t id = 0;
	int e = parse_i64(s, 1, INT64_MAX, &id) == 0
	            ? store_patient_get(req->db, req->session->org_id, id, p, req->arena)
	            : STORE_NOTFOUND;
	if (e == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 1;
	}
	return e;
}

int staff_appointment_new(struct http_req *req, struct http_resp *resp)
{
	struct arena *a = req->arena;
	struct booking_actor who = actor_of(req);
	struct appt_form f;
	memset(&f, 0, sizeof(f));
	f.value[F_PATIENT] = staff_trimmed(http_query(req, "patient"), a);
	f.value[F_SERVICE] = staff_trimmed(http_query(req, "service"), a);
	f.value[F_PLACE] = staff_trimmed(http_query(req, "place"), a);
	f.value[F_DATE] = staff_trimmed(http_query(req, "day"), a);
	f.value[F_TIME] = staff_trimmed(http_query(req, "time"), a);
	f.value[F_KIND] = "in_person";
	f.value[F_PAYMENT] = "none";
	f.value[F_AMOUNT] = "";

	struct store_patient p, *patient = NULL;
	if (f.value[F_PATIENT][0] != '\0') {
		int rc = load_patient(req, resp, f.value[F_PATIENT], &p);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
		patient = &p;
	}
	if (f.value[F_SERVICE][0] != '\0') {
		/* a chosen service brings its own terms; the form can still change them */
		struct booking_service svc;
		int64_t id = 0;
		int e = parse_i64(f.value[F_SERVICE], 1, INT64_MAX, &id) == 0
		            ? booking_service_get(req->db, &who, id, &svc, a)
		            : BOOKING_NOTFOUND;
		if (e == BOOKING_NOTFOUND) {
			http_error(req, resp, 404);
			return 0;
		}
		if (e != 0)
			return -1;
		f.value[F_KIND] = kind_options[svc.kind].value;
		f.value[F_PAYMENT] = payment_options[svc.payment].value;
		if (svc.payment != BOOKING_PAY_NONE && svc.price_cents > 0)
			f.value[F_AMOUNT] = staff_money_input(req->lang, svc.price_cents, a);
	}
	if (f.value[F_PLACE][0] == '\0')
		f.value[F_PLACE] = arena_printf(a, "%lld", (long long)req->session->org_id);
	const char *q = http_query(req, "q");
	if (q != NULL) {
		/* at most SEARCH_MAX bytes, never cutting a UTF-8 sequence in half */
		q = staff_trimmed(q, a);
		size_t n = strlen(q);
		if (n > SEARCH_MAX) {
			n = SEARCH_MAX;
			while (n > 0 && ((unsigned char)q[n] & 0xC0) == 0x80)
				n--;
			q = arena_strndup(a, q, n);
		}
	}
	return render_form(req, resp, &f, patient, q);
}

/*
 * The communications hook (issue 4, DESIGN.md "Payment in advance"): a video
 * consultation with mandatory payment booked offline sends the "request
 * payment in advance" message (TRD104) by itself, once:
 * comms_trigger_payment_request() queues it right after the booking committed
 * (booking_take_slot keeps its transaction to itself), idempotent per
 * appointment; the scheduler's catch-up sends it if this call failed.
 * Returns 1 when a message was queued, 0 when none was needed or none could
 * be, negative on failure.
 */
static int schedule_after_offline_booking(struct http_req *req,
                                          const struct booking_appointment *ap)
{
	if (!booking_needs_payment_request(ap))
		return 0;
	int queued = 0;
	if (comms_trigger_payment_request(req->db, ap->id, now_utc(), &queued) != 0)
		return -1; /* logged; the scheduler's catch-up sends it later */
	return queued;
}

int staff_appointment_create(struct http_req *req, struct http_resp *resp)
{
	struct arena *a = req->arena;
	struct booking_actor who = actor_of(req);
	struct appt_form f;
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < F_COUNT; i++)
		f.value[i] = staff_trimmed(http_form(req, field_names[i]), a);

	/* ids that are not this organisation's are a 404; missing choices are field errors */
	struct store_patient p, *patient = NULL;
	if (f.value[F_PATIENT][0] == '\0') {
		form_error(&f, F_PATIENT, N_("Choose the patient: search by name."));
	} else {
		int rc = load_patient(req, resp, f.value[F_PATIENT], &p);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
		patient = &p;
	}
	struct booking_service svc;
	int have_svc = 0;
	if (f.value[F_SERVICE][0] == '\0') {
		form_error(&f, F_SERVICE, N_("Choose the service."));
	} else {
		int64_t id = 0;
		int e = parse_i64(f.value[F_SERVICE], 1, INT64_MAX, &id) == 0
		            ? booking_service_get(req->db, &who, id, &svc, a)
		            : BOOKING_NOTFOUND;
		if (e == BOOKING_NOTFOUND) {
			http_error(req, resp, 404);
			return 0;
		}
		if (e != 0)
			return -1;
		have_svc = 1;
	}
	struct place *places = NULL;
	int np = 0;
	if (places_load(req, &places, &np) != 0)
		return -1;
	const struct place *place = NULL;
	if (f.value[F_PLACE][0] == '\0') {
		form_error(&f, F_PLACE, N_("Choose the place."));
	} else {
		int64_t id = 0;
		if (parse_i64(f.value[F_PLACE], 1, INT64_MAX, &id) == 0)
			place = place_find(places, np, id);
		if (place == NULL) {
			http_error(req, resp, 404);
			return 0;
		}
	}
	if (have_svc && place != NULL && svc.org_id != place->id && svc.org_id != place->parent_id)
		form_error(&f, F_SERVICE, N_("This service is not offered at this place."));

	int64_t day = 0;
	int minute = 0;
	if (parse_day(f.value[F_DATE], &day) != 0)
		form_error(&f, F_DATE, N_("Enter the date, for example 31/12/2026."));
	if (parse_hhmm(f.value[F_TIME], &minute) != 0)
		form_error(&f, F_TIME,
		           N_("Enter the time as hours and minutes, for example 09:30."));
	int64_t start = 0, now = now_utc();
	if (f.error[F_DATE] == NULL && f.error[F_TIME] == NULL && place != NULL) {
		struct tz_local l;
		memset(&l, 0, sizeof(l));
		tz_civil_from_days(day, &l.year, &l.month, &l.day);
		l.hour = minute / 60;
		l.minute = minute % 60;
		int e = tz_local_to_utc(place->timezone, &l, &start);
		if (e == TZ_ERR_GAP)
			form_error(
			    &f, F_TIME,
			    N_("This time does not exist on that day: the clocks go forward. "
			       "Choose another time."));
		else if (e < 0)
			return -1;
		else if (start <= now)
			form_error(&f, F_TIME, N_("This time has already passed."));
	}
	int kind = option_index(f.value[F_KIND], 0);
	if (kind < 0)
		form_error(&f, F_KIND, N_("Choose in person or video."));
	int pay = option_index(f.value[F_PAYMENT], 1);
	if (pay < 0)
		form_error(&f, F_PAYMENT, N_("Choose the payment."));
	int64_t amount = 0;
	if (pay > 0) {
		if (f.value[F_AMOUNT][0] == '\0')
			form_error(
			    &f, F_AMOUNT,
			    N_("Enter the amount to pay: this appointment asks for a payment."));
		else if (staff_parse_money(f.value[F_AMOUNT], &amount) != 0)
			form_error(&f, F_AMOUNT,
			           N_("Enter the amount in euros, for example 35,00."));
		else if (amount == 0)
			form_error(
			    &f, F_AMOUNT,
			    N_("Enter the amount to pay: this appointment asks for a payment."));
	}
	if (f.nerrors > 0)
		return render_form(req, resp, &f, patient, NULL);

	/* the service's slot at that time, if there is one, gives up a seat */
	int64_t slot = 0;
	int e = store_scalar(req->db, &slot,
	                     "SELECT id FROM slots WHERE service_id = ? AND org_id = ? AND "
	                     "start_at = ?",
	                     "iii", svc.id, place->id, start);
	if (e == STORE_NOTFOUND)
		slot = 0;
	else if (e != 0)
		return -1;
	struct booking_request r = {
	    .patient_id = patient->id,
	    .slot_id = slot,
	    .service_id = svc.id,
	    .org_id = place->id,
	    .start_at = start,
	    .duration_min = 0,
	    .kind = kind,
	    .payment = pay,
	    .amount_cents = pay > 0 ? amount : 0,
	    .import = 0,
	    .now = now,
	};
	struct booking_appointment ap;
	e = booking_take_slot(req->db, &who, &r, &ap);
	if (e == BOOKING_TAKEN) {
		form_error(&f, F_TIME, N_("This time is fully booked. Choose another time."));
		return render_form(req, resp, &f, patient, NULL);
	}
	if (e == BOOKING_PAST) {
		form_error(&f, F_TIME, N_("This time has already passed."));
		return render_form(req, resp, &f, patient, NULL);
	}
	if (e == BOOKING_INVALID) {
		form_error(&f, F_AMOUNT, N_("Enter the amount in euros, for example 35,00."));
		return render_form(req, resp, &f, patient, NULL);
	}
	if (e == BOOKING_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (e != 0)
		return -1;
	store_audit(req->db, req->session->org_id, "staff", req->session->user_id,
	            "appointment.create", "appointment", ap.id, req->ip,
	            arena_printf(a, "patient=%lld via=offline", (long long)patient->id));
	int queued = schedule_after_offline_booking(req, &ap);
	http_redirect(resp, arena_printf(a, "/staff/appointments?day=%s&place=%lld&booked=%lld%s",
	                                 iso_day(day, a), (long long)place->id, (long long)ap.id,
	                                 queued > 0 ? "&payreq=1" : ""));
	return 0;
}
