/*
 * staff/activity: the admins' "Activity" page (GET /staff/activity), the
 * organisation's audit trail read back: who did what, to whom, when and from
 * which address, newest first, 50 a page with a keyset (?before=TIME.ID),
 * filtered by group (?group=). Admins only: it shows staff users' addresses.
 * Only the organisation's own events are listed; the detail is what the
 * writers put there, never a token, password or message body
 * (store/audit.c), and everything is escaped by the templates.
 */
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { PAGE_SIZE = 50 };

/* The group filter: value, label, action prefixes. The first is "all". */
static const struct {
	const char *value, *label;
	const char *prefixes[STORE_AUDIT_PREFIXES_MAX];
} groups[] = {
    {"", N_("All"), {NULL}},
    {"invitations", N_("Invitations and passwords"), {"invite.", "reset."}},
    {"signins",
     N_("Sign-ins"),
     {"account.login", "account.logout", "account.locked", "staff.login", "staff.logout"}},
    {"patients",
     N_("Patient records and consents"),
     {"patient.", "patients.", "account.contact", "account.lang", "consent.", "policy."}},
    {"appointments",
     N_("Appointments, payments and recalls"),
     {"appointment.", "payment.", "recall.", "slots."}},
    {"settings",
     N_("Settings, services, templates and messages"),
     {"settings.", "service.", "template.", "appendix.", "apikey.", "staff.create"}},
};

/* What each action is called on the page; an action not listed shows its code. */
static const char *const action_labels[][2] = {
    {"invite.sent", N_("Invitation sent")},
    {"invite.bulk", N_("Patients invited in bulk")},
    {"invite.accepted", N_("Invitation accepted: account created")},
    {"invite.locked", N_("Invitation locked after wrong family names")},
    {"invite.revoked", N_("Invitation revoked")},
    {"reset.sent", N_("Password reset link sent")},
    {"reset.completed", N_("Password changed with a reset link")},
    {"account.login", N_("Patient signed in")},
    {"account.login_failed", N_("Patient sign-in failed")},
    {"account.locked", N_("Patient sign-in paused after failures")},
    {"account.logout", N_("Patient signed out")},
    {"account.contact_requested", N_("Contact change requested")},
    {"account.contact_changed", N_("Contact changed")},
    {"account.lang", N_("Language changed")},
    {"staff.login", N_("Staff user signed in")},
    {"staff.login_failed", N_("Staff sign-in failed")},
    {"staff.logout", N_("Staff user signed out")},
    {"staff.create", N_("Staff user added")},
    {"patient.create", N_("Patient added")},
    {"patient.update", N_("Patient record changed")},
    {"patients.export", N_("Patients exported")},
    {"policy.accepted", N_("Privacy policy accepted")},
    {"consent.withdrawn", N_("Consent withdrawn")},
    {"appointment.create", N_("Appointment booked")},
    {"appointment.cancel", N_("Appointment cancelled")},
    {"appointment.import", N_("Appointment imported")},
    {"appointment.paid", N_("Appointment paid")},
    {"payment.checkout", N_("Payment started")},
    {"recall.create", N_("Recall created")},
    {"recall.cancel", N_("Recall cancelled")},
    {"slots.generate", N_("Slots generated")},
    {"service.create", N_("Service added")},
    {"service.update", N_("Service changed")},
    {"service.hours", N_("Opening hours changed")},
    {"template.updated", N_("Message template changed")},
    {"template.reset", N_("Message template reset to the default")},
    {"appendix.updated", N_("Invitation appendix changed")},
    {"message.retry", N_("Message queued again")},
    {"apikey.create", N_("API key created")},
    {"apikey.revoke", N_("API key revoked")},
    {"settings.organisation", N_("Organisation settings changed")},
    {"settings.portal", N_("Portal settings changed")},
    {"settings.times", N_("Times changed")},
};

static size_t group_index(const char *v)
{
	for (size_t i = 1; v != NULL && i < ARRAY_LEN(groups); i++)
		if (strcmp(v, groups[i].value) == 0)
			return i;
	return 0;
}

