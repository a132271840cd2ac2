/*
 * portal/reset_page: a forgotten password. /forgot asks for the e-mail or
 * mobile on file and ALWAYS answers the same words ("If an account exists, we
 * have sent a link") in about the same time; /r/{token} sets the new password
 * (typed twice, Argon2id on the worker pool), which ends every other session
 * of the account (account_reset_complete does it), then signs the patient in
 * with a fresh session and goes home.
 *
 * Same time: account_forgot() writes a reset link and a message only when the
 * account exists (a write transaction, an fsync) and reads one row when it
 * does not. So it runs on the worker pool, off the event loop, and the answer
 * waits there until FORGOT_FLOOR_MS have passed since the work began: both
 * cases take the floor (the work itself is far below it). Like a sign-in, a
 * request costs one worker slot for that long, and a full queue answers 503.
 *
 * HTTP status: 200 for forms and the "check your messages" page; 404 for an
 * unknown reset link, 410 Gone for an expired or used one; 503 + Retry-After
 * when the pool is full. It must never log, keep or echo a token or a password.
 */
#include "app.h"
#include "config.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "invite/account.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/password.h"
#include "lib/util.h"
#include "portal/portal.h"
#include "store/store.h"

#include <string.h>
#include <time.h>

#define FORGOT_FLOOR_MS 150
#define LOGIN_MAX       254
#define RETRY_AFTER     "5"

/* --- /forgot ------------------------------------------------------------- */

struct forgot_state {
	/* the worker takes its own connection: http_blocking() gives the request's back while
	 * the request is suspended */
	struct store *store;
	const struct config *cfg;
	const char *login, *ip;
	int64_t portal_id; /* the Host's portal (0: the first) */
	int rc;
};

/* Sleeps until `until` (now_ms() clock); returns at once when it has passed. */
static void sleep_until_ms(int64_t until)
{
	int64_t left;
	while ((left = until - now_ms()) > 0) {
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Runs on a worker thread: the lookup (and, for an account, the link and its message),
 * then the wait up to the floor. */
static void forgot_work(void *arg)
{
	struct forgot_state *st = arg;
	int64_t start = now_ms();
	struct store_conn *db = store_acquire(st->store);
	st->rc = account_forgot(db, st->cfg, st->portal_id, st->login, st->ip, now_utc());
	store_release(db);
	sleep_until_ms(start + FORGOT_FLOOR_MS);
}

static int render_forgot(struct http_req *req, struct http_resp *resp, const char *login,
                         const char *error)
{
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Forgot your password?"));
	view_set(v, "login", login);
	if (error != NULL)
		view_set(v, "error", error);
	return http_render(req, resp, 200, "portal/forgot.html", v);
}

int portal_forgot_form(struct http_req *req, struct http_resp *resp)
{
	return render_forgot(req, resp, "", NULL);
}

int portal_forgot(struct http_req *req, struct http_resp *resp)
{
	if (req->resumed) {
		struct forgot_state *st = req->cont;
		if (st->rc != 0)
			return -1;
		struct view *v = view_new(req->arena);
		view_set(v, "title", i18n_tr(req->lang, "Check your messages"));
		return http_render(req, resp, 200, "portal/forgot_sent.html", v);
	}
	const char *typed = http_form(req, "login");
	if (typed == NULL)
		typed = "";
	while (*typed == ' ' || *typed == '\t')
		typed++;
	if (typed[0] == '\0' || strlen(typed) > LOGIN_MAX)
		return render_forgot(req, resp, "",
		                     i18n_tr(req->lang, "Type your e-mail or mobile number."));
	struct forgot_state *st = arena_alloc(req->arena, sizeof(*st));
	st->store = req->app->store;
	st->cfg = req->app->cfg;
	st->login = typed;
	st->ip = req->ip;
	st->portal_id = http_portal_id(req);
	req->cont = st;
	if (http_blocking(req, forgot_work, st) != 0) {
		http_add_header(req, resp, "Retry-After", RETRY_AFTER);
		http_error(req, resp, 503);
		return 0;
	}
	return HTTP_SUSPEND;
}

/* --- /r/{token} ----------------------------------------------------------- */

struct reset_state {
	const char *token, *password;
	char hash[PASSWORD_HASH_MAX];
	int hash_rc;
};

/* Runs on a worker thread: touches nothing but *arg. */
static void hash_work(void *arg)
{
	struct reset_state *st = arg;
	st->hash_rc = password_hash(st->password, st->hash);
}

/* "/r/<token><suffix>" with the token percent-encoded (it came from the URL). */
static const char *reset_path(struct http_req *req, const char *token, const char *suffix)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "/r/");
	buf_urlenc(&b, token);
	buf_puts(&b, suffix);
	const char *s = b.overflow ? "/" : arena_strdup(req->arena, b.data);
	buf_free(&b);
	return s;
}

static int render_problem(struct http_req *req, struct http_resp *resp, int err)
{
	const char *heading, *message;
	int status = 410;
	if (err == ACCOUNT_EXPIRED) {
		heading = N_("This link has expired");
		message = N_("A link to choose a new password works for one hour, and this one is "
		             "older. Ask for a new one: it takes a minute.");
	} else if (err == ACCOUNT_USED) {
		heading = N_("This link has already been used");
		message = N_("Each link works only once, and a newer link replaces the older ones. "
		             "If you have just chosen a password, sign in with it.");
	} else {
		status = 404;
		heading = N_("This link does not work");
		message = N_("The link may be incomplete. Check that you opened the whole link "
		             "from your message, or ask for a new one.");
	}
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, heading));
	view_set(v, "heading", i18n_tr(req->lang, heading));
	view_set(v, "message", i18n_tr(req->lang, message));
	return http_render(req, resp, status, "portal/reset_problem.html", v);
}

