/*
 * invite/account: account lookup by login, sign-in throttling and self
 * sign-up matching (see account.h for the rules). Reset links are in reset.c.
 *
 * Throttle counters live in login_throttle, one row per key ("acct:<id>",
 * "ip:<address>"), updated with one atomic upsert per failure, so any node
 * can serve any request and two nodes never lose a count.
 * It must never log a login, a password or a token, and sign-up must never
 * create a patient or tell the visitor whether anything matched.
 */
#include "invite/account.h"

#include "invite/internal.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/validate.h"
#include "store/store.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DAY_SECS          86400
#define ACCT_FREE         4   /* failures per account before delays start */
#define IP_FREE           20  /* failures per address before delays start */
#define DELAY_MAX         900 /* the longest growing delay, seconds */
#define RESET_SIGNUP_KIND "signup"

static const struct {
	int err;
	const char *msg;
} errors[] = {
    {ACCOUNT_OK, "Done."},
    {ACCOUNT_ERR, "Something went wrong. Please try again later."},
    {ACCOUNT_NOTFOUND, "No such account."},
    {ACCOUNT_THROTTLED, "Too many attempts. Please wait and try again."},
    {ACCOUNT_UNKNOWN, "This link is not valid."},
    {ACCOUNT_EXPIRED, "This link has expired."},
    {ACCOUNT_USED, "This link has already been used."},
    {ACCOUNT_RATE_LIMITED, "A reset link was sent recently. Please try again later."},
    {ACCOUNT_NO_PASSWORD, "The patient has no account yet: send an invitation instead."},
    {ACCOUNT_NO_CONTACT, "No mobile or e-mail."},
};

const char *account_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].err == err)
			return errors[i].msg;
	return "Something went wrong. Please try again later.";
}

int account_portal_resolve(struct store_conn *c, int64_t portal_id, int64_t *out)
{
	if (portal_id != 0) {
		*out = portal_id;
		return 0;
	}
	int rc = store_scalar(c, out, "SELECT COALESCE(MIN(id), 0) FROM portals", "");
	return rc == 0 ? 0 : ACCOUNT_ERR;
}

char *account_login_normalise(const char *typed, struct arena *a)
{
	const char *why = NULL;
	if (typed == NULL)
		return NULL;
	while (isspace((unsigned char)*typed))
		typed++;
	size_t n = strlen(typed);
	while (n > 0 && isspace((unsigned char)typed[n - 1]))
		n--;
	if (n == 0 || n > 254)
		return NULL;
	char *s = arena_strndup(a, typed, n);
	if (strchr(s, '@') != NULL) {
		for (char *p = s; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return validate_email(s, &why) == 0 ? s : NULL;
	}
	char e164[VALIDATE_E164_MAX];
	if (validate_mobile(s, e164, &why) != 0)
		return NULL;
	return arena_strdup(a, e164);
}

#define ACCOUNT_COLS                                                                               \
	"SELECT a.id, a.patient_id, p.org_id, a.portal_id, a.login, a.pw_hash, p.lang, "           \
	"p.given_name, COALESCE(a.password_changed_at, 0), COALESCE(a.last_login_at, 0) "          \
	"FROM accounts a JOIN patients p ON p.id = a.patient_id "

static void account_fill(struct store_stmt *s, struct account *out, struct arena *a)
{
	out->id = store_col_int(s, 0);
	out->patient_id = store_col_int(s, 1);
	out->org_id = store_col_int(s, 2);
	out->portal_id = store_col_int(s, 3);
	out->login = store_col_dup(s, 4, a);
	out->pw_hash = store_col_dup(s, 5, a);
	out->lang = store_col_dup(s, 6, a);
	out->given_name = store_col_dup(s, 7, a);
	out->password_changed_at = store_col_int(s, 8);
	out->last_login_at = store_col_int(s, 9);
}

/* Steps s: 0 with *out when exactly one row, ACCOUNT_NOTFOUND for none or several. */
static int one_account(struct store_stmt *s, struct account *out, struct arena *a)
{
	int rc = store_step(s);
	if (rc < 0)
		return ACCOUNT_ERR;
	if (rc == 0)
		return ACCOUNT_NOTFOUND;
	account_fill(s, out, a);
	rc = store_step(s);
	if (rc < 0)
		return ACCOUNT_ERR;
	return rc == 0 ? 0 : ACCOUNT_NOTFOUND;
}

int account_by_login(struct store_conn *c, int64_t portal_id, const char *typed,
                     struct account *out, struct arena *a)
{
	struct store_stmt *s = NULL;
	int64_t portal = 0;
	memset(out, 0, sizeof(*out));
	char *login = account_login_normalise(typed, a);
	if (login == NULL)
		return ACCOUNT_NOTFOUND;
	if (account_portal_resolve(c, portal_id, &portal) != 0)
		return ACCOUNT_ERR;
	int rc = store_query(c, &s, ACCOUNT_COLS "WHERE a.portal_id = ? AND a.login = ?", "it",
	                     portal, login);
	if (rc != 0)
		return ACCOUNT_ERR;
	rc = one_account(s, out, a);
	store_done(s);
	s = NULL;
	if (rc != ACCOUNT_NOTFOUND)
		return rc;
	/* Else the e-mail or mobile on file of exactly one patient with a password. */
	rc = store_query(c, &s,
	                 ACCOUNT_COLS
	                 "WHERE a.portal_id = ? AND a.pw_hash IS NOT NULL AND p.org_id IN "
	                 "(SELECT id FROM organisations WHERE portal_id = ?) "
	                 "AND (p.email = ? OR p.mobile = ?) LIMIT 2",
	                 "iitt", portal, portal, login, login);
	if (rc != 0)
		return ACCOUNT_ERR;
	rc = one_account(s, out, a);
	store_done(s);
	return rc;
}

int account_by_patient(struct store_conn *c, int64_t patient_id, struct account *out,
                       struct arena *a)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc = store_query(c, &s, ACCOUNT_COLS "WHERE a.patient_id = ?", "i", patient_id);
	if (rc != 0)
		return ACCOUNT_ERR;
	rc = one_account(s, out, a);
	store_done(s);
	return rc;
}

