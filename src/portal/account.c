/*
 * portal/account: the signed-in patient's profile, /account (issue 5):
 * contact details, language, the policies they accepted (consents, with
 * versions and dates) and the withdrawal of optional consents.
 *
 * Changing the e-mail or the mobile number never changes the record at once:
 * a confirmation link goes to the NEW address (16 random bytes, base64url;
 * only the BLAKE2b-256 hash is kept in contact_changes; valid 24 hours, once;
 * a newer request for the same field revokes older ones), and only
 * GET /account/confirm/{token} applies it. Until then the old contact stays,
 * for messages and for signing in. An address that is another account's
 * login on this portal (or on file for another patient with an account here,
 * which account_by_login() would also accept) is refused, when asked and
 * again when confirmed. Requests are limited per patient per hour, so the
 * page cannot be used to send messages to strangers in bulk.
 *
 * The privacy policy consent cannot be withdrawn here (the portal cannot work
 * without it; the page says to contact the clinic); optional ones can. It
 * must never log a token, a link or a contact value.
 */
#include "app.h"
#include "booking/tz.h"
#include "comms/outbox.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "invite/account.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/validate.h"
#include "portal/portal.h"
#include "store/store.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CHANGE_TTL      86400 /* seconds a confirmation link stays valid */
#define CHANGE_PER_HOUR 5     /* change requests per patient per hour */
#define LANG_COOKIE_AGE (365 * 86400)
#define CONTACT_MAX     254

/* Consents the portal needs to work: shown, never withdrawable here. */
static const char *const required_kinds[] = {"privacy"};

static const struct {
	const char *kind, *label;
} consent_labels[] = {
    {"privacy", N_("Privacy policy")},
    {"marketing", N_("News and offers from your clinic")},
};

/* The signed-in patient, their account and portal. */
struct me {
	struct store_patient p;
	struct account acct;
	struct store_portal portal;
	const char *org_name;
};

