/*
 * staff/recalls: the recalls clinic staff set up ("patient X should come back
 * for service S around date D") and the list of them.
 *
 *   GET  /staff/recalls?state=&after_date=&after=   the organisation's recalls by due
 *                                                   date: all, due, upcoming, sent,
 *                                                   cancelled; 50 a page (keyset)
 *   GET  /staff/recalls/new?patient=ID (or ?q=)     the form (a patient search first)
 *   POST /staff/recalls/new                         create (back to the list)
 *   POST /staff/patients/{id}/recalls               create from the profile (back to it)
 *   POST /staff/recalls/{id}/cancel                 cancel a recall not sent yet
 *
 * The profile's "New recall" form is filled by staff_recall_profile(). A due
 * recall is sent by the scheduler (comms/triggers.c) with TRD89, once.
 * Everything is confined to the signed-in user's organisation: another
 * organisation's patient, service or recall is a 404. Only the notice keys of
 * the table below are shown, so a URL cannot put its own words on the page.
 */
#include "booking/booking.h"
#include "booking/tz.h"
#include "comms/triggers.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <inttypes.h>
#include <string.h>

enum { PAGE_SIZE = 50, SEARCH_ROWS = 20, SEARCH_MAX = 200 };

/* The list's filter: value, label (msgid), state. The first is the default. */
static const struct {
	const char *value, *label;
	enum comms_recall_state state;
} filters[] = {
    {"", N_("All"), COMMS_RECALLS_ALL},
    {"due", N_("Due"), COMMS_RECALLS_DUE},
    {"upcoming", N_("Upcoming"), COMMS_RECALLS_UPCOMING},
    {"sent", N_("Sent"), COMMS_RECALLS_SENT},
    {"cancelled", N_("Cancelled"), COMMS_RECALLS_CANCELLED},
};

static const struct {
	const char *value, *label;
} channels[] = {
    {"sms", N_("SMS")},
    {"email", N_("E-mail")},
    {"both", N_("SMS and e-mail")},
};

/* Notices after an action (?done=...). */
static const struct {
	const char *key, *msg;
	int error;
} notices[] = {
    {"created", N_("Recall saved: it will be sent on its due date."), 0},
    {"cancelled", N_("Recall cancelled: it will not be sent."), 0},
    {"gone", N_("That recall cannot be cancelled: it was already sent or cancelled."), 1},
};

static void notice(struct http_req *req, struct view *v, const char *done)
{
	for (size_t i = 0; done != NULL && i < ARRAY_LEN(notices); i++)
		if (strcmp(done, notices[i].key) == 0)
			view_set(v, notices[i].error ? "error" : "notice",
			         i18n_tr(req->lang, notices[i].msg));
}

static const char *channel_label(const char *lang, const char *value)
{
	for (size_t i = 0; value != NULL && i < ARRAY_LEN(channels); i++)
		if (strcmp(channels[i].value, value) == 0)
			return i18n_tr(lang, channels[i].label);
	return value != NULL ? value : "";
}

static struct booking_actor actor_of(const struct http_req *req)
{
	struct booking_actor who = {.staff_org = req->session->org_id,
	                            .staff_id = req->session->user_id};
	return who;
}

/* --- the form -------------------------------------------------------------------- */

enum { F_SERVICE, F_DUE, F_CHANNEL, F_COUNT };
static const char *const field_names[F_COUNT] = {"service", "due_date", "channel"};

struct recall_form {
	const char *value[F_COUNT];
	const char *error[F_COUNT]; /* msgid or NULL */
	int nerrors;
};

static void form_error(struct recall_form *f, int field, const char *msg)
{
	if (f->error[field] != NULL)
		return;
	f->error[field] = msg;
	f->nerrors++;
}

/* "YYYY-MM-DD" (the date input) or "D/M/YYYY" as typed by hand, as YYYY-MM-DD (arena);
 * NULL when it is no real date. */
static const char *iso_day(const char *s, struct arena *a)
{
	unsigned part[3] = {0, 0, 0};
	int digits[3] = {0, 0, 0}, k = 0;
	int64_t days = 0;
	const char *iso = NULL;
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		iso = s;
	} else {
		for (const char *p = s; *p != '\0' && k < 3; p++) {
			if (*p == '/' && digits[k] > 0)
				k++;
			else if (*p >= '0' && *p <= '9' && digits[k] < 4)
				part[k] = part[k] * 10 + (unsigned)(*p - '0'), digits[k]++;
			else
				return NULL;
		}
		if (k == 2 && digits[0] <= 2 && digits[1] <= 2 && digits[2] == 4)
			iso = arena_printf(a, "%04u-%02u-%02u", part[2], part[1], part[0]);
	}
	return iso != NULL && tz_parse_date(iso, &days) == 0 ? iso : NULL;
}

