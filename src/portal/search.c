/*
 * portal/search: the booking search criteria page (/search) and booking a
 * slot (/book/{slot}).
 *
 * /search filters by service (?service={id}: the TRD89 link's target, which
 * pre-selects it), place (the organisations connected to the patient's
 * portal) and a date range in the place's zone, and lists free slots soonest
 * first, a page at a time (keyset: ?after=<start>.<id>). /book/{slot} shows
 * the slot and whom it is for (the patient or a family member they manage),
 * and books it with one POST: booking_take_slot() takes the seat atomically,
 * so of two patients racing for the last seat one wins and the other is told
 * "That time was just taken" with the next free slots. A video consultation
 * with mandatory payment goes straight to its payment page.
 *
 * The booking core decides who may book what (booking/booking.h); this file
 * must never book for a patient the core has not accepted, nor show slots of
 * another portal.
 */
#include "booking/booking.h"
#include "booking/tz.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "portal/portal.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define SEARCH_PAGE 20 /* slots per page */
#define NEXT_SLOTS  5  /* alternatives shown when a slot was just taken */
#define PLACES_MAX  100

struct place {
	int64_t id;
	char *name, *timezone;
};

/* The organisations of the actor's portal (customer first), at most PLACES_MAX. */
static int places_list(struct http_req *req, const struct booking_actor *who, struct place **out,
                       int *n)
{
	struct store_stmt *s = NULL;
	*out = arena_alloc(req->arena, sizeof(**out) * PLACES_MAX);
	*n = 0;
	int rc = store_query(req->db, &s,
	                     "SELECT id, name, timezone FROM organisations WHERE portal_id = ? "
	                     "ORDER BY kind, name, id LIMIT ?",
	                     "ii", who->portal_id, (int64_t)PLACES_MAX);
	if (rc != 0)
		return -1;
	while ((rc = store_step(s)) == 1) {
		struct place *p = &(*out)[(*n)++];
		p->id = store_col_int(s, 0);
		p->name = store_col_dup(s, 1, req->arena);
		p->timezone = store_col_dup(s, 2, req->arena);
	}
	store_done(s);
	return rc < 0 ? -1 : 0;
}

int portal_slot_get(struct http_req *req, const struct booking_actor *who, int64_t slot_id,
                    struct booking_slot *out)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc = store_query(
	    req->db, &s,
	    "SELECT s.id, s.org_id, s.service_id, s.start_at, s.end_at, s.capacity, s.booked, "
	    "v.name, o.name, o.timezone, v.kind, v.payment, v.price_cents FROM slots s "
	    "JOIN services v ON v.id = s.service_id JOIN organisations o ON o.id = s.org_id "
	    "WHERE s.id = ? AND o.portal_id = ? AND v.active = 1 AND v.online_booking = 1",
	    "ii", slot_id, who->portal_id);
	if (rc != 0)
		return BOOKING_ERR;
	rc = store_step(s);
	if (rc == 1) {
		out->id = store_col_int(s, 0);
		out->org_id = store_col_int(s, 1);
		out->service_id = store_col_int(s, 2);
		out->start_at = store_col_int(s, 3);
		out->end_at = store_col_int(s, 4);
		out->capacity = (int)store_col_int(s, 5);
		out->booked = (int)store_col_int(s, 6);
		out->service_name = store_col_dup(s, 7, req->arena);
		out->org_name = store_col_dup(s, 8, req->arena);
		out->timezone = store_col_dup(s, 9, req->arena);
		const char *k = store_col_text(s, 10), *p = store_col_text(s, 11);
		out->kind = k && strcmp(k, "video") == 0 ? BOOKING_VIDEO : BOOKING_IN_PERSON;
		out->payment = !p                            ? BOOKING_PAY_NONE
		               : strcmp(p, "mandatory") == 0 ? BOOKING_PAY_MANDATORY
		               : strcmp(p, "optional") == 0  ? BOOKING_PAY_OPTIONAL
		                                             : BOOKING_PAY_NONE;
		out->price_cents = store_col_int(s, 12);
		rc = 0;
	} else {
		rc = rc == 0 ? BOOKING_NOTFOUND : BOOKING_ERR;
	}
	store_done(s);
	return rc;
}

