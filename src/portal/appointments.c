/*
 * portal/appointments: one appointment as its patient sees it
 * (/appointments/{id}): date and time in the organisation's zone, service,
 * place (address) or video link, payment state; cancel and reschedule, each
 * behind a confirmation page, until the organisation's cut-off. Also the
 * helpers the home and booking pages share: the signed-in patient as a
 * booking actor, dates and amounts in words, and the short messages that
 * confirm a booking, a move or a cancellation.
 *
 * Access is booking/booking.h's: a patient opens their own appointments and
 * those of the family members they manage, on their own portal; anything
 * else is 404, never 403, so ids reveal nothing. It must never show or change
 * an appointment without booking_appointment_get() saying the actor may see it.
 *
 * Messages are queued right after the booking core's own transaction commits
 * (booking_take_slot and friends open theirs): a failure to queue is logged
 * and the change stands. The texts are short defaults of ours, in the
 * account holder's language (the organisation's "confirmation" template via
 * comms_queue() is the next step: see notices[]).
 */
#include "booking/booking.h"
#include "booking/tz.h"
#include "comms/outbox.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/util.h"
#include "portal/portal.h"
#include "store/store.h"

#include <string.h>

#define RESCHEDULE_PAGE 20 /* slots per page of the reschedule list */

/* --- shared helpers ----------------------------------------------------------- */

static const char *const weekdays[7] = {N_("Monday"),   N_("Tuesday"), N_("Wednesday"),
                                        N_("Thursday"), N_("Friday"),  N_("Saturday"),
                                        N_("Sunday")};
static const char *const months[12] = {
    N_("January"), N_("February"), N_("March"),     N_("April"),   N_("May"),      N_("June"),
    N_("July"),    N_("August"),   N_("September"), N_("October"), N_("November"), N_("December")};

int portal_booking_actor(struct http_req *req, struct booking_actor *who)
{
	memset(who, 0, sizeof(*who));
	const struct store_session *s = req->session;
	if (s == NULL || s->kind != STORE_SESSION_PATIENT)
		return -1;
	/* user_id is the patient's id, org_id its organisation (invite/account.h) */
	struct store_org org;
	if (store_org_get(req->db, s->org_id, &org, req->arena) != 0)
		return -1;
	who->portal_id = org.portal_id;
	who->patient_id = s->user_id;
	return 0;
}

const char *portal_when(const char *lang, const char *zone, int64_t utc, struct arena *a)
{
	struct tz_local l;
	if (zone == NULL || tz_utc_to_local(zone, utc, &l) != 0) {
		zone = "UTC";
		if (tz_utc_to_local(zone, utc, &l) != 0)
			return "";
	}
	/* Both languages say "weekday day month year, hh:mm"; Italian names are lower case. */
	return arena_printf(a, "%s %d %s %d, %02d:%02d", i18n_tr(lang, weekdays[l.weekday % 7]),
	                    l.day, i18n_tr(lang, months[(l.month + 11) % 12]), l.year, l.hour,
	                    l.minute);
}

const char *portal_money(const char *lang, int64_t cents, struct arena *a)
{
	int it = lang == NULL || strcmp(lang, "en") != 0;
	if (cents < 0)
		cents = 0;
	return arena_printf(a, it ? "€ %lld,%02d" : "€%lld.%02d", (long long)(cents / 100),
	                    (int)(cents % 100));
}

/* The short texts of the messages (English msgids, printf formats in this order: clinic,
 * service, person, when, place or link). */
static const struct {
	const char *kind, *subject, *body;
} notices[] = {
    {"confirmation", N_("Appointment confirmed"),
     N_("%s: %s for %s on %s is confirmed. Details: %s")},
    {"reschedule", N_("Appointment moved"), N_("%s: %s for %s has been moved to %s. Details: %s")},
    {"cancellation", N_("Appointment cancelled"),
     N_("%s: %s for %s on %s has been cancelled. Book again: %s")},
};