/* The patient's contacts, its own or else its managing patient's. */
static void contacts(struct http_req *req, const struct store_patient *p, int *sms, int *email)
{
	*sms = p->mobile != NULL && p->mobile[0] != '\0';
	*email = p->email != NULL && p->email[0] != '\0';
	struct store_patient m;
	if ((!*sms || !*email) && p->managed_by > 0 &&
	    store_patient_get(req->db, req->session->org_id, p->managed_by, &m, req->arena) == 0) {
		*sms |= m.mobile != NULL && m.mobile[0] != '\0';
		*email |= m.email != NULL && m.email[0] != '\0';
	}
}

/*
 * Fills v (the form's view) for patient p: services, due date, channels, errors. f may be
 * NULL (a fresh form). 0, or negative on a store failure.
 */
static int form_view(struct http_req *req, struct view *v, const struct store_patient *p,
                     const struct recall_form *f)
{
	struct arena *a = req->arena;
	struct booking_actor who = actor_of(req);
	struct booking_service *svcs = NULL;
	int nsvc = 0, sms = 0, email = 0;
	if (booking_service_list(req->db, &who, 0, &svcs, &nsvc, a) != 0)
		return -1;
	contacts(req, p, &sms, &email);
	const char *chosen = f != NULL ? f->value[F_CHANNEL] : sms ? "sms" : "email";
	view_setf(v, "patient_id", "%" PRId64, p->id);
	view_setf(v, "patient_name", "%s %s", p->given_name, p->family_name);
	view_setf(v, "patient_href", "/staff/patients/%" PRId64, p->id);
	int any = 0;
	for (int i = 0; i < nsvc; i++) {
		if (!svcs[i].active)
			continue;
		struct view *o = view_append(v, "services");
		view_setf(o, "value", "%" PRId64, svcs[i].id);
		view_setf(o, "label", "%s (%s)", svcs[i].name, svcs[i].org_name);
		view_set_bool(o, "selected",
		              f != NULL && strcmp(f->value[F_SERVICE], view_get(o, "value")) == 0);
		any = 1;
	}
	view_set_bool(v, "no_services", !any);
	for (size_t i = 0; i < ARRAY_LEN(channels); i++) {
		struct view *o = view_append(v, "channels");
		view_set(o, "value", channels[i].value);
		view_set(o, "label", i18n_tr(req->lang, channels[i].label));
		view_set_bool(o, "checked", strcmp(chosen, channels[i].value) == 0);
	}
	view_set_bool(v, "no_contact", !sms && !email);
	view_set(v, "due_value", f != NULL ? f->value[F_DUE] : "");
	for (int i = 0; i < F_COUNT; i++) {
		const char *e =
		    f != NULL && f->error[i] != NULL ? i18n_tr(req->lang, f->error[i]) : "";
		view_set(v, arena_printf(a, "%s_error", field_names[i]), e);
		if (e[0] != '\0') {
			struct view *x = view_append(v, "errors");
			view_set(x, "name", field_names[i]);
			view_set(x, "error", e);
		}
	}
	view_set_int(v, "nerrors", f != NULL ? f->nerrors : 0);
	return 0;
}

int staff_recall_profile(struct http_req *req, struct view *v, const struct store_patient *p)
{
	struct view *r = view_child(v, "recall_form");
	view_setf(r, "action", "/staff/patients/%" PRId64 "/recalls", p->id);
	const char *done = http_query(req, "recall");
	/* set even when empty: a missing key would be looked up in the profile's view */
	view_set(r, "notice",
	         done != NULL && strcmp(done, "created") == 0 ? i18n_tr(req->lang, notices[0].msg)
	                                                      : "");
	return form_view(req, r, p, NULL);
}

/* Loads patient id of the user's organisation: 0; 1 after answering 404; negative. */
static int load_patient(struct http_req *req, struct http_resp *resp, int64_t id,
                        struct store_patient *p)
{
	int e = id > 0 ? store_patient_get(req->db, req->session->org_id, id, p, req->arena)
	               : STORE_NOTFOUND;
	if (e == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 1;
	}
	return e;
}

static int render_form(struct http_req *req, struct http_resp *resp, const struct store_patient *p,
                       const struct recall_form *f, const char *action, int status)
{
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "New recall"));
	view_set_bool(v, "patient_chosen", 1);
	struct view *r = view_child(v, "recall_form");
	view_set(r, "action", action);
	if (form_view(req, r, p, f) != 0)
		return -1;
	return http_render(req, resp, status, "staff/recalls_form.html", v);
}

