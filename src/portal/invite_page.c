/*
 * portal/invite_page: the invitation landing page /i/{token} (DESIGN.md §2
 * "Invitation rules"). The patient confirms the family name, chooses a
 * password (twice) and accepts the privacy policy; only when all three pass
 * does the account exist, and the patient lands signed in on the
 * invitation's target.
 *
 * Order of the checks on POST: the passwords and the consent first (free, and
 * a typo there must not cost a family-name try), then invite_check_name (cheap,
 * counts wrong names towards the lock), then Argon2id on the worker pool
 * (http_blocking), then invite_accept, which claims the link with a
 * conditional update: of two concurrent submissions only one can win.
 *
 * HTTP status of each answer:
 *   200  the form, also re-rendered with field errors (as every invito form);
 *        the "a new link is on its way" page after "Send me a new link";
 *   404  an unknown link: it never existed (or was mistyped), nothing is gone;
 *   410  Gone: an expired, used or revoked link, which will never work again;
 *   403  Forbidden: a locked link (too many wrong family names);
 *   409  Conflict: the contact details on file are another account's login;
 *   503  with Retry-After when the hashing pool is full.
 *
 * The page shows nothing about the patient (not even the given name) before
 * the family name matches: only the portal's name and policy (in the page's
 * language when the portal has that text). A link of another portal opened on
 * a portal's configured host is the 404 "does not work" page, exactly like a
 * bad token (http/portal_host.c). It must never log, keep or echo a token or
 * a password.
 */
#include "app.h"
#include "config.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "invite/invite.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/password.h"
#include "lib/util.h"
#include "portal/portal.h"
#include "store/store.h"

#include <string.h>

#define NAME_MAX_BYTES 200
#define RETRY_AFTER    "5"

/* What the form shows again after an error (never a password). */
struct form_state {
	const char *family_name;
	int show, consent;
	int pw_min; /* the portal's shortest password (portals.password_min_chars) */
	const char *err_name, *err_pw, *err_pw2, *err_consent; /* translated messages */
};

/* State kept across the suspension (in req->arena). */
struct accept_state {
	const char *token, *family_name, *password;
	char hash[PASSWORD_HASH_MAX];
	int hash_rc; /* set by the worker: 0 when hash holds the encoded Argon2id string */
};

/* Runs on a worker thread: touches nothing but *arg. */
static void hash_work(void *arg)
{
	struct accept_state *st = arg;
	st->hash_rc = password_hash(st->password, st->hash);
}

/* "/i/<token><suffix>" with the token percent-encoded (it came from the URL). */
static const char *link_path(struct http_req *req, const char *token, const char *suffix)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "/i/");
	buf_urlenc(&b, token);
	buf_puts(&b, suffix);
	const char *s = b.overflow ? "/" : arena_strdup(req->arena, b.data);
	buf_free(&b);
	return s;
}

/* A portal path to land on; anything that is not a single-"/" path goes home. */
static const char *safe_target(const char *t)
{
	if (t == NULL || t[0] != '/' || t[1] == '/' || t[1] == '\\')
		return "/";
	return t;
}

static void add_error(struct view *v, const char *field, const char *msg)
{
	if (msg == NULL)
		return;
	struct view *e = view_append(v, "errors");
	view_set(e, "field", field);
	view_set(e, "msg", msg);
}

static int render_form(struct http_req *req, struct http_resp *resp, const char *token,
                       const struct invite_link *link, const struct form_state *fs)
{
	const char *lang = req->lang;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(lang, "Activate your account"));
	view_set(v, "portal_name", link->portal_name);
	char *text = NULL; /* the policy in the page's language, else the portal's one text */
	if (store_portal_policy(req->db, link->portal_id, lang, &text, req->arena) != 0)
		text = link->policy_text;
	view_set(v, "policy_text", text);
	view_set(v, "policy_version", link->policy_version);
	view_set(v, "action", link_path(req, token, ""));
	view_set(v, "show_href", link_path(req, token, "?show=1"));
	view_set(v, "hide_href", link_path(req, token, ""));
	view_set_bool(v, "show", fs->show);
	view_set(v, "pw_type", fs->show ? "text" : "password");
	char hint[256];
	view_set(v, "pw_hint", password_hint(fs->pw_min, lang, hint, sizeof(hint)));
	view_set_int(v, "pw_min", fs->pw_min);
	view_set(v, "family_name", fs->family_name);
	view_set_bool(v, "consent", fs->consent);
	view_set(v, "err_name", fs->err_name);
	view_set(v, "err_pw", fs->err_pw);
	view_set(v, "err_pw2", fs->err_pw2);
	view_set(v, "err_consent", fs->err_consent);
	add_error(v, "family_name", fs->err_name);
	add_error(v, "password", fs->err_pw);
	add_error(v, "password2", fs->err_pw2);
	add_error(v, "consent", fs->err_consent);
	int n = !!fs->err_name + !!fs->err_pw + !!fs->err_pw2 + !!fs->err_consent;
	view_set_bool(v, "nerrors", n > 0);
	return http_render(req, resp, 200, "portal/invite.html", v);
}

