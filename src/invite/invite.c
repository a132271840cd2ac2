/*
 * invite/invite: one invitation at a time: eligibility, creation with its
 * outbox messages, the landing page's checks, acceptance, revocation,
 * "send me a new link" and the history staff see. Bulk runs are in bulk.c,
 * accounts, sign-in and resets in account.c.
 *
 * Acceptance is decided by one conditional UPDATE (state='pending' and not
 * expired) inside the transaction that creates the account; the account row
 * is UNIQUE per patient, so a second acceptance, through this link or
 * another, fails and rolls back on SQLite and PostgreSQL alike.
 * It must never log a token, a password (hash) or a message body, and never
 * say anything about the patient before the family name matched.
 */
#include "invite/internal.h"

#include "comms/texts.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/util.h"
#include "store/store.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#define HISTORY_MAX     100
#define RESEND_GAP_SECS 900 /* "send me a new link" at most once per 15 minutes per patient */

int inv_store_err(int rc)
{
	if (rc == STORE_BUSY)
		return INVITE_BUSY;
	if (rc == STORE_NOTFOUND)
		return INVITE_NOTFOUND;
	return INVITE_ERR;
}

int inv_lock_org(struct store_conn *c, int64_t org_id)
{
	/* A no-op write that takes the organisation's row lock on PostgreSQL: invitations of one
	 * organisation are created one transaction at a time, so the "invited in the last 24
	 * hours" check of a second bulk run sees what the first committed (READ COMMITTED takes
	 * a new snapshot per statement). SQLite has one writer anyway. */
	int rc = store_exec(c, NULL, "UPDATE organisations SET id = id WHERE id = ?", "i", org_id);
	return rc == 0 ? 0 : inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
}

int inv_org_load(struct store_conn *c, int64_t org_id, struct inv_org *out, struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT o.id, o.portal_id, o.name, p.base_url, p.invite_ttl_days, "
	                     "p.invite_max_attempts FROM organisations o "
	                     "JOIN portals p ON p.id = o.portal_id WHERE o.id = ?",
	                     "i", org_id);
	if (rc != 0)
		return inv_store_err(rc);
	rc = store_step(s);
	if (rc == 1) {
		out->org_id = store_col_int(s, 0);
		out->portal_id = store_col_int(s, 1);
		out->org_name = store_col_dup(s, 2, a);
		out->base_url = store_col_dup(s, 3, a);
		out->ttl_days = store_col_int(s, 4);
		out->max_attempts = store_col_int(s, 5);
		rc = 0;
	} else {
		rc = rc == 0 ? INVITE_NOTFOUND : inv_store_err(rc);
	}
	store_done(s);
	return rc;
}

void inv_patient_fill(struct store_stmt *s, struct inv_patient *p, struct arena *a)
{
	p->id = store_col_int(s, 0);
	p->org_id = store_col_int(s, 1);
	p->managed_by = store_col_int(s, 2);
	p->given_name = store_col_dup(s, 3, a);
	p->family_name = store_col_dup(s, 4, a);
	p->mobile = store_col_dup(s, 5, a);
	p->email = store_col_dup(s, 6, a);
	p->lang = store_col_dup(s, 7, a);
	p->has_password = store_col_int(s, 8) > 0;
	p->last_invited_at = store_col_int(s, 9);
}

int inv_patient_load(struct store_conn *c, int64_t org_id, int64_t id, struct inv_patient *p,
                     struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s, INV_PATIENT_SELECT "WHERE p.id = ? AND p.org_id = ?", "ii", id,
	                     org_id);
	if (rc != 0)
		return inv_store_err(rc);
	rc = store_step(s);
	if (rc == 1) {
		inv_patient_fill(s, p, a);
		rc = 0;
	} else {
		rc = rc == 0 ? INVITE_NOTFOUND : inv_store_err(rc);
	}
	store_done(s);
	return rc;
}