int portal_booking_notice(struct http_req *req, const char *kind,
                          const struct booking_appointment *ap)
{
	int n = -1;
	for (int i = 0; i < (int)ARRAY_LEN(notices); i++)
		if (strcmp(notices[i].kind, kind) == 0)
			n = i;
	if (n < 0 || req->session == NULL)
		return -1;
	struct arena *a = req->arena;
	struct store_patient holder, person;
	struct store_org org;
	struct store_portal portal;
	struct booking_service svc;
	struct booking_actor who;
	if (portal_booking_actor(req, &who) != 0 ||
	    store_patient_get(req->db, req->session->org_id, req->session->user_id, &holder, a) !=
	        0 ||
	    store_org_get(req->db, ap->org_id, &org, a) != 0 ||
	    store_portal_get(req->db, org.portal_id, &portal, a) != 0)
		goto fail;
	person = holder;
	if (ap->patient_id != holder.id &&
	    store_patient_get(req->db, req->session->org_id, ap->patient_id, &person, a) != 0)
		goto fail;
	const char *service = ap->service_name;
	if (service == NULL) {
		if (booking_service_get(req->db, &who, ap->service_id, &svc, a) != 0)
			goto fail;
		service = svc.name;
	}
	const char *channel = NULL, *to = NULL;
	if (holder.email != NULL && holder.email[0] != '\0')
		channel = "email", to = holder.email;
	else if (holder.mobile != NULL && holder.mobile[0] != '\0')
		channel = "sms", to = holder.mobile;
	if (channel == NULL)
		return 0; /* nobody to tell: the page already said it */
	const char *lang = holder.lang ? holder.lang : req->lang;
	/* one message per appointment and event (a moved appointment: per new start) */
	const char *key = arena_printf(a, "portal.%s:%lld:%lld", kind, (long long)ap->id,
	                               (long long)ap->start_at);
	const char *base = portal.base_url ? portal.base_url : "";
	size_t bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	const char *link =
	    strcmp(kind, "cancellation") == 0
	        ? arena_printf(a, "%.*s/search", (int)bl, base)
	        : arena_printf(a, "%.*s/appointments/%lld", (int)bl, base, (long long)ap->id);
	const char *body =
	    arena_printf(a, i18n_tr(lang, notices[n].body), org.name, service, person.given_name,
	                 portal_when(lang, org.timezone, ap->start_at, a), link);
	const char *subject =
	    strcmp(channel, "email") == 0 ? i18n_tr(lang, notices[n].subject) : NULL;
	if (comms_outbox_add(req->db, holder.org_id, holder.id, kind, channel, to, subject, body,
	                     key, now_utc(), NULL) != 0)
		goto fail;
	return 0;
fail:
	log_warn("portal: could not queue the %s message of appointment %lld", kind,
	         (long long)ap->id);
	return -1;
}

/* --- the appointment page ------------------------------------------------------ */

/* What the page shows about one appointment the actor may see. */
struct appt_page {
	struct booking_actor who;
	struct booking_appointment ap;
	struct store_org org;
	char *video_url;
	int cutoff_hours;
	int can_change; /* booked, and now before start - cut-off */
};