/* The page for a link that cannot be used, with "Send me a new link". */
static int render_problem(struct http_req *req, struct http_resp *resp, const char *token, int err)
{
	const char *heading, *message;
	int status;
	switch (err) {
	case INVITE_EXPIRED:
		status = 410;
		heading = N_("This link has expired");
		message = N_("Invitation links work for a limited time, and this one is too old. "
		             "We can send you a new one.");
		break;
	case INVITE_USED:
		status = 410;
		heading = N_("This link has already been used");
		message = N_("Each invitation link works only once, and this one has already "
		             "been used to activate an account.");
		break;
	case INVITE_REVOKED:
		status = 410;
		heading = N_("This link no longer works");
		message = N_("This link was replaced by a newer one or cancelled by your clinic.");
		break;
	case INVITE_LOCKED:
		status = 403;
		heading = N_("This link is locked");
		message = N_("The family name was typed wrong too many times, so this link is now "
		             "locked to protect your data.");
		break;
	case INVITE_LOGIN_TAKEN:
		status = 409;
		heading = N_("We could not activate your account");
		message = N_("Your contact details are already in use by another account. Please "
		             "call your clinic: they can check your details.");
		break;
	default:
		status = 404;
		heading = N_("This link does not work");
		message = N_("The link may be incomplete. Check that you opened the whole link "
		             "from your message, or ask for a new one.");
		break;
	}
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, heading));
	view_set(v, "heading", i18n_tr(req->lang, heading));
	view_set(v, "message", i18n_tr(req->lang, message));
	view_set_bool(v, "used", err == INVITE_USED);
	view_set(v, "resend_action", link_path(req, token, "/resend"));
	return http_render(req, resp, status, "portal/invite_problem.html", v);
}

/* The shortest password the link's portal accepts; -1 on a store failure. */
static int pw_min_of(struct http_req *req, const struct invite_link *link)
{
	int n = 0;
	return store_portal_password_min(req->db, link->portal_id, &n) == 0 ? n : -1;
}

/* The page speaks the patient's language unless the visitor chose one. */
static void pick_lang(struct http_req *req, const struct invite_link *link)
{
	req->lang = i18n_pick(http_cookie(req, "lang"), link->patient_lang,
	                      http_header(req, "Accept-Language"));
}

/* 1 when the query or the form asks for the passwords in plain text (no-JS toggle). */
static int want_show(const struct http_req *req)
{
	const char *s = http_form(req, "show");
	if (s == NULL)
		s = http_query(req, "show");
	return s != NULL && strcmp(s, "1") == 0;
}

int portal_invite_form(struct http_req *req, struct http_resp *resp)
{
	const char *token = req->params[0];
	struct invite_link link;
	int err = invite_open(req->db, token, now_utc(), &link, req->arena);
	if (err == 0 && !http_portal_allows(req, link.portal_id))
		err = INVITE_UNKNOWN; /* another host's portal: as unknown as a bad token */
	if (err == INVITE_ERR)
		return -1;
	if (err != 0)
		return render_problem(req, resp, token, err);
	pick_lang(req, &link);
	struct form_state fs = {
	    .family_name = "", .show = want_show(req), .pw_min = pw_min_of(req, &link)};
	if (fs.pw_min < 0)
		return -1;
	return render_form(req, resp, token, &link, &fs);
}

