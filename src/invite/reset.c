/*
 * invite/reset: password-reset links (see account.h): created by staff, by
 * /forgot or by a sign-up that matched an account; opened; completed once.
 * A link is valid ACCOUNT_RESET_TTL seconds, works once, and a newer link
 * revokes the older unused ones. Completing one sets the new hash, ends
 * every patient session of the patient and queues "password_changed".
 * It must never log a token, a password hash or a message body, and /forgot
 * must answer the same whatever it found.
 */
#include "invite/account.h"

#include "comms/texts.h"
#include "invite/internal.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "store/store.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* What a reset message needs about an account's patient. */
struct target {
	int64_t account_id, patient_id, org_id, has_password;
	char *given_name, *mobile, *email, *lang, *org_name, *base_url;
};

static int target_load(struct store_conn *c, int64_t patient_id, struct target *t, struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc =
	    store_query(c, &s,
	                "SELECT a.id, a.patient_id, p.org_id, "
	                "CASE WHEN a.pw_hash IS NULL THEN 0 ELSE 1 END, p.given_name, p.mobile, "
	                "p.email, p.lang, o.name, po.base_url FROM accounts a "
	                "JOIN patients p ON p.id = a.patient_id "
	                "JOIN organisations o ON o.id = p.org_id "
	                "JOIN portals po ON po.id = a.portal_id WHERE a.patient_id = ?",
	                "i", patient_id);
	if (rc != 0)
		return ACCOUNT_ERR;
	rc = store_step(s);
	if (rc == 1) {
		t->account_id = store_col_int(s, 0);
		t->patient_id = store_col_int(s, 1);
		t->org_id = store_col_int(s, 2);
		t->has_password = store_col_int(s, 3);
		t->given_name = store_col_dup(s, 4, a);
		t->mobile = store_col_dup(s, 5, a);
		t->email = store_col_dup(s, 6, a);
		t->lang = store_col_dup(s, 7, a);
		t->org_name = store_col_dup(s, 8, a);
		t->base_url = store_col_dup(s, 9, a);
		rc = 0;
	} else {
		rc = rc == 0 ? ACCOUNT_NO_PASSWORD : ACCOUNT_ERR;
	}
	store_done(s);
	return rc;
}

/* Queues kind to the contacts channel chooses (NULL: every contact on file). */
static int queue(struct store_conn *c, const struct target *t, const char *kind,
                 const char *channel, const char *link, int64_t now)
{
	int sms, mail, rc = 0;
	if (inv_channels(channel, t->mobile, t->email, &sms, &mail) != 0)
		return ACCOUNT_NO_CONTACT;
	if (sms && comms_queue_text(c, t->org_id, t->patient_id, kind, "sms", t->lang, t->mobile,
	                            link, 0, NULL, now, NULL) != 0)
		rc = ACCOUNT_ERR;
	if (rc == 0 && mail &&
	    comms_queue_text(c, t->org_id, t->patient_id, kind, "email", t->lang, t->email, link, 0,
	                     NULL, now, NULL) != 0)
		rc = ACCOUNT_ERR;
	return rc;
}

/*
 * Creates a reset link for the account of patient_id and queues it, in its
 * own transaction, with "reset.sent" (detail: why). 0, ACCOUNT_NO_PASSWORD,
 * ACCOUNT_NO_CONTACT, ACCOUNT_RATE_LIMITED or ACCOUNT_ERR.
 */