static int present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int inv_channels(const char *channel, const char *mobile, const char *email, int *sms, int *mail)
{
	int has_sms = present(mobile), has_mail = present(email);
	*sms = *mail = 0;
	if (channel == NULL || strcmp(channel, "both") == 0) {
		*sms = has_sms;
		*mail = has_mail;
	} else if (strcmp(channel, "sms") == 0) {
		*sms = has_sms;
	} else if (strcmp(channel, "email") == 0) {
		*mail = has_mail;
	}
	return *sms || *mail ? 0 : INVITE_NO_CONTACT;
}

int inv_eligible(const struct inv_patient *p, const char *channel, int ignore_recent, int64_t now)
{
	int sms, mail;
	if (p->managed_by != 0)
		return INVITE_FAMILY;
	if (p->has_password)
		return INVITE_HAS_ACCOUNT;
	if (inv_channels(channel, p->mobile, p->email, &sms, &mail) != 0)
		return INVITE_NO_CONTACT;
	if (!ignore_recent && p->last_invited_at > now - INV_RECENT_SECS)
		return INVITE_RECENT;
	return 0;
}

int inv_target_ok(const char *target)
{
	if (target == NULL)
		return 1;
	size_t n = strlen(target);
	if (n == 0 || n > 512 || target[0] != '/' || target[1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)target[i];
		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			return 0;
	}
	return 1;
}

int inv_link(struct buf *out, const char *base_url, const char *path, const char *token)
{
	size_t n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	buf_reset(out);
	if (buf_append(out, base_url, n) != 0 || buf_puts(out, path) != 0 ||
	    buf_puts(out, token) != 0)
		return -1;
	return 0;
}

/* The channel word stored on the invitation for what inv_channels chose. */
static const char *channel_word(int sms, int mail)
{
	return sms && mail ? "both" : sms ? "sms" : "email";
}

/* The one INSERT of a pending invitation (staff_id 0: a message made it). */
static int insert_invitation(struct store_conn *c, int64_t patient_id, int64_t portal_id,
                             int64_t org_id, const unsigned char hash[32], int64_t staff_id,
                             const char *channel, const char *target, int64_t now, int64_t ttl_days,
                             int64_t *id)
{
	return store_insert(c, id,
	                    "INSERT INTO invitations (patient_id, portal_id, org_id, token_hash, "
	                    "created_by_staff, channel, target, created_at, expires_at, state) "
	                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING id",
	                    "iiibIttii", patient_id, portal_id, org_id, hash, (size_t)32, staff_id,
	                    channel, target, now, now + ttl_days * 86400);
}

int inv_write(struct store_conn *c, const struct inv_org *o, const struct inv_patient *p,
              const char *channel, const char *target, int64_t staff_id, int64_t now,
              struct buf *link, struct buf *scratch, int64_t *id)
{
	char token[INVITE_TOKEN_CHARS + 1];
	unsigned char hash[32];
	int sms, mail, rc;