/* First call: validate, check the name, hand the hashing to a worker. */
static int submit_start(struct http_req *req, struct http_resp *resp)
{
	const char *lang = req->lang;
	const char *token = req->params[0];
	int64_t now = now_utc();
	struct invite_link link;
	int err = invite_open(req->db, token, now, &link, req->arena);
	if (err == 0 && !http_portal_allows(req, link.portal_id))
		err = INVITE_UNKNOWN; /* another host's portal: as unknown as a bad token */
	if (err == INVITE_ERR)
		return -1;
	if (err != 0)
		return render_problem(req, resp, token, err);
	pick_lang(req, &link);
	lang = req->lang;

	const char *name = http_form(req, "family_name");
	const char *pw = http_form(req, "password");
	const char *pw2 = http_form(req, "password2");
	const char *consent = http_form(req, "consent");
	struct form_state fs = {.family_name = name ? name : "", .show = want_show(req)};
	fs.consent = consent != NULL && strcmp(consent, "1") == 0;
	if ((fs.pw_min = pw_min_of(req, &link)) < 0)
		return -1;
	if (strlen(fs.family_name) > NAME_MAX_BYTES)
		fs.family_name = "";

	if (pw == NULL || pw[0] == '\0') {
		fs.err_pw = i18n_tr(lang, "Choose a password.");
	} else {
		int pe = password_acceptable(pw, fs.pw_min);
		char msg[256];
		if (pe != 0)
			fs.err_pw = arena_strdup(
			    req->arena, password_message(pe, fs.pw_min, lang, msg, sizeof(msg)));
		else if (pw2 == NULL || strcmp(pw, pw2) != 0)
			fs.err_pw2 =
			    i18n_tr(lang, "The two passwords are not the same. Please type "
			                  "the same password twice.");
	}
	if (!fs.consent)
		fs.err_consent =
		    i18n_tr(lang, "To activate your account, please accept the privacy policy.");
	if (fs.family_name[0] == '\0')
		fs.err_name = i18n_tr(lang, "Type your family name.");
	if (fs.err_pw || fs.err_pw2 || fs.err_consent || fs.err_name)
		return render_form(req, resp, token, &link, &fs);

	int left = 0;
	err = invite_check_name(req->db, token, fs.family_name, now, req->ip, &left);
	if (err == INVITE_WRONG_NAME) {
		fs.err_name =
		    arena_printf(req->arena, "%s %s %d.",
		                 i18n_tr(lang, "This family name does not match our records."),
		                 i18n_tr(lang, "Tries left before the link locks:"), left);
		return render_form(req, resp, token, &link, &fs);
	}
	if (err == INVITE_ERR)
		return -1;
	if (err != 0)
		return render_problem(req, resp, token, err);

	struct accept_state *st = arena_alloc(req->arena, sizeof(*st));
	st->token = token;
	st->family_name = fs.family_name;
	st->password = pw;
	st->hash_rc = -1;
	req->cont = st;
	if (http_blocking(req, hash_work, st) != 0) {
		http_add_header(req, resp, "Retry-After", RETRY_AFTER);
		http_error(req, resp, 503);
		return 0;
	}
	return HTTP_SUSPEND;
}

/* Second call, after the worker: create the account, sign in, go to the target. */
static int submit_finish(struct http_req *req, struct http_resp *resp)
{
	struct accept_state *st = req->cont;
	int rc = -1;
	if (st->hash_rc != 0) {
		log_error("portal: password hashing failed");
		goto out;
	}
	int64_t account_id = 0, patient_id = 0, org_id = 0;
	char *target = NULL;
	int err = invite_accept(req->db, st->token, st->family_name, st->hash, req->ip, now_utc(),
	                        &account_id, &patient_id, &org_id, &target, req->arena);
	if (err == INVITE_BUSY) {
		http_add_header(req, resp, "Retry-After", RETRY_AFTER);
		http_error(req, resp, 503);
		rc = 0;
		goto out;
	}
	if (err == INVITE_ERR)
		goto out;
	if (err != 0) {
		/* lost a race (used), locked meanwhile, or a name that stopped matching */
		rc = render_problem(req, resp, st->token,
		                    err == INVITE_WRONG_NAME ? INVITE_UNKNOWN : err);
		goto out;
	}
	if (http_session_start(req, resp, STORE_SESSION_PATIENT, patient_id, org_id) != 0)
		goto out;
	log_info("portal: invitation accepted, account %lld", (long long)account_id);
	http_redirect(resp, safe_target(target));
	rc = 0;
out:
	explicit_bzero(st->hash, sizeof(st->hash));
	return rc;
}

int portal_invite_submit(struct http_req *req, struct http_resp *resp)
{
	return req->resumed ? submit_finish(req, resp) : submit_start(req, resp);
}

int portal_invite_resend(struct http_req *req, struct http_resp *resp)
{
	if (invite_resend(req->db, req->app->cfg, req->params[0], req->ip, now_utc()) != 0)
		return -1;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Check your messages"));
	view_set(v, "back",
	         "/"); /* the language switch comes back home: the same page for any link */
	return http_render(req, resp, 200, "portal/invite_resent.html", v);
}
