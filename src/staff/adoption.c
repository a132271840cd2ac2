/*
 * staff/adoption: the "Patient portal" page (GET /staff/portal): how far the
 * organisation's patients have come online, for the clinic that is moving
 * them there. Each status links to the patient list filtered the same way
 * (store_portal_counts follows the list's rules), so "not invited yet" leads
 * straight to the bulk invite of every patient matching the filter. Numbers
 * only: no patient is named here, and only the signed-in user's organisation
 * is counted.
 */
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "store/store.h"

#include <inttypes.h>

#define WINDOW_DAYS 30

/* The rows of the table, in the order a clinic reads them: who is online first. */
static const struct {
	enum store_portal_status status;
	const char *label, *filter;
} rows[] = {
    {STORE_PS_ACTIVE, N_("With an account"), "active"},
    {STORE_PS_INVITED, N_("Invited, link not used yet"), "invited"},
    {STORE_PS_NONE, N_("Not invited yet, or the link expired"), "none"},
    {STORE_PS_FAMILY, N_("Family members (use the account of the person who manages them)"),
     "family"},
};

/* n of total as a whole percentage, rounded; "0" for an empty organisation. */
static char *percent(int64_t n, int64_t total, struct arena *a)
{
	return arena_printf(a, "%" PRId64, total > 0 ? (n * 100 + total / 2) / total : 0);
}

int staff_portal_overview(struct http_req *req, struct http_resp *resp)
{
	struct store_portal_counts k;
	int64_t now = now_utc();
	if (store_portal_counts(req->db, req->session->org_id, now, now - WINDOW_DAYS * 86400,
	                        &k) != 0)
		return -1;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Patient portal"));
	view_set_int(v, "patients", k.patients);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct view *r = view_append(v, "rows");
		int64_t n = k.by_status[rows[i].status];
		view_set(r, "label", i18n_tr(req->lang, rows[i].label));
		view_set(r, "status", rows[i].filter);
		view_set_int(r, "count", n);
		view_set(r, "percent", percent(n, k.patients, req->arena));
		view_setf(r, "href", "/staff/patients?status=%s", rows[i].filter);
	}
	int64_t none = k.by_status[STORE_PS_NONE];
	view_set_int(v, "unreached", k.none_unreached);
	view_set_int(v, "invitable", none - k.none_unreached);
	view_set_bool(v, "can_invite", none - k.none_unreached > 0);
	view_set_int(v, "sent", k.sent);
	view_set_int(v, "accepted", k.accepted);
	return http_render(req, resp, 200, "staff/portal.html", v);
}