	if (inv_channels(channel, p->mobile, p->email, &sms, &mail) != 0)
		return INVITE_NO_CONTACT;
	invite_token_new(token, hash);
	rc = insert_invitation(c, p->id, o->portal_id, o->org_id, hash, staff_id,
	                       channel_word(sms, mail), target, now, o->ttl_days, id);
	if (rc != 0)
		goto out;
	if (inv_link(link, o->base_url, "/i/", token) != 0) {
		rc = STORE_ERR;
		goto out;
	}
	(void)scratch; /* comms_queue_text keeps its own buffers */
	if (sms &&
	    (rc = comms_queue_text(c, o->org_id, p->id, "invitation", "sms", p->lang, p->mobile,
	                           link->data, o->ttl_days, NULL, now, NULL)) != 0)
		goto out;
	if (mail &&
	    (rc = comms_queue_text(c, o->org_id, p->id, "invitation", "email", p->lang, p->email,
	                           link->data, o->ttl_days, NULL, now, NULL)) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(token, sizeof(token));
	buf_reset(link);
	return rc == 0 ? 0 : inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
}

/* invite_create, telling the caller which channel word was stored (for the audit detail). */
static int create(struct store_conn *c, const struct invite_request *r, int64_t now,
                  int64_t *invitation_id, const char **via)
{
	struct arena *a = arena_create();
	struct buf link, scratch;
	struct inv_org o;
	struct inv_patient p;
	int rc, sms, mail;

	buf_init(&link, 4096);
	buf_init(&scratch, 64 * 1024);
	if (!inv_target_ok(r->target)) {
		rc = INVITE_BAD_TARGET;
		goto out;
	}
	if ((rc = inv_lock_org(c, r->org_id)) != 0)
		goto out;
	if ((rc = inv_org_load(c, r->org_id, &o, a)) != 0)
		goto out;
	if ((rc = inv_patient_load(c, r->org_id, r->patient_id, &p, a)) != 0)
		goto out;
	if ((rc = inv_eligible(&p, r->channel, r->ignore_recent, now)) != 0)
		goto out;
	rc = inv_write(c, &o, &p, r->channel, r->target, r->staff_id, now, &link, &scratch,
	               invitation_id);
	if (rc == 0 && via != NULL) {
		inv_channels(r->channel, p.mobile, p.email, &sms, &mail);
		*via = channel_word(sms, mail);
	}
out:
	buf_free(&link);
	buf_free(&scratch);
	arena_free(a);
	return rc;
}

int invite_create(struct store_conn *c, const struct config *cfg, const struct invite_request *r,
                  int64_t now, int64_t *invitation_id)
{
	(void)cfg; /* links come from portals.base_url only */
	int64_t id = 0;
	int rc = create(c, r, now, &id, NULL);
	if (rc == 0 && invitation_id != NULL)
		*invitation_id = id;
	return rc;
}

int invite_send(struct store_conn *c, const struct config *cfg, const struct invite_request *r,
                int64_t now, int64_t *invitation_id)
{
	(void)cfg;
	int64_t id = 0;
	const char *via = NULL;
	int rc = store_begin(c);
	if (rc != 0)
		return inv_store_err(rc);
	if ((rc = create(c, r, now, &id, &via)) != 0)
		goto out;
	rc = store_audit(c, r->org_id, r->staff_id ? "staff" : "system", r->staff_id, "invite.sent",
	                 "invitation", id, r->ip, via);
	if (rc != 0 || (rc = store_commit(c)) != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto out;
	}
	if (invitation_id != NULL)
		*invitation_id = id;
	return 0;
out:
	store_rollback(c);
	return rc;
}

int invite_embed(struct store_conn *c, const struct invite_embed_req *r, int64_t now,
                 struct buf *link, int64_t *invitation_id)
{
	char token[INVITE_TOKEN_CHARS + 1];
	unsigned char hash[32];
	int64_t id = 0;
	char detail[48];
	int rc;