int account_reset_create(struct store_conn *c, int64_t patient_id, const char *channel,
                         int64_t staff_id, const char *ip, const char *why, int64_t now)
{
	struct arena *a = arena_create();
	struct buf link;
	struct target t;
	char token[INVITE_TOKEN_CHARS + 1];
	unsigned char hash[32];
	int64_t recent = 0, id = 0;
	int sms, mail, rc;

	token[0] = '\0';
	buf_init(&link, 4096);
	if (store_begin(c) != 0) {
		rc = ACCOUNT_ERR;
		goto done;
	}
	if ((rc = target_load(c, patient_id, &t, a)) != 0)
		goto out;
	if (!t.has_password) {
		rc = ACCOUNT_NO_PASSWORD;
		goto out;
	}
	if (inv_channels(channel, t.mobile, t.email, &sms, &mail) != 0) {
		rc = ACCOUNT_NO_CONTACT;
		goto out;
	}
	rc = store_scalar(c, &recent,
	                  "SELECT COUNT(*) FROM resets WHERE account_id = ? AND created_at > ?",
	                  "ii", t.account_id, now - 3600);
	if (rc != 0) {
		rc = ACCOUNT_ERR;
		goto out;
	}
	if (recent >= ACCOUNT_RESET_PER_HOUR) {
		rc = ACCOUNT_RATE_LIMITED;
		goto out;
	}
	invite_token_new(token, hash);
	if (store_exec(c, NULL,
	               "UPDATE resets SET revoked_at = ? WHERE account_id = ? AND used_at IS NULL "
	               "AND revoked_at IS NULL",
	               "ii", now, t.account_id) != 0 ||
	    store_insert(c, &id,
	                 "INSERT INTO resets (patient_id, account_id, token_hash, created_at, "
	                 "expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
	                 "iibii", t.patient_id, t.account_id, hash, sizeof(hash), now,
	                 now + ACCOUNT_RESET_TTL) != 0 ||
	    inv_link(&link, t.base_url, "/r/", token) != 0) {
		rc = ACCOUNT_ERR;
		goto out;
	}
	if ((rc = queue(c, &t, "reset", channel, link.data, now)) != 0)
		goto out;
	if (store_audit(c, t.org_id, staff_id ? "staff" : "system", staff_id, "reset.sent", "reset",
	                id, ip, why) != 0 ||
	    store_commit(c) != 0) {
		rc = ACCOUNT_ERR;
		goto out;
	}
	rc = 0;
	goto done;
out:
	store_rollback(c);
done:
	sodium_memzero(token, sizeof(token));
	if (link.data != NULL)
		sodium_memzero(link.data, link.cap);
	buf_free(&link);
	arena_free(a);
	return rc;
}

int account_reset_send(struct store_conn *c, const struct config *cfg, int64_t org_id,
                       int64_t patient_id, int64_t staff_id, const char *channel, const char *ip,
                       int64_t now)
{
	(void)cfg; /* links come from portals.base_url only */
	int64_t found = 0;
	int rc =
	    store_scalar(c, &found, "SELECT COUNT(*) FROM patients WHERE id = ? AND org_id = ?",
	                 "ii", patient_id, org_id);
	if (rc != 0)
		return ACCOUNT_ERR;
	if (found == 0)
		return ACCOUNT_NOTFOUND;
	return account_reset_create(c, patient_id, channel, staff_id, ip, "staff", now);
}

int account_forgot(struct store_conn *c, const struct config *cfg, int64_t portal_id,
                   const char *typed_login, const char *ip, int64_t now)
{
	(void)cfg;
	struct arena *a = arena_create();
	struct account acct;
	int rc = account_by_login(c, portal_id, typed_login, &acct, a);
	if (rc == 0 && acct.pw_hash != NULL)
		rc = account_reset_create(c, acct.patient_id, NULL, 0, ip, "forgot", now);
	arena_free(a);
	/* Not found, rate-limited, no contact: the same answer as a sent link. */
	return rc == ACCOUNT_ERR ? ACCOUNT_ERR : 0;
}

