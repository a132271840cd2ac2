/*
 * portal/home: the public home page of the patient portal. It shows the same
 * page to everyone and never reveals anything about a patient or a clinic.
 */
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/i18n.h"
#include "portal/portal.h"

int portal_home(struct http_req *req, struct http_resp *resp)
{
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Your patient portal"));
	return http_render(req, resp, 200, "portal/home.html", v);
}
