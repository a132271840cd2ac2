/*
 * portal/home: the home page of the patient portal. Signed out, the same
 * public page for everyone, which never reveals anything about a patient or a
 * clinic. Signed in as a patient: what needs doing first (an unpaid
 * mandatory payment, with its payment link), the patient's upcoming
 * appointments, the family members this account manages with theirs, and the
 * past and cancelled ones; links to book, to the profile and to sign out.
 * Dates are in the patient's language and the organisation's time zone. A
 * session whose patient is gone is ended and the public page shown.
 *
 * Only appointments of the patient and of the family members whose
 * managed_by is the patient, at organisations of the patient's own portal,
 * are read: the same scope as booking_appointment_get().
 */
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "portal/portal.h"
#include "store/store.h"

#include <string.h>

#define UPCOMING_MAX 100 /* upcoming appointments listed (self and family) */
#define PAST_MAX     10  /* past and cancelled ones */

/* One appointment row as the home page lists it. */
struct home_appt {
	int64_t id, patient_id, start_at, amount_cents;
	int booked, cancelled, video, mandatory, optional, paid;
	char *service, *org_name, *timezone, *given_name, *family_name;
};

#define HOME_COLS                                                                                  \
	"SELECT a.id, a.patient_id, a.start_at, a.amount_cents, a.status, a.kind, a.payment, "     \
	"a.paid_at, v.name, o.name, o.timezone, p.given_name, p.family_name "                      \
	"FROM appointments a JOIN services v ON v.id = a.service_id "                              \
	"JOIN organisations o ON o.id = a.org_id JOIN patients p ON p.id = a.patient_id "          \
	"WHERE (p.id = ? OR p.managed_by = ?) AND o.portal_id = ? "

/* upcoming: booked and not over yet, soonest first; past: the rest, newest first. */
static int read_appts(struct http_req *req, int64_t patient, int64_t portal, int upcoming,
                      struct home_appt **rows, int *n)
{
	struct store_stmt *s = NULL;
	int64_t now = now_utc();
	int max = upcoming ? UPCOMING_MAX : PAST_MAX;
	*rows = arena_alloc(req->arena, sizeof(**rows) * (size_t)max);
	*n = 0;
	int rc = upcoming ? store_query(req->db, &s,
	                                HOME_COLS "AND a.status = 'booked' AND a.end_at > ? "
	                                          "ORDER BY a.start_at, a.id LIMIT ?",
	                                "iiiii", patient, patient, portal, now, (int64_t)max)
	                  : store_query(req->db, &s,
	                                HOME_COLS "AND (a.status <> 'booked' OR a.end_at <= ?) "
	                                          "ORDER BY a.start_at DESC, a.id DESC LIMIT ?",
	                                "iiiii", patient, patient, portal, now, (int64_t)max);
	if (rc != 0)
		return -1;
	while ((rc = store_step(s)) == 1) {
		struct home_appt *r = &(*rows)[(*n)++];
		const char *st = store_col_text(s, 4), *kind = store_col_text(s, 5),
		           *pay = store_col_text(s, 6);
		r->id = store_col_int(s, 0);
		r->patient_id = store_col_int(s, 1);
		r->start_at = store_col_int(s, 2);
		r->amount_cents = store_col_int(s, 3);
		r->booked = st && strcmp(st, "booked") == 0;
		r->cancelled = st && strcmp(st, "cancelled") == 0;
		r->video = kind && strcmp(kind, "video") == 0;
		r->mandatory = pay && strcmp(pay, "mandatory") == 0;
		r->optional = pay && strcmp(pay, "optional") == 0;
		r->paid = !store_col_is_null(s, 7);
		r->service = store_col_dup(s, 8, req->arena);
		r->org_name = store_col_dup(s, 9, req->arena);
		r->timezone = store_col_dup(s, 10, req->arena);
		r->given_name = store_col_dup(s, 11, req->arena);
		r->family_name = store_col_dup(s, 12, req->arena);
	}
	store_done(s);
	return rc < 0 ? -1 : 0;
}