/* 0, STORE_NOTFOUND (patient or account gone) or another negative store_err. */
static int me_load(struct http_req *req, struct me *m)
{
	struct store_org org;
	memset(m, 0, sizeof(*m));
	/* user_id is the PATIENT id, org_id its organisation (invite/account.h) */
	int rc = store_patient_get(req->db, req->session->org_id, req->session->user_id, &m->p,
	                           req->arena);
	if (rc != 0)
		return rc;
	rc = account_by_patient(req->db, m->p.id, &m->acct, req->arena);
	if (rc == ACCOUNT_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return STORE_ERR;
	if ((rc = store_portal_get(req->db, m->acct.portal_id, &m->portal, req->arena)) != 0)
		return rc;
	m->org_name = store_org_get(req->db, m->p.org_id, &org, req->arena) == 0 ? org.name : "";
	return 0;
}

/* Loads the patient or answers 404 (*done set); -1 on a store failure. */
static int me_or_404(struct http_req *req, struct http_resp *resp, struct me *m, int *done)
{
	*done = 0;
	int rc = me_load(req, m);
	if (rc == STORE_NOTFOUND) {
		http_error(req, resp, 404);
		*done = 1;
		return 0;
	}
	return rc == 0 ? 0 : -1;
}

static int is_required(const char *kind)
{
	for (size_t i = 0; i < ARRAY_LEN(required_kinds); i++)
		if (strcmp(kind, required_kinds[i]) == 0)
			return 1;
	return 0;
}

static const char *consent_label(const char *lang, const char *kind)
{
	for (size_t i = 0; i < ARRAY_LEN(consent_labels); i++)
		if (strcmp(kind, consent_labels[i].kind) == 0)
			return i18n_tr(lang, consent_labels[i].label);
	return kind;
}

/* "31/12/2026" in Europe/Rome (the portal's patients' zone) and its ISO form for <time>. */
static void view_date(struct view *v, const char *key, int64_t utc, struct arena *a)
{
	struct tz_local l;
	if (tz_utc_to_local("Europe/Rome", utc, &l) != 0 && tz_utc_to_local("UTC", utc, &l) != 0)
		return;
	view_set(v, key, arena_printf(a, "%02d/%02d/%04d", l.day, l.month, l.year));
	char iso[32];
	snprintf(iso, sizeof(iso), "%s_iso", key);
	view_set(v, iso, arena_printf(a, "%04d-%02d-%02d", l.year, l.month, l.day));
}

/* --- the page ----------------------------------------------------------------- */

struct form_state {
	const char *email, *mobile;         /* as typed, shown back after an error */
	const char *email_err, *mobile_err; /* translated messages */
	const char *error;                  /* page-level message */
};

static int add_pending(struct http_req *req, struct view *v, const struct me *m, int64_t now)
{
	struct store_stmt *s = NULL;
	int rc = store_query(req->db, &s,
	                     "SELECT field, new_value, expires_at FROM contact_changes "
	                     "WHERE patient_id = ? AND used_at IS NULL AND revoked_at IS NULL "
	                     "AND expires_at > ? ORDER BY id",
	                     "ii", m->p.id, now);
	if (rc != 0)
		return rc;
	while ((rc = store_step(s)) == 1) {
		struct view *r = view_append(v, "pending");
		int email = strcmp(store_col_text(s, 0), "email") == 0;
		view_set(r, "what",
		         i18n_tr(req->lang, email ? "New e-mail address" : "New mobile number"));
		view_set(r, "value", store_col_text(s, 1));
		view_set_bool(r, "email", email);
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

static int add_consents(struct http_req *req, struct view *v, const struct me *m)
{
	struct store_stmt *s = NULL;
	int rc = store_query(req->db, &s,
	                     "SELECT id, kind, version, accepted_at, withdrawn_at FROM consents "
	                     "WHERE account_id = ? ORDER BY accepted_at, id",
	                     "i", m->acct.id);
	if (rc != 0)
		return rc;
	while ((rc = store_step(s)) == 1) {
		struct view *r = view_append(v, "consents");
		const char *kind = store_col_text(s, 1);
		view_set_int(r, "id", store_col_int(s, 0));
		view_set(r, "label", consent_label(req->lang, kind));
		view_set(r, "version", store_col_text(s, 2));
		view_date(r, "accepted", store_col_int(s, 3), req->arena);
		if (!store_col_is_null(s, 4))
			view_date(r, "withdrawn", store_col_int(s, 4), req->arena);
		else if (is_required(kind))
			view_set_bool(r, "required", 1);
		else
			view_set_bool(r, "can_withdraw", 1);
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

static int render_account(struct http_req *req, struct http_resp *resp, int status,
                          const struct me *m, const struct form_state *f)
{
	struct view *v = view_new(req->arena);
	const char *lang = req->lang;
	view_set(v, "title", i18n_tr(lang, "Your profile"));
	view_set(v, "given_name", m->p.given_name);
	view_set(v, "family_name", m->p.family_name);
	view_set(v, "email", m->p.email);
	view_set(v, "mobile", m->p.mobile);
	view_set(v, "org_name", m->org_name);
	view_set(v, "policy_version", m->portal.policy_version);
	const char *plang = m->p.lang != NULL && strcmp(m->p.lang, "en") == 0 ? "en" : "it";
	view_set_bool(v, "lang_it", strcmp(plang, "it") == 0);
	view_set_bool(v, "lang_en", strcmp(plang, "en") == 0);
	if (f != NULL) {
		view_set(v, "typed_email", f->email);
		view_set(v, "typed_mobile", f->mobile);
		if (f->email_err)
			view_set(v, "email_err", f->email_err);
		if (f->mobile_err)
			view_set(v, "mobile_err", f->mobile_err);
		if (f->email_err || f->mobile_err)
			view_set_bool(v, "contact_errors", 1);
		if (f->error)
			view_set(v, "error", f->error);
	}
	/* notices chosen by the redirect that led here; they only pick fixed words */
	const char *sent = http_query(req, "sent");
	if (sent != NULL)
		view_set(v, "notice",
		         i18n_tr(lang, "We sent a confirmation link to the new address. Until you "
		                       "open it, we keep using your current contact details."));
	else if (http_query(req, "saved") != NULL)
		view_set(v, "notice", i18n_tr(lang, "Your choice was saved."));
	else if (http_query(req, "withdrawn") != NULL)
		view_set(v, "notice", i18n_tr(lang, "Your consent was withdrawn."));
	if (add_pending(req, v, m, now_utc()) != 0 || add_consents(req, v, m) != 0)
		return -1;
	return http_render(req, resp, status, "portal/account.html", v);
}

int portal_account(struct http_req *req, struct http_resp *resp)
{
	struct me m;
	int done;
	if (me_or_404(req, resp, &m, &done) != 0)
		return -1;
	return done ? 0 : render_account(req, resp, 200, &m, NULL);
}

/* --- contact changes ------------------------------------------------------------ */

/* Trimmed copy of a form field (NULL when absent or blank). */
static const char *field(struct http_req *req, const char *name)
{
	const char *s = http_form(req, name);
	if (s == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return n == 0 ? NULL : arena_strndup(req->arena, s, n);
}

/*
 * 1 when value (normalised) is the login of another account on portal_id, or on
 * file for another patient with an account there; 0 when free; negative on failure.
 */
static int contact_in_use(struct store_conn *c, int64_t portal_id, int64_t patient_id,
                          const char *value)
{
	int64_t n = 0;
	int rc =
	    store_scalar(c, &n,
	                 "SELECT COUNT(*) FROM accounts a JOIN patients p ON p.id = a.patient_id "
	                 "WHERE a.portal_id = ? AND a.patient_id <> ? AND (a.login = ? OR "
	                 "(a.pw_hash IS NOT NULL AND (p.email = ? OR p.mobile = ?)))",
	                 "iittt", portal_id, patient_id, value, value, value);
	if (rc != 0)
		return rc;
	return n > 0;
}

/* The message with the confirmation link, in the patient's language. */
static int queue_link(struct store_conn *c, const struct me *m, const char *fieldname,
                      const char *value, const char *token, int64_t now, struct arena *a)
{
	const char *lang = m->p.lang != NULL && strcmp(m->p.lang, "en") == 0 ? "en" : "it";
	const char *base = m->portal.base_url != NULL ? m->portal.base_url : "";
	size_t bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	const char *link = arena_printf(a, "%.*s/account/confirm/%s", (int)bl, base, token);
	if (strcmp(fieldname, "email") == 0) {
		const char *body = arena_printf(
		    a, "%s\n\n%s (%s)\n\n%s\n%s\n\n%s\n", i18n_tr(lang, "Hello,"),
		    i18n_tr(lang, "You asked to use this e-mail address for your patient portal"),
		    m->org_name, i18n_tr(lang, "To confirm it, open this link within 24 hours:"),
		    link,
		    i18n_tr(lang, "If you did not ask for this, ignore this message: nothing will "
		                  "change."));
		return comms_outbox_add(c, m->p.org_id, m->p.id, "contact_change", "email", value,
		                        i18n_tr(lang, "Confirm your new e-mail address"), body,
		                        NULL, now, NULL);
	}
	const char *body = arena_printf(
	    a, "%s: %s %s %s", m->org_name,
	    i18n_tr(lang, "to confirm this mobile number for your patient portal, open"), link,
	    i18n_tr(lang, "within 24 hours. If you did not ask for it, ignore this message."));
	return comms_outbox_add(c, m->p.org_id, m->p.id, "contact_change", "sms", value, NULL, body,
	                        NULL, now, NULL);
}

/* One pending change of fieldname to value, with its message, in one transaction. */
static int request_change(struct http_req *req, const struct me *m, const char *fieldname,
                          const char *value, int64_t now)
{
	char token[INVITE_TOKEN_CHARS + 1];
	unsigned char hash[32];
	int rc;
	invite_token_new(token, hash);
	if ((rc = store_begin(req->db)) != 0)
		goto out;
	rc = store_exec(req->db, NULL,
	                "UPDATE contact_changes SET revoked_at = ? WHERE patient_id = ? AND "
	                "field = ? AND used_at IS NULL AND revoked_at IS NULL",
	                "iit", now, m->p.id, fieldname);
	if (rc == 0)
		rc = store_exec(
		    req->db, NULL,
		    "INSERT INTO contact_changes (patient_id, account_id, field, new_value, "
		    "token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		    "iittbii", m->p.id, m->acct.id, fieldname, value, hash, sizeof(hash), now,
		    now + CHANGE_TTL);
	if (rc == 0)
		rc = queue_link(req->db, m, fieldname, value, token, now, req->arena);
	if (rc == 0)
		rc = store_audit(req->db, m->p.org_id, "patient", m->p.id,
		                 "account.contact_requested", "patient", m->p.id, req->ip,
		                 fieldname);
	if (rc == 0)
		rc = store_commit(req->db);
out:
	if (rc != 0)
		store_rollback(req->db);
	memset(token, 0, sizeof(token));
	return rc;
}

int portal_account_contact(struct http_req *req, struct http_resp *resp)
{
	struct me m;
	struct form_state f = {0};
	int done;
	if (me_or_404(req, resp, &m, &done) != 0)
		return -1;
	if (done)
		return 0;
	const char *lang = req->lang;
	const char *email = field(req, "email"), *mobile = field(req, "mobile");
	f.email = email;
	f.mobile = mobile;
	char e164[VALIDATE_E164_MAX];
	const char *why = NULL;

	/* normalise; a value equal to the one on file is no change */
	if (email != NULL) {
		if (strlen(email) > CONTACT_MAX || validate_email(email, &why) != 0) {
			f.email_err = i18n_tr(lang, why ? why : "Enter a valid e-mail address.");
			email = NULL;
		} else {
			char *low = arena_strdup(req->arena, email);
			for (char *c = low; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			email = m.p.email != NULL && strcmp(low, m.p.email) == 0 ? NULL : low;
		}
	}
	if (mobile != NULL) {
		if (strlen(mobile) > CONTACT_MAX || validate_mobile(mobile, e164, &why) != 0) {
			f.mobile_err = i18n_tr(lang, why ? why : "Enter a valid mobile number.");
			mobile = NULL;
		} else {
			mobile = m.p.mobile != NULL && strcmp(e164, m.p.mobile) == 0
			             ? NULL
			             : arena_strdup(req->arena, e164);
		}
	}
	int rc;
	if (email != NULL && (rc = contact_in_use(req->db, m.acct.portal_id, m.p.id, email)) != 0) {
		if (rc < 0)
			return -1;
		f.email_err = i18n_tr(lang, "This e-mail address is already used to sign in to "
		                            "another account. Please choose another one.");
		email = NULL;
	}
	if (mobile != NULL &&
	    (rc = contact_in_use(req->db, m.acct.portal_id, m.p.id, mobile)) != 0) {
		if (rc < 0)
			return -1;
		f.mobile_err = i18n_tr(lang, "This mobile number is already used to sign in to "
		                             "another account. Please choose another one.");
		mobile = NULL;
	}
	if (f.email_err || f.mobile_err)
		return render_account(req, resp, 422, &m, &f);
	if (email == NULL && mobile == NULL) {
		f.error = i18n_tr(lang, "Type a new e-mail address or mobile number to change it.");
		return render_account(req, resp, 422, &m, &f);
	}

	int64_t now = now_utc(), recent = 0;
	if (store_scalar(req->db, &recent,
	                 "SELECT COUNT(*) FROM contact_changes WHERE patient_id = ? AND "
	                 "created_at > ?",
	                 "ii", m.p.id, now - 3600) != 0)
		return -1;
	if (recent + (email != NULL) + (mobile != NULL) > CHANGE_PER_HOUR) {
		f.error = i18n_tr(lang, "Too many changes asked in the last hour. Please try again "
		                        "later.");
		return render_account(req, resp, 429, &m, &f);
	}
	if ((email != NULL && request_change(req, &m, "email", email, now) != 0) ||
	    (mobile != NULL && request_change(req, &m, "mobile", mobile, now) != 0))
		return -1;
	log_info("portal: patient %lld asked to change a contact", (long long)m.p.id);
	http_redirect(resp, email && mobile ? "/account?sent=both"
	                    : email         ? "/account?sent=email"
	                                    : "/account?sent=mobile");
	return 0;
}

/* --- the confirmation link ------------------------------------------------------- */

enum confirm_outcome { CONFIRM_OK, CONFIRM_UNKNOWN, CONFIRM_USED, CONFIRM_EXPIRED, CONFIRM_TAKEN };

struct change {
	int64_t id, patient_id, account_id, expires_at;
	int used;
	char *field, *value;
};

/* Applies the change the token names in one transaction: 0 and *outcome, or negative. */
static int confirm_apply(struct http_req *req, const unsigned char hash[32], int64_t now,
                         enum confirm_outcome *outcome, struct change *ch)
{
	struct store_stmt *s = NULL;
	int64_t changes = 0, org_id = 0, portal_id = 0;
	char *old = NULL, *login = NULL;
	int rc;
	*outcome = CONFIRM_UNKNOWN;
	memset(ch, 0, sizeof(*ch));
	if ((rc = store_begin(req->db)) != 0)
		return rc;
	rc = store_query(req->db, &s,
	                 "SELECT c.id, c.patient_id, c.account_id, c.field, c.new_value, "
	                 "c.expires_at, c.used_at IS NOT NULL OR c.revoked_at IS NOT NULL, "
	                 "p.org_id, p.email, p.mobile, a.login, a.portal_id "
	                 "FROM contact_changes c JOIN patients p ON p.id = c.patient_id "
	                 "JOIN accounts a ON a.id = c.account_id WHERE c.token_hash = ?",
	                 "b", hash, (size_t)32);
	if (rc != 0)
		goto out;
	rc = store_step(s);
	if (rc == 1) {
		ch->id = store_col_int(s, 0);
		ch->patient_id = store_col_int(s, 1);
		ch->account_id = store_col_int(s, 2);
		ch->field = store_col_dup(s, 3, req->arena);
		ch->value = store_col_dup(s, 4, req->arena);
		ch->expires_at = store_col_int(s, 5);
		ch->used = store_col_int(s, 6) != 0;
		org_id = store_col_int(s, 7);
		old = store_col_dup(s, strcmp(ch->field, "email") == 0 ? 8 : 9, req->arena);
		login = store_col_dup(s, 10, req->arena);
		portal_id = store_col_int(s, 11);
		rc = 0;
	}
	store_done(s);
	if (rc < 0 || ch->id == 0)
		goto out; /* unknown */
	if (ch->used) {
		*outcome = CONFIRM_USED;
		goto out;
	}
	if (ch->expires_at <= now) {
		*outcome = CONFIRM_EXPIRED;
		goto out;
	}
	/* someone may have taken the address since it was asked for */
	if ((rc = contact_in_use(req->db, portal_id, ch->patient_id, ch->value)) != 0) {
		if (rc > 0) {
			*outcome = CONFIRM_TAKEN;
			rc = 0;
		}
		goto out;
	}
	/* claim the link: of two concurrent openings only one changes a row */
	rc = store_exec(req->db, &changes,
	                "UPDATE contact_changes SET used_at = ? WHERE id = ? AND used_at IS NULL "
	                "AND revoked_at IS NULL AND expires_at > ?",
	                "iii", now, ch->id, now);
	if (rc != 0)
		goto out;
	if (changes != 1) {
		*outcome = CONFIRM_USED;
		goto out;
	}
	rc = store_exec(req->db, NULL,
	                strcmp(ch->field, "email") == 0
	                    ? "UPDATE patients SET email = ?, updated_at = ? WHERE id = ?"
	                    : "UPDATE patients SET mobile = ?, updated_at = ? WHERE id = ?",
	                "tii", ch->value, now, ch->patient_id);
	/* signing in with the old contact stops when it was the login: the login follows it */
	if (rc == 0 && old != NULL && login != NULL && strcmp(old, login) == 0)
		rc = store_exec(req->db, NULL, "UPDATE accounts SET login = ? WHERE id = ?", "ti",
		                ch->value, ch->account_id);
	if (rc == 0)
		rc = store_audit(req->db, org_id, "patient", ch->patient_id,
		                 "account.contact_changed", "patient", ch->patient_id, req->ip,
		                 ch->field);
	if (rc == 0 && (rc = store_commit(req->db)) == 0)
		*outcome = CONFIRM_OK;
	if (rc == STORE_CONFLICT) { /* the unique login, taken meanwhile */
		store_rollback(req->db);
		*outcome = CONFIRM_TAKEN;
		return 0;
	}
out:
	if (*outcome != CONFIRM_OK)
		store_rollback(req->db);
	return rc;
}

int portal_account_confirm(struct http_req *req, struct http_resp *resp)
{
	unsigned char hash[32];
	enum confirm_outcome outcome = CONFIRM_UNKNOWN;
	struct change ch = {0};
	const char *lang = req->lang;
	if (invite_token_hash(req->params[0], hash) == 0 &&
	    confirm_apply(req, hash, now_utc(), &outcome, &ch) != 0)
		return -1;
	struct view *v = view_new(req->arena);
	const char *msg = NULL;
	int status = 200;
	switch (outcome) {
	case CONFIRM_OK:
		view_set_bool(v, "ok", 1);
		msg = strcmp(ch.field, "email") == 0
		          ? i18n_tr(
		                lang,
		                "Your new e-mail address is confirmed. We will use it from now on.")
		          : i18n_tr(
		                lang,
		                "Your new mobile number is confirmed. We will use it from now on.");
		log_info("portal: patient %lld confirmed a contact change",
		         (long long)ch.patient_id);
		break;
	case CONFIRM_USED:
		status = 410;
		msg = i18n_tr(lang, "This link has already been used or replaced by a newer one.");
		break;
	case CONFIRM_EXPIRED:
		status = 410;
		msg = i18n_tr(lang, "This link has expired. You can ask for the change again from "
		                    "your profile.");
		break;
	case CONFIRM_TAKEN:
		status = 409;
		msg = i18n_tr(lang, "This address is now used to sign in to another account, so it "
		                    "cannot be yours too. Nothing was changed.");
		break;
	default:
		status = 404;
		msg =
		    i18n_tr(lang, "This link is not valid. Check that you opened the whole link.");
		break;
	}
	view_set(v, "title", i18n_tr(lang, "Confirm your contact details"));
	view_set(v, "message", msg);
	view_set_bool(v, "signed_in",
	              req->session != NULL && req->session->kind == STORE_SESSION_PATIENT);
	return http_render(req, resp, status, "portal/account_confirm.html", v);
}

/* --- language ------------------------------------------------------------------- */

int portal_account_lang(struct http_req *req, struct http_resp *resp)
{
	struct me m;
	int done;
	const char *why = NULL;
	if (me_or_404(req, resp, &m, &done) != 0)
		return -1;
	if (done)
		return 0;
	const char *typed = field(req, "lang");
	if (typed == NULL || validate_lang(typed, &why) != 0) {
		struct form_state f = {0};
		f.error = i18n_tr(req->lang, why ? why : "Choose Italian or English.");
		return render_account(req, resp, 422, &m, &f);
	}
	const char *lang = strcasecmp(typed, "en") == 0 ? "en" : "it";
	if (store_exec(req->db, NULL, "UPDATE patients SET lang = ?, updated_at = ? WHERE id = ?",
	               "tii", lang, now_utc(), m.p.id) != 0)
		return -1;
	/* this session's pages too: the session's language, and the cookie that outranks it */
	if (store_session_set_lang(req->db, req->session->id, lang) != 0)
		return -1;
	http_set_cookie(req, resp, "lang", lang, LANG_COOKIE_AGE);
	store_audit(req->db, m.p.org_id, "patient", m.p.id, "account.lang", "patient", m.p.id,
	            req->ip, lang);
	http_redirect(resp, "/account?saved=lang");
	return 0;
}

/* --- consents -------------------------------------------------------------------- */

int portal_account_consent_withdraw(struct http_req *req, struct http_resp *resp)
{
	struct me m;
	struct store_stmt *s = NULL;
	int done;
	if (me_or_404(req, resp, &m, &done) != 0)
		return -1;
	if (done)
		return 0;
	int64_t id = http_param_id(req, 0);
	char *kind = NULL;
	int withdrawn = 0;
	if (id > 0) {
		if (store_query(req->db, &s,
		                "SELECT kind, withdrawn_at IS NOT NULL FROM consents "
		                "WHERE id = ? AND account_id = ?",
		                "ii", id, m.acct.id) != 0)
			return -1;
		if (store_step(s) == 1) {
			kind = store_col_dup(s, 0, req->arena);
			withdrawn = store_col_int(s, 1) != 0;
		}
		store_done(s);
	}
	if (kind == NULL) { /* not this account's: nothing to say about it */
		http_error(req, resp, 404);
		return 0;
	}
	if (is_required(kind)) {
		struct form_state f = {0};
		f.error =
		    i18n_tr(req->lang,
		            "The privacy policy cannot be withdrawn here: the portal cannot work "
		            "without it. To close your account, please contact your clinic.");
		return render_account(req, resp, 409, &m, &f);
	}
	if (!withdrawn) {
		int64_t now = now_utc();
		if (store_exec(
		        req->db, NULL,
		        "UPDATE consents SET withdrawn_at = ? WHERE id = ? AND account_id = ? "
		        "AND withdrawn_at IS NULL",
		        "iii", now, id, m.acct.id) != 0)
			return -1;
		store_audit(req->db, m.p.org_id, "patient", m.p.id, "consent.withdrawn", "consent",
		            id, req->ip, kind);
	}
	http_redirect(resp, "/account?withdrawn=1");
	return 0;
}
