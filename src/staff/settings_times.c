/*
 * staff/settings_times: the "Times" part of the admins' Settings: how many
 * hours before an appointment its reminder and a payment reminder leave, until
 * when patients may change an appointment online, from when the day view
 * flags an unpaid video consultation, and how many days a sent message keeps
 * its text. Each is an org_settings value read where it is used
 * (comms/triggers.c, booking/common.c, staff/schedule.c, comms/purge.c); an
 * empty field removes the value, so the default (or, for a member practice,
 * its main organisation's value) applies again.
 *
 * GET /staff/settings/times shows the form; POST saves it. Admins only (403).
 * Every field is checked before anything is written; a wrong one brings the
 * page back (422) with the error beside it, the values as typed and nothing
 * saved. A save is one transaction with a settings.times audit event naming
 * the changed keys and values.
 */
#include "booking/booking.h"
#include "comms/outbox.h"
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

#include <string.h>

#define AUDIT_MAX 512

static const struct timing {
	const char *key;          /* org_settings key, also the form field's name */
	const char *label, *hint; /* N_() */
	const char *unit;         /* N_("hours") or N_("days") */
	int min, max, def;
	int inherits; /* a member practice without a value uses its main organisation's */
} timings[] = {
    {"reminder_hours", N_("Appointment reminder"),
     N_("Hours before an appointment its reminder is sent."), N_("hours"), 1,
     COMMS_TRIGGER_HOURS_MAX, COMMS_REMINDER_HOURS_DEFAULT, 1},
    {"payment_reminder_hours", N_("Payment reminder"),
     N_("Hours before a video consultation that must be paid in advance a reminder is sent "
        "when it is still unpaid."),
     N_("hours"), 1, COMMS_TRIGGER_HOURS_MAX, COMMS_PAY_REMINDER_HOURS_DEFAULT, 1},
    {"cancel_cutoff_hours", N_("Online changes"),
     N_("Patients may cancel or move an appointment online until this many hours before it; "
        "after that they call the clinic."),
     N_("hours"), 0, 24 * 366, BOOKING_CUTOFF_HOURS_DEFAULT, 1},
    {"payment_flag_hours", N_("Unpaid video consultations"),
     N_("The day view marks a video consultation that must be paid in advance and is still "
        "unpaid from this many hours before it."),
     N_("hours"), 0, STAFF_FLAG_HOURS_MAX, STAFF_FLAG_HOURS_DEFAULT, 1},
    {"message_keep_days", N_("Message texts"),
     N_("Days the text of a sent message stays on the Messages page. A text can hold a link "
        "to the portal, so it is removed after that."),
     N_("days"), 1, COMMS_KEEP_DAYS_MAX, COMMS_KEEP_DAYS_DEFAULT, 0},
};
#define NTIMINGS ARRAY_LEN(timings)

struct form {
	const char *value[NTIMINGS]; /* as typed, else as stored ("" when unset) */
	const char *error[NTIMINGS];
};

/* What an empty field means for org_id: its main organisation's value, else the default. */
static int64_t fallback(struct http_req *req, const struct timing *t)
{
	int64_t v = t->def;
	if (!t->inherits)
		return v;
	struct store_stmt *s = NULL;
	if (store_query(req->db, &s,
	                "SELECT s.value FROM org_settings s JOIN organisations o ON "
	                "o.parent_id = s.org_id WHERE o.id = ? AND s.key = ?",
	                "it", req->session->org_id, t->key) != 0)
		return v;
	if (store_step(s) == 1 && parse_i64(store_col_text(s, 0), t->min, t->max, &v) != 0)
		v = t->def;
	store_done(s);
	return v;
}

static int load(struct http_req *req, struct form *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < NTIMINGS; i++) {
		char *v = NULL;
		int rc = store_org_setting(req->db, req->session->org_id, timings[i].key, &v,
		                           req->arena);
		if (rc != 0)
			return rc;
		f->value[i] = v != NULL ? v : "";
	}
	return 0;
}