/* The patient search of /staff/recalls/new without ?patient=. */
static int render_search(struct http_req *req, struct http_resp *resp, const char *q)
{
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "New recall"));
	view_set(v, "q", q != NULL ? q : "");
	if (q != NULL && q[0] != '\0') {
		struct store_patient *rows = NULL;
		int n = 0, more = 0;
		struct store_patient_filter pf = {.q = q, .status = -1, .limit = SEARCH_ROWS};
		int e = store_patient_list(req->db, req->session->org_id, &pf, &rows, &n, &more,
		                           req->arena);
		if (e != 0 && e != STORE_INVALID)
			return -1;
		view_set_bool(v, "searched", 1);
		view_set_bool(v, "no_results", n == 0);
		view_set_bool(v, "more_results", more);
		for (int i = 0; i < n; i++) {
			struct view *o = view_append(v, "results");
			view_setf(o, "name", "%s %s", rows[i].given_name, rows[i].family_name);
			view_setf(o, "href", "/staff/recalls/new?patient=%" PRId64, rows[i].id);
			view_set(o, "birth_date", staff_date(rows[i].birth_date, req->arena));
		}
	}
	return http_render(req, resp, 200, "staff/recalls_form.html", v);
}

int staff_recall_new(struct http_req *req, struct http_resp *resp)
{
	const char *pid = http_query(req, "patient");
	if (pid == NULL || pid[0] == '\0') {
		const char *q = http_query(req, "q");
		if (q != NULL && strlen(q) > SEARCH_MAX)
			q = arena_strndup(req->arena, q, SEARCH_MAX);
		return render_search(req, resp, q);
	}
	int64_t id = 0;
	struct store_patient p;
	int rc = load_patient(req, resp, parse_i64(pid, 1, INT64_MAX, &id) == 0 ? id : 0, &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	return render_form(req, resp, &p, NULL, "/staff/recalls/new", 200);
}

/* Validates the posted form for p and creates the recall; redirects to back (with the
 * notice) or renders the form again with its errors. */
static int create(struct http_req *req, struct http_resp *resp, const struct store_patient *p,
                  const char *action, const char *back)
{
	struct arena *a = req->arena;
	struct recall_form f;
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < F_COUNT; i++) {
		const char *s = http_form(req, field_names[i]);
		f.value[i] = s != NULL ? s : "";
	}
	int64_t svc = 0;
	if (f.value[F_SERVICE][0] == '\0')
		form_error(&f, F_SERVICE, N_("Choose the service."));
	else if (parse_i64(f.value[F_SERVICE], 1, INT64_MAX, &svc) != 0) {
		http_error(req, resp, 404);
		return 0;
	}
	const char *due = iso_day(f.value[F_DUE], a);
	char today[11];
	if (comms_org_today(req->db, req->session->org_id, now_utc(), today) != 0)
		return -1;
	if (due == NULL)
		form_error(&f, F_DUE, N_("Enter the due date, for example 31/12/2026."));
	else if (strcmp(due, today) < 0)
		form_error(&f, F_DUE, N_("This date has passed: choose today or a later day."));
	int sms = 0, email = 0, ch = -1;
	contacts(req, p, &sms, &email);
	for (size_t i = 0; i < ARRAY_LEN(channels); i++)
		if (strcmp(f.value[F_CHANNEL], channels[i].value) == 0)
			ch = (int)i;
	if (ch < 0)
		form_error(&f, F_CHANNEL, N_("Choose SMS, e-mail or both."));
	else if ((ch == 0 && !sms) || (ch == 1 && !email) || (ch == 2 && !(sms && email)))
		form_error(&f, F_CHANNEL,
		           ch == 0 ? N_("This patient has no mobile number: choose e-mail.")
		           : ch == 1
		               ? N_("This patient has no e-mail address: choose SMS.")
		               : N_("This patient cannot get both: choose the channel they have."));
	if (f.nerrors > 0)
		return render_form(req, resp, p, &f, action, 200);
	int64_t id = 0;
	int rc =
	    comms_recall_create(req->db, req->session->org_id, p->id, svc, due, channels[ch].value,
	                        req->session->user_id, req->ip, now_utc(), &id);
	if (rc == COMMS_RECALL_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc != 0)
		return -1;
	http_redirect(resp, back);
	return 0;
}

