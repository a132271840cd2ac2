/*
 * staff/invite: the staff side of invitations (issue 3).
 *
 * On the profile: "Invite to patient portal" for a patient without a password
 * who is not a family member, "Reset password" for one with a password
 * (neither for a family member), each with a channel choice; the portal's
 * history of invitations and reset links, with "Revoke" for pending links.
 * On manage patients: the bulk action's confirmation page (what would happen,
 * counted without inviting) and the report after the invitations went out.
 *
 * Sending, revoking and counting are invite/'s (invite.h, account.h); those
 * functions also write the audit events, with the staff id and address given
 * here. Everything is confined to the signed-in user's organisation: another
 * organisation's patient or invitation is a 404 on every route, never a 403.
 * After an action the profile is shown again (303) with a result key in the
 * query; only keys of the table below are ever shown, so a URL cannot put its
 * own words on the page. A bulk invite of "every patient matching the filter"
 * re-evaluates the filter on the server: those ids never travel in a form.
 */
#include "app.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "invite/account.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "staff/staff_int.h"
#include "store/store.h"

#include <sodium.h>
#include <string.h>

enum {
	BATCH_BYTES = 16,   /* the bulk form's one-time key, sent as 32 hex characters */
	NAMES_SHOWN = 50,   /* selected patients named on the confirmation and report */
	RESETS_SHOWN = 20,  /* reset links listed on the profile */
	MAX_BULK = 1000000, /* patients one bulk invite may cover */
};

/* --- channels ------------------------------------------------------------ */

static const struct channel {
	const char *value;   /* the channel= value, as invite.h and account.h take it */
	const char *label;   /* msgid */
	const char *missing; /* msgid: why it cannot be chosen for this patient */
	int sms, email;      /* the contacts it needs */
} channels[] = {
    {"sms", N_("SMS"), N_("No mobile number on file."), 1, 0},
    {"email", N_("E-mail"), N_("No e-mail address on file."), 0, 1},
    {"both", N_("SMS and e-mail"), N_("Needs both a mobile number and an e-mail address."), 1, 1},
};

static int present(const char *s)
{
	return s != NULL && *s != '\0';
}

static int channel_usable(const struct channel *ch, const struct store_patient *p)
{
	return (!ch->sms || present(p->mobile)) && (!ch->email || present(p->email));
}

/* What the record has: both contacts "both", one of them that one, none NULL. */
static const char *channel_default(const struct store_patient *p)
{
	if (present(p->mobile) && present(p->email))
		return "both";
	if (present(p->mobile))
		return "sms";
	if (present(p->email))
		return "email";
	return NULL;
}

/* The posted channel when it is one of the table, else what the record has. */
static const char *channel_pick(const char *posted, const struct store_patient *p)
{
	for (size_t i = 0; posted != NULL && i < ARRAY_LEN(channels); i++)
		if (strcmp(posted, channels[i].value) == 0)
			return channels[i].value;
	return channel_default(p);
}

/* What a send on channel really uses: "both" sends on the contacts the record has. */
static const char *channel_effective(const char *channel, const struct store_patient *p)
{
	if (channel != NULL && strcmp(channel, "both") == 0)
		return channel_default(p);
	return channel;
}

static const char *channel_label(const char *lang, const char *value)
{
	for (size_t i = 0; value != NULL && i < ARRAY_LEN(channels); i++)
		if (strcmp(value, channels[i].value) == 0)
			return i18n_tr(lang, channels[i].label);
	return value != NULL ? value : "";
}

/* --- results shown on the profile after an action --------------------------- */

static const struct result {
	const char *key; /* the result= value */
	const char *msg; /* msgid */
	int error;
} results[] = {
    {"invited-sms", N_("Invitation sent by SMS."), 0},
    {"invited-email", N_("Invitation sent by e-mail."), 0},
    {"invited-both", N_("Invitation sent by SMS and e-mail."), 0},
    {"reset-sms", N_("Password reset link sent by SMS."), 0},
    {"reset-email", N_("Password reset link sent by e-mail."), 0},
    {"reset-both", N_("Password reset link sent by SMS and e-mail."), 0},
    {"revoked", N_("The link was revoked: it no longer works."), 0},
    {"has-account",
     N_("Not sent: this patient already has an account. Send a password reset "
        "instead."),
     1},
    {"no-account", N_("Not sent: this patient has no account yet. Send an invitation instead."), 1},
    {"family",
     N_("Not sent: this patient is a family member and uses the portal through the "
        "account that manages them."),
     1},
    {"no-contact",
     N_("Not sent: there is no mobile number or e-mail address on file for the "
        "chosen channel."),
     1},
    {"login-taken",
     N_("Not sent: the e-mail address and the mobile number on file are already "
        "used to sign in by another patient's account."),
     1},
    {"rate-limited",
     N_("Not sent: too many reset links were sent in the last hour. Try again later."), 1},
    {"not-pending", N_("Not revoked: this link is no longer pending."), 1},
    {"busy", N_("Not done: the system is busy. Please try again in a moment."), 1},
};

