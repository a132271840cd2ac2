/*
 * staff/messages: the "Messages" page, the outbox as clinic staff see it.
 *
 * GET /staff/messages lists the organisation's messages, newest first, 50 a
 * page with keyset pagination (?before=ID), filtered by state (?state=), with
 * the count of each state as filter links. Each row shows kind, channel,
 * recipient, state, tries, the last error, created and sent times, and the
 * text that went out (escaped: staff need to see what was sent). An admin
 * gets "Retry" on a dead message: POST /staff/messages/{id}/retry (CSRF by
 * the route flag) queues it again with its tries reset, and writes an audit
 * event. Everything is confined to the signed-in user's organisation: another
 * organisation's message is a 404. Only the notice keys of the table below
 * are ever shown, so a URL cannot put its own words on the page.
 */
#include "comms/dispatch.h"
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

enum { PAGE_SIZE = 50 };

/* The state filter: value, label (msgid), badge class. The first is "any". */
static const struct {
	const char *value, *label, *cls;
} states[] = {
    {"", N_("All"), ""},
    {"queued", N_("Queued"), "badge badge-none"},
    {"sending", N_("Sending"), "badge badge-invited"},
    {"sent", N_("Sent"), "badge badge-active"},
    {"failed", N_("To retry"), "badge badge-invited"},
    {"dead", N_("Failed for good"), "badge badge-family"},
};

/* Notices after an action (?done=...). */
static const struct {
	const char *key, *msg;
	int error;
} notices[] = {
    {"retried", N_("The message is queued again and will be sent shortly."), 0},
    {"gone", N_("That message cannot be retried: only failed-for-good messages can."), 1},
};

static const char *const channel_labels[][2] = {
    {"sms", N_("SMS")},
    {"email", N_("E-mail")},
};

static size_t state_index(const char *v)
{
	for (size_t i = 1; v != NULL && i < ARRAY_LEN(states); i++)
		if (strcmp(v, states[i].value) == 0)
			return i;
	return 0;
}

static char *list_url(const char *state, int64_t before, struct arena *a)
{
	if (state[0] != '\0' && before > 0)
		return arena_printf(a, "/staff/messages?state=%s&before=%" PRId64, state, before);
	if (state[0] != '\0')
		return arena_printf(a, "/staff/messages?state=%s", state);
	if (before > 0)
		return arena_printf(a, "/staff/messages?before=%" PRId64, before);
	return arena_strdup(a, "/staff/messages");
}

static void row_view(struct http_req *req, struct view *m, const struct comms_message_row *r,
                     int admin)
{
	view_set_int(m, "id", r->id);
	view_set(m, "kind", r->kind);
	const char *ch = r->channel;
	for (size_t i = 0; i < ARRAY_LEN(channel_labels); i++)
		if (r->channel != NULL && strcmp(r->channel, channel_labels[i][0]) == 0)
			ch = i18n_tr(req->lang, channel_labels[i][1]);
	view_set(m, "channel", ch);
	view_set(m, "recipient", r->recipient);
	size_t si = state_index(r->state);
	view_set(m, "state", r->state);
	view_set(m, "state_label", si > 0 ? i18n_tr(req->lang, states[si].label) : r->state);
	view_set(m, "state_class", states[si].cls);
	view_set_int(m, "attempts", r->attempts);
	view_set(m, "last_error", r->last_error != NULL ? r->last_error : "");
	view_set(m, "subject", r->subject != NULL ? r->subject : "");
	view_set(m, "body", r->body);
	/* An empty text was purged (comms_outbox_purge): nothing to show, nothing to resend. */
	int purged = r->body == NULL || r->body[0] == '\0';
	view_set_bool(m, "purged", purged);
	staff_time(m, "created", r->created_at, req->arena);
	staff_time(m, "sent", r->sent_at, req->arena);
	int waiting = r->state != NULL && strcmp(r->state, "failed") == 0;
	staff_time(m, "next", waiting ? r->next_attempt_at : 0, req->arena);
	if (r->patient_id > 0)
		view_setf(m, "patient_href", "/staff/patients/%" PRId64, r->patient_id);
	else
		view_set(m, "patient_href", "");
	view_set_bool(m, "can_retry", admin && !purged && si == ARRAY_LEN(states) - 1);
	view_setf(m, "retry_url", "/staff/messages/%" PRId64 "/retry", r->id);
}

int staff_messages(struct http_req *req, struct http_resp *resp)
{
	struct comms_message_row *rows = NULL;
	int64_t counts[5], before = 0;
	int n = 0, more = 0;

	size_t si = state_index(http_query(req, "state"));
	const char *state = states[si].value;
	const char *b = http_query(req, "before");
	if (b != NULL && parse_i64(b, 1, INT64_MAX, &before) < 0) {
		http_error(req, resp, 400);
		return 0;
	}
	struct comms_message_filter f = {.state = state, .before_id = before, .limit = PAGE_SIZE};
	int64_t org = req->session->org_id;
	if (comms_message_list(req->db, org, &f, &rows, &n, &more, req->arena) != 0 ||
	    comms_message_counts(req->db, org, counts) != 0)
		return -1;
	int admin = staff_is_admin(req);

	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Messages"));
	int64_t total = 0;
	for (size_t i = 0; i < ARRAY_LEN(counts); i++)
		total += counts[i];
	for (size_t i = 0; i < ARRAY_LEN(states); i++) {
		struct view *o = view_append(v, "filters");
		view_set(o, "label", i18n_tr(req->lang, states[i].label));
		view_set(o, "href", list_url(states[i].value, 0, req->arena));
		view_set_int(o, "count", i == 0 ? total : counts[i - 1]);
		view_set_bool(o, "current", i == si);
	}
	const char *done = http_query(req, "done");
	for (size_t i = 0; done != NULL && i < ARRAY_LEN(notices); i++) {
		if (strcmp(done, notices[i].key) == 0) {
			view_set(v, notices[i].error ? "error" : "notice",
			         i18n_tr(req->lang, notices[i].msg));
		}
	}
	view_set_bool(v, "empty", n == 0);
	view_set_bool(v, "admin", admin);
	for (int i = 0; i < n; i++)
		row_view(req, view_append(v, "rows"), &rows[i], admin);
	if (before > 0)
		view_set(v, "first_url", list_url(state, 0, req->arena));
	if (more && n > 0)
		view_set(v, "next_url", list_url(state, rows[n - 1].id, req->arena));
	return http_render(req, resp, 200, "staff/messages.html", v);
}

int staff_message_retry(struct http_req *req, struct http_resp *resp)
{
	int64_t id = http_param_id(req, 0);
	if (id <= 0) {
		http_error(req, resp, 404);
		return 0;
	}
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	int64_t org = req->session->org_id, exists = 0;
	/* another organisation's message, or none: 404, so ids cannot be probed */
	int rc = store_scalar(req->db, &exists,
	                      "SELECT id FROM messages WHERE id = ? AND org_id = ?", "ii", id, org);
	if (rc == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (rc < 0)
		return -1;
	rc = comms_message_retry(req->db, org, id, now_utc());
	if (rc == STORE_NOTFOUND) {
		http_redirect(resp, "/staff/messages?done=gone");
		return 0;
	}
	if (rc < 0)
		return -1;
	store_audit(req->db, org, "staff", req->session->user_id, "message.retry", "message", id,
	            req->ip, NULL);
	http_redirect(resp, "/staff/messages?state=queued&done=retried");
	return 0;
}