/* Payment terms of a slot's service in words ("" for none). */
static const char *slot_payment(struct http_req *req, const struct booking_slot *sl)
{
	if (sl->payment == BOOKING_PAY_NONE || sl->price_cents <= 0)
		return "";
	const char *amount = portal_money(req->lang, sl->price_cents, req->arena);
	return arena_printf(req->arena, "%s %s", amount,
	                    i18n_tr(req->lang, sl->payment == BOOKING_PAY_MANDATORY
	                                           ? "(payment online in advance)"
	                                           : "(you may pay online)"));
}

static void slot_view(struct http_req *req, const struct booking_slot *sl, struct view *sv)
{
	view_set_int(sv, "id", sl->id);
	view_set(sv, "when", portal_when(req->lang, sl->timezone, sl->start_at, req->arena));
	view_set(sv, "service", sl->service_name);
	view_set(sv, "org_name", sl->org_name);
	view_set_bool(sv, "video", sl->kind == BOOKING_VIDEO);
	view_set(sv, "payment", slot_payment(req, sl));
}

/* The local date of utc in zone as "YYYY-MM-DD" (arena), for day headings and inputs. */
static const char *local_date(struct http_req *req, const char *zone, int64_t utc,
                              struct tz_local *l)
{
	if (zone == NULL || tz_utc_to_local(zone, utc, l) != 0)
		tz_utc_to_local("UTC", utc, l);
	return arena_printf(req->arena, "%04d-%02d-%02d", l->year, l->month, l->day);
}

/* Local midnight of day (days since 1970) in zone, as UTC; a gap at midnight moves later. */
static int64_t local_midnight(const char *zone, int64_t days)
{
	struct tz_local l = {0};
	tz_civil_from_days(days, &l.year, &l.month, &l.day);
	int64_t utc = days * 86400;
	if (tz_local_to_utc(zone, &l, &utc) < 0 && tz_local_to_utc("UTC", &l, &utc) < 0)
		return days * 86400;
	return utc;
}

/* An optional id from the query: 0 when missing or empty, -1 when malformed. */
static int64_t query_id(struct http_req *req, const char *name)
{
	const char *s = http_query(req, name);
	int64_t id = 0;
	if (s == NULL || s[0] == '\0')
		return 0;
	return parse_i64(s, 1, INT64_MAX, &id) == 0 ? id : -1;
}

