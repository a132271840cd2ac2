/*
 * portal/home: the home page of the patient portal. Signed out, the same
 * public page for everyone, which never reveals anything about a patient or a
 * clinic. Signed in as a patient, a small home: a welcome with the given
 * name, the portal's name and a sign-out button (appointments, payment and
 * booking arrive with their issue). A session whose patient is gone is
 * ended and the public page shown.
 */
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/i18n.h"
#include "portal/portal.h"
#include "store/store.h"

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
	if (store_org_get(req->db, p.org_id, &org, req->arena) == 0 &&
	    store_portal_get(req->db, org.portal_id, &portal, req->arena) == 0)
		portal_name = portal.name;
	struct view *pv = view_child(v, "patient");
	view_set(pv, "given_name", p.given_name);
	view_set(pv, "portal_name", portal_name);
	view_set(v, "title",
	         portal_name[0] ? portal_name : i18n_tr(req->lang, "Your patient portal"));
	return http_render(req, resp, 200, "portal/home.html", v);
}
