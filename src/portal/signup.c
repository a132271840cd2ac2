/*
 * portal/signup: self sign-up (/signup). A patient who is already a record
 * of the clinic must not become a second record: account_signup() looks for
 * a patient whose family name, birth date and mobile or e-mail match and, if
 * there is one, sends an invitation (or a reset link) to the contact ON FILE,
 * never to what was typed. It never creates a patient. Whatever happened, the
 * page says the same words ("Check your messages"), in about the same time:
 * the lookup (and the invitation, on a match) runs on the worker pool and the
 * answer waits there until SIGNUP_FLOOR_MS have passed.
 *
 * Only malformed input gets field errors (a date that is not a date, neither
 * a mobile nor an e-mail): they say nothing about any record. The given name
 * is asked because a person signing up expects to give it, but matching does
 * not use it and nothing keeps it.
 */
#include "app.h"
#include "config.h"
#include "http/http.h"
#include "http/tmpl.h"
#include "invite/account.h"
#include "lib/arena.h"
#include "lib/i18n.h"
#include "lib/util.h"
#include "lib/validate.h"
#include "portal/portal.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SIGNUP_FLOOR_MS 150
#define FIELD_MAX       254
#define RETRY_AFTER     "5"

struct signup_state {
	/* the worker takes its own connection: http_blocking() gives the request's back while
	 * the request is suspended */
	struct store *store;
	const struct config *cfg;
	struct account_signup s;
	int rc;
};

/* Runs on a worker thread: the match (and, on a match, the invitation), then the wait up to
 * the floor, so a match and no match take the same time. */