/* Reads the reset link of token into out: 0 when usable, else its state error. */
static int reset_load(struct store_conn *c, const char *token, int64_t now,
                      struct account_reset_link *out, struct arena *a)
{
	unsigned char hash[32];
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	if (invite_token_hash(token, hash) != 0)
		return ACCOUNT_UNKNOWN;
	int rc =
	    store_query(c, &s,
	                "SELECT r.id, r.account_id, r.patient_id, p.org_id, p.lang, r.expires_at, "
	                "CASE WHEN r.used_at IS NULL AND r.revoked_at IS NULL THEN 0 ELSE 1 END "
	                "FROM resets r JOIN patients p ON p.id = r.patient_id "
	                "WHERE r.token_hash = ?",
	                "b", hash, sizeof(hash));
	if (rc != 0)
		return ACCOUNT_ERR;
	rc = store_step(s);
	if (rc == 1) {
		out->reset_id = store_col_int(s, 0);
		out->account_id = store_col_int(s, 1);
		out->patient_id = store_col_int(s, 2);
		out->org_id = store_col_int(s, 3);
		out->lang = store_col_dup(s, 4, a);
		int64_t expires = store_col_int(s, 5);
		int done = store_col_int(s, 6) != 0;
		rc = done ? ACCOUNT_USED : expires <= now ? ACCOUNT_EXPIRED : 0;
	} else {
		rc = rc == 0 ? ACCOUNT_UNKNOWN : ACCOUNT_ERR;
	}
	store_done(s);
	return rc;
}

int account_reset_open(struct store_conn *c, const char *token, int64_t now,
                       struct account_reset_link *out, struct arena *a)
{
	return reset_load(c, token, now, out, a);
}

int account_reset_complete(struct store_conn *c, const char *token, const char *pw_hash,
                           const char *ip, int64_t now, struct account_reset_link *out,
                           struct arena *a)
{
	struct arena *tmp = arena_create();
	struct target t;
	char key[40];
	int64_t changed = 0;
	int rc;

	if (pw_hash == NULL || pw_hash[0] == '\0') {
		rc = ACCOUNT_ERR;
		goto done;
	}
	if (store_begin(c) != 0) {
		rc = ACCOUNT_ERR;
		goto done;
	}
	if ((rc = reset_load(c, token, now, out, a)) != 0)
		goto out;
	/* The claim: only one caller can use the link. */
	rc = store_exec(c, &changed,
	                "UPDATE resets SET used_at = ? WHERE id = ? AND used_at IS NULL "
	                "AND revoked_at IS NULL AND expires_at > ?",
	                "iii", now, out->reset_id, now);
	if (rc != 0 || changed != 1) {
		rc = rc == 0 ? ACCOUNT_USED : ACCOUNT_ERR;
		goto out;
	}
	snprintf(key, sizeof(key), "acct:%" PRId64, out->account_id);
	if (store_exec(
	        c, NULL,
	        "UPDATE accounts SET pw_hash = ?, password_changed_at = ?, failed_logins = 0, "
	        "locked_until = 0 WHERE id = ?",
	        "tii", pw_hash, now, out->account_id) != 0 ||
	    store_exec(c, NULL, "DELETE FROM sessions WHERE kind = 'patient' AND user_id = ?", "i",
	               out->patient_id) != 0 ||
	    store_exec(c, NULL,
	               "UPDATE resets SET revoked_at = ? WHERE account_id = ? AND id <> ? "
	               "AND used_at IS NULL AND revoked_at IS NULL",
	               "iii", now, out->account_id, out->reset_id) != 0 ||
	    store_exec(c, NULL, "DELETE FROM login_throttle WHERE key = ?", "t", key) != 0 ||
	    target_load(c, out->patient_id, &t, tmp) != 0) {
		rc = ACCOUNT_ERR;
		goto out;
	}
	rc = queue(c, &t, "password_changed", NULL, NULL, now);
	if (rc != 0 && rc != ACCOUNT_NO_CONTACT)
		goto out;
	if (store_audit(c, out->org_id, "patient", out->patient_id, "reset.completed", "reset",
	                out->reset_id, ip, NULL) != 0 ||
	    store_commit(c) != 0) {
		rc = ACCOUNT_ERR;
		goto out;
	}
	rc = 0;
	goto done;
out:
	store_rollback(c);
	if (rc == ACCOUNT_USED) {
		struct account_reset_link again;
		int st = reset_load(c, token, now, &again, tmp);
		if (st != 0 && st != ACCOUNT_ERR)
			rc = st;
	}
done:
	arena_free(tmp);
	return rc;
}
