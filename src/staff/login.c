/*
 * staff/login: staff sign-in and sign-out.
 *
 * The Argon2id check runs on the worker pool (http_blocking), never on the
 * event loop. Every attempt costs one verification, whether the e-mail is
 * known, unknown (a dummy hash) or locked, and every failure shows the same
 * message, so neither the answer nor its timing tells which e-mails exist or
 * which accounts are locked. Wrong passwords count towards a lock
 * (cfg->login_limit failures lock for cfg->login_lock seconds).
 * It must never log, keep or echo a password.
 */
#include "app.h"
#include "config.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/log.h"
#include "lib/password.h"
#include "lib/util.h"
#include "staff/staff.h"
#include "store/store.h"

#include <pthread.h>
#include <string.h>

#define LOGIN_ERROR "Wrong e-mail or password"
#define EMAIL_MAX   254
#define RETRY_AFTER "5"

/* State kept across the suspension (in req->arena). */
struct login_state {
	const char *email, *password;
	const char *hash; /* the staff user's hash; NULL: verify the dummy */
	int64_t staff_id; /* 0 when the e-mail is unknown */
	int ok;           /* set by the worker: 1 when the password matched */
};

/* A real Argon2id hash of a random password, made once with the same
 * parameters as every stored hash, so an unknown e-mail costs the same. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];

static void dummy_init(void)
{
	if (password_hash("invito: no such staff user", dummy_hash) != 0)
		dummy_hash[0] = '\0';
}

/* Runs on a worker thread: touches nothing but *arg. */
static void login_work(void *arg)
{
	struct login_state *st = arg;
	const char *hash = st->hash;
	if (hash == NULL) {
		pthread_once(&dummy_once, dummy_init);
		hash = dummy_hash;
	}
	int match = password_verify(hash, st->password) == 0;
	st->ok = match && st->hash != NULL;
}

static int render_form(struct http_req *req, struct http_resp *resp, const char *email,
                       const char *error)
{
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(req->lang, "Staff sign-in"));
	view_set(v, "email", email);
	if (error != NULL)
		view_set(v, "error", i18n_tr(req->lang, error));
	return http_render(req, resp, 200, "staff/login.html", v);
}

int staff_home(struct http_req *req, struct http_resp *resp)
{
	(void)req;
	http_redirect(resp, "/staff/patients");
	return 0;
}

int staff_login_form(struct http_req *req, struct http_resp *resp)
{
	if (req->session != NULL && req->session->kind == STORE_SESSION_STAFF) {
		http_redirect(resp, "/staff/patients");
		return 0;
	}
	return render_form(req, resp, "", NULL);
}

/* First call: look the user up and hand the verification to a worker. */
static int login_start(struct http_req *req, struct http_resp *resp)
{
	const char *email = http_form(req, "email");
	const char *pw = http_form(req, "password");
	if (email == NULL)
		email = "";
	while (*email == ' ' || *email == '\t')
		email++;
	size_t n = strlen(email);
	while (n > 0 && (email[n - 1] == ' ' || email[n - 1] == '\t'))
		n--;
	if (n > EMAIL_MAX)
		n = EMAIL_MAX;
	email = arena_strndup(req->arena, email, n);
	/* an empty or oversized field says nothing about any account: answer at once */
	if (n == 0 || pw == NULL || pw[0] == '\0' || strlen(pw) > PASSWORD_MAX_BYTES)
		return render_form(req, resp, email, LOGIN_ERROR);

	struct login_state *st = arena_alloc(req->arena, sizeof(*st));
	st->email = email;
	st->password = pw;
	struct store_staff staff;
	int e = store_staff_by_email(req->db, email, &staff, req->arena);
	if (e == 0) {
		st->hash = staff.pw_hash;
		st->staff_id = staff.id;
	} else if (e != STORE_NOTFOUND) {
		return -1;
	}
	req->cont = st;
	if (http_blocking(req, login_work, st) != 0) {
		http_add_header(req, resp, "Retry-After", RETRY_AFTER);
		http_error(req, resp, 503);
		return 0;
	}
	return HTTP_SUSPEND;
}

/* Second call, after the worker: decide, count, audit. */
static int login_finish(struct http_req *req, struct http_resp *resp)
{
	struct login_state *st = req->cont;
	const struct config *cfg = req->app->cfg;
	int64_t now = now_utc();
	if (st->staff_id == 0) {
		store_audit(req->db, 0, "staff", 0, "staff.login_failed", NULL, 0, req->ip,
		            "unknown e-mail");
		return render_form(req, resp, st->email, LOGIN_ERROR);
	}
	/* read again: a lock set by a parallel attempt while we hashed counts too */
	struct store_staff staff;
	int e = store_staff_get(req->db, st->staff_id, &staff, req->arena);
	if (e != 0)
		return e == STORE_NOTFOUND ? render_form(req, resp, st->email, LOGIN_ERROR) : -1;
	if (staff.locked_until > now) {
		store_audit(req->db, staff.org_id, "staff", staff.id, "staff.login_failed", "staff",
		            staff.id, req->ip, "locked");
		return render_form(req, resp, st->email, LOGIN_ERROR);
	}
	if (!st->ok) {
		if (store_staff_login_failed(req->db, staff.id, now, cfg->login_limit,
		                             cfg->login_lock) != 0)
			return -1;
		store_audit(req->db, staff.org_id, "staff", staff.id, "staff.login_failed", "staff",
		            staff.id, req->ip, "wrong password");
		return render_form(req, resp, st->email, LOGIN_ERROR);
	}
	if (store_staff_login_ok(req->db, staff.id, now) != 0)
		return -1;
	if (http_session_start(req, resp, STORE_SESSION_STAFF, staff.id, staff.org_id) != 0)
		return -1;
	store_audit(req->db, staff.org_id, "staff", staff.id, "staff.login", "staff", staff.id,
	            req->ip, NULL);
	log_info("staff %lld signed in", (long long)staff.id);
	http_redirect(resp, "/staff/patients");
	return 0;
}

int staff_login(struct http_req *req, struct http_resp *resp)
{
	return req->resumed ? login_finish(req, resp) : login_start(req, resp);
}

int staff_logout(struct http_req *req, struct http_resp *resp)
{
	if (req->session != NULL)
		store_audit(req->db, req->session->org_id, "staff", req->session->user_id,
		            "staff.logout", "staff", req->session->user_id, req->ip, NULL);
	http_session_end(req, resp);
	http_redirect(resp, "/staff/login");
	return 0;
}