static const struct result *result_find(const char *key)
{
	for (size_t i = 0; key != NULL && i < ARRAY_LEN(results); i++)
		if (strcmp(key, results[i].key) == 0)
			return &results[i];
	return NULL;
}

/* The result key of an invite.h error (not INVITE_OK, NOTFOUND or ERR). */
static const char *invite_result(int err)
{
	switch (err) {
	case INVITE_HAS_ACCOUNT:
		return "has-account";
	case INVITE_FAMILY:
		return "family";
	case INVITE_NO_CONTACT:
		return "no-contact";
	case INVITE_LOGIN_TAKEN:
		return "login-taken";
	case INVITE_BUSY:
		return "busy";
	default:
		return "not-pending"; /* a link's state: expired, used, locked, revoked */
	}
}

/* 303 to the patient's profile with a result key. */
static void back_to_profile(struct http_req *req, struct http_resp *resp, int64_t id,
                            const char *key)
{
	http_redirect(
	    resp, arena_printf(req->arena, "/staff/patients/%lld?result=%s", (long long)id, key));
}

/* Loads the patient of the path's {id} in the user's organisation.
 * 0; 1 when resp already holds the 404; negative on a store failure. */
static int load_patient(struct http_req *req, struct http_resp *resp, struct store_patient *p)
{
	int64_t id = http_param_id(req, 0);
	int e = id > 0 ? store_patient_get(req->db, req->session->org_id, id, p, req->arena)
	               : STORE_NOTFOUND;
	if (e == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 1;
	}
	return e;
}

/* --- the profile's portal part ---------------------------------------------- */

static const struct {
	const char *state; /* invite_history_row.state */
	const char *label; /* msgid, followed by the time of that state */
} states[] = {
    {"pending", N_("Pending until")},
    {"accepted", N_("Accepted")},
    {"expired", N_("Expired")},
    {"revoked", N_("Revoked")},
    {"locked", N_("Locked after too many wrong family names")},
};

static void history_row(struct http_req *req, struct view *r, const struct store_patient *p,
                        const struct invite_history_row *h)
{
	struct arena *a = req->arena;
	const char *lang = req->lang;
	int64_t at = 0;
	staff_time(r, "sent", h->created_at, a);
	view_set(r, "by",
	         h->staff_name != NULL ? h->staff_name : i18n_tr(lang, "Automatic message"));
	view_set(r, "channel", channel_label(lang, h->channel));
	staff_time(r, "opened", h->opened_at, a);
	const char *state = h->state != NULL ? h->state : "";
	view_set(r, "state_label", state);
	for (size_t i = 0; i < ARRAY_LEN(states); i++)
		if (strcmp(state, states[i].state) == 0)
			view_set(r, "state_label", i18n_tr(lang, states[i].label));
	if (strcmp(state, "pending") == 0 || strcmp(state, "expired") == 0)
		at = h->expires_at;
	else if (strcmp(state, "accepted") == 0)
		at = h->accepted_at;
	else if (strcmp(state, "revoked") == 0)
		at = h->revoked_at;
	else if (strcmp(state, "locked") == 0)
		at = h->locked_at;
	view_set(r, "state", state);
	staff_time(r, "state_at", at, a);
	if (strcmp(state, "pending") == 0)
		view_setf(r, "revoke_action", "/staff/patients/%lld/invitations/%lld/revoke",
		          (long long)p->id, (long long)h->id);
	else
		view_set(r, "revoke_action", "");
}

