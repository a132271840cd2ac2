/*
 * portal/login: patient sign-in (/login) with the e-mail or mobile on file,
 * and sign-out (/logout).
 *
 * Throttling is invite/account.h's: account_login_check() before any work
 * (per account and per address), account_login_failed() after a failure,
 * account_login_ok() after a success. The Argon2id check runs on the worker
 * pool (http_blocking), never on the event loop, and every attempt that is
 * not throttled costs one verification, whether the login is known or not (a
 * dummy hash), with one message for every failure, so neither the answer nor
 * its timing tells which logins exist.
 *
 * ?next= is followed only when it is a portal path (one "/", no "//", no
 * backslash, no control character); anything else lands on "/". It must never
 * log, keep or echo a password.
 *
 * Sign-in looks the login up on the request's portal (req->portal, picked by
 * the Host header among configured portals). When that portal's privacy
 * policy version is not the one the account accepted last, sign-in goes to
 * /policy first, which shows the new text in the patient's language and
 * records the acceptance (consents: version, time, address) before going on.
 */
#include "app.h"
#include "config.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "invite/account.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/password.h"
#include "lib/util.h"
#include "portal/portal.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define LOGIN_ERROR "Wrong e-mail, mobile number or password."
#define LOGIN_MAX   254
#define NEXT_MAX    2048
#define RETRY_AFTER "5"

/* State kept across the suspension (in req->arena). */
struct login_state {
	const char *login, *password, *next;
	struct account acct; /* valid when found */
	int found;
	int ok; /* set by the worker: 1 when the password matched a real account */
};

/* A real Argon2id hash of a random text, made once with the parameters of every stored
 * hash, so an unknown login costs the same as a known one. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];

static void dummy_init(void)
{
	if (password_hash("invito: no such patient account", dummy_hash) != 0)
		dummy_hash[0] = '\0';
}

/* Runs on a worker thread: touches nothing but *arg. */
static void verify_work(void *arg)
{
	struct login_state *st = arg;
	const char *hash = st->found ? st->acct.pw_hash : NULL;
	if (hash == NULL) {
		pthread_once(&dummy_once, dummy_init);
		hash = dummy_hash;
	}
	int match = password_verify(hash, st->password) == 0;
	st->ok = match && st->found && st->acct.pw_hash != NULL;
}

/* next when it is a portal path a redirect may go to, else NULL. */
static const char *safe_next(const char *next)
{
	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\')
		return NULL;
	if (strlen(next) > NEXT_MAX)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)next; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return NULL;
	if (strcmp(next, "/login") == 0 || strncmp(next, "/login?", 7) == 0)
		return NULL;
	return next;
}

static int render_form(struct http_req *req, struct http_resp *resp, int status, const char *login,
                       const char *next, const char *error)
{
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Sign in"));
	view_set(v, "login", login);
	view_set(v, "next", safe_next(next));
	if (req->portal != NULL)
		view_set(v, "portal_name", req->portal->name);
	if (error != NULL)
		view_set(v, "error", error);
	return http_render(req, resp, status, "portal/login.html", v);
}

int portal_login_form(struct http_req *req, struct http_resp *resp)
{
	if (req->session != NULL && req->session->kind == STORE_SESSION_PATIENT) {
		http_redirect(resp, "/");
		return 0;
	}
	return render_form(req, resp, 200, "", http_query(req, "next"), NULL);
}

/* "Too many attempts" with the wait in words (seconds or minutes). */
static int render_throttled(struct http_req *req, struct http_resp *resp, const char *login,
                            const char *next, int64_t retry_after)
{
	const char *lang = req->lang;
	char secs[24];
	if (retry_after < 1)
		retry_after = 1;
	snprintf(secs, sizeof(secs), "%lld", (long long)retry_after);
	http_add_header(req, resp, "Retry-After", arena_strdup(req->arena, secs));
	const char *msg;
	if (retry_after < 120)
		msg = arena_printf(req->arena, "%s %s %lld.",
		                   i18n_tr(lang, "Too many attempts. Please wait and try again."),
		                   i18n_tr(lang, "Seconds to wait:"), (long long)retry_after);
	else
		msg = arena_printf(req->arena, "%s %s %lld.",
		                   i18n_tr(lang, "Too many attempts. Please wait and try again."),
		                   i18n_tr(lang, "Minutes to wait:"),
		                   (long long)(retry_after + 59) / 60);
	return render_form(req, resp, 429, login, next, msg);
}