/* --- throttling --------------------------------------------------------- */

static void key_acct(char *k, size_t n, int64_t id)
{
	snprintf(k, n, "acct:%" PRId64, id);
}

static void key_ip(char *k, size_t n, const char *ip)
{
	snprintf(k, n, "ip:%.100s", ip != NULL ? ip : "-");
}

int account_login_check(struct store_conn *c, int64_t account_id, const char *ip, int64_t now,
                        int64_t *retry_after)
{
	char ka[40], ki[120];
	int64_t until = 0;
	*retry_after = 0;
	key_acct(ka, sizeof(ka), account_id);
	key_ip(ki, sizeof(ki), ip);
	int rc = store_scalar(c, &until,
	                      "SELECT COALESCE(MAX(locked_until), 0) FROM login_throttle "
	                      "WHERE key = ? OR key = ?",
	                      "tt", account_id != 0 ? ka : ki, ki);
	if (rc != 0)
		return ACCOUNT_ERR;
	if (until > now) {
		*retry_after = until - now;
		return ACCOUNT_THROTTLED;
	}
	return 0;
}

/* The delay after the f-th failure: none for the first `free_`, then 1, 2, 4 ... DELAY_MAX s. */
static int64_t delay_for(int64_t f, int64_t free_)
{
	if (f <= free_)
		return 0;
	int64_t e = f - free_ - 1;
	return e >= 10 ? DELAY_MAX : ((int64_t)1 << e) > DELAY_MAX ? DELAY_MAX : (int64_t)1 << e;
}