/* The patient's reset links, newest first, confined to the organisation. */
static int reset_rows(struct http_req *req, struct view *pv, const struct store_patient *p)
{
	struct arena *a = req->arena;
	struct store_stmt *s = NULL;
	int64_t now = now_utc();
	int n = 0;
	int rc = store_query(req->db, &s,
	                     "SELECT r.created_at, r.expires_at, r.used_at, r.revoked_at "
	                     "FROM resets r JOIN patients p ON p.id = r.patient_id "
	                     "WHERE r.patient_id = ? AND p.org_id = ? "
	                     "ORDER BY r.created_at DESC, r.id DESC LIMIT ?",
	                     "iii", p->id, req->session->org_id, (int64_t)RESETS_SHOWN);
	if (rc != 0)
		return rc;
	while ((rc = store_step(s)) == 1) {
		struct view *r = view_append(pv, "resets");
		int64_t used = store_col_int(s, 2), revoked = store_col_int(s, 3);
		int64_t expires = store_col_int(s, 1);
		staff_time(r, "sent", store_col_int(s, 0), a);
		const char *label;
		int64_t at;
		if (!store_col_is_null(s, 2)) {
			label = N_("Used");
			at = used;
		} else if (!store_col_is_null(s, 3)) {
			label = N_("Replaced or revoked");
			at = revoked;
		} else if (expires <= now) {
			label = N_("Expired");
			at = expires;
		} else {
			label = N_("Pending until");
			at = expires;
		}
		view_set(r, "state_label", i18n_tr(req->lang, label));
		staff_time(r, "state_at", at, a);
		n++;
	}
	store_done(s);
	if (rc < 0)
		return rc;
	view_set_bool(pv, "has_resets", n > 0);
	return 0;
}

int staff_invite_profile(struct http_req *req, struct view *v, const struct store_patient *p)
{
	struct arena *a = req->arena;
	const char *lang = req->lang;
	struct view *pv = view_child(v, "portal");

	int can_invite = !p->has_password && p->managed_by == 0;
	view_set_bool(pv, "can_invite", can_invite);
	view_set_bool(pv, "can_reset", p->has_password);
	view_set_bool(pv, "is_family", !p->has_password && p->managed_by > 0);
	view_setf(pv, "invite_action", "/staff/patients/%lld/invite", (long long)p->id);
	view_setf(pv, "reset_action", "/staff/patients/%lld/reset", (long long)p->id);
	view_setf(pv, "edit_action", "/staff/patients/%lld/edit", (long long)p->id);
	view_set(pv, "prefix", can_invite ? "invite" : "reset"); /* ids of the channel radios */

	const char *def = channel_default(p);
	view_set_bool(pv, "no_contact", def == NULL);
	for (size_t i = 0; i < ARRAY_LEN(channels); i++) {
		struct view *o = view_append(pv, "channels");
		int usable = channel_usable(&channels[i], p);
		view_set(o, "value", channels[i].value);
		view_set(o, "label", i18n_tr(lang, channels[i].label));
		view_set_bool(o, "checked", def != NULL && strcmp(def, channels[i].value) == 0);
		view_set_bool(o, "disabled", !usable);
		view_set(o, "reason", usable ? "" : i18n_tr(lang, channels[i].missing));
	}

	const struct result *res = result_find(http_query(req, "result"));
	view_set(pv, "notice", res != NULL && !res->error ? i18n_tr(lang, res->msg) : "");
	view_set(pv, "error", res != NULL && res->error ? i18n_tr(lang, res->msg) : "");

	struct invite_history_row *rows = NULL;
	int n = 0;
	if (invite_history(req->db, req->session->org_id, p->id, &rows, &n, a) != 0)
		return -1;
	view_set_bool(pv, "has_history", n > 0);
	for (int i = 0; i < n; i++)
		history_row(req, view_append(pv, "history"), p, &rows[i]);
	return reset_rows(req, pv, p) != 0 ? -1 : 0;
}

/* --- profile actions ------------------------------------------------------------ */