/* Loads appointment path param 0: 0, 404 when not the actor's to see, or -1. */
static int appt_load(struct http_req *req, struct appt_page *pg)
{
	memset(pg, 0, sizeof(*pg));
	int64_t id = http_param_id(req, 0);
	if (id <= 0)
		return 404;
	if (portal_booking_actor(req, &pg->who) != 0)
		return -1;
	int rc = booking_appointment_get(req->db, &pg->who, id, &pg->ap, req->arena);
	if (rc == BOOKING_NOTFOUND)
		return 404;
	if (rc != 0)
		return -1;
	if (store_org_get(req->db, pg->ap.org_id, &pg->org, req->arena) != 0)
		return -1;
	struct store_stmt *s = NULL;
	if (store_query(req->db, &s, "SELECT video_url FROM appointments WHERE id = ?", "i",
	                pg->ap.id) != 0)
		return -1;
	if (store_step(s) == 1)
		pg->video_url = store_col_dup(s, 0, req->arena);
	store_done(s);
	pg->cutoff_hours = BOOKING_CUTOFF_HOURS_DEFAULT;
	if (booking_cutoff_hours(req->db, pg->ap.org_id, &pg->cutoff_hours) != 0)
		return -1;
	int64_t now = now_utc();
	pg->can_change = pg->ap.status == BOOKING_BOOKED &&
	                 now <= pg->ap.start_at - (int64_t)pg->cutoff_hours * 3600;
	return 0;
}

static const char *status_text(enum booking_status st)
{
	switch (st) {
	case BOOKING_CANCELLED:
		return N_("Cancelled");
	case BOOKING_DONE:
		return N_("Done");
	default:
		return N_("Booked");
	}
}

/* The tel: URL of a phone number as the clinic wrote it ("+39 06 1234 5678"): '+' and digits
 * only, since a URL holds no spaces. "" for no number. */
static const char *tel_href(const char *phone, struct arena *a)
{
	size_t n = 0;
	char *out = arena_alloc(a, (phone != NULL ? strlen(phone) : 0) + 1);
	for (const char *c = phone; c != NULL && *c != '\0'; c++)
		if ((*c >= '0' && *c <= '9') || (*c == '+' && n == 0))
			out[n++] = *c;
	out[n] = '\0';
	return out;
}

/* Fills the view with pg: the same fields for the page and its confirmation steps. */
static void appt_view(struct http_req *req, const struct appt_page *pg, struct view *v)
{
	const char *lang = req->lang;
	const struct booking_appointment *ap = &pg->ap;
	struct view *av = view_child(v, "appt");
	view_set_int(av, "id", ap->id);
	view_set(av, "when", portal_when(lang, pg->org.timezone, ap->start_at, req->arena));
	view_set(av, "service", ap->service_name);
	view_set(av, "org_name", pg->org.name);
	view_set(av, "org_phone", pg->org.phone);
	view_set(av, "org_tel", tel_href(pg->org.phone, req->arena));
	view_set(av, "status", i18n_tr(lang, status_text(ap->status)));
	view_set_bool(av, "booked", ap->status == BOOKING_BOOKED);
	view_set_bool(av, "cancelled", ap->status == BOOKING_CANCELLED);
	if (ap->patient_id != pg->who.patient_id)
		view_set(av, "for_name", ap->patient_name);
	if (ap->kind == BOOKING_VIDEO) {
		view_set_bool(av, "video", 1);
		if (pg->video_url != NULL && strncmp(pg->video_url, "https://", 8) == 0)
			view_set(av, "video_url", pg->video_url);
	} else {
		view_set(av, "address", pg->org.address);
	}
	if (ap->payment != BOOKING_PAY_NONE) {
		struct view *pv = view_child(av, "payment");
		view_set(pv, "amount", portal_money(lang, ap->amount_cents, req->arena));
		view_set_bool(pv, "paid", ap->paid_at != 0);
		view_set_bool(pv, "mandatory", ap->payment == BOOKING_PAY_MANDATORY);
		view_set_bool(pv, "can_pay", ap->paid_at == 0 && ap->status == BOOKING_BOOKED);
	}
	view_set_bool(av, "can_change", pg->can_change);
	view_set_int(av, "cutoff_hours", pg->cutoff_hours);
	view_set(v, "title", ap->service_name);
}

static int render_appt(struct http_req *req, struct http_resp *resp, int status,
                       const struct appt_page *pg, const char *error, const char *notice)
{
	struct view *v = view_new(req->arena);
	appt_view(req, pg, v);
	if (error != NULL)
		view_set(v, "error", error);
	if (notice != NULL)
		view_set(v, "notice", notice);
	return http_render(req, resp, status, "portal/appointment.html", v);
}

