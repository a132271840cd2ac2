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

#define LOGIN_ERROR  "Wrong e-mail, mobile number or password."
#define LOGIN_MAX    254
#define NEXT_MAX     2048
#define RETRY_AFTER  "5"
#define PORTAL_FIRST 0 /* account.h: the first portal */

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
	int err = account_by_login(req->db, PORTAL_FIRST, typed, &st->acct, req->arena);
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