/* First call: look the account up, check the throttle, hand the verification to a worker. */
static int login_start(struct http_req *req, struct http_resp *resp)
{
	const char *typed = http_form(req, "login");
	const char *pw = http_form(req, "password");
	const char *next = http_form(req, "next");
	if (typed == NULL)
		typed = "";
	while (*typed == ' ' || *typed == '\t')
		typed++;
	size_t n = strlen(typed);
	while (n > 0 && (typed[n - 1] == ' ' || typed[n - 1] == '\t'))
		n--;
	if (n > LOGIN_MAX)
		n = LOGIN_MAX;
	typed = arena_strndup(req->arena, typed, n);
	/* an empty or oversized field says nothing about any account: answer at once */
	if (n == 0 || pw == NULL || pw[0] == '\0' || strlen(pw) > PASSWORD_MAX_BYTES)
		return render_form(req, resp, 200, typed, next, i18n_tr(req->lang, LOGIN_ERROR));

	struct login_state *st = arena_alloc(req->arena, sizeof(*st));
	st->login = typed;
	st->password = pw;
	st->next = next;
	int err = account_by_login(req->db, http_portal_id(req), typed, &st->acct, req->arena);
	if (err == 0)
		st->found = 1;
	else if (err != ACCOUNT_NOTFOUND)
		return -1;
	int64_t retry = 0;
	err = account_login_check(req->db, st->found ? st->acct.id : 0, req->ip, now_utc(), &retry);
	if (err == ACCOUNT_THROTTLED)
		return render_throttled(req, resp, typed, next, retry);
	if (err != 0)
		return -1;
	req->cont = st;
	if (http_blocking(req, verify_work, st) != 0) {
		http_add_header(req, resp, "Retry-After", RETRY_AFTER);
		http_error(req, resp, 503);
		return 0;
	}
	return HTTP_SUSPEND;
}

/*
 * 1 when the account accepted a privacy policy version other than its portal's current one
 * (its newest consent not withdrawn), 0 when it is up to date or has no privacy consent on
 * record at all (only accounts made outside an invitation: imports, fixtures; invitations
 * always record one), -1 when the store fails. *portal and *accepted (may be NULL) get the
 * portal and the accepted version.
 */
static int policy_outdated(struct http_req *req, const struct account *acct,
                           struct store_portal *portal, char **accepted)
{
	struct store_portal p;
	char *version = NULL;
	if (portal == NULL)
		portal = &p;
	if (store_portal_by_id(req->db, acct->portal_id, portal, req->arena) != 0)
		return -1;
	int rc = store_policy_accepted(req->db, acct->id, &version, req->arena);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return -1;
	if (accepted != NULL)
		*accepted = version;
	return version != NULL && portal->policy_version != NULL &&
	       strcmp(version, portal->policy_version) != 0;
}

/* Second call, after the worker: count, sign in, go on. */
static int login_finish(struct http_req *req, struct http_resp *resp)
{
	struct login_state *st = req->cont;
	int64_t now = now_utc();
	if (!st->ok) {
		if (account_login_failed(req->db, st->found ? st->acct.id : 0, req->ip, now) != 0)
			return -1;
		return render_form(req, resp, 200, st->login, st->next,
		                   i18n_tr(req->lang, LOGIN_ERROR));
	}
	if (account_login_ok(req->db, st->acct.id, req->ip, now) != 0)
		return -1;
	/* a fresh session id (the old one, if any, is deleted): user_id is the PATIENT id */
	if (http_session_start(req, resp, STORE_SESSION_PATIENT, st->acct.patient_id,
	                       st->acct.org_id) != 0)
		return -1;
	log_info("portal: patient %lld signed in", (long long)st->acct.patient_id);
	const char *next = safe_next(st->next);
	int outdated = policy_outdated(req, &st->acct, NULL, NULL);
	if (outdated < 0)
		return -1;
	if (outdated) {
		struct buf b;
		buf_init(&b, NEXT_MAX + 64);
		buf_puts(&b, "/policy?next=");
		buf_urlenc(&b, next ? next : "/");
		http_redirect(resp, b.overflow ? "/policy" : arena_strdup(req->arena, b.data));
		buf_free(&b);
		return 0;
	}
	http_redirect(resp, next ? next : "/");
	return 0;
}