static void appt_item(struct http_req *req, const struct home_appt *r, int64_t self,
                      struct view *item)
{
	view_set_int(item, "id", r->id);
	view_set(item, "when", portal_when(req->lang, r->timezone, r->start_at, req->arena));
	view_set(item, "service", r->service);
	view_set(item, "org_name", r->org_name);
	view_set_bool(item, "video", r->video);
	view_set_bool(item, "cancelled", r->cancelled);
	if (r->patient_id != self)
		view_set(item, "for_name", r->given_name);
	if ((r->mandatory || r->optional) && r->amount_cents > 0) {
		view_set(item, "amount", portal_money(req->lang, r->amount_cents, req->arena));
		view_set_bool(item, "paid", r->paid);
		view_set_bool(item, "pay_due", r->booked && !r->paid && r->mandatory);
	}
}

static int render_signed_in(struct http_req *req, struct http_resp *resp, struct view *v,
                            const struct store_patient *p, const char *portal_name,
                            int64_t portal_id)
{
	struct home_appt *up = NULL, *past = NULL;
	int nup = 0, npast = 0;
	struct store_patient *fam = NULL;
	int nfam = 0;
	if (read_appts(req, p->id, portal_id, 1, &up, &nup) != 0 ||
	    read_appts(req, p->id, portal_id, 0, &past, &npast) != 0 ||
	    store_patient_family(req->db, p->org_id, p->id, &fam, &nfam, req->arena) != 0)
		return -1;
	struct view *pv = view_child(v, "patient");
	view_set(pv, "given_name", p->given_name);
	view_set(pv, "portal_name", portal_name);

	int ntodo = 0, nown = 0;
	for (int i = 0; i < nup; i++) {
		if (up[i].booked && up[i].mandatory && !up[i].paid) {
			appt_item(req, &up[i], p->id, view_append(pv, "todo"));
			ntodo++;
		}
		if (up[i].patient_id == p->id) {
			appt_item(req, &up[i], p->id, view_append(pv, "upcoming"));
			nown++;
		}
	}
	view_set_bool(pv, "has_todo", ntodo > 0);
	view_set_bool(pv, "has_upcoming", nown > 0);
	for (int f = 0; f < nfam; f++) {
		struct view *fv = view_append(pv, "family");
		view_set_int(fv, "id", fam[f].id);
		view_setf(fv, "name", "%s %s", fam[f].given_name, fam[f].family_name);
		int k = 0;
		for (int i = 0; i < nup; i++)
			if (up[i].patient_id == fam[f].id) {
				appt_item(req, &up[i], p->id, view_append(fv, "appts"));
				k++;
			}
		view_set_bool(fv, "has_appts", k > 0);
	}
	view_set_bool(pv, "has_family", nfam > 0);
	for (int i = 0; i < npast; i++)
		appt_item(req, &past[i], p->id, view_append(pv, "past"));
	view_set_bool(pv, "has_past", npast > 0);
	return http_render(req, resp, 200, "portal/home.html", v);
}

int portal_home(struct http_req *req, struct http_resp *resp)
{
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Your patient portal"));
	const struct store_session *s = req->session;
	if (s == NULL || s->kind != STORE_SESSION_PATIENT)
		return http_render(req, resp, 200, "portal/home.html", v);

	/* user_id is the patient's id, org_id its organisation (invite/account.h) */
	struct store_patient p;
	int err = store_patient_get(req->db, s->org_id, s->user_id, &p, req->arena);
	if (err == STORE_NOTFOUND) {
		http_session_end(req, resp);
		return http_render(req, resp, 200, "portal/home.html", v);
	}
	if (err != 0)
		return -1;
	struct store_org org;
	struct store_portal portal;
	const char *portal_name = "";
	if (store_org_get(req->db, p.org_id, &org, req->arena) != 0)
		return -1;
	if (store_portal_get(req->db, org.portal_id, &portal, req->arena) == 0)
		portal_name = portal.name;
	view_set(v, "title",
	         portal_name[0] ? portal_name : i18n_tr(req->lang, "Your patient portal"));
	return render_signed_in(req, resp, v, &p, portal_name, org.portal_id);
}