static void add_error(struct view *v, const char *field, const char *msg)
{
	if (msg == NULL)
		return;
	struct view *e = view_append(v, "errors");
	view_set(e, "field", field);
	view_set(e, "msg", msg);
}

static int render_reset(struct http_req *req, struct http_resp *resp, const char *token, int show,
                        int pw_min, const char *err_pw, const char *err_pw2)
{
	struct view *v = view_new(req->arena);
	char hint[256];
	view_set(v, "pw_hint", password_hint(pw_min, req->lang, hint, sizeof(hint)));
	view_set_int(v, "pw_min", pw_min);
	view_set(v, "title", i18n_tr(req->lang, "Choose a new password"));
	view_set(v, "action", reset_path(req, token, ""));
	view_set(v, "show_href", reset_path(req, token, "?show=1"));
	view_set(v, "hide_href", reset_path(req, token, ""));
	view_set_bool(v, "show", show);
	view_set(v, "pw_type", show ? "text" : "password");
	view_set(v, "err_pw", err_pw);
	view_set(v, "err_pw2", err_pw2);
	add_error(v, "password", err_pw);
	add_error(v, "password2", err_pw2);
	view_set_bool(v, "nerrors", err_pw != NULL || err_pw2 != NULL);
	return http_render(req, resp, 200, "portal/reset.html", v);
}

static int want_show(const struct http_req *req)
{
	const char *s = http_form(req, "show");
	if (s == NULL)
		s = http_query(req, "show");
	return s != NULL && strcmp(s, "1") == 0;
}

/* Opens the link and speaks the patient's language unless the visitor chose one; *pw_min
 * gets the shortest password the patient's portal accepts. */
static int open_link(struct http_req *req, const char *token, struct account_reset_link *out,
                     int *pw_min)
{
	int err = account_reset_open(req->db, token, now_utc(), out, req->arena);
	int64_t portal_id = 0;
	/* a link of another host's portal is unknown here (http/portal_host.c) */
	if (err == 0 &&
	    (store_patient_portal(req->db, out->patient_id, out->org_id, &portal_id) != 0 ||
	     !http_portal_allows(req, portal_id)))
		err = ACCOUNT_UNKNOWN;
	if (err == 0 && store_portal_password_min(req->db, portal_id, pw_min) != 0)
		err = ACCOUNT_ERR;
	if (err == 0)
		req->lang = i18n_pick(http_cookie(req, "lang"), out->lang,
		                      http_header(req, "Accept-Language"));
	return err;
}

int portal_reset_form(struct http_req *req, struct http_resp *resp)
{
	struct account_reset_link link;
	int pw_min = 0;
	int err = open_link(req, req->params[0], &link, &pw_min);
	if (err == ACCOUNT_ERR)
		return -1;
	if (err != 0)
		return render_problem(req, resp, err);
	return render_reset(req, resp, req->params[0], want_show(req), pw_min, NULL, NULL);
}

static int reset_start(struct http_req *req, struct http_resp *resp)
{
	const char *lang;
	const char *token = req->params[0];
	struct account_reset_link link;
	int pw_min = 0;
	int err = open_link(req, token, &link, &pw_min);
	if (err == ACCOUNT_ERR)
		return -1;
	if (err != 0)
		return render_problem(req, resp, err);
	lang = req->lang;
	const char *pw = http_form(req, "password");
	const char *pw2 = http_form(req, "password2");
	const char *err_pw = NULL, *err_pw2 = NULL;
	if (pw == NULL || pw[0] == '\0') {
		err_pw = i18n_tr(lang, "Choose a password.");
	} else {
		int pe = password_acceptable(pw, pw_min);
		char msg[256];
		if (pe != 0)
			err_pw = arena_strdup(req->arena,
			                      password_message(pe, pw_min, lang, msg, sizeof(msg)));
		else if (pw2 == NULL || strcmp(pw, pw2) != 0)
			err_pw2 = i18n_tr(lang, "The two passwords are not the same. Please type "
			                        "the same password twice.");
	}
	if (err_pw != NULL || err_pw2 != NULL)
		return render_reset(req, resp, token, want_show(req), pw_min, err_pw, err_pw2);

	struct reset_state *st = arena_alloc(req->arena, sizeof(*st));
	st->token = token;
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

static int reset_finish(struct http_req *req, struct http_resp *resp)
{
	struct reset_state *st = req->cont;
	int rc = -1;
	struct account_reset_link done;
	if (st->hash_rc != 0) {
		log_error("portal: password hashing failed");
		goto out;
	}
	int err = account_reset_complete(req->db, st->token, st->hash, req->ip, now_utc(), &done,
	                                 req->arena);
	if (err == ACCOUNT_ERR)
		goto out;
	if (err != 0) {
		rc = render_problem(req, resp, err); /* lost a race: used meanwhile */
		goto out;
	}
	/* every other session ended in account_reset_complete; this browser starts afresh */
	if (http_session_start(req, resp, STORE_SESSION_PATIENT, done.patient_id, done.org_id) != 0)
		goto out;
	log_info("portal: password reset, patient %lld", (long long)done.patient_id);
	http_redirect(resp, "/");
	rc = 0;
out:
	explicit_bzero(st->hash, sizeof(st->hash));
	return rc;
}

int portal_reset_submit(struct http_req *req, struct http_resp *resp)
{
	return req->resumed ? reset_finish(req, resp) : reset_start(req, resp);
}