/* ?done= after a change, as a status message. */
static const struct {
	const char *done, *msg;
} done_msgs[] = {
    {"booked", N_("Your appointment is booked. We have sent you a confirmation.")},
    {"cancelled", N_("Your appointment is cancelled. We have sent you a confirmation.")},
    {"moved", N_("Your appointment has been moved. We have sent you a confirmation.")},
};

int portal_appointment(struct http_req *req, struct http_resp *resp)
{
	struct appt_page pg;
	int rc = appt_load(req, &pg);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	const char *done = http_query(req, "done"), *notice = NULL;
	for (int i = 0; done != NULL && i < (int)ARRAY_LEN(done_msgs); i++)
		if (strcmp(done, done_msgs[i].done) == 0)
			notice = i18n_tr(req->lang, done_msgs[i].msg);
	return render_appt(req, resp, 200, &pg, NULL, notice);
}

/* The words for a booking_err after a cancel or a move. */
static const char *change_error(struct http_req *req, const struct appt_page *pg, int err)
{
	switch (err) {
	case BOOKING_CUTOFF:
		return arena_printf(req->arena, "%s %s %d.",
		                    i18n_tr(req->lang, "It is too late to change this appointment "
		                                       "online: please call the clinic."),
		                    i18n_tr(req->lang, "Hours before the start:"),
		                    pg->cutoff_hours);
	case BOOKING_STATE:
		return i18n_tr(req->lang, "This appointment is no longer booked.");
	case BOOKING_PAST:
		return i18n_tr(req->lang, "This appointment has already started.");
	case BOOKING_TAKEN:
		return i18n_tr(req->lang, "That time was just taken. Please choose another one.");
	case BOOKING_BUSY:
		return i18n_tr(req->lang, "The system is busy. Please try again in a moment.");
	default:
		return i18n_tr(req->lang, booking_strerror(err));
	}
}

int portal_appointment_cancel_form(struct http_req *req, struct http_resp *resp)
{
	struct appt_page pg;
	int rc = appt_load(req, &pg);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	if (!pg.can_change)
		return render_appt(
		    req, resp, 409, &pg,
		    change_error(req, &pg,
		                 pg.ap.status == BOOKING_BOOKED ? BOOKING_CUTOFF : BOOKING_STATE),
		    NULL);
	struct view *v = view_new(req->arena);
	appt_view(req, &pg, v);
	view_set(v, "title", i18n_tr(req->lang, "Cancel the appointment"));
	return http_render(req, resp, 200, "portal/appointment_cancel.html", v);
}

int portal_appointment_cancel(struct http_req *req, struct http_resp *resp)
{
	struct appt_page pg;
	int rc = appt_load(req, &pg);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	rc = booking_cancel(req->db, &pg.who, pg.ap.id, now_utc());
	if (rc == BOOKING_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc == BOOKING_ERR)
		return -1;
	if (rc != 0) {
		struct appt_page again;
		if (appt_load(req, &again) != 0)
			return -1;
		return render_appt(req, resp, 409, &again, change_error(req, &pg, rc), NULL);
	}
	portal_booking_notice(req, "cancellation", &pg.ap);
	http_redirect(resp, arena_printf(req->arena, "/appointments/%lld?done=cancelled",
	                                 (long long)pg.ap.id));
	return 0;
}

/* --- reschedule ------------------------------------------------------------------ */

/* Lists free slots of the same service (paginated by ?after=start.id), or with ?slot= (or
 * slot_id > 0) the confirmation of that one. */