/* Counts one failure on key (atomic upsert), sets its lock; *f gets the day's failures. */
static int bump(struct store_conn *c, const char *key, int64_t now, int64_t free_, int day_cap,
                int64_t *f, int64_t *until)
{
	struct store_stmt *s = NULL;
	int64_t start = now;
	int rc =
	    store_query(c, &s,
	                "INSERT INTO login_throttle (key, failures, window_start, locked_until) "
	                "VALUES (?, 1, ?, 0) ON CONFLICT (key) DO UPDATE SET "
	                "failures = CASE WHEN login_throttle.window_start <= ? THEN 1 "
	                "ELSE login_throttle.failures + 1 END, "
	                "window_start = CASE WHEN login_throttle.window_start <= ? THEN ? "
	                "ELSE login_throttle.window_start END "
	                "RETURNING failures, window_start",
	                "tiiii", key, now, now - DAY_SECS, now - DAY_SECS, now);
	if (rc != 0)
		return ACCOUNT_ERR;
	rc = store_step(s);
	if (rc == 1) {
		*f = store_col_int(s, 0);
		start = store_col_int(s, 1);
		while ((rc = store_step(s)) == 1)
			;
	} else {
		rc = -1;
	}
	store_done(s);
	if (rc != 0)
		return ACCOUNT_ERR;
	*until = now + delay_for(*f, free_);
	if (day_cap && *f >= ACCOUNT_DAY_FAILURES)
		*until = start + DAY_SECS;
	rc = store_exec(c, NULL, "UPDATE login_throttle SET locked_until = ? WHERE key = ?", "it",
	                *until, key);
	return rc == 0 ? 0 : ACCOUNT_ERR;
}

int account_login_failed(struct store_conn *c, int64_t account_id, const char *ip, int64_t now)
{
	char ka[40], ki[120];
	int64_t f = 0, until = 0, org_id = 0, patient_id = 0;
	key_acct(ka, sizeof(ka), account_id);
	key_ip(ki, sizeof(ki), ip);
	if (store_begin(c) != 0)
		return ACCOUNT_ERR;
	if (bump(c, ki, now, IP_FREE, 0, &f, &until) != 0)
		goto fail;
	if (account_id != 0) {
		if (bump(c, ka, now, ACCT_FREE, 1, &f, &until) != 0)
			goto fail;
		if (store_exec(
		        c, NULL,
		        "UPDATE accounts SET failed_logins = ?, locked_until = ? WHERE id = ?",
		        "iii", f, until, account_id) != 0)
			goto fail;
		if (store_scalar(c, &patient_id, "SELECT patient_id FROM accounts WHERE id = ?",
		                 "i", account_id) != 0 ||
		    store_scalar(c, &org_id, "SELECT org_id FROM patients WHERE id = ?", "i",
		                 patient_id) != 0)
			goto fail;
	}
	if (store_audit(c, org_id, "system", 0, "account.login_failed",
	                account_id ? "account" : NULL, account_id, ip,
	                account_id ? NULL : "unknown login") != 0)
		goto fail;
	if (account_id != 0 && f == ACCOUNT_DAY_FAILURES &&
	    store_audit(c, org_id, "system", 0, "account.locked", "account", account_id, ip,
	                "daily failure limit") != 0)
		goto fail;
	if (store_commit(c) != 0)
		goto fail;
	return 0;
fail:
	store_rollback(c);
	return ACCOUNT_ERR;
}

int account_login_ok(struct store_conn *c, int64_t account_id, const char *ip, int64_t now)
{
	char ka[40];
	int64_t patient_id = 0, org_id = 0;
	key_acct(ka, sizeof(ka), account_id);
	if (store_begin(c) != 0)
		return ACCOUNT_ERR;
	if (store_exec(c, NULL, "DELETE FROM login_throttle WHERE key = ?", "t", ka) != 0 ||
	    store_exec(c, NULL,
	               "UPDATE accounts SET failed_logins = 0, locked_until = 0, last_login_at = ? "
	               "WHERE id = ?",
	               "ii", now, account_id) != 0 ||
	    store_scalar(c, &patient_id, "SELECT patient_id FROM accounts WHERE id = ?", "i",
	                 account_id) != 0 ||
	    store_scalar(c, &org_id, "SELECT org_id FROM patients WHERE id = ?", "i", patient_id) !=
	        0 ||
	    store_audit(c, org_id, "patient", patient_id, "account.login", "account", account_id,
	                ip, NULL) != 0 ||
	    store_commit(c) != 0) {
		store_rollback(c);
		return ACCOUNT_ERR;
	}
	return 0;
}

/* --- self sign-up ------------------------------------------------------- */