	if (!inv_target_ok(r->target))
		return INVITE_BAD_TARGET;
	invite_token_new(token, hash);
	rc = insert_invitation(c, r->patient_id, r->portal_id, r->org_id, hash, 0, r->channel,
	                       r->target, now, r->ttl_days, &id);
	if (rc == 0) {
		snprintf(detail, sizeof(detail), "message:%s", r->kind ? r->kind : "");
		rc = store_audit(c, r->org_id, "system", 0, "invite.sent", "invitation", id, NULL,
		                 detail);
	}
	if (rc == 0 && inv_link(link, r->base_url, "/i/", token) != 0)
		rc = STORE_ERR;
	sodium_memzero(token, sizeof(token));
	if (rc != 0)
		return inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
	if (invitation_id != NULL)
		*invitation_id = id;
	return 0;
}

/* --- links -------------------------------------------------------------- */

struct link_row {
	int64_t id, patient_id, org_id, portal_id, expires_at, failed, max_attempts;
	int opened; /* opened_at is set */
	char *state, *target, *channel, *portal_name, *policy_text, *policy_version;
	char *lang, *family_name, *email, *mobile;
};

static int link_load(struct store_conn *c, const char *token, struct link_row *r, struct arena *a)
{
	unsigned char hash[32];
	struct store_stmt *s = NULL;
	if (invite_token_hash(token, hash) != 0)
		return INVITE_UNKNOWN;
	int rc = store_query(c, &s,
	                     "SELECT i.id, i.patient_id, i.org_id, i.portal_id, i.expires_at, "
	                     "i.failed_attempts, po.invite_max_attempts, i.state, i.target, "
	                     "i.channel, po.name, po.policy_text, po.policy_version, p.lang, "
	                     "p.family_name, p.email, p.mobile, i.opened_at "
	                     "FROM invitations i JOIN portals po ON po.id = i.portal_id "
	                     "JOIN patients p ON p.id = i.patient_id WHERE i.token_hash = ?",
	                     "b", hash, sizeof(hash));
	if (rc != 0)
		return inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
	rc = store_step(s);
	if (rc == 1) {
		r->id = store_col_int(s, 0);
		r->patient_id = store_col_int(s, 1);
		r->org_id = store_col_int(s, 2);
		r->portal_id = store_col_int(s, 3);
		r->expires_at = store_col_int(s, 4);
		r->failed = store_col_int(s, 5);
		r->max_attempts = store_col_int(s, 6);
		r->state = store_col_dup(s, 7, a);
		r->target = store_col_dup(s, 8, a);
		r->channel = store_col_dup(s, 9, a);
		r->portal_name = store_col_dup(s, 10, a);
		r->policy_text = store_col_dup(s, 11, a);
		r->policy_version = store_col_dup(s, 12, a);
		r->lang = store_col_dup(s, 13, a);
		r->family_name = store_col_dup(s, 14, a);
		r->email = store_col_dup(s, 15, a);
		r->mobile = store_col_dup(s, 16, a);
		r->opened = !store_col_is_null(s, 17);
		rc = 0;
	} else {
		rc = rc == 0 ? INVITE_UNKNOWN : INVITE_ERR;
	}
	store_done(s);
	return rc;
}

/* The link's state now: 0 (pending, usable) or its error. Expiry is computed here. */
static int link_state(const struct link_row *r, int64_t now)
{
	if (strcmp(r->state, "accepted") == 0)
		return INVITE_USED;
	if (strcmp(r->state, "revoked") == 0)
		return INVITE_REVOKED;
	if (strcmp(r->state, "locked") == 0)
		return INVITE_LOCKED;
	if (strcmp(r->state, "expired") == 0 || r->expires_at <= now)
		return INVITE_EXPIRED;
	return 0;
}

/* Writes 'expired' for a pending link past its time (lazily, when it is touched). */
static void mark_expired(struct store_conn *c, const struct link_row *r, int64_t now)
{
	if (strcmp(r->state, "pending") == 0 && r->expires_at <= now)
		(void)store_exec(c, NULL,
		                 "UPDATE invitations SET state = 'expired' "
		                 "WHERE id = ? AND state = 'pending' AND expires_at <= ?",
		                 "ii", r->id, now);
}

int invite_open(struct store_conn *c, const char *token, int64_t now, struct invite_link *out,
                struct arena *a)
{
	struct link_row r;
	memset(out, 0, sizeof(*out));
	int rc = link_load(c, token, &r, a);
	if (rc != 0)
		return rc;
	if ((rc = link_state(&r, now)) != 0) {
		if (rc == INVITE_EXPIRED)
			mark_expired(c, &r, now);
		return rc;
	}
	/* Only the first opening writes: an UPDATE that changes nothing still takes SQLite's
	 * write lock, and a page view that waits behind sign-ins' commits is a slow page. */
	rc = r.opened ? 0
	              : store_exec(c, NULL,
	                           "UPDATE invitations SET opened_at = ? WHERE id = ? AND "
	                           "opened_at IS NULL",
	                           "ii", now, r.id);
	if (rc != 0)
		log_warn("invite: could not mark invitation %lld opened: %s", (long long)r.id,
		         store_strerror(rc));
	out->invitation_id = r.id;
	out->patient_id = r.patient_id;
	out->org_id = r.org_id;
	out->portal_id = r.portal_id;
	out->attempts_left = (int)(r.max_attempts - r.failed);
	out->target = r.target != NULL ? r.target : arena_strdup(a, "/");
	out->portal_name = r.portal_name;
	out->policy_text = r.policy_text;
	out->policy_version = r.policy_version;
	out->patient_lang = r.lang;
	return 0;
}

/* Counts a wrong family name on link r (own transaction); locks at the limit. */
static int count_wrong_name(struct store_conn *c, const char *token, int64_t now, const char *ip,
                            int *attempts_left)
{
	struct arena *a = arena_create();
	struct link_row r;
	int64_t changed = 0, failed = 0;
	int rc = store_begin(c);
	if (rc != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto done;
	}
	/* Read again inside the transaction: another submission may have counted. */
	if ((rc = link_load(c, token, &r, a)) != 0 || (rc = link_state(&r, now)) != 0)
		goto out;
	rc = store_exec(c, &changed,
	                "UPDATE invitations SET failed_attempts = failed_attempts + 1, "
	                "state = CASE WHEN failed_attempts + 1 >= ? THEN 'locked' ELSE state END, "
	                "locked_at = CASE WHEN failed_attempts + 1 >= ? THEN ? ELSE locked_at END "
	                "WHERE id = ? AND state = 'pending' AND expires_at > ?",
	                "iiiii", r.max_attempts, r.max_attempts, now, r.id, now);
	if (rc != 0 || changed != 1) {
		rc = INVITE_ERR;
		goto out;
	}
	failed = r.failed + 1;
	if (failed >= r.max_attempts) {
		if (store_audit(c, r.org_id, "system", 0, "invite.locked", "invitation", r.id, ip,
		                NULL) != 0) {
			rc = INVITE_ERR;
			goto out;
		}
		rc = INVITE_LOCKED;
	} else {
		rc = INVITE_WRONG_NAME;
	}
	if (store_commit(c) != 0) {
		rc = INVITE_ERR;
		goto out;
	}
	*attempts_left = (int)(r.max_attempts - failed);
	goto done;
out:
	store_rollback(c);
done:
	arena_free(a);
	return rc;
}

int invite_check_name(struct store_conn *c, const char *token, const char *family_name, int64_t now,
                      const char *ip, int *attempts_left)
{
	struct arena *a = arena_create();
	struct link_row r;
	*attempts_left = 0;
	int rc = link_load(c, token, &r, a);
	if (rc != 0)
		goto out;
	if ((rc = link_state(&r, now)) != 0) {
		if (rc == INVITE_EXPIRED)
			mark_expired(c, &r, now);
		goto out;
	}
	if (family_name != NULL && names_match(family_name, r.family_name)) {
		*attempts_left = (int)(r.max_attempts - r.failed);
		rc = 0;
		goto out;
	}
	rc = count_wrong_name(c, token, now, ip, attempts_left);
out:
	arena_free(a);
	return rc;
}

static int lock_link_patient(struct store_conn *c, const char *token)
{
	unsigned char hash[32];
	if (invite_token_hash(token, hash) != 0)
		return 0; /* link_load says unknown */
	int rc = store_exec(c, NULL,
	                    "UPDATE patients SET id = id WHERE id = "
	                    "(SELECT patient_id FROM invitations WHERE token_hash = ?)",
	                    "b", hash, sizeof(hash));
	return rc == 0 ? 0 : inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
}

/* The first of e-mail, mobile that is not another account's login on the portal. */
static int pick_login(struct store_conn *c, const struct link_row *r, const char **login)
{
	const char *cand[2] = {r->email, r->mobile};
	*login = NULL;
	for (int i = 0; i < 2; i++) {
		int64_t taken = 0;
		if (!present(cand[i]))
			continue;
		int rc =
		    store_scalar(c, &taken,
		                 "SELECT COUNT(*) FROM accounts WHERE portal_id = ? AND login = ? "
		                 "AND patient_id <> ?",
		                 "iti", r->portal_id, cand[i], r->patient_id);
		if (rc != 0)
			return inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		if (taken == 0) {
			*login = cand[i];
			return 0;
		}
	}
	return INVITE_LOGIN_TAKEN;
}

int invite_accept(struct store_conn *c, const char *token, const char *family_name,
                  const char *pw_hash, const char *ip, int64_t now, int64_t *account_id,
                  int64_t *patient_id, int64_t *org_id, char **target, struct arena *a)
{
	struct arena *t = arena_create();
	struct link_row r;
	const char *login = NULL;
	int64_t acc = 0, changed = 0;
	int rc;

	if (pw_hash == NULL || pw_hash[0] == '\0') {
		rc = INVITE_ERR;
		goto done;
	}
	if ((rc = store_begin(c)) != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto done;
	}
	/* Acceptances of one patient (this link or another of theirs) queue here, so on
	 * PostgreSQL the loser reads the winner's committed state instead of hitting a
	 * unique key, which would abort its transaction. SQLite's writers queue anyway. */
	if ((rc = lock_link_patient(c, token)) != 0)
		goto out;
	if ((rc = link_load(c, token, &r, t)) != 0 || (rc = link_state(&r, now)) != 0)
		goto out;
	if (family_name == NULL || !names_match(family_name, r.family_name)) {
		store_rollback(c);
		int left = 0;
		rc = count_wrong_name(c, token, now, ip, &left);
		goto done;
	}
	if ((rc = pick_login(c, &r, &login)) != 0)
		goto out;
	/* The account row is UNIQUE per patient: a second acceptance cannot add another. */
	rc =
	    store_insert(c, &acc,
	                 "INSERT INTO accounts (patient_id, portal_id, login, pw_hash, created_at, "
	                 "password_changed_at) VALUES (?, ?, ?, ?, ?, ?) "
	                 "ON CONFLICT (patient_id) DO NOTHING RETURNING id",
	                 "iittii", r.patient_id, r.portal_id, login, pw_hash, now, now);
	if (rc == STORE_CONFLICT) {
		/* A row without a password (never invited through here) is completed; else used. */
		rc = store_exec(
		    c, &changed,
		    "UPDATE accounts SET login = ?, pw_hash = ?, password_changed_at = ? "
		    "WHERE patient_id = ? AND pw_hash IS NULL",
		    "ttii", login, pw_hash, now, r.patient_id);
		if (rc != 0 || changed != 1) {
			rc = rc == 0 ? INVITE_REVOKED : INVITE_ERR;
			goto out;
		}
		rc = store_scalar(c, &acc, "SELECT id FROM accounts WHERE patient_id = ?", "i",
		                  r.patient_id);
	}
	if (rc != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto out;
	}
	/* The claim: only one caller can move this link out of 'pending'. */
	rc =
	    store_exec(c, &changed,
	               "UPDATE invitations SET state = 'accepted', accepted_at = ?, account_id = ? "
	               "WHERE id = ? AND state = 'pending' AND expires_at > ?",
	               "iiii", now, acc, r.id, now);
	if (rc != 0 || changed != 1) {
		rc = rc == 0 ? INVITE_USED : INVITE_ERR;
		goto out;
	}
	if ((rc = store_exec(c, NULL,
	                     "INSERT INTO consents (account_id, kind, version, accepted_at, ip) "
	                     "VALUES (?, 'privacy', ?, ?, ?)",
	                     "itit", acc, r.policy_version, now, ip)) != 0 ||
	    (rc = store_exec(c, NULL,
	                     "UPDATE invitations SET state = 'revoked', revoked_at = ? "
	                     "WHERE patient_id = ? AND state = 'pending' AND id <> ?",
	                     "iii", now, r.patient_id, r.id)) != 0 ||
	    (rc = store_audit(c, r.org_id, "patient", r.patient_id, "invite.accepted", "invitation",
	                      r.id, ip, NULL)) != 0) {
		rc = INVITE_ERR;
		goto out;
	}
	if ((rc = store_commit(c)) != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto out;
	}
	*account_id = acc;
	*patient_id = r.patient_id;
	*org_id = r.org_id;
	*target = arena_strdup(a, r.target != NULL ? r.target : "/");
	rc = 0;
	goto done;
out:
	store_rollback(c);
	if (rc == INVITE_USED || rc == INVITE_REVOKED || rc == INVITE_ERR) {
		/* Lost a race: say what the link is now. */
		struct link_row again;
		if (link_load(c, token, &again, t) == 0 && link_state(&again, now) != 0)
			rc = link_state(&again, now);
	}
done:
	arena_free(t);
	return rc;
}

int invite_resend(struct store_conn *c, const struct config *cfg, const char *token, const char *ip,
                  int64_t now)
{
	(void)cfg;
	struct arena *a = arena_create();
	struct link_row r;
	int64_t recent = 0, id = 0;
	const char *via = NULL;
	int rc = link_load(c, token, &r, a);
	if (rc != 0) {
		rc = rc == INVITE_ERR || rc == INVITE_BUSY ? rc : 0;
		goto done;
	}
	int st = link_state(&r, now);
	if (st != INVITE_EXPIRED && st != INVITE_LOCKED) {
		rc = 0; /* usable, used, or revoked by staff: nothing to send */
		goto done;
	}
	if (st == INVITE_EXPIRED)
		mark_expired(c, &r, now);
	if ((rc = store_begin(c)) != 0) {
		rc = inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
		goto done;
	}
	rc = store_scalar(
	    c, &recent, "SELECT COUNT(*) FROM invitations WHERE patient_id = ? AND created_at > ?",
	    "ii", r.patient_id, now - RESEND_GAP_SECS);
	if (rc != 0) {
		rc = INVITE_ERR;
		goto out;
	}
	if (recent > 0) {
		rc = 0;
		goto out;
	}
	struct invite_request req = {
	    .org_id = r.org_id,
	    .patient_id = r.patient_id,
	    .channel = r.channel,
	    .target = r.target,
	    .ip = ip,
	    .ignore_recent = 1,
	};
	rc = create(c, &req, now, &id, &via);
	if (rc != 0) {
		/* A skip reason (now has an account, no contact...): nothing to send, same answer.
		 */
		rc = rc == INVITE_ERR || rc == INVITE_BUSY ? rc : 0;
		goto out;
	}
	if (store_audit(c, r.org_id, "system", 0, "invite.sent", "invitation", id, ip, "resend") !=
	        0 ||
	    store_commit(c) != 0) {
		rc = INVITE_ERR;
		goto out;
	}
	rc = 0;
	goto done;
out:
	store_rollback(c);
done:
	arena_free(a);
	return rc;
}

/* --- staff: revoke, history --------------------------------------------- */

int invite_revoke(struct store_conn *c, int64_t org_id, int64_t invitation_id, int64_t staff_id,
                  const char *ip, int64_t now)
{
	struct store_stmt *s = NULL;
	int64_t changed = 0;
	int rc = store_begin(c);
	if (rc != 0)
		return inv_store_err(rc) == INVITE_BUSY ? INVITE_BUSY : INVITE_ERR;
	rc = store_exec(c, &changed,
	                "UPDATE invitations SET state = 'revoked', revoked_at = ? "
	                "WHERE id = ? AND org_id = ? AND state = 'pending' AND expires_at > ?",
	                "iiii", now, invitation_id, org_id, now);
	if (rc != 0) {
		rc = INVITE_ERR;
		goto out;
	}
	if (changed != 1) {
		rc = store_query(
		    c, &s, "SELECT state, expires_at FROM invitations WHERE id = ? AND org_id = ?",
		    "ii", invitation_id, org_id);
		if (rc != 0) {
			rc = INVITE_ERR;
			goto out;
		}
		rc = store_step(s);
		if (rc == 1) {
			struct link_row r = {.state = (char *)store_col_text(s, 0),
			                     .expires_at = store_col_int(s, 1)};
			rc = link_state(&r, now);
		} else {
			rc = rc == 0 ? INVITE_NOTFOUND : INVITE_ERR;
		}
		store_done(s);
		goto out;
	}
	if (store_audit(c, org_id, "staff", staff_id, "invite.revoked", "invitation", invitation_id,
	                ip, NULL) != 0 ||
	    store_commit(c) != 0) {
		rc = INVITE_ERR;
		goto out;
	}
	return 0;
out:
	store_rollback(c);
	return rc;
}

int invite_history(struct store_conn *c, int64_t org_id, int64_t patient_id,
                   struct invite_history_row **rows, int *n, struct arena *a)
{
	struct store_stmt *s = NULL;
	int64_t now = 0;
	*rows = NULL;
	*n = 0;
	int rc = store_query(
	    c, &s,
	    "SELECT i.id, i.created_at, i.expires_at, COALESCE(i.opened_at, 0), "
	    "COALESCE(i.accepted_at, 0), COALESCE(i.revoked_at, 0), COALESCE(i.locked_at, 0), "
	    "i.state, i.channel, s.name FROM invitations i "
	    "JOIN patients p ON p.id = i.patient_id "
	    "LEFT JOIN staff_users s ON s.id = i.created_by_staff "
	    "WHERE i.patient_id = ? AND p.org_id = ? ORDER BY i.id DESC LIMIT ?",
	    "iii", patient_id, org_id, (int64_t)HISTORY_MAX);
	if (rc != 0)
		return INVITE_ERR;
	struct invite_history_row *r = arena_alloc(a, HISTORY_MAX * sizeof(*r));
	int k = 0;
	now = now_utc(); /* the state shown is computed at read time */
	while ((rc = store_step(s)) == 1) {
		assert(k < HISTORY_MAX);
		struct invite_history_row *h = &r[k++];
		h->id = store_col_int(s, 0);
		h->created_at = store_col_int(s, 1);
		h->expires_at = store_col_int(s, 2);
		h->opened_at = store_col_int(s, 3);
		h->accepted_at = store_col_int(s, 4);
		h->revoked_at = store_col_int(s, 5);
		h->locked_at = store_col_int(s, 6);
		const char *st = store_col_text(s, 7);
		struct link_row lr = {.state = (char *)st, .expires_at = h->expires_at};
		switch (link_state(&lr, now)) {
		case INVITE_USED:
			h->state = "accepted";
			break;
		case INVITE_REVOKED:
			h->state = "revoked";
			break;
		case INVITE_LOCKED:
			h->state = "locked";
			break;
		case INVITE_EXPIRED:
			h->state = "expired";
			break;
		default:
			h->state = "pending";
			break;
		}
		h->channel = store_col_dup(s, 8, a);
		h->staff_name = store_col_dup(s, 9, a);
	}
	store_done(s);
	if (rc < 0)
		return INVITE_ERR;
	*rows = r;
	*n = k;
	return 0;
}