static int render_reschedule(struct http_req *req, struct http_resp *resp, int status,
                             const struct appt_page *pg, int64_t slot_id, const char *error)
{
	struct view *v = view_new(req->arena);
	appt_view(req, pg, v);
	view_set(v, "title", i18n_tr(req->lang, "Change the date"));
	if (error != NULL)
		view_set(v, "error", error);
	if (slot_id > 0) {
		struct booking_slot sl;
		int rc = portal_slot_get(req, &pg->who, slot_id, &sl);
		if (rc == 0 && sl.service_id == pg->ap.service_id && sl.booked < sl.capacity &&
		    sl.start_at > now_utc()) {
			struct view *cv = view_child(v, "confirm");
			view_set_int(cv, "slot_id", sl.id);
			view_set(cv, "when",
			         portal_when(req->lang, sl.timezone, sl.start_at, req->arena));
			view_set(cv, "org_name", sl.org_name);
			return http_render(req, resp, status, "portal/appointment_reschedule.html",
			                   v);
		}
		if (rc != 0 && rc != BOOKING_NOTFOUND)
			return -1;
		view_set(v, "error", change_error(req, pg, BOOKING_TAKEN));
		status = 409;
	}
	struct booking_search q = {
	    .service_id = pg->ap.service_id, .now = now_utc(), .limit = RESCHEDULE_PAGE};
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
	int rc = booking_slots_search(req->db, &pg->who, &q, &rows, &n, &more, req->arena);
	if (rc != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct view *sv = view_append(v, "slots");
		view_set_int(sv, "id", rows[i].id);
		view_set(sv, "when",
		         portal_when(req->lang, rows[i].timezone, rows[i].start_at, req->arena));
		view_set(sv, "org_name", rows[i].org_name);
	}
	if (more && n > 0)
		view_setf(v, "more", "%lld.%lld", (long long)rows[n - 1].start_at,
		          (long long)rows[n - 1].id);
	return http_render(req, resp, status, "portal/appointment_reschedule.html", v);
}

int portal_appointment_reschedule_form(struct http_req *req, struct http_resp *resp)
{
	struct appt_page pg;
	int rc = appt_load(req, &pg);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	if (!pg.can_change)
		return render_appt(
		    req, resp, 409, &pg,
		    change_error(req, &pg,
		                 pg.ap.status == BOOKING_BOOKED ? BOOKING_CUTOFF : BOOKING_STATE),
		    NULL);
	int64_t slot = 0;
	const char *s = http_query(req, "slot");
	if (s != NULL && parse_i64(s, 1, INT64_MAX, &slot) != 0)
		slot = 0;
	return render_reschedule(req, resp, 200, &pg, slot, NULL);
}

int portal_appointment_reschedule(struct http_req *req, struct http_resp *resp)
{
	struct appt_page pg;
	int rc = appt_load(req, &pg);
	if (rc == 404) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	int64_t slot = 0;
	const char *s = http_form(req, "slot");
	if (s == NULL || parse_i64(s, 1, INT64_MAX, &slot) != 0) {
		http_error(req, resp, 400);
		return 0;
	}
	struct booking_appointment moved;
	rc = booking_reschedule(req->db, &pg.who, pg.ap.id, slot, now_utc(), &moved);
	if (rc == BOOKING_ERR)
		return -1;
	if (rc == BOOKING_TAKEN || rc == BOOKING_NOTFOUND || rc == BOOKING_INVALID ||
	    rc == BOOKING_PAST) {
		/* the appointment itself was visible (appt_load): the slot is the problem */
		return render_reschedule(req, resp, 409, &pg, 0,
		                         change_error(req, &pg, BOOKING_TAKEN));
	}
	if (rc != 0) {
		struct appt_page again;
		if (appt_load(req, &again) != 0)
			return -1;
		return render_appt(req, resp, 409, &again, change_error(req, &pg, rc), NULL);
	}
	moved.service_name = pg.ap.service_name;
	portal_booking_notice(req, "reschedule", &moved);
	http_redirect(
	    resp, arena_printf(req->arena, "/appointments/%lld?done=moved", (long long)pg.ap.id));
	return 0;
}