int staff_recall_create(struct http_req *req, struct http_resp *resp)
{
	const char *pid = http_form(req, "patient");
	int64_t id = 0;
	struct store_patient p;
	int rc = load_patient(req, resp,
	                      pid != NULL && parse_i64(pid, 1, INT64_MAX, &id) == 0 ? id : 0, &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	return create(req, resp, &p, "/staff/recalls/new", "/staff/recalls?done=created");
}

int staff_patient_recall_create(struct http_req *req, struct http_resp *resp)
{
	struct store_patient p;
	int rc = load_patient(req, resp, http_param_id(req, 0), &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	return create(
	    req, resp, &p, arena_printf(req->arena, "/staff/patients/%" PRId64 "/recalls", p.id),
	    arena_printf(req->arena, "/staff/patients/%" PRId64 "?recall=created#recalls-h", p.id));
}

int staff_recall_cancel(struct http_req *req, struct http_resp *resp)
{
	int64_t id = http_param_id(req, 0);
	int rc = id > 0 ? comms_recall_cancel(req->db, req->session->org_id, id,
	                                      req->session->user_id, req->ip, now_utc())
	                : COMMS_RECALL_NOTFOUND;
	if (rc == COMMS_RECALL_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc == COMMS_RECALL_STATE) {
		http_redirect(resp, "/staff/recalls?done=gone");
		return 0;
	}
	if (rc != 0)
		return -1;
	http_redirect(resp, "/staff/recalls?done=cancelled");
	return 0;
}

/* --- the list -------------------------------------------------------------------------- */

static size_t filter_index(const char *v)
{
	for (size_t i = 1; v != NULL && i < ARRAY_LEN(filters); i++)
		if (strcmp(v, filters[i].value) == 0)
			return i;
	return 0;
}

static char *list_url(size_t fi, const char *after_date, int64_t after, struct arena *a)
{
	const char *st = filters[fi].value;
	if (after_date == NULL)
		return st[0] != '\0' ? arena_printf(a, "/staff/recalls?state=%s", st)
		                     : arena_strdup(a, "/staff/recalls");
	return arena_printf(a, "/staff/recalls?%s%s%safter_date=%s&after=%" PRId64,
	                    st[0] != '\0' ? "state=" : "", st, st[0] != '\0' ? "&" : "", after_date,
	                    after);
}

int staff_recalls(struct http_req *req, struct http_resp *resp)
{
	struct arena *a = req->arena;
	size_t fi = filter_index(http_query(req, "state"));
	const char *ad = http_query(req, "after_date");
	const char *as = http_query(req, "after");
	int64_t after = 0, days = 0;
	if (ad != NULL && (strlen(ad) != 10 || tz_parse_date(ad, &days) != 0 || as == NULL ||
	                   parse_i64(as, 0, INT64_MAX, &after) != 0)) {
		http_error(req, resp, 400);
		return 0;
	}
	struct comms_recall_filter f = {
	    .state = filters[fi].state, .after_date = ad, .after_id = after, .limit = PAGE_SIZE};
	struct comms_recall *rows = NULL;
	int n = 0, more = 0;
	if (comms_recall_list(req->db, req->session->org_id, &f, now_utc(), &rows, &n, &more, a) !=
	    0)
		return -1;

	struct view *v = view_new(a);
	view_set(v, "title", i18n_tr(req->lang, "Recalls"));
	for (size_t i = 0; i < ARRAY_LEN(filters); i++) {
		struct view *o = view_append(v, "filters");
		view_set(o, "label", i18n_tr(req->lang, filters[i].label));
		view_set(o, "href", list_url(i, NULL, 0, a));
		view_set_bool(o, "current", i == fi);
	}
	notice(req, v, http_query(req, "done"));
	view_set_bool(v, "empty", n == 0);
	for (int i = 0; i < n; i++) {
		const struct comms_recall *r = &rows[i];
		struct view *m = view_append(v, "rows");
		view_set_int(m, "id", r->id);
		view_set(m, "patient", r->patient_name);
		view_setf(m, "patient_href", "/staff/patients/%" PRId64, r->patient_id);
		view_set(m, "service", r->service);
		view_set(m, "due_date_iso", r->due_date);
		view_set(m, "due_date", staff_date(r->due_date, a));
		view_set(m, "channel", channel_label(req->lang, r->channel));
		const char *state = r->sent_at > 0        ? "sent"
		                    : r->cancelled_at > 0 ? "cancelled"
		                    : r->due              ? "due"
		                                          : "upcoming";
		view_set(m, "state", state);
		view_set(m, "state_label", i18n_tr(req->lang, filters[filter_index(state)].label));
		staff_time(m, "sent", r->sent_at, a);
		view_set_bool(m, "can_cancel", r->sent_at == 0 && r->cancelled_at == 0);
		view_setf(m, "cancel_url", "/staff/recalls/%" PRId64 "/cancel", r->id);
	}
	if (ad != NULL)
		view_set(v, "first_url", list_url(fi, NULL, 0, a));
	if (more && n > 0)
		view_set(v, "next_url", list_url(fi, rows[n - 1].due_date, rows[n - 1].id, a));
	return http_render(req, resp, 200, "staff/recalls.html", v);
}