static int render(struct http_req *req, struct http_resp *resp, int status, const struct form *f)
{
	const char *lang = req->lang;
	struct view *v = view_new(req->arena);
	int nerrors = 0;
	view_set(v, "title", i18n_tr(lang, "Times"));
	const char *saved = http_query(req, "saved");
	view_set(v, "notice",
	         saved != NULL && strcmp(saved, "1") == 0 ? i18n_tr(lang, "Saved.") : "");
	for (size_t i = 0; i < NTIMINGS; i++) {
		const struct timing *t = &timings[i];
		struct view *r = view_append(v, "fields");
		view_set(r, "key", t->key);
		view_set(r, "label", i18n_tr(lang, t->label));
		view_set(r, "hint", i18n_tr(lang, t->hint));
		view_set(r, "unit", i18n_tr(lang, t->unit));
		view_set(r, "value", f->value[i]);
		view_set_int(r, "fallback", fallback(req, t));
		view_set(r, "error", f->error[i]);
		view_setf(r, "describedby", "%s-hint%s%s%s", t->key, f->error[i] ? " " : "",
		          f->error[i] ? t->key : "", f->error[i] ? "-error" : "");
		if (f->error[i] != NULL) {
			struct view *e = view_append(v, "errors");
			view_set(e, "id", t->key);
			view_set(e, "msg", f->error[i]);
			nerrors++;
		}
	}
	view_set_bool(v, "nerrors", nerrors > 0);
	return http_render(req, resp, status, "staff/settings_times.html", v);
}

int staff_settings_times(struct http_req *req, struct http_resp *resp)
{
	struct form f;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	if (load(req, &f) != 0)
		return -1;
	return render(req, resp, 200, &f);
}

int staff_settings_times_save(struct http_req *req, struct http_resp *resp)
{
	struct form f, now;
	int bad = 0, rc;
	if (!staff_is_admin(req)) {
		http_error(req, resp, 403);
		return 0;
	}
	if (load(req, &now) != 0)
		return -1;
	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < NTIMINGS; i++) {
		const struct timing *t = &timings[i];
		int64_t v = 0;
		f.value[i] = staff_trimmed(http_form(req, t->key), req->arena);
		if (f.value[i][0] == '\0')
			continue;
		if (parse_i64(f.value[i], t->min, t->max, &v) != 0) {
			f.error[i] =
			    arena_printf(req->arena,
			                 i18n_tr(req->lang, "Type a whole number from %d to "
			                                    "%d, or leave it empty."),
			                 t->min, t->max);
			bad = 1;
			continue;
		}
		f.value[i] = arena_printf(req->arena, "%lld", (long long)v); /* "007" -> "7" */
	}
	if (bad)
		return render(req, resp, 422, &f);

	struct buf detail;
	buf_init(&detail, AUDIT_MAX);
	for (size_t i = 0; i < NTIMINGS; i++)
		if (strcmp(f.value[i], now.value[i]) != 0)
			buf_printf(&detail, "%s%s %s", detail.len > 0 ? ", " : "", timings[i].key,
			           f.value[i][0] != '\0' ? f.value[i] : "(default)");
	rc = 0;
	if (detail.len > 0 && (rc = store_begin(req->db)) == 0) {
		int64_t t = now_utc();
		for (size_t i = 0; i < NTIMINGS && rc == 0; i++)
			if (strcmp(f.value[i], now.value[i]) != 0)
				rc = store_org_setting_set(req->db, req->session->org_id,
				                           timings[i].key, f.value[i], t);
		if (rc == 0)
			rc = store_audit(req->db, req->session->org_id, "staff",
			                 req->session->user_id, "settings.times", "organisation",
			                 req->session->org_id, req->ip, detail.data);
		if (rc == 0)
			rc = store_commit(req->db);
		if (rc != 0)
			store_rollback(req->db);
	}
	buf_free(&detail);
	if (rc != 0)
		return -1;
	http_redirect(resp, "/staff/settings/times?saved=1");
	return 0;
}