int portal_login(struct http_req *req, struct http_resp *resp)
{
	return req->resumed ? login_finish(req, resp) : login_start(req, resp);
}

int portal_logout(struct http_req *req, struct http_resp *resp)
{
	if (req->session != NULL)
		store_audit(req->db, req->session->org_id, "patient", req->session->user_id,
		            "account.logout", "patient", req->session->user_id, req->ip, NULL);
	http_session_end(req, resp);
	http_redirect(resp, "/login");
	return 0;
}

/* --- a new privacy policy version ------------------------------------------------------- */

static int render_policy(struct http_req *req, struct http_resp *resp, int status,
                         const struct store_portal *portal, const char *accepted, const char *next,
                         const char *error)
{
	char *text = NULL;
	if (store_portal_policy(req->db, portal->id, req->lang, &text, req->arena) < 0)
		return -1;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Our privacy policy has changed"));
	view_set(v, "portal_name", portal->name);
	view_set(v, "policy_text", text);
	view_set(v, "policy_version", portal->policy_version);
	view_set(v, "accepted_version", accepted);
	view_set(v, "next", safe_next(next));
	if (error != NULL)
		view_set(v, "error", error);
	return http_render(req, resp, status, "portal/policy.html", v);
}

int portal_policy_form(struct http_req *req, struct http_resp *resp)
{
	struct account acct;
	struct store_portal portal;
	char *accepted = NULL;
	const char *next = safe_next(http_query(req, "next"));
	int rc = account_by_patient(req->db, req->session->user_id, &acct, req->arena);
	if (rc == ACCOUNT_NOTFOUND) {
		http_redirect(resp, "/");
		return 0;
	}
	if (rc != 0)
		return -1;
	int outdated = policy_outdated(req, &acct, &portal, &accepted);
	if (outdated < 0)
		return -1;
	if (!outdated) {
		http_redirect(resp, next ? next : "/");
		return 0;
	}
	return render_policy(req, resp, 200, &portal, accepted, next, NULL);
}

int portal_policy_accept(struct http_req *req, struct http_resp *resp)
{
	struct account acct;
	struct store_portal portal;
	char *accepted = NULL;
	const char *next = safe_next(http_form(req, "next"));
	const char *consent = http_form(req, "consent");
	const char *version = http_form(req, "version");
	int rc = account_by_patient(req->db, req->session->user_id, &acct, req->arena);
	if (rc == ACCOUNT_NOTFOUND) {
		http_redirect(resp, "/");
		return 0;
	}
	if (rc != 0)
		return -1;
	int outdated = policy_outdated(req, &acct, &portal, &accepted);
	if (outdated < 0)
		return -1;
	if (!outdated) {
		http_redirect(resp, next ? next : "/");
		return 0;
	}
	if (consent == NULL || strcmp(consent, "1") != 0)
		return render_policy(
		    req, resp, 200, &portal, accepted, next,
		    i18n_tr(req->lang, "To go on, please accept the privacy policy."));
	/* the version changed while the page was open: show the newest one */
	if (version == NULL || strcmp(version, portal.policy_version) != 0)
		return render_policy(req, resp, 200, &portal, accepted, next,
		                     i18n_tr(req->lang,
		                             "The privacy policy changed again while you "
		                             "were reading it. Please read this version."));
	int64_t now = now_utc();
	if (store_policy_accept(req->db, acct.id, portal.policy_version, req->ip, now) != 0)
		return -1;
	store_audit(req->db, acct.org_id, "patient", acct.patient_id, "policy.accepted", "account",
	            acct.id, req->ip, portal.policy_version);
	log_info("portal: patient %lld accepted a privacy policy version",
	         (long long)acct.patient_id);
	http_redirect(resp, next ? next : "/");
	return 0;
}