int portal_search(struct http_req *req, struct http_resp *resp)
{
	const char *lang = req->lang;
	struct booking_actor who;
	if (portal_booking_actor(req, &who) != 0)
		return -1;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(lang, "Book an appointment"));
	const char *error = NULL;

	int64_t service = query_id(req, "service"), place = query_id(req, "place");
	if (service < 0 || place < 0) {
		error = i18n_tr(lang, "Please choose a service and a place from the lists.");
		service = service < 0 ? 0 : service;
		place = place < 0 ? 0 : place;
	}

	struct booking_service *svcs = NULL;
	int nsvc = 0;
	if (booking_service_list(req->db, &who, 0, &svcs, &nsvc, req->arena) != 0)
		return -1;
	int service_ok = service == 0;
	for (int i = 0; i < nsvc; i++) {
		struct view *o = view_append(v, "services");
		view_set_int(o, "id", svcs[i].id);
		view_set(o, "name", svcs[i].name);
		view_set(o, "org_name", svcs[i].org_name);
		view_set_bool(o, "selected", svcs[i].id == service);
		if (svcs[i].id == service)
			service_ok = 1;
	}
	if (!service_ok) {
		error =
		    i18n_tr(lang, "That service cannot be booked online. Please choose another.");
		service = 0;
	}

	struct place *places = NULL;
	int nplace = 0;
	if (places_list(req, &who, &places, &nplace) != 0)
		return -1;
	const char *zone = nplace > 0 ? places[0].timezone : "UTC";
	int place_ok = place == 0;
	for (int i = 0; i < nplace; i++) {
		struct view *o = view_append(v, "places");
		view_set_int(o, "id", places[i].id);
		view_set(o, "name", places[i].name);
		view_set_bool(o, "selected", places[i].id == place);
		if (places[i].id == place) {
			place_ok = 1;
			zone = places[i].timezone;
		}
	}
	if (!place_ok) {
		error = i18n_tr(lang, "Please choose a service and a place from the lists.");
		place = 0;
	}

	/* the date range: local days of the place (or the portal's customer) */
	int64_t now = now_utc();
	struct booking_search q = {
	    .service_id = service, .org_id = place, .now = now, .limit = SEARCH_PAGE};
	const char *from = http_query(req, "from"), *to = http_query(req, "to");
	int64_t dfrom = 0, dto = 0;
	int from_bad = from && from[0] && tz_parse_date(from, &dfrom) != 0;
	int to_bad = to && to[0] && tz_parse_date(to, &dto) != 0;
	if (from_bad || to_bad) {
		error = i18n_tr(lang, "Please enter dates as YYYY-MM-DD.");
		view_set_bool(v, from_bad ? "from_error" : "to_error", 1);
	} else {
		if (from && from[0])
			q.from = local_midnight(zone, dfrom);
		if (to && to[0])
			q.to = local_midnight(zone, dto + 1);
		if (q.to != 0 && q.to <= q.from) {
			error = i18n_tr(lang, "The end date must not be before the start date.");
			view_set_bool(v, "to_error", 1);
			q.to = 0;
		}
	}
	view_set(v, "from", from);
	view_set(v, "to", to);
	int64_t whom = query_id(req, "for"); /* carried to /book/{slot}?for= (a family member) */
	if (whom > 0)
		view_set_int(v, "for", whom);
	struct tz_local today;
	view_set(v, "today", local_date(req, zone, now, &today));

	const char *after = http_query(req, "after");
	if (after != NULL) {
		const char *dot = strchr(after, '.');
		int64_t st = 0, id = 0;
		if (dot != NULL &&
		    parse_i64(arena_strndup(req->arena, after, (size_t)(dot - after)), 1, INT64_MAX,
		              &st) == 0 &&
		    parse_i64(dot + 1, 1, INT64_MAX, &id) == 0)
			q.after_start = st, q.after_id = id;
	}

	struct booking_slot *rows = NULL;
	int n = 0, more = 0;
	int rc = booking_slots_search(req->db, &who, &q, &rows, &n, &more, req->arena);
	if (rc == BOOKING_INVALID)
		n = 0;
	else if (rc != 0)
		return -1;
	/* grouped by local day, soonest first */
	struct view *day = NULL;
	const char *day_key = NULL;
	for (int i = 0; i < n; i++) {
		struct tz_local l;
		const char *key = local_date(req, rows[i].timezone, rows[i].start_at, &l);
		if (day == NULL || strcmp(key, day_key) != 0) {
			day = view_append(v, "days");
			day_key = key;
			const char *w =
			    portal_when(lang, rows[i].timezone, rows[i].start_at, req->arena);
			const char *comma = strrchr(w, ',');
			view_set(day, "label",
			         comma ? arena_strndup(req->arena, w, (size_t)(comma - w)) : w);
		}
		struct view *sv = view_append(day, "slots");
		slot_view(req, &rows[i], sv);
		view_setf(sv, "time", "%02d:%02d", l.hour, l.minute);
	}
	view_set_bool(v, "searched", 1);
	view_set_int(v, "count", n);
	if (more && n > 0) {
		struct buf b;
		buf_init(&b, 4096);
		buf_puts(&b, "/search?");
		if (service > 0)
			buf_printf(&b, "service=%lld&", (long long)service);
		if (place > 0)
			buf_printf(&b, "place=%lld&", (long long)place);
		if (from && from[0] && !from_bad) {
			buf_puts(&b, "from=");
			buf_urlenc(&b, from);
			buf_putc(&b, '&');
		}
		if (to && to[0] && !to_bad) {
			buf_puts(&b, "to=");
			buf_urlenc(&b, to);
			buf_putc(&b, '&');
		}
		if (whom > 0)
			buf_printf(&b, "for=%lld&", (long long)whom);
		buf_printf(&b, "after=%lld.%lld", (long long)rows[n - 1].start_at,
		           (long long)rows[n - 1].id);
		view_set(v, "more", b.data);
		buf_free(&b);
	}
	if (error != NULL)
		view_set(v, "error", error);
	return http_render(req, resp, 200, "portal/search.html", v);
}

/* --- booking a slot ---------------------------------------------------------------- */

/* The people this account books for: itself first, then its family members. */
static int whom_view(struct http_req *req, struct view *v, int64_t chosen)
{
	const struct store_session *s = req->session;
	struct store_patient *fam = NULL;
	int n = 0;
	if (store_patient_family(req->db, s->org_id, s->user_id, &fam, &n, req->arena) != 0)
		return -1;
	struct view *me = view_append(v, "whom");
	view_set_int(me, "id", s->user_id);
	view_set(me, "name", i18n_tr(req->lang, "Myself"));
	view_set_bool(me, "selected", chosen == 0 || chosen == s->user_id);
	for (int i = 0; i < n; i++) {
		struct view *o = view_append(v, "whom");
		view_set_int(o, "id", fam[i].id);
		view_setf(o, "name", "%s %s", fam[i].given_name, fam[i].family_name);
		view_set_bool(o, "selected", chosen == fam[i].id);
	}
	view_set_bool(v, "family", n > 0);
	view_set_int(v, "self_id", s->user_id);
	return 0;
}