/* The matching patient's id and which contact matched; 0 / ACCOUNT_NOTFOUND / ACCOUNT_ERR. */
static int signup_match(struct store_conn *c, int64_t portal, const char *family, const char *birth,
                        const char *mobile, const char *email, int64_t *id, int64_t *org_id,
                        int *by_mobile, struct arena *a)
{
	struct store_stmt *s = NULL;
	char *key = names_key(family, a);
	if (key == NULL || key[0] == '\0')
		return ACCOUNT_NOTFOUND;
	int rc = store_query(c, &s,
	                     "SELECT p.id, p.org_id, p.family_name, "
	                     "CASE WHEN p.mobile = ? THEN 1 ELSE 0 END FROM patients p "
	                     "WHERE p.org_id IN (SELECT id FROM organisations WHERE portal_id = ?) "
	                     "AND p.family_key = ? AND p.birth_date = ? "
	                     "AND (p.mobile = ? OR p.email = ?) ORDER BY p.id",
	                     "titttt", mobile, portal, key, birth, mobile, email);
	if (rc != 0)
		return ACCOUNT_ERR;
	rc = ACCOUNT_NOTFOUND;
	int st;
	while ((st = store_step(s)) == 1) {
		if (!names_match(family, store_col_text(s, 2)))
			continue;
		*id = store_col_int(s, 0);
		*org_id = store_col_int(s, 1);
		*by_mobile = store_col_int(s, 3) != 0;
		rc = 0;
		break;
	}
	if (st < 0)
		rc = ACCOUNT_ERR;
	store_done(s);
	return rc;
}

int account_signup(struct store_conn *c, const struct config *cfg, const struct account_signup *s,
                   int64_t now)
{
	struct arena *a = arena_create();
	const char *why = NULL, *mobile = NULL, *email = NULL;
	char e164[VALIDATE_E164_MAX];
	int64_t portal = 0, id = 0, org_id = 0, inv = 0;
	int by_mobile = 0, rc = 0;

	if (s->family_name == NULL || s->birth_date == NULL ||
	    validate_birth_date(s->birth_date, now, &why) != 0)
		goto out;
	if (s->mobile != NULL && s->mobile[0] != '\0' &&
	    validate_mobile(s->mobile, e164, &why) == 0)
		mobile = e164;
	if (s->email != NULL && s->email[0] != '\0') {
		char *e = account_login_normalise(s->email, a);
		if (e != NULL && strchr(e, '@') != NULL)
			email = e;
	}
	if (mobile == NULL && email == NULL)
		goto out;
	if (account_portal_resolve(c, s->portal_id, &portal) != 0) {
		rc = ACCOUNT_ERR;
		goto out;
	}
	rc = signup_match(c, portal, s->family_name, s->birth_date, mobile, email, &id, &org_id,
	                  &by_mobile, a);
	if (rc == ACCOUNT_NOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	const char *channel = by_mobile ? "sms" : "email";
	struct account acct;
	int has = account_by_patient(c, id, &acct, a);
	if (has == ACCOUNT_ERR) {
		rc = ACCOUNT_ERR;
		goto out;
	}
	if (has == 0 && acct.pw_hash != NULL) {
		/* Already has an account: a reset link to the contact on file (rate-limited). */
		rc = account_reset_create(c, id, channel, 0, s->ip, RESET_SIGNUP_KIND, now);
		rc = rc == ACCOUNT_ERR ? ACCOUNT_ERR : 0;
		goto out;
	}
	if (store_begin(c) != 0) {
		rc = ACCOUNT_ERR;
		goto out;
	}
	struct invite_request req = {
	    .org_id = org_id, .patient_id = id, .channel = channel, .ip = s->ip};
	rc = invite_create(c, cfg, &req, now, &inv);
	if (rc == 0 && (store_audit(c, org_id, "system", 0, "invite.sent", "invitation", inv, s->ip,
	                            "signup") != 0 ||
	                store_commit(c) != 0))
		rc = INVITE_ERR;
	if (rc != 0)
		store_rollback(c);
	/* A skip (recently invited, family member...) looks like success to the visitor. */
	rc = rc == INVITE_ERR || rc == INVITE_BUSY ? ACCOUNT_ERR : 0;
out:
	arena_free(a);
	return rc;
}