int staff_patient_invite(struct http_req *req, struct http_resp *resp)
{
	struct store_patient p;
	int rc = load_patient(req, resp, &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	const char *channel = channel_pick(http_form(req, "channel"), &p);
	/* staff chose this patient: an invitation of an hour ago is no reason to skip */
	struct invite_request r = {
	    .org_id = req->session->org_id,
	    .patient_id = p.id,
	    .staff_id = req->session->user_id,
	    .channel = channel,
	    .target = NULL,
	    .ip = req->ip,
	    .ignore_recent = 1,
	};
	int64_t invitation = 0;
	int e = invite_send(req->db, req->app->cfg, &r, now_utc(), &invitation);
	if (e == INVITE_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (e == INVITE_ERR)
		return -1;
	back_to_profile(req, resp, p.id,
	                e == INVITE_OK
	                    ? arena_printf(req->arena, "invited-%s", channel_effective(channel, &p))
	                    : invite_result(e));
	return 0;
}

int staff_patient_reset(struct http_req *req, struct http_resp *resp)
{
	struct store_patient p;
	int rc = load_patient(req, resp, &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	const char *channel = channel_pick(http_form(req, "channel"), &p);
	int e = account_reset_send(req->db, req->app->cfg, req->session->org_id, p.id,
	                           req->session->user_id, channel, req->ip, now_utc());
	const char *key;
	switch (e) {
	case ACCOUNT_OK:
		key = arena_printf(req->arena, "reset-%s", channel_effective(channel, &p));
		break;
	case ACCOUNT_NOTFOUND:
		http_error(req, resp, 404);
		return 0;
	case ACCOUNT_NO_PASSWORD:
		key = "no-account";
		break;
	case ACCOUNT_NO_CONTACT:
		key = "no-contact";
		break;
	case ACCOUNT_RATE_LIMITED:
		key = "rate-limited";
		break;
	default:
		return -1;
	}
	back_to_profile(req, resp, p.id, key);
	return 0;
}

int staff_invitation_revoke(struct http_req *req, struct http_resp *resp)
{
	struct store_patient p;
	int rc = load_patient(req, resp, &p);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	int64_t inv = http_param_id(req, 1), found = 0;
	/* the link must be this patient's, and the patient this organisation's */
	int e = inv > 0 ? store_scalar(req->db, &found,
	                               "SELECT i.id FROM invitations i "
	                               "JOIN patients p ON p.id = i.patient_id "
	                               "WHERE i.id = ? AND i.patient_id = ? AND p.org_id = ?",
	                               "iii", inv, p.id, req->session->org_id)
	                : STORE_NOTFOUND;
	if (e == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (e != 0)
		return -1;
	e = invite_revoke(req->db, req->session->org_id, inv, req->session->user_id, req->ip,
	                  now_utc());
	if (e == INVITE_NOTFOUND) {
		http_error(req, resp, 404);
		return 0;
	}
	if (e == INVITE_ERR)
		return -1;
	back_to_profile(req, resp, p.id, e == INVITE_OK ? "revoked" : invite_result(e));
	return 0;
}

/* --- bulk invite ------------------------------------------------------------- */

/* The counts by outcome (skip reasons in the order invite/ checks them); preview: the
 * confirmation page's words (what will happen), else the report's (what happened). */
static void report_view(struct http_req *req, struct view *v, const struct invite_bulk_report *rep,
                        int preview)
{
	const struct {
		const char *key, *label;
		int count, always;
	} reasons[] = {
	    {"family", N_("Family member"), rep->family, 1},
	    {"has_account", N_("Already has an account"), rep->has_account, 1},
	    {"no_contact", N_("No mobile or e-mail"), rep->no_contact, 1},
	    {"recent", N_("Invited in the last 24 hours"), rep->recent, 1},
	    {"not_found", N_("Not found in your organisation"), rep->not_found, 0},
	};
	int skipped = 0;
	view_set(v, "caption",
	         i18n_tr(req->lang, preview ? N_("What will happen") : N_("What happened")));
	view_set(v, "invited_label", i18n_tr(req->lang, preview ? N_("To invite") : N_("Invited")));
	view_set_int(v, "invited", rep->invited);
	for (size_t i = 0; i < ARRAY_LEN(reasons); i++) {
		skipped += reasons[i].count;
		if (reasons[i].count == 0 && !reasons[i].always)
			continue;
		struct view *r = view_append(v, "reasons");
		view_set(r, "key", reasons[i].key);
		view_set(r, "label", i18n_tr(req->lang, reasons[i].label));
		view_set_int(r, "count", reasons[i].count);
	}
	view_set_int(v, "skipped", skipped);
}

/* What the pages say about which patients: the filter, or the names of the first selected. */
static int scope_view(struct http_req *req, struct view *v, const int64_t *ids, size_t n,
                      const struct staff_filter *f, int by_filter)
{
	view_set_bool(v, "scope_filter", by_filter);
	view_set(v, "q", f->q);
	view_set(v, "status", f->status);
	view_set(v, "status_label", staff_filter_label(req->lang, f));
	view_set(v, "list_url", staff_list_url(f, 0, req->arena));
	if (by_filter)
		return 0;
	size_t shown = 0, i = 0;
	for (; i < n && shown < NAMES_SHOWN; i++) {
		struct store_patient p;
		int e = store_patient_get(req->db, req->session->org_id, ids[i], &p, req->arena);
		if (e == STORE_NOTFOUND)
			continue;
		if (e != 0)
			return e;
		struct view *o = view_append(v, "names");
		view_setf(o, "name", "%s %s", p.given_name, p.family_name);
		view_setf(o, "href", "/staff/patients/%lld", (long long)p.id);
		shown++;
	}
	/* the ids not looked at; another organisation's id is neither named nor counted here */
	view_set_int(v, "more", (int64_t)(n - i));
	return 0;
}

/* The patients a bulk request covers: ids as given, or every match of f (arena). */
static int bulk_ids(struct http_req *req, const struct staff_filter *f, int by_filter,
                    const int64_t **ids, size_t *n)
{
	if (!by_filter)
		return 0;
	int64_t *all = NULL;
	size_t k = 0;
	int e = staff_filter_ids(req, f, &all, &k);
	if (e == STORE_INVALID) /* a search that is not valid UTF-8 matches nobody */
		e = 0;
	*ids = all;
	*n = k;
	return e;
}

int staff_invite_confirm(struct http_req *req, struct http_resp *resp, const int64_t *ids, size_t n,
                         const struct staff_filter *f)
{
	int by_filter = ids == NULL;
	if (bulk_ids(req, f, by_filter, &ids, &n) != 0)
		return -1;
	if (n > MAX_BULK) {
		http_error(req, resp, 413);
		return 0;
	}
	struct invite_bulk_report rep;
	memset(&rep, 0, sizeof(rep));
	if (invite_bulk_preview(req->db, req->session->org_id, ids, n, now_utc(), &rep) != 0)
		return -1;

	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Invite to patient portal"));
	if (scope_view(req, v, ids, n, f, by_filter) != 0)
		return -1;
	report_view(req, v, &rep, 1);
	unsigned char raw[BATCH_BYTES];
	char batch[BATCH_BYTES * 2 + 1];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(batch, sizeof(batch), raw, sizeof(raw));
	view_set(v, "batch", batch);
	/* selected ids travel in the form (at most STAFF_MAX_SELECTED); a filter does not */
	for (size_t i = 0; !by_filter && i < n; i++)
		view_set_int(view_append(v, "ids"), "id", ids[i]);
	return http_render(req, resp, 200, "staff/invite_confirm.html", v);
}

/* 1 when s is a batch key as the confirmation page makes them. */
static int batch_valid(const char *s)
{
	if (s == NULL || strlen(s) != BATCH_BYTES * 2)
		return 0;
	return strspn(s, "0123456789abcdef") == BATCH_BYTES * 2;
}

int staff_bulk_invite(struct http_req *req, struct http_resp *resp)
{
	const char *batch = http_form(req, "batch");
	if (!batch_valid(batch)) {
		http_error(req, resp, 400);
		return 0;
	}
	struct staff_filter f;
	staff_filter_parse(&f, http_form(req, "q"), http_form(req, "status"), req->arena);
	const char *scope = http_form(req, "scope");
	int by_filter = scope != NULL && strcmp(scope, "filter") == 0;
	int64_t *posted = NULL;
	const int64_t *ids = NULL;
	size_t n = 0;
	if (!by_filter) {
		if (staff_form_ids(req, STAFF_MAX_SELECTED, &posted, &n) != 0) {
			http_error(req, resp, 413);
			return 0;
		}
		ids = posted;
	} else if (bulk_ids(req, &f, 1, &ids, &n) != 0) {
		return -1;
	}
	if (n > MAX_BULK) {
		http_error(req, resp, 413);
		return 0;
	}
	struct invite_bulk_report rep;
	memset(&rep, 0, sizeof(rep));
	int e = invite_bulk(req->db, req->app->cfg, req->session->org_id, req->session->user_id,
	                    ids, n, batch, req->ip, now_utc(), &rep);
	if (e == INVITE_BUSY) {
		http_error(req, resp, 503);
		return 0;
	}
	if (e != 0)
		return -1;

	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Invitations sent"));
	if (scope_view(req, v, ids, n, &f, by_filter) != 0)
		return -1;
	report_view(req, v, &rep, 0);
	return http_render(req, resp, 200, "staff/invite_report.html", v);
}