/* "That time was just taken" and the next free slots of the same service and place. */
static int render_taken(struct http_req *req, struct http_resp *resp,
                        const struct booking_actor *who, int64_t slot_id, int64_t service_id)
{
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "That time was just taken"));
	view_set(v, "error",
	         i18n_tr(req->lang, "That time was just taken. Please choose another one."));
	struct booking_slot *rows = NULL;
	int n = 0;
	int rc =
	    booking_slots_next(req->db, who, slot_id, now_utc(), NEXT_SLOTS, &rows, &n, req->arena);
	if (rc != 0 && rc != BOOKING_NOTFOUND)
		return -1;
	for (int i = 0; i < n; i++)
		slot_view(req, &rows[i], view_append(v, "next"));
	if (service_id > 0)
		view_set_int(v, "service_id", service_id);
	return http_render(req, resp, 409, "portal/book_taken.html", v);
}

int portal_book_form(struct http_req *req, struct http_resp *resp)
{
	struct booking_actor who;
	if (portal_booking_actor(req, &who) != 0)
		return -1;
	int64_t id = http_param_id(req, 0);
	struct booking_slot sl;
	int rc = id > 0 ? portal_slot_get(req, &who, id, &sl) : BOOKING_NOTFOUND;
	if (rc == BOOKING_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	if (sl.booked >= sl.capacity || sl.start_at <= now_utc())
		return render_taken(req, resp, &who, sl.id, sl.service_id);
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Confirm the booking"));
	slot_view(req, &sl, view_child(v, "slot"));
	int64_t chosen = 0;
	const char *f = http_query(req, "for");
	if (f != NULL && parse_i64(f, 1, INT64_MAX, &chosen) != 0)
		chosen = 0;
	if (whom_view(req, v, chosen) != 0)
		return -1;
	return http_render(req, resp, 200, "portal/book.html", v);
}

int portal_book(struct http_req *req, struct http_resp *resp)
{
	struct booking_actor who;
	if (portal_booking_actor(req, &who) != 0)
		return -1;
	int64_t slot = http_param_id(req, 0), patient = 0;
	const char *p = http_form(req, "patient");
	if (slot <= 0) {
		http_error(req, resp, 404);
		return 0;
	}
	if (p == NULL || p[0] == '\0')
		patient = who.patient_id;
	else if (parse_i64(p, 1, INT64_MAX, &patient) != 0) {
		http_error(req, resp, 400);
		return 0;
	}
	struct booking_request r = {.patient_id = patient,
	                            .slot_id = slot,
	                            .kind = -1,
	                            .payment = -1,
	                            .amount_cents = -1,
	                            .now = now_utc()};
	struct booking_appointment ap;
	int rc = booking_take_slot(req->db, &who, &r, &ap);
	switch (rc) {
	case 0:
		break;
	case BOOKING_TAKEN:
	case BOOKING_PAST: {
		struct booking_slot sl;
		int64_t service = portal_slot_get(req, &who, slot, &sl) == 0 ? sl.service_id : 0;
		return render_taken(req, resp, &who, slot, service);
	}
	case BOOKING_FORBIDDEN:
		http_error(req, resp, 403);
		return 0;
	case BOOKING_NOTFOUND:
		http_error(req, resp, 404);
		return 0;
	case BOOKING_INVALID:
		http_error(req, resp, 400);
		return 0;
	case BOOKING_BUSY:
		http_add_header(req, resp, "Retry-After", "2");
		http_error(req, resp, 503);
		return 0;
	default:
		return -1;
	}
	portal_booking_notice(req, "confirmation", &ap);
	if (ap.kind == BOOKING_VIDEO && ap.payment == BOOKING_PAY_MANDATORY && ap.paid_at == 0)
		http_redirect(resp,
		              arena_printf(req->arena, "/appointments/%lld/pay", (long long)ap.id));
	else
		http_redirect(resp, arena_printf(req->arena, "/appointments/%lld?done=booked",
		                                 (long long)ap.id));
	return 0;
}