static void signup_work(void *arg)
{
	struct signup_state *st = arg;
	int64_t start = now_ms();
	struct store_conn *db = store_acquire(st->store);
	st->rc = account_signup(db, st->cfg, &st->s, now_utc());
	store_release(db);
	int64_t left;
	while ((left = start + SIGNUP_FLOOR_MS - now_ms()) > 0) {
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* One form field as the template shows it. */
struct field {
	const char *name, *label, *hint, *type, *autocomplete, *inputmode;
	int required;
};

static const struct field fields[] = {
    {"given_name", N_("Given name"), NULL, "text", "given-name", NULL, 1},
    {"family_name", N_("Family name (surname)"), NULL, "text", "family-name", NULL, 1},
    {"birth_date", N_("Birth date"), N_("Day/month/year, for example 31/12/1980"), "text", "bday",
     "numeric", 1},
    {"mobile", N_("Mobile number"), N_("At least one of the two: mobile number or e-mail."), "tel",
     "tel", "tel", 0},
    {"email", N_("E-mail"), NULL, "email", "email", "email", 0},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int render(struct http_req *req, struct http_resp *resp, const char *const *values,
                  const char *const *errors)
{
	const char *lang = req->lang;
	struct view *v = view_new(req->arena);
	view_set(v, "title", i18n_tr(lang, "Ask for an account"));
	int nerr = 0;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		struct view *fv = view_append(v, "fields");
		view_set(fv, "name", f->name);
		view_set(fv, "label", i18n_tr(lang, f->label));
		view_set(fv, "type", f->type);
		view_set(fv, "autocomplete", f->autocomplete);
		view_set(fv, "inputmode", f->inputmode);
		view_set_int(fv, "maxlength", strcmp(f->name, "email") == 0 ? 254 : 100);
		view_set_bool(fv, "required", f->required);
		view_set_bool(fv, "optional", !f->required);
		view_set(fv, "value", values ? values[i] : "");
		const char *hint = f->hint ? i18n_tr(lang, f->hint) : NULL;
		const char *err = errors ? errors[i] : NULL;
		view_set(fv, "hint", hint);
		view_set(fv, "error", err);
		const char *by = NULL;
		if (hint && err)
			by = arena_printf(req->arena, "%s-hint %s-error", f->name, f->name);
		else if (hint)
			by = arena_printf(req->arena, "%s-hint", f->name);
		else if (err)
			by = arena_printf(req->arena, "%s-error", f->name);
		view_set(fv, "describedby", by);
		if (err) {
			struct view *e = view_append(v, "errors");
			view_set(e, "field", f->name);
			view_set(e, "msg", err);
			nerr++;
		}
	}
	view_set_bool(v, "nerrors", nerr > 0);
	return http_render(req, resp, 200, "portal/signup.html", v);
}

/* DD/MM/YYYY (also with "." or "-", one-digit day and month) or YYYY-MM-DD, to YYYY-MM-DD in
 * the arena; NULL when it is neither shape. validate_birth_date() checks the date itself. */
static const char *parse_date(const char *s, struct arena *a)
{
	unsigned d, m, y;
	char s1, s2, rest;
	if (sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &rest) == 3 && strlen(s) == 10)
		return arena_printf(a, "%04u-%02u-%02u", y, m, d);
	if (sscanf(s, "%2u%c%2u%c%4u%c", &d, &s1, &m, &s2, &y, &rest) == 5 && s1 == s2 &&
	    (s1 == '/' || s1 == '.' || s1 == '-') && y >= 1000)
		return arena_printf(a, "%04u-%02u-%02u", y, m, d);
	return NULL;
}

/* Trimmed copy of a form field ("" when missing), at most FIELD_MAX bytes. */
static const char *field_value(struct http_req *req, const char *name)
{
	const char *s = http_form(req, name);
	if (s == NULL)
		return "";
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return arena_strndup(req->arena, s, n > FIELD_MAX ? FIELD_MAX : n);
}

int portal_signup_form(struct http_req *req, struct http_resp *resp)
{
	return render(req, resp, NULL, NULL);
}

int portal_signup(struct http_req *req, struct http_resp *resp)
{
	if (req->resumed) {
		struct signup_state *st = req->cont;
		if (st->rc != 0)
			return -1;
		struct view *v = view_new(req->arena);
		view_set(v, "title", i18n_tr(req->lang, "Check your messages"));
		return http_render(req, resp, 200, "portal/signup_sent.html", v);
	}
	const char *lang = req->lang;
	const char *values[NFIELDS], *errors[NFIELDS] = {0};
	for (size_t i = 0; i < NFIELDS; i++)
		values[i] = field_value(req, fields[i].name);
	const char *why = NULL;
	int64_t now = now_utc();

	if (values[0][0] == '\0')
		errors[0] = i18n_tr(lang, "Type your given name.");
	else if (validate_name(values[0], &why) != 0)
		errors[0] = i18n_tr(lang, why);
	if (values[1][0] == '\0')
		errors[1] = i18n_tr(lang, "Type your family name.");
	else if (validate_name(values[1], &why) != 0)
		errors[1] = i18n_tr(lang, why);
	const char *birth = parse_date(values[2], req->arena);
	if (values[2][0] == '\0')
		errors[2] = i18n_tr(lang, "Type your birth date.");
	else if (birth == NULL)
		errors[2] = i18n_tr(lang, "Type the birth date as day/month/year, for example "
		                          "31/12/1980.");
	else if (validate_birth_date(birth, now, &why) != 0)
		errors[2] = i18n_tr(lang, why);
	char mobile[VALIDATE_E164_MAX] = "";
	if (values[3][0] != '\0' && validate_mobile(values[3], mobile, &why) != 0)
		errors[3] = i18n_tr(lang, why);
	if (values[4][0] != '\0' && validate_email(values[4], &why) != 0)
		errors[4] = i18n_tr(lang, why);
	if (values[3][0] == '\0' && values[4][0] == '\0')
		errors[3] = i18n_tr(lang, "Give a mobile number, an e-mail address, or both.");
	for (size_t i = 0; i < NFIELDS; i++)
		if (errors[i] != NULL)
			return render(req, resp, values, errors);

	struct signup_state *st = arena_alloc(req->arena, sizeof(*st));
	st->store = req->app->store;
	st->cfg = req->app->cfg;
	st->s.portal_id = http_portal_id(req); /* the Host's portal (0: the first) */
	st->s.family_name = values[1];
	st->s.birth_date = birth;
	st->s.mobile = mobile[0] ? arena_strdup(req->arena, mobile) : NULL;
	st->s.email = values[4][0] ? values[4] : NULL;
	st->s.ip = req->ip;
	req->cont = st;
	if (http_blocking(req, signup_work, st) != 0) {
		http_add_header(req, resp, "Retry-After", RETRY_AFTER);
		http_error(req, resp, 503);
		return 0;
	}
	return HTTP_SUSPEND;
}