static const char *action_label(const char *lang, const char *action)
{
	for (size_t i = 0; i < ARRAY_LEN(action_labels); i++)
		if (strcmp(action, action_labels[i][0]) == 0)
			return i18n_tr(lang, action_labels[i][1]);
	return action;
}

static char *page_url(const char *group, int64_t at, int64_t id, struct arena *a)
{
	const char *sep = "?";
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "/staff/activity");
	if (group[0] != '\0') {
		buf_printf(&b, "%sgroup=%s", sep, group);
		sep = "&";
	}
	if (at > 0)
		buf_printf(&b, "%sbefore=%" PRId64 ".%" PRId64, sep, at, id);
	char *url = arena_strdup(a, b.data);
	buf_free(&b);
	return url;
}

/* "?before=TIME.ID": 0 and both set, -1 when malformed. */
static int parse_before(const char *v, int64_t *at, int64_t *id)
{
	const char *dot = v != NULL ? strchr(v, '.') : NULL;
	char head[24];
	if (dot == NULL || (size_t)(dot - v) >= sizeof(head))
		return -1;
	memcpy(head, v, (size_t)(dot - v));
	head[dot - v] = '\0';
	return parse_i64(head, 1, INT64_MAX, at) == 0 && parse_i64(dot + 1, 1, INT64_MAX, id) == 0
	           ? 0
	           : -1;
}

static void row_view(struct http_req *req, struct view *m, const struct store_audit_row *r)
{
	const char *lang = req->lang;
	staff_time(m, "at", r->created_at, req->arena);
	view_set(m, "action", r->action);
	view_set(m, "label", action_label(lang, r->action));
	const char *who = r->actor_name;
	if (strcmp(r->actor_kind, "staff") == 0 && who == NULL)
		who = i18n_tr(lang, "Staff user");
	else if (strcmp(r->actor_kind, "patient") == 0)
		who = i18n_tr(lang, "Patient");
	else if (strcmp(r->actor_kind, "system") == 0)
		who = i18n_tr(lang, "System or import");
	view_set(m, "who", who);
	int patient =
	    r->subject_kind != NULL && strcmp(r->subject_kind, "patient") == 0 && r->subject_id > 0;
	if (patient)
		view_setf(m, "patient_href", "/staff/patients/%" PRId64, r->subject_id);
	else
		view_set(m, "patient_href", "");
	view_set(m, "ip", r->ip != NULL ? r->ip : "");
	view_set(m, "detail", r->detail != NULL ? r->detail : "");
}

int staff_activity(struct http_req *req, struct http_resp *resp)
{
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	size_t gi = group_index(http_query(req, "group"));
	struct store_audit_filter f = {.limit = PAGE_SIZE};
	for (int i = 0; i < STORE_AUDIT_PREFIXES_MAX && groups[gi].prefixes[i] != NULL; i++)
		f.prefixes[f.nprefixes++] = groups[gi].prefixes[i];
	const char *before = http_query(req, "before");
	if (before != NULL && parse_before(before, &f.before_at, &f.before_id) != 0) {
		http_error(req, resp, 400);
		return 0;
	}
	struct store_audit_row *rows = NULL;
	int n = 0, more = 0;
	if (store_audit_list(req->db, req->session->org_id, &f, &rows, &n, &more, req->arena) != 0)
		return -1;

	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Activity"));
	for (size_t i = 0; i < ARRAY_LEN(groups); i++) {
		struct view *o = view_append(v, "filters");
		view_set(o, "label", i18n_tr(req->lang, groups[i].label));
		view_set(o, "href", page_url(groups[i].value, 0, 0, req->arena));
		view_set_bool(o, "current", i == gi);
	}
	view_set_bool(v, "empty", n == 0);
	for (int i = 0; i < n; i++)
		row_view(req, view_append(v, "rows"), &rows[i]);
	if (f.before_at > 0)
		view_set(v, "first_url", page_url(groups[gi].value, 0, 0, req->arena));
	if (more && n > 0)
		view_set(
		    v, "next_url",
		    page_url(groups[gi].value, rows[n - 1].created_at, rows[n - 1].id, req->arena));
	return http_render(req, resp, 200, "staff/activity.html", v);
}
